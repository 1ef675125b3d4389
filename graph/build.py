"""Records → RDF quads, one named graph per document.

Modelling (see the README for queries):

* every document is ``ng:Document`` in a named graph of its own IRI, holding
  all the triples it contributes, so a document can be replaced or removed
  whole;
* an entity is typed ``ng:Person``/``ng:Organization``/``ng:Location`` with
  ``rdfs:label`` (preferred name) and ``skos:altLabel`` (other names seen);
* a factual relation is a direct triple (``<s> ng:captured <o>``; both
  directions for symmetric properties), and every report of a relation,
  factual or not, is an ``ng:Assertion`` (an ``rdf:Statement`` and
  ``prov:Entity``) with the document, sentence, offsets, trigger, rule,
  polarity, modality and speaker.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable

import pyoxigraph as ox

from . import iri
from .records import Article, DocumentResult, Entity, StoredDocument
from .resources import PREFIXES, ng, relation_specs

RDF = PREFIXES["rdf"]
RDFS = PREFIXES["rdfs"]
XSD = PREFIXES["xsd"]
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$")
_URL = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")


def _n(value: str) -> ox.NamedNode:
    return ox.NamedNode(value)


def _t(value: str) -> ox.Literal:
    return ox.Literal(iri.clean_text(value))


def _int(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=_n(XSD + "integer"))


TYPE = _n(RDF + "type")
LABEL = _n(RDFS + "label")
ALT = _n(PREFIXES["skos"] + "altLabel")


def content_hash(article: Article) -> str:
    """SHA-256 over the article's text and metadata: changes when anything we store would."""
    payload = json.dumps([article.id, article.text, article.title, article.date, article.url], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()


def doc_iri(article_id: str) -> str:
    return iri.mint("doc", article_id)


def entity_iri(entity: Entity) -> str:
    return iri.mint("entity", entity.label)


def document_quads(result: DocumentResult) -> list[ox.Quad]:
    """Every quad one document contributes, in its own named graph, in a stable order."""
    d, triples = _document_triples(result)
    unique = sorted(set(triples), key=lambda t: (str(t[0]), str(t[1]), str(t[2])))
    return [ox.Quad(s, p, o, d) for s, p, o in unique]


def stored_document(result: DocumentResult) -> StoredDocument:
    """A document as :meth:`Graph.put_ntriples <newsgraph.store.Graph.put_ntriples>` takes it.

    Made where the document was analysed (a worker), so that the process
    writing the store only has bytes to hand to Oxigraph.
    """
    d, triples = _document_triples(result)
    data = ox.serialize([ox.Triple(*t) for t in dict.fromkeys(triples)], format=ox.RdfFormat.N_TRIPLES)
    return StoredDocument(d.value, data, sum(1 for f in result.facts if f.relation.factual))


def _document_triples(result: DocumentResult) -> tuple[ox.NamedNode, list[tuple]]:
    """The document's graph name and its triples (repeats included), in the order they are made."""
    art = result.article
    d = _n(doc_iri(art.id))
    triples: list[tuple] = []
    add = triples.append
    add((d, TYPE, _n(ng("Document"))))
    add((d, _n(ng("documentId")), _t(art.id)))
    add((d, _n(ng("contentHash")), ox.Literal(result.content_hash or content_hash(art))))
    if art.title:
        add((d, _n(PREFIXES["dcterms"] + "title"), _t(art.title)))
    if art.date:
        add((d, _n(PREFIXES["dcterms"] + "date"), _date(art.date)))
    if art.url:
        url = art.url.strip()
        add((d, _n(PREFIXES["schema"] + "url"), _n(url) if _URL.match(url) and _valid_iri(url) else _t(url)))

    for ent in result.entities:
        e = _n(entity_iri(ent))
        add((e, TYPE, _n(ng(ent.cls))))
        add((e, LABEL, _t(ent.label)))
        for name in ent.names:
            add((e, ALT, _t(name)))
        add((d, _n(ng("mentions")), e))
        m = _n(iri.mint("mention", _digest(art.id, ent.label)))
        add((d, _n(ng("mentioning")), m))
        add((m, TYPE, _n(ng("Mentioning"))))
        add((m, _n(ng("entity")), e))
        add((m, _n(ng("mentionCount")), _int(ent.mentions)))

    specs = relation_specs()
    for fact in result.facts:
        subj, rel, obj = fact.subject, fact.relation, fact.object
        s, o = _n(entity_iri(subj)), _n(entity_iri(obj))
        p = _n(ng(rel.prop))
        if rel.factual:
            add((s, p, o))
            if specs[rel.prop].get("symmetric"):
                add((o, p, s))
        ev = rel.evidence
        a = _n(iri.mint("assertion", _digest(art.id, rel.prop, subj.label, obj.label, str(ev.start), ev.trigger, ev.rule)))
        add((a, TYPE, _n(ng("Assertion"))))
        add((a, _n(RDF + "subject"), s))
        add((a, _n(RDF + "predicate"), p))
        add((a, _n(RDF + "object"), o))
        add((a, _n(ng("document")), d))
        add((a, _n(PREFIXES["prov"] + "wasDerivedFrom"), d))
        add((a, _n(ng("sentence")), _t(ev.sentence)))
        add((a, _n(ng("sentenceStart")), _int(ev.start)))
        add((a, _n(ng("sentenceEnd")), _int(ev.end)))
        add((a, _n(ng("trigger")), _t(ev.trigger)))
        add((a, _n(ng("rule")), _t(ev.rule)))
        add((a, _n(ng("polarity")), _n(ng(rel.polarity))))
        add((a, _n(ng("modality")), _n(ng(rel.modality))))
        if fact.speaker is not None:
            add((a, _n(ng("attributedTo")), _n(entity_iri(fact.speaker))))
    return d, triples


def _digest(*parts: str) -> str:
    """A short stable key for nodes that have no name of their own (assertions, mentionings)."""
    joined = "\x00".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.sha256(joined).hexdigest()[:24]


def _date(value: str) -> ox.Literal:
    v = value.strip()
    if _DATE.match(v):
        return ox.Literal(v, datatype=_n(XSD + "date"))
    if _DATETIME.match(v):
        return ox.Literal(v, datatype=_n(XSD + "dateTime"))
    return _t(v)


def _valid_iri(value: str) -> bool:
    try:
        ox.NamedNode(value)
    except ValueError:
        return False
    return True


def ontology_quads() -> Iterable[ox.Quad]:
    """The ontology itself, for exports that should be self-describing."""
    from .resources import data_path

    for t in ox.parse(path=str(data_path("newsgraph.ttl")), format=ox.RdfFormat.TURTLE):
        yield ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph())
