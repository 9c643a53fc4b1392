"""A summary of one traced step that reads without a trace viewer: the costliest ops and op types by time
and by output memory, as text and as self-contained HTML. A reader of `StepStats` only (and optionally the
graph, for op types a label does not give): it knows no session or plan.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from tfmini.client.timeline import node_times_ns, op_type_of, parse_op_label

_CSS_CLASS = "tfmini-trace-summary"


@dataclass(frozen=True)
class OpRow:
    """One executed op. Times are microseconds; `start_us` counts from the step's first op start."""

    name: str
    op_type: str
    start_us: float
    duration_us: float
    output_bytes: int
    output_shapes: tuple  # one tuple of ints per output (None where the output had no array)
    device: str = ""


@dataclass(frozen=True)
class TypeRow:
    """All the ops of one type: how many ran, their summed time (µs) and summed output bytes."""

    op_type: str
    count: int
    total_us: float
    total_bytes: int


@dataclass(frozen=True)
class TraceSummary:
    """What one step cost.

    `ops` are the costliest ops by time and `by_type` the costliest op types by total time (at most `top`
    of each, costliest first); `ops_by_memory` and `by_type_memory` rank the same by output bytes;
    `all_ops` holds every op in start order. `total_us` is the summed op time, `wall_us` the span from the
    first op start to the last op end, `peak_bytes` the step's peak memory (summed over allocators).
    """

    ops: list[OpRow]
    by_type: list[TypeRow]
    total_us: float
    peak_bytes: int
    ops_by_memory: list[OpRow] = field(default_factory=list)
    by_type_memory: list[TypeRow] = field(default_factory=list)
    all_ops: list[OpRow] = field(default_factory=list)
    wall_us: float = 0.0
    total_bytes: int = 0
    peak_bytes_by_allocator: dict = field(default_factory=dict)

    def to_text(self) -> str:
        """Plain-text tables (fixed-width columns)."""
        parts = [self._headline()]
        parts += [_text_table(title, columns, cells) for title, columns, cells, _, _ in self._tables()]
        return "\n\n".join(parts) + "\n"

    def to_html(self) -> str:
        """Self-contained HTML (scoped CSS using the notebook's theme variables, no JavaScript)."""
        parts = [f'<div class="{_CSS_CLASS}">', _STYLE, f'<p class="headline">{html.escape(self._headline())}</p>']
        parts += [_html_table(*table) for table in self._tables()]
        parts.append("</div>")
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        return self.to_text()

    # -- layout ------------------------------------------------------------------
    def _headline(self) -> str:
        return (f"{len(self.all_ops)} ops, {_format_us(self.total_us)} of op time in {_format_us(self.wall_us)}, "
                f"{_format_bytes(self.total_bytes)} of outputs, peak memory {_format_bytes(self.peak_bytes)}")

    def _tables(self) -> list[tuple]:
        """(title, columns, cell rows, bar fractions, bar label) per table."""
        specs = [
            ("Costliest ops by time", _OP_COLUMNS, self.ops, self._op_cells,
             lambda r: r.duration_us, self.total_us, "time"),
            ("Costliest ops by output memory", _OP_COLUMNS, self.ops_by_memory, self._op_cells,
             lambda r: r.output_bytes, self.total_bytes, "memory"),
            ("Costliest op types by time", _TYPE_COLUMNS, self.by_type, self._type_cells,
             lambda r: r.total_us, self.total_us, "time"),
            ("Costliest op types by output memory", _TYPE_COLUMNS, self.by_type_memory, self._type_cells,
             lambda r: r.total_bytes, self.total_bytes, "memory"),
        ]
        return [(title, columns, [cells(r) for r in rows], [value(r) / whole if whole else 0.0 for r in rows], label)
                for title, columns, rows, cells, value, whole, label in specs]

    def _share(self, us: float) -> str:
        return f"{100.0 * us / self.total_us:.1f}%" if self.total_us else "-"

    def _op_cells(self, r: OpRow) -> list[str]:
        shapes = ", ".join("?" if s is None else "(" + ", ".join(map(str, s)) + ")" for s in r.output_shapes)
        return [r.name, r.op_type, f"{r.start_us:.1f}", f"{r.duration_us:.1f}", self._share(r.duration_us),
                _format_bytes(r.output_bytes), shapes]

    def _type_cells(self, r: TypeRow) -> list[str]:
        return [r.op_type, str(r.count), f"{r.total_us:.1f}", self._share(r.total_us), _format_bytes(r.total_bytes)]


# (header, alignment): names align left, numbers right.
_OP_COLUMNS = [("op", "l"), ("type", "l"), ("start (us)", "r"), ("time (us)", "r"), ("% time", "r"),
               ("output", "r"), ("output shapes", "l")]
_TYPE_COLUMNS = [("type", "l"), ("count", "r"), ("time (us)", "r"), ("% time", "r"), ("output", "r")]


