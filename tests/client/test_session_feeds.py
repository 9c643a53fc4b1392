"""Session.run feed_dict forms: Tensor keys (placeholders and any other tensor), string keys, SparseTensor
keys with SparseTensorValues, nested tuple keys, TensorHandles as values; the placeholder shape check, dtype
conversion of values, and the TypeError / ValueError of bad keys and values."""

import numpy as np
import pytest

import tfmini as tf


# ----------------------------------------------------------------------------------------------------------
# Value forms
# ----------------------------------------------------------------------------------------------------------
def test_feed_python_scalars_lists_strings_and_arrays(sess):
    f = tf.placeholder(tf.float32)
    i = tf.placeholder(tf.int64)
    s = tf.placeholder(tf.string)
    b = tf.placeholder(tf.bool)
    assert sess.run(f * 2.0, {f: 3}) == 6.0
    np.testing.assert_array_equal(sess.run(f, {f: [[1, 2]]}), np.array([[1.0, 2.0]], np.float32))
    out = sess.run(i, {i: np.array([1, 2], np.int32)})
    assert out.dtype == np.int64
    assert sess.run(s, {s: "héllo"}) == "héllo".encode()
    assert sess.run(s, {s: [b"x", "y"]}).tolist() == [b"x", b"y"]
    assert sess.run(b, {b: True}) is np.True_


def test_fed_values_are_converted_to_the_tensor_dtype(sess):
    f = tf.placeholder(tf.float32)
    v = sess.run(f, {f: np.array([1.5, 2.5], np.float64)})
    assert v.dtype == np.float32
    assert sess.run(f, {f: np.float64(0.1)}) == np.float32(0.1)
    i = tf.placeholder(tf.int32)
    assert sess.run(i, {i: 2.7}) == 2  # NumPy conversion, as in TF


def test_python_int_that_does_not_fit_raises_type_error(sess):
    i = tf.placeholder(tf.int32)
    with pytest.raises(TypeError, match="is not compatible with Tensor type int32"):
        sess.run(i, {i: 2**40})
    big = tf.placeholder(tf.int64)
    assert sess.run(big, {big: 2**40}) == 2**40
    f = tf.placeholder(tf.float32)
    with pytest.raises(TypeError, match="is not compatible with Tensor type float32"):
        sess.run(f, {f: 2**24 + 1})


def test_unconvertible_values_raise_value_error(sess):
    f = tf.placeholder(tf.float32)
    with pytest.raises(ValueError):
        sess.run(f, {f: "abc"})
    with pytest.raises(ValueError):
        sess.run(f, {f: [["a", "b"]]})
    with pytest.raises(ValueError):
        sess.run(f, {f: [[1.0], [2.0, 3.0]]})


def test_feed_value_that_is_a_tensor_raises_type_error(sess):
    p = tf.placeholder(tf.float32)
    c = tf.constant(1.0)
    with pytest.raises(TypeError, match="The value of a feed cannot be a tf.Tensor object"):
        sess.run(p, {p: c})


def test_feed_value_that_is_a_tensor_raises_type_error_on_cached_runners_and_callables(sess):
    p = tf.placeholder(tf.float32, shape=[2])
    y = p * 2.0
    c = tf.constant([1.0, 2.0])
    sess.run(y, {p: [1.0, 2.0]})  # caches a runner for this (fetch, feed keys) signature
    with pytest.raises(TypeError, match="The value of a feed cannot be a tf.Tensor object"):
        sess.run(y, {p: c})
    with pytest.raises(TypeError, match="The value of a feed cannot be a tf.Tensor object"):
        sess.make_callable(y, [p])(c)


def test_feeding_does_not_alias_the_callers_array(sess):
    p = tf.placeholder(tf.float32, shape=[2])
    x = np.array([1.0, 2.0], np.float32)
    for fetch in (p, tf.identity(p), tf.reshape(p, [2])):
        out = sess.run(fetch, {p: x})
        out[0] = 100.0  # the caller may mutate what run() returns ...
        assert x[0] == 1.0  # ... without touching the array it fed
    assert x.flags.writeable


# ----------------------------------------------------------------------------------------------------------
# Key forms
# ----------------------------------------------------------------------------------------------------------
def test_string_keys_name_tensors(sess):
    p = tf.placeholder(tf.float32, name="p")
    assert sess.run(p + 1.0, {"p:0": 1.0}) == 2.0
    assert sess.run(p + 1.0, {b"p:0": 2.0}) == 3.0


