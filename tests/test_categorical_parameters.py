"""CategoricalExperiment: validation (every message), initial laws, the tail, init files."""

import math

import mpmath
import numpy as np
import pytest

from collapsecheck.errors import InputError
from collapsecheck.families.categorical import parameters
from collapsecheck.families.categorical.parameters import (
    CategoricalExperiment,
    load_init_file,
    zipf_law,
)


def test_uniform_and_defaults():
    e = CategoricalExperiment(categories=4, seed=1)
    assert e.K == 4 and e.init == "uniform" and e.regime == "replace"
    np.testing.assert_array_equal(e.p0, np.full(4, 0.25))
    assert not e.p0.flags.writeable
    assert e.init_sha256 is None and e.init_note is None
    assert e.fresh == 0 and e.model_tokens == e.n and e.absorbing


@pytest.mark.parametrize(("K", "s"), [(7, 1.3), (50, 0.5), (3, 12.0)])
def test_zipf_law_matches_mpmath(K, s):
    mpmath.mp.dps = 40
    w = [mpmath.mpf(i) ** -mpmath.mpf(s) for i in range(1, K + 1)]
    exact = [float(x / mpmath.fsum(w)) for x in w]
    e = CategoricalExperiment(categories=K, init="zipf", zipf_s=s, seed=1)
    np.testing.assert_allclose(e.p0, exact, rtol=1e-14, atol=0)


def test_zipf_weights_below_the_smallest_double_start_extinct():
    p = zipf_law(10**4, 200.0)
    assert p[0] == pytest.approx(1.0) and p[-1] == 0.0 and np.all(np.isfinite(p))


@pytest.mark.parametrize(("kwargs", "exc", "match"), [
    ({"n": 2.0}, TypeError, r"`n` must be a whole number; got 2\.0"),
    ({"generations": "3"}, TypeError, r"`generations` must be a whole number; got '3'"),
    ({"replicates": True}, TypeError, r"`replicates` must be a whole number; got True"),
    ({"n": 0}, ValueError, r"`n` \(tokens per generation\) must be at least 1; got 0"),
    ({"n": 10**16}, ValueError, r"`n` must be at most 1e\+15 .*got 10000000000000000"),
    ({"generations": -1}, ValueError, r"`generations` must be 0 or more; got -1"),
    ({"generations": 10**10}, ValueError, r"`generations` must be at most 1e\+09"),
    ({"replicates": 0}, ValueError, r"`replicates` must be at least 1; got 0"),
    ({"replicates": 10**9}, ValueError, r"`replicates` must be at most 1e\+08"),
    ({"seed": -3}, ValueError, r"`seed` must be a whole number >= 0; got -3"),
    ({"categories": 2.5}, TypeError, r"`categories` must be a whole number; got 2\.5"),
    ({"categories": 1}, ValueError, r"`categories` \(K\) must lie in 2\.\.1e\+06; got 1"),
    ({"categories": 10**6 + 1}, ValueError, r"`categories` \(K\) must lie in 2\.\.1e\+06"),
    ({"categories": None}, ValueError, r"`init` 'uniform' needs `categories`"),
    ({"init": "normal"}, ValueError, r"`init` must be 'uniform', 'zipf' or a vector of "
                                     r"probabilities; got 'normal'"),
    ({"init": "zipf"}, ValueError, r"`init` 'zipf' needs `zipf_s`"),
    ({"init": "zipf", "zipf_s": 0.0}, ValueError, r"`zipf_s` must be a finite number > 0; "
                                                  r"got 0\.0"),
    ({"init": "zipf", "zipf_s": math.inf}, ValueError, r"`zipf_s` must be a finite number"),
    ({"init": "zipf", "zipf_s": "1"}, TypeError, r"`zipf_s` must be a real number or None"),
    ({"zipf_s": 1.0}, ValueError, r"`zipf_s` applies only to `init` 'zipf'; got it with "
                                  r"'uniform'"),
    ({"init_file": "p.txt"}, ValueError, r"`init_file` records where an explicit vector "
                                         r"came from; it does not apply to `init` 'uniform'"),
    ({"regime": "accumulate-subsample"}, ValueError, r"`regime` must be one of replace, "
                                                     r"accumulate, mix; got 'accumulate-sub"),
    ({"regime": "mix"}, ValueError, r"`regime` 'mix' needs `fresh_fraction`"),
    ({"regime": "mix", "fresh_fraction": 1.5}, ValueError, r"`fresh_fraction` must lie in "
                                                           r"\[0, 1\]; got 1\.5"),
    ({"regime": "mix", "fresh_fraction": "0.5"}, TypeError, r"`fresh_fraction` must be a "
                                                            r"real number or None"),
    ({"fresh_fraction": 0.5}, ValueError, r"`fresh_fraction` applies only to `regime` 'mix'; "
                                          r"got it with 'replace'"),
    ({"regime": "accumulate", "n": 10**12, "generations": 10**5}, ValueError,
     r"`regime` 'accumulate' pools n \* generations = 100000000000000000 tokens, over "
     r"9007199254740992"),
    ({"alpha": -0.1}, ValueError, r"`alpha` \(add-alpha smoothing\) must be a finite number "
                                  r">= 0; got -0\.1"),
    ({"alpha": math.nan}, ValueError, r"`alpha` .* got nan"),
    ({"alpha": None}, TypeError, r"`alpha` must be a real number; got None"),
    ({"temperature": 0.0}, ValueError, r"`temperature` must be a finite number > 0; got 0\.0"),
    ({"temperature": math.inf}, ValueError, r"`temperature` must be a finite number > 0"),
    ({"top_k": 0}, ValueError, r"`top_k` must lie in 1\.\.K = 1\.\.5 \(or be None for no "
                               r"cut\); got 0"),
    ({"top_k": 6}, ValueError, r"`top_k` must lie in 1\.\.K = 1\.\.5 .*got 6"),
    ({"top_k": 2.0}, TypeError, r"`top_k` must be a whole number or None; got 2\.0"),
    ({"tail_rank": 5}, ValueError, r"`tail_rank` must lie in 1\.\.K-1 = 1\.\.4 .*got 5"),
    ({"tail_rank": 0}, ValueError, r"`tail_rank` must lie in 1\.\.K-1"),
    ({"tail_rank": "2"}, TypeError, r"`tail_rank` must be a whole number or None"),
])
def test_every_bad_parameter_is_refused_with_its_message(kwargs, exc, match):
    base = {"categories": 5, "seed": 1}
    with pytest.raises(exc, match=match):
        CategoricalExperiment(**{**base, **kwargs})


