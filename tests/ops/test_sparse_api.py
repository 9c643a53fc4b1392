"""tf.sparse's composites (transpose, retain, reset_shape, from_dense, eye, expand_dims, mask, to_indicator,
merge, sparse_to_dense), the conversion helpers, tf.sets against Python's sets, sparse crosses, serialized
SparseTensors, SparseConditionalAccumulator (waiting, deadlines, cancellation), the namespace twins and the
signatures against TensorFlow's."""

from __future__ import annotations

import inspect
import json
import os
import threading
import time

import numpy as np
import pytest

import tfmini as tf
from tfmini.framework import api_export

INDICES = np.array([[0, 0], [0, 2], [1, 1]], np.int64)
VALUES = np.array([-1.0, -2.0, 5.0], np.float32)
SHAPE = np.array([3, 3], np.int64)


def _run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


def _dense_of(value) -> np.ndarray:
    out = np.zeros(value.dense_shape, value.values.dtype)
    out[tuple(np.asarray(value.indices).T)] = value.values
    return out


@pytest.fixture
def sp():
    with tf.Graph().as_default():
        yield tf.SparseTensor(INDICES, VALUES, SHAPE)


def test_sparse_names_are_the_same_objects_as_their_tf1_twins():
    assert tf.sparse.add is tf.sparse_add
    assert tf.sparse.to_dense is tf.sparse_tensor_to_dense
    assert tf.sparse.matmul is tf.sparse.sparse_dense_matmul is tf.sparse_tensor_dense_matmul
    assert tf.sparse.SparseTensor is tf.SparseTensor
    assert tf.sets.union is tf.sets.set_union and tf.sets.size is tf.sets.set_size


@pytest.mark.parametrize("perm", [None, [1, 0]])
def test_sparse_transpose_matches_dense_transpose_in_row_major_order(sp, perm):
    out = _run(tf.sparse.transpose(sp, perm))
    np.testing.assert_array_equal(_dense_of(out), _dense_of(_run(sp)).T)
    assert out.indices.tolist() == sorted(out.indices.tolist())


def test_sparse_retain_keeps_flagged_entries(sp):
    out = _run(tf.sparse_retain(sp, [True, False, True]))
    np.testing.assert_array_equal(out.indices, [[0, 0], [1, 1]])
    np.testing.assert_array_equal(out.values, [-1.0, 5.0])
    with pytest.raises(ValueError, match="incompatible"):
        tf.sparse.retain(sp, [True, False])


