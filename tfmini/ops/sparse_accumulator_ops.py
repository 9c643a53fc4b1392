"""tf.sparse.SparseConditionalAccumulator: the SparseConditionalAccumulator resource of a session and the ops
that apply gradients to it, take their aggregate, count them and set its global step."""

from __future__ import annotations

import collections
import itertools
import threading

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.indexed_slices import IndexedSlices
from tfmini.framework.registry import NotDifferentiable, apply_op, register_op
from tfmini.ops import math_ops, shape_fns
from tfmini.ops.sparse_ops import sorted_runs


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


# ----------------------------------------------------------------------------------------------------------
# SparseConditionalAccumulator: averages IndexedSlices gradients of one step from several workers
# ----------------------------------------------------------------------------------------------------------
# How often a blocked take wakes to check the run's deadline and cancellation (an apply wakes it at once).
_POLL_SECONDS = 0.02
# Resource names of unshared accumulators, "_<n>_<op name>", numbered per process (as queues are).
_accumulator_ids = itertools.count()


class SparseAccumulatorResource:
    """One accumulator's run-time state in one session: the gradients of the current global step summed per row
    index (with how many gradients gave each row), how many were applied, and the global step. A take waits
    until enough gradients arrived, then hands out their sum (or per-row mean) and starts the next step."""

    def __init__(self, name: str, shape: _shape.TensorShape, reduction_type: str) -> None:
        self.name = name
        self.shape = shape
        self.reduction_type = reduction_type
        self.global_step = 0
        self._cond = threading.Condition()
        self._cancelled = False
        self._reset()

    def _reset(self) -> None:
        self.count = 0
        self._indices = self._values = self._per_row = None

    def cancel(self) -> None:
        """The session is closing: a waiting take (and every later one) ends with CancelledError."""
        with self._cond:
            self._cancelled = True
            self._cond.notify_all()

    def set_global_step(self, step: int) -> None:
        with self._cond:
            self.global_step = step  # TF accepts a smaller step too (it only warns)

    def _check(self, indices, values, grad_shape, has_known_shape: bool) -> None:
        if np.ndim(indices) != 1:
            raise _invalid(f"Input indices should be vector but received shape: {_shape.dims_str(np.shape(indices))}")
        if values.ndim < 1 or values.shape[0] != len(indices):
            raise _invalid(f"Expected {len(indices)} non-empty input values, got "
                           f"{values.shape[0] if values.ndim else 0}")
        want = self.shape.as_list() if self.shape.ndims is not None else None
        if want is not None:
            if values.ndim != len(want):
                raise _invalid(f"Shape mismatch: expected values rank {len(want)}, got {values.ndim}")
            for d in range(1, len(want)):
                if want[d] is not None and want[d] != values.shape[d]:
                    raise _invalid(f"Shape mismatch: expected values dim {d} to be {want[d]}, got {values.shape[d]}")
        if self._values is not None and values.shape[1:] != self._values.shape[1:]:
            d = next(i for i in range(1, values.ndim) if values.shape[i] != self._values.shape[i])
            raise _invalid(f"Shape mismatch: expected values dim {d} to be {self._values.shape[d]}, got "
                           f"{values.shape[d]}")
        if has_known_shape and want is not None:
            if len(grad_shape) != len(want):
                raise _invalid(f"Shape mismatch: expected shape rank {len(want)}, got {len(grad_shape)}")
            for d, size in enumerate(want):
                if size is not None and size != grad_shape[d]:
                    raise _invalid(f"Shape mismatch: expected shape dim {d} to be {size}, got {int(grad_shape[d])}")

    def apply(self, local_step: int, indices, values, grad_shape, has_known_shape: bool) -> None:
        """Adds a gradient of `local_step` (dropped when older than the global step): rows `indices` of a
        tensor hold `values`."""
        indices = np.asarray(indices, np.int64)
        with self._cond:
            self._check(indices, values, grad_shape, has_known_shape)
            if local_step < self.global_step:
                return  # a stale gradient, from a worker behind the current step
            if self._values is None:
                self._indices, self._values = np.zeros(0, np.int64), np.zeros((0,) + values.shape[1:], values.dtype)
                self._per_row = np.zeros(0, np.int64)
            rows = np.concatenate([self._indices, indices])
            order, starts = sorted_runs(rows)
            self._indices = rows[order[starts]]
            self._values = (np.add.reduceat(np.concatenate([self._values, values])[order], starts, axis=0)
                            if len(rows) else self._values)
            self._per_row = np.add.reduceat(np.concatenate([self._per_row, np.ones(len(indices), np.int64)])[order],
                                            starts) if len(rows) else self._per_row
            self.count += 1
            self._cond.notify_all()

    def take(self, op, num_required: int, check_deadline):
        """Waits for `num_required` gradients; their rows, summed or averaged per row, and the dense shape."""
        if num_required < 1:
            raise _invalid(f"Argument num_required must be positive, but was {num_required}")
        with self._cond:
            while self.count < num_required:
                self._cond.wait(_POLL_SECONDS)
                if self._cancelled:
                    raise _errors.CancelledError(None, op, "TakeGrad operation was cancelled")
                check_deadline(op)
            indices, values = self._indices, self._values
            if self.reduction_type == "MEAN" and len(indices):
                values = (values / self._per_row.reshape((-1,) + (1,) * (values.ndim - 1))).astype(values.dtype)
            known = self.shape.as_list() if self.shape.ndims is not None else [None] * values.ndim
            inner = [known[d] if known[d] is not None else values.shape[d] for d in range(1, len(known))]
            shape = np.array([-1 if known[0] is None else known[0]] + inner, np.int64)
            self._reset()
            self.global_step += 1
            return indices, values, shape


