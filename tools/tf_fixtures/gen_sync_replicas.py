"""Records TensorFlow's behaviour for tests/train/test_sync_replicas_optimizer.py and tests/ops/test_accumulator_ops.py:
the graphs tf.train.SyncReplicasOptimizer builds, a replica's training trajectory, and ConditionalAccumulator
results and errors.

Run with the TensorFlow environment: /work/tfenv/bin/python tools/tf_fixtures/gen_sync_replicas.py
Writes into tests/fixtures/tf/sync_replicas/:
- graphs.json: for each recorded program, its nodes in creation order as [name, op type, inputs, device,
  colocation groups] (the program's source is stored beside it, so the test builds the same one with tfmini);
- trajectory.json: a single replica (replicas_to_aggregate=1) run for several steps with the chief's queue
  runner on a thread, the variables, global step and local step after each step;
- accumulator.json: ConditionalAccumulator programs (a list of runs on one session) and what each run gave: its
  values, or the error class and message.
"""

from __future__ import annotations

import json
import os
import threading
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "tf", "sync_replicas")

# The programs are Python source run with `tf` bound to TensorFlow here and to tfmini in the tests; each leaves
# `opt` (the SyncReplicasOptimizer), `train_op` and `global_step` in its namespace.
MODEL = """
global_step = tf.train.get_or_create_global_step()
x = tf.constant([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]], name="x")
y = tf.constant([[1.0], [0.0], [2.0]], name="y")
w = tf.Variable([[0.5], [-0.25]], name="w")
b = tf.Variable(0.1, name="b")
loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y), name="loss")
opt = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(0.1), replicas_to_aggregate={R},
                                     total_num_replicas={N})
train_op = opt.minimize(loss, global_step=global_step)
"""

EMBEDDING = """
global_step = tf.train.get_or_create_global_step()
emb = tf.Variable([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], name="emb")
ids = tf.constant([0, 2, 0], name="ids")
loss = tf.reduce_sum(tf.nn.embedding_lookup(emb, ids), name="loss")
opt = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(0.5), replicas_to_aggregate={R})
train_op = opt.minimize(loss, global_step=global_step)
"""

ADAM_RESOURCE = """
global_step = tf.train.get_or_create_global_step()
w = tf.get_variable("w", initializer=np.array([[1.0, 2.0], [3.0, 4.0]], np.float32), use_resource=True)
loss = tf.reduce_sum(tf.gather(w, [1, 1])) + tf.reduce_sum(w * w)
opt = tf.train.SyncReplicasOptimizer(tf.train.AdamOptimizer(0.1), replicas_to_aggregate=1)
train_op = opt.minimize(loss, global_step=global_step)
"""

GRAPHS = {
    "two_variables": MODEL.format(R=2, N=2) + "init_tokens = opt.get_init_tokens_op()\n",
    "two_variables_backup_replica": MODEL.format(R=2, N=3) + "init_tokens = opt.get_init_tokens_op(num_tokens=0)\n",
    "two_variables_on_ps": (
        "cluster = tf.train.ClusterSpec({'ps': ['ps0:2222', 'ps1:2222'], 'worker': ['w0:2222', 'w1:2222']})\n"
        "with tf.device(tf.train.replica_device_setter(cluster=cluster, worker_device='/job:worker/task:1')):\n"
        + "".join("    " + line + "\n" for line in MODEL.format(R=2, N=2).strip().splitlines())
        + "    init_tokens = opt.get_init_tokens_op()\n"),
    "embedding": EMBEDDING.format(R=2) + "init_tokens = opt.get_init_tokens_op()\n",
}


def _nodes(graph) -> list:
    out = []
    for op in graph.get_operations():
        groups = [g.decode() for g in op.colocation_groups()]
        out.append([op.name, op.type, [t.name for t in op.inputs] + ["^" + c.name for c in op.control_inputs],
                    op.device, groups])
    return out


def record_graphs() -> dict:
    out = {}
    for name, source in GRAPHS.items():
        with tf.Graph().as_default() as graph:
            exec(source, {"tf": tf})  # noqa: S102 - the recorded program, run as the test runs it
            out[name] = {"source": source, "nodes": _nodes(graph)}
    return out


def _floats(a) -> list | float:
    return np.asarray(a, np.float64).tolist()


