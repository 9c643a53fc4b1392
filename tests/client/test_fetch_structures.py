"""Session.run fetch structures: single elements, lists, tuples, namedtuples, dicts, OrderedDicts,
defaultdicts and any nesting of them; Operations fetch None, SparseTensors fetch SparseTensorValues,
session-handle ops fetch TensorHandles, names fetch what they name; repeated fetches are computed once;
bad fetches raise TypeError / ValueError."""

import collections

import numpy as np
import pytest

import tfmini as tf
from tfmini.client import fetch as fetch_lib


@pytest.fixture
def ab():
    return tf.constant([10, 20], name="a"), tf.constant([1.0, 2.0], name="b")


def _eq(x, y):
    np.testing.assert_array_equal(x, y)
    assert np.asarray(x).dtype == np.asarray(y).dtype


MyData = collections.namedtuple("MyData", ["a", "b"])


def test_single_tensor_fetch_is_an_ndarray(sess, ab):
    a, b = ab
    v = sess.run(a)
    assert isinstance(v, np.ndarray)
    _eq(v, np.array([10, 20], np.int32))


def test_scalar_fetch_is_a_numpy_scalar(sess):
    v = sess.run(tf.constant(2.5))
    assert isinstance(v, np.float32) and v == 2.5
    assert sess.run(tf.constant(True)) is np.True_


def test_list_and_tuple_fetches_keep_their_type(sess, ab):
    a, b = ab
    v = sess.run([a, b])
    assert type(v) is list and len(v) == 2
    _eq(v[0], np.array([10, 20], np.int32))
    _eq(v[1], np.array([1.0, 2.0], np.float32))
    t = sess.run((b, a))
    assert type(t) is tuple
    _eq(t[0], np.array([1.0, 2.0], np.float32))
    assert sess.run([]) == [] and sess.run(()) == ()


def test_reference_page_nested_example(sess, ab):
    a, b = ab
    v = sess.run({"k1": MyData(a, b), "k2": [b, a]})
    assert type(v) is dict and set(v) == {"k1", "k2"}
    assert type(v["k1"]) is MyData
    _eq(v["k1"].a, np.array([10, 20], np.int32))
    _eq(v["k1"].b, np.array([1.0, 2.0], np.float32))
    assert type(v["k2"]) is list
    _eq(v["k2"][0], np.array([1.0, 2.0], np.float32))
    _eq(v["k2"][1], np.array([10, 20], np.int32))


def test_ordered_dict_keeps_order_and_type(sess, ab):
    a, b = ab
    fetches = collections.OrderedDict([("z", a), ("y", b), ("x", (a,))])
    v = sess.run(fetches)
    assert type(v) is collections.OrderedDict
    assert list(v) == ["z", "y", "x"]
    assert type(v["x"]) is tuple


def test_defaultdict_keeps_its_default_factory(sess, ab):
    a, _ = ab
    fetches = collections.defaultdict(list)
    fetches["a"] = a
    v = sess.run(fetches)
    assert type(v) is collections.defaultdict and v.default_factory is list
    _eq(v["a"], np.array([10, 20], np.int32))
    assert v["missing"] == []


def test_dict_with_non_string_keys(sess, ab):
    a, b = ab
    v = sess.run({1: a, (2, 3): b})
    assert set(v) == {1, (2, 3)}


def test_deeply_nested_structures(sess, ab):
    a, b = ab
    fetches = [a, (b, {"x": [a, MyData(a=b, b=[a, (b,)])]}), [[[]]]]
    v = sess.run(fetches)
    _eq(v[0], np.array([10, 20], np.int32))
    inner = v[1][1]["x"][1]
    assert type(inner) is MyData
    _eq(inner.a, np.array([1.0, 2.0], np.float32))
    _eq(inner.b[1][0], np.array([1.0, 2.0], np.float32))
    assert v[2] == [[[]]]


def test_operation_fetches_none(sess, ab):
    a, _ = ab
    noop = tf.no_op()
    assert sess.run(noop) is None
    v = sess.run([a.op, a, {"op": noop}])
    assert v[0] is None and v[2] == {"op": None}
    _eq(v[1], np.array([10, 20], np.int32))


