"""``newsgraph query``: result formats, guards (SERVICE, LOAD, updates), time limit, safe tables.

Most tests run on the handmade graph (no model), whose contents are known exactly.
"""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pyoxigraph as ox
import pytest
import rdflib

from helpers import NG, count_query

RESULTS = "{http://www.w3.org/2005/sparql-results#}"
CAPTURES = "SELECT ?who ?place WHERE { ?who ng:captured ?place } ORDER BY ?who ?place"
ENTITY = "https://w3id.org/newsgraph/entity/"
EXPECTED_CAPTURES = [
    (ENTITY + "Kessarine_Liberation_Army", ENTITY + "Ostrava"),
    (ENTITY + "Kessarine_Liberation_Army", ENTITY + "Velmora"),
    (ENTITY + "Southern_Coast_Militia", ENTITY + "Marrow_Bay"),
]


def quad_set(store) -> set:
    s = ox.Store(str(store))
    return set(s.quads_for_pattern(None, None, None, None))


# -------------------------------------------------------------- SELECT formats


def test_select_table(cli, handmade_ttl):
    out = cli.ok("query", handmade_ttl, CAPTURES).stdout.splitlines()
    assert out[0].split() == ["who", "place"]
    assert set(out[1]) <= {"-", " "}
    assert out[2].split() == ["entity:Kessarine_Liberation_Army", "entity:Ostrava"]
    assert out[-1] == "(3 rows)"


def test_select_csv(cli, handmade_ttl):
    out = cli.ok("query", handmade_ttl, CAPTURES, "--format", "csv").stdout
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["who", "place"]
    assert [tuple(r) for r in rows[1:]] == EXPECTED_CAPTURES


def test_select_tsv(cli, handmade_ttl):
    lines = cli.ok("query", handmade_ttl, CAPTURES, "--format", "tsv").stdout.splitlines()
    assert lines[0] == "?who\t?place"
    assert lines[1:] == [f"<{s}>\t<{o}>" for s, o in EXPECTED_CAPTURES]


def test_select_json_is_w3c_results(cli, handmade_ttl):
    sparql = """SELECT ?doc ?title ?date WHERE { ?doc a ng:Document OPTIONAL { ?doc dcterms:title ?title }
                OPTIONAL { ?doc dcterms:date ?date } } ORDER BY ?doc"""
    data = json.loads(cli.ok("query", handmade_ttl, sparql, "--format", "json").stdout)
    assert data["head"] == {"vars": ["doc", "title", "date"]}
    harbour, river = data["results"]["bindings"]
    assert harbour == {"doc": {"type": "uri", "value": "https://w3id.org/newsgraph/doc/harbour"}}  # unbound: absent
    assert river["title"] == {"type": "literal", "value": "River offensive"}
    assert river["date"] == {"type": "literal", "value": "2024-04-10",
                             "datatype": "http://www.w3.org/2001/XMLSchema#date"}


def test_select_xml_is_w3c_results(cli, handmade_ttl):
    root = ET.fromstring(cli.ok("query", handmade_ttl, CAPTURES, "--format", "xml").stdout.encode("utf-8"))
    assert root.tag == RESULTS + "sparql"
    assert [v.get("name") for v in root.iter(RESULTS + "variable")] == ["who", "place"]
    results = root.find(RESULTS + "results").findall(RESULTS + "result")
    got = [tuple(b.find(RESULTS + "uri").text for b in r.findall(RESULTS + "binding")) for r in results]
    assert got == EXPECTED_CAPTURES


def test_xml_results_survive_characters_xml_cannot_hold(cli, tmp_path):
    path = tmp_path / "odd.nt"
    path.write_text('<urn:a> <http://www.w3.org/2000/01/rdf-schema#label> "bell\\u0007 & <tag> \\"q\\"" .\n')
    root = ET.fromstring(cli.ok("query", path, "SELECT ?l WHERE { ?s rdfs:label ?l }", "--format", "xml").stdout)
    assert root.find(f".//{RESULTS}literal").text == 'bell\ufffd & <tag> "q"'


# -------------------------------------------------------------- ASK, CONSTRUCT, -f


@pytest.mark.parametrize("sparql, answer", [("ASK { ?s ng:captured ?o }", True),
                                            ("ASK { ?s ng:captured ng:Nowhere }", False)])
