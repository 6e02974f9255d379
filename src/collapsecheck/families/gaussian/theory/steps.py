r"""Shared step laws of the Gaussian refit chain: one generation's increment of
log sigma^2 when the fit sees n Gaussian draws.

For Gaussian data the sample mean and the sum of squares are independent (Cochran), and
:math:`\sum_i (x_i - \bar x)^2 / \sigma_{t-1}^2 = Q \sim \chi^2_{n-1}`, so one
generation moves :math:`\log\sigma^2` by :math:`X = \log Q - \log(n - d)`. Every regime
whose chain stays a random walk in :math:`\log\sigma^2` (replace, temperature, n-growth)
is a sum of such steps, shifted or with varying n; the laws of those sums live in the
regime modules beside this one.

References
----------
.. [1] W. G. Cochran, "The distribution of quadratic forms in a normal system",
   Proc. Cambridge Philos. Soc. 30 (1934) 178-191.
.. [2] N. L. Johnson, S. Kotz, N. Balakrishnan, *Continuous Univariate Distributions*,
   vol. 1, 2nd ed., Wiley 1994, ch. 18 (chi-square moments, log-chi-square cumulants).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from collapsecheck.families.gaussian.theory import _special as special

__all__ = ["StepLaw", "log_sigma2_drift", "log_sigma2_step_var"]

_SERIES_TERMS = 64

# ---------------------------------------------------------------------------------------
# One step of the walk
# ---------------------------------------------------------------------------------------


def _step_iv(n, ddof) -> None:
    if not (isinstance(n, int | np.integer) and not isinstance(n, bool)):
        raise TypeError(f"`n` must be a whole number; got {n!r}.")
    if n < 2:
        raise ValueError(f"`n` must be at least 2; got {n}.")
    if not (math.isfinite(ddof) and 0 <= ddof < n):
        raise ValueError(f"`ddof` must satisfy 0 <= ddof < n; got ddof={ddof} with n={n}.")


def _horizon_iv(generations) -> None:
    if not (isinstance(generations, int | np.integer) and not isinstance(generations, bool)):
        raise TypeError(f"`generations` must be a whole number; got {generations!r}.")
    if generations < 0:
        raise ValueError(f"`generations` must be 0 or more; got {generations}.")


_PSI_SERIES_MIN_K = 30.0


def _digamma_minus_log(k: float) -> float:
    r""":math:`\psi(k) - \log k`, without the cancellation of two large terms at large k:
    the asymptotic series :math:`-\frac{1}{2k} - \sum_{j\ge1} \frac{B_{2j}}{2j\,k^{2j}}`
    (DLMF 5.11.2) for k >= 30 (error below 1e-22 after 8 terms), the direct difference
    below."""
    if k < _PSI_SERIES_MIN_K:
        return float(special.digamma(k) - math.log(k))
    bern = special.bernoulli(16)
    inv2 = 1.0 / (k * k)
    total, power = 0.0, 1.0
    for j in range(1, 9):
        power *= inv2
        total += bern[2 * j] / (2 * j) * power
    return -0.5 / k - total


def log_sigma2_drift(n: int, ddof: float = 0.0) -> float:
    r"""Exact mean per generation of the increment of :math:`\log \sigma^2`.

    .. math:: E[X] = \psi\!\left(\tfrac{n-1}{2}\right) + \log 2 - \log(n - d)

    Negative for every ``n >= 2`` and ``0 <= ddof <= 1`` (Jensen's inequality:
    :math:`E[\log Q] < \log E[Q] = \log(n-1)`), so the chain collapses almost surely.
    Its large-n expansion :math:`-(2 - d)/n + O(n^{-2})` gives the familiar -2/n and -1/n;
    at small n those are far off, and this function is exact.
    """
    _step_iv(n, ddof)
    # psi(k) + log 2 - log(n - d) = [psi(k) - log k] + log((n - 1)/(n - d)), k = (n-1)/2;
    # both brackets are computed without cancellation, so the drift keeps its relative
    # accuracy at n = 10^7 (where it is -2e-7 from terms of size 16).
    return _digamma_minus_log((n - 1) / 2) + math.log1p(-(1 - ddof) / (n - ddof))


def log_sigma2_step_var(n: int) -> float:
    r"""Exact variance per generation of the increment of :math:`\log \sigma^2`.

    .. math:: \mathrm{Var}(X) = \psi'\!\left(\tfrac{n-1}{2}\right)

    (trigamma), the same for every ``ddof`` since ddof only shifts the step.
    """
    _step_iv(n, 0.0)
    return float(special.polygamma(1, (n - 1) / 2))


@dataclass(frozen=True)
class StepLaw:
    r"""The exact law of one increment :math:`X = \log Q - \log(n - d)`,
    :math:`Q \sim \chi^2_{n-1}`.

    Attributes
    ----------
    n, ddof : the experiment's sample size and delta degrees of freedom.
    """

    n: int
    ddof: float = 0.0

    def __post_init__(self) -> None:
        _step_iv(self.n, self.ddof)

    @property
    def k(self) -> float:
        """Half the degrees of freedom, the gamma shape of Q/2."""
        return (self.n - 1) / 2

    @property
    def drift(self) -> float:
        """E[X] (see :func:`log_sigma2_drift`)."""
        return log_sigma2_drift(self.n, self.ddof)

    @property
    def var(self) -> float:
        """Var(X) (see :func:`log_sigma2_step_var`)."""
        return log_sigma2_step_var(self.n)

    def cumulant(self, j: int) -> float:
        r"""The j-th cumulant: :math:`\kappa_1 = E[X]`, :math:`\kappa_j = \psi^{(j-1)}(k)`."""
        if j < 1:
            raise ValueError(f"`j` must be >= 1; got {j}.")
        return self.drift if j == 1 else float(special.polygamma(j - 1, self.k))

    def log_mgf(self, s):
        r""":math:`\log E[e^{sX}] = s(\log 2 - \log(n-d)) + \log\Gamma(k+s) - \log\Gamma(k)`,
        finite for :math:`s > -k`."""
        s = np.asarray(s, dtype=float)
        return (
            s * (math.log(2.0) - math.log(self.n - self.ddof))
            + special.gammaln(self.k + s)
            - special.gammaln(self.k)
        )

    def cdf(self, x):
        """CDF of X, exact through the chi-square CDF (``scipy.special.chdtr``, the
        function behind ``scipy.stats.chi2.cdf``, without importing scipy.stats),
        vectorised for the many points of a goodness-of-fit test."""
        from scipy.special import chdtr

        return chdtr(self.n - 1, np.exp(np.asarray(x, float)) * (self.n - self.ddof))

    def prob_below(self, threshold: float = 0.0) -> float:
        r"""P(X < threshold): e.g. ``threshold=0`` is the chance one refit shrinks sigma.

        The same chi-square CDF as :meth:`cdf` at one point,
        :math:`P\left(k, \tfrac12 (n - d) e^{\text{threshold}}\right)` (regularized
        lower incomplete gamma), by :func:`._special.gammainc_lower` so that ``theory``
        needs no scipy; the two agree to a few ulp (tests/test_special.py).
        """
        try:
            x = 0.5 * math.exp(threshold) * (self.n - self.ddof)
        except OverflowError:  # threshold > 709: certain
            return 1.0
        return special.gammainc_lower(self.k, x)



def _centered_log_cf(t: np.ndarray, k: float) -> np.ndarray:
    r"""Log characteristic function of one centred step, :math:`X - E[X]`:

    .. math::

        L(t) = \log\Gamma(k + it) - \log\Gamma(k) - it\,\psi(k)
             = \sum_{j \ge 2} \frac{\zeta(j, k)}{j} (-it)^j,

    the series (Hurwitz zeta; the log-gamma Taylor series about k, convergent for
    :math:`|t| < k`) being used for :math:`|t| \le k/4` (64 terms: truncation below
    :math:`4^{-64}`), where the direct difference of log-gammas would lose digits (an
    absolute error of ~1e-15 that a horizon of T generations multiplies by T); elsewhere
    the direct form, where :math:`|\varphi|^T` is negligible at long horizons anyway (its
    log-gamma difference computed as such, by :func:`._special.log_gamma_ratio`).
    """
    t = np.asarray(t, dtype=float)
    direct = special.log_gamma_ratio(k, t) - 1j * t * special.digamma(k)
    use = (np.abs(t) <= k / 4) & (t != 0)
    if not np.any(use):
        return np.where(t == 0, 0.0 + 0.0j, direct)
    j = np.arange(2, _SERIES_TERMS + 1)
    with np.errstate(under="ignore", divide="ignore"):
        log_zeta = np.log(special.hurwitz_zeta(j, k))  # -inf once zeta underflows: negligible
        tu = np.abs(t[use])[:, None]
        mag = np.exp(j * np.log(tu) + log_zeta - np.log(j))
    phase = (-1j) ** (j % 4) * np.sign(t[use])[:, None] ** j
    series = np.sum(mag * phase, axis=1)
    out = np.where(t == 0, 0.0 + 0.0j, direct)
    out[use] = series
    return out


def _log_geometric_sum(log_r: float, terms: int) -> float:
    r"""Natural log of :math:`\sum_{t=0}^{T-1} r^t` for :math:`r = e^{\log r}`, stable for
    r near 1, r < 1 and r > 1 at any horizon."""
    if terms == 0:
        return -math.inf
    if log_r == 0.0:
        return math.log(terms)
    x = terms * log_r
    if log_r < 0:
        # (1 - r^T)/(1 - r), both factors in (0, 1]
        return math.log(-math.expm1(x)) - math.log(-math.expm1(log_r))
    # r > 1: r^T (1 - r^-T)/(r - 1)
    return x + math.log(-math.expm1(-x)) - math.log(math.expm1(log_r))
