"""The scaling-law sweep (collapsecheck.sweep, report.sweep, cli_sweep).

Statistical tests here use fixed seeds and the sweep's own family-wise alpha = 1e-3
(exponent at 5e-4, Holm over the points at 5e-4). Detectable effects, at the default
design (100 generations, 1000 replicates, n = 10..1000): the exponent's SE is about 0.0072,
so an exponent off by 0.04 (5.6 SE) is caught with power about 0.97; a point's drift SE is
about 0.0017 at n = 10 and 0.00015 at n = 1000.
"""

from __future__ import annotations

import dataclasses
import json
import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from scipy import special
from scipy import stats as sps

from collapsecheck.engines import simulate
from collapsecheck.mutants import wrong_ddof
from collapsecheck.report.sweep import SWEEP_FILES, write_sweep_reports
from collapsecheck.sweep import (
    MIN_SIGNAL,
    SweepResult,
    design_drift_se,
    exact_exponent,
    sweep,
)
from collapsecheck.theory import log_sigma2_drift

NS = [10, 30, 100, 300, 1000]


def _cli_registered() -> bool:
    from collapsecheck.cli import app

    return any(c.name == "sweep" for c in app.registered_commands)


needs_cli = pytest.mark.skipif(not _cli_registered(),
                               reason="`sweep` is not registered in collapsecheck.cli yet")


def _reference_exponent(ns, ddof=0.0) -> float:
    """Unweighted least-squares slope of log|exact drift| on log n, from the digamma
    formula directly (a reference implementation independent of the package)."""
    ns = np.asarray(ns, dtype=float)
    d = special.digamma((ns - 1) / 2) + math.log(2) - np.log(ns - ddof)
    return float(np.polyfit(np.log(ns), np.log(np.abs(d)), 1)[0])


# ---------------------------------------------------------------------------------------
# Exact quantities
# ---------------------------------------------------------------------------------------


def test_exact_exponent_ddof0_10_to_1000():
    # the number: -1.019, the unweighted least-squares slope, not -1
    assert round(_reference_exponent(NS), 3) == -1.019
    assert exact_exponent(NS, 0.0) == pytest.approx(_reference_exponent(NS), rel=1e-12)
    assert round(exact_exponent(NS, 0.0), 3) == -1.019
    # a fit weighted by the design's inverse variances estimates another number, further
    # from -1 (the weights favour small n, where the digamma drift bends most)
    assert round(exact_exponent(NS, 0.0, weighted=True), 3) == -1.037


def test_exact_exponent_tends_to_minus_one_at_large_n():
    big = [10**5, 10**6, 10**7]
    assert exact_exponent(big, weighted=False) == pytest.approx(-1.0, abs=1e-4)
    assert exact_exponent(NS, weighted=False) < -1.01


def test_design_se_matches_the_measured_se():
    r = sweep(NS, seed=11, replicates=400, generations=50)
    for p in r.points:
        assert p.exact_se == design_drift_se(p.n, 50, 400)
        assert p.se == pytest.approx(p.exact_se, rel=0.15)  # CR1 SE from 400 chains


@pytest.mark.parametrize("ddof", [0.0, 0.5, 1.0])
def test_result_gives_the_exact_drift_curve_the_report_draws(ddof):
    """The report's exact curve comes from the result (so the writer needs no theory):
    psi((n-1)/2) + log 2 - log(n - ddof) at 50 digits (mpmath), at the sweep's n and
    between and beyond them, relative 1e-12."""
    import mpmath

    r = SweepResult(ns=(10, 30, 100), ddof=ddof, generations=2, replicates=20,
                    engine="sufficient", seed=0, alpha=1e-3, points=(), exponent=None)
    assert r.min_signal == MIN_SIGNAL
    with mpmath.workdps(50):
        for n in (2, 3, 10, 17, 100, 999, 10**6):
            ref = mpmath.digamma(mpmath.mpf(n - 1) / 2) + mpmath.log(2) - mpmath.log(n - ddof)
            assert r.exact_drift(n) == pytest.approx(float(ref), rel=1e-12, abs=0), n
            assert r.exact_drift(n) == log_sigma2_drift(n, ddof)


