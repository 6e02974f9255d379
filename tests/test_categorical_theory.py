"""Exact theory of the categorical chain against independent references.

``tests/reference/categorical_reference.json`` was computed by
``python tests/reference/make_categorical_reference.py`` (mpmath at 30 digits, forward
laws of each count from kernels built from scratch; double-precision forward laws for
n = K = T = 1000); the package propagates backward vectors. Lumpability, the variance and
P(monomorphic) are checked against a full enumeration of the multinomial chain in exact
rational arithmetic (K = 3, n = 4).
"""

import itertools
import json
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from collapsecheck.families.categorical.theory import (
    absorption_times,
    accumulate_gini_simpson_limit,
    accumulate_gini_simpson_mean,
    entropy_mean,
    fixation_probability,
    gini_simpson_mean,
    kimura_absorption_time,
    loss_probability,
    mean_generations_to_monomorphic,
    p_monomorphic,
    predict,
    recurrence,
    sampling_law,
    survival_probability,
    survivors_moments,
    tail_mask,
    tail_summary,
)
from collapsecheck.families.categorical.theory.chain import CountChain, backward_final
from collapsecheck.families.categorical.theory.exact import exact_series

REF = json.loads((Path(__file__).parent / "reference" / "categorical_reference.json")
                 .read_text())


def init(kind, K):
    if kind == "uniform":
        return np.full(K, 1.0 / K)
    w = 1.0 / np.arange(1, K + 1)
    return w / w.sum()


def close(got, want, rel=1e-10, abs_=1e-14, what=""):
    assert got == pytest.approx(want, rel=rel, abs=abs_), (
        f"{what}: got {got!r}, reference {want!r}, rel diff "
        f"{abs(got - want) / max(abs(want), 1e-300):.3e}")


# --- mpmath references -------------------------------------------------------------------

@pytest.mark.parametrize("case", REF["chain"], ids=lambda c: (
    f"{c['kind']}-K{c['K']}-n{c['n']}-T{c['generations']}-a{c['alpha']}-L{c['fresh_fraction']}"))