def summarize(step_stats, top: int | None = 10, graph=None) -> TraceSummary:
    """The summary of `step_stats` (e.g. `run_metadata.step_stats`), ranking at most `top` ops and op types
    (all of them when `top` is None). An op's type comes from its timeline label ('name = Type(...)'), or from
    `graph` when the label does not give one."""
    if top is not None and top < 0:
        raise ValueError(f"top must be non-negative or None, got {top}")
    nodes = [(dev.device, ns) for dev in step_stats.dev_stats for ns in dev.node_stats]
    times = [node_times_ns(ns) for _, ns in nodes]
    origin = min((start for start, _ in times), default=0)
    rows = []
    for (device, ns), (start, end) in zip(nodes, times):
        op_type = op_type_of(ns.node_name, parse_op_label(ns.timeline_label)[1], graph)
        shapes = tuple(_output_shape(o.tensor_description) for o in ns.output)
        out_bytes = sum(o.tensor_description.allocation_description.requested_bytes for o in ns.output)
        rows.append(OpRow(ns.node_name, op_type, (start - origin) / 1000.0, (end - start) / 1000.0, int(out_bytes),
                          shapes, device))
    rows.sort(key=lambda r: r.start_us)

    by_type: dict[str, list] = {}
    for r in rows:
        acc = by_type.setdefault(r.op_type, [0, 0.0, 0])
        acc[0] += 1
        acc[1] += r.duration_us
        acc[2] += r.output_bytes
    types = [TypeRow(t, c, us, b) for t, (c, us, b) in by_type.items()]

    peaks: dict[str, int] = {}
    for _, ns in nodes:
        for mem in ns.memory:
            peaks[mem.allocator_name] = max(peaks.get(mem.allocator_name, 0), int(mem.allocator_bytes_in_use))
    wall = (max(end for _, end in times) - origin) / 1000.0 if times else 0.0

    def ranked(items, key):
        # Ties keep the earlier (start order / first seen), so equal runs rank the same way.
        out = sorted(items, key=key, reverse=True)
        return out if top is None else out[:top]

    return TraceSummary(
        ops=ranked(rows, lambda r: r.duration_us),
        by_type=ranked(types, lambda r: r.total_us),
        total_us=sum(r.duration_us for r in rows),
        peak_bytes=sum(peaks.values()),
        ops_by_memory=ranked(rows, lambda r: r.output_bytes),
        by_type_memory=ranked(types, lambda r: r.total_bytes),
        all_ops=rows,
        wall_us=wall,
        total_bytes=sum(r.output_bytes for r in rows),
        peak_bytes_by_allocator=peaks,
    )


def _output_shape(td) -> tuple | None:
    """An output's shape; None when the trace described no array for it (no allocation, no dimensions)."""
    if not td.HasField("allocation_description") and not td.shape.dim:
        return None
    return tuple(int(d.size) for d in td.shape.dim)


# -- formatting -------------------------------------------------------------------------------------------
def _format_bytes(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def _format_us(us: float) -> str:
    if us >= 1e6:
        return f"{us / 1e6:.3f} s"
    if us >= 1e3:
        return f"{us / 1e3:.3f} ms"
    return f"{us:.1f} us"


def _text_table(title: str, columns: list[tuple[str, str]], rows: list[list[str]]) -> str:
    if not rows:
        return f"{title}\n  (no ops)"
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, (c, _) in enumerate(columns)]

    def line(cells: list[str]) -> str:
        out = [c.ljust(w) if align == "l" else c.rjust(w) for c, w, (_, align) in zip(cells, widths, columns)]
        return ("  " + "  ".join(out)).rstrip()

    header = line([c for c, _ in columns])
    return "\n".join([title, header, line(["-" * w for w in widths]), *(line(r) for r in rows)])


def _html_table(title: str, columns: list[tuple[str, str]], rows: list[list[str]], shares: list[float],
                share_label: str) -> str:
    head = "".join(f'<th class="{align}">{html.escape(c)}</th>' for c, align in columns)
    body = []
    for cells, share in zip(rows, shares):
        tds = "".join(f'<td class="{align}">{html.escape(c)}</td>' for c, (_, align) in zip(cells, columns))
        bar = f'<td class="bar"><span style="width:{max(0.0, min(share, 1.0)) * 100:.1f}%"></span></td>'
        body.append(f"<tr>{tds}{bar}</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(columns) + 1}">(no ops)</td></tr>')
    return (f"<details open><summary>{html.escape(title)}</summary><table><thead><tr>{head}"
            f'<th class="l">{html.escape(share_label)} share</th></tr></thead><tbody>{"".join(body)}</tbody>'
            "</table></details>")


_STYLE = f"""<style>
.{_CSS_CLASS} {{ font-family: var(--jp-ui-font-family, sans-serif); font-size: var(--jp-ui-font-size1, 13px);
  color: var(--jp-ui-font-color1, inherit); }}
.{_CSS_CLASS} .headline {{ margin: 0.2em 0 0.6em; }}
.{_CSS_CLASS} summary {{ font-weight: bold; cursor: pointer; margin: 0.4em 0; }}
.{_CSS_CLASS} table {{ border-collapse: collapse; margin-bottom: 0.6em; }}
.{_CSS_CLASS} th, .{_CSS_CLASS} td {{ padding: 0.15em 0.6em; white-space: nowrap;
  border-bottom: 1px solid var(--jp-border-color2, rgba(128, 128, 128, 0.3)); }}
.{_CSS_CLASS} th {{ background: var(--jp-layout-color2, rgba(128, 128, 128, 0.12));
  color: var(--jp-ui-font-color1, inherit); }}
.{_CSS_CLASS} .l {{ text-align: left; }}
.{_CSS_CLASS} .r {{ text-align: right; font-variant-numeric: tabular-nums; }}
.{_CSS_CLASS} td.l {{ font-family: var(--jp-code-font-family, monospace); }}
.{_CSS_CLASS} td.bar {{ width: 8em; }}
.{_CSS_CLASS} td.bar span {{ display: block; height: 0.7em; min-width: 1px;
  background: var(--jp-brand-color1, rgba(66, 133, 244, 0.8)); }}
</style>"""


__all__ = ["OpRow", "TraceSummary", "TypeRow", "summarize"]
