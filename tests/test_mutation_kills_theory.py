"""Tests written to kill mutants of the exact theory that survived ``tools/mutation.py``
(reports/mutation/): every function of the replace chain's theory against mpmath at 30
digits or an independent exact recursion, both branches of every switch, every input
check's exact message, and the prediction records' exact shape."""

import math

import numpy as np
import pytest
from scipy import stats

# ---------------------------------------------------------------------------------------
# Exact theory: one step (families/gaussian/theory/steps.py), against mpmath at 30 digits
# ---------------------------------------------------------------------------------------

mpmath = pytest.importorskip("mpmath")
MP = mpmath.mp.clone() if hasattr(mpmath.mp, "clone") else mpmath.mp
MP.dps = 30


def mp_drift(n, d):
    k = MP.mpf(n - 1) / 2
    return float(MP.digamma(k) + MP.log(2) - MP.log(MP.mpf(n) - d))


class TestSteps:
    @pytest.mark.parametrize(("n", "d"), [(2, 0.0), (3, 1.0), (10, 0.5), (61, 0.0), (62, 1.0),
                                          (1000, 0.0), (10**6, 1.0)])
    def test_drift_and_var(self, n, d):
        from collapsecheck.families.gaussian.theory.steps import (
            StepLaw,
            log_sigma2_drift,
            log_sigma2_step_var,
        )

        k = MP.mpf(n - 1) / 2
        assert log_sigma2_drift(n, d) == pytest.approx(mp_drift(n, d), rel=1e-13)
        assert log_sigma2_step_var(n) == pytest.approx(float(MP.psi(1, k)), rel=1e-13)
        law = StepLaw(n, d)
        assert law.k == (n - 1) / 2
        assert law.drift == log_sigma2_drift(n, d) and law.var == log_sigma2_step_var(n)
        assert law.cumulant(1) == law.drift
        for j in (2, 3, 4):
            assert law.cumulant(j) == pytest.approx(float(MP.psi(j - 1, k)), rel=1e-12)
        for s in (-0.4, 0.5, 2.0):
            want = s * (MP.log(2) - MP.log(MP.mpf(n) - d)) + MP.loggamma(k + s) - MP.loggamma(k)
            # the direct difference of log-gammas of size k log k: absolute error ~1e-12 k
            assert float(law.log_mgf(s)) == pytest.approx(float(want), rel=1e-10,
                                                          abs=4e-12 * float(k))
        for x in (-0.3, 0.0, 0.01):
            want = stats.chi2.cdf(math.exp(x) * (n - d), n - 1)
            assert float(law.cdf(x)) == pytest.approx(want, rel=1e-12)
            assert law.prob_below(x) == pytest.approx(want, rel=1e-12)
        assert law.prob_below() == pytest.approx(stats.chi2.cdf(n - d, n - 1), rel=1e-12)

    def test_drift_default_ddof_is_zero(self):
        from collapsecheck.families.gaussian.theory.steps import log_sigma2_drift

        assert log_sigma2_drift(50) == pytest.approx(mp_drift(50, 0.0), rel=1e-13)

    @pytest.mark.parametrize("k", [1.5, 29.5, 29.999, 30.0, 30.5, 400.0, 5e6])
    def test_digamma_minus_log_on_both_sides_of_the_switch(self, k):
        from collapsecheck.families.gaussian.theory.steps import _digamma_minus_log

        want = float(MP.digamma(k) - MP.log(k))
        assert _digamma_minus_log(k) == pytest.approx(want, rel=1e-13)

    def test_centered_log_cf_at_small_t(self):
        # L(t) = log G(k + it) - log G(k) - it psi(k) is about -t^2 psi'(k)/2 at small t: the
        # series keeps its relative accuracy there (the direct difference of log-gammas
        # would leave an absolute error of ~1e-16, 1e-7 relative at t = 1e-4); mpmath
        from collapsecheck.families.gaussian.theory.steps import _centered_log_cf

        k = 5.0
        t = np.array([1e-4, -3e-3, 0.3, 1.25])
        want = [complex(MP.loggamma(k + 1j * MP.mpf(v)) - MP.loggamma(k)
                        - 1j * MP.mpf(v) * MP.digamma(k)) for v in t]
        got = _centered_log_cf(t, k)
        np.testing.assert_allclose(got.real, np.real(want), rtol=1e-12)
        np.testing.assert_allclose(got.imag, np.imag(want), rtol=1e-12)

    def test_prob_below_far_above_every_step(self):
        # exp(threshold) overflows past 709: P(X < threshold) = 1 exactly; just below, the
        # chi-square CDF at (n - d) e^700 / 2 is 1 to double precision as well
        from collapsecheck.families.gaussian.theory.steps import StepLaw

        assert StepLaw(5).prob_below(800.0) == 1.0
        assert StepLaw(5, 1.0).prob_below(700.0) == 1.0

    def test_cumulant_order_is_checked(self):
        from collapsecheck.families.gaussian.theory.steps import StepLaw

        with pytest.raises(ValueError, match=r"^`j` must be >= 1; got 0\.$"):
            StepLaw(5).cumulant(0)

    @pytest.mark.parametrize(
        ("n", "d", "error", "message"),
        [(2.0, 0.0, TypeError, "`n` must be a whole number; got 2.0."),
         (True, 0.0, TypeError, "`n` must be a whole number; got True."),
         (1, 0.0, ValueError, "`n` must be at least 2; got 1."),
         (5, -0.5, ValueError, "`ddof` must satisfy 0 <= ddof < n; got ddof=-0.5 with n=5."),
         (5, 5.0, ValueError, "`ddof` must satisfy 0 <= ddof < n; got ddof=5.0 with n=5."),
         (5, math.nan, ValueError, "`ddof` must satisfy 0 <= ddof < n; got ddof=nan with n=5.")],
    )
    def test_step_iv(self, n, d, error, message):
        from collapsecheck.families.gaussian.theory.steps import StepLaw, log_sigma2_drift

        with pytest.raises(error) as info:
            log_sigma2_drift(n, d)
        assert str(info.value) == message
        with pytest.raises(error):
            StepLaw(n, d)

    def test_boundaries_are_allowed(self):
        from collapsecheck.families.gaussian.theory.steps import StepLaw, log_sigma2_drift

        assert log_sigma2_drift(np.int64(2), 0.0) == pytest.approx(mp_drift(2, 0.0), rel=1e-13)
        assert StepLaw(5, 4.999).drift == pytest.approx(mp_drift(5, 4.999), rel=1e-12)

    @pytest.mark.parametrize(
        ("T", "error", "message"),
        [(1.0, TypeError, "`generations` must be a whole number; got 1.0."),
         (False, TypeError, "`generations` must be a whole number; got False."),
         (-1, ValueError, "`generations` must be 0 or more; got -1.")],
    )
    def test_horizon_iv(self, T, error, message):
        from collapsecheck.theory import log_sigma_moment

        with pytest.raises(error) as info:
            log_sigma_moment(T, 10)
        assert str(info.value) == message
        assert log_sigma_moment(np.int64(0), 10) == 0.0

    @pytest.mark.parametrize("k", [1.0, 4.5, 499.5])
    def test_centred_log_cf_on_both_branches(self, k):
        from collapsecheck.families.gaussian.theory.steps import _centered_log_cf

        t = np.array([0.0, 1e-3, -0.2, k / 8, -k / 4, k / 4 * 1.001, 3 * k, -40.0, 1.0])
        got = _centered_log_cf(t, k)
        for ti, gi in zip(t, got, strict=True):
            want = (MP.loggamma(k + 1j * MP.mpf(ti)) - MP.loggamma(k)
                    - 1j * MP.mpf(ti) * MP.digamma(k))
            assert gi.real == pytest.approx(float(want.real), rel=1e-10, abs=1e-14)
            assert gi.imag == pytest.approx(float(want.imag), rel=1e-10, abs=1e-14)
        # only the direct branch (every |t| > k/4, or t = 0)
        big = np.array([0.0, 1.0, 2 * k, -3 * k]) if k < 4 else np.array([0.0, 2 * k, -3 * k])
        for ti, gi in zip(big, _centered_log_cf(big, k), strict=True):
            want = (MP.loggamma(k + 1j * MP.mpf(ti)) - MP.loggamma(k)
                    - 1j * MP.mpf(ti) * MP.digamma(k))
            assert complex(gi) == pytest.approx(complex(want), rel=1e-10, abs=1e-14)

    @pytest.mark.parametrize(("log_r", "T"), [(-0.5, 1), (-1e-9, 7), (-3.0, 50), (0.0, 9),
                                              (1e-9, 7), (0.7, 30), (2.0, 1)])
    def test_log_geometric_sum(self, log_r, T):
        from collapsecheck.families.gaussian.theory.steps import _log_geometric_sum

        r = MP.exp(MP.mpf(log_r))
        want = float(MP.log(MP.fsum(r**t for t in range(T))))
        assert _log_geometric_sum(log_r, T) == pytest.approx(want, rel=1e-12, abs=1e-15)
        assert _log_geometric_sum(log_r, 0) == -math.inf


