"""The package's mutants: well-formed, deterministic, bounded, listed, and caught.

"Caught" means what a user auditing that simulator would see: ``run_profile`` on the
``ci`` profile at its fixed seed ends with at least one FAIL. The article's claims and
the figures never call the simulator under test (they run the built-in engines), so the
per-mutant runs leave them out; one run of the whole profile shows that this changes no
verdict.
"""

import json
import math
import tracemalloc
from dataclasses import FrozenInstanceError, replace

import numpy as np
import pytest

from collapsecheck import Experiment
from collapsecheck.cli import main
from collapsecheck.engines import simulate
from collapsecheck.errors import InputError
from collapsecheck.mutants import ALL_MUTANTS, DRAWS_MAX_N, MUTANTS, REGIME_MUTANTS, Mutant
from collapsecheck.plugin import load_simulator
from collapsecheck.profiles import load_profile
from collapsecheck.results import Verdict
from collapsecheck.validate import guarded, run_profile

NAMES = list(MUTANTS)

#: Several blocks of 64, the last one partial; a start away from (0, 1); ddof not 0.
SMALL = dict(generations=6, replicates=150, ddof=0.5, mu0=1.5, sigma0=2.5, seed=7)


def test_registry_holds_the_named_bugs():
    required = {"ddof-mismatch", "n-minus-10pct", "off-by-one", "shared-stream",
                "truncated-tails", "frozen-mean", "mad-sigma"}
    assert required <= set(MUTANTS)
    for name, m in MUTANTS.items():
        assert isinstance(m, Mutant) and m.name == name and m.__name__ == name
        assert m.summary and "\n" not in m.summary and len(m.summary) < 160
        assert callable(m.build()) and callable(m)
    with pytest.raises(FrozenInstanceError):
        MUTANTS["off-by-one"].name = "x"


@pytest.mark.parametrize("n", [5, DRAWS_MAX_N + 44], ids=["n5", "large-n"])
@pytest.mark.parametrize("name", NAMES)
def test_well_formed_for_every_record(name, n):
    # through guarded(), as `validate --simulator` runs it: a malformed result would raise
    e = Experiment(n=n, **SMALL)
    sim = guarded(MUTANTS[name])
    full = sim(e, "all")
    assert full.log_var.shape == full.mean.shape == (e.replicates, e.generations + 1)
    assert full.spec == e.to_dict()
    for record in ("final", [0, 3, 6], [2]):
        part = sim(e, record)
        cols = [e.generations] if record == "final" else record
        assert part.generations.tolist() == cols
        # the same chains whatever is recorded
        np.testing.assert_array_equal(part.log_var, full.log_var[:, cols])
        np.testing.assert_array_equal(part.fitted_mean(), full.fitted_mean()[:, cols])


@pytest.mark.parametrize("generations", [0, 1])
@pytest.mark.parametrize("name", NAMES)
def test_well_formed_at_the_shortest_horizons(name, generations):
    e = Experiment(n=3, generations=generations, replicates=70, seed=2)
    sim = guarded(MUTANTS[name])
    for record in ("all", "final"):
        t = sim(e, record)
        assert t.log_var.shape[0] == 70


@pytest.mark.parametrize("name", NAMES)
def test_deterministic_for_a_seed(name):
    e = Experiment(n=5, **SMALL)
    a, b = MUTANTS[name](e, "all"), MUTANTS[name](e, "all")
    np.testing.assert_array_equal(a.log_var, b.log_var)
    np.testing.assert_array_equal(a.mean, b.mean)
    c = MUTANTS[name](e.replace(seed=8), "all")
    assert not np.array_equal(a.log_var, c.log_var)


@pytest.mark.parametrize("name", NAMES)
def test_memory_is_what_is_returned(name):
    MUTANTS[name](Experiment(n=5, generations=2, replicates=2, seed=1), "final")  # warm up
    e = Experiment(n=5, generations=2000, replicates=640, seed=1)
    tracemalloc.start()
    try:
        MUTANTS[name](e, "final")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # a fraction of the 10 MB that replicates x generations would take
    assert peak < e.replicates * (e.generations + 1) * 8 / 4


