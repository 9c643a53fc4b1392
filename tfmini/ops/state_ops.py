"""State ops: the variable op (VariableV2), assignment (Assign, AssignAdd, AssignSub, Scatter*, CountUpTo),
IsVariableInitialized, and the training ops (Apply*, SparseApply*) that update variable storage in place.

A variable's value lives in its session's `RefCell` (see client/executor.py), never in the graph: the
VariableV2 kernel hands out the cell, ops with `Ref(T)` inputs receive the cell and update it, and every
other consumer receives a read-only view of its value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.indexed_slices import IndexedSlices
from tfmini.framework.registry import NotDifferentiable, apply_op, register_op
from tfmini.ops import array_ops, shape_fns

_INDEX = (_dt.int32, _dt.int64)


# ----------------------------------------------------------------------------------------------------------
# Shape helpers (TF's shape-inference messages, which users see as ValueErrors at graph construction)
# ----------------------------------------------------------------------------------------------------------
def merge_shapes(a: _shape.TensorShape, b: _shape.TensorShape) -> _shape.TensorShape:
    """The most specific shape compatible with both, or ValueError with TF's message."""
    return _shape.TensorShape(shape_fns.merge_dims(a.as_tuple(), b.as_tuple()))


def _with_rank(s: _shape.TensorShape, rank: int) -> None:
    if s.ndims is not None and s.ndims != rank:
        raise ValueError(f"Shape must be rank {rank} but is rank {s.ndims}")


def _array_dims(shape: tuple) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


# ----------------------------------------------------------------------------------------------------------
# Variables
# ----------------------------------------------------------------------------------------------------------
def _variable_factory(op, ctx):
    cell = ctx.cell(op)

    def variable():
        return cell

    return variable


register_op(
    "VariableV2",
    outputs=["ref: Ref(dtype)"],
    attrs={"shape": ("shape", _reg.REQUIRED), "dtype": ("type", _reg.REQUIRED), "container": ("string", ""),
           "shared_name": ("string", "")},
    shape=lambda op: op.get_attr("shape"),
    stateful=True,
    factory=_variable_factory,
    doc="A variable: its output is the session's storage cell for it, holding a value once assigned.",
)


def _uninitialized(cell, what: str = "value") -> _errors.FailedPreconditionError:
    return _errors.FailedPreconditionError(None, None, f"Attempting to use uninitialized {what} {cell.name}")


def _locked(kernel: Callable, ref_positions: Sequence[int]) -> Callable:
    """`kernel` holding the locks of the variables at `ref_positions` while it runs (TF's `use_locking`):
    updates of one variable by such ops are serialized. Several variables are locked in one global order
    (by identity), so two ops locking the same variables cannot deadlock."""
    if len(ref_positions) == 1:
        at = ref_positions[0]

        def locked_one(*values):
            with values[at].lock:
                return kernel(*values)

        return locked_one

    def locked(*values):
        cells = sorted({id(values[i]): values[i] for i in ref_positions}.values(), key=id)
        held = []
        try:
            for cell in cells:
                cell.lock.acquire()
                held.append(cell)  # released below even if an interrupt stops the loop at the next lock
            return kernel(*values)
        finally:
            for cell in reversed(held):
                cell.lock.release()

    return locked


def _locking_factory(make: Callable, ref_positions: Sequence[int] = (0,), always: bool = False) -> Callable:
    """A kernel factory whose kernel (`make(op)`) takes its variables' locks when the op's `use_locking` attr
    is set, or always for ops that TF always runs under the lock."""
    def factory(op, ctx):
        kernel = make(op)
        return _locked(kernel, ref_positions) if always or op.get_attr("use_locking") else kernel

    return factory


def _same_for_every_op(kernel: Callable) -> Callable:
    """`op -> kernel` for a kernel that needs nothing from its op."""
    return lambda op: kernel


def _static_var_shape(cell) -> tuple | None:
    """The shape a not-yet-initialized variable was declared with, if fully known."""
    op = cell.op
    if op is None or "shape" not in op._attrs:
        return None
    s = op.get_attr("shape")
    return tuple(s.as_list()) if s.is_fully_defined() else None


def _assign_shape(op):
    if op.get_attr("validate_shape"):
        merge_shapes(op.inputs[0].shape, op.inputs[1].shape)
    return op.inputs[1].shape


def _assign_kernel(op):
    validate = op.get_attr("validate_shape")

    def assign(cell, value):
        if validate:
            expected = cell.base.shape if cell.initialized else _static_var_shape(cell)
            if expected is not None and np.shape(value) != expected:
                raise _errors.InvalidArgumentError(
                    None, None, f"Assign requires shapes of both tensors to match. lhs shape= "
                    f"{_array_dims(expected)} rhs shape= {_array_dims(np.shape(value))}"
                )
        # A fresh buffer, so values read from the variable earlier in this run keep what they read.
        cell.value = value
        return cell

    return assign


register_op(
    "Assign",
    inputs=["ref: Ref(T)", "value: T"],
    outputs=["output_ref: Ref(T)"],
    attrs={"validate_shape": ("bool", True), "use_locking": ("bool", True)},
    shape=_assign_shape,
    stateful=True,
    factory=_locking_factory(_assign_kernel),
    doc="Stores a copy of `value` as the variable's value; outputs the variable.",
)


def _update_shape(op):
    return merge_shapes(op.inputs[0].shape, op.inputs[1].shape)


def _dense_update(ufunc: Callable) -> Callable:
    def kernel(cell, value):
        if not cell.initialized:
            raise _uninitialized(cell, "parameters:")
        base = cell.base
        if base.shape != np.shape(value):
            raise _errors.InvalidArgumentError(None, None, "Parameters and update must be the same size")
        ufunc(base, value, out=base)
        return cell

    return kernel


for _name, _ufunc in (("AssignAdd", np.add), ("AssignSub", np.subtract)):
    register_op(
        _name,
        inputs=["ref: Ref(T)", "value: T"],
        outputs=["output_ref: Ref(T)"],
        attrs={"use_locking": ("bool", False)},
        allowed={"T": _dt.NUMBER},
        shape=_update_shape,
        stateful=True,
        factory=_locking_factory(_same_for_every_op(_dense_update(_ufunc))),
        doc=f"Updates the variable in place with {_ufunc.__name__}(variable, value); outputs the variable.",
    )


