"""Tests written to kill mutants of the formal tests (``collapsecheck.stats``) that survived
``tools/mutation.py`` (reports/mutation/):
exact values of every field of the formal tests' results, including the degenerate
branches (NaN results, their warnings' text, category and the caller they point at), the
confidence intervals and the boundaries of every guard. References are scipy's
distributions and closed forms, not the code under test."""

import inspect
import math
import os
import sys
import warnings

import numpy as np
import pytest
from scipy import stats

from collapsecheck.stats import (
    ConfidenceInterval,
    DegenerateDataWarning,
    DriftResult,
    gof_exact,
    gof_two_sample,
    independence_test,
    kolmogorov_detectable_gap,
    mc_pvalue,
    slope_variance_factor,
    tost,
    tost_power,
    z_test,
)


def only_warning(fn, *args, **kwargs):
    """Call fn, return (result, message) of its single DegenerateDataWarning, checking it
    is attributed to the line calling fn (stacklevel=2: the caller of the statistics
    function)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = inspect.currentframe().f_lineno + 1
        out = fn(*args, **kwargs)
    assert len(caught) == 1
    w = caught[0]
    assert w.category is DegenerateDataWarning
    trampoline = os.path.join("mutmut", "mutation", "trampoline.py")
    if not ("mutmut" in sys.modules and w.filename.endswith(trampoline)):
        # (in mutmut's run of stats.py its trampoline is each mutated function's caller)
        assert (w.filename, w.lineno) == (__file__, line)
    return out, str(w.message)


def nan(x):
    return isinstance(x, float) and math.isnan(x)


# ---------------------------------------------------------------------------------------
# drift_regression
# ---------------------------------------------------------------------------------------


class TestDriftDegenerate:
    @pytest.mark.parametrize("shape", [(1, 5), (5, 1), (1, 1)])
    def test_too_small(self, shape):
        from collapsecheck.stats import drift_regression

        r, g = shape
        res, msg = only_warning(drift_regression, np.arange(g), np.zeros(shape), null=0.5,
                                alternative="less")
        assert msg == "need at least 2 replicates and 2 recorded generations."
        assert all(nan(v) for v in (res.estimate, res.se, res.statistic, res.pvalue))
        assert (res.null, res.alternative, res.df, res.replicates, res.generations) == (
            0.5, "less", 0, r, g)

    def test_two_by_two_is_enough(self):
        from collapsecheck.stats import drift_regression

        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = drift_regression([0, 1], [[0.0, 1.0], [0.0, 3.0]])
        # slopes 1 and 3: mean 2, SE^2 = ((1)^2 + (1)^2)/(2*1) * (4-1)/(4-2) = 1.5
        assert res.estimate == pytest.approx(2.0, rel=1e-14)
        assert res.se == pytest.approx(math.sqrt(1.5), rel=1e-14)
        assert (res.df, res.replicates, res.generations) == (1, 2, 2)
        assert res.pvalue == pytest.approx(2 * stats.t.sf(2 / math.sqrt(1.5), 1), rel=1e-12)

    def test_non_finite(self):
        from collapsecheck.stats import drift_regression

        y = np.zeros((3, 4))
        y[1, 2] = np.inf
        res, msg = only_warning(drift_regression, np.arange(4), y, null=-0.25,
                                alternative="greater")
        assert msg == "`log_var` has non-finite values."
        assert all(nan(v) for v in (res.estimate, res.se, res.statistic, res.pvalue))
        assert (res.null, res.alternative, res.df, res.replicates, res.generations) == (
            -0.25, "greater", 2, 3, 4)

    def test_constant_generations(self):
        from collapsecheck.stats import drift_regression

        res, msg = only_warning(drift_regression, [5, 5, 5],
                                np.random.default_rng(1).normal(size=(4, 3)), null=0.125)
        assert msg == "the recorded generations do not vary: no slope can be fitted."
        assert all(nan(v) for v in (res.estimate, res.se, res.statistic, res.pvalue))
        assert (res.null, res.alternative, res.df, res.replicates, res.generations) == (
            0.125, "two-sided", 3, 4, 3)

    def test_identical_chains_have_no_se(self):
        from collapsecheck.stats import drift_regression

        y = np.tile(np.array([0.0, -1.0, -2.0, -3.0]), (5, 1)) + 100.0
        res, msg = only_warning(drift_regression, np.arange(4), y, null=0.0,
                                alternative="less")
        assert msg == ("no variation between chains around the fitted line; the slope's "
                       "standard error is 0.")
        assert res.estimate == pytest.approx(-1.0, rel=1e-12)
        assert all(nan(v) for v in (res.se, res.statistic, res.pvalue))
        assert (res.null, res.alternative, res.df, res.replicates, res.generations) == (
            0.0, "less", 4, 5, 4)

    def test_tiny_but_real_spread_is_not_degenerate(self):
        from collapsecheck.stats import drift_regression

        # slopes differ by 1e-9 on a level of 1: above the 1e-12 relative rounding floor
        y = np.array([[0.0, 1e-9], [0.0, -1e-9], [0.0, 0.0]]) + 1.0
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = drift_regression([0, 1], y)
        assert res.se == pytest.approx(1e-9 * math.sqrt(1 / 3 * 5 / 4), rel=1e-6)

    @pytest.mark.parametrize(
        ("g", "level", "se", "degenerate"),
        [([0, 1], 0.0, 1.5e-12, False),   # threshold 1e-12 * max(1, |y|) / max(1, ptp g)
         ([0, 1], 0.0, 0.7e-12, True),
         ([0, 4], 0.0, 1e-12, False),     # ptp 4: threshold 2.5e-13
         ([0, 4], 0.0, 0.2e-12, True),
         ([0, 1], 10.0, 1e-12, True),     # |y| = 10: threshold 1e-11
         ([0, 1], 10.0, 1.5e-11, False)],
    )
    def test_rounding_floor_of_the_se(self, g, level, se, degenerate):
        from collapsecheck.stats import drift_regression

        # slopes (+a, -a, 0) over g: SE^2 = 2 a^2 / (3 * 2) * (6 - 1)/(6 - 2) = 5 a^2 / 12
        a = se / math.sqrt(5 / 12)
        dg = g[1] - g[0]
        y = level + np.array([[0.0, a * dg], [0.0, -a * dg], [0.0, 0.0]])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = drift_regression(g, y)
        assert len(caught) == int(degenerate)
        assert math.isnan(res.se) == degenerate
        if not degenerate:
            assert res.se == pytest.approx(se, rel=1e-2)

    def test_result_fields(self):
        from collapsecheck.stats import drift_regression

        y = np.random.default_rng(5).normal(size=(6, 4)).cumsum(axis=1)
        res = drift_regression([0, 1, 2, 5], y, null=0.3, alternative="greater")
        assert res.statistic == pytest.approx((res.estimate - 0.3) / res.se, rel=1e-13)
        assert res.pvalue == pytest.approx(stats.t.sf(res.statistic, 5), rel=1e-12)
        assert (res.null, res.alternative, res.df, res.replicates, res.generations) == (
            0.3, "greater", 5, 6, 4)

    def test_integer_inputs(self):
        from collapsecheck.stats import drift_regression

        g = np.array([0, 2, 4])
        y = np.array([[0, 2, 4], [0, 1, 3], [1, 1, 2]])
        res = drift_regression(g, y)
        ref = drift_regression(g.astype(float), y.astype(float))
        assert res == ref


class TestClusterSlope:
    @pytest.mark.parametrize(("r", "g"), [(2, [0, 1]), (5, [0, 1, 2, 3]), (9, [0, 2, 3, 7, 20])])
    def test_both_forms_against_a_direct_sandwich(self, r, g):
        # CR1 by hand: X = [1, g] stacked, bread (X'X)^-1, meat sum_r s_r s_r' with
        # s_r = X_r' u_r, times R/(R-1) (N-1)/(N-K) (statsmodels' cov_type='cluster').
        from collapsecheck.stats import _cluster_slope, _cluster_slope_statsmodels

        g = np.array(g, float)
        y = np.random.default_rng(r).normal(size=(r, g.size)).cumsum(axis=1) + 3.0
        X = np.column_stack([np.ones(r * g.size), np.tile(g, r)])
        beta = np.linalg.solve(X.T @ X, X.T @ y.ravel())
        u = (y.ravel() - X @ beta).reshape(r, g.size)
        bread = np.linalg.inv(X.T @ X)
        scores = np.stack([X[i * g.size:(i + 1) * g.size].T @ u[i] for i in range(r)])
        n_obs = r * g.size
        cov = bread @ (scores.T @ scores) @ bread * r / (r - 1) * (n_obs - 1) / (n_obs - 2)
        for est, se in (_cluster_slope(g, y), _cluster_slope_statsmodels(g, y)):
            assert est == pytest.approx(beta[1], rel=1e-10, abs=1e-14)
            assert se == pytest.approx(math.sqrt(cov[1, 1]), rel=1e-10)


class TestDriftIntervals:
    def test_confidence_interval_and_half_life(self):
        res = DriftResult(estimate=-0.002, se=0.0005, statistic=-4.0, pvalue=1e-4, null=0.0,
                          alternative="two-sided", df=9, replicates=10, generations=50)
        for level in (0.95, 0.8):
            q = stats.t.ppf(1 - (1 - level) / 2, 9)
            ci = res.confidence_interval(level)
            assert ci.low == pytest.approx(-0.002 - q * 0.0005, rel=1e-13)
            assert ci.high == pytest.approx(-0.002 + q * 0.0005, rel=1e-13)
        h, ci = res.half_life()
        assert h == pytest.approx(2 * math.log(2) / 0.002, rel=1e-14)
        lo = res.confidence_interval().low
        hi = res.confidence_interval().high
        assert ci.low == pytest.approx(2 * math.log(2) / -lo, rel=1e-13)
        assert ci.high == pytest.approx(2 * math.log(2) / -hi, rel=1e-13)
        h80, ci80 = res.half_life(0.8)
        assert h80 == h and ci80.low == pytest.approx(
            2 * math.log(2) / -res.confidence_interval(0.8).low, rel=1e-13)

    def test_half_life_infinite_or_nan(self):
        up = DriftResult(0.001, 0.01, 0.1, 0.9, 0.0, "two-sided", 5, 6, 10)
        h, ci = up.half_life()
        assert h == math.inf and ci.high == math.inf and math.isfinite(ci.low)
        zero = DriftResult(0.0, 0.01, 0.0, 1.0, 0.0, "two-sided", 5, 6, 10)
        assert zero.half_life()[0] == math.inf
        bad = DriftResult(math.nan, math.nan, math.nan, math.nan, 0.0, "less", 0, 1, 1)
        h, ci = bad.half_life()
        assert nan(h) and nan(ci.low) and nan(ci.high)


# ---------------------------------------------------------------------------------------
# z-test, TOST
# ---------------------------------------------------------------------------------------


class TestZTest:
    @pytest.mark.parametrize("df", [None, 7])
    @pytest.mark.parametrize("alternative", ["two-sided", "less", "greater"])
    def test_values(self, df, alternative):
        dist = stats.norm if df is None else stats.t(df)
        res = z_test(1.3, 0.5, null=0.2, alternative=alternative, df=df)
        z = (1.3 - 0.2) / 0.5
        assert res.statistic == pytest.approx(z, rel=1e-14)
        want = {"two-sided": 2 * dist.sf(abs(z)), "less": dist.cdf(z),
                "greater": dist.sf(z)}[alternative]
        assert res.pvalue == pytest.approx(want, rel=1e-12)
        assert (res.estimate, res.se, res.null, res.alternative, res.df) == (
            1.3, 0.5, 0.2, alternative, df)
        q = dist.ppf(0.975)
        ci = res.confidence_interval()  # the default level: 95%
        assert (ci.low, ci.high) == (pytest.approx(1.3 - q * 0.5), pytest.approx(1.3 + q * 0.5))
        for level in (0.95, 0.5):
            q = dist.ppf(1 - (1 - level) / 2)
            ci = res.confidence_interval(level)
            assert ci.low == pytest.approx(1.3 - q * 0.5, rel=1e-13)
            assert ci.high == pytest.approx(1.3 + q * 0.5, rel=1e-13)

    def test_two_sided_is_capped_at_one(self):
        assert z_test(0.0, 1.0).pvalue == 1.0
        assert z_test(-0.1, 1.0, df=3).pvalue == pytest.approx(2 * stats.t.sf(0.1, 3))

    @pytest.mark.parametrize(("estimate", "se"), [(1.0, 0.0), (1.0, -1.0), (1.0, math.inf),
                                                  (math.nan, 1.0), (math.inf, 1.0)])
    def test_degenerate(self, estimate, se):
        res, msg = only_warning(z_test, estimate, se, null=0.5, alternative="less", df=4)
        assert msg == (f"need a finite estimate and a positive finite `se`; got {estimate}, "
                       f"{se}.")
        assert nan(res.statistic) and nan(res.pvalue)
        assert res.se == se and res.null == 0.5 and res.alternative == "less" and res.df == 4
        assert res.estimate == estimate or (nan(res.estimate) and nan(estimate))
        ci = res.confidence_interval()
        assert nan(ci.low) and nan(ci.high)

    def test_bad_alternative(self):
        with pytest.raises(ValueError, match=r"^`alternative` must be one of \('two-sided', "
                           r"'less', 'greater'\); got 'both'\.$"):
            z_test(1.0, 1.0, alternative="both")


class TestTost:
    @pytest.mark.parametrize("df", [None, 12])
    def test_values(self, df):
        dist = stats.norm if df is None else stats.t(df)
        res = tost(0.3, 0.2, low=-0.5, upp=0.6, df=df)
        p_low, p_upp = dist.sf((0.3 + 0.5) / 0.2), dist.cdf((0.3 - 0.6) / 0.2)
        assert res.pvalue == pytest.approx(max(p_low, p_upp), rel=1e-12)
        assert p_upp > p_low and res.statistic == pytest.approx((0.3 - 0.6) / 0.2)
        assert (res.low, res.upp) == (-0.5, 0.6)
        assert res.lower.null == -0.5 and res.lower.alternative == "greater"
        assert res.upper.null == 0.6 and res.upper.alternative == "less"
        assert res.lower.df == res.upper.df == df
        q = dist.ppf(0.95)
        ci = res.confidence_interval()
        assert (ci.low, ci.high) == (pytest.approx(0.3 - q * 0.2), pytest.approx(0.3 + q * 0.2))
        q = dist.ppf(0.975)
        assert res.confidence_interval(0.95).high == pytest.approx(0.3 + q * 0.2)
        # the lower test decides when the estimate is near the lower margin
        near_low = tost(-0.4, 0.2, low=-0.5, upp=0.6, df=df)
        assert near_low.statistic == pytest.approx((-0.4 + 0.5) / 0.2)
        assert near_low.pvalue == pytest.approx(dist.sf(0.5), rel=1e-12)

    def test_equal_pvalues_take_the_lower_statistic(self):
        # the estimate midway between the margins (all exact in binary): z = +3 and -3,
        # p-values equal to the last bit; the lower margin's test is reported on a tie
        res = tost(0.25, 0.25, low=-0.5, upp=1.0)
        assert res.lower.statistic == 3.0 and res.upper.statistic == -3.0
        assert res.lower.pvalue == res.upper.pvalue == res.pvalue
        assert res.statistic == 3.0

    @pytest.mark.parametrize(("low", "upp"), [(1.0, 1.0), (2.0, 1.0)])
    def test_bad_margins(self, low, upp):
        with pytest.raises(ValueError, match=rf"^need `low` < `upp`; got {low}, {upp}\.$"):
            tost(0.0, 1.0, low=low, upp=upp)

    @pytest.mark.parametrize("df", [None, 6])
    def test_power(self, df):
        q = stats.norm.ppf(0.95) if df is None else stats.t.ppf(0.95, df)
        got = tost_power(0.1, low=-0.5, upp=0.4, true_value=0.05, alpha=0.05, df=df)
        want = stats.norm.cdf((0.4 - 0.05) / 0.1 - q) - stats.norm.cdf((-0.5 - 0.05) / 0.1 + q)
        assert got == pytest.approx(want, rel=1e-12)
        # margins too close for the SE: power 0, not negative
        assert tost_power(1.0, low=-0.1, upp=0.1, true_value=0.0, alpha=0.05, df=df) == 0.0


# ---------------------------------------------------------------------------------------
# Goodness of fit, Monte Carlo p-values, detectable gaps
# ---------------------------------------------------------------------------------------


class TestGof:
    def test_exact_values_ks_and_cvm(self):
        x = np.random.default_rng(3).normal(0.2, 1, 40)
        ks = gof_exact(x.reshape(8, 5), stats.norm.cdf)
        ref = stats.kstest(x, stats.norm.cdf)
        assert (ks.statistic, ks.pvalue, ks.n, ks.method) == (
            pytest.approx(ref.statistic, rel=1e-14), pytest.approx(ref.pvalue, rel=1e-12),
            40, "ks")
        cvm = gof_exact(x, stats.norm.cdf, method="cvm")
        ref = stats.cramervonmises(x, stats.norm.cdf)
        assert (cvm.statistic, cvm.pvalue, cvm.n, cvm.method) == (
            pytest.approx(ref.statistic, rel=1e-14), pytest.approx(ref.pvalue, rel=1e-12),
            40, "cvm")
        assert gof_exact([1, 2], stats.norm.cdf).n == 2  # integers are data too

    @pytest.mark.parametrize("x", [[0.5], [], [0.1, np.nan, 0.3], [0.1, -np.inf]])
    def test_exact_degenerate(self, x):
        res, msg = only_warning(gof_exact, x, stats.norm.cdf, method="cvm")
        assert msg == "`x` needs at least 2 finite values."
        assert nan(res.statistic) and nan(res.pvalue)
        assert res.n == len(x) and res.method == "cvm"

    def test_exact_bad_method(self):
        with pytest.raises(ValueError, match=r"^`method` must be 'ks' or 'cvm'; got 'ad'\.$"):
            gof_exact([0.1, 0.2, 0.3], stats.norm.cdf, method="ad")

    def test_two_sample_values(self):
        rng = np.random.default_rng(4)
        x, y = rng.normal(size=(3, 10)), rng.normal(0.3, 1, 17)
        res = gof_two_sample(x, y)
        ref = stats.ks_2samp(x.ravel(), y)
        assert res.statistic == pytest.approx(ref.statistic, rel=1e-14)
        assert res.pvalue == pytest.approx(ref.pvalue, rel=1e-12)
        assert (res.n, res.method) == (47, "ks_2samp")
        one = gof_two_sample([0.5], [0.1])  # one value each is allowed
        assert one.statistic == 1.0 and one.n == 2

    @pytest.mark.parametrize(("x", "y"), [([], [1.0]), ([1.0], []), ([1.0, np.nan], [2.0]),
                                          ([1.0], [np.inf, 2.0])])
    def test_two_sample_degenerate(self, x, y):
        res, msg = only_warning(gof_two_sample, x, y)
        assert msg == "both samples need at least 1 value, all finite."
        assert nan(res.statistic) and nan(res.pvalue)
        assert res.n == len(x) + len(y) and res.method == "ks_2samp"

    @pytest.mark.parametrize(("extreme", "total"), [(0, 0), (0, 9), (4, 9), (9, 9)])
    def test_mc_pvalue(self, extreme, total):
        assert mc_pvalue(extreme, total) == (extreme + 1) / (total + 1)

    @pytest.mark.parametrize(("extreme", "total"), [(-1, 5), (6, 5), (0, -1)])
    def test_mc_pvalue_refuses(self, extreme, total):
        with pytest.raises(ValueError, match=rf"^need 0 <= `extreme` <= `total`; got "
                           rf"{extreme}, {total}\.$"):
            mc_pvalue(extreme, total)

    @pytest.mark.parametrize(("n", "m", "alpha", "power"),
                             [(100, None, 1e-3, 0.9), (400, 100, 0.05, 0.8), (50, 50, 1e-6, 0.5)])
    def test_detectable_gap(self, n, m, alpha, power):
        eff = n if m is None else n * m / (n + m)
        want = (stats.kstwobign.isf(alpha) + stats.norm.ppf(power) / 2) / math.sqrt(eff)
        got = (kolmogorov_detectable_gap(n, alpha, power) if m is None
               else kolmogorov_detectable_gap(n, alpha, power, m=m))
        assert got == pytest.approx(want, rel=1e-13)
        assert kolmogorov_detectable_gap(100, 1e-3) == pytest.approx(
            (stats.kstwobign.isf(1e-3) + stats.norm.ppf(0.9) / 2) / 10, rel=1e-13)


# ---------------------------------------------------------------------------------------
# slope_variance_factor, independence_test
# ---------------------------------------------------------------------------------------


class TestSlopeVarianceFactor:
    @pytest.mark.parametrize("g", [[0, 1], [0, 1, 2, 3, 4], [0, 3, 5, 10], [2, 7, 8]])
    def test_against_direct_sum(self, g):
        # Var(OLS slope of S_g on g) / var(step) for a random walk S with i.i.d. steps:
        # slope = sum_j c_j S_{g_j}, S_{g_j} = sum of the steps up to g_j, so the weight
        # of step s is w_s = sum_{j: g_j >= s} c_j and the factor is sum_s w_s^2 (s > g_0).
        g = np.array(g, float)
        c = (g - g.mean()) / np.sum((g - g.mean()) ** 2)
        steps = np.arange(g[0] + 1, g[-1] + 1)
        w = np.array([c[g >= s].sum() for s in steps])
        assert slope_variance_factor(g.astype(int)) == pytest.approx(np.sum(w**2), rel=1e-12)

    def test_repeated_generations_count_once(self):
        assert slope_variance_factor([0, 1, 1, 2]) == slope_variance_factor([0, 1, 2])

    def test_one_generation_warns(self):
        res, msg = only_warning(slope_variance_factor, [3, 3])
        assert nan(res) and msg == "need at least 2 distinct generations for a slope."


class TestIndependence:
    def test_values_against_the_formulas(self):
        z = np.random.default_rng(8).standard_normal((7, 9))
        res = independence_test(z, m4=3.5)
        w = np.sum(z.sum(axis=0) ** 2) / 7
        p_common = min(1, 2 * min(stats.chi2.sf(w, 9), stats.chi2.cdf(w, 9)))
        u = np.array([z[2 * p] @ z[2 * p + 1] / 9 for p in range(3)])
        s = 9 * np.sum(u**2)
        v = 2 + (3.5**2 - 3) / 9
        p_pairs = stats.chi2.sf(s / (v / 2), 2 * 3 / v)
        assert res.statistic == res.common_statistic == pytest.approx(w, rel=1e-13)
        assert res.common_pvalue == pytest.approx(p_common, rel=1e-12)
        assert res.pairs_statistic == pytest.approx(s, rel=1e-13)
        assert res.pairs_pvalue == pytest.approx(p_pairs, rel=1e-12)
        assert res.pvalue == pytest.approx(min(1, 2 * min(p_common, p_pairs)), rel=1e-12)
        assert (res.df, res.replicates) == (9, 7)
        assert res.mean_correlation == pytest.approx((w / 9 - 1) / 6, rel=1e-12)

    def test_centred_loses_one_degree_of_freedom(self):
        z = np.random.default_rng(9).standard_normal((6, 5))
        z -= z.mean()
        res = independence_test(z, centred=True)
        w = np.sum(z.sum(axis=0) ** 2) / 6
        assert res.df == 4
        assert res.common_pvalue == pytest.approx(
            min(1, 2 * min(stats.chi2.sf(w, 4), stats.chi2.cdf(w, 4))), rel=1e-12)
        assert res.mean_correlation == pytest.approx((w / 4 - 1) / 5, rel=1e-12)

    @pytest.mark.parametrize("z", [np.zeros((1, 5)), np.zeros((3, 0)),
                                   np.array([[0.0, np.nan], [1.0, 2.0]])])
    def test_degenerate(self, z):
        res, msg = only_warning(independence_test, z)
        assert msg == "need at least 2 replicates and 1 increment."
        fields = (res.statistic, res.pvalue, res.common_statistic, res.common_pvalue,
                  res.pairs_statistic, res.pairs_pvalue, res.mean_correlation)
        assert all(nan(v) for v in fields)
        assert (res.df, res.replicates) == (z.shape[1], z.shape[0])

    def test_centred_single_increment(self):
        res, msg = only_warning(independence_test, np.array([[0.5], [-0.5]]), centred=True)
        assert msg == "need at least 2 increments per replicate when centred."
        fields = (res.statistic, res.pvalue, res.common_statistic, res.common_pvalue,
                  res.pairs_statistic, res.pairs_pvalue, res.mean_correlation)
        assert all(nan(v) for v in fields)
        assert (res.df, res.replicates) == (1, 2)

    def test_pairs_with_small_positive_variance(self):
        # m4 = 1 (Z = +-1), T = 2: v = 2 + (1 - 3)/2 = 1 > 0, so the pairs test is used
        z = np.array([[1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [-1.0, 1.0]])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = independence_test(z, m4=1.0)
        u = np.array([z[0] @ z[1], z[2] @ z[3]]) / 2
        s = 2 * np.sum(u**2)
        assert res.pairs_statistic == pytest.approx(s)
        assert res.pairs_pvalue == pytest.approx(stats.chi2.sf(s / 0.5, 4 / 1), rel=1e-12)

    def test_pairs_without_variance(self):
        # T = 1, Z = +-1: m4 = 1 and every T u_p^2 = 1, so only the common test is used
        z = np.array([[1.0], [-1.0], [1.0], [1.0]])
        res, msg = only_warning(independence_test, z, m4=1.0)
        assert msg == ("neighbour-pair products have no variance; only the common-factor "
                       "test is used.")
        w = 4.0 / 4
        assert nan(res.pairs_pvalue) and res.pairs_statistic == 2.0
        assert res.pvalue == res.common_pvalue == pytest.approx(
            min(1, 2 * min(stats.chi2.sf(w, 1), stats.chi2.cdf(w, 1))), rel=1e-12)

    @pytest.mark.parametrize("m4", [0.5, math.nan])
    def test_bad_m4(self, m4):
        with pytest.raises(ValueError, match=r"^`m4` must be >= 1 \(E\[Z\^4\] >= E\[Z\^2\]\^2 "
                           rf"= 1\); got {m4}\.$"):
            independence_test(np.zeros((2, 2)), m4=m4)

    def test_odd_replicate_count_uses_floor_pairs(self):
        z = np.random.default_rng(10).standard_normal((5, 8))
        res = independence_test(z)
        u = np.array([z[0] @ z[1], z[2] @ z[3]]) / 8
        assert res.pairs_statistic == pytest.approx(8 * np.sum(u**2), rel=1e-13)
        v = 2 + (9 - 3) / 8
        assert res.pairs_pvalue == pytest.approx(
            stats.chi2.sf(8 * np.sum(u**2) / (v / 2), 4 / v), rel=1e-12)


def test_confidence_interval_is_a_plain_record():
    assert ConfidenceInterval(1.0, 2.0) == ConfidenceInterval(low=1.0, high=2.0)

