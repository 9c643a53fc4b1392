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
The gradient of a loop is exported as TensorFlow's while_v2 writes it: the forward loop also counts its
iterations and pushes each value its gradient reads onto a TensorList (a captured tensor it reads stays in its
loop variable, passed through), and the gradient loop (`WhileGrad` here) becomes a While that counts back down,
reads them back (TensorListGetItem where tfmini reads the tape) and sums the gradients of the captured tensors
in loop variables.
Control flow inside a differentiated body or branch is written the same way, at any depth: a cond inside a
loop body is written as cond_v2 writes it and the optionals it returns for its gradient are pushed onto
TensorLists of variants in place of its tape; a loop inside a loop body pushes its counter and lists (lists of
lists) in its tape's place; a cond or loop inside a cond branch has its optionals, or its counter, lists and
captures, returned by the outer cond as optionals (an optional of an optional), which the outer gradient branch
unwraps for the inner gradient.
A gradient taken inside a body that is itself differentiated reads the same accumulators as the enclosing
gradient. A tape read in other ways (its output used directly) keeps tfmini's form: its gradient ops
(`WhileGrad`, `TapeRead`) only exist in tfmini, which reads such a GraphDef back; TensorFlow refuses it, and
`tensorflow_check.check_for_tensorflow` names them."""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dtypes
from tfmini.framework import func_graph as _func_graph
from tfmini.framework import node_def as _node_def
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _registry
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.tensorflow_check import called_functions
from tfmini.protobuf import function_pb2

# tfmini-only attrs of tfmini's While that TensorFlow's While op def does not have.
_WHILE_ONLY_ATTRS = ("back_prop",)
_VARIANT = _dtypes.variant.as_datatype_enum
# Op types whose presence in a cond's branches or gradient keeps the cond's gradient in tfmini's form.
_TAPE_OPS = frozenset({"WhileGrad", "TapeRead"})
_IF_TYPES = ("If", "StatelessIf")
_WHILE_TYPES = ("While", "StatelessWhile")
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


class _Export:
    """What one export rewrites: the GraphDef's function library (by name), and what was rewritten already."""

    def __init__(self, graph_def) -> None:
        self.library = graph_def.library
        self.bodies = {fd.signature.name: fd for fd in graph_def.library.function}
        self.rewritten: set = set()
        # (body gradient function, id of its _LoopTape) -> the cond and body of its gradient While, for
        # gradient loops that share a body gradient; the functions they replace are removed at the end
        self.gradient_loops: dict = {}
        self.retired: set = set()

    def remove_function(self, name: str) -> None:
        """Removes function `name`, which nothing calls any more, from the library."""
        for i, fd in enumerate(self.library.function):
            if fd.signature.name == name:
                del self.library.function[i]
                break
        self.bodies.pop(name, None)

    def add_function(self, fd) -> None:
        self.library.function.add().CopyFrom(fd)
        self.bodies[fd.signature.name] = self.library.function[-1]

    def remove_retired(self, graph_def) -> None:
        """Removes the retired functions nothing calls any more (a retired function calling another counts
        only while it stays)."""
        while True:
            called = {name for nodes in [graph_def.node, *(fd.node_def for fd in graph_def.library.function)]
                      for nd in nodes for name in called_functions(nd)}
            unused = (self.retired & set(self.bodies)) - called
            if not unused:
                return
            for name in unused:
                self.remove_function(name)


class _Scope:
    """The NodeDefs of the graph or of one function body (`fd`), by name."""

    def __init__(self, nodes, fd=None) -> None:
        self.nodes = nodes
        self.by_name = {nd.name: nd for nd in nodes}
        self.taken = set(self.by_name)
        self.in_function = fd is not None
        if fd is not None:
            self.taken.update(a.name for a in fd.signature.input_arg)

    def ref(self, node: str, arg: str, index: int) -> str:
        """The input string of output `index` of node `node` (of output arg `arg`, the node's only one)."""
        return f"{node}:{arg}:{index}" if self.in_function else _tensor_ref(node, index)

    def add(self, name: str, op_type: str, inputs: list, attrs: dict):
        nd = self.nodes.add(name=_unique(name, self.taken), op=op_type)
        nd.input.extend(inputs)
        for key, (kind, value) in attrs.items():
            nd.attr[key].CopyFrom(_node_def.attr_value_of(kind, value))
        self.by_name[nd.name] = nd
        return nd


def _export_while(nd, op: _ops.Operation, ex: _Export, scope: _Scope) -> None:
    """Rewrites While NodeDef `nd` (of `op`) and its body into TensorFlow's form, unless its tape is read by
    something else than gradient loops of the shapes `_loop_gradients` takes."""
    found = None
    if _tape_is_read(op):
        found = _loop_gradients(op)
        if found is None or op.name in ex.rewritten:
            return
        ex.rewritten.add(op.name)
    n = _while_in_tensorflow_form(nd, op, ex)
    if found is not None:
        grads, conds, loops = found
        tape = _accumulate(nd, op, n, conds, loops, ex, scope)
        accumulators = [scope.ref(op.name, "output", index) for index in tape.outputs]
        for grad in grads:
            _gradient_loop(scope.by_name[grad.name], grad, tape, ex, accumulators)


def _while_in_tensorflow_form(nd, op: _ops.Operation, ex: _Export) -> int:
    """While NodeDef `nd` (of `op`) as TensorFlow's While: its captures become loop variables its body passes
    through, `output_shapes` lists every loop variable, and tfmini's own attrs go. Returns the number of loop
    variables before the captures."""
    bodies, rewritten = ex.bodies, ex.rewritten
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
    return n


