"""`tf.gradients` and `tf.hessians`: symbolic reverse-mode differentiation that adds gradient ops to the graph,
using the gradient function registered for each op type (no knowledge of any particular op). Also the dense
conversion and Session fetch/feed support of IndexedSlices, the sparse form some gradient functions return."""

from __future__ import annotations

import collections
import contextlib
import enum
import threading

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework.api_export import tf_export
from tfmini.framework.constant_op import constant
from tfmini.framework.indexed_slices import IndexedSlices
from tfmini.ops import array_ops, math_ops


@tf_export("UnconnectedGradients")
class UnconnectedGradients(enum.Enum):
    """What tf.gradients returns for an x that ys do not depend on: None, or zeros shaped like x."""

    NONE = "none"
    ZERO = "zero"


@tf_export("AggregationMethod")
class AggregationMethod:
    """How tf.gradients sums the gradients of a tensor used by several ops (every method gives the same sum
    here; the experimental ones only differ in memory use on TensorFlow's devices)."""

    ADD_N = 0
    DEFAULT = ADD_N
    EXPERIMENTAL_TREE = 1
    EXPERIMENTAL_ACCUMULATE_N = 2


_AGGREGATION_METHODS = (AggregationMethod.ADD_N, AggregationMethod.EXPERIMENTAL_TREE,
                        AggregationMethod.EXPERIMENTAL_ACCUMULATE_N)

# Dtypes whose tensors get a zeros gradient when an op has gradients for some outputs but not for them.
_TRAINABLE = frozenset(_dt.FLOATING + _dt.COMPLEX + (_dt.bfloat16, _dt.resource, _dt.variant))


# The name scope of the outermost tf.gradients call being built on this thread. Gradient functions that
# keep per-computation state at run time (a TensorArray's gradient array) key it by this name, so two
# tf.gradients calls never share it, while the gradients built for a loop or cond body inside one call do.
_SOURCE = threading.local()


def gradient_source() -> str:
    """The name of the gradient computation being built (the outermost tf.gradients scope, e.g.
    'gradients_1'), or 'gradients' outside any."""
    return getattr(_SOURCE, "name", None) or "gradients"


def _as_list(x) -> list:
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _zeros_like(t: _ops.Tensor) -> _ops.Tensor:
    return array_ops.zeros_like(t)


# ----------------------------------------------------------------------------------------------------------
# Which ops the backward pass visits
# ----------------------------------------------------------------------------------------------------------
def _between_ops(from_ops: list, to_ops: list) -> set:
    """Ops on some data path from one of `from_ops` to one of `to_ops` (both ends included)."""
    reached: set = set()
    stack = list(from_ops)
    while stack:
        op = stack.pop()
        if op in reached:
            continue
        reached.add(op)
        stack.extend(c for out in op.outputs for c in out.consumers())
    between: set = set()
    stack = list(to_ops)
    while stack:
        op = stack.pop()
        if op in reached and op not in between:
            between.add(op)
            stack.extend(t.op for t in op.inputs)
    return between


def _pending_counts(between: set) -> collections.Counter:
    """For each op, how many input edges of ops in `between` it feeds: its gradient is complete when all of
    them have propagated."""
    pending: collections.Counter = collections.Counter()
    for op in between:
        for t in op.inputs:
            if t.op in between:
                pending[t.op] += 1
    return pending


def _stop_ops(from_ops: list, stop_gradient_ops: list, pending: collections.Counter) -> set:
    """Ops the backward pass must not go through: the x ops that no other x reaches (their inputs lie before
    every x), and the ops named in stop_gradients."""
    stop = {op for op in from_ops if all(pending[t.op] == 0 for t in op.inputs)}
    stop.update(stop_gradient_ops)
    return stop


# ----------------------------------------------------------------------------------------------------------
# Gradient bookkeeping
# ----------------------------------------------------------------------------------------------------------
def _aggregate(grads: list, aggregation_method):
    """The sum of the gradients arriving at one tensor (None if none did)."""
    grads = [g for g in grads if g is not None]
    if not grads:
        return None
    if len(grads) == 1:
        return grads[0]
    if all(isinstance(g, IndexedSlices) for g in grads):
        # Sparse gradients stay sparse: the rows of all of them, repeated indices summing when densified.
        return IndexedSlices(
            array_ops.concat([g.values for g in grads], 0),
            array_ops.concat([g.indices for g in grads], 0),
            grads[0].dense_shape,
        )
    dense = [_ops.convert_to_tensor(g) for g in grads]
    if aggregation_method == AggregationMethod.EXPERIMENTAL_TREE:
        total = dense[0]
        for g in dense[1:]:
            total = math_ops.add(total, g)
        return total
    return math_ops.add_n(dense)


