"""Write the four report files of ``collapsecheck validate --out DIR``."""

from __future__ import annotations

import os
from pathlib import Path

from collapsecheck.io import atomic_write_many, ensure_directory
from collapsecheck.report import html as _html
from collapsecheck.report import json_report as _json
from collapsecheck.report import junit as _junit
from collapsecheck.report import markdown as _markdown
from collapsecheck.results import ValidationReport

__all__ = ["REPORT_FILES", "write_reports"]

#: Format -> file name inside the output folder.
REPORT_FILES = {
    "json": "report.json",
    "markdown": "report.md",
    "html": "report.html",
    "junit": "junit.xml",
}


def write_reports(report: ValidationReport, out_dir: str | os.PathLike) -> dict[str, Path]:
    """Render ``report`` in every format, then write ``report.json``, ``report.md``,
    ``report.html`` and ``junit.xml`` into ``out_dir`` (created if needed).

    Everything is rendered before anything is written, and all four files are written
    whole under temporary names before any is renamed into place, so a rendering error,
    a full disk or Ctrl-C leaves the folder's reports as they were. No other file in the
    folder is touched.

    Returns
    -------
    dict
        Format (``"json"``, ``"markdown"``, ``"html"``, ``"junit"``) -> path written.
    """
    texts = {
        "json": _json.render_json(report),
        "markdown": _markdown.render_markdown(report),
        "html": _html.render_html(report),
        "junit": _junit.render_junit(report),
    }
    folder = ensure_directory(out_dir)
    paths = {fmt: folder / REPORT_FILES[fmt] for fmt in texts}
    atomic_write_many({paths[fmt]: text.encode("utf-8") for fmt, text in texts.items()})
    return paths
