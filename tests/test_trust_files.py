"""Trajectory files a user may hand to ``collapsecheck audit``: a small file cannot exhaust
memory, degenerate chains end in a verdict or one clear line (never Python warnings), and
CSVs stay strict with one convention for line numbers (the header is line 1).

Where what the user sees matters (stderr, exit status, peak memory) the command runs in a
subprocess, ``python -m collapsecheck``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import collapsecheck.trajectories as trajectories
from collapsecheck import Experiment
from collapsecheck.audit import audit, n_from_step_variance
from collapsecheck.cli import main
from collapsecheck.engines import simulate
from collapsecheck.errors import InputError
from collapsecheck.resources import MEMORY_ENV, ResourceError
from collapsecheck.trajectories import Trajectories, load, save

HEADER = "replicate,generation,mean,std\n"

# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "collapsecheck", *args]


#: Runs the command in a child and prints its exit code, its peak RSS (bytes) and stderr,
#: so that the peak is that of this one command (RUSAGE_CHILDREN of a fresh parent).
_MEASURE = textwrap.dedent("""
    import json, resource, subprocess, sys
    r = subprocess.run(sys.argv[1:], capture_output=True, text=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    print(json.dumps([r.returncode, peak, r.stderr]))
""")


def _run_measured(args: list[str], env: dict[str, str]) -> tuple[int, int, str]:
    """Exit code, peak RSS in bytes and stderr of ``python -m collapsecheck ARGS``."""
    import json

    out = subprocess.run([sys.executable, "-c", _MEASURE, *_cli(*args)], capture_output=True,
                         text=True, env=env, check=True).stdout
    code, peak, err = json.loads(out)
    return code, peak, err


def _chains(replicates=300, generations=100, n=10, seed=1) -> Trajectories:
    e = Experiment(n=n, generations=generations, replicates=replicates, seed=seed)
    return simulate(e, workers=1).trajectories


def _one_error_line(err: str) -> str:
    """The single stderr line of a refused command, without its prefix."""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("collapsecheck: error: "), err
    return lines[0]


def _refusal(path) -> str:
    with pytest.raises(InputError) as info:
        load(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    return message


# ---------------------------------------------------------------------------------------
# 1. A small file cannot exhaust memory
# ---------------------------------------------------------------------------------------

BOMB_SHAPE = (16384, 16384)  # 2 GiB of float64 zeros, about 2 MB compressed


@pytest.fixture(scope="module")
def bomb(tmp_path_factory):
    path = tmp_path_factory.mktemp("bomb") / "bomb.npz"
    np.savez_compressed(path, std=np.zeros(BOMB_SHAPE))
    assert path.stat().st_size < 4 * 2**20
    return path


def test_zip_bomb_is_refused_before_it_is_decompressed(bomb):
    env = {**os.environ, MEMORY_ENV: "1G"}
    code, peak, err = _run_measured(["audit", str(bomb), "--n", "1000"], env)
    assert code == 2, err
    line = _one_error_line(err)
    assert "bomb.npz" in line and "16384 replicates x 16383 generations" in line
    assert MEMORY_ENV in line and "keep fewer replicates" in line
    # 2 GiB would be decompressed, and much more analysed; the refusal costs the interpreter
    assert peak < 512 * 2**20, peak


def test_zip_bomb_is_refused_from_python_before_numpy_reads_it(bomb, monkeypatch):
    monkeypatch.setenv(MEMORY_ENV, "4G")

    def no_load(*args, **kwargs):
        raise AssertionError("np.load ran before the memory check")

    monkeypatch.setattr(trajectories.np, "load", no_load)
    with pytest.raises(ResourceError, match=r"bomb\.npz: loading and analysing its 16384 "
                                            r"replicates x 16383 generations would need"):
        load(bomb)
    # the estimate covers the load alone too: 2 GiB of members do not fit in 1 GiB
    monkeypatch.setenv(MEMORY_ENV, "1G")
    with pytest.raises(ResourceError):
        load(bomb, memory_factor=0)


def test_memory_budget_lets_a_moderate_file_through(tmp_path, monkeypatch, capsys):
    path = save(_chains(replicates=2000, generations=50), tmp_path / "c.npz")
    # 2000 x 51 values: the audit's estimate is 32 x 8 bytes a value, about 26 MB
    monkeypatch.setenv(MEMORY_ENV, "8M")
    assert main(["audit", str(path), "--n", "10"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "2000 replicates x 50 generations" in line and "8 MiB" in line
    monkeypatch.setenv(MEMORY_ENV, "256M")
    assert main(["audit", str(path), "--n", "10"]) == 0
    assert "verdict: PASS" in capsys.readouterr().out


def test_memory_factor_zero_budgets_the_load_alone(tmp_path, monkeypatch):
    path = save(_chains(replicates=2000, generations=50), tmp_path / "c.npz")
    monkeypatch.setenv(MEMORY_ENV, "8M")
    with pytest.raises(ResourceError):
        load(path)
    assert load(path, memory_factor=0).log_var.shape == (2000, 51)


def _short_rows_csv(path, rows: int, pad: int = 0):
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("replicate,generation,std\n")
        fh.writelines(f"{i},0,1{'0' * pad}\n" for i in range(rows))
    return path


def test_csv_is_bounded_before_it_is_parsed(tmp_path, monkeypatch):
    def no_loadtxt(*args, **kwargs):
        raise AssertionError("np.loadtxt ran before the memory check")

    path = _short_rows_csv(tmp_path / "many.csv", 200_000)
    monkeypatch.setenv(MEMORY_ENV, "16M")
    monkeypatch.setattr(trajectories.np, "loadtxt", no_loadtxt)
    with pytest.raises(ResourceError, match=r"many\.csv: loading and analysing its up to "
                                            r"200001 data rows"):
        load(path)


def test_csv_bound_counts_lines_when_the_size_is_not_enough(tmp_path, monkeypatch):
    # long rows: the bound from the size (2 bytes a field) is 17x the rows; the line count
    # is exact, so the file loads under a budget the size bound alone would exceed
    path = _short_rows_csv(tmp_path / "wide.csv", 20_000, pad=90)
    monkeypatch.setenv(MEMORY_ENV, "16M")
    assert load(path).log_var.shape == (20_000, 1)
    monkeypatch.setenv(MEMORY_ENV, "2M")
    with pytest.raises(ResourceError, match="up to 20001 data rows"):
        load(path)


@pytest.mark.parametrize(("text", "breaks"), [
    ("a\nb\n", 2), ("a\r\nb\r\n", 2), ("a\rb\r", 2), ("a\n\r\nb", 2), ("a", 0),
])
def test_line_breaks_count_every_convention(tmp_path, text, breaks):
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode())
    assert trajectories._line_breaks(path) == breaks


# ---------------------------------------------------------------------------------------
# 2. Degenerate chains: a verdict or one clear line, never Python warnings
# ---------------------------------------------------------------------------------------


def _constant_csv(path, replicates=300, generations=101):
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(HEADER)
        fh.writelines(f"{r},{g},0,1\n" for r in range(replicates) for g in range(generations))
    return path


def test_constant_chains_give_one_line_from_the_command(tmp_path):
    path = _constant_csv(tmp_path / "const.csv")
    r = subprocess.run(_cli("audit", str(path), "--n", "1000"), capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    line = _one_error_line(r.stderr)
    assert "const.csv: every chain is constant" in line
    assert "the file does not look like refit chains" in line
    assert "Warning" not in r.stderr and "m4" not in r.stderr and ".py:" not in r.stderr


def _base():
    return _chains()


def _edit(**arrays):
    def make():
        t = _base()
        values = {"log_var": t.log_var, "mean": t.fitted_mean()}
        for name, f in arrays.items():
            values[name] = f(t, values[name])
        return Trajectories(t.generations, values["log_var"], values["mean"])

    return make


def _one_constant(t, lv):
    lv = lv.copy()
    lv[5] = lv[5, 0]
    return lv


DEGENERATE = [
    # (make trajectories, expected exit code, text the one error line or stdout must hold)
    pytest.param(_edit(log_var=lambda t, lv: np.zeros_like(lv)), 2, "every chain is constant",
                 id="all-constant"),
    pytest.param(_edit(log_var=lambda t, lv: np.full_like(lv, 3.0), mean=lambda t, m: m * 0),
                 2, "every chain is constant", id="all-constant-elsewhere"),
    pytest.param(_edit(log_var=lambda t, lv: np.tile(-0.25 * np.arange(101.0), (300, 1))), 2,
                 "moves by the same -0.25", id="same-step"),
    pytest.param(_edit(log_var=lambda t, lv: lv * 1e306), 2, "too large for double precision",
                 id="steps-overflow"),
    pytest.param(lambda: _chains(replicates=1), 2, "every check needs at least 20 chains",
                 id="one-chain"),
    pytest.param(lambda: _chains(replicates=2), 2, "every check needs at least 20 chains",
                 id="two-chains"),
    pytest.param(lambda: _chains(generations=0), 2, "at least generations 0 and 1",
                 id="one-generation"),
    pytest.param(lambda: _chains(generations=1), 0, "verdict: PASS", id="two-generations"),
    pytest.param(_edit(log_var=lambda t, lv: np.tile(lv[:1], (300, 1)),
                       mean=lambda t, m: np.tile(m[:1], (300, 1))), 1, "verdict: FAIL",
                 id="identical-chains"),
    pytest.param(_edit(log_var=_one_constant), 0, "verdict:", id="one-chain-constant"),
    pytest.param(_edit(log_var=lambda t, lv: lv + 2 * np.log(1e150), mean=lambda t, m: m * 1e150),
                 0, "verdict: PASS", id="huge-values"),
    pytest.param(_edit(log_var=lambda t, lv: lv + 2 * np.log(1e-300),
                       mean=lambda t, m: m * 1e-300), 0, "verdict: PASS", id="tiny-values"),
    pytest.param(_edit(mean=lambda t, m: m + 1e300), 1, "verdict:", id="huge-mean-offset"),
    pytest.param(_edit(log_var=lambda t, lv: lv - 5000), 0, "verdict: PASS",
                 id="std-far-below-double"),
    pytest.param(_edit(log_var=lambda t, lv: lv * 1e-12), 1, "verdict: FAIL", id="tiny-steps"),
    pytest.param(_edit(log_var=lambda t, lv: lv * 1e12), 1, "verdict: FAIL", id="huge-steps"),
]


@pytest.mark.parametrize(("make", "code", "text"), DEGENERATE)
def test_degenerate_chains_give_a_verdict_or_one_line(tmp_path, capsys, make, code, text):
    path = save(make(), tmp_path / "d.npz")
    capsys.readouterr()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = main(["audit", str(path), "--n", "10"])
    out, err = capsys.readouterr()
    assert [str(w.message) for w in caught] == []
    assert got == code, err
    if code == 2:
        assert text in _one_error_line(err)
    else:
        assert text in out
        assert not re.search(r"Warning|Traceback|\.py:\d|error", err), err  # only 'skipped ...'


def test_identical_chains_name_the_degenerate_spread_in_the_reason():
    t = _base()
    same = Trajectories(t.generations, np.tile(t.log_var[:1], (300, 1)),
                        np.tile(t.fitted_mean()[:1], (300, 1)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = audit(same, n=10)
    assert caught == []
    drift = {c.id: c for c in res.checks}["audit.drift_consistency"]
    assert drift.verdict.value == "WEAK"
    assert "could not be computed" in drift.reason and "no variation between chains" in drift.reason
    assert drift.numbers["warnings"]


def test_means_beyond_double_precision_are_skipped_with_the_reason():
    t = _base()
    res = audit(Trajectories(t.generations, t.log_var - 5000, t.fitted_mean()), n=10)
    assert "overflow double precision" in res.skipped["mean_increment_gof"]
    assert "audit.mean_increment_gof" not in {c.id for c in res.checks}


@pytest.mark.parametrize(("v", "expected"), [(1e-40, np.inf), (1e40, 1.0)])
def test_n_from_step_variance_has_limits_beyond_its_bracket(v, expected):
    assert n_from_step_variance(v) == expected


# ---------------------------------------------------------------------------------------
# 3a. std must agree with log_var where a file gives both
# ---------------------------------------------------------------------------------------

LV_HEADER = "replicate,generation,std,log_var\n"
E15 = float(np.exp(-1.5))


@pytest.mark.parametrize(("std", "log_var"), [
    pytest.param("-1", "0", id="negative"),
    pytest.param("0", "-3", id="zero-where-normal"),
    pytest.param(repr(E15 * (1 + 2e-6)), "-3", id="off-by-2e-6"),
    pytest.param("2", "0", id="wrong"),
    pytest.param("0", repr(2 * float(np.log(1e-307))), id="zero-just-above-the-smallest-normal"),
    pytest.param("1e-300", "-1500", id="too-large-where-underflowed"),
])
def test_csv_std_contradicting_log_var_is_refused_naming_the_line(tmp_path, std, log_var):
    path = tmp_path / "t.csv"
    path.write_text(LV_HEADER + f"0,0,1,0\n\n0,1,{std},{log_var}\n", encoding="utf-8")
    message = _refusal(path)
    assert "line 4: std" in message and "contradicts log_var" in message


@pytest.mark.parametrize(("std", "log_var"), [
    pytest.param(repr(E15), "-3", id="exact"),
    pytest.param(repr(E15 * (1 + 5e-7)), "-3", id="within-1e-6"),
    pytest.param("0", "-1500", id="zero-where-underflowed"),
    pytest.param("0", "-1417", id="zero-where-subnormal"),
    pytest.param(repr(float(np.exp(-708.5))), "-1417", id="subnormal-where-subnormal"),
    pytest.param("2.2250738585072014e-308", "-1420", id="smallest-normal-where-underflowed"),
])
def test_csv_std_agreeing_with_log_var_loads(tmp_path, std, log_var):
    path = tmp_path / "t.csv"
    path.write_text(LV_HEADER + f"0,0,1,0\n0,1,{std},{log_var}\n", encoding="utf-8")
    np.testing.assert_array_equal(load(path).log_var, [[0.0, float(log_var)]])


def test_npz_std_contradicting_log_var_is_refused_naming_the_entry(tmp_path):
    log_var = np.zeros((3, 4))
    std = np.ones((3, 4))
    std[2, 1] = 1.01
    np.savez(tmp_path / "t.npz", std=std, log_var=log_var)
    message = _refusal(tmp_path / "t.npz")
    assert "at [2, 1], std 1.01 contradicts log_var 0.0" in message


def test_npz_std_underflowed_to_zero_beside_log_var_loads(tmp_path):
    log_var = np.array([[0.0, -700.0, -1500.0, -3000.0]])
    with np.errstate(under="ignore"):
        std = np.exp(0.5 * log_var)
    assert std[0, -1] == 0.0
    np.savez(tmp_path / "t.npz", std=std, log_var=log_var)
    np.testing.assert_array_equal(load(tmp_path / "t.npz").log_var, log_var)


# ---------------------------------------------------------------------------------------
# 3b. A UTF-8 byte-order mark is accepted
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_byte_order_mark_is_accepted(tmp_path, newline):
    body = newline.join(["replicate,generation,std", "0,0,1", "0,1,0.5", ""])
    plain = tmp_path / "plain.csv"
    plain.write_bytes(body.encode())
    marked = tmp_path / "marked.csv"
    marked.write_bytes(b"\xef\xbb\xbf" + body.encode())
    np.testing.assert_array_equal(load(marked).log_var, load(plain).log_var)


def test_byte_order_mark_does_not_shift_line_numbers(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + "0,0,0,1\n0,1,0,abc\n").encode())
    assert "line 3:" in _refusal(path)


# ---------------------------------------------------------------------------------------
# 3c. One convention for line numbers, and no advice meant for programmers
# ---------------------------------------------------------------------------------------

CSV_ERRORS = [
    # (content, the line named, text the message holds)
    pytest.param(HEADER + "0,0,0,1\n0,1,0,abc\n", 3, "could not convert string 'abc'",
                 id="not-a-number"),
    pytest.param(HEADER + "0,0,0,1\n\n\n0,1,0,abc\n", 5, "(column 4, 'std')",
                 id="not-a-number-after-blank-lines"),
    pytest.param(HEADER + "\n0,0,0,abc\n", 3, "could not convert", id="blank-line-first"),
    pytest.param(HEADER + "0,0,0,1\r\n\r\n0,1,0,x\r\n", 4, "could not convert", id="crlf"),
    pytest.param(HEADER.replace("\n", "\r") + "0,0,0,1\r\r0,1,0,x\r", 4, "could not convert",
                 id="cr-only"),
    pytest.param(HEADER + "0,0,,1\n", 2, "could not convert string ''", id="empty-field"),
    pytest.param(HEADER + "0,0,0,1\n0,1,0\n", 3, "has 3 field(s); the header has 4",
                 id="too-few-fields"),
    pytest.param(HEADER + "0,0,0,1\n\n0,1,0,1,5\n", 4, "has 5 field(s); the header has 4",
                 id="too-many-fields"),
    pytest.param(HEADER + "0,0,1\n0,1,0,1\n", 2, "has 3 field(s); the header has 4",
                 id="first-row-wrong"),
    pytest.param(HEADER + "0,0,0,1\n   \n0,1,0,1\n", 3, "has 1 field(s)", id="spaces-line"),
    pytest.param(HEADER + "\n0,0,1\n0,1,1\n", 3, "rows have 3 fields; the header has 4",
                 id="every-row-short"),
    pytest.param(HEADER + "0,0,0,1\n\n0,1,0,nan\n", 4, "'std' has a non-finite value",
                 id="non-finite"),
    pytest.param(HEADER + "0,0,0,1\n\n0,1,0,0\n", 4, "'std' must be > 0", id="zero-std"),
    pytest.param(HEADER + "\n0,0,0,1\n0.5,1,0,1\n", 4, "'replicate' must hold whole numbers",
                 id="fractional-replicate"),
    pytest.param(HEADER + "0,0,0,1\n0,1,0,1\n1,0,0,1\n\n0,1,0,1\n", 6,
                 "repeats replicate 0, generation 1", id="repeated-pair"),
]


@pytest.mark.parametrize(("content", "line", "text"), CSV_ERRORS)
def test_csv_messages_name_the_file_line(tmp_path, content, line, text):
    path = tmp_path / "bad.csv"
    path.write_bytes(content.encode())
    message = _refusal(path)
    assert text in message
    assert re.search(rf"\bline {line}\b", message), message
    assert not re.search(r"\brows? \d", message), message  # numpy's or any other count
    assert "usecols" not in message and "data row" not in message


@pytest.mark.parametrize("blank", [False, True])
@pytest.mark.parametrize("bad", range(6))
def test_every_row_maps_to_its_line(tmp_path, bad, blank):
    # six rows, blank lines after every other one; break row `bad` in two ways
    for broken in ("0,1,0,x", "0,1,0"):
        lines, where = [HEADER.rstrip("\n")], None
        for g in range(6):
            lines.append(broken.replace("0,1", f"0,{g}", 1) if g == bad else f"0,{g},0,1")
            if g == bad:
                where = len(lines)
            if blank and g % 2:
                lines.append("")
        path = tmp_path / "t.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        assert f"line {where}" in _refusal(path)


def test_csv_error_through_the_command_is_one_line(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "0,0,0,1\n0,1,0\n", encoding="utf-8")
    assert main(["audit", str(path), "--n", "10"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "bad.csv: line 3 has 3 field(s)" in line and "usecols" not in line


# ---------------------------------------------------------------------------------------
# 3d. Comments are not part of the format
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "line", "text"), [
    pytest.param(HEADER + "0,0,0,1\n# a note\n0,1,0,1\n", 3, "line 3 is a comment",
                 id="comment-line"),
    pytest.param(HEADER + "#0,0,0,1\n", 2, "line 2 is a comment", id="commented-row"),
    pytest.param(HEADER + "0,0,0,1 # a note\n", 2, "line 2 holds a '#' comment", id="inline"),
    pytest.param(HEADER + "0,0,0,1\n0,1,0,1#\n", 3, "holds a '#' comment", id="trailing-hash"),
    pytest.param(HEADER + "0,0,0,1\n#,#,#,#\n", 3, "is a comment", id="comment-with-fields"),
])
def test_comments_are_refused_with_their_line_and_a_hint(tmp_path, content, line, text):
    path = tmp_path / "c.csv"
    path.write_text(content, encoding="utf-8")
    message = _refusal(path)
    assert text in message and "grep -v '^#'" in message


@pytest.mark.parametrize("content", [
    pytest.param("# " + HEADER + "0,0,0,1\n", id="commented-header"),
    pytest.param("# written by my simulator\n" + HEADER + "0,0,0,1\n", id="comment-first"),
    pytest.param(HEADER.rstrip("\n") + " # columns\n0,0,0,1\n", id="header-inline"),
])
def test_comments_before_or_in_the_header_are_refused(tmp_path, content):
    path = tmp_path / "c.csv"
    path.write_text(content, encoding="utf-8")
    message = _refusal(path)
    assert "line 1 (the header) holds a '#'" in message and "comments=''" in message
