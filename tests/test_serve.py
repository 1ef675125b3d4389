"""``newsgraph serve``: the SPARQL 1.1 Protocol, driven by real clients (SPARQLWrapper, rdflib, urllib)."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from pathlib import Path

import pyoxigraph as ox
import pytest

from helpers import ARTICLES, FORM, HANDMADE_ENTITIES, NG, Endpoint, form, handmade_documents, http, start, stop, write_documents
from newsgraph.errors import StoreError
from newsgraph.pages import csp_hash

CAPTURED = f"SELECT ?s ?o WHERE {{ ?s <{NG}captured> ?o }} ORDER BY ?s ?o"
ENTITY = "https://w3id.org/newsgraph/entity/"
EXPECTED_CAPTURES = [(ENTITY + "Kessarine_Liberation_Army", ENTITY + "Ostrava"),
                     (ENTITY + "Kessarine_Liberation_Army", ENTITY + "Velmora"),
                     (ENTITY + "Southern_Coast_Militia", ENTITY + "Marrow_Bay")]
INSERT = "INSERT DATA { GRAPH <urn:test:g> { <urn:test:s> <urn:test:p> 'o' } <urn:test:s> <urn:test:p> 'o' }"
ASK_INSERTED = "ASK { <urn:test:s> <urn:test:p> 'o' }"


@pytest.fixture
def serving():
    started: list[Endpoint] = []

    def serve(graph, *options) -> Endpoint:
        started.append(start(graph, *options))
        return started[-1]

    yield serve
    for e in started:
        stop(e)


@pytest.fixture(scope="module")
def readonly(tmp_path_factory):
    """One read-only server over the handmade graph, shared by the tests that only read."""
    path = tmp_path_factory.mktemp("serve") / "handmade.nq"
    write_documents(str(path), handmade_documents())
    endpoint = start(path, "--max-rows", 100)
    yield endpoint
    stop(endpoint)


# ------------------------------------------------------------------ real clients


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")  # inside SPARQLWrapper
def test_sparqlwrapper_select_ask_construct(readonly):
    from rdflib import URIRef
    from SPARQLWrapper import JSON, TURTLE, SPARQLWrapper

    client = SPARQLWrapper(readonly.url)
    client.setQuery(CAPTURED)
    client.setReturnFormat(JSON)
    rows = client.query().convert()["results"]["bindings"]
    assert [(r["s"]["value"], r["o"]["value"]) for r in rows] == EXPECTED_CAPTURES

    client = SPARQLWrapper(readonly.url)
    client.setQuery(f"ASK {{ ?s <{NG}alliedTo> ?o }}")
    client.setReturnFormat(JSON)
    assert client.query().convert()["boolean"] is True
    client.setQuery(f"ASK {{ ?s <{NG}alliedTo> <{ENTITY}Velmora> }}")
    assert client.query().convert()["boolean"] is False

    construct = f"CONSTRUCT {{ ?s <{NG}captured> ?o }} WHERE {{ ?s <{NG}captured> ?o }}"
    for fmt in (None, TURTLE):  # SPARQLWrapper's default for CONSTRUCT is RDF/XML
        client = SPARQLWrapper(readonly.url, returnFormat=fmt) if fmt else SPARQLWrapper(readonly.url)
        client.setQuery(construct)
        got = client.query().convert()
        if isinstance(got, bytes):
            import rdflib

            got = rdflib.Graph().parse(data=got, format="turtle")
        assert sorted((str(s), str(o)) for s, _, o in got) == EXPECTED_CAPTURES
        assert {p for _, p, _ in got} == {URIRef(NG + "captured")}


@pytest.mark.parametrize("method", ["GET", "POST", "POST_FORM"])
def test_rdflib_sparqlstore(readonly, method):
    import rdflib
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        graph = rdflib.Graph(SPARQLStore(readonly.url, method=method))
        rows = [(str(s), str(o)) for s, o in graph.query(CAPTURED)]
        assert rows == EXPECTED_CAPTURES
        captured = sorted((str(s), str(o)) for s, _, o in graph.triples((None, rdflib.URIRef(NG + "captured"), None)))
        assert captured == EXPECTED_CAPTURES
        people = graph.query("SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e a ?c . "
                             f"VALUES ?c {{ <{NG}Person> <{NG}Organization> <{NG}Location> }} }}")
        assert int(next(iter(people))[0]) == HANDMADE_ENTITIES


# ------------------------------------------------------------------ protocol and negotiation


def test_get_post_form_and_direct_post_agree(readonly):
    get = http(f"{readonly.url}?{urllib.parse.urlencode({'query': CAPTURED})}")
    posted = http(readonly.url, form(query=CAPTURED), FORM)
    direct = http(readonly.url, CAPTURED, {"Content-Type": "application/sparql-query"})
    assert get[0] == posted[0] == direct[0] == 200
    assert get[2] == posted[2] == direct[2]
    assert get[1]["Content-Type"] == "application/sparql-results+json"  # the default
    bindings = json.loads(get[2])["results"]["bindings"]
    assert [(b["s"]["value"], b["o"]["value"]) for b in bindings] == EXPECTED_CAPTURES


def test_content_negotiation(readonly):
    def ask(query: str, accept: str | None):
        return http(readonly.url, form(query=query), {**FORM, **({"Accept": accept} if accept else {})})

    status, headers, body = ask(CAPTURED, "text/csv")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert body.decode().splitlines() == ["s,o"] + [f"{s},{o}" for s, o in EXPECTED_CAPTURES]

    status, headers, body = ask(CAPTURED, "application/sparql-results+xml")
    assert headers["Content-Type"] == "application/sparql-results+xml"
    rows = [(r["s"].value, r["o"].value) for r in ox.parse_query_results(body, ox.QueryResultsFormat.XML)]
    assert rows == EXPECTED_CAPTURES

    status, headers, body = ask(CAPTURED, "text/tab-separated-values")
    assert headers["Content-Type"].startswith("text/tab-separated-values")
    assert [(r["s"].value, r["o"].value) for r in ox.parse_query_results(body, ox.QueryResultsFormat.TSV)] == EXPECTED_CAPTURES

    status, headers, body = ask(CAPTURED, "text/html, application/xhtml+xml;q=0.9, */*;q=0.8")  # a browser's
    assert headers["Content-Type"] == "application/sparql-results+json"

    construct = f"CONSTRUCT {{ ?s <{NG}captured> ?o }} WHERE {{ ?s <{NG}captured> ?o }}"
    for accept, fmt in [("text/turtle", ox.RdfFormat.TURTLE), (None, ox.RdfFormat.TURTLE),
                        ("application/n-triples", ox.RdfFormat.N_TRIPLES), ("application/rdf+xml", ox.RdfFormat.RDF_XML),
                        ("application/sparql-results+json, application/n-triples;q=0.5", ox.RdfFormat.N_TRIPLES)]:
        status, headers, body = ask(construct, accept)
        assert status == 200 and headers["Content-Type"].split(";")[0] == fmt.media_type, accept
        assert sorted((q.subject.value, q.object.value) for q in ox.parse(body, fmt)) == EXPECTED_CAPTURES

    status, headers, body = ask("ASK { ?s ?p ?o }", "application/sparql-results+xml")
    assert headers["Content-Type"] == "application/sparql-results+xml"
    assert bool(ox.parse_query_results(body, ox.QueryResultsFormat.XML)) is True
    # the query page's format= picks a format whatever Accept says
    status, headers, body = http(readonly.url, form(query=CAPTURED, format="table"), {**FORM, "Accept": "text/csv"})
    assert headers["Content-Type"].startswith("text/plain") and b"(3 rows)" in body


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # SPARQLWrapper cannot tell the kind of a malformed query
def test_malformed_query_is_400_with_a_message(readonly):
    status, headers, body = http(readonly.url, form(query="SELECT ?s WHERE { ?s ?p }"), FORM)
    assert status == 400 and headers["Content-Type"].startswith("text/plain")
    assert body.decode().startswith("invalid SPARQL: ")
    from SPARQLWrapper import SPARQLWrapper
    from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

    client = SPARQLWrapper(readonly.url)
    client.setQuery("SELEC * WHERE { ?s ?p ?o }")
    with pytest.raises(QueryBadFormed, match="invalid SPARQL"):
        client.query()
    for bad in [form(), form(query="ASK {}", update="CLEAR ALL"), b"query=%FF%FE"]:
        assert http(readonly.url, bad, FORM)[0] == 400
    assert http(readonly.url, b"ASK {}", {"Content-Type": "text/plain"})[0] == 415
    assert http(readonly.url, method="DELETE")[0] == 405
    assert http(readonly.root + "/nothing")[0] == 404


def test_a_long_prologue_is_answered_at_once(readonly):
    """rdflib's SPARQLStore sends dozens of PREFIX lines; checking them must not backtrack for ever."""
    prologue = "".join(f"PREFIX p{i}: <http://example.org/{i}#>\n" for i in range(300))
    started = time.monotonic()
    status, _, body = http(readonly.url, form(query=prologue + "ASK { ?s ?p ?o }"), FORM, timeout=10)
    assert status == 200 and json.loads(body)["boolean"] is True
    assert time.monotonic() - started < 2
    status, _, body = http(readonly.url, form(query=prologue + "INSERT DATA { <a:b> <a:b> <a:b> }"), FORM, timeout=10)
    assert status == 400 and b"INSERT is a SPARQL update" in body


