"""Array ops against NumPy references (values, dtypes, static shapes incl. partly unknown ones), their
graph-construction ValueErrors and run-time InvalidArgumentErrors, and finite-difference gradient checks."""

from __future__ import annotations

import numpy as np
import pytest
from gradient_checker import check_against_numpy, check_gradients, random_array

import tfmini as tf

ALL_DTYPES = (np.float32, np.float64, np.int32, np.int64, np.bool_)
_X = random_array((2, 3, 4), seed=1)


def _strings(shape):
    return np.array([f"s{i}".encode() for i in range(int(np.prod(shape)))], dtype=object).reshape(shape)


def _run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


@pytest.fixture(autouse=True)
def _fresh_graph():
    with tf.Graph().as_default():
        yield


# ----------------------------------------------------------------------------------------------------------
# zeros, ones, fill, zeros_like, ones_like, range
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [tf.float32, tf.float64, tf.int32, tf.int64, tf.bool, tf.string])
def test_zeros_and_ones_have_the_requested_dtype(dtype):
    z, big = tf.zeros([2, 3], dtype), tf.zeros([40, 30], dtype)  # a Const, and a Fill (>= 1000 elements)
    assert z.op.type == "Const" and big.op.type == "Fill" and big.shape.as_list() == [40, 30]
    zv, bigv = _run([z, big])
    want = np.zeros((2, 3), dtype.as_numpy_dtype) if dtype != tf.string else np.full((2, 3), b"", object)
    assert zv.dtype == want.dtype and bigv.dtype == want.dtype
    np.testing.assert_array_equal(zv, want)
    assert bigv.shape == (40, 30)
    if dtype != tf.string:
        ov = _run(tf.ones([2, 3], dtype))
        assert ov.dtype == dtype.as_numpy_dtype
        np.testing.assert_array_equal(ov, np.ones((2, 3), dtype.as_numpy_dtype))


def test_zeros_with_tensor_and_partly_tensor_shapes():
    x = tf.placeholder(tf.float32, [None, 3])
    n = tf.placeholder(tf.int32, [])
    z1 = tf.zeros(tf.shape(x))
    z2 = tf.ones([n, 2], tf.int64)
    z3 = tf.zeros(tf.shape(x, out_type=tf.int64), tf.int32)
    assert z1.shape.as_list() == [None, 3]
    assert z2.shape.as_list() == [None, 2]
    a, b, c = _run([z1, z2, z3], {x: np.ones((4, 3)), n: 5})
    assert a.shape == (4, 3) and a.dtype == np.float32
    assert b.shape == (5, 2) and b.dtype == np.int64 and np.all(b == 1)
    assert c.shape == (4, 3) and c.dtype == np.int32
    assert _run(tf.zeros(3)).shape == (3,)
    assert _run(tf.zeros(tf.TensorShape([2, 1]))).shape == (2, 1)


@pytest.mark.parametrize("dtype", ALL_DTYPES + (object,))
def test_fill_produces_exactly_the_value_dtype(dtype):
    value = np.array(b"ab", dtype=object) if dtype is object else np.asarray(1).astype(dtype)
    v = tf.placeholder(tf.as_dtype(np.asarray(value).dtype), [])
    dims = tf.placeholder(tf.int64, [2])
    out = _run(tf.fill(dims, v), {v: value, dims: [2, 3]})
    assert out.dtype == np.asarray(value).dtype and out.shape == (2, 3)
    assert np.all(out == value)
    assert tf.fill([2, 3], 7.0).shape.as_list() == [2, 3]


def test_fill_errors():
    with pytest.raises(ValueError, match="rank 0"):
        tf.fill([2], [1, 2])
    with pytest.raises(ValueError, match=">= 0"):
        tf.fill([-1, 2], 1)
    dims = tf.placeholder(tf.int32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="dims must be a vector"):
        _run(tf.fill(dims, 1.0), {dims: [[1, 2]]})


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_zeros_like_and_ones_like(dtype):
    x = tf.placeholder(tf.as_dtype(dtype), [None, 2])
    value = random_array((3, 2), dtype)
    outs = [tf.zeros_like(x), tf.ones_like(x), tf.zeros_like(x, dtype=tf.float64), tf.ones_like(x, dtype=tf.int32)]
    assert [o.shape.as_list() for o in outs] == [[None, 2]] * 4
    z, o, zf, oi = _run(outs, {x: value})
    np.testing.assert_array_equal(z, np.zeros_like(value))
    np.testing.assert_array_equal(o, np.ones_like(value))
    assert z.dtype == value.dtype and o.dtype == value.dtype and zf.dtype == np.float64 and oi.dtype == np.int32
    known = tf.constant(value)
    assert tf.zeros_like(known).op.type == "Const"  # static shape: a constant, as in TF
    np.testing.assert_array_equal(_run(tf.zeros_like(known)), np.zeros_like(value))


def test_zeros_like_of_strings_gives_empty_strings():
    s = tf.placeholder(tf.string, [None])
    np.testing.assert_array_equal(_run(tf.zeros_like(s), {s: _strings((2,))}), np.array([b"", b""], dtype=object))


@pytest.mark.parametrize(
    "args, kwargs",
    [((5,), {}), ((2, 9, 3), {}), ((10, 2, -3), {}), ((1.5, 3.0, 0.25), {}), ((0, 1.0, 0.1), {}),
     ((3,), {"dtype": tf.int64}), ((0.0, -1.0, -0.3), {"dtype": tf.float64}), ((4, 4), {})],
)
def test_range_matches_numpy(args, kwargs):
    r = tf.range(*args, **kwargs)
    got = _run(r)
    dtype = kwargs.get("dtype", tf.float32 if any(isinstance(a, float) for a in args) else tf.int32)
    want = np.arange(*args, dtype=np.float64).astype(dtype.as_numpy_dtype)
    assert got.dtype == dtype.as_numpy_dtype and r.shape.as_list() == [len(want)]
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_range_with_tensor_limit_widest_dtype_and_errors():
    n = tf.placeholder(tf.int64, [])
    r = tf.range(n)
    assert r.dtype == tf.int64 and r.shape.as_list() == [None]
    np.testing.assert_array_equal(_run(r, {n: 4}), np.arange(4))
    assert tf.range(tf.constant(1), 5.0).dtype == tf.float32
    with pytest.raises(ValueError, match="delta != 0"):
        tf.range(0, 4, 0)
    with pytest.raises(ValueError, match="start <= limit"):
        tf.range(5, 1)
    with pytest.raises(tf.errors.InvalidArgumentError, match="start >= limit when delta < 0"):
        _run(tf.range(0, n, -1), {n: 3})


