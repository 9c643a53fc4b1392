"""Meta graphs, frozen graphs and SavedModels both ways between TensorFlow and tfmini (run by `make interop`).

    /work/tfenv/bin/python tools/interop/meta_graphs.py tf-write D1      # TensorFlow writes
    .venv/bin/python       tools/interop/meta_graphs.py tfmini-check D1  # tfmini reads and compares
    .venv/bin/python       tools/interop/meta_graphs.py tfmini-write D2  # tfmini writes
    /work/tfenv/bin/python tools/interop/meta_graphs.py tf-check D2      # TensorFlow reads and compares

The writer builds one TF1 program (a small softmax classifier on reference variables, trained by gradient
descent with a global step), trains one step and writes: `ckpt/model-1` with its `.meta` (Saver.save),
`frozen.pb` (convert_variables_to_constants of the output), `graph.pbtxt` (write_graph, text) and
`saved_model/` (simple_save, tag 'serve'), recording the values in `expected.json`. The checker, without
building the model itself, imports the meta graph and restores the checkpoint (values and loss must match),
runs the train op from the train_op collection once more (the next step must match the writer's), runs the
frozen graph and the text graph, and loads the SavedModel and runs its serving signature. Any disagreement
exits non-zero with a message. TensorFlow is imported only by the tf-* commands, tfmini only by the tfmini-*
commands.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

X = np.array([[1.0, -2.0, 0.5], [0.25, 1.5, -1.0], [0.0, 0.5, 2.0]], np.float32)
LABELS = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]], np.float32)
W0 = np.array([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]], np.float32)
B0 = np.array([0.05, -0.05], np.float32)
RTOL = 1e-5

# Attrs TensorFlow 2.x added after 1.15 (second-order gradient hints on MatMul): the TF side removes them from
# what it writes, so the files are what TF 1.15 writes.
TF2_ONLY_ATTRS = {"MatMul": ("grad_a", "grad_b")}


def build_model(tf):
    """The program, in TF1 API calls both sides share: returns (x, labels, w, b, probs, loss, train)."""
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    labels = tf.placeholder(tf.float32, [None, 2], name="labels")
    w = tf.get_variable("w", initializer=W0, use_resource=False)
    b = tf.get_variable("b", initializer=B0, use_resource=False)
    logits = tf.add(tf.matmul(x, w), b, name="logits")
    probs = tf.nn.softmax(tf.nn.relu(logits), name="probs")
    loss = tf.reduce_mean(tf.square(probs - labels), name="loss")
    step = tf.train.get_or_create_global_step()
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss, global_step=step, name="train")
    tf.add_to_collection(tf.GraphKeys.LOSSES, loss)
    return x, labels, w, b, probs, loss, train


def _fail(message: str) -> None:
    print(f"meta_graphs interop: {message}", file=sys.stderr)
    sys.exit(1)


def _close(what: str, got, want) -> None:
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape or not np.allclose(got, want, rtol=RTOL, atol=1e-7):
        _fail(f"{what}: got {got.tolist()}, expected {want.tolist()}")


def write(tf, out: str, strip_tf2_attrs) -> None:
    """Runs the program with `tf` (TensorFlow's compat.v1 or tfmini) and writes every file into `out`."""
    os.makedirs(out, exist_ok=True)
    feeds = None
    record = {}
    with tf.Graph().as_default():
        x, labels, w, b, probs, loss, train = build_model(tf)
        feeds = {x: X, labels: LABELS}
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train, feeds)
            prefix = saver.save(sess, os.path.join(out, "ckpt", "model"), global_step=1)
            record["w"], record["b"], record["probs"], record["loss"] = [
                v.tolist() for v in sess.run([w, b, probs, loss], feeds)]
            frozen = tf.graph_util.convert_variables_to_constants(sess, sess.graph.as_graph_def(), ["probs"])
            strip_tf2_attrs(frozen)
            tf.train.write_graph(frozen, out, "frozen.pb", as_text=False)
            tf.io.write_graph(frozen, out, "graph.pbtxt")
            tf.saved_model.simple_save(sess, os.path.join(out, "saved_model"), inputs={"x": x},
                                       outputs={"probs": probs})
            sess.run(train, feeds)
            record["w_next"], record["loss_next"] = [v.tolist() for v in sess.run([w, loss], feeds)]
    record["prefix"] = os.path.relpath(prefix, out)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(record, f)


