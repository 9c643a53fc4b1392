"""FtrlOptimizer, ProximalGradientDescentOptimizer, ProximalAdagradOptimizer and AdagradDAOptimizer against
training trajectories recorded from TensorFlow (dense and sparse gradients, ref and resource variables), their
training ops' checks, and the cosine-restart and linear-cosine learning-rate decays."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import tfmini as tf
from tfmini.ops import training_ops_more

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf", "train_more")
with open(os.path.join(FIXTURES, "optimizers.json")) as _f:
    META = json.load(_f)
RECORDED = dict(np.load(os.path.join(FIXTURES, "optimizers.npz")))
DECAYS = dict(np.load(os.path.join(FIXTURES, "decays.npz")))
RAW_FTRL = dict(np.load(os.path.join(FIXTURES, "raw_ftrl.npz")))
W0 = np.array(META["w0"], np.float32)
X = np.array(META["x"], np.float32)
ROWS = np.array(META["rows"], np.int32)


def _loss(w, sparse: bool):
    if sparse:
        return tf.reduce_sum(tf.sin(tf.gather(w, ROWS)) * X)
    return tf.reduce_sum(tf.sin(w) * X) + 0.1 * tf.reduce_sum(w * w * w)


@pytest.mark.parametrize("case", META["cases"], ids=lambda c: f"{c['key']}-{c['optimizer']}")
def test_trajectory_matches_tensorflow(case):
    with tf.Graph().as_default():
        gs = tf.Variable(0, dtype=tf.int64, name="global_step", trainable=False)
        w = tf.get_variable("w", initializer=W0, use_resource=case["resource"])
        kwargs = dict(case["kwargs"])
        if case["optimizer"] == "AdagradDAOptimizer":
            kwargs["global_step"] = gs
        opt = getattr(tf.train, case["optimizer"])(**kwargs)
        train = opt.minimize(_loss(w, case["sparse"]), global_step=gs)
        names = opt.get_slot_names()
        assert {n: opt.get_slot(w, n).op.name for n in names} == case["slots"]
        slots = [opt.get_slot(w, n) for n in names]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for step in range(META["steps"]):
                sess.run(train)
                got = sess.run([w] + slots)
                np.testing.assert_allclose(got[0], RECORDED[case["key"] + "/w"][step], rtol=2e-5, atol=2e-6)
                for n, value in zip(names, got[1:]):
                    np.testing.assert_allclose(value, RECORDED[f"{case['key']}/{n}"][step], rtol=2e-5, atol=2e-6)


def _op_types(graph) -> set:
    return {op.type for op in graph.get_operations()}


@pytest.mark.parametrize("optimizer, dense, sparse", [
    (lambda gs: tf.train.FtrlOptimizer(0.1), "ApplyFtrl", "SparseApplyFtrl"),
    (lambda gs: tf.train.FtrlOptimizer(0.1, l2_shrinkage_regularization_strength=0.1), "ApplyFtrlV2",
     "SparseApplyFtrlV2"),
    (lambda gs: tf.train.ProximalGradientDescentOptimizer(0.1), "ApplyProximalGradientDescent",
     "SparseApplyProximalGradientDescent"),
    (lambda gs: tf.train.ProximalAdagradOptimizer(0.1), "ApplyProximalAdagrad", "SparseApplyProximalAdagrad"),
    (lambda gs: tf.train.AdagradDAOptimizer(0.1, gs), "ApplyAdagradDA", "SparseApplyAdagradDA"),
])
def test_optimizers_build_tensorflows_training_ops(optimizer, dense, sparse):
    for resource in (False, True):
        with tf.Graph().as_default() as g:
            gs = tf.Variable(0, dtype=tf.int64, trainable=False)
            a = tf.get_variable("a", initializer=W0, use_resource=resource)
            b = tf.get_variable("b", initializer=W0, use_resource=resource)
            optimizer(gs).minimize(tf.reduce_sum(a * a) + tf.reduce_sum(tf.gather(b, [1, 2])))
            prefix = "Resource" if resource else ""
            assert {prefix + dense, prefix + sparse} <= _op_types(g)


def test_ftrl_checks_its_arguments():
    with pytest.raises(ValueError, match="learning_rate_power 0.500000 needs to be negative or zero"):
        tf.train.FtrlOptimizer(0.1, learning_rate_power=0.5)
    with pytest.raises(ValueError, match="initial_accumulator_value -1.000000 needs to be positive or zero"):
        tf.train.FtrlOptimizer(0.1, initial_accumulator_value=-1.0)
    for arg in ("l1_regularization_strength", "l2_regularization_strength", "l2_shrinkage_regularization_strength"):
        with pytest.raises(ValueError, match=f"{arg} -0.100000 needs to be positive or zero"):
            tf.train.FtrlOptimizer(0.1, **{arg: -0.1})


def test_adagrad_optimizers_need_a_positive_initial_accumulator():
    with pytest.raises(ValueError, match="initial_accumulator_value must be positive: 0.0"):
        tf.train.ProximalAdagradOptimizer(0.1, initial_accumulator_value=0.0)
    with pytest.raises(ValueError, match="initial_gradient_squared_accumulator_value must be positive: -1"):
        tf.train.AdagradDAOptimizer(0.1, None, initial_gradient_squared_accumulator_value=-1)


def test_adagrad_da_takes_an_int64_global_step_only():
    with tf.Graph().as_default():
        gs = tf.Variable(0, dtype=tf.int32, trainable=False)
        w = tf.Variable([1.0, 2.0])
        with pytest.raises(TypeError):
            tf.train.AdagradDAOptimizer(0.1, gs).minimize(tf.reduce_sum(w * w))


def test_ftrl_kernel_checks_shapes_and_leaves_session_usable():
    with tf.Graph().as_default():
        var = tf.Variable(np.ones((2, 2), np.float32))
        accum = tf.Variable(np.ones((2, 2), np.float32))
        linear = tf.Variable(np.zeros((2, 2), np.float32))
        grad = tf.placeholder(tf.float32)
        op = training_ops_more.apply_ftrl(var, accum, linear, grad, 0.1, 0.0, 0.0, -0.5)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            with pytest.raises(tf.errors.InvalidArgumentError, match="var and grad do not have the same shape"):
                sess.run(op, {grad: np.ones(3, np.float32)})
            sess.run(op, {grad: np.ones((2, 2), np.float32)})
            assert sess.run(accum)[0, 0] == pytest.approx(2.0)


def test_sparse_kernel_rejects_out_of_range_indices():
    with tf.Graph().as_default():
        var = tf.Variable(np.ones((3, 2), np.float32))
        indices = tf.placeholder(tf.int32, [None])
        op = training_ops_more.sparse_apply_proximal_gradient_descent(var, 0.1, 0.0, 0.0, tf.ones([1, 2]), indices)
        with tf.Session() as sess:
            sess.run(var.initializer)
            with pytest.raises(tf.errors.InvalidArgumentError, match="Index 5 at offset 0 in indices is out of range"):
                sess.run(op, {indices: [5]})
            sess.run(op, {indices: [1]})
            np.testing.assert_allclose(sess.run(var)[1], [0.9, 0.9])


def test_ops_do_not_write_into_fed_gradients():
    with tf.Graph().as_default():
        var = tf.Variable(np.ones(3, np.float32))
        acc = tf.Variable(np.full(3, 0.1, np.float32))
        grad = tf.placeholder(tf.float32, [3])
        op = training_ops_more.apply_proximal_adagrad(var, acc, 0.1, 0.01, 0.01, grad)
        fed = np.array([1.0, -2.0, 3.0], np.float32)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(op, {grad: fed})
        np.testing.assert_array_equal(fed, [1.0, -2.0, 3.0])


@pytest.mark.parametrize("key, build", [
    ("restarts", lambda s: tf.train.cosine_decay_restarts(0.5, s, 5)),
    ("restarts_mul", lambda s: tf.train.cosine_decay_restarts(0.5, s, 4, t_mul=1.5, m_mul=0.8, alpha=0.1)),
    ("restarts_tmul1", lambda s: tf.train.cosine_decay_restarts(1.0, s, 6, t_mul=1.0, m_mul=0.5)),
    ("linear_cosine", lambda s: tf.train.linear_cosine_decay(0.5, s, 30)),
    ("linear_cosine_args", lambda s: tf.train.linear_cosine_decay(0.2, s, 25, num_periods=2.0, alpha=0.1, beta=0.01)),
    ("noisy_zero_variance", lambda s: tf.train.noisy_linear_cosine_decay(0.5, s, 30, initial_variance=0.0)),
])
def test_decay_matches_tensorflow(key, build):
    with tf.Graph().as_default():
        step = tf.placeholder(tf.int64, [])
        lr = build(step)
        assert lr.dtype == tf.float32
        with tf.Session() as sess:
            got = np.array([sess.run(lr, {step: s}) for s in range(40)])
    np.testing.assert_allclose(got, DECAYS[key], rtol=1e-5, atol=1e-7)


def test_noisy_linear_cosine_decay_noise_shrinks_with_the_step():
    with tf.Graph().as_default():
        tf.set_random_seed(3)
        step = tf.placeholder(tf.int64, [])
        lr = tf.train.noisy_linear_cosine_decay(0.5, step, 100, initial_variance=1.0, variance_decay=0.55)
        exact = tf.train.linear_cosine_decay(0.5, step, 100)
        with tf.Session() as sess:
            early = np.array([sess.run(lr - exact, {step: 0}) for _ in range(150)])
            late = np.array([sess.run(lr - exact, {step: 99}) for _ in range(150)])
    # the noise ~ N(0, 1 / (1 + step) ** 0.55) is scaled by the cosine factor (1 at step 0, ~0 at the end)
    # and the rate
    assert 0.35 < early.std() < 0.65
    assert late.std() < 0.01


def test_decays_need_a_global_step():
    for fn in (tf.train.cosine_decay_restarts, tf.train.linear_cosine_decay, tf.train.noisy_linear_cosine_decay):
        with pytest.raises(ValueError, match="requires global_step"):
            fn(0.1, None, 10)


@pytest.mark.parametrize("key", sorted(RAW_FTRL))
def test_ftrl_ops_match_tensorflow_with_and_without_multiply_linear_by_lr(key):
    flags = dict(part.split("=") for part in key.split(","))
    v2, by_lr, sparse = (flags[k] == "1" for k in ("v2", "by_lr", "sparse"))
    grads = np.array([[0.3, -0.2, 0.5], [-1.0, 0.05, 0.0], [0.7, 0.7, -0.1]], np.float32)
    with tf.Graph().as_default():
        var = tf.Variable([[0.2, -0.1, 0.4], [1.0, 0.0, -2.0], [0.3, 0.3, 0.3]], use_resource=True)
        accum = tf.Variable(np.full((3, 3), 0.2, np.float32), use_resource=True)
        linear = tf.Variable(np.zeros((3, 3), np.float32), use_resource=True)
        hyper = [0.3, 0.05, 0.1] + ([0.2] if v2 else []) + [-0.5]
        if sparse:
            fn = training_ops_more.sparse_apply_ftrl_v2 if v2 else training_ops_more.sparse_apply_ftrl
            update = fn(var, accum, linear, grads[[2, 0]], [2, 0], *hyper, multiply_linear_by_lr=by_lr)
        else:
            fn = training_ops_more.apply_ftrl_v2 if v2 else training_ops_more.apply_ftrl
            update = fn(var, accum, linear, grads, *hyper, multiply_linear_by_lr=by_lr)
        assert update.type.startswith("Resource")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for step in range(3):
                sess.run(update)
                for got, want in zip(sess.run([var, accum, linear]), RAW_FTRL[key][step]):
                    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
