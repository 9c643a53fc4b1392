"""tf.contrib.losses (predictions/logits first, weights along the leading dimensions) against NumPy, and
tf.contrib.metrics (predictions before labels) against NumPy and against tf.metrics, which they delegate to."""

from __future__ import annotations

import numpy as np
import pytest

import tfmini as tf

losses = tf.contrib.losses
metrics = tf.contrib.metrics
RNG = np.random.RandomState(3)


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# ----------------------------------------------------------------------------------------------------------
# Losses
# ----------------------------------------------------------------------------------------------------------
def test_mean_squared_error_weights_the_leading_dimensions_of_the_losses(sess):
    p = RNG.randn(4, 3).astype(np.float32)
    t = RNG.randn(4, 3).astype(np.float32)
    w = np.array([1.0, 0.0, 2.0, 0.5], np.float32)
    loss = losses.mean_squared_error(p, t, weights=w)
    expected = ((p - t) ** 2 * w[:, None]).sum() / (3 * 3)
    np.testing.assert_allclose(sess.run(loss), expected, rtol=1e-5)
    assert losses.get_losses() == [loss]
    np.testing.assert_allclose(sess.run(losses.mean_squared_error(p, t)), ((p - t) ** 2).mean(), rtol=1e-5)
    column = losses.mean_squared_error(p, t, weights=w[:, None])  # a last dim of 1 is squeezed first
    np.testing.assert_allclose(sess.run(column), expected, rtol=1e-5)


def test_absolute_difference_and_log_loss(sess):
    p = RNG.uniform(0.05, 0.95, (5, 2)).astype(np.float32)
    t = RNG.randint(0, 2, (5, 2)).astype(np.float32)
    np.testing.assert_allclose(sess.run(losses.absolute_difference(p, t)), np.abs(p - t).mean(), rtol=1e-5)
    expected = (-t * np.log(p + 1e-7) - (1 - t) * np.log(1 - p + 1e-7)).mean()
    np.testing.assert_allclose(sess.run(losses.log_loss(p, t)), expected, rtol=1e-5)
    with pytest.raises(ValueError, match="labels must not be None"):
        losses.absolute_difference(p)


def test_softmax_cross_entropy_takes_logits_first_and_smooths_labels(sess):
    logits = RNG.randn(4, 3).astype(np.float32)
    onehot = np.eye(3, dtype=np.float32)[[0, 2, 1, 2]]
    w = np.array([1.0, 2.0, 0.0, 1.0], np.float32)
    xent = -(onehot * np.log(_softmax(logits))).sum(1)
    np.testing.assert_allclose(sess.run(losses.softmax_cross_entropy(logits, onehot, weights=w)),
                               (xent * w).sum() / 3, rtol=1e-5)
    smooth = onehot * 0.9 + 0.1 / 3
    np.testing.assert_allclose(sess.run(losses.softmax_cross_entropy(logits, onehot, label_smoothing=0.1)),
                               (-(smooth * np.log(_softmax(logits))).sum(1)).mean(), rtol=1e-5)
    same = tf.losses.softmax_cross_entropy(onehot, logits, weights=w)
    np.testing.assert_allclose(sess.run(losses.softmax_cross_entropy(logits, onehot, weights=w)), sess.run(same),
                               rtol=1e-6)


def test_sparse_softmax_and_sigmoid_cross_entropy(sess):
    logits = RNG.randn(4, 3).astype(np.float32)
    labels = np.array([[0], [2], [1], [1]])
    xent = -np.log(_softmax(logits))[np.arange(4), labels[:, 0]]
    np.testing.assert_allclose(sess.run(losses.sparse_softmax_cross_entropy(logits, labels)), xent.mean(),
                               rtol=1e-5)
    targets = RNG.randint(0, 2, (4, 3)).astype(np.float32)
    sig = 1 / (1 + np.exp(-logits))
    smoothed = targets * 0.8 + 0.1
    expected = (-(smoothed * np.log(sig) + (1 - smoothed) * np.log(1 - sig))).mean()
    np.testing.assert_allclose(sess.run(losses.sigmoid_cross_entropy(logits, targets, label_smoothing=0.2)),
                               expected, rtol=1e-5)


