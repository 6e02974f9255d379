"""Deliberately wrong simulators of the multivariate chain, each a realistic bug, caught
by the ``mvgaussian`` profile (``collapsecheck mutants`` lists them; ``calibrate --mutant
mvgaussian`` and ``validate --controls mvgaussian`` run them). Each is the family's correct
engine run on a quietly different experiment, its records claiming the one asked for."""

from __future__ import annotations

from dataclasses import replace

from collapsecheck.mutants import Mutant

__all__ = ["MUTANTS"]


def _changed(**change):
    def build():
        from collapsecheck.families.mvgaussian.checks import eigen_generations
        from collapsecheck.families.mvgaussian.engines import simulate

        def run(experiment, record):
            wrong = experiment.replace(**{k: f(experiment) for k, f in change.items()})
            traj = simulate(wrong, engine="sufficient", workers=1, record="all",
                            eigen_record=eigen_generations(record)).trajectories
            return replace(traj, spec=experiment.to_dict())

        return run

    return build


MUTANTS: dict[str, Mutant] = {m.name: m for m in (
    Mutant("mv-draws-minus-10pct", "draws round(0.9 n) vectors per generation but claims n",
           _changed(n=lambda e: max(e.dim + 1, round(0.9 * e.n))), "mvgaussian"),
    Mutant("mv-ddof-mismatch", "divides the scatter matrix by n - (ddof + 1) but claims ddof",
           _changed(ddof=lambda e: e.ddof + 1), "mvgaussian"),
    Mutant("mv-dimension-lost", "fits and redraws D - 1 coordinates (one dimension dropped "
           "by a reshaping bug) but claims D", _changed(dim=lambda e: max(1, e.dim - 1)),
           "mvgaussian"),
)}
