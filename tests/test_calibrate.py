"""``calibrate``: the false-alarm rate over seeds, and the validity of each check's p-values."""

import json
from dataclasses import dataclass, replace

import numpy as np
import pytest
from scipy import stats as sps

from collapsecheck.calibrate import CALIBRATION_ALPHA, calibrate
from collapsecheck.checks.base import Outcome
from collapsecheck.cli import main
from collapsecheck.families.gaussian.checks.base import GaussianCheck
from collapsecheck.profiles import parse_profile

TINY = {"name": "tiny", "seed": 1, "budget": 0.001, "checks": [
    {"type": "log_var_gof", "n": 3, "generations": 5, "replicates": 200},
    {"type": "increment_gof", "n": 4, "generations": 10, "replicates": 50}]}


@dataclass(frozen=True)
class SkewedP(GaussianCheck):
    """A check whose p-values are too small (p = u^3): an invalid, liberal test."""

    type = "skewed"
    family = "test"

    def statement(self):
        return "skewed"

    def test_name(self):
        return "skewed"

    def detectable_effect(self, alpha, replicates):
        return {"metric": "none", "value": 0.0}

    def run(self, experiment, simulator):
        u = np.random.default_rng(experiment.seed).uniform()
        return Outcome(0.0, u**3, {})


def test_correct_checks_pass_calibration():
    res = calibrate(parse_profile(TINY), list(range(12)), workers=1)
    assert res.runs == 12 and res.failed_runs == 0 and res.passed
    assert not res.conclusive  # 12 seeds cannot resolve a budget of 0.001
    assert set(res.pvalues) == set(res.checks)
    for cid, rec in res.checks.items():
        # each check's 12 p-values, referred to the uniform by scipy's one-sided KS; a
        # correct check must pass validity (p-values not stochastically small) at these seeds
        assert len(res.pvalues[cid]) == 12
        ks = sps.kstest(res.pvalues[cid], "uniform", alternative="greater").pvalue
        assert rec["validity_pvalue"] == pytest.approx(ks, rel=1e-12)
        assert rec["validity_ok"] and rec["validity_pvalue"] >= CALIBRATION_ALPHA / 2


def test_liberal_p_values_fail_calibration():
    prof = replace(parse_profile(TINY), checks=(SkewedP(n=3, generations=2, replicates=20),))
    res = calibrate(prof, list(range(60)), workers=1)
    assert not res.passed
    assert res.checks["test.skewed.n3.T2.sufficient"]["validity_pvalue"] < 1e-4


