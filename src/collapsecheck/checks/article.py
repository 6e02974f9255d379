r"""The article's claims A1..A8 (ARTICLE.md), each decided by exact theory and simulation.

Every claim gets a :class:`~collapsecheck.results.ClaimResult`: the verdict (SUPPORTED,
QUALIFIED or CONTRADICTED), a reading that says which reading of the claim holds and which
fails, and the deciding numbers, each ``{"theory", "simulation", "ci95", "note"}``. The
verdicts are computed from the numbers with the thresholds of :class:`ClaimsConfig` (and
the module constants below); nothing is hard-coded. A verdict is a finding about the
article, not a failure of the software.

Exact theory comes from :mod:`collapsecheck.theory`; "exact-law Monte Carlo" means draws
of :math:`S_T = \log(\sigma_T^2/\sigma_0^2)` from its exact law
(:meth:`~collapsecheck.theory.LogVarianceLaw.sample`), used where a quantity (e.g. the
chance that an average of R experiments lands in an interval) has no closed form.
Simulations use the configured engine (``sufficient`` by default).

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

import dataclasses
import math
import numbers
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from scipy import special, stats

from collapsecheck.engines import ENGINES, simulate
from collapsecheck.engines._blocks import REPLICATE_BLOCK, resolve_workers, run_blocks
from collapsecheck.experiment import Experiment
from collapsecheck.results import ClaimResult, ClaimVerdict
from collapsecheck.theory import (
    LogVarianceLaw,
    StepLaw,
    log_sigma2_drift,
    log_sigma_moment,
    lundberg_exponent,
    prob_ever_recovers,
)

__all__ = ["CLAIMS", "STREAMS", "ClaimsConfig", "evaluate_claims", "stream_seed"]

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
        if not _is_int(value):
            raise TypeError(f"`{name}` must be a whole number; got {value!r}.")
        if value < (2 if name in ("n", "recovery_points_per_sd") else 1):
            low = 2 if name in ("n", "recovery_points_per_sd") else 1
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
        if not _is_real(value) or not math.isfinite(value):
            raise TypeError(f"`{name}` must be a finite real number; got {value!r}.")
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


def stream_seed(seed: int, key: tuple[int, ...]) -> int:
    """The Experiment seed of one stream: the first 63 bits of the state of
    ``SeedSequence(seed, spawn_key=key)``."""
    state = np.random.SeedSequence(seed, spawn_key=key).generate_state(2, np.uint32)
    return (int(state[0]) << 32 | int(state[1])) & ((1 << 63) - 1)


def _entry(theory=None, simulation=None, ci95=None, note: str = "") -> dict[str, Any]:
    def f(v):
        return None if v is None else float(v)

    return {
        "theory": f(theory),
        "simulation": f(simulation),
        "ci95": None if ci95 is None else [float(ci95[0]), float(ci95[1])],
        "note": note,
    }


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


def _fmt(p: float) -> str:
    return f"{p:.3g}"


# ---------------------------------------------------------------------------------------
# Shared runs (each made once, on first use)
# ---------------------------------------------------------------------------------------


def _recovery_group(experiment: Experiment, engine: str) -> np.ndarray:
    """First generation at which each chain reaches sigma >= 1 (0 if it never does)."""
    run = simulate(experiment, engine=engine, workers=1, record="all")
    reached = run.trajectories.log_var[:, 1:] >= 0.0
    first = np.argmax(reached, axis=1) + 1
    return np.where(reached.any(axis=1), first, 0)


class _Runs:
    """The simulations and exact-law draws the claims share, made lazily."""

    def __init__(self, config: ClaimsConfig, seed: int, workers: int | None):
        self.c, self.seed, self.workers = config, seed, workers

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
        run = simulate(e, engine=c.engine, workers=self.workers, record="final")
        return run.trajectories.final_log_var

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
        return simulate(e, engine=c.engine, workers=self.workers, record=self.checkpoints)

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
        work = float(c.recovery_replicates) * c.recovery_horizon * 2
        nproc = resolve_workers(self.workers or None, len(args), work)
        return np.concatenate(run_blocks(_recovery_group, args, nproc))


# ---------------------------------------------------------------------------------------
# The claims
# ---------------------------------------------------------------------------------------


def _sigma_moments(generations: int, n: int, ddof: float) -> tuple[float, float]:
    """Exact E[sigma_T] and SD(sigma_T) (sigma_0 = 1)."""
    lm1 = float(log_sigma_moment(generations, n, ddof, 1.0, 1.0))
    lm2 = float(log_sigma_moment(generations, n, ddof, 1.0, 2.0))
    return math.exp(lm1), math.exp(lm1) * math.sqrt(math.expm1(lm2 - 2 * lm1))


def _claim_a1(c: ClaimsConfig, runs: _Runs):
    law = LogVarianceLaw(c.n, c.generations, c.ddof)
    p_below1 = float(law.cdf(0.0))
    p_much = float(law.cdf(2 * math.log(c.much_smaller)))
    mean, sd = _sigma_moments(c.generations, c.n, c.ddof)
    cv = sd / mean
    q = np.exp(0.5 * np.atleast_1d(law.ppf([0.025, 0.5, 0.975])))
    sig = np.exp(0.5 * runs.article)
    r = sig.size
    sim_b1, ci_b1 = _prop_ci(int(np.sum(sig < 1.0)), r)
    sim_much, ci_much = _prop_ci(int(np.sum(sig < c.much_smaller)), r)
    numbers_ = {
        "p_sigma_below_1": _entry(
            p_below1, sim_b1, ci_b1, "P(sigma_T < 1); simulated fraction, Clopper-Pearson CI"
        ),
        f"p_sigma_below_{c.much_smaller:g}": _entry(
            p_much, sim_much, ci_much, f"P(sigma_T < {c.much_smaller:g}): 'much smaller'"
        ),
    }
    for level, exact in zip(("0.025", "0.5", "0.975"), q, strict=True):
        est, ci = _quantile_ci(sig, float(level))
        numbers_[f"sigma_quantile_{level}"] = _entry(exact, est, ci, "order-statistic CI")
    sim_cv = float(np.std(sig, ddof=1) / np.mean(sig))
    numbers_["sigma_cv"] = _entry(
        cv, sim_cv, None, f"SD/mean of sigma_T; 'varies widely' if >= {WIDE_CV}"
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
    first = (
        f"'almost always much smaller' holds: P(sigma_T < {c.much_smaller:g}) = {p_much:.3f} >= {c.almost_always}"
        if strong
        else f"'almost always much smaller' fails: P(sigma_T < 1) = {p_below1:.3f} and "
        f"P(sigma_T < {c.much_smaller:g}) = {p_much:.3f}, below the {c.almost_always} that 'almost always' "
        f"needs (simulated {sim_b1:.3f} and {sim_much:.3f}); only 'usually smaller' holds"
        if weak
        else f"sigma_T is not even usually below 1 (P = {p_below1:.3f})"
    )
    second = (
        f"'varies widely' holds: coefficient of variation {cv:.2f} (>= {WIDE_CV}), central 95% "
        f"range {q[0]:.3f} to {q[2]:.3f}"
        if wide
        else f"'varies widely' fails: coefficient of variation {cv:.2f} < {WIDE_CV}"
    )
    reading = (
        f"At n={c.n}, T={c.generations}: {first}. {second}, a {q[2] / q[0]:.0f}-fold spread, "
        f"with median {q[1]:.3f}."
    )
    return verdict, reading, numbers_


def _average_in_interval(mc: np.ndarray, r: int, interval) -> tuple[float, float]:
    avg = mc[:, :r].mean(axis=1)
    p = float(np.mean((avg >= interval[0]) & (avg <= interval[1])))
    return p, math.sqrt(max(p * (1 - p), 1e-300) / mc.shape[0])


def _normal_in_interval(mean: float, sd: float, r: int, interval) -> float:
    s = sd / math.sqrt(r)
    return float(
        stats.norm.cdf((interval[1] - mean) / s) - stats.norm.cdf((interval[0] - mean) / s)
    )


def _claim_a2(c: ClaimsConfig, runs: _Runs):
    mean, sd = _sigma_moments(c.generations, c.n, c.ddof)
    r = c.replicates
    lo, hi = c.interval
    p_mc, se_mc = _average_in_interval(runs.article_mc, r, c.interval)
    p_norm = _normal_in_interval(mean, sd, r, c.interval)
    avg = runs.article_mc[:, :r].mean(axis=1)
    p_below_article = float(np.mean(avg <= c.article_mean))
    sig = np.exp(0.5 * runs.article)
    sim_mean, sim_ci = _mean_ci(sig)
    rel = abs(mean - c.article_mean) / mean
    numbers_ = {
        "sigma_mean": _entry(
            mean,
            sim_mean,
            sim_ci,
            f"E[sigma_T] (gamma-ratio formula); the article reports {c.article_mean:g}",
        ),
        "average_sd": _entry(
            sd / math.sqrt(r), None, None, f"SD of the average of {r} experiments"
        ),
        f"p_average_in_interval_R{r}": _entry(
            p_mc,
            None,
            None,
            f"P({lo:g} <= average of {r} <= {hi:g}), exact-law Monte Carlo, {c.mc_repetitions} "
            f"repetitions (MC SE {se_mc:.2g}); normal approximation {p_norm:.4f}",
        ),
        "p_average_at_most_article": _entry(
            p_below_article,
            None,
            None,
            f"P(average of {r} <= {c.article_mean:g}), exact-law Monte Carlo: how unusual the article's value is",
        ),
    }
    roughly = rel <= ROUGHLY_REL
    almost = p_mc >= c.almost_always
    verdict = (
        ClaimVerdict.SUPPORTED
        if roughly and almost
        else ClaimVerdict.CONTRADICTED
        if not roughly and not almost
        else ClaimVerdict.QUALIFIED
    )
    reading = (
        f"E[sigma_T] = {mean:.4f} exactly (simulated average {sim_mean:.4f}, CI {sim_ci[0]:.4f}-{sim_ci[1]:.4f}); "
        f"the article's {c.article_mean:g} is {'within' if roughly else 'outside'} {ROUGHLY_REL:.0%} of it "
        f"('roughly' {'holds' if roughly else 'fails'}), though an average of {r} lands at or below "
        f"{c.article_mean:g} only with probability {p_below_article:.3f}. "
        f"The average of {r} experiments has SD {sd / math.sqrt(r):.4f} and lies in [{lo:g}, {hi:g}] with "
        f"probability {p_mc:.3f} (normal approximation {p_norm:.3f}), so 'almost always' "
        f"(>= {c.almost_always}) {'holds' if almost else 'fails'}."
    )
    return verdict, reading, numbers_


def _claim_a3(c: ClaimsConfig, runs: _Runs):
    mean, sd = _sigma_moments(c.generations, c.n, c.ddof)
    lo, hi = c.interval
    sig = np.exp(0.5 * runs.article)
    numbers_ = {}
    probs = {}
    for r in c.sizes:
        p_mc, se_mc = _average_in_interval(runs.article_mc, r, c.interval)
        probs[r] = p_mc
        groups = sig.size // r
        if groups >= 1:
            avgs = sig[: groups * r].reshape(groups, r).mean(axis=1)
            hits = int(np.sum((avgs >= lo) & (avgs <= hi)))
            sim, ci = _prop_ci(hits, groups)
            sim_note = (
                f"; simulated: fraction of {groups} disjoint groups of {r} article-run chains"
            )
        else:
            sim, ci, sim_note = None, None, ""
        numbers_[f"p_average_in_interval_R{r}"] = _entry(
            p_mc,
            sim,
            ci,
            f"P({lo:g} <= average of {r} <= {hi:g}), exact-law Monte Carlo (MC SE {se_mc:.2g}); "
            f"normal approximation {_normal_in_interval(mean, sd, r, c.interval):.3f}{sim_note}",
        )
        numbers_[f"average_sd_R{r}"] = _entry(
            sd / math.sqrt(r), None, None, f"SD of the average of {r}"
        )
    claimed = [r for r in c.sizes if r < c.replicates]
    if all(probs[r] >= c.almost_always for r in claimed):
        verdict = ClaimVerdict.SUPPORTED
    elif all(probs[r] < USUALLY for r in claimed):
        verdict = ClaimVerdict.CONTRADICTED
    else:
        verdict = ClaimVerdict.QUALIFIED
    parts = ", ".join(f"{probs[r]:.2f} for R = {r}" for r in c.sizes)
    good = [r for r in claimed if probs[r] >= c.almost_always]
    usual = [r for r in claimed if USUALLY <= probs[r] < c.almost_always]
    bad = [r for r in claimed if probs[r] < USUALLY]
    bits = []
    if good:
        bits.append(f"R = {', '.join(map(str, good))} reliably reproduces it")
    if usual:
        bits.append(f"R = {', '.join(map(str, usual))} usually does but not reliably")
    if bad:
        bits.append(f"R = {', '.join(map(str, bad))} usually does not")
    reading = (
        f"The average of R experiments is unbiased for E[sigma_T] = {mean:.3f} at every R, but its SD is "
        f"{sd:.3f}/sqrt(R): the chance it lands in [{lo:g}, {hi:g}] is {parts} (exact-law Monte Carlo; "
        f"'similar' = in that interval, reliable = probability >= {c.almost_always}). "
        f"{'; '.join(bits).capitalize()}."
    )
    return verdict, reading, numbers_


def _claim_a4(c: ClaimsConfig, runs: _Runs):
    T, r = c.long_generations, c.replicates
    mean, _ = _sigma_moments(T, c.n, c.ddof)
    law = LogVarianceLaw(c.n, T, c.ddof)
    median = math.exp(0.5 * float(law.ppf(0.5)))
    pts = [t for t in runs.checkpoints if t > 0]
    means = np.array([math.exp(float(log_sigma_moment(t, c.n, c.ddof, 1.0, 1.0))) for t in pts])
    medians = np.exp(0.5 * np.array([float(LogVarianceLaw(c.n, t, c.ddof).ppf(0.5)) for t in pts]))
    shrinking = bool(np.all(np.diff(means) < 0) and np.all(np.diff(medians) < 0))
    mc = runs.mc_sigma("long_mc", T, r)
    avg = mc.mean(axis=1)
    a_lo, a_med, a_hi = np.quantile(avg, [0.025, 0.5, 0.975])
    p_le_article = float(np.mean(avg <= c.article_long_mean))
    traj = runs.long.trajectories
    sig = np.exp(0.5 * traj.final_log_var)
    sim_mean, sim_ci = _mean_ci(sig)
    sim_median, med_ci = _quantile_ci(sig, 0.5)
    sim_medians = np.median(np.exp(0.5 * traj.log_var[:, 1:]), axis=0)
    top_share = float(np.sort(sig)[-max(1, r // 100) :].sum() / sig.sum())
    numbers_ = {
        "sigma_mean": _entry(
            mean,
            sim_mean,
            sim_ci,
            f"E[sigma_T] at T = {T}; normal CI unreliable for this heavy tail",
        ),
        "sigma_median": _entry(
            median, sim_median, med_ci, "median sigma_T: the typical experiment"
        ),
        "average_quantile_0.025": _entry(
            a_lo, None, None, f"2.5% point of the average of {r}, exact-law Monte Carlo"
        ),
        "average_quantile_0.5": _entry(
            a_med,
            sim_mean,
            None,
            f"median of the average of {r} (theory) vs the one simulated average",
        ),
        "average_quantile_0.975": _entry(a_hi, None, None, f"97.5% point of the average of {r}"),
        "p_average_at_most_article": _entry(
            p_le_article, None, None, f"P(average of {r} <= {c.article_long_mean:g})"
        ),
        "largest_checkpoint_ratio_mean": _entry(
            float(np.max(means[1:] / means[:-1])),
            None,
            None,
            f"max E[sigma_t']/E[sigma_t] over checkpoints {pts}; < 1 means shrinking",
        ),
        "largest_checkpoint_ratio_median": _entry(
            float(np.max(medians[1:] / medians[:-1])),
            float(np.max(sim_medians[1:] / sim_medians[:-1])),
            None,
            "the same for the median of sigma_t; simulated from the long run's medians",
        ),
        "top_1pct_share_of_sum": _entry(
            None,
            top_share,
            None,
            "share of the simulated sum of sigma_T from the largest 1% of experiments",
        ),
    }
    inside = a_lo <= c.article_long_mean <= a_hi
    if not shrinking:
        verdict = ClaimVerdict.CONTRADICTED
    elif inside:
        verdict = ClaimVerdict.SUPPORTED
    else:
        verdict = ClaimVerdict.QUALIFIED
    reading = (
        f"E[sigma_t] and the median of sigma_t {'decrease' if shrinking else 'do not decrease'} at every checkpoint "
        f"up to T = {T} ('keeps shrinking' {'holds' if shrinking else 'fails'}). At T = {T}, E[sigma_T] = {mean:.2e} "
        f"but the median is {median:.2e}: the average of {r} experiments is carried by a few survivors "
        f"(the top 1% hold {top_share:.0%} of the simulated sum), so it is a noisy, right-skewed number, "
        f"central 95% range {a_lo:.2e} to {a_hi:.2e} (median {a_med:.2e}; simulated {sim_mean:.2e}). "
        f"The article's {c.article_long_mean:g} is {'inside' if inside else 'outside'} that range, "
        f"but a typical experiment ends near {median:.1e}, {mean / median:.0f} times below the mean."
    )
    return verdict, reading, numbers_


def _claim_a5(c: ClaimsConfig, runs: _Runs):
    T = c.long_generations
    drift = log_sigma2_drift(c.n, c.ddof)
    law = LogVarianceLaw(c.n, T, c.ddof)
    p_coll = float(law.cdf(2 * math.log(c.collapse_level)))
    log_ratio = math.log1p(-(1 - c.ddof) / (c.n - c.ddof))  # log E[sigma_t^2]/E[sigma_{t-1}^2]
    m2_long = math.exp(T * log_ratio)
    m2_unbiased = math.exp(float(log_sigma_moment(T, c.n, 1.0, 1.0, 2.0)))
    traj = runs.long.trajectories
    final = traj.final_log_var
    sim_p, ci_p = _prop_ci(int(np.sum(final < 2 * math.log(c.collapse_level))), final.size)
    sim_slope, ci_slope = _mean_ci(final / T)
    numbers_ = {
        "log_sigma2_drift": _entry(
            drift,
            sim_slope,
            ci_slope,
            "E[log sigma_t^2 - log sigma_{t-1}^2] = psi((n-1)/2) + log 2 - log(n - ddof); simulated: mean of S_T/T",
        ),
        f"p_sigma_below_{c.collapse_level:g}_at_T{T}": _entry(
            p_coll, sim_p, ci_p, f"P(sigma_T < {c.collapse_level:g}) at T = {T}"
        ),
        f"sigma2_mean_at_T{T}": _entry(
            m2_long, None, None, f"E[sigma_T^2] = ((n-1)/(n-ddof))^T (ddof = {c.ddof:g})"
        ),
        f"sigma2_mean_at_T{T}_ddof1": _entry(
            m2_unbiased,
            None,
            None,
            "with ddof = 1, E[sigma_T^2] = sigma_0^2 for every T, yet sigma_T -> 0 a.s.",
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
        f"log sigma_t^2 is a random walk with i.i.d. steps of exact mean {drift:.6f} per generation "
        f"({'negative' if collapses else 'not negative'}), so by the strong law of large numbers "
        f"log sigma_T^2 / T -> {drift:.6f} and sigma_T -> 0 almost surely"
        f"{'' if collapses else ' fails'}: P(sigma_T < {c.collapse_level:g}) = {p_coll:.3f} at T = {T} "
        f"(simulated {sim_p:.3f}). With ddof = {c.ddof:g}, E[sigma_T^2] = {m2_long:.3g} "
        f"{'also tends to 0' if in_mean else 'does not tend to 0'}; note that with ddof = 1 the mean "
        f"E[sigma_T^2] stays exactly 1 for all T while sigma_T -> 0 almost surely (collapse of the typical "
        f"path, not of the mean)."
    )
    return verdict, reading, numbers_


def _claim_a6(c: ClaimsConfig, runs: _Runs):
    step = StepLaw(c.n, c.ddof)
    p_step = step.prob_below(0.0)
    law = LogVarianceLaw(c.n, c.generations, c.ddof)
    p_many = float(law.cdf(0.0))
    one = runs.one_step
    sim_step, ci_step = _prop_ci(int(np.sum(one < 0.0)), one.size)
    sim_many, ci_many = _prop_ci(int(np.sum(runs.article < 0.0)), runs.article.size)
    median_step = float(np.exp(0.5 * np.log(stats.chi2.median(c.n - 1) / (c.n - c.ddof))))
    numbers_ = {
        "p_one_step_below": _entry(
            p_step,
            sim_step,
            ci_step,
            f"P(sigma_1 < sigma_0) = P(chi2_{c.n - 1} < {c.n - c.ddof:g}); {one.size} one-step chains",
        ),
        "p_below_after_T": _entry(
            p_many, sim_many, ci_many, f"P(sigma_T < 1) at T = {c.generations}"
        ),
        "one_step_median_ratio": _entry(median_step, None, None, "median of sigma_1/sigma_0"),
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
    sim_excl = ci_step[0] > 0.5 or ci_step[1] < 0.5
    reading = (
        f"One refit gives sigma_1 < sigma_0 with probability exactly {p_step:.4f} "
        f"(simulated {sim_step:.4f}, CI {ci_step[0]:.4f}-{ci_step[1]:.4f}, "
        f"{'which excludes' if sim_excl else 'which includes'} 1/2): "
        + (
            "a std below 1 is indeed not more likely"
            if literal
            else f"strictly, below IS more likely, though within {EVEN_TOL} of even ('about as likely' holds)"
            if nearly
            else "below is clearly more likely"
        )
        + f". After {c.generations} steps P(sigma_T < 1) = {p_many:.3f} (simulated {sim_many:.3f}); "
        f"values below 1 {'dominate' if dominate else 'do not dominate'} (threshold {DOMINATE}). "
        f"The small per-step bias compounds because log sigma^2 drifts by {step.drift:.5f} per step."
    )
    return verdict, reading, numbers_


def _claim_a7(c: ClaimsConfig, runs: _Runs):
    b = 2 * math.log(1 / c.recovery_start)
    R = lundberg_exponent(c.n, c.ddof)
    rec = prob_ever_recovers(c.n, c.ddof, b, points_per_sd=c.recovery_points_per_sd)
    p_ever = rec.probability
    p_h = rec.within(c.recovery_horizon)
    first = runs.recovery
    hits = int(np.sum(first > 0))
    sim, ci = _prop_ci(hits, first.size)
    step = StepLaw(c.n, c.ddof)
    diffusion = math.exp(-2 * abs(step.drift) * b / step.var)
    horizon_g = min(c.generations, c.recovery_horizon)
    sim_g, ci_g = _prop_ci(int(np.sum((first > 0) & (first <= horizon_g))), first.size)
    numbers_ = {
        "p_ever_returns": _entry(
            p_ever,
            None,
            None,
            f"P(sigma ever climbs from {c.recovery_start:g} back to 1): exact step law propagated on a grid "
            f"with an absorbing barrier, h and 2h Richardson-extrapolated (estimated error "
            f"{rec.discretisation_error:.1e} before extrapolation, truncation <= {rec.upper - rec.lower:.1e})",
        ),
        f"p_returns_within_{c.recovery_horizon}": _entry(
            p_h,
            sim,
            ci,
            f"within {c.recovery_horizon} generations: a lower bound of 'ever'; simulated fraction of "
            f"{first.size} chains started at sigma = {c.recovery_start:g}, Clopper-Pearson CI",
        ),
        f"p_returns_within_{horizon_g}": _entry(
            rec.within(horizon_g), sim_g, ci_g, "the same within the article's horizon"
        ),
        "lundberg_bound": _entry(
            rec.lundberg_bound,
            None,
            None,
            f"exp(-R b), exact upper bound; R = {R:.6f}, b = 2 log(1/{c.recovery_start:g}) = {b:.4f}",
        ),
        "siegmund_approximation": _entry(
            rec.siegmund_approximation,
            None,
            None,
            "APPROXIMATION exp(-R (b + 0.5826 sd)), for comparison",
        ),
        "diffusion_approximation": _entry(
            diffusion, None, None, "APPROXIMATION exp(-2|mu| b / sigma^2), ignores the overshoot"
        ),
    }
    if not (p_ever == p_ever):  # NaN: not converged; fall back on the exact bounds
        p_ever = rec.lower
    if p_ever >= COMMON:
        verdict = ClaimVerdict.CONTRADICTED
    elif p_ever >= NEGLIGIBLE:
        verdict = ClaimVerdict.QUALIFIED
    else:
        verdict = ClaimVerdict.SUPPORTED
    reading = (
        f"A chain at sigma = {c.recovery_start:g} climbs back to 1 with probability {p_ever:.4f} "
        f"(Lundberg bound {rec.lundberg_bound:.4f}); {sim:.3f} of {first.size} simulated chains "
        f"(CI {ci[0]:.3f}-{ci[1]:.3f}) did so within {c.recovery_horizon} generations, against "
        f"{p_h:.4f} predicted. Recovery is "
        + (
            f"common (>= {COMMON}), so 'impossible' is contradicted"
            if p_ever >= COMMON
            else f"possible but rare (< {COMMON})"
            if p_ever >= NEGLIGIBLE
            else f"negligible (< {NEGLIGIBLE:g})"
        )
        + ": the walk drifts down only slowly relative to its noise, and collapse is a long-run "
        "almost-sure trend, not an irreversible step."
    )
    return verdict, reading, numbers_


def _claim_a8(c: ClaimsConfig, runs: _Runs):
    k = (c.n - 1) / 2
    drift = log_sigma2_drift(c.n, c.ddof)
    drift1 = log_sigma2_drift(c.n, 1.0)
    jensen = math.log(c.n - 1) - (float(special.digamma(k)) + math.log(2.0))  # log E[Q] - E[log Q]
    bias = math.log((c.n - 1) / (c.n - c.ddof))
    T = c.generations
    law1 = LogVarianceLaw(c.n, T, 1.0)
    med1 = math.exp(float(law1.ppf(0.5)))
    m2_1 = math.exp(float(log_sigma_moment(T, c.n, 1.0, 1.0, 2.0)))
    s2 = np.exp(runs.unbiased)
    sim_m2, ci_m2 = _mean_ci(s2)
    sim_med, ci_med = _quantile_ci(s2, 0.5)
    sim_drift, ci_drift = _mean_ci(runs.article / T)
    numbers_ = {
        "log_sigma2_drift": _entry(
            drift,
            sim_drift,
            ci_drift,
            f"ddof = {c.ddof:g}: -(Jensen gap) + log((n-1)/(n-ddof)); simulated mean S_T/T",
        ),
        "log_sigma2_drift_ddof1": _entry(
            drift1, None, None, "ddof = 1 (unbiased variance): minus the Jensen gap"
        ),
        "jensen_gap": _entry(
            jensen, None, None, "log E[Q] - E[log Q], Q ~ chi2_{n-1}: > 0 by Jensen"
        ),
        "bias_term": _entry(
            bias, None, None, f"log((n-1)/(n-ddof)), the downward bias of ddof = {c.ddof:g}"
        ),
        "sigma2_mean_ddof1": _entry(
            m2_1, sim_m2, ci_m2, f"E[sigma_T^2] at T = {T} with ddof = 1: a martingale, constant"
        ),
        "sigma2_median_ddof1": _entry(
            med1, sim_med, ci_med, f"median sigma_T^2 at T = {T} with ddof = 1"
        ),
    }
    walk = jensen > 0 and drift1 < 0
    if drift >= 0:
        verdict = ClaimVerdict.CONTRADICTED
    elif walk:
        verdict = ClaimVerdict.QUALIFIED
    else:  # the collapse would vanish with an unbiased fit: bias plus averaging explain it
        verdict = ClaimVerdict.SUPPORTED
    reading = (
        "The law of large numbers for the fits only says each sigma_t is close to sigma_{t-1} "
        "(error ~ 1/sqrt(2n)); it predicts no shrinkage. The mechanism is a multiplicative random "
        f"walk: log sigma^2 has i.i.d. steps of mean {drift:.6f} = -{jensen:.6f} (Jensen gap, "
        f"E log Q < log E Q) + {bias:.6f} (the ddof = {c.ddof:g} bias). Even with ddof = 1, where "
        f"E[sigma_T^2] = {m2_1:.3g} for every T, the median sigma_T^2 is {med1:.3f} at T = {T} (simulated "
        f"{sim_med:.3f}) and sigma_T -> 0 almost surely; a law of large numbers enters only as the strong law "
        "for the log-walk, log sigma_T^2 / T -> drift < 0."
    )
    return verdict, reading, numbers_


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
    config: ClaimsConfig, seed: int, workers: int | None = None
) -> tuple[ClaimResult, ...]:
    """Decide the article's claims A1..A8, in order.

    Parameters
    ----------
    config : ClaimsConfig
    seed : int
        Entropy of every stream (see the module docstring); ``>= 0``.
    workers : int or None
        Processes for the simulations; results do not depend on it.

    Returns
    -------
    tuple of ClaimResult
        ``seconds`` of each includes the shared simulations it was the first to need.
    """
    if not isinstance(config, ClaimsConfig):
        raise TypeError(f"`config` must be a ClaimsConfig; got {config!r}.")
    if not (_is_int(seed) and seed >= 0):
        raise ValueError(f"`seed` must be a whole number >= 0; got {seed!r}.")
    runs = _Runs(config, int(seed), workers)
    out = []
    for cid, evaluate in _EVALUATORS.items():
        start = time.perf_counter()
        verdict, reading, numbers_ = evaluate(config, runs)
        out.append(
            ClaimResult(
                id=cid,
                claim=CLAIMS[cid],
                verdict=verdict,
                reading=reading,
                numbers=numbers_,
                seconds=time.perf_counter() - start,
            )
        )
    return tuple(out)
