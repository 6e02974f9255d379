"""The two engines against each other (family ``engines``)."""

from __future__ import annotations

from dataclasses import dataclass

from collapsecheck import stats
from collapsecheck.checks.base import Outcome
from collapsecheck.families.gaussian.checks.base import GaussianCheck, engine_simulator
from collapsecheck.seeds import derived_seed

__all__ = ["EnginesAgree"]

_OTHER = {"samples": "sufficient", "sufficient": "samples"}


@dataclass(frozen=True)
class EnginesAgree(GaussianCheck):
    """The simulator under test and the other built-in engine give the same law of the
    final log sigma^2 (independent streams)."""

    type = "engines_agree"
    family = "engines"

    def base_id(self) -> str:
        """The engine-free id plus the built-in engine this check compares against."""
        base = super().base_id()
        return f"{base}.vs-{_OTHER[self.engine]}" if self.id == self.default_id() else base

    def statement(self) -> str:
        return (f"the {self.engine} simulator and the {_OTHER[self.engine]} engine give the "
                f"same law of log sigma_T^2 (n={self.n}, T={self.generations})")

    def test_name(self) -> str:
        return "two-sample Kolmogorov-Smirnov (scipy.stats.ks_2samp)"

    def run(self, experiment, simulator) -> Outcome:
        other_seed = derived_seed(experiment.seed, (1,))
        a = simulator(experiment, "final").final_log_var
        b = engine_simulator(_OTHER[self.engine])(experiment.replace(seed=other_seed),
                                                  "final").final_log_var
        res = stats.gof_two_sample(a, b)
        return Outcome(res.statistic, res.pvalue, {
            "ks_distance": res.statistic, "other_engine": _OTHER[self.engine],
            "other_seed": other_seed, "mean_a": float(a.mean()), "mean_b": float(b.mean()),
        })

    def detectable_effect(self, alpha, replicates) -> dict:
        gap = stats.kolmogorov_detectable_gap(replicates, alpha, 0.9, m=replicates)
        return {"metric": "max CDF gap between the engines' laws", "value": gap, "power": 0.9}
