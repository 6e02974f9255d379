"""The calibration report: exact bands, well-formed files, and the README's table kept
equal to the committed calibration."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from collapsecheck.report.calibration import (
    README_BEGIN,
    README_END,
    ecdf_band,
    readme_table,
    write_calibration,
)

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "reports" / "calibration" / "calibration.json"


def test_band_is_the_exact_kolmogorov_quantile():
    # P(D_k <= band) = 0.95 exactly, by the distribution's own CDF; DKW is wider
    for k in (5, 60, 500, 3000):
        band = ecdf_band(k)
        assert stats.kstwo.cdf(band, k) == pytest.approx(0.95, abs=1e-9)
        assert band < np.sqrt(np.log(2 / 0.05) / (2 * k))


def _record():
    return {"profile": "x", "seeds": 10, "first_seed": 1, "failed_runs": 0,
            "false_alarm_rate": 0.0, "false_alarm_ci95": [0.0, 0.308],
            "false_alarm_upper95": 0.259, "false_alarm_budget": 0.001, "weak_rate": 0.1,
            "weak_rate_design": 0.11, "pvalue_uniformity_p": 0.5,
            "pvalue_uniformity_correction": "bonferroni",
            "pvalue_uniformity": {"a.check": 0.5}, "passed": True, "command": "cmd <x>",
            "mutants": [{"name": "m", "summary": "a <bug>", "seeds": 10, "killed": 10,
                         "kill_rate": 1.0, "kill_lower95": 0.741,
                         "killed_by": {"a.check": 10}}]}


def test_files_are_written_and_escaped(tmp_path):
    rng = np.random.default_rng(1)
    written = write_calibration(_record(), {"a.check": rng.uniform(size=10).tolist()},
                                tmp_path)
    data = json.loads(written["json"].read_text())
    assert len(data["pvalues"]["a.check"]) == 10
    page = written["html"].read_text()
    assert page.count("<svg") == 1 and "a &lt;bug&gt;" in page and "<bug>" not in page
    assert "| m | a <bug> | 1.000 | 0.741 | 10 | a.check (10) |" in written["md"].read_text()


@pytest.mark.skipif(not COMMITTED.exists(), reason="no committed calibration yet")
def test_readme_table_is_the_committed_calibration():
    record = json.loads(COMMITTED.read_text())
    readme = (ROOT / "README.md").read_text()
    start, end = readme.index(README_BEGIN), readme.index(README_END) + len(README_END)
    assert readme[start:end] == readme_table(record), (
        "regenerate the README table: python -m collapsecheck.report.calibration")
