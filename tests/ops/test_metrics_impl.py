"""tf.metrics: every metric streamed over recorded batches against TensorFlow's values and names and against
NumPy references; local variables, resets, collections, weights and the errors TF raises."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tfmini as tf
from tfmini.framework import errors

FIXTURE = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "metrics" / "metrics.json").read_text())
INPUTS = FIXTURE["inputs"]
CASES = {case["id"]: case for case in FIXTURE["cases"]}


# ----------------------------------------------------------------------------------------------------------
# Replaying the recorded cases
# ----------------------------------------------------------------------------------------------------------
def _feed_value(spec: dict, batch):
    if spec.get("sparse"):
        indices = np.asarray(batch["indices"], np.int64).reshape(-1, len(spec["shape"]))
        return tf.SparseTensorValue(indices, np.asarray(batch["values"], np.int64), np.asarray(spec["shape"], np.int64))
    return np.asarray(batch, dtype=spec["dtype"])


def _build(case: dict):
    """The case's metric on placeholders (batch dimension unknown for dynamic cases); (holders, value, update)."""
    holders = {}
    for arg, key in case["inputs"].items():
        spec = INPUTS[key]
        shape = ([None] + spec["shape"][1:]) if case["dynamic"] else spec["shape"]
        if spec.get("sparse"):
            holders[arg] = tf.sparse_placeholder(tf.int64, shape=shape, name=arg)
        else:
            holders[arg] = tf.placeholder(tf.as_dtype(spec["dtype"]), shape=shape, name=arg)
    value, update = getattr(tf.metrics, case["metric"])(**holders, **case["kwargs"])
    return holders, value, update


def _feeds(case: dict, holders: dict, i: int) -> dict:
    return {holders[arg]: _feed_value(INPUTS[key], INPUTS[key]["batches"][i]) for arg, key in case["inputs"].items()}


def _stream(case: dict) -> tuple[list, list]:
    """Runs the update op over the case's batches; the update's and then the value's result after each."""
    holders, value, update = _build(case)
    updates, values = [], []
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        for i in range(len(INPUTS[next(iter(case["inputs"].values()))]["batches"])):
            updates.append(sess.run(update, _feeds(case, holders, i)))
            values.append(sess.run(value))
    return updates, values


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_streams_tensorflows_values_and_names(case_id):
    case = CASES[case_id]
    _, value, update = _build(case)
    assert value.name == case["value_name"]
    assert update.name == case["update_name"]
    assert value.dtype.name == case["value_dtype"]
    assert sorted(v.name for v in tf.local_variables()) == case["local_variables"]
    assert sorted(v.name for v in tf.get_collection(tf.GraphKeys.METRIC_VARIABLES)) == case["metric_variables"]
    assert tf.global_variables() == [] and tf.trainable_variables() == []
    tf.reset_default_graph()
    updates, values = _stream(case)
    for got, want in zip(updates + values, case["updates"] + case["values"]):
        np.testing.assert_allclose(got, np.asarray(want, dtype=np.float64), rtol=2e-6, atol=1e-6)


def _edge_builders() -> dict:
    """The metrics tools/tf_fixtures/gen_metrics.py built on constants at the edges, built the same way."""
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


def test_every_recorded_edge_case_is_built():
    assert set(_edge_builders()) == set(FIXTURE["edges"])


@pytest.mark.parametrize("case_id", sorted(FIXTURE["edges"]))
def test_edge_case_updates_as_tensorflow_does(case_id):
    want = FIXTURE["edges"][case_id]
    value, update = _edge_builders()[case_id]()
    assert (value.name, update.name) == (want["value_name"], want["update_name"])
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        for expected in want["updates"]:
            np.testing.assert_allclose(sess.run(update), np.asarray(expected, np.float64), rtol=2e-6, atol=1e-6)


# ----------------------------------------------------------------------------------------------------------
# NumPy references: each metric of all batches seen so far, computed directly
# ----------------------------------------------------------------------------------------------------------
def _batches(case: dict) -> list[dict]:
    n = len(INPUTS[next(iter(case["inputs"].values()))]["batches"])
    out = []
    for i in range(n):
        batch = {}
        for arg, key in case["inputs"].items():
            spec = INPUTS[key]
            raw = spec["batches"][i]
            if spec.get("sparse"):
                rows = [[] for _ in range(spec["shape"][0])]
                for index, v in zip(raw["indices"], raw["values"]):
                    rows[index[0]].append(v)
                batch[arg] = rows
            else:
                batch[arg] = np.asarray(raw, dtype=spec["dtype"])
        out.append(batch)
    return out


