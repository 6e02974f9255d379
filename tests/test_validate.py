"""Profiles, the two-stage verdicts and their budget, and the validate command."""

import json
import math
import os
import sys
import textwrap
import tomllib
from dataclasses import dataclass

import pytest

from collapsecheck.checks.base import Outcome
from collapsecheck.cli import main
from collapsecheck.errors import InputError
from collapsecheck.families.gaussian.checks.base import GaussianCheck
from collapsecheck.profiles import available_profiles, load_profile, parse_profile, thresholds
from collapsecheck.results import Verdict
from collapsecheck.validate import check_seed, run_check, run_profile

TINY = """
name = "tiny"
description = "two quick checks"
seed = 7
budget = 0.001

[[checks]]
type = "log_var_gof"
n = 3
generations = 5
replicates = 300

[[checks]]
type = "increment_gof"
n = 4
generations = 20
replicates = 100
engine = "samples"
"""


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path


class TestProfiles:
    def test_packaged_profiles_load(self):
        names = available_profiles()
        assert {"ci", "article", "full"} <= set(names)
        for name in names:
            prof = load_profile(name)
            assert prof.checks and prof.seed >= 0

    def test_ci_profile_has_ten_checks_and_claims(self):
        prof = load_profile("ci")
        assert len(prof.checks) >= 10 and prof.claims is not None

    @pytest.mark.parametrize(("text", "message"), [
        ("name = 'x'\nseed = 1\nbudget = 0.001\ncolour = 1", r"unknown key\(s\) \['colour'\]"),
        ("name = 'x'\nbudget = 0.001\n[[checks]]\ntype='log_var_gof'", "missing key `seed`"),
        ("name = 'x'\nseed = 1\nbudget = 2.0\n[[checks]]\ntype='log_var_gof'",
         r"`budget` must lie in \(0, 0.5\)"),
        ("name = 'x'\nseed = 'a'\nbudget = 0.001", "key `seed` must be int"),
        ("name = 'x'\nseed = 1\nbudget = 0.001\n[[checks]]\ntype='bogus'",
         "unknown check type 'bogus'"),
        ("name = 'x'\nseed = 1\nbudget = 0.001\n[[checks]]\ntype='log_var_gof'\nn=1",
         "`n` must be at least 2"),
        ("name = 'x'\nseed = 1\nbudget = 0.001\n[[checks]]\ntype='log_var_gof'\nsize=3",
         r"unknown key\(s\) \['size'\]"),
        ("name = 'x'\nseed = 1\nbudget = 0.001\n[[checks]]\ntype='drift_equivalence'\n"
         "n=1000\ngenerations=100\nreplicates=50\nmargin=0.05", "would miss"),
        ("name = 'x'\nseed = 1\nbudget = 0.001\n[[checks]]\ntype='log_var_gof'\n"
         "[[checks]]\ntype='log_var_gof'", "duplicate check id"),
        ("name = 'x'\nseed = 1\nbudget = 0.001", "nothing to run"),
        ("name = = 'x'", "not valid TOML"),
    ])
    def test_bad_profiles_are_refused_with_the_key_named(self, tmp_path, text, message):
        path = tmp_path / "bad.toml"
        path.write_text(text)
        with pytest.raises(InputError, match=message):
            load_profile(str(path))

    def test_unknown_profile_name(self):
        with pytest.raises(InputError, match="unknown profile 'nope'; choose one of"):
            load_profile("nope")


