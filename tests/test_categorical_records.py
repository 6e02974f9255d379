"""Token-statistics records: logs (strict CSV loading, absorbed-run filling, saving) and
the final-generation summary."""

import math

import numpy as np
import pytest
from scipy import stats

from collapsecheck.errors import InputError, OutputExistsError
from collapsecheck.families.categorical.engines import simulate
from collapsecheck.families.categorical.parameters import CategoricalExperiment
from collapsecheck.families.categorical.records import (
    TokenTrajectories,
    final_summary,
    load,
    save,
)
from collapsecheck.resources import MEMORY_ENV, ResourceError

K = 4
LOG_K = math.log(K)


def _write(tmp_path, text, name="log.csv"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


# ---------------------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["samples", "sufficient"])
def test_simulated_records_round_trip_exactly(tmp_path, engine):
    e = CategoricalExperiment(n=6, generations=15, replicates=70, categories=5,
                              init="zipf", zipf_s=1.0, seed=2)
    r = simulate(e, engine=engine, workers=1).records
    path = save(r, tmp_path / "run.csv")
    assert path.read_text().splitlines()[0] == "replicate,generation,survivors,entropy,gini_simpson"
    back = load(path, 5)
    for name in ("survivors", "entropy", "gini_simpson", "monomorphic"):
        np.testing.assert_array_equal(getattr(back, name), getattr(r, name), err_msg=name)
    np.testing.assert_array_equal(back.generations, r.generations)
    assert not back.filled.any() and not back.missing.any()
    with pytest.raises(OutputExistsError, match=r"exists; pass --force"):
        save(r, path)
    save(r, path, force=True)
    with pytest.raises(InputError, match=r"a token-statistics log is a \.csv file"):
        save(r, tmp_path / "run.npz")


def test_zeros_column_gives_survivors_and_single_statistics_load(tmp_path):
    path = _write(tmp_path, "replicate,generation,zeros\n0,1,1\n0,2,3\n1,1,0\n1,2,2\n")
    r = load(path, K)
    np.testing.assert_array_equal(r.survivors, [[3, 1], [4, 2]])
    np.testing.assert_array_equal(r.zeros, [[1, 3], [0, 2]])
    np.testing.assert_array_equal(r.generations, [1, 2])
    assert r.entropy is None and r.gini_simpson is None
    np.testing.assert_array_equal(r.monomorphic, [[False, True], [False, False]])
    g = load(_write(tmp_path, "generation,gini_simpson,replicate\n0,0.5,3\n1,0,3\n", "g.csv"), K)
    np.testing.assert_array_equal(g.monomorphic, [[False, True]])
    assert g.survivors is None


def test_rows_in_any_order_bom_and_empty_lines(tmp_path):
    text = ("\ufeffreplicate,generation,survivors,entropy\r\n5,1,2,0.5\r\n\r\n2,1,4,1.2\r\n"
            "2,0,4,1.3\r\n5,0,4,1.3\r\n")
    r = load(_write(tmp_path, text), K)
    np.testing.assert_array_equal(r.survivors, [[4, 4], [4, 2]])
    np.testing.assert_array_equal(r.entropy, [[1.3, 1.2], [1.3, 0.5]])


# ---------------------------------------------------------------------------------------
# Absorbed and ragged runs
# ---------------------------------------------------------------------------------------

ABSORBED = """replicate,generation,survivors,entropy,gini_simpson
0,1,3,0.9,0.5
0,2,2,0.6,0.4
0,3,1,0,0
1,1,4,1.2,0.7
1,2,3,1.0,0.6
1,3,3,1.0,0.6
1,4,2,0.5,0.3
1,5,2,0.4,0.2
1,6,2,0.3,0.1
2,1,4,1.3,0.7
2,2,3,1.0,0.6
3,1,2,0.6,0.4
3,2,1,0,0
3,5,1,0,0
"""


def test_absorbed_runs_are_filled_and_ragged_runs_missing(tmp_path):
    r = load(_write(tmp_path, ABSORBED), K)
    np.testing.assert_array_equal(r.generations, np.arange(1, 7))
    F, T = False, True
    np.testing.assert_array_equal(r.filled, [[F, F, F, T, T, T], [F] * 6, [F] * 6,
                                             [F, F, T, T, F, T]])
    np.testing.assert_array_equal(r.missing, [[F] * 6, [F] * 6, [F, F, T, T, T, T], [F] * 6])
    np.testing.assert_array_equal(r.survivors[0], [3, 2, 1, 1, 1, 1])
    np.testing.assert_array_equal(r.entropy[0, 3:], 0.0)
    np.testing.assert_array_equal(r.gini_simpson[3], [0.4, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(r.monomorphic[0], [F, F, T, T, T, T])
    assert np.all(np.isnan(r.survivors[2, 2:])) and np.all(np.isnan(r.entropy[2, 2:]))
    assert not r.monomorphic[2, 2:].any()
    np.testing.assert_array_equal(r.observed, ~(r.filled | r.missing))
    # what was recorded is saved, not what was filled: loading again gives the same records
    back = load(save(r, tmp_path / "again.csv"), K)
    np.testing.assert_array_equal(back.filled, r.filled)
    np.testing.assert_array_equal(back.missing, r.missing)
    np.testing.assert_array_equal(back.entropy, r.entropy)


def test_without_absorption_nothing_is_filled_and_returns_are_allowed(tmp_path):
    r = load(_write(tmp_path, ABSORBED), K, absorbing=False)
    assert not r.filled.any()
    np.testing.assert_array_equal(r.missing[0], [False, False, False, True, True, True])
    back = "replicate,generation,survivors\n0,1,1\n0,2,2\n"
    assert load(_write(tmp_path, back, "b.csv"), K, absorbing=False).survivors[0, 1] == 2
    with pytest.raises(InputError, match=r"line 3: replicate 0 is not monomorphic at "
                                         r"generation 2, but was at generation 1 \(line 2\); "
                                         r"without smoothing or fresh tokens a lost category "
                                         r"never returns"):
        load(_write(tmp_path, back, "b.csv"), K)


def test_summary_of_absorbed_log_uses_filled_cells_and_skips_missing(tmp_path):
    r = load(_write(tmp_path, ABSORBED), K)
    s = final_summary(r)
    # final generation 6: replicates 0 (filled, 1), 1 (2), 3 (filled, 1); replicate 2 missing
    assert s["survivors_mean"]["estimate"] == pytest.approx(4 / 3)
    assert s["p_monomorphic"]["estimate"] == pytest.approx(2 / 3)


# ---------------------------------------------------------------------------------------
# Strictness: every refusal names the file's line
# ---------------------------------------------------------------------------------------

H = "replicate,generation,survivors,entropy,gini_simpson\n"


@pytest.mark.parametrize(("text", "match"), [
    ("", r"empty file; expected a header"),
    ("# replicate,generation,survivors\n0,1,2\n", r"line 1 \(the header\) holds a '#'"),
    ("replicate,generation,mean\n0,1,2\n", r"bad header 'replicate,generation,mean'; columns "
                                           r"must be among replicate,generation,survivors,"
                                           r"zeros,entropy,gini_simpson, each once"),
    ("replicate,generation,entropy,entropy\n0,1,1,1\n", r"bad header .* each once"),
    ("generation,entropy\n1,1\n", r"header 'generation,entropy' lacks replicate"),
    ("replicate,generation\n0,1\n", r"lacks a statistic \(survivors, zeros, entropy, "
                                    r"gini_simpson\)"),
    ("replicate,generation,survivors,zeros\n0,1,2,2\n", r"has both survivors and zeros; "
                                                        r"give one"),
    (H, r"no data rows after the header"),
    (H + "0,1,2,0.5,0.3\n0,2,x,0.5,0.3\n", r"line 3: could not convert string 'x' \(column 3, "
                                           r"'survivors'\) to a number"),
    (H + "0,1,2,0.5,0.3\n\n0,2,2,0.5\n", r"line 4 has 4 field\(s\); the header has 5"),
    (H + "0,1,2,0.5,0.3\n# comment\n", r"line 3 is a comment; comments are not part"),
    (H + "0,1,2,nan,0.3\n", r"line 2: column 'entropy' has a non-finite value"),
    (H + "0,1,2,0.5,0.3\n0.5,2,2,0.5,0.3\n", r"line 3: column 'replicate' must hold whole "
                                             r"numbers from 0"),
    (H + "0,-1,2,0.5,0.3\n", r"line 2: column 'generation' must hold whole numbers"),
    (H + "0,1,2,0.5,0.3\n0,2,0,0.5,0.3\n", r"line 3: column 'survivors' must hold a whole "
                                           r"number from 1 to 4 \(K = 4\); got 0\.0"),
    (H + "0,1,5,0.5,0.3\n", r"line 2: column 'survivors' must hold .*got 5\.0"),
    (H + "0,1,2.5,0.5,0.3\n", r"line 2: column 'survivors' must hold .*got 2\.5"),
    ("replicate,generation,zeros\n0,1,4\n", r"line 2: column 'zeros' must hold a whole number "
                                            r"from 0 to 3 \(K = 4\); got 4\.0"),
    (H + "0,1,2,-0.1,0.3\n", r"line 2: column 'entropy' must lie in \[0, log K\] = "
                             r"\[0, 1\.386294361119890[0-9]\] for K = 4; got -0\.1"),
    (H + "0,1,4,1.3863,0.3\n", r"line 2: column 'entropy' must lie in \[0, log K\]"),
    (H + "0,1,4,1.2,0.76\n", r"line 2: column 'gini_simpson' must lie in \[0, 1 - 1/K\] = "
                             r"\[0, 0\.75\] for K = 4; got 0\.76"),
    (H + "0,1,1,0.2,0\n", r"line 2: survivors == 1 but not entropy == 0: a chain whose law "
                          r"sits on one category"),
    (H + "0,1,2,0,0.3\n", r"line 2: entropy == 0 but not survivors == 1"),
    (H + "0,1,2,0.3,0\n", r"line 2: gini_simpson == 0 but not entropy == 0"),
    (H + "0,1,2,0.7,0.3\n", r"line 2: entropy 0\.7 exceeds log\(survivors\) = log 2 = "
                            r"0\.69314718055994[0-9]+, the most 2 categories can hold"),
    (H + "0,1,2,0.6,0.6\n", r"line 2: gini_simpson 0\.6 exceeds 1 - 1/survivors = 0\.5"),
    (H + "0,2,2,0.5,0.3\n0,3,2,0.5,0.3\n", r"the earliest generation recorded is 2 "
                                           r"\(line 2\); a log starts at generation 0"),
    (H + "0,1,2,0.5,0.3\n1,1,2,0.5,0.3\n0,1,2,0.5,0.3\n", r"line 4 repeats replicate 0, "
                                                          r"generation 1; each \(replicate, "
                                                          r"generation\) pair may appear at "
                                                          r"most once"),
    (H + "0,1,1,0,0\n0,2,2,0.5,0.3\n", r"line 3: replicate 0 is not monomorphic"),
    (b"replicate,generation,survivors\n0,1,\xff\n", r"not a UTF-8 text file"),
])
def test_malformed_logs_are_refused(tmp_path, text, match):
    path = _write(tmp_path, text)
    with pytest.raises(InputError, match=match) as info:
        load(path, K)
    assert str(path) in str(info.value)


def test_rounding_slack_above_the_bounds_is_accepted(tmp_path):
    text = H + f"0,0,4,{LOG_K * (1 + 1e-12)!r},{0.75 * (1 + 1e-12)!r}\n"
    assert load(_write(tmp_path, text), K).survivors[0, 0] == 4


def test_file_and_argument_refusals(tmp_path, monkeypatch):
    with pytest.raises(InputError, match=r"token-statistics log .*none\.csv' does not exist"):
        load(tmp_path / "none.csv", K)
    with pytest.raises(InputError, match=r"is not a regular file"):
        load(tmp_path, K)
    with pytest.raises(InputError, match=r"must be a \.csv file"):
        load(_write(tmp_path, "x", "log.npz"), K)
    with pytest.raises(TypeError, match=r"`categories` must be a whole number; got 4\.0"):
        load(tmp_path / "x.csv", 4.0)
    with pytest.raises(ValueError, match=r"`categories` \(K\) must lie in 2\.\.1e\+06; got 1"):
        load(tmp_path / "x.csv", 1)
    from collapsecheck import trajectories

    path = _write(tmp_path, H + "0,1,2,0.5,0.3\n")
    monkeypatch.setattr("collapsecheck.families.categorical.records.MAX_FILE_BYTES", 10)
    with pytest.raises(InputError, match=r"bytes, over the limit of 10"):
        load(path, K)
    assert trajectories.MAX_FILE_BYTES > 10


def test_memory_preflight_of_rows_and_of_the_padded_grid(tmp_path, monkeypatch):
    monkeypatch.setenv(MEMORY_ENV, "1M")
    rows = "".join(f"{i},1,2,0.5,0.3\n" for i in range(8000))
    with pytest.raises(ResourceError, match=r"loading and analysing its up to 8001 data rows"):
        load(_write(tmp_path, H + rows), K)
    sparse = H + "0,1,2,0.5,0.3\n0,10000000,2,0.5,0.3\n"
    with pytest.raises(ResourceError, match=r"analysing its 1 replicates x 10000000 generations "
                                            r"\(padded\)"):
        load(_write(tmp_path, sparse, "sparse.csv"), K)


def test_records_check_their_shapes():
    m = np.zeros((2, 3), dtype=bool)
    with pytest.raises(ValueError, match=r"`monomorphic` must be shaped \(replicates, 2\); "
                                         r"got \(2, 3\)"):
        TokenTrajectories(np.arange(2), K, None, None, None, m)
    with pytest.raises(ValueError, match=r"`entropy` must be shaped \(2, 3\); got \(2, 2\)"):
        TokenTrajectories(np.arange(3), K, None, np.zeros((2, 2)), None, m)


# ---------------------------------------------------------------------------------------
# Final summary
# ---------------------------------------------------------------------------------------


def test_final_summary_layout_and_intervals():
    e = CategoricalExperiment(n=8, generations=12, replicates=300, categories=6, init="zipf",
                              zipf_s=1.0, tail_rank=2, seed=31)
    r = simulate(e, engine="sufficient", workers=1).records
    exact = (1 - np.sum(e.p0**2)) * (1 - 1 / e.n) ** e.generations
    s = final_summary(r, {"gini_simpson_mean": exact, "p_monomorphic": 0.25,
                          "tail": {"p_all_lost": 0.125}})
    assert set(s) == {"survivors_mean", "entropy_mean", "gini_simpson_mean", "p_monomorphic",
                      "tail"}
    assert set(s["tail"]) == {"rank", "mass_mean", "survivors_mean", "p_all_lost"}
    assert s["tail"]["rank"] == 2 and s["tail"]["p_all_lost"]["theory"] == 0.125
    for entry in [*(v for k, v in s.items() if k != "tail"),
                  *(v for k, v in s["tail"].items() if k != "rank")]:
        assert set(entry) == {"estimate", "se", "ci95", "theory", "z", "clt_ok"}
    g = r.gini_simpson[:, -1]
    assert s["gini_simpson_mean"]["estimate"] == pytest.approx(g.mean(), rel=1e-14)
    assert s["gini_simpson_mean"]["se"] == pytest.approx(g.std(ddof=1) / math.sqrt(300),
                                                         rel=1e-12)
    half = stats.t.ppf(0.975, 299) * s["gini_simpson_mean"]["se"]
    assert s["gini_simpson_mean"]["ci95"] == pytest.approx([g.mean() - half, g.mean() + half])
    assert s["gini_simpson_mean"]["theory"] == exact and abs(s["gini_simpson_mean"]["z"]) < 5
    k = int(r.monomorphic[:, -1].sum())
    ci = stats.binomtest(k, 300).proportion_ci(method="exact")
    pm = s["p_monomorphic"]
    assert pm["estimate"] == k / 300 and pm["ci95"] == [ci.low, ci.high]
    assert pm["se"] == pytest.approx(math.sqrt(k / 300 * (1 - k / 300) / 300))
    assert pm["theory"] == 0.25 and s["survivors_mean"]["theory"] is None
    lost = int((r.tail_survivors[:, -1] == 0).sum())
    assert s["tail"]["p_all_lost"]["estimate"] == lost / 300
    assert s["tail"]["mass_mean"]["estimate"] == pytest.approx(r.tail_mass[:, -1].mean())


def test_final_summary_without_tail_and_with_nothing_final():
    e = CategoricalExperiment(n=8, generations=3, replicates=20, categories=6, seed=31)
    s = final_summary(simulate(e, engine="samples", workers=1).records)
    assert "tail" not in s
    m = np.zeros((2, 2), dtype=bool)
    empty = TokenTrajectories(np.arange(1, 3), K, np.full((2, 2), np.nan), None, None, m,
                              missing=np.ones((2, 2), dtype=bool))
    with pytest.raises(ValueError, match=r"no replicate records the final generation"):
        final_summary(empty)
