"""RDF → a networkx view: one node per entity, one edge per fact with its evidence.

The view feeds the HTML network and the GraphML/GEXF exports. Subgraphs
(``--focus``, ``--relation``, ``--query``) are cut here.
"""
from __future__ import annotations

from collections.abc import Iterable

import networkx as nx
import pyoxigraph as ox

from .errors import NewsgraphError
from .resources import NG, ontology_labels, relation_specs
from .store import Graph

CLASSES = ("Person", "Organization", "Location")
# ORDER BY everywhere: SPARQL results come in no set order, and the same graph, from a file
# or a store, should give the same GraphML and GEXF.

_ENTITIES = """
SELECT ?e ?cls ?label WHERE {
  ?e a ?cls . VALUES ?cls { ng:Person ng:Organization ng:Location }
  OPTIONAL { ?e rdfs:label ?label }
} ORDER BY ?e ?cls ?label"""
_NAMES = "SELECT ?e ?name WHERE { ?e skos:altLabel ?name } ORDER BY ?e ?name"
_MENTIONS = """
SELECT ?e ?doc ?count ?title WHERE {
  ?doc ng:mentioning ?m . ?m ng:entity ?e ; ng:mentionCount ?count .
  OPTIONAL { ?doc dcterms:title ?title }
} ORDER BY ?e ?doc"""
_FACTS = "SELECT ?s ?p ?o WHERE { ?s ?p ?o . VALUES ?p { %s } } ORDER BY ?s ?p ?o"
_EVIDENCE = """
SELECT ?s ?p ?o ?sentence ?doc ?id ?title ?date ?url ?rule ?trigger WHERE {
  ?a a ng:Assertion ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ;
     ng:polarity ng:positive ; ng:modality ng:asserted ; ng:document ?doc .
  OPTIONAL { ?a ng:sentence ?sentence } OPTIONAL { ?a ng:rule ?rule } OPTIONAL { ?a ng:trigger ?trigger }
  OPTIONAL { ?doc ng:documentId ?id } OPTIONAL { ?doc dcterms:title ?title }
  OPTIONAL { ?doc dcterms:date ?date } OPTIONAL { ?doc schema:url ?url }
}"""


def _v(term) -> str | None:
    return None if term is None else term.value


def to_networkx(graph: Graph) -> nx.MultiDiGraph:
    """The whole graph as a MultiDiGraph (edge key = relation local name)."""
    from .query import run

    specs = relation_specs()
    g = nx.MultiDiGraph()
    for row in run(graph, _ENTITIES, timeout=None).rows:
        e, cls, label = row
        node = g.nodes.get(e.value)
        if node is None:
            g.add_node(e.value, label=_v(label) or e.value.rsplit("/", 1)[-1], cls=cls.value[len(NG):],
                       names=[], mentions=0, documents=[])
    for e, name in run(graph, _NAMES, timeout=None).rows:
        if e.value in g and name.value not in g.nodes[e.value]["names"]:
            g.nodes[e.value]["names"].append(name.value)
    for e, doc, count, title in run(graph, _MENTIONS, timeout=None).rows:
        if e.value in g:
            attrs = g.nodes[e.value]
            attrs["mentions"] += _count(count.value)
            shown = _v(title) or doc.value.rsplit("/", 1)[-1]
            if shown not in attrs["documents"]:
                attrs["documents"].append(shown)
    values = " ".join(f"<{NG}{p}>" for p in specs)
    evidence: dict[tuple[str, str, str], list[dict]] = {}
    for s, p, o, sentence, doc, doc_id, title, date, url, rule, trigger in run(graph, _EVIDENCE, timeout=None).rows:
        key = _edge_key(s.value, p.value[len(NG):], o.value, specs)
        evidence.setdefault(key, []).append({
            "sentence": _v(sentence), "document": _v(doc_id) or _v(doc), "title": _v(title),
            "date": _v(date), "url": _v(url), "rule": _v(rule), "trigger": _v(trigger),
        })
    for s, p, o in run(graph, _FACTS % values, timeout=None).rows:
        rel = p.value[len(NG):]
        key = _edge_key(s.value, rel, o.value, specs)
        u, _, v = key
        if u not in g or v not in g or g.has_edge(u, v, key=rel):
            continue
        ev = sorted(evidence.get(key, []), key=lambda d: (d["document"] or "", d["sentence"] or ""))
        g.add_edge(u, v, key=rel, relation=rel, label=ontology_labels().get(rel, rel),
                   directed=not specs[rel].get("symmetric", False), count=max(1, len({(d["document"], d["sentence"]) for d in ev})),
                   evidence=ev)
    return g


