"""Composite `tf.nn` functions written as graphs of primitive ops (no kernels or gradients of their own):
dropout, normalization and moments, the cross-entropy wrappers, embedding_lookup, conv2d_transpose, conv1d
and small helpers such as xw_plus_b."""

from __future__ import annotations

import numbers

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import apply_op
from tfmini.ops import array_ops, math_ops, nn_ops, random_ops, segment_ops
from tfmini.ops.partitioned_variables import PartitionedVariable


def _renamed(new_value, new_name: str, old_value, old_name: str):
    """TF's deprecated-argument lookup: the new name wins, giving both is an error."""
    if new_value is not None and old_value is not None:
        raise ValueError(f"Cannot specify both '{new_name}' and '{old_name}'")
    return new_value if new_value is not None else old_value


# ----------------------------------------------------------------------------------------------------------
# Dropout
# ----------------------------------------------------------------------------------------------------------
def _noise_shape(x: _ops.Tensor, noise_shape):
    if noise_shape is None:
        return array_ops.shape(x)
    try:
        given = _shape.as_shape(noise_shape)
    except (TypeError, ValueError):
        return noise_shape
    if x.shape.ndims is not None and given.ndims == x.shape.ndims:
        # Unknown entries of the noise shape take the input's known dims.
        return _shape.TensorShape([n.value if n.value is not None else d.value for n, d in zip(given, x.shape)])
    return noise_shape


@tf_export("nn.dropout")
def dropout(x, keep_prob=None, noise_shape=None, seed=None, name=None, rate=None) -> _ops.Tensor:
    """Zeroes each element with probability `rate` (= 1 - keep_prob) and scales the rest by 1 / keep_prob.

    `noise_shape` chooses which elements share a keep/drop decision (1 in a dim broadcasts one decision
    along it); `seed` follows the graph/op seed rules of `tf.set_random_seed`.
    """
    if keep_prob is not None:
        if rate is not None:
            raise ValueError("Cannot specify both 'rate' and 'keep_prob'")
        try:
            rate = 1 - keep_prob
        except TypeError:
            raise ValueError(f"keep_prob must be a floating point number or Tensor (got {keep_prob!r})") from None
    if rate is None:
        raise ValueError("You must provide a rate to dropout.")
    with _ops.name_scope(name, "dropout", [x]) as scope:
        x = _ops.convert_to_tensor(x, name="x")
        if not x.dtype.is_floating:
            raise ValueError("x has to be a floating point tensor since it's going to be scaled. Got a "
                             f"{x.dtype.name} tensor instead.")
        if isinstance(rate, numbers.Real) and not isinstance(rate, bool):
            if not 0 <= rate < 1:
                raise ValueError(f"rate must be a scalar tensor or a float in the range [0, 1), got {rate:g}")
            if rate == 0:
                return x
        rate = _ops.convert_to_tensor(rate, dtype=x.dtype.base_dtype, name="rate")
        rate.shape.assert_is_compatible_with(_shape.scalar())
        static_rate = _reg.constant_value(rate)
        if static_rate is not None and static_rate == 0:
            return x
        keep_prob = 1 - rate
        uniform = random_ops.random_uniform(_noise_shape(x, noise_shape), seed=seed, dtype=x.dtype.base_dtype)
        keep = math_ops.cast(math_ops.greater_equal(uniform, rate), x.dtype.base_dtype)
        result = math_ops.multiply(math_ops.truediv(x, keep_prob), keep, name=scope)
        result.set_shape(x.shape)
        return result


# ----------------------------------------------------------------------------------------------------------
# Normalization and moments
# ----------------------------------------------------------------------------------------------------------
@tf_export("linalg.l2_normalize", "math.l2_normalize", "nn.l2_normalize")
def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None) -> _ops.Tensor:
    """x / sqrt(max(sum(x ** 2, axis), epsilon))."""
    axis = _renamed(axis, "axis", dim, "dim")
    with _ops.name_scope(name, "l2_normalize", [x]) as scope:
        x = _ops.convert_to_tensor(x, name="x")
        square_sum = math_ops.reduce_sum(math_ops.square(x), axis, keepdims=True)
        inv_norm = math_ops.rsqrt(math_ops.maximum(square_sum, epsilon))
        return math_ops.multiply(x, inv_norm, name=scope)