def test_row_cap(readonly):
    status, headers, body = http(readonly.url, form(query="SELECT * WHERE { ?s ?p ?o }"), FORM)
    assert status == 200 and headers["Newsgraph-Truncated"] == "100"
    assert len(json.loads(body)["results"]["bindings"]) == 100
    assert "Newsgraph-Truncated" not in http(readonly.url, form(query=CAPTURED), FORM)[1]


# ------------------------------------------------------------------ safety


def test_updates_are_refused_unless_allowed(readonly, serving, handmade_store):
    for request in [(form(update=INSERT), FORM), (INSERT.encode(), {"Content-Type": "application/sparql-update"})]:
        status, _, body = http(readonly.url, *request)
        assert status == 403 and body == b"this server is read-only: it was not started to accept SPARQL updates\n"
    assert http(readonly.url, form(query=INSERT), FORM)[0] == 400  # an update is not a query either
    assert json.loads(http(readonly.url, form(query=ASK_INSERTED), FORM)[2])["boolean"] is False

    writable = serving(handmade_store, "--allow-update")
    assert http(writable.url, form(update=INSERT), FORM)[0] == 204
    assert json.loads(http(writable.url, form(query=ASK_INSERTED), FORM)[2])["boolean"] is True
    assert http(f"{writable.url}?{urllib.parse.urlencode({'update': INSERT})}")[0] == 405  # updates are POSTed
    bad = http(writable.url, b"INSERT DATA { <a> }", {"Content-Type": "application/sparql-update"})
    assert bad[0] == 400 and bad[2].startswith(b"invalid SPARQL update")
    # a page from another origin cannot change the graph through the user's browser
    assert http(writable.url, form(update="CLEAR ALL"), {**FORM, "Origin": "https://evil.example"})[0] == 403
    assert json.loads(http(writable.url, form(query=ASK_INSERTED), FORM)[2])["boolean"] is True


