"""Deliberately wrong simulators: each gets one thing wrong, the checks must catch it.

They live in the package, :mod:`collapsecheck.mutants` (the named bugs in its
``MUTANTS`` registry, ``collapsecheck mutants`` lists them); these are its parametrised
builders under the names the tests use.
"""

from collapsecheck.mutants import (
    clipped_samples,
    correct,
    drift_offset,
    paired_replicates,
    tails,
    wrong_ddof,
    wrong_n,
)
from collapsecheck.mutants import mean_step_scale as mean_spread

__all__ = ["clipped_samples", "correct", "drift_offset", "mean_spread", "paired_replicates",
           "tails", "wrong_ddof", "wrong_n"]
