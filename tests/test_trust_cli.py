"""Trust at the edges of the command line: user code cannot end the process or corrupt
the output, the environment's refusals are user errors that name the user's path, only
the documented exit codes come out, and options that would be ignored are refused.

Where real process behaviour matters (exit status, file descriptors, signals, file
systems) the command runs in a subprocess, ``python -m collapsecheck``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
import typer

import collapsecheck.cli as cli
from collapsecheck import interrupt, io
from collapsecheck.cli import ExitCode, main
from collapsecheck.errors import InputError

#: One quick check, no claims, no escalation worth speaking of: well under a second.
TINY = """
name = "tiny"
description = "one quick check"
seed = 7
budget = 0.001

[[checks]]
type = "log_var_gof"
n = 3
generations = 5
replicates = 300
"""

SIMULATOR = """
import os
import sys
from collapsecheck.engines import simulate

{top}

def f(e, record):
{body}
    return simulate(e, record=record, workers=1).trajectories
"""

TABLE = {0, 1, 2, 70, 130}


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path


def _simulator(tmp_path, top="", body="pass", name="sim.py"):
    path = tmp_path / name
    path.write_text(SIMULATOR.format(top=textwrap.dedent(top),
                                     body=textwrap.indent(textwrap.dedent(body), "    ")))
    return path


def _cli(*args, cwd=None, timeout=120, **kw):
    return subprocess.run([sys.executable, "-m", "collapsecheck", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=timeout, **kw)


def _one_error_line(err: str, *needles: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("collapsecheck: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, err)
    return lines[0]


# ---------------------------------------------------------------------------------------
# 1. User code cannot end the process
# ---------------------------------------------------------------------------------------

RAISES = [
    pytest.param("sys.exit(0)", "SystemExit(0)", id="exit-0"),
    pytest.param("sys.exit(1)", "SystemExit(1)", id="exit-1"),
    pytest.param("sys.exit(2)", "SystemExit(2)", id="exit-2"),
    pytest.param("sys.exit(130)", "SystemExit(130)", id="exit-130"),
    pytest.param("sys.exit()", "SystemExit(None)", id="exit-none"),
    pytest.param("sys.exit('bye')", "SystemExit('bye')", id="exit-string"),
    pytest.param("raise KeyboardInterrupt", "KeyboardInterrupt", id="keyboard-interrupt"),
    pytest.param("raise GeneratorExit", "GeneratorExit", id="generator-exit"),
    pytest.param("class Custom(BaseException):\n    pass\nraise Custom('odd')", "Custom: odd",
                 id="custom-base-exception"),
]


@pytest.mark.parametrize(("statement", "shown"), RAISES)
def test_simulator_call_that_ends_the_process_is_its_fault(tiny, tmp_path, capsys,
                                                           statement, shown):
    sim = _simulator(tmp_path, body=statement)
    code = main(["validate", "--profile", str(tiny), "--simulator", f"{sim}:f", "--json",
                 "--no-progress"])
    out, err = capsys.readouterr()
    assert code == ExitCode.USAGE
    assert out == ""
    line = _one_error_line(err, f"the simulator 'f' raised {shown}")
    assert ("no Ctrl-C arrived" in line) == ("KeyboardInterrupt" in shown)


@pytest.mark.parametrize(("statement", "shown"), RAISES)
def test_simulator_import_that_ends_the_process_is_its_fault(tiny, tmp_path, capsys,
                                                             statement, shown):
    sim = _simulator(tmp_path, top=statement)
    code = main(["validate", "--profile", str(tiny), "--simulator", f"{sim}:f", "--json",
                 "--no-progress"])
    out, err = capsys.readouterr()
    assert code == ExitCode.USAGE
    assert out == ""
    line = _one_error_line(err, f"the simulator file {str(sim)!r} raised {shown} while "
                                "being imported")
    assert ("no Ctrl-C arrived" in line) == ("KeyboardInterrupt" in shown)


def test_simulator_module_that_fails_to_import_is_its_fault(tiny, tmp_path, capsys,
                                                            monkeypatch):
    _simulator(tmp_path, top="raise RuntimeError('broken module')", name="mysimmod.py")
    monkeypatch.syspath_prepend(str(tmp_path))
    code = main(["validate", "--profile", str(tiny), "--simulator", "mysimmod:f",
                 "--no-progress"])
    assert code == ExitCode.USAGE  # was an internal error: only ImportError was caught
    _one_error_line(capsys.readouterr().err, "the simulator module 'mysimmod' raised "
                                             "RuntimeError: broken module")
    sys.modules.pop("mysimmod", None)


def test_simulator_file_with_a_dataclass_imports(tiny, tmp_path, capsys):
    # dataclasses look their module up in sys.modules (string annotations)
    sim = tmp_path / "dc.py"
    sim.write_text(textwrap.dedent("""
        from __future__ import annotations
        from dataclasses import dataclass
        from collapsecheck.engines import simulate

        @dataclass
        class Options:
            workers: int = 1

        def f(e, record):
            return simulate(e, record=record, workers=Options().workers).trajectories
    """))
    assert main(["validate", "--profile", str(tiny), "--simulator", f"{sim}:f",
                 "--no-progress"]) == 0, capsys.readouterr().err


@pytest.mark.parametrize(("change", "code", "message"), [
    ("log_var=t.log_var.tolist(), mean=t.mean.tolist()", 0, None),
    ("log_var=t.log_var.astype(str).astype(object) + 'x'", 2, "are not numbers"),
    ("mean=t.mean * float('nan')", 2, "non-finite mean"),
    ("generations=t.generations - 1", 2, "generations that differ"),
])
def test_simulator_arrays_are_checked_not_trusted(tiny, tmp_path, capsys, change, code,
                                                  message):
    sim = tmp_path / "arrays.py"
    sim.write_text(textwrap.dedent(f"""
        import dataclasses
        from collapsecheck.engines import simulate

        def f(e, record):
            t = simulate(e, record=record, workers=1).trajectories
            t = dataclasses.replace(t, mean=t.fitted_mean(), mean_origin=0.0, mean_scale=1.0)
            return dataclasses.replace(t, {change})
    """))
    assert main(["validate", "--profile", str(tiny), "--simulator", f"{sim}:f",
                 "--no-progress"]) == code
    err = capsys.readouterr().err
    if message:
        _one_error_line(err, "the simulator 'f' returned", message)


@pytest.mark.parametrize("where", ["top", "body"])
def test_sys_exit_zero_does_not_turn_ci_green(tiny, tmp_path, where):
    sim = _simulator(tmp_path, **{where: "sys.exit(0)"})
    proc = _cli("validate", "--profile", tiny, "--simulator", f"{sim}:f", "--json",
                "--out", tmp_path / "reports", "--no-progress")
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    _one_error_line(proc.stderr, "raised SystemExit(0)")
    assert not (tmp_path / "reports" / "report.json").exists()


def test_simulator_output_goes_to_stderr_and_json_stays_valid(tiny, tmp_path):
    say = """
        print("{w}-print")
        sys.stdout.write("{w}-sys-stdout\\n")
        sys.__stdout__.write("{w}-dunder-stdout\\n")
        os.write(1, b"{w}-fd1\\n")
        ctypes.CDLL(None).printf(b"{w}-printf\\n")
    """
    sim = _simulator(tmp_path, top="import ctypes\n" + textwrap.dedent(say.format(w="import")),
                     body=say.format(w="call"))
    proc = _cli("validate", "--profile", tiny, "--simulator", f"{sim}:f", "--json",
                "--no-progress")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)  # nothing but the report on stdout
    assert report["spec"]["simulator"] == "custom"
    for when in ("import", "call"):
        for how in ("print", "sys-stdout", "dunder-stdout", "fd1", "printf"):
            assert f"{when}-{how}" in proc.stderr, (when, how, proc.stderr)


def test_stdout_is_restored_after_user_code(tmp_path, capfd):
    from collapsecheck.plugin import stdout_to_stderr

    with stdout_to_stderr():
        print("inside")
        os.write(1, b"inside-fd\n")
    print("after")
    os.write(1, b"after-fd\n")
    out, err = capfd.readouterr()
    assert out == "after\nafter-fd\n"
    assert "inside" in err and "inside-fd" in err


def _wait_for(path: Path, proc, seconds=60):
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the simulator never started"
        time.sleep(0.05)


@pytest.mark.parametrize("handling", ["", "except_exit"])
def test_real_ctrl_c_in_user_code_exits_130(tiny, tmp_path, handling):
    marker = tmp_path / "started"
    body = f"""
        open({str(marker)!r}, "w").close()
        import time
        try:
            time.sleep(60)
        except KeyboardInterrupt:
            {"sys.exit(0)" if handling else "raise"}
    """
    sim = _simulator(tmp_path, body=body)
    proc = subprocess.Popen([sys.executable, "-m", "collapsecheck", "validate", "--profile",
                             str(tiny), "--simulator", f"{sim}:f", "--json", "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(marker, proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert out == ""
    assert err.splitlines() == ["collapsecheck: interrupted"]


# ---------------------------------------------------------------------------------------
# 1b. main(): only the table's exit codes, the SIGINT handler and the cancel flag
# ---------------------------------------------------------------------------------------


@pytest.fixture
def fake_theory(monkeypatch):
    """Replace the ``theory`` command's body by the function passed in."""
    info = next(c for c in cli.app.registered_commands
                if (c.name or c.callback.__name__) == "theory")

    def install(body):
        def theory():
            return body()

        monkeypatch.setattr(info, "callback", theory)

    return install


