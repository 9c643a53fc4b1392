"""`tf.losses`: TF1's loss functions, built from nn and math ops, with weights, reductions and the LOSSES
collection (`add_loss`, `get_losses`, `get_total_loss`, ...). Composites only: no kernels of their own."""

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export as _tf_export
from tfmini.ops import array_ops as _array_ops
from tfmini.ops import math_ops as _math_ops
from tfmini.ops import nn_impl as _nn_impl
from tfmini.ops import nn_ops as _nn_ops

_LOSSES = _ops.GraphKeys.LOSSES


@_tf_export("losses.Reduction")
class Reduction:
    """How a weighted loss tensor is reduced to the returned loss."""

    NONE = "none"
    SUM = "weighted_sum"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    MEAN = "weighted_mean"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls) -> tuple:
        return (cls.NONE, cls.SUM, cls.MEAN, cls.SUM_OVER_BATCH_SIZE, cls.SUM_OVER_NONZERO_WEIGHTS,
                cls.SUM_BY_NONZERO_WEIGHTS)

    @classmethod
    def validate(cls, key) -> None:
        if key not in cls.all():
            raise ValueError(f"Invalid Reduction Key {key}.")


# ----------------------------------------------------------------------------------------------------------
# The LOSSES collection
# ----------------------------------------------------------------------------------------------------------
@_tf_export("losses.add_loss")
def add_loss(loss, loss_collection=_LOSSES) -> None:
    """Adds `loss` to the graph collection `loss_collection` (nothing when it is None or empty)."""
    if loss_collection:
        _ops.add_to_collection(loss_collection, loss)


@_tf_export("losses.get_losses")
def get_losses(scope=None, loss_collection=_LOSSES) -> list:
    return _ops.get_collection(loss_collection, scope)


@_tf_export("losses.get_regularization_losses")
def get_regularization_losses(scope=None) -> list:
    return _ops.get_collection(_ops.GraphKeys.REGULARIZATION_LOSSES, scope)


@_tf_export("losses.get_regularization_loss")
def get_regularization_loss(scope=None, name="total_regularization_loss") -> _ops.Tensor:
    """The sum of the regularization losses, or 0.0 when there are none."""
    losses = get_regularization_losses(scope)
    if losses:
        return _math_ops.add_n(losses, name=name)
    return _ops.convert_to_tensor(0.0)


@_tf_export("losses.get_total_loss")
def get_total_loss(add_regularization_losses=True, name="total_loss", scope=None) -> _ops.Tensor:
    """The sum of the collected losses (and regularization losses); ValueError when there are none."""
    losses = get_losses(scope=scope)
    if add_regularization_losses:
        losses = losses + get_regularization_losses(scope=scope)
    return _math_ops.add_n(losses, name=name)


# ----------------------------------------------------------------------------------------------------------
# Weighting and reduction
# ----------------------------------------------------------------------------------------------------------
def _check_broadcastable(weights: _ops.Tensor, values: _ops.Tensor) -> None:
    """Weights must be a scalar or have the rank of the losses with each dim 1 or equal (checked statically)."""
    w, v = weights.shape, values.shape
    if w.ndims is None or v.ndims is None or w.ndims == 0:
        return
    ok = w.ndims == v.ndims and all(
        dw.value is None or dv.value is None or dw.value in (1, dv.value) for dw, dv in zip(w, v))
    if not ok:
        raise ValueError(f"weights can not be broadcast to values. values.rank={v.ndims}. weights.rank={w.ndims}. "
                         f"values.shape={v}. weights.shape={w}.")


def _num_elements(losses: _ops.Tensor) -> _ops.Tensor:
    with _ops.name_scope(None, "num_elements", [losses]) as scope:
        return _math_ops.cast(_array_ops.size(losses, name=scope), losses.dtype.base_dtype)


def _num_present(losses: _ops.Tensor, weights, per_batch: bool = False) -> _ops.Tensor:
    """How many loss elements have a nonzero weight (after broadcasting the weights to the losses)."""
    if isinstance(weights, float) and weights != 0.0 and not per_batch:
        return _num_elements(losses)
    with _ops.name_scope(None, "num_present", [losses, weights]) as scope:
        weights = _math_ops.cast(weights, _dt.float32)
        present = _math_ops.cast(_math_ops.not_equal(weights, 0.0), _dt.float32)
        present = present * _array_ops.ones_like(losses)
        if per_batch:
            axes = _array_ops.range(1, _array_ops.rank(present))
            return _math_ops.reduce_sum(present, axis=axes, keepdims=True, name=scope)
        return _math_ops.reduce_sum(present, name=scope)


