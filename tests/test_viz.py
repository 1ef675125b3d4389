"""The exported HTML page, read as text: escaping, CSP, offline, style fallbacks."""
from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
import time
from html.parser import HTMLParser
from pathlib import Path

import networkx as nx
import pytest

from newsgraph.viz import BIG_GRAPH, SPRING_MAX, _layout, _vis_js, load_style, render_html

PAYLOADS = [
    '<img src=x onerror="window.__pwned=1">',
    "</script><script>window.__pwned=2</script>",
    '"><svg onload=window.__pwned=3>',
    "javascript:window.__pwned=4",
    '<a href="javascript:window.__pwned=5">more</a>',
    "<!--<script>window.__pwned=6</script>-->",
    "&lt;b&gt; &amp; \u2028\u2029\n'\"",
    "@@DATA@@ @@VIS@@",  # the page template's own placeholders
]
DATA_BLOCK = re.compile(r'<script type="application/json" id="ng-data">(.*?)</script>', re.S)
ONTOLOGY = Path(__file__).resolve().parents[1] / "ontology" / "newsgraph.ttl"


def graph(payloads: list[str] = PAYLOADS, reverse: bool = False) -> nx.MultiDiGraph:
    """Two entities per payload, joined by a captured and an unknown relation."""
    g = nx.MultiDiGraph()
    nodes = []
    for i, p in enumerate(payloads):
        nodes.append((f"http://x.test/{i}/{p}", dict(label=p, cls="Person", names=[p, "alias"],
                                                     mentions=i + 1, documents=[p])))
        nodes.append((f"urn:ng:{i}", dict(label=f"place {i}", cls=p, names=[], mentions=1, documents=[])))
    edges = []
    for i, p in enumerate(payloads):
        ev = {"sentence": p, "document": p, "title": p, "date": p, "url": p, "rule": p, "trigger": p}
        edges.append((f"http://x.test/{i}/{p}", f"urn:ng:{i}", "captured",
                      dict(relation="captured", label="captured", directed=True, count=2, evidence=[ev, ev])))
        edges.append((f"urn:ng:{i}", f"http://x.test/{i}/{p}", p,
                      dict(relation=p, label=p, directed=False, count=1, evidence=[ev])))
    if reverse:
        nodes.reverse()
        edges.reverse()
    g.add_nodes_from(nodes)
    for u, v, k, attrs in edges:
        g.add_edge(u, v, key=k, **attrs)
    return g