def _accumulator_factory(op, ctx):
    """The accumulator op's output is its cell, holding the handle (container, name) of the session's
    accumulator resource, created on first run."""
    cell = ctx.cell(op)
    container, shared = (_attr_text(op.get_attr(a)) for a in ("container", "shared_name"))

    def accumulator():
        if not cell.initialized:
            with ctx.lock:
                if getattr(ctx, "closed", False):
                    raise _errors.CancelledError(None, op, "Session has been closed.")
                name = shared or f"_{next(_accumulator_ids)}_{op.name}"
                key = ("accumulator", container, name)
                if key not in ctx.resources:
                    ctx.resources[key] = SparseAccumulatorResource(name, op.get_attr("shape"),
                                                                   _attr_text(op.get_attr("reduction_type")))
                cell.value = np.array([container.encode(), name.encode()], dtype=object)
        return cell

    return accumulator


def _attr_text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _accumulator_of(ctx, handle_cell) -> SparseAccumulatorResource:
    container, name = (v.decode() if isinstance(v, bytes) else str(v) for v in np.asarray(handle_cell.value))
    resource = ctx.resources.get(("accumulator", container, name))
    if resource is None:
        raise _errors.NotFoundError(None, None, f"Resource {container}/{name} of an accumulator does not exist.")
    return resource


def _check_reduction_type(op) -> _shape.TensorShape:
    if _attr_text(op.get_attr("reduction_type")) not in ("MEAN", "SUM"):
        raise ValueError(f"reduction_type must be MEAN or SUM, got {op.get_attr('reduction_type')!r}")
    return _shape.TensorShape([2])


register_op("SparseConditionalAccumulator", outputs=["handle: Ref(string)"],
            attrs={"dtype": ("type", _reg.REQUIRED), "shape": ("shape", _reg.REQUIRED), "container": ("string", ""),
                   "shared_name": ("string", ""), "reduction_type": ("string", "MEAN")},
            allowed={"dtype": _dt.FLOATING}, shape=_check_reduction_type, stateful=True,
            factory=_accumulator_factory)


def _accumulator_apply_factory(op, ctx):
    has_known_shape = op.get_attr("has_known_shape")

    def apply(handle, local_step, indices, values, grad_shape):
        _accumulator_of(ctx, handle).apply(int(local_step), indices, np.asarray(values), np.asarray(grad_shape),
                                           has_known_shape)

    return apply


def _accumulator_take_factory(op, ctx):
    check_deadline = ctx.check_deadline

    def take(handle, num_required):
        return _accumulator_of(ctx, handle).take(op, int(num_required), check_deadline)

    return take


def _accumulator_count_factory(op, ctx):
    def num_accumulated(handle):
        return np.int32(_accumulator_of(ctx, handle).count)

    return num_accumulated


def _accumulator_step_factory(op, ctx):
    def set_global_step(handle, new_global_step):
        _accumulator_of(ctx, handle).set_global_step(int(new_global_step))

    return set_global_step


register_op("SparseAccumulatorApplyGradient",
            inputs=["handle: Ref(string)", "local_step: int64", "gradient_indices: int64", "gradient_values: dtype",
                    "gradient_shape: int64"],
            attrs={"dtype": ("type", _reg.REQUIRED), "has_known_shape": ("bool", _reg.REQUIRED)},
            allowed={"dtype": _dt.FLOATING}, shape=lambda op: [], stateful=True, factory=_accumulator_apply_factory)
register_op("SparseAccumulatorTakeGradient", inputs=["handle: Ref(string)", "num_required: int32"],
            outputs=["indices: int64", "values: dtype", "shape: int64"], attrs={"dtype": ("type", _reg.REQUIRED)},
            allowed={"dtype": _dt.FLOATING},
            shape=lambda op: [_shape.unknown_shape(), _shape.unknown_shape(), _shape.unknown_shape()],
            stateful=True, factory=_accumulator_take_factory)
