"""The project's exceptions: one root, a few meaningful kinds.

The CLI turns every :class:`NewsgraphError` into one line on stderr and a
non-zero exit; anything else is a bug.
"""
from __future__ import annotations

import re

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def one_line(text: str) -> str:
    """A message safe to print on one terminal line: control, bidi and surrogate characters escaped."""
    return _UNPRINTABLE.sub(lambda m: "\\x%02x" % ord(m.group()) if ord(m.group()) < 256 else "\\u%04x" % ord(m.group()), text)


class NewsgraphError(Exception):
    """Root of every error newsgraph reports to its user.

    ``setting`` names the parameter of the library call that would change the
    outcome (``"timeout"``, ``"max_chars"``, ``"allow_update"`` ...), so a front
    end can say how to set it there: the command line names its option. The
    message itself names no option.

    >>> QueryError("query stopped after 30 s", setting="timeout")
    """

    def __init__(self, message: str, setting: str | None = None):
        super().__init__(message)
        self.setting = setting


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


def first_line(e: BaseException) -> str:
    """The first line of an exception's message, or its type's name when it has none."""
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


class WorkerError(NewsgraphError):
    """A worker process cannot start (its ``setup()`` failed); the message says why."""
