"""Mutation testing of the exact theory, the formal tests and the grading code (not in CI).

    python tools/mutation.py [--module NAME ...] [--max-children 2] [--summary-only]

Runs mutmut (3.x: ``pip install -e ".[mutation]"``) once per module, each in its own
scratch copy of the repository under ``.mutation/<name>/`` (git-ignored) whose
``pyproject.toml`` gets a ``[tool.mutmut]`` table mutating only that module and selecting
only the test files listed for it below. mutmut first runs that selection once to record
which tests reach each function, then runs each mutant against only the tests that reach
its function (fastest first, stopping at the first failure), so each mutant costs seconds.
Runs resume: a module's finished mutants are kept in its scratch copy and only new or
changed ones run again (delete ``.mutation/`` to start afresh); ``--rerun-survivors``
runs the surviving ones again too (those classified equivalent excepted), after tests
were added to kill them, and ``--only-survivors GLOB`` only those, then any mutants left
unchecked (mutmut drops a module's results when its test selection changes).

Then it writes ``reports/mutation/summary.json`` (``tool``, ``tool_version``, ``date``,
``commit``, ``command``, and ``modules``: module path -> ``{mutants, killed, survived,
equivalent, known_survivors, not_checked, score, complete, tests}``) and
``reports/mutation/survivors.md`` (every surviving mutant's diff with its classification).
``killed`` counts mutants a test failed on (timeouts included: the mutant changed
behaviour; but a classified mutant that timed out counts by its classification, as a
re-run of survivors on a loaded machine can time out a behaviour-preserving mutant);
``survived`` counts the unclassified ones no selected test failed on (mutants no selected
test reaches included); ``score`` is killed / (mutants - equivalent - not
checked). Surviving mutants are classified in ``tools/mutation_classified.json``:
``{"<mutant name>": {"class": "equivalent" | "known survivor", "reason": "..."}}``; an
equivalent mutant is one no test can kill because the program's behaviour is unchanged
(e.g. ``x >= a`` vs ``x > a`` on a continuous variable), a known survivor one that a test
could kill but does not, with the reason. Modules not run (or not finished) are listed
with ``complete: false``.

The modules (``MODULES``): the Gaussian family's exact theory
(``families/gaussian/theory/``), the formal tests (``stats.py``) and the result records
(``results.py``); the categorical family's exact theory (``families/categorical/theory/``:
``chain``, ``regimes``, ``replace``, ``prediction``, ``exact``); the multivariate
Gaussian family's (``families/mvgaussian/theory.py``, ``accumulate.py``); and the shared
audit grading (``audit.py``). Each is mutated against the test files that test it plus a file of
tests written to kill its survivors.

Run it under ``nice -n 19``: the full set (every module below) takes two to three hours on
2 cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRATCH = ROOT / ".mutation"
OUT = ROOT / "reports" / "mutation"
CLASSIFIED = Path(__file__).with_name("mutation_classified.json")
THEORY = "src/collapsecheck/families/gaussian/theory"
THEORY_TESTS = ["tests/test_theory.py", "tests/test_theory_reference.py",
                "tests/test_theory_extras.py"]
# tests written to kill survivors of the regime modules (one file for all of them)
REGIME_KILLS = "tests/test_mutation_kills_regimes.py"
CATEGORICAL = "src/collapsecheck/families/categorical/theory"
CATEGORICAL_TESTS = ["tests/test_categorical_theory.py", "tests/test_categorical_theory_sim.py"]
MVGAUSSIAN = "src/collapsecheck/families/mvgaussian"
MVGAUSSIAN_TESTS = ["tests/test_mvgaussian_theory.py", "tests/test_mvgaussian_accumulate.py",
                    "tests/test_mvgaussian_lyapunov.py"]
AUDIT_TESTS = ["tests/test_audit.py", "tests/test_categorical_audit.py",
               "tests/test_mvgaussian_audit.py"]
# tests written to kill survivors of the other families' theory and of the audit grading
FAMILY_KILLS = "tests/test_mutation_kills_families.py"

# name -> (module path, test files that test it). The selection is what a mutant may be
# killed by; mutmut narrows it further to the tests that reach the mutated function.
MODULES: dict[str, tuple[str, list[str]]] = {
    "stats": ("src/collapsecheck/stats.py",
              ["tests/test_stats.py", "tests/test_mutation_kills.py"]),
    "results": ("src/collapsecheck/results.py",
                ["tests/test_results.py", "tests/test_report_notation.py",
                 "tests/test_mutation_kills.py"]),
    "steps": (f"{THEORY}/steps.py", [*THEORY_TESTS, "tests/test_mutation_kills_theory.py"]),
    "replace": (f"{THEORY}/replace.py", [*THEORY_TESTS, "tests/test_mutation_kills_theory.py"]),
    "prediction": (f"{THEORY}/prediction.py",
                   [*THEORY_TESTS, "tests/test_theory_schema.py",
                    "tests/test_mutation_kills_theory.py"]),
    "sampling": (f"{THEORY}/sampling.py", ["tests/test_theory_sampling.py", REGIME_KILLS]),
    "accumulate": (f"{THEORY}/accumulate.py", ["tests/test_theory_accumulate.py",
                                                REGIME_KILLS]),
    "mix": (f"{THEORY}/mix.py", ["tests/test_theory_mix.py", REGIME_KILLS]),
    "subsample": (f"{THEORY}/subsample.py", ["tests/test_theory_subsample.py", REGIME_KILLS]),
    "temperature": (f"{THEORY}/temperature.py", ["tests/test_theory_temperature.py",
                                                  REGIME_KILLS]),
    "truncate": (f"{THEORY}/truncate.py", ["tests/test_theory_truncate.py", REGIME_KILLS]),
    "ngrowth": (f"{THEORY}/ngrowth.py", ["tests/test_theory_ngrowth.py", REGIME_KILLS]),
    "_special": (f"{THEORY}/_special.py", ["tests/test_special.py", REGIME_KILLS]),
    # the other families' exact theory and the shared audit grading (one kills file)
    **{f"categorical_{m}": (f"{CATEGORICAL}/{m}.py", [*CATEGORICAL_TESTS, FAMILY_KILLS])
       for m in ("chain", "regimes", "replace", "prediction", "exact")},
    "mvgaussian_theory": (f"{MVGAUSSIAN}/theory.py", [*MVGAUSSIAN_TESTS, FAMILY_KILLS]),
    "mvgaussian_accumulate": (f"{MVGAUSSIAN}/accumulate.py",
                              [*MVGAUSSIAN_TESTS, FAMILY_KILLS]),
    "audit": ("src/collapsecheck/audit.py", [*AUDIT_TESTS, FAMILY_KILLS]),
}
# name -> data directories its selected tests read beside tests/ (copied into the scratch
# copy and into mutmut's ``mutants/`` by ``also_copy``)
DATA: dict[str, list[str]] = {
    "mvgaussian_theory": ["validation"],
    "mvgaussian_accumulate": ["validation"],
}
KILLED = {"killed", "timeout", "caught by type check", "segfault"}
SURVIVED = {"survived", "no tests", "suspicious", "skipped"}


def _mutmut() -> Path:
    exe = Path(sys.executable).with_name("mutmut")
    if not exe.exists():
        raise SystemExit('mutmut not found beside this Python: pip install -e ".[mutation]"')
    return exe


def _prepare(name: str, timeout_multiplier: float | None = None) -> Path:
    """The module's scratch copy: src/, tests/ and its data directories (DATA) refreshed,
    its own mutmut table."""
    module, tests = MODULES[name]
    work = SCRATCH / name
    work.mkdir(parents=True, exist_ok=True)
    data = [d for d in DATA.get(name, []) if (ROOT / d).is_dir()]
    for sub in ("src", "tests", *data):
        if (work / sub).exists():
            shutil.rmtree(work / sub)
        shutil.copytree(ROOT / sub, work / sub,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    tests = [t for t in tests if (ROOT / t).exists()]
    table = (
        "\n[tool.mutmut]\n"
        'source_paths = ["src/"]\n'
        f"only_mutate = {json.dumps([module])}\n"
        f"pytest_add_cli_args_test_selection = {json.dumps(tests)}\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider"]\n'
    )
    if data:
        table += f"also_copy = {json.dumps([d + '/' for d in data])}\n"
    if timeout_multiplier is not None:
        table += f"timeout_multiplier = {float(timeout_multiplier)!r}\n"
    text = (ROOT / "pyproject.toml").read_text()
    (work / "pyproject.toml").write_text(text + table)
    return work


def _run(name: str, max_children: int, rerun_survivors: bool, only: str | None = None,
         fresh: bool = True, timeout_multiplier: float | None = None) -> None:
    work = _prepare(name, timeout_multiplier)
    env = {**os.environ, "HYPOTHESIS_PROFILE": "mutation"}
    env.pop("PYTHONPATH", None)
    print(f"[mutation] {name}: {MODULES[name][0]}", flush=True)
    cmd = [str(_mutmut()), "run", "--max-children", str(max_children)]
    with open(work / "run.log", "a") as log:
        if fresh:
            subprocess.run(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
                           check=False)
        st = _statuses(name) or {}
        classified = json.loads(CLASSIFIED.read_text()) if CLASSIFIED.exists() else {}
        # equivalent mutants cannot be killed: not re-run
        again = sorted(m for m, s in st.items() if s in SURVIVED
                       and classified.get(m, {}).get("class") != "equivalent"
                       and (only is None or any(fnmatch.fnmatch(m, g) for g in only.split(","))))
        if rerun_survivors and again:
            # finished mutants keep their result; new tests can only kill survivors
            print(f"[mutation] {name}: re-running {len(again)} survivors", flush=True)
            subprocess.run([*cmd, *again], cwd=work, env=env, stdout=log,
                           stderr=subprocess.STDOUT, check=False)
        if not fresh and "not checked" in (_statuses(name) or {}).values():
            # mutmut drops every result when the test selection changed (a test file was
            # added): run the mutants left unchecked, as a plain run does
            print(f"[mutation] {name}: running the unchecked mutants", flush=True)
            subprocess.run(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
                           check=False)


def _statuses(name: str) -> dict[str, str] | None:
    """mutant name -> mutmut status, from the scratch copy's result files."""
    from mutmut.stats import status_by_exit_code

    module = MODULES[name][0]
    meta = SCRATCH / name / "mutants" / (module + ".meta")
    if not meta.exists():
        return None
    data = json.loads(meta.read_text())
    return {k: status_by_exit_code[v] for k, v in data["exit_code_by_key"].items()}


