"""`tf.metrics`: TF1's streaming metrics. Each returns `(value, update_op)` over local metric variables.

Composites of existing ops only (no kernels of their own): running an `update_op` adds one batch to the metric's
LOCAL_VARIABLES / METRIC_VARIABLES accumulators and returns the metric so far; the value tensor reads it without
changing anything; `tf.local_variables_initializer()` starts the stream again. Names of scopes, variables and
the returned tensors follow TensorFlow's (`accuracy/total:0`, `accuracy/update_op:0`, ...).
"""

from __future__ import annotations

from collections.abc import Sequence

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import tf_logging
from tfmini.framework.api_export import tf_export
from tfmini.framework.constant_op import constant
from tfmini.framework.sparse_tensor import SparseTensor, SparseTensorValue
from tfmini.ops import array_ops, check_ops, control_flow_ops, math_ops, nn_ops, sort_ops, sparse_ops, state_ops
from tfmini.ops.variable_scope import variable_scope
from tfmini.ops.variables import Variable, VariableAggregation, VariableSynchronization

# Kept away from 0 and 1 so that predictions of exactly 0 or 1 fall on the right side of the end thresholds.
_THRESHOLD_EPSILON = 1e-7
_WEIGHTS_ERROR = "weights can not be broadcast to values."


# ----------------------------------------------------------------------------------------------------------
# Accumulators, collections
# ----------------------------------------------------------------------------------------------------------
def metric_variable(shape, dtype, validate_shape: bool = True, name=None) -> Variable:
    """A zero-initialized, non-trainable variable in the LOCAL_VARIABLES and METRIC_VARIABLES collections."""
    return Variable(
        lambda: array_ops.zeros(shape, dtype), trainable=False,
        collections=[_ops.GraphKeys.LOCAL_VARIABLES, _ops.GraphKeys.METRIC_VARIABLES],
        validate_shape=validate_shape, synchronization=VariableSynchronization.ON_READ,
        aggregation=VariableAggregation.SUM, name=name)


def _collect(collections, value) -> None:
    if collections:
        _ops.add_to_collections(collections, value)


def _collected(value, update_op, metrics_collections, updates_collections) -> tuple:
    """A metric's (value, update_op), each added to its collections."""
    _collect(metrics_collections, value)
    _collect(updates_collections, update_op)
    return value, update_op


def _read(variable: Variable, metrics_collections) -> _ops.Tensor:
    """The value tensor of a metric that is a variable itself (counts): a read that never updates it."""
    value = array_ops.identity(variable)
    _collect(metrics_collections, value)
    return value


# ----------------------------------------------------------------------------------------------------------
# Shapes: squeezable dimensions, weights broadcasting
# ----------------------------------------------------------------------------------------------------------
def _last_dim_may_be_one(shape) -> bool:
    return shape.ndims is None or shape.dims[-1].is_compatible_with(1)


def _squeeze_last(x: _ops.Tensor) -> _ops.Tensor:
    return array_ops.squeeze(x, [-1])


def _match_label_rank(labels, predictions) -> tuple[_ops.Tensor, _ops.Tensor]:
    """Squeezes the last dimension of `labels` or `predictions` when their ranks differ by one and it is 1."""
    with _ops.name_scope(None, "remove_squeezable_dimensions", [labels, predictions]):
        predictions = _ops.convert_to_tensor(predictions)
        labels = _ops.convert_to_tensor(labels)
        p_shape, l_shape = predictions.shape, labels.shape
        if p_shape.ndims is not None and l_shape.ndims is not None:
            diff = p_shape.ndims - l_shape.ndims
            if diff == 1 and _last_dim_may_be_one(p_shape):
                predictions = _squeeze_last(predictions)
            elif diff == -1 and _last_dim_may_be_one(l_shape):
                labels = _squeeze_last(labels)
            return labels, predictions
        diff = array_ops.rank(predictions) - array_ops.rank(labels)
        if _last_dim_may_be_one(p_shape):
            p = predictions
            predictions = control_flow_ops.cond(math_ops.equal(diff, 1), lambda: _squeeze_last(p), lambda: p)
        if _last_dim_may_be_one(l_shape):
            lab = labels
            labels = control_flow_ops.cond(math_ops.equal(diff, -1), lambda: _squeeze_last(lab), lambda: lab)
        return labels, predictions


def _remove_squeezable_dimensions(predictions, labels, weights):
    """Aligns ranks: `labels` against `predictions` as above, then `weights` (unless scalar) is squeezed or
    expanded by one trailing dimension to the rank of `predictions`."""
    predictions = _ops.convert_to_tensor(predictions)
    if labels is not None:
        labels, predictions = _match_label_rank(labels, predictions)
        predictions.shape.assert_is_compatible_with(labels.shape)
    if weights is None:
        return predictions, labels, None
    weights = _ops.convert_to_tensor(weights)
    w_rank, p_rank = weights.shape.ndims, predictions.shape.ndims
    if w_rank == 0:
        return predictions, labels, weights
    if w_rank is not None and p_rank is not None:
        if w_rank - p_rank == 1:
            weights = _squeeze_last(weights)
        elif p_rank - w_rank == 1:
            weights = array_ops.expand_dims(weights, -1)
        return predictions, labels, weights
    w = weights
    diff = array_ops.rank(w) - array_ops.rank(predictions)
    squeeze = (lambda: _squeeze_last(w)) if _last_dim_may_be_one(w.shape) else (lambda: w)

    def adjust():
        return control_flow_ops.cond(
            math_ops.equal(diff, 1), squeeze,
            lambda: control_flow_ops.cond(math_ops.equal(diff, -1), lambda: array_ops.expand_dims(w, -1),
                                          lambda: w))

    weights = control_flow_ops.cond(math_ops.equal(array_ops.rank(w), 0), lambda: w, adjust)
    return predictions, labels, weights


