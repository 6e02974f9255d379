"""The audit planner (collapsecheck.plan, the `plan` command).

The statistical test: the planned design, simulated with the true sample size n' and
audited as n, FAILs as often as planned (binomial Monte Carlo error, 4 SE), in both
directions and for the increment check alone. The audit's checks are
taken from audit._candidates, so the planned T follows them (at n = 20, e = 0.2, R = 40
with means: T = 36 with the step-variance check ``audit.n_eff``).
"""

from __future__ import annotations

import json
import math

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st

from collapsecheck import cli
from collapsecheck.audit import audit
from collapsecheck.cli_plan import plan_command
from collapsecheck.engines import simulate
from collapsecheck.experiment import Experiment
from collapsecheck.plan import PlanResult, plan, planned_power

N, E, R = 20, 0.2, 40
REPS = 200


_IDS = {"increment_gof": "audit.increment_gof", "step_variance": "audit.n_eff",
        "mean_increment_gof": "audit.mean_increment_gof",
        "drift_consistency": "audit.drift_consistency"}


def _observed(n_true: int, T: int) -> tuple[float, dict[str, float]]:
    """FAIL rates of the audit and of each of its checks over REPS seeded sets of chains."""
    fails, per = 0, dict.fromkeys(_IDS.values(), 0)
    for seed in range(REPS):
        traj = simulate(Experiment(n=n_true, generations=T, replicates=R, seed=seed)).trajectories
        res = audit(traj, n=N)
        fails += res.verdict.value == "FAIL"
        for c in res.checks:
            if c.id in per:
                per[c.id] += c.verdict.value == "FAIL"
    return fails / REPS, {k: v / REPS for k, v in per.items()}


def _agree(observed: float, planned: float, mc_se: float, what: str) -> None:
    se = math.sqrt(max(planned * (1 - planned), 1 / REPS) / REPS + mc_se**2)
    assert abs(observed - planned) <= 4 * se, (
        f"{what}: observed power {observed:.3f} over {REPS} runs vs planned {planned:.3f}; "
        f"|difference| {abs(observed - planned):.3f} > 4 SE = {4 * se:.3f}")


@pytest.fixture(scope="module")
def design() -> PlanResult:
    return plan(N, rel_error=E, power=0.9, chains=R, means=True)


def test_design_reference(design):
    assert design.chains == R
    assert design.alpha == pytest.approx(1e-3 / design.checks_run)
    assert design.power >= 0.9 and design.power == min(design.power_smaller, design.power_larger)
    # the plan is the smallest T: one generation fewer misses the target
    lo = planned_power(N, 0.0, N * (1 - E), R, design.generations - 1, means=True)[0]
    hi = planned_power(N, 0.0, N * (1 + E), R, design.generations - 1, means=True)[0]
    assert min(lo, hi) < 0.9


@pytest.mark.parametrize("direction", ["smaller", "larger"])
def test_planned_power_is_achieved(design, direction):
    n_true = round(N * (1 - E)) if direction == "smaller" else round(N * (1 + E))
    observed, per = _observed(n_true, design.generations)
    planned = design.power_smaller if direction == "smaller" else design.power_larger
    _agree(observed, planned, design.mc_se, f"audit FAIL, n' = {n_true}")
    for name, p in design.check_powers[direction].items():  # each modelled check alone
        _agree(per[_IDS[name]], p, math.sqrt(p * (1 - p) / 4000), f"{name}, n' = {n_true}")


def test_power_at_an_intermediate_design():
    """The smaller direction where its power is neither 0 nor 1 (T = 12)."""
    T = 12
    planned, mc_se, _ = planned_power(N, 0.0, N * (1 - E), R, T, means=True)
    assert 0.3 < planned < 0.95
    observed, _ = _observed(round(N * (1 - E)), T)
    _agree(observed, planned, mc_se, "audit FAIL, n' = 16, T = 12")


@pytest.mark.slow  # about 35 s: twelve plans, each a search of ~15 designs
@settings(max_examples=3)
@given(n=st.integers(10, 40), e1=st.floats(0.3, 0.5), de=st.floats(0.05, 0.3),
       p=st.floats(0.5, 0.85), dp=st.floats(0.03, 0.1))
