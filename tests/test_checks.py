"""Each check passes the correct simulator and catches deliberately wrong ones.

Mutants are in ``tests/mutants.py``. A check "catches" a mutant when its first-stage
p-value is below the FAIL threshold of the ``ci`` profile (alpha per check 7.1e-5, so
the immediate-FAIL threshold is 3.6e-5); confirmatory checks catch a mutant when they
cannot confirm. Seeds are fixed, so every assertion here is deterministic.
"""

import math
from dataclasses import replace

import numpy as np
import pytest
from tests import mutants

from collapsecheck.checks import CHECK_TYPES, build_check
from collapsecheck.checks.collapse import Collapse, DriftConsistency, DriftEquivalence
from collapsecheck.checks.engines import EnginesAgree
from collapsecheck.checks.independence import ReplicateIndependence
from collapsecheck.checks.theory import (
    IncrementGof,
    LogVarGof,
    MeanIncrementGof,
    MuVar,
    Sigma2Mean,
    SigmaMean,
)

FAIL_P = 1e-3 / 14 / 2  # the ci profile's immediate-FAIL threshold


def _p(check, simulator, seed=1):
    return check.run(check.experiment(seed), simulator).pvalue


CORRECT_CASES = [
    LogVarGof(n=3, generations=10, replicates=2000, engine="samples"),
    IncrementGof(n=2, generations=50, replicates=400, engine="samples"),
    MeanIncrementGof(n=5, generations=50, replicates=400, engine="samples"),
    SigmaMean(n=100, generations=20, replicates=2000),
    Sigma2Mean(n=1000, generations=100, replicates=2000),
    MuVar(n=100, generations=20, replicates=2000),
    DriftConsistency(n=4, generations=50, ddof=0.5, replicates=500),
    EnginesAgree(n=10, generations=20, replicates=2000, engine="samples"),
    ReplicateIndependence(n=5, generations=100, replicates=500),
]


@pytest.mark.parametrize("check", CORRECT_CASES, ids=lambda c: c.id)
def test_correct_simulator_passes(check):
    assert _p(check, mutants.correct(check.engine)) > FAIL_P


# (mean_increment_gof is blind to ddof by design: the mean's increments given sigma do
# not involve it; mu_var at n=100 sees ddof + 1 as a 10% change in Var(mu_T), below its
# stated detectable effect of about 15% at 2000 replicates.)
@pytest.mark.parametrize("check", [c for c in CORRECT_CASES[:7]
                                   if not isinstance(c, MeanIncrementGof | MuVar)],
                         ids=lambda c: c.id)
def test_wrong_ddof_is_caught(check):
    assert _p(check, mutants.wrong_ddof(1.0)) < FAIL_P


def test_mu_var_detects_its_stated_effect_but_not_less():
    check = MuVar(n=100, generations=20, replicates=2000)
    rel = check.detectable_effect(FAIL_P, 2000)["relative"]
    assert 0.10 < rel  # so ddof + 1 (a 10% change) is below what it promises to see
    # a mean spread inflated so that Var(mu_T) grows by 1.5x the stated effect is caught
    assert _p(check, mutants.mean_spread(math.sqrt(1 + 1.5 * rel))) < FAIL_P


@pytest.mark.parametrize("check", [
    LogVarGof(n=5, generations=10, replicates=2000),
    IncrementGof(n=5, generations=50, replicates=400),
    DriftConsistency(n=5, generations=50, replicates=500),
    MeanIncrementGof(n=5, generations=50, replicates=400),
], ids=lambda c: c.id)
def test_wrong_n_is_caught(check):
    assert _p(check, mutants.wrong_n(-1)) < FAIL_P


def test_clipped_tails_are_caught():
    # clipping samples at +-2.5 sigma shrinks each variance fit by ~5%
    check = LogVarGof(n=20, generations=10, replicates=1000, engine="samples")
    assert _p(check, mutants.clipped_samples(2.5)) < FAIL_P


def test_mean_drawn_with_wrong_spread_is_caught():
    check = MeanIncrementGof(n=5, generations=50, replicates=400)
    eff = check.detectable_effect(FAIL_P, 400)["relative_sd_error"]
    assert _p(check, mutants.mean_spread(1 + eff)) < FAIL_P
    assert _p(MuVar(n=100, generations=20, replicates=2000), mutants.mean_spread(1.2)) < FAIL_P


def test_reused_random_numbers_are_caught_only_by_independence():
    sim = mutants.paired_replicates()
    # marginals are right: the law checks pass...
    assert _p(IncrementGof(n=5, generations=100, replicates=500), sim) > FAIL_P
    # ...but the independence check sees the shared numbers
    assert _p(ReplicateIndependence(n=5, generations=100, replicates=500), sim) < 1e-100


