"""The gradient of max pooling over non-overlapping windows (conv_algorithms.max_pool_blocks_grad, MaxPoolGrad's
block path) for output gradients that are not all finite: as in TensorFlow, each window's gradient goes to its
first maximum only and every other element gets exactly 0 (a product with the mask gave NaN there)."""

from __future__ import annotations

import numpy as np
import pytest

import tfmini as tf
from tfmini.framework.registry import apply_op
from tfmini.ops import conv_algorithms


def reference_grad(x: np.ndarray, grad: np.ndarray, kh: int, kw: int) -> np.ndarray:
    """Each window's gradient added at its first maximum in row-major order (TensorFlow's CPU kernel)."""
    n, h, w, c = x.shape
    oh, ow = h // kh, w // kw
    dx = np.zeros(x.shape, dtype=grad.dtype)
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for ch in range(c):
                    window = x[b, i * kh:(i + 1) * kh, j * kw:(j + 1) * kw, ch]
                    r, s = np.unravel_index(np.argmax(window), window.shape)
                    dx[b, i * kh + r, j * kw + s, ch] = grad[b, i, j, ch]
    return dx


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("window", [(2, 2), (1, 3), (3, 1)])
def test_infinite_and_nan_gradients_reach_only_the_first_maximum(dtype, threads, window, monkeypatch):
    monkeypatch.setattr(conv_algorithms, "PARALLEL_MIN_ELEMENTS", 0)
    rng = np.random.default_rng(7)
    x = rng.integers(-2, 3, (3, 6, 7, 2)).astype(dtype)  # small integers: ties in most windows
    kh, kw = window
    grad = rng.standard_normal((3, 6 // kh, 7 // kw, 2)).astype(dtype)
    grad.flat[::5] = np.inf
    grad.flat[1::7] = -np.inf
    grad.flat[2::9] = np.nan
    got = conv_algorithms.max_pool_blocks_grad(x, grad, kh, kw, threads=threads)
    np.testing.assert_array_equal(got, reference_grad(x, grad, kh, kw))
    assert got.dtype == dtype


def test_finite_gradients_keep_their_values():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 4, 4, 3)).astype(np.float32)
    grad = rng.standard_normal((2, 2, 2, 3)).astype(np.float32)
    np.testing.assert_array_equal(conv_algorithms.max_pool_blocks_grad(x, grad, 2, 2),
                                  reference_grad(x, grad, 2, 2))


def test_max_pool_grad_op_with_an_infinite_gradient_matches_tensorflow():
    # TensorFlow 1.15 (and 2.21): MaxPoolGrad of [[1, 2], [3, 4]] with output gradient inf is [[0, 0], [0, inf]].
    x = np.array([1, 2, 3, 4], np.float32).reshape(1, 2, 2, 1)
    g = tf.Graph()
    with g.as_default():
        xt = tf.constant(x)
        y = tf.nn.max_pool(xt, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
        attrs = {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "VALID"}
        grads = [apply_op("MaxPoolGrad", [xt, y, tf.constant(np.full((1, 1, 1, 1), v, np.float32))], attrs).outputs[0]
                 for v in (np.inf, np.nan)]
    with tf.Session(graph=g) as sess:
        inf_grad, nan_grad = sess.run(grads)
    np.testing.assert_array_equal(inf_grad.ravel(), [0, 0, 0, np.inf])
    np.testing.assert_array_equal(nan_grad.ravel(), [0, 0, 0, np.nan])
