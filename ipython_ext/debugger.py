"""The notebook debugger: `run_debug` runs a step through `tfmini.debug.LocalDebugWrapperSession`, and
`DebugView` shows its dump — every tensor the step computed with its statistics, filterable, and the first op
that produced a NaN or an infinity, with its inputs, its place in the graph and the line of user code that
created it. Pure functions from a dump to markup; everything shown is escaped."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import tfmini as tf
from ipython_ext import sites
from ipython_ext.graph_view import GraphView
from ipython_ext.markup import Html, element_id, esc, fields, fmt_bytes, fmt_num, page, section, table, tag
from ipython_ext.runs import op_error_text
from ipython_ext.values import array_text, dtype_name, heatmap_html
from tfmini import debug as tf_debug

MAX_ROWS = 500  # tensor rows drawn (rows a filter flags are drawn even beyond it)
TEXT_ROWS = 40  # rows of the plain-text listing
STAT_COLUMNS = ("min", "max", "mean", "std")


@dataclass(frozen=True)
class TensorStats:
    """What the list shows of one value: dtype and shape, and for numbers min/max/mean/std over the finite
    entries with the NaN and infinity counts (None where they do not apply)."""

    dtype: str
    shape: tuple | None
    min: float | int | None = None
    max: float | int | None = None
    mean: float | None = None
    std: float | None = None
    nan: int = 0
    inf: int = 0

    @property
    def bad(self) -> bool:
        return self.nan > 0 or self.inf > 0

    def cells(self) -> list[str]:
        shape = "?" if self.shape is None else str(list(self.shape))
        numbers = [fmt_num(v) if v is not None else "" for v in (self.min, self.max, self.mean, self.std)]
        return [self.dtype, shape, *numbers, str(self.nan), str(self.inf)]


def tensor_stats(value) -> TensorStats:
    """Statistics of a dumped value (an array, a NumPy scalar, or a value that is no array)."""
    if not isinstance(value, (np.ndarray, np.generic)):
        return TensorStats("uninitialized" if getattr(value, "initialized", True) is False else "other", None)
    arr = np.asarray(value)
    stats = TensorStats(dtype_name(arr), arr.shape)
    kind = arr.dtype.kind
    if arr.size == 0 or kind not in "biufc":
        return stats
    if kind == "b":
        arr = arr.astype(np.int64)
        kind = "i"
    if kind in "iu":
        return TensorStats(stats.dtype, stats.shape, arr.min().item(), arr.max().item(),
                           float(arr.mean(dtype=np.float64)), float(arr.std(dtype=np.float64)))
    if kind == "c":
        nan = int(np.count_nonzero(np.isnan(arr)))
        inf = int(np.count_nonzero(np.isinf(arr)))
        arr = np.abs(arr)  # statistics of the magnitudes
    else:
        nan = int(np.count_nonzero(np.isnan(arr)))
        inf = int(np.count_nonzero(np.isinf(arr)))
    finite = arr[np.isfinite(arr)] if nan or inf else arr.ravel()
    if not finite.size:
        return TensorStats(stats.dtype, stats.shape, nan=nan, inf=inf)
    wide = finite.astype(np.float64)
    return TensorStats(stats.dtype, stats.shape, float(wide.min()), float(wide.max()), float(wide.mean()),
                       float(wide.std()), nan, inf)


class Row:
    """One dumped tensor as the list shows it: its execution index, datum and which filters pass it; its
    statistics are computed when first asked for (a long list draws only some of its rows)."""

    def __init__(self, index: int, datum, passed: tuple[bool, ...]) -> None:
        self.index = index
        self.datum = datum
        self.passed = passed

    @functools.cached_property
    def stats(self) -> TensorStats:
        return tensor_stats(self.datum.get_tensor())


class DebugView:
    """A debugged step: a summary, the first NaN/Inf (its op, creation site, inputs and neighbourhood in the
    graph), and the list of every dumped tensor with its statistics.

    `filters`: name -> `filter(datum, tensor)` offered as checkboxes that show only the rows they pass
    (`has_inf_or_nan` is always among them); `filter_name`, `node_name_regex`, `op_type_regex` restrict the
    rows drawn at all. `value`: the fetched value of the run (None when it failed)."""

    def __init__(self, dump: tf_debug.DebugDump, filters: dict[str, Callable] | None = None,
                 filter_name: str | None = None, node_name_regex: str | None = None,
                 op_type_regex: str | None = None, value=None, max_rows: int = MAX_ROWS) -> None:
        self.dump = dump
        self.value = value
        self.filters = {"has_inf_or_nan": tf_debug.has_inf_or_nan, **(filters or {})}
        if filter_name is not None and filter_name not in self.filters:
            raise ValueError(f"There is no tensor filter named \"{filter_name}\"; registered: "
                             f"{', '.join(sorted(self.filters))}")
        self.filter_name = filter_name
        self._name_re = None if node_name_regex is None else re.compile(node_name_regex)
        self._type_re = None if op_type_regex is None else re.compile(op_type_regex)
        self.max_rows = max_rows

    # -- data --------------------------------------------------------------------
    @functools.cached_property
    def _all_rows(self) -> list[Row]:
        """Every datum of the dump with the filters applied once (filters run on every datum a single time)."""
        filters = list(self.filters.values())
        return [Row(i, d, tuple(bool(f(d, d.get_tensor())) for f in filters))
                for i, d in enumerate(self.dump.dumped_tensor_data)]

    @functools.cached_property
    def _bad(self) -> int:
        """The position of the has_inf_or_nan filter among the filters."""
        return list(self.filters).index("has_inf_or_nan")

    @functools.cached_property
    def culprit(self):
        """The datum of the first tensor the has_inf_or_nan filter passes, or None."""
        first = next((r for r in self._all_rows if r.passed[self._bad]), None)
        return None if first is None else first.datum

    @functools.cached_property
    def _bad_count(self) -> int:
        return sum(r.passed[self._bad] for r in self._all_rows)

    def rows(self) -> list[Row]:
        """The rows the view's restrictions keep (filter_name, node_name_regex, op_type_regex), in order."""
        chosen = None if self.filter_name is None else list(self.filters).index(self.filter_name)
        return [r for r in self._all_rows
                if (self._name_re is None or self._name_re.search(r.datum.node_name))
                and (self._type_re is None or self._type_re.search(r.datum.op_type))
                and (chosen is None or r.passed[chosen])]

    def graph_view(self, max_nodes: int | None = None) -> GraphView | None:
        """The ops around the first NaN/Inf (or the failing op): its input producers, itself and its consumers
        that ran; None when there is neither."""
        op = self.culprit.op if self.culprit is not None else getattr(self.dump.error, "op", None)
        if op is None:
            return None
        ran = set(self.dump.node_names())
        ops = {op, *(t.op for t in op.inputs)}
        ops.update(c for t in op.outputs for c in t.consumers() if c.name in ran)
        fed = [self.dump.graph.get_tensor_by_name(name) for name in self.dump.fed_tensors]
        return GraphView(self.dump.graph, ops=ops, fed=fed, max_nodes=max_nodes,
                         title=f"Around {op.name}")

    # -- text ----------------------------------------------------------------------
    def summary(self) -> str:
        dump = self.dump
        text = f"Debugged run {dump.run_index}: {dump.size} tensors from {len(dump.node_names())} ops"
        if dump.error is not None:
            text += f"; failed at {dump.error.op.name if dump.error.op is not None else 'an op'}"
        bad = self._bad_count
        return text + (f"; {bad} hold NaN or Inf" if bad else "; no NaN or Inf")

    def culprit_lines(self) -> list[str]:
        datum = self.culprit
        if datum is None:
            return []
        where, source = sites.op_site(datum.op)
        stats = tensor_stats(datum.get_tensor())
        lines = [f"First NaN/Inf: {datum.tensor_name} ({datum.op_type}), {stats.nan} NaN, {stats.inf} Inf"
                 + (f", created at {where}" if where else "")]
        if source:
            lines.append(f"    {source}")
        for name, value in self.dump.input_values(datum.node_name):
            st = tensor_stats(value) if value is not None else None
            lines.append(f"  input {name}: " + ("not computed in this step" if st is None else
                                                 f"{st.dtype} {list(st.shape or ())} NaN={st.nan} Inf={st.inf}"))
        return lines

    def text(self) -> str:
        lines = [self.summary()]
        if self.dump.error is not None:
            lines.append(op_error_text(self.dump.error))
        lines += self.culprit_lines()
        rows = self.rows()
        for row in rows[:TEXT_ROWS]:
            index, datum, st = row.index, row.datum, row.stats
            nums = "  ".join(f"{k}={c}" for k, c in zip(STAT_COLUMNS, st.cells()[2:6]) if c)
            flags = f"  NaN={st.nan} Inf={st.inf}" if st.bad else ""
            lines.append(f"  {index:>4} {datum.tensor_name} ({datum.op_type}) {st.dtype} "
                         f"{'?' if st.shape is None else list(st.shape)}  {nums}{flags}".rstrip())
        if len(rows) > TEXT_ROWS:
            lines.append(f"  ... {len(rows) - TEXT_ROWS} more tensors")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.text()

    # -- HTML ----------------------------------------------------------------------
    def _culprit_html(self) -> Html:
        datum = self.culprit
        if datum is None:
            return tag("div", "No tensor of this step holds a NaN or an infinity.", class_="tfx-note")
        where, source = sites.op_site(datum.op)
        value = datum.get_tensor()
        stats = tensor_stats(value)
        info = [("tensor", tag("code", datum.tensor_name)), ("op type", tag("code", datum.op_type)),
                ("NaN / Inf", f"{stats.nan} / {stats.inf}"),
                ("created at", where or "unknown")]
        if source:
            info.append(("source", tag("code", source)))
        info.append(("in the graph", Html("selected in the picture below; search ") + tag("code", datum.node_name)
                     + Html(" (press /) in any view of this graph")))
        inputs = []
        for name, v in self.dump.input_values(datum.node_name):
            if v is None:
                inputs.append([name, "not computed in this step", "", "", "", "", "", "", "", ""])
                continue
            producer = self.dump.graph.get_tensor_by_name(name).op
            inputs.append([tag("code", name), producer.type, *tensor_stats(v).cells()])
        head = ["input", "op type", "dtype", "shape", *STAT_COLUMNS, "NaN", "Inf"]
        inputs_html = table(head, inputs, numeric=range(4, 10)) if inputs else tag("div", "no inputs",
                                                                                   class_="tfx-note")
        return Html(
            tag("div", "First op that produced a NaN or an Inf", class_="tfx-head tfx-error")
            + fields(info) + tag("pre", array_text(np.asarray(value)) if isinstance(value, np.ndarray) else str(value),
                                  class_="tfx-values")
            + (heatmap_html(value) if isinstance(value, np.ndarray) else Html(""))
            + tag("div", "Its inputs", class_="tfx-head") + inputs_html
        )

    def _table_html(self) -> Html:
        rows = self.rows()
        names = list(self.filters)
        ident = element_id("dbg", f"{self.dump.run_index}\0{self.dump.size}\0{self.summary()}")
        culprit_key = self.culprit.watch_key if self.culprit is not None else None
        drawn, hidden = [], 0
        for row in rows:
            if len(drawn) >= self.max_rows and not any(row.passed):
                hidden += 1
                continue
            index, datum, st, passed = row.index, row.datum, row.stats, row.passed
            where, _ = sites.op_site(datum.op)
            classes = " ".join([f"tfx-dbg-f{k}" for k, ok in enumerate(passed) if ok]
                               + (["tfx-dbg-first"] if datum.watch_key == culprit_key else []))
            cells = [str(index), tag("code", datum.tensor_name), datum.op_type, *st.cells(),
                     fmt_bytes(datum.dump_size_bytes), where]
            tds = "".join(tag("td", c, class_="tfx-num" if i in (0, 4, 5, 6, 7, 8, 9, 10) else None)
                          for i, c in enumerate(cells))
            drawn.append(f'<tr class="{esc(classes)}" data-name="{esc(datum.tensor_name.lower())}">{tds}</tr>')
        head = ["#", "tensor", "op type", "dtype", "shape", *STAT_COLUMNS, "NaN", "Inf", "size", "created at"]
        thead = "".join(tag("th", h) for h in head)
        # One checkbox per filter, before the table: checked, it hides the rows the filter does not pass
        # (CSS only, so it works where scripts do not run).
        boxes, rules = [], []
        for k, name in enumerate(names):
            box = f"{ident}-f{k}"
            boxes.append(f'<input type="checkbox" class="tfx-dbg-box" id="{esc(box)}">'
                         f'<label for="{esc(box)}">only {esc(name)}</label> ')
            rules.append(f"#{box}:checked ~ table tbody tr:not(.tfx-dbg-f{k}) {{ display: none; }}")
        style = ("<style>" + "\n".join(rules) +
                 f"\n#{ident} tr.tfx-dbg-f0 td {{ color: var(--jp-error-color1, #d73a49); }}"
                 f"\n#{ident} tr.tfx-dbg-first td {{ font-weight: 600; }}"
                 f"\n#{ident} tr.tfx-dbg-hide {{ display: none; }}</style>")
        # The name search needs the script below; hidden until that script shows it.
        search = ('<input hidden type="search" class="tfx-dbg-search" placeholder="filter by name" '
                  'aria-label="filter tensors by name">')
        script = ("<script>(function(){var root=document.getElementById(" + json.dumps(ident) + ");"
                  "if(!root){return;}var box=root.querySelector('input.tfx-dbg-search');box.hidden=false;"
                  "box.addEventListener('input',function(){var q=box.value.toLowerCase();"
                  "root.querySelectorAll('tbody tr').forEach(function(tr){"
                  "tr.classList.toggle('tfx-dbg-hide',q!==''&&tr.getAttribute('data-name').indexOf(q)<0);});});"
                  "})();</script>")
        note = tag("div", f"... {hidden} more tensors not drawn (pass node_name_regex= or filter_name= to see them)",
                   class_="tfx-note") if hidden else Html("")
        return Html(
            f'<div class="tfx-dbg" id="{esc(ident)}">{style}'
            f'{search}{"".join(boxes)}'
            f'<table class="tfx-table"><thead><tr>{thead}</tr></thead><tbody>{"".join(drawn)}</tbody></table>'
            f'{note}{script}</div>'
        )

    def _graph_html(self, graph: GraphView) -> Html:
        """The graph around the op, with the op selected through the view's own search (Enter selects the
        first match and reveals it); without scripts the picture and the listing show as they are."""
        op = self.culprit.op if self.culprit is not None else self.dump.error.op
        ident = element_id("dbg-graph", op.name)
        # Inside a <script>, `<` and `&` are written as JSON escapes so no name can close the element.
        name = json.dumps(op.name).replace("<", "\\u003c").replace("&", "\\u0026")
        script = ("<script>(function(){var root=document.getElementById(" + json.dumps(ident) + ");"
                  "var box=root&&root.querySelector('input.tfx-gv-search');if(!box){return;}box.value=" + name + ";"
                  "box.dispatchEvent(new KeyboardEvent('keydown',{key:'Enter'}));})();</script>")
        return Html(f'<div class="tfx-dbg-graph" id="{esc(ident)}">{graph.body()}{script}</div>')

    def body(self) -> Html:
        parts = [tag("div", self.summary(), class_="tfx-head")]
        if self.dump.error is not None:
            parts.append(tag("pre", op_error_text(self.dump.error), class_="tfx-error"))
        parts.append(self._culprit_html())
        graph = self.graph_view()
        if graph is not None:
            parts.append(self._graph_html(graph))
        parts.append(section(f"Tensors of the step ({len(self.dump.dumped_tensor_data)})", self._table_html(),
                             key=f"dbg\0{self.dump.run_index}\0{self.dump.size}", open_=True))
        return Html("".join(parts))

    def html(self) -> Html:
        return page(self.body(), self.text(), kind="debugged run")

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        return {"text/plain": self.text(), "text/html": self.html()}


def run_debug(session, fetches, feed_dict=None, filters: dict[str, Callable] | None = None, options=None,
              run_metadata=None) -> DebugView:
    """Runs `fetches` once in `session` (a Session or a debug wrapper of one) keeping every tensor of the
    step, and returns the view of it (`.value` holds the fetched value). A step that fails in an op is shown
    too, with its error and what ran before it; other errors (bad feeds or fetches) are raised. `options` and
    `run_metadata` are passed to the run (e.g. to trace it as well)."""
    wrapper = session if isinstance(session, tf_debug.LocalDebugWrapperSession) else \
        tf_debug.LocalDebugWrapperSession(session)
    for name, fn in (filters or {}).items():
        wrapper.add_tensor_filter(name, fn)
    value = None
    try:
        value = wrapper.run(fetches, feed_dict=feed_dict or None, options=options, run_metadata=run_metadata)
    except tf.errors.OpError:
        if wrapper.last_dump is None:
            raise
    return DebugView(wrapper.last_dump, filters=wrapper.tensor_filters, value=value)


__all__ = ["DebugView", "TensorStats", "run_debug", "tensor_stats"]
