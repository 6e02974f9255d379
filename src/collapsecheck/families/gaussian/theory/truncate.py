r"""Exact moments of the replace chain whose model samples a truncated (and possibly
tempered) normal, with fixed or growing n.

Generation :math:`t` draws :math:`x_i = \mu_{t-1} + \tau\sigma_{t-1} Z_i`,
:math:`i = 1..n_t`, with :math:`Z_i` i.i.d. standard normal conditioned on
:math:`|Z_i| \le C` (:mod:`~collapsecheck.families.gaussian.theory.sampling`:
:math:`E Z^2 = \kappa`, :math:`E Z^4 = \mu_4`, :math:`f = \tau^2\kappa`), and fits
:math:`\mu_t = \bar x`, :math:`\sigma_t^2 = SS_t/(n_t - d)`. Because the model is a
location-scale family,

.. math::

    \mu_t = \mu_{t-1} + \tau\sigma_{t-1}\bar Z_t, \qquad
    \sigma_t^2 = \sigma_{t-1}^2 R_t, \qquad R_t = \frac{\tau^2 SS(Z_{t,\cdot})}{n_t - d},

and the :math:`R_t` are independent of each other and of the past (not log-chi-square, and
:math:`\bar Z_t` is not independent of :math:`R_t` under truncation: only uncorrelated).

**Raw moments (exact).** Independence gives :math:`E[\sigma_T^2] = \sigma_0^2
\prod_t E R_t` with :math:`E R_t = f (n_t - 1)/(n_t - d)` (:math:`E\,SS(Z) = (n-1)\kappa`),
and :math:`E[\sigma_T^4] = \sigma_0^4 \prod_t E R_t^2`.

**Mean (exact).** :math:`Z` is symmetric, so :math:`E[\bar Z_t \mid \mathcal F_{t-1}] = 0`:
the increments :math:`\tau\sigma_{t-1}\bar Z_t` form a martingale difference sequence
(whatever the dependence of :math:`\bar Z_t` and :math:`R_t` within a step, since
:math:`\sigma_{t-1}` is :math:`\mathcal F_{t-1}`-measurable). They are uncorrelated, so

.. math::

    E\mu_T = \mu_0, \qquad \mathrm{Var}(\mu_T) = \sum_{t=1}^T \frac{f\,E[\sigma_{t-1}^2]}{n_t}.

**One step ratio (exact).** For i.i.d. data with variance :math:`\kappa` and fourth central
moment :math:`\mu_4`, the unbiased sample variance has
:math:`\mathrm{Var}(s^2) = \mu_4/n - \kappa^2 (n-3)/(n(n-1))` (Cramér 1946, 27.4), so

.. math::

    \mathrm{Var}(R) = \left(\frac{\tau^2 (n-1)}{n-d}\right)^2
        \left[\frac{\mu_4}{n} - \frac{\kappa^2 (n-3)}{n(n-1)}\right],

which is :math:`2(n-1)\tau^4/(n-d)^2` without truncation (:math:`\mu_4 = 3`,
:math:`\kappa = 1`).

**Not exact here.** The law of :math:`\log R` (the sum of squares of truncated normals has
no closed-form law), hence the drift of :math:`\log\sigma^2`, its variance, quantiles and
:math:`E\sigma_T`: those are left None, for simulation only. Without truncation (C = None)
the step is the tempered log-chi-square and, for fixed n, the log-scale drift and variance
are filled in exactly (:math:`\psi(k) + \log 2 - \log(n-d) + \log\tau^2`, :math:`\psi'(k)`).

References
----------
.. [1] H. Cramér, *Mathematical Methods of Statistics*, Princeton 1946, sec. 27.4.
.. [2] N. L. Johnson, S. Kotz, N. Balakrishnan, *Continuous Univariate Distributions*,
   vol. 1, 2nd ed., Wiley 1994, sec. 10.1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from collapsecheck.families.gaussian.theory.prediction import RegimePrediction
from collapsecheck.families.gaussian.theory.sampling import (
    SamplingLaw,
    _chunks,
    _LogSumExp,
)
from collapsecheck.families.gaussian.theory.steps import (
    _horizon_iv,
    _log_geometric_sum,
    _step_iv,
    log_sigma2_drift,
    log_sigma2_step_var,
)

__all__ = ["StepRatioMoments", "predict", "step_ratio_moments", "truncated_moments"]

_SIMULATION_ONLY = ("simulation only: under truncation the step log R is not log-chi-square "
                    "and has no closed-form law")


@dataclass(frozen=True)
class StepRatioMoments:
    r"""Exact moments of one step ratio :math:`R = \sigma_t^2/\sigma_{t-1}^2`.

    Attributes
    ----------
    n, ddof, truncate, temperature : the inputs echoed.
    mean : :math:`E R = f(n-1)/(n-d)`.
    var : :math:`\mathrm{Var}(R)` (see the module notes).
    """

    n: int
    ddof: float
    truncate: float | None
    temperature: float
    mean: float
    var: float

    @property
    def second(self) -> float:
        r""":math:`E R^2 = \mathrm{Var}(R) + (E R)^2`."""
        return self.var + self.mean**2

    @property
    def sd(self) -> float:
        return math.sqrt(self.var)


def step_ratio_moments(n: int, ddof: float = 0.0, truncate: float | None = None,
                       temperature: float = 1.0) -> StepRatioMoments:
    r"""Exact mean and variance of the step ratio :math:`R = \sigma_t^2/\sigma_{t-1}^2` of
    one refit to ``n`` draws of the truncated, tempered model.

    Parameters
    ----------
    n : int
        Draws of the generation, ``n >= 2``.
    ddof : float
        ``0 <= ddof < n``.
    truncate : float or None
        The cut C > 0 (None or inf: none).
    temperature : float
        :math:`\tau > 0`.

    Returns
    -------
    StepRatioMoments

    Notes
    -----
    .. math::

        E R = \frac{\tau^2\kappa(n-1)}{n-d}, \qquad
        \mathrm{Var}(R) = \frac{\tau^4 (n-1)}{n (n-d)^2}\left[(n-1)\mu_4 - (n-3)\kappa^2\right].

    Examples
    --------
    >>> m = step_ratio_moments(5, 1.0)
    >>> m.mean, round(m.var, 12)   # chi2_4 / 4: mean 1, variance 2/4
    (1.0, 0.5)
    """
    _step_iv(n, ddof)
    law = SamplingLaw(temperature, truncate)
    kappa, mu4 = law.kappa, law.mu4
    tau2 = law.temperature**2
    mean = tau2 * kappa * (n - 1) / (n - ddof)
    var = tau2**2 * (n - 1) / (n * (n - ddof) ** 2) * ((n - 1) * mu4 - (n - 3) * kappa**2)
    return StepRatioMoments(n=n, ddof=float(ddof), truncate=law.truncate,
                            temperature=law.temperature, mean=mean, var=var)


def truncated_moments(generations: int, n: int, ddof: float = 0.0, sigma0: float = 1.0, *,
                      truncate: float | None = None, temperature: float = 1.0,
                      n_growth: float = 0.0) -> tuple[float, float]:
    r"""Natural logs of the exact :math:`E[\sigma_T^2]` and :math:`\mathrm{Var}(\mu_T)`.

    Returns
    -------
    (ln_sigma2_mean, ln_mu_var) : tuple of float
        ``ln_mu_var`` is ``-inf`` at T = 0.

    Notes
    -----
    .. math::

        \log E\sigma_T^2 = \log\sigma_0^2 + \sum_{t=1}^T \log\frac{f(n_t-1)}{n_t-d}, \qquad
        \mathrm{Var}(\mu_T) = \sum_{t=1}^T \frac{f\,E\sigma_{t-1}^2}{n_t},

    a geometric sum for fixed n, else summed in log space in blocks (any T, bounded memory).
    """
    _step_iv(n, ddof)
    _horizon_iv(generations)
    f = SamplingLaw(temperature, truncate).variance
    if f == 0.0:
        raise ValueError(f"`truncate` {truncate} is so small that the variance factor "
                         "underflows to 0.")
    log_f = math.log(f)
    ln_s0 = 2 * math.log(sigma0)
    if n_growth == 0:
        log_r = log_f + math.log1p(-(1 - ddof) / (n - ddof))
        return (ln_s0 + generations * log_r,
                ln_s0 + log_f - math.log(n) + _log_geometric_sum(log_r, generations))
    level = 0.0  # log(E sigma_{t-1}^2 / sigma0^2) at the start of each block
    acc = _LogSumExp()
    for _, nt in _chunks(n, n_growth, generations):
        log_r = log_f + np.log1p(-(1 - ddof) / (nt - ddof))
        cum = level + np.concatenate(([0.0], np.cumsum(log_r)))
        acc.add(cum[:-1] - np.log(nt))
        level = float(cum[-1])
    return ln_s0 + level, ln_s0 + log_f + acc.value


def predict(experiment) -> RegimePrediction:
    """Exact predictions of the replace chain with truncation (and optional temperature
    and n-growth) for an :class:`~collapsecheck.experiment.Experiment`.

    ``final.sigma2_mean`` and ``final.mu_var`` are exact; log-scale quantities are None
    under truncation (simulation only). Without truncation and with fixed n the log-scale
    drift, step variance, mean and sd of log sigma^2 are exact and filled in.
    """
    e = experiment
    ln_v, ln_w = truncated_moments(e.generations, e.n, e.ddof, e.sigma0, truncate=e.truncate,
                                   temperature=e.temperature, n_growth=e.n_growth)
    exact = ["final.sigma2_mean", "final.mu_var"]
    methods = {
        "final.sigma2_mean": "exact product of E R_t = f (n_t - 1)/(n_t - ddof)",
        "final.mu_var": "exact martingale sum of f E[sigma_{t-1}^2]/n_t",
    }
    f = SamplingLaw(e.temperature, e.truncate).variance
    notes = [f"variance factor f = tau^2 kappa(C) = {f!r}"]
    drift = step_var = log_mean = log_sd = None
    if e.truncate is None and e.n_growth == 0:
        drift = log_sigma2_drift(e.n, e.ddof) + 2 * math.log(e.temperature)
        step_var = log_sigma2_step_var(e.n)
        log_mean = 2 * math.log(e.sigma0) + e.generations * drift
        log_sd = math.sqrt(e.generations * step_var)
        exact += ["log_sigma2_drift", "log_sigma2_step_var", "final.log_sigma2_mean",
                  "final.log_sigma2_sd"]
        methods["log_sigma2_drift"] = "exact: tempered log-chi-square step (no truncation)"
        notes.append("quantiles of sigma_T are not computed here (see the temperature module)")
    else:
        for key in ("log_sigma2_drift", "log_sigma2_step_var", "final.log_sigma2_mean",
                    "final.log_sigma2_sd", "final.sigma_mean", "final.sigma_quantiles",
                    "prob_step_shrinks"):
            methods[key] = _SIMULATION_ONLY if e.truncate is not None else (
                "simulation only here: with n-growth the steps are not identically "
                "distributed (see the ngrowth module)")
    return RegimePrediction(
        regime=e.regime, generations=e.generations, mu0=e.mu0, sigma0=e.sigma0,
        ln_sigma2_mean=ln_v, ln_mu_var=ln_w, log_sigma2_drift=drift,
        log_sigma2_step_var=step_var, log_sigma2_mean=log_mean, log_sigma2_sd=log_sd,
        exact=tuple(exact), methods=methods, notes=tuple(notes),
    )
