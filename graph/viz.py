"""networkx view → one self-contained, offline, script-safe HTML page.

The page inlines the vis-network build that ships inside pyvis, carries the
graph as JSON in a ``<script type="application/json">`` block and builds every
piece of untrusted text (names, sentences, titles, URLs) into the DOM with
``textContent``. It makes no network request. pyvis's own template is not used:
it loads assets from a CDN or a ``lib/`` folder and does not escape its input.

>>> page = render_html(g, load_style(), heading="Sahel, March")
>>> Path("graph.html").write_text(page, encoding="utf-8")
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import networkx as nx
from pyvis.network import Network

from .errors import NewsgraphError

BIG_GRAPH = 2000  # above this many nodes: cheap layout, no labels until zoomed in, lighter drawing
SPRING_MAX = 400  # components up to this size get a spring layout in Python (networkx's dense, numpy one)
VIS_JS = ("lib", "vis-9.1.2", "vis-network.min.js")  # inside the pyvis package
DOC_KEYS = ("document", "title", "date", "url")  # what evidence says of its document
_BUILTIN_CLASS = {"color": "#8C8C8C", "shape": "dot"}
_BUILTIN_RELATION = {"color": "#7F7F7F"}
_SPACING = 60.0  # distance between neighbouring nodes in a sunflower disc
_SPRING = 90.0  # half-width of a spring-laid component, per square root of its size
_CHAR = 8.5  # width of a label character at the node font size, roughly
_EDGE_CHAR = 7.0  # the same at the edge font size
_LABEL_HEIGHT = 24.0  # room for the label under a node
_GAP = 50.0  # between packed components
_GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))
# Characters that could end the JSON <script> block or break older JS parsers.
_SCRIPT_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def load_style() -> dict:
    """Read the visual style per class and relation from ``ontology/style.json``."""
    path = Path(__file__).parent / "ontology" / "style.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NewsgraphError(f"cannot read the style file {path}: {exc}; reinstall newsgraph "
                             "or fix the JSON") from exc


def render_html(g: nx.MultiDiGraph, style: dict, heading: str = "newsgraph") -> str:
    """Render the networkx view of the knowledge graph as one offline HTML page.

    Nodes are coloured and shaped by class, sized by mentions; edges are
    coloured and labelled by relation, with arrows only where ``directed``.
    The same graph always gives the same string.

    >>> page = render_html(g, load_style(), heading="newsgraph")
    """
    n_nodes = g.number_of_nodes()
    big = n_nodes > BIG_GRAPH
    positions = _layout(g, spring=not big)
    docs: dict[tuple, int] = {}
    nodes = [_node(n, g.nodes[n], positions.get(n)) for n in sorted(g.nodes, key=str)]
    edges = _edges(g, docs)
    data = {
        "big": big,
        "nodes": nodes,
        "edges": edges,
        "docs": [dict(zip(DOC_KEYS, d)) for d in docs],
        "classes": _classes(nodes, style),
        "relations": _relations(g, edges, style),
        # Physics only finishes what Python could not: a component too big to spring-lay.
        "options": _vis_options(n_nodes, big, physics=not big and _largest_component(g) > SPRING_MAX),
    }
    fields = {
        "CSP": _csp(_vis_js(), _APP_JS),
        "HEADING": html.escape(str(heading)),
        "CSS": _CSS,
        "DATA": _script_json(data),
        "VIS": _vis_js(),
        "APP": _APP_JS,
    }
    # One pass, so text substituted for one field is never scanned for another.
    return re.sub(r"@@([A-Z]+)@@", lambda m: fields[m.group(1)], _PAGE)


# ------------------------------------------------------------------ data


def _text(value: Any) -> str | None:
    """``value`` as a string, keeping ``None`` (shown as absent)."""
    return None if value is None else str(value)


def _texts(values: Any, exclude: str = "") -> list[str]:
    """Distinct non-empty strings, first-seen order, without ``exclude``."""
    seen = {exclude, ""}
    out: list[str] = []
    for v in values or ():
        s = "" if v is None else str(v)
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def _style_for(style: dict, section: str, name: str) -> dict:
    """The style entry for a class or relation, over its section's default.

    Only a named entry supplies a ``label``: an unstyled class or relation is
    shown under its own name, never under the default's.
    """
    builtin = _BUILTIN_CLASS if section == "classes" else _BUILTIN_RELATION
    default = style.get("default_class" if section == "classes" else "default_relation") or {}
    own = style.get(section, {}).get(name) or {}
    return {**builtin, **default, "label": None, **own}


def _node(nid: Any, attrs: dict, pos: tuple[float, float] | None) -> dict:
    """A node's data; its colour and shape come from its class's legend row."""
    label = str(attrs.get("label") or nid)
    mentions = int(attrs.get("mentions") or 0)
    node = {
        "id": str(nid),
        "label": label,
        "cls": str(attrs.get("cls") or ""),
        "names": _texts(attrs.get("names"), exclude=label),
        "mentions": mentions,
        "documents": _texts(attrs.get("documents")),
        "size": _size(mentions),
    }
    if pos is not None:
        node["x"], node["y"] = pos
    return node


def _size(mentions: Any) -> float:
    """A node's radius: grows with the log of its mentions."""
    return round(min(10 + 6 * math.log2(1 + int(mentions or 0)), 50), 1)


