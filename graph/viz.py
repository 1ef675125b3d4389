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

BIG_GRAPH = 2000  # above this many nodes, lay out in Python and keep physics off
VIS_JS = ("lib", "vis-9.1.2", "vis-network.min.js")  # inside the pyvis package
EVIDENCE_KEYS = ("sentence", "document", "title", "date", "url", "rule", "trigger")
_BUILTIN_CLASS = {"color": "#8C8C8C", "shape": "dot"}
_BUILTIN_RELATION = {"color": "#7F7F7F"}
_SPACING = 60.0  # distance between neighbouring nodes in the Python layout
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
    big = g.number_of_nodes() > BIG_GRAPH
    positions = _disc_layout(g) if big else {}
    data = {
        "nodes": [_node(n, g.nodes[n], style, positions.get(n)) for n in sorted(g.nodes, key=str)],
        "edges": _edges(g, style),
        "options": _vis_options(g.number_of_nodes(), big),
    }
    data["classes"] = _legend(data["nodes"], "cls", style.get("classes", {}))
    data["relations"] = _legend(data["edges"], "relation", style.get("relations", {}))
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


def _node(nid: Any, attrs: dict, style: dict, pos: tuple[float, float] | None) -> dict:
    cls = str(attrs.get("cls") or "")
    look = _style_for(style, "classes", cls)
    label = str(attrs.get("label") or nid)
    mentions = int(attrs.get("mentions") or 0)
    node = {
        "id": str(nid),
        "label": label,
        "cls": cls,
        "clsLabel": str(look.get("label") or cls or "entity"),
        "names": _texts(attrs.get("names"), exclude=label),
        "mentions": mentions,
        "documents": _texts(attrs.get("documents")),
        "color": look["color"],
        "shape": look["shape"],
        "size": round(min(10 + 6 * math.log2(1 + mentions), 50), 1),
    }
    if pos is not None:
        node["x"], node["y"] = pos
    return node


