r"""Plan an audit before any data exist: how many chains and generations it needs to
catch a wrong sample size as a FAIL verdict.

The alternative is a chain whose true sample size is :math:`n' = n(1 \mp e)` (the same
ddof), audited as if it were n. Its steps of :math:`\log\sigma^2` follow
:math:`\log(\chi^2_{n'-1}/(n'-d))` (the step law of :class:`~collapsecheck.theory.StepLaw`,
for real :math:`n'` through the chi-square law with real degrees of freedom), and its
standardised mean increments :math:`\sqrt n(\mu_t - \mu_{t-1})/\sigma_{t-1}` are
:math:`N(0, n/n')`. The audit (:func:`collapsecheck.audit.audit`) runs m checks, m as its
``_candidates`` picks them for R chains, T generations, with or without means, and FAILs a
check at p < a = budget/m. Three of them see a wrong n:

* ``increment_gof``: one-sample KS of the N = R T pooled steps against the claimed law;
* ``mean_increment_gof`` (only when the chains record their means): KS of N standardised
  mean increments against N(0, 1), independent of the steps (Cochran);
* ``drift_consistency``: two-sided t-test (df R - 1) of the clustered OLS slope; the drift
  moves by :math:`\psi(\tfrac{n'-1}{2}) - \log(n'-d) - \psi(\tfrac{n-1}{2}) + \log(n-d)`.

Power of a KS test against a fixed alternative F' of the claimed F (both exact): the
empirical process of N draws from F' is :math:`\sqrt N (F_N - F') \approx B(F')`, a
Brownian bridge, so the test rejects when
:math:`\sup_u |B(u) + s\,\Delta(u)| > s\,c_N`, with :math:`\Delta(u) = u - F(F'^{-1}(u))`,
:math:`c_N` the exact critical value of the KS distance at level a (scipy's ``kstwo``, the
law scipy's ``kstest`` takes its p-value from), and Stephens' finite-N factor
:math:`s = \sqrt N + 0.12 + 0.11/\sqrt N` [1]_. The sup is taken over a grid of 2048
points and the bridge simulated with a fixed seed (common random numbers for every design
searched), so the power is monotone in N and its Monte Carlo standard error is binomial.
The drift test's power is the noncentral t's, with the exact slope SE under n'
(:func:`collapsecheck.stats.slope_variance_factor`). The checks are combined as
independent: exact for the mean increments against the steps, an approximation for the
drift against the step KS (the KS of a scale change is driven by the spread, not the
mean). ``log_var_gof`` also sees a wrong n, through the same accumulated drift as
``drift_consistency``, and is left out, as is ``replicate_independence`` (it standardises
by the data's own moments): the planned power is a slight underestimate of the audit's.

References
----------
.. [1] M. A. Stephens, "Use of the Kolmogorov-Smirnov, Cramer-von Mises and related
   statistics without extensive tables", J. R. Stat. Soc. B 32 (1970) 115-122.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import special
from scipy import stats as sps

from collapsecheck import stats
from collapsecheck.checks.collapse import regression_grid
from collapsecheck.families.gaussian.theory.steps import _digamma_minus_log

__all__ = ["DEFAULT_CHAINS", "PlanResult", "plan", "planned_power"]

#: Chains assumed when neither ``chains`` nor ``generations`` is given.
DEFAULT_CHAINS = 100
#: Fewest chains any audit check accepts.
MIN_CHAINS = 20
_PATHS = 4000
_GRID = 2048
_SEED = 20240611
_MAX_DESIGN = 10**13

METHOD = ("KS power: Brownian-bridge limit of the empirical process under the exact "
          f"alternative law, Stephens' finite-N factor, exact critical value (kstwo); sup over "
          f"{_GRID} grid points, {_PATHS} seeded bridge paths (common random numbers). Drift "
          "test: noncentral t with the exact slope SE. Checks combined as independent; "
          "log_var_gof left out (the planned power slightly underestimates the audit's).")


@dataclass(frozen=True)
class PlanResult:
    """A planned audit design and the power it is expected to have.

    Attributes
    ----------
    n, ddof, rel_error, power_target, budget, means : the inputs echoed.
    chains, generations : the design (R, T); ``increments`` is R T.
    chains_assumed : True when neither was given and R is :data:`DEFAULT_CHAINS`.
    power : expected probability of a FAIL verdict in the binding direction.
    power_smaller, power_larger : the same against n(1 - e) and n(1 + e).
    binding : 'smaller' or 'larger', the direction with the lower power.
    checks_run, alpha : m, the checks the audit runs at this design, and a = budget/m.
    check_powers : for each direction, each modelled check's power.
    method, mc_se : how the power was computed, and its Monte Carlo standard error.
    """

    n: int
    ddof: float
    rel_error: float
    power_target: float
    budget: float
    means: bool
    chains: int
    generations: int
    chains_assumed: bool
    power: float
    power_smaller: float
    power_larger: float
    binding: str
    checks_run: int
    alpha: float
    check_powers: dict[str, dict[str, float]] = field(default_factory=dict)
    method: str = METHOD
    mc_se: float = 0.0

    @property
    def increments(self) -> int:
        return self.chains * self.generations

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["increments"] = self.increments
        out["alternatives"] = {"smaller": self.n * (1 - self.rel_error),
                               "larger": self.n * (1 + self.rel_error)}
        return out


def _plan_iv(n, ddof, rel_error, power, chains, generations, budget) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise TypeError(f"`n` must be a whole number; got {n!r}.")
    if n < 2:
        raise ValueError(f"`n` must be at least 2; got {n}.")
    for name, v in (("ddof", ddof), ("rel_error", rel_error), ("power", power),
                    ("budget", budget)):
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise TypeError(f"`{name}` must be a number; got {v!r}.")
    if not 0 < rel_error < 1:
        raise ValueError(f"`rel_error` must lie in (0, 1); got {rel_error}.")
    if not 0 < power < 1:
        raise ValueError(f"`power` must lie in (0, 1); got {power}.")
    if not 0 < budget < 0.5:
        raise ValueError(f"`budget` must lie in (0, 0.5); got {budget}.")
    if not (math.isfinite(ddof) and 0 <= ddof < n):
        raise ValueError(f"`ddof` must satisfy 0 <= ddof < n; got ddof={ddof} with n={n}.")
    low = n * (1 - rel_error)
    if not low > max(1.0, ddof):
        raise ValueError(f"`rel_error` {rel_error} leaves n(1 - e) = {low:g}, which is not a "
                         f"sample size above max(1, ddof) = {max(1.0, ddof):g}; use a smaller "
                         "`rel_error`.")
    if chains is not None and generations is not None:
        raise ValueError("give `chains` or `generations`, not both: the plan chooses the other.")
    for name, v, least in (("chains", chains, MIN_CHAINS), ("generations", generations, 1)):
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, int | np.integer):
            raise TypeError(f"`{name}` must be a whole number; got {v!r}.")
        if v < least:
            raise ValueError(f"`{name}` must be at least {least}; got {v}.")


# ---------------------------------------------------------------------------------------
# The pieces of the power
# ---------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _bridges(stream: int) -> np.ndarray:
    """Seeded Brownian-bridge paths at the grid u_j = j/(K+1), j = 1..K (paths x K)."""
    rng = np.random.default_rng(np.random.SeedSequence(_SEED, spawn_key=(stream,)))
    h = 1.0 / (_GRID + 1)
    w = np.cumsum(rng.standard_normal((_PATHS, _GRID + 1)) * math.sqrt(h), axis=1)
    u = np.arange(1, _GRID + 1) * h
    return w[:, :-1] - u * w[:, -1:]


def _grid() -> np.ndarray:
    return np.arange(1, _GRID + 1) / (_GRID + 1)


@lru_cache(maxsize=64)
def _step_gap(n: int, ddof: float, n_true: float) -> np.ndarray:
    r""":math:`\Delta(u) = u - F(F'^{-1}(u))` for the steps: F the claimed step law at n, F'
    the true one at n' (chi-square with real df n' - 1, divisor n' - ddof)."""
    u = _grid()
    q = sps.chi2.ppf(u, n_true - 1)  # F'^{-1}(u) = log(q / (n' - d))
    return u - special.chdtr(n - 1, q * (n - ddof) / (n_true - ddof))


