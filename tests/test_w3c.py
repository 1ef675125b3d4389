"""The W3C SPARQL 1.1 test suites, run through newsgraph's own code paths.

* Query evaluation (``mf:QueryEvaluationTest``, ``mf:CSVResultFormatTest``): each test's data in a
  :class:`newsgraph.embedded.OxigraphGraph`, the query through :func:`newsgraph.query.run` with the query file's URL as
  base, the answer compared with the expected one; then what the writers of ``newsgraph query --format``
  print, parsed back, for the expected file's format; and ``newsgraph query`` itself (``CliRunner``) where
  the test's data is one file the CLI can open.
* Syntax (``mf:PositiveSyntaxTest11``, ``mf:NegativeSyntaxTest11`` and the update ones): a positive query
  runs, a negative one is one :class:`QueryError` line (and one stderr line, exit 1, through the CLI); updates
  go to a real ``newsgraph serve --allow-update``, where a positive one is answered 2xx, a negative one 400.
* Protocol (``protocol/manifest.ttl``): its HTTP requests, as the manifest writes them, sent to real servers,
  read-only for queries, ``--allow-update`` on a copy for updates.

``tests/data/w3c_not_applicable.tsv`` lists the tests newsgraph does not pass, each with its reason:
``design:`` (newsgraph refuses it on purpose), ``engine:`` (raw pyoxigraph fails it too, which a test here
checks) or ``known:`` (a newsgraph bug not fixed yet). They are strict xfails: one that starts passing
fails the suite, so the list cannot rot.

The suites are not part of the repository: they are read from ``../shared/w3c/sparql11/``, and these tests
skip when it is absent.
"""
from __future__ import annotations

import json
import urllib.parse
from functools import cache
from pathlib import Path

import pyoxigraph as ox
import pytest

import w3c
from helpers import http, start, stop
from newsgraph.embedded import OxigraphGraph
from newsgraph.errors import QueryError
from newsgraph.query import render, run

if not w3c.available():
    pytest.skip(f"the W3C SPARQL 1.1 test suites are not at {w3c.SUITES}", allow_module_level=True)

pytestmark = pytest.mark.w3c

EXEMPT = w3c.exemptions()
WRITER = {".srx": "xml", ".srj": "json", ".tsv": "tsv", ".csv": "csv"}

EVALUATION = w3c.cases(w3c.QUERY_AREAS, "QueryEvaluationTest", "CSVResultFormatTest")
SYNTAX = w3c.cases(w3c.QUERY_AREAS + w3c.UPDATE_AREAS, "PositiveSyntaxTest11", "NegativeSyntaxTest11",
                   "PositiveUpdateSyntaxTest11", "NegativeUpdateSyntaxTest11")
QUERY_SYNTAX = [c for c in SYNTAX if c.query.suffix == ".rq"]
UPDATE_SYNTAX = [c for c in SYNTAX if c.query.suffix == ".ru"]


def params(cases: list[w3c.Case]) -> list:
    """Each case as a pytest param, a strict xfail when the not-applicable list names it."""
    out = []
    for c in cases:
        exempt = EXEMPT.get(c.iri)
        marks = [pytest.mark.xfail(strict=True, reason=exempt.reason)] if exempt else []
        out.append(pytest.param(c, id=c.id, marks=marks))
    return out


def query_text(case: w3c.Case) -> str:
    return case.query.read_text(encoding="utf-8")


def graph(case: w3c.Case) -> OxigraphGraph:
    """The test's dataset as a graph newsgraph queries (loaded once per set of data files)."""
    return OxigraphGraph(w3c.dataset(case.data, case.graph_data), str(case.query.parent))


@cache
def expected(case: w3c.Case) -> w3c.Answer:
    answer = w3c.parse_results(case.result)
    answer.order = w3c.order_variables(query_text(case))
    return answer


def compared(case: w3c.Case, answer: w3c.Answer) -> str | None:
    if case.result.suffix == ".csv":
        answer = w3c.as_csv(answer)
    return w3c.difference(expected(case), answer)


@cache
def answered(case: w3c.Case):
    """newsgraph's answer to the test's query (a :class:`newsgraph.query.Result`), computed once."""
    return run(graph(case), query_text(case), base=case.query.as_uri())


# ------------------------------------------------------------------ evaluation


@pytest.mark.parametrize("case", params(EVALUATION))
def test_evaluation(case):
    difference = compared(case, w3c.from_result(answered(case)))
    assert difference is None, difference


