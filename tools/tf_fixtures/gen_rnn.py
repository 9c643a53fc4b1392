"""Record TensorFlow's recurrent networks: variable names and shapes, outputs, final states and gradients of
dynamic_rnn for each cell given fixed weights, and the loss curves of a small LSTM trained on a fixed sequence task.

Run with the TensorFlow environment: ``/work/tfenv/bin/python tools/tf_fixtures/gen_rnn.py``.
Writes small files into ``tests/fixtures/tf/rnn/``; the tests replay them without TensorFlow.
TF 2.x keeps TF1's cells in the tf_keras package (``pip install tf_keras``), selected by TF_USE_LEGACY_KERAS.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()
tf.logging.set_verbosity(tf.logging.ERROR)

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "tf" / "rnn"
BATCH, TIME, DEPTH = 3, 5, 4
LENGTHS = [5, 2, 4]

# name -> constructor of the cell (the tests build the same cells from these names).
CELLS = {
    "basic_rnn": lambda rc: rc.BasicRNNCell(6),
    "gru": lambda rc: rc.GRUCell(6),
    "basic_lstm": lambda rc: rc.BasicLSTMCell(6, forget_bias=0.5),
    "basic_lstm_concat": lambda rc: rc.BasicLSTMCell(6, state_is_tuple=False),
    "lstm_full": lambda rc: rc.LSTMCell(6, use_peepholes=True, cell_clip=0.8, num_proj=3, proj_clip=0.5),
    "lstm_concat_proj": lambda rc: rc.LSTMCell(5, num_proj=3, state_is_tuple=False),
    "multi": lambda rc: rc.MultiRNNCell([rc.BasicLSTMCell(5), rc.GRUCell(4)]),
}


def weights_for(variables, seed: int) -> list[np.ndarray]:
    rng = np.random.RandomState(seed)
    return [rng.uniform(-0.6, 0.6, size=v.shape.as_list()).astype(np.float32) for v in variables]


def record_cells() -> dict:
    """Per cell: the variables dynamic_rnn made, and with given weights the outputs, the final state and the
    gradients of a weighted sum of both with respect to the inputs and every variable."""
    rng = np.random.RandomState(0)
    x_value = rng.uniform(-1, 1, size=(BATCH, TIME, DEPTH)).astype(np.float32)
    arrays: dict[str, np.ndarray] = {"x": x_value, "lengths": np.array(LENGTHS, np.int32)}
    meta = {}
    for k, (name, make) in enumerate(CELLS.items()):
        for with_lengths in (False, True):
            key = f"{name}{'_len' if with_lengths else ''}"
            with tf.Graph().as_default():
                x = tf.placeholder(tf.float32, [BATCH, TIME, DEPTH])
                cell = make(tf.nn.rnn_cell)
                outputs, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32,
                                                   sequence_length=LENGTHS if with_lengths else None)
                flat_state = tf.nest.flatten(state)
                variables = tf.trainable_variables()
                w_rng = np.random.RandomState(100 + k)
                w_out = w_rng.uniform(-1, 1, size=outputs.shape.as_list()).astype(np.float32)
                w_state = [w_rng.uniform(-1, 1, size=s.shape.as_list()).astype(np.float32) for s in flat_state]
                loss = tf.reduce_sum(outputs * w_out) + tf.add_n(
                    [tf.reduce_sum(s * w) for s, w in zip(flat_state, w_state)])
                grads = tf.gradients(loss, [x] + variables)
                values = weights_for(variables, seed=k)
                with tf.Session() as sess:
                    sess.run(tf.global_variables_initializer())
                    for v, value in zip(variables, values):
                        v.load(value, sess)
                    out, st, g = sess.run([outputs, flat_state, grads], {x: x_value})
            meta[key] = {"variables": [v.name for v in variables],
                         "shapes": [v.shape.as_list() for v in variables],
                         "n_state": len(flat_state)}
            arrays[f"{key}/outputs"] = out
            arrays[f"{key}/w_out"] = w_out
            for i, (s, w) in enumerate(zip(st, w_state)):
                arrays[f"{key}/state_{i}"] = s
                arrays[f"{key}/w_state_{i}"] = w
            arrays[f"{key}/grad_x"] = g[0]
            for i, (value, gv) in enumerate(zip(values, g[1:])):
                arrays[f"{key}/weight_{i}"] = value
                arrays[f"{key}/grad_{i}"] = gv
    np.savez_compressed(OUT / "cells.npz", **arrays)
    return meta


def names_of(build) -> list:
    with tf.Graph().as_default():
        build()
        return [[v.name, v.shape.as_list()] for v in tf.global_variables()]


def record_names() -> dict:
    """The variables TF makes for the usual ways of building recurrent networks."""
    rc = tf.nn.rnn_cell

    def x(time_major=False):
        return tf.placeholder(tf.float32, [TIME, BATCH, DEPTH] if time_major else [BATCH, TIME, DEPTH])

    def steps():
        return tf.unstack(x(), axis=1)

    cases = {
        "dynamic_multi_lstm": lambda: tf.nn.dynamic_rnn(
            rc.MultiRNNCell([rc.BasicLSTMCell(3), rc.BasicLSTMCell(2)]), x(), dtype=tf.float32),
        "dynamic_scope": lambda: tf.nn.dynamic_rnn(rc.GRUCell(3), x(), dtype=tf.float32, scope="encoder"),
        "dynamic_named_cell": lambda: tf.nn.dynamic_rnn(rc.LSTMCell(3, name="enc"), x(), dtype=tf.float32),
        "dynamic_dropout": lambda: tf.nn.dynamic_rnn(
            rc.DropoutWrapper(rc.LSTMCell(3, use_peepholes=True), output_keep_prob=0.5), x(), dtype=tf.float32),
        "dynamic_residual_device": lambda: tf.nn.dynamic_rnn(
            rc.DeviceWrapper(rc.ResidualWrapper(rc.BasicRNNCell(DEPTH)), "/cpu:0"), x(), dtype=tf.float32),
        "bidirectional_dynamic": lambda: tf.nn.bidirectional_dynamic_rnn(
            rc.BasicLSTMCell(3), rc.GRUCell(2), x(), dtype=tf.float32),
        "static": lambda: tf.nn.static_rnn(rc.BasicLSTMCell(3), steps(), dtype=tf.float32),
        "static_bidirectional": lambda: tf.nn.static_bidirectional_rnn(
            rc.LSTMCell(3, num_proj=2), rc.BasicRNNCell(2), steps(), dtype=tf.float32),
        "two_cells_one_scope": lambda: [
            cell(tf.zeros([2, DEPTH]), cell.zero_state(2, tf.float32))
            for cell in (rc.BasicLSTMCell(3), rc.BasicLSTMCell(3))],
        "cell_reused_in_two_rnns": lambda: [
            tf.nn.dynamic_rnn(cell, x(), dtype=tf.float32) for cell in [rc.GRUCell(3)] * 2],
        "cell_called_directly": lambda: [
            rc.BasicLSTMCell(3)(tf.zeros([2, DEPTH]), rc.LSTMStateTuple(tf.zeros([2, 3]), tf.zeros([2, 3]))),
            rc.GRUCell(3)(tf.zeros([2, DEPTH]), tf.zeros([2, 3]), scope="my_gru")],
    }
    return {name: names_of(build) for name, build in cases.items()}


def record_errors() -> dict:
    """The error class and message TF gives for building networks wrongly."""
    rc = tf.nn.rnn_cell
    cases = {
        "two_new_cells_in_one_scope": lambda: [
            tf.nn.dynamic_rnn(rc.BasicLSTMCell(3), tf.zeros([BATCH, TIME, DEPTH]), dtype=tf.float32)
            for _ in range(2)],
        "no_dtype": lambda: tf.nn.dynamic_rnn(rc.GRUCell(3), tf.zeros([BATCH, TIME, DEPTH])),
        "unknown_depth": lambda: tf.nn.dynamic_rnn(rc.GRUCell(3), tf.placeholder(tf.float32, [BATCH, TIME, None]),
                                                   dtype=tf.float32),
        "sequence_length_matrix": lambda: tf.nn.dynamic_rnn(
            rc.GRUCell(3), tf.zeros([BATCH, TIME, DEPTH]), sequence_length=[[1]], dtype=tf.float32),
        "static_not_a_list": lambda: tf.nn.static_rnn(rc.GRUCell(3), tf.zeros([BATCH, DEPTH]), dtype=tf.float32),
        "static_empty": lambda: tf.nn.static_rnn(rc.GRUCell(3), [], dtype=tf.float32),
        "static_no_dtype": lambda: tf.nn.static_rnn(rc.GRUCell(3), [tf.zeros([BATCH, DEPTH])]),
        "multi_empty": lambda: rc.MultiRNNCell([]),
        "multi_not_tuple_state": lambda: rc.MultiRNNCell([rc.BasicLSTMCell(3)], state_is_tuple=False),
        "dropout_bad_prob": lambda: rc.DropoutWrapper(rc.GRUCell(3), output_keep_prob=1.5),
        "dropout_variational_no_dtype": lambda: rc.DropoutWrapper(rc.GRUCell(3), variational_recurrent=True),
        "integer_cell": lambda: rc.GRUCell(3, dtype=tf.int32),
        "not_a_cell": lambda: tf.nn.dynamic_rnn(lambda x, s: (x, s), tf.zeros([BATCH, TIME, DEPTH]),
                                                dtype=tf.float32),
    }
    out = {}
    for name, build in cases.items():
        with tf.Graph().as_default():
            try:
                build()
            except Exception as e:  # noqa: BLE001 - recording whatever TF raises
                out[name] = [type(e).__name__, re.sub(r"0x[0-9a-f]+", "0x...", str(e).split("\n")[0])]
            else:
                out[name] = None
    return out


def record_training() -> dict:
    """A BasicLSTMCell(8) and a dense read-out of the last output, trained to predict the sum of a sequence,
    with the same initial weights: the loss at each of 20 steps of GradientDescent and of Adam."""
    rng = np.random.RandomState(3)
    x_value = rng.uniform(-1, 1, size=(16, 10, 2)).astype(np.float32)
    y_value = (x_value[:, :, 0] - 0.5 * x_value[:, :, 1]).sum(axis=1, keepdims=True).astype(np.float32) / 4
    arrays = {"x": x_value, "y": y_value}
    for opt_name, make_opt in (("sgd", lambda: tf.train.GradientDescentOptimizer(0.5)),
                               ("adam", lambda: tf.train.AdamOptimizer(0.02))):
        with tf.Graph().as_default():
            x = tf.placeholder(tf.float32, [None, 10, 2])
            y = tf.placeholder(tf.float32, [None, 1])
            outputs, _ = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(8), x, dtype=tf.float32)
            w = tf.get_variable("w", [8, 1])
            b = tf.get_variable("b", [1], initializer=tf.zeros_initializer())
            pred = tf.matmul(outputs[:, -1], w) + b
            loss = tf.reduce_mean(tf.square(pred - y))
            train = make_opt().minimize(loss)
            variables = tf.trainable_variables()
            values = weights_for(variables, seed=42)
            losses = []
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                for v, value in zip(variables, values):
                    v.load(value, sess)
                for _ in range(20):
                    value, _ = sess.run([loss, train], {x: x_value, y: y_value})
                    losses.append(value)
                final = sess.run(variables)
            arrays[f"{opt_name}/losses"] = np.array(losses, np.float32)
            for i, (value, fv) in enumerate(zip(values, final)):
                arrays[f"{opt_name}/initial_{i}"] = value
                arrays[f"{opt_name}/final_{i}"] = fv
            arrays[f"{opt_name}/names"] = np.array([v.name for v in variables])
    np.savez_compressed(OUT / "training.npz", **arrays)
    return {}


def record_lstm_block() -> None:
    """TF's LSTMBlockCell, GRUBlockCell and BlockLSTM kernels (the ops of tf.contrib.rnn's block and fused cells;
    contrib itself is gone from TF 2.x) on fixed inputs, the LSTM with and without peepholes and cell clipping."""
    rng = np.random.RandomState(9)
    n = 5
    arrays = {"x": rng.uniform(-1, 1, (BATCH, DEPTH)).astype(np.float32),
              "cs_prev": rng.uniform(-1, 1, (BATCH, n)).astype(np.float32),
              "h_prev": rng.uniform(-1, 1, (BATCH, n)).astype(np.float32),
              "w": rng.uniform(-0.6, 0.6, (DEPTH + n, 4 * n)).astype(np.float32),
              "b": rng.uniform(-0.6, 0.6, (4 * n,)).astype(np.float32)}
    for name in ("wci", "wcf", "wco"):
        arrays[name] = rng.uniform(-0.6, 0.6, (n,)).astype(np.float32)
    for key, peephole, clip in (("plain", False, -1.0), ("peephole_clip", True, 0.4)):
        with tf.Graph().as_default(), tf.Session() as sess:
            outs = tf.raw_ops.LSTMBlockCell(
                x=arrays["x"], cs_prev=arrays["cs_prev"], h_prev=arrays["h_prev"], w=arrays["w"],
                wci=arrays["wci"], wcf=arrays["wcf"], wco=arrays["wco"], b=arrays["b"], forget_bias=0.7,
                cell_clip=clip, use_peephole=peephole)
            cs, h = sess.run([outs.cs, outs.h])
        arrays[f"{key}/cs"] = cs
        arrays[f"{key}/h"] = h
    gru = {"x": arrays["x"], "h_prev": arrays["h_prev"],
           "w_ru": rng.uniform(-0.6, 0.6, (DEPTH + n, 2 * n)).astype(np.float32),
           "b_ru": rng.uniform(-0.6, 0.6, (2 * n,)).astype(np.float32),
           "w_c": rng.uniform(-0.6, 0.6, (DEPTH + n, n)).astype(np.float32),
           "b_c": rng.uniform(-0.6, 0.6, (n,)).astype(np.float32)}
    with tf.Graph().as_default(), tf.Session() as sess:
        gru_h = sess.run(tf.raw_ops.GRUBlockCell(**gru).h)
    arrays.update({f"gru/{k}": v for k, v in gru.items()})
    arrays["gru/h"] = gru_h
    # BlockLSTM, the op of LSTMBlockFusedCell: the LSTM over a whole time-major sequence.
    sequence = rng.uniform(-1, 1, (TIME, BATCH, DEPTH)).astype(np.float32)
    with tf.Graph().as_default(), tf.Session() as sess:
        outs = tf.raw_ops.BlockLSTM(
            seq_len_max=np.int64(TIME), x=sequence, cs_prev=arrays["cs_prev"], h_prev=arrays["h_prev"],
            w=arrays["w"], wci=arrays["wci"], wcf=arrays["wcf"], wco=arrays["wco"], b=arrays["b"], forget_bias=0.7,
            cell_clip=0.4, use_peephole=True)
        cs, h = sess.run([outs.cs, outs.h])
    arrays.update({"fused/x": sequence, "fused/cs": cs, "fused/h": h})
    np.savez_compressed(OUT / "lstm_block.npz", **arrays)


def build_raw_rnn(x_value, lengths):
    """raw_rnn over time-major inputs with a GRUCell: emits (2 * output, time) per step, counts steps in its loop
    state (tests/ops/test_rnn.py builds the same network)."""
    inputs = tf.constant(x_value)
    inputs_ta = tf.TensorArray(tf.float32, size=x_value.shape[0]).unstack(inputs)
    cell = tf.nn.rnn_cell.GRUCell(3)
    batch = x_value.shape[1]

    def loop_fn(time, cell_output, cell_state, loop_state):
        finished = time >= lengths
        next_input = tf.cond(tf.reduce_all(finished), lambda: tf.zeros([batch, x_value.shape[2]]),
                              lambda: inputs_ta.read(time))
        if cell_output is None:
            return (finished, next_input, cell.zero_state(batch, tf.float32),
                    (tf.zeros([3]), tf.zeros([], tf.int32)), tf.constant(0))
        emit = (2 * cell_output, tf.fill([batch], time))
        return finished, next_input, cell_state, emit, loop_state + 1

    (out_ta, time_ta), state, steps = tf.nn.raw_rnn(cell, loop_fn)
    return inputs, out_ta.stack(), time_ta.stack(), state, steps


def record_raw_rnn() -> None:
    """raw_rnn's emitted values, final state, loop state and gradients, with fixed GRU weights."""
    rng = np.random.RandomState(11)
    x_value = rng.uniform(-1, 1, (TIME, BATCH, DEPTH)).astype(np.float32)
    arrays = {"x": x_value, "lengths": np.array(LENGTHS, np.int32)}
    with tf.Graph().as_default():
        inputs, emitted, times, state, steps = build_raw_rnn(x_value, LENGTHS)
        variables = tf.trainable_variables()
        values = weights_for(variables, seed=21)
        w = rng.uniform(-1, 1, emitted.shape.as_list()[1:]).astype(np.float32)
        loss = tf.reduce_sum(emitted * w) + tf.reduce_sum(state * state)
        grads = tf.gradients(loss, [inputs] + variables)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for v, value in zip(variables, values):
                v.load(value, sess)
            e, t, st, n, g = sess.run([emitted, times, state, steps, grads])
    arrays.update({"w": w, "emitted": e, "times": t, "state": st, "steps": np.array(n), "grad_x": g[0]})
    for i, (value, gv) in enumerate(zip(values, g[1:])):
        arrays[f"weight_{i}"] = value
        arrays[f"grad_{i}"] = gv
    np.savez_compressed(OUT / "raw_rnn.npz", **arrays)


