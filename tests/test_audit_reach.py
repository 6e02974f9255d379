"""``audit`` on real logs as they come: one long chain, ragged chains, late starts, the
formal n_eff check and the joint (n, ddof) estimate.

The chains here are drawn by the test itself (numpy draws and fits, not the package's
engines), so that the audit is judged on data made independently of it."""

import json
import math

import numpy as np
import pytest
from scipy import stats as sps

import collapsecheck
from collapsecheck.audit import AuditResult, _fixed, audit, n_ddof_joint
from collapsecheck.checks.theory import StepVariance
from collapsecheck.cli import main
from collapsecheck.results import Verdict
from collapsecheck.trajectories import Trajectories


def _refit_chain(n: int, generations: int, rng, ddof: float = 0.0, sigma0: float = 1.0):
    """One refit chain from n raw draws a generation, x = mu + sigma z: (mean, log sigma^2)
    at 0..T, on the log scale so that a long collapse neither underflows nor rounds away."""
    mu, lv = np.empty(generations + 1), np.empty(generations + 1)
    mu[0], lv[0] = 0.0, 2 * math.log(sigma0)
    for t in range(1, generations + 1):
        z = rng.normal(size=n)
        zbar = z.mean()
        mu[t] = mu[t - 1] + math.exp(lv[t - 1] / 2) * zbar
        lv[t] = lv[t - 1] + math.log(((z - zbar) ** 2).sum() / (n - ddof))
    return mu, lv


@pytest.fixture(scope="module")
def long_chain():
    mu, lv = _refit_chain(100, 10_000, np.random.default_rng(20240601))
    return Trajectories(np.arange(lv.size), lv[None, :], mu[None, :])


def _verdicts(res: AuditResult) -> dict[str, Verdict]:
    return {c.id: c.verdict for c in res.checks}


def test_single_long_chain_true_n_passes(long_chain):
    res = audit(long_chain, n=100)
    assert res.verdict is not Verdict.FAIL
    assert _verdicts(res)["audit.n_eff"] is Verdict.PASS
    # the checks that need many chains say so
    assert "20 chains" in res.skipped["log_var_gof"] or "reach" in res.skipped["log_var_gof"]
    assert "balanced panel" in res.skipped["drift_consistency"]
    # at 10^4 increments the n_eff check resolves an n off by less than 10%
    assert res.reach["n_relative_error_detectable"] < 0.1


@pytest.mark.parametrize("declared", [90, 110])
def test_single_long_chain_wrong_n_fails_on_n_eff(long_chain, declared):
    res = audit(long_chain, n=declared)
    assert res.verdict is Verdict.FAIL
    n_eff = next(c for c in res.checks if c.id == "audit.n_eff")
    assert n_eff.verdict is Verdict.FAIL and n_eff.pvalue < n_eff.alpha


