"""tf.train optimizers against NumPy re-implementations of TF1's update rules (dense and sparse gradients),
their slot variables, the global step, learning-rate schedules and TF's errors."""

import math

import numpy as np
import pytest

import tfmini as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield


W0 = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], np.float64)
TARGET = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 1.0]], np.float64)
STEPS = 4


def _train(opt, steps=STEPS, sparse=False, global_step=None, use_resource=None):
    """Minimizes 0.5 * |w - TARGET|^2 (gradient w - TARGET), through a gather when `sparse` (rows 1, 0, 1:
    row 1's gradient counts twice). Returns the trajectory of w and the session's final slot values."""
    w = tf.Variable(W0, name="w", use_resource=use_resource)
    if sparse:
        rows = tf.gather(w, [1, 0, 1])
        loss = 0.5 * tf.reduce_sum(tf.square(rows - tf.gather(tf.constant(TARGET), [1, 0, 1])))
    else:
        loss = 0.5 * tf.reduce_sum(tf.square(w - TARGET))
    train = opt.minimize(loss, global_step=global_step)
    trajectory = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(steps):
            sess.run(train)
            trajectory.append(sess.run(w))
        slots = {name: sess.run(opt.get_slot(w, name)) for name in opt.get_slot_names()}
    return trajectory, slots, w


def _grad(w, sparse):
    g = w - TARGET
    if sparse:
        g = g * np.array([[1.0], [2.0]])
    return g


def f32(x):
    """A Python hyperparameter as the optimizer sees it: converted to a float32 tensor, then cast."""
    return float(np.float32(x))


def _assert_trajectory(actual, expected):
    for step, (a, e) in enumerate(zip(actual, expected)):
        np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-12, err_msg=f"step {step}")


# ----------------------------------------------------------------------------------------------------------
# Update rules
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sparse", [False, True])
def test_gradient_descent(sparse):
    actual, _, _ = _train(tf.train.GradientDescentOptimizer(0.1), sparse=sparse)
    w, expected = W0.copy(), []
    for _ in range(STEPS):
        w = w - f32(0.1) * _grad(w, sparse)
        expected.append(w)
    _assert_trajectory(actual, expected)


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("sparse", [False, True])
def test_momentum(nesterov, sparse):
    opt = tf.train.MomentumOptimizer(0.1, 0.9, use_nesterov=nesterov)
    actual, slots, _ = _train(opt, sparse=sparse)
    w, acc, expected = W0.copy(), np.zeros_like(W0), []
    lr, mu = f32(0.1), f32(0.9)
    for _ in range(STEPS):
        g = _grad(w, sparse)
        acc = mu * acc + g
        w = w - (lr * g + lr * mu * acc if nesterov else lr * acc)
        expected.append(w)
    _assert_trajectory(actual, expected)
    np.testing.assert_allclose(slots["momentum"], acc, rtol=1e-10)


def test_sparse_momentum_leaves_untouched_rows_and_their_slots_alone():
    w = tf.Variable(W0)
    loss = 0.5 * tf.reduce_sum(tf.square(tf.gather(w, [0]) - 1.0))
    opt = tf.train.MomentumOptimizer(0.1, 0.9)
    train = opt.minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train)
        out, acc = sess.run([w, opt.get_slot(w, "momentum")])
    np.testing.assert_array_equal(out[1], W0[1])
    np.testing.assert_array_equal(acc[1], 0.0)


