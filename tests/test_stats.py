"""Formal tests: calibration under H0, power against wrong inputs, identities, degenerate input.

Calibration follows scipy's ``test_ttest_uniform_pvalues``: with a fixed seed, p-values
simulated under H0 are compared with U(0, 1) by a KS test, asserted at a tiny level
(1e-4) so that the seeded outcome is far from the threshold. Power tests assert p < 1e-6
on inputs that are wrong by construction.
"""

import math
import re

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from scipy import special, stats
from statsmodels.stats.weightstats import ttost_paired

from collapsecheck.stats import (
    ConfidenceInterval,
    DegenerateDataWarning,
    DriftResult,
    drift_regression,
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

ALTERNATIVES = ("two-sided", "less", "greater")
TINY = 1e-4  # level at which seeded calibration checks are asserted
N_PVALUES = 300


def assert_uniform(p):
    """p-values are U(0, 1): KS test not rejected at a tiny level, and all in [0, 1]."""
    p = np.asarray(p, dtype=float)
    assert np.all((p >= 0) & (p <= 1))
    assert stats.kstest(p, "uniform").pvalue > TINY


def assert_conservative(p, levels=(0.01, 0.05, 0.1, 0.25, 0.5)):
    """P(p <= a) <= a up to binomial noise (5 SD), at each level a."""
    p = np.asarray(p, dtype=float)
    for a in levels:
        slack = 5 * math.sqrt(a * (1 - a) / p.size)
        assert np.mean(p <= a) <= a + slack, a


def random_walks(rng, generations, replicates, *, steps="normal", drift=0.0, n=5):
    """log sigma^2 random walks recorded at ``generations`` (0 at generation 0).

    ``steps='normal'``: N(drift, 1) steps, returns (walks, drift).
    ``steps='logchi2'``: log(chi2_k / k) steps with k = n - 1 (the sample-variance step of a
    normal chain with ddof=1); returns (walks, exact drift psi(k/2) + log(2/k)).
    """
    g = np.asarray(generations)
    shape = (*np.atleast_1d(replicates), int(g.max()))
    if steps == "normal":
        x = drift + rng.standard_normal(shape)
        mu = drift
    else:
        k = n - 1
        x = np.log(rng.chisquare(k, shape) / k)
        mu = float(special.digamma(k / 2) + math.log(2 / k))
    walk = np.concatenate([np.zeros((*shape[:-1], 1)), np.cumsum(x, axis=-1)], axis=-1)
    return walk[..., g], mu


def ols_slopes(generations, y):
    """Per-row OLS slope of y on generations (reference implementation)."""
    g = np.asarray(generations, dtype=float)
    c = (g - g.mean()) / np.sum((g - g.mean()) ** 2)
    return y @ c


# ---------------------------------------------------------------------------------------
# 1. Calibration: p-values uniform under H0
# ---------------------------------------------------------------------------------------


class TestCalibration:
    @pytest.mark.parametrize("method", ["ks", "cvm"])
    @pytest.mark.parametrize("n", [7, 60])
    def test_gof_exact_uniform_pvalues(self, method, n):
        rng = np.random.default_rng(20240601)
        x = rng.standard_normal((N_PVALUES, n))
        p = [gof_exact(row, stats.norm.cdf, method=method).pvalue for row in x]
        assert_uniform(p)

    def test_gof_two_sample_uniform_pvalues(self):
        # Coprime sizes: the exact statistic takes many values, the p-values are nearly
        # continuous.
        rng = np.random.default_rng(20240602)
        p = [gof_two_sample(rng.exponential(size=37), rng.exponential(size=53)).pvalue
             for _ in range(N_PVALUES)]
        assert_uniform(p)

    def test_gof_two_sample_conservative_equal_sizes(self):
        # Equal sizes: a discrete statistic, so the p-values are conservative, not uniform.
        rng = np.random.default_rng(20240603)
        p = [gof_two_sample(rng.random(20), rng.random(20)).pvalue for _ in range(1000)]
        assert_conservative(p)

    @pytest.mark.parametrize("alternative", ALTERNATIVES)
    @pytest.mark.parametrize("df", [None, 4])
    def test_z_test_uniform_pvalues(self, alternative, df):
        rng = np.random.default_rng(20240604)
        se, null = 0.3, 1.7
        noise = rng.standard_normal(1000) if df is None else rng.standard_t(df, 1000)
        p = [z_test(null + se * e, se, null=null, alternative=alternative, df=df).pvalue
             for e in noise]
        assert_uniform(p)

    @pytest.mark.parametrize("df", [None, 9])
    def test_tost_at_lower_margin_is_conservative(self, df):
        rng = np.random.default_rng(20240605)
        low, upp, se = -0.2, 0.3, 0.1
        noise = rng.standard_normal(2000) if df is None else rng.standard_t(df, 2000)
        p = np.array([tost(low + se * e, se, low=low, upp=upp, df=df).pvalue for e in noise])
        assert_conservative(p)

    def test_tost_at_margin_with_wide_margins_is_uniform(self):
        # The other margin is 50 SE away: the TOST p-value is the exact one-sided one.
        rng = np.random.default_rng(20240606)
        upp, se = 1.0, 0.02
        p = [tost(upp + se * e, se, low=-upp, upp=upp).pvalue
             for e in rng.standard_normal(1000)]
        assert_uniform(p)

    @pytest.mark.parametrize(
        ("steps", "generations", "replicates"),
        [
            ("normal", np.arange(21), 8),
            ("logchi2", np.array([0, 1, 2, 4, 8, 16, 32]), 5),
            ("logchi2", np.array([3, 5, 6, 20, 21, 40]), 12),
        ],
    )
    def test_drift_regression_uniform_pvalues(self, steps, generations, replicates):
        rng = np.random.default_rng(20240607)
        walks, mu = random_walks(rng, generations, (N_PVALUES, replicates), steps=steps,
                                 drift=-0.03)
        p = [drift_regression(generations, y, null=mu).pvalue for y in walks]
        assert_uniform(p)

    def test_drift_regression_one_sided_uniform_pvalues(self):
        rng = np.random.default_rng(20240608)
        generations = np.arange(0, 30, 3)
        walks, mu = random_walks(rng, generations, (N_PVALUES, 6), steps="logchi2", n=3)
        p = [drift_regression(generations, y, null=mu, alternative="less").pvalue
             for y in walks]
        assert_uniform(p)

    @pytest.mark.parametrize(("replicates", "T"), [(2, 1), (3, 4), (20, 30), (200, 5)])
    def test_independence_common_uniform_pvalues(self, replicates, T):
        # W is exactly chi2_T for independent normal Z, whatever R and T.
        rng = np.random.default_rng(20240609)
        z = rng.standard_normal((N_PVALUES, replicates, T))
        assert_uniform([independence_test(zi).common_pvalue for zi in z])

    @pytest.mark.parametrize(
        ("replicates", "T", "dist"),
        [(20, 30, "normal"), (200, 5, "normal"), (10, 200, "normal"), (20, 30, "uniform")],
    )
    def test_independence_pairs_and_combined_pvalues(self, replicates, T, dist):
        # The neighbour-pair statistic is referred to a moment-matched (Satterthwaite)
        # scaled chi-square: uniform p-values once there are a few pairs or increments.
        # The Bonferroni combination is conservative.
        rng = np.random.default_rng(20240610)
        shape = (N_PVALUES, replicates, T)
        if dist == "normal":
            z, m4 = rng.standard_normal(shape), 3.0
        else:
            z, m4 = (rng.random(shape) - 0.5) * math.sqrt(12), 9 / 5
        res = [independence_test(zi, m4=m4) for zi in z]
        assert_uniform([r.pairs_pvalue for r in res])
        combined = np.array([r.pvalue for r in res])
        assert_conservative(combined)
        assert np.all(combined == np.minimum(1, 2 * np.minimum(
            [r.common_pvalue for r in res], [r.pairs_pvalue for r in res])))
        assert all(r.statistic == r.common_statistic for r in res)


# ---------------------------------------------------------------------------------------
# 2. Power: clearly wrong inputs are rejected
# ---------------------------------------------------------------------------------------


class TestDetection:
    def test_drift_regression_rejects_wrong_null(self):
        rng = np.random.default_rng(1)
        g = np.arange(50)
        walks, mu = random_walks(rng, g, 40, steps="logchi2", n=5)
        res = drift_regression(g, walks, null=0.0, alternative="less")
        assert mu < -0.1 and res.pvalue < 1e-6
        assert res.estimate == pytest.approx(mu, abs=5 * res.se)
        # the opposite direction is not supported at all
        assert drift_regression(g, walks, null=0.0, alternative="greater").pvalue > 1 - 1e-6

    def test_gof_exact_rejects_shift(self):
        x = np.random.default_rng(2).normal(0.5, 1, 300)
        assert gof_exact(x, stats.norm.cdf, method="ks").pvalue < 1e-6
        assert gof_exact(x, stats.norm.cdf, method="cvm").pvalue < 1e-6

    def test_gof_two_sample_rejects_scale(self):
        rng = np.random.default_rng(3)
        assert gof_two_sample(rng.normal(0, 1, 400), rng.normal(0, 3, 400)).pvalue < 1e-6

    def test_independence_rejects_shared_random_numbers(self):
        row = np.random.default_rng(4).standard_normal(50)
        row /= np.sqrt(np.mean(row**2))  # sum of squares exactly T: every correlation is 1
        res = independence_test(np.tile(row, (50, 1)))
        assert res.pvalue < 1e-6
        assert res.common_pvalue < 1e-6 and res.pairs_pvalue < 1e-6
        # W = sum_t (R z_t)^2 / R = R T, and the estimated correlation (W/T - 1)/(R - 1) = 1;
        # each neighbour pair has u_p = 1, so S = T (R/2).
        assert res.common_statistic == pytest.approx(50 * 50, rel=1e-12)
        assert res.mean_correlation == pytest.approx(1, rel=1e-12)
        assert res.pairs_statistic == pytest.approx(50 * 25, rel=1e-12)

    def test_independence_rejects_neighbour_reuse(self):
        # replicate 2p + 1 reuses replicate 2p's numbers: W only doubles, the pairs see it
        z = np.repeat(np.random.default_rng(14).standard_normal((40, 60)), 2, axis=0)
        res = independence_test(z)
        assert res.pairs_pvalue < 1e-6 and res.pvalue < 1e-6

    def test_independence_rejects_weak_equicorrelation(self):
        rho, R, T = 0.05, 200, 200
        rng = np.random.default_rng(5)
        z = math.sqrt(rho) * rng.standard_normal(T) + math.sqrt(1 - rho) * rng.standard_normal(
            (R, T))
        res = independence_test(z)
        assert res.pvalue < 1e-6
        assert res.mean_correlation == pytest.approx(rho, abs=0.02)

    def test_independence_rejects_negative_dependence(self):
        # replicates that sum to zero in every column: W = 0, rejected on the lower side
        R, T = 30, 40
        z = np.random.default_rng(6).standard_normal((R, T))
        z = (z - z.mean(axis=0)) * math.sqrt(R / (R - 1))
        res = independence_test(z)
        assert res.pvalue < 1e-6
        assert res.mean_correlation < 0

    def test_z_test_far_from_null(self):
        assert z_test(10.0, 1.0).pvalue < 1e-6
        assert z_test(10.0, 1.0, alternative="greater").pvalue < 1e-6
        assert z_test(10.0, 1.0, alternative="less").pvalue > 1 - 1e-6
        assert z_test(-10.0, 1.0, df=30, alternative="less").pvalue < 1e-6
        assert z_test(10.0, 1.0).statistic == 10.0

    def test_tost_detects_equivalence_and_not_outside(self):
        assert tost(0.0, 0.01, low=-1, upp=1).pvalue < 1e-6
        assert tost(2.0, 0.01, low=-1, upp=1).pvalue > 1 - 1e-6


# ---------------------------------------------------------------------------------------
# 3. Identities
# ---------------------------------------------------------------------------------------

finite = st.floats(min_value=-100, max_value=100, allow_nan=False)
ses = st.floats(min_value=1e-2, max_value=1e2)
dfs = st.one_of(st.none(), st.floats(min_value=1, max_value=1e4))


@st.composite
def margins(draw):
    low = draw(finite)
    width = draw(st.floats(min_value=1e-3, max_value=100))
    upp = low + width
    assume(low < upp)
    return low, upp


class TestIdentities:
    @given(finite, ses, margins(), dfs)
    def test_tost_pvalue_is_max_of_one_sided(self, estimate, se, lu, df):
        low, upp = lu
        res = tost(estimate, se, low=low, upp=upp, df=df)
        lower = z_test(estimate, se, null=low, alternative="greater", df=df)
        upper = z_test(estimate, se, null=upp, alternative="less", df=df)
        assert res.lower == lower and res.upper == upper
        assert res.pvalue == max(lower.pvalue, upper.pvalue)
        assert res.statistic in (lower.statistic, upper.statistic)
        assert (res.low, res.upp) == (low, upp)

    @given(finite, ses, dfs, st.floats(min_value=0.5, max_value=0.999))
    def test_z_test_ci_pvalue_duality(self, estimate, se, df, level):
        ci = z_test(estimate, se, df=df).confidence_interval(level)
        assert ci.low < estimate < ci.high
        for edge in (ci.low, ci.high):
            p = z_test(estimate, se, null=edge, df=df).pvalue
            assert p == pytest.approx(1 - level, rel=1e-6)

    @given(finite, ses, margins(), dfs, st.floats(min_value=1e-4, max_value=0.4))
    @example(0.0, 1.0, (-1.0, 1.0), None, 0.05)  # a CI wider than the margins
    def test_tost_rejects_iff_ci_within_margins(self, estimate, se, lu, df, alpha):
        low, upp = lu
        res = tost(estimate, se, low=low, upp=upp, df=df)
        ci = res.confidence_interval(1 - 2 * alpha)
        tol = 1e-9 * (abs(low) + abs(upp) + abs(estimate) + se)
        assume(abs(ci.low - low) > tol and abs(ci.high - upp) > tol)
        assert (res.pvalue < alpha) == (low < ci.low and ci.high < upp)

    @pytest.mark.parametrize("n", [4, 12, 50])
    @pytest.mark.parametrize("alternative", ALTERNATIVES)
    def test_z_test_with_df_matches_scipy_one_sample_t(self, n, alternative):
        # Reference: scipy.stats.ttest_1samp on data with that mean and standard error.
        d = np.random.default_rng(n).normal(0.3, 1, n)
        ref = stats.ttest_1samp(d, popmean=0.1, alternative=alternative)
        res = z_test(d.mean(), d.std(ddof=1) / math.sqrt(n), null=0.1, df=n - 1,
                     alternative=alternative)
        assert res.statistic == pytest.approx(ref.statistic, rel=1e-12)
        assert res.pvalue == pytest.approx(ref.pvalue, rel=1e-9)
        ci, ref_ci = res.confidence_interval(0.9), ref.confidence_interval(0.9)
        if alternative == "two-sided":
            assert (ci.low, ci.high) == pytest.approx((ref_ci.low, ref_ci.high), rel=1e-12)

    @pytest.mark.parametrize(("low", "upp"), [(-0.5, 0.5), (0.0, 0.8), (-2.0, -0.1)])
    def test_tost_matches_statsmodels_ttost_paired(self, low, upp):
        # Reference: statsmodels' ttost_paired on paired differences d (x2 = 0).
        n = 15
        d = np.random.default_rng(7).normal(0.2, 0.6, n)
        p_ref, (t_lo, p_lo, _), (t_up, p_up, _) = ttost_paired(d, np.zeros(n), low, upp)
        res = tost(d.mean(), d.std(ddof=1) / math.sqrt(n), low=low, upp=upp, df=n - 1)
        assert res.pvalue == pytest.approx(p_ref, rel=1e-9)
        assert (res.lower.statistic, res.lower.pvalue) == pytest.approx((t_lo, p_lo), rel=1e-9)
        assert (res.upper.statistic, res.upper.pvalue) == pytest.approx((t_up, p_up), rel=1e-9)

    @pytest.mark.parametrize(
        ("true_value", "df"), [(0.0, None), (0.25, None), (-0.3, 5), (0.45, 40)]
    )
    def test_tost_power_matches_monte_carlo(self, true_value, df):
        low, upp, se, alpha, reps = -0.5, 0.5, 0.15, 0.05, 4000
        power = tost_power(se, low=low, upp=upp, true_value=true_value, alpha=alpha, df=df)
        est = true_value + se * np.random.default_rng(8).standard_normal(reps)
        hits = sum(tost(e, se, low=low, upp=upp, df=df).pvalue < alpha for e in est)
        # two-sided binomial test of the Monte Carlo count against the stated power
        assert stats.binomtest(hits, reps, power).pvalue > TINY

    def test_tost_power_is_zero_when_margins_too_narrow(self):
        # 2 q se > upp - low: no estimate can be declared equivalent
        assert tost_power(1.0, low=-1, upp=1, true_value=0, alpha=0.05) == 0.0

    @pytest.mark.parametrize(
        "generations",
        [
            np.arange(10),
            np.arange(0, 101, 10),
            np.array([0, 1, 2, 5, 10, 20]),
            np.array([3, 4, 10, 11, 30]),
            np.array([0, 50]),
        ],
        ids=["0..9", "every10", "geometric", "uneven-offset", "two-points"],
    )
    def test_slope_variance_factor_matches_monte_carlo(self, generations):
        step_sd, reps = 0.7, 40_000
        walks, _ = random_walks(np.random.default_rng(9), generations, reps, drift=0.1)
        slopes = ols_slopes(generations, walks * step_sd)
        expected = step_sd**2 * slope_variance_factor(generations)
        sample_var = slopes.var(ddof=1)
        # chi-square interval for the sample variance of normal slopes, at a tiny level
        lo, hi = stats.chi2.ppf([TINY / 2, 1 - TINY / 2], reps - 1) / (reps - 1)
        assert lo < sample_var / expected < hi

    @given(st.lists(st.integers(0, 500), min_size=2, max_size=30, unique=True))
    def test_slope_variance_factor_equals_quadratic_form(self, gens):
        # Reference: Var(sum c_j y_j) = c' S c with Cov(y_g, y_h) = min(g, h) for a unit
        # random walk from generation 0 (sum c_j = 0, so the start does not matter).
        g = np.sort(np.array(gens))
        c = (g - g.mean()) / np.sum((g - g.mean()) ** 2)
        expected = c @ np.minimum.outer(g, g) @ c
        assert slope_variance_factor(g) == pytest.approx(expected, rel=1e-9)

    def test_slope_variance_factor_of_two_generations(self):
        # two points a < b: the slope is (y_b - y_a) / (b - a), a sum of b - a steps over
        # (b - a), so its variance is 1 / (b - a) whatever a is.
        assert slope_variance_factor([0, 1]) == pytest.approx(1.0, rel=1e-15)
        assert slope_variance_factor([4, 9]) == pytest.approx(5 / 25, rel=1e-15)

    @pytest.mark.parametrize(
        "generations", [np.arange(12), np.array([0, 2, 3, 7, 15, 16])], ids=["even", "uneven"]
    )
    def test_drift_slope_is_mean_of_chain_slopes(self, generations):
        walks, _ = random_walks(np.random.default_rng(10), generations, 9, steps="logchi2")
        res = drift_regression(generations, walks)
        b = ols_slopes(generations, walks)
        assert res.estimate == pytest.approx(b.mean(), rel=1e-10)
        # balanced design: the cluster-robust SE is the one-sample t SE of the chain slopes,
        # times statsmodels' small-sample factor sqrt((N - 1) / (N - 2)), N = R G.
        N = walks.size
        se_ref = b.std(ddof=1) / math.sqrt(b.size) * math.sqrt((N - 1) / (N - 2))
        assert res.se == pytest.approx(se_ref, rel=1e-9)
        assert (res.df, res.replicates, res.generations) == (8, 9, generations.size)

    def test_drift_regression_se_agrees_with_slope_variance_factor(self):
        # The cluster-robust SE estimates sqrt(step_var * factor / R).
        g = np.array([0, 1, 3, 6, 10, 15])
        walks, _ = random_walks(np.random.default_rng(11), g, 4000, steps="normal")
        res = drift_regression(g, walks)
        assert res.se == pytest.approx(math.sqrt(slope_variance_factor(g) / 4000), rel=0.05)

    @given(st.floats(min_value=-10, max_value=10), st.floats(min_value=1e-3, max_value=10),
           st.integers(1, 1000), st.floats(min_value=0.5, max_value=0.999))
    @example(-1.0, 0.1, 10, 0.95)  # CI entirely below 0
    @example(-0.1, 1.0, 10, 0.95)  # CI straddles 0
    @example(1.0, 0.1, 10, 0.95)  # CI entirely above 0
    def test_half_life_maps_ci_monotonically(self, estimate, se, df, level):
        res = DriftResult(estimate, se, estimate / se, 0.5, 0.0, "two-sided", df, df + 1, 5)
        ci = res.confidence_interval(level)
        hl, hl_ci = res.half_life(level)

        def h(b):
            return 2 * math.log(2) / -b if b < 0 else math.inf

        assert hl == h(estimate)
        assert hl_ci == ConfidenceInterval(h(ci.low), h(ci.high))
        assert 0 < hl_ci.low <= hl <= hl_ci.high
        if ci.high < 0:
            assert math.isfinite(hl_ci.high)
        else:
            assert hl_ci.high == math.inf

    def test_half_life_of_known_drift(self):
        # slope -2 log 2 / 10: sigma halves every 10 generations
        b = -2 * math.log(2) / 10
        res = DriftResult(b, 1e-3, b / 1e-3, 0.0, 0.0, "two-sided", 30, 31, 5)
        assert res.half_life()[0] == pytest.approx(10, rel=1e-14)

    @staticmethod
    def _tent_sample(rng, gap, size):
        # F(x) = x + gap (1 - |2x - 1|) on [0, 1]: sup |F - U(0,1)| = gap, at x = 1/2,
        # where the empirical CDF is least precise (the bound's worst case).
        u = rng.random(size)
        return np.where(u <= 0.5 + gap, u / (1 + 2 * gap), (u - 2 * gap) / (1 - 2 * gap))

    @pytest.mark.parametrize(("n", "alpha"), [(30, 0.01), (200, 1e-3)])
    def test_kolmogorov_detectable_gap_one_sample(self, n, alpha):
        gap, reps = kolmogorov_detectable_gap(n, alpha), 400
        assert 0 < gap < 0.5
        rng = np.random.default_rng(12)
        hits = sum(gof_exact(self._tent_sample(rng, gap, n), stats.uniform.cdf).pvalue < alpha
                   for _ in range(reps))
        assert stats.binomtest(hits, reps, 0.9, alternative="less").pvalue > TINY
        # and a shifted uniform, whose CDF is off by the gap on a whole interval
        hits = sum(gof_exact(rng.uniform(gap, 1 + gap, n), stats.uniform.cdf).pvalue < alpha
                   for _ in range(reps))
        assert stats.binomtest(hits, reps, 0.9, alternative="less").pvalue > TINY

    def test_kolmogorov_detectable_gap_two_sample(self):
        n, m, alpha, reps = 120, 80, 0.01, 400
        gap = kolmogorov_detectable_gap(n, alpha, m=m)
        assert gap == pytest.approx(kolmogorov_detectable_gap(n * m // (n + m), alpha))
        rng = np.random.default_rng(13)
        hits = sum(gof_two_sample(self._tent_sample(rng, gap, n), rng.random(m)).pvalue < alpha
                   for _ in range(reps))
        assert stats.binomtest(hits, reps, 0.9, alternative="less").pvalue > TINY

    def test_kolmogorov_detectable_gap_shrinks_with_n_and_alpha(self):
        gaps = [kolmogorov_detectable_gap(n, 0.01) for n in (10, 100, 1000)]
        assert gaps[0] > gaps[1] > gaps[2]
        assert gaps[1] * math.sqrt(100) == pytest.approx(gaps[2] * math.sqrt(1000))
        assert kolmogorov_detectable_gap(100, 1e-3) > kolmogorov_detectable_gap(100, 1e-2)


# ---------------------------------------------------------------------------------------
# 4. Degenerate and invalid input
# ---------------------------------------------------------------------------------------


def _is_nan_result(res):
    return math.isnan(res.statistic) and math.isnan(res.pvalue)


class TestDegenerate:
    @pytest.mark.parametrize("se", [0.0, -1.0, math.nan, math.inf])
    @pytest.mark.parametrize("alternative", ALTERNATIVES)
    def test_z_test_bad_se(self, se, alternative):
        with pytest.warns(DegenerateDataWarning, match=r"a positive finite `se`"):
            res = z_test(1.0, se, alternative=alternative)
        assert _is_nan_result(res)

    @pytest.mark.parametrize("se", [0.0, math.nan])
    def test_tost_bad_se(self, se):
        with pytest.warns(DegenerateDataWarning, match=r"a positive finite `se`"):
            res = tost(0.0, se, low=-1, upp=1)
        assert _is_nan_result(res)

    @pytest.mark.parametrize("x", [[], [0.3], [0.1, math.nan, 0.5], [0.2, math.inf]])
    @pytest.mark.parametrize("method", ["ks", "cvm"])
    def test_gof_exact_too_few_or_nonfinite(self, x, method):
        with pytest.warns(DegenerateDataWarning, match=r"`x` needs at least 2 finite values"):
            res = gof_exact(x, stats.uniform.cdf, method=method)
        assert _is_nan_result(res)
        assert res.n == len(x)

    @pytest.mark.parametrize("shape", [(1, 10), (5, 1), (1, 1)])
    def test_drift_regression_too_few(self, shape):
        with pytest.warns(DegenerateDataWarning, match=r"at least 2 replicates and 2 recorded"):
            res = drift_regression(np.arange(shape[1]), np.zeros(shape))
        assert _is_nan_result(res) and math.isnan(res.estimate) and math.isnan(res.se)
        assert (res.replicates, res.generations) == shape

    @pytest.mark.parametrize("shape", [(1, 10), (5, 0)])
    def test_independence_too_few(self, shape):
        with pytest.warns(DegenerateDataWarning, match=r"at least 2 replicates and 1 increment"):
            res = independence_test(np.zeros(shape))
        assert _is_nan_result(res) and math.isnan(res.mean_correlation)
        assert all(math.isnan(x) for x in (res.common_statistic, res.common_pvalue,
                                           res.pairs_statistic, res.pairs_pvalue))

    @pytest.mark.parametrize("bad", ["two_sided", "Less", "", "greater "])
    def test_invalid_alternative(self, bad):
        msg = re.escape(f"`alternative` must be one of {ALTERNATIVES}; got {bad!r}.")
        with pytest.raises(ValueError, match=msg):
            z_test(1.0, 1.0, alternative=bad)
        with pytest.raises(ValueError, match=msg):
            drift_regression(np.arange(3), np.zeros((2, 3)), alternative=bad)

    def test_invalid_method_and_margins(self):
        msg = re.escape("`method` must be 'ks' or 'cvm'; got 'ad'.")
        with pytest.raises(ValueError, match=msg):
            gof_exact([0.1, 0.2, 0.3], stats.uniform.cdf, method="ad")
        with pytest.raises(ValueError, match=re.escape("need `low` < `upp`; got 1, 1.")):
            tost(0.0, 1.0, low=1, upp=1)
        with pytest.raises(ValueError, match=re.escape("need `low` < `upp`; got 2, -2.")):
            tost(0.0, 1.0, low=2, upp=-2)

    @given(st.integers(0, 10**6), st.integers(0, 10**6))
    def test_mc_pvalue(self, k, n):
        if k <= n:
            p = mc_pvalue(k, n)
            assert p == (k + 1) / (n + 1)
            assert 0 < p <= 1
        else:
            with pytest.raises(ValueError, match=re.escape(
                    f"need 0 <= `extreme` <= `total`; got {k}, {n}.")):
                mc_pvalue(k, n)

    def test_mc_pvalue_never_zero_and_refuses_negative(self):
        assert mc_pvalue(0, 999) == 1e-3
        assert mc_pvalue(5, 5) == 1.0
        with pytest.raises(ValueError, match=re.escape("got -1, 5.")):
            mc_pvalue(-1, 5)
        with pytest.raises(ValueError, match=re.escape("got 0, -1.")):
            mc_pvalue(0, -1)


# ---------------------------------------------------------------------------------------
# Regressions: degenerate and malformed input (each was once mishandled).
# ---------------------------------------------------------------------------------------


class TestDegenerateRegressions:
    def test_slope_variance_factor_unsorted_grid(self):
        assert slope_variance_factor([2, 0, 1]) == pytest.approx(slope_variance_factor([0, 1, 2]))

    def test_slope_variance_factor_single_generation(self):
        with pytest.warns(DegenerateDataWarning):
            assert math.isnan(slope_variance_factor([5]))

    def test_z_test_nan_estimate(self):
        with pytest.warns(DegenerateDataWarning):
            assert math.isnan(z_test(math.nan, 1.0).pvalue)

    def test_independence_nonfinite(self):
        z = np.random.default_rng(0).standard_normal((5, 4))
        z[0, 0] = math.nan
        with pytest.warns(DegenerateDataWarning):
            assert math.isnan(independence_test(z).pvalue)

    def test_independence_zero_pair_variance(self):
        z = np.random.default_rng(0).choice([-1.0, 1.0], (6, 1))
        with pytest.warns(DegenerateDataWarning):
            assert math.isnan(independence_test(z, m4=1.0).pairs_pvalue)

    @pytest.mark.parametrize("se", [0.0, -1.0])
    def test_z_test_degenerate_confidence_interval(self, se):
        with pytest.warns(DegenerateDataWarning):
            res = z_test(1.0, se)
        ci = res.confidence_interval()
        assert math.isnan(ci.low) and math.isnan(ci.high)

    def test_half_life_of_degenerate_result(self):
        with pytest.warns(DegenerateDataWarning):
            res = drift_regression([0, 1], np.ones((1, 2)))
        hl, ci = res.half_life()
        assert math.isnan(hl) and math.isnan(ci.low) and math.isnan(ci.high)

    def test_gof_two_sample_empty(self):
        with pytest.warns(DegenerateDataWarning):
            assert math.isnan(gof_two_sample([], [0.1, 0.2]).pvalue)

    @pytest.mark.parametrize("chain", [[0.0, 1.0, 2.0], [1.0, 1.0, 1.0]], ids=["line", "const"])
    def test_drift_regression_no_spread_between_chains(self, chain):
        with pytest.warns(DegenerateDataWarning):
            res = drift_regression([0, 1, 2], np.tile(chain, (3, 1)))
        assert math.isnan(res.pvalue)
