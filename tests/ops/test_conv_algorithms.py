"""The fast convolution paths (tfmini/ops/conv_algorithms.py, used by the Conv2D kernels) against a direct
computation: one product per filter position, accumulated in float64. Covers odd sizes, SAME/VALID/EXPLICIT,
strides, dilations, NCHW/NHWC, float16/32/64 and int32, batch 1, several column chunks and empty inputs, for the
forward convolution and both backprops, through the session and on the algorithms directly.
"""

from __future__ import annotations

import numpy as np
import pytest
from gradient_checker import check_gradients

import tfmini as tf
from tfmini.framework import errors
from tfmini.ops import conv_algorithms, nn_ops

# Tolerance per dtype, relative to the largest magnitude of the result: float16 is computed in float32 and
# rounded once at the end, as TensorFlow's CPU kernels do.
TOL = {np.float16: 2e-3, np.float32: 2e-6, np.float64: 1e-12, np.int32: 0}


def _geometry(h, w, kh, kw, strides, dilations, padding, explicit=((0, 0), (0, 0))):
    pads, out = [], []
    for size, k, s, d, ex in zip((h, w), (kh, kw), strides, dilations, explicit):
        o, before, after = nn_ops.window_output(size, k, s, d, padding, ex)
        out.append(o)
        pads.append((before, after))
    return tuple(out), tuple(pads)


def _padded64(x, pads):
    return np.pad(x.astype(np.float64), ((0, 0), pads[0], pads[1], (0, 0)))


def _tap(xp, i, j, out_hw, strides, dilations):
    """The padded-input elements filter position (i, j) multiplies, for every output position."""
    (oh, ow), (sh, sw), (dh, dw) = out_hw, strides, dilations
    return xp[:, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw, :]


def direct_conv(x, w, strides, dilations, padding, explicit=((0, 0), (0, 0))):
    n, h, wd, _ = x.shape
    kh, kw, _, oc = w.shape
    out_hw, pads = _geometry(h, wd, kh, kw, strides, dilations, padding, explicit)
    xp = _padded64(x, pads)
    out = np.zeros((n, *out_hw, oc))
    if 0 in out.shape:
        return out
    for i in range(kh):
        for j in range(kw):
            out += _tap(xp, i, j, out_hw, strides, dilations) @ w[i, j].astype(np.float64)
    return out


def direct_backprop_input(x_shape, w, dy, strides, dilations, padding, explicit=((0, 0), (0, 0))):
    n, h, wd, c = x_shape
    kh, kw = w.shape[:2]
    out_hw, pads = _geometry(h, wd, kh, kw, strides, dilations, padding, explicit)
    dxp = np.zeros((n, h + sum(pads[0]), wd + sum(pads[1]), c))
    if dy.size:
        for i in range(kh):
            for j in range(kw):
                _tap(dxp, i, j, out_hw, strides, dilations)[...] += dy.astype(np.float64) @ w[i, j].T
    return dxp[:, pads[0][0]:pads[0][0] + h, pads[1][0]:pads[1][0] + wd]


def direct_backprop_filter(x, w_shape, dy, strides, dilations, padding, explicit=((0, 0), (0, 0))):
    kh, kw = w_shape[:2]
    out_hw, pads = _geometry(x.shape[1], x.shape[2], kh, kw, strides, dilations, padding, explicit)
    xp = _padded64(x, pads)
    dw = np.zeros(w_shape)
    if dy.size:
        for i in range(kh):
            for j in range(kw):
                dw[i, j] = np.tensordot(_tap(xp, i, j, out_hw, strides, dilations), dy.astype(np.float64),
                                        axes=([0, 1, 2], [0, 1, 2]))
    return dw


def _close(got, want, dtype):
    assert got.dtype == np.dtype(dtype)
    assert got.shape == want.shape
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=0, atol=TOL[dtype] * scale)


def _values(rng, shape, dtype):
    if dtype == np.int32:
        return rng.integers(-3, 4, shape).astype(np.int32)
    return rng.standard_normal(shape).astype(dtype)


