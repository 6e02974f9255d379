"""Atomic file writes: a reader sees the old file or the new one, never a torn one.

A write that the environment refuses (no space left, a quota, a read-only file system,
permission denied) raises :class:`~collapsecheck.errors.InputError` naming the target the
user gave, never the temporary file, with what to do; the old file is left as it was and
no temporary file stays behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from collapsecheck.errors import InputError, OutputExistsError

__all__ = ["atomic_file", "atomic_write", "atomic_write_many", "atomic_write_text",
           "ensure_directory", "staging_directory", "write_error"]

_FREE = "free some space or choose another --out"
#: errno -> what went wrong and what to do (EDQUOT is missing on some platforms).
_WHY = {
    errno.ENOSPC: f"no space left on the device; {_FREE}",
    getattr(errno, "EDQUOT", -1): f"the disk quota is exceeded; {_FREE}",
    errno.EFBIG: "the file is too large for this file system; choose another --out",
    errno.EROFS: "the file system is read-only; choose another --out",
    errno.EACCES: "permission denied; choose another --out",
    errno.EPERM: "operation not permitted; choose another --out",
}
#: errnos that mean "this place cannot take the data", whichever call raised them.
_NO_ROOM = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", -1), errno.EFBIG, errno.EROFS})


def write_error(target: str | os.PathLike, exc: OSError, *, what: str = "write") -> InputError:
    """The :class:`InputError` for ``exc``, raised while writing ``target``: names the
    target (never a temporary file) and what to do."""
    why = _WHY.get(exc.errno)
    if why is None:
        text = exc.strerror or str(exc) or type(exc).__name__
        why = f"{text[:1].lower()}{text[1:]}; choose another --out"
    return InputError(f"cannot {what} {str(target)!r}: {why}.")


def _concerns(exc: BaseException, folder: Path) -> bool:
    """True for an OSError that says ``folder`` cannot take the data written there: a
    no-room errno about an unnamed file (a write to an open handle) or a file in it."""
    if not isinstance(exc, OSError) or exc.errno not in _NO_ROOM:
        return False
    if exc.filename is None:
        return True
    try:
        inside = os.path.commonpath([os.path.abspath(os.fsdecode(exc.filename)),
                                     os.path.abspath(folder)]) == os.path.abspath(folder)
    except (TypeError, ValueError):
        return False
    return inside


def _temporary(path: Path, folder: Path) -> tuple[int, str]:
    """mkstemp beside ``path``; a refusal names ``path``."""
    try:
        return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise write_error(path, exc) from None


def _new_mode(path: Path) -> int:
    """The mode a plain open() would give (or that of the file being replaced)."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _close_quietly(fh) -> None:
    """Close a file whose content is being thrown away (a failed flush is moot)."""
    with contextlib.suppress(OSError, ValueError):
        fh.close()


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def staging_directory(target: str | os.PathLike) -> str:
    """Create a hidden temporary folder beside ``target`` (for files staged before
    ``target`` is written); a refusal raises :class:`InputError` naming ``target``. The
    caller removes it."""
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        return tempfile.mkdtemp(prefix=f".{target.name}.", dir=folder)
    except OSError as exc:
        raise write_error(target, exc) from None


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
    fd, tmp = _temporary(path, folder)
    try:
        fh = os.fdopen(fd, "w+b")
    except BaseException:
        os.close(fd)
        _unlink_quietly(tmp)
        raise
    ours = True  # False while the caller's block runs: its OSErrors may be about other files
    try:
        # mkstemp creates 0600; give the file the mode a plain open() would (or keep the
        # mode of the file it replaces).
        os.chmod(tmp, _new_mode(path))
        ours = False
        yield fh
        ours = True
        fh.flush()
        os.fsync(fh.fileno())
        fh.close()
        os.replace(tmp, path)
    except BaseException as exc:
        _close_quietly(fh)
        _unlink_quietly(tmp)
        if isinstance(exc, OSError) and (ours or _concerns(exc, folder)):
            raise write_error(path, exc) from None
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
    except (FileExistsError, NotADirectoryError):
        raise InputError(f"cannot create folder {str(path)!r}: a file is in the way; "
                         "choose another --out.") from None
    except OSError as exc:
        raise write_error(path, exc, what="create folder") from None
    if not os.access(path, os.W_OK):
        read_only = False
        with contextlib.suppress(OSError, AttributeError):
            read_only = bool(os.statvfs(path).f_flag & os.ST_RDONLY)
        raise write_error(path, OSError(errno.EROFS if read_only else errno.EACCES, ""),
                          what="write to folder")
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
            fd, tmp = _temporary(path, path.parent if str(path.parent) else Path("."))
            staged.append((tmp, path))
            try:
                fh = os.fdopen(fd, "wb")
            except BaseException:
                os.close(fd)
                raise
            try:
                os.chmod(tmp, _new_mode(path))
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
                fh.close()
            except BaseException as exc:
                _close_quietly(fh)
                if isinstance(exc, OSError):
                    raise write_error(path, exc) from None
                raise
    except BaseException:
        for tmp, _ in staged:
            _unlink_quietly(tmp)
        raise
    done = 0
    try:
        for tmp, path in staged:
            os.replace(tmp, path)
            done += 1
    except BaseException as exc:
        for tmp, _ in staged[done:]:
            _unlink_quietly(tmp)
        if isinstance(exc, OSError):
            raise write_error(staged[done][1], exc) from None
        raise
    return [path for _, path in staged]
