"""Records more GraphDefs written by real TensorFlow, with the values TensorFlow computed from them, for
tests/framework/test_tf_graphs_more.py: graphs calling tf.functions (StatefulPartitionedCall, and the
PartitionedCall of their gradient; functions run for their effects), TF1 Defun calls (and a SymbolicGradient
of one), a one-shot tf.data iterator (OneShotIterator with its dataset_factory function), a tf.keras model with
an LSTM and tf.layers with batch normalization trained in TF1 graphs, a control-flow-v2 loop over TensorArrays
trained through (its gradient adds TensorLists with AddN), tf.nn.embedding_lookup_sparse trained through TF 2.x's
SparseSegment*GradV2 gradients, TF1 conds and loops that assign reference variables
(RefSwitch, RefMerge, RefEnter), and a SavedModel written by TensorFlow 2's tf.saved_model.save
(tf2_saved_model/, with the input and output of its serving signature in tf2_saved_model.npz).

Run with the TensorFlow environment: /work/tfenv/bin/python tools/tf_fixtures/gen_tf_graphs_more.py [CASE...]
(naming cases records only those, keeping the other fixtures and their entries in cases.json).
Writes tests/fixtures/tf/tf_graphs_more/<case>.pb (the GraphDef) and <case>.npz (per run k, the feeds
"feed<k>/<tensor>" and the fetched values "fetch<k>/<tensor>"), and cases.json: per case, the initializer op
to run first (or null), then the runs in order, each with its feeds, fetches and target ops, and the op types
of the GraphDef and its library. Variables are initialized from constants, so runs are deterministic.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # tf_keras, the Keras that builds TF1 graphs

import numpy as np  # noqa: E402
import tensorflow as tf2  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402
from tensorflow.python.framework import function  # noqa: E402  (TF1's Defun)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "tf", "tf_graphs_more")
RNG = np.random.RandomState(11)


def _normal(*shape, scale=0.5):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def _training_runs(feeds, loss, train, steps=4):
    return [{"feeds": feeds, "fetches": [loss], "targets": [train]} for _ in range(steps)] + [
        {"feeds": feeds, "fetches": [loss], "targets": []}]


def function_call():
    """A tf.function (reading a resource variable, calling another tf.function) called in a TF1 graph and
    trained by Adam: StatefulPartitionedCall forward, PartitionedCall for TensorFlow's gradient."""
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    w = tf.get_variable("w", initializer=tf.constant(_normal(3, 2)), use_resource=True)
    b = tf.get_variable("b", initializer=tf.constant(_normal(2)), use_resource=True)

    @tf2.function
    def activation(h):
        return tf.tanh(h) + 0.1 * h

    @tf2.function
    def layer(inputs):
        return activation(tf.matmul(inputs, w) + b)

    y = tf.identity(layer(x), name="y")
    loss = tf.reduce_mean(tf.square(y - 0.5), name="loss")
    train = tf.train.AdamOptimizer(0.1).minimize(loss, name="train")
    feeds = {x: _normal(4, 3, scale=1.0)}
    return _training_runs(feeds, loss, train) + [{"feeds": feeds, "fetches": [y], "targets": []}]


def function_effects():
    """tf.functions run for their effects (the assignments a function lists in control_ret): one that returns
    nothing, called by name as a target, and one whose output is fetched."""
    v = tf.get_variable("v", initializer=tf.constant([1.0, 2.0]), use_resource=True)
    x = tf.placeholder(tf.float32, [2], name="x")

    @tf2.function
    def accumulate(delta):
        v.assign_add(delta * 2.0)

    @tf2.function
    def scale_and_report(factor):
        v.assign(v * factor)
        return tf.reduce_sum(x)

    accumulate(x)
    call = tf.get_default_graph().get_operations()[-1]
    report = tf.identity(scale_and_report(tf.constant(0.5)), name="report")
    feed = {x: np.array([1.0, -0.5], np.float32)}
    return [{"feeds": feed, "fetches": [], "targets": [call]}, {"feeds": {}, "fetches": [v.value()], "targets": []},
            {"feeds": feed, "fetches": [report], "targets": []}, {"feeds": {}, "fetches": [v.value()], "targets": []}]


def function_with_loop():
    """A tf.function holding a while loop and a cond (While/If, or their stateless forms, inside the called
    function), evaluated for two inputs."""
    x = tf.placeholder(tf.float32, [3], name="x")
    n = tf.placeholder(tf.int32, [], name="n")

    @tf2.function
    def power_sum(v, k):
        total = tf.zeros_like(v)
        term = tf.ones_like(v)
        for _ in tf.range(k):
            term = term * v
            total = total + term
        if tf.reduce_sum(total) > 0:
            total = total * 2.0
        else:
            total = total - 1.0
        return total

    out = tf.identity(power_sum(x, n), name="out")
    return [{"feeds": {x: np.array([0.5, -1.5, 2.0], np.float32), n: 3}, "fetches": [out], "targets": []},
            {"feeds": {x: np.array([-0.5, -1.5, 0.25], np.float32), n: 4}, "fetches": [out], "targets": []}]


