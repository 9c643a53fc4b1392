"""The threaded and block-wise fast paths of tfmini/ops/conv_algorithms.py against their plain paths and
float64 references: convolutions split by images or by rows between threads (both ways of running the parts,
which must give the same bits), max pooling over non-overlapping windows and its gradient (first maximum of a
window on ties), the bias gradient as a matrix-vector product, the thread count a session allows, and BLAS's
thread count around a split kernel.
"""

from __future__ import annotations

import numpy as np
import pytest
import threadpoolctl
from gradient_checker import check_gradients

import tfmini as tf
from tfmini.client import blas
from tfmini.framework import errors
from tfmini.ops import conv_algorithms, nn_ops

# float32 results are compared relative to the largest magnitude, as TF's own conv tests do (their float32
# tolerance is 1e-5); float64 to rounding.
TOL = {np.float32: 1e-5, np.float64: 1e-12}


@pytest.fixture
def split_everything(monkeypatch):
    """Kernels split even the small inputs of these tests."""
    monkeypatch.setattr(conv_algorithms, "PARALLEL_MIN_MACS", 0)
    monkeypatch.setattr(conv_algorithms, "PARALLEL_MIN_ELEMENTS", 0)
    monkeypatch.setattr(conv_algorithms, "BLAS_THREADED_MIN_MACS", 0)


@pytest.fixture(params=["concurrent", "serial"])
def way(request, monkeypatch):
    """Runs split kernels' parts side by side or one after the other, whatever their timings say."""
    concurrent = request.param == "concurrent"
    monkeypatch.setattr(conv_algorithms._SplitTimes, "choose_concurrent", lambda self: concurrent)
    return request.param


def _close(got, want, dtype):
    scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL[dtype] * scale)


def _geometry(h, w, kh, kw, strides, dilations, padding, explicit=((0, 0), (0, 0))):
    out, pads = [], []
    for size, k, s, d, ex in zip((h, w), (kh, kw), strides, dilations, explicit):
        o, before, after = nn_ops.window_output(size, k, s, d, padding, ex)
        out.append(o)
        pads.append((before, after))
    return tuple(out), tuple(pads)


def _taps(xp, kh, kw, out_hw, strides, dilations):
    (oh, ow), (sh, sw), (dh, dw) = out_hw, strides, dilations
    for i in range(kh):
        for j in range(kw):
            yield i, j, xp[:, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw, :]


def reference_conv(x, w, strides, dilations, pads, out_hw):
    xp = np.pad(x.astype(np.float64), ((0, 0), pads[0], pads[1], (0, 0)))
    out = np.zeros((x.shape[0], *out_hw, w.shape[3]))
    for i, j, tap in _taps(xp, w.shape[0], w.shape[1], out_hw, strides, dilations):
        out += tap @ w[i, j].astype(np.float64)
    return out


def reference_filter_grad(x, dy, kh, kw, strides, dilations, pads):
    xp = np.pad(x.astype(np.float64), ((0, 0), pads[0], pads[1], (0, 0)))
    grad = np.zeros((kh, kw, x.shape[3], dy.shape[3]))
    for i, j, tap in _taps(xp, kh, kw, dy.shape[1:3], strides, dilations):
        grad[i, j] = np.tensordot(tap, dy.astype(np.float64), axes=([0, 1, 2], [0, 1, 2]))
    return grad


def reference_input_grad(x_shape, w, dy, strides, dilations, pads):
    n, h, wd, c = x_shape
    dxp = np.zeros((n, h + sum(pads[0]), wd + sum(pads[1]), c))
    for i, j, tap in _taps(dxp, w.shape[0], w.shape[1], dy.shape[1:3], strides, dilations):
        tap += dy.astype(np.float64) @ w[i, j].T.astype(np.float64)
    return dxp[:, pads[0][0]:pads[0][0] + h, pads[1][0]:pads[1][0] + wd]


