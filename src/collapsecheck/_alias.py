"""Historical module paths kept working after a module moved.

A module that moved (e.g. ``collapsecheck.trajectories`` to
:mod:`collapsecheck.families.gaussian.records`) leaves at its old path a file that calls
:func:`alias`: the old name then names the very same module object as the new one, in
``sys.modules`` and as an attribute of the old parent package. So ``import old``,
``from old import X``, ``from parent import old``, monkeypatching ``old.X`` (it patches
the module the code runs in) and pickles that name the old path all keep working, and no
module is ever loaded twice under two names (two copies of a class would not compare
equal).

A name that moved out of a module that stays (``collapsecheck.summary.summarize``, now the
Gaussian family's) is served there by the module-level ``__getattr__`` and ``__dir__``
that :func:`served_names` makes: looked up in the module it moved to, imported when first
asked for.
"""

from __future__ import annotations

import importlib
import runpy
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

__all__ = ["alias", "served_names"]


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


def served_names(namespace: dict[str, Any], source: Callable[[], ModuleType]
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module's ``__getattr__`` and ``__dir__`` serving the names of another module.

    Parameters
    ----------
    namespace : the serving module's ``globals()``; its own names come first.
    source : returns the module the names live in now (it imports it: called only when
        a name the serving module lacks is asked for, or by ``dir()``).

    Returns
    -------
    ``(__getattr__, __dir__)``, to bind at the serving module's top level: any public or
    private name of ``source()`` (dunder names excepted) is found at the old path, as the
    same object; anything else is an :class:`AttributeError` naming the serving module.
    """
    def __getattr__(name: str) -> Any:
        if not name.startswith("__"):
            module = source()
            if hasattr(module, name):
                return getattr(module, name)
        raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted({*namespace, *(k for k in vars(source()) if not k.startswith("__"))})

    return __getattr__, __dir__
