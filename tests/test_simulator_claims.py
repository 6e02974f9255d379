"""A simulator audit is about the simulator: under ``validate --simulator`` every
simulated number (checks, claims, figures) comes from the user's code, each claim number
says who made it, the checks are named without a built-in engine, and the report names
the simulator and says what was tested."""

from __future__ import annotations

import json

import numpy as np
import pytest

from collapsecheck.checks.article import STREAMS, ClaimsConfig, evaluate_claims
from collapsecheck.cli import main
from collapsecheck.mutants import MUTANTS, correct
from collapsecheck.profiles import parse_profile
from collapsecheck.report.json_report import report_dict
from collapsecheck.report.schema import validate_report
from collapsecheck.validate import run_profile, simulator_checks

# The article's claims at a size that runs in about a second (the verdicts are theory's;
# the simulated numbers are what these tests follow).
SMALL_CLAIMS = {"n": 20, "generations": 50, "replicates": 400, "long_generations": 200,
                "sizes": [10, 100], "mc_repetitions": 200, "recovery_replicates": 100,
                "recovery_horizon": 200, "one_step_replicates": 2000,
                "recovery_points_per_sd": 4}

PROFILE = {
    "name": "sim-claims", "seed": 7, "budget": 0.001, "claims": SMALL_CLAIMS,
    "checks": [
        {"type": "log_var_gof", "n": 5, "generations": 10, "replicates": 1000,
         "engine": "samples"},
        {"type": "log_var_gof", "n": 5, "generations": 10, "replicates": 1000},
        {"type": "increment_gof", "n": 10, "generations": 20, "replicates": 200},
    ],
}


def _simulated(report) -> dict[tuple[str, str], float]:
    return {(c.id, k): v["simulation"] for c in report.claims for k, v in c.numbers.items()
            if v["simulation"] is not None}


@pytest.fixture(scope="module")
def builtin():
    return run_profile(parse_profile(PROFILE), figures=False)


@pytest.fixture(scope="module")
def wrong():
    return run_profile(parse_profile(PROFILE), simulator=MUTANTS["ddof-mismatch"],
                       simulator_name="collapsecheck.mutants:ddof_mismatch", figures=False)


def test_a_wrong_simulator_changes_the_claims_simulated_numbers(builtin, wrong):
    a, b = _simulated(builtin), _simulated(wrong)
    assert a.keys() == b.keys() and len(a) >= 15
    # ddof + 1 in a 20-draw fit shrinks sigma^2 by 19/20 more per generation: every
    # number that depends on the scale moves, far outside the built-in run's CI
    moved = {k for k in a if not np.isclose(a[k], b[k], rtol=1e-9, atol=0)}
    assert {("A1", "p_sigma_below_1"), ("A2", "sigma_mean"), ("A5", "log_sigma2_drift"),
            ("A6", "p_one_step_below"), ("A7", "p_returns_within_200"),
            ("A8", "sigma2_median_ddof1"), ("A4", "sigma_median")} <= moved
    drift = {c.id: c.numbers for c in wrong.claims}["A5"]["log_sigma2_drift"]
    lo, hi = drift["ci95"]
    assert not lo <= drift["theory"] <= hi  # the simulator's drift leaves theory's value
    # theory is theory: unchanged by the simulator, and so are the verdicts it decides
    for x, y in zip(builtin.claims, wrong.claims, strict=True):
        assert x.verdict is y.verdict
        assert {k: v["theory"] for k, v in x.numbers.items()} == \
            {k: v["theory"] for k, v in y.numbers.items()}


def test_every_claim_number_marks_its_source(builtin, wrong):
    for report, simulated_by in ((builtin, "built-in"), (wrong, "simulator")):
        sources = {v["source"] for c in report.claims for v in c.numbers.values()}
        assert sources == {simulated_by, "exact theory"}
        for c in report.claims:
            for v in c.numbers.values():
                assert v["source"] == ("exact theory" if v["simulation"] is None
                                       else simulated_by)


def test_spec_names_the_simulator_and_what_was_tested(builtin, wrong):
    assert builtin.spec["simulator"] == "built-in" and builtin.spec["simulator_name"] is None
    assert "built-in engines (samples, sufficient)" in builtin.spec["tested"]
    assert wrong.spec["simulator"] == "custom"
    assert wrong.spec["simulator_name"] == "collapsecheck.mutants:ddof_mismatch"
    assert "'collapsecheck.mutants:ddof_mismatch'" in wrong.spec["tested"]
    assert "claims A1..A8" in wrong.spec["tested"]
    obj = report_dict(wrong)
    validate_report(obj)
    assert obj["simulator"] == {"kind": "custom", "name": "collapsecheck.mutants:ddof_mismatch",
                                "tested": wrong.spec["tested"]}
    assert report_dict(builtin)["simulator"]["kind"] == "built-in"


def test_checks_are_named_without_an_engine_under_a_simulator(builtin, wrong):
    assert [c.id for c in builtin.checks] == ["theory.log_var_gof.n5.T10.samples",
                                              "theory.log_var_gof.n5.T10.sufficient",
                                              "theory.increment_gof.n10.T20.sufficient"]
    # the two designs that differed only by engine are one test of a simulator
    assert [c.id for c in wrong.checks] == ["theory.log_var_gof.n5.T10",
                                            "theory.increment_gof.n10.T20"]
    assert wrong.spec["merged_checks"] == {"theory.log_var_gof.n5.T10": [
        "theory.log_var_gof.n5.T10.samples", "theory.log_var_gof.n5.T10.sufficient"]}
    assert wrong.budget["checks"] == 2
    for c in wrong.checks:
        assert c.spec["engine"] == "simulator"
        assert c.spec["simulator"] == "collapsecheck.mutants:ddof_mismatch"
        assert c.verdict.value == "FAIL"


