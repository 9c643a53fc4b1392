"""The first op set the runtime rests on (Const, Placeholder, PlaceholderWithDefault, Identity, NoOp, the
arithmetic and comparison ops, MatMul, Cast, Reshape, Shape, reductions), each checked against NumPy, and
TF's dtype rules: constant inference and no silent promotion between mismatched dtypes."""

import numpy as np
import pytest

import tfmini as tf


def _rand(shape, dtype=np.float32, seed=0):
    return np.random.RandomState(seed).uniform(-2, 2, size=shape).astype(dtype)


# ----------------------------------------------------------------------------------------------------------
# Const and dtype inference
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value,dtype",
    [
        (1.0, tf.float32),
        ([1.0, 2.0], tf.float32),
        ([1, 2.5], tf.float32),  # mixed Python int/float -> float32
        (1, tf.int32),
        ([[1, 2], [3, 4]], tf.int32),
        (2**31 - 1, tf.int32),
        (-(2**31), tf.int32),
        (2**40, tf.int64),  # too big for int32
        ([1, -(2**40)], tf.int64),
        (True, tf.bool),
        (3 + 4j, tf.complex128),
        ("abc", tf.string),
        (b"abc", tf.string),
        ([], tf.float32),
        (np.float64(1.0), tf.float64),  # NumPy values keep their dtype
        (np.array([1, 2], np.int16), tf.int16),
        (np.array([1.0], np.float16), tf.float16),
        (np.uint8(3), tf.uint8),
        (np.array([True]), tf.bool),
    ],
)
def test_constant_infers_tf_default_dtypes(value, dtype):
    assert tf.constant(value).dtype == dtype


def test_constant_values_and_static_shapes(sess):
    c = tf.constant([[1, 2, 3], [4, 5, 6]])
    assert c.shape.as_list() == [2, 3]
    v = sess.run(c)
    assert v.dtype == np.int32
    np.testing.assert_array_equal(v, [[1, 2, 3], [4, 5, 6]])
    scalar = sess.run(tf.constant(2.5))
    assert isinstance(scalar, np.float32) and scalar == 2.5


def test_string_constants_fetch_as_bytes(sess):
    assert sess.run(tf.constant("héllo")) == "héllo".encode()
    v = sess.run(tf.constant(["a", b"b"]))
    assert v.dtype == object and v.tolist() == [b"a", b"b"]


def test_constant_with_explicit_dtype_converts_or_raises(sess):
    assert sess.run(tf.constant(1, dtype=tf.float32)) == 1.0
    assert tf.constant(1, dtype=tf.float32).dtype == tf.float32
    assert sess.run(tf.constant(True, dtype=tf.int32)) == 1
    np.testing.assert_array_equal(sess.run(tf.constant(np.array([1.7, -1.7]), dtype=tf.int32)), [1, -1])
    with pytest.raises(TypeError, match="Expected int32"):
        tf.constant(1.5, dtype=tf.int32)
    with pytest.raises(TypeError):
        tf.constant("a", dtype=tf.int32)
    with pytest.raises(TypeError):
        tf.constant(1, dtype=tf.string)
    with pytest.raises(TypeError):
        tf.constant(1, dtype=tf.bool)
    with pytest.raises(TypeError):
        tf.constant(2**40, dtype=tf.int32)


def test_constant_shape_broadcasts_or_pads_with_last_element(sess):
    np.testing.assert_array_equal(sess.run(tf.constant(7, shape=[2, 2])), np.full((2, 2), 7))
    np.testing.assert_array_equal(sess.run(tf.constant([1, 2, 3], shape=[5])), [1, 2, 3, 3, 3])
    np.testing.assert_array_equal(sess.run(tf.constant([1, 2, 3, 4], shape=[2, 2])), [[1, 2], [3, 4]])
    with pytest.raises(TypeError, match="Too many elements"):
        tf.constant([1, 2, 3], shape=[2])
    with pytest.raises(TypeError, match="Expected Tensor's shape"):
        tf.constant([1, 2, 3], shape=[3, 1], verify_shape=True)


def test_constant_none_and_ragged_values_raise_value_error():
    with pytest.raises(ValueError, match="None values not supported"):
        tf.constant(None)
    with pytest.raises(ValueError):
        tf.constant([[1, 2], [3]])