def _edge_key(s: str, rel: str, o: str, specs) -> tuple[str, str, str]:
    if specs.get(rel, {}).get("symmetric") and o < s:
        s, o = o, s
    return s, rel, o


def restrict(g: nx.MultiDiGraph, relations: Iterable[str] = (), focus: str | None = None, depth: int = 1,
             triples: Iterable[ox.Triple] | None = None) -> nx.MultiDiGraph:
    """A subgraph: only some relations, the neighbourhood of a name, or the edges of a CONSTRUCT result."""
    rels = set(relations)
    unknown = rels - set(relation_specs())
    if unknown:
        raise NewsgraphError(f"unknown relation '{sorted(unknown)[0]}'; choose from {', '.join(sorted(relation_specs()))}")
    h = g.copy()
    if rels:
        h.remove_edges_from([(u, v, k) for u, v, k in h.edges(keys=True) if k not in rels])
    if triples is not None:
        wanted_nodes, wanted_edges = set(), set()
        specs = relation_specs()
        for t in triples:
            s, p, o = t.subject, t.predicate, t.object
            for term in (s, o):
                if isinstance(term, ox.NamedNode) and term.value in h:
                    wanted_nodes.add(term.value)
            if isinstance(s, ox.NamedNode) and isinstance(o, ox.NamedNode) and p.value.startswith(NG):
                wanted_edges.add(_edge_key(s.value, p.value[len(NG):], o.value, specs))
        h.remove_edges_from([(u, v, k) for u, v, k in h.edges(keys=True) if (u, k, v) not in wanted_edges])
        for u, _k, v in wanted_edges:
            wanted_nodes.update(x for x in (u, v) if x in h)
        h = h.subgraph(wanted_nodes).copy()
    if focus is not None:
        key = focus.casefold().strip()
        centres = [n for n, a in h.nodes(data=True)
                   if a.get("label", "").casefold() == key or key in (x.casefold() for x in a.get("names", []))]
        if not centres:
            raise NewsgraphError(f"no entity named '{focus}' in the graph")
        und = h.to_undirected(as_view=True)
        keep = set()
        for c in centres:
            keep.update(nx.single_source_shortest_path_length(und, c, cutoff=depth))
        h = h.subgraph(keep).copy()
    elif rels:
        h.remove_nodes_from([n for n in list(h) if h.degree(n) == 0])
    return h


def flat(g: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """A copy whose attributes are all strings or numbers, as GraphML and GEXF need."""
    from .iri import clean_text

    def xml_safe(value: str) -> str:
        return "".join(ch for ch in clean_text(value) if ch in "\t\n\r" or (" " <= ch <= "\ud7ff") or ("\ue000" <= ch <= "\ufffd") or ch >= "\U00010000")

    h = nx.MultiDiGraph()
    for n, a in g.nodes(data=True):
        h.add_node(xml_safe(n), label=xml_safe(a.get("label", "")), cls=a.get("cls", ""),
                   names=xml_safe("; ".join(a.get("names", []))), mentions=int(a.get("mentions", 0)),
                   documents=xml_safe("; ".join(a.get("documents", []))))
    for u, v, k, a in g.edges(keys=True, data=True):
        sentences = " | ".join(d["sentence"] for d in a.get("evidence", []) if d.get("sentence"))
        h.add_edge(xml_safe(u), xml_safe(v), key=k, relation=k, label=a.get("label", k), count=int(a.get("count", 1)),
                   directed=bool(a.get("directed")), evidence=xml_safe(sentences))
    return h


def _count(value: str) -> int:
    """A mention count as written, 0 if it is not one: "²" is a digit to ``str.isdigit`` but not to ``int``,
    and a number of thousands of digits is more than ``int`` will read."""
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else 0