def _export_if(nd, op: _ops.Operation, ex: _Export, scope: _Scope) -> None:
    """An If whose tape nothing reads is TensorFlow's If already, but for the tape's entry in the
    `_output_shapes` that add_shapes writes; one whose tape only gradient Ifs read is exported with them as
    TensorFlow's cond_v2 writes a cond's gradient."""
    if not _tape_is_read(op):
        if "_output_shapes" in nd.attr:
            del nd.attr["_output_shapes"].list.shape[-1]
        return
    found = _cond_gradients(op)
    if found is not None and op.name not in ex.rewritten:
        ex.rewritten.add(op.name)
        _export_cond_gradient(nd, op, *found, ex, scope.by_name)


def _reachable_functions(fns) -> list:
    return list(dict.fromkeys([*fns, *_func_graph.functions_used([o for fn in fns for o in fn.get_operations()])]))


def _cond_gradients(op: _ops.Operation) -> tuple[list, dict, dict] | None:
    """The gradient Ifs that read the tape of forward If `op`, if they are all it has and each reads only
    recorded values of op's branches, conds and loops nested in a branch included (no deeper nesting), with
    the nested conds and loops of each branch (`_nested_conds`, `_nested_loops`, by branch); else None."""
    tape = op.outputs[-1]
    if any(t is tape for t in getattr(op.graph, "recorded", ())):
        return None
    then_g, else_g = op.get_attr("then_branch"), op.get_attr("else_branch")
    readers = list(dict.fromkeys(tape.consumers()))
    grads: list = [[], []]
    for r in readers:
        if r.type not in _IF_TYPES or r.inputs[1] is not tape or any(t is tape for t in r.inputs[2:]):
            return None
        pair = (r.get_attr("then_branch"), r.get_attr("else_branch"))
        if getattr(pair[0], "forward", None) is not then_g or getattr(pair[1], "forward", None) is not else_g:
            return None
        grads[0].append(pair[0])
        grads[1].append(pair[1])
    found = _branch_nesting(then_g, else_g, readers)
    return None if found is None else (readers, *found)


def _plain_gradient(forward_fns: list, grads: list, nested: dict | None = None, loops: dict | None = None) -> bool:
    """Whether gradient functions `grads` read the values `forward_fns` recorded through their own TapeReads
    only, and nothing reachable from either holds another tape (a loop, cond or gradient of its own), but for
    the conds `nested` and the loops `loops` describe (`_nested_conds`, `_nested_loops`): their tapes, their
    gradient Ifs or WhileGrads reading them, and the TapeReads of those loops' gradient functions."""
    nested, loops = nested or {}, loops or {}
    if any(t.dtype.base_dtype == _dtypes.variant and t not in nested and t not in loops
           for fn in forward_fns for t in fn.recorded):
        return False
    inner_readers, inner_grads = _nested_gradients(nested, loops)
    for fn in _reachable_functions([*forward_fns, *grads]):
        for o in fn.get_operations():
            if o.type == "TapeRead" and (fn in grads or fn in inner_grads) and o.inputs[0] is fn.inputs[0]:
                continue
            if o in inner_readers:
                continue
            if o.type in _TAPE_OPS or (o.type in _FUNCTIONAL_TYPES and any(
                    t.dtype.base_dtype == _dtypes.variant for t in o.inputs)):
                return False
    return True


def _nested_gradients(conds: dict, loops: dict) -> tuple[set, set]:
    """The gradient ops (Ifs, WhileGrads) reading the tapes of nested conds `conds` and loops `loops`, at every
    depth, and their gradient functions."""
    readers, grads = set(), set()
    for entry in conds.values():
        for r in [*entry.readers, *entry.local]:
            readers.add(r)
            grads.update((r.get_attr("then_branch"), r.get_attr("else_branch")))
    for entry in loops.values():
        for r in [*entry.readers, *entry.local]:
            readers.add(r)
            grads.add(r.get_attr("body_grad"))
    for entry in [*conds.values(), *loops.values()]:
        deeper_readers, deeper_grads = _nested_gradients(entry.all_conds(), entry.all_loops())
        readers |= deeper_readers
        grads |= deeper_grads
    return readers, grads


class _Nested:
    """A cond or loop inside a differentiated body or branch whose gradient runs inside the enclosing
    gradient: its forward op, the gradient ops reading its tape (through TapeReads `reads` of the enclosing
    gradient's tape), those reading it in the body itself (`local`: tf.gradients called in the body) and the
    conds and loops nested in it in turn (by branch for a cond, as `_cond_gradients` gives them; of its body
    for a loop, as `_loop_gradients` does)."""

    def __init__(self, op: _ops.Operation, readers: list, reads: list, conds: dict, loops: dict,
                 local: list) -> None:
        self.op, self.readers, self.reads, self.conds, self.loops = op, readers, reads, conds, loops
        self.local = local

    def all_conds(self) -> dict:
        return self.conds if self.op.type in _WHILE_TYPES else {k: v for d in self.conds.values() for k, v in d.items()}

    def all_loops(self) -> dict:
        return self.loops if self.op.type in _WHILE_TYPES else {k: v for d in self.loops.values() for k, v in d.items()}


