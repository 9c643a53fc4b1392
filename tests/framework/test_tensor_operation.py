"""tf.Operation and tf.Tensor: their properties, `eval()` / `run()`, the Python operators (forward and
reflected) and `__getitem__` slicing, checked against NumPy; and the TypeErrors of bool/iter/len."""

import operator

import numpy as np
import pytest

import tfmini as tf
from tfmini.protobuf import node_def_pb2


# ----------------------------------------------------------------------------------------------------------
# Operation
# ----------------------------------------------------------------------------------------------------------
def test_operation_properties():
    a = tf.constant(1.0, name="a")
    b = tf.placeholder(tf.float32, name="b")
    with tf.control_dependencies([b]):
        c = tf.add(a, b, name="c")
    op = c.op
    assert op.name == "c"
    assert op.type == "Add"
    assert op.graph is tf.get_default_graph()
    assert tuple(op.inputs) == (a, b)
    assert op.outputs == [c]
    assert op.control_inputs == []  # b is already a data input
    assert op.values() == (c,)
    assert op.get_attr("T") == tf.float32
    with pytest.raises(ValueError, match="no attr named"):
        op.get_attr("nope")
    assert a.op.control_inputs == []
    assert a.consumers() == [op] and b.consumers() == [op]


def test_operation_node_def_is_a_node_def_proto():
    c = tf.add(tf.constant(1, name="x"), tf.constant(2, name="y"), name="sum")
    nd = c.op.node_def
    assert isinstance(nd, node_def_pb2.NodeDef)
    assert nd.name == "sum" and nd.op == "Add"
    assert list(nd.input) == ["x", "y"]
    assert nd.attr["T"].type == tf.int32.as_datatype_enum


def test_node_def_names_non_first_outputs_with_index_and_control_inputs_with_caret():
    x = tf.constant(1.0, name="x")
    with tf.control_dependencies([x]):
        n = tf.no_op(name="n")
    assert list(n.node_def.input) == ["^x"]
    assert n.control_inputs == [x.op]
    assert n.outputs == []


def test_operation_records_where_user_code_created_it():
    c = tf.constant(1.0)
    file, line, _ = c.op.traceback
    assert file == __file__
    assert line == test_operation_records_where_user_code_created_it.__code__.co_firstlineno + 1


def test_operation_run_uses_the_default_session():
    p = tf.placeholder(tf.float32)
    op = tf.identity(p).op
    with tf.Session() as sess:
        assert op.run(feed_dict={p: 1.0}) is None
        with pytest.raises(tf.errors.InvalidArgumentError):
            op.run()
        assert sess is tf.get_default_session()


def test_operation_run_without_default_session_raises_value_error():
    op = tf.no_op()
    with pytest.raises(ValueError, match="No default session"):
        op.run()


def test_operation_run_in_session_of_another_graph_raises_value_error():
    op = tf.no_op()
    with tf.Graph().as_default():
        other = tf.Session()
    with pytest.raises(ValueError, match="graph"):
        op.run(session=other)
    with other.as_default():
        with pytest.raises(ValueError, match="graph is different"):
            op.run()
    other.close()


# ----------------------------------------------------------------------------------------------------------
# Tensor
# ----------------------------------------------------------------------------------------------------------
def test_tensor_properties():
    c = tf.constant([[1, 2, 3]], name="c")
    assert c.name == "c:0"
    assert c.value_index == 0
    assert c.dtype == tf.int32
    assert c.op.name == "c"
    assert c.graph is tf.get_default_graph()
    assert c.shape == tf.TensorShape([1, 3])
    assert c.get_shape().as_list() == [1, 3]
    assert "c:0" in repr(c) and "int32" in repr(c)
    assert str(c) == 'Tensor("c:0", shape=(1, 3), dtype=int32)'


def test_tensor_shape_with_unknown_dims_and_set_shape():
    p = tf.placeholder(tf.float32, shape=[None, 3])
    assert p.shape.as_list() == [None, 3]
    assert p.shape.ndims == 2
    assert not p.shape.is_fully_defined()
    p.set_shape([4, None])
    assert p.shape.as_list() == [4, 3]
    with pytest.raises(ValueError):
        p.set_shape([5, 3])
    with pytest.raises(ValueError):
        p.set_shape([4])
    u = tf.placeholder(tf.float32)
    assert u.shape.ndims is None
    u.set_shape([2, None])
    assert u.shape.as_list() == [2, None]


def test_tensor_names_of_multiple_outputs():
    st = tf.SparseTensor(indices=[[0, 0]], values=[1.0], dense_shape=[2, 2])
    assert st.indices.name.endswith(":0")
    add_n_inputs = [tf.constant(1.0), tf.constant(2.0), tf.constant(3.0)]
    total = tf.add_n(add_n_inputs)
    assert total.name == "AddN:0"