def _concat(batches: list[dict]) -> dict:
    out = {}
    for arg in batches[0]:
        parts = [b[arg] for b in batches]
        out[arg] = sum(parts, []) if isinstance(parts[0], list) else np.concatenate(parts, axis=0)
    return out


def _align(w, like: np.ndarray) -> np.ndarray:
    """TF's weights rule: drop or add one trailing dimension to match the rank, then broadcast."""
    w = np.asarray(w, np.float64)
    if w.ndim == like.ndim + 1:
        w = w[..., 0]
    elif w.ndim == like.ndim - 1:
        w = w[..., None]
    return np.broadcast_to(w, like.shape)


def _np_mean(values, weights=None) -> float:
    values = np.asarray(values, np.float64)
    w = np.ones_like(values) if weights is None else _align(weights, values)
    return float((values * w).sum() / w.sum()) if w.sum() else 0.0


def _paired(a: dict):
    labels, predictions = a["labels"], a["predictions"]
    if labels.ndim == predictions.ndim + 1:
        labels = labels[..., 0]
    return labels, predictions, a.get("weights")


def _np_accuracy(a, kw):
    labels, predictions, w = _paired(a)
    return _np_mean(labels == predictions.astype(labels.dtype), w)


def _np_counts(a) -> dict:
    labels, predictions, w = _paired(a)
    lab, pred = labels.astype(bool), predictions.astype(bool)
    w = np.ones(lab.shape) if w is None else _align(w, lab)
    return {"tp": (w * (lab & pred)).sum(), "tn": (w * (~lab & ~pred)).sum(),
            "fp": (w * (~lab & pred)).sum(), "fn": (w * (lab & ~pred)).sum()}


def _np_fraction(t, o):
    return t / (t + o) if t + o > 0 else 0.0


def _np_counts_at(a, thresholds) -> dict:
    labels, predictions, w = _paired(a)
    lab = labels.astype(bool).ravel()
    pos = predictions.astype(np.float32).ravel()[None, :] > np.asarray(thresholds, np.float32)[:, None]
    w = np.ones(lab.shape) if w is None else _align(w, labels).ravel()
    return {"tp": (w * (lab & pos)).sum(1), "tn": (w * (~lab & ~pos)).sum(1),
            "fp": (w * (~lab & pos)).sum(1), "fn": (w * (lab & ~pos)).sum(1)}


def _auc_thresholds(kw) -> list[float]:
    eps = 1e-7
    if kw.get("thresholds") is not None:
        return [-eps] + sorted(kw["thresholds"]) + [1 + eps]
    n = kw.get("num_thresholds", 200)
    return [-eps] + [(i + 1) / (n - 1) for i in range(n - 2)] + [1 + eps]


def _np_pr_auc_integrated(c) -> float:
    """The area under precision(recall), precision interpolated between thresholds along the line joining
    their (tp, tp + fp) points, integrated numerically."""
    tp, p = c["tp"], c["tp"] + c["fp"]
    positives = c["tp"][0] + c["fn"][0]
    s = (np.arange(4000) + 0.5) / 4000
    area = 0.0
    for i in range(len(tp) - 1):
        if tp[i] == tp[i + 1]:
            continue
        t = tp[i + 1] + s * (tp[i] - tp[i + 1])
        q = p[i + 1] + s * (p[i] - p[i + 1])
        area += np.mean(t / q) * (tp[i] - tp[i + 1]) / positives
    return area


def _np_auc(a, kw):
    c = _np_counts_at(a, _auc_thresholds(kw))
    curve, method = kw.get("curve", "ROC"), kw.get("summation_method", "trapezoidal")
    if curve == "PR" and method == "careful_interpolation":
        return _np_pr_auc_integrated(c)
    rec = c["tp"] / np.maximum(c["tp"] + c["fn"], 1e-12)
    if curve == "ROC":
        x, y = c["fp"] / np.maximum(c["fp"] + c["tn"], 1e-12), rec
    else:
        x, y = rec, np.where(c["tp"] + c["fp"] > 0, c["tp"] / np.maximum(c["tp"] + c["fp"], 1e-12), 1.0)
    heights = {"minoring": np.minimum(y[:-1], y[1:]), "majoring": np.maximum(y[:-1], y[1:])}.get(
        method, (y[:-1] + y[1:]) / 2)
    return float(np.sum((x[:-1] - x[1:]) * heights))