@pytest.mark.parametrize("sparse", [False, True])
def test_adam(sparse):
    actual, slots, _ = _train(tf.train.AdamOptimizer(0.05, 0.9, 0.999, 1e-8), sparse=sparse)
    lr, b1, b2, eps = f32(0.05), f32(0.9), f32(0.999), f32(1e-8)
    # The beta powers are float32 variables, multiplied by the betas in float32 after each step.
    b1p, b2p = np.float32(0.9), np.float32(0.999)
    w, m, v, expected = W0.copy(), np.zeros_like(W0), np.zeros_like(W0), []
    for _ in range(STEPS):
        g = _grad(w, sparse)
        lr_t = lr * math.sqrt(1 - float(b2p)) / (1 - float(b1p))
        b1p, b2p = b1p * np.float32(0.9), b2p * np.float32(0.999)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr_t * m / (np.sqrt(v) + eps)
        expected.append(w)
    _assert_trajectory(actual, expected)
    np.testing.assert_allclose(slots["m"], m, rtol=1e-10)
    np.testing.assert_allclose(slots["v"], v, rtol=1e-10)


def test_adam_beta_power_accumulators_advance_once_per_step():
    opt = tf.train.AdamOptimizer(0.1, beta1=0.8, beta2=0.9)
    _train(opt, steps=0)
    b1p, b2p = opt._get_beta_accumulators()
    assert b1p.name == "beta1_power:0" and b2p.name == "beta2_power:0"
    w = tf.get_default_graph().get_tensor_by_name("w:0")
    train = tf.get_collection(tf.GraphKeys.TRAIN_OP)[0]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train)
        np.testing.assert_allclose(sess.run([b1p, b2p]), [0.8 ** 4, 0.9 ** 4], rtol=1e-6)
        assert sess.run(w).shape == W0.shape


@pytest.mark.parametrize("sparse", [False, True])
def test_adagrad(sparse):
    actual, slots, _ = _train(tf.train.AdagradOptimizer(0.3, initial_accumulator_value=0.2), sparse=sparse)
    w, acc, expected = W0.copy(), np.full_like(W0, 0.2), []
    for _ in range(STEPS):
        g = _grad(w, sparse)
        acc = acc + g * g
        w = w - f32(0.3) * g / np.sqrt(acc)
        expected.append(w)
    _assert_trajectory(actual, expected)
    np.testing.assert_allclose(slots["accumulator"], acc, rtol=1e-10)


@pytest.mark.parametrize("sparse", [False, True])
def test_adadelta(sparse):
    actual, slots, _ = _train(tf.train.AdadeltaOptimizer(1.0, rho=0.9, epsilon=1e-6), sparse=sparse)
    lr, rho, eps = f32(1.0), f32(0.9), f32(1e-6)
    w, accum, accum_update, expected = W0.copy(), np.zeros_like(W0), np.zeros_like(W0), []
    for _ in range(STEPS):
        g = _grad(w, sparse)
        accum = rho * accum + (1 - rho) * g * g
        update = np.sqrt(accum_update + eps) / np.sqrt(accum + eps) * g
        w = w - lr * update
        accum_update = rho * accum_update + (1 - rho) * update * update
        expected.append(w)
    _assert_trajectory(actual, expected)
    np.testing.assert_allclose(slots["accum_update"], accum_update, rtol=1e-9)


@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("sparse", [False, True])
def test_rms_prop(centered, sparse):
    opt = tf.train.RMSPropOptimizer(0.01, decay=0.9, momentum=0.5, epsilon=1e-10, centered=centered)
    actual, slots, _ = _train(opt, sparse=sparse)
    lr, decay, momentum, eps = f32(0.01), f32(0.9), f32(0.5), f32(1e-10)
    w, ms, mg, mom, expected = W0.copy(), np.ones_like(W0), np.zeros_like(W0), np.zeros_like(W0), []
    for _ in range(STEPS):
        g = _grad(w, sparse)
        ms = decay * ms + (1 - decay) * g * g
        mg = decay * mg + (1 - decay) * g
        denom = ms - mg * mg if centered else ms
        mom = momentum * mom + lr * g / np.sqrt(denom + eps)
        w = w - mom
        expected.append(w)
    _assert_trajectory(actual, expected)
    np.testing.assert_allclose(slots["rms"], ms, rtol=1e-10)
    assert ("mg" in slots) == centered


