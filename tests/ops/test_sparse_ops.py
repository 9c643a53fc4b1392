"""Sparse ops against NumPy on the dense form (SparseToDense, SparseReduceSum, SparseTensorDenseMatMul), their
run-time errors, and their gradients against finite differences (SparseToDense has none, as in TF)."""

from __future__ import annotations

import numpy as np
import pytest
from gradient_checker import check_gradients, random_array

import tfmini as tf
from tfmini.ops import sparse_ops

INDICES = np.array([[0, 1], [1, 0], [1, 2], [2, 2]], np.int64)
SHAPE = np.array([3, 3], np.int64)


def _dense(values: np.ndarray) -> np.ndarray:
    out = np.zeros(SHAPE, values.dtype)
    out[tuple(INDICES.T)] = values
    return out


def _run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


def test_sparse_tensor_to_dense_fills_the_default_value():
    values = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    with tf.Graph().as_default():
        sp = tf.SparseTensor(INDICES, values, SHAPE)
        got = _run(tf.sparse_tensor_to_dense(sp, default_value=-1.0))
    want = np.where(_dense(values) == 0, -1.0, _dense(values)).astype(np.float32)
    np.testing.assert_array_equal(got, want)
    assert got.dtype == np.float32


def test_sparse_tensor_to_dense_rejects_out_of_bounds_indices():
    with tf.Graph().as_default():
        sp = tf.SparseTensor([[0, 3]], [1.0], [3, 3])
        with pytest.raises(tf.errors.InvalidArgumentError, match="out of bounds"):
            _run(tf.sparse_tensor_to_dense(sp))


def test_sparse_tensor_to_dense_has_no_gradient_as_in_tf():
    with tf.Graph().as_default():
        values = tf.constant([1.0, 2.0, 3.0, 4.0])
        dense = tf.sparse_tensor_to_dense(tf.SparseTensor(INDICES, values, SHAPE))
        assert tf.gradients(tf.reduce_sum(dense), values) == [None]


@pytest.mark.parametrize("axis", [None, 0, 1, -1, [0, 1]])
@pytest.mark.parametrize("keepdims", [False, True])
def test_sparse_reduce_sum_matches_numpy_and_differentiates(axis, keepdims):
    values = random_array((4,), seed=3)
    with tf.Graph().as_default():
        sp = tf.SparseTensor(INDICES, tf.constant(values), SHAPE)
        got = _run(tf.sparse_reduce_sum(sp, axis=axis, keepdims=keepdims))
    want = np.sum(_dense(values), axis=None if axis is None else tuple(np.atleast_1d(axis)), keepdims=keepdims)
    np.testing.assert_allclose(got, want)
    check_gradients(lambda v: tf.sparse_reduce_sum(tf.SparseTensor(INDICES, v, SHAPE), axis=axis,
                                                   keepdims=keepdims), [values])


@pytest.mark.parametrize("adjoint_a", [False, True])
@pytest.mark.parametrize("adjoint_b", [False, True])
def test_sparse_dense_matmul_matches_numpy_and_differentiates(adjoint_a, adjoint_b):
    values = random_array((4,), seed=4)
    b = random_array((2, 3) if adjoint_b else (3, 2), seed=5)

    def ref(v, m):
        a = _dense(v).T if adjoint_a else _dense(v)
        return a @ (m.T if adjoint_b else m)

    def product(v, m):
        return tf.sparse_tensor_dense_matmul(tf.SparseTensor(INDICES, v, SHAPE), m, adjoint_a=adjoint_a,
                                             adjoint_b=adjoint_b)

    with tf.Graph().as_default():
        np.testing.assert_allclose(_run(product(tf.constant(values), tf.constant(b))), ref(values, b))
    check_gradients(product, [values, b])


def test_sparse_dense_matmul_rejects_mismatched_inner_dimensions_at_run_time():
    with tf.Graph().as_default():
        b = tf.placeholder(tf.float32)
        product = tf.sparse_tensor_dense_matmul(tf.SparseTensor(INDICES, np.ones(4, np.float32), SHAPE), b)
        with pytest.raises(tf.errors.InvalidArgumentError, match="inner dimension does not match"):
            _run(product, {b: np.ones((2, 2), np.float32)})


