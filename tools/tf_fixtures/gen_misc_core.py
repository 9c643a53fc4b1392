"""Records TensorFlow's numbers for tests/ops/test_lookup_ops.py, test_custom_gradient.py and test_init_ops'
orthogonal cases (tests/ops/test_script_ops.py reads the py_func messages).

Run with the TensorFlow environment: /work/tfenv/bin/python tools/tf_fixtures/gen_misc_core.py
Writes tests/fixtures/tf/misc_core/:
- orthogonal.npz: per case i, "<i>/normal" (TF's random_normal draw of the flattened shape under the case's seeds)
  and "<i>/out" (tf.orthogonal_initializer with the same seeds), and orthogonal.json (shape, gain, seeds);
- lookup.json: vocabulary tables over strings and integers (out-of-vocabulary buckets, defaults, files);
- custom_gradient.npz: values and gradients of functions with custom gradients, with and without variables;
- py_func.json: the messages TF gives for a py_func returning the wrong dtype or count;
- partitioned.json: what the partitioners answer for shapes and dtypes, and the parts (names, slice specs and
  values) get_variable makes with them.
"""

from __future__ import annotations

import json
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "tf", "misc_core")

ORTHOGONAL_CASES = [
    {"shape": [3, 5], "gain": 1.0, "graph_seed": 1, "seed": 7, "dtype": "float32"},
    {"shape": [5, 3], "gain": 2.5, "graph_seed": 3, "seed": 11, "dtype": "float64"},
    {"shape": [2, 3, 4], "gain": 1.0, "graph_seed": 5, "seed": 2, "dtype": "float32"},
    {"shape": [4, 4], "gain": 0.5, "graph_seed": 9, "seed": 4, "dtype": "float64"},
    {"shape": [2, 2, 8], "gain": 1.0, "graph_seed": 2, "seed": 13, "dtype": "float64"},
]


def record_orthogonal() -> None:
    arrays = {}
    for i, case in enumerate(ORTHOGONAL_CASES):
        shape, dtype = case["shape"], getattr(tf, case["dtype"])
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        flat = (cols, rows) if rows < cols else (rows, cols)
        with tf.Graph().as_default() as g:
            g.seed = case["graph_seed"]
            normal = tf.random_normal(flat, dtype=dtype, seed=case["seed"])
            with tf.Session() as sess:
                arrays[f"{i}/normal"] = sess.run(normal)
        with tf.Graph().as_default() as g:
            g.seed = case["graph_seed"]
            init = tf.orthogonal_initializer(gain=case["gain"], seed=case["seed"], dtype=dtype)
            value = init(shape)
            with tf.Session() as sess:
                arrays[f"{i}/out"] = sess.run(value)
    np.savez_compressed(os.path.join(OUT, "orthogonal.npz"), **arrays)
    with open(os.path.join(OUT, "orthogonal.json"), "w", encoding="utf-8") as f:
        json.dump(ORTHOGONAL_CASES, f, indent=1)


def _plain(value):
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()] if value.ndim else _plain(value.item())
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, (np.integer,)):
        return int(value)
    return value


VOCAB = ["emerson", "lake", "palmer", "brain", "salad", "surgery"]
COLUMNS = ["10\tten\t1.5", "20\ttwenty\t2.5", "30\tthirty\t3.5", "40\tforty\t4.5"]
STRING_QUERIES = [["lake", "nope", "surgery"], ["karn", "evil", "9"]]
INT_QUERIES = [[20, 7, 40], [-3, 10, 123456789]]