def _raise(exc):
    def body():
        raise exc
    return body


class _Custom(BaseException):
    pass


@pytest.mark.parametrize("body", [
    pytest.param(_raise(SystemExit(0)), id="SystemExit-0"),
    pytest.param(_raise(SystemExit(3)), id="SystemExit-3"),
    pytest.param(_raise(SystemExit("text")), id="SystemExit-text"),
    pytest.param(_raise(typer.Exit(5)), id="typer-Exit-5"),
    pytest.param(_raise(GeneratorExit()), id="GeneratorExit"),
    pytest.param(_raise(_Custom("odd")), id="custom-BaseException"),
    pytest.param(_raise(OSError(errno.EBADF, "Bad file descriptor")), id="OSError-EBADF"),
    pytest.param(lambda: 5, id="returns-5"),
    pytest.param(lambda: 255, id="returns-255"),
    pytest.param(lambda: "done", id="returns-text"),
])
def test_no_exit_code_outside_the_table(fake_theory, capsys, body):
    fake_theory(body)
    code = main(["theory"])
    out, err = capsys.readouterr()
    assert code == ExitCode.INTERNAL
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("collapsecheck: internal error: "), err


@pytest.mark.parametrize(("body", "expected"), [
    (lambda: None, 0), (lambda: ExitCode.CHECK_FAILED, 1), (_raise(typer.Exit(0)), 0),
    (_raise(typer.Exit(1)), 1), (_raise(InputError("bad thing")), 2),
    (_raise(KeyboardInterrupt()), 130),
])
def test_table_codes_pass_through(fake_theory, capsys, body, expected):
    fake_theory(body)
    assert main(["theory"]) == expected
    assert main(["theory"]) in TABLE


