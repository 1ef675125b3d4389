"""Records → RDF: each row's document, built, is the graph its Turtle says (``rdflib.compare.isomorphic``).

Assertions and mentionings have no name of their own: their IRIs are digests of what they record. The expected
Turtle writes them as blank nodes, and the built graph is read with those IRIs as blank nodes, so that the
comparison is of structure; the last tests check the digests themselves (stable, and apart where evidence differs).
"""
from __future__ import annotations

import re

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from newsgraph.build import content_hash, doc_iri, document_quads, stored_document
from newsgraph.records import Article, DocumentResult, Entity, Evidence, Fact, Mention, Relation
from newsgraph.resources import PREFIXES

PROLOGUE = "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in PREFIXES.items())
_DIGESTED = re.compile(rf"<(?:{re.escape(PREFIXES['assertion'])}|{re.escape(PREFIXES['mention'])})([0-9a-f]+)>")

KLA = Entity("Kessarine Liberation Army", "Organization", ("KLA",), 2)
VELMORA = Entity("Velmora", "Location", (), 1)
MAREN = Entity("Idris Maren", "Person", ("Maren",), 3)
HALVIK = Entity("Tomas Halvik", "Person", (), 1)


def fact(subject: Entity, prop: str, obj: Entity, sentence: str, start: int = 0, speaker: Entity | None = None,
         **kinds) -> Fact:
    evidence = Evidence(sentence, start, start + len(sentence), prop, f"{prop}.test")
    mention = lambda e: Mention(0, len(e.label), e.label, e.cls, 0)  # noqa: E731
    return Fact(subject, Relation(prop, mention(subject), mention(obj), evidence, **kinds), obj, speaker)


def document(entities=(), facts=(), doc_id: str = "d1", **meta) -> DocumentResult:
    article = Article(doc_id, "(text)", **meta)
    return DocumentResult(article, tuple(entities), tuple(facts), content_hash(article))


def built(result: DocumentResult) -> rdflib.Graph:
    """The document's graph as rdflib reads it, its digest IRIs as blank nodes."""
    quads = document_quads(result)
    assert {q.graph_name for q in quads} == {ox.NamedNode(doc_iri(result.article.id))}  # all in the document's graph
    text = ox.serialize([q.triple for q in quads], format=ox.RdfFormat.N_TRIPLES).decode("utf-8")
    return rdflib.Graph().parse(data=_DIGESTED.sub(r"_:b\1", text), format="nt")


def expected(result: DocumentResult, turtle: str) -> rdflib.Graph:
    """The Turtle of a row, after the document's own triples (its type, id and content hash)."""
    head = (f'doc:{result.article.id} a ng:Document ; ng:documentId "{result.article.id}" ; '
            f'ng:contentHash "{result.content_hash}" .\n')
    return rdflib.Graph().parse(data=PROLOGUE + head + turtle, format="turtle")


def _assertion(s: str, p: str, o: str, sentence: str, start: int = 0, polarity: str = "positive",
               modality: str = "asserted", extra: str = "") -> str:
    return f"""[] a ng:Assertion ; rdf:subject {s} ; rdf:predicate ng:{p} ; rdf:object {o} ;
        ng:document doc:d1 ; prov:wasDerivedFrom doc:d1 ; ng:sentence "{sentence}" ;
        ng:sentenceStart {start} ; ng:sentenceEnd {start + len(sentence)} ; ng:trigger "{p}" ; ng:rule "{p}.test" ;
        ng:polarity ng:{polarity} ; ng:modality ng:{modality} {extra}.
"""


def _mentioning(e: str, count: int) -> str:
    return f"doc:d1 ng:mentions {e} ; ng:mentioning [ a ng:Mentioning ; ng:entity {e} ; ng:mentionCount {count} ] .\n"


