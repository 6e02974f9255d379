"""The ``collapsecheck`` command: parse, call the library, print, set the exit code.

Results go to stdout (a table, or one JSON object with ``--json``); progress, hints and
errors go to stderr. Exit codes are :class:`ExitCode`.
"""

from __future__ import annotations

import contextlib
import enum
import errno
import os
import re
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from collapsecheck import __version__
from collapsecheck.cli_common import err as _err
from collapsecheck.cli_common import fmt as _fmt
from collapsecheck.cli_common import fmt_p as _fmt_p
from collapsecheck.cli_common import print_json as _print_json
from collapsecheck.cli_common import say as _say
from collapsecheck.cli_common import scheduler_iv as _scheduler_iv
from collapsecheck.cli_common import workers_iv as _workers_iv
from collapsecheck.cli_families import family_command
from collapsecheck.errors import InputError
from collapsecheck.families import specs

__all__ = ["ExitCode", "app", "main"]


class ExitCode(enum.IntEnum):
    """Process exit codes (see README, "Exit codes")."""

    OK = 0  #: every check passed (or nothing was checked)
    CHECK_FAILED = 1  #: a check ended FAIL
    USAGE = 2  #: bad parameter, file, profile or output path
    INTERNAL = 70  #: a bug in collapsecheck (EX_SOFTWARE); please report it
    INTERRUPTED = 130  #: Ctrl-C


