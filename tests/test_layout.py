"""The package layout of DESIGN.md ("Families and regimes"): the Gaussian family's code
lives under ``collapsecheck.families.gaussian``, its historical paths still work, and the
shared layers do not reach into it.

Historical paths. Every module that moved left an alias at its old path
(:mod:`collapsecheck._alias`): the old name and the new one are the same module object,
however and in whatever order they are imported, so imports, ``from pkg import module``,
monkeypatching, pickles and ``python -m`` by the old path keep working.

Shared layers. A shared module (formal tests, grading, streams, the drivers, the report
writers, the check registry, the command line) reaches a family only through the registry
(:mod:`collapsecheck.families`, ``FamilySpec``): the Gaussian family's checks, figures,
claims (and their price), mutants, records rules, schemas and commands are declared in its
``SPEC`` like every other family's (the command line's ``theory``, ``simulate`` and
``audit`` are declarations, dispatched to ``FamilySpec.commands``, their options
defaulting to the native family's ``FamilySpec.defaults``). What a shared module still
imports from the Gaussian family serves the names that lived there before the move (module
``__getattr__``/``__dir__``), and
:func:`test_shared_layers_name_the_gaussian_family_only_to_serve_historical_names` fails
on any other import or use. :data:`KNOWN_DIRECT` lists, per shared module (the other
families included), the Gaussian modules it imports by name (new or historical path), and
:data:`KNOWN_LOADS` the shared modules that, imported on their own, load the Gaussian
family (a module of it: its package alone is its declaration, ``SPEC``, which the registry
reads for every family, as the command line does at start-up); the tests compare the
actual sets with these lists exactly, so a new reach into the family fails, and so does
removing one without updating the list. The entries:

* ``audit`` (the shared result types ``AuditCheck``, ``AuditResult`` and grading,
  ``consistency_verdict``, ``graded_check``, that every family's audit uses) serves the
  Gaussian audit (:mod:`collapsecheck.families.gaussian.audit`: ``audit``,
  ``audit_chains``, ...) under its historical names, importing it where first asked for
  (so importing it, or the categorical or multivariate audit, loads no family).
* ``mutants`` (the shared ``Mutant``, ``all_mutants``, ``mutant_groups``, ``select``)
  serves the Gaussian mutants (:mod:`collapsecheck.families.gaussian.mutants`) under
  their historical names (``MUTANTS``, ``REGIME_MUTANTS``, ``tails``, ...), resolved
  lazily (so importing it loads no family); it finds every family's mutants, the
  Gaussian family's included, through ``FamilySpec.mutants`` and ``mutant_groups``.
* ``figure_data`` (the shared driver, ``figure_data``, calling every family's
  ``FamilySpec.figures``) serves the Gaussian figures
  (:mod:`collapsecheck.families.gaussian.figures`: ``pit_data``, ``PIT_VALUES``,
  ``REGIMES_FIGURE``, ``regimes_figure_data``, ...) under their historical names,
  resolved lazily (so importing it loads no family).
* ``report.audit`` (the audit's report files) serves ``audit_figures``, the Gaussian
  family's PIT plots of audited chains (:mod:`collapsecheck.families.gaussian.figures`),
  under its historical name, resolved lazily (so importing it loads no family).
* ``summary`` (the shared estimates every family's final summary is built from,
  ``Estimate``, ``QuantileEstimate``, ``_mean_estimate``, the CLT guards) serves the
  Gaussian final summary (:mod:`collapsecheck.families.gaussian.summary`:
  ``FinalSummary``, ``summarize``) under its historical names, resolved lazily (so
  importing it loads no family).
* ``records`` (what every family's records share: ``nonfinite_notes``, ``TINY``, the
  null walker, ``environment``) serves the Gaussian records
  (:mod:`collapsecheck.families.gaussian.commands`: ``theory_record``,
  ``simulation_record``, ``null_notes``, ``underflow_notes``) under their historical
  names, resolved lazily (so importing it, as ``validate``, ``sweep``, the sweep report
  and the other families' commands do for ``environment`` and ``nonfinite_notes``, loads
  no family).
* ``checks.base`` (the shared ``Check``, whose ``experiment()`` and ``simulator()`` each
  family's check base implements, e.g. ``GaussianCheck``) serves ``engine_simulator``, the
  Gaussian engines' simulator (:mod:`collapsecheck.families.gaussian.checks.base`), under
  its historical name: a historical name, resolved lazily (so importing it loads no
  family), as is ``collapsecheck.checks.engine_simulator``. Its fields ``ddof``, ``mu0``
  and ``sigma0`` are the location-scale chains' (the Gaussian and multivariate families
  use them); they stay shared because every check's ``params()`` and the keys its
  profile table accepts list them, in one order (``id``, ``n``, ``generations``,
  ``replicates``, ``ddof``, ``mu0``, ``sigma0``, ``engine``, then the family's), the
  categorical checks' included.
* ``families.mvgaussian``: ``theory`` builds on the 1-D chain's theory, deliberately (one
  family importing another, also in :data:`KNOWN_CROSS_FAMILY`): its log-determinant law
  is the machinery of ``ngrowth.GrowthLaw`` and ``replace.LogVarianceLaw``, and it uses
  ``ngrowth._digamma_minus_log``, ``steps._log_geometric_sum``, ``steps._horizon_iv``,
  ``prediction.exp_or_inf``, ``replace.QUANTILE_LEVELS`` and ``replace._level_key``. So
  importing it, or ``engines`` (which takes the Lyapunov spectrum from it), loads the
  Gaussian theory.
* ``families.gaussian.checks.article`` judges claim A7 on the categorical chain too, with
  the categorical theory (one family importing another).
"""