# ---------------------------------------------------------------------------------------
# Exact theory: the replace regime (families/gaussian/theory/replace.py)
# ---------------------------------------------------------------------------------------


def mp_mu4(T, n, d, sigma0):
    """E[(mu_T - mu_0)^4] by an independent exact recursion in mpmath: with
    A_t = mu_t - mu_0 = A_{t-1} + sigma_{t-1} Z/sqrt(n), sigma_t^2 = sigma_{t-1}^2 Q/(n - d),
    Z ~ N(0, 1) and Q ~ chi2(n - 1) independent of each other and of the past,
        E[A_t^4]            = E[A^4] + 6 E[A^2 s^2]/n + 3 E[s^4]/n^2,
        E[A_t^2 s_t^2]      = r (E[A^2 s^2] + E[s^4]/n),        r = (n - 1)/(n - d),
        E[s_t^4]            = q E[s^4],                         q = (n^2 - 1)/(n - d)^2."""
    n, d = MP.mpf(n), MP.mpf(d)
    r, q = (n - 1) / (n - d), (n * n - 1) / (n - d) ** 2
    a4, a2s2, s4 = MP.mpf(0), MP.mpf(0), MP.mpf(sigma0) ** 4
    for _ in range(T):
        a4, a2s2, s4 = a4 + 6 * a2s2 / n + 3 * s4 / n**2, r * (a2s2 + s4 / n), q * s4
    return float(a4)


