"""Tests written to kill mutants of the regimes' exact theory that survived
``tools/mutation.py`` (reports/mutation/): accumulate, mix, truncate, temperature, sampling,
subsample, n-growth and the special functions. Each number is checked against an
independent reference (mpmath, a closed form, or a direct loop written here from the
documented recursion), every input check by its exact message, and each prediction record
by its documented shape and wording."""

import math

import numpy as np
import pytest

mpmath = pytest.importorskip("mpmath")
MP = mpmath.mp.clone() if hasattr(mpmath.mp, "clone") else mpmath.mp
MP.dps = 30


# ---------------------------------------------------------------------------------------
# Accumulate (families/gaussian/theory/accumulate.py)
# ---------------------------------------------------------------------------------------


def accumulate_loop(n, ddof, f, n_growth, terms):
    """v_T / v_0, sum_t f v_{t-1} n_t / N_t^2 and N_T by the documented recursion
    E Q_t = E Q_{t-1} + f v_{t-1}(n_t - 1 + N_{t-1}/N_t), v_t = E Q_t/(N_t - d), in a plain
    float loop (independent of the module's log-space blocks)."""
    from collapsecheck.experiment import n_at

    eq, v, w, big = 0.0, 1.0, 0.0, 0
    for t in range(1, terms + 1):
        nt = n_at(n, n_growth, t)
        big_prev, big = big, big + nt
        w += f * v * nt / big**2
        eq += f * v * (nt - 1 + big_prev / big)
        v = eq / (big - ddof)
    return v, w, float(big)


class TestAccumulateLimit:
    ROUNDING = 1e-12  # the documented relative rounding allowance

    @pytest.mark.parametrize(("n", "ddof", "p", "terms"), [
        (3, 1.0, 0.0, 64), (4, 0.5, 1.0, 64), (5, 0.0, 0.5, 50), (2, 1.5, 0.0, 200),
        (2, 0.0, 1.0, 1)])  # the last: (P+1)(1+1/n)/(T0+1) = 1.5, so rho is capped at 1
    def test_f_one_bracket_as_documented(self, n, ddof, p, terms):
        # f = 1: -log g_t = -log(1 - x_t), x_t = n_t/(N_t(N_t - d)); the tail after T0 is
        # bracketed by (1 - rho)/N <= sum x_t and -sum log(1 - x_t) <= 1/((N - d)(1 - xmax)),
        # rho = (P + 1)(1 + 1/n)/(T0 + 1); the limit is the bracket's midpoint, its error
        # the half-width plus 1e-12 relative. Few terms make the bracket wide (1e-3), so
        # each part of it is visible.
        from collapsecheck.families.gaussian.theory.accumulate import accumulate_limit

        v, w, big = accumulate_loop(n, ddof, 1.0, p, terms)
        rho = min(1.0, (p + 1) * (1 + 1 / n) / (terms + 1))
        xmax = 1 / (big - ddof)
        v_hi = v * math.exp(-(1 - rho) / big)
        v_lo = v * math.exp(-1 / ((big - ddof) * (1 - xmax)))
        w_lo, w_hi = w + v_lo * (1 - rho) / big, w + v / big
        lim = accumulate_limit(n, ddof, 2.0, n_growth=p, terms=terms)
        assert lim["terms"] == terms and lim["variance_factor"] == 1.0
        mu_var = (w_lo + w_hi) / 2
        assert lim["mu_var"] == pytest.approx(4 * mu_var, rel=1e-10)
        assert lim["mu_var_error"] == pytest.approx(
            4 * ((w_hi - w_lo) / 2 + self.ROUNDING * mu_var), rel=1e-8)
        if ddof == 0 and p == 0:
            x = math.pi / math.sqrt(n)
            assert lim["sigma2_mean"] == 4 * math.sin(x) / x
            assert lim["sigma2_mean_error"] == 0.0
        else:
            sigma2 = (v_hi + v_lo) / 2
            assert lim["sigma2_mean"] == pytest.approx(4 * sigma2, rel=1e-10)
            assert lim["sigma2_mean_error"] == pytest.approx(
                4 * ((v_hi - v_lo) / 2 + self.ROUNDING * sigma2), rel=1e-8)

    @pytest.mark.parametrize(("n", "ddof"), [(3, 1.0), (6, 0.5)])
    def test_f_one_limit_against_mpmath_product(self, n, ddof):
        # fixed n, f = 1: E sigma_inf^2 = (n - 1)/(n - d) prod_{t>=2} (1 - 1/(t (n t - d)))
        # (mpmath's nsum of the log-factors, 30 digits); the stated error covers it and is
        # below 1e-11 relative.
        from collapsecheck.families.gaussian.theory.accumulate import accumulate_limit

        s = MP.nsum(lambda t: MP.log1p(-1 / (t * (n * t - ddof))), [2, MP.inf])
        want = float(MP.mpf(n - 1) / (n - ddof) * MP.exp(s))
        lim = accumulate_limit(n, ddof)
        assert abs(lim["sigma2_mean"] - want) <= lim["sigma2_mean_error"]
        assert lim["sigma2_mean_error"] < 1e-11 * want

    @pytest.mark.parametrize("n", [3, 7])
    def test_f_one_ddof_zero_conserves(self, n):
        # d = 0, f = 1: E sigma_t^2 + Var(mu_t) = sigma0^2 at every t, so in the limit
        # Var(mu_inf) = sigma0^2 (1 - sin(x)/x), x = pi/sqrt(n) (Euler); defaults: d = 0,
        # sigma0 = 1, no cut, tau = 1, fixed n.
        from collapsecheck.families.gaussian.theory.accumulate import accumulate_limit

        x = math.pi / math.sqrt(n)
        lim = accumulate_limit(n)
        want = 1 - math.sin(x) / x
        assert abs(lim["mu_var"] - want) <= lim["mu_var_error"] + 1e-15
        assert lim["mu_var_error"] < 1e-11
        assert lim["sigma2_mean"] == math.sin(x) / x
        assert lim["method"] == (
            "recursion to `terms` generations plus the telescoping tail bracket "
            "(1 - rho)/N <= sum x_t <= 1/(N - d); sigma2_mean: Euler's product "
            "sin(pi/sqrt n)/(pi/sqrt n); errors include a rounding allowance of 1e-12 "
            "relative")

    def test_f_one_rounding_allowance_at_full_terms(self):
        # 2^20 terms: the bracket of Var(mu) is ~3e-13 wide, the same size as the rounding
        # allowance 1e-12 mu_var, so the stated error shows both; v_T0 is the finite
        # product (1 - 1/(n t^2)) over t <= T0 and w_T0 = 1 - v_T0 (conservation, d = 0).
        from collapsecheck.families.gaussian.theory.accumulate import LIMIT_TERMS, accumulate_limit

        n = 3
        t = np.arange(1, LIMIT_TERMS + 1, dtype=float)
        v = math.exp(math.fsum(np.log1p(-1 / (n * t * t))))
        w = 1 - v
        big = n * LIMIT_TERMS
        rho = (1 + 1 / n) / (LIMIT_TERMS + 1)
        xmax = 1 / big
        v_lo = v * math.exp(-1 / (big * (1 - xmax)))
        half = (v / big - v_lo * (1 - rho) / big) / 2
        lim = accumulate_limit(n)
        assert lim["mu_var"] == pytest.approx(w + (v / big + v_lo * (1 - rho) / big) / 2,
                                              rel=1e-12)
        assert lim["mu_var_error"] == pytest.approx(half + 1e-12 * lim["mu_var"], rel=1e-3)

    def test_f_below_one(self):
        # tau = 0.9, f = 0.81: E sigma_T^2 -> 0 exactly (error 0); Var(mu) is the recursion
        # plus the tail bound f v_T0/N_T0
        from collapsecheck.families.gaussian.theory.accumulate import accumulate_limit

        n, ddof, f, terms = 4, 1.0, 0.81, 40
        v, w, big = accumulate_loop(n, ddof, f, 0.0, terms)
        lim = accumulate_limit(n, ddof, 3.0, temperature=0.9, terms=terms)
        assert lim["sigma2_mean"] == 0.0 and lim["sigma2_mean_error"] == 0.0
        assert lim["variance_factor"] == pytest.approx(f, rel=1e-15)
        hi = w + f * v / big
        assert lim["mu_var"] == pytest.approx(9 * (w + hi) / 2, rel=1e-10)
        assert lim["mu_var_error"] == pytest.approx(
            9 * ((hi - w) / 2 + 1e-12 * (w + hi) / 2), rel=1e-8)
        assert lim["method"] == (
            "sigma2_mean -> 0 (sum log g_t -> -inf); mu_var: recursion plus the tail bound "
            "f v_T0/N_T0; errors include a rounding allowance of 1e-12 relative")

    @pytest.mark.parametrize(("n", "ddof", "terms"), [(3, 0.5, 30), (3, 0.0, 1), (5, 1.0, 1)])
    def test_f_between_one_and_two(self, n, ddof, terms):
        # tau = 1.2, f = 1.44: E sigma^2 diverges (None); Var(mu)'s tail lies in
        # [f v (1 - rho)/N (0 unless N > f/(f - 1)), f v (N - d)^(1-f) N^(f-2)/(2 - f)]
        from collapsecheck.families.gaussian.theory.accumulate import accumulate_limit

        f = 1.2**2
        v, w, big = accumulate_loop(n, ddof, f, 0.0, terms)
        rho = min(1.0, (1 + 1 / n) / (terms + 1))
        lo = f * v * (1 - rho) / big if big > f / (f - 1) else 0.0
        hi = f * v * (big - ddof) ** (1 - f) * big ** (f - 2) / (2 - f)
        lim = accumulate_limit(n, ddof, 0.5, temperature=1.2, terms=terms)
        assert lim["sigma2_mean"] is None and lim["sigma2_mean_error"] is None
        mid = w + (lo + hi) / 2
        assert lim["mu_var"] == pytest.approx(0.25 * mid, rel=1e-10)
        assert lim["mu_var_error"] == pytest.approx(0.25 * ((hi - lo) / 2 + 1e-12 * mid),
                                                    rel=1e-8)
        assert lim["method"] == (
            "sigma2_mean diverges (like T^((f-1)(P+1))); mu_var: recursion plus the tail "
            "bound from g_t <= ((N_t-d)/(N_{t-1}-d))^(f-1); errors include a rounding "
            "allowance of 1e-12 relative")

    def test_truncation_enters_the_limit(self):
        # a cut at C = 1.5 gives f = kappa(1.5) < 1 (closed form of the truncated normal's
        # variance): E sigma^2 -> 0
        from scipy import stats

        from collapsecheck.families.gaussian.theory.accumulate import accumulate_limit

        c = 1.5
        kappa = 1 - 2 * c * stats.norm.pdf(c) / (2 * stats.norm.cdf(c) - 1)
        lim = accumulate_limit(4, 0.0, truncate=c, terms=16)
        assert lim["variance_factor"] == pytest.approx(kappa, rel=1e-13)
        assert lim["sigma2_mean"] == 0.0

    def test_variance_factor_two_diverges(self):
        from collapsecheck.families.gaussian.theory.accumulate import accumulate_limit

        assert accumulate_limit(4, 0.0, temperature=1.5) is None  # f = 2.25
        # f = tau^2 kappa(3) is exactly 2.0 here: both limits diverge (the boundary belongs
        # to "None")
        from collapsecheck.families.gaussian.theory.sampling import variance_factor

        assert variance_factor(1.4334528031839082, 3.0) == 2.0
        assert accumulate_limit(4, 0.0, truncate=3.0, temperature=1.4334528031839082) is None
        assert accumulate_limit(4, 0.0, temperature=1.4142135) is not None  # f = 1.99999996