def _np_sensitivity_at_specificity(a, kw):
    n = kw.get("num_thresholds", 200)
    c = _np_counts_at(a, [-1e-7] + [(i + 1) / (n - 1) for i in range(n - 2)] + [1 + 1e-7])
    spec = c["tn"] / (c["tn"] + c["fp"] + 1e-7)
    i = int(np.argmin(np.abs(spec - kw["specificity"])))
    return c["tp"][i] / (c["tp"][i] + c["fn"][i] + 1e-7)


def _np_specificity_at_sensitivity(a, kw):
    n = kw.get("num_thresholds", 200)
    c = _np_counts_at(a, [-1e-7] + [(i + 1) / (n - 1) for i in range(n - 2)] + [1 - 1e-7])
    distance = np.abs(c["tp"] / (c["tp"] + c["fn"] + 1e-7) - kw["sensitivity"])
    i = int(np.flatnonzero(distance == distance.min())[-1])
    return c["tn"][i] / (c["tn"][i] + c["fp"][i] + 1e-7)


def _np_confusion(a, num_classes):
    labels, predictions, w = a["labels"].ravel(), a["predictions"].ravel(), a.get("weights")
    cm = np.zeros((num_classes, num_classes))
    np.add.at(cm, (labels, predictions), np.ones(labels.shape) if w is None else np.asarray(w, np.float64).ravel())
    return cm


def _np_mean_iou(a, kw):
    cm = _np_confusion(a, kw["num_classes"])
    union = cm.sum(0) + cm.sum(1) - np.diag(cm)
    present = union > 0
    return float(np.mean(np.diag(cm)[present] / union[present])) if present.any() else 0.0


def _np_mean_per_class_accuracy(a, kw):
    cm = _np_confusion(a, kw["num_classes"])
    per_class = np.divide(np.diag(cm), cm.sum(1), out=np.zeros(kw["num_classes"]), where=cm.sum(1) > 0)
    return float(per_class.mean())


def _rows(labels) -> list[list[int]]:
    if isinstance(labels, list):
        return labels
    labels = np.asarray(labels)
    return [list(row) for row in (labels.reshape(-1, 1) if labels.ndim == 1 else labels)]


def _top(a, k):
    if "predictions_idx" in a:
        return [list(row) for row in a["predictions_idx"]]
    return [list(np.argsort(-row, kind="stable")[:k]) for row in a["predictions"]]


def _np_set_metric(a, kw, metric):
    labels, top = _rows(a["labels"]), _top(a, kw.get("k"))
    weights = np.ones(len(top)) if a.get("weights") is None else np.asarray(a["weights"], np.float64)
    tp = other = 0.0
    for row_labels, row_top, w in zip(labels, top, weights):
        lab, pred = set(row_labels), set(row_top)
        if kw.get("class_id") is not None:
            lab, pred = lab & {kw["class_id"]}, pred & {kw["class_id"]}
        tp += w * len(lab & pred)
        other += w * len(pred - lab if metric == "precision" else lab - pred)
    return tp / (tp + other) if tp + other else np.nan


def _np_average_precision(a, kw):
    k, num_classes = kw["k"], a["predictions"].shape[-1]
    sparse = isinstance(a["labels"], list)
    weights = np.ones(len(a["predictions"])) if a.get("weights") is None else np.asarray(a["weights"], np.float64)
    total = 0.0
    for row_labels, row_top, w in zip(_rows(a["labels"]), _top(a, k), weights):
        cleaned = [-1 if v >= num_classes else v for v in row_labels]
        relevant = np.array([p in cleaned for p in row_top], np.float64)
        precisions = np.cumsum(relevant) / np.arange(1, k + 1)
        count = len(set(cleaned)) if sparse else sum(v >= 0 for v in cleaned)
        total += w * (precisions * relevant).sum() / min(count, k)
    return total / weights.sum()