def test_ask(cli, handmade_ttl, sparql, answer):
    assert cli.ok("query", handmade_ttl, sparql).stdout == ("yes\n" if answer else "no\n")
    assert json.loads(cli.ok("query", handmade_ttl, sparql, "--format", "json").stdout)["boolean"] is answer
    root = ET.fromstring(cli.ok("query", handmade_ttl, sparql, "--format", "xml").stdout)
    assert root.find(RESULTS + "boolean").text == ("true" if answer else "false")


def test_construct_prints_turtle(cli, handmade_ttl):
    out = cli.ok("query", handmade_ttl, "CONSTRUCT { ?o ng:capturedBy ?s } WHERE { ?s ng:captured ?o }").stdout
    g = rdflib.Graph().parse(data=out, format="turtle")
    assert {(str(s), str(o)) for s, _, o in g} == {(o, s) for s, o in EXPECTED_CAPTURES}
    assert "@prefix ng:" in out


def test_query_from_a_file_and_from_stdin(cli, handmade_ttl, tmp_path):
    rq = tmp_path / "captures.rq"
    rq.write_text("# who took what\n" + CAPTURES + "\n", encoding="utf-8")
    expected = cli.ok("query", handmade_ttl, CAPTURES, "--format", "csv").stdout
    assert cli.ok("query", handmade_ttl, "-f", rq, "--format", "csv").stdout == expected
    assert cli.ok("query", handmade_ttl, "-f", "-", "--format", "csv", input=CAPTURES).stdout == expected


def test_a_query_file_that_is_not_utf8_is_one_line(cli, handmade_ttl, tmp_path):
    rq = tmp_path / "garbage.rq"
    rq.write_bytes(b"SELECT \xff\xfe\x00 WHERE {}")
    assert "not UTF-8" in cli.fail("query", handmade_ttl, "-f", rq)
    assert "not UTF-8" in cli.fail("query", handmade_ttl, "-f", "-", input=rq.read_bytes())
    assert "not UTF-8" in cli.fail("export", handmade_ttl, "-o", tmp_path / "n.html", "--query", rq)
    assert not (tmp_path / "n.html").exists()


def test_file_and_store_give_the_same_answer(cli, handmade_ttl, handmade_store):
    for sparql in (CAPTURES, "SELECT ?e ?l WHERE { ?e a ng:Person ; rdfs:label ?l } ORDER BY ?e"):
        assert cli.ok("query", handmade_ttl, sparql, "--format", "json").stdout == \
            cli.ok("query", handmade_store, sparql, "--format", "json").stdout


@pytest.mark.model
def test_file_and_store_built_by_the_model_agree(cli, sample_ttl, sample_store):
    sparql = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"
    from_file = cli.ok("query", sample_ttl, sparql, "--format", "tsv").stdout
    assert from_file == cli.ok("query", sample_store, sparql, "--format", "tsv").stdout
    assert len(from_file.splitlines()) > 100


def test_max_rows_truncates_and_warns(cli, handmade_ttl):
    result = cli.ok("query", handmade_ttl, CAPTURES, "--max-rows", "2", "--format", "csv")
    assert len(result.stdout.splitlines()) == 3
    assert "stopped after 2 rows" in result.stderr


@pytest.mark.parametrize("cap, rows, truncated", [(1, 1, True), (2, 2, True), (3, 3, True), (4, 3, False)])
def test_max_rows_keeps_exactly_that_many_rows(handmade_ttl, cap, rows, truncated):
    from newsgraph.query import run
    from newsgraph.store import open_source

    result = run(open_source(str(handmade_ttl)), CAPTURES, max_rows=cap)
    assert [(a.value, b.value) for a, b in result.rows] == EXPECTED_CAPTURES[:rows]
    assert result.truncated is truncated  # a result of exactly the cap's size cannot tell it is whole


