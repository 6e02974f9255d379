"""The report's figure data: the shared driver asks every family for its figures
(``FamilySpec.figures``) and merges them; the Gaussian family's draw from the figure
streams they always had, so a report's figures do not change with the layout."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import collapsecheck.families.categorical.figures as categorical_figures
import collapsecheck.families.gaussian.figures as gaussian_figures
import collapsecheck.families.mvgaussian.figures as mvgaussian_figures
from collapsecheck.families import spec
from collapsecheck.families.gaussian.engines import simulate
from collapsecheck.families.gaussian.parameters import Experiment
from collapsecheck.figure_data import figure_data, figure_stream
from collapsecheck.seeds import derived_seed

SEED = 20240607
#: A Gaussian check's spec as its result records it (the design the figures draw).
SPEC = {"n": 12, "generations": 9, "replicates": 150, "ddof": 0.5, "mu0": 1.5,
        "sigma0": 2.0}


def _result(family="theory", spec=SPEC, numbers=None, id_="theory.x"):
    return SimpleNamespace(family=family, spec=dict(spec), numbers=numbers or {}, id=id_)


def _profile(claims=None):
    return SimpleNamespace(seed=SEED, claims=claims, checks=())


def test_the_gaussian_family_declares_its_figures():
    assert spec("gaussian").figures == "collapsecheck.families.gaussian.figures:figure_data"


def test_the_gaussian_chains_come_from_the_historical_figure_stream():
    """The trajectories, endpoint and PIT values are the sufficient engine's chains at
    seed derived_seed(profile seed, (0xF16,)), the stream of the figures before the
    family declared them (recomputed here from the engine, not from the figures)."""
    figs = figure_data(_profile(), [_result()], workers=1)
    e = Experiment(n=12, generations=9, replicates=150, ddof=0.5, mu0=1.5, sigma0=2.0,
                   seed=derived_seed(SEED, (0xF16,)))
    traj = simulate(e, record=list(range(10)), workers=1).trajectories
    assert figs["trajectories"]["generations"] == list(range(10))
    np.testing.assert_array_equal(figs["trajectories"]["sigma"],
                                  np.exp(0.5 * traj.log_var[:30]))
    np.testing.assert_array_equal(figs["endpoint"]["log_sigma2"],
                                  traj.log_var[:, -1] - 2 * np.log(2.0))
    assert figs["pit_increments"]["total"] == 150 * 9
    assert list(figs) == ["pit_increments", "pit_endpoint", "trajectories", "endpoint", "qq"]


def test_the_report_holds_what_the_gaussian_function_gives():
    drift = {"drift_estimate": -0.11, "drift_exact": -0.125, "drift_ci95": [-0.13, -0.09],
             "margin": [-0.15, -0.1]}
    results = [_result(), _result(numbers=drift, id_="collapse.drift")]
    stream = figure_stream(SEED)
    own = gaussian_figures.figure_data(_profile(), results, seed=stream(2), stream=stream,
                                       workers=1, source="test")
    assert figure_data(_profile(), results, workers=1, source="test") == own
    assert "(test)" in own["trajectories"]["title"]
    # the drift row in relative error: (x - exact) / |exact|
    row = own["drift"][0]
    assert row["id"] == "collapse.drift" and row["theory"] == 0.0
    assert row["estimate"] == pytest.approx((-0.11 + 0.125) / 0.125, rel=1e-12)
    assert row["ci95"] == pytest.approx([(-0.13 + 0.125) / 0.125, (-0.09 + 0.125) / 0.125])
    assert row["margin"] == pytest.approx([-0.2, 0.2])


def test_the_regimes_figure_comes_from_its_historical_stream(monkeypatch):
    seen = []
    monkeypatch.setattr(gaussian_figures, "regimes_figure_data",
                        lambda seed, workers=None: seen.append(seed) or {"stub": seed})
    figs = figure_data(_profile(), [_result(family="regimes", spec={"generations": 0})])
    assert seen == [derived_seed(SEED, (0xF16, 1))]
    assert figs == {"regimes": {"stub": seen[0]}}


def test_every_family_is_called_alike_with_the_common_seed(monkeypatch):
    calls = {}

    def recorder(name, out):
        def draw(profile, results, **kw):
            calls[name] = (profile, results, kw)
            return out
        return draw

    monkeypatch.setattr(gaussian_figures, "figure_data", recorder("gaussian", {"a": 1}))
    monkeypatch.setattr(categorical_figures, "figure_data", recorder("categorical", {"b": 2}))
    monkeypatch.setattr(mvgaussian_figures, "figure_data", recorder("mvgaussian", {"a": 3}))
    profile, results, sim = _profile(), [_result()], object()
    figs = figure_data(profile, results, workers=3, simulator=sim, source="simulator s")
    assert figs == {"a": 3, "b": 2}  # merged in registry order
    assert list(calls) == ["gaussian", "categorical", "mvgaussian"]
    for p, r, kw in calls.values():
        assert p is profile and r is results
        assert set(kw) == {"seed", "stream", "workers", "simulator", "source"}
        assert kw["seed"] == derived_seed(SEED, (0xF16, 2))
        assert kw["stream"]() == derived_seed(SEED, (0xF16,))
        assert kw["stream"](1) == derived_seed(SEED, (0xF16, 1))
        assert (kw["workers"], kw["simulator"], kw["source"]) == (3, sim, "simulator s")


def test_nothing_of_the_gaussian_family_draws_nothing():
    other = _result(family="categorical", spec={"generations": 5})
    assert gaussian_figures.figure_data(_profile(), [other], seed=1,
                                        stream=figure_stream(SEED)) == {}
    assert figure_data(_profile(), []) == {}
