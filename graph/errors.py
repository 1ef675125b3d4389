"""The project's exceptions: one root, a few meaningful kinds.

The CLI turns every :class:`NewsgraphError` into one line on stderr and a
non-zero exit; anything else is a bug.
"""
from __future__ import annotations


class NewsgraphError(Exception):
    """Root of every error newsgraph reports to its user."""


class InputError(NewsgraphError):
    """An article source that cannot be read (missing, empty, undecodable, malformed)."""


class FormatError(NewsgraphError):
    """An output or input format newsgraph does not know."""


class QueryError(NewsgraphError):
    """A SPARQL query that is malformed, refused or over its limits."""


class StoreError(NewsgraphError):
    """A graph store that cannot be opened, read or written."""


class ModelError(NewsgraphError):
    """A spaCy model that cannot be loaded."""
