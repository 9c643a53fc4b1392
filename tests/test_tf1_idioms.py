"""Classic TF1 idioms from 2016-2019 tutorials and Q&A answers, written as a TF1 user writes them (only
`import tfmini as tf` differs), each checked against what TensorFlow 1.15 gives: the numbers (recomputed with
NumPy), the names, and the error classes. Model building and training; feeds, fetches and graphs are in
test_tf1_idioms_session.py."""

from __future__ import annotations

import os

import numpy as np
import pytest

import tfmini as tf


def _data(seed, n=32, d=4, classes=3):
    rng = np.random.RandomState(seed)
    return rng.randn(n, d).astype(np.float32), rng.randint(0, classes, n)


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# ----------------------------------------------------------------------------------------------------------
# MNIST-style softmax regression (the "ML beginners" tutorial), checked step by step against NumPy
# ----------------------------------------------------------------------------------------------------------
def test_softmax_regression_tutorial_steps_match_numpy_gradient_descent():
    xs, labels = _data(0, n=20, d=6, classes=4)
    ys = np.eye(4, dtype=np.float32)[labels]

    x = tf.placeholder(tf.float32, [None, 6])
    W = tf.Variable(tf.zeros([6, 4]))
    b = tf.Variable(tf.zeros([4]))
    y = tf.nn.softmax(tf.matmul(x, W) + b)
    y_ = tf.placeholder(tf.float32, [None, 4])
    cross_entropy = tf.reduce_mean(-tf.reduce_sum(y_ * tf.log(y), reduction_indices=[1]))
    train_step = tf.train.GradientDescentOptimizer(0.5).minimize(cross_entropy)
    correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(y_, 1))
    accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))

    assert str(accuracy) == 'Tensor("Mean_1:0", shape=(), dtype=float32)'
    assert correct_prediction.dtype == tf.bool and tf.argmax(y, 1).dtype == tf.int64
    assert train_step.type == "NoOp" and train_step.name == "GradientDescent"

    W_ref, b_ref = np.zeros([6, 4]), np.zeros(4)
    sess = tf.InteractiveSession()
    try:
        tf.global_variables_initializer().run()
        for _ in range(5):
            train_step.run(feed_dict={x: xs, y_: ys})
            p = _softmax(xs @ W_ref + b_ref)
            W_ref -= 0.5 * xs.T @ (p - ys) / len(xs)
            b_ref -= 0.5 * (p - ys).mean(axis=0)
        np.testing.assert_allclose(W.eval(), W_ref, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(b.eval(), b_ref, rtol=1e-4, atol=1e-6)
        expected = np.mean(np.argmax(xs @ W_ref + b_ref, 1) == labels)
        assert accuracy.eval(feed_dict={x: xs, y_: ys}) == pytest.approx(expected)
    finally:
        sess.close()


def test_log_of_a_saturated_softmax_gives_nan_loss_as_in_tf():
    # The tutorial's hand-written cross entropy is not stable: 0 * log(0) is nan, which TF returns silently.
    y = tf.nn.softmax(tf.constant([[1000.0, 0.0]]))
    y_ = tf.constant([[1.0, 0.0]])
    loss = -tf.reduce_sum(y_ * tf.log(y))
    with tf.Session() as sess:
        assert np.isnan(sess.run(loss))
        stable = tf.nn.softmax_cross_entropy_with_logits_v2(labels=y_, logits=tf.constant([[1000.0, 0.0]]))
        assert sess.run(stable)[0] == 0.0


# ----------------------------------------------------------------------------------------------------------
# MLP with tf.layers.dense and dropout
# ----------------------------------------------------------------------------------------------------------
def test_mlp_with_layers_dense_and_dropout_forward_matches_numpy():
    tf.set_random_seed(1)
    xs, labels = _data(1)
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    y = tf.placeholder(tf.int64, [None], name="y")
    training = tf.placeholder_with_default(False, shape=(), name="training")
    h = tf.layers.dense(x, 16, activation=tf.nn.relu, name="h1")
    h_drop = tf.layers.dropout(h, rate=0.5, training=training)
    logits = tf.layers.dense(h_drop, 3, name="logits")
    loss = tf.losses.sparse_softmax_cross_entropy(labels=y, logits=logits)

    assert loss.name == "sparse_softmax_cross_entropy_loss/value:0"
    assert tf.get_collection(tf.GraphKeys.LOSSES) == [loss]
    assert [v.name for v in tf.trainable_variables()] == ["h1/kernel:0", "h1/bias:0", "logits/kernel:0",
                                                          "logits/bias:0"]
    assert str(h) == 'Tensor("h1/Relu:0", shape=(?, 16), dtype=float32)'
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        k1, b1, k2, b2 = sess.run(tf.trainable_variables())
        ref_logits = np.maximum(xs @ k1 + b1, 0) @ k2 + b2
        ref_loss = -np.mean(np.log(_softmax(ref_logits)[np.arange(len(labels)), labels]))
        got_logits, got_loss = sess.run([logits, loss], {x: xs, y: labels})
        np.testing.assert_allclose(got_logits, ref_logits, rtol=1e-5, atol=1e-5)
        assert got_loss == pytest.approx(ref_loss, rel=1e-5)
        # training=True: every unit is dropped (0) or scaled by 1 / (1 - rate)
        hv, hd = sess.run([h, h_drop], {x: xs, training: True})
        kept = hd != 0
        np.testing.assert_allclose(hd[kept], 2 * hv[kept], rtol=1e-6)
        assert 0.3 < kept[hv > 0].mean() < 0.7


def test_nn_dropout_keep_prob_placeholder_fed_one_is_the_identity():
    tf.set_random_seed(2)
    x = tf.placeholder(tf.float32, [None, 5])
    keep_prob = tf.placeholder(tf.float32)
    out = tf.nn.dropout(x, keep_prob)
    xs = np.arange(10, dtype=np.float32).reshape(2, 5)
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(out, {x: xs, keep_prob: 1.0}), xs)
        half = sess.run(out, {x: xs, keep_prob: 0.5})
        assert set(np.unique(half / np.where(xs == 0, 1, xs))) <= {0.0, 2.0}


def test_dropout_argument_errors_match_tf():
    x = tf.ones([4])
    with pytest.raises(ValueError, match="Cannot specify both 'rate' and 'keep_prob'"):
        tf.nn.dropout(x, keep_prob=0.5, rate=0.5)
    with pytest.raises(ValueError, match=r"range \[0, 1\)"):
        tf.nn.dropout(x, rate=1.0)


# ----------------------------------------------------------------------------------------------------------
# CNN with tf.nn.conv2d / max_pool (the "Deep MNIST for experts" helpers)
# ----------------------------------------------------------------------------------------------------------
def _same_pads(n, k, s):
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return out, total // 2, total - total // 2


def _conv_ref(x, w, s, padding):
    _, H, W, _ = x.shape
    kh, kw, _, _ = w.shape
    if padding == "SAME":
        oh, pt, pb = _same_pads(H, kh, s)
        ow, pl, pr = _same_pads(W, kw, s)
        x = np.pad(x, [(0, 0), (pt, pb), (pl, pr), (0, 0)])
    else:
        oh, ow = (H - kh) // s + 1, (W - kw) // s + 1
    out = np.zeros((x.shape[0], oh, ow, w.shape[3]))
    for i in range(oh):
        for j in range(ow):
            out[:, i, j, :] = np.tensordot(x[:, i * s:i * s + kh, j * s:j * s + kw, :], w, axes=([1, 2, 3], [0, 1, 2]))
    return out


