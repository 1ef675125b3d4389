"""``newsgraph build`` end to end, and the CLI's error contract.

Builds use the real model on tests/data/articles/; assertions are about what
reaches the RDF (documents, metadata, formats, determinism), not about which
relations the rules find.
"""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from helpers import ARTICLES, FEED, HARBOUR, NG, RIVER, Cli, count_query, triple_count

DCT = rdflib.Namespace("http://purl.org/dc/terms/")
SCHEMA = rdflib.Namespace("https://schema.org/")
NGNS = rdflib.Namespace(NG)
SUFFIXES = ("ttl", "nt", "nq", "trig", "jsonld")


def documents(path: Path) -> dict[str, dict]:
    """``{document id: {"title", "date", "url"}}`` of a built graph (any RDF file), as written."""
    from newsgraph.store import rdf_format

    props = {"title": str(DCT.title), "date": str(DCT.date), "url": str(SCHEMA.url)}
    ids, meta = {}, {}
    for t in ox.parse(path=str(path), format=rdf_format(path)):
        if t.predicate.value == NG + "documentId":
            ids[t.subject] = t.object.value
        for key, prop in props.items():
            if t.predicate.value == prop:
                meta.setdefault(t.subject, {})[key] = t.object.value
    return {doc_id: {key: meta.get(d, {}).get(key) for key in props} for d, doc_id in ids.items()}


# -------------------------------------------------------------- inputs


@pytest.mark.model
def test_build_one_text_file(cli, tmp_path):
    out = tmp_path / "river.ttl"
    result = cli.ok("build", RIVER, "-o", out)
    assert result.stdout == ""  # data goes to the file, the summary to stderr
    assert "1 article added" in result.stderr and str(out) in result.stderr
    assert documents(out) == {"river_offensive": {"title": None, "date": None, "url": None}}
    assert count_query(out) >= 3  # people, an army and places: the plumbing carries entities through


@pytest.mark.model
def test_build_folder_of_text_files(cli, tmp_path):
    folder = tmp_path / "in"
    (folder / "2024").mkdir(parents=True)
    shutil.copy(RIVER, folder / "2024" / "river.txt")
    shutil.copy(HARBOUR, folder / "harbour.txt")
    (folder / ".hidden.txt").write_text("Anika Varga met Rolf Denner in Port Selwyn.", encoding="utf-8")
    out = tmp_path / "graph.nt"
    result = cli.ok("build", folder, "-o", out)
    assert "2 articles added" in result.stderr
    assert set(documents(out)) == {"2024/river", "harbour"}


@pytest.mark.model
def test_build_json_lines_keeps_title_date_url(cli, tmp_path):
    out = tmp_path / "feed.ttl"
    cli.ok("build", FEED, "-o", out)
    assert documents(out) == {
        "wire-0412": {"title": "Envoys meet as Brigade takes airfield", "date": "2024-04-12",
                      "url": "https://news.example.org/wire/0412"},
        "wire-0413": {"title": "Rebel commander visits the south", "date": "2024-04-13T08:30:00Z",
                      "url": "https://news.example.org/wire/0413"},
    }
    g = rdflib.Graph().parse(out)
    doc = next(g.subjects(NGNS.documentId, rdflib.Literal("wire-0412")))
    assert g.value(doc, DCT.date).datatype == rdflib.XSD.date
    assert isinstance(g.value(doc, SCHEMA.url), rdflib.URIRef)
    doc = next(g.subjects(NGNS.documentId, rdflib.Literal("wire-0413")))
    assert g.value(doc, DCT.date).datatype == rdflib.XSD.dateTime


@pytest.mark.model
def test_build_from_stdin(cli, tmp_path):
    text = HARBOUR.read_bytes()
    out = tmp_path / "stdin.nt"
    cli.ok("build", "-", "-o", out, input=text)
    expected_id = "stdin-" + hashlib.sha256(text.decode("utf-8").encode("utf-8")).hexdigest()[:12]
    assert set(documents(out)) == {expected_id}


@pytest.mark.model
def test_build_json_lines_from_stdin(cli, tmp_path):
    out = tmp_path / "stdin.ttl"
    cli.ok("build", "-", "-o", out, input=FEED.read_bytes())
    assert set(documents(out)) == {"wire-0412", "wire-0413"}


# -------------------------------------------------------------- formats


@pytest.fixture(scope="module")
def every_format(tmp_path_factory):
    """The sample articles built once into each RDF suffix."""
    folder = tmp_path_factory.mktemp("formats")
    paths = {}
    for suffix in SUFFIXES:
        paths[suffix] = folder / f"graph.{suffix}"
        Cli().ok("build", ARTICLES, "-o", paths[suffix], "-q")
    return paths