def test_sigint_handler_is_installed_for_the_run_and_restored(fake_theory, capsys):
    seen = {}

    def body():
        seen["handler"] = signal.getsignal(signal.SIGINT)
        seen["cancel"] = interrupt.CANCEL.is_set()
        seen["sigint"] = interrupt.sigint_received()
        return 0

    before = signal.getsignal(signal.SIGINT)
    interrupt.CANCEL.set()  # left over from an earlier run: cleared at the start
    fake_theory(body)
    assert main(["theory"]) == 0
    assert seen["handler"] is not before and callable(seen["handler"])
    assert seen == {**seen, "cancel": False, "sigint": False}
    assert signal.getsignal(signal.SIGINT) is before


def test_sigint_sets_the_flags_and_any_exception_after_it_is_an_interrupt(fake_theory,
                                                                           capsys):
    def body():
        try:
            signal.raise_signal(signal.SIGINT)
            time.sleep(1)  # the handler runs here
        except KeyboardInterrupt:
            assert interrupt.sigint_received() and interrupt.CANCEL.is_set()
            with pytest.raises(KeyboardInterrupt):
                interrupt.check_cancelled()
            raise RuntimeError("what a worker made of the interrupt") from None
        return 0

    fake_theory(body)
    assert main(["theory"]) == ExitCode.INTERRUPTED
    assert capsys.readouterr().err == "collapsecheck: interrupted\n"