def _assert_broadcastable(weights: _ops.Tensor, values: _ops.Tensor) -> list:
    """TF's rule for metric weights: a scalar, or the rank of `values` with every dimension 1 or equal.

    Decided at graph construction when both shapes are known (ValueError), else by an Assert op that fails
    with InvalidArgumentError; returns the control dependencies to put in front of the weighted values.
    """
    w_shape, v_shape = weights.shape, values.shape
    if w_shape.ndims is not None and v_shape.ndims is not None:
        if w_shape.ndims == 0:
            return []
        if w_shape.ndims != v_shape.ndims:
            raise ValueError(f"{_WEIGHTS_ERROR} values.rank={v_shape.ndims}. weights.rank={w_shape.ndims}. "
                             f"values.shape={v_shape}. weights.shape={w_shape}.")
        if w_shape.is_fully_defined() and v_shape.is_fully_defined():
            for i, (w, v) in enumerate(zip(w_shape.as_list(), v_shape.as_list())):
                if w not in (1, v):
                    raise ValueError(f"{_WEIGHTS_ERROR} Mismatch at dim {i}. values.shape={v_shape.as_list()}, "
                                     f"weights.shape={w_shape.as_list()}.")
            return []
    with _ops.name_scope(None, "assert_broadcastable", [weights, values]):
        w_dims, v_dims = array_ops.shape(weights), array_ops.shape(values)
        w_rank, v_rank = array_ops.rank(weights), array_ops.rank(values)

        def same_rank_dims_match():
            return math_ops.reduce_all(
                math_ops.logical_or(math_ops.equal(w_dims, 1), math_ops.equal(w_dims, v_dims)))

        def nonscalar_ok():
            return control_flow_ops.cond(math_ops.equal(w_rank, v_rank), same_rank_dims_match,
                                         lambda: constant(False))

        is_scalar = math_ops.equal(w_rank, 0)
        ok = control_flow_ops.cond(is_scalar, lambda: is_scalar, nonscalar_ok, name="is_valid_shape")
        data = [_WEIGHTS_ERROR, "weights.shape=", weights.name, w_dims, "values.shape=", values.name, v_dims,
                "is_scalar=", is_scalar]
        return [control_flow_ops.Assert(ok, data)]


def _broadcast_weights(weights, values: _ops.Tensor) -> _ops.Tensor:
    """`weights` (checked by TF's rule) broadcast to the shape of `values`, in the dtype of `values`."""
    with _ops.name_scope(None, "broadcast_weights", [weights, values]) as scope:
        values = _ops.convert_to_tensor(values, name="values")
        weights = _ops.convert_to_tensor(weights, dtype=values.dtype.base_dtype, name="weights")
        w_shape, v_shape = weights.shape, values.shape
        if w_shape.is_fully_defined() and v_shape.is_fully_defined() and w_shape.is_compatible_with(v_shape):
            return weights
        with _ops.control_dependencies(_assert_broadcastable(weights, values)):
            return math_ops.multiply(weights, array_ops.ones_like(values), name=scope)


def _weighted(counts: _ops.Tensor, weights) -> _ops.Tensor:
    """`counts` (float64 per row) times `weights` checked against them."""
    if weights is None:
        return counts
    weights = _ops.convert_to_tensor(weights)
    with _ops.control_dependencies(_assert_broadcastable(weights, counts)):
        return math_ops.multiply(counts, math_ops.cast(weights, _dt.float64))


# ----------------------------------------------------------------------------------------------------------
# Means: mean, mean_tensor and the metrics that are means of something
# ----------------------------------------------------------------------------------------------------------
def _ratio(total, count, name) -> _ops.Tensor:
    return math_ops.div_no_nan(total, math_ops.maximum(count, 0), name=name)


def _weighted_values(values, weights) -> tuple:
    """(values * weights, weights) with the float32 weights broadcast to the values (a squeezable last
    dimension of the weights removed first)."""
    values, _, weights = _remove_squeezable_dimensions(values, None, weights)
    weights = _broadcast_weights(math_ops.cast(weights, _dt.float32), values)
    return math_ops.multiply(values, weights), weights


def _accumulated_mean(total, count, total_delta, count_delta, values, metrics_collections,
                      updates_collections) -> tuple:
    """(total / count, the same after adding the deltas to the variables `total` and `count`), the count
    updated once `values` are computed."""
    update_total = state_ops.assign_add(total, total_delta)
    with _ops.control_dependencies([values]):
        update_count = state_ops.assign_add(count, count_delta)
    value = _ratio(total, count, "value")
    update_op = _ratio(update_total, update_count, "update_op")
    return _collected(value, update_op, metrics_collections, updates_collections)


@tf_export("metrics.mean")
def mean(values, weights=None, metrics_collections=None, updates_collections=None, name=None) -> tuple:
    """The (weighted) mean of `values` over every batch so far, from the local variables `total` and `count`."""
    with variable_scope(name, "mean", (values, weights)):
        values = math_ops.cast(values, _dt.float32)
        total = metric_variable([], _dt.float32, name="total")
        count = metric_variable([], _dt.float32, name="count")
        if weights is None:
            num_values = math_ops.cast(array_ops.size(values), _dt.float32)
        else:
            values, weights = _weighted_values(values, weights)
            num_values = math_ops.reduce_sum(weights)
        return _accumulated_mean(total, count, math_ops.reduce_sum(values), num_values, values, metrics_collections,
                                 updates_collections)


@tf_export("metrics.mean_tensor")
def mean_tensor(values, weights=None, metrics_collections=None, updates_collections=None, name=None) -> tuple:
    """The element-wise (weighted) mean of `values` over every batch so far (`total_tensor` / `count_tensor`)."""
    with variable_scope(name, "mean", (values, weights)):
        values = math_ops.cast(values, _dt.float32)
        if not values.shape.is_fully_defined():
            raise ValueError(f"mean_tensor needs values of a fully defined shape, got {values.shape}.")
        total = metric_variable(values.shape.as_list(), _dt.float32, name="total_tensor")
        count = metric_variable(values.shape.as_list(), _dt.float32, name="count_tensor")
        num_values = array_ops.ones_like(values)
        if weights is not None:
            values, weights = _weighted_values(values, weights)
            num_values = math_ops.multiply(num_values, weights)
        return _accumulated_mean(total, count, values, num_values, values, metrics_collections, updates_collections)


@tf_export("metrics.accuracy")
def accuracy(labels, predictions, weights=None, metrics_collections=None, updates_collections=None,
             name=None) -> tuple:
    """How often `predictions` equals `labels` (weighted), as the mean of the matches."""
    predictions, labels, weights = _remove_squeezable_dimensions(predictions, labels, weights)
    predictions.shape.assert_is_compatible_with(labels.shape)
    if labels.dtype != predictions.dtype:
        predictions = math_ops.cast(predictions, labels.dtype)
    is_correct = math_ops.cast(math_ops.equal(predictions, labels), _dt.float32)
    return mean(is_correct, weights, metrics_collections, updates_collections, name or "accuracy")


@tf_export("metrics.mean_absolute_error")
def mean_absolute_error(labels, predictions, weights=None, metrics_collections=None, updates_collections=None,
                        name=None) -> tuple:
    """The (weighted) mean of |predictions - labels| over every batch so far."""
    predictions, labels, weights = _remove_squeezable_dimensions(predictions, labels, weights)
    errors = math_ops.abs(predictions - labels)
    return mean(errors, weights, metrics_collections, updates_collections, name or "mean_absolute_error")


@tf_export("metrics.mean_squared_error")
def mean_squared_error(labels, predictions, weights=None, metrics_collections=None, updates_collections=None,
                       name=None) -> tuple:
    """The (weighted) mean of (predictions - labels)^2 over every batch so far."""
    predictions, labels, weights = _remove_squeezable_dimensions(predictions, labels, weights)
    errors = math_ops.squared_difference(labels, predictions)
    return mean(errors, weights, metrics_collections, updates_collections, name or "mean_squared_error")


