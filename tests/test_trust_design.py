"""Designs that cannot finish are refused up front: the cost model (collapsecheck.costs),
its use when a profile is loaded, in calibrate and in simulate, and --allow-long (for
validate and calibrate; simulate runs whatever fits, after printing its estimate)."""

import math
import textwrap

import pytest

from collapsecheck import costs
from collapsecheck.checks import CHECK_TYPES
from collapsecheck.cli import main
from collapsecheck.errors import InputError
from collapsecheck.experiment import Experiment
from collapsecheck.profiles import load_profile, parse_profile
from collapsecheck.resources import MEMORY_ENV, ResourceError

HEADER = """
name = "design"
seed = 1
budget = 0.001
"""

SMALL_CHECK = """
[[checks]]
type = "log_var_gof"
n = 10
generations = 10
replicates = 1000
"""

# checks[3] is the long one: 2e6 replicates x 1e5 generations (the sufficient engine draws
# 4e11 numbers; the exact CDF is inverted at 2e6 values)
LONG = HEADER + "".join(SMALL_CHECK.replace("replicates", f'id = "c{i}"\nreplicates')
                        for i in range(3)) + """
[[checks]]
type = "log_var_gof"
n = 1000
generations = 100000
replicates = 2000000
"""

# an escalation far beyond the largest experiment
HUGE_FACTOR = HEADER + "escalation_factor = 1000000000\n" + SMALL_CHECK

# the first stages are quick; one escalation (5e7 replicates) is not
LONG_ESCALATION = HEADER + "escalation_factor = 50000\n" + """
[[checks]]
type = "log_var_gof"
n = 1000
generations = 3000
replicates = 1000
"""

# records every generation: 2e6 x 1e5 x 16 bytes x its analysis overhead
NO_MEMORY = HEADER + """
[[checks]]
type = "increment_gof"
n = 10
generations = 100000
replicates = 2000000
"""


@pytest.fixture(autouse=True)
def _machine(monkeypatch):
    """Price every design on the same machine: 2 cores and a 4 GiB memory budget."""
    monkeypatch.setattr(costs, "available_cores", lambda: 2)
    monkeypatch.setenv(MEMORY_ENV, "4G")