class TestIncrementLaw:
    def test_sf_and_cdf_with_scale_against_mpmath(self):
        # tau^2 (chi2_4 + 0.75 chi2_1) at 2 * 4.2: the mpmath value of
        # tests/test_theory_accumulate.py (F(4.2; k=4, a=0.75) = 0.51071476473968489)
        from collapsecheck.families.gaussian.theory.accumulate import IncrementLaw

        law = IncrementLaw(generation=2, k=4, a=0.75, scale=2.0)
        want = 0.51071476473968489
        assert law.cdf(8.4) == pytest.approx(want, abs=1e-13)
        assert law.sf(8.4) == pytest.approx(1 - want, abs=1e-13)
        np.testing.assert_allclose(law.sf([8.4, 8.4]), [1 - want] * 2, atol=1e-13)

    def test_scalar_results_are_floats(self):
        from collapsecheck.families.gaussian.theory.accumulate import (
            chi2_plus_scaled_chi2_1_cdf,
            chi2_plus_scaled_chi2_1_sf,
        )

        for fn in (chi2_plus_scaled_chi2_1_cdf, chi2_plus_scaled_chi2_1_sf):
            assert type(fn(3.0, 2, 0.5)) is float
            assert isinstance(fn([3.0], 2, 0.5), np.ndarray)

    def test_increment_law_defaults_and_generation(self):
        # defaults: fixed n, tau = 1; at t = 3, n = 5: k = 4, a = N_2/N_3 = 10/15
        from collapsecheck.families.gaussian.theory.accumulate import increment_law

        law = increment_law(3, 5)
        assert (law.generation, law.k, law.a, law.scale) == (3, 4, 10 / 15, 1.0)
        assert increment_law(np.int64(2), 5).generation == 2

    @pytest.mark.parametrize("t", [0, -1, True, 1.0])
    def test_increment_law_rejects_t(self, t):
        from collapsecheck.families.gaussian.theory.accumulate import increment_law

        with pytest.raises(ValueError) as info:
            increment_law(t, 5)
        assert str(info.value) == f"`t` must be a whole number >= 1; got {t!r}."


class TestChi2Mixture:
    @pytest.mark.parametrize(("kwargs", "message"), [
        ({"k": 0}, "`k` must be whole numbers >= 1; got 0.0."),
        ({"k": 2.5}, "`k` must be whole numbers >= 1; got 2.5."),
        ({"k": math.inf}, "`k` must be whole numbers >= 1; got inf."),
        ({"a": -0.5}, "`a` must be finite and >= 0; got -0.5."),
        ({"a": math.inf}, "`a` must be finite and >= 0; got inf."),
        ({"x": math.nan}, "`x` must not contain NaN.")])
    def test_input_checks(self, kwargs, message):
        from collapsecheck.families.gaussian.theory.accumulate import (
            chi2_plus_scaled_chi2_1_cdf,
            chi2_plus_scaled_chi2_1_sf,
        )

        args = {"x": 2.0, "k": 3, "a": 0.5, **kwargs}
        for fn in (chi2_plus_scaled_chi2_1_cdf, chi2_plus_scaled_chi2_1_sf):
            with pytest.raises(ValueError) as info:
                fn(**args)
            assert str(info.value) == message

    def test_edges(self):
        # a = 0 is chi2_k (both functions); x = +inf: cdf 1, sf 0; x <= 0: cdf 0, sf 1
        from scipy import special

        from collapsecheck.families.gaussian.theory.accumulate import (
            chi2_plus_scaled_chi2_1_cdf,
            chi2_plus_scaled_chi2_1_sf,
        )

        x = np.array([0.3, 2.0, 9.0])
        np.testing.assert_allclose(chi2_plus_scaled_chi2_1_sf(x, 3, 0.0),
                                   special.chdtrc(3, x), rtol=1e-15)
        for a in (0.0, 0.5):
            assert chi2_plus_scaled_chi2_1_sf(math.inf, 3, a) == 0.0
            assert chi2_plus_scaled_chi2_1_cdf(math.inf, 3, a) == 1.0
            assert chi2_plus_scaled_chi2_1_sf(-math.inf, 3, a) == 1.0
            assert chi2_plus_scaled_chi2_1_cdf(-math.inf, 3, a) == 0.0
            assert chi2_plus_scaled_chi2_1_sf(0.0, 3, a) == 1.0


class TestAccumulateMoments:
    def test_horizon_zero_and_defaults(self):
        from collapsecheck.families.gaussian.theory.accumulate import accumulate_moments

        assert accumulate_moments(0, 5, 1.0, 2.0) == (2 * math.log(2.0), -math.inf)
        v, w, _ = accumulate_loop(4, 0.0, 1.0, 0.0, 6)
        assert accumulate_moments(6, 4) == (pytest.approx(math.log(v), abs=1e-14),
                                            pytest.approx(math.log(w), abs=1e-14))

    def test_more_than_one_block_of_generations(self):
        # 2^20 + 1000 generations (two blocks of the vectorised recursion): with d = 0 and
        # f = 1, E sigma_T^2 + Var(mu_T) = sigma0^2 at every T, and E sigma_T^2 lies within
        # exp(1/(n T - 1)) above Euler's limit sin(x)/x, x = pi/sqrt(n)
        from collapsecheck.families.gaussian.theory.accumulate import accumulate_moments

        n, horizon = 4, (1 << 20) + 1000
        ln_v, ln_w = accumulate_moments(horizon, n)
        assert math.exp(ln_v) + math.exp(ln_w) == pytest.approx(1.0, rel=1e-12)
        x = math.pi / math.sqrt(n)
        assert 0 <= ln_v - math.log(math.sin(x) / x) <= 1 / (n * horizon - 1) + 1e-12

    def test_underflowing_variance_factor_is_refused(self):
        from collapsecheck.families.gaussian.theory.accumulate import (
            accumulate_limit,
            accumulate_moments,
        )

        for call in (lambda: accumulate_moments(3, 4, truncate=1e-170),
                     lambda: accumulate_limit(4, truncate=1e-170)):
            with pytest.raises(ValueError) as info:
                call()
            assert str(info.value) == ("`truncate` 1e-170 is so small that the variance "
                                       "factor underflows to 0.")


class TestStandardizedIncrements:
    def test_against_an_explicit_pool(self):
        # A hand-made pool (n = 2 per generation, d = 0.5): Q_t is the pooled sum of squares
        # by definition, sigma_t^2 = Q_t/(N_t - d), and the increment is
        # (Q_t - Q_{t-1})/sigma_{t-1}^2 (Q_0 = 0, sigma_0 = 1).
        from collapsecheck.families.gaussian.theory.accumulate import standardized_increments

        batches = [np.array([0.3, -1.1]), np.array([2.0, 0.4]), np.array([-0.7, 1.6])]
        for ddof in (0.0, 0.5):
            pool, q, s2 = np.empty(0), [0.0], [1.0]
            for b in batches:
                pool = np.concatenate((pool, b))
                q.append(float(np.sum((pool - pool.mean()) ** 2)))
                s2.append(q[-1] / (pool.size - ddof))
            want = [(q[t] - q[t - 1]) / s2[t - 1] for t in (1, 2, 3)]
            log_var = np.log(s2)
            args = (log_var, 2) if ddof == 0 else (log_var, 2, ddof)
            np.testing.assert_allclose(standardized_increments(*args), [want], rtol=1e-12)

    def test_growth_default_and_one_generation(self):
        # n-growth P = 1: n_t = 2, 4 (N = 2, 6); the default is fixed n. Two columns (one
        # generation) are enough; one is refused.
        from collapsecheck.families.gaussian.theory.accumulate import standardized_increments

        lv = np.log([[1.0, 0.8, 1.1]])
        np.testing.assert_allclose(standardized_increments(lv, 2, n_growth=1.0),
                                   [[2 * 0.8, 6 * 1.1 / 0.8 - 2]], rtol=1e-13)
        np.testing.assert_allclose(standardized_increments(lv, 2),
                                   [[2 * 0.8, 4 * 1.1 / 0.8 - 2]], rtol=1e-13)
        np.testing.assert_allclose(standardized_increments(lv[:, :2], 2), [[1.6]], rtol=1e-13)
        with pytest.raises(ValueError) as info:
            standardized_increments(lv[:, :1], 2)
        assert str(info.value) == "`log_var` needs at least 2 generations (0 and 1); got 1."


ACCUMULATE_METHODS = {
    "final.sigma2_mean": "exact recursion E Q_t = E Q_{t-1} + f v_{t-1}(n_t - 1 + "
                         "N_{t-1}/N_t), summed in log space",
    "final.mu_var": "exact martingale sum of f v_{t-1} n_t / N_t^2",
    **{key: "simulation only: no closed form under accumulation"
       for key in ("log_sigma2_drift", "log_sigma2_step_var", "final.log_sigma2_mean",
                   "final.log_sigma2_sd", "final.sigma_mean", "final.sigma_quantiles")},
}
INCREMENT_NOTE = ("each standardised pool increment follows tau^2 (chi2_{n_t-1} + "
                  "(N_{t-1}/N_t) chi2_1) exactly (increment_law)")


class TestAccumulatePredict:
    def test_record_with_truncation_and_sigma0(self):
        # The record carries the experiment's fields, the moments at sigma0 = 2 (the first
        # generation by hand: E sigma_1^2 = 4 f (n-1)/(n-d), Var(mu_1) = 4 f/n), the limit
        # with the experiment's cut and temperature, and the documented methods and notes
        # (the wording is part of ``theory --json``).
        from collapsecheck import Experiment
        from collapsecheck.families.gaussian.theory.accumulate import accumulate_limit, predict
        from collapsecheck.families.gaussian.theory.sampling import variance_factor

        e = Experiment(n=4, generations=1, replicates=10, seed=0, regime="accumulate",
                       mu0=0.5, sigma0=2.0, ddof=1.0, temperature=1.1, truncate=2.0)
        p = predict(e)
        f = variance_factor(1.1, 2.0)
        assert (p.regime, p.generations, p.mu0, p.sigma0) == ("accumulate", 1, 0.5, 2.0)
        assert p.sigma2_mean == pytest.approx(4 * f * 3 / 3, rel=1e-13)
        assert p.mu_var == pytest.approx(4 * f / 4, rel=1e-13)
        assert p.limit == accumulate_limit(4, 1.0, 2.0, truncate=2.0, temperature=1.1)
        assert p.limit["variance_factor"] == pytest.approx(f, rel=1e-15)
        # f = 0.94 < 1: the limit of E sigma^2 is exactly 0, so it is listed as exact
        assert p.limit["sigma2_mean"] == 0.0
        assert p.exact == ("final.sigma2_mean", "final.mu_var", "limit.sigma2_mean")
        assert p.methods == {**ACCUMULATE_METHODS, "limit": p.limit["method"]}
        assert p.notes == ()

    def test_record_without_truncation(self):
        from collapsecheck import Experiment
        from collapsecheck.families.gaussian.theory.accumulate import accumulate_limit, predict

        e = Experiment(n=9, generations=3, replicates=10, seed=0, regime="accumulate",
                       n_growth=1.0, temperature=0.9)
        p = predict(e)
        assert p.limit == accumulate_limit(9, n_growth=1.0, temperature=0.9)
        assert p.exact == ("final.sigma2_mean", "final.mu_var", "limit.sigma2_mean")
        assert p.notes == (INCREMENT_NOTE,)
        assert isinstance(p.notes, tuple)

    def test_record_without_a_limit(self):
        from collapsecheck import Experiment
        from collapsecheck.families.gaussian.theory.accumulate import predict

        p = predict(Experiment(n=9, generations=3, replicates=10, seed=0,
                               regime="accumulate", temperature=1.5))
        assert p.limit is None and "limit" not in p.methods
        assert p.methods == ACCUMULATE_METHODS
        assert p.notes == ("no limit: with variance factor f >= 2 both E sigma^2 and "
                           "Var(mu) diverge", INCREMENT_NOTE)


