"""Mix regime: the exact affine recursion against a simulation of the actual process, its
stationary point (closed forms at one fresh draw) and the replace chain at L = 0."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.naive import model_draws

from collapsecheck.experiment import Experiment, n_at
from collapsecheck.families.gaussian.theory import replace
from collapsecheck.families.gaussian.theory.mix import mix_moments, mix_stationary, predict
from collapsecheck.families.gaussian.theory.sampling import variance_factor

REPLICATES = 200_000
# Monte Carlo comparisons are within 5 standard errors (two-sided alpha ~ 6e-7 each); with
# fresh data in every generation (and T <= 6, n = 4..6) sigma_T^2 is light-tailed.



def simulate(seed, n, generations, lam, ddof, temperature=1.0, truncate=None, n_growth=0.0):
    rng = np.random.default_rng(seed)
    mu, s2 = np.zeros(REPLICATES), np.ones(REPLICATES)
    for t in range(1, generations + 1):
        nt = n_at(n, n_growth, t)
        m = round(lam * nt)
        fresh = rng.standard_normal((REPLICATES, m))  # the original N(0, 1), untouched
        model = mu[:, None] + np.sqrt(s2)[:, None] * model_draws(
            rng, (REPLICATES, nt - m), temperature, truncate)
        x = np.concatenate([fresh, model], axis=1)
        mu = x.mean(axis=1)
        s2 = ((x - mu[:, None]) ** 2).sum(axis=1) / (nt - ddof)
    return mu, s2


def within(sample, theory, k=5.0):
    se = sample.std(ddof=1) / math.sqrt(sample.size)
    assert abs(sample.mean() - theory) < k * se, (sample.mean(), theory, se)


@pytest.mark.parametrize(("n", "generations", "lam", "ddof", "tau", "cut", "p"), [
    (4, 6, 0.25, 0.0, 1.0, None, 0.0),   # m = 1
    (4, 6, 0.75, 1.0, 1.0, None, 0.0),   # r = 1
    (5, 5, 0.4, 1.0, 1.3, 1.2, 0.0),     # m = 2, tempered and truncated
    (3, 5, 0.5, 0.0, 0.9, None, 1.0),    # n-growth: m_t = round(1.5 t)
])
def test_moments_match_simulation(n, generations, lam, ddof, tau, cut, p):
    mu, s2 = simulate(3 + n, n, generations, lam, ddof, tau, cut, p)
    ln_v, ln_w = mix_moments(generations, n, lam, ddof, truncate=cut, temperature=tau,
                             n_growth=p)
    within(s2, math.exp(ln_v))
    within(mu**2, math.exp(ln_w))


@pytest.mark.parametrize("n", [2, 3, 5, 10, 100, 1000])
def test_one_fresh_draw_stationary_points(n):
    lam = 1.0 / n  # m = 1
    s1 = mix_stationary(n, lam, 1.0, 3.0)
    assert s1["fresh"] == 1
    assert s1["sigma2_mean"] == pytest.approx(2 * 9.0, rel=1e-12)  # 2 sigma0^2
    assert s1["mu_var"] == pytest.approx(9.0, rel=1e-12)
    s0 = mix_stationary(n, lam, 0.0, 3.0)  # 2(n-1)/(3n-2) sigma0^2 -> 2/3
    assert s0["sigma2_mean"] == pytest.approx(9.0 * 2 * (n - 1) / (3 * n - 2), rel=1e-12)
    assert s0["mu_var"] == pytest.approx(9.0 * n / (3 * n - 2), rel=1e-12)


def test_stationary_edge_cases():
    assert mix_stationary(5, 0.0, 1.0) is None  # no fresh draws: Var(mu) grows
    assert mix_stationary(10, 0.04, 1.0) is None  # round(0.4) = 0
    allfresh = mix_stationary(5, 1.0, 0.5, 2.0)
    assert allfresh["sigma2_mean"] == pytest.approx(4.0 * 4 / 4.5, rel=1e-14)
    assert allfresh["mu_var"] == pytest.approx(4.0 / 5, rel=1e-14)
    assert allfresh["spectral_radius"] == 0.0


@pytest.mark.parametrize(("n", "lam", "ddof", "tau"), [(5, 0.2, 0.0, 1.0), (8, 0.5, 1.0, 1.3),
                                                       (4, 0.25, 2.0, 0.8)])
def test_moments_approach_the_stationary_point(n, lam, ddof, tau):
    st_ = mix_stationary(n, lam, ddof, temperature=tau)
    ln_v, ln_w = mix_moments(5000, n, lam, ddof, temperature=tau)
    assert math.exp(ln_v) == pytest.approx(st_["sigma2_mean"], rel=1e-10)
    assert math.exp(ln_w) == pytest.approx(st_["mu_var"], rel=1e-10)


@given(st.integers(2, 2000), st.floats(0.0, 1.9), st.integers(0, 10**6))
def test_no_fresh_data_equals_replace(n, ddof, generations):
    ln_v, ln_w = mix_moments(generations, n, 0.0, ddof, 0.5)
    tol = 1e-12 + 3e-14 * generations  # replace's log-gamma rounding grows with T
    assert ln_v == pytest.approx(replace.log_sigma_moment(generations, n, ddof, 0.5, 2.0),
                                 abs=tol, rel=1e-12)
    want = replace.log_mu_var(generations, n, ddof, 0.5)
    if generations == 0:
        assert ln_w == want == -math.inf
    else:
        assert ln_w == pytest.approx(want, abs=1e-12, rel=1e-12)


@given(st.integers(2, 60), st.floats(0.0, 1.0), st.floats(0.0, 1.5), st.floats(0.1, 6.0),
       st.floats(0.5, 1.5))
def test_first_generation_by_hand(n, lam, ddof, cut, tau):
    m = round(lam * n)
    r = n - m
    s = variance_factor(tau, cut)
    ln_v, ln_w = mix_moments(1, n, lam, ddof, 2.0, truncate=cut, temperature=tau)
    assert math.exp(ln_v) == pytest.approx(4.0 * (n - 1) / n * (m + r * s) / (n - ddof),
                                           rel=1e-12)
    assert math.exp(ln_w) == pytest.approx(4.0 * (m + r * s) / n**2, rel=1e-12)


def test_recursion_matches_a_direct_loop():
    for horizon, n, lam, ddof, tau, p in ((1000, 5, 0.3, 1.0, 1.0, 0.0),
                                          (3000, 4, 0.5, 0.0, 0.8, 0.5),
                                          (400, 3, 0.1, 2.0, 1.2, 1.0),
                                          (2000, 2, 0.05, 0.0, 1.0, 0.3)):
        f = tau**2
        v, w = 1.0, 0.0
        for t in range(1, horizon + 1):
            nt = n_at(n, p, t)
            m = round(lam * nt)
            r = nt - m
            v, w = (((nt - 1) / nt * (m + r * f * v) + m * r / nt * w) / (nt - ddof),
                    (r / nt) ** 2 * w + (m + r * f * v) / nt**2)
        got = mix_moments(horizon, n, lam, ddof, temperature=tau, n_growth=p)
        np.testing.assert_allclose(got, (math.log(v), math.log(w)), atol=1e-11, rtol=1e-12)


def test_predict():
    e = Experiment(n=10, generations=30, replicates=1, seed=0, regime="mix", fresh_fraction=0.1,
                   ddof=1.0)
    p = predict(e)
    assert p.regime == "mix"
    assert {"final.sigma2_mean", "final.mu_var", "stationary.sigma2_mean"} <= set(p.exact)
    assert p.stationary["sigma2_mean"] == pytest.approx(2.0, rel=1e-12)
    assert p.log_sigma2_drift is None
    g = predict(e.replace(n_growth=0.5))
    assert g.stationary is None and any("fixed n" in s for s in g.notes)
