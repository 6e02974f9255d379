"""Replicates must be independent (family ``independence``).

A simulator that reuses random numbers across replicates can keep every marginal law
right and still be wrong: averages over replicates then have far less information than
claimed. The check standardises each increment of log sigma^2 with the exact step mean
and SD and tests that the cross-replicate sums have the variance independence implies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from collapsecheck import stats
from collapsecheck.checks.base import Check, Outcome
from collapsecheck.theory import StepLaw

__all__ = ["ReplicateIndependence"]


@dataclass(frozen=True)
class ReplicateIndependence(Check):
    type = "replicate_independence"
    family = "independence"

    def validate_design(self) -> None:
        if self.generations < 1 or self.replicates < 2:
            raise ValueError(f"check {self.id!r}: needs generations >= 1 and replicates >= 2.")

    def statement(self) -> str:
        return ("replicates are mutually independent: cross-replicate sums of standardised "
                "log sigma^2 increments have the variance independence implies")

    def test_name(self) -> str:
        return "two-sided chi-square test of W = sum_t (sum_r Z_rt)^2 / R on T degrees of freedom"

    def run(self, experiment, simulator) -> Outcome:
        traj = simulator(experiment, "all")
        step = StepLaw(self.n, self.ddof)
        z = (np.diff(traj.log_var, axis=1) - step.drift) / math.sqrt(step.var)
        res = stats.independence_test(z)
        return Outcome(res.statistic, res.pvalue, {
            "W": res.statistic, "df": res.df, "mean_pairwise_correlation": res.mean_correlation,
        })

    def detectable_effect(self, alpha, replicates) -> dict:
        T = self.generations
        # W/T ~ 1 + (R-1) rho, with SD sqrt(2/T) under H0
        zsum = sps.norm.isf(alpha / 2) + sps.norm.ppf(0.9)
        rho = zsum * math.sqrt(2 / T) / (replicates - 1)
        return {"metric": "mean pairwise correlation between replicates", "value": rho,
                "power": 0.9}
