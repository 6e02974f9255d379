"""Deliberately wrong simulators ("mutants"): each imitates one realistic bug.

A mutant is a simulator with the signature of ``validate --simulator`` plugins,
``(experiment, record) -> records``, that gets one thing wrong and says so in a
one-line summary. Running a profile against it shows which checks catch that bug::

    from collapsecheck.mutants import MUTANTS
    from collapsecheck.profiles import load_profile
    from collapsecheck.validate import run_profile

    report = run_profile(load_profile("ci"), simulator=MUTANTS["ddof-mismatch"])
    report.failed  # True: the bug is caught

or from the command line, with the name's hyphens written as underscores::

    collapsecheck mutants        # the list
    collapsecheck validate --profile ci --simulator collapsecheck.mutants:ddof_mismatch

This module is the shared part: :class:`Mutant` (a named wrong simulator and the profile
that must catch it), the lookup of every family's mutants and their groups
(:func:`all_mutants`, :func:`family_mutants`, :func:`mutant_groups`: each family's
``FamilySpec.mutants`` and ``FamilySpec.mutant_groups`` in the registry, the Gaussian
family's included), :func:`select` and :class:`UnknownMutant`. The mutants themselves
live with their family: the Gaussian chain's (:data:`MUTANTS`, :data:`REGIME_MUTANTS`,
the parametrised builders :func:`wrong_ddof`, :func:`tails`, ..., :data:`DRAWS_MAX_N`)
in :mod:`collapsecheck.families.gaussian.mutants`, served here under their historical
names when first asked for (so importing this module loads no family); the other
families' in their ``mutants`` module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

__all__ = [  # noqa: F822 - the Gaussian names and ALL_MUTANTS are served by __getattr__
    "ALL_MUTANTS",
    "DRAWS_MAX_N",
    "GAUSSIAN_MUTANTS",
    "MUTANTS",
    "REGIME_MUTANTS",
    "Mutant",
    "UnknownMutant",
    "clipped_samples",
    "correct",
    "drift_offset",
    "mean_step_scale",
    "paired_replicates",
    "tails",
    "wrong_ddof",
    "wrong_n",
]

#: ``(experiment, record) -> records``, as :data:`collapsecheck.checks.Simulator` (each
#: family its own parameters and records).
Simulator = Callable[[Any, str | Sequence[int]], Any]


def _gaussian() -> ModuleType:
    """The Gaussian family's mutants (imported when first asked for: it imports this
    module, and importing this one should load no family)."""
    import collapsecheck.families.gaussian.mutants as gaussian

    return gaussian


# ---------------------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutant:
    """A named wrong simulator: ``build()`` returns the simulator; the mutant itself is
    one too (calling it builds and runs it), so it can be passed wherever a simulator
    goes (``run_profile(..., simulator=MUTANTS[name])``)."""

    name: str
    summary: str
    build: Callable[[], Simulator]
    #: The profile whose checks must catch it (regime bugs need the regime checks).
    profile: str = "ci"

    @property
    def __name__(self) -> str:  # how error messages name a simulator
        return self.name

    def __call__(self, experiment: Any, record: Any) -> Any:
        return self.build()(experiment, record)


def _load(ref: str) -> dict[str, Mutant]:
    """The ``{name: Mutant}`` mapping a family declares as ``"module:NAME"``."""
    import importlib

    module, name = ref.split(":")
    return dict(getattr(importlib.import_module(module), name))


#: Family name -> its mutants; the named groups partitioning them, in order.
_Registry = tuple[dict[str, dict[str, Mutant]], list[tuple[str, dict[str, Mutant]]]]


def _registry() -> _Registry:
    """Each model family's mutants (``FamilySpec.mutants``) by family name, and the
    groups that partition them, in registry order: a family's declared
    ``FamilySpec.mutant_groups``, else its mutants under the family's name."""
    from collapsecheck.families import specs

    found: dict[str, dict[str, Mutant]] = {}
    groups: list[tuple[str, dict[str, Mutant]]] = []
    for s in specs():
        if s.mutants:
            found[s.name] = _load(s.mutants)
            groups += ([(g, _load(ref)) for g, ref in s.mutant_groups.items()]
                       or [(s.name, found[s.name])])
    return found, groups