# ---------------------------------------------------------------------------------------
# The true engine passes; wrong drifts fail
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def true_sweep():
    return sweep(NS, seed=20260101)


def test_true_engine_passes_and_ci_covers_exact(true_sweep):
    e = true_sweep.exponent
    ci = e.confidence_interval()
    assert e.exact == pytest.approx(exact_exponent(NS), rel=1e-12)
    assert e.exact == pytest.approx(-1.0192, abs=5e-4)
    assert e.exact_weighted == pytest.approx(exact_exponent(NS, weighted=True), rel=1e-12)
    assert ci.low < e.exact < ci.high, (ci, e.exact)
    assert 0.010 < e.se < 0.017  # least-squares SE at this design: about 0.0135
    assert e.pvalue > e.alpha and e.verdict == "PASS"
    assert e.alpha == pytest.approx(5e-4)
    assert all(p.verdict == "PASS" for p in true_sweep.points)
    assert true_sweep.verdict == "PASS"
    for p in true_sweep.points:
        assert p.exact_drift == log_sigma2_drift(p.n, 0.0)
        assert p.large_n_drift == pytest.approx(-2 / p.n)


def test_to_dict_shape(true_sweep):
    d = json.loads(json.dumps(true_sweep.to_dict(), allow_nan=False))
    assert [p["n"] for p in d["points"]] == NS
    for p in d["points"]:
        assert set(p["drift"]) == {"estimate", "se", "ci95"}
        lo, hi = p["drift"]["ci95"]
        assert lo < p["drift"]["estimate"] < hi
        assert p["exact_drift"] < 0
    assert {"estimate", "ci95", "exact", "pvalue", "alpha", "verdict"} <= set(d["exponent"])
    assert d["seed"] == 20260101 and d["spec"]["ns"] == NS
    assert d["spec"]["generations"] == 100 and d["spec"]["replicates"] == 1000


def test_wrong_ddof_is_caught():
    # simulates ddof = 1 while claiming ddof = 0: drift about -1/n instead of -2/n
    r = sweep(NS, seed=5, simulator=wrong_ddof(1.0))
    assert r.verdict == "FAIL"
    assert all(p.verdict == "FAIL" for p in r.points)
    assert all(p.estimate > p.exact_drift for p in r.points)  # collapses about half as fast


def _scaled_n(factor: int):
    def run(e, record):
        return simulate(e.replace(n=factor * e.n), record=record, workers=1).trajectories

    return run


def test_scaled_n_is_caught():
    # draws 2n per generation while claiming n: every drift about halves
    r = sweep(NS, seed=6, replicates=200, simulator=_scaled_n(2))
    assert r.verdict == "FAIL"
    assert sum(p.verdict == "FAIL" for p in r.points) >= 3


def _drift_power(power: float):
    """Multiplies the drift at n by (n/10)**power: the exponent shifts by ``power`` while
    each point moves by at most a few SEs."""
    def run(e, record):
        t = simulate(e, record=record, workers=1).trajectories
        extra = log_sigma2_drift(e.n, e.ddof) * ((e.n / 10) ** power - 1)
        return dataclasses.replace(t, log_var=t.log_var + extra * t.generations[None, :])

    return run


def test_exponent_catches_a_wrong_scaling():
    # the exponent off by -0.10 (about 8 of its SEs at 4000 chains: power about 1)
    r = sweep(NS, seed=7, replicates=4000, simulator=_drift_power(-0.10))
    assert r.exponent.verdict == "FAIL", r.exponent
    assert r.exponent.pvalue < 1e-8
    assert r.exponent.estimate - r.exponent.exact == pytest.approx(-0.10, abs=0.04)
    assert r.exponent.confidence_interval().high < r.exponent.exact
    assert r.verdict == "FAIL"


# ---------------------------------------------------------------------------------------
# Unmeasurable drifts
# ---------------------------------------------------------------------------------------


