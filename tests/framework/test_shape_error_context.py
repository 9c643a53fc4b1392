"""A shape function's build-time error names its op once: the registry adds " for '<name>' (op: '<type>') with
input shapes: ...", so the shape functions raise the bare message (Conv3D, SpaceToDepth, DepthToSpace,
ImageSummary, Dilation2D, LinSpace, the TensorArray and stack ops used to add the op a second time)."""

import re

import numpy as np
import pytest

import tfmini as tf
from tfmini.framework.registry import apply_op  # StackV2 has no public wrapper

CASES = {
    "Conv3D": lambda: tf.nn.conv3d(tf.ones([1, 4, 4, 4, 3]), tf.ones([1, 1, 1, 2, 2]), [1] * 5, "SAME"),
    "SpaceToDepth": lambda: tf.nn.space_to_depth(tf.ones([1, 5, 4, 3]), 2),
    "DepthToSpace": lambda: tf.nn.depth_to_space(tf.ones([1, 2, 2, 3]), 2),
    "ImageSummary": lambda: tf.summary.image("im", tf.ones([2, 3, 3])),
    "TensorArrayScatterV3": lambda: tf.TensorArray(tf.float32, 2, element_shape=[3]).scatter([0, 1], tf.ones([3, 3])),
    "TensorArrayReadV3": lambda: tf.TensorArray(tf.float32, 2).read(tf.constant([0, 1])),
    "StackV2": lambda: apply_op("StackV2", [tf.constant([1, 2])], {"elem_type": tf.float32}),
    "Dilation2D": lambda: tf.nn.dilation2d(tf.ones([1, 4, 4, 3]), tf.ones([2, 2, 2]), [1] * 4, [1] * 4, "SAME"),
    "LinSpace": lambda: tf.linspace(tf.constant([0.0, 1.0]), 1.0, 3),
    "MatMul": lambda: tf.matmul(tf.ones([2, 3]), tf.ones([2, 3])),
}


@pytest.mark.parametrize("op_type", sorted(CASES))
def test_a_shape_error_names_its_op_once(op_type):
    with tf.Graph().as_default():
        with pytest.raises(ValueError) as info:
            CASES[op_type]()
    message = str(info.value)
    assert len(re.findall(r"\(op: '", message)) == 1, message
    assert f"(op: '{op_type}') with input shapes: " in message, message


def test_the_graph_stays_usable_after_a_shape_error():
    with tf.Graph().as_default():
        with pytest.raises(ValueError):
            tf.nn.space_to_depth(tf.ones([1, 5, 4, 3]), 2)
        with tf.Session() as sess:
            out = sess.run(tf.nn.space_to_depth(tf.ones([1, 4, 4, 3]), 2))
    np.testing.assert_array_equal(out, np.ones([1, 2, 2, 12], np.float32))
