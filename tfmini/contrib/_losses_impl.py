"""`tf.contrib.losses`: TF 1.15's contrib loss functions with contrib's argument order (predictions or logits
first, then labels) and weighting: weights of lower rank than the losses line up with the losses' leading
dimensions (a [batch] weight scales every element of its example). Built on `tf.losses`."""

from __future__ import annotations

from tfmini import losses as _losses
from tfmini.contrib._framework_impl import add_arg_scope
from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.ops import array_ops as _array_ops
from tfmini.ops import math_ops as _math_ops
from tfmini.ops import nn_impl as _nn_impl
from tfmini.ops import nn_ops as _nn_ops

_LOSSES = _ops.GraphKeys.LOSSES


def _leading_weights(losses: _ops.Tensor, weights) -> _ops.Tensor:
    """`weights` as float32 with trailing 1-dims up to the losses' rank (a last dim of 1 dropped first)."""
    weights = _math_ops.cast(_ops.convert_to_tensor(weights), _dt.float32)
    if losses.shape.ndims is None:
        raise ValueError("losses.get_shape().ndims cannot be None")
    w_rank = weights.shape.ndims
    if w_rank is None:
        raise ValueError("weights.get_shape().ndims cannot be None")
    if w_rank > 1 and weights.shape[-1].is_compatible_with(1):
        weights = _array_ops.squeeze(weights, [-1])
        w_rank -= 1
    extra = losses.shape.ndims - w_rank
    if w_rank > 0 and extra > 0:
        weights = _array_ops.reshape(weights, _array_ops.concat(
            [_array_ops.shape(weights), _array_ops.ones([extra], _dt.int32)], 0))
    return weights


@tf_export("contrib.losses.compute_weighted_loss")
def compute_weighted_loss(losses, weights=1.0, scope=None) -> _ops.Tensor:
    """sum(losses * weights) / (number of loss elements with a nonzero weight), added to LOSSES.

    Weights are a scalar or have the leading dimensions of the losses."""
    with _ops.name_scope(scope, "weighted_loss", [losses, weights]) as sc:
        losses = _ops.convert_to_tensor(losses)
        weights = _leading_weights(losses, weights)
        return _losses.compute_weighted_loss(losses, weights, scope=sc,
                                             reduction=_losses.Reduction.SUM_BY_NONZERO_WEIGHTS)


def _require_labels(labels) -> None:
    if labels is None:
        raise ValueError("labels must not be None.")


def _float_pair(predictions, labels) -> tuple:
    _require_labels(labels)
    predictions = _math_ops.cast(_ops.convert_to_tensor(predictions), _dt.float32)
    labels = _math_ops.cast(_ops.convert_to_tensor(labels), _dt.float32)
    predictions.shape.assert_is_compatible_with(labels.shape)
    return predictions, labels


@tf_export("contrib.losses.absolute_difference")
def absolute_difference(predictions, labels=None, weights=1.0, scope=None) -> _ops.Tensor:
    """The weighted mean of |predictions - labels|."""
    with _ops.name_scope(scope, "absolute_difference", [predictions, labels, weights]) as sc:
        predictions, labels = _float_pair(predictions, labels)
        return compute_weighted_loss(_math_ops.abs(_math_ops.subtract(predictions, labels)), weights, scope=sc)


@tf_export("contrib.losses.mean_squared_error")
def mean_squared_error(predictions, labels=None, weights=1.0, scope=None) -> _ops.Tensor:
    """The weighted mean of (predictions - labels) ** 2."""
    with _ops.name_scope(scope, "mean_squared_error", [predictions, labels, weights]) as sc:
        predictions, labels = _float_pair(predictions, labels)
        return compute_weighted_loss(_math_ops.squared_difference(predictions, labels), weights, scope=sc)


@tf_export("contrib.losses.log_loss")
def log_loss(predictions, labels=None, weights=1.0, epsilon=1e-7, scope=None) -> _ops.Tensor:
    """The weighted mean of -labels * log(p + eps) - (1 - labels) * log(1 - p + eps)."""
    with _ops.name_scope(scope, "log_loss", [predictions, labels, weights]) as sc:
        predictions, labels = _float_pair(predictions, labels)
        losses = -_math_ops.multiply(labels, _math_ops.log(predictions + epsilon)) - _math_ops.multiply(
            1 - labels, _math_ops.log(1 - predictions + epsilon))
        return compute_weighted_loss(losses, weights, scope=sc)


@tf_export("contrib.losses.hinge_loss")
def hinge_loss(logits, labels=None, scope=None) -> _ops.Tensor:
    """The elementwise hinge losses max(0, 1 - (2 * labels - 1) * logits), unreduced and not collected."""
    with _ops.name_scope(scope, "hinge_loss", [logits, labels]):
        _require_labels(labels)
        logits = _ops.convert_to_tensor(logits)
        labels = _math_ops.cast(_ops.convert_to_tensor(labels), logits.dtype.base_dtype)
        logits.shape.assert_is_compatible_with(labels.shape)
        all_ones = _array_ops.ones_like(labels)
        signs = _math_ops.subtract(2 * labels, all_ones)
        return _nn_ops.relu(_math_ops.subtract(all_ones, _math_ops.multiply(signs, logits)))


@tf_export("contrib.losses.cosine_distance")
def cosine_distance(predictions, labels=None, axis=None, weights=1.0, scope=None, dim=None) -> _ops.Tensor:
    """The weighted mean of 1 - sum(predictions * labels, axis) (inputs assumed unit-normalized)."""
    if axis is not None and dim is not None:
        raise ValueError("Cannot specify both 'axis' and 'dim'")
    axis = dim if axis is None else axis
    if axis is None:
        raise ValueError("You must specify 'axis'.")
    with _ops.name_scope(scope, "cosine_distance_loss", [predictions, labels, weights]) as sc:
        predictions, labels = _float_pair(predictions, labels)
        losses = 1 - _math_ops.reduce_sum(_math_ops.multiply(predictions, labels), axis=[axis])
        return compute_weighted_loss(losses, weights, scope=sc)