@tf_export("metrics.root_mean_squared_error")
def root_mean_squared_error(labels, predictions, weights=None, metrics_collections=None, updates_collections=None,
                            name=None) -> tuple:
    """The square root of the streaming mean squared error."""
    predictions, labels, weights = _remove_squeezable_dimensions(predictions, labels, weights)
    mse, update_mse = mean_squared_error(labels, predictions, weights, None, None, name or "root_mean_squared_error")
    value = math_ops.sqrt(mse)
    update_op = math_ops.sqrt(update_mse)
    return _collected(value, update_op, metrics_collections, updates_collections)


@tf_export("metrics.mean_relative_error")
def mean_relative_error(labels, predictions, normalizer, weights=None, metrics_collections=None,
                        updates_collections=None, name=None) -> tuple:
    """The mean of |labels - predictions| / normalizer (0 where the normalizer is 0)."""
    predictions, labels, weights = _remove_squeezable_dimensions(predictions, labels, weights)
    normalizer, predictions = _match_label_rank(normalizer, predictions)
    predictions.shape.assert_is_compatible_with(normalizer.shape)
    relative = array_ops.where(math_ops.equal(normalizer, 0.0), array_ops.zeros_like(labels),
                               math_ops.divide(math_ops.abs(labels - predictions), normalizer))
    return mean(relative, weights, metrics_collections, updates_collections, name or "mean_relative_error")


@tf_export("metrics.mean_cosine_distance")
def mean_cosine_distance(labels, predictions, dim, weights=None, metrics_collections=None, updates_collections=None,
                         name=None) -> tuple:
    """1 - the mean dot product of `labels` and `predictions` along `dim` (both assumed unit-normalized)."""
    predictions, labels, weights = _remove_squeezable_dimensions(predictions, labels, weights)
    dots = math_ops.reduce_sum(math_ops.multiply(predictions, labels), axis=[dim], keepdims=True)
    mean_dot, update_dot = mean(dots, weights, None, None, name or "mean_cosine_distance")
    value = math_ops.subtract(1.0, mean_dot)
    update_op = math_ops.subtract(1.0, update_dot)
    return _collected(value, update_op, metrics_collections, updates_collections)


@tf_export("metrics.percentage_below")
def percentage_below(values, threshold, weights=None, metrics_collections=None, updates_collections=None,
                     name=None) -> tuple:
    """The (weighted) fraction of `values` below `threshold`."""
    below = math_ops.cast(math_ops.less(values, threshold), _dt.float32)
    return mean(below, weights, metrics_collections, updates_collections, name or "percentage_below_threshold")


# ----------------------------------------------------------------------------------------------------------
# Per-class metrics: mean_per_class_accuracy, mean_iou
# ----------------------------------------------------------------------------------------------------------
def _flat(x: _ops.Tensor) -> _ops.Tensor:
    return array_ops.reshape(x, [-1]) if x.shape.ndims is None or x.shape.ndims > 1 else x


@tf_export("metrics.mean_per_class_accuracy")
def mean_per_class_accuracy(labels, predictions, num_classes, weights=None, metrics_collections=None,
                            updates_collections=None, name=None) -> tuple:
    """The mean over the `num_classes` classes of each class's accuracy; the update op returns the per-class
    accuracies. Labels outside [0, num_classes) fail with InvalidArgumentError."""
    with variable_scope(name, "mean_accuracy", (predictions, labels, weights)):
        labels = _flat(math_ops.cast(labels, _dt.int64))
        predictions = _flat(_ops.convert_to_tensor(predictions))
        predictions.shape.assert_is_compatible_with(labels.shape)
        total = metric_variable([num_classes], _dt.float32, name="total")
        count = metric_variable([num_classes], _dt.float32, name="count")
        ones = array_ops.ones([array_ops.size(labels)], _dt.float32)
        if labels.dtype != predictions.dtype:
            predictions = math_ops.cast(predictions, labels.dtype)
        is_correct = math_ops.cast(math_ops.equal(predictions, labels), _dt.float32)
        if weights is not None:
            weights = math_ops.cast(_flat(_ops.convert_to_tensor(weights)), _dt.float32)
            is_correct = is_correct * weights
            ones = ones * weights
        update_total = state_ops.scatter_add(total, labels, ones)
        update_count = state_ops.scatter_add(count, labels, is_correct)
        value = math_ops.reduce_mean(math_ops.div_no_nan(count, math_ops.maximum(total, 0)), name="mean_accuracy")
        update_op = _ratio(update_count, update_total, "update_op")
        return _collected(value, update_op, metrics_collections, updates_collections)


def _confusion_matrix(labels: _ops.Tensor, predictions: _ops.Tensor, num_classes, weights, dtype) -> _ops.Tensor:
    """[num_classes, num_classes] counts (weights) of each (label, prediction) pair, rows indexed by label."""
    with _ops.name_scope(None, "confusion_matrix", (predictions, labels, num_classes, weights)):
        labels, predictions = _match_label_rank(math_ops.cast(labels, _dt.int64),
                                                math_ops.cast(predictions, _dt.int64))
        n = math_ops.cast(num_classes, _dt.int64)
        checks = [
            check_ops.assert_non_negative(labels, message="`labels` contains negative values"),
            check_ops.assert_non_negative(predictions, message="`predictions` contains negative values"),
            check_ops.assert_less(labels, n, message="`labels` out of bound"),
            check_ops.assert_less(predictions, n, message="`predictions` out of bound"),
        ]
        if weights is None:
            counts = array_ops.ones_like(predictions, dtype)
        else:
            weights = _ops.convert_to_tensor(weights, name="weights")
            predictions.shape.assert_is_compatible_with(weights.shape)
            counts = math_ops.cast(weights, dtype)
        with _ops.control_dependencies(checks):
            pairs = array_ops.stack([labels, predictions], axis=1)
        return array_ops.scatter_nd(pairs, counts, array_ops.stack([n, n]))


@tf_export("metrics.mean_iou")
def mean_iou(labels, predictions, num_classes, weights=None, metrics_collections=None, updates_collections=None,
             name=None) -> tuple:
    """The mean intersection-over-union over the classes that occur, from a streaming confusion matrix
    (`total_confusion_matrix`, float64); the update op returns that matrix."""
    with variable_scope(name, "mean_iou", (predictions, labels, weights)):
        labels = _ops.convert_to_tensor(labels)
        predictions = _ops.convert_to_tensor(predictions)
        predictions.shape.assert_is_compatible_with(labels.shape)
        total_cm = metric_variable([num_classes, num_classes], _dt.float64, name="total_confusion_matrix")
        labels = _flat(math_ops.cast(labels, _dt.int64))
        predictions = _flat(math_ops.cast(predictions, _dt.int64))
        if weights is not None:
            weights = _flat(_ops.convert_to_tensor(weights))
        update_op = state_ops.assign_add(
            total_cm, _confusion_matrix(labels, predictions, num_classes, weights, _dt.float64))

        in_predictions = math_ops.cast(math_ops.reduce_sum(total_cm, 0), _dt.float32)
        in_labels = math_ops.cast(math_ops.reduce_sum(total_cm, 1), _dt.float32)
        intersection = math_ops.cast(array_ops.diag_part(total_cm), _dt.float32)
        union = in_predictions + in_labels - intersection
        # Classes absent from both labels and predictions (an empty union) do not count towards the mean.
        present = math_ops.reduce_sum(math_ops.cast(math_ops.not_equal(union, 0), _dt.float32))
        union = array_ops.where(math_ops.greater(union, 0), union, array_ops.ones_like(union))
        iou = math_ops.divide(intersection, union)
        value = array_ops.where(math_ops.greater(present, 0), math_ops.reduce_sum(iou, name="mean_iou") / present, 0)
        return _collected(value, update_op, metrics_collections, updates_collections)


