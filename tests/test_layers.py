"""tf.layers: variable names, shapes, collections and reuse; outputs against NumPy/tf.nn references; dropout and
batch normalization in training and inference; a small CNN that trains."""

from __future__ import annotations

import numpy as np
import pytest

import tfmini as tf


def _rand(shape, seed, low=-1.0, high=1.0, dtype=np.float32):
    return np.random.RandomState(seed).uniform(low, high, size=shape).astype(dtype)


def _names(variables):
    return [v.name for v in variables]


# ----------------------------------------------------------------------------------------------------------
# dense
# ----------------------------------------------------------------------------------------------------------
def test_dense_creates_kernel_and_bias_in_unique_scopes():
    with tf.Graph().as_default():
        tf.set_random_seed(1)
        x = tf.placeholder(tf.float32, [None, 4])
        h = tf.layers.dense(x, 3, activation=tf.nn.relu)
        y = tf.layers.dense(h, 2)
        assert h.shape.as_list() == [None, 3] and y.shape.as_list() == [None, 2]
        assert _names(tf.global_variables()) == ["dense/kernel:0", "dense/bias:0", "dense_1/kernel:0",
                                                 "dense_1/bias:0"]
        assert _names(tf.trainable_variables()) == _names(tf.global_variables())
        assert tf.global_variables()[0].shape.as_list() == [4, 3]
        assert h.op.name == "dense/Relu" and y.op.name == "dense_1/BiasAdd"
        xv = _rand((5, 4), 1)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            k0, b0, k1, b1 = sess.run(tf.global_variables())
            yv = sess.run(y, {x: xv})
    assert not np.any(b0) and not np.any(b1)  # zeros_initializer
    assert np.std(k0) > 0  # glorot_uniform by default
    np.testing.assert_allclose(yv, np.maximum(xv @ k0 + b0, 0) @ k1 + b1, rtol=1e-5, atol=1e-6)


def test_dense_initializers_bias_and_dtype():
    with tf.Graph().as_default():
        x = tf.constant(_rand((2, 3), 2, dtype=np.float64))
        y = tf.layers.dense(x, 2, use_bias=False, kernel_initializer=tf.constant_initializer(0.5), name="fc")
        assert _names(tf.global_variables()) == ["fc/kernel:0"]
        assert tf.global_variables()[0].dtype.base_dtype == tf.float64
        assert y.dtype == tf.float64
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_allclose(sess.run(y), sess.run(x) @ np.full((3, 2), 0.5))


def test_dense_on_rank_3_inputs_contracts_the_last_axis():
    xv = _rand((2, 5, 3), 3)
    with tf.Graph().as_default():
        tf.set_random_seed(2)
        x = tf.placeholder(tf.float32, [None, 5, 3])
        y = tf.layers.dense(x, 4)
        assert y.shape.as_list() == [None, 5, 4]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            k, b = sess.run(tf.global_variables())
            np.testing.assert_allclose(sess.run(y, {x: xv}), xv @ k + b, rtol=1e-5, atol=1e-6)


def test_dense_reuse_by_name():
    with tf.Graph().as_default():
        a = tf.placeholder(tf.float32, [None, 3])
        b = tf.placeholder(tf.float32, [None, 3])
        ya = tf.layers.dense(a, 2, name="shared")
        yb = tf.layers.dense(b, 2, name="shared", reuse=True)
        assert len(tf.global_variables()) == 2
        assert yb.op.name.startswith("shared_1/")
        with pytest.raises(ValueError, match="already exists"):
            tf.layers.dense(a, 2, name="shared")
        with tf.variable_scope("auto", reuse=tf.AUTO_REUSE):
            tf.layers.dense(a, 2, name="d")
            tf.layers.dense(b, 2, name="d")
        assert len(tf.global_variables()) == 4
        xv = _rand((2, 3), 4)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            va, vb = sess.run([ya, yb], {a: xv, b: xv})
    np.testing.assert_array_equal(va, vb)


