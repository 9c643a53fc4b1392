"""GraphDefs tfmini writes, run by TensorFlow (and a small one the other way) for `make interop`.

    /work/tfenv/bin/python tools/interop/tfmini_graphs.py tf-write D1      # TensorFlow writes
    .venv/bin/python       tools/interop/tfmini_graphs.py tfmini-check D1  # tfmini imports and compares
    .venv/bin/python       tools/interop/tfmini_graphs.py tfmini-write D2  # tfmini writes
    /work/tfenv/bin/python tools/interop/tfmini_graphs.py tf-check D2      # TensorFlow imports and compares

tfmini-write builds, with tfmini, a forward network, a tf.cond reading outer tensors, while loops that read
outer tensors (one nested in a cond, one nested in another loop), a frozen tf.map_fn and dynamic_rnn, and
eleven training graphs on reference variables trained with Adam (an MLP, a small conv net, one whose
gradient goes through a tf.cond, two dynamic_rnns (a basic RNN and an LSTM cell), whose gradients go through a
while loop, a loop whose body holds a tf.cond, a tf.cond inside a tf.cond's branch, a loop inside a loop, a
loop inside a tf.cond's branch, conds nested three deep and a loop whose body takes its inner loop's
gradient), and writes each GraphDef
(`<case>.pb`) with what tfmini computed: the fetched values, or the loss of every training step
(`<case>.npz`), listed in `cases.json`. tf-check imports every GraphDef into TensorFlow, runs it and
compares; each training graph is trained from its initializer in several fresh sessions, whose losses must
all be tfmini's (an update op running before a gradient has read the old weights would make them drift from
session to session).
A graph reading a Dataset.from_generator holds an op only tfmini has: tfmini's check for TensorFlow
(tensorflow_check.check_for_tensorflow) must name it, and TensorFlow must refuse the graph naming it too.
tf-write writes a small forward graph TensorFlow built, with its outputs, which tfmini-check imports and
runs. Any disagreement exits non-zero with a message. TensorFlow is imported only by the tf-* commands,
tfmini only by the tfmini-* commands.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

RTOL, ATOL = 1e-4, 1e-5
SESSIONS = 4  # fresh TensorFlow sessions each training graph is trained in
STEPS = 6

_rng = np.random.RandomState(7)
X = _rng.standard_normal((8, 5)).astype(np.float32)
LABELS = np.eye(3, dtype=np.float32)[_rng.randint(0, 3, 8)]
W1 = (_rng.standard_normal((5, 16)) * 0.5).astype(np.float32)
W2 = (_rng.standard_normal((16, 3)) * 0.5).astype(np.float32)
IMAGES = _rng.standard_normal((4, 8, 8, 2)).astype(np.float32)
IMAGE_LABELS = np.eye(3, dtype=np.float32)[[0, 2, 1, 2]]
K1 = (_rng.standard_normal((3, 3, 2, 4)) * 0.4).astype(np.float32)
K2 = (_rng.standard_normal((3, 3, 4, 6)) * 0.3).astype(np.float32)
DENSE = (_rng.standard_normal((96, 3)) * 0.2).astype(np.float32)


def _fail(message: str) -> None:
    print(f"tfmini_graphs interop: {message}", file=sys.stderr)
    sys.exit(1)


def _close(what: str, got, want) -> None:
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape or not np.allclose(got, want, rtol=RTOL, atol=ATOL):
        _fail(f"{what}: got {got!r}, expected {want!r}")


# -- the graphs tfmini writes (built with TF1 API calls) ----------------------------------------------------
def _forward(tf):
    x = tf.placeholder(tf.float32, [None, 5], name="x")
    h = tf.nn.relu(tf.matmul(x, tf.constant(W1)) + 0.1)
    probs = tf.nn.softmax(tf.matmul(h, tf.constant(W2)), name="probs")
    return {"x:0": X}, [probs]


def _cond(tf):
    x = tf.placeholder(tf.float32, [None, 5], name="x")
    pred = tf.placeholder(tf.bool, [], name="pred")
    scale = tf.constant(3.0, name="scale")
    out = tf.cond(pred, lambda: tf.reduce_sum(x * scale, 1), lambda: tf.reduce_max(x, 1) - scale, name="branch")
    return {"x:0": X, "pred:0": np.array(True)}, [out]


def _loop_with_captures(tf):
    x = tf.placeholder(tf.float32, [None, 5], name="x")
    w = tf.constant(W1[:, :5] * 0.5, name="w")
    limit = tf.placeholder(tf.int32, [], name="limit")

    def body(i, h):
        return i + 1, tf.tanh(tf.matmul(h, w) + x)  # reads two outer tensors

    _, h = tf.while_loop(lambda i, h: i < limit, body, [tf.constant(0), x], name="loop")
    return {"x:0": X, "limit:0": np.array(4, np.int32)}, [tf.identity(h, name="h")]


def _nested_loops(tf):
    x = tf.placeholder(tf.float32, [5], name="x")
    scale = tf.constant(0.5, name="scale")
    pred = tf.placeholder(tf.bool, [], name="pred")

    def outer_body(i, acc):
        def inner_body(j, a):
            return j + 1, a * scale + x  # reads outer tensors two loops up
        _, acc = tf.while_loop(lambda j, a: j < i, inner_body, [tf.constant(0), acc])
        return i + 1, acc

    _, acc = tf.while_loop(lambda i, acc: i < 3, outer_body, [tf.constant(0), x], name="outer")
    in_cond = tf.cond(pred, lambda: tf.while_loop(lambda v: tf.reduce_sum(v) < 50.0, lambda v: v * 2.0 + x, [x]),
                      lambda: x)
    return {"x:0": X[0], "pred:0": np.array(True)}, [tf.identity(acc, name="acc"), tf.identity(in_cond, name="c")]


def _frozen_rnn(tf):
    """tf.map_fn and tf.nn.dynamic_rnn (while loops over TensorArrays), frozen with their weights."""
    x = tf.placeholder(tf.float32, [2, 4, 5], name="x")
    rows = tf.map_fn(lambda r: tf.reduce_sum(r * 2.0, 1), x)
    out, _ = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicRNNCell(6), x, dtype=tf.float32)
    return {"x:0": X.reshape(2, 4, 5)}, [tf.identity(rows, name="rows"), tf.identity(out, name="rnn_out")]


def _mlp_training(tf):
    x = tf.placeholder(tf.float32, [None, 5], name="x")
    labels = tf.placeholder(tf.float32, [None, 3], name="labels")
    w1 = tf.Variable(W1, name="w1")
    b1 = tf.Variable(np.zeros(16, np.float32), name="b1")
    w2 = tf.Variable(W2, name="w2")
    logits = tf.matmul(tf.nn.relu(tf.matmul(x, w1) + b1), w2)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits), name="loss")
    train = tf.train.AdamOptimizer(0.1).minimize(loss, name="train")
    return {"x:0": X, "labels:0": LABELS}, loss, train


def _conv_training(tf):
    images = tf.placeholder(tf.float32, [None, 8, 8, 2], name="images")
    labels = tf.placeholder(tf.float32, [None, 3], name="labels")
    k1 = tf.Variable(K1, name="k1")
    k2 = tf.Variable(K2, name="k2")
    dense = tf.Variable(DENSE, name="dense")
    h = tf.nn.relu(tf.nn.conv2d(images, k1, [1, 1, 1, 1], "SAME"))
    h = tf.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
    h = tf.nn.relu(tf.nn.conv2d(h, k2, [1, 1, 1, 1], "SAME"))
    logits = tf.matmul(tf.reshape(h, [-1, 96]), dense)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits), name="loss")
    train = tf.train.AdamOptimizer(0.05).minimize(loss, name="train")
    return {"images:0": IMAGES, "labels:0": IMAGE_LABELS}, loss, train


def _cond_training(tf):
    """Batch-normalizing and scaling only when `training` is fed True (as dropout and batch norm choose by a
    placeholder), so the gradient goes through a tf.cond."""
    x = tf.placeholder(tf.float32, [None, 5], name="x")
    labels = tf.placeholder(tf.float32, [None, 3], name="labels")
    training = tf.placeholder_with_default(True, [], name="training")
    w1 = tf.Variable(W1, name="w1")
    w2 = tf.Variable(W2, name="w2")
    h = tf.matmul(x, w1)

    def normalized():
        mean, variance = tf.nn.moments(h, [0])
        return (h - mean) * tf.rsqrt(variance + 1e-3) * 0.9

    h = tf.nn.relu(tf.cond(training, normalized, lambda: h * 0.9))
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=tf.matmul(h, w2)),
                          name="loss")
    train = tf.train.AdamOptimizer(0.05).minimize(loss, name="train")
    return {"x:0": X, "labels:0": LABELS}, loss, train


def _rnn_training(tf):
    """A dynamic_rnn (a while loop over TensorArrays) trained through the loop's gradient."""
    x = tf.placeholder(tf.float32, [2, 4, 5], name="x")
    labels = tf.placeholder(tf.float32, [2, 3], name="labels")

    def spread(shape, dtype=None, partition_info=None):
        n = int(np.prod(shape))
        return tf.constant(np.linspace(-0.6, 0.6, n).reshape(shape).astype(np.float32))

    with tf.variable_scope("model", initializer=spread):
        out, state = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicRNNCell(6), x, dtype=tf.float32)
        dense = tf.get_variable("dense", [6, 3])
    logits = tf.matmul(state, dense)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits), name="loss")
    train = tf.train.AdamOptimizer(0.05).minimize(loss, name="train")
    return {"x:0": X.reshape(2, 4, 5), "labels:0": LABELS[:2]}, loss, train