def _max_pool_ref(x, k, s, padding):
    _, H, W, _ = x.shape
    if padding == "SAME":
        (oh, pt, _), (ow, pl, _) = _same_pads(H, k, s), _same_pads(W, k, s)
    else:
        oh, ow, pt, pl = (H - k) // s + 1, (W - k) // s + 1, 0, 0
    out = np.zeros((x.shape[0], oh, ow, x.shape[3]))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * s - pt, j * s - pl
            out[:, i, j, :] = x[:, max(r0, 0):r0 + k, max(c0, 0):c0 + k, :].max(axis=(1, 2))
    return out


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("stride", [1, 2])
def test_conv2d_and_max_pool_match_numpy(padding, stride):
    rng = np.random.RandomState(stride)
    xs = rng.randn(2, 7, 6, 3).astype(np.float32)
    ws = rng.randn(3, 2, 3, 4).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 7, 6, 3])
    conv = tf.nn.conv2d(x, ws, strides=[1, stride, stride, 1], padding=padding)
    pool = tf.nn.max_pool(x, ksize=[1, 3, 3, 1], strides=[1, stride, stride, 1], padding=padding)
    with tf.Session() as sess:
        got_conv, got_pool = sess.run([conv, pool], {x: xs})
    ref_conv = _conv_ref(xs.astype(np.float64), ws.astype(np.float64), stride, padding)
    ref_pool = _max_pool_ref(xs, 3, stride, padding)
    assert conv.shape.as_list() == [None, *ref_conv.shape[1:]]
    assert pool.shape.as_list() == [None, *ref_pool.shape[1:]]
    np.testing.assert_allclose(got_conv, ref_conv, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(got_pool, ref_pool)


def test_deep_mnist_helpers_give_the_tutorial_shapes():
    def weight_variable(shape):
        return tf.Variable(tf.truncated_normal(shape, stddev=0.1))

    def bias_variable(shape):
        return tf.Variable(tf.constant(0.1, shape=shape))

    x = tf.placeholder(tf.float32, shape=[None, 784])
    x_image = tf.reshape(x, [-1, 28, 28, 1])
    h_conv1 = tf.nn.relu(tf.nn.conv2d(x_image, weight_variable([5, 5, 1, 32]), strides=[1, 1, 1, 1],
                                      padding="SAME") + bias_variable([32]))
    h_pool1 = tf.nn.max_pool(h_conv1, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
    h_conv2 = tf.nn.relu(tf.nn.conv2d(h_pool1, weight_variable([5, 5, 32, 64]), strides=[1, 1, 1, 1],
                                      padding="SAME") + bias_variable([64]))
    h_pool2 = tf.nn.max_pool(h_conv2, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
    h_flat = tf.reshape(h_pool2, [-1, 7 * 7 * 64])
    assert str(h_conv1) == 'Tensor("Relu:0", shape=(?, 28, 28, 32), dtype=float32)'
    assert str(h_pool1) == 'Tensor("MaxPool:0", shape=(?, 14, 14, 32), dtype=float32)'
    assert h_pool2.shape.as_list() == [None, 7, 7, 64]
    assert h_flat.shape.as_list() == [None, 3136]


def test_valid_windows_wider_than_the_input_fail_at_graph_construction():
    # The classic "too many conv/pool layers for the image size" mistake: TF's shape functions reject it.
    x = tf.placeholder(tf.float32, [None, 4, 4, 2])
    with pytest.raises(ValueError, match=r"Negative dimension size caused by subtracting 5 from 4 for 'Conv2D' "
                                         r"\(op: 'Conv2D'\)"):
        tf.nn.conv2d(x, tf.ones([5, 5, 2, 4]), [1, 1, 1, 1], "VALID")
    with pytest.raises(ValueError, match="Negative dimension size caused by subtracting 5 from 4"):
        tf.layers.conv2d(x, 4, 3, dilation_rate=2)  # a 3x3 kernel dilated by 2 spans 5
    with pytest.raises(ValueError, match="Negative dimension size caused by subtracting 3 from 2 for 'MaxPool_1'"):
        tf.nn.max_pool(tf.nn.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "VALID"), [1, 3, 3, 1], [1, 1, 1, 1], "VALID")
    # a window exactly as wide as the input, SAME padding, or an unknown size are fine
    assert tf.nn.conv2d(x, tf.ones([4, 4, 2, 1]), [1, 1, 1, 1], "VALID").shape.as_list() == [None, 1, 1, 1]
    assert tf.nn.max_pool(x, [1, 5, 5, 1], [1, 1, 1, 1], "SAME").shape.as_list() == [None, 4, 4, 2]
    unknown = tf.placeholder(tf.float32, [None, None, None, 2])
    assert tf.nn.conv2d(unknown, tf.ones([5, 5, 2, 4]), [1, 1, 1, 1], "VALID").shape.as_list() == [None] * 3 + [4]


def test_layers_cnn_shapes_and_variable_names():
    x = tf.placeholder(tf.float32, [None, 8, 8, 1])
    c1 = tf.layers.conv2d(x, 4, 3, padding="same", activation=tf.nn.relu)
    p1 = tf.layers.max_pooling2d(c1, 2, 2)
    c2 = tf.layers.conv2d(p1, filters=8, kernel_size=[3, 3], strides=(2, 2))
    flat = tf.layers.flatten(c2)
    out = tf.layers.dense(flat, 10)
    assert [c1.name, p1.name, c2.name, flat.name, out.name] == [
        "conv2d/Relu:0", "max_pooling2d/MaxPool:0", "conv2d_1/BiasAdd:0", "flatten/Reshape:0", "dense/BiasAdd:0"]
    assert c2.shape.as_list() == [None, 1, 1, 8]
    assert [(v.name, v.shape.as_list()) for v in tf.trainable_variables()] == [
        ("conv2d/kernel:0", [3, 3, 1, 4]), ("conv2d/bias:0", [4]), ("conv2d_1/kernel:0", [3, 3, 4, 8]),
        ("conv2d_1/bias:0", [8]), ("dense/kernel:0", [8, 10]), ("dense/bias:0", [10])]


# ----------------------------------------------------------------------------------------------------------
# tf.variable_scope weight sharing
# ----------------------------------------------------------------------------------------------------------
def _image_filter(input_images):
    with tf.variable_scope("conv1"):
        weights = tf.get_variable("weights", [3, 3, 1, 2], initializer=tf.random_normal_initializer())
        biases = tf.get_variable("biases", [2], initializer=tf.constant_initializer(0.0))
        conv = tf.nn.conv2d(input_images, weights, strides=[1, 1, 1, 1], padding="SAME")
        return tf.nn.relu(conv + biases)


def test_variable_scope_reuse_variables_shares_weights():
    image1 = tf.placeholder(tf.float32, [1, 5, 5, 1])
    image2 = tf.placeholder(tf.float32, [1, 5, 5, 1])
    with tf.variable_scope("image_filters") as scope:
        result1 = _image_filter(image1)
        scope.reuse_variables()
        result2 = _image_filter(image2)
    assert [v.name for v in tf.global_variables()] == ["image_filters/conv1/weights:0",
                                                       "image_filters/conv1/biases:0"]
    assert result1.name == "image_filters/conv1/Relu:0"
    assert result2.name == "image_filters/conv1_1/Relu:0"
    img = np.random.RandomState(0).randn(1, 5, 5, 1).astype(np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        r1, r2 = sess.run([result1, result2], {image1: img, image2: img})
    np.testing.assert_array_equal(r1, r2)


def test_variable_scope_sharing_errors_match_tf():
    image = tf.placeholder(tf.float32, [1, 5, 5, 1])
    with tf.variable_scope("image_filters"):
        _image_filter(image)
    with pytest.raises(ValueError, match=r"Variable image_filters/conv1/weights already exists, disallowed\. "
                                         r"Did you mean to set reuse=True or reuse=tf.AUTO_REUSE in VarScope\?"):
        with tf.variable_scope("image_filters"):
            _image_filter(image)
    with pytest.raises(ValueError, match=r"Variable new/v does not exist, or was not created with "
                                         r"tf.get_variable\(\)"):
        with tf.variable_scope("new", reuse=True):
            tf.get_variable("v", [1])
    with tf.variable_scope("foo"):
        tf.get_variable("q", [1])
    with pytest.raises(ValueError, match=r"Trying to share variable foo/q, but specified shape \(2,\) and found "
                                         r"shape \(1,\)"):
        with tf.variable_scope("foo", reuse=True):
            tf.get_variable("q", [2])
    with pytest.raises(ValueError, match="specified dtype float64 and found dtype float32"):
        with tf.variable_scope("foo", reuse=True):
            tf.get_variable("q", [1], dtype=tf.float64)


def test_variable_scope_names_auto_reuse_and_name_scope_interplay():
    with tf.variable_scope("foo"):
        with tf.variable_scope("bar"):
            v = tf.get_variable("v", [1])
    assert v.name == "foo/bar/v:0"
    with tf.variable_scope("foo", reuse=tf.AUTO_REUSE):
        assert tf.get_variable("w", [1]) is tf.get_variable("w", [1])
    with tf.variable_scope("foo"):
        x = 1.0 + tf.get_variable("q", [1])
    assert x.op.name == "foo_2/add"
    with tf.name_scope("ns"):
        with tf.variable_scope("vs"):
            w = tf.get_variable("w", [1])
            y = 1.0 + w
        plain = tf.Variable(1.0, name="plain")
    assert (w.name, y.op.name, plain.name) == ("vs/w:0", "ns/vs/add", "ns/plain:0")
    with tf.variable_scope("s", reuse=True):
        with tf.variable_scope("inner", reuse=False):
            assert tf.get_variable_scope().reuse is True  # reuse is inherited and cannot be switched off
    assert tf.get_variable_scope().reuse is False


def test_reentering_a_scope_with_reuse_shares_unnamed_layers():
    # Leaving a variable scope resets its sub-scope counters, so re-entering it with reuse=True gives the
    # layers the same default names ("dense", "dense_1") and so the same variables.
    x1 = tf.placeholder(tf.float32, [None, 3])
    x2 = tf.placeholder(tf.float32, [None, 3])

    def model(x):
        return tf.layers.dense(tf.layers.dense(x, 4), 2)

    with tf.variable_scope("model"):
        a = model(x1)
    with tf.variable_scope("model", reuse=True):
        b = model(x2)
    assert [v.name for v in tf.trainable_variables()] == [
        "model/dense/kernel:0", "model/dense/bias:0", "model/dense_1/kernel:0", "model/dense_1/bias:0"]
    assert (a.name, b.name) == ("model/dense_1/BiasAdd:0", "model_1/dense_1/BiasAdd:0")
    # Within one block the counters keep going, so unnamed layers cannot be reused there (as in TF).
    with tf.variable_scope("other") as scope:
        model(x1)
        scope.reuse_variables()
        with pytest.raises(ValueError, match="other/dense_2/kernel does not exist"):
            model(x2)


def test_siamese_layers_with_reuse_argument_and_auto_reuse():
    x1 = tf.placeholder(tf.float32, [None, 3])
    x2 = tf.placeholder(tf.float32, [None, 3])

    def net(x, reuse):
        h = tf.layers.dense(x, 4, activation=tf.nn.relu, name="fc1", reuse=reuse)
        return tf.layers.dense(h, 2, name="fc2", reuse=reuse)

    o1, o2 = net(x1, False), net(x2, True)
    with tf.variable_scope("siamese", reuse=tf.AUTO_REUSE):
        a = tf.layers.dense(x1, 2, name="fc")
    with tf.variable_scope("siamese", reuse=tf.AUTO_REUSE):
        b = tf.layers.dense(x2, 2, name="fc")
    assert (o1.name, o2.name, a.name, b.name) == ("fc2/BiasAdd:0", "fc2_1/BiasAdd:0", "siamese/fc/BiasAdd:0",
                                                  "siamese_1/fc/BiasAdd:0")
    assert len(tf.trainable_variables()) == 6
    xv = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        r1, r2, ra, rb = sess.run([o1, o2, a, b], {x1: xv, x2: xv})
    np.testing.assert_array_equal(r1, r2)
    np.testing.assert_array_equal(ra, rb)


def test_get_variable_initializer_rules():
    tf.set_random_seed(3)
    with tf.variable_scope("s", initializer=tf.constant_initializer(0.4)):
        v = tf.get_variable("v", [1])
        w = tf.get_variable("w", [1], initializer=tf.constant_initializer(0.3))
        with tf.variable_scope("inner"):
            u = tf.get_variable("u", [1])
    from_array = tf.get_variable("arr", initializer=np.array([1.0, 2.0], np.float32))
    from_tensor = tf.get_variable("cst", initializer=tf.constant([[1, 2]]))
    default = tf.get_variable("g", [100, 100])  # glorot_uniform
    ints = tf.get_variable("i", [3], dtype=tf.int32)  # zeros
    assert from_tensor.dtype.name == "int32_ref" and from_tensor.shape.as_list() == [1, 2]
    with pytest.raises(ValueError, match="If initializer is a constant, do not specify shape."):
        tf.get_variable("bad", [2], initializer=tf.constant([1.0, 2.0]))
    with pytest.raises(ValueError, match="The initializer passed is not valid"):
        tf.get_variable("noshape")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run([v, w, u]) == [0.4, 0.3, 0.4]
        np.testing.assert_array_equal(sess.run(from_array), [1.0, 2.0])
        g = sess.run(default)
        limit = np.sqrt(6 / 200)
        assert -limit <= g.min() < -0.9 * limit and 0.9 * limit < g.max() <= limit
        np.testing.assert_array_equal(sess.run(ints), [0, 0, 0])


# ----------------------------------------------------------------------------------------------------------
# tf.train.Saver
# ----------------------------------------------------------------------------------------------------------
def test_saver_save_and_restore_tutorial(tmp_path):
    prefix = str(tmp_path / "model.ckpt")
    v1 = tf.get_variable("v1", shape=[3], initializer=tf.zeros_initializer)
    v2 = tf.get_variable("v2", shape=[5], initializer=tf.zeros_initializer)
    inc_v1 = v1.assign(v1 + 1)
    dec_v2 = v2.assign(v2 - 1)
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        inc_v1.op.run()
        dec_v2.op.run()
        assert saver.save(sess, prefix) == prefix
        assert saver.save(sess, prefix, global_step=1000) == prefix + "-1000"
    assert tf.train.latest_checkpoint(str(tmp_path)) == prefix + "-1000"
    assert sorted(tf.train.list_variables(str(tmp_path))) == [("v1", [3]), ("v2", [5])]

    tf.reset_default_graph()
    v1 = tf.get_variable("v1", shape=[3])
    v2 = tf.get_variable("v2", shape=[5])
    with tf.Session() as sess:
        tf.train.Saver().restore(sess, prefix)
        np.testing.assert_array_equal(v1.eval(), [1, 1, 1])
        np.testing.assert_array_equal(v2.eval(), [-1] * 5)

    tf.reset_default_graph()
    v2 = tf.get_variable("v2", [5], initializer=tf.zeros_initializer)
    v1 = tf.get_variable("v1", [3], initializer=tf.zeros_initializer)
    with tf.Session() as sess:
        v1.initializer.run()
        tf.train.Saver({"v2": v2}).restore(sess, prefix)
        np.testing.assert_array_equal(v1.eval(), [0, 0, 0])
        np.testing.assert_array_equal(v2.eval(), [-1] * 5)


def test_saver_errors_match_tf(tmp_path):
    with pytest.raises(ValueError, match="No variables to save"):
        tf.train.Saver()
    w = tf.Variable([1.0, 2.0], name="w")
    with pytest.raises(ValueError, match="At least two variables have the same name: w"):
        tf.train.Saver([w, w])
    with pytest.raises(TypeError, match="Variable to save is not a Variable"):
        tf.train.Saver({"a": w, "b": 3})
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(w.initializer)
        with pytest.raises(ValueError, match="Parent directory of .* doesn't exist, can't save."):
            saver.save(sess, str(tmp_path / "missing" / "deeper" / "model.ckpt"))
        with pytest.raises(ValueError, match="The passed save_path is not a valid checkpoint"):
            saver.restore(sess, str(tmp_path / "nothing.ckpt"))
        with pytest.raises(ValueError, match="Can't load save_path when it is None."):
            saver.restore(sess, None)
        saver.save(sess, str(tmp_path / "only_w"))
    tf.reset_default_graph()
    tf.Variable(0.0, name="other")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.NotFoundError, match="Restoring from checkpoint failed"):
            tf.train.Saver().restore(sess, str(tmp_path / "only_w"))


def test_saver_max_to_keep_and_checkpoint_state(tmp_path):
    w = tf.Variable([1.0, 2.0], name="w")
    step = tf.assign_add(w, [1.0, 1.0])
    saver = tf.train.Saver(max_to_keep=2)
    prefix = str(tmp_path / "m")
    with tf.Session() as sess:
        sess.run(w.initializer)
        for i in range(4):
            sess.run(step)
            saver.save(sess, prefix, global_step=i)
    assert saver.last_checkpoints == [prefix + "-2", prefix + "-3"]
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert state.model_checkpoint_path == prefix + "-3"
    assert list(state.all_model_checkpoint_paths) == [prefix + "-2", prefix + "-3"]
    assert not tf.train.checkpoint_exists(prefix + "-1") and tf.train.checkpoint_exists(prefix + "-2")
    reader = tf.train.NewCheckpointReader(prefix + "-3")
    assert reader.get_variable_to_shape_map() == {"w": [2]}
    np.testing.assert_array_equal(reader.get_tensor("w"), [5.0, 6.0])
    assert tf.train.latest_checkpoint(str(tmp_path / "nowhere")) is None


def _resumable_model():
    tf.reset_default_graph()
    tf.set_random_seed(3)
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.placeholder(tf.float32, [None, 1])
    loss = tf.losses.mean_squared_error(y, tf.layers.dense(x, 1))
    global_step = tf.train.get_or_create_global_step()
    lr = tf.train.exponential_decay(0.1, global_step, 5, 0.5)
    train = tf.train.AdamOptimizer(lr).minimize(loss, global_step=global_step)
    return x, y, loss, train, global_step


def test_restored_adam_training_continues_exactly(tmp_path):
    rng = np.random.RandomState(0)
    xs = rng.randn(32, 3).astype(np.float32)
    ys = (xs @ [[1.0], [2.0], [3.0]]).astype(np.float32)
    x, y, loss, train, global_step = _resumable_model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(5):
            sess.run(train, {x: xs, y: ys})
        tf.train.Saver().save(sess, str(tmp_path / "model"), global_step=global_step)
        expected = [sess.run([train, loss], {x: xs, y: ys})[1] for _ in range(5)]
    x, y, loss, train, global_step = _resumable_model()
    with tf.Session() as sess:
        tf.train.Saver().restore(sess, tf.train.latest_checkpoint(str(tmp_path)))
        assert sess.run(global_step) == 5
        resumed = [sess.run([train, loss], {x: xs, y: ys})[1] for _ in range(5)]
    assert resumed == expected
    assert os.path.basename(tf.train.latest_checkpoint(str(tmp_path))) == "model-5"


# ----------------------------------------------------------------------------------------------------------
# Learning-rate decay and the global step
# ----------------------------------------------------------------------------------------------------------
def test_exponential_decay_with_global_step_matches_numpy():
    global_step = tf.Variable(0, trainable=False)
    learning_rate = tf.train.exponential_decay(0.1, global_step, 10, 0.96, staircase=True)
    w = tf.Variable(1.0)
    train = tf.train.GradientDescentOptimizer(learning_rate).minimize(tf.square(w), global_step=global_step)
    assert learning_rate.name == "ExponentialDecay:0"
    # with a global step the train op is the AssignAdd that increments it, named after the optimizer
    assert (train.type, train.name) == ("AssignAdd", "GradientDescent")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(25):
            sess.run(train)
        step, lr, wv = sess.run([global_step, learning_rate, w])
        assert tf.train.global_step(sess, global_step) == 25
    ref = np.float32(1.0)
    for i in range(25):
        ref = ref - np.float32(0.1 * 0.96 ** (i // 10)) * 2 * ref
    assert step == 25 and lr == pytest.approx(0.1 * 0.96 ** 2)
    assert wv == pytest.approx(ref, rel=1e-5)


def test_get_or_create_global_step_and_other_schedules():
    tf.Variable(0, trainable=False)  # a plain Variable is not the global step
    gs = tf.train.get_or_create_global_step()
    assert (gs.name, gs.dtype.name) == ("global_step:0", "int64_ref")
    assert tf.get_collection(tf.GraphKeys.GLOBAL_STEP) == [gs]
    assert tf.train.get_or_create_global_step() is gs and tf.train.get_global_step() is gs
    piecewise = tf.train.piecewise_constant(gs, [10, 20], [1.0, 0.5, 0.1])
    poly = tf.train.polynomial_decay(0.1, gs, 100, 0.01, power=0.5)
    inverse = tf.train.inverse_time_decay(0.1, gs, 10, 0.5)
    natural = tf.train.natural_exp_decay(0.1, gs, 10, 0.5)
    cosine = tf.train.cosine_decay(0.1, gs, 40)
    inc = tf.assign_add(gs, 5)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(6):
            s = sess.run(gs)
            got = sess.run([piecewise, poly, inverse, natural, cosine])
            ref = [1.0 if s <= 10 else 0.5 if s <= 20 else 0.1, 0.09 * np.sqrt(1 - s / 100) + 0.01,
                   0.1 / (1 + 0.5 * s / 10), 0.1 * np.exp(-0.5 * s / 10), 0.05 * (1 + np.cos(np.pi * min(s, 40) / 40))]
            np.testing.assert_allclose(got, ref, rtol=1e-5)
            sess.run(inc)


# ----------------------------------------------------------------------------------------------------------
# Optimizers: one update rule each, checked against NumPy (hyperparameters pass through float32 as in TF)
# ----------------------------------------------------------------------------------------------------------
_TARGET = np.array([1.0, -2.0, 0.5])
_SCALE = np.array([1.0, 2.0, 3.0])
_W0 = np.array([0.3, 0.2, -0.1])


def _grad(w):
    return 2 * (w - _TARGET) * _SCALE


def _f32(v):
    return float(np.float32(v))


def _rmsprop_ref(lr, decay=0.9, momentum=0.0, eps=1e-10, centered=False):
    lr, decay, momentum, eps = map(_f32, (lr, decay, momentum, eps))
    w, ms, mom, mg = _W0.copy(), np.ones(3), np.zeros(3), np.zeros(3)  # TF1 starts the mean square at 1
    for _ in range(5):
        g = _grad(w)
        ms = decay * ms + (1 - decay) * g * g
        mg = decay * mg + (1 - decay) * g
        mom = momentum * mom + lr * g / np.sqrt((ms - mg * mg if centered else ms) + eps)
        w = w - mom
    return w


def _adam_ref(lr, b1=0.9, b2=0.999, eps=1e-8):
    # beta1_power / beta2_power are float32 variables, whatever the dtype of the variable trained
    w, m, v = _W0.copy(), np.zeros(3), np.zeros(3)
    b1p, b2p = np.float32(b1), np.float32(b2)
    for _ in range(5):
        g = _grad(w)
        lr_t = _f32(lr) * np.sqrt(1 - float(b2p)) / (1 - float(b1p))
        m = _f32(b1) * m + (1 - _f32(b1)) * g
        v = _f32(b2) * v + (1 - _f32(b2)) * g * g
        w = w - lr_t * m / (np.sqrt(v) + _f32(eps))
        b1p, b2p = np.float32(b1p * np.float32(b1)), np.float32(b2p * np.float32(b2))
    return w


def _momentum_ref(lr, momentum, nesterov=False):
    lr, momentum = _f32(lr), _f32(momentum)
    w, acc = _W0.copy(), np.zeros(3)
    for _ in range(5):
        g = _grad(w)
        acc = acc * momentum + g
        w = w - (lr * g + lr * momentum * acc if nesterov else lr * acc)
    return w


def _adagrad_ref(lr, init=0.1):
    w, acc = _W0.copy(), np.full(3, init)  # the accumulator starts in the variable's dtype
    for _ in range(5):
        g = _grad(w)
        acc = acc + g * g
        w = w - _f32(lr) * g / np.sqrt(acc)
    return w


def _adadelta_ref(lr, rho=0.95, eps=1e-8):
    lr, rho, eps = map(_f32, (lr, rho, eps))
    w, acc, upd = _W0.copy(), np.zeros(3), np.zeros(3)
    for _ in range(5):
        g = _grad(w)
        acc = rho * acc + (1 - rho) * g * g
        u = np.sqrt(upd + eps) / np.sqrt(acc + eps) * g
        upd = rho * upd + (1 - rho) * u * u
        w = w - lr * u
    return w


@pytest.mark.parametrize("make_optimizer, reference, slots", [
    (lambda: tf.train.RMSPropOptimizer(0.01), _rmsprop_ref(0.01), ["RMSProp", "RMSProp_1"]),
    (lambda: tf.train.RMSPropOptimizer(0.01, momentum=0.5), _rmsprop_ref(0.01, momentum=0.5),
     ["RMSProp", "RMSProp_1"]),
    (lambda: tf.train.RMSPropOptimizer(0.01, centered=True), _rmsprop_ref(0.01, centered=True),
     ["RMSProp", "RMSProp_1", "RMSProp_2"]),
    (lambda: tf.train.AdamOptimizer(), _adam_ref(0.001), ["Adam", "Adam_1"]),
    (lambda: tf.train.AdamOptimizer(0.1, epsilon=1e-4), _adam_ref(0.1, eps=1e-4), ["Adam", "Adam_1"]),
    (lambda: tf.train.MomentumOptimizer(0.01, 0.9), _momentum_ref(0.01, 0.9), ["Momentum"]),
    (lambda: tf.train.MomentumOptimizer(0.01, 0.9, use_nesterov=True), _momentum_ref(0.01, 0.9, True),
     ["Momentum"]),
    (lambda: tf.train.AdagradOptimizer(0.1), _adagrad_ref(0.1), ["Adagrad"]),
    (lambda: tf.train.AdadeltaOptimizer(1.0), _adadelta_ref(1.0), ["Adadelta", "Adadelta_1"]),
])
def test_optimizer_update_rules_match_numpy(make_optimizer, reference, slots):
    w = tf.Variable(_W0, name="w")
    loss = tf.reduce_sum(tf.square(w - _TARGET) * _SCALE)
    train = make_optimizer().minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(5):
            sess.run(train)
        np.testing.assert_allclose(sess.run(w), reference, rtol=1e-12, atol=1e-14)
    names = [v.op.name for v in tf.global_variables() if v.op.name.startswith("w/")]
    assert names == ["w/" + s for s in slots]


def test_compute_gradients_clip_by_global_norm_apply_gradients():
    tf.set_random_seed(0)  # W's initial value decides how far Adam's first step is from lr * sign(gradient)
    rng = np.random.RandomState(0)
    xs = rng.randn(16, 3).astype(np.float32)
    ys = 10 * rng.randn(16, 1).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.placeholder(tf.float32, [None, 1])
    W = tf.get_variable("W", [3, 1])
    b = tf.get_variable("b", [1], initializer=tf.zeros_initializer())
    loss = tf.reduce_mean(tf.square(tf.matmul(x, W) + b - y))
    optimizer = tf.train.AdamOptimizer(learning_rate=0.01)
    gradients, variables = zip(*optimizer.compute_gradients(loss))
    clipped, global_norm = tf.clip_by_global_norm(gradients, 1.0)
    train_op = optimizer.apply_gradients(zip(clipped, variables))
    assert variables == (W, b)
    assert [v.name for v in tf.global_variables()] == ["W:0", "b:0", "beta1_power:0", "beta2_power:0",
                                                       "W/Adam:0", "W/Adam_1:0", "b/Adam:0", "b/Adam_1:0"]
    assert optimizer.get_slot_names() == ["m", "v"] and optimizer.get_slot(W, "m").name == "W/Adam:0"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        Wv, bv = sess.run([W, b])
        err = xs @ Wv + bv - ys
        g_ref = [2 * xs.T @ err / len(xs), 2 * err.mean(axis=0)]
        norm_ref = np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in g_ref))
        got_norm, got_clipped = sess.run([global_norm, list(clipped)], {x: xs, y: ys})
        assert norm_ref > 1 and got_norm == pytest.approx(norm_ref, rel=1e-5)
        for c, g in zip(got_clipped, g_ref):
            np.testing.assert_allclose(c, g / norm_ref, rtol=1e-4)
        sess.run(train_op, {x: xs, y: ys})
        # Adam's first step moves each weight by lr * sign(gradient) (up to epsilon)
        np.testing.assert_allclose(sess.run(W), Wv - 0.01 * np.sign(g_ref[0]), atol=1e-6)


def test_optimizer_errors_match_tf():
    x = tf.Variable(3.0)
    y = tf.Variable(2.0)
    z = tf.Variable(1.0)
    f = x * x * y
    opt = tf.train.GradientDescentOptimizer(0.1)
    with pytest.raises(ValueError, match="No gradients provided for any variable, check your graph for ops that "
                                         "do not support gradients"):
        opt.minimize(f, var_list=[z])
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        opt.apply_gradients([(None, x)])
    with pytest.raises(ValueError, match="No variables provided."):
        opt.apply_gradients([])
    with pytest.raises(ValueError, match=r"Invalid type tf.int32 for Cast:0, expected: \[tf.bfloat16, tf.float16, "
                                         r"tf.float32, tf.float64\]."):
        opt.minimize(tf.cast(x, tf.int32))
    grads_and_vars = opt.compute_gradients(f, var_list=[x, z])
    assert grads_and_vars[1] == (None, z)


# ----------------------------------------------------------------------------------------------------------
# tf.gradients conventions
# ----------------------------------------------------------------------------------------------------------
def test_gradients_conventions_match_tf(sess):
    x = tf.Variable(3.0)
    y = tf.Variable(2.0)
    z = tf.Variable(1.0)
    f = x * x * y
    sess.run(tf.global_variables_initializer())
    assert sess.run(tf.gradients(f, [x, y])) == [12.0, 9.0]
    assert tf.gradients(f, [x, z])[1] is None
    assert sess.run(tf.gradients(f, [x, z], unconnected_gradients="zero")) == [12.0, 0.0]
    assert sess.run(tf.gradients(f, x, grad_ys=2.0)) == [24.0]
    assert tf.gradients(tf.stop_gradient(x) * y, [x, y])[0] is None
    assert sess.run(tf.gradients([f, x], x)) == [13.0]
    assert sess.run(tf.hessians(f, x)) == [4.0]
    with pytest.raises(TypeError, match="Fetch argument None has invalid type"):
        sess.run(tf.gradients(tf.stop_gradient(x) * y, [x, y]))
    c = tf.constant([2.0, 2.0, 1.0])
    np.testing.assert_array_equal(sess.run(tf.gradients(tf.reduce_max(c), c))[0], [0.5, 0.5, 0.0])  # ties share
    np.testing.assert_array_equal(sess.run(tf.gradients(tf.maximum(c, 2.0), c))[0], [1, 1, 0])  # x >= y
    np.testing.assert_array_equal(sess.run(tf.gradients(tf.minimum(c, 2.0), c))[0], [1, 1, 1])  # x <= y
    a = tf.constant([0.0, 1.0, -1.0])
    np.testing.assert_array_equal(sess.run(tf.gradients(tf.nn.relu(a), a))[0], [0, 1, 0])
    np.testing.assert_array_equal(sess.run(tf.gradients(tf.abs(a), a))[0], [0, 1, -1])


# ----------------------------------------------------------------------------------------------------------
# tf.cond and tf.while_loop
# ----------------------------------------------------------------------------------------------------------
def test_cond_and_while_loop_reference_examples(sess):
    x, y = tf.constant(2), tf.constant(5)
    r = tf.cond(tf.less(x, y), lambda: tf.multiply(x, 17), lambda: tf.add(y, 23))
    i = tf.constant(0)
    r2 = tf.while_loop(lambda i: tf.less(i, 10), lambda i: tf.add(i, 1), [i])
    r3 = tf.while_loop(lambda i, m: i < 10, lambda i, m: [i + 1, tf.matmul(m, m) / 2.0], [i, tf.ones([2, 2])])
    m0 = tf.ones([2, 2])
    r4 = tf.while_loop(lambda i, m: i < 10, lambda i, m: [i + 1, tf.concat([m, m], axis=0)], [i, m0],
                       shape_invariants=[i.get_shape(), tf.TensorShape([None, 2])])
    assert isinstance(r2, tf.Tensor) and isinstance(r3, list)
    assert r4[1].shape.as_list() == [None, 2]
    assert sess.run([r, r2]) == [34, 10]
    assert sess.run(r3)[0] == 10
    np.testing.assert_array_equal(sess.run(r3)[1], np.ones([2, 2]))
    assert sess.run(r4)[1].shape == (2048, 2)


def test_while_loop_factorial_maximum_iterations_and_structures(sess):
    n = tf.placeholder(tf.int32, [])
    _, fact = tf.while_loop(lambda k, acc: k <= n, lambda k, acc: (k + 1, acc * tf.cast(k, tf.float32)),
                            (tf.constant(1), tf.constant(1.0)))
    assert sess.run(fact, {n: 5}) == 120.0
    i = tf.constant(0)
    assert sess.run(tf.while_loop(lambda i: i < 100, lambda i: i + 1, [i], maximum_iterations=7)) == 7
    assert sess.run(tf.while_loop(lambda i: i < 10, lambda i: i + 1, [i], return_same_structure=True)) == [10]
    assert sess.run(tf.while_loop(lambda i: i < 5, lambda i: i + 1, [0])) == 5
    out = sess.run(tf.while_loop(lambda i, d: i < 3, lambda i, d: (i + 1, {"a": d["a"] * 2}),
                                 (i, {"a": tf.constant(1.0)})))
    assert out == (3, {"a": 8.0})


def test_while_loop_and_cond_errors_match_tf():
    i, m = tf.constant(0), tf.ones([2, 2])
    with pytest.raises(ValueError, match=r"enters the loop with shape \(2, 2\), but has shape \(4, 2\) after one "
                                         r"iteration"):
        tf.while_loop(lambda i, m: i < 3, lambda i, m: [i + 1, tf.concat([m, m], 0)], [i, m])
    with pytest.raises(TypeError, match="Expected int32, got 1.0 of type 'float' instead."):
        tf.while_loop(lambda i: i < 3, lambda i: i + 1.0, [i])
    with pytest.raises(ValueError, match="don't have the same nested structure"):
        tf.while_loop(lambda i: i < 3, lambda i: [i + 1, i], [i])
    p = tf.placeholder(tf.bool)
    with pytest.raises(TypeError, match="pred must not be a Python bool"):
        tf.cond(True, lambda: tf.constant(1), lambda: tf.constant(2))
    with pytest.raises(TypeError, match="true_fn must be callable."):
        tf.cond(p, 1, 2)
    with pytest.raises(ValueError, match="true_fn must have a return value."):
        tf.cond(p, lambda: None, lambda: None)
    with pytest.raises(ValueError, match="Outputs of true_fn and false_fn must have the same type: float32, int32"):
        tf.cond(p, lambda: tf.constant(1.0), lambda: tf.constant(1))
    with pytest.raises(ValueError, match="don't have the same nested structure"):
        tf.cond(p, lambda: tf.constant(1.0), lambda: (tf.constant(1.0), tf.constant(2.0)))


def test_side_effects_run_only_in_the_taken_branch_and_each_iteration(sess):
    v = tf.Variable(0.0)

    def body(k):
        with tf.control_dependencies([tf.assign_add(v, 1.0)]):
            return k + 1

    loop = tf.while_loop(lambda k: k < 4, body, [0])
    p = tf.placeholder(tf.bool)
    c = tf.cond(p, lambda: tf.assign_add(v, 10.0), lambda: tf.identity(v))
    sess.run(v.initializer)
    assert sess.run(loop) == 4 and sess.run(v) == 4.0
    assert sess.run(c, {p: False}) == 4.0
    assert sess.run(c, {p: True}) == 14.0 and sess.run(v) == 14.0
    # tf.cond with single-element lists returns the element; tf.case picks the first true predicate
    assert sess.run(tf.cond(p, lambda: [tf.constant(1)], lambda: [tf.constant(2)]), {p: True}) == 1
    assert sess.run(tf.case([(p, lambda: tf.constant(1))], default=lambda: tf.constant(2)), {p: False}) == 2


def test_gradient_through_while_loop_matches_calculus(sess):
    xv = tf.Variable(2.0)
    _, out = tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * xv), (0, tf.constant(1.0)))
    grad = tf.gradients(out, xv)
    sess.run(xv.initializer)
    assert sess.run([out, grad]) == [8.0, [12.0]]


