"""The Gaussian family's checks and the article's claims.

Every check derives from :class:`~.base.GaussianCheck` (the family's experiment and its
engines' simulator, :func:`~.base.engine_simulator`). One module per kind of check:
:mod:`.theory` (the article's chain against its exact law),
:mod:`.regimes` (every other regime against its own theory), :mod:`.collapse` (drift and
collapse, consistency and confirmatory), :mod:`.engines` (the two engines agree),
:mod:`.independence` (replicates independent), and :mod:`.article` (the claims A1..A8 of
ARTICLE.md, judged from exact theory and simulation). :data:`CHECK_TYPES` maps each
check's profile ``type`` to its class; the shared registry
(:mod:`collapsecheck.checks`) finds it through ``SPEC.checks``.
"""

from __future__ import annotations

from collapsecheck.checks.base import Check
from collapsecheck.families.gaussian.checks.base import GaussianCheck, engine_simulator
from collapsecheck.families.gaussian.checks.collapse import (
    Collapse,
    DriftConsistency,
    DriftEquivalence,
)
from collapsecheck.families.gaussian.checks.engines import EnginesAgree
from collapsecheck.families.gaussian.checks.independence import ReplicateIndependence
from collapsecheck.families.gaussian.checks.regimes import (
    RegimeIncrementGof,
    RegimeLogVarGof,
    RegimeMeanIncrementGof,
    RegimeMuVar,
    RegimeSigma2Mean,
    RegimeStepRatio,
)
from collapsecheck.families.gaussian.checks.theory import (
    IncrementDrift,
    IncrementGof,
    LogVarGof,
    MeanIncrementGof,
    MuVar,
    Sigma2Mean,
    SigmaMean,
    StepVariance,
)

__all__ = [
    "CHECK_TYPES", "Collapse", "DriftConsistency", "DriftEquivalence", "EnginesAgree",
    "GaussianCheck", "IncrementDrift", "IncrementGof", "LogVarGof", "MeanIncrementGof",
    "MuVar", "RegimeIncrementGof", "RegimeLogVarGof", "RegimeMeanIncrementGof",
    "RegimeMuVar", "RegimeSigma2Mean", "RegimeStepRatio", "ReplicateIndependence",
    "Sigma2Mean", "SigmaMean", "StepVariance", "engine_simulator",
]

#: Profile check ``type`` -> class, in the order the registry lists them.
CHECK_TYPES: dict[str, type[Check]] = {
    cls.type: cls
    for cls in (LogVarGof, IncrementGof, MeanIncrementGof, SigmaMean, Sigma2Mean, MuVar,
                DriftConsistency, DriftEquivalence, Collapse, EnginesAgree,
                ReplicateIndependence, RegimeSigma2Mean, RegimeMuVar, RegimeLogVarGof,
                RegimeIncrementGof, RegimeMeanIncrementGof, RegimeStepRatio, StepVariance,
                IncrementDrift)
}
