"""Exact draws of S_T, the Lundberg exponent and the probability of recovery.

Independent routes: the exact CDF (Kolmogorov-Smirnov), sums of T log-chi-square draws,
numerical integration of the step law, the walk tilted by its Lundberg exponent (an
unbiased importance-sampling estimator of the recovery probability, exact by Wald's
identity) and plain simulation. Fixed seeds and alpha = 1e-6 throughout.
"""

import math
import warnings

import numpy as np
import pytest
from scipy import integrate, optimize, special, stats

from collapsecheck.theory import (
    SIEGMUND_RHO,
    ConvergenceWarning,
    LogVarianceLaw,
    StepLaw,
    lundberg_exponent,
    prob_ever_recovers,
    siegmund_recovery_approximation,
)

ALPHA = 1e-6
B_ARTICLE = 2 * math.log(1 / 0.9)  # from sigma 0.9 back to 1, in log sigma^2


# ---------------------------------------------------------------------------------------
# LogVarianceLaw.sample
# ---------------------------------------------------------------------------------------


class TestSample:
    @pytest.mark.parametrize(
        ("n", "T", "size"),
        [(3, 5, 5000), (10, 50, 20_000), (1000, 1000, 20_000), (1000, 10_000, 20_000)],
    )
    def test_ks_against_exact_cdf(self, n, T, size):
        law = LogVarianceLaw(n, T)
        draws = law.sample(size, rng=np.random.default_rng([n, T]))
        assert stats.kstest(draws, law.cdf).pvalue > ALPHA

    def test_ks_detects_a_wrong_law(self):
        # Power check: a shift of 0.1 SD is caught at n = 20,000 (KS distance 0.04).
        law = LogVarianceLaw(10, 50)
        draws = law.sample(20_000, rng=1) + 0.1 * law.sd
        assert stats.kstest(draws, law.cdf).pvalue < ALPHA

    @pytest.mark.parametrize(("n", "T", "ddof"), [(2, 2, 0.0), (3, 4, 1.0), (5, 3, 0.0)])
    def test_matches_sum_of_log_chi_square_steps(self, n, T, ddof):
        rng = np.random.default_rng([7, n, T])
        direct = np.log(rng.chisquare(n - 1, size=(20_000, T)) / (n - ddof)).sum(axis=1)
        draws = LogVarianceLaw(n, T, ddof).sample(20_000, rng=rng)
        assert stats.ks_2samp(draws, direct).pvalue > ALPHA

    @pytest.mark.parametrize(("n", "T"), [(3, 5), (1000, 1000)])
    def test_inverse_is_accurate(self, n, T):
        # max_u |F(Finv(u)) - u| on the table's range, far below any Monte Carlo resolution.
        law = LogVarianceLaw(n, T)
        inverse, (f_lo, f_hi), _ = law._sampler
        u = np.linspace(f_lo, f_hi, 2001)[1:-1]
        assert np.max(np.abs(law.cdf(inverse(u)) - u)) < 5e-11
        assert np.all(np.diff(inverse(np.linspace(f_lo, f_hi, 100_001))) >= 0)  # monotone

    def test_reproducible_shape_and_scalar(self):
        law = LogVarianceLaw(10, 20)
        a, b = law.sample((3, 4), rng=5), law.sample((3, 4), rng=5)
        assert a.shape == (3, 4) and np.array_equal(a, b)
        assert isinstance(law.sample(rng=5), float)

    def test_zero_generations_is_zero(self):
        assert np.all(LogVarianceLaw(10, 0).sample(5, rng=0) == 0.0)


# ---------------------------------------------------------------------------------------
# Lundberg exponent
# ---------------------------------------------------------------------------------------


class TestLundberg:
    @pytest.mark.parametrize("n", [2, 3, 10, 1000, 10**6])
    def test_unbiased_variance_is_a_martingale_so_r_is_one(self, n):
        assert lundberg_exponent(n, 1.0) == pytest.approx(1.0, abs=1e-9)

    @pytest.mark.parametrize("n", [2, 5, 30])
    def test_root_by_numerical_integration(self, n):
        # E[(Q/(n - d))^R] = 1, Q ~ chi2_{n-1}, integrated directly.
        r = lundberg_exponent(n, 0.0)
        mgf = integrate.quad(lambda q: (q / n) ** r * stats.chi2.pdf(q, n - 1), 0, np.inf)[0]
        assert mgf == pytest.approx(1.0, abs=1e-8)
        assert r > 0

    def test_ddof_zero_just_above_two(self):
        # E[(Q/n)^2] = (n - 1)(n + 1)/n^2 < 1, so R > 2; the log-MGF is tiny and convex.
        r = lundberg_exponent(1000, 0.0)
        assert 2.0 < r < 2.001
        assert float(StepLaw(1000).log_mgf(r)) == pytest.approx(0.0, abs=1e-11)

    def test_no_root_without_downward_drift(self):
        with pytest.raises(ValueError, match="drift down"):
            lundberg_exponent(10, 5.0)


# ---------------------------------------------------------------------------------------
# prob_ever_recovers
# ---------------------------------------------------------------------------------------


def tilted_estimate(n, ddof, b, paths, rng, chunk):
    """P(sup S >= b) = E_R[exp(-R S_tau)]: under the tilt the steps are
    log(2 Gamma(k + R)/(n - d)), the walk drifts up and tau is finite a.s."""
    r = lundberg_exponent(n, ddof)
    k, shift = (n - 1) / 2, math.log(2 / (n - ddof))
    s, est = np.zeros(paths), np.zeros(paths)
    alive = np.arange(paths)
    while alive.size:
        path = s[alive] + np.cumsum(
            np.log(rng.standard_gamma(k + r, (chunk, alive.size))) + shift, 0
        )
        hit = path >= b
        done = hit.any(axis=0)
        first = np.argmax(hit, axis=0)
        est[alive[done]] = np.exp(-r * path[first[done], np.nonzero(done)[0]])
        s[alive[~done]] = path[-1, ~done]
        alive = alive[~done]
    return est.mean(), est.std(ddof=1) / math.sqrt(paths)


