"""``theory --json`` for every regime matches the shipped schema, and its ``exact`` list
names only keys that hold numbers (an exact value is never null)."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest

from collapsecheck.cli import main

SCHEMA = json.loads(resources.files("collapsecheck").joinpath(
    "schemas/theory.schema.json").read_text())

REGIMES = [
    [],
    ["--regime", "accumulate"],
    ["--regime", "accumulate", "--ddof", "1", "--n-growth", "0.5"],
    ["--regime", "accumulate-subsample"],
    ["--regime", "mix", "--fresh-fraction", "0.2"],
    ["--regime", "mix", "--fresh-fraction", "0.2", "--n-growth", "0.5", "--truncate", "3",
     "--temperature", "0.9"],
    ["--temperature", "1.1"],
    ["--n-growth", "1.5"],
    ["--truncate", "2"],
]


def _get(record: dict, path: str):
    value = record
    for part in path.split("."):
        value = value[part]
    return value


@pytest.mark.parametrize("args", REGIMES, ids=lambda a: " ".join(a) or "replace")
def test_theory_json_matches_the_schema(capsys, args):
    assert main(["theory", "--n", "10", "--generations", "20", *args, "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    jsonschema.validate(record, SCHEMA)
    assert record["schema_version"] == SCHEMA["properties"]["schema_version"]["const"]
    assert record["exact"], "every regime has some exact prediction"
    for key in record["exact"]:
        value = _get(record, key)
        assert value is not None, key
        if isinstance(value, dict):
            assert all(v is not None for v in value.values()), key


def test_the_schema_rejects_a_missing_regime_key(capsys):
    assert main(["theory", "--n", "10", "--generations", "20", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    del record["exact"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(record, SCHEMA)
