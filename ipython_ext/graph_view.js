/* The interactive graph view: reads the hierarchy JSON beside this script (ipython_ext/graph_model.py),
   lays out each open level in the browser (layers, barycentre ordering, long edges routed through dummy
   points), and draws it as SVG with pan, zoom, expand/collapse in place, search and a details panel; ops on
   several devices are coloured by device (or by type, at the reader's choice) with a legend.
   Every string from the data is set as text (textContent), never parsed as markup. No network.
   The file is one function expression; graph_view.py calls it with this script element. */
(function (script) {
  "use strict";
  var box = script && script.parentNode;
  if (!box || box.getAttribute("data-tfx-ready")) { return; }
  var started = performance.now();
  var SVGNS = "http://www.w3.org/2000/svg";
  var D = JSON.parse(box.querySelector('script[data-tfx="graph-data"]').textContent);
  var S = D.strings, G = D.groups, O = D.ops;
  var nG = G.parent.length, nO = O.group.length;
  (function unpack() {  // the compact columns (graph_model.to_json) as one entry per op
    var inputs = [], outputs = [], attrs = [], device = [], note = [], aux = [], i;
    for (i = 0; i < nO; i++) {
      inputs.push(O.inputs[i].map(function (x) { return Array.isArray(x) ? [i - x[0], x[1]] : i - x; }));
      (O.control[i] || []).forEach(function (x) { inputs[i].push(-(i - x) - 1); });
      outputs.push(Array.isArray(O.outputs[i]) ? O.outputs[i] : [O.outputs[i]]);
      attrs.push(D.attr_sets[O.attrs[i]]);
      device.push(O.device[i] || 0); note.push(O.note[i] || 0); aux.push(O.aux[i] || 0);
    }
    O.inputs = inputs; O.outputs = outputs; O.attrs = attrs; O.device = device; O.note = note; O.aux = aux;
  })();
  var KIND_NAMES = ["graph", "name scope", "series", "ops of one type", "run of ops"];
  // Devices (graph_model.devices_of): present when the ops sit on several devices; boxes are then coloured
  // by device unless the reader switches back to op types.
  var DV = D.devices && D.devices.of_op ? D.devices : null;
  var devOf = DV ? DV.of_op : null, nDev = DV ? DV.name.length : 0;
  var colourBy = DV ? "device" : "type";
  var CROSS = "#c2255c";  // edges whose ends sit on different devices
  function devShort(d) { return S[DV.short[d]]; }
  function devFull(d) { return S[DV.name[d]]; }
  var CHAR = 6.4, PAD = 10, HEAD = 22, GAP = 18, VGAP = 30, MARGIN = 20;

  // -- the hierarchy ----------------------------------------------------------------------------------
  var kids = [], own = [], first = new Int32Array(nG).fill(nO), size = new Int32Array(nG), depth = new Int32Array(nG);
  var g, o;
  for (g = 0; g < nG; g++) { kids.push([]); own.push([]); }
  for (g = 1; g < nG; g++) { kids[G.parent[g]].push(g); }
  for (o = 0; o < nO; o++) {
    own[O.group[o]].push(o);
    for (g = O.group[o]; g >= 0; g = G.parent[g]) { size[g] += 1; if (first[g] > o) { first[g] = o; } }
  }
  function depthOf(x) {
    if (x === 0) { return 0; }
    if (!depth[x]) { depth[x] = depthOf(G.parent[x]) + 1; }
    return depth[x];
  }
  function path(x) { return S[G.path[x]]; }
  function fullName(op) { var p = path(O.group[op]); return p ? p + "/" + S[O.name[op]] : S[O.name[op]]; }
  function groupName(x) {
    var p = path(x);
    if (G.kind[x] === 1) { return p; }
    return p ? p + "/" + S[G.label[x]] : S[G.label[x]];
  }
  var lowerNames = null, consumers = null;
  function allLowerNames() {
    if (!lowerNames) { lowerNames = []; for (var i = 0; i < nO; i++) { lowerNames.push(fullName(i).toLowerCase()); } }
    return lowerNames;
  }
  function inputOp(x) { return Array.isArray(x) ? x[0] : (x < 0 ? -x - 1 : x); }
  function allConsumers() {
    if (!consumers) {
      consumers = [];
      for (var i = 0; i < nO; i++) { consumers.push([]); }
      for (i = 0; i < nO; i++) { O.inputs[i].forEach(function (x) { consumers[inputOp(x)].push(i); }); }
    }
    return consumers;
  }
  var devCountMemo = {};
  function devCounts(x) {  // ops under group x per device, as [[device, count], ...] by count
    if (!devCountMemo[x]) {
      var c = new Int32Array(nDev);
      opsUnder(x).forEach(function (op) { if (devOf[op] >= 0) { c[devOf[op]] += 1; } });
      var out = [];
      for (var d = 0; d < nDev; d++) { if (c[d]) { out.push([d, c[d]]); } }
      out.sort(function (a, b) { return b[1] - a[1] || a[0] - b[0]; });
      devCountMemo[x] = out;
    }
    return devCountMemo[x];
  }
  function devSummary(counts) {
    return counts.map(function (dc) { return devShort(dc[0]) + " \u00d7" + dc[1]; }).join(", ");
  }
  var subtreeOps = {};
  function opsUnder(x) {
    if (!subtreeOps[x]) {
      var out = own[x].slice();
      kids[x].forEach(function (k) { out = out.concat(opsUnder(k)); });
      subtreeOps[x] = out;
    }
    return subtreeOps[x];
  }

  // -- what is visible ----------------------------------------------------------------------------------
  var expanded = new Set(D.expanded);
  expanded.add(0);
  var stateMemo = null;  // group -> -1 when open and visible, else the group that stands for it
  function state(x) {
    if (x === 0) { return -1; }
    if (stateMemo[x] !== undefined) { return stateMemo[x]; }
    var p = state(G.parent[x]);
    var s = p !== -1 ? p : (expanded.has(x) ? -1 : x);
    stateMemo[x] = s;
    return s;
  }
  function rep(op) { var s = state(O.group[op]); return s === -1 ? "o" + op : "g" + s; }
  function childOf(key, x) {  // the child of open group x that holds unit `key`, or null
    var c = key.charAt(0) === "o" ? O.group[+key.slice(1)] : +key.slice(1);
    if (key.charAt(0) === "o" && c === x) { return key; }
    if (key.charAt(0) === "g" && c === x) { return null; }
    while (c >= 0 && G.parent[c] !== x) { c = G.parent[c]; }
    return c >= 0 ? "g" + c : null;
  }
  function containerOf(key) { return key.charAt(0) === "o" ? O.group[+key.slice(1)] : G.parent[+key.slice(1)]; }
  function isAux(key) { return key.charAt(0) === "o" ? !!O.aux[+key.slice(1)] : !!G.aux[+key.slice(1)]; }

  // -- layout of one open group ---------------------------------------------------------------------------
  var layouts = {};
  function trunc(text, n) { return text.length > n ? text.slice(0, n - 1) + "\u2026" : text; }
  function opLines(op) {
    var name = S[O.name[op]], type = D.types[O.type[op]];
    var shortName = trunc(name.slice(name.lastIndexOf("/") + 1), 30);
    var lines = shortName === type ? [trunc(type, 30)] : [shortName, trunc(type, 30)];
    var note = S[O.note[op]];
    if (note) { lines.push("[" + note + "]"); }
    return lines;
  }
  function groupLines(x) {
    return [trunc(S[G.label[x]], 32) + (G.kind[x] === 1 ? "/" : ""), size[x] + " ops"];
  }
  function itemFor(key) {
    var it = {key: key, aux: isAux(key)};
    if (key.charAt(0) === "o") {
      it.lines = opLines(+key.slice(1));
      it.first = +key.slice(1);
    } else {
      var x = +key.slice(1);
      it.first = first[x];
      if (expanded.has(x)) {
        var inner = layout(x);
        it.open = true;
        it.lines = [trunc(S[G.label[x]], 60)];
        it.w = Math.max(inner.w + 2 * PAD, CHAR * it.lines[0].length + 40);
        it.h = inner.h + HEAD + PAD;
        return it;
      }
      it.lines = groupLines(x);
    }
    var longest = Math.max.apply(null, it.lines.map(function (l) { return l.length; }));
    it.w = Math.max(44, CHAR * longest + (key.charAt(0) === "g" ? 30 : 18));  // room for a group's +
    it.h = 8 + 14 * it.lines.length;
    return it;
  }
  function layout(x) {
    if (layouts[x]) { return layouts[x]; }
    var items = [], index = {};
    kids[x].forEach(function (k) { index["g" + k] = items.length; items.push(itemFor("g" + k)); });
    own[x].forEach(function (op) { index["o" + op] = items.length; items.push(itemFor("o" + op)); });
    items.sort(function (a, b) { return a.first - b.first; });
    items.forEach(function (it, i) { index[it.key] = i; });
    var edgeMap = {};
    opsUnder(x).forEach(function (op) {
      var dst = childOf("o" + op, x);
      O.inputs[op].forEach(function (input) {
        var src = childOf("o" + inputOp(input), x);
        if (src === null || dst === null || src === dst) { return; }
        var k = index[src] + ">" + index[dst];
        var e = edgeMap[k] || (edgeMap[k] = {s: index[src], d: index[dst], n: 0, control: true, label: ""});
        e.n += 1;
        if (!(typeof input === "number" && input < 0)) {
          e.control = false;
          var src_op = inputOp(input), out = Array.isArray(input) ? input[1] : 0;
          e.label = S[O.outputs[src_op][out]] || "";
        }
      });
    });
    var edges = Object.keys(edgeMap).map(function (k) { return edgeMap[k]; });
    var result = arrange(items, edges);
    result.items = items;
    result.index = index;
    layouts[x] = result;
    return result;
  }
  function arrange(items, edges) {
    var n = items.length, i;
    var degree = new Int32Array(n);
    edges.forEach(function (e) { degree[e.s] += 1; degree[e.d] += 1; });
    if (n > 8) {  // high-degree nodes go aside too, as TensorBoard extracts them
      for (i = 0; i < n; i++) { if (degree[i] >= Math.max(10, 0.35 * n)) { items[i].aux = true; } }
    }
    var main = edges.filter(function (e) { return !items[e.s].aux && !items[e.d].aux; });
    var succ = [], pred = [], indeg = new Int32Array(n), rank = new Int32Array(n), done = new Uint8Array(n);
    for (i = 0; i < n; i++) { succ.push([]); pred.push([]); }
    main.forEach(function (e) { succ[e.s].push(e); pred[e.d].push(e); indeg[e.d] += 1; });
    var ready = [], placed = 0, next = 0;
    for (i = 0; i < n; i++) { if (!indeg[i] && !items[i].aux) { ready.push(i); } }
    var total = items.filter(function (it) { return !it.aux; }).length;
    while (placed < total) {
      var u;
      if (ready.length) { u = ready.shift(); } else {  // a cycle: take the earliest node not placed
        while (done[next] || items[next].aux) { next++; }
        u = next;
      }
      if (done[u]) { continue; }
      done[u] = 1; placed++;
      succ[u].forEach(function (e) {
        if (done[e.d]) { return; }
        rank[e.d] = Math.max(rank[e.d], rank[u] + 1);
        if (--indeg[e.d] === 0) { ready.push(e.d); }
      });
    }
    // layers of real nodes and dummy points for edges that span ranks
    var layers = [], nodes = [];
    for (i = 0; i < n; i++) {
      if (items[i].aux) { continue; }
      nodes.push({item: items[i], w: items[i].w, h: items[i].h, r: rank[i], up: [], down: []});
      items[i].node = nodes[nodes.length - 1];
    }
    var dummies = 0;
    main.forEach(function (e) {
      var a = items[e.s].node, b = items[e.d].node;
      e.points = [];
      if (b.r <= a.r) { return; }
      var prev = a;
      if (dummies < 4000) {
        for (var r = a.r + 1; r < b.r; r++) {
          var d = {w: 6, h: 1, r: r, up: [prev], down: [], dummy: true};
          prev.down.push(d); nodes.push(d); e.points.push(d); dummies++;
          prev = d;
        }
      }
      prev.down.push(b); b.up.push(prev);
    });
    nodes.forEach(function (v) { (layers[v.r] || (layers[v.r] = [])).push(v); });
    layers = layers.filter(function (l) { return l; });
    layers.forEach(function (l) { l.forEach(function (v, j) { v.pos = j; }); });
    function sweep(ls, dir) {
      ls.forEach(function (l) {
        l.forEach(function (v) {
          var ns = dir === "down" ? v.up : v.down;
          v.bc = ns.length ? ns.reduce(function (a, m) { return a + m.pos; }, 0) / ns.length : v.pos;
        });
        l.sort(function (a, b) { return a.bc - b.bc; });
        l.forEach(function (v, j) { v.pos = j; });
      });
    }
    for (i = 0; i < 4; i++) { sweep(layers.slice(1), "down"); sweep(layers.slice(0, -1).reverse(), "up"); }
    // x: packed, then pulled towards the neighbours' centres from both sides and averaged
    function gapAfter(v) { return v.dummy ? 8 : GAP; }
    layers.forEach(function (l) { var x = 0; l.forEach(function (v) { v.x = x; x += v.w + gapAfter(v); }); });
    for (var pass = 0; pass < 4; pass++) {
      var order = pass % 2 === 0 ? layers.slice(1) : layers.slice(0, -1).reverse();
      order.forEach(function (l) {
        var want = l.map(function (v) {
          var ns = pass % 2 === 0 ? v.up : v.down;
          if (!ns.length) { return v.x; }
          return ns.reduce(function (a, m) { return a + m.x + m.w / 2; }, 0) / ns.length - v.w / 2;
        });
        var left = [], right = [], j, edge = -Infinity;
        for (j = 0; j < l.length; j++) { left[j] = Math.max(want[j], edge); edge = left[j] + l[j].w + gapAfter(l[j]); }
        edge = Infinity;
        for (j = l.length - 1; j >= 0; j--) { right[j] = Math.min(want[j], edge - l[j].w - gapAfter(l[j])); edge = right[j]; }
        for (j = 0; j < l.length; j++) { l[j].x = (left[j] + right[j]) / 2; }
        for (j = 1; j < l.length; j++) { l[j].x = Math.max(l[j].x, l[j - 1].x + l[j - 1].w + gapAfter(l[j - 1])); }
      });
    }
    var minX = Infinity, maxX = 0, y = 0;
    nodes.forEach(function (v) { minX = Math.min(minX, v.x); });
    layers.forEach(function (l) {
      var h = Math.max.apply(null, l.map(function (v) { return v.h; }));
      l.forEach(function (v) { v.x -= minX; v.y = y + (h - v.h) / 2; maxX = Math.max(maxX, v.x + v.w); });
      y += h + VGAP;
    });
    var width = nodes.length ? maxX : 0, height = Math.max(0, y - VGAP);
    nodes.forEach(function (v) { if (v.item) { v.item.x = v.x; v.item.y = v.y; } });
    var auxItems = items.filter(function (it) { return it.aux; });
    if (auxItems.length) {
      var ax = width ? width + 3 * GAP : 0, ay = width ? 16 : 0, aw = 0;
      auxItems.forEach(function (it) { it.x = ax; it.y = ay; ay += it.h + 8; aw = Math.max(aw, it.w); });
      width = ax + aw;
      height = Math.max(height, ay - 8);
    }
    main.forEach(function (e) {
      e.route = e.points.map(function (d) { return [d.x + d.w / 2, d.y]; });
    });
    items.forEach(function (it) { delete it.node; });
    return {w: width, h: height, edges: main, auxX: auxItems.length && nodes.length ? width - Math.max.apply(null, auxItems.map(function (it) { return it.w; })) : -1};
  }

  // -- drawing --------------------------------------------------------------------------------------------
  function el(name, attrs, parent) {
    var e = document.createElementNS(SVGNS, name);
    for (var k in attrs) { if (Object.prototype.hasOwnProperty.call(attrs, k)) { e.setAttribute(k, attrs[k]); } }
    if (parent) { parent.appendChild(e); }
    return e;
  }
  function html(name, cls, parent, text) {
    var e = document.createElement(name);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    if (parent) { parent.appendChild(e); }
    return e;
  }
  var canvas = box.querySelector(".tfx-graph") || html("div", "tfx-picture tfx-graph");
  box.textContent = "";
  box.setAttribute("data-lm-suppress-shortcuts", "true");  // keys here are the view's, not JupyterLab's
  var bar = html("div", "tfx-gv-bar", box);
  var buttons = {};
  [["zoom-out", "\u2212", "zoom out (-)"], ["zoom-in", "+", "zoom in (+)"], ["fit", "fit", "fit the graph (0)"],
   ["collapse", "collapse all", "close every group"]].forEach(function (b) {
    var e = html("button", "tfx-gv-button", bar, b[1]);
    e.type = "button"; e.title = b[2]; e.setAttribute("data-action", b[0]);
    buttons[b[0]] = e;
  });
  var search = html("input", "tfx-gv-search", bar);
  search.type = "search"; search.placeholder = "search op names (/)"; search.setAttribute("aria-label", "search op names");
  var status = html("span", "tfx-gv-status", bar);
  var colourButtons = {}, legend = DV ? deviceControls() : null;
  // The "colour by: type | device" buttons in the bar and, below it, the legend of devices (short name, op
  // count, full name and the strings ops wrote on hover) with the key to edges between devices.
  function deviceControls() {
    var by = html("span", "tfx-gv-colour-by", bar);
    by.style.marginLeft = "8px";
    html("span", "", by, "colour by: ");
    ["type", "device"].forEach(function (mode) {
      var b = html("button", "tfx-gv-button", by, mode);
      b.type = "button"; b.title = "colour boxes by " + (mode === "type" ? "op type" : "device") + " (c switches)";
      b.setAttribute("data-action", "colour-" + mode);
      colourButtons[mode] = b;
    });
    var legendBox = html("div", "tfx-gv-legend", box);
    legendBox.style.cssText = "display:flex;flex-wrap:wrap;gap:2px 12px;font-size:11px;margin:0 0 4px 0";
    var perDevice = new Int32Array(nDev);
    for (var q = 0; q < nO; q++) { if (devOf[q] >= 0) { perDevice[devOf[q]] += 1; } }
    for (var d = 0; d < nDev; d++) {
      var item = html("span", "tfx-gv-device", legendBox);
      item.style.cssText = "cursor:pointer;white-space:nowrap";
      item.setAttribute("data-device", d);
      var sw = html("span", "tfx-swatch", item);
      sw.style.background = DV.colour[d];
      sw.style.display = "inline-block"; sw.style.width = "10px"; sw.style.height = "10px"; sw.style.marginRight = "4px";
      html("span", "tfx-gv-device-name", item, devShort(d));
      html("span", "tfx-gv-sub", item, " " + perDevice[d] + " ops");
      var written = DV.written[d].map(function (w) { return S[w]; }).filter(function (w) { return w !== devFull(d); });
      item.title = (devFull(d) === "(no device)" ? "ops placed nowhere: a distributed session runs them on its " +
        "master task" : devFull(d)) + (written.length ? "\nas written: " + written.join(", ") : "") +
        "\n" + perDevice[d] + " ops; click to mark them";
    }
    var crossKey = html("span", "tfx-gv-cross-key", legendBox);
    crossKey.style.whiteSpace = "nowrap";
    var line = html("span", "", crossKey);
    line.style.cssText = "display:inline-block;width:18px;height:0;vertical-align:middle;margin-right:4px;" +
      "border-top:2px solid " + CROSS;
    crossKey.appendChild(document.createTextNode("edge between devices"));
    return legendBox;
  }
  function showColourBy() {
    if (!DV) { return; }
    ["type", "device"].forEach(function (mode) {
      var on = mode === colourBy;
      colourButtons[mode].setAttribute("aria-pressed", on ? "true" : "false");
      colourButtons[mode].style.fontWeight = on ? "700" : "";
      colourButtons[mode].style.outline = on ? "1px solid currentColor" : "";
    });
    legend.style.display = colourBy === "device" ? "flex" : "none";
    box.setAttribute("data-tfx-colour-by", colourBy);
  }
  var main = html("div", "tfx-gv-main", box);
  main.appendChild(canvas);
  canvas.tabIndex = 0;
  var svg = el("svg", {"class": "tfx-gv-svg", width: "100%", role: "img"}, canvas);
  var defs = el("defs", {}, svg);
  var arrowId = "tfx-gv-arrow-" + (box.id || "x");
  var marker = el("marker", {id: arrowId, viewBox: "0 0 8 8", refX: "7", refY: "4", markerWidth: "7",
    markerHeight: "7", orient: "auto-start-reverse"}, defs);
  el("path", {d: "M0,0 L8,4 L0,8 z", "class": "tfx-gv-arrowhead"}, marker);
  var crossArrowId = arrowId + "-cross";
  if (DV) {
    var crossMarker = el("marker", {id: crossArrowId, viewBox: "0 0 8 8", refX: "7", refY: "4", markerWidth: "10",
      markerHeight: "10", markerUnits: "userSpaceOnUse", orient: "auto-start-reverse"}, defs);
    el("path", {d: "M0,0 L8,4 L0,8 z", style: "fill:" + CROSS}, crossMarker);
  }
  var scene = el("g", {}, svg);
  var panel = html("div", "tfx-gv-panel", main);
  panel.hidden = true;

  var positions = {}, selected = null, hits = new Set(), matches = [], matchAt = -1;
  function invalidate(x) { for (; x >= 0; x = G.parent[x]) { delete layouts[x]; } }
  function place(x, ox, oy) {
    var lay = layout(x);
    lay.items.forEach(function (it) {
      var p = {x: ox + it.x, y: oy + it.y, w: it.w, h: it.h, item: it};
      positions[it.key] = p;
      if (it.open) { place(+it.key.slice(1), p.x + PAD, p.y + HEAD); }
    });
    lay.ox = ox; lay.oy = oy;
  }
  function drawItem(parent, key, p) {
    var it = p.item, gEl = el("g", {"class": "tfx-gv-node", "data-key": key}, parent);
    var title = el("title", {}, gEl);
    if (key.charAt(0) === "o") {
      var op = +key.slice(1), kind = D.kinds[O.type[op]];
      title.textContent = fullName(op) + " (" + D.types[O.type[op]] + ")";
      gEl.setAttribute("class", "tfx-gv-node tfx-gv-op tfx-gv-" + kind + (it.aux ? " tfx-gv-aux" : ""));
      var byDevice = colourBy === "device" && devOf[op] >= 0;
      el("rect", {x: p.x, y: p.y, width: p.w, height: p.h, rx: kind === "variable" ? 10 : 4,
        fill: byDevice ? DV.colour[devOf[op]] : D.colours[O.type[op]]}, gEl);
      if (DV && devOf[op] >= 0) { gEl.setAttribute("data-device", devOf[op]); }
    } else {
      var x = +key.slice(1);
      title.textContent = groupName(x) + " \u2014 " + KIND_NAMES[G.kind[x]] + ", " + size[x] + " ops; click to " +
        (it.open ? "collapse" : "expand");
      gEl.setAttribute("class", "tfx-gv-node tfx-gv-group tfx-gv-kind" + G.kind[x] + (it.open ? " tfx-gv-open" : "") +
        (it.aux ? " tfx-gv-aux" : ""));
      if (G.kind[x] === 2 && !it.open) { el("rect", {x: p.x + 4, y: p.y - 4, width: p.w, height: p.h, rx: 4, "class": "tfx-gv-stack"}, gEl); }
      el("rect", {x: p.x, y: p.y, width: p.w, height: p.h, rx: 5}, gEl);
      el("text", {x: p.x + p.w - 10, y: p.y + 13, "class": "tfx-gv-toggle"}, gEl).textContent = it.open ? "\u2212" : "+";
      if (DV) {
        var counts = devCounts(x);
        title.textContent += "\n" + counts.length + (counts.length === 1 ? " device: " : " devices: ") + devSummary(counts);
        gEl.setAttribute("data-devices", counts.length);
        if (colourBy === "device" && !it.open) { deviceStrip(gEl, p, counts); }
      }
    }
    it.lines.forEach(function (line, i) {
      var t = el("text", {x: it.open ? p.x + 8 : p.x + p.w / 2, y: p.y + 15 + 14 * i,
        "class": i ? "tfx-gv-sub" : "tfx-gv-label", "text-anchor": it.open ? "start" : "middle"}, gEl);
      t.textContent = line;
    });
    if (hits.has(key)) { gEl.classList.add("tfx-gv-hit"); }
    if (selected === key) { gEl.classList.add("tfx-gv-selected"); }
    return gEl;
  }
  // A collapsed group's devices: a strip along its foot split in proportion to its ops on each device.
  function deviceStrip(parent, p, counts) {
    var total = counts.reduce(function (a, dc) { return a + dc[1]; }, 0) || 1, x = p.x + 3, w = p.w - 6;
    var strip = el("g", {"class": "tfx-gv-strip"}, parent);
    counts.forEach(function (dc) {
      var part = w * dc[1] / total;
      el("rect", {x: x, y: p.y + p.h - 7, width: Math.max(1, part), height: 5, "data-device": dc[0],
        style: "fill:" + DV.colour[dc[0]] + ";stroke:none"}, strip);
      x += part;
    });
  }
  function curve(points) {
    var d = "M" + points[0][0] + "," + points[0][1];
    for (var i = 1; i < points.length; i++) {
      var a = points[i - 1], b = points[i], my = (a[1] + b[1]) / 2;
      d += " C" + a[0] + "," + my + " " + b[0] + "," + my + " " + b[0] + "," + b[1];
    }
    return d;
  }
  function drawEdges(layer) {
    var drawn = {}, stubs = {};
    for (var op = 0; op < nO; op++) {
      var rd = rep(op);
      for (var j = 0; j < O.inputs[op].length; j++) {
        var input = O.inputs[op][j], rs = rep(inputOp(input));
        if (rs === rd) { continue; }
        var k = rs + ">" + rd, cross = DV && devOf[op] !== devOf[inputOp(input)];
        if (!drawn[k]) {
          drawn[k] = {s: rs, d: rd, n: 0, control: typeof input === "number" && input < 0, cross: null,
            label: S[O.outputs[inputOp(input)][Array.isArray(input) ? input[1] : 0]] || ""};
        }
        drawn[k].n += 1;
        if (cross) {
          var pair = devShort(devOf[inputOp(input)]) + " \u2192 " + devShort(devOf[op]);
          drawn[k].cross = drawn[k].cross || {};
          drawn[k].cross[pair] = (drawn[k].cross[pair] || 0) + 1;
        }
      }
    }
    var keys = Object.keys(drawn), labelled = keys.length <= 80;  // shapes on edges while few edges show
    keys.forEach(function (k) {
      var e = drawn[k], a = positions[e.s], b = positions[e.d];
      if (!a || !b) { return; }
      var cs = containerOf(e.s), cd = containerOf(e.d), route = null, aux = false;
      if (cs === cd) {
        aux = a.item.aux || b.item.aux;
        var lay = layouts[cs], le = lay && lay.edges.filter(function (m) {
          return lay.items[m.s].key === e.s && lay.items[m.d].key === e.d;
        })[0];
        if (le) { route = le.route.map(function (pt) { return [pt[0] + lay.ox, pt[1] + lay.oy]; }); }
      } else {
        var top = lca(cs, cd), us = childOf(e.s, top), ud = childOf(e.d, top);
        if (us && ud && us !== ud) { aux = positions[us].item.aux || positions[ud].item.aux; } else { return; }
      }
      var title = (e.n > 1 ? e.n + " tensors" : e.label) + (e.control ? " (control)" : "");
      var crossing = e.cross ? Object.keys(e.cross) : [];
      if (aux) {  // one stub per side of a box, naming the other ends
        var so = stubs[e.s + ">"] || (stubs[e.s + ">"] = {key: e.s, out: true, ends: []});
        var si = stubs[e.d + "<"] || (stubs[e.d + "<"] = {key: e.d, out: false, ends: []});
        so.ends.push(unitName(e.d) + (title ? " (" + title + ")" : ""));
        si.ends.push(unitName(e.s) + (title ? " (" + title + ")" : ""));
        return;
      }
      var points = [[a.x + a.w / 2, a.y + a.h]].concat(route || []).concat([[b.x + b.w / 2, b.y]]);
      var path = el("path", {d: curve(points), "class": "tfx-gv-edge" + (e.control ? " tfx-gv-control" : "") +
        (crossing.length ? " tfx-gv-cross" : ""), "marker-end": "url(#" + (crossing.length ? crossArrowId : arrowId) + ")",
        "stroke-width": Math.min(4, 1 + Math.log2(e.n))}, layer);
      if (crossing.length) { path.style.stroke = CROSS; path.style.strokeWidth = Math.min(4, 1.5 + Math.log2(e.n)); }
      el("title", {}, path).textContent = title + (crossing.length ? " \u00b7 between devices: " + crossing.join(", ") : "");
      if (labelled && !e.control && title) {
        var mid = points[Math.floor(points.length / 2)], before = points[Math.floor(points.length / 2) - 1];
        el("text", {x: (mid[0] + before[0]) / 2 + 4, y: (mid[1] + before[1]) / 2 + 3, "class": "tfx-gv-edge-label"},
          layer).textContent = trunc(title, 28);
      }
    });
    Object.keys(stubs).forEach(function (k) {
      var s = stubs[k], p = positions[s.key], x = p.x + p.w - 8, y = s.out ? p.y + p.h : p.y;
      var st = el("path", {d: s.out ? "M" + x + "," + y + " l0,9" : "M" + x + "," + (y - 9) + " l0,8",
        "class": "tfx-gv-stub", "marker-end": "url(#" + arrowId + ")"}, layer);
      el("title", {}, st).textContent = (s.out ? "to " : "from ") + s.ends.slice(0, 12).join(", ") +
        (s.ends.length > 12 ? ", \u2026 " + (s.ends.length - 12) + " more" : "");
    });
  }
  function lca(a, b) {
    var seen = new Set();
    for (var x = a; x >= 0; x = G.parent[x]) { seen.add(x); }
    for (x = b; x >= 0; x = G.parent[x]) { if (seen.has(x)) { return x; } }
    return 0;
  }
  function unitName(key) { return key.charAt(0) === "o" ? fullName(+key.slice(1)) : groupName(+key.slice(1)); }

  var vb = null, shown = 0;
  function render() {
    var t = performance.now();
    stateMemo = {};
    positions = {};
    place(0, 0, 0);
    while (scene.firstChild) { scene.removeChild(scene.firstChild); }
    var groupsLayer = el("g", {}, scene), edgeLayer = el("g", {}, scene), nodeLayer = el("g", {}, scene);
    shown = 0;
    Object.keys(positions).forEach(function (key) {
      var p = positions[key];
      drawItem(p.item.open ? groupsLayer : nodeLayer, key, p);
      if (!p.item.open) { shown++; }
    });
    drawEdges(edgeLayer);
    var lay = layouts[0];
    status.textContent = nO + " ops \u00b7 " + shown + " boxes shown" + (matches.length ? " \u00b7 " + matches.length + " matches" : "");
    box.setAttribute("data-tfx-render-ms", (performance.now() - t).toFixed(1));
    return lay;
  }
  function bounds() { var l = layouts[0]; return {x: -MARGIN, y: -MARGIN, w: l.w + 2 * MARGIN, h: l.h + 2 * MARGIN}; }
  function viewport() { return {w: svg.clientWidth || 900, h: svg.clientHeight || 480}; }
  function setView(v) {
    vb = v;
    svg.setAttribute("viewBox", [v.x, v.y, v.w, v.h].join(" "));
    box.setAttribute("data-tfx-zoom", (viewport().w / v.w).toFixed(3));
  }
  function fit(readable) {
    var b = bounds(), vp = viewport();
    var scale = Math.min(vp.w / b.w, vp.h / b.h, 1.25);
    if (readable) { scale = Math.max(scale, 0.6); }
    var w = vp.w / scale, h = vp.h / scale;
    setView({x: w > b.w ? b.x - (w - b.w) / 2 : b.x, y: h > b.h ? b.y - (h - b.h) / 2 : b.y, w: w, h: h});
  }
  function sizeCanvas() {
    var b = bounds(), vp = viewport();
    var want = Math.max(180, Math.min(560, b.h * Math.min(1, vp.w / b.w) + 8));
    if (!svg.style.height || parseFloat(svg.style.height) < want) { svg.style.height = want + "px"; }
  }
  function zoom(f, cx, cy) {
    var vp = viewport(), rect = svg.getBoundingClientRect();
    var px = cx === undefined ? 0.5 : (cx - rect.left) / (rect.width || vp.w);
    var py = cy === undefined ? 0.5 : (cy - rect.top) / (rect.height || vp.h);
    var w = vb.w / f, h = vb.h / f;
    setView({x: vb.x + (vb.w - w) * px, y: vb.y + (vb.h - h) * py, w: w, h: h});
  }
  function pan(dx, dy) { setView({x: vb.x + dx * vb.w, y: vb.y + dy * vb.h, w: vb.w, h: vb.h}); }
  function centreOn(key) {
    var p = positions[key];
    if (!p) { return; }
    var vp = viewport(), w = vb.w, h = vb.h;
    if (vp.w / w < 0.8) { w = vp.w / 0.8; h = vp.h / 0.8; }
    setView({x: p.x + p.w / 2 - w / 2, y: p.y + p.h / 2 - h / 2, w: w, h: h});
  }
  function toggle(x) {
    if (x === 0) { return; }
    if (expanded.has(x)) { expanded.delete(x); } else { expanded.add(x); }
    invalidate(x);
    render();
    sizeCanvas();
  }
  function toggleInPlace(x) {  // the clicked box stays where it was on screen
    var before = positions["g" + x];
    var bx = before.x, by = before.y;
    toggle(x);
    var after = positions["g" + x];
    if (after) { setView({x: vb.x + after.x - bx, y: vb.y + after.y - by, w: vb.w, h: vb.h}); }
  }
  function reveal(op) {
    for (var x = O.group[op]; x > 0; x = G.parent[x]) {
      if (!expanded.has(x)) { expanded.add(x); invalidate(x); }
    }
    render();
    sizeCanvas();
    centreOn("o" + op);
  }

  // -- details --------------------------------------------------------------------------------------------
  function row(parent, label, value) {
    var r = html("div", "tfx-gv-row", parent);
    html("span", "tfx-gv-key", r, label);
    html("span", "tfx-gv-value", r, value);
    return r;
  }
  function opLink(parent, op, text) {
    var a = html("a", "tfx-gv-link", parent, text);
    a.href = "#"; a.setAttribute("data-op", op);
    return a;
  }
  function details(key) {
    panel.textContent = "";
    panel.hidden = false;
    var close = html("button", "tfx-gv-close", panel, "\u00d7");
    close.type = "button"; close.title = "close (Esc)"; close.setAttribute("data-action", "close");
    if (key.charAt(0) === "o") {
      var op = +key.slice(1);
      html("div", "tfx-gv-title", panel, fullName(op));
      row(panel, "type", D.types[O.type[op]] + (D.kinds[O.type[op]] !== "op" ? " (" + D.kinds[O.type[op]] + ")" : ""));
      if (DV && devOf[op] >= 0) {
        var dr = row(panel, "device", "");
        var dv = dr.lastChild, swatch = html("span", "tfx-swatch", dv);
        swatch.style.cssText = "display:inline-block;width:10px;height:10px;margin-right:4px;background:" + DV.colour[devOf[op]];
        dv.appendChild(document.createTextNode(devShort(devOf[op]) + " \u2014 " + (S[O.device[op]] || devFull(devOf[op]))));
        dr.setAttribute("data-device", devOf[op]);
      } else if (S[O.device[op]]) { row(panel, "device", S[O.device[op]]); }
      if (S[O.site[op]]) { row(panel, "created at", S[O.site[op]]); }
      if (S[O.note[op]]) { row(panel, "note", S[O.note[op]]); }
      html("div", "tfx-gv-heading", panel, "outputs (" + O.outputs[op].length + ")");
      O.outputs[op].forEach(function (s, i) { row(panel, ":" + i, S[s] || "?"); });
      html("div", "tfx-gv-heading", panel, "inputs (" + O.inputs[op].length + ")");
      O.inputs[op].forEach(function (x) {
        var src = inputOp(x), control = typeof x === "number" && x < 0, out = Array.isArray(x) ? x[1] : 0;
        var r = html("div", "tfx-gv-row", panel);
        opLink(r, src, (control ? "^" : "") + fullName(src) + (control ? "" : ":" + out));
        if (!control) { html("span", "tfx-gv-value", r, " " + (S[O.outputs[src][out]] || "")); }
        if (DV && devOf[src] !== devOf[op]) {
          var from = html("span", "tfx-gv-from", r, " \u00b7 from " + devShort(devOf[src]));
          from.style.color = CROSS;
        }
      });
      var cons = allConsumers()[op];
      html("div", "tfx-gv-heading", panel, "consumers (" + cons.length + ")");
      cons.slice(0, 60).forEach(function (c) { opLink(html("div", "tfx-gv-row", panel), c, fullName(c)); });
      if (cons.length > 60) { html("div", "tfx-gv-row", panel, "\u2026 " + (cons.length - 60) + " more"); }
      if (O.attrs[op].length) {
        html("div", "tfx-gv-heading", panel, "attributes (" + O.attrs[op].length + ")");
        O.attrs[op].forEach(function (s) { html("div", "tfx-gv-row tfx-gv-mono", panel, S[s]); });
      }
    } else {
      var x = +key.slice(1), count = {};
      html("div", "tfx-gv-title", panel, groupName(x) + (G.kind[x] === 2 ? "" : "/"));
      row(panel, "kind", KIND_NAMES[G.kind[x]] + (G.aux[x] ? ", auxiliary" : ""));
      row(panel, "ops", String(size[x]));
      row(panel, "inside", kids[x].length + " groups, " + own[x].length + " ops");
      if (DV) {
        var dcs = devCounts(x);
        html("div", "tfx-gv-heading", panel, "devices (" + dcs.length + ")");
        dcs.forEach(function (dc) { row(panel, String(dc[1]), devShort(dc[0]) + " \u2014 " + devFull(dc[0])); });
      }
      opsUnder(x).forEach(function (op) { var t = D.types[O.type[op]]; count[t] = (count[t] || 0) + 1; });
      html("div", "tfx-gv-heading", panel, "op types");
      Object.keys(count).sort(function (a, b) { return count[b] - count[a] || (a < b ? -1 : 1); }).slice(0, 10)
        .forEach(function (t) { row(panel, String(count[t]), t); });
      var t = html("button", "tfx-gv-button", panel, expanded.has(x) ? "collapse" : "expand");
      t.type = "button"; t.setAttribute("data-group", x);
    }
  }
  function select(key) {
    selected = key;
    var old = scene.querySelector(".tfx-gv-selected");
    if (old) { old.classList.remove("tfx-gv-selected"); }
    var now = scene.querySelector('[data-key="' + key + '"]');
    if (now) { now.classList.add("tfx-gv-selected"); }
    details(key);
  }

  // -- search -------------------------------------------------------------------------------------------
  function runSearch() {
    var q = search.value.trim().toLowerCase();
    matches = []; matchAt = -1; hits = new Set();
    if (q) {
      var names = allLowerNames();
      for (var i = 0; i < nO; i++) { if (names[i].indexOf(q) >= 0) { matches.push(i); } }
    }
    markHits();
  }
  function markHits() {
    hits = new Set(matches.map(rep));
    scene.querySelectorAll(".tfx-gv-hit").forEach(function (e) { e.classList.remove("tfx-gv-hit"); });
    hits.forEach(function (key) {
      var e = scene.querySelector('[data-key="' + key + '"]');
      if (e) { e.classList.add("tfx-gv-hit"); }
    });
    status.textContent = nO + " ops \u00b7 " + shown + " boxes shown" +
      (search.value.trim() ? " \u00b7 " + matches.length + " matches" : "");
  }
  function nextMatch(step) {
    if (!matches.length) { return; }
    matchAt = (matchAt + step + matches.length) % matches.length;
    var op = matches[matchAt];
    reveal(op);
    markHits();
    select("o" + op);
  }

  // -- events ---------------------------------------------------------------------------------------------
  var drag = null;
  svg.addEventListener("pointerdown", function (ev) {
    if (ev.button !== 0) { return; }
    drag = {x: ev.clientX, y: ev.clientY, vb: vb, moved: false, id: ev.pointerId};
  });
  svg.addEventListener("pointermove", function (ev) {
    if (!drag) { return; }
    var dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) { return; }
    if (!drag.moved) { drag.moved = true; svg.setPointerCapture(drag.id); svg.classList.add("tfx-gv-dragging"); }
    var rect = svg.getBoundingClientRect(), k = drag.vb.w / (rect.width || 1);
    setView({x: drag.vb.x - dx * k, y: drag.vb.y - dy * k, w: drag.vb.w, h: drag.vb.h});
  });
  function endDrag(ev) {
    if (drag && drag.moved) {
      svg.classList.remove("tfx-gv-dragging");
      if (svg.hasPointerCapture(drag.id)) { svg.releasePointerCapture(drag.id); }
      ev.preventDefault();
    }
  }
  svg.addEventListener("pointerup", endDrag);
  svg.addEventListener("click", function (ev) {
    var moved = drag && drag.moved;
    drag = null;
    if (moved) { return; }
    var node = ev.target.closest ? ev.target.closest(".tfx-gv-node") : null;
    canvas.focus({preventScroll: true});
    if (!node) { return; }
    var key = node.getAttribute("data-key");
    if (key.charAt(0) === "g") { toggleInPlace(+key.slice(1)); }
    select(key);
  });
  svg.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    zoom(Math.exp(-ev.deltaY * (ev.deltaMode === 1 ? 0.05 : 0.0015)), ev.clientX, ev.clientY);
  }, {passive: false});
  canvas.addEventListener("keydown", function (ev) {
    var k = ev.key, handled = true;
    if (k === "+" || k === "=") { zoom(1.25); } else if (k === "-" || k === "_") { zoom(0.8); } else if (k === "0") { fit(false); }
    else if (k === "ArrowLeft" || k === "a") { pan(-0.1, 0); } else if (k === "ArrowRight" || k === "d") { pan(0.1, 0); }
    else if (k === "ArrowUp" || k === "w") { pan(0, -0.1); } else if (k === "ArrowDown" || k === "s") { pan(0, 0.1); }
    else if (k === "/") { search.focus(); } else if (k === "Escape") { panel.hidden = true; }
    else if (k === "c" && DV) { colourButtons[colourBy === "type" ? "device" : "type"].click(); } else { handled = false; }
    if (handled) { ev.preventDefault(); ev.stopPropagation(); }
  });
  bar.addEventListener("click", function (ev) {
    var a = ev.target.getAttribute && ev.target.getAttribute("data-action");
    if (a === "zoom-in") { zoom(1.25); } else if (a === "zoom-out") { zoom(0.8); } else if (a === "fit") { fit(false); }
    else if (a === "collapse") {
      expanded = new Set([0]); layouts = {}; render(); fit(true);
    }
    else if (a === "colour-type" || a === "colour-device") {
      colourBy = a.slice(7); showColourBy(); render();
    }
  });
  if (legend) {
    legend.addEventListener("click", function (ev) {
      var item = ev.target.closest ? ev.target.closest("[data-device]") : null;
      if (!item) { return; }
      var d = +item.getAttribute("data-device");
      matches = [];
      for (var i = 0; i < nO; i++) { if (devOf[i] === d) { matches.push(i); } }
      matchAt = -1;
      search.value = "";
      markHits();
      status.textContent += " \u00b7 " + matches.length + " ops on " + devShort(d);
    });
  }
  var timer = null;
  search.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(runSearch, 120); });
  search.addEventListener("keydown", function (ev) {
    ev.stopPropagation();
    if (ev.key === "Enter") { clearTimeout(timer); if (matchAt === -1) { runSearch(); } nextMatch(ev.shiftKey ? -1 : 1); ev.preventDefault(); }
    else if (ev.key === "Escape") { search.value = ""; runSearch(); }
  });
  panel.addEventListener("click", function (ev) {
    var t = ev.target;
    if (t.getAttribute("data-action") === "close") { panel.hidden = true; return; }
    if (t.hasAttribute("data-op")) { ev.preventDefault(); var op = +t.getAttribute("data-op"); reveal(op); select("o" + op); return; }
    if (t.hasAttribute("data-group")) {
      var x = +t.getAttribute("data-group");
      toggleInPlace(x);
      select("g" + x);
    }
  });

  showColourBy();
  render();
  sizeCanvas();
  fit(true);
  box.setAttribute("data-tfx-ready", (performance.now() - started).toFixed(1));
})