# ----------------------------------------------------------------------------------------------------------
# shape, shape_n, size, rank, identity, identity_n, stop_gradient, placeholder_with_default
# ----------------------------------------------------------------------------------------------------------
def test_shape_size_rank_static_and_dynamic():
    known = tf.constant(_X)
    assert tf.shape(known).op.type == "Const" and tf.size(known).op.type == "Const"
    assert tf.rank(known).op.type == "Const"
    p = tf.placeholder(tf.float32, [None, 3, 4])
    u = tf.placeholder(tf.float32)
    s, s64, n, r, ru = tf.shape(p), tf.shape(p, out_type=tf.int64), tf.size(p), tf.rank(p), tf.rank(u)
    assert s.op.type == "Shape" and s.shape.as_list() == [3] and s64.dtype == tf.int64
    assert r.op.type == "Const"  # the rank is known statically
    assert tf.shape(u).shape.as_list() == [None] and ru.op.type == "Rank"
    assert tf.size(tf.placeholder(tf.float32, [None, 0])).op.type == "Const"
    vals = _run([s, s64, n, r, ru, tf.size(u)], {p: np.zeros((5, 3, 4)), u: np.zeros((2, 7))})
    assert [v.tolist() for v in vals] == [[5, 3, 4], [5, 3, 4], 60, 3, 2, 14]
    assert [v.dtype for v in vals] == [np.int32, np.int64, np.int32, np.int32, np.int32, np.int32]
    sn = tf.shape_n([p, u], out_type=tf.int64)
    assert [t.shape.as_list() for t in sn] == [[3], [None]]
    a, b = _run(sn, {p: np.zeros((1, 3, 4)), u: np.zeros(2)})
    assert a.tolist() == [1, 3, 4] and b.tolist() == [2] and a.dtype == np.int64


def test_partly_known_shape_tensors_flow_into_static_shapes():
    p = tf.placeholder(tf.float32, [None, 3, 4])
    s = tf.shape(p)
    assert tf.reshape(p, tf.stack([s[0], 12])).shape.as_list() == [None, 12]
    assert tf.reshape(p, tf.concat([s[:1], [-1]], 0)).shape.as_list() == [None, None]  # two unknowns, as in TF
    assert tf.reshape(p, tf.concat([[-1], s[1:2]], 0)).shape.as_list() == [None, 3]
    assert tf.reshape(p, s[1:]).shape.as_list() == [3, 4]
    assert tf.zeros(tf.slice(s, [1], [2])).shape.as_list() == [3, 4]
    assert tf.fill(tf.gather(s, [2, 1]), 0.0).shape.as_list() == [4, 3]
    assert tf.zeros([s[0], 2]).shape.as_list() == [None, 2]
    assert tf.broadcast_to(1.0, s).shape.as_list() == [None, 3, 4]


@pytest.mark.parametrize("dtype", ALL_DTYPES + (object,))
def test_identity_and_stop_gradient(dtype):
    value = _strings((2, 3)) if dtype is object else random_array((2, 3), dtype)
    check_against_numpy(tf.identity, lambda x: x, value)
    check_against_numpy(tf.stop_gradient, lambda x: x, value)
    check_against_numpy(lambda a, b: tf.identity_n([a, b])[1], lambda a, b: b, value, value[:1])


def test_placeholder_with_default():
    x = tf.placeholder_with_default(tf.constant([1.0, 2.0]), [None])
    assert x.shape.as_list() == [None]
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(x), [1.0, 2.0])
        np.testing.assert_array_equal(sess.run(x, {x: [3.0, 4.0, 5.0]}), [3.0, 4.0, 5.0])
    with pytest.raises(ValueError):
        tf.placeholder_with_default(tf.constant([1.0, 2.0]), [3])


def test_list_with_tensors_converts_by_packing():
    n = tf.placeholder(tf.int32, [])
    packed = tf.convert_to_tensor([[n, 2], [3, n]])
    assert packed.op.type == "Pack" and packed.shape.as_list() == [2, 2]
    np.testing.assert_array_equal(_run(packed, {n: 7}), [[7, 2], [3, 7]])
    as64 = tf.convert_to_tensor([n, 1], dtype=tf.int64)
    assert as64.dtype == tf.int64
    np.testing.assert_array_equal(_run(as64, {n: 4}), [4, 1])


# ----------------------------------------------------------------------------------------------------------
# reshape, expand_dims, squeeze, transpose, invert_permutation, broadcast_to
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ALL_DTYPES + (object,))
def test_reshape_dtypes(dtype):
    value = _strings((2, 3, 4)) if dtype is object else _X.astype(dtype)
    check_against_numpy(lambda x: tf.reshape(x, [4, -1]), lambda x: x.reshape(4, -1), value)
    check_against_numpy(lambda x: tf.reshape(x, [-1]), lambda x: x.reshape(-1), value)