def test_dense_layer_object_shares_variables_across_calls():
    with tf.Graph().as_default():
        layer = tf.layers.Dense(3, name="proj")
        y1 = layer(tf.zeros([2, 4]))
        y2 = layer.apply(tf.ones([2, 4]))
        assert layer.built and layer.name == "proj"
        assert _names(layer.trainable_variables) == ["proj/kernel:0", "proj/bias:0"]
        assert layer.kernel is layer.trainable_weights[0] and layer.weights == layer.variables
        assert len(tf.global_variables()) == 2
        assert y1.op.name == "proj/BiasAdd" and y2.op.name == "proj/BiasAdd_1"
        unnamed = tf.layers.Dense(2)
        unnamed(tf.zeros([1, 3]))
        assert unnamed.name == "dense"


def test_dense_regularizers_trainable_and_errors():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        y = tf.layers.dense(x, 2, kernel_initializer=tf.ones_initializer(),
                            kernel_regularizer=lambda w: 0.5 * tf.reduce_sum(tf.square(w)),
                            activity_regularizer=lambda o: tf.reduce_sum(o), trainable=False, name="reg")
        reg = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
        assert len(reg) == 2
        assert tf.trainable_variables() == []
        assert len(tf.global_variables()) == 2
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            r0, r1 = sess.run(reg, {x: np.ones((2, 3), np.float32)})
        assert r0 == pytest.approx(0.5 * 6)
        assert r1 == pytest.approx(2 * 2 * 3.0)
        assert y.shape.as_list() == [None, 2]
        with pytest.raises(ValueError, match="The last dimension of the inputs to `Dense` should be defined"):
            tf.layers.dense(tf.placeholder(tf.float32, [None, None]), 2)


# ----------------------------------------------------------------------------------------------------------
# conv2d and pooling
# ----------------------------------------------------------------------------------------------------------
def test_conv2d_layer_variables_shapes_and_values():
    xv = _rand((2, 8, 8, 3), 5)
    with tf.Graph().as_default():
        tf.set_random_seed(3)
        x = tf.placeholder(tf.float32, [None, 8, 8, 3])
        same = tf.layers.conv2d(x, 4, 3, padding="same", activation=tf.nn.relu)
        valid = tf.layers.conv2d(x, 5, (3, 2), strides=(2, 1), padding="VALID")
        assert same.shape.as_list() == [None, 8, 8, 4]
        assert valid.shape.as_list() == [None, 3, 7, 5]
        assert _names(tf.global_variables()) == ["conv2d/kernel:0", "conv2d/bias:0", "conv2d_1/kernel:0",
                                                 "conv2d_1/bias:0"]
        assert tf.global_variables()[0].shape.as_list() == [3, 3, 3, 4]
        assert same.op.name == "conv2d/Relu"
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            k, b = sess.run(tf.global_variables()[:2])
            got = sess.run(same, {x: xv})
            ref = sess.run(tf.nn.relu(tf.nn.conv2d(xv, k, [1, 1, 1, 1], "SAME") + b))
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


def test_conv2d_layer_channels_first_and_dilation():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3, 9, 9])
        y = tf.layers.conv2d(x, 2, 3, data_format="channels_first", dilation_rate=2)
        assert y.shape.as_list() == [None, 2, 5, 5]
        assert tf.global_variables()[0].shape.as_list() == [3, 3, 3, 2]


def test_conv2d_layer_errors():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 8, 8, 3])
        with pytest.raises(ValueError, match="padding"):
            tf.layers.conv2d(x, 4, 3, padding="full")
        with pytest.raises(ValueError, match="kernel_size"):
            tf.layers.conv2d(x, 4, (3, 3, 3))
        with pytest.raises(ValueError, match="channel dimension of the inputs should be defined"):
            tf.layers.conv2d(tf.placeholder(tf.float32, [None, 8, 8, None]), 4, 3)
        with pytest.raises(ValueError, match="data_format"):
            tf.layers.conv2d(x, 4, 3, data_format="NHWC")


