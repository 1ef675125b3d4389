"""The web pages' files: shipped with the package, filled in one pass, hashed for CSP, the script parsed."""
from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import esprima
import pytest

from newsgraph.pages import asset, csp_hash, fill

REPO_WEB = Path(__file__).parents[1] / "graph" / "web"


def test_every_page_file_is_shipped_with_the_package():
    shipped = {f.name for f in resources.files("newsgraph").joinpath("web").iterdir()}
    assert {"network.html", "network.css", "network.js", "query.html", "query.css", "query.rq"} <= shipped
    if REPO_WEB.is_dir():  # run from a checkout: the installed files are the repository's
        assert shipped >= {p.name for p in REPO_WEB.iterdir()}
        for p in REPO_WEB.iterdir():
            assert asset(p.name) == p.read_text(encoding="utf-8"), p.name


def test_fill_is_one_pass():
    template = "<h1>@@A@@</h1><p>@@B@@</p>"
    assert fill(template, {"A": "@@B@@", "B": "<x>"}) == "<h1>@@B@@</h1><p><x></p>"
    with pytest.raises(KeyError):
        fill(template, {"A": "a"})


def test_csp_hash_is_the_base64_sha256_of_the_utf8_text():
    assert csp_hash("") == "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
    assert csp_hash("é") != csp_hash("e")


def test_the_templates_name_only_the_fields_their_code_fills():
    assert set(re.findall(r"@@([A-Z]+)@@", asset("network.html"))) == {
        "CSP", "HEADING", "CSS", "DATA", "VIS", "APP"}
    assert set(re.findall(r"@@([A-Z]+)@@", asset("query.html"))) == {
        "NAME", "MODE", "TIMEOUT", "ROWS", "EXAMPLE", "OPTIONS", "PREFIXES", "CSS"}


def test_inlined_files_cannot_end_their_element():
    assert "</script" not in asset("network.js").lower() and "<!--" not in asset("network.js")
    for sheet in ("network.css", "query.css"):
        assert "</style" not in asset(sheet).lower(), sheet


# ------------------------------------------------------------------ the network's script


def _nodes(source: str) -> list:
    seen: list = []
    esprima.parseScript(source, delegate=lambda node, meta: seen.append(node))
    return seen


def test_the_network_script_parses_as_one_strict_function():
    tree = esprima.parseScript(asset("network.js"))
    assert [s.type for s in tree.body] == ["ExpressionStatement", "ExpressionStatement"]
    assert tree.body[0].directive == "use strict"
    assert tree.body[1].expression.type == "CallExpression"  # the page's globals stay untouched
    with pytest.raises(esprima.Error):  # the check can fail: one stray bracket
        esprima.parseScript(asset("network.js").replace("function el(", "function el((", 1))


def _member(node) -> str | None:
    """The property name of ``a.b`` or ``a["b"]``."""
    if node.type != "MemberExpression":
        return None
    prop = node.property
    return prop.name if prop.type == "Identifier" and not node.computed else getattr(prop, "value", None)


def _markup_sinks(source: str) -> list[str]:
    """Places where the script could turn a string into markup, script or a link (attributes: see below)."""
    found = []
    for node in _nodes(source):
        if node.type == "AssignmentExpression" and _member(node.left) in ("innerHTML", "outerHTML", "src", "srcdoc"):
            found.append(_member(node.left))
        if node.type == "AssignmentExpression" and _member(node.left) == "href":
            # a link's href is set only to what httpHref let through
            if not (node.right.type == "Identifier" and node.right.name == "href"):
                found.append("href")
        if node.type in ("CallExpression", "NewExpression"):
            callee = node.callee
            name = callee.name if callee.type == "Identifier" else _member(callee)
            if name in ("eval", "Function", "insertAdjacentHTML", "write", "writeln",
                        "createContextualFragment", "parseFromString"):
                found.append(name)
            if name in ("setTimeout", "setInterval") and node.arguments and node.arguments[0].type == "Literal":
                found.append(name)
    return found


def test_the_network_script_builds_text_only_through_textcontent():
    script = asset("network.js")
    assert _markup_sinks(script) == []
    assert any(_member(n.left) == "textContent" for n in _nodes(script) if n.type == "AssignmentExpression")
    # the checker sees each kind of sink
    for bad, sink in [("e.innerHTML = text;", "innerHTML"), ("a.href = doc.url;", "href"),
                      ("document.write(x);", "write"), ('setTimeout("go()", 1);', "setTimeout"),
                      ("new Function(text)();", "Function"), ('e["outerHTML"] = t;', "outerHTML")]:
        assert _markup_sinks(bad) == [sink], bad


def test_the_only_attribute_the_script_sets_is_a_fixed_role():
    calls = [n for n in _nodes(asset("network.js"))
             if n.type == "CallExpression" and _member(n.callee) == "setAttribute"]
    assert [[a.value for a in c.arguments] for c in calls] == [["role", "tooltip"]]