def test_reshape_static_shapes_and_errors():
    p = tf.placeholder(tf.float32, [None, 6])
    assert tf.reshape(p, [-1, 2, 3]).shape.as_list() == [None, 2, 3]
    assert tf.reshape(tf.placeholder(tf.float32, [4, 6]), [3, -1]).shape.as_list() == [3, 8]
    assert tf.reshape(p, tf.placeholder(tf.int32, [2])).shape.as_list() == [None, None]
    assert tf.reshape(p, tf.placeholder(tf.int32)).shape.ndims is None
    n = tf.placeholder(tf.int32, [])
    assert tf.reshape(tf.zeros([4, 6]), tf.stack([n, 3])).shape.as_list() == [8, 3]  # the one unknown is inferred
    with pytest.raises(ValueError, match="evenly divisible by 4 but is 6"):
        tf.reshape(tf.zeros([2, 3]), [-1, 4])
    with pytest.raises(ValueError, match="Cannot reshape a tensor with 6 elements"):
        tf.reshape(tf.zeros([2, 3]), [4])
    with pytest.raises(ValueError, match="Only one input size may be -1"):
        tf.reshape(p, [-1, -1])
    shape = tf.placeholder(tf.int32, [2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Input to reshape is a tensor with 12 values, but the "
                                                             "requested shape has 10"):
        _run(tf.reshape(p, shape), {p: np.zeros((2, 6)), shape: [2, 5]})
    with pytest.raises(tf.errors.InvalidArgumentError, match="requested shape requires a multiple of 5"):
        _run(tf.reshape(p, shape), {p: np.zeros((2, 6)), shape: [-1, 5]})
    with pytest.raises(tf.errors.InvalidArgumentError, match="Only one input size may be -1, not both 0 and 1"):
        _run(tf.reshape(p, shape), {p: np.zeros((2, 6)), shape: [-1, -1]})


def test_expand_dims_and_squeeze():
    for axis in (0, 1, 3, -1, -4):
        check_against_numpy(lambda x, a=axis: tf.expand_dims(x, a), lambda x, a=axis: np.expand_dims(x, a), _X)
    y = np.zeros((1, 2, 1, 3, 1), np.int64)
    check_against_numpy(tf.squeeze, np.squeeze, y)
    check_against_numpy(lambda x: tf.squeeze(x, [0, -1]), lambda x: np.squeeze(x, (0, 4)), y)
    check_against_numpy(lambda x: tf.squeeze(x, axis=2), lambda x: np.squeeze(x, 2), y)
    p = tf.placeholder(tf.float32, [None, 1, 3])
    assert tf.expand_dims(p, -1).shape.as_list() == [None, 1, 3, 1]
    assert tf.expand_dims(p, tf.placeholder(tf.int32, [])).shape.as_list() == [None] * 4
    assert tf.squeeze(p, [1]).shape.as_list() == [None, 3]
    assert tf.squeeze(p, [0]).shape.as_list() == [1, 3]  # an unknown dim squeezed by name is assumed 1
    assert tf.squeeze(p).shape.ndims is None  # unknown dims might be 1
    with pytest.raises(ValueError, match="Can not squeeze dim\\[2\\], expected a dimension of 1, got 3"):
        tf.squeeze(p, [2])
    with pytest.raises(ValueError, match="Tried to expand dim index 4 for tensor with 3 dimensions"):
        tf.expand_dims(p, 4)
    with pytest.raises(ValueError, match="Cannot specify both 'axis' and 'dim'"):
        tf.expand_dims(p, 0, dim=0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Can not squeeze dim\\[0\\], expected a dimension of 1"):
        _run(tf.squeeze(p, [0]), {p: np.zeros((2, 1, 3))})


@pytest.mark.parametrize("dtype", ALL_DTYPES + (object,))
def test_transpose(dtype):
    value = _strings((2, 3, 4)) if dtype is object else _X.astype(dtype)
    check_against_numpy(tf.transpose, np.transpose, value)
    check_against_numpy(lambda x: tf.transpose(x, [1, 2, 0]), lambda x: np.transpose(x, (1, 2, 0)), value)


def test_transpose_static_shapes_conjugate_and_errors():
    p = tf.placeholder(tf.float32, [None, 3, 5])
    assert tf.transpose(p).shape.as_list() == [5, 3, None]
    assert tf.transpose(p, [2, 0, 1]).shape.as_list() == [5, None, 3]
    assert tf.transpose(p, tf.placeholder(tf.int32, [3])).shape.as_list() == [None] * 3
    u = tf.placeholder(tf.float32)
    np.testing.assert_array_equal(_run(tf.transpose(u), {u: _X}), _X.T.astype(np.float32))
    c = np.array([[1 + 2j, 3 - 1j]], np.complex128)
    np.testing.assert_array_equal(_run(tf.transpose(c, conjugate=True)), np.conj(c.T))
    with pytest.raises(ValueError, match="Dimension must be 3 but is 2"):
        tf.transpose(p, [1, 0])
    with pytest.raises(ValueError, match="perm dim 3 is out of range of input rank 3"):
        tf.transpose(p, [0, 1, 3])
    perm = tf.placeholder(tf.int32, [None])
    with pytest.raises(tf.errors.InvalidArgumentError, match="1 is missing from \\{0,0\\}"):
        _run(tf.transpose(u, perm), {u: np.zeros((2, 2)), perm: [0, 0]})


def test_invert_permutation():
    check_against_numpy(tf.invert_permutation, np.argsort, np.array([2, 0, 3, 1], np.int32),
                        dtypes=[np.int32, np.int64], expected_dtype=lambda d: d)
    x = tf.placeholder(tf.int32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="1 is duplicated in the input"):
        _run(tf.invert_permutation(x), {x: [1, 1]})


def test_broadcast_to():
    check_against_numpy(lambda x: tf.broadcast_to(x, [2, 3, 4]), lambda x: np.broadcast_to(x, (2, 3, 4)),
                        random_array((3, 1)), dtypes=ALL_DTYPES)
    p = tf.placeholder(tf.float32, [None, 1])
    assert tf.broadcast_to(p, [5, 2, 3]).shape.as_list() == [5, 2, 3]
    with pytest.raises(ValueError, match="Incompatible shapes"):
        tf.broadcast_to(tf.zeros([2, 3]), [4, 3])
    shape = tf.placeholder(tf.int32, [None])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Incompatible shapes"):
        _run(tf.broadcast_to(p, shape), {p: np.zeros((2, 1)), shape: [3, 4]})
    assert tf.broadcast_static_shape(tf.TensorShape([2, 1]), tf.TensorShape([3])).as_list() == [2, 3]
    np.testing.assert_array_equal(_run(tf.broadcast_dynamic_shape([2, 1], [1, 4])), [2, 4])


# ----------------------------------------------------------------------------------------------------------
# concat, stack, unstack, split
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ALL_DTYPES + (object,))
@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
def test_concat(dtype, axis):
    a = _strings((2, 3, 4)) if dtype is object else _X.astype(dtype)
    check_against_numpy(lambda x, y: tf.concat([x, y, x], axis), lambda x, y: np.concatenate([x, y, x], axis), a, a)


def test_concat_static_shapes_and_errors():
    p = tf.placeholder(tf.float32, [None, 3])
    q = tf.placeholder(tf.float32, [2, None])
    assert tf.concat([p, q], 0).shape.as_list() == [None, 3]
    assert tf.concat([p, q], 1).shape.as_list() == [2, None]
    assert tf.concat([p, tf.zeros([2, 3])], -1).shape.as_list() == [2, 6]
    assert tf.concat([p, q], tf.placeholder(tf.int32, [])).shape.as_list() == [None, None]
    assert tf.concat([p], 0) is not p and tf.concat([p], 0).op.type == "Identity"
    with pytest.raises(ValueError, match="Dimension 1 in both shapes must be equal, but are 3 and 4"):
        tf.concat([p, tf.zeros([1, 4])], 0)
    with pytest.raises(ValueError, match="Expected concatenating dimensions in the range \\[-2, 2\\), but got 2"):
        tf.concat([p, q], 2)
    with pytest.raises(ValueError, match="Shape must be rank 2 but is rank 1"):
        tf.concat([p, tf.zeros([3])], 0)
    u, v = tf.placeholder(tf.float32), tf.placeholder(tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="ConcatOp : Dimensions of inputs should match: "
                                                             "shape\\[0\\] = \\[2,3\\] vs. shape\\[1\\] = \\[2,4\\]"):
        _run(tf.concat([u, v], 0), {u: np.zeros((2, 3)), v: np.zeros((2, 4))})


@pytest.mark.parametrize("dtype", ALL_DTYPES + (object,))
def test_stack_and_unstack(dtype):
    a = _strings((2, 3)) if dtype is object else _X[0].astype(dtype)
    for axis in (0, 1, 2, -1, -3):
        check_against_numpy(lambda x, y, ax=axis: tf.stack([x, y], ax), lambda x, y, ax=axis: np.stack([x, y], ax),
                            a, a)
    for axis in (0, 1, -1):
        check_against_numpy(lambda x, ax=axis: tf.unstack(x, num=a.shape[ax], axis=ax)[-1],
                            lambda x, ax=axis: np.moveaxis(x, ax, 0)[-1], a)


def test_stack_unstack_static_shapes_and_errors():
    p = tf.placeholder(tf.float32, [None, 3])
    assert tf.stack([p, p], axis=1).shape.as_list() == [None, 2, 3]
    assert tf.stack([1, 2, 3]).op.type == "Const"
    parts = tf.unstack(tf.placeholder(tf.float32, [2, None, 4]), axis=-1)
    assert len(parts) == 4 and parts[0].shape.as_list() == [2, None]
    with pytest.raises(ValueError, match="axis = 3 not in \\[-3, 3\\)"):
        tf.stack([p, p], axis=3)
    with pytest.raises(ValueError, match="Cannot infer num from shape"):
        tf.unstack(p)
    with pytest.raises(ValueError, match="Shapes must be equal rank"):
        tf.stack([p, tf.zeros([3])], axis=1)
    u = tf.placeholder(tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Shapes of all inputs must match"):
        v = tf.placeholder(tf.float32)
        _run(tf.stack([u, v], 0), {u: [1.0, 2.0], v: [1.0, 2.0, 3.0]})
    with pytest.raises(tf.errors.InvalidArgumentError, match="Input shape axis 0 must equal 3, got shape \\[2\\]"):
        _run(tf.unstack(u, num=3), {u: [1.0, 2.0]})


@pytest.mark.parametrize("dtype", ALL_DTYPES + (object,))
def test_split(dtype):
    a = _strings((2, 6, 4)) if dtype is object else random_array((2, 6, 4), dtype)
    check_against_numpy(lambda x: tf.split(x, 3, axis=1)[1], lambda x: np.split(x, 3, axis=1)[1], a)
    check_against_numpy(lambda x: tf.split(x, [1, -1, 2], axis=-2)[1], lambda x: x[:, 1:4], a)
    check_against_numpy(lambda x: tf.split(x, [1, 3], 2)[1], lambda x: x[:, :, 1:], a)


def test_split_static_shapes_and_errors():
    p = tf.placeholder(tf.float32, [None, 6])
    assert [t.shape.as_list() for t in tf.split(p, 2, 1)] == [[None, 3]] * 2
    assert [t.shape.as_list() for t in tf.split(p, [1, -1], 1)] == [[None, 1], [None, 5]]
    assert [t.shape.as_list() for t in tf.split(p, tf.placeholder(tf.int32, [2]), 0)] == [[None, 6]] * 2
    with pytest.raises(ValueError, match="evenly divisible by 4 but is 6"):
        tf.split(p, 4, 1)
    with pytest.raises(ValueError, match="Determined shape must either match input shape"):
        tf.split(p, [2, 2], 1)
    with pytest.raises(ValueError, match="Cannot infer num"):
        tf.split(p, tf.placeholder(tf.int32, [None]), 1)
    u = tf.placeholder(tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Number of ways to split should evenly divide the split "
                                                             "dimension, but got split_dim 0 \\(size = 5\\)"):
        _run(tf.split(u, 2), {u: np.zeros(5)})


# ----------------------------------------------------------------------------------------------------------
# tile, pad, reverse
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ALL_DTYPES + (object,))
def test_tile(dtype):
    a = _strings((2, 3)) if dtype is object else random_array((2, 3), dtype)
    check_against_numpy(lambda x: tf.tile(x, [2, 3]), lambda x: np.tile(x, (2, 3)), a)
    check_against_numpy(lambda x: tf.tile(x, [1, 0]), lambda x: np.tile(x, (1, 0)), a)


def test_tile_static_shapes_and_errors():
    p = tf.placeholder(tf.float32, [None, 3])
    assert tf.tile(p, [2, 2]).shape.as_list() == [None, 6]
    assert tf.tile(p, tf.placeholder(tf.int32, [2])).shape.as_list() == [None, None]
    with pytest.raises(ValueError, match="Shape must be rank 3 but is rank 2"):
        tf.tile(p, [1, 2, 3])
    m = tf.placeholder(tf.int32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Expected multiples argument to be a vector of length 2 "
                                                             "but got length 1"):
        _run(tf.tile(p, m), {p: np.zeros((1, 3)), m: [2]})


@pytest.mark.parametrize("dtype", ALL_DTYPES + (object,))
@pytest.mark.parametrize("mode", ["CONSTANT", "REFLECT", "SYMMETRIC", "reflect"])
def test_pad(dtype, mode):
    a = _strings((3, 4)) if dtype is object else random_array((3, 4), dtype)
    pads = [[1, 2], [2, 0]]
    np_mode = {"CONSTANT": "constant", "REFLECT": "reflect", "SYMMETRIC": "symmetric"}[mode.upper()]
    kw = {"constant_values": b""} if dtype is object and np_mode == "constant" else {}
    check_against_numpy(lambda x: tf.pad(x, pads, mode), lambda x: np.pad(x, pads, mode=np_mode, **kw), a)


def test_pad_constant_values_static_shapes_and_errors():
    a = random_array((2, 3), np.int32)
    check_against_numpy(lambda x: tf.pad(x, [[0, 1], [1, 1]], constant_values=7),
                        lambda x: np.pad(x, [[0, 1], [1, 1]], constant_values=7), a)
    assert tf.pad(tf.zeros([2]), [[1, 1]], constant_values=3.0).op.type == "PadV2"
    p = tf.placeholder(tf.float32, [None, 3])
    assert tf.pad(p, [[1, 1], [2, 2]]).shape.as_list() == [None, 7]
    assert tf.pad(p, tf.placeholder(tf.int32, [2, 2])).shape.as_list() == [None, None]
    with pytest.raises(ValueError, match="Unknown padding mode"):
        tf.pad(p, [[1, 1], [1, 1]], "WRAP")
    with pytest.raises(ValueError, match="Paddings must be non-negative"):
        tf.pad(p, [[-1, 1], [1, 1]])
    with pytest.raises(ValueError, match="Paddings must be no greater than the dimension size"):
        tf.pad(p, [[0, 0], [3, 0]], "REFLECT")
    with pytest.raises(ValueError, match="Shape must be rank 3 but is rank 2"):
        tf.pad(p, [[1, 1], [1, 1], [1, 1]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="paddings must be less than the dimension size: 2, 0 "
                                                             "not less than 2"):
        _run(tf.pad(p, [[2, 0], [0, 0]], "REFLECT"), {p: np.zeros((2, 3))})


@pytest.mark.parametrize("dtype", ALL_DTYPES + (object,))
def test_reverse(dtype):
    a = _strings((2, 3, 4)) if dtype is object else _X.astype(dtype)
    check_against_numpy(lambda x: tf.reverse(x, [1]), lambda x: x[:, ::-1], a)
    check_against_numpy(lambda x: tf.reverse(x, [0, -1]), lambda x: x[::-1, :, ::-1], a)
    check_against_numpy(lambda x: tf.reverse_v2(x, []), lambda x: x, a)
    with pytest.raises(ValueError, match="axis 1 specified more than once"):
        tf.reverse(tf.constant(a), [1, -2])


# ----------------------------------------------------------------------------------------------------------
# gather, gather_nd, scatter_nd
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ALL_DTYPES + (object,))
def test_gather(dtype):
    a = _strings((5, 3)) if dtype is object else random_array((5, 3), dtype)
    idx = np.array([[4, 0], [1, 1]], np.int32)
    check_against_numpy(lambda x: tf.gather(x, idx), lambda x: x[idx], a)
    check_against_numpy(lambda x: tf.gather(x, [2, 0], axis=1), lambda x: x[:, [2, 0]], a)
    check_against_numpy(lambda x: tf.gather(x, np.int64(2), axis=-1), lambda x: x[:, 2], a)


def test_gather_batch_dims():
    params = random_array((2, 3, 4))
    idx = np.array([[0, 2], [1, 1]], np.int64)
    want = np.stack([params[b][idx[b]] for b in range(2)])
    check_against_numpy(lambda x: tf.gather(x, idx, batch_dims=1), lambda x: want, params)
    want2 = np.stack([params[b][:, idx[b]] for b in range(2)])
    check_against_numpy(lambda x: tf.gather(x, idx, axis=2, batch_dims=1), lambda x: want2, params)


def test_gather_static_shapes_and_errors():
    p = tf.placeholder(tf.float32, [None, 3, 4])
    i = tf.placeholder(tf.int32, [None, 2])
    assert tf.gather(p, i).shape.as_list() == [None, 2, 3, 4]
    assert tf.gather(p, i, axis=-1).shape.as_list() == [None, 3, None, 2]
    assert tf.gather(p, [0, 1], axis=tf.placeholder(tf.int32, [])).shape.as_list() == [None] * 3
    with pytest.raises(ValueError, match="Shape must be at least rank 4 but is rank 3"):
        tf.gather(p, [0], axis=3)
    u = tf.placeholder(tf.float32)
    j = tf.placeholder(tf.int32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="indices\\[1\\] = 7 is not in \\[0, 5\\)"):
        _run(tf.gather(u, j), {u: np.zeros(5), j: [0, 7]})
    with pytest.raises(tf.errors.InvalidArgumentError, match="indices\\[1,0\\] = -1 is not in \\[0, 5\\)"):
        _run(tf.gather(u, j), {u: np.zeros(5), j: [[0], [-1]]})


@pytest.mark.parametrize("dtype", ALL_DTYPES + (object,))
def test_gather_nd(dtype):
    a = _strings((3, 4, 2)) if dtype is object else random_array((3, 4, 2), dtype)
    idx = np.array([[[0, 1], [2, 3]], [[1, 0], [0, 0]]], np.int64)
    check_against_numpy(lambda x: tf.gather_nd(x, idx), lambda x: x[idx[..., 0], idx[..., 1]], a)
    check_against_numpy(lambda x: tf.gather_nd(x, [[2, 1, 0]]), lambda x: x[[2], [1], [0]], a)


def test_gather_nd_batch_dims_static_shapes_and_errors():
    params = random_array((2, 3, 4))
    idx = np.array([[[1], [0]], [[2], [2]]], np.int32)
    want = np.stack([params[b][idx[b][:, 0]] for b in range(2)])
    check_against_numpy(lambda x: tf.gather_nd(x, idx, batch_dims=1), lambda x: want, params)
    p = tf.placeholder(tf.float32, [None, 4, 5])
    assert tf.gather_nd(p, tf.placeholder(tf.int32, [7, 2])).shape.as_list() == [7, 5]
    with pytest.raises(ValueError, match="indices.shape\\[-1\\] must be <= params.rank"):
        tf.gather_nd(p, [[0, 0, 0, 0]])
    u = tf.placeholder(tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="indices\\[1\\] = \\[0, 5\\] does not index into param "
                                                             "shape \\[3,4\\]"):
        _run(tf.gather_nd(u, [[0, 0], [0, 5]]), {u: np.zeros((3, 4))})


def test_scatter_nd_sums_repeated_indices():
    idx = np.array([[1], [3], [1]], np.int32)
    updates = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], np.float32)
    out = tf.scatter_nd(idx, updates, [4, 2])
    assert out.shape.as_list() == [4, 2]
    np.testing.assert_array_equal(_run(out), [[0, 0], [6, 8], [0, 0], [3, 4]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="indices\\[0\\] = \\[5\\] does not index into shape"):
        _run(tf.scatter_nd([[5]], [1.0], [4]))


# ----------------------------------------------------------------------------------------------------------
# slice, strided_slice
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ALL_DTYPES + (object,))
def test_slice(dtype):
    a = _strings((2, 3, 4)) if dtype is object else _X.astype(dtype)
    check_against_numpy(lambda x: tf.slice(x, [1, 0, 1], [1, 2, -1]), lambda x: x[1:2, 0:2, 1:], a)
    check_against_numpy(lambda x: tf.slice(x, [0, 1, 0], [-1, -1, 0]), lambda x: x[:, 1:, 0:0], a)


