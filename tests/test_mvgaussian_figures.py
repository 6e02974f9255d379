"""The multivariate family's report figure: ordered log eigenvalues beside the exact
Lyapunov lines, log det beside its exact mean, drawn by the shared ``panels`` kind."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from collapsecheck.families import spec
from collapsecheck.families.mvgaussian.figures import _shown, figure_data
from collapsecheck.families.mvgaussian.mutants import MUTANTS
from collapsecheck.figure_data import figure_data as report_figures
from collapsecheck.profiles import Profile, load_profile
from collapsecheck.report.figures import render_figure


@pytest.fixture(scope="module")
def drawn():
    profile = load_profile("mvgaussian")
    figures = report_figures(profile, [], workers=1)  # the report's, through the registry
    assert list(figures) == ["panels"]  # no other family has anything to draw
    return profile, figures["panels"]


def test_the_family_declares_its_figure():
    assert spec("mvgaussian").figures == "collapsecheck.families.mvgaussian.figures:figure_data"


def test_the_lines_are_the_exact_rates_through_the_start(drawn):
    profile, data = drawn
    check = next(c for c in profile.checks if c.type == "mvgaussian_lyapunov")
    n, D, T = check.n, check.dim, check.generations
    assert data["generations"] == list(range(T + 1))
    assert len(data["panels"]) == D + 1
    t = np.arange(T + 1)
    # independent: psi((n-i)/2) + log 2 - log n (ddof 0), start log sigma0^2 = 0
    gamma = special.digamma((n - np.arange(1, D + 1)) / 2) + np.log(2) - np.log(n)
    for i, p in enumerate(data["panels"][:D]):
        assert p["exact"] == pytest.approx((t * gamma[i]).tolist(), rel=1e-13, abs=1e-13)
        assert p["exact_label"] == "exact Lyapunov rate gamma_i (line through the start)"
        sim, se = np.array(p["simulated"]), np.array(p["se"])
        assert sim[0] == pytest.approx(0.0, abs=1e-12) and len(p["chains"]) == 12
        # a limit with an O(1) offset: the late slope of the mean, not its height, matches
        t0 = check.burn_in
        slope = (sim[-1] - sim[t0]) / (T - t0)
        slope_se = np.std(np.array(p["chains"])[:, -1] - np.array(p["chains"])[:, t0],
                          ddof=1) / (T - t0) / np.sqrt(12)
        assert abs(slope - gamma[i]) < 5 * max(slope_se, se[-1] / (T - t0))
    # ordered: the largest eigenvalue's mean above the next at every generation > 0
    means = np.array([p["simulated"] for p in data["panels"][:D]])
    assert np.all(np.diff(means[:, 1:], axis=0) < 0)


def test_log_det_is_within_five_standard_errors_of_its_exact_mean_at_every_generation(drawn):
    profile, data = drawn
    check = next(c for c in profile.checks if c.type == "mvgaussian_lyapunov")
    p = data["panels"][-1]
    assert p["exact_label"] == "exact mean"
    k = (check.n - np.arange(1, check.dim + 1)) / 2
    drift = np.sum(special.digamma(k) + np.log(2)) - check.dim * np.log(check.n)
    assert p["exact"] == pytest.approx((np.arange(check.generations + 1) * drift).tolist(),
                                       rel=1e-12, abs=1e-12)
    z = (np.array(p["simulated"][1:]) - np.array(p["exact"][1:])) / np.array(p["se"][1:])
    assert np.max(np.abs(z)) < 5


def test_the_panels_figure_names_its_lines(drawn):
    _, data = drawn
    svg = render_figure("panels", data)
    assert "exact Lyapunov rate gamma_i (line through the start)" in svg
    assert "The distribution loses dimensions" in svg
    # the shared kind's legend is unchanged without the key
    plain = {"generations": [0, 1, 2], "panels": [{"ylabel": "y", "exact": [0, 1, 2]}]}
    assert "exact mean" in render_figure("panels", plain)


def test_a_simulator_under_test_draws_the_figure():
    profile = load_profile("mvgaussian")
    data = figure_data(profile, [], seed=4, simulator=MUTANTS["mv-ddof-mismatch"],
                       replicates=50)["panels"]
    assert "the simulator under test" in data["title"]
    # dividing by n - 1 instead of n lifts every eigenvalue by log(n/(n-1)) per generation
    check = next(c for c in profile.checks if c.type == "mvgaussian_lyapunov")
    sim, exact = data["panels"][0]["simulated"], data["panels"][0]["exact"]
    T = check.generations
    assert (sim[-1] - exact[-1]) / T > 0.5 * np.log(check.n / (check.n - 1))
    # a simulator without every generation's eigenvalues gives no figure
    lost = MUTANTS["mv-dimension-lost"]
    assert figure_data(profile, [], seed=4, simulator=lost, replicates=30) == {}


def test_which_design_and_eigenvalues_are_drawn():
    assert _shown(3) == [0, 1, 2]
    assert _shown(10) == [0, 3, 6, 9]
    empty = Profile(name="x", description="", seed=1, budget=1e-3, weak_alpha=0.01,
                    escalation_factor=4, engine="sufficient", checks=())
    assert figure_data(empty, [], seed=1) == {}
