"""Displays of graph objects: `Tensor` and `Operation` cards (name, op type, dtype, static shape, inputs,
where they were created — never evaluated) and `Session` cards (graph, variables, initialization)."""

from __future__ import annotations

import tfmini as tf
from ipython_ext import describe, sites
from ipython_ext.graph_view import kind_of, view_of
from ipython_ext.markup import Html, fields, mono, page, section, table, tag

MAX_NAMES = 12


def _names(items, limit: int = MAX_NAMES) -> str:
    names = [i.name for i in items]
    more = f" … (+{len(names) - limit})" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more if names else "—"


def _site_rows(op) -> list[tuple]:
    where, source = sites.op_site(op)
    if not where:
        return []
    return [("created at", Html(f"{tag('span', where)}" + (f"<br>{mono(source)}" if source else "")))]


def _input_rows(op) -> list[list]:
    return [[str(i), mono(t.name), describe.tensor_text(t)] for i, t in enumerate(op.inputs)]


# -- Tensor -----------------------------------------------------------------------------------------------
def tensor_html(t) -> Html:
    op = t.op
    rows = [
        ("name", mono(t.name)),
        ("dtype", describe.dtype_text(t.dtype)),
        ("shape", describe.shape_text(t.shape)),
        ("op", Html(f"{mono(op.name)} {tag('span', op.type, class_='tfx-dim')}")),
    ]
    if t.device:
        rows.append(("device", t.device))
    rows.append(("consumers", _names(t.consumers())))
    rows += _site_rows(op)
    body = tag("div", f"{t.name}  {describe.tensor_text(t)}", class_="tfx-head") + fields(rows)
    if op.inputs:
        body += section(f"Inputs of {op.name} ({len(op.inputs)})", table(["#", "tensor", "type"], _input_rows(op)),
                        key=t.name, open_=True)
    return page(body, repr(t), kind="Tensor")


# -- Operation --------------------------------------------------------------------------------------------
def operation_html(op) -> Html:
    rows = [("name", mono(op.name)), ("type", op.type)]
    kind = kind_of(op.type)
    if kind.label != "op":
        rows.append(("kind", kind.label))
    if op.device:
        rows.append(("device", op.device))
    if op.control_inputs:
        rows.append(("control inputs", _names(op.control_inputs)))
    rows += _site_rows(op)
    body = tag("div", f"{op.name} = {op.type}", class_="tfx-head") + fields(rows)
    if op.inputs:
        body += section(f"Inputs ({len(op.inputs)})", table(["#", "tensor", "type"], _input_rows(op)),
                        key=op.name + "/in", open_=True)
    if op.outputs:
        outs = [[str(i), mono(t.name), describe.tensor_text(t), _names(t.consumers())]
                for i, t in enumerate(op.outputs)]
        body += section(f"Outputs ({len(outs)})", table(["#", "tensor", "type", "consumers"], outs),
                        key=op.name + "/out", open_=True)
    attrs = describe.op_attrs(op)
    if attrs:
        body += section(f"Attributes ({len(attrs)})", table(["attr", "value"], [[k, mono(v)] for k, v in attrs]),
                        key=op.name + "/attr", open_=len(attrs) <= 6)
    return page(body, repr(op), kind="Operation")


# -- Session ----------------------------------------------------------------------------------------------
def is_initialized(sess, variable) -> bool | None:
    """Whether `variable` holds a value in `sess`, found by fetching its ref tensor: that fails with
    FailedPreconditionError exactly when it is uninitialized. Unlike `tf.report_uninitialized_variables`,
    this adds no op to the user's graph (a display must not change what it shows). None when unknown."""
    try:
        sess.run(variable.op.outputs[0])
    except tf.errors.FailedPreconditionError:
        return False
    except (tf.errors.OpError, RuntimeError, TypeError, ValueError, AttributeError, IndexError):
        return None
    return True


def session_variables(sess) -> list[tuple[str, str, str, str]]:
    """(name, dtype, shape, initialized: 'yes' / 'no' / '?') per global variable of the session's graph."""
    rows = []
    for v in sess.graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES):
        state = {True: "yes", False: "no", None: "?"}[is_initialized(sess, v)]
        rows.append((v.name, describe.dtype_text(getattr(v.dtype, "base_dtype", v.dtype)),
                     describe.shape_text(v.shape), state))
    return rows


def _session_facts(sess) -> list[tuple[str, str]]:
    graph = sess.graph
    facts = [
        ("target", sess.sess_str or "in-process"),
        ("default session", "yes" if tf.get_default_session() is sess else "no"),
        ("graph", f"{len(graph.get_operations())} ops (version {graph.version})"
         + (", the default graph" if tf.get_default_graph() is graph else "")),
    ]
    return facts


def session_text(sess) -> str:
    lines = [f"<{type(sess).__name__}>"] + [f"  {k}: {v}" for k, v in _session_facts(sess)]
    variables = session_variables(sess)
    lines.append(f"  variables: {len(variables)}")
    lines += [f"    {n} {d} {s} initialized={i}" for n, d, s, i in variables[:MAX_NAMES]]
    return "\n".join(lines)


def session_html(sess) -> Html:
    variables = session_variables(sess)
    body = fields(_session_facts(sess))
    if variables:
        body += section(f"Variables ({len(variables)})",
                        table(["variable", "dtype", "shape", "initialized"], [list(v) for v in variables]),
                        key=repr(variables), open_=True)
    else:
        body += tag("div", "No global variables in this graph.", class_="tfx-note")
    body += section("Graph", view_of(sess.graph).body(), key=f"session-graph-{sess.graph.version}")
    return page(body, session_text(sess), kind=type(sess).__name__)
