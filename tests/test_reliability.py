"""Hostile and extreme use: interrupts, random parameters, fuzzed files, numerics."""

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collapsecheck.cli import main

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "fuzz"))
from fuzz_trajectories import test_one_input as fuzz_one_input  # noqa: E402


def test_ctrl_c_exits_130_with_one_line_and_no_torn_files(tmp_path):
    out = tmp_path / "reports"
    out.mkdir()
    (out / "report.json").write_text('{"old": true}')
    proc = subprocess.Popen(
        [sys.executable, "-m", "collapsecheck", "validate", "--profile", "ci", "--out",
         str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    # wait until it is running checks (stderr is not a terminal: one line per step)
    deadline = time.monotonic() + 60
    line = "x"
    while time.monotonic() < deadline and line and "[2/" not in line:
        line = proc.stderr.readline()
    assert "[2/" in line
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    lines = [ln for ln in err.splitlines() if not ln.startswith("[")]
    assert lines == ["collapsecheck: interrupted"]
    assert sorted(p.name for p in out.iterdir()) == ["report.json"]
    assert json.loads((out / "report.json").read_text()) == {"old": True}


_values = st.one_of(st.text(max_size=12), st.integers(-10**12, 10**12).map(str),
                    st.floats(allow_nan=True, allow_infinity=True).map(repr))


@given(st.sampled_from(["--n", "--generations", "--replicates", "--ddof", "--mu0", "--sigma0",
                        "--seed", "--engine", "--workers"]), _values)
# capsys is read (and so emptied) at every example, which is all the reset it needs
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_random_parameter_values_never_traceback(capsys, option, value):
    # small defaults so that valid values finish quickly
    args = ["simulate", "--n", "3", "--generations", "2", "--replicates", "3", "--json",
            "--workers", "1", option, value]
    code = main(args)
    captured = capsys.readouterr()
    assert code in (0, 2)
    assert "Traceback" not in captured.err
    if code == 2:
        assert captured.err.count("\n") == 1 and captured.err.startswith("collapsecheck: error:")
        assert captured.out == ""
    else:
        json.loads(captured.out)


@given(st.binary(max_size=600))
@settings(max_examples=200)
def test_fuzz_target_on_random_bytes(data):
    fuzz_one_input(data)


@given(st.lists(st.lists(st.one_of(st.integers(-3, 5).map(str),
                                   st.floats(allow_nan=True).map(repr),
                                   st.sampled_from(["", "nan", "inf", "1e999", "x"])),
                         min_size=1, max_size=6), max_size=8))
@settings(max_examples=200)
def test_fuzz_target_on_near_csv(rows):
    header = "replicate,generation,mean,std,log_var\n"
    body = "\n".join(",".join(r) for r in rows)
    fuzz_one_input((header + body).encode())


def _null_paths(obj, path=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _null_paths(v, f"{path}.{k}" if path else str(k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _null_paths(v, f"{path}[{i}]")
    elif obj is None:
        yield path


class TestNumerics:
    @pytest.mark.parametrize("args", [
        ["theory", "--n", "2", "--generations", "1000000"],
        ["theory", "--n", "10000000", "--generations", "1000000", "--ddof", "1"],
        ["theory", "--n", "4", "--generations", "3", "--sigma0", "1e-300"],
        ["theory", "--n", "4", "--generations", "3", "--sigma0", "1e300"],
        ["theory", "--n", "5", "--generations", "1000", "--ddof", "4.999"],
        ["simulate", "--n", "10000000", "--generations", "100", "--replicates", "64",
         "--seed", "1"],
        ["simulate", "--n", "2", "--generations", "1000000", "--replicates", "4", "--seed", "1"],
        ["simulate", "--n", "2", "--generations", "100000", "--replicates", "10", "--seed", "1"],
        ["simulate", "--n", "5", "--generations", "50", "--replicates", "100",
         "--sigma0", "1e-300", "--seed", "1"],
        ["simulate", "--n", "5", "--generations", "50", "--replicates", "100",
         "--sigma0", "1e300", "--seed", "1"],
    ])
    def test_extremes_give_finite_json_or_explained_nulls(self, capsys, args):
        assert main([*args, "--json"]) == 0
        record = json.loads(capsys.readouterr().out)
        final = record["final"]
        # every null anywhere in the record is explained by a note naming its path (a null
        # spec field is an option not set: no truncation, no fresh fraction)
        for path in _null_paths(record):
            if path.startswith("spec."):
                continue
            assert any(note.startswith(path + " ") for note in record["notes"]), path
        log_scale = final.get("log_scale")
        if log_scale:
            for v in log_scale["sigma_quantiles"].values():  # theory: a number; simulate:
                values = v.values() if isinstance(v, dict) else [v]  # estimate and theory
                assert all(math.isfinite(x) for x in values)

    def test_overflowing_chain_is_refused_clearly(self, capsys):
        code = main(["simulate", "--n", "5", "--ddof", "4.999", "--generations", "1000",
                     "--replicates", "10"])
        assert code == 2
        assert "would overflow double precision" in capsys.readouterr().err
