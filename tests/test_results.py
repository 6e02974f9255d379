"""The grading records (``collapsecheck.results``): the verdict rules at their boundaries,
the overall verdict and its reasons, and the exact JSON shape of every record."""

import math

import pytest

from collapsecheck.results import (
    CheckResult,
    ClaimResult,
    ClaimVerdict,
    ControlResult,
    Stage,
    ValidationReport,
    Verdict,
    grade,
)

P, W, F = Verdict.PASS, Verdict.WEAK, Verdict.FAIL


def stage(verdict=P, pvalue=0.5):
    return Stage(seed=7, spawn_key=(3, 1), replicates=100, statistic=1.25, pvalue=pvalue,
                 verdict=verdict, details={"d": 1})


def check(cid="c", verdict=P, pvalue=0.5, kind="consistency"):
    return CheckResult(
        id=cid, family="theory", statement="s", test="t", verdict=verdict, statistic=2.5,
        pvalue=pvalue, alpha=1e-4, thresholds={"fail": 5e-5, "weak": 0.01},
        detectable_effect={"value": 0.1}, stages=(stage(verdict, pvalue),),
        spec={"n": 3}, numbers={"x": 1.0}, kind=kind, seconds=0.25)


def control(name, *verdicts):
    return ControlResult(name=name, summary=f"{name} bug",
                         checks=tuple(check(f"{name}{i}", v) for i, v in enumerate(verdicts)),
                         seconds=1.5)


def report(checks=(), controls=()):
    return ValidationReport(
        profile="p", description="d", seed=1, spec={}, budget={}, checks=tuple(checks),
        claims=(), environment={}, command="c", timing={}, created="now",
        controls=tuple(controls))


class TestGrade:
    @pytest.mark.parametrize(
        ("p", "want"),
        [(0.0, F), (4.999e-5, F), (5e-5, W), (0.005, W), (0.00999, W), (0.01, P), (0.5, P),
         (1.0, P)],
    )
    def test_thresholds_are_strict_below(self, p, want):
        assert grade(p, fail=5e-5, weak=0.01) is want

    def test_nan_is_pass_for_the_caller_to_decide(self):
        # comparisons with NaN are false: grade leaves NaN to its callers (documented)
        assert grade(math.nan, fail=5e-5, weak=0.01) is P

    def test_verdict_values(self):
        assert [v.value for v in Verdict] == ["PASS", "WEAK", "FAIL"]
        assert [v.value for v in ClaimVerdict] == ["SUPPORTED", "QUALIFIED", "CONTRADICTED"]


class TestToDict:
    def test_stage(self):
        assert stage(W, 0.003).to_dict() == {
            "seed": 7, "spawn_key": [3, 1], "replicates": 100, "statistic": 1.25,
            "pvalue": 0.003, "verdict": "WEAK", "details": {"d": 1}}

    def test_check(self):
        c = check("theory.x", F, 1e-6, kind="confirmatory")
        assert c.to_dict() == {
            "id": "theory.x", "family": "theory", "kind": "confirmatory", "statement": "s",
            "test": "t", "verdict": "FAIL", "statistic": 2.5, "pvalue": 1e-6, "alpha": 1e-4,
            "thresholds": {"fail": 5e-5, "weak": 0.01}, "detectable_effect": {"value": 0.1},
            "escalation": [stage(F, 1e-6).to_dict()], "spec": {"n": 3},
            "numbers": {"x": 1.0}, "seconds": 0.25}

    def test_check_defaults(self):
        c = CheckResult(id="i", family="f", statement="s", test="t", verdict=P, statistic=0.0,
                        pvalue=1.0, alpha=0.1, thresholds={}, detectable_effect={},
                        stages=(), spec={})
        d = c.to_dict()
        assert d["kind"] == "consistency" and d["numbers"] == {} and d["seconds"] == 0.0
        assert d["escalation"] == []

    def test_claim(self):
        c = ClaimResult(id="A1", claim="c", verdict=ClaimVerdict.QUALIFIED, reading="r",
                        numbers={"p": {"theory": 0.5}}, seconds=2.0)
        assert c.to_dict() == {"id": "A1", "claim": "c", "verdict": "QUALIFIED",
                               "reading": "r", "numbers": {"p": {"theory": 0.5}},
                               "seconds": 2.0}
        assert ClaimResult("A2", "c", ClaimVerdict.SUPPORTED, "r", {}).to_dict()["seconds"] == 0

    def test_control(self):
        c = control("m", P, F, W)
        assert c.to_dict() == {
            "name": "m", "summary": "m bug", "verdict": "FAIL", "caught": True,
            "failed_checks": ["m1"],
            "checks": [{"id": "m0", "verdict": "PASS", "pvalue": 0.5},
                       {"id": "m1", "verdict": "FAIL", "pvalue": 0.5},
                       {"id": "m2", "verdict": "WEAK", "pvalue": 0.5}],
            "seconds": 1.5}
        assert ControlResult("z", "s", ()).seconds == 0.0