def writer(case: w3c.Case) -> str:
    """The ``--format`` of the test's expected file; JSON for solutions written in RDF (``rs:ResultSet``)."""
    if case.result.suffix in WRITER:
        return WRITER[case.result.suffix]
    return "json" if expected(case).triples is None else "table"


def _parse_written(text: str, fmt: str, result_kind: str, base: str) -> w3c.Answer:
    if result_kind == "graph":
        return w3c._rdf(text.encode("utf-8"), ".ttl", base)
    suffix = {v: k for k, v in WRITER.items()}[fmt]
    if fmt == "csv" and result_kind == "ask":  # CSV has no boolean form: newsgraph writes true/false
        return w3c.Answer(boolean={"true": True, "false": False}[text.strip()])
    return w3c.parse_results(text.encode("utf-8"), suffix)


@pytest.mark.parametrize("case", params(EVALUATION))
def test_writers(case):
    """What ``newsgraph query --format`` writes for the expected file's format, read back, is the answer."""
    result = answered(case)
    fmt = writer(case)
    written = render(result, fmt)
    difference = compared(case, _parse_written(written, fmt, result.kind, case.query.as_uri()))
    assert difference is None, f"{fmt}: {difference}"


CLI_CASES = [c for c in EVALUATION if len(c.data) == 1 and not c.graph_data]


@pytest.mark.parametrize("case", params(CLI_CASES))
def test_query_command(cli, case):
    """``newsgraph query DATA -f QUERY --format F --base QUERY-URL``, on the test's own data file."""
    fmt = writer(case)
    out = cli.ok("query", case.data[0], "-f", case.query, "--format", fmt, "--base", case.query.as_uri()).stdout
    kind = answered(case).kind
    difference = compared(case, _parse_written(out, fmt, kind, case.query.as_uri()))
    assert difference is None, f"{fmt}: {difference}"


def _raw_difference(case: w3c.Case) -> str | None:
    """How raw pyoxigraph's own answer (``Store.query``, no newsgraph in between) differs from the expected."""
    try:
        answer = w3c.from_result(w3c.dataset(case.data, case.graph_data).query(query_text(case), base_iri=case.query.as_uri()))
    except (SyntaxError, OSError, ValueError, RuntimeError) as e:
        return f"{type(e).__name__}: {e}"
    return compared(case, answer)


ENGINE = [c for c in EVALUATION + SYNTAX if c.iri in EXEMPT and EXEMPT[c.iri].marker == "engine"]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in ENGINE])
def test_engine_entries_fail_on_raw_pyoxigraph(case):
    """An ``engine:`` entry is one pyoxigraph fails by itself; one it starts to pass is a newsgraph failure."""
    if case in EVALUATION:
        assert _raw_difference(case) is not None, f"raw pyoxigraph passes {case.id}: it is not an engine failure"
    else:
        assert not _raw_syntax_passes(case), f"raw pyoxigraph passes {case.id}: it is not an engine failure"


def _raw_syntax_passes(case: w3c.Case) -> bool:
    """Whether raw pyoxigraph passes a syntax test as the tests below judge newsgraph: a positive query runs, a
    positive update parses (running it may fail, as DROP of a missing graph does), a negative one is a SyntaxError."""
    negative = case.kind.startswith("Negative")
    try:
        if case.query.suffix == ".rq":
            ox.Store().query(query_text(case), base_iri=case.query.as_uri())
        else:
            ox.Store().update(query_text(case), base_iri=case.query.as_uri())
    except SyntaxError:
        return negative
    except (OSError, ValueError, RuntimeError):
        return not negative and case.query.suffix == ".ru"
    return not negative


def test_the_list_names_only_tests_of_the_suites():
    known = {c.iri for c in EVALUATION + SYNTAX} | {t.iri for t in PROTOCOL}
    assert set(EXEMPT) <= known, sorted(set(EXEMPT) - known)


