"""State ops against NumPy references: scatter updates and the training ops (dense and sparse forms), which
update variable storage in place, with TF's checks on their inputs."""

import numpy as np
import pytest

import tfmini as tf
from tfmini.ops import state_ops


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield


def _run_update(initial: dict, build, steps: int = 1):
    """Creates variables from `initial`, runs `build(vars)` `steps` times; returns the final values."""
    vs = {k: tf.Variable(np.asarray(v), name=k) for k, v in initial.items()}
    update = build(vs)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(steps):
            sess.run(update)
        return {k: sess.run(v) for k, v in vs.items()}


RNG = np.random.RandomState(0)
VAR = RNG.randn(4, 3).astype(np.float32)
GRAD = RNG.randn(4, 3).astype(np.float32)


# ----------------------------------------------------------------------------------------------------------
# Dense training ops
# ----------------------------------------------------------------------------------------------------------
def test_apply_gradient_descent():
    out = _run_update({"var": VAR}, lambda v: state_ops.apply_gradient_descent(v["var"], 0.1, GRAD), steps=2)
    np.testing.assert_allclose(out["var"], VAR - 2 * 0.1 * GRAD, rtol=1e-6)


@pytest.mark.parametrize("nesterov", [False, True])
def test_apply_momentum(nesterov):
    acc0 = RNG.rand(4, 3).astype(np.float32)
    out = _run_update({"var": VAR, "acc": acc0}, lambda v: state_ops.apply_momentum(
        v["var"], v["acc"], 0.1, GRAD, 0.9, use_nesterov=nesterov), steps=2)
    var, acc = VAR.copy(), acc0.copy()
    for _ in range(2):
        acc = acc * 0.9 + GRAD
        var = var - (GRAD * 0.1 + acc * 0.9 * 0.1 if nesterov else acc * 0.1)
    np.testing.assert_allclose(out["acc"], acc, rtol=1e-6)
    np.testing.assert_allclose(out["var"], var, rtol=1e-6)


@pytest.mark.parametrize("nesterov", [False, True])
def test_apply_adam(nesterov):
    m0, v0 = RNG.rand(4, 3).astype(np.float32), RNG.rand(4, 3).astype(np.float32)
    b1p, b2p, lr, b1, b2, eps = 0.9 ** 3, 0.999 ** 3, 0.01, 0.9, 0.999, 1e-7
    out = _run_update({"var": VAR, "m": m0, "v": v0}, lambda v: state_ops.apply_adam(
        v["var"], v["m"], v["v"], b1p, b2p, lr, b1, b2, eps, GRAD, use_nesterov=nesterov))
    alpha = lr * np.sqrt(1 - b2p) / (1 - b1p)
    m = b1 * m0 + (1 - b1) * GRAD
    v = b2 * v0 + (1 - b2) * GRAD ** 2
    step = (GRAD * (1 - b1) + b1 * m) if nesterov else m
    np.testing.assert_allclose(out["m"], m, rtol=1e-5)
    np.testing.assert_allclose(out["v"], v, rtol=1e-5)
    np.testing.assert_allclose(out["var"], VAR - alpha * step / (np.sqrt(v) + eps), rtol=1e-5)


def test_apply_adagrad():
    acc0 = RNG.rand(4, 3).astype(np.float32) + 0.1
    out = _run_update({"var": VAR, "acc": acc0}, lambda v: state_ops.apply_adagrad(v["var"], v["acc"], 0.5, GRAD))
    acc = acc0 + GRAD ** 2
    np.testing.assert_allclose(out["acc"], acc, rtol=1e-6)
    np.testing.assert_allclose(out["var"], VAR - 0.5 * GRAD / np.sqrt(acc), rtol=1e-5)


def test_apply_rms_prop():
    ms0, mom0 = RNG.rand(4, 3).astype(np.float32), RNG.rand(4, 3).astype(np.float32)
    out = _run_update({"var": VAR, "ms": ms0, "mom": mom0}, lambda v: state_ops.apply_rms_prop(
        v["var"], v["ms"], v["mom"], 0.01, 0.9, 0.5, 1e-6, GRAD))
    ms = 0.9 * ms0 + 0.1 * GRAD ** 2
    mom = 0.5 * mom0 + 0.01 * GRAD / np.sqrt(ms + 1e-6)
    np.testing.assert_allclose(out["ms"], ms, rtol=1e-5)
    np.testing.assert_allclose(out["mom"], mom, rtol=1e-5)
    np.testing.assert_allclose(out["var"], VAR - mom, rtol=1e-5)