#: :func:`_registry`, built when first asked for (the families' mutant modules import
#: this one).
_REGISTRY: _Registry | None = None


def _built() -> _Registry:
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = _registry()
    return _REGISTRY


def family_mutants() -> dict[str, dict[str, Mutant]]:
    """Each model family's mutants (``FamilySpec.mutants``), by family name, in registry
    order."""
    return _built()[0]


def mutant_groups() -> list[tuple[str, dict[str, Mutant]]]:
    """The named groups of mutants, ``[(group, {name: Mutant}), ...]`` in registry
    order: they partition :func:`all_mutants`, each caught by one profile (a family's
    ``FamilySpec.mutant_groups``, else all its mutants under the family's name; today
    ``all``, the Gaussian chain's caught by ``ci``, ``regimes``, ``categorical`` and
    ``mvgaussian``)."""
    return _built()[1]


def all_mutants() -> dict[str, Mutant]:
    """Every mutant by name: each family's, in registry order (the Gaussian family's
    :data:`MUTANTS` and :data:`REGIME_MUTANTS` first)."""
    out: dict[str, Mutant] = {}
    for group in family_mutants().values():
        out.update(group)
    return out


class UnknownMutant(ValueError):
    """A name that is neither a group (:func:`mutant_groups`, or a family's name) nor a
    mutant (``.name``). The message lists every group and its mutants: the first as
    "the mutants", each other with the profile that catches it."""

    def __init__(self, name: str):
        listed = "; ".join(
            ("the mutants are" if i == 0 else f"and for the {_profile(members)} profile")
            + f": {', '.join((group, *members))}"
            for i, (group, members) in enumerate(mutant_groups()))
        super().__init__(f"unknown mutant {name!r}; {listed}.")
        self.name = name


def _profile(members: dict[str, Mutant]) -> str:
    """The profile that catches the mutants of one group."""
    return next(iter(members.values())).profile


def select(entries: Iterable[str]) -> list[str]:
    """The mutants named by ``entries``, in order and once each: each entry may be a
    comma-separated list of mutant names and group names (:func:`mutant_groups`:
    ``all`` stands for every name in :data:`MUTANTS`, ``regimes`` for every name in
    :data:`REGIME_MUTANTS`, ...) and a model family's name stands for all its mutants
    (``categorical``; ``gaussian``: ``all`` and ``regimes``); blanks are skipped; an
    unknown name raises :class:`UnknownMutant`."""
    groups = {**family_mutants(), **dict(mutant_groups())}
    every = all_mutants()
    out: list[str] = []
    for entry in entries:
        for name in (part.strip() for part in str(entry).split(",")):
            if not name:
                continue
            if name not in groups and name not in every:
                raise UnknownMutant(name)
            out += [m for m in groups.get(name, [name]) if m not in out]
    return out


def __getattr__(name: str) -> Any:
    """The Gaussian mutants' names at their historical path (``MUTANTS``, ``tails``,
    ...: :mod:`collapsecheck.families.gaussian.mutants`), and
    ``collapsecheck.mutants.ddof_mismatch`` is ``MUTANTS["ddof-mismatch"]`` (so that
    ``--simulator collapsecheck.mutants:ddof_mismatch`` names one)."""
    if name.startswith("__"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name == "ALL_MUTANTS":  # every mutant, the families' included (built on first use)
        return all_mutants()
    g = _gaussian()
    if hasattr(g, name):
        return getattr(g, name)
    key = name.replace("_", "-")
    if key in all_mutants():
        return all_mutants()[key]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    g = [k for k in vars(_gaussian()) if not k.startswith("__")]
    return sorted({*globals(), *g, "ALL_MUTANTS",
                   *(k.replace("-", "_") for k in all_mutants())})
