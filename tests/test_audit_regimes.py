"""``audit`` under the data regimes: true-process files pass, wrong claims FAIL.

Every file is simulated with :func:`collapsecheck.engines.simulate` (``record='all'``,
fixed seeds) and written with :mod:`collapsecheck.trajectories` to ``.npz`` and ``.csv``,
and as a std-only CSV (``replicate,generation,std``: no mean, no log_var), then loaded and
audited. Null side: audited with the regime that made it, the verdict is not FAIL (the
budget is 1e-3 over all checks; the seeds are fixed, so the outcome is deterministic).
Power side: audited with a wrong claim, the audit FAILs with p far below any alpha
(p < 1e-6 asserted on the check that must catch it, at designs where the expected p is
below 1e-15).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from collapsecheck.audit import audit
from collapsecheck.cli import main
from collapsecheck.engines import simulate
from collapsecheck.experiment import Experiment
from collapsecheck.families.gaussian.commands import theory_record
from collapsecheck.trajectories import load, save

N = 10

#: name -> (experiment parameters, which are also the audit's claim; engine; chains;
#: generations; seed). Sizes: the step checks need few chains; mix and
#: accumulate-subsample are judged by their final moments, whose design guard needs
#: thousands of chains.
CASES = {
    "accumulate": (dict(regime="accumulate"), "sufficient", 200, 20, 101),
    # the n-off-by-20% claims need 20000 increments (see the test)
    "accumulate-power": (dict(regime="accumulate"), "sufficient", 1000, 20, 110),
    "accumulate-ddof1": (dict(regime="accumulate", ddof=1.0), "sufficient", 100, 20, 102),
    "accumulate-growth": (dict(regime="accumulate", n_growth=1.0), "sufficient", 100, 20, 103),
    "temperature": (dict(temperature=1.05), "sufficient", 500, 20, 104),
    "n-growth": (dict(n_growth=1.0), "sufficient", 1000, 20, 105),
    "truncate": (dict(truncate=2.0), "samples", 200, 20, 106),
    "mix": (dict(regime="mix", fresh_fraction=0.2), "sufficient", 5000, 10, 107),
    "accumulate-subsample": (dict(regime="accumulate-subsample"), "samples", 5000, 10, 108),
    "replace": ({}, "sufficient", 100, 20, 109),
}
#: Cases whose files start elsewhere than (0, 1): the audit maps each chain to start there.
START = {"temperature": (2.0, 3.0), "mix": (-1.5, 0.25)}

#: The checks that must run (with a mean; without one the mean checks are skipped).
REQUIRED = {
    "accumulate": {"regime_increment_gof", "regime_mean_increment_gof"},
    "accumulate-ddof1": {"regime_increment_gof", "regime_mean_increment_gof"},
    "accumulate-growth": {"regime_increment_gof", "regime_mean_increment_gof"},
    "temperature": {"regime_increment_gof", "regime_mean_increment_gof", "regime_log_var_gof"},
    "n-growth": {"regime_increment_gof", "regime_mean_increment_gof", "regime_log_var_gof"},
    "truncate": {"regime_step_ratio"},
    "mix": {"regime_sigma2_mean"},
    "accumulate-subsample": {"regime_sigma2_mean", "regime_mu_var"},
}
NEEDS_MEAN = {"regime_mean_increment_gof", "regime_mu_var"}
#: Regimes that keep log sigma^2 a random walk (an exact drift).
WALKS = {"temperature", "n-growth"}
FORMATS = ("npz", "csv", "std.csv")


def _experiment(name: str) -> Experiment:
    params, _, chains, generations, seed = CASES[name]
    mu0, sigma0 = START.get(name, (0.0, 1.0))
    return Experiment(n=N, generations=generations, replicates=chains, seed=seed, mu0=mu0,
                      sigma0=sigma0, **params)


def _write_std_only(traj, path) -> None:
    R, G = traj.log_var.shape
    table = np.column_stack([np.repeat(np.arange(R), G), np.tile(np.arange(G), R),
                             traj.std.ravel()])
    np.savetxt(path, table, fmt=["%d", "%d", "%.17g"], delimiter=",",
               header="replicate,generation,std", comments="")


class Files:
    """Each case simulated once, written in every format on first use."""

    def __init__(self, root):
        self.root = root
        self.paths: dict = {}

    def __call__(self, name: str, fmt: str):
        if name not in self.paths:
            _, engine, *_ = CASES[name]
            traj = simulate(_experiment(name), engine=engine, record="all",
                            workers=1).trajectories
            paths = {"npz": self.root / f"{name}.npz", "csv": self.root / f"{name}.csv",
                     "std.csv": self.root / f"{name}.std.csv"}
            save(traj, paths["npz"])
            save(traj, paths["csv"])
            _write_std_only(traj, paths["std.csv"])
            self.paths[name] = paths
        return self.paths[name][fmt]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return Files(tmp_path_factory.mktemp("regime_files"))


def _claim(name: str) -> dict:
    return dict(CASES[name][0])


def _audit(path, n=N, **claim):
    return audit(load(path), n=n, source=str(path), **claim)


def _by_id(result) -> dict:
    return {c.id.removeprefix("audit."): c for c in result.checks}


# ---------------------------------------------------------------------------------------
# Null side: the true process, audited as itself
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_true_process_is_not_failed(files, name, fmt):
    path = files(name, fmt)
    traj = load(path)
    assert (traj.mean is None) == (fmt == "std.csv")
    result = _audit(path, **_claim(name))
    assert result.verdict.value != "FAIL", [(c.id, c.pvalue, c.reason) for c in result.checks]
    ran = set(_by_id(result))
    required = REQUIRED[name] - (NEEDS_MEAN if fmt == "std.csv" else set())
    assert required <= ran, (ran, result.skipped)
    if fmt == "std.csv":
        assert not ran & NEEDS_MEAN
        for key in NEEDS_MEAN & (REQUIRED[name] | {"regime_mu_var"}):
            assert "no mean" in result.skipped[key]
    assert not ran & set(result.skipped)
    for c in result.checks:
        assert 0 <= c.pvalue <= 1 and c.alpha == pytest.approx(1e-3 / len(result.checks))
    assert result.spec["regime"] == _experiment(name).regime


@pytest.mark.parametrize("name", ["accumulate-ddof1", "temperature", "truncate", "mix"])
def test_csv_and_npz_give_the_same_audit(files, name):
    a = _audit(files(name, "npz"), **_claim(name))
    b = _audit(files(name, "csv"), **_claim(name))
    assert [(c.id, c.statistic, c.pvalue) for c in a.checks] == [
        (c.id, c.statistic, c.pvalue) for c in b.checks]


# ---------------------------------------------------------------------------------------
# Power side: a wrong claim FAILs, far beyond chance
# ---------------------------------------------------------------------------------------


def _assert_caught(result, check: str) -> None:
    checks = _by_id(result)
    assert result.verdict.value == "FAIL"
    assert check in checks, (list(checks), result.skipped)
    assert checks[check].verdict.value == "FAIL"
    assert checks[check].pvalue < 1e-6


@pytest.mark.parametrize("fmt", ["npz", "std.csv"])
def test_accumulate_data_audited_as_replace_fails(files, fmt):
    _assert_caught(_audit(files("accumulate-power", fmt)), "increment_gof")


def test_accumulate_data_audited_as_replace_fails_on_the_cli(files):
    assert main(["audit", str(files("accumulate", "csv")), "--n", str(N)]) == 1


def test_replace_data_audited_as_accumulate_fails(files):
    _assert_caught(_audit(files("replace", "npz"), regime="accumulate"), "regime_increment_gof")


@pytest.mark.parametrize("wrong_n", [12, 8])
def test_accumulate_data_with_n_off_by_20_percent_fails(files, wrong_n):
    # 1000 chains x 20 steps: a 20% error in n scales each pooled increment by 1.2 (or
    # 0.8), a KS distance of ~0.03 at 20000 increments, expected p ~ 1e-18 or below
    _assert_caught(_audit(files("accumulate-power", "npz"), n=wrong_n, regime="accumulate"),
                   "regime_increment_gof")


def test_temperature_data_audited_at_temperature_one_fails(files):
    # 2 log 1.05 = 0.098 per step against a step SD of 0.5, over 10000 steps
    _assert_caught(_audit(files("temperature", "npz")), "increment_gof")


def test_temperature_data_audited_at_a_wrong_temperature_fails(files):
    _assert_caught(_audit(files("temperature", "npz"), temperature=1.1), "regime_increment_gof")


# ---------------------------------------------------------------------------------------
# The JSON record
# ---------------------------------------------------------------------------------------


def _cli_args(name: str) -> list[str]:
    args = []
    for key, value in _claim(name).items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    return args


def _audit_json(capsys, path, name: str) -> dict:
    code = main(["audit", str(path), "--n", str(N), *_cli_args(name), "--json"])
    out = capsys.readouterr().out
    record = json.loads(out)
    assert code == (1 if record["verdict"] == "FAIL" else 0)
    return record


def test_json_lists_skipped_checks_with_reasons(files, capsys):
    record = _audit_json(capsys, files("mix", "csv"), "mix")
    assert record["verdict"] != "FAIL"
    skipped = record["skipped"]
    assert "step" in skipped["regime_increment_gof"]  # mix has no step law
    assert "regime_increment_gof" not in {c["id"].removeprefix("audit.")
                                          for c in record["checks"]}
    assert all(isinstance(v, str) and v for v in skipped.values())
    assert record["spec"]["regime"] == "mix" and record["spec"]["fresh_fraction"] == 0.2


def test_json_std_only_file_skips_the_mean_checks(files, capsys):
    record = _audit_json(capsys, files("temperature", "std.csv"), "temperature")
    assert record["skipped"]["regime_mean_increment_gof"] == "the file records no mean"
    assert record["skipped"]["regime_mu_var"] == "the file records no mean"


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_json_rate_drift_is_exact_only_for_random_walks(files, capsys, name):
    record = _audit_json(capsys, files(name, "npz"), name)
    drift = record["rate"]["log_sigma2_drift"]
    assert math.isfinite(drift["estimate"])
    if name in WALKS:
        assert isinstance(drift["exact"], float)
        expected = theory_record(_experiment(name))["log_sigma2_drift"]
        if _experiment(name).n_growth:
            # the steps' drifts differ: the exact value of the regression slope is not the
            # last step's drift (the agreement with data is tested below)
            assert abs(drift["exact"]) > 1.5 * abs(expected)
        else:
            assert drift["exact"] == pytest.approx(expected, rel=1e-12)
    else:
        assert drift["exact"] is None
    assert "n_eff" not in record["rate"]  # n_eff belongs to the article's chain


def _drift_agrees(files, name) -> tuple[bool, dict]:
    rate = _audit(files(name, "npz"), **_claim(name)).rate["log_sigma2_drift"]
    return abs(rate["estimate"] - rate["exact"]) <= 5 * rate["se"], rate


def test_rate_drift_of_true_temperature_data_agrees_with_its_exact_value(files):
    ok, rate = _drift_agrees(files, "temperature")
    assert ok, rate


def test_rate_drift_of_true_n_growth_data_agrees_with_its_exact_value(files):
    ok, rate = _drift_agrees(files, "n-growth")
    assert ok, rate
