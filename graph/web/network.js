"use strict";
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