def _finish_moments(x: _ops.Tensor, mean, variance, axes, keep: bool) -> tuple:
    """Drops the reduced axes unless `keep`, and rounds half-precision inputs' moments back to float16."""
    if not keep:
        mean = array_ops.squeeze(mean, axes)
        variance = array_ops.squeeze(variance, axes)
    if x.dtype.base_dtype == _dt.float16:
        return math_ops.cast(mean, _dt.float16), math_ops.cast(variance, _dt.float16)
    return mean, variance


@tf_export("nn.moments")
def moments(x, axes, shift=None, name=None, keep_dims=None, keepdims=None) -> tuple:
    """Mean and (biased) variance of `x` over `axes`; half precision is accumulated in float32."""
    keep = bool(_renamed(keepdims, "keepdims", keep_dims, "keep_dims"))
    with _ops.name_scope(name, "moments", [x, axes]):
        x = _ops.convert_to_tensor(x, name="x")
        y = math_ops.cast(x, _dt.float32) if x.dtype.base_dtype == _dt.float16 else x
        mean = math_ops.reduce_mean(y, axes, keepdims=True, name="mean")
        # The variance's gradient with respect to the mean is zero, so the mean needs no gradient path here.
        variance = math_ops.reduce_mean(math_ops.squared_difference(y, array_ops.stop_gradient(mean)), axes,
                                        keepdims=True, name="variance")
        return _finish_moments(x, mean, variance, axes, keep)


@tf_export("nn.weighted_moments")
def weighted_moments(x, axes, frequency_weights, name=None, keep_dims=None, keepdims=None) -> tuple:
    """Mean and variance of `x` over `axes` with each element counted `frequency_weights` times."""
    keep = bool(_renamed(keepdims, "keepdims", keep_dims, "keep_dims"))
    with _ops.name_scope(name, "weighted_moments", [x, frequency_weights, axes]):
        x = _ops.convert_to_tensor(x, name="x")
        weights = _ops.convert_to_tensor(frequency_weights, name="frequency_weights")
        y = math_ops.cast(x, _dt.float32) if x.dtype.base_dtype == _dt.float16 else x
        weights = math_ops.cast(weights, y.dtype.base_dtype)
        weighted_sum = math_ops.reduce_sum(weights * y, axes, keepdims=True)
        total_weight = math_ops.reduce_sum(weights + array_ops.zeros_like(y), axes, keepdims=True)
        inv_total = math_ops.reciprocal(total_weight)
        mean = weighted_sum * inv_total
        variance = math_ops.reduce_sum(weights * math_ops.squared_difference(y, mean), axes, keepdims=True) * inv_total
        return _finish_moments(x, mean, variance, axes, keep)


@tf_export("nn.batch_normalization")
def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None) -> _ops.Tensor:
    """scale * (x - mean) / sqrt(variance + epsilon) + offset, with `offset`/`scale` optional (None)."""
    with _ops.name_scope(name, "batchnorm", [x, mean, variance, scale, offset]):
        x = _ops.convert_to_tensor(x, name="x")
        inv = math_ops.rsqrt(variance + variance_epsilon)
        if scale is not None:
            inv = inv * scale
        shift = offset - mean * inv if offset is not None else -mean * inv
        return x * math_ops.cast(inv, x.dtype.base_dtype) + math_ops.cast(shift, x.dtype.base_dtype)