from __future__ import annotations

import ast
import importlib
import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import collapsecheck

G = "collapsecheck.families.gaussian"

#: Every moved module: historical path -> where it lives now.
MOVED = {
    "collapsecheck.experiment": f"{G}.parameters",
    "collapsecheck.trajectories": f"{G}.records",
    "collapsecheck.engines.samples": f"{G}.engines.samples",
    "collapsecheck.engines.sufficient": f"{G}.engines.sufficient",
    "collapsecheck.engines.regimes": f"{G}.engines.regimes",
    "collapsecheck.engines.regimes._steps": f"{G}.engines.regimes._steps",
    "collapsecheck.engines.regimes.samples": f"{G}.engines.regimes.samples",
    "collapsecheck.engines.regimes.sufficient": f"{G}.engines.regimes.sufficient",
    **{f"collapsecheck.checks.{m}": f"{G}.checks.{m}"
       for m in ("article", "collapse", "engines", "independence", "regimes", "theory")},
}
#: Names the Gaussian engines' package had at collapsecheck.engines (now resolved lazily).
ENGINE_NAMES = ("ENGINES", "SimulationRun", "simulate", "THREADS_MIN_N",
                "DEFAULT_CHUNK_ELEMENTS", "_overflow_iv", "_record_iv")
#: Names the Gaussian records had at collapsecheck.records (now resolved lazily).
RECORD_NAMES = ("theory_record", "simulation_record", "null_notes", "underflow_notes")

SRC = Path(collapsecheck.__file__).parent

#: The shared modules (paths under src/collapsecheck; a directory stands for its modules).
SHARED = ("stats.py", "results.py", "seeds.py", "validate.py", "audit.py", "calibrate.py",
          "mutants.py", "records.py", "figure_data.py", "cli.py", "cli_families.py",
          "cli_common.py",
          "profiles.py", "summary.py", "csvlog.py", "sizes.py", "io.py", "resources.py",
          "checks/__init__.py", "checks/base.py", "engines/_blocks.py", "engines/_threads.py",
          "families/__init__.py", "families/protocol.py", "families/console.py", "report",
          "families/categorical", "families/mvgaussian")

#: Shared module -> the Gaussian modules it imports by name (see the module docstring).
KNOWN_DIRECT = {
    "collapsecheck.audit": {f"{G}.audit"},
    "collapsecheck.mutants": {f"{G}.mutants"},
    "collapsecheck.summary": {f"{G}.summary"},
    "collapsecheck.records": {f"{G}.commands"},
    "collapsecheck.figure_data": {f"{G}.figures"},
    "collapsecheck.report.audit": {f"{G}.figures"},
    "collapsecheck.checks.base": {f"{G}.checks.base"},
    "collapsecheck.families.mvgaussian.theory": {
        f"{G}.theory.ngrowth", f"{G}.theory.prediction", f"{G}.theory.replace",
        f"{G}.theory.steps"},
}
#: Shared modules that, imported alone, load the Gaussian family (see the docstring).
KNOWN_LOADS = {
    "collapsecheck.families.mvgaussian.engines",
    "collapsecheck.families.mvgaussian.theory",
}
#: Family module -> the other families' modules it imports (see the docstring).
KNOWN_CROSS_FAMILY = {
    f"{G}.checks.article": {"collapsecheck.families.categorical.theory"},
    "collapsecheck.families.mvgaussian.theory": KNOWN_DIRECT[
        "collapsecheck.families.mvgaussian.theory"],
}


