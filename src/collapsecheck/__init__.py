"""collapsecheck: statistical verification of model collapse against exact theory.

The subject is the Gaussian refit chain: generation t fits a normal distribution to
n draws from the normal fitted at generation t - 1.  Everything the package predicts
follows from the exact law of that chain (see :mod:`collapsecheck.theory`).
"""

__version__ = "0.1.0"

__all__ = ["Experiment", "__version__", "audit_chains"]


def __getattr__(name: str):
    """``Experiment``, the Gaussian family's parameters, resolved on first use so that
    importing a shared module (or another family) loads no family."""
    if name == "Experiment":
        from collapsecheck.families.gaussian.parameters import Experiment

        return Experiment
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def audit_chains(trajectories, *, n: int, ddof: float = 0.0, **options):
    """Audit recorded chains against exact theory; see
    :func:`collapsecheck.audit.audit_chains` (imported on first call, so that
    ``import collapsecheck`` stays light). Returns an
    :class:`~collapsecheck.audit.AuditResult`."""
    from collapsecheck.audit import audit_chains as run

    return run(trajectories, n=n, ddof=ddof, **options)
