"""The price of the Gaussian family's claims (the article's claims A1..A8,
:mod:`collapsecheck.families.gaussian.checks.article`) in the shared cost model
(:mod:`collapsecheck.costs`), declared as ``FamilyClaims.price`` and ``.require``.

The claims are priced from their simulations (the article run, the long run, the one-step
run, the ddof = 1 run, the recovery run with every generation recorded), their exact-law
Monte Carlo draws, and a fixed allowance for their exact-theory computations measured at
the article's n (the recovery probability takes longer at much larger n or a finer
``recovery_points_per_sd``: that is not priced). Each simulation is priced by
:func:`collapsecheck.costs.simulation_cost`.
"""

from __future__ import annotations

import math

from collapsecheck.costs import Cost, Item, simulation_cost
from collapsecheck.resources import ResourceError

__all__ = ["CLAIMS_THEORY_S", "MAX_CLAIMS_COUNT", "MC_DRAW_BYTES", "MC_DRAW_S",
           "claims_experiments_iv", "claims_items"]

#: Exact-law Monte Carlo of the claims: seconds per draw (measured 0.15 us) and bytes
#: per draw at peak (measured 24).
MC_DRAW_S = 2.5e-7
MC_DRAW_BYTES = 32
#: The claims' exact-theory computations (quantiles, the recovery probability: 1.3 s at
#: n = 1000), seconds.
CLAIMS_THEORY_S = 4.0
#: Largest count a claims setting without a limit of its own may take (mc_repetitions,
#: checkpoints), so that every design can be priced.
MAX_CLAIMS_COUNT = 10**9


def claims_items(claims, cores: int) -> list[Item]:
    """The price of every run of the claims ``claims`` (a
    :class:`~collapsecheck.families.gaussian.checks.article.ClaimsConfig`) on ``cores``
    cores: ``FamilyClaims.price``."""
    from collapsecheck.families.gaussian.checks.article import (
        _RECOVERY_GROUP_ELEMENTS,
        RECOVERY_GROUP,
    )

    c = claims
    e = c.engine
    checkpoints = c.checkpoints + 2
    width = max((*c.sizes, c.replicates))
    mc_article = float(c.mc_repetitions) * width
    mc_long = float(c.mc_repetitions) * c.replicates
    # the recovery run: groups of chains recording every generation, one group per worker
    group = max(1, min(RECOVERY_GROUP, _RECOVERY_GROUP_ELEMENTS // (c.recovery_horizon + 1)))
    rec = simulation_cost(e, c.n, c.recovery_horizon, c.recovery_replicates,
                          c.recovery_horizon + 1, cores)
    rec_bytes = min(cores, math.ceil(c.recovery_replicates / group)) * group * (
        c.recovery_horizon + 1) * 16 * 3
    items = [
        Item("claims.replicates", f"the claims' article run ({c.replicates} replicates x "
             f"{c.generations} generations at n = {c.n}, {e} engine)",
             simulation_cost(e, c.n, c.generations, c.replicates, 1, cores)),
        Item("claims.long_generations", f"the claims' long run ({c.replicates} replicates x "
             f"{c.long_generations} generations)",
             simulation_cost(e, c.n, c.long_generations, c.replicates, checkpoints, cores)),
        Item("claims.one_step_replicates", f"the claims' one-step run "
             f"({c.one_step_replicates} replicates)",
             simulation_cost(e, c.n, 1, c.one_step_replicates, 1, cores)),
        Item("claims.replicates", "the claims' ddof = 1 run",
             simulation_cost(e, c.n, c.generations, c.replicates, 1, cores)),
        Item("claims.recovery_replicates", f"the claims' recovery run "
             f"({c.recovery_replicates} chains x {c.recovery_horizon} generations, every "
             "generation recorded)", Cost(rec.seconds, rec_bytes, rec.draws)),
        Item("claims.mc_repetitions", f"the claims' exact-law Monte Carlo "
             f"({c.mc_repetitions} x {width} and {c.mc_repetitions} x {c.replicates} draws)",
             Cost((mc_article + mc_long) * MC_DRAW_S, max(mc_article, mc_long) * MC_DRAW_BYTES,
                  mc_article + mc_long)),
        Item("claims", "the claims' exact theory", Cost(CLAIMS_THEORY_S, 0.0)),
    ]
    # results kept for the later claims: the runs' final states and the article MC
    kept = 16 * (3 * c.replicates + c.one_step_replicates + c.replicates * checkpoints) \
        + 8 * mc_article
    return [Item(i.key, i.label, Cost(i.cost.seconds, i.cost.bytes + kept, i.cost.draws))
            for i in items]


def claims_experiments_iv(claims, source: str) -> None:
    """Refuse (:class:`~collapsecheck.resources.ResourceError`, naming the key) claims
    whose simulations are not valid experiments or whose counts cannot be priced:
    ``FamilyClaims.require``."""
    from collapsecheck.families.gaussian.parameters import Experiment

    c = claims
    for key in ("mc_repetitions", "checkpoints"):
        if getattr(c, key) > MAX_CLAIMS_COUNT:  # priced below; bounded so it can be priced
            raise ResourceError(f"profile {source}: [claims] `{key}` must be at most "
                                f"{MAX_CLAIMS_COUNT:.0e}; got {getattr(c, key)}.")
    for key, generations, replicates in (
        ("replicates", c.generations, c.replicates),
        ("long_generations", c.long_generations, c.replicates),
        ("one_step_replicates", 1, c.one_step_replicates),
        ("recovery_horizon", c.recovery_horizon, 1),
        ("recovery_replicates", 1, c.recovery_replicates),
    ):
        try:
            Experiment(n=c.n, generations=generations, replicates=replicates, ddof=c.ddof,
                       seed=0)
        except (TypeError, ValueError) as exc:
            raise ResourceError(f"profile {source}: [claims] `{key}`: {exc}") from None
