"""What a regime's exact theory predicts at the final generation, and how each number was
obtained.

The replace chain has :class:`~collapsecheck.families.gaussian.theory.replace.TheoryPrediction`
(every number exact). Other regimes return a :class:`RegimePrediction`: a number the
regime's theory cannot give exactly is ``None`` (never a made-up value), ``exact`` lists the
keys that are exact, and ``methods`` says how every other reported number was computed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["RegimePrediction", "exp_or_inf", "final_record"]


def exp_or_inf(x: float | None) -> float | None:
    """``exp(x)``, inf where it overflows, None for None."""
    if x is None:
        return None
    return math.inf if x > 709.78 else math.exp(x)


@dataclass(frozen=True)
class RegimePrediction:
    r"""Predictions for one regime's experiment at generation ``generations``.

    Raw quantities are kept as natural logs (``ln_*``) so that long horizons stay finite.
    ``stationary`` (mix) and ``limit`` (accumulate; n-growth with P > 1) are dicts with at
    least ``sigma2_mean`` and ``mu_var`` (raw, in the data's units), or None.
    """

    regime: str
    generations: int
    mu0: float
    sigma0: float
    ln_sigma2_mean: float | None
    ln_mu_var: float | None
    log_sigma2_drift: float | None = None
    log_sigma2_step_var: float | None = None
    log_sigma2_mean: float | None = None
    log_sigma2_sd: float | None = None
    ln_sigma_mean: float | None = None
    ln_sigma_quantiles: dict[str, float] | None = None
    prob_step_shrinks: float | None = None
    zero_drift_temperature: float | None = None
    stationary: dict | None = None
    limit: dict | None = None
    exact: tuple[str, ...] = ()
    methods: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def sigma_mean(self) -> float | None:
        return exp_or_inf(self.ln_sigma_mean)

    @property
    def sigma2_mean(self) -> float | None:
        return exp_or_inf(self.ln_sigma2_mean)

    @property
    def mu_var(self) -> float | None:
        return exp_or_inf(self.ln_mu_var)

    @property
    def sigma_quantiles(self) -> dict[str, float] | None:
        if self.ln_sigma_quantiles is None:
            return None
        return {k: exp_or_inf(v) for k, v in self.ln_sigma_quantiles.items()}

    @property
    def mu_mean(self) -> float:
        return self.mu0

    def final(self) -> dict:
        """The ``final`` object of ``collapsecheck theory --json``: the same keys as the
        replace chain's, None where this regime has no exact value."""
        return final_record(self)


def final_record(p) -> dict:
    """The ``final`` object of ``collapsecheck theory --json`` (DESIGN.md) of a prediction
    ``p`` (replace's TheoryPrediction or a RegimePrediction): the raw values and, in
    ``log_scale``, their natural logs."""
    q = p.ln_sigma_quantiles
    return {
        "sigma_mean": p.sigma_mean,
        "sigma2_mean": p.sigma2_mean,
        "log_sigma2_mean": p.log_sigma2_mean,
        "log_sigma2_sd": p.log_sigma2_sd,
        "mu_mean": p.mu_mean,
        "mu_var": p.mu_var,
        "sigma_quantiles": p.sigma_quantiles,
        "log_scale": {
            "sigma_mean": p.ln_sigma_mean,
            "sigma2_mean": p.ln_sigma2_mean,
            "mu_var": p.ln_mu_var,
            "sigma_quantiles": None if q is None else dict(q),
        },
    }
