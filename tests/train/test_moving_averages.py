"""assign_moving_average (with and without zero-debiasing) and tf.train.ExponentialMovingAverage against
NumPy recurrences."""

import numpy as np
import pytest

import tfmini as tf
from tfmini.train.moving_averages import assign_moving_average


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield


VALUES = [3.0, -1.0, 4.0, 1.5]


def test_assign_moving_average_without_debiasing():
    avg = tf.Variable(np.zeros(2))
    value = tf.placeholder(tf.float64, [2])
    update = assign_moving_average(avg, value, 0.8, zero_debias=False)
    expected = np.zeros(2)
    one_minus_decay = float(np.float32(1 - 0.8))  # a Python decay becomes a float32 tensor first, as in TF
    with tf.Session() as sess:
        sess.run(avg.initializer)
        for x in VALUES:
            out = sess.run(update, {value: [x, 2 * x]})
            expected = expected - one_minus_decay * (expected - [x, 2 * x])
            np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_zero_debiased_moving_average_is_the_weighted_mean_of_the_values():
    avg = tf.Variable(0.0, dtype=tf.float64, name="avg")
    value = tf.placeholder(tf.float64, [])
    update = assign_moving_average(avg, value, 0.8)
    names = [v.op.name for v in tf.global_variables()]
    assert names == ["avg", "avg/biased", "avg/local_step"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for t, x in enumerate(VALUES, start=1):
            out = sess.run(update, {value: x})
            weights = [0.8 ** (t - i) for i in range(1, t + 1)]
            np.testing.assert_allclose(out, np.dot(weights, VALUES[:t]) / np.sum(weights), rtol=1e-6)


def test_exponential_moving_average_tracks_variables():
    w = tf.Variable(1.0, name="w")
    b = tf.Variable([2.0, 4.0], name="b")
    ema = tf.train.ExponentialMovingAverage(0.9)
    update = ema.apply([w, b])
    assert update.name == "ExponentialMovingAverage" and update.type == "NoOp"
    assert ema.average(w).name == "w/ExponentialMovingAverage:0"
    assert ema.average_name(b) == "b/ExponentialMovingAverage"
    assert tf.moving_average_variables() == [w, b]
    assert ema.average(w) not in tf.trainable_variables()
    shadow_w, shadow_b = 1.0, np.array([2.0, 4.0])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run(ema.average(b)), shadow_b)
        for x in VALUES:
            sess.run([w.assign(x), b.assign([x, -x])])
            sess.run(update)
            shadow_w -= 0.1 * (shadow_w - x)
            shadow_b -= 0.1 * (shadow_b - np.array([x, -x]))
        np.testing.assert_allclose(sess.run(ema.average(w)), shadow_w, rtol=1e-6)
        np.testing.assert_allclose(sess.run(ema.average(b)), shadow_b, rtol=1e-6)


def test_num_updates_caps_the_decay_early_on():
    w = tf.Variable(0.0)
    step = tf.Variable(0, dtype=tf.int64, trainable=False)
    ema = tf.train.ExponentialMovingAverage(0.99, num_updates=step)
    update = ema.apply([w])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(w.assign(10.0))
        sess.run(update)
        decay = min(0.99, 1.0 / 10.0)
        assert sess.run(ema.average(w)) == pytest.approx(10.0 * (1 - decay))


def test_variables_to_restore_maps_average_names_to_variables():
    w = tf.Variable(1.0, name="w")
    step = tf.Variable(0, name="step", trainable=False)
    ema = tf.train.ExponentialMovingAverage(0.5)
    ema.apply([w])
    mapping = ema.variables_to_restore()
    assert mapping["w/ExponentialMovingAverage"] is w and mapping["step"] is step


def test_averages_can_be_restored_into_the_variables(tmp_path):
    w = tf.Variable(0.0, name="w")
    ema = tf.train.ExponentialMovingAverage(0.5)
    update = ema.apply([w])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(w.assign(8.0))
        sess.run(update)
        path = tf.train.Saver().save(sess, str(tmp_path / "m"))
    with tf.Graph().as_default():
        w2 = tf.Variable(0.0, name="w")
        restore = tf.train.Saver(tf.train.ExponentialMovingAverage(0.5).variables_to_restore())
        with tf.Session() as sess:
            restore.restore(sess, path)
            assert sess.run(w2) == 4.0


def test_only_float_variables_can_be_averaged():
    with pytest.raises(TypeError, match="The variables must be half, float, or double"):
        tf.train.ExponentialMovingAverage(0.9).apply([tf.Variable(1)])