@pytest.mark.model
@pytest.mark.parametrize("suffix", SUFFIXES)
def test_every_output_suffix_reparses(every_format, suffix):
    path = every_format[suffix]
    n = triple_count(path)  # rdflib and pyoxigraph agree
    quads = list(ox.parse(path=str(every_format["nq"]), format=ox.RdfFormat.N_QUADS))
    if suffix in ("nq", "trig", "jsonld"):  # datasets: one named graph per document
        assert n == len(quads)
        assert {q.graph_name.value for q in ox.parse(path=str(path), format={
            "nq": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG, "jsonld": ox.RdfFormat.JSON_LD}[suffix])} == \
            {q.graph_name.value for q in quads}
    else:  # triple formats: the documents' graphs merged
        assert n == len({(q.subject, q.predicate, q.object) for q in quads})
    assert set(documents(path)) == {"river_offensive", "harbour_talks", "wire-0412", "wire-0413"}


@pytest.mark.model
def test_turtle_output_uses_the_projects_prefixes(every_format):
    text = every_format["ttl"].read_text(encoding="utf-8")
    assert "@prefix ng: <https://w3id.org/newsgraph/ontology#>" in text
    assert "ns1:" not in text


@pytest.mark.model
def test_output_files_are_readable_by_others(every_format):
    for path in every_format.values():
        assert path.stat().st_mode & 0o044 == 0o044, f"{path.name} is {oct(path.stat().st_mode)}"


@pytest.mark.model
def test_summary_counts_what_the_output_holds(cli, tmp_path):
    for suffix in ("ttl", "nq"):  # the articles share entities: merged triples < quads
        out = tmp_path / f"graph.{suffix}"
        result = cli.ok("build", ARTICLES, "-o", out)
        assert result.stderr.endswith(f" {triple_count(out)} triples in {out}\n"), result.stderr
    assert triple_count(tmp_path / "graph.ttl") < triple_count(tmp_path / "graph.nq")


def test_unknown_output_suffix_names_it_and_the_choices(cli, tmp_path):
    line = cli.fail("build", RIVER, "-o", tmp_path / "out.tt")
    assert "'tt'" in line
    for suffix in SUFFIXES:
        assert suffix in line
    assert not (tmp_path / "out.tt").exists()


