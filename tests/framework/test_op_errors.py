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


# ----------------------------------------------------------------------------------------------------------
# Inputs sharing a type attr: two tensors of different dtypes are TF's TypeError naming the op, the input and
# the argument that fixed the type, whichever way the op is reached (function, operator, method)
# ----------------------------------------------------------------------------------------------------------
def _int():
    return tf.constant([1, 2], name="i")


def _float():
    return tf.constant([1.0, 2.0], name="f")


def _mismatch(op_type, inp="y", arg="x", got="float32", want="int32"):
    return (rf"^Input '{inp}' of '{op_type}' Op has type {got} that does not match type {want} of argument "
            rf"'{arg}'\.$")


_BINARY_FUNCTIONS = {
    "add": "Add", "subtract": "Sub", "multiply": "Mul", "maximum": "Maximum", "minimum": "Minimum", "pow": "Pow",
    "floordiv": "FloorDiv", "floormod": "FloorMod", "squared_difference": "SquaredDifference", "equal": "Equal",
    "not_equal": "NotEqual", "less": "Less", "less_equal": "LessEqual", "greater": "Greater",
    "greater_equal": "GreaterEqual", "realdiv": "RealDiv", "truncatediv": "TruncateDiv",
    "truncatemod": "TruncateMod", "atan2": "Atan2",
}