def _nested_conds(body, grads: list) -> dict | None:
    """The conds inside loop body `body` whose gradients run inside the loop's gradient functions `grads`:
    for each variant value the body records, which has to be the tape of an If of the body that nothing else
    reads, a `_Nested` of that If, the gradient Ifs (in `grads`) reading the tape (through their function's
    TapeRead of it, as their tape input and nowhere else) and those TapeReads. None when a recorded variant is
    anything else but a While's tape (`_nested_loops` takes those), or the cond's own gradient is not of these
    shapes."""
    nested = {}
    for t in body.recorded:
        if t.dtype.base_dtype != _dtypes.variant:
            continue
        fwd = t.op
        if fwd.type in _WHILE_TYPES:
            continue
        if fwd.type not in _IF_TYPES or t is not fwd.outputs[-1]:
            return None
        then_g, else_g = fwd.get_attr("then_branch"), fwd.get_attr("else_branch")
        local = _gradient_ifs(t, then_g, else_g)
        if local is None:
            return None
        readers, reads = [], []
        for g in grads:
            read = getattr(g, "tape_reads", {}).get(t)
            if read is None:
                continue
            reads.append(read)
            found = _gradient_ifs(read, then_g, else_g)
            if found is None:
                return None
            readers += found
        found = _branch_nesting(then_g, else_g, readers + local)
        if found is None:
            return None
        nested[t] = _Nested(fwd, readers, reads, *found, local)
    return nested


def _gradient_ifs(tape: _ops.Tensor, then_g, else_g) -> list | None:
    """The ops reading `tape` (a cond's tape, or a read of it), if they are all gradient Ifs of the cond of
    branches `then_g`/`else_g` taking it as their tape and nowhere else; else None."""
    readers = list(dict.fromkeys(tape.consumers()))
    for r in readers:
        if r.type not in _IF_TYPES or r.inputs[1] is not tape or any(x is tape for x in r.inputs[2:]):
            return None
        pair = (r.get_attr("then_branch"), r.get_attr("else_branch"))
        if getattr(pair[0], "forward", None) is not then_g or getattr(pair[1], "forward", None) is not else_g:
            return None
    return readers


def _gradient_loops(tape: _ops.Tensor, body) -> list | None:
    """The ops reading `tape` (a loop's tape, or a read of it), if they are all WhileGrads of the loop of body
    `body` taking it as their tape and nowhere else; else None."""
    readers = list(dict.fromkeys(tape.consumers()))
    for r in readers:
        if r.type != "WhileGrad" or r.inputs[0] is not tape or any(x is tape for x in r.inputs[1:]):
            return None
        if getattr(r.get_attr("body_grad"), "forward", None) is not body:
            return None
    return readers


def _branch_nesting(then_g, else_g, readers: list) -> tuple[dict, dict] | None:
    """The conds and loops nested in the branches of a cond whose gradient Ifs are `readers`, by branch, if its
    gradient is of the shapes `_plain_gradient` takes; else None."""
    conds, loops, grads = {}, {}, []
    for b, fn in enumerate((then_g, else_g)):
        fn_grads = [r.get_attr("then_branch" if b == 0 else "else_branch") for r in readers]
        grads += fn_grads
        conds[fn], loops[fn] = _nested_conds(fn, fn_grads), _nested_loops(fn, fn_grads)
        if conds[fn] is None or loops[fn] is None:
            return None
    if not _plain_gradient([then_g, else_g], grads, {**conds[then_g], **conds[else_g]},
                           {**loops[then_g], **loops[else_g]}):
        return None
    return conds, loops


def _nested_loops(body, grads: list) -> dict | None:
    """The loops inside loop body `body` whose gradients run inside the loop's gradient functions `grads`:
    for each While tape the body records (which nothing else may read), a `_Nested` of that While, the
    WhileGrads (in `grads`) reading it (through their function's TapeRead of it, as their tape and nowhere
    else) and those TapeReads. None when such a loop's own gradient is not of these shapes."""
    nested = {}
    for t in body.recorded:
        fwd = t.op
        if t.dtype.base_dtype != _dtypes.variant or fwd.type not in _WHILE_TYPES:
            continue
        inner_body = fwd.get_attr("body")
        local = _gradient_loops(t, inner_body)
        if t is not fwd.outputs[-1] or local is None:
            return None
        readers, reads = [], []
        for g in grads:
            read = getattr(g, "tape_reads", {}).get(t)
            if read is None:
                continue
            reads.append(read)
            found = _gradient_loops(read, inner_body)
            if found is None:
                return None
            readers += found
        inner_grads = [r.get_attr("body_grad") for r in readers + local]
        conds, loops = _nested_conds(inner_body, inner_grads), _nested_loops(inner_body, inner_grads)
        if conds is None or loops is None or not _plain_gradient([inner_body], inner_grads, conds, loops):
            return None
        nested[t] = _Nested(fwd, readers, reads, conds, loops, local)
    return nested


def _loop_gradients(op: _ops.Operation) -> tuple[list, dict, dict] | None:
    """The WhileGrad ops reading the tape of While `op`, if they are all that reads it and each is of the
    simple shape `_plain_gradient` takes (conds and plain loops nested in the body included), with the nested
    conds (`_nested_conds`) and loops (`_nested_loops`); else None."""
    tape = op.outputs[-1]
    if any(t is tape for t in getattr(op.graph, "recorded", ())):
        return None
    readers = list(dict.fromkeys(tape.consumers()))
    body = op.get_attr("body")
    grads = []
    for r in readers:
        if r.type != "WhileGrad" or r.inputs[0] is not tape or any(t is tape for t in r.inputs[1:]):
            return None
        grads.append(r.get_attr("body_grad"))
        if getattr(grads[-1], "forward", None) is not body:
            return None
    conds = _nested_conds(body, grads)
    loops = _nested_loops(body, grads)
    if conds is None or loops is None or not _plain_gradient([body], grads, conds, loops):
        return None
    return readers, conds, loops


def _insert_inputs(nd, inputs: list) -> None:
    """Appends data inputs to NodeDef `nd`, before its control inputs."""
    controls = [i for i in nd.input if i.startswith("^")]
    data = [i for i in nd.input if not i.startswith("^")]
    del nd.input[:]
    nd.input.extend(data + inputs + controls)