def test_learning_rate_may_be_a_tensor_or_a_callable():
    lr = tf.placeholder(tf.float64, [])
    w = tf.Variable(W0)
    loss = 0.5 * tf.reduce_sum(tf.square(w - TARGET))
    train_t = tf.train.GradientDescentOptimizer(lr).minimize(loss)
    train_c = tf.train.GradientDescentOptimizer(lambda: tf.constant(0.5, tf.float64)).minimize(loss)
    with tf.Session() as sess:
        sess.run(w.initializer)
        sess.run(train_t, {lr: 0.25})
        np.testing.assert_allclose(sess.run(w), W0 - 0.25 * (W0 - TARGET))
        sess.run(w.initializer)
        sess.run(train_c)
        np.testing.assert_allclose(sess.run(w), W0 - 0.5 * (W0 - TARGET))


def test_float32_variables_with_python_hyperparameters():
    w = tf.Variable(W0.astype(np.float32))
    loss = tf.reduce_sum(tf.square(w))
    train = tf.train.AdamOptimizer(0.01).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        assert sess.run(w).dtype == np.float32


# ----------------------------------------------------------------------------------------------------------
# Slots, names and the API around them
# ----------------------------------------------------------------------------------------------------------
def test_slot_variables_are_named_after_their_variable_and_not_trainable():
    opt = tf.train.AdamOptimizer()
    _, _, w = _train(opt, steps=0)
    m, v = opt.get_slot(w, "m"), opt.get_slot(w, "v")
    assert (m.name, v.name) == ("w/Adam:0", "w/Adam_1:0")
    assert opt.get_slot_names() == ["m", "v"]
    assert [x.name for x in opt.variables()] == ["beta1_power:0", "beta2_power:0", "w/Adam:0", "w/Adam_1:0"]
    assert tf.trainable_variables() == [w]
    assert m in tf.global_variables() and m.shape == w.shape
    assert opt.get_slot(w, "nonexistent") is None


def test_second_optimizer_gets_distinct_slot_names():
    w = tf.Variable(W0, name="w")
    loss = tf.reduce_sum(w)
    opt1, opt2 = tf.train.MomentumOptimizer(0.1, 0.9), tf.train.MomentumOptimizer(0.1, 0.9)
    opt1.minimize(loss)
    opt2.minimize(loss)
    assert opt1.get_slot(w, "momentum").name == "w/Momentum:0"
    assert opt2.get_slot(w, "momentum").name == "w/Momentum_1:0"


def test_rms_prop_slot_names_follow_creation_order():
    opt = tf.train.RMSPropOptimizer(0.1, centered=True)
    _, _, w = _train(opt, steps=0)
    assert [opt.get_slot(w, n).name for n in ("rms", "mg", "momentum")] == [
        "w/RMSProp:0", "w/RMSProp_1:0", "w/RMSProp_2:0"]


def test_train_op_names_and_collection():
    w = tf.Variable(W0, name="w")
    loss = tf.reduce_sum(w)
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    assert train.name == "GradientDescent" and train.type == "NoOp"
    assert tf.get_collection(tf.GraphKeys.TRAIN_OP) == [train]
    apply_ops = [op for op in tf.get_default_graph().get_operations() if op.type == "ApplyGradientDescent"]
    assert [op.name for op in apply_ops] == ["GradientDescent/update_w/ApplyGradientDescent"]
    named = tf.train.GradientDescentOptimizer(0.1).minimize(loss, name="step")
    assert named.name == "step"


def test_global_step_is_incremented_after_the_updates():
    step = tf.train.get_or_create_global_step()
    w = tf.Variable(W0)
    train = tf.train.GradientDescentOptimizer(0.1).minimize(tf.reduce_sum(w), global_step=step)
    assert train.type == "AssignAdd" and train.name == "GradientDescent"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train)
        assert sess.run(step) == 3
        assert tf.train.global_step(sess, step) == 3
        np.testing.assert_allclose(sess.run(w), W0 - 0.3)