def check(tf, out: str, read_graph_def) -> None:
    """Reads what the other side wrote into `out` with `tf` and compares it with `expected.json`."""
    with open(os.path.join(out, "expected.json")) as f:
        expected = json.load(f)
    prefix = os.path.join(out, expected["prefix"])
    feeds = {"x:0": X, "labels:0": LABELS}
    with tf.Graph().as_default():
        saver = tf.train.import_meta_graph(prefix + ".meta")
        if saver is None:
            _fail("the meta graph gave no Saver")
        train_ops = tf.get_collection(tf.GraphKeys.TRAIN_OP)
        if [op.name for op in train_ops] != ["train"]:
            _fail(f"train_op collection holds {[op.name for op in train_ops]}, expected ['train']")
        names = sorted(v.op.name for v in tf.global_variables())
        if names != ["b", "global_step", "w"]:
            _fail(f"global variables after import: {names}")
        if sorted(v.op.name for v in tf.trainable_variables()) != ["b", "w"]:
            _fail("trainable variables after import differ")
        losses = tf.get_collection(tf.GraphKeys.LOSSES)
        with tf.Session() as sess:
            saver.restore(sess, prefix)
            _close("restored w", sess.run("w:0"), expected["w"])
            _close("restored b", sess.run("b:0"), expected["b"])
            _close("loss", sess.run(losses[0], feeds), expected["loss"])
            sess.run(train_ops[0], feeds)
            _close("w after one more step", sess.run("w:0"), expected["w_next"])
            _close("loss after one more step", sess.run("loss:0", feeds), expected["loss_next"])
            if sess.run(tf.train.get_global_step()) != 2:
                _fail("the global step did not advance to 2")
    for name in ("frozen.pb", "graph.pbtxt"):
        graph_def = read_graph_def(os.path.join(out, name))
        if any(nd.op in ("VariableV2", "Variable") for nd in graph_def.node):
            _fail(f"{name} still holds variables")
        with tf.Graph().as_default():
            tf.import_graph_def(graph_def, name="")
            with tf.Session() as sess:
                _close(f"{name} probs", sess.run("probs:0", {"x:0": X}), expected["probs"])
    with tf.Graph().as_default(), tf.Session() as sess:
        mg = tf.saved_model.loader.load(sess, [tf.saved_model.tag_constants.SERVING], os.path.join(out, "saved_model"))
        sig = mg.signature_def[tf.saved_model.signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY]
        if sig.method_name != tf.saved_model.signature_constants.PREDICT_METHOD_NAME:
            _fail(f"serving signature has method {sig.method_name!r}")
        x = tf.saved_model.utils.get_tensor_from_tensor_info(sig.inputs["x"])
        probs = tf.saved_model.utils.get_tensor_from_tensor_info(sig.outputs["probs"])
        _close("SavedModel probs", sess.run(probs, {x: X}), expected["probs"])


# -- the two sides ------------------------------------------------------------------------------------------
def _tf():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import tensorflow.compat.v1 as tf  # noqa: PLC0415 - TensorFlow only in the tf-* commands

    tf.disable_v2_behavior()
    return tf


def _tfmini():
    import tfmini  # noqa: PLC0415 - tfmini only in the tfmini-* commands

    return tfmini


def _drop_tf2_only_attrs(graph_def) -> None:
    for nd in graph_def.node:
        for name in TF2_ONLY_ATTRS.get(nd.op, ()):
            if name in nd.attr:
                del nd.attr[name]


def _tf_without_tf2_attrs(out: str) -> None:
    """Rewrites the meta graph and the SavedModel TensorFlow wrote without its 2.x-only attrs."""
    from tensorflow.core.protobuf import meta_graph_pb2, saved_model_pb2  # noqa: PLC0415 - TF side only

    with open(os.path.join(out, "expected.json")) as f:
        meta_path = os.path.join(out, json.load(f)["prefix"] + ".meta")
    for path, message in ((meta_path, meta_graph_pb2.MetaGraphDef()),
                          (os.path.join(out, "saved_model", "saved_model.pb"), saved_model_pb2.SavedModel())):
        with open(path, "rb") as f:
            message.ParseFromString(f.read())
        graphs = [mg.graph_def for mg in message.meta_graphs] if path.endswith("saved_model.pb") \
            else [message.graph_def]
        for g in graphs:
            _drop_tf2_only_attrs(g)
        with open(path, "wb") as f:
            f.write(message.SerializeToString())


def _graph_def_reader(graph_pb2_module, text_format):
    def read(path: str):
        graph_def = graph_pb2_module.GraphDef()
        with open(path, "rb") as f:
            data = f.read()
        if path.endswith(".pbtxt"):
            text_format.Parse(data.decode("utf-8"), graph_def)
        else:
            graph_def.ParseFromString(data)
        return graph_def
    return read


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in ("tf-write", "tf-check", "tfmini-write", "tfmini-check"):
        print(__doc__, file=sys.stderr)
        return 2
    command, out = argv[1], os.path.abspath(argv[2])
    from google.protobuf import text_format  # noqa: PLC0415 - both sides have protobuf

    if command == "tf-write":
        write(_tf(), out, _drop_tf2_only_attrs)
        _tf_without_tf2_attrs(out)
    elif command == "tfmini-write":
        write(_tfmini(), out, lambda graph_def: None)
    elif command == "tf-check":
        tf = _tf()
        check(tf, out, _graph_def_reader(tf, text_format))
    else:
        tf = _tfmini()
        check(tf, out, _graph_def_reader(tf, text_format))
    print(f"meta_graphs interop: {command} {out}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
