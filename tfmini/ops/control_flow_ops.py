"""Control flow: NoOp, `tf.group`, `tf.tuple`, `tf.cond`, `tf.case`, `tf.while_loop` (built on the functional
`If` and `While` ops of functional_ops), and the ops that act on the side: `Assert`, `Print` and `tf.print`.

TF1 names the output of a cond `cond/Merge`; here the functional op is named after the scope, so a cond's
outputs are `cond:0`, `cond:1`, ... and a while loop's are `while:0`, ... (their last output is the tape
the gradient reads)."""

from __future__ import annotations

import sys

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import graph_export  # noqa: F401 - exports the loops built here in TensorFlow's form
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.constant_op import constant
from tfmini.framework.func_graph import FuncGraph, unique_function_name
from tfmini.framework.indexed_slices import IndexedSlices
from tfmini.framework.registry import REQUIRED, RegisterGradient, apply_op, register_op
from tfmini.ops import array_ops, math_ops
from tfmini.ops import functional_ops as _fops
from tfmini.ops import tensor_array_ops as _ta

_basetuple = tuple  # `tuple` is redefined below as TF's tf.tuple


@register_op("NoOp", stateful=True)
def _no_op():
    """Does nothing; used for its control inputs."""


@register_op("RefIdentity", inputs=["input: Ref(T)"], outputs=["output: Ref(T)"], shape=lambda op: op.inputs[0].shape)
def _ref_identity(ref):
    """The variable `ref` itself (TF1 graphs forward a variable's reference through it)."""
    return ref


@tf_export("no_op")
def no_op(name=None) -> _ops.Operation:
    return apply_op("NoOp", [], name=name)


@tf_export("group")
def group(*inputs, **kwargs) -> _ops.Operation:
    """An op that runs (depends on) all of `inputs` and has no output."""
    name = kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"Unknown keyword arguments: {', '.join(kwargs)}")
    flat = []
    for x in inputs:
        items = x.values() if isinstance(x, dict) else (x if isinstance(x, (list, _basetuple)) else [x])
        for it in items:
            if it is None:
                continue
            if isinstance(it, (list, _basetuple)):
                flat.extend(it)
            else:
                flat.append(it)
    with _ops.name_scope(name, "group_deps", flat) as scope:
        if not flat:
            return no_op(name=scope)
        # As TF does, the inputs are grouped by device: one NoOp on each device (the only one, named as the
        # group, when all inputs share a device), so a group spanning parameter servers waits on one op
        # per server.
        by_device: dict[str, list] = {}
        for it in flat:
            el = it if isinstance(it, (_ops.Tensor, _ops.Operation)) else it._as_graph_element()
            op = el.op if isinstance(el, _ops.Tensor) else el
            by_device.setdefault(getattr(it, "device", op.device), []).append(op)
        if len(by_device) == 1:
            ((device, deps),) = by_device.items()
            return _device_no_op(device, deps, scope)
        per_device = [_device_no_op(device, by_device[device], None) for device in sorted(by_device)]
        with _ops.control_dependencies(per_device):
            return no_op(name=scope)


def _device_no_op(device: str, deps: list, name) -> _ops.Operation:
    """A NoOp on `device` (merged into the device scopes in effect) that runs after `deps`."""
    with _ops.control_dependencies(deps), _ops.device(device):
        return no_op(name=name)


def with_dependencies(dependencies, output_tensor, name=None):
    """`output_tensor`, but only after `dependencies` have run."""
    with _ops.name_scope(name, "control_dependency", list(dependencies) + [output_tensor]) as scope:
        with _ops.control_dependencies(dependencies):
            if isinstance(output_tensor, _ops.Operation):
                with _ops.control_dependencies([output_tensor]):
                    return no_op(name=scope)
            if isinstance(output_tensor, IndexedSlices):
                return IndexedSlices(array_ops.identity(output_tensor.values, name=scope), output_tensor.indices,
                                     output_tensor.dense_shape)
            return array_ops.identity(output_tensor, name=scope)


