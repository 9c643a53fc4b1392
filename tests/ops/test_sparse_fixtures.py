"""tf.sparse, tf.sets, sparse crosses and serialized SparseTensors against results recorded from TensorFlow
(tools/tf_fixtures/gen_sparse.py): each case's expression runs here with tfmini and must give TensorFlow's
arrays (values, dtypes and shapes; hashes and serialized bytes exactly), or TensorFlow's error class; and a
GraphDef TensorFlow wrote of sparse ops and their gradients imports and gives TensorFlow's values."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import tfmini as tf
from tfmini.protobuf import graph_pb2

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf", "sparse")
with open(os.path.join(FIXTURES, "cases.json")) as _f:
    CASES = json.load(_f)
RECORDED = np.load(os.path.join(FIXTURES, "cases.npz"))
_ERRORS = {"InvalidArgumentError": tf.errors.InvalidArgumentError, "ValueError": ValueError,
           "TypeError": TypeError}


def _flatten(value) -> list:
    if isinstance(value, (list, tuple)) and not hasattr(value, "indices"):
        return [a for v in value for a in _flatten(v)]
    if isinstance(value, (tf.SparseTensorValue, tf.IndexedSlicesValue)):
        return [np.asarray(value.indices), np.asarray(value.values), np.asarray(value.dense_shape)]
    return [np.asarray(value)]


def _build_and_run(expression: str) -> list:
    with tf.Graph().as_default(), tf.Session() as sess:
        return _flatten(sess.run(eval(expression, {"tf": tf, "np": np})))  # noqa: S307 - the recorded cases


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_matches_tensorflow(name):
    case = CASES[name]
    if "error" in case:
        with pytest.raises(_ERRORS[case["error"]]):
            _build_and_run(case["expression"])
        return
    got = _build_and_run(case["expression"])
    assert len(got) == case["outputs"]
    for i, value in enumerate(got):
        want = RECORDED[f"{name}/{i}"]
        if want.dtype.kind == "U":  # strings, recorded as their hex spellings
            assert value.dtype == object
            assert value.shape == want.shape
            assert [bytes(v) for v in value.reshape(-1)] == [bytes.fromhex(h) for h in want.reshape(-1)], \
                f"output {i}"
            continue
        assert value.dtype == want.dtype, f"output {i}: {value.dtype} vs TF's {want.dtype}"
        assert value.shape == want.shape, f"output {i}: {value.shape} vs TF's {want.shape}"
        if want.dtype.kind == "f":
            np.testing.assert_allclose(value, want, rtol=1e-6, atol=1e-7, err_msg=f"output {i}")
        else:
            np.testing.assert_array_equal(value, want, err_msg=f"output {i}")


def test_tensorflow_graph_of_sparse_ops_and_their_gradients_imports_and_runs():
    """TF's GraphDef of sparse ops with the gradients TF built for them (SparseAddGrad, SparseSliceGrad,
    SparseFillEmptyRowsGrad, SparseSegmentMeanGrad, SparseSegmentSumGrad, SparseDenseCwise*, ...) gives TF's
    values here."""
    with open(os.path.join(FIXTURES, "graph.json")) as f:
        manifest = json.load(f)
    graph_def = graph_pb2.GraphDef()
    with open(os.path.join(FIXTURES, "graph.pb"), "rb") as f:
        graph_def.ParseFromString(f.read())
    data = np.load(os.path.join(FIXTURES, "graph.npz"))
    feeds = {k[len("feed/"):]: data[k] for k in data.files if k.startswith("feed/")}
    with tf.Graph().as_default() as g:
        tf.import_graph_def(graph_def, name="")
        assert {op.type for op in g.get_operations()} == set(manifest["op_types"])
        with tf.Session() as sess:
            got = sess.run(manifest["fetches"], feeds)
    for name, value in zip(manifest["fetches"], got):
        want = data[f"fetch/{name}"]
        assert value.dtype == want.dtype and value.shape == want.shape, name
        np.testing.assert_allclose(value, want, rtol=1e-10, atol=1e-12, err_msg=name)


def test_sparse_conditional_accumulator_runs_give_tensorflows_results():
    """The runs TensorFlow recorded on three accumulators (per-row means, sums, a known shape, stale gradients
    dropped, the global step set back) give the same counts and taken gradients."""
    with open(os.path.join(FIXTURES, "accumulator.json")) as f:
        recorded = json.load(f)
    data = np.load(os.path.join(FIXTURES, "accumulator.npz"))
    with tf.Graph().as_default(), tf.Session() as sess:
        accumulators = {name: tf.sparse.SparseConditionalAccumulator(tf.float32, name=name, **kwargs)
                        for name, kwargs in recorded["accumulators"].items()}
        for i, ((name, kind, kwargs), n_out) in enumerate(zip(recorded["runs"], recorded["outputs"])):
            acc = accumulators[name]
            if kind == "count":
                got = [sess.run(acc.num_accumulated())]
            elif kind == "take":
                got = list(sess.run(acc.take_grad(**kwargs)))
            else:
                sess.run(getattr(acc, "apply_grad" if kind == "apply" else kind)(**kwargs))
                got = []
            assert len(got) == n_out, i
            for j, value in enumerate(got):
                want = data[f"{i}/{j}"]
                assert np.asarray(value).dtype == want.dtype, (i, j)
                np.testing.assert_array_equal(value, want, err_msg=f"run {i} ({name} {kind}), output {j}")
