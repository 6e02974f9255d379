r"""The article's claims A1..A8 (ARTICLE.md), each decided by exact theory and simulation.

Every claim gets a :class:`~collapsecheck.results.ClaimResult`: the verdict (SUPPORTED,
QUALIFIED or CONTRADICTED), a reading that says which reading of the claim holds and which
fails, and the deciding numbers, each ``{"theory", "simulation", "ci95", "note", "source"}``
(``source``: who made the simulated value, see :func:`evaluate_claims`). The
verdicts are computed from the numbers with the thresholds of :class:`ClaimsConfig` (and
the module constants below); nothing is hard-coded. A verdict is a finding about the
article, not a failure of the software.

Exact theory comes from :mod:`collapsecheck.theory`; "exact-law Monte Carlo" means draws
of :math:`S_T = \log(\sigma_T^2/\sigma_0^2)` from its exact law
(:meth:`~collapsecheck.theory.LogVarianceLaw.sample`), used where a quantity (e.g. the
chance that an average of R experiments lands in an interval) has no closed form.
Simulations use the configured engine (``sufficient`` by default), or the simulator under
test when :func:`evaluate_claims` is given one (``validate --simulator``); each number's
``source`` says which made it, or that it is exact theory only.

Randomness (the reproducibility contract): every stream is derived from the one ``seed``
through ``SeedSequence(seed, spawn_key=key)``; an engine run uses as its Experiment seed
the first 63 bits of that sequence's state (:func:`stream_seed`), and an exact-law Monte
Carlo uses the sequence directly. The keys (:data:`STREAMS`) are

========================  ===========  ============================================
stream                    spawn key    used by
========================  ===========  ============================================
article run (T, R)        (1,)         A1, A2, A3, A6, A8
exact-law MC at T         (2,)         A2, A3
long run (T_long, R)      (4,)         A4, A5
exact-law MC at T_long    (4, 1)       A4
one-step run              (6,)         A6
recovery run, group g     (7, g)       A7 (groups of at most 64 chains)
ddof = 1 run              (8,)         A8
========================  ===========  ============================================

so results depend on the seed and the configuration only, never on the worker count.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
import numbers
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from scipy import special, stats

from collapsecheck.engines._blocks import REPLICATE_BLOCK, resolve_workers, run_blocks
from collapsecheck.families.gaussian.claims_cost import claims_experiments_iv, claims_items
from collapsecheck.families.gaussian.engines import ENGINES, simulate
from collapsecheck.families.gaussian.parameters import Experiment
from collapsecheck.families.gaussian.theory import (
    LogVarianceLaw,
    StepLaw,
    log_sigma2_drift,
    log_sigma_moment,
    lundberg_exponent,
    prob_ever_recovers,
)
from collapsecheck.families.protocol import FamilyClaims
from collapsecheck.results import ClaimResult, ClaimVerdict
from collapsecheck.seeds import derived_seed

__all__ = ["CLAIMS", "FAMILY_CLAIMS", "STREAMS", "ClaimsConfig", "evaluate_claims",
           "stream_seed"]

#: The claims, in the article's words (shortened).
CLAIMS: dict[str, str] = {
    "A1": "After 1,000 generations the final std is almost always much smaller than the "
    "initial 1, but it varies widely from one experiment to the next.",
    "A2": "Averaged over 1,000 experiments the final std comes out at roughly 0.45, and the "
    "average is almost always between 0.4 and 0.5.",
    "A3": "1,000 experiments is overkill: 100 or even 10 experiments show similar results.",
    "A4": "As the number of generations grows the final std keeps shrinking: at 10,000 "
    "generations it dropped to about 0.0004.",
    "A5": "Feeding the output of a random process back into its input makes the std "
    "collapse (toward zero) as generations go on.",
    "A6": "In a single step a std below 1 is not more likely than one above 1, yet over "
    "many steps the values below 1 dominate.",
    "A7": "Once the tail starts to disappear it cannot grow back (a chain whose std fell to "
    "0.9 will not return to 1).",
    "A8": "The explanation: an obvious consequence of the law of large numbers.",
}

#: The spawn keys of the random streams (see the module docstring).
STREAMS: dict[str, tuple[int, ...]] = {
    "article_run": (1,),
    "article_mc": (2,),
    "long_run": (4,),
    "long_mc": (4, 1),
    "one_step_run": (6,),
    "recovery_run": (7,),  # group g uses (7, g)
    "unbiased_run": (8,),
}

#: "Varies widely": coefficient of variation of sigma_T at least this.
WIDE_CV = 0.25
#: "Roughly" a number: within this relative distance of the exact expectation.
ROUGHLY_REL = 0.10
UNBIASED_COLLAPSE_LEVEL = 0.5  # A8: median sigma_T^2 / sigma_0^2 with ddof = 1
#: "Usually": probability above this (the weak reading of "almost always").
USUALLY = 0.5
#: A6: a one-step probability within this of 1/2 is "about as likely".
EVEN_TOL = 0.05
#: A6: "dominate" over many steps: P(sigma_T < 1) at least this.
DOMINATE = 0.75
#: A7: recovery probability at or above this is "common", not "impossible".
COMMON = 0.05
#: A7: below this it is "impossible" for every practical purpose.
NEGLIGIBLE = 1e-6
#: A3: simulated groups of R chains needed before their fraction is reported.
MIN_GROUPS = 10
#: A4: a value "describes a typical experiment" within this factor of the median.
TYPICAL_FACTOR = 2.0
#: Chains per engine call in the recovery run (every generation is recorded, so memory
#: is chains x horizon; at most this many, fewer for very long horizons).
RECOVERY_GROUP = REPLICATE_BLOCK
_RECOVERY_GROUP_ELEMENTS = 1 << 21


# ---------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_real(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


@dataclass(frozen=True)
class ClaimsConfig:
    """What :func:`evaluate_claims` simulates and the thresholds it decides with.

    Read from the ``[claims]`` table of a validation profile (:meth:`from_mapping`).

    Attributes
    ----------
    n, generations, replicates, ddof : the article's experiment (1000, 1000, 1000, 0).
    long_generations : int
        The long horizon of A4 and A5 (10,000); more than ``generations``.
    sizes : tuple of int
        Numbers of experiments averaged in A3; at least one below ``replicates``.
    interval : (float, float)
        The article's "between 0.4 and 0.5" for the average final std (A2, A3).
    mc_repetitions : int
        Repetitions of the exact-law Monte Carlo of averages (A2, A3, A4).
    recovery_replicates, recovery_horizon, recovery_start : A7's simulation: chains
        started at ``sigma0 = recovery_start`` run for ``recovery_horizon`` generations;
        the fraction that reaches sigma >= 1 is a lower bound of "ever".
    engine : {'sufficient', 'samples'}
        Engine of every claim simulation. ``samples`` draws all n values per generation,
        about n/2 times the work; the recovery run (2000 x 20,000 generations) then takes
        hours at n = 1000, so keep ``sufficient`` unless the runs are small.
    one_step_replicates : int
        Chains of the one-generation run of A6.
    article_mean, article_long_mean : float
        The article's reported averages, 0.45 (A2) and 0.0004 (A4).
    much_smaller : float
        "Much smaller than 1" means sigma_T below this (A1).
    almost_always : float
        "Almost always" means with probability at least this (A1, A2, A3).
    collapse_level : float
        A5 reports P(sigma_T < collapse_level) at the long horizon.
    checkpoints : int
        Horizons (evenly spaced up to ``long_generations``) at which A4 checks that the
        final std keeps shrinking.
    recovery_points_per_sd : int
        Grid resolution of :func:`~collapsecheck.theory.prob_ever_recovers`.
    """

    n: int = 1000
    generations: int = 1000
    replicates: int = 1000
    ddof: float = 0.0
    long_generations: int = 10_000
    sizes: tuple[int, ...] = (10, 100, 1000)
    interval: tuple[float, float] = (0.4, 0.5)
    mc_repetitions: int = 4000
    recovery_replicates: int = 2000
    recovery_horizon: int = 20_000
    recovery_start: float = 0.9
    engine: str = "sufficient"
    one_step_replicates: int = 200_000
    article_mean: float = 0.45
    article_long_mean: float = 0.0004
    much_smaller: float = 0.5
    almost_always: float = 0.95
    collapse_level: float = 0.01
    checkpoints: int = 10
    recovery_points_per_sd: int = 16

    def __post_init__(self) -> None:
        if isinstance(self.sizes, list):
            object.__setattr__(self, "sizes", tuple(self.sizes))
        if isinstance(self.interval, list):
            object.__setattr__(self, "interval", tuple(self.interval))
        _claims_config_iv(self)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> ClaimsConfig:
        """Build from a mapping (a TOML ``[claims]`` table); unknown keys are refused.

        Raises
        ------
        ValueError
            For an unknown key (named, with the allowed ones) or a bad value.
        TypeError
            For a value of the wrong kind, or a mapping that is not one.
        """
        if not isinstance(mapping, Mapping):
            raise TypeError(f"`claims` must be a table (mapping); got {mapping!r}.")
        known = [f.name for f in dataclasses.fields(cls)]
        for key in mapping:
            if key not in known:
                raise ValueError(
                    f"unknown key {key!r} in the `claims` table; allowed keys: {', '.join(known)}."
                )
        return cls(**dict(mapping))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (tuples become lists)."""
        return {
            k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()
        }