#: The modules of collapsecheck.families that belong to no family.
SHARED_FAMILY_MODULES = frozenset({"collapsecheck.families", "collapsecheck.families.protocol",
                                   "collapsecheck.families.console"})


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _shared_modules() -> list[Path]:
    found = []
    for entry in SHARED:
        p = SRC / entry
        found += sorted(p.rglob("*.py")) if p.is_dir() else [p]
    return found


def _imported(path: Path) -> set[str]:
    """Every module an import statement in ``path`` names (module level or in a function,
    TYPE_CHECKING blocks included), with ``from X import y`` giving ``X.y`` where that
    is one of the Gaussian family's historical names, else ``X``."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    lazy = {f"collapsecheck.engines.{n}" for n in ENGINE_NAMES} | {"collapsecheck.Experiment"}
    lazy |= {f"collapsecheck.records.{n}" for n in RECORD_NAMES}
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                root = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{root}.{base}" if base else root
            for a in node.names:
                full = f"{base}.{a.name}"
                historical = full in MOVED or full == "collapsecheck.theory" or full in lazy
                found.add(full if historical else base)
    return found


def _gaussian(name: str) -> bool:
    old = (*MOVED, "collapsecheck.theory", "collapsecheck.Experiment",
           *(f"collapsecheck.engines.{n}" for n in ENGINE_NAMES),
           *(f"collapsecheck.records.{n}" for n in RECORD_NAMES))
    return name == G or name.startswith(G + ".") or name in old


# -- historical paths ------------------------------------------------------------------


@pytest.mark.parametrize("old_first", [True, False])
def test_old_and_new_paths_are_the_same_module_objects(old_first):
    """In a fresh interpreter, whichever path is imported first: ``sys.modules``, the
    parent package's attribute and ``from parent import name`` all give one object."""
    code = f"""
import importlib, json, sys
moved = {MOVED!r}
bad = []
for old, new in moved.items():
    first, second = (old, new) if {old_first!r} else (new, old)
    a = importlib.import_module(first)
    b = importlib.import_module(second)
    parent, _, name = old.rpartition(".")
    exec(f"from {{parent}} import {{name}} as c", globals())
    if not (a is b is sys.modules[old] is sys.modules[new] is c
            is getattr(sys.modules[parent], name)):
        bad.append(old)
    if a.__name__ != new:
        bad.append(old + ": __name__ " + a.__name__)
print(json.dumps(bad))
"""
    done = _python(code)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_every_moved_module_has_an_alias_file_and_a_new_file():
    for old, new in MOVED.items():
        if old.startswith("collapsecheck.engines.regimes."):
            continue  # registered by the package alias engines/regimes.py
        old_file = SRC.parent.joinpath(*old.split(".")).with_suffix(".py")
        new_path = SRC.parent.joinpath(*new.split("."))
        assert old_file.is_file(), old_file
        assert f'alias(__name__, "{new}"' in old_file.read_text(), old_file
        assert new_path.with_suffix(".py").is_file() or (new_path / "__init__.py").is_file()


def test_monkeypatching_the_old_path_patches_the_code_that_runs(monkeypatch, tmp_path):
    """A patch through the historical name reaches the function at the new path."""
    import collapsecheck.trajectories as old
    from collapsecheck.errors import InputError
    from collapsecheck.families.gaussian.records import load

    path = tmp_path / "t.csv"
    path.write_text("replicate,generation,std\n0,0,1\n0,1,0.9\n", encoding="utf-8")
    assert load(path).log_var.shape == (1, 2)
    monkeypatch.setattr(old, "MAX_FILE_BYTES", 10)
    with pytest.raises(InputError, match="over the limit of 10"):
        load(path)


def test_pickles_naming_either_path_load_the_same_class():
    from collapsecheck.experiment import Experiment
    from collapsecheck.trajectories import Trajectories

    e = Experiment(n=5, generations=3, replicates=2, seed=4)
    assert pickle.loads(pickle.dumps(e)) == e
    assert Experiment.__module__ == f"{G}.parameters"
    for cls, old in ((Experiment, "collapsecheck.experiment"),
                     (Trajectories, "collapsecheck.trajectories")):
        by_old_path = pickle.dumps(cls, protocol=0).replace(
            cls.__module__.encode(), old.encode())
        assert old.encode() in by_old_path
        assert pickle.loads(by_old_path) is cls