def test_chain_regimes_against_mpmath(case):
    p0 = init(case["kind"], case["K"])
    regime = "mix" if case["fresh_fraction"] else "replace"
    pred = predict(p0, case["n"], case["generations"], tail_rank=case["tail_rank"],
                   regime=regime, alpha=case["alpha"], fresh_fraction=case["fresh_fraction"])
    f = pred.to_dict()["final"]
    for key in ("survivors_mean", "survivors_sd", "entropy_mean", "gini_simpson_mean",
                "p_monomorphic"):
        close(f[key], case[key], what=key)
    for key in ("mass_mean", "survivors_mean", "p_all_lost"):
        close(f["tail"][key], case["tail"][key], what=f"tail.{key}")
    assert set(pred.exact) == {"survivors_mean", "survivors_sd", "entropy_mean",
                               "gini_simpson_mean", "p_monomorphic", "tail.mass_mean",
                               "tail.survivors_mean", "tail.p_all_lost"}
    if regime == "replace" and case["alpha"] == 0:
        got = loss_probability(p0, case["n"], case["generations"])
        np.testing.assert_allclose(got, case["loss_probability"], rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("case", REF["accumulate"], ids=lambda c: (
    f"{c['kind']}-K{c['K']}-n{c['n']}-T{c['generations']}"))
def test_accumulate_against_pool_chain(case):
    p0 = init(case["kind"], case["K"])
    pred = predict(p0, case["n"], case["generations"], tail_rank=case["tail_rank"],
                   regime="accumulate")
    f = pred.to_dict()["final"]
    for key in ("survivors_mean", "survivors_sd", "gini_simpson_mean", "p_monomorphic"):
        close(f[key], case[key], what=key)
    for key in ("mass_mean", "survivors_mean", "p_all_lost"):
        close(f["tail"][key], case["tail"][key], what=f"tail.{key}")
    assert f["entropy_mean"] is None
    assert "entropy_mean" not in pred.exact
    _one_note_per_null(pred)
    assert any("entropy_mean" in note for note in pred.notes)


@pytest.mark.parametrize("block", REF["absorption"], ids=lambda b: f"n{b['n']}")
def test_absorption_times_against_mpmath(block):
    n = block["n"]
    ps = np.array([c["p"] for c in block["cases"]])
    got = absorption_times(ps, n)
    for i, c in enumerate(block["cases"]):
        for key in ("absorption", "fixation", "loss"):
            close(float(got[key][i]), c[key], rel=1e-11, what=key)
    # Kimura is an approximation: close (13% off at n = 10, 1.5% at n = 30), not equal.
    approx = kimura_absorption_time(ps, n)
    assert np.all(np.abs(approx / got["absorption"] - 1) < 0.2)
    assert np.all(np.abs(approx / got["absorption"] - 1) > 1e-4)


@pytest.mark.parametrize("case", REF["stationary"], ids=lambda c: f"m{c['fresh']}-a{c['alpha']}")
def test_stationary_presence_against_mpmath(case):
    chain = CountChain(case["n"], case["fresh"], case["p_fresh"], case["alpha"],
                       case["K"] * case["alpha"])
    close(float(1 - chain.stationary()[0]), case["p_present"], rel=1e-11)


def _large(kind, T):
    return next(c for c in REF["large"] if c["kind"] == kind and c["generations"] == T)


@pytest.mark.parametrize("T", [1, 100, 1000])
def test_uniform_thousand_against_forward_laws(T):
    c = _large("uniform", T)
    f = predict(init("uniform", 1000), 1000, T, tail_rank=100).to_dict()["final"]
    for key in ("survivors_mean", "survivors_sd", "entropy_mean", "p_monomorphic"):
        close(f[key], c[key], rel=1e-9, abs_=1e-12, what=key)
    for key in ("survivors_mean", "p_all_lost"):
        close(f["tail"][key], c["tail"][key], rel=1e-9, what=f"tail.{key}")


@pytest.mark.parametrize("T", [1, 100, 1000])
def test_zipf_thousand_against_forward_laws(T):
    c = _large("zipf", T)
    p0 = init("zipf", 1000)
    ranks = [int(r) for r in c["loss_probability"]]
    p = p0[np.array(ranks) - 1]
    np.testing.assert_allclose(loss_probability(p, 1000, T),
                               [c["loss_probability"][str(r)] for r in ranks], rtol=1e-10)
    np.testing.assert_allclose(fixation_probability(p, 1000, T),
                               [c["fixation_probability"][str(r)] for r in ranks], rtol=1e-9)
    for rank in (10, 100):
        close(tail_summary(p0, 1000, T, rank)["p_all_lost"], c["tail_p_all_lost"][str(rank)],
              rel=1e-9, what="p_all_lost")


# --- full multinomial enumeration (exact rationals) -------------------------------------

def _compositions(n, K):
    for cuts in itertools.combinations(range(n + K - 1), K - 1):
        parts, prev = [], -1
        for c in (*cuts, n + K - 1):
            parts.append(c - prev - 1)
            prev = c
        yield tuple(parts)


def _multinomial(n, counts, probs):
    out = Fraction(math.factorial(n))
    for c, q in zip(counts, probs, strict=True):
        out = out / math.factorial(c) * q**c
    return out


def _enumerate(p0, n, T, alpha=Fraction(0), fresh=0):
    """Law of the count vector at generation T of the full multinomial chain, exactly."""
    K = len(p0)
    states = list(_compositions(n, K))

    def model(x):
        return [(Fraction(c) + alpha) / (n + K * alpha) for c in x]

    def step(law_of_draw, m):
        return {s: _multinomial(m, s, law_of_draw) for s in _compositions(m, K)}

    law = step(p0, n)  # generation 1
    for _ in range(T - 1):
        new = dict.fromkeys(states, Fraction(0))
        fresh_law = step(p0, fresh) if fresh else {(0,) * K: Fraction(1)}
        for x, w in law.items():
            if w == 0:
                continue
            model_law = step(model(x), n - fresh)
            for f, wf in fresh_law.items():
                for z, wz in model_law.items():
                    new[tuple(a + b for a, b in zip(f, z, strict=True))] += w * wf * wz
        law = new
    return law


@pytest.mark.parametrize(("alpha", "fresh", "regime"), [
    (Fraction(0), 0, "replace"), (Fraction(1, 2), 0, "replace"), (Fraction(0), 1, "mix"),
    (Fraction(1, 3), 2, "mix")])
@pytest.mark.parametrize("T", [1, 2, 5])
def test_full_enumeration_k3_n4(alpha, fresh, regime, T):
    p0 = (Fraction(1, 2), Fraction(1, 3), Fraction(1, 6))
    n = 4
    law = _enumerate(p0, n, T, alpha, fresh)
    assert sum(law.values()) == 1
    S = {x: sum(c > 0 for c in x) for x in law}
    es = sum(w * S[x] for x, w in law.items())
    var = sum(w * S[x] ** 2 for x, w in law.items()) - es**2
    mono = sum(w for x, w in law.items() if max(x) == n)
    pred = predict([float(q) for q in p0], n, T, regime=regime, alpha=float(alpha),
                   fresh_fraction=fresh / n, tail_rank=1)
    f = pred.to_dict()["final"]
    close(f["survivors_mean"], float(es), rel=1e-12)
    close(f["survivors_sd"] ** 2, float(var), rel=1e-11)
    close(f["p_monomorphic"], float(mono), rel=1e-11, abs_=1e-16)
    # Lumpability: P(categories 1 and 2 both absent) is the merged chain's loss.
    both = sum(w for x, w in law.items() if x[1] == 0 and x[2] == 0)
    close(f["tail"]["p_all_lost"], float(both), rel=1e-11, abs_=1e-16)
    if regime == "replace" and alpha == 0:
        close(float(loss_probability(0.5, n, T)), float(both), rel=1e-12)


# --- identities ---------------------------------------------------------------------------

@st.composite
def starts(draw, max_k=12):
    K = draw(st.integers(2, max_k))
    w = np.array(draw(st.lists(st.floats(0.01, 1.0), min_size=K, max_size=K)))
    return w / w.sum()


@given(starts(), st.integers(1, 40), st.integers(0, 60))
def test_gini_closed_form_matches_chain(p0, n, t):
    """E[1 - sum p^2] closed form = the chain's backward vector of q(1-q) summed."""
    want = gini_simpson_mean(p0, n, t)
    assert want == pytest.approx((1 - np.sum(p0**2)) * (1 - 1 / n) ** t, rel=1e-12)
    if t >= 1:
        chain = CountChain(n)
        q = chain.states / n
        V = backward_final(chain.kernel(), (q * (1 - q))[:, None], t)[:, 0]
        from collapsecheck.families.categorical.theory.chain import binomial_rows
        got = float(np.sum(binomial_rows(n, p0) @ V))
        assert got == pytest.approx(want, rel=1e-10, abs=1e-15)


@given(starts(), st.integers(1, 30), st.integers(1, 40))
def test_alpha_zero_and_l_zero_reduce_to_replace(p0, n, t):
    base = predict(p0, n, t, tail_rank=1).to_dict()["final"]
    for kw in ({"alpha": 0.0, "regime": "mix", "fresh_fraction": 0.0},
               {"regime": "mix", "fresh_fraction": 0.4 / n}):  # round(L n) = 0
        other = predict(p0, n, t, tail_rank=1, **kw).to_dict()["final"]
        for key in ("survivors_mean", "survivors_sd", "entropy_mean", "gini_simpson_mean",
                    "p_monomorphic"):
            assert other[key] == pytest.approx(base[key], rel=1e-10, abs=1e-14), key
        assert other["tail"] == pytest.approx(base["tail"], rel=1e-10, abs=1e-14)


@given(starts(), st.integers(1, 30), st.integers(1, 40))
def test_per_category_probabilities_are_consistent(p0, n, t):
    lost, surv = loss_probability(p0, n, t), survival_probability(p0, n, t)
    np.testing.assert_allclose(lost + surv, 1.0, rtol=1e-12)
    # Loss grows with t; survivors' mean is the sum of survival probabilities.
    assert np.all(loss_probability(p0, n, t + 1) >= lost - 1e-15)
    assert survivors_moments(p0, n, t)[0] == pytest.approx(float(np.sum(surv)), rel=1e-12)
    # Symmetry of the neutral chain: fixation of p = loss of 1 - p.
    np.testing.assert_allclose(fixation_probability(p0, n, t), loss_probability(1 - p0, n, t),
                               rtol=1e-9, atol=1e-15)
    assert p_monomorphic(p0, n, t) == pytest.approx(float(np.sum(
        fixation_probability(p0, n, t))), rel=1e-12)


@given(starts(), st.integers(1, 25), st.integers(1, 30))
def test_tail_mass_is_a_martingale_and_survivors_decay(p0, n, t):
    rank = 1
    tl = tail_summary(p0, n, t, rank)
    assert tl["mass_mean"] == pytest.approx(float(p0[tail_mask(p0, rank)].sum()), rel=1e-12)
    assert tl["survivors_mean"] <= tail_summary(p0, n, max(t - 1, 0), rank)["survivors_mean"] \
        + 1e-12


def test_variance_at_generation_one_equals_occupancy_formula():
    """At t = 1 every regime draws Multinomial(n, p0): the classical occupancy variance."""
    p0 = init("zipf", 50)
    n = 40
    lost = (1 - p0) ** n
    pair = (1 - p0[:, None] - p0[None, :]) ** n
    cov = pair - np.outer(lost, lost)
    np.fill_diagonal(cov, lost * (1 - lost))
    want = float(cov.sum())
    for kw in ({}, {"alpha": 0.7}, {"regime": "mix", "fresh_fraction": 0.5},
               {"regime": "accumulate"}):
        got = predict(p0, n, 1, **kw).to_dict()["final"]["survivors_sd"] ** 2
        assert got == pytest.approx(want, rel=1e-11), kw


def test_accumulate_gini_product_and_limit():
    p0 = init("zipf", 20)
    n = 7
    t = np.arange(0, 6)
    want = [(1 - np.sum(p0**2)) * math.prod(1 - 1 / (n * s * s) for s in range(1, k + 1))
            for k in t]
    np.testing.assert_allclose(accumulate_gini_simpson_mean(p0, n, t), want, rtol=1e-13)
    far = accumulate_gini_simpson_mean(p0, n, [10**6])[0]
    assert far == pytest.approx(accumulate_gini_simpson_limit(p0, n), rel=1e-6)


def test_entropy_mean_matches_linearity_definition_at_t1():
    p0 = init("zipf", 6)
    n = 9
    from scipy.stats import binom
    x = np.arange(n + 1)
    q = x / n
    h = np.where(q > 0, -q * np.log(np.where(q > 0, q, 1)), 0)
    want = float(sum(binom.pmf(x, n, p) @ h for p in p0))
    assert entropy_mean(p0, n, 1) == pytest.approx(want, rel=1e-13)


def test_mean_generations_to_monomorphic_two_categories():
    """K = 2: monomorphic exactly when either count is absorbed."""
    n, p = 20, 0.3
    t = absorption_times(np.array([p]), n)["absorption"][0]
    assert mean_generations_to_monomorphic([p, 1 - p], n) == pytest.approx(t, rel=1e-12)


def test_recurrence_a7():
    p0 = init("zipf", 10)
    tail = tail_mask(p0, 3)
    pure = recurrence(p0, 20, tail=tail)
    assert pure["returns"] is False
    assert pure["rarest"]["p_back_next_generation"] == 0.0
    smooth = recurrence(p0, 20, alpha=0.5, tail=tail)
    rho = (1 - 0.5 / (20 + 10 * 0.5)) ** 20
    assert smooth["rarest"]["p_back_next_generation"] == pytest.approx(1 - rho, rel=1e-13)
    mix = recurrence(p0, 20, fresh=5, tail=tail)
    assert mix["rarest"]["p_back_next_generation"] == pytest.approx(
        1 - (1 - p0.min()) ** 5, rel=1e-13)
    # Long-run presence: the stationary law of the tail's merged chain (vs a long horizon).
    chain = CountChain(20, 5, float(p0[tail].sum()))
    far = exact_series(p0, 20, 400, tail=tail, fresh=5, variance=False).tail_p_all_lost[0]
    assert mix["tail"]["stationary_p_present"] == pytest.approx(1 - far, rel=1e-10)
    assert 0 < mix["stationary_survivors_mean"] < 10
    del chain


def _one_note_per_null(pred):
    keys = [k for k in ("survivors_mean", "survivors_sd", "entropy_mean", "gini_simpson_mean",
                        "p_monomorphic", "tail.mass_mean", "tail.survivors_mean",
                        "tail.p_all_lost") if k in pred.series]
    nulls = [k for k in keys if pred.series[k] is None]
    for k in nulls:
        assert sum(note.startswith(f"{k}: ") for note in pred.notes) == 1, k
    assert set(pred.exact) == set(keys) - set(nulls)


def test_sampling_modifiers_are_simulation_only_beyond_generation_one():
    p0 = init("zipf", 10)
    p = predict(p0, 20, 5, temperature=0.7, tail_rank=2)
    assert p.exact == ()
    _one_note_per_null(p)
    assert p.to_dict()["final"]["survivors_mean"] is None
    assert any("simulation only" in note for note in p.notes)
    # Generation 1 is the pure chain's generation 1 from the transformed law.
    law, exact = sampling_law(p0, 0.7, 3)
    assert exact
    one = predict(p0, 20, 1, temperature=0.7, top_k=3).to_dict()["final"]
    ref = predict(law, 20, 1).to_dict()["final"]
    assert one["survivors_mean"] == pytest.approx(ref["survivors_mean"], rel=1e-13)
    assert one["survivors_mean"] <= 3
    # Top-1: a point mass on the most probable category from generation 1 on.
    top1 = predict(p0, 20, 7, top_k=1, tail_rank=2, temperature=0.7)
    assert top1.to_dict()["final"] == {
        "survivors_mean": 1.0, "survivors_sd": 0.0, "entropy_mean": 0.0,
        "gini_simpson_mean": 0.0, "p_monomorphic": 1.0,
        "tail": {"rank": 2, "mass_mean": 0.0, "survivors_mean": 0.0, "p_all_lost": 1.0}}
    # A tie at the top-k boundary: not exact.
    tied = predict(np.full(4, 0.25), 10, 1, top_k=2)
    assert tied.exact == ()


@pytest.mark.parametrize("kw", [{}, {"alpha": 0.3}, {"regime": "mix", "fresh_fraction": 0.2},
                                {"regime": "accumulate"}])
def test_per_generation_matches_final(kw):
    p0 = init("zipf", 30)
    per = predict(p0, 25, 12, tail_rank=5, per_generation=True, **kw).to_dict()
    for T in (0, 1, 7, 12):
        fin = predict(p0, 25, T, tail_rank=5, **kw).to_dict()["final"]
        g = per["per_generation"]
        assert g["generation"][T] == T
        for key in ("survivors_mean", "survivors_sd", "entropy_mean", "gini_simpson_mean",
                    "p_monomorphic"):
            if g[key] is None:  # accumulate's entropy: null at every generation
                assert fin[key] is None or T == 0
                continue
            assert g[key][T] == pytest.approx(fin[key], rel=1e-11, abs=1e-15), (key, T)
        for key in ("mass_mean", "survivors_mean", "p_all_lost"):
            assert g[f"tail_{key}"][T] == pytest.approx(fin["tail"][key], rel=1e-11,
                                                         abs=1e-15)


def test_generation_zero_is_p0():
    p0 = np.array([0.5, 0.5, 0.0])
    f = predict(p0, 10, 0, tail_rank=2).to_dict()["final"]
    assert f["survivors_mean"] == 2 and f["survivors_sd"] == 0
    assert f["entropy_mean"] == pytest.approx(math.log(2), rel=1e-15)
    assert f["tail"] == {"rank": 2, "mass_mean": 0.0, "survivors_mean": 0.0, "p_all_lost": 1.0}


def test_work_bound_gives_null_with_note(monkeypatch):
    from collapsecheck.families.categorical.theory import exact

    p0 = init("zipf", 60)
    full = exact.exact_series(p0, 50, 3, fresh=25)
    assert full.survivors_var is not None
    # Marginal chains (60) within the bound, the 1770 pair chains beyond it.
    part = exact.exact_series(p0, 50, 3, fresh=25, work_limit=2e7)
    assert part.survivors_var is None and part.survivors_mean is not None
    assert part.survivors_mean[0] == pytest.approx(full.survivors_mean[0], rel=1e-13)
    assert part.reasons["survivors_sd"].startswith("1830 pair sums p_i + p_j (60 distinct")
    none = exact.exact_series(p0, 50, 3, fresh=25, work_limit=1e6)
    assert none.survivors_mean is None and "above the limit" in none.reasons["entropy_mean"]
    # predict reports the None as not exact, with the note.
    monkeypatch.setattr(exact, "WORK_LIMIT", 2e7)
    p = predict(p0, 50, 3, regime="mix", fresh_fraction=0.5)
    assert p.to_dict()["final"]["survivors_sd"] is None
    assert "survivors_sd" not in p.exact and "survivors_mean" in p.exact
    _one_note_per_null(p)
    assert [note for note in p.notes if note.startswith("survivors_sd: ")] == [
        "survivors_sd: " + part.reasons["survivors_sd"]]


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"p0": [0.5, 0.6]}, ValueError, r"`p0` must sum to 1 \(within 1e-6\); got a sum of 1\.1"),
    ({"p0": [1.0]}, ValueError, r"`p0` must be 1-D with at least 2 categories; got \[1\.0\]"),
    ({"p0": [1.5, -0.5]}, ValueError, r"`p0` must be finite and non-negative"),
    ({"p0": [np.nan, 1.0]}, ValueError, r"`p0` must be finite and non-negative"),
    ({"p0": ["a", "b"]}, TypeError, r"`p0` must be a sequence of probabilities"),
    ({"n": 0}, ValueError, r"`n` must be at least 1; got 0"),
    ({"n": 2.5}, TypeError, r"`n` must be an integer; got 2\.5"),
    ({"generations": -1}, ValueError, r"`generations` must be at least 0; got -1"),
    ({"tail_rank": 3}, ValueError, r"`tail_rank` must be between 1 and 2; got 3"),
    ({"regime": "foo"}, ValueError, r"`regime` must be one of replace, accumulate, mix"),
    ({"alpha": -1.0}, ValueError, r"`alpha` must be finite and >= 0; got -1\.0"),
    ({"fresh_fraction": 2.0}, ValueError, r"`fresh_fraction` must be in \[0, 1\]; got 2\.0"),
    ({"temperature": 0.0}, ValueError, r"`temperature` must be finite and > 0; got 0\.0"),
    ({"top_k": 0}, ValueError, r"`top_k` must be at least 1; got 0"),
])
def test_input_validation(kwargs, error, match):
    args = {"p0": [0.2, 0.3, 0.5], "n": 10, "generations": 3} | kwargs
    with pytest.raises(error, match=match):
        predict(args.pop("p0"), args.pop("n"), args.pop("generations"), **args)


