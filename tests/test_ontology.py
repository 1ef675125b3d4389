"""The ontology is the source of truth: code, patterns and style agree with it."""
from __future__ import annotations

import pytest
import rdflib
from rdflib.namespace import OWL, RDF, RDFS

from newsgraph.errors import NewsgraphError
from newsgraph.resources import NG, data_path, ng, ontology_terms, relation_specs

NGNS = rdflib.Namespace(NG)


@pytest.fixture(scope="module")
def onto() -> rdflib.Graph:
    g = rdflib.Graph()
    g.parse(data_path("newsgraph.ttl"), format="turtle")
    return g


def test_classes_and_relations_are_declared_with_labels_and_comments(onto):
    for cls in ("Person", "Organization", "Location", "Document", "Assertion"):
        assert (NGNS[cls], RDF.type, OWL.Class) in onto
        assert onto.value(NGNS[cls], RDFS.label) and onto.value(NGNS[cls], RDFS.comment)
    for prop in relation_specs():
        assert (NGNS[prop], RDF.type, OWL.ObjectProperty) in onto
        assert (NGNS[prop], RDFS.subPropertyOf, NGNS.relation) in onto
        assert onto.value(NGNS[prop], RDFS.domain) and onto.value(NGNS[prop], RDFS.range)
        assert onto.value(NGNS[prop], RDFS.label) and onto.value(NGNS[prop], RDFS.comment)


def test_symmetry_in_the_patterns_matches_the_ontology(onto):
    for prop, spec in relation_specs().items():
        assert bool(spec.get("symmetric")) == ((NGNS[prop], RDF.type, OWL.SymmetricProperty) in onto), prop


def test_aligned_with_well_known_vocabularies(onto):
    schema = rdflib.Namespace("https://schema.org/")
    prov = rdflib.Namespace("http://www.w3.org/ns/prov#")
    assert (NGNS.Person, OWL.equivalentClass, schema.Person) in onto
    assert (NGNS.Location, OWL.equivalentClass, schema.Place) in onto
    assert (NGNS.document, RDFS.subPropertyOf, prov.wasDerivedFrom) in onto
    assert (NGNS.attributedTo, RDFS.subPropertyOf, prov.wasAttributedTo) in onto


def test_code_cannot_use_an_undeclared_term():
    assert ng("captured") == NG + "captured"
    with pytest.raises(NewsgraphError, match="not declared"):
        ng("capturd")


def test_every_term_the_builder_writes_is_declared(tmp_path):
    """Build a document through the real builder and check every ng: term it wrote."""
    import pyoxigraph as ox

    from newsgraph.build import document_quads
    from newsgraph.records import Article, DocumentResult, Entity, Evidence, Fact, Mention, Relation

    a, b = Entity("Vostok", "Organization", ("VST",), 2), Entity("Kalmar", "Location", (), 1)
    m = Mention(0, 6, "Vostok", "Organization", 0)
    rel = Relation("captured", m, m, Evidence("Vostok took Kalmar.", 0, 19, "took", "captured.take-place"),
                   modality="planned")
    doc = DocumentResult(Article("d", "Vostok took Kalmar.", title="T", date="2024-01-02", url="https://example.org/a"),
                         (a, b), (Fact(a, rel, b, speaker=a),))
    used = set()
    for q in document_quads(doc):
        for term in (q.predicate, q.object):
            if isinstance(term, ox.NamedNode) and term.value.startswith(NG):
                used.add(term.value[len(NG):])
    assert used and used <= ontology_terms()
