"""Exact theory: identities (property-based), exact special cases, long horizons."""

import math

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from scipy import integrate, special, stats
from tests.strategies import horizons, n_and_ddof, sample_sizes, sigmas

from collapsecheck import Experiment
from collapsecheck.theory import (
    LogVarianceLaw,
    StepLaw,
    log_mu_var,
    log_sigma2_drift,
    log_sigma2_step_var,
    log_sigma_moment,
    mu_var,
    predict,
    sigma_quantiles,
)


class TestStep:
    @given(n_and_ddof())
    def test_drift_is_mean_of_log_scaled_chi_square(self, nd):
        n, d = nd
        # E[log Q] for Q ~ chi2_{n-1}: digamma((n-1)/2) + log 2 (Mellin transform).
        # (this naive sum carries rounding of order 1e-16 * log(n); the implementation
        # avoids it, see test_theory_reference.py for 1e-13 relative against mpmath)
        expected = special.digamma((n - 1) / 2) + math.log(2) - math.log(n - d)
        assert log_sigma2_drift(n, d) == pytest.approx(expected, rel=1e-14,
                                                       abs=4e-16 * (1 + math.log(n)))

    @given(n_and_ddof(max_ddof=1.0))
    def test_drift_is_negative_when_ddof_at_most_one(self, nd):
        # Jensen: E[log Q] < log E[Q] = log(n - 1) <= log(n - ddof).
        assert log_sigma2_drift(*nd) < 0

    @given(st.integers(2, 10**7))
    def test_step_var_is_trigamma(self, n):
        assert log_sigma2_step_var(n) == pytest.approx(special.polygamma(1, (n - 1) / 2), rel=1e-14)

    @pytest.mark.parametrize("n", [2, 3, 4, 5, 10])
    def test_step_moments_match_numerical_integration(self, n):
        # Independent route: integrate log(q) against the chi-square density.
        def moment(p):
            return integrate.quad(lambda q: np.log(q / n) ** p * stats.chi2.pdf(q, n - 1),
                                  0, np.inf, limit=200)[0]

        m1 = moment(1)
        assert log_sigma2_drift(n, 0) == pytest.approx(m1, rel=1e-8)
        assert log_sigma2_step_var(n) == pytest.approx(moment(2) - m1**2, rel=1e-7)

    @pytest.mark.parametrize(("n", "ddof", "approx"), [(2, 0, -1.0), (3, 0, -2 / 3), (2, 1, -0.5)])
    def test_large_n_drift_is_wrong_at_small_n(self, n, ddof, approx):
        # The -2/n (ddof 0) and -1/n (ddof 1) shortcuts are off by far more than 10% here.
        assert abs(log_sigma2_drift(n, ddof) - approx) > 0.1 * abs(approx)

    @given(st.integers(10**4, 10**7), st.sampled_from([0.0, 1.0]))
    def test_large_n_drift_approaches_first_order(self, n, ddof):
        assert log_sigma2_drift(n, ddof) == pytest.approx(-(2 - ddof) / n, rel=5 / n)

    def test_one_step_shrink_probability_is_chi_square_cdf(self):
        step = StepLaw(1000, 0)
        assert step.prob_below(0.0) == pytest.approx(stats.chi2.cdf(1000, 999), rel=1e-14)

    @pytest.mark.parametrize("j", [2, 3, 4])
    def test_cumulants_are_polygamma(self, j):
        assert StepLaw(7, 0.5).cumulant(j) == pytest.approx(special.polygamma(j - 1, 3.0))


