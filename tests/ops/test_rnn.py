"""The RNN drivers (tf.nn.dynamic_rnn, static_rnn, bidirectional_dynamic_rnn, static_bidirectional_rnn,
static_state_saving_rnn, raw_rnn): outputs, final states, gradients and variable names against recorded
TensorFlow runs (tools/tf_fixtures/gen_rnn.py), sequence_length masking against running each sequence alone,
finite-difference gradients, TF's errors, and the loss curve of a small LSTM trained as TensorFlow trains it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from gradient_checker import check_gradients

import tfmini as tf
from tfmini.ops.functional_ops import flatten

rnn_cell = tf.nn.rnn_cell
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "rnn"
META = json.loads((FIXTURES / "rnn.json").read_text())
CELLS_NPZ = np.load(FIXTURES / "cells.npz")
BATCH, TIME, DEPTH = META["batch"], META["time"], META["depth"]

# The cells the generator recorded, built the same way.
CELLS = {
    "basic_rnn": lambda: rnn_cell.BasicRNNCell(6),
    "gru": lambda: rnn_cell.GRUCell(6),
    "basic_lstm": lambda: rnn_cell.BasicLSTMCell(6, forget_bias=0.5),
    "basic_lstm_concat": lambda: rnn_cell.BasicLSTMCell(6, state_is_tuple=False),
    "lstm_full": lambda: rnn_cell.LSTMCell(6, use_peepholes=True, cell_clip=0.8, num_proj=3, proj_clip=0.5),
    "lstm_concat_proj": lambda: rnn_cell.LSTMCell(5, num_proj=3, state_is_tuple=False),
    "multi": lambda: rnn_cell.MultiRNNCell([rnn_cell.BasicLSTMCell(5), rnn_cell.GRUCell(4)]),
}


def load(sess, variables, values) -> None:
    for v, value in zip(variables, values):
        v.load(value, sess)


def fixture_weights(key: str) -> list:
    return [CELLS_NPZ[f"{key}/weight_{i}"] for i in range(len(META["cells"][key]["variables"]))]


# ----------------------------------------------------------------------------------------------------------
# Recorded TensorFlow runs
# ----------------------------------------------------------------------------------------------------------
def run_recorded_case(key: str, driver: str):
    """Builds the recorded network with `driver`, loads TF's weights and returns (variables, outputs
    [batch, time, ...], flat final state, gradients w.r.t. x and each variable) for TF's weighted loss."""
    name = key.removesuffix("_len")
    lengths = CELLS_NPZ["lengths"] if key.endswith("_len") else None
    x = tf.placeholder(tf.float32, [BATCH, TIME, DEPTH])
    cell = CELLS[name]()
    if driver == "dynamic":
        outputs, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32, sequence_length=lengths)
    elif driver == "dynamic_time_major":
        outputs, state = tf.nn.dynamic_rnn(cell, tf.transpose(x, [1, 0, 2]), dtype=tf.float32,
                                           sequence_length=lengths, time_major=True)
        outputs = tf.transpose(outputs, [1, 0, 2])
    else:
        steps, state = tf.nn.static_rnn(cell, tf.unstack(x, axis=1), dtype=tf.float32, sequence_length=lengths)
        outputs = tf.stack(steps, axis=1)
    flat_state = flatten(state)
    variables = tf.trainable_variables()
    loss = tf.reduce_sum(outputs * CELLS_NPZ[f"{key}/w_out"]) + tf.add_n(
        [tf.reduce_sum(s * CELLS_NPZ[f"{key}/w_state_{i}"]) for i, s in enumerate(flat_state)])
    grads = tf.gradients(loss, [x] + variables)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        load(sess, variables, fixture_weights(key))
        out, st, g = sess.run([outputs, flat_state, grads], {x: CELLS_NPZ["x"]})
    return variables, out, st, g


