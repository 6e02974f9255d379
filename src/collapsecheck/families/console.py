"""What the families' commands print: one JSON object, or tables and notes.

Shared by every family's ``commands`` module, so that ``theory`` and ``simulate`` look the
same whatever the family: results on stdout, notes and timings on stderr.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.markup import escape

from collapsecheck.cli_tables import compact_table, print_table, value_column

__all__ = ["estimate_table", "fmt", "print_json", "print_notes", "value_table"]

_err = Console(stderr=True, highlight=False)


def fmt(x) -> str:
    """A number to 6 significant digits, ``-`` for a missing one."""
    return "-" if x is None else f"{x:.6g}"


def print_json(record: dict) -> None:
    from collapsecheck.report.jsonable import dumps

    sys.stdout.write(dumps(record) + "\n")


def value_table(title: str, rows) -> None:
    """``rows`` of ``(label, value)``: a two-column table of exact values."""
    table = compact_table(title)
    table.add_column("quantity")
    value_column(table, "value", justify="right")
    for label, value in rows:
        table.add_row(escape(label), fmt(value))
    print_table(table)


def estimate_table(title: str, rows) -> None:
    """``rows`` of ``(label, {"estimate", "se", "ci95", "theory"})``: simulation beside
    theory."""
    table = compact_table(title)
    table.add_column("statistic")
    for col in ("simulation", "± SE", "95% CI", "theory"):
        value_column(table, col, justify="right")
    heavy = False
    for label, est in rows:
        if est.get("clt_ok") is False:  # a raw moment whose normal interval is unreliable
            label, heavy = label + " *", True
        table.add_row(escape(label), fmt(est["estimate"]), fmt(est.get("se")),
                      escape(f"[{fmt(est['ci95'][0])}, {fmt(est['ci95'][1])}]"),
                      fmt(est.get("theory")))
    print_table(table)
    if heavy:
        Console().print("* heavy tail at this many replicates: its SE and CI are unreliable")


def print_notes(notes, timing: dict | None = None, workers: int | None = None) -> None:
    for note in notes:
        _err.print(f"note: {escape(note)}", soft_wrap=True)
    if timing is not None:
        _err.print(f"simulated in {timing['simulate_s']:.3f} s with {workers} worker(s)")


def audit_table(title: str, result, lines=()) -> None:
    """An :class:`~collapsecheck.audit.AuditResult`: its checks, then ``lines`` (the rates
    as sentences), what was skipped and why, notes, the reach and the verdict."""
    table = compact_table(title)
    for col in ("check", "verdict", "p-value"):
        value_column(table, col)
    table.add_column("note")
    for c in result.checks:
        table.add_row(escape(c.id), c.verdict.value, f"{c.pvalue:.3g}", escape(c.reason))
    console = Console()
    print_table(table, console)
    for line in lines:
        console.print(escape(line), soft_wrap=True)
    for name, why in result.skipped.items():
        _err.print(f"skipped {name}: {escape(why)}", soft_wrap=True)
    for note in result.notes:
        _err.print(f"note: {escape(note)}", soft_wrap=True)
    smallest = result.reach.get("n_relative_error_detectable")
    if smallest is not None:
        _err.print(f"reach: detects an n off by {smallest:.3g} (relative) with power 0.9")
    console.print(f"verdict: {result.verdict.value}")