@tf_export("contrib.losses.mean_pairwise_squared_error")
def mean_pairwise_squared_error(predictions, labels=None, weights=1.0, scope=None) -> _ops.Tensor:
    """Per example with n weighted elements and d = predictions - labels: 2 * sum(d**2) / n - 2 * (sum d)**2
    / n**2 (the mean over all ordered pairs, self-pairs included, of (d_i - d_j)**2), times the example's
    weight, summed over the batch."""
    with _ops.name_scope(scope, "mean_pairwise_squared_error", [predictions, labels, weights]):
        predictions, labels = _float_pair(predictions, labels)
        diffs = _math_ops.subtract(predictions, labels)
        weights = _leading_weights(diffs, weights)
        axes = _array_ops.range(1, _array_ops.rank(diffs))
        present = _math_ops.cast(_math_ops.not_equal(weights, 0.0), _dt.float32) * _array_ops.ones_like(diffs)
        n = _math_ops.reduce_sum(present, axis=axes)
        sum_sq = _math_ops.reduce_sum(_math_ops.square(diffs), axis=axes)
        sum_d = _math_ops.reduce_sum(diffs, axis=axes)
        term1 = 2.0 * _math_ops.div_no_nan(sum_sq, n)
        term2 = 2.0 * _math_ops.div_no_nan(_math_ops.square(sum_d), _math_ops.square(n))
        per_example = term1 - term2
        example_weights = weights if weights.shape.ndims == 0 else _array_ops.reshape(weights, [-1])
        example_weights = example_weights * _array_ops.ones_like(per_example)
        loss = _math_ops.reduce_sum(per_example * example_weights)
        mean_loss = _array_ops.where(_math_ops.reduce_sum(n) > 0, loss, _array_ops.zeros_like(loss), name="value")
        _losses.add_loss(mean_loss)
        return mean_loss


@tf_export("contrib.losses.sigmoid_cross_entropy")
def sigmoid_cross_entropy(logits, multi_class_labels, weights=1.0, label_smoothing=0, scope=None) -> _ops.Tensor:
    """The weighted mean of the elementwise sigmoid cross-entropies; label_smoothing moves labels towards 1/2."""
    with _ops.name_scope(scope, "sigmoid_cross_entropy_loss", [logits, multi_class_labels, weights]) as sc:
        logits = _ops.convert_to_tensor(logits)
        labels = _math_ops.cast(multi_class_labels, logits.dtype.base_dtype)
        logits.shape.assert_is_compatible_with(labels.shape)
        if label_smoothing > 0:
            labels = labels * (1 - label_smoothing) + 0.5 * label_smoothing
        losses = _nn_impl.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, scope=sc)


@tf_export("contrib.losses.softmax_cross_entropy")
def softmax_cross_entropy(logits, onehot_labels, weights=1.0, label_smoothing=0, scope=None) -> _ops.Tensor:
    """The weighted mean over the batch of the softmax cross-entropies of [batch, classes] `logits` against
    one-hot labels; label_smoothing mixes the labels with the uniform distribution."""
    with _ops.name_scope(scope, "softmax_cross_entropy_loss", [logits, onehot_labels, weights]) as sc:
        logits = _ops.convert_to_tensor(logits)
        labels = _math_ops.cast(onehot_labels, logits.dtype.base_dtype)
        logits.shape.assert_is_compatible_with(labels.shape)
        if label_smoothing > 0:
            num_classes = _math_ops.cast(_array_ops.shape(labels)[1], logits.dtype.base_dtype)
            labels = labels * (1.0 - label_smoothing) + label_smoothing / num_classes
        losses = _nn_impl.softmax_cross_entropy_with_logits_v2(
            labels=_array_ops.stop_gradient(labels), logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, scope=sc)


@tf_export("contrib.losses.sparse_softmax_cross_entropy")
def sparse_softmax_cross_entropy(logits, labels, weights=1.0, scope=None) -> _ops.Tensor:
    """The weighted mean of the softmax cross-entropies of `logits` against integer labels, which are
    reshaped to [batch_size]."""
    with _ops.name_scope(scope, "sparse_softmax_cross_entropy_loss", [logits, labels, weights]) as sc:
        labels = _ops.convert_to_tensor(labels)
        labels = _array_ops.reshape(labels, _array_ops.shape(labels)[:1])
        losses = _nn_impl.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, scope=sc)


@tf_export("contrib.losses.add_loss")
@add_arg_scope
def add_loss(loss, loss_collection=_LOSSES) -> None:
    """Adds `loss` to `loss_collection` (nothing when the collection is None)."""
    _losses.add_loss(loss, loss_collection)


@tf_export("contrib.losses.get_losses")
def get_losses(scope=None, loss_collection=_LOSSES) -> list:
    return _losses.get_losses(scope, loss_collection)


@tf_export("contrib.losses.get_regularization_losses")
def get_regularization_losses(scope=None) -> list:
    return _losses.get_regularization_losses(scope)


@tf_export("contrib.losses.get_total_loss")
def get_total_loss(add_regularization_losses=True, name="total_loss") -> _ops.Tensor:
    """The sum of LOSSES (and REGULARIZATION_LOSSES when asked)."""
    return _losses.get_total_loss(add_regularization_losses, name=name)
