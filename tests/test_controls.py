"""Positive controls: ``validate --controls`` runs named mutants beside the simulator under
test, and a control that no check FAILs fails the run."""

import copy
import json
import textwrap
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from collapsecheck.cli import main
from collapsecheck.errors import InputError
from collapsecheck.mutants import MUTANTS
from collapsecheck.profiles import load_profile
from collapsecheck.report.json_report import report_dict
from collapsecheck.report.schema import validate_report
from collapsecheck.results import Verdict
from collapsecheck.validate import control_names, run_profile

# log_var_gof catches variance-not-sd; mean_increment_gof catches frozen-mean; neither
# sees antithetic-pairs (every marginal is right, only the pairs are dependent)
BOTH = """
name = "both"
description = "a log-variance and a mean-increment check"
seed = 11
budget = 0.001

[[checks]]
type = "log_var_gof"
n = 3
generations = 5
replicates = 300

[[checks]]
type = "mean_increment_gof"
n = 5
generations = 20
replicates = 300
"""

# only the law of log sigma^2: blind to a frozen mean
LOG_VAR_ONLY = """
name = "logvar"
description = "log-variance only"
seed = 11
budget = 0.001

[[checks]]
type = "log_var_gof"
n = 3
generations = 5
replicates = 300
"""

# the independence check: catches antithetic-pairs
INDEPENDENCE = """
name = "indep"
description = "replicate independence only"
seed = 11
budget = 0.001

[[checks]]
type = "replicate_independence"
n = 5
generations = 50
replicates = 200
"""

CORRECT_SIM = """
from collapsecheck.engines import simulate

def mine(experiment, record):
    return simulate(experiment, record=record, workers=1).trajectories
"""


@pytest.fixture
def profile_file(tmp_path):
    def write(text, name="p.toml"):
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    return write


def _validate(*args):
    return main(["validate", "--no-progress", *args])


def _files(out):
    report = json.loads((out / "report.json").read_text())
    return (report, (out / "report.md").read_text(), (out / "report.html").read_text(),
            ET.parse(out / "junit.xml").getroot())


def _control_cases(junit):
    return {c.get("name"): c for c in junit.iter("testcase")
            if c.get("classname") == "collapsecheck.controls"}


class TestNames:
    def test_comma_lists_repeats_and_all(self):
        assert control_names(["frozen-mean,variance-not-sd", "frozen-mean"]) == (
            "frozen-mean", "variance-not-sd")
        assert control_names(["all"]) == tuple(MUTANTS)
        assert control_names(["frozen-mean", "all"])[0] == "frozen-mean"
        assert control_names([]) == ()

    def test_unknown_name_lists_the_valid_ones(self):
        with pytest.raises(InputError, match="unknown control 'bogus'") as err:
            control_names(["frozen-mean,bogus"])
        assert all(name in str(err.value) for name in MUTANTS)


