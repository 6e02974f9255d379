"""The categorical engines: seeding contract, agreement in law, exact Gini-Simpson mean,
the sampling law of every modifier, extinction, accumulate, memory, cancellation.

Statistical tests use fixed seeds and alpha = 1e-6 (|z| < 5 for moments), so they are
deterministic. Each names the smallest effect it detects.
"""

import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy import stats

from collapsecheck.engines._blocks import REPLICATE_BLOCK, Cancelled
from collapsecheck.families.categorical import engines
from collapsecheck.families.categorical.engines import sampling_law, simulate
from collapsecheck.families.categorical.parameters import CategoricalExperiment
from collapsecheck.resources import MEMORY_ENV, ResourceError

ALPHA = 1e-6
ENGINES = ["samples", "sufficient"]
FIELDS = ("survivors", "entropy", "gini_simpson", "monomorphic", "tail_mass", "tail_survivors")

#: One design per regime and modifier (small: K = 6, n = 9).
DESIGNS = {
    "replace": {},
    "smoothing": {"alpha": 0.3},
    "temperature": {"temperature": 0.6},
    "top-k": {"top_k": 3},
    "accumulate": {"regime": "accumulate", "temperature": 1.4, "top_k": 4},
    "mix": {"regime": "mix", "fresh_fraction": 0.4, "alpha": 0.1, "temperature": 0.8},
}


def _experiment(**kw):
    base = dict(n=9, generations=12, replicates=150, init="zipf", zipf_s=0.8, categories=6,
                tail_rank=2, seed=20261206)
    return CategoricalExperiment(**{**base, **kw})


def _assert_same_records(a, b):
    for name in FIELDS:
        x, y = getattr(a.records, name), getattr(b.records, name)
        assert (x is None) == (y is None)
        if x is not None:
            np.testing.assert_array_equal(x, y, err_msg=name)


# ---------------------------------------------------------------------------------------
# Seeding contract
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("design", sorted(DESIGNS))
def test_results_identical_for_any_worker_count(engine, design):
    e = _experiment(**DESIGNS[design])
    one = simulate(e, engine=engine, workers=1, keep_final=True)
    two = simulate(e, engine=engine, workers=2, keep_final=True)
    assert one.workers == 1 and two.workers == 2
    _assert_same_records(one, two)
    np.testing.assert_array_equal(one.final_p, two.final_p)


@pytest.mark.parametrize("design", sorted(DESIGNS))
@pytest.mark.parametrize("chunk", [1, 7, 64, 10**6])
def test_samples_results_identical_for_any_chunk(design, chunk):
    e = _experiment(**DESIGNS[design])
    _assert_same_records(simulate(e, engine="samples", workers=1),
                         simulate(e, engine="samples", workers=1, chunk=chunk))


@pytest.mark.parametrize("engine", ENGINES)
def test_a_block_depends_only_on_its_seed(engine):
    # the first block's chains are the same whether or not more blocks follow
    e = _experiment(replicates=REPLICATE_BLOCK)
    small = simulate(e, engine=engine, workers=1)
    large = simulate(e.replace(replicates=3 * REPLICATE_BLOCK + 5), engine=engine, workers=2)
    np.testing.assert_array_equal(small.records.entropy,
                                  large.records.entropy[:REPLICATE_BLOCK])
    assert not np.array_equal(large.records.entropy[:REPLICATE_BLOCK],
                              large.records.entropy[REPLICATE_BLOCK: 2 * REPLICATE_BLOCK])
    other = simulate(e.replace(seed=e.seed + 1), engine=engine, workers=1)
    assert not np.array_equal(small.records.entropy, other.records.entropy)