# ----------------------------------------------------------------------------------------------------------
# Binary counts: true/false positives/negatives, precision, recall
# ----------------------------------------------------------------------------------------------------------
def _count_condition(condition: _ops.Tensor, weights, metrics_collections, updates_collections) -> tuple:
    """A `count` variable summing the (weighted) true entries of the bool tensor `condition`."""
    check_ops.assert_type(condition, _dt.bool_)
    count = metric_variable([], _dt.float32, name="count")
    values = math_ops.cast(condition, _dt.float32)
    if weights is not None:
        with _ops.control_dependencies((check_ops.assert_rank_in(weights, (0, array_ops.rank(values))),)):
            values = math_ops.multiply(values, math_ops.cast(weights, _dt.float32))
    value = _read(count, metrics_collections)
    update_op = state_ops.assign_add(count, math_ops.reduce_sum(values))
    _collect(updates_collections, update_op)
    return value, update_op


def _binary_count(default_name: str, label_is: bool, prediction_is: bool, labels, predictions, weights,
                  metrics_collections, updates_collections, name) -> tuple:
    with variable_scope(name, default_name, (predictions, labels, weights)):
        predictions, labels, weights = _remove_squeezable_dimensions(
            math_ops.cast(predictions, _dt.bool_), math_ops.cast(labels, _dt.bool_), weights)
        condition = math_ops.logical_and(math_ops.equal(labels, label_is), math_ops.equal(predictions, prediction_is))
        return _count_condition(condition, weights, metrics_collections, updates_collections)


@tf_export("metrics.true_positives")
def true_positives(labels, predictions, weights=None, metrics_collections=None, updates_collections=None,
                   name=None) -> tuple:
    """The (weighted) count of entries where `labels` and `predictions` (cast to bool) are both true."""
    return _binary_count("true_positives", True, True, labels, predictions, weights, metrics_collections,
                         updates_collections, name)


@tf_export("metrics.true_negatives")
def true_negatives(labels, predictions, weights=None, metrics_collections=None, updates_collections=None,
                   name=None) -> tuple:
    """The (weighted) count of entries where `labels` and `predictions` (cast to bool) are both false."""
    return _binary_count("true_negatives", False, False, labels, predictions, weights, metrics_collections,
                         updates_collections, name)


@tf_export("metrics.false_positives")
def false_positives(labels, predictions, weights=None, metrics_collections=None, updates_collections=None,
                    name=None) -> tuple:
    """The (weighted) count of entries predicted true whose label is false."""
    return _binary_count("false_positives", False, True, labels, predictions, weights, metrics_collections,
                         updates_collections, name)


@tf_export("metrics.false_negatives")
def false_negatives(labels, predictions, weights=None, metrics_collections=None, updates_collections=None,
                    name=None) -> tuple:
    """The (weighted) count of entries predicted false whose label is true."""
    return _binary_count("false_negatives", True, False, labels, predictions, weights, metrics_collections,
                         updates_collections, name)


def _fraction_of_counts(default_name: str, other_count, labels, predictions, weights, metrics_collections,
                        updates_collections, name) -> tuple:
    """tp / (tp + other), 0 while the denominator is 0: precision (other = fp) and recall (other = fn)."""
    with variable_scope(name, default_name, (predictions, labels, weights)):
        predictions, labels, weights = _remove_squeezable_dimensions(
            math_ops.cast(predictions, _dt.bool_), math_ops.cast(labels, _dt.bool_), weights)
        tp, update_tp = true_positives(labels, predictions, weights)
        other, update_other = other_count(labels, predictions, weights)

        def fraction(t, o, op_name):
            return array_ops.where(math_ops.greater(t + o, 0), math_ops.divide(t, t + o), 0, op_name)

        value = fraction(tp, other, "value")
        update_op = fraction(update_tp, update_other, "update_op")
        return _collected(value, update_op, metrics_collections, updates_collections)


@tf_export("metrics.precision")
def precision(labels, predictions, weights=None, metrics_collections=None, updates_collections=None,
              name=None) -> tuple:
    """true_positives / (true_positives + false_positives), streaming (0 before any positive prediction)."""
    return _fraction_of_counts("precision", false_positives, labels, predictions, weights, metrics_collections,
                               updates_collections, name)


@tf_export("metrics.recall")
def recall(labels, predictions, weights=None, metrics_collections=None, updates_collections=None,
           name=None) -> tuple:
    """true_positives / (true_positives + false_negatives), streaming (0 before any positive label)."""
    return _fraction_of_counts("recall", false_negatives, labels, predictions, weights, metrics_collections,
                               updates_collections, name)


# ----------------------------------------------------------------------------------------------------------
# Counts at thresholds: *_at_thresholds, auc, sensitivity/specificity
# ----------------------------------------------------------------------------------------------------------
_COUNT_KEYS = ("tp", "fn", "tn", "fp")
_COUNT_VARIABLES = {"tp": "true_positives", "fn": "false_negatives", "tn": "true_negatives",
                    "fp": "false_positives"}