def test_constant_value_is_stored_in_the_node_def():
    c = tf.constant([[1.5, 2.5]], name="c")
    assert c.op.type == "Const"
    np.testing.assert_array_equal(tf.make_ndarray(c.op.node_def.attr["value"].tensor), [[1.5, 2.5]])
    assert c.op.get_attr("dtype") == tf.float32


def test_constant_does_not_alias_the_callers_array(sess):
    src = np.array([1.0, 2.0], np.float32)
    c = tf.constant(src)
    src[0] = 100.0
    np.testing.assert_array_equal(sess.run(c), [1.0, 2.0])


class _ArrayLike:
    def __init__(self, arr):
        self.arr = arr

    def __array__(self, dtype=None, copy=None):
        return self.arr


@pytest.mark.parametrize("wrap", [memoryview, bytearray, _ArrayLike, lambda a: a[::2], lambda a: a.reshape(2, 2)],
                         ids=["memoryview", "bytearray", "__array__", "strided view", "reshaped view"])
def test_constant_does_not_alias_a_buffer_or_view_of_the_callers_data(sess, wrap):
    src = np.arange(4, dtype=np.uint8)
    value = wrap(src)
    c = tf.constant(value, dtype=tf.uint8)
    expected = np.asarray(value, dtype=np.uint8).copy()
    src[:] = 200
    if isinstance(value, bytearray):
        value[:] = b"\xc8" * 4
    np.testing.assert_array_equal(sess.run(c), expected)


# ----------------------------------------------------------------------------------------------------------
# Placeholder, PlaceholderWithDefault, Identity, NoOp
# ----------------------------------------------------------------------------------------------------------
def test_placeholder_static_shape_and_feed(sess):
    p = tf.placeholder(tf.float32, shape=[None, 2], name="p")
    assert p.op.type == "Placeholder"
    assert p.shape.as_list() == [None, 2]
    assert p.op.get_attr("dtype") == tf.float32
    x = _rand((3, 2))
    np.testing.assert_array_equal(sess.run(p, {p: x}), x)


def test_placeholder_checks_the_fed_shape(sess):
    p = tf.placeholder(tf.float32, shape=[None, 2])
    with pytest.raises(ValueError, match=r"Cannot feed value of shape \(2,\) for Tensor 'Placeholder:0', which "
                                         r"has shape '\(\?, 2\)'"):
        sess.run(p, {p: [1.0, 2.0]})
    with pytest.raises(ValueError, match="Cannot feed value of shape"):
        sess.run(p, {p: np.zeros((2, 3))})
    any_shape = tf.placeholder(tf.float32)
    assert sess.run(any_shape, {any_shape: np.zeros((1, 2, 3))}).shape == (1, 2, 3)


def test_unfed_placeholder_raises_invalid_argument_error_naming_it(sess):
    p = tf.placeholder(tf.float32, shape=[None, 2], name="inputs")
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"You must feed a value for placeholder tensor 'inputs' with dtype float and "
                             r"shape \[\?,2\]") as info:
        sess.run(p * 2.0)
    assert info.value.op is p.op
    q = tf.placeholder(tf.int64, name="q")
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="You must feed a value for placeholder tensor 'q' with dtype int64$|with dtype int64\n"):
        sess.run(q)


def test_placeholder_with_default_uses_default_unless_fed(sess):
    d = tf.placeholder_with_default(tf.constant([1.0, 2.0]), shape=[None])
    assert d.op.type == "PlaceholderWithDefault"
    assert d.shape.as_list() == [None]
    np.testing.assert_array_equal(sess.run(d), [1.0, 2.0])
    np.testing.assert_array_equal(sess.run(d * 2.0, {d: [5.0, 6.0, 7.0]}), [10.0, 12.0, 14.0])
    with pytest.raises(ValueError, match="Cannot feed value of shape"):
        sess.run(d, {d: [[5.0]]})
    np.testing.assert_array_equal(sess.run(d), [1.0, 2.0])  # the feed was for one run only


