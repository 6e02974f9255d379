"""Recorded chains: the fitted mean and log-variance per replicate and generation.

File formats (DESIGN.md, stable):

* CSV, long format, header ``replicate,generation,mean,std`` and an optional ``log_var``
  column (natural log of sigma^2), one row per replicate and generation, generation 0
  being the starting model. ``mean`` may be left out on input. When ``log_var`` is
  present it is used, so that long horizons survive where ``std`` underflows to 0.
  UTF-8 (a leading byte-order mark is skipped), numbers separated by commas; empty
  lines are skipped. Comments are not part of the format: a line that starts with or
  holds a ``#`` is refused with its line number. Messages name the file's line, the
  header being line 1.
* ``.npz`` with arrays ``mean``, ``std`` and optionally ``log_var``, each shaped
  (replicates, generations + 1); ``mean`` optional on input. Loaded with
  ``allow_pickle=False``: loading never unpickles.

In either format a ``std`` given beside ``log_var`` must agree with it: be within 1e-6,
relative, of exp(log_var / 2), or, where that is below the smallest normal double
(2.2250738585072014e-308, log_var < -1416.79), lie anywhere from 0 to that value (there
the value underflowed and its digits are the maths library's). Before anything large
is allocated, the memory that loading a file and auditing it would take is estimated
from its headers or size and compared with :func:`collapsecheck.resources.memory_budget`.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from collapsecheck.csvlog import (  # noqa: F401 - the shared CSV pieces, re-exported
    _COLUMNS_CHANGED,
    _COMMENT_HINT,
    _CSV_PARSE_FACTOR,
    _MAX_INDEX,
    _NOT_A_NUMBER,
    _REQUIRED,
    _THIN,
    MAX_FILE_BYTES,
    _check_csv_values,
    _comment_error,
    _csv_line,
    _csv_table,
    _line_breaks,
    _loadtxt_error,
    _refuse_repeats,
    _require_csv_memory,
    _shown,
    csv_header_line,
)
from collapsecheck.errors import InputError
from collapsecheck.io import atomic_file, atomic_write, staging_directory
from collapsecheck.resources import require_memory

__all__ = ["MAX_FILE_BYTES", "Trajectories", "TrajectoryWriter", "check_simulated", "load",
           "save"]


@dataclass(frozen=True)
class Trajectories:
    """Chains recorded at the generations in ``generations``.

    Attributes
    ----------
    generations : (G,) int array, strictly increasing, the recorded generation indices.
    log_var : (R, G) float array, natural log of each fitted variance.
    mean : (R, G) float array or None, each fitted mean (None when a file has none), in
        the coordinates ``(mu - mean_origin) / mean_scale``; :meth:`fitted_mean` gives mu.
    spec : dict or None, the parameters that produced them (None for loaded files).
    mean_origin, mean_scale : float
        The engines record the mean relative to mu0 in units of sigma0 (0 and 1 for files
        and for simulators that return plain means), so that no mu0 or sigma0 can swallow
        its increments in rounding; every statistic is computed in those coordinates and
        mapped back only when reported.
    """

    generations: np.ndarray
    log_var: np.ndarray
    mean: np.ndarray | None = None
    spec: dict | None = field(default=None)
    mean_origin: float = 0.0
    mean_scale: float = 1.0

    @property
    def replicates(self) -> int:
        return self.log_var.shape[0]

    @classmethod
    def from_ragged(cls, std=None, *, log_var=None, mean=None, start=0) -> Trajectories:
        """Chains of different lengths (and starts), padded with NaN onto one grid.

        ``std`` or ``log_var`` (and optionally ``mean``) are sequences of 1-D arrays, one a
        chain; chain i is recorded at generations ``start_i, start_i + 1, ...`` (``start``
        one int for all chains, or one per chain). The grid runs from the earliest start to
        the latest generation recorded; cells a chain does not record are NaN, which only
        :func:`collapsecheck.audit.audit` reads (other consumers need complete chains)."""
        values = log_var if log_var is not None else std
        if values is None or (log_var is not None and std is not None):
            raise TypeError("give exactly one of `std` and `log_var`.")
        rows = [np.asarray(v, dtype=float).ravel() for v in values]
        if not rows or any(r.size == 0 for r in rows):
            raise ValueError("every chain needs at least one recorded generation.")
        if log_var is None:
            if any(np.any(~(r > 0)) for r in rows):
                raise ValueError("`std` must be > 0 everywhere; give `log_var` instead.")
            rows = [2 * np.log(r) for r in rows]
        starts = np.broadcast_to(np.asarray(start, dtype=np.int64), (len(rows),))
        if np.any(starts < 0):
            raise ValueError(f"`start` must be >= 0; got {start!r}.")
        lo = int(starts.min())
        G = max(int(s0) + r.size for s0, r in zip(starts, rows, strict=True)) - lo
        lv = np.full((len(rows), G), np.nan)
        for i, (s0, r) in enumerate(zip(starts, rows, strict=True)):
            lv[i, s0 - lo:s0 - lo + r.size] = r
        m = None
        if mean is not None:
            means = [np.asarray(v, dtype=float).ravel() for v in mean]
            if [x.size for x in means] != [r.size for r in rows]:
                raise ValueError("`mean` needs one value per recorded generation of each chain.")
            m = np.full_like(lv, np.nan)
            for i, (s0, x) in enumerate(zip(starts, means, strict=True)):
                m[i, s0 - lo:s0 - lo + x.size] = x
        return cls(np.arange(lo, lo + G), lv, m)

    @property
    def std(self) -> np.ndarray:
        """sigma = exp(log_var / 2) (0.0 where it underflows; use ``log_var``)."""
        with np.errstate(under="ignore", over="ignore"):
            return np.exp(0.5 * self.log_var)

    def fitted_mean(self) -> np.ndarray | None:
        """The fitted means mu themselves (rounded to double precision)."""
        if self.mean is None:
            return None
        if self.mean_origin == 0.0 and self.mean_scale == 1.0:
            return self.mean
        with np.errstate(under="ignore", over="ignore"):
            return self.mean_origin + self.mean_scale * self.mean

    def standardised_mean(self, mu0: float, sigma0: float) -> np.ndarray | None:
        """(mu - mu0) / sigma0 without passing through mu itself where the recorded
        coordinates already are these (no rounding at any mu0 or sigma0)."""
        if self.mean is None:
            return None
        if self.mean_origin == mu0 and self.mean_scale == sigma0:
            return self.mean
        with np.errstate(under="ignore", over="ignore"):
            return ((self.mean_origin - mu0) + self.mean_scale * self.mean) / sigma0

    def at(self, generation: int) -> Trajectories:
        """The one recorded generation ``generation``, as a (R, 1) Trajectories."""
        return self.select([generation])

    def select(self, record) -> Trajectories:
        """The recorded generations a simulator is asked for: ``'all'``, ``'final'`` or
        a list of generation indices (each must have been recorded)."""
        if record == "all" or record is None:
            return self
        gens = [self.generations[-1]] if record == "final" else list(record)
        idx = np.searchsorted(self.generations, gens)
        if np.any(idx >= self.generations.size) or not np.array_equal(
                self.generations[np.minimum(idx, self.generations.size - 1)], gens):
            raise ValueError(f"generations {gens} were not all recorded.")
        return replace(self, generations=self.generations[idx], log_var=self.log_var[:, idx],
                       mean=None if self.mean is None else self.mean[:, idx])

    @property
    def final_log_var(self) -> np.ndarray:
        return self.log_var[:, -1]

    @property
    def final_mean(self) -> np.ndarray | None:
        """The fitted means mu at the last recorded generation."""
        mean = self.fitted_mean()
        return None if mean is None else mean[:, -1]


def check_simulated(traj, experiment, record, name: str) -> Trajectories:
    """What a simulator under test returned for ``experiment`` (``validate --simulator``,
    controls, calibration): :class:`Trajectories` at exactly the generations asked for
    (``record``: 'all', 'final' or a list), ``log_var`` and ``mean`` of shape (replicates,
    generations) and finite; returned with float64 arrays. Otherwise an
    :class:`~collapsecheck.errors.InputError` naming the problem (``name`` is the
    simulator's). The Gaussian family's ``FamilySpec.results``."""
    if not isinstance(traj, Trajectories):
        raise InputError(f"the simulator {name!r} returned {type(traj).__name__}; it must "
                         "return collapsecheck.trajectories.Trajectories.")
    if record == "all":
        want = np.arange(experiment.generations + 1)
    elif record == "final":
        want = np.array([experiment.generations])
    else:
        want = np.asarray(record)
    try:
        log_var = np.asarray(traj.log_var, dtype=np.float64)
        generations = np.asarray(traj.generations)
        mean = None if traj.mean is None else np.asarray(traj.mean, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"the simulator {name!r} returned Trajectories whose arrays are "
                         f"not numbers: {' '.join(str(exc).split())}") from None
    shape = log_var.shape
    if len(shape) != 2 or shape != (experiment.replicates, want.size):
        raise InputError(f"the simulator {name!r} returned log_var of shape {shape}; "
                         f"expected ({experiment.replicates}, {want.size}) for record="
                         f"{record if isinstance(record, str) else 'a list'}.")
    if generations.shape != want.shape or not np.array_equal(generations, want):
        raise InputError(f"the simulator {name!r} returned generations that differ from "
                         "the ones asked for in `record`.")
    if not np.all(np.isfinite(log_var)):
        raise InputError(f"the simulator {name!r} returned non-finite log_var values.")
    if mean is None or mean.shape != shape:
        raise InputError(f"the simulator {name!r} returned no `mean` array of shape "
                         f"{shape}; the checks need the fitted means too.")
    if not np.all(np.isfinite(mean)):
        raise InputError(f"the simulator {name!r} returned non-finite mean values.")
    return replace(traj, generations=want.astype(np.int64, copy=False), log_var=log_var,
                   mean=mean)


# ---------------------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------------------


def save(traj: Trajectories, path: str | os.PathLike, *, force: bool = False) -> Path:
    """Write ``traj`` to ``path`` (``.csv`` or ``.npz``), atomically.

    An existing file is replaced only with ``force=True``; otherwise
    :class:`~collapsecheck.errors.OutputExistsError` is raised and nothing is touched.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".npz"):
        raise InputError(f"`--out` must end in .csv or .npz; got {str(path)!r}.")
    if not _contiguous(traj.generations):
        raise InputError("only trajectories recorded at every generation 0..T can be saved.")
    if suffix == ".csv":
        return atomic_write(path, lambda fh: _write_csv(traj, fh), force=force)
    return atomic_write(path, lambda fh: _write_npz(traj, fh), force=force)


