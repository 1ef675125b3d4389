"""Query answers as newsgraph's own type, whichever backend computed them.

Every backend's ``query`` returns a :class:`Result`: the embedded store makes it
from its engine's answer (:func:`from_engine`), an endpoint from the SPARQL results
it sent. The writers of :mod:`newsgraph.query` turn it into tables and W3C formats.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import pyoxigraph as ox

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple


@dataclass
class Result:
    """A materialised query answer.

    A SELECT's solutions are kept as the engine writes them in TSV (header dropped, one line each): that
    costs a fraction of making a Python object per term, and the writers turn each distinct term into
    text once. ``rows`` gives them as terms.

    >>> Result("ask", [], boolean=True).boolean
    True
    """

    kind: str  # "select" | "ask" | "graph"
    variables: list[str]
    solutions: str = ""
    boolean: bool | None = None
    triples: list[ox.Triple] | None = None
    truncated: bool = False

    @cached_property
    def cells(self) -> list[str]:
        """The solutions' TSV cells, row after row ("": unbound); a cell never holds a raw tab or line end."""
        if not self.variables:
            return []
        cells = self.solutions.replace("\n", "\t").split("\t")
        cells.pop()  # what follows the last line end: nothing
        return cells

    @cached_property
    def distinct(self) -> set[str]:
        """The distinct cells, and "" (unbound): results repeat their terms (a 2-hop query's 24k rows hold a few thousand)."""
        return {"", *self.cells}

    @cached_property
    def terms(self) -> dict[str, Term | None]:
        """Each distinct cell read back into its term ("": unbound)."""
        cells = list(self.distinct)
        return dict(zip(cells, read_terms(cells)))

    @cached_property
    def rows(self) -> list[list[Term | None]]:
        """The solutions, each its values in the order of the variables (None: unbound)."""
        k = len(self.variables)
        if not k:
            return [[] for _ in range(self.solutions.count("\n"))]
        values = list(map(self.terms.__getitem__, self.cells))
        return [values[i:i + k] for i in range(0, len(values), k)]


def read_terms(cells: list[str]) -> list[Term | None]:
    """The terms of TSV cells ("": None), read by the engine's own parser, which reads what its writer wrote."""
    parsed = ox.parse_query_results("?t\n" + "".join([c + "\n" for c in cells]), ox.QueryResultsFormat.TSV)
    return [solution[0] for solution in parsed]


def from_engine(answer: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples, max_rows: int | None = None) -> Result:
    """A :class:`Result` of what pyoxigraph answered (a store's query, or parsed SPARQL results), cut after
    ``max_rows`` solutions or triples (None: all of them)."""
    if isinstance(answer, ox.QueryBoolean):
        return Result("ask", [], boolean=bool(answer))
    if isinstance(answer, ox.QueryTriples):
        return graph_result(answer, max_rows)
    variables = [v.value for v in answer.variables]
    sink = _Lines(None if max_rows is None else max_rows + 1)  # the header, then the rows
    try:
        answer.serialize(sink, ox.QueryResultsFormat.TSV)
        truncated = False
    except _Full:
        truncated = True  # as many rows as the cap allows (a result of exactly max_rows rows says so too)
    text = b"".join(sink.chunks).decode("utf-8")
    return Result("select", variables, text[text.index("\n") + 1:], truncated=truncated)


def graph_result(triples, max_rows: int | None = None) -> Result:
    """A CONSTRUCT or DESCRIBE answer of ``triples`` (any iterable of them), cut after ``max_rows``."""
    kept: list[ox.Triple] = []
    for t in triples:
        kept.append(t)
        if max_rows is not None and len(kept) >= max_rows:
            return Result("graph", [], triples=kept, truncated=True)
    return Result("graph", [], triples=kept)


class _Full(Exception):
    """Raised through the engine's writer to stop it at the row cap."""


class _Lines:
    """A binary file that keeps what the engine writes up to its ``limit``-th line end (None: all), then stops
    the engine.

    TSV results escape line breaks in literals, so each line end ends a row (or the header).
    """

    def __init__(self, limit: int | None) -> None:
        self.chunks: list[bytes] = []
        self.left = limit

    def write(self, data: bytes) -> int:
        if self.left is None:
            self.chunks.append(data)
            return len(data)
        if self.left == 0:  # the engine's buffer writes what it holds once more as it is dropped
            raise _Full
        ends = data.count(b"\n")
        if ends >= self.left:
            self.chunks.append(data[:len(data) - len(data.split(b"\n", self.left)[-1])])
            self.left = 0
            raise _Full
        self.left -= ends
        self.chunks.append(data)
        return len(data)

    def flush(self) -> None:
        pass