def test_python_dash_m_runs_the_moved_module():
    """``python -m <old path>`` runs the module itself (none of them has a main block:
    it imports cleanly and exits 0), not an alias that swaps out ``__main__``. (runpy's
    warning that a package's ``__init__`` imported the module first is as before the
    move: the packages import their engines and checks.)"""
    for old in ("collapsecheck.trajectories", "collapsecheck.engines.samples",
                "collapsecheck.checks.theory"):
        done = subprocess.run([sys.executable, "-m", old], capture_output=True, text=True,
                              check=False)
        lines = [s for s in done.stderr.splitlines()
                 if s and "found in sys.modules after import of package" not in s]
        assert (done.returncode, lines) == (0, []), (old, done.stderr)


def test_engines_package_names_are_the_gaussian_engines_objects():
    import collapsecheck.engines as old
    import collapsecheck.families.gaussian.engines as new
    from collapsecheck.engines import BIT_GENERATOR
    from collapsecheck.engines._blocks import BIT_GENERATOR as shared

    for name in ENGINE_NAMES:
        assert getattr(old, name) is getattr(new, name), name
    assert BIT_GENERATOR == shared
    with pytest.raises(AttributeError, match="no attribute 'nonesuch'"):
        _ = old.nonesuch


def test_the_gaussian_mutants_keep_their_historical_names():
    """Every name of :mod:`collapsecheck.families.gaussian.mutants` (public or not) and
    every mutant's underscored name is served by :mod:`collapsecheck.mutants` as the
    same object (where the shared module has no name of its own: its imports and its
    family-neutral ``Simulator``); the shared part is not redefined by the family."""
    import collapsecheck.mutants as old
    from collapsecheck.families.gaussian import mutants as new

    names = [k for k in vars(new) if not k.startswith("__") and k not in vars(old)]
    assert {"MUTANTS", "REGIME_MUTANTS", "DRAWS_MAX_N", "tails", "_c4_log"} <= set(names)
    for name in names:
        assert getattr(old, name) is getattr(new, name), name
    assert new.Mutant is old.Mutant and "Mutant" not in new.__all__
    assert set(new.__all__) < set(old.__all__) and set(old.__all__) <= set(dir(old))
    for key, mutant in {**new.MUTANTS, **new.REGIME_MUTANTS}.items():
        assert getattr(old, key.replace("-", "_")) is mutant
    assert list(old.ALL_MUTANTS)[:len(new.MUTANTS) + len(new.REGIME_MUTANTS)] == [
        *new.MUTANTS, *new.REGIME_MUTANTS]
    with pytest.raises(AttributeError, match="no attribute 'nonesuch'"):
        _ = old.nonesuch


def test_the_gaussian_figures_keep_their_historical_names():
    """Every name of :mod:`collapsecheck.families.gaussian.figures` (public or not) is
    served by :mod:`collapsecheck.figure_data` as the same object (where the shared
    driver has no name of its own), and the driver is not the family's function."""
    import collapsecheck.figure_data as old
    from collapsecheck.families.gaussian import figures as new

    names = [k for k in vars(new) if not k.startswith("__") and k not in vars(old)]
    assert {"pit_data", "PIT_VALUES", "PIT_MIN_VALUES", "REGIMES_FIGURE",
            "regimes_figure_data", "_strided", "_FIGURE_ELEMENTS"} <= set(names)
    for name in names:
        assert getattr(old, name) is getattr(new, name), name
    assert old.figure_data is not new.figure_data
    assert old.figure_data.__module__ == "collapsecheck.figure_data"
    assert set(old.__all__) <= set(dir(old)) and set(new.__all__) <= set(dir(old))
    with pytest.raises(AttributeError, match="no attribute 'nonesuch'"):
        _ = old.nonesuch


