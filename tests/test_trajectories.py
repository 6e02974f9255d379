"""Trajectory files: save/load round trips, strict loading of hostile input, atomic writes."""

from __future__ import annotations

import math
import os
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import collapsecheck.trajectories as trajectories
from collapsecheck.engines import simulate
from collapsecheck.errors import InputError, OutputExistsError
from collapsecheck.experiment import Experiment
from collapsecheck.trajectories import Trajectories, load, save

# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


def _simulated(n=5, generations=10, replicates=7, seed=20240601, engine="sufficient"):
    e = Experiment(n=n, generations=generations, replicates=replicates, seed=seed)
    return simulate(e, engine=engine, workers=1, record="all").trajectories


def _write(path, data: bytes | str):
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def _assert_valid(traj: Trajectories) -> None:
    """What every successfully loaded file must satisfy."""
    assert isinstance(traj, Trajectories)
    assert traj.log_var.ndim == 2
    R, G = traj.log_var.shape
    assert R >= 1 and G >= 1
    assert traj.log_var.dtype == np.float64
    assert np.all(np.isfinite(traj.log_var))
    np.testing.assert_array_equal(traj.generations, np.arange(G))
    if traj.mean is not None:
        assert traj.mean.shape == (R, G)
        assert np.all(np.isfinite(traj.mean))


# ---------------------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["samples", "sufficient"])
@pytest.mark.parametrize("suffix", [".csv", ".npz"])
def test_round_trip_is_exact(tmp_path, suffix, engine):
    traj = _simulated(engine=engine)
    path = save(traj, tmp_path / f"t{suffix}")
    back = load(path)
    _assert_valid(back)
    # CSV is written with %.17g, which round-trips every float64 exactly; NPZ is binary.
    np.testing.assert_array_equal(back.log_var, traj.log_var)
    np.testing.assert_array_equal(back.mean, traj.mean)
    np.testing.assert_array_equal(back.generations, traj.generations)
    assert back.spec is None
    assert os.listdir(tmp_path) == [f"t{suffix}"]


@pytest.mark.parametrize("suffix", [".csv", ".npz"])
def test_round_trip_survives_std_underflow(tmp_path, suffix):
    # n = 2 drifts log sigma^2 down by about 1.27 per generation: after 3000 generations
    # sigma = exp(log_var / 2) is far below the smallest double and underflows to 0.0.
    traj = _simulated(n=2, generations=3000, replicates=3)
    assert np.all(traj.std[:, -1] == 0.0)
    assert np.all(np.isfinite(traj.log_var)) and traj.log_var[:, -1].max() < -1500
    back = load(save(traj, tmp_path / f"long{suffix}"))
    _assert_valid(back)
    np.testing.assert_array_equal(back.log_var, traj.log_var)
    np.testing.assert_array_equal(back.mean, traj.mean)