def test_string_names_fetch_tensors_and_ops(sess):
    c = tf.constant(3.0, name="c")
    assert sess.run("c:0") == 3.0
    assert sess.run("c") is None  # an op name fetches the op
    assert sess.run(b"c:0") == 3.0
    v = sess.run({"t": "c:0", "o": "c", "l": ["c:0", c]})
    assert v["t"] == 3.0 and v["o"] is None and v["l"] == [3.0, 3.0]


def test_sparse_tensor_fetches_sparse_tensor_value(sess):
    st = tf.SparseTensor(indices=[[0, 0], [1, 2]], values=[1.0, 2.0], dense_shape=[3, 4])
    v = sess.run(st)
    assert isinstance(v, tf.SparseTensorValue)
    _eq(v.indices, np.array([[0, 0], [1, 2]], np.int64))
    _eq(v.values, np.array([1.0, 2.0], np.float32))
    _eq(v.dense_shape, np.array([3, 4], np.int64))
    nested = sess.run({"sp": [st], "dense": tf.sparse_tensor_to_dense(st)})
    assert isinstance(nested["sp"][0], tf.SparseTensorValue)
    want = np.zeros((3, 4), np.float32)
    want[0, 0], want[1, 2] = 1.0, 2.0
    _eq(nested["dense"], want)


def test_session_handle_op_fetches_a_tensor_handle(sess):
    h = sess.run(tf.get_session_handle(tf.constant([1.0, 2.0]) * 3.0))
    assert isinstance(h, np.ndarray)
    assert h.eval().tolist() == [3.0, 6.0]
    both = sess.run([tf.get_session_handle(tf.constant(1)), tf.constant(2)])
    assert both[0].eval() == 1 and both[1] == 2


def test_duplicate_fetches_are_computed_once(sess):
    p = tf.placeholder(tf.float32)
    h = tf.get_session_handle(p * 2.0)  # stateful: each execution stores a new handle
    v = sess.run([h, h, {"again": h}, (h,)], {p: 1.0})
    handles = {v[0].handle, v[1].handle, v[2]["again"].handle, v[3][0].handle}
    assert len(handles) == 1  # one execution of the op, its value fanned out to every position
    x = tf.constant([1, 2])
    r = sess.run([x, x])
    _eq(r[0], r[1])


def test_unique_fetches_of_nested_mappers_are_deduplicated(ab):
    a, b = ab
    mapper = fetch_lib.FetchMapper.for_fetch({"x": [a, b, a], "y": (a, "b:0")}, tf.get_default_graph())
    assert mapper.unique_fetches == [a, b]


def test_fetched_values_can_be_mutated_freely(sess):
    c = tf.constant([1.0, 2.0])
    first = sess.run([c, c])
    first[0][0] = 100.0
    assert sess.run(c).tolist() == [1.0, 2.0]


# ----------------------------------------------------------------------------------------------------------
# Bad fetches
# ----------------------------------------------------------------------------------------------------------
def test_none_fetch_raises_type_error(sess, ab):
    a, _ = ab
    with pytest.raises(TypeError, match="Fetch argument None has invalid type"):
        sess.run(None)
    with pytest.raises(TypeError, match="Fetch argument None has invalid type"):
        sess.run([a, None])
    with pytest.raises(TypeError):
        sess.run({"x": None})


@pytest.mark.parametrize("bad", [3, 2.5, object(), np.float32(1.0), {1, 2}])
def test_non_graph_element_fetch_raises_type_error(sess, ab, bad):
    with pytest.raises(TypeError, match="has invalid type"):
        sess.run(bad)


def test_unknown_names_raise_value_error(sess, ab):
    with pytest.raises(ValueError, match="Fetch argument 'nope:0' cannot be interpreted as a Tensor"):
        sess.run("nope:0")
    with pytest.raises(ValueError, match="refers to an Operation not in the graph"):
        sess.run("nope")
    with pytest.raises(ValueError, match="only has 1 outputs"):
        sess.run("a:3")
    with pytest.raises(ValueError):
        sess.run("a:x")


def test_tensor_of_another_graph_raises_value_error(sess, ab):
    with tf.Graph().as_default():
        other = tf.constant(1.0)
    with pytest.raises(ValueError, match="is not an element of this graph"):
        sess.run(other)
    with pytest.raises(ValueError, match="is not an element of this graph"):
        sess.run([other.op])


def test_session_stays_usable_after_a_bad_fetch(sess, ab):
    a, _ = ab
    with pytest.raises(TypeError):
        sess.run([a, 3])
    _eq(sess.run(a), np.array([10, 20], np.int32))
