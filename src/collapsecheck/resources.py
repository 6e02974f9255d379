"""What this machine can give a run: a memory budget, the cores, and a refusal that says
so before anything is allocated.

Every command that could be asked for more than the machine holds (a small compressed
file that expands to gigabytes, a profile whose checks record more than memory holds)
compares its estimated peak with :func:`memory_budget` and refuses with
:class:`ResourceError` (a user error: exit 2, one line) instead of running the machine
out of memory.

The budget is half of the memory the kernel reports as available when the command starts
(``MemAvailable`` in ``/proc/meminfo``; the physical memory elsewhere), or the number of
bytes in the environment variable ``COLLAPSECHECK_MEMORY_BUDGET`` (``4e9``, ``512M``,
``2G`` are accepted), which overrides it.
"""

from __future__ import annotations

import os
import re

from collapsecheck.errors import InputError

__all__ = ["MEMORY_ENV", "ResourceError", "available_cores", "fmt_bytes", "memory_budget",
           "require_memory"]

#: Environment variable that sets the memory budget in bytes (overriding the default).
MEMORY_ENV = "COLLAPSECHECK_MEMORY_BUDGET"

_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


class ResourceError(InputError):
    """A design or file would need more memory (or time) than the run may use."""


def _parse_bytes(text: str) -> int:
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([KMGT]?)i?B?\s*", text,
                     re.IGNORECASE)
    if not m:
        raise InputError(f"{MEMORY_ENV}={text!r} is not a number of bytes; write e.g. 4e9 or "
                         "4G.")
    value = float(m.group(1)) * _UNITS[m.group(2).upper()]
    if not value >= 1 << 20:
        raise InputError(f"{MEMORY_ENV}={text!r} is under 1 MiB; give a realistic budget.")
    return int(value)


def _available_bytes() -> int:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):  # pragma: no cover - exotic platforms
        return 8 << 30


def memory_budget() -> int:
    """Bytes one command may plan to allocate: ``$COLLAPSECHECK_MEMORY_BUDGET`` if set,
    else half of the memory available now."""
    env = os.environ.get(MEMORY_ENV)
    if env:
        return _parse_bytes(env)
    return _available_bytes() // 2


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)  # pragma: no cover - platforms without affinity


def fmt_bytes(n: float) -> str:
    """``1.5 GiB``-style size for messages."""
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} bytes"


def require_memory(need: float, what: str, fix: str) -> None:
    """Raise :class:`ResourceError` when ``need`` bytes exceed :func:`memory_budget`.
    ``what`` names the thing that needs it, ``fix`` how to make it smaller."""
    budget = memory_budget()
    if need > budget:
        source = (f"set by {MEMORY_ENV}" if os.environ.get(MEMORY_ENV)
                  else f"half the memory available; set {MEMORY_ENV} to change it")
        raise ResourceError(f"{what} would need about {fmt_bytes(need)} of memory, over this "
                            f"run's budget of {fmt_bytes(budget)} ({source}); {fix}.")
