r"""The parameters of one categorical (token) refit experiment, validated on creation.

The chain (issue #12): a model is a law :math:`p = (p_1, \dots, p_K)` on K categories.
Generation 0 is the initial law :math:`p_0`; generation :math:`t \ge 1` draws n tokens
and refits by their empirical frequencies,

.. math::

    X_t \mid p_{t-1} \sim \mathrm{Multinomial}(n, s(p_{t-1})), \qquad
    p_t = \frac{X_t + \alpha}{n + K\alpha},

where :math:`s` is the model's sampling law (the identity by default; top-k then
temperature, see :func:`collapsecheck.families.categorical.engines.sampling_law`) and
:math:`\alpha \ge 0` is add-alpha smoothing (0: the plain frequencies). ``accumulate``
refits to all :math:`n t` tokens drawn so far; ``mix`` draws ``round(L n)`` of the n
tokens from :math:`p_0` itself (untouched by the sampling law) and the rest from
:math:`s(p_{t-1})`.

Initial laws: ``uniform``; ``zipf`` with :math:`p_i \propto i^{-s}`; or an explicit
probability vector, given in Python or read from a file by :func:`load_init_file` (one
probability per line, or ``category,probability`` lines).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import ClassVar

import numpy as np

from collapsecheck.errors import InputError
from collapsecheck.sizes import _is_int, _is_real, sizes_iv

__all__ = ["INITS", "MAX_CATEGORIES", "MAX_INIT_FILE_BYTES", "REGIMES", "SUM_TOLERANCE",
           "CategoricalExperiment", "load_init_file"]

#: Named initial laws; anything else is an explicit probability vector.
INITS = ("uniform", "zipf")
#: What each generation fits to (the module docstring defines them).
REGIMES = ("replace", "accumulate", "mix")
#: Largest number of categories K.
MAX_CATEGORIES = 10**6
#: Largest n (tokens per generation): counts stay exact int64 and float64 values.
MAX_N = 10**15
#: Largest total an accumulated pool may reach, n * generations: counts and their
#: frequencies stay exact in double precision.
MAX_POOL = 2**53
#: How far from 1 the sum of an explicit probability vector may be; within it the vector
#: is renormalised (with a note), beyond it refused.
SUM_TOLERANCE = 1e-6
#: Below this distance from 1 a sum is rounding, renormalised without a note.
_ROUNDING = 1e-12
#: Longest line an init file may hold on average (a category label, a comma and a
#: probability written with 17 significant digits fit easily).
MAX_LINE_BYTES = 64
#: Largest init file read: 10^6 lines of MAX_LINE_BYTES each. Anything larger is refused
#: before it is read.
MAX_INIT_FILE_BYTES = MAX_CATEGORIES * MAX_LINE_BYTES


def _experiment_iv(n, generations, replicates, seed) -> None:
    """Validate the sizes of :class:`CategoricalExperiment`; raise on the first bad one.

    TypeError for the wrong kind of value, ValueError for a wrong value. Each message
    names the parameter in backticks, states the rule and echoes the bad value.
    """
    if not _is_int(n):
        raise TypeError(f"`n` must be a whole number; got {n!r}.")
    if n < 1:
        raise ValueError(f"`n` (tokens per generation) must be at least 1; got {n}.")
    if n > MAX_N:
        raise ValueError(f"`n` must be at most {MAX_N:.0e} (counts stay exact); got {n}.")
    sizes_iv(generations, replicates, seed)


def _categories_iv(categories) -> None:
    if categories is None:
        return
    if not _is_int(categories):
        raise TypeError(f"`categories` must be a whole number; got {categories!r}.")
    if not 2 <= categories <= MAX_CATEGORIES:
        raise ValueError(f"`categories` (K) must lie in 2..{MAX_CATEGORIES:.0e}; "
                         f"got {categories}.")


def _vector_iv(init, categories, init_file) -> np.ndarray:
    """An explicit probability vector: 1-D, real, finite, non-negative, 2..10^6 entries,
    summing to 1 within SUM_TOLERANCE; ``categories``, if given, must equal its length."""
    where = "`init`" if init_file is None else f"`init` (from `init_file` {init_file!r})"
    arr = np.asarray(init)
    if arr.dtype.kind not in "fiu" or arr.dtype == bool:
        raise TypeError(f"{where} must be 'uniform', 'zipf' or a vector of probabilities; "
                        f"got {_shown(init)}.")
    if arr.ndim != 1:
        raise ValueError(f"{where} must be a 1-D vector of probabilities; got an array of "
                         f"shape {arr.shape}.")
    K = arr.size
    if not 2 <= K <= MAX_CATEGORIES:
        raise ValueError(f"{where} must hold 2..{MAX_CATEGORIES:.0e} probabilities (one a "
                         f"category); got {K}.")
    p = arr.astype(np.float64)
    bad = ~np.isfinite(p) | (p < 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{where} must hold finite probabilities >= 0; entry {i} is "
                         f"{float(p[i])!r}.")
    if categories is not None and categories != K:
        raise ValueError(f"`categories` ({categories}) differs from the {K} probabilities of "
                         f"{where}; the vector defines K (leave `categories` out).")
    total = math.fsum(p.tolist())
    if not abs(total - 1.0) <= SUM_TOLERANCE:
        raise ValueError(f"{where} must sum to 1 (within {SUM_TOLERANCE:g}); its probabilities "
                         f"sum to {total!r}.")
    return p


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:60] + "..."


def _init_iv(init, categories, zipf_s, init_file) -> None:
    """Validate the initial law's parameters (the named laws; the vector separately)."""
    named = isinstance(init, str)
    if named and init not in INITS:
        raise ValueError(f"`init` must be 'uniform', 'zipf' or a vector of probabilities; "
                         f"got {init!r}.")
    if named and categories is None:
        raise ValueError(f"`init` {init!r} needs `categories` (K, in 2..{MAX_CATEGORIES:.0e}).")
    if init_file is not None:
        if named:
            raise ValueError(f"`init_file` records where an explicit vector came from; it "
                             f"does not apply to `init` {init!r}.")
        if not isinstance(init_file, str | os.PathLike):
            raise TypeError(f"`init_file` must be a path or None; got {init_file!r}.")
    if zipf_s is not None and not _is_real(zipf_s):
        raise TypeError(f"`zipf_s` must be a real number or None; got {zipf_s!r}.")
    if named and init == "zipf":
        if zipf_s is None:
            raise ValueError("`init` 'zipf' needs `zipf_s` (the exponent s of p_i ∝ i^-s, > 0).")
        if not (math.isfinite(zipf_s) and zipf_s > 0):
            raise ValueError(f"`zipf_s` must be a finite number > 0; got {zipf_s}.")
    elif zipf_s is not None:
        shown = repr(init) if named else "an explicit vector"
        raise ValueError(f"`zipf_s` applies only to `init` 'zipf'; got it with {shown}.")


