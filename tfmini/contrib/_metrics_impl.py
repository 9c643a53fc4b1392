"""`tf.contrib.metrics`: TF 1.15's streaming metrics with contrib's argument order (predictions before labels)
over `tf.metrics`, the non-streaming `accuracy`, and `aggregate_metrics` / `aggregate_metric_map`."""

from __future__ import annotations

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.ops import array_ops as _array_ops
from tfmini.ops import counting_ops as _counting_ops
from tfmini.ops import math_ops as _math_ops
from tfmini.ops import metrics_impl as _metrics
from tfmini.ops import nn_ops as _nn_ops
from tfmini.ops import state_ops as _state_ops
from tfmini.ops import variable_scope as _vs


# ----------------------------------------------------------------------------------------------------------
# Means
# ----------------------------------------------------------------------------------------------------------
@tf_export("contrib.metrics.streaming_mean")
def streaming_mean(values, weights=None, metrics_collections=None, updates_collections=None, name=None) -> tuple:
    """(mean, update_op): the weighted mean of every value seen (tf.metrics.mean)."""
    return _metrics.mean(values, weights=weights, metrics_collections=metrics_collections,
                         updates_collections=updates_collections, name=name)


@tf_export("contrib.metrics.streaming_mean_tensor")
def streaming_mean_tensor(values, weights=None, metrics_collections=None, updates_collections=None,
                          name=None) -> tuple:
    """(mean, update_op): the elementwise weighted mean of the tensors seen (tf.metrics.mean_tensor)."""
    return _metrics.mean_tensor(values, weights=weights, metrics_collections=metrics_collections,
                                updates_collections=updates_collections, name=name)


@tf_export("contrib.metrics.streaming_accuracy")
def streaming_accuracy(predictions, labels, weights=None, metrics_collections=None, updates_collections=None,
                       name=None) -> tuple:
    """(accuracy, update_op): how often predictions equal labels (tf.metrics.accuracy)."""
    return _metrics.accuracy(labels=labels, predictions=predictions, weights=weights,
                             metrics_collections=metrics_collections, updates_collections=updates_collections,
                             name=name)


@tf_export("contrib.metrics.streaming_mean_absolute_error")
def streaming_mean_absolute_error(predictions, labels, weights=None, metrics_collections=None,
                                  updates_collections=None, name=None) -> tuple:
    return _metrics.mean_absolute_error(labels=labels, predictions=predictions, weights=weights,
                                        metrics_collections=metrics_collections,
                                        updates_collections=updates_collections, name=name)


@tf_export("contrib.metrics.streaming_mean_squared_error")
def streaming_mean_squared_error(predictions, labels, weights=None, metrics_collections=None,
                                 updates_collections=None, name=None) -> tuple:
    return _metrics.mean_squared_error(labels=labels, predictions=predictions, weights=weights,
                                       metrics_collections=metrics_collections,
                                       updates_collections=updates_collections, name=name)


@tf_export("contrib.metrics.streaming_root_mean_squared_error")
def streaming_root_mean_squared_error(predictions, labels, weights=None, metrics_collections=None,
                                      updates_collections=None, name=None) -> tuple:
    return _metrics.root_mean_squared_error(labels=labels, predictions=predictions, weights=weights,
                                            metrics_collections=metrics_collections,
                                            updates_collections=updates_collections, name=name)


@tf_export("contrib.metrics.streaming_mean_relative_error")
def streaming_mean_relative_error(predictions, labels, normalizer, weights=None, metrics_collections=None,
                                  updates_collections=None, name=None) -> tuple:
    return _metrics.mean_relative_error(labels=labels, predictions=predictions, normalizer=normalizer,
                                        weights=weights, metrics_collections=metrics_collections,
                                        updates_collections=updates_collections, name=name)


