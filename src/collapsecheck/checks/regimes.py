"""The Gaussian family's check module ``regimes``,
now :mod:`collapsecheck.families.gaussian.checks.regimes`.

This historical path is kept working: it names the same module object (see
:mod:`collapsecheck._alias`).
"""

from collapsecheck._alias import alias

alias(__name__, "collapsecheck.families.gaussian.checks.regimes")
