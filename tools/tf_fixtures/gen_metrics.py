"""Records TensorFlow's tf.metrics (TF1 streaming metrics) for tests/ops/test_metrics_impl.py.

    /work/tfenv/bin/python tools/tf_fixtures/gen_metrics.py

For each case a metric is built on placeholders, its local variables are initialized, and its update op runs over
three fixed batches; after each batch the update op's result and then the value tensor's are recorded, with the
names TF gave the value tensor, the update op and the metric's variables. A second part records the error class
TF raises for a set of bad inputs, a third what metrics built on constants at the edges give. Writes
tests/fixtures/tf/metrics/metrics.json (inputs included, so the tests replay exactly these batches).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "tf" / "metrics" / "metrics.json"
RNG = np.random.RandomState(1234)
BATCHES = 3


def dense(dtype: str, batches: list[np.ndarray]) -> dict:
    return {"dtype": dtype, "shape": list(batches[0].shape), "batches": [b.astype(dtype).tolist() for b in batches]}


def sparse(dense_shape: list[int], batches: list[list[tuple[list[int], int]]]) -> dict:
    """Sparse int64 labels: each batch a list of (index, value) pairs in row-major order."""
    return {"dtype": "int64", "sparse": True, "shape": dense_shape,
            "batches": [{"indices": [ix for ix, _ in b], "values": [v for _, v in b]} for b in batches]}


def uniform(shape, low=0.0, high=1.0) -> list[np.ndarray]:
    return [RNG.uniform(low, high, size=shape) for _ in range(BATCHES)]


def ints(shape, high, low=0) -> list[np.ndarray]:
    return [RNG.randint(low, high, size=shape) for _ in range(BATCHES)]


def distinct_logits(shape) -> list[np.ndarray]:
    """Logits whose rows have no ties, so top_k's order is unambiguous."""
    out = []
    for _ in range(BATCHES):
        rows = [RNG.permutation(shape[-1]) + RNG.uniform(0, 0.5) for _ in range(int(np.prod(shape[:-1])))]
        out.append(np.asarray(rows, dtype=np.float64).reshape(shape) / shape[-1])
    return out


def unit_rows(shape) -> list[np.ndarray]:
    out = []
    for b in uniform(shape, -1.0, 1.0):
        out.append(b / np.linalg.norm(b, axis=-1, keepdims=True))
    return out