def test_solutions_keep_every_term_exactly(tmp_path):
    """The solutions go through the engine's TSV and back: every kind of term must come back the same."""
    from newsgraph.query import render, run
    from newsgraph.store import open_source

    path = tmp_path / "odd.nt"
    objects = ['"line\\r\\nbreak \\"q\\" \\ttab \\u0001 \\\\ back"', '"hi"@en-GB', '""', '"a\\u0085b\\u2028c"',
               '"05"^^<http://www.w3.org/2001/XMLSchema#integer>', '"+5"^^<http://www.w3.org/2001/XMLSchema#integer>',
               '" 5"^^<http://www.w3.org/2001/XMLSchema#integer>', '"2.50"^^<http://www.w3.org/2001/XMLSchema#decimal>',
               '"1"^^<http://www.w3.org/2001/XMLSchema#boolean>', '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>',
               '"1e3"^^<http://www.w3.org/2001/XMLSchema#double>', '"x"^^<urn:dt>', "_:b", "<urn:y%20z?q=1&r=2#f>"]
    path.write_text("".join(f"<urn:s> <urn:p{i}> {o} .\n" for i, o in enumerate(objects)), encoding="utf-8")
    graph = open_source(str(path))
    sparql = ("SELECT ?o ?u ?t WHERE { ?s ?p ?o OPTIONAL { ?o ?q ?u } BIND(IF(isIRI(?o), <<( ?s ?p ?o )>>, 1) AS ?t) } "
              "ORDER BY ?p")
    expected = [list(row) for row in graph.store.query(sparql, prefixes={})]
    result = run(graph, sparql)
    assert result.rows == expected and len(expected) == len(objects)
    lines = render(result, "tsv").split("\n")[1:-1]  # not splitlines: a literal may hold U+0085 or U+2028
    assert lines == ["\t".join("" if t is None else str(t) for t in row) for row in expected]


# -------------------------------------------------------------- refusals


def test_invalid_sparql_is_one_line(cli, handmade_ttl):
    line = cli.fail("query", handmade_ttl, "SELECT ?x WHERE { ?x ng:captured }")
    assert line.startswith("Error: invalid SPARQL:")


def test_empty_query_is_refused(cli, handmade_ttl):
    assert "empty" in cli.fail("query", handmade_ttl, "  \n")


def remote_queries(url: str) -> list[str]:
    return [
        f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ service silent <{url}sparql> {{ ?s ?p ?o }} }}",
        f"PREFIX remote: <{url}>\nSELECT * WHERE {{ SERVICE# hidden\nremote:x {{ ?s ?p ?o }} }}",
        f"LOAD <{url}data.ttl>",
        f"LOAD SILENT <{url}data.ttl> INTO GRAPH <urn:g>",
    ]


def test_service_and_load_never_reach_the_network(cli, handmade_ttl, handmade_store, canary):
    for graph in (handmade_ttl, handmade_store):
        for sparql in remote_queries(canary.url):
            line = cli.fail("query", graph, sparql)
            assert "not allowed" in line or "SPARQL update" in line, line
    assert canary.requests == []


def test_from_a_url_reads_nothing_remote(cli, handmade_ttl, canary):
    out = cli.ok("query", handmade_ttl, f"SELECT (COUNT(*) AS ?n) FROM <{canary.url}> WHERE {{ ?s ?p ?o }}",
                 "--format", "csv").stdout
    assert out.splitlines()[1] == "0"
    assert canary.requests == []


def test_export_query_is_guarded_too(cli, handmade_ttl, canary, tmp_path):
    rq = tmp_path / "remote.rq"
    rq.write_text(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{canary.url}> {{ ?s ?p ?o }} }}")
    assert "SERVICE is not allowed" in cli.fail("export", handmade_ttl, "-o", tmp_path / "x.html", "--query", rq)
    assert canary.requests == []
    assert not (tmp_path / "x.html").exists()


def test_words_inside_strings_and_iris_are_not_refused(cli, handmade_ttl):
    sparql = ('SELECT ?l WHERE { ?e rdfs:label ?l FILTER(?l != "SERVICE <http://x/> LOAD" '
              '&& ?e != <urn:load:service>) } # SERVICE in a comment\nORDER BY ?l LIMIT 1')
    assert cli.ok("query", handmade_ttl, sparql, "--format", "csv").stdout.splitlines()[1] == "Corvanne"


