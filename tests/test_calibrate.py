"""``calibrate``: the false-alarm rate over seeds, and the validity of each check's p-values."""

import json
from dataclasses import dataclass, replace

import numpy as np

from collapsecheck.calibrate import calibrate
from collapsecheck.checks.base import Check, Outcome
from collapsecheck.cli import main
from collapsecheck.profiles import parse_profile

TINY = {"name": "tiny", "seed": 1, "budget": 0.001, "checks": [
    {"type": "log_var_gof", "n": 3, "generations": 5, "replicates": 200},
    {"type": "increment_gof", "n": 4, "generations": 10, "replicates": 50}]}


@dataclass(frozen=True)
class SkewedP(Check):
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
    for rec in res.checks.values():
        assert 0 <= rec["validity_pvalue"] <= 1


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