def cases() -> list[dict]:
    c: list[dict] = []

    def add(case_id: str, metric: str, inputs: dict, dynamic: bool = False, **kwargs) -> None:
        """`dynamic`: the placeholders leave the batch dimension unknown, so shape checks happen at run time."""
        c.append({"id": case_id, "metric": metric, "inputs": inputs, "kwargs": kwargs, "dynamic": dynamic})

    vals = uniform([4, 3], -2.0, 2.0)
    add("mean", "mean", {"values": dense("float32", vals)})
    add("mean_weighted_column", "mean", {"values": dense("float32", vals),
                                         "weights": dense("float32", uniform([4, 1]))})
    add("mean_weighted_dynamic", "mean", {"values": dense("float32", vals),
                                          "weights": dense("float32", uniform([4, 1]))}, dynamic=True)
    add("mean_named", "mean", {"values": dense("float64", vals)}, name="my_mean")
    add("mean_tensor", "mean_tensor", {"values": dense("float32", vals)})
    add("mean_tensor_weighted", "mean_tensor", {"values": dense("float32", vals),
                                                "weights": dense("float32", [np.round(w) for w in uniform([4, 1])])})

    cls_l, cls_p = ints([6], 3), ints([6], 3)
    add("accuracy", "accuracy", {"labels": dense("int64", cls_l), "predictions": dense("int64", cls_p)})
    add("accuracy_weighted", "accuracy", {"labels": dense("int32", cls_l), "predictions": dense("int32", cls_p),
                                          "weights": dense("float32", uniform([6]))})
    add("accuracy_squeezable", "accuracy", {"labels": dense("int64", [x.reshape(6, 1) for x in cls_l]),
                                            "predictions": dense("int64", cls_p),
                                            "weights": dense("float32", uniform([6, 1]))})

    bin_l, bin_p = ints([8], 2), ints([8], 2)
    bin_w = uniform([8])
    for m in ("true_positives", "true_negatives", "false_positives", "false_negatives", "precision", "recall"):
        add(m, m, {"labels": dense("int64", bin_l), "predictions": dense("int64", bin_p)})
        add(m + "_weighted", m, {"labels": dense("bool", bin_l), "predictions": dense("bool", bin_p),
                                 "weights": dense("float32", bin_w)})
    add("precision_empty", "precision", {"labels": dense("int64", [np.zeros(4)] * 3),
                                         "predictions": dense("int64", [np.zeros(4)] * 3)})

    probs = [np.round(p, 2) for p in uniform([10])]
    prob_l = ints([10], 2)
    prob_w = uniform([10])
    thresholds = [0.15, 0.5, 0.85]
    for m in ("true_positives_at_thresholds", "true_negatives_at_thresholds", "false_positives_at_thresholds",
              "false_negatives_at_thresholds", "precision_at_thresholds", "recall_at_thresholds"):
        add(m, m, {"labels": dense("int64", prob_l), "predictions": dense("float32", probs)}, thresholds=thresholds)
        add(m + "_weighted", m, {"labels": dense("bool", prob_l), "predictions": dense("float32", probs),
                                 "weights": dense("float32", prob_w)}, thresholds=thresholds)
    # TF takes thresholds outside [0, 1] as they are: below 0 every prediction is positive, above 1 none is.
    add("precision_at_thresholds_outside_unit", "precision_at_thresholds",
        {"labels": dense("int64", prob_l), "predictions": dense("float32", probs)}, thresholds=[-0.5, 0.5, 1.5])

    add("auc", "auc", {"labels": dense("int64", prob_l), "predictions": dense("float32", probs)})
    add("auc_weighted", "auc", {"labels": dense("bool", prob_l), "predictions": dense("float32", probs),
                                "weights": dense("float32", prob_w)}, num_thresholds=50)
    add("auc_weighted_dynamic", "auc", {"labels": dense("bool", prob_l), "predictions": dense("float32", probs),
                                        "weights": dense("float32", prob_w)}, dynamic=True, num_thresholds=50)
    add("auc_pr_careful", "auc", {"labels": dense("int64", prob_l), "predictions": dense("float32", probs)},
        curve="PR", summation_method="careful_interpolation")
    add("auc_pr_trapezoidal", "auc", {"labels": dense("int64", prob_l), "predictions": dense("float64", probs)},
        curve="PR", num_thresholds=20)
    add("auc_minoring", "auc", {"labels": dense("int64", prob_l), "predictions": dense("float32", probs)},
        summation_method="minoring", num_thresholds=10)
    add("auc_majoring", "auc", {"labels": dense("int64", prob_l), "predictions": dense("float32", probs)},
        summation_method="majoring", num_thresholds=10)
    add("auc_thresholds", "auc", {"labels": dense("int64", prob_l), "predictions": dense("float32", probs)},
        thresholds=[0.7, 0.2, 0.45])
    add("sensitivity_at_specificity", "sensitivity_at_specificity",
        {"labels": dense("int64", prob_l), "predictions": dense("float32", probs)}, specificity=0.7)
    add("sensitivity_at_specificity_weighted", "sensitivity_at_specificity",
        {"labels": dense("int64", prob_l), "predictions": dense("float32", probs), "weights": dense("float32", prob_w)},
        specificity=0.4, num_thresholds=30)
    add("specificity_at_sensitivity", "specificity_at_sensitivity",
        {"labels": dense("int64", prob_l), "predictions": dense("float32", probs)}, sensitivity=0.6)
    add("specificity_at_sensitivity_weighted", "specificity_at_sensitivity",
        {"labels": dense("int64", prob_l), "predictions": dense("float32", probs), "weights": dense("float32", prob_w)},
        sensitivity=0.3, num_thresholds=30)

    reg_l, reg_p = uniform([4, 3], -1.0, 1.0), uniform([4, 3], -1.0, 1.0)
    for m in ("mean_absolute_error", "mean_squared_error", "root_mean_squared_error"):
        add(m, m, {"labels": dense("float32", reg_l), "predictions": dense("float32", reg_p)})
        add(m + "_weighted", m, {"labels": dense("float32", reg_l), "predictions": dense("float32", reg_p),
                                 "weights": dense("float32", uniform([4, 1]))})
    normalizer = [np.where(np.arange(12).reshape(4, 3) % 5 == 0, 0.0, n) for n in uniform([4, 3], 0.5, 2.0)]
    add("mean_relative_error", "mean_relative_error",
        {"labels": dense("float32", reg_l), "predictions": dense("float32", reg_p),
         "normalizer": dense("float32", normalizer)})
    add("mean_cosine_distance", "mean_cosine_distance",
        {"labels": dense("float32", unit_rows([4, 3])), "predictions": dense("float32", unit_rows([4, 3]))}, dim=1)
    add("mean_cosine_distance_weighted", "mean_cosine_distance",
        {"labels": dense("float32", unit_rows([4, 3])), "predictions": dense("float32", unit_rows([4, 3])),
         "weights": dense("float32", uniform([4, 1]))}, dim=1)
    add("percentage_below", "percentage_below", {"values": dense("float32", vals)}, threshold=0.5)
    add("percentage_below_weighted", "percentage_below",
        {"values": dense("float32", vals), "weights": dense("float32", uniform([4, 3]))}, threshold=-0.25)

    seg_l, seg_p = ints([3, 4], 4), ints([3, 4], 4)
    add("mean_iou", "mean_iou", {"labels": dense("int64", seg_l), "predictions": dense("int64", seg_p)},
        num_classes=4)
    add("mean_iou_weighted", "mean_iou", {"labels": dense("int32", seg_l), "predictions": dense("int32", seg_p),
                                          "weights": dense("float32", [np.round(w) for w in uniform([3, 4])])},
        num_classes=5)
    add("mean_per_class_accuracy", "mean_per_class_accuracy",
        {"labels": dense("int64", seg_l), "predictions": dense("int64", seg_p)}, num_classes=4)
    add("mean_per_class_accuracy_weighted", "mean_per_class_accuracy",
        {"labels": dense("int64", seg_l), "predictions": dense("int64", seg_p),
         "weights": dense("float32", uniform([3, 4]))}, num_classes=5)

    logits = distinct_logits([4, 6])
    multi = [np.sort(RNG.choice(6, size=(4, 2)), axis=1) for _ in range(BATCHES)]
    multi[0][1] = [2, 2]  # a repeated label counts once
    multi[1][2] = [-1, 3]  # -1 is a label no prediction matches
    multi[2][0] = [1, 9]  # out of range of the 6 classes
    single = ints([4], 6)
    row_w = [np.round(w * 3) for w in uniform([4])]
    for m in ("precision_at_k", "recall_at_k", "sparse_precision_at_k"):
        add(m, m, {"labels": dense("int64", multi), "predictions": dense("float32", logits)}, k=2)
        add(m + "_single", m, {"labels": dense("int64", single), "predictions": dense("float32", logits)}, k=3)
        add(m + "_class", m, {"labels": dense("int64", multi), "predictions": dense("float32", logits),
                              "weights": dense("float32", row_w)}, k=2, class_id=3)
        add(m + "_weighted", m, {"labels": dense("int64", multi), "predictions": dense("float32", logits),
                                 "weights": dense("float32", row_w)}, k=3)
    add("precision_at_k_weighted_dynamic", "precision_at_k",
        {"labels": dense("int64", multi), "predictions": dense("float32", logits), "weights": dense("float32", row_w)},
        dynamic=True, k=3)
    top_idx = [np.argsort(-lg, axis=-1)[:, :3] for lg in logits]
    for m in ("precision_at_top_k", "recall_at_top_k"):
        add(m, m, {"labels": dense("int64", multi), "predictions_idx": dense("int32", top_idx)})
        add(m + "_class", m, {"labels": dense("int64", multi), "predictions_idx": dense("int64", top_idx)},
            k=3, class_id=2)
        add(m + "_weighted", m, {"labels": dense("int64", single), "predictions_idx": dense("int64", top_idx),
                                 "weights": dense("float32", row_w)}, k=3)
    for m in ("average_precision_at_k", "sparse_average_precision_at_k"):
        add(m, m, {"labels": dense("int64", multi), "predictions": dense("float32", logits)}, k=3)
        add(m + "_single", m, {"labels": dense("int64", single), "predictions": dense("float32", logits)}, k=1)
        add(m + "_weighted", m, {"labels": dense("int64", multi), "predictions": dense("float32", logits),
                                 "weights": dense("float32", row_w)}, k=4)

    sparse_labels = sparse([4, 3], [
        [([0, 0], 1), ([0, 1], 4), ([1, 0], 0), ([2, 0], 5), ([2, 1], 2), ([2, 2], 3), ([3, 0], 2)],
        [([0, 0], 3), ([1, 0], 1), ([1, 1], 5), ([2, 0], 4), ([3, 0], 0), ([3, 1], 4)],
        [([0, 0], 2), ([0, 1], 0), ([1, 0], 4), ([2, 0], 1), ([3, 0], 5), ([3, 1], 8)],
    ])
    add("precision_at_k_sparse", "precision_at_k",
        {"labels": sparse_labels, "predictions": dense("float32", logits)}, k=2)
    add("recall_at_k_sparse", "recall_at_k",
        {"labels": sparse_labels, "predictions": dense("float32", logits)}, k=2)
    add("recall_at_k_sparse_class", "recall_at_k",
        {"labels": sparse_labels, "predictions": dense("float32", logits)}, k=2, class_id=5)
    add("average_precision_at_k_sparse", "average_precision_at_k",
        {"labels": sparse_labels, "predictions": dense("float32", logits)}, k=3)
    return c