@register_op("IsVariableInitialized", inputs=["ref: Ref(dtype)"], outputs=["is_initialized: bool"],
             shape=shape_fns.scalar, stateful=True)
def _is_variable_initialized(cell):
    """Whether the variable holds a value."""
    return np.bool_(cell.initialized)


def _count_up_to_kernel(op):
    limit = op.get_attr("limit")
    resource = op.type == "ResourceCountUpTo"

    def count_up_to(cell):
        if not cell.initialized:
            raise uninitialized_resource(cell) if resource else _uninitialized(cell)
        old = cell.base.copy()
        if old >= limit:
            raise _errors.OutOfRangeError(None, None, f"Reached limit of {limit}")
        if resource:
            cell.set_base(np.array(old + 1, dtype=old.dtype))  # a new array: the read before keeps its count
        else:
            cell.base += 1
        return old

    return count_up_to


register_op(
    "CountUpTo",
    inputs=["ref: Ref(T)"],
    outputs=["output: T"],
    attrs={"limit": ("int", _reg.REQUIRED)},
    allowed={"T": _INDEX},
    shape=shape_fns.unchanged,
    stateful=True,
    # Always under the variable's lock, as in TF: concurrent runs each get a distinct count.
    factory=_locking_factory(_count_up_to_kernel, always=True),
    doc="Outputs the variable's value, then increments it; fails once the value has reached `limit`.",
)
register_op(
    "ResourceCountUpTo",
    inputs=["resource: resource"],
    outputs=["output: T"],
    attrs={"limit": ("int", _reg.REQUIRED)},
    allowed={"T": _INDEX},
    shape=lambda op: handle_shape(op.inputs[0]),
    stateful=True,
    factory=_locking_factory(_count_up_to_kernel, always=True),
    doc="Outputs the resource variable's value, then increments it; fails once the value has reached `limit`.",
)


# ----------------------------------------------------------------------------------------------------------
# Resource variables' storage: a VarHandleOp's output is the session's RefCell for (container, shared_name);
# the ops that update it never write into its array but install a new one, so the values ReadVariableOp
# handed out earlier stay what they read (TF's copy-on-write).
# ----------------------------------------------------------------------------------------------------------
def handle_shape(t: _ops.Tensor) -> _shape.TensorShape:
    """The shape of the variable a resource handle `t` points to, when the graph says it: a VarHandleOp's,
    also through Identity and into the function bodies that captured the handle."""
    while True:
        op = t.op
        if op.type == "VarHandleOp":
            return op.get_attr("shape")
        if op.type == "Identity":
            t = op.inputs[0]
            continue
        outer = next((k for k, inner in getattr(t.graph, "captures", {}).items() if inner is t), None)
        if outer is None:
            return _shape.unknown_shape()
        t = outer


def _tf_type_name(dtype) -> str:
    """TF's DataTypeString spelling of a NumPy or tfmini dtype ('float' for float32, 'double' for float64)."""
    name = _dt.as_dtype(dtype).base_dtype.name
    return {"float32": "float", "float64": "double", "float16": "half"}.get(name, name)


def resource_container(cell) -> str:
    """The container TF names for a resource variable's cell: the handle's `container` attr, else the default
    container of the task that holds it ('localhost' for a local session, the job's name on a worker)."""
    container = getattr(cell, "container", None)
    if container:
        return container
    return (cell.op.get_attr("container") if cell.op is not None else "") or "localhost"


def missing_resource_message(cell, looking_up: bool = True) -> str:
    """TF's resource manager's text for a resource variable it does not hold: 'Container <c> does not exist.'
    while nothing at all is in the variable's container yet (with what was looked for, for a lookup), else
    'Resource <c>/<name>/<type> does not exist.' (a lookup names a variable's C++ type, a deletion
    '<unknown>')."""
    container = resource_container(cell)
    exists = getattr(cell, "container_exists", None)
    if exists is not None and not exists():
        found = f" (Could not find resource: {container}/{cell.name})" if looking_up else ""
        return f"Container {container} does not exist.{found}"
    kind = "N10tensorflow3VarE" if looking_up else "<unknown>"
    return f"Resource {container}/{cell.name}/{kind} does not exist."


def uninitialized_resource(cell) -> _errors.FailedPreconditionError:
    return _errors.FailedPreconditionError(
        None, None, f"Error while reading resource variable {cell.name} from Container: {resource_container(cell)}. "
        f"This could mean that the variable was uninitialized. Not found: {missing_resource_message(cell)}")


def check_resource_dtype(cell, dtype, assigning: bool = False) -> None:
    """InvalidArgumentError unless the variable in `cell` holds values of the NumPy dtype `dtype`. As in TF, a
    read names the dtype it asked for first, an assignment the variable's dtype first."""
    have = cell.base.dtype
    if have != dtype:
        if assigning:
            raise _errors.InvalidArgumentError(
                None, None, f"Trying to assign variable with wrong dtype. Expected {_tf_type_name(have)} got "
                f"{_tf_type_name(dtype)}")
        raise _errors.InvalidArgumentError(
            None, None, f"Trying to read variable with wrong dtype. Expected {_tf_type_name(dtype)} got "
            f"{_tf_type_name(have)}")


# ----------------------------------------------------------------------------------------------------------
# Sliced assignment (`v[1:3].assign(x)`), with StridedSlice's index semantics
# ----------------------------------------------------------------------------------------------------------
def _strided_slice_assign_kernel(op):
    masks = [op.get_attr(k) for k in array_ops._SLICE_ATTRS]
    resource = op.type == "ResourceStridedSliceAssign"

    def assign(cell, begin, end, strides, value):
        if not cell.initialized:
            raise uninitialized_resource(cell) if resource else _uninitialized(cell)
        # The resource form writes into a copy it then installs: earlier reads keep their values.
        base = cell.base.copy() if resource else cell.base
        index = array_ops._slice_index(begin, end, strides, *masks, array_ops._invalid)
        array_ops._sliced_dims(base.shape, index, array_ops._invalid)
        target = base[index]
        if np.shape(value) != np.shape(target):
            raise _errors.InvalidArgumentError(
                None, None, f"sliced l-value shape {_array_dims(np.shape(target))} does not match r-value shape "
                f"{_array_dims(np.shape(value))}. Automatic broadcasting not yet implemented."
            )
        base[index] = value
        if resource:
            cell.set_base(base)
            return None
        return cell

    return assign