@tf_export("tuple")
def tuple(tensors, name=None, control_inputs=None):  # noqa: A001 - TF's public name
    """Identities of `tensors` that are available only once all of them (and `control_inputs`) are; an
    IndexedSlices comes back with an identity of its values."""
    with _ops.name_scope(name, "tuple", [t for t in tensors if t is not None]):
        deps = [t.values if isinstance(t, IndexedSlices) else t for t in tensors if t is not None]
        gate = group(*(deps + list(control_inputs or [])), name="group_deps")
        return [None if t is None else with_dependencies([gate], t) for t in tensors]


# ----------------------------------------------------------------------------------------------------------
# cond and case
# ----------------------------------------------------------------------------------------------------------
def _trace_branch(fn, graph_name: str, what: str, pivot: bool) -> tuple[FuncGraph, object]:
    """Builds `fn()` into a new FuncGraph; returns it (outputs set) and fn's result structure.

    An Operation in the result stands for the branch's predicate value (True in the true branch, False in
    the other), available once the operation has run, as TF1's cond does.
    """
    graph = FuncGraph(unique_function_name(graph_name), _ops.get_default_graph())
    with graph.as_default():
        result = fn()
        if result is None:
            raise ValueError(f"{what} must have a return value.")
        values = []
        for v in _fops.flatten(result):
            if isinstance(v, _ops.Operation):
                with graph.control_dependencies([v]):
                    v = constant(pivot)
            values.append(v.flow if _ta.is_tensor_array(v) else v)
    graph.outputs = _fops.body_outputs(graph, values)
    return graph, result


@tf_export("cond")
def cond(pred, true_fn=None, false_fn=None, strict: bool = False, name=None, fn1=None, fn2=None):
    """`tf.cond`: `true_fn()` if `pred` else `false_fn()`; only the taken branch runs.

    Each branch is built into its own function graph (outer tensors it uses are captured as inputs) and one
    `If` op chooses between them at run time, so side effects of the other branch do not happen. The
    branches must return the same structure of tensors with the same dtypes; a single-element list or tuple
    is unpacked unless `strict`.
    """
    if fn1 is not None:
        if true_fn is not None:
            raise TypeError("cond(): true_fn and fn1 may not be set simultaneously.")
        true_fn = fn1
    if fn2 is not None:
        if false_fn is not None:
            raise TypeError("cond(): false_fn and fn2 may not be set simultaneously.")
        false_fn = fn2
    if not callable(true_fn):
        raise TypeError("true_fn must be callable.")
    if not callable(false_fn):
        raise TypeError("false_fn must be callable.")
    with _ops.name_scope(name, "cond", [pred]) as scope:
        if isinstance(pred, bool):
            raise TypeError("pred must not be a Python bool")
        pred = _ops.convert_to_tensor(pred, name="pred")
        if pred.dtype.base_dtype != _dt.bool_:
            raise TypeError(
                f"Input 'cond' of 'If' Op has type {pred.dtype.base_dtype.name} that does not match expected type "
                "of bool."
            )
        if pred.shape.ndims not in (None, 0):
            raise ValueError(
                f"Shape must be rank 0 but is rank {pred.shape.ndims} for '{scope[:-1]}' (op: 'If') with input "
                f"shapes: {pred.shape}."
            )
        then_graph, then_result = _trace_branch(true_fn, scope[:-1] + "_true", "true_fn", True)
        else_graph, else_result = _trace_branch(false_fn, scope[:-1] + "_false", "false_fn", False)
        _fops.assert_same_structure(then_result, else_result)
        _check_branch_arrays(_fops.flatten(then_result), _fops.flatten(else_result), then_graph, else_graph)
        for t, f in zip(then_graph.outputs, else_graph.outputs):
            if t.dtype.base_dtype != f.dtype.base_dtype:
                raise ValueError(
                    f"Outputs of true_fn and false_fn must have the same type: {t.dtype.base_dtype.name}, "
                    f"{f.dtype.base_dtype.name}"
                )
        shapes = [_fops.most_specific_compatible_shape(t.shape, f.shape)
                  for t, f in zip(then_graph.outputs, else_graph.outputs)]
        op = _fops.make_if(pred, [], then_graph, else_graph, shapes, name=scope)
    result = _fops.pack_sequence_as(then_result, _with_arrays(_fops.flatten(then_result), op.outputs[:-1]))
    if not strict and isinstance(result, (list, _basetuple)) and len(result) == 1:
        return result[0]
    return result