app = typer.Typer(
    name="collapsecheck",
    help=("Verify model collapse (Gaussian, token and multivariate refit chains) against "
          "exact theory."),
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

#: The defaults of the options ``theory``, ``simulate`` and ``audit`` declare: the native
#: family's (``FamilySpec.defaults``; the Gaussian family's are the article's experiment).
ARTICLE = next(s for s in specs() if s.native).defaults

# ---------------------------------------------------------------------------------------
# Shared options (DESIGN.md: the same names in every command)
# ---------------------------------------------------------------------------------------

N = Annotated[int, typer.Option("--n", help="Sample size per generation (n >= 2).")]
Generations = Annotated[int, typer.Option("--generations", help="Generations T (>= 0).")]
Replicates = Annotated[int, typer.Option("--replicates", help="Independent chains (>= 1).")]
Ddof = Annotated[
    float, typer.Option("--ddof", help="Variance divisor is n - ddof (0 <= ddof < n).")
]
Mu0 = Annotated[float, typer.Option("--mu0", help="Starting mean.")]
Sigma0 = Annotated[float, typer.Option("--sigma0", help="Starting standard deviation (> 0).")]
Seed = Annotated[
    int | None,
    typer.Option("--seed", help="SeedSequence entropy (>= 0); omitted: fresh, and reported."),
]
ProfileSeed = Annotated[
    int | None,
    typer.Option("--seed", help="SeedSequence entropy (>= 0) in place of the profile's; "
                 "omitted: the profile's own fixed seed, so a run repeats exactly."),
]
EngineOpt = Annotated[
    str, typer.Option("--engine", help="samples (every draw) or sufficient (exact fit law).")
]
Workers = Annotated[
    int, typer.Option("--workers", help="Processes; 0 = automatic. Results do not depend on it.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")]
SchedulerOpt = Annotated[
    str | None,
    typer.Option("--scheduler", help="processes (default), dask (a local dask cluster) or the "
                 "address of a dask scheduler, tcp://host:8786. Results do not depend on it."),
]
RegimeOpt = Annotated[
    str, typer.Option("--regime", help="What each generation fits: replace (the n new draws), "
                      "accumulate (all draws so far), accumulate-subsample (n of them) or mix.")
]
FreshFraction = Annotated[
    float | None,
    typer.Option("--fresh-fraction", help="mix: the share L of each generation's draws taken "
                 "from the original N(mu0, sigma0^2), in [0, 1]."),
]
NGrowth = Annotated[
    float, typer.Option("--n-growth", help="Generation t >= 1 draws ceil(n t^P) values (P >= 0).")
]
Temperature = Annotated[
    float, typer.Option("--temperature", help="The model samples N(mu, (tau sigma)^2) (tau > 0).")
]
Truncate = Annotated[
    float | None,
    typer.Option("--truncate", help="The model samples N(mu, (tau sigma)^2) conditioned on "
                 "|x - mu| <= C tau sigma (C > 0; not clipped)."),
]
NoProgress = Annotated[bool, typer.Option("--no-progress", help="Do not show a progress bar.")]
AllowLong = Annotated[
    bool,
    typer.Option("--allow-long", help="Run a design estimated to take over an hour (a design "
                 "that cannot fit in memory is refused all the same)."),
]


def _engine_iv(engine: str) -> str:
    """``validate --engine``: an engine some family runs (``FamilySpec.engines``)."""
    engines = {name for s in specs() for name in s.engines}
    if engine not in engines:
        raise InputError(f"--engine must be one of {', '.join(sorted(engines))}; got {engine!r}.")
    return engine


# ---------------------------------------------------------------------------------------
# theory
# ---------------------------------------------------------------------------------------


@app.command()
@family_command("theory")
def theory(
    n: N = ARTICLE["n"],
    generations: Generations = ARTICLE["generations"],
    ddof: Ddof = ARTICLE["ddof"],
    mu0: Mu0 = ARTICLE["mu0"],
    sigma0: Sigma0 = ARTICLE["sigma0"],
    regime: RegimeOpt = "replace",
    fresh_fraction: FreshFraction = None,
    n_growth: NGrowth = 0.0,
    temperature: Temperature = 1.0,
    truncate: Truncate = None,
    json_: JsonOpt = False,
) -> int:
    """Exact predictions for the chain: per-generation drift and the law at generation T
    (for every regime; a number a regime's theory cannot give exactly is shown as "-")."""


# ---------------------------------------------------------------------------------------
# simulate
# ---------------------------------------------------------------------------------------


def _out_path(value: str) -> Path:
    """Parse --out: an empty value is refused (``Path('')`` would be the current folder)."""
    if not str(value).strip():
        raise typer.BadParameter("it is empty; give a file or folder name")
    return Path(value)


@app.command()
@family_command("simulate")
def simulate(
    n: N = ARTICLE["n"],
    generations: Generations = ARTICLE["generations"],
    replicates: Replicates = ARTICLE["replicates"],
    ddof: Ddof = ARTICLE["ddof"],
    mu0: Mu0 = ARTICLE["mu0"],
    sigma0: Sigma0 = ARTICLE["sigma0"],
    seed: Seed = None,
    engine: EngineOpt = "sufficient",
    workers: Workers = 0,
    json_: JsonOpt = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", parser=_out_path,
                     help="Save every generation to FILE.csv or FILE.npz."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out file.")] = False,
    scheduler: SchedulerOpt = None,
    no_progress: NoProgress = False,
    regime: RegimeOpt = "replace",
    fresh_fraction: FreshFraction = None,
    n_growth: NGrowth = 0.0,
    temperature: Temperature = 1.0,
    truncate: Truncate = None,
) -> int:
    """Run the chain and compare its final generation with exact theory (a long run prints
    its estimated time first; only a design that cannot fit in memory or on disk is
    refused)."""


# ---------------------------------------------------------------------------------------
# validate
# ---------------------------------------------------------------------------------------


def _alone(ctx: typer.Context, option: str) -> None:
    """Refuse every other option given explicitly together with ``option`` (which ignores
    them), naming them."""
    given = []
    for param in ctx.command.params:
        source = ctx.get_parameter_source(param.name)
        if param.opts and param.opts[0] != option and source is not None and \
                source.name not in ("DEFAULT", "DEFAULT_MAP"):
            given.append(param.opts[0])
    if given:
        raise InputError(f"{option} prints the profiles and check types and takes no other "
                         f"option; drop {', '.join(given)}.")


@app.command()
def validate(
    ctx: typer.Context,
    profile: Annotated[
        str, typer.Option("--profile", help="Profile name (see --list) or path to a .toml file.")
    ] = "ci",
    out: Annotated[
        Path | None, typer.Option("--out", parser=_out_path,
                                  help="Folder for report.json/.md/.html and junit.xml.")
    ] = None,
    seed: ProfileSeed = None,
    engine: Annotated[
        str | None, typer.Option("--engine", help="Run every check on this engine instead.")
    ] = None,
    workers: Workers = 0,
    json_: JsonOpt = False,
    simulator: Annotated[
        str | None,
        typer.Option("--simulator", help="Audit your own simulator: FILE.py:FUNC or module:FUNC."),
    ] = None,
    scheduler: SchedulerOpt = None,
    list_: Annotated[bool, typer.Option("--list", help="List profiles and check types.")] = False,
    no_progress: NoProgress = False,
    allow_long: AllowLong = False,
    controls: Annotated[
        list[str] | None,
        typer.Option("--controls", help="Positive controls: also run these mutants (NAME[,NAME"
                     "...], repeatable, or 'all'; see `collapsecheck mutants`) through every "
                     "check; each must FAIL, and one that does not fails the run."),
    ] = None,
) -> int:
    """Run a profile of checks and the article's claims; write reports; exit 1 on FAIL."""
    from collapsecheck.profiles import load_profile
    from collapsecheck.validate import control_names

    if list_:
        _alone(ctx, "--list")
        _print_listing()
        return ExitCode.OK
    if seed is not None and seed < 0:
        raise InputError(f"--seed must be a whole number >= 0; got {seed}.")
    control_list = control_names(controls or ())
    if controls is not None and not control_list:
        raise InputError("--controls needs a mutant name or 'all' (see `collapsecheck "
                         "mutants`).")
    if engine is not None:
        _engine_iv(engine)
    nworkers = _workers_iv(workers)
    scheduler = _scheduler_iv(scheduler)
    prof = load_profile(profile, allow_long=allow_long)
    sim = None
    if simulator is not None:
        from collapsecheck.plugin import load_simulator

        sim = load_simulator(simulator)
    if out is not None:
        from collapsecheck.io import ensure_directory

        ensure_directory(out)
    report = _run_validation(prof, profile, out, seed, engine, nworkers, json_ or no_progress,
                             sim, simulator, scheduler, allow_long=allow_long,
                             controls=control_list)
    if out is not None:
        from collapsecheck.report.write import write_reports

        written = write_reports(report, out)
        _err.print(f"reports written to {out}: {', '.join(p.name for p in written.values())}")
    if json_:
        from collapsecheck.report.json_report import report_dict

        _print_json(report_dict(report))
    else:
        _print_validation_summary(report)
    for c in report.uncaught_controls:
        _say(f"control {c.name!r} was not caught: no check of profile {report.profile} "
             f"FAILed it, so this design cannot detect that bug ({_one_line(c.summary)})")
    return ExitCode.CHECK_FAILED if report.failed else ExitCode.OK


def _reproduce_command(profile: str, out: Path | None, seed, engine, simulator=None,
                       controls=()) -> str:
    import shlex

    parts = ["collapsecheck", "validate", "--profile", profile]
    if seed is not None:
        parts += ["--seed", str(seed)]
    if engine is not None:
        parts += ["--engine", engine]
    if simulator is not None:
        parts += ["--simulator", simulator]
    if controls:
        parts += ["--controls", ",".join(controls)]
    if out is not None:
        parts += ["--out", str(out)]
    return shlex.join(parts)


def _run_validation(prof, profile_arg, out, seed, engine, workers, quiet, sim, sim_arg,
                    scheduler=None, allow_long=False, controls=()):
    from collapsecheck.progress import progress_steps
    from collapsecheck.validate import run_profile, step_estimates

    command = _reproduce_command(profile_arg, out, seed, engine, sim_arg, controls)
    if allow_long:
        command += " --allow-long"
    estimates = None if quiet else step_estimates(prof, engine=engine, controls=controls,
                                                  workers=workers)
    with progress_steps(f"validate {prof.name}", enabled=not quiet,
                        estimates=estimates) as step:
        return run_profile(prof, simulator=sim, workers=workers, seed=seed, engine=engine,
                           command=command, progress=step, scheduler=scheduler,
                           allow_long=allow_long, controls=controls,
                           simulator_name=sim_arg if sim is not None else None)


def _print_validation_summary(report) -> None:
    """The checks, the claims and the controls, in tables whose values are never split
    (check ids stay whole: a profile's longest ids need more than 80 columns)."""
    from collapsecheck.cli_tables import compact_table, print_table, value_column

    table = compact_table(f"collapsecheck validate: profile {report.profile}, "
                          f"seed {report.seed}")
    value_column(table, "check")
    value_column(table, "verdict")
    value_column(table, "p-value", justify="right")
    colours = {"PASS": "green", "WEAK": "yellow", "FAIL": "red"}
    escalated = False
    for c in report.checks:
        v = c.verdict.value
        mark = "*" if len(c.stages) > 1 else ""
        escalated |= bool(mark)
        table.add_row(escape(c.id), f"[{colours[v]}]{v}[/]{mark}", _fmt_p(c.pvalue))
    console = Console()
    print_table(table, console)
    if escalated:
        console.print("* escalated: decided by the re-run at more replicates",
                      soft_wrap=True, markup=False)
    if report.claims:
        claims = compact_table("The article's claims")
        value_column(claims, "claim")
        value_column(claims, "verdict")
        claims.add_column("reading")
        for c in report.claims:
            claims.add_row(c.id, c.verdict.value, escape(c.reading))
        console.print()
        print_table(claims, console)
    if report.controls:
        ctl = compact_table("Positive controls (each must FAIL)")
        value_column(ctl, "control")
        value_column(ctl, "caught?")
        ctl.add_column("by which checks")
        for c in report.controls:
            ctl.add_row(escape(c.name), "[green]yes[/]" if c.caught else "[red]NO[/]",
                        escape(", ".join(c.failed_checks)) or "-")
        console.print()
        print_table(ctl, console)
    verdict = report.verdict.value
    console.print(f"overall: [{colours[verdict]}]{verdict}[/] "
                  f"({report.timing['total_s']:.1f} s)")
    console.print(f"reproduce with: {escape(report.command)}", soft_wrap=True)


def _print_listing() -> None:
    from collapsecheck.checks import CHECK_TYPES
    from collapsecheck.cli_tables import compact_table, print_table, value_column
    from collapsecheck.profiles import available_profiles

    console = Console()
    profiles = compact_table("Profiles (--profile NAME, or a path to your own .toml)")
    value_column(profiles, "name")
    profiles.add_column("description")
    for name, desc in available_profiles().items():
        profiles.add_row(name, escape(desc))
    print_table(profiles, console)
    checks = compact_table(escape("Check types (type = ... in a profile's [[checks]])"))
    value_column(checks, "type")
    value_column(checks, "family")
    value_column(checks, "kind")
    checks.add_column("what it tests")
    for name, cls in CHECK_TYPES.items():
        # a design that passes every guard (regime checks name the regime they need)
        example = cls(**{"n": 1000, "generations": 100, "replicates": 100000,
                         **getattr(cls, "example", {})})
        checks.add_row(name, cls.family, cls.kind, escape(example.test_name()))
    console.print()
    print_table(checks, console)


# ---------------------------------------------------------------------------------------
# audit
# ---------------------------------------------------------------------------------------


@app.command()
@family_command("audit")
def audit(
    path: Annotated[Path, typer.Argument(help="Trajectories: .csv (long format) or .npz.")],
    n: Annotated[
        int | None,
        typer.Option("--n", help="Sample size per generation of the recorded chains (n >= 2; "
                     "required: a file does not say it)."),
    ] = None,
    ddof: Ddof = ARTICLE["ddof"],
    budget: Annotated[
        float, typer.Option("--budget", help="False-alarm budget over all checks.")
    ] = 1e-3,
    json_: JsonOpt = False,
    regime: RegimeOpt = "replace",
    fresh_fraction: FreshFraction = None,
    n_growth: NGrowth = 0.0,
    temperature: Temperature = 1.0,
    truncate: Truncate = None,
    sigma0: Annotated[
        float | None,
        typer.Option("--sigma0", help="The chains' starting std (generation 0), for logs that "
                     "start at generation 1 or later; without it each chain is judged from its "
                     "first recorded generation on."),
    ] = None,
    mu0: Annotated[
        float | None,
        typer.Option("--mu0", help="The chains' starting mean (generation 0), with --sigma0."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", parser=_out_path,
                                  help="Folder for audit.json and audit.html (checks, rate, "
                                       "PIT calibration plots).")
    ] = None,
) -> int:
    """Audit recorded chains against exact theory; WEAK stands, FAIL exits 1. With
    --regime (and its options) the chains are judged as that regime's. One chain, chains of
    different lengths and logs that start late are read as they come (--regime replace)."""


# ---------------------------------------------------------------------------------------
# calibrate
# ---------------------------------------------------------------------------------------


@app.command()
def calibrate(
    profile: Annotated[
        str, typer.Option("--profile", help="Profile name or path to a .toml file.")
    ] = "ci",
    seeds: Annotated[int, typer.Option("--seeds", help="How many seeds to run (>= 1).")] = 100,
    first_seed: Annotated[
        int, typer.Option("--first-seed", help="The first seed; then consecutive ones.")
    ] = 1,
    mutant: Annotated[
        list[str] | None,
        typer.Option("--mutant", metavar="<name>",
                     help="Also run every check against this deliberately wrong "
                     "simulator, once per seed (repeatable, or NAME,NAME; 'all' for every "
                     "one; see `collapsecheck mutants`)."),
    ] = None,
    mutant_seeds: Annotated[
        int | None,
        typer.Option("--mutant-seeds", help="Run the mutants on only the first K seeds "
                     "(kill rates need far fewer seeds than a false-alarm rate)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", parser=_out_path,
                     help="Folder for calibration.json (with every p-value), .md and .html."),
    ] = None,
    workers: Workers = 0,
    json_: JsonOpt = False,
    no_progress: NoProgress = False,
    allow_long: AllowLong = False,
) -> int:
    """Run a profile's checks over many seeds: measured false-alarm rate vs its budget,
    and how often each --mutant is caught. Exit 1 when the calibration fails or a
    mutant is caught in fewer than 95% of the seeds."""
    from collapsecheck.calibrate import calibrate as run_calibration
    from collapsecheck.calibrate import mutant_names, run_estimates
    from collapsecheck.profiles import load_profile
    from collapsecheck.progress import progress_steps

    if seeds < 1:
        raise InputError(f"--seeds must be at least 1; got {seeds}.")
    if first_seed < 0:
        raise InputError(f"--first-seed must be >= 0; got {first_seed}.")
    if mutant_seeds is not None and not 1 <= mutant_seeds <= seeds:
        raise InputError(f"--mutant-seeds must lie in 1..--seeds ({seeds}); got {mutant_seeds}.")
    if mutant_seeds is not None and not mutant:
        raise InputError("--mutant-seeds limits the runs of --mutant, and no --mutant was "
                         "given; add --mutant NAME (or all), or drop --mutant-seeds.")
    if out is not None:
        from collapsecheck.io import ensure_directory

        ensure_directory(out)
    try:
        names = mutant_names(mutant or ())
    except ValueError as exc:
        raise InputError(f"--mutant: {exc}") from None
    nworkers = _workers_iv(workers)
    prof = load_profile(profile, allow_long=True)  # priced below: seeds x its checks
    if not prof.checks:
        raise InputError(f"profile {prof.name!r} has no checks to calibrate.")
    quiet = json_ or no_progress
    estimates = None if quiet else run_estimates(prof, seeds, names, mutant_seeds, nworkers)
    with progress_steps(f"calibrate {prof.name}", enabled=not quiet,
                        estimates=estimates) as step:
        result = run_calibration(prof, list(range(first_seed, first_seed + seeds)),
                                 workers=nworkers, progress=step, allow_long=allow_long,
                                 mutants=names, mutant_seeds=mutant_seeds)
    record = result.to_dict()
    record["command"] = _calibrate_command(profile, seeds, first_seed, names, mutant_seeds,
                                           out, allow_long)
    if out is not None:
        from collapsecheck.report.calibration import write_calibration

        written = write_calibration(record, result.pvalues, out)
        _err.print(f"calibration written to {out}: "
                   f"{', '.join(p.name for p in written.values())}")
    if json_:
        _print_json(record)
    else:
        from collapsecheck.cli_tables import compact_table, print_table, value_column

        table = compact_table(f"calibration of profile {prof.name}: {result.runs} seeds")
        value_column(table, "check")
        for col in ("FAILs", "WEAK", "KS p"):
            value_column(table, col, justify="right")
        for cid, rec in record["checks"].items():
            table.add_row(escape(cid), str(rec["fail"]), f"{rec['weak_rate']:.3f}",
                          _fmt_p(rec.get("uniformity_pvalue")))
        console = Console()
        print_table(table, console)
        console.print("FAILs: seeds with the check FAILed; WEAK: share of first stages "
                      "WEAK; KS p: one-sided KS test that the p-values are valid "
                      "(uniform, or larger)", soft_wrap=False, markup=False)
        lo, hi = record["false_alarm_ci95"]
        console.print(f"false alarms (runs with any FAIL): {result.failed_runs}/{result.runs}"
                      f" = {record['false_alarm_rate']:.3g} (95% CI {lo:.3g} to {hi:.3g}; "
                      f"one-sided 95% upper bound {record['false_alarm_upper95']:.3g}) vs "
                      f"budget {result.budget:g}; calibration "
                      f"{'passed' if result.passed else 'FAILED'}")
        console.print(f"runs with a first-stage WEAK: {record['weak_rate']:.3g} (design "
                      f"{record['weak_rate_design']:.3g}); p-value uniformity over the "
                      f"consistency checks ({record['pvalue_uniformity_correction']}): p = "
                      f"{_fmt(record['pvalue_uniformity_p'])}")
        for m in record["mutants"]:
            caught = sorted(((k, cid) for cid, k in m["killed_by"].items() if k),
                            key=lambda kc: -kc[0])
            by = ", ".join(f"{escape(cid)} {k}" for k, cid in caught) or "no check"
            verdict = "caught" if m["kill_rate"] >= record["kill_rate_required"] else "MISSED"
            console.print(f"mutant {m['name']}: killed {m['killed']}/{m['seeds']} = "
                          f"{m['kill_rate']:.3g} (one-sided 95% lower bound "
                          f"{m['kill_lower95']:.3g}): {verdict}; FAILed by {by}")
        if not result.conclusive:
            console.print(f"note: {result.runs} seeds cannot show a false-alarm rate as small "
                          f"as the budget; about {int(3 / result.budget)} are needed (the "
                          "p-value validity tests above still apply).")
    return ExitCode.OK if result.ok else ExitCode.CHECK_FAILED


def _calibrate_command(profile, seeds, first_seed, names, mutant_seeds, out,
                       allow_long) -> str:
    """The command line that reproduces a calibration."""
    import shlex

    parts = ["collapsecheck", "calibrate", "--profile", profile, "--seeds", str(seeds),
             "--first-seed", str(first_seed)]
    if names:
        parts += ["--mutant", ",".join(names)]
    if mutant_seeds is not None:
        parts += ["--mutant-seeds", str(mutant_seeds)]
    if out is not None:
        parts += ["--out", str(out)]
    if allow_long:
        parts.append("--allow-long")
    return shlex.join(parts)


# ---------------------------------------------------------------------------------------
# mutants
# ---------------------------------------------------------------------------------------


@app.command()
def remedy(
    n: Annotated[
        list[int] | None,
        typer.Option("--n", help="Sample sizes of the table (repeat: --n 10 --n 100)."),
    ] = None,
    ddof: Annotated[
        list[float] | None, typer.Option("--ddof", help="ddof values (repeat; default 0 and 1).")
    ] = None,
    tolerance: Annotated[
        float, typer.Option("--tolerance", help="Allowed shortfall of the stationary "
                            "geometric mean of sigma below sigma0 (default 0.05 = 5%).")
    ] = 0.05,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write DIR/remedy.json and DIR/remedy.md.", parser=Path),
    ] = None,
    json_: JsonOpt = False,
) -> int:
    """The article's remedy, quantified: the smallest fresh fraction (regime mix) whose
    stationary chain keeps sigma within the tolerance of sigma0 on the log scale."""
    from collapsecheck.remedy import remedy_markdown, remedy_record

    ns = tuple(n or (10, 30, 100, 300, 1000))
    ddofs = tuple(ddof if ddof is not None else (0.0, 1.0))
    for v in ns:
        if not 2 <= v <= 10**5:
            raise InputError(f"--n must lie in 2..100000 for the remedy table; got {v}.")
    for d in ddofs:
        if not (0 <= d < min(ns)):
            raise InputError(f"--ddof must satisfy 0 <= ddof < n; got {d}.")
    if not 0 < tolerance < 1:
        raise InputError(f"--tolerance must lie in (0, 1); got {tolerance}.")
    record = remedy_record(ns, ddofs, tolerance)
    if out is not None:
        from collapsecheck.io import atomic_write_many
        from collapsecheck.report.jsonable import dumps

        out.mkdir(parents=True, exist_ok=True)
        atomic_write_many({out / "remedy.json": (dumps(record) + "\n").encode(),
                           out / "remedy.md": remedy_markdown(record).encode()})
        _err.print(f"remedy table written to {out}")
    if json_:
        _print_json(record)
        return ExitCode.OK
    # Markdown, as written to remedy.md: never re-wrapped (a wrapped row breaks the table)
    Console().print(remedy_markdown(record), markup=False, highlight=False, soft_wrap=True)
    return ExitCode.OK


