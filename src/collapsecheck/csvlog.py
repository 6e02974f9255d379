"""Strict reading of CSV logs: what every family's log format shares.

A log is a UTF-8 CSV (a leading byte-order mark is skipped) whose line 1 is a header of
known column names, each once, and whose data rows hold numbers only; comments are not
part of any format, and every message names the file's line (the header being line 1).
Each family's records module (:mod:`collapsecheck.families.gaussian.records`, the token
and multivariate logs) adds its own columns and rules on top of these pieces: the header
line (:func:`csv_header_line`), a memory bound checked before parsing
(:func:`_require_csv_memory`), the table by ``np.loadtxt`` with its errors restated in
the file's terms (:func:`_csv_table`), finite values and whole-number ``replicate`` and
``generation`` columns (:func:`_check_csv_values`) and at most one row per (replicate,
generation) pair (:func:`_refuse_repeats`). It knows no family.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from collapsecheck.errors import InputError
from collapsecheck.resources import memory_budget, require_memory

__all__ = ["MAX_FILE_BYTES", "csv_header_line"]

#: Largest log file accepted (bytes); larger files are refused with a message.
MAX_FILE_BYTES = 2 * 1024**3
#: Float64 values per data row that parsing a CSV alone takes at its peak: measured
#: 13.2-14.2 (3 or 5 columns).
_CSV_PARSE_FACTOR = 24.0
#: The advice of a memory refusal.
_THIN = ("keep fewer replicates, or only generations 0..T' of each (the steps must stay one "
         "generation apart)")
#: The columns every log has.
_REQUIRED = ("replicate", "generation")
#: Largest replicate or generation index a CSV may hold (exact in float64, fits int64).
_MAX_INDEX = 2**53
_COMMENT_HINT = ("comments are not part of the format: remove comment lines (e.g. grep -v "
                 "'^#' FILE > clean.csv) and any text after a '#'")


def csv_header_line(path: Path, fh, columns: Sequence[str], example: str,
                    hint: str = "") -> tuple[list[str], str]:
    """Read and check line 1 of a CSV log: UTF-8, not empty, no comment, every name among
    ``columns`` and each once. Returns the names and the line (for the callers' own
    rules); ``example`` is a header shown in the messages, ``hint`` added to the comment
    refusal."""
    try:
        line = fh.readline().strip()
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a UTF-8 text file.") from None
    if not line:
        raise InputError(f"{path}: empty file; expected a header such as '{example}'.")
    if "#" in line:
        raise InputError(f"{path}: line 1 (the header) holds a '#', but comments are not part "
                         "of the format; start the file with the plain header, e.g. "
                         f"{example}{hint}.")
    header = [h.strip() for h in line.split(",")]
    if any(h not in columns for h in header) or len(set(header)) != len(header):
        raise InputError(f"{path}: bad header {line!r}; columns must be among "
                         f"{','.join(columns)}, each once.")
    return header, line


def _require_csv_memory(path: Path, columns: int, memory_factor: float) -> None:
    """Refuse, before parsing, a CSV whose rows could need more memory than the budget.
    A data row takes at least 2 bytes a field ('0,' ... '1' and a line break), and
    holds a line of its own; the lines are counted only when the first bound fails."""
    per_row = 8 * max(memory_factor, _CSV_PARSE_FACTOR)
    rows = path.stat().st_size // (2 * columns) + 1
    if rows * per_row > memory_budget():
        rows = min(rows, _line_breaks(path))
    require_memory(rows * per_row, f"{path}: loading and analysing its up to {rows} data rows",
                   _THIN)


def _line_breaks(path: Path) -> int:
    """Line breaks (\\n, \\r or \\r\\n) in the file: a bound on its data rows, which
    follow the header one a line."""
    count, after_cr = 0, False
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 24):
            count += chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
            if after_cr and chunk.startswith(b"\n"):  # a \r\n split between two chunks
                count -= 1
            after_cr = chunk.endswith(b"\r")
    return count


def _csv_table(path: Path, fh, header: list[str]) -> np.ndarray:
    """The data rows as floats, by np.loadtxt with no comment character ('#' is not part
    of the format); its errors are restated in the file's terms."""
    try:
        with warnings.catch_warnings():
            # a header with no rows is reported below as an InputError, not a warning
            warnings.filterwarnings("ignore", "loadtxt: input contained no data", UserWarning)
            data = np.loadtxt(fh, delimiter=",", dtype=float, ndmin=2, comments=None)
    except UnicodeDecodeError:  # a ValueError too: first
        raise InputError(f"{path}: not a UTF-8 text file.") from None
    except ValueError as exc:
        raise _loadtxt_error(path, header, exc) from None
    if data.size == 0:
        raise InputError(f"{path}: no data rows after the header.")
    if data.shape[1] != len(header):
        line, _ = _csv_line(path, 0)
        raise InputError(f"{path}: rows have {data.shape[1]} fields; the header has "
                         f"{len(header)} (from line {line} on).")
    return data