@tf_export("nn.fused_batch_norm")
def fused_batch_norm(x, scale, offset, mean=None, variance=None, epsilon=0.001, data_format="NHWC",
                     is_training=True, name=None) -> tuple:
    """Batch normalization of a 4-D input over all but the channel axis: (y, batch_mean, batch_variance).

    In training the returned variance is the unbiased (Bessel-corrected) one, for moving averages, while `y`
    is normalized with the biased one, as TF's fused kernel does. In inference `mean` and `variance` are used.
    """
    with _ops.name_scope(name, "FusedBatchNorm", [x, scale, offset]):
        x = _ops.convert_to_tensor(x, name="input")
        if x.shape.ndims is not None and x.shape.ndims != 4:
            raise ValueError(f"Shape must be rank 4 but is rank {x.shape.ndims}")
        if data_format not in ("NHWC", "NCHW"):
            raise ValueError(f"Invalid data format string: {data_format}")
        axes = [0, 2, 3] if data_format == "NCHW" else [0, 1, 2]
        compute = _dt.float32 if x.dtype.base_dtype == _dt.float16 else x.dtype.base_dtype
        xc = math_ops.cast(x, compute)
        scale = _ops.convert_to_tensor(scale, dtype=compute, name="scale")
        offset = _ops.convert_to_tensor(offset, dtype=compute, name="offset")
        if is_training:
            if mean is not None or variance is not None:
                raise ValueError("Both 'mean' and 'variance' must be None when is_training is True.")
            batch_mean, batch_var = moments(xc, axes)
            count = math_ops.cast(array_ops.size(xc) // array_ops.size(batch_mean), compute)
            out_var = batch_var * count / math_ops.maximum(count - 1, 1)
        else:
            if mean is None or variance is None:
                raise ValueError("Both 'mean' and 'variance' must be a 1D tensor when is_training is False.")
            batch_mean = _ops.convert_to_tensor(mean, dtype=compute, name="mean")
            batch_var = out_var = _ops.convert_to_tensor(variance, dtype=compute, name="variance")
        if data_format == "NCHW":
            shape = [1, -1, 1, 1]
            m, v = array_ops.reshape(batch_mean, shape), array_ops.reshape(batch_var, shape)
            s, o = array_ops.reshape(scale, shape), array_ops.reshape(offset, shape)
        else:
            m, v, s, o = batch_mean, batch_var, scale, offset
        y = batch_normalization(xc, m, v, o, s, epsilon)
        return math_ops.cast(y, x.dtype.base_dtype), batch_mean, out_var


# ----------------------------------------------------------------------------------------------------------
# Cross-entropy
# ----------------------------------------------------------------------------------------------------------
def _ensure_xent_args(fn_name: str, sentinel, labels, logits) -> None:
    if sentinel is not None:
        raise ValueError(f"Only call `{fn_name}` with named arguments (labels=..., logits=..., ...)")
    if labels is None or logits is None:
        raise ValueError("Both labels and logits must be provided.")


def _same_shape(labels: _ops.Tensor, logits: _ops.Tensor) -> None:
    try:
        labels.shape.merge_with(logits.shape)
    except ValueError:
        raise ValueError(f"logits and labels must have the same shape ({logits.shape} vs {labels.shape})") from None


@tf_export("nn.sigmoid_cross_entropy_with_logits")
def sigmoid_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, name=None) -> _ops.Tensor:
    """Elementwise max(x, 0) - x * z + log(1 + exp(-|x|)) for logits x and labels z."""
    _ensure_xent_args("sigmoid_cross_entropy_with_logits", _sentinel, labels, logits)
    with _ops.name_scope(name, "logistic_loss", [logits, labels]) as scope:
        logits = _ops.convert_to_tensor(logits, name="logits")
        labels = _ops.convert_to_tensor(labels, name="labels")
        _same_shape(labels, logits)
        zeros = array_ops.zeros_like(logits, dtype=logits.dtype.base_dtype)
        # Selecting (rather than relu/abs) gives the exact gradient sigmoid(x) - z also at x == 0.
        cond = math_ops.greater_equal(logits, zeros)
        relu_logits = array_ops.where(cond, logits, zeros)
        neg_abs_logits = array_ops.where(cond, -logits, logits)
        return math_ops.add(relu_logits - logits * labels, math_ops.log1p(math_ops.exp(neg_abs_logits)), name=scope)


