r"""Exact theory of the replace chain whose sample size grows: :math:`n_t = \lceil n t^P\rceil`.

Generation :math:`t \ge 1` draws :math:`n_t` values (:func:`collapsecheck.experiment.n_at`)
from :math:`N(\mu_{t-1}, \tau^2\sigma_{t-1}^2)` (temperature :math:`\tau`, 1 by default) and
refits :math:`\mu_t = \bar x`, :math:`\sigma_t^2 = \sum_i (x_i - \bar x)^2/(n_t - d)`. By
Cochran's theorem :math:`\log\sigma^2` is still a random walk, now with independent but not
identically distributed steps

.. math::

    X_t = \log Q_t - \log(n_t - d) + 2\log\tau, \qquad Q_t \sim \chi^2_{n_t - 1},
    \qquad S_T = \log\frac{\sigma_T^2}{\sigma_0^2} = \sum_{t=1}^T X_t .

With :math:`k_t = (n_t - 1)/2`, everything below is exact:

* :math:`E[S_T] = \sum_t [\psi(k_t) + \log 2 - \log(n_t - d)] + 2T\log\tau`,
  :math:`\mathrm{Var}(S_T) = \sum_t \psi'(k_t)`, :math:`\kappa_j(S_T) = \sum_t
  \psi^{(j-1)}(k_t)` (each term by the cancellation-free helpers of :mod:`.steps`);
* :math:`E[\sigma_T^p] = \sigma_0^p \tau^{pT} \prod_t (2/(n_t-d))^{p/2}
  \Gamma(k_t + p/2)/\Gamma(k_t)`, :math:`p > -(n-1)` (in logs);
* :math:`\mathrm{Var}(\mu_T) = \tau^2 \sum_{t=1}^T E[\sigma_{t-1}^2]/n_t` with
  :math:`E[\sigma_t^2] = \sigma_0^2 \prod_{s \le t} \tau^2 (n_s - 1)/(n_s - d)` (tower
  property: the increments :math:`\mu_t - \mu_{t-1}` are uncorrelated, with conditional
  variance :math:`\tau^2\sigma_{t-1}^2/n_t`);
* the law of :math:`S_T`: characteristic function :math:`\prod_t \varphi_{X_t}(u)`, the
  product grouped by the distinct values of :math:`n_t` (a value taken m times contributes
  its step's CF to the power m), inverted by Gil-Pelaez exactly as
  :class:`~.replace.LogVarianceLaw` does (this class is one, with another CF).

Whether :math:`\sigma_T` settles is :func:`converges`; the law of the limit is
:func:`growth_limit`.

References
----------
.. [1] W. G. Cochran, "The distribution of quadratic forms in a normal system",
   Proc. Cambridge Philos. Soc. 30 (1934) 178-191.
.. [2] J. Gil-Pelaez, "Note on the inversion theorem", Biometrika 38 (1951) 481-482.
.. [3] NIST DLMF, 5.11 (asymptotics of psi and of gamma ratios), 5.15 (polygamma bounds),
   25.11 (Hurwitz zeta).
.. [4] W. Feller, *An Introduction to Probability Theory and Its Applications*, vol. 2,
   2nd ed., Wiley 1971, IX.9 (Kolmogorov's three-series theorem).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import special

from collapsecheck.experiment import MAX_N, n_at, n_schedule
from collapsecheck.families.gaussian.theory.prediction import RegimePrediction
from collapsecheck.families.gaussian.theory.replace import (
    _CF_FLOOR,
    _PANEL_NODES,
    _PANEL_WIDTH,
    QUANTILE_LEVELS,
    LogVarianceLaw,
    StepLaw,
    TabulatedCDF,
    _level_key,
)
from collapsecheck.families.gaussian.theory.steps import (
    _PSI_SERIES_MIN_K,
    _SERIES_TERMS,
    _centered_log_cf,
)

__all__ = ["INVERSION_BUDGET", "MAX_GROUPS", "GrowthLaw", "converges", "growth_limit", "predict"]

#: Most special-function evaluations (complex log-gammas and Hurwitz zetas) that the
#: inversion of one :class:`GrowthLaw` may cost; beyond it its quantiles are not computed.
INVERSION_BUDGET = 50_000_000

#: Most distinct sample sizes :class:`GrowthLaw` sums over (its memory is linear in them).
MAX_GROUPS = 2**24
_CHUNK = 2**20  # generations per chunk when grouping the sample sizes
_RATIO_SERIES_MIN_K = 30.0  # as replace._log_gamma_ratio_excess
_RATIO_SERIES_TERMS = 24
_SERIES_J = np.arange(2, _SERIES_TERMS + 1)
_LIMIT_MIN_CUTOFF = 2**10
_LIMIT_MAX_CUTOFF = 2**20
_LIMIT_TARGET = 1e-15  # the cutoff grows until the tail bound (log scale) falls below this
_EPS = 2.0**-52


# ---------------------------------------------------------------------------------------
# Sample sizes and vectorised step quantities
# ---------------------------------------------------------------------------------------


def _digamma_minus_log(k: np.ndarray) -> np.ndarray:
    """:func:`.steps._digamma_minus_log` on an array (same formulas and branch point)."""
    k = np.asarray(k, dtype=float)
    out = np.empty(k.shape)
    lo = k < _PSI_SERIES_MIN_K
    out[lo] = special.digamma(k[lo]) - np.log(k[lo])
    kk = k[~lo]
    bern = special.bernoulli(16)
    inv2 = 1.0 / (kk * kk)
    total, power = np.zeros(kk.shape), np.ones(kk.shape)
    for j in range(1, 9):
        power = power * inv2
        total = total + bern[2 * j] / (2 * j) * power
    out[~lo] = -0.5 / kk - total
    return out


def _log_gamma_ratio_excess(k: np.ndarray, a: float) -> np.ndarray:
    r""":math:`\log\Gamma(k + a) - \log\Gamma(k) - a\log k` on an array of k: the
    Bernoulli-polynomial series of :func:`.replace._log_gamma_ratio_excess` (same terms,
    same branch point k >= 30, |a| <= 8), vectorised and summed by Horner's rule."""
    k = np.asarray(k, dtype=float)
    lo = (k < _RATIO_SERIES_MIN_K) | (abs(a) > 8)
    out = np.empty(k.shape)
    out[lo] = special.gammaln(k[lo] + a) - special.gammaln(k[lo]) - a * np.log(k[lo])
    inv = 1.0 / k[~lo]
    bern = special.bernoulli(_RATIO_SERIES_TERMS)
    total = np.zeros(inv.shape)
    for m in range(_RATIO_SERIES_TERMS, 1, -1):  # Horner in 1/k
        bm_diff = sum(special.comb(m, i, exact=False) * bern[i] * a ** (m - i) for i in range(m))
        total = (total + (-1) ** m * bm_diff / (m * (m - 1))) * inv
    out[~lo] = total
    return out


