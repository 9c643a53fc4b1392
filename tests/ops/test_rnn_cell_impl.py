"""tf.nn.rnn_cell and tf.contrib.rnn cells: one step of each cell against a NumPy reference, TF's variable names,
shapes and default initializers, zero states, user-defined cells, the wrappers (dropout, residual, device,
projections, embedding), finite-difference gradients of a step, and the errors TF raises."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gradient_checker import check_gradients, random_array

import tfmini as tf
from tfmini.ops.functional_ops import flatten as nest_flatten
from tfmini.ops.functional_ops import pack_sequence_as

rnn_cell = tf.nn.rnn_cell
BATCH, DEPTH = 3, 4


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def weights(variables, seed=0):
    rng = np.random.RandomState(seed)
    return [rng.uniform(-0.6, 0.6, size=v.shape.as_list()).astype(v.dtype.as_numpy_dtype) for v in variables]


def run_step(cell, state_fn, seed=0, dtype=tf.float32, x_value=None):
    """Calls `cell` once on a fed input and the state `state_fn(placeholders...)`; loads random weights and
    returns (weights, x, state values, output, new state)."""
    x = tf.placeholder(dtype, [BATCH, DEPTH])
    state, feeds = state_fn()
    output, new_state = cell(x, state)
    rng = np.random.RandomState(seed + 10)
    x_value = rng.uniform(-1, 1, size=(BATCH, DEPTH)) if x_value is None else x_value
    values = {p: rng.uniform(-1, 1, size=p.shape.as_list()) for p in feeds}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        w = weights(cell.trainable_variables, seed)
        for v, value in zip(cell.trainable_variables, w):
            v.load(value, sess)
        out, st = sess.run([output, new_state], {x: x_value, **values})
    return w, x_value, [values[p] for p in feeds], out, st


def placeholders(*sizes, dtype=tf.float32):
    return [tf.placeholder(dtype, [BATCH, n]) for n in sizes]


# ----------------------------------------------------------------------------------------------------------
# NumPy references, one step each
# ----------------------------------------------------------------------------------------------------------
def np_basic_rnn(x, h, kernel, bias, act=np.tanh):
    return act(np.concatenate([x, h], 1) @ kernel + bias)


def np_gru(x, h, gate_k, gate_b, cand_k, cand_b):
    r, u = np.split(sigmoid(np.concatenate([x, h], 1) @ gate_k + gate_b), 2, axis=1)
    c = np.tanh(np.concatenate([x, r * h], 1) @ cand_k + cand_b)
    return u * h + (1 - u) * c


def np_lstm(x, c, h, kernel, bias, forget_bias=1.0, peep=None, cell_clip=None, proj=None, proj_clip=None):
    i, j, f, o = np.split(np.concatenate([x, h], 1) @ kernel + bias, 4, axis=1)
    if peep is None:
        new_c = sigmoid(f + forget_bias) * c + sigmoid(i) * np.tanh(j)
    else:
        wf, wi, _ = peep
        new_c = sigmoid(f + forget_bias + wf * c) * c + sigmoid(i + wi * c) * np.tanh(j)
    if cell_clip is not None:
        new_c = np.clip(new_c, -cell_clip, cell_clip)
    out_gate = sigmoid(o + peep[2] * new_c) if peep is not None else sigmoid(o)
    m = out_gate * np.tanh(new_c)
    if proj is not None:
        m = m @ proj
        if proj_clip is not None:
            m = np.clip(m, -proj_clip, proj_clip)
    return new_c, m


def test_basic_rnn_cell_step_matches_numpy_and_names_its_variables_as_tf():
    cell = rnn_cell.BasicRNNCell(5)
    (k, b), x, (h,), out, st = run_step(cell, lambda: (lambda p: (p[0], p))(placeholders(5)))
    assert [v.name for v in cell.variables] == ["basic_rnn_cell/kernel:0", "basic_rnn_cell/bias:0"]
    assert [v.shape.as_list() for v in cell.variables] == [[DEPTH + 5, 5], [5]]
    np.testing.assert_allclose(out, np_basic_rnn(x, h, k, b), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(out, st)
    assert cell.state_size == cell.output_size == 5


def test_basic_rnn_cell_takes_an_activation_by_function_or_name():
    for activation, ref in ((tf.nn.relu, lambda v: np.maximum(v, 0)), ("relu", lambda v: np.maximum(v, 0)),
                            ("sigmoid", sigmoid)):
        tf.reset_default_graph()
        cell = rnn_cell.BasicRNNCell(5, activation=activation)
        (k, b), x, (h,), out, _ = run_step(cell, lambda: (lambda p: (p[0], p))(placeholders(5)))
        np.testing.assert_allclose(out, np_basic_rnn(x, h, k, b, act=ref), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="Unknown activation function:nope"):
        rnn_cell.BasicRNNCell(5, activation="nope")


def test_gru_cell_step_matches_numpy_with_tf_variable_names():
    cell = rnn_cell.GRUCell(5)
    (gk, gb, ck, cb), x, (h,), out, st = run_step(cell, lambda: (lambda p: (p[0], p))(placeholders(5)))
    assert [v.name for v in cell.variables] == [
        "gru_cell/gates/kernel:0", "gru_cell/gates/bias:0", "gru_cell/candidate/kernel:0",
        "gru_cell/candidate/bias:0"]
    assert [v.shape.as_list() for v in cell.variables] == [[DEPTH + 5, 10], [10], [DEPTH + 5, 5], [5]]
    np.testing.assert_allclose(out, np_gru(x, h, gk, gb, ck, cb), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(out, st)


def test_default_initializers_are_tfs_glorot_uniform_kernels_and_zero_or_one_biases(sess):
    gru = rnn_cell.GRUCell(5)
    lstm = rnn_cell.BasicLSTMCell(6)
    x = tf.zeros([2, 40])
    gru(x, gru.zero_state(2, tf.float32))
    with tf.variable_scope("other"):
        lstm(x, lstm.zero_state(2, tf.float32))
    sess.run(tf.global_variables_initializer())
    gk, gb, ck, cb = sess.run(gru.variables)
    lk, lb = sess.run(lstm.variables)
    np.testing.assert_array_equal(gb, np.ones(10))
    np.testing.assert_array_equal(cb, np.zeros(5))
    np.testing.assert_array_equal(lb, np.zeros(24))
    for kernel in (gk, ck, lk):
        limit = np.sqrt(6 / sum(kernel.shape))
        assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.5 * limit


def test_gru_cell_kernel_and_bias_initializers_are_used_for_both_parts(sess):
    cell = rnn_cell.GRUCell(2, kernel_initializer=tf.constant_initializer(0.5),
                            bias_initializer=tf.constant_initializer(-1.0))
    cell(tf.zeros([1, 3]), tf.zeros([1, 2]))
    sess.run(tf.global_variables_initializer())
    gk, gb, ck, cb = sess.run(cell.variables)
    assert (gk == 0.5).all() and (ck == 0.5).all() and (gb == -1).all() and (cb == -1).all()


@pytest.mark.parametrize("state_is_tuple", [True, False])
def test_basic_lstm_cell_step_matches_numpy_in_tf_gate_order(state_is_tuple):
    cell = rnn_cell.BasicLSTMCell(5, forget_bias=0.3, state_is_tuple=state_is_tuple)

    def state():
        c, h = placeholders(5, 5)
        return (rnn_cell.LSTMStateTuple(c, h) if state_is_tuple else tf.concat([c, h], 1)), [c, h]

    (k, b), x, (c, h), out, st = run_step(cell, state)
    assert [v.name for v in cell.variables] == ["basic_lstm_cell/kernel:0", "basic_lstm_cell/bias:0"]
    assert [v.shape.as_list() for v in cell.variables] == [[DEPTH + 5, 20], [20]]
    new_c, new_h = np_lstm(x, c, h, k, b, forget_bias=0.3)
    np.testing.assert_allclose(out, new_h, rtol=1e-5, atol=1e-6)
    if state_is_tuple:
        assert isinstance(st, rnn_cell.LSTMStateTuple)
        np.testing.assert_allclose(st.c, new_c, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(st.h, new_h, rtol=1e-5, atol=1e-6)
        assert cell.state_size == (5, 5) and isinstance(cell.state_size, rnn_cell.LSTMStateTuple)
    else:
        np.testing.assert_allclose(st, np.concatenate([new_c, new_h], 1), rtol=1e-5, atol=1e-6)
        assert cell.state_size == 10


@pytest.mark.parametrize("options", [
    {},
    {"use_peepholes": True},
    {"use_peepholes": True, "cell_clip": 0.3},
    {"num_proj": 3},
    {"num_proj": 3, "proj_clip": 0.1, "use_peepholes": True, "cell_clip": 0.5, "state_is_tuple": False},
])
def test_lstm_cell_step_matches_numpy_with_peepholes_clipping_and_projection(options):
    cell = rnn_cell.LSTMCell(5, forget_bias=0.7, **options)
    proj = options.get("num_proj")
    h_size = proj or 5
    tuple_state = options.get("state_is_tuple", True)

    def state():
        c, h = placeholders(5, h_size)
        return (rnn_cell.LSTMStateTuple(c, h) if tuple_state else tf.concat([c, h], 1)), [c, h]

    w, x, (c, h), out, st = run_step(cell, state)
    names = ["lstm_cell/kernel:0", "lstm_cell/bias:0"]
    if options.get("use_peepholes"):
        names += ["lstm_cell/w_f_diag:0", "lstm_cell/w_i_diag:0", "lstm_cell/w_o_diag:0"]
    if proj:
        names += ["lstm_cell/projection/kernel:0"]
    assert [v.name for v in cell.variables] == names
    assert cell.variables[0].shape.as_list() == [DEPTH + h_size, 20]
    peep = w[2:5] if options.get("use_peepholes") else None
    new_c, new_h = np_lstm(x, c, h, w[0], w[1], forget_bias=0.7, peep=peep, cell_clip=options.get("cell_clip"),
                           proj=w[-1] if proj else None, proj_clip=options.get("proj_clip"))
    np.testing.assert_allclose(out, new_h, rtol=1e-5, atol=1e-6)
    got_c, got_h = (st.c, st.h) if tuple_state else (st[:, :5], st[:, 5:])
    np.testing.assert_allclose(got_c, new_c, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_h, new_h, rtol=1e-5, atol=1e-6)
    assert cell.output_size == h_size
    assert cell.state_size == ((5, h_size) if tuple_state else 5 + h_size)


def test_lstm_cell_initializer_applies_to_kernel_peepholes_and_projection(sess):
    cell = rnn_cell.LSTMCell(2, use_peepholes=True, num_proj=1, initializer=tf.constant_initializer(0.25),
                             num_unit_shards=2, num_proj_shards=1)
    cell(tf.zeros([1, 3]), cell.zero_state(1, tf.float32))
    sess.run(tf.global_variables_initializer())
    values = dict(zip([v.op.name for v in cell.variables], sess.run(cell.variables)))
    assert (values["lstm_cell/bias"] == 0).all()
    for name in ("kernel/part_0", "kernel/part_1", "w_f_diag", "w_i_diag", "w_o_diag", "projection/kernel/part_0"):
        assert (values[f"lstm_cell/{name}"] == 0.25).all(), name


def test_multi_rnn_cell_stacks_layers_under_cell_k_scopes():
    cell = rnn_cell.MultiRNNCell([rnn_cell.BasicLSTMCell(5), rnn_cell.GRUCell(3)])

    def state():
        c, h, g = placeholders(5, 5, 3)
        return (rnn_cell.LSTMStateTuple(c, h), g), [c, h, g]

    (k, b, gk, gb, ck, cb), x, (c, h, g), out, st = run_step(cell, state)
    assert [v.name for v in cell.variables] == [
        "multi_rnn_cell/cell_0/basic_lstm_cell/kernel:0", "multi_rnn_cell/cell_0/basic_lstm_cell/bias:0",
        "multi_rnn_cell/cell_1/gru_cell/gates/kernel:0", "multi_rnn_cell/cell_1/gru_cell/gates/bias:0",
        "multi_rnn_cell/cell_1/gru_cell/candidate/kernel:0", "multi_rnn_cell/cell_1/gru_cell/candidate/bias:0"]
    new_c, new_h = np_lstm(x, c, h, k, b)
    new_g = np_gru(new_h, g, gk, gb, ck, cb)
    np.testing.assert_allclose(out, new_g, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(st[0].c, new_c, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(st[1], new_g, rtol=1e-5, atol=1e-6)
    assert cell.state_size == ((5, 5), 3) and cell.output_size == 3


def test_multi_rnn_cell_with_concatenated_state_slices_each_layers_part():
    cell = rnn_cell.MultiRNNCell([rnn_cell.BasicRNNCell(2), rnn_cell.BasicRNNCell(3)], state_is_tuple=False)
    assert cell.state_size == 5

    def state():
        (s,) = placeholders(5)
        return s, [s]

    (k0, b0, k1, b1), x, (s,), out, st = run_step(cell, state)
    h0 = np_basic_rnn(x, s[:, :2], k0, b0)
    h1 = np_basic_rnn(h0, s[:, 2:], k1, b1)
    np.testing.assert_allclose(out, h1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(st, np.concatenate([h0, h1], 1), rtol=1e-5, atol=1e-6)


def test_multi_rnn_cell_errors():
    with pytest.raises(ValueError, match="Must specify at least one cell for MultiRNNCell"):
        rnn_cell.MultiRNNCell([])
    with pytest.raises(TypeError, match="cells must be a list or tuple"):
        rnn_cell.MultiRNNCell(rnn_cell.GRUCell(2))
    with pytest.raises(ValueError, match="Some cells return tuples of states, but the flag state_is_tuple is not"):
        rnn_cell.MultiRNNCell([rnn_cell.BasicLSTMCell(3)], state_is_tuple=False)
    cell = rnn_cell.MultiRNNCell([rnn_cell.GRUCell(2)])
    with pytest.raises(ValueError, match="Expected state to be a tuple of length 1"):
        cell(tf.zeros([1, 3]), tf.zeros([1, 2]))


# ----------------------------------------------------------------------------------------------------------
# States, reuse, subclassing
# ----------------------------------------------------------------------------------------------------------
def test_zero_state_has_the_state_structure_shapes_and_dtype(sess):
    cell = rnn_cell.MultiRNNCell([rnn_cell.BasicLSTMCell(3), rnn_cell.GRUCell(2)])
    zeros = cell.zero_state(4, tf.float64)
    assert isinstance(zeros[0], rnn_cell.LSTMStateTuple)
    assert [t.shape.as_list() for t in nest_flatten(zeros)] == [[4, 3], [4, 3], [4, 2]]
    assert all(t.dtype == tf.float64 for t in nest_flatten(zeros))
    assert zeros[1].name.startswith("MultiRNNCellZeroState/")
    batch = tf.placeholder(tf.int32, [])
    dyn = rnn_cell.LSTMCell(3, num_proj=2).zero_state(batch, tf.float32)
    assert dyn.c.shape.as_list() == [None, 3] and dyn.h.shape.as_list() == [None, 2]
    c, h = sess.run(dyn, {batch: 5})
    assert c.shape == (5, 3) and h.shape == (5, 2) and not c.any()


def test_get_initial_state_reads_batch_and_dtype_from_inputs():
    cell = rnn_cell.GRUCell(3)
    state = cell.get_initial_state(inputs=tf.zeros([6, 2], tf.float64))
    assert state.shape.as_list() == [6, 3] and state.dtype == tf.float64
    with pytest.raises(ValueError, match="batch_size and dtype cannot be None"):
        cell.get_initial_state()
    with pytest.raises(ValueError, match="batch size from input tensor is different"):
        cell.get_initial_state(inputs=tf.zeros([6, 2]), batch_size=5)


def test_lstm_state_tuple_fields_and_dtype():
    c, h = tf.zeros([1, 2]), tf.zeros([1, 2])
    state = rnn_cell.LSTMStateTuple(c, h)
    assert state.c is c and state.h is h and state.dtype == tf.float32
    with pytest.raises(TypeError, match="Inconsistent internal state"):
        _ = rnn_cell.LSTMStateTuple(c, tf.zeros([1, 2], tf.float64)).dtype


def test_a_second_call_reuses_the_variables_and_two_cells_get_numbered_scopes():
    cell = rnn_cell.BasicLSTMCell(3)
    other = rnn_cell.BasicLSTMCell(3)
    x = tf.zeros([2, 4])
    _, state = cell(x, cell.zero_state(2, tf.float32))
    cell(x, state)
    other(x, other.zero_state(2, tf.float32))
    assert [v.op.name for v in tf.global_variables()] == [
        "basic_lstm_cell/kernel", "basic_lstm_cell/bias", "basic_lstm_cell_1/kernel", "basic_lstm_cell_1/bias"]
    assert cell.name == "basic_lstm_cell" and other.name == "basic_lstm_cell_1"
    assert cell.built and cell.dtype == tf.float32


def test_scope_argument_names_the_cells_variables_and_named_cells_use_their_name():
    rnn_cell.GRUCell(3)(tf.zeros([1, 2]), tf.zeros([1, 3]), scope="my_gru")
    rnn_cell.BasicRNNCell(3, name="enc")(tf.zeros([1, 2]), tf.zeros([1, 3]))
    assert [v.op.name for v in tf.global_variables()] == [
        "my_gru/gates/kernel", "my_gru/gates/bias", "my_gru/candidate/kernel", "my_gru/candidate/bias",
        "enc/kernel", "enc/bias"]


def test_trainable_false_keeps_the_variables_out_of_trainable_variables():
    cell = rnn_cell.BasicRNNCell(3, trainable=False)
    cell(tf.zeros([1, 2]), tf.zeros([1, 3]))
    assert tf.trainable_variables() == []
    assert cell.trainable_weights == [] and len(cell.non_trainable_weights) == 2 == len(cell.weights)


class MinimalRNNCell(rnn_cell.RNNCell):
    """A user cell in TF's documented style: sizes plus call() with tf.get_variable."""

    def __init__(self, units):
        super().__init__()
        self.units = units

    @property
    def state_size(self):
        return self.units

    @property
    def output_size(self):
        return self.units

    def call(self, inputs, state):
        w = tf.get_variable("w", [inputs.shape[1].value, self.units])
        u = tf.get_variable("u", [self.units, self.units], initializer=tf.ones_initializer())
        out = tf.tanh(tf.matmul(inputs, w) + tf.matmul(state, u))
        return out, out