def test_the_gaussian_audit_keeps_its_historical_names():
    """Every name of :mod:`collapsecheck.families.gaussian.audit` (public or not) is served
    by :mod:`collapsecheck.audit` as the same object (where the shared module has no name
    of its own); the shared result types and grading are not redefined by the family."""
    import collapsecheck.audit as old
    from collapsecheck.families.gaussian import audit as new

    names = [k for k in vars(new) if not k.startswith("__") and k not in vars(old)]
    assert {"audit", "audit_chains", "n_ddof_joint", "n_from_step_variance", "_judge",
            "_candidates", "_fixed"} <= set(names)
    for name in names:
        assert getattr(old, name) is getattr(new, name), name
    for name in ("AuditCheck", "AuditResult", "consistency_verdict"):
        assert getattr(new, name) is vars(old)[name] and name not in new.__all__
    assert old.AuditResult.__module__ == "collapsecheck.audit"  # pickles keep their path
    assert set(new.__all__) < set(old.__all__) and set(old.__all__) <= set(dir(old))
    with pytest.raises(AttributeError, match="no attribute 'nonesuch'"):
        _ = old.nonesuch


@pytest.mark.parametrize(("old_name", "new_name", "moved", "shared", "public"), [
    ("collapsecheck.summary", f"{G}.summary", ("FinalSummary", "summarize", "_summarize"),
     ("Estimate", "QuantileEstimate", "_mean_estimate", "_var_se", "_clt_ok",
      "_empirical_clt_ok", "_log_mean_exp"), None),
    ("collapsecheck.records", f"{G}.commands",
     (*RECORD_NAMES, "THEORY_SCHEMA_VERSION", "_REPLACE_EXACT", "_NULL_REASONS",
      "Experiment", "predict"),
     ("nonfinite_notes", "environment", "TINY", "_tiny", "_nulls", "_null_note"),
     RECORD_NAMES),
])
def test_names_moved_out_of_a_shared_module_are_served_there(old_name, new_name, moved,
                                                             shared, public):
    """Every name of the Gaussian module (public or not) is served by the shared module
    it moved out of as the same object (where the shared module has no name of its own),
    ``from ... import`` included; the shared names are not redefined by the family, and
    the shared module's classes keep its path (pickles)."""
    old = importlib.import_module(old_name)
    new = importlib.import_module(new_name)
    names = [k for k in vars(new) if not k.startswith("__") and k not in vars(old)]
    assert set(moved) <= set(names)
    for name in names:
        assert getattr(old, name) is getattr(new, name), name
    star: dict = {}
    exec(f"from {old_name} import {', '.join(moved[:2])}", star)
    assert all(star[name] is getattr(new, name) for name in moved[:2])
    for name in shared:
        assert getattr(new, name) is vars(old)[name], name
        if isinstance(vars(old)[name], type):
            assert vars(old)[name].__module__ == old_name
    assert getattr(new, moved[0]).__module__ == new_name
    if public is None:
        assert set(new.__all__) < set(old.__all__)
    else:
        assert set(new.__all__) == set(public)
    assert set(old.__all__) <= set(dir(old))
    with pytest.raises(AttributeError, match="no attribute 'nonesuch'"):
        _ = old.nonesuch


def test_engine_simulator_keeps_its_historical_names():
    """``engine_simulator`` lives with the Gaussian checks; ``collapsecheck.checks`` and
    ``collapsecheck.checks.base`` serve the same object (``from ... import`` and ``*``
    included), and every Gaussian check's built-in simulator is it."""
    import collapsecheck.checks as registry
    import collapsecheck.checks.base as old
    from collapsecheck.checks.base import engine_simulator as imported
    from collapsecheck.families.gaussian import checks as family
    from collapsecheck.families.gaussian.checks.base import GaussianCheck, engine_simulator

    assert old.engine_simulator is registry.engine_simulator is imported is engine_simulator
    assert family.engine_simulator is engine_simulator
    assert "engine_simulator" in dir(old) and "engine_simulator" in dir(registry)
    star: dict = {}
    exec("from collapsecheck.checks import *", star)  # the star import itself
    assert star["engine_simulator"] is engine_simulator
    assert "engine_simulator" not in vars(old)  # served, not defined, by the shared module
    for cls in family.CHECK_TYPES.values():
        assert issubclass(cls, GaussianCheck), cls
        assert cls.simulator is GaussianCheck.simulator, cls
    with pytest.raises(AttributeError, match="no attribute 'nonesuch'"):
        _ = old.nonesuch


