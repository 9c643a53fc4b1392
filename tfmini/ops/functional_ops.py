"""Functional control flow: the `If` and `While` ops, whose attrs hold `FuncGraph` bodies that their kernels
run as session-compiled sub-plans, and their gradients (`If` over the branches' gradient functions, and
`WhileGrad`, which walks the recorded iterations backwards). Also the `nest` helpers that flatten and rebuild
the nested structures (lists, tuples, namedtuples, dicts) that tf.cond and tf.while_loop accept.

A functional op's last output is its *tape*: the values of the body tensors its gradient needs
(`FuncGraph.recorded`), recorded while it ran, so the gradient never runs the forward body again.
The user-facing wrappers (tf.cond, tf.case, tf.while_loop) live in control_flow_ops, and the higher-order
functions built on tf.while_loop (tf.foldl, tf.foldr, tf.scan, tf.map_fn) in higher_order_ops."""

from __future__ import annotations

import collections.abc
from collections.abc import Callable, Sequence

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.func_graph import FuncGraph, GradientFuncGraph, unique_function_name
from tfmini.framework.registry import REQUIRED, RegisterGradient, apply_op, register_op
from tfmini.ops import array_ops, gradients_impl, state_ops


# ----------------------------------------------------------------------------------------------------------
# nest: flatten and rebuild nested structures
# ----------------------------------------------------------------------------------------------------------
def is_sequence(x) -> bool:
    """Lists, tuples (incl. namedtuples) and mappings are structure; anything else (tensors, strings,
    numbers) is a leaf."""
    return isinstance(x, (list, tuple, collections.abc.Mapping))


def children(x) -> list:
    """The direct children of a structure: a mapping's values in sorted key order, else its items."""
    if isinstance(x, collections.abc.Mapping):
        return [x[k] for k in sorted(x)]
    return list(x)


def flatten(structure) -> list:
    """The leaves of `structure`, depth first; mappings in sorted key order."""
    if not is_sequence(structure):
        return [structure]
    out: list = []
    for child in children(structure):
        out.extend(flatten(child))
    return out


def rebuild(like, values: list):
    """A structure of the same kind as `like` (mapping, namedtuple, tuple or list) over `values`, its new
    children in `children` order."""
    if isinstance(like, collections.abc.Mapping):
        by_key = dict(zip(sorted(like), values))
        return type(like)((k, by_key[k]) for k in like)
    if isinstance(like, tuple) and hasattr(like, "_fields"):
        return type(like)(*values)
    return type(like)(values)


def pack_sequence_as(structure, flat_sequence: Sequence):
    """`flat_sequence` rebuilt in the shape of `structure` (the inverse of `flatten`)."""
    flat_sequence = list(flat_sequence)
    n = len(flatten(structure))
    if n != len(flat_sequence):
        raise ValueError(
            f"Could not pack sequence. Structure had {n} elements, but flat_sequence had {len(flat_sequence)} "
            "elements."
        )
    if not is_sequence(structure):
        return flat_sequence[0]

    def pack(like, pos: int):
        if not is_sequence(like):
            return flat_sequence[pos], pos + 1
        values = []
        for child in children(like):
            v, pos = pack(child, pos)
            values.append(v)
        return rebuild(like, values), pos

    return pack(structure, 0)[0]


def map_structure(fn: Callable, structure):
    return pack_sequence_as(structure, [fn(x) for x in flatten(structure)])


def assert_same_structure(first, second, check_types: bool = True) -> None:
    """Raises ValueError if the two structures nest differently (TypeError if `check_types` and a sequence
    type differs), as tf.nest does."""

    def check(a, b) -> None:
        if is_sequence(a) != is_sequence(b) or (is_sequence(a) and len(a) != len(b)):
            raise ValueError(
                "The two structures don't have the same nested structure.\n\n"
                f"First structure: {first!r}\n\nSecond structure: {second!r}"
            )
        if not is_sequence(a):
            return
        if check_types and type(a) is not type(b):
            raise TypeError(
                f"The two structures don't have the same sequence type. First structure has type {type(a)}, "
                f"while second structure has type {type(b)}."
            )
        if isinstance(a, collections.abc.Mapping) and set(a) != set(b):
            raise ValueError(
                f"The two dictionaries don't have the same set of keys. First structure has keys {sorted(a)}, "
                f"while second structure has keys {sorted(b)}."
            )
        for x, y in zip(children(a), children(b)):
            check(x, y)

    check(first, second)


# ----------------------------------------------------------------------------------------------------------
# Helpers shared by the functional ops
# ----------------------------------------------------------------------------------------------------------
def differentiable(dtype: _dt.DType) -> bool:
    return dtype.base_dtype.is_floating or dtype.base_dtype.is_complex


def _differentiable_input(t: _ops.Tensor) -> bool:
    """Whether a functional op's gradient may flow to input `t`: a float tensor, or a resource variable's
    handle (the gradient of the variable's reads in the body, as TF's tf.gradients gives for a handle)."""
    return differentiable(t.dtype) or t.dtype.base_dtype == _dt.resource


def _value_shape(t: _ops.Tensor) -> _shape.TensorShape:
    """The shape of the gradient of input `t`: its own, or the variable's for a resource handle."""
    return state_ops.handle_shape(t) if t.dtype.base_dtype == _dt.resource else t.shape


def _zero_gradient(t: _ops.Tensor, dtype: _dt.DType) -> _ops.Tensor:
    """Zeros standing for a missing gradient of `t` (of the variable's shape for a resource handle)."""
    if t.dtype.base_dtype == _dt.resource:
        return array_ops.zeros(apply_op("VariableShape", [t]).outputs[0], dtype=dtype)
    return array_ops.zeros_like(t)