# ----------------------------------------------------------------------------------------------------------
# Embeddings, one_hot, argmax accuracy
# ----------------------------------------------------------------------------------------------------------
def test_embedding_lookup_and_its_sparse_gradient_update(sess):
    emb0 = np.arange(30, dtype=np.float32).reshape(10, 3) / 10
    emb = tf.Variable(emb0, name="emb")
    ids = tf.placeholder(tf.int32, [None, None])
    e = tf.nn.embedding_lookup(emb, ids)
    loss = tf.reduce_sum(tf.square(tf.reduce_mean(e, axis=1)))
    opt = tf.train.GradientDescentOptimizer(0.1)
    (grad, var), = opt.compute_gradients(loss)
    train = opt.apply_gradients([(grad, var)])
    assert str(e) == 'Tensor("embedding_lookup:0", shape=(?, ?, 3), dtype=float32)'
    assert isinstance(grad, tf.IndexedSlices) and var is emb
    idv = np.array([[1, 2, 2], [3, 3, 9]])
    sess.run(emb.initializer)
    np.testing.assert_array_equal(sess.run(e, {ids: idv}), emb0[idv])
    g = sess.run(grad, {ids: idv})
    dense = np.zeros_like(emb0)
    np.add.at(dense, g.indices, g.values)
    mean = emb0[idv].mean(axis=1)
    ref = np.zeros_like(emb0)
    for row, words in enumerate(idv):
        for w in words:
            ref[w] += 2 * mean[row] / 3
    np.testing.assert_allclose(dense, ref, rtol=1e-5)
    sess.run(train, {ids: idv})
    np.testing.assert_allclose(sess.run(emb), emb0 - 0.1 * ref, rtol=1e-5)
    parts = sess.run(tf.nn.embedding_lookup([emb[:5], emb[5:]], [1, 6, 7], partition_strategy="div"))
    np.testing.assert_allclose(parts, sess.run(emb)[[1, 6, 7]])