def feed_value(spec: dict, batch):
    if spec.get("sparse"):
        return tf.SparseTensorValue(np.asarray(batch["indices"], np.int64).reshape(-1, len(spec["shape"])),
                                    np.asarray(batch["values"], np.int64), np.asarray(spec["shape"], np.int64))
    return np.asarray(batch, dtype=spec["dtype"])


def record(case: dict) -> dict:
    graph = tf.Graph()
    with graph.as_default():
        holders = {}
        for arg, spec in case["inputs"].items():
            shape = ([None] + spec["shape"][1:]) if case["dynamic"] else spec["shape"]
            if spec.get("sparse"):
                holders[arg] = tf.sparse_placeholder(tf.int64, shape=shape, name=arg)
            else:
                holders[arg] = tf.placeholder(tf.as_dtype(spec["dtype"]), shape=shape, name=arg)
        value, update = getattr(tf.metrics, case["metric"])(**holders, **case["kwargs"])
        out = dict(case, inputs=dict(case["inputs"]))
        out["value_name"] = value.name
        out["update_name"] = update.name
        out["value_dtype"] = value.dtype.name
        out["local_variables"] = sorted(v.name for v in tf.local_variables())
        out["metric_variables"] = sorted(v.name for v in tf.get_collection(tf.GraphKeys.METRIC_VARIABLES))
        out["global_variables"] = sorted(v.name for v in tf.global_variables())
        updates, values = [], []
        with tf.Session(graph=graph) as sess:
            sess.run(tf.local_variables_initializer())
            for i in range(BATCHES):
                feed = {holders[a]: feed_value(s, s["batches"][i]) for a, s in case["inputs"].items()}
                updates.append(np.asarray(sess.run(update, feed)).tolist())
                values.append(np.asarray(sess.run(value)).tolist())
        out["updates"] = updates
        out["values"] = values
    return out