def _dense(g) -> _ops.Tensor:
    """A gradient as a dense Tensor (gradient functions may return IndexedSlices)."""
    return g if isinstance(g, _ops.Tensor) else _ops.convert_to_tensor(g)


def most_specific_compatible_shape(a: _shape.TensorShape, b: _shape.TensorShape) -> _shape.TensorShape:
    """The most specific shape that both `a` and `b` are instances of."""
    if a.ndims is None or b.ndims is None or a.ndims != b.ndims:
        return _shape.unknown_shape()
    return _shape.TensorShape([x if x == y else None for x, y in zip(a.as_list(), b.as_list())])


def body_outputs(graph: FuncGraph, values: Sequence) -> list[_ops.Tensor]:
    """Inside `graph`, each of `values` as a tensor of `graph`: an identity, so outer tensors are captured,
    refs are read and one tensor returned twice still gives two outputs."""
    with graph.as_default():
        return [array_ops.identity(_ops.convert_to_tensor(v)) for v in values]


def _inputs_with_captures(explicit: Sequence[_ops.Tensor], graphs: Sequence[FuncGraph]) -> list[_ops.Tensor]:
    """The input list of a functional op over `graphs`: `explicit` (which each graph's `inputs` already
    stands for), then every tensor any of the graphs captured. Each graph captures all of them, so the
    graphs share one signature, and gets the placeholders appended to its `inputs` in that order."""
    keys: list[_ops.Tensor] = []
    for g in graphs:
        for k in g.captures:
            if k not in keys:
                keys.append(k)
    for g in graphs:
        for k in keys:
            g.capture(k)
        g.inputs.extend(g.captures[k] for k in keys)
    return list(explicit) + [graphs[0].capture_source(k) for k in keys]


def _control_captures(graphs: Sequence[FuncGraph]) -> list[_ops.Operation]:
    out: list[_ops.Operation] = []
    for g in graphs:
        out.extend(op for op in g.control_captures if op not in out)
    return out


class _BodyRunner:
    """A FuncGraph compiled (on first use) into a sub-plan of one session: feeds its `inputs`, fetches its
    `outputs` followed by the tensors it must record for a gradient."""

    __slots__ = ("_ctx", "_graph", "_recorded", "_run", "n_outputs")

    def __init__(self, ctx, graph: FuncGraph, record: bool = True) -> None:
        self._ctx = ctx
        self._graph = graph
        # The list as it is when the plan is built: gradients built later bump the graph version, so the
        # outer plan (and with it this runner) is rebuilt with their additions.
        self._recorded = list(graph.recorded) if record else []
        self._run = None
        self.n_outputs = len(graph.outputs)

    def __call__(self, inputs: list) -> list:
        run = self._run
        if run is None:
            run = self._run = self._ctx.compile_subgraph(self._graph.outputs + self._recorded, self._graph.inputs)
        return run(inputs)


# ----------------------------------------------------------------------------------------------------------
# TapeRead: a recorded forward value, inside a gradient function
# ----------------------------------------------------------------------------------------------------------
@register_op(
    "TapeRead",
    inputs=["tape: variant"],
    outputs=["value: dtype"],
    attrs={"index": ("int", REQUIRED), "dtype": ("type", REQUIRED), "shape": ("shape", _shape.unknown_shape())},
    shape=lambda op: op.get_attr("shape"),
    doc="The value a functional op recorded for one tensor of its body (see GradientFuncGraph).",
)
def _tape_read(tape, *, index):
    return tape[index]


# TapeRead deliberately has no gradient: a second derivative through control flow would have to
# differentiate the recorded forward values, which this design does not support; tf.gradients then raises
# LookupError instead of silently returning a partial answer.


# ----------------------------------------------------------------------------------------------------------
# If
# ----------------------------------------------------------------------------------------------------------
def _type_names(types) -> str:
    return "[" + ", ".join(_dt.as_dtype(t).base_dtype.name for t in types) + "]"


def _function_name(fn: FuncGraph) -> str:
    if fn.imported_from is None:
        return f"'{fn.name}'"
    return f"'{fn.imported_from}' (imported as '{fn.name}')"


def _check_function(op: _ops.Operation, attr: str, takes, returns, returns_attr: str) -> None:
    """Function attr `attr` of `op` must take tensors of the types `takes` (what the op passes it) and return
    tensors of the types `returns` (named by attr `returns_attr`), as TF checks a functional op's functions
    when it is built or imported (ValueError naming the function)."""
    fn = op.get_attr(attr)
    took = [t.dtype.base_dtype for t in fn.inputs]
    gave = [t.dtype.base_dtype for t in fn.outputs]
    expected_in = [_dt.as_dtype(t).base_dtype for t in takes]
    if took != expected_in:
        raise ValueError(f"{attr} function {_function_name(fn)} takes input types {_type_names(took)}, but the op "
                         f"passes it {_type_names(expected_in)}")
    if gave != [_dt.as_dtype(t).base_dtype for t in returns]:
        raise ValueError(f"{attr} function {_function_name(fn)} returns output types {_type_names(gave)}, but the op's "
                         f"{returns_attr} is {_type_names(returns)}")


def _if_shapes(op: _ops.Operation) -> list:
    """Checks both branches against Tin and Tout; then the output shapes and the tape."""
    tin, tout = op.get_attr("Tin"), op.get_attr("Tout")
    for branch in ("then_branch", "else_branch"):
        _check_function(op, branch, tin, tout, "Tout")
    return _functional_op_shapes(op)


def _loop_var_types(op: _ops.Operation) -> list:
    """The types of a While's loop variables: `Tout` when given (tfmini's form, whose other inputs are captured
    tensors the body reads), else every input (TensorFlow's form, whose body passes captures through)."""
    return op.get_attr("Tout") or op.get_attr("T")