def test_p0_renormalised_within_tolerance():
    a = predict([0.2, 0.3, 0.5 + 5e-7], 10, 3).to_dict()["final"]
    b = predict(np.array([0.2, 0.3, 0.5 + 5e-7]) / 1.0000005, 10, 3).to_dict()["final"]
    c = predict([0.2, 0.3, 0.5], 10, 3).to_dict()["final"]
    for key in ("survivors_mean", "survivors_sd", "entropy_mean", "gini_simpson_mean"):
        assert a[key] == pytest.approx(b[key], rel=1e-14)
        assert a[key] != pytest.approx(c[key], rel=1e-9, abs=0)  # renormalised, not rounded


def test_pair_weights_windowed_equal_full_sum():
    """The windowed, blockwise pair weights equal the plain sum of full binomial rows."""
    from scipy.stats import binom

    from collapsecheck.families.categorical.theory.exact import (
        groups,
        pair_blocks,
        pair_sums,
        pair_weights,
    )

    p0 = np.concatenate([init("zipf", 150), init("uniform", 50)]) / 2
    v, c = groups(p0)
    blocks = list(pair_blocks(v, c, block=700))
    assert len(blocks) > 1
    assert sum(float(k.sum()) for _, k in blocks) == len(p0) * (len(p0) - 1) / 2
    n = 300
    got = sum(pair_weights(n, x, k) for x, k in blocks)
    sums, mult = pair_sums(v, c)
    want = mult @ binom.pmf(np.arange(n + 1)[None, :], n, sums[:, None])
    # Terms below 1e-60 are dropped by design: absolute error < 1e-50 against W ~ 1e3.
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-40)


