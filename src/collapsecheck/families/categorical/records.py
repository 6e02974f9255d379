r"""Records of the categorical chain: token statistics per replicate and generation, the
token-statistics log format, and the final-generation summary.

Statistics of a law :math:`p` on K categories (DESIGN.md, issue #12):

* survivors :math:`S = \#\{i : p_i > 0\}` (the log may give ``zeros`` = K - S instead);
* entropy :math:`H = -\sum_i p_i \log p_i` in nats (:math:`0 \log 0 = 0`), in
  :math:`[0, \log K]`;
* Gini-Simpson :math:`G = 1 - \sum_i p_i^2`, in :math:`[0, 1 - 1/K]`;
* with a tail rank r, the *initial tail* (the categories ranked beyond r in :math:`p_0`
  sorted decreasingly, ties by the lower index): its mass and its survivors;
* monomorphic: one category holds everything (S = 1, equivalently H = 0 or G = 0).

Token-statistics logs (CSV, UTF-8, a leading byte-order mark skipped): header
``replicate,generation`` plus any of ``survivors`` or ``zeros`` (not both), ``entropy``
and ``gini_simpson``, each once and at least one; one row per recorded (replicate,
generation), each pair at most once, numbers only (``#`` comments refused, empty lines
skipped). A log may start at generation 0 or 1 and may stop early or skip generations.
Under an absorbing regime (no smoothing, no fresh tokens: a lost category never
returns), a chain recorded monomorphic at some generation stays monomorphic: every
later generation it does not record is *known exactly* (S = 1, H = 0, G = 0) and filled
as such (``filled``); a later record that is not monomorphic is refused. Anything else a
chain does not record is *missing* (NaN, ``missing``). Every message names the file's
line (the header is line 1). Memory is checked before parsing; nothing is unpickled.
"""

from __future__ import annotations

import io
import itertools
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import stats

from collapsecheck.csvlog import (
    _THIN,
    MAX_FILE_BYTES,
    _check_csv_values,
    _csv_line,
    _csv_table,
    _refuse_repeats,
    _require_csv_memory,
    csv_header_line,
)
from collapsecheck.errors import InputError
from collapsecheck.io import atomic_write
from collapsecheck.resources import require_memory
from collapsecheck.summary import Estimate, _empirical_clt_ok, _mean_estimate

__all__ = ["COLUMNS", "ROUNDING_SLACK", "TokenTrajectories", "check_simulated", "final_summary",
           "load", "save"]

#: The statistic columns a log may hold (beside replicate and generation).
COLUMNS = ("survivors", "zeros", "entropy", "gini_simpson")
#: How far above its upper bound (log K, 1 - 1/K, log S, 1 - 1/S) an entropy or
#: Gini-Simpson value may lie, relative to the bound: the rounding of a float computation,
#: never a real excess.
ROUNDING_SLACK = 1e-9
#: Peak bytes of loading a log, per cell of its (replicates x generations) grid: five
#: float64 grids (three statistics, the placement, the fill), the masks, and a margin.
_LOAD_FACTOR = 12.0


@dataclass(frozen=True)
class TokenTrajectories:
    """Token statistics of R chains at the generations in ``generations``.

    Attributes
    ----------
    generations : (G,) int array
        Consecutive recorded generations (0..T for a simulation; a log's may start at 1).
    categories : int
        K.
    survivors, entropy, gini_simpson : (R, G) float64 arrays or None
        The statistics (module docstring); None when a log does not give them; NaN where
        ``missing``.
    monomorphic : (R, G) bool array
        One category holds everything (False where ``missing``).
    tail_mass, tail_survivors : (R, G) float64 arrays or None
        The initial tail's mass and survivors; None without ``tail_rank``.
    tail_rank : int or None
    filled : (R, G) bool array
        Cells not recorded but known exactly, the chain being absorbed (monomorphic) earlier.
    missing : (R, G) bool array
        Cells neither recorded nor known.
    spec : dict or None
        The parameters that produced them (None for loaded logs).
    """

    generations: np.ndarray
    categories: int
    survivors: np.ndarray | None
    entropy: np.ndarray | None
    gini_simpson: np.ndarray | None
    monomorphic: np.ndarray
    tail_mass: np.ndarray | None = None
    tail_survivors: np.ndarray | None = None
    tail_rank: int | None = None
    filled: np.ndarray | None = field(default=None)
    missing: np.ndarray | None = field(default=None)
    spec: dict | None = field(default=None)

    def __post_init__(self) -> None:
        shape = self.monomorphic.shape
        if len(shape) != 2 or shape[1] != len(self.generations):
            raise ValueError(f"`monomorphic` must be shaped (replicates, {len(self.generations)}"
                             f"); got {shape}.")
        for name in ("survivors", "entropy", "gini_simpson", "tail_mass", "tail_survivors",
                     "filled", "missing"):
            value = getattr(self, name)
            if value is not None and value.shape != shape:
                raise ValueError(f"`{name}` must be shaped {shape}; got {value.shape}.")
        if (self.tail_mass is None) != (self.tail_rank is None) and self.tail_mass is not None:
            raise ValueError("`tail_mass` needs `tail_rank`.")
        for name in ("filled", "missing"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, np.zeros(shape, dtype=bool))

    @property
    def replicates(self) -> int:
        return self.monomorphic.shape[0]

    @property
    def zeros(self) -> np.ndarray | None:
        """Categories at probability 0: K - survivors."""
        return None if self.survivors is None else self.categories - self.survivors

    @property
    def observed(self) -> np.ndarray:
        """Cells recorded (neither filled nor missing)."""
        return ~(self.filled | self.missing)


