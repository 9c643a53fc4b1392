"""The last step of `Graph.as_graph_def`: the functional control flow of an exported GraphDef (If, While and
a cond's gradient) in the form TensorFlow's ops take. Works on the NodeDefs and FunctionDefs, reading the
functional ops' graphs; knows nothing of the op library above the framework.

tfmini's While passes the outer tensors its body captured as extra inputs after the loop variables (`T` lists
them, `Tout` only the loop variables) and has one more output, the tape its gradient reads. TensorFlow's While
has no `Tout`: every input is a loop variable, its body returns all of them and it has as many outputs as
inputs. So a While whose tape nothing reads is exported with its captures as loop variables the body passes
through unchanged, `output_shapes` for all of them and no `back_prop` (an attr TensorFlow's While lacks).

The gradient of a tf.cond is exported as TensorFlow's cond_v2 writes it: the forward If also returns each
value its gradient reads, wrapped in an optional (OptionalFromValue in the branch that computed it,
OptionalNone in the other), and the gradient If takes those optionals where tfmini passes the tape, its
branches reading them with OptionalGetValue where tfmini reads the tape (TapeRead).
A While whose tape a gradient reads (directly, or recorded by the body of an enclosing cond or loop), and a
cond whose gradient is not of that simple shape (a loop or a nested gradient inside), keep tfmini's form:
their gradient ops (`WhileGrad`, `TapeRead`) only exist in tfmini, which reads such a GraphDef back;
TensorFlow refuses it as an unregistered op type."""

from __future__ import annotations

from tfmini.framework import dtypes as _dtypes
from tfmini.framework import func_graph as _func_graph
from tfmini.framework import node_def as _node_def
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _registry

# tfmini-only attrs of tfmini's While that TensorFlow's While op def does not have.
_WHILE_ONLY_ATTRS = ("back_prop",)
_VARIANT = _dtypes.variant.as_datatype_enum
# Op types whose presence in a cond's branches or gradient keeps the cond's gradient in tfmini's form.
_TAPE_OPS = frozenset({"WhileGrad", "TapeRead"})
_IF_TYPES = ("If", "StatelessIf")
_FUNCTIONAL_TYPES = ("If", "StatelessIf", "While", "StatelessWhile")


def _tape_is_read(op: _ops.Operation) -> bool:
    """Whether anything reads the tape (last output) of functional op `op`: an op of its graph, or the
    gradient of an enclosing body through that body's recorded values."""
    tape = op.outputs[-1]
    if tape.consumers():
        return True
    return any(t is tape for t in getattr(op.graph, "recorded", ()))


def _keeps_tout(op_type: str) -> bool:
    """Whether tfmini's own op def of `op_type` requires `Tout` (as it did before it read TensorFlow's While):
    then the attr is written (as the full input type list) so that tfmini can read its GraphDef back;
    TensorFlow ignores it with a warning."""
    attrs = _registry.get_op_def(op_type).attrs
    return "Tout" in attrs and attrs["Tout"][1] is _registry.REQUIRED


def _pass_captures_through(fd, n_loop_vars: int) -> None:
    """Makes body FunctionDef `fd` return its inputs after the first `n_loop_vars` unchanged."""
    taken = {arg.name for arg in fd.signature.output_arg}
    for arg in list(fd.signature.input_arg)[n_loop_vars:]:
        name = _unique(f"output_{len(fd.signature.output_arg)}", taken)
        fd.signature.output_arg.add(name=name, type=arg.type)
        fd.ret[name] = arg.name