def test_hinge_loss_returns_elementwise_losses_without_collecting_them(sess):
    logits = np.array([[0.5, -2.0, 1.5]], np.float32)
    labels = np.array([[1.0, 0.0, 0.0]], np.float32)
    out = losses.hinge_loss(logits, labels)
    assert losses.get_losses() == []
    np.testing.assert_allclose(sess.run(out), [[0.5, 0.0, 2.5]])


def test_cosine_distance_reduces_along_axis_and_needs_one(sess):
    p = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], np.float32)
    t = np.array([[1.0, 0.0], [1.0, 0.0], [0.8, 0.6]], np.float32)
    w = np.array([1.0, 1.0, 0.0], np.float32)
    np.testing.assert_allclose(sess.run(losses.cosine_distance(p, t, axis=1, weights=w)), 0.5, rtol=1e-6)
    np.testing.assert_allclose(sess.run(losses.cosine_distance(p, t, dim=1)), (0 + 1 + 0.04) / 3, rtol=1e-5)
    with pytest.raises(ValueError, match="You must specify 'axis'"):
        losses.cosine_distance(p, t)


def test_mean_pairwise_squared_error_averages_over_all_ordered_pairs(sess):
    p = RNG.randn(3, 4).astype(np.float32)
    t = RNG.randn(3, 4).astype(np.float32)
    w = np.array([1.0, 0.5, 2.0], np.float32)
    d = p - t
    per_example = np.array([((di[:, None] - di[None, :]) ** 2).mean() for di in d])
    np.testing.assert_allclose(sess.run(losses.mean_pairwise_squared_error(p, t, weights=w)),
                               (per_example * w).sum(), rtol=1e-5)


def test_compute_weighted_loss_total_loss_and_regularization_losses(sess):
    per_example = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    loss = losses.compute_weighted_loss(per_example, weights=[0.0, 1.0])
    np.testing.assert_allclose(sess.run(loss), 3.5)
    tf.add_to_collection(tf.GraphKeys.REGULARIZATION_LOSSES, tf.constant(0.25))
    assert losses.get_regularization_losses()[0].op.type == "Const"
    np.testing.assert_allclose(sess.run(losses.get_total_loss()), 3.75)
    np.testing.assert_allclose(sess.run(losses.get_total_loss(add_regularization_losses=False)), 3.5)
    losses.add_loss(tf.constant(1.0), loss_collection="mine")
    assert len(losses.get_losses(loss_collection="mine")) == 1
    with tf.contrib.framework.arg_scope([losses.add_loss], loss_collection="scoped"):
        losses.add_loss(tf.constant(2.0))
    assert len(losses.get_losses(loss_collection="scoped")) == 1
    assert not hasattr(losses, "huber_loss")


# ----------------------------------------------------------------------------------------------------------
# Metrics
# ----------------------------------------------------------------------------------------------------------
def _run_streaming(sess, metric, feeds: list[dict]):
    value, update = metric
    sess.run(tf.local_variables_initializer())
    for feed in feeds:
        sess.run(update, feed)
    return sess.run(value)


def test_streaming_accuracy_takes_predictions_first_and_accumulates(sess):
    p = tf.placeholder(tf.int64, [None])
    t = tf.placeholder(tf.int64, [None])
    batches = [{p: [1, 2, 3], t: [1, 0, 3]}, {p: [0, 0], t: [0, 1]}]
    assert np.isclose(_run_streaming(sess, metrics.streaming_accuracy(p, t), batches), 3 / 5)


