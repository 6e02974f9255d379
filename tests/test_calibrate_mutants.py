"""``calibrate --mutant``: deliberately wrong simulators are caught over seeds; the price
counts their runs; Ctrl-C stops the worker processes."""

import json
import multiprocessing
import time

import pytest

from collapsecheck import costs
from collapsecheck.calibrate import calibrate, mutant_names
from collapsecheck.cli import main
from collapsecheck.mutants import MUTANTS
from collapsecheck.profiles import parse_profile
from collapsecheck.resources import ResourceError

SMALL = {"name": "small", "seed": 1, "budget": 0.001, "checks": [
    {"type": "log_var_gof", "n": 10, "generations": 5, "replicates": 200},
    {"type": "increment_gof", "n": 4, "generations": 10, "replicates": 50}]}


def test_ci_catches_n_minus_10pct(capsys):
    code = main(["calibrate", "--profile", "ci", "--seeds", "2", "--mutant", "n-minus-10pct",
                 "--json", "--no-progress"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["passed"] and out["mutants_passed"]
    (m,) = out["mutants"]
    assert m["name"] == "n-minus-10pct" and m["seeds"] == 2 and m["killed"] == 2
    assert m["kill_rate"] == 1.0 and abs(m["kill_lower95"] - 0.05 ** 0.5) < 1e-12
    assert set(m["killed_by"]) == set(out["checks"])
    # the final log sigma^2 at n = 1000 shows 10% fewer draws every time
    assert m["killed_by"]["theory.log_var_gof.n1000.T1000.sufficient"] == 2


def test_all_means_every_mutant_once():
    assert mutant_names(["all"]) == list(MUTANTS)
    assert mutant_names(["frozen-mean", "all", "frozen-mean"])[0] == "frozen-mean"
    assert len(mutant_names(["frozen-mean", "all"])) == len(MUTANTS)
    with pytest.raises(ValueError, match="the mutants are: all, ddof-mismatch"):
        mutant_names(["frozen-mean", "bogus"])
    res = calibrate(parse_profile(SMALL), [3], workers=2, mutants=["all"])
    assert [m["name"] for m in res.mutants] == list(MUTANTS)
    assert all(m["seeds"] == 1 and m["kill_rate"] in (0.0, 1.0) for m in res.mutants)


def test_price_counts_the_mutants(capsys, tmp_path):
    prof = parse_profile(SMALL)
    # seeds that the engines alone run in about a third of the limit
    per_seed = costs.calibration_cost(prof, 2, cores=2).seconds \
        - costs.calibration_cost(prof, 1, cores=2).seconds
    seeds = int(costs.LONG_S / 3 / per_seed)
    assert costs.require_calibration(prof, seeds, cores=2).seconds < costs.LONG_S
    with pytest.raises(ResourceError) as info:
        calibrate(prof, list(range(seeds)), workers=2, mutants=["all"])
    msg = str(info.value)
    assert f"`--seeds` = {seeds} with {len(MUTANTS)} mutants" in msg and "--allow-long" in msg
    path = tmp_path / "small.toml"
    path.write_text('name = "small"\nseed = 1\nbudget = 0.001\n[[checks]]\n'
                    'type = "log_var_gof"\nn = 10\ngenerations = 5\nreplicates = 200\n'
                    '[[checks]]\ntype = "increment_gof"\nn = 4\ngenerations = 10\n'
                    'replicates = 50\n')
    code = main(["calibrate", "--profile", str(path), "--seeds", str(seeds), "--workers", "2",
                 "--mutant", "all", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "mutants" in err


def test_interrupt_terminates_the_workers():
    """A KeyboardInterrupt in the parent (here raised by the progress callback once the
    first run is back) stops the calibration at once and terminates the pool."""
    calls = []

    def progress(name, done, total):
        calls.append(name)
        if done >= 1:
            raise KeyboardInterrupt

    prof = parse_profile({**SMALL, "checks": [
        {"type": "log_var_gof", "n": 10, "generations": 5, "replicates": 200},
        {"type": "increment_gof", "n": 4, "generations": 200, "replicates": 5000}]})
    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        calibrate(prof, list(range(40)), workers=2, progress=progress)
    deadline = time.monotonic() + 10
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not multiprocessing.active_children()
    assert "40 runs on 2 processes" in calls[0]
    assert time.perf_counter() - start < 30  # 40 runs would take far longer


def test_mutants_by_comma_or_repeated(capsys, tmp_path):
    path = tmp_path / "small.toml"
    path.write_text('name = "small"\nseed = 1\nbudget = 0.001\n[[checks]]\n'
                    'type = "log_var_gof"\nn = 10\ngenerations = 5\nreplicates = 200\n')
    outs = []
    for args in (["--mutant", "variance-not-sd,ddof-mismatch"],
                 ["--mutant", "variance-not-sd", "--mutant", "ddof-mismatch"]):
        assert main(["calibrate", "--profile", str(path), "--seeds", "2", "--json", *args]) == 0
        outs.append([m["name"] for m in json.loads(capsys.readouterr().out)["mutants"]])
    assert outs[0] == outs[1] == ["variance-not-sd", "ddof-mismatch"]