class TestOverall:
    @pytest.mark.parametrize(
        ("verdicts", "want"),
        [((), P), ((P,), P), ((P, P), P), ((P, W), W), ((W, P), W), ((W, F), F),
         ((F, W), F), ((P, F, P), F), ((W, W), W)],
    )
    def test_control_verdict_is_the_worst(self, verdicts, want):
        c = control("m", *verdicts)
        assert c.verdict is want
        assert c.caught is (want is F)
        assert c.failed_checks == [f"m{i}" for i, v in enumerate(verdicts) if v is F]

    @pytest.mark.parametrize(
        ("verdicts", "want"),
        [((), P), ((P, P), P), ((P, W), W), ((W, P), W), ((W, F), F), ((F, P), F)],
    )
    def test_report_verdict_without_controls(self, verdicts, want):
        r = report([check(f"c{i}", v) for i, v in enumerate(verdicts)])
        assert r.verdict is want
        assert r.failed is (want is F)
        assert r.uncaught_controls == []
        if want is F:
            assert r.verdict_reasons == [f"check c{i} FAIL" for i, v in enumerate(verdicts)
                                         if v is F]
        elif want is W:
            assert r.verdict_reasons == [f"check c{i} WEAK" for i, v in enumerate(verdicts)
                                         if v is W]
        else:
            assert r.verdict_reasons == []

    def test_an_uncaught_control_fails_a_passing_run(self):
        caught, missed, weak = control("a", F), control("b", P, P), control("c", W)
        r = report([check("c0", P), check("c1", W)], [caught, missed, weak])
        assert r.uncaught_controls == [missed, weak]
        assert r.failed and r.verdict is F
        assert r.verdict_reasons == [
            "control b not caught: the design cannot detect it",
            "control c not caught: the design cannot detect it"]

    def test_fail_and_missed_control_are_both_reasons_weak_ones_are_not(self):
        r = report([check("c0", W), check("c1", F)], [control("b", P)])
        assert r.verdict_reasons == [
            "check c1 FAIL", "control b not caught: the design cannot detect it"]

    def test_caught_controls_leave_the_verdict_to_the_checks(self):
        r = report([check("c0", W)], [control("a", F), control("b", P, F)])
        assert not r.failed and r.uncaught_controls == []
        assert r.verdict is W and r.verdict_reasons == ["check c0 WEAK"]
        assert report([check("c0", P)], [control("a", F)]).verdict is P


@pytest.mark.parametrize(("kind", "thresholds", "rule"), [
    ("consistency", {"fail": 3.6e-5, "weak": 0.01}, "p ≥ 0.01 (FAIL below 3.6e-05)"),
    ("consistency", {"weak": 0.01}, "p ≥ 0.01"),
    ("consistency", {"fail": 0.00123}, "p ≥ 0.0012"),
    ("consistency", {}, ""),
    ("confirmatory", {"confirm_at_or_below": 0.001, "weak": 0.5}, "p ≤ 0.001"),
    ("confirmatory", {"fail": 3.6e-5, "weak": 0.01}, ""),
])
def test_pass_rule_states_the_deciding_threshold_of_each_kind(kind, thresholds, rule):
    """``CheckResult.pass_rule``: a consistency check PASSes at or above its WEAK
    threshold (FAIL below its fail threshold), a confirmatory one at or below its
    confirmation level; nothing is claimed when the thresholds do not say."""
    result = CheckResult(
        id="c", family="theory", statement="s", test="t", verdict=P, statistic=1.0,
        pvalue=0.5, alpha=1e-4, thresholds=thresholds, detectable_effect={},
        stages=(stage(),), spec={}, kind=kind)
    assert result.pass_rule == rule