def _while_shapes(op: _ops.Operation) -> list:
    """Checks that the loop variables Tout lead the inputs T, that cond takes T and returns one value and that
    body takes T and returns the loop variables; then the output shapes (every input's: a captured tensor
    comes out as it went in) and the tape."""
    t, tout = op.get_attr("T"), _loop_var_types(op)
    if [_dt.as_dtype(x).base_dtype for x in t[:len(tout)]] != [_dt.as_dtype(x).base_dtype for x in tout]:
        raise ValueError(f"the loop variable types Tout {_type_names(tout)} are not the first inputs T "
                         f"{_type_names(t)}")
    cond = op.get_attr("cond")
    if len(cond.outputs) != 1:
        raise ValueError(f"cond function {_function_name(cond)} must return one value (the loop's condition), "
                         f"but returns {len(cond.outputs)}")
    _check_function(op, "cond", t, [cond.outputs[0].dtype], "condition")
    _check_function(op, "body", t, tout, "Tout" if op.get_attr("Tout") else "T")
    shapes = _functional_op_shapes(op, len(tout))[:-1]
    return shapes + [t.shape for t in op.inputs[len(shapes):]] + [_shape.TensorShape([])]


def _functional_op_shapes(op: _ops.Operation, n: int | None = None) -> list:
    """The `output_shapes` attr for the first `n` outputs (Tout's; unknown where missing, e.g. in an imported
    graph), then the scalar tape."""
    shapes = list(op.get_attr("output_shapes"))
    n = len(op.get_attr("Tout")) if n is None else n
    shapes += [None] * (n - len(shapes))
    return shapes[:n] + [_shape.TensorShape([])]


def _if_factory(op: _ops.Operation, ctx) -> Callable:
    """Runs only the taken branch; returns its outputs and its tape."""
    branches = (_BodyRunner(ctx, op.get_attr("else_branch")), _BodyRunner(ctx, op.get_attr("then_branch")))

    def run_if(pred, *inputs):
        if np.ndim(pred) != 0:
            raise _invalid(f"The predicate of If must be a scalar, got shape {np.shape(pred)}")
        branch = branches[1 if pred else 0]
        values = branch(list(inputs))
        n = branch.n_outputs
        return (*values[:n], tuple(values[n:]))

    return run_if


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


# TensorFlow's If and StatelessIf (which promises branches without side effects) are one op here.
for _op_type in ("If", "StatelessIf"):
    register_op(
        _op_type,
        inputs=["cond: Tcond", "input: Tin"],
        outputs=["output: Tout", "tape: variant"],
        attrs={
            "Tin": ("list(type)", REQUIRED),
            "Tout": ("list(type)", REQUIRED),
            "then_branch": ("func", REQUIRED),
            "else_branch": ("func", REQUIRED),
            "output_shapes": ("list(shape)", []),
        },
        shape=_if_shapes,
        stateful=True,  # a branch may have side effects: never constant-folded
        forwards_refs=True,  # a variable a branch assigns to reaches it as its storage
        factory=_if_factory,
        doc="Runs then_branch or else_branch on `input` as `cond` says; the last output is its tape.",
    )


def make_if(pred: _ops.Tensor, explicit_inputs: Sequence[_ops.Tensor], then_graph: FuncGraph,
            else_graph: FuncGraph, output_shapes: Sequence[_shape.TensorShape], name=None) -> _ops.Operation:
    """Adds an `If` op over two built branch graphs (whose `outputs` are set and whose `inputs` stand for
    `explicit_inputs`); the outer tensors they captured become further inputs."""
    inputs = _inputs_with_captures(explicit_inputs, [then_graph, else_graph])
    graph = _ops.get_default_graph()
    with graph.control_dependencies(_control_captures([then_graph, else_graph])):
        return apply_op(
            "If", [pred, inputs],
            {"then_branch": then_graph, "else_branch": else_graph,
             "Tout": [t.dtype.base_dtype for t in then_graph.outputs], "output_shapes": list(output_shapes)},
            name=name,
        )


def _build_body_gradient(forward: FuncGraph, ys_idx: Sequence[int], xs_idx: Sequence[int],
                         grad_shapes: Sequence[_shape.TensorShape]) -> tuple[GradientFuncGraph, list]:
    """The gradient function of `forward`: inputs (tape, one grad per output in `ys_idx`), and the
    gradients (Tensor or None) of those outputs w.r.t. the inputs in `xs_idx`. Its outputs are left unset."""
    grad = GradientFuncGraph(unique_function_name(forward.name + "_grad"), forward)
    with grad.as_default():
        grad_ys = [array_ops.placeholder(forward.outputs[i].dtype.base_dtype, shape, name=f"grad_y_{k}")
                   for k, (i, shape) in enumerate(zip(ys_idx, grad_shapes))]
        grad.inputs.extend(grad_ys)
        dxs = gradients_impl.gradients([forward.outputs[i] for i in ys_idx], [forward.inputs[j] for j in xs_idx],
                                       grad_ys=grad_ys)
        dxs = [None if dx is None else _dense(dx) for dx in dxs]
    return grad, dxs


