"""NN ops and the tf.nn functions: values and dtypes against NumPy references (naive loops for convolution and
pooling), TF's static shapes and errors, and finite-difference checks of every gradient (second order for the
gradient ops)."""

from __future__ import annotations

import numpy as np
import pytest
from gradient_checker import check_against_numpy, check_gradients, random_array

import tfmini as tf
from tfmini.framework.registry import apply_op
from tfmini.ops import nn_impl, nn_ops

FLOATS = (np.float16, np.float32, np.float64)
SELU_SCALE = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


def _run(fetches, feed_dict=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed_dict=feed_dict)


def _np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _np_log_softmax(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


def _away_from(values, points, margin=0.05):
    """`values` nudged so that none lies within `margin` of a kink in `points` (finite differences)."""
    out = np.array(values, dtype=np.float64)
    for p in points:
        near = np.abs(out - p) < margin
        out[near] = p + np.where(out[near] >= p, margin, -margin) * 2
    return out


# ----------------------------------------------------------------------------------------------------------
# Activations
# ----------------------------------------------------------------------------------------------------------
ACTIVATIONS = {
    "relu": (tf.nn.relu, lambda x: np.maximum(x, 0), [0.0]),
    "relu6": (tf.nn.relu6, lambda x: np.minimum(np.maximum(x, 0), 6), [0.0, 6.0]),
    "elu": (tf.nn.elu, lambda x: np.where(x > 0, x, np.expm1(x)), [0.0]),
    "selu": (tf.nn.selu, lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)), [0.0]),
    "leaky_relu": (tf.nn.leaky_relu, lambda x: np.where(x > 0, x, 0.2 * x), [0.0]),
    "softplus": (tf.nn.softplus, lambda x: np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0), []),
    "softsign": (tf.nn.softsign, lambda x: x / (1 + np.abs(x)), []),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_matches_numpy_for_float_dtypes(name):
    tf_fn, np_fn, _ = ACTIVATIONS[name]
    x = random_array((3, 4), low=-8, high=8, seed=1)
    check_against_numpy(tf_fn, lambda a: np_fn(a.astype(np.float64)).astype(a.dtype), x, dtypes=FLOATS)


@pytest.mark.parametrize("name", ["relu", "relu6"])
def test_relu_family_accepts_integers(name):
    tf_fn, np_fn, _ = ACTIVATIONS[name]
    x = np.array([[-3, 0, 2, 7, 9]])
    check_against_numpy(tf_fn, lambda a: np_fn(a).astype(a.dtype), x, dtypes=(np.int32, np.int64, np.int8))


def test_leaky_relu_alpha_and_integer_input_become_float32():
    check_against_numpy(lambda a: tf.nn.leaky_relu(a, alpha=0.5), lambda a: np.where(a > 0, a, 0.5 * a),
                        random_array((5,), np.float64, seed=2))
    with tf.Graph().as_default():
        y = tf.nn.leaky_relu(tf.constant([-2, 3]))
        assert y.dtype == tf.float32
        np.testing.assert_allclose(_run(y), [-0.4, 3.0])


def test_softplus_is_stable_for_large_magnitudes():
    with tf.Graph().as_default():
        v = _run(tf.nn.softplus(tf.constant([-1000.0, 1000.0, 0.0])))
    np.testing.assert_allclose(v, [0.0, 1000.0, np.log(2.0)], rtol=1e-6)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_gradient(name):
    tf_fn, _, kinks = ACTIVATIONS[name]
    x = _away_from(random_array((3, 4), low=-8, high=8, seed=3), kinks)
    check_gradients(tf_fn, [x])


@pytest.mark.parametrize("name", ["elu", "selu", "softplus", "softsign"])
def test_activation_second_derivative(name):
    """The gradient ops of the curved activations are differentiable in the features/outputs they read."""
    tf_fn, _, kinks = ACTIVATIONS[name]
    x = _away_from(random_array((2, 3), low=-4, high=8, seed=4), kinks)
    upstream = random_array((2, 3), seed=5)

    def grad_of(a):
        return tf.gradients(tf_fn(a), a, grad_ys=tf.constant(upstream))[0]

    check_gradients(grad_of, [x])


@pytest.mark.parametrize("op_type,second", [("ReluGrad", "features"), ("Relu6Grad", "features"),
                                            ("EluGrad", "outputs"), ("SeluGrad", "outputs"),
                                            ("LeakyReluGrad", "features"), ("SoftplusGrad", "features"),
                                            ("SoftsignGrad", "features")])
def test_gradient_op_is_linear_in_its_upstream_gradient(op_type, second):
    other = _away_from(random_array((2, 3), low=-3, high=7, seed=6), [0.0, 6.0])
    check_gradients(lambda g: apply_op(op_type, [g, tf.constant(other)]).outputs[0], [random_array((2, 3), seed=7)])


def test_activation_rejects_unsupported_dtypes():
    with tf.Graph().as_default():
        with pytest.raises(TypeError):
            tf.nn.elu(tf.constant([1, 2]))
        with pytest.raises(TypeError):
            tf.nn.relu(tf.constant([True]))


# ----------------------------------------------------------------------------------------------------------
# Softmax, LogSoftmax
# ----------------------------------------------------------------------------------------------------------
def _np_softmax(x, axis=-1):
    return np.exp(_np_log_softmax(x.astype(np.float64), axis))


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4)])
def test_softmax_and_log_softmax_match_numpy(shape):
    x = random_array(shape, seed=8) * 3
    check_against_numpy(tf.nn.softmax, lambda a: _np_softmax(a).astype(a.dtype), x, dtypes=FLOATS)
    check_against_numpy(tf.nn.log_softmax, lambda a: _np_log_softmax(a.astype(np.float64)).astype(a.dtype), x,
                        dtypes=FLOATS, atol=1e-6)


def test_softmax_is_numerically_stable():
    with tf.Graph().as_default():
        s, ls = _run([tf.nn.softmax([[1000.0, 1000.0, -1000.0]]), tf.nn.log_softmax([[1000.0, 0.0]])])
    np.testing.assert_allclose(s, [[0.5, 0.5, 0.0]])
    np.testing.assert_allclose(ls, [[0.0, -1000.0]])


@pytest.mark.parametrize("axis", [0, 1, -2])
def test_softmax_along_other_axes(axis):
    x = random_array((3, 4, 2), seed=9)
    check_against_numpy(lambda a: tf.nn.softmax(a, axis=axis), lambda a: _np_softmax(a, axis), x,
                        modes=("const",))
    check_against_numpy(lambda a: tf.nn.log_softmax(a, dim=axis), lambda a: _np_log_softmax(a, axis), x,
                        modes=("const",))
    check_gradients(lambda a: tf.nn.softmax(a, axis=axis), [x])
    check_gradients(lambda a: tf.nn.log_softmax(a, axis=axis), [x])


def test_softmax_static_shape_and_rank_errors():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 10])
        assert tf.nn.softmax(x).shape.as_list() == [None, 10]
        with pytest.raises(ValueError, match="rank"):
            tf.nn.softmax(tf.constant(1.0))
        with pytest.raises(tf.errors.InvalidArgumentError):
            tf.nn.softmax(x, axis=2)


@pytest.mark.parametrize("fn", [tf.nn.softmax, tf.nn.log_softmax])
def test_softmax_gradients(fn):
    check_gradients(fn, [random_array((3, 4), seed=10)])
    check_gradients(lambda a: tf.gradients(fn(a), a, grad_ys=tf.constant(random_array((3, 4), seed=11)))[0],
                    [random_array((3, 4), seed=12)])


# ----------------------------------------------------------------------------------------------------------
# BiasAdd
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32, np.int64])
def test_bias_add_matches_numpy(dtype):
    x, b = random_array((2, 3, 4), dtype, seed=13), random_array((4,), dtype, seed=14)
    check_against_numpy(tf.nn.bias_add, lambda a, c: a + c, x, b)