@pytest.mark.parametrize(("init", "extra", "exc", "match"), [
    (["a", "b"], {}, TypeError, r"`init` must be 'uniform', 'zipf' or a vector of "
                                r"probabilities; got \['a', 'b'\]"),
    ([True, False], {}, TypeError, r"`init` must be .*a vector of probabilities"),
    ([[0.5, 0.5]], {}, ValueError, r"`init` must be a 1-D vector of probabilities; got an "
                                   r"array of shape \(1, 2\)"),
    ([1.0], {}, ValueError, r"`init` must hold 2\.\.1e\+06 probabilities \(one a category\); "
                            r"got 1"),
    ([0.5, -0.1, 0.6], {}, ValueError, r"`init` must hold finite probabilities >= 0; entry 1 "
                                       r"is -0\.1"),
    ([0.5, np.nan, 0.5], {}, ValueError, r"entry 1 is nan"),
    ([0.5, 0.5], {"categories": 3}, ValueError, r"`categories` \(3\) differs from the 2 "
                                                r"probabilities of `init`"),
    ([0.5, 0.49], {}, ValueError, r"`init` must sum to 1 \(within 1e-06\); its probabilities "
                                  r"sum to 0\.99"),
    ([0.5, 0.5], {"zipf_s": 1.0}, ValueError, r"`zipf_s` applies only to `init` 'zipf'; got "
                                              r"it with an explicit vector"),
    ([0.5, 0.5], {"init_file": 3}, TypeError, r"`init_file` must be a path or None; got 3"),
])
def test_bad_explicit_vectors_are_refused(init, extra, exc, match):
    with pytest.raises(exc, match=match):
        CategoricalExperiment(init=init, seed=1, **extra)