@RegisterGradient("If")
def _if_grad(op: _ops.Operation, *grads):
    """An If over the branches' gradient functions, taking the same branch, reading the forward values
    from the forward If's tape."""
    then_graph, else_graph = op.get_attr("then_branch"), op.get_attr("else_branch")
    n_out = len(op.get_attr("Tout"))
    ins = op.inputs[1:]
    if any(t.dtype.base_dtype == _dt.variant for t in ins):
        # This If is itself a gradient, reading the forward values from a tape: differentiating it again would
        # have to differentiate through the tape, which is not supported. Fail as a missing gradient does.
        raise LookupError(
            f"No gradient defined for operation '{op.name}': second derivatives through tf.cond / tf.while_loop "
            "are not supported."
        )
    in_idx = [j for j, t in enumerate(ins) if _differentiable_input(t)]
    out_idx = [i for i in range(n_out) if differentiable(op.outputs[i].dtype)]
    result: list = [None] * len(op.inputs)
    if not in_idx or not out_idx:
        return result
    out_grads = [grads[i] if grads[i] is not None else array_ops.zeros_like(op.outputs[i]) for i in out_idx]
    built = []
    for f in (then_graph, else_graph):
        g, dxs = _build_body_gradient(f, out_idx, in_idx, [f.outputs[i].shape for i in out_idx])
        built.append((f, g, dxs))
    keep = [k for k in range(len(in_idx)) if any(dxs[k] is not None for _, _, dxs in built)]
    if not keep:
        return result
    dtypes = {k: next(dxs[k].dtype.base_dtype for _, _, dxs in built if dxs[k] is not None) for k in keep}
    for f, g, dxs in built:
        with g.as_default():
            g.outputs = body_outputs(g, [
                dxs[k] if dxs[k] is not None else _zero_gradient(f.inputs[in_idx[k]], dtypes[k]) for k in keep])
    grad_op = make_if(op.inputs[0], [op.outputs[-1]] + out_grads, built[0][1], built[1][1],
                      [_value_shape(ins[in_idx[k]]) for k in keep])
    for pos, k in enumerate(keep):
        result[1 + in_idx[k]] = grad_op.outputs[pos]
    return result


# ----------------------------------------------------------------------------------------------------------
# While
# ----------------------------------------------------------------------------------------------------------
def _while_factory(op: _ops.Operation, ctx) -> Callable:
    """Loops while `cond` holds; the tape lists, per iteration, the values the body recorded."""
    record = op.get_attr("back_prop")
    cond = _BodyRunner(ctx, op.get_attr("cond"), record=False)
    body = _BodyRunner(ctx, op.get_attr("body"), record=record)
    n = len(_loop_var_types(op))
    check_deadline = ctx.check_deadline

    def run_while(*inputs):
        loop_vars, captured = list(inputs[:n]), list(inputs[n:])
        tape = []
        while True:
            check_deadline(op)
            c = cond(loop_vars + captured)[0]
            if np.ndim(c) != 0:
                raise _invalid(f"The condition of a while loop must be a scalar, got shape {np.shape(c)}")
            if not c:
                break
            values = body(loop_vars + captured)
            loop_vars = values[:n]
            if record:
                tape.append(tuple(values[n:]))
        return (*loop_vars, *captured, tape)

    return run_while


# TensorFlow's While and StatelessWhile (which promises a body without side effects) are one op here. Both
# forms import: TensorFlow's, without Tout, where every input is a loop variable, and tfmini's, whose Tout
# names the loop variables and whose body reads the inputs after them as captured tensors. Either way there is
# one output per input (a captured tensor comes out unchanged) and then the tape.
for _op_type in ("While", "StatelessWhile"):
    register_op(
        _op_type,
        inputs=["input: T"],
        outputs=["output: T", "tape: variant"],
        attrs={
            "T": ("list(type)", REQUIRED),
            "Tout": ("list(type)", []),
            "cond": ("func", REQUIRED),
            "body": ("func", REQUIRED),
            "output_shapes": ("list(shape)", []),
            "parallel_iterations": ("int", 10),
            "back_prop": ("bool", True),
        },
        shape=_while_shapes,
        stateful=True,
        forwards_refs=True,
        factory=_while_factory,
        doc="Runs `body` on the loop variables (the first len(Tout) inputs, or all of them without Tout; the "
            "rest are captured tensors) while `cond` holds; the last output is its tape.",
    )


def make_while(loop_vars: Sequence[_ops.Tensor], cond_graph: FuncGraph, body_graph: FuncGraph,
               output_shapes: Sequence[_shape.TensorShape], parallel_iterations: int = 10, back_prop: bool = True,
               name=None) -> _ops.Operation:
    """Adds a `While` op over built cond and body graphs (whose `inputs` stand for `loop_vars`)."""
    inputs = _inputs_with_captures(loop_vars, [cond_graph, body_graph])
    graph = _ops.get_default_graph()
    with graph.control_dependencies(_control_captures([cond_graph, body_graph])):
        return apply_op(
            "While", [inputs],
            {"cond": cond_graph, "body": body_graph, "Tout": [t.dtype.base_dtype for t in loop_vars],
             "output_shapes": list(output_shapes), "parallel_iterations": int(parallel_iterations),
             "back_prop": bool(back_prop)},
            name=name,
        )


def _while_grad_factory(op: _ops.Operation, ctx) -> Callable:
    body_grad = _BodyRunner(ctx, op.get_attr("body_grad"), record=False)
    k = len(op.get_attr("Tgrad"))
    check_deadline = ctx.check_deadline

    def run_while_grad(tape, *args):
        grads, sums = list(args[:k]), list(args[k:])
        for recorded in reversed(tape):
            check_deadline(op)
            values = body_grad([recorded, *grads])
            grads = values[:k]
            sums = [np.add(s, v) for s, v in zip(sums, values[k:])]
        return (*grads, *sums)

    return run_while_grad


register_op(
    "WhileGrad",
    inputs=["tape: variant", "grads: Tgrad", "initial_sums: Tsum"],
    outputs=["output: Tout"],
    attrs={
        "Tgrad": ("list(type)", REQUIRED),
        "Tsum": ("list(type)", REQUIRED),
        "Tout": ("list(type)", REQUIRED),
        "body_grad": ("func", REQUIRED),
        "output_shapes": ("list(shape)", []),
    },
    shape=lambda op: list(op.get_attr("output_shapes")) or [None] * len(op.get_attr("Tout")),
    stateful=True,
    factory=_while_grad_factory,
    doc="Back-propagates `grads` (of the loop variables' final values) through the iterations a While "
        "recorded on `tape`, last first; also sums the gradients of the captured tensors over iterations.",
)