def test_one_hot_and_argmax(sess):
    np.testing.assert_array_equal(sess.run(tf.one_hot([0, 2, -1, 1], 3)),
                                  [[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 1, 0]])
    oh = tf.one_hot(tf.constant([[0, 2], [1, -1]]), depth=3, on_value=5.0, off_value=0.0, axis=-1)
    np.testing.assert_array_equal(sess.run(oh), 5 * np.array([[[1, 0, 0], [0, 0, 1]], [[0, 1, 0], [0, 0, 0]]]))
    axis0 = tf.one_hot([1, 2], 3, axis=0, dtype=tf.int32)
    assert axis0.dtype == tf.int32
    np.testing.assert_array_equal(sess.run(axis0), [[0, 0], [1, 0], [0, 1]])
    m = [[1, 5, 3], [7, 0, 7]]
    np.testing.assert_array_equal(sess.run(tf.argmax(m, axis=1)), [1, 0])  # ties: the first
    np.testing.assert_array_equal(sess.run(tf.argmax(m, 0)), [1, 0, 1])
    np.testing.assert_array_equal(sess.run(tf.argmax(m, dimension=1)), [1, 0])
    assert tf.argmax(m, 1, output_type=tf.int32).dtype == tf.int32
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Reduction axis 0 is empty in shape \[0\]"):
        sess.run(tf.argmax(tf.zeros([0])))


