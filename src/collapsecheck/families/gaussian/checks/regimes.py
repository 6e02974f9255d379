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
from typing import ClassVar

import numpy as np
from scipy import stats as sps

from collapsecheck import stats
from collapsecheck.checks.base import Outcome
from collapsecheck.families.gaussian.checks.base import GaussianCheck
from collapsecheck.families.gaussian.parameters import Experiment, n_schedule

__all__ = ["PILOT_REPLICATES", "PILOT_SEED", "RegimeIncrementGof", "RegimeLogVarGof",
           "RegimeMeanIncrementGof", "RegimeMuVar", "RegimeSigma2Mean", "RegimeStepRatio",
           "audit_checks", "step_law_kind", "step_pit"]

_POWER = 0.9
#: The pilot behind a moment check's design guard and detectable effect.
PILOT_SEED = 0
PILOT_REPLICATES = 4000
_MAX_MEAN_SKEW = 0.05
_MAX_MEAN_EXKURT = 0.05


@dataclass(frozen=True)
class _RegimeCheck(GaussianCheck):
    family = "regimes"
    #: Regime parameters of a design this check accepts (for listings and docs).
    example: ClassVar[dict] = {"regime": "mix", "fresh_fraction": 0.1}

    regime: str = "replace"
    fresh_fraction: float | None = None
    n_growth: float = 0.0
    temperature: float = 1.0
    truncate: float | None = None

    def __post_init__(self) -> None:
        # the engine must be able to run the regime (before any design guard simulates)
        from collapsecheck.families.gaussian.engines.regimes import engine_iv

        e = self.experiment(seed=0, replicates=1)
        if not e.is_base and self.engine in ("samples", "sufficient"):
            try:
                engine_iv(e, self.engine)
            except ValueError as exc:
                raise ValueError(f"check {self.id or self.type!r}: {exc}") from None
        super().__post_init__()

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
    from collapsecheck.families.gaussian.engines import simulate

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
    example: ClassVar[dict] = {"temperature": 1.05}

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


# ---------------------------------------------------------------------------------------
# Step by step: where each generation's step has an exact law given the previous one
# ---------------------------------------------------------------------------------------


def _schedule(e: Experiment) -> tuple[np.ndarray, np.ndarray]:
    """n_t and the pool size N_t = n_1 + ... + n_t for t = 1..T (floats)."""
    n_t = n_schedule(e.n, e.n_growth, np.arange(1, e.generations + 1))
    return n_t, np.cumsum(n_t)


def step_law_kind(e: Experiment) -> str | None:
    """Which exact per-step law the regime has, from the recorded spread alone:
    ``'walk'`` (replace with temperature or n-growth: log(chi2_{n_t - 1}/(n_t - ddof)) +
    2 log tau), ``'accumulate'`` (the pooled sum of squares' increment over tau^2
    sigma_{t-1}^2 is chi2_{n_t - 1} + (N_{t-1}/N_t) chi2_1), ``'ratio'`` (truncation: the
    step ratio sigma_t^2/sigma_{t-1}^2 is i.i.d. with exact mean and variance), or None
    (mix and accumulate-subsample: a step depends on the unrecorded state; accumulate with
    truncation)."""
    if e.regime == "replace":
        return "walk" if e.truncate is None else ("ratio" if e.n_growth == 0 else None)
    if e.regime == "accumulate" and e.truncate is None:
        return "accumulate"
    return None


@dataclass(frozen=True)
class RegimeIncrementGof(_RegimeCheck):
    type = "regime_increment_gof"
    example: ClassVar[dict] = {"regime": "accumulate"}

    def validate_design(self) -> None:
        if self.generations < 1:
            raise ValueError(f"check {self.id!r}: `generations` must be >= 1.")
        if step_law_kind(self.experiment(seed=0, replicates=1)) not in ("walk", "accumulate"):
            raise ValueError(
                f"check {self.id!r}: under {self.describe_regime()} one generation's step "
                "has no exact law given the recorded spread alone.")

    def statement(self) -> str:
        e = self.experiment(seed=0, replicates=1)
        what = ("each increment of log sigma^2 follows its exact law log(chi2_{n_t-1}/"
                "(n_t - ddof)) + 2 log tau" if step_law_kind(e) == "walk" else
                "each increment of the pooled sum of squares, over tau^2 sigma_(t-1)^2, "
                "follows chi2_{n_t-1} + (N_(t-1)/N_t) chi2_1")
        return f"{what} (n={self.n}, ddof={self.ddof:g}; {self.describe_regime()})"

    def test_name(self) -> str:
        return ("one-sample Kolmogorov-Smirnov of the increments' probability integral "
                "transforms, all R*T pooled, against U(0, 1) (i.i.d. under H0)")

    def pit(self, traj) -> np.ndarray:
        """Each increment through its exact CDF: uniform and i.i.d. under H0."""
        e = self.experiment(seed=0, replicates=1)
        lv = traj.log_var - 2 * math.log(self.sigma0)
        return step_pit(e, lv)

    def run(self, experiment, simulator) -> Outcome:
        u = self.pit(simulator(experiment, "all")).ravel()
        res = stats.gof_exact(u, _uniform_cdf)
        return Outcome(res.statistic, res.pvalue, {
            "increments": int(u.size), "ks_distance": res.statistic,
            "pit_mean": float(u.mean()), "pit_var": float(u.var(ddof=1)),
            "pit_mean_exact": 0.5, "pit_var_exact": 1 / 12,
        })

    def detectable_effect(self, alpha, replicates) -> dict:
        N = replicates * self.generations
        gap = stats.kolmogorov_detectable_gap(N, alpha, _POWER)
        return {"metric": "max |F_sim - F_exact| of one step's probability transform",
                "value": gap, "power": _POWER}