def test_bias_add_nchw_adds_along_channel_axis():
    x, b = random_array((2, 3, 4, 5), seed=15), random_array((3,), seed=16)
    check_against_numpy(lambda a, c: tf.nn.bias_add(a, c, data_format="NCHW"), lambda a, c: a + c[:, None, None],
                        x, b)
    check_gradients(lambda a, c: tf.nn.bias_add(a, c, data_format="NCHW"), [x, b])


def test_bias_add_shapes_and_errors():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 5])
        assert tf.nn.bias_add(x, tf.zeros([5])).shape.as_list() == [None, 5]
        assert tf.nn.bias_add(tf.placeholder(tf.float32, [None, None]), tf.zeros([5])).shape.as_list() == [None, 5]
        with pytest.raises(ValueError, match="Dimensions must be equal"):
            tf.nn.bias_add(x, tf.zeros([4]))
        with pytest.raises(ValueError, match="rank"):
            tf.nn.bias_add(tf.zeros([5]), tf.zeros([5]))
        with pytest.raises(ValueError, match="data_format must be of the form"):
            tf.nn.bias_add(x, tf.zeros([5]), data_format="channels_last")
        assert tf.nn.bias_add(tf.zeros([2, 3, 4]), tf.zeros([4]), data_format="NWC").op.get_attr("data_format") == \
            "NHWC"
        fed = tf.placeholder(tf.float32)
        y = tf.nn.bias_add(fed, tf.zeros([3]))
        with pytest.raises(tf.errors.InvalidArgumentError, match="Must provide as many biases"):
            _run(y, {fed: np.zeros((2, 4), np.float32)})


def test_bias_add_gradient_and_second_order():
    x, b = random_array((2, 3, 4), seed=17), random_array((4,), seed=18)
    check_gradients(tf.nn.bias_add, [x, b])
    upstream = random_array((2, 3, 4), seed=19)
    check_gradients(lambda a: apply_op("BiasAddGrad", [a]).outputs[0], [upstream])
    def bias_grad(g):
        bias = tf.constant(b)
        return tf.gradients(tf.nn.bias_add(tf.constant(x), bias), bias, grad_ys=g)[0]

    check_gradients(bias_grad, [upstream])


# ----------------------------------------------------------------------------------------------------------
# Convolution: naive references
# ----------------------------------------------------------------------------------------------------------
def _geometry(size, k, stride, dilation, padding):
    """(out, pad_before, pad_after) computed independently of the implementation."""
    eff = (k - 1) * dilation + 1
    if padding == "SAME":
        out = int(np.ceil(size / stride))
        total = max((out - 1) * stride + eff - size, 0)
        return out, total // 2, total - total // 2
    if isinstance(padding, tuple):
        before, after = padding
        return (size + before + after - eff) // stride + 1, before, after
    return (size - eff) // stride + 1, 0, 0


def ref_conv2d(x, w, strides, padding, dilations=(1, 1), pads=None):
    n, h, wd, _ = x.shape
    kh, kw, _, oc = w.shape
    oh, pt, pb = _geometry(h, kh, strides[0], dilations[0], pads[0] if pads else padding)
    ow, pl, pr = _geometry(wd, kw, strides[1], dilations[1], pads[1] if pads else padding)
    xp = np.pad(x.astype(np.float64), ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    out = np.zeros((n, oh, ow, oc))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for b in range(kw):
                    out[:, i, j, :] += xp[:, i * strides[0] + a * dilations[0], j * strides[1] + b * dilations[1],
                                          :] @ w[a, b]
    return out


def ref_conv2d_backprop_input(in_shape, w, dy, strides, padding, dilations=(1, 1)):
    n, h, wd, c = in_shape
    kh, kw = w.shape[:2]
    oh, pt, pb = _geometry(h, kh, strides[0], dilations[0], padding)
    ow, pl, pr = _geometry(wd, kw, strides[1], dilations[1], padding)
    dxp = np.zeros((n, h + pt + pb, wd + pl + pr, c))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for b in range(kw):
                    dxp[:, i * strides[0] + a * dilations[0], j * strides[1] + b * dilations[1], :] += \
                        dy[:, i, j, :] @ w[a, b].T
    return dxp[:, pt:pt + h, pl:pl + wd, :]


def ref_conv2d_backprop_filter(x, w_shape, dy, strides, padding, dilations=(1, 1)):
    n, h, wd, _ = x.shape
    kh, kw = w_shape[:2]
    oh, pt, pb = _geometry(h, kh, strides[0], dilations[0], padding)
    ow, pl, pr = _geometry(wd, kw, strides[1], dilations[1], padding)
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    dw = np.zeros(w_shape)
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for b in range(kw):
                    dw[a, b] += xp[:, i * strides[0] + a * dilations[0], j * strides[1] + b * dilations[1], :].T @ \
                        dy[:, i, j, :]
    return dw


CONV_CASES = [
    # (input hw, kernel hw, strides, dilations, padding)
    ((5, 6), (3, 2), (1, 1), (1, 1), "SAME"),
    ((5, 6), (3, 2), (1, 1), (1, 1), "VALID"),
    ((7, 7), (3, 3), (2, 2), (1, 1), "SAME"),
    ((8, 7), (3, 3), (2, 3), (1, 1), "VALID"),
    ((6, 7), (2, 2), (3, 2), (1, 1), "SAME"),
    ((9, 8), (3, 2), (1, 1), (2, 3), "SAME"),
    ((9, 8), (2, 3), (2, 1), (2, 2), "VALID"),
    ((4, 4), (1, 1), (1, 1), (1, 1), "VALID"),
    ((3, 3), (4, 4), (1, 1), (1, 1), "SAME"),
]


@pytest.mark.parametrize("hw,khw,strides,dilations,padding", CONV_CASES)
def test_conv2d_matches_naive_reference(hw, khw, strides, dilations, padding):
    x = random_array((2, *hw, 3), seed=20)
    w = random_array((*khw, 3, 4), seed=21)
    expected = ref_conv2d(x, w, strides, padding, dilations)
    with tf.Graph().as_default():
        y = tf.nn.conv2d(x, w, strides=[1, *strides, 1], padding=padding, dilations=[1, *dilations, 1])
        assert y.shape.as_list() == list(expected.shape)
        got = _run(y)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32])
def test_conv2d_dtypes(dtype):
    x = random_array((1, 4, 5, 2), dtype, seed=22)
    w = random_array((2, 3, 2, 3), dtype, seed=23)
    check_against_numpy(lambda a, b: tf.nn.conv2d(a, b, [1, 1, 1, 1], "SAME"),
                        lambda a, b: ref_conv2d(a, b, (1, 1), "SAME").astype(dtype), x, w,
                        rtol=1e-2 if dtype == np.float16 else None)


def test_conv2d_nchw_equals_transposed_nhwc():
    x = random_array((2, 3, 6, 5), seed=24)  # NCHW
    w = random_array((3, 2, 3, 4), seed=25)
    expected = ref_conv2d(x.transpose(0, 2, 3, 1), w, (2, 1), "SAME").transpose(0, 3, 1, 2)
    with tf.Graph().as_default():
        y = tf.nn.conv2d(x, w, strides=[1, 1, 2, 1], padding="SAME", data_format="NCHW")
        assert y.shape.as_list() == [2, 4, 3, 5]
        np.testing.assert_allclose(_run(y), expected, rtol=1e-10)
    check_gradients(lambda a, b: tf.nn.conv2d(a, b, [1, 1, 2, 1], "SAME", data_format="NCHW"), [x, w])


