r"""Engines of the categorical (token) chain: two ways of drawing the same counts.

Each generation of a chain draws counts :math:`X_t \sim \mathrm{Multinomial}(m,
s(p_{t-1}))` from the model (m = n - fresh tokens) plus, under ``mix``,
:math:`\mathrm{Multinomial}(f, p_0)` fresh counts, and refits (see
:mod:`collapsecheck.families.categorical.parameters`). The engines differ only in how
they draw a multinomial vector:

* ``samples`` draws every token: one uniform :math:`u` (``Generator.random``) per token,
  mapped to the category :math:`i` with :math:`c_{i-1} \le u < c_i` on the cumulative law
  :math:`c` (normalised so that :math:`c_K = 1` exactly; a category of probability 0 has
  an empty interval and is never drawn), then counted: cost O(n) per chain and
  generation. The search runs on integers, :math:`U = 2^{53} u` against
  :math:`\lceil 2^{53} c_i \rceil` (the same comparison exactly, since ``random`` returns
  multiples of :math:`2^{-53}`), offset by :math:`2^{53}` per chain, so one
  ``searchsorted`` serves a whole block (where tokens outnumber the categories, the
  sorted tokens are merged with the keys instead: the same counts, faster).
* ``sufficient`` draws the counts directly with ``Generator.multinomial`` (binomial
  splitting, one row of probabilities per chain): cost independent of n. numpy gives the
  last category whatever the binomials before it leave; so that rounding in that
  remainder can never hand tokens to a category of probability 0, each row's most
  probable category is swapped into the last place for the draw and back after it.

Stream layout of block b (the reproducibility contract): two Generators on
:data:`~collapsecheck.engines._blocks.BIT_GENERATOR` from the children of
``SeedSequence(seed, spawn_key=(b,))``, the first for the model's tokens, the second for
the fresh tokens of ``mix``. Each is read generation by generation, chain by chain in
order: ``samples`` reads m (or f) uniforms per chain, ``sufficient`` one multinomial row
per chain. However many uniforms are drawn at a time (``chunk``) and however many workers
run the blocks, the numbers are the same.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

import numpy as np

from collapsecheck.engines._blocks import (
    REPLICATE_BLOCK,
    block_seed,
    block_slices,
    check_cancelled,
    generator,
    iter_blocks,
    resolve_workers,
)
from collapsecheck.families.categorical.parameters import CategoricalExperiment
from collapsecheck.families.categorical.records import TokenTrajectories
from collapsecheck.resources import require_memory

__all__ = ["DEFAULT_CHUNK", "ENGINES", "CategoricalRun", "sampling_law", "simulate"]

ENGINES = ("samples", "sufficient")

#: Default bound on the tokens the ``samples`` engine draws at once (2^18: about 8 MiB of
#: uniforms, their integer keys and categories).
DEFAULT_CHUNK = 1 << 18

#: Bytes a block holds per chain and category: the model, its sampling law, the
#: cumulative keys, the counts, the pool, the counting buffer and the temporaries of the
#: statistics (about twelve float64 or int64 arrays of rows x K).
_BYTES_PER_CELL = 12 * 8
#: Bytes the samples engine holds per token of a chunk (uniform, key, chain, category).
_BYTES_PER_TOKEN = 5 * 8
#: Bytes a record holds per replicate and generation: five statistics (float64) and the
#: monomorphic flag, with tail statistics two more.
_RECORD_BYTES = 8 * 7 + 1

#: From this many elements of work per generation in a block, blocks run as threads
#: (numpy releases the GIL in its draws, searches and reductions); below it, processes.
_THREADS_MIN_WORK = 1 << 15

_SCALE = float(2**53)


@dataclass(frozen=True)
class CategoricalRun:
    """Token statistics of simulated chains, with how they were made.

    Attributes
    ----------
    records : TokenTrajectories
        Every replicate at every generation 0..T.
    engine : str
    workers : int
        Workers used (the results do not depend on it).
    simulate_s : float
        Wall time of the engine, worker start-up included.
    final_p : (R, K) float64 array or None
        The fitted laws at generation T, when ``keep_final`` was asked for.
    """

    records: TokenTrajectories
    engine: str
    workers: int
    simulate_s: float
    final_p: np.ndarray | None = None


def sampling_law(p: np.ndarray, temperature: float = 1.0,
                 top_k: int | None = None) -> np.ndarray:
    r"""The law a model ``p`` samples from, row by row (``p``: (K,) or (rows, K)).

    Top-k first: only the k largest :math:`p_i` are kept, ties at the k-th value going to
    the lower indices. Then temperature: :math:`q_i \propto p_i^{1/\tau}`, computed as
    :math:`\exp((\log p_i - \log p_{\max})/\tau)` so no power overflows (a weight below
    the smallest double becomes 0: it would be drawn with probability under 1e-308).
    Categories at 0 stay at 0. The result is renormalised to sum to 1 when either
    modifier acts, and is ``p`` itself (not a copy) when neither does.
    """
    p = np.asarray(p, dtype=np.float64)
    if (top_k is None or top_k >= p.shape[-1]) and temperature == 1:
        return p
    q = np.atleast_2d(p)
    if top_k is not None and top_k < q.shape[1]:
        kth = -np.partition(-q, top_k - 1, axis=1)[:, top_k - 1: top_k]
        above = q > kth
        tie = q == kth
        need = top_k - np.count_nonzero(above, axis=1)[:, None]
        keep = above | (tie & (np.cumsum(tie, axis=1) <= need))
        q = np.where(keep, q, 0.0)
    if temperature != 1:
        with np.errstate(divide="ignore"):
            lq = np.log(q)
        lq -= lq.max(axis=1, keepdims=True)
        lq /= temperature
        q = np.exp(lq, out=lq)
    q = q / q.sum(axis=1, keepdims=True)
    return q.reshape(p.shape)


# ---------------------------------------------------------------------------------------
# Drawing counts
# ---------------------------------------------------------------------------------------


def _keys(q: np.ndarray) -> np.ndarray:
    """The integer cumulative keys of a block's laws (rows, K), flattened: row r holds
    r 2^53 + ceil(2^53 c_i), c the cumulative law normalised to end at exactly 1."""
    c = np.cumsum(q, axis=1)
    c /= c[:, -1:]
    c *= _SCALE
    np.ceil(c, out=c)
    keys = c.astype(np.int64)
    keys += (np.arange(q.shape[0], dtype=np.int64) << 53)[:, None]
    return keys.ravel()


def _count_tokens(rng: np.random.Generator, keys: np.ndarray, rows: int, K: int, m: int,
                  chunk: int, out: np.ndarray) -> None:
    """Add to ``out`` (rows, K) the counts of m tokens per chain drawn by inversion
    (``samples``): the block's rows*m uniforms in stream order, ``chunk`` at a time."""
    total = rows * m
    for start in range(0, total, chunk):
        c = min(chunk, total - start)
        u = rng.random(c)
        u *= _SCALE
        key = u.astype(np.int64)
        r0, r1 = start // m, (start + c - 1) // m + 1
        bounds = np.arange(r0, r1 + 1, dtype=np.int64) * m  # the chains' token ranges,
        bounds[0], bounds[-1] = start, start + c  # cut to this chunk
        key += np.repeat(np.arange(r0, r1, dtype=np.int64) << 53, np.diff(bounds))
        cells = (r1 - r0) * K
        if c >= cells:
            # Many tokens per category: count by merging. With the tokens' keys sorted,
            # those below each category's upper key are counted for every (chain,
            # category) at once, and their differences are the counts: O(c log c + cells
            # log c) instead of O(c log cells). The same counts as a lookup per token.
            key.sort()
            below = np.searchsorted(key, keys[r0 * K: r1 * K], side="left")
            below[1:] -= below[:-1].copy()
            out[r0:r1] += below.reshape(r1 - r0, K)
        else:  # few tokens per category: look each token's category up
            cell = np.searchsorted(keys, key, side="right")
            if r0:
                cell -= r0 * K
            out[r0:r1] += np.bincount(cell, minlength=cells).reshape(r1 - r0, K)
        if c == chunk:
            check_cancelled()