def _lstm_training(tf):
    """A dynamic_rnn over an LSTM cell trained through the loop (its gradient's unread zeros for the loop's
    TensorArray handles are not written)."""
    x = tf.placeholder(tf.float32, [2, 4, 5], name="x")
    labels = tf.placeholder(tf.float32, [2, 3], name="labels")

    def spread(shape, dtype=None, partition_info=None):
        n = int(np.prod(shape))
        return tf.constant(np.linspace(-0.6, 0.6, n).reshape(shape).astype(np.float32))

    with tf.variable_scope("model", initializer=spread):
        _, state = tf.nn.dynamic_rnn(tf.nn.rnn_cell.LSTMCell(6), x, dtype=tf.float32)
        dense = tf.get_variable("dense", [6, 3])
    logits = tf.matmul(state.h, dense)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits), name="loss")
    train = tf.train.AdamOptimizer(0.05).minimize(loss, name="train")
    return {"x:0": X.reshape(2, 4, 5), "labels:0": LABELS[:2]}, loss, train


def _cond_in_loop_training(tf):
    """A while loop whose body chooses by a tf.cond on its state, trained through the loop: the cond's gradient
    runs inside the loop's, reading its optionals from TensorLists."""
    x = tf.placeholder(tf.float32, [None, 5], name="x")
    labels = tf.placeholder(tf.float32, [None, 3], name="labels")
    w = tf.Variable(W1[:, :5] * 0.5, name="w")
    out = tf.Variable(W2[:5], name="out")

    def body(i, h):
        h = tf.cond(tf.reduce_mean(h) > 0.0, lambda: tf.tanh(tf.matmul(h, w)), lambda: tf.matmul(h, w) * 0.5 + x)
        return i + 1, h

    _, h = tf.while_loop(lambda i, h: i < 3, body, [tf.constant(0), x])
    logits = tf.matmul(h, out)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits), name="loss")
    train = tf.train.AdamOptimizer(0.05).minimize(loss, name="train")
    return {"x:0": X, "labels:0": LABELS}, loss, train