class TestBudget:
    def test_two_stage_thresholds_spend_exactly_the_share(self):
        prof = load_profile("ci")
        t = thresholds(prof)
        # For a valid (uniform) p-value: P(FAIL) = P(p1 < fail) + P(fail <= p1 < weak) *
        # P(p2 < escalated_fail), which is at most fail + weak * escalated_fail.
        assert t["fail"] + t["weak"] * t["escalated_fail"] == pytest.approx(t["per_check"])
        assert t["per_check"] * len(prof.checks) == pytest.approx(prof.budget)

    def test_seeds_are_independent_of_other_checks(self):
        a, key_a = check_seed(5, "theory.x", 0)
        b, key_b = check_seed(5, "theory.x", 1)
        c, _ = check_seed(5, "theory.y", 0)
        assert len({a, b, c}) == 3 and key_a[0] == key_b[0]
        assert check_seed(5, "theory.x", 0) == (a, key_a)


@dataclass(frozen=True)
class Scripted(GaussianCheck):
    """A check whose p-value is scripted by stage (through the replicates it is given)."""

    type = "scripted"
    family = "test"
    p_first: float = 0.5
    p_second: float = 0.5

    def statement(self):
        return "scripted"

    def test_name(self):
        return "scripted"

    def detectable_effect(self, alpha, replicates):
        return {"metric": "none", "value": 0.0}

    def run(self, experiment, simulator):
        p = self.p_first if experiment.replicates == self.replicates else self.p_second
        return Outcome(0.0, p, {})


class TestVerdicts:
    def _profile(self):
        return parse_profile({"name": "t", "seed": 1, "budget": 0.001,
                              "checks": [{"type": "log_var_gof", "n": 3, "generations": 2}]})

    @pytest.mark.parametrize(("p1", "p2", "verdict", "stages"), [
        (0.5, None, Verdict.PASS, 1),
        (1e-9, None, Verdict.FAIL, 1),
        (0.005, 0.5, Verdict.PASS, 2),
        (0.005, 1e-4, Verdict.FAIL, 2),
        (math.nan, None, Verdict.FAIL, 1),
    ])
    def test_escalation(self, p1, p2, verdict, stages):
        check = Scripted(n=3, generations=2, replicates=20, p_first=p1,
                         p_second=0.5 if p2 is None else p2)
        res = run_check(check, self._profile())
        assert res.verdict is verdict and len(res.stages) == stages
        if stages == 2:
            assert res.stages[0].verdict is Verdict.WEAK
            assert res.stages[1].replicates == 80  # escalation_factor 4
            assert res.stages[1].seed != res.stages[0].seed


class TestRunProfile:
    def test_correct_simulator_passes_and_mutant_fails(self, tiny):
        from tests import mutants

        prof = load_profile(str(tiny))
        good = run_profile(prof, figures=False)
        assert not good.failed and good.verdict is Verdict.PASS
        bad = run_profile(prof, simulator=mutants.wrong_ddof(1.0), figures=False)
        assert bad.failed and all(c.verdict is Verdict.FAIL for c in bad.checks)

    def test_same_seed_same_report_numbers(self, tiny):
        prof = load_profile(str(tiny))
        a = run_profile(prof, figures=False)
        b = run_profile(prof, figures=False, workers=2)
        assert [c.pvalue for c in a.checks] == [c.pvalue for c in b.checks]

    def test_broken_user_simulator_is_a_usage_error(self, tiny):
        def broken(experiment, record):
            raise RuntimeError("oops")

        with pytest.raises(InputError, match="the simulator 'broken' raised RuntimeError: oops"):
            run_profile(load_profile(str(tiny)), simulator=broken, figures=False)