def _counts_at_thresholds(labels, predictions, thresholds: Sequence[float], weights=None,
                          includes: Sequence[str] = _COUNT_KEYS) -> tuple[dict, dict]:
    """Variables [len(thresholds)] counting, per threshold, the (weighted) predictions above it (positive) or
    not (negative) against the bool labels; returns ({key: variable}, {key: update}) for the `includes` keys.

    Predictions outside [0, 1] fail with InvalidArgumentError when an update runs.
    """
    for key in includes:
        if key not in _COUNT_KEYS:
            raise ValueError(f"Invalid key: {key}")
    predictions = _ops.convert_to_tensor(predictions)
    in_range = [
        check_ops.assert_greater_equal(predictions, math_ops.cast(0.0, predictions.dtype),
                                       message="predictions must be in [0, 1]"),
        check_ops.assert_less_equal(predictions, math_ops.cast(1.0, predictions.dtype),
                                    message="predictions must be in [0, 1]"),
    ]
    predictions, labels, weights = _remove_squeezable_dimensions(
        math_ops.cast(predictions, _dt.float32), math_ops.cast(labels, _dt.bool_), weights)
    with _ops.control_dependencies(in_range):
        flat_predictions = array_ops.reshape(predictions, [-1])
    # Each prediction falls into one of len(thresholds) + 1 buckets: how many (sorted) thresholds lie below it.
    # A count at threshold i is then a sum over buckets above i (positives) or up to i (negatives), in float64.
    n = len(thresholds)
    order = sorted(range(n), key=lambda i: thresholds[i])
    sorted_thresholds = constant([float(thresholds[i]) for i in order], dtype=_dt.float32)
    buckets = sort_ops.searchsorted(sorted_thresholds, flat_predictions, side="left")
    is_label = math_ops.cast(array_ops.reshape(labels, [-1]), _dt.float64)
    if weights is None:
        weights = array_ops.ones_like(is_label)
    else:
        weights = math_ops.cast(array_ops.reshape(
            _broadcast_weights(math_ops.cast(weights, _dt.float32), predictions), [-1]), _dt.float64)
    per_bucket = {}
    if "tp" in includes or "fn" in includes:
        per_bucket[True] = math_ops.unsorted_segment_sum(is_label * weights, buckets, n + 1)
    if "tn" in includes or "fp" in includes:
        per_bucket[False] = math_ops.unsorted_segment_sum((1.0 - is_label) * weights, buckets, n + 1)
    above = {"tp": True, "fp": False}
    values, updates = {}, {}
    for key in _COUNT_KEYS:
        if key not in includes:
            continue
        variable = metric_variable([n], _dt.float32, name=_COUNT_VARIABLES[key])
        hist = per_bucket[key in ("tp", "fn")]
        if key in above:
            counts = math_ops.cumsum(hist, reverse=True)[1:]
        else:
            counts = math_ops.cumsum(hist)[:n]
        if order != sorted(order):
            counts = array_ops.gather(counts, sorted(range(n), key=order.__getitem__))  # back to the caller's order
        updates[key] = state_ops.assign_add(variable, math_ops.cast(counts, _dt.float32))
        values[key] = variable
    return values, updates


def _count_at_thresholds(key: str, labels, predictions, thresholds, weights, metrics_collections,
                         updates_collections, name) -> tuple:
    with variable_scope(name, _COUNT_VARIABLES[key], (predictions, labels, weights)):
        values, updates = _counts_at_thresholds(labels, predictions, thresholds, weights, includes=(key,))
        value = _read(values[key], metrics_collections)
        _collect(updates_collections, updates[key])
        return value, updates[key]


@tf_export("metrics.true_positives_at_thresholds")
def true_positives_at_thresholds(labels, predictions, thresholds, weights=None, metrics_collections=None,
                                 updates_collections=None, name=None) -> tuple:
    """Per threshold, the (weighted) count of true labels whose prediction is above it."""
    return _count_at_thresholds("tp", labels, predictions, thresholds, weights, metrics_collections,
                                updates_collections, name)


@tf_export("metrics.true_negatives_at_thresholds")
def true_negatives_at_thresholds(labels, predictions, thresholds, weights=None, metrics_collections=None,
                                 updates_collections=None, name=None) -> tuple:
    """Per threshold, the (weighted) count of false labels whose prediction is not above it."""
    return _count_at_thresholds("tn", labels, predictions, thresholds, weights, metrics_collections,
                                updates_collections, name)


@tf_export("metrics.false_positives_at_thresholds")
def false_positives_at_thresholds(labels, predictions, thresholds, weights=None, metrics_collections=None,
                                  updates_collections=None, name=None) -> tuple:
    """Per threshold, the (weighted) count of false labels whose prediction is above it."""
    return _count_at_thresholds("fp", labels, predictions, thresholds, weights, metrics_collections,
                                updates_collections, name)


@tf_export("metrics.false_negatives_at_thresholds")
def false_negatives_at_thresholds(labels, predictions, thresholds, weights=None, metrics_collections=None,
                                  updates_collections=None, name=None) -> tuple:
    """Per threshold, the (weighted) count of true labels whose prediction is not above it."""
    return _count_at_thresholds("fn", labels, predictions, thresholds, weights, metrics_collections,
                                updates_collections, name)


def _ratio_at_thresholds(default_name: str, other: str, labels, predictions, thresholds, weights,
                         metrics_collections, updates_collections, name) -> tuple:
    """tp / (tp + other + 1e-7) per threshold: precision (other = fp) and recall (other = fn)."""
    with variable_scope(name, default_name, (predictions, labels, weights)):
        values, updates = _counts_at_thresholds(labels, predictions, thresholds, weights, includes=("tp", other))
        prefix = default_name.split("_")[0]

        def ratio(tp, o, suffix):
            return math_ops.divide(tp, 1e-7 + tp + o, name=f"{prefix}_{suffix}")

        value = ratio(values["tp"], values[other], "value")
        update_op = ratio(updates["tp"], updates[other], "update_op")
        return _collected(value, update_op, metrics_collections, updates_collections)


@tf_export("metrics.precision_at_thresholds")
def precision_at_thresholds(labels, predictions, thresholds, weights=None, metrics_collections=None,
                            updates_collections=None, name=None) -> tuple:
    """Precision at each threshold: predictions above a threshold count as positive."""
    return _ratio_at_thresholds("precision_at_thresholds", "fp", labels, predictions, thresholds, weights,
                                metrics_collections, updates_collections, name)


@tf_export("metrics.recall_at_thresholds")
def recall_at_thresholds(labels, predictions, thresholds, weights=None, metrics_collections=None,
                         updates_collections=None, name=None) -> tuple:
    """Recall at each threshold: predictions above a threshold count as positive."""
    return _ratio_at_thresholds("recall_at_thresholds", "fn", labels, predictions, thresholds, weights,
                                metrics_collections, updates_collections, name)


def _even_thresholds(num_thresholds: int, top: float) -> list[float]:
    """num_thresholds thresholds: just below 0, the evenly spaced interior ones, then `top` (just past 1)."""
    interior = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    return [0.0 - _THRESHOLD_EPSILON] + interior + [top]


def _pr_auc_interpolated(tp, fp, fn, n: int) -> _ops.Tensor:
    """The area under the precision-recall curve, interpolating precision between thresholds as the
    ratio of linear functions of the positives it is (Davis & Goadrich) rather than linearly."""
    dtp = tp[:n - 1] - tp[1:]
    p = tp + fp
    slope = math_ops.div_no_nan(dtp, math_ops.maximum(p[:n - 1] - p[1:], 0), name="prec_slope")
    intercept = tp[1:] - math_ops.multiply(slope, p[1:])
    both_positive = math_ops.logical_and(p[:n - 1] > 0, p[1:] > 0)
    p_ratio = array_ops.where(
        both_positive, math_ops.div_no_nan(p[:n - 1], math_ops.maximum(p[1:], 0), name="recall_relative_ratio"),
        array_ops.ones_like(p[1:]))
    increments = math_ops.div_no_nan(slope * (dtp + intercept * math_ops.log(p_ratio)),
                                     math_ops.maximum(tp[1:] + fn[1:], 0), name="pr_auc_increment")
    return math_ops.reduce_sum(increments, name="interpolate_pr_auc")


