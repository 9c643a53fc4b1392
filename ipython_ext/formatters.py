"""Which display function draws which tfmini type in which MIME type, and registering them with IPython's
display formatters so that unregistering restores exactly what was there before."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import tfmini as tf
from ipython_ext import graph_view, objects, summary_view, trace_view
from ipython_ext.markup import page, tag


def _trace(obj) -> trace_view.TraceView | None:
    """A TraceView of a RunMetadata / StepStats that holds step stats; None for an untraced one."""
    stats = trace_view.step_stats_of(obj)
    return trace_view.TraceView(obj) if any(d.node_stats for d in stats.dev_stats) else None


def trace_html(obj):
    view = _trace(obj)
    return None if view is None else view.html()


def trace_svg(obj):
    view = _trace(obj)
    return None if view is None else view.svg()


def trace_text(obj) -> str:
    view = _trace(obj)
    if view is None:
        return f"<{type(obj).__name__}: no step stats; run with tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)>"
    return view.text()


# (mime type, class, function of the object); subclasses (InteractiveSession) inherit through the MRO.
DISPLAYS: list[tuple[str, type, Callable]] = [
    ("text/html", tf.Tensor, objects.tensor_html),
    ("text/html", tf.Operation, objects.operation_html),
    ("text/html", tf.Graph, graph_view.graph_html),
    ("image/svg+xml", tf.Graph, graph_view.graph_svg),
    ("text/plain", tf.Graph, graph_view.graph_text),
    ("text/html", tf.GraphDef, graph_view.graph_html),
    ("image/svg+xml", tf.GraphDef, graph_view.graph_svg),
    ("text/plain", tf.GraphDef, graph_view.graph_text),
    ("text/html", tf.BaseSession, objects.session_html),
    ("text/plain", tf.BaseSession, objects.session_text),
    ("text/html", tf.RunMetadata, trace_html),
    ("image/svg+xml", tf.RunMetadata, trace_svg),
    ("text/plain", tf.RunMetadata, trace_text),
    ("text/html", tf.StepStats, trace_html),
    ("image/svg+xml", tf.StepStats, trace_svg),
    ("text/plain", tf.StepStats, trace_text),
    ("text/html", tf.summary.FileWriter, summary_view.writer_html),
    ("text/plain", tf.summary.FileWriter, summary_view.writer_text),
]


def _guarded(mime: str, fn: Callable) -> Callable:
    """A display function that never raises into IPython: a failure shows as one escaped line."""
    if mime == "text/plain":
        def plain(obj, p, cycle) -> None:
            try:
                p.text(fn(obj))
            except Exception:  # noqa: BLE001 - a display must never break the cell's output
                p.text(object.__repr__(obj))
        return plain

    def rich(obj):
        try:
            return fn(obj)
        except Exception as e:  # noqa: BLE001 - a display must never break the cell's output
            if mime != "text/html":
                return None
            note = f"ipython_ext could not draw this {type(obj).__name__}: {type(e).__name__}: {e}"
            return page(tag("div", note, class_="tfx-error"), note)
    return rich


@dataclass
class Registration:
    formatter: object
    cls: type
    func: Callable
    previous: Callable | None


def register(shell) -> list[Registration]:
    """Registers every display; returns what is needed to undo it."""
    done = []
    for mime, cls, fn in DISPLAYS:
        formatter = shell.display_formatter.formatters[mime]
        # A printer registered by name (for_type_by_name) waits in deferred_printers until the class is first
        # looked up; resolve it now, as IPython would, so that it is what unregistering puts back.
        deferred = formatter.deferred_printers.pop((cls.__module__, cls.__name__), None)
        if deferred is not None:
            formatter.type_printers[cls] = deferred
        func = _guarded(mime, fn)
        done.append(Registration(formatter, cls, func, formatter.type_printers.get(cls)))
        formatter.for_type(cls, func)
    return done


def unregister(registrations: list[Registration]) -> None:
    """Removes our functions, restoring what each replaced; a function someone registered after us stays."""
    for r in reversed(registrations):
        if r.formatter.type_printers.get(r.cls) is not r.func:
            continue
        if r.previous is None:
            r.formatter.type_printers.pop(r.cls)
        else:
            r.formatter.type_printers[r.cls] = r.previous
