"""Articles built with the real model, exported as HTML and opened in headless Chromium.

The page must draw every typed entity of the graph, offline: any request that
is not the page itself is aborted and recorded.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from helpers import CHROMIUM, RIVER, count_query
from newsgraph.query import run
from newsgraph.store import open_source

pytestmark = [
    pytest.mark.browser,
    pytest.mark.model,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"chromium is not installed (no {CHROMIUM})"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
SAMPLE = Path(__file__).parent.parent / "samples" / "harbour-offensive.txt"
LABELS = "SELECT ?l WHERE { ?e a ?c ; rdfs:label ?l VALUES ?c { ng:Person ng:Organization ng:Location } }"


@pytest.mark.parametrize("article", [
    pytest.param(SAMPLE, id="sample", marks=pytest.mark.skipif(not SAMPLE.exists(), reason=f"no {SAMPLE.name}")),
    pytest.param(RIVER, id="river"),
])
def test_exported_article_draws_every_entity_offline(cli, browser, tmp_path, article):
    graph = tmp_path / "graph.ttl"
    page_path = tmp_path / "graph.html"
    cli.ok("build", article, "-o", graph, "-q")
    cli.ok("export", graph, "-o", page_path, "--title", "River offensive")
    entities = count_query(graph)
    facts = count_query(graph, "SELECT (COUNT(*) AS ?n) WHERE { ?s ng:captured|ng:metWith|ng:alliedTo ?o }")
    assert entities >= 3 and facts >= 1  # people, an army, places and at least one drawn fact
    expected_labels = {row[0].value for row in run(open_source(str(graph)), LABELS).rows}

    context = browser.new_context(viewport={"width": 1200, "height": 800}, offline=True)
    blocked: list[str] = []

    def guard(route):
        if route.request.url == page_path.as_uri():
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: r.url != page_path.as_uri() and requests.append(r.url))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(page_path.as_uri())
        try:
            page.wait_for_function("() => document.body.dataset.ready === '1'", timeout=15000)
        except sync_api.TimeoutError:
            pytest.fail(f"page never became ready; first errors: {errors[:3]}")
        assert page.evaluate("window.newsgraph.nodes.length") == entities
        drawn_edges = page.evaluate("window.newsgraph.edges.length")
        assert 1 <= drawn_edges <= facts  # a symmetric fact is two triples and one edge
        labels = set(page.evaluate("window.newsgraph.nodes.get().map(n => n.label)"))
        assert labels == expected_labels
        assert page.evaluate("document.title") == "River offensive"
        assert requests == [] and blocked == []
        assert errors == []
    finally:
        context.close()