def record_trajectory(source: str, variables: tuple) -> dict:
    """One replica aggregating one gradient per step: the first step's update is applied, the second step's
    gradient is stale (it was computed at local step 0 while the accumulators are at step 1) and is dropped,
    and from then on every step's gradient is applied."""
    steps = 5
    with tf.Graph().as_default():
        namespace = {"tf": tf, "np": np}
        exec(source, namespace)  # noqa: S102 - the recorded program
        opt, train_op, global_step = namespace["opt"], namespace["train_op"], namespace["global_step"]
        init_tokens = opt.get_init_tokens_op()
        local_step = opt._local_step
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(tf.local_variables_initializer())
            sess.run(opt.chief_init_op)
            sess.run(init_tokens)
            coord = tf.train.Coordinator()
            opt.get_chief_queue_runner().create_threads(sess, coord=coord, daemon=True, start=True)
            rows = []
            for step in range(steps):
                sess.run(train_op)
                # The first step's update is made by the queue runner after the train op returned: wait for it.
                while step == 0 and sess.run(global_step) < 1:
                    time.sleep(0.01)
                values = sess.run({name: namespace[name] for name in variables})
                gs_v, ls_v = sess.run([global_step, local_step])
                rows.append({**{k: _floats(v) for k, v in values.items()}, "global_step": int(gs_v),
                             "local_step": int(ls_v)})
            # The queue runner waits in a take: closing the session (leaving the block) cancels it.
            coord.request_stop()
    return {"source": source, "variables": list(variables), "steps": rows}


# Each program builds `acc` and named tensors/ops, then runs `runs` in order on one session (a run names what it
# fetches, with its feed values); every run's values or error are recorded.
ACCUMULATOR_PROGRAMS = {
    "mean_float": (
        "acc = tf.ConditionalAccumulator(tf.float32, shape=[2, 2])\n"
        "g = tf.placeholder(tf.float32, name='g')\n"
        "step = tf.placeholder(tf.int64, name='step')\n"
        "apply = acc.apply_grad(g, local_step=step)\n"
        "take = acc.take_grad(2)\n"
        "count = acc.num_accumulated()\n"
        "set_step = acc.set_global_step(step)\n",
        [("apply", {"g": [[1.0, 2.0], [3.0, 4.0]], "step": 0}), ("count", {}),
         ("apply", {"g": [[0.5, 0.5], [-1.0, 2.0]], "step": 0}), ("take", {}), ("count", {}),
         ("apply", {"g": [[9.0, 9.0], [9.0, 9.0]], "step": 0}), ("count", {}),
         ("apply", {"g": [[1.0, 1.0], [1.0, 1.0]], "step": 1}), ("apply", {"g": [[2.0, 0.0], [0.0, 2.0]], "step": 3}),
         ("take", {}), ("set_step", {"step": 10}), ("apply", {"g": [[1.0, 1.0], [1.0, 1.0]], "step": 9}),
         ("count", {}), ("apply", {"g": [[1.0, 2.0, 3.0]], "step": 10}), ("apply", {"g": [[1.0, 2.0, 3.0]], "step": 1}),
         ("count", {})]),
    "sum_half": (
        "acc = tf.ConditionalAccumulator(tf.float16, shape=None, reduction_type='SUM')\n"
        "g = tf.placeholder(tf.float16, name='g')\n"
        "apply = acc.apply_grad(g)\n"
        "take = acc.take_grad(2)\n"
        "count = acc.num_accumulated()\n",
        [("apply", {"g": [1.5, -2.0, 3.0]}), ("apply", {"g": [4.0, 5.25, 6.0]}), ("take", {}),
         ("apply", {"g": [1.0, 2.0]}), ("apply", {"g": [1.0, 2.0, 3.0]}), ("count", {})]),
    "int_has_no_kernel": (
        "acc = tf.ConditionalAccumulator(tf.int32, shape=[3])\n"
        "apply = acc.apply_grad([1, 2, 3])\n",
        [("apply", {})]),
    "mean_float64_unknown_dims": (
        "acc = tf.ConditionalAccumulator(tf.float64, shape=[None, 2], name='acc_f64')\n"
        "g = tf.placeholder(tf.float64, name='g')\n"
        "n = tf.placeholder(tf.int32, name='n')\n"
        "apply = acc.apply_grad(g)\n"
        "take = acc.take_grad(n)\n"
        "local = tf.placeholder(tf.int64, name='local')\n"
        "bad_step = acc.apply_grad(g, local_step=local)\n"
        "count = acc.num_accumulated()\n",
        [("apply", {"g": [[1.0, 2.0]]}), ("apply", {"g": [[3.0, 5.0], [1.0, 1.0]]}),
         ("apply", {"g": [[3.0, 5.0, 1.0]]}),
         ("take", {"n": 0}), ("take", {"n": 1}), ("apply", {"g": [[3.0, 5.0], [1.0, 1.0]]}),
         ("bad_step", {"g": [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], "local": 1}), ("take", {"n": 1}),
         ("bad_step", {"g": [[1.0, 2.0]], "local": 2}), ("count", {})]),
}


def _error(e: tf.errors.OpError) -> dict:
    """The error's class and TF's own message (TF 2.x puts the creation site before it and the node after)."""
    lines = e.message.split("\n")
    starts = [i for i, line in enumerate(lines) if line.startswith("Node: ")]
    message = lines[starts[-1] + 1] if starts else lines[0]
    return {"error": type(e).__name__, "message": message}