def test_check_cancelled_is_quiet_until_cancelled():
    interrupt.clear()
    interrupt.check_cancelled()
    interrupt.CANCEL.set()
    try:
        with pytest.raises(KeyboardInterrupt):
            interrupt.check_cancelled()
    finally:
        interrupt.clear()


def test_full_stdout_is_a_usage_error_not_an_exit_120():
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "collapsecheck", "theory", "--json"],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert proc.returncode == 2
    _one_error_line(proc.stderr, "standard output", "No space left on device")


# ---------------------------------------------------------------------------------------
# 2. The environment's refusals: exit 2, the user's path, the old files intact
# ---------------------------------------------------------------------------------------


def _failing(real, err, after=0):
    calls = {"n": 0}

    def fake(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > after:
            raise OSError(err, os.strerror(err))
        return real(*args, **kwargs)

    return fake


def _listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.mark.parametrize(("call", "err", "words"), [
    ("fsync", errno.EDQUOT, "quota"),
    ("fsync", errno.ENOSPC, "no space left"),
    ("replace", errno.ENOSPC, "no space left"),
    ("chmod", errno.EROFS, "read-only"),
])
def test_atomic_write_refusal_names_the_target(tmp_path, monkeypatch, call, err, words):
    target = tmp_path / "report.json"
    target.write_text("old")
    monkeypatch.setattr(os, call, _failing(getattr(os, call), err))
    with pytest.raises(InputError) as info:
        io.atomic_write_text(target, "new")
    message = str(info.value)
    assert repr(str(target)) in message and words in message and ".tmp" not in message
    assert "--out" in message
    monkeypatch.undo()
    assert _listing(tmp_path) == {"report.json": b"old"}


@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EACCES])
def test_temporary_file_refusal_names_the_target(tmp_path, monkeypatch, err):
    monkeypatch.setattr(tempfile, "mkstemp", _failing(tempfile.mkstemp, err))
    with pytest.raises(InputError, match=repr(str(tmp_path / "x.csv"))):
        io.atomic_write_text(tmp_path / "x.csv", "new")
    monkeypatch.setattr(tempfile, "mkdtemp", _failing(tempfile.mkdtemp, err))
    with pytest.raises(InputError, match=repr(str(tmp_path / "x.npz"))):
        io.staging_directory(tmp_path / "x.npz")
    assert list(tmp_path.iterdir()) == []


def test_atomic_file_names_the_target_for_a_full_disk_mid_stream(tmp_path):
    target = tmp_path / "big.csv"
    target.write_text("old")
    with pytest.raises(InputError, match=r"cannot write .*big\.csv.*no space left"):
        with io.atomic_file(target) as fh:
            fh.write(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device")  # as a write would
    assert _listing(tmp_path) == {"big.csv": b"old"}


@pytest.mark.parametrize("exc", [
    OSError(errno.ENOSPC, "No space left on device", "/elsewhere/spill.bin"),
    OSError(errno.EACCES, "Permission denied", "/etc/some-input"),
    KeyboardInterrupt(),
    ValueError("not about the disk"),
])
def test_atomic_file_leaves_other_errors_alone(tmp_path, exc):
    target = tmp_path / "big.csv"
    with pytest.raises(type(exc)) as info:
        with io.atomic_file(target):
            raise exc
    assert info.value is exc
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("call", "after"), [("fsync", 2), ("replace", 1)])
def test_atomic_write_many_leaves_no_temporary_file(tmp_path, monkeypatch, call, after):
    files = {tmp_path / name: name.encode() * 10 for name in ("a.json", "b.md", "c.html")}
    for path in files:
        path.write_text("old")
    monkeypatch.setattr(os, call, _failing(getattr(os, call), errno.ENOSPC, after))
    with pytest.raises(InputError) as info:
        io.atomic_write_many(files)
    monkeypatch.undo()
    message = str(info.value)
    assert ".tmp" not in message and "no space left" in message
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["a.json", "b.md", "c.html"]  # no temporary file behind
    if call == "fsync":  # staging failed: nothing was renamed
        assert all(p.read_text() == "old" for p in files)


@pytest.mark.parametrize("err", [errno.EROFS, errno.ENOSPC, errno.EDQUOT])
def test_ensure_directory_refusal(tmp_path, monkeypatch, err):
    monkeypatch.setattr(Path, "mkdir", _failing(Path.mkdir, err))
    with pytest.raises(InputError, match=r"cannot create folder .*new.*--out"):
        io.ensure_directory(tmp_path / "new")


