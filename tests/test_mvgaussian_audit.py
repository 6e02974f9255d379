"""Audit of recorded multivariate chains (``audit --family mvgaussian``) on logs made
independently of collapsecheck: n raw draws x = mu + z L^T per generation, refit by the
mean and the scatter matrix, log det and trace written as a published study logs them.
The refit keeps the covariance as its factor L (the scatter of x is L (z_c^T z_c) L^T, so
the new factor is L chol(z_c^T z_c / (n - ddof))): the same chain as drawing from the
covariance itself, but long horizons stay exact where a plain covariance's condition
number passes 1e16 (D = 2, n = 40 reaches it within a few hundred generations).
The true n passes; a declared n 20% off fails; one long chain, a log from generation 1 with
the start declared, and a trace logged as a ratio to the initial trace are read."""

from __future__ import annotations

import json

import numpy as np
import pytest

from collapsecheck.cli import ExitCode, main
from collapsecheck.families.mvgaussian.audit import audit_mv, load


def _write(path, *, n, dim, generations, chains, ddof=0.0, seed=0, start=0, ratio=False):
    rng = np.random.default_rng(seed)
    lines = ["replicate,generation,logdet,trace"]
    for r in range(chains):
        mu, L, logdet = np.zeros(dim), np.eye(dim), 0.0
        for t in range(generations + 1):
            if t >= start:
                scale = np.exp(np.log(np.abs(np.diag(L))).mean())  # trace without underflow
                tr = float(np.sum((L / scale) ** 2) * scale**2) / (dim if ratio else 1.0)
                lines.append(f"{r},{t},{logdet!r},{tr!r}")
            z = rng.standard_normal((n, dim))
            mu = mu + z.mean(axis=0) @ L.T
            zc = z - z.mean(axis=0)
            B = np.linalg.cholesky(zc.T @ zc / (n - ddof))
            logdet += float(2 * np.sum(np.log(np.diag(B))))
            L = L @ B
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def log100(tmp_path_factory):
    return _write(tmp_path_factory.mktemp("mv") / "log.csv", n=20, dim=3, generations=50,
                  chains=100, seed=1)


def test_true_n_passes_and_a_20_percent_error_fails(log100):
    data = load(log100)
    ok = audit_mv(data, n=20, dim=3)
    assert ok.verdict.value == "PASS", [(c.id, c.pvalue) for c in ok.checks]
    assert [c.id for c in ok.checks] == ["logdet_increment_gof", "logdet_drift",
                                         "trace_martingale"]
    lo, hi = ok.rate["n_eff"]["ci95"]
    assert lo < 20 < hi and ok.reach["n_relative_error_detectable"] < 0.2
    for wrong in (16, 24):
        bad = audit_mv(data, n=wrong, dim=3)
        assert bad.verdict.value == "FAIL"
        assert min(c.pvalue for c in bad.checks) < 1e-6


def test_a_wrong_ddof_is_caught_by_the_drift_and_the_trace(log100):
    bad = audit_mv(load(log100), n=20, dim=3, ddof=1.0)
    by = {c.id: c.pvalue for c in bad.checks}
    assert bad.verdict.value == "FAIL" and by["logdet_drift"] < 1e-6
    assert by["trace_martingale"] < 1e-3


def test_one_long_chain(tmp_path):
    path = _write(tmp_path / "one.csv", n=40, dim=2, generations=1500, chains=1, seed=2)
    assert audit_mv(load(path), n=40, dim=2).verdict.value == "PASS"
    assert audit_mv(load(path), n=32, dim=2).verdict.value == "FAIL"


def test_a_log_from_generation_1_with_a_ratio_trace(tmp_path, capsys):
    path = _write(tmp_path / "late.csv", n=20, dim=3, generations=50, chains=100, seed=3,
                  start=1, ratio=True)
    argv = ["audit", "--family", "mvgaussian", str(path), "--n", "20", "--dim", "3",
            "--sigma0", "1", "--trace-ratio", "--json"]
    assert main(argv) == ExitCode.OK
    record = json.loads(capsys.readouterr().out)
    assert record["verdict"] == "PASS"
    assert any("generation 0 is the declared start" in note for note in record["notes"])
    argv[5] = "24"
    assert main(argv) == ExitCode.CHECK_FAILED
    capsys.readouterr()


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("replicate,generation,std\n0,0,1\n")
    assert main(["audit", "--family", "mvgaussian", str(path), "--n", "5",
                 "--dim", "2"]) == ExitCode.USAGE
    assert "bad header" in capsys.readouterr().err
    good = _write(tmp_path / "ok.csv", n=5, dim=2, generations=3, chains=2)
    assert main(["audit", "--family", "mvgaussian", str(good), "--dim", "2"]) == ExitCode.USAGE
    assert "audit needs --n" in capsys.readouterr().err
    path.write_text("replicate,generation,logdet,trace\n0,0,0,-1\n")
    assert main(["audit", "--family", "mvgaussian", str(path), "--n", "5",
                 "--dim", "2"]) == ExitCode.USAGE
    assert "`trace` must be > 0" in capsys.readouterr().err