def _contiguous(generations: np.ndarray) -> bool:
    return generations.size > 0 and np.array_equal(generations, np.arange(generations.size))


_CSV_HEADER = "replicate,generation,mean,std,log_var\n"
_CSV_FORMAT = ["%d", "%d", "%.17g", "%.17g", "%.17g"]


def _csv_rows(text, first_replicate: int, generations: np.ndarray, mean, log_var) -> None:
    R, G = log_var.shape
    rep = np.repeat(np.arange(first_replicate, first_replicate + R), G)
    gen = np.tile(generations, R)
    mean = mean if mean is not None else np.full((R, G), np.nan)
    with np.errstate(under="ignore"):
        std = np.exp(0.5 * log_var)
    table = np.column_stack([rep, gen, mean.ravel(), std.ravel(), log_var.ravel()])
    np.savetxt(text, table, fmt=_CSV_FORMAT, delimiter=",")


def _write_csv(traj: Trajectories, fh) -> None:
    text = io.TextIOWrapper(fh, encoding="utf-8", newline="\n")
    text.write(_CSV_HEADER)
    _csv_rows(text, 0, traj.generations, traj.fitted_mean(), traj.log_var)
    text.flush()
    text.detach()


def _write_npz(traj: Trajectories, fh) -> None:
    arrays = {"std": traj.std, "log_var": traj.log_var}
    if traj.mean is not None:
        arrays["mean"] = traj.fitted_mean()
    np.savez_compressed(fh, **arrays)


