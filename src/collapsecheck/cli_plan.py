"""The ``collapsecheck plan`` command: how many chains and generations an audit needs.

Registered in :mod:`collapsecheck.cli` with ``app.command(name="plan")(plan_command)``.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from collapsecheck.errors import InputError

__all__ = ["plan_command"]

# Nothing is imported from collapsecheck.cli at module level: cli.py imports this module
# to register the command, whichever line it does that on.
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")]
_err = Console(stderr=True, highlight=False)
_NAMES = {"`rel_error`": "--rel-error", "`power`": "--power", "`budget`": "--budget",
          "`chains`": "--chains", "`generations`": "--generations", "`ddof`": "--ddof",
          "`n`": "--n"}


def plan_command(
    n: Annotated[int, typer.Option("--n", help="Sample size the audit will be told (n >= 2).")],
    rel_error: Annotated[
        float, typer.Option("--rel-error", help="Relative error e in n to detect, either way: "
                            "the true n is n(1 - e) or n(1 + e); 0 < e < 1.")
    ] = 0.05,
    power: Annotated[
        float, typer.Option("--power", help="Probability of a FAIL verdict to reach, in (0, 1).")
    ] = 0.9,
    ddof: Annotated[
        float, typer.Option("--ddof", help="Variance divisor is n - ddof (0 <= ddof < n).")
    ] = 0.0,
    chains: Annotated[
        int | None, typer.Option("--chains", help="Fix the number of chains (>= 20); the plan "
                                 "finds the generations.")
    ] = None,
    generations: Annotated[
        int | None, typer.Option("--generations", help="Fix the generations (>= 1); the plan "
                                 "finds the chains.")
    ] = None,
    budget: Annotated[
        float, typer.Option("--budget", help="The audit's false-alarm budget over all checks.")
    ] = 1e-3,
    means: Annotated[
        bool, typer.Option("--means/--no-means", help="Whether the chains will record their "
                           "means (adds the mean-increment check).")
    ] = False,
    json_: JsonOpt = False,
) -> int:
    """Plan an audit: the chains and generations it needs to FAIL a wrong n (relative
    error --rel-error, either way) with probability --power, from the exact step law."""
    from collapsecheck.cli import ExitCode, _print_json
    from collapsecheck.plan import plan

    if chains is not None and generations is not None:
        raise InputError("give --chains or --generations, not both: the plan chooses the other.")
    try:
        result = plan(n, ddof=ddof, rel_error=rel_error, power=power, chains=chains,
                      generations=generations, budget=budget, means=means)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        message = str(exc)
        for name, option in _NAMES.items():
            message = message.replace(name, option)
        raise InputError(message) from None
    record = result.to_dict()
    if json_:
        _print_json(record)
        return ExitCode.OK
    from collapsecheck.cli_tables import compact_table, print_table, value_column

    table = compact_table(f"audit plan: n={n}, ddof={ddof:g}, rel. error {rel_error:g} "
                          f"either way, power {power:g}, budget {budget:g}")
    table.add_column("quantity")
    value_column(table, "value", justify="right")
    rows = [
        ("chains" + (" (assumed; fix with --chains)" if result.chains_assumed else ""),
         str(result.chains)),
        ("generations", str(result.generations)),
        ("increments (chains x generations)", str(result.increments)),
        ("checks the audit runs, each at a = budget/m", f"{result.checks_run}, {result.alpha:.3g}"),
        (f"power against n(1 - e) = {n * (1 - rel_error):g}", f"{result.power_smaller:.3f}"),
        (f"power against n(1 + e) = {n * (1 + rel_error):g}", f"{result.power_larger:.3f}"),
        (f"expected power (binding: {result.binding})",
         f"{result.power:.3f} +- {result.mc_se:.3f}"),
    ]
    for label, value in rows:
        table.add_row(escape(label), value)
    print_table(table)
    _err.print(f"method: {escape(result.method)}", soft_wrap=True)
    return ExitCode.OK