@pytest.mark.parametrize("fn", [tf.sparse_tensor_to_dense, tf.sparse_reduce_sum,
                                lambda sp: tf.sparse_tensor_dense_matmul(sp, tf.ones([2, 2]))],
                         ids=["to_dense", "reduce_sum", "dense_matmul"])
def test_sparse_ops_given_a_dense_tensor_raise_tfs_type_error(fn):
    with pytest.raises(TypeError, match="Input must be a SparseTensor."):
        fn(tf.ones([2, 2]))


def test_sparse_tensor_from_value_refuses_what_is_not_sparse():
    with pytest.raises(TypeError, match="Neither a SparseTensor nor SparseTensorValue"):
        tf.SparseTensor.from_value(tf.ones([2]))


# ----------------------------------------------------------------------------------------------------------
# SparseAdd and SparseTensorDenseAdd
# ----------------------------------------------------------------------------------------------------------
B_INDICES = np.array([[0, 0], [1, 2], [2, 1]], np.int64)


def _dense_of(indices, values, shape):
    out = np.zeros(shape, np.asarray(values).dtype)
    np.add.at(out, tuple(np.asarray(indices).T), values)
    return out


def test_sparse_add_merges_indices_in_order_and_sums_shared_entries():
    a_vals = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    b_vals = np.array([10.0, -3.0, 20.0], np.float32)
    with tf.Graph().as_default():
        out = _run(tf.sparse.add(tf.SparseTensor(INDICES, a_vals, SHAPE), tf.SparseTensor(B_INDICES, b_vals, SHAPE)))
    np.testing.assert_array_equal(out.indices, [[0, 0], [0, 1], [1, 0], [1, 2], [2, 1], [2, 2]])
    np.testing.assert_array_equal(out.values, [10.0, 1.0, 2.0, 0.0, 20.0, 4.0])
    np.testing.assert_array_equal(out.dense_shape, SHAPE)


def test_sparse_add_threshold_drops_small_sums_only():
    with tf.Graph().as_default():
        a = tf.SparseTensor([[0, 0], [0, 1]], [1.0, 0.1], [2, 2])
        b = tf.SparseTensor([[0, 0], [1, 1]], [-0.95, 0.2], [2, 2])
        out = _run(tf.sparse_add(a, b, threshold=0.3))
    # the shared entry sums to 0.05 (dropped); entries of one operand are kept whatever their size
    np.testing.assert_array_equal(out.indices, [[0, 1], [1, 1]])
    np.testing.assert_allclose(out.values, [0.1, 0.2])


def test_sparse_add_gradients_reach_both_operands_values():
    a_vals, b_vals = random_array((4,), seed=6), random_array((3,), seed=7)

    def total(a, b):
        return tf.sparse.add(tf.SparseTensor(INDICES, a, SHAPE), tf.SparseTensor(B_INDICES, b, SHAPE)).values

    check_gradients(total, [a_vals, b_vals])


def test_sparse_add_refuses_different_shapes_at_build_and_run_time():
    with tf.Graph().as_default():
        a = tf.SparseTensor([[0, 0]], [1.0], [2, 3])
        with pytest.raises(ValueError, match="incompatible"):
            tf.sparse.add(a, tf.SparseTensor([[0, 0]], [1.0], [2, 2]))
        shape = tf.placeholder(tf.int64, [2])
        total = tf.sparse.add(a, tf.SparseTensor([[0, 0]], [1.0], shape))
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match="SparseAdd"):
                sess.run(total.values, {shape: [2, 2]})
            np.testing.assert_array_equal(sess.run(total.values, {shape: [2, 3]}), [2.0])


def test_sparse_add_with_a_dense_operand_gives_a_dense_sum_and_gradients():
    values, dense = random_array((4,), seed=8), random_array((3, 3), seed=9)
    with tf.Graph().as_default():
        got = _run(tf.sparse.add(tf.constant(dense), tf.SparseTensor(INDICES, tf.constant(values), SHAPE)))
    np.testing.assert_allclose(got, dense + _dense(values))
    check_gradients(lambda v, d: tf.sparse.add(tf.SparseTensor(INDICES, v, SHAPE), d), [values, dense])
    with tf.Graph().as_default():
        with pytest.raises(TypeError, match="At least one input should be SparseTensor"):
            tf.sparse.add(tf.ones([2]), tf.ones([2]))
        bad = tf.sparse.add(tf.SparseTensor([[0, 0]], [1.0], [2, 3]), tf.ones([3, 3]))
        with pytest.raises(tf.errors.InvalidArgumentError, match="SparseTensorDenseAdd"):
            _run(bad)


