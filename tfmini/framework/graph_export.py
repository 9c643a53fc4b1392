"""The last step of `Graph.as_graph_def`: the functional control flow of an exported GraphDef in the form
TensorFlow's `While` takes. Knows the `While` op by its attrs only, and nothing of the ops above the framework.

tfmini's While passes the outer tensors its body captured as extra inputs after the loop variables (`T` lists
them, `Tout` only the loop variables) and has one more output, the tape its gradient reads. TensorFlow's While
has no `Tout`: every input is a loop variable, its body returns all of them and it has as many outputs as
inputs. So a While whose tape nothing reads is exported with its captures as loop variables the body passes
through unchanged, `output_shapes` for all of them and no `back_prop` (an attr TensorFlow's While lacks).
A While whose tape a gradient reads (directly, or recorded by the body of an enclosing cond or loop) keeps
tfmini's form: its gradient (`WhileGrad`, `TapeRead`) only exists in tfmini, which reads such a GraphDef back;
TensorFlow refuses it as an unregistered op type."""

from __future__ import annotations

from tfmini.framework import func_graph as _func_graph
from tfmini.framework import node_def as _node_def
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _registry

# tfmini-only attrs of tfmini's While that TensorFlow's While op def does not have.
_WHILE_ONLY_ATTRS = ("back_prop",)


def _tape_is_read(op: _ops.Operation) -> bool:
    """Whether anything reads the tape (last output) of functional op `op`: an op of its graph, or the
    gradient of an enclosing body through that body's recorded values."""
    tape = op.outputs[-1]
    if tape.consumers():
        return True
    return any(t is tape for t in getattr(op.graph, "recorded", ()))


def _keeps_tout(op_type: str) -> bool:
    """Whether tfmini's own op def of `op_type` requires `Tout`: then the attr is written (as the full input
    type list) so that tfmini can read its GraphDef back; TensorFlow ignores it with a warning."""
    attrs = _registry.get_op_def(op_type).attrs
    return "Tout" in attrs and attrs["Tout"][1] is _registry.REQUIRED


def _pass_captures_through(fd, n_loop_vars: int) -> None:
    """Makes body FunctionDef `fd` return its inputs after the first `n_loop_vars` unchanged."""
    taken = {arg.name for arg in fd.signature.output_arg}
    for arg in list(fd.signature.input_arg)[n_loop_vars:]:
        name, i = f"output_{len(fd.signature.output_arg)}", 0
        while name in taken:
            i += 1
            name = f"output_{len(fd.signature.output_arg)}_{i}"
        taken.add(name)
        fd.signature.output_arg.add(name=name, type=arg.type)
        fd.ret[name] = arg.name


def _export_while(nd, op: _ops.Operation, bodies: dict, rewritten: set) -> None:
    """Rewrites While NodeDef `nd` (of `op`) and its body in `bodies` into TensorFlow's form, unless its tape
    is read."""
    if "Tout" not in nd.attr or _tape_is_read(op):
        return
    n = len(nd.attr["Tout"].list.type)
    types = list(nd.attr["T"].list.type)
    body = nd.attr["body"].func.name
    if len(types) > n and body in bodies and body not in rewritten:
        _pass_captures_through(bodies[body], n)
        rewritten.add(body)
    shapes = list(op.get_attr("output_shapes"))[:n]
    shapes += [t.shape for t in op.outputs[len(shapes):n]] + [t.shape for t in op.inputs[n:]]
    nd.attr["output_shapes"].CopyFrom(_node_def.attr_value_of("list(shape)", shapes))
    if "_output_shapes" in nd.attr:  # add_shapes: one per output, and the outputs are now T
        nd.attr["_output_shapes"].CopyFrom(_node_def.attr_value_of("list(shape)", shapes))
    if _keeps_tout(nd.op):
        nd.attr["Tout"].list.ClearField("type")
        nd.attr["Tout"].list.type.extend(types)
    else:
        del nd.attr["Tout"]
    for attr in _WHILE_ONLY_ATTRS:
        if attr in nd.attr:
            del nd.attr[attr]


def _export_if(nd, op: _ops.Operation, bodies: dict, rewritten: set) -> None:
    """An If whose tape nothing reads is TensorFlow's If already, but for the tape's entry in the
    `_output_shapes` that add_shapes writes."""
    del bodies, rewritten
    if "_output_shapes" in nd.attr and not _tape_is_read(op):
        del nd.attr["_output_shapes"].list.shape[-1]


_EXPORTERS = {"While": _export_while, "If": _export_if}


def _export_nodes(nodes, graph: _ops.Graph, bodies: dict, rewritten: set) -> None:
    for nd in nodes:
        if nd.op in _EXPORTERS:
            op = graph._nodes_by_name.get(nd.name)
            if op is not None and op.type == nd.op:
                _EXPORTERS[nd.op](nd, op, bodies, rewritten)


def finish_graph_def(graph: _ops.Graph, graph_def) -> None:
    """Puts the control flow of `graph_def` (just exported from `graph`) into TensorFlow's form, in place."""
    bodies = {fd.signature.name: fd for fd in graph_def.library.function}
    if not bodies:
        return
    rewritten: set = set()
    _export_nodes(graph_def.node, graph, bodies, rewritten)
    graphs = {fn.name: fn for fn in _func_graph.functions_used(graph.get_operations())}
    for fd in graph_def.library.function:
        fn = graphs.get(fd.signature.name)
        if fn is not None:
            _export_nodes(fd.node_def, fn, bodies, rewritten)


_ops.register_graph_def_export("finish_graph_def", finish_graph_def)