def test_top_k_results_fetch_as_tf_namedtuple_and_in_top_k_accuracy(sess):
    logits = tf.constant([[0.1, 0.7, 0.2], [0.5, 0.1, 0.4]])
    values, indices = tf.nn.top_k(logits, k=2)
    assert values.name == "TopKV2:0" and indices.dtype == tf.int32
    result = sess.run(tf.nn.top_k(logits, k=2))
    assert type(result).__name__ == "TopKV2"
    np.testing.assert_allclose(result.values, [[0.7, 0.2], [0.5, 0.4]])
    np.testing.assert_array_equal(result.indices, [[1, 2], [0, 2]])
    top1 = tf.reduce_mean(tf.cast(tf.nn.in_top_k(logits, [2, 0], 1), tf.float32))
    top2 = tf.reduce_mean(tf.cast(tf.nn.in_top_k(logits, [2, 0], 2), tf.float32))
    assert sess.run([top1, top2]) == [0.5, 1.0]


# ----------------------------------------------------------------------------------------------------------
# Collections
# ----------------------------------------------------------------------------------------------------------
def test_collections_of_a_typical_training_graph():
    x = tf.placeholder(tf.float32, [None, 4])
    h = tf.layers.dense(x, 3, kernel_regularizer=lambda w: 0.1 * tf.nn.l2_loss(w), name="reg")
    counter = tf.Variable(0, trainable=False, name="counter")
    local = tf.Variable(5, name="local", trainable=False, collections=[tf.GraphKeys.LOCAL_VARIABLES])
    loss = tf.losses.mean_squared_error(tf.zeros_like(h), h)
    tf.train.AdamOptimizer().minimize(loss + tf.losses.get_regularization_loss())
    assert tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES) == tf.trainable_variables()
    assert [v.name for v in tf.trainable_variables()] == ["reg/kernel:0", "reg/bias:0"]
    assert counter in tf.global_variables() and counter not in tf.trainable_variables()
    assert tf.local_variables() == [local] and local not in tf.global_variables()
    assert [t.name for t in tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)] == [
        "reg/kernel/Regularizer/mul:0"]
    assert tf.get_collection(tf.GraphKeys.LOSSES) == [loss]
    assert tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, scope="reg/k") == [tf.trainable_variables()[0]]
    with tf.Session() as sess:
        sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
        assert sess.run(tf.report_uninitialized_variables()).size == 0
        kernel = sess.run(tf.trainable_variables()[0])
        total = sess.run(tf.losses.get_total_loss(), {x: np.ones([2, 4], np.float32)})
        assert total == pytest.approx(sess.run(loss, {x: np.ones([2, 4], np.float32)})
                                      + 0.05 * np.sum(kernel ** 2), rel=1e-5)