def test_streaming_means_and_errors_match_numpy(sess):
    pred = RNG.rand(6).astype(np.float32)
    true = RNG.rand(6).astype(np.float32)
    got = {
        "mean": _run_streaming(sess, metrics.streaming_mean(pred), [{}]),
        "mae": _run_streaming(sess, metrics.streaming_mean_absolute_error(pred, true), [{}]),
        "mse": _run_streaming(sess, metrics.streaming_mean_squared_error(pred, true), [{}]),
        "rmse": _run_streaming(sess, metrics.streaming_root_mean_squared_error(pred, true), [{}]),
        "less": _run_streaming(sess, metrics.streaming_percentage_less(pred, 0.5), [{}]),
    }
    expected = {"mean": pred.mean(), "mae": np.abs(pred - true).mean(), "mse": ((pred - true) ** 2).mean(),
                "rmse": np.sqrt(((pred - true) ** 2).mean()), "less": (pred < 0.5).mean()}
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, err_msg=key)


def test_streaming_precision_recall_and_counts(sess):
    pred = np.array([1, 1, 0, 1, 0, 0], bool)
    true = np.array([1, 0, 0, 1, 1, 0], bool)
    assert np.isclose(_run_streaming(sess, metrics.streaming_precision(pred, true), [{}]), 2 / 3)
    assert np.isclose(_run_streaming(sess, metrics.streaming_recall(pred, true), [{}]), 2 / 3)
    assert _run_streaming(sess, metrics.streaming_true_positives(pred, true), [{}]) == 2
    assert _run_streaming(sess, metrics.streaming_false_positives(pred, true), [{}]) == 1
    assert _run_streaming(sess, metrics.streaming_false_negatives(pred, true), [{}]) == 1
    assert _run_streaming(sess, metrics.streaming_true_negatives(pred, true), [{}]) == 2


def test_streaming_auc_and_mean_iou_equal_tf_metrics_with_swapped_arguments(sess):
    scores = RNG.rand(20).astype(np.float32)
    labels = (RNG.rand(20) < 0.5)
    ours = _run_streaming(sess, metrics.streaming_auc(scores, labels), [{}])
    reference = _run_streaming(sess, tf.metrics.auc(labels, scores), [{}])
    assert ours == reference
    classes_p = np.array([0, 1, 2, 2, 1])
    classes_t = np.array([0, 1, 1, 2, 2])
    iou = _run_streaming(sess, metrics.streaming_mean_iou(classes_p, classes_t, 3), [{}])
    # per class: 0 -> 1/1, 1 -> 1/3, 2 -> 1/3
    np.testing.assert_allclose(iou, (1 + 1 / 3 + 1 / 3) / 3, rtol=1e-6)


def test_streaming_recall_at_k_is_a_mean_of_in_top_k_named_recall_at_k(sess):
    scores = np.array([[0.1, 0.5, 0.4], [0.7, 0.2, 0.1], [0.3, 0.2, 0.5]], np.float32)
    labels = np.array([2, 1, 1])
    value, update = metrics.streaming_recall_at_k(scores, labels, 2)
    assert value.op.name.startswith("recall_at_2/")
    assert np.isclose(_run_streaming(sess, (value, update), [{}]), 2 / 3)


def test_contrib_accuracy_is_a_plain_tensor_and_checks_dtypes(sess):
    assert np.isclose(sess.run(metrics.accuracy([1, 2, 3, 4], [1, 2, 0, 4])), 0.75)
    assert np.isclose(sess.run(metrics.accuracy([1, 2], [1, 0], weights=[3.0, 1.0])), 0.75)
    with pytest.raises(ValueError, match="Dtypes of predictions and labels should match"):
        metrics.accuracy(tf.constant([1, 2]), tf.constant([1, 2], tf.int64))


def test_aggregate_metrics_and_metric_map(sess):
    pred = np.array([1.0, 2.0], np.float32)
    mean = metrics.streaming_mean(pred)
    mae = metrics.streaming_mean_absolute_error(pred, pred)
    values, updates = metrics.aggregate_metrics(mean, mae)
    assert values == [mean[0], mae[0]] and updates == [mean[1], mae[1]]
    names_to_values, names_to_updates = metrics.aggregate_metric_map({"mean": mean, "mae": mae})
    assert names_to_values == {"mean": mean[0], "mae": mae[0]}
    assert names_to_updates["mae"] is mae[1]
    with pytest.raises(ValueError, match="at least one"):
        metrics.aggregate_metrics()


