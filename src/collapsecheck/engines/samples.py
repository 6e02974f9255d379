"""The Gaussian chain's ``samples`` engine,
now :mod:`collapsecheck.families.gaussian.engines.samples`.

This historical path is kept working: it names the same module object (see
:mod:`collapsecheck._alias`).
"""

from collapsecheck._alias import alias

alias(__name__, "collapsecheck.families.gaussian.engines.samples")
