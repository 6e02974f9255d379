"""Model families: the one place the shared layers look a family up.

A family bundles its parameters, exact theory, engines, records and checks; the drivers
(``validate``, ``audit``, ``calibrate``) reach it through this registry only. Today's
family is the 1-D Gaussian refit chain (:mod:`collapsecheck.families.gaussian`), with its
regimes as modules of its theory package.
"""

from __future__ import annotations

__all__ = ["FAMILIES", "family"]

#: Family name -> the module that implements it (imported on first use).
FAMILIES: dict[str, str] = {"gaussian": "collapsecheck.families.gaussian"}


def family(name: str):
    """The module of family ``name``; ValueError naming the known ones otherwise."""
    import importlib

    if name not in FAMILIES:
        raise ValueError(f"`family` must be one of {', '.join(sorted(FAMILIES))}; got {name!r}.")
    return importlib.import_module(FAMILIES[name])