def _set_loop_types(nd, types: list, shapes: list) -> None:
    nd.attr["T"].CopyFrom(_node_def.attr_value_of("list(type)", types))
    nd.attr["output_shapes"].CopyFrom(_node_def.attr_value_of("list(shape)", shapes))
    if "_output_shapes" in nd.attr:
        nd.attr["_output_shapes"].CopyFrom(_node_def.attr_value_of("list(shape)", shapes))
    if _keeps_tout(nd.op):
        nd.attr["Tout"].CopyFrom(_node_def.attr_value_of("list(type)", types))


def _add_args(fd, types: list, base: str) -> list:
    """Appends one input arg per type to FunctionDef `fd`; returns their names."""
    taken = {a.name for a in fd.signature.input_arg} | {x.name for x in fd.node_def}
    names = []
    for i, t in enumerate(types):
        names.append(_unique(f"{base}_{i}", taken))
        fd.signature.input_arg.add(name=names[-1], type=_dtypes.as_dtype(t).as_datatype_enum)
    return names


def _add_node(fd, name: str, op_type: str, inputs: list, attrs: dict):
    """Adds a node to FunctionDef `fd`, named apart from its nodes and input args."""
    scope = _Scope(fd.node_def)
    scope.taken.update(a.name for a in fd.signature.input_arg)
    return scope.add(name, op_type, inputs, attrs)


def _add_output(fd, ref: str, dtype) -> None:
    taken = {a.name for a in fd.signature.output_arg}
    out = fd.signature.output_arg.add(name=_unique(f"output_{len(taken)}", taken),
                                      type=_dtypes.as_dtype(dtype).as_datatype_enum)
    fd.ret[out.name] = ref


class _LoopTape:
    """How a loop's tape is exported: the loop also counts its iterations and pushes the values its gradient
    reads onto TensorLists, as TensorFlow's while_v2 accumulates them, but for the captured tensors it reads,
    which stay the same: the gradient takes those from the loop's outputs that pass them through.
    `kinds[a]` says what accumulator a is: ("list", element dtype) or ("invariant", dtype); `outputs` are the
    forward While's outputs the gradient takes (the counter, then one per accumulator). `slots[i]` lists the
    accumulators of the body's recorded value i: one for a tensor; for a cond of the body, one per optional it
    returns for its gradient; for a loop of the body, its counter and its accumulators. `inner` maps the
    position of such a nested tape to ("cond", its `_nested_conds` entry, its _Optionals) or ("loop", its
    `_nested_loops` entry, its own _LoopTape)."""

    def __init__(self, kinds: list, outputs: list, slots: list, inner: dict) -> None:
        self.kinds, self.outputs, self.slots, self.inner = kinds, outputs, slots, inner

    def loop_types(self) -> list:
        """The types of the gradient loop's variables that carry the tape: the counter, then the accumulators."""
        return [_dtypes.int32] + [_dtypes.variant if kind == "list" else dtype for kind, dtype in self.kinds]


def _accumulate(nd, op: _ops.Operation, n: int, conds: dict, loops: dict, ex: _Export, scope: _Scope) -> _LoopTape:
    """Forward While NodeDef `nd` (of `op`, in `scope`, already in TensorFlow's form with `n` loop variables
    before its captures) also counts its iterations and pushes, at each one, every value its body records
    onto a TensorList (a capture it records stays in its loop variable). A cond of the body whose gradient
    runs in the loop's (`conds`) is written as cond_v2 writes it and its optionals are pushed in place of its
    tape; a loop of the body (`loops`) is accumulated so in turn, and its counter and accumulators are
    recorded in place of its tape."""
    i32, variant = _dtypes.int32, _dtypes.variant
    body_graph = op.get_attr("body")
    body_fd = ex.bodies[nd.attr["body"].func.name]
    cond_fd = ex.bodies[nd.attr["cond"].func.name]
    body_args = [a.name for a in body_fd.signature.input_arg]
    arg_of = dict(zip(body_graph.inputs, body_args))
    captures = {name: index for index, name in enumerate(body_args) if index >= n}
    values: list = []  # (ref in the body, dtype) of each recorded value
    slots: list = []
    inner: dict = {}
    for pos, t in enumerate(body_graph.recorded):
        if t in conds:
            fwd = conds[t].op
            optionals = _add_optionals(_function_node(body_fd, fwd.name), fwd, ex, conds[t].conds, conds[t].loops)
            ex.rewritten.add(fwd.name)
            n_out = len(fwd.get_attr("Tout"))
            inner[pos] = ("cond", conds[t], optionals)
            refs = [(f"{fwd.name}:output:{n_out + j}", variant) for j in range(optionals.total)]
            for r in conds[t].local:
                _take_optionals(_function_node(body_fd, r.name), [ref for ref, _ in refs], ex, optionals)
        elif t in loops:
            fwd = loops[t].op
            fwd_nd = _function_node(body_fd, fwd.name)
            ex.rewritten.add(fwd.name)
            own = _accumulate(fwd_nd, fwd, _while_in_tensorflow_form(fwd_nd, fwd, ex), loops[t].conds,
                              loops[t].loops, ex, _Scope(body_fd.node_def, body_fd))
            inner[pos] = ("loop", loops[t], own)
            for r in loops[t].local:
                _gradient_loop(_function_node(body_fd, r.name), r, own, ex,
                               [f"{fwd.name}:output:{index}" for index in own.outputs])
            sources = [a for a in fwd_nd.input if not a.startswith("^")]
            refs = []
            for index, dtype in zip(own.outputs, own.loop_types()):
                # a capture of the inner loop is its input in the body, maybe a capture of this loop in turn
                refs.append((f"{fwd.name}:output:{index}" if index >= len(sources) or dtype == variant
                             or index == own.outputs[0] else sources[index], dtype))
        else:
            refs = [(arg_of.get(t) or _func_graph.function_tensor_ref(t), t.dtype.base_dtype)]
        slots.append(list(range(len(values), len(values) + len(refs))))
        values.extend(refs)
    kinds = [("invariant", dtype) if ref in captures else ("list", dtype) for ref, dtype in values]
    pushed = [(ref, dtype) for (ref, dtype), (kind, _) in zip(values, kinds) if kind == "list"]
    m = len(nd.attr["T"].list.type)
    outputs, j = [m], 0
    for ref, (kind, _) in zip((ref for ref, _ in values), kinds):
        if kind == "list":
            j += 1
            outputs.append(m + j)
        else:
            outputs.append(captures[ref])
    zero = scope.add(f"{op.name}/iterations", "Const", [], _int32_constant(0))
    # -1: an unknown element shape, and no limit to the number of elements
    unknown = scope.ref(scope.add(f"{op.name}/unknown", "Const", [], _int32_constant(-1)).name, "output", 0)
    starts = []
    for _, dtype in pushed:
        lst = scope.add(f"{op.name}/accumulator", "EmptyTensorList", [unknown, unknown],
                        {"element_dtype": ("type", dtype), "shape_type": ("type", i32)})
        starts.append(scope.ref(lst.name, "handle", 0))
    _insert_inputs(nd, [scope.ref(zero.name, "output", 0)] + starts)
    extra = [i32] + [variant] * len(pushed)
    types = [_dtypes.as_dtype(t) for t in nd.attr["T"].list.type]
    shapes = _node_def.python_attr_of("list(shape)", nd.attr["output_shapes"])
    _set_loop_types(nd, types + extra, shapes + [_shape.TensorShape([])] * len(extra))
    _add_args(cond_fd, extra, "accumulator")
    it, *lists = _add_args(body_fd, extra, "accumulator")
    one = _add_node(body_fd, "iteration_step", "Const", [], _int32_constant(1))
    step = _add_node(body_fd, "next_iteration", "Add", [it, f"{one.name}:output:0"], {"T": ("type", i32)})
    _add_output(body_fd, f"{step.name}:z:0", i32)
    for lst, (ref, dtype) in zip(lists, pushed):
        push = _add_node(body_fd, "accumulate", "TensorListPushBack", [lst, ref], {"element_dtype": ("type", dtype)})
        _add_output(body_fd, f"{push.name}:output_handle:0", variant)
    if _func_graph.RECORDED_ATTR in body_fd.attr:
        del body_fd.attr[_func_graph.RECORDED_ATTR]
    return _LoopTape(kinds, outputs, slots, inner)


