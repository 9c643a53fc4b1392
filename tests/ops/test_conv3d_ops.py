"""Conv3D and its backprops (tf.nn.conv3d, conv3d_transpose, conv3d_backprop_filter_v2), ExtractVolumePatches,
tf.nn.conv1d_transpose, conv_transpose, atrous_conv2d_transpose and tf.nn.separable_conv2d: recorded TensorFlow
values and gradients, a direct NumPy reference, channels-first layouts, finite-difference gradients (also of the
backprop ops themselves) and the errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conv_recorded_cases import cases_starting, check_recorded_case
from gradient_checker import check_gradients, random_array

import tfmini as tf


@pytest.mark.parametrize("name", cases_starting("conv3d", "separable_conv2d", "conv1d_transpose", "conv_transpose",
                                                "atrous_conv2d_transpose", "extract_volume_patches"))
def test_matches_recorded_tensorflow(name):
    check_recorded_case(name)


def _conv3d_reference(x, w, strides, padding, dilations=(1, 1, 1)):
    """A direct NDHWC convolution: a loop over output positions with TF's SAME padding."""
    n, spatial, c = x.shape[0], x.shape[1:4], x.shape[4]
    k = w.shape[:3]
    eff = [(kk - 1) * d + 1 for kk, d in zip(k, dilations)]
    if padding == "SAME":
        out = [-(-s // st) for s, st in zip(spatial, strides)]
        pads = [max((o - 1) * st + e - s, 0) // 2 for o, st, e, s in zip(out, strides, eff, spatial)]
    else:
        out = [(s - e) // st + 1 for s, e, st in zip(spatial, eff, strides)]
        pads = [0, 0, 0]
    xp = np.zeros((n, *(s + 2 * e for s, e in zip(spatial, eff)), c), dtype=np.float64)
    xp[:, :spatial[0], :spatial[1], :spatial[2]] = x
    xp = np.roll(xp, pads, axis=(1, 2, 3))
    y = np.zeros((n, *out, w.shape[4]))
    for o in itertools.product(*(range(v) for v in out)):
        start = [oo * st for oo, st in zip(o, strides)]
        win = xp[:, start[0]:start[0] + eff[0]:dilations[0], start[1]:start[1] + eff[1]:dilations[1],
                 start[2]:start[2] + eff[2]:dilations[2]]
        y[(slice(None), *o)] = np.einsum("ndhwc,dhwco->no", win, w)
    return y


@pytest.mark.parametrize("padding, strides, dilations", [
    ("SAME", (1, 1, 1), (1, 1, 1)),
    ("SAME", (2, 1, 3), (1, 1, 1)),
    ("VALID", (1, 2, 1), (1, 1, 1)),
    ("VALID", (1, 1, 1), (2, 1, 2)),
    ("SAME", (1, 1, 1), (1, 2, 1)),
])
def test_conv3d_matches_a_direct_reference(padding, strides, dilations):
    x = random_array((2, 5, 6, 5, 3), seed=1)
    w = random_array((2, 3, 2, 3, 4), seed=2)
    with tf.Graph().as_default(), tf.Session() as sess:
        y = tf.nn.conv3d(x, w, [1, *strides, 1], padding, dilations=[1, *dilations, 1])
        got = sess.run(y)
    want = _conv3d_reference(x, w, strides, padding, dilations)
    assert y.shape.as_list() == list(want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_channels_first_layout_is_the_transposed_channels_last_result():
    x = random_array((2, 4, 5, 3, 2), dtype=np.float32, seed=3)
    w = random_array((3, 2, 2, 2, 3), dtype=np.float32, seed=4)
    x_first = np.transpose(x, (0, 4, 1, 2, 3))
    with tf.Graph().as_default(), tf.Session() as sess:
        w = tf.constant(w)
        last = tf.nn.conv3d(x, w, [1, 2, 1, 1, 1], "SAME")
        first = tf.nn.conv3d(x_first, w, [1, 1, 2, 1, 1], "SAME", data_format="NCDHW")
        d_last = tf.gradients(last, [w])[0]
        d_first = tf.gradients(first, [w])[0]
        assert first.shape.as_list() == [2, 3, 2, 5, 3]
        got_last, got_first, g_last, g_first = sess.run([last, first, d_last, d_first])
    np.testing.assert_allclose(got_first, np.transpose(got_last, (0, 4, 1, 2, 3)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g_first, g_last, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("padding, strides", [("SAME", [1, 2, 1, 2, 1]), ("VALID", [1, 1, 2, 1, 1])])
def test_conv3d_gradients_match_finite_differences(padding, strides):
    check_gradients(lambda x, w: tf.nn.conv3d(x, w, strides, padding),
                    [random_array((1, 4, 5, 4, 2), seed=5), random_array((2, 2, 3, 2, 3), seed=6)])


def test_backprop_ops_gradients_match_finite_differences():
    """The second derivatives go through the backprop ops' own gradients."""
    strides = [1, 2, 1, 1, 1]
    check_gradients(lambda dy, w: tf.nn.conv3d_transpose(dy, w, [1, 4, 3, 4, 2], strides, "SAME"),
                    [random_array((1, 2, 3, 4, 3), seed=7), random_array((2, 2, 2, 2, 3), seed=8)])
    check_gradients(lambda x, dy: tf.nn.conv3d_backprop_filter_v2(x, [2, 2, 2, 2, 3], dy, strides, "SAME"),
                    [random_array((1, 4, 3, 4, 2), seed=9), random_array((1, 2, 3, 4, 3), seed=10)])


def test_separable_conv2d_is_depthwise_then_pointwise_with_graph_names():
    x = random_array((1, 5, 5, 2), seed=11)
    dw = random_array((3, 3, 2, 2), seed=12)
    pw = random_array((1, 1, 4, 3), seed=13)
    with tf.Graph().as_default() as g, tf.Session() as sess:
        y = tf.nn.separable_conv2d(x, dw, pw, [1, 1, 1, 1], "SAME", name="sep")
        ref = tf.nn.conv2d(tf.nn.depthwise_conv2d(x, dw, [1, 1, 1, 1], "SAME"), pw, [1, 1, 1, 1], "VALID")
        got, want = sess.run([y, ref])
        assert y.op.name == "sep" and y.op.type == "Conv2D"
        assert g.get_operation_by_name("sep/depthwise").type == "DepthwiseConv2dNative"
    np.testing.assert_allclose(got, want, rtol=1e-12)
    check_gradients(lambda a, b, c: tf.nn.separable_conv2d(a, b, c, [1, 2, 2, 1], "VALID"),
                    [x, dw, pw])


def test_static_shapes_and_shape_errors():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 8, 7, 6, 3])
        assert tf.nn.conv3d(x, tf.zeros([3, 3, 3, 3, 5]), [1, 2, 2, 3, 1], "SAME").shape.as_list() == \
            [None, 4, 4, 2, 5]
        assert tf.nn.conv3d(x, tf.zeros([3, 3, 3, 3, 5]), [1, 1, 1, 1, 1], "VALID").shape.as_list() == \
            [None, 6, 5, 4, 5]
        with pytest.raises(ValueError, match="Dimensions must be equal"):
            tf.nn.conv3d(x, tf.zeros([1, 1, 1, 4, 2]), [1, 1, 1, 1, 1], "SAME")
        with pytest.raises(ValueError, match="batch and depth"):
            tf.nn.conv3d(x, tf.zeros([1, 1, 1, 3, 2]), [2, 1, 1, 1, 1], "SAME")
        with pytest.raises(ValueError, match="length 1, 3 or 5"):
            tf.nn.conv3d(x, tf.zeros([1, 1, 1, 3, 2]), [1, 1, 1, 1], "SAME")
        with pytest.raises(ValueError, match="Negative dimension size"):
            tf.nn.conv3d(x, tf.zeros([9, 1, 1, 3, 2]), [1, 1, 1, 1, 1], "VALID")
        with pytest.raises(ValueError, match="output_shape does not match"):
            tf.nn.conv3d_transpose(tf.zeros([1, 2, 2, 2, 4]), tf.zeros([2, 2, 2, 3, 4]), [1, 4, 4, 4, 5],
                                   [1, 2, 2, 2, 1])
        with pytest.raises(ValueError, match="not compatible"):
            tf.nn.separable_conv2d(tf.zeros([1, 4, 4, 2]), tf.zeros([2, 2, 2, 1]), tf.zeros([2, 1, 2, 3]),
                                   [1, 1, 1, 1], "SAME")


def test_run_time_errors_name_the_op_and_leave_the_session_usable():
    with tf.Graph().as_default(), tf.Session() as sess:
        x = tf.placeholder(tf.float32)
        f = tf.placeholder(tf.float32)
        y = tf.nn.conv3d(x, f, [1, 1, 1, 1, 1], "VALID", name="c3")
        with pytest.raises(tf.errors.InvalidArgumentError, match="depth") as info:
            sess.run(y, {x: np.zeros((1, 3, 3, 3, 2)), f: np.zeros((1, 1, 1, 3, 1))})
        assert "c3" in str(info.value)
        with pytest.raises(tf.errors.InvalidArgumentError, match="5-dimensional"):
            sess.run(y, {x: np.zeros((1, 3, 3, 2)), f: np.zeros((1, 1, 1, 2, 1))})
        dx = tf.nn.conv3d_transpose(x, f, [1, 4, 4, 4, 2], [1, 1, 1, 1, 1], "VALID")
        with pytest.raises(tf.errors.InvalidArgumentError, match="out_backprop"):
            sess.run(dx, {x: np.zeros((1, 3, 3, 3, 1)), f: np.zeros((1, 1, 1, 2, 1))})
        out = sess.run(y, {x: np.ones((1, 2, 2, 2, 1)), f: np.full((1, 1, 1, 1, 1), 2.0)})
        np.testing.assert_array_equal(out, np.full((1, 2, 2, 2, 1), 2.0, np.float32))


def test_kernels_leave_fed_inputs_unchanged_and_handle_empty_batches():
    x = random_array((2, 3, 3, 3, 2), dtype=np.float32, seed=14)
    w = random_array((2, 2, 2, 2, 3), dtype=np.float32, seed=15)
    x0, w0 = x.copy(), w.copy()
    with tf.Graph().as_default(), tf.Session() as sess:
        xp = tf.placeholder(tf.float32, [None, 3, 3, 3, 2])
        wp = tf.placeholder(tf.float32, [2, 2, 2, 2, 3])
        y = tf.nn.conv3d(xp, wp, [1, 1, 1, 1, 1], "SAME")
        dx, dw = tf.gradients(y, [xp, wp])
        sess.run([y, dx, dw], {xp: x, wp: w})
        empty = sess.run([y, dx, dw], {xp: np.zeros((0, 3, 3, 3, 2), np.float32), wp: w})
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(w, w0)
    assert empty[0].shape == (0, 3, 3, 3, 3) and empty[1].shape == (0, 3, 3, 3, 2)
    np.testing.assert_array_equal(empty[2], np.zeros_like(w))


def test_transposed_convolutions_are_the_gradients_of_their_convolutions():
    """conv1d_transpose (also dilated) and atrous_conv2d_transpose give conv1d's and atrous_conv2d's input
    gradient for the same filter."""
    x1, f1, dy1 = random_array((2, 9, 3), seed=20), random_array((3, 3, 4), seed=21), random_array((2, 4, 4), seed=22)
    x2, f2, dy2 = (random_array((1, 7, 6, 2), seed=23), random_array((2, 3, 2, 3), seed=24),
                   random_array((1, 7, 6, 3), seed=25))
    with tf.Graph().as_default(), tf.Session() as sess:
        t1 = tf.constant(x1)
        want1 = tf.gradients(tf.nn.conv1d(t1, f1, 2, "VALID", dilations=1), t1, grad_ys=dy1)[0]
        got1 = tf.nn.conv1d_transpose(dy1, f1, [2, 9, 3], 2, "VALID")
        t1d = tf.constant(x1[:, :8])
        dy1d = dy1[:, :4]
        want1d = tf.gradients(tf.nn.conv1d(t1d, f1, 1, "VALID", dilations=2), t1d, grad_ys=dy1d)[0]
        got1d = tf.nn.conv1d_transpose(dy1d, f1, [2, 8, 3], 1, "VALID", dilations=2)
        t2 = tf.constant(x2)
        want2 = tf.gradients(tf.nn.atrous_conv2d(t2, f2, 2, "SAME"), t2, grad_ys=dy2)[0]
        got2 = tf.nn.atrous_conv2d_transpose(dy2, f2, [1, 7, 6, 2], 2, "SAME")
        results = sess.run([got1, want1, got1d, want1d, got2, want2])
    for got, want in zip(results[::2], results[1::2]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_extract_volume_patches_layout_and_gradient():
    x = np.arange(2 * 3 * 4 * 2 * 2, dtype=np.float64).reshape(2, 3, 4, 2, 2)
    with tf.Graph().as_default(), tf.Session() as sess:
        p = tf.extract_volume_patches(x, [1, 2, 2, 1, 1], [1, 1, 2, 1, 1], "VALID")
        assert p.shape.as_list() == [2, 2, 2, 2, 8]
        got = sess.run(p)
    # patch (b, i, j, k): planes i..i+1, rows 2j..2j+1, column k, in (plane, row, channel) order
    want = np.stack([x[:, i:i + 2, 2 * j:2 * j + 2, k].reshape(2, -1) for i in range(2) for j in range(2)
                     for k in range(2)], axis=1).reshape(2, 2, 2, 2, 8)
    np.testing.assert_array_equal(got, want)
    check_gradients(lambda t: tf.extract_volume_patches(t, [1, 2, 3, 2, 1], [1, 1, 2, 2, 1], "SAME"),
                    [random_array((1, 3, 4, 3, 2), seed=26)])


def test_transposed_convolution_argument_errors():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="length 3, 4 or 5"):
            tf.nn.conv_transpose(tf.zeros([1, 2, 2]), tf.zeros([1, 2, 2]), [1, 2], 1)
        with pytest.raises(ValueError, match="cannot be less than one"):
            tf.nn.atrous_conv2d_transpose(tf.zeros([1, 3, 3, 2]), tf.zeros([2, 2, 1, 2]), [1, 3, 3, 1], 0, "SAME")
        with pytest.raises(ValueError, match="input channels"):
            tf.nn.atrous_conv2d_transpose(tf.zeros([1, 3, 3, 2]), tf.zeros([2, 2, 1, 3]), [1, 3, 3, 1], 2, "SAME")
        with pytest.raises(ValueError, match="NWC"):
            tf.nn.conv1d_transpose(tf.zeros([1, 3, 2]), tf.zeros([2, 1, 2]), [1, 3, 1], 1, data_format="NHWC")
        with pytest.raises(ValueError, match="batch and depth"):
            tf.extract_volume_patches(tf.zeros([1, 2, 2, 2, 1]), [2, 1, 1, 1, 1], [1, 1, 1, 1, 1], "SAME")


def test_half_precision_computes_in_float32_and_rounds_once():
    x = random_array((1, 3, 4, 3, 2), dtype=np.float16, seed=27)
    w = random_array((2, 2, 2, 2, 3), dtype=np.float16, seed=28)
    with tf.Graph().as_default(), tf.Session() as sess:
        y = tf.nn.conv3d(x, w, [1, 1, 1, 1, 1], "SAME")
        p = tf.nn.avg_pool3d(x, 2, 1, "SAME")
        got, pooled = sess.run([y, p])
        want = sess.run(tf.nn.conv3d(x.astype(np.float32), w.astype(np.float32), [1, 1, 1, 1, 1], "SAME"))
        want_pooled = sess.run(tf.nn.avg_pool3d(x.astype(np.float32), 2, 1, "SAME"))
    assert got.dtype == np.float16 and pooled.dtype == np.float16
    np.testing.assert_array_equal(got, want.astype(np.float16))
    np.testing.assert_array_equal(pooled, want_pooled.astype(np.float16))