def test_updates_to_a_served_file_are_written_back(serving, tmp_path):
    path = tmp_path / "graph.nq"
    write_documents(str(path), handmade_documents())
    endpoint = serving(path, "--allow-update")
    assert http(endpoint.url, form(update=INSERT), FORM)[0] == 204
    stop(endpoint)
    again = serving(path)
    assert json.loads(http(again.url, form(query=ASK_INSERTED), FORM)[2])["boolean"] is True
    assert json.loads(http(again.url, form(query=CAPTURED), FORM)[2])["results"]["bindings"]


def test_build_into_a_served_store(cli, serving, tmp_path, readonly):
    """newsgraph's remote store works against its own server: twice the same documents, the same graph."""
    store = tmp_path / "store"
    write_documents(str(store), handmade_documents()[:1])
    writable = serving(store, "--allow-update")
    write_documents(writable.url, handmade_documents())
    count = json.loads(http(writable.url, form(query="SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"), FORM)[2])
    write_documents(writable.url, handmade_documents())
    assert json.loads(http(writable.url, form(query="SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"), FORM)[2]) == count
    assert cli.ok("query", writable.url, CAPTURED, "--format", "csv").stdout == \
        cli.ok("query", readonly.url, CAPTURED, "--format", "csv").stdout
    line = cli.fail("build", ARTICLES, "-o", readonly.url)
    assert line == (f"Error: SPARQL endpoint {readonly.url} refused the update: HTTP 403 Forbidden: "
                    "this server is read-only: it was not started to accept SPARQL updates")


