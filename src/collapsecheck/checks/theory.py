"""Checks of simulated chains against the exact law (family ``theory``).

* ``log_var_gof``: the final log sigma_T^2 against its exact law (KS on the exact CDF
  from characteristic-function inversion, not a normal approximation; tabulated once
  per design within 1e-11, :meth:`collapsecheck.theory.LogVarianceLaw.tabulated_cdf`).
* ``increment_gof``: every per-generation increment of log sigma^2 against the exact
  one-step law (increments are i.i.d. under H0, so all R*T of them are pooled).
* ``mean_increment_gof``: the fitted mean's increments, standardised by the previous
  sigma, ``sqrt(n) (mu_t - mu_{t-1}) / sigma_{t-1}``, against N(0, 1) (exact and i.i.d.
  under H0; catches a mean drawn with the wrong spread).
* ``sigma_mean``, ``sigma2_mean``: the sample mean of sigma_T or sigma_T^2 against the
  exact moment, z-test with the exact standard error; refused at designs where the
  heavy tail breaks the normal approximation (DESIGN.md's trap).
* ``mu_var``: the mean square of mu_T - mu_0 against the exact Var(mu_T), z-test with the
  exact standard error from the exact fourth moment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import stats as sps

from collapsecheck import stats
from collapsecheck.checks.base import Check, Outcome
from collapsecheck.theory import (
    LogVarianceLaw,
    StepLaw,
    log_sigma_moment,
    mu_fourth_moment,
    mu_var,
)

__all__ = [
    "IncrementGof",
    "LogVarGof",
    "MeanIncrementGof",
    "MuVar",
    "Sigma2Mean",
    "SigmaMean",
]

_POWER = 0.9
_QUANTILES = (0.025, 0.5, 0.975)


@lru_cache(maxsize=128)
def _exact_quantiles(n: int, generations: int, ddof: float) -> tuple[float, ...]:
    """Exact quantiles of S_T at ``_QUANTILES`` (the same at every seed: computed once,
    by the law whose quadrature the tabulated CDF already holds)."""
    law = LogVarianceLaw(n, generations, ddof).tabulated_cdf().law
    return tuple(np.atleast_1d(law.ppf(np.array(_QUANTILES))).tolist())


@dataclass(frozen=True)
class LogVarGof(Check):
    type = "log_var_gof"
    family = "theory"

    def statement(self) -> str:
        return (f"log sigma_T^2 at T={self.generations} (n={self.n}, ddof={self.ddof:g}) follows "
                "its exact law (a sum of T log-chi-square steps)")

    def test_name(self) -> str:
        return ("one-sample Kolmogorov-Smirnov on the exact CDF, tabulated within 1e-11 "
                "(scipy.stats.kstest)")

    def validate_design(self) -> None:
        if self.generations < 1:
            raise ValueError(f"check {self.id!r}: `generations` must be >= 1.")

    def run(self, experiment, simulator) -> Outcome:
        traj = simulator(experiment, "final")
        law = LogVarianceLaw(self.n, self.generations, self.ddof)
        s = traj.final_log_var - 2 * math.log(self.sigma0)
        # the exact CDF, tabulated once per design (within 1e-11: moves the KS distance by
        # at most that, see TabulatedCDF)
        res = stats.gof_exact(s, law.tabulated_cdf())
        q = np.array(_QUANTILES)
        return Outcome(res.statistic, res.pvalue, {
            "ks_distance": res.statistic,
            "sample_quantiles_log_sigma2": np.quantile(s, q).tolist(),
            "exact_quantiles_log_sigma2": list(_exact_quantiles(self.n, self.generations,
                                                                float(self.ddof))),
            "sample_mean": float(np.mean(s)), "exact_mean": law.mean,
            "sample_sd": float(np.std(s, ddof=1)), "exact_sd": law.sd,
        })

    def detectable_effect(self, alpha, replicates) -> dict:
        gap = stats.kolmogorov_detectable_gap(replicates, alpha, _POWER)
        law = LogVarianceLaw(self.n, self.generations, self.ddof)
        # a location shift d of a near-normal law moves the CDF by about d * f(mode)
        shift = gap / 0.3989 * law.sd
        return {"metric": "max |F_sim - F_exact| of log sigma_T^2", "value": gap,
                "power": _POWER,
                "drift_error_per_generation": shift / self.generations,
                "note": "a per-generation drift error of that size shifts log sigma_T^2 enough "
                        "(normal approximation of the shift)"}


@dataclass(frozen=True)
class IncrementGof(Check):
    type = "increment_gof"
    family = "theory"

    def statement(self) -> str:
        return (f"each per-generation increment of log sigma^2 (n={self.n}, ddof={self.ddof:g}) "
                "follows the exact one-step law log(chi2_{n-1}/(n-ddof))")

    def test_name(self) -> str:
        return "one-sample Kolmogorov-Smirnov, all R*T increments pooled (scipy.stats.kstest)"

    def validate_design(self) -> None:
        if self.generations < 1:
            raise ValueError(f"check {self.id!r}: `generations` must be >= 1.")

    def run(self, experiment, simulator) -> Outcome:
        traj = simulator(experiment, "all")
        steps = np.diff(traj.log_var, axis=1).ravel()
        step = StepLaw(self.n, self.ddof)
        res = stats.gof_exact(steps, step.cdf)
        return Outcome(res.statistic, res.pvalue, {
            "increments": steps.size, "ks_distance": res.statistic,
            "sample_mean": float(steps.mean()), "exact_mean": step.drift,
            "sample_var": float(steps.var(ddof=1)), "exact_var": step.var,
        })

    def detectable_effect(self, alpha, replicates) -> dict:
        N = replicates * self.generations
        gap = stats.kolmogorov_detectable_gap(N, alpha, _POWER)
        step = StepLaw(self.n, self.ddof)
        return {"metric": "max |F_sim - F_exact| of one increment", "value": gap,
                "power": _POWER, "drift_error_per_generation": gap / 0.3989 * math.sqrt(step.var)}


@dataclass(frozen=True)
class MeanIncrementGof(Check):
    type = "mean_increment_gof"
    family = "theory"

    def statement(self) -> str:
        return (f"the fitted mean's increments, sqrt(n)(mu_t - mu_(t-1))/sigma_(t-1), are "
                f"i.i.d. N(0, 1) (n={self.n})")

    def test_name(self) -> str:
        return "one-sample Kolmogorov-Smirnov against N(0, 1) (scipy.stats.kstest)"

    def validate_design(self) -> None:
        if self.generations < 1:
            raise ValueError(f"check {self.id!r}: `generations` must be >= 1.")

    def run(self, experiment, simulator) -> Outcome:
        traj = simulator(experiment, "all")
        if traj.mean is None:
            raise ValueError("the simulator returned no means; this check needs them.")
        # Everything in units of sigma0, from the coordinates the means were stored in
        # (so that neither mu0 nor sigma0 can swallow an increment).
        scale = traj.mean_scale / self.sigma0
        stored = traj.mean
        with np.errstate(under="ignore"):
            step_sd = np.exp(0.5 * (traj.log_var[:, :-1] - 2 * math.log(self.sigma0)))
        step_sd /= math.sqrt(self.n)
        # Keep increments that double precision resolves: a difference of two stored means
        # carries a rounding error of about 2**-52 * (|m_t| + |m_(t-1)|), which must be
        # below 1e-7 of the increment's SD (late in a collapsed chain sigma is far below
        # |mu| and the increments are lost in rounding, by any simulator).
        rounding = 2.0**-52 * (np.abs(stored[:, 1:]) + np.abs(stored[:, :-1])) * scale
        ok = step_sd > 1e7 * rounding
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            z = (np.diff(stored, axis=1) * scale)[ok] / step_sd[ok]
        z = z[np.isfinite(z)]
        res = stats.gof_exact(z, sps.norm.cdf)
        return Outcome(res.statistic, res.pvalue, {
            "increments": int(z.size), "increments_below_rounding": int((~ok).sum()),
            "ks_distance": res.statistic,
            "sample_mean": float(z.mean()), "sample_var": float(z.var(ddof=1)),
        })

    def detectable_effect(self, alpha, replicates) -> dict:
        N = replicates * self.generations
        gap = stats.kolmogorov_detectable_gap(N, alpha, _POWER)
        # a scale error c on N(0,1) gives a max CDF gap of about 0.242 |c - 1|
        return {"metric": "max |F_sim - Phi| of a standardised mean increment", "value": gap,
                "power": _POWER, "relative_sd_error": gap / 0.242}


def _exact_mean_test_design(log_moment, replicates):
    """Exact mean, SD, and skewness/excess kurtosis of the sample mean of Y from the
    natural logs of E[Y^p], p = 1..4."""
    lm = {p: log_moment(p) for p in (1, 2, 3, 4)}
    r = {p: math.exp(min(lm[p] - p * lm[1], 700.0)) for p in (2, 3, 4)}
    var_rel = r[2] - 1.0
    m1 = math.exp(lm[1])
    sd = m1 * math.sqrt(max(var_rel, 0.0))
    if var_rel <= 0:
        return m1, sd, 0.0, 0.0
    mu3 = r[3] - 3 * r[2] + 2
    mu4 = r[4] - 4 * r[3] + 6 * r[2] - 3
    skew = mu3 / var_rel**1.5
    exkurt = mu4 / var_rel**2 - 3
    return m1, sd, skew / math.sqrt(replicates), exkurt / replicates


@lru_cache(maxsize=1024)
def _log_sigma_moment(generations: int, n: int, ddof: float, sigma0: float, p: float) -> float:
    """:func:`~collapsecheck.theory.log_sigma_moment`, computed once per design (its
    asymptotic series is a few milliseconds of Python, the same at every seed)."""
    return log_sigma_moment(generations, n, ddof, sigma0, p)


# Normal approximation of a sample mean trusted when its skewness and excess kurtosis are
# this small (Edgeworth: tail probabilities then off by a few tens of percent at most).
_MAX_MEAN_SKEW = 0.05
_MAX_MEAN_EXKURT = 0.05


@dataclass(frozen=True)
class _RawMoment(Check):
    power_of_sigma = 1.0
    label = "sigma_T"

    def _log_moment(self, p):
        return _log_sigma_moment(self.generations, self.n, float(self.ddof),
                                 float(self.sigma0), float(self.power_of_sigma * p))

    def validate_design(self) -> None:
        _, _, skew, exk = _exact_mean_test_design(self._log_moment, self.replicates)
        if abs(skew) > _MAX_MEAN_SKEW or abs(exk) > _MAX_MEAN_EXKURT:
            raise ValueError(
                f"check {self.id!r}: at n={self.n}, T={self.generations} the sample mean of "
                f"{self.label} over {self.replicates} replicates has skewness {skew:.3g} and "
                f"excess kurtosis {exk:.3g} (limits {_MAX_MEAN_SKEW}, {_MAX_MEAN_EXKURT}): "
                "its normal approximation would break the false-alarm budget. Use more "
                "replicates, a shorter horizon, or the log-scale check log_var_gof."
            )

    def statement(self) -> str:
        return (f"the mean of {self.label} at T={self.generations} (n={self.n}, "
                f"ddof={self.ddof:g}) equals its exact value (gamma-function ratio)")

    def test_name(self) -> str:
        return ("two-sided z-test with the exact standard error (normal approximation "
                "verified from the exact skewness and kurtosis of the mean)")

    def run(self, experiment, simulator) -> Outcome:
        traj = simulator(experiment, "final")
        y = np.exp(0.5 * self.power_of_sigma * traj.final_log_var)
        m1, sd, skew, exk = _exact_mean_test_design(self._log_moment, y.size)
        se = sd / math.sqrt(y.size)
        z = stats.z_test(float(y.mean()), se, null=m1)
        ci = z.confidence_interval()
        return Outcome(z.statistic, z.pvalue, {
            "estimate": float(y.mean()), "exact": m1, "se_exact": se,
            "se_sample": float(y.std(ddof=1) / math.sqrt(y.size)),
            "ci95": [ci.low, ci.high], "mean_skewness": skew, "mean_excess_kurtosis": exk,
        })

    def detectable_effect(self, alpha, replicates) -> dict:
        m1, sd, _, _ = _exact_mean_test_design(self._log_moment, replicates)
        d = (sps.norm.isf(alpha / 2) + sps.norm.ppf(_POWER)) * sd / math.sqrt(replicates)
        return {"metric": f"|mean of {self.label} - exact|", "value": d, "relative": d / m1,
                "power": _POWER}


@dataclass(frozen=True)
class SigmaMean(_RawMoment):
    type = "sigma_mean"
    family = "theory"
    power_of_sigma = 1.0
    label = "sigma_T"


@dataclass(frozen=True)
class Sigma2Mean(_RawMoment):
    type = "sigma2_mean"
    family = "theory"
    power_of_sigma = 2.0
    label = "sigma_T^2"


@dataclass(frozen=True)
class MuVar(Check):
    type = "mu_var"
    family = "theory"

    def _design(self, replicates, sigma0: float | None = None):
        s0 = self.sigma0 if sigma0 is None else sigma0
        v = mu_var(self.generations, self.n, self.ddof, s0)
        m4 = mu_fourth_moment(self.generations, self.n, self.ddof, s0)
        sd = math.sqrt(max(m4 - v * v, 0.0))
        return v, sd / math.sqrt(replicates), m4 / (v * v)

    def validate_design(self) -> None:
        if self.generations < 1:
            raise ValueError(f"check {self.id!r}: `generations` must be >= 1.")
        _, _, kurt = self._design(self.replicates, sigma0=1.0)  # scale-free
        # skewness of the squared deviation's mean is about sqrt((kurt-1)/R) * const; keep
        # the mu_T kurtosis modest relative to R.
        if kurt > 0.002 * self.replicates + 3:
            raise ValueError(
                f"check {self.id!r}: mu_T has kurtosis {kurt:.3g} at n={self.n}, "
                f"T={self.generations}; with {self.replicates} replicates the z-test's normal "
                "approximation is not trustworthy. Use more replicates or a shorter horizon.")

    def statement(self) -> str:
        return (f"Var(mu_T) at T={self.generations} (n={self.n}, ddof={self.ddof:g}) equals "
                "sigma0^2/n * sum_t ((n-1)/(n-ddof))^t")

    def test_name(self) -> str:
        return ("two-sided z-test of mean((mu_T - mu_0)^2) with the exact standard error "
                "from the exact fourth moment")

    def run(self, experiment, simulator) -> Outcome:
        traj = simulator(experiment, "final")
        if traj.mean is None:
            raise ValueError("the simulator returned no means; this check needs them.")
        # in units of sigma0 (the z-test is scale-free; no mu0 or sigma0 can round it away)
        d2 = traj.standardised_mean(self.mu0, self.sigma0)[:, -1] ** 2
        v, se, kurt = self._design(d2.size, sigma0=1.0)
        z = stats.z_test(float(d2.mean()), se, null=v)
        ci = z.confidence_interval()
        with np.errstate(over="ignore"):  # reported on the raw scale (inf past 1e154)
            s2 = float(np.float64(self.sigma0) ** 2)
        return Outcome(z.statistic, z.pvalue, {
            "estimate": float(d2.mean()) * s2, "exact": v * s2, "se_exact": se * s2,
            "ci95": [ci.low * s2, ci.high * s2], "mu_kurtosis": kurt,
        })

    def detectable_effect(self, alpha, replicates) -> dict:
        v, se, _ = self._design(replicates, sigma0=1.0)  # in units of sigma0^2
        d = (sps.norm.isf(alpha / 2) + sps.norm.ppf(_POWER)) * se
        with np.errstate(over="ignore"):
            value = float(d * np.float64(self.sigma0) ** 2)
        return {"metric": "|Var(mu_T) - exact|", "value": value,
                "relative": d / v, "power": _POWER}
