"""What ``collapsecheck theory|simulate --family categorical`` run: build the parameters,
call the family's theory and engines, print one table or one JSON object.

The records follow the Gaussian commands' layout (DESIGN.md): ``theory --json`` gives
``spec``, ``final`` (``survivors_mean``, ``survivors_sd``, ``entropy_mean``,
``gini_simpson_mean``, ``p_monomorphic``, ``tail``), ``exact``, ``methods`` and ``notes``;
``simulate --json`` gives ``spec``, ``seed``, ``engine`` and ``final.<quantity>`` as
``{estimate, se, ci95, theory}`` under the same names.
"""

from __future__ import annotations

from collapsecheck.families.console import (
    audit_table,
    estimate_table,
    fmt,
    print_json,
    print_notes,
    value_table,
)

__all__ = ["audit", "simulate", "simulation_record", "theory", "theory_record"]

#: The schema version of the categorical ``theory`` and ``simulate`` records.
SCHEMA_VERSION = "1.0"

#: Readable labels of the final quantities, in the order the tables show them.
LABELS = {
    "survivors_mean": "E[surviving categories]",
    "survivors_sd": "SD[surviving categories]",
    "entropy_mean": "E[entropy] (nats)",
    "gini_simpson_mean": "E[Gini-Simpson]",
    "p_monomorphic": "P(one category holds everything)",
}
TAIL_LABELS = {
    "mass_mean": "E[mass of the initial tail]",
    "survivors_mean": "E[survivors of the initial tail]",
    "p_all_lost": "P(the whole tail is lost)",
}

def _experiment(params: dict):
    """The family's parameters from the parsed options (a bad one raises ValueError naming
    the parameter, which the command line turns into one line naming the option)."""
    from collapsecheck.families.categorical.parameters import CategoricalExperiment

    p = dict(params)
    for unused in ("family", "engine", "workers", "no_progress", "per_generation", "path",
                   "budget"):
        p.pop(unused, None)
    if p.get("seed") is None:
        p.pop("seed", None)
    if p.get("init") == "zipf" and p.get("zipf_s") is None:
        p["zipf_s"] = 1.0  # the command line's default exponent (--zipf-s)
    return CategoricalExperiment(**p)


def _prediction(e, per_generation: bool = False):
    from collapsecheck.families.categorical.theory import predict

    return predict(e.p0, e.n, e.generations, tail_rank=e.tail_rank, regime=e.regime,
                   alpha=e.alpha, fresh_fraction=e.fresh_fraction or 0.0,
                   temperature=e.temperature, top_k=e.top_k, per_generation=per_generation)


def theory_record(e, *, per_generation: bool = False) -> dict:
    """``collapsecheck theory --family categorical --json``."""
    from collapsecheck import __version__
    from collapsecheck.records import nonfinite_notes

    spec = {k: v for k, v in e.to_dict().items() if k not in ("replicates", "seed")}
    record = {"schema_version": SCHEMA_VERSION, "family": "categorical", "spec": spec,
              **_prediction(e, per_generation).to_dict(),
              "versions": {"collapsecheck": __version__}}
    record["notes"] = list(getattr(e, "notes", ()) or ()) + list(record.get("notes", [])) \
        + nonfinite_notes(record.get("final"), "final")
    return record


def theory(params: dict, *, json_: bool = False) -> int:
    """Exact predictions for the categorical chain."""
    e = _experiment(params)
    record = theory_record(e, per_generation=bool(params.get("per_generation")))
    if json_:
        print_json(record)
        return 0
    final = record["final"]
    rows = [(label, final.get(key)) for key, label in LABELS.items()]
    tail = final.get("tail") or {}
    if tail.get("rank") is not None:
        rows += [(f"{label} (ranks > {tail['rank']})", tail.get(key))
                 for key, label in TAIL_LABELS.items()]
    value_table(f"Exact theory, categorical: K={len(e.p0)}, n={e.n}, T={e.generations}"
                + _regime_title(e), rows)
    print_notes(record["notes"])
    return 0


