"""The exported page in a real headless Chromium: offline, safe, explorable.

Uses the system Chromium (never downloads one). Graphs are built by hand.
"""
from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest

from helpers import CHROMIUM
from newsgraph.viz import BIG_GRAPH, SPRING_MAX, load_style, render_html

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"chromium is not installed (no {CHROMIUM})"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

# Each payload would set document.title and window.__pwned if it ever ran.
RUN = "document.title='pwned';window.__pwned={}"
IMG = f'<img src=x onerror="{RUN.format(1)}">'
CLOSE = f"</script><script>{RUN.format(2)}</script>"
SVG = f'"><svg onload="{RUN.format(3)}">'
JS_URL = f"javascript:{RUN.format(4)}"
HREF = f'<a href="javascript:{RUN.format(5)}">read more</a>'
COMMENT = f"<!--<script>{RUN.format(6)}</script>-->"
ODD = "line\u2028sep\u2029para\nnew line \u00e9\U0001F600"
HEADING = f"</title><script>{RUN.format(7)}</script>"
SAFE_URL = "https://example.org/story?a=1&b=<x>"


@pytest.fixture
def open_page(browser, tmp_path):
    """Load a rendered page from file://; yields page, requests seen, errors seen."""
    opened = []

    def _open(g: nx.MultiDiGraph, heading: str = "newsgraph"):
        path = tmp_path / f"page{len(opened)}.html"
        path.write_text(render_html(g, load_style(), heading=heading), encoding="utf-8")
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        requests: list[str] = []
        errors: list[str] = []
        page.on("request", lambda r: r.url != path.as_uri() and requests.append(r.url))
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        opened.append(page)
        try:
            page.wait_for_function("() => document.body.dataset.ready === '1'", timeout=15000)
        except sync_api.TimeoutError:
            pytest.fail(f"page never became ready; first errors: {errors[:3]}")
        return page, requests, errors

    yield _open
    for page in opened:
        page.close()


def hostile_graph() -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    g.add_node(f"http://x.test/{IMG}", label=IMG, cls="Person", names=[CLOSE, HREF],
               mentions=4, documents=[SVG, COMMENT])
    g.add_node("urn:ng:b", label=CLOSE, cls=f"<b onmouseover=\"{RUN.format(8)}\">",
               names=[ODD], mentions=1, documents=[HREF])
    g.add_node("urn:ng:c", label=ODD, cls="Location", names=[], mentions=2, documents=[JS_URL])
    evidence = [
        {"sentence": CLOSE, "document": IMG, "title": IMG, "date": SVG, "url": JS_URL,
         "rule": HREF, "trigger": COMMENT},
        {"sentence": ODD, "document": None, "title": None, "date": None, "url": SAFE_URL,
         "rule": None, "trigger": None},
    ]
    g.add_edge(f"http://x.test/{IMG}", "urn:ng:b", key="captured", relation="captured",
               label=HREF, directed=True, count=2, evidence=evidence)
    g.add_edge("urn:ng:b", "urn:ng:c", key=IMG, relation=IMG, label=SVG, directed=False,
               count=1, evidence=[{"sentence": IMG, "url": f" {JS_URL}"}])
    return g


def sample_graph() -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    people = {"p:musa": ("Musa Diallo", "Person", ["Diallo"]),
              "o:mnla": ("National Movement for the Liberation of Azawad", "Organization", ["MNLA"]),
              "o:army": ("Malian Army", "Organization", []),
              "l:kidal": ("Kidal", "Location", []),
              "l:gao": ("Gao", "Location", [])}
    for nid, (label, cls, names) in people.items():
        g.add_node(nid, label=label, cls=cls, names=names, mentions=3, documents=["d1"])
    ev = [{"sentence": "s", "document": "d1", "title": "t", "date": None, "url": None,
           "rule": "r", "trigger": "t"}]
    for u, v, rel, label, directed in [("o:mnla", "l:kidal", "captured", "captured", True),
                                       ("o:army", "l:gao", "captured", "captured", True),
                                       ("p:musa", "o:mnla", "alliedTo", "allied to", False),
                                       ("p:musa", "o:army", "metWith", "met with", False),
                                       ("p:musa", "o:army", "alliedTo", "allied to", False)]:
        g.add_edge(u, v, key=rel, relation=rel, label=label, directed=directed, count=1, evidence=ev)
    return g


