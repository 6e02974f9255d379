"""Recorded chains: the fitted mean and log-variance per replicate and generation.

File formats (DESIGN.md, stable):

* CSV, long format, header ``replicate,generation,mean,std`` and an optional ``log_var``
  column (natural log of sigma^2), one row per replicate and generation, generation 0
  being the starting model. ``mean`` may be left out on input. When ``log_var`` is
  present it is used, so that long horizons survive where ``std`` underflows to 0.
* ``.npz`` with arrays ``mean``, ``std`` and optionally ``log_var``, each shaped
  (replicates, generations + 1); ``mean`` optional on input. Loaded with
  ``allow_pickle=False``: loading never unpickles.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
import warnings
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from collapsecheck.errors import InputError
from collapsecheck.io import atomic_file, atomic_write

__all__ = ["MAX_FILE_BYTES", "Trajectories", "TrajectoryWriter", "load", "save"]

#: Largest trajectory file accepted (bytes); larger files are refused with a message.
MAX_FILE_BYTES = 2 * 1024**3


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
            folder = self.path.parent if str(self.path.parent) else Path(".")
            tmpdir = tempfile.mkdtemp(prefix=f".{self.path.name}.", dir=folder)
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


def load(path: str | os.PathLike) -> Trajectories:
    """Read trajectories from a CSV or ``.npz``/``.npy`` file, strictly.

    Raises :class:`~collapsecheck.errors.InputError` naming the problem (and the row or
    array) for anything malformed: wrong header, non-numbers, non-finite values,
    ``std <= 0``, duplicate or missing (replicate, generation) pairs, generations that do
    not run 0..T for every replicate, object arrays, or a file over ``MAX_FILE_BYTES``.
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
        return _load_csv(path)
    if suffix in (".npz", ".npy"):
        return _load_npz(path)
    raise InputError(f"trajectory file {str(path)!r} must end in .csv, .npz or .npy.")


_REQUIRED = ("replicate", "generation")
#: Largest replicate or generation index a CSV may hold (exact in float64, fits int64).
_MAX_INDEX = 2**53


def _load_csv(path: Path) -> Trajectories:
    with open(path, encoding="utf-8", errors="strict", newline="") as fh:
        try:
            header_line = fh.readline()
        except UnicodeDecodeError:
            raise InputError(f"{path}: not a UTF-8 text file.") from None
        header = [h.strip() for h in header_line.strip().split(",")]
        if not header_line.strip():
            raise InputError(f"{path}: empty file; expected a header such as "
                             "'replicate,generation,mean,std'.")
        allowed = {"replicate", "generation", "mean", "std", "log_var"}
        unknown = [h for h in header if h not in allowed]
        if unknown or len(set(header)) != len(header):
            raise InputError(
                f"{path}: bad header {header_line.strip()!r}; columns must be among "
                "replicate,generation,mean,std,log_var, each once."
            )
        missing = [c for c in _REQUIRED if c not in header]
        if missing or not ({"std", "log_var"} & set(header)):
            raise InputError(
                f"{path}: header {header_line.strip()!r} lacks "
                f"{', '.join(missing) or 'std or log_var'}; "
                "expected 'replicate,generation,mean,std' (log_var optional)."
            )
        try:
            with warnings.catch_warnings():
                # a header with no rows is reported below as an InputError, not a warning
                warnings.filterwarnings("ignore", "loadtxt: input contained no data",
                                        UserWarning)
                data = np.loadtxt(fh, delimiter=",", dtype=float, ndmin=2)
        except ValueError as exc:
            msg = str(exc).splitlines()[0]
            raise InputError(f"{path}: {msg} (rows are counted after the header)") from None
        except UnicodeDecodeError:
            raise InputError(f"{path}: not a UTF-8 text file.") from None
    if data.size == 0:
        raise InputError(f"{path}: no data rows after the header.")
    if data.shape[1] != len(header):
        raise InputError(f"{path}: rows have {data.shape[1]} fields; the header has {len(header)}.")
    col = {name: data[:, i] for i, name in enumerate(header)}
    for name, values in col.items():
        bad = np.flatnonzero(~np.isfinite(values))
        if name == "mean" and bad.size == np.isnan(values).sum() and np.all(np.isnan(values)):
            continue
        if bad.size:
            raise InputError(
                f"{path}: column {name!r} has a non-finite value at data row {bad[0] + 1}; "
                "every value must be a finite number."
            )
    for name in _REQUIRED:
        v = col[name]
        bad = (v != np.round(v)) | (v < 0) | (v > _MAX_INDEX)
        if np.any(bad):
            row = np.flatnonzero(bad)[0] + 1
            raise InputError(f"{path}: column {name!r} must hold whole numbers from 0 to "
                             f"{_MAX_INDEX} (data row {row}).")
    rep = col["replicate"].astype(np.int64)
    gen = col["generation"].astype(np.int64)
    if "log_var" in col:
        log_var = col["log_var"]
    else:
        std = col["std"]
        if np.any(std <= 0):
            row = np.flatnonzero(std <= 0)[0] + 1
            raise InputError(
                f"{path}: column 'std' must be > 0 (data row {row} has {std[row - 1]}); "
                "add a log_var column for chains whose std underflowed."
            )
        log_var = 2 * np.log(std)
    reps, rep_idx = np.unique(rep, return_inverse=True)
    G = int(gen.max()) + 1
    R = reps.size
    if R * G != rep.size:
        raise InputError(
            f"{path}: expected every replicate to have generations 0..{G - 1} exactly once "
            f"({R} replicates x {G} generations = {R * G} rows); found {rep.size} rows."
        )
    flat = rep_idx * G + gen
    seen = np.zeros(R * G, dtype=bool)
    seen[flat] = True
    if not seen.all() or np.unique(flat).size != flat.size:
        raise InputError(f"{path}: duplicate or missing (replicate, generation) pairs; each "
                         f"replicate needs generations 0..{G - 1} exactly once.")
    lv = np.empty(R * G)
    lv[flat] = log_var
    mean = None
    if "mean" in col and not np.all(np.isnan(col["mean"])):
        mean = np.empty(R * G)
        mean[flat] = col["mean"]
        mean = mean.reshape(R, G)
    return Trajectories(np.arange(G), lv.reshape(R, G), mean)


