"""Record GraphDefs TensorFlow writes with resource variables and TF2 control flow, for tfmini to import and
replay.

Run with the TensorFlow environment: ``/work/tfenv/bin/python tools/tf_fixtures/gen_resource_vars.py``.
TensorFlow 2.21's ``tf.compat.v1`` with ``enable_resource_variables()`` and ``enable_control_flow_v2()``.
Writes into ``tests/fixtures/tf/resource_vars/``, per case, ``<case>.pb`` (the GraphDef, with an ``init`` op)
and ``<case>.npz`` (the feeds and what TensorFlow computed), and ``cases.json`` saying, per case, the feeds,
the fetches of each step, the ops run by each step and the number of steps. Variables start from constants,
so the numbers do not depend on TensorFlow's random generators.

Cases:
- ``mlp_<optimizer>``: a two-layer network with an embedding (ResourceGather: sparse gradients), trained by
  each optimizer tfmini has (ResourceApply* and ResourceSparseApply*, ResourceScatterAdd for Adam and plain
  gradient descent): losses for 4 steps, then every variable;
- ``cond_read``: tf.cond reading a resource variable captured into both branches (If, resource input);
- ``cond_stateless``: tf.cond on plain tensors (StatelessIf);
- ``while_read``: a loop reading a captured resource variable (While, resource loop variable);
- ``while_stateless``: a loop on plain tensors with a captured tensor (StatelessWhile);
- ``while_assign``: a loop whose body adds to a resource variable (a stateful While), run twice;
- ``cond_grad``: the gradient of a tf.cond output with respect to resource variables (TF's If gradient, whose
  forward If outputs its intermediates), trained by gradient descent;
- ``while_grad``: a loop trained through (TF's while_v2 gradient: the forward loop pushes its intermediates to
  TensorLists, the gradient loop pops them);
- ``tensor_array_loop``: TensorArrays read and written in a loop (TensorListFromTensor, TensorListGetItem,
  TensorListSetItem, TensorListStack under control flow v2).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()
tf.enable_resource_variables()
tf.enable_control_flow_v2()

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "tf" / "resource_vars"

RNG = np.random.RandomState(7)
X = RNG.randn(6, 3).astype(np.float32)
IDS = np.array([0, 2, 2, 1, 3, 0], np.int32)
Y = RNG.randn(6, 2).astype(np.float32)
W1 = (RNG.randn(3, 4) * 0.5).astype(np.float32)
B1 = np.zeros(4, np.float32) + 0.1
EMB = (RNG.randn(4, 4) * 0.5).astype(np.float32)
W2 = (RNG.randn(4, 2) * 0.5).astype(np.float32)

OPTIMIZERS = {
    "gd": lambda: tf.train.GradientDescentOptimizer(0.1),
    "momentum": lambda: tf.train.MomentumOptimizer(0.1, 0.9),
    "nesterov": lambda: tf.train.MomentumOptimizer(0.1, 0.9, use_nesterov=True),
    "adam": lambda: tf.train.AdamOptimizer(0.05),
    "adagrad": lambda: tf.train.AdagradOptimizer(0.1),
    "adadelta": lambda: tf.train.AdadeltaOptimizer(1.0),
    "rmsprop": lambda: tf.train.RMSPropOptimizer(0.01, momentum=0.5),
    "centered_rmsprop": lambda: tf.train.RMSPropOptimizer(0.01, momentum=0.5, centered=True),
}


def _save(cases: dict, name: str, graph: tf.Graph, meta: dict, arrays: dict) -> None:
    (OUT / f"{name}.pb").write_bytes(graph.as_graph_def().SerializeToString())
    np.savez(OUT / f"{name}.npz", **arrays)
    cases[name] = meta


def _run_steps(graph, meta: dict, feeds: dict) -> dict:
    """Runs `init`, then each step's fetches and ops; returns the fetched values as `step<k>_<i>` arrays."""
    out = {}
    with tf.Session(graph=graph) as sess:
        sess.run("init")
        feed = {graph.get_tensor_by_name(k): v for k, v in feeds.items()}
        for k in range(meta["steps"]):
            values = sess.run(meta["fetches"] + meta["run"], feed)
            for i, v in enumerate(values[:len(meta["fetches"])]):
                out[f"step{k}_{i}"] = np.asarray(v)
        for i, v in enumerate(sess.run(meta["final"], feed)):
            out[f"final_{i}"] = np.asarray(v)
    return out