def test_validate_out_with_a_full_disk_is_a_usage_error(tiny, tmp_path, monkeypatch, capsys):
    out = tmp_path / "reports"
    assert main(["validate", "--profile", str(tiny), "--out", str(out), "--no-progress"]) == 0
    before = _listing(out)
    capsys.readouterr()
    monkeypatch.setattr(os, "fsync", _failing(os.fsync, errno.EDQUOT, after=1))
    code = main(["validate", "--profile", str(tiny), "--seed", "99", "--out", str(out),
                 "--no-progress"])
    stdout, err = capsys.readouterr()
    assert code == ExitCode.USAGE
    assert stdout == ""
    line = _one_error_line(err, str(out), "quota", "--out")
    assert ".tmp" not in line
    assert _listing(out) == before


@pytest.mark.parametrize(("filename", "shown"), [
    ("/d/.report.json.ab12cd_3.tmp", "'/d/report.json'"),
    ("/d/.big.npz.x1y2z3w4/mean.npy", "'/d/big.npz'"),
    ("/d/plain.csv", "'/d/plain.csv'"),
])
def test_generic_os_error_never_shows_a_temporary_name(fake_theory, capsys, filename, shown):
    fake_theory(_raise(OSError(errno.ENOSPC, "No space left on device", filename)))
    assert main(["theory"]) == ExitCode.USAGE
    line = _one_error_line(capsys.readouterr().err, shown, "No space left on device")
    assert ".tmp" not in line and "x1y2z3w4" not in line


# Real file systems: a small tmpfs (root only; skipped where mount is not allowed)


@contextlib.contextmanager
def _tmpfs(folder: Path, size="256k"):
    folder.mkdir()
    try:
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                               str(folder)], capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        proc = None
    if proc is None or proc.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=30)


def _fill(folder: Path, leave: int) -> None:
    """Fill the file system of ``folder`` until about ``leave`` bytes are free."""
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    with contextlib.suppress(OSError), open(folder / "filler", "wb") as fh:
        fh.write(b"\0" * max(0, free - leave))