def _claims_config_iv(c: ClaimsConfig) -> None:
    """Validate every field of a :class:`ClaimsConfig`; raise on the first bad one."""
    for name in (
        "n",
        "generations",
        "replicates",
        "long_generations",
        "mc_repetitions",
        "recovery_replicates",
        "recovery_horizon",
        "one_step_replicates",
        "checkpoints",
        "recovery_points_per_sd",
    ):
        value = getattr(c, name)
        low = 2 if name in ("n", "recovery_points_per_sd") else 1
        if not _is_int(value):
            raise TypeError(f"`{name}` must be a whole number; got {value!r}.")
        if value < low:
            raise ValueError(f"`{name}` must be at least {low}; got {value}.")
    for name in (
        "ddof",
        "recovery_start",
        "article_mean",
        "article_long_mean",
        "much_smaller",
        "almost_always",
        "collapse_level",
    ):
        value = getattr(c, name)
        if not _is_real(value):
            raise TypeError(f"`{name}` must be a real number; got {value!r}.")
        if not math.isfinite(value):
            raise ValueError(f"`{name}` must be finite; got {value!r}.")
    if not 0 <= c.ddof < c.n:
        raise ValueError(f"`ddof` must satisfy 0 <= ddof < n; got ddof={c.ddof} with n={c.n}.")
    if log_sigma2_drift(c.n, c.ddof) >= 0:
        raise ValueError(
            f"`ddof` = {c.ddof} makes the log-variance walk drift up at n = {c.n}; the "
            "claims concern the collapsing chain (ddof below about 2)."
        )
    if c.long_generations <= c.generations:
        raise ValueError(
            f"`long_generations` must exceed `generations` = {c.generations}; "
            f"got {c.long_generations}."
        )
    if not (isinstance(c.sizes, tuple) and c.sizes and all(_is_int(r) and r >= 1 for r in c.sizes)):
        raise ValueError(
            f"`sizes` must be a non-empty list of whole numbers >= 1; got {c.sizes!r}."
        )
    if not any(r < c.replicates for r in c.sizes):
        raise ValueError(
            f"`sizes` must contain a number of experiments below `replicates` = "
            f"{c.replicates} (A3 asks whether fewer suffice); got {c.sizes!r}."
        )
    if not (
        isinstance(c.interval, tuple)
        and len(c.interval) == 2
        and all(_is_real(v) and math.isfinite(v) for v in c.interval)
        and 0 <= c.interval[0] < c.interval[1]
    ):
        raise ValueError(
            f"`interval` must be [low, high] with 0 <= low < high; got {c.interval!r}."
        )
    if not 0 < c.recovery_start < 1:
        raise ValueError(f"`recovery_start` must lie in (0, 1); got {c.recovery_start}.")
    for name in ("article_mean", "article_long_mean", "much_smaller", "collapse_level"):
        if not getattr(c, name) > 0:
            raise ValueError(f"`{name}` must be > 0; got {getattr(c, name)}.")
    if not 0.5 < c.almost_always < 1:
        raise ValueError(f"`almost_always` must lie in (0.5, 1); got {c.almost_always}.")
    if c.engine not in ENGINES:
        raise ValueError(f"`engine` must be one of {sorted(ENGINES)}; got {c.engine!r}.")


# ---------------------------------------------------------------------------------------
# Seeds and small statistics
# ---------------------------------------------------------------------------------------


stream_seed = derived_seed  # the Experiment seed of one stream (collapsecheck.seeds)


def _entry(theory=None, simulation=None, ci95=None, note: str = "") -> dict[str, Any]:
    def f(v):
        return None if v is None else float(v)

    return {
        "theory": f(theory),
        "simulation": f(simulation),
        "ci95": None if ci95 is None else [float(ci95[0]), float(ci95[1])],
        "note": note,
    }


def _sourced(entry: dict[str, Any], simulated_by: str) -> dict[str, Any]:
    """``entry`` with its ``source``: who produced its ``simulation`` value, or
    ``"exact theory"`` when it has none."""
    source = "exact theory" if entry.get("simulation") is None else simulated_by
    return {**entry, "source": source}


def _mean_ci(x: np.ndarray) -> tuple[float, tuple[float, float]]:
    """Sample mean and its normal-theory 95% interval."""
    m = float(np.mean(x))
    half = 1.959963984540054 * float(np.std(x, ddof=1)) / math.sqrt(x.size)
    return m, (m - half, m + half)


