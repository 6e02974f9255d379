r"""Final-generation statistics of simulated chains, with standard errors, beside theory.

For each statistic the estimate, its standard error from the data, a 95% confidence
interval, the exact theory value and the z-score ``(estimate - theory) / se``:

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
at this many replicates; the log-scale statistics are the reliable ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from collapsecheck.theory import (
    QUANTILE_LEVELS,
    TheoryPrediction,
    log_sigma_moment,
    mu_fourth_moment,
    mu_var,
)

__all__ = ["Estimate", "FinalSummary", "summarize"]


@dataclass(frozen=True)
class Estimate:
    """A statistic estimated from simulation, its uncertainty, and its exact value."""

    estimate: float
    se: float
    ci95: tuple[float, float]
    theory: float
    clt_ok: bool = True

    @property
    def z(self) -> float:
        """(estimate - theory) / se; NaN when se is 0 (e.g. sigma underflowed to 0 in every
        chain: then the comparison says nothing, and the log-scale statistics carry it)."""
        if self.se > 0:
            return (self.estimate - self.theory) / self.se
        return math.nan

    def to_dict(self) -> dict:
        return {
            "estimate": self.estimate,
            "se": self.se,
            "ci95": list(self.ci95),
            "theory": self.theory,
            "z": self.z,
            "clt_ok": self.clt_ok,
        }


@dataclass(frozen=True)
class QuantileEstimate:
    level: float
    estimate: float
    ci95: tuple[float, float]
    theory: float

    def to_dict(self) -> dict:
        return {"estimate": self.estimate, "ci95": list(self.ci95), "theory": self.theory}


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

    def to_dict(self) -> dict:
        out = {
            name: getattr(self, name).to_dict()
            for name in ("sigma_mean", "sigma2_mean", "log_sigma2_mean", "log_sigma2_sd")
        }
        out["mu_var"] = None if self.mu_var is None else self.mu_var.to_dict()
        out["sigma_quantiles"] = {k: v.to_dict() for k, v in self.sigma_quantiles.items()}
        return out


def _mean_estimate(x: np.ndarray, theory: float, clt_ok: bool = True) -> Estimate:
    R = x.size
    m = float(np.mean(x))
    if R < 2:
        return Estimate(m, math.nan, (math.nan, math.nan), theory, clt_ok)
    se = float(np.std(x, ddof=1)) / math.sqrt(R)
    half = float(stats.t.ppf(0.975, R - 1)) * se
    return Estimate(m, se, (m - half, m + half), theory, clt_ok)


def _var_se(x: np.ndarray) -> tuple[float, float]:
    """Sample variance (ddof 1) and its delta-method standard error."""
    R = x.size
    s2 = float(np.var(x, ddof=1))
    m4 = float(np.mean((x - x.mean()) ** 4))
    se2 = math.sqrt(max(m4 - s2 * s2 * (R - 3) / (R - 1), 0.0) / R)
    return s2, se2


def _clt_ok(log_raw_moments: dict[int, float], replicates: int, tolerance: float = 0.1) -> bool:
    """True when the exact kurtosis of Y, from its raw moments ``E[Y^p]`` for p = 1..4
    (natural logs), lets the sample mean's standard error be estimated within
    ``tolerance`` (relative) at this many replicates: that error is about
    sqrt((kurtosis - 1)/(4R))."""
    lm1 = log_raw_moments[1]
    with np.errstate(over="ignore"):
        r = {p: math.exp(min(log_raw_moments[p] - p * lm1, 700.0)) for p in (2, 3, 4)}
    var = r[2] - 1.0
    if not var > 0:
        return True
    mu4 = r[4] - 4 * r[3] + 6 * r[2] - 3.0
    kurtosis = mu4 / (var * var)
    se_rel_error = math.sqrt(max(kurtosis - 1, 0.0) / (4 * replicates))
    return math.isfinite(kurtosis) and se_rel_error <= tolerance


def summarize(final_log_var: np.ndarray, final_mean: np.ndarray | None,
              theory: TheoryPrediction) -> FinalSummary:
    """Compare final-generation values of R chains with the exact predictions.

    Where sigma^2 exceeds double precision (sigma0 near 1e300), raw-scale statistics
    come out infinite or NaN, and the records say so in their ``notes``; the log-scale
    statistics stay finite."""
    with np.errstate(over="ignore", invalid="ignore"):
        return _summarize(final_log_var, final_mean, theory)


def _summarize(final_log_var, final_mean, theory) -> FinalSummary:
    lv = np.asarray(final_log_var, dtype=float)
    R = lv.size
    T, n, d, s0 = theory.generations, theory.n, theory.ddof, theory.sigma0
    sigma = np.exp(0.5 * lv)
    # Is each raw-scale mean's standard error trustworthy at R? (exact kurtosis)
    ok_sigma = T == 0 or _clt_ok({p: log_sigma_moment(T, n, d, s0, p) for p in (1, 2, 3, 4)}, R)
    ok_sigma2 = T == 0 or _clt_ok(
        {p: log_sigma_moment(T, n, d, s0, 2 * p) for p in (1, 2, 3, 4)}, R)
    summary_sigma = _mean_estimate(sigma, theory.sigma_mean, ok_sigma)
    summary_sigma2 = _mean_estimate(sigma * sigma, theory.sigma2_mean, ok_sigma2)
    summary_log = _mean_estimate(lv, theory.log_sigma2_mean)

    if R >= 4:
        s2, se2 = _var_se(lv)
        s = math.sqrt(s2)
        se_s = se2 / (2 * s) if s > 0 else 0.0
        sd_est = Estimate(s, se_s, (s - 1.96 * se_s, s + 1.96 * se_s), theory.log_sigma2_sd)
    else:
        sd_est = Estimate(float(np.std(lv, ddof=1)) if R > 1 else math.nan, math.nan,
                          (math.nan, math.nan), theory.log_sigma2_sd)
    mu_est = None
    if final_mean is not None and R >= 4:
        v, se_v = _var_se(np.asarray(final_mean, dtype=float))
        # the SE of a sample variance rests on the fourth moment; trust it only where
        # mu_T's exact kurtosis is modest against R (the guard of the mu_var check)
        # (kurtosis is scale-free: computed at sigma0 = 1 so extreme sigma0 cannot overflow)
        kurt = mu_fourth_moment(T, n, d, 1.0) / mu_var(T, n, d, 1.0) ** 2 if T > 0 else 3.0
        ok_mu = T == 0 or (math.isfinite(kurt) and kurt <= 0.002 * R + 3)
        mu_est = Estimate(v, se_v, (v - 1.96 * se_v, v + 1.96 * se_v), theory.mu_var, ok_mu)

    quantiles = {}
    for level in QUANTILE_LEVELS:
        key = format(level, "g")
        est = float(np.quantile(sigma, level))
        if R >= 2:
            res = stats.quantile_test(sigma, q=est, p=level)
            ci = res.confidence_interval(confidence_level=0.95)
            ci95 = (float(ci.low), float(ci.high))
        else:
            ci95 = (math.nan, math.nan)
        quantiles[key] = QuantileEstimate(level, est, ci95, theory.sigma_quantiles[key])
    return FinalSummary(R, T, summary_sigma, summary_sigma2, summary_log, sd_est, mu_est, quantiles)
