r"""Exact theory of the accumulate regime: generation t refits to every draw so far.

Setting (DESIGN.md): generation :math:`t \ge 1` draws :math:`n_t` values from the model
fitted at :math:`t-1` (temperature :math:`\tau`, optional truncation at C; variance factor
:math:`f = \tau^2\kappa(C)`, :mod:`~collapsecheck.families.gaussian.theory.sampling`), adds
them to a pool of :math:`N_{t-1}` earlier draws (:math:`N_t = n_1 + \dots + n_t`,
:math:`N_0 = 0`) and fits the pooled mean :math:`\mu_t` and
:math:`\sigma_t^2 = Q_t/(N_t - d)`, :math:`Q_t` the pooled sum of squares (:math:`Q_0 = 0`,
the starting model :math:`(\mu_0, \sigma_0)` being generation 0).

**Pool update (Chan, Golub and LeVeque).** A batch with mean :math:`b` and sum of squares
:math:`q` gives

.. math::

    Q_t = Q_{t-1} + q + \frac{N_{t-1} n_t}{N_t}(b - \mu_{t-1})^2, \qquad
    \mu_t = \mu_{t-1} + \frac{n_t}{N_t}(b - \mu_{t-1}).

**Moments (exact, with truncation, temperature and n-growth).** Given the past,
:math:`E[q] = (n_t - 1) f\sigma_{t-1}^2` and :math:`E[(b - \mu_{t-1})^2] =
f\sigma_{t-1}^2/n_t` (the model is symmetric about :math:`\mu_{t-1}`), so with
:math:`v_t = E\sigma_t^2`

.. math::

    E Q_t = E Q_{t-1} + f v_{t-1}\left(n_t - 1 + \frac{N_{t-1}}{N_t}\right), \qquad
    v_t = \frac{E Q_t}{N_t - d},

i.e. :math:`v_1 = v_0 f(n_1-1)/(n_1-d)` and, for :math:`t \ge 2` (where
:math:`E Q_{t-1} = (N_{t-1} - d) v_{t-1}`), :math:`v_t = g_t v_{t-1}` with

.. math::

    g_t - 1 = \frac{n_t\left[(f - 1) - f/N_t\right]}{N_t - d}

(no cancellation: the recursion is summed as :math:`\sum \log g_t` by ``log1p``). The mean
increments :math:`(n_t/N_t)(b - \mu_{t-1})` are martingale differences, so
:math:`\mathrm{Var}(\mu_T) = \sum_{t=1}^T f v_{t-1} n_t/N_t^2`. For fixed n, d = 0 and
f = 1, :math:`g_t = 1 - 1/(n t^2)` and Euler's product gives
:math:`E\sigma_\infty^2 = \sigma_0^2 \sin(\pi/\sqrt n)/(\pi/\sqrt n)`.

**The law of one increment (exact without truncation).** Given the past,
:math:`q/(\tau^2\sigma_{t-1}^2) \sim \chi^2_{n_t-1}` and
:math:`n_t(b-\mu_{t-1})^2/(\tau^2\sigma_{t-1}^2) \sim \chi^2_1` independently (Cochran),
so

.. math::

    \frac{Q_t - Q_{t-1}}{\sigma_{t-1}^2} \sim \tau^2\left(\chi^2_{n_t-1}
        + \frac{N_{t-1}}{N_t}\chi^2_1\right),

a law that does not depend on the past: the standardised increments of a chain are
independent across generations, which lets logs that record only the spread be audited
(:func:`standardized_increments`, :class:`IncrementLaw`). Its CDF is the 1-D integral
:math:`F(x) = \int_0^{\sqrt{x/a}} 2\varphi(u) F_k(x - a u^2)\,du`; the substitution
:math:`u = \sqrt{x/a}\sin\theta` makes the integrand analytic on the whole interval (for
whole k, :math:`F_k(x\cos^2\theta)` is :math:`\cos^k\theta` times an entire function), and
composite Gauss-Legendre (8 panels of 20 nodes, :math:`u \le 12`) is accurate to about 1e-14
(tested against mpmath to 1e-10).

**Limits** (:func:`accumulate_limit`): by the recursion to :math:`T_0 = 2^{20}` plus a
bounded tail. For f = 1, :math:`-\log g_t = -\log(1 - x_t)` with
:math:`x_t = n_t/(N_t(N_t-d))` and :math:`(1-\rho)/N_{T_0} \le \sum_{t>T_0} x_t \le
1/(N_{T_0} - d)` (telescoping; :math:`\rho = (P+1)(1+1/n)/(T_0+1) \ge \sup_{t>T_0}
n_t/N_t`). For f < 1, :math:`v_T \to 0` and the mean's tail is below
:math:`f v_{T_0}/N_{T_0}`; for 1 < f < 2, :math:`v_T \to \infty` (like
:math:`T^{(f-1)(P+1)}`) while :math:`\mathrm{Var}(\mu_T)` converges, its tail bounded by
:math:`g_t \le ((N_t-d)/(N_{t-1}-d))^{f-1}`; for f >= 2 both diverge (None).

References
----------
.. [1] T. F. Chan, G. H. Golub, R. J. LeVeque, "Algorithms for computing the sample
   variance", The American Statistician 37 (1983) 242-247.
.. [2] L. Euler, *Introductio in analysin infinitorum*, 1748, ch. 9 (the sine product).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from collapsecheck.experiment import n_schedule
from collapsecheck.families.gaussian.theory.prediction import RegimePrediction
from collapsecheck.families.gaussian.theory.sampling import (
    SamplingLaw,
    _chunks,
    _LogSumExp,
)
from collapsecheck.families.gaussian.theory.steps import _horizon_iv, _step_iv

__all__ = [
    "IncrementLaw",
    "accumulate_limit",
    "accumulate_moments",
    "chi2_plus_scaled_chi2_1_cdf",
    "chi2_plus_scaled_chi2_1_sf",
    "increment_law",
    "predict",
    "standardized_increments",
]

#: Terms of the recursion behind :func:`accumulate_limit` before the bounded tail.
LIMIT_TERMS = 1 << 20
#: Relative rounding allowance added to the stated errors of :func:`accumulate_limit`
#: (sums of 2^20 log-factors; measured below 3e-13 against Euler's product).
_ROUNDING = 1e-12

# ---------------------------------------------------------------------------------------
# The law of chi2_k + a chi2_1
# ---------------------------------------------------------------------------------------

_U_MAX = 12.0  # the chi2_1 variable's root u is cut at 12: P(|Z| > 12) = 3.6e-33
_PANELS, _NODES = 8, 20
_gl_x, _gl_w = np.polynomial.legendre.leggauss(_NODES)
_edges = np.linspace(0.0, 1.0, _PANELS + 1)
_half = np.diff(_edges) / 2
_NODE_X = ((_edges[:-1] + _half)[:, None] + _half[:, None] * _gl_x).ravel()  # in (0, 1)
_NODE_W = (_half[:, None] * _gl_w).ravel()


def _mix_iv(x, k, a):
    x, k, a = (np.asarray(v, dtype=float) for v in (x, k, a))
    if np.any(~np.isfinite(k) | (k < 1) | (k != np.round(k))):
        raise ValueError(f"`k` must be whole numbers >= 1; got {k}.")
    if np.any(~np.isfinite(a) | (a < 0)):
        raise ValueError(f"`a` must be finite and >= 0; got {a}.")
    if np.any(np.isnan(x)):
        raise ValueError("`x` must not contain NaN.")
    return np.broadcast_arrays(x, k, a)


def _cdf_sf(x, k, a):
    x, k, a = _mix_iv(x, k, a)
    use = (x > 0) & (a > 0) & np.isfinite(x)
    s = np.sqrt(np.where(use, x / np.where(a > 0, a, 1.0), 0.0))
    theta_max = np.arcsin(np.minimum(1.0, _U_MAX / np.where(s > 0, s, 1.0)))
    theta = theta_max[..., None] * _NODE_X
    z = x[..., None] * np.cos(theta) ** 2
    weight = (2.0 * theta_max[..., None] * _NODE_W * s[..., None] * np.cos(theta)
              * np.exp(-0.5 * (s[..., None] * np.sin(theta)) ** 2) / math.sqrt(2 * math.pi))
    weight = np.where(use[..., None], weight, 0.0)
    kk = k[..., None]
    cdf = np.sum(weight * special.chdtr(kk, z), axis=-1)
    sf = np.sum(weight * special.chdtrc(kk, z), axis=-1) + special.erfc(s / math.sqrt(2))
    xpos = np.where(np.isfinite(x), np.maximum(x, 0.0), 0.0)
    cdf = np.where(a > 0, cdf, special.chdtr(k, xpos))
    sf = np.where(a > 0, sf, special.chdtrc(k, xpos))
    cdf = np.where(x > 0, cdf, 0.0)
    sf = np.where(x > 0, sf, 1.0)
    cdf = np.where(np.isposinf(x), 1.0, cdf)
    sf = np.where(np.isposinf(x), 0.0, sf)
    return cdf, sf


def chi2_plus_scaled_chi2_1_cdf(x, k, a):
    r"""CDF of :math:`X + aW`, :math:`X \sim \chi^2_k`, :math:`W \sim \chi^2_1` independent.

    Parameters
    ----------
    x : array_like
        Points (any real; 0 at x <= 0).
    k : int or array_like of int
        Degrees of freedom of X, >= 1.
    a : float or array_like
        Weight of W, >= 0 (a = 0: the :math:`\chi^2_k` CDF; a = 1: :math:`\chi^2_{k+1}`).

    Returns
    -------
    ndarray (or float)
        Broadcast over x, k and a; absolute error about 1e-14.

    Notes
    -----
    .. math::

        F(x) = \int_0^{\pi/2} 2\varphi(s\sin\theta) F_k(x\cos^2\theta)\, s\cos\theta\,
        d\theta, \qquad s = \sqrt{x/a},

    (:math:`u = s \sin\theta`, :math:`W = u^2`), cut at :math:`u = 12`, by composite
    Gauss-Legendre.
    """
    out = _cdf_sf(x, k, a)[0]
    return float(out) if out.ndim == 0 else out


def chi2_plus_scaled_chi2_1_sf(x, k, a):
    r"""Survival function :math:`P(X + aW > x)` (accurate in the upper tail; see
    :func:`chi2_plus_scaled_chi2_1_cdf`)."""
    out = _cdf_sf(x, k, a)[1]
    return float(out) if out.ndim == 0 else out


@dataclass(frozen=True)
class IncrementLaw:
    r"""The exact law of :math:`(Q_t - Q_{t-1})/\sigma_{t-1}^2 = \mathrm{scale}\,
    (\chi^2_k + a\chi^2_1)` at one generation of the accumulate chain (no truncation).

    Attributes
    ----------
    generation : int
        t >= 1.
    k : int
        :math:`n_t - 1`.
    a : float
        :math:`N_{t-1}/N_t` (0 at t = 1).
    scale : float
        :math:`\tau^2`.
    """

    generation: int
    k: int
    a: float
    scale: float = 1.0

    @property
    def mean(self) -> float:
        return self.scale * (self.k + self.a)

    @property
    def var(self) -> float:
        return self.scale**2 * (2 * self.k + 2 * self.a**2)

    def cdf(self, x):
        return chi2_plus_scaled_chi2_1_cdf(np.asarray(x, float) / self.scale, self.k, self.a)

    def sf(self, x):
        return chi2_plus_scaled_chi2_1_sf(np.asarray(x, float) / self.scale, self.k, self.a)


def increment_law(t: int, n: int, *, n_growth: float = 0.0,
                  temperature: float = 1.0) -> IncrementLaw:
    r"""The law of generation t's standardised pool increment
    :math:`(Q_t - Q_{t-1})/\sigma_{t-1}^2` (accumulate, no truncation): see
    :class:`IncrementLaw`. Under truncation the law has no closed form (its mean
    :math:`f(n_t - 1 + N_{t-1}/N_t)` is still exact)."""
    if not (isinstance(t, int | np.integer) and not isinstance(t, bool)) or t < 1:
        raise ValueError(f"`t` must be a whole number >= 1; got {t!r}.")
    _step_iv(n, 0.0)
    law = SamplingLaw(temperature, None)
    ns = n_schedule(n, n_growth, np.arange(1, t + 1))
    total = float(np.sum(ns))
    nt = float(ns[-1])
    return IncrementLaw(generation=int(t), k=int(nt) - 1, a=(total - nt) / total,
                        scale=law.temperature**2)


def standardized_increments(log_var, n: int, ddof: float = 0.0, *,
                            n_growth: float = 0.0) -> np.ndarray:
    r"""The standardised increments :math:`(Q_t - Q_{t-1})/\sigma_{t-1}^2` of recorded
    accumulate chains, from the spread alone.

    Parameters
    ----------
    log_var : array_like, shape (replicates, generations + 1)
        :math:`\log\sigma_t^2`, generation 0 first.
    n, ddof, n_growth : the experiment's.

    Returns
    -------
    ndarray, shape (replicates, generations)
        Column t - 1 holds :math:`((N_t - d)\sigma_t^2 - (N_{t-1} - d)\sigma_{t-1}^2)
        /\sigma_{t-1}^2` (:math:`Q_0 = 0` at t = 1); under the null each column follows
        :func:`increment_law` and the columns are independent.
    """
    lv = np.atleast_2d(np.asarray(log_var, dtype=float))
    _step_iv(n, ddof)
    gens = lv.shape[1] - 1
    if gens < 1:
        raise ValueError(f"`log_var` needs at least 2 generations (0 and 1); got {gens + 1}.")
    big_n = np.cumsum(n_schedule(n, n_growth, np.arange(1, gens + 1)))
    ratio = np.exp(lv[:, 1:] - lv[:, :-1])
    prev = np.concatenate(([0.0], big_n[:-1] - ddof))
    prev[0] = 0.0
    return (big_n - ddof) * ratio - prev


# ---------------------------------------------------------------------------------------
# Moments at generation T and their limits
# ---------------------------------------------------------------------------------------


def _log_g(nt: np.ndarray, big_n: np.ndarray, f: float, log_f: float, ddof: float,
           first: bool) -> np.ndarray:
    """log g_t for a block (``first``: the block starts at t = 1)."""
    arg = nt * ((f - 1.0) - f / big_n) / (big_n - ddof)
    if first:
        arg[0] = 0.0  # t = 1 has its own factor (Q_0 = 0 is not (N_0 - d) v_0)
    out = np.log1p(arg)
    if first:
        out[0] = log_f + math.log1p(-(1 - ddof) / (nt[0] - ddof))
    return out


def _run(generations: int, n: int, ddof: float, f: float, n_growth: float):
    """(log v_T/v_0, log of sum f (v_{t-1}/v_0) n_t/N_t^2, N_T, n_T) by blocks."""
    log_f = math.log(f)
    level, big_prev = 0.0, 0.0
    acc = _LogSumExp()
    nt = np.array([float(n)])
    for t, nt in _chunks(n, n_growth, generations):
        big_n = big_prev + np.cumsum(nt)
        lg = _log_g(nt, big_n, f, log_f, ddof, first=(t[0] == 1))
        cum = level + np.concatenate(([0.0], np.cumsum(lg)))
        acc.add(log_f + cum[:-1] + np.log(nt) - 2 * np.log(big_n))
        level += math.fsum(lg)  # exactly rounded: cum[-1] carries the cumsum's rounding
        big_prev = float(big_n[-1])
    return level, acc.value, big_prev, float(nt[-1])


def _variance_factor(truncate, temperature) -> float:
    f = SamplingLaw(temperature, truncate).variance
    if f == 0.0:
        raise ValueError(f"`truncate` {truncate} is so small that the variance factor "
                         "underflows to 0.")
    return f


def accumulate_moments(generations: int, n: int, ddof: float = 0.0, sigma0: float = 1.0, *,
                       truncate: float | None = None, temperature: float = 1.0,
                       n_growth: float = 0.0) -> tuple[float, float]:
    r"""Natural logs of the exact :math:`E[\sigma_T^2]` and :math:`\mathrm{Var}(\mu_T)` of
    the accumulate chain (module notes). ``ln_mu_var`` is -inf at T = 0.

    Vectorised in blocks of :data:`~collapsecheck.families.gaussian.theory.sampling.CHUNK`
    generations (T = 1e6 takes about 0.1 s).
    """
    _step_iv(n, ddof)
    _horizon_iv(generations)
    f = _variance_factor(truncate, temperature)
    level, log_w, _, _ = _run(generations, n, ddof, f, n_growth)
    ln_s0 = 2 * math.log(sigma0)
    return ln_s0 + level, ln_s0 + log_w


def accumulate_limit(n: int, ddof: float = 0.0, sigma0: float = 1.0, *,
                     truncate: float | None = None, temperature: float = 1.0,
                     n_growth: float = 0.0, terms: int = LIMIT_TERMS) -> dict | None:
    r"""Limits as :math:`T \to \infty` of :math:`E\sigma_T^2` and
    :math:`\mathrm{Var}(\mu_T)` under accumulation.

    Returns
    -------
    dict or None
        ``sigma2_mean`` and ``mu_var`` (data units; None where that limit is infinite),
        ``sigma2_mean_error`` and ``mu_var_error`` (bounds on the absolute error, from the
        bracketed tail after ``terms`` generations; 0 for a closed form), ``terms``,
        ``variance_factor`` and ``method``. None when both diverge (f >= 2).
    """
    _step_iv(n, ddof)
    f = _variance_factor(truncate, temperature)
    if f >= 2.0:
        return None
    s0 = sigma0 * sigma0
    level, log_w, big_n, _ = _run(terms, n, ddof, f, n_growth)
    v_t0 = math.exp(level)
    w_part = math.exp(log_w)
    rho = min(1.0, (n_growth + 1) * (1 + 1 / n) / (terms + 1))
    out = {"terms": terms, "variance_factor": f}
    if f == 1.0:
        lo_tail = (1 - rho) / big_n
        xmax = 1.0 / (big_n - ddof)
        hi_tail = 1.0 / ((big_n - ddof) * (1 - xmax))
        v_hi, v_lo = v_t0 * math.exp(-lo_tail), v_t0 * math.exp(-hi_tail)
        w_lo = w_part + v_lo * (1 - rho) / big_n
        w_hi = w_part + v_t0 / big_n
        sigma2, sigma2_err = (v_hi + v_lo) / 2, (v_hi - v_lo) / 2
        method = ("recursion to `terms` generations plus the telescoping tail bracket "
                  "(1 - rho)/N <= sum x_t <= 1/(N - d)")
        if ddof == 0 and n_growth == 0:
            x = math.pi / math.sqrt(n)
            sigma2, sigma2_err = math.sin(x) / x, 0.0
            method += "; sigma2_mean: Euler's product sin(pi/sqrt n)/(pi/sqrt n)"
    elif f < 1.0:
        sigma2, sigma2_err = 0.0, 0.0
        w_lo, w_hi = w_part, w_part + f * v_t0 / big_n
        method = ("sigma2_mean -> 0 (sum log g_t -> -inf); mu_var: recursion plus the tail "
                  "bound f v_T0/N_T0")
    else:
        sigma2, sigma2_err = None, None
        lo = f * v_t0 * (1 - rho) / big_n if big_n > f / (f - 1) else 0.0
        hi = f * v_t0 * (big_n - ddof) ** (1 - f) * big_n ** (f - 2) / (2 - f)
        w_lo, w_hi = w_part + lo, w_part + hi
        method = ("sigma2_mean diverges (like T^((f-1)(P+1))); mu_var: recursion plus the "
                  "tail bound from g_t <= ((N_t-d)/(N_{t-1}-d))^(f-1)")
    mu_var = (w_lo + w_hi) / 2
    mu_var_err = (w_hi - w_lo) / 2 + _ROUNDING * mu_var
    if sigma2 is not None and sigma2_err != 0.0:
        sigma2_err += _ROUNDING * sigma2
    out.update(
        sigma2_mean=None if sigma2 is None else s0 * sigma2,
        sigma2_mean_error=None if sigma2_err is None else s0 * sigma2_err,
        mu_var=s0 * mu_var, mu_var_error=s0 * mu_var_err,
        method=method + f"; errors include a rounding allowance of {_ROUNDING:g} relative",
    )
    return out


def predict(experiment) -> RegimePrediction:
    """Exact predictions of the accumulate regime for an
    :class:`~collapsecheck.experiment.Experiment` (temperature, truncation and n-growth
    included): ``final.sigma2_mean`` and ``final.mu_var`` exact; ``limit`` as
    :func:`accumulate_limit`; log-scale quantities None (simulation only: the pooled
    variance is not a product of independent steps)."""
    e = experiment
    ln_v, ln_w = accumulate_moments(e.generations, e.n, e.ddof, e.sigma0, truncate=e.truncate,
                                    temperature=e.temperature, n_growth=e.n_growth)
    limit = accumulate_limit(e.n, e.ddof, e.sigma0, truncate=e.truncate,
                             temperature=e.temperature, n_growth=e.n_growth)
    exact = ["final.sigma2_mean", "final.mu_var"]
    methods = {
        "final.sigma2_mean": "exact recursion E Q_t = E Q_{t-1} + f v_{t-1}(n_t - 1 + "
                             "N_{t-1}/N_t), summed in log space",
        "final.mu_var": "exact martingale sum of f v_{t-1} n_t / N_t^2",
    }
    notes = []
    if limit is None:
        notes.append("no limit: with variance factor f >= 2 both E sigma^2 and Var(mu) "
                     "diverge")
    else:
        methods["limit"] = limit["method"]
        if limit["sigma2_mean_error"] == 0.0:
            exact.append("limit.sigma2_mean")
    for key in ("log_sigma2_drift", "log_sigma2_step_var", "final.log_sigma2_mean",
                "final.log_sigma2_sd", "final.sigma_mean", "final.sigma_quantiles"):
        methods[key] = "simulation only: no closed form under accumulation"
    if e.truncate is None:
        notes.append("each standardised pool increment follows tau^2 (chi2_{n_t-1} + "
                     "(N_{t-1}/N_t) chi2_1) exactly (increment_law)")
    return RegimePrediction(
        regime=e.regime, generations=e.generations, mu0=e.mu0, sigma0=e.sigma0,
        ln_sigma2_mean=ln_v, ln_mu_var=ln_w, limit=limit, exact=tuple(exact),
        methods=methods, notes=tuple(notes),
    )