def test_sparse_reset_shape_tightens_or_grows_the_dense_shape(sp):
    tight, grown = _run([tf.sparse.reset_shape(sp), tf.sparse_reset_shape(sp, [4, 5])])
    np.testing.assert_array_equal(tight.dense_shape, [2, 3])
    np.testing.assert_array_equal(grown.dense_shape, [4, 5])
    with pytest.raises(ValueError, match="greater than or equal"):
        tf.sparse.reset_shape(sp, [2, 2])
    new_shape = tf.placeholder(tf.int64, [2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="new_shape must be larger"):
        _run(tf.sparse.reset_shape(sp, new_shape), {new_shape: [1, 5]})


def test_from_dense_and_to_dense_round_trip():
    dense = np.array([[0, 1, 0], [2, 0, 3]], np.int32)
    with tf.Graph().as_default():
        sparse = tf.sparse.from_dense(dense)
        got, back = _run([sparse, tf.sparse.to_dense(sparse)])
    np.testing.assert_array_equal(got.indices, [[0, 1], [1, 0], [1, 2]])
    np.testing.assert_array_equal(got.values, [1, 2, 3])
    np.testing.assert_array_equal(back, dense)


def test_sparse_eye_and_expand_dims():
    with tf.Graph().as_default():
        eye = _run(tf.sparse.eye(2, 3, dtype=tf.int32))
        expanded = _run(tf.sparse.expand_dims(tf.SparseTensor(INDICES, VALUES, SHAPE)))
        front = _run(tf.sparse.expand_dims(tf.SparseTensor(INDICES, VALUES, SHAPE), 0))
    np.testing.assert_array_equal(_dense_of(eye), np.eye(2, 3, dtype=np.int32))
    np.testing.assert_array_equal(expanded.dense_shape, [3, 3, 1])
    np.testing.assert_array_equal(expanded.indices[:, 2], 0)
    np.testing.assert_array_equal(front.dense_shape, [1, 3, 3])


def test_sparse_mask_drops_masked_slices():
    with tf.Graph().as_default():
        slices = tf.IndexedSlices(tf.constant([[1.0], [2.0], [3.0]]), tf.constant([0, 3, 5]))
        out = _run(tf.sparse.mask(slices, [3]))
    np.testing.assert_array_equal(out.indices, [0, 5])
    np.testing.assert_array_equal(out.values, [[1.0], [3.0]])


def test_sparse_to_indicator_and_merge():
    ids_indices = [[0, 0], [0, 1], [1, 0]]
    with tf.Graph().as_default():
        ids = tf.SparseTensor(ids_indices, tf.constant([0, 3, 2], tf.int64), [2, 2])
        weights = tf.SparseTensor(ids_indices, [0.5, 0.6, 0.7], [2, 2])
        indicator, merged = _run([tf.sparse.to_indicator(ids, 4), tf.sparse_merge(ids, weights, 4)])
    np.testing.assert_array_equal(indicator, [[True, False, False, True], [False, False, True, False]])
    np.testing.assert_array_equal(merged.indices, [[0, 0], [0, 3], [1, 2]])
    np.testing.assert_allclose(merged.values, [0.5, 0.6, 0.7])
    np.testing.assert_array_equal(merged.dense_shape, [2, 4])


def test_sparse_to_dense_with_scalar_and_vector_values():
    with tf.Graph().as_default():
        vec, scalar = _run([tf.sparse_to_dense([[0, 1], [1, 0]], [2, 2], [3.0, 4.0], default_value=-1.0),
                            tf.sparse_to_dense([1, 3], [5], 7)])
    np.testing.assert_array_equal(vec, [[-1.0, 3.0], [4.0, -1.0]])
    np.testing.assert_array_equal(scalar, [0, 7, 0, 7, 0])


def test_conversion_helpers_keep_composites_and_convert_the_rest(sp):
    assert tf.convert_to_tensor_or_sparse_tensor(sp) is sp
    value = tf.SparseTensorValue(INDICES, VALUES, SHAPE)
    assert isinstance(tf.convert_to_tensor_or_sparse_tensor(value), tf.SparseTensor)
    assert isinstance(tf.convert_to_tensor_or_sparse_tensor([1.0]), tf.Tensor)
    with pytest.raises(RuntimeError, match="Sparse dtype"):
        tf.convert_to_tensor_or_sparse_tensor(sp, dtype=tf.int32)
    slices = tf.IndexedSlices(tf.constant([[1.0]]), tf.constant([0]))
    assert tf.convert_to_tensor_or_indexed_slices(slices) is slices
    assert isinstance(tf.convert_to_tensor_or_indexed_slices(np.ones(2)), tf.Tensor)


# ----------------------------------------------------------------------------------------------------------
# tf.sets against Python sets
# ----------------------------------------------------------------------------------------------------------
A = np.array([[1, 2, 2, 3], [4, 5, 6, 6]], np.int32)
B = np.array([[2, 3, 7, 7], [6, 6, 6, 6]], np.int32)
_PY_OPS = {"intersection": lambda a, b: a & b, "union": lambda a, b: a | b, "a-b": lambda a, b: a - b,
           "b-a": lambda a, b: b - a}


def _sets_of(value) -> list[list]:
    rows = [[] for _ in range(int(value.dense_shape[0]))]
    for (row, _), v in zip(value.indices, value.values):
        rows[row].append(v)
    return rows


def _call(kind, a, b):
    if kind in ("a-b", "b-a"):
        return tf.sets.difference(a, b, aminusb=kind == "a-b")
    return getattr(tf.sets, kind)(a, b)


@pytest.mark.parametrize("kind", sorted(_PY_OPS))
@pytest.mark.parametrize("forms", ["dense-dense", "dense-sparse", "sparse-dense", "sparse-sparse"])
def test_set_operations_match_python_sets(kind, forms):
    with tf.Graph().as_default():
        a = tf.constant(A) if forms.startswith("dense") else tf.sparse.from_dense(A)
        b = tf.constant(B) if forms.endswith("dense") else tf.sparse.from_dense(B)
        out = _run(_call(kind, a, b))
    want = [sorted(_PY_OPS[kind](set(x), set(y))) for x, y in zip(A.tolist(), B.tolist())]
    assert _sets_of(out) == want
    assert out.dense_shape.tolist() == [2, max(len(w) for w in want)]


def test_set_operations_on_strings_and_set_size():
    with tf.Graph().as_default():
        out = _run(tf.sets.union([[b"b", b"a"], [b"c", b"c"]], [[b"a", b"d"], [b"e", b"c"]]))
        sizes = _run(tf.sets.size(tf.SparseTensor([[0, 0], [0, 1], [1, 0], [1, 1]], [3, 3, 1, 2], [3, 2])))
    assert _sets_of(out) == [[b"a", b"b", b"d"], [b"c", b"e"]]
    np.testing.assert_array_equal(sizes, [1, 2, 0])
    assert sizes.dtype == np.int32


def test_set_operation_errors():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="at least rank 2"):
            tf.sets.intersection([1, 2], [2])
        with pytest.raises(ValueError, match="must agree"):
            tf.sets.intersection([[1, 2], [3, 4]], [[1, 2], [3, 4], [5, 6]])
        with pytest.raises(TypeError, match="Invalid dtype"):
            tf.sets.union([[1.0]], [[2.0]])
        with pytest.raises(TypeError, match="Expected `SparseTensor`"):
            tf.sets.size([[1, 2]])
        unordered = tf.SparseTensor([[1, 0], [0, 0]], [1, 2], [2, 2])
        with pytest.raises(tf.errors.InvalidArgumentError, match="out of order"):
            _run(tf.sets.size(unordered))


