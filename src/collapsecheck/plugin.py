"""Load a researcher's own simulator, to audit it with the same checks.

``--simulator FILE.py:NAME`` or ``--simulator package.module:NAME`` names a callable

    NAME(experiment: collapsecheck.Experiment, record) -> collapsecheck.trajectories.Trajectories

where ``record`` is ``"all"``, ``"final"`` or a list of generation indices to keep
(see :func:`collapsecheck.engines.simulate`, which has this shape). The simulator must
draw its randomness from ``experiment.seed``. Loading it runs its code: name only files
you trust.

The user's code can neither end the process nor corrupt the output: whatever it raises
while being imported or called (an exception, ``SystemExit`` with any code, a
``KeyboardInterrupt`` it raises itself, any other ``BaseException``) becomes an
:class:`~collapsecheck.errors.InputError` naming it (exit 2), except that a real Ctrl-C
(:func:`collapsecheck.interrupt.sigint_received`) stays an interrupt; and whatever it
prints goes to stderr (:func:`stdout_to_stderr`), so stdout carries only collapsecheck's
own output. ``os._exit`` and signals that kill the process cannot be caught.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from collapsecheck import interrupt
from collapsecheck.errors import InputError

__all__ = ["load_simulator", "simulator_failure", "stdout_to_stderr"]


def _flush_c_stdio() -> None:
    """Flush C-level stdio buffers (a simulator's printf through ctypes or an extension),
    so they reach the file descriptor they were written for."""
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except Exception:  # no C library to ask (some platforms): nothing to flush
        pass


def _flush(stream) -> None:
    with contextlib.suppress(Exception):
        if stream is not None:
            stream.flush()


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send everything written to stdout inside the block to stderr: ``sys.stdout`` and
    file descriptor 1 (so ``os.write(1, ...)`` and C-level writes go there too); both are
    restored when the block ends, however it ends."""
    _flush(sys.stdout)
    _flush(sys.__stdout__)
    _flush_c_stdio()
    saved_stdout = sys.stdout
    saved_fd = None
    try:
        saved_fd = os.dup(1)
    except OSError:  # fd 1 is closed: nothing at the descriptor level to protect
        pass
    if saved_fd is not None:
        try:
            os.dup2(2, 1)
        except OSError:  # fd 2 is closed: leave fd 1 alone
            os.close(saved_fd)
            saved_fd = None
    sys.stdout = sys.stderr
    try:
        yield
    finally:
        try:
            _flush(sys.stdout)
            _flush(sys.__stdout__)
            _flush_c_stdio()
        finally:
            sys.stdout = saved_stdout
            if saved_fd is not None:
                os.dup2(saved_fd, 1)
                os.close(saved_fd)


def _describe(exc: BaseException) -> str:
    """``RuntimeError: oops``, ``SystemExit(0)``, ``KeyboardInterrupt``."""
    if isinstance(exc, SystemExit):
        return f"SystemExit({exc.code!r})"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _advice(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return ("; a simulator must not end the process: return Trajectories, or raise an "
                "exception to report a problem")
    if isinstance(exc, KeyboardInterrupt):
        return " (no Ctrl-C arrived: the code raised it itself)"
    if not isinstance(exc, Exception):
        return "; report a problem with an Exception, not a BaseException"
    return ""


def simulator_failure(what: str, exc: BaseException, when: str = "") -> BaseException:
    """The exception to raise for ``exc`` out of user code: ``exc`` itself (or a
    ``KeyboardInterrupt``) if a real Ctrl-C arrived, whatever the code made of it;
    otherwise an :class:`InputError` that says ``what`` raised what ``when``."""
    if interrupt.sigint_received():
        return exc if isinstance(exc, KeyboardInterrupt) else KeyboardInterrupt()
    return InputError(f"{what} raised {_describe(exc)}{when}{_advice(exc)}.")


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
        # registered while it runs, as an import would (dataclasses and pickle look a
        # module up there); removed again if it fails
        sys.modules[module_spec.name] = module
        try:
            with stdout_to_stderr():
                module_spec.loader.exec_module(module)
        except BaseException as exc:
            sys.modules.pop(module_spec.name, None)
            raise simulator_failure(f"the simulator file {target!r}", exc,
                                    " while being imported") from None
    else:
        try:
            with stdout_to_stderr():
                module = importlib.import_module(target)
        except ModuleNotFoundError as exc:
            if exc.name is None or not (target == exc.name
                                        or target.startswith(exc.name + ".")):
                raise simulator_failure(f"the simulator module {target!r}", exc,
                                        " while being imported") from None
            raise InputError(f"--simulator module {target!r} cannot be imported: {exc}") from None
        except BaseException as exc:
            raise simulator_failure(f"the simulator module {target!r}", exc,
                                    " while being imported") from None
    try:
        func = getattr(module, name, None)
    except BaseException as exc:  # a module-level __getattr__ is user code too
        raise simulator_failure(f"the simulator module {target!r}", exc,
                                f" when asked for {name!r}") from None
    if not callable(func):
        raise InputError(f"--simulator: {target!r} has no callable {name!r}.")
    return func
