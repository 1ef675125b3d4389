"""Nothing lost, nothing unbounded (issue 13, item 7): ids that mint one document, sizes, depths, locks."""
from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import NG

from newsgraph.read import iter_articles

TEXT_A = "Anika Varga met Rolf Denner in Port Selwyn."
TEXT_B = "Tarek Osman captured the harbour of Port Selwyn."


def stored_texts(path: Path) -> dict[str, str]:
    """``{document id: content hash}`` of a built graph file or store."""
    from newsgraph.store import open_source

    graph = open_source(str(path))
    try:
        rows = graph.query("SELECT ?id ?h WHERE { GRAPH ?d { ?d ng:documentId ?id ; ng:contentHash ?h } }",
                           prefixes={"ng": NG})
        return {r["id"].value: r["h"].value for r in rows}
    finally:
        graph.close()


# -------------------------------------------------------------- ids that mint one document IRI

COLLIDING = [
    ("a b", "a  b"),  # a run of spaces
    ("a b", "a\tb"),
    ("ab", "a\u200bb"),  # zero-width space
    ("ab", "a\x01b"),  # a control character
    ("\u00e9t\u00e9", "e\u0301te\u0301"),  # NFC and NFD
    ("ab", "\u200eab"),  # a bidi mark
    ("ab", " ab "),
]


@pytest.mark.parametrize("first, second", COLLIDING)
def test_ids_that_mint_one_document_are_refused_not_merged(first, second):
    from newsgraph.build import doc_iri

    assert doc_iri(first) == doc_iri(second)  # the premise: one IRI for both
    skips = []
    lines = [json.dumps({"id": first, "text": TEXT_A}), json.dumps({"id": second, "text": TEXT_B})]
    import io

    articles = list(iter_articles(["-"], on_skip=skips.append, stdin=io.BytesIO("\n".join(lines).encode())))
    assert [a.text for a in articles] == [TEXT_A]
    [skip] = skips
    assert skip.source == "<stdin>:2"
    assert "names the same document as id" in skip.reason and "first read from <stdin>:1" in skip.reason


def test_file_names_in_nfc_and_nfd_are_refused_not_merged(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "\u00e9.txt").write_text(TEXT_A, encoding="utf-8")
    (folder / "e\u0301.txt").write_text(TEXT_B, encoding="utf-8")
    skips = []
    articles = list(iter_articles([str(folder)], on_skip=skips.append))
    assert len(articles) == 1 and len(skips) == 1
    assert '"e\\u0301" names the same document as id "\\u00e9"' in skips[0].reason or \
        '"\\u00e9" names the same document as id "e\\u0301"' in skips[0].reason


@pytest.mark.model
def test_a_build_does_not_count_an_overwritten_article(cli, tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"id": "a b", "text": TEXT_A}) + "\n" + json.dumps({"id": "a  b", "text": TEXT_B}) + "\n",
                    encoding="utf-8")
    out = tmp_path / "g.nq"
    result = cli.run("build", feed, "-o", out)
    assert result.exit_code == 3  # completed, with a skip
    assert f'skipped {feed}:2: id "a  b" names the same document as id "a b"' in result.stderr
    assert "1 article added, 0 unchanged, 1 skipped" in result.stderr
    assert list(stored_texts(out)) == ["a b"]


@pytest.mark.model
def test_a_later_build_does_not_replace_a_stored_document_of_another_id(cli, tmp_path):
    store = tmp_path / "store"
    first, second = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    first.write_text(json.dumps({"id": "\u00e9t\u00e9", "text": TEXT_A}) + "\n", encoding="utf-8")
    second.write_text(json.dumps({"id": "e\u0301te\u0301", "text": TEXT_B}) + "\n", encoding="utf-8")
    cli.ok("build", first, "-o", store)
    before = stored_texts(store)
    result = cli.run("build", second, "-o", store)
    assert result.exit_code == 3
    assert "names the same document as id" in result.stderr and f"already in {store}" in result.stderr
    assert "0 articles added, 0 unchanged, 1 skipped" in result.stderr
    assert stored_texts(store) == before
    first.write_text(json.dumps({"id": "\u00e9t\u00e9", "text": TEXT_B}) + "\n", encoding="utf-8")
    cli.ok("build", first, "-o", store)  # the same id still replaces its own document
    assert list(stored_texts(store)) == ["\u00e9t\u00e9"] and stored_texts(store) != before