@pytest.mark.parametrize("driver", ["dynamic", "dynamic_time_major", "static"])
@pytest.mark.parametrize("key", sorted(META["cells"]))
def test_outputs_states_and_gradients_match_tensorflow(key, driver):
    variables, out, st, g = run_recorded_case(key, driver)
    assert [v.name for v in variables] == META["cells"][key]["variables"]
    assert [v.shape.as_list() for v in variables] == META["cells"][key]["shapes"]
    np.testing.assert_allclose(out, CELLS_NPZ[f"{key}/outputs"], rtol=1e-5, atol=1e-6)
    assert len(st) == META["cells"][key]["n_state"]
    for i, s in enumerate(st):
        np.testing.assert_allclose(s, CELLS_NPZ[f"{key}/state_{i}"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g[0], CELLS_NPZ[f"{key}/grad_x"], rtol=1e-4, atol=1e-5)
    for i, gv in enumerate(g[1:]):
        np.testing.assert_allclose(gv, CELLS_NPZ[f"{key}/grad_{i}"], rtol=1e-4, atol=1e-5)


def build_named_case(name: str) -> None:
    """The network of the generator's case `name` (record_names)."""
    def x(time_major=False):
        return tf.placeholder(tf.float32, [TIME, BATCH, DEPTH] if time_major else [BATCH, TIME, DEPTH])

    def steps():
        return tf.unstack(x(), axis=1)

    cases = {
        "dynamic_multi_lstm": lambda: tf.nn.dynamic_rnn(
            rnn_cell.MultiRNNCell([rnn_cell.BasicLSTMCell(3), rnn_cell.BasicLSTMCell(2)]), x(), dtype=tf.float32),
        "dynamic_scope": lambda: tf.nn.dynamic_rnn(rnn_cell.GRUCell(3), x(), dtype=tf.float32, scope="encoder"),
        "dynamic_named_cell": lambda: tf.nn.dynamic_rnn(rnn_cell.LSTMCell(3, name="enc"), x(), dtype=tf.float32),
        "dynamic_dropout": lambda: tf.nn.dynamic_rnn(
            rnn_cell.DropoutWrapper(rnn_cell.LSTMCell(3, use_peepholes=True), output_keep_prob=0.5), x(),
            dtype=tf.float32),
        "dynamic_residual_device": lambda: tf.nn.dynamic_rnn(
            rnn_cell.DeviceWrapper(rnn_cell.ResidualWrapper(rnn_cell.BasicRNNCell(DEPTH)), "/cpu:0"), x(),
            dtype=tf.float32),
        "bidirectional_dynamic": lambda: tf.nn.bidirectional_dynamic_rnn(
            rnn_cell.BasicLSTMCell(3), rnn_cell.GRUCell(2), x(), dtype=tf.float32),
        "static": lambda: tf.nn.static_rnn(rnn_cell.BasicLSTMCell(3), steps(), dtype=tf.float32),
        "static_bidirectional": lambda: tf.nn.static_bidirectional_rnn(
            rnn_cell.LSTMCell(3, num_proj=2), rnn_cell.BasicRNNCell(2), steps(), dtype=tf.float32),
        "two_cells_one_scope": lambda: [
            cell(tf.zeros([2, DEPTH]), cell.zero_state(2, tf.float32))
            for cell in (rnn_cell.BasicLSTMCell(3), rnn_cell.BasicLSTMCell(3))],
        "cell_reused_in_two_rnns": lambda: [
            tf.nn.dynamic_rnn(cell, x(), dtype=tf.float32) for cell in [rnn_cell.GRUCell(3)] * 2],
        "cell_called_directly": lambda: [
            rnn_cell.BasicLSTMCell(3)(tf.zeros([2, DEPTH]),
                                      rnn_cell.LSTMStateTuple(tf.zeros([2, 3]), tf.zeros([2, 3]))),
            rnn_cell.GRUCell(3)(tf.zeros([2, DEPTH]), tf.zeros([2, 3]), scope="my_gru")],
    }
    cases[name]()


@pytest.mark.parametrize("name", sorted(META["names"]))
def test_variable_names_and_shapes_are_tensorflows(name):
    build_named_case(name)
    assert [[v.name, v.shape.as_list()] for v in tf.global_variables()] == META["names"][name]


ERROR_CASES = {
    "two_new_cells_in_one_scope": (lambda: [
        tf.nn.dynamic_rnn(rnn_cell.BasicLSTMCell(3), tf.zeros([BATCH, TIME, DEPTH]), dtype=tf.float32)
        for _ in range(2)], "Variable rnn/basic_lstm_cell/kernel already exists, disallowed"),
    "no_dtype": (lambda: tf.nn.dynamic_rnn(rnn_cell.GRUCell(3), tf.zeros([BATCH, TIME, DEPTH])),
                 "If there is no initial_state, you must give a dtype."),
    "unknown_depth": (lambda: tf.nn.dynamic_rnn(rnn_cell.GRUCell(3), tf.placeholder(tf.float32, [BATCH, TIME, None]),
                                                dtype=tf.float32),
                      r"Input size \(depth of inputs\) must be accessible via shape inference"),
    "sequence_length_matrix": (lambda: tf.nn.dynamic_rnn(rnn_cell.GRUCell(3), tf.zeros([BATCH, TIME, DEPTH]),
                                                         sequence_length=[[1]], dtype=tf.float32),
                               "sequence_length must be a vector of length batch_size"),
    "static_not_a_list": (lambda: tf.nn.static_rnn(rnn_cell.GRUCell(3), tf.zeros([BATCH, DEPTH]), dtype=tf.float32),
                          "inputs must be a sequence"),
    "static_empty": (lambda: tf.nn.static_rnn(rnn_cell.GRUCell(3), [], dtype=tf.float32), "inputs must not be empty"),
    "static_no_dtype": (lambda: tf.nn.static_rnn(rnn_cell.GRUCell(3), [tf.zeros([BATCH, DEPTH])]),
                        "If no initial_state is provided, dtype must be specified"),
    "multi_empty": (lambda: rnn_cell.MultiRNNCell([]), "Must specify at least one cell"),
    "multi_not_tuple_state": (lambda: rnn_cell.MultiRNNCell([rnn_cell.BasicLSTMCell(3)], state_is_tuple=False),
                              "Some cells return tuples of states"),
    "dropout_bad_prob": (lambda: rnn_cell.DropoutWrapper(rnn_cell.GRUCell(3), output_keep_prob=1.5),
                         "Parameter output_keep_prob must be between 0 and 1"),
    "dropout_variational_no_dtype": (lambda: rnn_cell.DropoutWrapper(rnn_cell.GRUCell(3), variational_recurrent=True),
                                     "When variational_recurrent=True, dtype must be provided"),
    "integer_cell": (lambda: rnn_cell.GRUCell(3, dtype=tf.int32), "RNN cell only supports floating point inputs"),
    "not_a_cell": (lambda: tf.nn.dynamic_rnn(lambda x, s: (x, s), tf.zeros([BATCH, TIME, DEPTH]), dtype=tf.float32),
                   "is not an RNNCell: 'output_size' property is missing, 'state_size' property is missing, either "
                   "'zero_state' or 'get_initial_state' method is required."),
}


@pytest.mark.parametrize("name", sorted(META["errors"]))
def test_build_errors_are_tensorflows_error_classes(name):
    """The class TF raised (recorded) with TF 1.15's message (TF 2.x reworded some of them)."""
    build, message = ERROR_CASES[name]
    cls = {"ValueError": ValueError, "TypeError": TypeError}[META["errors"][name][0]]
    with pytest.raises(cls, match=message):
        build()


TRAINING = np.load(FIXTURES / "training.npz")


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_an_lstm_trains_along_tensorflows_loss_curve(optimizer):
    x = tf.placeholder(tf.float32, [None, 10, 2])
    y = tf.placeholder(tf.float32, [None, 1])
    outputs, _ = tf.nn.dynamic_rnn(rnn_cell.BasicLSTMCell(8), x, dtype=tf.float32)
    w = tf.get_variable("w", [8, 1])
    b = tf.get_variable("b", [1], initializer=tf.zeros_initializer())
    loss = tf.reduce_mean(tf.square(tf.matmul(outputs[:, -1], w) + b - y))
    opt = tf.train.GradientDescentOptimizer(0.5) if optimizer == "sgd" else tf.train.AdamOptimizer(0.02)
    train = opt.minimize(loss)
    variables = tf.trainable_variables()
    assert [v.name for v in variables] == list(TRAINING[f"{optimizer}/names"])
    feed = {x: TRAINING["x"], y: TRAINING["y"]}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        load(sess, variables, [TRAINING[f"{optimizer}/initial_{i}"] for i in range(len(variables))])
        losses = [sess.run([loss, train], feed)[0] for _ in range(20)]
        final = sess.run(variables)
    np.testing.assert_allclose(losses, TRAINING[f"{optimizer}/losses"], rtol=1e-4, atol=1e-6)
    assert losses[-1] < 0.5 * losses[0]
    for i, value in enumerate(final):
        np.testing.assert_allclose(value, TRAINING[f"{optimizer}/final_{i}"], rtol=1e-3, atol=1e-5)


# ----------------------------------------------------------------------------------------------------------
# sequence_length, initial states, shapes
# ----------------------------------------------------------------------------------------------------------
def test_sequence_length_gives_zero_outputs_and_the_state_at_each_sequences_end(sess):
    """Each batch entry run alone over its own length gives the same outputs and final state."""
    rng = np.random.RandomState(5)
    xv = rng.uniform(-1, 1, (4, 6, 3)).astype(np.float32)
    lengths = np.array([6, 0, 3, 1], np.int32)
    x = tf.placeholder(tf.float32, [None, None, 3])
    seq = tf.placeholder(tf.int32, [None])
    cell = rnn_cell.LSTMCell(4, use_peepholes=True)
    outputs, state = tf.nn.dynamic_rnn(cell, x, sequence_length=seq, dtype=tf.float32)
    alone_out, alone_state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
    assert outputs.shape.as_list() == [None, None, 4]
    sess.run(tf.global_variables_initializer())
    out, st = sess.run([outputs, state], {x: xv, seq: lengths})
    for b, n in enumerate(lengths):
        np.testing.assert_array_equal(out[b, n:], 0)
        if n == 0:
            np.testing.assert_array_equal(st.c[b], 0)
            continue
        ref_out, ref_state = sess.run([alone_out, alone_state], {x: xv[b:b + 1, :n]})
        np.testing.assert_allclose(out[b, :n], ref_out[0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(st.c[b], ref_state.c[0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(st.h[b], ref_state.h[0], rtol=1e-5, atol=1e-6)


def test_all_zero_lengths_return_the_initial_state_and_zero_outputs(sess):
    cell = rnn_cell.GRUCell(3)
    init = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
    outputs, state = tf.nn.dynamic_rnn(cell, tf.ones([2, 4, 2]), sequence_length=[0, 0], initial_state=init)
    sess.run(tf.global_variables_initializer())
    out, st = sess.run([outputs, state])
    assert out.shape == (2, 4, 3) and not out.any()
    np.testing.assert_array_equal(st, np.arange(6).reshape(2, 3))


def test_a_sequence_length_of_the_wrong_batch_size_fails_at_run_time_and_the_session_stays_usable(sess):
    x = tf.placeholder(tf.float32, [None, 3, 2])
    seq = tf.placeholder(tf.int32, [None])
    outputs, _ = tf.nn.dynamic_rnn(rnn_cell.GRUCell(2), x, sequence_length=seq, dtype=tf.float32)
    sess.run(tf.global_variables_initializer())
    with pytest.raises(tf.errors.InvalidArgumentError, match="Expected shape for Tensor"):
        sess.run(outputs, {x: np.ones((2, 3, 2)), seq: [1, 2, 3]})
    assert sess.run(outputs, {x: np.ones((2, 3, 2)), seq: [1, 2]}).shape == (2, 3, 2)


def test_static_rnn_sequence_length_masks_like_dynamic_rnn(sess):
    rng = np.random.RandomState(2)
    xv = rng.uniform(-1, 1, (3, 4, 2)).astype(np.float32)
    x = tf.constant(xv)
    cell = rnn_cell.BasicLSTMCell(3)
    with tf.variable_scope("shared") as scope:
        d_out, d_state = tf.nn.dynamic_rnn(cell, x, sequence_length=[4, 1, 2], dtype=tf.float32, scope=scope)
    with tf.variable_scope(scope, reuse=True):
        s_out, s_state = tf.nn.static_rnn(cell, tf.unstack(x, axis=1), sequence_length=[4, 1, 2],
                                          dtype=tf.float32, scope=scope)
    assert len(tf.global_variables()) == 2
    sess.run(tf.global_variables_initializer())
    d, ds, s, ss = sess.run([d_out, d_state, s_out, s_state])
    np.testing.assert_allclose(np.stack(s, 1), d, rtol=1e-6)
    np.testing.assert_allclose(ss.h, ds.h, rtol=1e-6)


def test_initial_state_dtype_and_unknown_batch_and_time(sess):
    cell = rnn_cell.BasicRNNCell(2)
    x = tf.placeholder(tf.float64, [None, None, 3])
    init = tf.placeholder(tf.float64, [None, 2])
    outputs, state = tf.nn.dynamic_rnn(cell, x, initial_state=init)
    assert outputs.dtype == tf.float64 and state.dtype == tf.float64
    assert outputs.shape.as_list() == [None, None, 2]
    sess.run(tf.global_variables_initializer())
    k, b = sess.run(cell.variables)
    xv = np.random.RandomState(0).rand(2, 5, 3)
    h = np.full((2, 2), 0.5)
    out, st = sess.run([outputs, state], {x: xv, init: h})
    for t in range(5):
        h = np.tanh(np.concatenate([xv[:, t], h], 1) @ k + b)
        np.testing.assert_allclose(out[:, t], h, rtol=1e-12)
    np.testing.assert_allclose(st, h, rtol=1e-12)


def test_nested_inputs_and_outputs_pass_through_a_custom_cell(sess):
    class PairCell(rnn_cell.RNNCell):
        """Sums two inputs into its state; outputs (state, 2 * state)."""

        @property
        def state_size(self):
            return 2

        @property
        def output_size(self):
            return (2, 2)

        def call(self, inputs, state):
            new = state + inputs[0] + inputs[1]
            return (new, 2 * new), new

    a = tf.constant(np.ones((3, 4, 2), np.float32))
    b = tf.constant(np.full((3, 4, 2), 2.0, np.float32))
    (o1, o2), state = tf.nn.dynamic_rnn(PairCell(), (a, b), dtype=tf.float32, swap_memory=True,
                                        parallel_iterations=1)
    v1, v2, s = sess.run([o1, o2, state])
    np.testing.assert_array_equal(v1[0, :, 0], [3, 6, 9, 12])
    np.testing.assert_array_equal(v2, 2 * v1)
    np.testing.assert_array_equal(s, v1[:, -1])


def test_dynamic_rnn_input_errors():
    with pytest.raises(ValueError, match="Time steps is not the same for all the elements"):
        tf.nn.dynamic_rnn(rnn_cell.GRUCell(2), (tf.zeros([2, 3, 1]), tf.zeros([2, 4, 1])), dtype=tf.float32)
    with pytest.raises(ValueError, match="must have rank at least 3|rank at least 3"):
        tf.nn.dynamic_rnn(rnn_cell.GRUCell(2), tf.zeros([2, 3]), dtype=tf.float32, time_major=True)


# ----------------------------------------------------------------------------------------------------------
# Bidirectional, state saving, raw_rnn
# ----------------------------------------------------------------------------------------------------------
def test_bidirectional_dynamic_rnn_runs_the_backward_cell_over_each_reversed_sequence(sess):
    rng = np.random.RandomState(3)
    xv = rng.uniform(-1, 1, (2, 5, 3)).astype(np.float32)
    lengths = [5, 3]
    x = tf.constant(xv)
    fw, bw = rnn_cell.GRUCell(2), rnn_cell.BasicRNNCell(2)
    (out_fw, out_bw), (st_fw, st_bw) = tf.nn.bidirectional_dynamic_rnn(fw, bw, x, sequence_length=lengths,
                                                                       dtype=tf.float32)
    # The backward cell alone on each sequence reversed within its length.
    rev = np.stack([np.concatenate([xv[b, :n][::-1], xv[b, n:]]) for b, n in enumerate(lengths)])
    with tf.variable_scope("bidirectional_rnn/bw", reuse=True):
        ref_out, ref_state = tf.nn.dynamic_rnn(bw, tf.constant(rev), sequence_length=lengths, dtype=tf.float32,
                                               scope=tf.get_variable_scope())
    sess.run(tf.global_variables_initializer())
    ob, sb, ro, rs = sess.run([out_bw, st_bw, ref_out, ref_state])
    for b, n in enumerate(lengths):
        np.testing.assert_allclose(ob[b, :n], ro[b, :n][::-1], rtol=1e-6)
        np.testing.assert_array_equal(ob[b, n:], 0)
    np.testing.assert_allclose(sb, rs, rtol=1e-6)
    assert sess.run(out_fw).shape == (2, 5, 2) and sess.run(st_fw).shape == (2, 2)


def test_static_bidirectional_rnn_matches_the_dynamic_one(sess):
    rng = np.random.RandomState(4)
    x = tf.constant(rng.uniform(-1, 1, (2, 4, 3)).astype(np.float32))
    fw, bw = rnn_cell.BasicLSTMCell(2), rnn_cell.GRUCell(3)
    (d_fw, d_bw), (ds_fw, ds_bw) = tf.nn.bidirectional_dynamic_rnn(fw, bw, x, sequence_length=[4, 2],
                                                                   dtype=tf.float32)
    with tf.variable_scope(tf.get_variable_scope(), reuse=True):
        outputs, s_fw, s_bw = tf.nn.static_bidirectional_rnn(fw, bw, tf.unstack(x, axis=1), dtype=tf.float32,
                                                             sequence_length=[4, 2])
    assert len(tf.global_variables()) == 6
    sess.run(tf.global_variables_initializer())
    got, d, e, f, g, h = sess.run([outputs, d_fw, d_bw, s_fw, ds_fw, s_bw])
    np.testing.assert_allclose(np.stack(got, 1), np.concatenate([d, e], 2), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(f.h, g.h, rtol=1e-6)
    assert outputs[0].shape.as_list() == [2, 5]
    assert h.shape == (2, 3)


class DictStateSaver:
    """A state saver keeping each named state in a variable (the interface static_state_saving_rnn uses)."""

    def __init__(self, sizes: dict) -> None:
        self.vars = {n: tf.Variable(tf.fill([2, s], 0.5), name=n) for n, s in sizes.items()}

    def state(self, name):
        return self.vars[name].read_value()

    def save_state(self, name, value):
        return tf.assign(self.vars[name], value)


def test_static_state_saving_rnn_starts_from_and_saves_the_named_states(sess):
    cell = rnn_cell.BasicLSTMCell(3)
    saver = DictStateSaver({"c": 3, "h": 3})
    inputs = tf.unstack(tf.ones([2, 2, 1]), axis=1)
    outputs, state = tf.nn.static_state_saving_rnn(cell, inputs, saver, ("c", "h"))
    sess.run(tf.global_variables_initializer())
    first = sess.run(state)
    np.testing.assert_allclose(sess.run(saver.vars["h"]), first.h)
    second = sess.run(outputs[-1])
    assert not np.allclose(second, first.h)
    with pytest.raises(ValueError, match="state_name should be the same type as cell.state_size"):
        tf.nn.static_state_saving_rnn(cell, inputs, saver, "c")


def test_raw_rnn_with_a_loop_fn_reading_a_tensor_array_equals_dynamic_rnn(sess):
    cell = rnn_cell.GRUCell(3)
    inputs = tf.placeholder(tf.float32, [4, 2, 2])
    lengths = tf.constant([4, 2])
    inputs_ta = tf.TensorArray(tf.float32, size=4).unstack(inputs)

    def loop_fn(time, cell_output, cell_state, loop_state):
        next_state = cell.zero_state(2, tf.float32) if cell_output is None else cell_state
        finished = time >= lengths
        next_input = tf.cond(tf.reduce_all(finished), lambda: tf.zeros([2, 2]), lambda: inputs_ta.read(time))
        counter = tf.constant(0) if loop_state is None else loop_state + 1
        return finished, next_input, next_state, cell_output, counter

    emit_ta, final_state, steps = tf.nn.raw_rnn(cell, loop_fn)
    emitted = emit_ta.stack()
    with tf.variable_scope("rnn", reuse=True):
        ref_out, ref_state = tf.nn.dynamic_rnn(cell, inputs, sequence_length=lengths, time_major=True,
                                               dtype=tf.float32, scope=tf.get_variable_scope())
    assert len(tf.global_variables()) == 4
    sess.run(tf.global_variables_initializer())
    xv = np.random.RandomState(0).rand(4, 2, 2)
    e, s, n, ro, rs = sess.run([emitted, final_state, steps, ref_out, ref_state], {inputs: xv})
    np.testing.assert_allclose(e, ro, rtol=1e-6)
    np.testing.assert_allclose(s, rs, rtol=1e-6)
    assert n == 4


def test_raw_rnn_errors():
    with pytest.raises(TypeError, match="loop_fn must be a callable"):
        tf.nn.raw_rnn(rnn_cell.GRUCell(2), 3)


# ----------------------------------------------------------------------------------------------------------
# Finite-difference gradients through the drivers
# ----------------------------------------------------------------------------------------------------------
def constant_weights(seed: int):
    """A custom getter giving every variable fixed float64 values (so the graph needs no initialization)."""
    rng = np.random.RandomState(seed)

    def getter(getter, name, shape=None, dtype=None, **kwargs):
        return tf.constant(rng.uniform(-0.7, 0.7, shape).astype(np.float64))

    return getter


@pytest.mark.parametrize("driver", ["dynamic", "static", "bidirectional_dynamic"])
def test_gradients_through_the_drivers_match_finite_differences(driver):
    def net(x, h0):
        with tf.variable_scope("net", custom_getter=constant_weights(1)):
            cell = rnn_cell.LSTMCell(2, use_peepholes=True)
            init = rnn_cell.LSTMStateTuple(h0, tf.tanh(h0))
            if driver == "dynamic":
                out, st = tf.nn.dynamic_rnn(cell, x, sequence_length=[3, 2], initial_state=init)
            elif driver == "static":
                steps, st = tf.nn.static_rnn(cell, tf.unstack(x, axis=1), sequence_length=[3, 2],
                                             initial_state=init)
                out = tf.stack(steps, 1)
            else:
                (o1, o2), (s1, s2) = tf.nn.bidirectional_dynamic_rnn(
                    cell, rnn_cell.GRUCell(2), x, sequence_length=[3, 2], initial_state_fw=init,
                    initial_state_bw=h0)
                out, st = tf.concat([o1, o2], 2), (s1, s2)
        return [out] + flatten(st)

    rng = np.random.RandomState(0)
    check_gradients(net, [rng.uniform(-1, 1, (2, 3, 2)), rng.uniform(-1, 1, (2, 2))])


# ----------------------------------------------------------------------------------------------------------
# Stacked bidirectional RNNs (tf.contrib.rnn)
# ----------------------------------------------------------------------------------------------------------
def test_stack_bidirectional_dynamic_rnn_feeds_each_layer_both_directions_of_the_last(sess):
    rng = np.random.RandomState(6)
    x = tf.constant(rng.uniform(-1, 1, (2, 4, 3)).astype(np.float32))
    cells_fw = [rnn_cell.GRUCell(2), rnn_cell.BasicLSTMCell(3)]
    cells_bw = [rnn_cell.BasicRNNCell(2), rnn_cell.GRUCell(1)]
    outputs, states_fw, states_bw = tf.contrib.rnn.stack_bidirectional_dynamic_rnn(
        cells_fw, cells_bw, x, sequence_length=[4, 3], dtype=tf.float32)
    assert [v.op.name for v in tf.global_variables()][:2] == [
        "stack_bidirectional_rnn/cell_0/bidirectional_rnn/fw/gru_cell/gates/kernel",
        "stack_bidirectional_rnn/cell_0/bidirectional_rnn/fw/gru_cell/gates/bias"]
    assert outputs.shape.as_list() == [2, 4, 4] and len(states_fw) == len(states_bw) == 2
    with tf.variable_scope("stack_bidirectional_rnn", reuse=True):
        with tf.variable_scope("cell_0"):
            (f0, b0), _ = tf.nn.bidirectional_dynamic_rnn(cells_fw[0], cells_bw[0], x, sequence_length=[4, 3],
                                                          dtype=tf.float32)
        with tf.variable_scope("cell_1"):
            (f1, b1), (s1, _) = tf.nn.bidirectional_dynamic_rnn(cells_fw[1], cells_bw[1], tf.concat([f0, b0], 2),
                                                                sequence_length=[4, 3], dtype=tf.float32)
    sess.run(tf.global_variables_initializer())
    got, ref, st, ref_st = sess.run([outputs, tf.concat([f1, b1], 2), states_fw[1], s1])
    np.testing.assert_allclose(got, ref, rtol=1e-6)
    np.testing.assert_allclose(st.h, ref_st.h, rtol=1e-6)


def test_stack_bidirectional_rnn_matches_the_dynamic_stack(sess):
    rng = np.random.RandomState(7)
    x = tf.constant(rng.uniform(-1, 1, (2, 3, 2)).astype(np.float32))
    cells_fw = [rnn_cell.GRUCell(2), rnn_cell.GRUCell(2)]
    cells_bw = [rnn_cell.GRUCell(2), rnn_cell.GRUCell(2)]
    outputs, _, _ = tf.contrib.rnn.stack_bidirectional_rnn(cells_fw, cells_bw, tf.unstack(x, axis=1),
                                                           dtype=tf.float32, sequence_length=[3, 2])
    assert tf.global_variables()[0].op.name == "stack_bidirectional_rnn/cell_0/fw/gru_cell/gates/kernel"
    sess.run(tf.global_variables_initializer())
    values = sess.run(tf.global_variables())
    with tf.Graph().as_default():
        x2 = tf.constant(sess.run(x))
        dyn, _, _ = tf.contrib.rnn.stack_bidirectional_dynamic_rnn(
            [rnn_cell.GRUCell(2), rnn_cell.GRUCell(2)], [rnn_cell.GRUCell(2), rnn_cell.GRUCell(2)], x2,
            dtype=tf.float32, sequence_length=[3, 2])
        with tf.Session() as sess2:
            sess2.run(tf.global_variables_initializer())
            load(sess2, tf.global_variables(), values)
            ref = sess2.run(dyn)
    np.testing.assert_allclose(np.stack(sess.run(outputs), 1), ref, rtol=1e-5, atol=1e-7)


def test_stack_bidirectional_errors():
    x = tf.zeros([2, 3, 2])
    with pytest.raises(ValueError, match="Must specify at least one fw cell"):
        tf.contrib.rnn.stack_bidirectional_dynamic_rnn([], [rnn_cell.GRUCell(2)], x, dtype=tf.float32)
    with pytest.raises(ValueError, match="cells_fw must be a list of RNNCells"):
        tf.contrib.rnn.stack_bidirectional_dynamic_rnn((rnn_cell.GRUCell(2),), [rnn_cell.GRUCell(2)], x,
                                                       dtype=tf.float32)
    with pytest.raises(ValueError, match="Forward and Backward cells must have the same depth"):
        tf.contrib.rnn.stack_bidirectional_rnn([rnn_cell.GRUCell(2)], [rnn_cell.GRUCell(2)] * 2,
                                               tf.unstack(x, axis=1), dtype=tf.float32)
    with pytest.raises(ValueError, match="initial_states_fw must be a list of state tensors"):
        tf.contrib.rnn.stack_bidirectional_dynamic_rnn([rnn_cell.GRUCell(2)], [rnn_cell.GRUCell(2)], x,
                                                       initial_states_fw=tf.zeros([2, 2]), dtype=tf.float32)


def test_raw_rnn_emits_the_structure_the_first_loop_fn_call_declares(sess):
    """emit_output of the first call gives each emitted tensor's per-entry shape and dtype; finished entries
    emit zeros."""
    cell = rnn_cell.BasicRNNCell(2)
    lengths = tf.constant([3, 1])

    def loop_fn(time, cell_output, cell_state, loop_state):
        finished = time >= lengths
        if cell_output is None:
            emit_structure = (tf.zeros([4]), tf.zeros([], tf.int32))
            return finished, tf.ones([2, 1]), cell.zero_state(2, tf.float32), emit_structure, None
        emit = (tf.tile(cell_output, [1, 2]), tf.fill([2], time))
        return finished, tf.ones([2, 1]), cell_state, emit, None

    (wide_ta, time_ta), _, loop_state = tf.nn.raw_rnn(cell, loop_fn)
    assert loop_state is None
    sess.run(tf.global_variables_initializer())
    wide, times = sess.run([wide_ta.stack(), time_ta.stack()])
    assert wide.shape == (3, 2, 4) and wide.dtype == np.float32
    np.testing.assert_array_equal(times, [[1, 1], [2, 0], [3, 0]])
    np.testing.assert_array_equal(wide[1:, 1], 0)
    np.testing.assert_array_equal(wide[:, 0, :2], wide[:, 0, 2:])


RAW_RNN = np.load(FIXTURES / "raw_rnn.npz")


def test_raw_rnn_emits_states_loop_state_and_gradients_as_tensorflow(sess):
    """The generator's raw_rnn (GRUCell; emits 2 * output and the step number; counts steps in its loop
    state) with TF's weights."""
    f = RAW_RNN
    x_value, lengths = f["x"], f["lengths"]
    inputs = tf.constant(x_value)
    inputs_ta = tf.TensorArray(tf.float32, size=x_value.shape[0]).unstack(inputs)
    cell = rnn_cell.GRUCell(3)
    batch = x_value.shape[1]

    def loop_fn(time, cell_output, cell_state, loop_state):
        finished = time >= lengths
        next_input = tf.cond(tf.reduce_all(finished), lambda: tf.zeros([batch, x_value.shape[2]]),
                             lambda: inputs_ta.read(time))
        if cell_output is None:
            return (finished, next_input, cell.zero_state(batch, tf.float32),
                    (tf.zeros([3]), tf.zeros([], tf.int32)), tf.constant(0))
        return finished, next_input, cell_state, (2 * cell_output, tf.fill([batch], time)), loop_state + 1

    (out_ta, time_ta), state, steps = tf.nn.raw_rnn(cell, loop_fn)
    emitted = out_ta.stack()
    variables = tf.trainable_variables()
    grads = tf.gradients(tf.reduce_sum(emitted * f["w"]) + tf.reduce_sum(state * state), [inputs] + variables)
    sess.run(tf.global_variables_initializer())
    load(sess, variables, [f[f"weight_{i}"] for i in range(len(variables))])
    e, t, st, n, g = sess.run([emitted, time_ta.stack(), state, steps, grads])
    np.testing.assert_allclose(e, f["emitted"], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(t, f["times"])
    np.testing.assert_allclose(st, f["state"], rtol=1e-5, atol=1e-6)
    assert n == f["steps"]
    np.testing.assert_allclose(g[0], f["grad_x"], rtol=1e-4, atol=1e-5)
    for i, gv in enumerate(g[1:]):
        np.testing.assert_allclose(gv, f[f"grad_{i}"], rtol=1e-4, atol=1e-5)


BIDIRECTIONAL = np.load(FIXTURES / "bidirectional.npz")


@pytest.mark.parametrize("driver", ["dynamic", "static"])
def test_bidirectional_drivers_match_tensorflow(driver, sess):
    """The generator's network: a BasicLSTMCell forwards and a GRUCell backwards, with sequence lengths."""
    f = BIDIRECTIONAL
    x = tf.constant(f["x"])
    fw, bw = rnn_cell.BasicLSTMCell(3), rnn_cell.GRUCell(2)
    if driver == "dynamic":
        outputs, states = tf.nn.bidirectional_dynamic_rnn(fw, bw, x, sequence_length=f["lengths"], dtype=tf.float32)
        outputs = tf.concat(outputs, 2)
    else:
        steps, state_fw, state_bw = tf.nn.static_bidirectional_rnn(fw, bw, tf.unstack(x, axis=1),
                                                                   sequence_length=f["lengths"], dtype=tf.float32)
        outputs, states = tf.stack(steps, 1), (state_fw, state_bw)
    states = flatten(states)
    variables = tf.trainable_variables()
    assert [v.name for v in variables] == list(f[f"{driver}/names"])
    loss = tf.reduce_sum(outputs * f[f"{driver}/w"]) + tf.add_n([tf.reduce_sum(s * s) for s in states])
    grads = tf.gradients(loss, [x] + variables)
    sess.run(tf.global_variables_initializer())
    load(sess, variables, [f[f"{driver}/weight_{i}"] for i in range(len(variables))])
    out, st, g = sess.run([outputs, states, grads])
    np.testing.assert_allclose(out, f[f"{driver}/outputs"], rtol=1e-5, atol=1e-6)
    for i, s in enumerate(st):
        np.testing.assert_allclose(s, f[f"{driver}/state_{i}"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g[0], f[f"{driver}/grad_x"], rtol=1e-4, atol=1e-5)
    for i, gv in enumerate(g[1:]):
        np.testing.assert_allclose(gv, f[f"{driver}/grad_{i}"], rtol=1e-4, atol=1e-5)


def test_contrib_rnn_helpers_transpose_batch_time_and_batch_size(sess):
    x = tf.placeholder(tf.float32, [None, 4, 3])
    t = tf.contrib.rnn.transpose_batch_time(x)
    assert t.shape.as_list() == [4, None, 3]
    xv = np.arange(24, dtype=np.float32).reshape(2, 4, 3)
    np.testing.assert_array_equal(sess.run(t, {x: xv}), xv.transpose(1, 0, 2))
    assert tf.contrib.rnn.transpose_batch_time(tf.zeros([3])).shape.as_list() == [3]
    assert tf.contrib.rnn.best_effort_input_batch_size([tf.zeros([4, 5, 3])]) == 5
    dynamic = tf.contrib.rnn.best_effort_input_batch_size([t])
    assert sess.run(dynamic, {x: xv}) == 2
    with pytest.raises(ValueError, match="to have rank at least 2"):
        tf.contrib.rnn.best_effort_input_batch_size([tf.zeros([3])])
    assert tf.contrib.rnn.LayerRNNCell is tf.nn.rnn_cell.BasicLSTMCell.__mro__[1]


# ----------------------------------------------------------------------------------------------------------
# Fused cells (tf.contrib.rnn)
# ----------------------------------------------------------------------------------------------------------
LSTM_BLOCK = np.load(FIXTURES / "lstm_block.npz")


def test_lstm_block_fused_cell_matches_tensorflows_block_lstm(sess):
    f = LSTM_BLOCK
    cell = tf.contrib.rnn.LSTMBlockFusedCell(5, forget_bias=0.7, cell_clip=0.4, use_peephole=True)
    initial = (tf.constant(f["cs_prev"]), tf.constant(f["h_prev"]))
    outputs, state = cell(tf.constant(f["fused/x"]), initial_state=initial)
    lengths = [5, 2, 0]
    cut_outputs, cut_state = cell(tf.constant(f["fused/x"]), initial_state=initial, sequence_length=lengths)
    assert [v.op.name for v in cell.variables] == [
        "lstm_fused_cell/kernel", "lstm_fused_cell/bias", "lstm_fused_cell/w_i_diag", "lstm_fused_cell/w_f_diag",
        "lstm_fused_cell/w_o_diag"]
    sess.run(tf.global_variables_initializer())
    load(sess, cell.variables, [f["w"], f["b"], f["wci"], f["wcf"], f["wco"]])
    out, st, cut, cst = sess.run([outputs, state, cut_outputs, cut_state])
    np.testing.assert_allclose(out, f["fused/h"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(st.c, f["fused/cs"][-1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(st.h, f["fused/h"][-1], rtol=1e-5, atol=1e-6)
    for b, n in enumerate(lengths):
        np.testing.assert_allclose(cut[:n, b], f["fused/h"][:n, b], rtol=1e-5, atol=1e-6)
        assert not cut[n:, b].any()
        np.testing.assert_allclose(cst.c[b], f["fused/cs"][n - 1, b] if n else f["cs_prev"][b], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(cst.h[b], f["fused/h"][n - 1, b] if n else f["h_prev"][b], rtol=1e-5, atol=1e-6)


def test_lstm_block_fused_cell_takes_lists_and_says_what_is_missing(sess):
    cell = tf.contrib.rnn.LSTMBlockFusedCell(2)
    steps = [tf.ones([3, 4]) * k for k in range(3)]
    outputs, state = cell(steps, dtype=tf.float32)
    assert isinstance(outputs, list) and len(outputs) == 3 and outputs[0].shape.as_list() == [3, 2]
    sess.run(tf.global_variables_initializer())
    np.testing.assert_allclose(sess.run(outputs[-1]), sess.run(state.h), rtol=1e-6)
    with pytest.raises(ValueError, match="Either initial_state or dtype needs to be specified"):
        tf.contrib.rnn.LSTMBlockFusedCell(2)(tf.zeros([3, 1, 4]))
    with pytest.raises(ValueError, match="Expecting initial_state to be a tuple with length 2 or None"):
        tf.contrib.rnn.LSTMBlockFusedCell(2)(tf.zeros([3, 1, 4]), initial_state=(tf.zeros([1, 2]),))


@pytest.mark.parametrize("use_dynamic_rnn", [False, True])
def test_fused_rnn_cell_adaptor_and_time_reversal_run_a_cell_over_time_major_inputs(use_dynamic_rnn, sess):
    rng = np.random.RandomState(8)
    xv = rng.uniform(-1, 1, (4, 2, 3)).astype(np.float32)
    cell = rnn_cell.GRUCell(2)
    forward = tf.contrib.rnn.FusedRNNCellAdaptor(cell, use_dynamic_rnn=use_dynamic_rnn)
    backward = tf.contrib.rnn.TimeReversedFusedRNN(forward)
    with tf.variable_scope("fw"):
        out, state = forward(tf.constant(xv), dtype=tf.float32, sequence_length=[4, 3])
    with tf.variable_scope("fw", reuse=True):
        rev_out, rev_state = backward(tf.constant(xv), dtype=tf.float32, sequence_length=[4, 3])
        list_out, _ = forward(tf.unstack(tf.constant(xv)), dtype=tf.float32)
    assert len(tf.global_variables()) == 4 and isinstance(list_out, list) and len(list_out) == 4
    reversed_x = np.stack([np.concatenate([xv[:n, b][::-1], xv[n:, b]]) for b, n in enumerate([4, 3])], 1)
    with tf.variable_scope("fw", reuse=True):
        ref_out, ref_state = forward(tf.constant(reversed_x), dtype=tf.float32, sequence_length=[4, 3])
    sess.run(tf.global_variables_initializer())
    o, r, ro, rs, s = sess.run([out, rev_out, ref_out, ref_state, rev_state])
    assert o.shape == (4, 2, 2) and not o[3, 1].any()
    np.testing.assert_allclose(s, rs, rtol=1e-6)
    for b, n in enumerate([4, 3]):
        np.testing.assert_allclose(r[:n, b], ro[:n, b][::-1], rtol=1e-6)