class TestReplace:
    @pytest.mark.parametrize("k", [2.0, 29.9, 30.0, 31.0, 499.5, 1e5])
    @pytest.mark.parametrize("a", [-0.5, 0.5, 1.0, 2.0, 8.0, 8.5])
    def test_log_gamma_ratio_excess(self, k, a):
        from collapsecheck.families.gaussian.theory.replace import _log_gamma_ratio_excess

        want = float(MP.loggamma(MP.mpf(k) + a) - MP.loggamma(k) - a * MP.log(k))
        if k >= 30 and abs(a) <= 8:  # the series
            assert _log_gamma_ratio_excess(k, a) == pytest.approx(want, rel=1e-12, abs=1e-16)
        else:  # the direct difference of two log-gammas of size k log k cancels
            assert _log_gamma_ratio_excess(k, a) == pytest.approx(
                want, rel=1e-12, abs=1e-14 * k * max(1.0, math.log(k)))

    @pytest.mark.parametrize(("T", "n", "d"), [(1, 2, 0.0), (3, 5, 1.0), (40, 100, 0.0),
                                               (1000, 1000, 0.5)])
    def test_moments_against_mpmath(self, T, n, d):
        from collapsecheck.theory import log_mu_var, log_sigma_moment, mu_var

        k, s0 = MP.mpf(n - 1) / 2, 1.7
        for p in (1.0, 2.0, -0.5, 4.0, 0.3):
            want = p * MP.log(s0) + T * (p / 2 * MP.log(MP.mpf(2) / (n - MP.mpf(d)))
                                         + MP.loggamma(k + MP.mpf(p) / 2) - MP.loggamma(k))
            assert log_sigma_moment(T, n, d, s0, p) == pytest.approx(float(want), rel=1e-12,
                                                                     abs=1e-13)
        arr = log_sigma_moment(T, n, d, s0, np.array([1.0, 2.0]))
        assert arr.shape == (2,) and arr[1] == pytest.approx(log_sigma_moment(T, n, d, s0, 2.0))
        r = (MP.mpf(n) - 1) / (n - MP.mpf(d))
        want = MP.mpf(s0) ** 2 / n * MP.fsum(r**t for t in range(T))
        assert mu_var(T, n, d, s0) == pytest.approx(float(want), rel=1e-12)
        assert log_mu_var(T, n, d, s0) == pytest.approx(float(MP.log(want)), rel=1e-12)
        assert log_mu_var(0, n, d, s0) == -math.inf and mu_var(0, n, d, s0) == 0.0

    def test_moment_order_is_checked(self):
        from collapsecheck.theory import log_sigma_moment

        with pytest.raises(ValueError) as info:
            log_sigma_moment(2, 5, 0.0, 1.0, -4.0)
        assert str(info.value) == "`p` must exceed -(n - 1) = -4; got -4.0."
        assert math.isfinite(log_sigma_moment(2, 5, 0.0, 1.0, -3.9))

    @pytest.mark.parametrize(("T", "n", "d", "s0"), [(1, 2, 0.0, 1.0), (2, 3, 1.0, 2.0),
                                                     (7, 10, 0.5, 0.7), (50, 1000, 0.0, 1.3)])
    def test_mu_fourth_moment_against_a_recursion(self, T, n, d, s0):
        from collapsecheck.families.gaussian.theory.replace import mu_fourth_moment

        assert mu_fourth_moment(T, n, d, s0) == pytest.approx(mp_mu4(T, n, d, s0), rel=1e-11)
        assert mu_fourth_moment(0, n, d, s0) == 0.0

    def test_law_at_horizon_zero(self):
        from collapsecheck.theory import LogVarianceLaw

        law = LogVarianceLaw(5, 0)
        assert list(law.cdf([-1e-9, 0.0, 1.0])) == [0.0, 1.0, 1.0]
        assert law.mean == 0.0 and law.sd == 0.0
        np.testing.assert_array_equal(law.ppf([0.1, 0.9]), [0.0, 0.0])
        with pytest.raises(ValueError) as info:
            law.pdf(0.0)
        assert str(info.value) == "`generations` = 0: S_0 = 0 is a point mass with no density."
        table = law.tabulated_cdf()
        assert table.nodes == 0 and table(-0.5) == 0.0 and table(0.5) == 1.0

    @pytest.mark.parametrize("q", [0.0, 1.0, -0.1, math.nan, math.inf])
    def test_ppf_refuses(self, q):
        from collapsecheck.theory import LogVarianceLaw

        with pytest.raises(ValueError) as info:
            LogVarianceLaw(5, 3).ppf([0.5, q])
        assert str(info.value).startswith("`q` must lie strictly between 0 and 1; got [")

    @pytest.mark.parametrize(("n", "q"), [(2, 1e-6), (2, 1e-4), (5, 1e-6), (5, 1e-5)])
    def test_ppf_far_in_the_tails_of_one_step(self, n, q):
        # beyond the initial bracket [-4, 4] SDs: the bracket is widened until it holds
        from collapsecheck.theory import LogVarianceLaw

        law = LogVarianceLaw(n, 1)
        want = math.log(float(stats.chi2.ppf(q, n - 1)) / n)
        assert abs((want - law.mean) / law.sd) > 4
        # F is accurate to ~1e-12 absolute, the density here is ~q: x to ~1e-12/q
        assert float(law.ppf(q)) == pytest.approx(want, abs=1e-5)

    def test_law_cumulants_and_moments(self):
        from collapsecheck.theory import LogVarianceLaw, StepLaw

        law, step = LogVarianceLaw(12, 9, 0.5), StepLaw(12, 0.5)
        assert law.step == step
        assert law.mean == pytest.approx(9 * step.drift, rel=1e-15)
        assert law.sd == pytest.approx(math.sqrt(9 * step.var), rel=1e-15)
        for j in (1, 2, 3):
            assert law.cumulant(j) == pytest.approx(9 * step.cumulant(j), rel=1e-15)

    def test_pdf_and_cdf_are_consistent(self):
        from collapsecheck.theory import LogVarianceLaw

        law = LogVarianceLaw(4, 3, 1.0)
        x = law.mean + law.sd * np.array([-2.0, 0.3, 1.5])
        h = 1e-4 * law.sd
        deriv = (law.cdf(x + h) - law.cdf(x - h)) / (2 * h)
        np.testing.assert_allclose(law.pdf(x), deriv, rtol=1e-6)
        # far in the tail the inversion leaves noise of either sign near 1e-16: clipped at 0,
        # never negative (a grid, so that the clip is met whatever the noise's sign)
        tail = law.pdf(law.mean + law.sd * np.linspace(20, 80, 400))
        assert tail.min() == 0.0 and np.count_nonzero(tail == 0) > 10
        assert tail.max() < 1e-15
        assert float(law.cdf(law.mean - 80 * law.sd)) == 0.0
        assert float(law.cdf(law.mean + 80 * law.sd)) == 1.0

    def test_tabulated_cdf_inside_and_outside_its_nodes(self):
        from collapsecheck.families.gaussian.theory.replace import TABULATED_CDF_ERROR, TabulatedCDF
        from collapsecheck.theory import LogVarianceLaw

        law = LogVarianceLaw(6, 4)
        table = TabulatedCDF(law)
        assert table.nodes > 100 and table.step <= 1 / 32
        assert table.max_node_error <= TABULATED_CDF_ERROR / 10
        lo, hi = table.y_range
        assert lo <= -8 and hi >= 8
        y = np.array([lo - 3, lo + 0.01, -1.3, 0.0, 0.77, 5.0, hi - 0.01, hi + 2])
        x = law.mean + law.sd * y
        np.testing.assert_allclose(table(x), law.cdf(x), rtol=0, atol=TABULATED_CDF_ERROR)
        assert table(x[3]) == pytest.approx(float(law.cdf(x[3])), abs=TABULATED_CDF_ERROR)
        assert law.tabulated_cdf() is LogVarianceLaw(6, 4).tabulated_cdf()  # cached

    def test_sample_shapes_and_reproducibility(self):
        from collapsecheck.theory import LogVarianceLaw

        law = LogVarianceLaw(7, 3)
        one = law.sample(rng=5)
        assert isinstance(one, float)
        a, b = law.sample((4, 3), rng=np.random.default_rng(2)), law.sample((4, 3), rng=2)
        assert a.shape == (4, 3)
        np.testing.assert_array_equal(a, b)
        # inversion: the draws are F^-1(U) for the generator's uniforms
        u = np.random.default_rng(2).random((4, 3))
        np.testing.assert_allclose(law.cdf(a), u, atol=1e-9)

    def test_sigma_quantiles_and_keys(self):
        from collapsecheck.theory import LogVarianceLaw, sigma_quantiles

        law = LogVarianceLaw(9, 5, 1.0)
        got = sigma_quantiles(5, 9, 1.0, 2.5, levels=(0.1, 0.5, 0.975))
        assert list(got) == ["0.1", "0.5", "0.975"]
        for level, v in got.items():
            assert v == pytest.approx(math.log(2.5) + 0.5 * float(law.ppf(float(level))),
                                      rel=1e-13)
        assert list(sigma_quantiles(5, 9)) == ["0.025", "0.5", "0.975"]

    def test_predict_fields(self):
        from collapsecheck import Experiment
        from collapsecheck.theory import (
            LogVarianceLaw,
            StepLaw,
            log_mu_var,
            log_sigma_moment,
            predict,
            sigma_quantiles,
        )

        e = Experiment(n=8, generations=6, replicates=1, ddof=0.5, mu0=-1.5, sigma0=2.0,
                       seed=0)
        p = predict(e)
        law, step = LogVarianceLaw(8, 6, 0.5), StepLaw(8, 0.5)
        assert (p.n, p.generations, p.ddof, p.mu0, p.sigma0) == (8, 6, 0.5, -1.5, 2.0)
        assert p.log_sigma2_drift == step.drift and p.log_sigma2_step_var == step.var
        assert p.log_sigma2_mean == pytest.approx(2 * math.log(2.0) + 6 * step.drift)
        assert p.log_sigma2_sd == pytest.approx(law.sd)
        assert p.ln_sigma_mean == log_sigma_moment(6, 8, 0.5, 2.0, 1.0)
        assert p.ln_sigma2_mean == log_sigma_moment(6, 8, 0.5, 2.0, 2.0)
        assert p.ln_mu_var == log_mu_var(6, 8, 0.5, 2.0)
        assert p.ln_sigma_quantiles == sigma_quantiles(6, 8, 0.5, 2.0)
        assert p.prob_step_shrinks == pytest.approx(stats.chi2.cdf(7.5, 7), rel=1e-12)
        assert p.sigma_mean == pytest.approx(math.exp(p.ln_sigma_mean), rel=1e-15)
        assert p.sigma2_mean == pytest.approx(math.exp(p.ln_sigma2_mean), rel=1e-15)
        assert p.mu_var == pytest.approx(math.exp(p.ln_mu_var), rel=1e-15)
        assert p.mu_mean == -1.5
        assert p.sigma_quantiles == {k: pytest.approx(math.exp(v), rel=1e-15)
                                     for k, v in p.ln_sigma_quantiles.items()}

    @pytest.mark.parametrize(("n", "d"), [(2, 0.0), (10, 0.0), (10, 1.0), (1000, 0.0),
                                          (1000, 0.5)])
    def test_lundberg_exponent_against_mpmath(self, n, d):
        from collapsecheck.theory import lundberg_exponent

        k = MP.mpf(n - 1) / 2

        def f(r):
            return r * MP.log(MP.mpf(2) / (n - MP.mpf(d))) + MP.loggamma(k + r) - MP.loggamma(k)

        got = lundberg_exponent(n, d)
        want = MP.findroot(f, got)
        assert got == pytest.approx(float(want), rel=1e-12)
        assert abs(f(MP.mpf(got) * (1 - MP.mpf(10) ** -6))) > 0  # the positive root, not 0
        if d == 1.0:
            assert got == pytest.approx(1.0, rel=1e-12)

    def test_lundberg_refuses_upward_drift(self):
        from collapsecheck.theory import lundberg_exponent

        with pytest.raises(ValueError) as info:
            lundberg_exponent(10, 5.0)
        msg = str(info.value)
        assert msg.startswith("the walk must drift down (E[X] < 0) for a Lundberg exponent to "
                              "exist; got E[X]=")
        assert msg.endswith(" with n=10, ddof=5.0.")

    @pytest.mark.parametrize(("n", "d", "b"), [(5, 0.0, 0.5), (1000, 0.0, 0.21), (20, 1.0, 2.0)])
    def test_siegmund_formula(self, n, d, b):
        from collapsecheck.theory import (
            SIEGMUND_RHO,
            log_sigma2_step_var,
            lundberg_exponent,
            siegmund_recovery_approximation,
        )

        assert SIEGMUND_RHO == pytest.approx(float(-MP.zeta(0.5) / MP.sqrt(2 * MP.pi)),
                                             rel=1e-14)
        want = math.exp(-lundberg_exponent(n, d) * (b + SIEGMUND_RHO
                                                     * math.sqrt(log_sigma2_step_var(n))))
        assert siegmund_recovery_approximation(n, d, b) == pytest.approx(want, rel=1e-13)

    def test_recovery_record(self):
        from collapsecheck.theory import lundberg_exponent, prob_ever_recovers

        rec = prob_ever_recovers(5, 0.0, 0.5, horizon=40)
        assert (rec.n, rec.ddof, rec.b, rec.horizon) == (5, 0.0, 0.5, 40)
        assert float(rec) == rec.probability == rec.within(40) == rec.within(10**6)
        assert rec.within(0) == 0.0 and 0 < rec.within(1) < rec.within(2) < rec.within(40)
        assert rec.lundberg_bound == pytest.approx(math.exp(-lundberg_exponent(5) * 0.5),
                                                   rel=1e-14)
        assert rec.lower <= rec.upper and rec.steps >= 40 and rec.grid_step > 0
        one = stats.chi2.sf(5 * math.exp(0.5), 4)  # P(X_1 >= b), exact
        assert rec.within(1) == pytest.approx(one, rel=1e-10)
        with pytest.raises(ValueError, match="`generations` must be 0 or more"):
            rec.within(-1)

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [({"b": True}, "`b` must be a finite number > 0; got True."),
         ({"b": -0.5}, "`b` must be a finite number > 0; got -0.5."),
         ({"b": math.nan}, "`b` must be a finite number > 0; got nan."),
         ({"horizon": 0}, "`horizon` must be at least 1 (or None for ever); got 0."),
         ({"points_per_sd": 1}, "`points_per_sd` must be a whole number >= 2; got 1."),
         ({"points_per_sd": 4.0}, "`points_per_sd` must be a whole number >= 2; got 4.0."),
         ({"tol": 0.0}, "`tol` must lie in (0, 1e-3); got 0.0."),
         ({"tol": 1e-3}, "`tol` must lie in (0, 1e-3); got 0.001."),
         ({"max_steps": 0}, "`max_steps` must be a whole number >= 1; got 0."),
         ({"max_steps": 2.0}, "`max_steps` must be a whole number >= 1; got 2.0.")],
    )
    def test_recovery_iv(self, kwargs, message):
        from collapsecheck.theory import prob_ever_recovers

        with pytest.raises(ValueError) as info:
            prob_ever_recovers(10, 0.0, **{"b": 0.5, **kwargs})
        assert str(info.value) == message

    def test_recovery_boundaries_are_allowed(self):
        from collapsecheck.theory import prob_ever_recovers

        rec = prob_ever_recovers(10, 0.0, 0.5, horizon=1, points_per_sd=2, tol=9.9e-4,
                                 max_steps=1)
        assert rec.within(1) == pytest.approx(stats.chi2.sf(10 * math.exp(0.5), 9), rel=1e-10)