CASES = [
    # (x shape, filter shape, strides, dilations, padding, explicit pads)
    ((5, 9, 7, 6), (3, 3, 6, 4), (1, 1), (1, 1), "SAME", None),
    ((3, 8, 11, 5), (3, 2, 5, 7), (2, 3), (1, 1), "VALID", None),
    ((4, 10, 9, 3), (3, 3, 3, 5), (1, 1), (2, 1), "SAME", None),
    ((2, 7, 8, 9), (2, 3, 9, 4), (1, 2), (1, 1), "EXPLICIT", ((2, 1), (0, 3))),
    ((1, 13, 6, 8), (3, 3, 8, 6), (1, 1), (1, 1), "SAME", None),  # batch 1: rows split
    ((1, 9, 9, 2), (3, 3, 2, 3), (2, 2), (1, 1), "SAME", None),
    ((6, 5, 5, 1), (3, 3, 1, 8), (1, 1), (1, 1), "SAME", None),  # one channel: window taps copied one by one
    ((4, 6, 6, 8), (1, 1, 8, 5), (1, 1), (1, 1), "VALID", None),  # pointwise: one GEMM on the input
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES)
def test_split_convolution_equals_reference_and_the_unsplit_kernel(case, dtype, split_everything, way):
    x_shape, w_shape, strides, dilations, padding, explicit = case
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(x_shape).astype(dtype), rng.standard_normal(w_shape).astype(dtype)
    out_hw, pads = _geometry(*x_shape[1:3], *w_shape[:2], strides, dilations, padding, explicit or ((0, 0),) * 2)
    one = conv_algorithms.conv2d(x, w, *out_hw, strides, dilations, pads=pads, threads=1)
    two = conv_algorithms.conv2d(x, w, *out_hw, strides, dilations, pads=pads, threads=2)
    _close(two, one.astype(np.float64), dtype)
    _close(two, reference_conv(x, w, strides, dilations, pads, out_hw), dtype)
    dy = rng.standard_normal(one.shape).astype(dtype)
    grads = [conv_algorithms.conv2d_backprop_filter(x, dy, *w_shape[:2], strides, dilations, pads=pads, threads=t)
             for t in (1, 2, 3)]
    want = reference_filter_grad(x, dy, *w_shape[:2], strides, dilations, pads)
    for g in grads:
        _close(g, want, dtype)
    if strides == (1, 1):
        dx = conv_algorithms.conv2d_backprop_input_stride1(dy, w, *x_shape[1:3], pads, dilations, threads=2)
        _close(dx, reference_input_grad(x_shape, w, dy, strides, dilations, pads), dtype)


def test_both_ways_of_running_the_parts_give_the_same_bits(split_everything, monkeypatch):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((7, 12, 10, 8)).astype(np.float32), rng.standard_normal((3, 3, 8, 6))
    w = w.astype(np.float32)
    dy = rng.standard_normal((7, 12, 10, 6)).astype(np.float32)
    pool_grad = rng.standard_normal((7, 6, 5, 8)).astype(np.float32)
    results = []
    for concurrent in (True, False):
        monkeypatch.setattr(conv_algorithms._SplitTimes, "choose_concurrent", lambda self, c=concurrent: c)
        results.append((conv_algorithms.conv2d(x, w, 12, 10, (1, 1), (1, 1), pads=((1, 1), (1, 1)), threads=2),
                        conv_algorithms.conv2d_backprop_filter(x, dy, 3, 3, (1, 1), (1, 1), pads=((1, 1), (1, 1)),
                                                               threads=2),
                        conv_algorithms.max_pool_blocks_grad(x, pool_grad, 2, 2, threads=2)))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cache_bytes", [1, 5000, 1 << 30])
def test_cache_sized_column_chunks_give_the_same_result(cache_bytes, split_everything, way, monkeypatch):
    monkeypatch.setattr(conv_algorithms, "CACHE_CHUNK_BYTES", cache_bytes)
    rng = np.random.default_rng(11)
    x, w = rng.standard_normal((5, 7, 6, 8)), rng.standard_normal((3, 3, 8, 4))
    for c in (8, 2):  # columns as they are, and transposed for few channels
        xc, wc = x[..., :c], w[:, :, :c]
        out_hw, pads = _geometry(7, 6, 3, 3, (1, 1), (1, 1), "SAME")
        y = conv_algorithms.conv2d(xc, wc, *out_hw, (1, 1), (1, 1), pads=pads, threads=2)
        _close(y, reference_conv(xc, wc, (1, 1), (1, 1), pads, out_hw), np.float64)
        _close(conv_algorithms.conv2d_backprop_filter(xc, y, 3, 3, (1, 1), (1, 1), pads=pads, threads=2),
               reference_filter_grad(xc, y, 3, 3, (1, 1), (1, 1), pads), np.float64)
        b = rng.standard_normal(4)
        fused = conv_algorithms.conv2d_bias_relu_max_pool(xc, wc, b, *out_hw, (1, 1), (1, 1), (2, 2), pads=pads,
                                                          threads=2)
        want = np.maximum(reference_conv(xc, wc, (1, 1), (1, 1), pads, out_hw) + b, 0)[:, :6, :6]
        _close(fused, want.reshape(5, 3, 2, 3, 2, 4).max(axis=(2, 4)), np.float64)


