"""Training and frozen GraphDefs both ways between TensorFlow and tfmini (run by `make interop`).

    /work/tfenv/bin/python tools/interop/tf_graphs.py tf-write DIR      TensorFlow writes the graphs
    .venv/bin/python       tools/interop/tf_graphs.py tfmini-check DIR  tfmini imports, trains and runs them
    .venv/bin/python       tools/interop/tf_graphs.py tfmini-write DIR  tfmini writes the graphs
    /work/tfenv/bin/python tools/interop/tf_graphs.py tf-check DIR      TensorFlow imports, trains and runs them

Both sides build the same TF1 program (the two libraries share the API): a conv net with fused batch norm,
depthwise convolution, LRN and max pooling, an MLP head with sigmoid, tanh, sqrt, rsqrt and reciprocal, and index
ops (segment sums, dynamic partition and stitch, setdiff1d, top_k, gather_nd) in the loss, on reference variables
with Momentum. Its gradients come from the writer's tf.gradients, so TF's graph carries TF's gradient-helper ops
(SigmoidGrad, FusedBatchNormGradV3, DepthwiseConv2dNativeBackprop*, LRNGrad, ConcatOffset...) and tfmini's carries
tfmini's. The updates wait for every gradient (control dependencies), so no run reads a variable after its update.

The writer saves graph.pb (the whole training graph), frozen.pb (the forward graph after training, its variables
as constants), and expected.npz (the feeds, the loss at each training step, and the frozen outputs). The checker
imports graph.pb, initializes, trains with the same feeds and must see the same losses; it imports frozen.pb and
must compute the same outputs. Exits non-zero with a message on any disagreement. TensorFlow is imported only by
the tf-* commands, tfmini only by the tfmini-* commands.
"""

from __future__ import annotations

import json
import os
import sys
from types import ModuleType

import numpy as np
from _driver import expect, import_tensorflow, run

STEPS = 4
RTOL = 1e-4


def _values() -> dict:
    rng = np.random.RandomState(11)

    def normal(*shape, scale=0.5):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    return {
        "k0": normal(3, 3, 2, 4), "gamma": 1 + normal(4, scale=0.1), "beta": normal(4, scale=0.1),
        "dw": normal(3, 3, 4, 2), "w1": normal(32, 6, scale=0.2), "w2": normal(6, 3),
        "x": normal(4, 4, 4, 2, scale=1.0), "y": rng.randint(0, 3, 4).astype(np.int32),
    }


def _build(tf: ModuleType, values: dict):
    """The program, in whichever library `tf` is: (loss, train op, logits, init op)."""
    x = tf.placeholder(tf.float32, [None, 4, 4, 2], name="x")
    y = tf.placeholder(tf.int32, [None], name="y")

    def var(name):
        return tf.get_variable(name, initializer=tf.constant(values[name]), use_resource=False)

    h = tf.nn.conv2d(x, var("k0"), [1, 1, 1, 1], "SAME")
    h, _, _ = tf.nn.fused_batch_norm(h, var("gamma"), var("beta"), is_training=True)
    h = tf.nn.relu(h)
    h = tf.nn.depthwise_conv2d(h, var("dw"), [1, 1, 1, 1], "SAME")
    h = tf.nn.lrn(h, depth_radius=2, bias=1.0, alpha=0.1, beta=0.75)
    h = tf.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
    h = tf.reshape(h, [-1, 32])
    h = tf.sigmoid(tf.matmul(h, var("w1")))
    h = tf.tanh(h) + tf.sqrt(h + 1.0) * tf.rsqrt(h + 2.0) + tf.reciprocal(h + 1.5)
    logits = tf.matmul(h, var("w2"), name="logits")
    xent = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
    seg = tf.segment_sum(tf.square(h), tf.constant([0, 0, 1, 1]))
    parts = tf.dynamic_partition(h, tf.constant([1, 0, 1, 0]), 2)
    stitched = tf.dynamic_stitch([tf.constant([0, 2]), tf.constant([1, 3])], [parts[0], parts[1]])
    kept, _ = tf.setdiff1d(tf.constant([0, 1, 2, 3, 4, 5]), tf.constant([2, 4]))
    top = tf.nn.top_k(stitched, 2).values
    picked = tf.gather_nd(stitched, [[0, 1], [3, 5]])
    loss = tf.add(tf.reduce_mean(xent), 0.1 * (tf.reduce_sum(seg) + tf.reduce_sum(tf.gather(h[0], kept))
                                               + tf.reduce_sum(top) + tf.reduce_sum(picked)), name="loss")
    variables = tf.trainable_variables()
    grads = tf.gradients(loss, variables)
    with tf.control_dependencies(grads):
        train = tf.train.MomentumOptimizer(0.05, 0.9).apply_gradients(zip(grads, variables), name="train")
    return loss, train, logits, tf.global_variables_initializer()