def test_tensor_eval_with_default_session_and_feed():
    p = tf.placeholder(tf.float32, shape=[2])
    y = p * 2.0
    with tf.Session():
        np.testing.assert_array_equal(y.eval(feed_dict={p: [1.0, 2.0]}), [2.0, 4.0])
    sess = tf.Session()
    np.testing.assert_array_equal(y.eval(feed_dict={p: [3.0, 4.0]}, session=sess), [6.0, 8.0])
    sess.close()


def test_tensor_eval_without_default_session_raises_value_error():
    c = tf.constant(1.0)
    with pytest.raises(ValueError, match="No default session is registered"):
        c.eval()


def test_tensor_eval_in_default_session_of_another_graph_raises_value_error():
    c = tf.constant(1.0)
    g = tf.Graph()
    with g.as_default():
        tf.constant(2.0)
    with tf.Session(graph=g) as other:
        with pytest.raises(ValueError, match="graph is different"):
            c.eval()
        with pytest.raises(ValueError, match="graph is different"):
            c.eval(session=other)


def test_tensor_bool_iter_len_raise_type_error():
    c = tf.constant([1, 2, 3])
    with pytest.raises(TypeError, match="as a Python `bool`"):
        bool(c)
    with pytest.raises(TypeError, match="as a Python `bool`"):
        if c:
            pass
    with pytest.raises(TypeError, match="only iterable when eager"):
        iter(c)
    with pytest.raises(TypeError, match="only iterable when eager"):
        a, b, d = c
    with pytest.raises(TypeError, match="len is not well defined"):
        len(c)


def test_tensor_is_hashable_by_identity():
    a = tf.constant(1)
    d = {a: "x"}
    assert d[a] == "x"
    assert (a == tf.constant(1)) is False


# ----------------------------------------------------------------------------------------------------------
# Operators
# ----------------------------------------------------------------------------------------------------------
_FLOAT_OPS = [
    ("add", operator.add), ("sub", operator.sub), ("mul", operator.mul), ("truediv", operator.truediv),
    ("floordiv", operator.floordiv), ("mod", operator.mod), ("pow", operator.pow),
    ("lt", operator.lt), ("le", operator.le), ("gt", operator.gt), ("ge", operator.ge),
]


@pytest.mark.parametrize("name,fn", _FLOAT_OPS)
def test_binary_operators_match_numpy_for_floats(sess, name, fn):
    x = np.array([[1.5, -2.0, 3.0], [0.5, 4.0, -1.25]], np.float32)
    y = np.array([2.0, 3.0, -2.0], np.float32)
    got = sess.run(fn(tf.constant(x), tf.constant(y)))
    want = fn(x, y)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("name,fn", _FLOAT_OPS)
def test_reflected_operators_with_python_scalars(sess, name, fn):
    t = tf.constant(np.float32(2.5))
    forward = sess.run(fn(t, 3.0))
    reflected = sess.run(fn(3.0, t))  # comparisons reflect to the swapped comparison
    np.testing.assert_allclose(forward, fn(np.float32(2.5), np.float32(3.0)), rtol=1e-6)
    np.testing.assert_allclose(reflected, fn(np.float32(3.0), np.float32(2.5)), rtol=1e-6)


def test_reflected_operators_with_numpy_arrays(sess):
    t = tf.constant(np.array([1.0, 2.0], np.float32))
    left = np.array([10.0, 20.0], np.float32)
    out = left - t
    assert isinstance(out, tf.Tensor)  # __array_priority__ makes NumPy defer to the Tensor
    np.testing.assert_array_equal(sess.run(out), [9.0, 18.0])
    np.testing.assert_array_equal(sess.run(left * t), [10.0, 40.0])


