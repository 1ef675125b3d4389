"""The embedded Oxigraph store: incremental builds, replacement, refusal, locking."""
from __future__ import annotations

import pickle
import subprocess
import sys

import pyoxigraph as ox
import pytest

from helpers import (
    HALVIK,
    HARBOUR,
    KLA,
    MAREN,
    NG,
    OSTRAVA,
    RIVER,
    VELMORA,
    count_query,
    document,
    fact,
    handmade_documents,
    write_documents,
)
from newsgraph.build import doc_iri, document_quads, entity_iri
from newsgraph.errors import StoreError
from newsgraph.store import is_store_dir, open_source, open_target

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
ALL_QUADS = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
LABELS = "SELECT ?l WHERE { ?e rdfs:label ?l }"


def labels(store) -> set[str]:
    from newsgraph.query import run

    g = open_source(str(store))
    return {row[0].value for row in run(g, LABELS).rows}


def quads(store) -> set[ox.Quad]:
    """The quads of the documents' graphs."""
    s = ox.Store(str(store))
    return {q for q in s.quads_for_pattern(None, None, None, None) if isinstance(q.graph_name, ox.NamedNode)}


def merged(store) -> set[ox.Triple]:
    """The triples of the default graph, which should be the merge of the documents' graphs."""
    s = ox.Store(str(store))
    return {q.triple for q in s.quads_for_pattern(None, None, None, ox.DefaultGraph())}


def merge_of(quad_set: set[ox.Quad]) -> set[ox.Triple]:
    return {q.triple for q in quad_set}


# -------------------------------------------------------------- through the CLI


@pytest.mark.model
def test_build_into_a_new_directory_creates_a_store(cli, tmp_path):
    store = tmp_path / "graphs.v1"
    result = cli.ok("build", RIVER, "-o", f"{store}/")  # a trailing slash means a directory, dot or not
    assert is_store_dir(store)
    assert "1 article added, 0 unchanged" in result.stderr
    assert count_query(store, ALL_QUADS) > 0


@pytest.mark.model
def test_building_an_article_twice_changes_nothing(cli, tmp_path):
    store = tmp_path / "store"
    cli.ok("build", RIVER, "-o", store)
    before = quads(store)
    result = cli.ok("build", RIVER, "-o", store)
    assert "0 articles added, 1 unchanged, 0 skipped" in result.stderr
    assert quads(store) == before
    assert merged(store) == merge_of(before)


@pytest.mark.model
def test_a_second_article_adds_to_the_store(cli, tmp_path):
    store = tmp_path / "store"
    cli.ok("build", RIVER, "-o", store)
    first = quads(store)
    result = cli.ok("build", RIVER, HARBOUR, "-o", store)
    assert "1 article added, 1 unchanged" in result.stderr
    after = quads(store)
    assert first < after
    assert {q.graph_name.value for q in after} == {doc_iri("river_offensive"), doc_iri("harbour_talks")}
    assert f"{len(after)} triples" in result.stderr


@pytest.mark.model
def test_a_changed_article_replaces_its_old_graph(cli, tmp_path):
    article = tmp_path / "report.txt"
    article.write_text("General Tomas Halvik met Idris Maren in Corvanne on Wednesday.", encoding="utf-8")
    other = tmp_path / "other.txt"
    other.write_text("President Anika Varga met Rolf Denner in Port Selwyn.", encoding="utf-8")
    store = tmp_path / "store"
    cli.ok("build", article, other, "-o", store)
    assert {"Idris Maren", "Corvanne"} <= labels(store)
    other_quads = {q for q in quads(store) if q.graph_name.value == doc_iri("other")}

    article.write_text("Minister Lena Castell met Tomas Halvik in Dravenport on Thursday.", encoding="utf-8")
    result = cli.ok("build", article, other, "-o", store)
    assert "1 article added, 1 unchanged" in result.stderr
    now = labels(store)
    assert {"Lena Castell", "Dravenport"} <= now
    assert not {"Idris Maren", "Corvanne"} & now  # only in the old text: gone
    assert {q for q in quads(store) if q.graph_name.value == doc_iri("other")} == other_quads
    assert merged(store) == merge_of(quads(store))


def test_a_non_empty_directory_that_is_not_a_store_is_refused(cli, tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "todo.txt").write_text("keep me")
    line = cli.fail("build", RIVER, "-o", folder)
    assert "neither empty nor an Oxigraph store" in line and str(folder) in line
    assert [p.name for p in folder.iterdir()] == ["todo.txt"]


def test_a_file_where_a_store_should_be_is_refused(cli, tmp_path):
    (tmp_path / "store").write_text("a file")
    line = cli.fail("build", RIVER, "-o", f"{tmp_path / 'store'}/")
    assert "not a directory" in line


@pytest.mark.parametrize("command", [["query", "{store}", "ASK {}"],
                                     ["export", "{store}", "-o", "{tmp}/x.html"],
                                     ["build", str(RIVER), "-o", "{store}"]])
