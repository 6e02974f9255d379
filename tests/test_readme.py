"""Every example of the README is run or checked here.

* Each ``collapsecheck`` line of a ``bash`` block parses against the real command line
  (options, their types, profile names), and the cheap ones run for real, at
  ``COLUMNS=80`` through a pipe: their tables keep every number whole on one line and fit
  80 columns (the long ones, such as ``--profile article``, are checked, not run).
* Other programs' lines name things that exist (bench sections, extras, files).
* The two set-up commands are independent (own environments) and CI runs the second
  verbatim (``.ci/run``).
* Each ``python`` block imports only names it uses, and runs.
"""

from __future__ import annotations

import ast
import itertools
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import click
import pytest
import typer

from collapsecheck.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, flags=re.S | re.M)


def _lines(block: str) -> list[str]:
    """Commands of a bash block: continuations joined, comments and blank lines dropped."""
    joined = block.replace("\\\n", " ")
    out = []
    for line in joined.splitlines():
        line = re.sub(r"\s+#.*$", "", line).strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


BASH = [line for block in _blocks("bash") for line in _lines(block)]
COMMANDS = [line for line in BASH if line.startswith("collapsecheck ")]


def _args(line: str) -> list[str]:
    """A README command's arguments, with its optional ``[...]`` groups left out."""
    args, depth = [], 0
    for token in shlex.split(line)[1:]:
        depth += token.count("[") if token.startswith("[") else 0
        if depth == 0:
            args.append(token)
        depth -= token.count("]") if depth and token.endswith("]") else 0
    return args


def test_the_readme_has_the_examples_this_file_checks():
    assert len(COMMANDS) >= 12
    assert len(_blocks("python")) == 2
    assert any(line.startswith("python3 -m venv") for line in BASH)


@pytest.mark.parametrize("line", COMMANDS)
def test_every_collapsecheck_line_parses(line):
    """Options exist and their values convert; named profiles exist."""
    from collapsecheck.profiles import available_profiles

    group = typer.main.get_command(app)
    args = _args(line)
    ctx = click.Context(group, info_name="collapsecheck")
    command = group.get_command(ctx, args[0])
    assert command is not None, line
    with command.make_context(args[0], args[1:], parent=ctx) as sub:
        profile = sub.params.get("profile")
    if profile is not None and not profile.endswith(".toml"):
        assert profile in available_profiles(), line


def test_other_programs_lines_name_what_exists():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import bench
    finally:
        sys.path.pop(0)
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    seen = set()
    for line in BASH:
        for part in (p.strip() for p in line.split("&&")):
            words = shlex.split(part)
            if words[:2] == ["python", "benchmarks/bench.py"]:
                sections = [w for prev, w in itertools.pairwise(words) if prev == "--section"]
                assert set(sections) <= set(bench.SECTIONS), part
                seen.add("bench")
            elif words[:2] == ["pip", "install"]:
                for spec in words[2:]:
                    if spec.startswith((".", "'.")) and "[" in spec:
                        wanted = spec.split("[")[1].rstrip("]'\"").split(",")
                        assert set(wanted) <= set(extras), part
                        seen.add("extra")
    assert seen == {"bench", "extra"}


def test_set_up_commands_are_independent_and_ci_runs_the_second():
    setup = _lines(_blocks("bash")[0])
    assert len(setup) == 2
    envs = [re.match(r"python3 -m venv (\S+) && \. \1/bin/activate && ", c) for c in setup]
    assert all(envs), setup
    assert envs[0][1] != envs[1][1]  # neither reinstalls into the other's environment
    assert "-e" not in setup[0].split() and "-e" in setup[1].split()
    ci = (ROOT / ".ci" / "run").read_text()
    assert setup[1] in ci.splitlines()
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert {f"{envs[0][1]}/", f"{envs[1][1]}/"} <= set(ignored)


def _imports_unused(source: str) -> set[str]:
    tree = ast.parse(source)
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                imported.add((alias.asname or alias.name).split(".")[0])
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return imported - used


@pytest.mark.parametrize("index", range(2))
def test_python_examples_import_only_what_they_use(index):
    assert _imports_unused(_blocks("python")[index]) == set()


def test_unused_import_is_caught():
    assert _imports_unused("from a import b, c\nb()\n") == {"c"}


def test_pytest_example_runs():
    namespace: dict = {}
    exec(compile(_blocks("python")[0], "README.md", "exec"), namespace)
    tests = [f for name, f in namespace.items() if name.startswith("test_")]
    assert len(tests) == 1
    tests[0]()


@pytest.mark.slow
def test_from_python_example_runs():
    namespace: dict = {}
    exec(compile(_blocks("python")[1], "README.md", "exec"), namespace)
    assert namespace["exact"].generations == 50
    assert namespace["mu"].shape == (2000, 51)
    assert not namespace["report"].failed