def test_explicit_vector_renormalised_with_a_note_and_identified_by_hash():
    e = CategoricalExperiment(init=[0.2, 0.3, 0.5000004], seed=1)
    assert e.init == "explicit" and e.K == 3
    assert math.fsum(e.p0) == pytest.approx(1.0, abs=1e-15)
    np.testing.assert_allclose(e.p0, np.array([0.2, 0.3, 0.5000004]) / 1.0000004, rtol=1e-15)
    assert "summed to 1.0000004" in e.init_note and "renormalised" in e.init_note
    # a sum off by rounding only is renormalised silently
    assert CategoricalExperiment(init=[0.1] * 10, seed=1).init_note is None
    # the vector is what distinguishes two explicit experiments
    other = CategoricalExperiment(init=[0.3, 0.2, 0.5], seed=1)
    assert e != other and e.init_sha256 != other.init_sha256
    assert e == e.replace(n=1000) and hash(e) == hash(e.replace(n=1000))
    assert e.replace(n=7).init_note == e.init_note
    np.testing.assert_array_equal(e.replace(n=7).p0, e.p0)


def test_to_dict_and_replace():
    e = CategoricalExperiment(n=50, categories=6, init="zipf", zipf_s=1.1, tail_rank=2,
                              regime="mix", fresh_fraction=0.3, alpha=0.5, temperature=0.7,
                              top_k=4, seed=12)
    d = e.to_dict()
    assert d["init"] == "zipf" and d["zipf_s"] == 1.1 and d["seed"] == 12
    assert "p0" not in d and d["init_sha256"] is None
    assert CategoricalExperiment(**{k: v for k, v in d.items()
                                    if k not in ("init_sha256", "init_note")}) == e
    assert e.replace(n=60).n == 60
    with pytest.raises(ValueError, match=r"`n` \(tokens per generation\) must be at least 1"):
        e.replace(n=0)
    u = e.replace(init="uniform", zipf_s=None)
    assert u.K == 6 and u.init == "uniform"
    x = e.replace(init=[0.25] * 4, zipf_s=None, top_k=None, tail_rank=None)
    assert x.K == 4 and x.init == "explicit"


def test_seed_none_draws_and_records_entropy():
    e = CategoricalExperiment(categories=3)
    assert isinstance(e.seed, int) and e.seed >= 0


@pytest.mark.parametrize(("L", "n", "fresh"), [(0.5, 5, 2), (0.25, 10, 2), (0.35, 10, 4),
                                               (1.0, 7, 7), (0.0, 7, 0)])
def test_fresh_tokens_round_half_to_even(L, n, fresh):
    e = CategoricalExperiment(n=n, categories=3, regime="mix", fresh_fraction=L, seed=1)
    assert e.fresh == fresh and e.model_tokens == n - fresh
    assert e.absorbing == (fresh == 0)


def test_absorbing_only_without_smoothing_and_fresh_tokens():
    assert not CategoricalExperiment(categories=3, alpha=0.1, seed=1).absorbing
    assert CategoricalExperiment(categories=3, regime="accumulate", temperature=0.5, top_k=2,
                                 seed=1).absorbing


def test_tail_ranks_ties_by_lower_index():
    e = CategoricalExperiment(init=[0.1, 0.3, 0.3, 0.2, 0.1], tail_rank=2, seed=1)
    np.testing.assert_array_equal(e.tail_mask, [True, False, False, True, True])
    e = CategoricalExperiment(init=[0.1, 0.3, 0.3, 0.2, 0.1], tail_rank=4, seed=1)
    np.testing.assert_array_equal(e.tail_mask, [False, False, False, False, True])
    assert CategoricalExperiment(categories=3, seed=1).tail_mask is None


# ---------------------------------------------------------------------------------------
# Init files
# ---------------------------------------------------------------------------------------


def _write(tmp_path, content, name="p0.txt", mode="w"):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


