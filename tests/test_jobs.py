"""The server's jobs, done in this process as a query worker does them (no HTTP, no pool)."""
from __future__ import annotations

import json
import pickle

import pytest

from newsgraph.jobs import RETIRE, TRUNCATED, NetworkJob, QueryJob, Source, UpdateJob, do
from newsgraph.store import locate

BASE = "http://127.0.0.1:7878/sparql"


def query(text: str, results: str = "json", graph: str = "text/turtle", max_rows: int = 100,
          default: tuple[str, ...] = (), named: tuple[str, ...] = ()) -> QueryJob:
    return QueryJob(text, results, graph, max_rows, default, named, BASE)


@pytest.fixture
def ten(tmp_path):
    path = tmp_path / "ten.nq"
    path.write_text("".join(f'<urn:s{i}> <urn:p> "{i}" <urn:g{i % 2}> .\n' for i in range(10)), encoding="utf-8")
    return path


def open_graph(path, writable: bool = False):
    return Source(locate(str(path)), writable).where.open(writable=writable, shared=True)


def test_the_same_query_spaced_otherwise_is_the_same_job_for_the_slow_lane():
    assert query("SELECT *\n  WHERE { ?s ?p ?o }").key == query(" SELECT * WHERE { ?s ?p ?o }").key
    assert query("ASK {}").key != query("ASK {}", default=("urn:g0",)).key
    assert query("ASK {}").key != query("ASK {}", named=("urn:g0",)).key


@pytest.mark.parametrize("job", [query("ASK {}"), UpdateJob("INSERT DATA {}", "INSERT DATA {}", (), BASE),
                                 NetworkJob("newsgraph: ten")])
def test_a_job_crosses_to_a_worker_and_cannot_change_on_the_way(job):
    assert pickle.loads(pickle.dumps(job)) == job
    with pytest.raises(AttributeError):
        job.base = "elsewhere"  # frozen


def test_a_select_is_answered_in_the_format_asked_and_cut_at_the_row_cap(ten):
    graph = open_graph(ten)
    status, media, body, headers = do(graph, query("SELECT ?s WHERE { GRAPH ?g { ?s ?p ?o } }", max_rows=3))
    assert (status, media) == (200, "application/sparql-results+json")
    assert len(json.loads(body)["results"]["bindings"]) == 3 and headers == {TRUNCATED: "3"}
    status, media, body, headers = do(graph, query("SELECT ?s WHERE { GRAPH <urn:g0> { ?s ?p ?o } }", results="csv"))
    assert (status, media, headers) == (200, "text/csv; charset=utf-8", {})
    assert body.decode().splitlines()[0] == "s" and len(body.decode().splitlines()) == 6


def test_a_construct_is_answered_in_the_media_type_asked(ten):
    graph = open_graph(ten)
    status, media, body, _ = do(graph, query("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }",
                                             graph="application/n-triples"))
    assert status == 200 and media == "application/n-triples"
    assert len(body.decode().splitlines()) == 10


def test_a_bad_query_or_update_is_a_400_reply_not_an_exception(ten):
    assert do(open_graph(ten), query("SELECT WHERE {"))[0] == 400
    graph = open_graph(ten, writable=True)
    assert do(graph, UpdateJob("INSERT DATA {", "INSERT DATA {", (), BASE))[0] == 400


def test_an_update_is_written_back_and_never_asks_for_a_new_worker(ten):
    graph = open_graph(ten, writable=True)
    status, _, body, headers = do(graph, UpdateJob("INSERT DATA { GRAPH <urn:g9> { <urn:x> <urn:p> 1 } }",
                                                   "INSERT DATA { GRAPH <urn:g9> { <urn:x> <urn:p> 1 } }", (), BASE))
    assert (status, body) == (204, b"") and RETIRE not in headers
    assert "<urn:x>" in ten.read_text(encoding="utf-8")
