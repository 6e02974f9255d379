"""Progress on stderr: elapsed time and an estimate of what remains, never on stdout.

Two shapes, both switched off by ``enabled=False`` (``--json``, ``--no-progress``):

* :func:`progress_bar`, for one run of blocks (``simulate``, ``sweep``): a rich bar on a
  terminal, nothing otherwise.
* :func:`progress_steps`, for a run of named steps (the checks of ``validate``, the runs
  of ``calibrate``): on a terminal a bar for the whole run and one for the step under
  way, each with its elapsed time and an estimate of what remains; elsewhere (a pipe, a
  CI log) one line per step on stderr with the same two times.

The estimate of what remains (:class:`StepClock`) starts from each step's priced time
(:mod:`collapsecheck.costs`, passed as ``estimates``), then is corrected by how the
finished steps compared with their prices on this machine, so a slow or busy machine
is accounted for after the first step.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Callable, Iterator, Sequence

__all__ = ["StepClock", "fmt_clock", "progress_bar", "progress_steps"]


def fmt_clock(seconds: float | None) -> str:
    """``0:07``, ``1:05``, ``1:02:03``; ``?`` when unknown (None, NaN or infinite)."""
    if seconds is None or not math.isfinite(seconds):
        return "?"
    s = max(0, round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class StepClock:
    """Elapsed time and the estimated time left of a run of steps.

    Parameters
    ----------
    estimates : sequence of float, optional
        Priced seconds of each step, in the order the steps run (from
        :mod:`collapsecheck.costs`). Without them, every step is taken as equally long.
    clock : callable, optional
        Seconds since an arbitrary origin (default :func:`time.monotonic`).

    Notes
    -----
    With priced times :math:`e_i`, the run at step :math:`k` having spent :math:`s` seconds
    in it and :math:`W` seconds on steps :math:`0..k-1`, the pace is
    :math:`r = W / \\sum_{i<k} e_i` (1 before any step finished), raised to
    :math:`(W + s) / \\sum_{i \\le k} e_i` when the current step already overran its share.
    What remains is :math:`\\max(r e_k - s, 0) + r \\sum_{i>k} e_i`: the price corrected
    by the measured pace, so an estimate that was 2x too optimistic on this machine is
    corrected after the first step.
    """

    def __init__(self, estimates: Sequence[float] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._estimates = (None if estimates is None else
                           [max(0.0, float(e)) if math.isfinite(e) else 0.0
                            for e in estimates])
        self._clock = clock
        self.start = clock()
        self.index = 0
        self.total = 0
        self.step_start = self.start
        self._done_s = 0.0  # wall seconds of the finished steps

    def advance(self, done: int, total: int) -> None:
        """Step ``done`` (0-based) of ``total`` starts now (``done == total``: finished)."""
        now = self._clock()
        if done != self.index:
            self._done_s = now - self.start
            self.step_start = now
        self.index, self.total = done, total

    def _estimate(self, i: int) -> float:
        if self._estimates is None:
            return 1.0
        return self._estimates[i] if i < len(self._estimates) else 0.0

    def elapsed(self) -> float:
        """Seconds since the run started."""
        return self._clock() - self.start

    def step_elapsed(self) -> float:
        """Seconds since the current step started."""
        return self._clock() - self.step_start

    def step_estimate(self) -> float | None:
        """Estimated seconds of the current step at the pace of the steps before it (None
        if unpriced); the step may overrun it."""
        if self._estimates is None or self.index >= self.total:
            return None
        return self._base_pace() * self._estimate(self.index)

    def _base_pace(self) -> float:
        before = sum(self._estimate(i) for i in range(self.index))
        return self._done_s / before if before > 0 and self._done_s > 0 else 1.0

    def _pace(self, s: float) -> float:
        pace = self._base_pace()
        before = sum(self._estimate(i) for i in range(self.index))
        here = self._estimate(self.index)
        if s > pace * here and before + here > 0:  # the current step overran its share
            pace = (self._done_s + s) / (before + here)
        return pace

    def remaining(self) -> float | None:
        """Estimated seconds left (0 when finished; None before the total is known, or
        when nothing is priced and no step has finished yet)."""
        if self.total <= 0:
            return None
        if self.index >= self.total:
            return 0.0
        if self._estimates is None and self.index == 0:
            return None
        s = self.step_elapsed()
        pace = self._pace(s)
        rest = sum(self._estimate(i) for i in range(self.index + 1, self.total))
        return max(pace * self._estimate(self.index) - s, 0.0) + pace * rest

    def fraction(self) -> float:
        """Share of the run done, by priced time (by steps when unpriced); the current
        step counts by its elapsed time against its estimate, never past 99%."""
        if self.total <= 0:
            return 0.0
        if self.index >= self.total:
            return 1.0
        weights = [self._estimate(i) for i in range(self.total)]
        whole = sum(weights)
        if whole <= 0:
            return self.index / self.total
        step = self.step_estimate() or 0.0
        inside = min(self.step_elapsed() / step, 0.99) if step > 0 else 0.0
        return (sum(weights[:self.index]) + inside * weights[self.index]) / whole


@contextlib.contextmanager
def progress_bar(label: str, *, enabled: bool = True, estimate: float | None = None
                 ) -> Iterator[Callable[[int, int], None]]:
    """Yield ``advance(done, total)`` for a run of blocks; draws a rich bar on stderr
    only when ``enabled`` and stderr is a terminal (so ``--json``, pipes, CI logs and
    ``--no-progress`` stay clean), with the blocks done once their number is known,
    the elapsed time and an estimate of what remains (from the blocks' pace, or
    ``estimate``, the priced seconds, before the first block ends)."""
    if not (enabled and sys.stderr.isatty()):
        yield lambda done, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn
    from rich.table import Column
    from rich.text import Text

    start = time.monotonic()

    class _Times(ProgressColumn):
        def render(self, task) -> Text:
            elapsed = time.monotonic() - start
            done, total = task.completed, task.total
            if total and done >= total:
                left = 0.0
            elif total and done > 0:
                left = elapsed * (total - done) / done
            elif estimate is not None:
                left = max(estimate - elapsed, 0.0)
            else:
                left = None
            return Text(f"{fmt_clock(elapsed)} elapsed, about {fmt_clock(left)} left")

    class _Blocks(ProgressColumn):
        def render(self, task) -> Text:
            if task.total is None:
                return Text("starting")
            return Text(f"{int(task.completed)}/{int(task.total)} blocks")

    with Progress(TextColumn("{task.description}"), BarColumn(bar_width=24),
                  _Blocks(table_column=Column(no_wrap=True)),
                  _Times(table_column=Column(no_wrap=True)),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


@contextlib.contextmanager
def progress_steps(label: str, *, enabled: bool = True,
                   estimates: Sequence[float] | None = None,
                   clock: Callable[[], float] = time.monotonic,
                   ) -> Iterator[Callable[[str, int, int], None]]:
    """Yield ``step(name, done, total)``: step ``done`` (0-based) of ``total``, named
    ``name``, starts now (``done == total``: the run ended).

    On a terminal (stderr), a rich bar for the whole run (the steps done, elapsed, about
    how long is left) and one for the step under way (its elapsed time against its
    estimate); otherwise one line per step on stderr, ``[k/N] name (0:12 elapsed, about
    0:40 left)``, so long CI runs show where they are and how far they have to go.
    ``estimates``: each step's priced seconds (see :class:`StepClock`); nothing is shown
    when not ``enabled``."""
    if not enabled:
        yield lambda name, done, total: None
        return
    tracker = StepClock(estimates, clock)
    if not sys.stderr.isatty():
        def line(name: str, done: int, total: int) -> None:
            tracker.advance(done, total)
            if done < total:
                sys.stderr.write(f"[{done + 1}/{total}] {name} ({fmt_clock(tracker.elapsed())}"
                                 f" elapsed, about {fmt_clock(tracker.remaining())} left)\n")
                sys.stderr.flush()

        yield line
        return
    from rich.console import Console
    from rich.progress import Progress, ProgressColumn, TextColumn
    from rich.progress_bar import ProgressBar
    from rich.table import Column
    from rich.text import Text

    class _Bar(ProgressColumn):
        def render(self, task) -> ProgressBar:
            if task.fields.get("whole"):
                share = tracker.fraction()
            else:
                est = tracker.step_estimate()
                share = min(tracker.step_elapsed() / est, 0.99) if est else None
            return ProgressBar(total=None if share is None else 1.0,
                               completed=share or 0.0, width=30,
                               pulse=share is None, animation_time=task.get_time())

    class _Times(ProgressColumn):
        def render(self, task) -> Text:
            if task.fields.get("whole"):
                return Text(f"{fmt_clock(tracker.elapsed())} elapsed, about "
                            f"{fmt_clock(tracker.remaining())} left")
            est, spent = tracker.step_estimate(), tracker.step_elapsed()
            if est is None:
                return Text(f"{fmt_clock(spent)} elapsed")
            if spent > est + 0.5:
                return Text(f"{fmt_clock(spent)}, over the {fmt_clock(est)} expected")
            return Text(f"{fmt_clock(spent)} of about {fmt_clock(est)}")

    header = {"text": label}

    class _Steps(Progress):
        def get_renderables(self):
            yield Text(header["text"], no_wrap=True, overflow="ellipsis")
            yield self.make_tasks_table(self.tasks)

    with _Steps(TextColumn("{task.description}", table_column=Column(no_wrap=True)), _Bar(),
                _Times(table_column=Column(no_wrap=True)), console=Console(stderr=True),
                transient=True) as bar:
        bar.add_task("  all", total=None, whole=True)
        bar.add_task("  step", total=None, whole=False)

        def step(name: str, done: int, total: int) -> None:
            tracker.advance(done, total)
            header["text"] = f"{label} [{min(done + 1, total)}/{total}] {name}"
            bar.refresh()

        yield step
