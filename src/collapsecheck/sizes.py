"""The sizes every model family's parameters share, and the rules they follow.

Limits that keep every run representable and its memory bounded, the kind tests
(a whole number, a real number; ``bool`` is neither) and :func:`sizes_iv`, the
validation of ``generations``, ``replicates`` and ``seed`` that each family's parameters
dataclass applies. It knows no family.
"""

from __future__ import annotations

import numbers

__all__ = ["MAX_GENERATIONS", "MAX_N", "MAX_REPLICATES", "sizes_iv"]

#: Limits that keep every run representable and its memory bounded.
MAX_N = 10**15
MAX_GENERATIONS = 10**9
MAX_REPLICATES = 10**8


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def sizes_iv(generations, replicates, seed) -> None:
    """The sizes every model family's experiment shares: ``generations`` 0 to
    :data:`MAX_GENERATIONS`, ``replicates`` 1 to :data:`MAX_REPLICATES` (whole numbers),
    ``seed`` None or a whole number >= 0. TypeError for a wrong kind, ValueError for a
    wrong value, naming the parameter and echoing the value."""
    for name, value in (("generations", generations), ("replicates", replicates)):
        if not _is_int(value):
            raise TypeError(f"`{name}` must be a whole number; got {value!r}.")
    if generations < 0:
        raise ValueError(f"`generations` must be 0 or more; got {generations}.")
    if generations > MAX_GENERATIONS:
        raise ValueError(f"`generations` must be at most {MAX_GENERATIONS:.0e}; "
                         f"got {generations}.")
    if replicates < 1:
        raise ValueError(f"`replicates` must be at least 1; got {replicates}.")
    if replicates > MAX_REPLICATES:
        raise ValueError(f"`replicates` must be at most {MAX_REPLICATES:.0e} (the final state of "
                         f"each is held in memory); got {replicates}.")
    if seed is not None and not (_is_int(seed) and seed >= 0):
        raise ValueError(f"`seed` must be a whole number >= 0; got {seed!r}.")
