"""The registry of checks: every family's check types, one class per type.

A profile names checks by ``type`` with their parameters; :func:`build_check` turns one
such table into a check, refusing unknown types and keys. What a check is lives in
:mod:`~collapsecheck.checks.base`; the checks themselves live in their families (each
declares its ``{type: class}`` mapping in ``FamilySpec.checks``, e.g.
:mod:`collapsecheck.families.gaussian.checks`), and :data:`CHECK_TYPES` gathers them, in
the registry's family order, on first use (so that a family's check module may import
:mod:`collapsecheck.checks.base` without this registry importing it back half-built).

The Gaussian checks used to live here; their historical paths keep working:
``collapsecheck.checks.theory`` (and ``.article``, ``.collapse``, ``.engines``,
``.independence``, ``.regimes``) are aliases of the Gaussian family's modules, and
``collapsecheck.checks.LogVarGof`` (etc.) its classes; ``engine_simulator``, the Gaussian
engines' simulator, is
:func:`collapsecheck.families.gaussian.checks.base.engine_simulator` (all resolved when
first asked for, so importing this registry loads no family).
"""

from __future__ import annotations

import importlib
from dataclasses import fields
from typing import Any

from collapsecheck.checks.base import Check, Outcome, Simulator

__all__ = ["CHECK_TYPES", "Check", "Outcome", "Simulator", "build_check", "check_types",
           "engine_simulator"]

_check_types: dict[str, type[Check]] | None = None
#: Historical submodules (aliases of the Gaussian family's check modules).
_SUBMODULES = frozenset({"article", "collapse", "engines", "independence", "regimes",
                         "theory"})
_GAUSSIAN = "collapsecheck.families.gaussian.checks"


def check_types() -> dict[str, type[Check]]:
    """Profile check ``type`` -> class for every registered family (``FamilySpec.checks``),
    in registry order; built once, on first use."""
    global _check_types
    if _check_types is None:
        from collapsecheck.families import specs

        found: dict[str, type[Check]] = {}
        for s in specs():
            if s.checks:
                module, name = s.checks.split(":")
                found.update(getattr(importlib.import_module(module), name))
        _check_types = found
    return _check_types


def __getattr__(name: str):
    if name == "CHECK_TYPES":
        return check_types()
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if not name.startswith("_"):
        gaussian = importlib.import_module(_GAUSSIAN)
        if name in gaussian.__all__:
            return getattr(gaussian, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})  # the lazy names too, loading no family


def build_check(table: dict[str, Any], defaults: dict[str, Any] | None = None) -> Check:
    """A check from a profile table ``{"type": ..., <parameters>}``; ``defaults`` fills
    parameters the table leaves out (e.g. the profile's engine)."""
    table = dict(table)
    kind = table.pop("type", None)
    types = check_types()
    if kind not in types:
        raise ValueError(f"unknown check type {kind!r}; known types: {', '.join(types)}.")
    cls = types[kind]
    allowed = {f.name for f in fields(cls)}
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ValueError(f"check type {kind!r}: unknown key(s) {unknown}; allowed: "
                         f"{sorted(allowed)}.")
    params = {k: v for k, v in (defaults or {}).items() if k in allowed}
    params.update(table)
    try:
        return cls(**params)
    except TypeError as exc:
        raise ValueError(f"check type {kind!r}: {exc}") from None