def test_command(tmp_path, capsys):
    path = tmp_path / "tiny.toml"
    path.write_text('name = "tiny"\nseed = 1\nbudget = 0.001\n[[checks]]\ntype = "log_var_gof"\n'
                    'n = 3\ngenerations = 5\nreplicates = 200\n')
    assert main(["calibrate", "--profile", str(path), "--seeds", "5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["runs"] == 5 and out["passed"] and not out["conclusive_about_budget"]
    assert main(["calibrate", "--profile", str(path), "--seeds", "0"]) == 2


# ---------------------------------------------------------------------------------------
# The report's numbers: exact bounds, WEAK rate against the design, p-value uniformity
# ---------------------------------------------------------------------------------------

SMALL_TOML = ('name = "small"\nseed = 1\nbudget = 0.001\nweak_alpha = 0.02\n'
              '[[checks]]\ntype = "log_var_gof"\nn = 10\ngenerations = 5\nreplicates = 200\n'
              '[[checks]]\ntype = "increment_gof"\nn = 4\ngenerations = 10\nreplicates = 50\n')


def _small(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(SMALL_TOML)
    return str(path)


def _run_json(capsys, *args):
    code = main(["calibrate", *args, "--json", "--no-progress"])
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if captured.out else None), captured.err


def test_exact_one_sided_bounds():
    from collapsecheck.calibrate import lower_bound95, upper_bound95

    # 0 of K: (1 - u)^K = 0.05 solves for the upper bound; K of K: u^K = 0.05 the lower
    assert abs(upper_bound95(0, 3000) - (1 - 0.05 ** (1 / 3000))) < 1e-12
    assert 0.000998 < upper_bound95(0, 3000) < 0.000999
    assert abs(lower_bound95(60, 60) - 0.05 ** (1 / 60)) < 1e-12
    assert round(lower_bound95(60, 60), 3) == 0.951
    assert lower_bound95(0, 60) == 0.0 and upper_bound95(60, 60) == 1.0
    # the same bounds as scipy's one-sided exact intervals
    for k, runs in ((3, 40), (17, 20), (1, 3000)):
        up = sps.binomtest(k, runs, alternative="less").proportion_ci(0.95, "exact").high
        lo = sps.binomtest(k, runs, alternative="greater").proportion_ci(0.95, "exact").low
        assert abs(upper_bound95(k, runs) - up) < 1e-10
        assert abs(lower_bound95(k, runs) - lo) < 1e-10


def test_json_shape(tmp_path, capsys):
    code, out, _ = _run_json(capsys, "--profile", _small(tmp_path), "--seeds", "6",
                             "--first-seed", "10", "--workers", "1")
    assert code == 0
    assert out["profile"] == "small" and out["seeds"] == 6 and out["runs"] == 6
    assert out["first_seed"] == 10 and out["seed_range"] == [10, 15]
    assert out["false_alarm_budget"] == out["budget"] == 0.001
    assert out["false_alarm_rate"] == out["fail_rate"] == out["failed_runs"] / 6
    assert out["false_alarm_ci95"] == out["fail_rate_ci95"]
    assert out["failed_runs"] == 0  # a budget of 0.001 over 6 seeds
    assert abs(out["false_alarm_upper95"] - (1 - 0.05 ** (1 / 6))) < 1e-12
    # two consistency checks, a = budget / 2; WEAK when a/2 <= p < weak_alpha
    a = 0.001 / 2
    assert abs(out["weak_rate_design"] - (1 - (1 - (0.02 - a / 2)) ** 2)) < 1e-15
    assert out["weak_rate"] == out["weak_runs"] / 6 and out["weak_runs"] in range(7)
    uni = out["pvalue_uniformity"]
    # correct checks: every p-value sample passes validity (Bonferroni over the 2 checks)
    assert set(uni) == set(out["checks"]) and all(p >= CALIBRATION_ALPHA / 2 for p in uni.values())
    assert out["pvalue_uniformity_correction"] == "bonferroni"
    assert out["pvalue_uniformity_p"] == min(1.0, 2 * min(uni.values()))
    for cid, rec in out["checks"].items():
        assert rec["uniformity_pvalue"] == rec["validity_pvalue"] == uni[cid]
        assert rec["weak_rate_design"] == 0.02 - a / 2
    assert out["mutants"] == [] and out["mutants_passed"] and out["passed"]


def test_weak_rate_counts_consistency_first_stages():
    prof = parse_profile({**TINY, "weak_alpha": 0.5})
    res = calibrate(prof, list(range(10)), workers=1)
    weak_any = res.weak_runs
    assert 0 < weak_any <= 10  # at weak_alpha = 0.5 most runs have a WEAK check
    assert abs(res.weak_rate_design - (1 - (1 - (0.5 - 0.001 / 4)) ** 2)) < 1e-15
    assert weak_any >= max(rec["weak"] for rec in res.checks.values())


def test_liberal_p_values_show_in_uniformity():
    prof = replace(parse_profile(TINY), checks=(SkewedP(n=3, generations=2, replicates=20),))
    out = calibrate(prof, list(range(60)), workers=1).to_dict()
    assert out["pvalue_uniformity_p"] < 1e-4
    assert list(out["pvalue_uniformity"]) == ["test.skewed.n3.T2.sufficient"]


def test_workers_do_not_change_the_result(tmp_path, capsys):
    args = ["--profile", _small(tmp_path), "--seeds", "4", "--mutant", "variance-not-sd",
            "--mutant", "frozen-mean"]
    code1, one, _ = _run_json(capsys, *args, "--workers", "1")
    code2, two, _ = _run_json(capsys, *args, "--workers", "2")
    assert code1 == code2 == 1  # frozen-mean is invisible to these checks
    assert one.pop("seconds") >= 0 and two.pop("seconds") >= 0
    assert one == two


def test_unknown_mutant_is_a_usage_error(tmp_path, capsys):
    from collapsecheck.mutants import MUTANTS

    code = main(["calibrate", "--profile", _small(tmp_path), "--seeds", "2", "--mutant",
                 "variance-not-sd", "--mutant", "no-such-bug", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "no-such-bug" in err and all(name in err for name in MUTANTS)


def test_mutant_exit_code(tmp_path, capsys):
    code, out, _ = _run_json(capsys, "--profile", _small(tmp_path), "--seeds", "3",
                             "--mutant", "variance-not-sd")
    assert code == 0 and out["mutants_passed"]
    (m,) = out["mutants"]
    assert m["name"] == "variance-not-sd" and m["seeds"] == 3 and m["kill_rate"] == 1.0
    assert abs(m["kill_lower95"] - 0.05 ** (1 / 3)) < 1e-12
    assert set(m["killed_by"]) == set(out["checks"]) and max(m["killed_by"].values()) == 3
    # the fitted mean is never looked at by these checks: missed, exit 1
    code, out, _ = _run_json(capsys, "--profile", _small(tmp_path), "--seeds", "3",
                             "--mutant", "frozen-mean")
    (m,) = out["mutants"]
    assert code == 1 and out["passed"] and not out["mutants_passed"]
    assert m["kill_rate"] == 0 and m["kill_lower95"] == 0 and not any(m["killed_by"].values())


def test_table(tmp_path, capsys):
    code = main(["calibrate", "--profile", _small(tmp_path), "--seeds", "2", "--mutant",
                 "variance-not-sd", "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0
    assert "false alarms (runs with any FAIL): 0/2" in out and "upper bound" in out
    assert "budget 0.001" in out
    assert "mutant variance-not-sd: killed 2/2" in out and "caught" in out
