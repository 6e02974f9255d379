"""The family registry and ``--family`` on the command line: options come from each
family's declaration, an option of another family is a usage error naming its owner, and a
family is reached through its declared commands only."""

from __future__ import annotations

import pytest

from collapsecheck.cli import ExitCode, main
from collapsecheck.families import FAMILIES, family, spec, specs
from collapsecheck.families.protocol import UNIVERSAL_OPTIONS, FamilySpec


def test_registry_names_every_family_and_refuses_unknown_ones():
    assert [s.name for s in specs()] == list(FAMILIES)
    with pytest.raises(ValueError, match=r"`family` must be one of gaussian, categorical, "
                                         r"mvgaussian; got 'poisson'\."):
        family("poisson")


def test_exactly_one_native_family_and_every_family_declares_its_commands():
    """The native family (whose options the commands declare, defaulting to its
    ``defaults``) is reached through its ``commands`` like every other: each family's
    commands live in its own package, and the command line's declarations implement
    nothing (their bodies are empty)."""
    import ast
    import inspect

    from collapsecheck import cli
    from collapsecheck.families.gaussian.parameters import ARTICLE

    natives = [s.name for s in specs() if s.native]
    assert natives == ["gaussian"]
    assert spec("gaussian").commands == {
        c: f"collapsecheck.families.gaussian.cli:{c}" for c in ("theory", "simulate", "audit")}
    assert spec("gaussian").defaults is ARTICLE is cli.ARTICLE
    assert [s.name for s in specs() if s.defaults] == ["gaussian"]
    for s in specs():
        assert s.commands, s.name
        for target in s.commands.values():
            module = target.split(":")[0]
            assert module.startswith(f"collapsecheck.families.{s.name}."), target
    tree = ast.parse(inspect.getsource(cli))
    declared = {node.name: node.body for node in tree.body
                if isinstance(node, ast.FunctionDef) and any(
                    isinstance(d, ast.Call) and getattr(d.func, "id", "") == "family_command"
                    for d in node.decorator_list)}
    assert set(declared) == {"theory", "simulate", "audit"}
    for command, body in declared.items():  # the docstring (the --help text), nothing else
        assert len(body) == 1 and isinstance(body[0].value, ast.Constant), command
        assert body[0].value.value == getattr(cli, command).__doc__