def test_the_audit_figures_keep_their_historical_name():
    """``collapsecheck.report.audit.audit_figures`` is the Gaussian family's function
    (``from ... import`` and ``dir()`` included), and the report writer does not define it."""
    import collapsecheck.report.audit as old
    from collapsecheck.families.gaussian.figures import audit_figures
    from collapsecheck.report.audit import audit_figures as imported

    assert old.audit_figures is imported is audit_figures
    assert "audit_figures" in dir(old) and "audit_figures" not in vars(old)
    with pytest.raises(AttributeError):
        _ = old.nonesuch


def test_the_shared_records_helpers_load_no_family():
    """In a fresh interpreter, importing :mod:`collapsecheck.records` and calling its own
    helpers (``environment``, ``nonfinite_notes``, as ``validate``, ``sweep`` and the other
    families' commands do) loads no family; asking for a historical Gaussian name loads
    the Gaussian records and nothing of the other families."""
    code = f"""
import json, math, sys
def loaded():  # the families of which a module is loaded
    return sorted({{k.split(".")[2] for k in sys.modules if k.startswith("collapsecheck."
                    "families.") and k not in {sorted(SHARED_FAMILY_MODULES)!r}}})
import collapsecheck.records as r
env = r.environment()
notes = r.nonfinite_notes({{"a": [1.0, math.inf], "b": math.nan}})
before = loaded()
from collapsecheck.records import theory_record
print(json.dumps([before, loaded(), env["bit_generator"], notes, theory_record.__module__,
                  "{G}.commands" in sys.modules]))
"""
    done = _python(code)
    assert done.returncode == 0, done.stderr
    before, after, bit_generator, notes, module, imported = json.loads(done.stdout)
    from collapsecheck.engines._blocks import BIT_GENERATOR

    assert before == [] and after == ["gaussian"]
    assert bit_generator == BIT_GENERATOR
    assert [n.split(" ")[0] for n in notes] == ["a[1]", "b"]
    assert "a[1] overflows double precision" in notes[0] and "b is undefined" in notes[1]
    assert (module, imported) == (f"{G}.commands", True)


def test_a_gaussian_final_summary_pickles_by_either_path():
    """Nothing in the package pickles a :class:`FinalSummary` (it is built where it is
    written), but a user's pickle survives the move: one made now round-trips, and one
    that names the historical class path ``collapsecheck.summary.FinalSummary`` loads as
    the same class (pickle resolves it through the module's ``__getattr__``)."""
    from collapsecheck.experiment import Experiment
    from collapsecheck.families.gaussian.summary import FinalSummary, summarize
    from collapsecheck.theory import predict

    e = Experiment(n=4, generations=3, replicates=8, mu0=1.0, sigma0=2.0, seed=5)
    rng = np.random.default_rng(5)
    s = summarize(rng.normal(1.0, 0.5, 8), rng.normal(1.0, 1.0, 8), predict(e))
    assert FinalSummary.__module__ == f"{G}.summary"
    as_json = json.dumps(s.to_dict())  # NaN (a quantile interval at R = 8) as NaN
    back = pickle.loads(pickle.dumps(s))
    assert type(back) is FinalSummary and json.dumps(back.to_dict()) == as_json
    by_old_path = pickle.dumps(s, protocol=0).replace(
        f"{G}.summary".encode(), b"collapsecheck.summary")
    assert b"collapsecheck.summary\nFinalSummary" in by_old_path
    code = f"import pickle, sys; s = pickle.loads({by_old_path!r}); print(type(s).__module__)"
    done = _python(code)  # a fresh interpreter: nothing has imported the family yet
    assert (done.returncode, done.stdout.strip()) == (0, f"{G}.summary"), done.stderr
    assert json.dumps(pickle.loads(by_old_path).to_dict()) == as_json


def _bare(base, **methods):
    """A frozen check class on ``base`` with a test but, unless given, no experiment or
    simulator of its own."""
    from dataclasses import dataclass

    from collapsecheck.checks.base import Outcome

    body = {"type": "bare", "family": "test", "statement": lambda self: "s",
            "test_name": lambda self: "t",
            "detectable_effect": lambda self, alpha, replicates: {},
            "run": lambda self, experiment, simulator: Outcome(
                0.0, float(simulator(experiment, "final").log_var[0, -1]))} | methods
    return dataclass(frozen=True)(type("Bare", (base,), body))