def mlp_cases(cases: dict) -> None:
    for opt_name, make in OPTIMIZERS.items():
        graph = tf.Graph()
        with graph.as_default():
            x = tf.placeholder(tf.float32, [None, 3], name="x")
            ids = tf.placeholder(tf.int32, [None], name="ids")
            y = tf.placeholder(tf.float32, [None, 2], name="y")
            w1 = tf.get_variable("w1", initializer=tf.constant(W1))
            b1 = tf.get_variable("b1", initializer=tf.constant(B1))
            emb = tf.get_variable("emb", initializer=tf.constant(EMB))
            w2 = tf.Variable(W2, name="w2")
            hidden = tf.nn.relu(tf.matmul(x, w1) + b1 + tf.nn.embedding_lookup(emb, ids))
            loss = tf.reduce_mean(tf.square(tf.matmul(hidden, w2) - y), name="loss")
            train = make().minimize(loss, name="train")
            tf.global_variables_initializer()
        assert train.name == "train"
        variables = ["w1", "b1", "emb", "w2"]
        meta = {"feeds": ["x:0", "ids:0", "y:0"], "fetches": ["loss:0"], "run": ["train"], "steps": 4,
                "final": [f"{v}/Read/ReadVariableOp:0" for v in variables] + ["loss:0"]}
        feeds = {"x:0": X, "ids:0": IDS, "y:0": Y}
        arrays = {f"feed_{i}": v for i, v in enumerate(feeds.values())}
        arrays.update(_run_steps(graph, meta, feeds))
        _save(cases, f"mlp_{opt_name}", graph, meta, arrays)