@app.command()
def mutants(json_: JsonOpt = False) -> int:
    """List the deliberately wrong simulators, each imitating one realistic bug."""
    from collapsecheck.mutants import ALL_MUTANTS

    if json_:
        _print_json([{"name": m.name, "summary": m.summary, "profile": m.profile}
                     for m in ALL_MUTANTS.values()])
        return ExitCode.OK
    from collapsecheck.cli_tables import compact_table, print_table, value_column

    table = compact_table("Mutants: deliberately wrong simulators (collapsecheck.mutants)")
    value_column(table, "name")
    table.add_column("the bug it imitates")
    value_column(table, "profile")
    for m in ALL_MUTANTS.values():
        table.add_row(m.name, escape(m.summary), m.profile)
    console = Console()
    print_table(table, console)
    console.print("audit one: collapsecheck validate --profile ci --simulator "
                  "collapsecheck.mutants:NAME (with _ for -, e.g. ddof_mismatch)",
                  soft_wrap=True)
    return ExitCode.OK


def _register_planning_commands() -> None:
    """``plan`` and ``sweep`` live in their own modules (imported lazily inside them)."""
    from collapsecheck.cli_plan import plan_command
    from collapsecheck.cli_sweep import sweep_command

    app.command(name="plan")(plan_command)
    app.command(name="sweep")(sweep_command)