# ---------------------------------------------------------------------------------------
# Mix (families/gaussian/theory/mix.py)
# ---------------------------------------------------------------------------------------


def mix_matrix_by_hand(n, lam, ddof, f):
    """The documented augmented matrix on (v, w, sigma0^2), entry by entry, in mpmath."""
    m = round(lam * n)
    r = n - m
    n, d = MP.mpf(n), MP.mpf(ddof)
    return MP.matrix([[(n - 1) * r * f / (n * (n - d)), m * r / (n * (n - d)),
                       (n - 1) * m / (n * (n - d))],
                      [r * f / n**2, (r / n) ** 2, m / n**2],
                      [0, 0, 1]])


class TestMix:
    @pytest.mark.parametrize(("n", "lam", "ddof", "tau", "cut"), [
        (5, 0.4, 1.0, 1.2, 1.5), (7, 0.5, 0.0, 1.0, None), (4, 0.125, 0.5, 0.9, None)])
    def test_matrix_entries(self, n, lam, ddof, tau, cut):
        from collapsecheck.families.gaussian.theory.mix import mix_matrix
        from collapsecheck.families.gaussian.theory.sampling import variance_factor

        f = variance_factor(tau, cut)
        want = np.array(mix_matrix_by_hand(n, lam, ddof, MP.mpf(f)).tolist(), dtype=float)
        got = mix_matrix(n, lam, ddof, truncate=cut, temperature=tau)
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)
        if ddof == 0 and tau == 1 and cut is None:
            np.testing.assert_array_equal(mix_matrix(n, lam), got)

    @pytest.mark.parametrize(("n", "lam", "ddof", "tau", "cut", "sigma0"), [
        (5, 0.4, 1.0, 1.2, 1.5, 2.0), (9, 0.3, 0.0, 1.1, None, 0.5), (6, 0.5, 2.0, 1.0, 2.5, 1.0)])
    def test_stationary_against_mpmath(self, n, lam, ddof, tau, cut, sigma0):
        # (I - A)^{-1} b and the Perron root of A, from the documented matrix in mpmath
        from collapsecheck.families.gaussian.theory.mix import mix_stationary
        from collapsecheck.families.gaussian.theory.sampling import variance_factor

        f = MP.mpf(variance_factor(tau, cut))
        mat = mix_matrix_by_hand(n, lam, ddof, f)
        a = MP.matrix([[mat[0, 0], mat[0, 1]], [mat[1, 0], mat[1, 1]]])
        b = MP.matrix([mat[0, 2], mat[1, 2]])
        x = MP.lu_solve(MP.eye(2) - a, b)
        radius = max(abs(e) for e in MP.eig(a)[0])
        got = mix_stationary(n, lam, ddof, sigma0, truncate=cut, temperature=tau)
        assert got["sigma2_mean"] == pytest.approx(float(x[0]) * sigma0**2, rel=1e-13)
        assert got["mu_var"] == pytest.approx(float(x[1]) * sigma0**2, rel=1e-13)
        assert got["spectral_radius"] == pytest.approx(float(radius), rel=1e-13)
        assert got["fresh"] == round(lam * n)
        assert set(got) == {"sigma2_mean", "mu_var", "spectral_radius", "fresh"}

    def test_stationary_defaults(self):
        # ddof 0, sigma0 1, no cut, tau 1: one fresh draw gives 2(n-1)/(3n-2), n/(3n-2)
        from collapsecheck.families.gaussian.theory.mix import mix_stationary

        got = mix_stationary(10, 0.1)
        assert got["sigma2_mean"] == pytest.approx(18 / 28, rel=1e-13)
        assert got["mu_var"] == pytest.approx(10 / 28, rel=1e-13)

    @pytest.mark.parametrize("lam", [None, -0.1, 1.5, math.nan])
    def test_fresh_fraction_is_checked(self, lam):
        from collapsecheck.families.gaussian.theory.mix import mix_moments, mix_stationary

        message = f"`fresh_fraction` must lie in [0, 1]; got {lam!r}."
        for call in (lambda: mix_moments(3, 5, lam), lambda: mix_stationary(5, lam)):
            with pytest.raises(ValueError) as info:
                call()
            assert str(info.value) == message

    def test_fresh_fraction_bounds_are_allowed(self):
        from collapsecheck.families.gaussian.theory.mix import mix_moments

        # L = 1: every draw fresh, so generation T is one fresh sample whatever came before
        ln_v, ln_w = mix_moments(4, 5, 1.0, 1.0, 2.0)
        assert math.exp(ln_v) == pytest.approx(4.0, rel=1e-13)
        assert math.exp(ln_w) == pytest.approx(4.0 / 5, rel=1e-13)
        assert mix_moments(0, 5, 1.0, 1.0, 2.0) == (pytest.approx(math.log(4.0), rel=1e-15),
                                                     -math.inf)


def mp_mix(generations, n, lam, ddof, sigma0, f, n_growth):
    """E sigma_T^2 and Var(mu_T) by the documented affine recursion, in mpmath."""
    from collapsecheck.experiment import n_at

    v, w, f, d = MP.mpf(1), MP.mpf(0), MP.mpf(f), MP.mpf(ddof)
    for t in range(1, generations + 1):
        nt = n_at(n, n_growth, t)
        m = round(lam * nt)
        r = nt - m
        v, w = (((nt - 1) * (m + r * f * v) / nt + MP.mpf(m * r) / nt * w) / (nt - d),
                (MP.mpf(r) / nt) ** 2 * w + (m + r * f * v) / MP.mpf(nt) ** 2)
    return v * sigma0**2, w * sigma0**2


class TestMixMoments:
    @pytest.mark.parametrize("T", range(1, 10))
    def test_short_horizons_with_fixed_n(self, T):
        # the repeated squaring of the matrix at every power up to 9 (odd and even bits)
        from collapsecheck.families.gaussian.theory.mix import mix_moments

        v, w = mp_mix(T, 5, 0.4, 1.0, 1.5, 1.21, 0.0)
        ln_v, ln_w = mix_moments(T, 5, 0.4, 1.0, 1.5, temperature=1.1)
        assert ln_v == pytest.approx(float(MP.log(v)), abs=1e-13)
        assert ln_w == pytest.approx(float(MP.log(w)), abs=1e-13)


    @pytest.mark.parametrize("T", range(1, 11))
    def test_growing_n_in_small_blocks(self, T, monkeypatch):
        # blocks of 4 generations (instead of 2^20): every block boundary, the first fresh
        # generation (t = 3 here: m_t = round(0.1 n_t), n_t = 2t) before, at and after the
        # horizon, against the recursion in mpmath
        from collapsecheck.families.gaussian.theory import mix

        monkeypatch.setattr(mix, "CHUNK", 4)
        v, w = mp_mix(T, 2, 0.1, 0.5, 1.0, 1.44, 1.0)
        ln_v, ln_w = mix.mix_moments(T, 2, 0.1, 0.5, temperature=1.2, n_growth=1.0)
        assert ln_v == pytest.approx(float(MP.log(v)), abs=1e-13)
        assert ln_w == pytest.approx(float(MP.log(w)), abs=1e-13)

    def test_default_ddof(self):
        from collapsecheck.families.gaussian.theory.mix import mix_moments

        v, w = mp_mix(3, 4, 0.5, 0.0, 1.0, 1.0, 0.0)
        assert mix_moments(3, 4, 0.5) == (pytest.approx(float(MP.log(v)), abs=1e-14),
                                          pytest.approx(float(MP.log(w)), abs=1e-14))


MIX_METHODS = {
    "final.sigma2_mean": "exact affine recursion of (E sigma^2, E (mu - mu0)^2)",
    "final.mu_var": "exact affine recursion of (E sigma^2, E (mu - mu0)^2)",
    **{key: "simulation only: no closed form under mixing"
       for key in ("log_sigma2_drift", "log_sigma2_step_var", "final.log_sigma2_mean",
                   "final.log_sigma2_sd", "final.sigma_mean", "final.sigma_quantiles")},
}


class TestMixPredict:
    def test_record_with_a_stationary_point(self):
        from collapsecheck import Experiment
        from collapsecheck.families.gaussian.theory.mix import mix_stationary, predict
        from collapsecheck.families.gaussian.theory.sampling import variance_factor

        e = Experiment(n=6, generations=3, replicates=10, seed=0, regime="mix", mu0=-1.0,
                       sigma0=2.0, ddof=1.0, fresh_fraction=0.5, temperature=1.2,
                       truncate=1.5)
        p = predict(e)
        assert (p.regime, p.generations, p.mu0, p.sigma0) == ("mix", 3, -1.0, 2.0)
        v, w = mp_mix(3, 6, 0.5, 1.0, 2.0, variance_factor(1.2, 1.5), 0.0)
        assert p.ln_sigma2_mean == pytest.approx(float(MP.log(v)), abs=1e-13)
        assert p.ln_mu_var == pytest.approx(float(MP.log(w)), abs=1e-13)
        assert p.stationary == mix_stationary(6, 0.5, 1.0, 2.0, truncate=1.5,
                                              temperature=1.2)
        assert p.exact == ("final.sigma2_mean", "final.mu_var", "stationary.sigma2_mean",
                           "stationary.mu_var")
        assert p.methods == {**MIX_METHODS, "stationary": "fixed point (I - A)^{-1} b of "
                             "the exact recursion"}
        assert p.notes == ()

    def test_record_without_a_stationary_point(self):
        from collapsecheck import Experiment
        from collapsecheck.families.gaussian.theory.mix import predict

        p = predict(Experiment(n=10, generations=3, replicates=10, seed=0, regime="mix",
                               fresh_fraction=0.04))
        assert p.stationary is None and p.exact == ("final.sigma2_mean", "final.mu_var")
        assert p.methods == MIX_METHODS
        assert p.notes == ("no stationary point: the recursion's spectral radius is >= 1 "
                           "(fresh draws per generation: 0)",)

    def test_record_with_n_growth(self):
        from collapsecheck import Experiment
        from collapsecheck.families.gaussian.theory.mix import predict

        p = predict(Experiment(n=4, generations=3, replicates=10, seed=0, regime="mix",
                               fresh_fraction=0.25, n_growth=1.0, ddof=0.5, sigma0=3.0))
        v, w = mp_mix(3, 4, 0.25, 0.5, 3.0, 1.0, 1.0)
        assert p.ln_sigma2_mean == pytest.approx(float(MP.log(v)), abs=1e-13)
        assert p.ln_mu_var == pytest.approx(float(MP.log(w)), abs=1e-13)
        assert p.stationary is None and p.exact == ("final.sigma2_mean", "final.mu_var")
        assert p.methods == MIX_METHODS
        assert p.notes == ("stationary is defined for fixed n only",)