register_op(
    "StridedSliceAssign",
    inputs=["ref: Ref(T)", "begin: Index", "end: Index", "strides: Index", "value: T"],
    outputs=["output_ref: Ref(T)"],
    attrs=dict(array_ops._SLICE_ATTRS),
    allowed={"Index": _INDEX},
    shape=shape_fns.unchanged,
    stateful=True,
    # TF runs it under the variable's lock (it has no use_locking attr).
    factory=_locking_factory(_strided_slice_assign_kernel, always=True),
    doc="Assigns `value` to the part of the variable that StridedSlice with the same arguments reads.",
)


register_op(
    "ResourceStridedSliceAssign",
    inputs=["ref: resource", "begin: Index", "end: Index", "strides: Index", "value: T"],
    attrs={"T": ("type", _reg.REQUIRED), **array_ops._SLICE_ATTRS},
    allowed={"Index": _INDEX},
    shape=lambda op: [],
    stateful=True,
    factory=_locking_factory(_strided_slice_assign_kernel, always=True),
    doc="Assigns `value` to the part of the resource variable that StridedSlice with the same arguments reads.",
)


def strided_slice_assign(ref, begin, end, strides, value, name=None, begin_mask=0, end_mask=0, ellipsis_mask=0,
                         new_axis_mask=0, shrink_axis_mask=0) -> _ops.Tensor:
    attrs = {"begin_mask": begin_mask, "end_mask": end_mask, "ellipsis_mask": ellipsis_mask,
             "new_axis_mask": new_axis_mask, "shrink_axis_mask": shrink_axis_mask}
    return apply_op("StridedSliceAssign", [ref, begin, end, strides, value], attrs, name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# Scatter updates
# ----------------------------------------------------------------------------------------------------------
def _scatter_shape(op):
    ref, indices, updates = (t.shape for t in op.inputs)
    if updates.ndims == 0 or ref.ndims is None or indices.ndims is None:
        return ref
    expected = indices.concatenate(_shape.TensorShape(ref.as_list()[1:]))
    try:
        merge_shapes(updates, expected)
    except ValueError:
        raise ValueError(
            f"Shapes must be equal rank, but are {updates.ndims} and {expected.ndims}"
            if updates.ndims != expected.ndims else
            f"Must have updates.shape = indices.shape + params.shape[1:] or updates.shape = [], got "
            f"updates.shape {_shape.dims_str(updates)}, indices.shape {_shape.dims_str(indices)}, params.shape "
            f"{_shape.dims_str(ref)}"
        ) from None
    return ref


def _check_scatter(cell, indices, updates) -> np.ndarray:
    if not cell.initialized:
        raise _uninitialized(cell)
    base = cell.base
    n = base.shape[0] if base.ndim else 0
    if np.ndim(updates) and np.shape(updates) != np.shape(indices) + base.shape[1:]:
        raise _errors.InvalidArgumentError(
            None, None, "Must have updates.shape = indices.shape + params.shape[1:] or updates.shape = [], got "
            f"updates.shape {_array_dims(np.shape(updates))}, indices.shape {_array_dims(np.shape(indices))}, "
            f"params.shape {_array_dims(base.shape)}"
        )
    flat = np.reshape(indices, -1)
    bad = (flat < 0) | (flat >= n)
    if bad.any():
        i = int(np.argmax(bad))
        raise _errors.InvalidArgumentError(None, None, f"indices[{i}] = {flat[i]} is not in [0, {n})")
    return base


def _scatter_set(base, indices, updates):
    base[indices] = updates


def _scatter_divide(base, indices, updates) -> None:
    if np.issubdtype(base.dtype, np.integer):
        # Integers divide with truncation, as in C++; the divisions of one row by repeated indices are one
        # division by their product, truncated once.
        work = base.astype(np.float64)
        np.divide.at(work, indices, updates)
        base[...] = np.trunc(work)
    else:
        np.divide.at(base, indices, updates)


# TF's ScatterMin/ScatterMax take the floating types, int32 and int64 only.
_SCATTER_MIN_MAX_TYPES = (_dt.float16, _dt.float32, _dt.float64, _dt.int32, _dt.int64)
_SCATTERS = {
    # op type: (in-place update, allowed T, use_locking default)
    "ScatterUpdate": (_scatter_set, _dt.ALL_TYPES, True),
    "ScatterAdd": (np.add.at, _dt.NUMBER, False),
    "ScatterSub": (np.subtract.at, _dt.NUMBER, False),
    "ScatterMul": (np.multiply.at, _dt.NUMBER, False),
    "ScatterMin": (np.minimum.at, _SCATTER_MIN_MAX_TYPES, False),
    "ScatterMax": (np.maximum.at, _SCATTER_MIN_MAX_TYPES, False),
    "ScatterDiv": (_scatter_divide, _dt.NUMBER, False),
}


def _scatter_kernel(update: Callable) -> Callable:
    def kernel(cell, indices, updates):
        base = _check_scatter(cell, indices, updates)
        update(base, indices, updates)
        return cell

    return kernel


def _register_ref_scatter(op_type: str, kernel: Callable, allowed, use_locking: bool, shape: Callable,
                          doc: str) -> None:
    """Declares a scatter into a ref variable: inputs (ref, indices, updates), the variable as output."""
    register_op(
        op_type,
        inputs=["ref: Ref(T)", "indices: Tindices", "updates: T"],
        outputs=["output_ref: Ref(T)"],
        attrs={"use_locking": ("bool", use_locking)},
        allowed={"T": allowed, "Tindices": _INDEX},
        shape=shape,
        stateful=True,
        factory=_locking_factory(_same_for_every_op(kernel)),
        doc=doc,
    )


for _name, (_update, _allowed, _locking) in _SCATTERS.items():
    _register_ref_scatter(_name, _scatter_kernel(_update), _allowed, _locking, _scatter_shape,
                          "Updates the rows of the variable named by `indices` in place; outputs the variable.")


def _scatter_nd_shape(op):
    ref, indices, updates = (t.shape for t in op.inputs)
    if ref.ndims is None or indices.ndims is None or updates.ndims is None or indices[-1].value is None:
        return ref
    depth = indices[-1].value
    if depth > ref.ndims:
        raise ValueError(f"The last dimension of indices ({depth}) must be <= the rank of ref ({ref.ndims})")
    expected = indices[:-1].concatenate(ref[depth:])
    if not updates.is_compatible_with(expected):
        raise ValueError(f"Must have updates.shape = indices.shape[:-1] + ref.shape[indices.shape[-1]:], got "
                         f"updates.shape {_shape.dims_str(updates)}, indices.shape {_shape.dims_str(indices)}, "
                         f"ref.shape {_shape.dims_str(ref)}")
    return ref


def _scatter_nd_index(base: np.ndarray, indices: np.ndarray, updates) -> tuple:
    """The index tuple of an nd scatter into `base`, after TF's checks of the indices and the updates' shape."""
    if indices.ndim < 1 or indices.shape[-1] > base.ndim:
        raise _errors.InvalidArgumentError(
            None, None, f"indices must have a last dimension <= the rank of ref {base.ndim}, got shape "
            f"{_array_dims(indices.shape)}")
    depth = indices.shape[-1]
    if np.shape(updates) != indices.shape[:-1] + base.shape[depth:]:
        raise _errors.InvalidArgumentError(
            None, None, "Must have updates.shape = indices.shape[:batch_dim] + params_shape[slice_dim:], got "
            f"updates.shape: {_array_dims(np.shape(updates))}, indices.shape: {_array_dims(indices.shape)}, "
            f"params_shape: {_array_dims(base.shape)}")
    array_ops._check_nd_indices(indices, base.shape, "params shape")
    return tuple(indices[..., k] for k in range(depth))


def _scatter_nd_kernel(update: Callable) -> Callable:
    def kernel(cell, indices, updates):
        if not cell.initialized:
            raise _uninitialized(cell)
        update(cell.base, _scatter_nd_index(cell.base, indices, updates), updates)
        return cell

    return kernel


def _resource_scatter_nd_factory(update: Callable) -> Callable:
    """A resource variable's nd scatter: the update goes into a copy that replaces the storage (reads taken
    before it keep their values), under the variable's lock."""
    def factory(op, ctx):
        dtype = op.get_attr("T").as_numpy_dtype

        def kernel(cell, indices, updates):
            with cell.lock:
                if not cell.initialized:
                    raise uninitialized_resource(cell)
                check_resource_dtype(cell, dtype)
                index = _scatter_nd_index(cell.base, indices, updates)
                work = cell.base.copy()
                update(work, index, updates)
                cell.set_base(work)

        return kernel

    return factory


_SCATTER_NDS = {
    # op type: (in-place update, allowed T, use_locking default)
    "ScatterNdUpdate": (_scatter_set, _dt.ALL_TYPES, True),
    "ScatterNdAdd": (np.add.at, _dt.NUMBER, False),
    "ScatterNdSub": (np.subtract.at, _dt.NUMBER, False),
}

for _name, (_update, _allowed, _locking) in _SCATTER_NDS.items():
    _register_ref_scatter(_name, _scatter_nd_kernel(_update), _allowed, _locking, _scatter_nd_shape,
                          "Updates the elements or slices of the variable named by the index tuples in `indices` in "
                          "place.")
    register_op(
        "Resource" + _name,
        inputs=["ref: resource", "indices: Tindices", "updates: T"],
        attrs={"T": ("type", _reg.REQUIRED), "use_locking": ("bool", True)},
        allowed={"T": _allowed, "Tindices": _INDEX},
        shape=lambda op: [],
        stateful=True,
        factory=_resource_scatter_nd_factory(_update),
        doc="Updates the elements or slices of the resource variable named by the index tuples in `indices`.",
    )
# TF's "IGNORE" policy skips out-of-range indices; tfmini implements the default, an error.
_reg.import_only_attr(tuple(_SCATTER_NDS) + tuple("Resource" + n for n in _SCATTER_NDS), "bad_indices_policy",
                      "string", "")


# ----------------------------------------------------------------------------------------------------------
# Training ops. Each is declared by its argument list: "name: ref" (a variable or slot, updated in place),
# "name: scalar", "grad" and, for the sparse forms, "indices". The update functions get the storage arrays
# of the refs and the values of the others, in declaration order, and write into the refs. "name: int64" is
# an int64 scalar (AdagradDA's global step), whatever the variable's type.
# ----------------------------------------------------------------------------------------------------------
def _gradient_descent(var, alpha, delta):
    var -= alpha * delta


def _adagrad(var, accum, lr, grad, *, update_slots=True):
    if update_slots:
        accum += grad * grad
    var -= grad * lr / np.sqrt(accum)


def _momentum(var, accum, lr, grad, momentum, *, use_nesterov=False):
    accum *= momentum
    accum += grad
    if use_nesterov:
        var -= grad * lr + accum * momentum * lr
    else:
        var -= accum * lr


def _adam(var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad, *, use_nesterov=False):
    alpha = lr * np.sqrt(1 - beta2_power) / (1 - beta1_power)
    m += (grad - m) * (1 - beta1)
    v += (grad * grad - v) * (1 - beta2)
    if use_nesterov:
        var -= ((grad * (1 - beta1) + beta1 * m) * alpha) / (np.sqrt(v) + epsilon)
    else:
        var -= (m * alpha) / (np.sqrt(v) + epsilon)


def _adadelta(var, accum, accum_update, lr, rho, epsilon, grad):
    accum += (grad * grad - accum) * (1 - rho)
    update = np.sqrt(accum_update + epsilon) / np.sqrt(accum + epsilon) * grad
    var -= update * lr
    accum_update += (update * update - accum_update) * (1 - rho)


def _rms_prop(var, ms, mom, lr, rho, momentum, epsilon, grad):
    ms += (grad * grad - ms) * (1 - rho)
    mom *= momentum
    mom += grad * lr / np.sqrt(ms + epsilon)
    var -= mom


def _centered_rms_prop(var, mg, ms, mom, lr, rho, momentum, epsilon, grad):
    ms += (grad * grad - ms) * (1 - rho)
    mg += (grad - mg) * (1 - rho)
    mom *= momentum
    mom += grad * lr / np.sqrt(ms - mg * mg + epsilon)
    var -= mom


_TRAINING_OPS = {
    # op type: (arguments, update, extra attrs {name: default})
    "ApplyGradientDescent": (["var: ref", "alpha: scalar", "delta: grad"], _gradient_descent, {}),
    "ApplyAdagrad": (["var: ref", "accum: ref", "lr: scalar", "grad: grad"], _adagrad, {"update_slots": True}),
    "ApplyMomentum": (["var: ref", "accum: ref", "lr: scalar", "grad: grad", "momentum: scalar"], _momentum,
                      {"use_nesterov": False}),
    "ApplyAdam": (["var: ref", "m: ref", "v: ref", "beta1_power: scalar", "beta2_power: scalar", "lr: scalar",
                   "beta1: scalar", "beta2: scalar", "epsilon: scalar", "grad: grad"], _adam,
                  {"use_nesterov": False}),
    "ApplyAdadelta": (["var: ref", "accum: ref", "accum_update: ref", "lr: scalar", "rho: scalar", "epsilon: scalar",
                       "grad: grad"], _adadelta, {}),
    "ApplyRMSProp": (["var: ref", "ms: ref", "mom: ref", "lr: scalar", "rho: scalar", "momentum: scalar",
                      "epsilon: scalar", "grad: grad"], _rms_prop, {}),
    "ApplyCenteredRMSProp": (["var: ref", "mg: ref", "ms: ref", "mom: ref", "lr: scalar", "rho: scalar",
                              "momentum: scalar", "epsilon: scalar", "grad: grad"], _centered_rms_prop, {}),
}
# The sparse forms update only the rows named by `indices` (the dense op's arguments plus "indices" after
# "grad"). Repeated indices are summed first, as TF's optimizers do in the graph before calling these ops.
_SPARSE_OF = {
    "SparseApplyAdadelta": "ApplyAdadelta",
    "SparseApplyAdagrad": "ApplyAdagrad",
    "SparseApplyMomentum": "ApplyMomentum",
    "SparseApplyRMSProp": "ApplyRMSProp",
    "SparseApplyCenteredRMSProp": "ApplyCenteredRMSProp",
}


def _parse_args(args: list[str]) -> list[tuple[str, str]]:
    return [tuple(s.strip() for s in a.split(":")) for a in args]


def _training_shape(args: list[tuple[str, str]], resource: bool) -> Callable:
    def ref_shape(t):
        return handle_shape(t) if resource else t.shape

    def shape(op):
        var = ref_shape(op.inputs[0])
        grad = indices = None
        for (_, kind), t in zip(args[1:], op.inputs[1:]):
            if kind == "ref":
                var = merge_shapes(var, ref_shape(t))
            elif kind in ("scalar", "int64"):
                _with_rank(t.shape, 0)
            elif kind == "grad":
                grad = t.shape
            else:
                indices = t.shape
        if indices is None:
            var = merge_shapes(var, grad)
            return [] if resource else var
        _with_rank(indices, 1)
        if grad.ndims is not None and grad.ndims == 0:
            raise ValueError("Shape must be at least rank 1 but is rank 0")
        if grad.ndims is not None and indices.ndims is not None:
            merge_shapes(_shape.TensorShape(grad.as_list()[:1]), indices)
        if grad.ndims is not None and var.ndims is not None:
            merge_shapes(_shape.TensorShape(grad.as_list()[1:]), _shape.TensorShape(var.as_list()[1:]))
        return [] if resource else var

    return shape


def _check_training_inputs(args, values, sparse: bool, resource_dtype=None) -> list:
    """The arrays the update works on (refs' storage, other values as given), after TF's checks. For the
    resource forms (`resource_dtype` set) the storage arrays are private copies: the caller installs them
    after the update, so values read from the variables earlier keep what they read."""
    out = []
    var_shape = None
    for (name, kind), v in zip(args, values):
        if kind == "ref":
            if not v.initialized:
                raise _uninitialized(v, "variables:") if resource_dtype is None else uninitialized_resource(v)
            base = v.base
            if resource_dtype is not None:
                check_resource_dtype(v, resource_dtype)
                base = base.copy()
            if var_shape is None:
                var_shape = base.shape
            elif base.shape != var_shape:
                raise _errors.InvalidArgumentError(
                    None, None, f"var and {name} do not have the same shape{_array_dims(var_shape)} "
                    f"{_array_dims(base.shape)}"
                )
            out.append(base)
            continue
        # Kernel inputs are NumPy arrays or NumPy scalars, which both have .ndim and .shape.
        if kind in ("scalar", "int64") and v.ndim != 0:
            raise _errors.InvalidArgumentError(None, None, f"{name} is not a scalar: {_array_dims(v.shape)}")
        if kind == "grad" and not sparse and v.shape != var_shape:
            raise _errors.InvalidArgumentError(
                None, None, f"var and grad do not have the same shape{_array_dims(var_shape)} "
                f"{_array_dims(v.shape)}"
            )
        out.append(v)
    return out


def _ref_positions(args) -> list[int]:
    return [i for i, (_, kind) in enumerate(args) if kind == "ref"]


def _install(values, arrays, positions) -> None:
    """Makes the updated private copies the resource variables' storage."""
    for i in positions:
        values[i].set_base(arrays[i])


def _dense_training_factory(args, update, extra, resource: bool) -> Callable:
    positions = _ref_positions(args)

    def make(op):
        kwargs = {k: op.get_attr(k) for k in extra}
        if resource:
            dtype = op.get_attr("T").as_numpy_dtype

            def apply_resource(*values):
                arrays = _check_training_inputs(args, values, False, dtype)
                update(*arrays, **kwargs)
                _install(values, arrays, positions)

            return apply_resource

        def apply(*values):
            update(*_check_training_inputs(args, values, False), **kwargs)
            return values[0]

        return apply

    return _locking_factory(make, positions)


def _sparse_rows(var_shape, grad, indices):
    """(rows, gradient per row) with each row once, after TF's checks on a sparse gradient."""
    if np.ndim(indices) != 1:
        raise _errors.InvalidArgumentError(None, None, "indices must be one-dimensional")
    if np.ndim(grad) < 1 or np.shape(grad)[0] != np.shape(indices)[0]:
        raise _errors.InvalidArgumentError(None, None, "grad must be the same size as indices in the first dimension.")
    if np.shape(grad)[1:] != var_shape[1:]:
        raise _errors.InvalidArgumentError(
            None, None, f"var and grad must match in dimension 1 and up: {_array_dims(var_shape)} vs "
            f"{_array_dims(np.shape(grad))}"
        )
    bad = (indices < 0) | (indices >= var_shape[0])
    if bad.any():
        i = int(np.argmax(bad))
        raise _errors.InvalidArgumentError(None, None, f"Index {indices[i]} at offset {i} in indices is out of range")
    rows, inverse = np.unique(indices, return_inverse=True)
    if len(rows) == len(indices):
        return indices, grad
    summed = np.zeros((len(rows),) + np.shape(grad)[1:], dtype=grad.dtype)
    np.add.at(summed, inverse.reshape(-1), grad)
    return rows, summed


def _sparse_training_factory(args, update, extra, resource: bool) -> Callable:
    kinds = [k for _, k in args]
    grad_at, indices_at = kinds.index("grad"), kinds.index("indices")
    positions = _ref_positions(args)

    def make(op):
        kwargs = {k: op.get_attr(k) for k in extra}
        dtype = op.get_attr("T").as_numpy_dtype if resource else None

        def apply(*values):
            checked = _check_training_inputs(args, values, True, dtype)
            rows, grad = _sparse_rows(checked[0].shape, checked[grad_at], checked[indices_at])
            # The update works on copies of the selected rows, which are then written back.
            call_args, selected = [], []
            for kind, v in zip(kinds, checked):
                if kind == "ref":
                    part = v[rows]
                    selected.append((v, part))
                    call_args.append(part)
                elif kind == "grad":
                    call_args.append(grad)
                elif kind != "indices":
                    call_args.append(v)
            update(*call_args, **kwargs)
            for storage, part in selected:
                storage[rows] = part
            if resource:
                _install(values, checked, positions)
                return None
            return values[0]

        return apply

    return _locking_factory(make, positions)


def _register_training_op(op_type: str, args: list[tuple[str, str]], update, extra: dict, sparse: bool,
                          resource: bool) -> None:
    """Declares a training op; its resource form (TF's Resource* op: variables passed as resource handles,
    no output) when `resource`."""
    inputs = []
    ref_spec = "{}: resource" if resource else "{}: Ref(T)"
    for name, kind in args:
        inputs.append({"ref": ref_spec.format(name), "indices": f"{name}: Tindices",
                       "int64": f"{name}: int64"}.get(kind, f"{name}: T"))
    attrs = {"use_locking": ("bool", False), **{k: ("bool", v) for k, v in extra.items()}}
    if resource:
        attrs["T"] = ("type", _reg.REQUIRED)
    allowed = {"T": _dt.NUMBER}
    if sparse:
        allowed["Tindices"] = _INDEX
    make = _sparse_training_factory if sparse else _dense_training_factory
    register_op(op_type, inputs=inputs, outputs=[] if resource else ["out: Ref(T)"], attrs=attrs, allowed=allowed,
                shape=_training_shape(args, resource), stateful=True, factory=make(args, update, extra, resource),
                doc=(update.__doc__ or ""))


def _sparse_args(args: list[str]) -> list[tuple[str, str]]:
    """A dense training op's arguments with "indices" after the gradient, which the sparse form names "grad"
    (SparseApplyProximalGradientDescent's dense form calls it delta)."""
    parsed = [("grad", "grad") if kind == "grad" else (name, kind) for name, kind in _parse_args(args)]
    at = next(i for i, (_, kind) in enumerate(parsed) if kind == "grad") + 1
    return parsed[:at] + [("indices", "indices")] + parsed[at:]


RESOURCE_TRAINING_OPS: list[str] = []


def register_training_ops(table: dict, sparse_of: dict) -> None:
    """Declares the training ops of `table` ({op type: (arguments, update, extra attrs)}) and the sparse forms
    of `sparse_of` ({sparse op type: its dense op type}), each also in its Resource* form, all without
    gradients; the Resource* names are added to RESOURCE_TRAINING_OPS."""
    for resource in (False, True):
        prefix = "Resource" if resource else ""
        for name, (args, update, extra) in table.items():
            _register_training_op(prefix + name, _parse_args(args), update, extra, sparse=False, resource=resource)
        for name, dense in sparse_of.items():
            args, update, extra = table[dense]
            _register_training_op(prefix + name, _sparse_args(args), update, extra, sparse=True, resource=resource)
    for name in [*table, *sparse_of]:
        NotDifferentiable(name)
        NotDifferentiable("Resource" + name)
        RESOURCE_TRAINING_OPS.append("Resource" + name)


register_training_ops(_TRAINING_OPS, _SPARSE_OF)

for _name in ["VariableV2", "Assign", "AssignAdd", "AssignSub", "IsVariableInitialized", "CountUpTo",
              "ResourceCountUpTo", "StridedSliceAssign", "ResourceStridedSliceAssign", *_SCATTERS, *_SCATTER_NDS,
              *("Resource" + n for n in _SCATTER_NDS)]:
    NotDifferentiable(_name)


# ----------------------------------------------------------------------------------------------------------
# Python API
# ----------------------------------------------------------------------------------------------------------
def variable_op_v2(shape, dtype, name: str = "Variable", container: str = "", shared_name: str = "") -> _ops.Tensor:
    """The ref tensor of a new VariableV2 op (what `tf.Variable` builds on)."""
    attrs = {"shape": _shape.as_shape(shape), "dtype": _dt.as_dtype(dtype).base_dtype, "container": container,
             "shared_name": shared_name}
    return apply_op("VariableV2", [], attrs, name=name).outputs[0]


def _is_ref(ref) -> bool:
    return getattr(getattr(ref, "dtype", None), "is_ref", False)


@tf_export("assign")
def assign(ref, value, validate_shape=None, use_locking=None, name=None) -> _ops.Tensor:
    """`tf.assign`: stores `value` in the variable `ref`; returns the variable's ref tensor after the update."""
    if _is_ref(ref):
        attrs = {}
        if validate_shape is not None:
            attrs["validate_shape"] = bool(validate_shape)
        if use_locking is not None:
            attrs["use_locking"] = bool(use_locking)
        return apply_op("Assign", [ref, value], attrs, name=name).outputs[0]
    return ref.assign(value, name=name)


def _update(op_type: str, method: str, ref, value, use_locking, name):
    if _is_ref(ref):
        attrs = {} if use_locking is None else {"use_locking": bool(use_locking)}
        return apply_op(op_type, [ref, value], attrs, name=name).outputs[0]
    return getattr(ref, method)(value)


@tf_export("assign_add")
def assign_add(ref, value, use_locking=None, name=None) -> _ops.Tensor:
    """`tf.assign_add`: adds `value` to the variable `ref` in place."""
    return _update("AssignAdd", "assign_add", ref, value, use_locking, name)


@tf_export("assign_sub")
def assign_sub(ref, value, use_locking=None, name=None) -> _ops.Tensor:
    """`tf.assign_sub`: subtracts `value` from the variable `ref` in place."""
    return _update("AssignSub", "assign_sub", ref, value, use_locking, name)


def is_variable_initialized(ref, name=None) -> _ops.Tensor:
    """A bool scalar: whether the variable `ref` holds a value in the running session."""
    if not _is_ref(ref) and hasattr(ref, "is_initialized"):
        return ref.is_initialized(name=name)  # a resource variable asks with VarIsInitializedOp
    return apply_op("IsVariableInitialized", [ref], name=name).outputs[0]


@tf_export("count_up_to")
def count_up_to(ref, limit, name=None) -> _ops.Tensor:
    """Increments the integer variable `ref` until it reaches `limit`; outputs the value before incrementing."""
    return apply_op("CountUpTo", [ref], {"limit": int(limit)}, name=name).outputs[0]


def _scatter(op_type: str, ref, indices, updates, use_locking, name):
    if not _is_ref(ref):
        # A resource variable updates itself with its Resource* scatter op.
        delta = IndexedSlices(_ops.convert_to_tensor(updates), _ops.convert_to_tensor(indices))
        return getattr(ref, "scatter_" + op_type[len("Scatter"):].lower())(delta, use_locking=use_locking, name=name)
    attrs = {} if use_locking is None else {"use_locking": bool(use_locking)}
    return apply_op(op_type, [ref, indices, updates], attrs, name=name).outputs[0]


@tf_export("scatter_update")
def scatter_update(ref, indices, updates, use_locking=True, name=None) -> _ops.Tensor:
    return _scatter("ScatterUpdate", ref, indices, updates, use_locking, name)


@tf_export("scatter_add")
def scatter_add(ref, indices, updates, use_locking=False, name=None) -> _ops.Tensor:
    return _scatter("ScatterAdd", ref, indices, updates, use_locking, name)


@tf_export("scatter_sub")
def scatter_sub(ref, indices, updates, use_locking=False, name=None) -> _ops.Tensor:
    return _scatter("ScatterSub", ref, indices, updates, use_locking, name)


@tf_export("scatter_mul")
def scatter_mul(ref, indices, updates, use_locking=False, name=None) -> _ops.Tensor:
    return _scatter("ScatterMul", ref, indices, updates, use_locking, name)


@tf_export("scatter_div")
def scatter_div(ref, indices, updates, use_locking=False, name=None) -> _ops.Tensor:
    return _scatter("ScatterDiv", ref, indices, updates, use_locking, name)


def _scatter_nd(op_type: str, ref, indices, updates, use_locking, name):
    attrs = {"use_locking": bool(use_locking)}
    if _is_ref(ref):
        return apply_op(op_type, [ref, indices, updates], attrs, name=name).outputs[0]
    # A resource variable: its Resource* op, then the value it leaves (a read after the update), as TF returns.
    updates = _ops.convert_to_tensor(updates, dtype=ref.dtype.base_dtype)
    update = apply_op("Resource" + op_type, [ref.handle, indices, updates], attrs, name=name)
    with _ops.control_dependencies([update]):
        return ref.read_value()


@tf_export("scatter_nd_update")
def scatter_nd_update(ref, indices, updates, use_locking=True, name=None) -> _ops.Tensor:
    """Writes `updates` into the variable at the index tuples (or slices) `indices`; outputs the variable."""
    return _scatter_nd("ScatterNdUpdate", ref, indices, updates, use_locking, name)


@tf_export("scatter_nd_add")
def scatter_nd_add(ref, indices, updates, use_locking=False, name=None) -> _ops.Tensor:
    """Adds `updates` to the variable at the index tuples (or slices) `indices` (repeats add up)."""
    return _scatter_nd("ScatterNdAdd", ref, indices, updates, use_locking, name)


@tf_export("scatter_nd_sub")
def scatter_nd_sub(ref, indices, updates, use_locking=False, name=None) -> _ops.Tensor:
    """Subtracts `updates` from the variable at the index tuples (or slices) `indices` (repeats add up)."""
    return _scatter_nd("ScatterNdSub", ref, indices, updates, use_locking, name)


@tf_export("batch_scatter_update")
def batch_scatter_update(ref, indices, updates, use_locking=True, name=None) -> _ops.Tensor:
    """scatter_update along the last dimension of `indices`, each leading dimension of which indexes a batch
    dimension of the variable: ref[b..., indices[b..., j]] = updates[b..., j]."""
    with _ops.name_scope(name, "batch_scatter_update"):
        indices = _ops.convert_to_tensor(indices, name="indices")
        rank = indices.shape.ndims
        if rank is None:
            raise ValueError("batch_gather does not allow indices with unknown shape.")
        nd_indices = array_ops.expand_dims(indices, -1)
        full = array_ops.shape(nd_indices)
        coordinates = []
        for dim in range(rank - 1):
            # The index of each element along batch dimension `dim`, spread over the indices' shape.
            along = [1] * (rank + 1)
            along[dim] = -1
            steps = array_ops.reshape(array_ops.range(array_ops.shape(indices)[dim], dtype=indices.dtype), along)
            coordinates.append(array_ops.broadcast_to(steps, full))
        final_indices = array_ops.concat(coordinates + [nd_indices], axis=-1)
        return scatter_nd_update(ref, final_indices, updates, use_locking=use_locking)


@tf_export("scatter_min")
def scatter_min(ref, indices, updates, use_locking=False, name=None) -> _ops.Tensor:
    return _scatter("ScatterMin", ref, indices, updates, use_locking, name)


@tf_export("scatter_max")
def scatter_max(ref, indices, updates, use_locking=False, name=None) -> _ops.Tensor:
    return _scatter("ScatterMax", ref, indices, updates, use_locking, name)


def _training(op_type: str, inputs: list, use_locking: bool, name, **attrs):
    """The training op's ref output; for resource variables (objects with a `handle`) its Resource* form,
    given their handles, whose op is returned (it has no output), as TF's optimizers build it."""
    attrs = {"use_locking": bool(use_locking), **attrs}
    if _is_ref(inputs[0]) or not hasattr(inputs[0], "handle"):
        return apply_op(op_type, inputs, attrs, name=name).outputs[0]
    refs = _reg.get_op_def(op_type).ref_inputs
    handles = [x.handle if i in refs else x for i, x in enumerate(inputs)]
    return apply_op("Resource" + op_type, handles, {"T": inputs[0].dtype.base_dtype, **attrs}, name=name)


def apply_gradient_descent(var, alpha, delta, use_locking=False, name=None) -> _ops.Tensor:
    """var -= alpha * delta."""
    return _training("ApplyGradientDescent", [var, alpha, delta], use_locking, name)


def apply_momentum(var, accum, lr, grad, momentum, use_locking=False, use_nesterov=False, name=None) -> _ops.Tensor:
    """accum = accum * momentum + grad; var -= lr * accum (Nesterov: var -= lr * (grad + momentum * accum))."""
    return _training("ApplyMomentum", [var, accum, lr, grad, momentum], use_locking, name,
                     use_nesterov=bool(use_nesterov))


def sparse_apply_momentum(var, accum, lr, grad, indices, momentum, use_locking=False, use_nesterov=False,
                          name=None) -> _ops.Tensor:
    return _training("SparseApplyMomentum", [var, accum, lr, grad, indices, momentum], use_locking, name,
                     use_nesterov=bool(use_nesterov))


def apply_adam(var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad, use_locking=False,
               use_nesterov=False, name=None) -> _ops.Tensor:
    """Adam: m, v are the first and second moment slots; beta*_power the bias-correction powers."""
    return _training("ApplyAdam", [var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad], use_locking,
                     name, use_nesterov=bool(use_nesterov))


def apply_adagrad(var, accum, lr, grad, use_locking=False, update_slots=True, name=None) -> _ops.Tensor:
    """accum += grad**2; var -= lr * grad / sqrt(accum)."""
    return _training("ApplyAdagrad", [var, accum, lr, grad], use_locking, name, update_slots=bool(update_slots))


def sparse_apply_adagrad(var, accum, lr, grad, indices, use_locking=False, update_slots=True,
                         name=None) -> _ops.Tensor:
    return _training("SparseApplyAdagrad", [var, accum, lr, grad, indices], use_locking, name,
                     update_slots=bool(update_slots))


def apply_adadelta(var, accum, accum_update, lr, rho, epsilon, grad, use_locking=False, name=None) -> _ops.Tensor:
    """accum = rho * accum + (1 - rho) * grad**2; update = sqrt(accum_update + epsilon) / sqrt(accum + epsilon)
    * grad; var -= lr * update; accum_update = rho * accum_update + (1 - rho) * update**2."""
    return _training("ApplyAdadelta", [var, accum, accum_update, lr, rho, epsilon, grad], use_locking, name)


def sparse_apply_adadelta(var, accum, accum_update, lr, rho, epsilon, grad, indices, use_locking=False,
                          name=None) -> _ops.Tensor:
    return _training("SparseApplyAdadelta", [var, accum, accum_update, lr, rho, epsilon, grad, indices],
                     use_locking, name)


def apply_rms_prop(var, ms, mom, lr, rho, momentum, epsilon, grad, use_locking=False, name=None) -> _ops.Tensor:
    """ms = rho * ms + (1 - rho) * grad**2; mom = momentum * mom + lr * grad / sqrt(ms + epsilon); var -= mom."""
    return _training("ApplyRMSProp", [var, ms, mom, lr, rho, momentum, epsilon, grad], use_locking, name)


def sparse_apply_rms_prop(var, ms, mom, lr, rho, momentum, epsilon, grad, indices, use_locking=False,
                          name=None) -> _ops.Tensor:
    return _training("SparseApplyRMSProp", [var, ms, mom, lr, rho, momentum, epsilon, grad, indices], use_locking,
                     name)


def apply_centered_rms_prop(var, mg, ms, mom, lr, rho, momentum, epsilon, grad, use_locking=False,
                            name=None) -> _ops.Tensor:
    """RMSProp normalized by the centered second moment: ms - mg**2, mg the running mean of the gradient."""
    return _training("ApplyCenteredRMSProp", [var, mg, ms, mom, lr, rho, momentum, epsilon, grad], use_locking, name)


def sparse_apply_centered_rms_prop(var, mg, ms, mom, lr, rho, momentum, epsilon, grad, indices, use_locking=False,
                                   name=None) -> _ops.Tensor:
    return _training("SparseApplyCenteredRMSProp", [var, mg, ms, mom, lr, rho, momentum, epsilon, grad, indices],
                     use_locking, name)