def _check_branch_arrays(then_flat: list, else_flat: list, then_graph: FuncGraph, else_graph: FuncGraph) -> None:
    """Where a branch returns a TensorArray, both must return the same array, made outside the cond (after
    the cond it is that array with the taken branch's flow)."""
    for t, e in zip(then_flat, else_flat):
        if not (_ta.is_tensor_array(t) or _ta.is_tensor_array(e)):
            continue
        if any(_ta.is_tensor_array(v) and v.handle.graph in (then_graph, else_graph) for v in (t, e)):
            raise ValueError("A cond branch may not return a TensorArray it created: create it before the cond "
                             "and write to it in the branches")
        if not (_ta.is_tensor_array(t) and _ta.is_tensor_array(e)) or t.handle is not e.handle:
            raise ValueError("Where one branch of a cond returns a TensorArray, the other must return the same "
                             "TensorArray (written to, scattered into, ...)")


def _case_pairs(pred_fn_pairs) -> list:
    """The (predicate, fn) pairs in evaluation order, checked as TF checks them."""
    if not isinstance(pred_fn_pairs, (list, _basetuple, dict)):
        raise TypeError("fns must be a list, tuple, or dict")
    if isinstance(pred_fn_pairs, dict):
        items = list(pred_fn_pairs.items())
        # TF orders a plain dict's entries by predicate name (an OrderedDict keeps its order).
        if type(pred_fn_pairs) is dict:
            items.sort(key=lambda item: item[0].name if isinstance(item[0], _ops.Tensor) else str(item[0]))
        pred_fn_pairs = items
    pairs = []
    for pair in pred_fn_pairs:
        if not isinstance(pair, _basetuple) or len(pair) != 2:
            raise TypeError("Each entry in pred_fn_pairs must be a 2-tuple")
        pred, fn = pair
        if not isinstance(pred, _ops.Tensor):
            raise TypeError(f"pred must be a Tensor, got: {pred}")
        if pred.dtype.base_dtype != _dt.bool_:
            raise TypeError(f"pred must be Tensor of type bool: {pred.name}")
        if not callable(fn):
            raise TypeError(f"fn for pred {pred.name} must be callable.")
        pairs.append((pred, fn))
    return pairs


def _assert_at_most_n_true(predicates: list, n: int, msg: str) -> _ops.Operation:
    preds_c = array_ops.stack(predicates, name="preds_c")
    num_true = math_ops.reduce_sum(math_ops.cast(preds_c, _dt.int32), name="num_true_conds")
    condition = math_ops.less_equal(num_true, constant(n, name="n_true_conds"))
    names = ", ".join(getattr(p, "name", "?") for p in predicates)
    error_msg = [f"{msg}: more than {n} conditions ({names}) evaluated as True:", preds_c]
    return Assert(condition, data=error_msg, summarize=len(predicates))


@tf_export("case")
def case(pred_fn_pairs, default=None, exclusive: bool = False, strict: bool = False, name: str = "case"):
    """`tf.case`: the result of the fn of the first predicate that holds, else of `default`.

    Built as nested conds, so only the chosen fn runs. Without `default` the last fn is the default and an
    assertion checks at run time that its predicate holds; with `exclusive` an assertion checks that at most
    one predicate holds.
    """
    pairs = _case_pairs(pred_fn_pairs)
    if default is not None and not callable(default):
        raise TypeError("default must be callable.")
    with _ops.name_scope(name, "case", [p for p, _ in pairs]):
        if not pairs:
            if default is None:
                raise ValueError("case needs at least one (pred, fn) pair or a default")
            return default()
        predicates = [p for p, _ in pairs]
        fns = [f for _, f in pairs]
        if default is None:
            *predicates_, last_pred = predicates
            *fns_, last_fn = fns
            all_preds = predicates

            def default():
                deps = [Assert(last_pred, data=["Input error: None of conditions evaluated as True:",
                                                array_ops.stack(all_preds, name="preds_c")])]
                if predicates_:
                    deps.append(_assert_at_most_n_true(
                        predicates_, 0,
                        f"Implementation error: selected default action #{len(predicates_)} was called, but some "
                        "of other predicates are True"))
                with _ops.control_dependencies(deps):
                    return last_fn()

            predicates, fns = predicates_, fns_

        def nested(i: int):
            if i == len(predicates):
                return default()
            return cond(predicates[i], fns[i], lambda: nested(i + 1), strict=strict, name="cond")

        if exclusive and len(pairs) > 1:
            with _ops.control_dependencies([_assert_at_most_n_true([p for p, _ in pairs], 1,
                                                                   "Input error: exclusive=True")]):
                return nested(0)
        return nested(0)