def test_conv2d_explicit_padding():
    x = random_array((1, 4, 5, 2), seed=26)
    w = random_array((3, 3, 2, 2), seed=27)
    expected = ref_conv2d(x, w, (2, 1), None, pads=((1, 2), (0, 1)))
    with tf.Graph().as_default():
        y = tf.nn.conv2d(x, w, strides=[1, 2, 1, 1], padding=[[0, 0], [1, 2], [0, 1], [0, 0]])
        assert y.op.get_attr("padding") == "EXPLICIT"
        assert y.shape.as_list() == list(expected.shape)
        np.testing.assert_allclose(_run(y), expected, rtol=1e-10)
    check_gradients(lambda a, b: tf.nn.conv2d(a, b, [1, 2, 1, 1], [[0, 0], [1, 2], [0, 1], [0, 0]]), [x, w])


def test_conv2d_strides_forms():
    x = random_array((1, 5, 5, 1), seed=28)
    w = random_array((2, 2, 1, 1), seed=29)
    expected = ref_conv2d(x, w, (2, 2), "VALID")
    with tf.Graph().as_default():
        for strides in (2, [2], [2, 2], [1, 2, 2, 1]):
            np.testing.assert_allclose(_run(tf.nn.conv2d(x, w, strides, "VALID")), expected, rtol=1e-12)


def test_conv2d_static_shapes_with_unknown_dims():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 28, 28, 1])
        w = tf.zeros([5, 5, 1, 32])
        assert tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME").shape.as_list() == [None, 28, 28, 32]
        assert tf.nn.conv2d(x, w, [1, 2, 2, 1], "VALID").shape.as_list() == [None, 12, 12, 32]
        unknown_hw = tf.placeholder(tf.float32, [4, None, 9, 1])
        assert tf.nn.conv2d(unknown_hw, w, [1, 3, 3, 1], "SAME").shape.as_list() == [4, None, 3, 32]
        assert tf.nn.conv2d(tf.placeholder(tf.float32), w, [1, 1, 1, 1], "SAME").shape.as_list() == \
            [None, None, None, 32]


def test_conv2d_errors():
    with tf.Graph().as_default():
        x = tf.zeros([1, 5, 5, 3])
        with pytest.raises(ValueError, match="Dimensions must be equal, but are 3 and 2"):
            tf.nn.conv2d(x, tf.zeros([3, 3, 2, 4]), [1, 1, 1, 1], "SAME")
        with pytest.raises(ValueError, match="batch and depth"):
            tf.nn.conv2d(x, tf.zeros([3, 3, 3, 4]), [2, 1, 1, 1], "SAME")
        with pytest.raises(ValueError, match="Negative dimension size caused by subtracting 3 from 1"):
            tf.nn.conv2d(tf.zeros([1, 1, 1, 3]), tf.zeros([3, 3, 3, 4]), [1, 1, 1, 1], "VALID")
        with pytest.raises(ValueError, match="padding"):
            tf.nn.conv2d(x, tf.zeros([3, 3, 3, 4]), [1, 1, 1, 1], "same")
        with pytest.raises(ValueError, match="rank"):
            tf.nn.conv2d(tf.zeros([5, 5, 3]), tf.zeros([3, 3, 3, 4]), [1, 1, 1, 1], "SAME")
        with pytest.raises(ValueError, match="should be of length"):
            tf.nn.conv2d(x, tf.zeros([3, 3, 3, 4]), [1, 1, 1], "SAME")
        with pytest.raises(TypeError):
            tf.nn.conv2d(tf.zeros([1, 5, 5, 3], tf.int64), tf.zeros([3, 3, 3, 4], tf.int64), [1, 1, 1, 1], "SAME")
        fed = tf.placeholder(tf.float32)
        y = tf.nn.conv2d(fed, tf.zeros([3, 3, 3, 4]), [1, 1, 1, 1], "SAME")
        with pytest.raises(tf.errors.InvalidArgumentError, match="same depth"):
            _run(y, {fed: np.zeros((1, 5, 5, 2), np.float32)})


@pytest.mark.parametrize("hw,khw,strides,dilations,padding", CONV_CASES[:7])
def test_conv2d_gradient(hw, khw, strides, dilations, padding):
    x = random_array((2, *hw, 2), seed=30)
    w = random_array((*khw, 2, 3), seed=31)
    check_gradients(lambda a, b: tf.nn.conv2d(a, b, [1, *strides, 1], padding, dilations=[1, *dilations, 1]), [x, w])


@pytest.mark.parametrize("hw,khw,strides,dilations,padding", CONV_CASES)
def test_conv2d_backprop_ops_match_naive_reference(hw, khw, strides, dilations, padding):
    x = random_array((2, *hw, 3), seed=32)
    w = random_array((*khw, 3, 4), seed=33)
    out_shape = ref_conv2d(x, w, strides, padding, dilations).shape
    dy = random_array(out_shape, seed=34)
    with tf.Graph().as_default():
        dx = tf.nn.conv2d_backprop_input(list(x.shape), w, dy, [1, *strides, 1], padding,
                                         dilations=[1, *dilations, 1])
        dw = tf.nn.conv2d_backprop_filter(x, list(w.shape), dy, [1, *strides, 1], padding,
                                          dilations=[1, *dilations, 1])
        assert dx.shape.as_list() == list(x.shape) and dw.shape.as_list() == list(w.shape)
        got_dx, got_dw = _run([dx, dw])
    np.testing.assert_allclose(got_dx, ref_conv2d_backprop_input(x.shape, w, dy, strides, padding, dilations),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got_dw, ref_conv2d_backprop_filter(x, w.shape, dy, strides, padding, dilations),
                               rtol=1e-10, atol=1e-12)


def test_conv2d_backprop_ops_are_differentiable():
    x = random_array((1, 5, 4, 2), seed=35)
    w = random_array((3, 2, 2, 3), seed=36)
    dy = random_array((1, 3, 2, 3), seed=37)
    check_gradients(lambda b, g: tf.nn.conv2d_backprop_input([1, 5, 4, 2], b, g, [1, 2, 2, 1], "SAME"), [w, dy])
    check_gradients(lambda a, g: tf.nn.conv2d_backprop_filter(a, [3, 2, 2, 3], g, [1, 2, 2, 1], "SAME"), [x, dy])


def test_conv2d_backprop_input_rejects_mismatched_out_backprop():
    with tf.Graph().as_default():
        dy = tf.placeholder(tf.float32)
        dx = tf.nn.conv2d_backprop_input([1, 4, 4, 1], tf.zeros([2, 2, 1, 1]), dy, [1, 1, 1, 1], "VALID")
        with pytest.raises(tf.errors.InvalidArgumentError, match="Size of out_backprop doesn't match"):
            _run(dx, {dy: np.zeros((1, 4, 4, 1), np.float32)})


def test_conv2d_transpose_is_the_gradient_of_conv2d():
    x = random_array((2, 7, 6, 3), seed=38)
    w = random_array((3, 3, 3, 4), seed=39)
    dy = random_array((2, 4, 3, 4), seed=40)
    with tf.Graph().as_default():
        xt = tf.constant(x)
        y = tf.nn.conv2d(xt, w, [1, 2, 2, 1], "SAME")
        grad = tf.gradients(y, xt, grad_ys=tf.constant(dy))[0]
        transposed = tf.nn.conv2d_transpose(dy, w, output_shape=[2, 7, 6, 3], strides=[1, 2, 2, 1])
        assert transposed.shape.as_list() == [2, 7, 6, 3]
        g, t = _run([grad, transposed])
    np.testing.assert_allclose(t, g, rtol=1e-12)
    np.testing.assert_allclose(t, ref_conv2d_backprop_input(x.shape, w, dy, (2, 2), "SAME"), rtol=1e-10)
    check_gradients(lambda v, f: tf.nn.conv2d_transpose(v, f, [2, 7, 6, 3], [1, 2, 2, 1], "SAME"),
                    [dy, w])