def _function_node(fd, name: str):
    for node in fd.node_def:
        if node.name == name:
            return node
    raise ValueError(f"Function '{fd.signature.name}' has no node '{name}'")


def _np_scalar(value: int) -> np.ndarray:
    return np.array(value, dtype=np.int32)


def _int32_constant(value: int) -> dict:
    """The attrs of an int32 scalar Const."""
    return {"dtype": ("type", _dtypes.int32), "value": ("tensor", _np_scalar(value))}


def _gradient_loop(gnd, grad: _ops.Operation, tape: _LoopTape, ex: _Export, accumulators: list) -> None:
    """WhileGrad NodeDef `gnd` (of `grad`) as a While over new cond and body functions that counts the forward
    loop's iterations back down: it takes the forward loop's counter and lists (the refs `accumulators`) where
    tfmini passes its tape, and its body is
    the body gradient's nodes with each TapeRead become a TensorListGetItem of the iteration's value (kept in
    the list, for other gradients). A nested cond's tape becomes the items of its optionals, which its gradient
    Ifs take; a nested loop's, the items of its count and lists, which its gradient loops take in turn."""
    data = [i for i in gnd.input if not i.startswith("^")]
    controls = [i for i in gnd.input if i.startswith("^")]
    tape_types = tape.loop_types()
    grad_types = [t.dtype.base_dtype for t in grad.inputs[1:]]
    types = grad_types + tape_types
    shapes = [t.shape for t in grad.outputs] + [_shape.TensorShape([])] + [
        _shape.TensorShape([] if kind == "list" else None) for kind, _ in tape.kinds]
    key = (grad.get_attr("body_grad").name, id(tape))
    if key not in ex.gradient_loops:
        ex.gradient_loops[key] = _gradient_loop_functions(grad, tape, ex)
    cond_name, body_name = ex.gradient_loops[key]
    gnd.op = "While"
    with_shapes = "_output_shapes" in gnd.attr
    gnd.ClearField("attr")
    if with_shapes:
        gnd.attr["_output_shapes"].list.SetInParent()
    del gnd.input[:]
    gnd.input.extend(data[1:] + accumulators + controls)
    gnd.attr["cond"].func.name = cond_name
    gnd.attr["body"].func.name = body_name
    gnd.attr["parallel_iterations"].i = 10
    _set_loop_types(gnd, types, shapes)