def _prop_ci(hits: int, total: int) -> tuple[float, tuple[float, float]]:
    """Proportion and its exact (Clopper-Pearson) 95% interval."""
    ci = stats.binomtest(int(hits), int(total)).proportion_ci(0.95)
    return hits / total, (ci.low, ci.high)


def _quantile_ci(x: np.ndarray, q: float) -> tuple[float, tuple[float, float]]:
    """Sample quantile and its distribution-free 95% interval from order statistics:
    ``[x_(l), x_(u)]`` with ``l = F^-1(0.025)``, ``u = F^-1(0.975) + 1`` of Bin(m, q)."""
    s = np.sort(x)
    m = s.size
    lo = max(int(stats.binom.ppf(0.025, m, q)), 1)
    hi = min(int(stats.binom.ppf(0.975, m, q)) + 1, m)
    return float(np.quantile(s, q)), (float(s[lo - 1]), float(s[hi - 1]))


# ---------------------------------------------------------------------------------------
# Shared runs (each made once, on first use)
# ---------------------------------------------------------------------------------------


def _first_passage(log_var: np.ndarray) -> np.ndarray:
    """First generation at which each chain reaches sigma >= 1 (0 if it never does),
    from log sigma^2 recorded at generations 0..T."""
    reached = log_var[:, 1:] >= 0.0
    first = np.argmax(reached, axis=1) + 1
    return np.where(reached.any(axis=1), first, 0)


def _recovery_group(experiment: Experiment, engine: str) -> np.ndarray:
    """:func:`_first_passage` of one group of chains of a built-in engine."""
    run = simulate(experiment, engine=engine, workers=1, record="all")
    return _first_passage(run.trajectories.log_var)


