"""Exact theory of the Gaussian refit chain (historical name, kept working).

The theory lives in :mod:`collapsecheck.families.gaussian.theory`, one module per regime;
this module re-exports it so that ``from collapsecheck.theory import predict`` keeps
working.
"""

from collapsecheck.families.gaussian.theory import *  # noqa: F403
from collapsecheck.families.gaussian.theory import (  # noqa: F401
    ConvergenceWarning,
    RecoveryProbability,
    __all__,
    _recovery_iv,
    _tabulated_cdf,
    log_mu_var,
    lundberg_exponent,
    mu_fourth_moment,
    prob_ever_recovers,
    siegmund_recovery_approximation,
)