def test_placeholder_with_default_rejects_default_of_wrong_shape():
    with pytest.raises(ValueError):
        tf.placeholder_with_default([1, 2], shape=[3])


def test_identity_and_no_op(sess):
    x = tf.constant([1, 2])
    i = tf.identity(x, name="same")
    assert i.op.type == "Identity" and i.name == "same:0"
    assert i.shape == x.shape and i.dtype == x.dtype
    np.testing.assert_array_equal(sess.run(i), [1, 2])
    n = tf.no_op(name="nothing")
    assert n.type == "NoOp" and n.outputs == []
    assert sess.run(n) is None
    g = tf.group(i, n, name="grouped")
    assert g.type == "NoOp" and set(g.control_inputs) == {i.op, n}
    assert sess.run(g) is None


# ----------------------------------------------------------------------------------------------------------
# Elementwise arithmetic and comparison
# ----------------------------------------------------------------------------------------------------------
_BINARY = [
    (tf.add, np.add), (tf.subtract, np.subtract), (tf.multiply, np.multiply), (tf.maximum, np.maximum),
    (tf.minimum, np.minimum), (tf.squared_difference, lambda a, b: (a - b) ** 2),
    (tf.truediv, np.true_divide), (tf.floordiv, np.floor_divide), (tf.floormod, np.mod),
    (tf.less, np.less), (tf.less_equal, np.less_equal), (tf.greater, np.greater),
    (tf.greater_equal, np.greater_equal), (tf.equal, np.equal), (tf.not_equal, np.not_equal),
]


@pytest.mark.parametrize("tf_fn,np_fn", _BINARY, ids=[f[0].__name__ for f in _BINARY])
@pytest.mark.parametrize("shapes", [((2, 3), (2, 3)), ((2, 3), (3,)), ((4, 1), (1, 3)), ((), (2,))])
def test_binary_ops_match_numpy_with_broadcasting(sess, tf_fn, np_fn, shapes):
    a = _rand(shapes[0], seed=1)
    b = _rand(shapes[1], seed=2) + np.float32(3.0)  # keep divisors away from zero
    out = tf_fn(tf.constant(a), tf.constant(b))
    want = np_fn(a, b)
    assert out.shape.as_list() == list(np.shape(want))
    got = sess.run(out)
    assert got.dtype == np.asarray(want).dtype
    np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_integer_arithmetic(sess, dtype):
    a = np.array([7, -7, 9, 0], dtype)
    b = np.array([2, 2, -4, 3], dtype)
    ta, tb = tf.constant(a), tf.constant(b)
    for tf_fn, np_fn in [(tf.add, np.add), (tf.subtract, np.subtract), (tf.multiply, np.multiply),
                         (tf.floordiv, np.floor_divide), (tf.floormod, np.mod), (tf.maximum, np.maximum)]:
        got = sess.run(tf_fn(ta, tb))
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, np_fn(a, b))
    np.testing.assert_array_equal(sess.run(tf.truncatediv(ta, tb)), np.trunc(a / b).astype(dtype))


_UNARY = [
    (tf.negative, np.negative), (tf.abs, np.abs), (tf.square, np.square), (tf.exp, np.exp),
    (tf.tanh, np.tanh), (tf.sin, np.sin), (tf.cos, np.cos), (tf.sign, np.sign), (tf.floor, np.floor),
    (tf.ceil, np.ceil), (tf.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
]


@pytest.mark.parametrize("tf_fn,np_fn", _UNARY, ids=[f[0].__name__ for f in _UNARY])
def test_unary_ops_match_numpy(sess, tf_fn, np_fn):
    x = _rand((3, 4), seed=3)
    got = sess.run(tf_fn(tf.constant(x)))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, np_fn(x), rtol=1e-5, atol=1e-6)


def test_positive_domain_unary_ops(sess):
    x = np.abs(_rand((5,), seed=4)) + np.float32(0.5)
    for tf_fn, np_fn in [(tf.sqrt, np.sqrt), (tf.log, np.log), (tf.rsqrt, lambda v: 1 / np.sqrt(v)),
                         (tf.reciprocal, np.reciprocal), (tf.log1p, np.log1p), (tf.expm1, np.expm1)]:
        np.testing.assert_allclose(sess.run(tf_fn(tf.constant(x))), np_fn(x), rtol=1e-5)