def test_a_store_held_by_another_process_is_in_use(tmp_path, handmade_store, command):
    held = ox.Store(str(handmade_store))  # this process holds the lock
    args = [a.replace("{store}", str(handmade_store)).replace("{tmp}", str(tmp_path)) for a in command]
    run = subprocess.run([sys.executable, "-m", "newsgraph.cli", *args], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert run.stderr.splitlines() == [f"Error: store '{handmade_store}' is in use by another process"]
    assert run.stdout == ""
    assert len(held) > 0
    del held


# -------------------------------------------------------------- the API, no model


def test_put_document_replaces_with_awkward_literals(tmp_path):
    """Replacing goes through a SPARQL update: quotes, backslashes, newlines and braces must survive."""
    store = tmp_path / "store"
    write_documents(str(store), handmade_documents())
    hostile = 'He said "we\'ll hold" \\ {braces} }\n""" \t \u202e\U0001F600 GRAPH <x> { } .'
    new = document("river", "(new text)", [MAREN, KLA, VELMORA],
                   [fact(KLA, "captured", VELMORA, hostile)], title=hostile)
    graph = open_target(str(store))
    graph.put_document(doc_iri("river"), document_quads(new))
    graph.close()
    stored = {q for q in quads(store) if q.graph_name.value == doc_iri("river")}
    assert stored == set(document_quads(new))
    assert any(isinstance(q.object, ox.Literal) and q.object.value == hostile for q in stored)


def test_remove_document_drops_only_its_graph(tmp_path):
    store = tmp_path / "store"
    docs = handmade_documents()
    write_documents(str(store), docs)
    graph = open_target(str(store))
    assert graph.remove_document(doc_iri("river")) is True
    assert graph.remove_document(doc_iri("river")) is False
    graph.close()
    assert quads(store) == set(document_quads(docs[1]))
    assert merged(store) == merge_of(quads(store))  # Halvik, in both documents, stays


def test_the_default_graph_is_the_merge_of_the_documents(tmp_path):
    store = tmp_path / "store"
    docs = handmade_documents()
    write_documents(str(store), docs)
    assert merged(store) == merge_of(quads(store))
    halvik_type = ox.Triple(ox.NamedNode(entity_iri(HALVIK)), ox.NamedNode(RDF_TYPE), ox.NamedNode(NG + "Person"))
    assert sum(1 for q in quads(store) if q.triple == halvik_type) == 2  # stated by both documents
    assert count_query(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ <{entity_iri(HALVIK)}> a ?c }}") == 1
    assert count_query(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }") == len(merged(store))
    assert count_query(store, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }") == len(quads(store))

    changed = document("river", "(no Halvik now)", [MAREN, KLA, VELMORA], [fact(KLA, "captured", VELMORA, "x")])
    graph = open_target(str(store))
    graph.put_document(doc_iri("river"), document_quads(changed))
    graph.close()
    assert merged(store) == merge_of(quads(store))
    assert halvik_type in merged(store)  # harbour still states it
    assert ox.Triple(ox.NamedNode(entity_iri(KLA)), ox.NamedNode(NG + "captured"), ox.NamedNode(entity_iri(OSTRAVA))) \
        not in merged(store)


def test_has_document_knows_the_content_hash(tmp_path):
    store = tmp_path / "store"
    docs = handmade_documents()
    write_documents(str(store), docs)
    graph = open_target(str(store))
    assert graph.has_document(doc_iri("river"), docs[0].content_hash)
    assert not graph.has_document(doc_iri("river"), docs[1].content_hash)
    assert not graph.has_document(doc_iri("elsewhere"), docs[0].content_hash)


def test_open_source_refuses_a_missing_path_and_a_plain_directory(tmp_path):
    with pytest.raises(StoreError, match="no graph at"):
        open_source(str(tmp_path / "missing"))
    with pytest.raises(StoreError, match="not an Oxigraph store"):
        open_source(str(tmp_path))