_SUMMATIONS = ("trapezoidal", "careful_interpolation", "minoring", "majoring")


def _auc_from_counts(counts: dict, n: int, curve: str, summation_method: str, name: str) -> _ops.Tensor:
    tp, fn, tn, fp = (counts[k] for k in _COUNT_KEYS)
    if curve == "PR" and summation_method == "careful_interpolation":
        return _pr_auc_interpolated(tp, fp, fn, n)
    epsilon = 1e-6
    rec = math_ops.divide(tp + epsilon, tp + fn + epsilon)
    if curve == "ROC":
        x, y = math_ops.divide(fp, fp + tn + epsilon), rec
    else:
        x, y = rec, math_ops.divide(tp + epsilon, tp + fp + epsilon)
    widths = x[:n - 1] - x[1:]
    if summation_method == "minoring":
        heights = math_ops.minimum(y[:n - 1], y[1:])
    elif summation_method == "majoring":
        heights = math_ops.maximum(y[:n - 1], y[1:])
    else:  # trapezoidal; careful_interpolation of a ROC curve is trapezoidal too
        heights = (y[:n - 1] + y[1:]) / 2.0
    return math_ops.reduce_sum(math_ops.multiply(widths, heights), name=name)


@tf_export("metrics.auc")
def auc(labels, predictions, weights=None, num_thresholds=200, metrics_collections=None, updates_collections=None,
        curve="ROC", name=None, summation_method="trapezoidal", thresholds=None) -> tuple:
    """The area under the ROC or PR curve, approximated over `num_thresholds` thresholds (or `thresholds`)
    from streaming true/false positive/negative counts. Predictions must lie in [0, 1]."""
    with variable_scope(name, "auc", (labels, predictions, weights)):
        if curve not in ("ROC", "PR"):
            raise ValueError(f"curve must be either ROC or PR, {curve} unknown")
        if summation_method not in _SUMMATIONS:
            raise ValueError(f"Invalid summation_method: {summation_method}")
        if curve == "PR" and summation_method == "trapezoidal":
            tf_logging.warning("auc: the trapezoidal rule misestimates the area under a PR curve; "
                               "summation_method='careful_interpolation' interpolates precision correctly.")
        if thresholds is not None:
            thresholds = sorted(thresholds)
            num_thresholds = len(thresholds) + 2
            thresholds = [0.0 - _THRESHOLD_EPSILON] + thresholds + [1.0 + _THRESHOLD_EPSILON]
        else:
            thresholds = _even_thresholds(num_thresholds, 1.0 + _THRESHOLD_EPSILON)
        values, updates = _counts_at_thresholds(labels, predictions, thresholds, weights)
        value = _auc_from_counts(values, num_thresholds, curve, summation_method, "value")
        update_op = _auc_from_counts(updates, num_thresholds, curve, summation_method, "update_op")
        return _collected(value, update_op, metrics_collections, updates_collections)


def _check_unit(what: str, x) -> None:
    if x < 0 or x > 1:
        raise ValueError(f"`{what}` must be in the range [0, 1]. Currently, `{what}` is {x}.")


@tf_export("metrics.sensitivity_at_specificity")
def sensitivity_at_specificity(labels, predictions, specificity, weights=None, num_thresholds=200,
                               metrics_collections=None, updates_collections=None, name=None) -> tuple:
    """The sensitivity (recall) at the threshold whose specificity is closest to `specificity` (the first
    such threshold)."""
    _check_unit("specificity", specificity)
    with variable_scope(name, "sensitivity_at_specificity", (predictions, labels, weights)):
        thresholds = _even_thresholds(num_thresholds, 1.0 + _THRESHOLD_EPSILON)
        values, updates = _counts_at_thresholds(labels, predictions, thresholds, weights)

        def compute(c, op_name):
            specificities = math_ops.divide(c["tn"], c["tn"] + c["fp"] + _THRESHOLD_EPSILON)
            index = math_ops.cast(math_ops.argmin(math_ops.abs(specificities - specificity), 0), _dt.int32)
            return math_ops.divide(c["tp"][index], c["tp"][index] + c["fn"][index] + _THRESHOLD_EPSILON, op_name)

        value = compute(values, "value")
        update_op = compute(updates, "update_op")
        return _collected(value, update_op, metrics_collections, updates_collections)


@tf_export("metrics.specificity_at_sensitivity")
def specificity_at_sensitivity(labels, predictions, sensitivity, weights=None, num_thresholds=200,
                               metrics_collections=None, updates_collections=None, name=None) -> tuple:
    """The specificity at the threshold whose sensitivity is closest to `sensitivity` (the last such
    threshold). As in TF, the top threshold here is just below 1, not above it."""
    _check_unit("sensitivity", sensitivity)
    with variable_scope(name, "specificity_at_sensitivity", (predictions, labels, weights)):
        thresholds = _even_thresholds(num_thresholds, 1.0 - _THRESHOLD_EPSILON)
        values, updates = _counts_at_thresholds(labels, predictions, thresholds, weights)

        def compute(c, op_name):
            distance = math_ops.abs(math_ops.divide(c["tp"], c["tp"] + c["fn"] + _THRESHOLD_EPSILON) - sensitivity)
            closest = math_ops.cast(math_ops.equal(distance, math_ops.reduce_min(distance)), _dt.int64)
            # argmax of the running count of closest thresholds is the last of them.
            index = math_ops.cast(math_ops.argmax(math_ops.cumsum(closest), 0), _dt.int32)
            return math_ops.divide(c["tn"][index], c["tn"][index] + c["fp"][index] + _THRESHOLD_EPSILON, op_name)

        value = compute(values, "value")
        update_op = compute(updates, "update_op")
        return _collected(value, update_op, metrics_collections, updates_collections)


# ----------------------------------------------------------------------------------------------------------
# Top-k metrics over label sets: precision/recall at k, average precision at k
# ----------------------------------------------------------------------------------------------------------
def _at_k_name(name: str, k=None, class_id=None) -> str:
    name = f"{name}_at_{k}" if k is not None else f"{name}_at_k"
    return f"{name}_class{class_id}" if class_id is not None else name