def _not_mutated(module: str) -> list[str]:
    """Functions mutmut 3 leaves alone: decorated ones other than static/class methods
    (properties, cached properties, lru_cache'd functions; mutmut cannot trampoline them),
    listed so the summary says what its numbers do not cover."""
    import ast

    tree = ast.parse((ROOT / module).read_text())
    out = []

    def visit(node, prefix=""):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                names = {ast.unparse(d).split("(")[0] for d in child.decorator_list}
                if names - {"staticmethod", "classmethod"}:
                    out.append(f"{prefix}{child.name} (@{', @'.join(sorted(names))})")

    visit(tree)
    return out


def _diff(name: str, mutant: str) -> str:
    """The mutant's diff (``mutmut show``), cached in the scratch copy: the module's
    mutants do not change while its source does not (the cache is keyed by its hash)."""
    source = hashlib.sha1((ROOT / MODULES[name][0]).read_bytes()).hexdigest()[:12]
    cache = SCRATCH / name / f"diffs-{source}.json"
    diffs = json.loads(cache.read_text()) if cache.exists() else {}
    if mutant not in diffs:
        diffs[mutant] = _show(name, mutant)
        cache.write_text(json.dumps(diffs))
    return diffs[mutant]


def _show(name: str, mutant: str) -> str:
    try:  # in this process (a `mutmut show` costs a second of start-up per mutant)
        from mutmut.mutation.diff_apply import get_diff_for_mutant

        here = Path.cwd()
        os.chdir(SCRATCH / name)
        try:
            text = get_diff_for_mutant(mutant, path=MODULES[name][0])
        finally:
            os.chdir(here)
        lines = [ln for ln in text.splitlines() if ln.startswith(("+", "-"))
                 and not ln.startswith(("+++", "---"))]
        if lines:
            return "\n".join(lines)
    except Exception:  # any failure: ask the command instead
        pass
    out = subprocess.run([str(_mutmut()), "show", mutant], cwd=SCRATCH / name,
                         capture_output=True, text=True, check=False)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith(("+", "-"))
             and not ln.startswith(("+++", "---"))]
    return "\n".join(lines) or out.stdout.strip()