def test_csv_has_the_documented_header(tmp_path):
    path = save(_simulated(replicates=2, generations=1), tmp_path / "t.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "replicate,generation,mean,std,log_var"
    assert len(lines) == 1 + 2 * 2


def test_csv_without_mean_column_loads_with_mean_none(tmp_path):
    path = _write(tmp_path / "t.csv",
                  "replicate,generation,std\n0,0,1\n0,1,0.5\n1,0,1\n1,1,2\n")
    traj = load(path)
    _assert_valid(traj)
    assert traj.mean is None
    np.testing.assert_allclose(traj.log_var, 2 * np.log([[1, 0.5], [1, 2]]), rtol=0, atol=0)


def test_csv_rows_may_come_in_any_order_and_log_var_wins(tmp_path):
    path = _write(tmp_path / "t.csv",
                  "generation,replicate,log_var,std\n1,0,-3,0.22313016014842982\n0,0,0,1\n")
    traj = load(path)
    np.testing.assert_array_equal(traj.log_var, [[0.0, -3.0]])


def test_csv_mean_written_as_nan_for_missing_means_round_trips_to_none(tmp_path):
    traj = _simulated(replicates=2, generations=2)
    no_mean = Trajectories(traj.generations, traj.log_var, None)
    back = load(save(no_mean, tmp_path / "t.csv"))
    assert back.mean is None
    np.testing.assert_array_equal(back.log_var, traj.log_var)


def test_npz_std_only_and_bare_npy_load(tmp_path):
    std = np.array([[1.0, 0.5, 0.25], [1.0, 2.0, 4.0]])
    np.savez(tmp_path / "s.npz", std=std)
    np.save(tmp_path / "s.npy", std)
    for name in ("s.npz", "s.npy"):
        traj = load(tmp_path / name)
        _assert_valid(traj)
        assert traj.mean is None
        np.testing.assert_allclose(traj.log_var, 2 * np.log(std), rtol=1e-15)


# ---------------------------------------------------------------------------------------
# Hostile and malformed input: always InputError with a message that says what is wrong
# ---------------------------------------------------------------------------------------

GOOD_HEADER = "replicate,generation,mean,std\n"

BAD_CSV = [
    pytest.param(b"", "empty file", id="empty"),
    pytest.param(b"\n\n", "empty file", id="blank-lines"),
    pytest.param(GOOD_HEADER, "no data rows", id="header-only"),
    pytest.param(GOOD_HEADER.rstrip("\n"), "no data rows", id="header-only-no-newline"),
    pytest.param("rep,gen,mean,std\n0,0,0,1\n", "bad header", id="wrong-header"),
    pytest.param("replicate,generation,std,std\n0,0,1,1\n", "bad header", id="duplicate-column"),
    pytest.param("replicate,generation,std,\n0,0,1,\n", "bad header", id="trailing-comma"),
    pytest.param("replicate,generation,mean\n0,0,0\n", "lacks std or log_var", id="no-std"),
    pytest.param("generation,mean,std\n0,0,1\n", "lacks replicate", id="no-replicate"),
    pytest.param(GOOD_HEADER + "0,0,0,abc\n", "could not convert string 'abc'",
                 id="non-numeric"),
    pytest.param(GOOD_HEADER + "0,0,0,1\n0,1,0,nan\n",
                 r"line 3: column 'std' has a non-finite value", id="nan-std"),
    pytest.param(GOOD_HEADER + "0,0,inf,1\n", r"line 2: column 'mean' has a non-finite value",
                 id="inf-mean"),
    pytest.param(GOOD_HEADER + "0,0,0,1\n0,1,nan,1\n", r"'mean' has a non-finite value",
                 id="partly-nan-mean"),
    pytest.param("replicate,generation,log_var\n0,0,-inf\n", "'log_var' has a non-finite",
                 id="inf-log-var"),
    pytest.param(GOOD_HEADER + "0,0,0,1\n0,1,0,0\n", r"line 3: column 'std' must be > 0",
                 id="zero-std"),
    pytest.param(GOOD_HEADER + "0,0,0,-1\n", r"'std' must be > 0", id="negative-std"),
    pytest.param(GOOD_HEADER + "0,0,0,1\n0,0,0,1\n1,0,0,1\n1,1,0,1\n",
                 "duplicate or missing", id="duplicate-pair"),
    pytest.param(GOOD_HEADER + "0,0,0,1\n0,0,0,1\n", "exactly once", id="duplicate-row"),
    pytest.param(GOOD_HEADER + "0,0,0,1\n0,2,0,1\n", "generations 0..2 exactly once",
                 id="missing-generation"),
    pytest.param(GOOD_HEADER + "0,0,0,1\n0,1,0,1\n1,1,0,1\n", "exactly once",
                 id="missing-generation-zero"),
    pytest.param(GOOD_HEADER + "0,0,0,1\n0,1,0\n", "number of columns changed", id="ragged"),
    pytest.param(GOOD_HEADER + "0,0,1\n", "rows have 3 fields; the header has 4",
                 id="short-rows"),
    pytest.param(GOOD_HEADER + "0.5,0,0,1\n", "'replicate' must hold whole numbers",
                 id="fractional-replicate"),
    pytest.param(GOOD_HEADER + "0,-1,0,1\n", "'generation' must hold whole numbers",
                 id="negative-generation"),
    pytest.param(GOOD_HEADER + "1e300,0,0,1\n", "'replicate' must hold whole numbers",
                 id="huge-replicate"),
    pytest.param(GOOD_HEADER + "0,1e19,0,1\n", "'generation' must hold whole numbers",
                 id="huge-generation"),
    pytest.param(b"replicate,generation,\xff\xfe\n0,0,1\n", "not a UTF-8 text file",
                 id="non-utf8-header"),
    pytest.param(GOOD_HEADER.encode() + b"0,0,0,1\n0,1,0,\xff\n", "not a UTF-8 text file",
                 id="non-utf8-data"),
]


@pytest.mark.parametrize(("content", "match"), BAD_CSV)
def test_malformed_csv_is_refused(tmp_path, content, match):
    path = _write(tmp_path / "bad.csv", content)
    with pytest.raises(InputError, match=match) as info:
        load(path)
    message = str(info.value)
    assert "bad.csv" in message  # names the file
    assert "\n" not in message  # one line, fit for the CLI's one-line error


class _Canary:
    """Unpickling this calls _tripwire: proof that a loader unpickled."""

    def __reduce__(self):
        return (_tripwire, ())


_UNPICKLED: list[int] = []


def _tripwire():
    _UNPICKLED.append(1)
    return "unpickled!"


def _object_array():
    arr = np.empty((1, 2), dtype=object)
    arr[0, 0] = _Canary()
    arr[0, 1] = 1.0
    return arr


def test_pickled_npy_is_refused_and_never_unpickled(tmp_path):
    np.save(tmp_path / "evil.npy", _object_array(), allow_pickle=True)
    _UNPICKLED.clear()
    with pytest.raises(InputError, match="pickled objects, which are never loaded"):
        load(tmp_path / "evil.npy")
    assert _UNPICKLED == []


@pytest.mark.parametrize("name", ["std", "log_var", "mean"])
def test_pickled_npz_member_is_refused_and_never_unpickled(tmp_path, name):
    arrays = {"std": np.ones((1, 2)), name: _object_array()}
    np.savez(tmp_path / "evil.npz", **arrays, allow_pickle=True)
    _UNPICKLED.clear()
    with pytest.raises(InputError, match="pickled objects, which are never loaded"):
        load(tmp_path / "evil.npz")
    assert _UNPICKLED == []


def test_the_canary_does_fire_when_unpickled(tmp_path):
    # Guards the two tests above: the object array really would run code if unpickled.
    np.save(tmp_path / "evil.npy", _object_array(), allow_pickle=True)
    _UNPICKLED.clear()
    np.load(tmp_path / "evil.npy", allow_pickle=True)
    assert _UNPICKLED == [1]
    _UNPICKLED.clear()


def _npz(path, **arrays):
    np.savez(path, **arrays)
    return path


BAD_NUMPY = [
    pytest.param(lambda p: _npz(p / "x.npz", std=np.ones((2, 3)), extra=np.ones((2, 3))),
                 r"unexpected array\(s\) \['extra'\]", id="unexpected-name"),
    pytest.param(lambda p: _npz(p / "x.npz", std=np.ones((2, 3)), log_var=np.zeros((2, 4))),
                 "arrays differ in shape", id="mismatched-shapes"),
    pytest.param(lambda p: _npz(p / "x.npz", std=np.ones(3)),
                 r"'std' has shape \(3,\)", id="one-dimensional"),
    pytest.param(lambda p: _npz(p / "x.npz", std=np.ones((0, 3))),
                 r"'std' has shape \(0, 3\)", id="no-replicates"),
    pytest.param(lambda p: _npz(p / "x.npz", mean=np.zeros((2, 3))),
                 "needs an array 'std' or 'log_var'", id="mean-only"),
    pytest.param(lambda p: _npz(p / "x.npz", std=np.array([[1.0, 0.0]])),
                 "'std' must be finite and > 0", id="zero-std"),
    pytest.param(lambda p: _npz(p / "x.npz", log_var=np.array([[0.0, np.nan]])),
                 "'log_var' has non-finite", id="nan-log-var"),
    pytest.param(lambda p: _npz(p / "x.npz", std=np.ones((1, 2)), mean=np.array([[0, np.inf]])),
                 "'mean' has non-finite", id="inf-mean"),
    pytest.param(lambda p: _npz(p / "x.npz", std=np.array([["a", "b"]])),
                 "must be numeric", id="strings"),
    pytest.param(lambda p: _npz(p / "x.npz", std=np.ones((1, 2), dtype=complex)),
                 "must be numeric", id="complex"),
    pytest.param(lambda p: _write(p / "x.npz", b""), "not a readable numpy file", id="empty"),
    pytest.param(lambda p: _write(p / "x.npz", _npz_bytes()[:60]), "not a readable numpy file",
                 id="truncated-zip"),
    pytest.param(lambda p: _raw_zip(p / "x.npz"),
                 "'std' is not a numpy array|not a readable numpy file", id="zip-member-not-npy"),
]


def _npz_bytes() -> bytes:
    import io

    buf = io.BytesIO()
    np.savez(buf, std=np.ones((2, 3)))
    return buf.getvalue()


def _raw_zip(path):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("std", b"not an array")
    return path


@pytest.mark.parametrize(("make", "match"), BAD_NUMPY)
def test_malformed_numpy_file_is_refused(tmp_path, make, match):
    path = make(tmp_path)
    with pytest.raises(InputError, match=match):
        load(path)


def test_wrong_extension_is_refused(tmp_path):
    path = _write(tmp_path / "t.txt", GOOD_HEADER + "0,0,0,1\n")
    with pytest.raises(InputError, match=r"must end in \.csv, \.npz or \.npy"):
        load(path)


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load(tmp_path / "nope.csv")


def test_directory_is_refused(tmp_path):
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(InputError, match="is not a regular file"):
        load(tmp_path / "d.csv")


def test_oversized_file_is_refused(tmp_path, monkeypatch):
    path = _write(tmp_path / "t.csv", GOOD_HEADER + "0,0,0,1\n")
    monkeypatch.setattr(trajectories, "MAX_FILE_BYTES", 10)
    with pytest.raises(InputError, match="over the limit of 10"):
        load(path)


# ---------------------------------------------------------------------------------------
# Property: any bytes named .csv load to valid trajectories or raise InputError
# ---------------------------------------------------------------------------------------

_ODD_TOKENS = st.sampled_from(
    ["-1", "0.5", "1e300", "-1e300", "1e-320", "0", "nan", "inf", "-inf", "", " ", "abc",
     "1e19", "9007199254740993", "0x10", "1_0", "+1", "\x00", "#", '"1"', "\u00e9", "1,2"]
)
_VALUE = st.one_of(
    st.floats(min_value=1e-300, max_value=1e300).map(repr),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    _ODD_TOKENS,
)
_HEADERS = st.one_of(
    st.sampled_from([
        ("replicate", "generation", "mean", "std"),
        ("replicate", "generation", "std"),
        ("replicate", "generation", "mean", "std", "log_var"),
        ("generation", "replicate", "log_var"),
    ]),
    st.permutations(["replicate", "generation", "mean", "std", "log_var"]).map(tuple),
    st.lists(st.sampled_from(["replicate", "generation", "mean", "std", "log_var", "x",
                              " std", ""]), min_size=1, max_size=6).map(tuple),
)


@st.composite
def _csv_like(draw) -> bytes:
    """Text shaped like a trajectory CSV, often valid, often damaged in one or two places:
    a grid of (replicate, generation) rows in any order, then rows dropped, duplicated or
    given odd fields, with any line ending."""
    header = draw(_HEADERS)
    R, G = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    rows = []
    for r in range(R):
        for g in range(G):
            cells = {"replicate": str(r), "generation": str(g)}
            rows.append([cells.get(name) or draw(_VALUE) for name in header])
    rows = draw(st.permutations(rows))
    for _ in range(draw(st.integers(0, 2))):
        i = draw(st.integers(0, len(rows) - 1))
        action = draw(st.sampled_from(["drop", "duplicate", "token", "extra", "short"]))
        if action == "drop" and len(rows) > 1:
            rows.pop(i)
        elif action == "duplicate":
            rows.append(list(rows[i]))
        elif action == "token" and rows[i]:
            rows[i][draw(st.integers(0, len(rows[i]) - 1))] = draw(_ODD_TOKENS)
        elif action == "extra":
            rows[i].append(draw(_VALUE))
        elif action == "short" and len(rows[i]) > 1:
            rows[i].pop()
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join([",".join(header), *(",".join(r) for r in rows)])
    return (text + draw(st.sampled_from(["", newline]))).encode("utf-8")


@settings(derandomize=True, database=None, deadline=None, max_examples=100)
@given(data=st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")),
    _csv_like(),
))
def test_any_csv_bytes_load_or_raise_input_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "t.csv"
    path.write_bytes(data)
    try:
        traj = load(path)
    except InputError:
        return
    _assert_valid(traj)