_OPERATORS = {
    "+": (lambda a, b: a + b, "Add"), "-": (lambda a, b: a - b, "Sub"), "*": (lambda a, b: a * b, "Mul"),
    "//": (lambda a, b: a // b, "FloorDiv"), "%": (lambda a, b: a % b, "FloorMod"),
    "**": (lambda a, b: a**b, "Pow"), "<": (lambda a, b: a < b, "Less"), "<=": (lambda a, b: a <= b, "LessEqual"),
    ">": (lambda a, b: a > b, "Greater"), ">=": (lambda a, b: a >= b, "GreaterEqual"),
}


@pytest.mark.parametrize("fn_name", sorted(_BINARY_FUNCTIONS))
def test_binary_op_function_on_tensors_of_two_dtypes_is_a_type_error(fn_name):
    op_type = _BINARY_FUNCTIONS[fn_name]
    names = {"inp": "x", "arg": "y"} if op_type == "Atan2" else {}  # TF's Atan2 takes (y, x)
    with pytest.raises(TypeError, match=_mismatch(op_type, **names)):
        getattr(tf, fn_name)(_int(), _float())


@pytest.mark.parametrize("symbol", sorted(_OPERATORS))
def test_operator_on_tensors_of_two_dtypes_is_the_ops_type_error(symbol):
    fn, op_type = _OPERATORS[symbol]
    with pytest.raises(TypeError, match=_mismatch(op_type)):
        fn(_int(), _float())
    with pytest.raises(TypeError, match=_mismatch(op_type, got="int32", want="float32")):
        fn(_float(), _int())


def test_operator_on_a_variable_and_a_tensor_of_another_dtype_is_the_ops_type_error():
    v = tf.Variable([1.0, 2.0])
    with pytest.raises(TypeError, match=_mismatch("Add", got="int32", want="float32")):
        v + _int()
    with pytest.raises(TypeError, match=_mismatch("Mul", got="int32", want="float32")):
        v * _int()


def test_true_division_of_tensors_of_two_dtypes_is_tfs_type_error():
    for div in (lambda a, b: a / b, tf.truediv, tf.divide):
        with pytest.raises(TypeError, match=r"^x and y must have the same dtype, got tf\.int32 != tf\.float32$"):
            div(_int(), _float())


def test_true_division_of_booleans_is_refused():
    with pytest.raises(TypeError, match=r"^Invalid dtype tf\.bool in __truediv__$"):
        tf.constant(True) / tf.constant(False)


def test_a_failed_operator_adds_no_op_for_its_other_tensor():
    i, f = _int(), _float()
    before = len(tf.get_default_graph().get_operations())
    with pytest.raises(TypeError):
        i + f
    assert len(tf.get_default_graph().get_operations()) == before


@pytest.mark.parametrize(
    "build,pattern",
    [
        (lambda: tf.where([True, False], _int(), _float()), _mismatch("Select", inp="e", arg="t")),
        (lambda: tf.matmul(tf.ones([2, 2], tf.int32), tf.ones([2, 2])), _mismatch("MatMul", inp="b", arg="a")),
        (lambda: tf.pad(_int(), [[1, 1]], constant_values=tf.constant(1.5)),
         _mismatch("PadV2", inp="constant_values", arg="input")),
        (lambda: tf.assign(tf.Variable([1.0, 2.0]), _int()),
         _mismatch("Assign", inp="value", arg="ref", got="int32", want="float32")),
        (lambda: tf.assign_add(tf.Variable([1.0, 2.0]), _int()),
         _mismatch("AssignAdd", inp="value", arg="ref", got="int32", want="float32")),
        (lambda: tf.clip_by_value(_int(), _float(), _float()), _mismatch("Minimum")),
        (lambda: tf.constant(True) & _float(),
         r"^Input 'y' of 'LogicalAnd' Op has type float32 that does not match expected type of bool\.$"),
    ],
)
def test_ops_with_inputs_sharing_a_type_attr_name_the_mismatched_input(build, pattern):
    with pytest.raises(TypeError, match=pattern):
        build()


@pytest.mark.parametrize(
    "build,op_type,inp,types",
    [
        (lambda: tf.concat([_int(), _float()], 0), "ConcatV2", "values", "int32, float32"),
        (lambda: tf.concat([_int(), [1.5, 2.5]], 0), "ConcatV2", "values", "int32, float32"),
        (lambda: tf.concat([[1.5, 2.5], _int()], 0), "ConcatV2", "values", "float32, int32"),
        (lambda: tf.stack([_int(), _float()]), "Pack", "values", "int32, float32"),
        (lambda: tf.stack([_int(), None]), "Pack", "values", "int32, <NOT CONVERTIBLE TO TENSOR>"),
        (lambda: tf.add_n([_int(), _float()]), "AddN", "inputs", "int32, float32"),
        (lambda: tf.einsum("i,i->", _int(), _float()), "Einsum", "inputs", "int32, float32"),
    ],
)
def test_list_of_tensors_of_two_dtypes_is_a_type_error_listing_every_dtype(build, op_type, inp, types):
    pattern = rf"^Tensors in list passed to '{inp}' of '{op_type}' Op have types \[{types}\] that don't all match\.$"
    with pytest.raises(TypeError, match=pattern):
        build()


def test_list_shorter_than_its_ops_minimum_is_a_value_error():
    with pytest.raises(ValueError, match=r"^List argument 'values' to 'Pack' Op with length 0 shorter than minimum "
                                         r"length 1\.$"):
        apply_op("Pack", [[]])
    with pytest.raises(ValueError, match=r"^List argument 'values' to 'ConcatV2' Op with length 0 shorter than "
                                         r"minimum length 2\.$"):
        tf.concat([], 0)
    with pytest.raises(ValueError, match=r"^List argument 'inputs' to 'Einsum' Op with length 0 shorter than "
                                         r"minimum length 1\.$"):
        apply_op("Einsum", [[]], attrs={"equation": "->"})


@pytest.mark.parametrize(
    "build,pattern",
    [
        (lambda: _int() + 1.5, r"^Expected int32, got 1\.5 of type 'float' instead\.$"),
        (lambda: _int() < 1.5, r"^Expected int32 passed to parameter 'y' of op 'Less', got 1\.5 of type 'float' "
                               r"instead\."),
        (lambda: tf.add(_int(), 1.5), r"^Expected int32 passed to parameter 'y' of op 'Add', got 1\.5"),
        (lambda: tf.pad(_int(), [[1, 1]], constant_values=1.5),
         r"^Expected int32 passed to parameter 'constant_values' of op 'PadV2', got 1\.5"),
    ],
)
def test_python_float_that_cannot_be_the_tensors_integer_dtype_is_a_type_error(build, pattern):
    with pytest.raises(TypeError, match=pattern):
        build()


def test_python_values_still_convert_to_the_tensors_dtype(sess):
    f = _float()
    outs = [f + 1, 2 * f, f - np.float64(0.5), tf.maximum(0, f), tf.concat([[0], f], 0), tf.stack([f, [3, 4]]),
            f < 2, tf.where([True, False], f, [0, 0])]
    assert all(o.dtype.base_dtype in (tf.float32, tf.bool) for o in outs)
    got = sess.run(outs)
    np.testing.assert_allclose(got[0], [2.0, 3.0])
    np.testing.assert_allclose(got[4], [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(got[6], [True, False])


def test_dtype_given_as_a_tensor_is_a_type_error():
    with pytest.raises(TypeError, match=r"^Cannot convert value <tf\.Tensor 'f:0' .*> to a TensorFlow DType\.$"):
        tf.zeros_like(_int(), _float())


def test_list_of_typed_values_with_one_that_does_not_convert_is_a_type_error():
    with pytest.raises(TypeError, match=r"^Tensors in list passed to 'input' of 'IdentityN' Op have types "
                                        r"\[float32, <NOT CONVERTIBLE TO TENSOR>\] that are invalid\. Tensors: "):
        tf.identity_n([_float(), None])
