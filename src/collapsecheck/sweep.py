r"""A scaling-law sweep: the drift of :math:`\log\sigma^2` measured at several n, beside
its exact value, and the fitted exponent of :math:`|\text{drift}| \propto n^b` tested
against the exact exponent of the same design.

At each sample size :math:`n_i` the chain is simulated on its own stream (``derived_seed(
seed, (n_i,))``) and its drift :math:`\hat d_i` is the cluster-robust pooled OLS slope of
:math:`\log\sigma_t^2` on t (:func:`collapsecheck.stats.drift_regression`, the statistic of
the ``drift_consistency`` check), with standard error :math:`s_i`. Two tests follow.

* **Points**: at each n, a two-sided t-test (``df = replicates - 1``) of
  :math:`d_i = d_i^{\text{exact}}` (:func:`~collapsecheck.theory.log_sigma2_drift`), Holm's
  step-down over the n's.
* **Exponent**: :math:`y_i = \log|\hat d_i|` on :math:`x_i = \log n_i` by ordinary least
  squares, a fixed linear combination :math:`\hat b = \sum_i c_i y_i` with
  :math:`c_i = (x_i - \bar x) / \sum_j (x_j - \bar x)^2`. By the delta method
  :math:`\mathrm{Var}(y_i) \approx s_i^2 / \hat d_i^2`, so its standard error is
  :math:`\sqrt{\sum_i c_i^2 s_i^2 / \hat d_i^2}` (each point's measured SE propagated),
  and it is tested two-sided by a z-test against the **exact exponent of the same design**,
  :math:`b^{\text{exact}} = \sum_i c_i \log|d_i^{\text{exact}}|`, the least-squares slope
  of the exact drifts over the same n: not against -1, the large-n limit, which the exact
  digamma drift only approaches (over n = 10..1000 with ddof 0 it is -1.019). A fit
  weighted by the design's inverse variances would be more efficient, but it estimates a
  different number (-1.037 over the same n: its weights favour small n, where the digamma
  drift bends most); ``exact_exponent(..., weighted=True)`` gives it for comparison.

Levels: the family's ``alpha`` (default 1e-3) is split, alpha/2 for the exponent and
alpha/2 for Holm over the points, so a correct simulator fails the sweep with probability at
most alpha. Where the exact drift is too small for the design to measure
(:math:`|d^{\text{exact}}| / \text{SE} <` :data:`MIN_SIGNAL` at some n, the SE being the
design's exact one: ddof = 2, whose drift is about :math:`+1/(6n^2)`), the log of a
measured drift is meaningless: the exponent is not fitted (``estimate`` None, verdict
``UNMEASURABLE`` with a note) and the points get the whole alpha.

References
----------
.. [1] A. C. Cameron, D. L. Miller, "A practitioner's guide to cluster-robust inference",
   J. Human Resources 50 (2015) 317-372.
.. [2] S. Holm, "A simple sequentially rejective multiple test procedure", Scand. J.
   Statist. 6 (1979) 65-70.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special
from scipy import stats as sps

from collapsecheck import stats
from collapsecheck.checks.collapse import regression_grid
from collapsecheck.experiment import Experiment
from collapsecheck.seeds import derived_seed
from collapsecheck.theory import log_sigma2_drift, log_sigma2_step_var

__all__ = [
    "DEFAULT_ALPHA",
    "MIN_REPLICATES",
    "MIN_SIGNAL",
    "SWEEP_SCHEMA_VERSION",
    "ExponentResult",
    "SweepPoint",
    "SweepResult",
    "design_drift_se",
    "exact_exponent",
    "sweep",
    "sweep_cost",
]

#: Version of the shape of :meth:`SweepResult.to_dict` (``sweep.json``).
SWEEP_SCHEMA_VERSION = "1.0"
#: Family-wise false-alarm level of a sweep (exponent and points together).
DEFAULT_ALPHA = 1e-3
#: The exponent is fitted only where every n has |exact drift| / design SE at least this.
MIN_SIGNAL = 5.0
#: Fewest replicates for a cluster-robust SE (as the drift checks).
MIN_REPLICATES = 20
#: Fewest distinct sample sizes for a slope with a residual.
MIN_POINTS = 3

_ENGINES = ("samples", "sufficient")

Simulator = Callable[[Experiment, Sequence[int]], object]


# ---------------------------------------------------------------------------------------
# Exact quantities of a design
# ---------------------------------------------------------------------------------------


def design_drift_se(n: int, generations: int, replicates: int) -> float:
    r"""Exact SE of the pooled OLS drift at one n: :math:`\sqrt{\psi'((n-1)/2)\,F/R}`,
    F the slope's variance factor on the sweep's grid of recorded generations
    (:func:`collapsecheck.stats.slope_variance_factor`)."""
    factor = stats.slope_variance_factor(regression_grid(generations))
    return math.sqrt(log_sigma2_step_var(n) * factor / replicates)


def _design_weights(ns: Sequence[int], ddof: float) -> np.ndarray:
    """Inverse delta-method variances of log|drift| up to a common factor."""
    return np.array([log_sigma2_drift(n, ddof) ** 2 / log_sigma2_step_var(n) for n in ns])


def _coefficients(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The slope of weighted least squares as a linear combination of the responses."""
    xc = x - (w @ x) / w.sum()
    return w * xc / (w @ (xc * xc))


