"""What makes a seed cheap, and that it changes no answer beyond its stated error.

* The exact law of log sigma_T^2 is tabulated once per design
  (:meth:`LogVarianceLaw.tabulated_cdf`): within ``TABULATED_CDF_ERROR`` of the exact
  CDF everywhere, tails included, so a KS distance moves by at most that much.
* The drift checks' cluster-robust slope is computed in closed form for the balanced
  panel: equal to statsmodels' OLS with ``cov_type='cluster'`` in estimate, SE, t and p.
* Nothing that does not depend on the seed is recomputed at the next seed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from collapsecheck.checks import build_check
from collapsecheck.families.gaussian.checks.base import engine_simulator
from collapsecheck.stats import (
    DegenerateDataWarning,
    _cluster_slope,
    _cluster_slope_statsmodels,
    drift_regression,
    gof_exact,
)
from collapsecheck.theory import TABULATED_CDF_ERROR, LogVarianceLaw, TabulatedCDF

# (n, T, ddof): the most skewed law (n = 2, T = 1), the small-n designs of the profiles,
# and near-normal ones up to n = 10^6 and T = 10^4
DESIGNS = [(2, 1, 0.0), (2, 10, 0.0), (3, 10, 0.0), (3, 10, 1.0), (4, 3, 0.5), (5, 10, 0.5),
           (10, 10, 0.0), (100, 10, 1.0), (1000, 1000, 0.0), (1000, 10000, 0.0),
           (10**6, 5, 0.0)]


def _points(law: LogVarianceLaw, table: TabulatedCDF, rng) -> np.ndarray:
    """Random points over the whole table, its far tails and beyond both of its ends."""
    lo, hi = table.y_range
    y = np.concatenate([
        rng.uniform(lo, hi, 1500),                 # everywhere on the table
        rng.standard_normal(500),                  # where the data fall
        rng.uniform(lo, lo + 4, 200),              # the far left tail (F ~ 1e-14 .. 1e-6)
        rng.uniform(hi - 4, hi, 200),              # the far right tail
        rng.uniform(lo - 6, lo, 50), rng.uniform(hi, hi + 6, 50),  # beyond the table
        [lo, hi],
    ])
    return law.mean + law.sd * y


class TestTabulatedCdf:
    @pytest.mark.parametrize(("n", "T", "ddof"), DESIGNS, ids=[f"n{n}-T{t}-d{d:g}"
                                                              for n, t, d in DESIGNS])
    def test_within_stated_error_of_exact_cdf(self, n, T, ddof):
        law = LogVarianceLaw(n, T, ddof)
        table = law.tabulated_cdf()
        assert table.nodes > 0  # a real table (not the exact fallback) at every design
        assert table.max_node_error <= TABULATED_CDF_ERROR / 10
        x = _points(law, table, np.random.default_rng(n * 7919 + T))
        exact, tab = law.cdf(x), table(x)
        assert np.max(np.abs(tab - exact)) <= TABULATED_CDF_ERROR
        assert np.all((tab >= 0) & (tab <= 1))
        # beyond the table the exact CDF is evaluated (to the rounding of its sums)
        y = (x - law.mean) / law.sd
        outside = (y < table.y_range[0]) | (y > table.y_range[1])
        assert outside.sum() >= 100
        assert np.max(np.abs(tab[outside] - exact[outside])) <= 1e-14

    def test_table_reaches_where_the_tails_are_negligible(self):
        for n, T, ddof in DESIGNS:
            law = LogVarianceLaw(n, T, ddof)
            lo, hi = law.tabulated_cdf().y_range
            F = law.cdf(law.mean + law.sd * np.array([lo, hi]))
            assert F[0] <= 1e-14 and 1 - F[1] <= 1e-14

    def test_scalar_array_and_shape(self):
        law = LogVarianceLaw(3, 10, 0.0)
        table = law.tabulated_cdf()
        assert isinstance(table(law.mean), float)
        x = law.mean + law.sd * np.linspace(-3, 3, 12).reshape(3, 4)
        assert table(x).shape == (3, 4)
        assert np.max(np.abs(table(x) - law.cdf(x))) <= TABULATED_CDF_ERROR
        assert math.isnan(table(math.nan))

    def test_cached_per_design(self):
        a = LogVarianceLaw(3, 10, 0).tabulated_cdf()
        assert LogVarianceLaw(3, 10, 0.0).tabulated_cdf() is a
        assert LogVarianceLaw(3, 10, 1.0).tabulated_cdf() is not a

    def test_zero_generations_is_the_exact_point_mass(self):
        law = LogVarianceLaw(5, 0, 0.0)
        table = law.tabulated_cdf()
        assert table.nodes == 0
        x = np.array([-1.0, -1e-300, 0.0, 2.0])
        assert np.array_equal(table(x), law.cdf(x))

    @pytest.mark.parametrize(("n", "T", "ddof", "size"),
                             [(3, 10, 0.0, 5000), (1000, 1000, 0.0, 2000), (4, 3, 0.5, 5000)])
    def test_ks_distance_and_pvalue_move_within_the_bound(self, n, T, ddof, size):
        # |D(table) - D(exact)| <= sup |table - exact| (triangle inequality), and the
        # p-value moves by at most 1.7 sqrt(N) times that (the density of D_N).
        law = LogVarianceLaw(n, T, ddof)
        x = law.sample(size, rng=np.random.default_rng(size + n))
        exact, tab = gof_exact(x, law.cdf), gof_exact(x, law.tabulated_cdf())
        assert abs(tab.statistic - exact.statistic) <= TABULATED_CDF_ERROR
        assert abs(tab.pvalue - exact.pvalue) <= 1.7 * math.sqrt(size) * TABULATED_CDF_ERROR
        # and what is claimed for the density of D_N holds at this N
        d = np.linspace(0.2, 3.0, 2000) / math.sqrt(size)
        assert stats.kstwo.pdf(d, size).max() <= 1.7 * math.sqrt(size)


def _statsmodels_fit(g, y):
    R, G = y.shape
    X = sm.add_constant(np.tile(g, R))
    groups = np.repeat(np.arange(R), G)
    return sm.OLS(y.ravel(), X).fit(cov_type="cluster", cov_kwds={"groups": groups},
                                    use_t=True)


def _designs():
    rng = np.random.default_rng(20241125)
    out = []
    for R, gens, kind in [(20, np.arange(11), "normal"), (37, np.array([0, 1, 2, 5, 10, 20]), "lc"),
                          (200, np.unique(np.linspace(0, 50, 51).round()), "lc"),
                          (1000, np.unique(np.linspace(0, 1000, 201).round()), "lc"),
                          (25, np.array([3, 4, 10, 11, 30]), "normal"),
                          (60, np.array([0, 7]), "normal"), (2, np.array([0, 1, 2]), "normal")]:
        T = int(gens.max())
        if kind == "normal":
            steps = rng.normal(0.3, 1.0, (R, T))
        else:  # log-chi-square steps at n = 4 with an offset (a collapsed chain's level)
            steps = np.log(rng.chisquare(3, (R, T)) / 4)
        walk = np.concatenate([np.zeros((R, 1)), np.cumsum(steps, axis=1)], axis=1)
        offset = rng.uniform(-30, 5)
        gens = gens.astype(int)
        out.append((gens.astype(float), walk[:, gens] + offset))
    return out


class TestClosedFormClusterSlope:
    @pytest.mark.parametrize("case", range(7))
    def test_equals_statsmodels(self, case):
        g, y = _designs()[case]
        R = y.shape[0]
        fit = _statsmodels_fit(g, y)
        est, se = _cluster_slope(g, y)
        assert est == pytest.approx(fit.params[1], rel=1e-10)
        assert se == pytest.approx(fit.bse[1], rel=1e-10)
        assert (est, se) == pytest.approx(_cluster_slope_statsmodels(g, y), rel=1e-10)
        # t and p against 0 as statsmodels reports them (t on n_groups - 1 df)
        res = drift_regression(g, y)
        assert res.df == fit.df_resid_inference == R - 1
        assert res.statistic == pytest.approx(fit.tvalues[1], rel=1e-10)
        assert res.pvalue == pytest.approx(fit.pvalues[1], rel=1e-10)
        # and against another null, two- and one-sided (statsmodels' t_test)
        null = float(est + 1.3 * se)
        tt = fit.t_test((np.array([[0.0, 1.0]]), np.array([null])))
        res = drift_regression(g, y, null=null)
        assert res.statistic == pytest.approx(float(tt.tvalue.item()), rel=1e-10)
        assert res.pvalue == pytest.approx(float(tt.pvalue), rel=1e-10)
        less = drift_regression(g, y, null=null, alternative="less")
        assert less.pvalue == pytest.approx(stats.t.cdf(float(tt.tvalue.item()), R - 1),
                                            rel=1e-10)

    def test_constant_generations_are_degenerate(self):
        y = np.random.default_rng(0).standard_normal((30, 3))
        for g in ([5, 5, 5], [0, 0, 0]):
            with pytest.warns(DegenerateDataWarning, match="generations do not vary"):
                res = drift_regression(g, y)
            assert math.isnan(res.estimate) and math.isnan(res.se) and math.isnan(res.pvalue)


class TestNothingRecomputedAtTheNextSeed:
    def _run(self, table, seed):
        check = build_check(table)
        return check.run(check.experiment(seed, check.replicates),
                         engine_simulator(check.engine, 1, None))

    def test_log_var_gof_evaluates_no_exact_cdf_after_the_first_seed(self, monkeypatch):
        table = {"type": "log_var_gof", "n": 3, "generations": 10, "replicates": 2000,
                 "engine": "sufficient"}
        first = self._run(table, 1)
        calls = []
        original = LogVarianceLaw._standard_cdf

        def counting(self, y):
            calls.append(np.size(y))
            return original(self, y)

        monkeypatch.setattr(LogVarianceLaw, "_standard_cdf", counting)
        second = self._run(table, 2)
        # only points beyond the table's ends (probability < 2e-14 each) would be exact
        assert sum(calls) == 0
        assert second.numbers["exact_quantiles_log_sigma2"] == \
            first.numbers["exact_quantiles_log_sigma2"]
        assert 0 <= second.pvalue <= 1
        assert second.statistic != first.statistic  # a new seed, new data

    def test_drift_checks_do_not_need_statsmodels(self, monkeypatch):
        # the closed form serves every check: no statsmodels fit is made
        import statsmodels.regression.linear_model as lm

        def refuse(*args, **kwargs):
            raise AssertionError("statsmodels OLS was called")

        monkeypatch.setattr(lm.OLS, "fit", refuse)
        for kind in ("drift_consistency", "collapse", "drift_equivalence"):
            out = self._run({"type": kind, "n": 10, "generations": 40, "replicates": 100}, 3)
            assert 0 <= out.pvalue <= 1
