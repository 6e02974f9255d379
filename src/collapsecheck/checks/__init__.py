"""The registry of checks: one module per family, one class per check type.

A profile names checks by ``type`` with their parameters; :func:`build_check` turns one
such table into a check, refusing unknown types and keys.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from collapsecheck.checks.base import Check, Outcome, Simulator, engine_simulator
from collapsecheck.checks.collapse import Collapse, DriftConsistency, DriftEquivalence
from collapsecheck.checks.engines import EnginesAgree
from collapsecheck.checks.independence import ReplicateIndependence
from collapsecheck.checks.regimes import (
    RegimeIncrementGof,
    RegimeLogVarGof,
    RegimeMeanIncrementGof,
    RegimeMuVar,
    RegimeSigma2Mean,
    RegimeStepRatio,
)
from collapsecheck.checks.theory import (
    IncrementDrift,
    IncrementGof,
    LogVarGof,
    MeanIncrementGof,
    MuVar,
    Sigma2Mean,
    SigmaMean,
    StepVariance,
)

__all__ = ["CHECK_TYPES", "Check", "Outcome", "Simulator", "build_check", "engine_simulator"]

CHECK_TYPES: dict[str, type[Check]] = {
    cls.type: cls
    for cls in (LogVarGof, IncrementGof, MeanIncrementGof, SigmaMean, Sigma2Mean, MuVar,
                DriftConsistency, DriftEquivalence, Collapse, EnginesAgree,
                ReplicateIndependence, RegimeSigma2Mean, RegimeMuVar, RegimeLogVarGof,
                RegimeIncrementGof, RegimeMeanIncrementGof, RegimeStepRatio, StepVariance,
                IncrementDrift)
}


def _family_check_types() -> dict[str, type[Check]]:
    """Check types that model families declare (``FamilySpec.checks``)."""
    import importlib

    from collapsecheck.families import specs

    found: dict[str, type[Check]] = {}
    for s in specs():
        if s.checks:
            module, name = s.checks.split(":")
            found.update(getattr(importlib.import_module(module), name))
    return found


CHECK_TYPES.update(_family_check_types())


def build_check(table: dict[str, Any], defaults: dict[str, Any] | None = None) -> Check:
    """A check from a profile table ``{"type": ..., <parameters>}``; ``defaults`` fills
    parameters the table leaves out (e.g. the profile's engine)."""
    table = dict(table)
    kind = table.pop("type", None)
    if kind not in CHECK_TYPES:
        raise ValueError(f"unknown check type {kind!r}; known types: {', '.join(CHECK_TYPES)}.")
    cls = CHECK_TYPES[kind]
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
