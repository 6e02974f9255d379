"""Eigenvalue columns of a multivariate log (``log_eig_1..log_eig_D``): read strictly,
their late rates reported beside the exact Lyapunov spectrum (not graded: limits), their
sum held to log det. Logs are made without collapsecheck (factor refit as in
tests/test_mvgaussian_audit.py; eigenvalues from the factor's singular values)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import special

from collapsecheck.cli import ExitCode, main
from collapsecheck.errors import InputError
from collapsecheck.families.mvgaussian.audit import audit_mv, load


def _write(path, *, n, dim, generations, chains, seed=0, corrupt=False):
    rng = np.random.default_rng(seed)
    names = ",".join(f"log_eig_{i}" for i in range(1, dim + 1))
    lines = [f"replicate,generation,logdet,trace,{names}"]
    for r in range(chains):
        L, logdet = np.eye(dim), 0.0
        for t in range(generations + 1):
            sv = np.linalg.svd(L, compute_uv=False)  # descending
            eig = 2 * np.log(sv)
            if corrupt and r == 0 and t == generations:
                eig[-1] += 0.5
            row = ",".join(repr(float(v)) for v in eig)
            lines.append(f"{r},{t},{logdet!r},{float(np.sum(L * L))!r},{row}")
            z = rng.standard_normal((n, dim))
            zc = z - z.mean(axis=0)
            B = np.linalg.cholesky(zc.T @ zc / n)
            logdet += float(2 * np.sum(np.log(np.diag(B))))
            L = L @ B
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def eig_log(tmp_path_factory):
    return _write(tmp_path_factory.mktemp("eig") / "eig.csv", n=8, dim=3, generations=60,
                  chains=200, seed=5)


def test_the_late_rates_are_reported_beside_the_exact_spectrum(eig_log):
    result = audit_mv(load(eig_log, dim=3), n=8, dim=3)
    assert result.verdict.value == "PASS"
    ly = result.rate["lyapunov"]
    assert ly["window"] == [30, 60]
    gamma = special.digamma((8 - np.arange(1, 4)) / 2) + math.log(2) - math.log(8)
    assert ly["exact"] == pytest.approx(gamma.tolist(), rel=1e-14)
    # the chains' spread: near the limit SD sqrt(psi'((n-i)/2)/30/200)
    limit = np.sqrt(special.polygamma(1, (8 - np.arange(1, 4)) / 2) / 30 / 200)
    assert np.array(ly["se"]) == pytest.approx(limit, rel=0.2)
    # late in the chain the rates are near their limits (a limit: no exact test is made)
    z = (np.array(ly["estimate"]) - gamma) / np.array(ly["se"])
    assert np.all(np.abs(z) < 5), z
    assert "reported, not graded" in ly["note"]
    assert [c.id for c in result.checks] == ["logdet_increment_gof", "logdet_drift",
                                             "trace_martingale"]
    assert not any("differs from log det" in note for note in result.notes)


def test_one_chain_takes_the_limit_step_variance(tmp_path):
    path = _write(tmp_path / "one.csv", n=8, dim=2, generations=80, chains=1, seed=6)
    ly = audit_mv(load(path, dim=2), n=8, dim=2).rate["lyapunov"]
    assert ly["window"] == [40, 80]
    limit = np.sqrt(special.polygamma(1, (8 - np.arange(1, 3)) / 2) / 40)
    assert ly["se"] == pytest.approx(limit.tolist(), rel=1e-14)
    assert "one chain" in ly["note"]


def test_a_sum_that_is_not_log_det_is_noted(tmp_path):
    path = _write(tmp_path / "bad.csv", n=8, dim=2, generations=5, chains=40, corrupt=True)
    notes = audit_mv(load(path, dim=2), n=8, dim=2).notes
    assert any("differs from log det by up to 0.5" in note for note in notes)


def test_eigenvalue_columns_are_read_strictly(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("replicate,generation,logdet,log_eig_1\n0,0,0,0\n")
    with pytest.raises(InputError, match=r"names 1 of the 2 eigenvalue columns "
                                         r"log_eig_1\.\.log_eig_2; give all or none"):
        load(path, dim=2)
    with pytest.raises(InputError, match="bad header"):
        load(path)  # without a dimension the columns are unknown
    path.write_text("replicate,generation,logdet,log_eig_1,log_eig_2\n0,0,0,-1,1\n")
    with pytest.raises(InputError, match=r"line 2: log_eig_1\.\.log_eig_2 must be in "
                                         r"decreasing order"):
        load(path, dim=2)


def test_the_command_line_reports_the_rates(eig_log, capsys):
    argv = ["audit", "--family", "mvgaussian", str(eig_log), "--n", "8", "--dim", "3"]
    assert main(argv) == ExitCode.OK
    assert "reported, not graded" in capsys.readouterr().out
    assert main([*argv, "--json"]) == ExitCode.OK
    assert json.loads(capsys.readouterr().out)["rate"]["lyapunov"]["window"] == [30, 60]