def build_bidirectional(driver: str, x, lengths):
    """A BasicLSTMCell forwards and a GRUCell backwards over batch-major `x` with `lengths`, by
    bidirectional_dynamic_rnn or static_bidirectional_rnn; returns (outputs [batch, time, 5], flat states)
    (tests/ops/test_rnn.py builds the same network)."""
    rc = tf.nn.rnn_cell
    fw, bw = rc.BasicLSTMCell(3), rc.GRUCell(2)
    if driver == "dynamic":
        outputs, states = tf.nn.bidirectional_dynamic_rnn(fw, bw, x, sequence_length=lengths,
                                                           dtype=tf.float32)
        return tf.concat(outputs, 2), tf.nest.flatten(states)
    outputs, state_fw, state_bw = tf.nn.static_bidirectional_rnn(fw, bw, tf.unstack(x, axis=1),
                                                                  sequence_length=lengths, dtype=tf.float32)
    return tf.stack(outputs, 1), tf.nest.flatten((state_fw, state_bw))


def record_bidirectional() -> None:
    """Both bidirectional drivers with the same weights: outputs, final states and gradients."""
    rng = np.random.RandomState(13)
    arrays = {"x": rng.uniform(-1, 1, (BATCH, TIME, DEPTH)).astype(np.float32),
              "lengths": np.array(LENGTHS, np.int32)}
    for driver in ("dynamic", "static"):
        with tf.Graph().as_default():
            x = tf.constant(arrays["x"])
            outputs, states = build_bidirectional(driver, x, LENGTHS)
            variables = tf.trainable_variables()
            values = weights_for(variables, seed=31)
            w = np.random.RandomState(14).uniform(-1, 1, outputs.shape.as_list()).astype(np.float32)
            loss = tf.reduce_sum(outputs * w) + tf.add_n([tf.reduce_sum(s * s) for s in states])
            grads = tf.gradients(loss, [x] + variables)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                for v, value in zip(variables, values):
                    v.load(value, sess)
                out, st, g = sess.run([outputs, states, grads])
        arrays[f"{driver}/w"] = w
        arrays[f"{driver}/outputs"] = out
        arrays[f"{driver}/names"] = np.array([v.name for v in variables])
        for i, s in enumerate(st):
            arrays[f"{driver}/state_{i}"] = s
        for i, (value, gv) in enumerate(zip(values, g[1:])):
            arrays[f"{driver}/weight_{i}"] = value
            arrays[f"{driver}/grad_{i}"] = gv
        arrays[f"{driver}/grad_x"] = g[0]
    np.savez_compressed(OUT / "bidirectional.npz", **arrays)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    meta = {"cells": record_cells(), "names": record_names(), "errors": record_errors(), "batch": BATCH,
            "time": TIME, "depth": DEPTH}
    record_training()
    record_lstm_block()
    record_raw_rnn()
    record_bidirectional()
    (OUT / "rnn.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
