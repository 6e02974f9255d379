"""collapsecheck: statistical verification of model collapse against exact theory.

The subject is the Gaussian refit chain: generation t fits a normal distribution to
n draws from the normal fitted at generation t - 1.  Everything the package predicts
follows from the exact law of that chain (see :mod:`collapsecheck.theory`).
"""

__version__ = "0.1.0"

from collapsecheck.experiment import Experiment

__all__ = ["Experiment", "__version__"]