@pytest.mark.parametrize("update", [
    "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
    "PREFIX ex: <http://example.org/>\nDELETE WHERE { ?s ?p ?o }",
    "DROP ALL",
    "clear default",
    "WITH <urn:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "SELECT * WHERE { ?s ?p ?o } ; DROP ALL",
])
def test_updates_are_refused_and_change_nothing(cli, handmade_store, update):
    before = quad_set(handmade_store)
    line = cli.fail("query", handmade_store, update)
    assert line.startswith("Error: ")
    assert quad_set(handmade_store) == before


def test_update_refusal_says_what_to_do(cli, handmade_store):
    line = cli.fail("query", handmade_store, "DROP ALL")
    assert "DROP is a SPARQL update" in line and "SELECT" in line


# -------------------------------------------------------------- relative IRIs


def test_relative_iris_resolve_against_the_graph_file_by_default(cli, handmade_ttl, tmp_path):
    out = cli.ok("query", handmade_ttl, "SELECT (<x> AS ?x) (<../y> AS ?y) {}", "--format", "csv").stdout.splitlines()
    assert out[1:] == [f"{handmade_ttl.as_uri()[:-len('graph.ttl')]}x,{handmade_ttl.parent.parent.as_uri()}/y"]
    # a relative IRI in the file resolves against the file too, so query and data agree without --base
    path = tmp_path / "relative.ttl"
    path.write_text('<a> <p> <x> .\n<b> <p> <other> .\n', encoding="utf-8")
    out = cli.ok("query", path, "SELECT ?s WHERE { ?s ?p <x> }", "--format", "csv").stdout.splitlines()
    assert out == ["s", (tmp_path / "a").as_uri()]


def test_a_store_directory_is_the_base_of_its_queries(cli, handmade_store):
    out = cli.ok("query", handmade_store, "SELECT (<x> AS ?x) {}", "--format", "csv").stdout.splitlines()
    assert out[1] == handmade_store.as_uri() + "/x"


def test_base_option(cli, handmade_ttl):
    found = cli.ok("query", handmade_ttl, "SELECT ?who WHERE { ?who ng:captured <Ostrava> }", "--format", "csv",
                   "--base", ENTITY).stdout.splitlines()
    assert found == ["who", ENTITY + "Kessarine_Liberation_Army"]
    # without it <Ostrava> is a file next to the graph, which nothing captured
    assert cli.ok("query", handmade_ttl, "ASK { ?who ng:captured <Ostrava> }").stdout == "no\n"


def test_base_in_the_query_wins(cli, handmade_ttl):
    sparql = f"BASE <{ENTITY}> SELECT ?place WHERE {{ <Southern_Coast_Militia> ng:captured ?place }}"
    for extra in ([], ["--base", "http://elsewhere.example/"]):
        out = cli.ok("query", handmade_ttl, sparql, "--format", "csv", *extra).stdout.splitlines()
        assert out == ["place", ENTITY + "Marrow_Bay"], extra
    relative = "BASE <entity/> SELECT (<x> AS ?x) {}"  # a relative BASE resolves against --base
    out = cli.ok("query", handmade_ttl, relative, "--format", "csv", "--base", "https://w3id.org/newsgraph/").stdout
    assert out.splitlines()[1] == ENTITY + "x"


@pytest.mark.parametrize("base", ["x", "not an iri", "http://e/a b", ""])
def test_an_invalid_base_is_a_usage_error(cli, handmade_ttl, tmp_path, base):
    for command in (["query", handmade_ttl, "ASK {}"], ["export", handmade_ttl, "-o", tmp_path / "g.ttl",
                                                         "--query", "-"]):
        result = cli.run(*command, "--base", base, input="CONSTRUCT WHERE { ?s ?p ?o }")
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        assert result.stderr.splitlines()[-1].startswith("Error: Invalid value for '--base': ")
        assert "is not an absolute IRI" in result.stderr


def test_export_query_takes_the_base_too(cli, handmade_ttl, tmp_path):
    construct = tmp_path / "q.rq"
    construct.write_text("CONSTRUCT { <Tomas_Halvik> ?p ?o } WHERE { <Tomas_Halvik> ?p ?o FILTER(isIRI(?o)) }",
                         encoding="utf-8")
    out = tmp_path / "halvik.graphml"
    line = cli.ok("export", handmade_ttl, "-o", out, "--query", construct, "--base", ENTITY).stderr
    assert not line.startswith("0 nodes") and ENTITY + "Tomas_Halvik" in out.read_text(encoding="utf-8")
    assert cli.ok("export", handmade_ttl, "-o", out, "--query", construct).stderr.startswith("0 nodes")