def _colocated_with(op: _ops.Operation, colocate: bool):
    """With `colocate` (tf.gradients' colocate_gradients_with_ops), a block whose ops are colocated with the
    forward op `op`: on its device, in its colocation groups, whatever the device scopes say."""
    return _ops.colocate_with(op) if colocate else contextlib.nullcontext()


def _default_grad_ys(grad_ys: list, ys: list, colocate: bool = False) -> list:
    """grad_ys with each None replaced by ones shaped like its y (made with y's op, with `colocate`), and given
    ones checked against their y."""
    out = []
    for i, (y, gy) in enumerate(zip(ys, grad_ys)):
        if gy is None:
            if y.dtype.is_complex:
                raise TypeError(f"Gradients of complex tensors must set grad_ys (y.dtype = {y.dtype!r})")
            with _colocated_with(y.op, colocate):
                ones = constant(1, dtype=y.dtype.base_dtype, name=f"grad_ys_{i}")
                out.append(array_ops.fill(array_ops.shape(y), ones))
            continue
        if not isinstance(gy, (_ops.Tensor, IndexedSlices)):
            gy = _ops.convert_to_tensor(gy, dtype=y.dtype.base_dtype, name=f"grad_y_{i}")
        if y.dtype.is_floating or y.dtype.is_integer:
            if not gy.dtype.is_floating and not gy.dtype.is_integer:
                raise TypeError(
                    f"Gradient type {gy.dtype.name} generated for real or integer-valued tensor {y} with type "
                    f"{y.dtype.name} must be real or integer"
                )
        elif y.dtype.is_complex and not gy.dtype.is_complex:
            raise TypeError(
                f"Gradient type {gy.dtype.name} generated for complex-valued tensor {y} with type {y.dtype.name} "
                "must be complex"
            )
        out.append(gy)
    return out


def _check_input_grads(op: _ops.Operation, in_grads: list) -> None:
    if len(in_grads) != len(op.inputs):
        raise ValueError(
            f"Num gradients {len(in_grads)} generated for op {op.node_def} do not match num inputs "
            f"{len(op.inputs)}"
        )
    for i, (t, g) in enumerate(zip(op.inputs, in_grads)):
        if isinstance(g, _ops.Tensor) and t.dtype.base_dtype != _dt.resource:
            try:
                g.set_shape(t.shape)
            except ValueError:
                raise ValueError(
                    "Incompatible shapes between op input and calculated input gradient. Forward operation: "
                    f"{op.name}. Input index: {i}. Original input shape: {t.shape}. Calculated input gradient "
                    f"shape: {g.shape}"
                ) from None


def _gate(grads: list) -> list:
    """`grads` as tf.tuple returns them (ops named as TF names them: tuple/group_deps, then one
    tuple/control_dependency identity per gradient, of the values for an IndexedSlices). Built by op type
    through the registry: control_flow_ops, home of tf.tuple, sits above this module. As in TF, the device
    scopes and colocations around do not apply: each identity is colocated with the gradient it passes on, and
    the NoOp goes on the device of the gradients when they share one."""
    with _ops.name_scope(None, "tuple", [g for g in grads if g is not None]), _ops.device(None), \
            _ops.colocate_with(None, ignore_existing=True):
        deps = [(g.values if isinstance(g, IndexedSlices) else g).op for g in grads if g is not None]
        devices = {op.device for op in deps}
        with _ops.control_dependencies(deps), _ops.device(devices.pop() if len(devices) == 1 else None):
            gate = _reg.apply_op("NoOp", [], name="group_deps")
        out = []
        for g in grads:
            if g is None:
                out.append(None)
                continue
            values = g.values if isinstance(g, IndexedSlices) else g
            with _ops.name_scope(None, "control_dependency", [values]) as dep_scope, \
                    _ops.colocate_with(values), _ops.control_dependencies([gate]):
                values = array_ops.identity(values, name=dep_scope)
            out.append(IndexedSlices(values, g.indices, g.dense_shape) if isinstance(g, IndexedSlices) else values)
        return out