def test_the_shared_check_needs_its_familys_experiment_and_simulator():
    """The shared ``Check`` knows no family: a check class that brings neither (or only
    one) of ``experiment()`` and ``simulator()`` cannot be made, and says what is missing
    and where it comes from; on the Gaussian base the same class is the Gaussian chain,
    run by the family's engine."""
    import numpy as np

    from collapsecheck.checks.base import Check
    from collapsecheck.families.gaussian.checks.base import GaussianCheck
    from collapsecheck.families.gaussian.engines import simulate
    from collapsecheck.families.gaussian.parameters import Experiment

    assert {"experiment", "simulator"} <= Check.__abstractmethods__
    with pytest.raises(TypeError, match=r"'Bare' does not implement experiment and "
                                        r"simulator: .*derive it from its family's check "
                                        r"base .*GaussianCheck"):
        _bare(Check)()
    half = _bare(Check, experiment=GaussianCheck.experiment)
    with pytest.raises(TypeError, match=r"'Bare' does not implement simulator: "):
        half(n=5)
    untested = _bare(GaussianCheck, statement=Check.statement)  # Python's own message
    with pytest.raises(TypeError, match=r"abstract method.*statement"):
        untested()

    check = _bare(GaussianCheck)(n=6, generations=4, replicates=30, ddof=1.0, mu0=2.0,
                                 sigma0=3.0, engine="samples")
    e = check.experiment(seed=11)
    assert e == Experiment(n=6, generations=4, replicates=30, ddof=1.0, mu0=2.0,
                           sigma0=3.0, seed=11)
    assert check.experiment(seed=11, replicates=25).replicates == 25
    sim = check.simulator(workers=1)
    assert sim.engine == "samples"
    direct = simulate(e, engine="samples", workers=1, record="final").trajectories
    assert np.array_equal(sim(e, "final").log_var, direct.log_var)
    assert check.run(e, sim).pvalue == direct.log_var[0, -1]
    with pytest.raises(ValueError, match="`n`"):  # the family's parameters validate
        _bare(GaussianCheck)(n=1)


def test_every_check_lists_the_shared_fields_first_in_one_order():
    """A check's ``params()`` lists its fields in order: the shared fields first, in the
    same order for every family, then the family's own."""
    from dataclasses import fields

    from collapsecheck.checks import CHECK_TYPES
    from collapsecheck.checks.base import Check

    shared = [f.name for f in fields(Check)]
    assert shared == ["id", "n", "generations", "replicates", "ddof", "mu0", "sigma0",
                      "engine"]
    families = set()
    for kind, cls in CHECK_TYPES.items():
        names = [f.name for f in fields(cls)]
        assert names[:len(shared)] == shared, kind
        families.add(cls.__module__.split(".")[2])
    assert families == {"gaussian", "categorical", "mvgaussian"}


def test_registry_finds_every_gaussian_check_by_type_through_the_family():
    from collapsecheck.checks import CHECK_TYPES, build_check
    from collapsecheck.families import spec
    from collapsecheck.families.gaussian.checks import CHECK_TYPES as gaussian

    assert spec("gaussian").checks == f"{G}.checks:CHECK_TYPES"
    assert list(CHECK_TYPES)[:len(gaussian)] == list(gaussian)  # first, in their order
    for kind, cls in gaussian.items():
        assert CHECK_TYPES[kind] is cls
        old = importlib.import_module(cls.__module__.replace(f"{G}.checks",
                                                             "collapsecheck.checks"))
        assert getattr(old, cls.__name__) is cls

    assert type(build_check({"type": "log_var_gof"})) is gaussian["log_var_gof"]
    import collapsecheck.checks as registry

    assert registry.LogVarGof is gaussian["log_var_gof"]


def test_a_family_check_module_may_be_imported_first():
    """The registry is built on first use, so a family's checks (which import
    checks.base, and so the registry's package) can be the first thing imported."""
    for module in (f"{G}.checks.theory", "collapsecheck.families.categorical.checks",
                   "collapsecheck.families.mvgaussian.checks"):
        done = _python(f"import {module}; from collapsecheck.checks import CHECK_TYPES; "
                       "print(len(CHECK_TYPES))")
        assert done.returncode == 0, (module, done.stderr)
        assert int(done.stdout) >= 19


# -- shared layers ---------------------------------------------------------------------


def test_shared_modules_name_the_gaussian_family_only_where_listed():
    actual = {}
    for path in _shared_modules():
        reach = {m for m in _imported(path) if _gaussian(m)}
        if reach:
            actual[_module_name(path)] = reach
    assert actual == KNOWN_DIRECT


#: The module-level functions a shared module serves historical names with: its
#: ``__getattr__`` and ``__dir__``, and ``_gaussian()``, which imports the family's module
#: for them (and may be called from nowhere else).
_SERVING = frozenset({"__getattr__", "__dir__"})


