r"""Exact theory of the replace chain whose model samples at a temperature.

The fitted model :math:`N(\mu_{t-1}, \sigma_{t-1}^2)` generates at temperature
:math:`\tau > 0`: generation :math:`t` draws :math:`x_1..x_n \sim N(\mu_{t-1},
\tau^2\sigma_{t-1}^2)` and refits :math:`\mu_t = \bar x`,
:math:`\sigma_t^2 = \sum_i (x_i - \bar x)^2/(n - d)`. By Cochran's theorem, as for the base
chain, :math:`\bar x \sim N(\mu_{t-1}, \tau^2\sigma_{t-1}^2/n)` independently of
:math:`\sum_i (x_i - \bar x)^2 = \tau^2\sigma_{t-1}^2 Q_t`, :math:`Q_t \sim \chi^2_{n-1}`.
So :math:`\log\sigma^2` is still a random walk, each step the base step shifted:

.. math::

    X_t^{(\tau)} = \log Q_t - \log(n - d) + 2\log\tau, \qquad
    S_T^{(\tau)} = S_T + 2T\log\tau,

and every quantity of the base chain (:mod:`.replace`) carries over exactly:

* drift :math:`\psi(k) + \log 2 - \log(n-d) + 2\log\tau`, step variance :math:`\psi'(k)`;
* :math:`E[\sigma_T^p] = E_{\tau=1}[\sigma_T^p]\,\tau^{pT}`;
* quantiles :math:`q_p(\sigma_T) = \tau^T q_p^{\tau=1}(\sigma_T)` (a shift of
  :math:`T\log\tau` in :math:`\log\sigma_T`);
* :math:`\mathrm{Var}(\mu_T) = \frac{\sigma_0^2\tau^2}{n}\sum_{t=0}^{T-1}
  \left(\tau^2\frac{n-1}{n-d}\right)^t` (increments of :math:`\mu` are uncorrelated with
  conditional variance :math:`\tau^2\sigma_{t-1}^2/n`, and
  :math:`E[\sigma_t^2] = \tau^2\frac{n-1}{n-d}E[\sigma_{t-1}^2]`);
* :math:`P(X^{(\tau)} < 0) = F_{\chi^2_{n-1}}((n-d)/\tau^2)`.

The temperature :math:`\tau_0 = e^{-E[X]/2}` makes the walk driftless (:math:`\tau_0 > 1`
whenever the base drift is negative, e.g. ddof <= 1); it is *not* the temperature that keeps
:math:`E[\sigma_t^2]` constant, which is :math:`\sqrt{(n-d)/(n-1)}`.

Everything is computed in logs, so horizons of :math:`10^6` generations stay finite.

References
----------
.. [1] W. G. Cochran, "The distribution of quadratic forms in a normal system",
   Proc. Cambridge Philos. Soc. 30 (1934) 178-191.
"""

from __future__ import annotations

import math

from collapsecheck.families.gaussian.theory.prediction import RegimePrediction
from collapsecheck.families.gaussian.theory.replace import (
    LogVarianceLaw,
    StepLaw,
    log_sigma_moment,
    sigma_quantiles,
)
from collapsecheck.families.gaussian.theory.steps import (
    _horizon_iv,
    _log_geometric_sum,
    _step_iv,
    log_sigma2_drift,
)

__all__ = ["EXACT_KEYS", "log_mu_var_tempered", "predict", "zero_drift_temperature"]

#: Keys of :meth:`RegimePrediction.final` and top-level fields that are exact here (all).
EXACT_KEYS: tuple[str, ...] = (
    "sigma_mean",
    "sigma2_mean",
    "log_sigma2_mean",
    "log_sigma2_sd",
    "mu_mean",
    "mu_var",
    "sigma_quantiles",
    "log_sigma2_drift",
    "log_sigma2_step_var",
    "prob_step_shrinks",
    "zero_drift_temperature",
)


def _temperature_iv(temperature) -> None:
    if isinstance(temperature, bool) or not isinstance(temperature, int | float):
        raise TypeError(f"`temperature` must be a real number; got {temperature!r}.")
    if not (math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"`temperature` must be a finite number > 0; got {temperature}.")


def zero_drift_temperature(n: int, ddof: float = 0.0) -> float:
    r"""The temperature at which the walk in :math:`\log\sigma^2` has no drift.

    .. math:: \tau_0 = e^{-E[X]/2}, \qquad E[X] = \psi(k) + \log 2 - \log(n - d),

    so that :math:`E[X] + 2\log\tau_0 = 0` exactly (up to rounding). With
    :math:`\tau > \tau_0` the walk drifts up, below it down. Since
    :math:`E[X] \approx -(2-d)/n`, :math:`\tau_0 \approx 1 + (2-d)/(2n)`.
    """
    return math.exp(-0.5 * log_sigma2_drift(n, ddof))


