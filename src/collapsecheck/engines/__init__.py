"""Simulation machinery every model family's engines share.

:mod:`~collapsecheck.engines._blocks` runs blocks of replicates, each on its own random
stream (``SeedSequence(seed, spawn_key=(block,))``), on threads, processes or a dask
cluster, with results independent of the worker count and the memory chunk;
:mod:`~collapsecheck.engines._threads` keeps each worker's BLAS to one thread. This package
knows no family: each family's engines live in its own package
(:mod:`collapsecheck.families.gaussian.engines`,
:mod:`collapsecheck.families.categorical.engines`,
:mod:`collapsecheck.families.mvgaussian.engines`).

The Gaussian engines used to live here; their historical names keep working, resolved on
first use so that importing the shared machinery loads no family:
``collapsecheck.engines.simulate`` (and ``ENGINES``, ``SimulationRun``, ...) are
:mod:`collapsecheck.families.gaussian.engines`' own objects, and the modules
``collapsecheck.engines.samples``, ``.sufficient`` and ``.regimes`` are aliases of that
package's (the same module objects).
"""

from __future__ import annotations

import importlib

__all__ = ["BIT_GENERATOR", "ENGINES", "SimulationRun", "simulate"]

#: Historical names of the Gaussian engines' objects, looked up in this package.
_GAUSSIAN = "collapsecheck.families.gaussian.engines"
_GAUSSIAN_NAMES = frozenset({
    "ENGINES", "SimulationRun", "simulate", "THREADS_MIN_N", "DEFAULT_CHUNK_ELEMENTS",
    "_LOG_VAR_LIMIT", "_consume", "_overflow_iv", "_record_iv",
})
#: Historical submodules (aliases, see the module docstring).
_SUBMODULES = frozenset({"samples", "sufficient", "regimes"})


def __getattr__(name: str):
    if name == "BIT_GENERATOR":
        from collapsecheck.engines._blocks import BIT_GENERATOR

        return BIT_GENERATOR
    if name in _GAUSSIAN_NAMES:
        return getattr(importlib.import_module(_GAUSSIAN), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _GAUSSIAN_NAMES | _SUBMODULES | {"BIT_GENERATOR"})
