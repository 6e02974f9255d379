"""Tests written to kill mutants that survived ``tools/mutation.py`` (reports/mutation/):
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
    if "mutmut" in sys.modules:  # under mutmut a trampoline is the function's caller
        assert w.filename.endswith(os.path.join("mutmut", "mutation", "trampoline.py"))
    else:
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
        res = tost(0.05, 0.2, low=-0.5, upp=0.6)
        assert res.lower.pvalue == pytest.approx(res.upper.pvalue, rel=1e-12)
        assert res.statistic in (res.lower.statistic, res.upper.statistic)

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
        assert nan(res.pvalue) and nan(res.statistic) and nan(res.mean_correlation)
        assert (res.df, res.replicates) == (1, 2)

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

    @pytest.mark.parametrize("k", [1.5, 29.5, 29.999, 30.0, 30.5, 400.0, 5e6])
    def test_digamma_minus_log_on_both_sides_of_the_switch(self, k):
        from collapsecheck.families.gaussian.theory.steps import _digamma_minus_log

        want = float(MP.digamma(k) - MP.log(k))
        assert _digamma_minus_log(k) == pytest.approx(want, rel=1e-13)

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

        t = np.array([0.0, 1e-3, -0.2, k / 8, -k / 4, k / 4 * 1.001, 3 * k, -40.0])
        got = _centered_log_cf(t, k)
        for ti, gi in zip(t, got, strict=True):
            want = (MP.loggamma(k + 1j * MP.mpf(ti)) - MP.loggamma(k)
                    - 1j * MP.mpf(ti) * MP.digamma(k))
            assert gi.real == pytest.approx(float(want.real), rel=1e-10, abs=1e-14)
            assert gi.imag == pytest.approx(float(want.imag), rel=1e-10, abs=1e-14)
        # only the direct branch (every |t| > k/4, or t = 0)
        big = np.array([0.0, 2 * k, -3 * k])
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
        assert float(law.pdf(law.mean + 60 * law.sd)) == 0.0  # clipped at 0, not negative
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