def error_cases() -> dict[str, str]:
    """The error class TF raises for each bad input (the tests build the same graphs)."""

    def build_error(fn) -> str:
        with tf.Graph().as_default():
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - the class is what is recorded
                return type(e).__name__
        return "none"

    def run_error(fn) -> str:
        with tf.Graph().as_default():
            fetch, feed = fn()
            with tf.Session() as sess:
                sess.run(tf.local_variables_initializer())
                try:
                    sess.run(fetch, feed)
                except Exception as e:  # noqa: BLE001 - the class is what is recorded
                    return type(e).__name__
        return "none"

    ph = tf.placeholder
    return {
        "accuracy_shape_mismatch": build_error(lambda: tf.metrics.accuracy(tf.zeros([3]), tf.zeros([4]))),
        "mean_weights_not_broadcastable": build_error(
            lambda: tf.metrics.mean(tf.zeros([3, 4]), weights=tf.ones([3, 2]))),
        "mean_weights_rank": build_error(lambda: tf.metrics.mean(tf.zeros([3, 4]), weights=tf.ones([2, 3, 4, 5]))),
        "mean_weights_dynamic": run_error(lambda: (
            tf.metrics.mean(ph(tf.float32, [None, 4], name="v"), weights=ph(tf.float32, [None, 4], name="w"))[1],
            {"v:0": np.zeros((2, 4)), "w:0": np.ones((3, 4))})),
        "auc_bad_curve": build_error(lambda: tf.metrics.auc(tf.zeros([3]), tf.zeros([3]), curve="XY")),
        "auc_bad_summation": build_error(
            lambda: tf.metrics.auc(tf.zeros([3]), tf.zeros([3]), summation_method="simpson")),
        "auc_predictions_out_of_range": run_error(lambda: (
            tf.metrics.auc(tf.constant([True, False]), ph(tf.float32, [2], name="p"))[1],
            {"p:0": np.array([0.5, 1.5])})),
        "precision_at_thresholds_negative_predictions": run_error(lambda: (
            tf.metrics.precision_at_thresholds(tf.constant([1, 0]), ph(tf.float32, [2], name="p"), [0.5])[1],
            {"p:0": np.array([-0.1, 0.5])})),
        "specificity_out_of_range": build_error(
            lambda: tf.metrics.sensitivity_at_specificity(tf.zeros([3]), tf.zeros([3]), specificity=1.5)),
        "sensitivity_out_of_range": build_error(
            lambda: tf.metrics.specificity_at_sensitivity(tf.zeros([3]), tf.zeros([3]), sensitivity=-0.1)),
        "mean_iou_label_out_of_range": run_error(lambda: (
            tf.metrics.mean_iou(ph(tf.int64, [3], name="l"), tf.constant([0, 1, 1], tf.int64), num_classes=2)[1],
            {"l:0": np.array([0, 1, 2])})),
        "mean_iou_negative_prediction": run_error(lambda: (
            tf.metrics.mean_iou(tf.constant([0, 1, 1], tf.int64), ph(tf.int64, [3], name="p"), num_classes=2)[1],
            {"p:0": np.array([0, -1, 1])})),
        "mean_per_class_accuracy_label_out_of_range": run_error(lambda: (
            tf.metrics.mean_per_class_accuracy(ph(tf.int64, [3], name="l"), tf.constant([0, 1, 1], tf.int64),
                                               num_classes=2)[1],
            {"l:0": np.array([0, 1, 5])})),
        "average_precision_k_zero": build_error(
            lambda: tf.metrics.average_precision_at_k(tf.constant([[1]], tf.int64), tf.zeros([1, 3]), k=0)),
        "precision_at_k_labels_rank": build_error(
            lambda: tf.metrics.precision_at_k(tf.zeros([2, 3, 4], tf.int64), tf.zeros([2, 3]), k=1)),
        "precision_at_k_weights_not_broadcastable": run_error(lambda: (
            tf.metrics.precision_at_k(tf.zeros([2, 1], tf.int64), tf.zeros([2, 3]), k=1, weights=tf.ones([3]))[1],
            {})),
        "mean_relative_error_normalizer_shape": build_error(
            lambda: tf.metrics.mean_relative_error(tf.zeros([3]), tf.zeros([3]), normalizer=tf.ones([4]))),
        "false_negatives_weights_rank": run_error(lambda: (
            tf.metrics.false_negatives(tf.constant([1, 0]), tf.constant([0, 0]),
                                       weights=ph(tf.float32, None, name="w"))[1],
            {"w:0": np.ones((2, 2, 2))})),
        "mean_squared_error_dtype_mismatch": build_error(
            lambda: tf.metrics.mean_squared_error(tf.zeros([3]), tf.zeros([3], tf.int32))),
    }