def test_non_contiguous_inputs(split_everything, way):
    rng = np.random.default_rng(2)
    base = rng.standard_normal((4, 6, 11, 10))
    x = base.transpose(0, 2, 3, 1)[:, ::2]  # (4, 6, 10, 6), strided every way
    w = rng.standard_normal((3, 3, 6, 5))[::-1]
    out_hw, pads = _geometry(6, 10, 3, 3, (1, 1), (1, 1), "SAME")
    got = conv_algorithms.conv2d(x, w, *out_hw, (1, 1), (1, 1), pads=pads, threads=2)
    _close(got, reference_conv(x, w, (1, 1), (1, 1), pads, out_hw), np.float64)
    dy = rng.standard_normal((4, 11, 6, 10)).transpose(0, 2, 3, 1)[..., :5]
    _close(conv_algorithms.conv2d_backprop_filter(x, dy, 3, 3, (1, 1), (1, 1), pads=pads, threads=2),
           reference_filter_grad(x, dy, 3, 3, (1, 1), (1, 1), pads), np.float64)


def test_kernels_through_a_session_with_two_threads_equal_one_thread(split_everything, way):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 10, 9, 6)).astype(np.float32)
    w = rng.standard_normal((3, 3, 6, 4)).astype(np.float32)
    results = []
    for intra in (1, 2):
        with tf.Graph().as_default():
            xt, wt = tf.constant(x), tf.Variable(w)
            y = tf.nn.max_pool(tf.nn.relu(tf.nn.conv2d(xt, wt, [1, 1, 1, 1], "SAME")), [1, 2, 2, 1], [1, 2, 2, 1],
                               "VALID")
            loss = tf.reduce_sum(y * y)
            grads = tf.gradients(loss, [xt, wt])
            config = tf.ConfigProto(intra_op_parallelism_threads=intra)
            with tf.Session(config=config) as sess:
                sess.run(tf.global_variables_initializer())
                results.append(sess.run([y, *grads]))
    for a, b in zip(*results):
        _close(b, a.astype(np.float64), np.float32)