#: Largest uncompressed array a .npz member may hold (a small file must not be able to
#: declare, or decompress to, more than memory holds).
MAX_ARRAY_BYTES = 4 * 1024**3


def _check_npy_header(fh, available: int, where: str) -> None:
    """Read a .npy header and refuse object dtypes and arrays larger than the bytes that
    follow (or than MAX_ARRAY_BYTES), before numpy allocates anything."""
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


def _precheck_numpy_file(path: Path) -> None:
    size = path.stat().st_size
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
                        _check_npy_header(member, info.file_size, f"{path}:{info.filename}")
        else:
            fh.seek(0)
            _check_npy_header(fh, size, str(path))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no detail"


def _load_npz(path: Path) -> Trajectories:
    try:
        _precheck_numpy_file(path)
        # Our own handle, so that it is closed even when numpy fails half-way (a broken zip).
        with open(path, "rb") as fh:
            loaded = np.load(fh, allow_pickle=False)
            if isinstance(loaded, np.lib.npyio.NpzFile):
                with loaded as z:
                    arrays = {name: z[name] for name in z.files}
            else:  # a bare array (.npy)
                arrays = {"std": loaded}
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise InputError(f"{path}: holds pickled objects, which are never loaded; "
                             "save plain numeric arrays instead.") from None
        raise InputError(f"{path}: not a readable numpy file ({exc}).") from None
    except InputError:
        raise
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
    if "log_var" in arrays:
        log_var = arrays["log_var"].astype(float)
        if not np.all(np.isfinite(log_var)):
            raise InputError(f"{path}: array 'log_var' has non-finite values.")
    elif "std" in arrays:
        std = arrays["std"].astype(float)
        if not np.all(np.isfinite(std)) or np.any(std <= 0):
            raise InputError(f"{path}: array 'std' must be finite and > 0 everywhere; "
                             "add 'log_var' for chains whose std underflowed.")
        log_var = 2 * np.log(std)
    else:
        raise InputError(f"{path}: needs an array 'std' or 'log_var'.")
    mean = arrays.get("mean")
    if mean is not None:
        mean = mean.astype(float)
        if not np.all(np.isfinite(mean)):
            raise InputError(f"{path}: array 'mean' has non-finite values.")
    return Trajectories(np.arange(log_var.shape[1]), log_var, mean)