def _export_while(nd, op: _ops.Operation, bodies: dict, rewritten: set, by_name: dict) -> None:
    """Rewrites While NodeDef `nd` (of `op`) and its body in `bodies` into TensorFlow's form, unless its tape
    is read."""
    if _tape_is_read(op):
        return
    types = list(nd.attr["T"].list.type)
    if "Tout" not in nd.attr or not nd.attr["Tout"].list.type:  # TensorFlow's form already (e.g. imported)
        n = len(types)
    else:
        n = len(nd.attr["Tout"].list.type)
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
    elif "Tout" in nd.attr:
        del nd.attr["Tout"]
    for attr in _WHILE_ONLY_ATTRS:
        if attr in nd.attr:
            del nd.attr[attr]


def _export_if(nd, op: _ops.Operation, bodies: dict, rewritten: set, by_name: dict) -> None:
    """An If whose tape nothing reads is TensorFlow's If already, but for the tape's entry in the
    `_output_shapes` that add_shapes writes; one whose tape only gradient Ifs read is exported with them as
    TensorFlow's cond_v2 writes a cond's gradient."""
    if not _tape_is_read(op):
        if "_output_shapes" in nd.attr:
            del nd.attr["_output_shapes"].list.shape[-1]
        return
    readers = _cond_gradients(op)
    if readers is not None and op.name not in rewritten:
        rewritten.add(op.name)
        _export_cond_gradient(nd, op, readers, bodies, by_name)


def _reachable_functions(fns) -> list:
    return list(dict.fromkeys([*fns, *_func_graph.functions_used([o for fn in fns for o in fn.get_operations()])]))


def _cond_gradients(op: _ops.Operation) -> list | None:
    """The gradient Ifs that read the tape of forward If `op`, if they are all it has and each reads only
    recorded values of op's branches (no loop gradient, no nested gradient); else None."""
    tape = op.outputs[-1]
    if any(t is tape for t in getattr(op.graph, "recorded", ())):
        return None
    then_g, else_g = op.get_attr("then_branch"), op.get_attr("else_branch")
    readers = list(dict.fromkeys(tape.consumers()))
    grads = []
    for r in readers:
        if r.type not in _IF_TYPES or r.inputs[1] is not tape or any(t is tape for t in r.inputs[2:]):
            return None
        pair = (r.get_attr("then_branch"), r.get_attr("else_branch"))
        if getattr(pair[0], "forward", None) is not then_g or getattr(pair[1], "forward", None) is not else_g:
            return None
        grads += pair
    if any(t.dtype.base_dtype == _dtypes.variant for fn in (then_g, else_g) for t in fn.recorded):
        return None  # a loop or cond inside a branch records its own tape: its gradient stays tfmini's
    for fn in _reachable_functions([then_g, else_g, *grads]):
        for o in fn.get_operations():
            if o.type == "TapeRead" and fn in grads and o.inputs[0] is fn.inputs[0]:
                continue
            if o.type in _TAPE_OPS or (o.type in _FUNCTIONAL_TYPES and any(
                    t.dtype.base_dtype == _dtypes.variant for t in o.inputs)):
                return None
    return readers


def _unique(name: str, taken: set) -> str:
    out, i = name, 0
    while out in taken:
        i += 1
        out = f"{name}_{i}"
    taken.add(out)
    return out


def _tensor_ref(name: str, index: int) -> str:
    return f"{name}:{index}" if index else name


