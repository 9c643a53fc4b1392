"""tf.sparse.SparseConditionalAccumulator: the SparseConditionalAccumulator resource of a session and the ops
that apply gradients to it and take their aggregate (counting them and setting the global step are the ops every
accumulator shares, in accumulator_ops)."""

from __future__ import annotations

import collections

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.indexed_slices import IndexedSlices
from tfmini.framework.registry import NotDifferentiable, apply_op, register_op
from tfmini.ops import math_ops
from tfmini.ops.accumulator_ops import (
    AccumulatorResource,
    ConditionalAccumulatorBase,
    accumulator_of,
    accumulator_ref_factory,
    check_reduction_type,
)
from tfmini.ops.sparse_ops import sorted_runs


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


# ----------------------------------------------------------------------------------------------------------
# SparseConditionalAccumulator: averages IndexedSlices gradients of one step from several workers
# ----------------------------------------------------------------------------------------------------------
class SparseAccumulatorResource(AccumulatorResource):
    """A SparseConditionalAccumulator's state: the current step's gradients summed per row index, with how
    many gradients gave each row. A take hands out their sum or, with reduction_type "MEAN", each row's mean
    over the gradients that gave it (rows repeated within one gradient add up and count once)."""

    def _reset(self) -> None:
        self._indices = self._values = self._per_row = None

    def _check(self, indices, values, grad_shape, has_known_shape: bool) -> None:
        """TF's checks: the dense shape given against the accumulator's (which fixes the leading dims when it
        has fewer), row indices within a known first dim, values against the aggregate or the shape."""
        if np.ndim(indices) != 1:
            raise _invalid(f"Input indices should be vector but received shape: {_shape.dims_str(np.shape(indices))}")
        if values.ndim < 1 or values.shape[0] != len(indices):
            raise _invalid(f"Expected {len(indices)} non-empty input values, got "
                           f"{values.shape[0] if values.ndim else 0}")
        want = self.shape.as_list() if self.shape.ndims is not None else []
        if has_known_shape:
            if len(want) > len(grad_shape):
                raise _invalid(f"Shape mismatch: expected shape rank at least {len(want)}, got {len(grad_shape)}")
            for d, size in enumerate(want):
                if size is not None and size != grad_shape[d]:
                    raise _invalid(f"Shape mismatch: expected shape dim {d} to be {size}, got {int(grad_shape[d])}")
        if want and want[0] is not None and len(indices):
            over = np.flatnonzero(indices >= want[0])
            if len(over):
                raise _invalid(f"Shape mismatch: index of slice {over[0]} exceeded limits of shape; index is "
                               f"{indices[over[0]]} exceeded {want[0]}")
        if self._values is not None:
            if values.ndim != self._values.ndim:
                raise _invalid(f"Shape mismatch: expected values rank {self._values.ndim}, got {values.ndim}")
            for d in range(1, values.ndim):
                if values.shape[d] != self._values.shape[d]:
                    raise _invalid(f"Shape mismatch: expected values dim {d} to be {self._values.shape[d]}, got "
                                   f"{values.shape[d]}")
        else:
            if len(want) > values.ndim:
                raise _invalid(f"Shape mismatch: expected values rank at least {len(want)}, got {values.ndim}")
            for d in range(1, len(want)):
                if want[d] is not None and want[d] != values.shape[d]:
                    raise _invalid(f"Shape mismatch: expected values dim {d} to be {want[d]}, got {values.shape[d]}")

    def _add(self, gradient) -> None:
        indices, values, grad_shape, has_known_shape = gradient
        indices = np.asarray(indices, np.int64)
        self._check(indices, values, grad_shape, has_known_shape)
        if not len(indices):
            if self._values is None:
                self._indices, self._per_row = indices, np.zeros(0, np.int64)
                self._values = np.zeros((0,) + values.shape[1:], values.dtype)
            return
        # The gradient's own rows first (a repeated row adds up and counts once), then merged with the aggregate.
        order, starts = sorted_runs(indices)
        rows, summed = indices[order[starts]], np.add.reduceat(values[order], starts, axis=0)
        if self._values is None or not len(self._indices):
            self._indices, self._values, self._per_row = rows, summed, np.ones(len(rows), np.int64)
            return
        all_rows = np.concatenate([self._indices, rows])
        order, starts = sorted_runs(all_rows)
        self._indices = all_rows[order[starts]]
        self._values = np.add.reduceat(np.concatenate([self._values, summed])[order], starts, axis=0)
        self._per_row = np.add.reduceat(np.concatenate([self._per_row, np.ones(len(rows), np.int64)])[order],
                                        starts)

    def _aggregate(self):
        indices, values = self._indices, self._values
        if self.reduction_type == "MEAN" and len(indices):
            values = (values / self._per_row.reshape((-1,) + (1,) * (values.ndim - 1))).astype(values.dtype)
        known = self.shape.as_list() if self.shape.ndims is not None else [None] * values.ndim
        inner = [known[d] if d < len(known) and known[d] is not None else values.shape[d]
                 for d in range(1, values.ndim)]
        first = known[0] if known and known[0] is not None else -1
        return indices, values, np.array([first] + inner, np.int64)