# ---------------------------------------------------------------------------------------
# Exact theory: the prediction records (families/gaussian/theory/prediction.py)
# ---------------------------------------------------------------------------------------


class TestPrediction:
    def test_exp_or_inf(self):
        from collapsecheck.families.gaussian.theory.prediction import exp_or_inf

        assert exp_or_inf(None) is None
        assert exp_or_inf(709.78) == math.exp(709.78) and math.isfinite(exp_or_inf(709.78))
        assert exp_or_inf(709.7801) == math.inf and exp_or_inf(1e6) == math.inf
        assert exp_or_inf(-1.5) == math.exp(-1.5) and exp_or_inf(-1e6) == 0.0

    def test_final_record_of_a_regime_prediction(self):
        from collapsecheck.families.gaussian.theory.prediction import RegimePrediction

        p = RegimePrediction(regime="mix", generations=4, mu0=0.5, sigma0=2.0,
                             ln_sigma2_mean=0.25, ln_mu_var=-1.0, log_sigma2_mean=0.1,
                             log_sigma2_sd=0.3, ln_sigma_mean=-0.2,
                             ln_sigma_quantiles={"0.5": -0.4})
        assert p.final() == {
            "sigma_mean": math.exp(-0.2), "sigma2_mean": math.exp(0.25),
            "log_sigma2_mean": 0.1, "log_sigma2_sd": 0.3, "mu_mean": 0.5,
            "mu_var": math.exp(-1.0), "sigma_quantiles": {"0.5": math.exp(-0.4)},
            "log_scale": {"sigma_mean": -0.2, "sigma2_mean": 0.25, "mu_var": -1.0,
                          "sigma_quantiles": {"0.5": -0.4}}}
        bare = RegimePrediction(regime="truncate", generations=1, mu0=0.0, sigma0=1.0,
                                ln_sigma2_mean=None, ln_mu_var=None)
        assert bare.final() == {
            "sigma_mean": None, "sigma2_mean": None, "log_sigma2_mean": None,
            "log_sigma2_sd": None, "mu_mean": 0.0, "mu_var": None, "sigma_quantiles": None,
            "log_scale": {"sigma_mean": None, "sigma2_mean": None, "mu_var": None,
                          "sigma_quantiles": None}}
        assert bare.exact == () and bare.methods == {} and bare.notes == ()
        assert bare.stationary is None and bare.limit is None

    def test_final_record_of_the_replace_chain(self):
        from collapsecheck import Experiment
        from collapsecheck.theory import predict

        p = predict(Experiment(n=10, generations=3, replicates=1, mu0=1.0, sigma0=0.5,
                               seed=0))
        f = p.final()
        assert f["sigma_mean"] == p.sigma_mean and f["mu_var"] == p.mu_var
        assert f["mu_mean"] == 1.0 and f["log_sigma2_sd"] == p.log_sigma2_sd
        assert f["log_scale"] == {"sigma_mean": p.ln_sigma_mean,
                                  "sigma2_mean": p.ln_sigma2_mean, "mu_var": p.ln_mu_var,
                                  "sigma_quantiles": p.ln_sigma_quantiles}
        assert f["sigma_quantiles"] == p.sigma_quantiles