def test_ddof2_is_unmeasurable():
    r = sweep(NS, ddof=2.0, seed=8, replicates=200)
    e = r.exponent
    assert e.verdict == "UNMEASURABLE" and not e.measured
    assert "too small" in e.note and "1/(6 n^2)" in e.note
    d = r.to_dict()["exponent"]
    assert d["estimate"] is None and d["ci95"] is None and d["pvalue"] is None
    assert all(p.signal < MIN_SIGNAL for p in r.points)
    # the points are still tested, with the whole alpha
    assert all(p.alpha == pytest.approx(1e-3) for p in r.points)
    assert r.verdict == "PASS"
    assert r.points[-1].exact_drift == pytest.approx(1 / (6 * 1000**2), rel=0.01)


def test_too_few_replicates_is_unmeasurable_at_large_n():
    r = sweep(NS, seed=9, replicates=20, generations=20)
    assert r.exponent.verdict == "UNMEASURABLE"
    assert "n=1000" in r.exponent.note


# ---------------------------------------------------------------------------------------
# Seeds
# ---------------------------------------------------------------------------------------


def test_streams_per_n_are_independent_and_reproducible():
    a = sweep([10, 30, 100], seed=42, replicates=64, generations=10)
    b = sweep([10, 30, 300], seed=42, replicates=64, generations=10, workers=2)
    c = sweep([10, 30, 100], seed=42, replicates=64, generations=10)
    assert [p.estimate for p in a.points] == [p.estimate for p in c.points]
    assert a.points[0].estimate == b.points[0].estimate  # same n, same stream
    assert a.points[1].estimate == b.points[1].estimate
    assert len({p.seed for p in a.points}) == 3


def test_fresh_seed_is_recorded():
    r = sweep([10, 30, 100], replicates=20, generations=5)
    again = sweep([10, 30, 100], replicates=20, generations=5, seed=r.seed)
    assert [p.estimate for p in again.points] == [p.estimate for p in r.points]


