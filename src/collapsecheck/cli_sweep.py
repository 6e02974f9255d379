"""``collapsecheck sweep``: the drift of log sigma^2 at several n and its scaling law.

Registered in :mod:`collapsecheck.cli` with ``app.command(name="sweep")(sweep_command)``.
This module does not import :mod:`collapsecheck.cli` at import time (the CLI imports it),
only inside the command.
"""

from __future__ import annotations

import dataclasses
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from collapsecheck.errors import InputError

__all__ = ["sweep_command"]

#: Library parameter -> CLI option, for messages.
_OPTIONS = {"ns": "--n", "n": "--n", "ddof": "--ddof", "generations": "--generations",
            "replicates": "--replicates", "seed": "--seed", "engine": "--engine",
            "workers": "--workers", "alpha": "--alpha", "sigma0": "--sigma0",
            "simulator": "--simulator"}


def _as_option(message: str) -> str:
    for name, option in _OPTIONS.items():
        message = message.replace(f"`{name}`", option)
    return message.replace("min(ns)", "min(--n)")


def _nonempty_path(value: str) -> Path:
    if not str(value).strip():
        raise typer.BadParameter("it is empty; give a folder name")
    return Path(value)


def _reproduce(ns, ddof, generations, replicates, seed, engine, alpha, simulator, out) -> str:
    parts = ["collapsecheck", "sweep"]
    for n in ns:
        parts += ["--n", str(n)]
    parts += ["--ddof", f"{ddof:g}", "--generations", str(generations), "--replicates",
              str(replicates), "--seed", str(seed), "--engine", engine, "--alpha", f"{alpha:g}"]
    if simulator is not None:
        parts += ["--simulator", simulator]
    if out is not None:
        parts += ["--out", str(out)]
    return shlex.join(parts)


def _price(ns, generations, replicates, engine, workers, allow_long) -> None:
    """Refuse a sweep that cannot fit in memory, or (without --allow-long) one estimated
    to take over an hour; announce a long one on stderr."""
    from collapsecheck.costs import LONG_S, NOTICE_S, fmt_seconds
    from collapsecheck.resources import available_cores, require_memory
    from collapsecheck.sweep import sweep_cost

    cores = min(workers, available_cores()) if workers else available_cores()
    cost = sweep_cost(ns, generations, replicates, engine, cores)
    require_memory(cost.bytes, f"a sweep with --replicates {replicates} and --generations "
                   f"{generations}", "lower --replicates or --generations")
    if cost.seconds > LONG_S and not allow_long:
        raise InputError(f"this sweep is estimated to take {fmt_seconds(cost.seconds)} "
                         f"({cost.draws:.2g} draws on the {engine} engine); lower --replicates "
                         "or --generations, or pass --allow-long.")
    if cost.seconds > NOTICE_S:
        sys.stderr.write(f"collapsecheck: estimated {fmt_seconds(cost.seconds)} "
                         f"({cost.draws:.2g} draws on the {engine} engine); Ctrl-C stops it\n")


def _print_table(result) -> None:
    from rich.console import Console

    from collapsecheck.cli_tables import compact_table, print_table, value_column
    from collapsecheck.report._format import fmt_num

    table = compact_table(f"Drift of log σ² against n (ddof {result.ddof:g}, "
                          f"{result.generations} generations, {result.replicates} "
                          f"replicates, seed {result.seed})")
    for name in ("n", "exact", "measured", "95% CI", "|exact|/SE", "p", "verdict"):
        value_column(table, name, justify="left" if name == "verdict" else "right")
    for p in result.points:
        ci = p.confidence_interval()
        table.add_row(str(p.n), fmt_num(p.exact_drift), fmt_num(p.estimate),
                      f"[{fmt_num(ci.low)}, {fmt_num(ci.high)}]", fmt_num(p.signal),
                      fmt_num(p.pvalue), p.verdict)
    console = Console()
    print_table(table, console)
    e = result.exponent
    if e.measured:
        ci = e.confidence_interval()
        console.print(f"exponent {fmt_num(e.estimate)} (95% CI [{fmt_num(ci.low)}, "
                      f"{fmt_num(ci.high)}]) against the exact {fmt_num(e.exact)} of this design "
                      f"(design-weighted {fmt_num(e.exact_weighted)}, large-n limit -1): "
                      f"z={fmt_num(e.statistic)}, p={fmt_num(e.pvalue)}, alpha={fmt_num(e.alpha)}"
                      f" -> {e.verdict}", markup=False, highlight=False)
    else:
        console.print(f"exponent: {e.verdict}: {e.note}", markup=False, highlight=False)
    console.print(f"verdict {result.verdict}", markup=False, highlight=False)