def _multinomial(rng: np.random.Generator, m: int, q: np.ndarray) -> np.ndarray:
    """One multinomial row of m tokens per row of ``q`` (``sufficient``), each row's most
    probable category swapped into the last place for the draw (module docstring)."""
    rows, K = q.shape
    r = np.arange(rows)
    top = np.argmax(q, axis=1)
    pv = q.copy()
    pv[r, top], pv[r, K - 1] = q[r, K - 1], q[r, top]
    x = rng.multinomial(m, pv)
    x[r, top], x[r, K - 1] = x[r, K - 1], x[r, top]
    return x


# ---------------------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------------------


def _statistics(p: np.ndarray, tail: np.ndarray | None) -> tuple:
    """survivors, entropy (nats), Gini-Simpson, tail mass, tail survivors of each row."""
    alive = p > 0
    survivors = np.count_nonzero(alive, axis=1)
    lp = np.zeros_like(p)
    np.log(p, out=lp, where=alive)
    lp *= p
    entropy = -lp.sum(axis=1)
    entropy += 0.0  # -0.0 -> 0.0
    gini = 1.0 - np.einsum("ij,ij->i", p, p)
    if tail is None:
        return survivors, entropy, gini, None, None
    return (survivors, entropy, gini, p[:, tail].sum(axis=1),
            np.count_nonzero(alive[:, tail], axis=1))