def write(tmp_path, text, name="design.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------------------------------
# The shipped profiles
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ci", "article", "full"])
def test_shipped_profiles_load_and_fit_in_an_hour(name):
    prof = load_profile(name)  # no allow_long
    price = costs.profile_cost(prof, cores=2)
    assert price.seconds < costs.LONG_S
    assert price.bytes < 2**30
    # a one-core machine still runs them within the hour
    assert costs.profile_cost(prof, cores=1).seconds < costs.LONG_S


def test_shipped_profile_estimates_are_of_the_measured_order():
    """Measured on the reference machine (2 cores, wall time of the whole command): ci
    10-17 s, article 86-148 s, full 21-50 s (the slower runs with the machine busy); the
    estimates are not below half of the slowest."""
    assert costs.profile_cost(load_profile("ci"), cores=2).seconds > 17 / 2
    assert costs.profile_cost(load_profile("article"), cores=2).seconds > 148 / 2
    assert costs.profile_cost(load_profile("full"), cores=2).seconds > 50 / 2


# ---------------------------------------------------------------------------------------
# Refusals at load time
# ---------------------------------------------------------------------------------------


def test_long_check_is_refused_naming_key_and_cost(tmp_path):
    path = write(tmp_path, LONG)
    with pytest.raises(ResourceError) as info:
        load_profile(str(path))
    msg = str(info.value)
    assert "`checks[3].replicates`" in msg
    assert " h on 2 cores" in msg and "--allow-long" in msg
    assert "\n" not in msg


def test_long_design_is_accepted_with_allow_long(tmp_path):
    prof = load_profile(str(write(tmp_path, LONG)), allow_long=True)
    assert prof.checks[3].replicates == 2_000_000
    assert costs.profile_cost(prof, cores=2).seconds > costs.LONG_S
    prof = load_profile(str(write(tmp_path, LONG_ESCALATION, "esc.toml")), allow_long=True)
    assert prof.escalation_factor == 50000


def test_escalation_that_overflows_the_largest_experiment_is_refused(tmp_path):
    path = write(tmp_path, HUGE_FACTOR)
    for allow in (False, True):
        with pytest.raises(InputError) as info:
            load_profile(str(path), allow_long=allow)
        msg = str(info.value)
        assert "`escalation_factor` = 1000000000" in msg and "1e+12 replicates" in msg
        assert "at most 100000" in msg


def test_long_escalation_names_escalation_factor(tmp_path):
    path = write(tmp_path, LONG_ESCALATION)
    with pytest.raises(ResourceError) as info:
        load_profile(str(path))
    msg = str(info.value)
    assert msg.startswith(f"profile {path}: `escalation_factor`: ") and "50000000 replicates" in msg
    assert "turns WEAK" in msg and " h" in msg


def test_memory_impossible_design_is_refused_even_with_allow_long(tmp_path):
    path = write(tmp_path, NO_MEMORY)
    for allow in (False, True):
        with pytest.raises(ResourceError) as info:
            load_profile(str(path), allow_long=allow)
        msg = str(info.value)
        assert "`checks[0].replicates`" in msg and "TiB of memory" in msg
        assert "budget of 4 GiB" in msg


def test_memory_names_escalation_when_only_the_rerun_does_not_fit(tmp_path):
    # 1e6 x 101 recorded x 16 bytes x overhead ~ 10 GB for the re-run, 1/4 of it first
    text = HEADER + "escalation_factor = 4\n" + """
    [[checks]]
    type = "increment_gof"
    n = 10
    generations = 100
    replicates = 250000
    """
    with pytest.raises(ResourceError) as info:
        load_profile(str(write(tmp_path, text)), allow_long=True)
    assert "`escalation_factor`" in str(info.value)


def test_claims_simulations_are_bounded_at_load(tmp_path):
    text = HEADER + "[claims]\none_step_replicates = 200000000\n"
    with pytest.raises(InputError) as info:
        load_profile(str(write(tmp_path, text)))
    assert "[claims] `one_step_replicates`" in str(info.value)
    text = HEADER + "[claims]\nrecovery_replicates = 20000000\n"
    with pytest.raises(ResourceError) as info:
        load_profile(str(write(tmp_path, text)))
    assert "`claims.recovery_replicates`" in str(info.value)


def test_parse_profile_prices_too():
    raw = {"name": "t", "seed": 1, "budget": 0.001, "checks": [
        {"type": "log_var_gof", "n": 1000, "generations": 100000, "replicates": 2000000}]}
    with pytest.raises(ResourceError):
        parse_profile(raw)
    assert parse_profile(raw, allow_long=True).checks[0].replicates == 2000000


# ---------------------------------------------------------------------------------------
# The command line: exit 2, one line
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, key", [
    (LONG, "`checks[3].replicates`"),
    (HUGE_FACTOR, "`escalation_factor`"),
    (LONG_ESCALATION, "`escalation_factor`"),
    (NO_MEMORY, "`checks[0].replicates`"),
])
def test_validate_refuses_with_one_line(tmp_path, capsys, text, key):
    path = write(tmp_path, text)
    code, out, err = run_cli(capsys, "validate", "--profile", str(path), "--no-progress")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("collapsecheck: error: profile ")
    assert key in err


def test_validate_engine_override_is_priced(tmp_path, capsys):
    # quick on the sufficient engine; n = 1e6 samples per generation on the samples engine
    text = HEADER + """
    [[checks]]
    type = "log_var_gof"
    n = 1000000
    generations = 1000
    replicates = 1000
    """
    path = write(tmp_path, text)
    load_profile(str(path))
    code, _, err = run_cli(capsys, "validate", "--profile", str(path), "--engine", "samples",
                           "--no-progress", "--json")
    assert code == 2 and "`checks[0].replicates`" in err and "samples engine" in err