@tf_export("contrib.metrics.streaming_mean_cosine_distance")
def streaming_mean_cosine_distance(predictions, labels, dim, weights=None, metrics_collections=None,
                                   updates_collections=None, name=None) -> tuple:
    return _metrics.mean_cosine_distance(labels=labels, predictions=predictions, dim=dim, weights=weights,
                                         metrics_collections=metrics_collections,
                                         updates_collections=updates_collections, name=name)


@tf_export("contrib.metrics.streaming_percentage_less")
def streaming_percentage_less(values, threshold, weights=None, metrics_collections=None, updates_collections=None,
                              name=None) -> tuple:
    """(percentage, update_op): the weighted fraction of values below `threshold` (tf.metrics.percentage_below)."""
    return _metrics.percentage_below(values, threshold, weights=weights, metrics_collections=metrics_collections,
                                     updates_collections=updates_collections, name=name)


@tf_export("contrib.metrics.streaming_mean_iou")
def streaming_mean_iou(predictions, labels, num_classes, weights=None, metrics_collections=None,
                       updates_collections=None, name=None) -> tuple:
    return _metrics.mean_iou(labels=labels, predictions=predictions, num_classes=num_classes, weights=weights,
                             metrics_collections=metrics_collections, updates_collections=updates_collections,
                             name=name)


# ----------------------------------------------------------------------------------------------------------
# Counts, precision, recall
# ----------------------------------------------------------------------------------------------------------
@tf_export("contrib.metrics.streaming_true_positives")
def streaming_true_positives(predictions, labels, weights=None, metrics_collections=None, updates_collections=None,
                             name=None) -> tuple:
    return _metrics.true_positives(labels=labels, predictions=predictions, weights=weights,
                                   metrics_collections=metrics_collections, updates_collections=updates_collections,
                                   name=name)


@tf_export("contrib.metrics.streaming_true_negatives")
def streaming_true_negatives(predictions, labels, weights=None, metrics_collections=None, updates_collections=None,
                             name=None) -> tuple:
    return _metrics.true_negatives(labels=labels, predictions=predictions, weights=weights,
                                   metrics_collections=metrics_collections, updates_collections=updates_collections,
                                   name=name)


@tf_export("contrib.metrics.streaming_false_positives")
def streaming_false_positives(predictions, labels, weights=None, metrics_collections=None,
                              updates_collections=None, name=None) -> tuple:
    return _metrics.false_positives(labels=labels, predictions=predictions, weights=weights,
                                    metrics_collections=metrics_collections,
                                    updates_collections=updates_collections, name=name)


@tf_export("contrib.metrics.streaming_false_negatives")
def streaming_false_negatives(predictions, labels, weights=None, metrics_collections=None,
                              updates_collections=None, name=None) -> tuple:
    return _metrics.false_negatives(labels=labels, predictions=predictions, weights=weights,
                                    metrics_collections=metrics_collections,
                                    updates_collections=updates_collections, name=name)


@tf_export("contrib.metrics.streaming_precision")
def streaming_precision(predictions, labels, weights=None, metrics_collections=None, updates_collections=None,
                        name=None) -> tuple:
    return _metrics.precision(labels=labels, predictions=predictions, weights=weights,
                              metrics_collections=metrics_collections, updates_collections=updates_collections,
                              name=name)


@tf_export("contrib.metrics.streaming_recall")
def streaming_recall(predictions, labels, weights=None, metrics_collections=None, updates_collections=None,
                     name=None) -> tuple:
    return _metrics.recall(labels=labels, predictions=predictions, weights=weights,
                           metrics_collections=metrics_collections, updates_collections=updates_collections,
                           name=name)


@tf_export("contrib.metrics.streaming_precision_at_thresholds")
def streaming_precision_at_thresholds(predictions, labels, thresholds, weights=None, metrics_collections=None,
                                      updates_collections=None, name=None) -> tuple:
    return _metrics.precision_at_thresholds(labels=labels, predictions=predictions, thresholds=thresholds,
                                            weights=weights, metrics_collections=metrics_collections,
                                            updates_collections=updates_collections, name=name)