def log_mu_var_tempered(
    generations: int, n: int, ddof: float = 0.0, sigma0: float = 1.0, temperature: float = 1.0
) -> float:
    r"""Natural log of :math:`\mathrm{Var}(\mu_T) = \frac{\sigma_0^2\tau^2}{n}
    \sum_{t=0}^{T-1}\rho^t`, :math:`\rho = \tau^2 (n-1)/(n-d)`; ``-inf`` at T = 0.
    Equal to :func:`~.replace.log_mu_var` (same operations) at :math:`\tau = 1`."""
    _step_iv(n, ddof)
    _horizon_iv(generations)
    _temperature_iv(temperature)
    two_lt = 2 * math.log(temperature)
    log_rho = math.log1p(-(1 - ddof) / (n - ddof)) + two_lt
    return 2 * math.log(sigma0) + two_lt - math.log(n) + _log_geometric_sum(log_rho, generations)


def predict(experiment) -> RegimePrediction:
    """Exact predictions for a replace experiment at temperature ``experiment.temperature``
    (fixed n, no truncation).

    Parameters
    ----------
    experiment : collapsecheck.experiment.Experiment
        ``regime`` must be 'replace', ``n_growth`` 0 and ``truncate`` None.

    Returns
    -------
    RegimePrediction
        Every field exact (``exact`` lists them); ``regime`` is 'replace'.

    Examples
    --------
    >>> from collapsecheck import Experiment
    >>> e = Experiment(n=10, generations=100, replicates=1, seed=0, temperature=1.1)
    >>> round(predict(e).log_sigma2_mean, 6)  # 100 (E[X] + 2 log 1.1)
    -2.994663
    """
    e = experiment
    if e.regime != "replace":
        raise ValueError(f"temperature theory covers `regime` 'replace' only; got {e.regime!r}.")
    if e.n_growth != 0:
        raise ValueError(f"temperature theory needs `n_growth` 0 (use the n-growth theory); "
                         f"got {e.n_growth}.")
    if e.truncate is not None:
        raise ValueError(f"temperature theory needs `truncate` None; got {e.truncate}.")
    tau, T = e.temperature, e.generations
    _temperature_iv(tau)
    lt = math.log(tau)
    step = StepLaw(e.n, e.ddof)
    law = LogVarianceLaw(e.n, T, e.ddof)
    base_q = sigma_quantiles(T, e.n, e.ddof, e.sigma0)
    shift = "the base chain's (replace.py) shifted by 2 T log(tau) in log sigma^2"
    return RegimePrediction(
        regime="replace",
        generations=T,
        mu0=e.mu0,
        sigma0=e.sigma0,
        log_sigma2_drift=step.drift + 2 * lt,
        log_sigma2_step_var=step.var,
        log_sigma2_mean=2 * math.log(e.sigma0) + law.mean + 2 * T * lt,
        log_sigma2_sd=law.sd,
        ln_sigma_mean=log_sigma_moment(T, e.n, e.ddof, e.sigma0, 1.0) + T * lt,
        ln_sigma2_mean=log_sigma_moment(T, e.n, e.ddof, e.sigma0, 2.0) + 2 * T * lt,
        ln_mu_var=log_mu_var_tempered(T, e.n, e.ddof, e.sigma0, tau),
        ln_sigma_quantiles={key: v + T * lt for key, v in base_q.items()},
        prob_step_shrinks=step.prob_below(-2 * lt),
        zero_drift_temperature=zero_drift_temperature(e.n, e.ddof),
        exact=EXACT_KEYS,
        methods={
            "log_sigma2_drift": "exact: psi(k) + log 2 - log(n - ddof) + 2 log(tau)",
            "log_sigma2_step_var": "exact: trigamma((n - 1)/2)",
            "log_sigma2_mean": "exact: " + shift,
            "log_sigma2_sd": "exact: the base chain's (a shift leaves it unchanged)",
            "sigma_mean": "exact: base E[sigma_T] (gamma ratios) times tau^T, in logs",
            "sigma2_mean": "exact: base E[sigma_T^2] times tau^(2T), in logs",
            "mu_var": "exact: sigma0^2 tau^2/n sum_{t<T} (tau^2 (n-1)/(n-ddof))^t, in logs",
            "sigma_quantiles": "exact (Gil-Pelaez inversion, ~1e-12 in F): " + shift,
            "prob_step_shrinks": "exact: chi-square CDF at (n - ddof)/tau^2",
            "zero_drift_temperature": "exact: exp(-E[X]/2), E[X] the base drift",
        },
    )