def _nested_cond_training(tf):
    """A tf.cond inside a branch of a tf.cond fed `training`, trained through both: the inner cond's optionals
    travel inside the outer cond's."""
    x = tf.placeholder(tf.float32, [None, 5], name="x")
    labels = tf.placeholder(tf.float32, [None, 3], name="labels")
    training = tf.placeholder_with_default(True, [], name="training")
    w1 = tf.Variable(W1, name="w1")
    w2 = tf.Variable(W2, name="w2")
    h = tf.matmul(x, w1)
    h = tf.cond(training, lambda: tf.cond(tf.reduce_mean(h) > 0.0, lambda: tf.tanh(h), lambda: h * 0.5) * 0.9,
                lambda: h * 0.9)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=tf.matmul(h, w2)),
                          name="loss")
    train = tf.train.AdamOptimizer(0.05).minimize(loss, name="train")
    return {"x:0": X, "labels:0": LABELS}, loss, train


def _nested_loop_training(tf):
    """A while loop whose body runs another while loop over the same weights, trained through both: the inner
    loop's values are accumulated on TensorLists per outer iteration (lists of lists), as TensorFlow's while_v2
    accumulates them."""
    x = tf.placeholder(tf.float32, [None, 5], name="x")
    labels = tf.placeholder(tf.float32, [None, 3], name="labels")
    w = tf.Variable(W1[:, :5] * 0.5, name="w")
    out = tf.Variable(W2[:5], name="out")

    def body(i, h):
        _, h = tf.while_loop(lambda j, a: j < i + 1, lambda j, a: (j + 1, tf.tanh(tf.matmul(a, w)) + 0.1 * x),
                             [tf.constant(0), h])
        return i + 1, h

    _, h = tf.while_loop(lambda i, h: i < 3, body, [tf.constant(0), x])
    logits = tf.matmul(h, out)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits), name="loss")
    train = tf.train.AdamOptimizer(0.05).minimize(loss, name="train")
    return {"x:0": X, "labels:0": LABELS}, loss, train