class _LabelSets:
    """The label set of every row [D1, ... DN] as a dense int64 tensor [D1, ... DN, L] and, for sparse labels,
    which of its entries are labels (`valid`; None when all are)."""

    def __init__(self, values: _ops.Tensor, valid: _ops.Tensor | None) -> None:
        self.values = values
        self.valid = valid

    def contains(self, ids: _ops.Tensor) -> _ops.Tensor:
        """[D..., m] bool: whether each of `ids` [D..., m] is in its row's label set."""
        equal = math_ops.equal(array_ops.expand_dims(ids, -1), array_ops.expand_dims(self.values, -2))
        if self.valid is not None:
            equal = math_ops.logical_and(equal, array_ops.expand_dims(self.valid, -2))
        return math_ops.reduce_any(equal, -1)

    def distinct(self) -> _ops.Tensor:
        """[D..., L] bool: the first occurrence of each label of a row (a set counts a repeated label once)."""
        return _first_occurrences(self.values, self.valid)

    def has(self, class_id) -> _ops.Tensor:
        """[D...] bool: whether `class_id` is in each row's label set."""
        equal = math_ops.equal(self.values, math_ops.cast(class_id, _dt.int64))
        if self.valid is not None:
            equal = math_ops.logical_and(equal, self.valid)
        return math_ops.reduce_any(equal, -1)


def _first_occurrences(ids: _ops.Tensor, valid: _ops.Tensor | None) -> _ops.Tensor:
    """[D..., m] bool: entry j is valid and no earlier valid entry of its row has the same id."""
    m = array_ops.shape(ids)[-1]
    positions = array_ops.range(m)
    earlier = math_ops.less(array_ops.expand_dims(positions, 0), array_ops.expand_dims(positions, 1))  # [j, i]: i < j
    repeats = math_ops.logical_and(
        math_ops.equal(array_ops.expand_dims(ids, -1), array_ops.expand_dims(ids, -2)), earlier)
    if valid is None:
        return math_ops.logical_not(math_ops.reduce_any(repeats, -1))
    repeats = math_ops.logical_and(repeats, array_ops.expand_dims(valid, -2))
    return math_ops.logical_and(valid, math_ops.logical_not(math_ops.reduce_any(repeats, -1)))


def _check_int64(labels) -> None:
    if labels.dtype.base_dtype != _dt.int64:
        raise TypeError(f"Types don't match, {_dt.int64!r} vs {labels.dtype.base_dtype!r}.")


def _label_sets(labels, predictions: _ops.Tensor) -> _LabelSets:
    """`labels` ([D..., L] or [D...], dense or sparse, int64) as the label sets of the rows of `predictions`
    ([D..., k] or [D..., num_classes]); a missing last dimension means one label per row."""
    p_rank = predictions.shape.ndims
    with _ops.name_scope(None, "expand_labels", (labels, predictions)) as scope:
        if isinstance(labels, (SparseTensor, SparseTensorValue)):
            labels = SparseTensor.from_value(labels)
            _check_int64(labels)
            rank = labels.dense_shape.shape[0].value
            if rank is None or p_rank is None:
                raise ValueError("Sparse labels need a known rank, and predictions a known rank.")
            values = sparse_ops.sparse_tensor_to_dense(labels, default_value=0)
            valid = sparse_ops.sparse_tensor_to_dense(
                SparseTensor(labels.indices, array_ops.ones_like(labels.values, dtype=_dt.bool_), labels.dense_shape),
                default_value=False)
            if p_rank == rank + 1:
                values, valid = array_ops.expand_dims(values, -1), array_ops.expand_dims(valid, -1)
            return _LabelSets(values, valid)
        labels = _ops.convert_to_tensor(labels)
        _check_int64(labels)
        l_rank = labels.shape.ndims
        if l_rank is None or p_rank is None:
            raise ValueError(f"Labels of shape {labels.shape} and predictions of shape {predictions.shape} need "
                             "known ranks.")
        if p_rank == l_rank + 1:
            labels = array_ops.expand_dims(labels, -1, name=scope)
        elif p_rank != l_rank:
            raise ValueError(f"Unexpected labels shape {labels.shape} for predictions shape {predictions.shape}.")
        return _LabelSets(labels, None)


def _set_counts(labels: _LabelSets, predictions_idx: _ops.Tensor, class_id, other: str) -> dict:
    """Per row (float64 [D...]): |P & L| ('tp') and `other`, |P - L| ('fp') or |L - P| ('fn'), for the
    predicted set P and the label set L; with `class_id`, both sets are first reduced to that class."""
    if class_id is not None:
        predicted = math_ops.reduce_any(math_ops.equal(predictions_idx, math_ops.cast(class_id, _dt.int64)), -1)
        labeled = labels.has(class_id)
        counts = {"tp": math_ops.logical_and(predicted, labeled),
                  "fp": math_ops.logical_and(predicted, math_ops.logical_not(labeled)),
                  "fn": math_ops.logical_and(labeled, math_ops.logical_not(predicted))}
        return {key: math_ops.cast(counts[key], _dt.float64) for key in ("tp", other)}
    distinct_predictions = _first_occurrences(predictions_idx, None)
    predicted_labeled = labels.contains(predictions_idx)
    if other == "fp":
        missed = math_ops.logical_and(distinct_predictions, math_ops.logical_not(predicted_labeled))
    else:
        labeled_predicted = _LabelSets(predictions_idx, None).contains(labels.values)
        missed = math_ops.logical_and(labels.distinct(), math_ops.logical_not(labeled_predicted))
    rows = {"tp": math_ops.logical_and(distinct_predictions, predicted_labeled), other: missed}
    return {key: math_ops.reduce_sum(math_ops.cast(c, _dt.float64), -1) for key, c in rows.items()}


def _set_ratio(default_name: str, other: str, labels, predictions_idx, k, class_id, weights, metrics_collections,
               updates_collections, name) -> tuple:
    """tp / (tp + other) over streaming float64 counts `{kind}_at_{k}`: precision (fp) and recall (fn)."""
    with _ops.name_scope(name, _at_k_name(default_name, k, class_id), (predictions_idx, labels, weights)) as scope:
        predictions_idx = _ops.convert_to_tensor(predictions_idx)
        sets = _label_sets(labels, predictions_idx)
        predictions_idx = math_ops.cast(predictions_idx, _dt.int64)
        kinds = {"tp": "true_positive", "fp": "false_positive", "fn": "false_negative"}
        counts = _set_counts(sets, predictions_idx, class_id, other)
        variables, updates = {}, {}
        for key in ("tp", other):
            with _ops.name_scope(None, _at_k_name(kinds[key], k, class_id), (predictions_idx, weights)) as count_scope:
                batch = math_ops.reduce_sum(_weighted(counts[key], weights))
                variables[key] = metric_variable([], _dt.float64, name=count_scope)
                updates[key] = state_ops.assign_add(variables[key], batch, name="update")
        value = math_ops.divide(variables["tp"], math_ops.add(variables["tp"], variables[other]), name=scope)
        update_op = math_ops.divide(updates["tp"], math_ops.add(updates["tp"], updates[other]), name="update")
        return _collected(value, update_op, metrics_collections, updates_collections)