def test_the_simulators_name_never_changes_a_number():
    prof = parse_profile(PROFILE)
    a = run_profile(prof, simulator=correct(), simulator_name="a.py:sim", figures=False)
    b = run_profile(prof, simulator=correct(), simulator_name="renamed/b.py:other",
                    figures=False)
    assert [(c.id, c.pvalue, c.statistic) for c in a.checks] == \
        [(c.id, c.pvalue, c.statistic) for c in b.checks]
    assert _simulated(a) == _simulated(b)


def test_a_correct_simulator_reproduces_the_built_in_claim_numbers(builtin):
    # the claims' streams do not depend on who simulates: the sufficient engine wrapped
    # as a simulator gives the built-in run's numbers bit for bit
    (a6,) = evaluate_claims(ClaimsConfig(**SMALL_CLAIMS), seed=7, ids=["A6"],
                            simulator=correct())
    ref = {c.id: c for c in builtin.claims}["A6"]
    assert {k: v["simulation"] for k, v in a6.numbers.items()} == \
        {k: v["simulation"] for k, v in ref.numbers.items()}
    assert {v["source"] for v in a6.numbers.values()} == {"simulator", "exact theory"}


def test_every_claim_run_goes_through_the_simulator():
    seen = []

    def spy(experiment, record):
        seen.append((experiment.generations, experiment.replicates, experiment.ddof,
                     experiment.sigma0, experiment.seed,
                     record if isinstance(record, str) else tuple(record)))
        return correct()(experiment, record)

    cfg = ClaimsConfig(**SMALL_CLAIMS)
    evaluate_claims(cfg, seed=3, simulator=spy)
    from collapsecheck.seeds import derived_seed

    seeds = {s[4] for s in seen}
    for key in ("article_run", "long_run", "one_step_run", "unbiased_run"):
        assert derived_seed(3, STREAMS[key]) in seeds
    assert derived_seed(3, (*STREAMS["recovery_run"], 0)) in seeds
    assert (1, cfg.one_step_replicates, 0.0, 1.0, derived_seed(3, STREAMS["one_step_run"]),
            "final") in seen
    assert any(s[2] == 1.0 and s[0] == cfg.generations for s in seen)  # A8's ddof = 1 run
    recovery = [s for s in seen if s[3] == cfg.recovery_start]
    assert sum(s[1] for s in recovery) == cfg.recovery_replicates
    assert all(s[5] == "all" and s[0] == cfg.recovery_horizon for s in recovery)


def test_simulator_must_be_callable():
    with pytest.raises(TypeError, match="`simulator` must be callable or None; got 3"):
        evaluate_claims(ClaimsConfig(**SMALL_CLAIMS), seed=1, ids=["A6"], simulator=3)


def test_engines_agree_keeps_the_engine_it_compares_with():
    prof = parse_profile({"name": "e", "seed": 1, "budget": 0.001, "checks": [
        {"type": "engines_agree", "n": 4, "generations": 5, "replicates": 200,
         "engine": "samples"},
        {"type": "engines_agree", "n": 4, "generations": 5, "replicates": 200}]})
    checks, merged = simulator_checks(prof.checks)
    assert [c.id for c in checks] == ["engines.engines_agree.n4.T5.vs-sufficient",
                                      "engines.engines_agree.n4.T5.vs-samples"]
    assert merged == {}


def test_a_given_id_is_kept():
    prof = parse_profile({"name": "e", "seed": 1, "budget": 0.001, "checks": [
        {"type": "log_var_gof", "id": "mine", "n": 4, "generations": 5, "replicates": 200}]})
    (check,), _ = simulator_checks(prof.checks)
    assert check.id == "mine"


def _toml(profile: dict) -> str:
    """The profile as TOML (flat tables of numbers, strings and lists only)."""
    def value(v):
        return json.dumps(v)  # numbers, strings and lists of numbers read the same in TOML

    lines = [f"{k} = {value(v)}" for k, v in profile.items() if k not in ("claims", "checks")]
    lines += ["", "[claims]", *(f"{k} = {value(v)}" for k, v in profile["claims"].items())]
    for c in profile["checks"]:
        lines += ["", "[[checks]]", *(f"{k} = {value(v)}" for k, v in c.items())]
    return "\n".join(lines) + "\n"


def test_cli_simulator_report(tmp_path, capsys):
    path = tmp_path / "p.toml"
    path.write_text(_toml(PROFILE))
    out = tmp_path / "out"
    code = main(["validate", "--profile", str(path), "--simulator",
                 "collapsecheck.mutants:ddof_mismatch", "--out", str(out), "--json",
                 "--no-progress"])
    stdout, _ = capsys.readouterr()
    assert code == 1
    obj = json.loads((out / "report.json").read_text())
    assert json.loads(stdout) == obj
    assert obj["spec"]["simulator"] == "custom"
    assert obj["spec"]["simulator_name"] == "collapsecheck.mutants:ddof_mismatch"
    assert obj["simulator"]["name"] == "collapsecheck.mutants:ddof_mismatch"
    assert {v["source"] for c in obj["claims"] for v in c["numbers"].values()} == \
        {"simulator", "exact theory"}
    page = (out / "report.html").read_text()
    assert "Tested:" in page and "collapsecheck.mutants:ddof_mismatch" in page
    assert "simulator collapsecheck.mutants:ddof_mismatch" in page  # figures' source
    assert "Tested:" in (out / "report.md").read_text()