# ----------------------------------------------------------------------------------------------------------
# Batch norm with UPDATE_OPS control dependencies
# ----------------------------------------------------------------------------------------------------------
def test_batch_norm_update_ops_idiom_updates_moving_statistics():
    rng = np.random.RandomState(0)
    xs = (3 * rng.randn(8, 4) + 1).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 4])
    is_training = tf.placeholder(tf.bool, [])
    bn = tf.layers.batch_normalization(x, training=is_training, momentum=0.9)
    loss = tf.reduce_mean(tf.square(bn))
    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    with tf.control_dependencies(update_ops):
        train_op = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
    assert len(update_ops) == 2
    assert [v.name for v in tf.global_variables()] == [
        "batch_normalization/gamma:0", "batch_normalization/beta:0", "batch_normalization/moving_mean:0",
        "batch_normalization/moving_variance:0"]
    assert [v.name for v in tf.trainable_variables()] == ["batch_normalization/gamma:0",
                                                          "batch_normalization/beta:0"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out = sess.run(bn, {x: xs, is_training: True})
        np.testing.assert_allclose(out, (xs - xs.mean(0)) / np.sqrt(xs.var(0) + 1e-3), atol=1e-5)
        sess.run(train_op, {x: xs, is_training: True})
        mean, var = sess.run(tf.global_variables()[2:])
        np.testing.assert_allclose(mean, 0.1 * xs.mean(0), rtol=1e-5)
        np.testing.assert_allclose(var, 0.9 + 0.1 * xs.var(0), rtol=1e-5)  # 2-D input: biased batch variance
        gamma, beta = sess.run(tf.trainable_variables())
        inference = sess.run(bn, {x: xs, is_training: False})
        np.testing.assert_allclose(inference, gamma * (xs - mean) / np.sqrt(var + 1e-3) + beta, atol=1e-5)


def test_fused_batch_norm_on_images_updates_with_the_unbiased_variance():
    xs = np.random.RandomState(1).randn(2, 2, 2, 3).astype(np.float32)
    bn = tf.layers.batch_normalization(tf.constant(xs), training=True, momentum=0.5)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(tf.get_collection(tf.GraphKeys.UPDATE_OPS))
        _, var = sess.run(tf.global_variables()[2:])
        out = sess.run(bn)
    flat = xs.reshape(-1, 3)
    np.testing.assert_allclose(var, 0.5 + 0.5 * flat.var(0, ddof=1), rtol=1e-5)
    np.testing.assert_allclose(out.reshape(-1, 3), (flat - flat.mean(0)) / np.sqrt(flat.var(0) + 1e-3), atol=1e-5)


def test_moments_and_batch_normalization_by_hand(sess):
    x = tf.constant(np.arange(12, dtype=np.float32).reshape(3, 4))
    mean, var = tf.nn.moments(x, axes=[0])
    y = tf.nn.batch_normalization(x, mean, var, offset=None, scale=None, variance_epsilon=1e-3)
    ref = np.arange(12, dtype=np.float64).reshape(3, 4)
    np.testing.assert_allclose(sess.run(mean), ref.mean(0))
    np.testing.assert_allclose(sess.run(var), ref.var(0), rtol=1e-6)
    np.testing.assert_allclose(sess.run(y), (ref - ref.mean(0)) / np.sqrt(ref.var(0) + 1e-3), rtol=1e-5)
    kept = tf.nn.moments(x, [0, 1], keep_dims=True)
    assert [t.shape.as_list() for t in kept] == [[1, 1], [1, 1]]


def test_exponential_moving_average_of_trained_weights():
    w = tf.Variable(1.0, name="w")
    train = tf.train.GradientDescentOptimizer(0.1).minimize(tf.square(w))
    ema = tf.train.ExponentialMovingAverage(decay=0.5)
    with tf.control_dependencies([train]):
        training_op = ema.apply(tf.trainable_variables())
    assert ema.average(w).name == "w/ExponentialMovingAverage:0"
    assert ema.average_name(w) == "w/ExponentialMovingAverage"
    assert ema.variables_to_restore() == {"w/ExponentialMovingAverage": w}
    assert tf.moving_average_variables() == [w]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(training_op)
        sess.run(training_op)
        assert sess.run([w, ema.average(w)]) == pytest.approx([0.64, 0.77])  # w: 1, .8, .64; ema: 1, .9, .77


def test_ema_num_updates_caps_the_decay():
    w = tf.Variable(1.0)
    ema = tf.train.ExponentialMovingAverage(0.9, num_updates=tf.Variable(0, trainable=False))
    maintain = ema.apply([w])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        ref = 1.0
        for k in range(3):
            sess.run(tf.assign_add(w, 1.0))
            sess.run(maintain)
            ref -= (1 - min(0.9, 1 / 10)) * (ref - (2.0 + k))
        assert sess.run(ema.average(w)) == pytest.approx(ref)


# ----------------------------------------------------------------------------------------------------------
# tf.losses reductions and weights
# ----------------------------------------------------------------------------------------------------------
def test_losses_weights_and_reductions_match_numpy(sess):
    labels = tf.constant([0, 1, 2])
    z = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 1.0, 1.0]])
    logits = tf.constant(z, tf.float32)
    weights = tf.constant([1.0, 0.0, 2.0])
    ce = -np.log(_softmax(z)[np.arange(3), [0, 1, 2]])
    weighted = ce * [1, 0, 2]
    R = tf.losses.Reduction

    def loss(**kwargs):
        return sess.run(tf.losses.sparse_softmax_cross_entropy(labels, logits, **kwargs))

    assert loss(weights=weights) == pytest.approx(weighted.sum() / 2, rel=1e-6)  # SUM_BY_NONZERO_WEIGHTS
    assert loss(weights=weights, reduction=R.MEAN) == pytest.approx(weighted.sum() / 3, rel=1e-6)
    assert loss(weights=weights, reduction=R.SUM) == pytest.approx(weighted.sum(), rel=1e-6)
    assert loss(weights=weights, reduction=R.SUM_OVER_BATCH_SIZE) == pytest.approx(weighted.sum() / 3, rel=1e-6)
    np.testing.assert_allclose(loss(weights=weights, reduction=R.NONE), weighted, rtol=1e-6)
    assert loss(weights=3.0) == pytest.approx(3 * ce.mean(), rel=1e-6)
    ones, zeros = tf.ones([2, 3]), tf.zeros([2, 3])
    assert sess.run(tf.losses.mean_squared_error(ones, zeros, weights=[[1.0], [0.0]])) == 1.0
    assert sess.run(tf.losses.mean_squared_error(ones, zeros, weights=zeros)) == 0.0
    assert sess.run(tf.losses.absolute_difference([1.0, 2.0], [2.0, 4.0], weights=[1.0, 0.0])) == 1.0
    assert sess.run(tf.losses.huber_loss([1.0, 2.0], [2.0, 4.0])) == pytest.approx((0.5 + 1.5) / 2)
    with pytest.raises(ValueError, match=r"Shapes \(2, 2\) and \(2, 3\) are incompatible"):
        tf.losses.mean_squared_error(ones, tf.zeros([2, 2]))