# ----------------------------------------------------------------------------------------------------------
# while_loop
# ----------------------------------------------------------------------------------------------------------
def _shape_less_equal(shape: _shape.TensorShape, invariant: _shape.TensorShape) -> bool:
    """Whether `shape` is at least as specific as `invariant` (every known invariant dim agrees)."""
    if invariant.ndims is None:
        return True
    if shape.ndims != invariant.ndims:
        return False
    return all(i is None or s == i for s, i in zip(shape.as_list(), invariant.as_list()))


def _loop_placeholders(graph: FuncGraph, loop_vars: list, invariants: list) -> list[_ops.Tensor]:
    with graph.as_default():
        return [array_ops.placeholder(v.dtype.base_dtype, inv, name=f"loop_var_{i}")
                for i, (v, inv) in enumerate(zip(loop_vars, invariants))]


@tf_export("while_loop")
def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations: int = 10, back_prop: bool = True,
               swap_memory: bool = False, name=None, maximum_iterations=None, return_same_structure: bool = False):
    """`tf.while_loop`: repeats `loop_vars = body(*loop_vars)` while `cond(*loop_vars)` holds.

    `loop_vars` is a list or tuple whose items may be nested structures. Each loop variable keeps its shape
    across iterations unless `shape_invariants` gives a less specific one; a body that changes a shape
    otherwise is a ValueError. `maximum_iterations` bounds the number of iterations. `back_prop=False`
    stops gradients (and recording). Returns the final values in the structure the body returns; a single
    loop variable is returned bare unless `return_same_structure`.
    """
    del swap_memory
    if not callable(cond):
        raise TypeError("cond must be callable.")
    if not callable(body):
        raise TypeError("body must be callable.")
    if parallel_iterations < 1:
        raise TypeError("parallel_iterations must be a positive integer.")
    if not loop_vars:
        raise ValueError("No loop variables provided")
    with _ops.name_scope(name, "while", _fops.flatten(loop_vars)) as scope:
        try_to_pack = len(loop_vars) == 1 and not return_same_structure
        if maximum_iterations is not None:
            maximum_iterations = _ops.convert_to_tensor(maximum_iterations, name="maximum_iterations")
            if maximum_iterations.shape.ndims not in (None, 0):
                raise ValueError(f"maximum_iterations must be a scalar, saw shape: {maximum_iterations.shape}")
            counter = constant(0, dtype=maximum_iterations.dtype, name="iteration_counter")
            orig_cond, orig_body = cond, body
            if try_to_pack:
                loop_vars = (counter, loop_vars[0])
                if shape_invariants is not None:
                    shape_invariants = (_shape.TensorShape([]), shape_invariants[0])

                def cond(i, lv):
                    return math_ops.logical_and(i < maximum_iterations, orig_cond(lv))

                def body(i, lv):
                    out = orig_body(lv)
                    if isinstance(out, (list, _basetuple)) and len(out) == 1:
                        out = out[0]
                    return (i + 1, out)
            else:
                loop_vars = (counter, loop_vars)
                if shape_invariants is not None:
                    shape_invariants = (_shape.TensorShape([]), shape_invariants)

                def cond(i, lv):
                    return math_ops.logical_and(i < maximum_iterations, orig_cond(*lv))

                def body(i, lv):
                    return (i + 1, _like(lv, orig_body(*lv)))
        result = _build_loop(cond, body, loop_vars, shape_invariants, parallel_iterations, back_prop, scope)
        if maximum_iterations is not None:
            return result[1]
        if return_same_structure:
            return result
        flat = _fops.flatten(result)
        return result[0] if len(flat) == 1 else result


