"""tf.losses: each loss against its NumPy formula under weights and every reduction, the LOSSES collection,
dtypes, gradients and the errors TF raises."""

from __future__ import annotations

import numpy as np
import pytest

import tfmini as tf

R = tf.losses.Reduction


def _run(fetches, feed_dict=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed_dict=feed_dict)


def _rand(shape, seed, low=-1.0, high=1.0):
    return np.random.RandomState(seed).uniform(low, high, size=shape).astype(np.float32)


def _reduce(losses, weights, reduction):
    """NumPy reference of compute_weighted_loss."""
    losses = losses.astype(np.float64)
    w = np.broadcast_to(np.asarray(weights, dtype=np.float64), losses.shape)
    weighted = losses * w
    if reduction == R.NONE:
        return weighted
    total = weighted.sum()
    if reduction == R.SUM:
        return total
    if reduction == R.MEAN:
        den = w.sum()
    elif reduction == R.SUM_OVER_BATCH_SIZE:
        den = losses.size
    else:
        den = np.count_nonzero(w)
    return total / den if den else 0.0


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _log_softmax(x):
    m = x.max(-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))


LABELS = _rand((4, 3), 1, 0, 1)
PREDS = _rand((4, 3), 2, 0.05, 0.95)
LOSS_FORMULAS = {
    "mean_squared_error": (tf.losses.mean_squared_error, lambda l, p: (p - l) ** 2),
    "absolute_difference": (tf.losses.absolute_difference, lambda l, p: np.abs(p - l)),
    "huber_loss": (lambda labels, predictions, **kw: tf.losses.huber_loss(labels, predictions, delta=0.3, **kw),
                   lambda l, p: np.where(np.abs(p - l) <= 0.3, 0.5 * (p - l) ** 2, 0.3 * (np.abs(p - l) - 0.15))),
    "log_loss": (tf.losses.log_loss,
                 lambda l, p: -l * np.log(p + 1e-7) - (1 - l) * np.log(1 - p + 1e-7)),
    "hinge_loss": (lambda labels, predictions, **kw: tf.losses.hinge_loss(labels, predictions, **kw),
                   lambda l, p: np.maximum(0, 1 - (2 * l - 1) * p)),
}
# Weights: Python floats, one per example (with a zero), and per element with some zeros.
WEIGHTS = [1.0, 2.5, np.array([[1.0], [0.0], [2.0], [0.5]], np.float32),
           _rand((4, 3), 3, 0, 2) * (_rand((4, 3), 4) > 0)]
REDUCTIONS = [R.NONE, R.SUM, R.MEAN, R.SUM_OVER_BATCH_SIZE, R.SUM_BY_NONZERO_WEIGHTS]


@pytest.mark.parametrize("name", sorted(LOSS_FORMULAS))
@pytest.mark.parametrize("weights_index", range(len(WEIGHTS)))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_loss_matches_numpy_formula(name, weights_index, reduction):
    tf_fn, np_fn = LOSS_FORMULAS[name]
    labels = (LABELS > 0.5).astype(np.float32) if name == "hinge_loss" else LABELS
    weights = WEIGHTS[weights_index]
    expected = _reduce(np_fn(labels.astype(np.float64), PREDS.astype(np.float64)), weights, reduction)
    with tf.Graph().as_default():
        loss = tf_fn(labels=labels, predictions=PREDS, weights=weights, reduction=reduction)
        assert loss.dtype == tf.float32
        assert loss.shape.as_list() == list(np.shape(expected))
        np.testing.assert_allclose(_run(loss), expected, rtol=2e-5, atol=1e-6)


def test_default_reduction_averages_over_nonzero_weights():
    losses = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    with tf.Graph().as_default():
        default = tf.losses.compute_weighted_loss(losses, weights=[[1.0, 0.0], [2.0, 0.0]])
        all_zero = tf.losses.compute_weighted_loss(losses, weights=0.0)
        d, z = _run([default, all_zero])
    assert d == pytest.approx((1.0 + 6.0) / 2)
    assert z == 0.0


