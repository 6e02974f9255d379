"""End to end: ``collapsecheck validate --profile regimes`` and the regime mutants.

The shipped profile must pass with its fixed seed, and every mutant of
:data:`collapsecheck.mutants.REGIME_MUTANTS`, loaded as ``--simulator
collapsecheck.mutants:<name with _>``, must be caught (exit 1) by the checks of its own
regime only: each mutant behaves correctly outside the regime it breaks, so a FAIL
elsewhere would be a false alarm (or a mutant that breaks more than it says).

Cost: the shipped profile runs once (module fixture). The mutant runs use the same profile
with one change, stated here so nobody mistakes it for the shipped design: the
accumulate ``regime_increment_gof`` check runs 500 replicates instead of 2000 (its exact
CDF costs ~50 us per increment, ~5 s a pass at 2000). Its power at 500 x 50 increments is
still overwhelming (the pool mutant gives p ~ 1e-28 there). The report's regime figure
(which simulates six regimes and plays no part in any verdict or exit code) is stubbed in
the mutant runs.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import jsonschema
import pytest

import collapsecheck.families.gaussian.figures as gaussian_figures
from collapsecheck.cli import main
from collapsecheck.mutants import REGIME_MUTANTS
from collapsecheck.report.schema import load_schema, validate_report

PROFILE = Path(__file__).parents[1] / "src" / "collapsecheck" / "profile_files" / "regimes.toml"
REPORT_FILES = ["junit.xml", "report.html", "report.json", "report.md"]

#: A mutant's summary starts with the regime it breaks ("mix: ..."): which checks (by the
#: spec each check records) belong to that regime.
REGIME_OF_SUMMARY = {
    "mix": lambda s: s["regime"] == "mix",
    "accumulate": lambda s: s["regime"] == "accumulate",
    "accumulate-subsample": lambda s: s["regime"] == "accumulate-subsample",
    "temperature": lambda s: s["temperature"] != 1,
    "n-growth": lambda s: s["n_growth"] != 0,
    "truncation": lambda s: s["truncate"] is not None,
}


def _own_regime(name: str):
    prefix = REGIME_MUTANTS[name].summary.split(":", 1)[0].strip()
    if prefix not in REGIME_OF_SUMMARY:
        pytest.fail(f"mutant {name!r}: its summary names regime {prefix!r}, which this test "
                    "does not know; add it to REGIME_OF_SUMMARY")
    return REGIME_OF_SUMMARY[prefix]


def _validate_schema(report: dict) -> None:
    validate_report(report)
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(report)


@pytest.fixture(scope="module")
def shipped_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("regimes")
    code = main(["validate", "--profile", "regimes", "--out", str(out), "--no-progress"])
    return code, out, json.loads((out / "report.json").read_text())


@pytest.fixture(scope="module")
def mutant_profile(tmp_path_factory) -> Path:
    """The shipped profile with its accumulate increment checks cut to at most 500
    replicates (the shipped profile itself if it has none)."""
    head, *blocks = PROFILE.read_text().split("[[checks]]")

    def cut(match: re.Match) -> str:
        return f"replicates = {min(int(match[1]), 500)}"

    for i, block in enumerate(blocks):
        if 'type = "regime_increment_gof"' in block and 'regime = "accumulate"\n' in block:
            blocks[i] = re.sub(r"^replicates = (\d+)$", cut, block, flags=re.M)
    path = tmp_path_factory.mktemp("profile") / "regimes_mutants.toml"
    path.write_text("[[checks]]".join([head, *blocks]))
    return path


@pytest.fixture(scope="module", params=sorted(REGIME_MUTANTS))
def mutant_run(request, mutant_profile, tmp_path_factory):
    name = request.param
    out = tmp_path_factory.mktemp(name)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(gaussian_figures, "regimes_figure_data",
                   lambda *a, **k: {"generations": [], "curves": [], "title": "stub"})
        code = main(["validate", "--profile", str(mutant_profile), "--out", str(out),
                     "--no-progress", "--simulator",
                     f"collapsecheck.mutants:{name.replace('-', '_')}"])
    return name, code, json.loads((out / "report.json").read_text())


# ---------------------------------------------------------------------------------------
# The shipped profile
# ---------------------------------------------------------------------------------------


def test_shipped_profile_exits_zero_with_every_check_pass(shipped_run):
    code, out, report = shipped_run
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == REPORT_FILES
    assert report["verdict"] == "PASS" and report["exit_code"] == 0
    assert report["profile"] == "regimes"
    assert len(report["checks"]) == PROFILE.read_text().count("[[checks]]")
    bad = [(c["id"], c["verdict"], c["pvalue"]) for c in report["checks"]
           if c["verdict"] != "PASS"]
    assert not bad


def test_shipped_profile_covers_every_regime(shipped_run):
    specs = [c["spec"] for c in shipped_run[2]["checks"]]
    for prefix, own in REGIME_OF_SUMMARY.items():
        assert any(own(s) for s in specs), prefix
    assert all(c["family"] == "regimes" for c in shipped_run[2]["checks"])


def test_shipped_report_validates_against_the_schema(shipped_run):
    report = shipped_run[2]
    _validate_schema(report)
    assert report["seed"] == 20241201
    for c in report["checks"]:
        assert 0 <= c["pvalue"] <= 1 and c["alpha"] > 0
        assert c["detectable_effect"]["value"] > 0


# ---------------------------------------------------------------------------------------
# Mutants: caught, by their own regime's checks only
# ---------------------------------------------------------------------------------------


def test_mutant_profile_differs_from_the_shipped_one_only_in_that_check(mutant_profile):
    shipped = tomllib.loads(PROFILE.read_text())
    derived = tomllib.loads(mutant_profile.read_text())
    assert {k: v for k, v in shipped.items() if k != "checks"} == {
        k: v for k, v in derived.items() if k != "checks"}
    assert len(shipped["checks"]) == len(derived["checks"])
    for a, b in zip(shipped["checks"], derived["checks"], strict=True):
        if a["type"] == "regime_increment_gof" and a.get("regime") == "accumulate":
            a = {**a, "replicates": min(a["replicates"], 500)}
        assert a == b


def test_mutant_is_caught(mutant_run):
    name, code, report = mutant_run
    assert code == 1, name
    assert report["verdict"] == "FAIL"
    assert any(c["verdict"] == "FAIL" for c in report["checks"])


def test_mutant_is_caught_by_its_own_regime_only(mutant_run):
    name, _, report = mutant_run
    own = _own_regime(name)
    failed = [c for c in report["checks"] if c["verdict"] == "FAIL"]
    assert failed, name
    elsewhere = [c["id"] for c in failed if not own(c["spec"])]
    assert not elsewhere, f"{name} FAILed checks of other regimes: {elsewhere}"
    # the catch is not marginal
    assert min(c["pvalue"] for c in failed) < 1e-6


def test_mutant_report_validates_against_the_schema(mutant_run):
    _validate_schema(mutant_run[2])


def test_shipped_report_draws_the_regimes_figure(shipped_run):
    # the regimes side by side: one curve per regime of figure_data.REGIMES_FIGURE, exact
    # lines beside simulated points, in the self-contained HTML
    from collapsecheck.figure_data import REGIMES_FIGURE

    page = (shipped_run[1] / "report.html").read_text()
    assert "E[σₜ²]/σ₀² by regime" in page  # the title in the reports' notation
    for label, _ in REGIMES_FIGURE:
        assert label.split(",")[0].split(" (")[0] in page, label
    assert page.count("<svg") >= 1


def test_regimes_figure_exact_curves_follow_the_theory():
    import math

    from collapsecheck.experiment import Experiment
    from collapsecheck.figure_data import REGIMES_FIGURE, regimes_figure_data
    from collapsecheck.theory import predict

    data = regimes_figure_data(3, n=10, generations=20, chains=400, points=5)
    for (label, params), curve in zip(REGIMES_FIGURE, data["curves"], strict=True):
        assert curve["label"] == label
        g = data["generations"][-1]
        want = predict(Experiment(n=10, generations=g, replicates=1, seed=0, **params))
        assert math.isclose(curve["exact"][-1], want.sigma2_mean, rel_tol=1e-12)
        # simulated means within 5 of their standard errors of the exact curve
        for sim, se, ex in zip(curve["simulated"], curve["se"], curve["exact"], strict=True):
            assert abs(sim - ex) <= 5 * se + 1e-12, (label, sim, ex, se)