def _previous() -> tuple[dict, dict[str, list[str]]]:
    """The committed summary's module entries (plus its date and commit under ``_date``
    and ``_commit``) and survivors.md's lines per module section."""
    modules: dict = {}
    sections: dict[str, list[str]] = {}
    if (OUT / "summary.json").exists():
        old = json.loads((OUT / "summary.json").read_text())
        modules = {**old.get("modules", {}), "_date": old.get("date"),
                   "_commit": old.get("commit")}
    if (OUT / "survivors.md").exists():
        current = None
        for line in (OUT / "survivors.md").read_text().splitlines():
            if line.startswith("## "):
                current = line[3:].strip()
                sections[current] = []
            if current is not None:
                sections[current].append(line)
    return modules, sections


def _summarise(ran: list[str], note: str | None = None) -> None:
    classified = json.loads(CLASSIFIED.read_text()) if CLASSIFIED.exists() else {}
    version = subprocess.run([str(_mutmut()), "--version"], capture_output=True, text=True,
                             check=False).stdout.strip().split()[-1]
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True, check=False).stdout.strip()
    dirty = bool(subprocess.run(["git", "status", "--porcelain", "src", "tests"], cwd=ROOT,
                                capture_output=True, text=True, check=False).stdout.strip())
    modules: dict[str, dict] = {}
    md = ["# Surviving mutants", "",
          "Made by `python tools/mutation.py` (see `summary.json` for the date and commit).",
          "Each mutant no selected test killed, with its diff and classification",
          "(`tools/mutation_classified.json`).", ""]
    previous, previous_md = _previous()
    for name, (module, tests) in MODULES.items():
        st = _statuses(name)
        if st is None:
            old = previous.get(module)
            if old and old.get("mutants") is not None:
                # run on another machine or before .mutation/ was cleared: keep its counts
                # (and its survivors' section), saying when and at which commit they were made
                modules[module] = {**old, "carried_over": old.get("carried_over") or {
                    "date": previous.get("_date"), "commit": previous.get("_commit")}}
                md += previous_md.get(module, [f"## {module}", "", "(carried over)", ""])
                continue
            modules[module] = {"mutants": None, "killed": None, "survived": None,
                               "equivalent": None, "complete": False,
                               "note": "not run"}
            continue
        counts = {"killed": 0, "survived": 0, "equivalent": 0, "known_survivors": 0,
                  "not_checked": 0}
        rows = []
        for mutant, status in sorted(st.items()):
            c = classified.get(mutant, {})
            kind = c.get("class")
            # a classified mutant that timed out on a re-run (a loaded machine) is counted
            # by its classification: a behaviour-preserving mutant cannot loop
            if status in KILLED and not (status == "timeout" and kind):
                counts["killed"] += 1
                continue
            if status == "not checked":
                counts["not_checked"] += 1
                continue
            if kind == "equivalent":
                counts["equivalent"] += 1
            else:
                counts["survived"] += 1
                if kind == "known survivor":
                    counts["known_survivors"] += 1
            rows.append((mutant, status, kind or "UNCLASSIFIED", c.get("reason", "")))
        checked = len(st) - counts["not_checked"] - counts["equivalent"]
        modules[module] = {
            "mutants": len(st),
            **counts,
            "score": round(counts["killed"] / checked, 4) if checked else None,
            "complete": counts["not_checked"] == 0,
            "tests": [t for t in tests if (ROOT / t).exists()],
            "not_mutated": _not_mutated(module),
        }
        md += [f"## {module}", "",
               f"{len(st)} mutants: {counts['killed']} killed, {counts['survived']} "
               f"survived ({counts['known_survivors']} known), {counts['equivalent']} "
               f"equivalent, {counts['not_checked']} not checked.", ""]
        for mutant, status, kind, reason in rows:
            md += [f"### `{mutant}` ({status}; {kind})", "", reason or "(no reason recorded)",
                   "", "```diff", _diff(name, mutant), "```", ""]
    summary = {
        "tool": "mutmut",
        "tool_version": version,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": commit,
        "source_differs_from_commit": dirty,
        "command": "nice -n 19 python tools/mutation.py",
        "ran_this_time": ran,
        "note": note,
        "partial": any(not m["complete"] for m in modules.values()),
        "counting": "killed includes timeouts; survived includes mutants no selected test "
                    "reaches and known survivors; score = killed / (mutants - equivalent - "
                    "not_checked)",
        "not_mutated": "mutmut 3 does not mutate decorated functions (other than static and "
                       "class methods) nor module- or class-level constants; each module's "
                       "'not_mutated' lists those functions, which the counts do not cover",
        "modules": modules,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    (OUT / "survivors.md").write_text("\n".join(md))
    for module, m in modules.items():
        print(f"{module}: {m}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", action="append", choices=list(MODULES),
                        help="run only these modules (default: all, in the order above)")
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--timeout-multiplier", type=float, metavar="M",
                        help="mutmut's timeout_multiplier (default 15): a mutant is killed "
                             "by timeout after 2 M (t + 1) CPU seconds, t the clean run's "
                             "time of the tests that reach its function. The theory's "
                             "quantile functions are reached by tests of about 25 s, so "
                             "the default gives a looping mutant 13 CPU minutes; 2 gives "
                             "it 3.5 (4x a surviving mutant's full run)")
    parser.add_argument("--summary-only", action="store_true",
                        help="only rewrite the summary from the runs already made")
    parser.add_argument("--note", help="a sentence about this run, kept in the summary")
    parser.add_argument("--rerun-survivors", action="store_true",
                        help="after the run, run the surviving mutants again (after new tests)")
    parser.add_argument("--only-survivors", metavar="GLOB",
                        help="skip the run of unchecked mutants; re-run only the survivors "
                             "whose names match GLOB (several: comma-separated)")
    args = parser.parse_args(argv)
    names = args.module or list(MODULES)
    if not args.summary_only:
        for name in names:
            if args.only_survivors:
                _run(name, args.max_children, True, args.only_survivors, fresh=False,
                     timeout_multiplier=args.timeout_multiplier)
            else:
                _run(name, args.max_children, args.rerun_survivors,
                     timeout_multiplier=args.timeout_multiplier)
    _summarise([] if args.summary_only else names, args.note)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
