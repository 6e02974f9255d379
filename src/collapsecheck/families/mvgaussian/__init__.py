"""The multivariate Gaussian refit chain: N_D(mu, Sigma) refitted to n draws of the last fit.

Its volume (log det Sigma) is an exact random walk and its shape flattens onto a line at
exact rates. The parts: :mod:`~collapsecheck.families.mvgaussian.parameters`,
:mod:`~collapsecheck.families.mvgaussian.theory` (exact theory),
:mod:`~collapsecheck.families.mvgaussian.engines` (``samples`` and ``sufficient``, on a
factored covariance), :mod:`~collapsecheck.families.mvgaussian.records`,
:mod:`~collapsecheck.families.mvgaussian.checks`,
:mod:`~collapsecheck.families.mvgaussian.figures` and
:mod:`~collapsecheck.families.mvgaussian.commands`. This module holds only the light
declaration, ``SPEC``.
"""

from collapsecheck.families.protocol import FamilyOption, FamilySpec

_COMMANDS = "collapsecheck.families.mvgaussian.commands"

SPEC = FamilySpec(
    name="mvgaussian",
    summary="D-dimensional Gaussian refit chain (log det walk, flattening onto a line)",
    options=(
        FamilyOption("dim", int, "Dimension D (1 <= D < n)."),
        FamilyOption("cov_file", str, "Starting covariance from a CSV file (D x D, symmetric "
                     "positive definite; replaces --sigma0)."),
        FamilyOption("trace_ratio", bool, "The log's trace column is tr Sigma_t / tr Sigma_0.",
                     commands=("audit",)),
    ),
    accepts=frozenset({"ddof", "mu0", "sigma0", "path", "budget", "regime"}),
    commands={"theory": f"{_COMMANDS}:theory", "simulate": f"{_COMMANDS}:simulate",
              "audit": f"{_COMMANDS}:audit"},
    checks="collapsecheck.families.mvgaussian.checks:CHECK_TYPES",
    figures="collapsecheck.families.mvgaussian.figures:figure_data",
    results="collapsecheck.families.mvgaussian.records:check_simulated",
    mutants="collapsecheck.families.mvgaussian.mutants:MUTANTS",
)