@pytest.mark.parametrize("content", [
    "0.25\n0.25\n0.5\n",
    "0.25\r\n0.25\r\n0.5",
    "\ufeff0.25\n\n0.25\n0.5\n\n",
    "category,probability\nthe,0.25\nof,0.25\nand,0.5\n",
    "a,0.25\nb,0.25\n\"x,y\",0.5\n",
    " 0.25 \n2.5e-1\n.5\n",
])
def test_init_file_forms(tmp_path, content):
    p = load_init_file(_write(tmp_path, content))
    np.testing.assert_array_equal(p, [0.25, 0.25, 0.5])


@pytest.mark.parametrize(("content", "match"), [
    ("", r"holds 0 probabilities; K must lie in 2\.\.1e\+06"),
    ("1.0\n", r"holds 1 probability; K must lie"),
    ("0.5\n# note\n0.5\n", r"line 2 holds a '#'; comments are not part of the format"),
    ("0.5 # half\n0.5\n", r"line 1 holds a '#'"),
    ("0.5\na,0.5\n", r"line 2 has 2 field\(s\); the file's first line has 1"),
    ("a,0.5\n0.5\n", r"line 2 has 1 field\(s\); the file's first line has 2"),
    ("0.5\nnan\n", r"line 2: 'nan' is not a probability; write a plain decimal number"),
    ("0.5\ninf\n", r"line 2: 'inf' is not a probability"),
    ("0.5\n0_5\n", r"line 2: '0_5' is not a probability"),
    ("0.5\n\n0x1p-1\n", r"line 3: '0x1p-1' is not a probability"),
    ("0.5\n0.5\n-0.5\n0.5\n", r"line 3: probability -0.5 is negative"),
    ("a,0.5\na,0.5\n", r"line 2 repeats category 'a' \(first on line 1\)"),
    ("a,0.5\n ,0.5\n", r"line 2: the category label is empty"),
    ("0.5\n0.4\n", r"the probabilities sum to 0\.9; they must sum to 1 \(within 1e-06"),
    ("0.5\n0.5000011\n", r"sum to 1\.0000011"),
    (b"0.5\n0.\xff5\n", r"not a UTF-8 text file"),
])
def test_bad_init_files_are_refused_naming_file_and_line(tmp_path, content, match):
    path = _write(tmp_path, content)
    with pytest.raises(InputError, match=match) as info:
        load_init_file(path)
    assert str(path) in str(info.value)


def test_missing_and_directory_init_files(tmp_path):
    with pytest.raises(InputError, match=r"init file .*nope\.txt' does not exist"):
        load_init_file(tmp_path / "nope.txt")
    with pytest.raises(InputError, match=r"is not a regular file"):
        load_init_file(tmp_path)


def test_oversized_init_file_refused_before_reading(tmp_path, monkeypatch):
    path = _write(tmp_path, "0.5\n0.5\n")
    monkeypatch.setattr(parameters, "MAX_INIT_FILE_BYTES", 5)
    opened = []
    monkeypatch.setattr(parameters, "open", lambda *a, **k: opened.append(a), raising=False)
    with pytest.raises(InputError, match=r"8 bytes, over the limit of 5"):
        load_init_file(path)
    assert opened == []


def test_reading_stops_at_the_line_beyond_the_category_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(parameters, "MAX_CATEGORIES", 3)
    path = _write(tmp_path, "0.25\n0.25\n0.25\n0.25\n")
    with pytest.raises(InputError, match=r"line 4: more than 3e\+00 categories"):
        load_init_file(path)


def test_from_init_file(tmp_path):
    path = _write(tmp_path, "x,0.2\ny,0.3\nz,0.5000002\n")
    e = CategoricalExperiment.from_init_file(path, n=10, seed=3)
    assert e.K == 3 and e.init == "explicit" and e.init_file == str(path)
    assert str(path) in e.init_note and e.to_dict()["init_file"] == str(path)
    with pytest.raises(ValueError, match=r"`categories` \(4\) differs from the 3 probabilities "
                                         r"of `init` \(from `init_file` '.*p0\.txt'\)"):
        CategoricalExperiment.from_init_file(path, categories=4, seed=3)
    with pytest.raises(InputError, match=r"does not exist"):
        CategoricalExperiment.from_init_file(tmp_path / "none.csv", seed=3)
