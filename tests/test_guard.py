"""The SERVICE/LOAD guard (issue 13): the bypasses an outside attack found, its false positives,
generated variants against a canary, and the second wall (a query thread cannot open a socket)."""
from __future__ import annotations

import threading

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from newsgraph.guard import forbidden, no_network
from newsgraph.resources import PREFIXES

BYPASSES = [
    "SELECT * WHERE { #\rSERVICE <{u}x> { ?s ?p ?o }\n}",
    "SELECT * WHERE { ?s ?p <urn:a\u00a0#> . SERVICE <{u}x> { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p <urn:a\u2028#> . SERVICE <{u}x> { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p <urn:a\u3000#> . SERVICE <{u}x> { ?s ?p ?o } }",
    "SELECT * WHERE { ?m ng:mentionCount 1SERVICE <{u}d> { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p trueSERVICE <{u}d> { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p ?o SERVICESILENT <{u}d> { ?s ?p ?o } }",
    "PREFIX c: <{u}> SELECT * WHERE { ?s ?p ?o SERVICEc:x { ?s ?p ?o } }",
    "PREFIX c: <{u}> SELECT * WHERE { BIND(1 AS ?v) FILTER(?v<?b)SERVICEc:x#>\n { ?s ?p ?o } }",
    "LOADSILENT<{u}d>",
    "PREFIX c: <{u}> LOADc:d",
]
VALID = [
    "SELECT * WHERE { ?s ?p e:x-load }",
    "SELECT * WHERE { ?s ?p e:a.service }",
    "SELECT * WHERE { ?s ?p e:x-service-y }",
    'SELECT * WHERE { ?s ?p "x"@en-load }',
    "SELECT * WHERE { ?s ?p ?o FILTER(?o = <http://x/service>) } # SERVICE <http://x/>",
    "SELECT * WHERE { FILTER(NOT EXISTS { ?s <http://schema.org/serviceType> ?o }) }",
    "PREFIX service: <http://x/> SELECT ?service WHERE { ?service service:load 'LOAD' }",
]
PFX = {**PREFIXES, "e": "http://e/"}


@pytest.mark.parametrize("text", BYPASSES)
def test_every_bypass_is_refused(text):
    assert forbidden(text.replace("{u}", "http://127.0.0.1:9/"), PFX) in ("SERVICE", "LOAD")


@pytest.mark.parametrize("text", VALID)
def test_valid_names_with_the_words_are_not_refused(text):
    assert forbidden(text, PFX) is None
    ox.Store().query(text, prefixes=PFX)  # and they are valid


@pytest.mark.parametrize("text", BYPASSES)
def test_bypasses_through_the_cli(cli, handmade_ttl, canary, text):
    line = cli.fail("query", handmade_ttl, text.replace("{u}", canary.url))
    assert "is not allowed" in line
    assert canary.requests == []


def test_the_second_wall(canary):
    """A thread under no_network cannot reach the canary even when the engine runs SERVICE or LOAD."""
    box = {}

    def work():
        box["installed"] = no_network()
        store = ox.Store()
        for run in (lambda: list(store.query(f"SELECT * {{ SERVICE <{canary.url}x> {{ ?s ?p ?o }} }}")),
                    lambda: store.update(f"LOAD <{canary.url}d.ttl>")):
            with pytest.raises(OSError):
                run()
        box["done"] = True

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert box == {"installed": True, "done": True}
    assert canary.requests == []


SPACES = ["", " ", "\t", "\r", "\n", "\r\n", "\u00a0", "\u2028", "\u3000", "\x0c", "\x0b", "\x85",
          "#c\r", "#c\n", "#c\r\n", "#<x\r", "# \"'\n"]
BEFORE = ["?s ?p ?o .", "?s ?p 1", "?s ?p true", '?s ?p "a"', "?s ?p <urn:o>", "BIND(1 AS ?x)",
          "{ ?s ?p ?o }", "FILTER(true)", "OPTIONAL { ?s ?p ?o }", "?s ?p ?o ;", "?s ?p ?o FILTER(?o != <urn:a\u00a0#>)",
          "?s ?p ?o FILTER(?o<?b)"]


@st.composite
def variants(draw):
    word = "".join(c.upper() if draw(st.booleans()) else c.lower() for c in "service")
    if draw(st.booleans()):
        word += draw(st.sampled_from(SPACES)) + "silent"
    target = draw(st.sampled_from(["<{u}x>", "c:x", "?svc"]))
    sp = [draw(st.sampled_from(SPACES)) for _ in range(3)]
    before = draw(st.sampled_from(BEFORE))
    values = "VALUES ?svc { <{u}v> } " if target == "?svc" else ""
    return (f"PREFIX c: <{{u}}>\nSELECT * WHERE {{ {values}{before}{sp[0]}{word}{sp[1]}{target}{sp[2]}"
            "{ ?a ?b ?c } }")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(variants())
def test_generated_variants_never_reach_the_canary(canary, text):
    """The guard alone: whatever it lets through, the engine (no second wall here) never fetches."""
    text = text.replace("{u}", canary.url)
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), ox.Literal(1)))
    for o in (ox.Literal(True), ox.Literal("a"), ox.NamedNode("urn:o")):
        store.add(ox.Quad(ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), o))
    if forbidden(text, PREFIXES) is None:
        try:
            list(store.query(text, prefixes=PREFIXES))
        except (SyntaxError, OSError, RuntimeError):
            pass
    assert canary.requests == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(variants())
def test_generated_variants_through_query_and_export(cli, handmade_ttl, canary, tmp_path, text):
    text = text.replace("{u}", canary.url)
    cli.run("query", handmade_ttl, text)
    rq = tmp_path / "q.rq"
    rq.write_text(text, encoding="utf-8", newline="")
    cli.run("query", handmade_ttl, "-f", rq)
    rq.write_text(text.replace("SELECT *", "CONSTRUCT { ?s ?p ?o }"), encoding="utf-8", newline="")
    cli.run("export", handmade_ttl, "--query", rq, "-o", tmp_path / "x.html")
    assert canary.requests == []