# ----------------------------------------------------------------------------------------------------------
# Signatures against TensorFlow's (tests/fixtures/tf/api/v1_api.json)
# ----------------------------------------------------------------------------------------------------------
# TF's spelling differs where it annotates generated wrappers or marks keyword-only use with a sentinel object.
_SIGNATURE_DIFFERENCES = {
    "tf.sparse_matmul": "TF's generated wrapper carries type annotations; the parameters and defaults agree",
    "tf.sparse.split": "TF's sentinel KeywordRequired() default is None here (a positional argument is refused)",
    "tf.sparse_split": "as tf.sparse.split",
}


def _declared_sparse_functions():
    for full_name, obj in api_export.declared_names():
        if full_name.startswith(("tf.sparse", "tf.sets.", "tf.convert_to_tensor_or")) and callable(obj) \
                and not isinstance(obj, type):
            yield full_name, obj


def test_sparse_and_sets_signatures_match_tensorflow():
    with open(os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf", "api", "v1_api.json")) as f:
        recorded = json.load(f)["signatures"]
    differing = set()
    for full_name, obj in _declared_sparse_functions():
        mine = str(inspect.signature(obj).replace(return_annotation=inspect.Signature.empty))
        if mine != recorded[full_name]:
            differing.add(full_name)
    assert differing == set(_SIGNATURE_DIFFERENCES)


# ----------------------------------------------------------------------------------------------------------
# Sparse crosses and serialized SparseTensors (exact values against TF in test_sparse_fixtures.py)
# ----------------------------------------------------------------------------------------------------------
def test_sparse_cross_takes_every_combination_per_row_last_input_fastest():
    with tf.Graph().as_default():
        words = tf.SparseTensor([[0, 0], [0, 1], [1, 0]], ["a", "b", "c"], [2, 2])
        out = _run(tf.sparse.cross([words, tf.constant([[1, 2], [3, 4]], tf.int64)]))
        joined = _run(tf.sparse.cross([words, tf.constant([["x"], ["y"]])], separator="|"))
    assert [bytes(v) for v in out.values] == [b"a_X_1", b"a_X_2", b"b_X_1", b"b_X_2", b"c_X_3", b"c_X_4"]
    np.testing.assert_array_equal(out.indices, [[0, 0], [0, 1], [0, 2], [0, 3], [1, 0], [1, 1]])
    np.testing.assert_array_equal(out.dense_shape, [2, 4])
    assert [bytes(v) for v in joined.values] == [b"a|x", b"b|x", b"c|y"]


def test_sparse_cross_hashed_buckets_and_batch_mismatch():
    with tf.Graph().as_default():
        ids = tf.SparseTensor([[0, 0], [1, 0]], tf.constant([5, 6], tf.int64), [2, 1])
        hashed = _run(tf.sparse.cross_hashed([ids, tf.constant([["u"], ["v"]])], num_buckets=10))
        assert hashed.values.dtype == np.int64 and np.all((hashed.values >= 0) & (hashed.values < 10))
        bad = tf.sparse.cross([ids, tf.constant([["u"], ["v"], ["w"]])])
        with pytest.raises(tf.errors.InvalidArgumentError, match="Expected batch size 2 got 3"):
            _run(bad)
        with pytest.raises(TypeError, match="Inputs must be a list"):
            tf.sparse.cross(ids)


def test_serialized_sparse_tensors_round_trip_and_check_the_dtype():
    with tf.Graph().as_default():
        sp = tf.SparseTensor(INDICES, VALUES, SHAPE)
        serialized = tf.serialize_many_sparse(sp)
        back = _run(tf.deserialize_many_sparse(serialized, tf.float32, rank=2))
        np.testing.assert_array_equal(back.indices, INDICES)
        np.testing.assert_array_equal(back.values, VALUES)
        np.testing.assert_array_equal(back.dense_shape, SHAPE)
        assert _run(tf.io.serialize_sparse(sp)).shape == (3,)
        with pytest.raises(tf.errors.InvalidArgumentError, match="Requested SparseTensor of type int32"):
            _run(tf.io.deserialize_many_sparse(serialized, tf.int32))
        with pytest.raises(tf.errors.InvalidArgumentError, match="Could not parse"):
            _run(tf.io.deserialize_many_sparse([["x", "y", "z"]], tf.float32))


# ----------------------------------------------------------------------------------------------------------
# SparseConditionalAccumulator (values against TensorFlow in test_sparse_fixtures.py)
# ----------------------------------------------------------------------------------------------------------
def test_accumulator_take_waits_for_enough_gradients_and_honours_the_deadline():
    with tf.Graph().as_default():
        acc = tf.SparseConditionalAccumulator(tf.float32, shape=[None, 2])
        assert acc.accumulator_ref.dtype == tf.string._as_ref and acc.accumulator_ref.op.type == \
            "SparseConditionalAccumulator"
        take = acc.take_indexed_slices_grad(2)
        apply = acc.apply_grad(tf.placeholder(tf.int64, [None], name="rows"), tf.placeholder(tf.float32, [None, 2],
                                                                                             name="vals"))
        feed = {"rows:0": [1], "vals:0": [[2.0, 4.0]]}
        with tf.Session() as sess:
            sess.run(apply, feed)
            with pytest.raises(tf.errors.DeadlineExceededError):
                sess.run(take, options=tf.RunOptions(timeout_in_ms=100))
            worker = threading.Timer(0.1, lambda: sess.run(apply, feed))
            worker.start()
            got = sess.run(take)  # unblocked by the second gradient, applied from another thread
            worker.join()
            np.testing.assert_array_equal(got.indices, [1])
            np.testing.assert_array_equal(got.values, [[2.0, 4.0]])
            np.testing.assert_array_equal(got.dense_shape, [-1, 2])
            assert sess.run(acc.num_accumulated()) == 0


def test_accumulator_take_is_cancelled_when_the_session_closes():
    with tf.Graph().as_default():
        acc = tf.sparse.SparseConditionalAccumulator(tf.float64)
        take = acc.take_grad(1)
        sess = tf.Session()
        sess.run(acc.num_accumulated())  # creates the accumulator
        errors = []

        def blocked_take():
            try:
                sess.run(take)
            except tf.errors.CancelledError as e:
                errors.append(e)

        waiter = threading.Thread(target=blocked_take)
        waiter.start()
        time.sleep(0.1)
        sess.close()
        waiter.join(5)
        assert not waiter.is_alive() and len(errors) == 1


def test_accumulator_errors_and_sessions_keep_separate_accumulators():
    with tf.Graph().as_default():
        with pytest.raises(TypeError):
            tf.sparse.SparseConditionalAccumulator(tf.string)
        with pytest.raises(ValueError, match="reduction_type"):
            tf.sparse.SparseConditionalAccumulator(tf.float32, reduction_type="MAX")
        acc = tf.sparse.SparseConditionalAccumulator(tf.float32, shape=[4, 2])
        apply = acc.apply_grad([1], [[1.0, 2.0]])
        with tf.Session() as first, tf.Session() as second:
            first.run(apply)
            assert first.run(acc.num_accumulated()) == 1 and second.run(acc.num_accumulated()) == 0
            with pytest.raises(tf.errors.InvalidArgumentError, match="Argument num_required must be positive"):
                first.run(acc.take_grad(0))
            with pytest.raises(tf.errors.InvalidArgumentError, match="expected values dim 1 to be 2, got 3"):
                first.run(acc.apply_grad([0], [[1.0, 2.0, 3.0]]))
            with pytest.raises(tf.errors.InvalidArgumentError, match="expected shape dim 0 to be 4, got 5"):
                first.run(acc.apply_grad([0], [[1.0, 2.0]], grad_shape=[5, 2]))
            assert first.run(acc.num_accumulated()) == 1  # the refused gradients left the aggregate alone