def test_calibrate_prices_seeds(tmp_path, capsys):
    path = write(tmp_path, HEADER + SMALL_CHECK)
    prof = load_profile(str(path))
    # a seed after the first reuses the exact law's CDF table built by the first
    per_seed = costs.check_cost(prof.checks[0], cores=2, table_built=True).seconds
    seeds = int(costs.LONG_S / per_seed * 3)
    with pytest.raises(ResourceError) as info:
        costs.require_calibration(prof, seeds, cores=2)
    assert f"`--seeds` = {seeds}" in str(info.value) and "per seed" in str(info.value)
    assert costs.require_calibration(prof, seeds, allow_long=True, cores=2).seconds > costs.LONG_S
    code, _, err = run_cli(capsys, "calibrate", "--profile", str(path), "--seeds", str(seeds),
                           "--no-progress")
    assert code == 2 and err.count("\n") == 1 and "--allow-long" in err


def test_calibrate_ignores_the_claims_time(tmp_path):
    """calibrate runs only the checks: a profile whose claims are long still calibrates."""
    text = HEADER + SMALL_CHECK + "[claims]\nrecovery_horizon = 20000000\n" \
        "recovery_replicates = 10000\n"
    path = write(tmp_path, text)
    with pytest.raises(ResourceError):
        load_profile(str(path))
    prof = load_profile(str(path), allow_long=True)
    assert costs.require_calibration(prof, 3, cores=2).seconds < 60


# ---------------------------------------------------------------------------------------
# simulate: prints its estimate when long, refuses only what cannot fit in memory
# ---------------------------------------------------------------------------------------


def test_simulate_notice_text():
    e = Experiment(n=1000, generations=1_000_000, replicates=100_000_000, seed=1)
    cost = costs.simulate_cost(e, "sufficient", cores=2)
    assert cost.draws == 2e14 and cost.seconds > 86400
    assert cost.bytes < 2**34  # the final state of 1e8 replicates and its summary
    notice = costs.simulate_notice(cost, "sufficient", cores=2)
    assert notice.startswith("estimated ") and notice.endswith("; Ctrl-C stops it")
    assert " days on 2 cores (2e+14 draws on the sufficient engine)" in notice
    quick = costs.simulate_cost(Experiment(n=10, generations=10, replicates=100, seed=1),
                                "samples", cores=2)
    assert costs.simulate_notice(quick, "samples", cores=2) is None


def test_simulate_notice_with_out_says_what_it_writes():
    e = Experiment(n=1000, generations=10_000, replicates=100_000, seed=1)
    held = costs.simulate_cost(e, "sufficient", cores=2)
    csv = costs.simulate_cost(e, "sufficient", out="chains.csv", cores=2)
    assert csv.bytes == held.bytes  # streamed one block at a time, never held
    assert csv.seconds > held.seconds + 1e9 * 1e-6  # 1e9 rows written
    notice = costs.simulate_notice(csv, "sufficient", cores=2, out="chains.csv", experiment=e)
    assert "; writes about 65.2 GiB to chains.csv)" in notice


def test_fmt_seconds():
    assert costs.fmt_seconds(3.2) == "3.2 s"
    assert costs.fmt_seconds(45) == "45 s"
    assert costs.fmt_seconds(25 * 60) == "25 min"
    assert costs.fmt_seconds(3 * 3600) == "3 h"
    assert costs.fmt_seconds(12 * 86400) == "12 days"
    assert costs.fmt_seconds(math.inf) == "forever"
    assert "years" in costs.fmt_seconds(1e12)