def test_apply_centered_rms_prop():
    mg0, ms0, mom0 = (RNG.rand(4, 3).astype(np.float32) for _ in range(3))
    ms0 = ms0 + 1.0
    out = _run_update({"var": VAR, "mg": mg0, "ms": ms0, "mom": mom0}, lambda v: state_ops.apply_centered_rms_prop(
        v["var"], v["mg"], v["ms"], v["mom"], 0.01, 0.9, 0.5, 1e-6, GRAD))
    ms = 0.9 * ms0 + 0.1 * GRAD ** 2
    mg = 0.9 * mg0 + 0.1 * GRAD
    mom = 0.5 * mom0 + 0.01 * GRAD / np.sqrt(ms - mg ** 2 + 1e-6)
    np.testing.assert_allclose(out["mg"], mg, rtol=1e-5)
    np.testing.assert_allclose(out["var"], VAR - mom, rtol=1e-5)


def test_training_ops_update_float64_variables_in_their_dtype():
    var = VAR.astype(np.float64)
    out = _run_update({"var": var}, lambda v: state_ops.apply_gradient_descent(
        v["var"], np.float64(0.25), GRAD.astype(np.float64)))
    assert out["var"].dtype == np.float64
    np.testing.assert_allclose(out["var"], var - 0.25 * GRAD, rtol=1e-12)


def test_training_op_checks_shapes_at_construction():
    v = tf.Variable(VAR)
    with pytest.raises(ValueError, match="Dimension 1 in both shapes must be equal, but are 3 and 2"):
        state_ops.apply_gradient_descent(v, 0.1, np.zeros([4, 2], np.float32))
    with pytest.raises(ValueError, match="Shape must be rank 0 but is rank 1"):
        state_ops.apply_gradient_descent(v, [0.1], GRAD)
    acc = tf.Variable(np.zeros([3], np.float32))
    with pytest.raises(ValueError, match="Shapes must be equal rank"):
        state_ops.apply_momentum(v, acc, 0.1, GRAD, 0.9)


def test_training_op_checks_shapes_at_run_time():
    v = tf.Variable(VAR)
    g = tf.placeholder(tf.float32)
    lr = tf.placeholder(tf.float32)
    op = state_ops.apply_gradient_descent(v, lr, g)
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(tf.errors.InvalidArgumentError, match="var and grad do not have the same shape"):
            sess.run(op, {g: np.zeros([2], np.float32), lr: 0.1})
        with pytest.raises(tf.errors.InvalidArgumentError, match="alpha is not a scalar"):
            sess.run(op, {g: GRAD, lr: [0.1, 0.2]})


def test_training_op_on_an_uninitialized_slot_fails_naming_it():
    v = tf.Variable(VAR)
    acc = tf.Variable(np.zeros([4, 3], np.float32), name="acc")
    op = state_ops.apply_adagrad(v, acc, 0.1, GRAD)
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized variables: acc"):
            sess.run(op)


def test_training_op_type_mismatch_is_a_type_error():
    v = tf.Variable(VAR)
    with pytest.raises(TypeError):
        state_ops.apply_gradient_descent(v, 0.1, tf.constant(GRAD, dtype=tf.float64))


def test_training_ops_need_a_variable():
    with pytest.raises(TypeError, match="mutable tensor"):
        state_ops.apply_gradient_descent(tf.constant(VAR), 0.1, GRAD)


# ----------------------------------------------------------------------------------------------------------
# Sparse training ops: only the named rows change; repeated rows are summed first
# ----------------------------------------------------------------------------------------------------------
INDICES = np.array([2, 0, 2], np.int32)
ROWS = RNG.randn(3, 3).astype(np.float32)


def _summed_rows():
    g = np.zeros_like(VAR)
    np.add.at(g, INDICES, ROWS)
    return np.array([0, 2]), g[[0, 2]]


def test_sparse_apply_momentum_updates_only_indexed_rows():
    acc0 = RNG.rand(4, 3).astype(np.float32)
    out = _run_update({"var": VAR, "acc": acc0}, lambda v: state_ops.sparse_apply_momentum(
        v["var"], v["acc"], 0.1, ROWS, INDICES, 0.9))
    rows, g = _summed_rows()
    acc, var = acc0.copy(), VAR.copy()
    acc[rows] = acc[rows] * 0.9 + g
    var[rows] -= 0.1 * acc[rows]
    np.testing.assert_allclose(out["acc"], acc, rtol=1e-6)
    np.testing.assert_allclose(out["var"], var, rtol=1e-6)


def test_sparse_apply_adagrad_updates_only_indexed_rows():
    acc0 = RNG.rand(4, 3).astype(np.float32) + 0.1
    out = _run_update({"var": VAR, "acc": acc0}, lambda v: state_ops.sparse_apply_adagrad(
        v["var"], v["acc"], 0.5, ROWS, INDICES))
    rows, g = _summed_rows()
    acc, var = acc0.copy(), VAR.copy()
    acc[rows] += g ** 2
    var[rows] -= 0.5 * g / np.sqrt(acc[rows])
    np.testing.assert_allclose(out["acc"], acc, rtol=1e-6)
    np.testing.assert_allclose(out["var"], var, rtol=1e-5)