def test_split_kernels_in_nchw_equal_nhwc(split_everything, way):
    rng = np.random.default_rng(10)
    x = rng.standard_normal((3, 9, 8, 5))
    w = rng.standard_normal((3, 3, 5, 4))
    results = {}
    for fmt in ("NHWC", "NCHW"):
        with tf.Graph().as_default(), tf.Session() as sess:
            xt = tf.constant(x if fmt == "NHWC" else x.transpose(0, 3, 1, 2))
            strides = [1, 1, 1, 1]
            y = tf.nn.conv2d(xt, w, strides, "SAME", data_format=fmt)
            window = [1, 2, 2, 1] if fmt == "NHWC" else [1, 1, 2, 2]
            p = tf.nn.max_pool(y, window, window, "VALID", data_format=fmt)
            got = sess.run([p, *tf.gradients(tf.reduce_sum(p * p), [xt])])
            if fmt == "NCHW":
                got = [a.transpose(0, 2, 3, 1) for a in got]
            results[fmt] = got
    for a, b in zip(results["NHWC"], results["NCHW"]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_gradients_through_split_kernels_match_finite_differences(split_everything):
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((2, 6, 5, 3)), rng.standard_normal((3, 3, 3, 2))
    check_gradients(lambda a, b: tf.nn.conv2d(a, b, strides=[1, 1, 1, 1], padding="SAME"), [x, w])
    check_gradients(lambda a: tf.nn.max_pool(a, [1, 2, 2, 1], [1, 2, 2, 1], "VALID"), [x])


def test_split_kernels_never_write_into_their_inputs(split_everything, way):
    rng = np.random.default_rng(5)
    x, w, dy = rng.standard_normal((3, 6, 6, 4)), rng.standard_normal((3, 3, 4, 2)), rng.standard_normal((3, 6, 6, 2))
    kept = [a.copy() for a in (x, w, dy)]
    for a in (x, w, dy):
        a.setflags(write=False)
    pads = ((1, 1), (1, 1))
    conv_algorithms.conv2d(x, w, 6, 6, (1, 1), (1, 1), pads=pads, threads=2)
    conv_algorithms.conv2d_backprop_filter(x, dy, 3, 3, (1, 1), (1, 1), pads=pads, threads=2)
    conv_algorithms.conv2d_backprop_input_stride1(dy, w, 6, 6, pads, (1, 1), threads=2)
    conv_algorithms.max_pool_blocks(x, 2, 2, threads=2)
    conv_algorithms.max_pool_blocks_grad(x, dy[:, :3, :3, :1].repeat(4, axis=3), 2, 2, threads=2)
    for a, k in zip((x, w, dy), kept):
        np.testing.assert_array_equal(a, k)


# ----------------------------------------------------------------------------------------------------------
# Max pooling over blocks
# ----------------------------------------------------------------------------------------------------------
def _plain(monkeypatch):
    monkeypatch.setattr(nn_ops._Window, "blocks", property(lambda self: False))


POOLS = [
    ((3, 8, 10, 5), [1, 2, 2, 1], "VALID"),
    ((2, 9, 7, 3), [1, 2, 2, 1], "VALID"),  # rows and columns past the last block
    ((2, 9, 9, 4), [1, 3, 3, 1], "SAME"),  # SAME that pads nothing
    ((1, 6, 8, 2), [1, 2, 4, 1], "VALID"),
    ((2, 6, 6, 3), [1, 3, 1, 1], "VALID"),  # one column per window
    ((2, 4, 4, 3), [1, 1, 1, 1], "VALID"),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.uint8])
@pytest.mark.parametrize("shape,window,padding", POOLS)
def test_block_max_pool_and_its_gradient_equal_the_plain_kernels(shape, window, padding, dtype, split_everything,
                                                                  way, monkeypatch):
    rng = np.random.default_rng(6)
    # Few distinct values, so windows have tied maxima: the gradient goes to the first one.
    x = rng.integers(0, 3, shape).astype(dtype)
    attrs = {"ksize": window, "strides": window, "padding": padding, "data_format": "NHWC"}
    win = nn_ops._pool_window(shape, window, window, padding, "NHWC")
    assert win.blocks
    y = nn_ops._max_pool(x, **attrs)
    grad = rng.standard_normal(y.shape).astype(dtype)
    dx = nn_ops._max_pool_grad_kernel(x, y, grad, **attrs)
    _plain(monkeypatch)
    np.testing.assert_array_equal(y, nn_ops._max_pool(x, **attrs))
    np.testing.assert_array_equal(dx, nn_ops._max_pool_grad_kernel(x, y, grad, **attrs))


def test_block_max_pool_gradient_goes_to_the_first_maximum():
    x = np.array([[1, 3, 3, 0], [3, 2, 0, 0]], np.float32).reshape(1, 2, 4, 1)
    dx = conv_algorithms.max_pool_blocks_grad(x, np.array([5, 7], np.float32).reshape(1, 1, 2, 1), 2, 2)
    np.testing.assert_array_equal(dx.reshape(2, 4), [[0, 5, 7, 0], [0, 0, 0, 0]])


def test_block_max_pool_in_nchw_through_a_session():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 6, 8)).astype(np.float32)
    with tf.Graph().as_default(), tf.Session() as sess:
        xt = tf.constant(x)
        y = tf.nn.max_pool(xt, [1, 1, 2, 2], [1, 1, 2, 2], "VALID", data_format="NCHW")
        got, dx = sess.run([y, tf.gradients(tf.reduce_sum(y * 3.0), xt)[0]])
    want = x.reshape(2, 3, 3, 2, 4, 2).max(axis=(3, 5))
    np.testing.assert_array_equal(got, want)
    assert dx.sum() == pytest.approx(3.0 * want.size) and set(np.unique(dx)) <= {0.0, 3.0}