def _drift(sizes: np.ndarray, ddof: float) -> np.ndarray:
    """E[X] of the base steps (no temperature) at each sample size: as
    :func:`.steps.log_sigma2_drift`."""
    return _digamma_minus_log((sizes - 1) / 2) + np.log1p(-(1 - ddof) / (sizes - ddof))


def _log_ratio(sizes: np.ndarray, ddof: float) -> np.ndarray:
    """log((n_t - 1)/(n_t - d)) = log E[sigma_t^2/sigma_{t-1}^2] at temperature 1."""
    return np.log1p(-(1 - ddof) / (sizes - ddof))


def _log_geometric_sum(log_r: np.ndarray, terms: np.ndarray) -> np.ndarray:
    """:func:`.steps._log_geometric_sum` on arrays (``terms >= 1``)."""
    log_r, terms = np.broadcast_arrays(np.asarray(log_r, float), np.asarray(terms, float))
    out = np.log(terms)  # log_r == 0
    x = terms * log_r
    neg, pos = log_r < 0, log_r > 0
    out[neg] = np.log(-np.expm1(x[neg])) - np.log(-np.expm1(log_r[neg]))
    out[pos] = x[pos] + np.log(-np.expm1(-x[pos])) - np.log(np.expm1(log_r[pos]))
    return out


def _logsumexp(x: np.ndarray) -> float:
    if x.size == 0:
        return -math.inf
    top = float(np.max(x))
    if not math.isfinite(top):
        return top
    return top + math.log(math.fsum(np.exp(x - top)))


def _sum_centered_log_cf_series(t: np.ndarray, k: np.ndarray, m: np.ndarray) -> np.ndarray:
    r""":math:`\sum_g m_g L(t, k_g)` for groups with every :math:`|t| \le k_g/4`, by the
    series of :func:`.steps._centered_log_cf` summed once over the groups,

    .. math:: \sum_{j \ge 2} \frac{(-it)^j}{j} \sum_g m_g\,\zeta(j, k_g),

    the coefficients being sums of positive terms (no cancellation); 64 terms, truncation
    below :math:`4^{-64}` relative. Costs 63 Hurwitz zetas per group instead of 63
    exponentials per group and node."""
    t = np.asarray(t, dtype=float)
    with np.errstate(under="ignore", divide="ignore"):
        coef = np.array([float(np.dot(m, special.zeta(float(j), k))) for j in _SERIES_J])
        log_coef = np.log(coef)  # -inf where every zeta underflowed: term negligible
        tu = np.abs(t)[:, None]
        mag = np.exp(_SERIES_J * np.log(tu) + log_coef - np.log(_SERIES_J))
    phase = (-1j) ** (_SERIES_J % 4) * np.sign(t)[:, None] ** _SERIES_J
    return np.where(t == 0, 0.0 + 0.0j, np.sum(mag * phase, axis=1))


# ---------------------------------------------------------------------------------------
# The law of S_T
# ---------------------------------------------------------------------------------------


