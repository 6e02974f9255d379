"""The article's remedy, quantified (collapsecheck.remedy and ``collapsecheck remedy``).

Exact ends (m = n: every draw fresh; m = 0: collapse), the Monte Carlo of the mix chain's
exact one-generation law against an independent naive simulation that draws every sample,
and the search for the smallest fresh count.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import special
from scipy import stats as sps

from collapsecheck.cli import main
from collapsecheck.remedy import smallest_fresh_count, stationary_log_sigma2


def _all_fresh(n: int, ddof: float) -> float:
    return float(special.digamma((n - 1) / 2) + math.log(2 / (n - ddof)))


@pytest.mark.parametrize(("n", "ddof"), [(2, 0.0), (3, 0.0), (10, 0.0), (10, 1.0),
                                         (30, 0.5), (100, 1.0), (1000, 0.0)])
def test_all_fresh_is_exact(n, ddof):
    est = stationary_log_sigma2(n, ddof, n)
    assert est.estimate == pytest.approx(_all_fresh(n, ddof), rel=1e-14, abs=1e-15)
    assert est.se == 0 and est.method == "exact" and est.m == n
    assert est.sd == pytest.approx(math.sqrt(special.polygamma(1, (n - 1) / 2)), rel=1e-14)
    # independently: E[log(chi2_{n-1}/(n - ddof))] by quadrature
    quad = sps.chi2(n - 1).expect(lambda x: np.log(x / (n - ddof)))
    assert est.estimate == pytest.approx(quad, abs=1e-7)


@pytest.mark.parametrize("n", [2, 10, 100])
def test_no_fresh_data_collapses(n):
    est = stationary_log_sigma2(n, 0.0, 0)
    assert est.estimate == -math.inf and est.se == 0
    assert "collapse" in est.method


def _naive_stationary(n: int, m: int, ddof: float, chains: int, burn: int, window: int,
                      seed: int) -> tuple[float, float]:
    """Draw every sample: n - m from the current fit, m from the original N(0, 1); refit;
    average log sigma^2 over a window after burn-in. SE from the chains (independent)."""
    rng = np.random.default_rng(seed)
    mu = np.zeros(chains)
    sd = np.ones(chains)
    acc = np.zeros(chains)
    for t in range(burn + window):
        model = mu[:, None] + sd[:, None] * rng.standard_normal((chains, n - m))
        fresh = rng.standard_normal((chains, m))
        x = np.concatenate([model, fresh], axis=1)
        mu = x.mean(axis=1)
        var = x.var(axis=1, ddof=ddof)
        sd = np.sqrt(var)
        if t >= burn:
            acc += np.log(var)
    per_chain = acc / window
    return float(per_chain.mean()), float(per_chain.std(ddof=1) / math.sqrt(chains))


@pytest.mark.parametrize("ddof", [0.0, 1.0])
def test_monte_carlo_agrees_with_a_naive_simulation(ddof):
    n, m = 10, 3
    mc = stationary_log_sigma2(n, ddof, m)
    assert mc.se > 0 and "Monte Carlo" in mc.method
    naive, se = _naive_stationary(n, m, ddof, chains=3000, burn=100, window=300, seed=7)
    # the pull to the original relaxes as (1 - m/n)^t = 0.7^100 ~ 3e-16: no burn-in bias
    assert abs(mc.estimate - naive) < 5 * math.hypot(mc.se, se), (mc, naive, se)
    # and the two are far from the ends: between collapse and all-fresh
    assert -math.inf < mc.estimate < _all_fresh(n, ddof) + 0.5


def test_monte_carlo_is_deterministic():
    a = stationary_log_sigma2(10, 0.0, 3, chains=400)
    b = stationary_log_sigma2(10, 0.0, 3, chains=400)
    assert a == b


def test_unreachable_target_gives_none_with_a_note():
    row = smallest_fresh_count(10, 0.0, 0.05)
    assert row.fresh_count is None and row.fresh_fraction is None
    assert row.at_m is None and row.below_m is None
    assert row.note.startswith("unreachable")
    assert row.all_fresh_log_sigma2 == pytest.approx(_all_fresh(10, 0.0), rel=1e-14)
    assert row.all_fresh_log_sigma2 < row.target_log_sigma2
    assert row.target_log_sigma2 == pytest.approx(2 * math.log(0.95), rel=1e-14)


def test_smallest_count_meets_the_target_and_one_less_does_not():
    row = smallest_fresh_count(100, 0.0, 0.05, chains=2000)
    m = row.fresh_count
    assert isinstance(m, int) and 1 <= m <= 100
    assert row.fresh_fraction == pytest.approx(m / 100)
    assert row.at_m["m"] == m and row.below_m["m"] == m - 1
    target = 2 * math.log(0.95)
    assert row.target_log_sigma2 == pytest.approx(target, rel=1e-14)
    assert row.at_m["estimate"] >= target > row.below_m["estimate"]
    # the row's numbers are the module's own estimates at m and m - 1
    again = stationary_log_sigma2(100, 0.0, m, chains=2000)
    assert again.estimate == row.at_m["estimate"] and again.se == row.at_m["se"]
    assert row.all_fresh_log_sigma2 == pytest.approx(_all_fresh(100, 0.0), rel=1e-14)
    assert row.all_fresh_log_sigma2 >= target


def test_remedy_cli_json(capsys):
    assert main(["remedy", "--n", "30", "--ddof", "0", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["tolerance"] == 0.05
    (row,) = record["rows"]
    assert row["n"] == 30 and row["ddof"] == 0
    m = row["fresh_count"]
    assert isinstance(m, int) and 1 <= m <= 30
    assert row["at_m"]["estimate"] >= row["target_log_sigma2"] > row["below_m"]["estimate"]
    assert "--n 30" in record["command"] and "--ddof 0" in record["command"]


@pytest.mark.parametrize(("args", "option"), [
    (["--tolerance", "0"], "--tolerance"),
    (["--tolerance", "1"], "--tolerance"),
    (["--tolerance", "nan"], "--tolerance"),
    (["--n", "1"], "--n"),
    (["--n", "10", "--ddof", "10"], "--ddof"),
])
def test_remedy_cli_bad_input_exits_2_with_one_line(capsys, args, option):
    assert main(["remedy", *args]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and option in lines[0] and "Traceback" not in captured.err
    assert captured.out == ""