# ---------------------------------------------------------------------------------------
# Truncation (families/gaussian/theory/truncate.py)
# ---------------------------------------------------------------------------------------


def mp_truncated_moment(c, power):
    """E[Z^power | |Z| <= c] of the standard normal, by mpmath quadrature (c None: no cut)."""
    if c is None:
        return MP.mpf(1) if power == 2 else MP.mpf(3)
    c = MP.mpf(c)
    num = MP.quad(lambda z: z**power * MP.npdf(z), [-c, 0, c])
    return num / (MP.ncdf(c) - MP.ncdf(-c))


class TestTruncate:
    @pytest.mark.parametrize(("n", "ddof", "cut", "tau"), [
        (5, 1.0, 1.2, 1.3), (2, 0.0, 0.5, 1.0), (30, 0.5, 2.5, 0.8), (3, 2.0, None, 1.1)])
    def test_step_ratio_moments_against_mpmath(self, n, ddof, cut, tau):
        # E R = tau^2 kappa (n-1)/(n-d); Var(R) = (tau^2 (n-1)/(n-d))^2 [mu4/n -
        # kappa^2 (n-3)/(n(n-1))] (Cramer 27.4), kappa and mu4 by mpmath quadrature
        from collapsecheck.families.gaussian.theory.truncate import step_ratio_moments

        kappa, mu4 = mp_truncated_moment(cut, 2), mp_truncated_moment(cut, 4)
        t2, nn, d = MP.mpf(tau) ** 2, MP.mpf(n), MP.mpf(ddof)
        mean = t2 * kappa * (nn - 1) / (nn - d)
        var = (t2 * (nn - 1) / (nn - d)) ** 2 * (mu4 / nn - kappa**2 * (nn - 3) / (nn * (nn - 1)))
        m = step_ratio_moments(n, ddof, cut, tau)
        assert m.mean == pytest.approx(float(mean), rel=1e-13)
        assert m.var == pytest.approx(float(var), rel=1e-12)
        assert (m.n, m.ddof, m.truncate, m.temperature) == (n, ddof, cut, tau)
        assert type(m.ddof) is float

    def test_step_ratio_defaults_and_infinite_cut(self):
        # defaults: d = 0, no cut, tau = 1: R = chi2_{n-1}/n, mean (n-1)/n, var 2(n-1)/n^2
        from collapsecheck.families.gaussian.theory.truncate import step_ratio_moments

        m = step_ratio_moments(6)
        assert m.mean == pytest.approx(5 / 6, rel=1e-15)
        assert m.var == pytest.approx(10 / 36, rel=1e-14)
        assert m.truncate is None and m.temperature == 1.0 and m.ddof == 0.0
        assert step_ratio_moments(6, 0, math.inf) == m

    @pytest.mark.parametrize(("n", "ddof", "cut", "tau", "p", "horizon"), [
        (4, 1.0, 1.5, 1.1, 0.0, 7), (3, 0.5, 2.0, 0.9, 1.0, 6), (5, 0.0, None, 1.2, 0.5, 5)])
    def test_moments_against_mpmath_loop(self, n, ddof, cut, tau, p, horizon):
        # E sigma_T^2 = sigma0^2 prod f (n_t-1)/(n_t-d), Var(mu_T) = sum f E sigma_{t-1}^2/n_t,
        # kappa by mpmath quadrature
        from collapsecheck.experiment import n_at
        from collapsecheck.families.gaussian.theory.truncate import truncated_moments

        f = MP.mpf(tau) ** 2 * mp_truncated_moment(cut, 2)
        v, w = MP.mpf(9) / 4, MP.mpf(0)
        for t in range(1, horizon + 1):
            nt = n_at(n, p, t)
            w += f * v / nt
            v *= f * (nt - 1) / (nt - MP.mpf(ddof))
        ln_v, ln_w = truncated_moments(horizon, n, ddof, 1.5, truncate=cut, temperature=tau,
                                       n_growth=p)
        assert ln_v == pytest.approx(float(MP.log(v)), abs=1e-13)
        assert ln_w == pytest.approx(float(MP.log(w)), abs=1e-13)

    def test_moments_defaults(self):
        # defaults: d = 0, sigma0 = 1, no cut, tau = 1, fixed n: ((n-1)/n)^T and
        # sum_{t<T} ((n-1)/n)^t / n
        from collapsecheck.families.gaussian.theory.truncate import truncated_moments

        r = MP.mpf(3) / 4
        ln_v, ln_w = truncated_moments(5, 4)
        assert ln_v == pytest.approx(float(5 * MP.log(r)), abs=1e-14)
        assert ln_w == pytest.approx(float(MP.log(MP.fsum(r**t for t in range(5)) / 4)),
                                     abs=1e-14)

    def test_underflowing_variance_factor_is_refused(self):
        from collapsecheck.families.gaussian.theory.truncate import truncated_moments

        with pytest.raises(ValueError) as info:
            truncated_moments(3, 4, truncate=1e-170)
        assert str(info.value) == ("`truncate` 1e-170 is so small that the variance factor "
                                   "underflows to 0.")


TRUNCATE_SIMULATION_ONLY = ("simulation only: under truncation the step log R is not "
                            "log-chi-square and has no closed-form law")
LOG_KEYS = ("log_sigma2_drift", "log_sigma2_step_var", "final.log_sigma2_mean",
            "final.log_sigma2_sd", "final.sigma_mean", "final.sigma_quantiles",
            "prob_step_shrinks")


class TestTruncatePredict:
    def test_record_with_a_cut(self):
        from collapsecheck import Experiment
        from collapsecheck.families.gaussian.theory.sampling import variance_factor
        from collapsecheck.families.gaussian.theory.truncate import predict

        e = Experiment(n=5, generations=4, replicates=10, seed=0, mu0=1.0, sigma0=2.0,
                       ddof=1.0, truncate=1.5, temperature=1.2)
        p = predict(e)
        f = variance_factor(1.2, 1.5)
        assert (p.regime, p.generations, p.mu0, p.sigma0) == ("replace", 4, 1.0, 2.0)
        assert p.sigma2_mean == pytest.approx(4 * f**4, rel=1e-13)  # (f (n-1)/(n-d))^4
        assert p.log_sigma2_drift is None and p.log_sigma2_mean is None
        assert p.exact == ("final.sigma2_mean", "final.mu_var")
        assert p.methods == {
            "final.sigma2_mean": "exact product of E R_t = f (n_t - 1)/(n_t - ddof)",
            "final.mu_var": "exact martingale sum of f E[sigma_{t-1}^2]/n_t",
            **dict.fromkeys(LOG_KEYS, TRUNCATE_SIMULATION_ONLY)}
        assert p.notes == (f"variance factor f = tau^2 kappa(C) = {f!r}",)

    def test_record_without_a_cut(self):
        # fixed n, no cut: the tempered log-chi-square step, drift psi(k) + log 2 -
        # log(n - d) + log tau^2, variance psi'(k), k = (n-1)/2 (mpmath)
        from collapsecheck import Experiment
        from collapsecheck.families.gaussian.theory.truncate import predict

        e = Experiment(n=6, generations=9, replicates=10, seed=0, sigma0=1.5, ddof=0.5,
                       temperature=1.1)
        p = predict(e)
        k = MP.mpf(5) / 2
        drift = float(MP.digamma(k) + MP.log(2) - MP.log(MP.mpf(5.5)) + 2 * MP.log(1.1))
        step_var = float(MP.psi(1, k))
        assert p.log_sigma2_drift == pytest.approx(drift, rel=1e-13)
        assert p.log_sigma2_step_var == pytest.approx(step_var, rel=1e-13)
        assert p.log_sigma2_mean == pytest.approx(2 * math.log(1.5) + 9 * drift, rel=1e-13)
        assert p.log_sigma2_sd == pytest.approx(math.sqrt(9 * step_var), rel=1e-13)
        assert p.exact == ("final.sigma2_mean", "final.mu_var", "log_sigma2_drift",
                           "log_sigma2_step_var", "final.log_sigma2_mean",
                           "final.log_sigma2_sd")
        assert p.methods == {
            "final.sigma2_mean": "exact product of E R_t = f (n_t - 1)/(n_t - ddof)",
            "final.mu_var": "exact martingale sum of f E[sigma_{t-1}^2]/n_t",
            "log_sigma2_drift": "exact: tempered log-chi-square step (no truncation)"}
        assert p.notes == (f"variance factor f = tau^2 kappa(C) = {1.1**2!r}",
                           "quantiles of sigma_T are not computed here (see the temperature "
                           "module)")

    def test_record_with_n_growth(self):
        from collapsecheck import Experiment
        from collapsecheck.experiment import n_at
        from collapsecheck.families.gaussian.theory.truncate import predict

        p = predict(Experiment(n=6, generations=3, replicates=10, seed=0, n_growth=0.5))
        assert p.log_sigma2_drift is None and p.exact == ("final.sigma2_mean", "final.mu_var")
        # no cut: E sigma_T^2 = prod (n_t - 1)/n_t, Var(mu_T) = sum_t E sigma_{t-1}^2/n_t
        v, w = MP.mpf(1), MP.mpf(0)
        for t in (1, 2, 3):
            nt = n_at(6, 0.5, t)
            w += v / nt
            v *= MP.mpf(nt - 1) / nt
        assert p.ln_sigma2_mean == pytest.approx(float(MP.log(v)), abs=1e-14)
        assert p.ln_mu_var == pytest.approx(float(MP.log(w)), abs=1e-14)
        want = ("simulation only here: with n-growth the steps are not identically "
                "distributed (see the ngrowth module)")
        assert {k: p.methods[k] for k in LOG_KEYS} == dict.fromkeys(LOG_KEYS, want)


# ---------------------------------------------------------------------------------------
# Temperature (families/gaussian/theory/temperature.py)
# ---------------------------------------------------------------------------------------


TEMPERATURE_SHIFT = "the base chain's (replace.py) shifted by 2 T log(tau) in log sigma^2"
TEMPERATURE_METHODS = {
    "log_sigma2_drift": "exact: psi(k) + log 2 - log(n - ddof) + 2 log(tau)",
    "log_sigma2_step_var": "exact: trigamma((n - 1)/2)",
    "log_sigma2_mean": "exact: " + TEMPERATURE_SHIFT,
    "log_sigma2_sd": "exact: the base chain's (a shift leaves it unchanged)",
    "sigma_mean": "exact: base E[sigma_T] (gamma ratios) times tau^T, in logs",
    "sigma2_mean": "exact: base E[sigma_T^2] times tau^(2T), in logs",
    "mu_var": "exact: sigma0^2 tau^2/n sum_{t<T} (tau^2 (n-1)/(n-ddof))^t, in logs",
    "sigma_quantiles": "exact (Gil-Pelaez inversion, ~1e-12 in F): " + TEMPERATURE_SHIFT,
    "prob_step_shrinks": "exact: chi-square CDF at (n - ddof)/tau^2",
    "zero_drift_temperature": "exact: exp(-E[X]/2), E[X] the base drift",
}