def test_compute_weighted_loss_keeps_input_dtype_and_validates():
    with tf.Graph().as_default():
        loss = tf.losses.compute_weighted_loss(np.array([1.0, 3.0]), reduction=R.SUM)
        assert loss.dtype == tf.float64
        assert _run(loss) == 4.0
        with pytest.raises(ValueError, match="Invalid Reduction Key bogus"):
            tf.losses.compute_weighted_loss([1.0], reduction="bogus")
        with pytest.raises(ValueError, match="weights can not be broadcast to values"):
            tf.losses.compute_weighted_loss(tf.zeros([4, 3]), weights=tf.ones([3, 3]))
        with pytest.raises(ValueError, match="weights can not be broadcast to values"):
            tf.losses.compute_weighted_loss(tf.zeros([4, 3]), weights=tf.ones([3]))


def test_sigmoid_cross_entropy_with_label_smoothing():
    logits = _rand((4, 3), 5, -3, 3)
    labels = (LABELS > 0.5).astype(np.float32)
    smoothed = labels * 0.8 + 0.5 * 0.2
    p = _sigmoid(logits.astype(np.float64))
    expected = np.mean(-smoothed * np.log(p) - (1 - smoothed) * np.log(1 - p))
    with tf.Graph().as_default():
        loss = tf.losses.sigmoid_cross_entropy(labels, logits, label_smoothing=0.2)
        np.testing.assert_allclose(_run(loss), expected, rtol=1e-5)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_softmax_cross_entropy_with_weights_and_smoothing(smoothing):
    logits = _rand((4, 5), 6, -3, 3)
    onehot = np.eye(5, dtype=np.float32)[[0, 3, 1, 4]]
    weights = np.array([1.0, 2.0, 0.0, 1.0], np.float32)
    labels = onehot * (1 - smoothing) + smoothing / 5
    per_example = -(labels * _log_softmax(logits.astype(np.float64))).sum(-1)
    with tf.Graph().as_default():
        loss = tf.losses.softmax_cross_entropy(onehot, logits, weights=weights, label_smoothing=smoothing)
        np.testing.assert_allclose(_run(loss), _reduce(per_example, weights, R.SUM_BY_NONZERO_WEIGHTS), rtol=1e-5)


def test_softmax_cross_entropy_keeps_logits_dtype_and_stops_label_gradient():
    logits = _rand((3, 4), 7).astype(np.float64)
    onehot = np.eye(4)[[0, 1, 3]]
    with tf.Graph().as_default():
        x, lab = tf.constant(logits), tf.constant(onehot)
        loss = tf.losses.softmax_cross_entropy(lab, x)
        assert loss.dtype == tf.float64
        g_x, g_lab = tf.gradients(loss, [x, lab])
        assert g_lab is None
        softmax = np.exp(_log_softmax(logits))
        np.testing.assert_allclose(_run(g_x), (softmax - onehot) / 3, rtol=1e-6)


@pytest.mark.parametrize("label_shape", [(4,), (4, 1)])
def test_sparse_softmax_cross_entropy(label_shape):
    logits = _rand((4, 5), 8, -3, 3)
    labels = np.array([0, 3, 1, 4], np.int32).reshape(label_shape)
    weights = np.array([1.0, 0.5, 2.0, 0.0], np.float32).reshape(label_shape)
    per_example = -_log_softmax(logits.astype(np.float64))[np.arange(4), labels.reshape(-1)]
    with tf.Graph().as_default():
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits, weights=weights)
        assert loss.shape.as_list() == []
        np.testing.assert_allclose(_run(loss), _reduce(per_example, weights.reshape(-1), R.SUM_BY_NONZERO_WEIGHTS),
                                   rtol=1e-5)


def test_cosine_distance():
    a = _rand((3, 4), 9)
    b = _rand((3, 4), 10)
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    b /= np.linalg.norm(b, axis=1, keepdims=True)
    with tf.Graph().as_default():
        loss = tf.losses.cosine_distance(a, b, axis=1)
        none = tf.losses.cosine_distance(a, b, dim=1, reduction=R.NONE)
        assert none.shape.as_list() == [3, 1]
        lv, nv = _run([loss, none])
    np.testing.assert_allclose(nv[:, 0], 1 - (a * b).sum(1), rtol=1e-5)
    np.testing.assert_allclose(lv, np.mean(1 - (a * b).sum(1)), rtol=1e-5)
    with tf.Graph().as_default(), pytest.raises(ValueError, match="You must specify 'axis'"):
        tf.losses.cosine_distance(a, b)


