"""Engines under stress: Ctrl-C stops every worker kind at once, streamed output keeps
memory bounded whatever the horizon, and extreme mu0 / sigma0 lose nothing to rounding."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from collapsecheck import Experiment
from collapsecheck.checks.theory import MeanIncrementGof, MuVar
from collapsecheck.cli import main
from collapsecheck.engines import simulate
from collapsecheck.families.gaussian.checks.base import engine_simulator
from collapsecheck.trajectories import TrajectoryWriter, load, save

ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "collapsecheck", *args]


def _interrupt_after(args: list[str], seconds: float) -> tuple[int, float, str]:
    """Start the command, send one SIGINT after ``seconds``; return (exit code, seconds
    from the signal to the exit, stderr)."""
    proc = subprocess.Popen(_cli(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=ENV)
    time.sleep(seconds)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"still running 20 s after SIGINT: {args}")
    return proc.returncode, time.monotonic() - sent, err.decode()


# An hour of work or more in each; every one must stop within 2 s of one SIGINT.
LONG_RUNS = {
    "sufficient-threads": ["simulate", "--engine", "sufficient", "--n", "5", "--replicates",
                           "2000000", "--generations", "100000", "--seed", "1"],
    "samples-processes": ["simulate", "--engine", "samples", "--n", "10", "--replicates",
                          "200000", "--generations", "100000", "--seed", "1", "--workers", "2"],
    "samples-threads": ["simulate", "--engine", "samples", "--n", "1000", "--replicates",
                        "200000", "--generations", "100000", "--seed", "1", "--workers", "2"],
    "samples-huge-n": ["simulate", "--engine", "samples", "--n", "10000000", "--replicates",
                       "256", "--generations", "100", "--seed", "1", "--workers", "2"],
    "streamed-out": ["simulate", "--engine", "samples", "--n", "100000", "--replicates",
                     "128", "--generations", "1000", "--seed", "1", "--out", "OUT"],
    "dask": ["simulate", "--n", "5", "--replicates", "2000000", "--generations", "100000",
             "--seed", "1", "--scheduler", "dask", "--workers", "2"],
    "validate": ["validate", "--profile", "article"],
}


@pytest.mark.parametrize("name", list(LONG_RUNS))
def test_one_sigint_stops_a_long_run_within_two_seconds(tmp_path, name):
    args = [a if a != "OUT" else str(tmp_path / "chains.npz") for a in LONG_RUNS[name]]
    code, latency, err = _interrupt_after([*args, "--no-progress"],
                                          8.0 if name == "dask" else 3.0)
    assert code == 130, err
    assert latency < 2.0, f"{name}: exit {latency:.2f} s after SIGINT"
    lines = err.strip().splitlines()
    assert lines[-1] == "collapsecheck: interrupted", err
    # at most the run's time estimate before it; no traceback, no library chatter
    assert all(line.startswith("collapsecheck: estimated") for line in lines[:-1]), err
    assert os.listdir(tmp_path) == []  # no torn output, no staging left behind


def test_consumer_that_stops_does_not_wait_for_running_blocks():
    """The library path (no signal handler): an exception in the consumer cancels the
    queued blocks and stops the running ones at their next check."""
    e = Experiment(n=5, generations=100000, replicates=64 * 64, seed=1)
    start = time.monotonic()
    with pytest.raises(RuntimeError):
        run = simulate(e, workers=2, progress=lambda done, total: (_ for _ in ()).throw(
            RuntimeError("stop")))
        del run
    assert time.monotonic() - start < 10  # the whole run would take minutes


def _peak_rss_mb(args: list[str]) -> float:
    code = textwrap.dedent(f"""
        import resource, subprocess, sys
        r = subprocess.run({_cli(*args)!r}, capture_output=True)
        assert r.returncode == 0, r.stderr.decode()
        print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=ENV, check=True)
    return float(out.stdout)


def test_streamed_out_memory_does_not_grow_with_replicates(tmp_path):
    # 8000 replicates x 1001 generations: 192 MB of records. Before the fix every block's
    # final column was a view pinning its whole block, and the staging was memory mapped.
    peak = _peak_rss_mb(["simulate", "--replicates", "8000", "--generations", "1000",
                         "--seed", "1", "--out", str(tmp_path / "a.npz")])
    assert peak < 200, f"peak {peak:.0f} MB"


def test_streamed_out_stages_a_huge_block_on_disk(tmp_path):
    # one block of 64 chains x 200,001 generations holds 205 MB of records: staged to disk
    # column piece by column piece, never held
    peak = _peak_rss_mb(["simulate", "--replicates", "64", "--generations", "200000",
                         "--seed", "1", "--out", str(tmp_path / "b.npz")])
    assert peak < 200, f"peak {peak:.0f} MB"
    traj = load(tmp_path / "b.npz")
    assert traj.log_var.shape == (64, 200001)


@pytest.mark.parametrize("engine,n,workers", [("sufficient", 5, 2), ("samples", 10, 2),
                                              ("samples", 300, 1)])