def _dom_point(page, js_point: str) -> tuple[float, float]:
    """Page coordinates of a canvas point given as a JS expression over `n` (network)."""
    box = page.locator("#ng-network canvas").bounding_box()
    p = page.evaluate(f"(() => {{ const n = window.newsgraph.network; return n.canvasToDOM({js_point}); }})()")
    return box["x"] + p["x"], box["y"] + p["y"]


def _hover_then_click(page, point, expect_text: str) -> None:
    page.mouse.move(*point)
    page.wait_for_function(
        "t => { const tip = document.querySelector('.ng-tip.ng-shown');"
        " return tip && tip.textContent.includes(t); }",
        arg=expect_text, timeout=3000)
    page.mouse.click(*point)
    page.mouse.move(5, 5)


DRAWN = ("(() => { const b = window.newsgraph.network.body;"
         " return [b.nodeIndices.length, b.edgeIndices.filter((id) => b.edges[id].connected).length]; })()")


def test_hostile_text_never_runs(open_page):
    g = hostile_graph()
    page, requests, errors = open_page(g, heading=HEADING)
    assert page.evaluate(DRAWN) == [g.number_of_nodes(), g.number_of_edges()]

    positions = page.evaluate("window.newsgraph.network.getPositions()")
    labels = page.evaluate("Object.fromEntries(window.newsgraph.nodes.get().map(n => [n.id, n.label]))")
    for nid in positions:
        _hover_then_click(page, _dom_point(page, f"n.getPositions([{json.dumps(nid)}])[{json.dumps(nid)}]"),
                          labels[nid])
        assert page.locator("#ng-details strong").first.text_content() == labels[nid]
        assert page.evaluate("document.title") == HEADING
    for eid in page.evaluate("window.newsgraph.edges.getIds()"):
        _hover_then_click(page, _dom_point(page, f"n.body.edges[{json.dumps(eid)}].edgeType.getPoint(0.5)"),
                          "report")
        if eid == "e0":  # the captured edge: one javascript: URL, one https URL
            assert page.locator("#ng-details a").evaluate_all("as => as.map(a => a.href)") == \
                ["https://example.org/story?a=1&b=%3Cx%3E"]
            assert CLOSE in page.locator("#ng-details").text_content()
            assert IMG in page.locator("#ng-details").text_content()  # the title, as text

    assert page.evaluate("document.title") == HEADING
    assert page.evaluate("window.__pwned") is None
    assert page.locator("h1").text_content() == HEADING
    assert page.evaluate("document.querySelectorAll('img, svg, iframe, object, embed, a[href^=javascript]').length") == 0
    assert page.evaluate("[...document.querySelectorAll('*')].flatMap(e => [...e.attributes])"
                         ".filter(a => a.name.startsWith('on')).length") == 0
    assert requests == []
    assert errors == []


def test_drawn_as_styled(open_page):
    g = sample_graph()
    g.edges["o:mnla", "l:kidal", "captured"]["count"] = 3
    page, requests, errors = open_page(g)
    style = load_style()
    assert page.evaluate(DRAWN) == [g.number_of_nodes(), g.number_of_edges()]
    drawn = page.evaluate("Object.values(window.newsgraph.network.body.nodes).map(n => [n.id, n.options.label,"
                          " n.options.shape, n.options.color.background])")
    assert sorted(drawn) == sorted(
        [nid, a["label"], style["classes"][a["cls"]]["shape"], style["classes"][a["cls"]]["color"]]
        for nid, a in g.nodes(data=True))
    drawn = page.evaluate("Object.values(window.newsgraph.network.body.edges).map(e => [e.fromId, e.toId,"
                          " e.options.label, e.options.arrows.to.enabled, e.options.color.color])")
    assert sorted(drawn) == sorted(
        [u, v, a["label"] + (" ×3" if a["count"] == 3 else ""), a["directed"], style["relations"][k]["color"]]
        for u, v, k, a in g.edges(keys=True, data=True))
    legend = page.locator("#ng-relations li").all_text_contents()
    assert legend == ["allied to(2)", "captured →(2)", "met with(1)"]
    assert page.locator("#ng-classes li").all_text_contents() == ["person(1)", "organisation(2)", "location(2)"]
    assert requests == [] and errors == []