def test_simulate_prints_its_estimate_when_long(capsys, monkeypatch):
    monkeypatch.setattr(costs, "NOTICE_S", 0.0)  # every run is "long": print the estimate
    code, out, err = run_cli(capsys, "simulate", "--n", "4", "--generations", "3",
                             "--replicates", "200", "--seed", "1", "--json")
    assert code == 0 and out.startswith("{")
    line = next(x for x in err.splitlines() if "estimated" in x)
    assert line.startswith("collapsecheck: estimated ") and line.endswith("Ctrl-C stops it")
    monkeypatch.setattr(costs, "NOTICE_S", 60.0)
    code, _, err = run_cli(capsys, "simulate", "--n", "4", "--generations", "3",
                           "--replicates", "200", "--seed", "1", "--json")
    assert code == 0 and "estimated" not in err


def test_simulate_refuses_only_what_cannot_fit(capsys, monkeypatch):
    monkeypatch.setenv(MEMORY_ENV, "1G")
    code, out, err = run_cli(capsys, "simulate", "--replicates", "100000000",
                             "--generations", "1")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "--replicates 100000000" in err and "GiB of memory" in err


# ---------------------------------------------------------------------------------------
# The model's inputs
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("ctype", sorted(CHECK_TYPES))
def test_records_table_matches_what_each_check_asks_for(ctype):
    """costs.RECORDS prices what each check type records: it must match the check."""
    kwargs = {"n": 5, "generations": 60, "replicates": 200}
    if ctype in ("sigma_mean", "sigma2_mean", "mu_var"):
        kwargs = {"n": 100, "generations": 5, "replicates": 20000}
    cls = CHECK_TYPES[ctype]
    if cls.family == "regimes":  # a design of the regime the check accepts
        kwargs = {"n": 10, "generations": 5, "replicates": 20000, **cls.example}
    if cls.family in ("categorical", "mvgaussian"):  # a design of that model family
        kwargs = dict(cls.example)
    check = cls(**kwargs)
    asked = []
    inner = check.simulator(workers=1)  # its family's engines

    def spy(experiment, record):
        asked.append(record)
        return inner(experiment, record)

    check.run(check.experiment(seed=3), spy)
    expected = costs.recorded_generations(check)
    got = [1 if r == "final" else check.generations + 1 if r == "all" else len(r)
           for r in asked]
    if cls.family in ("categorical", "mvgaussian"):
        # its engines record every generation whatever is asked: priced as such
        assert expected == check.generations + 1 >= got[0]
    else:
        assert got[0] == expected


def test_escalation_is_priced_as_factor_times_replicates():
    check = CHECK_TYPES["increment_gof"](n=10, generations=100, replicates=100000)
    one = costs.check_cost(check, cores=2)
    four = costs.check_cost(check, 400000, cores=2)
    assert four.bytes == pytest.approx(4 * one.bytes)
    assert 3 * one.seconds < four.seconds < 4.01 * one.seconds


def test_samples_engine_costs_n_per_draw():
    a = costs.simulation_cost("samples", 1000, 1000, 10000, 1, cores=2)
    b = costs.simulation_cost("sufficient", 1000, 1000, 10000, 1, cores=2)
    assert a.draws == 1e10 and b.draws == 2e7
    assert a.seconds > 20 * b.seconds


def test_bom_profile_is_accepted(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + textwrap.dedent(HEADER + SMALL_CHECK).encode("utf-8"))
    prof = load_profile(str(path))
    assert prof.name == "design" and len(prof.checks) == 1


def test_nonsense_counts_are_refused_at_load(tmp_path):
    confirm = SMALL_CHECK.replace("log_var_gof", "collapse")  # its re-run's miss rate too
    text = HEADER + "escalation_factor = 1" + "0" * 400 + "\n" + confirm
    with pytest.raises(InputError, match=r"re-run of checks\[0\] \(collapse\) about 1e403 "):
        load_profile(str(write(tmp_path, text)), allow_long=True)
    text = HEADER + "[claims]\nmc_repetitions = 1" + "0" * 400 + "\n"
    with pytest.raises(InputError, match="`mc_repetitions` must be at most"):
        load_profile(str(write(tmp_path, text, "c.toml")), allow_long=True)