def _safe_mean(total: _ops.Tensor, count: _ops.Tensor) -> _ops.Tensor:
    return _math_ops.div_no_nan(total, count, name="value")


@_tf_export("losses.compute_weighted_loss")
def compute_weighted_loss(losses, weights=1.0, scope=None, loss_collection=_LOSSES,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS) -> _ops.Tensor:
    """losses * weights, reduced as `reduction` says, in the losses' dtype, and added to `loss_collection`."""
    Reduction.validate(reduction)
    with _ops.name_scope(scope, "weighted_loss", [losses, weights]):
        losses = _ops.convert_to_tensor(losses)
        input_dtype = losses.dtype.base_dtype
        losses = _math_ops.cast(losses, _dt.float32)
        weights_t = _math_ops.cast(weights, _dt.float32)
        _check_broadcastable(weights_t, losses)
        weighted = _math_ops.multiply(losses, weights_t)
        if reduction == Reduction.NONE:
            loss = weighted
        else:
            loss = _math_ops.reduce_sum(weighted)
            if reduction == Reduction.MEAN:
                loss = _safe_mean(loss, _math_ops.reduce_sum(_array_ops.ones_like(losses) * weights_t))
            elif reduction == Reduction.SUM_BY_NONZERO_WEIGHTS:
                loss = _safe_mean(loss, _num_present(losses, weights))
            elif reduction == Reduction.SUM_OVER_BATCH_SIZE:
                loss = _safe_mean(loss, _num_elements(losses))
        loss = _math_ops.cast(loss, input_dtype)
        add_loss(loss, loss_collection)
        return loss


def _require(**values) -> None:
    for name, value in values.items():
        if value is None:
            raise ValueError(f"{name} must not be None.")


def _as_float32_pair(labels, predictions) -> tuple:
    predictions = _math_ops.cast(predictions, _dt.float32)
    labels = _math_ops.cast(labels, _dt.float32)
    predictions.shape.assert_is_compatible_with(labels.shape)
    return labels, predictions


# ----------------------------------------------------------------------------------------------------------
# Losses
# ----------------------------------------------------------------------------------------------------------
def _pointwise_loss(default_name: str, labels, predictions, weights, scope, loss_collection, reduction, losses_of,
                    names=("labels", "predictions")) -> _ops.Tensor:
    """A loss computed elementwise in float32 by `losses_of(labels, predictions)`, then weighted and reduced."""
    _require(**{names[0]: labels, names[1]: predictions})
    with _ops.name_scope(scope, default_name, [predictions, labels, weights]) as sc:
        labels, predictions = _as_float32_pair(labels, predictions)
        return compute_weighted_loss(losses_of(labels, predictions), weights, sc, loss_collection, reduction=reduction)


@_tf_export("losses.absolute_difference")
def absolute_difference(labels, predictions, weights=1.0, scope=None, loss_collection=_LOSSES,
                        reduction=Reduction.SUM_BY_NONZERO_WEIGHTS) -> _ops.Tensor:
    """|predictions - labels|, weighted and reduced."""
    return _pointwise_loss("absolute_difference", labels, predictions, weights, scope, loss_collection, reduction,
                           lambda lab, p: _math_ops.abs(_math_ops.subtract(p, lab)))


@_tf_export("losses.mean_squared_error")
def mean_squared_error(labels, predictions, weights=1.0, scope=None, loss_collection=_LOSSES,
                       reduction=Reduction.SUM_BY_NONZERO_WEIGHTS) -> _ops.Tensor:
    """(predictions - labels) ** 2, weighted and reduced."""
    return _pointwise_loss("mean_squared_error", labels, predictions, weights, scope, loss_collection, reduction,
                           lambda lab, p: _math_ops.squared_difference(p, lab))