def test_cross_entropy_functions_are_stable_and_check_their_arguments(sess):
    logits = tf.constant([[100.0, 0.0, -100.0], [1.0, 2.0, 3.0]])
    labels = tf.constant([[0.0, 1.0, 0.0], [0.2, 0.3, 0.5]])
    z = np.array([[100.0, 0.0, -100.0], [1.0, 2.0, 3.0]])
    log_p = z - z.max(1, keepdims=True) - np.log(np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True))
    ref = -(np.array([[0.0, 1.0, 0.0], [0.2, 0.3, 0.5]]) * log_p).sum(1)
    np.testing.assert_allclose(sess.run(tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)), ref,
                               rtol=1e-6)
    np.testing.assert_allclose(sess.run(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[1, 2], logits=logits)),
                               -log_p[[0, 1], [1, 2]], rtol=1e-6)
    np.testing.assert_allclose(
        sess.run(tf.nn.sigmoid_cross_entropy_with_logits(labels=[1.0, 0.0, 0.0], logits=[-100.0, 100.0, -100.0])),
        [100.0, 100.0, 0.0], atol=1e-6)
    with pytest.raises(ValueError, match="Only call `softmax_cross_entropy_with_logits` with named arguments"):
        tf.nn.softmax_cross_entropy_with_logits(labels, logits)
    with pytest.raises(ValueError, match="Rank mismatch"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[[1], [2]], logits=logits)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Received a label value of 3 which is outside the "
                                                             r"valid range of \[0, 3\)"):
        sess.run(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[1, 3], logits=logits))


