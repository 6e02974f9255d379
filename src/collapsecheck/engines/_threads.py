"""Library thread pools held to one thread while engine blocks run.

The engines run blocks of replicates on workers of their own (threads, processes or
dask workers), one core each. A BLAS or OpenMP library that started threads of its own
inside a block would compete with the other workers for the same cores behind their
backs, so every group of blocks runs inside :func:`one_thread_per_worker`.

threadpoolctl acts on libraries, not on threads, and how far a limit reaches depends on
the library: OpenBLAS on its pthreads layer (numpy's wheels), MKL and BLIS keep one
process-wide pool, while OpenMP runtimes, and OpenBLAS on its OpenMP layer, keep a limit
per calling thread. The limit is therefore taken in two parts:

* **process-wide pools, reference-counted**: the first group to start in a process
  limits them and the last to finish restores what was there before, however many
  worker threads run groups in between (a context manager per thread would let the first
  thread to finish lift the limit under the others still running);
* **per-thread pools**: each thread limits its own and restores it when its group ends.

Both use a cached controller (rebuilt only when modules have been imported since, as a
new extension may have loaded a new library), so entering and leaving costs some tens of
microseconds, not the milliseconds of a fresh scan of the loaded libraries.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator

__all__ = ["one_thread_per_worker"]

_lock = threading.Lock()
_depth = 0  # groups running in this process
_shared_limiter = None  # the process-wide limit while _depth > 0
_own_cache: list = [None, -1]  # (controller, len(sys.modules)) without threadpoolctl's cache


def _reset_in_child() -> None:
    # A forked child holds only the forking thread, which runs no group yet.
    global _lock, _depth, _shared_limiter
    _lock, _depth, _shared_limiter = threading.Lock(), 0, None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_in_child)


def _controller():
    import threadpoolctl

    cached = getattr(threadpoolctl, "get_cached_controller", None)
    if cached is not None:
        return cached()
    if _own_cache[0] is None or _own_cache[1] != len(sys.modules):
        _own_cache[:] = [threadpoolctl.ThreadpoolController(), len(sys.modules)]
    return _own_cache[0]


def _per_thread(lib) -> bool:
    return lib.user_api == "openmp" or (
        lib.internal_api == "openblas" and getattr(lib, "threading_layer", None) == "openmp")


def _split(controller):
    """``(process-wide, per-thread)`` sub-controllers of ``controller``."""
    libs = controller.lib_controllers
    shared = [lib.filepath for lib in libs if not _per_thread(lib)]
    local = [lib.filepath for lib in libs if _per_thread(lib)]
    return controller.select(filepath=shared), controller.select(filepath=local)


def _release_openblas_control() -> None:
    """threadpoolctl lets one thread at a time set a process-wide OpenBLAS pool (calls
    from other threads are ignored); the first and the last group of a run may end in
    different threads, so control is released around every change made here."""
    import threadpoolctl

    clear = getattr(getattr(threadpoolctl, "OpenBLASController", None),
                    "clear_controlling_thread", None)
    if clear is not None:
        clear(force=True)


@contextlib.contextmanager
def one_thread_per_worker() -> Iterator[None]:
    """Hold every BLAS and OpenMP pool of this process to one thread while the block
    runs; restore the previous limits when the last running group ends."""
    global _depth, _shared_limiter
    with _lock:
        shared, local = _split(_controller())
        if _depth == 0:
            _release_openblas_control()
            _shared_limiter = shared.limit(limits=1)
            _release_openblas_control()
        _depth += 1
    try:
        thread_limiter = local.limit(limits=1) if local.lib_controllers else None
        try:
            yield
        finally:
            if thread_limiter is not None:
                thread_limiter.restore_original_limits()
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _release_openblas_control()
                _shared_limiter.restore_original_limits()
                _release_openblas_control()
                _shared_limiter = None