def test_conv2d_transpose_errors():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="input channels does not match"):
            tf.nn.conv2d_transpose(tf.zeros([1, 2, 2, 5]), tf.zeros([3, 3, 3, 4]), [1, 4, 4, 3], [1, 2, 2, 1])
        with pytest.raises(ValueError, match="output_shape does not match filter's output channels"):
            tf.nn.conv2d_transpose(tf.zeros([1, 2, 2, 4]), tf.zeros([3, 3, 3, 4]), [1, 4, 4, 2], [1, 2, 2, 1])
        with pytest.raises(ValueError, match="output_shape must have shape"):
            tf.nn.conv2d_transpose(tf.zeros([1, 2, 2, 4]), tf.zeros([3, 3, 3, 4]), [1, 4, 4], [1, 2, 2, 1])
        with pytest.raises(ValueError, match="padding must be either VALID or SAME"):
            tf.nn.conv2d_transpose(tf.zeros([1, 2, 2, 4]), tf.zeros([3, 3, 3, 4]), [1, 4, 4, 3], [1, 2, 2, 1],
                                   padding="FULL")


def test_conv1d_and_atrous_conv2d():
    x = random_array((2, 9, 3), seed=41)
    w = random_array((3, 3, 2), seed=42)
    expected = ref_conv2d(x[:, None], w[None], (1, 2), "SAME")[:, 0]
    with tf.Graph().as_default():
        y = tf.nn.conv1d(x, w, stride=2, padding="SAME")
        assert y.shape.as_list() == [2, 5, 2]
        np.testing.assert_allclose(_run(y), expected, rtol=1e-10)
    x2 = random_array((1, 7, 7, 2), seed=43)
    w2 = random_array((2, 2, 2, 1), seed=44)
    with tf.Graph().as_default():
        np.testing.assert_allclose(_run(tf.nn.atrous_conv2d(x2, w2, rate=2, padding="VALID")),
                                   ref_conv2d(x2, w2, (1, 1), "VALID", (2, 2)), rtol=1e-10)


def test_convolution_dispatches_on_filter_rank():
    x2 = random_array((1, 6, 5, 2), seed=101)
    w2 = random_array((3, 2, 2, 3), seed=102)
    x1 = random_array((2, 7, 2), seed=103)
    w1 = random_array((3, 2, 4), seed=104)
    with tf.Graph().as_default():
        y2 = tf.nn.convolution(x2, w2, "SAME", dilation_rate=[1, 2])
        y1 = tf.nn.convolution(x1, w1, "VALID", strides=2)
        y1_ncw = tf.nn.convolution(x1.transpose(0, 2, 1), w1, "VALID", strides=[2], data_format="NCW")
        assert y2.shape.as_list() == [1, 6, 5, 3] and y1.shape.as_list() == [2, 3, 4]
        v2, v1, v1c = _run([y2, y1, y1_ncw])
    np.testing.assert_allclose(v2, ref_conv2d(x2, w2, (1, 1), "SAME", (1, 2)), rtol=1e-10)
    ref1 = ref_conv2d(x1[:, None], w1[None], (1, 2), "VALID")[:, 0]
    np.testing.assert_allclose(v1, ref1, rtol=1e-10)
    np.testing.assert_allclose(v1c, ref1.transpose(0, 2, 1), rtol=1e-10)


# ----------------------------------------------------------------------------------------------------------
# Pooling
# ----------------------------------------------------------------------------------------------------------
def _pool_windows(shape, ksize, strides, padding):
    """For each output (i, j): the valid input rows and columns of its window."""
    _, h, w, _ = shape
    oh, pt, _ = _geometry(h, ksize[0], strides[0], 1, padding)
    ow, pl, _ = _geometry(w, ksize[1], strides[1], 1, padding)
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * strides[0] - pt, j * strides[1] - pl
            rows = [r for r in range(r0, r0 + ksize[0]) if 0 <= r < h]
            cols = [c for c in range(c0, c0 + ksize[1]) if 0 <= c < w]
            yield i, j, rows, cols
    return oh, ow


def _pool_out_shape(shape, ksize, strides, padding):
    return (shape[0], _geometry(shape[1], ksize[0], strides[0], 1, padding)[0],
            _geometry(shape[2], ksize[1], strides[1], 1, padding)[0], shape[3])


def ref_pool(x, ksize, strides, padding, reduce):
    out = np.zeros(_pool_out_shape(x.shape, ksize, strides, padding), dtype=np.float64)
    for i, j, rows, cols in _pool_windows(x.shape, ksize, strides, padding):
        out[:, i, j, :] = reduce(x[:, rows][:, :, cols].astype(np.float64), axis=(1, 2))
    return out


def ref_max_pool_grad(x, ksize, strides, padding, grad):
    dx = np.zeros(x.shape)
    for i, j, rows, cols in _pool_windows(x.shape, ksize, strides, padding):
        for n in range(x.shape[0]):
            for c in range(x.shape[3]):
                window = x[n][np.ix_(rows, cols)][:, :, c]
                a, b = np.unravel_index(np.argmax(window), window.shape)  # first maximum, row-major
                dx[n, rows[a], cols[b], c] += grad[n, i, j, c]
    return dx


POOL_CASES = [
    ((5, 6), (2, 2), (2, 2), "VALID"),
    ((5, 6), (2, 2), (2, 2), "SAME"),
    ((5, 5), (3, 3), (1, 1), "SAME"),
    ((6, 7), (3, 2), (2, 3), "SAME"),
    ((7, 7), (3, 3), (2, 2), "VALID"),
    ((4, 4), (1, 1), (1, 1), "VALID"),
]


@pytest.mark.parametrize("hw,ksize,strides,padding", POOL_CASES)
def test_max_and_avg_pool_match_naive_reference(hw, ksize, strides, padding):
    x = random_array((2, *hw, 3), seed=45)
    with tf.Graph().as_default():
        mp = tf.nn.max_pool(x, [1, *ksize, 1], [1, *strides, 1], padding)
        ap = tf.nn.avg_pool(x, [1, *ksize, 1], [1, *strides, 1], padding)
        expected_shape = list(_pool_out_shape(x.shape, ksize, strides, padding))
        assert mp.shape.as_list() == expected_shape and ap.shape.as_list() == expected_shape
        got_max, got_avg = _run([mp, ap])
    np.testing.assert_array_equal(got_max, ref_pool(x, ksize, strides, padding, np.max))
    # SAME windows at the border average over their real elements only.
    np.testing.assert_allclose(got_avg, ref_pool(x, ksize, strides, padding, np.mean), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32, np.int64, np.uint8])
def test_max_pool_dtypes(dtype):
    x = random_array((1, 5, 5, 2), dtype, low=0, high=100, seed=46)
    check_against_numpy(lambda a: tf.nn.max_pool(a, [1, 2, 2, 1], [1, 2, 2, 1], "SAME"),
                        lambda a: ref_pool(a, (2, 2), (2, 2), "SAME", np.max).astype(dtype), x)


@pytest.mark.parametrize("dtype", FLOATS)
def test_avg_pool_dtypes(dtype):
    x = random_array((1, 5, 5, 2), dtype, seed=47)
    check_against_numpy(lambda a: tf.nn.avg_pool(a, 3, 2, "SAME"),
                        lambda a: ref_pool(a, (3, 3), (2, 2), "SAME", np.mean).astype(dtype), x)
    with tf.Graph().as_default(), pytest.raises(TypeError):
        tf.nn.avg_pool(tf.zeros([1, 2, 2, 1], tf.int32), 2, 2, "VALID")


