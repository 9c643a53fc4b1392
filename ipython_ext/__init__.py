"""tfmini in Jupyter and IPython: `%load_ext ipython_ext` gives a default InteractiveSession (`sess`),
`%run_graph` / `%%run_graph`, and rich displays of tensors, operations, graphs, sessions, run results and
traces. Knows tfmini's public API only; tfmini never imports this package."""

from __future__ import annotations

from IPython import get_ipython

import tfmini as tf
from ipython_ext import extension as _extension
from ipython_ext.graph_view import GraphView
from ipython_ext.options import options
from ipython_ext.trace_view import TraceView
from ipython_ext.values import FetchedValue

__all__ = ["FetchedValue", "GraphView", "TraceView", "load_ipython_extension", "options", "show_graph",
           "show_trace", "trace_history", "unload_ipython_extension"]


def load_ipython_extension(ipython) -> None:
    """Called by `%load_ext ipython_ext`; loading again into the same shell does nothing."""
    _extension.load(ipython)


def unload_ipython_extension(ipython) -> None:
    """Called by `%unload_ext ipython_ext` (and `%reload_ext`): closes the extension's session and removes
    exactly the magics and display formatters it added."""
    _extension.unload(ipython)


def show_graph(graph_or_graph_def=None, max_nodes: int | None = None, collapse=(), expand=()) -> GraphView:
    """A picture of a graph (default: the default graph) or GraphDef; scopes collapse until at most
    `max_nodes` nodes show; `collapse` / `expand` force name scopes closed / open."""
    if graph_or_graph_def is None:
        graph_or_graph_def = tf.get_default_graph()
    return GraphView(graph_or_graph_def, max_nodes=max_nodes, collapse=collapse, expand=expand)


def show_trace(*run_metadata, graph=None, top: int | None = None) -> TraceView:
    """One timeline of several traced runs (RunMetadata or StepStats), each aligned to its own start."""
    return TraceView(*run_metadata, graph=graph, top=top)


def trace_history() -> list:
    """The RunMetadata of the recent `%run_graph --trace` runs in this shell, oldest first."""
    ext = _extension.loaded(get_ipython())
    return list(ext.traces) if ext is not None else []
