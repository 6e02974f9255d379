"""The records the Gaussian family's ``theory`` and ``simulate`` commands emit
(``--json``): plain dicts in the shapes that DESIGN.md and ``schemas/theory.schema.json``
fix, built from library results so that Python users get the same objects.

The commands that print them are :mod:`collapsecheck.families.gaussian.cli` (the
family's ``FamilySpec.commands``); the categorical and multivariate families keep their
``theory_record`` and ``simulation_record`` in the module of the same name, beside their
command functions. What
every family's records share (the notes on non-finite numbers, the smallest normal double,
the null walker, :func:`~collapsecheck.records.environment`) is
:mod:`collapsecheck.records`, which serves :func:`theory_record`,
:func:`simulation_record`, :func:`null_notes` and :func:`underflow_notes` under their
historical names (``from collapsecheck.records import theory_record``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from collapsecheck import __version__
from collapsecheck.families.gaussian.parameters import Experiment
from collapsecheck.families.gaussian.theory import TheoryPrediction, predict
from collapsecheck.records import (
    TINY,
    _null_note,
    _nulls,
    _tiny,
    environment,
    nonfinite_notes,
)

if TYPE_CHECKING:  # imported where used: `theory` needs neither engines nor scipy.stats
    from collapsecheck.families.gaussian.engines import SimulationRun
    from collapsecheck.families.gaussian.summary import FinalSummary

__all__ = ["null_notes", "simulation_record", "theory_record", "underflow_notes"]


#: Version of ``schemas/theory.schema.json``, the shape of a ``theory`` record.
THEORY_SCHEMA_VERSION = "1.0"

#: The keys of a replace-chain ``theory`` record, every one exact.
_REPLACE_EXACT = (
    "log_sigma2_drift", "log_sigma2_step_var", "step.prob_sigma_shrinks",
    "step.sigma2_mean_ratio", "zero_drift_temperature", "final.sigma_mean",
    "final.sigma2_mean", "final.log_sigma2_mean", "final.log_sigma2_sd", "final.mu_mean",
    "final.mu_var", "final.sigma_quantiles",
)


def theory_record(experiment: Experiment, prediction: TheoryPrediction | None = None) -> dict:
    """``collapsecheck theory --json``: exact predictions for the experiment.

    Every regime gives the same keys (DESIGN.md), a number its theory cannot give exactly
    being null; ``exact`` lists the keys that are exact, ``methods`` says how every other
    number was computed, ``stationary`` (mix) and ``limit`` (accumulate, n-growth with
    P > 1) hold ``{sigma2_mean, mu_var}`` or are null."""
    p = prediction or predict(experiment)
    spec = {k: v for k, v in experiment.to_dict().items() if k not in ("replicates", "seed")}
    e = experiment
    if isinstance(p, TheoryPrediction):
        step = {
            "drift_large_n_approximation": -(2 - e.ddof) / e.n,
            "prob_sigma_shrinks": p.prob_step_shrinks,
            "sigma2_mean_ratio": (e.n - 1) / (e.n - e.ddof),
        }
        regime = {"regime": "replace", "zero_drift_temperature":
                  math.exp(-p.log_sigma2_drift / 2), "stationary": None, "limit": None,
                  "exact": list(_REPLACE_EXACT), "methods": {}}
        notes: list[str] = []
    else:
        step = None if p.log_sigma2_drift is None else {
            "prob_sigma_shrinks": p.prob_step_shrinks}
        final_keys = p.final().keys()
        renamed = {"prob_step_shrinks": "step.prob_sigma_shrinks"}  # its record path
        exact = [f"final.{k}" if k in final_keys else renamed.get(k, k) for k in p.exact]
        regime = {"regime": p.regime, "zero_drift_temperature": p.zero_drift_temperature,
                  "stationary": p.stationary, "limit": p.limit, "exact": exact,
                  "methods": dict(p.methods)}
        notes = list(p.notes)
    record = {
        "schema_version": THEORY_SCHEMA_VERSION,
        "spec": spec,
        "regime": regime.pop("regime"),
        "log_sigma2_drift": p.log_sigma2_drift,
        "log_sigma2_step_var": p.log_sigma2_step_var,
        "step": step,
        "final": p.final(),
        **regime,
        "versions": {"collapsecheck": __version__},
    }
    record["notes"] = notes + nonfinite_notes(record) + underflow_notes(
        record["final"], lambda v: {"": v})
    record["notes"] += null_notes(record, record["notes"])
    return record


#: Why a regime-dependent key of a Gaussian ``theory`` record can be null.
_NULL_REASONS = {
    "stationary": "only the mix regime at a fixed n settles into a stationary law",
    "limit": "only accumulate, and n-growth with P > 1, converge to a limit as T grows",
    "zero_drift_temperature": "only a chain that is a random walk in log sigma^2 has a "
                              "temperature of zero drift",
}


def null_notes(record: dict, notes: list[str]) -> list[str]:
    """One note per null outside ``spec`` that no note in ``notes`` explains yet: how the
    regime's theory stands there (its ``methods`` entry, where it has one), or why the key
    does not apply (a null spec field is an option not set)."""
    out = []
    methods = record.get("methods") or {}
    regime = record.get("regime", "replace")
    for path in _nulls(record):
        if path.split(".")[0] in ("spec", "versions") or any(
                n.startswith(path + " ") for n in notes):
            continue
        key = path.replace("final.log_scale.", "final.")
        if key == "step":
            key = "prob_step_shrinks" if "prob_step_shrinks" in methods else "log_sigma2_drift"
        reason = methods.get(key) or _NULL_REASONS.get(path.split(".")[0])
        out.append(_null_note(path, reason, regime))
    return out


def underflow_notes(final: dict, raw_value) -> list[str]:
    """One note per raw-scale number in a ``final`` object that underflows (exactly 0 or
    below the smallest normal double) while its natural log, in ``final.log_scale``, is
    finite; ``raw_value(entry)`` picks the numbers of an entry (``{"estimate": ...}`` or a
    plain float). The raw-scale keys are the Gaussian record's: ``sigma_mean``,
    ``sigma2_mean``, ``mu_var`` and each level of ``sigma_quantiles``."""
    notes = []
    ln = final.get("log_scale", {})

    def visit(path: str, entry, ln_entry) -> None:
        for label, value in raw_value(entry).items():
            lnv = ln_entry.get(label) if isinstance(ln_entry, dict) else ln_entry
            if _tiny(value) and isinstance(lnv, float) and math.isfinite(lnv):
                where = f"final.{path}" + (f".{label}" if label else "")
                notes.append(f"{where} = {value!r} underflows double precision (below "
                             f"{TINY:.3g}, keeping few or no digits); its natural log is "
                             f"{lnv:.10g} (final.log_scale.{path}" +
                             (f".{label}" if isinstance(ln_entry, dict) else "") + ")")

    for key in ("sigma_mean", "sigma2_mean", "mu_var"):
        if final.get(key) is not None and key in ln:
            visit(key, final[key], ln[key])
    for level, q in (final.get("sigma_quantiles") or {}).items():
        visit(f"sigma_quantiles.{level}", q, (ln.get("sigma_quantiles") or {}).get(level))
    return notes



def simulation_record(run: SimulationRun, prediction: TheoryPrediction | None = None,
                      summary: FinalSummary | None = None) -> dict:
    """``collapsecheck simulate --json``: final statistics with SEs, beside theory."""
    from collapsecheck.families.gaussian.summary import summarize

    traj = run.trajectories
    experiment = Experiment(**traj.spec)
    p = prediction or predict(experiment)
    mean_std = traj.standardised_mean(experiment.mu0, experiment.sigma0)
    s = summary or summarize(traj.final_log_var, None, p, final_mean_standardised=(
        None if mean_std is None else mean_std[:, -1]),
        experiment=None if experiment.is_base else experiment)
    env = environment()
    record = {
        "spec": traj.spec,
        "seed": experiment.seed,
        "engine": run.engine,
        "workers": run.workers,
        "bit_generator": env["bit_generator"],
        "numpy_version": env["numpy"],
        "versions": env,
        "final": s.to_dict(),
        "theory": {
            "log_sigma2_drift": p.log_sigma2_drift,
            "log_sigma2_step_var": p.log_sigma2_step_var,
        },
        "timing": {"simulate_s": run.simulate_s},
    }
    record["notes"] = nonfinite_notes(record) + underflow_notes(
        record["final"], lambda e: {k: e.get(k) for k in ("estimate", "theory")})
    if not experiment.is_base:  # a theory value the regime lacks is null: say why
        methods = dict(getattr(p, "methods", {}) or {})
        paths = [*_nulls(record["final"], "final"),
                 *(f"theory.{k}" for k, v in record["theory"].items() if v is None)]
        for path in paths:
            if any(n.startswith(path + " ") for n in record["notes"]):
                continue
            parts = [q for q in path.split(".") if q != "log_scale"]
            key = f"final.{parts[1]}" if parts[0] == "final" else parts[-1]
            record["notes"].append(_null_note(path, methods.get(key), experiment.regime))
    return record
