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
from scipy import optimize, special
from scipy import stats as sps

from collapsecheck import stats
from collapsecheck.checks.base import Outcome
from collapsecheck.families.gaussian.checks.base import GaussianCheck
from collapsecheck.families.gaussian.theory import (
    LogVarianceLaw,
    StepLaw,
    log_sigma2_step_var,
    log_sigma_moment,
    mu_fourth_moment,
    mu_var,
)

__all__ = [
    "IncrementDrift",
    "IncrementGof",
    "LogVarGof",
    "MeanIncrementGof",
    "MuVar",
    "Sigma2Mean",
    "SigmaMean",
    "StepVariance",
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
class LogVarGof(GaussianCheck):
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
class IncrementGof(GaussianCheck):
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
class MeanIncrementGof(GaussianCheck):
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
class _RawMoment(GaussianCheck):
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
class MuVar(GaussianCheck):
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


# ---------------------------------------------------------------------------------------
# Pooled-increment checks that need no balanced panel (one long chain, ragged chains)
# ---------------------------------------------------------------------------------------


def pooled_steps(traj) -> np.ndarray:
    """Every one-generation increment of log sigma^2 in ``traj``: the differences of
    consecutive recorded generations whose both ends are recorded (padding is NaN)."""
    one = np.diff(np.asarray(traj.generations)) == 1
    with np.errstate(invalid="ignore", over="ignore"):
        steps = np.diff(traj.log_var, axis=1)[:, one]
    return steps[~np.isnan(steps)]


def sample_variance_moments(kappa: tuple[float, ...], N: int) -> tuple[float, float, float]:
    r"""Mean, variance and third cumulant of the unbiased sample variance :math:`s^2` of
    N i.i.d. draws whose cumulants are ``kappa`` = (k2, k3, k4, k5, k6).

    Notes
    -----
    Fisher's cumulants of the k-statistic :math:`k_2 = s^2` (exact for every N >= 3):

    .. math::

        E s^2 = \kappa_2, \qquad
        \operatorname{Var} s^2 = \frac{\kappa_4}{N} + \frac{2\kappa_2^2}{N - 1},

        \kappa_3(s^2) = \frac{\kappa_6}{N^2} + \frac{12\kappa_4\kappa_2}{N(N-1)}
            + \frac{4(N-2)\kappa_3^2}{N(N-1)^2} + \frac{8\kappa_2^3}{(N-1)^2}.

    References
    ----------
    1. Kendall, M. and Stuart, A. (1977). The Advanced Theory of Statistics, vol. 1,
       4th ed., section 12.15 (cumulants of k-statistics).
    """
    k2, k3, k4, _, k6 = kappa
    var = k4 / N + 2 * k2 * k2 / (N - 1)
    third = (k6 / N**2 + 12 * k4 * k2 / (N * (N - 1)) + 4 * (N - 2) * k3 * k3 / (N * (N - 1) ** 2)
             + 8 * k2**3 / (N - 1) ** 2)
    return k2, var, third


def step_variance_law(n: int, N: int):
    """The law of the sample variance of N i.i.d. steps at sample size n, as a frozen
    Pearson type III (shifted gamma) matching its exact mean, variance and third
    cumulant (:func:`sample_variance_moments`); exact for the first three moments."""
    step = StepLaw(n)
    kappa = tuple(step.cumulant(j) for j in (2, 3, 4, 5, 6))
    m, v, k3 = sample_variance_moments(kappa, N)
    sd = math.sqrt(v)
    return sps.pearson3(k3 / sd**3, loc=m, scale=sd), m, sd


def _two_sided(law, x: float) -> float:
    return float(min(1.0, 2 * min(law.cdf(x), law.sf(x))))


def n_relative_error_detectable(n: int, N: int, alpha: float, power: float = 0.9) -> dict:
    r"""The smallest relative errors in n (true n = declared n x (1 + r)) that the
    two-sided step-variance test on N increments detects at level ``alpha`` with
    ``power``, below and above (normal approximation of :math:`s^2` under each n)."""
    v0 = log_sigma2_step_var(n)
    _, var0, _ = sample_variance_moments(tuple(StepLaw(n).cumulant(j) for j in (2, 3, 4, 5, 6)),
                                         N)
    crit = sps.norm.isf(alpha / 2) * math.sqrt(var0)

    def gap(r: float) -> float:
        m = n * (1 + r)
        k = (m - 1) / 2
        kap = tuple(float(special.polygamma(j - 1, k)) for j in (2, 3, 4, 5, 6))
        v1, var1, _ = sample_variance_moments(kap, N)
        got = (sps.norm.sf((v0 + crit - v1) / math.sqrt(var1))
               + sps.norm.cdf((v0 - crit - v1) / math.sqrt(var1)))
        return got - power

    out = {}
    for side, far in (("above", 1e6), ("below", (1.0 + 1e-9) / n - 1)):
        try:
            out[side] = abs(float(optimize.brentq(gap, 0.0, far, xtol=1e-10)))
        except ValueError:  # no error in n on that side reaches the power
            out[side] = math.inf
    return {"metric": "relative error in n, |true n / declared n - 1|",
            "value": max(out["above"], out["below"]), "above": out["above"],
            "below": out["below"], "power": power, "increments": N}


#: Fewest pooled increments the pooled-increment checks accept on data that are not a
#: balanced panel of >= 20 chains (one chain, ragged chains): below it a check at a
#: budget's share of alpha detects only gross errors (at 100 increments and n = 10, the
#: step-variance check detects at power 0.9 only an n off by 41% below or 148% above).
MIN_INCREMENTS = 100
#: Largest skewness of s^2 at which the three-moment (Pearson III) law of the step-variance
#: check is trusted: measured false-alarm rates within Monte Carlo error of alpha down to
#: 2e-4 at skewness <= 0.24 (n = 2..100); about twice alpha at 0.6.
MAX_S2_SKEW = 0.25


@dataclass(frozen=True)
class StepVariance(GaussianCheck):
    r"""The pooled sample variance of the increments of log sigma^2 against the exact
    :math:`\psi'((n-1)/2)`: the check that a wrong n cannot pass (the drift barely
    moves with n at large n; the step variance moves in proportion).

    ``replicates x generations`` is the number of increments the design pools; the data
    may be one chain or ragged chains (NaN-padded): every recorded one-generation step
    counts. It does not depend on ddof."""

    type = "step_variance"
    family = "theory"

    def validate_design(self) -> None:
        N = self.replicates * self.generations
        if self.generations < 1 or N < 3:
            raise ValueError(f"check {self.id!r}: needs at least 3 increments.")
        law, _, _ = step_variance_law(self.n, N)
        skew = float(law.stats("s"))
        if skew > MAX_S2_SKEW:
            raise ValueError(f"check {self.id!r}: at n={self.n} the sample variance of {N} "
                             f"increments has skewness {skew:.3g} (limit {MAX_S2_SKEW}): its "
                             "three-moment law would break the false-alarm budget; it needs "
                             f"about {math.ceil(N * (skew / MAX_S2_SKEW) ** 2)} increments.")

    def statement(self) -> str:
        return (f"the variance of the increments of log sigma^2 equals the exact "
                f"psi'((n-1)/2) = {log_sigma2_step_var(self.n):.6g} (n={self.n}): n_eff = n")

    def test_name(self) -> str:
        return ("two-sided test of the pooled sample variance s^2 of the increments: exact "
                "mean, variance (k4/N + 2 k2^2/(N-1)) and third cumulant of s^2 (Fisher's "
                "k-statistic cumulants, k_j = psi^(j-1)((n-1)/2)), p-value from the Pearson "
                "III law with those three moments")

    def run(self, experiment, simulator) -> Outcome:
        steps = pooled_steps(simulator(experiment, "all"))
        N = steps.size
        if N < 3:
            return Outcome(math.nan, math.nan, {"increments": int(N)})
        s2 = float(steps.var(ddof=1))
        law, m, sd = step_variance_law(self.n, N)
        p = _two_sided(law, s2)
        from collapsecheck.audit import n_from_step_variance

        return Outcome((s2 - m) / sd, p, {
            "increments": int(N), "sample_var": s2, "exact_var": m, "se_exact": sd,
            "n_eff": n_from_step_variance(s2), "skewness_of_s2": float(law.stats("s")),
        })

    def detectable_effect(self, alpha, replicates) -> dict:
        return n_relative_error_detectable(self.n, replicates * self.generations, alpha)


@dataclass(frozen=True)
class IncrementDrift(GaussianCheck):
    r"""The mean of the pooled increments of log sigma^2 against the exact drift
    :math:`\psi((n-1)/2) + \log 2 - \log(n - \mathrm{ddof})`, with the exact law of the
    sum of N i.i.d. steps (:class:`~collapsecheck.theory.LogVarianceLaw` at T = N): the
    drift check for one chain or ragged chains, where the cluster-robust regression of
    ``drift_consistency`` (a balanced panel of >= 20 chains) cannot run."""

    type = "increment_drift"
    family = "theory"

    def validate_design(self) -> None:
        if self.generations < 1:
            raise ValueError(f"check {self.id!r}: `generations` must be >= 1.")

    def statement(self) -> str:
        return (f"the mean increment of log sigma^2 (n={self.n}, ddof={self.ddof:g}) equals "
                "the exact digamma drift")

    def test_name(self) -> str:
        return ("two-sided test of the sum of the N pooled increments against its exact law "
                "(a sum of N log-chi-square steps, characteristic-function inversion)")

    def run(self, experiment, simulator) -> Outcome:
        steps = pooled_steps(simulator(experiment, "all"))
        N = int(steps.size)
        if N < 1:
            return Outcome(math.nan, math.nan, {"increments": N})
        step = StepLaw(self.n, self.ddof)
        law = LogVarianceLaw(self.n, N, self.ddof)
        total = float(steps.sum())
        F = float(law.cdf(total))
        p = float(min(1.0, 2 * min(F, 1 - F)))
        se = math.sqrt(step.var / N)
        est = total / N
        return Outcome((est - step.drift) / se, p, {
            "increments": N, "drift_estimate": est, "drift_exact": step.drift,
            "drift_se_exact": se, "drift_ci95": [est - 1.96 * se, est + 1.96 * se],
        })

    def detectable_effect(self, alpha, replicates) -> dict:
        N = replicates * self.generations
        step = StepLaw(self.n, self.ddof)
        d = (sps.norm.isf(alpha / 2) + sps.norm.ppf(_POWER)) * math.sqrt(step.var / N)
        return {"metric": "|drift - exact drift| per generation", "value": d,
                "relative": d / abs(step.drift) if step.drift else math.inf,
                "power": _POWER, "increments": N}
