"""``collapsecheck audit``: fixed trajectories against exact theory."""

import json
import math

import numpy as np
import pytest
from tests import mutants

from collapsecheck import Experiment
from collapsecheck.audit import _judge, audit, n_from_step_variance
from collapsecheck.checks.base import Outcome
from collapsecheck.checks.theory import LogVarGof
from collapsecheck.cli import main
from collapsecheck.engines import simulate
from collapsecheck.results import Verdict
from collapsecheck.theory import log_sigma2_step_var
from collapsecheck.trajectories import Trajectories, save


@pytest.fixture(scope="module")
def chains():
    e = Experiment(n=10, generations=200, replicates=300, seed=3)
    return simulate(e, workers=1).trajectories


def test_correct_chains_pass_and_rate_is_right(chains):
    res = audit(chains, n=10)
    assert res.verdict is Verdict.PASS
    # within 5 standard errors (a 95% interval misses 1 time in 20)
    drift = res.rate["log_sigma2_drift"]
    assert abs(drift["estimate"] - drift["exact"]) < 5 * drift["se"]
    neff = res.rate["n_eff"]
    half = (neff["ci95"][1] - neff["ci95"][0]) / 2
    assert abs(neff["estimate"] - 10) < 5 * half / 1.96


def test_wrong_n_fails(chains):
    res = audit(chains, n=12)
    assert res.verdict is Verdict.FAIL
    assert {c.id for c in res.checks if c.verdict is Verdict.FAIL} >= {
        "audit.log_var_gof", "audit.increment_gof", "audit.drift_consistency"}


def test_chains_may_start_anywhere(chains):
    # location-scale invariance: shifting and scaling each chain changes nothing (the
    # shift is kept small: late increments of mu are ~1e-10 and a large offset would
    # round them away in the data itself)
    rng = np.random.default_rng(0)
    shift = rng.normal(size=(chains.replicates, 1)) * 1e-3
    scale = np.exp(rng.normal(size=(chains.replicates, 1)))
    moved = Trajectories(chains.generations, chains.log_var + 2 * np.log(scale),
                         chains.mean * scale + shift)
    a, b = audit(chains, n=10), audit(moved, n=10)
    assert [c.pvalue for c in a.checks] == pytest.approx([c.pvalue for c in b.checks], rel=1e-6)


def test_reused_numbers_are_caught():
    e = Experiment(n=5, generations=100, replicates=400, seed=2)
    traj = mutants.paired_replicates()(e, "all")
    res = audit(traj, n=5)
    verdicts = {c.id: c.verdict for c in res.checks}
    assert verdicts["audit.replicate_independence"] is Verdict.FAIL


@pytest.mark.parametrize("n", [2, 3, 10, 1000, 10**6])
def test_n_from_step_variance_inverts_trigamma(n):
    assert n_from_step_variance(log_sigma2_step_var(n)) == pytest.approx(n, rel=1e-9)
    assert math.isnan(n_from_step_variance(0.0))


def test_weak_stands_on_fixed_data():
    check = LogVarGof(n=5, generations=3, replicates=100)
    weak = _judge(check, Outcome(0.1, 0.005, {}), a=1e-4, weak_alpha=0.01)
    assert weak.verdict is Verdict.WEAK and "stands" in weak.reason
    assert _judge(check, Outcome(0.1, 1e-5, {}), a=1e-4, weak_alpha=0.01).verdict is Verdict.FAIL
    assert _judge(check, Outcome(0.1, 0.5, {}), a=1e-4, weak_alpha=0.01).verdict is Verdict.PASS


class TestCommand:
    def test_exit_codes_and_json(self, chains, tmp_path, capsys):
        path = save(chains, tmp_path / "c.csv")
        assert main(["audit", str(path), "--n", "10", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["verdict"] == "PASS"
        assert set(out["rate"]) >= {"log_sigma2_drift", "n_eff"}
        assert set(out["rate"]["n_eff"]) >= {"estimate", "ci95"}
        assert main(["audit", str(path), "--n", "12"]) == 1

    def test_n_is_required(self, chains, tmp_path, capsys):
        # a file does not record n: assuming the article's 1000 would audit the wrong chain
        path = save(chains, tmp_path / "c.npz")
        assert main(["audit", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "audit needs --n" in err

    @pytest.mark.parametrize(("args", "message"), [
        (["--n", "1"], "--n must be at least 2"),
        (["--n", "10", "--ddof", "10"], "--ddof must be smaller than --n"),
        (["--n", "10", "--budget", "2"], "`--budget` must lie in"),
    ])
    def test_bad_parameters(self, chains, tmp_path, capsys, args, message):
        path = save(chains, tmp_path / "c.npz")
        assert main(["audit", str(path), *args]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1

    def test_missing_and_pickled_files(self, tmp_path, capsys):
        assert main(["audit", str(tmp_path / "none.csv"), "--n", "5"]) == 2
        bad = tmp_path / "evil.npy"
        np.save(bad, np.array([object()], dtype=object), allow_pickle=True)
        assert main(["audit", str(bad), "--n", "5"]) == 2
        assert "never loaded" in capsys.readouterr().err


def test_too_few_chains_is_a_usage_error(tmp_path, capsys):
    e = Experiment(n=5, generations=60, replicates=1, seed=1)
    path = save(simulate(e, workers=1).trajectories, tmp_path / "one.csv")
    assert main(["audit", str(path), "--n", "5"]) == 2
    assert "no check can run on 1 chain(s)" in capsys.readouterr().err