def _check_reduction_type(op) -> _shape.TensorShape:
    check_reduction_type(op)
    return _shape.TensorShape([2])


register_op("SparseConditionalAccumulator", outputs=["handle: Ref(string)"],
            attrs={"dtype": ("type", _reg.REQUIRED), "shape": ("shape", _reg.REQUIRED), "container": ("string", ""),
                   "shared_name": ("string", ""), "reduction_type": ("string", "MEAN")},
            allowed={"dtype": _dt.FLOATING}, shape=_check_reduction_type, stateful=True,
            factory=accumulator_ref_factory(SparseAccumulatorResource))


def _accumulator_apply_factory(op, ctx):
    has_known_shape = op.get_attr("has_known_shape")

    def apply(handle, local_step, indices, values, grad_shape):
        accumulator_of(ctx, handle).apply(int(local_step), (indices, np.asarray(values), np.asarray(grad_shape),
                                                            has_known_shape))

    return apply


def _accumulator_take_factory(op, ctx):
    check_deadline = ctx.check_deadline

    def take(handle, num_required):
        return accumulator_of(ctx, handle).take(op, int(num_required), check_deadline)

    return take


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
for _op_type in ("SparseConditionalAccumulator", "SparseAccumulatorApplyGradient", "SparseAccumulatorTakeGradient"):
    NotDifferentiable(_op_type)


@tf_export("sparse.SparseConditionalAccumulator", "SparseConditionalAccumulator")
class SparseConditionalAccumulator(ConditionalAccumulatorBase):
    """Aggregates sparse (IndexedSlices) gradients of one global step: gradients marked with an older local
    step are dropped; `take_grad(n)` waits for n gradients and returns their sum or, with reduction_type
    "MEAN", each row's mean over the gradients that gave it, resetting the aggregate and advancing the step."""

    def __init__(self, dtype, shape=None, shared_name=None, name="sparse_conditional_accumulator",
                 reduction_type="MEAN") -> None:
        shape = _shape.unknown_shape() if shape is None else _shape.as_shape(shape)
        if reduction_type not in ("MEAN", "SUM"):
            raise ValueError(f"reduction_type must be MEAN or SUM, got {reduction_type!r}")
        ref = apply_op("SparseConditionalAccumulator", [],
                       {"dtype": _dt.as_dtype(dtype), "shape": shape, "shared_name": shared_name or "",
                        "reduction_type": reduction_type}, name=name).outputs[0]
        super().__init__(dtype, shape, ref)

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
        shape = math_ops.cast(grad_shape if known else np.zeros(0, np.int64), _dt.int64)
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