def test_the_comparison_can_tell_answers_apart():
    """The comparison itself: blank nodes rename consistently, ORDER BY fixes the order, values count."""
    a, b = ox.BlankNode("a"), ox.BlankNode("b")
    one, two = ox.Literal("1", datatype=ox.NamedNode(w3c._XSD + "integer")), ox.Literal("2", datatype=ox.NamedNode(w3c._XSD + "integer"))
    answer = lambda rows, order=None: w3c.Answer(variables=["x", "y"], rows=rows, order=order)  # noqa: E731
    assert w3c.difference(answer([(a, one), (b, two)]), answer([(b, one), (a, two)])) is None
    assert w3c.difference(answer([(a, one), (a, two)]), answer([(a, one), (b, two)])) is not None
    assert w3c.difference(answer([(a, one), (a, one)]), answer([(a, one)])) is not None  # multisets
    assert w3c.difference(answer([(one, a), (two, b)], ["x"]), answer([(two, b), (one, a)], ["x"])) is not None
    assert w3c.difference(answer([(one, a), (one, b)], ["x"]), answer([(one, b), (one, a)], ["x"])) is None  # a tie
    assert w3c.difference(answer([(one, a), (two, b)]), answer([(two, b), (one, a)])) is None
    decimal = ox.NamedNode(w3c._XSD + "decimal")
    assert w3c.difference(answer([(ox.Literal("1.0", datatype=decimal), a)]), answer([(ox.Literal("1", datatype=decimal), a)])) is None
    assert w3c.difference(answer([(ox.Literal("1.0", datatype=decimal), a)]), answer([(one, a)])) is not None
    assert w3c.order_variables("SELECT * { { SELECT ?s { ?s ?p ?o } ORDER BY ?p } } ORDER BY DESC(?s) LIMIT 2") == ["s"]
    assert w3c.order_variables("SELECT * { ?s ?p ?o }") is None


# ------------------------------------------------------------------ syntax


@pytest.fixture(scope="module")
def empty_graph(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("w3c") / "empty.nt"
    path.write_text("")
    return path


@pytest.mark.parametrize("case", params([c for c in QUERY_SYNTAX if c.kind.startswith("Positive")]))
def test_positive_query_syntax(case):
    run(OxigraphGraph(ox.Store(), str(case.query)), query_text(case), base=case.query.as_uri())


@pytest.mark.parametrize("case", params([c for c in QUERY_SYNTAX if c.kind.startswith("Negative")]))
def test_negative_query_syntax(cli, empty_graph, case):
    with pytest.raises(QueryError) as refused:
        run(OxigraphGraph(ox.Store(), str(case.query)), query_text(case), base=case.query.as_uri())
    assert "\n" not in str(refused.value).strip()
    line = cli.fail("query", empty_graph, "-f", case.query)
    assert line.startswith("Error: "), line


@pytest.mark.parametrize("case", params([c for c in UPDATE_SYNTAX if c.kind.startswith("Positive")]))
def test_positive_update_syntax(updatable, case):
    status, _, body = post(updatable.url, query_text(case).encode("utf-8"), "application/sparql-update")
    # 500 is the engine running a parsed update that fails, as SPARQL Update has DROP GRAPH of a missing graph fail
    assert 200 <= status < 300 or (status == 500 and body.startswith(b"update failed:")), (status, body)


@pytest.mark.parametrize("case", params([c for c in UPDATE_SYNTAX if c.kind.startswith("Negative")]))
def test_negative_update_syntax(updatable, case):
    status, headers, body = post(updatable.url, query_text(case).encode("utf-8"), "application/sparql-update")
    assert status == 400, (status, body)
    assert headers["Content-Type"].startswith("text/plain")
    assert len(body.decode("utf-8").strip().splitlines()) == 1, body


# ------------------------------------------------------------------ protocol


def post(url: str, body: bytes, media: str) -> tuple[int, dict, bytes]:
    return http(url, body, {"Content-Type": media}, method="POST")


def _protocol() -> tuple:
    return w3c.manifest("protocol")


PROTOCOL = [c for c in _protocol()[1] if c.kind == "ProtocolTest"] if (w3c.SUITES / "protocol").is_dir() else []
HT = "http://www.w3.org/2011/http#"
CNT = "http://www.w3.org/2011/content#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"


def _requests(case: w3c.Case) -> list[dict]:
    """The manifest's requests of one test: method, path, headers, body bytes and the response it expects."""
    m = _protocol()[0]
    entry = case.extra["entry"]
    action = m.one(entry, w3c.MF + "action")
    out = []
    for r in m.items(m.one(action, HT + "requests")):
        body = m.one(r, HT + "body")
        data = None
        if body is not None:
            encoding = m.one(body, CNT + "characterEncoding")
            data = m.one(body, CNT + "chars").value.encode(encoding.value if encoding else "utf-8")
        headers = {m.one(h, HT + "fieldName").value: m.one(h, HT + "fieldValue").value
                   for h in m.items(m.one(r, HT + "headers"))}
        response = m.one(r, HT + "resp")
        statuses = {s.value.rsplit("StatusCode", 1)[-1] for s in m.all(response, w3c.MF + "expectedStatus")}
        boolean = m.one(response, w3c.MF + "expectedBoolean")
        fmt = m.one(response, w3c.MF + "expectedFormat")
        out.append({"method": m.one(r, HT + "methodName").value, "path": m.one(r, HT + "absolutePath").value,
                    "headers": headers, "body": data, "statuses": statuses,
                    "boolean": None if boolean is None else boolean.value == "true",
                    "format": fmt.value if fmt is not None else None})
    return out


def protocol_data() -> list[tuple[str, Path]]:
    """(graph IRI, N-Triples file) of the data the protocol tests name (``ut:graphData``)."""
    m, _ = _protocol()
    seen = {}
    for case in PROTOCOL:
        for g in m.all(case.extra["entry"], w3c.UT + "graphData"):
            seen[m.one(g, RDFS + "label").value] = w3c._path(m.one(g, w3c.UT + "graph"))
    return sorted(seen.items())


def _dataset_file(path: Path) -> Path:
    quads = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(iri))
             for iri, nt in protocol_data() for t in ox.parse(path=str(nt), format=ox.RdfFormat.N_TRIPLES)]
    path.write_bytes(ox.serialize(quads, format=ox.RdfFormat.N_QUADS))
    return path