def _uniform_cdf(x):
    return np.clip(x, 0.0, 1.0)


def step_pit(e: Experiment, lv: np.ndarray) -> np.ndarray:
    """PITs of the steps of chains ``lv`` (log sigma^2 in units of sigma0^2, generations
    0..T as columns) under the regime's exact step law (see :func:`step_law_kind`)."""
    from scipy import special

    kind = step_law_kind(e)
    n_t, N_t = _schedule(e)
    d = e.ddof
    steps = np.diff(lv, axis=1) - 2 * math.log(e.temperature)
    if kind == "walk":
        # X_t = log(Q/(n_t - d)): P(X <= x) = chi2_{n_t - 1} CDF at e^x (n_t - d)
        with np.errstate(over="ignore"):
            return special.chdtr(n_t - 1, np.exp(steps) * (n_t - d))
    if kind != "accumulate":
        raise ValueError(f"no exact step law for {e.regime!r} with these options.")
    from collapsecheck.families.gaussian.theory.accumulate import (
        chi2_plus_scaled_chi2_1_cdf,
    )

    # Q_t = sigma_t^2 (N_t - d), Q_0 = 0: the increment over tau^2 sigma_{t-1}^2 is
    # (e^{lv_t - lv_{t-1}} (N_t - d) - (N_{t-1} - d)) / tau^2
    N_prev = np.concatenate([[0.0], N_t[:-1]])
    ratio = np.exp(np.diff(lv, axis=1))
    y = (ratio * (N_t - d) - np.where(N_prev > 0, N_prev - d, 0.0)) / e.temperature**2
    a = N_prev / N_t
    return chi2_plus_scaled_chi2_1_cdf(y, n_t - 1, a)


@dataclass(frozen=True)
class RegimeStepRatio(_RegimeCheck):
    type = "regime_step_ratio"
    example: ClassVar[dict] = {"truncate": 2.5, "engine": "samples"}

    def moments(self):
        from collapsecheck.families.gaussian.theory.truncate import step_ratio_moments

        return step_ratio_moments(self.n, self.ddof, self.truncate, self.temperature)

    def validate_design(self) -> None:
        if self.generations < 1:
            raise ValueError(f"check {self.id!r}: `generations` must be >= 1.")
        if step_law_kind(self.experiment(seed=0, replicates=1)) != "ratio":
            raise ValueError(f"check {self.id!r}: the step ratio's exact moments are those "
                             "of replace with truncation at a fixed n.")

    def statement(self) -> str:
        return (f"the step ratio sigma_t^2/sigma_(t-1)^2 has its exact mean (n={self.n}, "
                f"ddof={self.ddof:g}; {self.describe_regime()})")

    def test_name(self) -> str:
        return ("two-sided z-test of the mean of all R*T step ratios (i.i.d. under H0) with "
                "the exact standard error from the truncated normal's fourth moment")

    def run(self, experiment, simulator) -> Outcome:
        traj = simulator(experiment, "all")
        with np.errstate(over="ignore"):
            r = np.exp(np.diff(traj.log_var, axis=1)).ravel()
        m = self.moments()
        se = m.sd / math.sqrt(r.size)
        z = stats.z_test(float(r.mean()), se, null=m.mean)
        ci = z.confidence_interval()
        return Outcome(z.statistic, z.pvalue, {
            "steps": int(r.size), "estimate": float(r.mean()), "exact": m.mean,
            "se_exact": se, "ci95": [ci.low, ci.high],
        })

    def detectable_effect(self, alpha, replicates) -> dict:
        m = self.moments()
        d = ((sps.norm.isf(alpha / 2) + sps.norm.ppf(_POWER)) * m.sd
             / math.sqrt(replicates * self.generations))
        return {"metric": "|mean step ratio - exact|", "value": d, "relative": d / m.mean,
                "power": _POWER}


