"""What ``collapsecheck theory``, ``simulate`` and ``audit`` run for the Gaussian family:
build the :class:`~collapsecheck.families.gaussian.parameters.Experiment` from the parsed
options, call the family's theory, engines and audit, print one table or one JSON object.

The family's ``commands`` (``FamilySpec.commands``); the command line declares their
options (the family is ``native``: the options ``theory``, ``simulate`` and ``audit``
declare are its) and calls each as ``function(params, *, json_=...)``, ``params`` holding
every option the command declares, as parsed. They check their own input and raise
:class:`~collapsecheck.errors.InputError` naming the option (one line, exit 2); they return
the exit code (0, or 1 when an audit FAILs). The JSON records are
:mod:`~collapsecheck.families.gaussian.commands`'.
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from collapsecheck.cli_common import err, fmt, fmt_p, print_json, say, scheduler_iv, workers_iv
from collapsecheck.errors import InputError
from collapsecheck.families.gaussian.parameters import Experiment

__all__ = ["audit", "simulate", "theory"]

OK, CHECK_FAILED = 0, 1  # the exit codes these commands end with (collapsecheck.cli.ExitCode)

#: The regime options, as Experiment parameters.
_REGIME_OPTIONS = ("regime", "fresh_fraction", "n_growth", "temperature", "truncate")


def _experiment(**params) -> Experiment:
    """Build the Experiment; a bad parameter becomes an InputError naming the option."""
    try:
        return Experiment(**params)
    except (TypeError, ValueError) as exc:
        raise InputError(_as_option(str(exc))) from None


def _as_option(message: str) -> str:
    """Name CLI options (``--n``) where the library names parameters (```n```)."""
    for name in ("generations", "replicates", "sigma0", "ddof", "mu0", "seed", "n", "regime",
                 "fresh_fraction", "n_growth", "temperature", "truncate"):
        message = message.replace(f"`{name}`", f"--{name.replace('_', '-')}")
    return message


def _regime(params: dict) -> dict:
    """The regime options (--regime, --fresh-fraction, ...) as Experiment parameters."""
    return {name: params[name] for name in _REGIME_OPTIONS}


def _engine_iv(engine: str) -> str:
    from collapsecheck.families.gaussian.engines import ENGINES

    if engine not in ENGINES:
        raise InputError(f"--engine must be one of {', '.join(sorted(ENGINES))}; got {engine!r}.")
    return engine


def _fmt_raw(x, ln) -> str:
    """A raw-scale number, or ``exp(ln)`` where it underflows (0 or subnormal) or
    overflows (None, inf) and its natural log ``ln`` is finite."""
    from collapsecheck.records import TINY

    if isinstance(ln, float) and math.isfinite(ln) and (
            x is None or not math.isfinite(x) or abs(x) < TINY):
        return f"exp({ln:.7g})"
    return fmt(x)


# ---------------------------------------------------------------------------------------
# theory
# ---------------------------------------------------------------------------------------


def theory(params: dict, *, json_: bool = False) -> int:
    """Exact predictions for the chain: per-generation drift and the law at generation T
    (for every regime; a number a regime's theory cannot give exactly is shown as "-")."""
    from collapsecheck.families.gaussian.commands import theory_record

    design = {k: params[k] for k in ("n", "generations", "ddof", "mu0", "sigma0")}
    e = _experiment(**design, replicates=1, seed=0, **_regime(params))
    record = theory_record(e)
    if json_:
        print_json(record)
        return OK
    final = record["final"]
    ln = final["log_scale"]
    from collapsecheck.cli_tables import compact_table, print_table, value_column

    table = compact_table(f"Exact theory: n={e.n}, T={e.generations}, ddof={e.ddof:g}, "
                          f"sigma0={e.sigma0:g}" + _regime_title(e))
    table.add_column("quantity")
    value_column(table, "value", justify="right")
    step = record["step"] or {}
    per = " at generation T" if e.n_growth else " per generation"
    rows = [
        ("drift of log sigma^2" + per, record["log_sigma2_drift"]),
        *([("  (large-n approximation -(2 - ddof)/n)", step["drift_large_n_approximation"])]
          if "drift_large_n_approximation" in step else []),
        ("variance of log sigma^2 step" + (per if e.n_growth else ""),
         record["log_sigma2_step_var"]),
        ("P(one refit shrinks sigma)" + (per if e.n_growth else ""),
         step.get("prob_sigma_shrinks")),
        ("temperature with zero drift", record["zero_drift_temperature"]),
        ("E[log sigma_T^2]", final["log_sigma2_mean"]),
        ("SD[log sigma_T^2]", final["log_sigma2_sd"]),
        ("E[sigma_T]", final["sigma_mean"], ln["sigma_mean"]),
        ("E[sigma_T^2]", final["sigma2_mean"], ln["sigma2_mean"]),
        ("Var[mu_T]", final["mu_var"], ln["mu_var"]),
    ] + [(f"sigma_T quantile {k}", v, ln["sigma_quantiles"][k])
         for k, v in (final["sigma_quantiles"] or {}).items()]
    for name in ("stationary", "limit"):
        for key, value in (record[name] or {}).items():
            if isinstance(value, float) and not key.startswith("ln_"):
                rows.append((f"{name} (T -> inf): {key}", value))
    for label, value, *log_value in rows:
        table.add_row(escape(label), _fmt_raw(value, log_value[0] if log_value else None))
    print_table(table)
    quiet = ("stationary is null:", "limit is null:", "zero_drift_temperature is null:")
    for note in record["notes"]:
        if not note.startswith(quiet):  # the table shows what a regime has; JSON says why
            err.print(f"note: {escape(note)}", soft_wrap=True)
    return OK


def _regime_title(e: Experiment) -> str:
    """The regime part of a table title (empty for the article's chain)."""
    parts = [] if e.regime == "replace" else [e.regime]
    if e.regime == "mix":
        parts.append(f"L={e.fresh_fraction:g}")
    if e.n_growth:
        parts.append(f"n_t=ceil(n t^{e.n_growth:g})")
    if e.temperature != 1:
        parts.append(f"tau={e.temperature:g}")
    if e.truncate is not None:
        parts.append(f"truncated at {e.truncate:g} sigma")
    return "".join(f", {p}" for p in parts)


# ---------------------------------------------------------------------------------------
# simulate
# ---------------------------------------------------------------------------------------


def simulate(params: dict, *, json_: bool = False) -> int:
    """Run the chain and compare its final generation with exact theory (a long run prints
    its estimated time first; only a design that cannot fit in memory or on disk is
    refused)."""
    from collapsecheck.families.gaussian.commands import simulation_record
    from collapsecheck.families.gaussian.engines import simulate as run_simulation
    from collapsecheck.families.gaussian.records import TrajectoryWriter
    from collapsecheck.progress import progress_bar

    engine, workers, out, force, scheduler, no_progress = (
        params[k] for k in ("engine", "workers", "out", "force", "scheduler", "no_progress"))

    if force and out is None:
        raise InputError("--force replaces an existing --out file, and no --out was given; "
                         "add --out FILE.csv or FILE.npz, or drop --force.")
    e = _experiment(**{k: params[k] for k in ("n", "generations", "replicates", "ddof", "mu0",
                                              "sigma0", "seed")}, **_regime(params))
    engine = _engine_iv(engine)
    nworkers = workers_iv(workers)
    scheduler = scheduler_iv(scheduler)
    if out is not None:
        _out_iv(out, force)
    try:
        from collapsecheck.families.gaussian.engines import _overflow_iv

        _overflow_iv(e)
        if not e.is_base:  # every refusal of a regime run, before anything is written
            from collapsecheck.families.gaussian.engines.regimes import preflight

            preflight(e, engine, workers=nworkers or 1)
    except ValueError as exc:
        raise InputError(_as_option(str(exc))) from None
    estimate = _simulate_estimate(e, engine, out, nworkers)
    with contextlib.ExitStack() as stack:
        sink = None
        if out is not None:  # streamed block by block; the file appears only when complete
            sink = stack.enter_context(TrajectoryWriter(out, e.replicates, e.generations,
                                                        force=force))
        with progress_bar("simulating", enabled=not (json_ or no_progress),
                          estimate=estimate) as advance:
            run = run_simulation(e, engine=engine, workers=nworkers, scheduler=scheduler,
                                 record="all" if out is not None else "final",
                                 progress=advance, sink=sink)
    if out is not None:
        err.print(f"saved trajectories to {out}")
    record = simulation_record(run)
    if json_:
        print_json(record)
        return OK
    _print_simulation_table(record)
    return OK


def _simulate_estimate(e: Experiment, engine: str, out: Path | None, workers: int | None
                       ) -> float:
    """Refuse a simulate whose final state cannot be held in memory; print the estimate of
    a long one on stderr (collapsecheck.costs). Returns the estimated seconds."""
    from collapsecheck.costs import (
        require_disk,
        require_simulate,
        simulate_cost,
        simulate_notice,
    )
    from collapsecheck.resources import available_cores

    cores = min(workers, available_cores()) if workers else available_cores()
    cost = simulate_cost(e, engine, out=out, cores=cores)
    require_simulate(cost, e.replicates)
    if out is not None:
        require_disk(e, out)
    notice = simulate_notice(cost, engine, cores, out=out, experiment=e)
    if notice:
        say(notice)
    return cost.seconds


def _out_iv(out: Path, force: bool) -> None:
    if out.suffix.lower() not in (".csv", ".npz"):
        raise InputError(f"--out must end in .csv or .npz; got {str(out)!r}.")
    if out.exists() and not force:
        raise InputError(f"--out {str(out)!r} exists; pass --force to replace it.")
    if not out.parent.is_dir() if str(out.parent) else False:
        raise InputError(f"--out {str(out)!r}: folder {str(out.parent)!r} does not exist.")


def _print_simulation_table(record: dict) -> None:
    """Two tables that fit 80 columns: the means with their standard errors, and the
    quantiles of sigma_T with their 95% CIs (every number, the means' CIs included, is in
    ``--json``)."""
    from collapsecheck.cli_tables import compact_table, print_table, value_column

    spec = record["spec"]
    table = compact_table(
        f"{record['engine']} engine vs exact theory: n={spec['n']}, "
        f"T={spec['generations']}, replicates={spec['replicates']}, "
        f"ddof={spec['ddof']:g}, seed={record['seed']}")
    for col, just in (("statistic", "left"), ("simulation", "right"), ("SE", "right"),
                      ("theory", "right"), ("z", "right")):
        value_column(table, col, justify=just)
    final = record["final"]
    labels = {
        "sigma_mean": "E[sigma_T]",
        "sigma2_mean": "E[sigma_T^2]",
        "log_sigma2_mean": "E[log sigma_T^2]",
        "log_sigma2_sd": "SD[log sigma_T^2]",
        "mu_var": "Var[mu_T]",
    }
    ln = final.get("log_scale", {})
    heavy = False
    for key, label in labels.items():
        est = final[key]
        if est is None:
            continue
        z = est.get("z")
        flag = "" if est.get("clt_ok", True) else "*"
        heavy |= bool(flag)
        zs = (f"{z:+.2f}" if z is not None and math.isfinite(z) else "-") + flag
        lk = ln.get(key, {})
        if key in ln and (_fmt_raw(est["estimate"], lk["estimate"]).startswith("exp")
                          or _fmt_raw(est["theory"], lk["theory"]).startswith("exp")):
            # the raw numbers do not fit a double: estimate and theory on the log scale
            table.add_row(escape(label), _fmt_raw(None, lk["estimate"]), "-",
                          _fmt_raw(None, lk["theory"]), escape(zs))
            continue
        table.add_row(escape(label), fmt(est["estimate"]), _fmt_se(est["se"]),
                      fmt(est["theory"]), escape(zs))
    console = Console()
    print_table(table, console)
    if heavy:
        console.print("* heavy tail: its SE is unreliable at this many replicates "
                      "(clt_ok: false)", soft_wrap=True, markup=False)
    quantiles = compact_table("quantiles of sigma_T")
    for col, just in (("level", "left"), ("simulation", "right"), ("95% CI", "right"),
                      ("theory", "right")):
        value_column(quantiles, col, justify=just)
    for level, q in final["sigma_quantiles"].items():
        lq = ln.get("sigma_quantiles", {}).get(level, {})
        shown = _fmt_raw(q["estimate"], lq.get("estimate"))
        quantiles.add_row(level, shown,
                          "-" if shown.startswith("exp") else
                          escape(f"[{fmt(q['ci95'][0])}, {fmt(q['ci95'][1])}]"),
                          _fmt_raw(q["theory"], lq.get("theory")))
    if final["sigma_quantiles"]:
        console.print()
        print_table(quantiles, console)
    for note in record["notes"]:
        err.print(f"note: {escape(note)}", soft_wrap=True)
    err.print(f"simulated in {record['timing']['simulate_s']:.3f} s "
              f"with {record['workers']} worker(s)")


def _fmt_se(x) -> str:
    """A standard error to 3 significant digits (it is itself an estimate)."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return f"{x:.3g}"


# ---------------------------------------------------------------------------------------
# audit
# ---------------------------------------------------------------------------------------


def audit(params: dict, *, json_: bool = False) -> int:
    """Audit recorded chains against exact theory; WEAK stands, FAIL exits 1. With
    --regime (and its options) the chains are judged as that regime's. One chain, chains of
    different lengths and logs that start late are read as they come (--regime replace)."""
    from collapsecheck.families.gaussian.audit import audit as run_audit
    from collapsecheck.families.gaussian.records import load

    path, n, ddof, budget, sigma0, mu0, out = (
        params[k] for k in ("path", "n", "ddof", "budget", "sigma0", "mu0", "out"))
    regime, fresh_fraction, n_growth, temperature, truncate = (
        params[k] for k in _REGIME_OPTIONS)

    if n is None:  # never assume the article's n for someone else's data
        raise InputError("audit needs --n, the sample size each generation was fitted to "
                         "(e.g. --n 1000 for the article's chains); the file does not record "
                         "it, and a wrong n is what the audit tests.")

    traj = load(path, ragged=True)
    try:
        result = run_audit(traj, n=n, ddof=ddof, budget=budget, source=str(path),
                           sigma0=sigma0, mu0=mu0, **_regime(params))
    except (TypeError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(_as_option(str(exc))) from None
    record = result.to_dict()
    if out is not None:
        import shlex

        from collapsecheck.families.gaussian.figures import audit_figures
        from collapsecheck.report.audit import write_audit_reports

        parts = ["collapsecheck", "audit", str(path), "--n", str(n), "--ddof", f"{ddof:g}",
                 "--budget", f"{budget:g}"]
        for flag, value in (("--regime", None if regime == "replace" else regime),
                            ("--fresh-fraction", fresh_fraction),
                            ("--n-growth", n_growth or None),
                            ("--temperature", None if temperature == 1.0 else temperature),
                            ("--truncate", truncate), ("--sigma0", sigma0), ("--mu0", mu0)):
            if value is not None:
                parts += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
        command = shlex.join([*parts, "--out", str(out)])
        written = write_audit_reports(result, audit_figures(traj, result), out, command)
        err.print(f"audit reports written to {out}: "
                  f"{', '.join(p.name for p in written.values())}")
    if json_:
        print_json(record)
    else:
        from collapsecheck.cli_tables import compact_table, print_table, value_column

        table = compact_table(f"audit of {escape(str(path))}: n={n}, ddof={ddof:g}, "
                              f"{traj.log_var.shape[0]} chains x "
                              f"{traj.log_var.shape[1] - 1} generations")
        value_column(table, "check")
        value_column(table, "verdict")
        value_column(table, "p-value", justify="right")
        table.add_column("note")
        for c in result.checks:
            table.add_row(escape(c.id), c.verdict.value, fmt_p(c.pvalue), escape(c.reason))
        console = Console()
        print_table(table, console)
        rate = record["rate"]
        if "log_sigma2_drift" in rate:
            d = rate["log_sigma2_drift"]
            console.print(f"drift of log sigma^2: {fmt(d['estimate'])} per generation "
                          f"(95% CI {fmt(d['ci95'][0])} to {fmt(d['ci95'][1])}; exact "
                          f"{fmt(d['exact'])})")
        if "n_eff" in rate:
            e = rate["n_eff"]
            console.print(f"effective n from the step variance: {fmt(e['estimate'])} "
                          f"(95% CI {fmt(e['ci95'][0])} to {fmt(e['ci95'][1])})",
                          soft_wrap=True)
        joint = rate.get("n_ddof_joint", {})
        if math.isfinite(joint.get("ddof", {}).get("se", math.nan)):
            jn, jd = joint["n"], joint["ddof"]
            console.print(f"n and ddof jointly: n = {fmt(jn['estimate'])} (95% CI "
                          f"{fmt(jn['ci95'][0])} to {fmt(jn['ci95'][1])}), ddof = "
                          f"{fmt(jd['estimate'])} ({fmt(jd['ci95'][0])} to "
                          f"{fmt(jd['ci95'][1])})")
        for name, why in result.skipped.items():
            err.print(f"skipped {name}: {escape(why)}")
        for note in result.notes:
            err.print(f"note: {escape(note)}")
        smallest = result.reach.get("n_relative_error_detectable")
        if smallest is not None:
            err.print(f"reach: the n_eff check detects an n off by {smallest:.3g} (relative) "
                      "with power 0.9")
        console.print(f"verdict: {result.verdict.value}")
    return CHECK_FAILED if result.verdict.value == "FAIL" else OK