def test_pools_in_nchw():
    x = random_array((2, 3, 5, 4), seed=48)
    nhwc = x.transpose(0, 2, 3, 1)
    with tf.Graph().as_default():
        mp = tf.nn.max_pool(x, [1, 1, 2, 2], [1, 1, 2, 1], "SAME", data_format="NCHW")
        ap = tf.nn.avg_pool(x, [1, 1, 2, 2], [1, 1, 2, 1], "SAME", data_format="NCHW")
        assert mp.shape.as_list() == [2, 3, 3, 4]
        got_max, got_avg = _run([mp, ap])
    np.testing.assert_array_equal(got_max, ref_pool(nhwc, (2, 2), (2, 1), "SAME", np.max).transpose(0, 3, 1, 2))
    np.testing.assert_allclose(got_avg, ref_pool(nhwc, (2, 2), (2, 1), "SAME", np.mean).transpose(0, 3, 1, 2))
    check_gradients(lambda a: tf.nn.avg_pool(a, [1, 1, 2, 2], [1, 1, 2, 1], "SAME", data_format="NCHW"), [x])


def test_pool_static_shapes_and_errors():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 28, 28, 32])
        first = tf.nn.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
        assert first.op.name == "MaxPool"
        assert first.shape.as_list() == [None, 14, 14, 32]
        assert tf.nn.max_pool2d(x, 3, 2, "VALID").shape.as_list() == [None, 13, 13, 32]
        assert tf.nn.avg_pool2d(x, 3, 2, "SAME").shape.as_list() == [None, 14, 14, 32]
        with pytest.raises(ValueError, match="ksize cannot be zero"):
            tf.nn.max_pool(x, [1, 0, 2, 1], [1, 2, 2, 1], "SAME")
        with pytest.raises(ValueError, match="batch and depth"):
            tf.nn.max_pool(x, [2, 2, 2, 1], [1, 2, 2, 1], "SAME")
        with pytest.raises(ValueError, match="padding"):
            tf.nn.avg_pool(x, 2, 2, "EXPLICIT")
        with pytest.raises(ValueError, match="Negative dimension size caused by subtracting 3 from 1"):
            tf.nn.max_pool(tf.zeros([1, 1, 1, 1]), 3, 1, "VALID")


def _distinct(shape, seed):
    """Values spaced 0.1 apart in random order: no ties, so max pooling is differentiable there."""
    return np.random.RandomState(seed).permutation(int(np.prod(shape))).reshape(shape) * 0.1


@pytest.mark.parametrize("hw,ksize,strides,padding", POOL_CASES[:5])
def test_pool_gradients(hw, ksize, strides, padding):
    x = _distinct((2, *hw, 2), seed=49)
    check_gradients(lambda a: tf.nn.max_pool(a, [1, *ksize, 1], [1, *strides, 1], padding), [x])
    check_gradients(lambda a: tf.nn.avg_pool(a, [1, *ksize, 1], [1, *strides, 1], padding), [x])


def test_max_pool_grad_routes_to_first_maximum_on_ties():
    x = np.array([[1, 3, 3, 0], [3, 2, 1, 1], [0, 0, 5, 5], [0, 0, 5, 5]], dtype=np.float32).reshape(1, 4, 4, 1)
    grad = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32).reshape(1, 2, 2, 1)
    expected = ref_max_pool_grad(x, (2, 2), (2, 2), "VALID", grad)
    assert expected[0, 0, 1, 0] == 1.0 and expected[0, 0, 2, 0] == 2.0 and expected[0, 2, 2, 0] == 4.0
    with tf.Graph().as_default():
        xt = tf.constant(x)
        y = tf.nn.max_pool(xt, 2, 2, "VALID")
        got = _run(tf.gradients(y, xt, grad_ys=tf.constant(grad))[0])
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("hw,ksize,strides,padding", POOL_CASES)
def test_max_pool_grad_matches_naive_reference(hw, ksize, strides, padding):
    x = random_array((2, *hw, 2), np.float32, seed=50).round(0)  # rounding makes ties
    out_shape = _pool_out_shape(x.shape, ksize, strides, padding)
    grad = random_array(out_shape, np.float32, seed=51)
    with tf.Graph().as_default():
        xt = tf.constant(x)
        y = tf.nn.max_pool(xt, [1, *ksize, 1], [1, *strides, 1], padding)
        got = _run(tf.gradients(y, xt, grad_ys=tf.constant(grad))[0])
    np.testing.assert_allclose(got, ref_max_pool_grad(x, ksize, strides, padding, grad), rtol=1e-6)


def test_pool_second_order_gradients():
    x = _distinct((1, 5, 4, 2), seed=52)
    upstream = random_array((1, 3, 2, 2), seed=53)
    for pool in (tf.nn.max_pool, tf.nn.avg_pool):
        # Pool gradients are linear in the upstream gradient (MaxPoolGrad -> MaxPoolGradGrad, AvgPoolGrad -> AvgPool).
        def grad_wrt_upstream(g, pool=pool):
            xt = tf.constant(x)
            return tf.gradients(pool(xt, 2, 2, "SAME"), xt, grad_ys=g)[0]

        check_gradients(grad_wrt_upstream, [upstream])
    attrs = {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "SAME", "data_format": "NHWC"}
    y = ref_pool(x, (2, 2), (2, 2), "SAME", np.max)
    check_gradients(lambda g: apply_op("MaxPoolGradGrad", [tf.constant(x), tf.constant(y), g], attrs).outputs[0],
                    [random_array(x.shape, seed=54)])


def test_max_pool_grad_grad_gathers_at_the_maxima():
    x = _distinct((1, 4, 4, 1), seed=55)
    g = random_array((1, 4, 4, 1), seed=56)
    attrs = {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "VALID", "data_format": "NHWC"}
    expected = np.zeros((1, 2, 2, 1))
    for i, j, rows, cols in _pool_windows(x.shape, (2, 2), (2, 2), "VALID"):
        window = x[0][np.ix_(rows, cols)][:, :, 0]
        a, b = np.unravel_index(np.argmax(window), window.shape)
        expected[0, i, j, 0] = g[0, rows[a], cols[b], 0]
    with tf.Graph().as_default():
        y = tf.nn.max_pool(x, 2, 2, "VALID")
        out = apply_op("MaxPoolGradGrad", [tf.constant(x), y, tf.constant(g)], attrs).outputs[0]
        assert out.shape.as_list() == [1, 2, 2, 1]
        np.testing.assert_array_equal(_run(out), expected)


# ----------------------------------------------------------------------------------------------------------
# Cross-entropy
# ----------------------------------------------------------------------------------------------------------
def _np_xent(labels, logits, axis=-1):
    return -np.sum(labels * _np_log_softmax(logits, axis), axis=axis)


def _distribution(shape, seed):
    p = random_array(shape, low=0.1, high=1.0, seed=seed)
    return p / p.sum(-1, keepdims=True)


@pytest.mark.parametrize("dtype", FLOATS)
def test_softmax_xent_op_returns_loss_and_backprop(dtype):
    logits = random_array((4, 5), dtype, seed=57)
    labels = _distribution((4, 5), seed=58).astype(dtype)
    with tf.Graph().as_default():
        op = apply_op("SoftmaxCrossEntropyWithLogits", [tf.constant(logits), tf.constant(labels)])
        assert [t.shape.as_list() for t in op.outputs] == [[4], [4, 5]]
        loss, backprop = _run(op.outputs)
    assert loss.dtype == dtype and backprop.dtype == dtype
    tol = 2e-3 if dtype == np.float16 else 1e-6
    l64, x64 = labels.astype(np.float64), logits.astype(np.float64)
    np.testing.assert_allclose(loss, _np_xent(l64, x64), rtol=tol, atol=tol)
    np.testing.assert_allclose(backprop, _np_softmax(x64) - l64, rtol=tol, atol=tol)


