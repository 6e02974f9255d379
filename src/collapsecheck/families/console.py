"""What the families' commands print: one JSON object, or tables and notes.

Shared by every family's ``commands`` module, so that ``theory`` and ``simulate`` look the
same whatever the family: results on stdout, notes and timings on stderr.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.markup import escape
from rich.table import Table

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
    table = Table(title=title)
    table.add_column("quantity")
    table.add_column("value", justify="right", no_wrap=True)
    for label, value in rows:
        table.add_row(escape(label), fmt(value))
    Console().print(table)


def estimate_table(title: str, rows) -> None:
    """``rows`` of ``(label, {"estimate", "se", "ci95", "theory"})``: simulation beside
    theory."""
    table = Table(title=title)
    table.add_column("statistic")
    for col in ("simulation", "95% CI", "theory"):
        table.add_column(col, justify="right", no_wrap=True)
    for label, est in rows:
        if est.get("clt_ok") is False:  # a raw moment whose normal interval is unreliable
            label += " (heavy tail: SE unreliable)"
        table.add_row(escape(label), f"{fmt(est['estimate'])} ± {fmt(est['se'])}",
                      escape(f"[{fmt(est['ci95'][0])}, {fmt(est['ci95'][1])}]"),
                      fmt(est.get("theory")))
    Console().print(table)


def print_notes(notes, timing: dict | None = None, workers: int | None = None) -> None:
    for note in notes:
        _err.print(f"note: {escape(note)}", soft_wrap=True)
    if timing is not None:
        _err.print(f"simulated in {timing['simulate_s']:.3f} s with {workers} worker(s)")


def audit_table(title: str, result, lines=()) -> None:
    """An :class:`~collapsecheck.audit.AuditResult`: its checks, then ``lines`` (the rates
    as sentences), what was skipped and why, notes, the reach and the verdict."""
    table = Table(title=title)
    for col in ("check", "verdict", "p-value"):
        table.add_column(col, no_wrap=True)
    table.add_column("note")
    for c in result.checks:
        table.add_row(escape(c.id), c.verdict.value, fmt(c.pvalue), escape(c.reason))
    console = Console()
    console.print(table)
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
