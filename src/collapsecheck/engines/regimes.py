"""The Gaussian chain's regime engines (a package),
now :mod:`collapsecheck.families.gaussian.engines.regimes`.

This historical path is kept working: it and its submodules (``_steps``, ``samples``,
``sufficient``) name the same module objects as the new ones (see
:mod:`collapsecheck._alias`).
"""

from collapsecheck._alias import alias

alias(__name__, "collapsecheck.families.gaussian.engines.regimes",
      ("_steps", "samples", "sufficient"))
