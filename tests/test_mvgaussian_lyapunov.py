"""The "distribution loses dimensions" check (mvgaussian_lyapunov): Hotelling's test, the
check against the exact Lyapunov spectrum on both engines, its power, its positive
controls, its design's finite-T bias, and what it demands of a simulator under test."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special
from scipy import stats as sps

from collapsecheck.checks import build_check
from collapsecheck.errors import InputError
from collapsecheck.families.mvgaussian.checks import hotelling_test
from collapsecheck.families.mvgaussian.engines import simulate
from collapsecheck.families.mvgaussian.mutants import MUTANTS
from collapsecheck.families.mvgaussian.theory import lyapunov_spectrum
from collapsecheck.profiles import load_profile
from collapsecheck.validate import guarded

DESIGN = {"type": "mvgaussian_lyapunov", "dim": 3, "n": 5, "generations": 160,
          "burn_in": 60, "replicates": 500}


def test_hotelling_in_one_dimension_is_the_squared_t_test():
    x = np.random.default_rng(5).normal(0.3, 2.0, size=(40, 1))
    t2, p = hotelling_test(x, np.array([0.0]))
    t = sps.ttest_1samp(x[:, 0], 0.0)
    assert t2 == pytest.approx(t.statistic**2, rel=1e-12)
    assert p == pytest.approx(t.pvalue, rel=1e-10)


@given(st.integers(0, 2**32 - 1))
def test_hotelling_is_invariant_under_an_invertible_linear_map(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(30, 3))
    A = rng.normal(size=(3, 3)) + 3 * np.eye(3)
    mu = rng.normal(size=3)
    t2, p = hotelling_test(x, mu)
    t2a, pa = hotelling_test(x @ A.T, A @ mu)
    assert t2a == pytest.approx(t2, rel=1e-7)
    assert pa == pytest.approx(p, rel=1e-6, abs=1e-300)


def test_hotelling_rejects_a_shifted_mean_and_is_uniform_under_the_null():
    rng = np.random.default_rng(11)
    ps = [hotelling_test(rng.normal(size=(50, 2)), np.zeros(2))[1] for _ in range(400)]
    assert sps.kstest(ps, "uniform").pvalue > 1e-3
    assert hotelling_test(rng.normal(0.6, 1, size=(50, 2)), np.zeros(2))[1] < 1e-4


def test_the_check_passes_on_both_engines_and_reports_the_rates():
    for engine in ("sufficient", "samples"):
        check = build_check({**DESIGN, "replicates": 300, "engine": engine})
        out = check.run(check.experiment(seed=3), check.simulator())
        assert out.pvalue > 1e-3, (engine, out)
        gamma = lyapunov_spectrum(5, 3)
        assert out.numbers["exact_rates"] == pytest.approx(gamma.tolist(), rel=1e-15)
        # each rate within 5 of its standard errors; the SEs near their limit values
        z = (np.array(out.numbers["rates"]) - gamma) / np.array(out.numbers["se"])
        assert np.all(np.abs(z) < 5), z
        limit_se = np.sqrt(special.polygamma(1, (5 - np.arange(1, 4)) / 2) / 100 / 300)
        assert np.array(out.numbers["se"]) == pytest.approx(limit_se, rel=0.15)
        assert out.numbers["exact_anisotropy_rate"] == pytest.approx(
            special.digamma(2.0) - special.digamma(1.0), rel=1e-14)


def test_every_multivariate_mutant_fails_the_check():
    check = build_check(DESIGN)
    for name, mutant in MUTANTS.items():
        out = check.run(check.experiment(seed=1), mutant)
        assert out.pvalue < 1e-6, (name, out.pvalue)
    lost = check.run(check.experiment(seed=1), MUTANTS["mv-dimension-lost"])
    assert lost.pvalue == 0.0 and lost.numbers["eigenvalue_shape"][2] == 2


def test_rates_without_spread_fail():
    check = build_check({**DESIGN, "generations": 4, "burn_in": 2, "replicates": 30})
    e = check.experiment(seed=1)

    def frozen(experiment, record):  # every chain the same: no spread at all
        t = check.simulator()(experiment, record)
        return replace(t, log_eigenvalues=np.broadcast_to(t.log_eigenvalues[:1],
                                                          t.log_eigenvalues.shape))

    out = check.run(e, frozen)
    assert out.pvalue == 0.0 and "singular" in out.numbers["problem"]


def test_detectable_effect_matches_the_normal_power_formula_in_one_dimension():
    # p = 1: F(1, R - 1) is a squared t, so delta ~ (z_{alpha/2} + z_{0.1}) sigma/sqrt(R)
    check = build_check({**DESIGN, "dim": 1, "n": 9, "replicates": 2000})
    alpha, R = 1e-4, 2000
    sigma = math.sqrt(special.polygamma(1, 4.0) / 100)
    approx = (sps.norm.isf(alpha / 2) + sps.norm.isf(0.1)) * sigma / math.sqrt(R)
    assert check.detectable_effect(alpha, R)["value"] == pytest.approx(approx, rel=0.01)
    # more replicates, smaller effect; the hardest exponent (the smallest) sets it
    d3 = build_check(DESIGN)
    assert d3.detectable_effect(1e-4, 2000)["value"] < d3.detectable_effect(1e-4, 500)["value"]


def test_design_validation_and_ids():
    c = build_check(DESIGN)
    assert c.id == "mvgaussian.lyapunov.D3.n5.T160.from60.sufficient"
    assert build_check({**DESIGN, "burn_in": -1}).burn_in == 80
    with pytest.raises(ValueError, match=r"`burn_in` must satisfy 0 <= burn_in < "
                                         r"generations = 160; got 160"):
        build_check({**DESIGN, "burn_in": 160})
    with pytest.raises(ValueError, match=r"`burn_in` must be a whole number; got 1\.5"):
        build_check({**DESIGN, "burn_in": 1.5})
    with pytest.raises(ValueError, match=r"`replicates` must exceed 2 dim = 24 .*; got 20"):
        build_check({**DESIGN, "dim": 12, "n": 14, "replicates": 20})


def test_the_profile_runs_the_check_on_both_engines():
    checks = [c for c in load_profile("mvgaussian").checks if c.type == "mvgaussian_lyapunov"]
    assert sorted(c.engine for c in checks) == ["samples", "sufficient"]


def test_a_simulator_under_test_must_return_the_eigenvalues_asked_for():
    check = build_check({**DESIGN, "generations": 6, "burn_in": 2, "replicates": 30})
    e = check.experiment(seed=2)
    good = guarded(check.simulator())(e, [2, 6])
    assert good.log_eigenvalues.shape == (30, 2, 3)

    def no_eigenvalues(experiment, record):
        return simulate(experiment, record="all", eigen_record=None).trajectories

    with pytest.raises(InputError, match=r"was asked for the log eigenvalues at "
                                         r"generations \[2, 6\]"):
        guarded(no_eigenvalues)(e, [2, 6])

    # another number of eigenvalues is no malformed output but a chain that is not
    # D-dimensional: the check FAILs it
    lost = guarded(MUTANTS["mv-dimension-lost"])(e, [2, 6])
    assert check.run(e, lambda experiment, record: lost).pvalue == 0.0

    def nan_eigenvalues(experiment, record):
        t = simulate(experiment, record="all", eigen_record=record).trajectories
        return replace(t, log_eigenvalues=t.log_eigenvalues * np.nan)

    with pytest.raises(InputError, match=r"non-finite `log_eigenvalues`"):
        guarded(nan_eigenvalues)(e, [2, 6])


@pytest.mark.slow
def test_the_designs_finite_horizon_bias_is_far_inside_the_checks_standard_error():
    """The rates are limits: at the profile's designs, 20 000 chains (40 times the
    check's) put each window rate's mean within 4 Monte Carlo SEs of the exact rate, and
    those SEs are a sixth of the check's, so any bias left is a small part of the check's
    standard error."""
    for table in load_profile("mvgaussian").checks:
        if table.type != "mvgaussian_lyapunov":
            continue
        c = table
        e = c.experiment(seed=20261207, replicates=20000)
        tr = simulate(e, engine="sufficient", record="final",
                      eigen_record=[c.burn_in, c.generations]).trajectories
        rates = (tr.log_eigenvalues[:, 1] - tr.log_eigenvalues[:, 0]) / (c.generations
                                                                         - c.burn_in)
        se_mc = rates.std(axis=0, ddof=1) / math.sqrt(rates.shape[0])
        se_check = se_mc * math.sqrt(rates.shape[0] / c.replicates)
        bias = rates.mean(axis=0) - lyapunov_spectrum(c.n, c.dim, c.ddof)
        assert np.all(np.abs(bias) < 4 * se_mc), (c.id, bias, se_mc)
        assert np.all(se_mc < se_check / 6)
