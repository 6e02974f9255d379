"""Load a researcher's own simulator, to audit it with the same checks.

``--simulator FILE.py:NAME`` or ``--simulator package.module:NAME`` names a callable

    NAME(experiment: collapsecheck.Experiment, record) -> collapsecheck.trajectories.Trajectories

where ``record`` is ``"all"``, ``"final"`` or a list of generation indices to keep
(see :func:`collapsecheck.engines.simulate`, which has this shape). The simulator must
draw its randomness from ``experiment.seed``. Loading it runs its code: name only files
you trust.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

from collapsecheck.errors import InputError

__all__ = ["load_simulator"]


def load_simulator(spec: str):
    """Import and return the callable named by ``spec`` (``FILE.py:NAME`` or
    ``module:NAME``)."""
    target, sep, name = spec.rpartition(":")
    if not sep or not target or not name.isidentifier():
        raise InputError(f"--simulator must look like path/to/file.py:function or "
                         f"package.module:function; got {spec!r}.")
    if target.endswith(".py"):
        path = Path(target)
        if not path.is_file():
            raise InputError(f"--simulator file {target!r} does not exist.")
        module_spec = importlib.util.spec_from_file_location(f"_collapsecheck_sim_{path.stem}",
                                                             path)
        if module_spec is None or module_spec.loader is None:
            raise InputError(f"--simulator file {target!r} cannot be imported.")
        module = importlib.util.module_from_spec(module_spec)
        try:
            module_spec.loader.exec_module(module)
        except Exception as exc:
            raise InputError(f"--simulator file {target!r} failed to import: "
                             f"{type(exc).__name__}: {exc}") from None
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise InputError(f"--simulator module {target!r} cannot be imported: {exc}") from None
    func = getattr(module, name, None)
    if not callable(func):
        raise InputError(f"--simulator: {target!r} has no callable {name!r}.")
    return func
