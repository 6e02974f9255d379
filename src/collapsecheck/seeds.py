"""Seeds derived from one seed, for independent streams that never overlap.

Every derived stream is ``SeedSequence(seed, spawn_key=key)``: the key names the stream
(a check and its stage, a claim's run, the figures), so streams are independent of each
other and do not shift when other streams are added. An Experiment takes an integer
seed, so a derived stream is handed over as the first 63 bits of that sequence's state.
"""

from __future__ import annotations

import numpy as np

__all__ = ["derived_seed"]


def derived_seed(seed: int, key: tuple[int, ...]) -> int:
    """The integer seed of stream ``key`` under ``seed``: the first 63 bits of the state
    of ``SeedSequence(seed, spawn_key=key)``."""
    state = np.random.SeedSequence(seed, spawn_key=key).generate_state(2, np.uint32)
    return (int(state[0]) << 32 | int(state[1])) & ((1 << 63) - 1)