def test_monotone(n, e1, de, p, dp):
    base = plan(n, rel_error=e1, power=p, chains=40)
    assert plan(n, rel_error=min(e1 + de, 0.8), power=p, chains=40).generations <= base.generations
    assert plan(n, rel_error=e1, power=p + dp, chains=40).generations >= base.generations
    # fixing the generations the plan found gives back at most the chains used
    assert plan(n, rel_error=e1, power=p, generations=base.generations).chains <= 40


def test_defaults_and_identities():
    res = plan(50, rel_error=0.3)
    assert res.chains_assumed and res.chains == 100
    d = res.to_dict()
    assert d["increments"] == d["chains"] * d["generations"]
    assert d["alternatives"] == {"smaller": pytest.approx(35.0), "larger": pytest.approx(65.0)}
    assert d["power"] >= 0.9 and 0 <= d["mc_se"] < 0.01 and d["method"]
    # a larger budget (a looser FAIL threshold) never needs more generations
    assert plan(50, rel_error=0.3, budget=0.01).generations <= res.generations


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(rel_error=0.0), r"`rel_error` must lie in \(0, 1\); got 0.0"),
    (dict(rel_error=1.0), r"`rel_error` must lie in \(0, 1\); got 1.0"),
    (dict(power=1.0), r"`power` must lie in \(0, 1\); got 1.0"),
    (dict(chains=40, generations=10), "not both"),
    (dict(chains=5), "`chains` must be at least 20; got 5"),
])
def test_bad_input_library(kwargs, match):
    with pytest.raises(ValueError, match=match):
        plan(20, **kwargs)


def test_bad_n_library():
    with pytest.raises(ValueError, match="`n` must be at least 2; got 1"):
        plan(1)


# ---------------------------------------------------------------------------------------
# CLI: through cli.main (the real error table); before `plan` is registered in cli.py, on
# a throwaway app holding only it
# ---------------------------------------------------------------------------------------

def _registered() -> bool:
    return any(c.name == "plan" for c in cli.app.registered_commands)


@pytest.fixture
def run(monkeypatch, capsys):
    if not _registered():
        app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
        app.callback()(lambda: None)
        app.command(name="plan")(plan_command)
        monkeypatch.setattr(cli, "app", app)

    def go(*args):
        code = cli.main(["plan", *args])
        out, err = capsys.readouterr()
        return code, out, err

    return go


def test_cli_json(run):
    code, out, err = run("--n", "20", "--rel-error", "0.2", "--chains", "40", "--json")
    assert code == 0, err
    rec = json.loads(out)
    assert rec["chains"] == 40 and rec["generations"] >= 1 and rec["power"] >= 0.9
    assert {"power_smaller", "power_larger", "binding", "method", "mc_se"} <= rec.keys()


def test_cli_table(run):
    code, out, err = run("--n", "20", "--rel-error", "0.2")
    assert code == 0, err
    assert "assumed" in out and "generations" in out and "method:" in err


@pytest.mark.parametrize(("args", "says"), [
    (["--n", "20", "--rel-error", "0"], "--rel-error must lie in (0, 1); got 0.0"),
    (["--n", "20", "--rel-error", "1.5"], "--rel-error must lie in (0, 1); got 1.5"),
    (["--n", "20", "--power", "1"], "--power must lie in (0, 1); got 1.0"),
    (["--n", "20", "--power", "-0.1"], "--power must lie in (0, 1); got -0.1"),
    (["--n", "20", "--chains", "40", "--generations", "10"], "not both"),
    (["--n", "1"], "--n must be at least 2; got 1"),
])
def test_cli_bad_input(run, args, says):
    code, out, err = run(*args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and says in err, err


@pytest.mark.skipif(not _registered(), reason="`plan` is not registered in cli.py yet")
def test_registered_in_cli(capsys):
    assert cli.main(["plan", "--n", "1"]) == 2
    assert "--n must be at least 2" in capsys.readouterr().err