def _gaussian_uses(path: Path) -> list[str]:
    """What in ``path`` reaches the Gaussian family other than to serve a historical name:
    an import of a Gaussian module outside the serving functions (:data:`_SERVING` and
    ``_gaussian``), or a call of ``_gaussian()`` outside :data:`_SERVING`."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[str] = []

    def names(node) -> set[str]:
        if isinstance(node, ast.Import):
            return {a.name for a in node.names}
        base = node.module or ""
        if node.level:
            root = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            base = f"{root}.{base}" if base else root
        return {base, *(f"{base}.{a.name}" for a in node.names)}

    def visit(node, within: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom) and within not in (
                    *_SERVING, "_gaussian"):
                found.extend(sorted(m for m in names(child) if _gaussian(m)))
            if (isinstance(child, ast.Call) and isinstance(child.func, ast.Name)
                    and child.func.id == "_gaussian" and within not in _SERVING):
                found.append(f"_gaussian() called in {within or 'the module body'}")
            top = node is tree and isinstance(child, ast.FunctionDef)
            visit(child, child.name if top else within)

    tree = ast.parse(path.read_text(encoding="utf-8"))
    visit(tree, None)
    return found


def test_shared_layers_name_the_gaussian_family_only_to_serve_historical_names():
    """Outside ``collapsecheck.families`` (whose other families may build on the Gaussian
    one: :data:`KNOWN_CROSS_FAMILY`), every shared module's import of a Gaussian module
    serves a historical name (module-level ``__getattr__``/``__dir__``, or the
    ``_gaussian()`` they call): it USES nothing of the family (the registry and
    ``FamilySpec`` are how it reaches one)."""
    layers = [p for p in _shared_modules()
              if not _module_name(p).startswith("collapsecheck.families.")]
    assert len(layers) > 20
    actual = {_module_name(p): found for p in layers if (found := _gaussian_uses(p))}
    assert actual == {}


def test_shared_modules_imported_alone_load_the_gaussian_family_only_where_listed():
    modules = [_module_name(p) for p in _shared_modules()]
    code = f"""
import importlib, json, subprocess, sys
loads = []
for m in {modules!r}:
    out = subprocess.run([sys.executable, "-c", f"import sys, {{m}}; print(any("
                          f"k.startswith({G + '.'!r}) for k in sys.modules))"],
                         capture_output=True, text=True, check=True).stdout.strip()
    if out == "True":
        loads.append(m)
print(json.dumps(loads))
"""
    done = _python(code)
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout)) == KNOWN_LOADS


def test_families_import_one_another_only_where_listed():
    families = SRC / "families"
    actual = {}
    for path in sorted(families.rglob("*.py")):
        parts = path.relative_to(families).parts
        if len(parts) < 2:
            continue  # the registry and the protocol
        own = f"collapsecheck.families.{parts[0]}"
        other = {m for m in _imported(path)
                 if m.startswith("collapsecheck.families.") and not m.startswith(own)
                 and m not in SHARED_FAMILY_MODULES}
        if parts[0] != "gaussian":
            other |= {m for m in _imported(path) if _gaussian(m)}
        if other:
            actual[_module_name(path)] = other
    assert actual == KNOWN_CROSS_FAMILY


def test_every_family_declaration_names_what_ships():
    """Each ``FamilySpec`` string names an existing module attribute, and each JSON Schema
    it declares is a file the package data (pyproject.toml) ships."""
    import fnmatch
    import tomllib

    from collapsecheck.families import spec, specs

    root = SRC.parents[1]
    shipped = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))[
        "tool"]["setuptools"]["package-data"]["collapsecheck"]
    for s in specs():
        for ref in (s.checks, s.figures, s.results, s.mutants, s.claims,
                    *s.mutant_groups.values(),
                    *s.commands.values()):
            if ref:
                module, name = ref.split(":")
                assert hasattr(importlib.import_module(module), name), (s.name, ref)
        for command, rel in s.schemas.items():
            assert (SRC / rel).is_file(), (s.name, command, rel)
            assert json.loads((SRC / rel).read_text(encoding="utf-8"))["type"] == "object"
            assert any(fnmatch.fnmatch(rel, glob) for glob in shipped), (s.name, rel)
    assert spec("gaussian").schemas == {"theory": "schemas/theory.schema.json"}