# ---------------------------------------------------------------------------------------
# Run the cheap commands as a reader would, through a pipe at 80 columns
# ---------------------------------------------------------------------------------------


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "80"}
    return subprocess.run([sys.executable, "-m", "collapsecheck", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def _readme(prefix: str) -> list[str]:
    """The arguments of the one README command that starts with ``prefix``."""
    found = [line for line in COMMANDS if line.startswith(prefix)]
    assert len(found) == 1, (prefix, found)
    return _args(found[0])


def _whole(text: str, shown: str) -> bool:
    """Is ``shown`` a whole token of one line of ``text``?"""
    pattern = rf"(?<![\w.+-]){re.escape(shown)}(?![\w.])"
    return any(re.search(pattern, line) for line in text.splitlines())


def _fits(out: str) -> None:
    long = [line for line in out.splitlines() if len(line) > 80]
    assert not long, long


def test_simulate_table_keeps_every_number_whole_in_80_columns(tmp_path):
    args = _readme("collapsecheck simulate --n 4")
    table = _run(args, tmp_path)
    record = json.loads(_run([*args, "--json"], tmp_path).stdout)
    assert table.returncode == 0, table.stderr
    _fits(table.stdout)
    final = record["final"]
    shown = 0
    for key in ("sigma_mean", "sigma2_mean", "log_sigma2_mean", "log_sigma2_sd", "mu_var"):
        est = final[key]
        for value in (est["estimate"], est["theory"]):
            assert _whole(table.stdout, f"{value:.6g}"), (key, value, table.stdout)
        assert _whole(table.stdout, f"{est['se']:.3g}"), (key, est["se"])
        assert _whole(table.stdout, f"{est['z']:+.2f}"), (key, est["z"])
        shown += 4
    for level, q in final["sigma_quantiles"].items():
        lo, hi = q["ci95"]
        for value in (q["estimate"], q["theory"]):
            assert _whole(table.stdout, f"{value:.6g}"), (level, value)
        assert f"[{lo:.6g}, {hi:.6g}]" in table.stdout, (level, lo, hi)
        shown += 3
    assert shown == 5 * 4 + 3 * 3


def test_simulate_table_stays_whole_when_a_number_underflows(tmp_path):
    out = _run(["simulate", "--n", "2", "--generations", "3000", "--replicates", "100",
                "--seed", "3"], tmp_path)
    record = json.loads(_run(["simulate", "--n", "2", "--generations", "3000",
                              "--replicates", "100", "--seed", "3", "--json"], tmp_path).stdout)
    assert out.returncode == 0, out.stderr
    _fits(out.stdout)
    ln = record["final"]["log_scale"]
    for key in ("sigma_mean", "sigma2_mean"):
        for side in ("estimate", "theory"):
            assert _whole(out.stdout, f"exp({ln[key][side]:.7g})"), (key, side)


def test_theory_json_example(tmp_path):
    out = _run(_readme("collapsecheck theory --n 4"), tmp_path)
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    assert record["final"]["sigma2_mean"] == pytest.approx((3 / 4) ** 3, rel=1e-12)


def test_sweep_table_keeps_every_number_whole_in_80_columns(tmp_path):
    from collapsecheck.report._format import fmt_num

    args = _readme("collapsecheck sweep")
    table = _run(args, tmp_path)
    record = json.loads(_run([*args, "--json"], tmp_path).stdout)
    assert table.returncode == 0, table.stderr
    _fits(table.stdout)
    points = record["points"]
    assert len(points) == 5
    for p in points:
        lo, hi = p["drift"]["ci95"]
        for value in (p["exact_drift"], p["drift"]["estimate"], p["signal"], p["pvalue"]):
            assert _whole(table.stdout, fmt_num(value)), (p["n"], value)
        assert f"[{fmt_num(lo)}, {fmt_num(hi)}]" in table.stdout, (p["n"], lo, hi)


@pytest.mark.slow
def test_plan_example_fits_80_columns(tmp_path):
    out = _run(_readme("collapsecheck plan"), tmp_path)
    assert out.returncode == 0, out.stderr
    _fits(out.stdout)
    assert re.search(r"^chains +100$", out.stdout, flags=re.M), out.stdout
    assert re.search(r"^expected power \(binding: \w+\) +0\.\d{3} \+- 0\.\d{3}$", out.stdout,
                     flags=re.M), out.stdout


def test_validate_list_example_fits_80_columns(tmp_path):
    out = _run(_readme("collapsecheck validate --list"), tmp_path)
    assert out.returncode == 0, out.stderr
    _fits(out.stdout)
    for name in ("article", "ci", "full", "regimes"):
        assert re.search(rf"^{name}\s", out.stdout, flags=re.M), name


def test_audit_example_on_a_small_simulate_out(tmp_path):
    """The README's simulate --out and audit lines, at a smaller size (the README's run
    is the article's scale: 10^9 draws)."""
    save = _readme("collapsecheck simulate --engine samples")
    small = [*save, "--replicates", "60", "--generations", "60"]
    assert _run(small, tmp_path).returncode == 0
    audit = _readme("collapsecheck audit chains.csv")
    out = _run(audit, tmp_path)
    assert out.returncode == 0, out.stderr
    _fits(out.stdout)
    record = json.loads(_run([*audit, "--json"], tmp_path).stdout)
    assert record["verdict"] in ("PASS", "WEAK")
    for check in record["checks"]:
        assert re.search(rf"^{re.escape(check['id'])}\s+{check['verdict']}\s", out.stdout,
                         flags=re.M), check["id"]
