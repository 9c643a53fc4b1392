"""tf.DType (as_dtype, enums, classification, refs, limits) and tf.TensorShape / tf.Dimension."""

import pickle

import numpy as np
import pytest

import tfmini as tf
from tfmini.framework import dtypes
from tfmini.protobuf import tensor_shape_pb2, types_pb2

# (tf dtype, TF DataType enum name, numpy type)
_TYPES = [
    (tf.float16, "DT_HALF", np.float16),
    (tf.float32, "DT_FLOAT", np.float32),
    (tf.float64, "DT_DOUBLE", np.float64),
    (tf.int8, "DT_INT8", np.int8),
    (tf.int16, "DT_INT16", np.int16),
    (tf.int32, "DT_INT32", np.int32),
    (tf.int64, "DT_INT64", np.int64),
    (tf.uint8, "DT_UINT8", np.uint8),
    (tf.uint16, "DT_UINT16", np.uint16),
    (tf.uint32, "DT_UINT32", np.uint32),
    (tf.uint64, "DT_UINT64", np.uint64),
    (tf.bool, "DT_BOOL", np.bool_),
    (tf.complex64, "DT_COMPLEX64", np.complex64),
    (tf.complex128, "DT_COMPLEX128", np.complex128),
    (tf.string, "DT_STRING", np.object_),
]


@pytest.mark.parametrize("dt,enum_name,np_type", _TYPES, ids=[t[1] for t in _TYPES])
def test_dtype_enums_match_types_proto_and_numpy(dt, enum_name, np_type):
    enum = types_pb2.DataType.Value(enum_name)
    assert dt.as_datatype_enum == enum
    assert tf.as_dtype(enum) is dt
    assert tf.as_dtype(dt.name) is dt
    assert dt.as_numpy_dtype is np_type
    if np_type is not np.object_:
        assert tf.as_dtype(np_type) is dt
        assert tf.as_dtype(np.dtype(np_type)) is dt


def test_as_dtype_accepts_aliases_and_python_types():
    assert tf.as_dtype("float") is tf.float32
    assert tf.as_dtype("double") is tf.float64
    assert tf.as_dtype("half") is tf.float16
    assert tf.as_dtype(float) is tf.float32
    assert tf.as_dtype(bool) is tf.bool
    assert tf.as_dtype(np.dtype("S3")) is tf.string
    assert tf.as_dtype(np.dtype("U3")) is tf.string
    assert tf.as_dtype(tf.float32) is tf.float32
    assert tf.half is tf.float16 and tf.double is tf.float64


@pytest.mark.parametrize("bad", ["foo", 1000, None, object()])
def test_as_dtype_rejects_unknown_values(bad):
    with pytest.raises(TypeError, match="Cannot convert"):
        tf.as_dtype(bad)


def test_as_dtype_rejects_unhashable_values():
    with pytest.raises(TypeError):
        tf.as_dtype([tf.float32])


def test_dtype_classification():
    assert tf.float16.is_floating and tf.float32.is_floating and tf.float64.is_floating
    assert not tf.int32.is_floating and not tf.complex64.is_floating
    assert tf.int8.is_integer and tf.uint64.is_integer and not tf.float32.is_integer and not tf.bool.is_integer
    assert tf.uint8.is_unsigned and not tf.int8.is_unsigned
    assert tf.complex64.is_complex and not tf.float64.is_complex
    assert tf.bool.is_bool and not tf.int32.is_bool
    assert tf.complex64.real_dtype is tf.float32 and tf.complex128.real_dtype is tf.float64
    assert tf.float32.real_dtype is tf.float32


def test_ref_dtypes():
    ref = tf.float32._as_ref
    assert ref.is_ref and not tf.float32.is_ref
    assert ref.name == "float32_ref"
    assert ref.as_datatype_enum == types_pb2.DataType.Value("DT_FLOAT_REF")
    assert ref.base_dtype is tf.float32
    assert tf.float32.base_dtype is tf.float32
    assert ref._as_ref is ref
    assert tf.as_dtype("float32_ref") is ref
    assert ref.as_numpy_dtype is np.float32
    assert tf.float32.is_compatible_with(ref)
    assert not ref.is_compatible_with(tf.float32)
    assert ref != tf.float32


@pytest.mark.parametrize("dt", [tf.int8, tf.int16, tf.int32, tf.int64, tf.uint8, tf.uint16, tf.uint32, tf.uint64])
def test_integer_min_max(dt):
    info = np.iinfo(dt.as_numpy_dtype)
    assert dt.min == info.min and dt.max == info.max