@_tf_export("losses.huber_loss")
def huber_loss(labels, predictions, weights=1.0, delta=1.0, scope=None, loss_collection=_LOSSES,
               reduction=Reduction.SUM_BY_NONZERO_WEIGHTS) -> _ops.Tensor:
    """0.5 * e ** 2 for |e| <= delta, else delta * (|e| - 0.5 * delta), with e = predictions - labels."""
    def losses_of(lab, p):
        abs_error = _math_ops.abs(_math_ops.subtract(p, lab))
        quadratic = _math_ops.minimum(abs_error, delta)
        linear = _math_ops.subtract(abs_error, quadratic)
        return _math_ops.add(_math_ops.multiply(0.5, _math_ops.multiply(quadratic, quadratic)),
                            _math_ops.multiply(delta, linear))

    return _pointwise_loss("huber_loss", labels, predictions, weights, scope, loss_collection, reduction, losses_of)


@_tf_export("losses.log_loss")
def log_loss(labels, predictions, weights=1.0, epsilon=1e-7, scope=None, loss_collection=_LOSSES,
             reduction=Reduction.SUM_BY_NONZERO_WEIGHTS) -> _ops.Tensor:
    """-labels * log(p + eps) - (1 - labels) * log(1 - p + eps) for probabilities p = predictions."""
    def losses_of(lab, p):
        return -_math_ops.multiply(lab, _math_ops.log(p + epsilon)) - _math_ops.multiply(
            1 - lab, _math_ops.log(1 - p + epsilon))

    return _pointwise_loss("log_loss", labels, predictions, weights, scope, loss_collection, reduction, losses_of)


@_tf_export("losses.hinge_loss")
def hinge_loss(labels, logits, weights=1.0, scope=None, loss_collection=_LOSSES,
               reduction=Reduction.SUM_BY_NONZERO_WEIGHTS) -> _ops.Tensor:
    """max(0, 1 - (2 * labels - 1) * logits) for labels in {0, 1}."""
    def losses_of(lab, x):
        ones = _array_ops.ones_like(lab)
        signs = _math_ops.subtract(2 * lab, ones)
        return _nn_ops.relu(_math_ops.subtract(ones, _math_ops.multiply(signs, x)))

    return _pointwise_loss("hinge_loss", labels, logits, weights, scope, loss_collection, reduction, losses_of,
                           names=("labels", "logits"))


@_tf_export("losses.cosine_distance")
def cosine_distance(labels, predictions, axis=None, weights=1.0, scope=None, loss_collection=_LOSSES,
                    reduction=Reduction.SUM_BY_NONZERO_WEIGHTS, dim=None) -> _ops.Tensor:
    """1 - sum(labels * predictions, axis) for unit-normalized labels and predictions."""
    axis = _nn_impl._renamed(axis, "axis", dim, "dim")
    if axis is None:
        raise ValueError("You must specify 'axis'.")

    def losses_of(lab, p):
        return 1 - _math_ops.reduce_sum(_math_ops.multiply(p, lab), axis=[axis], keepdims=True)

    return _pointwise_loss("cosine_distance_loss", labels, predictions, weights, scope, loss_collection, reduction,
                           losses_of)


@_tf_export("losses.mean_pairwise_squared_error")
def mean_pairwise_squared_error(labels, predictions, weights=1.0, scope=None,
                                loss_collection=_LOSSES) -> _ops.Tensor:
    """Per example, the mean over pairs of elements (i, j) of ((p_i - p_j) - (l_i - l_j)) ** 2, weighted and
    summed over the batch (elements with zero weight are left out of the pairs)."""
    _require(labels=labels, predictions=predictions)
    with _ops.name_scope(scope, "mean_pairwise_squared_error", [predictions, labels, weights]):
        weights = _math_ops.cast(weights, _dt.float32)
        labels, predictions = _as_float32_pair(labels, predictions)
        diffs = _math_ops.subtract(predictions, labels)
        axes = _array_ops.range(1, _array_ops.rank(diffs))
        sum_sq = _math_ops.reduce_sum(_math_ops.square(diffs), axis=axes, keepdims=True)
        n = _num_present(diffs, weights, per_batch=True)
        # sum over pairs of (d_i - d_j)^2 = 2 n sum(d^2) - 2 (sum d)^2, divided by the n (n - 1) ordered pairs.
        term1 = 2.0 * _math_ops.div_no_nan(sum_sq, n - 1, name="value")
        sum_d = _math_ops.reduce_sum(diffs, axis=axes, keepdims=True)
        term2 = 2.0 * _math_ops.div_no_nan(_math_ops.square(sum_d), _math_ops.multiply(n, n - 1), name="value")
        loss = _math_ops.reduce_sum(_math_ops.multiply(term1 - term2, weights))
        mean_loss = _array_ops.where(_math_ops.reduce_sum(n) > 0, loss, _array_ops.zeros_like(loss), name="value")
        add_loss(mean_loss, loss_collection)
        return mean_loss