def test_any_tensor_can_be_fed_and_its_producers_are_not_run(sess):
    a = tf.constant([1.0, 2.0])
    b = a * 2.0
    c = b + 1.0
    np.testing.assert_array_equal(sess.run(c, {a: [10.0, 20.0]}), [21.0, 41.0])
    np.testing.assert_array_equal(sess.run(c, {b: [0.0, 0.0]}), [1.0, 1.0])
    unfed = tf.placeholder(tf.float32, shape=[2])
    mid = unfed * 3.0
    out = mid - 1.0
    # The producer of a fed tensor is not run, so the unfed placeholder upstream does not matter.
    np.testing.assert_array_equal(sess.run(out, {mid: [1.0, 1.0]}), [0.0, 0.0])
    with pytest.raises(tf.errors.InvalidArgumentError):
        sess.run(out)


def test_feeding_a_fetched_tensor_returns_the_fed_value(sess):
    a = tf.constant(1.0) + 1.0
    assert sess.run(a, {a: 5.0}) == 5.0


def test_feed_shape_is_checked_against_any_tensor_static_shape(sess):
    a = tf.constant([1.0, 2.0])
    with pytest.raises(ValueError, match=r"Cannot feed value of shape \(3,\)"):
        sess.run(a, {a: [1.0, 2.0, 3.0]})


def test_placeholder_shape_check(sess):
    p = tf.placeholder(tf.float32, shape=[None, 2, None])
    assert sess.run(p, {p: np.zeros((3, 2, 5))}).shape == (3, 2, 5)
    for bad in (np.zeros((3, 3, 5)), np.zeros((3, 2)), 1.0):
        with pytest.raises(ValueError, match="Cannot feed value of shape"):
            sess.run(p, {p: bad})
    scalar = tf.placeholder(tf.float32, shape=[])
    with pytest.raises(ValueError, match=r"which has shape '\(\)'"):
        sess.run(scalar, {scalar: [1.0]})


def test_nested_tuple_keys(sess):
    x = tf.placeholder(tf.float32)
    y = tf.placeholder(tf.float32)
    z = tf.placeholder(tf.float32)
    assert sess.run(x + y, {(x, y): (1.0, 2.0)}) == 3.0
    assert sess.run(x + y + z, {(x, (y, z)): (1.0, (10.0, 100.0))}) == 111.0
    assert sess.run(x * y, {(x, y): [3.0, 4.0]}) == 12.0
    with pytest.raises(ValueError):
        sess.run(x + y, {(x, y): (1.0,)})


def test_sparse_tensor_keys_take_sparse_tensor_values(sess):
    sp = tf.sparse_placeholder(tf.float32)
    dense = tf.sparse_tensor_to_dense(sp)
    value = tf.SparseTensorValue(indices=[[0, 1], [1, 0]], values=[5.0, 6.0], dense_shape=[2, 2])
    np.testing.assert_array_equal(sess.run(dense, {sp: value}), [[0.0, 5.0], [6.0, 0.0]])
    as_tuple = (np.array([[0, 0]]), np.array([7.0]), np.array([1, 1]))
    np.testing.assert_array_equal(sess.run(dense, {sp: as_tuple}), [[7.0]])
    fetched = sess.run(sp, {sp: value})
    assert isinstance(fetched, tf.SparseTensorValue)
    np.testing.assert_array_equal(fetched.values, [5.0, 6.0])


def test_sparse_tensor_feed_errors(sess):
    sp = tf.sparse_placeholder(tf.float32)
    dense = tf.sparse_tensor_to_dense(sp)
    st = tf.SparseTensor(indices=[[0, 0]], values=[1.0], dense_shape=[1, 1])
    with pytest.raises(TypeError):
        sess.run(dense, {sp: st})
    with pytest.raises(TypeError):
        sess.run(dense, {sp: [1.0, 2.0]})


def test_sparse_placeholder_with_static_shape(sess):
    sp = tf.sparse_placeholder(tf.float32, shape=[3, 2])
    total = tf.sparse_reduce_sum(sp)
    value = tf.SparseTensorValue([[0, 0], [2, 1]], [1.5, 2.5], [3, 2])
    assert sess.run(total, {sp: value}) == 4.0


def test_sparse_tensor_inside_nested_tuple_key(sess):
    sp = tf.sparse_placeholder(tf.float32)
    p = tf.placeholder(tf.float32)
    out = tf.sparse_reduce_sum(sp) + p
    value = tf.SparseTensorValue([[0]], [2.0], [4])
    assert sess.run(out, {(sp, p): (value, 1.0)}) == 3.0


# ----------------------------------------------------------------------------------------------------------
# Bad keys and feed_dicts
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", [3, 2.5, object()])
def test_non_tensor_keys_raise_type_error(sess, key):
    c = tf.constant(1.0)
    with pytest.raises(TypeError, match="Cannot interpret feed_dict key as Tensor"):
        sess.run(c, {key: 1.0})