def test_pooling_layers_match_tf_nn():
    xv = _rand((2, 7, 7, 3), 6)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 7, 7, 3])
        mp = tf.layers.max_pooling2d(x, 2, 2)
        ap = tf.layers.average_pooling2d(x, (3, 3), (2, 2), padding="same")
        assert mp.shape.as_list() == [None, 3, 3, 3] and ap.shape.as_list() == [None, 4, 4, 3]
        assert mp.op.name == "max_pooling2d/MaxPool"
        ref_mp = tf.nn.max_pool(x, 2, 2, "VALID")
        ref_ap = tf.nn.avg_pool(x, 3, 2, "SAME")
        with tf.Session() as sess:
            a, b, c, d = sess.run([mp, ap, ref_mp, ref_ap], {x: xv})
    np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(b, d)
    assert tf.layers.MaxPooling2D(2, 2).name == "max_pooling2d"


def test_flatten():
    xv = _rand((2, 3, 4, 5), 7)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3, 4, 5])
        f = tf.layers.flatten(x)
        fc = tf.layers.flatten(x, data_format="channels_first")
        assert f.shape.as_list() == [None, 60] and fc.shape.as_list() == [None, 60]
        unknown = tf.layers.flatten(tf.placeholder(tf.float32, [None, None, 2]))
        assert unknown.shape.as_list() == [None, None]
        with tf.Session() as sess:
            a, b = sess.run([f, fc], {x: xv})
    np.testing.assert_array_equal(a, xv.reshape(2, -1))
    np.testing.assert_array_equal(b, xv.transpose(0, 2, 3, 1).reshape(2, -1))


# ----------------------------------------------------------------------------------------------------------
# dropout
# ----------------------------------------------------------------------------------------------------------
def test_dropout_layer_training_flag():
    xv = np.ones((50, 40), np.float32)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 40])
        off = tf.layers.dropout(x, rate=0.25)
        on = tf.layers.dropout(x, rate=0.25, training=True, seed=1)
        is_training = tf.placeholder(tf.bool, [])
        switch = tf.layers.dropout(x, rate=0.25, training=is_training, seed=2)
        assert switch.shape.as_list() == [None, 40]
        with tf.Session() as sess:
            v_off, v_on = sess.run([off, on], {x: xv})
            s_train = sess.run(switch, {x: xv, is_training: True})
            s_eval = sess.run(switch, {x: xv, is_training: False})
    np.testing.assert_array_equal(v_off, xv)
    np.testing.assert_array_equal(s_eval, xv)
    for v in (v_on, s_train):
        assert set(np.unique(v).tolist()) == {0.0, np.float32(1 / 0.75)}
        assert abs(np.mean(v == 0) - 0.25) < 0.05


# ----------------------------------------------------------------------------------------------------------
# batch normalization
# ----------------------------------------------------------------------------------------------------------
def test_batch_normalization_variables_and_inference():
    xv = _rand((6, 3), 8, 0, 4)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        y = tf.layers.batch_normalization(x)
        assert _names(tf.global_variables()) == [
            "batch_normalization/gamma:0", "batch_normalization/beta:0", "batch_normalization/moving_mean:0",
            "batch_normalization/moving_variance:0"]
        assert _names(tf.trainable_variables()) == ["batch_normalization/gamma:0", "batch_normalization/beta:0"]
        assert tf.get_collection(tf.GraphKeys.UPDATE_OPS) == []
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            out = sess.run(y, {x: xv})
    # Moving statistics start at mean 0, variance 1.
    np.testing.assert_allclose(out, xv / np.sqrt(1 + 1e-3), rtol=1e-5)


@pytest.mark.parametrize("shape,axis,unbiased", [((8, 3), -1, False), ((4, 3, 3, 2), -1, True),
                                                 ((4, 2, 3, 3), 1, True)])