# -------------------------------------------------------------- time limit


def test_timeout_stops_a_slow_query(tmp_path):
    """Run in a subprocess: a stopped query's thread keeps running in its process until exit."""
    path = tmp_path / "big.nt"
    path.write_text("".join(f'<urn:s{i}> <urn:p> "{i}" .\n' for i in range(3000)))
    cmd = [sys.executable, "-m", "newsgraph.cli", "query", str(path)]
    started = time.monotonic()
    baseline = subprocess.run(cmd + ["ASK { ?s ?p ?o }"], capture_output=True, text=True, timeout=60)
    startup = time.monotonic() - started
    assert baseline.stdout == "yes\n"

    started = time.monotonic()
    slow = subprocess.run(cmd + ["SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }",
                                 "--timeout", "0.5"], capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - started
    assert slow.returncode == 1
    assert slow.stderr.splitlines() == ["Error: query stopped after 0.5 s (raise the limit with --timeout)"]
    assert elapsed - startup < 0.5 + 1.0, f"took {elapsed:.2f} s (startup {startup:.2f} s)"


# -------------------------------------------------------------- terminal safety


def test_control_characters_are_escaped_in_tables(cli, tmp_path):
    path = tmp_path / "evil.nt"
    path.write_text('<urn:e> <http://www.w3.org/2000/01/rdf-schema#label> '
                    '"red \\u001B[31mALERT\\u001B[0m \\u202Eevil\\rback\\u0007" .\n')
    out = cli.ok("query", path, "SELECT ?l WHERE { ?s rdfs:label ?l }").stdout
    assert "\x1b" not in out and "\u202e" not in out and "\r" not in out and "\x07" not in out
    assert "red \\x1b[31mALERT\\x1b[0m \\u202eevil\\x0dback\\x07" in out
    raw = json.loads(cli.ok("query", path, "SELECT ?l WHERE { ?s rdfs:label ?l }", "--format", "json").stdout)
    assert raw["results"]["bindings"][0]["l"]["value"] == "red \x1b[31mALERT\x1b[0m \u202eevil\rback\x07"  # data stays data
    # piped to a file, the data formats keep every character of the data (TSV writes it as RDF term escapes)
    csv = cli.ok("query", path, "SELECT ?l WHERE { ?s rdfs:label ?l }", "--format", "csv").stdout
    assert "red \x1b[31mALERT\x1b[0m \u202eevil" in csv
    tsv = cli.ok("query", path, "SELECT ?l WHERE { ?s rdfs:label ?l }", "--format", "tsv").stdout
    assert "\\u001B[31mALERT" in tsv


def test_the_predeclared_prefixes_work(cli, handmade_ttl):
    sparql = ("SELECT (COUNT(?a) AS ?n) WHERE { ?a a ng:Assertion ; rdf:subject ?s ; prov:wasDerivedFrom ?d ; "
              "ng:sentenceStart ?x . ?d a ng:Document . FILTER(datatype(?x) = xsd:integer) }")
    assert cli.ok("query", handmade_ttl, sparql, "--format", "csv").stdout.splitlines()[1] == "7"
    assert count_query(handmade_ttl, f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{NG}captured> ?o }}") == 3


def test_a_misspelt_ontology_term_is_named_with_the_nearest_one(cli, handmade_ttl):
    typo = cli.ok("query", handmade_ttl, "SELECT * WHERE { ?a ng:captred ?b }")
    assert typo.stderr.splitlines() == ["warning: ng:captred is not a term of the newsgraph ontology (did you mean ng:captured?)"]
    assert cli.ok("query", handmade_ttl, "SELECT * WHERE { ?a ng:captured ?b }").stderr == ""
    # a string, an IRI of another namespace and a query's own ng: prefix are no ontology terms
    quiet = ['SELECT * WHERE { ?a rdfs:label "ng:nothing" }',
             "PREFIX ng: <http://example.org/> SELECT * WHERE { ?a ng:mine ?b }"]
    assert all(cli.ok("query", handmade_ttl, q).stderr == "" for q in quiet)
