"""Record TF1 training graphs whose gradients run back through dataflow while loops (the backward loop pops
the forward values from StackV2 stacks the forward loop pushed): a hand-written recurrent loss over a sequence
in a `tf.while_loop`, an LSTM `dynamic_rnn` (TensorArrays in the loop) with a dense head, and an input projection
trained through an LSTM whose weights stay fixed (whose frozen GraphDef is recorded too), each trained by gradient
descent for a few steps from constant initial weights.

Run with the TensorFlow environment: ``/work/tfenv/bin/python tools/tf_fixtures/gen_control_flow_v1_training.py``.
Writes into ``tests/fixtures/tf/control_flow_v1_training/``: ``<case>.pb`` (the GraphDef), ``<case>.npz`` (the
feeds ``feed/<tensor>``, the loss before each step ``losses``, the gradients at the initial weights
``grad/<variable>``, the variables after training ``final/<variable>`` and a case's own arrays), a case's extra
GraphDefs (``frozen_lstm.pb``) and ``cases.json`` (per case: feed,
loss, train op, init op, variable and gradient tensor names, and the op types in the graph).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# TF 2.x keeps TF1's RNN cells in the tf_keras package.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()
tf.disable_control_flow_v2()

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "tf" / "control_flow_v1_training"
RNG = np.random.RandomState(11)
STEPS = 4


def _f32(*shape, scale: float = 1.0) -> np.ndarray:
    return (RNG.uniform(-1, 1, shape) * scale).astype(np.float32)


def case_sequence_loss():
    """h_t = tanh(x_t W + h_{t-1} U), loss = sum_t |h_t V - y_t|^2 / T, accumulated in a while loop."""
    x = tf.placeholder(tf.float32, [6, 3], name="x")
    y = tf.placeholder(tf.float32, [6, 2], name="y")
    w = tf.Variable(_f32(3, 4, scale=0.5), name="w")
    u = tf.Variable(_f32(4, 4, scale=0.5), name="u")
    v = tf.Variable(_f32(4, 2, scale=0.5), name="v")
    steps = tf.shape(x)[0]

    def body(t, h, total):
        x_t = tf.expand_dims(tf.gather(x, t), 0)
        h = tf.tanh(tf.matmul(x_t, w) + tf.matmul(h, u))
        err = tf.matmul(h, v) - tf.expand_dims(tf.gather(y, t), 0)
        return t + 1, h, total + tf.reduce_sum(tf.square(err))

    _, _, total = tf.while_loop(lambda t, h, total: t < steps, body,
                                [tf.constant(0), tf.zeros([1, 4]), tf.constant(0.0)])
    loss = tf.identity(total / tf.cast(steps, tf.float32), name="loss")
    train = tf.train.GradientDescentOptimizer(0.3).minimize(loss, name="train")
    return loss, train, {x: _f32(6, 3), y: _f32(6, 2)}


def case_dynamic_rnn_training():
    """An LSTM over padded sequences of two lengths, a dense head on its outputs, mean squared error."""
    x = tf.placeholder(tf.float32, [3, 5, 2], name="x")
    lengths = tf.placeholder(tf.int32, [3], name="lengths")
    target = tf.placeholder(tf.float32, [3, 5, 1], name="target")
    cell = tf.nn.rnn_cell.LSTMCell(4, initializer=tf.constant_initializer(_f32(6, 16, scale=0.4)))
    outputs, _ = tf.nn.dynamic_rnn(cell, x, sequence_length=lengths, dtype=tf.float32)
    head = tf.Variable(_f32(4, 1), name="head")
    pred = tf.tensordot(outputs, head, axes=1)
    loss = tf.losses.mean_squared_error(target, pred)
    loss = tf.identity(loss, name="loss")
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss, name="train")
    return loss, train, {x: _f32(3, 5, 2), lengths: np.array([5, 3, 1], np.int32), target: _f32(3, 5, 1)}


def case_cond_in_loop():
    """A loop whose body takes one of two branches per step (the backward loop pops each step's predicate),
    stopped by maximum_iterations, with the state kept in host memory between the passes (swap_memory)."""
    x = tf.placeholder(tf.float32, [5, 3], name="x")
    w = tf.Variable(_f32(3, 3, scale=0.6), name="w")
    b = tf.Variable(_f32(3, scale=0.3), name="b")

    def body(t, h):
        x_t = tf.gather(x, t)
        pre = tf.reshape(tf.matmul(tf.expand_dims(h + x_t, 0), w), [3]) + b
        h = tf.cond(tf.reduce_sum(x_t) > 0.0, lambda: tf.tanh(pre), lambda: tf.sigmoid(pre) * h)
        return [t + 1, h]

    _, h = tf.while_loop(lambda t, h: t < 100, body, [tf.constant(0), tf.ones([3])], maximum_iterations=5,
                         swap_memory=True)
    loss = tf.identity(tf.reduce_sum(tf.square(h - 0.5)), name="loss")
    train = tf.train.MomentumOptimizer(0.2, 0.9).minimize(loss, name="train")
    return loss, train, {x: _f32(5, 3)}


def _cond_training(shift: float):
    """No loop: a tf.cond on the data picks one of two heads (TF's gradient is a cond on the same predicate
    whose branches read the forward branches' tensors), trained by Adam; `shift` moves the inputs' mean to
    take one branch or the other."""
    x = tf.placeholder(tf.float32, [4, 3], name="x")
    w = tf.Variable(_f32(3, 2), name="w")
    v = tf.Variable(_f32(3, 2), name="v")
    out = tf.cond(tf.reduce_mean(x) > 0.0, lambda: tf.matmul(x, w), lambda: tf.tanh(tf.matmul(x, v)) * 2.0)
    loss = tf.identity(tf.reduce_mean(tf.square(out - 1.0)), name="loss")
    train = tf.train.AdamOptimizer(0.05).minimize(loss, name="train")
    return loss, train, {x: _f32(4, 3) + shift}


def case_cond_training_false_branch():
    return _cond_training(-0.6)


def case_cond_training_true_branch():
    return _cond_training(0.6)


def case_nested_loops():
    """A loop inside a loop, both reading the weights: the inner backward loop pops values the inner forward
    loop pushed on every outer iteration."""
    x = tf.placeholder(tf.float32, [3], name="x")
    w = tf.Variable(_f32(3, scale=0.8), name="w")
    a = tf.Variable(np.float32(0.7), name="a")

    def outer(i, y):
        _, y = tf.while_loop(lambda j, z: j < i + 1, lambda j, z: (j + 1, tf.sin(z * w) + a * z), [0, y])
        return i + 1, y * a

    _, y = tf.while_loop(lambda i, y: i < 3, outer, [0, x])
    loss = tf.identity(tf.reduce_sum(tf.square(y - 0.3)), name="loss")
    train = tf.train.GradientDescentOptimizer(0.05).minimize(loss, name="train")
    return loss, train, {x: _f32(3)}


def _lstm(inputs, lengths, kernel: np.ndarray):
    cell = tf.nn.rnn_cell.LSTMCell(4, initializer=tf.constant_initializer(kernel))
    outputs, _ = tf.nn.dynamic_rnn(cell, inputs, sequence_length=lengths, dtype=tf.float32)
    return outputs


def case_frozen_dynamic_rnn():
    """A trainable input projection in front of an LSTM whose weights stay fixed. TensorFlow trains it here
    (its training graph is this case's GraphDef); the same LSTM frozen on its own (convert_variables_to_constants,
    ``frozen_lstm.pb``: x, lengths -> outputs) is what the tests import and train the projection through with
    tfmini's own gradients, to TensorFlow's losses."""
    kernel, proj_init = _f32(6, 16, scale=0.6), _f32(2, 2) + np.eye(2, dtype=np.float32)
    frozen_graph = tf.Graph()
    with frozen_graph.as_default():
        x = tf.placeholder(tf.float32, [3, 5, 2], name="x")
        lengths = tf.placeholder(tf.int32, [3], name="lengths")
        tf.identity(_lstm(x, lengths, kernel), name="outputs")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            frozen = tf.graph_util.convert_variables_to_constants(sess, frozen_graph.as_graph_def(), ["outputs"])
    x = tf.placeholder(tf.float32, [3, 5, 2], name="x")
    lengths = tf.placeholder(tf.int32, [3], name="lengths")
    target = tf.placeholder(tf.float32, [3, 5, 4], name="target")
    proj = tf.Variable(proj_init, name="proj")
    projected = tf.reshape(tf.matmul(tf.reshape(x, [15, 2]), proj), [3, 5, 2])
    outputs = _lstm(projected, lengths, kernel)
    loss = tf.identity(tf.reduce_mean(tf.square(outputs - target)), name="loss")
    train = tf.train.GradientDescentOptimizer(2.0).minimize(loss, var_list=[proj], name="train")
    feeds = {x: _f32(3, 5, 2), lengths: np.array([5, 2, 4], np.int32), target: _f32(3, 5, 4, scale=0.5)}
    extra = {"files": {"frozen_lstm.pb": frozen}, "arrays": {"init/proj": proj_init},
             "entry": {"learning_rate": 2.0, "trained": ["proj"]}}
    return loss, train, feeds, extra


CASES = {name[5:]: fn for name, fn in sorted(globals().items()) if name.startswith("case_")}


def record(name, fn) -> dict:
    graph = tf.Graph()
    with graph.as_default():
        loss, train, feeds, *rest = fn()
        extra = rest[0] if rest else {}
        variables = tf.trainable_variables()
        grads = tf.gradients(loss, variables)
        init = tf.global_variables_initializer()
        arrays = {f"feed/{t.name}": np.asarray(v) for t, v in feeds.items()}
        arrays.update(extra.get("arrays", {}))
        with tf.Session() as sess:
            sess.run(init)
            for var, g in zip(variables, sess.run(grads, feeds)):
                arrays[f"grad/{var.op.name}"] = np.asarray(g)
            losses = []
            for _ in range(STEPS):
                losses.append(sess.run(loss, feeds))
                sess.run(train, feeds)
            arrays["losses"] = np.asarray(losses, np.float32)
            for var, value in zip(variables, sess.run(variables)):
                arrays[f"final/{var.op.name}"] = value
        graph_def = graph.as_graph_def()
    (OUT / f"{name}.pb").write_bytes(graph_def.SerializeToString(deterministic=True))
    np.savez(OUT / f"{name}.npz", **arrays)
    for file_name, extra_graph_def in extra.get("files", {}).items():
        (OUT / file_name).write_bytes(extra_graph_def.SerializeToString(deterministic=True))
    return {**extra.get("entry", {}), "feeds": [t.name for t in feeds], "loss": loss.name, "train": train.name,
            "init": init.name, "variables": [v.op.name for v in variables], "gradients": [g.name for g in grads],
            "op_types": sorted({n.op for n in graph_def.node})}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    cases = {name: record(name, fn) for name, fn in CASES.items()}
    (OUT / "cases.json").write_text(json.dumps(cases, indent=1, sort_keys=True) + "\n")
    for name, entry in cases.items():
        print(name, entry["op_types"])


if __name__ == "__main__":
    main()