def test_softmax_xent_op_broadcasts_labels():
    logits = random_array((3, 4), seed=59)
    labels = _distribution((1, 4), seed=60)
    with tf.Graph().as_default():
        loss, _ = apply_op("SoftmaxCrossEntropyWithLogits", [tf.constant(logits), tf.constant(labels)]).outputs
        assert loss.shape.as_list() == [3]
        np.testing.assert_allclose(_run(loss), _np_xent(labels, logits), rtol=1e-12)


@pytest.mark.parametrize("shape,axis", [((4, 5), -1), ((2, 3, 4), -1), ((5,), -1), ((3, 4), 0), ((2, 3, 4), 1)])
def test_softmax_cross_entropy_with_logits_v2_any_rank_and_axis(shape, axis):
    logits = random_array(shape, seed=61)
    labels = np.moveaxis(_distribution(np.moveaxis(np.zeros(shape), axis, -1).shape, seed=62), -1, axis)
    expected = _np_xent(labels, logits, axis)
    with tf.Graph().as_default():
        loss = tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits, axis=axis)
        assert loss.shape.as_list() == list(expected.shape)
        np.testing.assert_allclose(_run(loss), expected, rtol=1e-12)
    check_gradients(lambda lab, x: tf.nn.softmax_cross_entropy_with_logits_v2(labels=lab, logits=x, axis=axis),
                    [labels, logits])


def test_softmax_cross_entropy_v1_blocks_label_gradients_and_wants_named_args():
    logits, labels = random_array((3, 4), seed=63), _distribution((3, 4), seed=64)
    with tf.Graph().as_default():
        lab, x = tf.constant(labels), tf.constant(logits)
        loss = tf.nn.softmax_cross_entropy_with_logits(labels=lab, logits=x)
        g_lab, g_x = tf.gradients(loss, [lab, x])
        assert g_lab is None
        np.testing.assert_allclose(_run(g_x), _np_softmax(logits) - labels, rtol=1e-12)
        np.testing.assert_allclose(_run(loss), _np_xent(labels, logits), rtol=1e-12)
        with pytest.raises(ValueError, match="Only call `softmax_cross_entropy_with_logits` with named"):
            tf.nn.softmax_cross_entropy_with_logits(lab, x)
        with pytest.raises(ValueError, match="Both labels and logits must be provided"):
            tf.nn.softmax_cross_entropy_with_logits(logits=x)


def test_softmax_xent_float16_is_computed_in_float32():
    logits = random_array((2, 3), np.float16, seed=65)
    labels = _distribution((2, 3), seed=66).astype(np.float16)
    with tf.Graph().as_default():
        loss = tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
        assert loss.dtype == tf.float16
        np.testing.assert_allclose(_run(loss), _np_xent(labels.astype(np.float64), logits.astype(np.float64)),
                                   rtol=2e-3)


def test_softmax_xent_second_order_gradient_uses_backprop_output():
    labels = _distribution((3, 4), seed=67)

    def grad_of(x):
        loss = tf.nn.softmax_cross_entropy_with_logits_v2(labels=tf.constant(labels), logits=x)
        return tf.gradients(loss, x, grad_ys=tf.constant(random_array((3,), seed=68)))[0]

    check_gradients(grad_of, [random_array((3, 4), seed=69)])


@pytest.mark.parametrize("label_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 5)])
def test_sparse_softmax_cross_entropy(label_dtype, shape):
    logits = random_array(shape, seed=70)
    labels = np.random.RandomState(71).randint(0, shape[-1], size=shape[:-1]).astype(label_dtype)
    expected = -np.take_along_axis(_np_log_softmax(logits), labels[..., None].astype(np.int64), -1)[..., 0]
    with tf.Graph().as_default():
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        assert loss.shape.as_list() == list(shape[:-1])
        np.testing.assert_allclose(_run(loss), expected, rtol=1e-12)
    check_gradients(lambda x: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=x), [logits])


def test_sparse_softmax_cross_entropy_second_order_and_backprop():
    labels = np.array([1, 0, 3])

    def grad_of(x):
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=x)
        return tf.gradients(loss, x)[0]

    check_gradients(grad_of, [random_array((3, 4), seed=72)])
    with tf.Graph().as_default():
        logits = random_array((3, 4), np.float32, seed=73)
        _, backprop = apply_op("SparseSoftmaxCrossEntropyWithLogits", [tf.constant(logits), labels]).outputs
        expected = _np_softmax(logits)
        expected[np.arange(3), labels] -= 1
        np.testing.assert_allclose(_run(backprop), expected, rtol=1e-5)


def test_sparse_softmax_cross_entropy_errors():
    with tf.Graph().as_default():
        logits = tf.zeros([3, 4])
        with pytest.raises(ValueError, match="Rank mismatch"):
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.zeros([3, 4], tf.int32), logits=logits)
        with pytest.raises(ValueError, match="Shape mismatch"):
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.zeros([2], tf.int32), logits=logits)
        with pytest.raises(TypeError):
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.zeros([3]), logits=logits)
        labels = tf.placeholder(tf.int32, [3])
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"Received a label value of 4 which is outside the valid range of \[0, 4\)"):
            _run(loss, {labels: [0, 4, 1]})


def test_sigmoid_cross_entropy_with_logits():
    logits = random_array((3, 4), low=-5, high=5, seed=74)
    labels = random_array((3, 4), low=0, high=1, seed=75)
    expected = labels * -np.log(_np_sigmoid(logits)) + (1 - labels) * -np.log(1 - _np_sigmoid(logits))
    check_against_numpy(lambda lab, x: tf.nn.sigmoid_cross_entropy_with_logits(labels=lab, logits=x),
                        lambda lab, x: expected, labels, logits)
    check_gradients(lambda lab, x: tf.nn.sigmoid_cross_entropy_with_logits(labels=lab, logits=x), [labels, logits])
    with tf.Graph().as_default():
        x0 = tf.constant([0.0, 1000.0, -1000.0])
        loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.constant([0.3, 1.0, 0.0]), logits=x0)
        grad = tf.gradients(loss, x0)[0]
        lv, gv = _run([loss, grad])
    np.testing.assert_allclose(lv, [np.log(2.0), 0.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(gv, [0.5 - 0.3, 0.0, 0.0], atol=1e-7)  # exact at 0, where relu/abs kink
    with tf.Graph().as_default(), pytest.raises(ValueError, match="logits and labels must have the same shape"):
        tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.zeros([2]), logits=tf.zeros([3]))


def test_weighted_cross_entropy_with_logits():
    logits = random_array((3, 4), low=-5, high=5, seed=76)
    labels = random_array((3, 4), low=0, high=1, seed=77)
    pos_weight = 2.5
    p = _np_sigmoid(logits)
    expected = -(pos_weight * labels * np.log(p) + (1 - labels) * np.log(1 - p))
    check_against_numpy(lambda lab, x: tf.nn.weighted_cross_entropy_with_logits(labels=lab, logits=x,
                                                                               pos_weight=pos_weight),
                        lambda lab, x: expected, labels, logits, rtol=1e-10)
    check_gradients(lambda lab, x: tf.nn.weighted_cross_entropy_with_logits(targets=lab, logits=x, pos_weight=0.5),
                    [labels, logits])


# ----------------------------------------------------------------------------------------------------------
# TopK, InTopK, L2Loss
# ----------------------------------------------------------------------------------------------------------
def test_top_k_values_and_indices_with_ties_in_index_order():
    x = np.array([[1, 3, 3, 2, 3], [5, 4, 3, 2, 1]], dtype=np.int32)
    with tf.Graph().as_default():
        values, indices = tf.nn.top_k(x, k=3)
        assert values.shape.as_list() == [2, 3] and indices.dtype == tf.int32
        result = tf.nn.top_k(x, 2)
        v, i, rv = _run([values, indices, result.values])
    np.testing.assert_array_equal(v, [[3, 3, 3], [5, 4, 3]])
    np.testing.assert_array_equal(i, [[1, 2, 4], [0, 1, 2]])
    np.testing.assert_array_equal(rv, [[3, 3], [5, 4]])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int64, np.uint8])
