"""The ``collapsecheck`` command line: exit codes, one-line errors, JSON records, --out.

Most tests call :func:`collapsecheck.cli.main` in-process and read stdout/stderr with
capsys; a few run the real console entry point in a subprocess to prove that nothing
prints a traceback end to end.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from collapsecheck import __version__, theory
from collapsecheck.cli import ExitCode, main
from collapsecheck.engines import BIT_GENERATOR, simulate
from collapsecheck.engines._blocks import REPLICATE_BLOCK
from collapsecheck.experiment import Experiment
from collapsecheck.trajectories import load

#: Keeps any simulate run cheap, even one that a regression wrongly lets through.
SMALL = ["--n", "5", "--generations", "3", "--replicates", "2", "--seed", "1", "--no-progress"]

STATS = ("sigma_mean", "sigma2_mean", "log_sigma2_mean", "log_sigma2_sd", "mu_var")
LEVELS = ("0.025", "0.5", "0.975")


def _run(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _assert_usage_error(code, out, err, option):
    assert code == ExitCode.USAGE == 2
    assert "Traceback" not in out + err
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert err.endswith("\n")
    assert lines[0].startswith("collapsecheck: error:"), err
    assert option in lines[0], err


# ---------------------------------------------------------------------------------------
# Bad invocations: exit 2, one line naming the option, nothing on stdout
# ---------------------------------------------------------------------------------------

BAD = [
    # theory
    pytest.param(["theory", "--n", "1"], "--n", id="theory-n-1"),
    pytest.param(["theory", "--n", "0"], "--n", id="theory-n-0"),
    pytest.param(["theory", "--n", "abc"], "--n", id="theory-n-abc"),
    pytest.param(["theory", "--n", "2.5"], "--n", id="theory-n-fraction"),
    pytest.param(["theory", "--n", "3", "--ddof", "3"], "--ddof", id="theory-ddof-eq-n"),
    pytest.param(["theory", "--n", "3", "--ddof", "4.5"], "--ddof", id="theory-ddof-gt-n"),
    pytest.param(["theory", "--ddof", "-1"], "--ddof", id="theory-ddof-negative"),
    pytest.param(["theory", "--ddof", "nan"], "--ddof", id="theory-ddof-nan"),
    pytest.param(["theory", "--sigma0", "-1"], "--sigma0", id="theory-sigma0-negative"),
    pytest.param(["theory", "--sigma0", "nan"], "--sigma0", id="theory-sigma0-nan"),
    pytest.param(["theory", "--sigma0", "inf"], "--sigma0", id="theory-sigma0-inf"),
    pytest.param(["theory", "--sigma0", "0"], "--sigma0", id="theory-sigma0-zero"),
    pytest.param(["theory", "--sigma0", "wide"], "--sigma0", id="theory-sigma0-word"),
    pytest.param(["theory", "--sigma0"], "--sigma0", id="theory-sigma0-no-value"),
    pytest.param(["theory", "--mu0", "nan"], "--mu0", id="theory-mu0-nan"),
    pytest.param(["theory", "--mu0", "-inf"], "--mu0", id="theory-mu0-inf"),
    pytest.param(["theory", "--generations", "-1"], "--generations", id="theory-generations-neg"),
    pytest.param(["theory", "--bogus"], "--bogus", id="theory-unknown-option"),
    pytest.param(["theory", "--seed", "1"], "--seed", id="theory-takes-no-seed"),
    # simulate
    pytest.param(["simulate", *SMALL, "--n", "1"], "--n", id="simulate-n-1"),
    pytest.param(["simulate", *SMALL, "--n", "abc"], "--n", id="simulate-n-abc"),
    pytest.param(["simulate", *SMALL, "--ddof", "5"], "--ddof", id="simulate-ddof-eq-n"),
    pytest.param(["simulate", *SMALL, "--ddof", "-0.5"], "--ddof", id="simulate-ddof-negative"),
    pytest.param(["simulate", *SMALL, "--sigma0", "-inf"], "--sigma0", id="simulate-sigma0-inf"),
    pytest.param(["simulate", *SMALL, "--mu0", "nan"], "--mu0", id="simulate-mu0-nan"),
    pytest.param(["simulate", *SMALL, "--generations", "-5"], "--generations",
                 id="simulate-generations-neg"),
    pytest.param(["simulate", *SMALL, "--replicates", "0"], "--replicates",
                 id="simulate-replicates-0"),
    pytest.param(["simulate", *SMALL, "--replicates", "ten"], "--replicates",
                 id="simulate-replicates-word"),
    pytest.param(["simulate", *SMALL, "--engine", "foo"], "--engine", id="simulate-engine"),
    pytest.param(["simulate", *SMALL, "--seed", "-1"], "--seed", id="simulate-seed-negative"),
    pytest.param(["simulate", *SMALL, "--seed", "abc"], "--seed", id="simulate-seed-word"),
    pytest.param(["simulate", *SMALL, "--seed", "1.5"], "--seed", id="simulate-seed-fraction"),
    pytest.param(["simulate", *SMALL, "--workers", "-1"], "--workers", id="simulate-workers-neg"),
    pytest.param(["simulate", *SMALL, "--workers", "two"], "--workers",
                 id="simulate-workers-word"),
    pytest.param(["simulate", *SMALL, "--frobnicate", "3"], "--frobnicate",
                 id="simulate-unknown-option"),
    pytest.param(["simulate", *SMALL, "--out", "{tmp}/x.txt"], "--out", id="out-bad-suffix"),
    pytest.param(["simulate", *SMALL, "--out", "{tmp}"], "--out", id="out-is-a-folder"),
    pytest.param(["simulate", *SMALL, "--out", "{tmp}/missing/x.csv"], "--out",
                 id="out-missing-folder"),
    pytest.param(["simulate", *SMALL, "--out", "{tmp}/exists.csv"], "--out",
                 id="out-exists-csv"),
    pytest.param(["simulate", *SMALL, "--out", "{tmp}/exists.npz"], "--out",
                 id="out-exists-npz"),
    # the program
    pytest.param(["bogus"], "bogus", id="unknown-command"),
    pytest.param(["--bogus"], "--bogus", id="unknown-top-level-option"),
]

EXISTING = b"do not touch\n"


@pytest.mark.parametrize(("argv", "option"), BAD)
def test_bad_invocation_is_one_line_and_exit_2(capsys, tmp_path, argv, option):
    for name in ("exists.csv", "exists.npz"):
        (tmp_path / name).write_bytes(EXISTING)
    before = sorted(os.listdir(tmp_path))
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    code, out, err = _run(capsys, argv)
    _assert_usage_error(code, out, err, option)
    # nothing written, nothing replaced
    assert sorted(os.listdir(tmp_path)) == before
    for name in ("exists.csv", "exists.npz"):
        assert (tmp_path / name).read_bytes() == EXISTING


def test_the_bad_invocation_table_is_big_enough():
    assert len(BAD) >= 20


# ---------------------------------------------------------------------------------------
# The real console script, end to end
# ---------------------------------------------------------------------------------------


def _console(args, cwd):
    env = {k: v for k, v in os.environ.items() if k != "COLLAPSECHECK_DEBUG"}
    return subprocess.run([sys.executable, "-m", "collapsecheck", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["theory", "--n", "1"], "--n"),
        (["simulate", *SMALL, "--out", "missing/x.csv"], "--out"),
        (["simulate", *SMALL, "--seed", "abc"], "--seed"),
    ],
    ids=["bad-value", "bad-out", "unparsable"],
)
def test_console_script_bad_input_has_no_traceback(tmp_path, args, option):
    proc = _console(args, tmp_path)
    _assert_usage_error(proc.returncode, proc.stdout, proc.stderr, option)
    assert os.listdir(tmp_path) == []


def test_console_script_version(tmp_path):
    proc = _console(["--version"], tmp_path)
    assert proc.returncode == 0
    assert proc.stdout == f"collapsecheck {__version__}\n"
    assert proc.stderr == ""


def test_version_in_process(capsys):
    code, out, err = _run(capsys, ["--version"])
    assert code == 0
    assert out == f"collapsecheck {__version__}\n"
    assert err == ""


# ---------------------------------------------------------------------------------------
# theory --json: the DESIGN.md keys, the same numbers as the library
# ---------------------------------------------------------------------------------------


def _close(a, b):
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


@pytest.mark.parametrize(
    ("n", "generations", "ddof", "mu0", "sigma0"),
    [(5, 10, 0.0, 0.0, 1.0), (3, 25, 1.0, 2.5, 0.3), (10, 0, 0.5, -1.0, 4.0)],
)
def test_theory_json_matches_the_library(capsys, n, generations, ddof, mu0, sigma0):
    code, out, err = _run(capsys, ["theory", "--n", str(n), "--generations", str(generations),
                                   "--ddof", str(ddof), "--mu0", str(mu0),
                                   "--sigma0", str(sigma0), "--json"])
    assert code == 0
    assert err == ""
    rec = json.loads(out)
    assert isinstance(rec, dict)

    T = generations
    drift = theory.log_sigma2_drift(n, ddof)
    step_var = theory.log_sigma2_step_var(n)
    assert _close(rec["log_sigma2_drift"], drift)
    assert _close(rec["log_sigma2_step_var"], step_var)

    final = rec["final"]
    assert set(final) >= {"sigma_mean", "sigma2_mean", "log_sigma2_mean", "log_sigma2_sd",
                          "mu_var", "sigma_quantiles"}
    assert _close(final["sigma_mean"],
                  math.exp(theory.log_sigma_moment(T, n, ddof, sigma0, 1.0)))
    assert _close(final["sigma2_mean"],
                  math.exp(theory.log_sigma_moment(T, n, ddof, sigma0, 2.0)))
    # E[sigma_T^2] has a closed form too: sigma0^2 ((n - 1)/(n - ddof))^T
    assert _close(final["sigma2_mean"], sigma0**2 * ((n - 1) / (n - ddof)) ** T)
    # log sigma_T^2 is a sum of T i.i.d. steps
    assert _close(final["log_sigma2_mean"], 2 * math.log(sigma0) + T * drift)
    assert _close(final["log_sigma2_sd"], math.sqrt(T * step_var))
    expected_mu_var = theory.mu_var(T, n, ddof, sigma0) if T > 0 else 0.0
    assert _close(final["mu_var"], expected_mu_var)

    q = final["sigma_quantiles"]
    assert set(q) == set(LEVELS)
    log_q = theory.sigma_quantiles(T, n, ddof, sigma0)
    for level in LEVELS:
        assert _close(q[level], math.exp(log_q[level]))
    assert q["0.025"] <= q["0.5"] <= q["0.975"]


# ---------------------------------------------------------------------------------------
# simulate --json
# ---------------------------------------------------------------------------------------

SIM = ["simulate", "--n", "5", "--generations", "10", "--replicates", "200",
       "--seed", "20240601", "--json"]


@pytest.mark.parametrize("engine", ["samples", "sufficient"])
def test_simulate_json_has_the_design_keys(capsys, engine):
    code, out, err = _run(capsys, [*SIM, "--engine", engine, "--workers", "1"])
    assert code == 0
    assert err == ""
    rec = json.loads(out)
    assert rec["spec"] == {"n": 5, "generations": 10, "replicates": 200, "ddof": 0.0,
                           "mu0": 0.0, "sigma0": 1.0, "seed": 20240601, "regime": "replace",
                           "fresh_fraction": None, "n_growth": 0.0, "temperature": 1.0,
                           "truncate": None}
    assert rec["seed"] == 20240601
    assert rec["bit_generator"] == BIT_GENERATOR
    assert rec["numpy_version"] == np.__version__
    assert isinstance(rec["timing"]["simulate_s"], float) and rec["timing"]["simulate_s"] >= 0

    final = rec["final"]
    prediction = theory.predict(Experiment(n=5, generations=10, replicates=200, seed=0))
    for stat in STATS:
        est = final[stat]
        assert set(est) >= {"estimate", "se", "ci95", "theory"}, stat
        lo, hi = est["ci95"]
        assert lo <= est["estimate"] <= hi
        assert est["se"] > 0
        assert _close(est["theory"], getattr(prediction, stat))
    assert set(final["sigma_quantiles"]) == set(LEVELS)
    for level in LEVELS:
        q = final["sigma_quantiles"][level]
        assert set(q) >= {"estimate", "theory"}
        assert q["estimate"] > 0
        assert _close(q["theory"], prediction.sigma_quantiles[level])
    # A fixed seed, a correct engine: the log-scale mean sits within 5 standard errors
    # (a false alarm at this seed would be a 1-in-1.7-million event).
    m = final["log_sigma2_mean"]
    assert abs(m["estimate"] - m["theory"]) < 5 * m["se"]


@pytest.mark.parametrize("engine", ["samples", "sufficient"])
def test_simulate_results_do_not_depend_on_workers(capsys, engine):
    replicates = 300
    assert replicates > 2 * REPLICATE_BLOCK  # several blocks to share between workers
    argv = ["simulate", "--n", "5", "--generations", "10", "--replicates", str(replicates),
            "--seed", "7", "--engine", engine, "--json"]
    records = {}
    for workers in (1, 2):
        code, out, err = _run(capsys, [*argv, "--workers", str(workers)])
        assert code == 0, err
        records[workers] = json.loads(out)
    assert records[1]["workers"] == 1
    assert records[2]["workers"] == 2
    assert records[1]["final"] == records[2]["final"]
    assert records[1]["spec"] == records[2]["spec"]


def test_simulate_same_seed_same_numbers_different_seed_different(capsys):
    finals = []
    for seed in ("3", "3", "4"):
        code, out, _ = _run(capsys, ["simulate", *SMALL, "--seed", seed, "--json"])
        assert code == 0
        finals.append(json.loads(out)["final"])
    assert finals[0] == finals[1]
    assert finals[0] != finals[2]


def test_simulate_table_goes_to_stdout(capsys):
    code, out, err = _run(capsys, ["simulate", *SMALL, "--replicates", "50"])
    assert code == 0
    assert "sufficient engine vs exact theory: n=5, T=3, replicates=50" in out
    assert "E[sigma_T]" in out
    assert "Traceback" not in err


# ---------------------------------------------------------------------------------------
# simulate --out and --force
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".npz"])
def test_simulate_out_refuses_to_overwrite_without_force(capsys, tmp_path, suffix):
    target = tmp_path / f"x{suffix}"
    common = ["simulate", "--n", "5", "--generations", "4", "--replicates", "3",
              "--no-progress", "--out", str(target)]

    code, out, err = _run(capsys, [*common, "--seed", "1"])
    assert code == 0, err
    first = target.read_bytes()
    assert load(target).log_var.shape == (3, 5)

    # exists, no --force: refused before simulating; byte-identical afterwards
    code, out, err = _run(capsys, [*common, "--seed", "2"])
    _assert_usage_error(code, out, err, "--out")
    assert "--force" in err
    assert target.read_bytes() == first

    # --force replaces it, with exactly what the library makes for that seed
    code, out, err = _run(capsys, [*common, "--seed", "2", "--force"])
    assert code == 0, err
    assert target.read_bytes() != first
    expected = simulate(Experiment(n=5, generations=4, replicates=3, seed=2),
                        workers=1, record="all").trajectories
    got = load(target)
    np.testing.assert_array_equal(got.log_var, expected.log_var)
    np.testing.assert_array_equal(got.mean, expected.mean)

    assert os.listdir(tmp_path) == [target.name]  # no temporary files left behind


def test_simulate_out_json_keeps_stdout_pure(capsys, tmp_path):
    target = tmp_path / "x.csv"
    code, out, err = _run(capsys, ["simulate", *SMALL, "--json", "--out", str(target)])
    assert code == 0
    json.loads(out)  # the stdout is one JSON object; the "saved" note is on stderr
    assert str(target) in err
    assert target.exists()
