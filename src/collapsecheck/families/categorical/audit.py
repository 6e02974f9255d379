r"""Audit of token-statistics logs against the exact theory of the categorical chain.

What the columns allow (each check at its Bonferroni share of ``budget``):

* ``gini_martingale`` (``gini_simpson``): under plain refit by frequencies of n tokens,
  :math:`E[G_t \mid \text{past}] = (1 - 1/n)\,G_{t-1}` exactly, so
  :math:`D_t = G_t - (1 - 1/n) G_{t-1}` is a martingale difference sequence and
  :math:`\sum D_t / \sqrt{\sum D_t^2}` over every recorded pair of consecutive
  generations, in every chain, is N(0, 1) in the limit (martingale CLT; Hall and Heyde
  1980, Th. 3.2). It needs no independence between generations and works on one long
  chain. The effective n follows from the decay factor
  :math:`b = \sum G_t G_{t-1} / \sum G_{t-1}^2` as :math:`n_{eff} = 1/(1 - b)`, with a
  heteroscedasticity-robust (martingale) standard error.
* ``survivors_mean``, ``entropy_mean``, ``gini_simpson_mean`` (many chains): each chain's
  score against an error in n, its deviations from the exact per-generation means
  weighted by how much each mean moves with n (:func:`_score`), tested across chains with
  a one-sample t-test: the chains are i.i.d., so the test holds whatever the dependence
  between one chain's generations; each gives an effective n.

Chains that stop at absorption are complete (their later generations are known exactly,
:mod:`~collapsecheck.families.categorical.records`); cells a chain does not record are
left out of every sum.
"""

from __future__ import annotations

import math

import numpy as np

from collapsecheck import stats
from collapsecheck.audit import graded_check

__all__ = ["audit_tokens"]

#: Fewest informative increments (D_t not identically 0) the martingale check reads.
MIN_INCREMENTS = 30
#: Fewest chains observed at a generation for a mean across chains.
MIN_CHAINS = 20
_POWER = 0.9


def _normal_isf(p: float) -> float:
    from scipy.stats import norm

    return float(norm.isf(p))


