"""Counting: Bincount and HistogramFixedWidth (declared here with their kernels), and the composites TF builds
around them and from scatters: tf.bincount, tf.histogram_fixed_width(_bins) and tf.confusion_matrix."""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import NotDifferentiable, apply_op, register_op
from tfmini.ops import array_ops, check_ops, control_flow_ops, math_ops

_COUNTABLE = (_dt.int32, _dt.int64, _dt.float32, _dt.float64)
_fmt = _shape.dims_str


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


# ----------------------------------------------------------------------------------------------------------
# Bincount
# ----------------------------------------------------------------------------------------------------------
def _bincount_shape(op):
    size = _reg.constant_value(op.inputs[1])
    return _shape.TensorShape([None if size is None else int(size)])


@register_op("Bincount", inputs=["arr: int32", "size: int32", "weights: T"], outputs=["bins: T"],
             allowed={"T": _COUNTABLE}, shape=_bincount_shape, fresh_output=True)
def _bincount_kernel(arr, size, weights):
    if np.ndim(size) != 0:
        raise _invalid(f"Shape must be rank 0 but is rank {np.ndim(size)}")
    n = int(size)
    if n < 0:
        raise _invalid(f"size ({n}) must be non-negative")
    flat = np.reshape(arr, -1)
    if (flat < 0).any():
        raise _invalid("Input arr must be non-negative!")
    keep = flat < n
    if np.size(weights) == 0:
        return np.bincount(flat[keep], minlength=n).astype(weights.dtype)
    if np.shape(weights) != np.shape(arr):
        raise _invalid(f"Input arr and weights must have the same shape: arr {_fmt(np.shape(arr))}, weights "
                       f"{_fmt(np.shape(weights))}")
    totals = np.bincount(flat[keep], weights=np.reshape(weights, -1)[keep].astype(np.float64), minlength=n)
    return totals.astype(weights.dtype)


NotDifferentiable("Bincount")


@tf_export("math.bincount", "bincount")
def bincount(arr, weights=None, minlength=None, maxlength=None, dtype=_dt.int32) -> _ops.Tensor:
    """How often each value 0..max(arr) occurs in the non-negative int32 `arr` (or the sum of `weights` at its
    occurrences), with at least `minlength` and at most `maxlength` bins."""
    with _ops.name_scope(None, "bincount", [arr, weights, minlength, maxlength]):
        arr = _ops.convert_to_tensor(arr, name="arr", dtype=_dt.int32)
        nonempty = math_ops.greater(math_ops.reduce_prod(array_ops.shape(arr)), 0)
        output_size = math_ops.cast(nonempty, _dt.int32) * (math_ops.reduce_max(arr) + 1)
        if minlength is not None:
            output_size = math_ops.maximum(_ops.convert_to_tensor(minlength, name="minlength", dtype=_dt.int32),
                                           output_size)
        if maxlength is not None:
            output_size = math_ops.minimum(_ops.convert_to_tensor(maxlength, name="maxlength", dtype=_dt.int32),
                                           output_size)
        if weights is not None:
            weights = _ops.convert_to_tensor(weights, name="weights")
            return math_ops.unsorted_segment_sum(weights, arr, output_size)
        empty = _ops.convert_to_tensor(np.zeros([0], dtype=_dt.as_dtype(dtype).as_numpy_dtype))
        return apply_op("Bincount", [arr, output_size, empty]).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# HistogramFixedWidth
# ----------------------------------------------------------------------------------------------------------
def _histogram_shape(op):
    n = _reg.constant_value(op.inputs[2])
    if n is not None and int(n) <= 0:
        raise ValueError(f"Requires nbins > 0: {int(n)}")
    return _shape.TensorShape([None if n is None else int(n)])


@register_op("HistogramFixedWidth", inputs=["values: T", "value_range: T", "nbins: int32"], outputs=["out: dtype"],
             attrs={"dtype": ("type", _dt.int32)}, allowed={"T": _COUNTABLE, "dtype": (_dt.int32, _dt.int64)},
             shape=_histogram_shape, fresh_output=True)
def _histogram_kernel(values, value_range, nbins, *, dtype):
    if np.shape(value_range) != (2,):
        raise _invalid(f"value_range should be a vector of 2 elements, but got {_fmt(np.shape(value_range))}")
    if np.ndim(nbins) != 0:
        raise _invalid(f"nbins should be a scalar, but got {_fmt(np.shape(nbins))}")
    n = int(nbins)
    if n <= 0:
        raise _invalid(f"nbins should be a positive number, but got '{n}'")
    lo, hi = float(value_range[0]), float(value_range[1])
    if not lo < hi:
        raise _invalid(f"value_range should satisfy value_range[0] < value_range[1], but got '[{value_range[0]}, "
                       f"{value_range[1]}]'")
    # Bin by the position in the range, in double precision; values outside go to the first or last bin.
    step = (hi - lo) / n
    index = np.floor((np.reshape(values, -1).astype(np.float64) - lo) / step)
    index = np.clip(index, 0, n - 1).astype(np.int64)
    return np.bincount(index, minlength=n).astype(dtype.as_numpy_dtype)