def test_reading_the_declarations_imports_nothing_but_them():
    """The command line reads every family's declaration at start-up: that must load no
    theory, engine or library beyond the declarations themselves."""
    import json
    import subprocess
    import sys

    code = ("import sys, json; import collapsecheck; before = set(sys.modules); "
            "import collapsecheck.families as f; f.specs(); "
            "print(json.dumps(sorted(set(sys.modules) - before)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    # the standard library aside (``import collapsecheck`` itself loads next to nothing)
    new = [m for m in json.loads(out) if m.split(".")[0] not in sys.stdlib_module_names]
    assert new and all(m.startswith("collapsecheck.families") for m in new), new
    assert not any(m.endswith((".theory", ".engines", ".commands")) for m in new), new


def test_takes_distinguishes_declared_accepted_and_own_options():
    declared = frozenset({"n", "ddof", "regime", "temperature"})
    cat = spec("categorical")
    assert cat.takes("n", declared) and cat.takes("regime", declared)
    assert cat.takes("tail_rank", declared)  # its own
    assert not cat.takes("ddof", declared)
    assert spec("gaussian").takes("ddof", declared)
    assert not spec("gaussian").takes("tail_rank", declared)
    assert {"n", "generations", "json_"} <= UNIVERSAL_OPTIONS
    bare = FamilySpec(name="x", summary="x", accepts=frozenset())
    assert bare.takes("seed", declared) and not bare.takes("regime", declared)


@pytest.mark.parametrize(("argv", "message"), [
    (["theory", "--n", "10", "--categories", "5"],
     "--categories is an option of the categorical family, not of the gaussian family; "
     "drop it, or add --family categorical."),
    (["simulate", "--tail-rank", "3"],
     "--tail-rank is an option of the categorical family, not of the gaussian family"),
    (["theory", "--family", "categorical", "--ddof", "1"],
     "--ddof is an option of the gaussian and mvgaussian families, not of the categorical "
     "family; drop it, or add --family gaussian."),
    (["theory", "--family", "categorical", "--truncate", "2"],
     "--truncate is an option of the gaussian family"),
    (["simulate", "--family", "categorical", "--out", "x.csv"],
     "--out is an option of the gaussian family"),
    (["theory", "--family", "poisson"],
     "--family must be one of gaussian, categorical, mvgaussian; got 'poisson'."),
])
def test_an_option_of_another_family_is_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_a_default_value_typed_out_is_still_refused_for_the_other_family(capsys):
    """Given on the command line is what counts, not whether it differs from the default:
    --ddof 0 means the user thinks the chain has a ddof."""
    assert main(["theory", "--family", "categorical", "--ddof", "0"]) == ExitCode.USAGE
    assert "--ddof is an option of the gaussian and mvgaussian families" in \
        capsys.readouterr().err


def test_help_lists_every_family_option_with_its_owner(capsys):
    assert main(["theory", "--help"]) == ExitCode.OK
    out = " ".join(capsys.readouterr().out.split())
    assert "--family" in out and "gaussian | categorical | mvgaussian" in out
    for option in spec("categorical").options:
        if "theory" in option.commands:
            assert option.flag in out
    assert "[categorical] Number of categories K" in out


def test_the_gaussian_commands_are_unchanged_by_the_family_layer(capsys):
    assert main(["theory", "--n", "10", "--generations", "5", "--json"]) == ExitCode.OK
    import json

    record = json.loads(capsys.readouterr().out)
    assert record["spec"]["n"] == 10 and "family" not in record["spec"]
    assert main(["theory", "--family", "gaussian", "--n", "10", "--generations", "5",
                 "--json"]) == ExitCode.OK
    assert json.loads(capsys.readouterr().out)["final"] == record["final"]


TOY_SPEC = '''
from collapsecheck.families.protocol import FamilyOption, FamilySpec

SPEC = FamilySpec(
    name="toy",
    summary="a coin refit to its own flips",
    options=(FamilyOption("heads", float, "Initial P(heads), in (0, 1).", default=0.5),),
    accepts=frozenset({"regime"}),
    engines=("exact",),
    commands={"theory": "toyfam.commands:theory"},
)
'''

TOY_COMMANDS = '''
import json
import sys


def theory(params, *, json_=False):
    if not 0 < params["heads"] < 1:
        raise ValueError(f"`heads` must lie in (0, 1); got {params['heads']}.")
    # E[p_T (1 - p_T)] = p0 (1 - p0) (1 - 1/n)^T for a Bernoulli refit (Wright-Fisher)
    h = params["heads"] * (1 - params["heads"]) * (1 - 1 / params["n"]) ** params["generations"]
    sys.stdout.write(json.dumps({"family": "toy", "params": sorted(params),
                                 "heterozygosity_mean": h}) + "\\n")
    return 0
'''


def test_a_new_family_is_a_package_and_one_registry_line(tmp_path):
    """The design's test: a family written outside the project, registered by one line,
    gets its option on the command line, its command dispatched with exactly the options
    it takes, its bad input as one line and exit 2, and another family's options refused;
    no shared module is edited."""
    import json
    import subprocess
    import sys

    pkg = tmp_path / "toyfam"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(TOY_SPEC)
    (pkg / "commands.py").write_text(TOY_COMMANDS)
    driver = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import collapsecheck.families as f; f.FAMILIES['toy'] = 'toyfam';"
        "from collapsecheck.cli import main; sys.exit(main(sys.argv[2:]))")

    def run(*argv):
        return subprocess.run([sys.executable, "-c", driver, str(tmp_path), *argv],
                              capture_output=True, text=True, timeout=120)

    ok = run("theory", "--family", "toy", "--heads", "0.25", "--n", "4", "--generations",
             "2", "--regime", "replace")
    assert ok.returncode == 0, ok.stderr
    out = json.loads(ok.stdout)
    assert out["heterozygosity_mean"] == pytest.approx(0.25 * 0.75 * 0.75 ** 2, rel=1e-15)
    assert "heads" in out["params"] and "regime" in out["params"]
    assert "ddof" not in out["params"] and "categories" not in out["params"]
    bad = run("theory", "--family", "toy", "--heads", "2")
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [
        "collapsecheck: error: --heads must lie in (0, 1); got 2.0."]
    foreign = run("theory", "--family", "toy", "--categories", "3")
    assert foreign.returncode == 2 and "--categories is an option of the categorical family" \
        in foreign.stderr
    gaussian = run("theory", "--heads", "0.3")
    assert gaussian.returncode == 2 and "--heads is an option of the toy family" in gaussian.stderr
    missing = run("simulate", "--family", "toy")
    assert missing.returncode == 2 and "does not take --family toy yet" in missing.stderr


