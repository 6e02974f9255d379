"""Audit of token-statistics logs (``audit --family categorical``): logs of the true
process pass, a declared n 20% off fails, the checks that a log's columns or chain count
cannot support are skipped with the reason, absorbed chains count as complete, and the
false-alarm rate stays within the budget. Logs are made by the family's engines with fixed
seeds and written in the documented CSV format (the same files a user would pass)."""

from __future__ import annotations

import json
import math

import pytest

from collapsecheck.cli import ExitCode, main
from collapsecheck.families.categorical.audit import MIN_CHAINS, audit_tokens
from collapsecheck.families.categorical.engines import simulate
from collapsecheck.families.categorical.parameters import CategoricalExperiment
from collapsecheck.families.categorical.records import load


def _log(path, *, n, generations, replicates, categories, seed, columns=None, start=0,
         stop_at_absorption=False):
    """Write chains of the true process as a token-statistics CSV."""
    e = CategoricalExperiment(n=n, generations=generations, replicates=replicates,
                              categories=categories, init="zipf", zipf_s=1.0, seed=seed)
    r = simulate(e, engine="sufficient", workers=1).records
    columns = columns or ["survivors", "entropy", "gini_simpson"]
    lines = [",".join(["replicate", "generation", *columns])]
    for i in range(replicates):
        for j, g in enumerate(r.generations):
            if g < start:
                continue
            values = {"survivors": int(r.survivors[i, j]), "zeros": categories - int(
                r.survivors[i, j]), "entropy": repr(float(r.entropy[i, j])),
                "gini_simpson": repr(float(r.gini_simpson[i, j]))}
            lines.append(",".join([str(i), str(int(g)), *(str(values[c]) for c in columns)]))
            if stop_at_absorption and r.survivors[i, j] == 1:
                break
    path.write_text("\n".join(lines) + "\n")
    return e


def _audit(path, n, categories=50, **kw):
    e = CategoricalExperiment(n=n, generations=1, replicates=1, categories=categories,
                              init="zipf", zipf_s=1.0)
    return audit_tokens(load(path, categories), n=n, experiment=e, **kw)


@pytest.fixture(scope="module")
def log200(tmp_path_factory):
    path = tmp_path_factory.mktemp("tokens") / "log.csv"
    _log(path, n=100, generations=60, replicates=200, categories=50, seed=3)
    return path


def test_true_n_passes_and_a_20_percent_error_fails_both_ways(log200):
    ok = _audit(log200, 100)
    assert ok.verdict.value == "PASS"
    assert {c.id for c in ok.checks} == {"gini_martingale", "survivors_mean", "entropy_mean",
                                         "gini_simpson_mean"}
    # the stated reach: a relative error in n below 20% is detectable at this design
    assert 0 < ok.reach["n_relative_error_detectable"] < 0.2
    for wrong in (80, 120):
        bad = _audit(log200, wrong)
        assert bad.verdict.value == "FAIL"
        by = {c.id: c.pvalue for c in bad.checks}
        assert by["survivors_mean"] < 1e-10 and by["entropy_mean"] < 1e-6


def test_effective_n_covers_the_true_n_and_the_decay_factor_is_exact(log200):
    ok = _audit(log200, 100)
    for key in ("n_eff", "n_eff_survivors", "n_eff_entropy"):
        lo, hi = ok.rate[key]["ci95"]
        assert lo < 100 < hi, (key, lo, hi)
    assert ok.rate["decay_factor"]["exact"] == 1 - 1 / 100


def test_entropy_and_zeros_from_generation_1_as_published_logs_give_them(tmp_path):
    path = tmp_path / "published_like.csv"
    _log(path, n=100, generations=60, replicates=200, categories=50, seed=5,
         columns=["zeros", "entropy"], start=1)
    ok = _audit(path, 100)
    assert ok.verdict.value == "PASS"
    assert "gini_martingale" in ok.skipped and "gini_simpson_mean" in ok.skipped
    assert any("starts at generation 1" in note for note in ok.notes)
    assert _audit(path, 120).verdict.value == "FAIL"


def test_one_chain_runs_the_martingale_and_names_what_it_cannot_run(tmp_path):
    path = tmp_path / "one.csv"
    _log(path, n=200, generations=400, replicates=1, categories=400, seed=7)
    res = _audit(path, 200, categories=400)
    assert [c.id for c in res.checks] == ["gini_martingale"]
    for name in ("survivors_mean", "entropy_mean", "gini_simpson_mean"):
        assert f"at least {MIN_CHAINS}" in res.skipped[name]


def test_chains_stopped_at_absorption_are_complete_not_missing(tmp_path):
    path = tmp_path / "absorbed.csv"
    _log(path, n=10, generations=80, replicates=200, categories=5, seed=11,
         stop_at_absorption=True)
    records = load(path, 5)
    assert records.filled is not None and records.filled.any()
    assert not records.missing.any()
    res = _audit(path, 10, categories=5)
    assert res.verdict.value == "PASS"
    assert any("stop at absorption" in note for note in res.notes)
    assert _audit(path, 13, categories=5).verdict.value == "FAIL"


@pytest.mark.slow
def test_false_alarms_stay_within_the_budget(tmp_path):
    """40 logs of the true process at budget 0.01: no FAIL expected (mean 0.4; P(any
    FAIL) <= 1 - 0.99^40 = 0.33 if the checks were at their alpha, each PASS/WEAK here
    at the fixed seeds); two or more FAILs would be a false-alarm rate far above budget."""
    fails = 0
    for seed in range(40):
        path = tmp_path / f"log{seed}.csv"
        _log(path, n=30, generations=30, replicates=40, categories=20, seed=1000 + seed)
        fails += _audit(path, 30, categories=20, budget=0.01).verdict.value == "FAIL"
    assert fails <= 1


def test_cli_audit_family_categorical(log200, capsys):
    argv = ["audit", "--family", "categorical", str(log200), "--categories", "50", "--init",
            "zipf"]
    assert main(argv) == ExitCode.USAGE
    assert "audit needs --n" in capsys.readouterr().err
    assert main([*argv, "--n", "100", "--json"]) == ExitCode.OK
    record = json.loads(capsys.readouterr().out)
    assert record["verdict"] == "PASS" and record["spec"]["family"] == "categorical"
    assert math.isfinite(record["rate"]["n_eff"]["estimate"])
    assert main([*argv, "--n", "80"]) == ExitCode.CHECK_FAILED
    out = capsys.readouterr().out
    assert "verdict: FAIL" in out and "survivors_mean" in out
    assert main([*argv, "--n", "100", "--ddof", "1"]) == ExitCode.USAGE