def _gradient_loop_functions(grad: _ops.Operation, tape: _LoopTape, ex: _Export) -> tuple[str, str]:
    """The cond and body functions of the While that WhileGrad `grad` becomes (see `_gradient_loop`)."""
    i32 = _dtypes.int32
    n_grads, n_sums = len(grad.get_attr("Tgrad")), len(grad.get_attr("Tsum"))
    tape_types = tape.loop_types()
    grad_types = [t.dtype.base_dtype for t in grad.inputs[1:]]
    types = grad_types + tape_types
    old = ex.bodies[grad.get_attr("body_grad").name]

    cond = function_pb2.FunctionDef()
    cond.signature.name = _func_graph.unique_function_name(f"{grad.name}_cond")
    args = _add_args(cond, types, "arg")
    zero = _add_node(cond, "zero", "Const", [], {"dtype": ("type", i32), "value": ("tensor", _np_scalar(0))})
    more = _add_node(cond, "more", "Greater", [args[n_grads + n_sums], f"{zero.name}:output:0"], {"T": ("type", i32)})
    _add_output(cond, f"{more.name}:z:0", _dtypes.bool_)

    body = function_pb2.FunctionDef()
    body.CopyFrom(old)
    body.signature.name = _func_graph.unique_function_name(f"{grad.name}_body")
    tape_arg = body.signature.input_arg[0].name
    grad_args = list(body.signature.input_arg)[1:]
    body.signature.ClearField("input_arg")
    body.signature.input_arg.extend(grad_args)
    body.signature.ClearField("output_arg")
    body.ClearField("ret")
    body.ClearField("attr")
    sums = _add_args(body, grad_types[n_grads:], "sum")
    it, *accumulated = _add_args(body, tape_types, "accumulator")
    one = _add_node(body, "iteration_step", "Const", [], _int32_constant(1))
    back = _add_node(body, "previous_iteration", "Sub", [it, f"{one.name}:output:0"], {"T": ("type", i32)})
    back = f"{back.name}:z:0"
    shape = f"{_add_node(body, 'unknown_shape', 'Const', [], _int32_constant(-1)).name}:output:0"
    nested_reads, from_lists, invariant = [], set(), set()
    for node in body.node_def:
        if node.op == "TapeRead" and list(node.input) == [tape_arg]:
            index, dtype = node.attr["index"].i, node.attr["dtype"].type
            if index in tape.inner:
                nested_reads.append((node.name, index))
                continue
            (slot,) = tape.slots[index]
            del node.input[:]
            node.ClearField("attr")
            if tape.kinds[slot][0] == "list":
                node.op = "TensorListGetItem"
                node.input.extend([accumulated[slot], back, shape])
                node.attr["element_dtype"].type = dtype
                from_lists.add(node.name)
            else:
                node.op = "Identity"
                node.input.append(accumulated[slot])
                node.attr["T"].type = dtype
                invariant.add(node.name)
    _rename_output_arg(body, from_lists, "value", "item")
    _rename_output_arg(body, invariant, "value", "output")
    for name, index in nested_reads:
        kind, entry, own = tape.inner[index]
        if kind == "cond":
            _read_nested_optionals(body, name, (entry, own), [accumulated[slot] for slot in tape.slots[index]],
                                   back, ex)
            continue
        items = []
        for slot in tape.slots[index]:
            if tape.kinds[slot][0] == "list":
                item = _add_node(body, "accumulated", "TensorListGetItem", [accumulated[slot], back, shape],
                                 {"element_dtype": ("type", tape.kinds[slot][1])})
                items.append(f"{item.name}:item:0")
            else:
                items.append(accumulated[slot])
        value = f"{name}:value:0"
        readers = {r.name: r for r in entry.readers}
        for node in list(body.node_def):
            if node.name in readers and node.input and node.input[0] == value:
                _gradient_loop(node, readers[node.name], own, ex, items)
        _remove_node(body, name)
    outs = [old.ret[a.name] for a in old.signature.output_arg]
    for j, t in enumerate(grad_types[:n_grads]):
        _add_output(body, outs[j], t)
    for j, (total, t) in enumerate(zip(sums, grad_types[n_grads:])):
        added = _add_node(body, "sum", "Add", [total, outs[n_grads + j]], {"T": ("type", t)})
        _add_output(body, f"{added.name}:z:0", t)
    _add_output(body, back, i32)
    for arg, dtype in zip(accumulated, tape_types[1:]):
        _add_output(body, arg, dtype)
    ex.add_function(cond)
    ex.add_function(body)
    ex.retired.add(old.signature.name)
    return cond.signature.name, body.signature.name


def _rename_output_arg(fd, nodes: set, old: str, new: str) -> None:
    """The inputs and returns of `fd` reading output arg `old` of `nodes` read their output arg `new`."""
    def renamed(ref: str) -> str:
        node, _, rest = ref.partition(":")
        return f"{node}:{new}:{rest.partition(':')[2]}" if node in nodes and rest.startswith(f"{old}:") else ref

    for node in fd.node_def:
        for i, ref in enumerate(node.input):
            node.input[i] = renamed(ref)
    for key, ref in fd.ret.items():
        fd.ret[key] = renamed(ref)


def _unique(name: str, taken: set) -> str:
    out, i = name, 0
    while out in taken:
        i += 1
        out = f"{name}_{i}"
    taken.add(out)
    return out


def _tensor_ref(name: str, index: int) -> str:
    return f"{name}:{index}" if index else name


class _Optionals:
    """The optionals a forward If returns for its gradient: one per value its branches recorded, then's first
    (`offsets` says where each branch's start), a cond nested in a branch taking one per optional of its own
    in place of its tape, a loop nested in a branch one per loop variable its gradient takes (`_LoopTape`).
    `slots[b][i]` lists the optionals of branch b's recorded value i, `inner[b]` maps the position of a nested
    tape to ("cond", its `_nested_conds` entry, its own _Optionals) or ("loop", its `_nested_loops` entry, its
    _LoopTape)."""

    def __init__(self, total: int, offsets: tuple, slots: list, inner: list) -> None:
        self.total, self.offsets, self.slots, self.inner = total, offsets, slots, inner


