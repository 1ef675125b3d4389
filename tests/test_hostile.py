"""Hostile inputs through the whole CLI (GitHub issue 6): no query path reaches another server,
runaway queries and entity bombs are stopped, every hostile article file builds or fails cleanly,
and a full disk leaves a store that reopens whole.

test_query.py and test_serve.py check single guards; here one table of remote-reaching query
shapes goes through every path a query can take (``query FILE``, ``query STOREDIR``,
``query ENDPOINT``, ``export --query`` and ``serve``) with a canary server counting requests.
"""
from __future__ import annotations

import gc
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from helpers import FORM, HOSTILE, canary_server, count_query, form, hostile_table, http

REFUSED = re.compile(r"^Error: (SERVICE|LOAD) is (not allowed|a SPARQL update)")

# name -> (dataset clause, WHERE body or a whole update, refused?). {u} is the canary's URL.
SHAPES = {
    "service-iri": ("", "SERVICE <{u}sparql> {{ ?s ?p ?o }}", True),
    "service-var-values": ("", "VALUES ?svc {{ <{u}a> <{u}b> }} SERVICE ?svc {{ ?s ?p ?o }}", True),
    "service-silent": ("", "SERVICE SILENT <{u}> {{ ?s ?p ?o }}", True),
    "service-in-subquery": ("", "{{ SELECT ?s ?p ?o WHERE {{ SERVICE <{u}> {{ ?s ?p ?o }} }} }}", True),
    "service-in-optional": ("", "?s ?p ?o OPTIONAL {{ SERVICE <{u}> {{ ?s ?p ?o }} }}", True),
    "service-in-union": ("", "{{ ?s ?p ?o }} UNION {{ SERVICE SILENT <{u}> {{ ?s ?p ?o }} }}", True),
    "service-lowercase": ("", "service <{u}> {{ ?s ?p ?o }}", True),
    "service-prefixed-name": ("", "SERVICE canary:x {{ ?s ?p ?o }}", True),
    "load": (None, "LOAD <{u}data.ttl>", True),
    "load-silent-into": (None, "load silent <{u}data.ttl> INTO GRAPH <urn:g>", True),
    "from": ("FROM <{u}data.ttl>", "?s ?p ?o", False),
    "from-named": ("FROM NAMED <{u}data.ttl>", "GRAPH ?g {{ ?s ?p ?o }}", False),
    "from-file": ("FROM <file:///etc/passwd>", "?s ?p ?o", False),
    "from-named-file": ("FROM NAMED <file:///etc/hostname>", "GRAPH ?g {{ ?s ?p ?o }}", False),
}
PATHS = ["query-file", "query-store", "query-endpoint", "export-query", "serve"]


def shape_text(name: str, url: str, construct: bool) -> str:
    dataset, body, _ = SHAPES[name]
    body = body.format(u=url)
    if dataset is None:
        return body  # an update: the same text whatever the path
    head = "CONSTRUCT { ?s ?p ?o }" if construct else "SELECT *"
    return f"PREFIX canary: <{url}>\n{head} {dataset.format(u=url)} WHERE {{ {body} }}"


@pytest.fixture(scope="module")
def _canary_server():
    """conftest's canary, but one per module: stopping a server takes half a second, and there are ~80 tests here."""
    with canary_server() as c:
        yield c


@pytest.fixture
def canary(_canary_server):
    """Each test starts with no request recorded (and a test that let one through fails itself)."""
    _canary_server.requests.clear()
    return _canary_server


