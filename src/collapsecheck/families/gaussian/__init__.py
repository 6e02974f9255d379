"""The 1-D Gaussian refit chain: fit N(mu, sigma^2) to n draws of the previous fit.

Its exact theory is the package :mod:`collapsecheck.families.gaussian.theory` (one module
per regime, the shared step laws in ``steps``); its engines are
:mod:`collapsecheck.engines` (the replace chain) and :mod:`collapsecheck.engines.regimes`.
"""