# ---------------------------------------------------------------------------------------
# Atomic, refusing writes
# ---------------------------------------------------------------------------------------

PRECIOUS = b"replicate,generation,mean,std\n0,0,0,1\n"


@pytest.mark.parametrize(("suffix", "writer"), [(".csv", "_write_csv"), (".npz", "_write_npz")])
@pytest.mark.parametrize("exc", [KeyboardInterrupt, OSError])
def test_interrupted_write_leaves_target_untouched(tmp_path, monkeypatch, suffix, writer, exc):
    target = _write(tmp_path / f"t{suffix}", PRECIOUS)

    def torn(traj, fh):
        fh.write(b"replicate,generation,mean,std,log_var\n0,0,0.12")  # half a file
        fh.flush()
        raise exc("stopped mid-write")

    monkeypatch.setattr(trajectories, writer, torn)
    with pytest.raises(exc, match="stopped mid-write"):
        save(_simulated(replicates=2, generations=2), target, force=True)
    assert target.read_bytes() == PRECIOUS
    assert os.listdir(tmp_path) == [target.name]  # no temporary file left behind


def test_interrupt_inside_real_csv_writer_leaves_target_untouched(tmp_path, monkeypatch):
    target = _write(tmp_path / "t.csv", PRECIOUS)
    real_savetxt = np.savetxt

    def savetxt_then_interrupt(fh, table, **kwargs):
        real_savetxt(fh, table[:1], **kwargs)
        fh.flush()
        raise KeyboardInterrupt

    monkeypatch.setattr(trajectories.np, "savetxt", savetxt_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        save(_simulated(replicates=2, generations=2), target, force=True)
    assert target.read_bytes() == PRECIOUS
    assert os.listdir(tmp_path) == [target.name]


@pytest.mark.parametrize("suffix", [".csv", ".npz"])
def test_existing_file_needs_force(tmp_path, suffix):
    target = _write(tmp_path / f"t{suffix}", PRECIOUS)
    traj = _simulated(replicates=2, generations=2)
    with pytest.raises(OutputExistsError, match="pass --force"):
        save(traj, target)
    assert target.read_bytes() == PRECIOUS
    save(traj, target, force=True)
    np.testing.assert_array_equal(load(target).log_var, traj.log_var)
    assert os.listdir(tmp_path) == [target.name]


def test_save_refuses_bad_suffix_missing_folder_and_gaps(tmp_path):
    traj = _simulated(replicates=2, generations=3)
    with pytest.raises(InputError, match=r"must end in \.csv or \.npz"):
        save(traj, tmp_path / "t.txt")
    with pytest.raises(InputError, match="does not exist"):
        save(traj, tmp_path / "missing" / "t.csv")
    with pytest.raises(InputError, match=r"every generation 0\.\.T"):
        save(traj.at(3), tmp_path / "t.csv")
    assert os.listdir(tmp_path) == []


def test_underflowed_csv_without_log_var_is_refused_with_a_hint(tmp_path):
    traj = _simulated(n=2, generations=3000, replicates=1)
    path = save(traj, tmp_path / "t.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    stripped = "\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n"
    path.write_text(stripped, encoding="utf-8")
    with pytest.raises(InputError, match="add a log_var column"):
        load(path)
    assert math.isfinite(traj.log_var[0, -1])
