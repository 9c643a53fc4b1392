"""What a run names and what it touched, for the magics and the widgets alike: the graph of its fetches,
their names, the ops it executes, and its failure in a few lines. Pure functions of tfmini objects."""

from __future__ import annotations

import contextlib

import tfmini as tf
from ipython_ext import sites


def op_error_text(e) -> str:
    """A run failure in a few lines: the error class and message, the op, and where the op was created."""
    message = e.message.split("\n\t [[", 1)[0].strip()
    lines = [f"{type(e).__name__}: {message}"]
    op = e.op
    if op is not None:
        where, source = sites.op_site(op)
        lines.append(f"  in op '{op.name}' ({op.type})" + (f", created at {where}" if where else ""))
        if source:
            lines.append(f"    {source}")
    return "\n".join(lines)


def _leaves(fetches):
    if isinstance(fetches, dict):
        for v in fetches.values():
            yield from _leaves(v)
    elif isinstance(fetches, (list, tuple)):
        for v in fetches:
            yield from _leaves(v)
    else:
        yield fetches


def graph_of(fetches):
    """The graph of the first fetch that names one (a string names none)."""
    for leaf in _leaves(fetches):
        graph = getattr(leaf, "graph", None)
        if isinstance(graph, tf.Graph):
            return graph
    return None


def fetch_names(fetches, graph):
    """The fetch structure with each element replaced by the name of the tensor or op it denotes."""
    if isinstance(fetches, dict):
        return {k: fetch_names(v, graph) for k, v in fetches.items()}
    if isinstance(fetches, (list, tuple)):
        return [fetch_names(v, graph) for v in fetches]
    name = getattr(fetches, "name", None)
    return name if isinstance(name, str) else str(fetches)


def ops_that_ran(graph, fetches, fed) -> set:
    """The ops a run of `fetches` executes: everything they depend on, stopping at fed tensors (whose
    producers are kept as the picture's entry points)."""
    fed = set(fed)
    stack = []
    for leaf in _leaves(fetches):
        with contextlib.suppress(KeyError, ValueError, TypeError):
            element = graph.as_graph_element(leaf, allow_tensor=True, allow_operation=True)
            stack.append(element.op if isinstance(element, tf.Tensor) else element)
    seen: set = set()
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        for t in op.inputs:
            if t in fed:
                seen.add(t.op)
            else:
                stack.append(t.op)
        stack.extend(op.control_inputs)
    return seen