@tf_export("metrics.precision_at_top_k")
def precision_at_top_k(labels, predictions_idx, k=None, class_id=None, weights=None, metrics_collections=None,
                       updates_collections=None, name=None) -> tuple:
    """Streaming precision of the predicted class sets `predictions_idx` [D..., k] against the label sets
    (float64; NaN while nothing was predicted)."""
    return _set_ratio("precision", "fp", labels, predictions_idx, k, class_id, weights, metrics_collections,
                      updates_collections, name)


@tf_export("metrics.recall_at_top_k")
def recall_at_top_k(labels, predictions_idx, k=None, class_id=None, weights=None, metrics_collections=None,
                    updates_collections=None, name=None) -> tuple:
    """Streaming recall of the label sets by the predicted class sets `predictions_idx` [D..., k] (float64;
    NaN while there were no labels)."""
    return _set_ratio("recall", "fn", labels, predictions_idx, k, class_id, weights, metrics_collections,
                      updates_collections, name)


@tf_export("metrics.precision_at_k")
def precision_at_k(labels, predictions, k, class_id=None, weights=None, metrics_collections=None,
                   updates_collections=None, name=None) -> tuple:
    """precision_at_top_k of the `k` classes with the largest `predictions` (logits [D..., num_classes])."""
    with _ops.name_scope(name, _at_k_name("precision", k, class_id), (predictions, labels, weights)) as scope:
        _, top_k_idx = nn_ops.top_k(predictions, k)
        return precision_at_top_k(labels, top_k_idx, k, class_id, weights, metrics_collections, updates_collections,
                                  scope)


@tf_export("metrics.sparse_precision_at_k")
def sparse_precision_at_k(labels, predictions, k, class_id=None, weights=None, metrics_collections=None,
                          updates_collections=None, name=None) -> tuple:
    """The former name of precision_at_k."""
    return precision_at_k(labels, predictions, k, class_id, weights, metrics_collections, updates_collections, name)


@tf_export("metrics.recall_at_k")
def recall_at_k(labels, predictions, k, class_id=None, weights=None, metrics_collections=None,
                updates_collections=None, name=None) -> tuple:
    """recall_at_top_k of the `k` classes with the largest `predictions` (logits [D..., num_classes])."""
    with _ops.name_scope(name, _at_k_name("recall", k, class_id), (predictions, labels, weights)) as scope:
        _, top_k_idx = nn_ops.top_k(predictions, k)
        return recall_at_top_k(labels, top_k_idx, k, class_id, weights, metrics_collections, updates_collections,
                               scope)


def _average_precisions(sets: _LabelSets, sparse: bool, predictions_idx: _ops.Tensor, k: int) -> _ops.Tensor:
    """[D...] float64: per row, the mean over the relevant labels of the precision at each rank where a label
    was retrieved, divided by min(number of labels, k)."""
    with _ops.name_scope(None, "average_precision", (predictions_idx, sets.values)) as scope:
        relevant = math_ops.cast(sets.contains(predictions_idx), _dt.float64)
        ranks = math_ops.cast(array_ops.range(1, k + 1), _dt.float64)
        precisions = math_ops.divide(math_ops.cumsum(relevant, axis=-1), ranks, name="precision_per_k")
        precision_sum = math_ops.reduce_sum(precisions * relevant, axis=(-1,), name="precision_sum")
        # As TF counts: a sparse row's distinct labels, a dense row's entries that are not negative.
        labeled = sets.distinct() if sparse else math_ops.greater_equal(sets.values, 0)
        num_labels = math_ops.reduce_sum(math_ops.cast(labeled, _dt.int64), -1)
        num_relevant = math_ops.cast(math_ops.minimum(num_labels, k), _dt.float64)
        return math_ops.divide(precision_sum, num_relevant, name=scope)


def _ignore_out_of_range(labels, num_classes: _ops.Tensor):
    """`labels` with values >= num_classes replaced by -1 (skipped when none is that large)."""
    sparse = isinstance(labels, (SparseTensor, SparseTensorValue))
    if sparse:
        labels = SparseTensor.from_value(labels)
    else:
        labels = _ops.convert_to_tensor(labels)
    _check_int64(labels)
    values = labels.values if sparse else labels
    largest = math_ops.reduce_max(values)

    def cleaned():
        return array_ops.where(math_ops.greater_equal(values, num_classes), -1 * array_ops.ones_like(values), values)

    values = control_flow_ops.cond(math_ops.greater_equal(largest, num_classes), cleaned, lambda: values)
    return SparseTensor(labels.indices, values, labels.dense_shape) if sparse else values


@tf_export("metrics.average_precision_at_k")
def average_precision_at_k(labels, predictions, k, weights=None, metrics_collections=None, updates_collections=None,
                           name=None) -> tuple:
    """The streaming mean average precision at `k` of the top-k classes of `predictions` (logits) against
    the label sets; labels outside [0, num_classes) are never retrieved. Variables `total` and `max`."""
    if k < 1:
        raise ValueError(f"Invalid k={k}.")
    with _ops.name_scope(name, _at_k_name("average_precision", k), (predictions, labels, weights)) as scope:
        predictions = _ops.convert_to_tensor(predictions)
        _, predictions_idx = nn_ops.top_k(predictions, k)
        sparse = isinstance(labels, (SparseTensor, SparseTensorValue))
        labels = _ignore_out_of_range(labels, math_ops.cast(array_ops.shape(predictions)[-1], _dt.int64))
        predictions_idx = math_ops.cast(predictions_idx, _dt.int64, name="predictions_idx")
        per_row = _average_precisions(_label_sets(labels, predictions_idx), sparse, predictions_idx, k)
        if weights is not None:
            weights = _broadcast_weights(math_ops.cast(weights, _dt.float64), per_row)
            per_row = math_ops.multiply(per_row, weights)
        with _ops.name_scope(None, "max", (per_row,)) as max_scope:
            # Each row's average precision is at most 1 (times its weight).
            max_var = metric_variable([], _dt.float64, name=max_scope)
            if weights is None:
                batch_max = math_ops.cast(array_ops.size(per_row, name="batch_max"), _dt.float64)
            else:
                batch_max = math_ops.reduce_sum(weights, name="batch_max")
            max_update = state_ops.assign_add(max_var, batch_max, name="update")
        with _ops.name_scope(None, "total", (per_row,)) as total_scope:
            total_var = metric_variable([], _dt.float64, name=total_scope)
            total_update = state_ops.assign_add(total_var, math_ops.reduce_sum(per_row, name="batch_total"),
                                                name="update")
        value = math_ops.div_no_nan(total_var, max_var, name="mean")
        update_op = math_ops.div_no_nan(total_update, max_update, name=scope)
        return _collected(value, update_op, metrics_collections, updates_collections)


@tf_export("metrics.sparse_average_precision_at_k")
def sparse_average_precision_at_k(labels, predictions, k, weights=None, metrics_collections=None,
                                  updates_collections=None, name=None) -> tuple:
    """The former name of average_precision_at_k."""
    return average_precision_at_k(labels, predictions, k, weights, metrics_collections, updates_collections, name)