def test_nothing_reaches_another_server(readonly, serving, handmade_store, canary):
    remote = canary.url
    refused = [f"SELECT * WHERE {{ SERVICE <{remote}> {{ ?s ?p ?o }} }}",
               f"SELECT * WHERE {{ service <{remote}sparql> {{ ?s ?p ?o }} }}",
               f"SELECT * WHERE {{ SERVICE SILENT <{remote}> {{ ?s ?p ?o }} }}"]
    for query in refused:
        status, _, body = http(readonly.url, form(query=query), FORM)
        assert status == 400 and b"SERVICE is not allowed" in body, query
    local_only = [f"SELECT * FROM <{remote}> WHERE {{ ?s ?p ?o }}",
                  f"SELECT * FROM NAMED <{remote}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
                  f"CONSTRUCT {{ ?s ?p ?o }} FROM <{remote}data.ttl> WHERE {{ ?s ?p ?o }}",
                  f"DESCRIBE <{remote}>"]
    for query in local_only:
        assert http(readonly.url, form(query=query), FORM)[0] == 200, query
    params = urllib.parse.urlencode({"query": "SELECT * WHERE { ?s ?p ?o }", "default-graph-uri": remote, "named-graph-uri": remote})
    status, _, body = http(f"{readonly.url}?{params}")
    assert status == 200 and json.loads(body)["results"]["bindings"] == []
    writable = serving(handmade_store, "--allow-update")
    for update in [f"LOAD <{remote}>", f"LOAD SILENT <{remote}> INTO GRAPH <urn:x>",
                   f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{remote}> {{ ?s ?p ?o }} }}"]:
        status, _, body = http(writable.url, form(update=update), FORM)
        assert status == 400 and b"not allowed" in body, update
    assert http(writable.url, form(update=f"INSERT {{ ?s ?p ?o }} USING <{remote}> WHERE {{ ?s ?p ?o }}"), FORM)[0] == 204
    assert canary.requests == []


# ------------------------------------------------------------------ base IRI and dataset parameters

UPDATE = {"Content-Type": "application/sparql-update"}


def csv_rows(endpoint: Endpoint, query: str, **params) -> list[list[str]]:
    status, _, body = http(f"{endpoint.url}?{urllib.parse.urlencode({'query': query, **params}, doseq=True)}",
                           headers={"Accept": "text/csv"})
    assert status == 200, body
    return [row.split(",") for row in body.decode().splitlines()[1:]]


def test_relative_iris_resolve_against_the_request_url(cli, readonly, serving, handmade_store):
    root = readonly.root
    # the query string is not part of the base: <x> is the endpoint's sibling, however the query is sent
    assert csv_rows(readonly, "SELECT (<x> AS ?x) (<?y> AS ?y) {}", format="csv") == [[f"{root}/x", f"{root}/sparql?y"]]
    status, _, body = http(readonly.url, form(query="SELECT (<x> AS ?x) {}"), {**FORM, "Accept": "text/csv"})
    assert status == 200 and body.decode().splitlines()[1] == f"{root}/x"
    assert csv_rows(readonly, "BASE <urn:> SELECT (<x> AS ?x) {}") == [["urn:x"]]
    # newsgraph query on the endpoint leaves the base to the server, unless told one
    assert cli.ok("query", readonly.url, "SELECT (<x> AS ?x) {}", "--format", "csv").stdout.splitlines()[1] == f"{root}/x"
    told = cli.ok("query", readonly.url, "SELECT (<x> AS ?x) {}", "--format", "csv", "--base", "urn:b/").stdout
    assert told.splitlines()[1] == "urn:b/x"
    writable = serving(handmade_store, "--allow-update")
    assert http(writable.url, b"INSERT DATA { <s> <p> 'o' }", UPDATE)[0] == 204
    assert csv_rows(writable, "SELECT ?s ?p { ?s ?p 'o' }") == [[f"{writable.root}/s", f"{writable.root}/p"]]
    status, _, body = http(f"{writable.url}?using-graph-uri=urn%3Atest%3Ag", b"DELETE { <s> <p> 'o' } WHERE { }", UPDATE)
    assert status == 204 and csv_rows(writable, "SELECT ?s ?p { ?s ?p 'o' }") == [], body  # a rewritten update has it too