class TestTable:
    def test_empty_table_at_horizon_zero(self):
        from collapsecheck.families.gaussian.theory.replace import TabulatedCDF
        from collapsecheck.theory import LogVarianceLaw

        t = TabulatedCDF(LogVarianceLaw(4, 0))
        assert t.poly is None and t.nodes == 0
        assert all(math.isnan(v) for v in (*t.y_range, t.step, t.max_node_error))
        one = TabulatedCDF(LogVarianceLaw(4, 1))  # one generation is tabulated
        assert one.nodes > 0 and one.poly is not None

    @pytest.mark.parametrize(("n", "T"), [(6, 4), (2, 1), (1000, 1000), (3, 10)])
    def test_range_nodes_and_recorded_error(self, n, T):
        # documented construction: from +-8 SDs outward in steps of 4 until F (or 1 - F)
        # falls to 1e-14 or 64 SDs are reached; equally spaced nodes at the accepted step;
        # max_node_error is the largest |table - exact| at the node midpoints
        from collapsecheck.families.gaussian.theory.replace import TabulatedCDF
        from collapsecheck.theory import LogVarianceLaw

        law = LogVarianceLaw(n, T)

        def f(y):
            return float(law.cdf(law.mean + law.sd * y))

        lo, hi = -8.0, 8.0
        while lo > -64 and f(lo) > 1e-14:
            lo -= 4.0
        while hi < 64 and 1.0 - f(hi) > 1e-14:
            hi += 4.0
        t = TabulatedCDF(law)
        assert t.y_range == (lo, hi)
        x = t.poly.x
        assert t.nodes == x.size == round((hi - lo) / t.step) + 1
        np.testing.assert_allclose(np.diff(x), t.step, rtol=1e-9)
        assert x[0] == lo and x[-1] == pytest.approx(hi, abs=1e-12)
        mid = (x[:-1] + x[1:]) / 2
        err = np.max(np.abs(np.clip(t.poly(mid), 0, 1) - law._standard_cdf(mid)))
        assert t.max_node_error == pytest.approx(err, rel=1e-9, abs=1e-18)

    def test_cdf_pdf_slope_at_every_point(self):
        from collapsecheck.theory import LogVarianceLaw

        law = LogVarianceLaw(5, 3)
        y = np.linspace(-6, 6, 600)  # more than one block of 256
        cdf, pdf, slope = law._standard_cdf_pdf_slope(y)
        np.testing.assert_allclose(cdf, law._standard_cdf(y), rtol=0, atol=1e-14)
        np.testing.assert_allclose(pdf, law._standard_pdf(y), rtol=0, atol=1e-14)
        h = 1e-5
        num = (law._standard_pdf(y + h) - law._standard_pdf(y - h)) / (2 * h)
        np.testing.assert_allclose(slope, num, rtol=0, atol=1e-7)

    def test_mu_fourth_moment_defaults(self):
        from collapsecheck.families.gaussian.theory.replace import mu_fourth_moment

        assert mu_fourth_moment(5, 7) == pytest.approx(mp_mu4(5, 7, 0.0, 1.0), rel=1e-11)