def test_top_k_matches_numpy_sort(dtype):
    x = random_array((2, 3, 6), dtype, low=0, high=50, seed=78)

    def np_top(a):
        order = np.argsort(-a.astype(np.float64), axis=-1, kind="stable")[..., :4]
        return np.take_along_axis(a, order, -1)

    check_against_numpy(lambda a: tf.nn.top_k(a, 4)[0], np_top, x)


def test_top_k_shapes_and_errors():
    with tf.Graph().as_default():
        k = tf.placeholder(tf.int32, [])
        v, _ = tf.nn.top_k(tf.placeholder(tf.float32, [None, 7]), k)
        assert v.shape.as_list() == [None, None]
        with pytest.raises(ValueError, match="input must have last dimension >= k = 5 but is 3"):
            tf.nn.top_k(tf.zeros([2, 3]), 5)
        with pytest.raises(ValueError, match="rank"):
            tf.nn.top_k(tf.constant(1.0), 1)
        fed = tf.nn.top_k(tf.zeros([2, 3]), k)[0]
        with pytest.raises(tf.errors.InvalidArgumentError, match="input must have at least k columns. Had 3, needed 4"):
            _run(fed, {k: 4})
        with pytest.raises(tf.errors.InvalidArgumentError, match="Need k >= 0, got -1"):
            _run(fed, {k: -1})


def test_top_k_gradient_scatters_to_selected_positions():
    x = _distinct((2, 3, 5), seed=79)
    check_gradients(lambda a: tf.nn.top_k(a, 3)[0], [x])


def test_in_top_k():
    predictions = np.array([[0.1, 0.3, 0.3, 0.2], [0.9, 0.05, 0.05, 0.0], [0.2, np.nan, 0.1, 0.1],
                            [0.1, 0.2, 0.3, 0.4]], dtype=np.float32)
    with tf.Graph().as_default():
        targets = tf.placeholder(tf.int32, [4])
        in1 = tf.nn.in_top_k(predictions, targets, 1)
        in2 = tf.nn.in_top_k(predictions, tf.cast(targets, tf.int64), 2)
        assert in1.shape.as_list() == [4] and in1.dtype == tf.bool
        r1, r2 = _run([in1, in2], {targets: [2, 1, 1, 7]})
    # Ties at the boundary are all in; a NaN target prediction and an out-of-range target never are.
    np.testing.assert_array_equal(r1, [True, False, False, False])
    np.testing.assert_array_equal(r2, [True, True, False, False])
    with tf.Graph().as_default():
        r = _run(tf.nn.in_top_k(predictions, [1, 0, 0, 3], 1))
    np.testing.assert_array_equal(r, [True, True, True, True])


@pytest.mark.parametrize("dtype", FLOATS)
def test_l2_loss(dtype):
    x = random_array((3, 4), dtype, seed=80)
    check_against_numpy(tf.nn.l2_loss, lambda a: np.asarray(np.sum(a.astype(np.float64) ** 2) / 2, dtype=dtype), x,
                        rtol=2e-3 if dtype == np.float16 else 1e-6)
    with tf.Graph().as_default():
        assert tf.nn.l2_loss(tf.placeholder(tf.float32, [None, 3])).shape.as_list() == []
    check_gradients(tf.nn.l2_loss, [random_array((2, 3), seed=81)])


# ----------------------------------------------------------------------------------------------------------
# Normalization, moments, small composites
# ----------------------------------------------------------------------------------------------------------
def test_l2_normalize():
    x = random_array((3, 4), seed=82)
    check_against_numpy(lambda a: tf.nn.l2_normalize(a, axis=1),
                        lambda a: a / np.sqrt(np.sum(a * a, axis=1, keepdims=True)), x)
    check_against_numpy(lambda a: tf.nn.l2_normalize(a, dim=0),
                        lambda a: a / np.sqrt(np.sum(a * a, axis=0, keepdims=True)), x)
    with tf.Graph().as_default():
        np.testing.assert_array_equal(_run(tf.nn.l2_normalize(tf.zeros([2]), 0)), [0.0, 0.0])
    check_gradients(lambda a: tf.nn.l2_normalize(a, 1), [x])


@pytest.mark.parametrize("axes,keep", [([0], False), ([0, 1], False), ([1], True), ([0, 2], True)])
def test_moments(axes, keep):
    x = random_array((3, 4, 2), seed=83)
    with tf.Graph().as_default():
        mean, var = tf.nn.moments(tf.constant(x), axes, keep_dims=keep)
        m, v = _run([mean, var])
        assert mean.shape.as_list() == list(m.shape)
    np.testing.assert_allclose(m, x.mean(axis=tuple(axes), keepdims=keep), rtol=1e-12)
    np.testing.assert_allclose(v, x.var(axis=tuple(axes), keepdims=keep), rtol=1e-12)
    check_gradients(lambda a: list(tf.nn.moments(a, axes, keepdims=keep)), [x])


def test_moments_of_float16_accumulate_in_float32():
    x = (random_array((1000,), seed=84) + 100).astype(np.float16)
    with tf.Graph().as_default():
        mean, var = tf.nn.moments(x, [0])
        assert mean.dtype == tf.float16
        m, v = _run([mean, var])
    np.testing.assert_allclose(m, x.astype(np.float64).mean(), rtol=1e-3)
    np.testing.assert_allclose(v, x.astype(np.float64).var(), rtol=1e-2)


def test_weighted_moments():
    x = random_array((4, 3), seed=85)
    w = random_array((4, 1), low=0.5, high=2, seed=86)
    with tf.Graph().as_default():
        m, v = _run(list(tf.nn.weighted_moments(x, [0], w)))
    wb = np.broadcast_to(w, x.shape)
    mean = np.sum(wb * x, 0) / np.sum(wb, 0)
    np.testing.assert_allclose(m, mean, rtol=1e-12)
    np.testing.assert_allclose(v, np.sum(wb * (x - mean) ** 2, 0) / np.sum(wb, 0), rtol=1e-12)


def test_batch_normalization():
    x = random_array((4, 3), seed=87)
    mean, var = random_array((3,), seed=88), random_array((3,), low=0.5, high=2, seed=89)
    offset, scale = random_array((3,), seed=90), random_array((3,), seed=91)
    check_against_numpy(lambda a, m, v, o, s: tf.nn.batch_normalization(a, m, v, o, s, 1e-3),
                        lambda a, m, v, o, s: s * (a - m) / np.sqrt(v + 1e-3) + o, x, mean, var, offset, scale)
    check_against_numpy(lambda a, m, v: tf.nn.batch_normalization(a, m, v, None, None, 1e-3),
                        lambda a, m, v: (a - m) / np.sqrt(v + 1e-3), x, mean, var)
    check_gradients(lambda a, m, v, o, s: tf.nn.batch_normalization(a, m, v, o, s, 1e-3),
                    [x, mean, var, offset, scale])


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_fused_batch_norm_training_and_inference(data_format):
    x = random_array((2, 3, 4, 5), seed=92)
    axes = (0, 1, 2) if data_format == "NHWC" else (0, 2, 3)
    c = x.shape[3] if data_format == "NHWC" else x.shape[1]
    scale, offset = random_array((c,), seed=93), random_array((c,), seed=94)
    shape = [1, 1, 1, c] if data_format == "NHWC" else [1, c, 1, 1]
    mean, var = x.mean(axes), x.var(axes)
    n = x.size // c
    with tf.Graph().as_default():
        y, m, v = tf.nn.fused_batch_norm(x, scale, offset, epsilon=1e-3, data_format=data_format)
        yv, mv, vv = _run([y, m, v])
        y_inf, _, _ = tf.nn.fused_batch_norm(x, scale, offset, mean=mean, variance=var, epsilon=1e-3,
                                             data_format=data_format, is_training=False)
        yi = _run(y_inf)
    expected = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + 1e-3) * scale.reshape(shape) + \
        offset.reshape(shape)
    np.testing.assert_allclose(yv, expected, rtol=1e-10)
    np.testing.assert_allclose(yi, expected, rtol=1e-10)
    np.testing.assert_allclose(mv, mean, rtol=1e-12)
    np.testing.assert_allclose(vv, var * n / (n - 1), rtol=1e-12)  # Bessel-corrected, for moving averages