@tf_export("contrib.metrics.streaming_recall_at_thresholds")
def streaming_recall_at_thresholds(predictions, labels, thresholds, weights=None, metrics_collections=None,
                                   updates_collections=None, name=None) -> tuple:
    return _metrics.recall_at_thresholds(labels=labels, predictions=predictions, thresholds=thresholds,
                                         weights=weights, metrics_collections=metrics_collections,
                                         updates_collections=updates_collections, name=name)


@tf_export("contrib.metrics.streaming_auc")
def streaming_auc(predictions, labels, weights=None, num_thresholds=200, metrics_collections=None,
                  updates_collections=None, curve="ROC", name=None) -> tuple:
    """(auc, update_op): the area under the ROC (or PR, `curve`) curve over `num_thresholds` thresholds."""
    return _metrics.auc(labels=labels, predictions=predictions, weights=weights, num_thresholds=num_thresholds,
                        metrics_collections=metrics_collections, updates_collections=updates_collections,
                        curve=curve, name=name)


@tf_export("contrib.metrics.streaming_sensitivity_at_specificity")
def streaming_sensitivity_at_specificity(predictions, labels, specificity, weights=None, num_thresholds=200,
                                         metrics_collections=None, updates_collections=None, name=None) -> tuple:
    return _metrics.sensitivity_at_specificity(labels=labels, predictions=predictions, specificity=specificity,
                                               weights=weights, num_thresholds=num_thresholds,
                                               metrics_collections=metrics_collections,
                                               updates_collections=updates_collections, name=name)


@tf_export("contrib.metrics.streaming_specificity_at_sensitivity")
def streaming_specificity_at_sensitivity(predictions, labels, sensitivity, weights=None, num_thresholds=200,
                                         metrics_collections=None, updates_collections=None, name=None) -> tuple:
    return _metrics.specificity_at_sensitivity(labels=labels, predictions=predictions, sensitivity=sensitivity,
                                               weights=weights, num_thresholds=num_thresholds,
                                               metrics_collections=metrics_collections,
                                               updates_collections=updates_collections, name=name)


@tf_export("contrib.metrics.streaming_true_positives_at_thresholds")
def streaming_true_positives_at_thresholds(predictions, labels, thresholds, weights=None) -> tuple:
    return _metrics.true_positives_at_thresholds(labels=labels, predictions=predictions, thresholds=thresholds,
                                                 weights=weights)


@tf_export("contrib.metrics.streaming_true_negatives_at_thresholds")
def streaming_true_negatives_at_thresholds(predictions, labels, thresholds, weights=None) -> tuple:
    return _metrics.true_negatives_at_thresholds(labels=labels, predictions=predictions, thresholds=thresholds,
                                                 weights=weights)


@tf_export("contrib.metrics.streaming_false_positives_at_thresholds")
def streaming_false_positives_at_thresholds(predictions, labels, thresholds, weights=None) -> tuple:
    return _metrics.false_positives_at_thresholds(labels=labels, predictions=predictions, thresholds=thresholds,
                                                  weights=weights)


@tf_export("contrib.metrics.streaming_false_negatives_at_thresholds")
def streaming_false_negatives_at_thresholds(predictions, labels, thresholds, weights=None) -> tuple:
    return _metrics.false_negatives_at_thresholds(labels=labels, predictions=predictions, thresholds=thresholds,
                                                  weights=weights)


# ----------------------------------------------------------------------------------------------------------
# Covariance, Pearson correlation, concatenation
# ----------------------------------------------------------------------------------------------------------
def _where_more_than_one(count, value, name: str) -> _ops.Tensor:
    nan = _array_ops.fill(_array_ops.shape(value), float("nan"))
    return _array_ops.where(_math_ops.less_equal(count, 1.0), nan, value, name=name)