# ---------------------------------------------------------------------------------------
# Records are the statistics of the fitted laws
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("design", sorted(DESIGNS))
def test_records_are_the_statistics_of_the_final_law(engine, design):
    e = _experiment(**DESIGNS[design])
    run = simulate(e, engine=engine, workers=1, keep_final=True)
    r, p = run.records, run.final_p
    assert r.survivors.shape == (e.replicates, e.generations + 1)
    np.testing.assert_array_equal(r.generations, np.arange(e.generations + 1))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-13)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.nansum(np.where(p > 0, p * np.log(p), 0.0), axis=1)
    np.testing.assert_array_equal(r.survivors[:, -1], (p > 0).sum(axis=1))
    np.testing.assert_allclose(r.entropy[:, -1], h, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(r.gini_simpson[:, -1], 1 - (p * p).sum(axis=1), atol=1e-15)
    tail = e.tail_mask
    np.testing.assert_allclose(r.tail_mass[:, -1], p[:, tail].sum(axis=1), atol=1e-15)
    np.testing.assert_array_equal(r.tail_survivors[:, -1], (p[:, tail] > 0).sum(axis=1))
    # generation 0 is p0 in every chain
    h0 = -np.sum(e.p0 * np.log(e.p0))
    np.testing.assert_allclose(r.entropy[:, 0], h0, rtol=1e-15)
    assert np.all(r.survivors[:, 0] == e.K)
    # monomorphic: one category; then entropy and Gini-Simpson are exactly 0
    np.testing.assert_array_equal(r.monomorphic, r.survivors == 1)
    np.testing.assert_array_equal(r.monomorphic, r.entropy == 0)
    np.testing.assert_array_equal(r.monomorphic, r.gini_simpson == 0)
    if engine == "samples":
        counts = p * e.n if e.regime != "accumulate" else p * e.n * e.generations
        if e.alpha == 0:
            np.testing.assert_allclose(counts, np.round(counts), atol=1e-9)


# ---------------------------------------------------------------------------------------
# Both engines draw the same law
# ---------------------------------------------------------------------------------------


def _final_outcomes(run, e):
    """Each chain's final counts (a multinomial outcome) as one hashable key."""
    tokens = e.n * (e.generations if e.regime == "accumulate" else 1)
    x = (run.final_p * (tokens + e.K * e.alpha) - e.alpha)
    return [tuple(row) for row in np.rint(x).astype(np.int64)]


def _chi2_pvalue(a, b):
    """Chi-square test of homogeneity of two samples of outcomes, pooling outcomes seen
    fewer than 10 times in both together into one cell."""
    ca, cb = Counter(a), Counter(b)
    common = sorted(k for k in set(ca) | set(cb) if ca[k] + cb[k] >= 10)
    rare = [sum(c.values()) - sum(c[k] for k in common) for c in (ca, cb)]
    obs = np.array([[ca[k] for k in common] + [rare[0]], [cb[k] for k in common] + [rare[1]]])
    obs = obs[:, obs.sum(axis=0) > 0]
    return stats.chi2_contingency(obs).pvalue


LAW_DESIGNS = {
    "replace": {},
    "temperature": {"temperature": 0.6},
    "top-k": {"top_k": 2},
    "smoothing": {"alpha": 0.5},
    "accumulate": {"regime": "accumulate", "temperature": 1.5},
    "mix": {"regime": "mix", "fresh_fraction": 0.4, "top_k": 2},
}


@pytest.mark.parametrize("design", sorted(LAW_DESIGNS))
def test_engines_agree_in_law_on_final_counts(design):
    # K = 3, n = 5, T = 3: the final counts take a few dozen values; 3000 chains per engine.
    # At alpha 1e-6 the test detects a shift of about 0.04 in a common outcome's probability.
    e = CategoricalExperiment(n=5, generations=3, replicates=3000, init=[0.5, 0.3, 0.2],
                              seed=11, **LAW_DESIGNS[design])
    a = simulate(e, engine="samples", workers=1, keep_final=True)
    b = simulate(e, engine="sufficient", workers=1, keep_final=True)
    assert _chi2_pvalue(_final_outcomes(a, e), _final_outcomes(b, e)) > ALPHA


def test_the_law_comparison_catches_a_wrong_temperature():
    e = CategoricalExperiment(n=5, generations=3, replicates=3000, init=[0.5, 0.3, 0.2],
                              seed=11, temperature=0.6)
    a = simulate(e, engine="samples", workers=1, keep_final=True)
    b = simulate(e.replace(temperature=0.8), engine="sufficient", workers=1, keep_final=True)
    assert _chi2_pvalue(_final_outcomes(a, e), _final_outcomes(b, e)) < ALPHA


def test_engines_agree_in_law_at_large_k():
    # K = 400, n = 300, T = 8: final entropy and survivors, two-sample KS
    e = CategoricalExperiment(n=300, generations=8, replicates=1500, categories=400,
                              init="zipf", zipf_s=1.1, seed=5)
    a = simulate(e, engine="samples", workers=1).records
    b = simulate(e, engine="sufficient", workers=1).records
    assert stats.ks_2samp(a.entropy[:, -1], b.entropy[:, -1]).pvalue > ALPHA
    assert stats.ks_2samp(a.survivors[:, -1], b.survivors[:, -1]).pvalue > ALPHA


# ---------------------------------------------------------------------------------------
# Exact Gini-Simpson mean: E[G_t] = (1 - sum p0^2)(1 - 1/n)^t
# ---------------------------------------------------------------------------------------


def _gini_z(records, e, t):
    g = records.gini_simpson[:, t]
    exact = (1 - np.sum(e.p0**2)) * (1 - 1 / e.n) ** t
    if np.all(g == g[0]):  # no spread (n = 1: every chain monomorphic after one step)
        return 0.0 if g[0] == exact else math.inf
    return (g.mean() - exact) / (g.std(ddof=1) / math.sqrt(g.size))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("n", "K", "T", "init"), [(20, 10, 30, "zipf"), (3, 4, 6, "uniform"),
                                                   (50, 200, 40, "zipf"), (1, 3, 2, "uniform")])