def _edges(g: nx.MultiDiGraph, style: dict) -> list[dict]:
    """vis edge items, sorted; parallel edges between one pair curve apart."""
    rows = sorted(g.edges(keys=True, data=True), key=lambda e: (str(e[0]), str(e[1]), str(e[2])))
    seen: dict[tuple[str, str], int] = {}  # unordered pair → edges drawn so far
    out = []
    for i, (u, v, key, attrs) in enumerate(rows):
        src, dst = str(u), str(v)
        relation = str(attrs.get("relation") or key)
        look = _style_for(style, "relations", relation)
        rel_label = str(attrs.get("label") or look.get("label") or relation)
        evidence = [{k: _text(ev.get(k)) for k in EVIDENCE_KEYS}
                    for ev in attrs.get("evidence") or () if isinstance(ev, dict)]
        count = int(attrs.get("count") or len(evidence) or 1)
        color = look["color"]
        edge = {
            "id": f"e{i}",
            "from": src,
            "to": dst,
            "relation": relation,
            "relLabel": rel_label,
            "directed": bool(attrs.get("directed")),
            "count": count,
            "evidence": evidence,
            "label": rel_label if count <= 1 else f"{rel_label} ×{count}",
            "color": {"color": color, "highlight": color, "hover": color, "inherit": False},
            "arrows": {"to": {"enabled": bool(attrs.get("directed"))}},
            "width": round(min(1 + 1.5 * math.log2(count), 8), 1),
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


def _legend(items: list[dict], field: str, styled: dict) -> list[dict]:
    """One legend row per class or relation present: styled ones first, in style order."""
    counts: dict[str, int] = {}
    for item in items:
        counts[item[field]] = counts.get(item[field], 0) + 1
    names = [n for n in styled if n in counts] + sorted(n for n in counts if n not in styled)
    first = {}
    for item in items:
        first.setdefault(item[field], item)
    rows = []
    for name in names:
        item = first[name]
        if field == "cls":
            rows.append({"name": name, "label": item["clsLabel"], "color": item["color"],
                         "shape": item["shape"], "count": counts[name]})
        else:
            rows.append({"name": name, "label": item["relLabel"], "color": item["color"]["color"],
                         "directed": any(e["directed"] for e in items if e[field] == name),
                         "count": counts[name]})
    return rows


def _disc_layout(g: nx.MultiDiGraph) -> dict[Any, tuple[float, float]]:
    """Cheap deterministic positions for big graphs, without numpy or scipy.

    Each connected component becomes a sunflower disc grown breadth-first from
    its best-connected node, so hubs sit in the middle and their neighbours
    around them; discs are packed in rows, largest first.
    """
    und = g.to_undirected(as_view=True)
    comps = sorted((sorted(c, key=str) for c in nx.connected_components(und)),
                   key=lambda c: (-len(c), str(c[0])))
    row_width = 3 * _SPACING * math.sqrt(max(len(g), 1))
    pos: dict[Any, tuple[float, float]] = {}
    x = y = row_height = 0.0
    for comp in comps:
        hub = max(comp, key=und.degree)
        order = [hub] + [b for _, b in nx.bfs_edges(und, hub, sort_neighbors=lambda ns: sorted(ns, key=str))]
        radius = _SPACING * math.sqrt(len(order))
        if x and x + 2 * radius > row_width:
            x, y, row_height = 0.0, y + row_height, 0.0
        for i, n in enumerate(order):
            r, a = _SPACING * math.sqrt(i), i * _GOLDEN_ANGLE
            pos[n] = (round(x + radius + r * math.cos(a), 1), round(y + radius + r * math.sin(a), 1))
        x += 2 * radius + _SPACING
        row_height = max(row_height, 2 * radius + _SPACING)
    return pos


def _vis_options(n_nodes: int, big: bool) -> dict:
    """vis-network options, starting from pyvis's option model."""
    net = Network(directed=True)
    net.force_atlas_2based(gravity=-60, central_gravity=0.01, spring_length=120,
                           spring_strength=0.08, damping=0.4, overlap=0)
    net.set_edge_smooth("continuous")
    net.toggle_physics(not big and n_nodes > 0)
    opts = json.loads(net.options.to_json())
    # Stabilisation cost grows with nodes × iterations: hold it to a few seconds.
    iterations = max(100, min(500, 200_000 // max(n_nodes, 1)))
    opts["physics"]["stabilization"].update(iterations=iterations, updateInterval=25, fit=True)
    opts["edges"].update(
        smooth={"enabled": not big, "type": "continuous"},
        color={"inherit": False},
        font={"size": 11, "align": "middle", "strokeWidth": 3},
        selectionWidth=2,
    )
    opts["nodes"] = {"font": {"size": 14}, "borderWidth": 1}
    opts["interaction"].update(hover=True, tooltipDelay=100, hideEdgesOnDrag=big, navigationButtons=False)
    # vis's improved layout is slow and gives up (with a console message) on big graphs.
    opts["layout"] = {"randomSeed": 7, "improvedLayout": n_nodes <= 100}
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
div.vis-tooltip { position: absolute; visibility: hidden; z-index: 5; pointer-events: none;
  max-width: 420px; white-space: normal; overflow-wrap: anywhere; padding: 6px 8px; font: 13px/1.35 system-ui, sans-serif;
  color: #222; background: #fffdf5; border: 1px solid #aaa; border-radius: 4px;
  box-shadow: 2px 2px 8px rgba(0, 0, 0, .2); }
"""

# Untrusted text only ever reaches the DOM through textContent (el) or, for
# links, through an href checked to be http(s) by the browser's URL parser.
_APP_JS = r""""use strict";
(() => {
  const data = JSON.parse(document.getElementById("ng-data").textContent);
  const TIP_ITEMS = 3;
  const status = document.getElementById("ng-status");
  const details = document.getElementById("ng-details");
  const byNode = new Map(data.nodes.map((n) => [n.id, n]));

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
      el("div", `${n.clsLabel} · ${n.mentions} mention${n.mentions === 1 ? "" : "s"}`, "ng-muted"));
    if (n.names.length) box.append(el("div", "Also named"), list("ul", n.names, limit, (s) => el("li", s)));
    if (n.documents.length) box.append(el("div", "Documents"), list("ul", n.documents, limit, (s) => el("li", s)));
    return box;
  }

  function evidenceItem(ev, full) {
    const li = el("li");
    if (ev.sentence) li.append(el("q", ev.sentence));
    const meta = [ev.title || ev.document, ev.date, ev.rule && `rule ${ev.rule}`,
      ev.trigger && `trigger “${ev.trigger}”`].filter(Boolean).join(" · ");
    if (meta) li.append(el("div", meta, "ng-muted"));
    if (ev.url) {
      const href = full ? httpHref(ev.url) : null;  // tooltips cannot be clicked
      if (href) {
        const a = el("a", ev.url);
        a.href = href;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        li.append(wrap("div", a));
      } else {
        li.append(el("div", ev.url, "ng-url"));
      }
    }
    return li;
  }

  function edgeInfo(e, full) {
    const box = el("div", null, "ng-info");
    box.append(el("strong", `${byNode.get(e.from).label} ${e.relLabel} ${byNode.get(e.to).label}`),
      el("div", `${e.count} report${e.count === 1 ? "" : "s"}`, "ng-muted"),
      list("ol", e.evidence, full ? Infinity : TIP_ITEMS, (ev) => evidenceItem(ev, full)));
    return box;
  }

  data.nodes.forEach((n) => { n.title = nodeInfo(n, false); });
  data.edges.forEach((e) => { e.title = edgeInfo(e, false); });
  const byEdge = new Map(data.edges.map((e) => [e.id, e]));
  const nodes = new vis.DataSet(data.nodes);
  const edges = new vis.DataSet(data.edges);
  const network = new vis.Network(document.getElementById("ng-network"), { nodes, edges }, data.options);
  window.newsgraph = { network, nodes, edges };

  // Neighbourhood highlight: dim everything outside keepNodes/keepEdges (null = none).
  function highlight(keepNodes, keepEdges) {
    const on = (set, id) => !set || set.has(id);
    nodes.update(data.nodes.map((n) => {
      const lit = on(keepNodes, n.id);
      return { id: n.id, opacity: lit ? 1 : 0.15, font: { color: lit ? "#343434" : "rgba(52,52,52,0.2)" } };
    }));
    edges.update(data.edges.map((e) => {
      const lit = on(keepEdges, e.id);
      return { id: e.id, color: { ...e.color, opacity: lit ? 1 : 0.1 },
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
  // so positions survive hiding and showing.
  const hiddenCls = new Set();
  const hiddenRel = new Set();

  function applyFilters() {
    const gone = new Set(data.nodes.filter((n) => hiddenCls.has(n.cls)).map((n) => n.id));
    nodes.update(data.nodes.map((n) => ({ id: n.id, hidden: gone.has(n.id) })));
    edges.update(data.edges.map((e) => ({
      id: e.id, hidden: hiddenRel.has(e.relation) || gone.has(e.from) || gone.has(e.to) })));
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
  }
  search.addEventListener("keydown", (ev) => { if (ev.key === "Enter") go(); });
  document.getElementById("ng-find").addEventListener("click", go);

  // Lay out once, then freeze so the page stays calm.
  function markReady() {
    network.once("afterDrawing", () => { document.body.dataset.ready = "1"; });
    network.redraw();
  }
  network.on("stabilizationProgress", (p) => {
    status.textContent = `Laying out… ${Math.round((100 * p.iterations) / p.total)}%`;
  });
  if (data.options.physics.enabled) {
    network.once("stabilizationIterationsDone", () => {
      network.setOptions({ physics: false });
      status.textContent = "";
      markReady();
    });
  } else {
    markReady();
  }
})();
"""