# (input NHWC, filter HWIO, strides, dilations, padding, explicit ((top, bottom), (left, right)))
CASES = [
    ((2, 9, 7, 8), (3, 3, 8, 5), (1, 1), (1, 1), "SAME", None),
    ((1, 9, 7, 8), (3, 3, 8, 5), (1, 1), (1, 1), "VALID", None),
    ((3, 11, 10, 9), (3, 3, 9, 4), (2, 2), (1, 1), "SAME", None),
    ((2, 10, 13, 8), (5, 3, 8, 3), (2, 3), (1, 1), "VALID", None),
    ((2, 12, 11, 8), (3, 3, 8, 6), (1, 1), (2, 3), "SAME", None),
    ((2, 12, 11, 10), (3, 2, 10, 4), (1, 1), (2, 1), "VALID", None),
    ((2, 8, 9, 8), (3, 3, 8, 4), (1, 1), (1, 1), "EXPLICIT", ((2, 0), (1, 3))),
    ((2, 8, 9, 8), (3, 3, 8, 4), (1, 1), (1, 1), "EXPLICIT", ((4, 1), (0, 5))),  # pads beyond the filter
    ((2, 7, 7, 3), (1, 1, 3, 5), (1, 1), (1, 1), "VALID", None),
    ((2, 7, 7, 3), (1, 1, 3, 5), (2, 2), (1, 1), "SAME", None),
    ((2, 8, 8, 1), (3, 3, 1, 4), (1, 1), (1, 1), "SAME", None),
    ((1, 5, 6, 4), (3, 3, 4, 2), (1, 1), (1, 1), "SAME", None),
]


def _case_id(case):
    x, f, s, d, p, _ = case
    return f"x{'x'.join(map(str, x))}-f{'x'.join(map(str, f))}-s{s[0]}{s[1]}-d{d[0]}{d[1]}-{p}"


def _attrs(case, data_format):
    _, _, s, d, padding, explicit = case
    def four(pair):
        return [1, 1, *pair] if data_format == "NCHW" else [1, *pair, 1]
    attrs = {"strides": four(s), "dilations": four(d), "padding": padding}
    if explicit is not None:
        pairs = [[0, 0], [0, 0], list(explicit[0]), list(explicit[1])] if data_format == "NCHW" else \
            [[0, 0], list(explicit[0]), list(explicit[1]), [0, 0]]
        attrs["padding"] = pairs
    return attrs


def _to_format(a, data_format):
    return np.ascontiguousarray(a.transpose(0, 3, 1, 2)) if data_format == "NCHW" else a


def _from_format(a, data_format):
    return a.transpose(0, 2, 3, 1) if data_format == "NCHW" else a


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_conv2d_and_backprops_equal_direct_computation(case, data_format):
    x_shape, w_shape, strides, dilations, padding, explicit = case
    explicit = explicit or ((0, 0), (0, 0))
    rng = np.random.default_rng(1)
    x, w = _values(rng, x_shape, np.float32), _values(rng, w_shape, np.float32)
    out_hw, _ = _geometry(x_shape[1], x_shape[2], *w_shape[:2], strides, dilations, padding, explicit)
    dy = _values(rng, (x_shape[0], *out_hw, w_shape[3]), np.float32)
    attrs = _attrs(case, data_format)
    with tf.Graph().as_default(), tf.Session() as sess:
        xt, wt, dyt = (tf.constant(_to_format(x, data_format)), tf.constant(w),
                       tf.constant(_to_format(dy, data_format)))
        sizes = _to_format(np.zeros(x_shape), data_format).shape
        y, dx, dw = sess.run([
            tf.nn.conv2d(xt, wt, data_format=data_format, **attrs),
            tf.nn.conv2d_backprop_input(list(sizes), wt, dyt, data_format=data_format, **attrs),
            tf.nn.conv2d_backprop_filter(xt, list(w_shape), dyt, data_format=data_format, **attrs)])
    _close(_from_format(y, data_format), direct_conv(x, w, strides, dilations, padding, explicit), np.float32)
    _close(_from_format(dx, data_format),
           direct_backprop_input(x_shape, w, dy, strides, dilations, padding, explicit), np.float32)
    _close(dw, direct_backprop_filter(x, w_shape, dy, strides, dilations, padding, explicit), np.float32)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32])
def test_every_dtype_equals_direct_computation(dtype):
    rng = np.random.default_rng(2)
    x, w = _values(rng, (3, 10, 9, 8), dtype), _values(rng, (3, 3, 8, 6), dtype)
    dy = _values(rng, (3, 10, 9, 6), dtype)
    attrs = {"strides": [1, 1, 1, 1], "padding": "SAME"}
    with tf.Graph().as_default(), tf.Session() as sess:
        fetches = [tf.nn.conv2d(x, w, **attrs), tf.nn.conv2d_backprop_input([3, 10, 9, 8], w, dy, **attrs)]
        if dtype != np.int32:  # TF's Conv2DBackpropFilter takes floating types only
            fetches.append(tf.nn.conv2d_backprop_filter(x, [3, 3, 8, 6], dy, **attrs))
        got = sess.run(fetches)
    _close(got[0], direct_conv(x, w, (1, 1), (1, 1), "SAME"), dtype)
    _close(got[1], direct_backprop_input(x.shape, w, dy, (1, 1), (1, 1), "SAME"), dtype)
    if dtype != np.int32:
        _close(got[2], direct_backprop_filter(x, w.shape, dy, (1, 1), (1, 1), "SAME"), dtype)