NotDifferentiable("HistogramFixedWidth")


@tf_export("histogram_fixed_width")
def histogram_fixed_width(values, value_range, nbins=100, dtype=_dt.int32, name=None) -> _ops.Tensor:
    """Counts of `values` in `nbins` equal bins spanning value_range = [lo, hi]; values below lo count in the
    first bin and values from hi up in the last."""
    with _ops.name_scope(name, "histogram_fixed_width", [values, value_range, nbins]) as scope:
        return apply_op("HistogramFixedWidth", [values, value_range, nbins], {"dtype": _dt.as_dtype(dtype)},
                        name=scope).outputs[0]


@tf_export("histogram_fixed_width_bins")
def histogram_fixed_width_bins(values, value_range, nbins=100, dtype=_dt.int32, name=None) -> _ops.Tensor:
    """The bin index (in `histogram_fixed_width`'s bins) of every element of `values`, in `values`' shape; int32
    whatever `dtype` says, as in TF."""
    with _ops.name_scope(name, "histogram_fixed_width_bins", [values, value_range, nbins]):
        values = _ops.convert_to_tensor(values, name="values")
        shape = array_ops.shape(values)
        flat = array_ops.reshape(values, [-1])
        value_range = _ops.convert_to_tensor(value_range, name="value_range", dtype=values.dtype.base_dtype)
        nbins = _ops.convert_to_tensor(nbins, dtype=_dt.int32, name="nbins")
        nbins_float = math_ops.cast(nbins, values.dtype)
        scaled = math_ops.truediv(flat - value_range[0], value_range[1] - value_range[0], name="scaled_values")
        indices = math_ops.floor(nbins_float * scaled, name="indices")
        zero = _ops.convert_to_tensor(0, dtype=values.dtype.base_dtype)
        indices = math_ops.cast(math_ops.clip_by_value(indices, zero, nbins_float - 1), _dt.int32)
        return array_ops.reshape(indices, shape)


# ----------------------------------------------------------------------------------------------------------
# confusion_matrix
# ----------------------------------------------------------------------------------------------------------
def _squeeze_extra_unit_dim(labels: _ops.Tensor, predictions: _ops.Tensor) -> tuple[_ops.Tensor, _ops.Tensor]:
    """Drops a trailing dimension of size 1 that one of the two has and the other lacks (static ranks)."""
    lr, pr = labels.shape.ndims, predictions.shape.ndims
    if lr is not None and pr is not None:
        if lr == pr + 1 and labels.shape[-1].value == 1:
            labels = array_ops.squeeze(labels, [-1])
        elif pr == lr + 1 and predictions.shape[-1].value == 1:
            predictions = array_ops.squeeze(predictions, [-1])
    return labels, predictions


@tf_export("math.confusion_matrix", "confusion_matrix")
def confusion_matrix(labels, predictions, num_classes=None, dtype=_dt.int32, name=None, weights=None) -> _ops.Tensor:
    """The [num_classes, num_classes] matrix whose (i, j) entry counts (or sums the weights of) the examples with
    label i predicted as j; num_classes defaults to the largest label or prediction + 1."""
    with _ops.name_scope(name, "confusion_matrix", (predictions, labels, num_classes, weights)) as scope:
        labels, predictions = _squeeze_extra_unit_dim(_ops.convert_to_tensor(labels, name="labels"),
                                                      _ops.convert_to_tensor(predictions, name="predictions"))
        predictions = math_ops.cast(predictions, _dt.int64)
        labels = math_ops.cast(labels, _dt.int64)
        labels = control_flow_ops.with_dependencies(
            [check_ops.assert_non_negative(labels, message="`labels` contains negative values")], labels)
        predictions = control_flow_ops.with_dependencies(
            [check_ops.assert_non_negative(predictions, message="`predictions` contains negative values")],
            predictions)
        if num_classes is None:
            num_classes = math_ops.maximum(math_ops.reduce_max(predictions), math_ops.reduce_max(labels)) + 1
        else:
            limit = math_ops.cast(num_classes, _dt.int64)
            labels = control_flow_ops.with_dependencies(
                [check_ops.assert_less(labels, limit, message="`labels` out of bound")], labels)
            predictions = control_flow_ops.with_dependencies(
                [check_ops.assert_less(predictions, limit, message="`predictions` out of bound")], predictions)
        dtype = _dt.as_dtype(dtype)
        if weights is not None:
            weights = _ops.convert_to_tensor(weights, name="weights")
            predictions.shape.assert_is_compatible_with(weights.shape)
            values = math_ops.cast(weights, dtype)
        else:
            values = array_ops.ones_like(predictions, dtype=dtype)
        n = math_ops.cast(num_classes, _dt.int64)
        indices = array_ops.stack([labels, predictions], axis=1)
        return array_ops.scatter_nd(indices, values, array_ops.stack([n, n]), name=scope)
