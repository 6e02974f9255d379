r"""Exact theory of the multivariate Gaussian refit chain.

Generation t draws :math:`x_1..x_n \sim N_D(\mu_{t-1}, \Sigma_{t-1})` and fits
:math:`\mu_t = \bar x`, :math:`\Sigma_t = S_t/c` with S the scatter matrix and
:math:`c = n - d` (``ddof`` = d). Write :math:`\Sigma_{t-1} = L L^\top` (Cholesky) and
:math:`m = n - 1`. For Gaussian data :math:`\bar x` and S are independent,
:math:`\bar x \sim N(\mu_{t-1}, \Sigma_{t-1}/n)` and :math:`S = L W L^\top` with
:math:`W \sim \mathrm{Wishart}_D(m, I)` [1]_. By Bartlett's decomposition [2]_
:math:`W = B B^\top`, B lower triangular with independent entries
:math:`B_{ii} = \sqrt{\chi^2_{n-i}}` (i = 1..D) and :math:`B_{ij} \sim N(0, 1)` below the
diagonal. Hence :math:`\Sigma_T = L_0 A_T A_T^\top L_0^\top / c^T`,
:math:`A_T = B_1 B_2 \cdots B_T` a product of i.i.d. Bartlett factors, and everything
below follows.

Exact at every T
~~~~~~~~~~~~~~~~
* **log det.** The product of lower-triangular matrices has the product of their
  diagonals, so

  .. math:: \log\det\Sigma_T - \log\det\Sigma_0
            = \sum_{t=1}^T \sum_{i=1}^D \log\chi^2_{n-i,t} \;-\; TD\log c,

  a sum of TD independent log-chi-square terms: per generation the drift
  :math:`\sum_i [\psi(\tfrac{n-i}2) + \log 2] - D\log c` and variance
  :math:`\sum_i \psi'(\tfrac{n-i}2)`; its CDF, density and quantiles by inversion of the
  characteristic function (:class:`LogDetLaw`, the machinery of the 1-D chain's
  :class:`~collapsecheck.families.gaussian.theory.ngrowth.GrowthLaw`, which sums
  log-chi-square steps of several degrees of freedom with multiplicities).
* **Mean covariance.** :math:`E[W] = mI` gives :math:`E[\Sigma_T] = r^T\Sigma_0`,
  :math:`r = m/c`, and :math:`E[\operatorname{tr}\Sigma_T] = r^T\operatorname{tr}\Sigma_0`.
* **Second moments of the trace.** With :math:`M = L^\top L` (the eigenvalues of
  :math:`\Sigma_{t-1}`) and :math:`W = \sum_{k=1}^m z_k z_k^\top`,
  :math:`z_k \sim N(0, I)` i.i.d.: :math:`\operatorname{tr}(WM) = \sum_k z_k^\top M z_k`
  has :math:`E[\operatorname{tr}(WM)^2] = m^2 (\operatorname{tr}M)^2 +
  2m\operatorname{tr}M^2`; and :math:`\operatorname{tr}(WMWM) = \sum_{k,l}
  (z_k^\top M z_l)^2`, whose k = l terms have mean :math:`(\operatorname{tr}M)^2 +
  2\operatorname{tr}M^2` and k != l terms :math:`\operatorname{tr}M^2` (Isserlis), so
  :math:`E[\operatorname{tr}(WMWM)] = m(m+1)\operatorname{tr}M^2 + m(\operatorname{tr}M)^2`
  (equivalently the Wishart identity :math:`E[WMW] = m(m+1)M + m\operatorname{tr}(M) I`
  for symmetric M [3]_).
  So :math:`a_t = E[(\operatorname{tr}\Sigma_t)^2]`, :math:`b_t = E[\operatorname{tr}
  \Sigma_t^2]` obey, for any :math:`\Sigma_0`,

  .. math:: \begin{pmatrix}a_t\\ b_t\end{pmatrix} = \frac{m}{c^2}
            \begin{pmatrix} m & 2\\ 1 & m+1\end{pmatrix}
            \begin{pmatrix}a_{t-1}\\ b_{t-1}\end{pmatrix},

  whose matrix has eigenvalues :math:`m+2` (eigenvector (1, 1)) and :math:`m-1`
  (eigenvector (2, -1)). Hence, with :math:`A = (1+2/m)^T - 1`, :math:`B = (1-1/m)^T - 1`,

  .. math:: \mathrm{Var}(\operatorname{tr}\Sigma_T) = r^{2T}\left[\frac{a_0(A + 2B)}{3}
            + \frac{2 b_0 (A - B)}{3}\right],

  both terms nonnegative (:math:`A + 2B \ge 0` by convexity), with
  :math:`a_0 = (\operatorname{tr}\Sigma_0)^2`, :math:`b_0 = \operatorname{tr}\Sigma_0^2`
  (D = 1: :math:`r^{2T}s^4((1+2/m)^T - 1)`, the chi-square's).
* **Mean.** :math:`\mu_t - \mu_{t-1} = L\bar z`, :math:`\bar z \sim N(0, I/n)` independent
  of the past, so :math:`E\|\mu_T - \mu_0\|^2 = \sum_{t<T} E[\operatorname{tr}\Sigma_t]/n
  = \frac{\operatorname{tr}\Sigma_0}{n}\sum_{t<T} r^t`.

Limits (T to infinity)
~~~~~~~~~~~~~~~~~~~~~~
* **Lyapunov spectrum.** :math:`\frac1T\log\lambda_i(\Sigma_T) \to \gamma_i =
  \psi(\tfrac{n-i}2) + \log 2 - \log c` almost surely (i = 1..D, largest first; of the
  covariance, twice the exponents of its square root). Proof: the eigenvalues of
  :math:`\Sigma_T` are the squared singular values of :math:`A_T^\top =
  B_T^\top\cdots B_1^\top` (times constants); for any orthonormal k-frame X,
  :math:`X^\top B B^\top X = X^\top W X \sim \mathrm{Wishart}_k(m, I)` whatever X (W is
  orthogonally invariant), so the k-volume grows by :math:`\prod_{j\le k}\chi^2_{m-j+1}`
  independently of the frame, and the sum of the top k exponents (Oseledets;
  Newman [4]_ for Gaussian products) is :math:`\sum_{j\le k} E\log\chi^2_{n-j} - k\log c`.
  The sum of all D is the log det drift, exactly.
* **Flattening.** :math:`\log(\lambda_1/\lambda_D)` grows at rate :math:`\gamma_1 -
  \gamma_D = \psi(\tfrac{n-1}2) - \psi(\tfrac{n-D}2)`; :math:`E\log(\lambda_1/\lambda_D)
  - T(\gamma_1 - \gamma_D)` tends to a constant that is not 0 (an O(1) offset), so test
  the rate on differences between two late generations, never as T times the rate.

References
----------
.. [1] T. W. Anderson, *An Introduction to Multivariate Statistical Analysis*, 3rd ed.,
   Wiley 2003, thm 3.3.2 and sec. 7.2 (the Wishart law of the scatter matrix).
.. [2] M. S. Bartlett, "On the theory of statistical regression", Proc. Royal Soc.
   Edinburgh 53 (1933) 260-283; Anderson (2003) sec. 7.2 (Bartlett decomposition).
.. [3] R. J. Muirhead, *Aspects of Multivariate Statistical Theory*, Wiley 1982, thm 3.2.4
   and its proof (moments of the Wishart distribution).
.. [4] C. M. Newman, "The distribution of Lyapunov exponents: exact results for random
   matrices", Commun. Math. Phys. 103 (1986) 121-126.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy import special

from collapsecheck.families.gaussian.theory.ngrowth import GrowthLaw
from collapsecheck.families.gaussian.theory.ngrowth import (
    _digamma_minus_log as _digamma_minus_log_array,
)
from collapsecheck.families.gaussian.theory.prediction import exp_or_inf
from collapsecheck.families.gaussian.theory.replace import (
    QUANTILE_LEVELS,
    LogVarianceLaw,
    _level_key,
)
from collapsecheck.families.gaussian.theory.steps import _horizon_iv, _log_geometric_sum

__all__ = ["EXACT_KEYS", "LIMIT_KEYS", "LogDetLaw", "MVPrediction", "anisotropy_rate",
           "expected_covariance", "ln_mu_sq_norm_mean", "ln_trace_mean", "ln_trace_var",
           "logdet_drift", "logdet_step_var", "lyapunov_spectrum", "predict"]

#: Keys of ``theory --json`` that are exact at every T.
EXACT_KEYS = ("logdet_drift", "logdet_step_var", "final.logdet_mean", "final.logdet_sd",
              "final.logdet_quantiles", "final.trace_mean", "final.trace_sd",
              "final.mu_sq_norm_mean")
#: Keys that are limits as T grows (rates), not values at a finite T.
LIMIT_KEYS = ("lyapunov", "anisotropy_rate")


def _nd_iv(n, dim, ddof) -> None:
    for name, value in (("n", n), ("dim", dim)):
        if not (isinstance(value, int | np.integer) and not isinstance(value, bool)):
            raise TypeError(f"`{name}` must be a whole number; got {value!r}.")
    if dim < 1:
        raise ValueError(f"`dim` must be at least 1; got {dim}.")
    if not n > dim:
        raise ValueError(f"`n` must exceed `dim`; got n={n} with dim={dim}.")
    if not (math.isfinite(ddof) and 0 <= ddof < n):
        raise ValueError(f"`ddof` must satisfy 0 <= ddof < n; got ddof={ddof} with n={n}.")


def _half_dofs(n: int, dim: int) -> np.ndarray:
    """k_i = (n - i)/2 for i = 1..D (the gamma shapes of the Bartlett diagonal)."""
    return (n - np.arange(1, dim + 1, dtype=float)) / 2


# ---------------------------------------------------------------------------------------
# Rates per generation
# ---------------------------------------------------------------------------------------


def lyapunov_spectrum(n: int, dim: int, ddof: float = 0.0) -> np.ndarray:
    r"""The D Lyapunov exponents of :math:`\Sigma_T`, largest first (a limit):

    .. math:: \gamma_i = \lim_{T\to\infty} \frac1T \log\lambda_i(\Sigma_T)
              = \psi\!\left(\tfrac{n-i}2\right) + \log 2 - \log(n - d),\quad i = 1..D,

    computed as :math:`[\psi(k_i) - \log k_i] + \log(1 - \frac{i-d}{n-d})` (no
    cancellation at large n; i = 1 is the 1-D chain's drift, bit for bit). Their sum is
    :func:`logdet_drift`.
    """
    _nd_iv(n, dim, ddof)
    k = _half_dofs(n, dim)
    i = np.arange(1, dim + 1, dtype=float)
    return _digamma_minus_log_array(k) + np.log1p(-(i - ddof) / (n - ddof))


def logdet_drift(n: int, dim: int, ddof: float = 0.0) -> float:
    r"""Exact mean per generation of the increment of :math:`\log\det\Sigma`:
    :math:`\sum_{i=1}^D [\psi(\tfrac{n-i}2) + \log 2] - D\log(n - d)`."""
    return math.fsum(lyapunov_spectrum(n, dim, ddof))


def logdet_step_var(n: int, dim: int) -> float:
    r"""Exact variance per generation of the increment of :math:`\log\det\Sigma`:
    :math:`\sum_{i=1}^D \psi'(\tfrac{n-i}2)` (trigamma; the same for every ddof)."""
    _nd_iv(n, dim, 0.0)
    return math.fsum(special.polygamma(1, _half_dofs(n, dim)))


def anisotropy_rate(n: int, dim: int) -> float:
    r"""Growth rate of :math:`\log(\lambda_1/\lambda_D)` per generation (a limit):
    :math:`\gamma_1 - \gamma_D = \psi(\tfrac{n-1}2) - \psi(\tfrac{n-D}2)` (0 for D = 1).
    The expected log ratio at T is T times this plus an O(1) offset."""
    _nd_iv(n, dim, 0.0)
    if dim == 1:
        return 0.0
    return float(special.digamma((n - 1) / 2) - special.digamma((n - dim) / 2))


# ---------------------------------------------------------------------------------------
# The exact law of log det Sigma_T - log det Sigma_0
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogDetLaw(GrowthLaw):
    r"""Exact law of :math:`S_T = \log\det\Sigma_T - \log\det\Sigma_0`: the sum over T
    generations of :math:`\sum_{i=1}^D \log\chi^2_{n-i} - D\log(n-d)`, TD independent
    terms (module docstring).

    A :class:`~collapsecheck.families.gaussian.theory.ngrowth.GrowthLaw` whose steps are
    grouped by degrees of freedom :math:`n - i` (i = 1..D), each taken T times, and whose
    mean carries the common divisor :math:`n - d`. ``cdf``, ``pdf``, ``ppf``, ``sample``
    and ``tabulated_cdf`` are the 1-D chain's (Gil-Pelaez inversion of the characteristic
    function of the standardised sum, about 1e-12 in F; quantiles by Brent's method). For
    D = 1 it is the 1-D chain's :class:`~collapsecheck.theory.LogVarianceLaw`, with the
    same numbers.

    Parameters
    ----------
    n : int
        Sample size per generation, ``n > dim``.
    generations : int
        T >= 0 (T = 0: the point mass at 0).
    ddof : float
        ``0 <= ddof < n``.
    dim : int
        D >= 1.
    """

    dim: int = 1

    def __post_init__(self) -> None:
        _nd_iv(self.n, self.dim, self.ddof)
        _horizon_iv(self.generations)
        super().__post_init__()
        if self.n_growth != 0 or self.temperature != 1:
            raise ValueError("a LogDetLaw has no `n_growth` or `temperature`.")

    @cached_property
    def groups(self) -> tuple[np.ndarray, np.ndarray]:
        """(1-D sample sizes n - i + 1, i = D..1, ascending, whose chi-square has n - i
        degrees of freedom; T for each), int64."""
        T = self.generations
        if T == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        sizes = np.arange(self.n - self.dim + 1, self.n + 1, dtype=np.int64)
        return sizes, np.full(self.dim, T, np.int64)

    @cached_property
    def mean(self) -> float:
        """:math:`E[S_T] = T` :func:`logdet_drift`."""
        if self.dim == 1:  # the 1-D chain's own number, bit for bit
            return LogVarianceLaw(self.n, self.generations, self.ddof).mean
        return self.generations * logdet_drift(self.n, self.dim, self.ddof)

    def log_sigma_moment(self, p: float = 1.0, sigma0: float = 1.0) -> float:
        raise AttributeError("a LogDetLaw has no sigma moments; see `ln_trace_mean`.")

    def log_mu_var(self, sigma0: float = 1.0) -> float:
        raise AttributeError("a LogDetLaw has no mu variance; see `ln_mu_sq_norm_mean`.")


# ---------------------------------------------------------------------------------------
# Moments of Sigma_T and mu_T
# ---------------------------------------------------------------------------------------


def _log_r(n: int, ddof: float) -> float:
    """log r = log((n - 1)/(n - d)), without cancellation near 0."""
    return math.log1p(-(1 - ddof) / (n - ddof))


def expected_covariance(generations: int, n: int, ddof: float, sigma_start) -> np.ndarray:
    r""":math:`E[\Sigma_T] = r^T \Sigma_0`, :math:`r = (n-1)/(n-d)` (exact)."""
    _horizon_iv(generations)
    s0 = np.asarray(sigma_start, dtype=float)
    return s0 * exp_or_inf(generations * _log_r(n, ddof))


def ln_trace_mean(generations: int, n: int, ddof: float, trace0: float) -> float:
    r""":math:`\log E[\operatorname{tr}\Sigma_T] = T\log r + \log\operatorname{tr}\Sigma_0`."""
    _horizon_iv(generations)
    return generations * _log_r(n, ddof) + math.log(trace0)


def ln_trace_var(generations: int, n: int, ddof: float, trace0: float,
                 trace_sq0: float) -> float:
    r"""Natural log of :math:`\mathrm{Var}(\operatorname{tr}\Sigma_T)` (exact; module
    docstring):

    .. math:: 2T\log r + \log\left[\frac{a_0(A + 2B)}{3} + \frac{2b_0(A - B)}{3}\right],

    :math:`a_0 = (\operatorname{tr}\Sigma_0)^2` (``trace0**2``), :math:`b_0 =
    \operatorname{tr}\Sigma_0^2` (``trace_sq0``), :math:`A = (1 + 2/m)^T - 1`,
    :math:`B = (1 - 1/m)^T - 1`, m = n - 1; ``-inf`` at T = 0. Where
    :math:`E = (1+2/m)^T` would overflow, :math:`\log E` is taken out first.
    """
    _horizon_iv(generations)
    T = generations
    if T == 0:
        return -math.inf
    m = n - 1
    a0, b0 = trace0 * trace0, trace_sq0
    log_e = T * math.log1p(2 / m)
    B = math.expm1(T * math.log1p(-1 / m)) if m > 1 else -1.0
    head = 2 * T * _log_r(n, ddof)
    if log_e < 600:
        A = math.expm1(log_e)
        # A + 2B, accurate where it is small: (1+2/m)^T + 2(1-1/m)^T - 3
        apb = A + 2 * B
        if apb < 1e-3 * A:  # leading term of the expansion: 3 T(T-1)/m^2 (1 + O(T/m))
            apb = _a_plus_2b(T, m)
        return head + math.log(a0 * apb / 3 + 2 * b0 * (A - B) / 3)
    # (a0 + 2 b0)/3 (E - 1) + 2 (a0 - b0)/3 B, divided by E
    return head + log_e + math.log((a0 + 2 * b0) / 3 * (1 - math.exp(-log_e))
                                   + 2 * (a0 - b0) / 3 * B * math.exp(-log_e))


def _a_plus_2b(T: int, m: int) -> float:
    r""":math:`(1+2/m)^T + 2(1-1/m)^T - 3 = \sum_{j\ge2}\binom Tj m^{-j}(2^j + 2(-1)^j)`
    by its binomial series (positive terms for even j dominate; used where T/m is small,
    so the series converges fast), summed until the terms fall below 1e-17 of the sum."""
    total, term_binom, j = 0.0, 1.0, 0
    x = 1.0 / m
    for j in range(1, T + 1):
        term_binom *= (T - j + 1) / j * x  # C(T, j) / m^j
        if j >= 2:
            t = term_binom * (2.0**j + 2.0 * (-1.0) ** j)
            total += t
            if abs(t) < 1e-17 * abs(total):
                break
    return total


def ln_mu_sq_norm_mean(generations: int, n: int, ddof: float, trace0: float) -> float:
    r""":math:`\log E\|\mu_T - \mu_0\|^2`, :math:`E\|\mu_T - \mu_0\|^2 =
    \frac{\operatorname{tr}\Sigma_0}{n}\sum_{t=0}^{T-1} r^t` (exact; ``-inf`` at T = 0)."""
    _horizon_iv(generations)
    return math.log(trace0) - math.log(n) + _log_geometric_sum(_log_r(n, ddof), generations)


# ---------------------------------------------------------------------------------------
# Everything at once
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MVPrediction:
    """Exact predictions (and limit rates) for one multivariate experiment at its final
    generation. Raw moments are kept as natural logs (``ln_*``)."""

    n: int
    dim: int
    generations: int
    ddof: float
    logdet0: float
    logdet_drift: float
    logdet_step_var: float
    lyapunov: tuple[float, ...]
    anisotropy_rate: float
    logdet_mean: float
    logdet_sd: float
    logdet_quantiles: dict[str, float] | None
    ln_trace_mean: float
    ln_trace_var: float
    ln_mu_sq_norm_mean: float
    notes: tuple[str, ...] = field(default=())

    @property
    def trace_mean(self) -> float:
        return exp_or_inf(self.ln_trace_mean)

    @property
    def trace_sd(self) -> float:
        return exp_or_inf(0.5 * self.ln_trace_var)

    @property
    def mu_sq_norm_mean(self) -> float:
        return exp_or_inf(self.ln_mu_sq_norm_mean)

    def final(self) -> dict:
        """The ``final`` object of ``theory --json``."""
        return {
            "logdet_mean": self.logdet_mean,
            "logdet_sd": self.logdet_sd,
            "logdet_quantiles": None if self.logdet_quantiles is None
            else dict(self.logdet_quantiles),
            "trace_mean": self.trace_mean,
            "trace_sd": self.trace_sd,
            "mu_sq_norm_mean": self.mu_sq_norm_mean,
            "log_scale": {"trace_mean": self.ln_trace_mean,
                          "trace_sd": 0.5 * self.ln_trace_var,
                          "mu_sq_norm_mean": self.ln_mu_sq_norm_mean},
        }

    def to_dict(self) -> dict:
        """The object of ``theory --json`` for this family."""
        return {
            "family": "mvgaussian",
            "logdet_drift": self.logdet_drift,
            "logdet_step_var": self.logdet_step_var,
            "lyapunov": list(self.lyapunov),
            "anisotropy_rate": self.anisotropy_rate,
            "final": self.final(),
            "exact": list(EXACT_KEYS),
            "limits": list(LIMIT_KEYS),
            "notes": list(self.notes),
        }


def predict(experiment, *, quantiles: bool = True) -> MVPrediction:
    """Exact predictions for a
    :class:`~collapsecheck.families.mvgaussian.parameters.MVGaussianExperiment`
    (``quantiles=False`` skips the inversion of the log det law).

    Examples
    --------
    >>> from collapsecheck.families.mvgaussian.parameters import MVGaussianExperiment
    >>> p = predict(MVGaussianExperiment(n=32, dim=10, generations=65, seed=0))
    >>> round(p.anisotropy_rate, 4)  # log(lambda_max/lambda_min) per generation
    0.3565
    """
    e = experiment
    s0 = e.sigma_start
    logdet0 = float(2 * np.sum(np.log(np.diag(np.linalg.cholesky(s0)))))
    trace0 = float(np.trace(s0))
    trace_sq0 = float(np.sum(s0 * s0))
    law = LogDetLaw(e.n, e.generations, e.ddof, dim=e.dim)
    q = None
    notes: list[str] = []
    if quantiles:
        if law.invertible:
            vals = np.atleast_1d(law.ppf(np.asarray(QUANTILE_LEVELS)))
            q = {_level_key(p): logdet0 + float(v) for p, v in zip(QUANTILE_LEVELS, vals,
                                                                   strict=True)}
        else:
            notes.append(f"logdet_quantiles: {law.inversion_note}.")
    else:
        notes.append("logdet_quantiles: not computed (quantiles=False).")
    return MVPrediction(
        n=e.n, dim=e.dim, generations=e.generations, ddof=e.ddof, logdet0=logdet0,
        logdet_drift=logdet_drift(e.n, e.dim, e.ddof),
        logdet_step_var=logdet_step_var(e.n, e.dim),
        lyapunov=tuple(float(g) for g in lyapunov_spectrum(e.n, e.dim, e.ddof)),
        anisotropy_rate=anisotropy_rate(e.n, e.dim),
        logdet_mean=logdet0 + law.mean, logdet_sd=law.sd, logdet_quantiles=q,
        ln_trace_mean=ln_trace_mean(e.generations, e.n, e.ddof, trace0),
        ln_trace_var=ln_trace_var(e.generations, e.n, e.ddof, trace0, trace_sq0),
        ln_mu_sq_norm_mean=ln_mu_sq_norm_mean(e.generations, e.n, e.ddof, trace0),
        notes=tuple(notes))