@pytest.mark.parametrize("dt", [tf.float16, tf.float32, tf.float64])
def test_float_min_max(dt):
    info = np.finfo(dt.as_numpy_dtype)
    assert dt.min == info.min and dt.max == info.max


@pytest.mark.parametrize("dt", [tf.bool, tf.string, tf.complex64, tf.complex128])
def test_min_max_undefined_for_bool_string_complex(dt):
    with pytest.raises(TypeError, match="Cannot find minimum"):
        _ = dt.min
    with pytest.raises(TypeError, match="Cannot find m"):
        _ = dt.max


def test_dtype_equality_hash_repr_and_pickle():
    assert tf.float32 == tf.float32 and tf.float32 == "float32" and tf.float32 == np.float32
    assert tf.float32 != tf.float64
    assert tf.float32 != None  # noqa: E711 - DType.__eq__(None) is False
    assert tf.float32 != "not a dtype"
    assert len({tf.float32, tf.as_dtype("float32"), tf.float64}) == 2
    assert repr(tf.float32) == "tf.float32"
    assert tf.int32.name == "int32"
    assert pickle.loads(pickle.dumps(tf.int64)) is tf.int64
    assert tf.float32.size == 4 and tf.int64.size == 8 and tf.bool.size == 1


def test_dtypes_module_is_importable_as_in_tf():
    assert dtypes.float32 is tf.float32
    assert dtypes.as_dtype("int32") is tf.int32