ROWS = {
    "metadata only": (
        document(title="River offensive", date="2024-04-10", url="https://news.example.org/river"),
        'doc:d1 dcterms:title "River offensive" ; dcterms:date "2024-04-10"^^xsd:date ; '
        "schema:url <https://news.example.org/river> .",
    ),
    "a date-time, and a URL that is no IRI": (
        document(date="2024-04-10T08:30:00Z", url="https://news.example.org/a b"),
        'doc:d1 dcterms:date "2024-04-10T08:30:00Z"^^xsd:dateTime ; schema:url "https://news.example.org/a b" .',
    ),
    "a date in words stays text": (
        document(date="10 April 2024"),
        'doc:d1 dcterms:date "10 April 2024" .',
    ),
    "an entity with another name": (
        document([KLA]),
        'entity:Kessarine_Liberation_Army a ng:Organization ; rdfs:label "Kessarine Liberation Army" ; skos:altLabel "KLA" .\n'
        + _mentioning("entity:Kessarine_Liberation_Army", 2),
    ),
    "a factual relation is a triple and an assertion": (
        document([KLA, VELMORA], [fact(KLA, "captured", VELMORA, "The KLA captured Velmora.")]),
        'entity:Kessarine_Liberation_Army a ng:Organization ; rdfs:label "Kessarine Liberation Army" ; skos:altLabel "KLA" .\n'
        'entity:Velmora a ng:Location ; rdfs:label "Velmora" .\n'
        + _mentioning("entity:Kessarine_Liberation_Army", 2) + _mentioning("entity:Velmora", 1)
        + "entity:Kessarine_Liberation_Army ng:captured entity:Velmora .\n"
        + _assertion("entity:Kessarine_Liberation_Army", "captured", "entity:Velmora", "The KLA captured Velmora."),
    ),
    "a symmetric relation goes both ways": (
        document([], [fact(MAREN, "metWith", HALVIK, "Maren met Halvik.", start=40)]),
        "entity:Idris_Maren ng:metWith entity:Tomas_Halvik . entity:Tomas_Halvik ng:metWith entity:Idris_Maren .\n"
        + _assertion("entity:Idris_Maren", "metWith", "entity:Tomas_Halvik", "Maren met Halvik.", start=40),
    ),
    "a planned relation is an assertion only": (
        document([], [fact(KLA, "captured", VELMORA, "The KLA plans to capture Velmora.", modality="planned")]),
        _assertion("entity:Kessarine_Liberation_Army", "captured", "entity:Velmora", "The KLA plans to capture Velmora.",
                   modality="planned"),
    ),
    "a denied relation, attributed to its speaker": (
        document([], [fact(KLA, "captured", VELMORA, "Maren said the KLA did not capture Velmora.", speaker=MAREN,
                           polarity="negative")]),
        _assertion("entity:Kessarine_Liberation_Army", "captured", "entity:Velmora",
                   "Maren said the KLA did not capture Velmora.", polarity="negative",
                   extra="; ng:attributedTo entity:Idris_Maren "),
    ),
}


@pytest.mark.parametrize("row", ROWS, ids=list(ROWS))
def test_a_document_builds_the_graph_its_turtle_says(row):
    result, turtle = ROWS[row]
    ours, theirs = built(result), expected(result, turtle)
    if not isomorphic(ours, theirs):
        _, only_ours, only_theirs = graph_diff(to_isomorphic(ours), to_isomorphic(theirs))
        pytest.fail(f"built but not expected:\n{only_ours.serialize(format='nt')}\n"
                    f"expected but not built:\n{only_theirs.serialize(format='nt')}")


def test_the_comparison_sees_a_missing_triple():
    result, turtle = ROWS["a symmetric relation goes both ways"]
    one_way = turtle.replace("entity:Tomas_Halvik ng:metWith entity:Idris_Maren .", "")
    assert not isomorphic(built(result), expected(result, one_way))


def test_what_the_store_is_given_is_the_same_graph():
    """The worker's N-Triples (stored_document) hold exactly the triples of document_quads."""
    result = ROWS["a factual relation is a triple and an assertion"][0]
    stored = stored_document(result)
    assert stored.iri == doc_iri("d1") and stored.relations == 1
    given = rdflib.Graph().parse(data=stored.ntriples.decode("utf-8"), format="nt")
    quads = ox.serialize([q.triple for q in document_quads(result)], format=ox.RdfFormat.N_TRIPLES).decode("utf-8")
    assert isomorphic(given, rdflib.Graph().parse(data=quads, format="nt"))


def test_the_same_records_mint_the_same_iris_and_other_evidence_other_ones():
    twice = [document_quads(document([], [fact(KLA, "captured", VELMORA, "The KLA captured Velmora.")])) for _ in range(2)]
    assert twice[0] == twice[1]
    elsewhere = document_quads(document([], [fact(KLA, "captured", VELMORA, "The KLA captured Velmora.", start=99)]))

    def assertions(quads):
        return {q.subject for q in quads if q.subject.value.startswith(PREFIXES["assertion"])}

    assert len(assertions(twice[0])) == len(assertions(elsewhere)) == 1
    assert assertions(twice[0]) != assertions(elsewhere)
