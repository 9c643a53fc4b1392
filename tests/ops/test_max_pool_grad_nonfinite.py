"""MaxPoolGrad and MaxPoolGradGrad of overlapping or padded windows (the plain path, not the block one) with
infinite or NaN gradients: only each window's first maximum takes the gradient, every other element gets exactly 0,
as TensorFlow's CPU kernels give."""

import numpy as np
import pytest

import tfmini as tf
from tfmini.framework.registry import apply_op

INF, NAN = np.inf, np.nan


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("upstream", [INF, -INF, NAN])
def test_max_pool_grad_gives_non_maxima_exactly_zero(dtype, upstream):
    x = np.array([[1.0, 2.0], [3.0, 4.0]], dtype).reshape(1, 2, 2, 1)
    with tf.Graph().as_default(), tf.Session() as sess:
        xt = tf.constant(x)
        y = tf.nn.max_pool(xt, [1, 2, 2, 1], [1, 1, 1, 1], "VALID")  # one window, stride 1: the plain path
        grad = tf.constant(np.full((1, 1, 1, 1), upstream, dtype))
        dx = apply_op("MaxPoolGrad", [xt, y, grad], dict(ksize=[1, 2, 2, 1], strides=[1, 1, 1, 1], padding="VALID"))
        got = sess.run(dx.outputs[0]).ravel()
    np.testing.assert_array_equal(got[:3], np.zeros(3, dtype))
    np.testing.assert_array_equal(got[3], np.array(upstream, dtype))


def test_max_pool_grad_grad_gives_non_maxima_exactly_zero():
    x = np.array([[1.0, 2.0, 0.0], [3.0, 4.0, 0.0]], np.float32).reshape(1, 2, 3, 1)
    backprop = np.array([[INF, 0.0, NAN], [0.0, 1.0, 5.0]], np.float32).reshape(1, 2, 3, 1)
    with tf.Graph().as_default(), tf.Session() as sess:
        xt = tf.constant(x)
        y = tf.nn.max_pool(xt, [1, 2, 2, 1], [1, 1, 1, 1], "SAME")
        gg = apply_op("MaxPoolGradGrad", [xt, y, tf.constant(backprop)],
                      dict(ksize=[1, 2, 2, 1], strides=[1, 1, 1, 1], padding="SAME"))
        got = sess.run(gg.outputs[0]).ravel()
    # each output takes only its window's first maximum (the padded corner window's first 0 is the NaN): TF 2.21's
    # MaxPoolGradGrad gives exactly these values
    np.testing.assert_array_equal(got, np.array([1.0, 1.0, NAN, 1.0, 1.0, 5.0], np.float32))
