"""The dataset layout every backend keeps, and the SPARQL that keeps it.

Each document is a named graph; the default graph holds their merge (every
triple once), kept up to date with each document and queried by default.
Oxigraph's own union of graphs (before 0.6) would count a triple once per
document that states it, so a store and the file built from the same articles
would give different answers. The updates below are plain SPARQL 1.1, so the
embedded store and a remote endpoint run the same text.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

import pyoxigraph as ox

from .results import Result

MERGED = ox.DefaultGraph()
# Takes the triples of the document graph %(g)s out of the merge unless another graph states them too.
_UNMERGE = ("DELETE { ?s ?p ?o } WHERE { GRAPH %(g)s { ?s ?p ?o } "
            "FILTER NOT EXISTS { GRAPH ?other { ?s ?p ?o } FILTER(?other != %(g)s) } }")
# Counted by the engine (iterating quads() in Python costs a lookup per quad: minutes on a big store).
# A FILTER NOT EXISTS per triple, to find the merge's triples no document states, takes 25 s on a
# million triples; the distinct stated triples, subtracted from the merge that holds them all, 3 s.
_COUNT_NAMED = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
_COUNT_STATED = "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }"
_COUNT_TRIPLES = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
# The quads of a dataset: the documents' graphs, and default-graph triples no document states.
QUADS = ("SELECT ?s ?p ?o ?g WHERE { { GRAPH ?g { ?s ?p ?o } } "
         "UNION { ?s ?p ?o FILTER NOT EXISTS { GRAPH ?x { ?s ?p ?o } } } }")


def replace_update(g: ox.NamedNode, ntriples: str) -> str:
    """SPARQL Update that makes ``ntriples`` the whole of document graph ``g`` and keeps the merge right."""
    return f"{_UNMERGE % {'g': g}} ;\nDROP SILENT GRAPH {g} ;\nINSERT DATA {{ GRAPH {g} {{ {ntriples} }} {ntriples} }}"


def remove_update(g: ox.NamedNode) -> str:
    """SPARQL Update that takes document graph ``g``, and what only it states, out of the dataset."""
    return f"{_UNMERGE % {'g': g}} ;\nDROP GRAPH {g}"


def has_graph(doc: str) -> str:
    """SPARQL that asks whether the graph of document ``doc`` holds anything."""
    return f"ASK {{ GRAPH {ox.NamedNode(doc)} {{ ?s ?p ?o }} }}"


def ntriples(quads: Iterable[ox.Quad]) -> bytes:
    """The triples of ``quads`` as N-Triples, one per line, as a graph's ``put_ntriples`` takes them."""
    return ox.serialize([ox.Triple(q.subject, q.predicate, q.object) for q in quads], format=ox.RdfFormat.N_TRIPLES)


def count_statements(query: Callable[[str], Result], fmt: ox.RdfFormat | None) -> int:
    """How many statements a graph in this layout holds as a file of format ``fmt``: quads for a dataset
    format, triples (the merge, as a query of the default graph counts them) for others or None."""
    def count(sparql: str) -> int:
        return int(query(sparql).rows[0][0].value)

    triples = count(_COUNT_TRIPLES)
    if fmt is None or not fmt.supports_datasets:
        return triples
    # What a dump writes: the documents' quads, and the merge's triples that no document states.
    return count(_COUNT_NAMED) + triples - count(_COUNT_STATED)