class TestTemperature:
    @pytest.mark.parametrize(("n", "ddof", "tau", "T", "sigma0", "mu0"), [
        (10, 1.0, 1.1, 7, 2.0, 0.5), (4, 0.0, 0.8, 3, 0.5, -1.0), (50, 0.5, 1.02, 20, 1.0, 0.0)])
    def test_every_number_against_mpmath(self, n, ddof, tau, T, sigma0, mu0):
        # sigma_t^2 = sigma_{t-1}^2 tau^2 Q_t/(n - d), Q_t ~ chi2_{n-1} i.i.d.:
        # E sigma_T^p = sigma0^p (tau^p (2/(n-d))^(p/2) G(k + p/2)/G(k))^T, k = (n-1)/2;
        # drift psi(k) + log(2/(n-d)) + 2 log tau, step variance psi'(k); Var(mu_T) =
        # sigma0^2 tau^2/n sum_{t<T} rho^t, rho = tau^2 (n-1)/(n-d); P(step < 0) =
        # F_{chi2_{n-1}}((n-d)/tau^2); tau_0 = exp(-E[X]/2) at tau = 1
        from scipy import stats

        from collapsecheck import Experiment
        from collapsecheck.families.gaussian.theory.replace import sigma_quantiles
        from collapsecheck.families.gaussian.theory.temperature import EXACT_KEYS, predict

        e = Experiment(n=n, generations=T, replicates=10, seed=0, ddof=ddof, temperature=tau,
                       sigma0=sigma0, mu0=mu0)
        p = predict(e)
        k, t, d = MP.mpf(n - 1) / 2, MP.mpf(tau), MP.mpf(ddof)
        base_drift = MP.digamma(k) + MP.log(2) - MP.log(n - d)
        drift = base_drift + 2 * MP.log(t)

        def ln_moment(q):
            return q * MP.log(sigma0) + T * (q * MP.log(t) + q / 2 * MP.log(2 / (n - d))
                                              + MP.loggamma(k + MP.mpf(q) / 2) - MP.loggamma(k))

        rho = t**2 * (n - 1) / (n - d)
        mu_var = sigma0**2 * t**2 / n * MP.fsum(rho**j for j in range(T))
        assert (p.regime, p.generations, p.mu0, p.sigma0) == ("replace", T, mu0, sigma0)
        assert p.log_sigma2_drift == pytest.approx(float(drift), rel=1e-13)
        assert p.log_sigma2_step_var == pytest.approx(float(MP.psi(1, k)), rel=1e-13)
        assert p.log_sigma2_mean == pytest.approx(float(2 * MP.log(sigma0) + T * drift),
                                                  rel=1e-12, abs=1e-13)
        assert p.log_sigma2_sd == pytest.approx(math.sqrt(T * float(MP.psi(1, k))), rel=1e-13)
        assert p.ln_sigma_mean == pytest.approx(float(ln_moment(1)), rel=1e-12, abs=1e-13)
        assert p.ln_sigma2_mean == pytest.approx(float(ln_moment(2)), rel=1e-12, abs=1e-13)
        assert p.ln_mu_var == pytest.approx(float(MP.log(mu_var)), rel=1e-12, abs=1e-13)
        base = sigma_quantiles(T, n, ddof, sigma0)
        assert p.ln_sigma_quantiles.keys() == base.keys()
        for key, v in base.items():
            assert p.ln_sigma_quantiles[key] == pytest.approx(v + T * math.log(tau), abs=1e-13)
        assert p.prob_step_shrinks == pytest.approx(
            stats.chi2.cdf((n - ddof) / tau**2, n - 1), rel=1e-12)
        assert p.zero_drift_temperature == pytest.approx(float(MP.exp(-base_drift / 2)),
                                                         rel=1e-14)
        assert p.exact == EXACT_KEYS and p.methods == TEMPERATURE_METHODS

    def test_log_mu_var_tempered_defaults(self):
        from collapsecheck.families.gaussian.theory.temperature import log_mu_var_tempered

        r = MP.mpf(4) / 5
        want = MP.log(MP.fsum(r**t for t in range(6)) / 5)
        assert log_mu_var_tempered(6, 5) == pytest.approx(float(want), rel=1e-14)
        assert log_mu_var_tempered(0, 5) == -math.inf

    def test_zero_drift_temperature_default_ddof(self):
        from collapsecheck.families.gaussian.theory.temperature import zero_drift_temperature

        k = MP.mpf(7) / 2
        want = MP.exp(-(MP.digamma(k) + MP.log(2) - MP.log(8)) / 2)
        assert zero_drift_temperature(8) == pytest.approx(float(want), rel=1e-14)

    @pytest.mark.parametrize(("tau", "error", "message"), [
        (True, TypeError, "`temperature` must be a real number; got True."),
        ("1", TypeError, "`temperature` must be a real number; got '1'."),
        (0.0, ValueError, "`temperature` must be a finite number > 0; got 0.0."),
        (-1, ValueError, "`temperature` must be a finite number > 0; got -1."),
        (math.inf, ValueError, "`temperature` must be a finite number > 0; got inf.")])
    def test_temperature_check(self, tau, error, message):
        from collapsecheck.families.gaussian.theory.temperature import log_mu_var_tempered

        with pytest.raises(error) as info:
            log_mu_var_tempered(3, 5, 0.0, 1.0, tau)
        assert str(info.value) == message

    def test_integer_temperature_is_allowed(self):
        from collapsecheck.families.gaussian.theory.temperature import log_mu_var_tempered

        assert log_mu_var_tempered(1, 5, 0.0, 1.0, 2) == pytest.approx(math.log(4 / 5),
                                                                      rel=1e-14)

    @pytest.mark.parametrize(("change", "message"), [
        ({"regime": "accumulate"},
         "temperature theory covers `regime` 'replace' only; got 'accumulate'."),
        ({"n_growth": 0.5},
         "temperature theory needs `n_growth` 0 (use the n-growth theory); got 0.5."),
        ({"truncate": 2.0}, "temperature theory needs `truncate` None; got 2.0.")])
    def test_predict_refuses_other_settings(self, change, message):
        from collapsecheck import Experiment
        from collapsecheck.families.gaussian.theory.temperature import predict

        e = Experiment(n=5, generations=2, replicates=10, seed=0, temperature=1.1, **change)
        with pytest.raises(ValueError) as info:
            predict(e)
        assert str(info.value) == message


# ---------------------------------------------------------------------------------------
# The sampling law (families/gaussian/theory/sampling.py)
# ---------------------------------------------------------------------------------------


class TestSampling:
    # both sides of the Kummer switch at x = C^2/2 = 2 (C = 2), tiny and large cuts
    CUTS = (1e-3, 0.3, 1.0, 1.9, 2.0, 2.0000001, 2.1, 3.0, 8.0, 40.0)

    @pytest.mark.parametrize("c", CUTS)
    def test_truncated_moments_against_mpmath(self, c):
        from collapsecheck.families.gaussian.theory.sampling import (
            truncated_fourth_moment,
            truncated_variance_factor,
        )

        assert truncated_variance_factor(c) == pytest.approx(
            float(mp_truncated_moment(c, 2)), rel=1e-13)
        assert truncated_fourth_moment(c) == pytest.approx(
            float(mp_truncated_moment(c, 4)), rel=1e-13)

    def test_no_cut(self):
        from collapsecheck.families.gaussian.theory.sampling import (
            SamplingLaw,
            truncated_fourth_moment,
            truncated_variance_factor,
        )

        for c in (None, math.inf):
            assert truncated_variance_factor(c) == 1.0 and truncated_fourth_moment(c) == 3.0
        law = SamplingLaw(1.5, math.inf)
        assert law.truncate is None and law.is_gaussian and law.temperature == 1.5
        assert SamplingLaw() == SamplingLaw(1.0, None)
        assert type(SamplingLaw(2).temperature) is float
        cut = SamplingLaw(1.2, 3)
        assert cut.truncate == 3.0 and type(cut.truncate) is float and not cut.is_gaussian

    @pytest.mark.parametrize(("tau", "c"), [(1.3, 1.5), (0.7, None), (2, 2.5), (1.0, 0.4)])
    def test_factors_against_mpmath(self, tau, c):
        from collapsecheck.families.gaussian.theory.sampling import (
            SamplingLaw,
            fourth_moment_factor,
            variance_factor,
        )

        kappa, mu4 = mp_truncated_moment(c, 2), mp_truncated_moment(c, 4)
        t = MP.mpf(tau)
        assert variance_factor(tau, c) == pytest.approx(float(t**2 * kappa), rel=1e-13)
        assert fourth_moment_factor(tau, c) == pytest.approx(float(t**4 * mu4), rel=1e-13)
        law = SamplingLaw(tau, c)
        assert law.variance == pytest.approx(float(t**2 * kappa), rel=1e-13)
        assert law.fourth == pytest.approx(float(t**4 * mu4), rel=1e-13)
        assert law.kappa == pytest.approx(float(kappa), rel=1e-13)
        assert law.mu4 == pytest.approx(float(mu4), rel=1e-13)

    def test_factor_defaults(self):
        from collapsecheck.families.gaussian.theory.sampling import (
            fourth_moment_factor,
            variance_factor,
        )

        assert variance_factor() == 1.0 and fourth_moment_factor() == 3.0
        assert variance_factor(2.0) == 4.0 and fourth_moment_factor(2.0) == 48.0

    @pytest.mark.parametrize(("c", "error", "message"), [
        (True, TypeError, "`truncate` must be a real number or None; got True."),
        ("2", TypeError, "`truncate` must be a real number or None; got '2'."),
        (0.0, ValueError, "`truncate` (the cut C of |x - mu| <= C tau sigma) must be > 0; "
                          "got 0.0."),
        (-1, ValueError, "`truncate` (the cut C of |x - mu| <= C tau sigma) must be > 0; "
                         "got -1."),
        (math.nan, ValueError, "`truncate` (the cut C of |x - mu| <= C tau sigma) must be "
                               "> 0; got nan.")])
    def test_truncate_check(self, c, error, message):
        from collapsecheck.families.gaussian.theory.sampling import (
            SamplingLaw,
            truncated_fourth_moment,
            truncated_variance_factor,
        )

        for call in (truncated_variance_factor, truncated_fourth_moment,
                     lambda c: SamplingLaw(1.0, c)):
            with pytest.raises(error) as info:
                call(c)
            assert str(info.value) == message

    @pytest.mark.parametrize(("tau", "error", "message"), [
        (False, TypeError, "`temperature` must be a real number; got False."),
        (None, TypeError, "`temperature` must be a real number; got None."),
        (0, ValueError, "`temperature` must be a finite number > 0; got 0."),
        (-0.5, ValueError, "`temperature` must be a finite number > 0; got -0.5."),
        (math.inf, ValueError, "`temperature` must be a finite number > 0; got inf."),
        (math.nan, ValueError, "`temperature` must be a finite number > 0; got nan.")])
    def test_temperature_check(self, tau, error, message):
        from collapsecheck.families.gaussian.theory.sampling import (
            SamplingLaw,
            fourth_moment_factor,
            variance_factor,
        )

        for call in (variance_factor, fourth_moment_factor, lambda t: SamplingLaw(t)):
            with pytest.raises(error) as info:
                call(tau)
            assert str(info.value) == message

    def test_chunks_and_log_sum_exp(self):
        # blocks of at most `chunk` generations covering 1..T in order, with n_t = n_at;
        # the running log-sum-exp against mpmath, including empty and -inf blocks
        from collapsecheck.experiment import n_at
        from collapsecheck.families.gaussian.theory.sampling import CHUNK, _chunks, _LogSumExp

        assert CHUNK == 1 << 20
        blocks = list(_chunks(3, 0.5, 10, chunk=4))
        assert [b[0].tolist() for b in blocks] == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]]
        assert np.concatenate([b[1] for b in blocks]).tolist() == [
            n_at(3, 0.5, t) for t in range(1, 11)]
        assert list(_chunks(3, 0.0, 0)) == []
        (t, nt), = _chunks(4, 0.0, 5)
        assert t.tolist() == [1, 2, 3, 4, 5] and nt.tolist() == [4.0] * 5
        acc = _LogSumExp()
        assert acc.value == -math.inf
        acc.add(np.array([]))
        acc.add(np.array([-math.inf]))
        assert acc.value == -math.inf
        parts = [np.array([0.5, -3.0]), np.array([]), np.array([700.0, 699.0]),
                 np.array([-math.inf, 2.0])]
        for p in parts:
            acc.add(p)
        want = MP.log(MP.fsum(MP.exp(x) for p in parts for x in p if x > -math.inf))
        assert acc.value == pytest.approx(float(want), rel=1e-15)