@RegisterGradient("While")
def _while_grad(op: _ops.Operation, *grads):
    """A WhileGrad over the body's gradient function and the forward While's tape."""
    body = op.get_attr("body")
    n = len(_loop_var_types(op))
    result: list = [None] * len(op.inputs)
    if not op.get_attr("back_prop"):
        return result
    var_idx = [j for j in range(n) if differentiable(op.inputs[j].dtype)]
    cap_idx = [j for j in range(n, len(op.inputs)) if _differentiable_input(op.inputs[j])]
    if not var_idx:
        return result
    out_grads = [grads[j] if grads[j] is not None else array_ops.zeros_like(op.outputs[j]) for j in var_idx]
    g, dxs = _build_body_gradient(body, var_idx, var_idx + cap_idx, [body.inputs[j].shape for j in var_idx])
    # The body is the same every iteration, so a capture it does not differentiate to has no gradient at all.
    caps = [(j, dx) for j, dx in zip(cap_idx, dxs[len(var_idx):]) if dx is not None]
    with g.as_default():
        var_grads = [dx if dx is not None else array_ops.zeros_like(body.inputs[j]) for j, dx in zip(var_idx, dxs)]
        g.outputs = body_outputs(g, var_grads + [dx for _, dx in caps])
    initial_sums = [_zero_gradient(op.inputs[j], dx.dtype.base_dtype) for j, dx in caps]
    out_types = [op.inputs[j].dtype.base_dtype for j in var_idx] + [dx.dtype.base_dtype for _, dx in caps]
    grad_op = apply_op(
        "WhileGrad", [op.outputs[-1], out_grads, initial_sums],
        {"body_grad": g, "Tout": out_types,
         "output_shapes": [op.inputs[j].shape for j in var_idx] + [_value_shape(op.inputs[j]) for j, _ in caps]},
    )
    outs = grad_op.outputs
    for pos, j in enumerate(var_idx + [j for j, _ in caps]):
        result[j] = outs[pos]
    return result


RegisterGradient("StatelessIf")(_if_grad)
RegisterGradient("StatelessWhile")(_while_grad)


# ----------------------------------------------------------------------------------------------------------
# PartitionedCall: a call of a library function (TensorFlow 2's tf.function calls, and TF1 Defun calls, which
# name the function as their op type and become calls on import)
# ----------------------------------------------------------------------------------------------------------
def _call_shapes(op: _ops.Operation) -> list:
    """Checks that `f` takes Tin and returns Tout; the outputs have the shapes of f's outputs."""
    _check_function(op, "f", op.get_attr("Tin"), op.get_attr("Tout"), "Tout")
    return [t.shape for t in op.get_attr("f").outputs]


def _call_factory(op: _ops.Operation, ctx) -> Callable:
    body = _BodyRunner(ctx, op.get_attr("f"), record=False)

    def run_call(*args):
        return tuple(body(list(args)))

    return run_call


# TensorFlow's PartitionedCall promises a function without side effects and StatefulPartitionedCall allows
# them; both run the function here, and neither is folded as a constant (a body may read variables).
for _op_type in ("PartitionedCall", "StatefulPartitionedCall"):
    register_op(
        _op_type,
        inputs=["args: Tin"],
        outputs=["output: Tout"],
        attrs={
            "Tin": ("list(type)", REQUIRED),
            "Tout": ("list(type)", REQUIRED),
            "f": ("func", REQUIRED),
            "config": ("string", ""),
            "config_proto": ("string", ""),
            "executor_type": ("string", ""),
        },
        shape=_call_shapes,
        stateful=True,
        factory=_call_factory,
        doc="Runs function `f` on `args` and returns its outputs.",
    )


def _grouped_inputs(op: _ops.Operation, tensors: list) -> list:
    """`tensors` (one per input of `op`) grouped as apply_op takes them: a list per list-valued input arg."""
    grouped, pos = [], 0
    for spec in op.op_def.inputs:
        if spec.type_list_attr or spec.number_attr:
            n = len(op.get_attr(spec.type_list_attr)) if spec.type_list_attr else op.get_attr(spec.number_attr)
            grouped.append(tensors[pos:pos + n])
            pos += n
        else:
            grouped.append(tensors[pos])
            pos += 1
    return grouped


def copy_ops(outputs: Sequence[_ops.Tensor], mapped: dict | None = None) -> list[_ops.Tensor]:
    """Copies into the default graph the ops that `outputs` depend on (through data and control inputs),
    each under its own name, reading `mapped[t]` wherever they read a tensor `t` that `mapped` holds; returns
    the copies of `outputs`. Control inputs on the producers of mapped tensors are dropped."""
    mapped = dict(mapped or {})
    mapped_ops = {t.op for t in mapped}
    needed: set = set()
    stack = [t.op for t in outputs if t not in mapped]
    while stack:
        op = stack.pop()
        if op in needed or op in mapped_ops:
            continue
        needed.add(op)
        stack.extend(t.op for t in op.inputs if t not in mapped)
        stack.extend(op.control_inputs)
    copies: dict[_ops.Operation, _ops.Operation] = {}
    for op in sorted(needed, key=lambda o: o._id):
        new = apply_op(op.type, _grouped_inputs(op, [mapped[t] for t in op.inputs]), dict(op._attrs),
                       name=op.name, control_inputs=[copies[c] for c in op.control_inputs if c in copies])
        copies[op] = new
        mapped.update(zip(op.outputs, new.outputs))
    return [mapped[t] for t in outputs]


# Stateful op types a recomputed call may run again: they read state without changing it.
_REPEATABLE_STATEFUL = frozenset({"NoOp", "ReadVariableOp", "VarHandleOp", "VariableShape", "PartitionedCall",
                                  "StatefulPartitionedCall"})


