"""What ``collapsecheck theory|simulate --family mvgaussian`` run: build the parameters,
call the family's theory and engines, print one table or one JSON object.

``theory --json`` gives ``logdet_drift``, ``logdet_step_var``, ``lyapunov`` (D rates per
generation of log lambda_i(Sigma_T), largest first), ``anisotropy_rate`` and ``final``
(``logdet_mean``, ``logdet_sd``, ``logdet_quantiles``, ``trace_mean``, ``trace_sd``,
``mu_sq_norm_mean``); ``simulate --json`` gives ``final.<quantity>`` as ``{estimate, se,
ci95, theory}`` under the same names.
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

#: The schema version of the multivariate ``theory`` and ``simulate`` records.
SCHEMA_VERSION = "1.0"

LABELS = {
    "logdet_mean": "E[log det Sigma_T]",
    "logdet_sd": "SD[log det Sigma_T]",
    "trace_mean": "E[tr Sigma_T]",
    "trace_sd": "SD[tr Sigma_T]",
    "mu_sq_norm_mean": "E|mu_T - mu_0|^2",
}


def _experiment(params: dict, regimes: tuple[str, ...] = ("replace",)):
    """The family's parameters from the parsed options (a bad one raises ValueError naming
    the parameter, which the command line turns into one line naming the option);
    ``regimes``: those the command takes (theory and simulate model the replace chain; the
    audit also knows accumulate's trace)."""
    from collapsecheck.families.mvgaussian.parameters import (
        MVGaussianExperiment,
        load_cov_file,
    )

    regime = params.get("regime") or "replace"
    if regime not in regimes:
        raise ValueError(f"`regime` must be {' or '.join(regimes)} here for the mvgaussian "
                         f"family (audit also takes accumulate); got {regime!r}.")

    if params.get("dim") is None and params.get("cov_file") is None:
        raise ValueError("the mvgaussian family needs `dim` (or a `cov_file`, whose size "
                         "sets it).")
    keep = ("n", "dim", "generations", "replicates", "ddof", "mu0", "sigma0", "seed")
    p = {k: params[k] for k in keep if params.get(k) is not None}
    if params.get("cov_file") is not None:
        cov = load_cov_file(params["cov_file"], params.get("dim"))
        p["covariance"], p["dim"] = cov, cov.shape[0]
    return MVGaussianExperiment(**p)


def _spec(e) -> dict:
    spec = {k: v for k, v in e.to_dict().items() if k != "covariance"}
    spec["covariance"] = "file" if e.covariance is not None else None
    return spec


def theory_record(e) -> dict:
    """``collapsecheck theory --family mvgaussian --json``."""
    from collapsecheck import __version__
    from collapsecheck.families.mvgaussian.theory import predict
    from collapsecheck.records import nonfinite_notes

    spec = {k: v for k, v in _spec(e).items() if k not in ("replicates", "seed")}
    record = {"schema_version": SCHEMA_VERSION, "spec": spec, **predict(e).to_dict(),
              "versions": {"collapsecheck": __version__}}
    record["notes"] = list(record.get("notes", [])) + nonfinite_notes(record["final"], "final")
    return record


def theory(params: dict, *, json_: bool = False) -> int:
    """Exact predictions for the multivariate chain."""
    e = _experiment(params)
    record = theory_record(e)
    if json_:
        print_json(record)
        return 0
    final = record["final"]
    rows = [("drift of log det Sigma per generation", record["logdet_drift"]),
            ("variance of a log det step", record["logdet_step_var"]),
            ("flattening rate: log(lambda_max/lambda_min) per generation (limit)",
             record["anisotropy_rate"]),
            *((f"Lyapunov rate of log lambda_{i + 1} (limit)", v)
              for i, v in enumerate(record["lyapunov"])),
            *((label, final.get(key)) for key, label in LABELS.items()),
            *((f"log det Sigma_T quantile {k}", v)
              for k, v in (final.get("logdet_quantiles") or {}).items())]
    value_table(f"Exact theory, mvgaussian: D={e.dim}, n={e.n}, T={e.generations}, "
                f"ddof={e.ddof:g}", rows)
    print_notes(record["notes"])
    return 0


def simulation_record(run, e) -> dict:
    """``collapsecheck simulate --family mvgaussian --json``."""
    from collapsecheck.families.mvgaussian.records import final_summary
    from collapsecheck.families.mvgaussian.theory import predict
    from collapsecheck.records import environment, nonfinite_notes

    env = environment()
    record = {
        "schema_version": SCHEMA_VERSION,
        "family": "mvgaussian",
        "spec": _spec(e),
        "seed": e.seed,
        "engine": run.engine,
        "workers": run.workers,
        "bit_generator": env["bit_generator"],
        "numpy_version": env["numpy"],
        "versions": env,
        "final": final_summary(run.trajectories, predict(e)).to_dict(),
        "timing": {"simulate_s": run.simulate_s},
    }
    record["notes"] = nonfinite_notes(record["final"], "final")
    return record


def simulate(params: dict, *, json_: bool = False) -> int:
    """Run the multivariate chain and compare its final generation with exact theory."""
    from collapsecheck.families.mvgaussian.engines import simulate as run_simulation

    e = _experiment(params)
    run = run_simulation(e, engine=params.get("engine", "sufficient"),
                         workers=params.get("workers") or None, record="final",
                         eigen_record=None)
    record = simulation_record(run, e)
    if json_:
        print_json(record)
        return 0
    final = record["final"]
    rows = [(label, final[key]) for key, label in LABELS.items()]
    rows += [(f"log det Sigma_T quantile {k}", {**q, "se": None})
             for k, q in final["logdet_quantiles"].items()]
    estimate_table(f"{run.engine} engine vs exact theory, mvgaussian: D={e.dim}, n={e.n}, "
                   f"T={e.generations}, replicates={e.replicates}, seed={e.seed}", rows)
    print_notes(record["notes"], record["timing"], record["workers"])
    return 0


def audit(params: dict, *, json_: bool = False) -> int:
    """Audit a multivariate log (log det, trace per generation) against the exact theory;
    FAIL exits 1."""
    import numpy as np

    from collapsecheck.errors import InputError
    from collapsecheck.families.mvgaussian.audit import REGIMES, audit_mv, load

    if params.get("n") is None:
        raise InputError("audit needs --n, the draws each generation was fitted to; the log "
                         "does not record it, and a wrong n is what the audit tests.")
    given_start = params.get("sigma0") is not None or params.get("cov_file") is not None
    e = _experiment({**params, "sigma0": params.get("sigma0") or 1.0}, REGIMES)
    regime = params.get("regime") or "replace"
    log = load(params["path"], trace_ratio=bool(params.get("trace_ratio")), dim=e.dim)
    s0 = e.sigma_start
    start = None
    if given_start:  # generation 0 as declared, for logs that start later
        start = (float(np.linalg.slogdet(s0)[1]), float(np.trace(s0)))
    result = audit_mv(log, n=e.n, dim=e.dim, ddof=e.ddof, budget=params["budget"],
                      start=start, source=str(params["path"]), regime=regime)
    if json_:
        print_json(result.to_dict())
    else:
        lines = []
        if "n_eff" in result.rate:
            r = result.rate["n_eff"]
            lines.append(f"effective n from the log det step variance: {fmt(r['estimate'])} "
                         f"(95% CI {fmt(r['ci95'][0])} to {fmt(r['ci95'][1])})")
        if "lyapunov" in result.rate:
            ly = result.rate["lyapunov"]
            lines.append(f"ordered log eigenvalue rates over generations {ly['window'][0]}.."
                         f"{ly['window'][1]}: "
                         + ", ".join(f"{fmt(e)} (exact limit {fmt(x)})"
                                     for e, x in zip(ly["estimate"], ly["exact"], strict=True))
                         + "; reported, not graded (limits)")
        chains = log["logdet"].shape[0]
        audit_table(f"audit of {params['path']} as multivariate chains: n={e.n}, D={e.dim}, "
                    f"ddof={e.ddof:g}, {chains} chain(s)"
                    + ("" if regime == "replace" else f", {regime}"), result, lines)
    return 1 if result.verdict.value == "FAIL" else 0