def _np_regression(kind):
    def ref(a, kw):
        labels, predictions, w = _paired(a)
        labels, predictions = labels.astype(np.float64), predictions.astype(np.float64)
        if kind == "mae":
            return _np_mean(np.abs(predictions - labels), w)
        if kind == "relative":
            norm = a["normalizer"].astype(np.float64)
            return _np_mean(np.where(norm == 0, 0.0, np.abs(labels - predictions) / np.where(norm == 0, 1, norm)), w)
        if kind == "cosine":
            return 1.0 - _np_mean(np.sum(labels * predictions, axis=kw["dim"], keepdims=True), w)
        mse = _np_mean((labels - predictions) ** 2, w)
        return np.sqrt(mse) if kind == "rmse" else mse
    return ref


def _np_thresholds_metric(kind):
    def ref(a, kw):
        c = _np_counts_at(a, kw["thresholds"])
        if kind in c:
            return c[kind]
        other = c["fp"] if kind == "precision" else c["fn"]
        return c["tp"] / (c["tp"] + other + 1e-7)
    return ref


ROW_REFS = {
    "mean": lambda a, kw: _np_mean(a["values"], a.get("weights")),
    "accuracy": _np_accuracy,
    "percentage_below": lambda a, kw: _np_mean(a["values"] < np.float32(kw["threshold"]), a.get("weights")),
    "mean_absolute_error": _np_regression("mae"),
    "mean_squared_error": _np_regression("mse"),
    "root_mean_squared_error": _np_regression("rmse"),
    "mean_relative_error": _np_regression("relative"),
    "mean_cosine_distance": _np_regression("cosine"),
    "true_positives": lambda a, kw: _np_counts(a)["tp"],
    "true_negatives": lambda a, kw: _np_counts(a)["tn"],
    "false_positives": lambda a, kw: _np_counts(a)["fp"],
    "false_negatives": lambda a, kw: _np_counts(a)["fn"],
    "precision": lambda a, kw: _np_fraction(_np_counts(a)["tp"], _np_counts(a)["fp"]),
    "recall": lambda a, kw: _np_fraction(_np_counts(a)["tp"], _np_counts(a)["fn"]),
    "true_positives_at_thresholds": _np_thresholds_metric("tp"),
    "true_negatives_at_thresholds": _np_thresholds_metric("tn"),
    "false_positives_at_thresholds": _np_thresholds_metric("fp"),
    "false_negatives_at_thresholds": _np_thresholds_metric("fn"),
    "precision_at_thresholds": _np_thresholds_metric("precision"),
    "recall_at_thresholds": _np_thresholds_metric("recall"),
    "auc": _np_auc,
    "sensitivity_at_specificity": _np_sensitivity_at_specificity,
    "specificity_at_sensitivity": _np_specificity_at_sensitivity,
    "mean_iou": _np_mean_iou,
    "mean_per_class_accuracy": _np_mean_per_class_accuracy,
    "precision_at_k": lambda a, kw: _np_set_metric(a, kw, "precision"),
    "sparse_precision_at_k": lambda a, kw: _np_set_metric(a, kw, "precision"),
    "precision_at_top_k": lambda a, kw: _np_set_metric(a, kw, "precision"),
    "recall_at_k": lambda a, kw: _np_set_metric(a, kw, "recall"),
    "recall_at_top_k": lambda a, kw: _np_set_metric(a, kw, "recall"),
    "average_precision_at_k": _np_average_precision,
    "sparse_average_precision_at_k": _np_average_precision,
}


def _np_mean_tensor(batches: list[dict]) -> np.ndarray:
    total = count = 0.0
    for b in batches:
        values = b["values"].astype(np.float64)
        w = np.ones_like(values) if "weights" not in b else _align(b["weights"], values)
        total, count = total + values * w, count + w
    return np.divide(total, count, out=np.zeros_like(total), where=count > 0)


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_streaming_value_matches_numpy_reference(case_id):
    case = CASES[case_id]
    batches = _batches(case)
    _, values = _stream(case)
    for i, got in enumerate(values):
        seen = batches[:i + 1]
        if case["metric"] == "mean_tensor":
            want = _np_mean_tensor(seen)
        else:
            want = ROW_REFS[case["metric"]](_concat(seen), case["kwargs"])
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6, err_msg=f"after batch {i}")


