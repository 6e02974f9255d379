"""A progress bar on stderr that switches itself off when nobody is watching."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

__all__ = ["progress_bar", "progress_steps"]


@contextlib.contextmanager
def progress_bar(label: str, *, enabled: bool = True) -> Iterator[Callable[[int, int], None]]:
    """Yield ``advance(done, total)``; draws a rich bar on stderr only when ``enabled``
    and stderr is a terminal (so ``--json``, pipes, CI logs and ``--no-progress`` stay
    clean)."""
    if not (enabled and sys.stderr.isatty()):
        yield lambda done, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total} blocks"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


@contextlib.contextmanager
def progress_steps(label: str, *, enabled: bool = True
                   ) -> Iterator[Callable[[str, int, int], None]]:
    """Yield ``step(name, done, total)`` for a run of named steps; a rich bar on stderr
    when ``enabled`` and stderr is a terminal, otherwise one line per step on stderr
    (so long CI runs show where they are)."""
    if not enabled:
        yield lambda name, done, total: None
        return
    if not sys.stderr.isatty():
        def line(name: str, done: int, total: int) -> None:
            if done < total:
                sys.stderr.write(f"[{done + 1}/{total}] {name}\n")
                sys.stderr.flush()

        yield line
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn(label), BarColumn(), TextColumn("{task.description}"),
                  TimeElapsedColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("", total=None)

        def step(name: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=name)

        yield step