@pytest.mark.parametrize("suffix", [".npz", ".csv"])
def test_streamed_file_equals_the_recorded_run(tmp_path, engine, n, workers, suffix):
    # 3 blocks (the last partial) and 3000 generations: several column pieces per block
    e = Experiment(n=n, generations=3000 if suffix == ".npz" else 700, replicates=150,
                   seed=7, mu0=3.0, sigma0=2.5)
    whole = simulate(e, engine=engine, workers=1, record="all").trajectories
    path = tmp_path / f"s{suffix}"
    with TrajectoryWriter(path, e.replicates, e.generations) as sink:
        final = simulate(e, engine=engine, workers=workers, sink=sink).trajectories
    got = load(path)
    np.testing.assert_array_equal(got.log_var, whole.log_var)
    np.testing.assert_array_equal(got.mean, whole.fitted_mean())
    np.testing.assert_array_equal(final.log_var[:, 0], whole.log_var[:, -1])
    ref = tmp_path / f"ref{suffix}"
    save(whole, ref)
    if suffix == ".csv":
        assert ref.read_bytes() == path.read_bytes()


# ---------------------------------------------------------------------------------------
# Numerics at the edges
# ---------------------------------------------------------------------------------------


def test_huge_mu0_keeps_the_mean_increments(capsys):
    """The law of mu_T - mu0 does not depend on mu0: at mu0 = 1e200 every increment
    would round away in absolute coordinates (Var(mu_T) came out 0.0 against 0.488)."""
    assert main(["simulate", "--mu0", "1e200", "--n", "5", "--generations", "3",
                 "--replicates", "20000", "--seed", "1", "--json"]) == 0
    mu = json.loads(capsys.readouterr().out)["final"]["mu_var"]
    assert mu["theory"] == pytest.approx(0.488, rel=1e-12)
    assert abs(mu["estimate"] - mu["theory"]) < 5 * mu["se"]  # 5 SE: alpha ~ 6e-7
    assert mu["se"] > 0


@pytest.mark.parametrize("mu0,sigma0", [(1e200, 1.0), (0.0, 1e-300), (-3e150, 1e250)])
def test_mean_checks_pass_at_extreme_location_and_scale(mu0, sigma0):
    sim = engine_simulator("sufficient")
    for cls in (MeanIncrementGof, MuVar):
        check = cls(n=5, generations=3, replicates=20000, mu0=mu0, sigma0=sigma0)
        outcome = check.run(check.experiment(seed=3), sim)
        assert outcome.pvalue > 1e-6, (cls.__name__, outcome)
        if cls is MeanIncrementGof:  # no increment may be lost to rounding
            assert outcome.numbers["increments_below_rounding"] == 0


def test_subnormal_sigma0_is_noted_with_its_log(capsys):
    assert main(["simulate", "--sigma0", "1e-320", "--n", "5", "--generations", "3",
                 "--replicates", "400", "--seed", "1", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    final, notes = record["final"], record["notes"]
    assert final["sigma2_mean"]["estimate"] == 0.0
    for key in ("sigma2_mean", "mu_var"):
        ln = final["log_scale"][key]
        assert math.isfinite(ln["estimate"]) and math.isfinite(ln["theory"])
        assert any(note.startswith(f"final.{key}.estimate = 0.0 underflows") for note in notes)
    # the log-scale estimate is the real one: E[sigma^2] = sigma0^2 (n-1)/n ... per step
    theory = final["log_scale"]["sigma2_mean"]["theory"]
    assert theory == pytest.approx(2 * math.log(1e-320) + 3 * math.log(4 / 5), abs=1e-9)
    # scale-free z-scores survive where the raw numbers do not
    assert final["sigma2_mean"]["z"] is not None and abs(final["sigma2_mean"]["z"]) < 5


def test_theory_table_prints_underflowed_values_by_their_logs():
    r = subprocess.run(_cli("theory", "--generations", "1000000000"), capture_output=True,
                       text=True, env=ENV)
    assert r.returncode == 0
    assert "exp(-750500.4)" in r.stdout  # E[sigma_T], not "0"
    assert "final.sigma_mean = 0.0 underflows" in r.stderr


def test_theory_json_notes_every_underflow(capsys):
    assert main(["theory", "--generations", "1000000000", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    for key in ("sigma_mean", "sigma2_mean"):
        assert record["final"][key] == 0.0
        assert any(n.startswith(f"final.{key} = 0.0 underflows") for n in record["notes"])


def test_sigma0_near_overflow_names_the_real_reason(capsys):
    assert main(["simulate", "--sigma0", "1e308", "--n", "1000", "--generations", "3"]) == 2
    err = capsys.readouterr().err
    assert "close to the largest double" in err and "sigma grows" not in err


def test_out_that_cannot_fit_on_disk_is_refused_up_front(tmp_path, monkeypatch, capsys):
    import collections
    import shutil

    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage(10**6, 0, 10**6))
    out = tmp_path / "big.npz"
    code = main(["simulate", "--replicates", "1000", "--generations", "1000", "--seed", "1",
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"--out {str(out)!r} needs about" in err and "free" in err
    assert not out.exists() and os.listdir(tmp_path) == []