@tf_export("nn.weighted_cross_entropy_with_logits")
def weighted_cross_entropy_with_logits(labels=None, logits=None, pos_weight=None, name=None,
                                       targets=None) -> _ops.Tensor:
    """Sigmoid cross-entropy with the positive term weighted by `pos_weight`."""
    labels = _renamed(labels, "labels", targets, "targets")
    with _ops.name_scope(name, "logistic_loss", [logits, labels]) as scope:
        logits = _ops.convert_to_tensor(logits, name="logits")
        labels = _ops.convert_to_tensor(labels, name="labels")
        _same_shape(labels, logits)
        log_weight = 1 + (pos_weight - 1) * labels
        softplus_neg = math_ops.log1p(math_ops.exp(-math_ops.abs(logits))) + nn_ops.relu(-logits)
        return math_ops.add((1 - labels) * logits, log_weight * softplus_neg, name=scope)


def _move_axis_last(t: _ops.Tensor, axis: int) -> _ops.Tensor:
    rank = t.shape.ndims
    if rank is None:
        raise ValueError("softmax_cross_entropy_with_logits needs logits of known rank when axis is not -1")
    axis %= rank
    perm = [i for i in range(rank) if i != axis] + [axis]
    return array_ops.transpose(t, perm)


@tf_export("nn.softmax_cross_entropy_with_logits_v2")
def softmax_cross_entropy_with_logits_v2(labels, logits, axis=None, name=None, dim=None) -> _ops.Tensor:
    """Cross-entropy between `labels` (a distribution per row) and softmax(logits), along `axis`;
    gradients flow into both labels and logits."""
    axis = _renamed(axis, "axis", dim, "dim")
    axis = -1 if axis is None else axis
    with _ops.name_scope(name, "softmax_cross_entropy_with_logits", [logits, labels]) as scope:
        logits = _ops.convert_to_tensor(logits, name="logits")
        labels = _ops.convert_to_tensor(labels, name="labels")
        half = logits.dtype.base_dtype == _dt.float16
        precise = math_ops.cast(logits, _dt.float32) if half else logits
        labels = math_ops.cast(labels, precise.dtype.base_dtype)
        static_shape = logits.shape
        if axis != -1 and not (static_shape.ndims is not None and axis == static_shape.ndims - 1):
            precise, labels = _move_axis_last(precise, axis), _move_axis_last(labels, axis)
        if precise.shape.ndims == 2:
            cost = apply_op("SoftmaxCrossEntropyWithLogits", [precise, labels], name=scope).outputs[0]
        else:
            batch_shape = array_ops.shape(precise)[:-1]
            classes = array_ops.shape(precise)[-1]
            flat_shape = array_ops.stack([-1, classes])
            cost = apply_op("SoftmaxCrossEntropyWithLogits",
                            [array_ops.reshape(precise, flat_shape), array_ops.reshape(labels, flat_shape)],
                            name=scope).outputs[0]
            cost = array_ops.reshape(cost, batch_shape)
            if static_shape.ndims is not None:
                dims = static_shape.as_list()
                del dims[axis]
                cost.set_shape(dims)
        return math_ops.cast(cost, _dt.float16) if half else cost


@tf_export("nn.softmax_cross_entropy_with_logits")
def softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, dim=-1, name=None,
                                      axis=None) -> _ops.Tensor:
    """The TF1 form: like the v2 function, but no gradient flows into `labels`."""
    _ensure_xent_args("softmax_cross_entropy_with_logits", _sentinel, labels, logits)
    axis = _renamed(axis, "axis", None if dim == -1 else dim, "dim")
    with _ops.name_scope(name, "softmax_cross_entropy_with_logits_sg", [logits, labels]) as scope:
        labels = array_ops.stop_gradient(labels, name="labels_stop_gradient")
    return softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits, axis=axis, name=scope)


