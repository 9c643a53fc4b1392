"""Traced runs drawn inline. The HTML display is an interactive timeline (`trace_view.js`, inlined): one lane
per thread and per run, a memory counter track per run, bars coloured by op type (`trace_colours`), zoom and pan
with the mouse and keyboard over a rescaling time axis, a hover card, a details panel, flow arrows between
dependent ops on demand, search, and a Chrome-trace download the browser builds from the same embedded data.
The data is compact (`trace_data`): names front-coded, times as integer nanoseconds, inputs as op indices.

Without JavaScript (untrusted notebooks, renderers that strip scripts) a static SVG timeline shows in its place,
and the plain-text fallback below everything stays. Reads the recorded plain data only."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import tfmini as tf
from ipython_ext import describe
from ipython_ext.markup import Html, element_id, esc, fmt_bytes, fmt_us, page, section, table, tag, truncate
from ipython_ext.options import options
from ipython_ext.trace_colours import type_colour
from ipython_ext.trace_data import script_json, trace_data
from tfmini.client.timeline import node_times_ns, parse_op_label
from tfmini.client.trace_summary import summarize


@dataclass(frozen=True)
class OpStat:
    """One executed op of a traced run, in microseconds."""

    name: str
    op_type: str
    device: str
    thread: int
    start_us: float
    duration_us: float
    outputs: tuple[tuple[str, str, int], ...]  # (dtype, shape, requested bytes) per output
    label: str  # the recorded timeline label, "name = Type(inputs)"


def step_stats_of(run) -> object:
    """The StepStats of a RunMetadata (or the StepStats itself)."""
    return run.step_stats if isinstance(run, tf.RunMetadata) else run


def op_stats(step_stats) -> list[OpStat]:
    """Every NodeExecStats of every device as an OpStat, in recorded order."""
    out = []
    for dev in step_stats.dev_stats:
        for ns in dev.node_stats:
            start_ns, end_ns = node_times_ns(ns)
            outputs = tuple(
                (describe.dtype_text(o.tensor_description.dtype) if o.tensor_description.dtype else "?",
                 describe.shape_text(o.tensor_description.shape),
                 int(o.tensor_description.allocation_description.requested_bytes))
                for o in ns.output
            )
            out.append(OpStat(ns.node_name, parse_op_label(ns.timeline_label)[1], dev.device, ns.thread_id,
                              start_ns / 1000, (end_ns - start_ns) / 1000, outputs, ns.timeline_label))
    return out


# -- summary ----------------------------------------------------------------------------------------------
def _shapes_text(shapes) -> str:
    return "; ".join("?" if s is None else describe.shape_text(tf.TensorShape(list(s))) for s in shapes)


def summary_tables(summary) -> Html:
    """The costliest ops and op types of a `tfmini.client.trace_summary.TraceSummary` as themed tables."""
    total = summary.total_us or 1.0
    ops = table(["#", "op", "type", "time", "share", "outputs", "bytes"],
                [[str(i + 1), tag("code", r.name), r.op_type, fmt_us(r.duration_us),
                  f"{100 * r.duration_us / total:.1f}%", _shapes_text(r.output_shapes), fmt_bytes(r.output_bytes)]
                 for i, r in enumerate(summary.ops)],
                numeric=[0, 3, 4, 6])
    types = table(["type", "ops", "time", "share", "bytes"],
                  [[r.op_type, str(r.count), fmt_us(r.total_us), f"{100 * r.total_us / total:.1f}%",
                    fmt_bytes(r.total_bytes)] for r in summary.by_type],
                  numeric=[1, 2, 3, 4])
    return Html(tag("div", f"Costliest ops (of {fmt_us(summary.total_us)} op time)", class_="tfx-head") + ops
                + section(f"Time by op type ({len(summary.by_type)})", types,
                          key=repr([(r.op_type, r.count) for r in summary.by_type])))


# -- static timeline --------------------------------------------------------------------------------------
WIDTH = 800
_LEFT, _RIGHT, _TOP, _LANE, _BAR = 104, 12, 26, 22, 15
# Up to this many ops the static picture has a bar (with its native tooltip) per op; above it, the bars of one
# op type on one lane that touch at the picture's resolution merge into one path, which keeps it small.
DETAILED_OPS = 50


def _nice_step(span: float, ticks: int = 6) -> float:
    raw = span / ticks
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    return next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)


def _svg_text(x: float, y: float, text: str, anchor: str = "start", cls: str = "tfx-fg", fill: str = "#8c8c8c") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="{cls}" fill="{fill}">'
            f"{esc(text)}</text>")


def _merged_bars(spans: list[tuple[float, float]], y: int) -> str:
    """Path data of bars [x, x + w) on one lane, merging those that touch within half a pixel."""
    parts = []
    cur = None
    for x, w in sorted(spans):
        if cur is not None and x <= cur[1] + 0.5:
            cur[1] = max(cur[1], x + w)
            continue
        if cur is not None:
            parts.append(cur)
        cur = [x, x + w]
    if cur is not None:
        parts.append(cur)
    return "".join(f"M{a:.1f} {y}h{b - a:.1f}v{_BAR}h{a - b:.1f}z" for a, b in parts)


def timeline_svg(runs: list[list[OpStat]], highlight: str | None = None) -> str:
    """The timeline of one or more traced runs (each aligned to its own start) as a standalone SVG: the
    static picture shown where scripts do not run."""
    lanes: dict[tuple, list[OpStat]] = {}
    origins: list[float] = []
    for r, stats in enumerate(runs):
        origins.append(min((s.start_us for s in stats), default=0.0))
        for s in stats:
            lanes.setdefault((r, s.device, s.thread), []).append(s)
    span = max([s.start_us + s.duration_us - origins[r] for (r, _, _), ss in lanes.items() for s in ss] + [1.0])
    plot_w = WIDTH - _LEFT - _RIGHT
    types = sorted({s.op_type for ss in lanes.values() for s in ss})
    detailed = sum(len(ss) for ss in lanes.values()) <= DETAILED_OPS
    legend_rows = math.ceil(len(types) / 4)
    height = _TOP + max(1, len(lanes)) * _LANE + legend_rows * 16 + 12
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="tfx-timeline" width="{WIDTH}" height="{height}" '
           f'viewBox="0 0 {WIDTH} {height}" font-family="Helvetica, Arial, sans-serif" font-size="10">']
    step = _nice_step(span)
    t = 0.0
    while t <= span + 1e-9:
        x = _LEFT + t / span * plot_w
        out.append(f'<line x1="{x:.1f}" y1="{_TOP - 6}" x2="{x:.1f}" y2="{_TOP + len(lanes) * _LANE}" '
                   f'class="tfx-grid" stroke="#8c8c8c" stroke-opacity="0.3"/>')
        out.append(_svg_text(x, _TOP - 10, fmt_us(t) if t else "0", anchor="middle"))
        t += step
    lanes_of_run: Counter = Counter()  # threads are numbered 1, 2, ... per run, in order of first op
    for i, ((r, _, _), stats) in enumerate(lanes.items()):
        y = _TOP + i * _LANE
        lanes_of_run[r] += 1
        label = (f"run {r + 1} · " if len(runs) > 1 else "") + f"thread {lanes_of_run[r]}"
        out.append(_svg_text(_LEFT - 8, y + _BAR - 3, label, anchor="end"))
        if not detailed:
            by_type: dict[str, list] = {}
            for s in stats:
                x = _LEFT + (s.start_us - origins[r]) / span * plot_w
                by_type.setdefault(s.op_type, []).append((x, max(1.0, s.duration_us / span * plot_w)))
            for op_type, spans in sorted(by_type.items()):
                out.append(f'<path d="{_merged_bars(spans, y)}" fill="{type_colour(op_type)}"/>')
            for s in stats:
                if s.name == highlight:
                    x = _LEFT + (s.start_us - origins[r]) / span * plot_w
                    out.append(f'<rect x="{x:.2f}" y="{y}" width="{max(1.0, s.duration_us / span * plot_w):.2f}" '
                               f'height="{_BAR}" rx="2" fill="{type_colour(s.op_type)}" stroke="#d62728" '
                               'stroke-width="2"/>')
            continue
        for s in stats:
            x = _LEFT + (s.start_us - origins[r]) / span * plot_w
            w = max(1.0, s.duration_us / span * plot_w)
            ring = ' stroke="#d62728" stroke-width="2"' if s.name == highlight else ""
            tip = (f"{s.name} ({s.op_type})\n{fmt_us(s.duration_us)} at +{fmt_us(s.start_us - origins[r])}\n"
                   + "\n".join(f"out {d} {sh}: {fmt_bytes(b)}" for d, sh, b in s.outputs))
            out.append(f'<g><title>{esc(tip)}</title><rect x="{x:.2f}" y="{y}" width="{w:.2f}" height="{_BAR}" '
                       f'rx="2" fill="{type_colour(s.op_type)}"{ring}/>')
            if w > 36:
                short = truncate(s.name.rsplit("/", 1)[-1], int(w / 6))
                out.append(_svg_text(x + 3, y + _BAR - 4, short, cls="tfx-bar-label", fill="#1b1b1b"))
            out.append("</g>")
    y0 = _TOP + len(lanes) * _LANE + 14
    for i, op_type in enumerate(types):
        x, y = 8 + (i % 4) * 196, y0 + (i // 4) * 16
        out.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" rx="2" fill="{type_colour(op_type)}"/>')
        out.append(_svg_text(x + 14, y, truncate(op_type, 30)))
    out.append("</svg>")
    return "".join(out)


# -- the interactive view ---------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def view_style() -> str:
    """The view's styles (`trace_view.css`), in trace displays only, so other displays do not carry them."""
    return resources.files("ipython_ext").joinpath("trace_view.css").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def view_script() -> str:
    """The view's JavaScript (`trace_view.js`), inlined into every display so that each output stands alone;
    without its indentation and comment lines, which the browser does not need."""
    source = resources.files("ipython_ext").joinpath("trace_view.js").read_text(encoding="utf-8")
    lines = (line.strip() for line in source.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//"))


def interactive_html(runs: list, stats: list[list[OpStat]], graph=None, highlight: str | None = None) -> Html:
    """The interactive timeline of `runs` (StepStats): a container the script fills, with the static picture
    inside it until the script replaces it, and a Chrome-trace download per run that the script builds."""
    data = trace_data(runs, graph, highlight)
    ident = element_id("trace", script_json(data))
    links = "".join(
        f'<a class="tfx-link tfx-trace-download" href="#" data-run="{r}" download="{esc(run["file"])}">'
        f'{esc("Download the Chrome trace" + (f" of run {r + 1}" if len(runs) > 1 else ""))}</a> '
        for r, run in enumerate(data["runs"]))
    return Html(
        f'<div class="tfx-trace" data-tfx-id="{ident}"><style>{view_style()}</style>'
        f'<div class="tfx-picture tfx-trace-static">{timeline_svg(stats, highlight)}</div>'
        f'<div class="tfx-note tfx-trace-downloads" style="display:none">{links}'
        "(JSON; open it in ui.perfetto.dev or chrome://tracing)</div>"
        f'<script>({view_script().strip().rstrip(";")})({script_json(data)}, "{ident}");</script></div>')


# -- the view ---------------------------------------------------------------------------------------------
class TraceView:
    """A displayable trace of one or more runs (RunMetadata or StepStats); `graph` supplies op types that
    labels lack; `highlight` selects one op (by name) when the view opens and rings it in the static picture."""

    def __init__(self, *runs, graph=None, top: int | None = None, highlight: str | None = None) -> None:
        self.runs = [step_stats_of(r) for r in runs]
        self.stats = [op_stats(s) for s in self.runs]
        self.graph = graph
        self.top = options.top_ops if top is None else top
        self.summaries = [summarize(s, top=self.top, graph=graph) for s in self.runs]
        self.highlight = highlight

    def svg(self) -> str:
        return timeline_svg(self.stats, self.highlight)

    def summary(self) -> str:
        n = sum(len(s) for s in self.stats)
        threads = len({(r, s.device, s.thread) for r, ss in enumerate(self.stats) for s in ss})
        wall = max((s.wall_us for s in self.summaries), default=0.0)
        peak = max((s.peak_bytes for s in self.summaries), default=0)
        runs = f"{len(self.runs)} runs, " if len(self.runs) > 1 else ""
        return (f"Trace: {runs}{n} ops on {threads} thread{'s' if threads != 1 else ''}, "
                f"wall {fmt_us(wall)}, peak {fmt_bytes(peak)}")

    def text(self) -> str:
        lines = [self.summary()]
        for r, s in enumerate(self.summaries):
            if len(self.runs) > 1:
                lines.append(f"run {r + 1}:")
            lines += [f"  {fmt_us(o.duration_us):>10}  {o.name} ({o.op_type})  {_shapes_text(o.output_shapes)}"
                      for o in s.ops]
        return "\n".join(lines)

    def html(self) -> Html:
        parts = [tag("div", self.summary(), class_="tfx-head"),
                 interactive_html(self.runs, self.stats, self.graph, self.highlight)]
        for r, s in enumerate(self.summaries):
            if len(self.runs) > 1:
                parts.append(tag("div", f"Run {r + 1}", class_="tfx-head"))
            parts.append(summary_tables(s))
        return page(Html("".join(parts)), self.text(), kind="Trace")

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        return {"text/plain": self.text(), "text/html": self.html(), "image/svg+xml": self.svg()}