def test_zero_probability_categories():
    """A category with p0 = 0 never appears under pure refit; under smoothing it can."""
    p0 = np.array([0.6, 0.4, 0.0])
    assert float(loss_probability(0.0, 10, 5)) == 1.0
    pure = predict(p0, 10, 5).to_dict()["final"]
    assert pure["survivors_mean"] <= 2
    smooth = predict(p0, 10, 5, alpha=0.5)
    assert smooth.to_dict()["final"]["survivors_mean"] > pure["survivors_mean"]
    law = _enumerate((Fraction(3, 5), Fraction(2, 5), Fraction(0)), 4, 3, Fraction(1, 2))
    present = sum(w for x, w in law.items() if x[2] > 0)
    got = predict(p0, 4, 3, alpha=0.5, tail_rank=2).to_dict()["final"]["tail"]
    assert 1 - got["p_all_lost"] == pytest.approx(float(present), rel=1e-12)


@pytest.mark.parametrize("tau", [0.5, 1.7])
def test_two_categories_at_temperature_against_mpmath(tau):
    """K = 2 at temperature: the first count's chain, propagated in mpmath (30 digits)."""
    import mpmath

    with mpmath.workdps(30):
        n, T, p = 8, 5, mpmath.mpf(3) / 10

        def g(q):
            a, b = q ** (1 / mpmath.mpf(tau)), (1 - q) ** (1 / mpmath.mpf(tau))
            return a / (a + b)

        def row(q):
            return [mpmath.binomial(n, k) * q**k * (1 - q) ** (n - k) for k in range(n + 1)]

        P = [row(g(mpmath.mpf(j) / n)) for j in range(n + 1)]
        pi = row(g(p))
        for _ in range(T - 1):
            pi = [mpmath.fsum(pi[j] * P[j][k] for j in range(n + 1)) for k in range(n + 1)]
        x = [mpmath.mpf(k) / n for k in range(n + 1)]
        ent = mpmath.fsum(pi[k] * (-(x[k] * mpmath.log(x[k])) - (1 - x[k]) * mpmath.log(1 - x[k]))
                          for k in range(1, n))
    f = predict([0.3, 0.7], n, T, temperature=tau, tail_rank=1).to_dict()["final"]
    close(f["p_monomorphic"], float(pi[0] + pi[n]), rel=1e-12)
    close(f["entropy_mean"], float(ent), rel=1e-12)
    close(f["tail"]["mass_mean"], float(mpmath.fsum(pi[k] * x[k] for k in range(n + 1))),
          rel=1e-12)
    close(f["tail"]["p_all_lost"], float(pi[0]), rel=1e-12)
    close(f["survivors_mean"], float(2 - pi[0] - pi[n]), rel=1e-12)