class OldStyleCell(rnn_cell.RNNCell):
    """A user cell from TF 1.0 days: its own __call__ with a scope argument."""

    @property
    def state_size(self):
        return 2

    @property
    def output_size(self):
        return 2

    def __call__(self, inputs, state, scope=None):
        with tf.variable_scope(scope or "old_style"):
            w = tf.get_variable("w", [inputs.shape[1].value, 2])
            out = tf.matmul(inputs, w) + state
        return out, out


def test_user_subclass_with_call_gets_a_scope_and_tracks_its_variables(sess):
    cell = MinimalRNNCell(2)
    x = tf.placeholder(tf.float32, [1, 3])
    out, _ = cell(x, cell.zero_state(1, tf.float32))
    out2, _ = cell(x, out)
    assert [v.op.name for v in cell.trainable_variables] == ["minimal_rnn_cell/w", "minimal_rnn_cell/u"]
    assert len(tf.global_variables()) == 2
    sess.run(tf.global_variables_initializer())
    xv = np.array([[0.5, -1.0, 2.0]], np.float32)
    w = sess.run(cell.trainable_variables[0])
    h1 = np.tanh(xv @ w)
    np.testing.assert_allclose(sess.run(out2, {x: xv}), np.tanh(xv @ w + h1 @ np.ones((2, 2))), rtol=1e-5)