def exact_exponent(ns: Sequence[int], ddof: float = 0.0, *, weighted: bool = False) -> float:
    r"""Least-squares slope of :math:`\log|d^{\text{exact}}(n)|` on :math:`\log n` over
    ``ns``: the exponent a sweep's fit converges to (ordinary least squares), or with
    ``weighted=True`` the slope weighted by the design's inverse delta-method variances.

    Examples
    --------
    >>> round(exact_exponent([10, 30, 100, 300, 1000]), 3)
    -1.019
    >>> round(exact_exponent([10, 30, 100, 300, 1000], weighted=True), 3)
    -1.037
    """
    ns = [int(n) for n in ns]
    d = np.array([log_sigma2_drift(n, ddof) for n in ns])
    if np.any(d == 0):
        raise ValueError(f"the exact drift is 0 at some n of {ns} (ddof={ddof:g}); it has no "
                         "logarithm.")
    x = np.log(np.array(ns, dtype=float))
    w = _design_weights(ns, ddof) if weighted else np.ones(len(ns))
    return float(_coefficients(x, w) @ np.log(np.abs(d)))


def _local_exponent(n: int, ddof: float) -> float:
    r""":math:`d\log|d(n)|/d\log n = n\,d'(n)/d(n)` of the exact drift, with
    :math:`d'(n) = \psi'((n-1)/2)/2 - 1/(n - \text{ddof})` (n as a real)."""
    d = log_sigma2_drift(n, ddof)
    if d == 0:
        return math.nan
    slope = float(special.polygamma(1, (n - 1) / 2)) / 2 - 1 / (n - ddof)
    return n * slope / d


# ---------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------


def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