def test_search_filters_and_highlight(open_page):
    g = sample_graph()
    page, requests, errors = open_page(g)
    ng = "window.newsgraph"
    assert page.evaluate(DRAWN) == [5, 5]

    page.fill("#ng-search", "KID")
    page.press("#ng-search", "Enter")
    assert page.evaluate(f"{ng}.network.getSelectedNodes()") == ["l:kidal"]
    centre = page.evaluate(f"{ng}.network.getViewPosition()")
    kidal = page.evaluate(f"{ng}.network.getPositions(['l:kidal'])['l:kidal']")
    assert abs(centre["x"] - kidal["x"]) < 1 and abs(centre["y"] - kidal["y"]) < 1  # focused on it
    assert page.locator("#ng-details strong").text_content() == "Kidal"
    page.fill("#ng-search", "mnla")  # another name, not the label
    page.click("#ng-find")
    assert page.evaluate(f"{ng}.network.getSelectedNodes()") == ["o:mnla"]
    dimmed = page.evaluate(f"{ng}.nodes.get().filter(n => n.opacity < 1).map(n => n.id).sort()")
    assert dimmed == ["l:gao", "o:army"]  # not mnla, its ally musa, or kidal it captured
    colours = f"Object.values({ng}.network.body.edges).map(e => [e.id, e.options.color.color, e.options.color.opacity])"
    style = load_style()["relations"]
    relation = page.evaluate(f"Object.fromEntries({ng}.data.edges.map(e => [e.id, e.relation]))")
    lit = page.evaluate(f"{ng}.network.getConnectedEdges('o:mnla')")
    assert sorted(page.evaluate(colours)) == sorted(
        [eid, style[rel]["color"], 1 if eid in lit else 0.1] for eid, rel in relation.items())
    page.mouse.click(*_dom_point(page, "n.DOMtoCanvas({x: 5, y: 5})"))  # empty canvas: all lit again
    assert sorted(page.evaluate(colours)) == sorted([eid, style[rel]["color"], 1] for eid, rel in relation.items())
    page.fill("#ng-search", "nobody")
    page.press("#ng-search", "Enter")
    assert page.text_content("#ng-status") == "No match"

    hidden_edges = (f"{ng}.edges.get().filter(e => e.hidden)"
                    f".map(e => {ng}.data.edges.find(d => d.id === e.id).relation).sort()")
    page.uncheck("input[data-relation='captured']")
    assert page.evaluate(hidden_edges) == ["captured", "captured"]
    assert page.evaluate(f"Object.values({ng}.network.body.edges).filter(e => e.options.hidden).length") == 2
    assert page.evaluate(DRAWN) == [5, 3]
    page.check("input[data-relation='captured']")
    assert page.evaluate(hidden_edges) == []
    assert page.evaluate(DRAWN) == [5, 5]

    page.uncheck("input[data-cls='Location']")
    assert page.evaluate(f"{ng}.nodes.get().filter(n => n.hidden).map(n => n.id).sort()") == ["l:gao", "l:kidal"]
    assert page.evaluate(hidden_edges) == ["captured", "captured"]  # edges to hidden places go too
    page.fill("#ng-search", "gao")
    page.press("#ng-search", "Enter")
    assert page.text_content("#ng-status") == "No match"  # hidden nodes are not found

    assert page.evaluate(f"{ng}.network.physics.physicsEnabled") is False  # frozen after layout
    assert requests == [] and errors == []