def test_dash_is_not_a_store_name(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = cli.fail("build", RIVER, "-o", "-")
    assert "'-'" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.model
def test_output_is_deterministic(cli, tmp_path):
    for name in ("a", "b"):
        cli.ok("build", ARTICLES, "-o", tmp_path / f"{name}.nt", "-q")
        cli.ok("build", ARTICLES, "-o", tmp_path / f"{name}.ttl", "-q")
    assert (tmp_path / "a.nt").read_bytes() == (tmp_path / "b.nt").read_bytes()
    assert isomorphic(rdflib.Graph().parse(tmp_path / "a.ttl"), rdflib.Graph().parse(tmp_path / "b.ttl"))
    assert isomorphic(rdflib.Graph().parse(tmp_path / "a.ttl"), rdflib.Graph().parse(tmp_path / "a.nt"))


# -------------------------------------------------------------- error paths


def _corrupt_store(tmp_path: Path) -> Path:
    bad = tmp_path / "bad_store"
    bad.mkdir()
    (bad / "CURRENT").write_text("this is not a manifest name\n")
    return bad


def _broken_rdf(tmp_path: Path) -> Path:
    path = tmp_path / "broken.ttl"
    path.write_text('@prefix ng: <https://w3id.org/newsgraph/ontology#> .\n<urn:a> ng:captured "unterminated .\n')
    return path


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


BUILD_ERRORS = {
    "missing input": (lambda p: p / "nowhere.txt", "no such file"),
    "empty file": (lambda p: _file(p, "empty.txt", b""), "empty"),
    "non-UTF-8 file": (lambda p: _file(p, "latin1.txt", "Caf\u00e9 talks in Corvanne.".encode("latin-1")), "UTF-8"),
    "binary file": (lambda p: _file(p, "blob.txt", bytes(range(256)) * 4), "binary"),
}


@pytest.mark.model
@pytest.mark.parametrize("case", BUILD_ERRORS)
def test_build_error_is_one_line(cli, tmp_path, case):
    make, fragment = BUILD_ERRORS[case]
    source = make(tmp_path)
    line = cli.fail("build", source, "-o", tmp_path / "out.ttl")
    assert line.startswith("Error: ") and fragment in line and source.name in line
    assert not (tmp_path / "out.ttl").exists()


QUERY_ERRORS = {
    "invalid SPARQL": (lambda p: ["query", _broken_rdf(p).with_name("ok.nt"), "SELEC ?x WHERE {}"], "invalid SPARQL"),
    "corrupt store": (lambda p: ["query", _corrupt_store(p), "ASK {}"], "cannot open store"),
    "graph that does not exist": (lambda p: ["query", p / "missing.ttl", "ASK {}"], "no graph at"),
    "directory that is not a store": (lambda p: ["query", p, "ASK {}"], "not an Oxigraph store"),
    "RDF syntax error": (lambda p: ["query", _broken_rdf(p), "ASK {}"], "not valid Turtle"),
    "unknown graph suffix": (lambda p: ["query", _file(p, "graph.txt", b"hello"), "ASK {}"], "unknown format 'txt'"),
    "export of a missing graph": (lambda p: ["export", p / "missing.ttl", "-o", p / "x.html"], "no graph at"),
    "export of a corrupt store": (lambda p: ["export", _corrupt_store(p), "-o", p / "x.html"], "cannot open store"),
    "export to an unknown format": (lambda p: ["export", _broken_rdf(p), "-o", p / "x.png"], "unknown export format 'png'"),
}


@pytest.mark.parametrize("case", QUERY_ERRORS)
def test_query_and_export_errors_are_one_line(cli, tmp_path, case):
    make, fragment = QUERY_ERRORS[case]
    (tmp_path / "ok.nt").write_text("<urn:a> <urn:b> <urn:c> .\n")
    line = cli.fail(*make(tmp_path))
    assert line.startswith("Error: ") and fragment in line, line


def test_corrupt_store_is_not_built_into(cli, tmp_path):
    bad = _corrupt_store(tmp_path)
    line = cli.fail("build", RIVER, "-o", bad)
    assert "cannot open store" in line
    assert (bad / "CURRENT").read_text() == "this is not a manifest name\n"
    assert not any(p.suffix in (".sst", ".log") for p in bad.iterdir())


@pytest.mark.model
@pytest.mark.parametrize("bad", ["missing", "latin1", "bad record"])
def test_failed_build_leaves_a_store_intact(cli, tmp_path, bad):
    store = tmp_path / "store"
    cli.ok("build", RIVER, "-o", store, "-q")
    before = count_query(store, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    if bad == "missing":
        args = [HARBOUR, tmp_path / "missing.txt"]
    elif bad == "latin1":
        args = [HARBOUR, _file(tmp_path, "latin1.txt", "Caf\u00e9".encode("latin-1"))]
    else:
        feed = tmp_path / "feed.jsonl"
        feed.write_text('{"id": "x", "text": "Anika Varga met Rolf Denner."}\n{"id": "y", "text": 5}\n')
        args = [feed, "--on-error", "fail"]
    cli.fail("build", *args, "-o", store)
    assert count_query(store, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }") == before


@pytest.mark.model
def test_failed_build_does_not_touch_an_existing_file(cli, tmp_path):
    out = tmp_path / "graph.ttl"
    cli.ok("build", RIVER, "-o", out, "-q")
    before = out.read_bytes()
    cli.fail("build", HARBOUR, tmp_path / "missing.txt", "-o", out)
    assert out.read_bytes() == before
    cli.fail("build", _file(tmp_path, "latin1.txt", b"caf\xe9"), "-o", tmp_path / "new.nt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.ttl", "latin1.txt"]  # no partial or temporary file


@pytest.mark.model
def test_skipped_records_are_listed_and_exit_3(cli, tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_text(FEED.read_text(encoding="utf-8") + '{"id": "broken", "text": 5}\n', encoding="utf-8")
    out = tmp_path / "graph.ttl"
    result = cli.run("build", feed, "-o", out)
    assert result.exit_code == 3
    assert [line for line in result.stderr.splitlines() if line.startswith("skipped ")] == \
        [f"skipped {feed}:3: {line.split(': ', 1)[1]}" for line in result.stderr.splitlines() if line.startswith("skipped ")]
    assert f"{feed}:3" in result.stderr and "1 skipped" in result.stderr
    assert set(documents(out)) == {"wire-0412", "wire-0413"}


def test_usage_errors_exit_2(cli, tmp_path):
    result = cli.run("build", RIVER)  # no -o
    assert result.exit_code == 2 and "Missing option" in result.stderr
    result = cli.run("query", tmp_path / "g.ttl")  # neither QUERY nor -f
    assert result.exit_code == 2 and "-f FILE" in result.stderr


def test_every_command_help_ends_with_an_example(cli):
    for command in ([], ["build"], ["query"], ["export"]):
        text = cli.ok(*command, "--help").stdout
        assert "Example:" in text and "newsgraph " in text.split("Example:")[-1], command


def test_messages_count_in_the_singular_and_point_html_at_export(cli, tmp_path):
    article = tmp_path / "one.txt"
    article.write_text("Marek Hollis met Ansel Korrin in Olinsk on Monday.\n")
    built = cli.ok("build", article, "-o", tmp_path / "g.ttl")
    assert "1 article added" in built.stderr and "1 relation;" in built.stderr, built.stderr
    assert "export" in cli.fail("build", article, "-o", tmp_path / "g.html")