def _like(loop_vars, result):
    """`result` as the same kind of sequence as `loop_vars` when a body returns a tuple for a list (or the
    reverse), so that wrapping the loop variables for maximum_iterations does not turn that into a nested
    structure mismatch."""
    plain = (list, _basetuple)
    if type(loop_vars) in plain and type(result) in plain and type(result) is not type(loop_vars):
        return type(loop_vars)(result)
    return result


def _build_loop(cond, body, loop_vars, shape_invariants, parallel_iterations, back_prop, scope: str):
    """Traces `cond` and `body` into function graphs and adds the While op; returns the final values packed
    as the body's result."""
    # A TensorArray loop variable travels through the loop as its flow; the body gets the array back, rebuilt
    # around the flow placeholder (its handle is captured), and so does the caller after the loop.
    flat_orig = _fops.flatten(loop_vars)
    flat_vars = [_flow_of(v) for v in flat_orig]
    if shape_invariants is None:
        invariants = [v.shape for v in flat_vars]
    else:
        _fops.assert_same_structure(loop_vars, shape_invariants, check_types=False)
        invariants = [_shape.TensorShape([]) if _ta.is_tensor_array(v) else _shape.as_shape(s)
                      for v, s in zip(flat_orig, _fops.flatten(shape_invariants))]
        for v, inv in zip(flat_vars, invariants):
            if not _shape_less_equal(v.shape, inv):
                raise ValueError(
                    f"The shape invariant specified for {v.name} is not compatible with the initial shape of the "
                    f"loop variable. It enters the loop with shape {v.shape}, but the specified shape invariant is "
                    f"{inv}."
                )
    outer = _ops.get_default_graph()
    base = scope[:-1]

    cond_graph = FuncGraph(unique_function_name(base + "_cond"), outer)
    cond_graph.inputs = _loop_placeholders(cond_graph, flat_vars, invariants)
    with cond_graph.as_default():
        c = _ops.convert_to_tensor(cond(*_fops.pack_sequence_as(loop_vars, _with_arrays(flat_orig, cond_graph.inputs))))
    if c.dtype.base_dtype != _dt.bool_:
        raise TypeError(
            f"Input 'pred' of 'While' Op has type {c.dtype.base_dtype.name} that does not match expected type of "
            "bool."
        )
    if c.shape.ndims not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {c.shape.ndims} for the condition of '{base}'.")
    cond_graph.outputs = _fops.body_outputs(cond_graph, [c])

    body_graph = FuncGraph(unique_function_name(base + "_body"), outer)
    body_graph.inputs = _loop_placeholders(body_graph, flat_vars, invariants)
    with body_graph.as_default():
        packed = _fops.pack_sequence_as(loop_vars, _with_arrays(flat_orig, body_graph.inputs))
        result = body(*packed)
        if not _fops.is_sequence(result):
            result = [result]
        _fops.assert_same_structure(list(packed), list(result))
        flat_result = _fops.flatten(result)
        _check_arrays_returned(flat_orig, flat_result)
        outs = [_flow_of(v) for v in flat_result]
    for v, out, inv in zip(flat_vars, outs, invariants):
        if out.dtype.base_dtype != v.dtype.base_dtype:
            raise TypeError(
                f"Loop variable {v.name} enters the loop with type {v.dtype.base_dtype.name}, but has type "
                f"{out.dtype.base_dtype.name} after one iteration."
            )
        if not _shape_less_equal(out.shape, inv):
            raise ValueError(
                f"Input tensor '{v.name}' enters the loop with shape {inv}, but has shape {out.shape} after one "
                "iteration. To allow the shape to vary across iterations, use the `shape_invariants` argument of "
                "tf.while_loop to specify a less-specific shape."
            )
    body_graph.outputs = _fops.body_outputs(body_graph, outs)
    op = _fops.make_while(flat_vars, cond_graph, body_graph, invariants, parallel_iterations, back_prop,
                          name=scope)
    return _fops.pack_sequence_as(result, _with_arrays(flat_orig, op.outputs[:-1]))