def test_integer_operators_follow_tf_semantics(sess):
    a = tf.constant(np.array([7, -7, 7, -7], np.int32))
    b = tf.constant(np.array([2, 2, -2, -2], np.int32))
    x, y = np.array([7, -7, 7, -7]), np.array([2, 2, -2, -2])
    np.testing.assert_array_equal(sess.run(a // b), x // y)  # floor division
    np.testing.assert_array_equal(sess.run(a % b), np.mod(x, y))  # floor modulo, sign of divisor
    truediv = sess.run(a / b)
    assert truediv.dtype == np.float64  # int32 / int32 -> float64, as in TF
    np.testing.assert_array_equal(truediv, x / y)
    assert sess.run(7 / tf.constant(2)) == 3.5


def test_unary_operators(sess):
    x = np.array([-1.5, 0.0, 2.0], np.float32)
    t = tf.constant(x)
    np.testing.assert_array_equal(sess.run(-t), -x)
    np.testing.assert_array_equal(sess.run(abs(t)), np.abs(x))
    b = tf.constant([True, False])
    np.testing.assert_array_equal(sess.run(~b), [False, True])


def test_logical_operators_on_bool_tensors(sess):
    p = np.array([True, True, False, False])
    q = np.array([True, False, True, False])
    tp, tq = tf.constant(p), tf.constant(q)
    np.testing.assert_array_equal(sess.run(tp & tq), p & q)
    np.testing.assert_array_equal(sess.run(tp | tq), p | q)
    np.testing.assert_array_equal(sess.run(tp ^ tq), p ^ q)
    np.testing.assert_array_equal(sess.run(True & tq), q)
    np.testing.assert_array_equal(sess.run(False | tq), q)
    np.testing.assert_array_equal(sess.run(True ^ tq), ~q)


def test_matmul_operator_and_reflected_matmul(sess):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_allclose(sess.run(tf.constant(a) @ tf.constant(b)), a @ b)
    np.testing.assert_allclose(sess.run(a @ tf.constant(b)), a @ b)


def test_operator_ops_are_named_after_the_operator():
    t = tf.constant(1.0)
    assert (t + 1.0).op.name == "add"
    assert (t - 1.0).op.name == "sub"
    assert (t * 1.0).op.name == "mul"
    assert (t / 1.0).op.name == "truediv"
    assert (1.0 + t).op.name == "add_1"
    assert (t + 1.0).op.inputs[1].op.name == "add_2/y"
    assert (2.0 * t).op.inputs[0].op.name == "mul_1/x"


def test_operators_convert_python_values_to_the_tensor_dtype(sess):
    t = tf.constant(np.float64(1.0))
    s = t + 1  # a Python int is converted to float64
    assert s.dtype == tf.float64
    assert sess.run(s) == 2.0
    i = tf.constant(3)
    with pytest.raises(TypeError):
        i + 1.5  # a float can't be converted to int32


def test_equality_operators_compare_identity_not_values():
    t = tf.constant(1.0)
    assert (t == t) is True
    assert (t == 1.0) is False
    assert (t != 1.0) is True


# ----------------------------------------------------------------------------------------------------------
# __getitem__
# ----------------------------------------------------------------------------------------------------------
_X = np.arange(2 * 3 * 4).reshape(2, 3, 4).astype(np.int32)
_NEWAXIS = None  # tf.newaxis is None


@pytest.mark.parametrize(
    "index",
    [
        0, -1, 1,
        (0, 1), (1, -1, -2),
        slice(None), slice(1, None), slice(None, 1), slice(None, None, -1),
        (slice(None), slice(None, None, 2)), (slice(None), slice(None, None, -2)),
        (slice(None), slice(2, 0, -1), slice(3, None, -2)),
        (slice(-1, None), slice(None, -1)),
        (Ellipsis, 1), (Ellipsis, slice(1, 3)), (0, Ellipsis), (Ellipsis,),
        (_NEWAXIS, 0), (0, _NEWAXIS), (Ellipsis, _NEWAXIS), (slice(1, None), _NEWAXIS, Ellipsis, slice(None, None, -2)),
        (0, slice(None), 2),
        (slice(5, 10),), (slice(-10, 10),),
    ],
)
def test_getitem_matches_numpy_basic_indexing(sess, index):
    t = tf.constant(_X)
    r = t[index]
    want = _X[index]
    got = sess.run(r)
    np.testing.assert_array_equal(got, want)
    assert r.shape.as_list() == list(want.shape)  # the static shape is inferred exactly


def test_getitem_with_tensor_indices(sess):
    t = tf.constant(_X)
    i = tf.constant(1)
    j = tf.placeholder(tf.int32, shape=[])
    np.testing.assert_array_equal(sess.run(t[i]), _X[1])
    np.testing.assert_array_equal(sess.run(t[i, :, i]), _X[1, :, 1])
    np.testing.assert_array_equal(sess.run(t[:, j], {j: 2}), _X[:, 2])
    np.testing.assert_array_equal(sess.run(t[j:, :j], {j: 1}), _X[1:, :1])
    np.testing.assert_array_equal(sess.run(t[tf.constant(np.int64(0))]), _X[0])


def test_getitem_unknown_shape_gives_unknown_dims(sess):
    p = tf.placeholder(tf.float32, shape=[None, 3])
    r = p[1:, ::-1]
    assert r.shape.as_list() == [None, 3]
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.testing.assert_array_equal(sess.run(r, {p: x}), x[1:, ::-1])


def test_getitem_invalid_indices_raise_type_error():
    t = tf.constant(_X)
    with pytest.raises(TypeError):
        t[1.5]
    with pytest.raises(TypeError):
        t[tf.constant(1.0)]
    with pytest.raises(TypeError):
        t["a"]


def test_getitem_out_of_range_index():
    t = tf.constant(_X)
    with pytest.raises(ValueError):
        t[5]  # known statically
    p = tf.placeholder(tf.int32, shape=[None])
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="out of bounds"):
            sess.run(p[3], {p: [1, 2]})


def test_getitem_zero_stride_raises_value_error_at_construction():
    t = tf.constant(_X)
    with pytest.raises(ValueError, match="must be non-zero"):
        t[::0]


def test_getitem_zero_stride_tensor_fails_at_run_time():
    t = tf.constant(_X)
    step = tf.placeholder(tf.int32, shape=[])
    r = t[::step]
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="must be non-zero"):
            sess.run(r, {step: 0})
        np.testing.assert_array_equal(sess.run(r, {step: -1}), _X[::-1])