@tf_export("nn.sparse_softmax_cross_entropy_with_logits")
def sparse_softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, name=None) -> _ops.Tensor:
    """Cross-entropy between integer class `labels` (shape = logits' shape without its last dim) and
    softmax(logits). Labels outside [0, num_classes) fail at run time with InvalidArgumentError."""
    _ensure_xent_args("sparse_softmax_cross_entropy_with_logits", _sentinel, labels, logits)
    with _ops.name_scope(name, "SparseSoftmaxCrossEntropyWithLogits", [labels, logits]):
        labels = _ops.convert_to_tensor(labels)
        logits = _ops.convert_to_tensor(logits)
        half = logits.dtype.base_dtype == _dt.float16
        precise = math_ops.cast(logits, _dt.float32) if half else logits
        l_shape, x_shape = labels.shape, logits.shape
        if x_shape.ndims == 0:
            raise ValueError(f"Logits cannot be scalars - received shape {x_shape}.")
        if x_shape.ndims is not None and l_shape.ndims is not None and l_shape.ndims != x_shape.ndims - 1:
            raise ValueError(f"Rank mismatch: Rank of labels (received {l_shape.ndims}) should equal rank of logits "
                             f"minus 1 (received {x_shape.ndims}).")
        if (l_shape.is_fully_defined() and x_shape.ndims is not None and x_shape[:-1].is_fully_defined()
                and l_shape != x_shape[:-1]):
            raise ValueError(f"Shape mismatch: The shape of labels (received {l_shape}) should equal the shape of "
                             f"logits except for the last dimension (received {x_shape}).")
        if x_shape.ndims == 2:
            cost = apply_op("SparseSoftmaxCrossEntropyWithLogits", [precise, labels], name=name).outputs[0]
        else:
            classes = array_ops.shape(logits)[-1]
            flat_logits = array_ops.reshape(precise, array_ops.stack([-1, classes]))
            cost = apply_op("SparseSoftmaxCrossEntropyWithLogits", [flat_logits, array_ops.reshape(labels, [-1])],
                            name=name).outputs[0]
            cost = array_ops.reshape(cost, array_ops.shape(labels))
            cost.set_shape(l_shape)
        return math_ops.cast(cost, _dt.float16) if half else cost


# ----------------------------------------------------------------------------------------------------------
# Embeddings
# ----------------------------------------------------------------------------------------------------------
@tf_export("nn.embedding_lookup")
def embedding_lookup(params, ids, partition_strategy="mod", name=None, validate_indices=True,
                     max_norm=None) -> _ops.Tensor:
    """Rows of `params` (a tensor, a list of partitions of one table, or a PartitionedVariable, looked up
    part by part) selected by `ids`.

    With P partitions holding N rows in all, 'mod' sends id i to partition i % P at row i // P; 'div' sends
    consecutive ids to each partition in turn, the first N % P partitions taking one id more. Each partition
    is gathered on its own, so the gradient of a variable partition is IndexedSlices of its own rows.
    """
    if params is None:
        raise ValueError("params must be specified")
    if isinstance(params, (list, tuple)) and not params:
        raise ValueError("Need at least one param")
    if isinstance(params, PartitionedVariable):
        params = list(params)
    parts = list(params) if isinstance(params, (list, tuple)) else [params]
    with _ops.name_scope(name, "embedding_lookup", parts + [ids]) as scope:
        parts = [_ops.convert_to_tensor(p, name="params") if not hasattr(p, "_as_graph_element") else p
                 for p in parts]
        ids = _ops.convert_to_tensor(ids, name="ids")
        if len(parts) == 1:
            result = array_ops.gather(parts[0], ids, name=None if max_norm else scope)
        else:
            result = _partitioned_lookup([_ops.convert_to_tensor(p) for p in parts], ids, partition_strategy,
                                         None if max_norm else scope)
        if max_norm is not None:
            result = _clip_rows(result, ids, max_norm, scope)
        return result