@pytest.fixture(scope="module")
def article_recovery():
    return prob_ever_recovers(1000, 0.0, B_ARTICLE)


class TestRecovery:
    def test_article_value_against_tilted_importance_sampling(self, article_recovery):
        est, se = tilted_estimate(1000, 0.0, B_ARTICLE, 6000, np.random.default_rng(3), 256)
        assert abs(article_recovery.probability - est) < 5 * se
        assert se < 5e-4  # the comparison resolves 2.5e-3: the approximations are farther off

    @pytest.mark.parametrize(("n", "ddof", "b"), [(2, 0.0, 0.5), (5, 0.0, 0.5), (10, 1.0, 1.0)])
    def test_small_n_against_tilted_importance_sampling(self, n, ddof, b):
        p = prob_ever_recovers(n, ddof, b)
        est, se = tilted_estimate(n, ddof, b, 40_000, np.random.default_rng([n, 1]), 16)
        assert abs(p.probability - est) < 5 * se

    def test_bracket_bound_and_approximations(self, article_recovery):
        p = article_recovery
        assert p.lower <= p.upper < p.lower + 1e-8
        assert p.discretisation_error < 2e-4
        assert abs(p.probability - p.lower) < 3 * p.discretisation_error + 1e-8
        assert (
            p.probability
            < p.lundberg_bound
            == pytest.approx(math.exp(-lundberg_exponent(1000) * B_ARTICLE), rel=1e-14)
        )
        # Siegmund's correction is an approximation: close, but not the value.
        assert abs(p.siegmund_approximation - p.probability) < 1e-3
        assert SIEGMUND_RHO == pytest.approx(0.5825971579390107, rel=1e-12)

    def test_first_steps_are_exact(self, article_recovery):
        # One step: P(X >= b). Two steps: P(X1 >= b) + int_{x < b} f(x) P(X2 >= b - x) dx.
        n, b = 1000, B_ARTICLE

        def sf(x):
            return stats.chi2.sf(np.exp(x) * n, n - 1)

        def pdf(x):
            return stats.chi2.pdf(np.exp(x) * n, n - 1) * np.exp(x) * n

        one = sf(b)
        two = one + integrate.quad(lambda x: pdf(x) * sf(b - x), -1.0, b, points=[0.0])[0]
        assert article_recovery.within(1) == pytest.approx(one, rel=1e-12)
        assert article_recovery.within(2) == pytest.approx(two, abs=1e-9)  # grid: 3e-10
        assert article_recovery.within(0) == 0.0

    def test_finite_horizon_matches_the_curve_and_simulation(self, article_recovery):
        short = prob_ever_recovers(1000, 0.0, B_ARTICLE, horizon=300)
        assert short.probability == pytest.approx(article_recovery.within(300), abs=1e-12)
        # Direct simulation of the walk for 300 generations, 4000 chains.
        rng = np.random.default_rng(11)
        steps = np.log(rng.chisquare(999, size=(300, 4000)) / 1000)
        hits = int(np.sum((np.cumsum(steps, axis=0) >= B_ARTICLE).any(axis=0)))
        assert stats.binomtest(hits, 4000, short.probability).pvalue > ALPHA
        curve = [article_recovery.within(t) for t in (1, 10, 100, 1000, 10_000, 10**6)]
        assert all(np.diff(curve) >= 0) and curve[-1] == article_recovery.probability

    def test_simulation_at_small_n_detects_a_wrong_value(self):
        p = prob_ever_recovers(5, 0.0, 0.5, horizon=200)
        rng = np.random.default_rng(2)
        steps = np.log(rng.chisquare(4, size=(200, 20_000)) / 5)
        hits = int(np.sum((np.cumsum(steps, axis=0) >= 0.5).any(axis=0)))
        assert stats.binomtest(hits, 20_000, p.probability).pvalue > ALPHA
        assert stats.binomtest(hits, 20_000, p.probability + 0.02).pvalue < ALPHA

    def test_not_converging_warns_and_returns_nan(self):
        with pytest.warns(ConvergenceWarning, match="did not converge"):
            p = prob_ever_recovers(1000, 0.0, B_ARTICLE, max_steps=50)
        assert math.isnan(p.probability) and 0 < p.lower < p.upper

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"b": 0.0}, "`b` must be"),
            ({"b": math.inf}, "`b` must be"),
            ({"horizon": 0}, "`horizon` must be at least 1"),
            ({"points_per_sd": 1}, "`points_per_sd`"),
            ({"tol": 0.5}, "`tol`"),
        ],
    )
    def test_bad_arguments_are_refused(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            prob_ever_recovers(10, 0.0, **{"b": 0.5, **kwargs})

    def test_siegmund_refuses_bad_level(self):
        with pytest.raises(ValueError, match="`b` must be"):
            siegmund_recovery_approximation(10, 0.0, -1.0)


def test_lundberg_root_by_independent_brentq():
    # The defining equation written with scipy directly (the module guards cancellation).
    n, k = 50, 24.5

    def f(r):
        return r * math.log(2 / n) + special.gammaln(k + r) - special.gammaln(k)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        root = optimize.brentq(f, 0.5, 10.0)
    assert lundberg_exponent(n, 0.0) == pytest.approx(root, rel=1e-10)
