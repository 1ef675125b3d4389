"""``newsgraph export``: HTML, GraphML, GEXF and RDF, whole or cut by relation, focus or query.

The handmade graph (no model) has 10 typed entities and 6 drawn facts:
KLA captured Velmora and Ostrava, the militia captured Marrow Bay, Halvik met
Maren and Castell, Maren is allied to the KLA. A planned capture is not drawn.
"""
from __future__ import annotations

import json
import re

import networkx as nx
import pyoxigraph as ox
import pytest

from helpers import HANDMADE_EDGES, HANDMADE_ENTITIES, NG, count_query, triple_count

LABELS = {"Idris Maren", "Tomas Halvik", "Lena Castell", "Kessarine Liberation Army", "Southern Coast Militia",
          "Velmora", "Ostrava", "Corvanne", "Dravenport", "Marrow Bay"}


def read_network(path) -> nx.MultiDiGraph:
    if path.suffix == ".graphml":
        return nx.read_graphml(path, force_multigraph=True)
    return nx.MultiDiGraph(nx.read_gexf(path))


def page_data(path) -> dict:
    """The graph embedded in an exported page."""
    html = path.read_text(encoding="utf-8")
    m = re.search(r'<script type="application/json" id="ng-data">(.*?)</script>', html, re.S)
    assert m, "no embedded graph data"
    return json.loads(m.group(1))


def labels_of(g: nx.MultiDiGraph) -> set[str]:
    return {a["label"] for _, a in g.nodes(data=True)}


def relations_of(g: nx.MultiDiGraph) -> list[str]:
    return sorted(a["relation"] for *_, a in g.edges(data=True))


# -------------------------------------------------------------- whole graph


def test_html_is_self_contained(cli, handmade_ttl, tmp_path):
    out = tmp_path / "graph.html"
    result = cli.ok("export", handmade_ttl, "-o", out)
    assert result.stdout == ""
    assert f"{HANDMADE_ENTITIES} nodes, {sum(HANDMADE_EDGES.values())} edges" in result.stderr
    html = out.read_text(encoding="utf-8")
    assert re.search(r'<meta http-equiv="Content-Security-Policy" content="[^"]*default-src \'none\'', html)
    assert not re.search(r"<script[^>]*\ssrc\s*=", html, re.I)
    assert not re.search(r"<link[^>]*\shref\s*=\s*[\"']?(https?:)?//", html, re.I)
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", html, re.I)
    assert not re.search(r"@import|url\(\s*[\"']?(https?:)?//", html, re.I)
    data = page_data(out)
    assert {n["label"] for n in data["nodes"]} == LABELS
    assert len(data["edges"]) == sum(HANDMADE_EDGES.values())


def test_html_title_option(cli, handmade_ttl, tmp_path):
    out = tmp_path / "graph.html"
    cli.ok("export", handmade_ttl, "-o", out, "--title", "Front <lines> & talks")
    assert "<title>Front &lt;lines&gt; &amp; talks</title>" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("suffix", ["graphml", "gexf"])
def test_network_formats_read_back(cli, handmade_ttl, tmp_path, suffix):
    out = tmp_path / f"graph.{suffix}"
    cli.ok("export", handmade_ttl, "-o", out)
    g = read_network(out)
    assert g.number_of_nodes() == HANDMADE_ENTITIES == count_query(handmade_ttl)
    assert labels_of(g) == LABELS
    assert relations_of(g) == sorted(r for r, n in HANDMADE_EDGES.items() for _ in range(n))
    kla = next(n for n, a in g.nodes(data=True) if a["label"] == "Kessarine Liberation Army")
    assert g.nodes[kla]["cls"] == "Organization" and "KLA" in g.nodes[kla]["names"]
    edge = next(a for u, _, a in g.edges(data=True) if u == kla and a["relation"] == "captured")
    assert "The KLA captured" in edge["evidence"]


def test_store_and_file_export_the_same_network(cli, handmade_ttl, handmade_store, tmp_path):
    cli.ok("export", handmade_ttl, "-o", tmp_path / "file.graphml")
    cli.ok("export", handmade_store, "-o", tmp_path / "store.graphml")
    assert (tmp_path / "file.graphml").read_bytes() == (tmp_path / "store.graphml").read_bytes()


@pytest.mark.parametrize("suffix", ["ttl", "nt", "nq", "trig", "jsonld"])
def test_rdf_export_of_a_store(cli, handmade_store, tmp_path, suffix):
    out = tmp_path / f"graph.{suffix}"
    result = cli.ok("export", handmade_store, "-o", out)
    n = triple_count(out)
    assert f"{n} triples" in result.stderr  # the summary counts what the file holds
    stored = ox.Store(str(handmade_store))
    named = [q for q in stored.quads_for_pattern(None, None, None, None) if isinstance(q.graph_name, ox.NamedNode)]
    assert n == (len(named) if suffix in ("nq", "trig", "jsonld") else len({q.triple for q in named}))


# -------------------------------------------------------------- cuts


def test_relation_keeps_only_captured_edges(cli, handmade_ttl, tmp_path):
    out = tmp_path / "captures.graphml"
    cli.ok("export", handmade_ttl, "-o", out, "--relation", "captured")
    g = read_network(out)
    assert relations_of(g) == ["captured"] * HANDMADE_EDGES["captured"]
    assert labels_of(g) == {"Kessarine Liberation Army", "Velmora", "Ostrava", "Southern Coast Militia", "Marrow Bay"}


