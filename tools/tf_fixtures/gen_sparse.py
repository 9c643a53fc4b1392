"""Records TensorFlow's results for tests/ops/test_sparse_fixtures.py: tf.sparse ops, their gradients, sparse
crosses (string and hashed), serialized SparseTensors, tf.sets and the errors bad input raises.

Run with the TensorFlow environment: /work/tfenv/bin/python tools/tf_fixtures/gen_sparse.py
Each case is a Python expression over `tf` and `np`, evaluated with TensorFlow here and with tfmini in the test.
Writes tests/fixtures/tf/sparse/cases.json (expression, number of outputs or error class) and cases.npz
("<name>/<i>" the i-th fetched array; strings as arrays of their hex spellings), and graph.pb: a GraphDef of sparse
ops and the gradients TensorFlow built for them, with its feeds and fetched values (graph.npz, graph.json), and
a session's runs on SparseConditionalAccumulators with their results (accumulator.json, accumulator.npz).
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "tf", "sparse")

SP = "tf.SparseTensor([[0, 0], [0, 2], [1, 1], [2, 3]], [-1.0, -2.0, 5.0, 0.5], [3, 4])"
SP_B = "tf.SparseTensor([[0, 0], [1, 2], [2, 3]], [1.0, 4.0, -0.25], [3, 4])"
IDS = "tf.SparseTensor([[0, 0], [0, 1], [1, 0]], tf.constant([0, 3, 2], tf.int64), [2, 2])"
WORDS = "tf.SparseTensor([[0, 0], [0, 1], [1, 0]], ['a1', 'a2', 'b1'], [2, 2])"
NUMS = "tf.SparseTensor([[0, 0], [0, 1], [1, 0], [1, 1]], tf.constant([7, 8, 9, 10], tf.int64), [2, 2])"


EMPTY = "tf.SparseTensor(np.zeros((0, 2), np.int64), np.zeros(0, np.float32), [3, 4])"
EMPTY_IDS = "tf.SparseTensor(np.zeros((0, 2), np.int64), np.zeros(0, np.int64), [2, 2])"
# Every op given a SparseTensor without entries (shapes and dtypes of the empty results included).
EMPTY_CASES = {
    "add": f"tf.sparse.add({EMPTY}, {EMPTY})", "add_dense": f"tf.sparse.add({EMPTY}, tf.ones([3, 4]))",
    "reorder": f"tf.sparse.reorder({EMPTY})", "reshape": f"tf.sparse.reshape({EMPTY}, [-1])",
    "slice": f"tf.sparse.slice({EMPTY}, [0, 0], [2, 2])",
    "split": f"tf.sparse.split(sp_input={EMPTY}, num_split=2, axis=0)",
    "concat": f"tf.sparse.concat(0, [{EMPTY}, {EMPTY}])", "softmax": f"tf.sparse.softmax({EMPTY})",
    "maximum": f"tf.sparse.maximum({EMPTY}, {EMPTY})", "fill_empty_rows": f"tf.sparse.fill_empty_rows({EMPTY}, 1.0)",
    "reduce_max": f"tf.sparse.reduce_max({EMPTY}, 1)", "reduce_max_all": f"tf.sparse.reduce_max({EMPTY})",
    "reduce_sum_sparse": f"tf.sparse.reduce_sum_sparse({EMPTY}, 0)", "transpose": f"tf.sparse.transpose({EMPTY})",
    "matmul": f"tf.sparse.matmul({EMPTY}, tf.ones([4, 2]))", "to_indicator": f"tf.sparse.to_indicator({EMPTY_IDS}, 4)",
    "cross_hashed": f"tf.sparse.cross_hashed([{EMPTY_IDS}, {EMPTY_IDS}])", "cross": f"tf.sparse.cross([{EMPTY_IDS}])",
    "serialize_many": f"tf.io.serialize_many_sparse({EMPTY})", "serialize": f"tf.io.serialize_sparse({EMPTY})",
    "sets_union": f"tf.sets.union({EMPTY_IDS}, {EMPTY_IDS})", "sets_size": f"tf.sets.size({EMPTY_IDS})",
    "sets_dense": f"tf.sets.intersection(tf.zeros([2, 0], tf.int64), {EMPTY_IDS})",
    "segment_mean": "tf.sparse.segment_mean(tf.ones([3, 2]), tf.zeros([0], tf.int32), tf.zeros([0], tf.int32), "
                    "num_segments=2)",
}


R3 = ("tf.SparseTensor([[0, 0, 1], [0, 2, 0], [0, 2, 3], [1, 0, 0], [1, 1, 2], [2, 2, 2]], "
      "[0.5, -1.0, 2.0, 3.0, -0.25, 1.5], [3, 3, 4])")
R3_UNORDERED = "tf.SparseTensor([[1, 1, 2], [0, 0, 1], [2, 2, 2], [0, 2, 0]], [1.0, 2.0, 3.0, 4.0], [3, 3, 4])"
SETS3 = "tf.SparseTensor([[0, 0, 0], [0, 0, 1], [1, 1, 0]], tf.constant([3, 1, 2], tf.int64), [2, 2, 2])"
DENSE3 = "tf.constant([[[1, 5], [2, 2]], [[7, 7], [0, 2]]], tf.int64)"
# Rank-3 SparseTensors (and one given out of order where the op allows it).
RANK3_CASES = {
    "softmax": f"tf.sparse.softmax({R3})",
    "rmax01": f"tf.sparse.reduce_max({R3}, [0, 1])",
    "rmax2k": f"tf.sparse.reduce_max({R3}, 2, keepdims=True)",
    "rsum_neg": f"tf.sparse.reduce_sum({R3}, -2)",
    "rsums": f"tf.sparse.reduce_sum_sparse({R3}, [0, 2])",
    "rmaxs": f"tf.sparse.reduce_max_sparse({R3}, 1, keepdims=True)",
    "transpose": f"tf.sparse.transpose({R3}, [2, 0, 1])",
    "reshape": f"tf.sparse.reshape({R3}, [9, -1])",
    "slice": f"tf.sparse.slice({R3}, [0, 1, 1], [2, 2, 3])",
    "split": f"tf.sparse.split(sp_input={R3}, num_split=3, axis=2)",
    "concat2": f"tf.sparse.concat(2, [{R3}, {R3}])",
    "concat0": f"tf.sparse.concat(0, [{R3}, {R3_UNORDERED}])",
    "fill": "tf.sparse.fill_empty_rows(tf.SparseTensor([[1, 0, 0], [3, 1, 1]], [1.0, 2.0], [5, 2, 2]), 9.0)",
    "reorder_u": f"tf.sparse.reorder({R3_UNORDERED})",
    "add_u": f"tf.sparse.add(tf.sparse.reorder({R3_UNORDERED}), {R3})",
    "max": f"tf.sparse.maximum({R3}, tf.sparse.reorder({R3_UNORDERED}))",
    "mul3": f"{R3} * tf.reshape(tf.range(4.0), [1, 1, 4])",
    "div": f"{R3} / tf.constant([[[2.0]], [[4.0]], [[8.0]]])",
    "expand": f"tf.sparse.expand_dims({R3}, 1)",
    "to_dense": f"tf.sparse.to_dense({R3})",
    "reset": f"tf.sparse.reset_shape({R3})",
    "sets3": f"tf.sets.union({SETS3}, {DENSE3})",
    "setsize3": f"tf.sets.size({SETS3})",
    "setsdiff": f"tf.sets.difference({DENSE3}, {SETS3})",
    "ser": f"tf.io.deserialize_many_sparse(tf.io.serialize_many_sparse({R3}), tf.float32)",
}


def _grad(body: str, x: str) -> str:
    """The gradient of sum(weights * body(v)) with respect to v = x (float64)."""
    return (f"(lambda v: tf.gradients(tf.reduce_sum({body} * tf.constant(np.linspace(0.5, 2.0, 6)[:4])), v))"
            f"(tf.constant({x}, tf.float64))")


CASES = {
    "add": f"tf.sparse.add({SP}, {SP_B})",
    "add_threshold": f"tf.sparse.add({SP}, {SP_B}, threshold=0.6)",
    "add_dense": f"tf.sparse.add({SP}, tf.ones([3, 4]))",
    "reorder": "tf.sparse.reorder(tf.SparseTensor([[2, 1], [0, 3], [1, 1], [0, 0]], [1, 2, 3, 4], [3, 4]))",
    "reshape": f"tf.sparse.reshape({SP}, [2, -1, 2])",
    "slice": f"tf.sparse.slice({SP}, [1, 1], [5, 2])",
    "split": f"tf.sparse.split(sp_input={SP}, num_split=3, axis=1)",
    "concat": f"tf.sparse.concat(1, [{SP}, {SP_B}])",
    "concat_expand": ("tf.sparse.concat(0, [tf.SparseTensor([[0, 1]], [1.0], [2, 2]), "
                      "tf.SparseTensor([[2, 0]], [2.0], [3, 3])], expand_nonconcat_dim=True)"),
    "softmax": f"tf.sparse.softmax({SP})",
    "maximum": f"tf.sparse.maximum({SP}, {SP_B})",
    "minimum": f"tf.sparse.minimum({SP}, {SP_B})",
    "fill_empty_rows": "tf.sparse.fill_empty_rows(tf.SparseTensor([[1, 0], [1, 2], [3, 1]], [1, 2, 3], [5, 4]), -7)",
    "reduce_max": f"tf.sparse.reduce_max({SP}, axis=1)",
    "reduce_max_all": f"tf.sparse.reduce_max({SP})",
    "reduce_max_sparse": f"tf.sparse.reduce_max_sparse({SP}, axis=0, keepdims=True)",
    "reduce_sum_sparse": f"tf.sparse.reduce_sum_sparse({SP}, axis=[1])",
    "reduce_sum_keepdims": f"tf.sparse.reduce_sum({SP}, axis=-1, keepdims=True)",
    "to_dense": f"tf.sparse.to_dense({SP}, default_value=9.0)",
    "sparse_to_dense": "tf.sparse_to_dense([[0, 1], [2, 0]], [3, 2], [5, 6], default_value=-1)",
    "transpose": f"tf.sparse.transpose({SP})",
    "retain": f"tf.sparse.retain({SP}, [True, False, False, True])",
    "reset_shape": f"tf.sparse.reset_shape({SP})",
    "eye": "tf.sparse.eye(3, 2, dtype=tf.int32)",
    "expand_dims": f"tf.sparse.expand_dims({SP}, 1)",
    "from_dense": "tf.sparse.from_dense([[0, 1.5, 0], [2.0, 0, 0]])",
    "to_indicator": f"tf.sparse.to_indicator({IDS}, 4)",
    "merge": f"tf.sparse.merge({IDS}, tf.SparseTensor([[0, 0], [0, 1], [1, 0]], [0.5, 0.6, 0.7], [2, 2]), 4)",
    "segment_sum": "tf.sparse.segment_sum(tf.constant([[1.0, 2], [3, 4], [5, 6]]), [0, 2, 2], [0, 0, 3])",
    "segment_mean": "tf.sparse.segment_mean(tf.constant([[1.0, 2], [3, 4], [5, 6]]), [0, 2, 1], [0, 0, 1])",
    "segment_sqrt_n_num": ("tf.sparse.segment_sqrt_n(tf.constant([[1.0, 2], [3, 4], [5, 6]]), [0, 2, 2], "
                           "[0, 0, 3], num_segments=5)"),
    "sparse_matmul": "tf.sparse_matmul([[1.0, 0], [0, 2]], [[1.0, 2], [3, 4]], transpose_b=True, a_is_sparse=True)",
    "dense_matmul": f"tf.sparse.matmul({SP}, tf.reshape(tf.range(8.0), [4, 2]))",
    "cross": f"tf.sparse.cross([{WORDS}, tf.constant([['d1'], ['d2']]), {NUMS}])",
    "cross_ints": f"tf.sparse.cross([{NUMS}, tf.constant([[1], [2]], tf.int64)])",
    "cross_hashed": f"tf.sparse.cross_hashed([{WORDS}, {NUMS}])",
    "cross_hashed_buckets": f"tf.sparse.cross_hashed([{WORDS}, tf.constant([['x', 'y'], ['z', 'w']])], "
                            "num_buckets=100, hash_key=5)",
    "serialize": f"tf.io.serialize_sparse({WORDS})",
    "serialize_floats": f"tf.io.serialize_sparse({SP})",
    "serialize_many": f"tf.io.serialize_many_sparse({SP})",
    "deserialize_many": f"tf.io.deserialize_many_sparse(tf.io.serialize_many_sparse({SP}), tf.float32)",
    "sets_intersection": "tf.sets.intersection([[1, 2, 2, 3], [4, 5, 6, 6]], [[2, 3, 7, 7], [6, 6, 6, 6]])",
    "sets_union_sparse": f"tf.sets.union({NUMS}, tf.constant([[8, 1], [10, 10]], tf.int64))",
    "sets_difference": "tf.sets.difference([[1, 2, 3], [4, 5, 6]], [[2, 9, 9], [4, 5, 6]])",
    "sets_difference_b": "tf.sets.difference([[1, 2, 3], [4, 5, 6]], [[2, 9, 9], [4, 5, 6]], aminusb=False)",
    "sets_size": "tf.sets.size(tf.SparseTensor([[0, 0], [0, 1], [2, 0], [2, 1]], [3, 3, 1, 2], [3, 2]))",
    "sets_strings": "tf.sets.union([['b', 'a'], ['c', 'c']], [['a', 'd'], ['e', 'c']])",
    "grad_softmax": _grad("tf.sparse.softmax(tf.SparseTensor([[0, 0], [0, 2], [1, 1], [1, 3]], v, [3, 4])).values",
                          "[0.3, -1.2, 2.0, 0.7]"),
    "grad_add": _grad("tf.sparse.add(tf.SparseTensor([[0, 0], [0, 2], [1, 1], [2, 3]], v, [3, 4]), "
                      "tf.SparseTensor([[0, 2], [2, 3]], tf.constant([1.0, 2.0], tf.float64), [3, 4])).values[:4]",
                      "[0.3, -1.2, 2.0, 0.7]"),
    "grad_reduce_sum": _grad("tf.sparse.reduce_sum(tf.SparseTensor([[0, 0], [0, 2], [1, 1], [2, 3]], v, [3, 4]), "
                             "axis=0)", "[0.3, -1.2, 2.0, 0.7]"),
    "grad_fill_empty_rows": _grad("tf.sparse.fill_empty_rows(tf.SparseTensor([[1, 0], [1, 2], [3, 1], [3, 2]], v, "
                                  "[5, 4]), tf.constant(0.5, tf.float64))[0].values[:4]", "[0.3, -1.2, 2.0, 0.7]"),
    "grad_slice": _grad("tf.pad(tf.sparse.slice(tf.SparseTensor([[0, 0], [0, 2], [1, 1], [2, 3]], v, [3, 4]), "
                        "[0, 1], [3, 3]).values, [[0, 1]])", "[0.3, -1.2, 2.0, 0.7]"),
    "grad_segment_mean": ("(lambda v: tf.gradients(tf.reduce_sum(tf.sparse.segment_mean(v, [0, 2, 2, 1], "
                          "[0, 0, 1, 1]) * tf.constant([[1.0, 2.0], [3.0, 4.0]], tf.float64)), v))"
                          "(tf.constant([[1.0, 2], [3, 4], [5, 6]], tf.float64))"),
    "grad_segment_sqrt_n": ("(lambda v: tf.gradients(tf.reduce_sum(tf.sparse.segment_sqrt_n(v, [0, 2, 2, 1], "
                            "[0, 0, 1, 1]) * tf.constant([[1.0, 2.0], [3.0, 4.0]], tf.float64)), v))"
                            "(tf.constant([[1.0, 2], [3, 4], [5, 6]], tf.float64))"),
    "op_mul": f"{SP} * tf.constant([1.0, 2.0, 3.0, 4.0])",
    "op_div": f"{SP} / tf.constant([[2.0], [4.0], [8.0]])",
    "op_div_ints": "tf.SparseTensor([[0], [1]], [-7, 7], [2]) / tf.constant([2, 2])",
    "grad_cwise_mul": ("(lambda v, d: tf.gradients(tf.reduce_sum((tf.SparseTensor([[0, 0], [0, 2], [1, 1], [2, 3]], "
                       "v, [3, 4]) * d).values * tf.constant([1.0, -2.0, 3.0, 0.5], tf.float64)), [v, d]))"
                       "(tf.constant([0.3, -1.2, 2.0, 0.7], tf.float64), tf.constant([[1.0, 2, 3, 4]], tf.float64))"),
    "grad_cwise_div": ("(lambda v, d: tf.gradients(tf.reduce_sum((tf.SparseTensor([[0, 0], [0, 2], [1, 1], [2, 3]], "
                       "v, [3, 4]) / d).values), [v, d]))"
                       "(tf.constant([0.3, -1.2, 2.0, 0.7], tf.float64), "
                       "tf.constant([[1.0], [2.0], [4.0]], tf.float64))"),
    "error_cwise_broadcast": "tf.SparseTensor([[0, 0]], [1.0], [2, 3]) * tf.ones([2])",
    "error_add_shapes": ("tf.sparse.add(tf.SparseTensor([[0, 0]], [1.0], tf.constant([2, 3], tf.int64) + 0), "
                         "tf.SparseTensor([[0, 0]], [1.0], tf.constant([2, 2], tf.int64) + 0))"),
    "error_reshape": "tf.sparse.reshape(tf.SparseTensor([[0, 0]], [1.0], tf.constant([3, 4], tf.int64) + 0), [5, -1])",
    "error_split": "tf.sparse.split(sp_input=tf.SparseTensor([[0, 0]], [1], [2, 2]), num_split=3, axis=1)",
    "error_to_dense_order": "tf.sparse.to_dense(tf.SparseTensor([[1, 0], [0, 0]], [1.0, 2.0], [2, 2]))",
    "error_segment_ids": "tf.sparse.segment_sum(tf.ones([3, 2]), [0, 1], [1, 0])",
    "error_segment_indices": "tf.sparse.segment_sum(tf.ones([3, 2]), [0, 5], [0, 0])",
    "error_concat_shapes": ("tf.sparse.concat(1, [tf.SparseTensor([[0, 0]], [1.0], [2, 2]), "
                            "tf.SparseTensor([[0, 0]], [1.0], [3, 2])])"),
    "error_softmax_rank": "tf.sparse.softmax(tf.SparseTensor([[0]], [1.0], [3]))",
    "error_dense_add": "tf.sparse.add(tf.SparseTensor([[0, 0]], [2.0], [2, 3]), tf.ones([3, 3]))",
    "error_sets_order": "tf.sets.size(tf.SparseTensor([[1, 0], [0, 0]], [1, 2], [2, 2]))",
}


CASES.update({f"empty_{name}": expression for name, expression in EMPTY_CASES.items()})
CASES.update({f"rank3_{name}": expression for name, expression in RANK3_CASES.items()})


def _flatten(value) -> list:
    if isinstance(value, (list, tuple)) and not hasattr(value, "indices"):
        return [a for v in value for a in _flatten(v)]
    if hasattr(value, "dense_shape") and hasattr(value, "indices"):
        return [np.asarray(value.indices), np.asarray(value.values), np.asarray(value.dense_shape)]
    return [np.asarray(value)]


def graph() -> tuple:
    """A graph of sparse ops and their TF-built gradients, fed through placeholders; its GraphDef and outputs."""
    g = tf.Graph()
    with g.as_default():
        v = tf.placeholder(tf.float64, [4], name="v")
        d = tf.placeholder(tf.float64, [3, 4], name="d")
        data = tf.placeholder(tf.float64, [3, 2], name="data")
        indices = tf.constant([[0, 0], [0, 2], [1, 1], [2, 3]], tf.int64)
        sp = tf.SparseTensor(indices, v, [3, 4])
        other = tf.SparseTensor(tf.constant([[0, 2], [2, 0]], tf.int64), tf.constant([1.0, 2.0], tf.float64), [3, 4])
        total = tf.sparse.add(sp, other)
        softmax = tf.sparse.softmax(sp)
        filled, _ = tf.sparse.fill_empty_rows(tf.sparse.slice(sp, [1, 0], [2, 4]), tf.constant(0.5, tf.float64))
        product = tf.sparse.matmul(sp, tf.transpose(d))
        scaled = sp * d
        reordered = tf.sparse.reorder(tf.SparseTensor(tf.constant([[2, 3], [0, 0], [1, 1], [0, 2]], tf.int64), v,
                                                      [3, 4]))
        segments = tf.sparse.segment_mean(data, [0, 2, 2, 1], [0, 0, 1, 1]) + tf.sparse.segment_sum(
            data, [1, 1, 0], [0, 1, 1], num_segments=3)[:2]
        loss = (tf.reduce_sum(total.values * tf.range(1.0, 6.0, dtype=tf.float64)) + tf.reduce_sum(softmax.values ** 2)
                + tf.reduce_sum(filled.values * 3.0) + tf.reduce_sum(product ** 2) + tf.reduce_sum(scaled.values)
                + tf.reduce_sum(reordered.values * tf.constant([1.0, 2.0, 3.0, 4.0], tf.float64))
                + tf.reduce_sum(tf.sparse.reduce_sum(sp, axis=1) ** 2) + tf.reduce_sum(segments ** 2))
        grads = tf.gradients(loss, [v, d, data])
        outputs = [total.indices, total.values, softmax.values, filled.indices, filled.values, product,
                   tf.sparse.to_dense(reordered), segments, loss] + grads
        feeds = {v: np.array([0.3, -1.2, 2.0, 0.7]), d: np.linspace(-1.0, 1.0, 12).reshape(3, 4),
                 data: np.arange(1.0, 7.0).reshape(3, 2)}
        with tf.Session() as sess:
            values = sess.run(outputs, feeds)
    return g.as_graph_def(), {t.name: f for t, f in feeds.items()}, [t.name for t in outputs], values


# A session's sequence of runs on SparseConditionalAccumulators: (accumulator, step kind, arguments).
ACCUMULATOR_RUNS = {
    "accumulators": {"mean": {"shape": [None, 2], "reduction_type": "MEAN"},
                     "sum": {"shape": None, "reduction_type": "SUM"},
                     "known": {"shape": [6, 2], "reduction_type": "MEAN"}},
    "runs": [
        ["mean", "apply", {"grad_indices": [0, 3], "grad_values": [[1.0, 2.0], [3.0, 4.0]]}],
        ["mean", "apply", {"grad_indices": [0, 5], "grad_values": [[10.0, 20.0], [30.0, 40.0]],
                           "grad_shape": [7, 2]}],
        ["mean", "count", {}],
        ["mean", "take", {"num_required": 2}],
        ["mean", "count", {}],
        ["mean", "apply", {"grad_indices": [1], "grad_values": [[1.0, 1.0]], "local_step": 0}],
        ["mean", "count", {}],
        ["mean", "apply", {"grad_indices": [1], "grad_values": [[1.0, 1.0]], "local_step": 1}],
        ["mean", "take", {"num_required": 1}],
        ["mean", "set_global_step", {"new_global_step": 0}],
        ["mean", "apply", {"grad_indices": [2], "grad_values": [[5.0, 5.0]], "local_step": 0}],
        ["mean", "count", {}],
        ["sum", "apply", {"grad_indices": [0, 3], "grad_values": [[1.0, 2.0], [3.0, 4.0]]}],
        ["sum", "apply", {"grad_indices": [0], "grad_values": [[1.0, 1.0]]}],
        ["sum", "take", {"num_required": 2}],
        ["known", "apply", {"grad_indices": [1, 4], "grad_values": [[1.0, 2.0], [3.0, 5.0]]}],
        ["known", "apply", {"grad_indices": [4], "grad_values": [[1.0, 1.0]], "grad_shape": [6, 2]}],
        ["known", "take", {"num_required": 2}],
    ],
}


def run_accumulators(tf_module, runs: dict) -> list:
    """Runs ACCUMULATOR_RUNS in one session of `tf_module` (TensorFlow here, tfmini in the test); each run's
    fetched arrays."""
    with tf_module.Graph().as_default(), tf_module.Session() as sess:
        accumulators = {name: tf_module.sparse.SparseConditionalAccumulator(tf_module.float32, name=name, **kwargs)
                        for name, kwargs in runs["accumulators"].items()}
        out = []
        for name, kind, kwargs in runs["runs"]:
            acc = accumulators[name]
            if kind == "count":
                out.append([sess.run(acc.num_accumulated())])
            elif kind == "take":
                out.append(list(sess.run(acc.take_grad(**kwargs))))
            else:
                sess.run(getattr(acc, "apply_grad" if kind == "apply" else kind)(**kwargs))
                out.append([])
    return out


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    arrays, index = {}, {}
    for name, expression in CASES.items():
        with tf.Graph().as_default(), tf.Session() as sess:
            try:
                outputs = _flatten(sess.run(eval(expression, {"tf": tf, "np": np})))  # noqa: S307 - our own cases
            except (tf.errors.OpError, ValueError, TypeError) as e:
                index[name] = {"expression": expression, "error": type(e).__name__}
                continue
        for i, out in enumerate(outputs):
            # bytes arrays would lose trailing zero bytes (serialized protos end in them): strings go as hex
            arrays[f"{name}/{i}"] = np.vectorize(bytes.hex, otypes=["U"])(out) if out.dtype == object else out
        index[name] = {"expression": expression, "outputs": len(outputs)}
    np.savez_compressed(os.path.join(OUT, "cases.npz"), **arrays)
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(index, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"{len(index)} cases written to {OUT}")
    runs = run_accumulators(tf, ACCUMULATOR_RUNS)
    np.savez_compressed(os.path.join(OUT, "accumulator.npz"),
                        **{f"{i}/{j}": np.asarray(v) for i, values in enumerate(runs) for j, v in enumerate(values)})
    with open(os.path.join(OUT, "accumulator.json"), "w") as f:
        json.dump({**ACCUMULATOR_RUNS, "outputs": [len(v) for v in runs]}, f, indent=1)
        f.write("\n")
    graph_def, feeds, fetches, values = graph()
    with open(os.path.join(OUT, "graph.pb"), "wb") as f:
        f.write(graph_def.SerializeToString())
    np.savez_compressed(os.path.join(OUT, "graph.npz"), **{f"feed/{k}": v for k, v in feeds.items()},
                        **{f"fetch/{k}": v for k, v in zip(fetches, values)})
    with open(os.path.join(OUT, "graph.json"), "w") as f:
        json.dump({"fetches": fetches, "op_types": sorted({n.op for n in graph_def.node})}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