@pytest.mark.parametrize("chunk_bytes", [1, 3000, 1 << 30])
def test_column_chunks_of_any_size_give_the_same_result(monkeypatch, chunk_bytes):
    monkeypatch.setattr(conv_algorithms, "COLUMN_CHUNK_BYTES", chunk_bytes)
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((5, 7, 6, 8)), rng.standard_normal((3, 3, 8, 4))
    pads = ((1, 1), (1, 1))
    xp = conv_algorithms.pad_nhwc(x, pads, np.float64)
    y = conv_algorithms.conv2d(xp, w, 7, 6, (1, 1), (1, 1))
    np.testing.assert_allclose(y, direct_conv(x, w, (1, 1), (1, 1), "SAME"), rtol=1e-12, atol=1e-12)
    dx = conv_algorithms.conv2d_backprop_input_stride1(y, w, 7, 6, pads, (1, 1))
    np.testing.assert_allclose(dx, direct_backprop_input(x.shape, w, y, (1, 1), (1, 1), "SAME"), atol=1e-10)
    dw = conv_algorithms.conv2d_backprop_filter(xp, y, 3, 3, (1, 1), (1, 1))
    np.testing.assert_allclose(dw, direct_backprop_filter(x, w.shape, y, (1, 1), (1, 1), "SAME"), atol=1e-10)


def test_backprop_input_declines_padding_beyond_the_filter():
    w, dy = np.ones((3, 3, 2, 2)), np.ones((1, 9, 4, 2))
    assert conv_algorithms.conv2d_backprop_input_stride1(dy, w, 4, 4, ((4, 3), (1, 1)), (1, 1)) is None


def test_empty_inputs_give_empty_or_zero_results():
    attrs = {"strides": [1, 1, 1, 1], "padding": "SAME"}
    with tf.Graph().as_default(), tf.Session() as sess:
        x = np.zeros((0, 5, 5, 8), np.float32)
        w = np.ones((3, 3, 8, 4), np.float32)
        y, dx, dw = sess.run([tf.nn.conv2d(x, w, **attrs),
                              tf.nn.conv2d_backprop_input([0, 5, 5, 8], w, np.zeros((0, 5, 5, 4), np.float32),
                                                          **attrs),
                              tf.nn.conv2d_backprop_filter(x, [3, 3, 8, 4], np.zeros((0, 5, 5, 4), np.float32),
                                                           **attrs)])
        assert y.shape == (0, 5, 5, 4) and dx.shape == (0, 5, 5, 8)
        assert dw.shape == (3, 3, 8, 4) and not dw.any()
        y0 = sess.run(tf.nn.conv2d(np.ones((2, 3, 3, 0), np.float32), np.ones((3, 3, 0, 4), np.float32), **attrs))
        assert y0.shape == (2, 3, 3, 4) and not y0.any()


def test_kernels_never_write_into_their_inputs():
    rng = np.random.default_rng(4)
    x, w, dy = rng.standard_normal((2, 6, 6, 8)), rng.standard_normal((3, 3, 8, 4)), rng.standard_normal((2, 6, 6, 4))
    kept = [a.copy() for a in (x, w, dy)]
    for a in (x, w, dy):
        a.setflags(write=False)
    attrs = {"strides": [1, 1, 1, 1], "padding": "SAME", "explicit_paddings": [], "data_format": "NHWC",
             "dilations": [1, 1, 1, 1]}
    nn_ops._conv2d(x, w, **attrs)
    nn_ops._conv2d_backprop_input(np.array([2, 6, 6, 8], np.int32), w, dy, **attrs)
    nn_ops._conv2d_backprop_filter(x, np.array([3, 3, 8, 4], np.int32), dy, **attrs)
    for a, k in zip((x, w, dy), kept):
        np.testing.assert_array_equal(a, k)


def test_results_are_fresh_arrays_not_views_of_the_input():
    x, w = np.ones((1, 4, 4, 3)), np.ones((1, 1, 3, 3))
    y = conv_algorithms.conv2d(x, w, 4, 4, (1, 1), (1, 1))
    assert y.base is None or not np.shares_memory(y, x)


def test_gradients_through_the_fast_paths_match_finite_differences():
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((2, 5, 6, 8)), rng.standard_normal((3, 3, 8, 3))
    check_gradients(lambda a, b: tf.nn.conv2d(a, b, strides=[1, 1, 1, 1], padding="SAME"), [x, w])
    check_gradients(lambda a, b: tf.nn.conv2d(a, b, strides=[1, 1, 1, 1], padding="VALID", dilations=[1, 2, 1, 1]),
                    [x, w])