# ``served``: the read-only server over the handmade graph, from conftest.


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_no_query_path_reaches_another_server(cli, canary, handmade_ttl, handmade_store, served, tmp_path, path, shape):
    refused = SHAPES[shape][2]
    text = shape_text(shape, canary.url, construct=path == "export-query")
    if path == "serve":
        status, _, body = http(served.url, form(query=text), FORM)
        if refused:
            assert status in (400, 403) and b"is not allowed" in body, (status, body)
        else:
            assert status == 200, (status, body)
        if SHAPES[shape][1].startswith(("LOAD", "load")):  # sent as an update too
            status, _, body = http(served.url, form(update=text), FORM)
            assert status in (400, 403), (status, body)
    elif path == "export-query":
        rq = tmp_path / "x.rq"
        rq.write_text(text, encoding="utf-8")
        out = tmp_path / "y.html"
        if refused:
            assert REFUSED.match(cli.fail("export", handmade_ttl, "--query", rq, "-o", out))
            assert not out.exists()
        else:  # FROM picks no graph of ours, so the answer is empty: an empty network
            assert cli.ok("export", handmade_ttl, "--query", rq, "-o", out).stderr.startswith("0 nodes, 0 edges")
    else:
        graph = {"query-file": handmade_ttl, "query-store": handmade_store, "query-endpoint": served.url}[path]
        if refused:
            assert REFUSED.match(cli.fail("query", graph, text))
        else:
            cli.ok("query", graph, text, "--format", "csv")
    assert canary.requests == []


def test_an_empty_graph_exports_to_html(cli, tmp_path):
    empty = tmp_path / "empty.nt"
    empty.write_text("")
    cli.ok("export", empty, "-o", tmp_path / "y.html")


JSONLD_CONTEXTS = {
    "context-url": lambda u: f"{u}ctx.jsonld",
    "context-list": lambda u: [{"ex": "http://example.org/"}, f"{u}ctx.jsonld"],
    "context-import": lambda u: {"@version": 1.1, "@import": f"{u}ctx.jsonld"},
}