def test_compute_and_apply_gradients_separately_with_edited_gradients():
    w = tf.Variable(W0)
    u = tf.Variable(1.0, dtype=tf.float64)
    loss = tf.reduce_sum(w * w)
    opt = tf.train.GradientDescentOptimizer(0.5)
    gvs = opt.compute_gradients(loss)
    assert [v for _, v in gvs] == [w, u] and gvs[1][0] is None
    clipped = [(tf.clip_by_value(g, -1.0, 1.0), v) for g, v in gvs if g is not None]
    train = opt.apply_gradients(clipped)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        np.testing.assert_allclose(sess.run(w), W0 - 0.5 * np.clip(2 * W0, -1, 1))
        assert sess.run(u) == 1.0


def test_var_list_limits_what_is_trained():
    a, b = tf.Variable(1.0), tf.Variable(1.0)
    train = tf.train.GradientDescentOptimizer(0.5).minimize(a * b, var_list=[b])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        assert sess.run([a, b]) == [1.0, 0.5]


def test_compute_gradients_with_respect_to_a_tensor():
    x = tf.constant(3.0)
    ((g, v),) = tf.train.GradientDescentOptimizer(0.1).compute_gradients(x * x, var_list=[x])
    assert v is x
    with tf.Session() as sess:
        assert sess.run(g) == 6.0


def test_gate_graph_gives_the_same_gradients():
    w = tf.Variable(W0)
    gvs = tf.train.GradientDescentOptimizer(0.1).compute_gradients(
        tf.reduce_sum(w * w), gate_gradients=tf.train.Optimizer.GATE_GRAPH)
    with tf.Session() as sess:
        sess.run(w.initializer)
        np.testing.assert_allclose(sess.run(gvs[0][0]), 2 * W0)


def test_constraint_is_applied_after_each_update():
    w = tf.Variable(W0, constraint=lambda x: tf.clip_by_value(x, -0.5, 0.5))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(tf.reduce_sum(w))
    with tf.Session() as sess:
        sess.run(w.initializer)
        sess.run(train)
        np.testing.assert_allclose(sess.run(w), np.clip(W0 - 0.1, -0.5, 0.5))


def test_optimizer_errors():
    with pytest.raises(ValueError, match="Must specify the optimizer name"):
        tf.train.GradientDescentOptimizer(0.1, name="")
    with pytest.raises(ValueError, match="initial_accumulator_value must be positive"):
        tf.train.AdagradOptimizer(0.1, initial_accumulator_value=0.0)
    opt = tf.train.GradientDescentOptimizer(0.1)
    with pytest.raises(ValueError, match="No variables to optimize"):
        opt.minimize(tf.constant(1.0))
    w = tf.Variable(1.0)
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        opt.minimize(tf.constant(2.0) * tf.stop_gradient(w))
    with pytest.raises(ValueError, match="Invalid type tf.int32 for"):
        opt.minimize(tf.constant(1), var_list=[w])
    with pytest.raises(ValueError, match="gate_gradients must be one of"):
        opt.minimize(w * 2.0, gate_gradients=5)
    with pytest.raises(ValueError, match="No variables provided"):
        opt.apply_gradients([])
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        opt.apply_gradients([(None, w)])
    with pytest.raises(NotImplementedError):
        opt.apply_gradients([(tf.constant(1.0), tf.constant(2.0))])


# ----------------------------------------------------------------------------------------------------------
# Global step
# ----------------------------------------------------------------------------------------------------------
def test_global_step_helpers():
    assert tf.train.get_global_step() is None
    step = tf.train.get_or_create_global_step()
    assert step.name == "global_step:0" and step.dtype.base_dtype == tf.int64 and not step.trainable
    assert tf.train.get_global_step() is step and tf.train.get_or_create_global_step() is step
    assert tf.get_collection(tf.GraphKeys.GLOBAL_STEP) == [step]
    with pytest.raises(ValueError, match='"global_step" already exists'):
        tf.train.create_global_step()
    with tf.Graph().as_default() as g:
        other = tf.train.create_global_step(g)
        assert other.graph is g and other is not step


