function (D, ID) {
  // The interactive trace view of ipython_ext.trace_view: called with the compact data (see trace_data.py) and
  // the display's id. Draws on a canvas; every name reaches the page through textContent or the canvas only.
  // A step on several devices gets a lane group per device and arrows from each send to its receive.
  "use strict";
  var script = document.currentScript;
  var root = script && script.parentNode && script.parentNode.closest ? script.parentNode.closest(".tfx-trace") : null;
  if (!root) {
    var all = document.querySelectorAll(".tfx-trace[data-tfx-id='" + ID + "']");
    for (var q = 0; q < all.length; q++) if (!all[q].getAttribute("data-ready")) root = all[q];
  }
  if (!root || root.getAttribute("data-ready")) return;
  root.setAttribute("data-ready", "1");

  // -- helpers ----------------------------------------------------------------------------------------------
  function el(name, cls, text) {
    var e = document.createElement(name);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  // Characters that must not reach the screen raw (controls, bidi overrides) shown as escapes, as markup.visible.
  function vis(s) {
    return String(s).replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufffe\uffff]/g, function (c) {
      var n = c.charCodeAt(0), h = n.toString(16);
      return n < 256 ? "\\x" + ("0" + h).slice(-2) : "\\u" + ("000" + h).slice(-4);
    });
  }
  function fmtNs(ns) {
    var us = ns / 1000;
    if (us < 10) return us.toFixed(2) + " \u00b5s";
    if (us < 1000) return us.toFixed(0) + " \u00b5s";
    if (us < 1e6) return (us / 1000).toFixed(2) + " ms";
    return (us / 1e6).toFixed(2) + " s";
  }
  function fmtBytes(n) {
    var units = ["B", "KiB", "MiB", "GiB"], i = 0;
    while (Math.abs(n) >= 1024 && i < 3) { n /= 1024; i++; }
    return i === 0 ? n + " B" : n.toFixed(1) + " " + units[i];
  }
  function axisLabel(ns, step) {
    if (ns === 0) return "0";
    var us = ns / 1000, s = step / 1000, d;
    if (s >= 1e6 || us >= 1e6) { d = Math.max(0, -Math.floor(Math.log10(s / 1e6) + 1e-9)); return (us / 1e6).toFixed(d) + " s"; }
    if (s >= 1000 || us >= 1000) { d = Math.max(0, -Math.floor(Math.log10(s / 1000) + 1e-9)); return (us / 1000).toFixed(d) + " ms"; }
    d = Math.max(0, -Math.floor(Math.log10(s) + 1e-9));
    return us.toFixed(d) + " \u00b5s";
  }
  function niceStep(span, ticks) {
    var raw = span / ticks, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var ms = [1, 2, 5, 10];
    for (var i = 0; i < ms.length; i++) if (ms[i] * mag >= raw) return ms[i] * mag;
    return 10 * mag;
  }

  // -- data -------------------------------------------------------------------------------------------------
  var ops = [], lanes = [], memTracks = [], groups = [], transfers = [], span = 1;
  // A lane group per device of a run when some run has several devices: a header row names the device
  // (short name, its fill), its threads' lanes follow.
  var grouped = D.runs.some(function (run) { return run.devices.length > 1; });
  D.runs.forEach(function (run, r) {
    var laneBase = lanes.length, prev = "", base = ops.length, groupBase = groups.length;
    (run.groups || []).forEach(function (g, d) {
      groups.push({ run: r, full: run.devices[d], short: g[0], colour: g[1], lanes: [], ops: 0, busy: 0,
                    label: (run.label ? run.label + " \u00b7 " : "") + g[0] });
    });
    run.tracks.forEach(function (t) {
      var lane = { run: r, label: t[4], inner: t[5] === undefined ? t[4] : t[5], ops: [], group: null };
      if (grouped && run.groups) { lane.group = groups[groupBase + t[0]]; lane.group.lanes.push(lanes.length); }
      lanes.push(lane);
    });
    for (var j = 0; j < run.s.length; j++) {
      var name = prev.slice(0, run.np[j]) + run.ns[j];
      prev = name;
      var op = { run: r, j: j, name: name, lname: name.toLowerCase(), type: D.types[run.t[j]], ti: run.t[j],
                 s: run.s[j], d: run.d[j], e: run.s[j] + run.d[j], lane: laneBase + run.k[j], out: run.o[j],
                 inputs: run.i[j], mem: run.m[j], consumers: [] };
      op.ltype = op.type.toLowerCase();
      ops.push(op);
      lanes[op.lane].ops.push(op);
      if (lanes[op.lane].group) { lanes[op.lane].group.ops += 1; lanes[op.lane].group.busy += op.d; }
      if (op.e > span) span = op.e;
    }
    run.base = base;
    (run.x || []).forEach(function (x) {
      var t = { run: r, from: x[0] >= 0 ? ops[base + x[0]] : null, to: x[1] >= 0 ? ops[base + x[1]] : null,
                bytes: x[2], tensor: x[3], src: x[4], dst: x[5] };
      // the time the tensor took: a send to its receive's end, or TF's RecvTensor record's own span
      var rpc = t.to && t.from && !/^_(Host)?Send$/.test(t.from.type);
      t.time = t.to && t.from && !rpc ? t.to.e - t.from.s : t.to ? t.to.d : t.from.d;
      if (t.from) t.from.transfer = t;
      if (t.to) t.to.transfer = t;
      transfers.push(t);
    });
    // Memory per allocator as the Chrome trace counts it: before an op, what was in use less what it allocates.
    run.series = run.allocators.map(function () { return []; });
    for (j = 0; j < run.s.length; j++) {
      var o = ops[base + j];
      o.mem.forEach(function (m) {
        run.series[m[0]].push([o.s, m[1] - Math.max(0, m[2])], [o.e, m[1]]);
      });
    }
    run.series.forEach(function (pts, a) {
      pts.sort(function (x, y) { return x[0] - y[0]; });
      var peak = 0;
      pts.forEach(function (p) { if (p[1] > peak) peak = p[1]; });
      memTracks.push({ run: r, label: (run.label ? run.label + " \u00b7 " : "") + "memory (" + run.allocators[a] + ")",
                       pts: pts, peak: peak });
    });
  });
  lanes.forEach(function (l) { l.ops.sort(function (a, b) { return a.s - b.s; }); });
  // inputs as (producer op, slot, control?) and consumers, for the details panel and the arrows
  ops.forEach(function (op) {
    var base = D.runs[op.run].base;
    op.ins = op.inputs.map(function (ref) {
      if (typeof ref === "string") return { text: ref };
      if (typeof ref === "number" && ref < 0) return { op: ops[base - ref - 1], slot: -1 };
      var k = typeof ref === "number" ? ref : ref[0], slot = typeof ref === "number" ? 0 : ref[1];
      return { op: ops[base + k], slot: slot };
    });
    op.ins.forEach(function (x) { if (x.op && x.op.consumers.indexOf(op) < 0) x.op.consumers.push(op); });
  });
  function inputText(x) {
    if (x.text !== undefined) return x.text;
    return x.slot < 0 ? "^" + x.op.name : x.slot === 0 ? x.op.name : x.op.name + ":" + x.slot;
  }

  // -- Chrome trace (the events tfmini.client.timeline writes with dataflow and memory) ----------------------
  function chromeTrace(r) {
    var run = D.runs[r], meta = [], events = [], base = run.base;
    function us(ns) { return ns / 1000; }
    meta.push({ name: "process_name", ph: "M", pid: 0, args: { name: "Allocators" } },
              { name: "process_sort_index", ph: "M", pid: 0, args: { sort_index: 0 } });
    run.devices.forEach(function (dev, d) {
      meta.push({ name: "process_name", ph: "M", pid: d + 1, args: { name: dev + " Compute" } },
                { name: "process_sort_index", ph: "M", pid: d + 1, args: { sort_index: d + 1 } });
      run.tracks.forEach(function (t) {
        if (t[0] !== d) return;
        meta.push({ name: "thread_name", ph: "M", pid: d + 1, tid: t[1], args: { name: t[2] } },
                  { name: "thread_sort_index", ph: "M", pid: d + 1, tid: t[1], args: { sort_index: t[3] } });
      });
    });
    function where(op) {
      var t = run.tracks[run.k[op.j]];
      return [t[0] + 1, t[1], us(Math.floor((2 * op.s + op.d) / 2))];
    }
    var flow = 0;
    for (var j = 0; j < run.s.length; j++) {
      var op = ops[base + j], t = run.tracks[run.k[j]];
      var args = { name: op.name, op: op.type };
      op.ins.forEach(function (x, n) { args["input" + n] = inputText(x); });
      events.push({ ph: "X", cat: "Op", name: op.type, pid: t[0] + 1, tid: t[1], ts: us(op.s), dur: us(op.d),
                    args: args });
      op.ins.forEach(function (x) {
        if (!x.op || x.slot < 0) return;
        var a = where(x.op), b = where(op), name = inputText(x);
        events.push({ ph: "s", cat: "DataFlow", name: name, id: flow, pid: a[0], tid: a[1], ts: a[2] });
        events.push({ ph: "f", bp: "e", cat: "DataFlow", name: name, id: flow, pid: b[0], tid: b[1], ts: b[2] });
        flow++;
      });
    }
    transfers.forEach(function (x) {  // a send to its receive on another device's process
      if (x.run !== r || !x.from || !x.to) return;
      var a = where(x.from), b = where(x.to);
      events.push({ ph: "s", cat: "Transfer", name: x.tensor, id: flow, pid: a[0], tid: a[1], ts: a[2] });
      events.push({ ph: "f", bp: "e", cat: "Transfer", name: x.tensor, id: flow, pid: b[0], tid: b[1], ts: b[2] });
      flow++;
    });
    run.series.forEach(function (pts, a) {
      var name = run.allocators[a];
      pts.forEach(function (p) {
        var v = {};
        v[name] = p[1];
        events.push({ ph: "C", cat: "Memory", name: name, pid: 0, tid: 0, ts: us(p[0]), args: v });
      });
    });
    return JSON.stringify({ traceEvents: meta.concat(events) });
  }

  // -- layout -----------------------------------------------------------------------------------------------
  var LEFT = 170, AXIS = 22, LANE = 20, BAR = 15, MEM = 44, PAD = 6, HEADER = 18;
  var laneTop = [], headerTop = [], cursor = AXIS;
  lanes.forEach(function (l, i) {
    if (l.group && l.group.lanes[0] === i) { headerTop.push([cursor, l.group]); l.group.top = cursor; cursor += HEADER; }
    laneTop.push(cursor);
    cursor += LANE;
  });
  var lanesEnd = cursor;
  var height = lanesEnd + memTracks.length * (MEM + PAD) + PAD;
  var view = { t0: 0, t1: span }, sel = null, hover = null, arrows = false, matches = [], matchAt = -1;
  var showTransfers = transfers.length > 0, TRANSFER = "#7048e8";
  var query = "", mouseX = null;

  var staticPic = root.querySelector(".tfx-trace-static");
  var bar = el("div", "tfx-trace-toolbar");
  function button(text, title) {
    var b = el("button", "tfx-trace-btn", text);
    b.type = "button";
    b.title = title;
    bar.appendChild(b);
    return b;
  }
  var bIn = button("+", "zoom in (W, Ctrl+wheel)"), bOut = button("\u2212", "zoom out (S)");
  var bFit = button("fit", "show the whole step (0)"), bArrows = button("arrows", "flow arrows between dependent ops (F)");
  var bTransfers = null;
  if (transfers.length) {
    bTransfers = button("transfers", "arrows from each send to its receive on another device (T)");
    bTransfers.classList.add("tfx-trace-on");
    root.setAttribute("data-transfers", "1");
  }
  var search = el("input", "tfx-trace-search");
  search.type = "search";
  search.placeholder = "search ops by name or type";
  search.setAttribute("aria-label", "search ops");
  bar.appendChild(search);
  var count = el("span", "tfx-trace-count", "");
  bar.appendChild(count);
  if (transfers.length) {
    var moved = 0, took = 0, paired = 0;
    transfers.forEach(function (t) {
      if (t.bytes > 0) moved += t.bytes;
      if (t.from && t.to) { paired += 1; took += t.time; }
    });
    var summary = el("span", "tfx-trace-count tfx-trace-transfers",
      transfers.length + " transfer" + (transfers.length === 1 ? "" : "s") + " between " + groups.length +
      " devices \u00b7 " + fmtBytes(moved) + (paired ? " \u00b7 " + fmtNs(took / paired) + " each on average" : ""));
    bar.appendChild(summary);
  }
  bar.appendChild(el("span", "tfx-trace-help", "drag or A/D to pan \u00b7 W/S or Ctrl+wheel to zoom \u00b7 click an op"));
  var box = el("div", "tfx-trace-box");
  box.tabIndex = 0;
  var canvas = el("canvas", "tfx-trace-canvas");
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", "timeline of " + ops.length + " ops on " + lanes.length + " lanes");
  box.appendChild(canvas);
  var card = el("div", "tfx-trace-card");
  card.style.display = "none";
  box.appendChild(card);
  var panel = el("div", "tfx-trace-panel");
  panel.style.display = "none";
  var legend = el("div", "tfx-trace-legend");
  var used = {};
  ops.forEach(function (o) { used[o.ti] = (used[o.ti] || 0) + o.d; });
  Object.keys(used).sort(function (a, b) { return used[b] - used[a]; }).forEach(function (ti) {
    var item = el("span", "tfx-trace-key");
    var sw = el("span", "tfx-swatch");
    sw.style.background = D.colours[ti];
    item.appendChild(sw);
    item.appendChild(document.createTextNode(vis(D.types[ti])));
    item.title = "search for " + vis(D.types[ti]);
    item.addEventListener("click", function () { search.value = D.types[ti]; runSearch(); });
    legend.appendChild(item);
  });
  var ui = el("div", "tfx-trace-view");
  // JupyterLab (Lumino) leaves keys typed inside this element to it instead of running notebook shortcuts.
  ui.setAttribute("data-lm-suppress-shortcuts", "true");
  ui.appendChild(bar);
  ui.appendChild(box);
  ui.appendChild(legend);
  ui.appendChild(panel);
  root.insertBefore(ui, root.firstChild);
  if (staticPic) staticPic.remove();
  var downloads = root.querySelector(".tfx-trace-downloads");
  if (downloads) downloads.style.display = "";
  root.querySelectorAll("a.tfx-trace-download").forEach(function (a) {
    a.addEventListener("click", function () {
      var json = chromeTrace(+a.getAttribute("data-run"));
      if (a.href && a.href.indexOf("blob:") === 0) URL.revokeObjectURL(a.href);
      a.href = URL.createObjectURL(new Blob([json], { type: "application/json" }));
    });
  });

  var ctx = canvas.getContext("2d"), width = 0;
  function colours() {
    var cs = getComputedStyle(root);
    return { fg: cs.color || "#444", grid: "rgba(127,127,127,0.28)", dim: "rgba(127,127,127,0.5)" };
  }
  function resize() {
    var w = Math.max(320, Math.floor(box.clientWidth || root.clientWidth || 800));
    var dpr = window.devicePixelRatio || 1;
    width = w;
    canvas.width = Math.floor(w * dpr);
    canvas.height = Math.floor(height * dpr);
    canvas.style.width = w + "px";
    canvas.style.height = height + "px";
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    draw();
  }
  function xOf(t) { return LEFT + (t - view.t0) / (view.t1 - view.t0) * (width - LEFT - 8); }
  function tOf(x) { return view.t0 + (x - LEFT) / (width - LEFT - 8) * (view.t1 - view.t0); }
  function laneY(i) { return laneTop[i]; }

  // -- drawing ----------------------------------------------------------------------------------------------
  function draw() {
    if (!width) return;
    var c = colours(), plotR = width - 8;
    ctx.clearRect(0, 0, width, height);
    ctx.font = "10px Helvetica, Arial, sans-serif";
    ctx.textBaseline = "middle";
    var step = niceStep(view.t1 - view.t0, Math.max(2, Math.floor((width - LEFT) / 110)));
    root.setAttribute("data-tick", String(step));
    ctx.strokeStyle = c.grid;
    ctx.fillStyle = c.fg;
    ctx.textAlign = "center";
    for (var t = Math.ceil(view.t0 / step) * step; t <= view.t1; t += step) {
      var x = xOf(t);
      ctx.beginPath();
      ctx.moveTo(x + 0.5, AXIS - 5);
      ctx.lineTo(x + 0.5, height);
      ctx.stroke();
      ctx.fillText(axisLabel(Math.round(t * 1000) / 1000, step), x, 9);
    }
    ctx.textAlign = "right";
    headerTop.forEach(function (h) {
      var g = h[1], bottom = laneY(g.lanes[g.lanes.length - 1]) + BAR;
      ctx.fillStyle = g.colour;
      ctx.globalAlpha = 0.35;
      ctx.fillRect(0, h[0] + 1, plotR, HEADER - 3);
      ctx.globalAlpha = 1;
      ctx.fillRect(0, h[0] + 1, 5, bottom - h[0] - 1);
      ctx.textAlign = "left";
      ctx.font = "bold 11px Helvetica, Arial, sans-serif";
      ctx.fillStyle = c.fg;
      ctx.fillText(vis(g.label), 10, h[0] + HEADER / 2);
      ctx.font = "10px Helvetica, Arial, sans-serif";
      ctx.textAlign = "right";
    });
    lanes.forEach(function (l, i) { ctx.fillStyle = c.fg; ctx.fillText(vis(l.group ? l.inner : l.label), LEFT - 8, laneY(i) + BAR / 2 + 1); });
    memTracks.forEach(function (m, i) {
      var y = lanesEnd + PAD + i * (MEM + PAD);
      ctx.fillText(vis(m.label), LEFT - 8, y + MEM / 2 - 6);
      ctx.fillText("peak " + fmtBytes(m.peak), LEFT - 8, y + MEM / 2 + 7);
    });
    ctx.save();
    ctx.beginPath();
    ctx.rect(LEFT, 0, plotR - LEFT, height);
    ctx.clip();
    var k = (plotR - LEFT) / (view.t1 - view.t0);
    ctx.textAlign = "left";
    lanes.forEach(function (l, i) {
      var y = laneY(i);
      for (var n = 0; n < l.ops.length; n++) {
        var op = l.ops[n];
        if (op.e < view.t0 || op.s > view.t1) continue;
        var x0 = xOf(op.s), w = Math.max(1, op.d * k);
        var dim = query && !op.match;
        ctx.globalAlpha = dim ? 0.18 : 1;
        ctx.fillStyle = D.colours[op.ti];
        ctx.fillRect(x0, y, w, BAR);
        if (w > 30) {
          ctx.fillStyle = "#1b1b1b";
          var short = vis(op.name.slice(op.name.lastIndexOf("/") + 1)), room = w - 6;
          if (ctx.measureText(short).width > room) {
            while (short.length > 1 && ctx.measureText(short + "\u2026").width > room) short = short.slice(0, -1);
            short += "\u2026";
          }
          if (room > 8) ctx.fillText(short, Math.max(x0, LEFT) + 3, y + BAR / 2 + 1);
        }
      }
    });
    ctx.globalAlpha = 1;
    [hover, sel].forEach(function (op, n) {
      if (!op) return;
      ctx.strokeStyle = n ? "#d62728" : c.fg;
      ctx.lineWidth = 2;
      ctx.strokeRect(xOf(op.s) - 1, laneY(op.lane) - 1, Math.max(1, op.d * k) + 2, BAR + 2);
      ctx.lineWidth = 1;
    });
    memTracks.forEach(function (m, i) {
      var y = lanesEnd + PAD + i * (MEM + PAD), peak = m.peak || 1;
      ctx.fillStyle = "rgba(66,133,244,0.35)";
      ctx.strokeStyle = "rgba(66,133,244,0.9)";
      ctx.beginPath();
      ctx.moveTo(LEFT, y + MEM);
      var last = y + MEM;
      m.pts.forEach(function (p) {
        var px = xOf(p[0]), py = y + MEM - p[1] / peak * MEM;
        ctx.lineTo(px, last);
        ctx.lineTo(px, py);
        last = py;
      });
      ctx.lineTo(plotR, last);
      ctx.lineTo(plotR, y + MEM);
      ctx.closePath();
      ctx.fill();
      ctx.stroke();
    });
    if (arrows) drawArrows(c);
    if (showTransfers) drawTransfers();
    ctx.restore();
  }
  // A send's arrow to its receive on another device: from the end of the send (or of the op whose tensor TF's
  // RecvTensor fetched) to the end of the receive, when the tensor had arrived.
  function drawTransfers() {
    var drawn = 0;
    ctx.strokeStyle = TRANSFER;
    ctx.fillStyle = TRANSFER;
    ctx.lineWidth = 1.5;
    transfers.forEach(function (t) {
      if (!t.from || !t.to) return;
      var a = t.from, b = t.to;
      if (Math.max(a.e, b.e) < view.t0 || Math.min(a.e, b.e) > view.t1) return;
      var x0 = xOf(a.e), y0 = laneY(a.lane) + BAR / 2, x1 = xOf(b.e), y1 = laneY(b.lane) + BAR / 2;
      var strong = sel && (sel === a || sel === b);
      ctx.globalAlpha = sel && !strong ? 0.35 : 1;
      ctx.lineWidth = strong ? 2.5 : 1.5;
      ctx.beginPath();
      ctx.moveTo(x0, y0);
      ctx.bezierCurveTo(x0 + 24, y0, x1 - 24, y1, x1, y1);
      ctx.stroke();
      var dir = x1 >= x0 - 24 ? 1 : -1;
      ctx.beginPath();
      ctx.moveTo(x1, y1);
      ctx.lineTo(x1 - 7 * dir, y1 - 4);
      ctx.lineTo(x1 - 7 * dir, y1 + 4);
      ctx.closePath();
      ctx.fill();
      drawn++;
    });
    ctx.globalAlpha = 1;
    ctx.lineWidth = 1;
    root.setAttribute("data-transfers-drawn", String(drawn));
  }
  function drawArrows(c) {
    var pairs = [];
    if (sel) {
      sel.ins.forEach(function (x) { if (x.op) pairs.push([x.op, sel]); });
      sel.consumers.forEach(function (o) { pairs.push([sel, o]); });
    } else {
      ops.forEach(function (o) {
        if (o.e < view.t0 || o.s > view.t1) return;
        o.ins.forEach(function (x) { if (x.op && pairs.length < 4000) pairs.push([x.op, o]); });
      });
    }
    ctx.strokeStyle = sel ? "#d62728" : c.dim;
    ctx.fillStyle = ctx.strokeStyle;
    pairs.forEach(function (p) {
      var x0 = xOf(p[0].e), y0 = laneY(p[0].lane) + BAR / 2, x1 = xOf(p[1].s), y1 = laneY(p[1].lane) + BAR / 2;
      var bend = Math.max(12, Math.abs(x1 - x0) / 3);
      ctx.beginPath();
      ctx.moveTo(x0, y0);
      ctx.bezierCurveTo(x0 + bend, y0 - 10, x1 - bend, y1 - 10, x1, y1);
      ctx.stroke();
      ctx.beginPath();
      ctx.moveTo(x1, y1);
      ctx.lineTo(x1 - 6, y1 - 4);
      ctx.lineTo(x1 - 6, y1 + 4);
      ctx.closePath();
      ctx.fill();
    });
  }

  // -- hit testing, hover card, details panel ---------------------------------------------------------------
  function laneAt(y) {
    for (var i = 0; i < lanes.length; i++) if (y >= laneTop[i] && y < laneTop[i] + LANE) return i;
    return -1;
  }
  function headerAt(y) {
    for (var n = 0; n < headerTop.length; n++) if (y >= headerTop[n][0] && y < headerTop[n][0] + HEADER) return headerTop[n][1];
    return null;
  }
  function opAt(x, y) {
    var i = laneAt(y);
    if (x < LEFT || i < 0 || y - laneY(i) > BAR) return null;
    var l = lanes[i].ops, t = tOf(x), tol = 2 * (view.t1 - view.t0) / (width - LEFT);
    var lo = 0, hi = l.length;  // the first op starting after t + tol
    while (lo < hi) { var mid = (lo + hi) >> 1; if (l[mid].s <= t + tol) lo = mid + 1; else hi = mid; }
    var best = null;
    for (var n = lo - 1; n >= 0 && n >= lo - 64; n--) {
      var o = l[n];
      if (o.e + tol >= t) { if (!best || Math.abs((o.s + o.e) / 2 - t) < Math.abs((best.s + best.e) / 2 - t)) best = o; }
    }
    return best;
  }
  // The memory track under the pointer and the bytes in use there: [track, bytes] or null.
  function memoryAt(x, y) {
    var top = lanesEnd + PAD, i = Math.floor((y - top) / (MEM + PAD));
    if (x < LEFT || i < 0 || i >= memTracks.length || y - top - i * (MEM + PAD) > MEM) return null;
    var pts = memTracks[i].pts, t = tOf(x), lo = 0, hi = pts.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (pts[mid][0] <= t) lo = mid + 1; else hi = mid; }
    return [memTracks[i], lo ? pts[lo - 1][1] : 0, t];
  }
  function outputsText(op) {
    return op.out.map(function (o) { return vis(D.outs[o[0]]) + ": " + fmtBytes(o[1]); });
  }
  function showCard(op, x, y) {
    card.textContent = "";
    card.appendChild(el("div", "tfx-trace-card-name", vis(op.name)));
    card.appendChild(el("div", "", vis(op.type) + " \u00b7 " + fmtNs(op.d) + " at +" + fmtNs(op.s)));
    outputsText(op).forEach(function (t) { card.appendChild(el("div", "tfx-dim", "out " + t)); });
    if (op.transfer) transferText(op.transfer).forEach(function (t, n) { card.appendChild(el("div", n ? "tfx-dim" : "", t)); });
    placeCard(x, y);
  }
  function transferText(t) {
    var lines = ["transfer " + vis(t.src) + " \u2192 " + vis(t.dst) + " \u00b7 " + vis(t.tensor)];
    var parts = [];
    if (t.bytes >= 0) parts.push(fmtBytes(t.bytes));
    if (t.from && t.to && t.time < 0) parts.push("arrived " + fmtNs(-t.time) + " before it was sent: the devices' clocks differ");
    else if (t.from && t.to) parts.push(fmtNs(t.time) + " from send to arrival");
    else if (t.src === "client" || t.dst === "client") parts.push(t.to ? "fed by the client" : "fetched by the client");
    else parts.push(t.to ? "its sender is not in the trace" : "its receiver is not in the trace");
    if (t.from && t.to && t.time > 0 && t.bytes > 0) parts.push((t.bytes / t.time * 1000).toFixed(1) + " MB/s");
    lines.push(parts.join(" \u00b7 "));
    return lines;
  }
  function showGroupCard(g, x, y) {
    card.textContent = "";
    card.appendChild(el("div", "tfx-trace-card-name", vis(g.short)));
    card.appendChild(el("div", "", vis(g.full)));
    card.appendChild(el("div", "tfx-dim", g.ops + " ops on " + g.lanes.length + " lane" + (g.lanes.length === 1 ? "" : "s") +
      " \u00b7 busy " + fmtNs(g.busy)));
    placeCard(x, y);
  }
  function showMemoryCard(mem, x, y) {
    card.textContent = "";
    card.appendChild(el("div", "tfx-trace-card-name", vis(mem[0].label)));
    card.appendChild(el("div", "", fmtBytes(mem[1]) + " in use at +" + fmtNs(Math.max(0, mem[2]))));
    card.appendChild(el("div", "tfx-dim", "peak " + fmtBytes(mem[0].peak)));
    placeCard(x, y);
  }
  function placeCard(x, y) {
    card.style.display = "block";
    var bw = box.clientWidth, cw = card.offsetWidth, ch = card.offsetHeight;
    card.style.left = Math.max(0, Math.min(x + 14, bw - cw - 4)) + "px";
    card.style.top = (y + 14 + ch <= height ? y + 14 : Math.max(0, y - ch - 8)) + "px";
  }
  function row(table, label, value) {
    var tr = el("tr");
    tr.appendChild(el("th", "", label));
    var td = el("td");
    if (typeof value === "string") td.textContent = value; else td.appendChild(value);
    tr.appendChild(td);
    table.appendChild(tr);
  }
  function opLink(op, text) {
    var a = el("a", "tfx-link tfx-trace-op", text);
    a.href = "#";
    a.addEventListener("click", function (ev) { ev.preventDefault(); select(op, true); });
    return a;
  }
  function listOf(items) {
    var span = el("span");
    if (!items.length) span.textContent = "none";
    items.forEach(function (it, n) {
      if (n) span.appendChild(document.createElement("br"));
      span.appendChild(typeof it === "string" ? document.createTextNode(it) : it);
    });
    return span;
  }
  function showPanel(op) {
    panel.textContent = "";
    if (!op) { panel.style.display = "none"; return; }
    var total = op.out.reduce(function (a, o) { return a + o[1]; }, 0);
    panel.appendChild(el("div", "tfx-head", vis(op.name)));
    var t = el("table", "tfx-table tfx-fields");
    row(t, "type", vis(op.type));
    row(t, "lane", vis(lanes[op.lane].label));
    if (lanes[op.lane].group) row(t, "device", vis(lanes[op.lane].group.short + " \u2014 " + lanes[op.lane].group.full));
    row(t, "start", "+" + fmtNs(op.s));
    row(t, "time", fmtNs(op.d));
    row(t, "outputs", listOf(outputsText(op)));
    row(t, "bytes", fmtBytes(total));
    row(t, "inputs", listOf(op.ins.map(function (x) { return x.op ? opLink(x.op, vis(inputText(x))) : vis(x.text); })));
    row(t, "consumers", listOf(op.consumers.map(function (o) { return opLink(o, vis(o.name)); })));
    if (op.transfer) {
      var x = op.transfer, peer = x.from === op ? x.to : x.from, text = transferText(x);
      row(t, "transfer", listOf(text));
      if (peer) row(t, x.from === op ? "received by" : "sent by", listOf([opLink(peer, vis(peer.name) + " (" + vis(peer.type) + ")")]));
    }
    panel.appendChild(t);
    panel.style.display = "block";
  }
  function select(op, reveal) {
    sel = op;
    if (op && reveal && (op.s < view.t0 || op.e > view.t1 || op.d * (width - LEFT) / (view.t1 - view.t0) < 3)) {
      var w = Math.min(span, Math.max(op.d * 12, 2000));
      setView((op.s + op.e) / 2 - w / 2, (op.s + op.e) / 2 + w / 2);
    }
    showPanel(op);
    draw();
  }

  // -- view changes -----------------------------------------------------------------------------------------
  function setView(t0, t1) {
    var w = Math.min(span, Math.max(t1 - t0, 50));  // never below 50 ns across the plot, never beyond the step
    var mid = (t0 + t1) / 2;
    t0 = Math.max(0, Math.min(span - w, mid - w / 2));
    view.t0 = t0;
    view.t1 = t0 + w;
    root.setAttribute("data-window", Math.round(view.t0) + ":" + Math.round(view.t1));
    draw();
  }
  function zoom(factor, atX) {
    var x = atX === undefined || atX === null ? (LEFT + width) / 2 : Math.max(LEFT, atX);
    var t = tOf(x), w = (view.t1 - view.t0) * factor, f = (t - view.t0) / (view.t1 - view.t0);
    setView(t - f * w, t - f * w + w);
  }
  function pan(fraction) {
    var d = (view.t1 - view.t0) * fraction;
    setView(view.t0 + d, view.t1 + d);
  }
  function runSearch() {
    query = search.value.trim().toLowerCase();
    matches = [];
    ops.forEach(function (o) {
      o.match = !!query && (o.lname.indexOf(query) >= 0 || o.ltype === query);
      if (o.match) matches.push(o);
    });
    matches.sort(function (a, b) { return a.run - b.run || a.s - b.s; });
    matchAt = -1;
    count.textContent = query ? matches.length + " match" + (matches.length === 1 ? "" : "es") : "";
    root.setAttribute("data-matches", String(matches.length));
    draw();
  }
  function nextMatch(dir) {
    if (!matches.length) return;
    matchAt = (matchAt + dir + matches.length) % matches.length;
    count.textContent = (matchAt + 1) + " of " + matches.length;
    select(matches[matchAt], true);
  }

  bIn.addEventListener("click", function () { zoom(0.5); });
  bOut.addEventListener("click", function () { zoom(2); });
  bFit.addEventListener("click", function () { setView(0, span); });
  bArrows.addEventListener("click", function () {
    arrows = !arrows;
    bArrows.classList.toggle("tfx-trace-on", arrows);
    root.setAttribute("data-arrows", arrows ? "1" : "0");
    draw();
  });
  if (bTransfers) bTransfers.addEventListener("click", function () {
    showTransfers = !showTransfers;
    bTransfers.classList.toggle("tfx-trace-on", showTransfers);
    root.setAttribute("data-transfers", showTransfers ? "1" : "0");
    if (!showTransfers) root.setAttribute("data-transfers-drawn", "0");
    draw();
  });
  search.addEventListener("input", runSearch);
  search.addEventListener("keydown", function (ev) {
    ev.stopPropagation();  // the notebook's own shortcuts must not see typing
    if (ev.key === "Enter") { ev.preventDefault(); nextMatch(ev.shiftKey ? -1 : 1); }
    if (ev.key === "Escape") { search.value = ""; runSearch(); box.focus(); }
  });
  box.addEventListener("keydown", function (ev) {
    var key = ev.key.toLowerCase(), done = true;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (key === "w" || key === "+" || key === "=") zoom(0.8, mouseX);
    else if (key === "s" || key === "-") zoom(1.25, mouseX);
    else if (key === "a" || key === "arrowleft") pan(-0.1);
    else if (key === "d" || key === "arrowright") pan(0.1);
    else if (key === "0") setView(0, span);
    else if (key === "f") bArrows.click();
    else if (key === "t" && bTransfers) bTransfers.click();
    else if (key === "/") search.focus();
    else if (key === "escape") select(null);
    else done = false;
    if (done) { ev.preventDefault(); ev.stopPropagation(); }
  });
  box.addEventListener("wheel", function (ev) {
    // The page scrolls as usual; Ctrl (or Cmd) + wheel, or any wheel once the view has focus, zooms it.
    if (!(ev.ctrlKey || ev.metaKey || document.activeElement === box)) return;
    ev.preventDefault();
    var r = canvas.getBoundingClientRect();
    if (ev.shiftKey || Math.abs(ev.deltaX) > Math.abs(ev.deltaY)) pan((ev.deltaX || ev.deltaY) / 500);
    else zoom(Math.exp(ev.deltaY * 0.002), ev.clientX - r.left);
  }, { passive: false });
  var drag = null;
  canvas.addEventListener("mousedown", function (ev) {
    var r = canvas.getBoundingClientRect();
    drag = { x: ev.clientX, t0: view.t0, t1: view.t1, moved: false, px: ev.clientX - r.left, py: ev.clientY - r.top };
    box.focus();
    ev.preventDefault();
  });
  window.addEventListener("mousemove", function (ev) {
    if (!drag) return;
    var dx = ev.clientX - drag.x;
    if (Math.abs(dx) > 3) drag.moved = true;
    if (drag.moved) {
      var dt = -dx / (width - LEFT - 8) * (drag.t1 - drag.t0);
      setView(drag.t0 + dt, drag.t1 + dt);
    }
  });
  window.addEventListener("mouseup", function () {
    if (!drag) return;
    var d = drag;
    drag = null;
    if (!d.moved) select(opAt(d.px, d.py), false);
  });
  canvas.addEventListener("mousemove", function (ev) {
    var r = canvas.getBoundingClientRect(), x = ev.clientX - r.left, y = ev.clientY - r.top;
    mouseX = x;
    if (drag && drag.moved) { card.style.display = "none"; return; }
    var op = opAt(x, y), mem = op ? null : memoryAt(x, y), head = op || mem ? null : headerAt(y);
    if (op !== hover) { hover = op; draw(); }
    if (op) showCard(op, x, y);
    else if (mem) showMemoryCard(mem, x, y);
    else if (head) showGroupCard(head, x, y);
    else card.style.display = "none";
    canvas.style.cursor = op ? "pointer" : "grab";
  });
  canvas.addEventListener("mouseleave", function () {
    mouseX = null;
    card.style.display = "none";
    if (hover) { hover = null; draw(); }
  });
  if (window.ResizeObserver) new ResizeObserver(function () { if (box.clientWidth !== width) resize(); }).observe(box);
  resize();
  if (D.highlight) {
    for (var h = 0; h < ops.length; h++) if (ops[h].name === D.highlight) { select(ops[h], false); break; }
  }
  // what tests and tools read: the step's span and the window shown
  root.setAttribute("data-span", String(span));
  setView(view.t0, view.t1);
  root.tfxTrace = { chromeTrace: chromeTrace, view: view, lanes: lanes, xOf: xOf, laneY: laneY, ops: ops,
                    groups: groups, transfers: transfers };
}