def test_the_multivariate_family_is_reached_through_its_declaration(capsys):
    """theory and simulate --family mvgaussian: the records' keys (issue #13), the final
    statistics within 5 SE of theory on both engines, and its options' rules."""
    import json
    import math

    argv = ["--family", "mvgaussian", "--dim", "3", "--n", "10", "--generations", "20"]
    assert main(["theory", *argv, "--json"]) == ExitCode.OK
    t = json.loads(capsys.readouterr().out)
    assert len(t["lyapunov"]) == 3 and t["lyapunov"] == sorted(t["lyapunov"], reverse=True)
    assert t["anisotropy_rate"] == pytest.approx(t["lyapunov"][0] - t["lyapunov"][-1])
    assert set(t["final"]) >= {"logdet_mean", "logdet_sd", "logdet_quantiles", "trace_mean",
                               "trace_sd", "mu_sq_norm_mean"}
    for engine in ("sufficient", "samples"):
        assert main(["simulate", *argv, "--replicates", "2000", "--seed", "5", "--engine",
                     engine, "--json"]) == ExitCode.OK
        final = json.loads(capsys.readouterr().out)["final"]
        for key in ("logdet_mean", "logdet_sd", "mu_sq_norm_mean"):
            est = final[key]
            assert math.isclose(est["theory"], t["final"][key], rel_tol=1e-12)
            assert abs(est["estimate"] - est["theory"]) < 5 * est["se"], (engine, key, est)
    assert main(["theory", "--family", "mvgaussian", "--dim", "4", "--n", "4"]) == ExitCode.USAGE
    assert "--n must exceed --dim" in capsys.readouterr().err
    assert main(["theory", "--family", "mvgaussian", "--n", "4"]) == ExitCode.USAGE
    assert "needs --dim" in capsys.readouterr().err
    assert main(["theory", "--dim", "3"]) == ExitCode.USAGE
    assert "--dim is an option of the mvgaussian family" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["theory", "--family", "categorical", "--categories", "8", "--n", "10",
     "--generations", "3"],
    ["theory", "--family", "categorical", "--categories", "8", "--n", "10",
     "--generations", "3", "--tail-rank", "2", "--per-generation"],
    ["theory", "--family", "categorical", "--categories", "8", "--n", "10",
     "--generations", "3", "--temperature", "0.8"],
    ["theory", "--family", "categorical", "--categories", "8", "--n", "10",
     "--generations", "3", "--regime", "mix", "--fresh-fraction", "0.2", "--alpha", "0.1"],
    ["theory", "--family", "categorical", "--categories", "8", "--n", "10",
     "--generations", "3", "--regime", "accumulate", "--init", "zipf"],
    ["simulate", "--family", "categorical", "--categories", "8", "--n", "10",
     "--generations", "3", "--replicates", "50", "--seed", "1", "--tail-rank", "3"],
    ["simulate", "--family", "categorical", "--categories", "8", "--n", "10",
     "--generations", "3", "--replicates", "50", "--seed", "1", "--engine", "samples",
     "--top-k", "4"],
], ids=lambda a: " ".join(a[3:]))
def test_family_records_follow_their_shipped_schemas(argv, capsys):
    import json
    from importlib import resources

    import jsonschema

    schema_path = spec("categorical").schemas[argv[0]]
    schema = json.loads(resources.files("collapsecheck").joinpath(schema_path).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert main([*argv, "--json"]) == ExitCode.OK
    record = json.loads(capsys.readouterr().out)
    jsonschema.validate(record, schema)
    broken = {**record, "final": {**record["final"], "p_monomorphic": 1.5}}
    if argv[0] == "theory":  # the schema can fail: a probability above 1 is refused
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, schema)