def defun_call():
    """A TF1 Defun called by name (the call node's op type is the function's name) inside a small model."""
    @function.Defun(tf.float32, tf.float32)
    def scaled_softsign(a, s):
        return a / (1.0 + tf.abs(a)) * s

    x = tf.placeholder(tf.float32, [2, 3], name="x")
    out = tf.identity(scaled_softsign(x * 2.0, tf.constant(3.0)) + 1.0, name="out")
    return [{"feeds": {x: _normal(2, 3, scale=2.0)}, "fetches": [out], "targets": []}]


def tensor_list_training():
    """A control-flow-v2 while loop writing a TensorArray (a TensorList), whose stack, one read and final
    state make the loss, trained by gradient descent: the gradient loop's TensorLists are summed with AddN."""
    tf.enable_control_flow_v2()
    try:
        x = tf.placeholder(tf.float32, [4, 3], name="x")
        w = tf.get_variable("w", initializer=tf.constant(_normal(3, 3)), use_resource=True)
        inputs = tf.TensorArray(tf.float32, size=4).unstack(x)

        def body(i, h, ta):
            h = tf.tanh(tf.matmul(h, w) + inputs.read(i))
            return i + 1, h, ta.write(i, h)

        _, h, ta = tf.while_loop(lambda i, h, ta: i < 4, body,
                                 [0, tf.zeros([1, 3]), tf.TensorArray(tf.float32, size=4)])
        loss = tf.add(tf.reduce_sum(tf.square(ta.stack())), tf.reduce_sum(h) + tf.reduce_sum(ta.read(2)),
                      name="loss")
        train = tf.train.GradientDescentOptimizer(0.05).minimize(loss, name="train")
    finally:
        tf.disable_control_flow_v2()
    return _training_runs({x: _normal(4, 3, scale=1.0)}, loss, train)


def ref_variables_in_control_flow():
    """TF1 conds and a while loop assigning reference variables: the branches assign through RefSwitch and
    RefMerge the results, the loop body counts with AssignAdd through RefEnter. Each run changes the
    variables; the next run sees the change."""
    tf.disable_control_flow_v2()
    x = tf.placeholder(tf.float32, [3], name="x")
    v = tf.get_variable("v", initializer=tf.constant([1.0, 2.0, 3.0]), use_resource=False)
    count = tf.get_variable("count", initializer=tf.constant(0), use_resource=False)
    updated = tf.cond(tf.reduce_sum(x) > 0, lambda: tf.assign_add(v, x), lambda: tf.assign(v, x * 2.0),
                      name="update")

    def body(i, s):
        bump = tf.assign_add(count, 1)
        with tf.control_dependencies([bump]):
            return i + 1, s + tf.reduce_sum(updated)

    _, total = tf.while_loop(lambda i, s: i < 3, body, [0, 0.0], name="loop")
    total = tf.identity(total, name="total")
    # The false branch reads the variable inside the branch (read_value): TF's `v/read`, made with the
    # variable, would alias its buffer and show whichever assignment ran last.
    scaled = tf.identity(tf.cond(total > 10.0, lambda: tf.scatter_add(v, [0], [total]),
                                 lambda: v.read_value() * 1.0), name="scaled")
    runs = []
    for feed in (np.array([1.0, -0.5, 0.25], np.float32), np.array([-2.0, 0.5, 0.25], np.float32),
                 np.array([0.5, 0.5, 0.5], np.float32)):
        runs.append({"feeds": {x: feed}, "fetches": [total, scaled], "targets": []})
        runs.append({"feeds": {}, "fetches": [v.value(), count.value()], "targets": []})
    return runs


def defun_training():
    """A TF1 Defun of two inputs in a model trained by momentum: TF differentiates the call with a
    SymbolicGradient node of the function."""
    @function.Defun(tf.float32, tf.float32)
    def gated(a, w):
        return tf.tanh(a * w) * tf.sigmoid(a + w)

    x = tf.placeholder(tf.float32, [2, 3], name="x")
    w = tf.get_variable("w", initializer=tf.constant(_normal(3)), use_resource=False)
    loss = tf.reduce_sum(tf.square(gated(x, w) - 0.3), name="loss")
    train = tf.train.MomentumOptimizer(0.1, 0.9).minimize(loss, name="train")
    return _training_runs({x: _normal(2, 3, scale=1.0)}, loss, train)