def _side_effects(fn: FuncGraph) -> list[_ops.Operation]:
    """The ops of `fn` (and of the functions its calls run) that change state or draw random numbers."""
    found, stack, seen = [], [fn], set()
    while stack:
        g = stack.pop()
        if g in seen:
            continue
        seen.add(g)
        for op in g.get_operations():
            if op.op_def.stateful and op.type not in _REPEATABLE_STATEFUL and op not in {t.op for t in g.inputs}:
                found.append(op)
            stack.extend(v for v in op._attrs.values() if isinstance(v, FuncGraph))
    return found


def _gradient_function(fn: FuncGraph, name: str, outer: _ops.Graph) -> tuple[FuncGraph, list[int]]:
    """The gradient function of `fn`: it takes fn's inputs and one gradient per output of fn, computes fn's
    outputs again from those inputs (a copy of its ops) and returns the gradients of the inputs that have one;
    also returns those inputs' positions. `outer` is the graph of the op that will run it."""
    g = FuncGraph(unique_function_name(name), outer)
    with g.as_default():
        args = [array_ops.placeholder(t.dtype.base_dtype, t.shape, name=f"arg_{k}") for k, t in enumerate(fn.inputs)]
        grad_ys = [array_ops.placeholder(t.dtype.base_dtype, t.shape, name=f"grad_y_{k}")
                   for k, t in enumerate(fn.outputs)]
        g.inputs.extend(args + grad_ys)
        ys = copy_ops(fn.outputs, dict(zip(fn.inputs, args)))
        out_idx = [i for i, t in enumerate(ys) if differentiable(t.dtype)]
        in_idx = [j for j, t in enumerate(args) if _differentiable_input(t)]
        dxs = []
        if out_idx and in_idx:
            dxs = gradients_impl.gradients([ys[i] for i in out_idx], [args[j] for j in in_idx],
                                           grad_ys=[grad_ys[i] for i in out_idx])
        kept = [(j, _dense(dx)) for j, dx in zip(in_idx, dxs) if dx is not None]
        g.outputs = body_outputs(g, [dx for _, dx in kept])
    return g, [j for j, _ in kept]


def _call_grad(op: _ops.Operation, *grads):
    """A call of the gradient function of `f`, which computes f's outputs again from the call's inputs and
    differentiates them (as TF's SymbolicGradient does). A function with side effects (assignments, random
    draws) would repeat them, so its call has no gradient (LookupError, as for an op without one)."""
    fn = op.get_attr("f")
    effects = _side_effects(fn)
    if effects:
        raise LookupError(f"No gradient defined for operation '{op.name}' (op type: {op.type}): its function "
                          f"'{fn.name}' has side effects (op '{effects[0].name}' of type {effects[0].type}) that "
                          "computing the gradient again would repeat.")
    result: list = [None] * len(op.inputs)
    if not any(differentiable(t.dtype) for t in op.outputs):
        return result
    g, kept = _gradient_function(fn, fn.name + "_grad", op.graph)
    if not kept:
        return result
    out_grads = [grad if grad is not None else array_ops.zeros_like(t) for t, grad in zip(op.outputs, grads)]
    call_inputs = list(op.inputs) + out_grads
    call = apply_op("PartitionedCall", [call_inputs],
                    {"f": g, "Tin": [t.dtype.base_dtype for t in call_inputs],
                     "Tout": [t.dtype.base_dtype for t in g.outputs]})
    for pos, j in enumerate(kept):
        result[j] = call.outputs[pos]
    return result


RegisterGradient("PartitionedCall")(_call_grad)
RegisterGradient("StatefulPartitionedCall")(_call_grad)


def _symbolic_gradient_shapes(op: _ops.Operation) -> list:
    """Checks that the inputs are f's inputs and one gradient per output of f, and the outputs f's inputs' types;
    the outputs have the shapes of f's inputs."""
    fn = op.get_attr("f")
    takes = [t.dtype.base_dtype for t in fn.inputs + fn.outputs]
    tin, tout = [_dt.as_dtype(t).base_dtype for t in op.get_attr("Tin")], op.get_attr("Tout")
    if tin != takes:
        raise ValueError(f"SymbolicGradient of function {_function_name(fn)} takes its inputs and one gradient per "
                         f"output, {_type_names(takes)}, but Tin is {_type_names(tin)}")
    if [_dt.as_dtype(t).base_dtype for t in tout] != takes[:len(fn.inputs)]:
        raise ValueError(f"SymbolicGradient of function {_function_name(fn)} returns one gradient per input, "
                         f"{_type_names(takes[:len(fn.inputs)])}, but Tout is {_type_names(tout)}")
    return [t.shape for t in fn.inputs]


def _symbolic_gradient_factory(op: _ops.Operation, ctx) -> Callable:
    """Builds (once per plan) f's gradient function and runs it; an input without a gradient gets zeros."""
    fn = op.get_attr("f")
    g, kept = _gradient_function(fn, fn.name + "_symbolic_gradient", op.graph)
    body = _BodyRunner(ctx, g, record=False)
    n = len(fn.inputs)

    def run_symbolic_gradient(*args):
        dxs = dict(zip(kept, body(list(args))))
        return tuple(dxs[j] if j in dxs else np.zeros_like(args[j]) for j in range(n))

    return run_symbolic_gradient


register_op(
    "SymbolicGradient",
    inputs=["input: Tin"],
    outputs=["output: Tout"],
    attrs={"Tin": ("list(type)", REQUIRED), "Tout": ("list(type)", REQUIRED), "f": ("func", REQUIRED)},
    shape=_symbolic_gradient_shapes,
    stateful=True,
    factory=_symbolic_gradient_factory,
    doc="The gradients of f's inputs given f's inputs and a gradient for each of its outputs (TF1 Defun "
        "gradients): f is computed again and differentiated.",
)