_register_planning_commands()


# ---------------------------------------------------------------------------------------
# Entry point: one table of known errors -> one line and an exit code
# ---------------------------------------------------------------------------------------


def _version_callback(value: bool) -> None:
    if value:
        sys.stdout.write(f"collapsecheck {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version_callback, is_eager=True,
                           help="Print the version and exit.")
    ] = False,
) -> None:
    """Verify model collapse (Gaussian, token and multivariate refit chains) against exact
    theory."""


def _one_line(message: str) -> str:
    return " ".join(str(message).split())


def _is_click_error(exc: BaseException) -> bool:
    """A click/typer usage error (click may be vendored inside typer, so match by shape)."""
    return hasattr(exc, "format_message") and hasattr(exc, "exit_code")


def _is_abort(exc: BaseException) -> bool:
    return type(exc).__name__ == "Abort"


def main(argv: list[str] | None = None) -> int:
    """Console entry point: run the app and map known exceptions to one line on stderr
    and an :class:`ExitCode`. An unknown exception is a bug and says so. Only the codes
    of :class:`ExitCode` ever come out, whatever the code it runs raises or returns.

    For the length of the run a SIGINT handler records that a Ctrl-C arrived (see
    :mod:`collapsecheck.interrupt`), so that a real Ctrl-C exits 130 even while a user's
    simulator runs, and a ``KeyboardInterrupt`` the simulator raises itself does not."""
    from collapsecheck import interrupt

    interrupt.clear()
    with interrupt.sigint_handler():
        try:
            code = _main(argv)
        except KeyboardInterrupt:  # a second Ctrl-C while the first was being reported
            code = ExitCode.INTERRUPTED
        except BaseException as exc:  # pragma: no cover - _main maps everything
            code = _internal(exc)
        try:
            if "collapsecheck.engines._blocks" in sys.modules:  # only if a run started any
                from collapsecheck.engines._blocks import close_dask_clients

                close_dask_clients()
        except KeyboardInterrupt:
            if code != ExitCode.INTERRUPTED:
                _say("interrupted")
            code = ExitCode.INTERRUPTED
        except BaseException as exc:
            code = _internal(exc)
        try:
            if sys.stdout is not None:
                sys.stdout.flush()  # here, not at exit, so a closed or full stdout is told
        except KeyboardInterrupt:
            if code != ExitCode.INTERRUPTED:
                _say("interrupted")
            code = ExitCode.INTERRUPTED
        except (OSError, ValueError) as exc:
            # once: a write error during the command was told already
            code = _stdout_error(exc, say=code != ExitCode.USAGE)
    return code