def _regime_iv(regime, fresh_fraction, alpha, temperature, top_k, K, tail_rank, n,
               generations) -> None:
    """Validate the regime and the sampling modifiers (same conventions)."""
    if regime not in REGIMES:
        raise ValueError(f"`regime` must be one of {', '.join(REGIMES)}; got {regime!r}.")
    for name, value in (("alpha", alpha), ("temperature", temperature)):
        if not _is_real(value):
            raise TypeError(f"`{name}` must be a real number; got {value!r}.")
    if fresh_fraction is not None and not _is_real(fresh_fraction):
        raise TypeError(f"`fresh_fraction` must be a real number or None; got "
                        f"{fresh_fraction!r}.")
    for name, value in (("top_k", top_k), ("tail_rank", tail_rank)):
        if value is not None and not _is_int(value):
            raise TypeError(f"`{name}` must be a whole number or None; got {value!r}.")
    if regime == "mix":
        if fresh_fraction is None:
            raise ValueError("`regime` 'mix' needs `fresh_fraction` (the share L of each "
                             "generation's n tokens drawn from the initial law p0).")
        if not (math.isfinite(fresh_fraction) and 0 <= fresh_fraction <= 1):
            raise ValueError(f"`fresh_fraction` must lie in [0, 1]; got {fresh_fraction}.")
    elif fresh_fraction is not None:
        raise ValueError(f"`fresh_fraction` applies only to `regime` 'mix'; got it with "
                         f"{regime!r}.")
    if regime == "accumulate" and n * generations > MAX_POOL:
        raise ValueError(f"`regime` 'accumulate' pools n * generations = {n * generations} "
                         f"tokens, over {MAX_POOL} (2^53, where counts stop being exact "
                         "doubles); use fewer `generations` or a smaller `n`.")
    if not (math.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"`alpha` (add-alpha smoothing) must be a finite number >= 0; "
                         f"got {alpha}.")
    if not (math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"`temperature` must be a finite number > 0; got {temperature}.")
    if top_k is not None and not 1 <= top_k <= K:
        raise ValueError(f"`top_k` must lie in 1..K = 1..{K} (or be None for no cut); "
                         f"got {top_k}.")
    if tail_rank is not None and not 1 <= tail_rank <= K - 1:
        raise ValueError(f"`tail_rank` must lie in 1..K-1 = 1..{K - 1} (the tail is the "
                         f"categories ranked beyond it in p0); got {tail_rank}.")