def test_every_tf_metrics_name_has_a_reference_and_a_recorded_case():
    names = {n.split(".")[-1] for n in json.loads(
        (Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "api" / "v1_api.json").read_text())["names"]
        if n.startswith("tf.metrics.")}
    assert len(names) == 33
    assert names == set(tf.metrics.__all__)
    assert names == set(ROW_REFS) | {"mean_tensor"}
    assert names == {case["metric"] for case in CASES.values()}


# ----------------------------------------------------------------------------------------------------------
# Errors: the classes TF raised for the same graphs (recorded), and the session stays usable
# ----------------------------------------------------------------------------------------------------------
def _build_error(fn) -> str:
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the class is what is compared
        return type(e).__name__
    return "none"


def _run_error(fn) -> str:
    fetch, feed = fn()
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        try:
            sess.run(fetch, feed)
        except Exception as e:  # noqa: BLE001 - the class is what is compared
            return type(e).__name__
    return "none"


_ph = tf.placeholder
ERROR_CASES = {
    "accuracy_shape_mismatch": lambda: _build_error(lambda: tf.metrics.accuracy(tf.zeros([3]), tf.zeros([4]))),
    "mean_weights_not_broadcastable": lambda: _build_error(
        lambda: tf.metrics.mean(tf.zeros([3, 4]), weights=tf.ones([3, 2]))),
    "mean_weights_rank": lambda: _build_error(lambda: tf.metrics.mean(tf.zeros([3, 4]), weights=tf.ones([2, 3, 4, 5]))),
    "mean_weights_dynamic": lambda: _run_error(lambda: (
        tf.metrics.mean(_ph(tf.float32, [None, 4], name="v"), weights=_ph(tf.float32, [None, 4], name="w"))[1],
        {"v:0": np.zeros((2, 4)), "w:0": np.ones((3, 4))})),
    "auc_bad_curve": lambda: _build_error(lambda: tf.metrics.auc(tf.zeros([3]), tf.zeros([3]), curve="XY")),
    "auc_bad_summation": lambda: _build_error(
        lambda: tf.metrics.auc(tf.zeros([3]), tf.zeros([3]), summation_method="simpson")),
    "precision_at_thresholds_negative_predictions": lambda: _run_error(lambda: (
        tf.metrics.precision_at_thresholds(tf.constant([1, 0]), _ph(tf.float32, [2], name="p"), [0.5])[1],
        {"p:0": np.array([-0.1, 0.5])})),
    "specificity_out_of_range": lambda: _build_error(
        lambda: tf.metrics.sensitivity_at_specificity(tf.zeros([3]), tf.zeros([3]), specificity=1.5)),
    "sensitivity_out_of_range": lambda: _build_error(
        lambda: tf.metrics.specificity_at_sensitivity(tf.zeros([3]), tf.zeros([3]), sensitivity=-0.1)),
    "mean_iou_label_out_of_range": lambda: _run_error(lambda: (
        tf.metrics.mean_iou(_ph(tf.int64, [3], name="l"), tf.constant([0, 1, 1], tf.int64), num_classes=2)[1],
        {"l:0": np.array([0, 1, 2])})),
    "mean_iou_negative_prediction": lambda: _run_error(lambda: (
        tf.metrics.mean_iou(tf.constant([0, 1, 1], tf.int64), _ph(tf.int64, [3], name="p"), num_classes=2)[1],
        {"p:0": np.array([0, -1, 1])})),
    "mean_per_class_accuracy_label_out_of_range": lambda: _run_error(lambda: (
        tf.metrics.mean_per_class_accuracy(_ph(tf.int64, [3], name="l"), tf.constant([0, 1, 1], tf.int64),
                                           num_classes=2)[1],
        {"l:0": np.array([0, 1, 5])})),
    "average_precision_k_zero": lambda: _build_error(
        lambda: tf.metrics.average_precision_at_k(tf.constant([[1]], tf.int64), tf.zeros([1, 3]), k=0)),
    "precision_at_k_labels_rank": lambda: _build_error(
        lambda: tf.metrics.precision_at_k(tf.zeros([2, 3, 4], tf.int64), tf.zeros([2, 3]), k=1)),
    "mean_relative_error_normalizer_shape": lambda: _build_error(
        lambda: tf.metrics.mean_relative_error(tf.zeros([3]), tf.zeros([3]), normalizer=tf.ones([4]))),
    "false_negatives_weights_rank": lambda: _run_error(lambda: (
        tf.metrics.false_negatives(tf.constant([1, 0]), tf.constant([0, 0]),
                                   weights=_ph(tf.float32, None, name="w"))[1],
        {"w:0": np.ones((2, 2, 2))})),
    "mean_squared_error_dtype_mismatch": lambda: _build_error(
        lambda: tf.metrics.mean_squared_error(tf.zeros([3]), tf.zeros([3], tf.int32))),
}
# Where tfmini knowingly differs: TF checks predictions against [0, 1] only when casting them creates an op
# (not for float32 predictions with bool labels), tfmini always does; and TF checks top-k weights against the
# rows only at run time (set ops lose the static shape), tfmini when the graph is built.
DIFFERENT = {"auc_predictions_out_of_range": "InvalidArgumentError",
             "precision_at_k_weights_not_broadcastable": "ValueError"}