def test_gini_simpson_exact_mean_within_five_se(engine, n, K, T, init):
    # E[1 - sum p_t^2 | p_{t-1}] = (1 - 1/n)(1 - sum p_{t-1}^2) for multinomial frequencies
    e = CategoricalExperiment(n=n, generations=T, replicates=4000, categories=K, init=init,
                              zipf_s=1.0 if init == "zipf" else None, seed=77)
    records = simulate(e, engine=engine).records
    for t in sorted({1, T // 2, T}):
        if t:
            assert abs(_gini_z(records, e, t)) < 5, t


@pytest.mark.parametrize("engine", ENGINES)
def test_gini_simpson_check_catches_a_wrong_rate(engine):
    # against (1 - 1/(n+1))^t the same check fails by far (z about 13 here)
    e = CategoricalExperiment(n=5, generations=10, replicates=4000, categories=10,
                              init="zipf", zipf_s=1.0, seed=77)
    records = simulate(e, engine=engine).records
    assert abs(_gini_z(records, e.replace(n=6), 10)) > 5


# ---------------------------------------------------------------------------------------
# The sampling law of each modifier
# ---------------------------------------------------------------------------------------


def test_sampling_law_against_a_direct_computation():
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.ones(9), size=20)
    p[:, 4] = p[:, 2]  # ties
    p[::3, 7] = 0.0
    p /= p.sum(axis=1, keepdims=True)
    for tau in (0.3, 1.0, 2.5):
        for k in (None, 1, 3, 9):
            q = sampling_law(p, tau, k)
            for row, qrow in zip(p, q, strict=True):
                keep = np.ones(9, dtype=bool)
                if k is not None:
                    keep[:] = False
                    keep[np.argsort(-row, kind="stable")[:k]] = True
                w = np.where(keep, row, 0.0) ** (1 / tau)
                np.testing.assert_allclose(qrow, w / w.sum(), rtol=1e-12, atol=1e-300)
    assert sampling_law(p, 1.0, None) is p


def test_sampling_law_ties_go_to_the_lower_index_and_zeros_stay():
    p = np.array([0.1, 0.3, 0.2, 0.3, 0.1, 0.0])
    np.testing.assert_array_equal(sampling_law(p, 1.0, 3) > 0,
                                  [False, True, True, True, False, False])
    np.testing.assert_array_equal(sampling_law(p, 1.0, 4) > 0,
                                  [True, True, True, True, False, False])
    q = sampling_law(p, 0.01, None)  # extreme temperature: no overflow, no NaN
    assert np.all(np.isfinite(q)) and q[5] == 0 and q[1] == q[3] == pytest.approx(0.5)


def _mean_p1_z(e, engine, expected):
    run = simulate(e.replace(generations=1), engine=engine, keep_final=True)
    p = run.final_p
    se = p.std(axis=0, ddof=1) / math.sqrt(p.shape[0])
    moving = se > 1e-9  # a constant column has a rounding-size spread only
    np.testing.assert_allclose(p.mean(axis=0)[~moving], expected[~moving], rtol=1e-12)
    return np.abs(p.mean(axis=0)[moving] - expected[moving]) / se[moving]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("kw", "law"), [
    ({"temperature": 0.5}, lambda p0, e: sampling_law(p0, 0.5)),
    ({"top_k": 2}, lambda p0, e: sampling_law(p0, 1.0, 2)),
    ({"top_k": 3, "temperature": 2.0}, lambda p0, e: sampling_law(p0, 2.0, 3)),
    ({"alpha": 0.7, "top_k": 2}, lambda p0, e: (e.n * sampling_law(p0, 1.0, 2) + 0.7)
     / (e.n + e.K * 0.7)),
    ({"regime": "mix", "fresh_fraction": 0.3, "top_k": 1},
     lambda p0, e: (e.fresh * p0 + e.model_tokens * sampling_law(p0, 1.0, 1)) / e.n),
])
def test_generation_one_mean_is_the_sampling_law(engine, kw, law):
    # E[p_1] per category within 5 SE (8000 chains: a relative error of 3% in a
    # category of probability 0.1 is caught)
    e = CategoricalExperiment(n=12, generations=1, replicates=8000, seed=9,
                              init=[0.4, 0.25, 0.2, 0.1, 0.05], **kw)
    assert np.all(_mean_p1_z(e, engine, law(e.p0, e)) < 5)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("kw", [{}, {"regime": "accumulate"},
                                {"regime": "mix", "fresh_fraction": 0.5}])
