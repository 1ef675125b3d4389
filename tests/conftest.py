"""Shared fixtures: the CLI driven through CliRunner, sample graphs, a canary HTTP server.

Two kinds of graph are used. ``handmade`` is built from records written here
(no model), so tests of query and export can count exact nodes and edges while
the extraction rules change. ``sample_ttl``/``sample_store`` come from the
real model on ``tests/data/articles/``; tests on them check plumbing, not
extraction quality.
"""
from __future__ import annotations

import gc
import http.server
import shutil
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pyoxigraph as ox
import pytest
from click.testing import CliRunner, Result

from newsgraph.build import content_hash, doc_iri, document_quads
from newsgraph.cli import main
from newsgraph.records import Article, DocumentResult, Entity, Evidence, Fact, Mention, Relation
from newsgraph.store import open_target

ARTICLES = Path(__file__).parent / "data" / "articles"
RIVER = ARTICLES / "river_offensive.txt"
HARBOUR = ARTICLES / "harbour_talks.txt"
FEED = ARTICLES / "feed.jsonl"
NG = "https://w3id.org/newsgraph/ontology#"

TYPED_ENTITIES = """
SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e a ?c . VALUES ?c { ng:Person ng:Organization ng:Location } }"""


class Cli:
    """Runs ``newsgraph`` in-process and checks the contract of its exits."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def run(self, *args, input: str | bytes | None = None) -> Result:
        result = self.runner.invoke(main, [str(a) for a in args], input=input)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception  # a crash that escaped the CLI: show it as the test's error
        return result

    def ok(self, *args, input: str | bytes | None = None) -> Result:
        result = self.run(*args, input=input)
        assert result.exit_code == 0, f"exit {result.exit_code}: {result.stderr}"
        return result

    def fail(self, *args, input: str | bytes | None = None, code: int = 1) -> str:
        """The one error line of a run that must fail with ``code``."""
        result = self.run(*args, input=input)
        exit_code, stdout, stderr, output = result.exit_code, result.stdout, result.stderr, result.output
        # A failed in-process run keeps its frames, and so an open store, in reference cycles
        # until they are collected; a real `newsgraph` process exits instead.
        del result
        gc.collect()
        assert exit_code == code, f"exit {exit_code}, stdout {stdout!r}, stderr {stderr!r}"
        lines = stderr.splitlines()
        assert len(lines) == 1, f"expected one line on stderr, got {lines!r}"
        assert "Traceback" not in output
        assert "internal error" not in lines[0], lines[0]
        return lines[0]


@pytest.fixture
def cli() -> Cli:
    return Cli()


def triple_count(path: Path) -> int:
    """Triples (or quads) in an RDF file, checked to agree between rdflib and pyoxigraph."""
    import rdflib

    from newsgraph.store import rdf_format

    fmt = rdf_format(path)
    theirs = len(list(ox.parse(path=str(path), format=fmt)))
    rdflib_format = {"ttl": "turtle", "nt": "nt", "nq": "nquads", "trig": "trig", "jsonld": "json-ld"}[path.suffix[1:]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # rdflib's Dataset internals
        if fmt.supports_datasets:
            ds = rdflib.Dataset()
            ds.parse(path, format=rdflib_format)
            ours = len(list(ds.quads((None, None, None, None))))
        else:
            ours = len(rdflib.Graph().parse(path, format=rdflib_format))
    assert ours == theirs, f"{path.name}: rdflib reads {ours}, pyoxigraph reads {theirs}"
    return ours


def count_query(graph_path: Path | str, sparql: str = TYPED_ENTITIES) -> int:
    from newsgraph.query import run
    from newsgraph.store import open_source

    g = open_source(str(graph_path))
    try:
        return int(run(g, sparql).rows[0][0].value)
    finally:
        g.close()


# ------------------------------------------------------------ handmade graph


def _mention(text: str, cls: str) -> Mention:
    return Mention(0, len(text), text, cls, 0)


def fact(subject: Entity, prop: str, obj: Entity, sentence: str, modality: str = "asserted") -> Fact:
    rel = Relation(prop, _mention(subject.label, subject.cls), _mention(obj.label, obj.cls),
                   Evidence(sentence, 0, len(sentence), prop, f"{prop}.test"), modality=modality)
    return Fact(subject, rel, obj)


def document(doc_id: str, text: str, entities: list[Entity], facts: list[Fact], **meta) -> DocumentResult:
    article = Article(doc_id, text, **meta)
    return DocumentResult(article, tuple(entities), tuple(facts), content_hash(article))


MAREN = Entity("Idris Maren", "Person", ("Maren",), 3)
HALVIK = Entity("Tomas Halvik", "Person", ("Halvik",), 2)
CASTELL = Entity("Lena Castell", "Person", (), 1)
KLA = Entity("Kessarine Liberation Army", "Organization", ("KLA",), 2)
MILITIA = Entity("Southern Coast Militia", "Organization", (), 1)
VELMORA = Entity("Velmora", "Location", (), 2)
OSTRAVA = Entity("Ostrava", "Location", (), 1)
CORVANNE = Entity("Corvanne", "Location", (), 1)
DRAVENPORT = Entity("Dravenport", "Location", (), 1)
MARROW = Entity("Marrow Bay", "Location", (), 1)


def handmade_documents() -> list[DocumentResult]:
    """Two documents: 10 typed entities (Halvik in both); 3 captured, 2 metWith, 1 alliedTo fact; 1 planned capture."""
    d1 = document("river", "(text of the river report)",
                  [MAREN, HALVIK, KLA, VELMORA, OSTRAVA, CORVANNE],
                  [fact(KLA, "captured", VELMORA, "The KLA captured Velmora."),
                   fact(KLA, "captured", OSTRAVA, "The KLA captured Ostrava."),
                   fact(HALVIK, "metWith", MAREN, "Halvik met Maren in Corvanne."),
                   fact(MAREN, "alliedTo", KLA, "Maren allied with the KLA.")],
                  title="River offensive", date="2024-04-10", url="https://news.example.org/river")
    d2 = document("harbour", "(text of the harbour report)",
                  [CASTELL, HALVIK, MILITIA, DRAVENPORT, MARROW],
                  [fact(CASTELL, "metWith", HALVIK, "Castell met Halvik in Dravenport."),
                   fact(MILITIA, "captured", MARROW, "The militia captured Marrow Bay."),
                   fact(MILITIA, "captured", DRAVENPORT, "The militia plans to capture Dravenport.", modality="planned")])
    return [d1, d2]


HANDMADE_ENTITIES = 10
HANDMADE_EDGES = {"captured": 3, "metWith": 2, "alliedTo": 1}


def write_documents(target: str, docs: list[DocumentResult]) -> None:
    graph = open_target(target)
    for d in docs:
        graph.put_document(doc_iri(d.article.id), document_quads(d))
    graph.close()


@pytest.fixture(scope="session")
def handmade_ttl(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("handmade") / "graph.ttl"
    write_documents(str(path), handmade_documents())
    return path


@pytest.fixture
def handmade_store(tmp_path) -> Path:
    """A fresh store per test: some tests try to change it."""
    path = tmp_path / "store"
    write_documents(str(path), handmade_documents())
    return path


# ------------------------------------------------------------ model-built graphs


@pytest.fixture(scope="session")
def sample_ttl(tmp_path_factory) -> Path:
    """Every article under tests/data/articles/ built with the real model."""
    path = tmp_path_factory.mktemp("sample") / "graph.ttl"
    Cli().ok("build", ARTICLES, "-o", path, "-q")
    return path


@pytest.fixture(scope="session")
def sample_store_master(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sample") / "store"
    Cli().ok("build", ARTICLES, "-o", path, "-q")
    return path


@pytest.fixture
def sample_store(sample_store_master, tmp_path) -> Path:
    """A private copy of the model-built store."""
    path = tmp_path / "store"
    shutil.copytree(sample_store_master, path, ignore=shutil.ignore_patterns("LOCK"))
    return path


# ------------------------------------------------------------ canary server


@dataclass
class Canary:
    url: str
    requests: list[str]


@contextmanager
def canary_server() -> Iterator[Canary]:
    """An HTTP server on 127.0.0.1 that records every request it gets ("POST /path")."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            seen.append(f"{self.command} {self.path}")
            self.send_response(200)
            self.send_header("Content-Type", "text/turtle")
            self.end_headers()
            self.wfile.write(b"<urn:canary> <urn:was> <urn:reached> .\n")

        do_POST = do_GET

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield Canary(f"http://127.0.0.1:{server.server_address[1]}/", seen)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def canary():
    """A canary server for one test: nothing should ever reach it."""
    with canary_server() as c:
        yield c


# ------------------------------------------------------------ headless Chromium

CHROMIUM = "/usr/bin/chromium"  # Debian's; the tests never download a browser


@pytest.fixture(scope="module")
def browser():
    """The system Chromium under Playwright (the browser tests skip themselves when either is missing)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture(scope="session")
def nlp():
    """The English model, loaded once for every test that parses."""
    from newsgraph.nlp import load

    return load()


@pytest.fixture(scope="session")
def extractor(nlp):
    from newsgraph.extract import Extractor

    return Extractor(nlp)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A read-only ``newsgraph serve`` over the handmade graph, for the serve and query-endpoint paths."""
    from test_serve import start, stop

    path = tmp_path_factory.mktemp("served") / "handmade.nq"
    write_documents(str(path), handmade_documents())
    endpoint = start(path)
    yield endpoint
    stop(endpoint)