def test_slice_static_shapes_and_errors():
    p = tf.placeholder(tf.float32, [None, 5])
    assert tf.slice(p, [0, 1], [2, -1]).shape.as_list() == [2, 4]
    assert tf.slice(p, [0, 1], [-1, 3]).shape.as_list() == [None, 3]
    assert tf.slice(p, tf.placeholder(tf.int32, [2]), [1, 2]).shape.as_list() == [1, 2]
    with pytest.raises(ValueError, match="Expected size\\[1\\] in \\[0, 4\\], but got 5"):
        tf.slice(p, [0, 1], [1, 5])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Expected size\\[0\\] in \\[0, 2\\], but got 3"):
        _run(tf.slice(p, [1, 0], [3, 1]), {p: np.zeros((3, 5))})


_STRIDED = [
    # (begin, end, strides, masks, numpy index)
    ([1, 0], [2, 3], [1, 2], {}, (slice(1, 2), slice(0, 3, 2))),
    ([0, 0], [0, 0], [1, -1], {"begin_mask": 3, "end_mask": 3}, (slice(None), slice(None, None, -1))),
    ([1, 2], [0, 0], [1, 1], {"shrink_axis_mask": 3}, (1, 2)),
    ([-1, 0], [0, 2], [1, 1], {"shrink_axis_mask": 1}, (-1, slice(0, 2))),
    ([0, 1], [0, 3], [1, 1], {"ellipsis_mask": 1}, (Ellipsis, slice(1, 3))),
    ([0, 0, 1], [0, 0, 2], [1, 1, 1], {"new_axis_mask": 2, "begin_mask": 1, "end_mask": 1},
     (slice(None), None, slice(1, 2))),
    ([0, 0, 2], [0, 0, 3], [1, 1, 1], {"ellipsis_mask": 2, "new_axis_mask": 1, "shrink_axis_mask": 4},
     (None, Ellipsis, 2)),
    ([5, -10], [10, 10], [1, 3], {}, (slice(5, 10), slice(-10, 10, 3))),
]