def run_block(e: CategoricalExperiment, engine: str, block: int, rows: int, chunk: int,
              keep_final: bool = False) -> tuple[dict, np.ndarray | None]:
    """Simulate the ``rows`` chains of block ``block``: a dict of (rows, T + 1) arrays of
    statistics and, with ``keep_final``, the fitted laws at generation T."""
    model_seq, fresh_seq = block_seed(e.seed, block).spawn(2)
    rng_model, rng_fresh = generator(model_seq), generator(fresh_seq)
    K, T = e.K, e.generations
    m, f = e.model_tokens, e.fresh
    tail = e.tail_mask
    tail_idx = None if tail is None else np.flatnonzero(tail)
    out = {"survivors": np.empty((rows, T + 1)), "entropy": np.empty((rows, T + 1)),
           "gini_simpson": np.empty((rows, T + 1))}
    if tail is not None:
        out["tail_mass"] = np.empty((rows, T + 1))
        out["tail_survivors"] = np.empty((rows, T + 1))
    names = list(out)

    def record(t: int, p: np.ndarray) -> None:
        for name, value in zip(names, _statistics(p, tail_idx), strict=False):
            out[name][:, t] = value

    p = np.broadcast_to(e.p0, (rows, K))
    record(0, p)
    p0 = np.broadcast_to(e.p0, (rows, K))
    fresh_keys = _keys(np.ascontiguousarray(p0)) if (f and engine == "samples") else None
    pool = np.zeros((rows, K), dtype=np.int64) if e.regime == "accumulate" else None
    for t in range(1, T + 1):
        check_cancelled()
        q = sampling_law(p, e.temperature, e.top_k)
        if engine == "samples":
            x = np.zeros((rows, K), dtype=np.int64)
            if m:
                _count_tokens(rng_model, _keys(q), rows, K, m, chunk, x)
            if f:
                _count_tokens(rng_fresh, fresh_keys, rows, K, f, chunk, x)
        else:
            x = _multinomial(rng_model, m, q) if m else np.zeros((rows, K), dtype=np.int64)
            if f:
                x += _multinomial(rng_fresh, f, p0)
        if pool is not None:
            pool += x
            x, fitted = pool, e.n * t
        else:
            fitted = e.n
        if e.alpha:
            p = (x + e.alpha) / (fitted + K * e.alpha)
        else:
            p = x / fitted
        record(t, p)
    final = np.array(p, dtype=np.float64) if keep_final else None
    return out, final


# ---------------------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------------------


def _simulate_iv(experiment, engine, workers, chunk) -> int:
    if not isinstance(experiment, CategoricalExperiment):
        raise TypeError(f"`experiment` must be a CategoricalExperiment; got "
                        f"{type(experiment).__name__}.")
    if engine not in ENGINES:
        raise ValueError(f"`engine` must be one of {', '.join(ENGINES)}; got {engine!r}.")
    if workers is not None and not (isinstance(workers, int) and not isinstance(workers, bool)
                                    and workers >= 0):
        raise ValueError(f"`workers` must be a whole number >= 0 (0 = automatic); "
                         f"got {workers!r}.")
    if chunk is None:
        return DEFAULT_CHUNK
    if not (isinstance(chunk, int) and not isinstance(chunk, bool) and chunk >= 1):
        raise ValueError(f"`chunk` (tokens the samples engine draws at once) must be a whole "
                         f"number >= 1; got {chunk!r}.")
    return chunk