def _flow_of(value) -> _ops.Tensor:
    """A loop variable or branch output as the tensor that carries it: a TensorArray's flow."""
    return value.flow if _ta.is_tensor_array(value) else _ops.convert_to_tensor(value)


def _check_arrays_returned(originals: list, results: list) -> None:
    """A body must return, where a loop variable is a TensorArray, that array (its handle) with a new flow."""
    for o, r in zip(originals, results):
        if _ta.is_tensor_array(o) != _ta.is_tensor_array(r):
            raise TypeError(f"A loop variable is {'a TensorArray' if _ta.is_tensor_array(o) else 'a Tensor'} but the "
                            f"body returned {'a TensorArray' if _ta.is_tensor_array(r) else 'a Tensor'} in its place")
        if _ta.is_tensor_array(o) and r.handle is not o.handle:
            raise ValueError("The body of a while loop must return the TensorArray it was given (written to, "
                             "scattered into, ...), not another TensorArray")


def _with_arrays(originals: list, tensors) -> list:
    """`tensors` with each position where `originals` holds a TensorArray turned back into that array (its
    handle, with the tensor as flow)."""
    return [_ta.with_flow(o, t) if _ta.is_tensor_array(o) else t for o, t in zip(originals, tensors)]


# ----------------------------------------------------------------------------------------------------------
# Assert, Print, tf.print: how tensors are summarized in messages
# ----------------------------------------------------------------------------------------------------------
def _element_str(x, v2: bool) -> str:
    if isinstance(x, (bytes, np.bytes_)):
        s = x.decode("utf-8", errors="backslashreplace")
        return f'"{s}"' if v2 else s
    if isinstance(x, str):
        return f'"{x}"' if v2 else x
    if isinstance(x, (bool, np.bool_)):
        return "1" if x else "0"  # tf.Print, tf.print and tf.strings.format all show a bool tensor as 1/0
    if isinstance(x, np.floating):
        digits = 6 if x.dtype.itemsize <= 4 else 15
        s = f"{x:.{digits}g}"
        if type(x)(s) != x:
            s = f"{x:.{digits + 3}g}"
        return s
    return str(x)


def summarize_value(value, max_entries: int) -> str:
    """A tensor value as TF1's Assert and Print show it: the first `max_entries` elements (all if negative)
    in nested brackets, '...' where elements were left out."""
    a = np.asarray(value)
    flat = a.reshape(-1)
    n = flat.size
    limit = n if max_entries < 0 else min(max_entries, n)
    if a.ndim == 0:
        return " ".join(_element_str(x, False) for x in flat[:limit]) + ("..." if n > limit else "")
    out: list[str] = []
    index = 0

    def dim(d: int) -> None:
        nonlocal index
        if index >= limit:
            return
        count = a.shape[d]
        if d == a.ndim - 1:
            for i in range(count):
                if index >= limit:
                    if d != 0:
                        out.append("...")
                    return
                if i > 0:
                    out.append(" ")
                out.append(_element_str(flat[index], False))
                index += 1
            return
        for _ in range(count):
            opened = index < limit
            if opened:
                out.append("[")
            dim(d + 1)
            if index < limit or opened:
                out.append("]")

    dim(0)
    return "".join(out) + ("..." if n > limit else "")


def format_value_v2(value, summarize: int) -> str:
    """A tensor value as tf.print shows it: the first and last `summarize` entries of each dimension (all if
    negative), rows on separate lines."""
    a = np.asarray(value)
    if a.ndim == 0:
        return _element_str(a[()], True)
    ends = max(a.shape) if summarize < 0 else summarize
    out: list[str] = []

    def spacing(d: int) -> None:
        out.append(" " if d == a.ndim - 1 else "\n" * (a.ndim - d - 1) + " " * (d + 1))

    def dim(d: int, index: tuple) -> None:
        if d == a.ndim:
            out.append(_element_str(a[index], True))
            return
        out.append("[")
        count = a.shape[d]
        for i in range(min(ends, count)):
            if i > 0:
                spacing(d)
            dim(d + 1, index + (i,))
        if count > 2 * ends:
            spacing(d)
            out.append("...")
        for i in range(max(ends, count - ends), count):
            spacing(d)
            dim(d + 1, index + (i,))
        out.append("]")

    dim(0, ())
    return "".join(out)


