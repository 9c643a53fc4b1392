"""`tf.contrib.metrics`: TF 1.15's streaming metrics with contrib's argument order (predictions before labels)
over `tf.metrics`, the non-streaming `accuracy`, and `aggregate_metrics` / `aggregate_metric_map`."""

from __future__ import annotations

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.ops import array_ops as _array_ops
from tfmini.ops import math_ops as _math_ops
from tfmini.ops import metrics_impl as _metrics
from tfmini.ops import nn_ops as _nn_ops


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