def _export_cond_gradient(nd, op: _ops.Operation, readers: list, bodies: dict, by_name: dict) -> None:
    """Forward If NodeDef `nd` returns, after its outputs, one optional per value its branches recorded (then's,
    then else's); each gradient If takes them in place of the tape and reads them with OptionalGetValue."""
    branches = (op.get_attr("then_branch"), op.get_attr("else_branch"))
    recorded = [list(fn.recorded) for fn in branches]
    offsets = (0, len(recorded[0]))
    total = len(recorded[0]) + len(recorded[1])
    n = len(op.get_attr("Tout"))
    for b, fn in enumerate(branches):
        fd = bodies[fn.name]
        taken = {x.name for x in fd.node_def} | {a.name for a in fd.signature.input_arg}
        arg_of = {t: a.name for t, a in zip(fn.inputs, fd.signature.input_arg)}
        for k in range(total):
            mine = offsets[b] <= k < offsets[b] + len(recorded[b])
            node = fd.node_def.add(name=_unique(f"optional_{k}", taken),
                                   op="OptionalFromValue" if mine else "OptionalNone")
            if mine:
                t = recorded[b][k - offsets[b]]
                node.input.append(arg_of.get(t) or _func_graph.function_tensor_ref(t))
                node.attr["Toutput_types"].CopyFrom(_node_def.attr_value_of("list(type)", [t.dtype.base_dtype]))
            out = fd.signature.output_arg.add(name=f"output_{n + k}", type=_VARIANT)
            fd.ret[out.name] = f"{node.name}:optional:0"
        if _func_graph.RECORDED_ATTR in fd.attr:
            del fd.attr[_func_graph.RECORDED_ATTR]
    nd.attr["Tout"].list.type.extend([_VARIANT] * total)
    for _ in range(total):
        nd.attr["output_shapes"].list.shape.add()
    if "_output_shapes" in nd.attr:
        del nd.attr["_output_shapes"].list.shape[-1]
        for _ in range(total):
            nd.attr["_output_shapes"].list.shape.add()
    optionals = [_tensor_ref(op.name, n + k) for k in range(total)]
    for reader in readers:
        rnd = by_name[reader.name]
        rnd.input[1:2] = optionals
        tin = list(rnd.attr["Tin"].list.type)
        rnd.attr["Tin"].list.ClearField("type")
        rnd.attr["Tin"].list.type.extend([_VARIANT] * total + tin[1:])
        for b, name in enumerate((rnd.attr["then_branch"].func.name, rnd.attr["else_branch"].func.name)):
            _read_optionals(bodies[name], total, offsets[b])


def _read_optionals(fd, total: int, offset: int) -> None:
    """Gradient branch `fd` takes `total` optionals where it took the tape, and reads recorded value i (its
    TapeRead index) from optional `offset + i`."""
    args = list(fd.signature.input_arg)
    tape = args[0].name
    taken = {x.name for x in fd.node_def} | {a.name for a in args[1:]}
    names = [_unique(f"optional_{k}", taken) for k in range(total)]
    fd.signature.ClearField("input_arg")
    for name in names:
        fd.signature.input_arg.add(name=name, type=_VARIANT)
    fd.signature.input_arg.extend(args[1:])
    renamed = set()
    for node in fd.node_def:
        if node.op != "TapeRead" or list(node.input) != [tape]:
            continue
        index, dtype = node.attr["index"].i, node.attr["dtype"].type
        shape = type(node.attr["shape"].shape)()
        shape.CopyFrom(node.attr["shape"].shape)
        node.op = "OptionalGetValue"
        node.input[0] = names[offset + index]
        node.ClearField("attr")
        node.attr["output_types"].list.type.append(dtype)
        node.attr["output_shapes"].list.shape.add().CopyFrom(shape)
        renamed.add(node.name)
    for node in fd.node_def:
        for i, ref in enumerate(node.input):
            if ref.partition(":")[0] in renamed:
                node.input[i] = ref.replace(":value:", ":components:", 1)
    for key, ref in fd.ret.items():
        if ref.partition(":")[0] in renamed:
            fd.ret[key] = ref.replace(":value:", ":components:", 1)


_EXPORTERS = {"While": _export_while, "StatelessWhile": _export_while, "If": _export_if, "StatelessIf": _export_if}


def _export_nodes(nodes, graph: _ops.Graph, bodies: dict, rewritten: set) -> None:
    by_name = {nd.name: nd for nd in nodes}
    for nd in list(nodes):
        if nd.op in _EXPORTERS:
            op = graph._nodes_by_name.get(nd.name)
            if op is not None and op.type == nd.op:
                _EXPORTERS[nd.op](nd, op, bodies, rewritten, by_name)


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