class TestCommand:
    def test_writes_four_reports_and_exits_zero(self, tiny, tmp_path, capsys):
        out = tmp_path / "out"
        out.mkdir()
        (out / "keep.txt").write_text("mine")
        code = main(["validate", "--profile", str(tiny), "--out", str(out), "--no-progress"])
        assert code == 0
        assert sorted(p.name for p in out.iterdir()) == [
            "junit.xml", "keep.txt", "report.html", "report.json", "report.md"]
        assert (out / "keep.txt").read_text() == "mine"
        report = json.loads((out / "report.json").read_text())
        assert report["command"].startswith("collapsecheck validate --profile")
        assert report["seed"] == 7 and len(report["checks"]) == 2

    def test_failing_simulator_exits_one(self, tiny, tmp_path, capsys):
        sim = tmp_path / "mysim.py"
        sim.write_text(textwrap.dedent("""
            from collapsecheck.engines import simulate
            from collapsecheck.trajectories import Trajectories

            def biased(experiment, record):
                # fits the variance with ddof + 1: a classic off-by-one
                wrong = experiment.replace(ddof=experiment.ddof + 1)
                t = simulate(wrong, record=record, workers=1).trajectories
                return Trajectories(t.generations, t.log_var, t.mean, experiment.to_dict())
        """))
        out = tmp_path / "out"
        code = main(["validate", "--profile", str(tiny), "--simulator", f"{sim}:biased",
                     "--out", str(out), "--no-progress"])
        assert code == 1
        junit = (out / "junit.xml").read_text()
        assert junit.count("<failure") == 2

    @pytest.mark.parametrize(("args", "message"), [
        (["--profile", "nope"], "unknown profile 'nope'"),
        (["--simulator", "nofile.py:f"], "--simulator file 'nofile.py' does not exist"),
        (["--simulator", "justtext"], "--simulator must look like"),
        (["--engine", "fast"], "--engine must be one of"),
        (["--seed", "-1"], "--seed must be a whole number >= 0"),
    ])
    def test_usage_errors_exit_two_with_one_line(self, tiny, args, message, capsys):
        argv = ["validate", "--no-progress", *args]
        if "--profile" not in args:
            argv += ["--profile", str(tiny)]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err and "Traceback" not in err

    def test_unwritable_out_exits_two(self, tiny, tmp_path, capsys):
        blocker = tmp_path / "file"
        blocker.write_text("x")
        assert main(["validate", "--profile", str(tiny), "--out", str(blocker),
                     "--no-progress"]) == 2
        assert "is not a folder" in capsys.readouterr().err
        if os.geteuid() != 0:  # root can write anywhere
            ro = tmp_path / "ro"
            ro.mkdir(mode=0o500)
            assert main(["validate", "--profile", str(tiny), "--out", str(ro / "x")]) == 2

    def test_list(self, capsys):
        assert main(["validate", "--list"]) == 0
        out = capsys.readouterr().out
        assert "ci" in out and "log_var_gof" in out