@pytest.mark.parametrize("begin, end, strides, masks, index", _STRIDED)
def test_strided_slice_masks_match_numpy(begin, end, strides, masks, index):
    check_against_numpy(lambda x: tf.strided_slice(x, begin, end, strides, **masks), lambda x: x[index], _X)
    t = tf.strided_slice(tf.placeholder(tf.float32, [2, None, 4]), begin, end, strides, **masks)
    want = list(_X[index].shape)
    got = t.shape.as_list()
    assert all(g is None or g == w for g, w in zip(got, want)) and len(got) == len(want)


@pytest.mark.parametrize("dtype", (np.int64, np.bool_, object))
def test_strided_slice_dtypes(dtype):
    a = _strings((2, 3)) if dtype is object else random_array((2, 3), dtype)
    check_against_numpy(lambda x: x[1, ::-1], lambda x: x[1, ::-1], a)
    check_against_numpy(lambda x: x[1, 2], lambda x: x[1, 2], a)


def test_strided_slice_partly_known_begin_and_errors():
    p = tf.placeholder(tf.float32, [2, 3, None])
    i = tf.placeholder(tf.int32, [])
    assert p[:, i].shape.as_list() == [2, None]
    assert p[i:, 1].shape.as_list() == [None, None]
    assert p[..., 5].shape.as_list() == [2, 3]  # an unknown dim never makes an index out of bounds statically
    with pytest.raises(ValueError, match="slice index 3 of dimension 1 out of bounds"):
        p[:, 3]
    with pytest.raises(ValueError, match="must be non-zero"):
        tf.strided_slice(p, [0], [1], [0])
    with pytest.raises(ValueError, match="Multiple ellipses"):
        tf.strided_slice(p, [0, 0], [1, 1], [1, 1], ellipsis_mask=3)
    with pytest.raises(ValueError, match="1D equal size"):
        tf.strided_slice(p, [0, 0], [1], [1, 1])
    with pytest.raises(tf.errors.InvalidArgumentError, match="slice index 4 of dimension 2 out of bounds"):
        _run(p[0, 0, 4], {p: np.zeros((2, 3, 4))})