def test_frequencies_are_a_martingale(engine, kw):
    # without modifiers E[p_T] = p0 in every regime
    e = CategoricalExperiment(n=10, generations=6, replicates=6000, seed=21,
                              init=[0.4, 0.25, 0.2, 0.1, 0.05], **kw)
    p = simulate(e, engine=engine, keep_final=True).final_p
    z = (p.mean(axis=0) - e.p0) / (p.std(axis=0, ddof=1) / math.sqrt(p.shape[0]))
    assert np.all(np.abs(z) < 5)


# ---------------------------------------------------------------------------------------
# Extinction: lost categories stay lost, except with smoothing or fresh tokens
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("kw", [{}, {"temperature": 0.7}, {"temperature": 3.0},
                                {"top_k": 4}, {"regime": "accumulate", "top_k": 5}])
def test_lost_categories_never_return(engine, kw):
    e = CategoricalExperiment(n=6, generations=40, replicates=300, seed=4,
                              init=[0.3, 0.2, 0.2, 0.1, 0.1, 0.05, 0.05, 0.0], **kw)
    run = simulate(e, engine=engine, keep_final=True)
    s = run.records.survivors
    assert np.all(np.diff(s, axis=1) <= 0)
    assert np.all(run.final_p[:, -1] == 0)
    assert np.any(np.diff(s, axis=1) < 0)  # and categories are lost
    if "top_k" in kw and e.regime == "replace":
        assert np.all(s[:, 1:] <= kw["top_k"])


