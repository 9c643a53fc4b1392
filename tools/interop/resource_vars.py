"""Resource variables and TF2 control flow both ways between TensorFlow and tfmini, for `make interop`.

    /work/tfenv/bin/python tools/interop/resource_vars.py tf-write D1      # TensorFlow writes
    .venv/bin/python       tools/interop/resource_vars.py tfmini-check D1  # tfmini imports and compares
    .venv/bin/python       tools/interop/resource_vars.py tfmini-write D2  # tfmini writes
    /work/tfenv/bin/python tools/interop/resource_vars.py tf-check D2      # TensorFlow imports and compares

The same TF1 programs are built by each side with resource variables on (`enable_resource_variables()`; in
TensorFlow also control flow v2): a cond and a loop reading a resource variable, a loop whose body adds to
one, and a network with an embedding trained by each optimizer both have (ResourceApply*, ResourceGather and
the sparse updates). TensorFlow also writes a network trained through a loop (its while_v2 gradient), and tfmini a
recurrent loop over TensorArrays trained by Adam (its loop gradient in the form TensorFlow runs). The
writer saves each GraphDef (`<case>.pb`) with what it computed (`<case>.npz`: the fetched values, or the
loss of every training step), listed in `cases.json`; the checker imports each
GraphDef, initializes it with its `init` op, runs it and compares, training every graph in several fresh
sessions. Any disagreement exits non-zero with a message. TensorFlow is imported only by the tf-* commands,
tfmini only by the tfmini-* commands.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

RTOL, ATOL = 1e-4, 1e-5
SESSIONS = 3
STEPS = 5

_rng = np.random.RandomState(11)
X = _rng.standard_normal((6, 3)).astype(np.float32)
IDS = np.array([1, 0, 3, 3, 2, 1], np.int32)
Y = _rng.standard_normal((6, 2)).astype(np.float32)
W1 = (_rng.standard_normal((3, 4)) * 0.5).astype(np.float32)
EMB = (_rng.standard_normal((4, 4)) * 0.5).astype(np.float32)
W2 = (_rng.standard_normal((4, 2)) * 0.5).astype(np.float32)
V = np.array([0.5, -1.5, 2.0], np.float32)
W_IN = (_rng.standard_normal((3, 5)) * 0.5).astype(np.float32)
W_REC = (_rng.standard_normal((5, 5)) * 0.3).astype(np.float32)


def _fail(message: str) -> None:
    print(f"resource_vars interop: {message}", file=sys.stderr)
    sys.exit(1)


def _close(what: str, got, want) -> None:
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape or not np.allclose(got, want, rtol=RTOL, atol=ATOL):
        _fail(f"{what}: got {got!r}, expected {want!r}")


# -- the programs both sides build (TF1 API calls; variables are resource variables) -------------------------
def _cond_read(tf):
    v = tf.Variable(V, name="v")
    x = tf.placeholder(tf.float32, [3], name="x")
    out = tf.cond(tf.reduce_sum(x) > 0, lambda: x * v, lambda: x - v, name="branch")
    return {"x:0": np.array([1.0, 2.0, -0.5], np.float32)}, [tf.identity(out, name="out")], []


def _loop_read(tf):
    v = tf.Variable(V, name="v")
    x = tf.placeholder(tf.float32, [3], name="x")
    _, acc = tf.while_loop(lambda i, a: i < 5, lambda i, a: (i + 1, a * 0.5 + v * x), [tf.constant(0), x],
                           name="loop")
    return {"x:0": np.array([1.0, -2.0, 0.25], np.float32)}, [tf.identity(acc, name="acc")], []


def _loop_assign(tf):
    v = tf.Variable(2.0, name="v")
    n = tf.placeholder(tf.int32, [], name="n")

    def body(i):
        with tf.control_dependencies([v.assign_add(tf.cast(i, tf.float32) * 0.5)]):
            return i + 1

    i = tf.while_loop(lambda i: i < n, body, [tf.constant(0)], name="loop")
    with tf.control_dependencies([i]):
        after = tf.identity(v.read_value(), name="after")
    # Run twice: the second run starts from what the first left in the variable.
    return {"n:0": np.array(4, np.int32)}, [after], [after]


OPTIMIZERS = {
    "gd": lambda tf: tf.train.GradientDescentOptimizer(0.1),
    "momentum": lambda tf: tf.train.MomentumOptimizer(0.1, 0.9, use_nesterov=True),
    "adam": lambda tf: tf.train.AdamOptimizer(0.05),
    "adagrad": lambda tf: tf.train.AdagradOptimizer(0.1),
    "adadelta": lambda tf: tf.train.AdadeltaOptimizer(1.0),
    "rmsprop": lambda tf: tf.train.RMSPropOptimizer(0.01, momentum=0.5, centered=True),
}


def _training(tf, make_optimizer):
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    ids = tf.placeholder(tf.int32, [None], name="ids")
    y = tf.placeholder(tf.float32, [None, 2], name="y")
    w1 = tf.get_variable("w1", initializer=tf.constant(W1))
    emb = tf.get_variable("emb", initializer=tf.constant(EMB))
    w2 = tf.Variable(W2, name="w2")
    hidden = tf.nn.relu(tf.matmul(x, w1) + tf.nn.embedding_lookup(emb, ids))
    loss = tf.reduce_mean(tf.square(tf.matmul(hidden, w2) - y), name="loss")
    train = make_optimizer(tf).minimize(loss, name="train")
    return {"x:0": X, "ids:0": IDS, "y:0": Y}, loss, train


def _loop_training(tf):
    v = tf.Variable(V[:2], name="v")
    x = tf.placeholder(tf.float32, [2], name="x")
    _, acc = tf.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, tf.tanh(a * v + x)), [0, x], name="loop")
    loss = tf.reduce_sum(acc, name="loss")
    train = tf.train.AdamOptimizer(0.1).minimize(loss, name="train")
    return {"x:0": np.array([1.0, 2.0], np.float32)}, loss, train


def _rnn_training(tf):
    """A recurrent network over 4 time steps: TensorArrays read and written in a loop reading two variables."""
    x = tf.placeholder(tf.float32, [4, 2, 3], name="x")
    w_in = tf.get_variable("w_in", initializer=tf.constant(W_IN))
    w_rec = tf.get_variable("w_rec", initializer=tf.constant(W_REC))
    steps = tf.TensorArray(tf.float32, size=4).unstack(x)

    def body(t, h, outs):
        h = tf.tanh(tf.matmul(steps.read(t), w_in) + tf.matmul(h, w_rec))
        return t + 1, h, outs.write(t, h)

    _, _, outs = tf.while_loop(lambda t, h, o: t < 4, body,
                               [tf.constant(0), tf.zeros([2, 5]), tf.TensorArray(tf.float32, size=4)], name="rnn")
    loss = tf.reduce_mean(tf.square(outs.stack() - 0.5), name="loss")
    train = tf.train.AdamOptimizer(0.05).minimize(loss, name="train")
    return {"x:0": np.linspace(-1.0, 1.0, 24).reshape(4, 2, 3).astype(np.float32)}, loss, train


FORWARD_CASES = {"cond_read": _cond_read, "loop_read": _loop_read, "loop_assign": _loop_assign}
# Training through a loop: TensorFlow's gradient (while_v2, with TensorList accumulators) imports into tfmini;
# tfmini's (WhileGrad over its tape) is its own op, which TensorFlow does not have, so only TensorFlow writes it.
TF_ONLY_TRAINING = {"train_through_loop": _loop_training}
# A loop over TensorArrays trained: tfmini's gradient exports in the form TensorFlow runs; TensorFlow's (while_v2
# summing TensorList gradients with an AddN of variants, which tfmini's AddN does not take) does not import yet.
TFMINI_ONLY_TRAINING = {"train_rnn": _rnn_training}


def _write_case(directory: str, name: str, graph_def, feeds: dict, arrays: dict, extra: dict) -> dict:
    with open(os.path.join(directory, f"{name}.pb"), "wb") as f:
        f.write(graph_def.SerializeToString())
    keys = {}
    for i, (tensor, value) in enumerate(feeds.items()):
        keys[tensor] = f"feed_{i}"
        arrays[f"feed_{i}"] = value
    np.savez(os.path.join(directory, f"{name}.npz"), **arrays)
    return {"name": name, "feeds": keys, **extra}


def _write(tf, graph_def_of, side: str, directory: str) -> None:
    """Builds every case with `tf` (TensorFlow's or tfmini's TF1 API), runs it and writes it."""
    os.makedirs(directory, exist_ok=True)
    cases = []
    for name, build in FORWARD_CASES.items():
        with tf.Graph().as_default() as g:
            feeds, fetches, again = build(tf)
            init = tf.global_variables_initializer()
            with tf.Session() as sess:
                sess.run(init)
                values = sess.run(fetches, feeds) + sess.run(again, feeds)
            names = [t.name for t in fetches + again]
            cases.append(_write_case(directory, name, graph_def_of(g), feeds,
                                     {f"out_{i}": v for i, v in enumerate(values)},
                                     {"kind": "forward", "fetches": [t.name for t in fetches],
                                      "again": [t.name for t in again], "all": names, "init": init.name}))
    training = {f"train_{opt_name}": lambda tf, make=make: _training(tf, make) for opt_name, make in OPTIMIZERS.items()}
    training.update(TF_ONLY_TRAINING if side == "TensorFlow" else TFMINI_ONLY_TRAINING)
    for name, build in training.items():
        with tf.Graph().as_default() as g:
            feeds, loss, train = build(tf)
            init = tf.global_variables_initializer()
            with tf.Session() as sess:
                sess.run(init)
                losses = [sess.run([loss, train], feeds)[0] for _ in range(STEPS)]
            cases.append(_write_case(directory, name, graph_def_of(g), feeds, {"losses": np.array(losses)},
                                     {"kind": "train", "loss": loss.name, "train": train.name, "init": init.name}))
    with open(os.path.join(directory, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
    print(f"resource_vars: {side} wrote {len(cases)} GraphDefs to {directory}")


def _check(tf, side: str, directory: str, refused: type) -> None:
    """Imports every GraphDef of `directory` with `tf`, runs it and compares with what the writer computed."""
    with open(os.path.join(directory, "cases.json")) as f:
        cases = json.load(f)
    resource_ops = set()
    for case in cases:
        name = case["name"]
        gd = tf.GraphDef()
        with open(os.path.join(directory, f"{name}.pb"), "rb") as f:
            gd.ParseFromString(f.read())
        data = np.load(os.path.join(directory, f"{name}.npz"))
        with tf.Graph().as_default() as g:
            try:
                tf.import_graph_def(gd, name="")
            except refused as e:
                _fail(f"{side} could not import the GraphDef '{name}': {type(e).__name__}: {e}")
            resource_ops |= {op.type for op in g.get_operations() if op.type.startswith(("Resource", "VarHandle"))}
            feeds = {tensor: data[key] for tensor, key in case["feeds"].items()}
            if case["kind"] == "forward":
                with tf.Session() as sess:
                    sess.run(case["init"])
                    values = sess.run(case["fetches"], feeds) + sess.run(case["again"], feeds)
                for i, (fetch, value) in enumerate(zip(case["all"], values)):
                    _close(f"{name}: {fetch}", value, data[f"out_{i}"])
                continue
            for s in range(SESSIONS):
                with tf.Session() as sess:
                    sess.run(case["init"])
                    losses = [sess.run([case["loss"], case["train"]], feeds)[0] for _ in range(STEPS)]
                _close(f"{name}: losses in {side} session {s + 1} of {SESSIONS}", losses, data["losses"])
    if not {"VarHandleOp", "ResourceApplyAdam", "ResourceGather"} <= resource_ops:
        _fail(f"the GraphDefs hold no resource variables: only {sorted(resource_ops)}")
    print(f"resource_vars: {side} ran the other side's {len(cases)} GraphDefs with its numbers "
          f"(training graphs in {SESSIONS} sessions each)")


def _tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import tensorflow.compat.v1 as tf

    tf.disable_v2_behavior()
    tf.enable_resource_variables()
    tf.enable_control_flow_v2()
    return tf


def _tfmini():
    import tfmini as tf

    tf.enable_resource_variables()
    return tf


def tf_write(directory: str) -> None:
    _write(_tensorflow(), lambda g: g.as_graph_def(), "TensorFlow", directory)


def tf_check(directory: str) -> None:
    _check(_tensorflow(), "TensorFlow", directory, Exception)


def tfmini_write(directory: str) -> None:
    _write(_tfmini(), lambda g: g.as_graph_def(), "tfmini", directory)


def tfmini_check(directory: str) -> None:
    _check(_tfmini(), "tfmini", directory, ValueError)


COMMANDS = {"tf-write": tf_write, "tf-check": tf_check, "tfmini-write": tfmini_write, "tfmini-check": tfmini_check}

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in COMMANDS:
        print(f"usage: {sys.argv[0]} {{{','.join(COMMANDS)}}} DIR", file=sys.stderr)
        sys.exit(2)
    COMMANDS[sys.argv[1]](sys.argv[2])