@pytest.mark.parametrize("check", [
    DriftConsistency(n=4, generations=50, ddof=0.5, replicates=500),
    DriftConsistency(n=1000, generations=1000, replicates=1000),
    IncrementGof(n=10, generations=100, ddof=1.0, replicates=500),
    ReplicateIndependence(n=5, generations=100, replicates=500),
], ids=lambda c: c.id)
def test_stated_detectable_effect_is_detected_with_stated_power(check):
    # Inject exactly the stated detectable effect; with power 0.9 at least 23 of 30
    # independent seeds catch it (binomial(30, 0.9): P(<= 22) = 0.026).
    eff = check.detectable_effect(FAIL_P, check.replicates)
    if isinstance(check, ReplicateIndependence):
        sim = _equicorrelated(eff["value"])
    elif isinstance(check, IncrementGof):
        sim = mutants.drift_offset(eff["drift_error_per_generation"])
    else:
        sim = mutants.drift_offset(eff["value"])
    caught = sum(_p(check, sim, seed) < FAIL_P for seed in range(30))
    assert caught >= 23


def _equicorrelated(rho):
    """Replicates whose increments share a common factor: pairwise correlation rho."""
    def run(e, record):
        from collapsecheck.theory import StepLaw

        t = mutants.correct()(e, "all")
        step = StepLaw(e.n, e.ddof)
        rng = np.random.default_rng(e.seed)
        d = np.diff(t.log_var, axis=1)
        common = rng.standard_normal(d.shape[1]) * math.sqrt(step.var)
        mixed = step.drift + math.sqrt(1 - rho) * (d - step.drift) + math.sqrt(rho) * common
        lv = np.concatenate([t.log_var[:, :1], t.log_var[:, :1] + np.cumsum(mixed, axis=1)], 1)
        return replace(t, log_var=lv, mean=t.mean, spec=e.to_dict())

    return run


class TestConfirmatory:
    def test_collapse_confirmed_and_rate_reported(self):
        check = Collapse(n=1000, generations=1000, replicates=1000)
        out = check.run(check.experiment(3), mutants.correct())
        assert out.pvalue < check.collapse_alpha
        num = out.numbers
        # within 5 standard errors (two-sided alpha 6e-7), not a 95% CI that misses 1 in 20
        assert abs(num["drift_estimate"] - num["drift_exact"]) < 5 * num["drift_se_cluster"]
        assert out.numbers["half_life_generations"] == pytest.approx(
            out.numbers["half_life_exact"], rel=0.2)
        lo, hi = out.numbers["half_life_ci95"]
        assert lo < out.numbers["half_life_generations"] < hi

    def test_no_collapse_is_not_confirmed(self):
        # a simulator whose drift is cancelled (variance fit inflated to keep sigma level)
        check = Collapse(n=1000, generations=1000, replicates=1000)
        from collapsecheck.theory import StepLaw

        sim = mutants.drift_offset(-StepLaw(1000, 0.0).drift)
        assert _p(check, sim) > check.collapse_alpha

    def test_equivalence_confirmed_for_correct_and_refused_outside_margin(self):
        check = DriftEquivalence(n=1000, generations=1000, replicates=1000, margin=0.15)
        assert _p(check, mutants.correct()) < check.equivalence_alpha
        drift = abs(check._margins()[0])
        assert _p(check, mutants.drift_offset(0.3 * drift)) > check.equivalence_alpha

    def test_miss_rates_are_computed_from_exact_theory(self):
        tight = DriftEquivalence(n=1000, generations=1000, replicates=1000, margin=0.05)
        wide = DriftEquivalence(n=1000, generations=1000, replicates=1000, margin=0.15)
        assert tight.miss_rate(1e-4, 1000) > 0.5 > 1e-4 > wide.miss_rate(1e-4, 1000)


class TestDesignGuards:
    def test_raw_moment_refused_where_clt_fails(self):
        with pytest.raises(ValueError, match="normal approximation would break"):
            Sigma2Mean(n=10, generations=100, replicates=1000)

    def test_unknown_type_and_key(self):
        with pytest.raises(ValueError, match="unknown check type 'nope'"):
            build_check({"type": "nope"})
        with pytest.raises(ValueError, match=r"unknown key\(s\) \['colour'\]"):
            build_check({"type": "log_var_gof", "colour": "red"})

    def test_bad_experiment_parameters(self):
        with pytest.raises(ValueError, match="`n` must be at least 2"):
            build_check({"type": "log_var_gof", "n": 1})

    def test_every_type_has_a_statement_test_and_effect(self):
        for cls in CHECK_TYPES.values():
            # regime checks name a regime they accept (`example`)
            c = cls(**{"n": 1000, "generations": 100, "replicates": 100000,
                       **getattr(cls, "example", {})})
            assert c.statement() and c.test_name()
            eff = c.detectable_effect(1e-4, c.replicates)
            assert eff["metric"] and math.isfinite(eff["value"])
