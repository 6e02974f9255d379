r"""Checks of simulated chains under a data regime against its exact theory (family
``regimes``).

A regime check carries the regime's parameters (``regime``, ``fresh_fraction``,
``n_growth``, ``temperature``, ``truncate``; DESIGN.md's definitions) besides the
experiment's, and tests one exact prediction of
:func:`collapsecheck.families.gaussian.theory.predict`:

* ``regime_sigma2_mean``: the mean of :math:`\sigma_T^2/\sigma_0^2` over the replicates
  against the exact :math:`E[\sigma_T^2]` (exact recursions under accumulate, mix and
  truncation; gamma-function products for temperature and n-growth);
* ``regime_mu_var``: the mean of :math:`((\mu_T - \mu_0)/\sigma_0)^2` against the exact
  :math:`\mathrm{Var}(\mu_T)`.

Both are two-sided t-tests (``stats.z_test`` with R - 1 degrees of freedom) with the
sample standard error: these regimes' fourth moments have no closed form, so the
standard error is estimated, and the design is refused where the sample mean's normal
approximation is not trustworthy (skewness or excess kurtosis of the mean above 0.05,
measured on a seeded 4000-chain pilot of the same design, ``PILOT_SEED``). The smallest
detectable error is stated from the pilot's standard deviation at power 0.9.

``regime_log_var_gof`` tests the final :math:`\log\sigma_T^2` against its exact law by
Kolmogorov-Smirnov, where the regime keeps the chain a random walk (temperature,
n-growth); the other regimes have no exact law of :math:`\log\sigma_T^2` and the check
refuses them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import stats as sps

from collapsecheck import stats
from collapsecheck.checks.base import Check, Outcome
from collapsecheck.experiment import Experiment

__all__ = ["PILOT_REPLICATES", "PILOT_SEED", "RegimeLogVarGof", "RegimeMuVar",
           "RegimeSigma2Mean"]

_POWER = 0.9
#: The pilot behind a moment check's design guard and detectable effect.
PILOT_SEED = 0
PILOT_REPLICATES = 4000
_MAX_MEAN_SKEW = 0.05
_MAX_MEAN_EXKURT = 0.05


@dataclass(frozen=True)
class _RegimeCheck(Check):
    family = "regimes"

    regime: str = "replace"
    fresh_fraction: float | None = None
    n_growth: float = 0.0
    temperature: float = 1.0
    truncate: float | None = None

    def regime_params(self) -> dict:
        return dict(regime=self.regime, fresh_fraction=self.fresh_fraction,
                    n_growth=self.n_growth, temperature=self.temperature,
                    truncate=self.truncate)

    def experiment(self, seed: int, replicates: int | None = None) -> Experiment:
        return Experiment(n=self.n, generations=self.generations,
                          replicates=self.replicates if replicates is None else replicates,
                          ddof=self.ddof, mu0=self.mu0, sigma0=self.sigma0, seed=seed,
                          **self.regime_params())

    def default_id(self) -> str:
        tags = [self.regime]
        if self.regime == "mix":
            tags.append(f"L{self.fresh_fraction:g}")
        if self.n_growth:
            tags.append(f"P{self.n_growth:g}")
        if self.temperature != 1:
            tags.append(f"tau{self.temperature:g}")
        if self.truncate is not None:
            tags.append(f"C{self.truncate:g}")
        ddof = f".ddof{self.ddof:g}" if self.ddof else ""
        return (f"{self.family}.{self.type}.{'.'.join(tags)}.n{self.n}.T{self.generations}"
                f"{ddof}.{self.engine}")

    def describe_regime(self) -> str:
        e = self.experiment(seed=0, replicates=1)
        parts = [e.regime]
        if e.regime == "mix":
            parts.append(f"fresh fraction {e.fresh_fraction:g}")
        if e.n_growth:
            parts.append(f"n_t = ceil(n t^{e.n_growth:g})")
        if e.temperature != 1:
            parts.append(f"temperature {e.temperature:g}")
        if e.truncate is not None:
            parts.append(f"truncated at {e.truncate:g} sigma")
        return ", ".join(parts)

    def prediction(self):
        return _prediction(self.experiment(seed=0, replicates=1))


@lru_cache(maxsize=256)
def _prediction(e: Experiment):
    from collapsecheck.families.gaussian.theory import predict

    return predict(e)


@lru_cache(maxsize=256)
def _pilot(e: Experiment, engine: str) -> tuple[np.ndarray, np.ndarray]:
    """Final sigma^2/sigma0^2 and ((mu - mu0)/sigma0)^2 of a seeded pilot of the design."""
    from collapsecheck.engines import simulate

    traj = simulate(e, engine=engine, workers=1, record="final").trajectories
    s2 = np.exp(traj.final_log_var - 2 * math.log(e.sigma0))
    d2 = traj.standardised_mean(e.mu0, e.sigma0)[:, -1] ** 2
    return s2, d2


def _mean_shape(y: np.ndarray, replicates: int) -> tuple[float, float, float]:
    """SD of y, and the skewness and excess kurtosis of the mean of ``replicates`` draws."""
    c = y - y.mean()
    var = float(np.mean(c * c))
    if not var > 0:
        return 0.0, 0.0, 0.0
    skew = float(np.mean(c**3)) / var**1.5
    exkurt = float(np.mean(c**4)) / var**2 - 3
    return math.sqrt(var), skew / math.sqrt(replicates), exkurt / replicates


@dataclass(frozen=True)
class _RegimeMoment(_RegimeCheck):
    label = ""
    column = 0

    def exact(self) -> float | None:
        raise NotImplementedError

    def pilot(self) -> np.ndarray:
        e = self.experiment(seed=PILOT_SEED, replicates=PILOT_REPLICATES)
        return _pilot(e, self.engine)[self.column]

    def validate_design(self) -> None:
        if self.generations < 1:
            raise ValueError(f"check {self.id!r}: `generations` must be >= 1.")
        if self.exact() is None:
            raise ValueError(f"check {self.id!r}: the {self.describe_regime()} regime has no "
                             f"exact {self.label}; nothing to test it against.")
        _, skew, exk = _mean_shape(self.pilot(), self.replicates)
        if abs(skew) > _MAX_MEAN_SKEW or abs(exk) > _MAX_MEAN_EXKURT:
            raise ValueError(
                f"check {self.id!r}: the mean of {self.label} over {self.replicates} "
                f"replicates has skewness {skew:.3g} and excess kurtosis {exk:.3g} (from a "
                f"{PILOT_REPLICATES}-chain pilot; limits {_MAX_MEAN_SKEW}, "
                f"{_MAX_MEAN_EXKURT}): its normal approximation would break the false-alarm "
                "budget. Use more replicates or a shorter horizon.")

    def statement(self) -> str:
        return (f"{self.label} at T={self.generations} (n={self.n}, ddof={self.ddof:g}; "
                f"{self.describe_regime()}) equals its exact value")

    def test_name(self) -> str:
        return ("two-sided t-test of the replicates' mean against the exact value, sample "
                "standard error (normal approximation checked on a seeded pilot)")

    def values(self, traj) -> np.ndarray:
        raise NotImplementedError

    def run(self, experiment, simulator) -> Outcome:
        traj = simulator(experiment, "final")
        y = self.values(traj)
        R = y.size
        se = float(np.std(y, ddof=1)) / math.sqrt(R)
        exact = self.exact()
        z = stats.z_test(float(y.mean()), se, null=exact, df=R - 1)
        ci = z.confidence_interval()
        return Outcome(z.statistic, z.pvalue, {
            "estimate": float(y.mean()), "exact": exact, "se_sample": se,
            "ci95": [ci.low, ci.high], "relative_error": float(y.mean()) / exact - 1,
            "units": "sigma0^2",
        })

    def detectable_effect(self, alpha, replicates) -> dict:
        sd, _, _ = _mean_shape(self.pilot(), replicates)
        d = (sps.norm.isf(alpha / 2) + sps.norm.ppf(_POWER)) * sd / math.sqrt(replicates)
        return {"metric": f"|mean of {self.label} - exact| (units of sigma0^2)", "value": d,
                "relative": d / self.exact(), "power": _POWER,
                "note": f"SD from a {PILOT_REPLICATES}-chain pilot (seed {PILOT_SEED})"}


@dataclass(frozen=True)
class RegimeSigma2Mean(_RegimeMoment):
    type = "regime_sigma2_mean"
    label = "E[sigma_T^2]"
    column = 0

    def exact(self) -> float | None:
        ln = self.prediction().ln_sigma2_mean
        return None if ln is None else math.exp(ln - 2 * math.log(self.sigma0))

    def values(self, traj) -> np.ndarray:
        return np.exp(traj.final_log_var - 2 * math.log(self.sigma0))


@dataclass(frozen=True)
class RegimeMuVar(_RegimeMoment):
    type = "regime_mu_var"
    label = "Var(mu_T)"
    column = 1

    def exact(self) -> float | None:
        ln = self.prediction().ln_mu_var
        return None if ln is None else math.exp(ln - 2 * math.log(self.sigma0))

    def values(self, traj) -> np.ndarray:
        if traj.mean is None:
            raise ValueError("the simulator returned no means; this check needs them.")
        return traj.standardised_mean(self.mu0, self.sigma0)[:, -1] ** 2


@dataclass(frozen=True)
class RegimeLogVarGof(_RegimeCheck):
    type = "regime_log_var_gof"

    def law(self):
        from collapsecheck.families.gaussian.theory import log_variance_law

        return log_variance_law(self.experiment(seed=0, replicates=1))

    def validate_design(self) -> None:
        if self.generations < 1:
            raise ValueError(f"check {self.id!r}: `generations` must be >= 1.")
        if self.law() is None:
            raise ValueError(
                f"check {self.id!r}: under {self.describe_regime()} the chain is not a "
                "random walk in log sigma^2 and log sigma_T^2 has no exact law; use "
                "regime_sigma2_mean and regime_mu_var.")

    def statement(self) -> str:
        return (f"log sigma_T^2 at T={self.generations} (n={self.n}, ddof={self.ddof:g}; "
                f"{self.describe_regime()}) follows its exact law (a sum of independent "
                "log-chi-square steps)")

    def test_name(self) -> str:
        return "one-sample Kolmogorov-Smirnov on the exact CDF (scipy.stats.kstest)"

    def run(self, experiment, simulator) -> Outcome:
        traj = simulator(experiment, "final")
        law = self.law()
        s = traj.final_log_var - 2 * math.log(self.sigma0)
        res = stats.gof_exact(s, law.cdf)
        return Outcome(res.statistic, res.pvalue, {
            "ks_distance": res.statistic, "sample_mean": float(np.mean(s)),
            "exact_mean": law.mean, "sample_sd": float(np.std(s, ddof=1)),
            "exact_sd": law.sd,
        })

    def detectable_effect(self, alpha, replicates) -> dict:
        gap = stats.kolmogorov_detectable_gap(replicates, alpha, _POWER)
        law = self.law()
        shift = gap / 0.3989 * law.sd
        return {"metric": "max |F_sim - F_exact| of log sigma_T^2", "value": gap,
                "power": _POWER, "drift_error_per_generation": shift / self.generations,
                "note": "a per-generation drift error of that size shifts log sigma_T^2 enough "
                        "(normal approximation of the shift)"}