# ----------------------------------------------------------------------------------------------------------
# Dimension
# ----------------------------------------------------------------------------------------------------------
def test_dimension_values_and_arithmetic():
    assert tf.Dimension(3).value == 3
    assert tf.Dimension(None).value is None
    assert tf.Dimension(tf.Dimension(4)).value == 4
    assert (tf.Dimension(3) + 2).value == 5
    assert (2 + tf.Dimension(3)).value == 5
    assert (tf.Dimension(3) * tf.Dimension(4)).value == 12
    assert (tf.Dimension(None) * 2).value is None
    assert (tf.Dimension(7) // 2).value == 3
    assert (tf.Dimension(7) - 2).value == 5
    assert int(tf.Dimension(5)) == 5
    assert str(tf.Dimension(None)) == "?" and str(tf.Dimension(2)) == "2"
    assert tf.dimension_value(tf.Dimension(3)) == 3 and tf.dimension_value(4) == 4


def test_dimension_equality_is_unknown_for_unknown_dims():
    assert tf.Dimension(3) == 3
    assert tf.Dimension(3) != 4
    assert (tf.Dimension(None) == 3) is None
    assert (tf.Dimension(None) != 3) is None


def test_dimension_compatibility_and_merge():
    assert tf.Dimension(3).is_compatible_with(3)
    assert tf.Dimension(None).is_compatible_with(3)
    assert not tf.Dimension(3).is_compatible_with(4)
    assert tf.Dimension(None).merge_with(3).value == 3
    with pytest.raises(ValueError):
        tf.Dimension(3).merge_with(4)


@pytest.mark.parametrize("bad,err", [(-1, ValueError), (2.5, TypeError), ("a", TypeError)])
def test_dimension_rejects_bad_values(bad, err):
    with pytest.raises(err):
        tf.Dimension(bad)


# ----------------------------------------------------------------------------------------------------------
# TensorShape
# ----------------------------------------------------------------------------------------------------------
def test_tensor_shape_queries():
    s = tf.TensorShape([None, 3])
    assert s.ndims == 2 and s.rank == 2 and len(s) == 2
    assert s.as_list() == [None, 3]
    assert s.dims[1].value == 3 and s[1].value == 3 and s[0].value is None
    assert s[1:] == tf.TensorShape([3])
    assert not s.is_fully_defined()
    assert s.num_elements() is None
    full = tf.TensorShape([2, 3])
    assert full.is_fully_defined() and full.num_elements() == 6
    assert tf.TensorShape([]).num_elements() == 1
    assert [d.value for d in full] == [2, 3]


def test_tensor_shape_str_and_repr():
    assert str(tf.TensorShape([None, 3])) == "(?, 3)"
    assert str(tf.TensorShape([3])) == "(3,)"
    assert str(tf.TensorShape([])) == "()"
    assert str(tf.TensorShape(None)) == "<unknown>"
    # TF 1.x's reprs, which notebooks compare as printed output
    assert repr(tf.TensorShape([None, 3])) == "TensorShape([Dimension(None), Dimension(3)])"
    assert repr(tf.TensorShape([])) == "TensorShape([])"
    assert repr(tf.TensorShape(None)) == "TensorShape(None)"
    assert repr(tf.Dimension(100)) == "Dimension(100)" and str(tf.Dimension(None)) == "?"


def test_unknown_rank_shape():
    u = tf.TensorShape(None)
    assert u.ndims is None and u.dims is None
    assert not u.is_fully_defined()
    assert u.is_compatible_with([1, 2, 3])
    with pytest.raises(ValueError):
        u.as_list()
    with pytest.raises(ValueError):
        len(u)
    assert u.merge_with([1, None]).as_list() == [1, None]


def test_tensor_shape_compatibility_and_merge():
    s = tf.TensorShape([None, 3])
    assert s.is_compatible_with([5, 3])
    assert not s.is_compatible_with([5, 4])
    assert not s.is_compatible_with([5, 3, 1])
    assert s.merge_with([2, None]).as_list() == [2, 3]
    with pytest.raises(ValueError):
        s.merge_with([2, 4])
    with pytest.raises(ValueError):
        s.assert_is_compatible_with([1])
    assert s.concatenate([7]).as_list() == [None, 3, 7]
    assert s.with_rank(2) is s
    with pytest.raises(ValueError):
        s.with_rank(3)
    with pytest.raises(ValueError):
        s.with_rank_at_least(3)
    assert tf.TensorShape(None).with_rank(2).as_list() == [None, None]


def test_tensor_shape_equality():
    assert tf.TensorShape([1, 2]) == tf.TensorShape([1, 2])
    assert tf.TensorShape([1, 2]) == [1, 2]
    assert tf.TensorShape([1, 2]) != tf.TensorShape([2, 1])


def test_tensor_shape_proto_round_trip():
    s = tf.TensorShape([None, 4])
    proto = s.as_proto()
    assert isinstance(proto, tensor_shape_pb2.TensorShapeProto)
    assert [d.size for d in proto.dim] == [-1, 4]
    assert tf.TensorShape(proto) == s
    unknown = tf.TensorShape(None).as_proto()
    assert unknown.unknown_rank
    assert tf.TensorShape(unknown).ndims is None


def test_tensor_shape_rejects_strings():
    with pytest.raises(TypeError):
        tf.TensorShape("12")


def test_quantized_dtypes_are_tfs():
    for dtype, enum, base in ((tf.qint8, 11, np.int8), (tf.quint8, 12, np.uint8), (tf.qint32, 13, np.int32),
                              (tf.qint16, 15, np.int16), (tf.quint16, 16, np.uint16)):
        assert dtype.as_datatype_enum == enum and tf.as_dtype(enum) is dtype and tf.as_dtype(dtype.name) is dtype
        assert dtype.is_quantized and not dtype.is_integer and not dtype.is_floating
        assert dtype.as_numpy_dtype == np.dtype([(dtype.name, base)])
        assert tf.as_dtype(dtype.as_numpy_dtype) is dtype
        with pytest.raises(TypeError, match=f"Cannot find minimum value of {dtype!r}"):
            dtype.min  # noqa: B018 - TF gives quantized types no limits
        with pytest.raises(TypeError, match=f"Cannot find maximum value of {dtype!r}"):
            dtype.max  # noqa: B018
        assert dtype._as_ref.name == dtype.name + "_ref" and tf.dtypes.as_dtype(dtype.name) is dtype
    assert not tf.int8.is_quantized
    assert tf.dtypes.qint8 is tf.qint8


def test_bfloat16_has_tfs_size_and_limits():
    # bfloat16 has no NumPy type here: its size and limits are its own, not float64's
    assert tf.bfloat16.size == 2 and tf.bfloat16.is_floating
    assert tf.bfloat16.max == pytest.approx(3.3895313892515355e38) and tf.bfloat16.min == -tf.bfloat16.max


def test_quantized_dtypes_set_is_tfs():
    names = sorted(d.name for d in tf.QUANTIZED_DTYPES)
    assert tf.dtypes.QUANTIZED_DTYPES is tf.QUANTIZED_DTYPES and isinstance(tf.QUANTIZED_DTYPES, frozenset)
    assert names == ["qint16", "qint16_ref", "qint32", "qint32_ref", "qint8", "qint8_ref", "quint16", "quint16_ref",
                     "quint8", "quint8_ref"]
    assert tf.qint8._as_ref.is_quantized and not tf.int8.is_quantized