def test_every_recorded_error_case_is_checked():
    assert set(FIXTURE["errors"]) == set(ERROR_CASES) | set(DIFFERENT)


@pytest.mark.parametrize("case_id", sorted(ERROR_CASES))
def test_raises_tensorflows_error_class(case_id):
    assert ERROR_CASES[case_id]() == FIXTURE["errors"][case_id]


def test_predictions_outside_unit_interval_fail_even_without_a_cast():
    update = tf.metrics.auc(tf.constant([True, False]), _ph(tf.float32, [2], name="p"))[1]
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        with pytest.raises(errors.InvalidArgumentError, match=r"predictions must be in \[0, 1\]"):
            sess.run(update, {"p:0": np.array([0.5, 1.5])})
        assert sess.run(update, {"p:0": np.array([1.0, 0.5])}) == pytest.approx(1.0, abs=1e-5)


def test_top_k_weights_that_do_not_fit_the_rows_fail_when_built():
    with pytest.raises(ValueError, match="weights can not be broadcast to values"):
        tf.metrics.precision_at_k(tf.zeros([2, 1], tf.int64), tf.zeros([2, 3]), k=1, weights=tf.ones([3]))


def test_top_k_metrics_want_int64_labels():
    with pytest.raises(TypeError, match="Types don't match"):
        tf.metrics.recall_at_k(tf.constant([[1]], tf.int32), tf.zeros([1, 3]), k=1)


def test_mean_tensor_needs_a_fully_defined_shape():
    with pytest.raises(ValueError, match="fully defined"):
        tf.metrics.mean_tensor(_ph(tf.float32, [None, 2]))


def test_session_stays_usable_after_a_failed_update():
    values, weights = _ph(tf.float32, [None], name="v"), _ph(tf.float32, [None], name="w")
    value, update = tf.metrics.mean(values, weights=weights)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        sess.run(update, {values: [1.0, 3.0], weights: [1.0, 1.0]})
        with pytest.raises(errors.InvalidArgumentError, match="weights can not be broadcast"):
            sess.run(update, {values: [5.0, 5.0], weights: [1.0, 1.0, 1.0]})
        assert sess.run(value) == pytest.approx(2.0)
        assert sess.run(update, {values: [8.0], weights: [2.0]}) == pytest.approx((4.0 + 16.0) / 4.0)


# ----------------------------------------------------------------------------------------------------------
# Local variables, names, resets, collections, sessions
# ----------------------------------------------------------------------------------------------------------
def test_variables_are_local_metric_variables_named_under_the_metric_scope():
    tf.metrics.accuracy([1, 2], [1, 1])
    tf.metrics.accuracy([1, 2], [1, 1])
    tf.metrics.precision([1, 0], [1, 1], name="prec")
    names = [v.name for v in tf.local_variables()]
    assert names == ["accuracy/total:0", "accuracy/count:0", "accuracy_1/total:0", "accuracy_1/count:0",
                     "prec/true_positives/count:0", "prec/false_positives/count:0"]
    assert tf.get_collection(tf.GraphKeys.METRIC_VARIABLES) == tf.local_variables()
    assert tf.global_variables() == [] and tf.trainable_variables() == []
    assert all(not v.trainable for v in tf.local_variables())


def test_metrics_inside_a_variable_scope_nest_their_names():
    with tf.variable_scope("eval"):
        value, update = tf.metrics.mean([1.0, 2.0])
    assert value.name == "eval/mean/value:0" and update.name == "eval/mean/update_op:0"
    assert [v.name for v in tf.local_variables()] == ["eval/mean/total:0", "eval/mean/count:0"]


