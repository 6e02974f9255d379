"""The multivariate family's checks in a profile: the engines pass at the fixed seed,
every multivariate mutant is caught as a positive control, and a simulator under test is
held to the family's records."""

from __future__ import annotations

import pytest

from collapsecheck.checks import CHECK_TYPES, build_check
from collapsecheck.errors import InputError
from collapsecheck.families.mvgaussian.mutants import MUTANTS
from collapsecheck.profiles import load_profile
from collapsecheck.validate import guarded, run_profile


def test_the_engines_pass_and_every_mutant_is_caught():
    report = run_profile(load_profile("mvgaussian"), controls=["mvgaussian"], figures=False)
    assert not report.failed, [(r.id, r.verdict.value, r.pvalue) for r in report.checks]
    assert [c.name for c in report.controls] == list(MUTANTS)
    for control in report.controls:
        assert any(r.verdict.value == "FAIL" for r in control.checks), control.name
    assert not report.uncaught_controls


def test_types_ids_and_effects():
    for name in ("mvgaussian_logdet_gof", "mvgaussian_step_gof",
                 "mvgaussian_trace_martingale", "mvgaussian_lyapunov"):
        assert CHECK_TYPES[name].family == "mvgaussian"
    c = build_check({"type": "mvgaussian_step_gof", "dim": 4, "n": 12, "generations": 6,
                     "replicates": 100, "ddof": 1})
    assert c.id == "mvgaussian.step_gof.D4.n12.T6.ddof1.sufficient"
    # KS at 600 pooled steps: the gap c_alpha/sqrt(N) plus the power margin
    assert 0.05 < c.detectable_effect(1e-3, 100)["value"] < 0.15
    with pytest.raises(ValueError, match=r"`n` must exceed `dim`"):
        build_check({"type": "mvgaussian_logdet_gof", "dim": 5, "n": 5})


def test_a_simulator_under_test_is_held_to_the_family_records():
    check = build_check({"type": "mvgaussian_logdet_gof", "dim": 2, "n": 6,
                         "generations": 3, "replicates": 30})
    e = check.experiment(seed=2)
    with pytest.raises(InputError, match=r"for the mvgaussian family it must return "
                                         r"collapsecheck\.families\.mvgaussian\.records\."
                                         r"MVTrajectories"):
        guarded(lambda experiment, record: [1, 2, 3])(e, "final")
    assert guarded(check.simulator())(e, "all").logdet.shape == (30, 4)
