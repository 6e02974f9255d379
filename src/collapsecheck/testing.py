"""Assertions for a user's test suite, in the spirit of :mod:`numpy.testing`.

``assert_chains_consistent`` audits recorded chains (:func:`collapsecheck.audit_chains`)
and ``assert_simulator_consistent`` draws chains from a user's simulator (the
``validate --simulator`` signature ``simulate(experiment, record) -> Trajectories``) and
audits them. Both pass silently when no check FAILs and raise :class:`AssertionError`
otherwise, naming each check that disagreed, by how much (the measured value beside the
exact one) and at which alpha (its share of ``budget``). A WEAK verdict passes: at the
budget's alpha a correct simulator goes red only with probability ``budget``.
"""

from __future__ import annotations

import math

__all__ = ["assert_chains_consistent", "assert_simulator_consistent"]


def assert_chains_consistent(trajectories, *, n: int, ddof: float = 0.0, budget: float = 1e-3,
                             sigma0: float | None = None, mu0: float | None = None) -> None:
    """Raise AssertionError unless ``trajectories`` pass the audit at sample size ``n``
    and ``ddof`` with false-alarm ``budget`` (what :func:`collapsecheck.audit_chains`
    accepts: Trajectories, a path, or the std of each chain)."""
    from collapsecheck.audit import audit_chains

    result = audit_chains(trajectories, n=n, ddof=ddof, budget=budget, sigma0=sigma0, mu0=mu0)
    _raise_on_failure(result, f"n={n}, ddof={ddof:g}, budget={budget:g}")


def assert_simulator_consistent(simulate, *, n: int, generations: int, replicates: int,
                                seed: int, ddof: float = 0.0, budget: float = 1e-3) -> None:
    """Draw ``replicates`` chains of ``generations`` from ``simulate(experiment, 'all')``
    (seeded with ``seed``) and raise AssertionError unless they pass the audit. What the
    simulator raises or returns malformed is reported as
    :class:`~collapsecheck.errors.InputError`, as by ``validate --simulator``."""
    from collapsecheck.audit import audit
    from collapsecheck.experiment import Experiment
    from collapsecheck.validate import guarded

    e = Experiment(n=n, generations=generations, replicates=replicates, ddof=ddof, seed=seed)
    traj = guarded(simulate)(e, "all")
    name = getattr(simulate, "__name__", type(simulate).__name__)
    result = audit(traj, n=n, ddof=ddof, budget=budget, source=f"simulator {name!r}")
    _raise_on_failure(result, f"n={n}, ddof={ddof:g}, generations={generations}, "
                              f"replicates={replicates}, seed={seed}, budget={budget:g}")


def _raise_on_failure(result, what: str) -> None:
    failed = [c for c in result.checks if c.verdict.value == "FAIL"]
    if not failed:
        return
    lines = [f"{len(failed)} of {len(result.checks)} check(s) disagree with the exact theory "
             f"of the refit chain ({what}):"]
    for c in failed:
        lines.append(f" {c.id}: p = {c.pvalue:.3g} < alpha = {c.alpha:.3g} (its share of the "
                     f"budget); statistic {c.statistic:.4g}")
        lines += [f"    {d}" for d in _differences(c.numbers)]
    if "n_ddof_joint" in result.rate:
        j = result.rate["n_ddof_joint"]
        lines.append(f" the data's own n = {_g(j['n']['estimate'])} (95% CI "
                     f"{_g(j['n']['ci95'][0])} to {_g(j['n']['ci95'][1])}), ddof = "
                     f"{_g(j['ddof']['estimate'])} (95% CI {_g(j['ddof']['ci95'][0])} to "
                     f"{_g(j['ddof']['ci95'][1])})")
    raise AssertionError("\n".join(lines))


def _g(x) -> str:
    return "nan" if x is None else f"{x:.4g}"


def _differences(numbers: dict) -> list[str]:
    """'measured vs exact' lines for the pairs a check reports (sample_x / exact_x,
    x_estimate / x_exact), with the absolute and relative difference."""
    out = []
    for key, exact in numbers.items():
        if key.startswith("exact_"):
            name = key[len("exact_"):]
            got = numbers.get(f"sample_{name}")
        elif key.endswith("_exact"):
            name = key[: -len("_exact")]
            got = numbers.get(f"{name}_estimate", numbers.get(name))
        else:
            continue
        if not all(isinstance(v, int | float) for v in (got, exact)) or isinstance(got, bool):
            continue
        diff = float(got) - float(exact)
        rel = f", relative {diff / abs(exact):+.3g}" if exact else ""
        out.append(f"{name}: measured {float(got):.6g}, exact {float(exact):.6g} "
                   f"(difference {diff:+.3g}{rel})")
    for key in ("ks_distance", "n_eff", "increments"):
        v = numbers.get(key)
        if isinstance(v, int | float) and math.isfinite(v):
            out.append(f"{key}: {v:.6g}")
    return out