def _main(argv: list[str] | None) -> int:
    try:
        rv = app(args=argv, prog_name="collapsecheck", standalone_mode=False)
    except BaseException as exc:
        return _failure(exc)
    if rv is None:  # a command without a return value (click's own --help returns 0)
        return ExitCode.OK
    if isinstance(rv, bool) or not isinstance(rv, int) or rv not in set(ExitCode):
        return _internal(f"the command ended with exit code {rv!r}, which is not one of "
                         "collapsecheck's")
    if rv == ExitCode.INTERRUPTED:
        _say("interrupted")
    return ExitCode(rv)


def _failure(exc: BaseException) -> int:
    """The exit code for ``exc`` out of a command, after one line on stderr."""
    from collapsecheck import interrupt

    if isinstance(exc, KeyboardInterrupt) or _is_abort(exc) or interrupt.sigint_received():
        # after a real Ctrl-C, whatever it turned into on its way out is an interrupt
        _say("interrupted")
        return ExitCode.INTERRUPTED
    if isinstance(exc, InputError):
        _say(f"error: {_one_line(exc)}")
        return ExitCode.USAGE
    if isinstance(exc, OSError):
        return _os_error(exc)
    if isinstance(exc, SystemExit) and isinstance(exc.__context__, BrokenPipeError):
        # rich's way of telling that stdout was closed under it (``| head``)
        return _stdout_error(exc.__context__)
    if type(exc).__name__ == "NoArgsIsHelpError":  # bare `collapsecheck`: show help
        sys.stdout.write(exc.format_message() + "\n")
        return ExitCode.OK
    if isinstance(exc, Exception) and _is_click_error(exc):
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        _say(f"error: {_one_line(exc.format_message())}{hint}")
        return ExitCode.USAGE
    # anything else, SystemExit and other BaseExceptions included, is a bug: collapsecheck
    # never ends the process from inside, and user code is guarded where it runs
    return _internal(exc)


