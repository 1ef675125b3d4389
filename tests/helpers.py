"""What the test modules share: paths, the CLI runner, graph counters, handmade records, servers.

Test modules import these from here and never from each other (or from conftest);
conftest.py turns some of them into fixtures.
"""
from __future__ import annotations

import gc
import os
import random
import re
import select
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner, Result

from newsgraph.build import content_hash, doc_iri, document_quads
from newsgraph.cli import main
from newsgraph.query import run
from newsgraph.records import Article, DocumentResult, Entity, Evidence, Fact, Mention, Relation
from newsgraph.store import open_source, open_target, rdf_format

ARTICLES = Path(__file__).parent / "data" / "articles"
RIVER = ARTICLES / "river_offensive.txt"
HARBOUR = ARTICLES / "harbour_talks.txt"
FEED = ARTICLES / "feed.jsonl"
NG = "https://w3id.org/newsgraph/ontology#"

SEED_VARIABLE = "NEWSGRAPH_TEST_SEED"

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
HOSTILE = Path(__file__).parent / "data" / "hostile"



# ------------------------------------------------------------ seeds


@cache
def run_seed() -> int:
    """This run's seed: ``NEWSGRAPH_TEST_SEED`` when set, else a fresh one, the same for the whole run."""
    value = os.environ.get(SEED_VARIABLE, "").strip()
    if not value:
        return random.SystemRandom().randrange(2**32)
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{SEED_VARIABLE}={value!r} is not an integer") from None


def random_seed(fixed: int | None = None) -> int:
    """The seed of a randomised test, printed so that a failure's captured output says how to rerun it.

    ``NEWSGRAPH_TEST_SEED`` wins; otherwise ``fixed`` (for a test that draws the same cases every run)
    or this run's fresh seed.
    """
    value = run_seed() if os.environ.get(SEED_VARIABLE, "").strip() or fixed is None else fixed
    print(f"seed {value}: rerun with {SEED_VARIABLE}={value}")
    return value

# ------------------------------------------------------------ the hostile corpus, driven by its README


def hostile_table() -> dict[str, str]:
    rows = re.findall(r"^\| `([^`]+)` \| .* \| ([^|]+) \|$", (HOSTILE / "README.md").read_text(), re.M)
    return {name: expected.strip() for name, expected in rows}


# ------------------------------------------------------------ graph counters


def triple_count(path: Path) -> int:
    """Triples (or quads) in an RDF file, checked to agree between rdflib and pyoxigraph."""
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


# ------------------------------------------------------------ canary server


@dataclass
class Canary:
    url: str
    requests: list[str]


@contextmanager
def canary_server() -> Iterator[Canary]:
    """An HTTP server on 127.0.0.1 that records every request it gets ("POST /path")."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            seen.append(f"{self.command} {self.path}")
            self.send_response(200)
            self.send_header("Content-Type", "text/turtle")
            self.end_headers()
            self.wfile.write(b"<urn:canary> <urn:was> <urn:reached> .\n")

        do_POST = do_GET

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield Canary(f"http://127.0.0.1:{server.server_address[1]}/", seen)
    finally:
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------ headless Chromium

CHROMIUM = "/usr/bin/chromium"  # Debian's; the tests never download a browser


# ------------------------------------------------------------ newsgraph serve in a subprocess


@dataclass
class Endpoint:
    process: subprocess.Popen
    url: str  # …/sparql

    @property
    def root(self) -> str:
        return self.url[: -len("/sparql")]

    def workers(self) -> list[int]:
        """Process ids of the server's children (its query workers)."""
        pids = []
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            try:
                pids += [int(p) for p in (task / "children").read_text().split()]
            except FileNotFoundError:  # a thread that ended meanwhile (one that reaped a killed worker)
                pass
        return pids


def start(graph, *options, wait: float = 20) -> Endpoint:
    process = subprocess.Popen([sys.executable, "-m", "newsgraph.cli", "serve", str(graph), "--port", "0", *map(str, options)],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + wait
    seen = []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stderr], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        line = process.stderr.readline()
        if not line:
            break
        seen.append(line)
        if line.startswith("serving ") and " at http://" in line:
            return Endpoint(process, line.split(" at ", 1)[1].split()[0])
    process.kill()
    process.wait()
    pytest.fail(f"newsgraph serve did not start: {''.join(seen)}")


def stop(endpoint: Endpoint) -> None:
    endpoint.process.terminate()
    try:
        endpoint.process.wait(10)
    except subprocess.TimeoutExpired:
        endpoint.process.kill()
        endpoint.process.wait()


def http(url: str, data: bytes | str | None = None, headers: dict | None = None, method: str | None = None,
         timeout: float = 30) -> tuple[int, dict, bytes]:
    """(status, headers, body) of one request, error statuses included."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def form(**fields) -> bytes:
    return urllib.parse.urlencode(fields).encode()


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