class _Runs:
    """The simulations and exact-law draws the claims share, made lazily: on the built-in
    ``config.engine``, or on ``simulator`` (a :data:`~collapsecheck.checks.Simulator`,
    the same call the checks make) when one is given; ``source`` says which."""

    def __init__(self, config: ClaimsConfig, seed: int, workers: int | None,
                 simulator=None):
        self.c, self.seed, self.workers = config, seed, workers
        self.simulator = simulator
        self.source = "built-in" if simulator is None else "simulator"

    def _run(self, e: Experiment, record):
        """Trajectories of ``e`` from the simulator under test or the built-in engine."""
        if self.simulator is not None:
            return self.simulator(e, record)
        return simulate(e, engine=self.c.engine, workers=self.workers,
                        record=record).trajectories

    def _final(self, key: str, generations: int, replicates: int, ddof: float) -> np.ndarray:
        """Final log sigma^2 (R,) of one engine run on stream ``key``."""
        c = self.c
        e = Experiment(
            n=c.n,
            generations=generations,
            replicates=replicates,
            ddof=ddof,
            seed=stream_seed(self.seed, STREAMS[key]),
        )
        return self._run(e, "final").final_log_var

    @cached_property
    def article(self) -> np.ndarray:
        """Final log sigma^2 of the article's run (R,)."""
        return self._final("article_run", self.c.generations, self.c.replicates, self.c.ddof)

    @cached_property
    def long(self):
        """Trajectories of the long run at the A4 checkpoints."""
        c = self.c
        e = Experiment(
            n=c.n,
            generations=c.long_generations,
            replicates=c.replicates,
            ddof=c.ddof,
            seed=stream_seed(self.seed, STREAMS["long_run"]),
        )
        return self._run(e, self.checkpoints)

    @cached_property
    def checkpoints(self) -> list[int]:
        c = self.c
        pts = np.linspace(0, c.long_generations, c.checkpoints + 1).round().astype(int)
        return sorted({int(p) for p in pts} | {c.generations})

    @cached_property
    def one_step(self) -> np.ndarray:
        """log sigma_1^2 of many one-generation chains."""
        return self._final("one_step_run", 1, self.c.one_step_replicates, self.c.ddof)

    @cached_property
    def unbiased(self) -> np.ndarray:
        """Final log sigma^2 of the article's run with ddof = 1."""
        return self._final("unbiased_run", self.c.generations, self.c.replicates, 1.0)

    def mc_sigma(self, key: str, generations: int, width: int) -> np.ndarray:
        """(mc_repetitions, width) exact-law draws of sigma_T / sigma_0."""
        law = LogVarianceLaw(self.c.n, generations, self.c.ddof)
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=STREAMS[key]))
        return np.exp(0.5 * law.sample((self.c.mc_repetitions, width), rng))

    @cached_property
    def article_mc(self) -> np.ndarray:
        return self.mc_sigma(
            "article_mc", self.c.generations, max((*self.c.sizes, self.c.replicates))
        )

    @cached_property
    def recovery(self) -> np.ndarray:
        """First-passage generation (0 = not within the horizon) of each recovery chain."""
        c = self.c
        group = max(1, min(RECOVERY_GROUP, _RECOVERY_GROUP_ELEMENTS // (c.recovery_horizon + 1)))
        sizes = [
            min(group, c.recovery_replicates - s) for s in range(0, c.recovery_replicates, group)
        ]
        base = STREAMS["recovery_run"]
        args = [
            (
                Experiment(
                    n=c.n,
                    generations=c.recovery_horizon,
                    replicates=size,
                    ddof=c.ddof,
                    sigma0=c.recovery_start,
                    seed=stream_seed(self.seed, (*base, g)),
                ),
                c.engine,
            )
            for g, size in enumerate(sizes)
        ]
        if self.simulator is not None:  # the user's code runs here, group by group
            return np.concatenate([_first_passage(np.asarray(self.simulator(e, "all").log_var))
                                   for e, _ in args])
        work = float(c.recovery_replicates) * c.recovery_horizon * 2
        nproc = resolve_workers(self.workers or None, len(args), work)
        return np.concatenate(run_blocks(_recovery_group, args, nproc))


# ---------------------------------------------------------------------------------------
# The claims
# ---------------------------------------------------------------------------------------


def _sigma_moments(generations: int, n: int, ddof: float) -> tuple[float, float]:
    """Exact E[sigma_T] and SD(sigma_T) for sigma_0 = 1 (gamma-ratio formula)."""
    lm1 = float(log_sigma_moment(generations, n, ddof, 1.0, 1.0))
    lm2 = float(log_sigma_moment(generations, n, ddof, 1.0, 2.0))
    return math.exp(lm1), math.exp(lm1) * math.sqrt(math.expm1(lm2 - 2 * lm1))


def _pick(cond: bool, yes: str, no: str) -> str:
    return yes if cond else no


def _claim_a1(c: ClaimsConfig, runs: _Runs):
    law = LogVarianceLaw(c.n, c.generations, c.ddof)
    p_below1 = float(law.cdf(0.0))
    p_much = float(law.cdf(2 * math.log(c.much_smaller)))
    mean, sd = _sigma_moments(c.generations, c.n, c.ddof)
    cv = sd / mean
    q = np.exp(0.5 * np.atleast_1d(law.ppf([0.025, 0.5, 0.975])))
    sig = np.exp(0.5 * runs.article)
    sim_b1, ci_b1 = _prop_ci(int(np.sum(sig < 1.0)), sig.size)
    sim_much, ci_much = _prop_ci(int(np.sum(sig < c.much_smaller)), sig.size)
    much = f"{c.much_smaller:g}"
    nums = {
        "p_sigma_below_1": _entry(
            p_below1, sim_b1, ci_b1, "P(sigma_T < 1); simulated fraction, Clopper-Pearson CI"
        ),
        f"p_sigma_below_{much}": _entry(
            p_much, sim_much, ci_much, f"P(sigma_T < {much}), 'much smaller'"
        ),
    }
    for level, exact in zip(("0.025", "0.5", "0.975"), q, strict=True):
        est, ci = _quantile_ci(sig, float(level))
        nums[f"sigma_quantile_{level}"] = _entry(exact, est, ci, "order-statistic CI")
    nums["sigma_cv"] = _entry(
        cv,
        float(np.std(sig, ddof=1) / np.mean(sig)),
        None,
        f"SD/mean of sigma_T (exact moments); 'varies widely' if >= {WIDE_CV}",
    )
    strong = p_much >= c.almost_always
    weak = p_below1 > USUALLY
    wide = cv >= WIDE_CV
    if strong and wide:
        verdict = ClaimVerdict.SUPPORTED
    elif not weak and not wide:
        verdict = ClaimVerdict.CONTRADICTED
    else:
        verdict = ClaimVerdict.QUALIFIED
    if strong:
        first = (
            f"'almost always much smaller' holds: P(sigma_T < {much}) = {p_much:.3f} "
            f">= {c.almost_always}"
        )
    elif weak:
        first = (
            f"'almost always much smaller' fails: P(sigma_T < 1) = {p_below1:.3f} and "
            f"P(sigma_T < {much}) = {p_much:.3f} (simulated {sim_b1:.3f}, {sim_much:.3f}) are "
            f"below the {c.almost_always} that 'almost always' needs; only 'usually smaller' holds"
        )
    else:
        first = f"sigma_T is not even usually below 1: P(sigma_T < 1) = {p_below1:.3f}"
    second = _pick(
        wide,
        f"'varies widely' holds: coefficient of variation {cv:.2f} (>= {WIDE_CV})",
        f"'varies widely' fails: coefficient of variation {cv:.2f} < {WIDE_CV}",
    )
    reading = (
        f"At n = {c.n}, T = {c.generations}: {first}. {second}; the central 95% of experiments "
        f"end between {q[0]:.3f} and {q[2]:.3f} (a {q[2] / q[0]:.0f}-fold range), median "
        f"{q[1]:.3f}."
    )
    return verdict, reading, nums


def _average_in_interval(mc: np.ndarray, r: int, interval) -> tuple[float, float]:
    """Exact-law Monte Carlo P(average of r in interval) and its standard error."""
    avg = mc[:, :r].mean(axis=1)
    p = float(np.mean((avg >= interval[0]) & (avg <= interval[1])))
    return p, math.sqrt(p * (1 - p) / mc.shape[0])


def _normal_in_interval(mean: float, sd: float, r: int, interval) -> float:
    """Normal approximation of the same, with the exact mean and SD of sigma_T."""
    s = sd / math.sqrt(r)
    z_hi, z_lo = (interval[1] - mean) / s, (interval[0] - mean) / s
    return float(stats.norm.cdf(z_hi) - stats.norm.cdf(z_lo))


def _claim_a2(c: ClaimsConfig, runs: _Runs):
    mean, sd = _sigma_moments(c.generations, c.n, c.ddof)
    r = c.replicates
    lo, hi = c.interval
    p_mc, se_mc = _average_in_interval(runs.article_mc, r, c.interval)
    p_norm = _normal_in_interval(mean, sd, r, c.interval)
    p_le_article = float(np.mean(runs.article_mc[:, :r].mean(axis=1) <= c.article_mean))
    sim_mean, sim_ci = _mean_ci(np.exp(0.5 * runs.article))
    rel = abs(mean - c.article_mean) / mean
    nums = {
        "sigma_mean": _entry(
            mean,
            sim_mean,
            sim_ci,
            f"E[sigma_T] (gamma-ratio formula); simulated average of {r} with normal CI; "
            f"the article reports {c.article_mean:g}",
        ),
        "average_sd": _entry(sd / math.sqrt(r), None, None, f"SD of the average of {r}"),
        f"p_average_in_interval_R{r}": _entry(
            p_mc,
            None,
            None,
            f"P({lo:g} <= average of {r} <= {hi:g}), exact-law Monte Carlo with "
            f"{c.mc_repetitions} repetitions (MC SE {se_mc:.2g}); normal approximation "
            f"{p_norm:.4f}",
        ),
        "p_average_at_most_article": _entry(
            p_le_article,
            None,
            None,
            f"P(average of {r} <= {c.article_mean:g}), exact-law Monte Carlo",
        ),
    }
    roughly = rel <= ROUGHLY_REL
    almost = p_mc >= c.almost_always
    if roughly and almost:
        verdict = ClaimVerdict.SUPPORTED
    elif not roughly and not almost:
        verdict = ClaimVerdict.CONTRADICTED
    else:
        verdict = ClaimVerdict.QUALIFIED
    reading = (
        f"E[sigma_T] = {mean:.4f} exactly (simulated average {sim_mean:.4f}, CI "
        f"{sim_ci[0]:.4f}-{sim_ci[1]:.4f}); the article's {c.article_mean:g} is "
        f"{rel:.1%} away, so 'roughly' {_pick(roughly, 'holds', 'fails')} (tolerance "
        f"{ROUGHLY_REL:.0%}), although an average of {r} comes out at or below "
        f"{c.article_mean:g} only with probability {p_le_article:.3f}. The average of {r} has "
        f"SD {sd / math.sqrt(r):.4f} and lies in [{lo:g}, {hi:g}] with probability {p_mc:.3f} "
        f"(normal approximation {p_norm:.3f}): 'almost always' (>= {c.almost_always}) "
        f"{_pick(almost, 'holds', 'fails')}."
    )
    return verdict, reading, nums


def _claim_a3(c: ClaimsConfig, runs: _Runs):
    mean, sd = _sigma_moments(c.generations, c.n, c.ddof)
    lo, hi = c.interval
    sig = np.exp(0.5 * runs.article)
    nums: dict[str, Any] = {}
    probs = {}
    for r in c.sizes:
        p_mc, se_mc = _average_in_interval(runs.article_mc, r, c.interval)
        probs[r] = p_mc
        groups = sig.size // r
        note = (
            f"P({lo:g} <= average of {r} <= {hi:g}), exact-law Monte Carlo (MC SE {se_mc:.2g}); "
            f"normal approximation {_normal_in_interval(mean, sd, r, c.interval):.3f}"
        )
        if groups >= MIN_GROUPS:
            avgs = sig[: groups * r].reshape(groups, r).mean(axis=1)
            sim, ci = _prop_ci(int(np.sum((avgs >= lo) & (avgs <= hi))), groups)
            note += f"; simulated: fraction of {groups} disjoint groups of {r} simulated chains"
        else:
            sim, ci = None, None
        nums[f"p_average_in_interval_R{r}"] = _entry(p_mc, sim, ci, note)
        nums[f"average_sd_R{r}"] = _entry(
            sd / math.sqrt(r), None, None, f"SD of the average of {r}"
        )
    claimed = [r for r in c.sizes if r < c.replicates]
    if all(probs[r] >= c.almost_always for r in claimed):
        verdict = ClaimVerdict.SUPPORTED
    elif all(probs[r] < USUALLY for r in claimed):
        verdict = ClaimVerdict.CONTRADICTED
    else:
        verdict = ClaimVerdict.QUALIFIED
    groups_ = {
        "reliably similar": [r for r in claimed if probs[r] >= c.almost_always],
        "usually but not reliably similar": [
            r for r in claimed if USUALLY <= probs[r] < c.almost_always
        ],
        "usually not similar": [r for r in claimed if probs[r] < USUALLY],
    }
    verdicts = "; ".join(
        f"R = {', '.join(map(str, rs))}: {label}" for label, rs in groups_.items() if rs
    )
    chances = ", ".join(f"{probs[r]:.2f} for R = {r}" for r in c.sizes)
    reading = (
        f"The average of R experiments is unbiased for E[sigma_T] = {mean:.3f} at every R, but "
        f"its SD is {sd:.3f}/sqrt(R), so the chance it lands in [{lo:g}, {hi:g}] is {chances} "
        f"(exact-law Monte Carlo). With 'similar' = in that interval and 'reliably' = with "
        f"probability >= {c.almost_always}: {verdicts}."
    )
    return verdict, reading, nums


def _claim_a4(c: ClaimsConfig, runs: _Runs):
    T, r = c.long_generations, c.replicates
    mean, _ = _sigma_moments(T, c.n, c.ddof)
    median = math.exp(0.5 * float(LogVarianceLaw(c.n, T, c.ddof).ppf(0.5)))
    pts = [t for t in runs.checkpoints if t > 0]
    means = np.exp([float(log_sigma_moment(t, c.n, c.ddof, 1.0, 1.0)) for t in pts])
    medians = np.exp([0.5 * float(LogVarianceLaw(c.n, t, c.ddof).ppf(0.5)) for t in pts])
    shrinking = bool(np.all(np.diff(means) < 0) and np.all(np.diff(medians) < 0))
    avg = runs.mc_sigma("long_mc", T, r).mean(axis=1)
    a_lo, a_med, a_hi = (float(v) for v in np.quantile(avg, [0.025, 0.5, 0.975]))
    p_le_article = float(np.mean(avg <= c.article_long_mean))
    traj = runs.long
    sig = np.exp(0.5 * traj.final_log_var)
    sim_mean = float(np.mean(sig))
    sim_median, med_ci = _quantile_ci(sig, 0.5)
    sim_medians = np.median(np.exp(0.5 * traj.log_var[:, traj.generations > 0]), axis=0)
    top_share = float(np.sort(sig)[-max(1, r // 100) :].sum() / sig.sum())
    art = f"{c.article_long_mean:g}"
    nums = {
        "sigma_mean": _entry(
            mean,
            sim_mean,
            None,
            f"E[sigma_T] at T = {T}; no normal CI for the simulated average (sigma_T is too "
            "heavy-tailed for the CLT at this R): compare with the exact-law quantiles of the "
            "average below",
        ),
        "sigma_median": _entry(median, sim_median, med_ci, "median sigma_T, order-statistic CI"),
        "average_quantile_0.025": _entry(
            a_lo, None, None, f"2.5% point of the average of {r}, exact-law Monte Carlo"
        ),
        "average_quantile_0.5": _entry(a_med, None, None, f"median of the average of {r}"),
        "average_quantile_0.975": _entry(a_hi, None, None, f"97.5% point of the average of {r}"),
        "p_average_at_most_article": _entry(
            p_le_article, None, None, f"P(average of {r} <= {art}), exact-law Monte Carlo"
        ),
        "largest_checkpoint_ratio_mean": _entry(
            float(np.max(means[1:] / means[:-1])),
            None,
            None,
            f"max over checkpoints {pts} of E[sigma] at one over E[sigma] at the previous; "
            "< 1 means shrinking",
        ),
        "largest_checkpoint_ratio_median": _entry(
            float(np.max(medians[1:] / medians[:-1])),
            float(np.max(sim_medians[1:] / sim_medians[:-1])),
            None,
            "the same for the median of sigma",
        ),
        "top_1pct_share_of_sum": _entry(
            None, top_share, None, "share of the simulated sum of sigma_T from the top 1%"
        ),
    }
    as_average = a_lo <= c.article_long_mean <= a_hi
    as_typical = abs(math.log(c.article_long_mean / median)) <= math.log(TYPICAL_FACTOR)
    if not shrinking or not (as_average or as_typical):
        verdict = ClaimVerdict.CONTRADICTED
    elif as_average and as_typical:
        verdict = ClaimVerdict.SUPPORTED
    else:
        verdict = ClaimVerdict.QUALIFIED
    reading = (
        f"E[sigma_t] and the median of sigma_t "
        f"{_pick(shrinking, 'decrease', 'do not decrease')} at every checkpoint up to T = {T} "
        f"('keeps shrinking' {_pick(shrinking, 'holds', 'fails')}). As the average of {r} "
        f"experiments, {art} is {_pick(as_average, 'a plausible', 'an implausible')} outcome: "
        f"that average is right-skewed, central 95% range {a_lo:.2e} to {a_hi:.2e}, mean "
        f"{mean:.2e} (simulated {sim_mean:.2e}; the top 1% of experiments carry {top_share:.0%} "
        f"of it). As the final std of an experiment it "
        f"{_pick(as_typical, 'holds', 'fails')}: the median experiment ends at {median:.1e}, "
        f"{c.article_long_mean / median:.1f} times below {art} (tolerance a factor "
        f"{TYPICAL_FACTOR:g})."
    )
    return verdict, reading, nums


def _claim_a5(c: ClaimsConfig, runs: _Runs):
    T = c.long_generations
    drift = log_sigma2_drift(c.n, c.ddof)
    p_coll = float(LogVarianceLaw(c.n, T, c.ddof).cdf(2 * math.log(c.collapse_level)))
    log_ratio = math.log1p(-(1 - c.ddof) / (c.n - c.ddof))  # log E[sigma_t^2]/E[sigma_{t-1}^2]
    m2_long = math.exp(T * log_ratio)
    m2_unbiased = math.exp(float(log_sigma_moment(T, c.n, 1.0, 1.0, 2.0)))
    final = runs.long.final_log_var
    level = f"{c.collapse_level:g}"
    sim_p, ci_p = _prop_ci(int(np.sum(final < 2 * math.log(c.collapse_level))), final.size)
    sim_slope, ci_slope = _mean_ci(final / T)
    nums = {
        "log_sigma2_drift": _entry(
            drift,
            sim_slope,
            ci_slope,
            "E[log sigma_t^2 - log sigma_{t-1}^2] = psi((n-1)/2) + log 2 - log(n - ddof); "
            f"simulated: mean of log(sigma_T^2)/T at T = {T}",
        ),
        f"p_sigma_below_{level}_at_T{T}": _entry(
            p_coll, sim_p, ci_p, f"P(sigma_T < {level}) at T = {T}"
        ),
        f"sigma2_mean_at_T{T}": _entry(
            m2_long, None, None, f"E[sigma_T^2] = ((n-1)/(n-ddof))^T with ddof = {c.ddof:g}"
        ),
        f"sigma2_mean_at_T{T}_ddof1": _entry(
            m2_unbiased, None, None, "with ddof = 1: sigma_0^2 at every T, yet sigma_T -> 0 a.s."
        ),
    }
    collapses = drift < 0
    in_mean = log_ratio < 0
    if not collapses:
        verdict = ClaimVerdict.CONTRADICTED
    elif in_mean:
        verdict = ClaimVerdict.SUPPORTED
    else:
        verdict = ClaimVerdict.QUALIFIED
    reading = (
        f"log sigma_t^2 is a random walk with i.i.d. steps of exact mean {drift:.6f} "
        f"(simulated {sim_slope:.6f}), so by the strong law of large numbers "
        f"log(sigma_T^2)/T -> {drift:.6f} and sigma_T "
        f"{_pick(collapses, '-> 0 almost surely', 'does not collapse')}; P(sigma_T < {level}) = "
        f"{p_coll:.3f} at T = {T} (simulated {sim_p:.3f}). With ddof = {c.ddof:g}, "
        f"E[sigma_T^2] = {m2_long:.3g} {_pick(in_mean, 'tends to 0 too', 'does not tend to 0')}; "
        "with ddof = 1 it stays exactly sigma_0^2 for every T although sigma_T -> 0 almost "
        "surely: the typical path collapses, the mean need not."
    )
    return verdict, reading, nums


def _claim_a6(c: ClaimsConfig, runs: _Runs):
    step = StepLaw(c.n, c.ddof)
    p_step = step.prob_below(0.0)
    p_many = float(LogVarianceLaw(c.n, c.generations, c.ddof).cdf(0.0))
    one = runs.one_step
    sim_step, ci_step = _prop_ci(int(np.sum(one < 0.0)), one.size)
    sim_many, ci_many = _prop_ci(int(np.sum(runs.article < 0.0)), runs.article.size)
    nums = {
        "p_one_step_below": _entry(
            p_step,
            sim_step,
            ci_step,
            f"P(sigma_1 < sigma_0) = P(chi2_{c.n - 1} < {c.n - c.ddof:g}); simulated with "
            f"{one.size} one-generation chains, Clopper-Pearson CI",
        ),
        "p_below_after_T": _entry(
            p_many, sim_many, ci_many, f"P(sigma_T < 1) at T = {c.generations}"
        ),
        "log_sigma2_drift": _entry(step.drift, None, None, "mean log step, per generation"),
    }
    literal = p_step <= 0.5
    nearly = p_step <= 0.5 + EVEN_TOL
    dominate = p_many >= DOMINATE
    if literal and dominate:
        verdict = ClaimVerdict.SUPPORTED
    elif nearly and dominate:
        verdict = ClaimVerdict.QUALIFIED
    else:
        verdict = ClaimVerdict.CONTRADICTED
    excludes = ci_step[0] > 0.5 or ci_step[1] < 0.5
    if literal:
        first = "a std below 1 is indeed not more likely"
    elif nearly:
        first = (
            f"strictly, below IS more likely, though within {EVEN_TOL} of even "
            "(the 'about equally likely' reading holds)"
        )
    else:
        first = f"below is clearly more likely (more than {EVEN_TOL} above even)"
    reading = (
        f"One refit gives sigma_1 < sigma_0 with probability exactly {p_step:.4f} (simulated "
        f"{sim_step:.4f}, CI {ci_step[0]:.4f}-{ci_step[1]:.4f}, which "
        f"{_pick(excludes, 'excludes', 'includes')} 1/2): {first}. After {c.generations} steps "
        f"P(sigma_T < 1) = {p_many:.3f} (simulated {sim_many:.3f}): values below 1 "
        f"{_pick(dominate, 'dominate', 'do not dominate')} (threshold {DOMINATE}). The tiny "
        f"per-step tilt compounds: log sigma^2 drifts by {step.drift:.5f} per generation."
    )
    return verdict, reading, nums


@functools.lru_cache(maxsize=8)
def _recovery_probability(n: int, ddof: float, b: float, points_per_sd: int):
    """:func:`prob_ever_recovers`, remembered (it is pure and takes a few seconds)."""
    return prob_ever_recovers(n, ddof, b, points_per_sd=points_per_sd)


def _claim_a7(c: ClaimsConfig, runs: _Runs):
    b = 2 * math.log(1 / c.recovery_start)
    start = f"{c.recovery_start:g}"
    rec = _recovery_probability(c.n, c.ddof, b, c.recovery_points_per_sd)
    p_ever = rec.probability if math.isfinite(rec.probability) else rec.lower
    p_h = rec.within(c.recovery_horizon)
    first = runs.recovery
    sim, ci = _prop_ci(int(np.sum(first > 0)), first.size)
    t_short = min(c.generations, c.recovery_horizon)
    sim_short, ci_short = _prop_ci(int(np.sum((first > 0) & (first <= t_short))), first.size)
    step = StepLaw(c.n, c.ddof)
    diffusion = math.exp(-2 * abs(step.drift) * b / step.var)
    r_exp = lundberg_exponent(c.n, c.ddof)
    nums = {
        "p_ever_returns": _entry(
            rec.probability,
            None,
            None,
            f"P(sigma ever climbs from {start} back to 1): the exact step law propagated on a "
            f"grid below an absorbing barrier, spacings h and 2h Richardson-extrapolated "
            f"(fine-grid error estimate {rec.discretisation_error:.1e}, truncation "
            f"{rec.upper - rec.lower:.1e})",
        ),
        f"p_returns_within_{c.recovery_horizon}": _entry(
            p_h,
            sim,
            ci,
            f"within {c.recovery_horizon} generations (a lower bound of 'ever'): simulated "
            f"fraction of {first.size} chains started at sigma = {start}, Clopper-Pearson CI",
        ),
        f"p_returns_within_{t_short}": _entry(
            rec.within(t_short), sim_short, ci_short, f"the same within {t_short} generations"
        ),
        "lundberg_bound": _entry(
            rec.lundberg_bound,
            None,
            None,
            f"exp(-R b), an exact upper bound; R = {r_exp:.6f}, b = 2 log(1/{start}) = {b:.4f}",
        ),
        "siegmund_approximation": _entry(
            rec.siegmund_approximation,
            None,
            None,
            "APPROXIMATION exp(-R (b + 0.5826 sd(step))), for comparison only",
        ),
        "diffusion_approximation": _entry(
            diffusion, None, None, "APPROXIMATION exp(-2 |drift| b / var(step)), no overshoot"
        ),
    }
    tokens, token_reading = _a7_tokens(c.n)
    nums.update(copy.deepcopy(tokens))
    if p_ever >= COMMON:
        verdict, how = ClaimVerdict.CONTRADICTED, f"common (>= {COMMON}), so 'impossible' fails"
    elif p_ever >= NEGLIGIBLE:
        verdict, how = ClaimVerdict.QUALIFIED, f"possible but rare (below {COMMON})"
    else:
        verdict, how = ClaimVerdict.SUPPORTED, f"negligible (below {NEGLIGIBLE:g})"
    reading = (
        f"A chain whose sigma stands at {start} climbs back to 1 with probability {p_ever:.4f} "
        f"(exact Lundberg bound {rec.lundberg_bound:.4f}); of {first.size} simulated chains "
        f"{sim:.3f} (CI {ci[0]:.3f}-{ci[1]:.3f}) did so within {c.recovery_horizon} "
        f"generations, against {p_h:.4f} predicted. Recovery is {how}. The downward drift "
        f"({step.drift:.5f} per generation) is small against the step SD "
        f"({math.sqrt(step.var):.4f}): collapse is a long-run almost-sure trend, not an "
        "irreversible step. " + token_reading
    )
    return verdict, reading, nums


#: A7 where the tails are real: a token distribution of K = n categories, uniform start,
#: refit by frequencies (``collapsecheck.families.categorical``); smoothing and fresh data
#: at these strengths let a lost category come back.
A7_TOKEN_ALPHA = 0.5
A7_TOKEN_FRESH = 0.01


@functools.lru_cache(maxsize=8)
def _a7_tokens(n: int) -> tuple[dict[str, Any], str]:
    """The categorical chain's exact answer to A7 (its recurrence of a lost category);
    the same for every seed, so computed once per n."""
    from collapsecheck.families.categorical.theory import predict

    p0 = np.full(n, 1.0 / n)
    fresh = max(A7_TOKEN_FRESH, 1.0 / n)  # at least one fresh token per generation
    share = f"{A7_TOKEN_FRESH:.0%}" if fresh == A7_TOKEN_FRESH else f"1 in {n}"
    rec = {name: predict(p0, n, 1, **kw).to_dict()["recurrence"]["rarest"] for name, kw in (
        ("refit", {}), ("smoothing", {"alpha": A7_TOKEN_ALPHA}),
        ("fresh", {"regime": "mix", "fresh_fraction": fresh}))}
    law = f"K = {n} categories, uniform start, n = {n} tokens per generation"
    nums = {
        "tokens_p_lost_category_returns": _entry(
            rec["refit"]["p_back_next_generation"], None, None,
            f"categorical chain ({law}) refit by frequencies: a category with no token has "
            "probability 0 from then on (its count chain is absorbed at 0), exactly"),
        "tokens_smoothing_p_back_next_generation": _entry(
            rec["smoothing"]["p_back_next_generation"], None, None,
            f"the same with add-{A7_TOKEN_ALPHA:g} smoothing: P(a lost category has a token "
            "in the next generation), exact"),
        "tokens_smoothing_generations_absent": _entry(
            rec["smoothing"]["mean_generations_absent"], None, None,
            "its expected generations absent before it returns, exact"),
        "tokens_fresh_p_back_next_generation": _entry(
            rec["fresh"]["p_back_next_generation"], None, None,
            f"with {share} of each generation's tokens fresh from the original law: P(back in "
            "the next generation), exact"),
        "tokens_fresh_generations_absent": _entry(
            rec["fresh"]["mean_generations_absent"], None, None,
            "its expected generations absent before it returns, exact"),
    }
    reading = (
        f"Where the tails are literal, in a token distribution ({law}) refit by frequencies, "
        "A7 holds exactly: a category that draws no token has probability 0 for ever. It "
        "is the refit rule, not collapse itself, that forbids the return: with "
        f"add-{A7_TOKEN_ALPHA:g} smoothing a lost category is back the next generation with "
        f"probability {rec['smoothing']['p_back_next_generation']:.3f} (absent "
        f"{rec['smoothing']['mean_generations_absent']:.1f} generations on average), and "
        f"with {share} fresh tokens with probability "
        f"{rec['fresh']['p_back_next_generation']:.4f} (absent "
        f"{rec['fresh']['mean_generations_absent']:.0f} generations on average).")
    return nums, reading


def _claim_a8(c: ClaimsConfig, runs: _Runs):
    k = (c.n - 1) / 2
    drift = log_sigma2_drift(c.n, c.ddof)
    drift1 = log_sigma2_drift(c.n, 1.0)
    jensen = math.log(c.n - 1) - float(special.digamma(k)) - math.log(2.0)  # log EQ - E log Q
    bias = math.log((c.n - 1) / (c.n - c.ddof))
    T, r = c.generations, c.replicates
    med1 = math.exp(float(LogVarianceLaw(c.n, T, 1.0).ppf(0.5)))
    lm = [float(log_sigma_moment(T, c.n, 1.0, 1.0, p)) for p in (2.0, 4.0, 6.0)]
    m1, m2, m3 = (math.exp(v) for v in lm)
    skew_avg = (m3 - 3 * m1 * m2 + 2 * m1**3) / (m2 - m1**2) ** 1.5 / math.sqrt(r)
    s2 = np.exp(runs.unbiased)
    sim_m2, ci_m2 = _mean_ci(s2)
    sim_med, ci_med = _quantile_ci(s2, 0.5)
    sim_drift, ci_drift = _mean_ci(runs.article / T)
    nums = {
        "log_sigma2_drift": _entry(
            drift,
            sim_drift,
            ci_drift,
            f"ddof = {c.ddof:g}: bias term minus Jensen gap; simulated mean of "
            f"log(sigma_T^2)/T at T = {T}",
        ),
        "log_sigma2_drift_ddof1": _entry(drift1, None, None, "ddof = 1: minus the Jensen gap"),
        "jensen_gap": _entry(
            jensen, None, None, "log E[Q] - E[log Q] for Q ~ chi2_{n-1}, > 0 by Jensen"
        ),
        "bias_term": _entry(bias, None, None, f"log((n-1)/(n-ddof)) with ddof = {c.ddof:g}"),
        "sigma2_mean_ddof1": _entry(
            m1,
            sim_m2,
            ci_m2,
            f"E[sigma_T^2] at T = {T} with ddof = 1 (a martingale); simulated average of {r}, "
            f"normal CI approximate (exact skewness of that average {skew_avg:.2f})",
        ),
        "sigma2_median_ddof1": _entry(
            med1, sim_med, ci_med, f"median sigma_T^2 at T = {T} with ddof = 1"
        ),
    }
    # The decisive number: does the typical chain collapse even with an unbiased fit
    # (ddof = 1, where E[sigma_T^2] stays sigma_0^2)? If its median sigma_T^2 has fallen
    # below half of sigma_0^2, bias plus averaging cannot be the explanation: the
    # mechanism is the log random walk's negative (Jensen) drift.
    random_walk = med1 < UNBIASED_COLLAPSE_LEVEL
    if drift >= 0:
        verdict = ClaimVerdict.CONTRADICTED
    elif random_walk:
        verdict = ClaimVerdict.QUALIFIED
    else:  # an unbiased fit would not collapse: bias plus averaging would explain it
        verdict = ClaimVerdict.SUPPORTED
    reading = (
        "The law of large numbers applied to each fit says only that sigma_t is close to "
        "sigma_{t-1} (relative error about 1/sqrt(2n)); it predicts no shrinkage. The mechanism "
        f"is a multiplicative random walk: log sigma^2 takes i.i.d. steps of mean {drift:.6f} = "
        f"{bias:.6f} (the ddof = {c.ddof:g} bias) - {jensen:.6f} (the Jensen gap, "
        f"E log Q < log E Q). Even unbiased (ddof = 1), E[sigma_T^2] = {m1:.3g} at every T while "
        f"the median sigma_T^2 is {med1:.3f} at T = {T} (simulated {sim_med:.3f}) and "
        "sigma_T -> 0 almost surely; a law of large numbers enters only as the strong law for "
        "the log-walk, log(sigma_T^2)/T -> drift < 0. Decided by that median: below "
        f"{UNBIASED_COLLAPSE_LEVEL:g} (the typical unbiased chain has lost half its variance), "
        "bias and averaging cannot explain the collapse, so the explanation is QUALIFIED."
    )
    return verdict, reading, nums


_EVALUATORS: dict[str, Callable] = {
    "A1": _claim_a1,
    "A2": _claim_a2,
    "A3": _claim_a3,
    "A4": _claim_a4,
    "A5": _claim_a5,
    "A6": _claim_a6,
    "A7": _claim_a7,
    "A8": _claim_a8,
}


def evaluate_claims(
    config: ClaimsConfig,
    seed: int,
    workers: int | None = None,
    *,
    ids: Sequence[str] | None = None,
    simulator: Callable | None = None,
) -> tuple[ClaimResult, ...]:
    """Decide the article's claims A1..A8 (ARTICLE.md), in order.

    Parameters
    ----------
    config : ClaimsConfig
        The experiment, the simulation sizes and the thresholds.
    seed : int
        Entropy of every random stream (see the module docstring), ``>= 0``.
    workers : int or None
        Processes for the simulations; the results do not depend on it.
    ids : sequence of str, optional
        Evaluate only these claims (e.g. ``("A2", "A7")``); they still come out in order.
    simulator : Simulator, optional
        ``simulator(experiment, record) -> Trajectories`` (the call the checks make): every
        simulated number then comes from it instead of the built-in ``config.engine``, on
        the same streams (:data:`STREAMS`), in this process (``workers`` is not used for
        it). The verdicts are decided by exact theory either way; the simulated numbers
        (and the readings that quote them) are the simulator's, so a wrong simulator shows
        there as numbers that leave their theory's interval.

    Returns
    -------
    tuple of ClaimResult
        One per claim. ``seconds`` of each includes the shared simulations it was the
        first to need. Every entry of ``numbers`` carries ``source``: ``"simulator"`` or
        ``"built-in"`` when its ``simulation`` value was simulated (by the simulator
        under test or by the built-in engine), ``"exact theory"`` when it has only the
        theory value (exact formulas, or exact-law Monte Carlo where its note says so).

    Examples
    --------
    >>> from collapsecheck.families.gaussian.checks.article import ClaimsConfig, evaluate_claims
    >>> (a6,) = evaluate_claims(ClaimsConfig(one_step_replicates=10_000), seed=1, ids=["A6"])
    >>> a6.verdict.value, round(a6.numbers["p_one_step_below"]["theory"], 4)
    ('QUALIFIED', 0.5149)
    """
    if not isinstance(config, ClaimsConfig):
        raise TypeError(f"`config` must be a ClaimsConfig; got {config!r}.")
    if not (_is_int(seed) and seed >= 0):
        raise ValueError(f"`seed` must be a whole number >= 0; got {seed!r}.")
    if workers is not None and not (_is_int(workers) and workers >= 0):
        raise ValueError(f"`workers` must be a whole number >= 0 or None; got {workers!r}.")
    wanted = list(_EVALUATORS) if ids is None else list(ids)
    unknown = [i for i in wanted if i not in _EVALUATORS]
    if isinstance(ids, str) or unknown or not wanted:
        raise ValueError(f"`ids` must be a non-empty list of claim ids A1..A8; got {ids!r}.")
    if simulator is not None and not callable(simulator):
        raise TypeError(f"`simulator` must be callable or None; got {simulator!r}.")
    runs = _Runs(config, int(seed), None if workers is None else int(workers), simulator)
    out = []
    for cid, evaluate in _EVALUATORS.items():
        if cid not in wanted:
            continue
        start = time.perf_counter()
        verdict, reading, nums = evaluate(config, runs)
        nums = {k: _sourced(v, runs.source) for k, v in nums.items()}
        out.append(
            ClaimResult(
                id=cid,
                claim=CLAIMS[cid],
                verdict=verdict,
                reading=reading,
                numbers=nums,
                seconds=time.perf_counter() - start,
            )
        )
    return tuple(out)


#: The claims as the Gaussian family declares them (``FamilySpec.claims``): a profile's
#: ``[claims]`` table is read by :meth:`ClaimsConfig.from_mapping` and judged by
#: :func:`evaluate_claims` (``validate``), priced and refused by
#: :mod:`collapsecheck.families.gaussian.claims_cost`.
FAMILY_CLAIMS = FamilyClaims(label="article claims A1..A8", subject="claims A1..A8",
                             from_mapping=ClaimsConfig.from_mapping, evaluate=evaluate_claims,
                             price=claims_items, require=claims_experiments_iv)
