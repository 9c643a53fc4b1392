"""Records meta graph, frozen graph and SavedModel fixtures with real TensorFlow (TF1 graph mode) for
tests/train/test_meta_graph_fixtures.py and tests/train/test_saved_model.py.

Run with the TensorFlow environment: /work/tfenv/bin/python tools/tf_fixtures/gen_meta_graphs.py
Writes tests/fixtures/tf/meta_graphs/: model.ckpt-1.{meta,index,data-00000-of-00001} and checkpoint (a Saver
checkpoint after one training step), frozen.pb (convert_variables_to_constants of the model's output),
saved_model/ (simple_save's export of the same model, tag 'serve', default attrs stripped), expected.npz
(variable values, outputs, the next training step's results) and ops.json (the op types and attrs TensorFlow
wrote in each graph, and the TF 2.x-only attrs removed).
"""

from __future__ import annotations

import json
import os
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "tf", "meta_graphs")

X = np.array([[1.0, -2.0, 0.5], [0.25, 1.5, -1.0]], np.float32)
LABELS = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
W0 = np.array([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]], np.float32)
B0 = np.array([0.05, -0.05], np.float32)


def build_model():
    """A small classifier of simple ops: MatMul, Add, Relu, Softmax, a squared-error loss (reduced over all axes, so its
    gradient needs no DynamicStitch) and a
    GradientDescent step on reference (VariableV2) variables."""
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


# Attrs TF 2.x added to ops after 1.15 (hints for second-order gradients): removed from the recorded graphs so
# that they are what TF 1.15 writes. Each node's removed attrs are listed in ops.json.
TF2_ONLY_ATTRS = {"MatMul": ("grad_a", "grad_b")}


def drop_tf2_only_attrs(graph_def) -> list:
    removed = []
    for nd in graph_def.node:
        for name in TF2_ONLY_ATTRS.get(nd.op, ()):
            if name in nd.attr:
                del nd.attr[name]
                removed.append(f"{nd.name}.{name}")
    return removed


def rewrite_without_tf2_attrs(path: str, message) -> list:
    with open(path, "rb") as f:
        message.ParseFromString(f.read())
    graphs = [mg.graph_def for mg in message.meta_graphs] if hasattr(message, "meta_graphs") else \
        [message.graph_def] if hasattr(message, "graph_def") else [message]
    removed = [r for g in graphs for r in drop_tf2_only_attrs(g)]
    with open(path, "wb") as f:
        f.write(message.SerializeToString())
    return removed


def ops_of(graph_def) -> dict:
    out = {}
    for nd in graph_def.node:
        out.setdefault(nd.op, sorted(set(out.get(nd.op, [])) | set(nd.attr)))
    return out


def main() -> int:
    out = os.path.abspath(OUT)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    record = {}
    with tf.Graph().as_default():
        x, labels, w, b, probs, loss, train = build_model()
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train, {x: X, labels: LABELS})
            # TF 2.x declares attrs TF 1.15 did not have (MatMul's grad_a/grad_b): the .meta keeps them, with
            # their defaults in its op list; the frozen graph and the SavedModel have default attrs stripped.
            path = saver.save(sess, os.path.join(out, "model.ckpt"), global_step=tf.train.get_global_step())
            record["w_saved"], record["b_saved"] = sess.run([w, b])
            record["probs_saved"], record["loss_saved"] = sess.run([probs, loss], {x: X, labels: LABELS})
            sess.run(train, {x: X, labels: LABELS})
            record["w_next"], record["b_next"], record["loss_next"] = sess.run([w, b, loss], {x: X, labels: LABELS})
            # freeze the state that was saved
            saver.restore(sess, path)
            stripped = tf.train.export_meta_graph(strip_default_attrs=True).graph_def
            frozen = tf.graph_util.convert_variables_to_constants(sess, stripped, ["probs"])
        mg = tf.MetaGraphDef()
        removed = {"meta_graph": rewrite_without_tf2_attrs(path + ".meta", mg)}
        removed["frozen"] = drop_tf2_only_attrs(frozen)
        with open(os.path.join(out, "frozen.pb"), "wb") as f:
            f.write(frozen.SerializeToString())
    # the checkpoint state file names an absolute path; keep it relative so the fixture can move
    with open(os.path.join(out, "checkpoint"), "w") as f:
        f.write('model_checkpoint_path: "model.ckpt-1"\nall_model_checkpoint_paths: "model.ckpt-1"\n')

    with tf.Graph().as_default():
        x, labels, w, b, probs, loss, train = build_model()
        with tf.Session() as sess:
            tf.train.Saver().restore(sess, path)
            # simple_save's builder call, with default attrs stripped
            builder = tf.saved_model.builder.SavedModelBuilder(os.path.join(out, "saved_model"))
            signature = tf.saved_model.signature_def_utils.predict_signature_def(inputs={"x": x},
                                                                                 outputs={"probs": probs})
            builder.add_meta_graph_and_variables(
                sess, [tf.saved_model.tag_constants.SERVING], clear_devices=True, strip_default_attrs=True,
                signature_def_map={tf.saved_model.signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY: signature})
            builder.save()
    from tensorflow.core.protobuf import saved_model_pb2

    sm = saved_model_pb2.SavedModel()
    removed["saved_model"] = rewrite_without_tf2_attrs(os.path.join(out, "saved_model", "saved_model.pb"), sm)

    np.savez(os.path.join(out, "expected.npz"), x=X, labels=LABELS, **record)
    with open(os.path.join(out, "ops.json"), "w") as f:
        json.dump({"tensorflow_version": tf.__version__,
                   "meta_graph": ops_of(mg.graph_def),
                   "frozen": ops_of(frozen),
                   "saved_model": ops_of(sm.meta_graphs[0].graph_def),
                   "collections": sorted(mg.collection_def),
                   "saved_model_collections": sorted(sm.meta_graphs[0].collection_def),
                   "removed_tf2_only_attrs": removed}, f, indent=1,
                  sort_keys=True)
    print("wrote", out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
