"""The categorical (token) chain: refit a distribution over K categories to n of its own
tokens, generation after generation.

Each category's count is a binomial chain (neutral Wright-Fisher drift): a category that
is not sampled has probability 0 from then on, so the tails disappear literally. The parts:
:mod:`~collapsecheck.families.categorical.parameters` (the frozen parameters),
:mod:`~collapsecheck.families.categorical.theory` (exact theory),
:mod:`~collapsecheck.families.categorical.engines` (``samples``: every token;
``sufficient``: counts by binomial splitting), :mod:`~collapsecheck.families.categorical.records`
(per-generation token statistics, token-log files) and
:mod:`~collapsecheck.families.categorical.commands` (what ``collapsecheck theory|simulate
--family categorical`` run). This module holds only the light declaration, ``SPEC``.
"""

from collapsecheck.families.protocol import FamilyOption, FamilySpec

_COMMANDS = "collapsecheck.families.categorical.commands"

SPEC = FamilySpec(
    name="categorical",
    summary="categorical token distribution refit to n of its own tokens (Wright-Fisher)",
    options=(
        FamilyOption("categories", int, "Number of categories K (2 <= K <= 10^6; with "
                     "--init-file, the file's length)."),
        FamilyOption("init", str, "Initial law: uniform or zipf (p_i proportional to i^-s).",
                     default="uniform"),
        FamilyOption("zipf_s", float, "Zipf exponent s > 0 (with --init zipf; default 1)."),
        FamilyOption("init_file", str, "Initial law from a file: one probability per line, "
                     "or a category,probability CSV (defines K)."),
        FamilyOption("tail_rank", int, "The initial tail: categories ranked beyond k in p0 "
                     "(1 <= k <= K - 1)."),
        FamilyOption("alpha", float, "Add-alpha smoothing of each refit, "
                     "p = (count + alpha) / (n + K alpha) (alpha >= 0).", default=0.0),
        FamilyOption("top_k", int, "The model samples only its k most probable categories "
                     "(1 <= k <= K)."),
        FamilyOption("per_generation", bool, "Also give every quantity at every generation.",
                     commands=("theory",)),
    ),
    accepts=frozenset({"regime", "fresh_fraction", "temperature", "path", "budget"}),
    checks="collapsecheck.families.categorical.checks:CHECK_TYPES",
    figures="collapsecheck.families.categorical.figures:figure_data",
    results="collapsecheck.families.categorical.records:check_simulated",
    mutants="collapsecheck.families.categorical.mutants:MUTANTS",
    schemas={"theory": "families/categorical/theory.schema.json",
             "simulate": "families/categorical/simulate.schema.json"},
    commands={"theory": f"{_COMMANDS}:theory", "simulate": f"{_COMMANDS}:simulate",
              "audit": f"{_COMMANDS}:audit"},
)
