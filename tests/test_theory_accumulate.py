"""Accumulate regime: exact recursions against a simulation that keeps the pool, Euler's
product, the chi2_k + a chi2_1 law against mpmath, and the limits."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special
from tests.naive import model_draws

from collapsecheck.experiment import Experiment, n_at
from collapsecheck.families.gaussian.theory.accumulate import (
    accumulate_limit,
    accumulate_moments,
    chi2_plus_scaled_chi2_1_cdf,
    chi2_plus_scaled_chi2_1_sf,
    increment_law,
    predict,
    standardized_increments,
)
from collapsecheck.families.gaussian.theory.sampling import variance_factor

REPLICATES = 200_000
# Monte Carlo comparisons are within 5 standard errors (two-sided alpha ~ 6e-7 each). At
# n = 3..4 and T <= 5 the pooled variance averages N_T >= 15 draws, so its moments are far
# lighter-tailed than the replace chain's: the CLT holds at 2e5 replicates.



def simulate(seed, n, generations, ddof, temperature=1.0, truncate=None, n_growth=0.0):
    """log sigma_t^2 (t = 0..T) and mu_T of chains that refit to the explicit pool."""
    rng = np.random.default_rng(seed)
    sizes = [n_at(n, n_growth, t) for t in range(1, generations + 1)]
    pool = np.empty((REPLICATES, sum(sizes)))
    mu, s2 = np.zeros(REPLICATES), np.ones(REPLICATES)
    log_var = [np.log(s2)]
    used = 0
    for nt in sizes:
        pool[:, used:used + nt] = mu[:, None] + np.sqrt(s2)[:, None] * model_draws(
            rng, (REPLICATES, nt), temperature, truncate)
        used += nt
        mu = pool[:, :used].mean(axis=1)
        s2 = pool[:, :used].var(axis=1) * used / (used - ddof)
        log_var.append(np.log(s2))
    return np.array(log_var).T, mu


def within(sample, theory, k=5.0):
    se = sample.std(ddof=1) / math.sqrt(sample.size)
    assert abs(sample.mean() - theory) < k * se, (sample.mean(), theory, se)


@pytest.mark.parametrize(("n", "generations", "ddof", "temperature", "truncate", "n_growth"), [
    (3, 5, 0.0, 1.0, None, 0.0),
    (4, 4, 1.0, 1.3, None, 0.0),
    (3, 5, 2.0, 1.0, 1.2, 0.0),
    (3, 4, 0.5, 0.9, 0.8, 1.0),
])
def test_moments_match_simulation(n, generations, ddof, temperature, truncate, n_growth):
    log_var, mu = simulate(11 + n, n, generations, ddof, temperature, truncate, n_growth)
    ln_v, ln_w = accumulate_moments(generations, n, ddof, truncate=truncate,
                                    temperature=temperature, n_growth=n_growth)
    within(np.exp(log_var[:, -1]), math.exp(ln_v))
    within(mu**2, math.exp(ln_w))


def test_increment_law_matches_simulation():
    # The standardised pool increments of simulated chains follow tau^2 (chi2_{n_t - 1} +
    # (N_{t-1}/N_t) chi2_1) at every t; the empirical CDF at five points is within 5
    # binomial standard errors of the exact one.
    n, ddof, tau, p = 3, 1.0, 1.2, 1.0
    log_var, _ = simulate(5, n, 4, ddof, tau, None, p)
    inc = standardized_increments(log_var, n, ddof, n_growth=p)
    for t in (1, 2, 4):
        law = increment_law(t, n, n_growth=p, temperature=tau)
        x = inc[:, t - 1]
        within(x, law.mean)
        for q in np.quantile(x, [0.05, 0.25, 0.5, 0.75, 0.95]):
            within((x <= q).astype(float), law.cdf(q))


def test_increment_law_parameters():
    law = increment_law(3, 4, n_growth=1.0, temperature=2.0)  # n_t = 4, 8, 12
    assert (law.k, law.a, law.scale) == (11, 12 / 24, 4.0)
    assert increment_law(1, 5).a == 0.0
    assert law.mean == pytest.approx(4.0 * 11.5)
    assert law.var == pytest.approx(16.0 * (22 + 0.5))


# Reference (mpmath 1.4.1, 30 digits): F(x) = int_0^{sqrt(x/a)} 2 phi(u) P(k/2, (x-a u^2)/2) du
# by mp.quad on 8 equal panels (u cut at 40), e.g.
#   python -c "import mpmath as mp; mp.mp.dps=30; x,k,a=mp.mpf(4.2),4,mp.mpf(.75);
#   g=lambda u: 2*mp.npdf(u)*mp.gammainc(k/2,0,max(x-a*u*u,0)/2,regularized=True);
#   print(mp.quad(g, mp.linspace(0, mp.sqrt(x/a), 9)))"
CDF_REFERENCE = [
    (0.5, 1, 0.5, 0.29517512458407521),
    (3.0, 2, 0.25, 0.74251507689216234),
    (4.2, 4, 0.75, 0.51071476473968489),
    (10.0, 7, 0.875, 0.74592182441519322),
    (60.0, 49, 0.9, 0.84528385621300901),
    (0.01, 3, 0.5, 1.7604191788048022e-5),
    (25.0, 3, 0.8, 0.9999684927168378),
]


@pytest.mark.parametrize(("x", "k", "a", "want"), CDF_REFERENCE)
def test_cdf_matches_mpmath_reference(x, k, a, want):
    assert chi2_plus_scaled_chi2_1_cdf(x, k, a) == pytest.approx(want, abs=1e-13)
    assert chi2_plus_scaled_chi2_1_sf(x, k, a) == pytest.approx(1 - want, abs=1e-13)


def test_cdf_matches_live_mpmath_quad():
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 25
    for k in (1, 4, 30):
        for a in (1e-3, 0.6):
            for x in (0.05, k + a, 2.5 * (k + a) + 5):
                xm, am = mp.mpf(x), mp.mpf(a)

                def g(u, xm=xm, am=am, k=k):
                    z = xm - am * u * u
                    return 2 * mp.npdf(u) * (mp.gammainc(mp.mpf(k) / 2, 0, z / 2,
                                                         regularized=True) if z > 0 else 0)

                hi = min(mp.sqrt(xm / am), mp.mpf(40))
                want = float(mp.quad(g, mp.linspace(0, hi, 9)))
                assert chi2_plus_scaled_chi2_1_cdf(x, k, a) == pytest.approx(want, abs=1e-10)


def test_cdf_closed_forms_and_vectorisation():
    x = np.linspace(0.0, 40.0, 81)
    for k in (1, 3, 10):
        # a = 1: chi2_k + chi2_1 = chi2_{k+1}; a = 0: chi2_k
        np.testing.assert_allclose(chi2_plus_scaled_chi2_1_cdf(x, k, 1.0),
                                   special.chdtr(k + 1, x), atol=1e-14)
        np.testing.assert_allclose(chi2_plus_scaled_chi2_1_sf(x, k, 1.0),
                                   special.chdtrc(k + 1, x), atol=1e-14)
        np.testing.assert_allclose(chi2_plus_scaled_chi2_1_cdf(x, k, 0.0),
                                   special.chdtr(k, x), atol=0)
    grid = chi2_plus_scaled_chi2_1_cdf(x[:, None], 4, np.array([0.1, 0.5, 0.9])[None, :])
    assert grid.shape == (81, 3)
    assert np.all(np.diff(grid, axis=0) >= 0)
    assert chi2_plus_scaled_chi2_1_cdf(-1.0, 4, 0.5) == 0.0
    assert chi2_plus_scaled_chi2_1_cdf(math.inf, 4, 0.5) == 1.0


@pytest.mark.parametrize("n", [2, 3, 5, 10, 100, 10**6])
def test_euler_sine_product(n):
    # ddof 0, tau 1, no cut: v_t = v_{t-1} (1 - 1/(n t^2)), so E sigma_inf^2 =
    # sin(pi/sqrt n)/(pi/sqrt n); v_T lies above it by the factor prod_{t>T} (...)^-1,
    # at most exp(1/(n T - 1)) (the telescoping tail bound).
    x = math.pi / math.sqrt(n)
    exact = math.sin(x) / x
    lim = accumulate_limit(n, 0.0)
    assert lim["sigma2_mean"] == exact and lim["sigma2_mean_error"] == 0.0
    horizon = 10**6
    v = math.exp(accumulate_moments(horizon, n, 0.0)[0])
    assert exact * (1 - 1e-13) <= v <= exact * math.exp(1 / (n * horizon - 1)) * (1 + 1e-13)


@given(st.integers(2, 1000), st.integers(1, 3000), st.sampled_from([0.0, 0.5, 1.0, 2.0]))
def test_sigma2_plus_mu_var_is_conserved(n, generations, p):
    # ddof 0, f = 1: a new draw's expected square about mu0 equals the pool's mean square
    # (E[(x - mu0)^2 | past] = sigma_{t-1}^2 + (mu_{t-1} - mu0)^2 = Q/N + (mu - mu0)^2), so
    # E sigma_t^2 + Var(mu_t) = sigma0^2 at every t, for any n-growth.
    ln_v, ln_w = accumulate_moments(generations, n, 0.0, 1.5, n_growth=p)
    assert math.exp(ln_v) + math.exp(ln_w) == pytest.approx(2.25, rel=1e-12)


@given(st.integers(2, 5000), st.floats(0.0, 1.0), st.integers(1, 10**5))
def test_mean_variance_below_basel_bound(n, ddof, generations):
    ln_w = accumulate_moments(generations, n, ddof, 1.0)[1]
    assert math.exp(ln_w) < math.pi**2 / 6 / n


@given(st.integers(2, 40), st.floats(0.0, 1.5), st.floats(0.05, 8.0), st.floats(0.5, 1.5))
def test_first_generation_by_hand(n, ddof, cut, tau):
    f = variance_factor(tau, cut)
    ln_v, ln_w = accumulate_moments(1, n, ddof, 2.0, truncate=cut, temperature=tau)
    assert math.exp(ln_v) == pytest.approx(4.0 * f * (n - 1) / (n - ddof), rel=1e-13)
    assert math.exp(ln_w) == pytest.approx(4.0 * f / n, rel=1e-13)


def test_recursion_matches_a_direct_loop():
    # The recursion as stated (E Q_t = E Q_{t-1} + f v_{t-1}(n_t - 1 + N_{t-1}/N_t)).
    for n, ddof, p, tau, cut, horizon in ((3, 0.0, 0.0, 1.0, None, 400),
                                          (4, 2.5, 0.7, 1.1, 1.5, 200),
                                          (2, 1.0, 1.5, 0.8, None, 300)):
        f = variance_factor(tau, cut)
        eq, v, w, big = 0.0, 1.0, 0.0, 0
        for t in range(1, horizon + 1):
            nt = n_at(n, p, t)
            big_prev, big = big, big + nt
            w += f * v * nt / big**2
            eq += f * v * (nt - 1 + big_prev / big)
            v = eq / (big - ddof)
        ln_v, ln_w = accumulate_moments(horizon, n, ddof, truncate=cut, temperature=tau,
                                        n_growth=p)
        assert ln_v == pytest.approx(math.log(v), abs=1e-11)
        assert ln_w == pytest.approx(math.log(w), abs=1e-11)


@pytest.mark.parametrize(("n", "ddof", "tau", "p"), [
    (3, 1.0, 1.0, 0.0), (5, 2.0, 1.0, 0.5), (4, 0.0, 0.9, 0.0), (4, 0.5, 1.1, 0.0)])
def test_limit_brackets_hold(n, ddof, tau, p):
    # The stated error of the limit after 2^20 terms covers the difference to the value
    # after 2^14 terms by less than that one's stated error (the bracket is honest).
    fine = accumulate_limit(n, ddof, temperature=tau, n_growth=p)
    coarse = accumulate_limit(n, ddof, temperature=tau, n_growth=p, terms=1 << 14)
    assert abs(fine["mu_var"] - coarse["mu_var"]) <= coarse["mu_var_error"] + fine["mu_var_error"]
    assert fine["mu_var_error"] < coarse["mu_var_error"]
    if fine["sigma2_mean"] is not None and fine["sigma2_mean"] > 0:
        assert abs(fine["sigma2_mean"] - coarse["sigma2_mean"]) <= (
            coarse["sigma2_mean_error"] + fine["sigma2_mean_error"])
        assert fine["sigma2_mean_error"] < 1e-11
    # the limit exceeds (or is below, for sigma^2 with f = 1) any finite horizon's value
    assert fine["mu_var"] >= math.exp(accumulate_moments(1000, n, ddof, temperature=tau,
                                                         n_growth=p)[1])


def test_limit_regimes():
    assert accumulate_limit(4, 0.0, temperature=0.9)["sigma2_mean"] == 0.0
    grows = accumulate_limit(4, 0.0, temperature=1.2)
    assert grows["sigma2_mean"] is None and math.isfinite(grows["mu_var"])
    assert accumulate_limit(4, 0.0, temperature=1.5) is None  # f = 2.25 >= 2


def test_predict():
    e = Experiment(n=4, generations=50, replicates=10, seed=0, regime="accumulate",
                   temperature=1.1, truncate=2.0, n_growth=0.5)
    p = predict(e)
    assert p.regime == "accumulate"
    assert {"final.sigma2_mean", "final.mu_var"} <= set(p.exact)
    assert p.log_sigma2_drift is None and p.ln_sigma_quantiles is None
    assert "simulation only" in p.methods["log_sigma2_drift"]
    assert (p.ln_sigma2_mean, p.ln_mu_var) == accumulate_moments(
        50, 4, 0.0, truncate=2.0, temperature=1.1, n_growth=0.5)
    base = predict(Experiment(n=9, generations=5, replicates=1, seed=0, regime="accumulate"))
    assert "limit.sigma2_mean" in base.exact
    assert base.limit["sigma2_mean"] == pytest.approx(math.sin(math.pi / 3) / (math.pi / 3))