def _write(tf: ModuleType, out: str) -> None:
    values = _values()
    feeds = {"x:0": values["x"], "y:0": values["y"]}
    with tf.Graph().as_default() as graph:
        loss, train, logits, init = _build(tf, values)
        with tf.Session() as sess:
            sess.run(init)
            losses = [sess.run([loss, train], feeds)[0] for _ in range(STEPS)]
            frozen = tf.graph_util.convert_variables_to_constants(sess, graph.as_graph_def(), ["logits", "loss"])
            outputs = sess.run([logits, loss], feeds)
    with open(os.path.join(out, "graph.pb"), "wb") as f:
        f.write(graph.as_graph_def().SerializeToString())
    with open(os.path.join(out, "frozen.pb"), "wb") as f:
        f.write(frozen.SerializeToString())
    with open(os.path.join(out, "names.json"), "w") as f:
        json.dump({"init": init.name, "train": train.name, "loss": loss.name}, f)
    np.savez(os.path.join(out, "expected.npz"), x=values["x"], y=values["y"], losses=np.array(losses),
             logits=outputs[0], loss=outputs[1])


def _check(tf: ModuleType, graph_def_class, out: str, reader: str) -> str:
    expected = np.load(os.path.join(out, "expected.npz"))
    with open(os.path.join(out, "names.json")) as f:
        names = json.load(f)
    feeds = {"x:0": expected["x"], "y:0": expected["y"]}
    gd = graph_def_class()
    with open(os.path.join(out, "graph.pb"), "rb") as f:
        gd.ParseFromString(f.read())
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(gd, name="")
        loss = graph.get_tensor_by_name(names["loss"])
        train = graph.get_operation_by_name(names["train"])
        with tf.Session() as sess:
            sess.run(graph.get_operation_by_name(names["init"]))
            losses = [sess.run([loss, train], feeds)[0] for _ in range(STEPS)]
    expect(np.allclose(losses, expected["losses"], rtol=RTOL, atol=RTOL),
            f"{reader} trained the imported graph with losses {[float(v) for v in losses]}, the writer's were "
            f"{expected['losses'].tolist()}")
    frozen = graph_def_class()
    with open(os.path.join(out, "frozen.pb"), "rb") as f:
        frozen.ParseFromString(f.read())
    with tf.Graph().as_default():
        logits_t, loss_t = tf.import_graph_def(frozen, return_elements=["logits:0", "loss:0"], name="")
        with tf.Session() as sess:
            logits, frozen_loss = sess.run([logits_t, loss_t], feeds)
    expect(np.allclose(logits, expected["logits"], rtol=RTOL, atol=RTOL),
            f"{reader} computed other logits from the frozen graph: max difference "
            f"{np.max(np.abs(logits - expected['logits']))}")
    expect(np.allclose(frozen_loss, expected["loss"], rtol=RTOL, atol=RTOL),
            f"{reader} computed the frozen loss {frozen_loss}, the writer {expected['loss']}")
    op_types = sorted({n.op for n in gd.node})
    return (f"{reader} imported {len(gd.node)} nodes of {len(op_types)} op types, trained {STEPS} steps with the "
            f"writer's losses and ran the frozen graph with its outputs")


def tf_write(out: str) -> str:
    _write(import_tensorflow(), out)
    return "TensorFlow wrote a training graph and a frozen graph"


def tf_check(out: str) -> str:
    tf = import_tensorflow()
    return _check(tf, tf.GraphDef, out, "TensorFlow")


def tfmini_write(out: str) -> str:
    import tfmini as tf

    _write(tf, out)
    return "tfmini wrote a training graph and a frozen graph"


def tfmini_check(out: str) -> str:
    import tfmini as tf
    from tfmini.protobuf import graph_pb2

    return _check(tf, graph_pb2.GraphDef, out, "tfmini")


COMMANDS = {"tf-write": tf_write, "tf-check": tf_check, "tfmini-write": tfmini_write, "tfmini-check": tfmini_check}


def main(argv: list[str]) -> int:
    return run("tf_graphs", COMMANDS, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
