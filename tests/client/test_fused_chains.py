"""The executor's fusion pass: a Conv2D -> BiasAdd -> Relu -> MaxPool chain whose intermediate values nothing else
reads runs as one kernel in the generated run loop, with the unfused plan's bits; everything that needs the
intermediate tensors (fetches, feeds, control dependencies, gradients, tracing, partial runs, the debugger, the
concurrent walk) or another chain (NCHW, Relu6, other pools) runs the ops one by one, and a failing op is named
as without fusion."""

from __future__ import annotations

import numpy as np
import pytest

import tfmini as tf
from tfmini import debug as tf_debug
from tfmini.client import local_engine
from tfmini.framework import errors
from tfmini.ops import nn_ops

CHAIN = ["Conv2D", "BiasAdd", "Relu", "MaxPool"]


@pytest.fixture(autouse=True)
def graph():
    with tf.Graph().as_default() as g:
        yield g


def _conv_ref(x, w, stride, padding):
    """NumPy conv2d (NHWC, float64) through a sliding-window view and one tensordot."""
    x, w = x.astype(np.float64), w.astype(np.float64)
    kh, kw = w.shape[:2]
    h, wd = x.shape[1:3]
    if padding == "SAME":
        oh, ow = -(-h // stride), -(-wd // stride)
        ph = max((oh - 1) * stride + kh - h, 0)
        pw = max((ow - 1) * stride + kw - wd, 0)
        x = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    return np.tensordot(win, w, axes=([3, 4, 5], [2, 0, 1]))


def _chain_ref(x, w, b, stride=1, padding="SAME", pool=2):
    y = np.maximum(_conv_ref(x, w, stride, padding) + b, 0)
    n, h, wd, c = y.shape
    y = y[:, :h // pool * pool, :wd // pool * pool]
    return y.reshape(n, h // pool, pool, wd // pool, pool, c).max(axis=(2, 4))


def _data(x_shape, w_shape, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(x_shape).astype(dtype), rng.standard_normal(w_shape).astype(dtype),
            rng.standard_normal(w_shape[3]).astype(dtype))


def _build(x, w, b, stride=1, padding="SAME", pool=(2, 2), pool_strides=None, pool_padding="VALID",
           activation=tf.nn.relu, pool_fn=tf.nn.max_pool):
    """The four ops; returns (conv, bias_add, activation, pool) tensors."""
    conv = tf.nn.conv2d(x, w, [1, stride, stride, 1], padding, name="conv")
    biased = tf.nn.bias_add(conv, b, name="biased")
    act = activation(biased, name="act")
    ps = pool if pool_strides is None else pool_strides
    pooled = pool_fn(act, [1, *pool, 1], [1, *ps, 1], pool_padding, name="pooled")
    return conv, biased, act, pooled


def _plan(sess, fetches, feeds):
    """The plan the session compiled for these fetches (tensors, and ops as targets) and fed tensors."""
    tensors = tuple(f for f in fetches if isinstance(f, tf.Tensor))
    targets = tuple(f for f in fetches if isinstance(f, tf.Operation))
    return sess._engine.compile(tensors, tuple(feeds), targets).plan


def _fused_types(plan):
    return [[s.op.type for s in f.steps] for f in plan.fused.values()]


def _check_fused(sess, fetches, feed_dict, want_fused):
    """Runs `fetches`, checks whether the plan fused a chain and that the run equals the plan's unfused step loop
    bit for bit; returns the results."""
    got = sess.run(fetches, feed_dict)
    plan = _plan(sess, fetches, feed_dict)
    assert _fused_types(plan) == want_fused
    plain = plan.run_steps(list(feed_dict.values()))
    for g, p in zip(got, plain):
        np.testing.assert_array_equal(g, p, strict=True)
    return got


@pytest.mark.parametrize(("x_shape", "w_shape", "stride", "padding"), [
    ((32, 28, 28, 16), (3, 3, 16, 32), 1, "SAME"),  # the benchmark's conv workload
    ((4, 28, 28, 1), (3, 3, 1, 16), 1, "SAME"),
    ((3, 9, 11, 3), (3, 3, 3, 5), 1, "VALID"),  # odd conv output: the last row and column are not pooled
    ((2, 15, 15, 4), (5, 5, 4, 8), 2, "SAME"),
    ((1, 7, 7, 2), (2, 2, 2, 3), 1, "VALID"),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_chain_runs_fused_with_the_unfused_bits(x_shape, w_shape, stride, padding, dtype):
    xv, wv, bv = _data(x_shape, w_shape, dtype)
    x = tf.placeholder(dtype, [None, *x_shape[1:]], name="x")
    b = tf.Variable(bv, name="b")
    pooled = _build(x, tf.constant(wv), b, stride, padding)[3]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = _check_fused(sess, [pooled], {x: xv}, [CHAIN])[0]
        assert got.dtype == dtype
        tol = 1e-4 if dtype == np.float32 else 1e-10
        np.testing.assert_allclose(got, _chain_ref(xv, wv, bv, stride, padding), rtol=tol, atol=tol)
        # Another batch size through the same plan (the batch dim is unknown in the graph).
        np.testing.assert_array_equal(sess.run(pooled, {x: xv[:1]}), got[:1])


def test_fused_chains_share_inputs_and_feed_later_ops():
    xv, wv, bv = _data((4, 12, 12, 3), (3, 3, 3, 6))
    x = tf.placeholder(tf.float32, [None, 12, 12, 3])
    a = _build(x, wv, bv)[3]
    c = _build(x, wv[..., ::-1].copy(), bv)[3]
    w2 = np.random.default_rng(1).standard_normal((3, 3, 12, 5)).astype(np.float32)
    out = _build(tf.concat([a, c], 3), w2, bv[:5])[3]
    with tf.Session() as sess:
        got = _check_fused(sess, [out], {x: xv}, [CHAIN] * 3)[0]
    first = np.concatenate([_chain_ref(xv, wv, bv), _chain_ref(xv, wv[..., ::-1], bv)], 3)
    np.testing.assert_allclose(got, _chain_ref(first, w2, bv[:5]), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("which", [0, 1, 2])
def test_a_fetched_intermediate_keeps_the_chain_unfused(which):
    xv, wv, bv = _data((2, 8, 8, 3), (3, 3, 3, 4))
    x = tf.placeholder(tf.float32, [None, 8, 8, 3])
    ops = _build(x, wv, bv)
    with tf.Session() as sess:
        got = _check_fused(sess, [ops[3], ops[which]], {x: xv}, [])
        # A fetch of the pool alone fuses, with the same bits.
        np.testing.assert_array_equal(_check_fused(sess, [ops[3]], {x: xv}, [CHAIN])[0], got[0], strict=True)


def test_a_fed_intermediate_keeps_the_chain_unfused():
    xv, wv, bv = _data((2, 8, 8, 3), (3, 3, 3, 4))
    x = tf.placeholder(tf.float32, [None, 8, 8, 3])
    conv, biased, act, pooled = _build(x, wv, bv)
    fed = np.random.default_rng(3).standard_normal((2, 8, 8, 4)).astype(np.float32)
    with tf.Session() as sess:
        for t in (conv, biased, act):
            got = _check_fused(sess, [pooled], {x: xv, t: fed}, [])[0]
            want = {conv: np.maximum(fed + bv, 0), biased: np.maximum(fed, 0), act: fed}[t]
            np.testing.assert_array_equal(got, want.reshape(2, 4, 2, 4, 2, 4).max(axis=(2, 4)))


@pytest.mark.parametrize("which", [0, 1, 2])
def test_a_control_dependency_on_a_middle_op_keeps_the_chain_unfused(which):
    xv, wv, bv = _data((2, 8, 8, 3), (3, 3, 3, 4))
    x = tf.placeholder(tf.float32, [None, 8, 8, 3])
    ops = _build(x, wv, bv)
    counter = tf.Variable(0, name="counter")
    with tf.control_dependencies([ops[which].op]):
        bump = tf.assign_add(counter, 1)
    with tf.Session() as sess:
        sess.run(counter.initializer)
        got = sess.run([ops[3], bump], {x: xv})
        plan = _plan(sess, [ops[3], bump], {x: xv})
        assert plan.fused == {}
        np.testing.assert_allclose(got[0], _chain_ref(xv, wv, bv), rtol=1e-4, atol=1e-4)
        assert got[1] == 1
        # A control dependency on the pool (the chain's result) does not stop the fusion.
        with tf.control_dependencies([ops[3].op]):
            after = tf.identity(ops[3])
        np.testing.assert_array_equal(_check_fused(sess, [after], {x: xv}, [CHAIN])[0], got[0])


def test_other_chains_run_unfused():
    xv, wv, bv = _data((2, 8, 8, 3), (3, 3, 3, 4))
    x = tf.placeholder(tf.float32, [None, 8, 8, 3])
    relu6 = _build(x, wv, bv, activation=tf.nn.relu6)[3]
    avg = _build(x, wv, bv, pool_fn=tf.nn.avg_pool)[3]
    xt = tf.transpose(x, [0, 3, 1, 2])
    conv = tf.nn.conv2d(xt, wv, [1, 1, 1, 1], "SAME", data_format="NCHW")
    nchw = tf.nn.max_pool(tf.nn.relu(tf.nn.bias_add(conv, bv, data_format="NCHW")), [1, 1, 2, 2], [1, 1, 2, 2],
                          "VALID", data_format="NCHW")
    half = _build(tf.cast(x, tf.float16), wv.astype(np.float16), bv.astype(np.float16))[3]
    with tf.Session() as sess:
        for out in (relu6, avg, nchw, half):
            _check_fused(sess, [out], {x: xv}, [])
        ref = _chain_ref(xv, wv, bv)
        np.testing.assert_allclose(sess.run(nchw, {x: xv}).transpose(0, 2, 3, 1), ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(("pool", "pool_strides", "pool_padding"), [
    ((3, 3), (2, 2), "VALID"),  # overlapping windows
    ((2, 2), (2, 2), "SAME"),  # padded windows (odd conv output)
    ((2, 2), (1, 1), "VALID"),
])
def test_pools_the_fused_kernel_does_not_tile_run_its_plain_kernels(pool, pool_strides, pool_padding):
    xv, wv, bv = _data((2, 9, 9, 3), (3, 3, 3, 4))
    x = tf.placeholder(tf.float32, [None, 9, 9, 3])
    conv, biased, act, pooled = _build(x, wv, bv, pool=pool, pool_strides=pool_strides, pool_padding=pool_padding)
    with tf.Session() as sess:
        got = _check_fused(sess, [pooled], {x: xv}, [CHAIN])[0]
        np.testing.assert_array_equal(got, sess.run([pooled, act], {x: xv})[0])


def test_a_failing_op_of_a_fused_chain_is_named_and_the_session_stays_usable():
    xv, wv, bv = _data((2, 8, 8, 3), (3, 3, 3, 4))
    x = tf.placeholder(tf.float32, None, name="x")
    w = tf.placeholder(tf.float32, [None, None, None, None], name="w")
    b = tf.placeholder(tf.float32, [None], name="b")
    conv, biased, act, pooled = _build(x, w, b)
    with tf.Session() as sess:
        good = _check_fused(sess, [pooled], {x: xv, w: wv, b: bv}, [CHAIN])[0]
        with pytest.raises(errors.InvalidArgumentError) as info:
            sess.run(pooled, {x: xv, w: wv, b: bv[:3]})
        assert info.value.op is biased.op and "biased" in info.value.message
        with pytest.raises(errors.InvalidArgumentError) as info:
            sess.run(pooled, {x: xv[..., :2], w: wv, b: bv})
        assert info.value.op is conv.op and "conv" in info.value.message
        with pytest.raises(errors.InvalidArgumentError) as info:
            sess.run(pooled, {x: xv[0], w: wv, b: bv})
        assert info.value.op is conv.op
        # A 1x1 convolution output has no whole 2x2 window: an empty result, as unfused.
        assert _check_fused(sess, [pooled], {x: xv[:, :1, :1], w: wv, b: bv}, [CHAIN])[0].shape == (2, 0, 0, 4)
        np.testing.assert_array_equal(sess.run(pooled, {x: xv, w: wv, b: bv}), good)


def test_traced_runs_record_every_op_of_the_chain():
    xv, wv, bv = _data((2, 8, 8, 3), (3, 3, 3, 4))
    x = tf.placeholder(tf.float32, [None, 8, 8, 3])
    pooled = _build(x, wv, bv)[3]
    with tf.Session() as sess:
        plain = sess.run(pooled, {x: xv})
        md = tf.RunMetadata()
        traced = sess.run(pooled, {x: xv}, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                          run_metadata=md)
        names = [ns.node_name for ns in md.step_stats.dev_stats[0].node_stats]
        assert [n for n in names if n in ("conv", "biased", "act", "pooled")] == ["conv", "biased", "act", "pooled"]
        np.testing.assert_array_equal(traced, plain, strict=True)
        assert _fused_types(_plan(sess, [pooled], {x: xv})) == [CHAIN]


def test_partial_runs_and_the_debugger_see_the_intermediate_tensors():
    xv, wv, bv = _data((2, 8, 8, 3), (3, 3, 3, 4))
    x = tf.placeholder(tf.float32, [None, 8, 8, 3])
    conv, biased, act, pooled = _build(x, wv, bv)
    with tf.Session() as sess:
        want = sess.run(pooled, {x: xv})
        h = sess.partial_run_setup([pooled, act], [x])
        np.testing.assert_array_equal(sess.partial_run(h, pooled, {x: xv}), want, strict=True)
        np.testing.assert_allclose(sess.partial_run(h, act), np.maximum(_conv_ref(xv, wv, 1, "SAME") + bv, 0),
                                   rtol=1e-4, atol=1e-4)
        debug = tf_debug.LocalDebugWrapperSession(sess)
        np.testing.assert_array_equal(debug.run(pooled, {x: xv}), want, strict=True)
        dump = debug.last_dump
        assert [n for n in dump.node_names() if n in ("conv", "biased", "act", "pooled")] == [
            "conv", "biased", "act", "pooled"]
        conv_v = dump.get_tensors("conv", 0, "DebugIdentity")[0]
        np.testing.assert_allclose(conv_v, _conv_ref(xv, wv, 1, "SAME"), rtol=1e-4, atol=1e-4)
        np.testing.assert_array_equal(dump.get_tensors("act", 0, "DebugIdentity")[0], np.maximum(conv_v + bv, 0))


def test_a_variable_updated_between_the_chain_ops_stops_the_fusion():
    xv, wv, bv = _data((2, 8, 8, 3), (3, 3, 3, 4))
    x = tf.placeholder(tf.float32, [None, 8, 8, 3])
    w = tf.Variable(wv, name="w")  # a ref variable: its read is a view of the storage
    conv = tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME")
    bump = tf.assign_add(w, np.ones_like(wv))  # runs after the Conv2D, before the BiasAdd
    pooled = tf.nn.max_pool(tf.nn.relu(tf.nn.bias_add(conv, bv)), [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
    with tf.Session() as sess:
        sess.run(w.initializer)
        got = sess.run([pooled, bump], {x: xv})[0]
        assert _plan(sess, [pooled, bump], {x: xv}).fused == {}
        np.testing.assert_allclose(got, _chain_ref(xv, wv, bv), rtol=1e-4, atol=1e-4)


def test_resource_variables_read_between_the_chain_ops_fuse():
    xv, wv, bv = _data((2, 8, 8, 3), (3, 3, 3, 4))
    x = tf.placeholder(tf.float32, [None, 8, 8, 3])
    w = tf.Variable(wv, name="w", use_resource=True)
    b = tf.Variable(bv, name="b", use_resource=True)
    conv = tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME")
    bump = w.assign_add(np.ones_like(wv), read_value=False)  # reads taken before it keep their values
    pooled = tf.nn.max_pool(tf.nn.relu(tf.nn.bias_add(conv, b)), [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run([pooled, bump], {x: xv})[0]
        assert _fused_types(_plan(sess, [pooled, bump], {x: xv})) == [CHAIN]
        np.testing.assert_allclose(got, _chain_ref(xv, wv, bv), rtol=1e-4, atol=1e-4)


def test_a_training_step_reads_the_intermediates_so_nothing_fuses():
    xv, wv, bv = _data((4, 8, 8, 3), (3, 3, 3, 4))
    labels = np.random.default_rng(5).standard_normal((4, 4, 4, 4)).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 8, 8, 3])
    w, b = tf.Variable(wv), tf.Variable(bv)
    pooled = _build(x, w, b)[3]
    loss = tf.reduce_mean(tf.square(pooled - labels))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run([loss, train], {x: xv})[0]
        assert _plan(sess, [loss, train], {x: xv}).fused == {}
        # The loss is the one before the update.
        assert np.isclose(got, np.mean((_chain_ref(xv, wv, bv) - labels) ** 2), rtol=1e-5)
        inference = sess.run(pooled, {x: xv})  # a plain inference fetch of the same graph fuses
        assert _fused_types(_plan(sess, [pooled], {x: xv})) == [CHAIN]
        np.testing.assert_array_equal(inference, _plan(sess, [pooled], {x: xv}).run_steps([xv])[0])


def test_chains_in_a_while_loop_body_fuse(monkeypatch):
    made = []

    def recording(*ops, ctx=None):
        kernel = nn_ops.conv_bias_relu_pool_kernel(*ops, ctx=ctx)
        made.append([op.type for op in ops] if kernel is not None else None)
        return kernel

    monkeypatch.setitem(nn_ops.FUSED_CHAINS, tuple(CHAIN), recording)
    xv, wv, bv = _data((2, 8, 8, 4), (3, 3, 4, 4))
    x = tf.placeholder(tf.float32, [None, 8, 8, 4])

    def body(i, v):
        y = _build(v, wv, bv, pool=(1, 1))[3]
        return i + 1, y * np.float32(0.5)

    out = tf.while_loop(lambda i, v: i < 3, body, [tf.constant(0), x])[1]
    with tf.Session() as sess:
        got = sess.run(out, {x: xv})
    want = xv.astype(np.float64)
    for _ in range(3):
        want = np.maximum(_conv_ref(want, wv, 1, "SAME") + bv, 0) * 0.5
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    assert made == [CHAIN]  # the body's plan, compiled once


@pytest.fixture
def parallel_env(monkeypatch):
    monkeypatch.setenv("TFMINI_PARALLEL_MIN_ELEMENTS", str(local_engine.PARALLEL_MIN_ELEMENTS))
    monkeypatch.setenv("TFMINI_PARALLEL_TRIAL_RUNS", "1")


def test_the_parallel_engine_gives_the_same_bits_from_either_walk(parallel_env):
    xv, wv, bv = _data((8, 32, 32, 16), (3, 3, 16, 32))
    x = tf.placeholder(tf.float32, [8, 32, 32, 16])
    a = _build(x, wv, bv)[3]
    c = _build(x, wv[..., ::-1].copy(), bv)[3]
    with tf.Session() as serial:
        want = serial.run([a, c], {x: xv})
    with tf.Session(config=tf.ConfigProto(inter_op_parallelism_threads=2)) as sess:
        assert type(sess._engine) is local_engine.ParallelEngine
        exe = sess._engine.compile((a, c), (x,), ())
        assert exe.parallel and _fused_types(exe.plan) == [CHAIN, CHAIN]
        for _ in range(5):  # the serial (fused) and concurrent (unfused) walks alternate, then one is kept
            got = sess.run([a, c], {x: xv})
            for g, wnt in zip(got, want):
                np.testing.assert_array_equal(g, wnt, strict=True)
        assert exe._trials is None