@lru_cache(maxsize=64)
def _mean_gap(n: int, n_true: float) -> np.ndarray:
    """The same for the standardised mean increments, N(0, n/n') against N(0, 1)."""
    u = _grid()
    return u - special.ndtr(special.ndtri(u) * math.sqrt(n / n_true))


def _ks_power(gap: np.ndarray, N: int, a: float, stream: int) -> float:
    c = float(sps.kstwo.isf(a, N))
    s = math.sqrt(N) + 0.12 + 0.11 / math.sqrt(N)
    paths, top = _bridges(stream), _bridge_sup(stream)
    # only where the drift term can lift some path over the line (the others cannot)
    cols = np.flatnonzero(s * np.abs(gap) + top >= s * c)
    if cols.size == 0:
        return 0.0
    sup = np.abs(paths[:, cols] + s * gap[cols]).max(axis=1)
    return float(np.mean(sup > s * c))


@lru_cache(maxsize=4)
def _bridge_sup(stream: int) -> float:
    """The largest |B| of any path at any grid point."""
    return float(np.abs(_bridges(stream)).max())


def _drift(n: float, ddof: float) -> float:
    """Exact drift per generation for a real sample size n (log_sigma2_drift's formula)."""
    return _digamma_minus_log((n - 1) / 2) + math.log1p(-(1 - ddof) / (n - ddof))


