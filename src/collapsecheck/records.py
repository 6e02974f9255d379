"""What every family's ``theory`` and ``simulate`` records share: a note per number that
is not finite (written as null in JSON), the smallest normal double (:data:`TINY`, below
which a raw-scale number keeps few digits), the walk over a record's nulls and the note
for one, and :func:`environment` (the versions and bit generator a seed needs).

Each family builds its own records: the Gaussian family's ``theory_record`` and
``simulation_record`` (DESIGN.md's shapes) live in
:mod:`collapsecheck.families.gaussian.commands`, the categorical and multivariate
families' in theirs (``families/<name>/commands.py``). This module serves the Gaussian
ones under their historical names (``from collapsecheck.records import theory_record``,
``simulation_record``, ``null_notes``, ``underflow_notes``), importing the family when
first asked for, so importing this module loads no family.
"""

from __future__ import annotations

import math
import platform
from types import ModuleType

import numpy as np

from collapsecheck import __version__
from collapsecheck._alias import served_names

__all__ = [  # noqa: F822 - the Gaussian records' names are served by __getattr__
    "environment", "nonfinite_notes", "simulation_record", "theory_record"]


def nonfinite_notes(obj, path: str = "") -> list[str]:
    """One note per number in ``obj`` that is NaN or infinite (written as null in JSON),
    so that no such value passes silently."""
    import math

    notes = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            notes += nonfinite_notes(v, f"{path}.{k}" if path else str(k))
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            notes += nonfinite_notes(v, f"{path}[{i}]")
    elif isinstance(obj, float) and not math.isfinite(obj):
        what = ("overflows double precision" if math.isinf(obj)
                else "is undefined (e.g. too few replicates for it)")
        notes.append(f"{path} {what} and is written as null; the log_scale values, where "
                     "given, stay finite")
    return notes


#: Smallest positive normal double: below it a number keeps few digits, or none at 0.
TINY = 2.2250738585072014e-308


def _tiny(x) -> bool:
    return isinstance(x, float) and math.isfinite(x) and abs(x) < TINY


def environment() -> dict:
    """Versions and the bit generator: what a seed needs to reproduce a stream (the
    shared engine machinery's, :data:`collapsecheck.engines._blocks.BIT_GENERATOR`,
    imported here so that ``theory`` loads no engine machinery)."""
    from collapsecheck.engines._blocks import BIT_GENERATOR

    return {
        "collapsecheck": __version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "bit_generator": BIT_GENERATOR,
    }


def _null_note(path: str, reason: str | None, regime: str) -> str:
    """The note for a null at ``path``: the regime theory's own ``reason`` (its
    ``methods`` entry), or that it has no exact value there."""
    reason = reason or (f"the {regime} regime's theory gives no exact value for it "
                        "(simulation only; no number is made up)")
    return f"{path} is null: {reason}"


def _nulls(obj, path: str = ""):
    if isinstance(obj, dict):
        if obj and all(v is None for v in obj.values()) and path:
            yield path
            return
        for k, v in obj.items():
            yield from _nulls(v, f"{path}.{k}" if path else str(k))
    elif obj is None:
        yield path


def _gaussian() -> ModuleType:
    """The Gaussian family's records (imported when first asked for: they import this
    module, and importing this one should load no family)."""
    import collapsecheck.families.gaussian.commands as gaussian

    return gaussian


#: The Gaussian records' names at their historical path (``theory_record``,
#: ``simulation_record``, ...: :mod:`collapsecheck.families.gaussian.commands`).
__getattr__, __dir__ = served_names(globals(), _gaussian)