def memory_need(experiment: CategoricalExperiment, engine: str, workers: int, chunk: int,
                keep_final: bool = False) -> float:
    """Bytes a run would hold at its peak: each running block's rows x K arrays (and the
    samples engine's chunk of tokens), the records of every replicate and generation, and
    the final laws when kept."""
    e = experiment
    rows = min(REPLICATE_BLOCK, e.replicates)
    block = float(rows) * e.K * _BYTES_PER_CELL
    if engine == "samples":
        block += min(chunk, rows * max(e.model_tokens, e.fresh)) * _BYTES_PER_TOKEN
    need = workers * block + float(e.replicates) * (e.generations + 1) * _RECORD_BYTES
    if keep_final:
        need += 8.0 * e.replicates * e.K
    return need


def simulate(experiment: CategoricalExperiment, *, engine: str = "samples",
             workers: int | None = None, chunk: int | None = None,
             keep_final: bool = False) -> CategoricalRun:
    """Run ``experiment`` with the named engine.

    Parameters
    ----------
    experiment : CategoricalExperiment
    engine : {'samples', 'sufficient'}
        Draw every token (cost O(n)) or the counts directly (cost independent of n); the
        same law, different numbers for one seed (module docstring).
    workers : int or None
        Workers to use; None or 0 picks the number of cores for large jobs and 1 for small
        ones. Results are bit-identical for every value.
    chunk : int or None
        Bound on the tokens the samples engine draws at once (default
        :data:`DEFAULT_CHUNK`); does not change the results.
    keep_final : bool
        Also return each chain's fitted law at generation T (replicates x K float64).

    Returns
    -------
    CategoricalRun

    Raises
    ------
    ResourceError
        (a ValueError) before anything runs, when the blocks in flight, the records and
        the kept laws would need more than :func:`collapsecheck.resources.memory_budget`.
    """
    chunk = _simulate_iv(experiment, engine, workers, chunk)
    e = experiment
    slices = block_slices(e.replicates)
    per_gen = e.K + (e.n if engine == "samples" else 0)
    work = float(e.replicates) * e.generations * per_gen
    nproc = resolve_workers(workers or None, len(slices), work)
    need = memory_need(e, engine, nproc, chunk, keep_final)
    require_memory(need, f"a categorical run ({e.replicates} replicates x "
                         f"{e.generations + 1} generations of records, K = {e.K} categories "
                         f"in blocks of {REPLICATE_BLOCK} chains on {nproc} worker(s))",
                   "use fewer categories, replicates or generations, or fewer `workers`")
    args = [(e, engine, b, s.stop - s.start, chunk, keep_final) for b, s in enumerate(slices)]
    threads = min(REPLICATE_BLOCK, e.replicates) * per_gen >= _THREADS_MIN_WORK
    parts: list = [None] * len(args)
    start = time.perf_counter()
    with contextlib.closing(iter_blocks(run_block, args, nproc, threads=threads)) as blocks:
        for i, part in blocks:
            parts[i] = part
    elapsed = time.perf_counter() - start
    stats = {name: np.concatenate([p[0][name] for p in parts], axis=0) for name in parts[0][0]}
    survivors = stats["survivors"]
    records = TokenTrajectories(
        generations=np.arange(e.generations + 1), categories=e.K, survivors=survivors,
        entropy=stats["entropy"], gini_simpson=stats["gini_simpson"],
        monomorphic=survivors == 1, tail_mass=stats.get("tail_mass"),
        tail_survivors=stats.get("tail_survivors"), tail_rank=e.tail_rank,
        spec=e.to_dict())
    final = np.concatenate([p[1] for p in parts], axis=0) if keep_final else None
    return CategoricalRun(records, engine, nproc, elapsed, final)