def _drift_power(n: int, ddof: float, n_true: float, R: int, T: int, a: float) -> float:
    se = math.sqrt(float(special.polygamma(1, (n_true - 1) / 2))
                   * stats.slope_variance_factor(regression_grid(T)) / R)
    ncp = (_drift(n_true, ddof) - _drift(n, ddof)) / se
    crit = float(sps.t.isf(a / 2, R - 1))
    return float(sps.nct.sf(crit, R - 1, ncp) + sps.nct.cdf(-crit, R - 1, ncp))


def _variance_power(n: int, n_true: float, N: int, a: float) -> float:
    """Power of the two-sided step-variance test (``StepVariance``: p = 2 min(cdf, sf) of
    its Pearson III law) when s^2 follows the same three-moment law at n'."""
    from collapsecheck.checks.theory import sample_variance_moments, step_variance_law

    null, _, _ = step_variance_law(n, N)
    lo, hi = float(null.ppf(a / 2)), float(null.isf(a / 2))
    kappa = tuple(float(special.polygamma(j - 1, (n_true - 1) / 2)) for j in (2, 3, 4, 5, 6))
    m, v, k3 = sample_variance_moments(kappa, N)
    sd = math.sqrt(v)
    alt = sps.pearson3(k3 / sd**3, loc=m, scale=sd)
    return float(alt.cdf(lo) + alt.sf(hi))


@lru_cache(maxsize=4096)
def _audit_checks(n: int, ddof: float, R: int, T: int, means: bool) -> tuple[str, ...]:
    from collapsecheck.audit import _candidates

    checks, _ = _candidates(n, ddof, R, T, means)
    return tuple(c.type for c in checks)


def planned_power(n: int, ddof: float, n_true: float, chains: int, generations: int, *,
                  budget: float = 1e-3, means: bool = False) -> tuple[float, float, dict]:
    """Expected probability that the audit of ``chains`` x ``generations`` of a chain with
    true sample size ``n_true``, claimed ``n``, ends FAIL; with its Monte Carlo standard
    error and each modelled check's power (see the module's Notes)."""
    R, T = int(chains), int(generations)
    run = _audit_checks(n, float(ddof), R, T, bool(means))
    a = budget / max(1, len(run))
    N = R * T
    parts: dict[str, float] = {"increment_gof": _ks_power(_step_gap(n, ddof, n_true), N, a, 0)}
    ses = {"increment_gof": parts["increment_gof"]}
    if "step_variance" in run:
        parts["step_variance"] = _variance_power(n, n_true, N, a)
    if "mean_increment_gof" in run:
        parts["mean_increment_gof"] = _ks_power(_mean_gap(n, n_true), N, a, 1)
        ses["mean_increment_gof"] = parts["mean_increment_gof"]
    if "drift_consistency" in run:
        parts["drift_consistency"] = _drift_power(n, ddof, n_true, R, T, a)
    # the step KS and the step-variance test read the same spread: counted as their max
    # (a lower bound of their union, close to it when the one dominates); the rest as
    # independent
    steps = max(parts["increment_gof"], parts.get("step_variance", 0.0))
    rest = [p for k, p in parts.items() if k not in ("increment_gof", "step_variance")]
    miss = (1 - steps) * math.prod(1 - p for p in rest)
    if parts.get("step_variance", 0.0) >= parts["increment_gof"]:
        ses.pop("increment_gof")  # the binding step part is exact
    # delta method: the KS parts are binomial estimates over _PATHS paths; the rest exact
    var = sum((miss / (1 - p)) ** 2 * p * (1 - p) / _PATHS if p < 1 else 0.0
              for p in ses.values())
    return 1 - miss, math.sqrt(var), parts