@register_op(
    "Assert",
    inputs=["condition: bool", "data: T"],
    attrs={"T": ("list(type)", REQUIRED), "summarize": ("int", 3)},
    stateful=True,
)
def _assert(condition, *data, summarize):
    """Raises InvalidArgumentError showing `data` unless `condition` (a scalar) holds."""
    if np.size(condition) != 1:
        raise _errors.InvalidArgumentError(None, None, f"In[0] should be a scalar: {list(np.shape(condition))}")
    if not np.reshape(condition, ()):
        shown = " ".join(f"[{summarize_value(d, summarize)}]" for d in data)
        raise _errors.InvalidArgumentError(None, None, f"assertion failed: {shown}")


@tf_export("Assert", "debugging.Assert")
def Assert(condition, data, summarize=None, name=None) -> _ops.Operation:  # noqa: N802 - TF's public name
    """`tf.Assert`: an op that raises InvalidArgumentError ("assertion failed: [data]...") when run while
    `condition` is false; make other ops depend on it with tf.control_dependencies."""
    with _ops.name_scope(name, "Assert", [condition] + list(data)):
        xs = [_ops.convert_to_tensor(d) for d in data]
        condition = _ops.convert_to_tensor(condition, name="Condition")
        return apply_op("Assert", [condition, xs], {"summarize": 3 if summarize is None else int(summarize)},
                        name="Assert")


def _print_factory(op: _ops.Operation, ctx):
    message, first_n, summarize = op.get_attr("message"), op.get_attr("first_n"), op.get_attr("summarize")
    counts = ctx.resources.setdefault(("Print", op), [0])  # per session and op (a body may reuse a name)

    def run_print(x, *data):
        if first_n >= 0:
            if counts[0] >= first_n:
                return x
            counts[0] += 1
        sys.stderr.write(message + "".join(f"[{summarize_value(d, summarize)}]" for d in data) + "\n")
        return x

    return run_print


register_op(
    "Print",
    inputs=["input: T", "data: U"],
    outputs=["output: T"],
    attrs={"U": ("list(type)", REQUIRED), "message": ("string", ""), "first_n": ("int", -1),
           "summarize": ("int", 3)},
    shape=lambda op: op.inputs[0].shape,
    stateful=True,
    factory=_print_factory,
    doc="Passes `input` through, printing `message` and `data` to stderr (the first `first_n` times).",
)


@RegisterGradient("Print")
def _print_grad(op: _ops.Operation, grad):
    return [grad] + [None] * (len(op.inputs) - 1)


@tf_export("Print")
def Print(input_, data, message=None, first_n=None, summarize=None, name=None) -> _ops.Tensor:  # noqa: N802
    """`tf.Print`: an identity of `input_` that prints `message` and `data` to stderr each time it runs."""
    xs = [_ops.convert_to_tensor(d) for d in data]
    return apply_op(
        "Print", [input_, xs],
        {"message": message or "", "first_n": -1 if first_n is None else int(first_n),
         "summarize": 3 if summarize is None else int(summarize)},
        name=name,
    ).outputs[0]


@register_op(
    "StringFormat",
    inputs=["inputs: T"],
    outputs=["output: string"],
    attrs={"T": ("list(type)", REQUIRED), "template": ("string", "%s"), "placeholder": ("string", "%s"),
           "summarize": ("int", 3)},
    shape=lambda op: _shape.TensorShape([]),
)
def _string_format(*inputs, template, placeholder, summarize):
    """`template` with each `placeholder` replaced by the next input, formatted as tf.print shows tensors."""
    pieces = template.split(placeholder)
    if len(pieces) != len(inputs) + 1:
        raise _errors.InvalidArgumentError(
            None, None, f"num placeholders in template and num inputs must match: {len(pieces) - 1} vs. {len(inputs)}"
        )
    out = [pieces[0]]
    for value, piece in zip(inputs, pieces[1:]):
        out.append(format_value_v2(value, summarize))
        out.append(piece)
    return np.array("".join(out).encode(), dtype=object)