# Three graphs the update tests read: g1 and g2 each say one thing; the default graph says a third.
GRAPHS = ("INSERT DATA { GRAPH <urn:test:g1> { <urn:test:a> <urn:test:p> 1 } GRAPH <urn:test:g2> { <urn:test:b> <urn:test:p> 2 } "
          "<urn:test:c> <urn:test:p> 3 }")
COPY = "INSERT { GRAPH <urn:test:out> { ?s <urn:test:copied> true } } WHERE { %s }"
COPIED = "SELECT ?s WHERE { GRAPH <urn:test:out> { ?s ?p ?o } } ORDER BY ?s"


def test_using_graph_parameters_are_the_dataset_of_an_update(serving, handmade_store):
    endpoint = serving(handmade_store, "--allow-update")
    cases = [  # (WHERE pattern, using-graph-uri, using-named-graph-uri, subjects copied)
        ("?s <urn:test:p> ?o", [], [], ["urn:test:c"]),
        ("?s <urn:test:p> ?o", ["urn:test:g1"], [], ["urn:test:a"]),
        ("?s <urn:test:p> ?o", ["urn:test:g1", "urn:test:g2"], [], ["urn:test:a", "urn:test:b"]),
        ("GRAPH ?g { ?s <urn:test:p> ?o }", [], ["urn:test:g2"], ["urn:test:b"]),
        ("GRAPH ?g { ?s <urn:test:p> ?o }", ["urn:test:g1"], [], []),  # USING alone: no named graph
        ("?s <urn:test:p> ?o", [], ["urn:test:g2"], []),  # USING NAMED alone: an empty default graph
    ]
    for where, default, named, copied in cases:
        assert http(endpoint.url, form(update=f"DROP SILENT GRAPH <urn:test:out> ; {GRAPHS}"), FORM)[0] == 204
        query = urllib.parse.urlencode({"using-graph-uri": default, "using-named-graph-uri": named}, doseq=True)
        status, _, body = http(f"{endpoint.url}?{query}", (COPY % where).encode(), UPDATE)
        assert status == 204, body
        assert [row[0] for row in csv_rows(endpoint, COPIED)] == copied, (where, default, named)
    # in a form beside update=, for each operation of a request: DELETE WHERE too, while INSERT DATA has no WHERE;
    # a WHERE in a comment or a string is no operation
    tricky = '?s ?p ?o FILTER(?o != 9 || STR(?o) = "} WHERE {")'
    update = (f"DROP SILENT GRAPH <urn:test:out> ; {COPY % '?s ?p 1'} ; INSERT DATA {{ <urn:test:d> <urn:test:p> 4 }} ;\n"
              f"# }} WHERE {{\n{COPY % tricky} ;\n"
              "DELETE WHERE { GRAPH <urn:test:g2> { ?s ?p ?o } }")
    status, _, body = http(endpoint.url, form(**{"update": update, "using-graph-uri": "urn:test:g1",
                                                  "using-named-graph-uri": "urn:test:out"}), FORM)
    assert status == 204, body
    assert [row[0] for row in csv_rows(endpoint, COPIED)] == ["urn:test:a"]
    assert csv_rows(endpoint, "SELECT ?s { GRAPH <urn:test:g2> { ?s ?p ?o } }") == [["urn:test:b"]]  # not in its dataset
    assert csv_rows(endpoint, "SELECT ?o { <urn:test:d> ?p ?o }") == [["4"]]
    status, _, body = http(f"{endpoint.url}?using-named-graph-uri=urn%3Atest%3Ag2",
                           b"DELETE WHERE { GRAPH <urn:test:g2> { ?s ?p ?o } }", UPDATE)
    assert status == 204 and csv_rows(endpoint, "SELECT ?s { GRAPH <urn:test:g2> { ?s ?p ?o } }") == []


