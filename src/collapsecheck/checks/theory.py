"""The Gaussian family's check module ``theory``,
now :mod:`collapsecheck.families.gaussian.checks.theory`.

This historical path is kept working: it names the same module object (see
:mod:`collapsecheck._alias`).
"""

from collapsecheck._alias import alias

alias(__name__, "collapsecheck.families.gaussian.checks.theory")