class TestMoments:
    @given(n_and_ddof(), horizons, sigmas)
    @example((2, 0.0), 10**6, 1.0)
    def test_second_moment_reduces_to_geometric_ratio(self, nd, T, s0):
        # Gamma(k + 1)/Gamma(k) = k, so E[sigma_T^2] = s0^2 ((n-1)/(n-ddof))^T exactly.
        n, d = nd
        expected = 2 * math.log(s0) + T * math.log((n - 1) / (n - d))
        got = log_sigma_moment(T, n, d, s0, 2.0)
        assert got == pytest.approx(expected, rel=1e-11, abs=1e-9 * max(1.0, T / n))

    @given(n_and_ddof(), horizons, sigmas)
    def test_log_moments_are_finite_at_long_horizons(self, nd, T, s0):
        n, d = nd
        for p in (1.0, 2.0):
            assert math.isfinite(log_sigma_moment(T, n, d, s0, p))
        assert math.isfinite(log_mu_var(T, n, d, s0)) or T == 0

    @given(n_and_ddof(), st.integers(1, 10**6))
    def test_jensen_mean_sigma_below_root_mean_square(self, nd, T):
        n, d = nd
        lhs = log_sigma_moment(T, n, d, 1.0, 1.0)
        assert lhs <= 0.5 * log_sigma_moment(T, n, d, 1.0, 2.0) + 1e-12

    @given(st.integers(2, 10**7), st.integers(0, 10**6), sigmas)
    def test_mu_var_with_ddof_one_is_linear(self, n, T, s0):
        assert log_mu_var(T, n, 1.0, s0) == pytest.approx(
            math.log(T) + 2 * math.log(s0) - math.log(n) if T else -math.inf, rel=1e-12)

    @given(n_and_ddof(), st.integers(0, 200))
    def test_mu_var_recursion(self, nd, T):
        # Var(mu_{T+1}) = Var(mu_T) + E[sigma_T^2]/n (uncorrelated increments).
        n, d = nd
        assume(log_mu_var(T + 1, n, d) < 700)  # else Var overflows double (its log does not)
        lhs = mu_var(T + 1, n, d)
        rhs = mu_var(T, n, d) + math.exp(log_sigma_moment(T, n, d, 1.0, 2.0)) / n
        assert lhs == pytest.approx(rhs, rel=1e-9)

    def test_first_moment_small_case_by_hand(self):
        # n = 3: Q ~ chi2_2 ~ Exp(mean 2); E[sqrt(Q/3)] = sqrt(2/3) Gamma(3/2)/Gamma(1).
        one = math.sqrt(2 / 3) * math.gamma(1.5)
        got = math.exp(log_sigma_moment(4, 3, 0.0, 2.0, 1.0))
        assert got == pytest.approx(2 * one**4, rel=1e-14)

    def test_zero_generations_is_the_starting_model(self):
        p = predict(Experiment(n=10, generations=0, mu0=3.0, sigma0=2.0, seed=0))
        assert p.sigma_mean == pytest.approx(2.0)
        assert p.sigma2_mean == pytest.approx(4.0)
        assert p.mu_var == 0.0
        assert all(v == pytest.approx(2.0) for v in p.sigma_quantiles.values())

    def test_bad_moment_order_is_refused(self):
        with pytest.raises(ValueError, match=r"`p` must exceed -\(n - 1\)"):
            log_sigma_moment(3, 3, 0.0, 1.0, -2.0)