def sweep_command(
    n: Annotated[
        list[int] | None,
        typer.Option("--n", help="Sample sizes (repeat, at least 3 distinct: --n 10 --n 30 "
                     "--n 100)."),
    ] = None,
    ddof: Annotated[
        float, typer.Option("--ddof", help="Variance divisor is n - ddof (0 <= ddof < min n).")
    ] = 0.0,
    generations: Annotated[
        int, typer.Option("--generations", help="Generations T per chain (>= 2).")
    ] = 100,
    replicates: Annotated[
        int, typer.Option("--replicates", help="Independent chains per n (>= 20).")
    ] = 1000,
    seed: Annotated[
        int | None,
        typer.Option("--seed", help="SeedSequence entropy (>= 0); omitted: fresh, and reported."),
    ] = None,
    engine: Annotated[
        str, typer.Option("--engine", help="samples (every draw) or sufficient (exact fit law).")
    ] = "sufficient",
    workers: Annotated[
        int, typer.Option("--workers", help="Processes; 0 = automatic. Results do not depend "
                          "on it.")
    ] = 0,
    alpha: Annotated[
        float, typer.Option("--alpha", help="Family-wise level: alpha/2 for the exponent test, "
                            "alpha/2 for Holm over the points.")
    ] = 1e-3,
    simulator: Annotated[
        str | None,
        typer.Option("--simulator", help="Sweep your own simulator: FILE.py:FUNC or "
                     "module:FUNC."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", parser=_nonempty_path,
                     help="Folder for sweep.json, sweep.md, sweep.html and junit.xml."),
    ] = None,
    json_: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of a table.")
    ] = False,
    no_progress: Annotated[
        bool, typer.Option("--no-progress", help="Do not show a progress bar.")
    ] = False,
    allow_long: Annotated[
        bool, typer.Option("--allow-long", help="Run a sweep estimated to take over an hour.")
    ] = False,
) -> int:
    """The drift of log sigma^2 at each --n beside exact theory, and its scaling exponent
    tested against the exact exponent of the same design; exit 1 when a test fails."""
    from collapsecheck.cli import ExitCode
    from collapsecheck.progress import progress_bar
    from collapsecheck.sweep import _sweep_iv, sweep

    if not n:
        raise InputError("sweep needs at least 3 distinct --n (repeat it: --n 10 --n 30 "
                         "--n 100).")
    nworkers = workers or None
    try:
        ns = _sweep_iv(n, ddof, generations, replicates, seed, engine, nworkers, alpha, None)
        from collapsecheck.engines import _overflow_iv
        from collapsecheck.experiment import Experiment

        for v in ns:  # the Experiment limits and the overflow envelope, before anything runs
            _overflow_iv(Experiment(n=v, generations=generations, replicates=replicates,
                                    ddof=ddof, seed=0))
    except (TypeError, ValueError) as exc:
        raise InputError(_as_option(str(exc))) from None
    sim = None
    if simulator is not None:
        from collapsecheck.plugin import load_simulator
        from collapsecheck.validate import guarded

        sim = guarded(load_simulator(simulator))  # its failures are the user's, told as such
    _price(ns, generations, replicates, engine, nworkers, allow_long)
    if out is not None:
        from collapsecheck.io import ensure_directory

        ensure_directory(out)
    with progress_bar("sweeping n", enabled=not (json_ or no_progress)) as advance:
        try:
            result = sweep(ns, ddof, generations, replicates, seed, engine, nworkers,
                           alpha=alpha, simulator=sim, progress=advance)
        except (TypeError, ValueError) as exc:
            if isinstance(exc, InputError):
                raise
            if sim is None:  # the built-in engines: a refusal of the design
                raise InputError(_as_option(str(exc))) from None
            raise
    if simulator is not None:
        result = dataclasses.replace(result, simulator=simulator)
    command = _reproduce(ns, ddof, generations, replicates, result.seed, engine, alpha,
                         simulator, out)
    if out is not None:
        from collapsecheck.report.sweep import write_sweep_reports

        written = write_sweep_reports(result, out, command)
        sys.stderr.write(f"collapsecheck: sweep reports written to {out}: "
                         f"{', '.join(p.name for p in written.values())}\n")
    if json_:
        from collapsecheck.report.sweep import render_sweep_json

        sys.stdout.write(render_sweep_json(result, command))
    else:
        _print_table(result)
    return ExitCode.CHECK_FAILED if result.failed else ExitCode.OK
