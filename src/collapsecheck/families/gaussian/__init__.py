"""The 1-D Gaussian refit chain: fit N(mu, sigma^2) to n draws of the previous fit.

The parts: :mod:`~collapsecheck.families.gaussian.parameters` (the frozen
:class:`Experiment`, every regime's parameters), :mod:`~collapsecheck.families.gaussian.theory`
(exact theory, one module per regime, the shared step laws in ``steps``),
:mod:`~collapsecheck.families.gaussian.engines` (``simulate``; the article's chain on
``samples`` and ``sufficient``, every other regime on ``engines.regimes``),
:mod:`~collapsecheck.families.gaussian.records` (trajectories and their CSV/NPZ formats),
:mod:`~collapsecheck.families.gaussian.summary` (the final-generation summary of
``simulate``), :mod:`~collapsecheck.families.gaussian.cli` (its ``theory``, ``simulate``
and ``audit`` commands), :mod:`~collapsecheck.families.gaussian.commands` (the JSON records
of ``theory`` and ``simulate``), :mod:`~collapsecheck.families.gaussian.checks` (its checks,
and the article's claims in ``checks.article``, priced by ``claims_cost``),
:mod:`~collapsecheck.families.gaussian.figures` (its report figures) and
:mod:`~collapsecheck.families.gaussian.mutants` (its deliberately wrong simulators). Their
historical paths (``collapsecheck.experiment``, ``collapsecheck.theory``,
``collapsecheck.engines.samples``, ``collapsecheck.trajectories``,
``collapsecheck.checks.theory``, ...) keep working as aliases of the same modules (the
summary's names, ``collapsecheck.summary.summarize`` and ``FinalSummary``, and the
records', ``collapsecheck.records.theory_record`` and ``simulation_record``, resolved
lazily).

It is the ``native`` family: the options the commands declare are its (so it declares no
options of its own), defaulting to the article's experiment (``SPEC.defaults``, served as
``parameters.ARTICLE``). Its commands, its checks, its figures, its rules for a
simulator's records, the article's claims (a profile's ``[claims]`` table), its mutants
(in two groups: ``all``, caught by the ``ci`` profile, and ``regimes``) and its JSON
Schemas it declares as every family does. This module holds only the light declaration,
``SPEC``.
"""

from collapsecheck.families.protocol import FamilySpec

_MUTANTS = "collapsecheck.families.gaussian.mutants"
_CLI = "collapsecheck.families.gaussian.cli"

SPEC = FamilySpec(
    name="gaussian",
    summary="1-D Gaussian refit chain (the article's experiment) and its regimes",
    native=True,
    defaults=dict(n=1000, generations=1000, replicates=1000, ddof=0.0, mu0=0.0, sigma0=1.0),
    commands={command: f"{_CLI}:{command}" for command in ("theory", "simulate", "audit")},
    checks="collapsecheck.families.gaussian.checks:CHECK_TYPES",
    figures="collapsecheck.families.gaussian.figures:figure_data",
    results="collapsecheck.families.gaussian.records:check_simulated",
    claims="collapsecheck.families.gaussian.checks.article:FAMILY_CLAIMS",
    mutants=f"{_MUTANTS}:GAUSSIAN_MUTANTS",
    mutant_groups={"all": f"{_MUTANTS}:MUTANTS", "regimes": f"{_MUTANTS}:REGIME_MUTANTS"},
    schemas={"theory": "schemas/theory.schema.json"},
)
