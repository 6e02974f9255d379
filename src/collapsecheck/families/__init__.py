"""Model families: the one place the shared layers look a family up.

A family bundles its parameters, exact theory, engines, records and commands, and declares
them in a :class:`~collapsecheck.families.protocol.FamilySpec` (its package's ``SPEC``);
the drivers and the command line reach it through this registry only. Families: the 1-D
Gaussian refit chain (:mod:`collapsecheck.families.gaussian`, with its regimes as modules of
its theory package) and the categorical token chain
(:mod:`collapsecheck.families.categorical`). Adding a family is a subpackage and one line
here.
"""

from __future__ import annotations

__all__ = ["FAMILIES", "family", "spec", "specs"]

#: Family name -> the package that implements it (imported on first use; its
#: ``__init__`` holds only the light ``SPEC``).
FAMILIES: dict[str, str] = {
    "gaussian": "collapsecheck.families.gaussian",
    "categorical": "collapsecheck.families.categorical",
    "mvgaussian": "collapsecheck.families.mvgaussian",
}


def family(name: str):
    """The package of family ``name``; ValueError naming the known ones otherwise."""
    import importlib

    if name not in FAMILIES:
        raise ValueError(f"`family` must be one of {', '.join(FAMILIES)}; got {name!r}.")
    return importlib.import_module(FAMILIES[name])


def spec(name: str):
    """The :class:`~collapsecheck.families.protocol.FamilySpec` of family ``name``."""
    return family(name).SPEC


def specs() -> tuple:
    """Every registered family's spec, in registry order."""
    return tuple(spec(name) for name in FAMILIES)
