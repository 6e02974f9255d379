"""Deliberately wrong simulators of the categorical chain, each a realistic bug of a token
pipeline, caught by the ``categorical`` profile (``collapsecheck mutants`` lists them;
``calibrate --mutant categorical`` and ``validate --controls categorical`` run them).

Each is the family's correct engine run on a quietly different experiment, its records
claiming the experiment asked for; its randomness comes from ``experiment.seed`` alone.
"""

from __future__ import annotations

from dataclasses import replace

from collapsecheck.mutants import Mutant

__all__ = ["MUTANTS"]


def _changed(**change):
    """A simulator that runs ``experiment`` with ``change(experiment)`` applied."""

    def build():
        from collapsecheck.families.categorical.engines import simulate

        def run(experiment, record):
            wrong = experiment.replace(**{k: f(experiment) for k, f in change.items()})
            records = simulate(wrong, engine="sufficient", workers=1).records
            return replace(records, spec=experiment.to_dict())

        return run

    return build


MUTANTS: dict[str, Mutant] = {m.name: m for m in (
    Mutant("tokens-minus-10pct", "draws round(0.9 n) tokens per generation but claims n",
           _changed(n=lambda e: max(1, round(0.9 * e.n))), "categorical"),
    Mutant("smoothing-leak", "refits with add-0.5 smoothing (a lost category can come back) "
           "but claims plain frequencies", _changed(alpha=lambda e: 0.5), "categorical"),
    Mutant("sampling-temperature", "samples the model at temperature 0.9, as a decoder's "
           "default would, but claims plain sampling", _changed(temperature=lambda e: 0.9),
           "categorical"),
    Mutant("top-k-sampling", "samples only the model's K/2 most probable categories (top-k "
           "decoding) but claims plain sampling",
           _changed(top_k=lambda e: max(1, len(e.p0) // 2)), "categorical"),
    Mutant("fresh-leak", "5% of each generation's tokens leak in from the original law (mix "
           "L = 0.05) but the run claims pure refit",
           _changed(regime=lambda e: "mix", fresh_fraction=lambda e: 0.05), "categorical"),
)}
