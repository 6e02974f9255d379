"""What a categorical check's run costs, for the shared cost model
(:func:`collapsecheck.costs.check_cost` asks a check's ``stage_cost`` when it has one).

The engines' time is linear in the work per generation of each chain: the ``sufficient``
engine splits the n tokens over the K categories binomially (one draw per category), the
``samples`` engine also draws every token:

.. math::

    t \\approx R\\,T\\,(s + c\\,K) \\quad (\\text{sufficient}), \\qquad
    t \\approx R\\,T\\,(s + c\\,K + u\\,m) \\quad (\\text{samples}),

m the tokens drawn per generation, divided among the workers (blocks of
:data:`~collapsecheck.engines._blocks.REPLICATE_BLOCK` chains). Measured on the reference
machine with one worker (2-core VM, sufficient engine): 3, 23, 40 and 587 us per
chain-generation at K = 20, 200, 1000 and 10,000; samples engine: 4, 42 and 113 us at
(K, n) = (20, 50), (1000, 1000) and (100, 10,000). The constants below price those runs
at 0.7 to 3 times their measured time (the cost model's rule: never under-estimate by
more than about 2x).
Memory is the engine's own peak (:func:`~collapsecheck.families.categorical.engines.memory_need`).
The exact theory a check compares with is not priced: the theory refuses designs over its
own work limit (``theory --json`` notes), which bounds it.
"""

from __future__ import annotations

import math

from collapsecheck.costs import Cost
from collapsecheck.engines._blocks import REPLICATE_BLOCK

__all__ = ["CATEGORY_S", "STEP_S", "TOKEN_S", "stage_cost"]

#: Seconds per chain and generation (the step's fixed work), per category, per token.
STEP_S = 5.0e-6
CATEGORY_S = 6.0e-8
TOKEN_S = 1.2e-8


def stage_cost(check, replicates: int, cores: int) -> Cost:
    """Time and memory of one stage of the categorical ``check`` at ``replicates``
    chains on ``cores`` cores (its built-in engine)."""
    from collapsecheck.families.categorical.engines import DEFAULT_CHUNK, memory_need

    e = check.experiment(seed=0, replicates=replicates)
    R, T, K = float(replicates), float(e.generations), float(e.K)
    per_step = STEP_S + CATEGORY_S * K
    draws = R * T * K
    if check.engine == "samples":
        tokens = float(max(e.model_tokens, e.fresh))
        per_step += TOKEN_S * tokens
        draws += R * T * tokens
    workers = max(1, min(cores, math.ceil(replicates / REPLICATE_BLOCK)))
    return Cost(R * T * per_step / workers,
                memory_need(e, check.engine, workers, DEFAULT_CHUNK), draws)