# ----------------------------------------------------------------------------------------------------------
# TensorList: the accumulators TensorFlow's control flow v2 writes into its loops (a while_v2 gradient pushes
# each forward iteration's values and pops them backwards; TensorArrays under control flow v2 are lists).
# A list value is an immutable tuple of arrays with its element dtype and shape, so every op makes a new one.
# ----------------------------------------------------------------------------------------------------------
class TensorListValue:
    """The value of a TensorList variant: `items` (a tuple of arrays, None for unset entries), the element
    dtype and the element shape it was made with (a tuple with None for unknown dims, or None)."""

    __slots__ = ("items", "element_dtype", "element_shape")

    def __init__(self, items: tuple, element_dtype, element_shape) -> None:
        self.items = items
        self.element_dtype = element_dtype
        self.element_shape = element_shape

    def with_items(self, items: tuple) -> TensorListValue:
        return TensorListValue(items, self.element_dtype, self.element_shape)

    def zeros_like(self) -> TensorListValue:
        """A list as long as this one whose elements are zeros shaped like this one's (ZerosLike of a list, as
        TF's TensorListZerosLike): an unset element stays unset, a variant element (a list) becomes its zeros."""
        return self.with_items(tuple(None if a is None else _element_zeros(a, self.element_dtype)
                                     for a in self.items))

    def __add__(self, other: TensorListValue) -> TensorListValue:
        """Two lists added element by element, as TF's AddN adds list variants (a gradient loop's lists): an
        unset element is taken as zeros (the other list's element)."""
        if not isinstance(other, TensorListValue):
            return NotImplemented
        if self.element_dtype != other.element_dtype:
            raise _invalid("Trying to add two lists of tensors of different dtypes. One is "
                           f"{self.element_dtype.name} and the other is {other.element_dtype.name}")
        shape = _merged_element_shape(self.element_shape, other.element_shape)
        if len(self.items) != len(other.items):
            raise _invalid(f"Trying to add two lists of tensors with different lengths. One is {len(self.items)} "
                           f"and the other is {len(other.items)}")
        items = []
        for a, b in zip(self.items, other.items):
            if a is None or b is None:
                items.append(b if a is None else a)
            elif np.shape(a) != np.shape(b):
                raise _invalid(f"Trying to add two tensors with incompatible element shapes. One is "
                               f"{list(np.shape(a))} and the other is {list(np.shape(b))}")
            else:
                items.append(np.add(a, b))
        return TensorListValue(tuple(items), self.element_dtype, shape)


def _element_zeros(value, element_dtype):
    """ZerosLike of one list element: zeros of its shape, or a variant element's own zeros."""
    if element_dtype == _dt.variant:
        zeros_like = getattr(value, "zeros_like", None)
        if zeros_like is None:
            raise _invalid(f"ZerosLike of a TensorList: no zeros are defined for its element "
                           f"{type(value).__name__}")
        return zeros_like()
    if not (element_dtype.is_bool or element_dtype.is_floating or element_dtype.is_integer
            or element_dtype.is_complex):
        raise _invalid(f"Trying to compute zeros_like for unsupported dtype {element_dtype.name}")
    return np.zeros(np.shape(value), dtype=element_dtype.as_numpy_dtype)


def _merged_element_shape(a: tuple | None, b: tuple | None) -> tuple | None:
    """The more specific of two compatible list element shapes (None: unknown rank)."""
    if a is None or b is None:
        return b if a is None else a
    if len(a) != len(b) or any(x is not None and y is not None and x != y for x, y in zip(a, b)):
        raise _invalid(f"Trying to add two lists of tensors with incompatible element shapes. One is {list(a)} and "
                       f"the other is {list(b)}")
    return tuple(x if x is not None else y for x, y in zip(a, b))


def _list_shape(shape) -> tuple | None:
    """An element_shape input (-1 or a -1 scalar: unknown; -1 dims: unknown) as a tuple, or None."""
    shape = np.asarray(shape)
    if shape.ndim == 0:
        return None
    return tuple(None if d < 0 else int(d) for d in shape.reshape(-1))


def _check_element(lst: TensorListValue, value, op_type: str) -> None:
    if np.asarray(value).dtype != lst.element_dtype.as_numpy_dtype:
        raise _invalid(f"{op_type}: invalid data types; list elements {lst.element_dtype.name} but tried to add "
                       f"{_dt.as_dtype(np.asarray(value).dtype).name}")
    shape = lst.element_shape
    if shape is not None and (len(shape) != np.ndim(value) or any(
            d is not None and d != v for d, v in zip(shape, np.shape(value)))):
        raise _invalid(f"{op_type}: tried to add an element of shape {list(np.shape(value))} to a list whose "
                       f"elements have shape {['?' if d is None else d for d in shape]}")


def _list_item(lst: TensorListValue, index: int, element_shape, op_type: str):
    item = lst.items[index]
    if item is not None:
        return item
    shape = _list_shape(element_shape) or lst.element_shape
    if shape is None or any(d is None for d in shape):
        raise _invalid(f"{op_type}: trying to read an unset element {index} whose shape is not fully known")
    return np.zeros(shape, lst.element_dtype.as_numpy_dtype)


def _variant_scalar(op):
    return _shape.TensorShape([])


@register_op("EmptyTensorList", inputs=["element_shape: shape_type", "max_num_elements: int32"],
             outputs=["handle: variant"], attrs={"element_dtype": ("type", REQUIRED)},
             allowed={"shape_type": (_dt.int32, _dt.int64)}, shape=_variant_scalar)
def _empty_tensor_list(element_shape, max_num_elements, *, element_dtype):
    """An empty list of `element_dtype` elements of `element_shape`."""
    return TensorListValue((), element_dtype, _list_shape(element_shape))