def test_dropout_scales_kept_values_and_drops_at_rate():
    x = np.ones((200, 100), dtype=np.float32)
    with tf.Graph().as_default():
        y1 = tf.nn.dropout(x, keep_prob=0.8, seed=1)
        y2 = tf.nn.dropout(x, rate=0.2, seed=1)
        assert y1.shape.as_list() == [200, 100]
        v1, v2 = _run([y1, y2])
    for v in (v1, v2):
        assert set(np.unique(v).tolist()) <= {0.0, np.float32(1 / 0.8)}
        assert abs(np.mean(v == 0) - 0.2) < 0.02
    np.testing.assert_array_equal(v1, v2)  # same seeds, same decision rule


def test_dropout_noise_shape_shares_decisions():
    x = np.ones((4, 50, 3), dtype=np.float64)
    with tf.Graph().as_default():
        v = _run(tf.nn.dropout(x, rate=0.5, noise_shape=[4, 1, 3], seed=2))
    assert np.all(v == v[:, :1, :])
    assert 0 < np.mean(v == 0) < 1


def test_dropout_gradient_is_mask_over_keep_prob():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [30, 20])
        y = tf.nn.dropout(x, keep_prob=0.6, seed=3)
        g = tf.gradients(y, x)[0]
        yv, gv = _run([y, g], {x: np.ones((30, 20))})
    np.testing.assert_allclose(gv, yv)


def test_dropout_rate_zero_is_identity_and_tensor_rates_work():
    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0])
        assert tf.nn.dropout(x, keep_prob=1.0) is x
        assert tf.nn.dropout(x, rate=tf.constant(0.0)) is x
        keep = tf.placeholder(tf.float32, [])
        y = tf.nn.dropout(x, keep_prob=keep)
        np.testing.assert_array_equal(_run(y, {keep: 1.0}), [1.0, 2.0])


def test_dropout_errors():
    with tf.Graph().as_default():
        x = tf.zeros([3])
        with pytest.raises(ValueError, match=r"rate must be a scalar tensor or a float in the range \[0, 1\)"):
            tf.nn.dropout(x, rate=1.0)
        with pytest.raises(ValueError, match="x has to be a floating point tensor"):
            tf.nn.dropout(tf.zeros([3], tf.int32), rate=0.5)
        with pytest.raises(ValueError, match="You must provide a rate to dropout"):
            tf.nn.dropout(x)
        with pytest.raises(ValueError):
            tf.nn.dropout(x, keep_prob=0.5, rate=0.5)


def test_embedding_lookup_single_table():
    params = random_array((6, 3), seed=95)
    ids = np.array([[0, 5], [2, 2]])
    with tf.Graph().as_default():
        e = tf.nn.embedding_lookup(params, ids)
        assert e.shape.as_list() == [2, 2, 3]
        np.testing.assert_array_equal(_run(e), params[ids])
    check_gradients(lambda p: tf.nn.embedding_lookup(p, ids), [params])


@pytest.mark.parametrize("strategy", ["mod", "div"])
def test_embedding_lookup_partitioned(strategy):
    table = random_array((7, 2), seed=96)
    if strategy == "mod":
        parts = [table[i::3] for i in range(3)]
    else:
        parts = [table[0:3], table[3:5], table[5:7]]
    ids = np.array([6, 0, 4, 1, 3, 5, 2])
    with tf.Graph().as_default():
        e = tf.nn.embedding_lookup([tf.constant(p) for p in parts], ids, partition_strategy=strategy)
        np.testing.assert_array_equal(_run(e), table[ids])


def test_embedding_lookup_max_norm():
    params = np.array([[3.0, 4.0], [0.3, 0.4]])
    with tf.Graph().as_default():
        e = _run(tf.nn.embedding_lookup(params, [0, 1], max_norm=1.0))
    np.testing.assert_allclose(e, [[0.6, 0.8], [0.3, 0.4]])


def test_small_composites():
    x, w, b = random_array((3, 4), seed=97), random_array((4, 2), seed=98), random_array((2,), seed=99)
    check_against_numpy(tf.nn.xw_plus_b, lambda a, c, d: a @ c + d, x, w, b)
    check_against_numpy(tf.nn.relu_layer, lambda a, c, d: np.maximum(a @ c + d, 0), x, w, b)
    check_against_numpy(tf.nn.crelu, lambda a: np.concatenate([np.maximum(a, 0), np.maximum(-a, 0)], -1), x)
    check_against_numpy(tf.nn.swish, lambda a: a * _np_sigmoid(a), x)
    check_against_numpy(tf.nn.zero_fraction, lambda a: np.float32(np.mean(a == 0)), np.array([0.0, 1.0, 0.0, 2.0]))
    check_gradients(tf.nn.xw_plus_b, [x, w, b])
    check_gradients(tf.nn.swish, [x])


def test_nn_namespace_has_math_activations():
    assert tf.nn.sigmoid is tf.sigmoid and tf.nn.tanh is tf.tanh
    assert nn_ops.relu is tf.nn.relu and nn_impl.dropout is tf.nn.dropout


@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 3, 4, 5), (1, 3, 2, 4, 5)])
def test_bias_add_channels_first_uses_axis_1_at_every_rank(shape):
    """TF's NCHW BiasAdd adds along axis 1 whatever the rank (NCW, NCHW, NCDHW), and its gradient sums the rest."""
    value = random_array(shape, np.float64, seed=3)
    bias = np.arange(1.0, 4.0)
    with tf.Session() as sess:
        got = sess.run(tf.nn.bias_add(tf.constant(value), tf.constant(bias), data_format="NCHW"))
    np.testing.assert_allclose(got, value + bias.reshape((-1,) + (1,) * (len(shape) - 2)))
    check_gradients(lambda v, b: tf.nn.bias_add(v, b, data_format="NCHW"), [value, bias])


def test_depthwise_backprop_wrappers_equal_the_gradients_of_depthwise_conv2d():
    x = tf.constant(random_array((2, 5, 6, 3), np.float64, seed=4))
    f = tf.constant(random_array((3, 2, 3, 2), np.float64, seed=5))
    y = tf.nn.depthwise_conv2d_native(x, f, [1, 2, 2, 1], "SAME")
    dy = tf.constant(random_array((2, 3, 3, 6), np.float64, seed=6))
    dx_ref, df_ref = tf.gradients(y, [x, f], grad_ys=dy)
    dx = tf.nn.depthwise_conv2d_native_backprop_input(tf.shape(x), f, dy, [1, 2, 2, 1], "SAME", name="dx")
    df = tf.nn.depthwise_conv2d_backprop_filter(x, [3, 2, 3, 2], dy, [1, 2, 2, 1], "SAME")
    assert dx.op.type == "DepthwiseConv2dNativeBackpropInput" and dx.op.name == "dx"
    assert tf.nn.depthwise_conv2d_backprop_input is tf.nn.depthwise_conv2d_native_backprop_input
    with tf.Session() as sess:
        got = sess.run([dx, df, dx_ref, df_ref])
    np.testing.assert_allclose(got[0], got[2])
    np.testing.assert_allclose(got[1], got[3])