# ----------------------------------------------------------------------------------------------------------
# Reorder, reshape, slice, split, concat
# ----------------------------------------------------------------------------------------------------------
def test_sparse_reorder_sorts_rows_and_its_gradient_undoes_the_permutation():
    indices = np.array([[2, 2], [0, 1], [1, 2], [1, 0]], np.int64)
    values = random_array((4,), seed=10)
    with tf.Graph().as_default():
        out = _run(tf.sparse.reorder(tf.SparseTensor(indices, values, SHAPE)))
    order = np.lexsort(indices.T[::-1])
    np.testing.assert_array_equal(out.indices, indices[order])
    np.testing.assert_array_equal(out.values, values[order])
    weights = np.arange(1.0, 5.0)
    check_gradients(lambda v: tf.sparse_reorder(tf.SparseTensor(indices, v, SHAPE)).values * weights, [values])


@pytest.mark.parametrize("new_shape", [[9], [1, 9], [3, -1], [-1, 1, 3]])
def test_sparse_reshape_matches_dense_reshape(new_shape):
    values = np.arange(1.0, 5.0)
    with tf.Graph().as_default():
        out = _run(tf.sparse.reshape(tf.SparseTensor(INDICES, values, SHAPE), new_shape))
    want = _dense(values).reshape(new_shape)
    np.testing.assert_array_equal(_dense_of(out.indices, out.values, out.dense_shape), want)
    np.testing.assert_array_equal(out.dense_shape, want.shape)



def test_sparse_reshape_of_a_known_shape_has_a_static_shape():
    with tf.Graph().as_default():
        sp = tf.SparseTensor(INDICES, [1.0, 2.0, 3.0, 4.0], SHAPE)
        assert tf.sparse.reshape(sp, [-1, 1, 3]).shape.as_list() == [3, 1, 3]
        assert tf.sparse.reshape(sp, [9]).shape.as_list() == [9]
        assert tf.sparse.reshape(sp, tf.placeholder(tf.int64, [2])).shape.as_list() == [None, None]

def test_sparse_reshape_errors_at_build_and_run_time():
    with tf.Graph().as_default():
        sp = tf.SparseTensor(INDICES, [1.0, 2.0, 3.0, 4.0], SHAPE)
        with pytest.raises(ValueError, match="requires a multiple of 4"):
            tf.sparse.reshape(sp, [4, -1])
        shape = tf.placeholder(tf.int64, [None])
        reshaped = tf.sparse.reshape(sp, shape)
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match="only one output dimension may be -1"):
                sess.run(reshaped, {shape: [-1, -1]})
            with pytest.raises(tf.errors.InvalidArgumentError, match="requested shape has 8"):
                sess.run(reshaped, {shape: [2, 4]})
            assert sess.run(reshaped, {shape: [9]}).dense_shape.tolist() == [9]


def test_sparse_slice_keeps_the_box_and_clips_its_shape():
    values = np.arange(1.0, 5.0)
    with tf.Graph().as_default():
        out = _run(tf.sparse.slice(tf.SparseTensor(INDICES, values, SHAPE), [1, 1], [5, 5]))
    np.testing.assert_array_equal(out.indices, [[0, 1], [1, 1]])
    np.testing.assert_array_equal(out.values, [3.0, 4.0])
    np.testing.assert_array_equal(out.dense_shape, [2, 2])
    check_gradients(lambda v: tf.sparse_slice(tf.SparseTensor(INDICES, v, SHAPE), [1, 0], [2, 2]).values,
                    [random_array((4,), seed=11)])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_sparse_split_pieces_rebuild_the_dense_split(axis):
    indices = np.array([[0, 0], [0, 4], [1, 2], [1, 3]], np.int64)
    values = np.array([1, 2, 3, 4], np.int32)
    with tf.Graph().as_default():
        pieces = _run(tf.sparse.split(sp_input=tf.SparseTensor(indices, values, [2, 5]), num_split=2, axis=axis))
    dense = _dense_of(indices, values, (2, 5))
    want = np.array_split(dense, 2, axis=axis)  # NumPy also makes the first pieces the longer ones
    for piece, ref in zip(pieces, want):
        np.testing.assert_array_equal(_dense_of(piece.indices, piece.values, piece.dense_shape), ref)


