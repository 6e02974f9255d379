r"""Estimates of a statistic from simulated chains, with standard errors, beside exact
theory: the pieces every family's final-generation summary is built from.

An :class:`Estimate` holds a statistic's estimate, its standard error from the data, a
95% confidence interval, the exact theory value (None where there is none) and the
z-score ``(estimate - theory) / se``; a :class:`QuantileEstimate` a sample quantile, its
interval and its exact value. The estimators:

* a mean (:func:`_mean_estimate`): the sample mean, ``se = s / sqrt(R)``, Student-t
  interval;
* a spread (:func:`_var_se`): the sample variance (ddof 1) with the delta-method
  standard error from the sample fourth moment (valid without normality),

  .. math:: \widehat{\mathrm{se}}(s^2) = \sqrt{(m_4 - s^4 (R-3)/(R-1))/R},\qquad
            \widehat{\mathrm{se}}(s) = \widehat{\mathrm{se}}(s^2)/(2s);

* the CLT guard ``clt_ok`` of a mean: False where the kurtosis of the averaged quantity
  makes its standard error untrustworthy at R replicates (that SE's relative error is
  about :math:`\sqrt{(\kappa - 1)/(4R)}`), from the exact raw moments where a family's
  theory has them (:func:`_clt_ok`), else from the sample kurtosis
  (:func:`_empirical_clt_ok`). Raw moments of a collapsing chain are heavy-tailed
  (DESIGN.md), so this matters; log-scale statistics are the reliable ones.

The Gaussian family's final summary (:class:`FinalSummary`, :func:`summarize`) lives in
:mod:`collapsecheck.families.gaussian.summary`; this module serves it under its
historical names when first asked for (so importing this module loads no family). The
categorical and multivariate families build theirs from the estimates here
(``final_summary`` in their ``records`` module).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import ModuleType

import numpy as np
from scipy import stats

from collapsecheck._alias import served_names

__all__ = [  # noqa: F822 - the Gaussian summary's names are served by __getattr__
    "Estimate",
    "FinalSummary",
    "summarize",
]


@dataclass(frozen=True)
class Estimate:
    """A statistic estimated from simulation, its uncertainty, and its exact value."""

    estimate: float
    se: float
    ci95: tuple[float, float]
    theory: float | None
    clt_ok: bool = True
    z_scale_free: float | None = None

    @property
    def z(self) -> float | None:
        """(estimate - theory) / se, taken in units of sigma0 where the statistic was
        computed so (``z_scale_free``: it survives where sigma0's scale underflows the raw
        numbers); NaN when se is 0; None where theory has no exact value."""
        if self.theory is None:
            return None
        if self.z_scale_free is not None:
            return self.z_scale_free
        if self.se > 0:
            return (self.estimate - self.theory) / self.se
        return math.nan

    def scaled(self, log_factor: float, theory: float | None) -> Estimate:
        """This estimate (in units of sigma0^p) times exp(log_factor), against ``theory``;
        its z-score is kept from the unscaled numbers."""
        f = math.exp(log_factor) if log_factor < 709.78 else math.inf
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            return Estimate(self.estimate * f, self.se * f,
                            (self.ci95[0] * f, self.ci95[1] * f), theory, self.clt_ok,
                            None if self.theory is None else self.z)

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


def _log_mean_exp(x: np.ndarray) -> float:
    """log(mean(exp(x))) without overflow or underflow."""
    top = float(np.max(x))
    return top + math.log(float(np.mean(np.exp(x - top))))


def _empirical_clt_ok(y: np.ndarray, tolerance: float = 0.1) -> bool:
    """The guard of :func:`_clt_ok` from the sample kurtosis of ``y``, for regimes whose
    exact fourth moment is not known: a sample mean's standard error is trusted where
    sqrt((kurtosis - 1)/(4R)) stays within ``tolerance``."""
    R = y.size
    if R < 4:
        return False
    c = y - y.mean()
    var = float(np.mean(c * c))
    if not var > 0:
        return True
    kurtosis = float(np.mean(c**4)) / (var * var)
    return math.isfinite(kurtosis) and math.sqrt(max(kurtosis - 1, 0.0) / (4 * R)) <= tolerance


def _gaussian() -> ModuleType:
    """The Gaussian family's final summary (imported when first asked for: it imports
    this module, and importing this one should load no family)."""
    import collapsecheck.families.gaussian.summary as gaussian

    return gaussian


#: The Gaussian final summary's names at their historical path (``FinalSummary``,
#: ``summarize``, ``_summarize``: :mod:`collapsecheck.families.gaussian.summary`).
__getattr__, __dir__ = served_names(globals(), _gaussian)
