"""Ctrl-C: tell a real SIGINT from a KeyboardInterrupt that code raised itself, and let
long loops stop promptly.

The command line (:func:`collapsecheck.cli.main`) installs :func:`sigint_handler` for
the length of a run. The handler records that a SIGINT arrived, sets :data:`CANCEL` and
raises :class:`KeyboardInterrupt` as Python's default handler does. So

* a ``KeyboardInterrupt`` out of a user's simulator is a real Ctrl-C only when
  :func:`sigint_received` is true (otherwise the simulator raised it itself, and that is
  its fault, exit 2), and
* loops that run outside the main thread (engine blocks in worker threads), which never
  see the ``KeyboardInterrupt``, call :func:`check_cancelled` between bounded pieces of
  work and stop.

Outside the command line nothing is installed: :func:`sigint_received` stays false and
:data:`CANCEL` is only set by whoever sets it.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

__all__ = ["CANCEL", "check_cancelled", "clear", "sigint_handler", "sigint_received"]

#: Set by the SIGINT handler (and by anyone who wants running engine loops to stop).
CANCEL = threading.Event()

_SIGINT = threading.Event()


def sigint_received() -> bool:
    """True once a SIGINT arrived while :func:`sigint_handler` was installed (until
    :func:`clear`)."""
    return _SIGINT.is_set()


def check_cancelled() -> None:
    """Raise :class:`KeyboardInterrupt` if :data:`CANCEL` is set."""
    if CANCEL.is_set():
        raise KeyboardInterrupt


def clear() -> None:
    """Forget an earlier SIGINT and cancellation (the start of a new run)."""
    _SIGINT.clear()
    CANCEL.clear()


def _on_sigint(signum, frame) -> None:
    _SIGINT.set()
    CANCEL.set()
    raise KeyboardInterrupt


@contextlib.contextmanager
def sigint_handler() -> Iterator[None]:
    """Install the recording SIGINT handler for the ``with`` block, then restore the
    previous one. Nothing is installed off the main thread (Python runs signal handlers
    only there) or where SIGINT is ignored (``nohup``, a background job), which stays
    ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous == signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGINT, _on_sigint)
    try:
        yield
    finally:
        # previous is None when the handler was not installed from Python
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)