def test_relation_is_repeatable(cli, handmade_ttl, tmp_path):
    out = tmp_path / "some.gexf"
    cli.ok("export", handmade_ttl, "-o", out, "--relation", "metWith", "--relation", "alliedTo")
    assert relations_of(read_network(out)) == ["alliedTo", "metWith", "metWith"]


def test_unknown_relation_is_refused(cli, handmade_ttl, tmp_path):
    line = cli.fail("export", handmade_ttl, "-o", tmp_path / "x.html", "--relation", "invaded")
    assert "'invaded'" in line and "captured" in line
    assert not (tmp_path / "x.html").exists()


@pytest.mark.parametrize("name, depth, expected", [
    ("Tomas Halvik", 0, {"Tomas Halvik"}),
    ("Tomas Halvik", 1, {"Tomas Halvik", "Idris Maren", "Lena Castell"}),
    ("halvik", 2, {"Tomas Halvik", "Idris Maren", "Lena Castell", "Kessarine Liberation Army"}),  # another name, any case
    ("KLA", 1, {"Kessarine Liberation Army", "Velmora", "Ostrava", "Idris Maren"}),
])
def test_focus_and_depth(cli, handmade_ttl, tmp_path, name, depth, expected):
    out = tmp_path / "focus.graphml"
    cli.ok("export", handmade_ttl, "-o", out, "--focus", name, "--depth", depth)
    assert labels_of(read_network(out)) == expected


def test_focus_with_relation(cli, handmade_ttl, tmp_path):
    out = tmp_path / "focus.graphml"
    cli.ok("export", handmade_ttl, "-o", out, "--focus", "Idris Maren", "--depth", 3, "--relation", "metWith")
    assert labels_of(read_network(out)) == {"Idris Maren", "Tomas Halvik", "Lena Castell"}


def test_focus_on_an_unknown_name_is_an_error(cli, handmade_ttl, tmp_path):
    line = cli.fail("export", handmade_ttl, "-o", tmp_path / "x.html", "--focus", "Nobody Atall")
    assert line == "Error: no entity named 'Nobody Atall' in the graph"
    assert not (tmp_path / "x.html").exists()


def test_query_construct_draws_only_its_edges(cli, handmade_ttl, tmp_path):
    rq = tmp_path / "meetings.rq"
    rq.write_text("CONSTRUCT { ?a ng:metWith ?b } WHERE { ?a ng:metWith ?b }", encoding="utf-8")
    out = tmp_path / "meetings.graphml"
    cli.ok("export", handmade_ttl, "-o", out, "--query", rq)
    g = read_network(out)
    assert relations_of(g) == ["metWith", "metWith"]
    assert labels_of(g) == {"Tomas Halvik", "Idris Maren", "Lena Castell"}


def test_query_construct_of_one_direction_of_a_symmetric_relation(cli, handmade_ttl, tmp_path):
    rq = tmp_path / "one.rq"
    rq.write_text(f"CONSTRUCT {{ ?a ng:metWith ?b }} WHERE {{ ?a ng:metWith ?b FILTER(?a = <{entity('Lena_Castell')}>) }}")
    out = tmp_path / "one.gexf"
    cli.ok("export", handmade_ttl, "-o", out, "--query", rq)
    assert labels_of(read_network(out)) == {"Lena Castell", "Tomas Halvik"}


def test_query_select_is_refused(cli, handmade_ttl, tmp_path):
    rq = tmp_path / "select.rq"
    rq.write_text("SELECT ?a ?b WHERE { ?a ng:metWith ?b }")
    line = cli.fail("export", handmade_ttl, "-o", tmp_path / "x.graphml", "--query", rq)
    assert "CONSTRUCT" in line
    assert not (tmp_path / "x.graphml").exists()


def test_cut_rdf_export_holds_the_drawn_facts(cli, handmade_ttl, tmp_path):
    out = tmp_path / "captures.ttl"
    cli.ok("export", handmade_ttl, "-o", out, "--relation", "captured")
    triple_count(out)
    facts = count_query(out, f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o FILTER(STRSTARTS(STR(?p), '{NG}')) "
                             "FILTER(isIRI(?o)) }")
    captured = count_query(out, "SELECT (COUNT(*) AS ?n) WHERE { ?s ng:captured ?o }")
    assert facts == captured == HANDMADE_EDGES["captured"]
    assert count_query(out) == 5


def entity(local: str) -> str:
    return "https://w3id.org/newsgraph/entity/" + local


# -------------------------------------------------------------- with the model


@pytest.mark.model
@pytest.mark.parametrize("suffix", ["graphml", "html"])
def test_model_built_graph_exports_every_typed_entity(cli, sample_ttl, tmp_path, suffix):
    out = tmp_path / f"sample.{suffix}"
    cli.ok("export", sample_ttl, "-o", out)
    nodes = page_data(out)["nodes"] if suffix == "html" else list(read_network(out))
    assert len(nodes) == count_query(sample_ttl) > 0
    captured = count_query(sample_ttl, "SELECT (COUNT(*) AS ?n) WHERE { ?s ng:captured ?o }")
    if suffix == "graphml":
        assert relations_of(read_network(out)).count("captured") == captured