class TestLaw:
    @given(n_and_ddof(), st.sampled_from([0.001, 0.025, 0.5, 0.975, 0.999]))
    @example((2, 0.0), 0.025)
    @example((10**7, 1.0), 0.975)
    @settings(max_examples=60)
    def test_one_generation_is_the_scaled_chi_square(self, nd, q):
        n, d = nd
        law = LogVarianceLaw(n, 1, d)
        exact = math.log(stats.chi2.ppf(q, n - 1) / (n - d))
        assert law.ppf(q) == pytest.approx(exact, abs=1e-9 * max(1.0, abs(exact)))
        assert law.cdf(exact) == pytest.approx(q, abs=1e-10)

    @given(n_and_ddof(), st.integers(1, 10**6), st.floats(0.001, 0.999))
    @settings(max_examples=40)
    def test_cdf_inverts_ppf(self, nd, T, q):
        law = LogVarianceLaw(nd[0], T, nd[1])
        assert law.cdf(law.ppf(q)) == pytest.approx(q, abs=1e-9)

    @pytest.mark.parametrize(("n", "ddof"), [(2, 0.0), (3, 1.0), (10, 0.0), (50, 1.0), (1000, 0.0)])
    @pytest.mark.parametrize("z", [-3.0, -1.3, 0.0, 0.7, 2.5])
    def test_cdf_of_two_generations_by_convolution(self, n, ddof, z):
        # The round trip above cannot see a wrong CDF (ppf inverts whatever cdf gives):
        # P(X_1 + X_2 <= x) = int f_X(y) F_X(x - y) dy with the exact one-step law
        # F_X(y) = F_chi2(n-1)((n - ddof) e^y), by adaptive quadrature, at x = mean + z SD.
        k, c = n - 1, n - ddof

        def pdf(y):
            return stats.chi2.pdf(c * math.exp(y), k) * c * math.exp(y)

        def cdf(y):
            return stats.chi2.cdf(c * math.exp(y), k)

        law = LogVarianceLaw(n, 2, ddof)
        x = law.mean + z * law.sd
        step_sd = math.sqrt(law.sd**2 / 2)
        lo, hi = law.mean / 2 - 40 * step_sd, law.mean / 2 + 12 * step_sd
        mode = math.log(k / c)  # of the one-step density, e^{ky/2 - c e^y/2}
        pts = sorted({mode, x - mode, x - law.mean / 2})
        want = integrate.quad(lambda y: pdf(y) * cdf(x - y), lo, hi, points=pts,
                              epsabs=1e-14, epsrel=1e-12, limit=400)[0]
        assert float(law.cdf(x)) == pytest.approx(want, abs=1e-10)
        # and the density against the derivative of the same convolution
        dens = integrate.quad(lambda y: pdf(y) * pdf(x - y), lo, hi, points=pts,
                              epsabs=1e-14, epsrel=1e-12, limit=400)[0]
        assert float(law.pdf(x)) == pytest.approx(dens, rel=1e-8, abs=1e-12)

    @pytest.mark.parametrize(("T", "z"), [(1000, -2.0), (1000, 0.5), (10**5, -1.0), (10**5, 1.7)])
    def test_cdf_at_long_horizons_against_edgeworth(self, T, z):
        # S_T is a sum of T i.i.d. steps: the Edgeworth expansion to second order in the
        # exact cumulants has error O(T^-3/2) (below 1e-7 here at n = 1000).
        k = 999 / 2
        k1 = T * (special.digamma(k) + math.log(2 / 1000))
        k2, k3, k4 = (T * special.polygamma(j, k) for j in (1, 2, 3))
        g1, g2 = k3 / k2**1.5, k4 / k2**2
        corr = (g1 / 6 * (z**2 - 1) + g2 / 24 * (z**3 - 3 * z)
                + g1**2 / 72 * (z**5 - 10 * z**3 + 15 * z))
        want = stats.norm.cdf(z) - stats.norm.pdf(z) * corr
        law = LogVarianceLaw(1000, T, 0.0)
        assert float(law.cdf(k1 + z * math.sqrt(k2))) == pytest.approx(want, abs=1e-7)

    @pytest.mark.parametrize(("n", "T"), [(2, 1), (2, 3), (4, 3), (3, 10), (50, 5), (1000, 1000)])
    def test_density_integrates_to_one_with_exact_mean_and_variance(self, n, T):
        law = LogVarianceLaw(n, T, 0.0)
        lo, hi = law.ppf(1e-12) - law.sd, law.ppf(1 - 1e-12) + law.sd
        x = np.linspace(lo, hi, 40001)
        f = law.pdf(x)
        mass = integrate.simpson(f, x=x)
        mean = integrate.simpson(x * f, x=x)
        var = integrate.simpson((x - mean) ** 2 * f, x=x)
        assert mass == pytest.approx(1.0, abs=1e-7)
        assert mean == pytest.approx(law.mean, abs=1e-6 * law.sd)
        assert var == pytest.approx(law.sd**2, rel=1e-6)

    def test_two_generations_equal_convolution_of_one(self):
        # Independent route for T = 2 at n = 4: P(X1 + X2 <= x) = E[F_1(x - X1)].
        n, x = 4, -1.3
        one = StepLaw(n, 0.0)
        law2 = LogVarianceLaw(n, 2, 0.0)

        def integrand(q):
            return float(one.cdf(x - math.log(q / n))) * stats.chi2.pdf(q, n - 1)

        conv = integrate.quad(integrand, 0, np.inf, limit=400, epsabs=1e-13)[0]
        assert law2.cdf(x) == pytest.approx(conv, abs=1e-10)

    @given(n_and_ddof(), st.integers(1, 10**6))
    @settings(max_examples=40)
    def test_quantiles_increase_and_stay_finite(self, nd, T):
        q = sigma_quantiles(T, nd[0], nd[1], 1.0)
        vals = [q["0.025"], q["0.5"], q["0.975"]]
        assert all(math.isfinite(v) for v in vals)
        assert vals[0] < vals[1] < vals[2]

    def test_bad_level_is_refused(self):
        with pytest.raises(ValueError, match="`q` must lie strictly between 0 and 1"):
            LogVarianceLaw(5, 3).ppf(1.0)

    def test_zero_horizon_is_a_point_mass(self):
        law = LogVarianceLaw(5, 0)
        assert law.cdf(-1e-9) == 0.0 and law.cdf(0.0) == 1.0
        assert law.ppf(0.3) == 0.0


class TestPredict:
    def test_article_numbers(self):
        # Reference (mpmath, 40 digits): python -c "import mpmath as mp; mp.mp.dps=40;
        #   k=mp.mpf(999)/2; print(mp.exp(1000*(mp.log(2/mp.mpf(1000))/2
        #   + mp.loggamma(k+mp.mpf(1)/2) - mp.loggamma(k))))"
        p = predict(Experiment(seed=0))
        assert p.sigma_mean == pytest.approx(0.4721302513336426002801, rel=1e-14)
        assert p.sigma2_mean == pytest.approx(0.999**1000, rel=1e-12)

    @pytest.mark.parametrize("sigma0", [1e-300, 1e300])
    def test_extreme_starting_scale_is_finite(self, sigma0):
        p = predict(Experiment(n=10, generations=10**6, sigma0=sigma0, seed=0))
        for v in (p.ln_sigma_mean, p.ln_sigma2_mean, p.ln_mu_var, p.log_sigma2_mean):
            assert math.isfinite(v)
        assert all(math.isfinite(v) for v in p.ln_sigma_quantiles.values())

    @given(sample_sizes)
    @settings(max_examples=20)
    def test_million_generations_finite(self, n):
        p = predict(Experiment(n=n, generations=10**6, seed=0))
        assert math.isfinite(p.log_sigma2_mean) and math.isfinite(p.log_sigma2_sd)
        assert all(math.isfinite(v) for v in p.ln_sigma_quantiles.values())