def keras_training():
    """A tf.keras model in a TF1 graph (embedding, LSTM, batch normalization, dense layers; tf_keras's legacy
    layers) trained by the TF1 Adam optimizer on its loss."""
    import tf_keras as keras  # the Keras that keeps TF1 graph mode

    def fixed(*shape):  # initial values from constants: TF's random initializers draw other numbers here
        return keras.initializers.Constant(_normal(*shape))

    ids = tf.placeholder(tf.int32, [None, 5], name="ids")
    target = tf.placeholder(tf.float32, [None, 2], name="target")
    h = keras.layers.Embedding(12, 4, embeddings_initializer=fixed(12, 4))(ids)
    h = keras.layers.LSTM(6, kernel_initializer=fixed(4, 24), recurrent_initializer=fixed(6, 24))(h)
    h = keras.layers.BatchNormalization()(h, training=True)
    h = keras.layers.Dense(5, activation="relu", kernel_initializer=fixed(6, 5))(h)
    out = keras.layers.Dense(2, activation="tanh", kernel_initializer=fixed(5, 2))(h)
    loss = tf.reduce_mean(tf.square(out - target), name="loss")
    train = tf.train.AdamOptimizer(0.05).minimize(loss, name="train")
    feeds = {ids: RNG.randint(0, 12, (3, 5)).astype(np.int32), target: _normal(3, 2)}
    return _training_runs(feeds, loss, train)


def tf_layers_training():
    """tf.layers (conv2d, batch_normalization and dropout switched by a `training` placeholder, which build TF1
    conds, dense) with the UPDATE_OPS of the moving averages, trained by RMSProp; dropout stays off (its draws
    are TensorFlow's own), batch normalization trains."""
    x = tf.placeholder(tf.float32, [None, 6, 6, 2], name="x")
    training = tf.placeholder_with_default(False, [], name="training")
    h = tf.layers.conv2d(x, 3, 3, kernel_initializer=tf.constant_initializer(_normal(3, 3, 2, 3)))
    h = tf.layers.batch_normalization(h, training=training)
    h = tf.layers.dropout(h, 0.5, training=tf.logical_and(training, False))
    logits = tf.layers.dense(tf.layers.flatten(h), 2, kernel_initializer=tf.constant_initializer(_normal(48, 2)))
    loss = tf.identity(tf.losses.softmax_cross_entropy(tf.one_hot([0, 1, 1], 2), logits), name="loss")
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        train = tf.train.RMSPropOptimizer(0.05).minimize(loss, name="train")
    feeds = {x: _normal(3, 6, 6, 2, scale=1.0), training: True}
    runs = _training_runs(feeds, loss, train)
    moving = [v for v in tf.global_variables() if "moving" in v.name]
    return runs + [{"feeds": {x: feeds[x]}, "fetches": [loss, *[v.value() for v in moving]], "targets": []}]


def one_shot_iterator():
    """A tf.data pipeline (slices, map, repeat, batch) read by a one-shot iterator, whose OneShotIterator node
    builds the dataset with its dataset_factory function."""
    ds = tf.data.Dataset.from_tensor_slices((np.arange(6, dtype=np.float32), np.arange(6, dtype=np.int64)))
    ds = ds.map(lambda a, b: (a * 2.0 + 1.0, b * 3)).repeat(2).batch(4)
    a, b = tf.data.make_one_shot_iterator(ds).get_next()
    a, b = tf.identity(a, name="a"), tf.identity(b, name="b")
    return [{"feeds": {}, "fetches": [a, b], "targets": []} for _ in range(3)]


def embedding_lookup_sparse_training():
    """tf.nn.embedding_lookup_sparse with each combiner (and a weighted mean), trained by gradient descent: TF 2.x
    builds the segment reductions with sparse_gradient, so their gradients are SparseSegment{Sum,Mean,SqrtN}GradV2
    (the rows of the distinct ids, as IndexedSlices applied with ScatterSub)."""
    emb = tf.get_variable("emb", initializer=tf.constant(_normal(7, 3)), use_resource=False)
    ids = tf.SparseTensor([[0, 0], [0, 1], [0, 2], [1, 0], [2, 0], [2, 1]],
                          tf.constant([1, 3, 1, 5, 6, 3], tf.int64), [3, 3])
    weights = tf.SparseTensor(ids.indices, tf.constant([0.5, 2.0, 1.0, 1.5, -1.0, 0.25]), ids.dense_shape)
    outs = [tf.nn.embedding_lookup_sparse(emb, ids, None, combiner=combiner) for combiner in ("sum", "mean", "sqrtn")]
    outs.append(tf.nn.embedding_lookup_sparse(emb, ids, weights, combiner="mean"))
    target = tf.placeholder(tf.float32, [3, 3], name="target")
    loss = tf.add_n([tf.reduce_sum(tf.square(o - target)) for o in outs], name="loss")
    grads = tf.identity(tf.convert_to_tensor(tf.gradients(loss, emb)[0]), name="emb_grad")
    train = tf.train.GradientDescentOptimizer(0.05).minimize(loss, name="train")
    feeds = {target: _normal(3, 3, scale=1.0)}
    return [{"feeds": feeds, "fetches": [grads], "targets": []}] + _training_runs(feeds, loss, train)