def _partitioned_lookup(parts: list, ids: _ops.Tensor, partition_strategy: str, name) -> _ops.Tensor:
    """Each id's row from the partition the strategy assigns it: ids are split by partition, each partition
    gathers its rows, and the rows are stitched back into the ids' order and shape."""
    if partition_strategy not in ("mod", "div"):
        raise ValueError(f"Unrecognized partition strategy: {partition_strategy}")
    n = len(parts)
    flat_ids = array_ops.reshape(ids, [-1])
    positions = array_ops.range(array_ops.size(flat_ids, out_type=_dt.int32))
    if partition_strategy == "mod":
        assignment = math_ops.floormod(flat_ids, n)
        rows = math_ops.floordiv(flat_ids, n)
    else:
        sizes = [_shape.dimension_value(p.shape[0]) if p.shape.ndims else None for p in parts]
        if all(s is not None for s in sizes):
            total = _ops.convert_to_tensor(sum(sizes), dtype=flat_ids.dtype)
        else:
            dims = [array_ops.shape(p)[0] if s is None else s for p, s in zip(parts, sizes)]
            total = math_ops.reduce_sum(math_ops.cast(array_ops.stack(dims), flat_ids.dtype))
        per_part = math_ops.floordiv(total, n)
        extras = math_ops.floormod(total, n)
        # The first `extras` partitions hold per_part + 1 ids each, the others per_part.
        assignment = math_ops.maximum(math_ops.floordiv(flat_ids, per_part + 1),
                                      math_ops.floordiv(flat_ids - extras, per_part))
        rows = array_ops.where(math_ops.less(assignment, extras), math_ops.floormod(flat_ids, per_part + 1),
                               math_ops.floormod(flat_ids - extras, per_part))
    assignment = math_ops.cast(assignment, _dt.int32)
    part_rows = segment_ops.dynamic_partition(rows, assignment, n)
    part_positions = segment_ops.dynamic_partition(positions, assignment, n)
    gathered = [array_ops.gather(p, r) for p, r in zip(parts, part_rows)]
    stitched = apply_op("ParallelDynamicStitch", [part_positions, gathered], name=name).outputs[0]
    element_shape = parts[0].shape[1:]
    for p in parts[1:]:
        element_shape = element_shape.merge_with(p.shape[1:])
    dynamic_element = element_shape.as_list() if element_shape.is_fully_defined() else array_ops.shape(parts[0])[1:]
    result = array_ops.reshape(stitched, array_ops.concat([array_ops.shape(ids), dynamic_element], 0))
    result.set_shape(ids.shape.concatenate(element_shape))
    return result


def _clip_rows(embeddings: _ops.Tensor, ids: _ops.Tensor, max_norm, name) -> _ops.Tensor:
    """Rescales each embedding (the dims after those of `ids`) whose L2 norm exceeds `max_norm`."""
    ids_rank, rank = ids.shape.ndims, embeddings.shape.ndims
    if ids_rank is None or rank is None:
        raise ValueError("embedding_lookup with max_norm needs ids and params of known rank")
    axes = list(range(ids_rank, rank))
    if not axes:
        return embeddings
    norm = math_ops.sqrt(math_ops.reduce_sum(math_ops.square(embeddings), axes, keepdims=True))
    scale = math_ops.minimum(math_ops.cast(max_norm, embeddings.dtype.base_dtype) / math_ops.maximum(norm, 1e-30),
                             1.0)
    return math_ops.multiply(embeddings, scale, name=name)


# ----------------------------------------------------------------------------------------------------------
# Convolution wrappers
# ----------------------------------------------------------------------------------------------------------
def conv_transpose_operands(value, filter, output_shape, padding: str, rank: int,  # noqa: A002
                            channel_axis: int) -> tuple:
    """(value, filter, output_shape as a tensor) of a transposed convolution over rank-`rank` tensors, checked
    at graph-build time as TF checks them: the value's channels (at `channel_axis`) against the filter's input
    channels (its last dimension), output_shape a vector of `rank` entries whose channel entry, when given as a
    list, matches the filter's output channels, and a VALID or SAME padding."""
    value = _ops.convert_to_tensor(value, name="value")
    filter = _ops.convert_to_tensor(filter, name="filter")
    f_in, f_out = rank - 1, rank - 2
    if value.shape.ndims is not None and filter.shape.ndims is not None and \
            not value.shape[channel_axis].is_compatible_with(filter.shape[f_in]):
        raise ValueError(f"input channels does not match filter's input channels, {value.shape[channel_axis]} != "
                         f"{filter.shape[f_in]}")
    output_shape_t = _ops.convert_to_tensor(output_shape, name="output_shape")
    if not output_shape_t.shape.is_compatible_with(_shape.vector(rank)):
        raise ValueError(f"output_shape must have shape ({rank},), got {output_shape_t.shape}")
    if isinstance(output_shape, (list, tuple, np.ndarray)) and filter.shape.ndims is not None and \
            not filter.shape[f_out].is_compatible_with(output_shape[channel_axis]):
        raise ValueError(f"output_shape does not match filter's output channels, {output_shape[channel_axis]} != "
                         f"{filter.shape[f_out]}")
    if padding not in ("VALID", "SAME"):
        raise ValueError(f"padding must be either VALID or SAME: {padding}")
    return value, filter, output_shape_t