@_tf_export("losses.sigmoid_cross_entropy")
def sigmoid_cross_entropy(multi_class_labels, logits, weights=1.0, label_smoothing=0, scope=None,
                          loss_collection=_LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS) -> _ops.Tensor:
    """Elementwise sigmoid cross-entropy; label_smoothing moves labels towards 1/2."""
    _require(multi_class_labels=multi_class_labels, logits=logits)
    with _ops.name_scope(scope, "sigmoid_cross_entropy_loss", [logits, multi_class_labels, weights]) as sc:
        logits = _ops.convert_to_tensor(logits)
        labels = _math_ops.cast(multi_class_labels, logits.dtype.base_dtype)
        logits.shape.assert_is_compatible_with(labels.shape)
        if label_smoothing > 0:
            labels = labels * (1 - label_smoothing) + 0.5 * label_smoothing
        losses = _nn_impl.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, sc, loss_collection, reduction=reduction)


@_tf_export("losses.softmax_cross_entropy")
def softmax_cross_entropy(onehot_labels, logits, weights=1.0, label_smoothing=0, scope=None,
                          loss_collection=_LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS) -> _ops.Tensor:
    """Softmax cross-entropy against one-hot (or distribution) labels, which get no gradient; label_smoothing
    mixes the labels with the uniform distribution."""
    _require(onehot_labels=onehot_labels, logits=logits)
    with _ops.name_scope(scope, "softmax_cross_entropy_loss", [logits, onehot_labels, weights]) as sc:
        logits = _ops.convert_to_tensor(logits)
        labels = _math_ops.cast(onehot_labels, logits.dtype.base_dtype)
        logits.shape.assert_is_compatible_with(labels.shape)
        if label_smoothing > 0:
            num_classes = _math_ops.cast(_array_ops.shape(labels)[-1], logits.dtype.base_dtype)
            labels = labels * (1.0 - label_smoothing) + label_smoothing / num_classes
        labels = _array_ops.stop_gradient(labels, name="labels_stop_gradient")
        losses = _nn_impl.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, sc, loss_collection, reduction=reduction)


def _squeeze_labels_and_weights(labels: _ops.Tensor, logits: _ops.Tensor, weights) -> tuple:
    """Labels of the logits' rank with a last dim of 1 lose it; so do weights one rank above the labels."""
    l_rank, x_rank = labels.shape.ndims, logits.shape.ndims
    if l_rank is not None and x_rank is not None and l_rank == x_rank and \
            labels.shape[-1].is_compatible_with(1):
        labels = _array_ops.squeeze(labels, [-1])
    weights = _ops.convert_to_tensor(weights)
    if labels.shape.ndims is not None and weights.shape.ndims is not None and \
            weights.shape.ndims - labels.shape.ndims == 1:
        weights = _array_ops.squeeze(weights, [-1])
    return labels, weights


@_tf_export("losses.sparse_softmax_cross_entropy")
def sparse_softmax_cross_entropy(labels, logits, weights=1.0, scope=None, loss_collection=_LOSSES,
                                 reduction=Reduction.SUM_BY_NONZERO_WEIGHTS) -> _ops.Tensor:
    """Softmax cross-entropy against integer class labels (of the logits' shape without its last dim)."""
    _require(labels=labels, logits=logits)
    with _ops.name_scope(scope, "sparse_softmax_cross_entropy_loss", [logits, labels, weights]) as sc:
        labels = _ops.convert_to_tensor(labels)
        logits = _ops.convert_to_tensor(logits)
        labels, weights = _squeeze_labels_and_weights(labels, logits, weights)
        losses = _nn_impl.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, sc, loss_collection, reduction=reduction)