def test_sparse_split_errors():
    with tf.Graph().as_default():
        sp = tf.SparseTensor([[0, 0]], [1], [2, 2])
        with pytest.raises(ValueError, match="Keyword arguments are required"):
            tf.sparse_split(sp, 2, 1)
        with pytest.raises(tf.errors.InvalidArgumentError, match="num_split should be between 1 and"):
            _run(tf.sparse.split(sp_input=sp, num_split=3, axis=1))
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"Input axis should be in range \[-2, 2\), got 2"):
            _run(tf.sparse.split(sp_input=sp, num_split=1, axis=2))


@pytest.mark.parametrize("axis", [0, 1])
def test_sparse_concat_matches_dense_concat_in_row_major_order(axis):
    a_ind, b_ind = np.array([[0, 1], [1, 0]], np.int64), np.array([[0, 0], [1, 1]], np.int64)
    a_val, b_val = np.array([1.0, 2.0], np.float32), np.array([3.0, 4.0], np.float32)
    with tf.Graph().as_default():
        out = _run(tf.sparse.concat(axis, [tf.SparseTensor(a_ind, a_val, [2, 2]),
                                           tf.SparseTensor(b_ind, b_val, [2, 2])]))
    want = np.concatenate([_dense_of(a_ind, a_val, (2, 2)), _dense_of(b_ind, b_val, (2, 2))], axis=axis)
    np.testing.assert_array_equal(_dense_of(out.indices, out.values, out.dense_shape), want)
    assert out.indices.tolist() == sorted(out.indices.tolist())


def test_sparse_concat_expand_nonconcat_dim_and_mismatch_error():
    with tf.Graph().as_default():
        a = tf.SparseTensor([[0, 1]], [1.0], [2, 2])
        b = tf.SparseTensor([[2, 0]], [2.0], [3, 1])
        out = _run(tf.sparse_concat(1, [a, b], expand_nonconcat_dim=True))
        np.testing.assert_array_equal(out.dense_shape, [3, 3])
        np.testing.assert_array_equal(out.indices, [[0, 1], [2, 2]])
        with pytest.raises(tf.errors.InvalidArgumentError, match="Input shapes must match"):
            _run(tf.sparse.concat(1, [a, b]))


# ----------------------------------------------------------------------------------------------------------
# Softmax, maximum/minimum, fill_empty_rows
# ----------------------------------------------------------------------------------------------------------
def test_sparse_softmax_over_present_entries_of_each_row_and_gradient():
    values = random_array((4,), seed=12)
    with tf.Graph().as_default():
        out = _run(tf.sparse.softmax(tf.SparseTensor(INDICES, values, SHAPE)))
    want = np.empty(4)
    for row in range(3):
        mine = INDICES[:, 0] == row
        e = np.exp(values[mine] - values[mine].max())
        want[mine] = e / e.sum()
    np.testing.assert_allclose(out.values, want)
    weights = np.array([1.0, -2.0, 3.0, 0.5])
    check_gradients(lambda v: tf.sparse_softmax(tf.SparseTensor(INDICES, v, SHAPE)).values * weights, [values])


def test_sparse_softmax_needs_rank_2():
    with tf.Graph().as_default():
        with pytest.raises(tf.errors.InvalidArgumentError, match="rank >= 2"):
            _run(tf.sparse.softmax(tf.SparseTensor([[0]], [1.0], [3])).values)