@pytest.mark.parametrize("engine", ENGINES)
def test_smoothing_gives_every_category_back(engine):
    e = CategoricalExperiment(n=6, generations=10, replicates=200, seed=4, alpha=0.01,
                              init=[0.5, 0.3, 0.2, 0.0])
    run = simulate(e, engine=engine, keep_final=True)
    assert np.all(run.records.survivors == np.array([3] + [4] * 10))
    assert np.all(run.final_p[:, -1] > 0)


@pytest.mark.parametrize("engine", ENGINES)
def test_fresh_tokens_bring_lost_categories_back(engine):
    e = CategoricalExperiment(n=8, generations=30, replicates=200, seed=4, regime="mix",
                              fresh_fraction=0.25, init="uniform", categories=6)
    s = simulate(e, engine=engine).records.survivors
    assert np.any(np.diff(s, axis=1) > 0)
    # a category at 0 in p0 is never drawn fresh either
    z = simulate(e.replace(init=[0.5, 0.5, 0.0], categories=None), engine=engine,
                 keep_final=True)
    assert np.all(z.final_p[:, 2] == 0)


@pytest.mark.parametrize("engine", ENGINES)
def test_accumulate_keeps_the_survivors_of_generation_one(engine):
    e = CategoricalExperiment(n=5, generations=25, replicates=300, seed=8,
                              regime="accumulate", init="zipf", zipf_s=1.0, categories=12,
                              temperature=0.8)
    s = simulate(e, engine=engine).records.survivors
    np.testing.assert_array_equal(s[:, 1:], np.repeat(s[:, 1:2], e.generations, axis=1))
    assert np.any(s[:, 1] < e.K)


def test_monomorphic_start_stays_put():
    e = CategoricalExperiment(n=4, generations=3, replicates=5, init=[0.0, 1.0, 0.0], seed=1)
    for engine in ENGINES:
        r = simulate(e, engine=engine).records
        assert np.all(r.monomorphic) and np.all(r.entropy == 0) and np.all(r.gini_simpson == 0)


# ---------------------------------------------------------------------------------------
# Parameters of simulate, memory, cancellation
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "exc", "match"), [
    ({"engine": "exact"}, ValueError, r"`engine` must be one of samples, sufficient; got "
                                      r"'exact'"),
    ({"workers": -1}, ValueError, r"`workers` must be a whole number >= 0 \(0 = automatic\); "
                                  r"got -1"),
    ({"workers": 1.5}, ValueError, r"`workers` must be a whole number >= 0"),
    ({"chunk": 0}, ValueError, r"`chunk` \(tokens the samples engine draws at once\) must be "
                               r"a whole number >= 1; got 0"),
    ({"chunk": 2.0}, ValueError, r"`chunk` .* got 2\.0"),
])
def test_bad_simulate_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        simulate(_experiment(), **kwargs)


def test_simulate_needs_a_categorical_experiment():
    from collapsecheck import Experiment

    with pytest.raises(TypeError, match=r"`experiment` must be a CategoricalExperiment; "
                                        r"got Experiment"):
        simulate(Experiment(n=5, generations=1, replicates=1, seed=1))


def test_a_design_over_the_memory_budget_is_refused_up_front(monkeypatch):
    monkeypatch.setenv(MEMORY_ENV, "64M")
    e = CategoricalExperiment(n=10, generations=2, replicates=1000, categories=10**6, seed=1)
    ran = []
    monkeypatch.setattr(engines, "run_block", lambda *a: ran.append(a))
    with pytest.raises(ResourceError, match=r"a categorical run \(1000 replicates x 3 "
                                            r"generations of records, K = 1000000 categories"
                                            r".* would need about .* over this run's budget "
                                            r"of 64 MiB"):
        simulate(e, workers=1)
    assert ran == []
    assert isinstance(ResourceError("x"), ValueError)


def test_memory_need_counts_blocks_records_and_kept_laws():
    e = CategoricalExperiment(n=10, generations=99, replicates=1000, categories=500, seed=1)
    base = engines.memory_need(e, "sufficient", 1, 1)
    assert base == 64 * 500 * 96 + 1000 * 100 * 57
    assert engines.memory_need(e, "sufficient", 2, 1) == base + 64 * 500 * 96
    assert engines.memory_need(e, "sufficient", 1, 1, keep_final=True) == base + 8e3 * 500
    assert engines.memory_need(e, "samples", 1, 100) == base + 100 * 40


