"""Accumulate-subsample regime: the exact recursion against a simulation that keeps the
pool and subsamples it without replacement, and hand formulas at T = 1, 2."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.naive import model_draws

from collapsecheck.experiment import Experiment, n_at
from collapsecheck.families.gaussian.theory.sampling import variance_factor
from collapsecheck.families.gaussian.theory.subsample import predict, subsample_moments

REPLICATES = 200_000
# Monte Carlo comparisons are within 5 standard errors (two-sided alpha ~ 6e-7 each); at
# n = 3..4 and T <= 5 the moments compared are light-tailed enough for the CLT.



def simulate(seed, n, generations, ddof, temperature=1.0, truncate=None, n_growth=0.0):
    rng = np.random.default_rng(seed)
    sizes = [n_at(n, n_growth, t) for t in range(1, generations + 1)]
    pool = np.empty((REPLICATES, sum(sizes)))
    mu, s2 = np.zeros(REPLICATES), np.ones(REPLICATES)
    used = 0
    rows = np.arange(REPLICATES)[:, None]
    for nt in sizes:
        pool[:, used:used + nt] = mu[:, None] + np.sqrt(s2)[:, None] * model_draws(
            rng, (REPLICATES, nt), temperature, truncate)
        used += nt
        # n_t of the `used` pooled values without replacement: the first n_t of a random
        # permutation of each row
        pick = np.argsort(rng.random((REPLICATES, used)), axis=1)[:, :nt]
        x = pool[rows, pick]
        mu = x.mean(axis=1)
        s2 = ((x - mu[:, None]) ** 2).sum(axis=1) / (nt - ddof)
    return mu, s2


def within(sample, theory, k=5.0):
    se = sample.std(ddof=1) / math.sqrt(sample.size)
    assert abs(sample.mean() - theory) < k * se, (sample.mean(), theory, se)


@pytest.mark.parametrize(("n", "generations", "ddof", "tau", "cut", "p"), [
    (3, 5, 0.0, 1.0, None, 0.0),
    (4, 4, 1.0, 1.2, None, 0.0),
    (3, 4, 1.0, 1.0, 1.0, 0.0),
    (3, 4, 0.5, 0.9, None, 1.0),
])
def test_moments_match_simulation(n, generations, ddof, tau, cut, p):
    mu, s2 = simulate(17 + n, n, generations, ddof, tau, cut, p)
    ln_v, ln_w = subsample_moments(generations, n, ddof, truncate=cut, temperature=tau,
                                   n_growth=p)
    within(s2, math.exp(ln_v))
    within(mu**2, math.exp(ln_w))


@given(st.integers(2, 60), st.floats(0.0, 1.5), st.floats(0.1, 6.0), st.floats(0.5, 1.5))
def test_first_two_generations_by_hand(n, ddof, cut, tau):
    f = variance_factor(tau, cut)
    ln_v, ln_w = subsample_moments(1, n, ddof, 2.0, truncate=cut, temperature=tau)
    assert math.exp(ln_v) == pytest.approx(4.0 * f * (n - 1) / (n - ddof), rel=1e-12)
    assert math.exp(ln_w) == pytest.approx(4.0 * f / n, rel=1e-12)
    # T = 2 (N_1 = n, N_2 = 2n, the subsample at t = 1 is the whole pool):
    # E Q_2 = f(n-1)[1 + f(n - 1/2)/(n-d)], E sigma_2^2 = (n-1)/((n-d)(2n-1)) E Q_2,
    # E D_2^2 = f/n + (1/4)(f/((n-d) n)) f(n-1), Var(mu_2) = E D_2^2 + E Q_2/(2n(2n-1)).
    q2 = f * (n - 1) * (1 + f * (n - 0.5) / (n - ddof))
    d2 = f / n + 0.25 * f / ((n - ddof) * n) * f * (n - 1)
    ln_v, ln_w = subsample_moments(2, n, ddof, 2.0, truncate=cut, temperature=tau)
    assert math.exp(ln_v) == pytest.approx(4.0 * (n - 1) / ((n - ddof) * (2 * n - 1)) * q2,
                                           rel=1e-12)
    assert math.exp(ln_w) == pytest.approx(4.0 * (d2 + q2 / (2 * n * (2 * n - 1))),
                                           rel=1e-12)


def test_long_horizon_and_predict():
    ln_v, ln_w = subsample_moments(10**6, 5, 1.0)
    assert math.isfinite(ln_v) and math.isfinite(ln_w)
    e = Experiment(n=4, generations=10, replicates=1, seed=0, regime="accumulate-subsample",
                   truncate=1.5)
    p = predict(e)
    assert p.regime == "accumulate-subsample"
    assert set(p.exact) == {"final.sigma2_mean", "final.mu_var"}
    assert p.log_sigma2_drift is None and p.limit is None
    assert (p.ln_sigma2_mean, p.ln_mu_var) == subsample_moments(10, 4, 0.0, truncate=1.5)