@tf_export("contrib.metrics.streaming_covariance")
def streaming_covariance(predictions, labels, weights=None, metrics_collections=None, updates_collections=None,
                         name=None) -> tuple:
    """(covariance, update_op): the (weighted) sample covariance of predictions and labels over every batch
    seen, merged batch by batch (count, means and co-moment in local variables); NaN until two values."""
    with _vs.variable_scope(name, "covariance", (predictions, labels, weights)):
        predictions, labels, weights = _metrics._remove_squeezable_dimensions(predictions, labels, weights)
        predictions.shape.assert_is_compatible_with(labels.shape)
        count = _metrics.metric_variable([], _dt.float32, name="count")
        mean_prediction = _metrics.metric_variable([], _dt.float32, name="mean_prediction")
        mean_label = _metrics.metric_variable([], _dt.float32, name="mean_label")
        comoment = _metrics.metric_variable([], _dt.float32, name="comoment")
        predictions = _math_ops.cast(predictions, _dt.float32)
        labels = _math_ops.cast(labels, _dt.float32)
        if weights is None:
            batch_count = _math_ops.cast(_array_ops.size(labels), _dt.float32)
            weighted_predictions, weighted_labels = predictions, labels
        else:
            weights = _math_ops.cast(weights, _dt.float32) * _array_ops.ones_like(labels)
            batch_count = _math_ops.reduce_sum(weights)
            weighted_predictions = predictions * weights
            weighted_labels = labels * weights
        update_count = _state_ops.assign_add(count, batch_count)
        prev_count = update_count - batch_count
        batch_mean_prediction = _math_ops.div_no_nan(_math_ops.reduce_sum(weighted_predictions), batch_count)
        delta_mean_prediction = _math_ops.div_no_nan((batch_mean_prediction - mean_prediction) * batch_count,
                                                     update_count)
        update_mean_prediction = _state_ops.assign_add(mean_prediction, delta_mean_prediction)
        prev_mean_prediction = update_mean_prediction - delta_mean_prediction
        batch_mean_label = _math_ops.div_no_nan(_math_ops.reduce_sum(weighted_labels), batch_count)
        delta_mean_label = _math_ops.div_no_nan((batch_mean_label - mean_label) * batch_count, update_count)
        update_mean_label = _state_ops.assign_add(mean_label, delta_mean_label)
        prev_mean_label = update_mean_label - delta_mean_label
        coresiduals = (predictions - batch_mean_prediction) * (labels - batch_mean_label)
        if weights is not None:
            coresiduals = coresiduals * weights
        batch_comoment = _math_ops.reduce_sum(coresiduals)
        # the co-moment of the union: both parts' co-moments plus the term from their means' difference
        delta_comoment = batch_comoment + (prev_mean_prediction - batch_mean_prediction) * (
            prev_mean_label - batch_mean_label) * (prev_count * batch_count / update_count)
        update_comoment = _state_ops.assign_add(comoment, delta_comoment)
        covariance = _where_more_than_one(count, _math_ops.truediv(comoment, count - 1), "covariance")
        with _ops.control_dependencies([update_comoment]):
            update_op = _where_more_than_one(count, _math_ops.truediv(comoment, count - 1), "update_op")
    if metrics_collections:
        _ops.add_to_collections(metrics_collections, covariance)
    if updates_collections:
        _ops.add_to_collections(updates_collections, update_op)
    return covariance, update_op


@tf_export("contrib.metrics.streaming_pearson_correlation")
def streaming_pearson_correlation(predictions, labels, weights=None, metrics_collections=None,
                                  updates_collections=None, name=None) -> tuple:
    """(pearson_r, update_op): covariance / (stddev of predictions * stddev of labels), all streamed."""
    with _vs.variable_scope(name, "pearson_r", (predictions, labels, weights)):
        predictions, labels, weights = _metrics._remove_squeezable_dimensions(predictions, labels, weights)
        predictions.shape.assert_is_compatible_with(labels.shape)
        if weights is not None:
            weights = _math_ops.cast(weights, _dt.float32) * _array_ops.ones_like(labels, dtype=_dt.float32)
        cov, update_cov = streaming_covariance(predictions, labels, weights=weights, name="covariance")
        var_predictions, update_var_predictions = streaming_covariance(predictions, predictions, weights=weights,
                                                                       name="variance_predictions")
        var_labels, update_var_labels = streaming_covariance(labels, labels, weights=weights,
                                                             name="variance_labels")
        pearson_r = _math_ops.truediv(cov, _math_ops.sqrt(var_predictions) * _math_ops.sqrt(var_labels),
                                      name="pearson_r")
        update_op = _math_ops.truediv(update_cov, _math_ops.sqrt(update_var_predictions) * _math_ops.sqrt(
            update_var_labels), name="update_op")
    if metrics_collections:
        _ops.add_to_collections(metrics_collections, pearson_r)
    if updates_collections:
        _ops.add_to_collections(updates_collections, update_op)
    return pearson_r, update_op


