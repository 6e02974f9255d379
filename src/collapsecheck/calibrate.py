"""Measure a profile's false-alarm rate by running its checks over many seeds.

A profile's fixed seed makes a CI run deterministic; this measures how often other seeds
would turn a correct simulator red, and whether each consistency check's first-stage
p-values are uniform (the assumption the budget rests on).

* ``fail_rate``: runs with at least one FAIL, with a Clopper-Pearson 95% interval and a
  one-sided binomial test of H0 rate <= budget (:func:`scipy.stats.binomtest`).
* per check: FAIL and WEAK counts (WEAK is expected at about ``weak_alpha``), and a
  one-sided KS test that the first-stage p-values of consistency checks are not
  stochastically smaller than U(0, 1) (valid: P(p <= a) <= a; conservative is allowed).

The calibration fails (exit 1) when the binomial test rejects at level 0.001 or a check's
p-values are too small at level 0.001 / (number of checks).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import stats as sps

from collapsecheck.profiles import Profile
from collapsecheck.results import Verdict
from collapsecheck.validate import run_check

__all__ = ["CalibrationResult", "calibrate"]

CALIBRATION_ALPHA = 1e-3


@dataclass(frozen=True)
class CalibrationResult:
    profile: str
    seeds: list[int]
    budget: float
    runs: int
    failed_runs: int
    fail_rate_ci95: tuple[float, float]
    fail_rate_pvalue: float
    checks: dict[str, dict] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def conclusive(self) -> bool:
        """Enough runs to see a false-alarm rate at the budget (about 3/budget: then a
        rate of the budget gives a FAIL with probability 0.95)."""
        return self.runs * self.budget >= 3

    @property
    def passed(self) -> bool:
        uniform_ok = all(c.get("validity_ok", True) for c in self.checks.values())
        return self.fail_rate_pvalue >= CALIBRATION_ALPHA and uniform_ok

    def to_dict(self) -> dict:
        return {
            "profile": self.profile, "seeds": [self.seeds[0], self.seeds[-1]],
            "runs": self.runs, "budget": self.budget, "failed_runs": self.failed_runs,
            "fail_rate": self.failed_runs / self.runs,
            "fail_rate_ci95": list(self.fail_rate_ci95),
            "fail_rate_pvalue_vs_budget": self.fail_rate_pvalue,
            "passed": self.passed, "conclusive_about_budget": self.conclusive,
            "checks": self.checks, "seconds": self.seconds,
        }


def calibrate(profile: Profile, seeds: list[int], *, workers: int | None = None,
              progress: Callable[[str, int, int], None] | None = None,
              allow_long: bool = False) -> CalibrationResult:
    """Run every check of ``profile`` once per seed. A calibration that cannot fit in
    memory, or (unless ``allow_long``) is estimated to take over an hour (per seed times
    seeds, :func:`collapsecheck.costs.require_calibration`), is refused before any runs."""
    if not seeds:
        raise ValueError("`seeds` must not be empty.")
    from collapsecheck.costs import require_calibration
    from collapsecheck.resources import available_cores

    require_calibration(profile, len(seeds), allow_long=allow_long,
                        cores=min(workers, available_cores()) if workers else None)
    start = time.perf_counter()
    per_check: dict[str, dict] = {c.id: {"kind": c.kind, "fail": 0, "weak": 0, "p": []}
                                  for c in profile.checks}
    failed = 0
    for i, seed in enumerate(seeds):
        if progress:
            progress(f"seed {seed}", i, len(seeds))
        run = replace(profile, seed=seed)
        any_fail = False
        for check in profile.checks:
            res = run_check(check, run, workers=workers)
            rec = per_check[check.id]
            rec["p"].append(res.stages[0].pvalue)
            rec["weak"] += res.stages[0].verdict is Verdict.WEAK
            if res.verdict is Verdict.FAIL:
                rec["fail"] += 1
                any_fail = True
        failed += any_fail
    if progress:
        progress("done", len(seeds), len(seeds))
    test = sps.binomtest(failed, len(seeds), profile.budget, alternative="greater")
    ci = sps.binomtest(failed, len(seeds)).proportion_ci(confidence_level=0.95, method="exact")
    m = max(1, len(profile.checks))
    checks = {}
    for cid, rec in per_check.items():
        p = np.array(rec.pop("p"))
        out = {**rec, "weak_rate": rec["weak"] / len(seeds)}
        if rec["kind"] == "consistency" and p.size >= 5:
            # Validity, not exact uniformity: the budget needs P(p <= a) <= a, which a
            # conservative p-value (e.g. a Bonferroni combination, capped at 1) also meets.
            # One-sided KS: H1 is that p-values are stochastically smaller than uniform.
            ks = sps.kstest(p, "uniform", alternative="greater")
            out["validity_pvalue"] = float(ks.pvalue)
            out["validity_ok"] = bool(ks.pvalue >= CALIBRATION_ALPHA / m)
        checks[cid] = out
    return CalibrationResult(profile.name, list(seeds), profile.budget, len(seeds), failed,
                             (float(ci.low), float(ci.high)), float(test.pvalue), checks,
                             time.perf_counter() - start)