@pytest.mark.parametrize("fn,ref", [(tf.sparse.maximum, np.maximum), (tf.sparse_minimum, np.minimum)])
def test_sparse_maximum_and_minimum_over_the_union_with_implicit_zeros(fn, ref):
    a_vals, b_vals = np.array([-1.0, 2.0, -3.0, 4.0]), np.array([-5.0, 6.0, -7.0])
    with tf.Graph().as_default():
        out = _run(fn(tf.SparseTensor(INDICES, a_vals, SHAPE), tf.SparseTensor(B_INDICES, b_vals, SHAPE)))
        with pytest.raises(NotImplementedError):
            v = tf.constant(a_vals)
            tf.gradients(fn(tf.SparseTensor(INDICES, v, SHAPE), tf.SparseTensor(B_INDICES, b_vals, SHAPE)).values,
                         v)
    want = ref(_dense_of(INDICES, a_vals, (3, 3)), _dense_of(B_INDICES, b_vals, (3, 3)))
    np.testing.assert_array_equal(_dense_of(out.indices, out.values, out.dense_shape), want)
    assert len(out.values) == 6 and out.indices.tolist() == sorted(out.indices.tolist())


def test_sparse_fill_empty_rows_adds_defaults_and_reports_empty_rows():
    indices = np.array([[1, 0], [1, 2], [3, 1]], np.int64)
    with tf.Graph().as_default():
        sp, empty = tf.sparse.fill_empty_rows(tf.SparseTensor(indices, [1.0, 2.0, 3.0], [5, 4]), -1.0)
        out, empty = _run([sp, empty])
    np.testing.assert_array_equal(out.indices, [[0, 0], [1, 0], [1, 2], [2, 0], [3, 1], [4, 0]])
    np.testing.assert_array_equal(out.values, [-1.0, 1.0, 2.0, -1.0, 3.0, -1.0])
    np.testing.assert_array_equal(empty, [True, False, True, False, True])


def test_sparse_fill_empty_rows_gradients_for_values_and_default():
    values = random_array((3,), seed=13)
    indices = np.array([[1, 0], [1, 2], [3, 1]], np.int64)

    def filled(v, d):
        sp, _ = tf.sparse_fill_empty_rows(tf.SparseTensor(indices, v, [5, 4]), d)
        return sp.values * np.arange(1.0, 7.0)

    check_gradients(filled, [values, np.float64(0.5)])


def test_sparse_fill_empty_rows_refuses_rows_out_of_range():
    with tf.Graph().as_default():
        sp, _ = tf.sparse.fill_empty_rows(tf.SparseTensor([[7, 0]], [1.0], [5, 4]), 0.0)
        with pytest.raises(tf.errors.InvalidArgumentError, match="SparseFillEmptyRows"):
            _run(sp.values)


# ----------------------------------------------------------------------------------------------------------
# Reductions with dense and sparse results
# ----------------------------------------------------------------------------------------------------------
MAX_INDICES = np.array([[0, 0], [0, 2], [1, 1]], np.int64)
MAX_VALUES = np.array([-1.0, -2.0, 5.0], np.float32)


@pytest.mark.parametrize("axis,keepdims,want", [
    (None, False, 5.0), (1, False, [-1.0, 5.0, 0.0]), (0, True, [[-1.0, 5.0, -2.0]]), ([0, 1], False, 5.0)])
def test_sparse_reduce_max_takes_present_values_only(axis, keepdims, want):
    with tf.Graph().as_default():
        got = _run(tf.sparse.reduce_max(tf.SparseTensor(MAX_INDICES, MAX_VALUES, SHAPE), axis=axis,
                                        keepdims=keepdims))
    np.testing.assert_array_equal(got, np.asarray(want, np.float32))


def test_sparse_reduce_max_sparse_and_sum_sparse_hold_reached_outputs_only():
    with tf.Graph().as_default():
        sp = tf.SparseTensor(MAX_INDICES, MAX_VALUES, SHAPE)
        mx, total = _run([tf.sparse.reduce_max_sparse(sp, axis=1), tf.sparse_reduce_sum_sparse(sp, axis=0,
                                                                                               keepdims=True)])
    np.testing.assert_array_equal(mx.indices, [[0], [1]])
    np.testing.assert_array_equal(mx.values, [-1.0, 5.0])
    np.testing.assert_array_equal(mx.dense_shape, [3])
    np.testing.assert_array_equal(total.indices, [[0, 0], [0, 1], [0, 2]])
    np.testing.assert_array_equal(total.values, [-1.0, 5.0, -2.0])
    np.testing.assert_array_equal(total.dense_shape, [1, 3])