def test_string_keys_that_do_not_name_a_tensor_raise_type_error(sess):
    p = tf.placeholder(tf.float32, name="p")
    with pytest.raises(TypeError, match="Cannot interpret feed_dict key as Tensor: The name 'p' refers to an "
                                        "Operation, not a Tensor"):
        sess.run(p, {"p": 1.0})
    with pytest.raises(TypeError, match="Cannot interpret feed_dict key as Tensor"):
        sess.run(p, {"nope:0": 1.0})
    with pytest.raises(TypeError, match="Cannot interpret feed_dict key as Tensor"):
        sess.run(p, {p.op: 1.0})


def test_key_from_another_graph_raises_type_error(sess):
    p = tf.placeholder(tf.float32)
    with tf.Graph().as_default():
        other = tf.placeholder(tf.float32)
    with pytest.raises(TypeError, match="not an element of this graph"):
        sess.run(p, {other: 1.0, p: 1.0})


def test_feed_dict_must_be_a_dict(sess):
    p = tf.placeholder(tf.float32)
    with pytest.raises(TypeError):
        sess.run(p, [(p, 1.0)])


def test_unfeedable_tensor_raises_value_error(sess):
    c = tf.constant(1.0)
    tf.get_default_graph().prevent_feeding(c)
    with pytest.raises(ValueError, match="may not be fed"):
        sess.run(c, {c: 2.0})


def test_empty_and_none_feed_dicts(sess):
    c = tf.constant(1.0)
    assert sess.run(c, {}) == 1.0
    assert sess.run(c, None) == 1.0


def test_feeds_are_per_run(sess):
    p = tf.placeholder(tf.float32)
    assert sess.run(p, {p: 1.0}) == 1.0
    with pytest.raises(tf.errors.InvalidArgumentError):
        sess.run(p)


# ----------------------------------------------------------------------------------------------------------
# Array-likes: converted as TF converts them (np.asarray to the tensor's dtype), or refused
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
def test_a_fed_matrix_becomes_a_plain_2d_array(sess):
    p = tf.placeholder(tf.float32, shape=[2, 2])
    out = sess.run(tf.identity(p), {p: np.matrix([[1, 2], [3, 4]])})
    assert type(out) is np.ndarray and out.dtype == np.float32
    np.testing.assert_array_equal(out, [[1.0, 2.0], [3.0, 4.0]])


def test_a_masked_array_is_refused_naming_the_tensor_and_the_remedy(sess):
    p = tf.placeholder(tf.float32, name="masked_feed")
    y = p * 2.0
    masked = np.ma.masked_array([1.0, 2.0, 3.0], mask=[False, True, False])
    for run in (lambda v: sess.run(y, {p: v}), lambda v: sess.run(y, {p: v}), sess.make_callable(y, [p])):
        with pytest.raises(TypeError, match=r"masked_feed:0.*\.filled\(fill_value\).*np\.asarray\(x\.data\)"):
            run(masked)
    np.testing.assert_array_equal(sess.run(y, {p: masked.filled(0.0)}), [2.0, 0.0, 6.0])
    np.testing.assert_array_equal(sess.run(y, {p: np.asarray(masked.data)}), [2.0, 4.0, 6.0])


def test_the_masked_constant_is_refused(sess):
    p = tf.placeholder(tf.float32, name="masked_scalar")
    with pytest.raises(TypeError, match="masked_scalar:0"):
        sess.run(p, {p: np.ma.masked})


def test_conversion_errors_name_the_fed_tensor(sess):
    p = tf.placeholder(tf.float32, name="ragged_feed")
    with pytest.raises(ValueError, match="ragged_feed:0"):
        sess.run(p, {p: [[1.0], [2.0, 3.0]]})
    with pytest.raises(TypeError, match="ragged_feed:0"):
        sess.run(p, {p: {"not": "numbers"}})
    s = tf.placeholder(tf.string, name="string_feed")
    with pytest.raises(TypeError, match="string_feed:0"):
        sess.run(s, {s: [1, 2]})
    i = tf.placeholder(tf.int8, name="small_int_feed")
    with pytest.raises(TypeError, match="small_int_feed:0"):
        sess.run(i, {i: [2**70]})
    assert sess.run(p, {p: 1.5}) == 1.5  # the session still runs


def test_an_error_message_shows_a_huge_feed_value_truncated(sess):
    i = tf.placeholder(tf.int8, name="huge_feed")
    with pytest.raises(TypeError) as info:
        sess.run(i, {i: [1] * 100_000 + [2**70]})
    assert len(str(info.value)) < 2_000


def test_undecodable_bytes_in_a_list_raise_value_error_naming_the_tensor(sess):
    # NumPy raises UnicodeDecodeError (a ValueError that cannot be rebuilt from a message alone).
    p = tf.placeholder(tf.complex64, name="bytes_feed")
    with pytest.raises(ValueError, match="bytes_feed:0"):
        sess.run(p, {p: [b"\x80"]})
    assert sess.run(p, {p: 1j}) == 1j