def test_rdf_xml_with_entities_is_refused(tmp_path):
    path = tmp_path / "bomb.rdf"
    path.write_text('<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "aaaa">]>\n'
                    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>\n')
    with pytest.raises(StoreError, match="DOCTYPE"):
        open_source(str(path))


def test_file_target_is_written_only_on_close(tmp_path):
    out = tmp_path / "graph.nq"
    graph = open_target(str(out))
    for d in handmade_documents():
        graph.put_document(doc_iri(d.article.id), document_quads(d))
    assert not out.exists()
    graph.close()
    written = set(ox.parse(path=str(out), format=ox.RdfFormat.N_QUADS))
    assert written == {q for d in handmade_documents() for q in document_quads(d)}
    halvik = entity_iri(HALVIK)
    assert {q.graph_name.value for q in written if q.subject.value == halvik} == {doc_iri("river"), doc_iri("harbour")}


def test_len_counts_what_a_dump_writes(tmp_path):
    docs = handmade_documents()
    every = {q for d in docs for q in document_quads(d)}
    for suffix, expected in (("ttl", len({q.triple for q in every})), ("nq", len(every))):
        graph = open_target(str(tmp_path / f"graph.{suffix}"))
        for d in docs:
            graph.put_document(doc_iri(d.article.id), document_quads(d))
        assert len(graph) == expected
        graph.close()
        assert len(open_source(str(tmp_path / f"graph.{suffix}"))) == expected
    write_documents(str(tmp_path / "store"), docs)
    store = open_source(str(tmp_path / "store"))
    assert len(store) == len({q.triple for q in every})  # a store counts what its queries see
    assert store.statements(ox.RdfFormat.N_QUADS) == len(every)
    store.close()


def test_a_dataset_counts_default_graph_triples_no_document_states(tmp_path):
    every = {q for d in handmade_documents() for q in document_quads(d)}
    loose = ox.Quad(ox.NamedNode("https://example.org/a"), ox.NamedNode("https://example.org/b"), ox.Literal("c"))
    stated_too = ox.Quad(*next(iter(every)).triple)  # in a document's graph and the default graph: written once
    path = tmp_path / "mixed.nq"
    path.write_bytes(ox.serialize([*every, loose, stated_too], format=ox.RdfFormat.N_QUADS))
    graph = open_source(str(path))
    assert len(graph) == len(every) + 1 == sum(1 for _ in graph.quads())
    assert graph.statements(ox.RdfFormat.TURTLE) == len({q.triple for q in every}) + 1


# ------------------------------------------------------------------ the backend table


@pytest.mark.parametrize("location, create, kind", [
    ("http://127.0.0.1:7878/query", False, "endpoint"),
    ("HTTPS://example.org/sparql", True, "endpoint"),
    ("graph.ttl", False, "file"),
    ("graph.ttl", True, "file"),
    ("store", True, "store"),
    ("store/", True, "store"),
    ("store", False, "file"),  # a graph to read must be there: a missing one is reported as a file would be
    ("-", True, "file"),  # which refuses it
])
def test_one_table_picks_the_backend(location, create, kind):
    from newsgraph.store import backend

    assert backend(location, create=create) == kind


def test_an_existing_directory_is_a_store_whatever_its_name(tmp_path):
    from newsgraph.store import backend

    (tmp_path / "odd.ttl").mkdir()
    assert backend(str(tmp_path / "odd.ttl")) == backend(str(tmp_path / "odd.ttl"), create=True) == "store"


def test_every_backend_offers_the_whole_interface(tmp_path):
    from newsgraph.store import BACKENDS, Graph

    methods = {name for name, value in vars(Graph).items() if callable(value) and
               (not name.startswith("_") or name in ("__len__", "__enter__", "__exit__"))}
    assert {"query", "put_ntriples", "remove_document", "statements", "close"} <= methods
    for backend in BACKENDS.values():
        missing = [m for m in sorted(methods) if not callable(getattr(backend, m, None))]
        assert not missing, f"{backend.__name__} lacks {missing}"
        assert isinstance(backend.reaches_network, bool)
        assert all(callable(getattr(backend, m, None)) for m in ("claims", "create", "open"))
    for location in (str(tmp_path / "s"), str(tmp_path / "g.nq"), str(tmp_path / "g.ttl")):
        graph = open_target(location)
        for attribute in Graph.__annotations__:
            assert hasattr(graph, attribute), (location, attribute)
        assert graph.keeps_documents == (not location.endswith(".ttl"))
        graph.close()


def test_queries_answer_with_newsgraph_results_and_one_line_errors(handmade_store):
    from newsgraph.errors import QueryError
    from newsgraph.results import Result

    graph = open_source(str(handmade_store))
    try:
        assert type(graph.query("ASK { ?s ?p ?o }")) is Result
        with pytest.raises(QueryError, match="^invalid SPARQL: ") as bad:
            graph.query("SELEC * WHERE { ?s ?p ?o }")
        assert "\n" not in str(bad.value)
        with pytest.raises(QueryError, match="^invalid graph IRI: "):
            graph.query("ASK { ?s ?p ?o }", default_graphs=["not an IRI"])
    finally:
        graph.close()


def test_locate_finds_a_graph_without_opening_it(tmp_path, handmade_store):
    from newsgraph.store import locate

    where = locate(str(handmade_store))
    assert (where.kind, where.keeps_documents, where.reaches_network) == ("store", True, False)
    assert pickle.loads(pickle.dumps(where)) == where  # it goes to the server's workers
    (tmp_path / "g.ttl").write_text("")
    assert not locate(str(tmp_path / "g.ttl")).keeps_documents
    assert locate("http://127.0.0.1:1/query").reaches_network  # not asked: nothing listens there
    with pytest.raises(StoreError, match="no graph at"):
        locate(str(tmp_path / "missing.nq"))