def test_mean_pairwise_squared_error_against_brute_force():
    labels = _rand((3, 4), 11)
    preds = _rand((3, 4), 12)
    weights = np.array([[1.0], [0.5], [2.0]], np.float32)
    d = (preds - labels).astype(np.float64)
    per_batch = [np.mean([(d[b, i] - d[b, j]) ** 2 for i in range(4) for j in range(4) if i != j]) for b in range(3)]
    with tf.Graph().as_default():
        loss = tf.losses.mean_pairwise_squared_error(labels, preds, weights=weights)
        np.testing.assert_allclose(_run(loss), np.sum(np.array(per_batch) * weights[:, 0]), rtol=1e-5)


def test_losses_are_collected_and_totalled():
    with tf.Graph().as_default():
        a = tf.losses.mean_squared_error([1.0, 2.0], [1.5, 2.5])
        b = tf.losses.absolute_difference([1.0], [3.0], loss_collection=None)
        c = tf.losses.absolute_difference([0.0], [4.0], scope="extra")
        assert tf.losses.get_losses() == [a, c]
        assert tf.losses.get_losses(scope="extra") == [c]
        assert b not in tf.get_collection(tf.GraphKeys.LOSSES)
        assert _run(tf.losses.get_regularization_loss()) == 0.0
        tf.add_to_collection(tf.GraphKeys.REGULARIZATION_LOSSES, tf.constant(0.5))
        total = tf.losses.get_total_loss()
        without_reg = tf.losses.get_total_loss(add_regularization_losses=False)
        assert total.op.name == "total_loss"
        t, w, r = _run([total, without_reg, tf.losses.get_regularization_loss()])
    assert t == pytest.approx(0.25 + 4.0 + 0.5)
    assert w == pytest.approx(4.25)
    assert r == pytest.approx(0.5)
    with tf.Graph().as_default(), pytest.raises(ValueError):
        tf.losses.get_total_loss()


def test_add_loss_adds_to_the_named_collection():
    with tf.Graph().as_default():
        x = tf.constant(2.0)
        tf.losses.add_loss(x)
        tf.losses.add_loss(x, loss_collection="mine")
        assert tf.losses.get_losses() == [x]
        assert tf.losses.get_losses(loss_collection="mine") == [x]


def test_missing_arguments_and_shape_mismatch_raise_value_errors():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="labels must not be None"):
            tf.losses.mean_squared_error(None, [1.0])
        with pytest.raises(ValueError, match="predictions must not be None"):
            tf.losses.absolute_difference([1.0], None)
        with pytest.raises(ValueError, match="multi_class_labels must not be None"):
            tf.losses.sigmoid_cross_entropy(None, [1.0])
        with pytest.raises(ValueError):
            tf.losses.mean_squared_error([1.0, 2.0], [1.0, 2.0, 3.0])


def test_loss_gradients_match_formulas():
    labels = _rand((4, 3), 13)
    preds = _rand((4, 3), 14)
    weights = np.array([[1.0], [0.0], [2.0], [0.5]], np.float32)
    with tf.Graph().as_default():
        p = tf.constant(preds)
        mse = tf.losses.mean_squared_error(labels, p, weights=weights)
        huber = tf.losses.huber_loss(labels, p, delta=0.5, reduction=R.SUM)
        g_mse, g_huber = _run(tf.gradients(mse, p) + tf.gradients(huber, p))
    w = np.broadcast_to(weights, preds.shape)
    np.testing.assert_allclose(g_mse, 2 * (preds - labels) * w / np.count_nonzero(w), rtol=1e-5)
    np.testing.assert_allclose(g_huber, np.clip(preds - labels, -0.5, 0.5), rtol=1e-5)


def test_loss_gradient_by_finite_differences():
    logits = _rand((3, 4), 15).astype(np.float64)
    labels = np.array([2, 0, 1])
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [3, 4])
        loss = tf.losses.sparse_softmax_cross_entropy(labels, x, weights=[1.0, 2.0, 0.5])
        g = tf.gradients(loss, x)[0]
        with tf.Session() as sess:
            analytic = sess.run(g, {x: logits})
            numeric = np.zeros_like(logits)
            for idx in np.ndindex(*logits.shape):
                up, down = logits.copy(), logits.copy()
                up[idx] += 1e-3
                down[idx] -= 1e-3
                numeric[idx] = (sess.run(loss, {x: up}) - sess.run(loss, {x: down})) / 2e-3
    # compute_weighted_loss reduces in float32 (as TF does), so the differences carry float32 rounding.
    np.testing.assert_allclose(analytic, numeric, rtol=1e-3, atol=5e-4)