def record_lookup() -> None:
    cases = {}
    with tempfile.TemporaryDirectory() as tmp:
        vocab_file = os.path.join(tmp, "vocab.txt")
        columns_file = os.path.join(tmp, "columns.txt")
        with open(vocab_file, "w", encoding="utf-8") as f:
            f.write("\n".join(VOCAB) + "\n")
        with open(columns_file, "w", encoding="utf-8") as f:
            f.write("\n".join(COLUMNS) + "\n")
        with tf.Graph().as_default():
            queries = tf.constant(STRING_QUERIES)
            ints = tf.constant(INT_QUERIES, tf.int64)
            built = {
                "tensor_oov3": tf.lookup.StaticVocabularyTable(
                    tf.lookup.KeyValueTensorInitializer(VOCAB, np.arange(6, dtype=np.int64)), 3).lookup(queries),
                "int_vocab_oov5": tf.lookup.StaticVocabularyTable(
                    tf.lookup.KeyValueTensorInitializer(np.array([10, 20, 30], np.int64),
                                                        np.arange(3, dtype=np.int64)), 5).lookup(ints),
                "file_oov2": tf.lookup.StaticVocabularyTable(
                    tf.lookup.TextFileInitializer(vocab_file, tf.string, -2, tf.int64, -1), 2).lookup(queries),
                "file_vocab3_default": tf.lookup.StaticHashTable(
                    tf.lookup.TextFileInitializer(vocab_file, tf.string, -2, tf.int64, -1, vocab_size=3),
                    -7).lookup(queries),
                "columns_int_to_string": tf.lookup.StaticHashTable(
                    tf.lookup.TextFileInitializer(columns_file, tf.int64, 0, tf.string, 1), "?").lookup(ints),
                "columns_string_to_float": tf.lookup.StaticHashTable(
                    tf.lookup.TextFileInitializer(columns_file, tf.string, 1, tf.float32, 2), -1.0).lookup(
                        tf.constant(["twenty", "forty", "none"])),
                "hash_table_default": tf.lookup.StaticHashTable(
                    tf.lookup.KeyValueTensorInitializer(["a", "b"], [1.5, 2.5]), 0.25).lookup(
                        tf.constant(["b", "c", "a"])),
            }
            mutable = tf.lookup.experimental.MutableHashTable(tf.string, tf.int64, -1)
            vectors = tf.lookup.experimental.MutableHashTable(tf.int64, tf.float32, [0.5, -0.5])
            dense = tf.lookup.experimental.DenseHashTable(tf.int64, tf.int64, -1, empty_key=0, deleted_key=-1)
            changes = [mutable.insert(["a", "b", "c"], np.array([1, 2, 3], np.int64)),
                       mutable.insert(["b", "d"], np.array([20, 4], np.int64)),
                       mutable.remove(tf.constant(["c", "zz"])),
                       vectors.insert(tf.constant([5, 6], tf.int64), [[1.0, 2.0], [3.0, 4.0]]),
                       dense.insert(tf.constant([3, 4, 5], tf.int64), tf.constant([30, 40, 50], tf.int64)),
                       dense.remove(tf.constant([4], tf.int64))]
            built["mutable_after_changes"] = mutable.lookup(tf.constant(["a", "b", "c", "d", "e"]))
            built["mutable_vectors"] = vectors.lookup(tf.constant([[6, 7], [5, 6]], tf.int64))
            built["dense_after_changes"] = dense.lookup(tf.constant([3, 4, 5, 6], tf.int64))
            sizes = {
                "mutable_size": mutable.size(),
                "dense_size": dense.size(),
                "vocab_size": tf.lookup.StaticVocabularyTable(
                    tf.lookup.KeyValueTensorInitializer(VOCAB, np.arange(6, dtype=np.int64)), 3).size(),
            }
            with tf.Session() as sess:
                sess.run(tf.tables_initializer())
                for change in changes:
                    sess.run(change)
                for name, t in built.items():
                    cases[name] = _plain(sess.run(t))
                for name, t in sizes.items():
                    cases[name] = _plain(sess.run(t))
    cases["inputs"] = {"vocab": VOCAB, "columns": COLUMNS, "string_queries": STRING_QUERIES,
                       "int_queries": INT_QUERIES}
    with open(os.path.join(OUT, "lookup.json"), "w", encoding="utf-8") as f:
        json.dump(cases, f, indent=1)


def record_custom_gradient() -> None:
    arrays = {}
    x_value = np.array([-30.0, -1.0, 0.0, 2.0, 40.0])
    arrays["x"] = x_value
    with tf.Graph().as_default():
        @tf.custom_gradient
        def log1pexp(x):
            e = tf.exp(x)

            def grad(dy):
                return dy * (1 - 1 / (1 + e))
            return tf.log(1 + e), grad

        @tf.custom_gradient
        def clip_gradient(x):
            def grad(dy):
                return tf.clip_by_norm(dy, 0.5)
            return tf.identity(x) * 3.0, grad

        x = tf.constant(x_value)
        y1 = log1pexp(x)
        y2 = clip_gradient(x)
        g1 = tf.gradients(y1, x)[0]
        g2 = tf.gradients(y2 * y2, x)[0]
        with tf.Session() as sess:
            for key, t in (("y1", y1), ("g1", g1), ("y2", y2), ("g2", g2)):
                arrays[key] = sess.run(t)
    with tf.Graph().as_default():
        w = tf.get_variable("w", initializer=np.array([[0.5, -1.0], [2.0, 0.25]]), use_resource=True)
        x = tf.constant([[1.0, 2.0], [3.0, -4.0]], tf.float64)

        @tf.custom_gradient
        def scaled_matmul(x):
            y = tf.matmul(x, w)

            def grad(dy, variables=None):
                dx = tf.matmul(dy, w, transpose_b=True) * 2.0
                dw = tf.matmul(x, dy, transpose_a=True) * 3.0
                return dx, [dw]
            return y, grad

        y = scaled_matmul(x)
        loss = tf.reduce_sum(y * y)
        gx, gw = tf.gradients(loss, [x, w])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            arrays["var_y"], arrays["var_gx"], arrays["var_gw"] = sess.run([y, gx, gw])
    np.savez_compressed(os.path.join(OUT, "custom_gradient.npz"), **arrays)


