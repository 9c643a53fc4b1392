"""The executor's fast paths (cached runners, per-plan kernels, in-place buffer reuse, constant folding)
give exactly what the plain path gives: same outputs, same errors, same traces."""

import numpy as np
import pytest

import tfmini as tf
from tfmini.client import executor


def _plan(sess, fetches, feeds=()):
    return sess._engine.compile(tuple(fetches), tuple(feeds), ()).plan


def _both_paths(sess, fetches, feed_dict):
    """(fast results, plain results) of one signature, run from fresh copies of the feeds."""
    plan = _plan(sess, fetches, list(feed_dict))
    fast = plan.run([np.array(v) for v in feed_dict.values()])
    plain = plan.run_steps([np.array(v) for v in feed_dict.values()])
    return fast, plain


def _mlp_layer(batch=None):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((5, 4)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    x = tf.placeholder(tf.float32, [batch, 5])
    h = tf.matmul(x, w)
    a = tf.nn.bias_add(h, b)
    y = tf.nn.relu(a)
    return x, h, a, y, w, b


def test_inplace_chain_matches_plain_path_and_numpy():
    g = tf.Graph()
    with g.as_default():
        x, _, _, y, w, b = _mlp_layer(batch=3)
        z = tf.tanh(y * 2.0 + 1.0)
    sess = tf.Session(graph=g)
    xv = np.random.default_rng(1).standard_normal((3, 5)).astype(np.float32)
    fast, plain = _both_paths(sess, [z], {x: xv})
    np.testing.assert_array_equal(fast[0], plain[0])
    np.testing.assert_allclose(fast[0], np.tanh(np.maximum(xv @ w + b, 0) * 2 + 1), rtol=1e-6)
    assert fast[0].dtype == np.float32


def test_inplace_is_used_for_a_dead_fresh_input():
    g = tf.Graph()
    with g.as_default():
        x, _, _, y, _, _ = _mlp_layer(batch=3)
    plan = _plan(tf.Session(graph=g), [y], [x])
    live = [s for s in plan.steps if not (s.outputs and all(o in plan.folded for o in s.outputs))]
    chosen = executor._inplace_kernels(live, set(plan.feed_slots), set(plan.fetch_slots), plan.folded)
    assert sorted(plan.steps[i].op.type for i in chosen) == ["BiasAdd", "Relu"]


def test_fetched_intermediates_are_not_overwritten():
    g = tf.Graph()
    with g.as_default():
        x, h, a, y, w, b = _mlp_layer(batch=3)
    sess = tf.Session(graph=g)
    xv = np.random.default_rng(2).standard_normal((3, 5)).astype(np.float32)
    hv, av, yv = sess.run([h, a, y], {x: xv})
    np.testing.assert_allclose(hv, xv @ w, rtol=1e-6)
    np.testing.assert_allclose(av, xv @ w + b, rtol=1e-6)
    np.testing.assert_allclose(yv, np.maximum(xv @ w + b, 0), rtol=1e-6)


def test_a_value_with_two_readers_is_not_reused():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [4])
        m = x * 3.0           # fresh, read by both branches below
        left = tf.nn.relu(m)
        right = m + 1.0
        out = left + right
    sess = tf.Session(graph=g)
    xv = np.array([-1.0, 0.5, 2.0, -3.0], np.float32)
    got = sess.run(out, {x: xv})
    np.testing.assert_allclose(got, np.maximum(xv * 3, 0) + xv * 3 + 1)


def test_feeds_constants_and_variables_are_never_written():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [3])
        c = tf.constant([1.0, 2.0, 3.0])
        v = tf.Variable([10.0, 20.0, 30.0])
        y = tf.nn.relu(tf.identity(x)) + tf.nn.relu(c) + tf.nn.relu(v.value())
        init = tf.global_variables_initializer()
    sess = tf.Session(graph=g)
    sess.run(init)
    xv = np.array([-1.0, 1.0, -2.0], np.float32)
    for _ in range(3):
        got = sess.run(y, {x: xv})
    np.testing.assert_allclose(got, [11.0, 23.0, 33.0])
    np.testing.assert_array_equal(xv, [-1.0, 1.0, -2.0])
    np.testing.assert_array_equal(sess.run(c), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(sess.run(v), [10.0, 20.0, 30.0])


def test_unknown_shapes_keep_tf_broadcast_errors_on_both_paths():
    g = tf.Graph()
    with g.as_default():
        a = tf.placeholder(tf.float32, [None])
        b = tf.placeholder(tf.float32, [None])
        c = a + b
    sess = tf.Session(graph=g)
    plan = _plan(sess, [c], [a, b])
    feeds = [np.ones(2, np.float32), np.ones(3, np.float32)]
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Incompatible shapes: \[2\] vs. \[3\]") as fast:
        plan.run(feeds)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Incompatible shapes: \[2\] vs. \[3\]") as plain:
        plan.run_steps(feeds)
    assert fast.value.op is plain.value.op is c.op


def test_static_axis_reductions_match_the_general_kernel():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [2, 3, 4])
        outs = [tf.reduce_sum(x, axis=-1), tf.reduce_sum(x, axis=[0, 2], keepdims=True), tf.reduce_sum(x, []),
                tf.reduce_mean(x, 1), tf.reduce_max(x), tf.reduce_prod(x, axis=(1, -1))]
        y = tf.placeholder(tf.int32, [None, None])
        int_outs = [tf.reduce_sum(y, 0), tf.reduce_mean(y, axis=1)]
    sess = tf.Session(graph=g)
    xv = np.random.default_rng(3).standard_normal((2, 3, 4)).astype(np.float32)
    fast, plain = _both_paths(sess, outs, {x: xv})
    for f, p in zip(fast, plain):
        np.testing.assert_array_equal(f, p)
        assert np.asarray(f).dtype == np.float32
    yv = np.array([[1, -2, 4], [3, 5, -7]], np.int32)
    fast, plain = _both_paths(sess, int_outs, {y: yv})
    np.testing.assert_array_equal(fast[0], [4, 3, -3])
    np.testing.assert_array_equal(fast[1], [1, 0])
    for f, p in zip(fast, plain):
        np.testing.assert_array_equal(f, p)
        assert f.dtype == np.int32