def zipf_law(K: int, s: float) -> np.ndarray:
    r"""The Zipf law on K categories: :math:`p_i = i^{-s} / \sum_{j=1}^K j^{-s}`.

    Computed as :math:`\exp(-s \log i)` (at most 1, so nothing overflows; a weight below
    the smallest double is 0: the category starts extinct)."""
    w = np.exp(-s * np.log(np.arange(1, K + 1, dtype=np.float64)))
    return w / w.sum()


@dataclass(frozen=True)
class CategoricalExperiment:
    r"""One categorical (token) refit chain experiment.

    Generation :math:`t \ge 1` draws n tokens from the model's sampling law and refits by
    (smoothed) frequencies; ``replicates`` independent chains are run (module docstring).

    Parameters
    ----------
    n : int
        Tokens per generation, ``n >= 1``.
    generations : int
        Number of refits ``T >= 0``; generation 0 is the initial law.
    replicates : int
        Number of independent chains, ``>= 1``.
    seed : int or None
        Entropy of the :class:`numpy.random.SeedSequence` behind every draw; None draws
        fresh entropy and records it.
    categories : int or None
        K, in 2..10^6. Required by the named laws; for an explicit vector its length is K
        and a different value is refused.
    init : {'uniform', 'zipf'} or array_like
        The initial law p0: uniform; Zipf (:math:`p_i \propto i^{-s}`, ``zipf_s`` = s);
        or explicit probabilities (finite, >= 0). A vector summing to within 1e-6 of 1 is
        renormalised with a note in ``init_note`` (a sum within 1e-12 of 1, rounding, is
        kept as it is); any other sum is refused. Stored as ``init='explicit'`` and :attr:`p0`.
    zipf_s : float or None
        The Zipf exponent s > 0; required by ``init='zipf'``, refused otherwise.
    init_file : str or None
        Where an explicit vector came from (recorded in :meth:`to_dict`); set by
        :meth:`from_init_file`; refused with a named law.
    tail_rank : int or None
        r in 1..K-1: the *initial tail* is the categories ranked beyond r when p0 is
        sorted in decreasing order (ties: the lower index ranks first). None: no tail.
    regime : {'replace', 'accumulate', 'mix'}
        What each generation fits: its n tokens; all n t tokens so far; or n tokens of
        which ``round(fresh_fraction * n)`` (Python's round: halves to even) come from p0.
    fresh_fraction : float or None
        L in [0, 1]; required by ``mix``, refused otherwise.
    alpha : float
        Add-alpha smoothing, ``>= 0``: :math:`p_t = (X + \alpha)/(N + K\alpha)`, N the
        tokens fitted (n, or n t under accumulate).
    temperature : float
        :math:`\tau > 0`: the model samples :math:`\propto p^{1/\tau}` (categories at 0
        stay at 0).
    top_k : int or None
        k in 1..K: the model samples only its k most probable categories (ties: the lower
        index first), renormalised; None: all.

    Notes
    -----
    Smoothing, temperature and top-k combine in every regime. They act on the *model*:
    smoothing on each fit, top-k then temperature on the law the model samples
    (generation 1's draws from p0 included). The fresh tokens of ``mix`` come from p0
    untouched. Under accumulate the sampling law is applied to the current fit of the
    pool, and the pool grows by the n new tokens.
    """

    #: The model family (:mod:`collapsecheck.families`) these parameters belong to.
    family: ClassVar[str] = "categorical"

    n: int = 1000
    generations: int = 100
    replicates: int = 1000
    seed: int | None = None
    categories: int | None = None
    init: str | Sequence[float] | np.ndarray = "uniform"
    zipf_s: float | None = None
    init_file: str | None = None
    tail_rank: int | None = None
    regime: str = "replace"
    fresh_fraction: float | None = None
    alpha: float = 0.0
    temperature: float = 1.0
    top_k: int | None = None
    #: The initial law, a read-only float64 vector of K probabilities summing to 1.
    p0: np.ndarray = field(init=False, repr=False, compare=False, default=None)
    #: SHA-256 of p0's little-endian float64 bytes for an explicit vector (None for named
    #: laws): what identifies it in :meth:`to_dict` and in comparisons.
    init_sha256: str | None = field(init=False, default=None)
    #: Why an explicit vector was renormalised, or None.
    init_note: str | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        _experiment_iv(self.n, self.generations, self.replicates, self.seed)
        _categories_iv(self.categories)
        named = isinstance(self.init, str)
        _init_iv(self.init, self.categories, self.zipf_s, self.init_file)
        note = None
        if named:
            K = int(self.categories)
            if self.init == "uniform":
                p = np.full(K, 1.0 / K)
            else:
                p = zipf_law(K, float(self.zipf_s))
        else:
            p = _vector_iv(self.init, self.categories, self.init_file)
            K = p.size
            total = math.fsum(p.tolist())
            if abs(total - 1.0) > _ROUNDING:
                what = "`init`" if self.init_file is None else f"{str(self.init_file)!r}"
                note = (f"the probabilities of {what} summed to {total!r} (within "
                        f"{SUM_TOLERANCE:g} of 1) and were renormalised")
                p = p / total  # a sum off by rounding only is kept: renormalising is then
                # idempotent, so replace() and a saved vector give back the same bits
        _regime_iv(self.regime, self.fresh_fraction, self.alpha, self.temperature, self.top_k,
                   K, self.tail_rank, self.n, self.generations)
        p.setflags(write=False)
        set_ = object.__setattr__
        set_(self, "p0", p)
        set_(self, "init_note", note)
        if not named:
            set_(self, "init", "explicit")
            set_(self, "init_sha256", hashlib.sha256(p.astype("<f8").tobytes()).hexdigest())
            if self.init_file is not None:
                set_(self, "init_file", os.fspath(self.init_file))
        # Normalise numpy scalars to Python ones so records serialise cleanly.
        for name in ("n", "generations", "replicates"):
            set_(self, name, int(getattr(self, name)))
        set_(self, "categories", int(K))
        for name in ("alpha", "temperature"):
            set_(self, name, float(getattr(self, name)))
        for name, kind in (("zipf_s", float), ("fresh_fraction", float), ("top_k", int),
                           ("tail_rank", int)):
            if getattr(self, name) is not None:
                set_(self, name, kind(getattr(self, name)))
        seed = np.random.SeedSequence().entropy if self.seed is None else int(self.seed)
        set_(self, "seed", seed)

    @classmethod
    def from_init_file(cls, path: str | os.PathLike, **parameters) -> CategoricalExperiment:
        """An experiment whose initial law is read from ``path`` by :func:`load_init_file`
        (which raises :class:`~collapsecheck.errors.InputError` for a bad file)."""
        return cls(init=load_init_file(path), init_file=os.fspath(path), **parameters)

    @property
    def K(self) -> int:
        """The number of categories."""
        return self.categories

    @property
    def fresh(self) -> int:
        """Fresh tokens (drawn from p0) among each generation's n:
        ``round(fresh_fraction * n)`` under ``mix`` (halves to even), else 0."""
        if self.regime != "mix":
            return 0
        return round(self.fresh_fraction * self.n)

    @property
    def model_tokens(self) -> int:
        """Tokens each generation draws from the model: ``n - fresh``."""
        return self.n - self.fresh

    @property
    def absorbing(self) -> bool:
        """True when a category at probability 0 can never return, so that a chain with
        one surviving category (monomorphic) stays so: no smoothing and no fresh tokens."""
        return self.alpha == 0 and self.fresh == 0

    @property
    def tail_mask(self) -> np.ndarray | None:
        """The initial tail as a boolean vector over the K categories (None without
        ``tail_rank``): the categories ranked beyond ``tail_rank`` in p0 sorted in
        decreasing order, ties ranked by the lower index first."""
        if self.tail_rank is None:
            return None
        order = np.argsort(-self.p0, kind="stable")
        mask = np.zeros(self.K, dtype=bool)
        mask[order[self.tail_rank:]] = True
        return mask

    def to_dict(self) -> dict:
        """The parameters as a plain dict (the ``spec`` of every JSON record). An explicit
        vector appears as ``init='explicit'`` with ``init_file`` and ``init_sha256``
        (the SHA-256 of p0's little-endian float64 bytes), not as K numbers."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        out["init_sha256"] = self.init_sha256
        out["init_note"] = self.init_note
        return out

    def replace(self, **changes) -> CategoricalExperiment:
        """A copy with some parameters changed, validated again. An explicit initial law
        is kept (with its note) unless ``init`` is changed."""
        kw = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        keep = self.init == "explicit" and "init" not in changes
        if self.init == "explicit":
            kw["init"] = self.p0
        if "init" in changes and "init_file" not in changes:
            kw["init_file"] = None
        if isinstance(changes.get("init"), str) and "categories" not in changes:
            kw["categories"] = self.categories
        elif "init" in changes and "categories" not in changes:
            kw["categories"] = None
        new = CategoricalExperiment(**{**kw, **changes})
        if keep and self.init_note is not None:
            object.__setattr__(new, "init_note", self.init_note)
        return new


# ---------------------------------------------------------------------------------------
# Init files
# ---------------------------------------------------------------------------------------

#: A plain decimal number (no nan, inf, underscores or hex that float() would take).
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def load_init_file(path: str | os.PathLike) -> np.ndarray:
    """Read an initial law from ``path``, strictly; return its probabilities (float64).

    The file is UTF-8 text (a leading byte-order mark is skipped), one category a line, in
    either form throughout:

    * one probability per line; or
    * ``category,probability`` lines (the label is everything before the last comma,
      unique, not empty), optionally under the header ``category,probability``.

    Categories keep the file's order (it breaks ties of top-k and of the tail ranking).
    Probabilities are plain decimal numbers, finite and >= 0, summing to 1 within 1e-6
    (the experiment renormalises them, with a note); the file's length is K, in
    2..10^6. Empty lines are skipped; a ``#`` is refused (comments are not part of the
    format). A file over :data:`MAX_INIT_FILE_BYTES` (10^6 lines of 64 bytes) is refused
    before it is read, and reading stops at the line that would make K exceed 10^6.

    Raises
    ------
    InputError
        Naming the file and line (line 1 is the first) for anything malformed.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"init file {str(path)!r} does not exist.")
    if not path.is_file():
        raise InputError(f"init file {str(path)!r} is not a regular file.")
    size = path.stat().st_size
    if size > MAX_INIT_FILE_BYTES:
        raise InputError(f"{path}: {size} bytes, over the limit of {MAX_INIT_FILE_BYTES} "
                         f"({MAX_CATEGORIES:.0e} lines of {MAX_LINE_BYTES} bytes); an init "
                         f"file holds at most {MAX_CATEGORIES:.0e} categories.")
    values: list[float] = []
    labels: dict[str, int] = {}
    form = None  # 1: probabilities alone; 2: category,probability
    try:
        with open(path, encoding="utf-8-sig", errors="strict", newline="") as fh:
            for number, raw in enumerate(fh, start=1):
                text = raw.rstrip("\r\n").strip()
                if not text:
                    continue
                if "#" in text:
                    raise InputError(f"{path}: line {number} holds a '#'; comments are not "
                                     "part of the format (one probability, or "
                                     "category,probability, a line).")
                parts = text.rsplit(",", 1)
                if form is None:
                    form = len(parts)
                    if form == 2 and [s.strip().lower() for s in parts] == ["category",
                                                                             "probability"]:
                        continue  # the optional header
                if len(parts) != form:
                    raise InputError(f"{path}: line {number} has {len(parts)} field(s); the "
                                     f"file's first line has {form} (every line is either a "
                                     "probability or category,probability).")
                if len(values) == MAX_CATEGORIES:
                    raise InputError(f"{path}: line {number}: more than {MAX_CATEGORIES:.0e} "
                                     "categories; K must lie in 2..1e+06.")
                if form == 2:
                    label = parts[0].strip()
                    if not label:
                        raise InputError(f"{path}: line {number}: the category label is "
                                         "empty.")
                    if label in labels:
                        raise InputError(f"{path}: line {number} repeats category {label!r} "
                                         f"(first on line {labels[label]}); each category "
                                         "appears once.")
                    labels[label] = number
                values.append(_probability(path, number, parts[-1].strip()))
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a UTF-8 text file.") from None
    if len(values) < 2:
        raise InputError(f"{path}: holds {len(values)} probabilit"
                         f"{'y' if len(values) == 1 else 'ies'}; K must lie in 2..1e+06.")
    total = math.fsum(values)
    if not abs(total - 1.0) <= SUM_TOLERANCE:
        raise InputError(f"{path}: the probabilities sum to {total!r}; they must sum to 1 "
                         f"(within {SUM_TOLERANCE:g}, which is renormalised).")
    return np.array(values, dtype=np.float64)


def _probability(path: Path, number: int, text: str) -> float:
    if not _NUMBER.fullmatch(text):
        shown = repr(text if len(text) <= 40 else text[:40] + "...")
        raise InputError(f"{path}: line {number}: {shown} is not a probability; write a "
                         "plain decimal number such as 0.25 or 1e-9.")
    value = float(text)
    if not math.isfinite(value):
        raise InputError(f"{path}: line {number}: {text!r} is not finite.")
    if value < 0:
        raise InputError(f"{path}: line {number}: probability {text} is negative; every "
                         "probability must be >= 0.")
    return value
