r"""Exact trace theory of the multivariate chain in the accumulate regime: generation t
refits to every draw so far.

Setting (the 1-D chain's, :mod:`collapsecheck.families.gaussian.theory.accumulate`, with
vectors): generation :math:`t \ge 1` draws n vectors from :math:`N_D(\mu_{t-1},
\Sigma_{t-1})`, pools them with the :math:`N_{t-1} = n(t-1)` earlier draws and fits the
pooled mean and :math:`\Sigma_t = Q_t/(N_t - d)`, :math:`Q_t` the pooled scatter matrix
(:math:`Q_0 = 0`; the start :math:`\Sigma_0` is generation 0). The pairwise update of Chan,
Golub and LeVeque holds for scatter matrices: a batch with mean b and scatter matrix S gives

.. math:: Q_t = Q_{t-1} + S + \frac{N_{t-1}n}{N_t}(b - \mu_{t-1})(b - \mu_{t-1})^\top.

**Conditional mean (exact).** Given the past, :math:`E[S] = (n-1)\Sigma_{t-1}` (Wishart
with n - 1 degrees of freedom) and :math:`E[(b-\mu_{t-1})(b-\mu_{t-1})^\top] =
\Sigma_{t-1}/n`; with :math:`Q_{t-1} = (N_{t-1} - d)\Sigma_{t-1}` for t >= 2,

.. math:: E[\Sigma_t \mid \text{past}] = g_t\,\Sigma_{t-1},\qquad
          g_1 = \frac{n-1}{n-d},\quad g_t = 1 - \frac{n}{N_t(N_t - d)}\ (t \ge 2),

the 1-D chain's factors (f = 1) whatever D and the covariance's shape, as the recursion is
linear. Hence :math:`E[\Sigma_T] = \Sigma_0\prod_{t \le T} g_t` and
:math:`E[\operatorname{tr}\Sigma_T] = \operatorname{tr}\Sigma_0\prod_{t\le T} g_t`
(:func:`ln_trace_mean`), and :math:`\operatorname{tr}\Sigma_t/\operatorname{tr}
\Sigma_{t-1} - g_t` are martingale differences.

**Conditional variance (exact, bounded).** With :math:`M` the covariance's eigenvalues,
:math:`\operatorname{tr}S` and :math:`n\|b - \mu_{t-1}\|^2` are independent with variances
:math:`2(n-1)\operatorname{tr}M^2` and :math:`2\operatorname{tr}M^2` (quadratic forms of
independent normals), so

.. math:: \mathrm{Var}\left(\frac{\operatorname{tr}\Sigma_t}{\operatorname{tr}
          \Sigma_{t-1}}\,\middle|\,\text{past}\right)
          = \frac{\operatorname{tr}M^2}{(\operatorname{tr}M)^2}\,s_t^2,\qquad
          s_t^2 = \frac{2[(n-1) + (N_{t-1}/N_t)^2]}{(N_t - d)^2},

between :math:`s_t^2/D` and :math:`s_t^2` (:func:`ratio_scale` is :math:`s_t`). The ratios'
differences from :math:`g_t`, divided by :math:`s_t`, are martingale differences with
conditional variance in [1/D, 1], so their self-normalised sum is N(0, 1) in the limit
(Hall and Heyde 1980, Th. 3.2), as for the replace chain.

**Log det.** Writing :math:`\Sigma_{t-1} = LL^\top`, the same update reads
:math:`\Sigma_t = L\,[(N_{t-1} - d)I + W + \tfrac{N_{t-1}}{N_t}zz^\top]\,L^\top/(N_t - d)`
(t >= 2; :math:`W \sim \mathrm{Wishart}_D(n-1, I)`, :math:`z \sim N(0, I)` independent of
the past), so the steps of log det are independent across generations, each
:math:`\log\det[(N_{t-1}-d)I + W + \frac{N_{t-1}}{N_t}zz^\top] - D\log(N_t - d)` (for
D = 1 the 1-D chain's increment law). That law has no closed form here for D > 1, so the
audit does not test log det under accumulate.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["ln_trace_mean", "ratio_scale", "trace_factors"]


def _iv(generations, n, ddof) -> None:
    for name, value in (("generations", generations), ("n", n)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise TypeError(f"`{name}` must be a whole number; got {value!r}.")
    if generations < 0:
        raise ValueError(f"`generations` must be 0 or more; got {generations}.")
    if n < 2:
        raise ValueError(f"`n` must be at least 2; got {n}.")
    if not (math.isfinite(ddof) and 0 <= ddof < n):
        raise ValueError(f"`ddof` must satisfy 0 <= ddof < n; got ddof={ddof} with n={n}.")


def _gens(generations: int) -> np.ndarray:
    return np.arange(1, generations + 1, dtype=float)


def trace_factors(generations: int, n: int, ddof: float = 0.0) -> np.ndarray:
    r""":math:`g_t = E[\operatorname{tr}\Sigma_t \mid \text{past}]/\operatorname{tr}
    \Sigma_{t-1}` for t = 1..T (module docstring): :math:`(n-1)/(n-d)` at t = 1, then
    :math:`1 - n/(N_t(N_t - d))`, :math:`N_t = nt`."""
    _iv(generations, n, ddof)
    big = n * _gens(generations)
    g = 1.0 - n / (big * (big - ddof))
    if generations:
        g[0] = (n - 1) / (n - ddof)
    return g


def ratio_scale(generations: int, n: int, ddof: float = 0.0) -> np.ndarray:
    r""":math:`s_t = \sqrt{2[(n-1) + (N_{t-1}/N_t)^2]}/(N_t - d)`, t = 1..T: the largest
    conditional SD of :math:`\operatorname{tr}\Sigma_t/\operatorname{tr}\Sigma_{t-1}`
    (reached when the covariance has rank one in effect; a D-th of its square for an
    isotropic one)."""
    _iv(generations, n, ddof)
    t = _gens(generations)
    big = n * t
    return np.sqrt(2.0 * ((n - 1) + ((t - 1) / t) ** 2)) / (big - ddof)


def ln_trace_mean(generations: int, n: int, ddof: float, trace0: float) -> float:
    r""":math:`\log E[\operatorname{tr}\Sigma_T] = \log\operatorname{tr}\Sigma_0 +
    \sum_{t\le T}\log g_t` (exact; each :math:`\log g_t` by ``log1p``)."""
    _iv(generations, n, ddof)
    if not (trace0 > 0 and math.isfinite(trace0)):
        raise ValueError(f"`trace0` must be finite and > 0; got {trace0}.")
    big = n * _gens(generations)
    logs = np.log1p(-n / (big * (big - ddof)))
    if generations:
        logs[0] = math.log1p(-(1 - ddof) / (n - ddof))
    return math.log(trace0) + math.fsum(logs)
