r"""Checks on the rate of collapse (family ``collapse``).

The drift of :math:`\log\sigma^2` is estimated by pooled OLS over generations with
standard errors clustered by replicate (CR1, statsmodels' ``cov_type='cluster'``, in the
closed form of a balanced panel: :func:`collapsecheck.stats.drift_regression`), on a
grid of at most 201 recorded generations (the slope stays unbiased; its exact variance
on that grid is :func:`collapsecheck.stats.slope_variance_factor`).

* ``drift_consistency`` (consistency): two-sided t-test of slope = exact drift.
* ``drift_equivalence`` (confirmatory): TOST that the slope lies within
  ``margin`` x |exact drift| of the exact drift, at level ``equivalence_alpha``.
* ``collapse`` (confirmatory): one-sided t-test of H0 slope >= 0 against H1 slope < 0 at
  level ``collapse_alpha``; reports the rate per generation with its 95% CI and the
  half-life of sigma in generations.

Confirmatory checks spend the false-alarm budget through their miss rate, computed from
the exact SE of the slope at the design; a profile whose design misses too often is
refused when loaded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from collapsecheck import stats
from collapsecheck.checks.base import Outcome, finite_or_none
from collapsecheck.families.gaussian.checks.base import GaussianCheck
from collapsecheck.families.gaussian.theory import StepLaw

__all__ = ["Collapse", "DriftConsistency", "DriftEquivalence", "regression_grid"]

MAX_GRID = 201


def regression_grid(generations: int, points: int = MAX_GRID) -> np.ndarray:
    """At most ``points`` generations from 0 to T, evenly spread, both ends included."""
    return np.unique(np.linspace(0, generations, min(points, generations + 1)).round().astype(int))


@dataclass(frozen=True)
class _DriftCheck(GaussianCheck):
    family = "collapse"

    def validate_design(self) -> None:
        if self.generations < 2:
            raise ValueError(f"check {self.id!r}: `generations` must be >= 2 for a slope.")
        if self.replicates < 20:
            raise ValueError(f"check {self.id!r}: needs >= 20 replicates for clustered SEs.")

    def exact_se(self, replicates: int) -> float:
        grid = regression_grid(self.generations)
        return math.sqrt(StepLaw(self.n, self.ddof).var * stats.slope_variance_factor(grid)
                         / replicates)

    def _fit(self, experiment, simulator, null, alternative):
        grid = regression_grid(self.generations)
        traj = simulator(experiment, grid.tolist())
        res = stats.drift_regression(traj.generations, traj.log_var, null=null,
                                     alternative=alternative)
        ci = res.confidence_interval()
        half, half_ci = res.half_life()
        exact = StepLaw(self.n, self.ddof).drift
        numbers = {
            "drift_estimate": res.estimate, "drift_se_cluster": res.se,
            "drift_se_exact": self.exact_se(res.replicates), "drift_ci95": [ci.low, ci.high],
            "drift_exact": exact, "drift_large_n_approximation": -(2 - self.ddof) / self.n,
            "half_life_generations": finite_or_none(half),
            "half_life_ci95": [finite_or_none(half_ci.low), finite_or_none(half_ci.high)],
            "half_life_exact": 2 * math.log(2) / -exact if exact < 0 else None,
            "recorded_generations": int(grid.size),
        }
        return res, numbers


@dataclass(frozen=True)
class DriftConsistency(_DriftCheck):
    type = "drift_consistency"

    def statement(self) -> str:
        return (f"the per-generation drift of log sigma^2 (n={self.n}, ddof={self.ddof:g}) "
                "equals the exact digamma value")

    def test_name(self) -> str:
        return ("two-sided t-test on the pooled OLS slope over generations, cluster-robust "
                "SE by replicate (CR1 as statsmodels OLS cov_type='cluster', closed form)")

    def run(self, experiment, simulator) -> Outcome:
        exact = StepLaw(self.n, self.ddof).drift
        res, numbers = self._fit(experiment, simulator, exact, "two-sided")
        return Outcome(res.statistic, res.pvalue, numbers)

    def detectable_effect(self, alpha, replicates) -> dict:
        se = self.exact_se(replicates)
        d = (sps.t.isf(alpha / 2, replicates - 1) + sps.norm.ppf(0.9)) * se
        return {"metric": "|drift - exact drift| per generation", "value": d,
                "relative": d / abs(StepLaw(self.n, self.ddof).drift), "power": 0.9}


@dataclass(frozen=True)
class DriftEquivalence(_DriftCheck):
    type = "drift_equivalence"
    kind = "confirmatory"
    margin: float = 0.1
    equivalence_alpha: float = 0.05

    def validate_design(self) -> None:
        super().validate_design()
        if not 0 < self.margin < 1:
            raise ValueError(f"check {self.id!r}: `margin` must lie in (0, 1); got {self.margin}.")
        if not 0 < self.equivalence_alpha < 0.5:
            raise ValueError(f"check {self.id!r}: `equivalence_alpha` must lie in (0, 0.5).")

    @property
    def confirm_level(self) -> float:
        return self.equivalence_alpha

    def _margins(self):
        exact = StepLaw(self.n, self.ddof).drift
        half = self.margin * abs(exact)
        return exact, exact - half, exact + half

    def statement(self) -> str:
        return (f"the drift of log sigma^2 (n={self.n}) is equivalent to the exact drift "
                f"within +-{self.margin:.0%}")

    def test_name(self) -> str:
        return (f"TOST on the cluster-robust OLS slope at level {self.equivalence_alpha} "
                "(two one-sided t-tests; equivalent to the 90% CI lying inside the margins)")

    def run(self, experiment, simulator) -> Outcome:
        exact, low, upp = self._margins()
        res, numbers = self._fit(experiment, simulator, exact, "two-sided")
        t = stats.tost(res.estimate, res.se, low=low, upp=upp, df=res.df)
        ci90 = t.confidence_interval(1 - 2 * self.equivalence_alpha)
        numbers.update({"margin": [low, upp], "tost_pvalue": t.pvalue,
                        "ci_1_minus_2alpha": [ci90.low, ci90.high],
                        "equivalence_alpha": self.equivalence_alpha})
        return Outcome(t.statistic, t.pvalue, numbers)

    def miss_rate(self, alpha, replicates) -> float:
        exact, low, upp = self._margins()
        return 1 - stats.tost_power(self.exact_se(replicates), low=low, upp=upp,
                                    true_value=exact, alpha=self.equivalence_alpha,
                                    df=replicates - 1)

    def detectable_effect(self, alpha, replicates) -> dict:
        exact, _, upp = self._margins()
        return {"metric": "drift outside the equivalence margin", "value": upp - exact,
                "relative": self.margin, "miss_rate_at_exact": self.miss_rate(alpha, replicates)}


@dataclass(frozen=True)
class Collapse(_DriftCheck):
    type = "collapse"
    kind = "confirmatory"
    collapse_alpha: float = 1e-3

    def validate_design(self) -> None:
        super().validate_design()
        if not 0 < self.collapse_alpha < 0.5:
            raise ValueError(f"check {self.id!r}: `collapse_alpha` must lie in (0, 0.5).")

    @property
    def confirm_level(self) -> float:
        return self.collapse_alpha

    def statement(self) -> str:
        return (f"sigma collapses: the drift of log sigma^2 (n={self.n}, ddof={self.ddof:g}) "
                "is negative")

    def test_name(self) -> str:
        return (f"one-sided t-test of H0 drift >= 0 vs H1 drift < 0 at level "
                f"{self.collapse_alpha}, cluster-robust OLS slope (CR1 as statsmodels)")

    def run(self, experiment, simulator) -> Outcome:
        res, numbers = self._fit(experiment, simulator, 0.0, "less")
        numbers["collapse_alpha"] = self.collapse_alpha
        return Outcome(res.statistic, res.pvalue, numbers)

    def miss_rate(self, alpha, replicates) -> float:
        exact = StepLaw(self.n, self.ddof).drift
        if exact >= 0:
            return 1.0
        se = self.exact_se(replicates)
        crit = sps.t.ppf(self.collapse_alpha, replicates - 1)
        return float(sps.norm.sf(crit - exact / se))

    def detectable_effect(self, alpha, replicates) -> dict:
        se = self.exact_se(replicates)
        d = (sps.t.isf(self.collapse_alpha, replicates - 1) + sps.norm.ppf(0.9)) * se
        return {"metric": "smallest collapse rate (negative drift) confirmed", "value": -d,
                "power": 0.9, "miss_rate_at_exact": self.miss_rate(alpha, replicates)}
