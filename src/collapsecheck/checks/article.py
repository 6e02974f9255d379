"""The Gaussian family's claims (A1..A8 of ARTICLE.md),
now :mod:`collapsecheck.families.gaussian.checks.article`.

This historical path is kept working: it names the same module object (see
:mod:`collapsecheck._alias`).
"""

from collapsecheck._alias import alias

alias(__name__, "collapsecheck.families.gaussian.checks.article")