def _add_optionals(nd, op: _ops.Operation, ex: _Export, nested: dict | None = None,
                   loops: dict | None = None) -> _Optionals:
    """Forward If NodeDef `nd` (of `op`) returns, after its outputs, one optional per value its branches
    recorded (then's, then else's): OptionalFromValue in the branch that recorded it, OptionalNone in the
    other. A cond `nested` in a branch is written so first, and its optionals are recorded in its tape's place;
    a loop in a branch (`loops`) accumulates its values (`_accumulate`), and what its gradient takes is."""
    nested, loops, bodies = nested or {}, loops or {}, ex.bodies
    branches = (op.get_attr("then_branch"), op.get_attr("else_branch"))
    entries: list = [[], []]  # per branch: (ref in the branch, dtype) of each optional's value
    slots: list = [[], []]
    inner: list = [{}, {}]
    for b, fn in enumerate(branches):
        fd = bodies[fn.name]
        arg_of = {t: a.name for t, a in zip(fn.inputs, fd.signature.input_arg)}
        for pos, t in enumerate(fn.recorded):
            if t in nested.get(fn, {}):
                inner_if = nested[fn][t].op
                own = _add_optionals(_function_node(fd, inner_if.name), inner_if, ex, nested[fn][t].conds,
                                     nested[fn][t].loops)
                inner[b][pos] = ("cond", nested[fn][t], own)
                n_inner = len(inner_if.get_attr("Tout"))
                refs = [(f"{inner_if.name}:output:{n_inner + j}", _dtypes.variant) for j in range(own.total)]
                for r in nested[fn][t].local:
                    _take_optionals(_function_node(fd, r.name), [ref for ref, _ in refs], ex, own)
            elif t in loops.get(fn, {}):
                fwd = loops[fn][t].op
                fwd_nd = _function_node(fd, fwd.name)
                ex.rewritten.add(fwd.name)
                tape = _accumulate(fwd_nd, fwd, _while_in_tensorflow_form(fwd_nd, fwd, ex), loops[fn][t].conds,
                                   loops[fn][t].loops, ex, _Scope(fd.node_def, fd))
                inner[b][pos] = ("loop", loops[fn][t], tape)
                for r in loops[fn][t].local:
                    _gradient_loop(_function_node(fd, r.name), r, tape, ex,
                                   [f"{fwd.name}:output:{index}" for index in tape.outputs])
                refs = [(f"{fwd.name}:output:{index}", dtype) for index, dtype in zip(tape.outputs, tape.loop_types())]
            else:
                refs = [(arg_of.get(t) or _func_graph.function_tensor_ref(t), t.dtype.base_dtype)]
            slots[b].append(list(range(len(entries[b]), len(entries[b]) + len(refs))))
            entries[b].extend(refs)
    offsets = (0, len(entries[0]))
    total = len(entries[0]) + len(entries[1])
    n = len(op.get_attr("Tout"))
    for b, fn in enumerate(branches):
        fd = bodies[fn.name]
        taken = {x.name for x in fd.node_def} | {a.name for a in fd.signature.input_arg}
        for k in range(total):
            mine = offsets[b] <= k < offsets[b] + len(entries[b])
            node = fd.node_def.add(name=_unique(f"optional_{k}", taken),
                                   op="OptionalFromValue" if mine else "OptionalNone")
            if mine:
                ref, dtype = entries[b][k - offsets[b]]
                node.input.append(ref)
                node.attr["Toutput_types"].CopyFrom(_node_def.attr_value_of("list(type)", [dtype]))
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
    return _Optionals(total, offsets, slots, inner)


def _take_optionals(rnd, refs: list, ex: _Export, optionals: _Optionals) -> None:
    """Gradient If NodeDef `rnd` takes the optionals `refs` where it took the tape; its branches read them."""
    rnd.input[1:2] = refs
    tin = list(rnd.attr["Tin"].list.type)
    rnd.attr["Tin"].list.ClearField("type")
    rnd.attr["Tin"].list.type.extend([_VARIANT] * len(refs) + tin[1:])
    for b, name in enumerate((rnd.attr["then_branch"].func.name, rnd.attr["else_branch"].func.name)):
        if ("branch", name) not in ex.rewritten:  # a branch two gradient Ifs share is rewritten once
            ex.rewritten.add(("branch", name))
            _read_optionals(ex.bodies[name], optionals, b, ex)


def _export_cond_gradient(nd, op: _ops.Operation, readers: list, nested: dict, loops: dict, ex: _Export,
                          by_name: dict) -> None:
    """Forward If NodeDef `nd` returns, after its outputs, one optional per value its branches recorded
    (`_add_optionals`); each gradient If takes them in place of the tape and reads them with OptionalGetValue."""
    optionals = _add_optionals(nd, op, ex, nested, loops)
    n = len(op.get_attr("Tout"))
    in_function = isinstance(op.graph, _func_graph.FuncGraph)
    refs = [f"{op.name}:output:{n + k}" if in_function else _tensor_ref(op.name, n + k)
            for k in range(optionals.total)]
    for reader in readers:
        _take_optionals(by_name[reader.name], refs, ex, optionals)


def _read_nested_optionals(body, tape_read: str, nested: tuple, lists: list, index: str, ex: _Export) -> None:
    """In gradient loop body `body`: the TapeRead node `tape_read` of a nested cond's tape becomes one read per
    optional of that cond (from the TensorLists `lists`, at iteration `index`), which the cond's gradient Ifs
    take in place of the tape; the TapeRead goes."""
    entry, optionals = nested
    readers = entry.readers
    shape = _add_node(body, "unknown_shape", "Const", [], {"dtype": ("type", _dtypes.int32),
                                                           "value": ("tensor", _np_scalar(-1))})
    refs = []
    for lst in lists:
        read = _add_node(body, "accumulated_optional", "TensorListGetItem", [lst, index, f"{shape.name}:output:0"],
                         {"element_dtype": ("type", _dtypes.variant)})
        refs.append(f"{read.name}:item:0")
    value = f"{tape_read}:value:0"
    names = {r.name for r in readers}
    for node in body.node_def:
        if node.name in names and len(node.input) > 1 and node.input[1] == value:
            _take_optionals(node, refs, ex, optionals)
    _remove_node(body, tape_read)


