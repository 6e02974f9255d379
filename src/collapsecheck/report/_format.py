"""Formatting shared by the text writers (Markdown, HTML): numbers, values of unknown
shape, and the column layout of a claim's theory-versus-simulation table.

Everything here returns plain (unescaped) text; each writer escapes for its own format.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from collapsecheck.report.jsonable import jsonable
from collapsecheck.report.notation import quantity_label
from collapsecheck.results import CheckResult, ClaimResult, ClaimVerdict, Verdict

__all__ = [
    "MISSING",
    "claim_sort_key",
    "fmt_num",
    "fmt_p",
    "fmt_value",
    "number_rows",
    "sorted_claims",
    "statistic_name",
    "verdict_counts",
]

MISSING = "—"

# Keys of a claim's number that get their own column, in this order; any other key of a
# dict-valued number gets a column after these, and "note" comes last.
_LEADING = ("theory", "simulation")
_TRAILING = ("ci95", "note")
_LABELS = {"theory": "theory", "simulation": "simulation", "ci95": "95% CI", "note": "note",
           "value": "value", "source": "source"}


def fmt_num(x: Any) -> str:
    """A number in at most four significant digits; ``None``/NaN as a dash, booleans as
    words, integers in full."""
    if x is None:
        return MISSING
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        if math.isnan(x):
            return MISSING
        if math.isinf(x):
            return "∞" if x > 0 else "−∞"
        return f"{x:.4g}"
    return str(x)


#: Smallest p-value printed as a number: below it (and at an underflowed 0) a p-value is
#: printed as "< 1e-300", never as 0.
P_FLOOR = 1e-300


def fmt_p(p: Any) -> str:
    """A p-value in three significant digits; one that underflowed to 0 or lies below
    :data:`P_FLOOR` as ``"< 1e-300"``; ``None``/NaN as a dash."""
    if p is None or isinstance(p, bool) or not isinstance(p, int | float) or math.isnan(p):
        return MISSING
    if p < P_FLOOR:
        return "< 1e-300"
    return f"{p:.3g}"


# (pattern in the test's description, name of its statistic); the first match wins.
_STATISTICS = (
    (r"\bTOST\b", "t (TOST)"),
    (r"Kolmogorov-Smirnov|\bks_?2?samp\b|\bkstest\b", "KS D"),
    (r"Cram[eé]r|cramervonmises", "CvM W²"),
    (r"Anderson", "AD A²"),
    (r"\bz-test\b", "z"),
    (r"\bt-test\b", "t"),
    (r"chi-square|chi2", "χ²"),
    (r"\btwo-sided test of\b", "z (standardised)"),
)


def statistic_name(test: str) -> str:
    """The name of a test's statistic read from its description (``CheckResult.test``):
    ``"KS D"`` for a Kolmogorov-Smirnov test, ``"z"``, ``"t"``, ``"χ²"``...; plain
    ``"statistic"`` when the description names none of them."""
    for pattern, name in _STATISTICS:
        if re.search(pattern, str(test)):
            return name
    return "statistic"


def fmt_value(v: Any) -> str:
    """Compact one-line text for a value of any JSON shape (after :func:`jsonable`)."""
    v = jsonable(v)
    if isinstance(v, dict):
        return "; ".join(f"{k}: {fmt_value(x)}" for k, x in v.items()) if v else MISSING
    if isinstance(v, list):
        return "[" + ", ".join(fmt_value(x) for x in v) + "]"
    if isinstance(v, str):
        return v
    return fmt_num(v)


def effect_parts(effect: Mapping[str, Any], math, plain) -> tuple[list[str], Any, Any]:
    """A check's smallest detectable departure in pieces, for any writer: ``metric = value``
    first, then the other sizes by their readable labels; ``math`` renders a formula,
    ``plain`` escapes plain text (identity for Markdown). Returns ``(parts, power, note)``."""
    e = dict(effect)
    note = e.pop("note", None)
    power = e.pop("power", None)
    metric, value = e.pop("metric", None), e.pop("value", None)
    parts = []
    if metric is not None:
        parts.append(f"{math(metric)} = {plain(fmt_num(value))}" if value is not None
                     else math(metric))
    elif value is not None:
        parts.append(plain(fmt_num(value)))
    parts += [f"{plain(quantity_label(k))} {math(fmt_value(v))}" for k, v in e.items()]
    return parts, power, note


def verdict_counts(items: Iterable[CheckResult | ClaimResult],
                   kind: type[Verdict] | type[ClaimVerdict]) -> dict[str, int]:
    """How many items have each verdict of ``kind`` (every verdict listed, zeros too)."""
    counts = {v.value: 0 for v in kind}
    for item in items:
        counts[item.verdict.value] = counts.get(item.verdict.value, 0) + 1
    return counts


def claim_sort_key(claim: ClaimResult) -> tuple[int, int, str]:
    """A1 < A2 < ... < A8 < A10; ids not of that form keep their place after them."""
    m = re.fullmatch(r"A(\d+)", claim.id)
    return (0, int(m.group(1)), "") if m else (1, 0, claim.id)


def sorted_claims(claims: Iterable[ClaimResult]) -> list[ClaimResult]:
    return sorted(claims, key=claim_sort_key)


def number_rows(numbers: Mapping[str, Any]) -> tuple[list[str], list[str], list[list[str]]]:
    """Lay out a claim's ``numbers`` as a table.

    Returns ``(keys, labels, rows)``: the column keys (after the leading "quantity"),
    their header labels, and for each number its name followed by one text cell per key.
    A dict-valued number fills the columns of its keys (``theory`` and ``simulation``
    side by side first, ``ci95`` and ``note`` last, anything else between); a plain
    scalar fills a ``value`` column. Columns nobody uses are left out.
    """
    numbers = jsonable(dict(numbers))
    extra: list[str] = []
    used: set[str] = set()
    for v in numbers.values():
        if isinstance(v, dict):
            for k in v:
                used.add(k)
                if k not in _LEADING and k not in _TRAILING and k not in extra:
                    extra.append(k)
        else:
            used.add("value")
    if "value" in used and "value" not in extra:
        extra.insert(0, "value")
    keys = [k for k in _LEADING if k in used] + extra + [k for k in _TRAILING if k in used]
    rows = []
    for name, v in numbers.items():
        cells = {"value": v} if not isinstance(v, dict) else v
        rows.append([str(name)] + [_cell(k, cells[k]) if k in cells else "" for k in keys])
    return keys, [_LABELS.get(k, k) for k in keys], rows


def _cell(key: str, v: Any) -> str:
    if key == "ci95" and isinstance(v, list) and len(v) == 2:
        return f"[{fmt_value(v[0])}, {fmt_value(v[1])}]"
    return fmt_value(v)