#: OSErrors without a file name that the environment causes: the output could not be
#: written (a closed pipe, a full disk, a device error).
_OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EIO, getattr(errno, "EDQUOT", -1)})
_NO_ROOM_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EROFS,
                             getattr(errno, "EDQUOT", -1)})


def _os_error(exc: OSError) -> int:
    """An OSError that the io layer did not already turn into an InputError. One that
    names a file is the user's (shown by the path they gave, never a temporary name);
    one that could not write the output is the environment's; any other is a bug."""
    if exc.filename is not None:
        advice = ("; free some space or choose another --out"
                  if exc.errno in _NO_ROOM_ERRNOS else "")
        _say(f"error: {_one_line(exc.strerror or exc)}: {_user_path(exc.filename)}{advice}")
        return ExitCode.USAGE
    if isinstance(exc, BrokenPipeError) or exc.errno == errno.EPIPE:
        return _stdout_error(exc)
    if exc.errno in _OUTPUT_ERRNOS:  # a write to an open file: stdout, or an output file
        _say(f"error: cannot write the output (standard output, or the --out file): "
             f"{_one_line(exc.strerror or exc)}; free some space or write elsewhere.")
        return ExitCode.USAGE
    return _internal(exc)


def _stdout_error(exc: BaseException, *, say: bool = True) -> int:
    """Output that could not be written (stdout closed, a full disk): exit 2, and point
    stdout at the null device so that the interpreter's last flush stays quiet."""
    with contextlib.suppress(Exception):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    if isinstance(exc, BrokenPipeError) or getattr(exc, "errno", None) == errno.EPIPE:
        why = "the reader closed it before all of it was written (broken pipe)"
    else:
        why = _one_line(getattr(exc, "strerror", None) or exc or type(exc).__name__)
    if say:
        _say(f"error: cannot write to standard output: {why}.")
    return ExitCode.USAGE