# ----------------------------------------------------------------------------------------------------------
# where, one_hot, boolean_mask, sequence_mask, meshgrid
# ----------------------------------------------------------------------------------------------------------
def test_where_one_argument_gives_int64_coordinates():
    cond = np.array([[True, False, True], [False, False, True]])
    check_against_numpy(tf.where, np.argwhere, cond)
    check_against_numpy(tf.where, lambda x: np.argwhere(x), np.array([0.0, 2.0, -1.0], np.float32))
    assert tf.where(tf.placeholder(tf.bool, [None, 3])).shape.as_list() == [None, 2]


@pytest.mark.parametrize("dtype", ALL_DTYPES + (object,))
def test_where_three_arguments(dtype):
    a = _strings((2, 3)) if dtype is object else random_array((2, 3), dtype, seed=1)
    b = _strings((2, 3))[::-1] if dtype is object else random_array((2, 3), dtype, seed=2)
    cond = np.array([[True, False, True], [False, True, False]])
    check_against_numpy(lambda c, x, y: tf.where(c, x, y), np.where, cond, a, b)
    check_against_numpy(lambda c, x, y: tf.where(c, x, y), lambda c, x, y: np.where(c[:, None], x, y),
                        np.array([False, True]), a, b)
    check_against_numpy(lambda c, x, y: tf.where_v2(c, x, y), np.where, cond[:1], a[:, :1], b[1])


def test_where_errors_and_static_shapes():
    x = tf.placeholder(tf.float32, [None, 3])
    assert tf.where(tf.placeholder(tf.bool, [2]), x, x).shape.as_list() == [2, 3]
    assert tf.where_v2(tf.placeholder(tf.bool, [4, 1, 1]), x, 0.0).shape.as_list() == [4, None, 3]
    with pytest.raises(ValueError, match="x and y must both be non-None"):
        tf.where(True, x)
    with pytest.raises(ValueError):
        tf.where(tf.placeholder(tf.bool, [2, 2]), x, x)
    c = tf.placeholder(tf.bool)
    with pytest.raises(tf.errors.InvalidArgumentError, match="'then' and 'else' must have the same size"):
        _run(tf.where(c, tf.placeholder_with_default([1.0, 2.0], [None]), [1.0, 2.0, 3.0]), {c: True})


@pytest.mark.parametrize("axis", [None, -1, 0, 1, 2])
def test_one_hot(axis):
    idx = np.array([[0, 2], [-1, 3]], np.int64)
    want = (idx[..., None] == np.arange(3)).astype(np.float32)
    if axis not in (None, -1):
        want = np.moveaxis(want, -1, axis)
    check_against_numpy(lambda i: tf.one_hot(i, 3, axis=axis), lambda i: want, idx, dtypes=[np.int32, np.int64,
                                                                                              np.uint8])


def test_one_hot_values_dtypes_and_errors():
    out = tf.one_hot([1, 0], 2, on_value=5, off_value=-1)
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(_run(out), [[-1, 5], [5, -1]])
    assert tf.one_hot([1], 2, on_value=True, off_value=False).dtype == tf.bool
    with pytest.raises(TypeError, match="Expected bool"):
        tf.one_hot([1], 2, dtype=tf.bool)  # the default on_value 1 is no bool, as in TF
    np.testing.assert_array_equal(_run(tf.one_hot([1], 2, off_value=2.5)), [[2.5, 1.0]])
    assert tf.one_hot(tf.placeholder(tf.int32, [None]), tf.placeholder(tf.int32, [])).shape.as_list() == [None, None]
    with pytest.raises(TypeError, match="does not match dtype parameter"):
        tf.one_hot([1], 2, on_value=1.0, dtype=tf.int32)
    with pytest.raises(TypeError, match="does not match dtype"):
        tf.one_hot([1], 2, on_value=1.0, off_value=0)
    with pytest.raises(ValueError, match="Expected axis to be -1 or between"):
        tf.one_hot([1], 2, axis=3)


@pytest.mark.parametrize("axis", [None, 1])
def test_boolean_mask(axis):
    a = random_array((2, 3, 4), np.float32)
    ax = 0 if axis is None else axis
    mask = np.array([[True, False, True], [False, True, True]]) if ax == 0 else np.array([[1, 0, 1, 1]] * 3, bool)
    want = a[mask] if ax == 0 else np.stack([a[i][mask] for i in range(2)])
    check_against_numpy(lambda x, m: tf.boolean_mask(x, m, axis=axis), lambda x, m: want, a, mask, modes=["const"])
    x, m = tf.placeholder(tf.float32), tf.placeholder(tf.bool, [None, None])
    np.testing.assert_array_equal(_run(tf.boolean_mask(x, m, axis=axis), {x: a, m: mask}), want)
    p = tf.placeholder(tf.float32, [None, 3, 4])
    assert tf.boolean_mask(p, tf.placeholder(tf.bool, [None, 3])).shape.as_list() == [None, 4]
    with pytest.raises(ValueError, match="mask cannot be scalar"):
        tf.boolean_mask(p, True)
    with pytest.raises(ValueError, match="Number of mask dimensions must be specified"):
        tf.boolean_mask(p, tf.placeholder(tf.bool))


def test_sequence_mask():
    lengths = np.array([[1, 3], [0, 2]], np.int32)
    check_against_numpy(tf.sequence_mask, lambda n: np.arange(3) < n[..., None], lengths)
    check_against_numpy(lambda n: tf.sequence_mask(n, 5, dtype=tf.float32),
                        lambda n: (np.arange(5) < n[..., None]).astype(np.float32), lengths)
    with pytest.raises(ValueError, match="maxlen must be scalar"):
        tf.sequence_mask([1], [2, 3])


@pytest.mark.parametrize("indexing", ["xy", "ij"])
def test_meshgrid(indexing):
    x, y, z = np.arange(3.0), np.arange(4.0) * 2, np.arange(2.0) - 1
    for k in range(3):
        check_against_numpy(lambda a, b, c, k=k: tf.meshgrid(a, b, c, indexing=indexing)[k],
                            lambda a, b, c, k=k: np.meshgrid(a, b, c, indexing=indexing)[k], x, y, z)
    out = tf.meshgrid(tf.constant(x), tf.constant(y), indexing=indexing)
    assert out[0].shape.as_list() == list(np.meshgrid(x, y, indexing=indexing)[0].shape)
    with pytest.raises(TypeError, match="'foo' is an invalid keyword"):
        tf.meshgrid(x, foo=1)
    with pytest.raises(ValueError, match="indexing parameter must be either"):
        tf.meshgrid(x, indexing="yx")


# ----------------------------------------------------------------------------------------------------------
# Diagonals, unique
# ----------------------------------------------------------------------------------------------------------
def _np_matrix_diag(d):
    out = np.zeros(d.shape + d.shape[-1:], d.dtype)
    for idx in np.ndindex(*d.shape[:-1]):
        out[idx] = np.diag(d[idx])
    return out


