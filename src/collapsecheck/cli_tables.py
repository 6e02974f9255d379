"""Text tables for a terminal, a pipe or a file: no value split across lines or cut.

rich wraps a cell that does not fit its column, which splits a number ("0.507329 ±" over
"0.0040375") or cuts an id with "…". Tables here mark their value columns ``no_wrap``
(:func:`value_column`) and are printed by :func:`print_table`, which gives a table the
width it needs when the console is narrower than its values: a long line then, never a
broken value. Prose columns (descriptions, readings) still wrap, between words. Numbers
to be read by a program come from ``--json``, not from these tables.
"""

from __future__ import annotations

import io

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = ["compact_table", "print_table", "value_column"]

#: The widest console a table is ever widened to (a safety bound, far beyond any table).
MAX_WIDTH = 400


def compact_table(title: str | None = None) -> Table:
    """A table with a rule under the header only: two spaces between columns and none at
    the edges, so that more fits in 80 columns."""
    return Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                 collapse_padding=True)


def value_column(table: Table, header: str, *, justify: str = "left") -> None:
    """Add a column whose cells are values (numbers, ids, verdicts): never wrapped."""
    table.add_column(header, justify=justify, no_wrap=True)


def _cells(table: Table) -> list[str]:
    """The plain text of every cell (and header) of the table's ``no_wrap`` columns."""
    out = []
    for column in table.columns:
        if not column.no_wrap:
            continue
        for cell in (column.header, *column.cells):
            text = cell.plain if isinstance(cell, Text) else (
                Text.from_markup(cell).plain if isinstance(cell, str) else None)
            if text:
                out.append(text)
    return out


def _fits(table: Table, width: int, cells: list[str]) -> bool:
    """Does every value cell appear whole on one line when ``table`` is ``width`` wide?"""
    sink = Console(file=io.StringIO(), width=width, color_system=None, highlight=False,
                   legacy_windows=False)
    sink.print(table)
    lines = sink.file.getvalue().splitlines()
    return all(any(cell in line for line in lines) for cell in cells)


def needed_width(table: Table, width: int) -> int:
    """The smallest width from ``width`` on at which no value cell of ``table`` is split or
    cut (``width`` itself when the table fits)."""
    cells = _cells(table)
    if not cells or _fits(table, width, cells):
        return width
    lo, hi = width, MAX_WIDTH
    if not _fits(table, hi, cells):
        return hi
    while hi - lo > 1:  # _fits(lo) is False, _fits(hi) is True
        mid = (lo + hi) // 2
        if _fits(table, mid, cells):
            hi = mid
        else:
            lo = mid
    return hi


def print_table(table: Table, console: Console | None = None) -> None:
    """Print ``table`` on ``console`` (stdout by default) at the console's width, or at
    the width its values need if that is larger (see the module docstring); the table is
    widened to its title's length where the console allows, so the title keeps one line."""
    console = console or Console()
    before = console.width
    if isinstance(table.title, str) and table.min_width is None:
        # as wide as the title, up to the console: a title on one line where it can be
        table.min_width = min(cell_len(Text.from_markup(table.title).plain), before)
    width = needed_width(table, before)
    if width == before:
        console.print(table)
        return
    console.width = width  # wider than the terminal: a long line, not a broken value
    try:
        console.print(table, crop=False)
    finally:
        console.width = before
