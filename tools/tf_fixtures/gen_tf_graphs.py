"""Records GraphDefs written by real TensorFlow, with their outputs, for tests/framework/test_tf_graphs.py: a forward
graph, a frozen graph and training graphs whose gradients TensorFlow's tf.gradients built (so they hold TF's
gradient-helper ops), each trained a few steps from fixed initial values.

Run with the TensorFlow environment: /work/tfenv/bin/python tools/tf_fixtures/gen_tf_graphs.py
Writes tests/fixtures/tf/tf_graphs/<name>.pb (the GraphDef TensorFlow's as_graph_def gives) and <name>.npz (the
feeds, "feed/<name>", and for forward graphs the fetches' values, "fetch/<name>"; for training graphs the loss
before each of STEPS train steps and after the last). manifest.json says what each graph is and which ops it has.
Variables are reference variables (use_resource=False) initialized from constants, so runs are deterministic.
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "tf", "tf_graphs")
STEPS = 4
RNG = np.random.RandomState(7)


def _var(name, value):
    return tf.get_variable(name, initializer=tf.constant(value), use_resource=False)


def _normal(*shape, scale=0.5):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def mlp():
    """Sigmoid and tanh layers, a softmax cross-entropy loss and Adam: SigmoidGrad, TanhGrad, ApplyAdam."""
    x = tf.placeholder(tf.float32, [None, 4], name="x")
    labels = tf.placeholder(tf.float32, [None, 3], name="labels")
    h = tf.sigmoid(tf.matmul(x, _var("w0", _normal(4, 6))) + _var("b0", _normal(6)))
    h = tf.tanh(tf.matmul(h, _var("w1", _normal(6, 5))) + _var("b1", _normal(5)))
    h = tf.sqrt(tf.square(h) + 1.0) * tf.rsqrt(tf.abs(h) + 2.0) + tf.reciprocal(tf.abs(h) + 1.5)
    logits = tf.nn.xw_plus_b(h, _var("w2", _normal(5, 3)), _var("b2", _normal(3)), name="logits")
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits), name="loss")
    train = tf.train.AdamOptimizer(0.05).minimize(loss, name="train")
    feeds = {"x:0": _normal(8, 4, scale=1.0), "labels:0": np.eye(3, dtype=np.float32)[RNG.randint(0, 3, 8)]}
    return loss, train, feeds


def convnet():
    """Conv2D, fused batch norm (training mode), depthwise conv, LRN, max pooling and a dense layer, trained by
    momentum: the gradients need Conv2DBackprop*, FusedBatchNormGradV3, DepthwiseConv2dNativeBackprop*, LRNGrad,
    MaxPoolGrad."""
    x = tf.placeholder(tf.float32, [None, 6, 6, 2], name="x")
    y = tf.placeholder(tf.int32, [None], name="y")
    h = tf.nn.conv2d(x, _var("k0", _normal(3, 3, 2, 4)), [1, 1, 1, 1], "SAME")
    h, _, _ = tf.nn.fused_batch_norm(h, _var("gamma", np.ones(4, np.float32) + _normal(4, scale=0.1)),
                                     _var("beta", _normal(4, scale=0.1)), is_training=True)
    h = tf.nn.relu(h)
    h = tf.nn.depthwise_conv2d(h, _var("dw", _normal(3, 3, 4, 2)), [1, 1, 1, 1], "SAME")
    h = tf.nn.lrn(h, depth_radius=2, bias=1.0, alpha=0.1, beta=0.75)
    h = tf.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
    h = tf.reshape(h, [-1, 3 * 3 * 8])
    logits = tf.matmul(h, _var("wd", _normal(72, 3, scale=0.2)), name="logits")
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits), name="loss")
    train = tf.train.MomentumOptimizer(0.05, 0.9).minimize(loss, name="train")
    feeds = {"x:0": _normal(4, 6, 6, 2, scale=1.0), "y:0": RNG.randint(0, 3, 4).astype(np.int32)}
    return loss, train, feeds


def segments():
    """Segment sums, dynamic stitch/partition, setdiff, matrix diagonals and concat, differentiated by
    tf.gradients (DynamicStitch, ListDiff, ConcatOffset and the V3 matrix-diagonal ops on the way back)."""
    x = tf.placeholder(tf.float32, [6, 3], name="x")
    w = _var("w", _normal(6, 3))
    v = x * w
    seg = tf.math.segment_sum(v, tf.constant([0, 0, 1, 2, 2, 2]))
    parts = tf.dynamic_partition(v, tf.constant([1, 0, 1, 0, 2, 2]), 3)
    stitched = tf.dynamic_stitch([tf.constant([0, 2]), tf.constant([1, 3])], [parts[0], parts[1]])
    kept, _ = tf.setdiff1d(tf.constant([0, 1, 2, 3, 4]), tf.constant([1, 3]))
    diag = tf.linalg.diag(tf.reduce_sum(v, 0))
    band = tf.linalg.set_diag(diag + tf.matmul(tf.transpose(v), v), tf.linalg.diag_part(diag) * 2.0)
    cat = tf.concat([seg, stitched[:3], band], 0)
    loss = tf.add_n([tf.reduce_sum(tf.square(cat)), tf.reduce_sum(tf.gather(tf.reduce_sum(v, 1), kept)),
                     tf.reduce_sum(tf.reduce_max(parts[2], 0))], name="loss")
    train = tf.train.GradientDescentOptimizer(0.01).minimize(loss, name="train")
    return loss, train, {"x:0": _normal(6, 3, scale=1.0)}


def forward():
    """Ops whose TF op defs carry attrs beyond TF 1.x's (MatMul grad_a/grad_b, BatchMatMulV2 grad_x/grad_y,
    Equal incompatible_shape_error, GatherNd/ScatterNd bad_indices_policy, MaxPool explicit_paddings), TopKV2,
    Atan2, ComplexAbs and the index ops, evaluated once."""
    x = tf.placeholder(tf.float32, [2, 3, 4], name="x")
    idx = tf.placeholder(tf.int32, [5], name="idx")
    m = tf.matmul(x[0], tf.transpose(x[1]), name="mm")
    bm = tf.matmul(x, x, transpose_b=True, name="bmm")
    eq = tf.equal(tf.cast(idx, tf.float32), 2.0, name="eq")
    ne = tf.not_equal(idx, 1, name="ne")
    top = tf.nn.top_k(tf.reshape(x, [6, 4]), 2, name="top")
    top64 = tf.raw_ops.TopKV2(input=x, k=tf.constant(3, tf.int64), index_type=tf.int64, name="top64")
    gnd = tf.gather_nd(x, [[0, 1], [1, 2]], name="gnd")
    snd = tf.scatter_nd([[1], [3]], tf.ones([2, 2]), [5, 2], name="snd")
    pool = tf.nn.max_pool(tf.reshape(x, [1, 4, 6, 1]), [1, 2, 2, 1], [1, 2, 2, 1], "SAME", name="pool")
    at = tf.atan2(x[0], x[1] + 3.0, name="atan2")
    ca = tf.abs(tf.complex(x[0], x[1]), name="cabs")
    seg = tf.math.segment_max(tf.reshape(x, [6, 4]), [0, 0, 1, 1, 1, 3], name="seg")
    dd, _ = tf.setdiff1d(idx, [1, 2], name="dd")
    fetches = [m, bm, eq, ne, top.values, top.indices, top64.values, top64.indices, gnd, snd, pool, at, ca, seg, dd]
    feeds = {"x:0": _normal(2, 3, 4, scale=1.0), "idx:0": np.array([3, 1, 2, 2, 0], np.int32)}
    return fetches, feeds


def record_forward(name, build):
    graph = tf.Graph()
    with graph.as_default():
        fetches, feeds = build()
    with tf.Session(graph=graph) as sess:
        values = sess.run(fetches, feeds)
    with open(os.path.join(OUT, f"{name}.pb"), "wb") as f:
        f.write(graph.as_graph_def().SerializeToString(deterministic=True))
    arrays = {f"feed/{k}": v for k, v in feeds.items()}
    arrays.update({f"fetch/{t.name}": v for t, v in zip(fetches, values)})
    np.savez(os.path.join(OUT, f"{name}.npz"), **arrays)
    return {"kind": "forward", "fetches": [t.name for t in fetches],
            "ops": sorted({n.op for n in graph.as_graph_def().node})}


def record_frozen(name):
    graph = tf.Graph()
    with graph.as_default():
        loss, train, feeds = mlp()
        init = tf.global_variables_initializer()
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        for _ in range(2):
            sess.run(train, feeds)
        frozen_def = tf.graph_util.convert_variables_to_constants(sess, graph.as_graph_def(), ["logits", "loss"])
        values = sess.run(["logits:0", "loss:0"], feeds)
    with open(os.path.join(OUT, f"{name}.pb"), "wb") as f:
        f.write(frozen_def.SerializeToString(deterministic=True))
    arrays = {f"feed/{k}": v for k, v in feeds.items()}
    arrays.update({"fetch/logits:0": values[0], "fetch/loss:0": values[1]})
    np.savez(os.path.join(OUT, f"{name}.npz"), **arrays)
    return {"kind": "forward", "fetches": ["logits:0", "loss:0"], "ops": sorted({n.op for n in frozen_def.node})}


def record(name, build):
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(1)
        loss, train, feeds = build()
        init = tf.global_variables_initializer()
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        losses = []
        for _ in range(STEPS):
            losses.append(sess.run([loss, train], feeds)[0])
        final = sess.run(loss, feeds)
    with open(os.path.join(OUT, f"{name}.pb"), "wb") as f:
        f.write(graph.as_graph_def().SerializeToString(deterministic=True))
    arrays = {f"feed/{k}": v for k, v in feeds.items()}
    np.savez(os.path.join(OUT, f"{name}.npz"), losses=np.array(losses), final=np.array(final), **arrays)
    ops = sorted({n.op for n in graph.as_graph_def().node})
    return {"kind": "train", "init": init.name, "train": train.name, "loss": loss.name, "ops": ops}


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    manifest = {name: record(name, build) for name, build in
                (("mlp", mlp), ("convnet", convnet), ("segments", segments))}
    manifest["forward"] = record_forward("forward", forward)
    manifest["frozen"] = record_frozen("frozen")
    manifest["_tensorflow_version"] = tf.__version__
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