def test_logical_ops(sess):
    p = np.array([True, True, False, False])
    q = np.array([True, False, True, False])
    tp, tq = tf.constant(p), tf.constant(q)
    np.testing.assert_array_equal(sess.run(tf.logical_and(tp, tq)), p & q)
    np.testing.assert_array_equal(sess.run(tf.logical_or(tp, tq)), p | q)
    np.testing.assert_array_equal(sess.run(tf.logical_xor(tp, tq)), p ^ q)
    np.testing.assert_array_equal(sess.run(tf.logical_not(tp)), ~p)
    with pytest.raises(TypeError):
        tf.logical_and(tf.constant([1]), tf.constant([0]))


def test_comparison_results_are_bool(sess):
    out = tf.less(tf.constant([1, 5]), tf.constant([3, 3]))
    assert out.dtype == tf.bool
    np.testing.assert_array_equal(sess.run(out), [True, False])
    np.testing.assert_array_equal(sess.run(tf.equal(tf.constant(["a", "b"]), "a")), [True, False])


def test_add_n(sess):
    xs = [_rand((2, 2), seed=s) for s in range(3)]
    np.testing.assert_allclose(sess.run(tf.add_n([tf.constant(x) for x in xs])), xs[0] + xs[1] + xs[2],
                               rtol=1e-6)
    np.testing.assert_array_equal(sess.run(tf.add_n([tf.constant(xs[0])])), xs[0])


def test_incompatible_static_shapes_raise_value_error():
    with pytest.raises(ValueError, match="Dimensions must be equal"):
        tf.add(tf.constant(np.zeros(3)), tf.constant(np.zeros(4)))


# ----------------------------------------------------------------------------------------------------------
# Mismatched dtypes: no silent promotion
# ----------------------------------------------------------------------------------------------------------
def test_operator_on_mismatched_tensors_raises_the_ops_type_error():
    # TF 1.15's operators hand two tensors to the op as they are, so its input check names the mismatch.
    with pytest.raises(TypeError, match="Input 'y' of 'Add' Op has type int32 that does not match type float32 of "
                                        "argument 'x'"):
        tf.constant(1.0) + tf.constant(1)
    with pytest.raises(TypeError, match="Input 'y' of 'Mul' Op has type float32 that does not match type int32 of "
                                        "argument 'x'"):
        tf.constant(1) * tf.constant(1.0)


def test_op_function_on_mismatched_tensors_raises_type_error_naming_the_input():
    with pytest.raises(TypeError, match="Input 'y' of 'Add' Op has type int32 that does not match type float32 of "
                                        "argument 'x'"):
        tf.add(tf.constant(1.0), tf.constant(1))
    with pytest.raises(TypeError, match="Input 'b' of 'MatMul' Op has type float64 that does not match type "
                                        "float32 of argument 'a'"):
        tf.matmul(tf.constant([[1.0]]), tf.constant(np.array([[1.0]])))
    with pytest.raises(TypeError, match="Input 'b' of 'MatMul' Op has type int32"):
        tf.matmul(tf.constant([[1.0]]), [[1]])  # TF1's matmul does not convert b to a's dtype


def test_python_value_that_does_not_fit_the_other_input_raises_type_error():
    with pytest.raises(TypeError, match="Expected int32 passed to parameter 'y' of op 'Add'"):
        tf.add(tf.constant(1), 1.5)
    with pytest.raises(ValueError, match="Tried to convert 'y' to a tensor and failed"):
        tf.add(tf.constant(1.0), None)


def test_op_rejects_disallowed_dtypes():
    with pytest.raises(TypeError, match="not in list of allowed values"):
        tf.sqrt(tf.constant(4))
    with pytest.raises(TypeError, match="not in list of allowed values"):
        tf.subtract(tf.constant("a"), tf.constant("b"))


def test_python_scalars_adopt_the_tensor_dtype(sess):
    assert (tf.constant(np.float64(1.0)) + 1).dtype == tf.float64
    assert (tf.constant(np.int64(1)) + 1).dtype == tf.int64
    assert sess.run(tf.add(tf.constant(np.int64(1)), 2**40)) == 2**40 + 1