# ----------------------------------------------------------------------------------------------------------
# Assertions and printing in the graph
# ----------------------------------------------------------------------------------------------------------
def test_assert_with_control_dependencies_and_check_numerics(sess):
    x = tf.placeholder(tf.float32, [None])
    check = tf.assert_equal(tf.shape(x)[0], 3, message="need 3")
    with tf.control_dependencies([check]):
        y = tf.identity(x)
    np.testing.assert_array_equal(sess.run(y, {x: [1.0, 2.0, 3.0]}), [1, 2, 3])
    with pytest.raises(tf.errors.InvalidArgumentError, match="need 3"):
        sess.run(y, {x: [1.0, 2.0]})
    with pytest.raises(tf.errors.InvalidArgumentError, match="bad log : Tensor had NaN values"):
        sess.run(tf.check_numerics(tf.log(x), "bad log"), {x: [-1.0]})
    with pytest.raises(tf.errors.InvalidArgumentError, match="Condition x == y did not hold"):
        tf.assert_equal(tf.constant(1), tf.constant(2))  # static values fail at graph construction, as in TF
    printed = tf.Print(x, [x, tf.shape(x)], message="x is: ")
    np.testing.assert_array_equal(sess.run(printed * 2, {x: [1.0, 2.0]}), [2.0, 4.0])
