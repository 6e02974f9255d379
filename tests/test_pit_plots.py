"""Calibration you can see: the PIT ECDF-difference plots of validate and audit, in the
simultaneous 95% band of Säilynoja, Bürkner and Vehtari (2022), whose coverage is exact
(checked against enumeration and by simulation), and which a wrong law leaves."""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest
from scipy import stats

from collapsecheck.cli import main
from collapsecheck.engines import simulate
from collapsecheck.experiment import Experiment
from collapsecheck.figure_data import PIT_VALUES, pit_data
from collapsecheck.mutants import MUTANTS
from collapsecheck.profiles import parse_profile
from collapsecheck.report.ecdf import (
    band_coverage,
    ecdf_band,
    ecdf_counts,
    simultaneous_band,
)
from collapsecheck.report.html import render_html
from collapsecheck.theory import LogVarianceLaw, StepLaw
from collapsecheck.trajectories import save
from collapsecheck.validate import run_profile

# ---------------------------------------------------------------------------------------
# The band
# ---------------------------------------------------------------------------------------


def _coverage_by_enumeration(samples, points, lower, upper) -> float:
    """P(all counts in band) by summing the multinomial law of the cell counts over
    every composition of ``samples`` into the cells between the points."""
    widths = np.diff(np.concatenate([[0.0], points, [1.0]]))
    total = 0.0
    cells = widths.size
    for cut in itertools.combinations(range(samples + cells - 1), cells - 1):
        counts = np.diff(np.concatenate([[-1], cut, [samples + cells - 1]])) - 1
        cum = np.cumsum(counts)[:-1]
        if np.all((cum >= lower) & (cum <= upper)):
            total += stats.multinomial.pmf(counts, samples, widths)
    return total


@pytest.mark.parametrize(("samples", "points", "seed"), [(6, 4, 1), (9, 5, 2), (12, 3, 3)])
def test_coverage_recursion_equals_enumeration(samples, points, seed):
    z = np.arange(1, points) / points
    rng = np.random.default_rng(seed)
    mid = np.round(samples * z).astype(int)
    lower = np.maximum(mid - rng.integers(0, 3, z.size), 0)
    upper = np.minimum(mid + rng.integers(0, 3, z.size), samples)
    exact = _coverage_by_enumeration(samples, z, lower, upper)
    assert band_coverage(samples, z, lower, upper) == pytest.approx(exact, rel=1e-12)


def test_coverage_of_the_kolmogorov_band_is_its_own_law():
    # at many evaluation points the exact Kolmogorov band's coverage approaches
    # P(D_N <= d) = 0.95 from above (fewer points, fewer chances to leave)
    n = 40
    d = ecdf_band(n)
    z = np.arange(1, 400) / 400
    lower = np.ceil(n * (z - d) - 1e-12).clip(0, n).astype(int)
    upper = np.floor(n * (z + d) + 1e-12).clip(0, n).astype(int)
    c = band_coverage(n, z, lower, upper)
    assert 0.95 <= c <= 0.95 + 0.01


@pytest.mark.parametrize("samples", [20, 100, 1000])
def test_band_is_simultaneous_95_exactly(samples):
    band = simultaneous_band(samples)
    # at least 95%, and not needlessly more (the coverage is a step function of gamma)
    assert 0.95 <= band.coverage < 0.955
    # narrower than pointwise-Bonferroni and wider than pointwise 95%
    assert 0.05 / (band.points.size) < band.gamma < 0.05
    lo, hi = band.difference_bounds()
    assert np.all(lo <= 0) and np.all(hi >= 0)


@pytest.mark.parametrize("samples", [20, 500])
def test_band_coverage_by_simulation(samples):
    # 2000 sets of uniform samples: the fraction that leave the band anywhere is
    # Binomial(2000, 1 - coverage); accept within its central 1 - 1e-6
    sets = 2000
    band = simultaneous_band(samples)
    rng = np.random.default_rng(20261206)
    u = np.sort(rng.uniform(size=(sets, samples)), axis=1)
    counts = np.stack([np.searchsorted(row, band.points, side="right") for row in u])
    left = int(np.any((counts < band.lower) | (counts > band.upper), axis=1).sum())
    p = 1 - band.coverage
    lo, hi = stats.binom.ppf([5e-7, 1 - 5e-7], sets, p)
    assert lo <= left <= hi, (left, sets * p)
    # and the 5% is genuinely simultaneous: each point alone leaves far less often
    each = ((counts < band.lower) | (counts > band.upper)).mean(axis=0)
    assert each.max() < 0.5 * p


def test_band_input_validation():
    with pytest.raises(TypeError, match=r"`samples` must be a whole number; got 2\.5"):
        simultaneous_band(2.5)
    with pytest.raises(ValueError, match="`samples` must be at least 1; got 0"):
        simultaneous_band(0)
    with pytest.raises(ValueError, match=r"`points` must be at least 2 .*; got 1"):
        simultaneous_band(10, points=1)
    with pytest.raises(ValueError, match="`level` must lie in"):
        simultaneous_band(10, level=1.0)


# ---------------------------------------------------------------------------------------
# The PIT values
# ---------------------------------------------------------------------------------------


def _chains(n=20, generations=40, replicates=300, ddof=0.0, seed=5, sigma0=1.0):
    e = Experiment(n=n, generations=generations, replicates=replicates, ddof=ddof, seed=seed,
                   sigma0=sigma0)
    return simulate(e, record="all").trajectories