def _edges(g: nx.MultiDiGraph, docs: dict[tuple, int]) -> list[dict]:
    """Edge data, sorted; parallel edges between one pair curve apart.

    Evidence names its document by index into ``docs`` (filled here), so a
    title and URL supporting many facts are stored once. Colour, label and
    arrow come from the relation's legend row.
    """
    rows = sorted(g.edges(keys=True, data=True), key=lambda e: (str(e[0]), str(e[1]), str(e[2])))
    seen: dict[tuple[str, str], int] = {}  # unordered pair → edges drawn so far
    out = []
    for i, (u, v, key, attrs) in enumerate(rows):
        src, dst = str(u), str(v)
        evidence = []
        for ev in attrs.get("evidence") or ():
            if isinstance(ev, dict):
                doc = tuple(_text(ev.get(k)) for k in DOC_KEYS)
                evidence.append({"sentence": _text(ev.get("sentence")), "doc": docs.setdefault(doc, len(docs)),
                                 "rule": _text(ev.get("rule")), "trigger": _text(ev.get("trigger"))})
        edge = {
            "id": f"e{i}",
            "from": src,
            "to": dst,
            "relation": str(attrs.get("relation") or key),
            "directed": bool(attrs.get("directed")),
            "count": int(attrs.get("count") or len(evidence) or 1),
            "evidence": evidence,
        }
        pair = (src, dst) if src <= dst else (dst, src)
        k = seen[pair] = seen.get(pair, -1) + 1
        if k and src != dst:
            # Alternate sides; flip for edges stored against the pair's order.
            clockwise = (k % 2 == 1) == (pair == (src, dst))
            edge["smooth"] = {"enabled": True, "type": "curvedCW" if clockwise else "curvedCCW",
                              "roundness": round(0.25 * ((k + 1) // 2), 2)}
        out.append(edge)
    return out


def _counts(items: list[dict], field: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item[field]] = counts.get(item[field], 0) + 1
    return counts


def _ordered(counts: dict[str, int], styled: dict) -> list[str]:
    """Names present, styled ones first in the style file's order, then the rest sorted."""
    return [n for n in styled if n in counts] + sorted(n for n in counts if n not in styled)


def _classes(nodes: list[dict], style: dict) -> list[dict]:
    """One legend row per class present, carrying the class's look."""
    counts = _counts(nodes, "cls")
    rows = []
    for name in _ordered(counts, style.get("classes", {})):
        look = _style_for(style, "classes", name)
        rows.append({"name": name, "label": str(look["label"] or name or "entity"), "color": look["color"],
                     "shape": look["shape"], "count": counts[name]})
    return rows


def _relations(g: nx.MultiDiGraph, edges: list[dict], style: dict) -> list[dict]:
    """One legend row per relation present, carrying the relation's look and label."""
    counts = _counts(edges, "relation")
    directed = {e["relation"] for e in edges if e["directed"]}
    labels: dict[str, str] = {}
    for _, _, key, attrs in g.edges(keys=True, data=True):  # the graph's own label, e.g. from the ontology
        labels.setdefault(str(attrs.get("relation") or key), str(attrs.get("label") or ""))
    rows = []
    for name in _ordered(counts, style.get("relations", {})):
        look = _style_for(style, "relations", name)
        rows.append({"name": name, "label": labels.get(name) or str(look["label"] or name), "color": look["color"],
                     "directed": name in directed, "count": counts[name]})
    return rows


def _layout(g: nx.MultiDiGraph, spring: bool) -> dict[Any, tuple[float, float]]:
    """Deterministic positions: each connected component on its own, packed in rows, largest first.

    With ``spring``, a component of up to ``SPRING_MAX`` entities is laid out
    force-directed (networkx's Fruchterman-Reingold, numpy), turned to lie wide
    to suit a screen and horizontal labels, and spread until every edge has
    room for its labels. Other components, and all of a big graph's, where
    that would take too long, are sunflower discs grown breadth-first from
    their best-connected node: linear time, hubs in the middle, neighbours
    around them. Entities with no relation come last, in rows of their own.
    """
    name = {n: str(n) for n in g}
    adj: dict[Any, set] = {n: set() for n in g}
    for u, v in g.edges():
        if u != v:
            adj[u].add(v)
            adj[v].add(u)
    half = {n: max(_size(a.get("mentions")), _CHAR * len(str(a.get("label") or n)) / 2) for n, a in g.nodes(data=True)}
    boxes = []
    for comp in _components(adj, name):
        if spring and 1 < len(comp) <= SPRING_MAX:
            local = _roomy(g, _spring(comp, adj), half)
        else:
            local = _sunflower(comp, adj, name)
        x0 = y0 = math.inf
        x1 = y1 = -math.inf
        for n, (x, y) in local.items():
            size = _size(g.nodes[n].get("mentions"))
            x0, x1 = min(x0, x - half[n]), max(x1, x + half[n])
            y0, y1 = min(y0, y - size), max(y1, y + size + _LABEL_HEIGHT)
        boxes.append((local, x0, y0, x1 - x0, y1 - y0))
    row_width = max(max((b[3] for b in boxes), default=0.0),
                    1.3 * math.sqrt(sum((b[3] + _GAP) * (b[4] + _GAP) for b in boxes)))
    rows: list[list] = [[]]
    used = 0.0
    for i, box in enumerate(boxes):
        # Entities with no relation start a row of their own.
        alone_first = len(box[0]) == 1 and i and len(boxes[i - 1][0]) > 1
        if rows[-1] and (used + box[3] > row_width or alone_first):
            rows.append([])
            used = 0.0
        rows[-1].append(box)
        used += box[3] + _GAP
    pos: dict[Any, tuple[float, float]] = {}
    top = 0.0
    for row in rows:
        x = (row_width - sum(b[3] + _GAP for b in row) + _GAP) / 2  # centred
        for local, x0, y0, w, _ in row:
            for n, (px, py) in local.items():
                pos[n] = (round(x + px - x0, 1), round(top + py - y0, 1))
            x += w + _GAP
        top += max((b[4] for b in row), default=0.0) + _GAP
    return pos


def _largest_component(g: nx.MultiDiGraph) -> int:
    return max((len(c) for c in nx.weakly_connected_components(g)), default=0)


def _components(adj: dict[Any, set], name: dict[Any, str]) -> list[list]:
    """Connected components, largest first; ties in order of their first member's name."""
    seen: set = set()
    comps = []
    for start in sorted(adj, key=name.__getitem__):
        if start in seen:
            continue
        seen.add(start)
        comp, frontier = [start], [start]
        while frontier:
            nxt = []
            for a in frontier:
                for b in adj[a] - seen:
                    seen.add(b)
                    nxt.append(b)
            comp += nxt
            frontier = nxt
        comps.append(comp)
    comps.sort(key=len, reverse=True)  # stable
    return comps


def _sunflower(comp: list, adj: dict[Any, set], name: dict[Any, str]) -> dict[Any, tuple[float, float]]:
    hub = max(sorted(comp, key=name.__getitem__), key=lambda n: len(adj[n]))
    order, done = [hub], {hub}
    for a in order:  # breadth-first: the list grows while it is walked
        for b in sorted(adj[a] - done, key=name.__getitem__):
            done.add(b)
            order.append(b)
    return {n: (_SPACING * math.sqrt(i) * math.cos(i * _GOLDEN_ANGLE),
                _SPACING * math.sqrt(i) * math.sin(i * _GOLDEN_ANGLE)) for i, n in enumerate(order)}


def _roomy(g: nx.MultiDiGraph, local: dict[Any, tuple[float, float]], half: dict[Any, float]) -> dict:
    """``local`` scaled up until every edge has room for its two nodes' labels and its own."""
    factor = 1.0
    for u, v, k, a in g.edges(local, keys=True, data=True):
        if u == v or v not in local:
            continue
        text = str(a.get("label") or a.get("relation") or k) + (" ×00" if int(a.get("count") or 1) > 1 else "")
        need = max(half[u] + half[v] + _GAP,
                   _size(g.nodes[u].get("mentions")) + _size(g.nodes[v].get("mentions")) + _EDGE_CHAR * len(text) + _GAP)
        factor = max(factor, need / max(math.dist(local[u], local[v]), 1e-9))
    return {n: (x * factor, y * factor) for n, (x, y) in local.items()}


def _spring(comp: list, adj: dict[Any, set]) -> dict[Any, tuple[float, float]]:
    import numpy as np

    order = sorted(comp, key=str)  # node order is what makes the seeded layout repeatable
    h = nx.Graph()
    h.add_nodes_from(order)
    h.add_edges_from((a, b) for a in order for b in adj[a])
    pos = nx.spring_layout(h, seed=7, iterations=100)
    xy = np.array([pos[n] for n in order])
    xy -= xy.mean(axis=0)
    _, vectors = np.linalg.eigh(xy.T @ xy)  # principal axis last
    xy = xy @ vectors[:, ::-1]  # ... turned to lie along x
    xy *= _SPRING * math.sqrt(len(comp)) / max(float(np.abs(xy).max()), 1e-9)
    return {n: (float(x), float(y)) for n, (x, y) in zip(order, xy)}


def _vis_options(n_nodes: int, big: bool, physics: bool) -> dict:
    """vis-network options, starting from pyvis's option model."""
    net = Network(directed=True)
    net.force_atlas_2based(gravity=-60, central_gravity=0.01, spring_length=120,
                           spring_strength=0.08, damping=0.4, overlap=0)
    net.set_edge_smooth("continuous")
    net.toggle_physics(physics)
    opts = json.loads(net.options.to_json())
    # Physics refines a component too big for the Python spring layout; it costs about
    # 20 µs per node and iteration on a small laptop: hold it to about 2 s.
    iterations = max(50, min(500, 100_000 // max(n_nodes, 1)))
    opts["physics"]["stabilization"].update(iterations=iterations, updateInterval=25, fit=True)
    opts["edges"].update(
        smooth={"enabled": not big, "type": "continuous"},
        color={"inherit": False},
        width=2,
        arrows={"to": {"enabled": False}},
        font={"size": 13, "align": "horizontal", "strokeWidth": 4, "background": "rgba(255,255,255,0.7)"},
        selectionWidth=2,
    )
    # Borders are a fifth of the drawing time of a big graph and invisible when zoomed out.
    opts["nodes"] = {"font": {"size": 16, "strokeWidth": 4, "strokeColor": "#ffffff"}, "borderWidth": 0 if big else 1}
    # Big graphs: no hover restyling (each would redraw every item), edges hidden while moving.
    opts["interaction"].update(hover=not big, tooltipDelay=100, hideEdgesOnDrag=big, hideEdgesOnZoom=big,
                               navigationButtons=False)
    # Every node comes with a position; vis's own layout would only move them.
    opts["layout"] = {"randomSeed": 7, "improvedLayout": False}
    return opts


def _script_json(data: Any) -> str:
    """JSON that cannot close or confuse the ``<script>`` element holding it."""
    text = json.dumps(data, ensure_ascii=True, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return text.translate(_SCRIPT_ESCAPES)


# ------------------------------------------------------------------ page


@lru_cache(maxsize=1)
def _vis_js() -> str:
    """The vis-network build vendored in pyvis, checked safe to inline."""
    js = resources.files("pyvis").joinpath(*VIS_JS).read_text(encoding="utf-8")
    if re.search(r"</script|<!--", js, re.IGNORECASE):
        raise NewsgraphError(f"pyvis's {'/'.join(VIS_JS)} cannot be inlined safely; "
                             "install pyvis 0.3.2")
    return js


def _csp(*scripts: str) -> str:
    """Content-Security-Policy: nothing loads; only these exact inline scripts run.

    The hashes make browsers ignore 'unsafe-inline', so even injected markup
    could not run script; 'unsafe-inline' stays for browsers without hashes.
    """
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode("utf-8")).digest()).decode() + "'"
        for s in scripts
    )
    return (f"default-src 'none'; script-src {hashes} 'unsafe-inline'; style-src 'unsafe-inline'; "
            "img-src data:; connect-src 'none'; form-action 'none'")


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="@@CSP@@">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>@@HEADING@@</title>
<style>@@CSS@@</style>
</head>
<body>
<header>
<h1>@@HEADING@@</h1>
<input id="ng-search" type="search" placeholder="Find a name…" aria-label="Find a name" autocomplete="off">
<button id="ng-find" type="button">Find</button>
<span id="ng-status" role="status"></span>
</header>
<main>
<aside>
<section><h2>Classes</h2><ul id="ng-classes" class="ng-legend"></ul></section>
<section><h2>Relations</h2><ul id="ng-relations" class="ng-legend"></ul></section>
<section><h2>Details</h2><div id="ng-details"><p class="ng-muted">Click a node or an edge.</p></div></section>
<p class="ng-muted ng-help">Size shows how often a name is mentioned. Hover a node or an edge for its
evidence; click it to keep the evidence here and light up its neighbours.</p>
</aside>
<div id="ng-network"></div>
</main>
<script type="application/json" id="ng-data">@@DATA@@</script>
<script>@@VIS@@</script>
<script>@@APP@@</script>
</body>
</html>
"""

_CSS = """
html, body { margin: 0; height: 100%; font: 14px/1.4 system-ui, sans-serif; color: #222; }
body { display: flex; flex-direction: column; }
header { display: flex; align-items: center; gap: .5em; padding: .4em .8em; border-bottom: 1px solid #ddd; }
h1 { font-size: 1.15em; margin: 0 1em 0 0; }
h2 { font-size: .95em; margin: .8em 0 .3em; }
main { flex: 1; display: flex; min-height: 0; }
aside { width: 300px; overflow: auto; overflow-wrap: anywhere; padding: 0 .8em .8em; border-right: 1px solid #ddd; }
#ng-network { flex: 1; min-width: 0; }
.ng-legend { list-style: none; margin: 0; padding: 0; }
.ng-legend label { display: flex; align-items: center; gap: .4em; cursor: pointer; }
.ng-swatch { display: inline-block; width: 12px; height: 12px; flex: none; }
.ng-swatch[data-shape="dot"], .ng-swatch[data-shape="ellipse"], .ng-swatch[data-shape="circle"] { border-radius: 50%; }
.ng-swatch[data-shape="triangle"] { clip-path: polygon(50% 0, 100% 100%, 0 100%); }
.ng-swatch[data-shape="diamond"] { clip-path: polygon(50% 0, 100% 50%, 50% 100%, 0 50%); }
.ng-line { display: inline-block; width: 22px; height: 3px; flex: none; }
.ng-muted, .ng-count { color: #666; }
.ng-info ul, .ng-info ol { margin: .2em 0; padding-left: 1.3em; }
.ng-info li { margin: .2em 0; }
.ng-url, .ng-info a { word-break: break-all; font-size: .9em; }
#ng-network { position: relative; }
.ng-tip { position: absolute; display: none; z-index: 5; pointer-events: none;
  max-width: 420px; white-space: normal; overflow-wrap: anywhere; padding: 6px 8px; font: 13px/1.35 system-ui, sans-serif;
  color: #222; background: #fffdf5; border: 1px solid #aaa; border-radius: 4px;
  box-shadow: 2px 2px 8px rgba(0, 0, 0, .2); }
.ng-tip.ng-shown { display: block; }
"""

# Untrusted text only ever reaches the DOM through textContent (el) or, for
# links, through an href checked to be http(s) by the browser's URL parser.
# Names from the data are only ever keys of Maps, never of plain objects.
_APP_JS = r""""use strict";
(() => {
  const data = JSON.parse(document.getElementById("ng-data").textContent);
  const TIP_ITEMS = 3;
  const container = document.getElementById("ng-network");
  const status = document.getElementById("ng-status");
  const details = document.getElementById("ng-details");
  const byNode = new Map(data.nodes.map((n) => [n.id, n]));
  const byEdge = new Map(data.edges.map((e) => [e.id, e]));
  const classOf = new Map(data.classes.map((c) => [c.name, c]));
  const relationOf = new Map(data.relations.map((r) => [r.name, r]));

  function el(tag, text, className) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (className) e.className = className;
    return e;
  }

  function wrap(tag, child) {
    const e = el(tag);
    e.append(child);
    return e;
  }

  function httpHref(url) {
    try {
      const u = new URL(url);
      return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
    } catch (_) {
      return null;
    }
  }

  function list(tag, items, limit, render) {
    const ul = el(tag);
    items.slice(0, limit).forEach((x) => ul.append(render(x)));
    if (items.length > limit) ul.append(el("li", `… ${items.length - limit} more (click for all)`, "ng-muted"));
    return ul;
  }

  function nodeInfo(n, full) {
    const limit = full ? Infinity : TIP_ITEMS * 3;
    const box = el("div", null, "ng-info");
    box.append(el("strong", n.label),
      el("div", `${classOf.get(n.cls).label} · ${n.mentions} mention${n.mentions === 1 ? "" : "s"}`, "ng-muted"));
    if (n.names.length) box.append(el("div", "Also named"), list("ul", n.names, limit, (s) => el("li", s)));
    if (n.documents.length) box.append(el("div", "Documents"), list("ul", n.documents, limit, (s) => el("li", s)));
    return box;
  }

  function evidenceItem(ev, full) {
    const doc = data.docs[ev.doc];
    const li = el("li");
    if (ev.sentence) li.append(el("q", ev.sentence));
    const meta = [doc.title || doc.document, doc.date, ev.rule && `rule ${ev.rule}`,
      ev.trigger && `trigger “${ev.trigger}”`].filter(Boolean).join(" · ");
    if (meta) li.append(el("div", meta, "ng-muted"));
    if (doc.url) {
      const href = full ? httpHref(doc.url) : null;  // tooltips cannot be clicked
      if (href) {
        const a = el("a", doc.url);
        a.href = href;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        li.append(wrap("div", a));
      } else {
        li.append(el("div", doc.url, "ng-url"));
      }
    }
    return li;
  }

  function edgeInfo(e, full) {
    const box = el("div", null, "ng-info");
    box.append(el("strong", `${byNode.get(e.from).label} ${relationOf.get(e.relation).label} ${byNode.get(e.to).label}`),
      el("div", `${e.count} report${e.count === 1 ? "" : "s"}`, "ng-muted"),
      list("ol", e.evidence, full ? Infinity : TIP_ITEMS, (ev) => evidenceItem(ev, full)));
    return box;
  }

  // vis gets only what it draws; evidence stays in data and is read on demand.
  function edgeLabel(e) {
    const label = relationOf.get(e.relation).label;
    return e.count > 1 ? `${label} ×${e.count}` : label;
  }
  // Big graphs start without labels: at the zoom that fits them none would be
  // legible (vis would not draw them), and measuring them all takes seconds.
  // labelInView adds them once the reader zooms in.
  const nodes = new vis.DataSet(data.nodes.map((n) => {
    const c = classOf.get(n.cls);
    const item = { id: n.id, color: c.color, shape: c.shape, size: n.size };
    if (!data.big) item.label = n.label;
    if (n.x !== undefined) { item.x = n.x; item.y = n.y; }
    return item;
  }));
  const edges = new vis.DataSet(data.edges.map((e) => {
    // Only what differs from the defaults in data.options: every property costs vis time.
    const item = { id: e.id, from: e.from, to: e.to, color: relationOf.get(e.relation).color };
    if (e.directed) item.arrows = "to";
    if (e.count > 1) item.width = Math.round(10 * Math.min(2 + 1.5 * Math.log2(e.count), 8)) / 10;
    if (!data.big) item.label = edgeLabel(e);
    if (e.smooth) item.smooth = e.smooth;
    return item;
  }));
  const network = new vis.Network(container, { nodes, edges }, data.options);
  window.newsgraph = { network, nodes, edges, data };

  // Tooltips are built when hovered, not up front: a big graph has tens of thousands.
  const tip = el("div", null, "ng-tip");
  tip.setAttribute("role", "tooltip");
  container.append(tip);
  let tipFor = null;
  let pointer = null;

  function hideTip() {
    tip.classList.remove("ng-shown");
    tipFor = null;
  }

  function updateTip() {
    const at = pointer;
    pointer = null;
    if (!at) return;
    const nodeId = network.getNodeAt(at);
    const edgeId = nodeId === undefined ? network.getEdgeAt(at) : undefined;
    const key = nodeId !== undefined ? `n ${nodeId}` : edgeId !== undefined ? `e ${edgeId}` : null;
    if (!key) {
      hideTip();
      return;
    }
    if (key !== tipFor) {
      tip.replaceChildren(nodeId !== undefined ? nodeInfo(byNode.get(nodeId), false) : edgeInfo(byEdge.get(edgeId), false));
      tipFor = key;
    }
    tip.classList.add("ng-shown");  // shown before measuring: a hidden box has no size
    const x = Math.min(at.x + 14, container.clientWidth - tip.offsetWidth - 4);
    const y = at.y + 14 + tip.offsetHeight > container.clientHeight ? at.y - 10 - tip.offsetHeight : at.y + 14;
    tip.style.left = `${Math.max(0, x)}px`;
    tip.style.top = `${Math.max(0, y)}px`;
  }

  container.addEventListener("mousemove", (ev) => {
    if (ev.buttons) return;  // dragging
    const box = container.getBoundingClientRect();
    if (!pointer) requestAnimationFrame(updateTip);
    pointer = { x: ev.clientX - box.left, y: ev.clientY - box.top };
  });
  container.addEventListener("mouseleave", hideTip);
  network.on("dragStart", hideTip);
  network.on("zoom", hideTip);

  const LEGIBLE_PX = 5;  // vis draws no label smaller than this on screen
  const labelledNodes = new Set();
  const labelledEdges = new Set();

  function labelInView() {
    const scale = network.getScale();
    const wantNodes = data.options.nodes.font.size * scale >= LEGIBLE_PX;
    const wantEdges = data.options.edges.font.size * scale >= LEGIBLE_PX;
    if (!data.big || !wantNodes) return;
    const a = network.DOMtoCanvas({ x: 0, y: 0 });
    const b = network.DOMtoCanvas({ x: container.clientWidth, y: container.clientHeight });
    const pos = network.getPositions();
    const inView = new Set(data.nodes.map((n) => n.id).filter((id) => {
      const p = pos[id];
      return p.x >= a.x && p.x <= b.x && p.y >= a.y && p.y <= b.y;
    }));
    const newNodes = [...inView].filter((id) => !labelledNodes.has(id));
    newNodes.forEach((id) => labelledNodes.add(id));
    nodes.update(newNodes.map((id) => ({ id, label: byNode.get(id).label })));
    if (!wantEdges) return;
    const newEdges = data.edges.filter((e) => !labelledEdges.has(e.id) && (inView.has(e.from) || inView.has(e.to)));
    newEdges.forEach((e) => labelledEdges.add(e.id));
    edges.update(newEdges.map((e) => ({ id: e.id, label: edgeLabel(e) })));
  }
  let labelTimer = null;
  const labelSoon = () => {
    clearTimeout(labelTimer);
    labelTimer = setTimeout(labelInView, 150);
  };
  network.on("zoom", labelSoon);
  network.on("dragEnd", labelSoon);

  // Neighbourhood highlight. Small graphs dim everything else; big graphs, where
  // restyling every item would take seconds, rely on vis's own selection.
  function highlight(keepNodes, keepEdges) {
    if (data.big) return;
    const on = (set, id) => !set || set.has(id);
    nodes.update(data.nodes.map((n) => {
      const lit = on(keepNodes, n.id);
      return { id: n.id, opacity: lit ? 1 : 0.15, font: { color: lit ? "#343434" : "rgba(52,52,52,0.2)" } };
    }));
    edges.update(data.edges.map((e) => {
      const lit = on(keepEdges, e.id);
      const color = relationOf.get(e.relation).color;  // a partial colour would reset the rest
      return { id: e.id, color: { color, highlight: color, hover: color, opacity: lit ? 1 : 0.1 },
        font: { color: lit ? "#343434" : "rgba(52,52,52,0.15)" } };
    }));
  }

  function show(box) {
    details.replaceChildren(box);
  }

  function selectNode(id) {
    highlight(new Set([id, ...network.getConnectedNodes(id)]), new Set(network.getConnectedEdges(id)));
    show(nodeInfo(byNode.get(id), true));
  }

  network.on("click", (p) => {
    if (p.nodes.length) {
      selectNode(p.nodes[0]);
    } else if (p.edges.length) {
      const e = byEdge.get(p.edges[0]);
      highlight(new Set([e.from, e.to]), new Set([e.id]));
      show(edgeInfo(e, true));
    } else {
      highlight(null, null);
      show(el("p", "Click a node or an edge.", "ng-muted"));
    }
  });

  // Filters: one checkbox per class and per relation, applied as hidden flags
  // so positions survive hiding and showing. Only items that change are updated.
  const hiddenCls = new Set();
  const hiddenRel = new Set();
  const nodeHidden = new Map();
  const edgeHidden = new Map();

  function applyFilters() {
    const gone = new Set(data.nodes.filter((n) => hiddenCls.has(n.cls)).map((n) => n.id));
    const changes = (items, was, hide) => items.filter((x) => (was.get(x.id) || false) !== hide(x))
      .map((x) => {
        was.set(x.id, hide(x));
        return { id: x.id, hidden: hide(x) };
      });
    nodes.update(changes(data.nodes, nodeHidden, (n) => gone.has(n.id)));
    edges.update(changes(data.edges, edgeHidden,
      (e) => hiddenRel.has(e.relation) || gone.has(e.from) || gone.has(e.to)));
    hideTip();
  }

  function legend(listId, rows, hidden, kind) {
    const ul = document.getElementById(listId);
    rows.forEach((row) => {
      const box = el("input");
      box.type = "checkbox";
      box.checked = true;
      box.dataset[kind] = row.name;
      box.addEventListener("change", () => {
        if (box.checked) hidden.delete(row.name); else hidden.add(row.name);
        applyFilters();
      });
      const swatch = el("span", null, kind === "cls" ? "ng-swatch" : "ng-line");
      swatch.style.background = row.color;
      if (row.shape) swatch.dataset.shape = row.shape;
      const label = el("label");
      label.append(box, swatch, el("span", row.label + (row.directed ? " →" : "")),
        el("span", `(${row.count})`, "ng-count"));
      ul.append(wrap("li", label));
    });
  }
  legend("ng-classes", data.classes, hiddenCls, "cls");
  legend("ng-relations", data.relations, hiddenRel, "relation");

  // Search: exact name first, then the first name containing the query.
  const search = document.getElementById("ng-search");

  function find(query) {
    const q = query.trim().toLowerCase();
    if (!q) return null;
    const visible = data.nodes.filter((n) => !hiddenCls.has(n.cls));
    const names = (n) => [n.label, ...n.names].map((s) => s.toLowerCase());
    return visible.find((n) => names(n).includes(q)) ||
      visible.find((n) => names(n).some((s) => s.includes(q))) || null;
  }

  function go() {
    const n = find(search.value);
    status.textContent = n || !search.value.trim() ? "" : "No match";
    if (!n) return;
    network.selectNodes([n.id]);
    network.focus(n.id, { scale: 1.2, animation: false });
    selectNode(n.id);
    labelInView();
  }
  search.addEventListener("keydown", (ev) => { if (ev.key === "Enter") go(); });
  document.getElementById("ng-find").addEventListener("click", go);

  // Lay out once, then freeze so the page stays calm. Ready means drawn in place.
  const markReady = () => network.once("afterDrawing", () => { document.body.dataset.ready = "1"; });
  network.on("stabilizationProgress", (p) => {
    status.textContent = `Laying out… ${Math.round((100 * p.iterations) / p.total)}%`;
  });
  if (data.options.physics.enabled) {
    network.once("stabilizationIterationsDone", () => {
      network.setOptions({ physics: false });
      status.textContent = "";
      markReady();
      network.redraw();
    });
  } else {
    markReady();  // vis draws the laid-out graph on its next frame
  }
})();
"""
