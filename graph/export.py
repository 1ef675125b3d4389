"""The export format table: RDF formats, GraphML, GEXF and the HTML network."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .errors import FormatError, NewsgraphError
from .files import atomic_write
from .store import RDF_FORMATS, Graph, dump, rdf_format, write_triples

NETWORK_FORMATS = ("html", "graphml", "gexf")
EXPORT_FORMATS = (*RDF_FORMATS, *NETWORK_FORMATS)


def export_format(out: str) -> str:
    suffix = Path(out).suffix.lower().lstrip(".")
    if suffix not in EXPORT_FORMATS:
        raise FormatError(f"unknown export format '{suffix or out}'; choose one of {', '.join(EXPORT_FORMATS)}")
    return suffix


def export(graph: Graph, out: str, relations: Iterable[str] = (), focus: str | None = None, depth: int = 1,
           construct: str | None = None, heading: str | None = None, timeout: float | None = None,
           base: str | None = None) -> dict:
    """Write ``graph`` (or a part of it) to ``out``; returns counts of what was written.

    Relative IRIs in ``construct`` resolve against ``base`` (default: the graph's location).
    """
    fmt = export_format(out)
    relations = tuple(relations)
    if fmt in RDF_FORMATS and not (relations or focus or construct):
        dump(graph, out, rdf_format(out))
        return {"triples": graph.statements(rdf_format(out))}
    from . import nxgraph

    triples = None
    if construct is not None:
        from .query import run

        result = run(graph, construct, timeout=timeout, base=base)
        if result.kind != "graph":
            raise NewsgraphError("the query to draw must be a CONSTRUCT or DESCRIBE query: its triples are what gets drawn",
                                 setting="construct")
        triples = result.triples
    g = nxgraph.restrict(nxgraph.to_networkx(graph), relations=relations, focus=focus, depth=depth, triples=triples)
    if fmt == "html":
        from .viz import load_style, render_html

        page = render_html(g, load_style(), heading=heading or f"newsgraph: {Path(graph.location).name}")
        atomic_write(Path(out), lambda f: f.write(page.encode("utf-8", "replace")))
    elif fmt in ("graphml", "gexf"):
        import networkx as nx

        flat = nxgraph.flat(g)
        writer = nx.write_graphml if fmt == "graphml" else nx.write_gexf
        atomic_write(Path(out), lambda f: writer(flat, f))
    else:
        _write_subgraph_rdf(graph, g, out)
    return {"nodes": g.number_of_nodes(), "edges": g.number_of_edges()}


def _write_subgraph_rdf(graph: Graph, g, out: str) -> None:
    """RDF of a subgraph: the drawn entities' descriptions and the facts between them."""
    import pyoxigraph as ox

    from .resources import NG

    sub: set[ox.Triple] = set()
    if g.number_of_nodes():
        # One query, not a lookup per node: the graph may be a remote store. The default graph is the merge.
        values = " ".join(str(ox.NamedNode(n)) for n in sorted(g.nodes))
        for t in graph.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?s {{ {values} }} ?s ?p ?o }}").triples or []:
            if not t.predicate.value.startswith(NG) or isinstance(t.object, ox.Literal):
                sub.add(t)
    for u, v, k in g.edges(keys=True):
        sub.add(ox.Triple(ox.NamedNode(u), ox.NamedNode(NG + k), ox.NamedNode(v)))
    write_triples(out, sub, rdf_format(out))