class TestCaught:
    def test_caught_controls_exit_zero(self, profile_file, tmp_path, capsys):
        out = tmp_path / "out"
        code = _validate("--profile", profile_file(BOTH), "--controls",
                         "frozen-mean,variance-not-sd", "--out", str(out))
        assert code == 0
        assert "not caught" not in capsys.readouterr().err
        report, md, html, junit = _files(out)
        validate_report(report)
        assert report["verdict"] == "PASS" and report["exit_code"] == 0
        assert report["verdict_reasons"] == []
        assert [c["name"] for c in report["controls"]] == ["frozen-mean", "variance-not-sd"]
        by_name = {c["name"]: c for c in report["controls"]}
        for c in by_name.values():
            assert c["caught"] is True and c["verdict"] == "FAIL"
            assert c["summary"] == MUTANTS[c["name"]].summary
            assert [x["id"] for x in c["checks"]] == [x["id"] for x in report["checks"]]
            assert c["failed_checks"] == [x["id"] for x in c["checks"] if x["verdict"] == "FAIL"]
        assert by_name["frozen-mean"]["failed_checks"] == [
            "theory.mean_increment_gof.n5.T20.sufficient"]
        assert "theory.log_var_gof.n3.T5.sufficient" in by_name["variance-not-sd"][
            "failed_checks"]
        assert "--controls frozen-mean,variance-not-sd" in report["command"]
        assert report["spec"]["controls"] == ["frozen-mean", "variance-not-sd"]
        # the reports' own sections
        assert "## Positive controls" in md
        assert "| control | what bug it imitates | caught? | by which checks |" in md
        assert "`frozen-mean`" in md and "✅ yes" in md
        assert 'id="controls"' in html and "Positive controls" in html
        assert html.count(">caught<") == 2
        cases = _control_cases(junit)
        assert set(cases) == {"frozen-mean", "variance-not-sd"}
        assert all(c.find("failure") is None for c in cases.values())
        assert junit.get("failures") == "0"
        assert junit.get("tests") == str(len(report["checks"]) + 2)

    def test_antithetic_pairs_caught_by_independence(self, profile_file, capsys):
        assert _validate("--profile", profile_file(INDEPENDENCE), "--controls",
                         "antithetic-pairs", "--json") == 0
        report = json.loads(capsys.readouterr().out)
        (control,) = report["controls"]
        assert control["caught"] and control["failed_checks"] == [
            report["checks"][0]["id"]]

    def test_same_seeds_as_the_simulator_under_test(self, profile_file):
        # frozen-mean leaves log sigma^2 to the correct engine: drawn from the same
        # streams, its log_var_gof p-value is the simulator under test's
        report = run_profile(load_profile(profile_file(BOTH)), figures=False,
                             controls=["frozen-mean"])
        (control,) = report.controls
        assert control.checks[0].pvalue == report.checks[0].pvalue
        assert control.checks[0].stages[0].seed == report.checks[0].stages[0].seed
        again = run_profile(load_profile(profile_file(BOTH)), figures=False,
                            controls=["frozen-mean"])
        assert [c.pvalue for c in again.controls[0].checks] == [
            c.pvalue for c in control.checks]

    def test_progress_names_the_control_runs(self, profile_file):
        steps = []
        run_profile(load_profile(profile_file(BOTH)), figures=False,
                    controls=["frozen-mean", "variance-not-sd"],
                    progress=lambda name, done, total: steps.append((name, done, total)))
        names = [s[0] for s in steps]
        ids = ["theory.log_var_gof.n3.T5.sufficient",
               "theory.mean_increment_gof.n5.T20.sufficient"]
        assert names == [*ids, *(f"control {m}: {i}" for m in ("frozen-mean", "variance-not-sd")
                                 for i in ids), "done"]
        assert [s[1] for s in steps] == [0, 1, 2, 3, 4, 5, 6]
        assert {s[2] for s in steps} == {6}

    def test_with_the_users_simulator(self, profile_file, tmp_path, capsys):
        sim = tmp_path / "mysim.py"
        sim.write_text(textwrap.dedent(CORRECT_SIM))
        code = _validate("--profile", profile_file(BOTH), "--simulator", f"{sim}:mine",
                         "--controls", "frozen-mean", "--json")
        assert code == 0
        report = json.loads(capsys.readouterr().out)
        assert report["spec"]["simulator"] == "custom"
        assert all(c["verdict"] == "PASS" for c in report["checks"])
        assert report["controls"][0]["caught"]  # the mutant, not the user's simulator
        assert f"--simulator {sim}:mine --controls frozen-mean" in report["command"]

    def test_a_failing_simulator_still_fails_beside_caught_controls(self, profile_file):
        report = run_profile(load_profile(profile_file(BOTH)), figures=False,
                             simulator=MUTANTS["variance-not-sd"], controls=["frozen-mean"])
        assert report.controls[0].caught and report.failed
        assert report.verdict_reasons == [
            f"check {c.id} FAIL" for c in report.checks if c.verdict is Verdict.FAIL]