# ----------------------------------------------------------------------------------------------------------
# MatMul
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_matmul_with_transposes_matches_numpy(sess, ta, tb):
    a = _rand((3, 4) if not ta else (4, 3), seed=5)
    b = _rand((4, 2) if not tb else (2, 4), seed=6)
    out = tf.matmul(tf.constant(a), tf.constant(b), transpose_a=ta, transpose_b=tb)
    assert out.shape.as_list() == [3, 2]
    want = (a.T if ta else a) @ (b.T if tb else b)
    np.testing.assert_allclose(sess.run(out), want, rtol=1e-5)


def test_matmul_integers_and_unknown_dims(sess):
    a = tf.placeholder(tf.int32, shape=[None, 2])
    b = tf.constant([[1, 2, 3], [4, 5, 6]])
    out = tf.matmul(a, b)
    assert out.shape.as_list() == [None, 3]
    x = np.array([[1, 1], [2, 0]], np.int32)
    np.testing.assert_array_equal(sess.run(out, {a: x}), x @ np.array([[1, 2, 3], [4, 5, 6]]))


def test_matmul_shape_errors():
    with pytest.raises(ValueError, match="must have rank 2"):
        tf.matmul(tf.constant([1.0, 2.0]), tf.constant([[1.0]]))
    with pytest.raises(ValueError, match="Dimensions must be equal, but are 2 and 1"):
        tf.matmul(tf.constant([[1.0, 2.0]]), tf.constant([[1.0]]))


def test_matmul_run_time_shape_error(sess):
    a = tf.placeholder(tf.float32, shape=[None, None])
    out = tf.matmul(a, a)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Matrix size-incompatible"):
        sess.run(out, {a: np.zeros((2, 3))})


# ----------------------------------------------------------------------------------------------------------
# Cast, Reshape, Shape
# ----------------------------------------------------------------------------------------------------------
def test_cast(sess):
    x = np.array([-1.7, 0.0, 2.7], np.float32)
    c = tf.cast(tf.constant(x), tf.int32)
    assert c.dtype == tf.int32 and c.op.type == "Cast"
    np.testing.assert_array_equal(sess.run(c), x.astype(np.int32))  # truncation toward zero
    np.testing.assert_array_equal(sess.run(tf.cast(tf.constant([0, 2]), tf.bool)), [False, True])
    f = sess.run(tf.cast(tf.constant([1, 2]), tf.float64))
    assert f.dtype == np.float64
    assert sess.run(tf.to_float(tf.constant(3))) == 3.0
    same = tf.constant(1.0)
    assert tf.cast(same, tf.float32) is same  # casting to the same dtype is the identity


def test_reshape_with_inferred_dimension(sess):
    x = np.arange(12, dtype=np.float32)
    r = tf.reshape(tf.constant(x), [-1, 4])
    assert r.shape.as_list() == [3, 4]
    np.testing.assert_array_equal(sess.run(r), x.reshape(-1, 4))
    p = tf.placeholder(tf.float32, shape=[None, 6])
    r2 = tf.reshape(p, [-1, 3])
    assert r2.shape.as_list() == [None, 3]
    np.testing.assert_array_equal(sess.run(r2, {p: x.reshape(2, 6)}), x.reshape(4, 3))


def test_reshape_errors():
    with pytest.raises(ValueError, match="Cannot reshape a tensor with 3 elements"):
        tf.reshape(tf.constant([1, 2, 3]), [2, 2])
    p = tf.placeholder(tf.int32)
    r = tf.reshape(p, [2, 2])
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="Input to reshape is a tensor with 3 values"):
            sess.run(r, {p: [1, 2, 3]})


def test_shape_op(sess):
    p = tf.placeholder(tf.float32, shape=[None, 3])
    s = tf.shape(p)
    assert s.dtype == tf.int32 and s.shape.as_list() == [2]
    v = sess.run(s, {p: np.zeros((5, 3))})
    assert v.dtype == np.int32
    np.testing.assert_array_equal(v, [5, 3])
    s64 = tf.shape(p, out_type=tf.int64)
    assert sess.run(s64, {p: np.zeros((2, 3))}).dtype == np.int64
    np.testing.assert_array_equal(sess.run(tf.shape(tf.constant(1.0))), np.zeros(0))
    assert sess.run(tf.size(tf.constant(np.zeros((2, 3))))) == 6
    assert sess.run(tf.rank(tf.constant(np.zeros((2, 3))))) == 2


