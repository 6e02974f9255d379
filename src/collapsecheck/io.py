"""Atomic file writes: a reader sees the old file or the new one, never a torn one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from collapsecheck.errors import InputError, OutputExistsError

__all__ = ["atomic_file", "atomic_write", "atomic_write_many", "atomic_write_text",
           "ensure_directory"]


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, *, force: bool = True) -> Iterator[BinaryIO]:
    """Yield a binary file that becomes ``path`` only when the block ends without error:
    it is a temporary file in ``path``'s folder, fsynced and renamed over ``path`` at
    the end. If anything fails (or Ctrl-C), the temporary file is removed and ``path``
    is left as it was. With ``force=False`` an existing ``path`` is refused up front.
    The file may be written incrementally (streamed)."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"cannot write {str(path)!r}: folder {str(folder)!r} does not exist.")
    if path.is_dir():
        raise InputError(f"cannot write {str(path)!r}: it is a folder.")
    if not force and path.exists():
        raise OutputExistsError(
            f"{str(path)!r} exists; pass --force to replace it, or choose another path."
        )
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except PermissionError:
        raise InputError(f"cannot write to folder {str(folder)!r}: permission denied.") from None
    try:
        # mkstemp creates 0600; give the file the mode a plain open() would (or keep the
        # mode of the file it replaces).
        os.chmod(tmp, path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask())
        with os.fdopen(fd, "w+b") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write(path: str | os.PathLike, write: Callable, *, force: bool = True) -> Path:
    """Call ``write(binary_file)`` inside :func:`atomic_file`: ``path`` ends up whole or
    unchanged."""
    with atomic_file(path, force=force) as fh:
        write(fh)
    return Path(path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str, *, force: bool = True) -> Path:
    """:func:`atomic_write` for a UTF-8 string."""
    data = text.encode("utf-8")
    return atomic_write(path, lambda fh: fh.write(data), force=force)


def ensure_directory(path: str | os.PathLike) -> Path:
    """Create folder ``path`` (and parents) if needed; refuse a file in its place."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"--out {str(path)!r} exists and is not a folder; name a folder.")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except PermissionError:
        raise InputError(f"cannot create folder {str(path)!r}: permission denied.") from None
    if not os.access(path, os.W_OK):
        raise InputError(f"cannot write to folder {str(path)!r}: permission denied.")
    return path


def atomic_write_many(files: dict[Path, bytes]) -> list[Path]:
    """Write several files as one step: every file is first written whole and fsynced
    under a temporary name in its folder; only when all are ready are they renamed over
    their targets, one after another. A failure or Ctrl-C before that leaves every
    target as it was (and no temporary file behind)."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            path = Path(path)
            if path.is_dir():
                raise InputError(f"cannot write {str(path)!r}: it is a folder.")
            try:
                fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                           dir=path.parent)
            except PermissionError:
                raise InputError(f"cannot write to folder {str(path.parent)!r}: "
                                 "permission denied.") from None
            staged.append((tmp, path))
            os.chmod(tmp, path.stat().st_mode & 0o7777 if path.exists()
                     else 0o666 & ~_umask())
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
    except BaseException:
        for tmp, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        raise
    for tmp, path in staged:
        os.replace(tmp, path)
    return [path for _, path in staged]