# ---------------------------------------------------------------------------------------
# Accumulate-subsample (families/gaussian/theory/subsample.py)
# ---------------------------------------------------------------------------------------


def mp_subsample(generations, n, ddof, sigma0, f, n_growth):
    """E sigma_T^2 and Var(mu_T) by the documented recursion, in mpmath: E Q_1 = f(n_1-1),
    E D_1^2 = f/n_1; for t >= 2, E Q_t = a_t E Q_{t-1} and E D_t^2 = E D_{t-1}^2 +
    (n_t/N_t)^2 (c_{t-1} + f e_{t-1}/n_t) E Q_{t-1}; E sigma_T^2 = e_T E Q_T,
    Var(mu_T) = E D_T^2 + c_T E Q_T (units of sigma0^2)."""
    from collapsecheck.experiment import n_at

    f, d = MP.mpf(f), MP.mpf(ddof)

    def e_(nt, big):
        return (nt - 1) / ((nt - d) * (big - 1))

    def c_(nt, big):
        return (MP.mpf(1) / nt - MP.mpf(1) / big) / (big - 1)

    n1 = MP.mpf(n_at(n, n_growth, 1))
    q, dd, n_prev, big_prev = f * (n1 - 1), f / n1, n1, n1
    for t in range(2, generations + 1):
        nt = MP.mpf(n_at(n, n_growth, t))
        big = big_prev + nt
        e, c = e_(n_prev, big_prev), c_(n_prev, big_prev)
        a = 1 + f * e * (nt - 1 + big_prev / big) + big_prev * nt / big * c
        dd += (nt / big) ** 2 * (c + f * e / nt) * q
        q *= a
        n_prev, big_prev = nt, big
    s0 = MP.mpf(sigma0) ** 2
    return s0 * e_(n_prev, big_prev) * q, s0 * (dd + c_(n_prev, big_prev) * q)


class TestSubsample:
    @pytest.mark.parametrize(("T", "n", "ddof", "tau", "cut", "p", "sigma0"), [
        (1, 5, 1.0, 1.2, 1.5, 0.0, 2.0), (2, 3, 0.0, 1.0, None, 0.0, 1.0),
        (7, 4, 0.5, 0.9, 2.0, 1.0, 0.5), (40, 2, 1.0, 1.1, None, 0.5, 3.0),
        (300, 6, 2.0, 1.0, None, 0.0, 1.0)])
    def test_against_mpmath_recursion(self, T, n, ddof, tau, cut, p, sigma0):
        from collapsecheck.families.gaussian.theory.sampling import variance_factor
        from collapsecheck.families.gaussian.theory.subsample import subsample_moments

        v, w = mp_subsample(T, n, ddof, sigma0, variance_factor(tau, cut), p)
        ln_v, ln_w = subsample_moments(T, n, ddof, sigma0, truncate=cut, temperature=tau,
                                       n_growth=p)
        assert ln_v == pytest.approx(float(MP.log(v)), abs=1e-12)
        assert ln_w == pytest.approx(float(MP.log(w)), abs=1e-12)

    def test_first_generation_is_the_replace_step(self):
        # at t = 1 the subsample is the whole batch: E sigma_1^2 = f(n-1)/(n-d), Var = f/n
        from collapsecheck.families.gaussian.theory.subsample import subsample_moments

        ln_v, ln_w = subsample_moments(1, 5, 1.0, 2.0, temperature=1.5)
        assert math.exp(ln_v) == pytest.approx(4 * 2.25 * 4 / 4, rel=1e-14)
        assert math.exp(ln_w) == pytest.approx(4 * 2.25 / 5, rel=1e-14)
        assert subsample_moments(0, 5, 1.0, 2.0) == (2 * math.log(2.0), -math.inf)

    def test_defaults(self):
        from collapsecheck.families.gaussian.theory.subsample import subsample_moments

        v, w = mp_subsample(4, 3, 0.0, 1.0, 1.0, 0.0)
        got = subsample_moments(4, 3)
        assert got == (pytest.approx(float(MP.log(v)), abs=1e-13),
                       pytest.approx(float(MP.log(w)), abs=1e-13))

    def test_underflowing_variance_factor_is_refused(self):
        from collapsecheck.families.gaussian.theory.subsample import subsample_moments

        with pytest.raises(ValueError) as info:
            subsample_moments(3, 4, truncate=1e-170)
        assert str(info.value) == ("`truncate` 1e-170 is so small that the variance factor "
                                   "underflows to 0.")

    def test_predict_record(self):
        from collapsecheck import Experiment
        from collapsecheck.families.gaussian.theory.sampling import variance_factor
        from collapsecheck.families.gaussian.theory.subsample import predict

        e = Experiment(n=4, generations=5, replicates=10, seed=0, regime="accumulate-subsample",
                       mu0=2.0, sigma0=1.5, ddof=1.0, truncate=2.0, temperature=1.1,
                       n_growth=0.5)
        p = predict(e)
        v, w = mp_subsample(5, 4, 1.0, 1.5, variance_factor(1.1, 2.0), 0.5)
        assert (p.regime, p.generations, p.mu0, p.sigma0) == (
            "accumulate-subsample", 5, 2.0, 1.5)
        assert p.ln_sigma2_mean == pytest.approx(float(MP.log(v)), abs=1e-12)
        assert p.ln_mu_var == pytest.approx(float(MP.log(w)), abs=1e-12)
        assert p.exact == ("final.sigma2_mean", "final.mu_var")
        assert p.methods == {
            "final.sigma2_mean": "exact linear recursion in E Q_t (pool) and E (P_t - mu0)^2",
            "final.mu_var": "exact: E (P_T - mu0)^2 + E[S_T^2](1/n_T - 1/N_T)",
            **dict.fromkeys(("log_sigma2_drift", "log_sigma2_step_var",
                             "final.log_sigma2_mean", "final.log_sigma2_sd",
                             "final.sigma_mean", "final.sigma_quantiles", "limit"),
                            "simulation only: not derived for accumulate-subsample")}
        assert p.notes == ("the subsample is drawn from the pool after the new batch is "
                           "added; at t = 1 it is the whole batch",)


# ---------------------------------------------------------------------------------------
# n-growth (families/gaussian/theory/ngrowth.py)
# ---------------------------------------------------------------------------------------


def ngrowth_methods(T, last):
    return {
        "log_sigma2_drift": f"exact: E[X_T] = psi(k) + log 2 - log(n_T - ddof) + 2 log(tau) "
                            f"of generation {max(T, 1)}'s step (n_T = {last})",
        "log_sigma2_step_var": f"exact: trigamma((n_T - 1)/2), n_T = {last}",
        "prob_step_shrinks": f"exact: P(X_T < 0), chi-square CDF at (n_T - ddof)/tau^2, "
                             f"n_T = {last}",
        "zero_drift_temperature": f"exact: exp(-E[X]/2) for generation {max(T, 1)}'s step "
                                  f"(n_T = {last}); no one temperature zeroes every step",
        "log_sigma2_mean": "exact: sum of the steps' digamma drifts (fsum) + 2 T log(tau)",
        "log_sigma2_sd": "exact: sqrt of the sum of the steps' trigammas (fsum)",
        "sigma_mean": "exact: product of the steps' gamma ratios, in logs",
        "sigma2_mean": "exact: product of tau^2 (n_t - 1)/(n_t - ddof), in logs",
        "mu_var": "exact: sigma0^2 tau^2 sum_t E[sigma_{t-1}^2]/n_t (geometric within runs "
                  "of equal n_t), in logs",
        "mu_mean": "exact: E[mu_T] = mu0",
        "sigma_quantiles": "exact (Gil-Pelaez inversion of the product of the steps' "
                           "characteristic functions, ~1e-12 in F)",
    }


NGROWTH_EXACT = ("sigma_mean", "sigma2_mean", "log_sigma2_mean", "log_sigma2_sd", "mu_mean",
                 "mu_var", "sigma_quantiles", "log_sigma2_drift", "log_sigma2_step_var",
                 "prob_step_shrinks", "zero_drift_temperature")