# ----------------------------------------------------------------------------------------------------------
# Reductions
# ----------------------------------------------------------------------------------------------------------
_REDUCTIONS = [
    (tf.reduce_sum, np.sum), (tf.reduce_mean, np.mean), (tf.reduce_max, np.max), (tf.reduce_min, np.min),
    (tf.reduce_prod, np.prod),
]


@pytest.mark.parametrize("tf_fn,np_fn", _REDUCTIONS, ids=[f[0].__name__ for f in _REDUCTIONS])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, [0, 2], (1, -1), []])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_match_numpy(sess, tf_fn, np_fn, axis, keepdims):
    x = _rand((2, 3, 4), seed=7)
    out = tf_fn(tf.constant(x), axis=axis, keepdims=keepdims)
    np_axis = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    want = np_fn(x, axis=np_axis, keepdims=keepdims)
    assert out.shape.as_list() == list(np.shape(want))
    got = sess.run(out)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_reduction_aliases_reduction_indices_and_keep_dims(sess):
    x = np.arange(6, dtype=np.int32).reshape(2, 3)
    out = tf.reduce_sum(tf.constant(x), reduction_indices=[0], keep_dims=True)
    np.testing.assert_array_equal(sess.run(out), x.sum(axis=0, keepdims=True))
    with pytest.raises(ValueError):
        tf.reduce_sum(tf.constant(x), axis=0, reduction_indices=0)


def test_integer_mean_truncates_like_tf(sess):
    assert sess.run(tf.reduce_mean(tf.constant([1, 2]))) == 1
    assert sess.run(tf.reduce_mean(tf.constant([-1, -2]))) == -1


def test_reductions_over_unknown_rank_and_tensor_axes(sess):
    p = tf.placeholder(tf.float32)
    total = tf.reduce_sum(p)
    x = _rand((2, 5), seed=8)
    np.testing.assert_allclose(sess.run(total, {p: x}), x.sum(), rtol=1e-5)
    axis = tf.placeholder(tf.int32)
    np.testing.assert_allclose(sess.run(tf.reduce_max(p, axis=axis), {p: x, axis: 1}), x.max(axis=1))


def test_bool_reductions(sess):
    x = np.array([[True, False], [True, True]])
    np.testing.assert_array_equal(sess.run(tf.reduce_all(tf.constant(x), axis=1)), x.all(axis=1))
    np.testing.assert_array_equal(sess.run(tf.reduce_any(tf.constant(x), axis=0)), x.any(axis=0))
    assert sess.run(tf.reduce_all(tf.constant(x))) == np.False_


def test_empty_reductions_give_identity_elements(sess):
    empty = tf.constant(np.zeros((0, 3), np.float32))
    np.testing.assert_array_equal(sess.run(tf.reduce_sum(empty, axis=0)), np.zeros(3))
    np.testing.assert_array_equal(sess.run(tf.reduce_prod(empty, axis=0)), np.ones(3))
    np.testing.assert_array_equal(sess.run(tf.reduce_max(empty, axis=0)), np.full(3, -np.inf))


def test_invalid_reduction_axis():
    with pytest.raises(ValueError, match="Invalid reduction dimension"):
        tf.reduce_sum(tf.constant([[1, 2]]), axis=2)
    p = tf.placeholder(tf.float32)
    out = tf.reduce_sum(p, axis=3)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="Invalid reduction dimension"):
            sess.run(out, {p: np.zeros((2, 2))})


def test_argmax_argmin(sess):
    x = _rand((3, 4), seed=9)
    np.testing.assert_array_equal(sess.run(tf.argmax(tf.constant(x), axis=1)), x.argmax(axis=1))
    np.testing.assert_array_equal(sess.run(tf.argmin(tf.constant(x), axis=0)), x.argmin(axis=0))
    assert tf.argmax(tf.constant(x), axis=1).dtype == tf.int64