def _growth_iv(n_growth, temperature) -> None:
    for name, value in (("n_growth", n_growth), ("temperature", temperature)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"`{name}` must be a real number; got {value!r}.")
    if not (math.isfinite(n_growth) and 0 <= n_growth <= 10):
        raise ValueError(f"`n_growth` (the exponent P of n_t = ceil(n t^P)) must lie in "
                         f"[0, 10]; got {n_growth}.")
    if not (math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"`temperature` must be a finite number > 0; got {temperature}.")


@dataclass(frozen=True)
class _InversionPlan:
    upper: float  # the integrals run over (0, upper) in the standardised variable
    panels: int
    nodes: int
    direct: np.ndarray  # groups evaluated node by node (_centered_log_cf)
    cost: int  # loggamma + zeta evaluations
    invertible: bool
    reason: str


@dataclass(frozen=True)
class GrowthLaw(LogVarianceLaw):
    r"""Exact law of :math:`S_T = \log(\sigma_T^2/\sigma_0^2)` when generation t draws
    :math:`n_t = \lceil n t^P \rceil` values at temperature :math:`\tau` (module docstring).

    A :class:`~.replace.LogVarianceLaw` whose characteristic function is the product of the
    steps' (its ``cdf``, ``pdf``, ``ppf``, ``sample`` and ``tabulated_cdf`` work the same
    way, with the same accuracy: about 1e-12 in F). ``n_growth = 0`` and ``temperature = 1``
    is the base law, with the very same numbers.

    Parameters
    ----------
    n : int
        Sample size of generation 1, ``n >= 2``.
    generations : int
        T >= 0.
    ddof : float
        ``0 <= ddof < n``.
    n_growth : float
        P in [0, 10].
    temperature : float
        :math:`\tau > 0`.

    Notes
    -----
    The standardised CF :math:`\varphi_Y(u) = \exp\sum_g m_g L(u/s, k_g)` (groups g of equal
    :math:`n_t`, multiplicities :math:`m_g`, s the SD of :math:`S_T`, L the centred log-CF
    of one step) is evaluated on the same Gauss-Legendre panels as the base law, up to where
    :math:`|\varphi_Y| < e^{-46}` (the cut-off found from the real part of
    :math:`\sum_g m_g L`: log-gammas for small :math:`k_g`, three series terms otherwise).
    Groups with :math:`k_g \ge 4 t_{max}` (all nodes inside the series region of
    :func:`.steps._centered_log_cf`) are summed as one series
    (:func:`_sum_centered_log_cf_series`); the rest node by node. The cost, (direct groups)
    x (nodes) complex log-gammas plus 63 Hurwitz zetas per series group, is bounded by
    :data:`INVERSION_BUDGET`: beyond it ``invertible`` is False, ``inversion_note`` says why
    and ``cdf``/``ppf`` raise ValueError (moments stay exact).
    """

    n_growth: float = 0.0
    temperature: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        _growth_iv(self.n_growth, self.temperature)
        last = n_at(self.n, self.n_growth, max(self.generations, 1))
        if last > MAX_N:
            raise ValueError(f"with `n_growth` {self.n_growth:g}, generation {self.generations}"
                             f" would draw {last} > {MAX_N:.0e} values.")
        if self.n_growth and min(self.generations, last - self.n + 1) > MAX_GROUPS:
            raise ValueError(
                f"with `n_growth` {self.n_growth:g} and `generations` {self.generations} the "
                f"sample size could take up to {min(self.generations, last - self.n + 1)} "
                f"distinct values; the n-growth theory sums over at most {MAX_GROUPS}.")

    # -- the steps --------------------------------------------------------------------

    @cached_property
    def groups(self) -> tuple[np.ndarray, np.ndarray]:
        """(distinct sample sizes, ascending; how many generations draw each), int64.

        Built in chunks of generations (memory bounded by the number of groups, since
        :math:`n_t` is nondecreasing in t)."""
        T = self.generations
        if T == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        if self.n_growth == 0:
            return np.array([self.n], np.int64), np.array([T], np.int64)
        values: list[np.ndarray] = []
        counts: list[np.ndarray] = []
        for start in range(1, T + 1, _CHUNK):
            sizes = n_schedule(self.n, self.n_growth, np.arange(start, min(start + _CHUNK, T + 1)))
            v, c = np.unique(sizes, return_counts=True)
            if values and values[-1][-1] == v[0]:  # a run continues across the chunks
                counts[-1][-1] += c[0]
                v, c = v[1:], c[1:]
            values.append(v.astype(np.int64))
            counts.append(c.astype(np.int64))
        return np.concatenate(values), np.concatenate(counts)

    @property
    def sizes(self) -> np.ndarray:
        """:math:`n_1, \\dots, n_T` (int64)."""
        values, counts = self.groups
        return np.repeat(values, counts)

    @property
    def _k(self) -> np.ndarray:
        return (self.groups[0].astype(float) - 1) / 2

    @property
    def _m(self) -> np.ndarray:
        return self.groups[1].astype(float)

    @property
    def step(self):
        raise AttributeError("a GrowthLaw has one step law per distinct n_t; see `groups`.")

    @property
    def _log_tau(self) -> float:
        return math.log(self.temperature)

    # -- moments ----------------------------------------------------------------------

    @cached_property
    def mean(self) -> float:
        r""":math:`E[S_T] = \sum_t E[X_t]` (digamma terms) :math:`+ 2T\log\tau`."""
        drift = _drift(self.groups[0].astype(float), self.ddof)
        return math.fsum(self._m * drift) + 2 * self.generations * self._log_tau

    @cached_property
    def sd(self) -> float:
        r""":math:`\mathrm{SD}(S_T) = (\sum_t \psi'(k_t))^{1/2}`."""
        return math.sqrt(math.fsum(self._m * special.polygamma(1, self._k)))

    def cumulant(self, j: int) -> float:
        """j-th cumulant of S_T: the sum of the steps'."""
        if j < 1:
            raise ValueError(f"`j` must be >= 1; got {j}.")
        if j == 1:
            return self.mean
        return math.fsum(self._m * special.polygamma(j - 1, self._k))

    def log_sigma_moment(self, p: float = 1.0, sigma0: float = 1.0) -> float:
        r""":math:`\log E[\sigma_T^p]`, with :math:`\sigma_0` = ``sigma0``:

        .. math:: p\log\sigma_0 + pT\log\tau + \sum_t \left[\tfrac p2
            \log\tfrac{n_t - 1}{n_t - d} + \log\tfrac{\Gamma(k_t + p/2)}{\Gamma(k_t)}
            - \tfrac p2 \log k_t\right]

        (the two brackets without cancellation, as in :func:`.replace.log_sigma_moment`).
        Requires :math:`p > -(n - 1)`."""
        if not (math.isfinite(p) and p > -(self.n - 1)):
            raise ValueError(f"`p` must exceed -(n - 1) = {-(self.n - 1)}; got {p}.")
        sizes = self.groups[0].astype(float)
        per_step = (p / 2) * _log_ratio(sizes, self.ddof) + _log_gamma_ratio_excess(
            self._k, p / 2)
        return (p * math.log(sigma0) + p * self.generations * self._log_tau
                + math.fsum(self._m * per_step))

    def log_mu_var(self, sigma0: float = 1.0) -> float:
        r""":math:`\log\mathrm{Var}(\mu_T)`, :math:`\mathrm{Var}(\mu_T) = \sigma_0^2\tau^2
        \sum_{t=1}^T \rho_1\cdots\rho_{t-1}/n_t`, :math:`\rho_s = \tau^2(n_s-1)/(n_s-d)`;
        within a run of equal :math:`n_t` the sum is geometric. ``-inf`` at T = 0."""
        if self.generations == 0:
            return -math.inf
        sizes, m = self.groups[0].astype(float), self._m
        two_lt = 2 * self._log_tau
        rho = _log_ratio(sizes, self.ddof) + two_lt
        before = np.concatenate([[0.0], np.cumsum(m * rho)[:-1]])
        terms = before + _log_geometric_sum(rho, m) - np.log(sizes)
        return 2 * math.log(sigma0) + two_lt + _logsumexp(terms)

    # -- inversion --------------------------------------------------------------------

    @cached_property
    def _plan(self) -> _InversionPlan:
        k, m = self._k, self._m
        groups = k.size
        none = np.zeros(0, dtype=np.intp)
        if groups <= 1:
            return _InversionPlan(0.0, 0, 0, none, 0, True, "")
        if groups * _SERIES_J.size > INVERSION_BUDGET:
            return _InversionPlan(
                math.nan, 0, 0, none, groups * _SERIES_J.size, False,
                f"the inversion would need more than {groups} x {_SERIES_J.size} special-"
                f"function evaluations ({groups} distinct n_t), over the budget of "
                f"{INVERSION_BUDGET:.0e}")
        s = self.sd
        z2, z4, z6 = (special.zeta(j, k) for j in (2.0, 4.0, 6.0))

        def log_abs_phi(u: float) -> float:
            # real part of sum_g m_g L(u/s, k_g), accurate enough to place the cut-off
            t = u / s
            small = k < 4 * t
            ks = k[small]
            re = float(np.dot(m[small], special.loggamma(ks + 1j * t).real - special.gammaln(ks)))
            t2 = t * t
            big = ~small
            return re + float(np.dot(m[big], -z2[big] * t2 / 2 + z4[big] * t2**2 / 4
                                     - z6[big] * t2**3 / 6))

        upper = 1.0
        while log_abs_phi(upper) > _CF_FLOOR:
            upper *= 1.5
            if upper > 1e6:  # pragma: no cover - phi decays at least like exp(-pi t/2)
                raise RuntimeError("characteristic function does not decay")
        panels = max(8, math.ceil(upper / _PANEL_WIDTH))
        nodes = panels * _PANEL_NODES
        direct = np.flatnonzero(k < 4 * (upper / s))
        cost = direct.size * nodes + (groups - direct.size) * _SERIES_J.size
        ok = cost <= INVERSION_BUDGET
        reason = "" if ok else (
            f"the inversion would need {cost:.3g} special-function evaluations ({groups} "
            f"distinct n_t, {nodes} quadrature nodes), over the budget of "
            f"{INVERSION_BUDGET:.0e}")
        return _InversionPlan(upper, panels, nodes, direct, cost, ok, reason)

    @property
    def invertible(self) -> bool:
        """Whether the CDF, density and quantiles are within :data:`INVERSION_BUDGET`."""
        return self._plan.invertible

    @property
    def inversion_note(self) -> str:
        """Why the law is not invertible ('' when it is)."""
        return self._plan.reason

    @cached_property
    def _quadrature(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._k.size <= 1:
            # every n_t = n: the base law's own nodes and CF values (the same numbers)
            return LogVarianceLaw(self.n, self.generations, self.ddof)._quadrature
        plan = self._plan
        if not plan.invertible:
            raise ValueError(f"the law of S_T is not inverted: {plan.reason}.")
        x, w = np.polynomial.legendre.leggauss(_PANEL_NODES)
        edges = np.linspace(0.0, plan.upper, plan.panels + 1)
        half = np.diff(edges) / 2
        mid = (edges[:-1] + edges[1:]) / 2
        u = (mid[:, None] + half[:, None] * x[None, :]).ravel()
        weights = (half[:, None] * w[None, :]).ravel()
        t = u / self.sd
        k, m = self._k, self._m
        log_phi = np.zeros(u.shape, dtype=complex)
        for g in plan.direct:
            log_phi += m[g] * _centered_log_cf(t, float(k[g]))
        series = np.ones(k.size, dtype=bool)
        series[plan.direct] = False
        if series.any():
            log_phi += _sum_centered_log_cf_series(t, k[series], m[series])
        return u, weights, np.exp(log_phi)

    def tabulated_cdf(self) -> TabulatedCDF:
        """:meth:`cdf` tabulated (see :class:`~.replace.TabulatedCDF`); not cached."""
        return TabulatedCDF(self)


# ---------------------------------------------------------------------------------------
# Convergence, and the law of the limit
# ---------------------------------------------------------------------------------------


def converges(n_growth: float, *, temperature: float = 1.0) -> bool:
    r"""Whether :math:`\sigma_T` tends to a nonzero finite limit (almost surely).

    True exactly when :math:`P > 1` and :math:`\tau = 1`, for every ddof.

    Notes
    -----
    :math:`\log\sigma_T^2 = \log\sigma_0^2 + S_T` with independent steps :math:`X_t`, so
    :math:`\sigma_T \to \sigma_\infty \in (0, \infty)` exactly when :math:`S_T` converges.
    From :math:`\psi(k) = \log k - 1/(2k) + O(k^{-2})` and :math:`\psi'(k) = 1/k + O(k^{-2})`
    at :math:`k_t = (n_t - 1)/2`,

    .. math::

        E[X_t] = -\frac{2 - d}{n_t} + O(n_t^{-2}) + 2\log\tau, \qquad
        \mathrm{Var}(X_t) = \frac{2}{n_t} + O(n_t^{-2}),

    and :math:`n t^P \le n_t < n t^P + 1`. If :math:`\sum_t E[X_t]` and
    :math:`\sum_t \mathrm{Var}(X_t)` are both finite, :math:`S_T` converges a.s. and in
    :math:`L^2` (Kolmogorov's two-series theorem). If :math:`\sum \mathrm{Var}(X_t) = \infty`
    it does not: the steps' variances tend to 0 and their fourth moments are
    :math:`O(\mathrm{Var}^2)`, so the three-series theorem's truncated variances diverge
    too [4]_. :math:`\sum 1/n_t < \infty` iff :math:`P > 1`, so the variance condition is
    :math:`P > 1`; then the drift terms (:math:`O(1/n_t)`) are summable too, whatever ddof
    (at ddof = 2 the leading drift vanishes, but the variance still needs :math:`P > 1`).
    With :math:`\tau \ne 1` the drifts contain :math:`2\log\tau` each and never sum: then
    :math:`\sigma_T \to 0` (:math:`\tau < 1`) or :math:`\infty` (:math:`\tau > 1`) a.s.
    when :math:`P > 1`. For :math:`P \le 1` and ddof < 2, :math:`E[S_T] \to -\infty` and
    the chain collapses as in the article.
    """
    _growth_iv(n_growth, temperature)
    return n_growth > 1 and temperature == 1


def _tail_constants(ddof: float) -> tuple[float, float, float]:
    r"""Constants B with :math:`|f(n_t) - c/(n t^P)| \le B/(n t^P)^2` for the drift, the step
    variance and :math:`\log((n_t-1)/(n_t-d))` at every tail generation (see
    :func:`growth_limit`)."""
    d = ddof
    a = abs(1 - d)
    drift = 4 / 3 + (8 / 3) * a * a + 2 + 2 * a * d + abs(2 - d)
    var = 32 / 3 + 4 + 2
    ratio = (8 / 3) * a * a + 2 * a * d + a
    return drift, var, ratio


def growth_limit(n: int, ddof: float, n_growth: float, sigma0: float = 1.0,
                 temperature: float = 1.0) -> dict | None:
    r"""The law of :math:`\sigma_\infty = \lim_T \sigma_T` when it exists (:func:`converges`),
    else None.

    Returns
    -------
    dict or None
        ``log_sigma2_mean`` (:math:`E\log\sigma_\infty^2`), ``log_sigma2_sd``,
        ``sigma2_mean`` (:math:`E\sigma_\infty^2`), ``mu_var``
        (:math:`\mathrm{Var}\,\mu_\infty`), their natural logs ``ln_sigma2_mean`` and
        ``ln_mu_var``, ``error_bounds`` (a bound on the absolute error of each of the first
        four), ``cutoff`` :math:`T_1`, and ``method``.

    Notes
    -----
    Each infinite series :math:`\sum_{t \ge 1} f(n_t)` is summed directly (``math.fsum``) up
    to :math:`T_1` and its tail replaced by that of the leading term,
    :math:`\sum_{t > T_1} c/(n t^P) = (c/n)\,\zeta(P, T_1 + 1)` (Hurwitz zeta), with

    * drift :math:`f = \psi(k) + \log 2 - \log(n_t - d)`, :math:`c = -(2 - d)`;
    * variance :math:`f = \psi'(k)`, :math:`c = 2`;
    * :math:`f = \log((n_t - 1)/(n_t - d))`, :math:`c = -(1 - d)`, whose sum is
      :math:`\log(E\sigma_\infty^2/\sigma_0^2) = \log R_\infty`;
    * :math:`\mathrm{Var}\,\mu_\infty = \sigma_0^2 \sum_t R_{t-1}/n_t`, :math:`R_t =
      \prod_{s \le t} (n_s-1)/(n_s-d)`, tail :math:`R_\infty\,\zeta(P, T_1 + 1)/n`.

    Error bound. For :math:`\nu = n_t \ge 8\max(1, d, |1-d|)` (true for every
    :math:`t > T_1 \ge 1024`): :math:`-\frac1{2k} - \frac1{12k^2} < \psi(k) - \log k <
    -\frac1{2k}`, :math:`\frac1k + \frac1{2k^2} < \psi'(k) < \frac1k + \frac1{2k^2} +
    \frac1{6k^3}` (DLMF 5.15), :math:`|\log(1-a) + a| \le \tfrac23 a^2` for
    :math:`|a| \le 1/4`, and :math:`0 \le n_t - n t^P < 1` give
    :math:`|f(n_t) - c/(n t^P)| \le B/(n t^P)^2` with
    :math:`B = \tfrac43 + \tfrac83(1-d)^2 + 2 + 2|1-d|d + |2-d|` (drift), :math:`\tfrac{50}3`
    (variance), :math:`\tfrac83(1-d)^2 + 2|1-d|d + |1-d|` (log ratio). So the tail's error
    is at most :math:`B\,\zeta(2P, T_1+1)/n^2`, to which a rounding allowance
    :math:`2^{-50}\sum_{t \le T_1} |f(n_t)|` is added (and for the running products
    :math:`R_{t-1}`, :math:`(t-1)\,2^{-52}\sum_s|\log r_s|` relative); for the variance
    the bound moves to the SD by :math:`|\sqrt a - \sqrt b| = |a - b|/(\sqrt a + \sqrt b)`; for
    :math:`\mathrm{Var}\,\mu_\infty`, whose tail terms carry
    :math:`R_{t-1} = R_\infty e^{-\Lambda_t}`, :math:`\Lambda_t = \sum_{s \ge t}\log r_s =
    -(1-d)\zeta(P, t)/n + \epsilon_t`, the tail is taken to first order in
    :math:`\Lambda`, :math:`\frac{R_\infty}{n}[\zeta(P, T_1+1) + \frac{1-d}{n}
    \sum_{t>T_1}\zeta(P,t)t^{-P}]` with :math:`\sum_{t > T_1}\zeta(P,t)t^{-P} =
    (\zeta(P,T_1+1)^2 + \zeta(2P,T_1+1))/2` exactly, and the bound adds the
    :math:`\epsilon_t`, the second order of :math:`e^{-\Lambda}`, :math:`1/n_t` against
    :math:`1/(nt^P)` and the error of :math:`R_\infty`. :math:`T_1` is the
    smallest power of two from :math:`2^{10}` to :math:`2^{20}` whose tail bound is below
    1e-15 (else :math:`2^{20}`).
    """
    _growth_iv(n_growth, temperature)
    if not converges(n_growth, temperature=temperature):
        return None
    if not (math.isfinite(sigma0) and sigma0 > 0):
        raise ValueError(f"`sigma0` must be a finite number > 0; got {sigma0}.")
    P, d = float(n_growth), float(ddof)
    b_drift, b_var, b_ratio = _tail_constants(d)
    b_max = max(b_drift, b_var, b_ratio)
    cutoff = _LIMIT_MIN_CUTOFF
    while cutoff < _LIMIT_MAX_CUTOFF and (
            b_max * float(special.zeta(2 * P, cutoff + 1)) / n**2 > _LIMIT_TARGET):
        cutoff *= 2
    z1 = float(special.zeta(P, cutoff + 1))
    z2 = float(special.zeta(2 * P, cutoff + 1))
    sizes = n_schedule(n, P, np.arange(1, cutoff + 1))
    k = (sizes - 1) / 2

    def series(terms, c, b):
        value = math.fsum(terms) + c * z1 / n
        bound = b * z2 / n**2 + 2.0**-50 * math.fsum(np.abs(terms))
        return value, bound

    drift, e_drift = series(_drift(sizes, d), -(2 - d), b_drift)
    var, e_var = series(special.polygamma(1, k), 2.0, b_var)
    ratio = _log_ratio(sizes, d)
    log_r_inf, e_ratio = series(ratio, -(1 - d), b_ratio)
    sd = math.sqrt(var)
    e_sd = e_var / (sd + math.sqrt(max(var - e_var, 0.0)))
    # Var mu = sigma0^2 [sum_{t <= T1} R_{t-1}/n_t + tail]
    log_r_before = np.concatenate([[0.0], np.cumsum(ratio)[:-1]])  # log R_{t-1}
    log_r_cut = float(np.sum(ratio))  # log R_{T1}
    r_inf, r_cut = math.exp(log_r_inf), math.exp(log_r_cut)
    head_terms = np.exp(log_r_before) / sizes
    head = math.fsum(head_terms)
    # tail: R_{t-1} = R_inf e^{-L_t}, L_t = sum_{s >= t} log r_s = -(1-d) zeta(P, t)/n + e_t,
    # and sum_{t > T1} zeta(P, t) t^-P = (zeta(P, T1+1)^2 + zeta(2P, T1+1))/2 exactly.
    cross = (z1 * z1 + z2) / 2
    tail = r_inf / n * (z1 + (1 - d) / n * cross)
    mu_ratio = head + tail
    big_l = abs(1 - d) / n * z1 + b_ratio * z2 / n**2 + e_ratio  # >= |L_t| for t > T1
    # cumsum's error in log R_{t-1} is at most (t - 1) eps sum |log r_s|; exp and the
    # division add an ulp or two to each head term
    rounding = (_EPS * math.fsum(np.abs(ratio)) * math.fsum(np.arange(cutoff) * head_terms)
                + 2.0**-50 * head)
    e_mu_ratio = (
        r_inf * b_ratio * z2 * z1 / n**3  # the O(1/x^2) part of L_t
        + r_inf * math.exp(big_l) * big_l / 2  # e^{-L} - (1 - L), summed against 1/x_t
        * (abs(1 - d) / n * cross + b_ratio / n**2 * z2 * z1) / n
        + max(r_cut, r_inf) * math.exp(big_l) * z2 / n**2  # 1/n_t against 1/(n t^P)
        + tail * math.expm1(e_ratio)  # R_inf's own error
        + rounding)
    s2 = sigma0 * sigma0
    method = (
        f"direct sums (math.fsum) over t = 1..{cutoff} plus the tail of the leading term by "
        f"the Hurwitz zeta: (c/n) zeta(P, {cutoff + 1}); each tail's error at most "
        f"B zeta(2P, {cutoff + 1})/n^2 plus rounding (see growth_limit's docstring), "
        "reported in error_bounds as absolute bounds")
    return {
        "log_sigma2_mean": 2 * math.log(sigma0) + drift,
        "log_sigma2_sd": sd,
        "sigma2_mean": s2 * r_inf,
        "mu_var": s2 * mu_ratio,
        "ln_sigma2_mean": 2 * math.log(sigma0) + log_r_inf,
        "ln_mu_var": 2 * math.log(sigma0) + math.log(mu_ratio),
        "error_bounds": {
            "log_sigma2_mean": e_drift,
            "log_sigma2_sd": e_sd,
            "sigma2_mean": s2 * r_inf * math.expm1(e_ratio),
            "mu_var": s2 * e_mu_ratio,
        },
        "cutoff": cutoff,
        "method": method,
    }


# ---------------------------------------------------------------------------------------
# Everything at once
# ---------------------------------------------------------------------------------------

_FINAL_EXACT = ("sigma_mean", "sigma2_mean", "log_sigma2_mean", "log_sigma2_sd", "mu_mean",
                "mu_var")
_STEP_EXACT = ("log_sigma2_drift", "log_sigma2_step_var", "prob_step_shrinks",
               "zero_drift_temperature")


def predict(experiment) -> RegimePrediction:
    """Exact predictions for a replace experiment with growing sample size (and optional
    temperature; no truncation).

    Parameters
    ----------
    experiment : collapsecheck.experiment.Experiment
        ``regime`` 'replace', ``truncate`` None; any ``n_growth`` (0 gives the fixed-n
        chain) and ``temperature``.

    Returns
    -------
    RegimePrediction
        The per-step fields (``log_sigma2_drift``, ``log_sigma2_step_var``,
        ``prob_step_shrinks``, ``zero_drift_temperature``) are those of generation T's step
        (generation 1's at T = 0), as ``methods`` says; ``limit`` is :func:`growth_limit`.
        ``ln_sigma_quantiles`` is None when the inversion is over budget (``notes``
        says why).

    Raises
    ------
    ValueError
        For another regime or a truncation, or when the sample size could take more than
        :data:`MAX_GROUPS` distinct values (e.g. P >= 1 with T above 1.6e7).
    """
    e = experiment
    if e.regime != "replace":
        raise ValueError(f"n-growth theory covers `regime` 'replace' only; got {e.regime!r}.")
    if e.truncate is not None:
        raise ValueError(f"n-growth theory needs `truncate` None; got {e.truncate}.")
    T, tau = e.generations, e.temperature
    law = GrowthLaw(e.n, T, e.ddof, e.n_growth, tau)
    lt = math.log(tau)
    last = e.n_at(max(T, 1))
    step = StepLaw(last, e.ddof)
    notes: list[str] = []
    methods = {
        "log_sigma2_drift": f"exact: E[X_T] = psi(k) + log 2 - log(n_T - ddof) + 2 log(tau) "
                            f"of generation {max(T, 1)}'s step (n_T = {last})",
        "log_sigma2_step_var": f"exact: trigamma((n_T - 1)/2), n_T = {last}",
        "prob_step_shrinks": f"exact: P(X_T < 0), chi-square CDF at (n_T - ddof)/tau^2, "
                             f"n_T = {last}",
        "zero_drift_temperature": f"exact: exp(-E[X]/2) for generation {max(T, 1)}'s step "
                                  f"(n_T = {last}); no one temperature zeroes every step",
        "log_sigma2_mean": "exact: sum of the steps' digamma drifts (fsum) + 2 T log(tau)",
        "log_sigma2_sd": "exact: sqrt of the sum of the steps' trigammas (fsum)",
        "sigma_mean": "exact: product of the steps' gamma ratios, in logs",
        "sigma2_mean": "exact: product of tau^2 (n_t - 1)/(n_t - ddof), in logs",
        "mu_var": "exact: sigma0^2 tau^2 sum_t E[sigma_{t-1}^2]/n_t (geometric within runs "
                  "of equal n_t), in logs",
        "mu_mean": "exact: E[mu_T] = mu0",
    }
    exact = list(_FINAL_EXACT)
    quantiles = None
    if law.invertible:
        qs = np.atleast_1d(law.ppf(np.asarray(QUANTILE_LEVELS)))
        quantiles = {_level_key(p): math.log(e.sigma0) + 0.5 * float(v)
                     for p, v in zip(QUANTILE_LEVELS, qs, strict=True)}
        exact.append("sigma_quantiles")
        methods["sigma_quantiles"] = ("exact (Gil-Pelaez inversion of the product of the "
                                      "steps' characteristic functions, ~1e-12 in F)")
    else:
        methods["sigma_quantiles"] = f"not computed: {law.inversion_note}"
        notes.append(f"sigma_quantiles is None: {law.inversion_note}.")
    exact.extend(_STEP_EXACT)
    limit = growth_limit(e.n, e.ddof, e.n_growth, e.sigma0, tau)
    if limit is not None:
        methods["limit"] = "series with a stated error bound: " + limit["method"]
    elif e.n_growth > 1:
        notes.append(
            f"no limit: with temperature {tau:g} != 1 every step drifts by 2 log(tau) = "
            f"{2 * lt:.6g}, so log sigma_T^2 tends to {'+' if lt > 0 else '-'}infinity.")
    else:
        notes.append(f"no limit: n_growth P = {e.n_growth:g} <= 1, so sum 1/n_t diverges and "
                     "the variances of the steps of log sigma^2 do not sum (see converges).")
    drift = step.drift
    return RegimePrediction(
        regime="replace",
        generations=T,
        mu0=e.mu0,
        sigma0=e.sigma0,
        ln_sigma2_mean=law.log_sigma_moment(2.0, e.sigma0),
        ln_mu_var=law.log_mu_var(e.sigma0),
        log_sigma2_drift=drift + 2 * lt,
        log_sigma2_step_var=step.var,
        log_sigma2_mean=2 * math.log(e.sigma0) + law.mean,
        log_sigma2_sd=law.sd,
        ln_sigma_mean=law.log_sigma_moment(1.0, e.sigma0),
        ln_sigma_quantiles=quantiles,
        prob_step_shrinks=step.prob_below(-2 * lt),
        zero_drift_temperature=math.exp(-0.5 * drift),
        limit=limit,
        exact=tuple(exact),
        methods=methods,
        notes=tuple(notes),
    )