def _ragged_csv(path, *, n=50, chains=30, first=3, seed=7, mean=True):
    """Chains of 40..120 generations written row by row; every third chain starts to be
    recorded at generation ``first`` (its earlier generations are not in the log)."""
    rng = np.random.default_rng(seed)
    lines = ["replicate,generation,mean,std" if mean else "replicate,generation,std"]
    for r in range(chains):
        T = int(rng.integers(40, 121))
        mu, lv = _refit_chain(n, T, rng)
        sd = np.exp(lv / 2)
        start = first if r % 3 == 0 else 0
        for g in range(start, T + 1):
            lines.append(f"{r},{g},{mu[g]:.17g},{sd[g]:.17g}" if mean else f"{r},{g},{sd[g]:.17g}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("sigma0", [None, 1.0])
def test_ragged_late_csv_audits_with_reasons(tmp_path, capsys, sigma0):
    path = _ragged_csv(tmp_path / "ragged.csv")
    extra = [] if sigma0 is None else ["--sigma0", str(sigma0), "--mu0", "0"]
    assert main(["audit", str(path), "--n", "50", "--json", *extra]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["verdict"] != "FAIL"
    ids = {c["id"] for c in out["checks"]}
    assert {"audit.increment_gof", "audit.n_eff", "audit.increment_drift"} <= ids
    # every check that could not run is named with its reason
    assert "balanced panel" in out["skipped"]["drift_consistency"]
    assert out["reach"]["skipped"] == out["skipped"]
    assert 0 < out["reach"]["n_relative_error_detectable"] < 1
    notes = " ".join(out["notes"])
    assert "differ in length" in notes
    if sigma0 is None:
        assert "judged from its first recorded generation" in notes
    else:
        assert "sigma0 = 1" in notes and out["spec"]["sigma0"] == 1.0
    # and the same file with a wrong n fails on the n_eff check
    assert main(["audit", str(path), "--n", "40", "--json", *extra]) == 1
    bad = json.loads(capsys.readouterr().out)
    assert {c["id"]: c["verdict"] for c in bad["checks"]}["audit.n_eff"] == "FAIL"


def test_late_start_without_means_in_the_table_output(tmp_path, capsys):
    path = _ragged_csv(tmp_path / "late.csv", mean=False)
    assert main(["audit", str(path), "--n", "50"]) == 0
    out, err = capsys.readouterr()
    assert "verdict:" in out and "n and ddof jointly" in out
    assert "skipped mean_increment_gof: the file records no mean" in err
    assert "note:" in err and "reach:" in err


def test_late_start_all_equal_uses_the_panel_checks():
    # 40 chains of the same length, all first recorded at generation 3: judged from there
    rng = np.random.default_rng(11)
    lvs = [_refit_chain(20, 60, rng)[1][3:] for _ in range(40)]
    traj = Trajectories.from_ragged(log_var=lvs, start=3)
    res = collapsecheck.audit_chains(traj, n=20)
    assert "audit.drift_consistency" in _verdicts(res) and res.verdict is not Verdict.FAIL
    assert res.spec["first_recorded_generation"] == 3
    assert any("first recorded generation" in note for note in res.notes)


def test_audit_chains_takes_lists_of_different_lengths():
    rng = np.random.default_rng(5)
    sds = [np.exp(_refit_chain(30, T, rng)[1] / 2) for T in (600, 400, 300)]
    res = collapsecheck.audit_chains(sds, n=30)
    assert isinstance(res, AuditResult) and res.reach["increments"] == 600 + 400 + 300
    assert res.verdict is not Verdict.FAIL
    assert isinstance(collapsecheck.audit, type(math))  # the name stays the module


def _steps(rng, n, ddof, N):
    """N i.i.d. increments of log sigma^2 from their exact law, log(chi2_{n-1}/(n-ddof))."""
    return np.log(rng.chisquare(n - 1, size=N) / (n - ddof))


def test_joint_n_ddof_interval_covers_the_truth():
    # 95% delta-method intervals over 200 seeded data sets of 5000 increments: coverage of
    # n and ddof each within the binomial 1e-4 bounds of 0.95 (a 20% too narrow SE, i.e.
    # coverage 0.89, falls outside)
    rng = np.random.default_rng(2024)
    hits = {"n": 0, "ddof": 0}
    for _ in range(200):
        est = n_ddof_joint(_steps(rng, 30, 1.0, 5000))
        for key, truth in (("n", 30), ("ddof", 1.0)):
            lo, hi = est[key]["ci95"]
            hits[key] += lo <= truth <= hi
    lo, hi = sps.binom.ppf([1e-4, 1 - 1e-4], 200, 0.95)
    assert lo <= hits["n"] <= hi and lo <= hits["ddof"] <= hi, hits
    # and on a refit chain drawn from raw samples
    _, lv = _refit_chain(30, 8000, np.random.default_rng(3), ddof=1.0)
    res = audit(Trajectories(np.arange(lv.size), lv[None, :]), n=30, ddof=1.0)
    joint = res.rate["n_ddof_joint"]
    for key, truth in (("n", 30), ("ddof", 1.0)):
        est, se = joint[key]["estimate"], joint[key]["se"]
        assert abs(est - truth) < 4 * se


@pytest.mark.parametrize(("n", "N"), [(10, 2000), (100, 10_000)])
def test_n_eff_false_alarm_rate_matches_alpha(n, N):
    # 200 seeded true data sets; at alpha = 0.1 the number of alarms must lie within the
    # binomial 1e-4 bounds (about 5 to 38 of 200), and the p-values be uniform (KS)
    check = StepVariance(id="audit.n_eff", n=n, generations=1, replicates=N)
    rng = np.random.default_rng([n, N])
    pvalues = []
    for _ in range(200):
        x = np.cumsum(np.concatenate([[0.0], _steps(rng, n, 0.0, N)]))
        out = check.run(check.experiment(seed=0), _fixed(Trajectories(np.arange(N + 1),
                                                                      x[None, :])))
        pvalues.append(out.pvalue)
    alarms = int(np.sum(np.array(pvalues) < 0.1))
    lo, hi = sps.binom.ppf([1e-4, 1 - 1e-4], 200, 0.1)
    assert lo <= alarms <= hi
    assert sps.kstest(pvalues, "uniform").pvalue > 1e-4


def test_n_eff_detectable_effect_is_met():
    # the stated detectable effect is real: an n off by it fails at its alpha about 90%
    check = StepVariance(id="audit.n_eff", n=50, generations=1, replicates=4000)
    eff = check.detectable_effect(1e-3, 4000)
    rng = np.random.default_rng(9)
    true_n = round(50 * (1 + eff["above"]))
    fails = 0
    for _ in range(100):
        x = np.cumsum(np.concatenate([[0.0], _steps(rng, true_n, 0.0, 4000)]))
        out = check.run(check.experiment(seed=0), _fixed(Trajectories(np.arange(4001),
                                                                      x[None, :])))
        fails += out.pvalue < 1e-3
    assert fails >= 75  # power 0.9 at the effect (binomial 1e-4 bound with n rounded)
