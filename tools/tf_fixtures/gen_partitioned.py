"""Records TensorFlow's numbers for partitioned variables: embedding lookups over their parts, their gradients,
and a checkpoint of a model with partitioned variables (read by tests/ops/test_partitioned_variables.py and
tests/train/test_saver_partitioned.py).

Run with the TensorFlow environment: /work/tfenv/bin/python tools/tf_fixtures/gen_partitioned.py
Writes tests/fixtures/tf/partitioned/:
- lookups.npz: embedding_lookup of a [11, 3] variable cut into 4 parts (3, 3, 3, 2 rows) and of a list of
  three tensors (4, 3, 3 rows), per partition strategy: "<case>/<strategy>/out", and the gradient of
  sum(out * COEF) per part as IndexedSlices ("<case>/<strategy>/grad<i>/values", ".../indices"), and the
  whole variable after 3 steps of gradient descent or Adam on sum((out - COEF)^2) ("train/<strategy>/<opt>");
- sparse.npz: embedding_lookup_sparse over the parts per strategy and combiner, safe_embedding_lookup_sparse
  (negative ids, default_id), and the dense gradient of each part;
- ckpt/model.{index,data-00000-of-00001}: tf.train.Saver's checkpoint of "model/emb" ([7, 4] in 3 parts along
  axis 0), "model/side" ([3, 5] in 2 parts along axis 1) and "model/bias" ([4]); ckpt.json: the full values
  and what tf.train.list_variables reports.
"""

from __future__ import annotations

import json
import os
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "tf", "partitioned")

TABLE = (np.arange(33, dtype=np.float32).reshape(11, 3) * 0.5 - 4.0).astype(np.float32)
IDS = np.array([[0, 10, 3], [7, 7, 5]], np.int64)
TRAIN_STEPS = 3
LIST_TABLE = np.random.RandomState(3).randn(10, 2).astype(np.float32)
LIST_IDS = np.array([9, 0, 4, 3, 6, 4], np.int32)
SPARSE = {"indices": [[0, 0], [0, 1], [1, 0], [3, 0], [3, 1], [3, 2]], "ids": [1, 10, 4, 7, 2, 1],
          "weights": [0.5, 2.0, 1.0, -1.5, 0.25, 3.0], "dense_shape": [4, 3]}
SAFE = {"indices": [[0, 0], [0, 1], [1, 0], [2, 0], [2, 1]], "ids": [3, -1, -2, 9, 6], "dense_shape": [4, 2]}
EMB = np.random.RandomState(5).randn(7, 4).astype(np.float32)
ADAM_IDS = np.array([[0, 6, 3], [5, 5, 2]], np.int64)
SIDE = np.random.RandomState(6).randn(3, 5).astype(np.float32)
BIAS = np.array([0.5, -1.0, 2.0, 0.0], np.float32)


def coefficients(shape) -> np.ndarray:
    return (np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape) % 5 - 2.0).astype(np.float32)


def record_lookups() -> None:
    out = {}
    for strategy in ("mod", "div"):
        with tf.Graph().as_default():
            w = tf.get_variable("w", [11, 3], initializer=TABLE,
                                partitioner=tf.fixed_size_partitioner(4))
            looked = tf.nn.embedding_lookup(w, IDS, partition_strategy=strategy)
            clipped = tf.nn.embedding_lookup(w, IDS, partition_strategy=strategy, max_norm=3.0)
            grads = tf.gradients(tf.reduce_sum(looked * coefficients(looked.shape.as_list())), list(w))
            parts = [tf.constant(LIST_TABLE[:4]), tf.constant(LIST_TABLE[4:7]), tf.constant(LIST_TABLE[7:])]
            listed = tf.nn.embedding_lookup(parts, LIST_IDS, partition_strategy=strategy)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                got, got_clipped, got_grads, got_list = sess.run([looked, clipped, grads, listed])
        out[f"var/{strategy}/out"] = got
        out[f"var/{strategy}/clipped"] = got_clipped
        for i, g in enumerate(got_grads):
            out[f"var/{strategy}/grad{i}/values"] = g.values
            out[f"var/{strategy}/grad{i}/indices"] = g.indices
            out[f"var/{strategy}/grad{i}/dense_shape"] = g.dense_shape
        out[f"list/{strategy}/out"] = got_list
        for opt_name, make in (("sgd", lambda: tf.train.GradientDescentOptimizer(0.1)),
                               ("adam", lambda: tf.train.AdamOptimizer(0.05))):
            with tf.Graph().as_default():
                w = tf.get_variable("w", [11, 3], initializer=TABLE, partitioner=tf.fixed_size_partitioner(4))
                looked = tf.nn.embedding_lookup(w, IDS, partition_strategy=strategy)
                train = make().minimize(tf.reduce_sum(tf.square(looked - coefficients(looked.shape.as_list()))))
                with tf.Session() as sess:
                    sess.run(tf.global_variables_initializer())
                    for _ in range(TRAIN_STEPS):
                        sess.run(train)
                    out[f"train/{strategy}/{opt_name}"] = sess.run(tf.convert_to_tensor(w))
    np.savez(os.path.join(OUT, "lookups.npz"), **out)