def test_sparse_reduce_max_refuses_a_bad_axis():
    with tf.Graph().as_default():
        axis = tf.placeholder(tf.int32)
        out = tf.sparse.reduce_max(tf.SparseTensor(MAX_INDICES, MAX_VALUES, SHAPE), axis=axis)
        with pytest.raises(tf.errors.InvalidArgumentError, match="Invalid reduction dimension 2"):
            _run(out, {axis: 2})


# ----------------------------------------------------------------------------------------------------------
# Sparse-dense element-wise ops
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dense_shape", [(3, 3), (3,), (1, 3), (3, 1), ()])
@pytest.mark.parametrize("op_type,ref", [("Mul", np.multiply), ("Div", np.divide), ("Add", np.add)])
def test_sparse_dense_cwise_ops_read_the_broadcast_dense_operand(dense_shape, op_type, ref):
    values, dense = random_array((4,), seed=14), random_array(dense_shape, low=1.0, high=3.0, seed=15)
    fn = getattr(sparse_ops, f"sparse_dense_cwise_{op_type.lower()}")
    with tf.Graph().as_default():
        out = _run(fn(tf.SparseTensor(INDICES, values, SHAPE), dense))
    full = np.broadcast_to(dense, (3, 3))
    np.testing.assert_allclose(out.values, ref(values, full[tuple(INDICES.T)]))
    if op_type != "Add":
        check_gradients(lambda v, d: fn(tf.SparseTensor(INDICES, v, SHAPE), d).values, [values, dense])



def test_sparse_dense_cwise_values_have_one_static_entry_per_index_row():
    with tf.Graph().as_default():
        sp = tf.SparseTensor(INDICES, [1.0] * 4, SHAPE)
        assert (sp * tf.ones([3, 3])).values.shape.as_list() == [4]
        assert sparse_ops.sparse_dense_cwise_add(sp, tf.ones([3])).values.shape.as_list() == [4]
        unknown = tf.SparseTensor(tf.placeholder(tf.int64, [None, 2]), tf.placeholder(tf.float32), SHAPE)
        assert (unknown / 2.0).values.shape.as_list() == [None]

def test_sparse_dense_cwise_refuses_broadcasting_the_sparse_operand():
    with tf.Graph().as_default():
        with pytest.raises(tf.errors.InvalidArgumentError, match="broadcasts dense to sparse only"):
            _run(sparse_ops.sparse_dense_cwise_mul(tf.SparseTensor(INDICES, [1.0] * 4, SHAPE), tf.ones([2])))


# ----------------------------------------------------------------------------------------------------------
# Sparse segment reductions
# ----------------------------------------------------------------------------------------------------------
DATA = np.arange(1.0, 13.0).reshape(4, 3)
SEG_INDICES = np.array([0, 2, 2, 3], np.int32)
SEG_IDS = np.array([0, 0, 2, 2], np.int32)


def _segment_ref(kind, n):
    out = np.zeros((n, 3))
    counts = np.bincount(SEG_IDS, minlength=n)
    for i, s in zip(SEG_INDICES, SEG_IDS):
        out[s] += DATA[i]
    scale = {"sum": np.ones(n), "mean": np.maximum(counts, 1), "sqrt_n": np.sqrt(np.maximum(counts, 1))}[kind]
    return out / scale[:, None]


@pytest.mark.parametrize("kind", ["sum", "mean", "sqrt_n"])
@pytest.mark.parametrize("num_segments", [None, 5])
def test_sparse_segment_reductions_match_numpy_and_differentiate(kind, num_segments):
    fn = getattr(tf.sparse, f"segment_{kind}")
    assert fn is getattr(tf, f"sparse_segment_{kind}")
    with tf.Graph().as_default():
        got = _run(fn(DATA, SEG_INDICES, SEG_IDS, num_segments=num_segments))
    np.testing.assert_allclose(got, _segment_ref(kind, num_segments or 3))
    check_gradients(lambda d: fn(d, SEG_INDICES, SEG_IDS, num_segments=num_segments), [DATA])


def test_sparse_segment_sum_of_integers_keeps_the_dtype():
    with tf.Graph().as_default():
        got = _run(tf.sparse.segment_sum(DATA.astype(np.int64), SEG_INDICES, SEG_IDS))
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, _segment_ref("sum", 3).astype(np.int64))