def _loop_in_cond_training(tf):
    """A while loop inside the branch of a tf.cond fed `training`, trained through both: the loop's counter,
    TensorLists and captured weights travel to the gradient branch as the cond's optionals."""
    x = tf.placeholder(tf.float32, [None, 5], name="x")
    labels = tf.placeholder(tf.float32, [None, 3], name="labels")
    training = tf.placeholder_with_default(True, [], name="training")
    w = tf.Variable(W1[:, :5] * 0.5, name="w")
    out = tf.Variable(W2[:5], name="out")

    def refine():
        return tf.while_loop(lambda i, h: i < 3, lambda i, h: (i + 1, tf.tanh(tf.matmul(h, w)) + 0.1 * x),
                             [tf.constant(0), x])[1]

    h = tf.cond(training, refine, lambda: tf.matmul(x, w))
    logits = tf.matmul(h, out)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits), name="loss")
    train = tf.train.AdamOptimizer(0.05).minimize(loss, name="train")
    return {"x:0": X, "labels:0": LABELS}, loss, train


def _deeply_nested_training(tf):
    """A tf.cond inside a tf.cond inside a tf.cond's branch, trained through all three: optionals of optionals of
    optionals."""
    x = tf.placeholder(tf.float32, [None, 5], name="x")
    labels = tf.placeholder(tf.float32, [None, 3], name="labels")
    w1 = tf.Variable(W1, name="w1")
    w2 = tf.Variable(W2, name="w2")
    h = tf.matmul(x, w1)
    positive = tf.reduce_mean(h) > 0.0
    h = tf.cond(positive, lambda: tf.cond(positive, lambda: tf.cond(positive, lambda: tf.tanh(h), lambda: h),
                                          lambda: h * 0.5), lambda: h * 0.9)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=tf.matmul(h, w2)),
                          name="loss")
    train = tf.train.AdamOptimizer(0.05).minimize(loss, name="train")
    return {"x:0": X, "labels:0": LABELS}, loss, train


def _gradient_in_body_training(tf):
    """A loop whose body runs an inner loop and also takes that inner loop's gradient (a stopped gradient step),
    trained through both: the gradient taken in the body and the training gradient read the inner loop's
    TensorLists."""
    x = tf.placeholder(tf.float32, [None, 5], name="x")
    labels = tf.placeholder(tf.float32, [None, 3], name="labels")
    w = tf.Variable(W1[:, :5] * 0.5, name="w")
    out = tf.Variable(W2[:5], name="out")

    def body(i, h):
        inner = tf.while_loop(lambda j, a: j < 2, lambda j, a: (j + 1, tf.tanh(tf.matmul(a, w))), [tf.constant(0), h])
        step = tf.stop_gradient(tf.gradients(tf.reduce_sum(inner[1]), h)[0])
        return i + 1, inner[1] - 0.1 * step

    _, h = tf.while_loop(lambda i, h: i < 2, body, [tf.constant(0), x])
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=tf.matmul(h, out)),
                          name="loss")
    train = tf.train.AdamOptimizer(0.05).minimize(loss, name="train")
    return {"x:0": X, "labels:0": LABELS}, loss, train


def _from_generator(tf):
    """A dataset read from a Python generator: tfmini's PyGeneratorDataset, which TensorFlow does not have."""
    ds = tf.data.Dataset.from_generator(lambda: iter(X[:, :2]), tf.float32, tf.TensorShape([2]))
    return {}, [tf.identity(tf.data.make_one_shot_iterator(ds).get_next(), name="row")]