def record_py_func_messages() -> None:
    messages = {}
    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0])
        wrong_dtype = tf.py_func(lambda a: a.astype(np.float64), [x], tf.float32)
        wrong_count = tf.py_func(lambda a: (a, a), [x], tf.float32)
        raises = tf.py_func(lambda a: 1 / 0, [x], tf.float32)
        stops = tf.py_func(lambda a: next(iter([])), [x], tf.float32)
        bad_value = tf.py_func(lambda a: int("q"), [x], tf.float32)
        with tf.Session() as sess:
            for key, t in (("wrong_dtype", wrong_dtype), ("wrong_count", wrong_count), ("raises", raises),
                           ("stops", stops), ("bad_value", bad_value)):
                try:
                    sess.run(t)
                except tf.errors.OpError as exc:
                    lines = [ln for ln in exc.message.splitlines() if ln.strip()]
                    first = next(ln for ln in lines if not ln.startswith(("Graph execution", "Detected at",
                                                                            "  ", "Node:")))
                    messages[key] = {"error": type(exc).__name__, "message": first.strip()}
    with open(os.path.join(OUT, "py_func.json"), "w", encoding="utf-8") as f:
        json.dump(messages, f, indent=1)


PARTITIONER_CASES = [
    ("fixed", {"num_shards": 3}, [7, 2], "float32"),
    ("fixed", {"num_shards": 5, "axis": 1}, [4, 3], "float32"),
    ("axis_size", {"max_shard_bytes": 100}, [30, 4], "float32"),
    ("axis_size", {"max_shard_bytes": 100, "axis": 1}, [3, 40], "float64"),
    ("axis_size", {"max_shard_bytes": 100, "max_shards": 2}, [30, 4], "float32"),
    ("axis_size", {"max_shard_bytes": 10}, [3, 40], "float32"),
    ("axis_size", {"max_shard_bytes": 64, "bytes_per_string_element": 8}, [20, 2], "string"),
    ("min_max", {"max_partitions": 4, "min_slice_size": 64}, [20, 5], "float32"),
    ("min_max", {"max_partitions": 10, "min_slice_size": 256}, [20, 5], "float64"),
    ("min_max", {"max_partitions": 100, "min_slice_size": 1, "axis": 1}, [2, 3], "int32"),
    ("min_max", {"max_partitions": 3}, [1000, 1000], "float32"),
]


def record_partitioned() -> None:
    makers = {"fixed": tf.fixed_size_partitioner, "axis_size": tf.variable_axis_size_partitioner,
              "min_max": tf.min_max_variable_partitioner}
    cases = []
    for kind, kwargs, shape, dtype in PARTITIONER_CASES:
        partitions = makers[kind](**kwargs)(shape=tf.TensorShape(shape), dtype=tf.as_dtype(dtype))
        cases.append({"kind": kind, "kwargs": kwargs, "shape": shape, "dtype": dtype,
                      "partitions": [int(p) for p in partitions]})
    table = np.arange(22, dtype=np.float32).reshape(11, 2)
    with tf.Graph().as_default():
        with tf.variable_scope("emb", partitioner=tf.fixed_size_partitioner(4)):
            w = tf.get_variable("w", [11, 2], initializer=table)
        ids = [0, 1, 4, 7, 10, 3]
        lookups = {s: tf.nn.embedding_lookup(w, ids, partition_strategy=s) for s in ("mod", "div")}
        parts = [{"name": v.name, "spec": v._save_slice_info.spec, "shape": v.shape.as_list()} for v in w]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            looked_up = {s: sess.run(t).tolist() for s, t in lookups.items()}
    with open(os.path.join(OUT, "partitioned.json"), "w", encoding="utf-8") as f:
        json.dump({"partitioners": cases, "parts": parts, "ids": ids, "lookups": looked_up}, f, indent=1)


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    record_orthogonal()
    record_lookup()
    record_custom_gradient()
    record_py_func_messages()
    record_partitioned()


if __name__ == "__main__":
    main()
