"""tf.layers' convolution and pooling layers beyond Conv2D/MaxPooling2D/AveragePooling2D (Conv1D, Conv3D,
Conv2DTranspose, Conv3DTranspose, SeparableConv1D/2D, MaxPooling1D/3D, AveragePooling1D/3D) and InputSpec:
variable names and shapes, outputs and gradients recorded from TensorFlow's tf.layers with the same variable
values, channels_first layouts, reuse, and the input checks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tfmini as tf

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "tf" / "conv"
LAYER_CASES: dict = json.loads((FIXTURES / "layers.json").read_text(encoding="utf-8"))
ARRAYS = np.load(FIXTURES / "layers.npz")


@pytest.mark.parametrize("name", sorted(LAYER_CASES))
def test_layer_matches_recorded_tensorflow(name):
    case = LAYER_CASES[name]
    with tf.Graph().as_default(), tf.Session() as sess:
        x = tf.constant(ARRAYS[f"{name}/x"])
        y = eval(case["expr"], {"tf": tf, "x": x})  # noqa: S307 - the recorded case table
        variables = tf.global_variables()
        assert [[v.name, v.shape.as_list()] for v in variables] == case["variables"]
        assert y.name == case["output"]
        assert y.shape.as_list() == case["static_shape"]
        for j, v in enumerate(variables):
            v.load(ARRAYS[f"{name}/var{j}"], sess)
        grads = tf.gradients(y, [x] + variables, grad_ys=tf.constant(ARRAYS[f"{name}/grad_ys"]))
        out, got_grads = sess.run([y, grads])
    np.testing.assert_allclose(out, ARRAYS[f"{name}/out"], rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(got_grads[0], ARRAYS[f"{name}/grad_x"], rtol=2e-5, atol=2e-5)
    for j, g in enumerate(got_grads[1:]):
        np.testing.assert_allclose(g, ARRAYS[f"{name}/grad_var{j}"], rtol=2e-5, atol=2e-5)


def _run_with_kernel(build, x, values):
    """Runs the layer `build(x)` makes with its variables loaded from `values` (in creation order)."""
    with tf.Graph().as_default(), tf.Session() as sess:
        y = build(tf.constant(x))
        for v, value in zip(tf.global_variables(), values):
            v.load(value, sess)
        return sess.run(y)


@pytest.mark.parametrize("make, shape", [
    (lambda fmt: tf.layers.Conv1D(3, 2, strides=2, padding="same", data_format=fmt), (2, 7, 4)),
    (lambda fmt: tf.layers.Conv1D(3, 3, padding="causal", dilation_rate=2, data_format=fmt), (1, 6, 2)),
    (lambda fmt: tf.layers.Conv3D(2, (2, 1, 2), strides=(1, 2, 1), data_format=fmt), (1, 3, 5, 4, 2)),
    (lambda fmt: tf.layers.Conv2DTranspose(3, 3, strides=2, padding="same", data_format=fmt), (2, 3, 4, 2)),
    (lambda fmt: tf.layers.Conv3DTranspose(2, 2, strides=(2, 1, 1), data_format=fmt), (1, 2, 3, 2, 3)),
    (lambda fmt: tf.layers.SeparableConv1D(3, 2, depth_multiplier=2, data_format=fmt), (2, 5, 2)),
    (lambda fmt: tf.layers.SeparableConv2D(3, 2, strides=2, padding="same", data_format=fmt), (1, 5, 4, 2)),
    (lambda fmt: tf.layers.MaxPooling1D(2, 1, data_format=fmt), (2, 5, 3)),
    (lambda fmt: tf.layers.AveragePooling1D(3, 2, padding="same", data_format=fmt), (2, 7, 3)),
    (lambda fmt: tf.layers.MaxPooling3D(2, 2, data_format=fmt), (1, 4, 4, 2, 3)),
    (lambda fmt: tf.layers.AveragePooling3D(2, 1, padding="same", data_format=fmt), (1, 3, 2, 4, 2)),
])
def test_channels_first_equals_channels_last_transposed(make, shape):
    rng = np.random.RandomState(3)
    x = rng.uniform(-1, 1, shape).astype(np.float32)
    rank = len(shape)
    to_first = (0, rank - 1, *range(1, rank - 1))
    with tf.Graph().as_default():
        make("channels_last")(tf.zeros(shape))
        values = [rng.uniform(-1, 1, v.shape.as_list()).astype(np.float32) for v in tf.global_variables()]
    last = _run_with_kernel(lambda t: make("channels_last")(t), x, values)
    first = _run_with_kernel(lambda t: make("channels_first")(t), np.transpose(x, to_first), values)
    np.testing.assert_allclose(first, np.transpose(last, to_first), rtol=1e-5, atol=1e-6)


def test_conv1d_causal_output_depends_only_on_the_past():
    x = np.random.RandomState(4).uniform(-1, 1, (1, 8, 2)).astype(np.float32)
    changed = x.copy()
    changed[0, 5:] = 9.0
    with tf.Graph().as_default(), tf.Session() as sess:
        inp = tf.placeholder(tf.float32, [1, 8, 2])
        y = tf.layers.conv1d(inp, 3, 3, padding="causal", dilation_rate=2)
        sess.run(tf.global_variables_initializer())
        a, b = sess.run(y, {inp: x}), sess.run(y, {inp: changed})
    assert a.shape == (1, 8, 3)
    np.testing.assert_array_equal(a[0, :5], b[0, :5])
    assert not np.allclose(a[0, 5:], b[0, 5:])


def test_functional_layers_reuse_their_variables_by_name():
    with tf.Graph().as_default():
        x = tf.zeros([2, 6, 3])
        tf.layers.conv1d(x, 4, 2, name="c")
        tf.layers.conv1d(x, 4, 2, name="c", reuse=True)
        tf.layers.separable_conv1d(x, 4, 2, name="s")
        tf.layers.separable_conv1d(x, 4, 2, name="s", reuse=True)
        assert [v.name for v in tf.trainable_variables()] == [
            "c/kernel:0", "c/bias:0", "s/depthwise_kernel:0", "s/pointwise_kernel:0", "s/bias:0"]
        with pytest.raises(ValueError, match="already exists"):
            tf.layers.conv1d(x, 4, 2, name="c")


def test_transposed_convolution_with_unknown_spatial_sizes():
    with tf.Graph().as_default(), tf.Session() as sess:
        x = tf.placeholder(tf.float32, [None, None, None, 2])
        layer = tf.layers.Conv2DTranspose(3, 3, strides=2)
        y = layer(x)
        assert y.shape.as_list() == [None, None, None, 3]
        sess.run(tf.global_variables_initializer())
        assert sess.run(y, {x: np.ones((1, 4, 5, 2))}).shape == (1, 9, 11, 3)
        assert layer.compute_output_shape([1, 4, 5, 2]).as_list() == [1, 9, 11, 3]


def test_input_spec_checks_rank_and_channels():
    with tf.Graph().as_default():
        layer = tf.layers.Conv3D(2, 2)
        with pytest.raises(ValueError, match="expected ndim=5, found ndim=4"):
            layer(tf.zeros([1, 3, 3, 3]))
        layer(tf.zeros([1, 3, 3, 3, 2]))
        assert layer.input_spec.axes == {-1: 2}
        with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 2"):
            layer(tf.zeros([1, 3, 3, 3, 4]))
        with pytest.raises(ValueError, match="expected ndim=3"):
            tf.layers.max_pooling1d(tf.zeros([2, 4]), 2, 2)


def test_input_spec_describes_what_a_layer_accepts():
    spec = tf.layers.InputSpec(dtype=tf.float32, shape=(None, 3))
    assert spec.ndim == 2 and spec.dtype == "float32"
    assert repr(spec) == "InputSpec(dtype=float32, shape=(None, 3), ndim=2)"

    class Pair(tf.layers.Layer):
        def __init__(self):
            super().__init__()
            self.input_spec = tf.layers.InputSpec(min_ndim=2, dtype="float32", axes={1: 3})

        def call(self, inputs):
            return inputs

    with tf.Graph().as_default():
        Pair()(tf.zeros([4, 3, 2]))
        with pytest.raises(ValueError, match="expected min_ndim=2, found ndim=1"):
            Pair()(tf.zeros([3]))
        with pytest.raises(ValueError, match="expected dtype=float32, found dtype=int32"):
            Pair()(tf.zeros([2, 3], tf.int32))
        with pytest.raises(ValueError, match="expected axis 1"):
            Pair()(tf.zeros([2, 4]))


def test_argument_errors():
    with pytest.raises(ValueError, match="padding"):
        tf.layers.Conv3D(2, 2, padding="causal")
    with pytest.raises(ValueError, match="kernel_size"):
        tf.layers.Conv1D(2, (2, 2))
    with pytest.raises(ValueError, match="data_format"):
        tf.layers.MaxPooling3D(2, 2, data_format="NDHWC")
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="channel dimension"):
            tf.layers.conv1d(tf.placeholder(tf.float32, [None, 5, None]), 2, 2)


def test_dense_conv2d_and_2d_pooling_declare_their_input_specs():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="layer conv2d is incompatible with the layer: expected ndim=4, found "
                                             "ndim=3"):
            tf.layers.conv2d(tf.zeros([1, 4, 3]), 2, 2)
        with pytest.raises(ValueError, match="expected ndim=4"):
            tf.layers.max_pooling2d(tf.zeros([1, 4, 3]), 2, 2)
        with pytest.raises(ValueError, match="expected min_ndim=2, found ndim=1"):
            tf.layers.dense(tf.zeros([3]), 2)
        layer = tf.layers.Dense(2)
        layer(tf.zeros([1, 3]))
        with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
            layer(tf.zeros([1, 4]))
