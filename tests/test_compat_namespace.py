"""tf.compat (tfmini/compat/__init__.py and the shape helpers it shares with tf.*): tf.compat.v1 is tfmini
itself, the bytes/text/path helpers and dimension_value/dimension_at_index give what TensorFlow gives, and the
version constants are declared names."""

import pathlib

import pytest

import tfmini as tf


def test_compat_v1_is_tfmini_itself_and_a_declared_name():
    assert tf.compat.v1 is tf
    assert "v1" in tf.compat.__all__
    assert tf.compat.v1.Session is tf.Session


def test_bytes_and_text_helpers():
    assert tf.compat.as_bytes("é") == "é".encode() and tf.compat.as_bytes(bytearray(b"a")) == b"a"
    assert tf.compat.as_text(b"ab") == "ab" and tf.compat.as_str is tf.compat.as_text
    # as_str_any decodes bytes and str()s anything else (values checked against TensorFlow)
    assert tf.compat.as_str_any(b"ab") == "ab" and tf.compat.as_str_any(3) == "3" and tf.compat.as_str_any("x") == "x"
    with pytest.raises(TypeError, match="Expected binary or unicode string"):
        tf.compat.as_bytes(3)


def test_path_to_str_converts_path_like_objects_only():
    assert tf.compat.path_to_str(pathlib.Path("/a/b")) == "/a/b"
    assert tf.compat.path_to_str(5) == 5 and tf.compat.path_to_str(b"x") == b"x"


def test_dimension_value_and_dimension_at_index():
    assert tf.compat.dimension_value is tf.dimension_value
    assert tf.dimension_value(tf.Dimension(4)) == 4 and tf.dimension_value(None) is None
    assert tf.dimension_value(7) == 7
    shape = tf.TensorShape([None, 3])
    assert tf.compat.dimension_at_index is tf.dimension_at_index
    assert repr(tf.dimension_at_index(shape, 1)) == "Dimension(3)"
    assert repr(tf.dimension_at_index(shape, 0)) == "Dimension(None)"
    assert repr(tf.dimension_at_index(tf.TensorShape(None), 4)) == "Dimension(None)"  # unknown rank: any index
    assert tf.dimension_at_index([2, 5], 1).value == 5
    with pytest.raises(IndexError):
        tf.dimension_at_index(tf.TensorShape([1]), 3)


def test_version_constants():
    assert tf.VERSION.startswith("1.15") and isinstance(tf.__version__, str)
    assert tf.GRAPH_DEF_VERSION == tf.Graph().as_graph_def().versions.producer
    assert tf.GRAPH_DEF_VERSION_MIN_CONSUMER == 0 and tf.GRAPH_DEF_VERSION_MIN_PRODUCER == 0