class TestNGrowthPredict:
    @pytest.mark.parametrize(("n", "T", "ddof", "P", "tau", "sigma0"), [
        (3, 5, 1.0, 1.5, 1.1, 2.0), (4, 6, 0.0, 0.5, 0.9, 0.5), (5, 0, 0.5, 2.0, 1.0, 1.5)])
    def test_every_number_against_mpmath(self, n, T, ddof, P, tau, sigma0):
        # S_T = sum_t X_t, X_t = log chi2_{n_t-1} - log(n_t - d) + 2 log tau independent:
        # E sigma_T^p = sigma0^p prod (tau^2 2/(n_t-d))^(p/2) G(k_t + p/2)/G(k_t);
        # Var(mu_T) = sigma0^2 tau^2 sum_t E sigma_{t-1}^2/n_t; the step fields are those of
        # generation max(T, 1)'s step
        from scipy import stats

        from collapsecheck import Experiment
        from collapsecheck.experiment import n_at
        from collapsecheck.families.gaussian.theory.ngrowth import GrowthLaw, predict

        e = Experiment(n=n, generations=T, replicates=10, seed=0, ddof=ddof, n_growth=P,
                       temperature=tau, sigma0=sigma0, mu0=0.25)
        p = predict(e)
        t2, d = MP.mpf(tau) ** 2, MP.mpf(ddof)
        sizes = [n_at(n, P, t) for t in range(1, T + 1)]
        ln_m = {1: MP.log(sigma0), 2: 2 * MP.log(sigma0)}
        mean, var, v, w = 2 * MP.log(sigma0), MP.mpf(0), MP.mpf(sigma0) ** 2, MP.mpf(0)
        for nt in sizes:
            k = MP.mpf(nt - 1) / 2
            for q in (1, 2):
                ln_m[q] += (q / MP.mpf(2) * MP.log(t2 * 2 / (nt - d)) + MP.loggamma(k + q / 2.0)
                            - MP.loggamma(k))
            mean += MP.digamma(k) + MP.log(2) - MP.log(nt - d) + MP.log(t2)
            var += MP.psi(1, k)
            w += t2 * v / nt
            v *= t2 * (nt - 1) / (nt - d)
        assert (p.regime, p.generations, p.mu0, p.sigma0) == ("replace", T, 0.25, sigma0)
        assert p.ln_sigma_mean == pytest.approx(float(ln_m[1]), abs=1e-13)
        assert p.ln_sigma2_mean == pytest.approx(float(ln_m[2]), abs=1e-13)
        assert p.log_sigma2_mean == pytest.approx(float(mean), abs=1e-13)
        assert p.log_sigma2_sd == pytest.approx(float(MP.sqrt(var)), abs=1e-13)
        if T == 0:
            assert p.ln_mu_var == -math.inf
        else:
            assert p.ln_mu_var == pytest.approx(float(MP.log(w)), abs=1e-13)
        last = n_at(n, P, max(T, 1))
        k = MP.mpf(last - 1) / 2
        drift = MP.digamma(k) + MP.log(2) - MP.log(last - d)
        assert p.log_sigma2_drift == pytest.approx(float(drift + MP.log(t2)), abs=1e-14)
        assert p.log_sigma2_step_var == pytest.approx(float(MP.psi(1, k)), rel=1e-14)
        assert p.prob_step_shrinks == pytest.approx(
            stats.chi2.cdf((last - ddof) / tau**2, last - 1), rel=1e-12)
        assert p.zero_drift_temperature == pytest.approx(float(MP.exp(-drift / 2)), rel=1e-14)
        law = GrowthLaw(n, T, ddof, P, tau)
        levels = (0.025, 0.5, 0.975)
        assert list(p.ln_sigma_quantiles) == ["0.025", "0.5", "0.975"]
        for key, level in zip(p.ln_sigma_quantiles, levels, strict=True):
            assert p.ln_sigma_quantiles[key] == pytest.approx(
                math.log(sigma0) + 0.5 * float(law.ppf(level)), abs=1e-13)
        assert p.exact == NGROWTH_EXACT
        want = ngrowth_methods(T, last)
        if p.limit is not None:
            want["limit"] = "series with a stated error bound: " + p.limit["method"]
        assert p.methods == want

    def test_notes_and_limits(self):
        from collapsecheck import Experiment
        from collapsecheck.families.gaussian.theory.ngrowth import growth_limit, predict

        def run(**kw):
            return predict(Experiment(n=3, generations=4, replicates=10, seed=0, **kw))

        p = run(n_growth=2.0, ddof=0.5, sigma0=1.5)
        assert p.limit == growth_limit(3, 0.5, 2.0, 1.5, 1.0) and p.notes == ()
        assert run(n_growth=2.0, temperature=1.1).notes == (
            "no limit: with temperature 1.1 != 1 every step drifts by 2 log(tau) = "
            f"{2 * math.log(1.1):.6g}, so log sigma_T^2 tends to +infinity.",)
        assert run(n_growth=1.5, temperature=0.9).notes == (
            "no limit: with temperature 0.9 != 1 every step drifts by 2 log(tau) = "
            f"{2 * math.log(0.9):.6g}, so log sigma_T^2 tends to -infinity.",)
        assert run(n_growth=1.0).notes == (
            "no limit: n_growth P = 1 <= 1, so sum 1/n_t diverges and the variances of the "
            "steps of log sigma^2 do not sum (see converges).",)

    @pytest.mark.parametrize(("change", "message"), [
        ({"regime": "accumulate"}, "n-growth theory covers `regime` 'replace' only; got "
                                   "'accumulate'."),
        ({"truncate": 2.5}, "n-growth theory needs `truncate` None; got 2.5.")])
    def test_refusals(self, change, message):
        from collapsecheck import Experiment
        from collapsecheck.families.gaussian.theory.ngrowth import predict

        with pytest.raises(ValueError) as info:
            predict(Experiment(n=3, generations=2, replicates=10, seed=0, n_growth=1.0,
                               **change))
        assert str(info.value) == message