CASES = {
    "tf_layers_training": tf_layers_training,
    "keras_training": keras_training,
    "one_shot_iterator": one_shot_iterator,
    "function_call": function_call,
    "function_effects": function_effects,
    "function_with_loop": function_with_loop,
    "defun_call": defun_call,
    "defun_training": defun_training,
    "tensor_list_training": tensor_list_training,
    "ref_variables_in_control_flow": ref_variables_in_control_flow,
    "embedding_lookup_sparse_training": embedding_lookup_sparse_training,
}


def record(name, build):
    graph = tf.Graph()
    with graph.as_default():
        runs = build()
        init = tf.global_variables_initializer() if tf.global_variables() else None
    graph_def = graph.as_graph_def()
    arrays, entry_runs = {}, []
    with tf.Session(graph=graph) as sess:
        if init is not None:
            sess.run(init)
        for k, run in enumerate(runs):
            feeds = {t.name: v for t, v in run["feeds"].items()}
            values = sess.run([t.name for t in run["fetches"]] + [op.name for op in run["targets"]], feeds)
            for t, value in zip(run["feeds"], run["feeds"].values()):
                arrays[f"feed{k}/{t.name}"] = np.asarray(value)
            for t, value in zip(run["fetches"], values):
                arrays[f"fetch{k}/{t.name}"] = np.asarray(value)
            entry_runs.append({"feeds": [t.name for t in run["feeds"]], "fetches": [t.name for t in run["fetches"]],
                               "targets": [op.name for op in run["targets"]]})
    with open(os.path.join(OUT, f"{name}.pb"), "wb") as f:
        f.write(graph_def.SerializeToString(deterministic=True))
    np.savez(os.path.join(OUT, f"{name}.npz"), **arrays)
    ops = collections.Counter(n.op for n in graph_def.node)
    for fd in graph_def.library.function:
        ops.update(n.op for n in fd.node_def)
    return {"init": None if init is None else init.name, "runs": entry_runs, "ops": dict(sorted(ops.items()))}


def tf2_saved_model() -> dict:
    """A SavedModel written by TensorFlow 2's tf.saved_model.save (run eagerly, in a process of its own): its
    serving signature and its save and restore functions are function calls (StatefulPartitionedCall)."""
    directory = os.path.join(OUT, "tf2_saved_model")
    shutil.rmtree(directory, ignore_errors=True)

    class Dense(tf2.Module):
        def __init__(self):
            super().__init__()
            self.w = tf2.Variable(_normal(3, 2))
            self.b = tf2.Variable(_normal(2))

        @tf2.function(input_signature=[tf2.TensorSpec([None, 3], tf2.float32)])
        def __call__(self, x):
            return {"y": tf2.nn.relu(tf2.matmul(x, self.w) + self.b)}

    model = Dense()
    tf2.saved_model.save(model, directory, signatures=model.__call__)
    x = _normal(4, 3, scale=2.0)
    np.savez(os.path.join(OUT, "tf2_saved_model.npz"), x=x, y=model(x)["y"].numpy())
    return {"signature": "serving_default", "input": "x", "output": "y"}


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    if sys.argv[1:] == ["--tf2-saved-model"]:
        print(json.dumps(tf2_saved_model()))
        return
    if sys.argv[1:]:  # only the cases named: the others' files and entries stay as they are
        unknown = sorted(set(sys.argv[1:]) - set(CASES))
        if unknown:
            sys.exit(f"unknown cases {unknown}; the cases are {sorted(CASES)}")
        tf.disable_v2_behavior()
        with open(os.path.join(OUT, "cases.json")) as f:
            manifest = json.load(f)
        manifest.update({name: record(name, CASES[name]) for name in sys.argv[1:]})
    else:
        saved_model = json.loads(subprocess.run([sys.executable, __file__, "--tf2-saved-model"], check=True,
                                                capture_output=True, text=True).stdout)
        tf.disable_v2_behavior()
        manifest = {name: record(name, build) for name, build in CASES.items()}
        manifest["_tf2_saved_model"] = saved_model
    manifest["_tensorflow_version"] = tf.__version__
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
