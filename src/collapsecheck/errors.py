"""Exceptions a user can cause, kept apart from bugs.

The library raises :class:`TypeError` / :class:`ValueError` for bad parameters and
:class:`InputError` (a :class:`ValueError`) for bad files and profiles. Only the CLI turns
them into one line on stderr and exit code 2; anything else is a bug.
"""

from __future__ import annotations

__all__ = ["InputError", "OutputExistsError"]


class InputError(ValueError):
    """A file, profile or option the user supplied cannot be used as it is."""


class OutputExistsError(InputError):
    """An output file exists and overwriting it was not asked for (``--force``)."""