def _remove_node(fd, name: str) -> None:
    for i, node in enumerate(fd.node_def):
        if node.name == name:
            del fd.node_def[i]
            return


def _read_optionals(fd, optionals: _Optionals, b: int, ex: _Export) -> None:
    """Gradient branch `fd` (of branch `b` of the forward If) takes the forward If's optionals where it took the
    tape, and reads recorded value i (its TapeRead index) from the optionals of its slot; a nested cond's tape
    becomes the optionals the nested cond's gradient Ifs take, a nested loop's the values its gradient loops
    take."""
    args = list(fd.signature.input_arg)
    tape = args[0].name
    taken = {x.name for x in fd.node_def} | {a.name for a in args[1:]}
    names = [_unique(f"optional_{k}", taken) for k in range(optionals.total)]
    fd.signature.ClearField("input_arg")
    for name in names:
        fd.signature.input_arg.add(name=name, type=_VARIANT)
    fd.signature.input_arg.extend(args[1:])
    offset, slots, inner = optionals.offsets[b], optionals.slots[b], optionals.inner[b]
    renamed, nested_reads = set(), []
    for node in fd.node_def:
        if node.op != "TapeRead" or list(node.input) != [tape]:
            continue
        index, dtype = node.attr["index"].i, node.attr["dtype"].type
        if index in inner:
            nested_reads.append((node.name, index))
            continue
        (slot,) = slots[index]
        shape = type(node.attr["shape"].shape)()
        shape.CopyFrom(node.attr["shape"].shape)
        node.op = "OptionalGetValue"
        node.input[0] = names[offset + slot]
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
    for tape_read, index in nested_reads:
        kind, entry, own = inner[index]
        readers = entry.readers
        if kind == "cond":
            types, dims = [_dtypes.variant] * len(slots[index]), [[]] * len(slots[index])
        else:  # the counter and the lists are scalars; the captures the loop passes through, of any shape
            types, dims = own.loop_types(), [[]] + [[] if k == "list" else None for k, _ in own.kinds]
        refs = []
        for slot, dtype, shape in zip(slots[index], types, dims):
            value = _add_node(fd, "nested_optional", "OptionalGetValue", [names[offset + slot]],
                              {"output_types": ("list(type)", [dtype]),
                               "output_shapes": ("list(shape)", [_shape.TensorShape(shape)])})
            refs.append(f"{value.name}:components:0")
        read = f"{tape_read}:value:0"
        by_name = {r.name: r for r in readers}
        for node in list(fd.node_def):
            if kind == "cond" and node.name in by_name and len(node.input) > 1 and node.input[1] == read:
                _take_optionals(node, refs, ex, own)
            elif kind == "loop" and node.name in by_name and node.input and node.input[0] == read:
                _gradient_loop(node, by_name[node.name], own, ex, refs)
        _remove_node(fd, tape_read)


_EXPORTERS = {"While": _export_while, "StatelessWhile": _export_while, "If": _export_if, "StatelessIf": _export_if}


def _export_nodes(nodes, graph: _ops.Graph, ex: _Export, fd=None) -> None:
    """Exports the functional ops among `nodes` (of `graph`; the body of function `fd` if given)."""
    scope = _Scope(nodes, fd)
    for nd in list(nodes):
        if nd.op in _EXPORTERS:
            op = graph._nodes_by_name.get(nd.name)
            if op is not None and op.type == nd.op:
                _EXPORTERS[nd.op](nd, op, ex, scope)


def finish_graph_def(graph: _ops.Graph, graph_def) -> None:
    """Puts the control flow of `graph_def` (just exported from `graph`) into TensorFlow's form, in place."""
    if graph_def.library.function:
        ex = _Export(graph_def)
        _export_nodes(graph_def.node, graph, ex)
        graphs = {fn.name: fn for fn in _func_graph.functions_used(graph.get_operations())}
        for fd in list(graph_def.library.function):
            fn = graphs.get(fd.signature.name)
            if fn is not None:
                _export_nodes(fd.node_def, fn, ex, fd)
        ex.remove_retired(graph_def)
    _drop_unread_handle_constants(graph_def.node, ())
    for fd in graph_def.library.function:
        _drop_unread_handle_constants(fd.node_def, fd.ret.values())


_HANDLE_TYPES = (_VARIANT, _dtypes.resource.as_datatype_enum)


def _drop_unread_handle_constants(nodes, returns) -> None:
    """Removes from `nodes` (of the graph, or of a function returning `returns`) the variant and resource
    constants nothing reads: the zeros a gradient builds for a tape or handle output and leaves unused, which
    TensorFlow cannot hold (a variant or resource tensor has no value a GraphDef can carry; TensorFlow also
    compares a library's functions by their attrs, and a variant tensor attr never compares equal)."""
    handles = [nd for nd in nodes if nd.op == "Const" and "dtype" in nd.attr and nd.attr["dtype"].type in _HANDLE_TYPES]
    if not handles:
        return
    read = {ref.lstrip("^").partition(":")[0] for nd in nodes for ref in nd.input}
    read |= {ref.partition(":")[0] for ref in returns}
    unread = {nd.name for nd in handles if nd.name not in read}
    if unread:
        kept = [type(nd)() for nd in nodes if nd.name not in unread]
        for new, nd in zip(kept, [nd for nd in nodes if nd.name not in unread]):
            new.CopyFrom(nd)
        del nodes[:]
        nodes.extend(kept)


_ops.register_graph_def_export("finish_graph_def", finish_graph_def)