def chain_graph(n: int) -> nx.MultiDiGraph:
    """``n`` entities, each tied to a third of its index: a tree of ``n - 1`` edges."""
    g = nx.MultiDiGraph()
    for i in range(n):
        g.add_node(f"n{i}", label=f"Entity {i}", cls=("Person", "Location")[i % 2], mentions=1 + i % 5,
                   names=[], documents=[])
    for i in range(1, n):
        g.add_edge(f"n{i // 3}", f"n{i}", key="metWith", relation="metWith", label="met with",
                   directed=False, count=1,
                   evidence=[{"sentence": f"Entity {i // 3} met Entity {i}.", "document": "d", "title": "T"}])
    return g


STILL = """async () => {
  const net = window.newsgraph.network;
  let draws = 0;
  net.on("afterDrawing", () => { draws += 1; });
  const a = net.getPositions();
  await new Promise((r) => setTimeout(r, 500));
  const b = net.getPositions();
  return draws === 0 && Object.keys(a).every((id) => a[id].x === b[id].x && a[id].y === b[id].y);
}"""


def test_physics_settles_then_stops(open_page):
    n = SPRING_MAX + 50  # one component, too big for the Python spring layout
    page, requests, errors = open_page(chain_graph(n))
    ng = "window.newsgraph"
    assert page.evaluate(f"{ng}.data.options.physics.enabled") is True
    assert page.evaluate(f"{ng}.network.physics.physicsEnabled") is False  # ready means frozen
    assert page.evaluate(STILL)
    assert page.evaluate(DRAWN) == [n, n - 1]
    assert page.text_content("#ng-status") == ""
    assert requests == [] and errors == []


def test_big_graph_uses_precomputed_layout(open_page):
    n = BIG_GRAPH + 100
    page, requests, errors = open_page(chain_graph(n))
    ng = "window.newsgraph"
    assert page.evaluate(DRAWN) == [n, n - 1]
    assert page.evaluate(f"{ng}.network.physics.physicsEnabled") is False
    assert page.evaluate(f"{ng}.nodes.get().filter(n => n.label).length") == 0  # too small to read yet

    # hover evidence works without vis's hover machinery
    point = _dom_point(page, "n.getPositions(['n7'])['n7']")
    page.mouse.move(*point)
    page.wait_for_function("() => document.querySelector('.ng-tip.ng-shown')?.textContent.includes('Entity 7')",
                           timeout=3000)

    # zooming in labels what is in view, and only that
    box = page.locator("#ng-network canvas").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    while page.evaluate(f"{ng}.network.getScale()") < 0.5:
        page.mouse.wheel(0, -400)
        page.wait_for_timeout(30)
    page.wait_for_function(f"() => {ng}.nodes.get().some(n => n.label)", timeout=3000)
    labelled = page.evaluate(f"{ng}.nodes.get().filter(n => n.label).length")
    assert 0 < labelled < n / 4

    page.fill("#ng-search", f"Entity {n - 1}")
    page.press("#ng-search", "Enter")
    assert page.evaluate(f"{ng}.network.getSelectedNodes()") == [f"n{n - 1}"]
    assert page.evaluate(f"{ng}.nodes.get(['n{n - 1}'])[0].label") == f"Entity {n - 1}"
    assert page.evaluate(f"{ng}.network.getSelectedEdges()") == [page.evaluate(
        f"{ng}.data.edges.find(e => e.to === 'n{n - 1}').id")]
    assert requests == [] and errors == []


def test_twenty_thousand_nodes_become_ready_and_calm(browser, tmp_path):
    n = 20_000
    g = chain_graph(n)
    g.add_edges_from((f"n{i}", f"n{(i * 7919) % n}", "alliedTo",
                      {"relation": "alliedTo", "label": "allied to", "count": 2, "evidence": []})
                     for i in range(1, n) if (i * 7919) % n != i)
    path = tmp_path / "big.html"
    path.write_text(render_html(g, load_style()), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    try:
        page.goto(path.as_uri(), wait_until="commit")
        # generous: the 5 s budget is measured by bench/bench_viz.py, not on a loaded CI box
        page.wait_for_function("() => document.body?.dataset.ready === '1'", timeout=12_000, polling=50)
        assert page.evaluate(DRAWN) == [n, g.number_of_edges()]
        assert page.evaluate(STILL)
        assert errors == []
    finally:
        page.close()
