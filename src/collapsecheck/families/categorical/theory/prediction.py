r"""What exact theory predicts for the categorical chain, and how each number was obtained:
:func:`predict` and its result :class:`CategoricalPrediction`.

Definitions (every regime). Generation 0 is the initial law :math:`p_0`; generation
:math:`t \ge 1` fits the model :math:`p_t`. A category *survives* at t when it is present
in the data :math:`p_t` was fitted to (count > 0; under accumulate, in the pool; at t = 0,
:math:`p_{0,i} > 0`); the distribution is *monomorphic* when that data holds one category
only. Entropy (nats) and Gini-Simpson :math:`1 - \sum_i p_{t,i}^2` are of the model
:math:`p_t` (smoothed, when smoothing). The initial tail is the set of categories ranked
beyond ``tail_rank`` by :math:`p_0` (largest first); its mass is :math:`\sum_{i\in T}p_{t,i}`.

Which numbers are exact (see :mod:`.replace`, :mod:`.exact`, :mod:`.regimes`):

============================  ====================================================
replace (alpha >= 0)          all (alpha > 0: the smoothed count chain)
mix (L), alpha >= 0           all, within the work bound (one chain per distinct p0;
                              the variance one per distinct pair sum); Gini-Simpson
                              and tail mass always (moment recursion)
accumulate                    all but the entropy (simulation only)
temperature != 1, top-k       generation <= 1 only (replace, alpha = 0); every
                              generation for K = 2 at temperature and for top-1
                              (replace or accumulate, alpha = 0);
                              otherwise simulation only: the transform couples the
                              categories
============================  ====================================================

A number the theory does not give is None, never a made-up value, and ``notes`` says why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from collapsecheck.families.categorical.theory.chain import one_blas_thread
from collapsecheck.families.categorical.theory.exact import exact_series, moment_series
from collapsecheck.families.categorical.theory.regimes import (
    accumulate_gini_simpson_mean,
    accumulate_p_monomorphic,
    accumulate_survivors,
    accumulate_tail,
    recurrence,
    sampling_law,
    two_category_temperature,
)
from collapsecheck.families.categorical.theory.replace import (
    ABSORPTION_MAX_N,
    kimura_generations_to_monomorphic,
    mean_generations_to_monomorphic,
    tail_mask,
)

__all__ = ["REGIMES", "CategoricalPrediction", "predict"]

REGIMES = ("replace", "accumulate", "mix")

#: Keys of ``final`` (``tail.*`` inside ``final.tail``) and of ``per_generation``.
KEYS = ("survivors_mean", "survivors_sd", "entropy_mean", "gini_simpson_mean",
        "p_monomorphic", "tail.mass_mean", "tail.survivors_mean", "tail.p_all_lost")
_SERIES = {"tail.mass_mean": "tail_mass_mean", "tail.survivors_mean": "tail_survivors_mean",
           "tail.p_all_lost": "tail_p_all_lost"}


@dataclass(frozen=True)
class CategoricalPrediction:
    """Exact predictions of the categorical chain (module notes).

    ``series`` maps each key of :data:`KEYS` to its values at generations 0..T (or at T
    alone without ``per_generation``), or None where the theory has no exact value;
    ``exact`` lists the keys that are exact, ``methods`` says how each was computed and
    ``notes`` why each None is None. ``absorption`` (pure refit) and ``recurrence`` (how a
    lost category comes back; the article's A7) are dicts or None.
    """

    regime: str
    n: int
    generations: int
    categories: int
    tail_rank: int | None
    generation_grid: tuple[int, ...]
    series: dict
    exact: tuple[str, ...] = ()
    methods: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    absorption: dict | None = None
    recurrence: dict | None = None
    per_generation: bool = False

    def final(self) -> dict:
        """The ``final`` object of ``collapsecheck theory --family categorical --json``."""
        last = {k: None if v is None else float(v[-1]) for k, v in self.series.items()}
        out = {k: last[k] for k in KEYS if not k.startswith("tail.")}
        out["tail"] = None if self.tail_rank is None else {
            "rank": self.tail_rank, **{k[5:]: last[k] for k in KEYS if k.startswith("tail.")}}
        return out

    def to_dict(self) -> dict:
        out = {"family": "categorical", "regime": self.regime, "n": self.n,
               "generations": self.generations, "categories": self.categories,
               "final": self.final()}
        if self.per_generation:
            per = {"generation": list(self.generation_grid)}
            for k in KEYS:
                if k.startswith("tail.") and self.tail_rank is None:
                    continue
                v = self.series[k]
                per[_SERIES.get(k, k)] = None if v is None else [float(x) for x in v]
            out["per_generation"] = per
        out["exact"] = list(self.exact)
        out["methods"] = dict(self.methods)
        out["notes"] = list(self.notes)
        if self.absorption is not None:
            out["absorption"] = dict(self.absorption)
        if self.recurrence is not None:
            out["recurrence"] = {k: v for k, v in self.recurrence.items() if k != "notes"}
        return out


def _int_iv(name, value, low, high=None):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"`{name}` must be an integer; got {value!r}.")
    if value < low or (high is not None and value > high):
        rule = f"at least {low}" if high is None else f"between {low} and {high}"
        raise ValueError(f"`{name}` must be {rule}; got {value!r}.")
    return int(value)


def _float_iv(name, value, rule, ok):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"`{name}` must be a number; got {value!r}.")
    if not (math.isfinite(value) and ok(value)):
        raise ValueError(f"`{name}` must be {rule}; got {value!r}.")
    return float(value)


def _p0_iv(p0) -> np.ndarray:
    """p0 as a float array: 1-D, K >= 2, finite, non-negative, summing to 1 within 1e-6
    (then renormalised)."""
    try:
        arr = np.array(p0, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"`p0` must be a sequence of probabilities; got {p0!r}.") from None
    if arr.ndim != 1 or arr.size < 2:
        raise ValueError(f"`p0` must be 1-D with at least 2 categories; got {p0!r}.")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"`p0` must be finite and non-negative; got {p0!r}.")
    total = float(arr.sum())
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"`p0` must sum to 1 (within 1e-6); got a sum of {total!r}.")
    return arr / total


def _iv(p0, n, generations, tail_rank, regime, alpha, fresh_fraction, temperature, top_k):
    p0 = _p0_iv(p0)
    K = len(p0)
    n = _int_iv("n", n, 1)
    generations = _int_iv("generations", generations, 0)
    if tail_rank is not None:
        tail_rank = _int_iv("tail_rank", tail_rank, 1, K - 1)
    if regime not in REGIMES:
        raise ValueError(f"`regime` must be one of {', '.join(REGIMES)}; got {regime!r}.")
    alpha = _float_iv("alpha", alpha, "finite and >= 0", lambda x: x >= 0)
    fresh_fraction = _float_iv("fresh_fraction", fresh_fraction, "in [0, 1]",
                               lambda x: 0 <= x <= 1)
    temperature = _float_iv("temperature", temperature, "finite and > 0", lambda x: x > 0)
    if top_k is not None:
        top_k = _int_iv("top_k", top_k, 1)
    return p0, n, generations, tail_rank, regime, alpha, fresh_fraction, temperature, top_k


def _generation_zero(p0: np.ndarray, tail: np.ndarray | None) -> dict:
    q = p0[p0 > 0]
    out = {"survivors_mean": float(q.size), "survivors_sd": 0.0,
           "entropy_mean": float(-np.sum(q * np.log(q))),
           "gini_simpson_mean": float(1.0 - np.sum(p0 * p0)),
           "p_monomorphic": float(np.max(p0) == 1.0)}
    if tail is not None:
        mass = float(p0[tail].sum())
        out |= {"tail.mass_mean": mass, "tail.survivors_mean": float(np.sum(p0[tail] > 0)),
                "tail.p_all_lost": float(mass == 0.0)}
    return out


@one_blas_thread
def predict(p0, n: int, generations: int, *, tail_rank: int | None = None,
            regime: str = "replace", alpha: float = 0.0, fresh_fraction: float = 0.0,
            temperature: float = 1.0, top_k: int | None = None,
            per_generation: bool = False) -> CategoricalPrediction:
    r"""Exact predictions for the categorical chain started at ``p0`` (module notes).

    Parameters
    ----------
    p0 : array_like
        Initial law over K >= 2 categories (non-negative, finite, summing to 1 within 1e-6;
        renormalised).
    n : int
        Tokens drawn per generation (>= 1).
    generations : int
        Horizon T (>= 0).
    tail_rank : int, optional
        The initial tail is the categories ranked beyond this (1 <= tail_rank <= K - 1).
    regime : {'replace', 'accumulate', 'mix'}
        Pure refit; refit to every token so far; ``round(fresh_fraction n)`` of the n
        tokens drawn from p0.
    alpha : float
        Add-alpha smoothing, :math:`p_t = (X + \alpha)/(n + K\alpha)`.
    fresh_fraction : float
        L of the mix regime, in [0, 1].
    temperature : float
        The model samples from :math:`p^{1/\tau}` renormalised.
    top_k : int, optional
        The model samples only from its k most probable categories, renormalised.
    per_generation : bool
        Values at every generation 0..T, not only at T.

    Returns
    -------
    CategoricalPrediction

    Examples
    --------
    >>> import numpy as np
    >>> from collapsecheck.families.categorical.theory import predict
    >>> p = predict(np.full(100, 0.01), n=100, generations=50, tail_rank=10)
    >>> f = p.to_dict()["final"]
    >>> round(f["gini_simpson_mean"], 6)  # (1 - 1/K)(1 - 1/n)^T
    0.598956
    >>> round(f["tail"]["mass_mean"], 12)  # a martingale: its expectation never moves
    0.9
    """
    (p0, n, generations, tail_rank, regime, alpha, fresh_fraction, temperature,
     top_k) = _iv(p0, n, generations, tail_rank, regime, alpha, fresh_fraction,
                  temperature, top_k)
    K = len(p0)
    tail = None if tail_rank is None else tail_mask(p0, tail_rank)
    fresh = round(fresh_fraction * n) if regime == "mix" else 0
    law, tie_free = sampling_law(p0, temperature, top_k)
    sampling = temperature != 1.0 or (top_k is not None and top_k < np.count_nonzero(p0))
    keys = [k for k in KEYS if tail is not None or not k.startswith("tail.")]
    grid = tuple(range(generations + 1)) if per_generation else (generations,)
    zero = _generation_zero(p0, tail)
    methods: dict[str, str] = {}
    notes: list[str] = []
    reasons: dict[str, str] = {}  # key -> why it is None
    later: dict[str, np.ndarray | None] = {}  # values at generations 1..T (or T)
    absorption = rec = None

    if generations == 0:
        methods = {k: "generation 0 is p0 itself" for k in keys}
    elif (sampling and top_k == 1 and tie_free and alpha == 0
          and regime in ("replace", "accumulate")):
        # Top-1 draws all n tokens of generation 1 from the (unique) most probable category
        # (temperature keeps the order), and the model stays that point mass for ever.
        T1 = generations if per_generation else 1
        top = {"survivors_mean": 1.0, "survivors_sd": 0.0, "entropy_mean": 0.0,
               "gini_simpson_mean": 0.0, "p_monomorphic": 1.0, "tail.mass_mean": 0.0,
               "tail.survivors_mean": 0.0, "tail.p_all_lost": 1.0}
        later = {k: np.full(T1, top[k]) for k in keys}
        methods |= dict.fromkeys(keys, "top-1: a point mass on the most probable category "
                                       "from generation 1 on")
    elif sampling and K == 2 and top_k is None and regime == "replace" and alpha == 0:
        later = two_category_temperature(p0, n, generations, temperature, tail, per_generation)
        methods |= dict.fromkeys(keys, "K = 2: the first count is a Markov chain under "
                                       "temperature; its forward law")
    elif sampling:
        exact_first = regime == "replace" and alpha == 0 and tie_free and generations == 1
        if exact_first:
            later = _chain_values(law, n, 1, tail, 0, 0.0, False, methods, reasons, p0)
        else:
            why = ("top-k must break a tie at its boundary" if not tie_free else
                   "the temperature/top-k transform couples the categories")
            text = (f"temperature={temperature}, top_k={top_k}: {why}; no category's count "
                    "is a Markov chain of its own, so beyond generation 1 (pure refit, no tie "
                    "at the top-k boundary) there is no exact theory here: simulation only.")
            for k in keys:
                later[k] = None
                methods[k] = "simulation only"
                reasons[k] = text
    elif regime == "accumulate":
        later = _accumulate_values(p0, n, generations, tail, alpha, per_generation, methods,
                                   reasons)
    else:
        later = _chain_values(p0, n, generations, tail, fresh, alpha, per_generation,
                              methods, reasons, p0)
    if (generations > 0 and not sampling and regime != "accumulate") or (
            generations > 0 and regime == "accumulate" and not sampling and alpha == 0):
        rec = recurrence(p0, n, fresh=fresh, alpha=alpha if regime != "accumulate" else 0.0,
                         tail=tail)
        notes.extend(rec["notes"])
    if not sampling and regime == "replace" and alpha == 0:
        absorption = _absorption(p0, n, notes)

    for k in ("p_monomorphic", "tail.p_all_lost"):  # rounding can pass 1 by an ulp or two
        if later.get(k) is not None:
            later[k] = np.minimum(later[k], 1.0)
    series = {}
    for k in keys:
        v = later.get(k) if generations > 0 else np.zeros(0)
        if v is None:
            series[k] = None
            continue
        series[k] = np.concatenate([[zero[k]], v]) if per_generation else (
            np.asarray(v[-1:]) if generations > 0 else np.array([zero[k]]))
    exact = tuple(k for k in keys if series[k] is not None)
    null_notes = [f"{k}: {reasons.get(k, 'no exact theory here: simulation only.')}"
                  for k in keys if series[k] is None]
    notes = null_notes + notes  # one per null first, then the extras' notes
    return CategoricalPrediction(regime, n, generations, K, tail_rank, grid, series,
                                 exact, methods, tuple(notes), absorption, rec,
                                 per_generation)


def _chain_values(law, n, generations, tail, fresh, alpha, per_generation, methods, reasons,
                  p0) -> dict:
    """Replace (with smoothing) and mix: the count chains (:mod:`.exact`)."""
    s = exact_series(law, n, generations, tail=tail, fresh=fresh, alpha=alpha,
                     per_generation=per_generation)
    gini, mass = moment_series(law, n, generations, fresh=fresh, alpha=alpha, tail=tail,
                               per_generation=per_generation)
    reasons |= s.reasons
    how = ("backward vectors of the count chain Bin(n, X/n)" if fresh == 0 and alpha == 0
           else "backward vectors of the count chain (fresh draws / smoothing)")
    sd = None if s.survivors_var is None else np.sqrt(s.survivors_var)
    out = {"survivors_mean": s.survivors_mean, "survivors_sd": sd,
           "entropy_mean": s.entropy_mean, "p_monomorphic": s.p_monomorphic,
           "gini_simpson_mean": gini[1:] if per_generation else gini}
    methods |= {"survivors_mean": how + ", summed over categories",
                "survivors_sd": how + "; pairs by lumpability (merged pair chains)",
                "entropy_mean": how + ", by linearity over categories",
                "p_monomorphic": how + "; sum of P(X_i = n) (disjoint events)",
                "gini_simpson_mean": ("closed form (1 - sum p0^2)(1 - 1/n)^t" if fresh == 0
                                      and alpha == 0 else "exact affine recursion of E p, "
                                      "E p^2")}
    if tail is not None:
        if law is not p0:  # generation 1 under a sampling transform: E p_1 = g(p0)
            mass = np.array([float(law[tail].sum())])
        out |= {"tail.mass_mean": mass[1:] if per_generation else mass,
                "tail.survivors_mean": s.tail_survivors_mean,
                "tail.p_all_lost": s.tail_p_all_lost}
        methods |= {"tail.mass_mean": "E p_t (martingale under pure refit; affine recursion "
                                      "otherwise)",
                    "tail.survivors_mean": how + ", summed over the tail",
                    "tail.p_all_lost": how + ", merged tail chain (lumpability)"}
    if law is not p0:
        for k in out:
            methods[k] = ("generation 1 is the pure chain's generation 1 from the sampling "
                          "law: " + methods[k])
    return out


def _accumulate_values(p0, n, generations, tail, alpha, per_generation, methods,
                       reasons) -> dict:
    keys = [k for k in KEYS if tail is not None or not k.startswith("tail.")]
    if alpha != 0:
        methods |= {k: "simulation only" for k in keys}
        reasons |= dict.fromkeys(keys, "accumulate with smoothing has no exact theory here: "
                                       "simulation only.")
        return dict.fromkeys(keys)
    T = generations if per_generation else 1
    es, var = accumulate_survivors(p0, n)
    t = np.arange(1, generations + 1) if per_generation else np.array([generations])
    out = {"survivors_mean": np.full(T, es), "survivors_sd": np.full(T, math.sqrt(var)),
           "entropy_mean": None,
           "gini_simpson_mean": accumulate_gini_simpson_mean(p0, n, t),
           "p_monomorphic": np.full(T, accumulate_p_monomorphic(p0, n))}
    methods |= {"survivors_mean": "closed form: the survivors of generation 1",
                "survivors_sd": "closed form from (1 - p_i - p_j)^n",
                "entropy_mean": "simulation only",
                "gini_simpson_mean": "closed form (1 - sum p0^2) prod_s (1 - 1/(n s^2))",
                "p_monomorphic": "closed form sum_i p_i^n"}
    reasons["entropy_mean"] = ("under accumulate the pool's count chain grows with t "
                               "(states 0..n t); no exact value here: simulation only.")
    if tail is not None:
        tl = accumulate_tail(p0, n, tail)
        out |= {f"tail.{k}": np.full(T, tl[k]) for k in ("mass_mean", "survivors_mean",
                                                        "p_all_lost")}
        methods |= {"tail.mass_mean": "martingale: constant",
                    "tail.survivors_mean": "closed form: generation 1",
                    "tail.p_all_lost": "closed form (1 - p_tail)^n"}
    return out


def _absorption(p0, n, notes) -> dict | None:
    if n > ABSORPTION_MAX_N:
        notes.append(f"absorption: n = {n} is above {ABSORPTION_MAX_N} (dense solve): not "
                     "computed.")
        return None
    return {"mean_generations_to_monomorphic": mean_generations_to_monomorphic(p0, n),
            "kimura_approximation": kimura_generations_to_monomorphic(p0, n),
            "method": "exact: linear solve on the transient states of the count chain; "
                      "kimura_approximation is Kimura's diffusion formula (approximate)"}