def _tmp_names(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


def test_simulate_out_too_big_for_the_disk_is_refused_up_front(tmp_path):
    with _tmpfs(tmp_path / "mnt") as mnt:
        for suffix in (".csv", ".npz"):
            target = mnt / f"big{suffix}"
            target.write_bytes(b"old trajectories")
            proc = _cli("simulate", "--n", "5", "--generations", "200", "--replicates", "200",
                        "--seed", "1", "--out", target, "--force", "--json", "--no-progress")
            assert proc.returncode == 2, proc.stderr
            assert proc.stdout == ""
            _one_error_line(proc.stderr, repr(str(target)), "needs about", "free")
            assert target.read_bytes() == b"old trajectories"
            assert _tmp_names(mnt) == []


@pytest.fixture
def no_disk_precheck(monkeypatch):
    """Let a run start although the disk cannot take it (the up-front estimate would
    refuse it), so that the failure comes from the write itself."""
    import collapsecheck.costs

    monkeypatch.setattr(collapsecheck.costs, "require_disk", lambda *a, **k: None)


def test_simulate_out_on_a_full_disk(tmp_path, capsys, no_disk_precheck):
    with _tmpfs(tmp_path / "mnt") as mnt:
        for suffix in (".csv", ".npz"):
            target = mnt / f"big{suffix}"
            target.write_bytes(b"old trajectories")
            code = main(["simulate", "--n", "5", "--generations", "200", "--replicates",
                         "200", "--seed", "1", "--out", str(target), "--force", "--json",
                         "--no-progress"])
            out, err = capsys.readouterr()
            assert code == 2, err
            assert out == ""
            line = _one_error_line(err, repr(str(target)), "no space left", "--out")
            assert ".tmp" not in line
            assert target.read_bytes() == b"old trajectories"
            assert _tmp_names(mnt) == []


def test_simulate_out_on_a_disk_too_full_to_stage(tmp_path, capsys, no_disk_precheck):
    with _tmpfs(tmp_path / "mnt") as mnt:
        target = mnt / "chains.npz"
        target.write_bytes(b"old trajectories")
        _fill(mnt, leave=0)
        code = main(["simulate", "--n", "5", "--generations", "20", "--replicates", "20",
                     "--seed", "1", "--out", str(target), "--force", "--no-progress"])
        err = capsys.readouterr().err
        assert code == 2, err
        _one_error_line(err, repr(str(target)), "no space left")
        assert target.read_bytes() == b"old trajectories"
        assert _tmp_names(mnt) == []


def test_validate_out_on_a_full_disk(tiny, tmp_path):
    with _tmpfs(tmp_path / "mnt") as mnt:
        reports = mnt / "reports"
        reports.mkdir()
        old = {name: f"old {name}".encode() for name in
               ("report.json", "report.md", "report.html", "junit.xml")}
        for name, data in old.items():
            (reports / name).write_bytes(data)
        _fill(mnt, leave=40_000)  # less than the report's HTML
        proc = _cli("validate", "--profile", tiny, "--out", reports, "--no-progress")
        assert proc.returncode == 2, proc.stderr
        line = _one_error_line(proc.stderr, str(reports), "no space left", "--out")
        assert ".tmp" not in line
        assert _listing(reports) == old


def test_read_only_file_system(tiny, tmp_path):
    with _tmpfs(tmp_path / "mnt") as mnt:
        (mnt / "chains.csv").write_bytes(b"old")
        (mnt / "reports").mkdir()
        (mnt / "reports" / "report.json").write_bytes(b"old")
        remount = subprocess.run(["mount", "-o", "remount,ro", str(mnt)], capture_output=True)
        if remount.returncode != 0:
            pytest.skip("cannot remount read-only")
        proc = _cli("simulate", "--n", "5", "--generations", "3", "--replicates", "2",
                    "--seed", "1", "--out", mnt / "chains.csv", "--force", "--no-progress")
        assert proc.returncode == 2, proc.stderr
        _one_error_line(proc.stderr, repr(str(mnt / "chains.csv")), "read-only")
        for out in (mnt / "reports", mnt / "new-reports"):
            proc = _cli("validate", "--profile", tiny, "--out", out, "--no-progress")
            assert proc.returncode == 2, proc.stderr
            _one_error_line(proc.stderr, repr(str(out)), "read-only", "--out")
        assert (mnt / "chains.csv").read_bytes() == b"old"
        assert _listing(mnt / "reports") == {"report.json": b"old"}


# ---------------------------------------------------------------------------------------
# 3. Options that would be ignored, or mean nothing, are refused
# ---------------------------------------------------------------------------------------


def _usage(capsys, argv, *needles):
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == ExitCode.USAGE, err
    assert out == ""
    return _one_error_line(err, *needles)


@pytest.mark.parametrize("command", ["simulate", "validate"])
def test_empty_out_is_refused(tmp_path, monkeypatch, capsys, command):
    monkeypatch.chdir(tmp_path)
    extra = ["--n", "5", "--generations", "3", "--replicates", "2"] if command == "simulate" \
        else ["--profile", "ci"]
    _usage(capsys, [command, *extra, "--out", "", "--no-progress"], "--out", "empty")
    _usage(capsys, [command, *extra, "--out=", "--no-progress"], "--out", "empty")
    assert list(tmp_path.iterdir()) == []  # nothing written to the current folder


def test_simulate_force_without_out_is_refused(capsys):
    _usage(capsys, ["simulate", "--n", "5", "--generations", "3", "--replicates", "2",
                    "--force"], "--force", "--out")


@pytest.mark.parametrize("extra", [
    ["--profile", "ci"], ["--profile", "article"], ["--out", "x"], ["--seed", "1"],
    ["--engine", "samples"], ["--simulator", "a.py:f"], ["--json"], ["--workers", "2"],
    ["--scheduler", "processes"], ["--no-progress"],
])
def test_validate_list_refuses_other_options(tmp_path, monkeypatch, capsys, extra):
    monkeypatch.chdir(tmp_path)
    _usage(capsys, ["validate", "--list", *extra], "--list", extra[0])
    _usage(capsys, ["validate", *extra, "--list"], "--list", extra[0])
    assert list(tmp_path.iterdir()) == []


def test_validate_list_alone_still_lists(capsys):
    assert main(["validate", "--list"]) == 0
    out = capsys.readouterr().out
    assert "ci" in out and "log_var_gof" in out