def edge_builders() -> dict:
    """Metrics on constants at the edges: empty or rank-1 sparse labels, 3-D top-k inputs, repeated predicted
    classes, k=0, scalar and column weights, two thresholds. tests/ops/test_metrics_impl.py builds the same."""
    empty = tf.SparseTensorValue(np.zeros((0, 2), np.int64), np.zeros(0, np.int64), np.array([2, 2], np.int64))
    rank1 = tf.SparseTensorValue(np.array([[0], [1]], np.int64), np.array([1, 2], np.int64), np.array([2], np.int64))
    logits = [[0.1, 0.5, 0.3], [0.3, 0.2, 0.1]]
    cube_labels, cube_logits = [[[1, 2]], [[0, 0]]], [[[0.1, 0.5, 0.3]], [[0.6, 0.5, 0.3]]]
    labels4, scores4 = [1, 0, 1, 1], [0.8, 0.3, 0.2, 0.6]
    return {
        "average_precision_empty_sparse": lambda: tf.metrics.average_precision_at_k(empty, tf.constant(logits), k=2),
        "precision_at_k_empty_sparse": lambda: tf.metrics.precision_at_k(empty, tf.constant(logits), k=2),
        "recall_at_k_empty_sparse": lambda: tf.metrics.recall_at_k(empty, tf.constant(logits), k=2),
        "recall_at_k_sparse_one_label_per_row": lambda: tf.metrics.recall_at_k(rank1, tf.constant(logits), k=2),
        "precision_at_k_zero": lambda: tf.metrics.precision_at_k(tf.constant([[1, 2]], tf.int64),
                                                                 tf.constant([[0.1, 0.5, 0.3]]), k=0),
        "precision_at_k_3d": lambda: tf.metrics.precision_at_k(
            tf.constant(cube_labels, tf.int64), tf.constant(cube_logits), k=2, weights=tf.constant([[1.0], [2.0]])),
        "average_precision_3d": lambda: tf.metrics.average_precision_at_k(
            tf.constant(cube_labels, tf.int64), tf.constant(cube_logits), k=2, weights=tf.constant([[1.0], [2.0]])),
        "precision_at_top_k_repeated_class": lambda: tf.metrics.precision_at_top_k(
            tf.constant([[1, 2]], tf.int64), tf.constant([[1, 1, 2]], tf.int64)),
        "recall_at_top_k_repeated_labels": lambda: tf.metrics.recall_at_top_k(
            tf.constant([[1, 2, 2, 5]], tf.int64), tf.constant([[1, 1, 2]], tf.int64)),
        "mean_scalar_weight": lambda: tf.metrics.mean(tf.constant([1.0, 2.0, 3.0]), weights=2.0),
        "precision_scalar_weight": lambda: tf.metrics.precision(tf.constant([1, 0, 1]), tf.constant([1, 1, 1]),
                                                                weights=0.5),
        "false_negatives_column_weights": lambda: tf.metrics.false_negatives(
            tf.constant([[1, 0, 1], [1, 1, 1]]), tf.constant([[0, 0, 1], [0, 1, 1]]),
            weights=tf.constant([[2.0], [3.0]])),
        "mean_iou_one_class_present": lambda: tf.metrics.mean_iou(tf.constant([0, 0]), tf.constant([0, 0]), 3),
        "mean_per_class_accuracy_2d_weights": lambda: tf.metrics.mean_per_class_accuracy(
            tf.constant([[0, 1], [2, 1]]), tf.constant([[0, 1], [1, 1]]), 3,
            weights=tf.constant([[1.0, 2.0], [3.0, 4.0]])),
        "auc_two_thresholds": lambda: tf.metrics.auc(tf.constant([1, 0]), tf.constant([0.8, 0.3]), num_thresholds=2),
        "auc_pr_majoring": lambda: tf.metrics.auc(tf.constant(labels4), tf.constant(scores4), curve="PR",
                                                  summation_method="majoring", num_thresholds=7),
        "auc_scalar_weight": lambda: tf.metrics.auc(tf.constant(labels4), tf.constant(scores4), weights=3.0,
                                                    num_thresholds=7),
        "recall_at_thresholds_2d_column_weights": lambda: tf.metrics.recall_at_thresholds(
            tf.constant([[1, 0], [1, 1]]), tf.constant([[0.8, 0.3], [0.2, 0.6]]), [0.5],
            weights=tf.constant([[1.0], [2.0]])),
        "sensitivity_at_specificity_column_weights": lambda: tf.metrics.sensitivity_at_specificity(
            tf.constant([[1, 0], [1, 1]]), tf.constant([[0.8, 0.3], [0.2, 0.6]]), 0.5,
            weights=tf.constant([[1.0], [2.0]]), num_thresholds=11),
        "mean_cosine_distance_dim0": lambda: tf.metrics.mean_cosine_distance(
            tf.constant([[1.0, 0.0], [0.0, 1.0]]), tf.constant([[0.6, 0.8], [0.8, 0.6]]), dim=0),
        "percentage_below_int_threshold": lambda: tf.metrics.percentage_below(tf.constant([1.0, 5.0, 3.0]), 3),
        "accuracy_float_predictions": lambda: tf.metrics.accuracy(tf.constant([1, 2, 3]), tf.constant([1.0, 2.0, 0.0])),
        "mean_tensor_scalar_weight": lambda: tf.metrics.mean_tensor(tf.constant([[1.0, 2.0]]), weights=0.5),
    }


