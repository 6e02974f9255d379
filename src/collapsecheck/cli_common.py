"""What the command line's commands share, whichever module runs them: the stderr console,
one JSON object or a number on stdout, one line on stderr, and the checks of the options
every command names alike (``--workers``, ``--scheduler``).

:mod:`collapsecheck.cli` (the commands' declarations, the entry point) and the families'
command modules (e.g. :mod:`collapsecheck.families.gaussian.cli`) import it; it imports
neither, so a family's commands never import :mod:`collapsecheck.cli`.
"""

from __future__ import annotations

import contextlib
import sys

from rich.console import Console

from collapsecheck.errors import InputError

__all__ = ["err", "fmt", "fmt_p", "print_json", "say", "scheduler_iv", "workers_iv"]

#: Progress, notes, hints: stderr (results go to stdout).
err = Console(stderr=True, highlight=False)


def print_json(record) -> None:
    """``record`` as one JSON object (or array) on stdout
    (:func:`collapsecheck.report.jsonable.dumps`)."""
    from collapsecheck.report.jsonable import dumps

    sys.stdout.write(dumps(record) + "\n")


def fmt(x) -> str:
    """A number to 6 significant digits, ``-`` for a missing one."""
    if x is None:
        return "-"
    return f"{x:.6g}"


def fmt_p(p) -> str:
    """A p-value to 3 significant digits for a table (``--json`` has every digit)."""
    import math

    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "-"
    return f"{p:.3g}"


def say(message: str) -> None:
    """One unwrapped line on stderr, prefixed with the program's name (nothing if stderr
    cannot be written: the exit code still tells)."""
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(f"collapsecheck: {message}\n")
        sys.stderr.flush()


def workers_iv(workers: int) -> int | None:
    """``--workers``: 0 (automatic) becomes None."""
    if workers < 0:
        raise InputError(f"--workers must be 0 (automatic) or more; got {workers}.")
    return workers or None


def scheduler_iv(scheduler: str | None) -> str | None:
    """``--scheduler``: None or ``processes``, ``dask`` or a dask scheduler's address
    (:func:`collapsecheck.engines._blocks.scheduler_iv`); dask must be installed for
    anything but processes."""
    from collapsecheck.engines._blocks import scheduler_iv as check

    try:
        scheduler = check(scheduler)
    except ValueError as exc:
        raise InputError(str(exc).replace("`scheduler`", "--scheduler")) from None
    if scheduler not in (None, "processes"):
        try:
            import dask.distributed  # noqa: F401
        except ImportError:
            raise InputError("--scheduler dask needs dask.distributed; install it with "
                             "pip install 'collapsecheck[dask]'.") from None
    return scheduler
