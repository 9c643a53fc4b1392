"""MaxPool3D/AvgPool3D, MaxPoolWithArgmax, MaxPoolV2, Dilation2D and the wrappers tf.nn.pool, max_pool1d/3d,
avg_pool1d/3d, max_pool_v2/avg_pool_v2, dilation2d and erosion2d: recorded TensorFlow values and gradients, NumPy
references, finite-difference gradients and the errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conv_recorded_cases import cases_starting, check_recorded_case
from gradient_checker import check_gradients, random_array

import tfmini as tf
from tfmini.framework.registry import apply_op


@pytest.mark.parametrize("name", cases_starting("max_pool", "avg_pool", "pool_", "dilation2d", "erosion2d"))
def test_matches_recorded_tensorflow(name):
    check_recorded_case(name)


def _pool_reference(x, k, s, padding, reduce):
    """A direct channels-last N-d pool over real (unpadded) elements, looping over output positions."""
    spatial = x.shape[1:-1]
    if padding == "SAME":
        out = [-(-n // st) for n, st in zip(spatial, s)]
        pads = [max((o - 1) * st + kk - n, 0) // 2 for o, st, kk, n in zip(out, s, k, spatial)]
    else:
        out = [(n - kk) // st + 1 for n, kk, st in zip(spatial, k, s)]
        pads = [0] * len(spatial)
    y = np.zeros((x.shape[0], *out, x.shape[-1]), dtype=np.float64)
    for o in itertools.product(*(range(v) for v in out)):
        index = tuple(slice(max(oo * st - p, 0), oo * st - p + kk) for oo, st, p, kk in zip(o, s, pads, k))
        y[(slice(None), *o)] = reduce(x[(slice(None), *index)], axis=tuple(range(1, len(k) + 1)))
    return y


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("fn, reduce", [(tf.nn.max_pool3d, np.max), (tf.nn.avg_pool3d, np.mean)])
def test_3d_pools_match_a_direct_reference(fn, reduce, padding):
    x = random_array((2, 5, 4, 6, 3), dtype=np.float32, seed=1)
    with tf.Graph().as_default(), tf.Session() as sess:
        y = fn(x, [1, 2, 3, 2, 1], [1, 2, 1, 3, 1], padding)
        got = sess.run(y)
    want = _pool_reference(x.astype(np.float64), (2, 3, 2), (2, 1, 3), padding, reduce)
    assert y.shape.as_list() == list(want.shape) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_3d_pools_in_channels_first_layout():
    x = random_array((2, 4, 5, 3, 2), dtype=np.float32, seed=2)
    x_first = np.transpose(x, (0, 4, 1, 2, 3))
    with tf.Graph().as_default(), tf.Session() as sess:
        for fn in (tf.nn.max_pool3d, tf.nn.avg_pool3d):
            last = fn(x, 2, [1, 2, 2, 1, 1], "SAME")
            first = fn(x_first, 2, [1, 1, 2, 2, 1], "SAME", data_format="NCDHW")
            a, b = sess.run([last, first])
            np.testing.assert_allclose(b, np.transpose(a, (0, 4, 1, 2, 3)), rtol=1e-6)


def test_avg_pool3d_gradients_match_finite_differences():
    check_gradients(lambda x: tf.nn.avg_pool3d(x, [1, 2, 3, 2, 1], [1, 2, 1, 1, 1], "SAME"),
                    [random_array((2, 3, 4, 3, 2), seed=3)])
    # the gradient op's own gradient (AvgPool3DGrad -> AvgPool3D)
    check_gradients(_avg_pool3d_grad_of, [random_array((1, 2, 2, 2, 1), seed=4)])


def _avg_pool3d_grad_of(g):
    x = tf.zeros([1, 4, 3, 4, 1], tf.float64)
    return tf.gradients(tf.nn.avg_pool3d(x, 2, 2, "SAME"), x, grad_ys=g)[0]


def test_max_pool3d_gradient_of_the_gradient_gathers_at_the_first_maximum():
    x = np.ones((1, 3, 3, 1, 1), np.float32)
    with tf.Graph().as_default(), tf.Session() as sess:
        xt = tf.constant(x)
        y = tf.nn.max_pool3d(xt, [1, 2, 2, 1, 1], [1, 1, 1, 1, 1], "VALID")
        gy = tf.placeholder(tf.float32, y.shape)
        dx = tf.gradients(y, xt, grad_ys=gy)[0]
        v = tf.constant(np.arange(9, dtype=np.float32).reshape(x.shape))
        ddy = tf.gradients(dx, gy, grad_ys=v)[0]
        got_dx, got_ddy = sess.run([dx, ddy], {gy: np.ones((1, 2, 2, 1, 1), np.float32)})
    # every tied element receives each window's gradient; the second derivative reads the first one only
    np.testing.assert_array_equal(got_dx.ravel(), [1, 2, 1, 2, 4, 2, 1, 2, 1])
    np.testing.assert_array_equal(got_ddy.ravel(), [0, 1, 3, 4])


def _argmax_reference(x, k, s, include_batch):
    n, h, w, c = x.shape
    oh, ow = (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1
    out = np.zeros((n, oh, ow, c), x.dtype)
    arg = np.zeros((n, oh, ow, c), np.int64)
    for b, i, j, ch in itertools.product(range(n), range(oh), range(ow), range(c)):
        win = x[b, i * s[0]:i * s[0] + k[0], j * s[1]:j * s[1] + k[1], ch]
        r, q = np.unravel_index(np.argmax(win), win.shape)
        y, xx = i * s[0] + r, j * s[1] + q
        out[b, i, j, ch] = win[r, q]
        arg[b, i, j, ch] = ((b * h + y) * w + xx) * c + ch if include_batch else (y * w + xx) * c + ch
    return out, arg


@pytest.mark.parametrize("include_batch", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.int32])
def test_max_pool_with_argmax_matches_a_reference(include_batch, dtype):
    x = random_array((2, 5, 6, 3), dtype=dtype, low=-50, high=50, seed=5)
    with tf.Graph().as_default(), tf.Session() as sess:
        out, arg = tf.nn.max_pool_with_argmax(x, [1, 2, 3, 1], [1, 2, 1, 1], "VALID",
                                              include_batch_in_index=include_batch)
        assert arg.dtype == tf.int64 and out.shape.as_list() == [2, 2, 4, 3]
        result = sess.run(tf.nn.max_pool_with_argmax(x, [1, 2, 3, 1], [1, 2, 1, 1], "VALID",
                                                     include_batch_in_index=include_batch, Targmax=tf.int32))
    assert type(result).__name__ == "MaxPoolWithArgmax" and result.argmax.dtype == np.int32
    want_out, want_arg = _argmax_reference(x, (2, 3), (2, 1), include_batch)
    np.testing.assert_array_equal(result.output, want_out)
    np.testing.assert_array_equal(result.argmax, want_arg)


def test_max_pool_with_argmax_gradients():
    x = random_array((2, 4, 5, 2), seed=6)
    check_gradients(lambda t: tf.nn.max_pool_with_argmax(t, [1, 2, 2, 1], [1, 1, 2, 1], "SAME")[0], [x])
    with tf.Graph().as_default(), tf.Session() as sess:
        xt = tf.constant(x)
        out, arg = tf.nn.max_pool_with_argmax(xt, [1, 2, 2, 1], [1, 1, 2, 1], "SAME")
        gy = tf.placeholder(tf.float64, out.shape)
        dx = tf.gradients(out, xt, grad_ys=gy)[0]
        v = random_array(x.shape, seed=7)
        ddy = tf.gradients(dx, gy, grad_ys=tf.constant(v))[0]
        got, flat = sess.run([ddy, arg], {gy: np.ones(out.shape.as_list())})
    np.testing.assert_array_equal(got, v.reshape(2, -1)[np.arange(2)[:, None], flat.reshape(2, -1)].reshape(
        flat.shape))


def test_max_pool_with_argmax_refuses_other_layouts_and_bad_argmax():
    attrs = {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "VALID"}
    with tf.Graph().as_default(), tf.Session() as sess:
        with pytest.raises(ValueError, match="NHWC"):
            tf.nn.max_pool_with_argmax(tf.zeros([1, 2, 2, 1]), 2, 2, "SAME", data_format="NCHW")
        arg = tf.placeholder(tf.int64, [1, 1, 1, 1])
        dx = apply_op("MaxPoolGradWithArgmax", [tf.zeros([1, 2, 2, 1]), tf.ones([1, 1, 1, 1]), arg],
                      attrs).outputs[0]
        with pytest.raises(tf.errors.InvalidArgumentError, match="Invalid argmax"):
            sess.run(dx, {arg: [[[[4]]]]})
        np.testing.assert_array_equal(sess.run(dx, {arg: [[[[3]]]]}).ravel(), [0, 0, 0, 1])


def _dilation_reference(x, f, s, r, padding):
    n, h, w, c = x.shape
    kh, kw = f.shape[:2]
    eh, ew = (kh - 1) * r[0] + 1, (kw - 1) * r[1] + 1
    if padding == "SAME":
        oh, ow = -(-h // s[0]), -(-w // s[1])
        pt, pl = max((oh - 1) * s[0] + eh - h, 0) // 2, max((ow - 1) * s[1] + ew - w, 0) // 2
    else:
        oh, ow = (h - eh) // s[0] + 1, (w - ew) // s[1] + 1
        pt = pl = 0
    out = np.full((n, oh, ow, c), -np.inf)
    for i, j, di, dj in itertools.product(range(oh), range(ow), range(kh), range(kw)):
        y, q = i * s[0] + di * r[0] - pt, j * s[1] + dj * r[1] - pl
        if 0 <= y < h and 0 <= q < w:
            out[:, i, j] = np.maximum(out[:, i, j], x[:, y, q] + f[di, dj])
    return out


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_dilation2d_matches_a_reference_and_erosion_is_its_dual(padding):
    x = random_array((2, 6, 7, 3), seed=8)
    f = random_array((2, 3, 3), seed=9)
    with tf.Graph().as_default(), tf.Session() as sess:
        d = tf.nn.dilation2d(x, f, [1, 2, 1, 1], [1, 1, 2, 1], padding)
        e = tf.nn.erosion2d(x, f, [1, 2, 1, 1], [1, 1, 2, 1], padding)
        got_d, got_e = sess.run([d, e])
        assert d.shape.as_list() == list(got_d.shape)
    np.testing.assert_allclose(got_d, _dilation_reference(x, f, (2, 1), (1, 2), padding), rtol=1e-12)
    np.testing.assert_allclose(got_e, -_dilation_reference(-x, f[::-1, ::-1], (2, 1), (1, 2), padding),
                               rtol=1e-12)


def test_dilation2d_gradients_match_finite_differences():
    x = np.random.RandomState(10).permutation(60).reshape(1, 5, 4, 3) / 10.0
    f = np.random.RandomState(11).permutation(12).reshape(2, 2, 3) / 7.0
    check_gradients(lambda a, b: tf.nn.dilation2d(a, b, [1, 1, 1, 1], [1, 1, 1, 1], "SAME"), [x, f])
    check_gradients(lambda a, b: tf.nn.erosion2d(a, b, [1, 2, 1, 1], [1, 1, 2, 1], "VALID"), [x, f])


def test_pool_dispatches_by_rank_and_names_its_op():
    x = random_array((2, 6, 5, 3), dtype=np.float32, seed=12)
    with tf.Graph().as_default(), tf.Session() as sess:
        p = tf.nn.pool(x, [2, 2], "MAX", "SAME", strides=[2, 1])
        assert p.op.type == "MaxPool" and p.op.name == "max_pool"
        assert tf.nn.pool(x, [2, 2], "AVG", "VALID").op.name == "avg_pool"
        ref = tf.nn.max_pool(x, [1, 2, 2, 1], [1, 2, 1, 1], "SAME")
        v2 = tf.nn.avg_pool_v2(x, 2, 1, "VALID")
        got, want, got_v2 = sess.run([p, ref, v2])
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(got_v2, _pool_reference(x, (2, 2), (1, 1), "VALID", np.mean), rtol=1e-6)


def test_pool_dilated_matches_a_dilated_reference():
    x = random_array((1, 9, 8, 2), seed=13)
    with tf.Graph().as_default(), tf.Session() as sess:
        got = sess.run(tf.nn.pool(x, [2, 3], "MAX", "VALID", dilation_rate=[3, 2]))
    want = np.zeros((1, 6, 4, 2))
    for i, j in itertools.product(range(6), range(4)):
        want[0, i, j] = x[0, i:i + 4:3, j:j + 5:2].max(axis=(0, 1))
    np.testing.assert_array_equal(got, want)
    check_gradients(lambda t: tf.nn.pool(t, [2, 2], "AVG", "VALID", dilation_rate=[2, 2]),
                    [random_array((1, 5, 6, 2), seed=14)])


def test_1d_pools_in_both_layouts():
    x = random_array((2, 7, 3), dtype=np.float32, seed=15)
    with tf.Graph().as_default(), tf.Session() as sess:
        a = tf.nn.max_pool1d(x, 3, 2, "SAME")
        b = tf.nn.max_pool1d(np.transpose(x, (0, 2, 1)), 3, 2, "SAME", data_format="NCW")
        c = tf.nn.avg_pool1d(x, [1, 2, 1], [1, 1, 1], "VALID")
        assert a.shape.as_list() == [2, 4, 3]
        got_a, got_b, got_c = sess.run([a, b, c])
    np.testing.assert_array_equal(got_b, np.transpose(got_a, (0, 2, 1)))
    np.testing.assert_allclose(got_a, _pool_reference(x, (3,), (2,), "SAME", np.max))
    np.testing.assert_allclose(got_c, _pool_reference(x, (2,), (1,), "VALID", np.mean), rtol=1e-6)


def test_graph_construction_errors():
    with tf.Graph().as_default():
        x4 = tf.zeros([1, 4, 4, 2])
        x5 = tf.zeros([1, 4, 4, 4, 2])
        with pytest.raises(ValueError, match="SAME padding is not implemented"):
            tf.nn.pool(x4, [2, 2], "MAX", "SAME", dilation_rate=[2, 2])
        with pytest.raises(ValueError, match="strides > 1"):
            tf.nn.pool(x4, [2, 2], "MAX", "VALID", dilation_rate=[2, 2], strides=[2, 2])
        with pytest.raises(ValueError, match="pooling_type"):
            tf.nn.pool(x4, [2, 2], "MIN", "VALID")
        with pytest.raises(ValueError, match="batch and depth"):
            tf.nn.max_pool3d(x5, [2, 1, 1, 1, 1], 1, "SAME")
        with pytest.raises(ValueError, match="Negative dimension size"):
            tf.nn.avg_pool3d(x5, [1, 5, 1, 1, 1], 1, "VALID")
        with pytest.raises(ValueError, match="Dimensions must be equal"):
            tf.nn.dilation2d(x4, tf.zeros([2, 2, 3]), [1, 1, 1, 1], [1, 1, 1, 1], "SAME")
        with pytest.raises(ValueError, match="rank of the input"):
            tf.nn.max_pool_v2(tf.placeholder(tf.float32), 2, 2, "SAME")
        with pytest.raises(TypeError):
            tf.nn.max_pool3d(tf.zeros([1, 2, 2, 2, 1], tf.float64), 1, 1, "SAME")


def test_run_time_errors_leave_the_session_usable():
    with tf.Graph().as_default(), tf.Session() as sess:
        x = tf.placeholder(tf.float32)
        y = tf.nn.avg_pool3d(x, 2, 1, "VALID", name="ap")
        with pytest.raises(tf.errors.InvalidArgumentError, match="5-dimensional") as info:
            sess.run(y, {x: np.zeros((2, 2, 2, 2))})
        assert "ap" in str(info.value)
        d = tf.nn.dilation2d(x, tf.placeholder_with_default(np.zeros((1, 1, 2), np.float32), None), [1, 1, 1, 1],
                             [1, 1, 1, 1], "SAME")
        with pytest.raises(tf.errors.InvalidArgumentError, match="same depth"):
            sess.run(d, {x: np.zeros((1, 2, 2, 3))})
        np.testing.assert_array_equal(sess.run(y, {x: np.ones((1, 2, 2, 2, 1))}), np.ones((1, 1, 1, 1, 1)))


def test_kernels_leave_their_inputs_unchanged():
    x = random_array((1, 4, 4, 4, 2), dtype=np.float32, seed=16)
    x0 = x.copy()
    with tf.Graph().as_default(), tf.Session() as sess:
        xp = tf.placeholder(tf.float32, x.shape)
        outs = [tf.nn.max_pool3d(xp, 2, 1, "SAME"), tf.nn.avg_pool3d(xp, 2, 1, "SAME")]
        grads = tf.gradients(outs, xp)
        sess.run([outs, grads], {xp: x})
    np.testing.assert_array_equal(x, x0)


def test_max_pool_v2_takes_its_window_as_tensors_and_equals_max_pool():
    """MaxPoolV2 (in graphs TensorFlow writes when ksize or strides are tensors) and its gradient ops."""
    x = random_array((2, 5, 6, 3), seed=33)
    with tf.Graph().as_default(), tf.Session() as sess:
        xt = tf.constant(x)
        ksize = tf.placeholder(tf.int32, [4])
        v2 = apply_op("MaxPoolV2", [xt, ksize, [1, 2, 1, 1]], {"padding": "SAME"}).outputs[0]
        static = apply_op("MaxPoolV2", [xt, [1, 2, 2, 1], [1, 2, 1, 1]], {"padding": "SAME"}).outputs[0]
        assert v2.shape.as_list() == [2, None, None, 3] and static.shape.as_list() == [2, 3, 6, 3]
        ref = tf.nn.max_pool(xt, [1, 2, 2, 1], [1, 2, 1, 1], "SAME")
        got = sess.run([v2, tf.gradients(v2, xt)[0]], {ksize: [1, 2, 2, 1]})
        want = sess.run([ref, tf.gradients(ref, xt)[0]])
        with pytest.raises(tf.errors.InvalidArgumentError, match="batch and depth"):
            sess.run(v2, {ksize: [2, 2, 2, 1]})
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    check_gradients(lambda t: apply_op("MaxPoolV2", [t, [1, 2, 2, 1], [1, 1, 2, 1]], {"padding": "VALID"}).outputs[0],
                    [x])
    check_gradients(_max_pool_v2_grad_of, [random_array((1, 3, 4, 2), seed=34)])


def _max_pool_v2_grad_of(g):
    x = tf.constant(random_array((1, 5, 4, 2), seed=35))
    y = apply_op("MaxPoolV2", [x, [1, 2, 2, 1], [1, 2, 1, 1]], {"padding": "SAME"}).outputs[0]
    return tf.gradients(y, x, grad_ys=g)[0]