def test_user_subclass_overriding_call_runs_in_dynamic_rnn():
    x = tf.placeholder(tf.float32, [2, 3, 4])
    outputs, state = tf.nn.dynamic_rnn(OldStyleCell(), x, dtype=tf.float32)
    assert [v.op.name for v in tf.global_variables()] == ["rnn/old_style/w"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        xv = np.random.RandomState(0).rand(2, 3, 4).astype(np.float32)
        out, st, w = sess.run([outputs, state, tf.global_variables()[0]], {x: xv})
    np.testing.assert_allclose(out, np.cumsum(xv @ w, axis=1), rtol=1e-5)
    np.testing.assert_allclose(st, out[:, -1], rtol=1e-6)


def test_rnncell_without_call_or_sizes_says_what_is_missing():
    cell = rnn_cell.RNNCell()
    with pytest.raises(NotImplementedError):
        _ = cell.state_size
    with pytest.raises(TypeError, match="is not an RNNCell: 'output_size' property is missing"):
        tf.nn.dynamic_rnn(lambda x, s: (x, s), tf.zeros([1, 2, 3]), dtype=tf.float32)


def test_cell_input_errors_are_tfs_value_errors():
    cell = rnn_cell.BasicLSTMCell(3)
    with pytest.raises(ValueError, match="expected ndim=2, found ndim=3"):
        cell(tf.zeros([1, 2, 3]), cell.zero_state(1, tf.float32))
    cell = rnn_cell.GRUCell(3)
    with pytest.raises(ValueError, match=r"Expected inputs.shape\[-1\] to be known"):
        cell(tf.placeholder(tf.float32, [1, None]), tf.zeros([1, 3]))
    with pytest.raises(ValueError, match="RNN cell only supports floating point inputs, but saw dtype"):
        rnn_cell.GRUCell(3, dtype=tf.int32)


# ----------------------------------------------------------------------------------------------------------
# Wrappers
# ----------------------------------------------------------------------------------------------------------
def test_dropout_wrapper_with_keep_probabilities_of_one_changes_nothing():
    cell = rnn_cell.DropoutWrapper(rnn_cell.BasicRNNCell(4))
    (k, b), x, (h,), out, st = run_step(cell, lambda: (lambda p: (p[0], p))(placeholders(4)))
    np.testing.assert_allclose(out, np_basic_rnn(x, h, k, b), rtol=1e-5, atol=1e-6)
    assert cell.wrapped_cell.name == "basic_rnn_cell"
    assert [v.op.name for v in cell.variables] == ["basic_rnn_cell/kernel", "basic_rnn_cell/bias"]


def test_dropout_wrapper_drops_outputs_and_h_but_never_the_lstm_memory_c(sess):
    inner = rnn_cell.BasicLSTMCell(50)
    cell = rnn_cell.DropoutWrapper(inner, output_keep_prob=0.5, state_keep_prob=0.5, seed=3)
    x = tf.constant(np.random.RandomState(0).uniform(-1, 1, (4, 6)), tf.float32)
    state = cell.zero_state(4, tf.float32)
    out, new_state = cell(x, state)
    ref_out, ref_state = inner(x, state)
    sess.run(tf.global_variables_initializer())
    o, s, ro, rs = sess.run([out, new_state, ref_out, ref_state])
    np.testing.assert_allclose(s.c, rs.c, rtol=1e-6)
    for got, ref in ((o, ro), (s.h, rs.h)):
        kept = got != 0
        np.testing.assert_allclose(got[kept], ref[kept] / 0.5, rtol=1e-5)
        assert 0.3 < kept.mean() < 0.7


def test_dropout_wrapper_takes_a_keep_probability_tensor(sess):
    keep = tf.placeholder(tf.float32, [])
    cell = rnn_cell.DropoutWrapper(rnn_cell.GRUCell(30), input_keep_prob=keep)
    out, _ = cell(tf.ones([2, 20]), tf.zeros([2, 30]))
    sess.run(tf.global_variables_initializer())
    full = sess.run(out, {keep: 1.0})
    np.testing.assert_allclose(sess.run(out, {keep: 1.0}), full)
    assert not np.allclose(sess.run(out, {keep: 0.3}), full)


def test_dropout_wrapper_variational_uses_one_mask_for_every_step(sess):
    cell = rnn_cell.DropoutWrapper(rnn_cell.BasicRNNCell(40), output_keep_prob=0.5, variational_recurrent=True,
                                   dtype=tf.float32, seed=1)
    x = tf.ones([1, 3])
    out1, s = cell(x, cell.zero_state(1, tf.float32))
    out2, _ = cell(x, s)
    sess.run(tf.global_variables_initializer())
    a, b = sess.run([out1, out2])
    np.testing.assert_array_equal(a == 0, b == 0)
    assert 0 < (a == 0).mean() < 1


def test_dropout_wrapper_errors():
    with pytest.raises(ValueError, match="Parameter output_keep_prob must be between 0 and 1"):
        rnn_cell.DropoutWrapper(rnn_cell.GRUCell(3), output_keep_prob=1.5)
    with pytest.raises(ValueError, match="When variational_recurrent=True, dtype must be provided"):
        rnn_cell.DropoutWrapper(rnn_cell.GRUCell(3), variational_recurrent=True)
    with pytest.raises(ValueError, match="input_size must be provided"):
        rnn_cell.DropoutWrapper(rnn_cell.GRUCell(3), input_keep_prob=0.5, variational_recurrent=True,
                                dtype=tf.float32)
    with pytest.raises(TypeError, match="dropout_state_filter_visitor must be callable"):
        rnn_cell.DropoutWrapper(rnn_cell.GRUCell(3), dropout_state_filter_visitor=3)
    with pytest.raises(TypeError, match="is not an RNNCell"):
        rnn_cell.DropoutWrapper(object())


def test_residual_wrapper_adds_the_inputs_to_the_outputs():
    cell = rnn_cell.ResidualWrapper(rnn_cell.BasicRNNCell(DEPTH))
    (k, b), x, (h,), out, st = run_step(cell, lambda: (lambda p: (p[0], p))(placeholders(DEPTH)))
    np.testing.assert_allclose(out, x + np_basic_rnn(x, h, k, b), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(st, np_basic_rnn(x, h, k, b), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError):
        bad = rnn_cell.ResidualWrapper(rnn_cell.BasicRNNCell(3))
        bad(tf.zeros([1, 2]), tf.zeros([1, 3]))
    custom = rnn_cell.ResidualWrapper(rnn_cell.BasicRNNCell(3), residual_fn=lambda i, o: o * 0 + 1)
    out, _ = custom(tf.zeros([1, 2]), tf.zeros([1, 3]))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(out), np.ones((1, 3)))


def test_device_wrapper_places_the_cells_ops_and_zero_state():
    cell = rnn_cell.DeviceWrapper(rnn_cell.GRUCell(2), "/cpu:0")
    state = cell.zero_state(1, tf.float32)
    out, _ = cell(tf.zeros([1, 3]), state)
    assert "CPU:0" in state.op.device.upper() and "CPU:0" in out.op.device.upper()
    assert cell.state_size == 2 and cell.output_size == 2


def test_output_projection_wrapper_projects_in_its_own_scope():
    cell = tf.contrib.rnn.OutputProjectionWrapper(rnn_cell.BasicRNNCell(4), 2, activation=tf.nn.relu)
    assert cell.output_size == 2 and cell.state_size == 4
    (k, b, pk, pb), x, (h,), out, st = run_step(cell, lambda: (lambda p: (p[0], p))(placeholders(4)))
    assert [v.op.name for v in cell.trainable_variables] == [
        "output_projection_wrapper/basic_rnn_cell/kernel", "output_projection_wrapper/basic_rnn_cell/bias",
        "output_projection_wrapper/kernel", "output_projection_wrapper/bias"]
    hidden = np_basic_rnn(x, h, k, b)
    np.testing.assert_allclose(out, np.maximum(hidden @ pk + pb, 0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(st, hidden, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="Parameter output_size must be > 0"):
        tf.contrib.rnn.OutputProjectionWrapper(rnn_cell.BasicRNNCell(4), 0)


def test_input_projection_wrapper_projects_before_the_cell():
    cell = tf.contrib.rnn.InputProjectionWrapper(rnn_cell.BasicRNNCell(3), num_proj=2)
    (pk, pb, k, b), x, (h,), out, _ = run_step(cell, lambda: (lambda p: (p[0], p))(placeholders(3)))
    assert [v.op.name for v in cell.trainable_variables] == [
        "input_projection_wrapper/kernel", "input_projection_wrapper/bias",
        "input_projection_wrapper/basic_rnn_cell/kernel", "input_projection_wrapper/basic_rnn_cell/bias"]
    np.testing.assert_allclose(out, np_basic_rnn(x @ pk + pb, h, k, b), rtol=1e-5, atol=1e-6)


def test_embedding_wrapper_looks_ids_up_before_the_cell(sess):
    cell = tf.contrib.rnn.EmbeddingWrapper(rnn_cell.BasicRNNCell(3), embedding_classes=5, embedding_size=2)
    ids = tf.placeholder(tf.int32, [2, 1])
    out, _ = cell(ids, tf.zeros([2, 3]))
    names = [v.op.name for v in tf.global_variables()]
    assert names == ["embedding_wrapper/embedding", "embedding_wrapper/basic_rnn_cell/kernel",
                     "embedding_wrapper/basic_rnn_cell/bias"]
    sess.run(tf.global_variables_initializer())
    emb, k, b = sess.run(tf.global_variables())
    assert np.abs(emb).max() <= np.sqrt(3)
    np.testing.assert_allclose(sess.run(out, {ids: [[4], [1]]}), np_basic_rnn(emb[[4, 1]], np.zeros((2, 3)), k, b),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="Both embedding_classes and embedding_size must be greater than 0"):
        tf.contrib.rnn.EmbeddingWrapper(rnn_cell.BasicRNNCell(3), 0, 2)


def test_contrib_rnn_holds_tfs_cells_and_refuses_names_it_lacks():
    assert tf.contrib.rnn.BasicLSTMCell is rnn_cell.BasicLSTMCell
    assert tf.contrib.rnn.static_rnn is tf.nn.static_rnn
    assert tf.contrib.rnn.LSTMStateTuple is rnn_cell.LSTMStateTuple
    assert tf.contrib.rnn.GridLSTMCell.__name__ == "GridLSTMCell"
    with pytest.raises(AttributeError):
        _ = tf.contrib.rnn.NoSuchCell


# ----------------------------------------------------------------------------------------------------------
# Gradients of one step
# ----------------------------------------------------------------------------------------------------------
def weight_shapes(make, depth: int) -> list:
    """The shapes of the variables `make()` creates for inputs of `depth` (built in a throwaway graph)."""
    with tf.Graph().as_default():
        cell = make()
        cell(tf.zeros([1, depth], tf.float64), cell.zero_state(1, tf.float64))
        return [v.shape.as_list() for v in tf.global_variables()]


def fed_weights(weights: list):
    """A custom getter handing out `weights` (tensors) in creation order in place of new variables."""
    pending = list(weights)

    def getter(getter, name, *args, **kwargs):
        return pending.pop(0)

    return getter


@pytest.mark.parametrize("make", [
    lambda: rnn_cell.LSTMCell(3, use_peepholes=True, num_proj=2, cell_clip=10.0),
    lambda: rnn_cell.GRUCell(3),
    lambda: rnn_cell.BasicLSTMCell(3, state_is_tuple=False),
    lambda: rnn_cell.MultiRNNCell([rnn_cell.BasicRNNCell(2), rnn_cell.BasicLSTMCell(2)]),
], ids=["lstm_peephole_proj", "gru", "basic_lstm_concat", "multi"])
def test_one_step_gradients_match_finite_differences(make):
    """d(output, new state) / d(input, state, every weight) of one step, the weights fed in place of the
    variables through a custom getter."""
    rng = np.random.RandomState(1)
    shapes = weight_shapes(make, 3)
    probe = make()
    structure = probe.state_size
    n_state = len(nest_flatten(structure))

    def step(x, *rest):
        state_parts, ws = rest[:n_state], rest[n_state:]
        with tf.variable_scope("step", custom_getter=fed_weights(ws)):
            cell = make()
            state = pack_sequence_as(structure, list(state_parts))
            out, new_state = cell(x, state)
        return [out] + nest_flatten(new_state)

    parts = [rng.uniform(-1, 1, (2, s)) for s in nest_flatten(structure)]
    ws = [rng.uniform(-0.8, 0.8, s) for s in shapes]
    check_gradients(step, [rng.uniform(-1, 1, (2, 3))] + parts + ws, rtol=1e-5, atol=1e-7)


# ----------------------------------------------------------------------------------------------------------
# LSTMBlockCell (tf.contrib.rnn), against TensorFlow's LSTMBlockCell kernel
# ----------------------------------------------------------------------------------------------------------
LSTM_BLOCK = np.load(Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "rnn" / "lstm_block.npz")


@pytest.mark.parametrize("key, options", [("plain", {}), ("peephole_clip", {"use_peephole": True, "cell_clip": 0.4})])
def test_lstm_block_cell_matches_tensorflows_kernel(key, options, sess):
    f = LSTM_BLOCK
    cell = tf.contrib.rnn.LSTMBlockCell(5, forget_bias=0.7, **options)
    out, state = cell(tf.constant(f["x"]), rnn_cell.LSTMStateTuple(tf.constant(f["cs_prev"]),
                                                                   tf.constant(f["h_prev"])))
    names = ["lstm_cell/kernel", "lstm_cell/bias"]
    if options:
        names += ["lstm_cell/w_i_diag", "lstm_cell/w_f_diag", "lstm_cell/w_o_diag"]
    assert [v.op.name for v in cell.variables] == names
    sess.run(tf.global_variables_initializer())
    assert not sess.run(cell.variables[1]).any()
    for v, value in zip(cell.variables, [f["w"], f["b"], f["wci"], f["wcf"], f["wco"]]):
        v.load(value, sess)
    o, st = sess.run([out, state])
    np.testing.assert_allclose(st.c, f[f"{key}/cs"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(st.h, f[f"{key}/h"], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(o, st.h)
    with pytest.raises(ValueError, match="Expecting state to be a tuple with length 2"):
        cell(tf.constant(f["x"]), (tf.constant(f["cs_prev"]),))


def test_gru_block_cells_match_tensorflows_kernel_under_their_variable_names(sess):
    f = LSTM_BLOCK
    # TF 1.15's GRUBlockCell calls the gates' kernel w_c and the candidate's w_ru (the op's names swapped).
    names = {tf.contrib.rnn.GRUBlockCell: ["w_c", "b_ru", "w_ru", "b_c"],
             tf.contrib.rnn.GRUBlockCellV2: ["gates/kernel", "gates/bias", "candidate/kernel", "candidate/bias"]}
    for cls, suffixes in names.items():
        with tf.variable_scope(cls.__name__):
            cell = cls(5)
            out, state = cell(tf.constant(f["gru/x"]), tf.constant(f["gru/h_prev"]))
        assert [v.op.name for v in cell.variables] == [f"{cls.__name__}/gru_cell/{s}" for s in suffixes]
        sess.run(tf.variables_initializer(cell.variables))
        assert (sess.run(cell.variables[1]) == 1).all() and not sess.run(cell.variables[3]).any()
        # Creation order: gate kernel, gate bias, candidate kernel, candidate bias; the op's w_ru is the gates'.
        for v, key in zip(cell.variables, ["w_ru", "b_ru", "w_c", "b_c"]):
            v.load(f[f"gru/{key}"], sess)
        assert cell.variables[0].shape.as_list() == [DEPTH + 5, 10]
        h, st = sess.run([out, state])
        np.testing.assert_allclose(h, f["gru/h"], rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(h, st)
    assert tf.contrib.rnn.GRUBlockCell(cell_size=3).state_size == 3
    with pytest.raises(ValueError, match="Exactly one of num_units or cell_size"):
        tf.contrib.rnn.GRUBlockCell(3, cell_size=3)
    with pytest.raises(ValueError, match="Shape of h_prev"):
        tf.contrib.rnn.GRUBlockCell(3)(tf.zeros([1, 2]), tf.zeros([1, 4]))


def np_layer_norm(x, gain=1.0, shift=0.0):
    return (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-12) * gain + shift


def test_layer_norm_basic_lstm_cell_normalizes_each_gate_and_the_state():
    cell = tf.contrib.rnn.LayerNormBasicLSTMCell(4, forget_bias=0.5, norm_gain=1.0, norm_shift=0.0)

    def state():
        c, h = placeholders(4, 4)
        return rnn_cell.LSTMStateTuple(c, h), [c, h]

    w, x, (c, h), out, st = run_step(cell, state)
    names = ["kernel"] + [f"{g}/{p}" for g in ("input", "transform", "forget", "output", "state")
                          for p in ("gamma", "beta")]
    assert [v.op.name for v in cell.variables] == [f"layer_norm_basic_lstm_cell/{n}" for n in names]
    # run_step loads random values into every variable, gains and shifts included.
    kernel, gb = w[0], w[1:]
    i, j, f, o = np.split(np.concatenate([x, h], 1) @ kernel, 4, axis=1)
    i, j, f, o = (np_layer_norm(v, gb[2 * k], gb[2 * k + 1]) for k, v in enumerate((i, j, f, o)))
    new_c = np_layer_norm(c * sigmoid(f + 0.5) + sigmoid(i) * np.tanh(j), gb[8], gb[9])
    np.testing.assert_allclose(st.c, new_c, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out, np.tanh(new_c) * sigmoid(o), rtol=1e-4, atol=1e-5)


def test_layer_norm_basic_lstm_cell_without_normalization_is_a_basic_lstm(sess):
    cell = tf.contrib.rnn.LayerNormBasicLSTMCell(4, layer_norm=False)

    def state():
        c, h = placeholders(4, 4)
        return rnn_cell.LSTMStateTuple(c, h), [c, h]

    (k, b), x, (c, h), out, st = run_step(cell, state)
    assert [v.op.name for v in cell.variables] == ["layer_norm_basic_lstm_cell/kernel",
                                                   "layer_norm_basic_lstm_cell/bias"]
    new_c, new_h = np_lstm(x, c, h, k, b)
    np.testing.assert_allclose(st.c, new_c, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out, new_h, rtol=1e-5, atol=1e-6)


def test_attention_cell_wrapper_attends_over_its_window_of_past_outputs():
    cell = tf.contrib.rnn.AttentionCellWrapper(rnn_cell.GRUCell(3), attn_length=2, attn_vec_size=5)
    assert cell.state_size == (3, 3, 6) and cell.output_size == 3

    def state():
        s, attns, window = placeholders(3, 3, 6)
        return (s, attns, window), [s, attns, window]

    w, x, (s, attns, window), out, st = run_step(cell, state)
    assert [v.op.name for v in cell.variables] == [
        "attention_cell_wrapper/kernel", "attention_cell_wrapper/bias",
        "attention_cell_wrapper/gru_cell/gates/kernel", "attention_cell_wrapper/gru_cell/gates/bias",
        "attention_cell_wrapper/gru_cell/candidate/kernel", "attention_cell_wrapper/gru_cell/candidate/bias",
        "attention_cell_wrapper/attention/attn_w", "attention_cell_wrapper/attention/attn_v",
        "attention_cell_wrapper/attention/kernel", "attention_cell_wrapper/attention/bias",
        "attention_cell_wrapper/attn_output_projection/kernel", "attention_cell_wrapper/attn_output_projection/bias"]
    k_in, b_in, gk, gb, ck, cb, attn_w, attn_v, k_q, b_q, k_out, b_out = w
    past = window.reshape(BATCH, 2, 3)
    new_s = np_gru(np.concatenate([x, attns], 1) @ k_in + b_in, s, gk, gb, ck, cb)
    features = past @ attn_w[0, 0]
    scores = (attn_v * np.tanh(features + (new_s @ k_q + b_q)[:, None])).sum(2)
    weights_ = np.exp(scores) / np.exp(scores).sum(1, keepdims=True)
    read = (weights_[:, :, None] * past).sum(1)
    output = np.concatenate([new_s, read], 1) @ k_out + b_out  # a GRU's output is its new state
    np.testing.assert_allclose(out, output, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(st[0], new_s, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(st[1], read, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(st[2], np.concatenate([past[:, 1:], output[:, None]], 1).reshape(BATCH, 6),
                               rtol=1e-4, atol=1e-5)


def test_attention_cell_wrapper_errors_and_concatenated_state(sess):
    with pytest.raises(ValueError, match="attn_length should be greater than zero"):
        tf.contrib.rnn.AttentionCellWrapper(rnn_cell.GRUCell(3), attn_length=0)
    with pytest.raises(ValueError, match="Cell returns tuple of states, but the flag state_is_tuple is not set"):
        tf.contrib.rnn.AttentionCellWrapper(rnn_cell.BasicLSTMCell(3), 2, state_is_tuple=False)
    cell = tf.contrib.rnn.AttentionCellWrapper(rnn_cell.GRUCell(3), 2, state_is_tuple=False)
    assert cell.state_size == 12
    outputs, state = tf.nn.dynamic_rnn(cell, tf.ones([2, 4, 3]), dtype=tf.float32)
    sess.run(tf.global_variables_initializer())
    out, st = sess.run([outputs, state])
    assert out.shape == (2, 4, 3) and st.shape == (2, 12)
    np.testing.assert_allclose(st[:, -3:], out[:, -1], rtol=1e-6)
    np.testing.assert_allclose(st[:, -6:-3], out[:, -2], rtol=1e-6)


@pytest.mark.parametrize("coupled", [True, False])
def test_highway_wrapper_mixes_inputs_and_cell_outputs_through_gates(coupled, sess):
    """The gates' variables are made in the caller's scope, outside the wrapper's tracking (as in TF)."""
    cell = tf.contrib.rnn.HighwayWrapper(rnn_cell.BasicRNNCell(DEPTH), couple_carry_transform_gates=coupled,
                                         carry_bias_init=0.5)
    rng = np.random.RandomState(3)
    x, h = rng.uniform(-1, 1, (BATCH, DEPTH)), rng.uniform(-1, 1, (BATCH, DEPTH))
    out, st = cell(tf.constant(x, tf.float32), tf.constant(h, tf.float32))
    names = ["basic_rnn_cell/kernel", "basic_rnn_cell/bias", "carry_w", "carry_b"]
    names += [] if coupled else ["transform_w", "transform_b"]
    assert [v.op.name for v in tf.trainable_variables()] == names
    assert [v.op.name for v in cell.variables] == names[:2]
    sess.run(tf.global_variables_initializer())
    w = weights(tf.trainable_variables())
    for v, value in zip(tf.trainable_variables(), w):
        v.load(value, sess)
    got, got_state = sess.run([out, st])
    y = np_basic_rnn(x, h, w[0], w[1])
    carry = sigmoid(x @ w[2] + w[3])
    transform = 1 - carry if coupled else sigmoid(x @ w[4] + w[5])
    np.testing.assert_allclose(got, x * carry + y * transform, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_state, y, rtol=1e-5, atol=1e-6)


def test_highway_wrapper_gate_biases_start_at_plus_and_minus_carry_bias_init(sess):
    cell = tf.contrib.rnn.HighwayWrapper(rnn_cell.GRUCell(3), couple_carry_transform_gates=False,
                                         carry_bias_init=2.0)
    cell(tf.zeros([1, 3]), tf.zeros([1, 3]))
    sess.run(tf.global_variables_initializer())
    values = dict(zip([v.op.name for v in tf.global_variables()], sess.run(tf.global_variables())))
    np.testing.assert_array_equal(values["carry_b"], [2, 2, 2])
    np.testing.assert_array_equal(values["transform_b"], [-2, -2, -2])
    with pytest.raises(ValueError):
        tf.contrib.rnn.HighwayWrapper(rnn_cell.GRUCell(2))(tf.zeros([1, 3]), tf.zeros([1, 2]))


# ----------------------------------------------------------------------------------------------------------
# tf.contrib.rnn's research cells, against NumPy
# ----------------------------------------------------------------------------------------------------------
def scalar_state(n):
    return lambda: (lambda p: (p[0], p))(placeholders(n))


def lstm_state(c_size, h_size):
    def state():
        c, h = placeholders(c_size, h_size)
        return rnn_cell.LSTMStateTuple(c, h), [c, h]

    return state


def test_ugrnn_cell_step_matches_numpy():
    cell = tf.contrib.rnn.UGRNNCell(3, forget_bias=0.5)
    (k, b), x, (h,), out, st = run_step(cell, scalar_state(3))
    assert [v.op.name for v in cell.variables] == ["ugrnn_cell/kernel", "ugrnn_cell/bias"]
    g_act, c_act = np.split(np.concatenate([x, h], 1) @ k + b, 2, axis=1)
    g = sigmoid(g_act + 0.5)
    np.testing.assert_allclose(out, g * h + (1 - g) * np.tanh(c_act), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(out, st)


def test_intersection_rnn_cell_projects_inputs_and_gates_time_and_depth():
    cell = tf.contrib.rnn.IntersectionRNNCell(3, num_in_proj=3)
    (pk, pb, k, b), x, (h,), out, st = run_step(cell, scalar_state(3))
    assert [v.op.name for v in cell.variables] == [
        "intersection_rnn_cell/in_projection/kernel", "intersection_rnn_cell/in_projection/bias",
        "intersection_rnn_cell/kernel", "intersection_rnn_cell/bias"]
    xp = x @ pk + pb
    gh, hh, gy, yy = np.split(np.concatenate([xp, h], 1) @ k + b, 4, axis=1)
    gh, gy = sigmoid(gh + 1.0), sigmoid(gy + 1.0)
    np.testing.assert_allclose(st, gh * h + (1 - gh) * np.tanh(hh), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out, gy * xp + (1 - gy) * np.maximum(yy, 0), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="Must have input size == output size for Intersection RNN"):
        tf.contrib.rnn.IntersectionRNNCell(3)(tf.zeros([1, 2]), tf.zeros([1, 3]))


@pytest.mark.parametrize("options", [{}, {"num_proj": 2, "use_biases": True}])
def test_nas_cell_step_matches_numpy(options):
    cell = tf.contrib.rnn.NASCell(3, **options)
    h_size = options.get("num_proj", 3)
    w, x, (c, m), out, st = run_step(cell, lstm_state(3, h_size))
    names = ["recurrent_kernel", "kernel"] + (["bias", "projection_weights"] if options else [])
    assert [v.op.name for v in cell.variables] == [f"nas_cell/{n}" for n in names]
    rm, rx = m @ w[0], x @ w[1]
    if options:
        rm = rm + w[2]
    ms, xs = np.split(rm, 8, axis=1), np.split(rx, 8, axis=1)
    relu = lambda v: np.maximum(v, 0)  # noqa: E731
    l1 = [sigmoid(xs[0] + ms[0]), relu(xs[1] + ms[1]), sigmoid(xs[2] + ms[2]), relu(xs[3] * ms[3]),
          np.tanh(xs[4] + ms[4]), sigmoid(xs[5] + ms[5]), np.tanh(xs[6] + ms[6]), sigmoid(xs[7] + ms[7])]
    l2 = [np.tanh(l1[0] * l1[1]), np.tanh(l1[2] + l1[3]), np.tanh(l1[4] * l1[5]), sigmoid(l1[6] + l1[7])]
    new_c = np.tanh(l2[0] + c) * l2[1]
    new_m = np.tanh(new_c * np.tanh(l2[2] + l2[3]))
    if options:
        new_m = new_m @ w[3]
    np.testing.assert_allclose(st.c, new_c, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out, new_m, rtol=1e-5, atol=1e-6)


def test_sru_cell_step_matches_numpy():
    cell = tf.contrib.rnn.SRUCell(DEPTH)
    (k, b), x, (c,), out, st = run_step(cell, scalar_state(DEPTH))
    assert [v.op.name for v in cell.variables] == ["sru_cell/kernel", "sru_cell/bias"]
    x_bar, f_pre, r_pre, x_tx = np.split(x @ k, 4, axis=1)
    f, r = np.split(sigmoid(np.concatenate([f_pre, r_pre], 1) + b), 2, axis=1)
    new_c = f * c + (1 - f) * x_bar
    np.testing.assert_allclose(st, new_c, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out, r * np.tanh(new_c) + (1 - r) * x_tx, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("options", [
    {},
    {"use_peepholes": True, "num_proj": 2, "proj_clip": 0.2, "num_unit_shards": 4},
    {"layer_norm": True, "state_is_tuple": False},
])
def test_coupled_input_forget_gate_lstm_cell_step_matches_numpy(options):
    cell = tf.contrib.rnn.CoupledInputForgetGateLSTMCell(3, forget_bias=0.5, **options)
    h_size = options.get("num_proj", 3)
    tuple_state = options.get("state_is_tuple", True)

    def state():
        c, h = placeholders(3, h_size)
        return (rnn_cell.LSTMStateTuple(c, h) if tuple_state else tf.concat([c, h], 1)), [c, h]

    w, x, (c, h), out, st = run_step(cell, state)
    names = [v.op.name.split("/", 1)[1] for v in cell.variables]
    values = dict(zip(names, w))
    if options.get("num_unit_shards") == 4:
        # 6 rows in 4 shards: the first two get the extra rows.
        shards = [f"W_{i}" for i in range(4)]
        assert names[:5] == shards + ["B"]
        assert [values[n].shape for n in shards] == [(2, 9), (2, 9), (1, 9), (1, 9)]
        kernel = np.concatenate([values[n] for n in shards])
    else:
        kernel = values["W_0"]
    matrix = np.concatenate([x, h], 1) @ kernel
    if not options.get("layer_norm"):
        matrix = matrix + values["B"]
    j, f, o = np.split(matrix, 3, axis=1)
    if options.get("layer_norm"):
        assert names == ["W_0", "B"] + [f"{g}/{p}" for g in ("transform", "forget", "output", "state")
                                        for p in ("gamma", "beta")]
        j, f, o = (np_layer_norm(v, values[f"{g}/gamma"], values[f"{g}/beta"])
                   for v, g in ((j, "transform"), (f, "forget"), (o, "output")))
    peep = options.get("use_peepholes")
    f_act = sigmoid(f + 0.5 + (values["W_F_diag"] * c if peep else 0))
    new_c = f_act * c + (1 - f_act) * np.tanh(j)
    if options.get("layer_norm"):
        new_c = np_layer_norm(new_c, values["state/gamma"], values["state/beta"])
    m = sigmoid(o + (values["W_O_diag"] * new_c if peep else 0)) * np.tanh(new_c)
    if options.get("num_proj"):
        assert names[-1] == "W_P_0"
        m = np.clip(m @ values["W_P_0"], -0.2, 0.2)
    np.testing.assert_allclose(out, m, rtol=1e-4, atol=1e-5)
    got_c = st.c if tuple_state else st[:, :3]
    np.testing.assert_allclose(got_c, new_c, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("options", [
    {"use_peepholes": True, "cell_clip": 0.5, "num_proj": 2, "proj_clip": 0.3},
    {"layer_norm": True, "use_peepholes": True},
])
def test_layer_norm_lstm_cell_step_matches_numpy(options):
    cell = tf.contrib.rnn.LayerNormLSTMCell(3, forget_bias=0.5, **options)
    h_size = options.get("num_proj", 3)
    w, x, (c, h), out, st = run_step(cell, lstm_state(3, h_size))
    names = [v.op.name.split("/", 1)[1] for v in cell.variables]
    values = dict(zip(names, w))
    norms = [f"{g}/{p}" for g in ("input", "transform", "forget", "output") for p in ("gamma", "beta")]
    peepholes = ["w_f_diag", "w_i_diag", "w_o_diag"]
    if options.get("layer_norm"):
        assert names == ["kernel", "bias"] + norms + peepholes + ["state/gamma", "state/beta"]
    else:
        assert names == ["kernel", "bias"] + peepholes + ["projection/kernel"]
    matrix = np.concatenate([x, h], 1) @ values["kernel"]
    if not options.get("layer_norm"):
        matrix = matrix + values["bias"]
    i, j, f, o = np.split(matrix, 4, axis=1)
    if options.get("layer_norm"):
        i, j, f, o = (np_layer_norm(v, values[f"{g}/gamma"], values[f"{g}/beta"])
                      for v, g in zip((i, j, f, o), ("input", "transform", "forget", "output")))
    new_c = sigmoid(f + 0.5 + values["w_f_diag"] * c) * c + sigmoid(i + values["w_i_diag"] * c) * np.tanh(j)
    if options.get("layer_norm"):
        new_c = np_layer_norm(new_c, values["state/gamma"], values["state/beta"])
    else:
        new_c = np.clip(new_c, -0.5, 0.5)
    m = sigmoid(o + values["w_o_diag"] * new_c) * np.tanh(new_c)
    if options.get("num_proj"):
        m = np.clip(m @ values["projection/kernel"], -0.3, 0.3)
    np.testing.assert_allclose(st.c, new_c, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out, m, rtol=1e-4, atol=1e-5)


def np_conv_same(x, kernel):
    """'SAME' convolution (cross-correlation, stride 1) of x [batch, *spatial, in] with kernel [*k, in, out]."""
    k = kernel.shape[:-2]
    pads = [(0, 0)] + [((size - 1) // 2, size - 1 - (size - 1) // 2) for size in k] + [(0, 0)]
    padded = np.pad(x, pads)
    windows = np.lib.stride_tricks.sliding_window_view(padded, k, axis=tuple(range(1, 1 + len(k))))
    # windows: [batch, *spatial, in, *k] -> contract in and k with the kernel
    letters = "abcd"[:len(k)]
    return np.einsum(f"...i{letters},{letters}io->...o", windows, kernel)


@pytest.mark.parametrize("conv", ["1d", "2d"])
def test_conv_lstm_cells_step_matches_numpy(conv, sess):
    spatial = [5] if conv == "1d" else [4, 3]
    kernel_shape = [3] if conv == "1d" else [3, 2]
    cls = tf.contrib.rnn.Conv1DLSTMCell if conv == "1d" else tf.contrib.rnn.Conv2DLSTMCell
    cell = cls(input_shape=spatial + [2], output_channels=3, kernel_shape=kernel_shape, skip_connection=True,
               forget_bias=0.5)
    assert cell.output_size.as_list() == spatial + [5] and cell.state_size.c.as_list() == spatial + [3]
    rng = np.random.RandomState(4)
    x, c, h = (rng.uniform(-1, 1, [2] + spatial + [n]).astype(np.float32) for n in (2, 3, 3))
    out, st = cell(tf.constant(x), rnn_cell.LSTMStateTuple(tf.constant(c), tf.constant(h)))
    scope = f"conv_{conv}_lstm_cell"
    assert [v.op.name for v in cell.variables] == [f"{scope}/kernel", f"{scope}/biases"]
    assert cell.variables[0].shape.as_list() == kernel_shape + [5, 12]
    sess.run(tf.global_variables_initializer())
    w = weights(cell.variables, seed=2)
    for v, value in zip(cell.variables, w):
        v.load(value, sess)
    got, got_state = sess.run([out, st])
    i, j, f, o = np.split(np_conv_same(np.concatenate([x, h], -1), w[0]) + w[1], 4, axis=-1)
    new_c = sigmoid(f + 0.5) * c + sigmoid(i) * np.tanh(j)
    new_h = np.tanh(new_c) * sigmoid(o)
    np.testing.assert_allclose(got_state.c, new_c, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got, np.concatenate([new_h, x], -1), rtol=1e-4, atol=1e-5)


def test_conv_lstm_cell_runs_in_dynamic_rnn_and_refuses_bad_shapes(sess):
    cell = tf.contrib.rnn.Conv2DLSTMCell(input_shape=[4, 4, 1], output_channels=2, kernel_shape=[3, 3])
    outputs, state = tf.nn.dynamic_rnn(cell, tf.ones([2, 3, 4, 4, 1]), dtype=tf.float32)
    assert outputs.shape.as_list() == [2, 3, 4, 4, 2] and state.h.shape.as_list() == [2, 4, 4, 2]
    sess.run(tf.global_variables_initializer())
    out, h = sess.run([outputs, state.h])
    np.testing.assert_allclose(out[:, -1], h, rtol=1e-6)
    with pytest.raises(ValueError, match="Invalid input_shape"):
        tf.contrib.rnn.ConvLSTMCell(2, [4, 1], 2, [3, 3])
    with pytest.raises(NotImplementedError, match="no conv3d"):
        tf.contrib.rnn.ConvLSTMCell(3, [4, 4, 4, 1], 2, [3, 3, 3])


def test_lstm_shards_partition_the_kernels_as_tf_does():
    """num_unit_shards / num_proj_shards cut the kernel and projection kernel into row parts (TF 1.15 passes
    fixed_size_partitioner to add_variable); the cell computes what the whole kernels compute, and trains."""
    x = tf.constant(random_array((2, 3, 5), np.float32, seed=11))
    init = tf.random_uniform_initializer(-0.3, 0.3, seed=4)
    with tf.variable_scope("sharded"):
        cell = rnn_cell.LSTMCell(4, num_unit_shards=2, num_proj=3, num_proj_shards=3, initializer=init)
        sharded, _ = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
    names = [v.op.name for v in tf.global_variables()]
    assert names == ["sharded/rnn/lstm_cell/kernel/part_0", "sharded/rnn/lstm_cell/kernel/part_1",
                     "sharded/rnn/lstm_cell/bias", "sharded/rnn/lstm_cell/projection/kernel/part_0",
                     "sharded/rnn/lstm_cell/projection/kernel/part_1",
                     "sharded/rnn/lstm_cell/projection/kernel/part_2"]
    with tf.variable_scope("whole"):
        whole_cell = rnn_cell.LSTMCell(4, num_proj=3, initializer=init)
        whole, _ = tf.nn.dynamic_rnn(whole_cell, x, dtype=tf.float32)
    parts = tf.trainable_variables("sharded")
    grads = tf.gradients(tf.reduce_sum(sharded), parts)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        kernel = np.concatenate(sess.run(parts[:2]), 0)
        projection = np.concatenate(sess.run(parts[3:]), 0)
        sess.run([whole_cell._kernel.assign(kernel), whole_cell._proj_kernel.assign(projection),
                  whole_cell._bias.assign(sess.run(parts[2]))])
        got, want, g = sess.run([sharded, whole, grads])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert [a.shape for a in g] == [(4, 16), (4, 16), (16,), (2, 3), (1, 3), (1, 3)]