#: Values of one array a block hands to a file writer at once (see ColumnSink): 1 MiB.
EMIT_ELEMENTS = 1 << 17


class ColumnSink:
    """Writes a block's recorded columns straight into the staging ``.npy`` files of a
    :class:`TrajectoryWriter`, from whichever local worker runs the block (a thread, a
    process, a dask worker on this machine): picklable, it holds paths, not handles.
    Called as ``sink(j0, mean, log_var)`` with (rows, c) arrays of generations j0..j0+c-1
    of the block's rows (mean in the coordinates of ``origin`` and ``scale``)."""

    def __init__(self, files: dict[str, tuple[str, int]], generations: int, row0: int,
                 origin: float, scale: float):
        self.files, self.G, self.row0 = files, generations, row0
        self.origin, self.scale = origin, scale

    def __call__(self, j0: int, mean: np.ndarray | None, log_var: np.ndarray) -> None:
        with np.errstate(under="ignore", over="ignore"):
            values = {"log_var": log_var}
            if "std" in self.files:
                values["std"] = np.exp(0.5 * log_var)
            if mean is None:
                values["mean"] = np.full(log_var.shape, np.nan)
            elif self.origin == 0.0 and self.scale == 1.0:
                values["mean"] = mean
            else:
                values["mean"] = self.origin + self.scale * mean
        for name, (path, offset) in self.files.items():
            arr = np.ascontiguousarray(values[name], dtype="<f8")
            fd = os.open(path, os.O_WRONLY)
            try:
                for r in range(arr.shape[0]):
                    _pwrite_all(fd, arr[r].tobytes(),
                                offset + ((self.row0 + r) * self.G + j0) * 8)
            finally:
                os.close(fd)