def test_cached_runner_sees_new_feed_values_and_checks_them():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 2])
        y = tf.reduce_sum(x * 2.0)
    sess = tf.Session(graph=g)
    assert sess.run(y, {x: np.ones((1, 2), np.float32)}) == 4.0
    assert sess.run(y, {x: np.full((3, 2), 2.0, np.float32)}) == 24.0
    assert sess.run(y, {x: [[1, 2]]}) == 6.0  # a list goes through the full conversion
    with pytest.raises(ValueError, match="Cannot feed value of shape"):
        sess.run(y, {x: np.ones((2, 3), np.float32)})
    assert sess.run(y, {x: np.ones((1, 2), np.float64)}) == 4.0  # converted, as on the first call


def test_cached_runner_is_invalidated_by_graph_changes():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [])
        y = x + 1.0
    sess = tf.Session(graph=g)
    assert sess.run([y], {x: 1.0}) == [2.0]
    assert sess.run([y], {x: 1.0}) == [2.0]
    g.prevent_fetching(y.op)
    with pytest.raises(ValueError, match="not fetchable"):
        sess.run([y], {x: 1.0})
    g2 = tf.Graph()
    with g2.as_default():
        p = tf.placeholder(tf.float32, [])
        q = p * 2.0
    sess2 = tf.Session(graph=g2)
    assert sess2.run(q, {p: 3.0}) == 6.0
    g2.prevent_feeding(p)
    with pytest.raises(ValueError, match="may not be fed"):
        sess2.run(q, {p: 3.0})


def test_cached_runner_returns_the_fetch_structure():
    g = tf.Graph()
    with g.as_default():
        a = tf.constant(1.0)
        b = tf.constant([2, 3])
        noop = tf.no_op()
    sess = tf.Session(graph=g)
    for _ in range(2):  # the second call is served by the cached runner
        assert sess.run(a) == 1.0
        assert sess.run(noop) is None
        lst = sess.run([b, noop, a, b])
        assert isinstance(lst, list) and lst[1] is None and lst[2] == 1.0
        np.testing.assert_array_equal(lst[0], [2, 3])
        tup = sess.run((a, b))
        assert isinstance(tup, tuple) and tup[0] == 1.0


def test_fetched_arrays_are_private_copies_on_every_path():
    g = tf.Graph()
    with g.as_default():
        c = tf.constant([1.0, 2.0])
        x = tf.placeholder(tf.float32, [2])
        y = tf.identity(x)
    sess = tf.Session(graph=g)
    for _ in range(2):
        got = sess.run(c)
        got[0] = 99.0
    np.testing.assert_array_equal(sess.run(c), [1.0, 2.0])
    xv = np.array([5.0, 6.0], np.float32)
    for _ in range(2):
        out = sess.run(y, {x: xv})
        out[0] = -1.0
    np.testing.assert_array_equal(xv, [5.0, 6.0])


def test_traced_run_matches_untraced_outputs():
    g = tf.Graph()
    with g.as_default():
        x, _, _, y, _, _ = _mlp_layer()
        z = tf.reduce_mean(tf.tanh(y))
    sess = tf.Session(graph=g)
    xv = np.random.default_rng(4).standard_normal((6, 5)).astype(np.float32)
    md = tf.RunMetadata()
    traced = sess.run([y, z], {x: xv}, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                      run_metadata=md)
    fast = sess.run([y, z], {x: xv})
    np.testing.assert_array_equal(traced[0], fast[0])
    assert traced[1] == fast[1]
    traced_ops = {n.node_name for d in md.step_stats.dev_stats for n in d.node_stats}
    assert {y.op.name, z.op.name} <= traced_ops


def test_inf_and_nan_are_silent_on_every_path_as_in_tf():
    import warnings

    x = tf.placeholder(tf.float32, [3])
    y = tf.reduce_sum(x * x) + tf.log(x - 1.0)
    feed = {x: np.array([1e30, 2.0, 0.5], np.float32)}
    with tf.Session() as sess, warnings.catch_warnings(record=True) as caught:
        fast = sess.run(y, feed)
        traced = sess.run(y, feed, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                          run_metadata=tf.RunMetadata())
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    np.testing.assert_array_equal(fast, traced)
    assert np.isinf(fast[0]) and np.isnan(fast[2])
