"""The committed remedy table (reports/remedy, shipped as collapsecheck/reference) is what
the command computes: the shipped copy equals the report, and a row recomputed here is
identical (every estimate is seeded)."""

from __future__ import annotations

import json
from pathlib import Path

from collapsecheck.remedy import reference_record, smallest_fresh_count

REPORT = Path(__file__).resolve().parents[1] / "reports" / "remedy" / "remedy.json"


def test_shipped_table_is_the_committed_report():
    assert reference_record() == json.loads(REPORT.read_text())


def test_a_row_recomputes_exactly():
    rec = reference_record()
    row = next(r for r in rec["rows"] if r["n"] == 30 and r["ddof"] == 0)
    again = json.loads(json.dumps(smallest_fresh_count(30, 0.0, rec["tolerance"],
                                                       chains=rec["chains"]).to_dict(),
                                  default=str).replace("-Infinity", "null"))
    assert again["fresh_count"] == row["fresh_count"]
    assert again["at_m"]["estimate"] == row["at_m"]["estimate"]
    assert again["below_m"]["estimate"] == row["below_m"]["estimate"]