@dataclass(frozen=True)
class SweepPoint:
    """The drift measured at one n beside its exact value.

    ``statistic`` and ``pvalue``: two-sided t-test (``df``) of drift = ``exact_drift``;
    ``verdict`` after Holm over the sweep's points at level ``alpha``.
    """

    n: int
    seed: int
    exact_drift: float
    exact_se: float
    estimate: float
    se: float
    df: int
    statistic: float
    pvalue: float
    alpha: float
    verdict: str
    #: The large-n approximation -(2 - ddof)/n, for comparison (not exact).
    large_n_drift: float = math.nan
    #: d log|exact drift| / d log n at this n: -1 only in the large-n limit.
    local_exponent: float = math.nan

    @property
    def signal(self) -> float:
        """|exact drift| / the design's exact SE: how well this design sees the drift."""
        return abs(self.exact_drift) / self.exact_se

    def confidence_interval(self, confidence_level: float = 0.95) -> stats.ConfidenceInterval:
        if not (math.isfinite(self.se) and self.se > 0):
            return stats.ConfidenceInterval(math.nan, math.nan)
        q = float(sps.t.ppf(1 - (1 - confidence_level) / 2, self.df))
        return stats.ConfidenceInterval(self.estimate - q * self.se, self.estimate + q * self.se)

    def to_dict(self) -> dict:
        ci = self.confidence_interval()
        return {
            "n": self.n,
            "seed": self.seed,
            "exact_drift": self.exact_drift,
            "large_n_drift": self.large_n_drift,
            "local_exponent": _finite(self.local_exponent),
            "exact_se": self.exact_se,
            "signal": self.signal,
            "drift": {"estimate": _finite(self.estimate), "se": _finite(self.se),
                      "ci95": [_finite(ci.low), _finite(ci.high)]},
            "statistic": _finite(self.statistic),
            "pvalue": _finite(self.pvalue),
            "alpha": self.alpha,
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class ExponentResult:
    r"""The fitted exponent b of :math:`|\text{drift}| \propto n^b` and its test.

    H0: b equals ``exact``, the exact exponent of the same design (the same least-squares fit
    of the exact drifts); two-sided z-test, ``statistic = (estimate - exact) / se``, rejected
    when ``pvalue < alpha`` (``verdict`` FAIL). ``estimate`` is NaN and ``verdict``
    ``UNMEASURABLE`` when the design cannot measure the drift at every n (``note`` says why).
    """

    estimate: float
    se: float
    statistic: float
    pvalue: float
    exact: float
    exact_weighted: float
    intercept: float
    alpha: float
    verdict: str
    note: str | None = None
    asymptotic: float | None = -1.0

    def confidence_interval(self, confidence_level: float = 0.95) -> stats.ConfidenceInterval:
        if not (math.isfinite(self.se) and self.se > 0 and math.isfinite(self.estimate)):
            return stats.ConfidenceInterval(math.nan, math.nan)
        q = float(sps.norm.ppf(1 - (1 - confidence_level) / 2))
        return stats.ConfidenceInterval(self.estimate - q * self.se, self.estimate + q * self.se)

    @property
    def measured(self) -> bool:
        return self.verdict != "UNMEASURABLE"

    def to_dict(self) -> dict:
        ci = self.confidence_interval()
        measured = self.measured
        return {
            "estimate": _finite(self.estimate),
            "se": _finite(self.se),
            "ci95": [_finite(ci.low), _finite(ci.high)] if measured else None,
            "exact": _finite(self.exact),
            "exact_weighted": _finite(self.exact_weighted),
            "asymptotic": self.asymptotic,
            "intercept": _finite(self.intercept),
            "statistic": _finite(self.statistic),
            "pvalue": _finite(self.pvalue),
            "alpha": self.alpha,
            "verdict": self.verdict,
            "test": ("two-sided z-test of the least-squares slope of log|drift| on log n "
                     "(delta-method SEs) against the exact exponent of the same design (the "
                     "same fit of the exact drifts)" if measured else None),
            "note": self.note,
        }


@dataclass(frozen=True)
class SweepResult:
    """A sweep: its design, one :class:`SweepPoint` per n and the :class:`ExponentResult`.

    ``verdict`` is FAIL when the exponent test or any point test rejects, else PASS.
    """

    ns: tuple[int, ...]
    ddof: float
    generations: int
    replicates: int
    engine: str
    seed: int
    alpha: float
    points: tuple[SweepPoint, ...]
    exponent: ExponentResult
    simulator: str | None = None
    seconds: float | None = None

    @property
    def verdict(self) -> str:
        failed = self.exponent.verdict == "FAIL" or any(p.verdict == "FAIL" for p in self.points)
        return "FAIL" if failed else "PASS"

    @property
    def failed(self) -> bool:
        return self.verdict == "FAIL"

    @property
    def min_signal(self) -> float:
        """:data:`MIN_SIGNAL`: the |exact drift| / design SE every n needs for the
        exponent to be fitted."""
        return MIN_SIGNAL

    def exact_drift(self, n: int) -> float:
        r"""The exact drift of :math:`\log\sigma^2` per generation at sample size ``n``
        (any n >= 2, not only the sweep's) for this sweep's ddof,
        :math:`\psi((n-1)/2) + \log 2 - \log(n - \text{ddof})`
        (:func:`~collapsecheck.theory.log_sigma2_drift`). The report writers draw the
        exact curve from it, so they need no family's theory."""
        return log_sigma2_drift(n, self.ddof)

    @property
    def spec(self) -> dict:
        return {"ns": list(self.ns), "ddof": self.ddof, "generations": self.generations,
                "replicates": self.replicates, "engine": self.engine, "mu0": 0.0,
                "sigma0": 1.0, "alpha": self.alpha,
                "recorded_generations": int(regression_grid(self.generations).size),
                "simulator": self.simulator}

    def to_dict(self) -> dict:
        from collapsecheck.records import environment

        return {
            "schema_version": SWEEP_SCHEMA_VERSION,
            "kind": "sweep",
            "verdict": self.verdict,
            "seed": self.seed,
            "spec": self.spec,
            "alpha": self.alpha,
            "points": [p.to_dict() for p in self.points],
            "exponent": self.exponent.to_dict(),
            "environment": environment(),
            "seconds": self.seconds,
        }


# ---------------------------------------------------------------------------------------
# Validation and cost
# ---------------------------------------------------------------------------------------


def _is_int(x) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _sweep_iv(ns, ddof, generations, replicates, seed, engine, workers, alpha, simulator
              ) -> tuple[int, ...]:
    if isinstance(ns, str | bytes) or not isinstance(ns, Sequence):
        raise TypeError(f"`ns` must be a sequence of whole numbers; got {ns!r}.")
    for n in ns:
        if not _is_int(n):
            raise TypeError(f"`ns` must hold whole numbers; got {n!r}.")
    ns = tuple(int(n) for n in ns)
    seen = set()
    for n in ns:
        if n in seen:
            raise ValueError(f"`ns` must not repeat a sample size; got {n} twice in {list(ns)}.")
        seen.add(n)
    if len(ns) < MIN_POINTS:
        raise ValueError(f"`ns` needs at least {MIN_POINTS} distinct sample sizes to fit a "
                         f"scaling law; got {list(ns)}.")
    small = [n for n in ns if n < 2]
    if small:
        raise ValueError(f"every n in `ns` must be at least 2; got {small[0]}.")
    if not (isinstance(ddof, numbers.Real) and not isinstance(ddof, bool)):
        raise TypeError(f"`ddof` must be a real number; got {ddof!r}.")
    if not (math.isfinite(ddof) and 0 <= ddof < min(ns)):
        raise ValueError(f"`ddof` must satisfy 0 <= ddof < min(ns) = {min(ns)}; got {ddof}.")
    for name, value, low in (("generations", generations, 2),
                             ("replicates", replicates, MIN_REPLICATES)):
        if not _is_int(value):
            raise TypeError(f"`{name}` must be a whole number; got {value!r}.")
        if value < low:
            why = "for a slope" if name == "generations" else "for cluster-robust SEs"
            raise ValueError(f"`{name}` must be at least {low} {why}; got {value}.")
    if seed is not None and not (_is_int(seed) and seed >= 0):
        raise ValueError(f"`seed` must be a whole number >= 0; got {seed!r}.")
    if engine not in _ENGINES:
        raise ValueError(f"`engine` must be one of {', '.join(_ENGINES)}; got {engine!r}.")
    if workers is not None and not (_is_int(workers) and workers >= 0):
        raise ValueError(f"`workers` must be a whole number >= 0 (0 = automatic); got "
                         f"{workers!r}.")
    if not (isinstance(alpha, numbers.Real) and 0 < alpha < 0.5):
        raise ValueError(f"`alpha` must lie in (0, 0.5); got {alpha!r}.")
    if simulator is not None and not callable(simulator):
        raise TypeError(f"`simulator` must be callable (experiment, record) -> Trajectories; "
                        f"got {simulator!r}.")
    return ns


def sweep_cost(ns: Sequence[int], generations: int, replicates: int, engine: str = "sufficient",
               cores: int | None = None):
    """Estimated :class:`collapsecheck.costs.Cost` of :func:`sweep`: one engine run per n,
    one after another (times add; memory is the largest run's)."""
    from collapsecheck.costs import Cost, simulation_cost

    recorded = int(regression_grid(generations).size)
    total = Cost(0.0, 0.0, 0.0)
    for n in ns:
        total = total.then(simulation_cost(engine, int(n), generations, replicates, recorded,
                                           cores))
    return total


# ---------------------------------------------------------------------------------------
# The sweep
# ---------------------------------------------------------------------------------------


def _holm(pvalues: Sequence[float], alpha: float) -> list[bool]:
    """Holm's step-down rejections (NaN p-values never reject, and count as tests)."""
    order = sorted(range(len(pvalues)), key=lambda i: (math.isnan(pvalues[i]), pvalues[i]))
    m = len(pvalues)
    reject = [False] * m
    for rank, i in enumerate(order):
        p = pvalues[i]
        if math.isnan(p) or p > alpha / (m - rank):
            break
        reject[i] = True
    return reject


def _exponent(ns, ddof, points_raw, exact_se, alpha) -> ExponentResult:
    exact_d = np.array([log_sigma2_drift(n, ddof) for n in ns])
    nonzero = bool(np.all(exact_d != 0))
    exact_unw = exact_exponent(ns, ddof, weighted=True) if nonzero else math.nan
    asymptotic = -1.0 if ddof < 2 else None
    signal = np.abs(exact_d) / np.asarray(exact_se)
    if not np.all(signal >= MIN_SIGNAL):
        i = int(np.argmin(signal))
        note = (f"the exact drift is too small for this design to measure: at n={ns[i]} it is "
                f"{exact_d[i]:+.3g} per generation, {signal[i]:.2g} times the drift's SE "
                f"({exact_se[i]:.2g}; at least {MIN_SIGNAL:g} needed at every n), so log|drift| "
                "is not estimable and no exponent is fitted; more --replicates or "
                "--generations, or larger drifts (a smaller ddof), would measure it.")
        if ddof == 2:
            note += " With ddof = 2 the drift is about +1/(6 n^2) and has no -1 exponent."
        return ExponentResult(math.nan, math.nan, math.nan, math.nan,
                              exact_exponent(ns, ddof) if nonzero else math.nan,
                              exact_unw,
                              math.nan, alpha, "UNMEASURABLE", note, asymptotic)
    x = np.log(np.array(ns, dtype=float))
    w = np.ones(len(ns))  # ordinary least squares: the exact exponent the issue names
    c = _coefficients(x, w)
    exact = float(c @ np.log(np.abs(exact_d)))
    est_d = np.array([p[0] for p in points_raw])
    se_d = np.array([p[1] for p in points_raw])
    notes = []
    if np.any(np.sign(exact_d) != np.sign(exact_d[0])):
        notes.append("the exact drift changes sign across these n: |drift| is not a power "
                     "law here, though the fit is still tested against the exact one")
    if not (np.all(np.isfinite(est_d)) and np.all(est_d != 0) and np.all(np.isfinite(se_d))):
        note = "a measured drift is 0 or not finite: its logarithm does not exist"
        return ExponentResult(math.nan, math.nan, math.nan, 0.0, exact, exact_unw, math.nan,
                              alpha, "FAIL", note, asymptotic)
    y = np.log(np.abs(est_d))
    rel = se_d / np.abs(est_d)
    weak = [n for n, r in zip(ns, rel, strict=True) if r > 1 / MIN_SIGNAL]
    if weak:
        notes.append(f"at n={weak} the measured drift is within {MIN_SIGNAL:g} SEs of 0, where "
                     "the delta method is rough")
    b = float(c @ y)
    se = math.sqrt(float((c * c) @ (rel * rel)))
    z = stats.z_test(b, se, null=exact)
    intercept = float(w @ (y - b * x) / w.sum())
    return ExponentResult(b, se, z.statistic, z.pvalue, exact, exact_unw, intercept, alpha,
                          "FAIL" if z.pvalue < alpha else "PASS",
                          "; ".join(notes) + "." if notes else None, asymptotic)


def sweep(ns: Sequence[int], ddof: float = 0.0, generations: int = 100,
          replicates: int = 1000, seed: int | None = None, engine: str = "sufficient",
          workers: int | None = None, *, alpha: float = DEFAULT_ALPHA,
          simulator: Simulator | None = None,
          progress: Callable[[int, int], None] | None = None) -> SweepResult:
    r"""Measure the drift of :math:`\log\sigma^2` at each n of ``ns`` and test its scaling.

    H0 (points): at each n the drift equals the exact digamma drift. H0 (exponent): the
    weighted least-squares exponent of :math:`|\text{drift}|` on n equals the exact
    exponent of the same design. See the module's notes for the statistics.

    Parameters
    ----------
    ns : sequence of int
        At least three distinct sample sizes, each >= 2, none repeated.
    ddof : float
        The variance divisor is n - ddof; ``0 <= ddof < min(ns)``.
    generations : int
        Refits per chain (>= 2); the slope uses at most 201 of them, evenly spread.
    replicates : int
        Chains per n (>= 20).
    seed : int or None
        Entropy of the sweep; n's stream is ``derived_seed(seed, (n,))``, so each n's
        numbers do not depend on the other n's. None draws fresh entropy and records it.
    engine : {'sufficient', 'samples'}
    workers : int or None
        Processes per run (None or 0: automatic); results do not depend on it.
    alpha : float
        Family-wise level in (0, 0.5): alpha/2 for the exponent, alpha/2 for Holm over the
        points (the whole alpha for the points when the exponent is unmeasurable).
    simulator : callable, optional
        ``(experiment, record) -> Trajectories`` in place of the built-in engine (as
        ``validate --simulator``): a researcher's own simulator, or a mutant.
    progress : callable(done, total), optional
        Called after each n.

    Returns
    -------
    SweepResult

    Examples
    --------
    >>> r = sweep([10, 30, 100, 300, 1000], seed=1, replicates=200)  # doctest: +SKIP
    >>> r.exponent.verdict, r.verdict  # doctest: +SKIP
    ('PASS', 'PASS')
    """
    import time

    ns = _sweep_iv(ns, ddof, generations, replicates, seed, engine, workers, alpha, simulator)
    ddof = float(ddof)
    alpha = float(alpha)
    if seed is None:
        seed = int(np.random.SeedSequence().entropy)
    experiments = [Experiment(n=n, generations=generations, replicates=replicates, ddof=ddof,
                              seed=derived_seed(seed, (n,))) for n in ns]
    from collapsecheck.engines import _overflow_iv, simulate

    for e in experiments:  # refuse the whole sweep before anything runs
        _overflow_iv(e)
    grid = regression_grid(generations)
    exact_d = [log_sigma2_drift(n, ddof) for n in ns]
    exact_se = [design_drift_se(n, generations, replicates) for n in ns]
    measurable = all(abs(d) / s >= MIN_SIGNAL for d, s in zip(exact_d, exact_se, strict=True))
    alpha_exponent = alpha / 2
    alpha_points = alpha / 2 if measurable else alpha
    start = time.perf_counter()
    raw = []
    for i, e in enumerate(experiments):
        if simulator is None:
            traj = simulate(e, engine=engine, workers=workers, record=grid).trajectories
        else:
            traj = simulator(e, grid.tolist())
        res = stats.drift_regression(traj.generations, traj.log_var, null=exact_d[i])
        raw.append((res.estimate, res.se, res.df, res.statistic, res.pvalue))
        if progress is not None:
            progress(i + 1, len(experiments))
    seconds = time.perf_counter() - start
    reject = _holm([r[4] for r in raw], alpha_points)
    points = tuple(
        SweepPoint(n=n, seed=e.seed, exact_drift=exact_d[i], exact_se=exact_se[i],
                   estimate=raw[i][0], se=raw[i][1], df=raw[i][2], statistic=raw[i][3],
                   pvalue=raw[i][4], alpha=alpha_points,
                   verdict="FAIL" if reject[i] or math.isnan(raw[i][4]) else "PASS",
                   large_n_drift=-(2 - ddof) / n, local_exponent=_local_exponent(n, ddof))
        for i, (n, e) in enumerate(zip(ns, experiments, strict=True)))
    exponent = _exponent(ns, ddof, raw, exact_se, alpha_exponent)
    name = None if simulator is None else getattr(simulator, "__qualname__", repr(simulator))
    return SweepResult(ns, ddof, generations, replicates, engine, int(seed), alpha, points,
                       exponent, name, seconds)
