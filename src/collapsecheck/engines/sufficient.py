"""The Gaussian chain's ``sufficient`` engine,
now :mod:`collapsecheck.families.gaussian.engines.sufficient`.

This historical path is kept working: it names the same module object (see
:mod:`collapsecheck._alias`).
"""

from collapsecheck._alias import alias

alias(__name__, "collapsecheck.families.gaussian.engines.sufficient")