def test_max_pool_gradient_keeps_invalid_argument_for_a_bad_gradient():
    with tf.Graph().as_default(), tf.Session() as sess:
        x = np.ones((1, 4, 4, 1), np.float32)
        g = tf.placeholder(tf.float32)
        op = nn_ops.apply_op("MaxPoolGrad", [x, np.ones((1, 2, 2, 1), np.float32), g],
                             {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "VALID"}).outputs[0]
        with pytest.raises(errors.InvalidArgumentError, match="grad shape"):
            sess.run(op, {g: np.ones((1, 3, 2, 1), np.float32)})
        assert sess.run(op, {g: np.ones((1, 2, 2, 1), np.float32)}).shape == (1, 4, 4, 1)


# ----------------------------------------------------------------------------------------------------------
# Bias gradient, threads, BLAS
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_bias_add_grad_equals_a_float64_sum(dtype, data_format):
    rng = np.random.default_rng(8)
    g = (rng.standard_normal((5, 7, 6, 9)) * 10).astype(dtype)
    axis = 3 if data_format == "NHWC" else 1
    got = nn_ops._bias_add_grad_kernel(g, data_format=data_format)
    want = g.astype(np.float64).sum(axis=tuple(a for a in range(4) if a != axis))
    assert got.dtype == g.dtype and got.shape == (g.shape[axis],)
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=1e-5)
    # A non-contiguous gradient takes the plain sum.
    np.testing.assert_allclose(nn_ops._bias_add_grad_kernel(g[:, ::2], data_format=data_format).astype(np.float64),
                               g[:, ::2].astype(np.float64).sum(axis=tuple(a for a in range(4) if a != axis)),
                               rtol=1e-5)


class _State:
    def __init__(self, intra: int) -> None:
        self.config = tf.ConfigProto(intra_op_parallelism_threads=intra)


def test_kernel_threads_follow_intra_op_parallelism_threads(monkeypatch):
    monkeypatch.setattr(conv_algorithms, "_CPUS", 4)
    assert conv_algorithms.kernel_threads(_State(1)) == 1
    assert conv_algorithms.kernel_threads(_State(3)) == 3
    assert conv_algorithms.kernel_threads(_State(16)) == 4  # never more than one per CPU
    conv_algorithms._default_threads.cache_clear()
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    try:
        assert conv_algorithms.kernel_threads(_State(0)) == 1  # TF's 0: as many as BLAS was told to use
        assert conv_algorithms.kernel_threads(None) == 1
        monkeypatch.delenv("OPENBLAS_NUM_THREADS")
        for name in ("MKL_NUM_THREADS", "BLIS_NUM_THREADS", "OMP_NUM_THREADS"):
            monkeypatch.delenv(name, raising=False)
        conv_algorithms._default_threads.cache_clear()
        assert conv_algorithms.kernel_threads(_State(0)) == 4
    finally:
        conv_algorithms._default_threads.cache_clear()


def test_small_work_is_not_split():
    assert conv_algorithms._parts(32, 28, conv_algorithms.PARALLEL_MIN_MACS - 1, 2) == [(0, 32, 0, 28)]
    assert conv_algorithms._parts(32, 28, conv_algorithms.PARALLEL_MIN_MACS, 2) == [(0, 16, 0, 28), (16, 32, 0, 28)]
    assert conv_algorithms._parts(1, 5, conv_algorithms.PARALLEL_MIN_MACS, 2) == [(0, 1, 0, 2), (0, 1, 2, 5)]
    assert conv_algorithms._parts(32, 28, 1 << 40, 1) == [(0, 32, 0, 28)]


def _blas_threads():
    controller = threadpoolctl.ThreadpoolController()
    return [c.num_threads for c in controller.lib_controllers if c.user_api == "blas"]


def test_tiny_products_leave_blas_alone(monkeypatch):
    entered = []
    monkeypatch.setattr(conv_algorithms, "_blas_one_thread", _Recording(entered))
    x, w = np.ones((1, 4, 4, 2), np.float32), np.ones((3, 3, 2, 2), np.float32)
    conv_algorithms.conv2d(x, w, 4, 4, (1, 1), (1, 1), pads=((1, 1), (1, 1)), threads=2)
    assert not entered
    big = np.ones((8, 32, 32, 8), np.float32)
    conv_algorithms.conv2d(big, np.ones((3, 3, 8, 8), np.float32), 32, 32, (1, 1), (1, 1), pads=((1, 1), (1, 1)),
                           threads=2)
    assert entered
    entered.clear()
    conv_algorithms.max_pool_blocks(big, 2, 2, threads=2)  # no BLAS at all
    assert not entered