def record_sparse() -> None:
    out = {}
    with tf.Graph().as_default():
        w = tf.get_variable("w", [11, 3], initializer=TABLE,
                            partitioner=tf.fixed_size_partitioner(4))
        sp_ids = tf.SparseTensor(SPARSE["indices"], tf.constant(SPARSE["ids"], tf.int64), SPARSE["dense_shape"])
        sp_weights = tf.SparseTensor(SPARSE["indices"], SPARSE["weights"], SPARSE["dense_shape"])
        fetches = {}
        for strategy in ("mod", "div"):
            for combiner in ("sum", "mean", "sqrtn"):
                fetches[f"sparse/{strategy}/{combiner}"] = tf.nn.embedding_lookup_sparse(
                    w, sp_ids, sp_weights, partition_strategy=strategy, combiner=combiner)
        loss = tf.reduce_sum(fetches["sparse/mod/mean"] * coefficients([4, 3]))
        for i, g in enumerate(tf.gradients(loss, list(w))):
            fetches[f"sparse/mod/mean/grad{i}"] = tf.convert_to_tensor(g)
        safe_ids = tf.SparseTensor(SAFE["indices"], tf.constant(SAFE["ids"], tf.int64), SAFE["dense_shape"])
        fetches["safe/div"] = tf.nn.safe_embedding_lookup_sparse(w, safe_ids)
        fetches["safe/mod/default"] = tf.nn.safe_embedding_lookup_sparse(w, safe_ids, default_id=2,
                                                                         partition_strategy="mod")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            out.update(sess.run(fetches))
    np.savez(os.path.join(OUT, "sparse.npz"), **out)


def record_checkpoint() -> None:
    directory = os.path.join(OUT, "ckpt")
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    with tf.Graph().as_default():
        with tf.variable_scope("model"):
            tf.get_variable("emb", [7, 4], initializer=EMB,
                            partitioner=tf.fixed_size_partitioner(3))
            tf.get_variable("side", [3, 5], initializer=SIDE,
                            partitioner=tf.fixed_size_partitioner(2, axis=1))
            tf.get_variable("bias", initializer=BIAS)
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            prefix = saver.save(sess, os.path.join(directory, "model"), write_state=False)
    listed = [[name, list(shape)] for name, shape in tf.train.list_variables(prefix)]
    with open(os.path.join(OUT, "ckpt.json"), "w", encoding="utf-8") as f:
        json.dump({"list_variables": listed, "emb": EMB.tolist(), "side": SIDE.tolist(), "bias": BIAS.tolist()},
                  f, indent=1)


def adam_model():
    """A partitioned embedding trained by Adam: its slots are partitioned like it (saved as `emb/Adam` slices)."""
    with tf.variable_scope("model"):
        emb = tf.get_variable("emb", [7, 4], initializer=EMB, partitioner=tf.fixed_size_partitioner(3))
    out = tf.nn.embedding_lookup(emb, ADAM_IDS, partition_strategy="mod")
    loss = tf.reduce_sum(tf.square(out - 1.0))
    return emb, tf.train.AdamOptimizer(0.05).minimize(loss)


def record_adam_checkpoint() -> None:
    """ckpt_adam/model: after one Adam step; ckpt_adam.json: its names and the whole embedding after one more."""
    directory = os.path.join(OUT, "ckpt_adam")
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    with tf.Graph().as_default():
        emb, train = adam_model()
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train)
            prefix = saver.save(sess, os.path.join(directory, "model"), write_state=False, write_meta_graph=False)
            sess.run(train)
            after = sess.run(tf.concat(list(emb), 0))
    listed = [[name, list(shape)] for name, shape in tf.train.list_variables(prefix)]
    with open(os.path.join(OUT, "ckpt_adam.json"), "w", encoding="utf-8") as f:
        json.dump({"list_variables": listed, "emb_after_next_step": after.tolist()}, f, indent=1)


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    record_lookups()
    record_sparse()
    record_checkpoint()
    record_adam_checkpoint()


if __name__ == "__main__":
    main()