@tf_export("contrib.metrics.streaming_concat")
def streaming_concat(values, axis=0, max_size=None, metrics_collections=None, updates_collections=None,
                     name=None) -> tuple:
    """(concatenation, update_op): every batch of `values` seen, concatenated along `axis` (at most
    `max_size` entries along it); the update op returns the new size. The other dimensions must be known."""
    with _vs.variable_scope(name, "streaming_concat", (values,)):
        values = _ops.convert_to_tensor(values)
        shape = values.shape
        if shape.ndims is None:
            raise ValueError("`values` must have known statically known rank")
        ndim = shape.ndims
        if axis < 0:
            axis += ndim
        if not 0 <= axis < ndim:
            raise ValueError(f"axis = {axis!r} not in [0, {ndim!r})")
        fixed_shape = [dim.value for n, dim in enumerate(shape) if n != axis]
        if any(value is None for value in fixed_shape):
            raise ValueError("all dimensions of `values` other than the dimension to concatenate along must have "
                             "statically known size")
        # the array keeps `axis` first, so each batch is appended as whole rows
        array = _metrics.metric_variable([0] + fixed_shape, values.dtype, validate_shape=False, name="array")
        size = _metrics.metric_variable([], _dt.int32, name="size")
        to_front = [axis] + [n for n in range(ndim) if n != axis]
        back = [to_front.index(n) for n in range(ndim)]
        current = _ops.convert_to_tensor(size)
        valid = _array_ops.reshape(_ops.convert_to_tensor(array), [-1] + fixed_shape)[:current]
        value = _array_ops.transpose(valid, back, name="concat")
        batch = _array_ops.transpose(values, to_front)
        batch_size = _array_ops.shape(batch)[0]
        if max_size is not None:
            batch_size = _math_ops.minimum(batch_size, max_size - current)
        new_size = current + batch_size
        grown = _array_ops.concat([valid, batch[:batch_size]], 0)
        append = _state_ops.assign(array, grown, validate_shape=False)
        with _ops.control_dependencies([append]):
            update_op = _state_ops.assign(size, new_size)
    if metrics_collections:
        _ops.add_to_collections(metrics_collections, value)
    if updates_collections:
        _ops.add_to_collections(updates_collections, update_op)
    return value, update_op


# ----------------------------------------------------------------------------------------------------------
# Top-k
# ----------------------------------------------------------------------------------------------------------
def _at_k_name(name: str, k=None, class_id=None) -> str:
    name = f"{name}_at_{k}" if k is not None else f"{name}_at_k"
    return f"{name}_class{class_id}" if class_id is not None else name


@tf_export("contrib.metrics.streaming_recall_at_k")
def streaming_recall_at_k(predictions, labels, k, weights=None, metrics_collections=None, updates_collections=None,
                          name=None) -> tuple:
    """(recall, update_op): how often the label is among the `k` largest predictions (a streaming mean of
    tf.nn.in_top_k, named `recall_at_<k>`)."""
    in_top_k = _math_ops.cast(_nn_ops.in_top_k(predictions, labels, k), _dt.float32)
    return streaming_mean(in_top_k, weights, metrics_collections, updates_collections,
                          name or _at_k_name("recall", k))