@tf_export("nn.conv2d_transpose")
def conv2d_transpose(value=None, filter=None, output_shape=None, strides=None, padding="SAME",  # noqa: A002
                     data_format="NHWC", name=None, input=None, filters=None, dilations=None) -> _ops.Tensor:  # noqa: A002
    """The transpose (gradient) of conv2d: maps `value` of conv2d's output shape to `output_shape`.

    `filter` is [height, width, output_channels, in_channels], as for the conv2d being transposed.
    """
    value = _renamed(input, "input", value, "value")
    filter = _renamed(filters, "filters", filter, "filter")
    with _ops.name_scope(name, "conv2d_transpose", [value, filter, output_shape]) as scope:
        value, filter, output_shape_t = conv_transpose_operands(value, filter, output_shape, padding, 4,
                                                                3 if data_format == "NHWC" else 1)
        return nn_ops.conv2d_backprop_input(output_shape_t, filter, value, strides=strides, padding=padding,
                                            data_format=data_format, dilations=dilations, name=scope)


@tf_export("nn.conv1d")
def conv1d(value=None, filters=None, stride=None, padding=None, use_cudnn_on_gpu=None, data_format=None,
           name=None, input=None, dilations=None) -> _ops.Tensor:  # noqa: A002
    """1-D convolution of [batch, width, channels] (NWC) input with a [width, in, out] filter, as a conv2d
    over a height-1 image."""
    value = _renamed(input, "input", value, "value")
    with _ops.name_scope(name, "conv1d", [value, filters]) as scope:
        if data_format is None or data_format in ("NHWC", "NWC"):
            data_format, spatial, channel_index = "NHWC", 1, 2
        elif data_format in ("NCHW", "NCW"):
            data_format, spatial, channel_index = "NCHW", 2, 1
        else:
            raise ValueError("data_format must be \"NWC\" or \"NCW\".")
        strides = [1] + _sequence_1d(stride, channel_index, "stride")
        dilation_list = [1] + _sequence_1d(dilations, channel_index, "dilations")
        value = array_ops.expand_dims(value, spatial)
        filters = array_ops.expand_dims(filters, 0)
        result = nn_ops.conv2d(value, filters, strides, padding, data_format=data_format, dilations=dilation_list)
        return array_ops.squeeze(result, [spatial], name=scope)


def _sequence_1d(value, channel_index: int, name: str) -> list:
    """A 1-D window attr expanded to [batch, width, channels] order (3 entries)."""
    if value is None:
        return [1, 1, 1]
    if isinstance(value, (int, np.integer)):
        value = [int(value)]
    value = [int(v) for v in value]
    if len(value) == 3:
        return value
    if len(value) != 1:
        raise ValueError(f"{name} should be of length 1, 1 or 3 but was {len(value)}")
    return [1, value[0], 1] if channel_index == 2 else [1, 1, value[0]]


