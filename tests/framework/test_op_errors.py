"""Errors `apply_op` raises while building an op, checked for TF 1.15's class and wording: type attrs given a
ref dtype or something that is no dtype, and inputs whose dtypes disagree with a type attr they share."""

import numpy as np
import pytest

import tfmini as tf
from tfmini.framework.registry import apply_op


# ----------------------------------------------------------------------------------------------------------
# Type attrs: a ref dtype stands for its base dtype (TF's _MakeType), anything else that is no dtype is a
# TypeError naming the attr
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "build,want_dtype,want_value",
    [
        (lambda: tf.constant(1.5, dtype=tf.float32._as_ref), tf.float32, 1.5),
        (lambda: tf.convert_to_tensor([1, 2], dtype=tf.int32._as_ref), tf.int32, [1, 2]),
        (lambda: tf.range(3, dtype=tf.int32._as_ref), tf.int32, [0, 1, 2]),
        (lambda: tf.argmax([1.0, 3.0, 2.0], output_type=tf.int64._as_ref), tf.int64, 1),
        (lambda: tf.cast([1.7, 2.2], tf.int32._as_ref), tf.int32, [1, 2]),
        (lambda: tf.zeros([2], dtype=tf.float64._as_ref), tf.float64, [0.0, 0.0]),
        (lambda: apply_op("Cast", [[1.5]], attrs={"DstT": tf.int64._as_ref}).outputs[0], tf.int64, [1]),
        (lambda: apply_op("Cast", [[1.5]], attrs={"DstT": "double_ref"}).outputs[0], tf.float64, [1.5]),
    ],
)
def test_ref_dtype_in_a_type_attr_means_its_base_dtype(sess, build, want_dtype, want_value):
    t = build()
    assert t.dtype == want_dtype and not t.dtype.is_ref
    for attr in ("dtype", "DstT", "output_type", "Tidx"):
        if attr in t.op.node_def.attr:
            assert not tf.as_dtype(t.op.get_attr(attr)).is_ref
    np.testing.assert_allclose(sess.run(t), want_value)


def test_placeholder_of_a_ref_dtype_is_a_placeholder_of_its_base_dtype(sess):
    p = tf.placeholder(tf.float32._as_ref, shape=[2])
    assert p.dtype == tf.float32
    np.testing.assert_allclose(sess.run(p * 2.0, {p: [1.0, 2.0]}), [2.0, 4.0])


def test_ref_dtype_names_convert_like_tf():
    assert tf.as_dtype("float_ref") is tf.float32._as_ref
    assert tf.as_dtype("double_ref") is tf.float64._as_ref
    assert tf.as_dtype("half_ref") is tf.float16._as_ref
    assert tf.as_dtype("float32_ref") is tf.float32._as_ref


@pytest.mark.parametrize("bad", ["foo", 3.5, None, [tf.float32]])
def test_type_attr_that_is_no_dtype_is_a_type_error_naming_the_attr(bad):
    with pytest.raises(TypeError, match=r"^Expected DataType for argument 'DstT' not "):
        apply_op("Cast", [[1.5]], attrs={"DstT": bad})


def test_ref_dtype_outside_the_allowed_types_is_refused_for_its_base_dtype():
    with pytest.raises(TypeError, match=r"^Value passed to parameter 'output_type' has DataType int16 not in "
                                        r"list of allowed values: int32, int64$"):
        apply_op("ArgMax", [[1.0, 2.0], 0], attrs={"output_type": tf.int16._as_ref})
    with pytest.raises(TypeError, match=r"^Value passed to parameter 'output_type' has DataType float32 not in "
                                        r"list of allowed values: int32, int64$"):
        tf.argmax([1.0, 2.0], output_type=tf.float32._as_ref)


def test_placeholder_of_no_dtype_is_a_type_error_naming_the_attr():
    with pytest.raises(TypeError, match=r"^Expected DataType for argument 'dtype' not 'foo'\.$"):
        tf.placeholder("foo")