def control_flow_cases(cases: dict) -> None:
    def case(name, build, feeds_list, steps=1):
        graph = tf.Graph()
        with graph.as_default():
            fetches, run = build()
            tf.global_variables_initializer()
        meta = {"feeds": list(feeds_list[0]), "fetches": fetches, "run": run, "steps": steps, "final": fetches,
                "variants": len(feeds_list)}
        arrays = {}
        for j, feeds in enumerate(feeds_list):
            for i, v in enumerate(feeds.values()):
                arrays[f"v{j}_feed_{i}"] = v
            for key, v in _run_steps(graph, meta, feeds).items():
                arrays[f"v{j}_{key}"] = v
        _save(cases, name, graph, meta, arrays)
        return graph

    def cond_read():
        v = tf.Variable([1.0, 2.0, 3.0], name="v")
        x = tf.placeholder(tf.float32, [3], name="x")
        out = tf.cond(tf.reduce_sum(x) > 0, lambda: x * v, lambda: x - v, name="cond")
        return [out.name], []

    def cond_stateless():
        x = tf.placeholder(tf.float32, [2], name="x")
        k = tf.constant([2.0, -1.0], name="k")
        out = tf.cond(x[0] > x[1], lambda: tf.square(x) + k, lambda: x * k, name="cond")
        return [out.name], []

    def while_read():
        v = tf.Variable([0.5, -1.0], name="v")
        x = tf.placeholder(tf.float32, [2], name="x")
        _, acc = tf.while_loop(lambda i, a: i < 4, lambda i, a: (i + 1, a * 0.5 + v * x),
                               [tf.constant(0), tf.zeros([2])], name="loop")
        return [acc.name], []

    def while_stateless():
        n = tf.placeholder(tf.int32, [], name="n")
        step = tf.constant(3, name="step")
        i, total = tf.while_loop(lambda i, t: i < n, lambda i, t: (i + 1, t + i * step),
                                 [tf.constant(0), tf.constant(0)], name="loop")
        return [i.name, total.name], []

    def while_assign():
        v = tf.Variable(1.0, name="v")
        n = tf.placeholder(tf.int32, [], name="n")

        def body(i):
            with tf.control_dependencies([v.assign_add(tf.cast(i, tf.float32))]):
                return i + 1

        i = tf.while_loop(lambda i: i < n, body, [tf.constant(0)], name="loop")
        with tf.control_dependencies([i]):
            after = v.read_value()
        return [after.name], []

    def cond_grad():
        a = tf.Variable([1.0, -2.0], name="a")
        b = tf.Variable(0.5, name="b")
        x = tf.placeholder(tf.float32, [2], name="x")
        out = tf.cond(tf.reduce_sum(x) > 0, lambda: tf.reduce_sum(tf.sin(a * x)) * b,
                      lambda: tf.reduce_sum(a * a) + b, name="cond")
        opt = tf.train.GradientDescentOptimizer(0.1)
        grads_and_vars = opt.compute_gradients(out, [a, b])
        train = opt.apply_gradients(grads_and_vars, name="train")
        return [out.name] + [g.name for g, _ in grads_and_vars], [train.name]

    def while_grad():
        v = tf.Variable([0.5, -1.0], name="v")
        x = tf.placeholder(tf.float32, [2], name="x")
        _, acc = tf.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, tf.tanh(a * v + x)), [0, x], name="loop")
        loss = tf.reduce_sum(acc, name="loss")
        opt = tf.train.GradientDescentOptimizer(0.1)
        grads_and_vars = opt.compute_gradients(loss, [v])
        train = opt.apply_gradients(grads_and_vars, name="train")
        return [loss.name, grads_and_vars[0][0].name], [train.name]

    def tensor_array_loop():
        x = tf.placeholder(tf.float32, [4, 2], name="x")
        inputs = tf.TensorArray(tf.float32, size=4).unstack(x)
        out = tf.TensorArray(tf.float32, size=4)

        def body(i, total, out):
            row = inputs.read(i)
            return i + 1, total + row, out.write(i, total + row)

        _, total, out = tf.while_loop(lambda i, t, o: i < 4, body, [0, tf.zeros([2]), out], name="loop")
        return [total.name, out.stack().name], []

    case("cond_read", cond_read, [{"x:0": np.array([1.0, 2.0, 0.5], np.float32)},
                                  {"x:0": np.array([-1.0, -2.0, 0.5], np.float32)}])
    case("cond_stateless", cond_stateless, [{"x:0": np.array([3.0, 1.0], np.float32)},
                                            {"x:0": np.array([1.0, 3.0], np.float32)}])
    case("while_read", while_read, [{"x:0": np.array([2.0, 4.0], np.float32)}])
    case("while_stateless", while_stateless, [{"n:0": np.int32(5)}, {"n:0": np.int32(0)}])
    case("while_assign", while_assign, [{"n:0": np.int32(4)}], steps=2)
    case("while_grad", while_grad, [{"x:0": np.array([1.0, 2.0], np.float32)}], steps=3)
    case("tensor_array_loop", tensor_array_loop, [{"x:0": np.arange(8, dtype=np.float32).reshape(4, 2)}])
    case("cond_grad", cond_grad, [{"x:0": np.array([0.5, 1.0], np.float32)},
                                  {"x:0": np.array([-0.5, -1.0], np.float32)}], steps=3)


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    cases: dict = {}
    mlp_cases(cases)
    control_flow_cases(cases)
    (OUT / "cases.json").write_text(json.dumps({"tensorflow": tf.__version__, "cases": cases}, indent=1,
                                               sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
