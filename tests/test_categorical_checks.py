"""The categorical family's checks in a profile: the correct engines pass at the fixed
seed, every categorical mutant is caught as a positive control, a simulator under test
goes through the family's own record checks, and the report carries the family's figure."""

from __future__ import annotations

import json

import pytest

from collapsecheck.checks import CHECK_TYPES, build_check
from collapsecheck.errors import InputError
from collapsecheck.families.categorical.mutants import MUTANTS
from collapsecheck.profiles import load_profile
from collapsecheck.validate import guarded, run_profile


@pytest.fixture(scope="module")
def report():
    return run_profile(load_profile("categorical"), controls=["categorical"])


def test_the_engines_pass_and_every_mutant_is_caught(report):
    assert not report.failed, [(r.id, r.verdict.value, r.pvalue) for r in report.checks]
    assert [c.name for c in report.controls] == list(MUTANTS)
    for control in report.controls:
        caught = [r.id for r in control.checks if r.verdict.value == "FAIL"]
        assert caught, f"{control.name} was not caught"
    assert not report.uncaught_controls


def test_the_report_draws_the_family_figure(report):
    panels = report.figures["panels"]
    assert [p["ylabel"] for p in panels["panels"]] == ["surviving categories",
                                                       "entropy (nats)"]
    first = panels["panels"][0]
    assert first["exact"][0] == 20 and first["simulated"][0] == 20  # K = 20 at t = 0
    # the exact mean lies within 5 SE of the simulated one at every generation
    for p in panels["panels"]:
        for exact, sim, se in zip(p["exact"], p["simulated"], p["se"], strict=True):
            assert abs(sim - exact) <= 5 * se + 1e-12
    assert "trajectories" not in report.figures  # no Gaussian check, no Gaussian figure


def test_the_figure_draws_the_simulation_where_the_exact_means_are_not_computed():
    """At a design whose exact survivor and entropy means the theory declines (too
    costly: ``theory --json`` gives null with a note), the figure still draws the
    simulation, says why there is no exact line, and renders (it once raised)."""
    import math

    from collapsecheck.families.categorical.figures import figure_data
    from collapsecheck.families.categorical.theory import predict
    from collapsecheck.profiles import parse_profile
    from collapsecheck.report.figures import panels_svg

    profile = parse_profile({"name": "big", "seed": 1, "budget": 0.001, "checks": [
        {"type": "categorical_gini_mean", "categories": 20000, "n": 100000,
         "generations": 2, "replicates": 200}]})
    e = profile.checks[0].experiment(seed=0)
    per = predict(e.p0, e.n, e.generations, per_generation=True).to_dict()["per_generation"]
    assert per["survivors_mean"] is None and per["entropy_mean"] is None
    data = figure_data(profile, [], seed=5, workers=1)["panels"]
    for p in data["panels"]:
        assert all(math.isnan(v) for v in p["exact"])
        assert p["exact_label"] == "exact mean (not computed at this design)"
        assert len(p["simulated"]) == 3 and all(math.isfinite(v) for v in p["simulated"])
    assert data["panels"][0]["simulated"][0] == 20000  # every category alive at t = 0
    assert "exact survivors and entropy means are not computed" in data["caption"]
    assert panels_svg(data).startswith("<svg")


def test_the_family_prices_its_checks_by_categories_and_refuses_a_run_of_hours(tmp_path):
    """The categorical engines' time grows with K (a binomial split per category), which
    the Gaussian throughput ignores: the family prices its own checks
    (``CategoricalCheck.stage_cost``), so a design of hours is refused when the profile
    loads, naming the key (it was once priced at 26 s)."""
    from collapsecheck.costs import LONG_S, check_cost
    from collapsecheck.families.categorical.costs import CATEGORY_S, STEP_S

    def check(K, engine="sufficient", n=1000):
        return build_check({"type": "categorical_gini_mean", "categories": K, "n": n,
                            "generations": 50, "replicates": 1000, "engine": engine})

    small, large = check_cost(check(1000), cores=1), check_cost(check(10000), cores=1)
    assert small.seconds == pytest.approx(1000 * 50 * (STEP_S + 1000 * CATEGORY_S))
    assert large.seconds / small.seconds == pytest.approx(
        (STEP_S + 10000 * CATEGORY_S) / (STEP_S + 1000 * CATEGORY_S))
    # the samples engine draws the n tokens too; two cores halve the time
    assert check_cost(check(100, "samples", 10000), cores=1).seconds > \
        check_cost(check(100, "sufficient", 10000), cores=1).seconds
    assert check_cost(check(1000), cores=2).seconds == pytest.approx(small.seconds / 2)
    path = tmp_path / "big.toml"
    path.write_text("name = 'big'\nseed = 1\nbudget = 0.001\n[[checks]]\n"
                    "type = 'categorical_gini_mean'\ncategories = 100000\nn = 100000\n"
                    "generations = 10000\nreplicates = 4000\n")
    with pytest.raises(InputError, match=r"`checks\[0\]\.replicates`: .* would take about "
                                         r"[0-9.]+ (h|days) on [0-9]+ cores?"):
        load_profile(str(path))
    assert check_cost(load_profile(str(path), allow_long=True).checks[0],
                      cores=2).seconds > LONG_S


def test_types_are_registered_and_validate_their_design():
    for name in ("categorical_gini_mean", "categorical_survivors_mean",
                 "categorical_gini_martingale"):
        assert CHECK_TYPES[name].family == "categorical"
    with pytest.raises(ValueError, match="closed form of E\\[Gini-Simpson\\] holds for plain "
                                         "refit"):
        build_check({"type": "categorical_gini_mean", "categories": 5, "alpha": 0.5})
    c = build_check({"type": "categorical_survivors_mean", "categories": 30, "n": 40,
                     "generations": 10, "replicates": 500})
    assert c.id == "categorical.survivors_mean.K30.uniform.n40.T10.sufficient"
    effect = c.detectable_effect(1e-4, 500)
    assert effect["value"] > 0 and effect["relative"] < 0.05


def test_a_simulator_under_test_is_held_to_the_family_records():
    check = build_check({"type": "categorical_gini_mean", "categories": 5, "n": 10,
                         "generations": 3, "replicates": 40})
    e = check.experiment(seed=1)

    def gaussian_records(experiment, record):
        from collapsecheck.engines import simulate

        return simulate(__import__("collapsecheck").Experiment(n=5, generations=3,
                                                               replicates=40, seed=1)
                        ).trajectories

    with pytest.raises(InputError, match=r"for the categorical family it must return "
                                         r"collapsecheck\.families\.categorical\.records\."
                                         r"TokenTrajectories"):
        guarded(gaussian_records)(e, "all")
    good = guarded(check.simulator())(e, "all")
    assert good.survivors.shape == (40, 4)


def test_controls_by_family_name_in_the_cli(tmp_path, capsys):
    from collapsecheck.cli import ExitCode, main

    assert main(["mutants", "--json"]) == ExitCode.OK
    listed = {m["name"]: m["profile"] for m in json.loads(capsys.readouterr().out)}
    assert {name: listed[name] for name in MUTANTS} == dict.fromkeys(MUTANTS, "categorical")