def test_pit_values_are_the_exact_cdfs():
    t = _chains(sigma0=2.5)
    d = pit_data(t.log_var, t.generations, n=20, ddof=0.0)
    steps = np.diff(t.log_var, axis=1).ravel()
    want = StepLaw(20, 0.0).cdf(steps)
    stride = np.linspace(0, steps.size - 1, PIT_VALUES).round().astype(int)
    np.testing.assert_allclose(d["pit_increments"]["u"], want[stride], rtol=1e-15)
    assert d["pit_increments"]["total"] == steps.size == 300 * 40
    end = LogVarianceLaw(20, 40, 0.0).cdf(t.log_var[:, -1] - 2 * math.log(2.5))
    np.testing.assert_allclose(d["pit_endpoint"]["u"], end, rtol=1e-12)


def test_pit_skips_gaps_and_missing_values():
    t = _chains(replicates=50, generations=10)
    lv = t.log_var[:, [0, 1, 2, 5, 6, 10]].copy()
    lv[0, 1] = np.nan
    d = pit_data(lv, [0, 1, 2, 5, 6, 10], n=20, ddof=0.0)
    # consecutive pairs (0,1), (1,2), (5,6): 150 steps, two lost to the NaN
    assert d["pit_increments"]["total"] == 148
    assert d["pit_endpoint"]["total"] == 50 and "T=10" in d["pit_endpoint"]["title"]


def test_correct_chains_stay_in_the_band_and_a_wrong_law_leaves_it():
    t = _chains(replicates=400)
    for n, inside in ((20, True), (17, False)):
        d = pit_data(t.log_var, t.generations, n=n, ddof=0.0)
        for kind in ("pit_increments", "pit_endpoint"):
            u = np.asarray(d[kind]["u"])
            out = simultaneous_band(u.size).outside(u)
            assert (not out.any()) is inside, (n, kind, int(out.sum()))
    # a wrong n = 17 claims wider steps than n = 20 gives: the steps' u pile up in the
    # middle (an S-shape: ECDF below u at the left, above at the right)
    d = pit_data(t.log_var, t.generations, n=17, ddof=0.0)
    u = np.asarray(d["pit_increments"]["u"])
    band = simultaneous_band(u.size)
    diff = ecdf_counts(u, band.points) / u.size - band.points
    assert diff[band.points < 0.3].min() < 0 < diff[band.points > 0.7].max()


# ---------------------------------------------------------------------------------------
# In the reports
# ---------------------------------------------------------------------------------------

PROFILE = {"name": "pit", "seed": 11, "budget": 0.001, "checks": [
    {"type": "log_var_gof", "n": 10, "generations": 30, "replicates": 500}]}


def _pit_figures(page: str) -> list[str]:
    figures = page.split("<figure>")[1:]
    return [f for f in figures if "simultaneous 95% band" in f and "ECDF(u)" in f]


def test_validate_html_has_the_pit_plots_with_their_band():
    report = run_profile(parse_profile(PROFILE))
    assert {"pit_increments", "pit_endpoint"} <= set(report.figures)
    page = render_html(report)
    pit = _pit_figures(page)
    assert len(pit) == 2 and all("<svg" in f for f in pit)
    assert "Säilynoja" in page and "outside the band" not in page
    inc = report.figures["pit_increments"]
    assert inc["total"] == 500 * 30 and len(inc["u"]) == PIT_VALUES


def test_validate_html_pit_of_a_wrong_simulator_leaves_the_band():
    report = run_profile(parse_profile(PROFILE), simulator=MUTANTS["ddof-mismatch"],
                         simulator_name="mutant")
    pit = _pit_figures(render_html(report))
    assert len(pit) == 2 and all("outside the band" in f for f in pit)
    assert "(simulator mutant)" in report.figures["pit_endpoint"]["title"]


@pytest.mark.parametrize(("n", "leaves"), [(20, False), (17, True)])
def test_audit_html_has_the_pit_plots(tmp_path, capsys, n, leaves):
    path = tmp_path / "chains.npz"
    save(_chains(replicates=400), path)
    out = tmp_path / "audit"
    code = main(["audit", str(path), "--n", str(n), "--out", str(out), "--json"])
    capsys.readouterr()
    assert code == (1 if leaves else 0)
    page = (out / "audit.html").read_text()
    pit = _pit_figures(page)
    assert len(pit) == 2 and all("<svg" in f for f in pit)
    assert all(("outside the band" in f) is leaves for f in pit)
    assert f"--n {n}" in page and (out / "audit.json").is_file()
    # self-contained: nothing loaded from elsewhere
    assert "<script" not in page
    assert not re.findall(r"""\b(?:src|href)\s*=\s*["']?(?!#)([^"'\s>]+)""", page)


def test_audit_html_of_another_regime_says_why_there_is_no_pit(tmp_path, capsys):
    e = Experiment(n=20, generations=10, replicates=300, seed=4, regime="accumulate")
    path = tmp_path / "acc.npz"
    save(simulate(e, record="all").trajectories, path)
    out = tmp_path / "audit"
    main(["audit", str(path), "--n", "20", "--regime", "accumulate", "--out", str(out)])
    capsys.readouterr()
    page = (out / "audit.html").read_text()
    assert _pit_figures(page) == [] and "No PIT plot" in page