def record_accumulators() -> dict:
    out = {}
    for name, (source, runs) in ACCUMULATOR_PROGRAMS.items():
        with tf.Graph().as_default():
            namespace = {"tf": tf}
            exec(source, namespace)  # noqa: S102 - the recorded program
            results = []
            with tf.Session() as sess:
                for fetch, feeds in runs:
                    feed_dict = {namespace[k]: v for k, v in feeds.items()}
                    try:
                        value = sess.run(namespace[fetch], feed_dict=feed_dict)
                        results.append({"value": None if value is None else np.asarray(value).tolist(),
                                        "dtype": None if value is None else np.asarray(value).dtype.name})
                    except tf.errors.OpError as e:
                        results.append(_error(e))
            graph_ops = [[op.name, op.type] for op in tf.get_default_graph().get_operations()]
        out[name] = {"source": source, "runs": [[f, feeds] for f, feeds in runs], "results": results,
                     "ops": graph_ops}
    return out


def record_static_errors() -> dict:
    """Errors raised while building (shape checks of apply_grad, bad reduction types)."""
    cases = {
        "apply_wrong_shape": "acc = tf.ConditionalAccumulator(tf.float32, shape=[2]); acc.apply_grad([1.0, 2.0, 3.0])",
        "apply_wrong_dtype": "acc = tf.ConditionalAccumulator(tf.float32, shape=[2]); "
                             "acc.apply_grad(tf.constant([1, 2], tf.int32))",
        "bad_reduction": "tf.ConditionalAccumulator(tf.float32, reduction_type='MAX')",
        "string_dtype": "tf.ConditionalAccumulator(tf.string)",
    }
    out = {}
    for name, source in cases.items():
        with tf.Graph().as_default():
            try:
                exec(source, {"tf": tf})  # noqa: S102 - the recorded case
                out[name] = {"source": source, "error": None}
            except (ValueError, TypeError) as e:
                out[name] = {"source": source, "error": type(e).__name__, "message": str(e).split("\n")[0]}
    return out


def record_two_replicas() -> dict:
    """Two replicas in one session (one thread each), aggregating 2 gradients per step, as TF's own tests run
    them: the variables and global step after each round."""
    with tf.Graph().as_default():
        global_step = tf.train.get_or_create_global_step()
        var_0 = tf.Variable(0.0, name="v0")
        var_1 = tf.Variable(1.0, name="v1")
        train_ops, opts = [], []
        for i in range(2):
            g0, g1 = tf.constant(0.1 + 0.2 * i), tf.constant(0.9 + 0.2 * i)
            opt = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(2.0), replicas_to_aggregate=2,
                                                 total_num_replicas=2)
            train_ops.append(opt.apply_gradients(zip([g0, g1], [var_0, var_1]), global_step=global_step))
            opts.append(opt)
        init_tokens = opts[0].get_init_tokens_op()
        rows = []
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(tf.local_variables_initializer())
            sess.run(opts[0].chief_init_op)
            sess.run(init_tokens)
            coord = tf.train.Coordinator()
            opts[0].get_chief_queue_runner().create_threads(sess, coord=coord, daemon=True, start=True)
            for step in range(4):
                workers = [threading.Thread(target=sess.run, args=(op,)) for op in train_ops]
                for t in workers:
                    t.start()
                for t in workers:
                    t.join()
                while step == 0 and sess.run(global_step) < 1:
                    time.sleep(0.01)
                rows.append([float(v) for v in sess.run([var_0, var_1])] + [int(sess.run(global_step))])
            # The queue runner waits in a take: closing the session (leaving the block) cancels it.
            coord.request_stop()
    return {"rounds": rows}


def _graphs_json(graphs: dict) -> str:
    """The recorded graphs as JSON with one node a line."""
    parts = []
    for name, graph in graphs.items():
        nodes = ",\n".join("  " + json.dumps(node) for node in graph["nodes"])
        parts.append(f'{json.dumps(name)}: {{"source": {json.dumps(graph["source"])}, "nodes": [\n{nodes}]}}')
    return "{\n" + ",\n".join(parts) + "\n}\n"


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "graphs.json"), "w") as f:
        f.write(_graphs_json(record_graphs()))
    with open(os.path.join(OUT, "trajectory.json"), "w") as f:
        json.dump({"one_replica": record_trajectory(MODEL.format(R=1, N=1), ("w", "b")),
                   "one_replica_embedding": record_trajectory(EMBEDDING.format(R=1), ("emb",)),
                   "one_replica_adam_resource": record_trajectory(ADAM_RESOURCE, ("w",)),
                   "two_replicas": record_two_replicas()}, f, indent=1)
    with open(os.path.join(OUT, "accumulator.json"), "w") as f:
        json.dump({"programs": record_accumulators(), "static_errors": record_static_errors()}, f, indent=1)
    print("written to", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