@register_op("TensorListReserve", inputs=["element_shape: shape_type", "num_elements: int32"],
             outputs=["handle: variant"], attrs={"element_dtype": ("type", REQUIRED)},
             allowed={"shape_type": (_dt.int32, _dt.int64)}, shape=_variant_scalar)
def _tensor_list_reserve(element_shape, num_elements, *, element_dtype):
    """A list of `num_elements` unset elements."""
    if num_elements < 0:
        raise _invalid(f"The num_elements to reserve must be a non negative number, but got {num_elements}")
    return TensorListValue((None,) * int(num_elements), element_dtype, _list_shape(element_shape))


@register_op("TensorListPushBack", inputs=["input_handle: variant", "tensor: element_dtype"],
             outputs=["output_handle: variant"], shape=_variant_scalar)
def _tensor_list_push_back(lst, tensor, *, element_dtype):
    """The list with `tensor` appended."""
    _check_element(lst, tensor, "TensorListPushBack")
    return lst.with_items(lst.items + (tensor,))


@register_op("TensorListPopBack", inputs=["input_handle: variant", "element_shape: int32"],
             outputs=["output_handle: variant", "tensor: element_dtype"],
             shape=lambda op: [_shape.TensorShape([]), _shape.unknown_shape()])
def _tensor_list_pop_back(lst, element_shape, *, element_dtype):
    """The list without its last element, and that element."""
    if not lst.items:
        raise _invalid("Trying to pop from an empty list.")
    return lst.with_items(lst.items[:-1]), _list_item(lst, -1, element_shape, "TensorListPopBack")


@register_op("TensorListLength", inputs=["input_handle: variant"], outputs=["length: int32"],
             shape=lambda op: _shape.TensorShape([]))
def _tensor_list_length(lst):
    """The number of elements."""
    return np.int32(len(lst.items))


def _index(lst: TensorListValue, index, op_type: str) -> int:
    index = int(index)
    if not 0 <= index < len(lst.items):
        raise _invalid(f"{op_type}: Trying to access element {index} in a list with {len(lst.items)} elements.")
    return index


@register_op("TensorListGetItem", inputs=["input_handle: variant", "index: int32", "element_shape: Tshape"],
             outputs=["item: element_dtype"], attrs={"Tshape": ("type", _dt.int32)},
             allowed={"Tshape": (_dt.int32, _dt.int64)}, shape=lambda op: _shape.unknown_shape())
def _tensor_list_get_item(lst, index, element_shape, *, element_dtype):
    """Element `index` (zeros of the element shape if it was never set)."""
    return _list_item(lst, _index(lst, index, "TensorListGetItem"), element_shape, "TensorListGetItem")


@register_op("TensorListSetItem", inputs=["input_handle: variant", "index: int32", "item: element_dtype"],
             outputs=["output_handle: variant"], attrs={"resize_if_index_out_of_bounds": ("bool", False)},
             shape=_variant_scalar)
def _tensor_list_set_item(lst, index, item, *, element_dtype, resize_if_index_out_of_bounds):
    """The list with element `index` replaced by `item`."""
    items = lst.items
    if resize_if_index_out_of_bounds and int(index) >= len(items):
        items = items + (None,) * (int(index) + 1 - len(items))
        lst = lst.with_items(items)
    i = _index(lst, index, "TensorListSetItem")
    _check_element(lst, item, "TensorListSetItem")
    return lst.with_items(items[:i] + (item,) + items[i + 1:])


@register_op("TensorListStack", inputs=["input_handle: variant", "element_shape: int32"],
             outputs=["tensor: element_dtype"], attrs={"num_elements": ("int", -1)},
             shape=lambda op: _shape.unknown_shape())
def _tensor_list_stack(lst, element_shape, *, element_dtype, num_elements):
    """The elements stacked along a new first axis."""
    if num_elements != -1 and num_elements != len(lst.items):
        raise _invalid(f"Operation expected a list with {num_elements} elements but got a list with "
                       f"{len(lst.items)} elements.")
    if not lst.items:
        shape = _list_shape(element_shape) or lst.element_shape
        if shape is None or any(d is None for d in shape):
            raise _invalid("Tried to stack elements of an empty list with non-fully-defined element_shape")
        return np.zeros((0, *shape), element_dtype.as_numpy_dtype)
    items = [_list_item(lst, i, element_shape, "TensorListStack") for i in range(len(lst.items))]
    return np.stack(items).astype(element_dtype.as_numpy_dtype, copy=False)


@register_op("TensorListFromTensor", inputs=["tensor: element_dtype", "element_shape: shape_type"],
             outputs=["output_handle: variant"], allowed={"shape_type": (_dt.int32, _dt.int64)},
             shape=_variant_scalar)
def _tensor_list_from_tensor(tensor, element_shape, *, element_dtype):
    """A list of the rows of `tensor`."""
    if np.ndim(tensor) < 1:
        raise _invalid("Tensor must be at least a vector, but saw shape: []")
    return TensorListValue(tuple(tensor[i] for i in range(tensor.shape[0])), element_dtype,
                           _list_shape(element_shape) or tuple(tensor.shape[1:]))


@register_op("TensorListElementShape", inputs=["input_handle: variant"], outputs=["element_shape: shape_type"],
             allowed={"shape_type": (_dt.int32, _dt.int64)}, shape=lambda op: _shape.unknown_shape())
def _tensor_list_element_shape(lst, *, shape_type):
    """The list's element shape (-1 for unknown dims; a scalar -1 when even the rank is unknown)."""
    shape = lst.element_shape
    if shape is None:
        return np.array(-1, shape_type.as_numpy_dtype)
    return np.array([-1 if d is None else d for d in shape], shape_type.as_numpy_dtype)