# How a failure to open or write the file of a `file://` output stream is reported, as TF's file system does.
_FILE_ERRORS = {FileNotFoundError: _errors.NotFoundError, PermissionError: _errors.PermissionDeniedError}


def _print_v2_factory(op: _ops.Operation, ctx):
    stream, end = op.get_attr("output_stream"), op.get_attr("end")
    path = _print_v2_path(op)

    def run_print_v2(text):
        text = np.asarray(text).item()
        s = (text.decode("utf-8", errors="backslashreplace") if isinstance(text, bytes) else str(text)) + end
        if path is not None:
            try:
                with open(path, "a", encoding="utf-8") as f:
                    f.write(s)
            except OSError as e:
                cls = _FILE_ERRORS.get(type(e), _errors.UnknownError)
                raise cls(None, op, f"{path}; {e.strerror or e}") from None
        else:
            (sys.stdout if stream == "stdout" else sys.stderr).write(s)

    return run_print_v2


def _print_v2_path(op: _ops.Operation) -> str | None:
    """The file a PrintV2 op appends to (its `output_stream` is 'file://path'), or None for stdout/stderr."""
    stream = op.get_attr("output_stream")
    return stream[len("file://"):] if stream.startswith("file://") else None


def _print_v2_file(op: _ops.Operation) -> str | None:
    path = _print_v2_path(op)
    return None if path is None else f"the file '{path}'"


register_op(
    "PrintV2",
    inputs=["input: string"],
    attrs={"output_stream": ("string", "stderr"), "end": ("string", "\n")},
    stateful=True,
    factory=_print_v2_factory,
    file_access=_print_v2_file,
    doc="Writes the string `input` and `end` to `output_stream` (stderr, stdout or file://path).",
)


def _print_template(value, placeholder: str, tensors: list, top: bool) -> str:
    if isinstance(value, _ops.Tensor) or (hasattr(value, "_as_graph_element")
                                          and not isinstance(value, _ops.Operation)):
        tensors.append(_ops.convert_to_tensor(value))
        return placeholder
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_print_template(v, placeholder, tensors, False)}"
                               for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_print_template(v, placeholder, tensors, False) for v in value) + "]"
    if isinstance(value, _basetuple):
        inner = ", ".join(_print_template(v, placeholder, tensors, False) for v in value)
        return "(" + inner + ("," if len(value) == 1 else "") + ")"
    return str(value) if top else repr(value)


@tf_export("print")
def print_v2(*inputs, **kwargs) -> _ops.Operation:
    """`tf.print`: an op that prints `inputs` (tensors formatted like NumPy arrays, other values as Python
    shows them) separated by `sep` and followed by `end`, to `output_stream` (sys.stderr by default,
    sys.stdout, or 'file://path'). Run it (or depend on it) for it to print."""
    output_stream = kwargs.pop("output_stream", sys.stderr)
    name = kwargs.pop("name", None)
    summarize = kwargs.pop("summarize", 3)
    sep = kwargs.pop("sep", " ")
    end = kwargs.pop("end", "\n")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments for tf.print: {kwargs}")
    if output_stream is sys.stderr:
        stream = "stderr"
    elif output_stream is sys.stdout:
        stream = "stdout"
    elif isinstance(output_stream, str) and output_stream.startswith("file://"):
        stream = output_stream
    else:
        raise ValueError(
            f"Unsupported output stream, logging level, or file.{output_stream}. Supported streams are sys.stdout, "
            "sys.stderr, and file://path"
        )
    placeholder = "{}"
    while any(isinstance(x, str) and placeholder in x for x in _fops.flatten(list(inputs))):
        placeholder = "{" + placeholder + "}"
    tensors: list = []
    template = sep.join(_print_template(x, placeholder, tensors, True) for x in inputs)
    with _ops.name_scope(name, "PrintV2", tensors):
        text = apply_op("StringFormat", [tensors],
                        {"template": template, "placeholder": placeholder,
                         "summarize": 3 if summarize is None else int(summarize)},
                        name="StringFormat").outputs[0]
        return apply_op("PrintV2", [text], {"output_stream": stream, "end": end}, name="PrintV2")
