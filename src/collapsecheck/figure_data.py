"""The numbers behind the report's plots (drawn by :mod:`collapsecheck.report.figures`).

:func:`figure_data` asks every registered model family for its figures
(``FamilySpec.figures``, :mod:`collapsecheck.families.protocol`), in registry order, and
merges what they return: each family draws what the profile holds of its own (the
Gaussian family's trajectories, endpoint, QQ, PIT, drift and regimes figures,
:mod:`collapsecheck.families.gaussian.figures`; the categorical and multivariate
families' ``panels``) and returns nothing otherwise.

Seeds: every figure stream is ``SeedSequence(profile seed, spawn_key=(0xF16, *key))``
(:func:`figure_stream`), independent of the checks' and the claims' streams; a family is
handed ``seed``, the stream ``(2,)``, and ``stream`` to take other keys (the Gaussian
family keeps the streams ``()`` and ``(1,)`` its figures had before the families
declared them).

The Gaussian figures' names at this historical path (``pit_data``, ``PIT_VALUES``,
``REGIMES_FIGURE``, ``regimes_figure_data``, ...) are served from the family when first
asked for, so importing this module loads no family.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from collapsecheck._alias import served_names
from collapsecheck.seeds import derived_seed

__all__ = ["figure_data", "figure_stream"]

_FIGURE_STREAM = 0xF16
#: The key of the stream handed to every family as its ``seed``.
_FAMILY_SEED_KEY = (2,)


def figure_stream(seed: int) -> Callable[..., int]:
    """``stream(*key)``: the integer seed of the report's figure stream ``key`` under the
    profile seed ``seed``, :func:`~collapsecheck.seeds.derived_seed` of
    ``(0xF16, *key)``."""

    def stream(*key: int) -> int:
        return derived_seed(seed, (_FIGURE_STREAM, *key))

    return stream


def figure_data(profile, results, *, workers=None, simulator=None,
                source: str = "built-in engine sufficient") -> dict:
    """The data of every figure of the report of ``profile``, whose checks gave
    ``results``: each family's ``FamilySpec.figures`` called as ``function(profile,
    results, seed=..., stream=..., workers=..., simulator=..., source=...)``, its
    ``{kind: data}`` merged in registry order. The chains are drawn by ``simulator``
    (a :data:`~collapsecheck.checks.Simulator`; each family's built-in engine when None)
    and labelled with ``source``; seeds as in the module docstring."""
    import importlib

    from collapsecheck.families import specs

    stream = figure_stream(profile.seed)
    out: dict = {}
    for s in specs():
        if s.figures:
            module, name = s.figures.split(":")
            draw = getattr(importlib.import_module(module), name)
            out.update(draw(profile, results, seed=stream(*_FAMILY_SEED_KEY), stream=stream,
                            workers=workers, simulator=simulator, source=source))
    return out


def _gaussian() -> ModuleType:
    """The Gaussian family's figures (imported when first asked for)."""
    import collapsecheck.families.gaussian.figures as gaussian

    return gaussian


#: The Gaussian figures' names at their historical path (``pit_data``, ``PIT_VALUES``,
#: ``REGIMES_FIGURE``, ``regimes_figure_data``, ...:
#: :mod:`collapsecheck.families.gaussian.figures`).
__getattr__, __dir__ = served_names(globals(), _gaussian)