FORWARD_CASES = {"forward": _forward, "cond": _cond, "loop_with_captures": _loop_with_captures,
                 "nested_loops": _nested_loops, "frozen_rnn": _frozen_rnn}
TRAINING_CASES = {"mlp_adam": _mlp_training, "conv_adam": _conv_training, "cond_adam": _cond_training,
                  "rnn_adam": _rnn_training, "lstm_adam": _lstm_training, "cond_in_loop_adam": _cond_in_loop_training,
                  "nested_cond_adam": _nested_cond_training, "nested_loop_adam": _nested_loop_training,
                  "loop_in_cond_adam": _loop_in_cond_training, "deeply_nested_adam": _deeply_nested_training,
                  "gradient_in_body_adam": _gradient_in_body_training}
# Graphs with ops only tfmini has: its check for TensorFlow must name them, and TensorFlow's refusal must too.
REFUSED_CASES = {"from_generator": _from_generator}


def _write_case(directory: str, name: str, graph_def, feeds: dict, arrays: dict, extra: dict) -> dict:
    with open(os.path.join(directory, f"{name}.pb"), "wb") as f:
        f.write(graph_def.SerializeToString())
    keys = {}
    for i, (tensor, value) in enumerate(feeds.items()):
        keys[tensor] = f"feed_{i}"
        arrays[f"feed_{i}"] = value
    np.savez(os.path.join(directory, f"{name}.npz"), **arrays)
    return {"name": name, "feeds": keys, **extra}