# np.loadtxt's messages: a conversion error counts data rows from 0, a change in the
# number of columns from 1; both skip empty lines (see _csv_line).
_NOT_A_NUMBER = re.compile(r"could not convert string .* at row (\d+), column (\d+)")


_COLUMNS_CHANGED = re.compile(r"number of columns changed from (\d+) to (\d+) at row (\d+)")


def _loadtxt_error(path: Path, header: list[str], exc: ValueError) -> InputError:
    """np.loadtxt's error restated with the file's line number and the offending field,
    without its advice meant for programmers (``usecols``)."""
    text = str(exc)
    if m := _NOT_A_NUMBER.search(text):
        line, content = _csv_line(path, int(m[1]))
        column = int(m[2])
        if "#" in content:
            return _comment_error(path, line, content)
        fields = content.split(",")
        value = fields[column - 1] if column <= len(fields) else ""
        name = repr(header[column - 1]) if column <= len(header) else "beyond the header"
        return InputError(f"{path}: line {line}: could not convert string {_shown(value)} "
                          f"(column {column}, {name}) to a number; every field must be a "
                          "number such as 0.5, -3 or 1e-300.")
    if m := _COLUMNS_CHANGED.search(text):
        first, later, row = int(m[1]), int(m[2]), int(m[3])
        culprit, fields = (0, first) if first != len(header) else (row - 1, later)
        line, content = _csv_line(path, culprit)
        if "#" in content:
            return _comment_error(path, line, content)
        changed = " (the number of columns changed)" if culprit else ""
        return InputError(f"{path}: line {line} has {fields} field(s); the header has "
                          f"{len(header)}{changed}; every row needs one field per header column.")
    detail = re.sub(r",? at row \d+(, column \d+)?", "", text.splitlines()[0] if text else "")
    return InputError(f"{path}: the data rows are not numbers in the header's columns "
                      f"({detail.split('; use `usecols`')[0]}).")


def _comment_error(path: Path, line: int, content: str) -> InputError:
    what = "is a comment" if content.lstrip().startswith("#") else "holds a '#' comment"
    return InputError(f"{path}: line {line} {what}; {_COMMENT_HINT}.")


def _shown(value: str) -> str:
    """A field quoted for a message, cut to 40 characters."""
    return repr(value if len(value) <= 40 else value[:40] + "...")


def _csv_line(path: Path, row: int) -> tuple[int, str]:
    """The file line (header = line 1) and text of data row ``row``, counted from 0 as
    np.loadtxt counts them: every line after the header except empty ones (line breaks
    \\n, \\r or \\r\\n). Reads the file again, so it serves error messages only."""
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        fh.readline()
        for number, line in enumerate(fh, start=2):
            text = line.rstrip("\r\n")
            if text:
                if row == 0:
                    return number, text
                row -= 1
    return 1, ""  # not reached for a row np.loadtxt counted


def _check_csv_values(path: Path, col: dict[str, np.ndarray]) -> None:
    """Every value finite (an all-NaN ``mean`` column stands for no means), replicate and
    generation whole numbers from 0 to _MAX_INDEX."""
    for name, values in col.items():
        if name == "mean" and np.all(np.isnan(values)):
            continue
        bad = ~np.isfinite(values)
        if bad.any():
            line, _ = _csv_line(path, int(np.argmax(bad)))
            raise InputError(f"{path}: line {line}: column {name!r} has a non-finite value; "
                             "every value must be a finite number.")
    for name in _REQUIRED:
        v = col[name]
        bad = (v != np.round(v)) | (v < 0) | (v > _MAX_INDEX)
        if bad.any():
            i = int(np.argmax(bad))
            line, _ = _csv_line(path, i)
            raise InputError(f"{path}: line {line}: column {name!r} must hold whole numbers "
                             f"from 0 to {_MAX_INDEX}; got {float(v[i])!r}.")


def _refuse_repeats(path: Path, flat: np.ndarray, rep: np.ndarray, gen: np.ndarray, *,
                    what: str = "",
                    rule: str = "each (replicate, generation) pair may appear at most once."
                    ) -> None:
    """Name the line of the first repeated (replicate, generation) pair (``flat``: each
    row's cell on the replicate x generation grid), if any: ``"<path>: <what>line L repeats
    replicate r, generation g; <rule>"``."""
    _, first = np.unique(flat, return_index=True)
    if first.size == flat.size:
        return
    repeat = np.ones(flat.size, dtype=bool)
    repeat[first] = False
    i = int(np.argmax(repeat))
    line, _ = _csv_line(path, i)
    raise InputError(f"{path}: {what}line {line} repeats replicate {rep[i]}, "
                     f"generation {gen[i]}; {rule}")