@tf_export("nn.convolution")
def convolution(input, filter=None, padding=None, strides=None, dilation_rate=None, name=None,  # noqa: A002
                data_format=None, filters=None, dilations=None) -> _ops.Tensor:
    """N-d convolution for N = 1 (conv1d), 2 (conv2d) and 3 (Conv3D), N taken from the filter's rank."""
    filter = _renamed(filters, "filters", filter, "filter")
    dilation_rate = _renamed(dilations, "dilations", dilation_rate, "dilation_rate")
    with _ops.name_scope(name, "convolution", [input, filter]) as scope:
        input = _ops.convert_to_tensor(input, name="input")
        filter = _ops.convert_to_tensor(filter, name="filter")
        rank = filter.shape.ndims if filter.shape.ndims is not None else input.shape.ndims
        if rank is None:
            raise ValueError("rank of input or filter must be known")
        n = rank - 2
        if n not in (1, 2, 3):
            raise NotImplementedError(f"tfmini's convolution supports 1-D, 2-D and 3-D windows, got {n}-D")
        strides = [1] * n if strides is None else _sequence_nd(strides, n, "strides")
        dilation_rate = [1] * n if dilation_rate is None else _sequence_nd(dilation_rate, n, "dilation_rate")
        if any(s > 1 for s in strides) and any(d > 1 for d in dilation_rate):
            raise ValueError(f"strides > 1 not supported in conjunction with dilation_rate > 1: strides={strides}, "
                             f"dilation_rate={dilation_rate}")
        channels_first = data_format is not None and data_format.startswith("NC")
        if n == 1:
            return conv1d(input, filter, strides, padding, data_format="NCW" if channels_first else "NWC",
                          dilations=dilation_rate, name=scope)
        if n == 3:
            # Conv3D is created by type: its module (conv3d_ops) builds on this one
            fmt = "NCDHW" if channels_first else "NDHWC"
            window = (lambda v: [1, 1, *v]) if channels_first else (lambda v: [1, *v, 1])
            attrs = {"strides": window(strides), "padding": padding, "data_format": fmt,
                     "dilations": window(dilation_rate)}
            return apply_op("Conv3D", [input, filter], attrs, name=scope).outputs[0]
        fmt = "NCHW" if channels_first else "NHWC"
        return nn_ops.conv2d(input, filter, strides, padding, data_format=fmt, dilations=dilation_rate, name=scope)


def _sequence_nd(value, n: int, name: str) -> list:
    values = [int(value)] * n if isinstance(value, (int, np.integer)) else [int(v) for v in value]
    if len(values) != n:
        raise ValueError(f"{name} should be of length {n} but was {len(values)}")
    return values


@tf_export("nn.atrous_conv2d")
def atrous_conv2d(value, filters, rate, padding, name=None) -> _ops.Tensor:
    """conv2d with holes: the filter taps are `rate` pixels apart (a dilated convolution, stride 1)."""
    return nn_ops.conv2d(value, filters, [1, 1, 1, 1], padding, dilations=[1, rate, rate, 1], name=name)


# ----------------------------------------------------------------------------------------------------------
# Small composites
# ----------------------------------------------------------------------------------------------------------
@tf_export("nn.xw_plus_b")
def xw_plus_b(x, weights, biases, name=None) -> _ops.Tensor:
    """matmul(x, weights) + biases."""
    with _ops.name_scope(name, "xw_plus_b", [x, weights, biases]) as scope:
        mm = math_ops.matmul(x, weights)
        return nn_ops.bias_add(mm, biases, name=scope)


@tf_export("nn.relu_layer")
def relu_layer(x, weights, biases, name=None) -> _ops.Tensor:
    """relu(matmul(x, weights) + biases)."""
    with _ops.name_scope(name, "relu_layer", [x, weights, biases]) as scope:
        return nn_ops.relu(nn_ops.bias_add(math_ops.matmul(x, weights), biases), name=scope)


@tf_export("nn.crelu")
def crelu(features, name=None, axis=-1) -> _ops.Tensor:
    """Concatenates relu(features) and relu(-features) along `axis`."""
    with _ops.name_scope(name, "CRelu", [features]) as scope:
        features = _ops.convert_to_tensor(features, name="features")
        return nn_ops.relu(array_ops.concat([features, -features], axis), name=scope)


@tf_export("nn.silu", "nn.swish")
def swish(features, name=None) -> _ops.Tensor:
    """features * sigmoid(features)."""
    with _ops.name_scope(name, "swish", [features]) as scope:
        features = _ops.convert_to_tensor(features, name="features")
        return math_ops.multiply(features, math_ops.sigmoid(features), name=scope)


@tf_export("math.zero_fraction", "nn.zero_fraction")
def zero_fraction(value, name=None) -> _ops.Tensor:
    """The fraction of zeros in `value`, as a float32 scalar."""
    with _ops.name_scope(name, "zero_fraction", [value]):
        value = _ops.convert_to_tensor(value, name="value")
        zero = _ops.convert_to_tensor(0, dtype=value.dtype.base_dtype)
        return math_ops.reduce_mean(math_ops.cast(math_ops.equal(value, zero), _dt.float32))