register_op("AccumulatorNumAccumulated", inputs=["handle: Ref(string)"], outputs=["num_accumulated: int32"],
            shape=shape_fns.scalar, stateful=True, factory=_accumulator_count_factory)
register_op("AccumulatorSetGlobalStep", inputs=["handle: Ref(string)", "new_global_step: int64"],
            shape=lambda op: [], stateful=True, factory=_accumulator_step_factory)
for _op_type in ("SparseConditionalAccumulator", "SparseAccumulatorApplyGradient", "SparseAccumulatorTakeGradient",
                 "AccumulatorNumAccumulated", "AccumulatorSetGlobalStep"):
    NotDifferentiable(_op_type)


@tf_export("sparse.SparseConditionalAccumulator", "SparseConditionalAccumulator")
class SparseConditionalAccumulator:
    """Aggregates sparse (IndexedSlices) gradients of one global step: gradients marked with an older local
    step are dropped; `take_grad(n)` waits for n gradients and returns their sum or, with reduction_type
    "MEAN", each row's mean over the gradients that gave it, resetting the aggregate and advancing the step."""

    def __init__(self, dtype, shape=None, shared_name=None, name="sparse_conditional_accumulator",
                 reduction_type="MEAN") -> None:
        self._dtype = _dt.as_dtype(dtype)
        self._shape = _shape.unknown_shape() if shape is None else _shape.as_shape(shape)
        if reduction_type not in ("MEAN", "SUM"):
            raise ValueError(f"reduction_type must be MEAN or SUM, got {reduction_type!r}")
        self._accumulator_ref = apply_op(
            "SparseConditionalAccumulator", [],
            {"dtype": self._dtype, "shape": self._shape, "shared_name": shared_name or "",
             "reduction_type": reduction_type}, name=name).outputs[0]
        self._name = self._accumulator_ref.op.name

    @property
    def accumulator_ref(self) -> _ops.Tensor:
        return self._accumulator_ref

    @property
    def name(self) -> str:
        return self._name

    @property
    def dtype(self) -> _dt.DType:
        return self._dtype

    def num_accumulated(self, name=None) -> _ops.Tensor:
        """The number of gradients aggregated for the current step (int32)."""
        return apply_op("AccumulatorNumAccumulated", [self._accumulator_ref],
                        name=name or f"{self._name}_NumAccumulated").outputs[0]

    def set_global_step(self, new_global_step, name=None) -> _ops.Operation:
        """Sets the step gradients must be marked with (at least) to be aggregated."""
        step = math_ops.cast(_ops.convert_to_tensor(new_global_step), _dt.int64)
        return apply_op("AccumulatorSetGlobalStep", [self._accumulator_ref, step], name=name)

    def apply_indexed_slices_grad(self, grad, local_step=0, name=None) -> _ops.Operation:
        """Aggregates an IndexedSlices gradient computed at `local_step`."""
        return self.apply_grad(grad.indices, grad.values, grad.dense_shape, local_step,
                               name=name)

    def apply_grad(self, grad_indices, grad_values, grad_shape=None, local_step=0, name=None) -> _ops.Operation:
        """Aggregates the gradient whose rows `grad_indices` hold `grad_values` (of the dense shape `grad_shape`,
        when given), computed at `local_step`."""
        local_step = math_ops.cast(_ops.convert_to_tensor(local_step), _dt.int64)
        values = _ops.convert_to_tensor(grad_values, dtype=self._dtype)
        indices = math_ops.cast(_ops.convert_to_tensor(grad_indices), _dt.int64)
        known = grad_shape is not None
        shape = _ops.convert_to_tensor(grad_shape if known else np.zeros(0, np.int64), dtype=_dt.int64)
        return apply_op("SparseAccumulatorApplyGradient", [self._accumulator_ref, local_step, indices, values, shape],
                        {"has_known_shape": known}, name=name)

    def take_grad(self, num_required, name=None):
        """(indices, values, dense shape) of the aggregate, once `num_required` gradients arrived."""
        out = apply_op("SparseAccumulatorTakeGradient", [self._accumulator_ref, num_required],
                       {"dtype": self._dtype}, name=name).outputs
        return _TakeGradient(*out)

    def take_indexed_slices_grad(self, num_required, name=None) -> IndexedSlices:
        """The aggregate as IndexedSlices, once `num_required` gradients arrived."""
        indices, values, shape = self.take_grad(num_required, name=name)
        return IndexedSlices(values, indices, shape)


# take_grad's (indices, values, shape), named as TF's generated wrapper names them.
_TakeGradient = collections.namedtuple("SparseAccumulatorTakeGradient", ["indices", "values", "shape"])
