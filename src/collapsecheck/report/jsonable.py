"""Conversion of results to strict JSON (no NaN or Infinity tokens)."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import numpy as np

__all__ = ["dumps", "jsonable"]


def jsonable(obj: Any) -> Any:
    """Plain JSON types from numpy scalars, arrays, tuples and dataclasses; non-finite
    floats become ``None`` (every such quantity also has a finite log-scale twin, or is
    explained in the record, so nothing is silently NaN or inf in a report)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return jsonable(obj.to_dict() if hasattr(obj, "to_dict") else dataclasses.asdict(obj))
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        x = float(obj)
        return x if math.isfinite(x) else None
    return obj


def dumps(obj: Any, *, indent: int | None = 2) -> str:
    """Strict JSON text of ``obj`` (``allow_nan=False`` after :func:`jsonable`)."""
    return json.dumps(jsonable(obj), indent=indent, allow_nan=False)