class TestGrowthLawInversion:
    def test_pooled_series_against_mpmath(self):
        # sum_g m_g L(t, k_g), L(t, k) = log G(k + it) - log G(k) - it psi(k) (the centred
        # log-CF of one step), at t = 0, +-1 and 1.5 (every |t| <= k/4)
        from collapsecheck.families.gaussian.theory.ngrowth import _sum_centered_log_cf_series

        k = np.array([8.0, 12.5, 40.0])
        m = np.array([2.0, 1.0, 3.0])
        t = np.array([0.0, 1.0, -1.0, 1.5])

        def mp_l(tt, kk):
            kk = MP.mpf(kk)
            return MP.loggamma(kk + 1j * tt) - MP.loggamma(kk) - 1j * tt * MP.digamma(kk)

        want = [complex(MP.fsum(mg * mp_l(MP.mpf(tt), kg) for kg, mg in zip(k, m, strict=True)))
                for tt in t]
        got = _sum_centered_log_cf_series(t, k, m)
        np.testing.assert_allclose(got.real, np.real(want), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(got.imag, np.imag(want), rtol=1e-12, atol=1e-15)

    def test_tabulated_cdf(self):
        # one generation: S_1 = log(Q/(n - d)) + 2 log tau, Q ~ chi2_{n-1}, so
        # P(S_1 <= y) = F_{chi2_{n-1}}((n - d) e^y / tau^2); three generations (n_t = 3, 6,
        # 9): the table agrees with the law's own CDF to its stated accuracy
        from scipy import stats

        from collapsecheck.families.gaussian.theory.ngrowth import GrowthLaw
        from collapsecheck.families.gaussian.theory.replace import TabulatedCDF

        law = GrowthLaw(5, 1, 1.0, 1.0, 1.2)
        table = law.tabulated_cdf()
        assert isinstance(table, TabulatedCDF)
        y = np.linspace(-2.0, 1.0, 7)
        want = stats.chi2.cdf(4 * np.exp(y) / 1.44, 4)
        np.testing.assert_allclose(table(y), want, atol=1e-10)
        law3 = GrowthLaw(3, 3, 0.0, 1.0)
        y3 = law3.mean + law3.sd * np.linspace(-3, 3, 7)
        np.testing.assert_allclose(law3.tabulated_cdf()(y3), law3.cdf(y3), atol=1e-10)


class TestGrowthLimitConstants:
    @pytest.mark.parametrize("d", [0.0, 0.5, 1.0, 1.5, 2.0, 3.0])
    def test_documented_constants(self, d):
        # growth_limit's docstring: B = 4/3 + 8/3 (1-d)^2 + 2 + 2|1-d| d + |2-d| (drift),
        # 50/3 (step variance), 8/3 (1-d)^2 + 2|1-d| d + |1-d| (log ratio)
        from fractions import Fraction

        from collapsecheck.families.gaussian.theory.ngrowth import _tail_constants

        q = Fraction(d)
        a = abs(1 - q)
        want = (Fraction(4, 3) + Fraction(8, 3) * a * a + 2 + 2 * a * q + abs(2 - q),
                Fraction(50, 3), Fraction(8, 3) * a * a + 2 * a * q + a)
        assert _tail_constants(d) == pytest.approx([float(w) for w in want], rel=1e-15)

    @pytest.mark.parametrize(("n", "d", "P"), [(5, 0.5, 1.5), (2, 0.0, 1.1), (3, 2.0, 3.0)])
    def test_the_bounds_hold(self, n, d, P):
        # |f(n_t) - c/(n t^P)| <= B/(n t^P)^2 at tail generations (t > 1024), in mpmath:
        # the drift psi(k) + log 2 - log(n_t - d) (c = -(2 - d)), psi'(k) (c = 2) and
        # log((n_t - 1)/(n_t - d)) (c = -(1 - d)), k = (n_t - 1)/2
        from collapsecheck.experiment import n_at
        from collapsecheck.families.gaussian.theory.ngrowth import _tail_constants

        b_drift, b_var, b_ratio = _tail_constants(d)
        dm = MP.mpf(d)
        for t in (1025, 4000, 123457):
            nt = MP.mpf(n_at(n, P, t))
            x = n * MP.mpf(t) ** P
            k = (nt - 1) / 2
            for f, c, b in ((MP.digamma(k) + MP.log(2) - MP.log(nt - dm), -(2 - dm), b_drift),
                            (MP.psi(1, k), 2, b_var),
                            (MP.log((nt - 1) / (nt - dm)), -(1 - dm), b_ratio)):
                assert abs(f - c / x) <= b / x**2


class TestGrowthLimitCutoff:
    @pytest.mark.parametrize(("n", "d", "P", "want"), [
        (4, 3.0, 2.7, 4096),  # the drift's constant is the largest (27)
        (3, 1.0, 2.5, 8192),  # the variance's (50/3)
        (3, 1.0, 3.0, 1024),  # the smallest cutoff (the bound divides by n^2 = 9)
        (2, 0.0, 1.1, 1 << 20)])  # the bound is never met: the largest cutoff, 2^20
    def test_cutoff_as_documented(self, n, d, P, want):
        # T1 is the smallest power of two from 2^10 to 2^20 whose tail bound
        # B zeta(2P, T1 + 1)/n^2 (B the largest documented constant) is below 1e-15
        from fractions import Fraction

        from scipy import special

        from collapsecheck.families.gaussian.theory.ngrowth import growth_limit

        q = Fraction(d)
        a = abs(1 - q)
        b = float(max(Fraction(4, 3) + Fraction(8, 3) * a * a + 2 + 2 * a * q + abs(2 - q),
                      Fraction(50, 3), Fraction(8, 3) * a * a + 2 * a * q + a))
        cutoff = 1 << 10
        while cutoff < 1 << 20 and b * special.zeta(2 * P, cutoff + 1) / n**2 > 1e-15:
            cutoff *= 2
        assert cutoff == want
        lim = growth_limit(n, d, P, 1.5)
        assert lim["cutoff"] == want
        # the logs of the raw values, and the method naming the cutoff
        assert math.exp(lim["ln_mu_var"]) == pytest.approx(lim["mu_var"], rel=1e-14)
        assert math.exp(lim["ln_sigma2_mean"]) == pytest.approx(lim["sigma2_mean"], rel=1e-14)
        assert lim["method"] == (
            f"direct sums (math.fsum) over t = 1..{want} plus the tail of the leading term by "
            f"the Hurwitz zeta: (c/n) zeta(P, {want + 1}); each tail's error at most "
            f"B zeta(2P, {want + 1})/n^2 plus rounding (see growth_limit's docstring), "
            "reported in error_bounds as absolute bounds")


class TestGrowthLimitChecks:
    @pytest.mark.parametrize("sigma0", [0.0, -1.0, math.inf, math.nan])
    def test_sigma0_is_checked(self, sigma0):
        from collapsecheck.families.gaussian.theory.ngrowth import growth_limit

        with pytest.raises(ValueError) as info:
            growth_limit(5, 0.0, 2.0, sigma0)
        assert str(info.value) == f"`sigma0` must be a finite number > 0; got {sigma0}."


class TestGrowthLawChecks:
    @pytest.mark.parametrize(("kwargs", "error", "message"), [
        ({"n_growth": True}, TypeError, "`n_growth` must be a real number; got True."),
        ({"n_growth": "1"}, TypeError, "`n_growth` must be a real number; got '1'."),
        ({"temperature": None}, TypeError, "`temperature` must be a real number; got None."),
        ({"n_growth": -0.5}, ValueError,
         "`n_growth` (the exponent P of n_t = ceil(n t^P)) must lie in [0, 10]; got -0.5."),
        ({"n_growth": 10.5}, ValueError,
         "`n_growth` (the exponent P of n_t = ceil(n t^P)) must lie in [0, 10]; got 10.5."),
        ({"n_growth": math.inf}, ValueError,
         "`n_growth` (the exponent P of n_t = ceil(n t^P)) must lie in [0, 10]; got inf."),
        ({"temperature": 0.0}, ValueError,
         "`temperature` must be a finite number > 0; got 0.0."),
        ({"temperature": math.nan}, ValueError,
         "`temperature` must be a finite number > 0; got nan.")])
    def test_growth_iv(self, kwargs, error, message):
        from collapsecheck.families.gaussian.theory.ngrowth import converges

        args = {"n_growth": 1.0, "temperature": 1.0, **kwargs}
        with pytest.raises(error) as info:
            converges(args["n_growth"], temperature=args["temperature"])
        assert str(info.value) == message

    def test_bounds_are_allowed(self):
        from collapsecheck.families.gaussian.theory.ngrowth import converges

        assert converges(10) and not converges(0) and not converges(10, temperature=2)

    def test_size_limits(self):
        from collapsecheck.experiment import MAX_N, n_at
        from collapsecheck.families.gaussian.theory.ngrowth import MAX_GROUPS, GrowthLaw

        with pytest.raises(ValueError) as info:
            GrowthLaw(10, 10**6, 0.0, 3.0)
        last = n_at(10, 3.0, 10**6)
        assert str(info.value) == (f"with `n_growth` 3, generation 1000000 would draw {last} "
                                   f"> {MAX_N:.0e} values.")
        T = MAX_GROUPS + 1
        with pytest.raises(ValueError) as info:
            GrowthLaw(2, T, 0.0, 1.0)
        distinct = min(T, n_at(2, 1.0, T) - 2 + 1)
        assert str(info.value) == (
            f"with `n_growth` 1 and `generations` {T} the sample size could take up to "
            f"{distinct} distinct values; the n-growth theory sums over at most {MAX_GROUPS}.")
        # at the limit itself: accepted (the groups are built lazily)
        assert GrowthLaw(2, MAX_GROUPS, 0.0, 1.0).generations == MAX_GROUPS

    def test_cumulants_against_mpmath(self):
        # kappa_j(S_T) = sum_t psi^(j-1)(k_t), kappa_1 = E S_T
        from collapsecheck.experiment import n_at
        from collapsecheck.families.gaussian.theory.ngrowth import GrowthLaw

        law = GrowthLaw(3, 6, 0.5, 1.2, 1.1)
        ks = [MP.mpf(n_at(3, 1.2, t) - 1) / 2 for t in range(1, 7)]
        for j in (2, 3, 4):
            want = MP.fsum(MP.psi(j - 1, k) for k in ks)
            assert law.cumulant(j) == pytest.approx(float(want), rel=1e-13)
        assert law.cumulant(1) == law.mean
        with pytest.raises(ValueError) as info:
            law.cumulant(0)
        assert str(info.value) == "`j` must be >= 1; got 0."
        with pytest.raises(ValueError) as info:
            law.log_sigma_moment(-2.0)
        assert str(info.value) == "`p` must exceed -(n - 1) = -2; got -2.0."
        assert law.log_sigma_moment(-1.9) < math.inf
        with pytest.raises(ValueError) as info:
            law.log_sigma_moment(math.nan)
        assert str(info.value) == "`p` must exceed -(n - 1) = -2; got nan."

    def test_moment_defaults(self):
        from collapsecheck.experiment import n_at
        from collapsecheck.families.gaussian.theory.ngrowth import GrowthLaw

        law = GrowthLaw(4, 3, 0.0, 1.0)
        sizes = [n_at(4, 1.0, t) for t in range(1, 4)]
        ln_m = MP.fsum(0.5 * MP.log(MP.mpf(2) / nt) + MP.loggamma(MP.mpf(nt) / 2)
                       - MP.loggamma(MP.mpf(nt - 1) / 2) for nt in sizes)
        assert law.log_sigma_moment() == pytest.approx(float(ln_m), abs=1e-14)
        v, w = MP.mpf(1), MP.mpf(0)
        for nt in sizes:
            w += v / nt
            v *= MP.mpf(nt - 1) / nt
        assert law.log_mu_var() == pytest.approx(float(MP.log(w)), abs=1e-14)


# ---------------------------------------------------------------------------------------
# Special functions (families/gaussian/theory/_special.py)
# ---------------------------------------------------------------------------------------


class TestSpecialArrays:
    def test_log_gamma_ratio_with_different_shifts(self):
        # x = 0.5, 3, 9.5 and 25 need 10, 7, 1 and 0 unit steps up to 10: each entry must get
        # exactly its own recurrence terms (mpmath's loggamma at 30 digits)
        from collapsecheck.families.gaussian.theory._special import log_gamma_ratio

        x = np.array([0.5, 3.0, 9.5, 25.0])
        for t in (0.7, -2.5):
            want = [complex(MP.loggamma(MP.mpf(v) + 1j * MP.mpf(t)) - MP.loggamma(MP.mpf(v)))
                    for v in x]
            got = log_gamma_ratio(x, t)
            np.testing.assert_allclose(got.real, np.real(want), rtol=1e-13, atol=1e-14)
            np.testing.assert_allclose(got.imag, np.imag(want), rtol=1e-13, atol=1e-14)

    def test_digamma_with_different_shifts(self):
        from collapsecheck.families.gaussian.theory._special import digamma

        x = np.array([0.7, 3.3, 9.9, 12.0, 40.25])
        want = [float(MP.digamma(MP.mpf(v))) for v in x]
        np.testing.assert_allclose(digamma(x), want, rtol=1e-14, atol=1e-15)

    def test_empty_and_two_dimensional_input(self):
        from collapsecheck.families.gaussian.theory._special import (
            digamma,
            gammaln,
            log_gamma_ratio,
        )

        assert digamma(np.array([])).shape == (0,)
        assert log_gamma_ratio(np.array([]), 0.5).shape == (0,)
        x = np.array([[1.5, 2.5], [3.5, 40.0]])
        got = gammaln(x)
        assert got.shape == (2, 2)
        want = [[float(MP.loggamma(MP.mpf(v))) for v in row] for row in x]
        np.testing.assert_allclose(got, want, rtol=1e-14)


def test_hurwitz_zeta_takes_whole_floats():
    # s given as a float that is a whole number: zeta(2, 1) = pi^2/6, zeta(3.0, 2.5) by mpmath
    from collapsecheck.families.gaussian.theory._special import hurwitz_zeta

    assert hurwitz_zeta(2.0, 1.0) == pytest.approx(math.pi**2 / 6, rel=1e-15)
    assert hurwitz_zeta(np.array([3.0, 4.0]), 2.5) == pytest.approx(
        [float(MP.zeta(3, 2.5)), float(MP.zeta(4, 2.5))], rel=1e-15)
    with pytest.raises(ValueError) as info:
        hurwitz_zeta(2.5, 1.0)
    assert str(info.value) == "`s` must be a whole number >= 2 here; got 2.5."
    assert hurwitz_zeta(2, np.array([])).shape == (0,)


def test_growth_law_odd_moments_in_the_series_range():
    # E sigma_T^p for p = 3 and -1 (a = p/2 = 1.5, -0.5: the Bernoulli-polynomial series'
    # odd terms do not vanish, unlike at p = 1, 2), every k_t >= 30, against mpmath
    from collapsecheck.experiment import n_at
    from collapsecheck.families.gaussian.theory.ngrowth import GrowthLaw

    law = GrowthLaw(61, 3, 0.5, 0.5, 1.1)
    sizes = [n_at(61, 0.5, t) for t in (1, 2, 3)]
    for p in (3.0, -1.0):
        want = p * 3 * MP.log(MP.mpf(1.1)) + MP.fsum(
            p / 2 * MP.log(2 / (MP.mpf(nt) - MP.mpf(0.5))) + MP.loggamma(MP.mpf(nt - 1) / 2 + p / 2)
            - MP.loggamma(MP.mpf(nt - 1) / 2) for nt in sizes)
        assert law.log_sigma_moment(p) == pytest.approx(float(want), rel=1e-13, abs=1e-14)


def test_bernoulli_range_and_integer_arguments():
    from collapsecheck.families.gaussian.theory._special import bernoulli, digamma

    assert bernoulli(0).tolist() == [1.0]
    assert bernoulli(200).size == 201
    assert bernoulli(200)[2] == pytest.approx(1 / 6, rel=1e-15)
    for n in (-1, 201):
        with pytest.raises(ValueError) as info:
            bernoulli(n)
        assert str(info.value) == f"`n` must be a whole number from 0 to 200; got {n}."
    # whole-number (integer) arguments: psi(m) = -gamma + H_{m-1}
    assert digamma(5) == pytest.approx(float(MP.digamma(5)), rel=1e-15)
    np.testing.assert_allclose(digamma(np.array([3, 12])),
                               [float(MP.digamma(3)), float(MP.digamma(12))], rtol=1e-15)


def test_log_gamma_ratio_excess_at_the_series_switch():
    # log G(k + a) - log G(k) - a log k from k = 30 on by the series, to 1e-13 relative
    # (the direct difference of log-gammas loses 3 to 4 digits there); below, the direct
    # difference, to its absolute accuracy of a few 1e-14. Against mpmath.
    from collapsecheck.families.gaussian.theory.ngrowth import _log_gamma_ratio_excess

    k = np.array([29.5, 30.0, 30.5, 100.0])
    for a in (0.5, 1.5, -0.5):
        want = [float(MP.loggamma(MP.mpf(v) + a) - MP.loggamma(MP.mpf(v)) - a * MP.log(v))
                for v in k]
        got = _log_gamma_ratio_excess(k, a)
        np.testing.assert_allclose(got[1:], want[1:], rtol=1e-13)
        assert got[0] == pytest.approx(want[0], abs=5e-14)


def test_growth_law_size_limits_at_their_edges():
    # n_T = MAX_N exactly is allowed (T = 1 looks at generation 1 only); the distinct sample
    # sizes are counted as min(T, n_T - n + 1): exactly MAX_GROUPS is allowed, one more
    # refused (n = 2, T = 1e9, n_T = ceil(2 T^P) = MAX_GROUPS + 1 or + 2)
    from collapsecheck.experiment import MAX_N, n_at
    from collapsecheck.families.gaussian.theory.ngrowth import MAX_GROUPS, GrowthLaw

    assert GrowthLaw(MAX_N, 1, 0.0, 1.0).n == MAX_N
    assert GrowthLaw(MAX_N, 0, 0.0, 1.0).generations == 0
    T = 10**9
    p_ok, p_over = 0.7692988792460613, 0.7692988821222798
    assert n_at(2, p_ok, T) - 1 == MAX_GROUPS and n_at(2, p_over, T) - 1 == MAX_GROUPS + 1
    assert GrowthLaw(2, T, 0.0, p_ok).generations == T
    with pytest.raises(ValueError) as info:
        GrowthLaw(2, T, 0.0, p_over)
    assert str(info.value) == (
        f"with `n_growth` {p_over:g} and `generations` {T} the sample size could take up to "
        f"{MAX_GROUPS + 1} distinct values; the n-growth theory sums over at most "
        f"{MAX_GROUPS}.")


def test_digamma_minus_log_at_its_series_switch():
    # psi(k) - log k from k = 30 on by the Bernoulli series (the direct difference loses two
    # digits there: 6e-15 relative at k = 30), against mpmath
    from collapsecheck.families.gaussian.theory.ngrowth import _digamma_minus_log

    k = np.array([30.0, 30.5, 1e4])
    want = [float(MP.digamma(MP.mpf(v)) - MP.log(MP.mpf(v))) for v in k]
    np.testing.assert_allclose(_digamma_minus_log(k), want, rtol=1e-15)
