"""Text tables: no value split across lines or cut, 80 columns where the values allow."""

from __future__ import annotations

import io
import json
import re

import pytest
from rich.console import Console

from collapsecheck.cli import main
from collapsecheck.cli_tables import compact_table, needed_width, print_table, value_column


def _console(width: int) -> Console:
    return Console(file=io.StringIO(), width=width, color_system=None, highlight=False)


def _table(first: str, prose: str = "") -> tuple:
    table = compact_table("a title")
    value_column(table, "id")
    value_column(table, "p-value", justify="right")
    table.add_column("note")
    table.add_row(first, "0.000123457", prose)
    table.add_row("short.id", "[green]PASS[/]", "")
    return table


def test_a_table_that_fits_keeps_the_console_width_and_wraps_prose_between_words():
    prose = "a reading with many words, 0.4460-0.4914 among them, " * 4
    console = _console(80)
    print_table(_table("theory.log_var_gof.n3.T10.samples", prose), console)
    out = console.file.getvalue()
    assert max(map(len, out.splitlines())) <= 80
    assert "theory.log_var_gof.n3.T10.samples" in out and "0.000123457" in out
    words = prose.split()
    assert all(re.search(rf"(^|\s){re.escape(w)}(\s|$)", out, flags=re.M) for w in words)
    assert console.width == 80


def test_a_value_too_wide_for_the_console_is_printed_whole_on_a_longer_line():
    long_id = "regimes.regime_mean_increment_gof." + "x" * 60 + ".samples"
    console = _console(80)
    table = _table(long_id)
    width = needed_width(table, 80)
    print_table(table, console)
    out = console.file.getvalue()
    assert any(long_id in line and "0.000123457" in line for line in out.splitlines())
    assert "…" not in out
    assert console.width == 80  # restored
    # the smallest such width: one column less cuts or splits a value
    narrower = _console(width - 1)
    narrower.print(table)
    assert long_id not in narrower.file.getvalue() or "0.000123457" not in \
        narrower.file.getvalue()


def test_rich_alone_would_split_the_value(tmp_path):
    """The failure print_table prevents (so the test above can fail)."""
    from rich.table import Table

    table = Table()
    table.add_column("simulation")
    table.add_column("95% CI")
    table.add_row("0.507329 ± 0.0040375", "[0.499415, 0.515243]")
    console = _console(30)
    console.print(table)
    assert "0.507329 ± 0.0040375" not in console.file.getvalue()


TINY = """
name = "tiny"
seed = 7
budget = 0.001
[[checks]]
type = "log_var_gof"
n = 5
generations = 4
replicates = 300
engine = "sufficient"
[[checks]]
type = "replicate_independence"
n = 5
generations = 100
replicates = 400
engine = "samples"
"""


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path


def test_validate_summary_at_80_columns_keeps_ids_and_pvalues_whole(tiny, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["validate", "--profile", str(tiny), "--no-progress"]) == 0
    table = capsys.readouterr().out
    assert main(["validate", "--profile", str(tiny), "--json", "--no-progress"]) == 0
    report = json.loads(capsys.readouterr().out)
    # every line but the command, which is never wrapped (it is copied into a shell)
    assert max(len(line) for line in table.splitlines()
               if not line.startswith("reproduce with: ")) <= 80
    for check in report["checks"]:
        shown = f"{check['pvalue']:.3g}"
        assert re.search(rf"^{re.escape(check['id'])} +{check['verdict']}\*? +"
                         rf"{re.escape(shown)}$", table, flags=re.M), (check, table)
    assert re.search(r"^overall: PASS \(\d+\.\d s\)$", table, flags=re.M)
    assert re.search(rf"^reproduce with: collapsecheck validate --profile {re.escape(str(tiny))}$",
                     table, flags=re.M)


def test_calibrate_table_at_80_columns(tiny, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    args = ["calibrate", "--profile", str(tiny), "--seeds", "3", "--workers", "1",
            "--no-progress"]
    main(args)
    table = capsys.readouterr().out
    main([*args, "--json"])
    record = json.loads(capsys.readouterr().out)
    lines = table.splitlines()
    assert max(map(len, lines)) <= 80
    for cid, rec in record["checks"].items():
        p = rec.get("uniformity_pvalue")
        shown = "-" if p is None else f"{p:.3g}"
        assert re.search(rf"^{re.escape(cid)} +{rec['fail']} +{rec['weak_rate']:.3f} +"
                         rf"{re.escape(shown)}$", table, flags=re.M), (cid, table)


def test_validate_seed_help_says_what_an_omitted_seed_does(tiny, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["validate", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "omitted: the profile's own fixed seed" in help_text
    assert "omitted: fresh" not in help_text
    for _ in range(2):  # the profile's seed (7), the same each time
        assert main(["validate", "--profile", str(tiny), "--json", "--no-progress"]) == 0
        assert json.loads(capsys.readouterr().out)["seed"] == 7
    assert main(["simulate", "--help"]) == 0  # simulate's omitted seed is fresh
    assert "omitted: fresh, and reported" in " ".join(capsys.readouterr().out.split())