def _op_input_grads(op: _ops.Operation, out_grads: list, stop: set, gate: bool, between: set) -> list:
    """Runs `op`'s gradient function on its output gradients; None for every input if there is nothing to do.
    With `gate`, the input gradients that flow on towards `xs` (those of inputs made by ops in `between`), when
    there are several, come out of one tf.tuple, as TF's GATE_OP has it."""
    none = [None] * len(op.inputs)
    if op in stop or all(g is None for g in out_grads):
        return none
    grad_fn = _reg.get_gradient_function(op)  # LookupError when the op type has no gradient at all
    if grad_fn is None:  # declared NotDifferentiable
        return none
    # An output nobody differentiated gets zeros (if it is of a differentiable type), so gradient functions
    # only meet None for outputs such as integer indices, whose gradient they ignore anyway.
    out_grads = [_zeros_like(t) if g is None and t.dtype.base_dtype in _TRAINABLE else g
                 for t, g in zip(op.outputs, out_grads)]
    with _ops.name_scope(op.name + "_grad"):
        in_grads = _as_list(grad_fn(op, *out_grads))
        _check_input_grads(op, in_grads)
        used = [g is not None and t.op in between for t, g in zip(op.inputs, in_grads)]
        if gate and sum(used) > 1:
            # None of the gradients is usable before all are computed: in an exported training graph that
            # TensorFlow runs concurrently, an update of a ref variable (ApplyAdam on dW) then cannot overwrite
            # the value another input's gradient (dx = dy W^T) still has to read. A gradient that flows
            # nowhere (towards a placeholder or a constant) is left out of the group, unlike TF: nothing
            # reads it, so it cannot race, and gating it would force computing it (a first layer's dx).
            gated = _gate([g if u else None for g, u in zip(in_grads, used)])
            in_grads = [q if u else g for g, q, u in zip(in_grads, gated, used)]
    return in_grads


# ----------------------------------------------------------------------------------------------------------
# tf.gradients, tf.hessians
# ----------------------------------------------------------------------------------------------------------
@tf_export("gradients")
def gradients(ys, xs, grad_ys=None, name: str = "gradients", colocate_gradients_with_ops: bool = False,
              gate_gradients: bool = False, aggregation_method=None, stop_gradients=None,
              unconnected_gradients=UnconnectedGradients.NONE) -> list:
    """`tf.gradients`: the symbolic partial derivatives of sum(ys) with respect to each x in `xs`.

    `grad_ys` weights each y (default: ones). Gradients of a tensor used by several ops are summed. Returns
    one gradient per x: a Tensor, an IndexedSlices (from sparse gradient functions), or None (or zeros, with
    UnconnectedGradients.ZERO) when ys do not depend on x. Backpropagation stops at `stop_gradients`, at
    StopGradient ops and at ops declared NotDifferentiable; an op on the path with no registered gradient raises
    LookupError. With `gate_gradients`, the input gradients of each op are grouped with tf.tuple, so none is
    used before all of that op's are computed (TF's GATE_OP). With `colocate_gradients_with_ops`, the ops
    computing the gradients of an op (and summing the gradients arriving at its outputs) are colocated with
    it: on its device and in its colocation groups, so a distributed backward pass runs where the forward one
    did.
    """
    ys, xs = _as_list(ys), _as_list(xs)
    stop_gradients = [] if stop_gradients is None else _as_list(stop_gradients)
    grad_ys = [None] * len(ys) if grad_ys is None else _as_list(grad_ys)
    if len(grad_ys) != len(ys):
        raise ValueError(f"Passed {len(grad_ys)} grad_ys for {len(ys)} ys")
    try:
        unconnected_gradients = UnconnectedGradients(unconnected_gradients)
    except ValueError:
        raise ValueError(f"Unknown value for unconnected_gradients: {unconnected_gradients!r}") from None
    if aggregation_method is None:
        aggregation_method = AggregationMethod.DEFAULT
    if aggregation_method not in _AGGREGATION_METHODS:
        raise ValueError(f"Invalid aggregation_method specified {aggregation_method}.")

    with _ops.name_scope(name, "gradients", ys + xs + stop_gradients + [g for g in grad_ys if g is not None]) as scope:
        outermost = getattr(_SOURCE, "name", None) is None
        if outermost:
            _SOURCE.name = scope[:-1] if scope else "gradients"
        try:
            return _gradients(ys, xs, grad_ys, stop_gradients, aggregation_method, unconnected_gradients,
                              bool(gate_gradients), bool(colocate_gradients_with_ops))
        finally:
            if outermost:
                _SOURCE.name = None


