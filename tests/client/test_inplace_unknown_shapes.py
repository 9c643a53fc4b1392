"""In-place buffer reuse where the batch dim is unknown until run time (a [None, n] placeholder, as every
training script feeds): the chain still reuses one buffer, a step whose run-time broadcast would not fit input
0's buffer computes as the plain kernel does, and every result and error equals the plain path's."""

import numpy as np
import pytest

import tfmini as tf
from tfmini.client import executor
from tfmini.framework import errors


def _plan(sess, fetches, feeds=()):
    return sess._engine.compile(tuple(fetches), tuple(feeds), ()).plan


def _chosen(plan) -> list[str]:
    live = [s for s in plan.steps if not (s.outputs and all(o in plan.folded for o in s.outputs))]
    chosen = executor._inplace_kernels(live, set(plan.feed_slots), set(plan.fetch_slots), plan.folded)
    return sorted(plan.steps[i].op.type for i in chosen)


def _both_paths(plan, feeds):
    fast = plan.run([np.array(v) for v in feeds])
    plain = plan.run_steps([np.array(v) for v in feeds])
    return fast, plain


def test_layer_with_unknown_batch_runs_in_place_and_matches_plain_and_numpy():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((5, 4)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 5])
        y = tf.nn.relu(tf.nn.bias_add(tf.matmul(x, w), b))
        z = y * 2.0 + 1.0
    plan = _plan(tf.Session(graph=g), [z], [x])
    assert _chosen(plan) == ["Add", "BiasAdd", "Mul", "Relu"]
    for batch in (1, 3, 0):
        xv = rng.standard_normal((batch, 5)).astype(np.float32)
        fast, plain = _both_paths(plan, [xv])
        np.testing.assert_array_equal(fast[0], plain[0])
        np.testing.assert_allclose(fast[0], np.maximum(xv @ w + b, 0) * 2 + 1, rtol=1e-6)
        assert fast[0].shape == (batch, 4) and fast[0].dtype == np.float32


def test_broadcast_that_outgrows_input_zero_falls_back_to_a_new_buffer():
    g = tf.Graph()
    with g.as_default():
        a = tf.placeholder(tf.float32, [None, None])
        b = tf.placeholder(tf.float32, [None, None])
        out = (a * 3.0) + b  # the product is fresh and dead: Add may write into it when shapes allow
    plan = _plan(tf.Session(graph=g), [out], [a, b])
    assert "Add" in _chosen(plan)
    av = np.arange(3, dtype=np.float32).reshape(1, 3)
    bv = np.ones((4, 3), np.float32)
    for feeds in ([av, bv], [bv, av], [bv, bv]):
        fast, plain = _both_paths(plan, feeds)
        np.testing.assert_array_equal(fast[0], plain[0])
        np.testing.assert_array_equal(fast[0], feeds[0] * 3 + feeds[1])
    np.testing.assert_array_equal(av, [[0, 1, 2]])  # feeds untouched


def test_incompatible_runtime_shapes_fail_alike_and_the_session_stays_usable():
    g = tf.Graph()
    with g.as_default():
        a = tf.placeholder(tf.float32, [None])
        b = tf.placeholder(tf.float32, [None])
        out = (a * 2.0) - b
    sess = tf.Session(graph=g)
    plan = _plan(sess, [out], [a, b])
    bad = [np.ones(2, np.float32), np.ones(3, np.float32)]
    with pytest.raises(errors.InvalidArgumentError) as fast_err:
        plan.run(bad)
    with pytest.raises(errors.InvalidArgumentError) as plain_err:
        plan.run_steps(bad)
    assert str(fast_err.value) == str(plain_err.value)
    with pytest.raises(errors.InvalidArgumentError):
        sess.run(out, {a: bad[0], b: bad[1]})
    np.testing.assert_array_equal(sess.run(out, {a: [1.0, 2.0], b: [1.0, 1.0]}), [1.0, 3.0])


def test_relu_grad_writes_into_the_incoming_gradient_and_matches_plain():
    rng = np.random.default_rng(3)
    w1 = rng.standard_normal((6, 5)).astype(np.float32)
    w2 = rng.standard_normal((5, 2)).astype(np.float32)
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 6])
        a1 = tf.matmul(x, w1)
        h = tf.nn.relu(a1)
        loss = tf.reduce_sum(tf.square(tf.matmul(h, w2)))
        (grad_x,) = tf.gradients(loss, [x])
    plan = _plan(tf.Session(graph=g), [grad_x], [x])
    assert "ReluGrad" in _chosen(plan)
    xv = rng.standard_normal((7, 6)).astype(np.float32)
    xv[0] = np.nan  # NaN stays NaN through the mask, as in the plain kernel (and TF)
    fast, plain = _both_paths(plan, [xv])
    np.testing.assert_array_equal(fast[0], plain[0])
    a1v = xv @ w1
    expected = (((np.maximum(a1v, 0) @ w2) * 2) @ w2.T * (a1v > 0)) @ w1.T
    np.testing.assert_allclose(fast[0][1:], expected[1:], rtol=1e-4)
    assert np.isnan(fast[0][0]).all()