def test_local_variables_initializer_restarts_the_stream():
    values = _ph(tf.float32, [None])
    value, update = tf.metrics.mean(values)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        sess.run(update, {values: [1.0, 2.0]})
        assert sess.run(update, {values: [6.0]}) == pytest.approx(3.0)
        sess.run(tf.initializers.local_variables())
        assert sess.run(value) == 0.0
        assert sess.run(update, {values: [10.0, 20.0]}) == pytest.approx(15.0)
        sess.run(tf.variables_initializer(tf.local_variables()))
        assert sess.run(update, {values: [-4.0]}) == pytest.approx(-4.0)


def test_uninitialized_metric_fails_with_failed_precondition():
    value, _ = tf.metrics.mean([1.0])
    with tf.Session() as sess:
        with pytest.raises(errors.FailedPreconditionError):
            sess.run(value)


def test_value_tensor_reads_without_updating():
    value, update = tf.metrics.recall([1, 1, 0], [1, 0, 0])
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        sess.run(update)
        assert [sess.run(value) for _ in range(3)] == [0.5, 0.5, 0.5]


def test_pr_auc_by_trapezoids_logs_a_warning(caplog):
    with caplog.at_level("WARNING", logger="tfmini"):
        tf.metrics.auc([1, 0], [0.6, 0.4], curve="PR")
        tf.metrics.auc([1, 0], [0.6, 0.4], curve="PR", summation_method="careful_interpolation")
    assert [r.getMessage().count("careful_interpolation") for r in caplog.records] == [1]


def test_collections_receive_the_value_and_the_update():
    value, update = tf.metrics.auc([1, 0], [0.7, 0.2], metrics_collections=["m"], updates_collections=["u"])
    rmse, rmse_update = tf.metrics.root_mean_squared_error([1.0], [2.0], metrics_collections=["m"],
                                                           updates_collections=["u", "u2"])
    assert tf.get_collection("m") == [value, rmse]
    assert tf.get_collection("u") == [update, rmse_update]
    assert tf.get_collection("u2") == [rmse_update]


def test_two_sessions_stream_separately():
    values = _ph(tf.float32, [None])
    value, update = tf.metrics.mean(values)
    with tf.Session() as a, tf.Session() as b:
        a.run(tf.local_variables_initializer())
        b.run(tf.local_variables_initializer())
        a.run(update, {values: [1.0]})
        b.run(update, {values: [9.0, 11.0]})
        assert (a.run(value), b.run(value)) == (1.0, 10.0)


def test_fed_arrays_are_left_unchanged():
    labels = np.array([[0, 1], [1, 1]], np.int64)
    logits = np.array([[0.2, 0.9, 0.1], [0.5, 0.4, 0.3]], np.float32)
    weights = np.array([2.0, 1.0], np.float32)
    copies = [labels.copy(), logits.copy(), weights.copy()]
    l_ph, p_ph, w_ph = _ph(tf.int64, [2, 2]), _ph(tf.float32, [2, 3]), _ph(tf.float32, [2])
    updates = [tf.metrics.average_precision_at_k(l_ph, p_ph, 2, weights=w_ph)[1],
               tf.metrics.mean_tensor(p_ph, weights=tf.expand_dims(w_ph, 1))[1],
               tf.metrics.mean_iou(l_ph, l_ph, 2, weights=tf.stack([w_ph, w_ph], 1))[1]]
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        sess.run(updates, {l_ph: labels, p_ph: logits, w_ph: weights})
    for got, want in zip([labels, logits, weights], copies):
        np.testing.assert_array_equal(got, want)


def test_mean_tensor_value_keeps_the_shape_of_values():
    value, update = tf.metrics.mean_tensor(tf.constant([[1.0, 2.0], [3.0, 4.0]]))
    assert value.shape.as_list() == [2, 2] and update.shape.as_list() == [2, 2]


def test_weights_of_the_squeezable_and_expandable_ranks():
    # [3, 1] weights for [3] values lose their last dimension; [3] weights for [3, 2] values gain one.
    squeezed = tf.metrics.mean(tf.constant([1.0, 2.0, 4.0]), weights=tf.constant([[1.0], [0.0], [1.0]]))[1]
    expanded = tf.metrics.mean(tf.constant([[1.0, 1.0], [5.0, 5.0], [9.0, 9.0]]),
                               weights=tf.constant([0.0, 1.0, 1.0]))[1]
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        assert sess.run([squeezed, expanded]) == [pytest.approx(2.5), pytest.approx(7.0)]


