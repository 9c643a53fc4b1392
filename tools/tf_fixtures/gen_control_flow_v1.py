"""Record TensorFlow graphs built with TF1 dataflow control flow (Switch, Merge, Enter, Exit, NextIteration,
LoopCond): conds, while loops (nested, with conds inside and inside conds, with loop-invariant captures, with
maximum_iterations), tf.case, a TF1 Defun holding a cond and a loop, a frozen dynamic_rnn LSTM and a training
graph whose gradient runs back through a while loop, each with its inputs and TensorFlow's outputs.

Run with the TensorFlow environment: ``/work/tfenv/bin/python tools/tf_fixtures/gen_control_flow_v1.py``.
Writes ``<case>.pb`` (the GraphDef) and ``<case>.npz`` (feeds and TensorFlow's values, keyed ``feed<k>/<name>``
and ``fetch<k>/<name>`` for run k) per case, and ``cases.json`` (per case: the runs' feed and fetch tensor names)
into ``tests/fixtures/tf/control_flow_v1/``, and a meta graph with its checkpoint into ``graph_meta/`` there; the
tests import each GraphDef into tfmini, run it and compare.
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
from tensorflow.python.framework import function  # noqa: E402  (TF1's Defun)

tf.disable_v2_behavior()
tf.disable_control_flow_v2()

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "tf" / "control_flow_v1"
RNG = np.random.RandomState(7)


def _f32(*shape) -> np.ndarray:
    return RNG.uniform(-1, 1, shape).astype(np.float32)


def case_cond():
    x = tf.placeholder(tf.float32, [3], name="x")
    pred = tf.reduce_sum(x) > 0.0
    y = tf.cond(pred, lambda: tf.sin(x) * 2.0, lambda: x - 1.0)
    a, b = tf.cond(pred, lambda: (x + 1.0, tf.constant(1)), lambda: (x * x, tf.constant(2)), name="pair")
    return [y, a, b], [{x: np.array([1.0, 2.0, -0.5], np.float32)}, {x: np.array([-1.0, 0.2, -0.5], np.float32)}]


def case_while():
    x = tf.placeholder(tf.float32, [2], name="x")
    n = tf.placeholder(tf.int32, [], name="n")
    i, acc = tf.while_loop(lambda i, acc: i < n, lambda i, acc: (i + 1, acc * x + 1.0),
                           [tf.constant(0), tf.zeros([2])])
    return [i, acc, acc * 2.0], [{x: _f32(2), n: 5}, {x: _f32(2), n: 0}]


def case_nested_while():
    x = tf.placeholder(tf.float32, [], name="x")

    def outer_body(i, total):
        def inner_body(j, s):
            return j + 1, s + tf.cast(j, tf.float32) * x
        _, s = tf.while_loop(lambda j, s: j < i, inner_body, [tf.constant(0), tf.constant(0.0)])
        return i + 1, total + s

    i, total = tf.while_loop(lambda i, t: i < 4, outer_body, [tf.constant(0), tf.constant(0.0)])
    return [i, total], [{x: np.float32(1.5)}]


def case_cond_in_while():
    x = tf.placeholder(tf.float32, [3], name="x")

    def body(i, v):
        v = tf.cond(tf.equal(i % 2, 0), lambda: v * 2.0, lambda: v - x)
        return i + 1, v

    _, v = tf.while_loop(lambda i, v: i < 5, body, [tf.constant(0), x])
    return [v], [{x: _f32(3)}]


def case_while_in_cond():
    x = tf.placeholder(tf.float32, [], name="x")

    def looping():
        _, r = tf.while_loop(lambda k, r: k < 3, lambda k, r: (k + 1, r * x), [tf.constant(0), tf.constant(1.0)])
        return r

    y = tf.cond(x > 0.0, looping, lambda: -x)
    return [y], [{x: np.float32(1.7)}, {x: np.float32(-2.0)}]


def case_case():
    k = tf.placeholder(tf.int32, [], name="k")
    x = tf.placeholder(tf.float32, [2], name="x")
    y = tf.case([(tf.equal(k, 0), lambda: x + 10.0), (tf.equal(k, 1), lambda: x * 3.0)],
                default=lambda: tf.negative(x))
    return [y], [{k: 0, x: _f32(2)}, {k: 1, x: _f32(2)}, {k: 2, x: _f32(2)}]


def case_invariants():
    x = tf.placeholder(tf.float32, [4, 3], name="x")
    w = tf.constant(_f32(3, 3), name="w")
    b = tf.constant(_f32(3), name="b")
    _, h = tf.while_loop(lambda i, h: i < 3, lambda i, h: (i + 1, tf.tanh(tf.matmul(h, w) + b)), [0, x])
    return [h], [{x: _f32(4, 3)}]


def case_max_iterations():
    x = tf.placeholder(tf.float32, [], name="x")
    r = tf.while_loop(lambda v: v < 1000.0, lambda v: v * 2.0, [x], maximum_iterations=4)
    return [r], [{x: np.float32(1.25)}, {x: np.float32(900.0)}]


def case_defun():
    """A TF1 Defun whose body holds a cond and a loop: the control flow sits in the function library."""
    @function.Defun(tf.float32)
    def fn(x):
        y = tf.cond(tf.reduce_sum(x) > 0.0, lambda: x * 2.0, lambda: x - 1.0)
        _, z = tf.while_loop(lambda i, z: i < 3, lambda i, z: (i + 1, z + y), [0, y])
        return z

    x = tf.placeholder(tf.float32, [2], name="x")
    out = tf.identity(fn(x), name="out")
    return [out], [{x: np.array([1.0, 2.0], np.float32)}, {x: np.array([-1.0, 0.5], np.float32)}]


def case_dynamic_rnn():
    x = tf.placeholder(tf.float32, [2, 5, 3], name="x")
    lengths = tf.placeholder(tf.int32, [2], name="lengths")
    tf.set_random_seed(3)
    cell = tf.nn.rnn_cell.LSTMCell(4)
    outputs, state = tf.nn.dynamic_rnn(cell, x, sequence_length=lengths, dtype=tf.float32)
    outputs = tf.identity(outputs, name="outputs")
    c = tf.identity(state.c, name="state_c")
    h = tf.identity(state.h, name="state_h")
    return [outputs, c, h], [{x: _f32(2, 5, 3), lengths: np.array([5, 3], np.int32)}]


def case_while_gradient():
    x = tf.placeholder(tf.float32, [3], name="x")
    w = tf.Variable(np.array([0.5, -0.3, 0.8], np.float32), name="w")
    _, y = tf.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, tf.sin(y * w)), [0, x])
    loss = tf.reduce_sum(y * y, name="loss")
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, name="train")
    return [y, loss], [{x: _f32(3)}], train


CASES = {name[5:]: fn for name, fn in sorted(globals().items()) if name.startswith("case_")}
FROZEN = {"dynamic_rnn"}


def record(name, fn) -> dict:
    graph = tf.Graph()
    with graph.as_default():
        built = fn()
        fetches, runs = built[0], built[1]
        train = built[2] if len(built) > 2 else None
        arrays, entry = {}, {"runs": [], "fetches": [t.name for t in fetches]}
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            graph_def = graph.as_graph_def()
            if name in FROZEN:
                graph_def = tf.graph_util.convert_variables_to_constants(
                    sess, graph_def, [t.op.name for t in fetches])
            for k, feeds in enumerate(runs):
                values = sess.run(fetches, feeds)
                entry["runs"].append({"feeds": [t.name for t in feeds]})
                for t, v in feeds.items():
                    arrays[f"feed{k}/{t.name}"] = np.asarray(v)
                for t, v in zip(fetches, values):
                    arrays[f"fetch{k}/{t.name}"] = np.asarray(v)
            if train is not None:
                # The training graph: losses of three steps from the initial weights, and the train op's name.
                feeds = runs[0]
                losses = []
                for _ in range(3):
                    losses.append(sess.run(fetches[-1], feeds))
                    sess.run(train, feeds)
                arrays["train_losses"] = np.asarray(losses, np.float32)
                entry["train"] = train.name
    (OUT / f"{name}.pb").write_bytes(graph_def.SerializeToString(deterministic=True))
    np.savez(OUT / f"{name}.npz", **arrays)
    return entry


def record_meta_graph() -> None:
    """A meta graph and V2 checkpoint of a loop over a variable followed by a cond (graph_meta/): what a TF1
    training program saves; its `outputs` collection holds the cond's output, values.npz feed and value."""
    out = OUT / "graph_meta"
    out.mkdir(exist_ok=True)
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [2], name="x")
        w = tf.Variable(np.array([0.5, 2.0], np.float32), name="w")
        _, y = tf.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, y * w), [0, x])
        z = tf.cond(tf.reduce_sum(y) > 0.0, lambda: y + 1.0, lambda: y - 1.0, name="c")
        tf.add_to_collection("outputs", z)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            # The checkpoint holds other weights than the initial ones, so a restore is needed to match.
            sess.run(w.assign([1.5, -0.5]))
            x_value = np.array([1.0, 2.0], np.float32)
            np.savez(out / "values.npz", x=x_value, z=sess.run(z, {x: x_value}))
            tf.train.Saver().save(sess, str(out / "model"), write_state=False)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    record_meta_graph()
    cases = {name: record(name, fn) for name, fn in CASES.items()}
    (OUT / "cases.json").write_text(json.dumps(cases, indent=1, sort_keys=True) + "\n")
    op_types = {}
    for name in cases:
        gd = tf.GraphDef.FromString((OUT / f"{name}.pb").read_bytes())
        op_types[name] = sorted({n.op for n in gd.node})
    print(json.dumps(op_types))


if __name__ == "__main__":
    main()