def test_moment_defaults():
    from collapsecheck.theory import log_sigma_moment, mu_var

    r = MP.mpf(999) / 1000
    assert mu_var(7, 1000) == pytest.approx(float(MP.fsum(r**t for t in range(7)) / 1000),
                                            rel=1e-13)
    assert log_sigma_moment(7, 1000) == log_sigma_moment(7, 1000, 0.0, 1.0, 1.0)


def test_recovery_ever_bracket_at_small_n():
    # "ever" (no horizon): the bracket [lower, upper] holds the fine grid's value to the
    # stopping tolerance, below the Lundberg bound; the extrapolated value is inside it up
    # to the discretisation error, and agrees with the tilted estimate of test_theory_extras
    from collapsecheck.theory import lundberg_exponent, prob_ever_recovers

    rec = prob_ever_recovers(5, 0.0, 0.5)
    assert rec.horizon is None
    assert 0 < rec.lower <= rec.upper < rec.lower + 1e-8
    assert rec.upper < rec.lundberg_bound == pytest.approx(
        math.exp(-0.5 * lundberg_exponent(5)), rel=1e-14)
    assert abs(rec.probability - rec.lower) < 3 * rec.discretisation_error + 1e-8
    assert rec.discretisation_error < 1e-3
    assert rec.within(rec.steps) == rec.probability


def test_defaults_and_return_types():
    from collapsecheck.theory import LogVarianceLaw, log_mu_var, log_sigma_moment, sigma_quantiles

    k = MP.mpf(9) / 2
    want = float(0.5 * MP.log(MP.mpf(2) / 10) + MP.loggamma(k + 0.5) - MP.loggamma(k)) * 3
    got = log_sigma_moment(3, 10)
    assert isinstance(got, float) and got == pytest.approx(want, rel=1e-12)
    r = MP.mpf(9) / 10
    assert log_mu_var(3, 10) == pytest.approx(float(MP.log((1 + r + r * r) / 10)), rel=1e-12)
    law = LogVarianceLaw(10, 3)
    got = sigma_quantiles(3, 10)
    assert got["0.5"] == pytest.approx(0.5 * float(law.ppf(0.5)), rel=1e-12)
    # level keys are format(p, "g"): short, lower-case exponents
    assert list(sigma_quantiles(3, 10, levels=(1e-5, 0.1 + 0.2))) == ["1e-05", "0.3"]