@pytest.fixture(scope="module")
def readable(tmp_path_factory):
    """One read-only ``newsgraph serve`` over the protocol tests' data, each file the named graph of its label."""
    endpoint = start(_dataset_file(tmp_path_factory.mktemp("w3c") / "protocol.nq"))
    yield endpoint
    stop(endpoint)


@pytest.fixture(scope="module")
def updatable(tmp_path_factory):
    """One ``newsgraph serve --allow-update`` over a copy of that data, for the update tests."""
    endpoint = start(_dataset_file(tmp_path_factory.mktemp("w3c") / "protocol.nq"), "--allow-update")
    yield endpoint
    stop(endpoint)


def _is_update(case: w3c.Case) -> bool:
    return case.iri.rsplit("#", 1)[-1].startswith(("update_", "bad_update"))


def send(endpoint, request: dict) -> tuple[int, dict, bytes]:
    """One of the manifest's requests, with its headers only (urllib would add a Content-Type), its ``/sparql/``
    replaced by the server's endpoint path, as the manifest says to do."""
    import http.client

    path = request["path"]
    assert path.startswith("/sparql/"), path
    parts = urllib.parse.urlsplit(endpoint.url)
    rest = path[len("/sparql/"):]
    target = parts.path + (rest if not rest or rest.startswith("?") else "/" + rest)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.putrequest(request["method"], target)
        for name, value in request["headers"].items():
            connection.putheader(name, value)
        body = request["body"]
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, dict(response.headers), response.read()
    finally:
        connection.close()


def _boolean(media: str, body: bytes) -> bool:
    if "json" in media:
        return json.loads(body)["boolean"]
    return bool(ox.parse_query_results(body, ox.QueryResultsFormat.XML))


def check_response(request: dict, status: int, headers: dict, body: bytes) -> None:
    assert f"{status // 100}xx" in request["statuses"], f"status {status}, expected {request['statuses']}: {body[:300]!r}"
    media = headers.get("Content-Type", "").split(";")[0].strip()
    if request["format"] == "boolean":
        assert media in ("application/sparql-results+json", "application/sparql-results+xml"), media
        if request["boolean"] is not None:
            assert _boolean(media, body) is request["boolean"]
    elif request["format"] == "tabular":
        formats = {"application/sparql-results+json": ox.QueryResultsFormat.JSON,
                   "application/sparql-results+xml": ox.QueryResultsFormat.XML,
                   "text/tab-separated-values": ox.QueryResultsFormat.TSV, "text/csv": None}
        assert media in formats, media
        if formats[media] is not None:
            assert isinstance(ox.parse_query_results(body, formats[media]), ox.QuerySolutions)
    elif request["format"] == "RDF":
        formats = {"text/turtle": ox.RdfFormat.TURTLE, "application/n-triples": ox.RdfFormat.N_TRIPLES,
                   "application/rdf+xml": ox.RdfFormat.RDF_XML}
        assert media in formats, media
        list(ox.parse(body, format=formats[media]))


@pytest.mark.parametrize("case", params(PROTOCOL))
def test_protocol(readable, updatable, case):
    endpoint = updatable if _is_update(case) else readable
    for request in _requests(case):
        check_response(request, *send(endpoint, request))
