"""Replace chain with a truncated (and tempered) model: exact moments against a naive
simulation of the actual process, closed forms and the replace chain."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.naive import model_draws

from collapsecheck.experiment import Experiment, n_at
from collapsecheck.families.gaussian.theory import replace
from collapsecheck.families.gaussian.theory.sampling import truncated_variance_factor
from collapsecheck.families.gaussian.theory.truncate import (
    predict,
    step_ratio_moments,
    truncated_moments,
)

REPLICATES = 200_000
# Every Monte Carlo comparison below is within 5 standard errors: two-sided alpha ~ 6e-7
# each under a normal CLT. At n = 3..6 and T <= 5 the moments compared are light-tailed
# enough for it: E[sigma_T^4]/E[sigma_T^2]^2 <= (1 + 2/(n-1))^T <= 32 and the step ratio
# has every moment (truncation only shortens the tails).



def simulate(seed, n, generations, ddof, temperature, truncate, n_growth=0.0):
    """(mu_T, sigma_T^2) of REPLICATES chains of the actual process, from (0, 1)."""
    rng = np.random.default_rng(seed)
    mu = np.zeros(REPLICATES)
    s2 = np.ones(REPLICATES)
    for t in range(1, generations + 1):
        nt = n_at(n, n_growth, t)
        x = mu[:, None] + np.sqrt(s2)[:, None] * model_draws(rng, (REPLICATES, nt),
                                                             temperature, truncate)
        mu = x.mean(axis=1)
        s2 = ((x - mu[:, None]) ** 2).sum(axis=1) / (nt - ddof)
    return mu, s2


def within(sample, theory, k=5.0):
    se = sample.std(ddof=1) / math.sqrt(sample.size)
    assert abs(sample.mean() - theory) < k * se, (sample.mean(), theory, se)


@pytest.mark.parametrize(("n", "generations", "ddof", "temperature", "truncate", "n_growth"), [
    (3, 5, 0.0, 1.0, 1.0, 0.0),
    (5, 4, 1.0, 1.2, 1.5, 0.0),
    (4, 5, 0.5, 0.9, 0.6, 0.0),
    (3, 4, 1.0, 1.0, 2.0, 0.5),
])
def test_moments_match_simulation(n, generations, ddof, temperature, truncate, n_growth):
    mu, s2 = simulate(7 + n, n, generations, ddof, temperature, truncate, n_growth)
    ln_v, ln_w = truncated_moments(generations, n, ddof, truncate=truncate,
                                   temperature=temperature, n_growth=n_growth)
    within(s2, math.exp(ln_v))
    within(mu**2, math.exp(ln_w))  # E mu_T = mu0 = 0


@pytest.mark.parametrize(("n", "ddof", "temperature", "truncate"), [
    (3, 0.0, 1.0, 0.8), (6, 1.0, 1.3, 1.4), (4, 2.0, 1.0, 3.0)])
def test_step_ratio_moments_match_simulation(n, ddof, temperature, truncate):
    _, r = simulate(99 + n, n, 1, ddof, temperature, truncate)
    m = step_ratio_moments(n, ddof, truncate, temperature)
    within(r, m.mean)
    within((r - m.mean) ** 2, m.var)


@pytest.mark.parametrize(("n", "ddof"), [(2, 0.0), (5, 1.0), (10, 0.3), (1000, 0.0)])
def test_step_ratio_without_truncation_is_scaled_chi_square(n, ddof):
    m = step_ratio_moments(n, ddof, None, 1.5)
    assert m.mean == pytest.approx(1.5**2 * (n - 1) / (n - ddof), rel=1e-14)
    assert m.var == pytest.approx(2 * (n - 1) * 1.5**4 / (n - ddof) ** 2, rel=1e-13)
    assert m.second == pytest.approx(m.var + m.mean**2, rel=1e-15)


@given(st.integers(2, 2000), st.floats(0.0, 1.9), st.integers(0, 10**6),
       st.sampled_from([None, math.inf]))
def test_no_cut_equals_replace(n, ddof, generations, cut):
    ln_v, ln_w = truncated_moments(generations, n, ddof, 2.0, truncate=cut)
    # replace's log-gamma form carries up to ~2e-14 of rounding per generation (a
    # difference of log-gammas of size ~60, times T), hence the allowance growing with T.
    tol = 1e-12 + 3e-14 * generations
    assert ln_v == pytest.approx(replace.log_sigma_moment(generations, n, ddof, 2.0, 2.0),
                                 abs=tol, rel=1e-12)
    want = replace.log_mu_var(generations, n, ddof, 2.0)
    if generations == 0:
        assert ln_w == want == -math.inf
    else:
        assert ln_w == pytest.approx(want, abs=tol, rel=1e-12)


@given(st.integers(2, 50), st.floats(0.0, 1.0), st.floats(0.05, 10.0), st.floats(0.5, 2.0))
def test_first_generation_by_hand(n, ddof, cut, tau):
    f = tau**2 * truncated_variance_factor(cut)
    ln_v, ln_w = truncated_moments(1, n, ddof, 3.0, truncate=cut, temperature=tau)
    assert math.exp(ln_v) == pytest.approx(9.0 * f * (n - 1) / (n - ddof), rel=1e-13)
    assert math.exp(ln_w) == pytest.approx(9.0 * f / n, rel=1e-13)


def test_growing_n_matches_a_direct_loop():
    for n, p, ddof, cut, tau, horizon in ((2, 0.5, 0.0, 1.0, 1.0, 300), (3, 1.0, 1.0, 2.0, 1.1, 50),
                                          (5, 0.3, 2.0, 0.7, 1.4, 1000)):
        f = tau**2 * truncated_variance_factor(cut)
        lv, w = 0.0, 0.0  # log E sigma^2 and Var(mu), accumulated term by term
        for t in range(1, horizon + 1):
            nt = n_at(n, p, t)
            w += f * math.exp(lv) / nt
            lv += math.log(f * (nt - 1) / (nt - ddof))
        ln_v, ln_w = truncated_moments(horizon, n, ddof, truncate=cut, temperature=tau,
                                       n_growth=p)
        assert ln_v == pytest.approx(lv, abs=1e-11)
        assert ln_w == pytest.approx(math.log(w), abs=1e-11)


def test_predict_marks_log_scale_simulation_only():
    e = Experiment(n=5, generations=20, replicates=10, ddof=1.0, seed=0, truncate=1.5,
                   temperature=1.1)
    p = predict(e)
    assert p.regime == "replace"
    assert set(p.exact) == {"final.sigma2_mean", "final.mu_var"}
    assert p.log_sigma2_drift is None and p.ln_sigma_quantiles is None
    assert p.ln_sigma_mean is None and p.log_sigma2_mean is None
    assert "simulation only" in p.methods["log_sigma2_drift"]
    ln_v, ln_w = truncated_moments(20, 5, 1.0, truncate=1.5, temperature=1.1)
    assert p.ln_sigma2_mean == ln_v and p.ln_mu_var == ln_w
    assert p.final()["sigma2_mean"] == pytest.approx(math.exp(ln_v))


def test_predict_without_cut_fills_the_exact_log_scale():
    e = Experiment(n=5, generations=20, replicates=10, ddof=0.0, seed=0, temperature=1.1)
    p = predict(e)
    assert p.log_sigma2_drift == pytest.approx(
        replace.log_sigma2_drift(5, 0.0) + 2 * math.log(1.1), rel=1e-14)
    assert "log_sigma2_drift" in p.exact


def test_long_horizons_stay_finite():
    ln_v, ln_w = truncated_moments(10**6, 3, 0.0, truncate=0.5)
    assert math.isfinite(ln_v) and ln_v < -1e5 and math.isfinite(ln_w)
    ln_v, ln_w = truncated_moments(10**5, 3, 1.0, truncate=0.5, n_growth=1.0)
    assert math.isfinite(ln_v) and math.isfinite(ln_w)