def test_global_step_found_by_name_and_checked():
    with tf.Graph().as_default():
        tf.Variable(0, name="global_step")
        assert tf.train.get_global_step().name == "global_step:0"
    with tf.Graph().as_default():
        tf.Variable(0.0, name="global_step")
        with pytest.raises(TypeError, match='Existing "global_step" does not have integer type'):
            tf.train.get_global_step()


# ----------------------------------------------------------------------------------------------------------
# Learning-rate schedules
# ----------------------------------------------------------------------------------------------------------
def _schedule_values(make, steps):
    step = tf.placeholder(tf.int64, [])
    lr = make(step)
    with tf.Session() as sess:
        return [float(sess.run(lr, {step: s})) for s in steps]


def test_exponential_decay():
    steps = [0, 5, 10, 25]
    smooth = _schedule_values(lambda s: tf.train.exponential_decay(0.1, s, 10, 0.5), steps)
    stair = _schedule_values(lambda s: tf.train.exponential_decay(0.1, s, 10, 0.5, staircase=True), steps)
    np.testing.assert_allclose(smooth, [0.1 * 0.5 ** (s / 10) for s in steps], rtol=1e-6)
    np.testing.assert_allclose(stair, [0.1 * 0.5 ** (s // 10) for s in steps], rtol=1e-6)
    with pytest.raises(ValueError, match="global_step is required for exponential_decay"):
        tf.train.exponential_decay(0.1, None, 10, 0.5)


def test_inverse_time_and_natural_exp_decay():
    steps = [0, 3, 10]
    inv = _schedule_values(lambda s: tf.train.inverse_time_decay(1.0, s, 5, 0.5), steps)
    nat = _schedule_values(lambda s: tf.train.natural_exp_decay(1.0, s, 5, 0.5, staircase=True), steps)
    np.testing.assert_allclose(inv, [1.0 / (1 + 0.5 * s / 5) for s in steps], rtol=1e-6)
    np.testing.assert_allclose(nat, [math.exp(-0.5 * (s // 5)) for s in steps], rtol=1e-6)


def test_polynomial_decay_with_and_without_cycle():
    steps = [0, 5, 10, 15, 25]
    clipped = _schedule_values(lambda s: tf.train.polynomial_decay(1.0, s, 10, 0.1, power=2.0), steps)
    cycled = _schedule_values(lambda s: tf.train.polynomial_decay(1.0, s, 10, 0.1, cycle=True), steps)

    def ref(s, cycle, power):
        decay_steps = 10 * max(math.ceil(s / 10), 1) if cycle else 10
        s = s if cycle else min(s, 10)
        return (1.0 - 0.1) * (1 - s / decay_steps) ** power + 0.1

    np.testing.assert_allclose(clipped, [ref(s, False, 2.0) for s in steps], rtol=1e-6)
    np.testing.assert_allclose(cycled, [ref(s, True, 1.0) for s in steps], rtol=1e-6)


def test_cosine_decay():
    steps = [0, 5, 10, 20]
    vals = _schedule_values(lambda s: tf.train.cosine_decay(2.0, s, 10, alpha=0.1), steps)
    ref = [2.0 * ((1 - 0.1) * 0.5 * (1 + math.cos(math.pi * min(s, 10) / 10)) + 0.1) for s in steps]
    np.testing.assert_allclose(vals, ref, rtol=1e-6)


def test_piecewise_constant():
    steps = [0, 10, 11, 20, 21, 100]
    vals = _schedule_values(lambda s: tf.train.piecewise_constant(s, [10, 20], [1.0, 0.5, 0.1]), steps)
    assert vals == pytest.approx([1.0, 1.0, 0.5, 0.5, 0.1, 0.1])
    with pytest.raises(ValueError, match="The length of boundaries should be 1 less than the length of values"):
        tf.train.piecewise_constant(tf.constant(1), [1, 2], [1.0])
    with pytest.raises(ValueError, match="Values must have elements all with the same dtype"):
        tf.train.piecewise_constant(tf.constant(1), [1], [1.0, 2])


def test_decayed_learning_rate_drives_an_optimizer():
    step = tf.train.get_or_create_global_step()
    lr = tf.train.exponential_decay(1.0, step, 1, 0.5, staircase=True)
    w = tf.Variable(0.0)
    train = tf.train.GradientDescentOptimizer(lr).minimize(-w, global_step=step)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train)
        assert sess.run(w) == pytest.approx(1.0 + 0.5 + 0.25)


# ----------------------------------------------------------------------------------------------------------
# Resource variables: the Resource* training ops give the ref ops' numbers, slots are resource variables
# ----------------------------------------------------------------------------------------------------------
_RESOURCE_CASES = {
    "GradientDescent": lambda: tf.train.GradientDescentOptimizer(0.1),
    "Momentum": lambda: tf.train.MomentumOptimizer(0.1, 0.9),
    "Nesterov": lambda: tf.train.MomentumOptimizer(0.1, 0.9, use_nesterov=True),
    "Adam": lambda: tf.train.AdamOptimizer(0.1),
    "Adagrad": lambda: tf.train.AdagradOptimizer(0.1),
    "Adadelta": lambda: tf.train.AdadeltaOptimizer(1.0),
    "RMSProp": lambda: tf.train.RMSPropOptimizer(0.01, momentum=0.5),
    "CenteredRMSProp": lambda: tf.train.RMSPropOptimizer(0.01, momentum=0.5, centered=True),
}


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("case", sorted(_RESOURCE_CASES))
def test_resource_variables_train_as_ref_variables(case, sparse):
    expected, expected_slots, _ = _train(_RESOURCE_CASES[case](), sparse=sparse)
    tf.reset_default_graph()
    opt = _RESOURCE_CASES[case]()
    actual, slots, w = _train(opt, sparse=sparse, use_resource=True)
    assert type(w).__name__ == "ResourceVariable"
    for step, (a, e) in enumerate(zip(actual, expected)):
        np.testing.assert_array_equal(a, e, err_msg=f"step {step}")
    assert sorted(slots) == sorted(expected_slots)
    for name in slots:
        np.testing.assert_array_equal(slots[name], expected_slots[name])
        assert type(opt.get_slot(w, name)).__name__ == "ResourceVariable"
    graph = tf.get_default_graph()
    types = {op.type for op in graph.get_operations()}
    assert not types & {"VariableV2", "Assign", "AssignAdd", "ScatterAdd"}
    if not sparse:
        dense = {"Nesterov": "Momentum", "CenteredRMSProp": "CenteredRMSProp"}.get(case, case)
        assert f"ResourceApply{dense}" in types


def test_resource_adam_and_global_step_as_tensorflow_builds_them():
    w = tf.Variable(W0, name="w", use_resource=True)
    step = tf.train.get_or_create_global_step()
    train = tf.train.AdamOptimizer(0.1).minimize(0.5 * tf.reduce_sum(tf.square(w - TARGET)), global_step=step)
    graph = tf.get_default_graph()
    apply = graph.get_operation_by_name("Adam/update_w/ResourceApplyAdam")
    assert [t.op.name for t in apply.inputs[:3]] == ["w", "w/Adam", "w/Adam_1"]
    assert not apply.outputs and apply.get_attr("T") == tf.float64
    assert graph.get_operation_by_name("beta1_power").type == "VarHandleOp"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train)
        assert sess.run(step) == 3