def edge_cases() -> dict:
    """For each edge builder: the update op's result run twice, and the value and update tensors' names."""
    out = {}
    for case_id, build in edge_builders().items():
        with tf.Graph().as_default():
            value, update = build()
            with tf.Session() as sess:
                sess.run(tf.local_variables_initializer())
                runs = [np.asarray(sess.run(update)).tolist() for _ in range(2)]
            out[case_id] = {"updates": runs, "value_name": value.name, "update_name": update.name}
    return out


def shared_inputs(recorded: list[dict]) -> dict[str, dict]:
    """Stores each distinct input once: a case's inputs become keys into the returned table."""
    table: dict[str, dict] = {}
    keys: dict[str, str] = {}
    for case in recorded:
        for arg, spec in case["inputs"].items():
            text = json.dumps(spec, sort_keys=True)
            if text not in keys:
                keys[text] = f"in{len(keys)}"
                table[keys[text]] = spec
            case["inputs"][arg] = keys[text]
    return table


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    recorded = [record(c) for c in cases()]
    table = shared_inputs(recorded)
    data = {"tensorflow": tf.__version__, "inputs": table, "cases": recorded, "errors": error_cases(),
            "edges": edge_cases()}
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(data['cases'])} cases)")


if __name__ == "__main__":
    main()