@pytest.mark.parametrize("indices,ids,num_segments,match", [
    ([0, 5], [0, 0], None, r"indices\[1\] == 5 out of range \[0, 4\)"),
    ([0, 1], [1, 0], None, "segment ids are not increasing"),
    ([0, 1], [0], None, "should have same size"),
    ([0, 1], [0, 3], 2, "num_segments"),
])
def test_sparse_segment_errors(indices, ids, num_segments, match):
    with tf.Graph().as_default():
        with pytest.raises(tf.errors.InvalidArgumentError, match=match):
            _run(tf.sparse.segment_mean(DATA, indices, ids, num_segments=num_segments))


# ----------------------------------------------------------------------------------------------------------
# SparseMatMul (tf.sparse_matmul)
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("transpose_a", [False, True])
@pytest.mark.parametrize("transpose_b", [False, True])
def test_sparse_matmul_is_the_dense_product_with_matmul_gradients(transpose_a, transpose_b):
    a = random_array((3, 2) if transpose_a else (2, 3), np.float32, seed=16)
    b = random_array((4, 3) if transpose_b else (3, 4), np.float32, seed=17)
    with tf.Graph().as_default():
        at, bt = tf.constant(a), tf.constant(b)
        product = tf.sparse_matmul(at, bt, transpose_a=transpose_a, transpose_b=transpose_b, a_is_sparse=True)
        reference = tf.matmul(at, bt, transpose_a=transpose_a, transpose_b=transpose_b)
        weights = tf.constant(random_array((2, 4), np.float32, seed=18))
        grads = tf.gradients(tf.reduce_sum(product * weights), [at, bt])
        ref_grads = tf.gradients(tf.reduce_sum(reference * weights), [at, bt])
        got, want, g, rg = _run([product, reference, grads, ref_grads])
    assert product.dtype == tf.float32 and product.shape.as_list() == [2, 4]
    np.testing.assert_allclose(got, want, rtol=1e-6)
    for x, y in zip(g, rg):
        np.testing.assert_allclose(x, y, rtol=1e-6)


def test_sparse_matmul_refuses_float64_and_mismatched_sizes():
    with tf.Graph().as_default():
        with pytest.raises(TypeError):
            tf.sparse_matmul(tf.ones([2, 2], tf.float64), tf.ones([2, 2], tf.float64))
        a = tf.placeholder(tf.float32)
        with pytest.raises(tf.errors.InvalidArgumentError, match="SparseMatMul"):
            _run(tf.sparse_matmul(a, tf.ones([3, 2])), {a: np.ones((2, 2), np.float32)})


def test_sparse_dense_cwise_div_of_integers_rounds_toward_zero_as_tf():
    with tf.Graph().as_default():
        out = _run(sparse_ops.sparse_dense_cwise_div(tf.SparseTensor([[0], [1], [2]], [-7, 7, -6], [3]), [2, 2, 3]))
        np.testing.assert_array_equal(out.values, [-3, 3, -2])  # TensorFlow gives -3 and 3 for -7/2 and 7/2
        with pytest.raises(tf.errors.InvalidArgumentError, match="division by zero"):
            _run(sparse_ops.sparse_dense_cwise_div(tf.SparseTensor([[0]], [1], [1]), [0]))


def test_sparse_dense_matmul_errors_at_build_and_run_time():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="Dimensions must be equal, but are 2 and 3"):
            tf.sparse.matmul(tf.SparseTensor([[0, 1]], [1.0], [2, 2]), tf.ones([3, 2]))
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"k \(5\) from index\[0,1\] out of bounds \(>=2\)"):
            _run(tf.sparse.matmul(tf.SparseTensor([[0, 5]], [1.0], [2, 2]), tf.ones([2, 2])))


@pytest.mark.parametrize("reduce", [tf.sparse.reduce_max, lambda sp: tf.sparse.reduce_sum_sparse(sp, 0).values])
def test_sparse_reductions_without_tf_gradients_raise_lookup_error(reduce):
    with tf.Graph().as_default():
        values = tf.constant([1.0, 2.0, 3.0, 4.0])
        with pytest.raises(LookupError, match="No gradient defined"):
            tf.gradients(reduce(tf.SparseTensor(INDICES, values, SHAPE)), values)