def test_bad_out_backprop_still_raises_invalid_argument():
    with tf.Graph().as_default(), tf.Session() as sess:
        op = tf.nn.conv2d_backprop_input([2, 6, 6, 8], np.ones((3, 3, 8, 4), np.float32),
                                         tf.placeholder(tf.float32, [None, None, None, None]),
                                         strides=[1, 1, 1, 1], padding="SAME")
        with pytest.raises(errors.InvalidArgumentError, match="out_backprop"):
            sess.run(op, {op.op.inputs[2]: np.ones((2, 5, 6, 4), np.float32)})
        assert sess.run(op, {op.op.inputs[2]: np.ones((2, 6, 6, 4), np.float32)}).shape == (2, 6, 6, 8)


def direct_depthwise(x, f, strides, dilations, padding):
    """Depthwise convolution as one ordinary convolution per channel (the filter block-diagonal over channels)."""
    kh, kw, c, m = f.shape
    block = np.zeros((kh, kw, c, c * m))
    for ch in range(c):
        block[:, :, ch, ch * m:(ch + 1) * m] = f[:, :, ch, :]
    return direct_conv(x, block, strides, dilations, padding), block


DEPTHWISE_CASES = [
    ((2, 9, 7, 5), (3, 3, 5, 1), (1, 1), (1, 1), "SAME"),
    ((1, 10, 11, 4), (3, 2, 4, 3), (2, 2), (1, 1), "VALID"),
    ((2, 12, 9, 3), (3, 3, 3, 2), (1, 1), (2, 2), "SAME"),
    ((3, 7, 8, 2), (5, 5, 2, 1), (3, 3), (1, 1), "SAME"),
]


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("case", DEPTHWISE_CASES, ids=lambda c: f"x{c[0]}-f{c[1]}-s{c[2][0]}-d{c[3][0]}-{c[4]}")
def test_depthwise_and_backprops_equal_direct_computation(case, dtype, data_format):
    x_shape, f_shape, strides, dilations, padding = case
    rng = np.random.default_rng(6)
    x, f = _values(rng, x_shape, dtype), _values(rng, f_shape, dtype)
    want, block = direct_depthwise(x, f, strides, dilations, padding)
    dy = _values(rng, want.shape, dtype)
    def four(pair):
        return [1, 1, *pair] if data_format == "NCHW" else [1, *pair, 1]
    attrs = {"strides": four(strides), "padding": padding, "dilations": four(dilations), "data_format": data_format}
    with tf.Graph().as_default(), tf.Session() as sess:
        xt, dyt = tf.constant(_to_format(x, data_format)), tf.constant(_to_format(dy, data_format))
        sizes = list(_to_format(np.zeros(x_shape), data_format).shape)
        y, dx, df = sess.run([
            tf.nn.depthwise_conv2d_native(xt, f, **attrs),
            tf.nn.depthwise_conv2d_native_backprop_input(sizes, f, dyt, **attrs),
            tf.nn.depthwise_conv2d_native_backprop_filter(xt, list(f_shape), dyt, **attrs)])
    _close(_from_format(y, data_format), want, dtype)
    _close(_from_format(dx, data_format),
           direct_backprop_input(x_shape, block, dy, strides, dilations, padding), dtype)
    want_df = direct_backprop_filter(x, block.shape, dy, strides, dilations, padding)
    kh, kw, c, m = f_shape
    want_df = np.stack([want_df[:, :, ch, ch * m:(ch + 1) * m] for ch in range(c)], axis=2)
    _close(df, want_df, dtype)


def test_depthwise_of_an_empty_batch():
    with tf.Graph().as_default(), tf.Session() as sess:
        x, f = np.zeros((0, 5, 5, 3), np.float32), np.ones((3, 3, 3, 2), np.float32)
        dy = np.zeros((0, 5, 5, 6), np.float32)
        y, dx, df = sess.run([
            tf.nn.depthwise_conv2d_native(x, f, [1, 1, 1, 1], "SAME"),
            tf.nn.depthwise_conv2d_native_backprop_input([0, 5, 5, 3], f, dy, [1, 1, 1, 1], "SAME"),
            tf.nn.depthwise_conv2d_native_backprop_filter(x, [3, 3, 3, 2], dy, [1, 1, 1, 1], "SAME")])
    assert y.shape == (0, 5, 5, 6) and dx.shape == (0, 5, 5, 3) and df.shape == (3, 3, 3, 2) and not df.any()


def test_depthwise_gradients_match_finite_differences():
    rng = np.random.default_rng(7)
    x, f = rng.standard_normal((2, 5, 6, 3)), rng.standard_normal((3, 3, 3, 2))
    check_gradients(lambda a, b: tf.nn.depthwise_conv2d(a, b, [1, 1, 1, 1], "SAME"), [x, f])
