"""The regime options on the command line: refusals, ``theory --json`` and
``simulate --json``.

Bad input ends in exit 2 and ONE line on stderr, no traceback, naming the option as the
command line spells it. ``theory --json`` has the regime keys, and every null outside
``spec`` is explained by a note starting with its path; the closed forms where they exist.
``simulate --json``: estimates agree with theory and the standard errors are right.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from collapsecheck.cli import main
from collapsecheck.engines import simulate
from collapsecheck.experiment import Experiment
from collapsecheck.families.gaussian.commands import simulation_record
from collapsecheck.theory import predict
from collapsecheck.trajectories import save


def _null_paths(obj, path=""):
    """Every null leaf (tests/test_reliability.py's convention: lists indexed)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _null_paths(v, f"{path}.{k}" if path else str(k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _null_paths(v, f"{path}[{i}]")
    elif obj is None:
        yield path


def _one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("collapsecheck: error: ")
    return lines[0]


@pytest.fixture(scope="module")
def small_file(tmp_path_factory):
    e = Experiment(n=10, generations=5, replicates=30, seed=3)
    path = tmp_path_factory.mktemp("cli_regimes") / "chains.npz"
    save(simulate(e, record="all", workers=1).trajectories, path)
    return path


COMMANDS = {
    "theory": ["theory", "--n", "10", "--generations", "5"],
    "simulate": ["simulate", "--n", "10", "--generations", "5", "--replicates", "30",
                 "--seed", "1"],
    "audit": None,  # needs the file
}

BAD_OPTIONS = [
    (["--regime", "mix", "--fresh-fraction", "1.5"], "--fresh-fraction"),
    (["--regime", "mix", "--fresh-fraction", "-0.1"], "--fresh-fraction"),
    (["--regime", "mix", "--fresh-fraction", "nan"], "--fresh-fraction"),
    (["--regime", "mix", "--fresh-fraction", "inf"], "--fresh-fraction"),
    (["--fresh-fraction", "0.2"], "--fresh-fraction"),
    (["--regime", "replace", "--fresh-fraction", "0.2"], "--fresh-fraction"),
    (["--regime", "accumulate", "--fresh-fraction", "0.2"], "--fresh-fraction"),
    (["--regime", "mix"], "--fresh-fraction"),
    (["--temperature", "0"], "--temperature"),
    (["--temperature", "-1"], "--temperature"),
    (["--temperature", "inf"], "--temperature"),
    (["--temperature", "nan"], "--temperature"),
    (["--truncate", "0"], "--truncate"),
    (["--truncate", "-2"], "--truncate"),
    (["--truncate", "nan"], "--truncate"),
    (["--n-growth", "-1"], "--n-growth"),
    (["--n-growth", "nan"], "--n-growth"),
    (["--regime", "bogus"], "--regime"),
]


@pytest.mark.parametrize(("args", "option"), BAD_OPTIONS,
                         ids=[" ".join(a) for a, _ in BAD_OPTIONS])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_bad_regime_option_exits_2_with_one_line(capsys, small_file, command, args, option):
    base = COMMANDS[command] or ["audit", str(small_file), "--n", "10"]
    assert main([*base, *args, "--json"]) == 2
    line = _one_error_line(capsys)
    assert option in line
    assert "`" + option.lstrip("-").replace("-", "_") + "`" not in line  # no library name


@pytest.mark.parametrize(("args", "words"), [
    (["--truncate", "2"], ["--truncate", "--engine samples"]),
    (["--regime", "accumulate-subsample"], ["accumulate-subsample", "--engine samples"]),
])
def test_sufficient_engine_refuses_what_it_cannot_run(capsys, tmp_path, args, words):
    out = tmp_path / "chains.npz"
    code = main([*COMMANDS["simulate"], "--engine", "sufficient", *args, "--out", str(out)])
    assert code == 2
    line = _one_error_line(capsys)
    for w in words:
        assert w in line
    assert list(tmp_path.iterdir()) == []  # nothing written


SUBSAMPLE = ["--regime", "accumulate-subsample", "--n", "10"]


def test_subsample_pool_that_cannot_fit_is_refused(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("COLLAPSECHECK_MEMORY_BUDGET", "1M")
    out = tmp_path / "chains.npz"
    code = main(["simulate", *SUBSAMPLE, "--generations", "2000", "--replicates", "64",
                 "--seed", "1", "--engine", "samples", "--out", str(out)])
    assert code == 2
    line = _one_error_line(capsys)
    assert "memory" in line and "COLLAPSECHECK_MEMORY_BUDGET" in line
    assert "--n" in line  # the option to change, as the command line spells it
    assert list(tmp_path.iterdir()) == []


def test_subsample_theory_needs_no_pool(capsys, monkeypatch):
    monkeypatch.setenv("COLLAPSECHECK_MEMORY_BUDGET", "1M")
    assert main(["theory", *SUBSAMPLE, "--generations", "2000", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["regime"] == "accumulate-subsample"
    assert math.isfinite(record["final"]["sigma2_mean"])


@pytest.fixture(scope="module")
def big_pool_file(tmp_path_factory):
    # n = 10000: the audit's 4000-chain pilot would keep pools of 2e4 values a chain
    e = Experiment(n=10000, generations=2, replicates=1000, seed=4,
                   regime="accumulate-subsample")
    path = tmp_path_factory.mktemp("big_pool") / "chains.npz"
    save(simulate(e, engine="samples", record="all", workers=1).trajectories, path)
    return path


def test_subsample_audit_whose_pilot_cannot_fit_exits_2(capsys, big_pool_file, monkeypatch):
    monkeypatch.setenv("COLLAPSECHECK_MEMORY_BUDGET", "1M")
    code = main(["audit", str(big_pool_file), "--n", "10000", "--regime",
                 "accumulate-subsample"])
    assert code == 2
    _one_error_line(capsys)


def test_subsample_audit_whose_pilot_cannot_fit_names_the_memory(capsys, big_pool_file,
                                                                 monkeypatch):
    monkeypatch.setenv("COLLAPSECHECK_MEMORY_BUDGET", "1M")
    main(["audit", str(big_pool_file), "--n", "10000", "--regime", "accumulate-subsample"])
    line = _one_error_line(capsys)
    assert "memory" in line and "COLLAPSECHECK_MEMORY_BUDGET" in line


# ---------------------------------------------------------------------------------------
# theory --json
# ---------------------------------------------------------------------------------------

THEORY_CASES = {
    "replace": [],
    "accumulate": ["--regime", "accumulate"],
    "accumulate-ddof1": ["--regime", "accumulate", "--ddof", "1"],
    "accumulate-growth": ["--regime", "accumulate", "--n-growth", "1"],
    "accumulate-truncate": ["--regime", "accumulate", "--truncate", "2"],
    "accumulate-subsample": ["--regime", "accumulate-subsample"],
    "mix": ["--regime", "mix", "--fresh-fraction", "0.2"],
    "mix-none-fresh": ["--regime", "mix", "--fresh-fraction", "0"],
    "mix-all-fresh": ["--regime", "mix", "--fresh-fraction", "1"],
    "mix-temperature": ["--regime", "mix", "--fresh-fraction", "0.3", "--temperature", "0.9"],
    "temperature": ["--temperature", "1.05"],
    "n-growth": ["--n-growth", "1"],
    "n-growth-limit": ["--n-growth", "1.5"],
    "truncate": ["--truncate", "2"],
    "truncate-temperature": ["--truncate", "2.5", "--temperature", "1.1"],
}
REGIME_KEYS = ("regime", "exact", "methods", "stationary", "limit", "zero_drift_temperature",
               "final")
FINAL_KEYS = ("sigma_mean", "sigma2_mean", "log_sigma2_mean", "log_sigma2_sd", "mu_var",
              "sigma_quantiles")


def _theory(capsys, *args) -> dict:
    assert main(["theory", "--n", "10", "--generations", "20", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _lookup(record: dict, path: str):
    value = record
    for part in path.split("."):
        value = value[part]
    return value


@pytest.mark.parametrize("name", sorted(THEORY_CASES))
def test_theory_json_has_the_regime_keys_and_explains_every_null(capsys, name):
    args = THEORY_CASES[name]
    record = _theory(capsys, *args)
    for key in (*REGIME_KEYS, "log_sigma2_drift", "log_sigma2_step_var", "notes"):
        assert key in record, key
    for key in FINAL_KEYS:
        assert key in record["final"], key
    assert isinstance(record["exact"], list) and isinstance(record["methods"], dict)
    expected = args[args.index("--regime") + 1] if "--regime" in args else "replace"
    assert record["regime"] == expected == record["spec"]["regime"]
    unexplained = [p for p in _null_paths(record) if not p.startswith("spec.")
                   and not any(n.startswith(p + " ") for n in record["notes"])]
    assert not unexplained
    for path in record["exact"]:  # every key called exact is there and is a number
        value = _lookup(record, path)
        assert value is not None, path
        values = value.values() if isinstance(value, dict) else [value]
        assert all(isinstance(v, float) and math.isfinite(v) for v in values), path


@pytest.mark.parametrize("n", [4, 10, 20, 100])
def test_mix_one_fresh_draw_ddof1_has_stationary_sigma2_two(capsys, n):
    record = _theory(capsys, "--n", str(n), "--regime", "mix", "--fresh-fraction",
                     str(1 / n), "--ddof", "1")
    assert record["stationary"]["sigma2_mean"] == pytest.approx(2.0, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("n", [4, 10, 20, 100])
def test_mix_one_fresh_draw_ddof0_stationary_closed_form(capsys, n):
    record = _theory(capsys, "--n", str(n), "--regime", "mix", "--fresh-fraction", str(1 / n))
    assert record["stationary"]["sigma2_mean"] == pytest.approx(
        2 * (n - 1) / (3 * n - 2), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("n", [2, 3, 10, 100, 1000])
def test_accumulate_limit_is_eulers_product(capsys, n):
    record = _theory(capsys, "--n", str(n), "--regime", "accumulate")
    x = math.pi / math.sqrt(n)
    assert record["limit"]["sigma2_mean"] == pytest.approx(math.sin(x) / x, rel=1e-12,
                                                           abs=1e-12)
    assert "limit.sigma2_mean" in record["exact"]


# ---------------------------------------------------------------------------------------
# simulate --engine samples --json
# ---------------------------------------------------------------------------------------

SIM_REGIMES = {
    "mix": (dict(regime="mix", fresh_fraction=0.2), ["--regime", "mix", "--fresh-fraction",
                                                     "0.2"]),
    "accumulate": (dict(regime="accumulate"), ["--regime", "accumulate"]),
}
SIM = dict(n=10, generations=20, replicates=1000)
#: Seeds for the standard-error check. An SD of k estimates has relative sampling error
#: 1/sqrt(2(k - 1)): 16% at 20 seeds, so 20 seeds cannot show an SE right to 25% (seeds
#: 1..20 give 0.76 for accumulate's E[sigma_T^2] with correct code); at 128 it is 6.3% and
#: a 25% error in an SE lies 4 of them out.
SE_SEEDS = range(1, 129)
STATS = ("sigma_mean", "sigma2_mean", "log_sigma2_mean", "log_sigma2_sd", "mu_var")


def _sim_cli(capsys, regime: str, seed: int) -> dict:
    args = ["simulate", *(f"--{k}={v}" for k, v in SIM.items()), "--seed", str(seed),
            "--engine", "samples", "--json", *SIM_REGIMES[regime][1]]
    assert main(args) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def seed_records():
    """simulation_record (what ``simulate --json`` prints) for every seed of SE_SEEDS."""
    out = {}
    for regime, (params, _) in SIM_REGIMES.items():
        base = Experiment(**SIM, seed=0, **params)
        p = predict(base)
        out[regime] = [simulation_record(simulate(base.replace(seed=s), engine="samples",
                                                  record="final", workers=1), prediction=p)
                       for s in SE_SEEDS]
    return out


@pytest.mark.parametrize("regime", sorted(SIM_REGIMES))
def test_simulate_json_is_the_library_record(capsys, seed_records, regime):
    for i in (0, 1):
        record = _sim_cli(capsys, regime, SE_SEEDS[i])
        assert record["final"] == seed_records[regime][i]["final"]
        assert record["spec"]["regime"] == regime and record["engine"] == "samples"


@pytest.mark.parametrize("regime", sorted(SIM_REGIMES))
def test_simulate_estimates_agree_with_theory(seed_records, regime):
    for record in seed_records[regime]:
        for key in ("sigma2_mean", "mu_var"):
            est = record["final"][key]
            assert est["theory"] is not None
            assert abs(est["estimate"] - est["theory"]) < 5 * est["se"], (key, est)
            assert est["ci95"][0] < est["estimate"] < est["ci95"][1]


@pytest.mark.parametrize("key", STATS)
@pytest.mark.parametrize("regime", sorted(SIM_REGIMES))
def test_simulate_standard_errors_are_right_to_25_percent(seed_records, regime, key):
    est = np.array([r["final"][key]["estimate"] for r in seed_records[regime]])
    se = np.array([r["final"][key]["se"] for r in seed_records[regime]])
    ratio = math.sqrt(float(np.mean(se**2))) / float(np.std(est, ddof=1))
    assert abs(ratio - 1) < 0.25, ratio


def test_simulate_json_explains_every_null(capsys):
    record = _sim_cli(capsys, "mix", 1)
    unexplained = [p for p in _null_paths(record) if not p.startswith("spec.")
                   and not any(n.startswith(p + " ") for n in record["notes"])]
    assert not unexplained
