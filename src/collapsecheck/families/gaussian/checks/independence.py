"""Replicates must be independent (family ``independence``).

A simulator that reuses random numbers across replicates can keep every marginal law
right and still be wrong: averages over replicates then have far less information than
claimed. The check standardises the increments of log sigma^2 with their own pooled mean,
SD and fourth moment (so it tests dependence only, whatever the marginal law) and tests
that cross-replicate sums have the variance independence implies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from collapsecheck import stats
from collapsecheck.checks.base import Outcome
from collapsecheck.families.gaussian.checks.base import GaussianCheck

__all__ = ["ReplicateIndependence"]


@dataclass(frozen=True)
class ReplicateIndependence(GaussianCheck):
    type = "replicate_independence"
    family = "independence"

    def validate_design(self) -> None:
        # the scaled chi-square reference of the neighbour-pair part holds in the far
        # tail only with enough pairs and increments (measured by calibration over 400
        # seeds: uniform at 100 pairs x 50 increments even at n = 2, where the increments
        # are most heavy-tailed; liberal below about 50 pairs or 20 increments)
        if self.generations < 50 or self.replicates < 200:
            raise ValueError(f"check {self.id!r}: needs generations >= 50 and replicates >= 200 "
                             "for its p-value to hold in the far tail.")

    def statement(self) -> str:
        return ("replicates are mutually independent: cross-replicate sums of standardised "
                "log sigma^2 increments have the variance independence implies")

    def test_name(self) -> str:
        return ("Bonferroni of two tests on standardised increments Z: two-sided chi-square "
                "of W = sum_t (sum_r Z_rt)^2 / R (shared numbers across all replicates) and "
                "a scaled chi-square of neighbour-pair products (numbers reused by a "
                "neighbour)")

    def run(self, experiment, simulator) -> Outcome:
        traj = simulator(experiment, "all")
        # Standardise with the data's own mean, SD and kurtosis, so that this check tests
        # dependence only (a wrong marginal law is the other checks' business).
        d = np.diff(traj.log_var, axis=1)
        z = (d - d.mean()) / d.std()
        m4 = float(np.mean(z**4))
        res = stats.independence_test(z, m4=m4, centred=True)
        return Outcome(res.statistic, res.pvalue, {
            "W_common": res.common_statistic, "pvalue_common": res.common_pvalue,
            "S_neighbour_pairs": res.pairs_statistic, "pvalue_neighbour_pairs": res.pairs_pvalue,
            "df": res.df, "mean_pairwise_correlation": res.mean_correlation,
        })

    def detectable_effect(self, alpha, replicates) -> dict:
        T = self.generations
        # Equicorrelation rho inflates W by m = 1 + (R-1) rho: W ~ m chi2_T. The
        # Bonferroni half of alpha, two-sided, rejects above c = chi2.isf(alpha/4, T);
        # power 0.9 needs m chi2.ppf(0.1, T) >= c.
        m = sps.chi2.isf(alpha / 4, T) / sps.chi2.ppf(0.1, T)
        rho = (m - 1) / (replicates - 1)
        # neighbour pairs: correlation rho_p raises each T u_p^2 by about T rho_p^2
        P = replicates // 2
        zsum = sps.norm.isf(alpha / 2) + sps.norm.ppf(0.9)
        rho_pair = math.sqrt(zsum * math.sqrt(2 * P) / (P * T))
        return {"metric": "mean pairwise correlation between all replicates", "value": rho,
                "power": 0.9, "neighbour_pair_correlation": rho_pair}