def test_sparse_apply_rms_prop_updates_only_indexed_rows():
    ms0, mom0 = RNG.rand(4, 3).astype(np.float32), RNG.rand(4, 3).astype(np.float32)
    out = _run_update({"var": VAR, "ms": ms0, "mom": mom0}, lambda v: state_ops.sparse_apply_rms_prop(
        v["var"], v["ms"], v["mom"], 0.01, 0.9, 0.5, 1e-6, ROWS, INDICES))
    rows, g = _summed_rows()
    ms, mom, var = ms0.copy(), mom0.copy(), VAR.copy()
    ms[rows] = 0.9 * ms[rows] + 0.1 * g ** 2
    mom[rows] = 0.5 * mom[rows] + 0.01 * g / np.sqrt(ms[rows] + 1e-6)
    var[rows] -= mom[rows]
    np.testing.assert_allclose(out["ms"], ms, rtol=1e-5)
    np.testing.assert_allclose(out["var"], var, rtol=1e-5)


def test_sparse_apply_rejects_out_of_range_indices():
    v, acc = tf.Variable(VAR), tf.Variable(np.ones_like(VAR))
    op = state_ops.sparse_apply_adagrad(v, acc, 0.1, ROWS, np.array([0, 1, 4], np.int32))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(tf.errors.InvalidArgumentError, match="Index 4 at offset 2 in indices is out of range"):
            sess.run(op)


def test_sparse_apply_checks_shapes_at_construction():
    v, acc = tf.Variable(VAR), tf.Variable(np.ones_like(VAR))
    with pytest.raises(ValueError, match="Dimension 0 in both shapes must be equal"):
        state_ops.sparse_apply_adagrad(v, acc, 0.1, ROWS, np.array([0, 1], np.int32))
    with pytest.raises(ValueError, match="Dimension 0 in both shapes must be equal, but are 2 and 3"):
        state_ops.sparse_apply_adagrad(v, acc, 0.1, np.zeros([3, 2], np.float32), INDICES)


# ----------------------------------------------------------------------------------------------------------
# Scatter updates
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn,ufunc", [
    (tf.scatter_add, np.add), (tf.scatter_sub, np.subtract), (tf.scatter_mul, np.multiply),
    (tf.scatter_min, np.minimum), (tf.scatter_max, np.maximum),
])
def test_scatter_ops_combine_repeated_indices(fn, ufunc):
    out = _run_update({"var": VAR}, lambda v: fn(v["var"], INDICES, ROWS))
    expected = VAR.copy()
    ufunc.at(expected, INDICES, ROWS)
    np.testing.assert_allclose(out["var"], expected, rtol=1e-6)


def test_scatter_update_replaces_rows():
    out = _run_update({"var": VAR}, lambda v: tf.scatter_update(v["var"], [3, 1], ROWS[:2]))
    expected = VAR.copy()
    expected[[3, 1]] = ROWS[:2]
    np.testing.assert_array_equal(out["var"], expected)


def test_scatter_with_scalar_updates_broadcasts():
    out = _run_update({"var": VAR}, lambda v: tf.scatter_add(v["var"], [1, 3], 1.0))
    expected = VAR.copy()
    expected[[1, 3]] += 1.0
    np.testing.assert_allclose(out["var"], expected)


def test_scatter_out_of_range_index_is_invalid_argument():
    v = tf.Variable(VAR)
    op = tf.scatter_add(v, [0, 7], ROWS[:2])
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1\] = 7 is not in \[0, 4\)"):
            sess.run(op)


def test_scatter_shape_mismatch_is_a_value_error():
    v = tf.Variable(VAR)
    with pytest.raises(ValueError, match="updates.shape = indices.shape \\+ params.shape\\[1:\\]"):
        tf.scatter_add(v, [0, 1], np.zeros([2, 5], np.float32))


def test_variable_scatter_methods_take_indexed_slices():
    out = _run_update({"var": VAR}, lambda v: v["var"].scatter_sub(
        tf.IndexedSlices(tf.constant(ROWS[:2]), tf.constant([0, 3]))))
    expected = VAR.copy()
    expected[[0, 3]] -= ROWS[:2]
    np.testing.assert_allclose(out["var"], expected, rtol=1e-6)


def test_state_ops_are_not_differentiable():
    v = tf.Variable(1.0)
    x = tf.constant(2.0)
    y = tf.assign(v, x * 3.0)
    assert tf.gradients(y, x) == [None]
