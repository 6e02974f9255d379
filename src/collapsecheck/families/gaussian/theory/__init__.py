"""Exact theory of the Gaussian refit chain, one module per regime.

``steps``        the law of one generation's increment of log sigma^2 (shared)
``sampling``     the model's sampling law under temperature and truncation (shared)
``prediction``   the result object of a regime (which numbers are exact, and how)
``replace``      the article's chain: each generation refits to n draws of the last fit
``temperature``  replace, the model sampling at temperature tau (a shifted random walk)
``ngrowth``      replace with n_t = ceil(n t^P) (independent, non-identical steps)
``truncate``     replace, the model sampling a truncated normal (i.i.d. non-chi-square steps)
``accumulate``   every generation's data kept: fit to all draws so far
``subsample``    accumulate-subsample: fit to n draws without replacement from that pool
``mix``          a fresh share of the original data in every generation

:func:`predict` dispatches on the experiment's regime (:func:`regime_module` names the
module); a regime is added by adding a module and one line there. The names of the replace
chain are re-exported here (and from :mod:`collapsecheck.theory`, their historical home).
"""

from __future__ import annotations

from collapsecheck.families.gaussian.theory.replace import *  # noqa: F403
from collapsecheck.families.gaussian.theory.replace import (  # noqa: F401
    ConvergenceWarning,
    RecoveryProbability,
    _recovery_iv,
    _tabulated_cdf,
    log_mu_var,
    lundberg_exponent,
    mu_fourth_moment,
    prob_ever_recovers,
    siegmund_recovery_approximation,
)
from collapsecheck.families.gaussian.theory.replace import __all__ as _replace_all
from collapsecheck.families.gaussian.theory.steps import _step_iv  # noqa: F401

__all__ = [*_replace_all, "log_variance_law", "regime_module"]

#: Regime -> module of this package (replace is split further by its modifiers).
_REGIME_MODULES = {"accumulate": "accumulate", "accumulate-subsample": "subsample",
                   "mix": "mix"}


def regime_module(experiment) -> str:
    """The name of the module (in this package) whose theory covers ``experiment``."""
    e = experiment
    if e.regime != "replace":
        return _REGIME_MODULES[e.regime]
    if e.is_base:
        return "replace"
    if e.truncate is not None:
        return "truncate"
    return "ngrowth" if e.n_growth else "temperature"


def predict(experiment):
    """Exact predictions for ``experiment`` under its regime: a
    :class:`~collapsecheck.families.gaussian.theory.replace.TheoryPrediction` for the
    article's chain, a
    :class:`~collapsecheck.families.gaussian.theory.prediction.RegimePrediction` otherwise.

    Examples
    --------
    >>> from collapsecheck import Experiment
    >>> from collapsecheck.theory import predict
    >>> p = predict(Experiment(n=1000, generations=1000, replicates=1000, seed=0))
    >>> round(p.sigma_mean, 4)  # E[sigma_T]; the article's A2 says "roughly 0.45"
    0.4721
    """
    import importlib

    name = regime_module(experiment)
    module = importlib.import_module(f"{__name__}.{name}")
    return module.predict(experiment)


def log_variance_law(experiment):
    r"""The exact law of :math:`S_T = \log(\sigma_T^2/\sigma_0^2)` where the regime keeps
    the chain a random walk in log sigma^2 (replace, with temperature and n-growth): an
    object with ``cdf``, ``ppf``, ``mean`` and ``sd``; None for the other regimes, whose
    log sigma_T^2 has no exact law here."""
    e = experiment
    if e.regime != "replace" or e.truncate is not None:
        return None
    if e.is_base:
        return LogVarianceLaw(e.n, e.generations, e.ddof)  # noqa: F405 - from replace
    from collapsecheck.families.gaussian.theory.ngrowth import GrowthLaw

    return GrowthLaw(e.n, e.generations, e.ddof, e.n_growth, e.temperature)