@dataclass(frozen=True)
class RegimeMeanIncrementGof(_RegimeCheck):
    type = "regime_mean_increment_gof"
    example: ClassVar[dict] = {"n_growth": 1.0}

    def validate_design(self) -> None:
        if self.generations < 1:
            raise ValueError(f"check {self.id!r}: `generations` must be >= 1.")
        if step_law_kind(self.experiment(seed=0, replicates=1)) not in ("walk", "accumulate"):
            raise ValueError(f"check {self.id!r}: the mean's increments have an exact "
                             "normal law under replace (temperature, n-growth) and "
                             "accumulate, without truncation.")

    def statement(self) -> str:
        return ("the fitted mean's standardised increments are i.i.d. N(0, 1) "
                f"(n={self.n}; {self.describe_regime()})")

    def test_name(self) -> str:
        return "one-sample Kolmogorov-Smirnov against N(0, 1) (scipy.stats.kstest)"

    def run(self, experiment, simulator) -> Outcome:
        traj = simulator(experiment, "all")
        if traj.mean is None:
            raise ValueError("the simulator returned no means; this check needs them.")
        e = self.experiment(seed=0, replicates=1)
        n_t, N_t = _schedule(e)
        mean = traj.standardised_mean(self.mu0, self.sigma0)
        sd_prev = np.exp(0.5 * (traj.log_var[:, :-1] - 2 * math.log(self.sigma0)))
        # replace: mu_t - mu_{t-1} ~ N(0, tau^2 s/n_t); accumulate: times n_t/N_t
        weight = n_t / N_t if e.regime == "accumulate" else np.ones_like(n_t)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            z = np.diff(mean, axis=1) * np.sqrt(n_t) / (weight * self.temperature * sd_prev)
        z = z[np.isfinite(z)]
        res = stats.gof_exact(z, sps.norm.cdf)
        return Outcome(res.statistic, res.pvalue, {
            "increments": int(z.size), "ks_distance": res.statistic,
            "sample_mean": float(z.mean()), "sample_var": float(z.var(ddof=1)),
        })

    def detectable_effect(self, alpha, replicates) -> dict:
        gap = stats.kolmogorov_detectable_gap(replicates * self.generations, alpha, _POWER)
        return {"metric": "max |F_sim - Phi| of a standardised mean increment", "value": gap,
                "power": _POWER, "relative_sd_error": gap / 0.242}


# ---------------------------------------------------------------------------------------
# The audit's choice of checks for a regime
# ---------------------------------------------------------------------------------------

#: Largest pilot (replicates x draws) a moment check runs to state its power in an audit.
AUDIT_PILOT_DRAWS = 2e8


def audit_checks(e: Experiment, has_mean: bool
                 ) -> tuple[list[GaussianCheck], dict[str, str]]:
    """The checks that can judge recorded chains of experiment ``e`` (a regime other than
    the article's chain), and for every other regime check the reason it was skipped.

    Step by step where the regime has an exact step law (:func:`step_law_kind`): i.i.d.
    steps, so they work from few chains; across chains, the exact moments at the final
    generation (every regime whose theory has them)."""
    from collapsecheck.families.gaussian.engines.regimes import engine_iv

    try:
        engine_iv(e, "sufficient")
        engine = "sufficient"
    except ValueError:
        engine = "samples"
    common = dict(n=e.n, generations=e.generations, replicates=e.replicates, ddof=e.ddof,
                  mu0=0.0, sigma0=1.0, engine=engine, regime=e.regime,
                  fresh_fraction=e.fresh_fraction, n_growth=e.n_growth,
                  temperature=e.temperature, truncate=e.truncate)
    kind = step_law_kind(e)
    builders: list = []
    skipped: dict[str, str] = {}
    if kind in ("walk", "accumulate"):
        builders.append(("regime_increment_gof", RegimeIncrementGof))
        if has_mean:
            builders.append(("regime_mean_increment_gof", RegimeMeanIncrementGof))
        else:
            skipped["regime_mean_increment_gof"] = "the file records no mean"
    elif kind == "ratio":
        builders.append(("regime_step_ratio", RegimeStepRatio))
    else:
        skipped["regime_increment_gof"] = (
            f"under {e.regime} a generation's step depends on state the spread does not "
            "record (the mean, or the pool), so it has no exact law from the file")
    if kind == "walk":
        builders.append(("regime_log_var_gof", RegimeLogVarGof))
    pilot = float(PILOT_REPLICATES) * sum(e.n_at(t) for t in range(1, e.generations + 1))
    moments = [("regime_sigma2_mean", RegimeSigma2Mean)]
    if has_mean:
        moments.append(("regime_mu_var", RegimeMuVar))
    else:
        skipped["regime_mu_var"] = "the file records no mean"
    if engine == "samples" and pilot > AUDIT_PILOT_DRAWS:
        for name, _ in moments:
            skipped[name] = (f"its pilot ({PILOT_REPLICATES} chains of this design, "
                             f"{pilot:.2g} draws), which states the check's power, is too "
                             "large to run here")
    else:
        builders += moments
    from collapsecheck.resources import ResourceError

    out = []
    for name, cls in builders:
        try:
            out.append(cls(id=f"audit.{name}", **common))
        except ResourceError:  # a refusal to run (memory), not a reason to skip quietly
            raise
        except ValueError as exc:
            skipped[name] = str(exc)
    return out, skipped