def simulation_record(run, e, prediction=None) -> dict:
    """``collapsecheck simulate --family categorical --json``: final statistics with SEs
    beside exact theory."""
    from collapsecheck.families.categorical.records import final_summary
    from collapsecheck.records import environment, nonfinite_notes

    p = prediction or _prediction(e)
    theory_final = p.to_dict()["final"]
    env = environment()
    record = {
        "schema_version": SCHEMA_VERSION,
        "family": "categorical",
        "spec": e.to_dict(),
        "seed": e.seed,
        "engine": run.engine,
        "workers": run.workers,
        "bit_generator": env["bit_generator"],
        "numpy_version": env["numpy"],
        "versions": env,
        "final": final_summary(run.records, theory_final),
        "timing": {"simulate_s": run.simulate_s},
    }
    record["notes"] = list(getattr(e, "notes", ()) or ()) + nonfinite_notes(record["final"],
                                                                            "final")
    return record


def simulate(params: dict, *, json_: bool = False) -> int:
    """Run the categorical chain and compare its final generation with exact theory."""
    from collapsecheck.families.categorical.engines import simulate as run_simulation

    e = _experiment(params)
    run = run_simulation(e, engine=params.get("engine", "sufficient"),
                         workers=params.get("workers") or None)
    record = simulation_record(run, e)
    if json_:
        print_json(record)
        return 0
    final = record["final"]
    rows = [(LABELS[k], final[k]) for k in LABELS if isinstance(final.get(k), dict)]
    rows += [(TAIL_LABELS[k], v) for k, v in (final.get("tail") or {}).items()
             if k in TAIL_LABELS and isinstance(v, dict)]
    estimate_table(f"{run.engine} engine vs exact theory, categorical: K={len(e.p0)}, "
                   f"n={e.n}, T={e.generations}, replicates={e.replicates}, seed={e.seed}"
                   + _regime_title(e), rows)
    print_notes(record["notes"], record["timing"], record["workers"])
    return 0


def audit(params: dict, *, json_: bool = False) -> int:
    """Audit a token-statistics log against the exact theory; FAIL exits 1."""
    from collapsecheck.errors import InputError
    from collapsecheck.families.categorical.audit import audit_tokens
    from collapsecheck.families.categorical.records import load

    if params.get("n") is None:
        raise InputError("audit needs --n, the number of tokens each generation drew; the "
                         "log does not record it, and a wrong n is what the audit tests.")
    e = _experiment(params)
    path = params["path"]
    records = load(path, len(e.p0), absorbing=e.regime in ("replace", "accumulate")
                   and not e.alpha and not e.fresh_fraction)
    result = audit_tokens(records, n=e.n, experiment=e, budget=params["budget"],
                          source=str(path))
    record = result.to_dict()
    if json_:
        print_json(record)
    else:
        lines = [f"effective n from the {label}: {fmt(r['estimate'])} (95% CI "
                 f"{fmt(r['ci95'][0])} to {fmt(r['ci95'][1])})"
                 for key, label in (("n_eff", "Gini-Simpson decay"),
                                    ("n_eff_survivors", "survivors"),
                                    ("n_eff_entropy", "entropy"))
                 if (r := result.rate.get(key))]
        audit_table(f"audit of {path} as categorical chains: n={e.n}, K={len(e.p0)}, "
                    f"{records.replicates} chain(s)", result, lines)
    return 1 if result.verdict.value == "FAIL" else 0


def _regime_title(e) -> str:
    parts = [] if e.regime == "replace" else [e.regime]
    if e.regime == "mix":
        parts.append(f"L={e.fresh_fraction:g}")
    if e.alpha:
        parts.append(f"add-{e.alpha:g} smoothing")
    if e.temperature != 1:
        parts.append(f"tau={e.temperature:g}")
    if e.top_k is not None:
        parts.append(f"top-{e.top_k}")
    return "".join(f", {p}" for p in parts)


