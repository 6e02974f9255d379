"""Theory against independent high-precision references.

``tests/reference/theory_reference.json`` was computed by
``python tests/reference/make_theory_reference.py`` with mpmath at 40 digits, by methods
independent of collapsecheck's (closed forms checked against direct integration;
quantiles by chi-square inversion at T = 1, Meijer-G CDFs of gamma products at small T,
and mpmath's own Gil-Pelaez inversion elsewhere).
"""

import json
import math
from pathlib import Path

import pytest

from collapsecheck import Experiment
from collapsecheck.theory import LogVarianceLaw, predict

REFERENCE = json.loads((Path(__file__).parent / "reference" / "theory_reference.json")
                       .read_text())
CASES = REFERENCE["cases"]


@pytest.fixture(scope="module", params=CASES, ids=[c["id"] for c in CASES])
def case(request):
    c = request.param
    e = Experiment(n=c["n"], generations=c["generations"], ddof=c["ddof"], sigma0=c["sigma0"],
                   replicates=1, seed=0)
    return c, predict(e)


def _close(got, want, rel, abs_=0.0):
    assert got == pytest.approx(want, rel=rel, abs=abs_)


def test_step_law(case):
    c, p = case
    _close(p.log_sigma2_drift, c["log_sigma2_drift"], 1e-13)
    _close(p.log_sigma2_step_var, c["log_sigma2_step_var"], 1e-13)


def test_log_moments(case):
    c, p = case
    _close(p.log_sigma2_mean, c["log_sigma2_mean"], 1e-13, 1e-13)
    _close(p.log_sigma2_sd, c["log_sigma2_sd"], 1e-13)
    _close(p.ln_sigma_mean, c["ln_sigma_mean"], 1e-13, 1e-14)
    _close(p.ln_sigma2_mean, c["ln_sigma2_mean"], 1e-13, 1e-14)
    _close(p.ln_mu_var, c["ln_mu_var"], 1e-13, 1e-14)


def test_raw_moments(case):
    c, p = case
    for key in ("sigma_mean", "sigma2_mean", "mu_var"):
        want = c[key]
        got = getattr(p, key)
        if want is None:  # not representable in double: log present, raw 0 or inf
            assert got == 0.0 or math.isinf(got)
        else:
            _close(got, want, 1e-12)


def test_quantiles(case):
    c, p = case
    law = LogVarianceLaw(c["n"], c["generations"], c["ddof"])
    for level, want in c["log_variance_ppf"].items():
        # absolute 1e-8 in log sigma^2 is 5e-9 relative in sigma
        _close(float(law.ppf(float(level))), want, 1e-11, 1e-8)
    for level, want in c["ln_sigma_quantiles"].items():
        _close(p.ln_sigma_quantiles[level], want, 1e-11, 1e-8)