def _with_generation_zero(records, p0: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """The column ``name`` with generation 0 known from p0 when the log starts later."""
    x = np.asarray(getattr(records, name), float)
    gens = np.asarray(records.generations)
    if gens[0] == 0:
        return gens, x
    g0 = {"gini_simpson": 1.0 - float(np.sum(p0 * p0)),
          "entropy": float(-np.sum(p0[p0 > 0] * np.log(p0[p0 > 0]))),
          "survivors": float(np.count_nonzero(p0))}[name]
    return np.concatenate([[0], gens]), np.column_stack([np.full(x.shape[0], g0), x])


def _gini_martingale(records, n: int, p0: np.ndarray, alpha: float, weak: float):
    gens, g = _with_generation_zero(records, p0, "gini_simpson")
    consecutive = np.diff(gens) == 1
    prev, cur = g[:, :-1][:, consecutive], g[:, 1:][:, consecutive]
    ok = np.isfinite(prev) & np.isfinite(cur)
    prev, cur = prev[ok], cur[ok]
    d = cur - (1.0 - 1.0 / n) * prev
    informative = int(np.count_nonzero(d))
    if informative < MIN_INCREMENTS:
        return None, (f"only {informative} informative steps of Gini-Simpson between "
                      f"consecutive recorded generations (at least {MIN_INCREMENTS} needed)")
    z = stats.z_test(float(d.sum()) / float(np.sqrt(np.sum(d * d))), 1.0)
    sxx = float(np.sum(prev * prev))
    b = float(np.sum(cur * prev)) / sxx
    resid = cur - b * prev
    se_b = float(np.sqrt(np.sum(prev * prev * resid * resid))) / sxx
    lo_b, hi_b = b - 1.959963984540054 * se_b, b + 1.959963984540054 * se_b

    def n_of(slope: float) -> float:
        return 1.0 / (1.0 - slope) if slope < 1 else math.inf

    rate = {"decay_factor": {"estimate": b, "se": se_b, "ci95": [lo_b, hi_b],
                             "exact": 1.0 - 1.0 / n},
            "n_eff": {"estimate": n_of(b), "ci95": [n_of(lo_b), n_of(hi_b)]}}
    # detectable relative error in n: the statistic moves by e * sum(G_prev) / (n sqrt(sum D^2))
    zs = _normal_isf(alpha / 2) + _normal_isf(1 - _POWER)
    shift_per_e = float(prev.sum()) / (n * float(np.sqrt(np.sum(d * d))))
    detectable = zs / shift_per_e if shift_per_e > 0 else math.inf
    check = graded_check(
        "gini_martingale",
        f"Gini-Simpson decays by exactly 1 - 1/n = {1 - 1 / n:.6g} per generation in "
        "expectation (martingale differences G_t - (1 - 1/n) G_(t-1))",
        "self-normalised martingale z-test over every recorded step (martingale CLT)",
        z.statistic, z.pvalue, alpha, weak,
        {"metric": "relative error in n (first order)", "value": detectable,
         "power": _POWER},
        {"increments": int(d.size), "informative": informative, **rate["decay_factor"]})
    return (check, rate, detectable), None


_LABELS = {"survivors": "surviving categories", "entropy": "entropy (nats)",
           "gini_simpson": "Gini-Simpson index"}


def _per_generation(prediction, key: str) -> np.ndarray | None:
    per = prediction.to_dict().get("per_generation") or {}
    values = per.get(key)
    if values is None:
        return None
    return np.asarray([np.nan if v is None else v for v in values], float)


def _score(records, name: str, predictions, n: int, p0, alpha: float, weak: float):
    r"""A score test of each chain against the exact per-generation means, across chains.

    With :math:`m_t(n)` the exact mean at generation t and :math:`d_t = \partial m_t /
    \partial n` (central difference of the exact theory at n - 1 and n + 1), each chain's
    score is :math:`A_i = \sum_t c_t (x_{it} - m_t)`, :math:`c_t = d_t / v_t`, over the
    generations it records (:math:`v_t` the exact variance of the survivors; 1 for
    entropy and Gini-Simpson): the locally most powerful linear statistic against an error
    in n when the generations are weighted one by one. The weights come from theory alone
    and the chains are i.i.d. under H0, so the :math:`A_i` are i.i.d. with mean 0 whatever
    the dependence between one chain's generations: a one-sample t-test across chains
    holds. To first order a declared n off by :math:`\delta` moves their mean by
    :math:`\delta \sum_t c_t d_t`, which gives an effective n with its CI."""
    gens, x = _with_generation_zero(records, p0, name)
    at, lo, hi = (_per_generation(p, f"{name}_mean") for p in predictions)
    if at is None or lo is None or hi is None:
        return None, f"the theory gives no per-generation {_LABELS[name]} at this design"
    cols = gens > 0
    g = gens[cols]
    mu, d = at[g], (hi[g] - lo[g]) / 2.0
    v = np.ones_like(mu)
    if name == "survivors":
        sd = _per_generation(predictions[0], "survivors_sd")
        if sd is not None:
            v = sd[g] ** 2
    c = np.where((v > 0) & np.isfinite(v) & np.isfinite(d), d / np.where(v > 0, v, 1), 0.0)
    dev = x[:, cols] - mu
    seen = np.isfinite(dev)
    has = seen.any(axis=1)
    if int(has.sum()) < MIN_CHAINS:
        return None, (f"{int(has.sum())} chain(s) record it after generation 0 (a test across "
                      f"chains needs at least {MIN_CHAINS})")
    a = np.sum(np.where(seen, dev, 0.0) * c, axis=1)[has]
    gain = float(np.sum(np.where(seen, c * d, 0.0)[has], axis=1).mean())
    sd_a = float(a.std(ddof=1))
    if sd_a == 0.0 or gain == 0.0:
        return None, f"the {_LABELS[name]} carry no information about n at this design"
    t = stats.z_test(float(a.mean()), sd_a / math.sqrt(a.size), df=a.size - 1)
    ci = t.confidence_interval()
    zs = _normal_isf(alpha / 2) + _normal_isf(1 - _POWER)
    n_eff = {"estimate": n + float(a.mean()) / gain,
             "ci95": sorted([n + ci.low / gain, n + ci.high / gain])}
    check = graded_check(
        f"{name}_mean",
        f"the {_LABELS[name]} follow their exact mean at every recorded generation "
        f"({int(seen.any(axis=0).sum())} generations, {a.size} chains)",
        "one-sample t-test across chains of each chain's score against an error in n "
        "(deviations from the exact means weighted by d mean / d n"
        + (" over the exact variance)" if name == "survivors" else ")"),
        t.statistic, t.pvalue, alpha, weak,
        {"metric": "relative error in n (first order)",
         "value": zs * sd_a / math.sqrt(a.size) / abs(gain) / n, "power": _POWER},
        {"score_mean": float(a.mean()), "chains": int(a.size), "n_eff": n_eff,
         "generations": int(seen.any(axis=0).sum())})
    return check, None


def audit_tokens(records, *, n: int, experiment, budget: float = 1e-3,
                 weak_alpha: float = 0.01, source: str = ""):
    """Audit token-statistics ``records`` (from
    :func:`collapsecheck.families.categorical.records.load`) as chains of the categorical
    ``experiment`` (its n, K, initial law and regime) with n tokens per generation.
    Returns a :class:`collapsecheck.audit.AuditResult`."""
    from collapsecheck.audit import AuditResult
    from collapsecheck.families.categorical.theory import predict

    if not 0 < budget < 0.5:
        raise ValueError(f"`budget` must lie in (0, 0.5); got {budget}.")
    e = experiment
    plain = e.regime == "replace" and not e.alpha and e.temperature == 1 and not e.top_k
    p0 = np.asarray(e.p0, float)
    candidates = []
    skipped: dict[str, str] = {}
    if records.gini_simpson is not None:
        if plain:
            candidates.append("gini_martingale")
        else:
            skipped["gini_martingale"] = ("the exact decay of Gini-Simpson by 1 - 1/n holds "
                                          "for plain refit only")
    else:
        skipped["gini_martingale"] = "the log has no gini_simpson column"
    for name in ("survivors", "entropy", "gini_simpson"):
        if getattr(records, name) is not None:
            candidates.append(name)
        else:
            skipped[f"{name}_mean"] = f"the log has no {name} column"
    alpha = budget / max(len(candidates), 1)
    weak = max(weak_alpha / max(len(candidates), 1), alpha)
    checks, rate, reach = [], {}, {}
    if "gini_martingale" in candidates:
        got, why = _gini_martingale(records, n, p0, alpha, weak)
        if got is None:
            skipped["gini_martingale"] = why
        else:
            check, rate, _ = got
            checks.append(check)
    predictions = None
    for name in ("survivors", "entropy", "gini_simpson"):
        if name not in candidates:
            continue
        if predictions is None:
            horizon = int(np.max(records.generations))
            predictions = [predict(p0, m, horizon, tail_rank=e.tail_rank, regime=e.regime,
                                   alpha=e.alpha, fresh_fraction=e.fresh_fraction or 0.0,
                                   temperature=e.temperature, top_k=e.top_k,
                                   per_generation=True)
                           for m in (n, max(n - 1, 1), n + 1)]
        check, why = _score(records, name, predictions, n, p0, alpha, weak)
        if check is None:
            skipped[f"{name}_mean"] = why
        else:
            checks.append(check)
            rate.setdefault(f"n_eff_{name}", check.numbers["n_eff"])
    in_n = [c.detectable_effect["value"] for c in checks
            if c.detectable_effect.get("metric", "").startswith("relative error in n")]
    if in_n:
        reach["n_relative_error_detectable"] = min(in_n)
    if not checks:
        from collapsecheck.errors import InputError

        raise InputError(f"{source + ': ' if source else ''}no check can run on this log: "
                         + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
    spec = {"family": "categorical", "n": n, "categories": int(p0.size),
            "regime": e.regime, "budget": budget, "chains": int(records.replicates),
            "generations": [int(records.generations[0]), int(records.generations[-1])]}
    notes = []
    if records.filled is not None and np.any(records.filled):
        notes.append(f"{int(np.sum(np.any(records.filled, axis=1)))} chain(s) stop at "
                     "absorption; their later generations are known exactly and were filled")
    if records.generations[0] > 0:
        notes.append(f"the log starts at generation {int(records.generations[0])}; generation "
                     "0 is the declared initial law")
    return AuditResult(source=source, spec=spec, checks=tuple(checks), rate=rate,
                       skipped=skipped, notes=tuple(notes), reach=reach)
