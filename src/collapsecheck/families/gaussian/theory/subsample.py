r"""Exact moments of the accumulate-subsample regime: generation t refits to n_t draws
taken without replacement from the pool of all draws so far.

Setting (DESIGN.md): generation :math:`t \ge 1` draws :math:`n_t` values from the model
fitted at :math:`t-1` (mean :math:`\mu_{t-1}`, variance :math:`f\sigma_{t-1}^2`,
:math:`f = \tau^2\kappa(C)`, symmetric), adds them to the pool (size
:math:`N_t = n_1 + \dots + n_t`, pooled mean :math:`P_t`, pooled sum of squares
:math:`Q_t`), then takes :math:`n_t` of the :math:`N_t` pooled values without replacement
and fits :math:`\mu_t` (their mean) and :math:`\sigma_t^2 = SS_{sub}/(n_t - d)`. At t = 1
the subsample is the whole pool, so the first step is the replace chain's.

**Derivation.** Write :math:`D_t = P_t - \mu_0`, :math:`M_t = \mu_t - \mu_0`.

*Subsampling* (simple random sampling without replacement; Cochran 1977, thms 2.1, 2.2,
2.4): given the pool, with :math:`S_t^2 = Q_t/(N_t - 1)`,
:math:`E[\mu_t] = P_t`, :math:`\mathrm{Var}(\mu_t) = S_t^2 (1/n_t - 1/N_t)` and
:math:`E[SS_{sub}] = (n_t - 1) S_t^2`. Hence, with
:math:`e_t = \frac{n_t - 1}{(n_t - d)(N_t - 1)}` and
:math:`c_t = \frac{1/n_t - 1/N_t}{N_t - 1}`,

.. math::

    E\sigma_t^2 = e_t\,E Q_t, \qquad E[M_t D_t] = E D_t^2, \qquad
    E M_t^2 = E D_t^2 + c_t\,E Q_t.

*New batch* (mean b, sum of squares q; Chan et al. pool update):
:math:`Q_t = Q_{t-1} + q + \frac{N_{t-1} n_t}{N_t}(b - P_{t-1})^2` and
:math:`D_t = \frac{N_{t-1}}{N_t} D_{t-1} + \frac{n_t}{N_t}(b - \mu_0)`. Given the past,
:math:`E q = (n_t - 1) f\sigma_{t-1}^2` and :math:`b - \mu_{t-1}` has mean 0 and variance
:math:`f\sigma_{t-1}^2/n_t`, so
:math:`E(b - P_{t-1})^2 = f E\sigma_{t-1}^2/n_t + E(M_{t-1} - D_{t-1})^2
= (f e_{t-1}/n_t + c_{t-1}) E Q_{t-1}`, and, since
:math:`b - \mu_0 = (b - \mu_{t-1}) + M_{t-1}` and :math:`E[M D] = E D^2`,
:math:`E D_t^2 = E D_{t-1}^2 + \frac{n_t^2}{N_t^2}\left(c_{t-1} + \frac{f e_{t-1}}{n_t}
\right) E Q_{t-1}` (the weights :math:`N_{t-1}^2 + 2N_{t-1}n_t + n_t^2` sum to
:math:`N_t^2`). Altogether, for :math:`t \ge 2`,

.. math::

    E Q_t = a_t\,E Q_{t-1}, \quad
    a_t = 1 + f e_{t-1}\left(n_t - 1 + \frac{N_{t-1}}{N_t}\right)
          + \frac{N_{t-1} n_t}{N_t} c_{t-1}, \qquad
    E D_t^2 = E D_{t-1}^2 + \frac{n_t^2}{N_t^2}\left(c_{t-1}
              + \frac{f e_{t-1}}{n_t}\right) E Q_{t-1},

from :math:`E Q_1 = f (n_1 - 1)\sigma_0^2`, :math:`E D_1^2 = f\sigma_0^2/n_1`; then
:math:`E\sigma_T^2 = e_T E Q_T` and :math:`\mathrm{Var}(\mu_T) = E M_T^2 = E D_T^2 +
c_T E Q_T` (:math:`E\mu_T = \mu_0`). Only means, variances and the symmetry of the model's
law enter, so truncation, temperature and n-growth are all covered exactly. Verified
against a simulation that keeps the pool explicitly (tests/test_theory_subsample.py).
Log-scale quantities have no closed form here: None (simulation only).

References
----------
.. [1] W. G. Cochran, *Sampling Techniques*, 3rd ed., Wiley 1977, ch. 2.
.. [2] T. F. Chan, G. H. Golub, R. J. LeVeque, "Algorithms for computing the sample
   variance", The American Statistician 37 (1983) 242-247.
"""

from __future__ import annotations

