"""tf.nn.convolution over 3-D windows (a 5-D filter) is a Conv3D, with TF's strides, dilations and data formats;
strides above 1 together with dilations above 1 are refused at graph-build time, as in TF."""

import numpy as np
import pytest
from gradient_checker import check_gradients

import tfmini as tf


def _conv3d_reference(x, w, strides, dilations):
    """VALID 3-D convolution, NDHWC input and [d, h, w, in, out] filter, by NumPy slicing per filter tap."""
    kd, kh, kw = ((k - 1) * r + 1 for k, r in zip(w.shape[:3], dilations))
    out = [(n - k) // s + 1 for n, k, s in zip(x.shape[1:4], (kd, kh, kw), strides)]
    y = np.zeros((x.shape[0], *out, w.shape[4]))
    for a in range(w.shape[0]):
        for b in range(w.shape[1]):
            for c in range(w.shape[2]):
                o = [a * dilations[0], b * dilations[1], c * dilations[2]]
                patch = x[:, o[0]:o[0] + (out[0] - 1) * strides[0] + 1:strides[0],
                          o[1]:o[1] + (out[1] - 1) * strides[1] + 1:strides[1],
                          o[2]:o[2] + (out[2] - 1) * strides[2] + 1:strides[2]]
                y += patch @ w[a, b, c]
    return y


@pytest.mark.parametrize("strides, dilations", [((1, 2, 2), (1, 1, 1)), ((1, 1, 1), (2, 1, 2))])
def test_convolution_with_a_5d_filter_is_conv3d(strides, dilations):
    rng = np.random.RandomState(3)
    x = rng.randn(2, 6, 7, 8, 3)
    w = rng.randn(2, 3, 2, 3, 4)
    with tf.Graph().as_default():
        y = tf.nn.convolution(x, w, "VALID", strides=list(strides), dilation_rate=list(dilations), name="conv")
        y_ncdhw = tf.nn.convolution(x.transpose(0, 4, 1, 2, 3), w, "VALID", strides=list(strides),
                                    dilation_rate=list(dilations), data_format="NCDHW")
        assert y.op.type == "Conv3D" and y.op.name == "conv"
        expected = _conv3d_reference(x, w, strides, dilations)
        assert y.shape.as_list() == list(expected.shape)
        with tf.Session() as sess:
            got, got_ncdhw = sess.run([y, y_ncdhw])
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(got_ncdhw, expected.transpose(0, 4, 1, 2, 3), rtol=1e-10, atol=1e-10)


def test_convolution_3d_gradients():
    rng = np.random.RandomState(4)
    check_gradients(lambda x, w: tf.nn.convolution(x, w, "SAME", strides=[2, 1, 1]),
                    [rng.randn(1, 4, 4, 3, 2), rng.randn(2, 2, 2, 2, 3)])


def test_strides_with_dilations_are_refused():
    with tf.Graph().as_default():
        for x, w in ((tf.ones([1, 6, 6, 3]), tf.ones([2, 2, 3, 2])),
                     (tf.ones([1, 4, 6, 6, 3]), tf.ones([2, 2, 2, 3, 2]))):
            rank = w.shape.ndims - 2
            with pytest.raises(ValueError, match="strides > 1 not supported in conjunction with dilation_rate > 1"):
                tf.nn.convolution(x, w, "SAME", strides=[2] + [1] * (rank - 1), dilation_rate=[1] * (rank - 1) + [2])
