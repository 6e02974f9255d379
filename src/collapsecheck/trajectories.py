"""The Gaussian family's trajectory records and their CSV/NPZ file formats,
now :mod:`collapsecheck.families.gaussian.records`.

This historical path is kept working: it names the same module object (see
:mod:`collapsecheck._alias`).
"""

from collapsecheck._alias import alias

alias(__name__, "collapsecheck.families.gaussian.records")