import math

import numpy as np

from collapsecheck.families.gaussian.theory.prediction import RegimePrediction
from collapsecheck.families.gaussian.theory.sampling import SamplingLaw, _chunks, _LogSumExp
from collapsecheck.families.gaussian.theory.steps import _horizon_iv, _step_iv

__all__ = ["predict", "subsample_moments"]


def subsample_moments(generations: int, n: int, ddof: float = 0.0, sigma0: float = 1.0, *,
                      truncate: float | None = None, temperature: float = 1.0,
                      n_growth: float = 0.0) -> tuple[float, float]:
    r"""Natural logs of the exact :math:`E\sigma_T^2` and :math:`\mathrm{Var}(\mu_T)` of the
    accumulate-subsample chain (module notes); ``ln_mu_var`` is -inf at T = 0.

    Summed in log space in blocks (any horizon, bounded memory; T = 1e6 in about 0.2 s).
    """
    _step_iv(n, ddof)
    _horizon_iv(generations)
    f = SamplingLaw(temperature, truncate).variance
    if f == 0.0:
        raise ValueError(f"`truncate` {truncate} is so small that the variance factor "
                         "underflows to 0.")
    ln_s0 = 2 * math.log(sigma0)
    if generations == 0:
        return ln_s0, -math.inf
    log_f = math.log(f)
    # State after generation 1, in units of sigma0^2.
    log_q = log_f + math.log(n - 1)  # log E Q_t
    d_acc = _LogSumExp()  # log E D_t^2, as a running log-sum
    d_acc.add(np.array([log_f - math.log(n)]))
    n_prev, big_prev = float(n), float(n)
    for t, nt in _chunks(n, n_growth, generations):
        if t[0] == 1:
            t, nt = t[1:], nt[1:]
            if t.size == 0:
                continue
        big_n = big_prev + np.cumsum(nt)
        n_lag = np.concatenate(([n_prev], nt[:-1]))  # n_{t-1}
        big_lag = big_n - nt  # N_{t-1}
        e_lag = (n_lag - 1) / ((n_lag - ddof) * (big_lag - 1))
        c_lag = (1 / n_lag - 1 / big_lag) / (big_lag - 1)
        log_a = np.log1p(f * e_lag * (nt - 1 + big_lag / big_n) + big_lag * nt / big_n * c_lag)
        cum = log_q + np.concatenate(([0.0], np.cumsum(log_a)))  # log E Q_{t-1}, t in block
        d_acc.add(cum[:-1] + np.log((nt / big_n) ** 2 * (c_lag + f * e_lag / nt)))
        log_q += math.fsum(log_a)
        n_prev, big_prev = float(nt[-1]), float(big_n[-1])
    e_t = (n_prev - 1) / ((n_prev - ddof) * (big_prev - 1))
    c_t = (1 / n_prev - 1 / big_prev) / (big_prev - 1)
    ln_v = log_q + math.log(e_t)
    if c_t > 0:
        top = max(d_acc.value, log_q + math.log(c_t))
        ln_w = top + math.log(math.exp(d_acc.value - top)
                              + math.exp(log_q + math.log(c_t) - top))
    else:
        ln_w = d_acc.value
    return ln_s0 + ln_v, ln_s0 + ln_w


def predict(experiment) -> RegimePrediction:
    """Exact predictions of the accumulate-subsample regime for an
    :class:`~collapsecheck.experiment.Experiment` (temperature, truncation and n-growth
    included): ``final.sigma2_mean`` and ``final.mu_var`` exact; log-scale quantities and
    limits None."""
    e = experiment
    ln_v, ln_w = subsample_moments(e.generations, e.n, e.ddof, e.sigma0, truncate=e.truncate,
                                   temperature=e.temperature, n_growth=e.n_growth)
    methods = {
        "final.sigma2_mean": "exact linear recursion in E Q_t (pool) and E (P_t - mu0)^2",
        "final.mu_var": "exact: E (P_T - mu0)^2 + E[S_T^2](1/n_T - 1/N_T)",
    }
    for key in ("log_sigma2_drift", "log_sigma2_step_var", "final.log_sigma2_mean",
                "final.log_sigma2_sd", "final.sigma_mean", "final.sigma_quantiles",
                "limit"):
        methods[key] = "simulation only: not derived for accumulate-subsample"
    return RegimePrediction(
        regime=e.regime, generations=e.generations, mu0=e.mu0, sigma0=e.sigma0,
        ln_sigma2_mean=ln_v, ln_mu_var=ln_w, exact=("final.sigma2_mean", "final.mu_var"),
        methods=methods,
        notes=("the subsample is drawn from the pool after the new batch is added; at t = 1 "
               "it is the whole batch",),
    )
