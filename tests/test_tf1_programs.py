"""Three classic TF1 programs, written as a TF1 user writes them (only `import tfmini as tf` differs): linear
regression reaching the least-squares fit, softmax regression and a small CNN on scikit-learn's 8x8 digits.
With fixed seeds every program repeats exactly."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

import tfmini as tf


# ----------------------------------------------------------------------------------------------------------
# Linear regression
# ----------------------------------------------------------------------------------------------------------
def linear_regression(seed):
    rng = np.random.RandomState(0)
    x_data = rng.randn(200, 3).astype(np.float32)
    y_data = (x_data @ np.array([[2.0], [-3.0], [0.5]]) + 1.25 + 0.1 * rng.randn(200, 1)).astype(np.float32)

    with tf.Graph().as_default():
        tf.set_random_seed(seed)
        x = tf.placeholder(tf.float32, shape=[None, 3], name="x")
        y = tf.placeholder(tf.float32, shape=[None, 1], name="y")
        W = tf.Variable(tf.random_normal([3, 1], stddev=0.1), name="W")
        b = tf.Variable(tf.zeros([1]), name="b")
        y_pred = tf.matmul(x, W) + b
        loss = tf.reduce_mean(tf.square(y_pred - y))
        train_op = tf.train.GradientDescentOptimizer(learning_rate=0.1).minimize(loss)

        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(300):
                _, loss_value = sess.run([train_op, loss], feed_dict={x: x_data, y: y_data})
            W_value, b_value = sess.run([W, b])
    return x_data, y_data, W_value, b_value, loss_value


def test_linear_regression_converges_to_the_least_squares_fit():
    x_data, y_data, W_value, b_value, loss_value = linear_regression(seed=1)
    design = np.hstack([x_data, np.ones([len(x_data), 1], np.float32)]).astype(np.float64)
    solution, *_ = np.linalg.lstsq(design, y_data.astype(np.float64), rcond=None)
    np.testing.assert_allclose(W_value.ravel(), solution[:3, 0], atol=1e-4)
    np.testing.assert_allclose(b_value, solution[3], atol=1e-4)
    best = np.mean((design @ solution - y_data) ** 2)
    assert loss_value == pytest.approx(best, rel=1e-4)


def test_linear_regression_repeats_with_a_fixed_seed():
    first, second = linear_regression(seed=7), linear_regression(seed=7)
    np.testing.assert_array_equal(first[2], second[2])
    np.testing.assert_array_equal(first[3], second[3])


# ----------------------------------------------------------------------------------------------------------
# The digits data: 1797 8x8 images, a fixed train/test split
# ----------------------------------------------------------------------------------------------------------
def digits_split():
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)
    labels = digits.target.astype(np.int64)
    order = np.random.RandomState(42).permutation(len(labels))
    train, test = order[:1400], order[1400:]
    return images[train], labels[train], images[test], labels[test]


def one_hot(labels):
    return np.eye(10, dtype=np.float32)[labels]


# ----------------------------------------------------------------------------------------------------------
# Softmax regression
# ----------------------------------------------------------------------------------------------------------
def softmax_regression(seed):
    train_images, train_labels, test_images, test_labels = digits_split()
    train_x, test_x = train_images.reshape(-1, 64), test_images.reshape(-1, 64)

    with tf.Graph().as_default():
        tf.set_random_seed(seed)
        x = tf.placeholder(tf.float32, [None, 64])
        y_ = tf.placeholder(tf.float32, [None, 10])
        W = tf.Variable(tf.truncated_normal([64, 10], stddev=0.01))
        b = tf.Variable(tf.zeros([10]))
        logits = tf.matmul(x, W) + b
        cross_entropy = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y_, logits=logits))
        train_step = tf.train.GradientDescentOptimizer(0.5).minimize(cross_entropy)
        correct_prediction = tf.equal(tf.argmax(logits, 1), tf.argmax(y_, 1))
        accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))

        rng = np.random.RandomState(seed)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(30):
                order = rng.permutation(len(train_x))
                for start in range(0, len(order), 100):
                    batch = order[start:start + 100]
                    sess.run(train_step, feed_dict={x: train_x[batch], y_: one_hot(train_labels[batch])})
            test_accuracy = sess.run(accuracy, feed_dict={x: test_x, y_: one_hot(test_labels)})
            weights = sess.run(W)
    return test_accuracy, weights


def test_softmax_regression_on_digits_reaches_90_percent_and_repeats():
    accuracy, weights = softmax_regression(seed=3)
    assert accuracy >= 0.90
    again, weights_again = softmax_regression(seed=3)
    assert again == accuracy
    np.testing.assert_array_equal(weights, weights_again)


# ----------------------------------------------------------------------------------------------------------
# A small CNN: conv 3x3x16 - max pool - conv 3x3x32 - max pool - dense 10
# ----------------------------------------------------------------------------------------------------------
def weight_variable(shape):
    return tf.Variable(tf.truncated_normal(shape, stddev=0.1))


def bias_variable(shape):
    return tf.Variable(tf.constant(0.1, shape=shape))


def conv2d(x, W):
    return tf.nn.conv2d(x, W, strides=[1, 1, 1, 1], padding="SAME")


def max_pool_2x2(x):
    return tf.nn.max_pool(x, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")


def small_cnn(seed):
    train_images, train_labels, test_images, test_labels = digits_split()
    train_x, test_x = train_images[..., None], test_images[..., None]

    with tf.Graph().as_default():
        tf.set_random_seed(seed)
        x = tf.placeholder(tf.float32, [None, 8, 8, 1])
        y_ = tf.placeholder(tf.int64, [None])

        W_conv1 = weight_variable([3, 3, 1, 16])
        b_conv1 = bias_variable([16])
        h_pool1 = max_pool_2x2(tf.nn.relu(conv2d(x, W_conv1) + b_conv1))  # 4x4x16

        W_conv2 = weight_variable([3, 3, 16, 32])
        b_conv2 = bias_variable([32])
        h_pool2 = max_pool_2x2(tf.nn.relu(conv2d(h_pool1, W_conv2) + b_conv2))  # 2x2x32

        W_fc = weight_variable([2 * 2 * 32, 10])
        b_fc = bias_variable([10])
        logits = tf.matmul(tf.reshape(h_pool2, [-1, 2 * 2 * 32]), W_fc) + b_fc

        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y_, logits=logits))
        global_step = tf.train.get_or_create_global_step()
        train_op = tf.train.AdamOptimizer(0.01).minimize(loss, global_step=global_step)
        accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), y_), tf.float32))

        rng = np.random.RandomState(seed)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(8):
                order = rng.permutation(len(train_x))
                for start in range(0, len(order), 64):
                    batch = order[start:start + 64]
                    sess.run(train_op, feed_dict={x: train_x[batch], y_: train_labels[batch]})
            test_accuracy, steps = sess.run([accuracy, global_step], feed_dict={x: test_x, y_: test_labels})
            kernel = sess.run(W_conv1)
    return test_accuracy, steps, kernel


def test_small_cnn_on_digits_reaches_95_percent_and_repeats():
    accuracy, steps, kernel = small_cnn(seed=5)
    assert steps == 8 * 22
    assert accuracy >= 0.95
    again, _, kernel_again = small_cnn(seed=5)
    assert again == accuracy
    np.testing.assert_array_equal(kernel, kernel_again)