def _stream_batches(sess, metric, placeholders, batches) -> list:
    value, update = metric
    sess.run(tf.local_variables_initializer())
    out = []
    for batch in batches:
        sess.run(update, dict(zip(placeholders, batch)))
        out.append(sess.run(value))
    return out


def test_streaming_covariance_and_pearson_correlation_merge_batches_like_numpy(sess):
    p = tf.placeholder(tf.float32, [None])
    t = tf.placeholder(tf.float32, [None])
    w = tf.placeholder(tf.float32, [None])
    xs, ys, ws = RNG.randn(3, 5), RNG.randn(3, 5), RNG.uniform(0.5, 2.0, (3, 5))
    batches = [(xs[i], ys[i], ws[i]) for i in range(3)]
    cov = _stream_batches(sess, metrics.streaming_covariance(p, t), [p, t], [b[:2] for b in batches])
    r = _stream_batches(sess, metrics.streaming_pearson_correlation(p, t), [p, t], [b[:2] for b in batches])
    weighted = _stream_batches(sess, metrics.streaming_covariance(p, t, weights=w), [p, t, w], batches)
    for i in range(3):
        x, y, wt = xs[:i + 1].ravel(), ys[:i + 1].ravel(), ws[:i + 1].ravel()
        np.testing.assert_allclose(cov[i], np.cov(x, y)[0, 1], rtol=1e-4)
        np.testing.assert_allclose(r[i], np.corrcoef(x, y)[0, 1], rtol=1e-4)
        mx, my = np.average(x, weights=wt), np.average(y, weights=wt)
        np.testing.assert_allclose(weighted[i], (wt * (x - mx) * (y - my)).sum() / (wt.sum() - 1), rtol=1e-4)
    value, update = metrics.streaming_covariance([1.0], [2.0])
    sess.run(tf.local_variables_initializer())
    assert np.isnan(sess.run(update))  # a single value has no sample covariance


def test_streaming_concat_appends_batches_along_axis_up_to_max_size(sess):
    x = tf.placeholder(tf.int32, [2, None])
    batches = [np.array([[1, 2], [3, 4]]), np.array([[5], [6]]), np.array([[7, 8, 9], [10, 11, 12]])]
    value, update = metrics.streaming_concat(x, axis=1)
    assert value.shape.as_list() == [2, None]
    got = _stream_batches(sess, (value, update), [x], [[b] for b in batches])
    np.testing.assert_array_equal(got[-1], np.concatenate(batches, axis=1))
    capped = _stream_batches(sess, metrics.streaming_concat(x, axis=-1, max_size=4), [x], [[b] for b in batches])
    np.testing.assert_array_equal(capped[-1], np.concatenate(batches, axis=1)[:, :4])
    with pytest.raises(ValueError, match="statically known size"):
        metrics.streaming_concat(tf.placeholder(tf.int32, [None, None]))


def test_streaming_counts_at_thresholds_and_confusion_matrix(sess):
    scores = np.array([0.1, 0.6, 0.8, 0.4], np.float32)
    labels = np.array([False, True, False, True])
    tp, tp_update = metrics.streaming_true_positives_at_thresholds(scores, labels, [0.3, 0.7])
    fp, fp_update = metrics.streaming_false_positives_at_thresholds(scores, labels, [0.3, 0.7])
    tn, tn_update = metrics.streaming_true_negatives_at_thresholds(scores, labels, [0.3, 0.7])
    fn, fn_update = metrics.streaming_false_negatives_at_thresholds(scores, labels, [0.3, 0.7])
    sess.run(tf.local_variables_initializer())
    sess.run([tp_update, fp_update, tn_update, fn_update])
    np.testing.assert_array_equal(sess.run([tp, fp, tn, fn]), [[2, 0], [1, 1], [1, 1], [0, 2]])
    assert metrics.confusion_matrix is tf.confusion_matrix