def test_using_graph_parameters_and_a_dataset_in_the_update_are_a_400(serving, handmade_store):
    endpoint = serving(handmade_store, "--allow-update")
    assert http(endpoint.url, form(update=GRAPHS), FORM)[0] == 204
    conflicts = ["WITH <urn:test:g1> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
                 "DELETE { ?s ?p ?o } USING <urn:test:g1> WHERE { ?s ?p ?o }",
                 "delete { ?s ?p ?o } using named <urn:test:g1> where { GRAPH ?g { ?s ?p ?o } }"]
    for update in conflicts:
        for param in ("using-graph-uri", "using-named-graph-uri"):
            status, _, body = http(f"{endpoint.url}?{param}=urn%3Atest%3Ag2", update.encode(), UPDATE)
            assert status == 400, (update, param)
            assert len(body.splitlines()) == 1 and b"cannot also be given" in body, body
    for bad in ["not an iri", "urn:test:<g>", "relative"]:
        status, _, body = http(endpoint.url, form(**{"update": COPY % "?s ?p ?o", "using-graph-uri": bad}), FORM)
        assert status == 400 and body.startswith(b"invalid graph IRI") and len(body.splitlines()) == 1, (bad, body)
    # keywords glued together, and a WHERE the engine reads as a comment, are refused rather than guessed at
    hidden = "INSERT { ?s <urn:test:q> 1 } WHERE { ?s ?p ?o FILTER(?o<?o#>) } WHERE\n) }"
    assert http(endpoint.url, hidden.encode(), UPDATE)[0] == 204
    for update in ["DELETEWHERE { ?s ?p ?o }", hidden]:
        status, _, body = http(f"{endpoint.url}?using-graph-uri=urn%3Atest%3Ag1", update.encode(), UPDATE)
        assert status == 400 and body.startswith(b"cannot apply using-graph-uri"), (update, body)
    # an update that is wrong in itself is reported as sent, not as rewritten
    status, _, body = http(f"{endpoint.url}?using-graph-uri=urn%3Atest%3Ag1", b"INSERT { ?s ?p ?o } WHERE { ?s ?p", UPDATE)
    assert status == 400 and body.startswith(b"invalid SPARQL update") and b"error at 1:34:" in body, body
    assert csv_rows(endpoint, "SELECT ?s { GRAPH <urn:test:g1> { ?s ?p ?o } }") == [["urn:test:a"]]  # nothing ran


def test_a_query_dataset_with_one_side_leaves_the_other_empty(readonly):
    from newsgraph.build import doc_iri

    river = doc_iri("river")
    everything = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
    named = "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }"
    in_river = int(csv_rows(readonly, f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{river}> {{ ?s ?p ?o }} }}")[0][0])
    assert in_river > 0
    assert csv_rows(readonly, everything, **{"named-graph-uri": river}) == [["0"]]
    assert csv_rows(readonly, named, **{"named-graph-uri": river}) == [[str(in_river)]]
    assert csv_rows(readonly, everything, **{"default-graph-uri": river}) == [[str(in_river)]]
    assert csv_rows(readonly, named, **{"default-graph-uri": river}) == [["0"]]
    assert int(csv_rows(readonly, named)[0][0]) > in_river  # without either, every document's graph


def test_a_runaway_query_is_stopped_and_the_server_goes_on(serving, tmp_path):
    path = tmp_path / "thousand.nt"
    path.write_text("".join(f"<urn:s{i}> <urn:p{i % 7}> \"{i}\" .\n" for i in range(1000)), encoding="utf-8")
    endpoint = serving(path, "--timeout", 1)
    before = set(endpoint.workers())
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # 10⁹ rows
    answers = {}

    def meanwhile():  # the other worker answers while one is busy
        time.sleep(0.3)
        started = time.monotonic()
        answers["ask"] = (http(endpoint.url, form(query="ASK { ?s ?p ?o }"), FORM)[0], time.monotonic() - started)

    other = threading.Thread(target=meanwhile)
    other.start()
    started = time.monotonic()
    status, _, body = http(endpoint.url, form(query=runaway), FORM)
    elapsed = time.monotonic() - started
    other.join()
    assert status == 503 and body.decode().startswith("stopped after 1 s"), body
    assert elapsed < 2.0
    assert answers["ask"][0] == 200 and answers["ask"][1] < 1.0
    status, _, body = http(endpoint.url, form(query="SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"), FORM)
    assert status == 200 and json.loads(body)["results"]["bindings"][0]["n"]["value"] == "1000"
    after = live_workers(endpoint, before)
    # the runaway's worker was killed and replaced, and a spare is now kept open for the next slow query
    assert len(before - after) == 1 and len(after) == len(before) + 1