@tf_export("contrib.metrics.streaming_sparse_precision_at_k")
def streaming_sparse_precision_at_k(predictions, labels, k, class_id=None, weights=None, metrics_collections=None,
                                    updates_collections=None, name=None) -> tuple:
    return _metrics.precision_at_k(labels=labels, predictions=predictions, k=k, class_id=class_id,
                                   weights=weights, metrics_collections=metrics_collections,
                                   updates_collections=updates_collections, name=name)


@tf_export("contrib.metrics.streaming_sparse_recall_at_k")
def streaming_sparse_recall_at_k(predictions, labels, k, class_id=None, weights=None, metrics_collections=None,
                                 updates_collections=None, name=None) -> tuple:
    return _metrics.recall_at_k(labels=labels, predictions=predictions, k=k, class_id=class_id, weights=weights,
                                metrics_collections=metrics_collections, updates_collections=updates_collections,
                                name=name)


@tf_export("contrib.metrics.streaming_sparse_precision_at_top_k")
def streaming_sparse_precision_at_top_k(top_k_predictions, labels, class_id=None, weights=None,
                                        metrics_collections=None, updates_collections=None, name=None) -> tuple:
    return _metrics.precision_at_top_k(labels=labels, predictions_idx=top_k_predictions, class_id=class_id,
                                       weights=weights, metrics_collections=metrics_collections,
                                       updates_collections=updates_collections, name=name)


@tf_export("contrib.metrics.streaming_sparse_average_precision_at_k")
def streaming_sparse_average_precision_at_k(predictions, labels, k, weights=None, metrics_collections=None,
                                            updates_collections=None, name=None) -> tuple:
    return _metrics.average_precision_at_k(labels=labels, predictions=predictions, k=k, weights=weights,
                                           metrics_collections=metrics_collections,
                                           updates_collections=updates_collections, name=name)


# ----------------------------------------------------------------------------------------------------------
# Non-streaming accuracy and aggregation
# ----------------------------------------------------------------------------------------------------------
@tf_export("contrib.metrics.accuracy")
def accuracy(predictions, labels, weights=None, name=None) -> _ops.Tensor:
    """The (weighted) fraction of predictions equal to labels in this batch: a tensor, not a streaming metric."""
    with _ops.name_scope(name, "accuracy", values=[predictions, labels]):
        predictions = _ops.convert_to_tensor(predictions)
        labels = _ops.convert_to_tensor(labels)
        predictions.shape.assert_is_compatible_with(labels.shape)
        if labels.dtype != predictions.dtype:
            raise ValueError(f"Dtypes of predictions and labels should match. Given: predictions "
                             f"({predictions.dtype}) and labels ({labels.dtype})")
        is_correct = _math_ops.cast(_math_ops.equal(predictions, labels), _dt.float32)
        if weights is not None:
            weights = _math_ops.cast(weights, _dt.float32)
            is_correct = _math_ops.multiply(is_correct, weights)
            num_values = _math_ops.multiply(weights, _array_ops.ones_like(is_correct))
            return _math_ops.truediv(_math_ops.reduce_sum(is_correct), _math_ops.reduce_sum(num_values))
        return _math_ops.reduce_mean(is_correct)


tf_export("contrib.metrics.confusion_matrix").export_constant(_counting_ops.__name__, "confusion_matrix")


@tf_export("contrib.metrics.aggregate_metrics")
def aggregate_metrics(*value_update_tuples) -> tuple:
    """([value tensors], [update ops]) of (value, update_op) pairs."""
    if not value_update_tuples:
        raise ValueError("Expected at least one value_tensor/update_op pair")
    values, updates = zip(*value_update_tuples)
    return list(values), list(updates)


@tf_export("contrib.metrics.aggregate_metric_map")
def aggregate_metric_map(names_to_tuples: dict) -> tuple:
    """({name: value tensor}, {name: update op}) of a dict of names to (value, update_op) pairs."""
    names = list(names_to_tuples)
    values, updates = zip(*names_to_tuples.values())
    return dict(zip(names, values)), dict(zip(names, updates))
