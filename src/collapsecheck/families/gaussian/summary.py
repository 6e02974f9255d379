r"""The Gaussian family's final-generation summary: simulated chains' statistics at the
last generation, with standard errors, beside the exact theory.

For each statistic the estimate, its standard error from the data, a 95% confidence
interval, the exact theory value and the z-score ``(estimate - theory) / se``
(:class:`~collapsecheck.summary.Estimate`, the estimates every family shares):

* means (``sigma_mean``, ``sigma2_mean``, ``log_sigma2_mean``): sample mean, ``se = s /
  sqrt(R)``, Student-t interval;
* spreads (``log_sigma2_sd``, ``mu_var``): sample SD / variance with the delta-method
  standard error from the sample fourth moment (valid without normality),

  .. math:: \widehat{\mathrm{se}}(s^2) = \sqrt{(m_4 - s^4 (R-3)/(R-1))/R},\qquad
            \widehat{\mathrm{se}}(s) = \widehat{\mathrm{se}}(s^2)/(2s);

* quantiles of sigma: the sample quantile and its distribution-free confidence interval
  from order statistics (:func:`scipy.stats.quantile_test`).

A warning to heed (DESIGN.md): at small n and long horizons :math:`\sigma_T^2` is so
heavy-tailed (:math:`E[\sigma_T^4]/E[\sigma_T^2]^2 = ((n+1)/(n-1))^T` for ddof 1) that its
sample mean and standard error can be far off with any practical number of replicates.
``clt_ok`` flags each mean whose exact kurtosis makes the normal interval untrustworthy
at this many replicates (:func:`~collapsecheck.summary._clt_ok`, from the exact moments
of :func:`~collapsecheck.families.gaussian.theory.log_sigma_moment`; for a regime without
them, the sample kurtosis); the log-scale statistics are the reliable ones.

:mod:`collapsecheck.summary` serves :class:`FinalSummary` and :func:`summarize` under
their historical names (``from collapsecheck.summary import summarize``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from collapsecheck.families.gaussian.theory import (
    QUANTILE_LEVELS,
    TheoryPrediction,
    log_sigma_moment,
    mu_fourth_moment,
    mu_var,
)
from collapsecheck.summary import (
    Estimate,
    QuantileEstimate,
    _clt_ok,
    _empirical_clt_ok,
    _log_mean_exp,
    _mean_estimate,
    _var_se,
)

__all__ = ["FinalSummary", "summarize"]


@dataclass(frozen=True)
class FinalSummary:
    """Simulation against theory at the final generation."""

    replicates: int
    generation: int
    sigma_mean: Estimate
    sigma2_mean: Estimate
    log_sigma2_mean: Estimate
    log_sigma2_sd: Estimate
    mu_var: Estimate | None
    sigma_quantiles: dict[str, QuantileEstimate]
    log_scale: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        out = {
            name: getattr(self, name).to_dict()
            for name in ("sigma_mean", "sigma2_mean", "log_sigma2_mean", "log_sigma2_sd")
        }
        out["mu_var"] = None if self.mu_var is None else self.mu_var.to_dict()
        out["sigma_quantiles"] = {k: v.to_dict() for k, v in self.sigma_quantiles.items()}
        out["log_scale"] = self.log_scale
        return out


def summarize(final_log_var: np.ndarray, final_mean: np.ndarray | None,
              theory: TheoryPrediction, *, final_mean_standardised: np.ndarray | None = None,
              experiment=None) -> FinalSummary:
    """Compare final-generation values of R chains with the exact predictions.

    Every statistic is computed in units of sigma0 (log sigma^2 - 2 log sigma0 and
    (mu_T - mu0)/sigma0; pass the latter as ``final_mean_standardised`` when it is known
    without rounding, as the engines record it) and then scaled back, so no mu0 or sigma0
    rounds the numbers away. For a regime other than the article's chain, pass its
    ``experiment`` (``theory`` is then its RegimePrediction). ``log_scale`` holds the
    natural logs of the raw-scale estimates and their exact values, finite where the raw
    numbers underflow to 0 or overflow (then written as null, with a note)."""
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        if final_mean_standardised is None and final_mean is not None:
            final_mean_standardised = ((np.asarray(final_mean, dtype=float) - theory.mu0)
                                       / theory.sigma0)
        return _summarize(final_log_var, final_mean_standardised, theory, experiment)



def _summarize(final_log_var, mean_std, theory, experiment=None) -> FinalSummary:
    """Final-generation statistics against ``theory``: a replace-chain prediction (every
    number exact, the CLT guards from its exact moments) or, with ``experiment``, a regime's
    :class:`~collapsecheck.families.gaussian.theory.prediction.RegimePrediction` (a theory
    value it does not have exactly is None, and the guards use the sample kurtosis)."""
    lv = np.asarray(final_log_var, dtype=float)
    R = lv.size
    regime = experiment is not None
    if regime:
        e = experiment
        T, n, d, s0 = e.generations, e.n, e.ddof, e.sigma0
    else:
        T, n, d, s0 = theory.generations, theory.n, theory.ddof, theory.sigma0
    ln_s0 = math.log(s0)
    lv_std = lv - 2 * ln_s0
    sigma_std = np.exp(0.5 * lv_std)
    # Is each raw-scale mean's standard error trustworthy at R? (exact kurtosis)
    if regime:
        ok_sigma = T == 0 or _empirical_clt_ok(sigma_std)
        ok_sigma2 = T == 0 or _empirical_clt_ok(sigma_std * sigma_std)
    else:
        ok_sigma = T == 0 or _clt_ok(
            {p: log_sigma_moment(T, n, d, s0, p) for p in (1, 2, 3, 4)}, R)
        ok_sigma2 = T == 0 or _clt_ok(
            {p: log_sigma_moment(T, n, d, s0, 2 * p) for p in (1, 2, 3, 4)}, R)
    ln_sm, ln_s2m = theory.ln_sigma_mean, theory.ln_sigma2_mean
    std_theory = (lambda ln, k: None if ln is None else math.exp(ln - k * ln_s0))  # noqa: E731
    summary_sigma = _mean_estimate(sigma_std, std_theory(ln_sm, 1), ok_sigma).scaled(
        ln_s0, theory.sigma_mean)
    summary_sigma2 = _mean_estimate(sigma_std * sigma_std, std_theory(ln_s2m, 2),
                                    ok_sigma2).scaled(2 * ln_s0, theory.sigma2_mean)
    summary_log = _mean_estimate(lv, theory.log_sigma2_mean)
    log_scale: dict = {
        "sigma_mean": {"estimate": _log_mean_exp(0.5 * lv), "theory": ln_sm},
        "sigma2_mean": {"estimate": _log_mean_exp(lv), "theory": ln_s2m},
    }

    if R >= 4:
        s2, se2 = _var_se(lv)
        s = math.sqrt(s2)
        se_s = se2 / (2 * s) if s > 0 else 0.0
        sd_est = Estimate(s, se_s, (s - 1.96 * se_s, s + 1.96 * se_s), theory.log_sigma2_sd)
    else:
        sd_est = Estimate(float(np.std(lv, ddof=1)) if R > 1 else math.nan, math.nan,
                          (math.nan, math.nan), theory.log_sigma2_sd)
    mu_est = None
    if mean_std is not None and R >= 4:
        x = np.asarray(mean_std, dtype=float)
        v, se_v = _var_se(x)
        if regime:
            ok_mu = T == 0 or _empirical_clt_ok(x * x)
            v1 = std_theory(theory.ln_mu_var, 2)
        else:
            # the SE of a sample variance rests on the fourth moment; trust it only where
            # mu_T's exact kurtosis is modest against R (the guard of the mu_var check)
            # (kurtosis is scale-free: computed at sigma0 = 1 so extreme sigma0 cannot
            # overflow)
            kurt = mu_fourth_moment(T, n, d, 1.0) / mu_var(T, n, d, 1.0) ** 2 if T > 0 else 3.0
            ok_mu = T == 0 or (math.isfinite(kurt) and kurt <= 0.002 * R + 3)
            v1 = mu_var(T, n, d, 1.0)
        mu_est = Estimate(v, se_v, (v - 1.96 * se_v, v + 1.96 * se_v), v1, ok_mu).scaled(
            2 * ln_s0, theory.mu_var)
        log_scale["mu_var"] = {"estimate": math.log(v) + 2 * ln_s0 if v > 0 else -math.inf,
                               "theory": theory.ln_mu_var}

    quantiles, ln_q = {}, {}
    th_q, th_ln_q = theory.sigma_quantiles, theory.ln_sigma_quantiles
    for level in QUANTILE_LEVELS:
        key = format(level, "g")
        est = float(np.quantile(sigma_std, level))
        if R >= 2:
            res = stats.quantile_test(sigma_std, q=est, p=level)
            ci = res.confidence_interval(confidence_level=0.95)
            ci95 = (float(ci.low) * s0, float(ci.high) * s0)
        else:
            ci95 = (math.nan, math.nan)
        est *= s0
        quantiles[key] = QuantileEstimate(level, est, ci95,
                                          None if th_q is None else th_q[key])
        ln_q.setdefault(key, {"estimate": 0.5 * float(np.quantile(lv, level)),
                              "theory": None if th_ln_q is None else th_ln_q[key]})
    log_scale["sigma_quantiles"] = ln_q
    return FinalSummary(R, T, summary_sigma, summary_sigma2, summary_log, sd_est, mu_est,
                        quantiles, log_scale)
