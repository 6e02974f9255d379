"""Parameters of the multivariate chain: validation messages and the strict covariance
file reader."""

import numpy as np
import pytest

from collapsecheck.errors import InputError
from collapsecheck.families.mvgaussian.parameters import (
    MVGaussianExperiment,
    load_cov_file,
)


def test_defaults_normalise_and_record_a_seed():
    e = MVGaussianExperiment(n=np.int64(12), dim=3, generations=5, replicates=7)
    assert isinstance(e.n, int) and isinstance(e.seed, int)
    np.testing.assert_array_equal(e.sigma_start, np.eye(3))
    assert e.to_dict()["covariance"] is None
    assert e.replace(generations=9).generations == 9


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    (dict(n=5, dim=5), ValueError, r"`n` must exceed `dim` .* got n=5 with dim=5\."),
    (dict(n=3, dim=4), ValueError, r"got n=3 with dim=4"),
    (dict(dim=0), ValueError, r"`dim` must be at least 1; got 0\."),
    (dict(dim=2.0), TypeError, r"`dim` must be a whole number; got 2\.0\."),
    (dict(n=True), TypeError, r"`n` must be a whole number; got True\."),
    (dict(generations=-1), ValueError, r"`generations` must be 0 or more; got -1\."),
    (dict(replicates=0), ValueError, r"`replicates` must be at least 1; got 0\."),
    (dict(ddof=-0.5), ValueError, r"`ddof` must be a finite number >= 0; got -0\.5\."),
    (dict(n=12, ddof=12.0), ValueError, r"`ddof` must be smaller than `n`"),
    (dict(mu0=float("nan")), ValueError, r"`mu0` must be finite; got nan\."),
    (dict(mu0="0"), TypeError, r"`mu0` must be a real number; got '0'\."),
    (dict(sigma0=0.0), ValueError, r"`sigma0` must be a finite number > 0; got 0\.0\."),
    (dict(seed=-3), ValueError, r"`seed` must be a whole number >= 0; got -3\."),
    (dict(dim=2, covariance=[[1.0, 0.0], [0.0, 1.0]], sigma0=2.0), ValueError,
     r"`sigma0` applies only without `covariance`"),
    (dict(dim=2, covariance=[[1.0, 0.2], [0.3, 1.0]]), ValueError,
     r"`covariance` must be symmetric .* \(1, 2\) = 0\.2 and \(2, 1\) = 0\.3 differ\."),
    (dict(dim=2, covariance=[[1.0, 2.0], [2.0, 1.0]]), ValueError,
     r"`covariance` must be positive definite; .*\(smallest eigenvalue -1\)\."),
    (dict(dim=2, covariance=[[1.0, 0.0], [0.0, np.inf]]), ValueError,
     r"`covariance` must be finite; entry \(2, 2\) is inf\."),
    (dict(dim=3, covariance=np.eye(2)), ValueError, r"must be 3 x 3 to match `dim` = 3"),
    (dict(dim=2, covariance=np.ones(4)), ValueError, r"square D x D matrix; got shape \(4,\)"),
])
def test_validation_messages(kwargs, error, match):
    base = dict(n=12, dim=3, generations=2, replicates=2, seed=0)
    with pytest.raises(error, match=match):
        MVGaussianExperiment(**{**base, **kwargs})


def test_covariance_is_stored_read_only_and_symmetrised():
    c = np.array([[2.0, 0.5], [0.5 * (1 + 1e-14), 1.0]])
    e = MVGaussianExperiment(n=5, dim=2, covariance=c, seed=0)
    assert e.covariance[0, 1] == e.covariance[1, 0]
    assert not e.covariance.flags.writeable
    c[0, 0] = 99.0  # the caller's array is not aliased
    assert e.covariance[0, 0] == 2.0
    assert e.replace(generations=3).covariance.tolist() == e.covariance.tolist()


def _write(tmp_path, text, name="cov.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_load_cov_file_reads_a_valid_matrix(tmp_path):
    p = _write(tmp_path, "2,0.5,0\n0.5,1,0.25\n0,0.25,3\n\n")
    c = load_cov_file(p)
    np.testing.assert_array_equal(c, [[2, 0.5, 0], [0.5, 1, 0.25], [0, 0.25, 3]])
    e = MVGaussianExperiment(n=5, dim=3, covariance=load_cov_file(p, dim=3), seed=0)
    assert e.sigma_start[2, 2] == 3.0


@pytest.mark.parametrize(("text", "match"), [
    ("", r"is empty"),
    ("a,b\n1,0\n0,1\n", r"line 1 is not a list of comma-separated numbers"),
    ("1,0\n0\n", r"line 2 has 1 values, line 1 has 2"),
    ("1,0,0\n0,1,0\n", r"must hold a square matrix; it has 2 rows of 3 values"),
    ("1,0\n0,nan\n", r"line 2 holds a non-finite value \(nan\)"),
    ("1,0\n\n0,1\n", r"line 3 follows a blank line"),
    ("1,0.1\n0.2,1\n", r"must be symmetric"),
    ("1,2\n2,1\n", r"must be positive definite"),
    ("1,0\n0,-1\n", r"must be positive definite"),
])
def test_load_cov_file_refuses_bad_files(tmp_path, text, match):
    with pytest.raises(InputError, match=match):
        load_cov_file(_write(tmp_path, text))


def test_load_cov_file_names_the_file_and_checks_dim(tmp_path):
    p = _write(tmp_path, "1,0\n0,1\n")
    with pytest.raises(InputError, match=r"covariance file '.*cov\.csv' must be 3 x 3"):
        load_cov_file(p, dim=3)
    with pytest.raises(InputError, match=r"cannot read covariance file '.*missing\.csv'"):
        load_cov_file(tmp_path / "missing.csv")
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe1,0\n")
    with pytest.raises(InputError, match=r"is not UTF-8 text"):
        load_cov_file(tmp_path / "bin.csv")


def test_load_cov_file_refuses_oversized_files_before_reading(tmp_path, monkeypatch):
    from collapsecheck.families.mvgaussian import parameters

    monkeypatch.setattr(parameters, "MAX_COV_FILE_BYTES", 10)
    with pytest.raises(InputError, match=r"is 16 bytes; at most 10 are read"):
        load_cov_file(_write(tmp_path, "1.0,0.0\n0.0,1.0\n"))