# ---------------------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------------------


def save(records: TokenTrajectories, path: str | os.PathLike, *,
         force: bool = False) -> Path:
    """Write the recorded cells of ``records`` as a token-statistics log (CSV), atomically.

    Only recorded cells are written (neither ``filled`` nor ``missing``), so that loading
    the file gives the same records back. An existing file is replaced only with
    ``force=True``."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise InputError(f"a token-statistics log is a .csv file; got {str(path)!r}.")
    names = [n for n in ("survivors", "entropy", "gini_simpson")
             if getattr(records, n) is not None]
    if not names:
        raise ValueError("`records` hold no statistic to save.")
    rep, g = np.nonzero(records.observed)
    columns = [rep, records.generations[g]] + [getattr(records, n)[rep, g] for n in names]
    fmt = ["%d", "%d"] + ["%d" if n == "survivors" else "%.17g" for n in names]

    def write(fh) -> None:
        text = io.TextIOWrapper(fh, encoding="utf-8", newline="\n")
        text.write(",".join(["replicate", "generation", *names]) + "\n")
        if rep.size:
            np.savetxt(text, np.column_stack(columns), fmt=fmt, delimiter=",")
        text.flush()
        text.detach()

    return atomic_write(path, write, force=force)


# ---------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------


def load(path: str | os.PathLike, categories: int, *, absorbing: bool = True,
         tail_rank: int | None = None) -> TokenTrajectories:
    """Read a token-statistics log (module docstring) of chains on ``categories`` (K)
    categories, strictly.

    ``absorbing`` (the default; False for smoothing or fresh tokens, where a lost category
    can return) fills the generations after a chain's first monomorphic record as known
    exactly and refuses a later record that is not monomorphic. ``tail_rank`` is carried
    onto the records (a log holds no tail statistics).

    Raises
    ------
    InputError
        Naming the file and line for: a wrong header; non-numbers, comments or non-finite
        values; replicate or generation not whole numbers from 0; a log whose earliest
        generation is neither 0 nor 1; survivors outside 1..K (zeros outside 0..K-1);
        entropy outside [0, log K]; Gini-Simpson outside [0, 1 - 1/K] (a rounding slack of
        :data:`ROUNDING_SLACK`, relative, above the upper bounds); statistics of one row
        that contradict each other (S = 1, H = 0 and G = 0 hold together or not at all;
        H <= log S; G <= 1 - 1/S); a repeated (replicate, generation) pair; a chain not
        monomorphic after a monomorphic record (with ``absorbing``); a file over
        ``MAX_FILE_BYTES`` or one that would need more memory than the budget
        (:class:`~collapsecheck.resources.ResourceError`).
    """
    if not (isinstance(categories, int) and not isinstance(categories, bool)):
        raise TypeError(f"`categories` must be a whole number; got {categories!r}.")
    if not 2 <= categories <= 10**6:
        raise ValueError(f"`categories` (K) must lie in 2..1e+06; got {categories}.")
    path = Path(path)
    if not path.exists():
        raise InputError(f"token-statistics log {str(path)!r} does not exist.")
    if not path.is_file():
        raise InputError(f"token-statistics log {str(path)!r} is not a regular file.")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError(f"token-statistics log {str(path)!r} is {size} bytes, over the limit "
                         f"of {MAX_FILE_BYTES}; thin it (fewer generations or replicates) "
                         "first.")
    if path.suffix.lower() != ".csv":
        raise InputError(f"token-statistics log {str(path)!r} must be a .csv file.")
    with open(path, encoding="utf-8-sig", errors="strict", newline="") as fh:
        header = _header(path, fh)
        _require_csv_memory(path, len(header), _LOAD_FACTOR)
        data = _csv_table(path, fh, header)
    col = {name: data[:, i] for i, name in enumerate(header)}
    del data
    _check_csv_values(path, col)
    K = categories
    if "zeros" in col:
        _whole_in(path, col, "zeros", 0, K - 1)
        col["survivors"] = K - col.pop("zeros")
    elif "survivors" in col:
        _whole_in(path, col, "survivors", 1, K)
    _ranges(path, col, K)
    _consistent(path, col)
    return _grid(path, col, K, absorbing, tail_rank)


def _header(path: Path, fh) -> list[str]:
    header, line = csv_header_line(path, fh, ("replicate", "generation", *COLUMNS),
                                   "replicate,generation,survivors,entropy,gini_simpson")
    missing = [c for c in ("replicate", "generation") if c not in header]
    if missing or not set(COLUMNS) & set(header):
        lacks = ", ".join(missing) or "a statistic (survivors, zeros, entropy, gini_simpson)"
        raise InputError(f"{path}: header {line!r} lacks {lacks}; expected e.g. "
                         "'replicate,generation,survivors,entropy,gini_simpson'.")
    if "survivors" in header and "zeros" in header:
        raise InputError(f"{path}: header {line!r} has both survivors and zeros; give one "
                         "(zeros = K - survivors).")
    return header


def _refuse(path: Path, bad: np.ndarray, why) -> None:
    """Raise for the first row where ``bad`` holds, naming its line; ``why(i)`` says why."""
    if bad.any():
        i = int(np.argmax(bad))
        line, _ = _csv_line(path, i)
        raise InputError(f"{path}: line {line}: {why(i)}.")


def _whole_in(path: Path, col: dict, name: str, lo: int, hi: int) -> None:
    v = col[name]
    bad = (v != np.round(v)) | (v < lo) | (v > hi)
    _refuse(path, bad, lambda i: f"column {name!r} must hold a whole number from {lo} to "
                                 f"{hi} (K = {hi + 1 if name == 'zeros' else hi}); got "
                                 f"{float(v[i])!r}")


def _ranges(path: Path, col: dict, K: int) -> None:
    top = {"entropy": math.log(K), "gini_simpson": 1.0 - 1.0 / K}
    label = {"entropy": "[0, log K]", "gini_simpson": "[0, 1 - 1/K]"}
    for name, hi in top.items():
        if name in col:
            v = col[name]
            bad = (v < 0) | (v > hi * (1 + ROUNDING_SLACK))
            _refuse(path, bad, lambda i, name=name, v=v, hi=hi:
                    f"column {name!r} must lie in {label[name]} = [0, {hi:.17g}] for K = {K}; "
                    f"got {float(v[i])!r}")


def _consistent(path: Path, col: dict) -> None:
    """One row's statistics must describe one law: monomorphic by one means monomorphic by
    all; H <= log S and G <= 1 - 1/S."""
    flags = {}
    if "survivors" in col:
        flags["survivors == 1"] = col["survivors"] == 1
    if "entropy" in col:
        flags["entropy == 0"] = col["entropy"] == 0
    if "gini_simpson" in col:
        flags["gini_simpson == 0"] = col["gini_simpson"] == 0
    items = list(flags.items())
    for (a, fa), (b, fb) in itertools.pairwise(items):
        _refuse(path, fa != fb, lambda i, a=a, b=b, fa=fa:
                f"{a if fa[i] else b} but not {b if fa[i] else a}: a chain whose law sits on "
                "one category has survivors 1, entropy 0 and Gini-Simpson 0 together")
    if "survivors" in col:
        s = col["survivors"]
        if "entropy" in col:
            h = col["entropy"]
            with np.errstate(divide="ignore"):
                bound = np.log(s)
            _refuse(path, h > bound * (1 + ROUNDING_SLACK), lambda i:
                    f"entropy {float(h[i])!r} exceeds log(survivors) = log {int(s[i])} = "
                    f"{float(bound[i]):.17g}, the most {int(s[i])} categories can hold")
        if "gini_simpson" in col:
            g = col["gini_simpson"]
            bound = 1.0 - 1.0 / s
            _refuse(path, g > bound * (1 + ROUNDING_SLACK), lambda i:
                    f"gini_simpson {float(g[i])!r} exceeds 1 - 1/survivors = "
                    f"{float(bound[i]):.17g}, the most {int(s[i])} categories can hold")


def _grid(path: Path, col: dict, K: int, absorbing: bool,
          tail_rank: int | None) -> TokenTrajectories:
    """Place every row at its (replicate, generation) on the grid from the earliest
    generation (0 or 1) to the latest; fill absorbed chains; mark the rest missing."""
    rep = col["replicate"].astype(np.int64)
    gen = col["generation"].astype(np.int64)
    lo = int(gen.min())
    if lo > 1:
        first = int(np.argmin(gen))
        line, _ = _csv_line(path, first)
        raise InputError(f"{path}: the earliest generation recorded is {lo} (line {line}); "
                         "a log starts at generation 0 (the initial law) or 1.")
    reps, rep_idx = np.unique(rep, return_inverse=True)
    R, G = reps.size, int(gen.max()) - lo + 1
    require_memory(8.0 * _LOAD_FACTOR * R * G,
                   f"{path}: analysing its {R} replicates x {G} generations (padded)", _THIN)
    flat = rep_idx * G + (gen - lo)
    _refuse_repeats(path, flat, rep, gen)
    row = np.full(R * G, -1, dtype=np.int64)
    row[flat] = np.arange(flat.size)
    row = row.reshape(R, G)
    observed = row >= 0
    grids = {}
    for name in ("survivors", "entropy", "gini_simpson"):
        if name in col:
            g = np.full(R * G, np.nan)
            g[flat] = col[name]
            grids[name] = g.reshape(R, G)
    if "survivors" in grids:
        mono = grids["survivors"] == 1
    elif "entropy" in grids:
        mono = grids["entropy"] == 0
    else:
        mono = grids["gini_simpson"] == 0
    filled = np.zeros((R, G), dtype=bool)
    if absorbing:
        ever = mono.any(axis=1)
        start = np.argmax(mono, axis=1)
        after = (np.arange(G)[None, :] > start[:, None]) & ever[:, None]
        back = after & observed & ~mono
        if back.any():
            r, c = np.unravel_index(int(np.argmax(back)), back.shape)
            line, _ = _csv_line(path, int(row[r, c]))
            was, _ = _csv_line(path, int(row[r, start[r]]))
            raise InputError(
                f"{path}: line {line}: replicate {reps[r]} is not monomorphic at generation "
                f"{lo + c}, but was at generation {lo + start[r]} (line {was}); without "
                "smoothing or fresh tokens a lost category never returns (load with "
                "absorbing=False for a regime where it can).")
        filled = after & ~observed
        for name, value in (("survivors", 1.0), ("entropy", 0.0), ("gini_simpson", 0.0)):
            if name in grids:
                grids[name][filled] = value
        mono = mono | filled
    missing = ~observed & ~filled
    return TokenTrajectories(np.arange(lo, lo + G), K, grids.get("survivors"),
                             grids.get("entropy"), grids.get("gini_simpson"), mono,
                             tail_rank=tail_rank, filled=filled, missing=missing)


# ---------------------------------------------------------------------------------------
# Final-generation summary
# ---------------------------------------------------------------------------------------


def _proportion(hits: int, total: int, theory: float | None) -> Estimate:
    """A proportion with its binomial standard error sqrt(p(1-p)/R) and the exact
    (Clopper-Pearson) 95% interval of :func:`scipy.stats.binomtest`."""
    p = hits / total
    theory = None if theory is None else float(theory)
    ci = stats.binomtest(hits, total).proportion_ci(confidence_level=0.95, method="exact")
    return Estimate(p, math.sqrt(p * (1 - p) / total), (float(ci.low), float(ci.high)),
                    theory)


def final_summary(records: TokenTrajectories, theory_final: dict | None = None) -> dict:
    """Final-generation statistics with standard errors and 95% intervals, beside theory.

    For each of ``survivors_mean``, ``entropy_mean``, ``gini_simpson_mean``,
    ``p_monomorphic`` and, with a tail, ``tail`` holding ``rank``, ``mass_mean``,
    ``survivors_mean`` and ``p_all_lost`` (every tail category lost), the names of
    ``theory --family categorical --json``: ``{"estimate", "se", "ci95": [lo, hi],
    "theory", "z", "clt_ok"}``, the layout of the Gaussian ``simulate --json`` ``final``
    (:class:`collapsecheck.summary.Estimate`). Means: the sample mean, ``se = s /
    sqrt(R)``, a Student-t interval, ``clt_ok`` from the sample kurtosis. Proportions: the
    binomial ``se = sqrt(p(1-p)/R)`` and the exact Clopper-Pearson interval. ``theory`` is
    ``theory_final[key]`` (``theory_final["tail"][key]`` for the tail; None where not
    given). Replicates whose final generation is
    missing are left out; a statistic the records do not hold is None.
    """
    theory_final = theory_final or {}
    keep = ~records.missing[:, -1]
    R = int(np.count_nonzero(keep))
    if R == 0:
        raise ValueError("no replicate records the final generation.")
    out: dict = {}
    for key, name in (("survivors_mean", "survivors"), ("entropy_mean", "entropy"),
                      ("gini_simpson_mean", "gini_simpson")):
        values = getattr(records, name)
        out[key] = None if values is None else _mean(values[keep, -1], theory_final.get(key))
    out["p_monomorphic"] = _proportion(int(np.count_nonzero(records.monomorphic[keep, -1])),
                                       R, theory_final.get("p_monomorphic")).to_dict()
    if records.tail_rank is not None and records.tail_mass is not None:
        theory_tail = theory_final.get("tail") or {}
        lost = int(np.count_nonzero(records.tail_survivors[keep, -1] == 0))
        out["tail"] = {
            "rank": records.tail_rank,
            "mass_mean": _mean(records.tail_mass[keep, -1], theory_tail.get("mass_mean")),
            "survivors_mean": _mean(records.tail_survivors[keep, -1],
                                    theory_tail.get("survivors_mean")),
            "p_all_lost": _proportion(lost, R, theory_tail.get("p_all_lost")).to_dict(),
        }
    return out


def _mean(x: np.ndarray, theory: float | None) -> dict:
    x = np.asarray(x, dtype=np.float64)
    theory = None if theory is None else float(theory)
    return _mean_estimate(x, theory, _empirical_clt_ok(x)).to_dict()


def check_simulated(records, experiment, record, name: str) -> TokenTrajectories:
    """What a simulator under test returned for ``experiment`` (``validate --simulator``):
    :class:`TokenTrajectories` with one row per replicate, the generations asked for
    (``record``: 'all' or 'final', or a superset ending at the horizon), and finite
    survivors, entropy and Gini-Simpson; otherwise an InputError naming the problem."""
    if not isinstance(records, TokenTrajectories):
        raise InputError(f"the simulator {name!r} returned {type(records).__name__}; for the "
                         "categorical family it must return collapsecheck.families."
                         "categorical.records.TokenTrajectories.")
    gens = np.asarray(records.generations)
    want = (np.arange(experiment.generations + 1) if record == "all"
            else np.array([experiment.generations]) if record == "final" else np.asarray(record))
    if not np.all(np.isin(want, gens)):
        raise InputError(f"the simulator {name!r} returned generations {gens.min()}.."
                         f"{gens.max()}; the check asked for "
                         f"{record if isinstance(record, str) else 'a list'} up to "
                         f"{experiment.generations}.")
    if records.replicates != experiment.replicates:
        raise InputError(f"the simulator {name!r} returned {records.replicates} chains; "
                         f"expected {experiment.replicates}.")
    for column in ("survivors", "entropy", "gini_simpson"):
        values = getattr(records, column)
        if values is None or not np.all(np.isfinite(values)):
            raise InputError(f"the simulator {name!r} returned no finite `{column}` for every "
                             "chain and generation; the checks need it.")
    if gens[-1] != experiment.generations:
        keep = gens <= experiment.generations
        records = TokenTrajectories(
            gens[keep], records.categories,
            *(None if getattr(records, c) is None else getattr(records, c)[:, keep]
              for c in ("survivors", "entropy", "gini_simpson", "monomorphic", "tail_mass",
                        "tail_survivors")),
            tail_rank=records.tail_rank, spec=records.spec)
    return records
