"""TensorProto conversion (`tf.make_tensor_proto` / `tf.make_ndarray`): TensorFlow's layout (a single value in
its typed field, several in tensor_content, strings in string_val) and exact round trips for every dtype."""

import numpy as np
import pytest

import tfmini as tf
from tfmini.protobuf import tensor_pb2, types_pb2

_VALUES = [
    np.float32(5.0), np.float64(-2.5), np.float16(1.5), np.int8(-3), np.int16(300), np.int32(7),
    np.int64(2**40), np.uint8(200), np.uint16(60000), np.uint32(2**31), np.uint64(2**63), np.bool_(True),
    np.complex64(1 + 2j), np.complex128(-1 - 0.5j),
]


@pytest.mark.parametrize("value", _VALUES, ids=lambda v: type(v).__name__)
def test_a_single_value_goes_into_the_typed_field_and_round_trips(value):
    proto = tf.make_tensor_proto(value)
    assert not proto.tensor_content
    back = tf.make_ndarray(proto)
    assert back.dtype == value.dtype and back.shape == () and back == value


@pytest.mark.parametrize("value", _VALUES, ids=lambda v: type(v).__name__)
def test_several_values_go_into_tensor_content_and_round_trip(value):
    arr = np.full((2, 3), value)
    proto = tf.make_tensor_proto(arr)
    assert len(proto.tensor_content) == arr.nbytes
    back = tf.make_ndarray(proto)
    assert back.dtype == arr.dtype and np.array_equal(back, arr)


def test_scalar_float_constant_is_written_as_tensorflow_writes_it():
    c = tf.constant(5.0)
    tensor = c.op.node_def.attr["value"].tensor
    assert list(tensor.float_val) == [5.0] and tensor.dtype == tf.float32.as_datatype_enum


def test_strings_and_empty_arrays_round_trip():
    strings = np.array([[b"a", b"<b>"], [b"", b"\xff"]], dtype=object)
    proto = tf.make_tensor_proto(strings)
    assert list(proto.string_val) == [b"a", b"<b>", b"", b"\xff"]
    assert tf.make_ndarray(proto).tolist() == strings.tolist()
    empty = tf.make_ndarray(tf.make_tensor_proto(np.zeros((0, 4), np.float32)))
    assert empty.shape == (0, 4) and empty.dtype == np.float32


def test_a_string_tensor_proto_without_values_holds_empty_strings():
    proto = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING)
    proto.tensor_shape.dim.add(size=3)
    assert tf.make_ndarray(proto).tolist() == [b"", b"", b""]


def test_make_tensor_proto_pads_with_the_last_value_and_refuses_too_many():
    np.testing.assert_array_equal(tf.make_ndarray(tf.make_tensor_proto([1, 2], shape=[4])), [1, 2, 2, 2])
    with pytest.raises(ValueError, match="Too many elements provided. Needed at most 2, but received 3"):
        tf.make_tensor_proto([1, 2, 3], shape=[2])


def test_make_tensor_proto_allow_broadcast_fills_from_one_value_only():
    np.testing.assert_array_equal(tf.make_ndarray(tf.make_tensor_proto(3.0, shape=[2, 2], allow_broadcast=True)),
                                  np.full((2, 2), 3.0, np.float32))
    np.testing.assert_array_equal(tf.make_ndarray(tf.make_tensor_proto([5], shape=[3], allow_broadcast=True)),
                                  [5, 5, 5])
    with pytest.raises(TypeError, match=r"Expected Tensor's shape: \(4,\), got \(2,\)"):
        tf.make_tensor_proto([1, 2], shape=[4], allow_broadcast=True)
    with pytest.raises(ValueError, match="allow_broadcast and verify_shape are not both allowed"):
        tf.make_tensor_proto([1], shape=[1], verify_shape=True, allow_broadcast=True)


def test_get_static_value_reads_what_the_graph_determines_and_then_refuses_feeds():
    with tf.Graph().as_default() as g:
        c = tf.constant([1, 2])
        shape = tf.shape(tf.zeros([3, 4]))
        p = tf.placeholder(tf.float32, [None])
        assert tf.get_static_value(c).tolist() == [1, 2]
        assert tf.get_static_value(shape).tolist() == [3, 4]
        assert tf.get_static_value(p) is None and g.is_feedable(p)
        assert tf.get_static_value(7) == 7
        assert not g.is_feedable(c)
        with tf.Session() as sess, pytest.raises(ValueError, match="may not be fed"):
            sess.run(c, {c: [5, 6]})


def test_is_tensor_counts_tensors_variables_and_composites_not_arrays():
    with tf.Graph().as_default():
        assert tf.is_tensor(tf.constant(1.0)) and tf.is_tensor(tf.Variable(1.0))
        assert tf.is_tensor(tf.SparseTensor([[0]], [1.0], [2]))
        assert not tf.is_tensor(np.ones(2)) and not tf.is_tensor(3) and not tf.is_tensor([tf.constant(1.0)])