_STAGING_NAME = re.compile(r"^\.(?P<target>.+)\.[a-z0-9_]{8}(?:\.tmp)?$")


def _user_path(filename) -> str:
    """``filename`` as the user named it: a temporary file or staging folder that the
    io layer creates beside a target (``.report.json.x1y2z3w4.tmp``, or a file inside
    ``.chains.npz.x1y2z3w4/``) is shown as that target."""
    text = os.fsdecode(filename) if isinstance(filename, (str, bytes, os.PathLike)) else str(
        filename)
    parts = Path(text).parts
    for i, part in enumerate(parts):
        match = _STAGING_NAME.match(part)
        if match:
            return repr(str(Path(*parts[:i], match["target"])))
    return repr(text)


def _internal(exc: BaseException | str) -> int:
    if isinstance(exc, str):
        what = exc
    else:
        if os.environ.get("COLLAPSECHECK_DEBUG"):
            with contextlib.suppress(Exception):
                traceback.print_exception(exc)
        what = f"{type(exc).__name__}: {_one_line(exc)}"
        if isinstance(exc, SystemExit):
            what = f"SystemExit({exc.code!r}) ended the run early"
    _say(
        f"internal error: {what}. This is a bug; please report it with the command line "
        "(set COLLAPSECHECK_DEBUG=1 for a traceback)."
    )
    return ExitCode.INTERNAL


def run() -> None:  # pragma: no cover - console script shim
    sys.exit(main())