# ---------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(ns=[10, 30]), "at least 3 distinct"),
    (dict(ns=[10, 30, 10]), "must not repeat a sample size; got 10 twice"),
    (dict(ns=[1, 10, 30]), "at least 2; got 1"),
    (dict(ns=[10, 30, 100], ddof=10), r"0 <= ddof < min\(ns\) = 10; got 10"),
    (dict(ns=[10, 30, 100], replicates=5), "`replicates` must be at least 20"),
    (dict(ns=[10, 30, 100], generations=1), "`generations` must be at least 2"),
    (dict(ns=[10, 30, 100], engine="fast"), "`engine` must be one of"),
    (dict(ns=[10, 30, 100], alpha=0.7), r"`alpha` must lie in \(0, 0.5\)"),
    (dict(ns=[10, 30, 100], seed=-3), "`seed` must be a whole number >= 0"),
])
def test_bad_input_raises(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sweep(**kwargs)


def test_bad_types_raise():
    with pytest.raises(TypeError, match="`ns` must hold whole numbers"):
        sweep([10, 30.5, 100])
    with pytest.raises(TypeError, match="`ns` must be a sequence"):
        sweep(100)


# ---------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------


def test_write_reports(tmp_path, true_sweep):
    paths = write_sweep_reports(true_sweep, tmp_path / "out", command="collapsecheck sweep")
    assert {p.name for p in paths.values()} == set(SWEEP_FILES.values())
    d = json.loads(paths["json"].read_text())
    assert d["exponent"]["verdict"] == "PASS" and d["command"] == "collapsecheck sweep"
    root = ET.parse(paths["junit"]).getroot()
    cases = root.findall(".//testcase")
    assert cases[0].get("name") == "exponent"
    assert len(cases) == 1 + len(NS) and root.get("failures") == "0"
    page = paths["html"].read_text()
    assert page.count("<svg") == 1 and "<script" not in page and 'src="http' not in page
    assert "Scaling-law sweep" in page
    md = paths["markdown"].read_text()
    assert "| 1000 |" in md and "-1.019" in md
    assert not list((tmp_path / "out").glob(".*.tmp"))


def test_junit_marks_failures_and_skips(tmp_path):
    bad = sweep(NS, seed=5, simulator=wrong_ddof(1.0))
    root = ET.fromstring(write_sweep_reports(bad, tmp_path / "bad")["junit"].read_text())
    assert len(root.findall(".//testcase[@classname='collapsecheck.sweep.points']/failure")
               ) == len(NS)
    assert int(root.get("failures")) == len(NS) + (bad.exponent.verdict == "FAIL")
    steep = sweep(NS, seed=7, replicates=4000, simulator=_drift_power(-0.10))
    root = ET.fromstring(write_sweep_reports(steep, tmp_path / "steep")["junit"].read_text())
    assert root.find(".//testcase[@name='exponent']/failure") is not None
    flat = sweep(NS, ddof=2.0, seed=8, replicates=200)
    root = ET.fromstring(write_sweep_reports(flat, tmp_path / "flat")["junit"].read_text())
    assert root.find(".//testcase[@name='exponent']/skipped") is not None
    assert root.get("skipped") == "1" and root.get("failures") == "0"


# ---------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------


def _main(args):
    from collapsecheck.cli import main

    return main(["sweep", *args])


def _ns_args(ns=NS):
    return [a for n in ns for a in ("--n", str(n))]


@needs_cli
def test_cli_json(capsys):
    code = _main([*_ns_args(), "--seed", "3", "--replicates", "200", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    d = json.loads(out)
    assert [p["n"] for p in d["points"]] == NS
    assert set(d["points"][0]["drift"]) == {"estimate", "se", "ci95"}
    assert {"estimate", "ci95", "exact", "pvalue", "alpha", "verdict"} <= set(d["exponent"])
    assert d["seed"] == 3 and d["spec"]["replicates"] == 200
    assert "--seed 3" in d["command"]


@needs_cli
def test_cli_out(tmp_path, capsys):
    code = _main([*_ns_args(), "--seed", "3", "--replicates", "200", "--out",
                  str(tmp_path / "r")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "verdict PASS" in out
    for name in SWEEP_FILES.values():
        assert (tmp_path / "r" / name).is_file()
    json.loads((tmp_path / "r" / "sweep.json").read_text())
    ET.parse(tmp_path / "r" / "junit.xml")


@needs_cli
def test_cli_ddof2_unmeasurable(capsys):
    code = _main([*_ns_args(), "--ddof", "2", "--seed", "8", "--replicates", "200", "--json"])
    out, _ = capsys.readouterr()
    assert code == 0
    e = json.loads(out)["exponent"]
    assert e["estimate"] is None and e["verdict"] == "UNMEASURABLE" and "too small" in e["note"]


@needs_cli
def test_cli_failure_exits_1(capsys, monkeypatch):
    import collapsecheck.plugin as plugin

    monkeypatch.setattr(plugin, "load_simulator", lambda spec: wrong_ddof(1.0))
    code = _main([*_ns_args(), "--seed", "5", "--replicates", "200", "--simulator", "x:y",
                  "--json"])
    out, _ = capsys.readouterr()
    assert code == 1
    assert json.loads(out)["verdict"] == "FAIL"


@needs_cli
@pytest.mark.parametrize(("args", "message"), [
    (_ns_args([10, 30]), "at least 3 distinct"),
    (_ns_args([10, 30, 10]), "must not repeat"),
    (_ns_args([1, 10, 30]), "at least 2; got 1"),
    ([*_ns_args([10, 30, 100]), "--ddof", "10"], "--ddof must satisfy"),
    ([], "at least 3 distinct --n"),
    ([*_ns_args([10, 30, 100]), "--engine", "fast"], "--engine must be one of"),
    ([*_ns_args([10, 30, 100]), "--replicates", "1000000000"], "--replicates must be at most"),
])
def test_cli_bad_input_exit_2(args, message, capsys):
    code = _main(args)
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], err


# ---------------------------------------------------------------------------------------
# Calibration
# ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_exponent_pvalues_uniform_under_h0():
    # 150 seeded sweeps of the correct engine at a small design (|exact|/SE >= 5.8 at every
    # n): the exponent's z-test p-values and the points' t-test p-values are uniform.
    zs, ps = [], []
    for seed in range(150):
        r = sweep(NS, seed=seed, replicates=200, workers=1)
        zs.append(r.exponent.pvalue)
        ps += [p.pvalue for p in r.points]
    assert sps.kstest(zs, "uniform").pvalue > 1e-3
    assert sps.kstest(ps, "uniform").pvalue > 1e-3
