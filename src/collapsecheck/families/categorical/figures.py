"""The categorical family's figure for the validation report: surviving categories and
entropy over generations, the exact mean of each beside the simulated mean (with its 95%
interval) and a few chains (figure kind ``panels``,
:func:`collapsecheck.report.figures.panels_svg`)."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["figure_data"]


def figure_data(profile, results, *, seed: int, workers: int | None = None,
                simulator=None, stream=None, source: str = "",
                chains: int = 20, replicates: int = 400) -> dict:
    """``{"panels": ...}`` for the first categorical check of ``profile``: its design,
    ``replicates`` chains from ``seed`` drawn by ``simulator`` (the family's sufficient
    engine when None). ``stream`` and ``source``, which the protocol also passes, are
    not used: one seed suffices, and the title names the source in its own words."""
    from collapsecheck.families.categorical.theory import predict

    check = next((c for c in profile.checks if c.family == "categorical"), None)
    if check is None or check.generations < 1:
        return {}
    e = check.experiment(seed, min(check.replicates, replicates))
    if simulator is None:
        from collapsecheck.families.categorical.engines import simulate

        records = simulate(e, engine="sufficient", workers=workers).records
        source = "built-in sufficient engine"
    else:
        records = simulator(e, "all")
        source = "the simulator under test"
    per = predict(e.p0, e.n, e.generations, tail_rank=e.tail_rank, regime=e.regime,
                  alpha=e.alpha, fresh_fraction=e.fresh_fraction or 0.0,
                  temperature=e.temperature, top_k=e.top_k,
                  per_generation=True).to_dict()["per_generation"]
    gens = np.asarray(records.generations)
    panels = []
    missing = []  # quantities whose exact mean the theory does not give at this design
    for name, label in (("survivors", "surviving categories"), ("entropy", "entropy (nats)")):
        x = np.asarray(getattr(records, name), float)
        values = per[f"{name}_mean"]
        if values is None:
            missing.append(name)
            values = [None] * (e.generations + 1)
        exact = np.asarray([math.nan if v is None else v for v in values], float)[gens]
        panels.append({
            "ylabel": label, "exact": exact.tolist(),
            "simulated": np.nanmean(x, axis=0).tolist(),
            "se": (np.nanstd(x, axis=0, ddof=1) / math.sqrt(x.shape[0])).tolist(),
            "chains": x[:chains].tolist(),
            **({"exact_label": "exact mean (not computed at this design)"}
               if name in missing else {}),
        })
    law = e.init if e.init != "zipf" else f"Zipf(s={e.zipf_s:g})"
    return {"panels": {
        "generations": gens.tolist(), "panels": panels,
        "title": (f"Tails that disappear: K={len(e.p0)} categories, {law} start, "
                  f"n={e.n} tokens per generation\n({source}, {x.shape[0]} chains)"),
        "caption": ("The categorical chain: surviving categories and entropy over "
                    "generations, exact means beside simulated means (95% intervals) and "
                    f"{min(chains, x.shape[0])} chains"
                    + (f"; the exact {' and '.join(missing)} means are not computed at "
                       "this design (too costly: see `theory --family categorical --json` "
                       "notes), so only the simulation is drawn" if missing else "")),
    }}