def _pwrite_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        k = os.pwrite(fd, view, offset)
        view, offset = view[k:], offset + k


class TrajectoryWriter:
    """Stream trajectories to ``path`` block by block, so that memory holds at most a
    bounded piece of one block, not the whole (replicates x generations) record.

    Use as a context manager. Blocks of replicates arrive in any order, either whole
    (:meth:`write_rows`, or :meth:`write` for consecutive blocks) or column piece by
    column piece from the workers themselves (:meth:`sink`, then :meth:`rows_done`). They
    are staged with positioned writes (no memory map, whose pages would count against the
    process) in ``.npy`` files in a hidden folder beside the target; when the ``with``
    block ends without error, a ``.npz`` is zipped (deflate) from them, or a ``.csv`` is
    written from them a bounded piece at a time, and the file appears atomically. On any
    error or Ctrl-C the target is left as it was and the staging folder is removed.
    """

    def __init__(self, path: str | os.PathLike, replicates: int, generations: int, *,
                 force: bool = False):
        self.path = Path(path)
        self.suffix = self.path.suffix.lower()
        if self.suffix not in (".csv", ".npz"):
            raise InputError(f"`--out` must end in .csv or .npz; got {str(self.path)!r}.")
        self.replicates, self.G = replicates, generations + 1
        self.force = force
        self.done = 0

    def __enter__(self) -> TrajectoryWriter:
        self._stack = contextlib.ExitStack()
        try:
            self._fh = self._stack.enter_context(atomic_file(self.path, force=self.force))
            tmpdir = staging_directory(self.path)
            self._stack.callback(shutil.rmtree, tmpdir, True)
            names = ("mean", "std", "log_var") if self.suffix == ".npz" else ("mean", "log_var")
            self._files = {name: (os.path.join(tmpdir, f"{name}.npy"),
                                  self._stage(os.path.join(tmpdir, f"{name}.npy")))
                           for name in names}
        except BaseException as exc:  # leave the target as it was (not an empty file)
            self._stack.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return self

    def _stage(self, path: str) -> int:
        """Create a sparse .npy file of the full shape; return its data offset."""
        with open(path, "wb") as fh:
            np.lib.format.write_array_header_1_0(
                fh, {"descr": "<f8", "fortran_order": False, "shape": (self.replicates, self.G)})
            offset = fh.tell()
            fh.truncate(offset + self.replicates * self.G * 8)
        return offset

    def sink(self, row0: int, origin: float = 0.0, scale: float = 1.0) -> ColumnSink:
        """A picklable writer of column pieces for the block whose first row is ``row0``,
        its means given in the coordinates ``(mu - origin) / scale``."""
        return ColumnSink(self._files, self.G, row0, origin, scale)

    def rows_done(self, rows: int) -> None:
        """Count ``rows`` replicates as completely written."""
        self.done += rows
        if self.done > self.replicates:
            raise ValueError("more rows written than `replicates`.")

    def write_rows(self, row0: int, mean: np.ndarray | None, log_var: np.ndarray, *,
                   origin: float = 0.0, scale: float = 1.0) -> None:
        """Write rows ``row0..`` (all generations 0..T); means as in :meth:`sink`."""
        rows = log_var.shape[0]
        if log_var.shape[1] != self.G or row0 < 0 or row0 + rows > self.replicates:
            raise ValueError("blocks must cover generations 0..T and at most `replicates` rows.")
        self.sink(row0, origin, scale)(0, mean, log_var)
        self.rows_done(rows)

    def write(self, mean: np.ndarray | None, log_var: np.ndarray) -> None:
        """Write the next consecutive block of replicates."""
        self.write_rows(self.done, mean, log_var)

    def _finish(self) -> None:
        if self.done != self.replicates:
            raise ValueError(f"wrote {self.done} of {self.replicates} replicates.")
        if self.suffix == ".npz":
            with zipfile.ZipFile(self._fh, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
                for name, (path, _) in self._files.items():
                    zf.write(path, arcname=f"{name}.npy")
            return
        text = io.TextIOWrapper(self._fh, encoding="utf-8", newline="\n")
        text.write(_CSV_HEADER)
        (mpath, moff), (lpath, loff) = self._files["mean"], self._files["log_var"]
        with open(mpath, "rb") as fm, open(lpath, "rb") as fl:
            def read(r: int, g0: int, count: int) -> tuple[np.ndarray, np.ndarray]:
                at = (r * self.G + g0) * 8
                fm.seek(moff + at)
                fl.seek(loff + at)
                return (np.fromfile(fm, dtype="<f8", count=count),
                        np.fromfile(fl, dtype="<f8", count=count))

            if self.G <= EMIT_ELEMENTS:  # whole replicates at a time
                per = max(1, EMIT_ELEMENTS // self.G)
                for r0 in range(0, self.replicates, per):
                    rows = min(per, self.replicates - r0)
                    mean, lv = read(r0, 0, rows * self.G)
                    _csv_rows(text, r0, np.arange(self.G), mean.reshape(rows, self.G),
                              lv.reshape(rows, self.G))
            else:  # one replicate, a window of generations at a time
                for r in range(self.replicates):
                    for g0 in range(0, self.G, EMIT_ELEMENTS):
                        g = min(EMIT_ELEMENTS, self.G - g0)
                        mean, lv = read(r, g0, g)
                        _csv_rows(text, r, np.arange(g0, g0 + g), mean[None, :], lv[None, :])
        text.flush()
        text.detach()

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            try:
                self._finish()
            except BaseException as err:
                self._stack.__exit__(type(err), err, err.__traceback__)
                raise
        return bool(self._stack.__exit__(exc_type, exc, tb))


# ---------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------


#: Peak bytes of loading a file and auditing it, per value of its (replicates x
#: generations) grid, in float64 values of 8 bytes. Measured as the peak RSS of
#: ``collapsecheck audit`` less the interpreter's (about 190 MB), over R * G * 8: 5.7-7.6
#: for a .npz of std alone and 12.1-13.8 with std, log_var and mean at 2000 x 2000 and
#: 4000 x 4000 (the same for those as CSV), 10.1 at 1000 x 32000, and at most 18.2 for
#: short chains (40000 x 100, 20000 x 200, 200000 x 20), where every generation enters
#: the drift regression. 32 leaves a margin of 1.75 over the worst.
AUDIT_MEMORY_FACTOR = 32.0
#: Float64 grids that loading a .npz allocates beside its members (conversion, log, the
#: std / log_var comparison): measured 2.5.
_NPZ_COPIES = 4.0


def load(path: str | os.PathLike, *, memory_factor: float = AUDIT_MEMORY_FACTOR,
         ragged: bool = False) -> Trajectories:
    """Read trajectories from a CSV or ``.npz``/``.npy`` file, strictly.

    Raises :class:`~collapsecheck.errors.InputError` naming the problem (and the file's
    line, header = line 1, or the array) for anything malformed: wrong header,
    non-numbers, comments, non-finite values, ``std <= 0``, a ``std`` that contradicts
    ``log_var``, duplicate or missing (replicate, generation) pairs, generations that do
    not run 0..T for every replicate, object arrays, or a file over ``MAX_FILE_BYTES``.

    Before anything large is allocated, the memory of the load and of the work that
    follows it, ``memory_factor`` x 8 bytes per value of the (replicates x generations)
    grid (default: what ``audit`` needs, :data:`AUDIT_MEMORY_FACTOR`; 0 budgets the load
    alone), is compared with :func:`collapsecheck.resources.memory_budget`; a file that
    would exceed it (a small ``.npz`` that decompresses to gigabytes) is refused with
    :class:`~collapsecheck.resources.ResourceError`.

    With ``ragged=True`` (what ``audit`` reads) replicates may record different
    generations: chains of different lengths, chains that start at generation 1 or later,
    gaps. They are placed on one grid from the earliest generation recorded to the latest
    (``generations`` then need not start at 0), padded with NaN; a .npz may hold NaN for
    what it does not record. Every other rule stands (a pair at most once, finite values).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"trajectory file {str(path)!r} does not exist.")
    if not path.is_file():
        raise InputError(f"trajectory file {str(path)!r} is not a regular file.")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError(
            f"trajectory file {str(path)!r} is {size} bytes, over the limit of "
            f"{MAX_FILE_BYTES}; thin it (fewer generations or replicates) first."
        )
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _load_csv(path, memory_factor, ragged)
    if suffix in (".npz", ".npy"):
        return _load_npz(path, memory_factor, ragged)
    raise InputError(f"trajectory file {str(path)!r} must end in .csv, .npz or .npy.")


#: Largest relative difference allowed between std and exp(log_var / 2) where a file
#: gives both.
STD_RTOL = 1e-6
#: The smallest normal double (2.2250738585072014e-308). Where exp(log_var / 2) is below
#: it (log_var < -1416.79...), it has lost its precision or underflowed to 0, and any std
#: from 0 to this value agrees with log_var.
_TINY = float(np.finfo(np.float64).tiny)


def _load_csv(path: Path, memory_factor: float, ragged: bool = False) -> Trajectories:
    """Parse a long-format CSV (module docstring) strictly. A UTF-8 byte-order mark is
    skipped; every message names the file's line (the header is line 1)."""
    with open(path, encoding="utf-8-sig", errors="strict", newline="") as fh:
        header = _csv_header(path, fh)
        _require_csv_memory(path, len(header), memory_factor)
        data = _csv_table(path, fh, header)
    col = {name: data[:, i] for i, name in enumerate(header)}
    _check_csv_values(path, col)
    if ragged:
        return _csv_ragged_grid(path, col, _csv_log_var(path, col), memory_factor)
    return _csv_grid(path, col, _csv_log_var(path, col))


def _csv_header(path: Path, fh) -> list[str]:
    """Read and check line 1: known column names, each once, with replicate, generation
    and std or log_var among them."""
    header, line = csv_header_line(
        path, fh, ("replicate", "generation", "mean", "std", "log_var"),
        "replicate,generation,mean,std",
        " (np.savetxt writes '# ' before a header unless given comments='')")
    missing = [c for c in _REQUIRED if c not in header]
    if missing or not ({"std", "log_var"} & set(header)):
        raise InputError(f"{path}: header {line!r} lacks {', '.join(missing) or 'std or log_var'}; "
                         "expected 'replicate,generation,mean,std' (log_var optional).")
    return header


def _csv_log_var(path: Path, col: dict[str, np.ndarray]) -> np.ndarray:
    """log sigma^2 of every row: the log_var column (checked against std when both are
    given), else 2 log(std), which needs std > 0."""
    std = col.get("std")
    if "log_var" in col:
        log_var = col["log_var"]
        if std is not None:
            bad = _std_contradicts(std, log_var)
            if bad.any():
                i = int(np.argmax(bad))
                line, _ = _csv_line(path, i)
                raise InputError(f"{path}: line {line}: {_contradiction(std[i], log_var[i])}; "
                                 "fix the std column or drop it (log_var is what is used).")
        return log_var
    if np.any(std <= 0):
        i = int(np.argmax(std <= 0))
        line, _ = _csv_line(path, i)
        raise InputError(f"{path}: line {line}: column 'std' must be > 0 (it has "
                         f"{float(std[i])!r}); add a log_var column for chains whose std "
                         "underflowed.")
    return 2 * np.log(std)


def _std_contradicts(std: np.ndarray, log_var: np.ndarray) -> np.ndarray:
    """Where a given std contradicts log_var. With sigma = exp(log_var / 2), std agrees
    when it is >= 0 and: within STD_RTOL of sigma, relative, where sigma is a normal
    double; at most _TINY where sigma is below that (underflowed to 0 or subnormal, whose
    digits no two maths libraries share); inf where sigma overflows."""
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        sigma = np.multiply(log_var, 0.5)
        np.exp(sigma, out=sigma)  # in place: two grids of temporaries, not four
        gap = np.subtract(std, sigma)
        np.abs(gap, out=gap)
        gap /= sigma
    agree = np.where(sigma < _TINY, std <= _TINY,
                     np.where(np.isinf(sigma), std == np.inf, gap <= STD_RTOL))
    return ~agree | ~(std >= 0)


def _contradiction(std: float, log_var: float) -> str:
    with np.errstate(over="ignore", under="ignore"):
        sigma = float(np.exp(0.5 * log_var))
    return (f"std {float(std)!r} contradicts log_var {float(log_var)!r}, whose "
            f"exp(log_var/2) is {sigma:.10g}: std must equal it within {STD_RTOL:g} relative "
            "(or be 0 where it is below 2.2e-308)")


def _csv_grid(path: Path, col: dict[str, np.ndarray], log_var: np.ndarray) -> Trajectories:
    """Place every row at its (replicate, generation): each replicate needs generations
    0..T exactly once."""
    rep = col["replicate"].astype(np.int64)
    gen = col["generation"].astype(np.int64)
    reps, rep_idx = np.unique(rep, return_inverse=True)
    G = int(gen.max()) + 1
    R = reps.size
    if R * G != rep.size:
        raise InputError(
            f"{path}: expected every replicate to have generations 0..{G - 1} exactly once "
            f"({R} replicates x {G} generations = {R * G} rows); found {rep.size} rows."
        )
    flat = rep_idx * G + gen
    # with R x G rows, a repeated (replicate, generation) pair is also a missing one
    _refuse_repeats(path, flat, rep, gen,
                    what="duplicate or missing (replicate, generation) pairs: ",
                    rule=f"each replicate needs generations 0..{G - 1} exactly once.")
    lv = np.empty(R * G)
    lv[flat] = log_var
    mean = None
    if "mean" in col and not np.all(np.isnan(col["mean"])):
        mean = np.empty(R * G)
        mean[flat] = col["mean"]
        mean = mean.reshape(R, G)
    return Trajectories(np.arange(G), lv.reshape(R, G), mean)


def _csv_ragged_grid(path: Path, col: dict[str, np.ndarray], log_var: np.ndarray,
                     memory_factor: float) -> Trajectories:
    """Place every row at its (replicate, generation) on the grid from the earliest
    generation recorded to the latest, NaN where a replicate records nothing."""
    rep = col["replicate"].astype(np.int64)
    gen = col["generation"].astype(np.int64)
    reps, rep_idx = np.unique(rep, return_inverse=True)
    lo = int(gen.min())
    G = int(gen.max()) - lo + 1
    R = reps.size
    require_memory(8.0 * max(memory_factor, 2.0) * R * G,
                   f"{path}: analysing its {R} replicates x {G} generations (padded)", _THIN)
    flat = rep_idx * G + (gen - lo)
    _refuse_repeats(path, flat, rep, gen)
    lv = np.full(R * G, np.nan)
    lv[flat] = log_var
    mean = None
    if "mean" in col and not np.all(np.isnan(col["mean"])):
        mean = np.full(R * G, np.nan)
        mean[flat] = col["mean"]
        mean = mean.reshape(R, G)
    return Trajectories(np.arange(lo, lo + G), lv.reshape(R, G), mean)


#: Largest uncompressed array a .npz member may hold (a small file must not be able to
#: declare, or decompress to, more than memory holds).
MAX_ARRAY_BYTES = 4 * 1024**3


def _check_npy_header(fh, available: int, where: str) -> tuple[tuple[int, ...], int]:
    """Read a .npy header and refuse object dtypes and arrays larger than the bytes that
    follow (or than MAX_ARRAY_BYTES), before numpy allocates anything; return the array's
    shape and its size in bytes."""
    start = fh.tell()
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
    else:
        shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
    if dtype.hasobject:
        raise ValueError("pickle: object arrays are never loaded")
    need = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    if need > min(MAX_ARRAY_BYTES, available - (fh.tell() - start)):
        raise InputError(f"{where}: an array declares {need} bytes, more than the file holds "
                         f"(or the {MAX_ARRAY_BYTES}-byte limit); the file is truncated or "
                         "malformed.")
    return tuple(shape), need


def _precheck_numpy_file(path: Path, memory_factor: float) -> None:
    """Check every array's header (no pickles, no more bytes than the file holds), then
    the memory that loading them and the work after it would take, all before anything
    is decompressed."""
    size = path.stat().st_size
    arrays = []
    with open(path, "rb") as fh:
        if zipfile.is_zipfile(fh):
            fh.seek(0)
            with zipfile.ZipFile(fh) as zf:
                for info in zf.infolist():
                    if info.file_size > MAX_ARRAY_BYTES:
                        raise InputError(f"{path}: member {info.filename!r} expands to "
                                         f"{info.file_size} bytes, over the limit of "
                                         f"{MAX_ARRAY_BYTES}.")
                    with zf.open(info) as member:
                        arrays.append(_check_npy_header(member, info.file_size,
                                                        f"{path}:{info.filename}"))
        else:
            fh.seek(0)
            arrays.append(_check_npy_header(fh, size, str(path)))
    _require_numpy_memory(path, arrays, memory_factor)


def _require_numpy_memory(path: Path, arrays: list[tuple[tuple[int, ...], int]],
                          memory_factor: float) -> None:
    """Refuse a file whose arrays, given as (shape, bytes), would need more memory than the
    budget: every member as stored plus the float copies loading makes, or the work after
    loading, ``memory_factor`` x 8 bytes a value of the largest array, if that is more."""
    shape = max((s for s, _ in arrays), key=_cells, default=())
    cells = _cells(shape)
    need = max(sum(nbytes for _, nbytes in arrays) + 8 * _NPZ_COPIES * cells,
               8 * memory_factor * cells)
    grid = (f"its {shape[0]} replicates x {shape[1] - 1} generations" if len(shape) == 2
            else f"its array of shape {shape}")
    require_memory(need, f"{path}: loading and analysing {grid}", _THIN)


def _cells(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape, dtype=np.float64))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no detail"


def _load_npz(path: Path, memory_factor: float, ragged: bool = False) -> Trajectories:
    try:
        _precheck_numpy_file(path, memory_factor)
        # Our own handle, so that it is closed even when numpy fails half-way (a broken zip).
        with open(path, "rb") as fh:
            loaded = np.load(fh, allow_pickle=False)
            if isinstance(loaded, np.lib.npyio.NpzFile):
                with loaded as z:
                    arrays = {name: z[name] for name in z.files}
            else:  # a bare array (.npy)
                arrays = {"std": loaded}
    except InputError:  # a ValueError too: first
        raise
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise InputError(f"{path}: holds pickled objects, which are never loaded; "
                             "save plain numeric arrays instead.") from None
        raise InputError(f"{path}: not a readable numpy file ({exc}).") from None
    except Exception as exc:  # numpy's parsers raise many kinds on hostile input
        raise InputError(f"{path}: not a readable numpy file "
                         f"({type(exc).__name__}: {_first_line(exc)}).") from None
    unknown = sorted(set(arrays) - {"mean", "std", "log_var"})
    if unknown:
        raise InputError(f"{path}: unexpected array(s) {unknown}; allowed: mean, std, log_var.")
    for name, a in arrays.items():
        if not isinstance(a, np.ndarray):
            raise InputError(f"{path}: member {name!r} is not a numpy array (.npy).")
        if a.dtype.kind not in "fiu":
            raise InputError(f"{path}: array {name!r} has dtype {a.dtype}; it must be numeric.")
        if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 1:
            raise InputError(f"{path}: array {name!r} has shape {a.shape}; expected "
                             "(replicates, generations + 1).")
    shapes = {a.shape for a in arrays.values()}
    if len(shapes) != 1:
        raise InputError(f"{path}: arrays differ in shape {sorted(shapes)}; they must match.")
    if ragged:
        arrays = _npz_unpadded(path, arrays)
    log_var = _npz_log_var(path, arrays)
    mean = arrays.get("mean")
    if mean is not None:
        mean = np.asarray(mean, dtype=float)
        if not np.all(np.isfinite(mean)):
            raise InputError(f"{path}: array 'mean' has non-finite values.")
    if ragged:
        log_var, mean = _npz_padded(log_var, mean, arrays)
    return Trajectories(np.arange(log_var.shape[1]), log_var, mean)


def _npz_unpadded(path: Path, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """For ragged=True: the NaN cells (not recorded) must be the same in every array;
    they are filled with a placeholder for the strict checks and put back by _npz_padded."""
    arrays = {k: np.asarray(v, dtype=float) for k, v in arrays.items()}
    gaps = {k: np.isnan(v) for k, v in arrays.items()}
    spread = {k for k, g in gaps.items() if k != "mean" and g.any()}
    base = gaps.get("log_var", gaps.get("std"))
    if base is None:
        return arrays
    for k, g in gaps.items():
        if not (k == "mean" and g.all()) and not np.array_equal(g, base):
            raise InputError(f"{path}: arrays {sorted(gaps)} are not recorded (NaN) at the "
                             "same cells; each chain's unrecorded generations must be NaN in "
                             "every array.")
    out = {}
    for k, v in arrays.items():
        if k == "mean" and gaps[k].all():
            continue
        if spread or gaps[k].any():
            v = np.where(base, 1.0 if k == "std" else 0.0, v)
        out[k] = v
    out["_gaps"] = base
    return out


def _npz_padded(log_var: np.ndarray, mean, arrays) -> tuple[np.ndarray, np.ndarray | None]:
    gaps = arrays.get("_gaps")
    if gaps is None or not gaps.any():
        return log_var, mean
    log_var = np.where(gaps, np.nan, log_var)
    return log_var, None if mean is None else np.where(gaps, np.nan, mean)


def _npz_log_var(path: Path, arrays: dict[str, np.ndarray]) -> np.ndarray:
    """log sigma^2: the 'log_var' array (checked against 'std' when both are given, by the
    CSV's rule, _std_contradicts), else 2 log(std), which needs std > 0."""
    if "log_var" in arrays:
        log_var = np.asarray(arrays["log_var"], dtype=float)
        if not np.all(np.isfinite(log_var)):
            raise InputError(f"{path}: array 'log_var' has non-finite values.")
        if "std" in arrays:
            std = np.asarray(arrays["std"], dtype=float)
            bad = _std_contradicts(std, log_var)
            if bad.any():
                r, g = np.unravel_index(int(np.argmax(bad)), bad.shape)
                why = _contradiction(std[r, g], log_var[r, g])
                raise InputError(f"{path}: at [{r}, {g}], {why}; fix the 'std' array or drop it "
                                 "(log_var is what is used).")
        return log_var
    if "std" in arrays:
        std = np.asarray(arrays["std"], dtype=float)
        if not np.all(np.isfinite(std)) or np.any(std <= 0):
            raise InputError(f"{path}: array 'std' must be finite and > 0 everywhere; "
                             "add 'log_var' for chains whose std underflowed.")
        return 2 * np.log(std)
    raise InputError(f"{path}: needs an array 'std' or 'log_var'.")
