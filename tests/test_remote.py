"""A remote store: newsgraph building into, querying and exporting a real Oxigraph server over SPARQL."""
from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest

from helpers import (
    ARTICLES,
    HALVIK,
    HANDMADE_EDGES,
    HANDMADE_ENTITIES,
    MAREN,
    NG,
    document,
    fact,
    handmade_documents,
    triple_count,
    write_documents,
)
from newsgraph.build import doc_iri, document_quads
from newsgraph.errors import FormatError, QueryError, StoreError
from newsgraph.remote import RemoteGraph, update_endpoint
from newsgraph.store import open_source, open_target

CAPTURED = "SELECT ?s ?o WHERE { ?s ng:captured ?o } ORDER BY ?s ?o"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Oxigraph:
    base: str

    @property
    def query_url(self) -> str:
        return f"{self.base}/query"


@pytest.fixture
def oxigraph(tmp_path):
    """A fresh Oxigraph server (the PyPI ``oxigraph`` package's binary) on a free loopback port."""
    beside = Path(sys.executable).parent / "oxigraph"  # the venv's bin/, which need not be on PATH
    binary = str(beside) if beside.exists() else shutil.which("oxigraph")
    if binary is None:
        pytest.skip("the oxigraph server binary is not installed (pip install oxigraph)")
    port = free_port()
    process = subprocess.Popen([binary, "serve", "--location", str(tmp_path / "oxigraph"), "--bind", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            urllib.request.urlopen(f"{base}/query?query=ASK%7B%7D", timeout=1).close()
            break
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"oxigraph serve did not start: {process.stderr.read().decode(errors='replace')[-500:]}")
            time.sleep(0.05)
    yield Oxigraph(base)
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def quad_set(graph) -> set[ox.Quad]:
    return set(graph.quads())


# ------------------------------------------------------------------ building


@pytest.mark.model
def test_building_the_articles_twice_into_oxigraph_adds_nothing(cli, oxigraph, sample_store_master):
    first = cli.ok("build", ARTICLES, "-o", oxigraph.query_url)
    added = re.search(r"(\d+) articles added, 0 unchanged", first.stderr)
    assert added and int(added.group(1)) >= 3, first.stderr
    remote = open_source(oxigraph.query_url)
    before = quad_set(remote)
    second = cli.ok("build", ARTICLES, "-o", oxigraph.query_url)
    assert f"0 articles added, {added.group(1)} unchanged" in second.stderr
    assert quad_set(remote) == before
    # The server holds what the embedded store holds, and answers the same.
    local = open_source(str(sample_store_master))
    try:
        assert before == quad_set(local)
        assert remote.statements() == local.statements() == len({q.triple for q in before})
        assert remote.statements(ox.RdfFormat.N_QUADS) == local.statements(ox.RdfFormat.N_QUADS) == len(before)
        assert set(remote.triples()) == set(local.triples())
    finally:
        local.close()


def test_documents_written_twice_leave_the_same_graph(oxigraph, handmade_ttl):
    write_documents(oxigraph.query_url, handmade_documents())
    remote = open_source(oxigraph.query_url)
    once = quad_set(remote)
    write_documents(oxigraph.query_url, handmade_documents())
    assert quad_set(remote) == once
    assert len(once) == remote.statements(ox.RdfFormat.N_QUADS) > 0
    assert remote.statements(ox.RdfFormat.TURTLE) == triple_count(handmade_ttl)


def test_the_default_graph_is_the_merge_of_the_documents(oxigraph, tmp_path):
    """Replacing and removing documents keeps the merge right, exactly as the embedded store does."""
    river, harbour = handmade_documents()
    changed = document("river", "(a new version)", [MAREN, HALVIK], [fact(HALVIK, "metWith", MAREN, "They met again.")])
    remote = open_target(oxigraph.query_url)
    local = open_target(str(tmp_path / "store"))
    for g in (remote, local):
        for d in (river, harbour, changed):
            g.put_document(doc_iri(d.article.id), document_quads(d))
    assert quad_set(remote) == quad_set(local)
    assert set(remote.triples()) == set(local.triples())
    assert remote.remove_document(doc_iri("harbour")) and local.remove_document(doc_iri("harbour"))
    assert not remote.remove_document(doc_iri("harbour"))
    assert quad_set(remote) == quad_set(local)
    assert set(remote.triples()) == set(local.triples())
    local.close()
    remote.close()


def test_documents_are_sent_in_batches(oxigraph, monkeypatch):
    sent: list[str] = []
    original = RemoteGraph._update
    monkeypatch.setattr(RemoteGraph, "_update", lambda self, text: (sent.append(text), original(self, text))[1])
    graph = RemoteGraph(oxigraph.query_url, batch_documents=2)
    docs = handmade_documents() * 3  # the same two documents again: still one update each, in batches of two
    for i, d in enumerate(docs):
        graph.put_document(doc_iri(f"{d.article.id}-{i}"), document_quads(d))
    graph.close()
    assert len(sent) == 3
    assert graph.statements() > 0


def test_terms_reach_the_server_intact(oxigraph):
    """Literals with quotes, backslashes, escapes, controls and astral characters survive INSERT DATA."""
    texts = ['say "no"', "back\\slash \\u0041 \\n", "line\nbreak\r\ttab", "nul\x00 bell\x07 del\x7f",
             "\u2028 é 𝄞 \ufeff", "日本語", ""]
    doc = doc_iri("odd")
    quads = [ox.Quad(ox.NamedNode(doc), ox.NamedNode(NG + "sentence"), ox.Literal(t), ox.NamedNode(doc)) for t in texts]
    quads.append(ox.Quad(ox.NamedNode(doc), ox.NamedNode(NG + "sentence"), ox.Literal("fr", language="fr-CA"), ox.NamedNode(doc)))
    graph = open_target(oxigraph.query_url)
    graph.put_document(doc, quads)
    graph.close()
    back = {q.object for q in open_source(oxigraph.query_url).quads() if isinstance(q.graph_name, ox.NamedNode)}
    assert back == {q.object for q in quads}


# ------------------------------------------------------------------ one interface, three backends

ANSWERS = [  # (query, options): each backend must give the same Result
    ("SELECT ?s ?o ?label WHERE { ?s ng:captured ?o OPTIONAL { ?o rdfs:label ?label } } ORDER BY ?s ?o ?label", {}),
    ("SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o", {"max_rows": 3}),
    ("ASK { ?s ng:metWith ?o }", {}),
    ("ASK { ?s ng:metWith ?s }", {}),
    ("CONSTRUCT { ?s ng:captured ?o } WHERE { ?s ng:captured ?o }", {}),
    ("CONSTRUCT WHERE { ?s ?p ?o }", {"max_rows": 2}),
    ("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", {"default_graphs": [doc_iri("river")]}),
    ("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g", {"named_graphs": [doc_iri("harbour")]}),
]


def _answer(result) -> tuple:
    triples = None if result.triples is None else len(result.triples) if result.truncated else set(result.triples)
    return result.kind, result.variables, result.rows, result.boolean, triples, result.truncated


def test_the_three_backends_answer_alike_with_newsgraph_results(oxigraph, tmp_path):
    from newsgraph.resources import PREFIXES
    from newsgraph.results import Result

    graphs = {"endpoint": oxigraph.query_url, "store": str(tmp_path / "store"), "file": str(tmp_path / "g.nq")}
    for location in graphs.values():
        write_documents(location, handmade_documents())
    opened = {kind: open_source(location) for kind, location in graphs.items()}
    try:
        for sparql, options in ANSWERS:
            answers = {kind: g.query(sparql, prefixes=PREFIXES, **options) for kind, g in opened.items()}
            assert all(type(a) is Result for a in answers.values())
            assert _answer(answers["endpoint"]) == _answer(answers["store"]) == _answer(answers["file"]), sparql
            assert answers["file"].rows or answers["file"].kind != "select", sparql  # each query finds something
        truncated = opened["file"].query("CONSTRUCT WHERE { ?s ?p ?o }", max_rows=2)
        assert truncated.truncated and len(truncated.triples) == 2
    finally:
        for g in opened.values():
            g.close()


# ------------------------------------------------------------------ reading through the CLI


def test_query_and_export_against_the_server(cli, oxigraph, handmade_ttl, tmp_path):
    write_documents(oxigraph.query_url, handmade_documents())
    nq = tmp_path / "handmade.nq"
    write_documents(str(nq), handmade_documents())
    assert cli.ok("query", oxigraph.query_url, CAPTURED, "--format", "csv").stdout == \
        cli.ok("query", handmade_ttl, CAPTURED, "--format", "csv").stdout
    construct = "CONSTRUCT { ?s ng:captured ?o } WHERE { ?s ng:captured ?o }"
    assert cli.ok("query", oxigraph.query_url, construct).stdout == cli.ok("query", handmade_ttl, construct).stdout
    assert cli.ok("query", oxigraph.query_url, "ASK { ?s ng:metWith ?o }").stdout == "yes\n"

    page = tmp_path / "graph.html"
    result = cli.ok("export", oxigraph.query_url, "-o", page)
    assert f"{HANDMADE_ENTITIES} nodes, {sum(HANDMADE_EDGES.values())} edges" in result.stderr
    assert "Kessarine Liberation Army" in page.read_text(encoding="utf-8")
    for suffix in ("ttl", "nq"):
        ours, theirs = tmp_path / f"remote.{suffix}", tmp_path / f"file.{suffix}"
        cli.ok("export", oxigraph.query_url, "-o", ours)
        cli.ok("export", handmade_ttl if suffix == "ttl" else nq, "-o", theirs)
        assert triple_count(ours) == triple_count(theirs)
    sub = tmp_path / "captured.ttl"
    cli.ok("export", oxigraph.query_url, "-o", sub, "--relation", "captured")
    local_sub = tmp_path / "captured-local.ttl"
    cli.ok("export", handmade_ttl, "-o", local_sub, "--relation", "captured")
    assert sub.read_bytes() == local_sub.read_bytes()


def test_separate_update_url(cli, oxigraph):
    assert update_endpoint("http://h:1/query") == "http://h:1/update"
    assert update_endpoint("http://h:1/ds/query?x=1") == "http://h:1/ds/update?x=1"
    assert update_endpoint("http://h:1/sparql") == "http://h:1/sparql"
    graph = RemoteGraph(f"{oxigraph.base}/query", update_url=f"{oxigraph.base}/update", writable=True)
    river = handmade_documents()[0]
    graph.put_document(doc_iri(river.article.id), document_quads(river))
    graph.close()
    assert graph.has_document(doc_iri(river.article.id), river.content_hash)
    line = cli.fail("build", ARTICLES, "-o", f"{oxigraph.base}/query", "--update-url", f"{oxigraph.base}/nowhere")
    assert f"{oxigraph.base}/nowhere refused the update: HTTP 404" in line
    line = cli.fail("build", ARTICLES, "-o", "out.ttl", "--update-url", f"{oxigraph.base}/update")
    assert "goes with a SPARQL endpoint" in line


# ------------------------------------------------------------------ errors


def test_an_unreachable_server_is_one_clear_line(cli, tmp_path):
    url = f"http://127.0.0.1:{free_port()}/query"
    started = time.monotonic()
    line = cli.fail("build", ARTICLES, "-o", url)
    assert time.monotonic() - started < 5  # before the model is loaded
    assert line == f"Error: cannot reach SPARQL endpoint {url}: connection refused (is the server running, on that port?)"
    assert "connection refused" in cli.fail("query", url, "ASK {}")
    assert "connection refused" in cli.fail("export", url, "-o", tmp_path / "x.html")


def test_refusals_name_the_status_and_the_reason(cli, oxigraph):
    line = cli.fail("query", oxigraph.query_url, "SELECT ?s WHERE { ?s ?p }")
    assert line.startswith(f"Error: SPARQL endpoint {oxigraph.query_url} refused the query: HTTP 400 Bad Request: ")
    assert "HTTP 404 Not Found" in cli.fail("query", f"{oxigraph.base}/nothing", "ASK {}")
    with pytest.raises(QueryError):
        open_source(oxigraph.query_url).query("SELEC")
    for bad in ("http://", "http://user:secret@127.0.0.1:1/query", "http://127.0.0.1:99999/query"):
        with pytest.raises(FormatError):
            RemoteGraph(bad)


def test_a_server_that_never_answers_times_out():
    with socket.socket() as silent:  # accepts connections (the kernel does) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/query"
        started = time.monotonic()
        with pytest.raises(StoreError, match=r"no answer within 0\.5 s|did not answer within 0\.5 s"):
            RemoteGraph(url, timeout=0.5)
        assert time.monotonic() - started < 3