def test_unknown_rank_inputs_are_aligned_at_run_time():
    labels, predictions = _ph(tf.int64), _ph(tf.int64)
    weights = _ph(tf.float32)
    update = tf.metrics.accuracy(labels, predictions, weights=weights)[1]
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        got = sess.run(update, {labels: [[1], [2], [3]], predictions: [1, 0, 3], weights: [[1.0], [1.0], [2.0]]})
    assert got == pytest.approx(3.0 / 4.0)


# ----------------------------------------------------------------------------------------------------------
# A TF1 evaluation program: a softmax classifier scored over batches with tf.metrics
# ----------------------------------------------------------------------------------------------------------
def test_mnist_style_evaluation_loop_streams_accuracy_and_mean_loss():
    rng = np.random.RandomState(7)
    images = rng.uniform(0, 1, size=(250, 64)).astype(np.float32)
    digits = rng.randint(0, 10, size=250).astype(np.int64)
    w_init = rng.normal(0, 0.3, size=(64, 10)).astype(np.float32)
    b_init = rng.normal(0, 0.1, size=10).astype(np.float32)

    x = tf.placeholder(tf.float32, [None, 64], name="x")
    y = tf.placeholder(tf.int64, [None], name="y")
    w = tf.Variable(w_init, name="w")
    b = tf.Variable(b_init, name="b")
    logits = tf.matmul(x, w) + b
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
    acc, acc_update = tf.metrics.accuracy(labels=y, predictions=tf.argmax(logits, 1))
    mean_loss, loss_update = tf.metrics.mean(loss)
    top3, top3_update = tf.metrics.recall_at_k(labels=y, predictions=logits, k=3)
    with tf.Session() as sess:
        sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
        for start in range(0, 250, 64):
            sess.run([acc_update, loss_update, top3_update],
                     {x: images[start:start + 64], y: digits[start:start + 64]})
        got = sess.run([acc, mean_loss, top3])

    z = images.astype(np.float64) @ w_init + b_init
    log_probs = z - z.max(1, keepdims=True)
    log_probs -= np.log(np.exp(log_probs).sum(1, keepdims=True))
    in_top3 = (np.argsort(-z, axis=1)[:, :3] == digits[:, None]).any(1)
    assert got[0] == pytest.approx(np.mean(z.argmax(1) == digits), abs=1e-6)
    assert got[1] == pytest.approx(-np.mean(log_probs[np.arange(250), digits]), rel=1e-5)
    assert got[2] == pytest.approx(np.mean(in_top3), abs=1e-12)


def test_weights_of_another_rank_fail_at_run_time_when_the_rank_is_unknown():
    values, weights = _ph(tf.float32, [2]), _ph(tf.float32)
    update = tf.metrics.mean(values, weights=weights)[1]
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        with pytest.raises(errors.InvalidArgumentError, match="weights can not be broadcast"):
            sess.run(update, {values: [1.0, 2.0], weights: np.ones((2, 2, 2))})
        assert sess.run(update, {values: [1.0, 2.0], weights: [[3.0], [1.0]]}) == pytest.approx(1.25)


def test_thresholds_in_any_order_count_in_that_order():
    labels = tf.constant([1, 0, 1, 1, 0])
    predictions = tf.constant([0.9, 0.35, 0.4, 0.1, 0.75])
    thresholds = [0.5, 0.05, 0.8, 0.3]
    tp = tf.metrics.true_positives_at_thresholds(labels, predictions, thresholds)[1]
    fn = tf.metrics.false_negatives_at_thresholds(labels, predictions, thresholds)[1]
    tn = tf.metrics.true_negatives_at_thresholds(labels, predictions, thresholds)[1]
    fp = tf.metrics.false_positives_at_thresholds(labels, predictions, thresholds)[1]
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        got = sess.run([tp, fn, tn, fp])
    np.testing.assert_array_equal(got, [[1, 3, 1, 2], [2, 0, 2, 1], [1, 0, 2, 0], [1, 2, 0, 2]])
