"""networkx view → one self-contained, offline, script-safe HTML page.

The page inlines the vis-network build that ships inside pyvis, carries the
graph as JSON in a ``<script type="application/json">`` block and builds every
piece of untrusted text (names, sentences, titles, URLs) into the DOM with
``textContent``. Its template, script and style sheet are files in ``web/``
(``network.html``, ``network.js``, ``network.css``). The script sets no
markup from strings, links only URLs the browser's own parser reads as
http(s), and keys Maps, never plain objects, by names from the data. The page
makes no network request. pyvis's own template is not used: it loads assets
from a CDN or a ``lib/`` folder and does not escape its input.

>>> page = render_html(g, load_style(), heading="Sahel, March")
>>> Path("graph.html").write_text(page, encoding="utf-8")
"""
from __future__ import annotations

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
from .pages import asset, csp_hash, fill

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
    app = asset("network.js")
    return fill(asset("network.html"), {
        "CSP": _csp(_vis_js(), app),
        "HEADING": html.escape(str(heading)),
        "CSS": asset("network.css"),
        "DATA": _script_json(data),
        "VIS": _vis_js(),
        "APP": app,
    })


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
    hashes = " ".join(csp_hash(s) for s in scripts)
    return (f"default-src 'none'; script-src {hashes} 'unsafe-inline'; style-src 'unsafe-inline'; "
            "img-src data:; connect-src 'none'; form-action 'none'")