def live_workers(endpoint: Endpoint, before: set[int], within: float = 5.0) -> set[int]:
    """The server's live workers once one of ``before`` has gone (a killed worker is reaped in the background)."""
    deadline = time.monotonic() + within
    while True:
        alive = {p for p in endpoint.workers() if _alive(p)}
        if before - alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def _niceness(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def test_runaway_queries_do_not_starve_quick_ones(serving, tmp_path):
    # One worker: without a slow lane, three clients looping on a runaway would hold it all the time.
    path = tmp_path / "thousand.nt"
    path.write_text("".join(f"<urn:s{i}> <urn:p{i % 7}> \"{i}\" .\n" for i in range(1000)), encoding="utf-8")
    endpoint = serving(path, "--timeout", 1, "--workers", 1)
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    until = time.monotonic() + 4
    slow_answers: list[tuple[int, float, bytes]] = []

    def loop_on_runaway():
        while time.monotonic() < until:
            started = time.monotonic()
            status, _, body = http(endpoint.url, form(query=runaway), FORM)
            slow_answers.append((status, time.monotonic() - started, body))

    # The first time a runaway is seen it holds the quick worker for a moment and a replacement has to open
    # the graph; from then on a spare is kept open, and the runaway is known.
    assert http(endpoint.url, form(query=runaway), FORM)[0] == 503
    clients = [threading.Thread(target=loop_on_runaway) for _ in range(3)]
    for c in clients:
        c.start()
    quick = []
    while time.monotonic() < until:
        started = time.monotonic()
        status, _, body = http(endpoint.url, form(query="SELECT ?o WHERE { <urn:s7> ?p ?o }"), FORM)
        quick.append((status, time.monotonic() - started))
        time.sleep(0.02)
    for c in clients:
        c.join()
    assert len(quick) > 20 and all(status == 200 for status, _ in quick), quick
    assert max(took for _, took in quick) < 0.5, sorted(took for _, took in quick)[-5:]
    # each runaway is answered 503 within its limit, waiting for the slow lane included
    assert slow_answers and all(status == 503 and b"stopped after 1 s" in body for status, _, body in slow_answers)
    assert max(took for _, took, _ in slow_answers) < 1.5
    # the quick worker, its spare, the slow lane's one; a runaway's worker killed at the end is reaped in the background
    deadline = time.monotonic() + 5
    while len({p for p in endpoint.workers() if _alive(p)}) > 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len({p for p in endpoint.workers() if _alive(p)}) <= 3


def test_a_slow_query_is_answered_and_asked_again_runs_at_low_priority(serving, tmp_path):
    path = tmp_path / "pairs.nt"
    path.write_text("".join(f"<urn:s{i}> <urn:p{i % 7}> \"{i}\" .\n" for i in range(2000)), encoding="utf-8")
    endpoint = serving(path, "--timeout", 20, "--workers", 1)
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f FILTER(STR(?c) < STR(?f)) }"
    for _ in range(2):
        status, _, body = http(endpoint.url, form(query=slow), FORM)
        assert status == 200 and json.loads(body)["results"]["bindings"][0]["n"]["value"] == str(2000 * 1999 // 2)
    workers = endpoint.workers()
    assert sorted(_niceness(p) for p in workers) == [0, 0, 19]  # the quick lane's worker, its spare, the slow lane's
    status, _, body = http(endpoint.url, form(query="ASK { <urn:s1> ?p ?o }"), FORM)
    assert status == 200 and json.loads(body)["boolean"] is True


def test_host_and_cors(readonly, serving, handmade_ttl):
    status, _, body = http(readonly.url, form(query="ASK {}"), {**FORM, "Host": "attacker.example"})
    assert status == 403 and b"is not this server" in body
    assert "Access-Control-Allow-Origin" not in http(readonly.url, form(query="ASK {}"), FORM)[1]
    open_to = serving(handmade_ttl, "--cors", "http://localhost:8000")
    headers = http(open_to.url, form(query="ASK {}"), {**FORM, "Origin": "http://localhost:8000"})[1]
    assert headers["Access-Control-Allow-Origin"] == "http://localhost:8000"
    status, headers, _ = http(open_to.url, method="OPTIONS", headers={
        "Origin": "http://localhost:8000", "Access-Control-Request-Method": "POST"})
    assert status == 204 and "POST" in headers["Access-Control-Allow-Methods"]


def test_pages(serving, tmp_path):
    path = tmp_path / "a<b>&c.ttl"
    write_documents(str(path), handmade_documents())
    endpoint = serving(path)
    status, headers, body = http(endpoint.root + "/")
    page = body.decode()
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    style = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    style_src = re.search(r"style-src ([^;]*)", headers["Content-Security-Policy"]).group(1).split()
    assert csp_hash(style) in style_src and "script-src" not in headers["Content-Security-Policy"]
    assert "a&lt;b&gt;&amp;c.ttl" in page and "a<b>" not in page
    assert '<form method="post" action="sparql">' in page
    assert not re.search(r"""(src|href|action)=["']?(https?:)?//""", page)  # nothing from elsewhere
    status, headers, body = http(endpoint.root + "/network")
    assert status == 200 and "script-src 'unsafe-inline'" in headers["Content-Security-Policy"]
    assert b"Kessarine Liberation Army" in body


# ------------------------------------------------------------------ stores, errors, lifecycle


def test_a_served_store_is_not_written_by_anyone_else(serving, handmade_store):
    endpoint = serving(handmade_store)
    assert json.loads(http(endpoint.url, form(query=CAPTURED), FORM)[2])["results"]["bindings"]
    with pytest.raises(StoreError, match="in use by another process"):
        write_documents(str(handmade_store), handmade_documents())


def test_serve_errors_are_one_line(cli, tmp_path, handmade_ttl, handmade_store):
    assert "no graph at" in cli.fail("serve", tmp_path / "missing.ttl")
    assert "SPARQL endpoint already" in cli.fail("serve", "http://127.0.0.1:1/sparql")
    line = cli.fail("serve", handmade_ttl, "--allow-update")
    assert line.startswith("Error: updates need a store directory or a .nq or .trig file") and line.endswith("(--allow-update)")
    assert "not an origin" in cli.run("serve", handmade_ttl, "--cors", "localhost:8000/path").stderr
    assert cli.run("serve", handmade_ttl, "--cors", "localhost:8000/path").exit_code == 2
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        line = cli.fail("serve", handmade_ttl, "--port", taken.getsockname()[1])
        assert line.startswith("Error: cannot listen on 127.0.0.1:")
    # a failed start leaves the store unlocked
    write_documents(str(handmade_store), handmade_documents())


def test_stopping_the_server_stops_its_workers(serving, handmade_ttl):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        endpoint = serving(handmade_ttl)
        workers = endpoint.workers()
        assert len(workers) == 2
        endpoint.process.send_signal(sig)
        endpoint.process.wait(10)
        deadline = time.monotonic() + 5  # after SIGKILL, a worker notices within a second or two
        while any(_alive(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(p) for p in workers), sig


def _alive(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)  # not our child: ChildProcessError, fine
    except ChildProcessError:
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _doubling(times: int) -> str:
    """A query whose one string doubles ``times`` times: 32 characters · 2^times."""
    names = [f"?v{i}" for i in range(times + 1)]
    binds = " ".join(f"BIND(CONCAT({a},{a}) AS {b})" for a, b in zip(names, names[1:]))
    return f'SELECT (STRLEN({names[-1]}) AS ?n) WHERE {{ BIND("{"x" * 32}" AS ?v0) {binds} }}'


def test_a_query_past_the_memory_cap_is_a_503_and_the_server_goes_on(serving, handmade_ttl):
    endpoint = serving(handmade_ttl, "--memory", 300)
    before = set(endpoint.workers())
    status, _, body = http(endpoint.url, form(query=_doubling(24)), FORM, timeout=20)  # a 512 MB string
    assert status == 503 and body.decode().startswith("the query ran out of memory"), body
    assert body.decode().count("\n") == 1 and "Traceback" not in body.decode()
    status, _, body = http(endpoint.url, form(query=_doubling(10)), FORM)  # 32 KB: well within it
    assert status == 200 and json.loads(body)["results"]["bindings"][0]["n"]["value"] == str(32 << 10)
    assert http(endpoint.url, form(query=CAPTURED), FORM)[0] == 200
    after = live_workers(endpoint, before)
    # its worker was replaced; if the query ran long enough to count as slow, a spare is now kept open too
    assert len(before - after) == 1 and len(after) - len(before) in (0, 1)