class _Recording:
    def __init__(self, log: list) -> None:
        self.log = log

    def __enter__(self) -> None:
        self.log.append(True)

    def __exit__(self, *exc) -> None:
        pass


def test_blas_runs_one_thread_per_call_inside_split_kernels_and_gets_its_count_back(way):
    before = _blas_threads()
    inside = []
    conv_algorithms.run_parts(lambda k: inside.append(_blas_threads()), [(0,), (1,)], 2, ("test-blas",))
    assert inside and all(t == [1] * len(before) for t in inside)
    assert _blas_threads() == before


def test_a_registered_client_limit_is_what_split_kernels_enter(way, monkeypatch):
    monkeypatch.setattr(conv_algorithms, "_blas_one_thread", conv_algorithms._blas_one_thread)
    limit = blas.ThreadLimit(1)
    conv_algorithms.register_blas_limit(limit)
    assert conv_algorithms.single_threaded_blas() is limit
    before = _blas_threads()
    inside = []
    conv_algorithms.run_parts(lambda k: inside.append(_blas_threads()), [(0,), (1,)], 2, ("test-registered",))
    assert inside and all(t == [1] * len(before) for t in inside)
    assert _blas_threads() == before


def test_a_failing_part_raises_once_no_part_runs_any_more(way):
    ended = []

    def part(k):
        if k == 1:
            raise ValueError("part 1 failed")
        ended.append(k)

    before = _blas_threads()
    with pytest.raises(ValueError, match="part 1 failed"):
        conv_algorithms.run_parts(part, [(0,), (1,), (2,)], 3, ("test-failure",))
    # Side by side, the other parts finish before the error is raised; one after the other, none starts.
    assert sorted(ended) == ([0, 2] if way == "concurrent" else [0])
    assert _blas_threads() == before


def test_split_times_try_both_ways_then_keep_the_faster():
    times = conv_algorithms._SplitTimes()
    picks = []
    for _ in range(conv_algorithms._SPLIT_TRIAL_CALLS + 1):
        c = times.choose_concurrent()
        picks.append(c)
        times.record(c, 1.0 if c else 3.0)
    assert picks[0] and picks[1:].count(True) == picks[1:].count(False)  # a warm-up run, then both ways
    later = [times.choose_concurrent() for _ in range(2 * conv_algorithms._SPLIT_RETRY_EVERY)]
    assert later.count(False) == 2  # the slower way again now and then
    slow_threads = conv_algorithms._SplitTimes()
    for k in range(conv_algorithms._SPLIT_TRIAL_CALLS + 1):
        c = slow_threads.choose_concurrent()
        slow_threads.record(c, 100.0 if k == 0 else 3.0 if c else 1.0)
    assert not slow_threads.choose_concurrent()
    warm_up_only_slow = conv_algorithms._SplitTimes()
    for k in range(conv_algorithms._SPLIT_TRIAL_CALLS + 1):
        c = warm_up_only_slow.choose_concurrent()
        warm_up_only_slow.record(c, 100.0 if k == 0 else 1.0 if c else 3.0)
    assert warm_up_only_slow.choose_concurrent()  # the warm-up run does not count


# ----------------------------------------------------------------------------------------------------------
# Conv2D -> BiasAdd -> Relu -> MaxPool as one kernel
# ----------------------------------------------------------------------------------------------------------
def _chain(x_shape, w_shape, conv_padding="SAME", pool_window=(2, 2), pool_strides=None, pool_padding="VALID",
           dtype=np.float32, strides=(1, 1), data_format="NHWC"):
    """(chain ops, session results of the chain, x, w, b) for a graph built with the public API."""
    rng = np.random.default_rng(9)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[3]).astype(dtype)
    pool_strides = pool_strides or pool_window
    with tf.Graph().as_default():
        xt = tf.placeholder(dtype, [None, *x_shape[1:]])
        y = tf.nn.conv2d(xt, w, [1, *strides, 1], conv_padding)
        y = tf.nn.max_pool(tf.nn.relu(tf.nn.bias_add(y, b)), [1, *pool_window, 1], [1, *pool_strides, 1],
                           pool_padding)
        ops = [y.op.inputs[0].op.inputs[0].op.inputs[0].op, y.op.inputs[0].op.inputs[0].op, y.op.inputs[0].op,
               y.op]
        with tf.Session() as sess:
            want = sess.run(y, {xt: x})
    return ops, want, x, w, b


