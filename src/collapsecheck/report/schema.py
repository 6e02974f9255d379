"""The JSON Schema of ``report.json`` that ships with the package, and a validator."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = ["SCHEMA_RESOURCE", "load_schema", "validate_report"]

SCHEMA_RESOURCE = "schemas/report.schema.json"


@lru_cache(maxsize=1)
def _schema_text() -> str:
    return resources.files("collapsecheck").joinpath(SCHEMA_RESOURCE).read_text("utf-8")


def load_schema() -> dict[str, Any]:
    """The report schema (JSON Schema draft 2020-12) as a fresh dict."""
    return json.loads(_schema_text())


def validate_report(obj: Any) -> None:
    """Check ``obj`` (e.g. :func:`collapsecheck.report.json_report.report_dict`, or a
    loaded ``report.json``) against the schema.

    Raises
    ------
    jsonschema.ValidationError
        On the first (most relevant) violation; its message names the offending path.
    ImportError
        When the optional dependency ``jsonschema`` is not installed.
    """
    try:
        import jsonschema
    except ImportError:
        raise ImportError(
            "validate_report needs the optional package `jsonschema`, which is not "
            "installed; install it with `pip install jsonschema` (or "
            "`pip install 'collapsecheck[test]'`)."
        ) from None
    validator = jsonschema.Draft202012Validator(load_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(obj))
    if error is not None:
        raise error