class TestNotCaught:
    def test_frozen_mean_against_log_variance_checks_exits_one(self, profile_file, tmp_path,
                                                               capsys):
        out = tmp_path / "out"
        code = _validate("--profile", profile_file(LOG_VAR_ONLY), "--controls", "frozen-mean",
                         "--out", str(out))
        assert code == 1
        err = [line for line in capsys.readouterr().err.splitlines() if "not caught" in line]
        assert len(err) == 1
        assert "'frozen-mean'" in err[0] and "cannot detect" in err[0]
        report, md, html, junit = _files(out)
        validate_report(report)
        assert all(c["verdict"] == "PASS" for c in report["checks"])  # the simulator passes
        assert report["verdict"] == "FAIL" and report["exit_code"] == 1
        assert report["verdict_reasons"] == [
            "control frozen-mean not caught: the design cannot detect it"]
        (control,) = report["controls"]
        assert control["caught"] is False and control["verdict"] == "PASS"
        assert control["failed_checks"] == []
        assert "## Positive controls" in md and "❌ **no**" in md
        assert "Not caught: `frozen-mean`" in md
        assert 'id="controls"' in html and "NOT caught" in html
        case = _control_cases(junit)["frozen-mean"]
        failure = case.find("failure")
        assert failure is not None and failure.get("type") == "ControlNotCaught"
        assert "frozen-mean" in failure.get("message")
        assert junit.get("failures") == "1"

    def test_antithetic_pairs_without_independence_check(self, profile_file, capsys):
        code = _validate("--profile", profile_file(BOTH), "--controls",
                         "antithetic-pairs,frozen-mean", "--json")
        assert code == 1
        captured = capsys.readouterr()
        report = json.loads(captured.out)  # stdout keeps only the JSON
        validate_report(report)
        lines = [ln for ln in captured.err.splitlines() if "not caught" in ln]
        assert len(lines) == 1 and "'antithetic-pairs'" in lines[0]
        assert {c["name"]: c["caught"] for c in report["controls"]} == {
            "antithetic-pairs": False, "frozen-mean": True}


class TestUsage:
    @pytest.mark.parametrize("value", ["bogus", "frozen-mean,bogus", ""])
    def test_bad_control_exits_two_with_one_line(self, profile_file, value, capsys):
        assert _validate("--profile", profile_file(BOTH), "--controls", value) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err
        if value:
            assert "unknown control 'bogus'" in err
            assert all(name in err for name in MUTANTS)
        else:
            assert "--controls needs" in err

    def test_controls_are_priced_before_anything_runs(self, profile_file, monkeypatch):
        from collapsecheck import costs
        from collapsecheck.resources import ResourceError

        prof = load_profile(profile_file(BOTH))
        price = costs.profile_cost(prof, figures=False)
        per_pass = sum(i.cost.seconds for i in price.items
                       if i.index is not None and i.stage == 1)
        monkeypatch.setattr(costs, "LONG_S", price.seconds + 1.5 * per_pass)
        run_profile(prof, figures=False, allow_long=False, controls=["frozen-mean"])
        with pytest.raises(ResourceError, match="--controls: 2 control"):
            run_profile(prof, figures=False, allow_long=False,
                        controls=["frozen-mean", "variance-not-sd"])


@pytest.fixture(scope="module")
def obj(tmp_path_factory):
    path = tmp_path_factory.mktemp("p") / "p.toml"
    path.write_text(BOTH)
    report = run_profile(load_profile(str(path)), figures=False,
                         controls=["frozen-mean", "antithetic-pairs"])
    return report_dict(report)


class TestSchema:
    def test_valid(self, obj):
        validate_report(obj)
        assert obj["verdict"] == "FAIL" and obj["exit_code"] == 1

    @pytest.mark.parametrize("mutate", [
        # a missed control cannot leave the run green
        lambda o: o.update(verdict="PASS", exit_code=0),
        # caught means FAIL, by at least one check
        lambda o: o["controls"][0].update(verdict="PASS"),
        lambda o: o["controls"][0].update(failed_checks=[]),
        lambda o: o["controls"][1].update(failed_checks=["x"]),
        lambda o: o["controls"][0].pop("caught"),
        lambda o: o["controls"][0]["checks"][0].update(pvalue=2.0),
    ])
    def test_inconsistent_controls_are_rejected(self, obj, mutate):
        bad = copy.deepcopy(obj)
        mutate(bad)
        with pytest.raises(jsonschema.ValidationError):
            validate_report(bad)