def test_batch_normalization_training_normalizes_and_updates_moving_stats(shape, axis, unbiased):
    xv = _rand(shape, 9, 0, 4)
    reduce_axes = tuple(a for a in range(len(shape)) if a != axis % len(shape))
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, shape)
        y = tf.layers.batch_normalization(x, axis=axis, training=True, momentum=0.9)
        updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
        assert len(updates) == 2
        layer_vars = tf.global_variables()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            out, _ = sess.run([y, updates], {x: xv})
            moving_mean, moving_var = sess.run(layer_vars[2:])
    mean, var = xv.mean(reduce_axes), xv.var(reduce_axes)
    keep = [1] * len(shape)
    keep[axis] = shape[axis]
    np.testing.assert_allclose(out, (xv - mean.reshape(keep)) / np.sqrt(var.reshape(keep) + 1e-3), rtol=1e-4,
                               atol=1e-5)
    n = xv.size // shape[axis]
    batch_var = var * n / (n - 1) if unbiased else var
    np.testing.assert_allclose(moving_mean, 0.1 * mean, rtol=1e-5)
    np.testing.assert_allclose(moving_var, 0.9 + 0.1 * batch_var, rtol=1e-5)


def test_batch_normalization_with_training_tensor():
    xv = _rand((8, 2), 10, 0, 4)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 2])
        training = tf.placeholder(tf.bool, [])
        y = tf.layers.batch_normalization(x, training=training, momentum=0.5)
        update = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
        moving_mean = tf.global_variables()[2]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            eval_out, _ = sess.run([y, update], {x: xv, training: False})
            np.testing.assert_allclose(sess.run(moving_mean), [0.0, 0.0])
            train_out, _ = sess.run([y, update], {x: xv, training: True})
            np.testing.assert_allclose(sess.run(moving_mean), 0.5 * xv.mean(0), rtol=1e-5)
    np.testing.assert_allclose(eval_out, xv / np.sqrt(1 + 1e-3), rtol=1e-5)
    np.testing.assert_allclose(train_out, (xv - xv.mean(0)) / np.sqrt(xv.var(0) + 1e-3), rtol=1e-4, atol=1e-5)


def test_batch_normalization_errors():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="undefined `axis` dimension"):
            tf.layers.batch_normalization(tf.placeholder(tf.float32, [None, None]))
        with pytest.raises(ValueError):
            tf.layers.batch_normalization(tf.placeholder(tf.float32, [None, 3]), fused=True)


# ----------------------------------------------------------------------------------------------------------
# A small CNN trains
# ----------------------------------------------------------------------------------------------------------
def test_small_cnn_trains_and_is_repeatable():
    rng = np.random.RandomState(0)
    images = rng.uniform(0, 1, size=(32, 8, 8, 1)).astype(np.float32)
    labels = (images[:, :4].mean(axis=(1, 2, 3)) > images[:, 4:].mean(axis=(1, 2, 3))).astype(np.int64)

    def train():
        with tf.Graph().as_default():
            tf.set_random_seed(7)
            x = tf.placeholder(tf.float32, [None, 8, 8, 1])
            y = tf.placeholder(tf.int64, [None])
            training = tf.placeholder_with_default(False, [])
            h = tf.layers.conv2d(x, 4, 3, padding="same", activation=tf.nn.relu)
            h = tf.layers.max_pooling2d(h, 2, 2)
            h = tf.layers.flatten(h)
            h = tf.layers.dropout(h, rate=0.1, training=training)
            logits = tf.layers.dense(h, 2)
            loss = tf.losses.sparse_softmax_cross_entropy(y, logits)
            step = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                first = sess.run(loss, {x: images, y: labels})
                for _ in range(40):
                    sess.run(step, {x: images, y: labels, training: True})
                return first, sess.run(loss, {x: images, y: labels})

    first, last = train()
    assert last < 0.7 * first
    assert train() == (first, last)