@pytest.mark.parametrize("name", ["truncated-tails", "mad-sigma"])
def test_large_n_law_continues_the_draws(name):
    # above DRAWS_MAX_N the fit comes from its large-n law: the first two moments of the
    # log sigma^2 step, in units of 1/n, agree with the draws just below (within 5 SE)
    steps = {}
    for n in (DRAWS_MAX_N, DRAWS_MAX_N + 1):
        t = MUTANTS[name](Experiment(n=n, generations=1, replicates=20000, seed=11), "all")
        steps[n] = n * np.diff(t.log_var, axis=1).ravel()
    a, b = steps.values()
    se_mean = math.hypot(a.std(), b.std()) / math.sqrt(a.size)
    assert abs(a.mean() - b.mean()) < 5 * se_mean
    se_var = math.hypot(a.var(), b.var()) * math.sqrt(2 / a.size)
    assert abs(a.var() - b.var()) < 5 * se_var


def _ci_checks_only():
    return replace(load_profile("ci"), claims=None)


@pytest.mark.parametrize("name", NAMES)
def test_caught_by_the_ci_profile(name):
    report = run_profile(_ci_checks_only(), simulator=MUTANTS[name], figures=False)
    fails = [c.id for c in report.checks if c.verdict is Verdict.FAIL]
    assert report.failed and fails, f"{name}: no check of the ci profile fails it"


def test_caught_by_the_whole_ci_profile_with_the_same_verdicts():
    # the mutant that only one check of the ci profile catches (mean_increment_gof)
    mutant = MUTANTS["mean-spread"]
    whole = run_profile(load_profile("ci"), simulator=mutant)
    assert whole.failed and whole.claims
    checks_only = run_profile(_ci_checks_only(), simulator=mutant, figures=False)
    assert [(c.id, c.verdict, c.pvalue) for c in whole.checks] == [
        (c.id, c.verdict, c.pvalue) for c in checks_only.checks]


def test_parametrised_builders_keep_their_strength():
    from collapsecheck.mutants import correct, mean_step_scale

    e = Experiment(n=5, **SMALL)
    base = correct()(e, "all")
    scaled = mean_step_scale(1.5)(e, "all")
    np.testing.assert_array_equal(scaled.log_var, base.log_var)
    np.testing.assert_allclose(scaled.fitted_mean() - e.mu0, 1.5 * (base.fitted_mean() - e.mu0))


def test_named_on_the_command_line_as_a_simulator():
    for name, m in MUTANTS.items():  # no builder of the module shadows a mutant's name
        assert load_simulator(f"collapsecheck.mutants:{name.replace('-', '_')}") is m
    with pytest.raises(InputError, match="no callable 'no_such_bug'"):
        load_simulator("collapsecheck.mutants:no_such_bug")


def test_cli_lists_them(capsys):
    assert main(["mutants"]) == 0
    out, _ = capsys.readouterr()
    for name in NAMES:
        assert name in out


def test_cli_lists_them_as_json(capsys):
    assert main(["mutants", "--json"]) == 0
    out, _ = capsys.readouterr()
    assert json.loads(out) == [{"name": m.name, "summary": m.summary, "profile": m.profile}
                               for m in ALL_MUTANTS.values()]
    assert {m.profile for m in MUTANTS.values()} == {"ci"}
    assert {m.profile for m in REGIME_MUTANTS.values()} == {"regimes"}


#: Each regime mutant on an experiment of the regime it breaks.
REGIME_CASES = {
    "mix-fresh-from-model": dict(regime="mix", fresh_fraction=0.3),
    "pool-forgets-first": dict(regime="accumulate"),
    "temperature-on-mean": dict(temperature=1.1),
    "clipped-not-truncated": dict(truncate=2.0),
    "growth-lag": dict(n_growth=1.0),
    "pool-stalls": dict(regime="accumulate-subsample"),
}


def test_every_regime_mutant_has_a_case():
    assert set(REGIME_CASES) == set(REGIME_MUTANTS)


@pytest.mark.parametrize("name", sorted(REGIME_CASES))
def test_regime_mutants_are_well_formed_and_wrong(name):
    e = Experiment(n=5, **SMALL, **REGIME_CASES[name])
    sim = guarded(REGIME_MUTANTS[name])
    full = sim(e, "all")
    assert full.log_var.shape == full.mean.shape == (e.replicates, e.generations + 1)
    assert full.spec == e.to_dict()
    part = sim(e, [0, 3, 6])
    np.testing.assert_array_equal(part.log_var, full.log_var[:, [0, 3, 6]])
    again = REGIME_MUTANTS[name](e, "all")
    np.testing.assert_array_equal(again.log_var, full.log_var)
    # not the correct chains: the correct engine with the same seed differs
    engine = "samples" if e.truncate is not None or e.regime == "accumulate-subsample" \
        else "sufficient"
    right = simulate(e, engine=engine, workers=1).trajectories
    assert not np.array_equal(right.log_var, full.log_var)
    # and outside its regime it is the correct engine, bit for bit
    base = Experiment(n=5, **SMALL)
    np.testing.assert_array_equal(REGIME_MUTANTS[name](base, "all").log_var,
                                  simulate(base, engine="sufficient", workers=1)
                                  .trajectories.log_var)


