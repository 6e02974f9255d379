"""Historical module paths kept working after a module moved.

A module that moved (e.g. ``collapsecheck.trajectories`` to
:mod:`collapsecheck.families.gaussian.records`) leaves at its old path a file that calls
:func:`alias`: the old name then names the very same module object as the new one, in
``sys.modules`` and as an attribute of the old parent package. So ``import old``,
``from old import X``, ``from parent import old``, monkeypatching ``old.X`` (it patches
the module the code runs in) and pickles that name the old path all keep working, and no
module is ever loaded twice under two names (two copies of a class would not compare
equal).
"""

from __future__ import annotations

import importlib
import runpy
import sys
from types import ModuleType

__all__ = ["alias"]


def alias(old: str, new: str, submodules: tuple[str, ...] = ()) -> ModuleType | None:
    """Make module name ``old`` (the caller's ``__name__``) stand for module ``new``.

    Parameters
    ----------
    old : the caller's ``__name__``: its historical dotted path, or ``"__main__"`` when
        run with ``python -m``, which then runs ``new`` as the main module instead.
    new : the dotted path the module lives at now.
    submodules : for a package, its submodules' names; each ``old.sub`` is registered as
        ``new.sub`` too (the import system would otherwise look them up under ``new``'s
        directory by the old name and load a second copy).

    Returns
    -------
    The module ``new`` (None when run as ``__main__``).
    """
    if old == "__main__":
        runpy.run_module(new, run_name="__main__", alter_sys=True)
        return None
    module = importlib.import_module(new)
    sys.modules[old] = module
    for sub in submodules:
        sys.modules[f"{old}.{sub}"] = importlib.import_module(f"{new}.{sub}")
    return module
