"""A published study's own recorded runs, audited by regime.

Kazdan et al. 2024 ("Collapse or Thrive?") recorded 1-D Gaussian chains refitted under
Accumulate and Replace (ddof 0, 100 iterations, n = 10, 32, 100, 316); the files and
their provenance are in validation/published/kazdan2024-collapse-or-thrive/README.md.
Their accumulate is ours (iteration t fits all n t draws so far), so the accumulate runs
must pass ``--regime accumulate`` and fail as the article's chain, and the replace runs
the other way round (the audit's budget is 1e-3; the failures are by p < 1e-20).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from collapsecheck.audit import audit
from collapsecheck.results import Verdict
from collapsecheck.trajectories import load

DATA = Path(__file__).resolve().parents[1] / "validation" / "published" / \
    "kazdan2024-collapse-or-thrive"
SIZES = (10, 32, 100, 316)


@pytest.mark.parametrize("n", SIZES)
def test_accumulate_runs_pass_as_accumulate_and_fail_as_replace(n):
    traj = load(DATA / f"accumulate_n{n}.csv")
    right = audit(traj, n=n, ddof=0.0, regime="accumulate")
    assert right.verdict is Verdict.PASS, [(c.id, c.pvalue) for c in right.checks]
    assert any(c.id == "audit.regime_increment_gof" for c in right.checks)
    wrong = audit(traj, n=n, ddof=0.0)
    assert wrong.verdict is Verdict.FAIL
    assert min(c.pvalue for c in wrong.checks) < 1e-20


@pytest.mark.parametrize("n", SIZES)
def test_replace_runs_fail_as_accumulate(n):
    traj = load(DATA / f"replace_n{n}.csv")
    assert audit(traj, n=n, ddof=0.0).verdict is not Verdict.FAIL
    wrong = audit(traj, n=n, ddof=0.0, regime="accumulate")
    assert wrong.verdict is Verdict.FAIL
    assert min(c.pvalue for c in wrong.checks) < 1e-20


def test_a_wrong_n_fails_the_accumulate_audit():
    # the recorded n = 100 runs claimed as n = 80 (a 20% error in n)
    traj = load(DATA / "accumulate_n100.csv")
    assert audit(traj, n=80, ddof=0.0, regime="accumulate").verdict is Verdict.FAIL