def _gradients(ys, xs, grad_ys, stop_gradients, aggregation_method, unconnected_gradients, gate: bool,
               colocate: bool = False) -> list:
    """tf.gradients inside its name scope."""
    ys = [_ops.convert_to_tensor(y, name="y") for y in ys]
    xs = [_ops.convert_to_tensor(x, name="x", as_ref=True) for x in xs]
    stop_tensors = [_ops.convert_to_tensor(t) for t in stop_gradients]
    grad_ys = _default_grad_ys(grad_ys, ys, colocate)

    from_ops = [x.op for x in xs]
    between = _between_ops(from_ops, [y.op for y in ys])
    pending = _pending_counts(between)
    stop = _stop_ops(from_ops, [t.op for t in stop_tensors], pending)

    grads: dict = collections.defaultdict(list)
    for y, gy in zip(ys, grad_ys):
        grads[y].append(gy)
    queue = collections.deque()
    for op in dict.fromkeys(y.op for y in ys):
        if pending[op] == 0 and op in between:
            queue.append(op)
    while queue:
        op = queue.popleft()
        out_grads = []
        with _colocated_with(op, colocate):
            for t in op.outputs:
                total = _aggregate(grads.get(t, []), aggregation_method)
                if t in grads:
                    grads[t] = [total]
                out_grads.append(total)
            in_grads = _op_input_grads(op, out_grads, stop, gate, between)
        for t, g in zip(op.inputs, in_grads):
            if g is not None:
                grads[t].append(g)
            pending[t.op] -= 1
            if pending[t.op] == 0 and t.op in between:
                queue.append(t.op)

    result = []
    for x in xs:
        g = _aggregate(grads.get(x, []), aggregation_method)
        if g is None and unconnected_gradients is UnconnectedGradients.ZERO:
            g = _zeros_like(x)
        result.append(g)
    return result


@tf_export("hessians")
def hessians(ys, xs, name: str = "hessians", colocate_gradients_with_ops: bool = False,
             gate_gradients: bool = False, aggregation_method=None) -> list:
    """`tf.hessians`: for each x, the matrix of second derivatives of sum(ys), shaped x.shape + x.shape.

    Built by differentiating each element of the gradient in turn, so each x needs a fully defined shape.
    """
    xs = _as_list(xs)
    kwargs = {"colocate_gradients_with_ops": colocate_gradients_with_ops, "gate_gradients": gate_gradients,
              "aggregation_method": aggregation_method}
    with _ops.name_scope(name, "hessians", _as_list(ys) + xs):
        first = gradients(ys, xs, **kwargs)
        result = []
        for x, g in zip(xs, first):
            x = _ops.convert_to_tensor(x)
            if not x.shape.is_fully_defined():
                raise ValueError(f"tf.hessians needs a fully defined shape for {x.name}, got {x.shape}")
            dims = x.shape.as_list()
            if g is None:
                result.append(None)
                continue
            g = _ops.convert_to_tensor(g)
            rows = []
            for idx in np.ndindex(*dims):
                # d/dx of g[idx], taken as sum(g * one_hot(idx)) so no slicing op needs a gradient.
                pick = np.zeros(dims, dtype=x.dtype.as_numpy_dtype)
                pick[idx] = 1
                row = gradients(math_ops.reduce_sum(g * pick), x, unconnected_gradients="zero", **kwargs)[0]
                rows.append(_ops.convert_to_tensor(row))
            stacked = array_ops.stack(rows) if rows else _zeros_like(g)
            result.append(array_ops.reshape(stacked, np.asarray(dims + dims, dtype=np.int32)))
        return result


# ----------------------------------------------------------------------------------------------------------
# IndexedSlices: conversion to a dense Tensor, fetching and feeding
# ----------------------------------------------------------------------------------------------------------
def _indexed_slices_to_tensor(value: IndexedSlices, dtype=None, name=None, as_ref: bool = False) -> _ops.Tensor:
    if dtype is not None and not dtype.is_compatible_with(value.dtype):
        raise ValueError(
            f"Tensor conversion requested dtype {dtype.name} for IndexedSlices with dtype {value.dtype.name}"
        )
    if value.dense_shape is None:
        raise ValueError(f"Tensor conversion requested for IndexedSlices without dense_shape: {value.name}")
    return math_ops.unsorted_segment_sum(value.values, value.indices, value.dense_shape[0], name=name)


_ops.register_tensor_conversion_function(IndexedSlices, _indexed_slices_to_tensor)