@pytest.mark.parametrize("x_shape,w_shape,conv_padding,strides", [
    ((4, 12, 10, 6), (3, 3, 6, 5), "SAME", (1, 1)),
    ((3, 11, 9, 3), (3, 3, 3, 4), "VALID", (1, 1)),  # 9 x 7 output: the last row and column are never pooled
    ((1, 16, 12, 8), (3, 3, 8, 6), "SAME", (1, 1)),  # batch 1: pooled rows split between threads
    ((2, 13, 13, 2), (3, 3, 2, 3), "SAME", (2, 2)),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_chain_equals_the_four_ops(x_shape, w_shape, conv_padding, strides, dtype, split_everything, way):
    ops, want, x, w, b = _chain(x_shape, w_shape, conv_padding, dtype=dtype, strides=strides)
    kernel = nn_ops.FUSED_CHAINS[tuple(op.type for op in ops)](*ops, ctx=_State(2))
    got = kernel(x, w, b)
    assert got.dtype == want.dtype
    # The GEMMs may see other row counts than the session's (rows past the last window are skipped), which
    # a BLAS may round differently; the epilogue itself is exact (next test).
    _close(got, want.astype(np.float64), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pooling_before_bias_and_relu_gives_the_same_bits(dtype):
    rng = np.random.default_rng(12)
    y = (rng.standard_normal((3, 8, 6, 5)) * 1e3).astype(dtype)
    y[0, :2, :2] = 0.0  # tied windows
    y[1, :2, :2] = -0.0
    y[2, 0, 0] = np.inf
    y[2, 2, 2] = -np.inf
    b = (rng.standard_normal(5) * 1e3).astype(dtype)
    b[0] = -y[0, 0, 0, 0]
    chain = conv_algorithms.max_pool_blocks(np.maximum(y + b, 0), 2, 2)
    fused = np.empty_like(chain)
    conv_algorithms._max_blocks_into(y, 2, 2, fused)
    np.add(fused, b, out=fused)
    np.maximum(fused, 0, out=fused)
    np.testing.assert_array_equal(fused, chain)


def test_fused_chain_runs_the_plain_kernels_for_overlapping_windows_and_bad_inputs():
    ops, want, x, w, b = _chain((2, 9, 9, 3), (3, 3, 3, 4), pool_window=(3, 3), pool_strides=(2, 2))
    kernel = nn_ops.conv_bias_relu_pool_kernel(*ops)
    np.testing.assert_array_equal(kernel(x, w, b), want)
    with pytest.raises(errors.InvalidArgumentError, match="biases"):
        kernel(x, w, b[:3])
    with pytest.raises(errors.InvalidArgumentError, match="same depth"):
        kernel(x[..., :2], w, b)


def test_chains_the_fused_kernel_does_not_take():
    ops = _chain((2, 8, 8, 3), (3, 3, 3, 4), dtype=np.float16)[0]
    assert nn_ops.conv_bias_relu_pool_kernel(*ops) is None
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3, 8, 8])
        y = tf.nn.conv2d(x, np.ones((3, 3, 3, 4), np.float32), [1, 1, 1, 1], "SAME", data_format="NCHW")
        y = tf.nn.max_pool(tf.nn.relu(tf.nn.bias_add(y, np.ones(4, np.float32), data_format="NCHW")),
                           [1, 1, 2, 2], [1, 1, 2, 2], "VALID", data_format="NCHW")
        chain = [y.op.inputs[0].op.inputs[0].op.inputs[0].op, y.op.inputs[0].op.inputs[0].op, y.op.inputs[0].op,
                 y.op]
        assert nn_ops.conv_bias_relu_pool_kernel(*chain) is None