# ---------------------------------------------------------------------------------------
# The search
# ---------------------------------------------------------------------------------------


def _both(n, ddof, e, R, T, budget, means):
    lo = planned_power(n, ddof, n * (1 - e), R, T, budget=budget, means=means)
    hi = planned_power(n, ddof, n * (1 + e), R, T, budget=budget, means=means)
    return lo, hi


def _smallest(ok, least: int) -> int:
    """The smallest integer x >= least with ok(x), by doubling then bisection."""
    if ok(least):
        return least
    lo, hi = least, 2 * least
    while not ok(hi):
        lo, hi = hi, 2 * hi
        if hi > _MAX_DESIGN:
            raise ValueError("no design below 1e13 increments reaches the power; ask for a "
                             "larger `rel_error` or a smaller `power`.")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return hi


def plan(n: int, ddof: float = 0.0, rel_error: float = 0.05, power: float = 0.9,
         chains: int | None = None, generations: int | None = None, budget: float = 1e-3,
         *, means: bool = False) -> PlanResult:
    r"""The smallest audit design that FAILs a chain whose sample size is off by a relative
    ``rel_error`` (either way) with probability at least ``power``.

    Parameters
    ----------
    n, ddof : the sample size and ddof the audit will be told.
    rel_error : e in (0, 1); the true sample size is n(1 - e) or n(1 + e).
    power : the target probability of a FAIL verdict, in (0, 1), in both directions.
    chains, generations : fix one (R >= 20, or T >= 1) and the plan finds the smallest
        other; with neither, R = :data:`DEFAULT_CHAINS` (``chains_assumed`` says so).
    budget : the audit's false-alarm budget, split over the m checks it runs.
    means : whether the chains will record their means (then ``mean_increment_gof`` runs,
        adds power and takes a share of the budget).

    Returns
    -------
    PlanResult

    Notes
    -----
    See the module docstring for the power computation and its precision: the KS parts
    have a Monte Carlo standard error of at most 0.008 (4000 paths), reported as ``mc_se``.
    """
    _plan_iv(n, ddof, rel_error, power, chains, generations, budget)
    n, ddof = int(n), float(ddof)
    assumed = chains is None and generations is None
    if assumed:
        chains = DEFAULT_CHAINS

    def ok_design(R, T):
        lo, hi = _both(n, ddof, rel_error, R, T, budget, means)
        return min(lo[0], hi[0]) >= power

    if generations is None:
        R = int(chains)
        T = _smallest(lambda t: ok_design(R, t), 1)
    else:
        T = int(generations)
        R = _smallest(lambda r: ok_design(r, T), MIN_CHAINS)
    lo, hi = _both(n, ddof, rel_error, R, T, budget, means)
    binding = "smaller" if lo[0] <= hi[0] else "larger"
    b = lo if binding == "smaller" else hi
    m = len(_audit_checks(n, ddof, R, T, means))
    return PlanResult(n=n, ddof=ddof, rel_error=float(rel_error), power_target=float(power),
                      budget=float(budget), means=bool(means), chains=R, generations=T,
                      chains_assumed=assumed, power=b[0], power_smaller=lo[0],
                      power_larger=hi[0], binding=binding, checks_run=m, alpha=budget / m,
                      check_powers={"smaller": lo[2], "larger": hi[2]}, mc_se=b[1])