# ---------------------------------------------------------------------------------------
# Every family's mutants through the registry, the Gaussian family's included
# ---------------------------------------------------------------------------------------


def _family_modules():
    from collapsecheck.families.categorical import mutants as categorical
    from collapsecheck.families.gaussian import mutants as gaussian
    from collapsecheck.families.mvgaussian import mutants as mvgaussian

    return gaussian, categorical, mvgaussian


def test_every_family_declares_its_mutants():
    from collapsecheck.families import spec
    from collapsecheck.mutants import family_mutants, mutant_groups

    gaussian, categorical, mvgaussian = _family_modules()
    assert spec("gaussian").mutants.endswith(":GAUSSIAN_MUTANTS")
    assert gaussian.GAUSSIAN_MUTANTS == {**MUTANTS, **REGIME_MUTANTS}
    assert family_mutants() == {"gaussian": gaussian.GAUSSIAN_MUTANTS,
                                "categorical": categorical.MUTANTS,
                                "mvgaussian": mvgaussian.MUTANTS}
    assert mutant_groups() == [("all", MUTANTS), ("regimes", REGIME_MUTANTS),
                               ("categorical", categorical.MUTANTS),
                               ("mvgaussian", mvgaussian.MUTANTS)]


def test_the_groups_partition_every_mutant_in_listing_order():
    from collapsecheck.mutants import mutant_groups

    groups = mutant_groups()
    names = [name for _, members in groups for name in members]
    assert names == list(ALL_MUTANTS)  # each once, in the order `collapsecheck mutants` lists
    for group, members in groups:
        assert group not in ALL_MUTANTS and members
        assert len({m.profile for m in members.values()}) == 1, group  # one profile each
        assert all(ALL_MUTANTS[k] is m for k, m in members.items())


def test_select_names_groups_and_families():
    from collapsecheck.mutants import select

    _, categorical, mvgaussian = _family_modules()
    assert select(["all"]) == list(MUTANTS)
    assert select(["regimes"]) == list(REGIME_MUTANTS)
    assert select(["gaussian"]) == [*MUTANTS, *REGIME_MUTANTS]
    assert select(["categorical"]) == list(categorical.MUTANTS)
    assert select(["mvgaussian"]) == list(mvgaussian.MUTANTS)
    for name in ALL_MUTANTS:
        assert select([name]) == [name]
    assert select(["growth-lag, all", " ", "regimes,frozen-mean", "growth-lag"]) == [
        "growth-lag", *MUTANTS, *(k for k in REGIME_MUTANTS if k != "growth-lag")]
    assert select([]) == [] and select([" , "]) == []


def test_an_unknown_name_lists_every_group():
    from collapsecheck.mutants import UnknownMutant, select

    _, categorical, mvgaussian = _family_modules()
    want = (f"unknown mutant 'ci'; the mutants are: all, {', '.join(MUTANTS)}; and for the "
            f"regimes profile: regimes, {', '.join(REGIME_MUTANTS)}; and for the categorical "
            f"profile: categorical, {', '.join(categorical.MUTANTS)}; and for the mvgaussian "
            f"profile: mvgaussian, {', '.join(mvgaussian.MUTANTS)}.")
    with pytest.raises(UnknownMutant) as err:
        select(["all", "ci"])
    assert str(err.value) == want and err.value.name == "ci"
    with pytest.raises(InputError) as err:
        from collapsecheck.validate import control_names

        control_names(["ci"])
    assert str(err.value) == (
        f"unknown control 'ci'; --controls takes 'all' or names from: {', '.join(MUTANTS)}; "
        f"or 'regimes' or names from: {', '.join(REGIME_MUTANTS)}; or 'categorical' or "
        f"names from: {', '.join(categorical.MUTANTS)}; or 'mvgaussian' or names from: "
        f"{', '.join(mvgaussian.MUTANTS)}.")