def test_matrix_diag_family():
    d = random_array((2, 3), np.float32)
    check_against_numpy(tf.matrix_diag, _np_matrix_diag, d, dtypes=[np.float32, np.int64, np.bool_])
    m = random_array((2, 3, 4))
    check_against_numpy(tf.matrix_diag_part, lambda x: np.diagonal(x, axis1=-2, axis2=-1), m)
    check_against_numpy(tf.matrix_set_diag, _set_diag, m, random_array((2, 3)))
    assert tf.matrix_diag_part(tf.placeholder(tf.float32, [None, 5, 3])).shape.as_list() == [None, 3]
    with pytest.raises(ValueError, match="at least rank 2"):
        tf.matrix_diag_part(tf.zeros([3]))


def _set_diag(x, v):
    out = x.copy()
    for idx in np.ndindex(*x.shape[:-2]):
        np.fill_diagonal(out[idx], v[idx])
    return out


def test_diag_and_diag_part():
    d = random_array((2, 3), np.float64)
    want = np.diag(d.reshape(-1)).reshape(2, 3, 2, 3)
    check_against_numpy(tf.diag, lambda x: want.astype(x.dtype), d, dtypes=[np.float32, np.int32])
    check_against_numpy(tf.diag_part, lambda x: d.astype(x.dtype), want, dtypes=[np.float64, np.int64])
    with pytest.raises(ValueError, match="even rank"):
        tf.diag_part(tf.zeros([2, 2, 2]))


@pytest.mark.parametrize("lower, upper", [(0, 0), (1, 0), (0, -1), (-1, 1), (-1, -1), (2, 3)])
def test_matrix_band_part(lower, upper):
    x = random_array((2, 3, 4))
    i, j = np.arange(3)[:, None], np.arange(4)[None, :]
    keep = ((lower < 0) | (i - j <= lower)) & ((upper < 0) | (j - i <= upper))
    check_against_numpy(lambda t: tf.matrix_band_part(t, lower, upper),
                        lambda t: np.where(keep, t, np.zeros((), t.dtype)), x,
                        dtypes=[np.float32, np.int64, np.bool_])
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_lower must be negative or less or equal"):
        _run(tf.matrix_band_part(tf.placeholder_with_default(x, None), 4, 0))


def test_reverse_sequence():
    x = _X.astype(np.int32)
    lengths = np.array([2, 4], np.int64)
    want = x.copy()
    for b, n in enumerate(lengths):
        want[b, :, :n] = x[b, :, :n][:, ::-1]
    check_against_numpy(lambda t: tf.reverse_sequence(t, lengths, seq_axis=2, batch_axis=0), lambda t: want, x)
    want_t = np.stack([want[0], want[1]], axis=1)
    check_against_numpy(lambda t: tf.reverse_sequence(t, lengths, seq_dim=2, batch_dim=1), lambda t: want_t,
                        np.stack([x[0], x[1]], axis=1))
    assert tf.reverse_sequence(tf.placeholder(tf.float32, [None, 5]), [1, 2], 1).shape.as_list() == [2, 5]
    with pytest.raises(ValueError, match="batch_dim == seq_dim"):
        tf.reverse_sequence(x, lengths, 0, 0)


def test_roll():
    check_against_numpy(lambda t: tf.roll(t, 2, 1), lambda t: np.roll(t, 2, 1), _X, dtypes=ALL_DTYPES)
    check_against_numpy(lambda t: tf.roll(t, [1, -3], [0, 2]), lambda t: np.roll(t, (1, -3), (0, 2)), _X)
    with pytest.raises(ValueError, match="same rank"):
        tf.roll(_X, [1, 2], 0)


def test_ensure_shape():
    p = tf.placeholder(tf.float32)
    e = tf.ensure_shape(p, [None, 3])
    assert e.shape.as_list() == [None, 3]
    np.testing.assert_array_equal(_run(e, {p: np.ones((2, 3))}), np.ones((2, 3)))
    with pytest.raises(tf.errors.InvalidArgumentError, match="is not compatible with expected shape \\[\\?,3\\]"):
        _run(e, {p: np.ones((2, 4))})
    with pytest.raises(ValueError):
        tf.ensure_shape(tf.zeros([2, 4]), [None, 3])


@pytest.mark.parametrize("dtype", (np.float32, np.int32, np.int64, object))
def test_unique_keeps_first_appearance_order(dtype):
    x = np.array([b"b", b"a", b"b", b"c", b"a"], object) if dtype is object else np.array([3, 1, 3, 2, 1], dtype)
    y, idx = tf.unique(x, out_idx=tf.int64)
    yv, iv = _run([y, idx])
    np.testing.assert_array_equal(yv, x[[0, 1, 3]])
    np.testing.assert_array_equal(iv, [0, 1, 0, 2, 1])
    assert iv.dtype == np.int64 and yv.dtype == x.dtype and y.shape.as_list() == [None]


# ----------------------------------------------------------------------------------------------------------
# Gradients (finite differences, float64)
# ----------------------------------------------------------------------------------------------------------
_A = random_array((2, 3, 4), seed=3)
_B = random_array((2, 3), seed=4)