def test_interrupted_report_write_leaves_old_reports(tiny, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    assert main(["validate", "--profile", str(tiny), "--out", str(out), "--no-progress"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    calls = {"n": 0}
    real_fsync = os.fsync

    def flaky_fsync(fd):
        calls["n"] += 1
        if calls["n"] == 3:  # the third of four staged files
            raise KeyboardInterrupt
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", flaky_fsync)
    code = main(["validate", "--profile", str(tiny), "--seed", "99", "--out", str(out),
                 "--no-progress"])
    assert code == 130
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@pytest.mark.parametrize(("body", "message"), [
    ("return Trajectories(t.generations, t.log_var, None, e.to_dict())",
     "returned no `mean` array"),
    ("return Trajectories(t.generations[-1:], t.log_var[:, -1:], t.mean[:, -1:])",
     "returned log_var of shape"),
])
def test_malformed_user_simulator_output_is_a_usage_error(tiny, tmp_path, capsys, body, message):
    sim = tmp_path / "badsim.py"
    sim.write_text(textwrap.dedent(f"""
        from collapsecheck.engines import simulate
        from collapsecheck.trajectories import Trajectories

        def bad(e, record):
            t = simulate(e, record=record, workers=1).trajectories
            {body}
    """))
    assert main(["validate", "--profile", str(tiny), "--simulator", f"{sim}:bad",
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.parametrize(("line", "message"), [
    ("id = 5", "`id` must be a string"),
    ("engine = 'foo'", "`engine` must be one of"),
    ("ddof = 'a'", "`ddof` must be a number"),
    ("replicates = 1", "`replicates` must be at least 20"),
])
def test_bad_check_fields_name_the_key(tmp_path, capsys, line, message):
    path = tmp_path / "p.toml"
    path.write_text(f"name = 'x'\nseed = 1\nbudget = 0.001\n[[checks]]\ntype = 'log_var_gof'\n"
                    f"{line}\n")
    assert main(["validate", "--profile", str(path), "--no-progress"]) == 2
    assert message in capsys.readouterr().err


CLAIMS_HEADER = "name = 'x'\nseed = 1\nbudget = 0.001\n"

#: A family outside the project that declares claims (FamilySpec.claims) and nothing else.
TOY_CLAIMS = '''
from dataclasses import asdict, dataclass

from collapsecheck.families.protocol import FamilyClaims, FamilySpec
from collapsecheck.results import ClaimResult, ClaimVerdict

SPEC = FamilySpec(name="toy", summary="a coin", claims="toyclaims:FAMILY_CLAIMS")
CALLS = []


@dataclass(frozen=True)
class Config:
    flips: int = 10
    engine: str = "exact"

    def to_dict(self):
        return asdict(self)


def from_mapping(table):
    unknown = sorted(set(table) - {"flips", "engine"})
    if unknown:
        raise ValueError(f"unknown key(s) {unknown} in the toy claims")
    return Config(**table)


def evaluate(config, *, seed, workers, simulator):
    CALLS.append((config, seed, workers, simulator))
    return (ClaimResult("T1", "a coin forgets its start", ClaimVerdict.QUALIFIED,
                        f"{config.flips} flips, seed {seed}", {"flips": config.flips}),)


def price(config, cores):
    from collapsecheck.costs import Cost, Item

    return [Item("claims.flips", f"the toy's {config.flips} flips",
                 Cost(config.flips / cores, 8.0 * config.flips))]


def require(config, source):
    from collapsecheck.resources import ResourceError

    if config.flips > 1000:
        raise ResourceError(f"profile {source}: [claims] `flips` must be at most 1000; "
                            f"got {config.flips}.")


FAMILY_CLAIMS = FamilyClaims(label="toy claim T1", subject="claim T1",
                             from_mapping=from_mapping, evaluate=evaluate, price=price,
                             require=require)
'''


@pytest.fixture
def toy_family(tmp_path, monkeypatch):
    """The toy family above, registered by one line (as tests/test_families.py does)."""
    import importlib

    from collapsecheck.families import FAMILIES

    (tmp_path / "toyclaims.py").write_text(TOY_CLAIMS)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(FAMILIES, "toy", "toyclaims")
    module = importlib.import_module("toyclaims")
    yield module
    sys.modules.pop("toyclaims", None)


class TestClaimsFamily:
    """A profile's ``[claims]`` table belongs to a family (``FamilySpec.claims``)."""

    def test_default_and_named_family_read_the_same_config(self):
        from collapsecheck.checks.article import ClaimsConfig, evaluate_claims
        from collapsecheck.families.protocol import FamilyClaims
        from collapsecheck.profiles import declared_claims

        name, declared = declared_claims()  # the one family that declares claims
        assert name == "gaussian" and isinstance(declared, FamilyClaims)
        assert declared.from_mapping == ClaimsConfig.from_mapping
        assert declared.evaluate is evaluate_claims
        assert declared.label == "article claims A1..A8"

        text = "[claims]\nreplicates = 200\nsizes = [10, 50]\n"
        plain = parse_profile(tomllib.loads(CLAIMS_HEADER + text))
        named = parse_profile(tomllib.loads(CLAIMS_HEADER + text + "family = 'gaussian'\n"))
        assert plain.claims == named.claims == ClaimsConfig(replicates=200, sizes=(10, 50))
        assert plain.claims_family == named.claims_family == "gaussian"
        assert "family" not in named.claims.to_dict()  # nor, so, in report.json's spec
        assert named.raw["claims"]["family"] == "gaussian"  # the table itself is untouched
        assert load_profile("ci").claims_family == "gaussian"

    @pytest.mark.parametrize(("value", "message"), [
        ("'categorical'", "`family` = 'categorical' names a family that declares no "
                          "claims; the families that do: gaussian."),
        ("'poisson'", "`family` must be one of gaussian, categorical, mvgaussian; "
                      "got 'poisson'."),
        ("3", "`family` must be a string naming a family; got 3."),
    ])
    def test_a_claims_table_of_a_family_without_claims_is_one_line(self, tmp_path, capsys,
                                                                   value, message):
        path = tmp_path / "p.toml"
        path.write_text(f"{CLAIMS_HEADER}[claims]\nfamily = {value}\nreplicates = 200\n")
        with pytest.raises(InputError) as info:
            load_profile(str(path))
        assert str(info.value) == f"profile {path}: [claims]: {message}"
        assert main(["validate", "--profile", str(path), "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err and "Traceback" not in err

    def test_the_default_is_the_one_family_that_declares_claims(self, toy_family):
        from collapsecheck.profiles import declared_claims

        assert declared_claims("toy") == ("toy", toy_family.FAMILY_CLAIMS)
        with pytest.raises(ValueError, match=r"^`family` must name whose claims these are, "
                                             r"one of gaussian, toy\.$"):
            declared_claims()

    def test_validate_runs_the_claims_the_family_declares(self, toy_family):
        """The claims' reading, progress step, evaluation, report spec and sentence all
        come from the declaration: the toy family's claims run where the article's
        would, with the profile's seed and the run's workers."""
        profile = parse_profile({"name": "t", "seed": 5, "budget": 0.001, "checks": [
            {"type": "log_var_gof", "n": 3, "generations": 2, "replicates": 50}],
            "claims": {"family": "toy", "flips": 7}})
        steps = []
        report = run_profile(profile, workers=1, figures=False,
                             progress=lambda label, i, total: steps.append(label))
        config = toy_family.Config(flips=7)
        assert toy_family.CALLS == [(config, 5, 1, None)]
        assert [c.to_dict() for c in report.claims] == [
            {"id": "T1", "claim": "a coin forgets its start", "verdict": "QUALIFIED",
             "reading": "7 flips, seed 5", "numbers": {"flips": 7}, "seconds": 0.0}]
        assert steps == [profile.checks[0].id, "toy claim T1", "done"]
        assert report.spec["claims"] == {"flips": 7, "engine": "exact"}
        assert "the simulated numbers of claim T1 from the built-in exact engine" \
            in report.spec["tested"]

    def test_the_family_prices_and_refuses_its_claims(self, toy_family):
        """The cost model takes a profile's claims' price and limits from their family
        (``FamilyClaims.price``, ``.require``), not from the Gaussian claims' fields."""
        from collapsecheck.costs import profile_cost

        table = {"name": "t", "seed": 5, "budget": 0.001, "checks": [
            {"type": "log_var_gof", "n": 3, "generations": 2, "replicates": 50}]}
        profile = parse_profile({**table, "claims": {"family": "toy", "flips": 600}})
        claims = [i for i in profile_cost(profile, 2).items if i.key.startswith("claims")]
        assert [(i.key, i.label, i.cost.seconds, i.cost.bytes) for i in claims] == [
            ("claims.flips", "the toy's 600 flips", 300.0, 4800.0)]
        with pytest.raises(InputError, match=r"^profile <dict>: \[claims\] `flips` must be "
                                             r"at most 1000; got 1001\.$"):
            parse_profile({**table, "claims": {"family": "toy", "flips": 1001}})
        without = parse_profile(table)
        assert profile_cost(profile, 2).seconds == pytest.approx(
            profile_cost(without, 2).seconds + 300.0)