class Page(HTMLParser):
    """Every tag, attribute and script body of a page, as the browser's tokenizer sees them."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[tuple[dict, str]] = []
        self._in_script: dict | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = dict(attrs)
            self.scripts.append((self._in_script, ""))

    def handle_data(self, data):
        if self._in_script is not None:
            attrs, body = self.scripts[-1]
            self.scripts[-1] = (attrs, body + data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None


def data_of(page: str) -> dict:
    return json.loads(DATA_BLOCK.search(page).group(1))


@pytest.fixture(scope="module")
def hostile() -> str:
    return render_html(graph(), load_style(), heading=PAYLOADS[1] + PAYLOADS[0])


def test_hostile_text_stays_inside_the_json_block(hostile):
    block = DATA_BLOCK.search(hostile).group(1)
    assert not set(block) & set("<>&\u2028\u2029")
    data = json.loads(block)  # the block ended where it should: every payload survives intact
    assert {n["label"] for n in data["nodes"]} >= set(PAYLOADS)
    assert {d["url"] for d in data["docs"]} == {d["title"] for d in data["docs"]} == set(PAYLOADS)
    assert {ev["sentence"] for e in data["edges"] for ev in e["evidence"]} == set(PAYLOADS)
    assert {r["name"] for r in data["relations"]} == {"captured", *PAYLOADS}

    outside = hostile.replace(block, "").replace(_vis_js(), "")
    for p in PAYLOADS:
        assert p not in outside
    assert html.escape(PAYLOADS[1] + PAYLOADS[0]) in outside  # the heading, as text
    assert "@@" not in outside

    tags = Page(hostile).tags
    assert {t for t, _ in tags} <= {"html", "head", "meta", "title", "style", "body", "header", "h1",
                                    "input", "button", "span", "main", "aside", "section", "h2",
                                    "ul", "div", "p", "script"}
    assert [t for t, _ in tags].count("script") == 3
    assert not [a for _, attrs in tags for a in attrs if a.startswith("on") or a in ("src", "href")]


def test_csp_forbids_loading_and_allows_only_the_page_scripts(hostile):
    page = Page(hostile)
    metas = [a["content"] for t, a in page.tags
             if t == "meta" and a.get("http-equiv", "").lower() == "content-security-policy"]
    assert len(metas) == 1
    policy = {d.split()[0]: d.split()[1:] for d in metas[0].split(";") if d.strip()}
    assert policy["default-src"] == ["'none'"]
    assert policy["connect-src"] == ["'none'"]
    assert policy["form-action"] == ["'none'"]
    assert policy["img-src"] == ["data:"]
    code = [body for attrs, body in page.scripts if "type" not in attrs]
    hashes = {"'sha256-" + base64.b64encode(hashlib.sha256(c.encode()).digest()).decode() + "'" for c in code}
    assert len(code) == 2 and hashes <= set(policy["script-src"])


def test_nothing_external_is_referenced():
    urls = ["https://example.org/a.png", "http://example.org/b.js"]
    page = render_html(graph(urls), load_style(), heading="Sahel")
    block = DATA_BLOCK.search(page).group(1)
    assert all(u in block for u in urls)  # article URLs stay data
    own = page.replace(block, "").replace(_vis_js(), "")
    tags = Page(page).tags
    assert not [a for _, attrs in tags for a in attrs if a in ("src", "href", "srcset", "action")]
    assert "link" not in {t for t, _ in tags}
    css = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    assert "url(" not in css and "@import" not in css
    assert "http://" not in own and "https://" not in own
    # vis-network itself only names URLs (licences, the SVG namespace); it never loads them
    assert not re.search(r"(src|href)\s*=\s*[\"']https?:", _vis_js())


def test_unknown_class_and_relation_fall_back_to_defaults():
    style = load_style()
    g = nx.MultiDiGraph()
    g.add_node("a", label="A", cls="Event", names=[], mentions=1, documents=[])
    g.add_node("b", label="B", cls="Person", names=[], mentions=1, documents=[])
    g.add_edge("a", "b", key="fundedBy", relation="fundedBy", label="funded by", directed=True,
               count=1, evidence=[])
    g.add_edge("b", "a", key="praised", relation="praised", label=None, directed=False, count=1)
    data = data_of(render_html(g, style))
    person, event = data["classes"]  # styled classes first, in the style file's order
    assert (person["name"], person["label"], person["color"]) == ("Person", "person", style["classes"]["Person"]["color"])
    assert (event["name"], event["label"], event["color"], event["shape"]) == \
        ("Event", "Event", style["default_class"]["color"], style["default_class"]["shape"])
    funded, praised = data["relations"]
    assert funded["color"] == praised["color"] == style["default_relation"]["color"]
    assert (funded["label"], praised["label"]) == ("funded by", "praised")
    assert (funded["directed"], praised["directed"]) == (True, False)
    assert [e["directed"] for e in data["edges"]] == [True, False]

    bare = data_of(render_html(g, {}))  # even an empty style renders
    assert all(c["shape"] and c["color"] for c in bare["classes"]) and bare["relations"][0]["color"]


def test_output_is_deterministic():
    assert render_html(graph(), load_style()) == render_html(graph(reverse=True), load_style())


def test_counts_sizes_evidence_and_parallel_edges():
    g = nx.MultiDiGraph()
    for nid, mentions in [("a", 1), ("b", 40)]:
        g.add_node(nid, label=nid.upper(), cls="Organization", names=[], mentions=mentions, documents=[])
    report = {"document": "d1", "title": "Harbour report", "date": "2024-05-01", "url": "https://x.test/1"}
    g.add_edge("a", "b", key="captured", relation="captured", label="captured", directed=True, count=3,
               evidence=[{**report, "sentence": f"s{i}", "rule": "r", "trigger": "took"} for i in range(3)])
    g.add_edge("a", "b", key="metWith", relation="metWith", label="met with", directed=False, count=1,
               evidence=[{**report, "sentence": "m", "rule": "r", "trigger": "met"}])
    g.add_edge("b", "a", key="alliedTo", relation="alliedTo", label="allied to", directed=False, count=1)
    data = data_of(render_html(g, load_style()))
    a, b = data["nodes"]
    assert a["size"] < b["size"]
    by_rel = {e["relation"]: e for e in data["edges"]}
    assert (by_rel["captured"]["count"], by_rel["metWith"]["count"], by_rel["alliedTo"]["count"]) == (3, 1, 1)
    assert [ev["sentence"] for ev in by_rel["captured"]["evidence"]] == ["s0", "s1", "s2"]
    assert data["docs"] == [report]  # one document supporting four reports is stored once
    assert {ev["doc"] for e in data["edges"] for ev in e["evidence"]} == {0}
    assert [e["directed"] for e in data["edges"]] == [True, False, False]

    def side(e: dict) -> tuple | None:
        """Which way and how far an edge bends, seen from a to b."""
        s = e.get("smooth")
        return s and ((s["type"] == "curvedCW") != (e["from"] > e["to"]), s["roundness"])

    assert len({side(e) for e in data["edges"]}) == 3  # three relations, one pair: three curves
    rows = {r["name"]: r for r in data["relations"]}
    assert rows["captured"]["color"] == load_style()["relations"]["captured"]["color"]
    assert rows["captured"]["directed"] and not rows["metWith"]["directed"]


def test_big_graph_is_laid_out_in_python_with_physics_off():
    g = nx.MultiDiGraph()
    n = BIG_GRAPH + 500
    g.add_nodes_from((f"n{i}", {"label": f"N{i}", "cls": "Person", "mentions": 1}) for i in range(n))
    g.add_edges_from((f"n{i // 4}", f"n{i}", "metWith", {"relation": "metWith"}) for i in range(1, n - 50))
    start = time.perf_counter()
    data = data_of(render_html(g, load_style()))
    assert time.perf_counter() - start < 5
    assert data["big"] is True and data["options"]["physics"]["enabled"] is False
    assert data["options"]["layout"]["improvedLayout"] is False
    assert data["options"]["edges"]["smooth"]["enabled"] is False
    assert data["options"]["interaction"]["hideEdgesOnZoom"] is True
    points = {(node["x"], node["y"]) for node in data["nodes"]}
    assert len(points) == n  # every node placed, none on top of another


def test_layout_is_fast_and_keeps_neighbours_near():
    n = 20_000
    g = nx.MultiDiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from((i, (i * 7919 + 1) % n) for i in range(n))  # one big tangle
    g.add_edges_from((i, (i + 1) % n) for i in range(n))
    start = time.perf_counter()
    pos = _layout(g, spring=False)
    assert time.perf_counter() - start < 3
    assert len(pos) == n and len(set(pos.values())) == n

    star = nx.MultiDiGraph()
    star.add_edges_from(("hub", f"leaf{i}") for i in range(30))
    star.add_edges_from((f"x{i}", f"y{i}") for i in range(5))
    for spring in (False, True):
        spots = _layout(star, spring=spring)
        far = max(math.dist(spots["hub"], spots[f"leaf{i}"]) for i in range(30))
        assert far < math.dist(spots["x0"], spots["hub"])  # a component stays together, apart from the next


def graph_of(edges: list[tuple[str, str]], alone: list[str] = ()) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    for name in [x for e in edges for x in e] + list(alone):
        g.add_node(name, label=f"The {name} label", cls="Person", mentions=1)
    for u, v in edges:
        g.add_edge(u, v, key="metWith", relation="metWith", label="met with", count=1)
    return g


def test_small_graphs_are_laid_out_in_python_and_drawn_still():
    g = graph_of([("a", "b"), ("b", "c"), ("d", "e")], alone=["f", "g"])
    data = data_of(render_html(g, load_style()))
    assert data["options"]["physics"]["enabled"] is False
    at = {node["id"]: (node["x"], node["y"]) for node in data["nodes"]}
    label_width = 8 * len("The a label")
    assert math.dist(at["a"], at["b"]) > label_width and math.dist(at["d"], at["e"]) > label_width
    assert max(at["a"][0], at["b"][0], at["c"][0]) - min(at["a"][0], at["b"][0], at["c"][0]) > \
        max(at["a"][1], at["b"][1], at["c"][1]) - min(at["a"][1], at["b"][1], at["c"][1])  # lies wide
    assert min(at["f"][1], at["g"][1]) > max(y for n, (_, y) in at.items() if n not in "fg")  # loners last
    assert render_html(g, load_style()) == render_html(g.copy(), load_style())


def test_a_component_too_big_to_spring_lay_is_finished_by_physics():
    g = graph_of([(f"n{i // 2}", f"n{i}") for i in range(1, SPRING_MAX + 1)], alone=["x"])  # one more than fits
    data = data_of(render_html(g, load_style()))
    assert data["big"] is False and data["options"]["physics"]["enabled"] is True
    assert all("x" in node for node in data["nodes"])  # seeded, not random
    g.remove_node(f"n{SPRING_MAX}")
    assert data_of(render_html(g, load_style()))["options"]["physics"]["enabled"] is False