@pytest.mark.parametrize("command", ["query", "export", "serve"])
@pytest.mark.parametrize("context", sorted(JSONLD_CONTEXTS))
def test_a_jsonld_remote_context_is_never_fetched(cli, canary, tmp_path, command, context):
    path = tmp_path / "ctx.jsonld"
    path.write_text(json.dumps({"@context": JSONLD_CONTEXTS[context](canary.url), "@id": "urn:a", "name": "x"}))
    if command == "query":
        line = cli.fail("query", path, "SELECT * WHERE { ?s ?p ?o }")
    elif command == "export":
        line = cli.fail("export", path, "-o", tmp_path / "y.html")
    else:
        run = subprocess.run([sys.executable, "-m", "newsgraph.cli", "serve", str(path), "--port", "0"],
                             stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
        assert run.returncode == 1 and run.stdout == ""
        [line] = run.stderr.splitlines()
    assert line.startswith(f"Error: '{path}' is not valid JSON-LD: ") and "context" in line, line
    assert canary.requests == []


# ------------------------------------------------------------------ runaway queries


@pytest.mark.parametrize("command", ["query", "export"])
def test_a_cross_join_is_stopped_within_the_limit(tmp_path, command):
    """A 3-way cross join over 1,000 triples (10^9 rows) under --timeout 1, timed from outside."""
    path = tmp_path / "thousand.nt"
    path.write_text("".join(f'<urn:s{i}> <urn:p{i % 7}> "{i}" .\n' for i in range(1000)), encoding="utf-8")
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }"
    rq = tmp_path / "slow.rq"
    rq.write_text(f"CONSTRUCT {{ <urn:x> <urn:n> ?n }} WHERE {{ {{ {count} }} }}")
    if command == "query":
        base = [sys.executable, "-m", "newsgraph.cli", "query", str(path)]
        quick, slow = base + ["ASK { ?s ?p ?o }"], base + [count, "--timeout", "1"]
    else:
        base = [sys.executable, "-m", "newsgraph.cli", "export", str(path), "-o", str(tmp_path / "x.graphml")]
        quick, slow = base, base + ["--query", str(rq), "--timeout", "1"]
    started = time.monotonic()
    assert subprocess.run(quick, capture_output=True, timeout=60).returncode == 0
    startup = time.monotonic() - started
    started = time.monotonic()
    run = subprocess.run(slow, capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - started
    assert run.returncode == 1
    assert run.stderr.splitlines() == ["Error: query stopped after 1 s (raise the limit with --timeout)"]
    assert elapsed - startup < 1 + 1, f"took {elapsed:.2f} s (startup {startup:.2f} s)"


# ------------------------------------------------------------------ entity bombs

_RDF = '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">' \
       '<rdf:Description rdf:about="urn:x"><ex:p>&i;</ex:p></rdf:Description></rdf:RDF>\n'
_LAUGHS = ('<!DOCTYPE rdf:RDF [\n<!ENTITY a "aaaaaaaaaa">\n'
           + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">\n' for i in range(8)) + "]>\n")
BOMBS = {
    "doctype": '<?xml version="1.0"?>\n' + _LAUGHS + _RDF,
    "lowercase": '<?xml version="1.0"?>\n' + _LAUGHS.replace("<!DOCTYPE", "<!doctype").replace("<!ENTITY", "<!entity") + _RDF,
    # a DOCTYPE may follow comments of any length: a check of the file's head alone misses it (this expands to 1 GB)
    "after-a-long-comment": '<?xml version="1.0"?>\n<!--' + "x" * 200_000 + "-->\n" + _LAUGHS + _RDF,
}


# Starts the CLI and prints its peak RSS. A process started straight from pytest would report pytest's
# own peak as its own (Linux keeps the high-water mark across fork and exec), so a small launcher starts it.
_LAUNCHER = """import os, subprocess, sys
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(p.pid, 0)
print(usage.ru_maxrss)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def _run_measured(args: list[str]) -> tuple[int, str, float, int]:
    """(exit code, stderr, seconds, peak RSS in MB) of one CLI run in its own process."""
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-c", _LAUNCHER, sys.executable, "-m", "newsgraph.cli", *args],
                         capture_output=True, text=True)
    return run.returncode, run.stderr, time.monotonic() - started, int(run.stdout) // 1024


@pytest.mark.parametrize("suffix", ["rdf", "owl"])
@pytest.mark.parametrize("command", ["query", "export"])
@pytest.mark.parametrize("bomb", sorted(BOMBS))
def test_rdfxml_entity_bombs_are_refused_quickly(tmp_path, bomb, command, suffix):
    path = tmp_path / f"lol.{suffix}"
    path.write_text(BOMBS[bomb], encoding="utf-8")
    args = ["query", str(path), "SELECT * WHERE { ?s ?p ?o }"] if command == "query" else \
        ["export", str(path), "-o", str(tmp_path / "y.html")]
    code, stderr, seconds, peak_mb = _run_measured(args)
    assert code == 1
    assert stderr.splitlines() == [f"Error: '{path}' declares a DOCTYPE or entities; newsgraph does not read those in RDF/XML"]
    assert seconds < 2, f"took {seconds:.2f} s"
    assert peak_mb < 400, f"peak RSS {peak_mb} MB"
    assert not (tmp_path / "y.html").exists()


# ------------------------------------------------------------------ the hostile article corpus

DOCUMENTS = "SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE { ?d a ng:Document }"


@pytest.mark.model
@pytest.mark.parametrize(("name", "expected"), sorted(hostile_table().items()))
def test_every_hostile_file_builds_or_fails_in_one_line(cli, tmp_path, name, expected):
    source, out = HOSTILE / name, tmp_path / "out.ttl"
    if expected.startswith("fatal: "):
        line = cli.fail("build", source, "-o", out)
        assert expected.removeprefix("fatal: ") in line
        assert not out.exists()
        return
    good, skipped = map(int, re.fullmatch(r"(\d+) good, (\d+) skipped", expected).groups())
    result = cli.run("build", source, "-o", out)
    assert result.exit_code == (3 if skipped else 0), result.stderr
    assert "Traceback" not in result.output and "internal error" not in result.output
    *skips, summary = result.stderr.splitlines()
    assert summary.startswith(f"{good} article{'s' if good != 1 else ''} added, 0 unchanged, {skipped} skipped;")
    assert len(skips) == skipped
    for line in skips:
        assert re.match(rf"skipped {re.escape(str(source))}:\d+: \S", line), line
    assert count_query(out, DOCUMENTS) == good


# ------------------------------------------------------------------ a full disk


def _feed(path: Path, first: int, n: int) -> list[str]:
    ids = [f"a{i}" for i in range(first, first + n)]
    with open(path, "w", encoding="utf-8") as f:
        for doc_id, i in zip(ids, range(first, first + n)):
            text = f"The Kessarine Liberation Army captured Velmora{i} on Monday. Idris Maren{i} met Tomas Halvik in Corvanne. "
            f.write(json.dumps({"id": doc_id, "text": text * 3}) + "\n")
    return ids


def _graphs(location: str) -> dict[str, set]:
    """Each document graph's quads (as text) of a store or dataset file."""
    store = ox.Store(location) if Path(location).is_dir() else ox.Store()
    if not Path(location).is_dir():
        store.load(path=location, format=ox.RdfFormat.N_QUADS)
    graphs: dict[str, set] = {}
    for q in store.quads_for_pattern(None, None, None, None):
        if q.graph_name != ox.DefaultGraph():
            graphs.setdefault(q.graph_name.value, set()).add(str(q.triple))
    del store
    gc.collect()
    return graphs


@pytest.fixture
def tiny_disk(tmp_path):
    """A 3 MB tmpfs: needs root (or CAP_SYS_ADMIN) to mount."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if not shutil.which("mount"):
        pytest.skip("no mount command here, so no tiny filesystem to fill")
    tried = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True, text=True)
    if tried.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to fill (needs root): {tried.stderr.strip()}")
    yield mount
    gc.collect()
    subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.model
def test_a_full_disk_is_one_line_and_the_store_stays_whole(cli, tmp_path, tiny_disk):
    store = tiny_disk / "store"
    reported: list[str] = []
    feeds, failed_ids, line = [], [], None
    for batch in range(30):
        feed = tmp_path / f"feed{batch}.jsonl"
        ids = _feed(feed, batch * 10, 10)
        feeds.append(feed)
        result = cli.run("build", feed, "-o", store, "-q")
        code, stderr, output = result.exit_code, result.stderr, result.output
        del result
        gc.collect()  # a failed in-process run keeps the store open in its frames
        if code == 0:
            reported += ids
            continue
        assert code == 1 and "Traceback" not in output and "internal error" not in output, output
        [line] = stderr.splitlines()
        failed_ids = ids
        break
    assert line is not None, "the 3 MB disk never filled"
    assert line.startswith("Error: ") and "No space left on device" in line, line
    assert reported, "the disk filled before the first build"

    # While the disk is still full, opening the store again either works or fails in one line.
    again = cli.run("query", store, DOCUMENTS, "--format", "csv")
    assert again.exit_code in (0, 1) and "Traceback" not in again.output and "internal error" not in again.output
    del again
    gc.collect()

    # Once there is room again, the store opens and holds every reported document whole.
    subprocess.run(["mount", "-o", "remount,size=64m", str(tiny_disk)], check=True)
    reference = tmp_path / "reference.nq"
    cli.ok("build", *feeds, "-o", reference, "-q")
    expected, got = _graphs(str(reference)), _graphs(str(store))
    doc = "https://w3id.org/newsgraph/doc/"
    for doc_id in reported:
        assert got.get(doc + doc_id) == expected[doc + doc_id], doc_id
    for doc_id in failed_ids:  # the build that failed: each document is all there or not at all
        assert got.get(doc + doc_id) in (None, expected[doc + doc_id]), doc_id
    assert count_query(store, DOCUMENTS) >= len(reported)