@pytest.mark.parametrize("engine", ENGINES)
def test_cancellation_is_checked_every_generation(engine, monkeypatch):
    calls = []

    def check():
        calls.append(1)
        if len(calls) == 10:
            raise Cancelled("interrupted")

    monkeypatch.setattr(engines, "check_cancelled", check)
    with pytest.raises(Cancelled):
        simulate(_experiment(generations=1000, replicates=10), engine=engine, workers=1)
    assert len(calls) == 10


# ---------------------------------------------------------------------------------------
# Identities (hypothesis)
# ---------------------------------------------------------------------------------------


@st.composite
def laws(draw, max_k=30):
    """A probability vector with some zeros and ties, (rows, K)."""
    K = draw(st.integers(2, max_k))
    rows = draw(st.integers(1, 4))
    w = np.array(draw(st.lists(st.one_of(st.just(0.0), st.just(0.25),
                                         st.floats(1e-300, 1.0)),
                               min_size=K * rows, max_size=K * rows))).reshape(rows, K)
    assume(np.all(w.sum(axis=1) > 0))
    return w / w.sum(axis=1, keepdims=True)


@given(laws(), st.floats(0.05, 20.0), st.one_of(st.none(), st.integers(1, 30)))
def test_sampling_law_invariants(p, tau, k):
    k = None if k is None else min(k, p.shape[1])
    q = sampling_law(p, tau, k)
    assert np.all(q >= 0)
    np.testing.assert_allclose(q.sum(axis=1), 1.0, rtol=1e-13)
    assert np.all(q[p == 0] == 0)  # lost categories stay lost
    limit = p.shape[1] if k is None else k
    assert np.all(np.count_nonzero(q, axis=1) <= limit)
    top = np.argmax(p, axis=1)  # the most probable category (lowest index) is always kept
    assert np.all(q[np.arange(p.shape[0]), top] > 0)
    for row, qrow in zip(p, q, strict=True):  # monotone: more probable, drawn no less
        order = np.argsort(-row, kind="stable")
        assert np.all(np.diff(qrow[order]) <= 1e-15)


@given(laws(max_k=12), st.integers(1, 40), st.integers(1, 200), st.integers(0, 2**32))
def test_token_counts_equal_a_lookup_per_token(q, m, chunk, seed):
    # the block-wide integer keys, merged or looked up, count exactly what a per-row
    # search of each uniform on the float cumulative law counts
    rows, K = q.shape
    out = np.zeros((rows, K), dtype=np.int64)
    engines._count_tokens(np.random.Generator(np.random.SFC64(seed)), engines._keys(q),
                          rows, K, m, chunk, out)
    u = np.random.Generator(np.random.SFC64(seed)).random(rows * m).reshape(rows, m)
    c = np.cumsum(q, axis=1)
    c /= c[:, -1:]
    expected = np.array([np.bincount(np.searchsorted(c[r], u[r], side="right"), minlength=K)
                         for r in range(rows)])
    np.testing.assert_array_equal(out, expected)
    assert np.all(out[q == 0] == 0)


def test_samples_memory_stays_bounded_at_a_huge_n():
    # n = 10^9 tokens per chain: drawn 2^16 at a time, never all at once (the run is cut
    # short after a few chunks, which also shows cancellation reaches inside a generation)
    import tracemalloc

    e = CategoricalExperiment(n=10**9, generations=1, replicates=2, categories=3, seed=1)
    calls = []

    def check():
        calls.append(1)
        if len(calls) == 5:
            raise Cancelled("interrupted")

    tracemalloc.start()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(engines, "check_cancelled", check)
            with pytest.raises(Cancelled):
                simulate(e, engine="samples", workers=1, chunk=1 << 16)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(calls) == 5 and peak < 64 * 2**20