_GRADIENT_CASES = {
    "identity": (lambda x: tf.identity(x) * 2.0, [_B]),
    "identity_n": (lambda x, y: tf.identity_n([x, y]), [_B, _B[0]]),
    "placeholder_with_default": (lambda x: tf.placeholder_with_default(x, [None, 3]), [_B]),
    "reshape": (lambda x: tf.reshape(x, [4, -1]), [_A]),
    "expand_dims": (lambda x: tf.expand_dims(x, -2), [_B]),
    "squeeze": (lambda x: tf.squeeze(x, [1]), [random_array((3, 1, 2))]),
    "transpose": (lambda x: tf.transpose(x, [2, 0, 1]), [_A]),
    "transpose_default": (tf.transpose, [_A]),
    "concat": (lambda x, y: tf.concat([x, y, x], -1), [_B, random_array((2, 2))]),
    "stack": (lambda x, y: tf.stack([x, y], axis=1), [_B, _B[::-1]]),
    "unstack": (lambda x: tf.unstack(x, axis=1)[0] * tf.unstack(x, axis=1)[2], [_B]),
    "unstack_one_used": (lambda x: tf.unstack(x)[1], [_B]),
    "split": (lambda x: tf.split(x, 2, axis=2), [_A]),
    "split_one_used": (lambda x: tf.split(x, 2, axis=0)[1], [_A]),
    "split_v": (lambda x: tf.split(x, [1, -1], axis=1)[1] * 3.0, [_B]),
    "tile": (lambda x: tf.tile(x, [2, 1, 3]), [_A]),
    "tile_int64_multiples": (lambda x: tf.tile(x, tf.constant([1, 2], tf.int64)), [_B]),
    "reshape_to_scalar": (lambda x: tf.reshape(x, []) * x, [np.array([1.5])]),
    "gather_into_transpose": (lambda x: tf.gather(tf.transpose(x), [2, 0, 2]), [_B]),  # IndexedSlices into a grad fn
    "pad_int64_paddings": (lambda x: tf.pad(x, tf.constant([[0, 1], [1, 0]], tf.int64)), [_B]),
    "slice_int64": (lambda x: tf.slice(x, tf.constant([1, 0], tf.int64), [-1, 2]), [_B]),
    "pad": (lambda x: tf.pad(x, [[1, 0], [2, 1]]), [_B]),
    "pad_v2": (lambda x: tf.pad(x, [[1, 0], [2, 1]], constant_values=3.0), [_B]),
    "pad_reflect": (lambda x: tf.pad(x, [[1, 1], [2, 1]], "REFLECT"), [_B]),
    "pad_symmetric": (lambda x: tf.pad(x, [[2, 1], [3, 0]], "SYMMETRIC"), [_B]),
    "gather_axis0": (lambda x: tf.gather(x, [[2, 0], [2, 2]]), [random_array((4, 3))]),
    "gather_axis2": (lambda x: tf.gather(x, [3, 0, 3], axis=2), [_A]),
    "gather_axis1": (lambda x: tf.gather(x, [[2], [0]], axis=1), [_A]),
    "gather_negative_axis": (lambda x: tf.gather(x, [[1], [1]], axis=-2), [_A]),
    "gather_batch_dims": (lambda x: tf.gather(x, [[0, 2, 2], [1, 1, 0]], axis=1, batch_dims=1), [_A]),
    "gather_nd": (lambda x: tf.gather_nd(x, [[0, 2], [1, 0], [0, 2]]), [_A]),
    "scatter_nd": (lambda u: tf.scatter_nd([[1], [0], [1]], u, [3, 4]), [random_array((3, 4))]),
    "slice": (lambda x: tf.slice(x, [0, 1, 1], [-1, 2, 2]), [_A]),
    "strided_slice": (lambda x: x[1:, ::-2, tf.newaxis, 1], [_A]),
    "strided_slice_ellipsis": (lambda x: x[..., 1:3], [_A]),
    "reverse": (lambda x: tf.reverse(x, [0, 2]), [_A]),
    "where_select": (lambda x, y: tf.where([[True, False, True], [False, False, True]], x, y), [_B, _B + 1]),
    "where_select_vector": (lambda x, y: tf.where([False, True], x, y), [_B, _B + 1]),
    "where_v2_broadcast": (lambda x, y: tf.where_v2([[True], [False]], x, y), [_B, random_array((3,))]),
    "broadcast_to": (lambda x: tf.broadcast_to(x, [2, 2, 3]), [random_array((2, 1))]),
    "boolean_mask": (lambda x: tf.boolean_mask(x, [[True, False, True], [False, True, True]]), [_A]),
    "fill": (lambda v: tf.fill([2, 3], v), [np.array(1.5)]),
    "meshgrid": (lambda x, y: tf.meshgrid(x, y), [np.arange(3.0), np.arange(2.0)]),
    "matrix_diag": (tf.matrix_diag, [_B]),
    "matrix_diag_part": (tf.matrix_diag_part, [_A]),
    "matrix_diag_part_square": (tf.matrix_diag_part, [random_array((2, 3, 3))]),
    "matrix_set_diag": (tf.matrix_set_diag, [_A, _B]),
    "diag": (tf.diag, [_B]),
    "matrix_band_part": (lambda x: tf.matrix_band_part(x, 1, 0), [_A]),
    "reverse_sequence": (lambda x: tf.reverse_sequence(x, [3, 1], seq_axis=2), [_A]),
    "roll": (lambda x: tf.roll(x, [1, -1], [1, 2]), [_A]),
    "ensure_shape": (lambda x: tf.ensure_shape(x, [2, None]), [_B]),
    "diag_part": (tf.diag_part, [random_array((2, 3, 2, 3))]),
    "transpose_conjugate": (lambda x, y: tf.real(tf.transpose(tf.complex(x, y), conjugate=True) ** 2), [_B, _B + 1]),
    # The gradient of a mirror pad's gradient (MirrorPadGrad), through a cube so it depends on x.
    "mirror_pad_grad": (lambda x: tf.gradients(tf.reduce_sum(tf.pad(x, [[1, 1], [2, 1]], "SYMMETRIC") ** 3), x)[0],
                        [_B]),
}


@pytest.mark.parametrize("name", sorted(_GRADIENT_CASES))
def test_gradient_matches_finite_differences(name):
    fn, values = _GRADIENT_CASES[name]
    check_gradients(fn, values)


def test_gradients_with_partly_unknown_shapes():
    """The gradient ops fall back to run-time shapes when static ones are unknown."""
    x = tf.placeholder(tf.float64, [None, None])
    n = tf.placeholder(tf.int32, [])
    ys = [tf.tile(x, [n, 2]), tf.concat([x, x * 2.0], n - 1), tf.gather(x, [1, 0], axis=n), x[n:, :n],
          tf.slice(x, [0, n], [-1, 1]), tf.pad(x, [[n, 0], [0, n]], "REFLECT"), tf.broadcast_to(x, [3, 2, 2])]
    check_gradients(ys, {x: random_array((2, 2))}, feed_dict={n: 1})


def test_strided_slice_grad_has_a_gradient():
    x = tf.placeholder(tf.float64, [3, 4])
    y = x[1:, ::2] ** 2
    (g,) = tf.gradients(y, x)
    assert g.op.type == "StridedSliceGrad"
    check_gradients(g, {x: random_array((3, 4))})


def test_gather_gradient_is_indexed_slices():
    params = tf.placeholder(tf.float64, [4, 3])
    (g,) = tf.gradients(tf.gather(params, [2, 0, 2]), params)
    assert isinstance(g, tf.IndexedSlices)
    value = _run(g, {params: np.zeros((4, 3))})
    np.testing.assert_array_equal(value.indices, [2, 0, 2])
    np.testing.assert_array_equal(value.dense_shape, [4, 3])


@pytest.mark.parametrize("make", [
    lambda x: tf.shape(x), lambda x: tf.size(x), lambda x: tf.rank(x), lambda x: tf.zeros_like(x),
    lambda x: tf.ones_like(x), lambda x: tf.stop_gradient(x), lambda x: tf.where(x > 0.0),
    lambda x: tf.one_hot(tf.cast(x, tf.int32), 3), lambda x: tf.unique(tf.reshape(x, [-1]))[1],
], ids=["shape", "size", "rank", "zeros_like", "ones_like", "stop_gradient", "where", "one_hot", "unique_idx"])
def test_not_differentiable_ops_give_no_gradient(make):
    x = tf.placeholder(tf.float32, [None, 2])
    y = tf.cast(make(x), tf.float32)
    assert tf.gradients(y, x) == [None]


def test_slice_bounds_may_be_variables_dimensions_and_0d_arrays():
    """As in TF, any scalar with an int32/int64 dtype is an index: a Variable, a Dimension, a 0-d NumPy array."""
    x = tf.constant(np.arange(10))
    v = tf.Variable(3)
    parts = [x[:v], x[np.array(2)], x[tf.Dimension(4)], x[v:tf.Dimension(8):2]]
    with tf.Session() as sess:
        sess.run(v.initializer)
        got = sess.run(parts)
    assert [np.asarray(g).tolist() for g in got] == [[0, 1, 2], 2, 4, [3, 5, 7]]
    with pytest.raises(TypeError, match="are valid indices"):
        _ = x[tf.Variable(1.5)]
    with pytest.raises(TypeError, match="are valid indices"):
        _ = x[np.array([1, 2])]