def tfmini_write(directory: str) -> None:
    import tfmini as tf
    from tfmini.framework.tensorflow_check import check_for_tensorflow

    os.makedirs(directory, exist_ok=True)
    cases = []
    for name, build in FORWARD_CASES.items():
        with tf.Graph().as_default() as g:
            feeds, fetches = build(tf)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                values = sess.run(fetches, feeds)
                graph_def = tf.graph_util.convert_variables_to_constants(sess, g.as_graph_def(),
                                                                         [t.op.name for t in fetches])
            names = [t.name for t in fetches]
            cases.append(_write_case(directory, name, graph_def, feeds,
                                     {f"out_{i}": v for i, v in enumerate(values)},
                                     {"kind": "forward", "fetches": names}))
    for name, build in TRAINING_CASES.items():
        with tf.Graph().as_default() as g:
            feeds, loss, train = build(tf)
            init = tf.global_variables_initializer()
            with tf.Session() as sess:
                sess.run(init)
                losses = [sess.run([loss, train], feeds)[0] for _ in range(STEPS)]
            cases.append(_write_case(directory, name, g.as_graph_def(), feeds, {"losses": np.array(losses)},
                                     {"kind": "train", "loss": loss.name, "train": train.name, "init": init.name}))
    for name, build in REFUSED_CASES.items():
        with tf.Graph().as_default() as g:
            feeds, fetches = build(tf)
            try:
                check_for_tensorflow(g)
            except ValueError as e:
                reason = str(e)
            else:
                _fail(f"{name}: tfmini's check passes a graph with ops only tfmini has")
            ops = sorted({nd.op for nd in g.as_graph_def().node if f"op '{nd.op}' exists only in tfmini" in reason})
            if not ops:
                _fail(f"{name}: tfmini's check names no op of the graph: {reason}")
            cases.append(_write_case(directory, name, g.as_graph_def(), feeds, {},
                                     {"kind": "refused", "reason": reason, "ops": ops,
                                      "fetches": [t.name for t in fetches]}))
    with open(os.path.join(directory, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
    print(f"tfmini_graphs: tfmini wrote {len(cases)} GraphDefs to {directory}")


def tf_check(directory: str) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import tensorflow.compat.v1 as tf

    tf.disable_v2_behavior()
    with open(os.path.join(directory, "cases.json")) as f:
        cases = json.load(f)
    refused = 0
    for case in cases:
        name = case["name"]
        gd = tf.GraphDef()
        with open(os.path.join(directory, f"{name}.pb"), "rb") as f:
            gd.ParseFromString(f.read())
        data = np.load(os.path.join(directory, f"{name}.npz"))
        if case["kind"] == "refused":
            try:
                with tf.Graph().as_default():
                    tf.import_graph_def(gd, name="")
                    with tf.Session() as sess:
                        sess.run(case["fetches"], {t: data[k] for t, k in case["feeds"].items()})
            except Exception as e:  # noqa: BLE001 - the refusal tfmini's check announced
                if not any(f"'{op}'" in str(e) for op in case["ops"]):
                    _fail(f"{name}: TensorFlow's refusal names none of {case['ops']}: {e}")
                refused += 1
                continue
            _fail(f"{name}: TensorFlow ran a GraphDef tfmini's check refuses ({case['reason']})")
        with tf.Graph().as_default():
            try:
                tf.import_graph_def(gd, name="")
            except Exception as e:  # noqa: BLE001 - any refusal is the finding to report
                _fail(f"TensorFlow could not import tfmini's GraphDef '{name}': {type(e).__name__}: {e}")
            feeds = {tensor: data[key] for tensor, key in case["feeds"].items()}
            if case["kind"] == "forward":
                with tf.Session() as sess:
                    values = sess.run(case["fetches"], feeds)
                for i, (fetch, value) in enumerate(zip(case["fetches"], values)):
                    _close(f"{name}: {fetch}", value, data[f"out_{i}"])
                continue
            runs = []
            for _ in range(SESSIONS):
                with tf.Session() as sess:
                    sess.run(case["init"])
                    runs.append([sess.run([case["loss"], case["train"]], feeds)[0] for _ in range(STEPS)])
            for s, losses in enumerate(runs):
                _close(f"{name}: losses in TensorFlow session {s + 1} of {SESSIONS}", losses, data["losses"])
            spread = float(np.max(np.ptp(np.array(runs), axis=0)))
            if spread > 1e-5:
                _fail(f"{name}: TensorFlow's losses differ between sessions by up to {spread}")
    print(f"tfmini_graphs: TensorFlow ran tfmini's {len(cases) - refused} GraphDefs with tfmini's outputs "
          f"(training graphs in {SESSIONS} sessions each) and refused the {refused} with ops tfmini's check names, "
          f"naming them too")


# -- the other direction: one small graph TensorFlow writes --------------------------------------------------
def tf_write(directory: str) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import tensorflow.compat.v1 as tf

    tf.disable_v2_behavior()
    os.makedirs(directory, exist_ok=True)
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [None, 5], name="x")
        h = tf.tanh(x * tf.constant(W1[0, :5]) + 0.25)
        out = tf.reduce_sum(tf.square(h), axis=1, name="out")
        with tf.Session() as sess:
            value = sess.run(out, {x: X})
        case = _write_case(directory, "tf_forward", g.as_graph_def(), {"x:0": X}, {"out_0": value},
                           {"kind": "forward", "fetches": [out.name]})
    with open(os.path.join(directory, "cases.json"), "w") as f:
        json.dump([case], f, indent=1)
    print(f"tfmini_graphs: TensorFlow wrote 1 GraphDef to {directory}")


def tfmini_check(directory: str) -> None:
    import tfmini as tf

    with open(os.path.join(directory, "cases.json")) as f:
        cases = json.load(f)
    for case in cases:
        gd = tf.GraphDef()
        with open(os.path.join(directory, f"{case['name']}.pb"), "rb") as f:
            gd.ParseFromString(f.read())
        data = np.load(os.path.join(directory, f"{case['name']}.npz"))
        with tf.Graph().as_default():
            tf.import_graph_def(gd, name="")
            with tf.Session() as sess:
                values = sess.run(case["fetches"], {t: data[k] for t, k in case["feeds"].items()})
        for i, (fetch, value) in enumerate(zip(case["fetches"], values)):
            _close(f"{case['name']}: {fetch}", value, data[f"out_{i}"])
    print(f"tfmini_graphs: tfmini ran TensorFlow's {len(cases)} GraphDef(s) with TensorFlow's outputs")


COMMANDS = {"tf-write": tf_write, "tf-check": tf_check, "tfmini-write": tfmini_write, "tfmini-check": tfmini_check}

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in COMMANDS:
        print(f"usage: {sys.argv[0]} {{{','.join(COMMANDS)}}} DIR", file=sys.stderr)
        sys.exit(2)
    COMMANDS[sys.argv[1]](sys.argv[2])
