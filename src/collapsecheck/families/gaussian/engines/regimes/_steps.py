r"""One generation's refit under every regime, from the summaries of its batches.

Both regime engines reduce each generation's draws to batch summaries and hand them to
:func:`run_chains`, which applies the regime's fit; they differ only in where the
summaries come from (actual draws, or their exact laws). In standardised coordinates
(:class:`~collapsecheck.engines._blocks.Recorder`) the model of generation t - 1 is
:math:`N(\mu, s)` with :math:`s = \tau^2\sigma^2`; a batch of r model draws is
summarised by the mean :math:`\bar z` and the centred sum of squares :math:`S_z` of its
*standard* draws (normal, or truncated to [-C, C]), so that its values have mean
:math:`\mu + \sqrt s\,\bar z` and sum of squares :math:`s S_z`. A batch of m fresh draws
(``mix``) has mean :math:`\bar f` and sum of squares :math:`S_f` (the original
distribution is N(0, 1) here).

``replace`` (with temperature, n-growth, truncation) is a random walk in
:math:`\log\sigma^2`, tracked on the log scale so that it never underflows:

.. math::

    \mu_t = \mu + \sqrt s\,\bar z, \qquad
    \log\sigma_t^2 = \log\sigma^2 + \log\tau^2 + \log S_z - \log(n_t - d).

``mix`` merges the model batch (r draws) and the fresh batch (m draws) exactly,

.. math::

    S = S_f + s S_z + \frac{r m}{n_t}(\bar f - \bar x_{\rm model})^2, \qquad
    \sigma_t^2 = S / (n_t - d),

(m = 0 is the replace step, r = 0 a fit to fresh draws alone). ``accumulate`` keeps the
running pool (N, pooled mean, pooled sum of squares Q) and never its values: the pooled
mean is :math:`\mu_{t-1}` itself, so with :math:`N_t = N_{t-1} + n_t`

.. math::

    Q_t = Q_{t-1} + s\Big(S_z + \frac{N_{t-1} n_t}{N_t}\bar z^2\Big), \qquad
    \mu_t = \mu + \frac{n_t}{N_t}\sqrt s\,\bar z, \qquad
    \sigma_t^2 = Q_t / (N_t - d).

(``accumulate-subsample`` needs the pool's values; it lives in the samples engine.)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from collapsecheck.engines._blocks import Recorder, check_cancelled

__all__ = ["run_chains", "sufficient_unavailable"]

Batch = Callable[[int], tuple[np.ndarray, np.ndarray]]


def sufficient_unavailable(e) -> str | None:
    """Why the ``sufficient`` engine cannot run ``e`` (one sentence), or None if it can."""
    if e.regime == "accumulate-subsample":
        return ("the sufficient engine cannot run regime 'accumulate-subsample': a subsample "
                "of the pool depends on the pool's actual values, not on its mean and sum of "
                "squares; use `--engine samples`.")
    if e.truncate is not None:
        return ("the sufficient engine cannot run a truncated model (`truncate`): the mean and "
                "sum of squares of truncated normal draws have no closed-form joint law; use "
                "`--engine samples`.")
    return None


def run_chains(e, rows: int, record: np.ndarray, emit, emit_columns, model: Batch,
               fresh: Batch):
    """Run ``rows`` chains of ``e`` (regime replace, mix or accumulate).

    ``model(r)`` returns ``(zbar, ss)`` of each row's r standard model draws, ``fresh(m)``
    those of m fresh N(0, 1) draws; they are called once per generation (model first) and
    only for batches that exist (r >= 1, m >= 1). Returns the Recorder's result."""
    log_tau2 = 2.0 * math.log(e.temperature)
    rec = Recorder(e, rows, record, emit, emit_columns)
    mu, log_var = rec.start(rows)
    accumulate = e.regime == "accumulate"
    pool_n, pool_q = 0, np.zeros(rows)
    for t in range(1, e.generations + 1):
        check_cancelled()
        n_t = e.n_at(t)
        m = e.fresh_at(t)
        r = n_t - m
        log_div = math.log(n_t - e.ddof)
        if accumulate:
            zbar, ss = model(n_t)
            s = np.exp(log_var + log_tau2)
            total = pool_n + n_t
            pool_q = pool_q + s * (ss + (pool_n * n_t / total) * zbar * zbar)
            mu = mu + (n_t / total) * np.sqrt(s) * zbar
            log_var = np.log(pool_q) - math.log(total - e.ddof)
            pool_n = total
        elif m == 0:  # replace (and mix with no fresh draw this generation)
            zbar, ss = model(r)
            mu = mu + np.exp(0.5 * (log_var + log_tau2)) * zbar
            log_var = log_var + (log_tau2 - log_div) + np.log(ss)
        elif r == 0:  # every draw fresh
            fbar, ssf = fresh(m)
            mu = fbar.copy()
            log_var = np.log(ssf) - log_div
        else:
            zbar, ss = model(r)
            fbar, ssf = fresh(m)
            s = np.exp(log_var + log_tau2)
            model_mean = mu + np.sqrt(s) * zbar
            gap = fbar - model_mean
            total_ss = ssf + s * ss + (r * m / n_t) * gap * gap
            mu = (r * model_mean + m * fbar) / n_t
            log_var = np.log(total_ss) - log_div
        rec.take(t, mu, log_var)
    return rec.result()
