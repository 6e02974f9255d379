"""The 1-D Gaussian refit chain: fit N(mu, sigma^2) to n draws of the previous fit.

Its exact theory is the package :mod:`collapsecheck.families.gaussian.theory` (one module
per regime, the shared step laws in ``steps``); its engines are
:mod:`collapsecheck.engines` (the replace chain) and :mod:`collapsecheck.engines.regimes`.
The commands' own bodies implement it (``SPEC.native``), so it declares no options of its
own: the options the commands declare are its.
"""

from collapsecheck.families.protocol import FamilySpec

SPEC = FamilySpec(
    name="gaussian",
    summary="1-D Gaussian refit chain (the article's experiment) and its regimes",
    native=True,
    checks="collapsecheck.families.gaussian.checks:CHECK_TYPES",
)
