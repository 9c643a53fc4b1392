"""A TF1-era slim program, unchanged: an MNIST-style conv net built with slim.conv2d / max_pool2d / flatten /
fully_connected / batch_norm under arg_scope with an l2 regularizer, trained with optimize_loss on synthetic
digits. Its loss decreases, it learns the digits, and its variables carry TF1's names."""

from __future__ import annotations

import numpy as np

import tfmini as tf

slim = tf.contrib.slim


def _synthetic_digits(n: int, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    """28x28 images whose class decides which 7x7 cell of a 4x4 grid is bright, plus noise."""
    labels = rng.randint(0, 10, n)
    images = rng.rand(n, 28, 28, 1).astype(np.float32) * 0.3
    for i, label in enumerate(labels):
        r, c = divmod(int(label), 4)
        images[i, r * 7:(r + 1) * 7, c * 7:(c + 1) * 7, 0] += 1.0
    return images, labels


def _lenet(images, is_training):
    with slim.arg_scope([slim.conv2d, slim.fully_connected],
                        weights_regularizer=slim.l2_regularizer(0.0005),
                        normalizer_fn=slim.batch_norm,
                        normalizer_params={"is_training": is_training, "decay": 0.9}):
        net = slim.conv2d(images, 8, [5, 5], scope="conv1")
        net = slim.max_pool2d(net, [2, 2], 2, scope="pool1")
        net = slim.conv2d(net, 16, [5, 5], scope="conv2")
        net = slim.max_pool2d(net, [2, 2], 2, scope="pool2")
        net = slim.flatten(net)
        net = slim.fully_connected(net, 32, scope="fc3")
        net = slim.dropout(net, 0.8, is_training=is_training, scope="dropout3")
        return slim.fully_connected(net, 10, activation_fn=None, normalizer_fn=None, scope="fc4")


def test_slim_lenet_trains_with_optimize_loss_and_has_tf1_variable_names():
    rng = np.random.RandomState(0)
    train_x, train_y = _synthetic_digits(64, rng)
    test_x, test_y = _synthetic_digits(64, rng)
    tf.set_random_seed(1)
    images = tf.placeholder(tf.float32, [None, 28, 28, 1])
    labels = tf.placeholder(tf.int64, [None])
    is_training = tf.placeholder_with_default(False, [])
    logits = _lenet(images, is_training)
    slim.losses.sparse_softmax_cross_entropy(logits, labels)
    total_loss = slim.losses.get_total_loss()
    global_step = slim.get_or_create_global_step()
    train_op = slim.optimize_loss(total_loss, global_step, 0.01, "Adam")
    accuracy = slim.metrics.accuracy(tf.argmax(logits, 1), labels)

    assert [v.op.name for v in slim.get_model_variables()] == [
        "conv1/weights", "conv1/BatchNorm/beta", "conv1/BatchNorm/moving_mean", "conv1/BatchNorm/moving_variance",
        "conv2/weights", "conv2/BatchNorm/beta", "conv2/BatchNorm/moving_mean", "conv2/BatchNorm/moving_variance",
        "fc3/weights", "fc3/BatchNorm/beta", "fc3/BatchNorm/moving_mean", "fc3/BatchNorm/moving_variance",
        "fc4/weights", "fc4/biases"]
    assert slim.get_variables_by_name("weights")[2].shape.as_list() == [7 * 7 * 16, 32]
    assert len(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)) == 4
    assert len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)) == 6

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        feed = {images: train_x, labels: train_y, is_training: True}
        losses = [sess.run(train_op, feed) for _ in range(30)]
        assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
        assert sess.run(global_step) == 30
        moving_mean = sess.run(slim.get_unique_variable("conv1/BatchNorm/moving_mean"))
        assert np.abs(moving_mean).sum() > 0  # the update ops ran with the training op
        assert sess.run(accuracy, {images: test_x, labels: test_y}) > 0.8
