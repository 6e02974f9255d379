"""The multivariate chain under accumulate (each generation refits to every draw so far):
the exact trace factors against the 1-D chain's recursion and against chains simulated
naively (every draw kept, the covariance refitted from the whole pool with numpy), and
``audit --family mvgaussian --regime accumulate`` on such logs."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from collapsecheck.cli import ExitCode, main
from collapsecheck.families.gaussian.theory.accumulate import accumulate_moments
from collapsecheck.families.mvgaussian.accumulate import (
    ln_trace_mean,
    ratio_scale,
    trace_factors,
)
from collapsecheck.families.mvgaussian.audit import audit_mv, load

S0 = np.array([[4.0, 1.0, 0.0], [1.0, 1.0, 0.2], [0.0, 0.2, 0.25]])


def _pooled_chains(R, n, T, ddof, sigma0, seed, *, regime="accumulate"):
    """(log det, trace) of R chains, shape (R, T + 1): every generation draws n vectors
    from the last fit; accumulate refits np.cov-style to the whole pool, replace to the
    n new draws."""
    rng = np.random.default_rng(seed)
    D = sigma0.shape[0]
    L = np.broadcast_to(np.linalg.cholesky(sigma0), (R, D, D)).copy()
    mu = np.zeros((R, D))
    pool = np.empty((R, 0, D))
    logdet = [np.full(R, np.linalg.slogdet(sigma0)[1])]
    trace = [np.full(R, np.trace(sigma0))]
    for _ in range(T):
        x = mu[:, None, :] + np.einsum("rij,rkj->rki", L, rng.standard_normal((R, n, D)))
        pool = np.concatenate([pool, x], axis=1) if regime == "accumulate" else x
        mu = pool.mean(axis=1)
        c = pool - mu[:, None, :]
        S = np.einsum("rki,rkj->rij", c, c) / (pool.shape[1] - ddof)
        L = np.linalg.cholesky(S)
        logdet.append(np.linalg.slogdet(S)[1])
        trace.append(np.trace(S, axis1=1, axis2=2))
    return np.array(logdet).T, np.array(trace).T


def _write(path, logdet, trace):
    lines = ["replicate,generation,logdet,trace"]
    for r in range(logdet.shape[0]):
        lines += [f"{r},{t},{float(logdet[r, t])!r},{float(trace[r, t])!r}"
                  for t in range(logdet.shape[1])]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(("n", "ddof"), [(4, 0.0), (4, 1.0), (30, 0.0), (7, 2.5)])
def test_the_factors_are_the_one_dimensional_chains(n, ddof):
    # E tr Sigma_T / tr Sigma_0 = E sigma_T^2 / sigma_0^2 of the 1-D accumulate chain
    # (its own recursion, checked against mpmath in tests/test_theory_accumulate.py)
    for T in (0, 1, 2, 5, 40):
        one_d = accumulate_moments(T, n, ddof)[0]
        assert ln_trace_mean(T, n, ddof, 5.25) == pytest.approx(math.log(5.25) + one_d,
                                                                rel=1e-13, abs=1e-13)
    g = trace_factors(40, n, ddof)
    steps = np.diff([accumulate_moments(T, n, ddof)[0] for T in range(41)])
    assert np.log(g) == pytest.approx(steps, rel=1e-10, abs=1e-14)
    # closed forms: g_1 = (n-1)/(n-d); g_t = 1 - 1/(t (n t - d)); s_1 = sqrt(2(n-1))/(n-d)
    assert g[0] == pytest.approx((n - 1) / (n - ddof), rel=1e-15)
    assert g[9] == pytest.approx(1 - 1 / (10 * (10 * n - ddof)), rel=1e-15)
    s = ratio_scale(3, n, ddof)
    assert s[0] == pytest.approx(math.sqrt(2 * (n - 1)) / (n - ddof), rel=1e-15)
    assert s[2] == pytest.approx(math.sqrt(2 * (n - 1 + 4 / 9)) / (3 * n - ddof), rel=1e-15)


@pytest.mark.parametrize("ddof", [0.0, 1.0])
def test_naive_pooled_chains_match_the_exact_trace_moments(ddof):
    R, n, T = 20000, 4, 5
    _, tr = _pooled_chains(R, n, T, ddof, S0, seed=11 + int(ddof))
    exact = np.exp([ln_trace_mean(t, n, ddof, float(np.trace(S0))) for t in range(T + 1)])
    se = tr.std(axis=0, ddof=1) / math.sqrt(R)
    assert np.all(np.abs(tr.mean(axis=0)[1:] - exact[1:]) < 5 * se[1:])
    ratio = tr[:, 1:] / tr[:, :-1]
    u = (ratio - trace_factors(T, n, ddof)) / ratio_scale(T, n, ddof)
    assert np.all(np.abs(u.mean(axis=0)) < 5 * u.std(axis=0, ddof=1) / math.sqrt(R))
    # conditional variance: exactly tr(M^2)/(tr M)^2 s_1^2 at t = 1 (M = Sigma_0), and in
    # [1/D, 1] x s_t^2 at every t
    v1 = float(np.sum(S0 * S0) / np.trace(S0) ** 2)
    assert u[:, 0].var() == pytest.approx(v1, rel=0.05)
    assert np.all((u.var(axis=0) > 1 / 3 - 0.02) & (u.var(axis=0) < 1.02))


def test_log_det_steps_follow_the_stated_representation():
    """The docstring's representation of a log det step under accumulate (not used by the
    audit, which skips log det there): at t = 3 the naive chains' steps and draws of
    log det((N_2 - d) I + W + (N_2/N_3) z z^T) - D log(N_3 - d) agree (two-sample KS)."""
    from scipy import stats as sps

    R, n, T, d, D = 20000, 4, 3, 0.0, 3
    logdet, _ = _pooled_chains(R, n, T, d, S0, seed=21)
    step = logdet[:, 3] - logdet[:, 2]
    rng = np.random.default_rng(22)
    g = rng.standard_normal((R, n - 1, D))
    z = rng.standard_normal((R, D))
    big_prev, big = n * 2, n * 3
    M = ((big_prev - d) * np.eye(D) + np.einsum("rki,rkj->rij", g, g)
         + (big_prev / big) * np.einsum("ri,rj->rij", z, z))
    draws = np.linalg.slogdet(M)[1] - D * np.log(big - d)
    assert sps.ks_2samp(step, draws).pvalue > 1e-3
    # and not the replace chain's step law at the same n
    assert sps.ks_2samp(step, logdet[:, 1] - logdet[:, 0]).pvalue < 1e-6


def test_published_one_dimensional_accumulate_runs(tmp_path):
    """Kazdan et al. (2024)'s recorded 1-D runs (validation/published/...) as D = 1 logs
    (log det = log_var, trace = sigma^2): accumulate runs pass as accumulate and fail as
    replace; replace runs fail as accumulate."""
    from pathlib import Path

    root = (Path(__file__).resolve().parent.parent / "validation" / "published"
            / "kazdan2024-collapse-or-thrive")
    logs = {}
    for name in ("accumulate_n10", "replace_n10"):
        a = np.genfromtxt(root / f"{name}.csv", delimiter=",", names=True)
        rows = [f"{int(r)},{int(g)},{float(v)!r},{float(np.exp(v))!r}"
                for r, g, v in zip(a["replicate"], a["generation"], a["log_var"], strict=True)]
        path = tmp_path / f"{name}.csv"
        path.write_text("replicate,generation,logdet,trace\n" + "\n".join(rows) + "\n")
        logs[name] = load(path)
    ok = audit_mv(logs["accumulate_n10"], n=10, dim=1, regime="accumulate")
    assert ok.verdict.value == "PASS" and ok.checks[0].numbers["steps"] == 100 * 100
    assert audit_mv(logs["accumulate_n10"], n=10, dim=1).verdict.value == "FAIL"
    assert audit_mv(logs["replace_n10"], n=10, dim=1, regime="accumulate"
                    ).verdict.value == "FAIL"
    assert audit_mv(logs["replace_n10"], n=10, dim=1).verdict.value == "PASS"


@pytest.fixture(scope="module")
def pooled_log(tmp_path_factory):
    logdet, tr = _pooled_chains(200, 5, 30, 0.0, S0, seed=3)
    return _write(tmp_path_factory.mktemp("acc") / "acc.csv", logdet, tr)


def test_the_audit_passes_accumulate_chains_and_fails_them_as_replace(pooled_log):
    data = load(pooled_log)
    ok = audit_mv(data, n=5, dim=3, regime="accumulate")
    assert ok.verdict.value == "PASS", [(c.id, c.pvalue) for c in ok.checks]
    assert [c.id for c in ok.checks] == ["trace_martingale"]
    assert set(ok.skipped) == {"logdet_increment_gof", "logdet_drift"}
    assert ok.checks[0].numbers["steps"] == 200 * 30
    assert ok.spec["regime"] == "accumulate"
    # the same chains read as replace chains: log det shrinks far too slowly
    assert audit_mv(data, n=5, dim=3).verdict.value == "FAIL"


def test_replace_chains_fail_as_accumulate(tmp_path):
    logdet, tr = _pooled_chains(100, 8, 10, 0.0, S0, seed=4, regime="replace")
    data = load(_write(tmp_path / "rep.csv", logdet, tr))
    assert audit_mv(data, n=8, dim=3).verdict.value == "PASS"
    bad = audit_mv(data, n=8, dim=3, regime="accumulate")
    assert bad.verdict.value == "FAIL" and bad.checks[0].pvalue < 1e-6


def test_the_command_line_takes_accumulate_for_audit_only(pooled_log, capsys):
    argv = ["audit", "--family", "mvgaussian", str(pooled_log), "--n", "5", "--dim", "3",
            "--regime", "accumulate", "--json"]
    assert main(argv) == ExitCode.OK
    record = json.loads(capsys.readouterr().out)
    assert record["verdict"] == "PASS" and "logdet_drift" in record["skipped"]
    assert main(["theory", "--family", "mvgaussian", "--dim", "3", "--n", "5",
                 "--regime", "accumulate"]) == ExitCode.USAGE
    assert "--regime must be replace here" in capsys.readouterr().err
    assert main(["audit", "--family", "mvgaussian", str(pooled_log), "--n", "5", "--dim",
                 "3", "--regime", "mix"]) == ExitCode.USAGE
    assert "--regime must be replace or accumulate" in capsys.readouterr().err


def test_invalid_arguments_name_the_parameter():
    with pytest.raises(ValueError, match=r"`ddof` must satisfy 0 <= ddof < n; got ddof=5"):
        trace_factors(3, 5, 5.0)
    with pytest.raises(TypeError, match=r"`generations` must be a whole number; got 2\.0"):
        ratio_scale(2.0, 5)
    with pytest.raises(ValueError, match=r"`trace0` must be finite and > 0; got 0"):
        ln_trace_mean(3, 5, 0.0, 0)
