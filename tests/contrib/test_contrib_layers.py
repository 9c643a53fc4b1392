"""tf.contrib.layers: variable names, collections and numbers of the layers (against NumPy and TensorFlow's fused
batch norm and convolutions recorded by tools/tf_fixtures/gen_contrib.py), initializers, regularizers,
summaries, arg_scope and optimize_loss."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import tfmini as tf

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ops"))
from gradient_checker import check_gradients  # noqa: E402

FIXTURE = np.load(Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "contrib" / "layers.npz")
layers = tf.contrib.layers
RNG = np.random.RandomState(0)


def _names(variables) -> list[str]:
    return [v.name for v in variables]


def _const(value):
    return tf.constant_initializer(np.asarray(value))


# ----------------------------------------------------------------------------------------------------------
# fully_connected
# ----------------------------------------------------------------------------------------------------------
def test_fully_connected_creates_weights_and_biases_as_model_variables_named_as_tf1(sess):
    x = tf.placeholder(tf.float32, [None, 3])
    layers.fully_connected(x, 4)
    layers.fully_connected(x, 2)
    expected = ["fully_connected/weights:0", "fully_connected/biases:0",
                "fully_connected_1/weights:0", "fully_connected_1/biases:0"]
    assert _names(tf.global_variables()) == expected
    assert _names(tf.model_variables()) == expected
    assert _names(tf.trainable_variables()) == expected
    assert tf.global_variables()[0].shape.as_list() == [3, 4]


def test_fully_connected_computes_relu_of_x_times_weights_plus_biases(sess):
    w = RNG.randn(3, 4).astype(np.float32)
    b = RNG.randn(4).astype(np.float32)
    x = RNG.randn(5, 3).astype(np.float32)
    y = layers.fully_connected(x, 4, weights_initializer=_const(w), biases_initializer=_const(b))
    assert y.op.name == "fully_connected/Relu"
    sess.run(tf.global_variables_initializer())
    np.testing.assert_allclose(sess.run(y), np.maximum(x @ w + b, 0), rtol=1e-5, atol=1e-6)


def test_fully_connected_on_rank_3_inputs_acts_on_the_last_dimension(sess):
    w = RNG.randn(3, 2).astype(np.float32)
    x = RNG.randn(2, 4, 3).astype(np.float32)
    y = layers.fully_connected(tf.constant(x), 2, activation_fn=None, weights_initializer=_const(w))
    assert y.shape.as_list() == [2, 4, 2]
    sess.run(tf.global_variables_initializer())
    np.testing.assert_allclose(sess.run(y), x @ w, rtol=1e-5, atol=1e-6)


def test_fully_connected_with_a_normalizer_makes_no_biases_and_scope_reuse_shares_weights(sess):
    x = tf.placeholder(tf.float32, [None, 3])
    layers.fully_connected(x, 4, normalizer_fn=layers.layer_norm, scope="fc")
    layers.fully_connected(x, 4, normalizer_fn=layers.layer_norm, scope="fc", reuse=True)
    assert _names(tf.global_variables()) == ["fc/weights:0", "fc/LayerNorm/beta:0", "fc/LayerNorm/gamma:0"]


def test_fully_connected_refuses_a_non_integer_width_and_an_undefined_input_width():
    with pytest.raises(ValueError, match="num_outputs"):
        layers.fully_connected(tf.zeros([2, 3]), 4.0)
    with pytest.raises(ValueError, match="last dimension"):
        layers.fully_connected(tf.placeholder(tf.float32, [None, None]), 4)


def test_fully_connected_output_is_differentiable_in_its_input():
    w = RNG.randn(3, 2)

    def build(x):
        return layers.fully_connected(x, 2, activation_fn=tf.nn.tanh, weights_initializer=_const(w))

    def check(x_value):
        with tf.Graph().as_default():
            x = tf.placeholder(tf.float64, [4, 3])
            y = build(x)
            with tf.Session() as s:
                s.run(tf.global_variables_initializer())
                feed_vars = {v: s.run(v) for v in tf.global_variables()}
            check_gradients(y, {x: x_value}, feed_dict=feed_vars)

    check(RNG.randn(4, 3))


# ----------------------------------------------------------------------------------------------------------
# Convolutions and pooling
# ----------------------------------------------------------------------------------------------------------
def test_conv2d_names_its_variables_conv_and_matches_tensorflow_with_rate_2(sess):
    y = layers.conv2d(FIXTURE["images"], 4, [3, 3], rate=2, weights_initializer=_const(FIXTURE["kernel"]),
                      biases_initializer=_const(FIXTURE["bias"]))
    assert _names(tf.model_variables()) == ["Conv/weights:0", "Conv/biases:0"]
    assert y.op.name == "Conv/Relu"
    sess.run(tf.global_variables_initializer())
    np.testing.assert_allclose(sess.run(y), FIXTURE["dilated"], rtol=1e-4, atol=1e-5)


def test_conv2d_strides_pad_same_and_refuse_strides_with_dilation(sess):
    x = tf.zeros([1, 7, 7, 2])
    assert layers.convolution2d(x, 3, 3, stride=2).shape.as_list() == [1, 4, 4, 3]
    assert layers.conv2d(x, 3, 3, stride=2, padding="VALID").shape.as_list() == [1, 3, 3, 3]
    with pytest.raises(ValueError, match="dilation_rate"):
        layers.conv2d(x, 3, 3, stride=2, rate=2)
    with pytest.raises(ValueError, match="Invalid data_format"):
        layers.conv2d(x, 3, 3, data_format="NWHC")


def test_conv1d_and_conv3d_convolve_their_ranks_with_the_conv_scope(sess):
    x1 = RNG.randn(2, 6, 3).astype(np.float32)
    w1 = RNG.randn(3, 3, 4).astype(np.float32)
    y1 = layers.conv1d(x1, 4, 3, padding="VALID", activation_fn=None, weights_initializer=_const(w1))
    x3 = RNG.randn(1, 4, 4, 4, 2).astype(np.float32)
    y3 = layers.conv3d(x3, 3, [2, 2, 2], stride=2, padding="VALID", biases_initializer=None)
    assert _names(tf.model_variables()) == ["Conv/weights:0", "Conv/biases:0", "Conv_1/weights:0"]
    assert tf.model_variables()[2].shape.as_list() == [2, 2, 2, 2, 3]
    assert y3.shape.as_list() == [1, 2, 2, 2, 3]
    sess.run(tf.global_variables_initializer())
    expected = np.stack([np.einsum("nkc,kco->no", x1[:, i:i + 3], w1) for i in range(4)], axis=1)
    np.testing.assert_allclose(sess.run(y1), expected, rtol=1e-4, atol=1e-5)
    w3 = sess.run(tf.model_variables()[2])
    first = np.maximum(np.einsum("dhwc,dhwco->o", x3[0, :2, :2, :2], w3), 0)
    np.testing.assert_allclose(sess.run(y3)[0, 0, 0, 0], first, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="Convolution expects input with rank 4, got 3"):
        layers.conv2d(x1, 2, 3)
    assert layers.convolution(x1, 2, 3).shape.as_list() == [2, 6, 2]


def test_max_pool3d_and_avg_pool3d(sess):
    x = RNG.randn(1, 4, 4, 4, 2).astype(np.float32)
    mx, av = layers.max_pool3d(x, 2), layers.avg_pool3d(x, [2, 2, 2], stride=2)
    assert mx.op.name == "MaxPool3D/MaxPool3D"
    blocks = x.reshape(1, 2, 2, 2, 2, 2, 2, 2).transpose(0, 1, 3, 5, 2, 4, 6, 7).reshape(1, 2, 2, 2, 8, 2)
    got_max, got_avg = sess.run([mx, av])
    np.testing.assert_allclose(got_max, blocks.max(axis=4))
    np.testing.assert_allclose(got_avg, blocks.mean(axis=4), rtol=1e-5)
    with pytest.raises(ValueError, match="NCDHW or NDHWC"):
        layers.max_pool3d(x, 2, data_format="NHWC")


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_conv2d_transpose_matches_tensorflow(sess, padding):
    kernel = FIXTURE["t_kernel"]
    y = layers.conv2d_transpose(FIXTURE["images"], 2, [3, 3], stride=2, padding=padding,
                                weights_initializer=_const(kernel), biases_initializer=_const(FIXTURE["bias"][:2]))
    assert _names(tf.model_variables()) == ["Conv2d_transpose/weights:0", "Conv2d_transpose/biases:0"]
    assert tf.model_variables()[0].shape.as_list() == [3, 3, 2, 3]
    expected = FIXTURE[f"transpose_{padding}"]
    assert y.shape.as_list() == list(expected.shape)
    sess.run(tf.global_variables_initializer())
    np.testing.assert_allclose(sess.run(y), expected, rtol=1e-4, atol=1e-5)


def _depthwise_reference(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """VALID depthwise convolution: output channel c * multiplier + m sees input channel c."""
    n, h, wd, c = x.shape
    kh, kw, _, m = w.shape
    out = np.zeros((n, h - kh + 1, wd - kw + 1, c * m), np.float64)
    for i in range(h - kh + 1):
        for j in range(wd - kw + 1):
            patch = x[:, i:i + kh, j:j + kw, :]
            out[:, i, j] = np.einsum("nhwc,hwcm->ncm", patch, w).reshape(n, c * m)
    return out


def test_separable_conv2d_is_depthwise_then_pointwise_with_tf1_variable_names(sess):
    x = RNG.randn(2, 5, 5, 2).astype(np.float32)
    dw = RNG.randn(3, 3, 2, 2).astype(np.float32)
    pw = RNG.randn(1, 1, 4, 3).astype(np.float32)
    inits = iter([dw, pw])
    y = layers.separable_conv2d(x, 3, 3, 2, padding="VALID", activation_fn=None,
                                weights_initializer=lambda shape, dtype=None, partition_info=None: tf.constant(
                                    next(inits)), weights_regularizer=layers.l2_regularizer(1.0))
    assert _names(tf.model_variables()) == ["SeparableConv2d/depthwise_weights:0",
                                            "SeparableConv2d/pointwise_weights:0", "SeparableConv2d/biases:0"]
    assert [loss.op.name for loss in tf.losses.get_regularization_losses()] == [
        "SeparableConv2d/depthwise_kernel/Regularizer/l2_regularizer",
        "SeparableConv2d/pointwise_kernel/Regularizer/l2_regularizer"]
    depthwise_only = layers.separable_conv2d(x, None, 3, 2, padding="VALID", activation_fn=None,
                                             weights_initializer=tf.constant_initializer(dw))
    assert depthwise_only.shape.as_list() == [2, 3, 3, 4]
    sess.run(tf.global_variables_initializer())
    expected_dw = _depthwise_reference(x, dw)
    np.testing.assert_allclose(sess.run(depthwise_only), expected_dw, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(sess.run(y), expected_dw @ pw[0, 0], rtol=1e-4, atol=1e-4)


def test_maxout_takes_the_maximum_of_each_feature_group(sess):
    x = tf.placeholder(tf.float32, [None, 6])
    value = RNG.randn(3, 6).astype(np.float32)
    y = layers.maxout(x, 2)
    assert y.shape.as_list() == [None, 2]
    np.testing.assert_array_equal(sess.run(y, {x: value}), value.reshape(3, 3, 2).max(axis=1))
    with pytest.raises(ValueError, match="not a multiple of num_units"):
        layers.maxout(x, 4)


def test_softmax_normalizes_the_last_dimension_of_any_rank(sess):
    logits = RNG.randn(2, 3, 4).astype(np.float32)
    e = np.exp(logits - logits.max(-1, keepdims=True))
    np.testing.assert_allclose(sess.run(layers.softmax(logits)), e / e.sum(-1, keepdims=True), rtol=1e-5)
    with pytest.raises(ValueError, match="at least 2"):
        layers.softmax(tf.zeros([3]))


def _pool_reference(x: np.ndarray, k: int, s: int, reduce) -> np.ndarray:
    n, h, w, c = x.shape
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    out = np.empty((n, oh, ow, c), x.dtype)
    for i in range(oh):
        for j in range(ow):
            out[:, i, j] = reduce(x[:, i * s:i * s + k, j * s:j * s + k], axis=(1, 2))
    return out


def test_max_pool2d_and_avg_pool2d_default_to_stride_2_valid(sess):
    x = RNG.randn(2, 6, 5, 3).astype(np.float32)
    mx = layers.max_pool2d(x, [2, 2])
    av = layers.avg_pool2d(x, 3, stride=1, scope="avg")
    assert mx.op.name == "MaxPool2D/MaxPool"
    assert av.op.name.startswith("avg/")
    got_max, got_avg = sess.run([mx, av])
    np.testing.assert_allclose(got_max, _pool_reference(x, 2, 2, np.max))
    np.testing.assert_allclose(got_avg, _pool_reference(x, 3, 1, np.mean), rtol=1e-5)
    with pytest.raises(ValueError, match="NCHW or NHWC"):
        layers.max_pool2d(x, 2, data_format="NCWH")


def test_flatten_keeps_the_batch_dimension_and_a_static_width(sess):
    x = tf.placeholder(tf.float32, [None, 2, 3, 4])
    y = layers.flatten(x)
    assert y.shape.as_list() == [None, 24]
    value = RNG.randn(5, 2, 3, 4).astype(np.float32)
    np.testing.assert_array_equal(sess.run(y, {x: value}), value.reshape(5, 24))
    with pytest.raises(ValueError, match="at least 2|a least 2"):
        layers.flatten(tf.zeros([3]))


# ----------------------------------------------------------------------------------------------------------
# batch_norm
# ----------------------------------------------------------------------------------------------------------
def test_batch_norm_defaults_make_beta_and_moving_statistics_and_two_update_ops():
    layers.batch_norm(tf.zeros([2, 3]))
    assert _names(tf.global_variables()) == ["BatchNorm/beta:0", "BatchNorm/moving_mean:0",
                                              "BatchNorm/moving_variance:0"]
    assert _names(tf.model_variables()) == _names(tf.global_variables())
    assert _names(tf.trainable_variables()) == ["BatchNorm/beta:0"]
    assert len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)) == 2
    layers.batch_norm(tf.zeros([2, 3]), scale=True)
    assert "BatchNorm_1/gamma:0" in _names(tf.trainable_variables())


def test_batch_norm_variable_order_and_param_regularizers_follow_tf_paths():
    regularizers = {"beta": layers.l2_regularizer(1.0), "gamma": layers.l1_regularizer(1.0)}
    # 4-D inputs with the default update collection go through the core layer: gamma first, regularized
    layers.batch_norm(tf.zeros([1, 2, 2, 3]), scale=True, param_regularizers=regularizers, scope="core")
    assert _names(tf.trainable_variables()) == ["core/gamma:0", "core/beta:0"]
    assert len(tf.losses.get_regularization_losses()) == 2
    # 2-D inputs go through TF's own fused batch norm, which ignores param_regularizers
    layers.batch_norm(tf.zeros([2, 3]), scale=True, param_regularizers=regularizers, scope="own")
    assert _names(tf.trainable_variables())[2:] == ["own/beta:0", "own/gamma:0"]
    assert len(tf.losses.get_regularization_losses()) == 2


@pytest.mark.parametrize("rank", [4, 2])
def test_batch_norm_training_and_inference_match_tensorflows_fused_kernel(sess, rank):
    batches = [FIXTURE[f"bn{rank}_batch{i}"] for i in range(3)]
    x = tf.placeholder(tf.float32, [None, *batches[0].shape[1:]])
    training = tf.placeholder(tf.bool, [])
    y = layers.batch_norm(x, is_training=training, param_initializers={"beta": tf.constant_initializer(0.1)})
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    moving_mean, moving_var = tf.model_variables()[1:]
    sess.run(tf.global_variables_initializer())
    for i, batch in enumerate(batches):
        out, _ = sess.run([y, updates], {x: batch, training: True})
        np.testing.assert_allclose(out, FIXTURE[f"bn{rank}_y{i}"], rtol=1e-4, atol=1e-4)
        mean, var = sess.run([moving_mean, moving_var])
        np.testing.assert_allclose(mean, FIXTURE[f"bn{rank}_mean{i}"], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(var, FIXTURE[f"bn{rank}_var{i}"], rtol=1e-5, atol=1e-6)
    out = sess.run(y, {x: FIXTURE[f"bn{rank}_test_batch"], training: False})
    np.testing.assert_allclose(out, FIXTURE[f"bn{rank}_y_test"], rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(sess.run(moving_mean), mean)  # inference leaves the averages alone


def test_batch_norm_with_updates_collections_none_updates_in_place_with_the_biased_variance_for_rank_3(sess):
    x = RNG.randn(4, 3, 2).astype(np.float32)
    y = layers.batch_norm(x, updates_collections=None, decay=0.5, scale=True)
    assert tf.get_collection(tf.GraphKeys.UPDATE_OPS) == []
    sess.run(tf.global_variables_initializer())
    out = sess.run(y)
    mean, var = x.mean(axis=(0, 1)), x.var(axis=(0, 1))
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 0.001), rtol=1e-4, atol=1e-5)
    moving_mean, moving_var = sess.run(tf.model_variables()[2:])
    np.testing.assert_allclose(moving_mean, 0.5 * mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(moving_var, 0.5 + 0.5 * var, rtol=1e-5)


def test_batch_norm_not_training_normalizes_with_the_moving_statistics_and_adds_no_updates(sess):
    x = RNG.randn(3, 4).astype(np.float32)
    y = layers.batch_norm(x, is_training=False, center=False)
    assert tf.get_collection(tf.GraphKeys.UPDATE_OPS) == []
    sess.run(tf.global_variables_initializer())
    np.testing.assert_allclose(sess.run(y), x / np.sqrt(1.001), rtol=1e-5)


def test_batch_norm_nchw_normalizes_over_axis_1(sess):
    x = RNG.randn(2, 3, 4, 4).astype(np.float32)
    y = layers.batch_norm(x, data_format="NCHW", fused=False)
    sess.run(tf.global_variables_initializer())
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    var = x.var(axis=(0, 2, 3), keepdims=True)
    np.testing.assert_allclose(sess.run(y), (x - mean) / np.sqrt(var + 0.001), rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="undefined rank"):
        layers.batch_norm(tf.placeholder(tf.float32))


# ----------------------------------------------------------------------------------------------------------
# layer_norm, unit_norm, dropout, bias_add, one_hot_encoding, embed_sequence
# ----------------------------------------------------------------------------------------------------------
def test_layer_norm_normalizes_over_all_but_the_batch_axis_with_epsilon_1e_12(sess):
    x = RNG.randn(3, 2, 5).astype(np.float32)
    y = layers.layer_norm(x)
    assert _names(tf.model_variables()) == ["LayerNorm/beta:0", "LayerNorm/gamma:0"]
    assert tf.model_variables()[0].shape.as_list() == [5]
    sess.run(tf.global_variables_initializer())
    mean = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(sess.run(y), (x - mean) / np.sqrt(var + 1e-12), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="must be < rank"):
        layers.layer_norm(x, begin_norm_axis=3)


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_instance_norm_normalizes_each_example_and_channel_over_space(sess, data_format):
    x = RNG.randn(2, 3, 4, 5).astype(np.float32)
    y = layers.instance_norm(x, data_format=data_format, param_initializers={"beta": tf.constant_initializer(0.5)})
    assert _names(tf.model_variables()) == ["InstanceNorm/beta:0", "InstanceNorm/gamma:0"]
    sess.run(tf.global_variables_initializer())
    axes = (1, 2) if data_format == "NHWC" else (2, 3)
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    np.testing.assert_allclose(sess.run(y), (x - mean) / np.sqrt(var + 1e-6) + 0.5, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("mean_close_to_zero", [False, True])
def test_group_norm_normalizes_groups_of_channels_with_their_spatial_axes(sess, mean_close_to_zero):
    x = RNG.randn(2, 3, 3, 6).astype(np.float32)
    images = tf.placeholder(tf.float32, [None, 3, 3, 6])
    y = layers.group_norm(images, groups=2, mean_close_to_zero=mean_close_to_zero,
                          param_initializers={"gamma": tf.constant_initializer(2.0)})
    assert _names(tf.model_variables()) == ["GroupNorm/beta:0", "GroupNorm/gamma:0"]
    sess.run(tf.global_variables_initializer())
    g = x.reshape(2, 3, 3, 2, 3)
    mean, var = g.mean(axis=(1, 2, 4), keepdims=True), g.var(axis=(1, 2, 4), keepdims=True)
    expected = (2 * (g - mean) / np.sqrt(var + 1e-6)).reshape(x.shape)
    np.testing.assert_allclose(sess.run(y, {images: x}), expected, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="not commensurate with 4 groups"):
        layers.group_norm(x, groups=4)
    with pytest.raises(ValueError, match="Invalid groups 8 for 6 channels"):
        layers.group_norm(x, groups=8)


def test_unit_norm_divides_by_the_norm_along_dim(sess):
    x = RNG.randn(3, 4).astype(np.float32)
    np.testing.assert_allclose(sess.run(layers.unit_norm(x, 1)),
                               x / np.sqrt(1e-7 + (x ** 2).sum(1, keepdims=True)), rtol=1e-5)
    with pytest.raises(ValueError, match="dim must be positive"):
        layers.unit_norm(x, 2)


def test_dropout_is_the_identity_when_not_training_and_scales_kept_values_when_training(sess):
    x = np.ones([200, 50], np.float32)
    assert np.array_equal(sess.run(layers.dropout(x, is_training=False)), x)
    out = sess.run(layers.dropout(x, keep_prob=0.25))
    assert set(np.unique(out)) <= {0.0, 4.0}
    assert 0.2 < (out > 0).mean() < 0.3
    flag = tf.placeholder(tf.bool, [])
    switched = layers.dropout(x, keep_prob=0.5, is_training=flag)
    assert np.array_equal(sess.run(switched, {flag: False}), x)


def test_bias_add_adds_biases_along_the_channel_axis(sess):
    x = RNG.randn(2, 3, 2, 2).astype(np.float32)
    b = np.array([1.0, 2.0, 3.0], np.float32)
    y = layers.bias_add(x, initializer=_const(b), data_format="NCHW", activation_fn=tf.nn.relu)
    assert _names(tf.model_variables()) == ["BiasAdd/biases:0"]
    sess.run(tf.global_variables_initializer())
    np.testing.assert_allclose(sess.run(y), np.maximum(x + b[None, :, None, None], 0), rtol=1e-6)
    with pytest.raises(ValueError, match="NCHW only supports 4D"):
        layers.bias_add(tf.zeros([2, 3]), data_format="NCHW")


def test_one_hot_encoding_gives_float_rows(sess):
    y = layers.one_hot_encoding([0, 2, 1], 3)
    assert y.dtype == tf.float32
    np.testing.assert_array_equal(sess.run(y), np.eye(3, dtype=np.float32)[[0, 2, 1]])


@pytest.mark.parametrize("unique", [False, True])
def test_embed_sequence_looks_ids_up_in_its_embeddings(sess, unique):
    table = RNG.randn(5, 3).astype(np.float32)
    ids = np.array([[0, 4, 4], [2, 0, 1]])
    y = layers.embed_sequence(ids, vocab_size=5, embed_dim=3, initializer=_const(table), unique=unique)
    assert _names(tf.model_variables()) == ["EmbedSequence/embeddings:0"]
    sess.run(tf.global_variables_initializer())
    np.testing.assert_allclose(sess.run(y), table[ids])
    with pytest.raises(ValueError, match="vocab size and embedding dimension"):
        layers.embed_sequence(ids)


def test_repeat_and_stack_name_each_call_scope_underscore_index():
    x = tf.zeros([1, 4, 4, 2])
    layers.repeat(x, 2, layers.conv2d, 3, [3, 3], scope="conv1")
    layers.stack(tf.zeros([1, 3]), layers.fully_connected, [4, 5], scope="fc")
    layers.repeat(x, 1, layers.conv2d, 3, 1)
    names = _names(tf.model_variables())
    assert names[:4] == ["conv1/conv1_1/weights:0", "conv1/conv1_1/biases:0", "conv1/conv1_2/weights:0",
                         "conv1/conv1_2/biases:0"]
    assert names[4:8] == ["fc/fc_1/weights:0", "fc/fc_1/biases:0", "fc/fc_2/weights:0", "fc/fc_2/biases:0"]
    assert names[8] == "Repeat/convolution2d_1/weights:0"
    assert tf.model_variables()[6].shape.as_list() == [4, 5]


# ----------------------------------------------------------------------------------------------------------
# Initializers
# ----------------------------------------------------------------------------------------------------------
def test_xavier_initializer_is_uniform_within_sqrt_6_over_fans(sess):
    values = sess.run(layers.xavier_initializer(seed=1)([3, 3, 16, 32]))
    limit = np.sqrt(6.0 / (9 * 16 + 9 * 32))
    assert values.dtype == np.float32 and np.abs(values).max() <= limit
    assert np.abs(values).max() > 0.95 * limit
    assert layers.xavier_initializer_conv2d is layers.xavier_initializer


def test_variance_scaling_initializer_default_is_a_truncated_normal_with_stddev_sqrt_2_6_over_fan_in(sess):
    values = sess.run(layers.variance_scaling_initializer(seed=3)([400, 300]))
    stddev = np.sqrt(1.3 * 2.0 / 400)
    assert np.abs(values).max() <= 2 * stddev + 1e-6
    # a normal truncated at two standard deviations keeps 0.88 of the stddev
    assert abs(values.std() / stddev - 0.8796) < 0.02
    uniform = sess.run(layers.variance_scaling_initializer(factor=1.0, mode="FAN_OUT", uniform=True, seed=3)([50, 200]))
    assert np.abs(uniform).max() <= np.sqrt(3.0 / 200)


def test_variance_scaling_initializer_refuses_a_bad_mode_and_integer_dtypes():
    with pytest.raises(TypeError, match="Unknown mode"):
        layers.variance_scaling_initializer(mode="fan_in")
    with pytest.raises(TypeError, match="non-floating"):
        layers.variance_scaling_initializer(dtype=tf.int32)


# ----------------------------------------------------------------------------------------------------------
# Regularizers
# ----------------------------------------------------------------------------------------------------------
def test_l1_l2_and_sum_regularizers_compute_their_penalties(sess):
    w = np.array([[1.0, -2.0], [3.0, -4.0]], np.float32)
    wt = tf.constant(w)
    l1 = layers.l1_regularizer(0.5)(wt)
    l2 = layers.l2_regularizer(0.1)(wt)
    both = layers.l1_l2_regularizer(0.5, 0.1)(wt)
    summed = layers.sum_regularizer([layers.l1_regularizer(0.5), None, layers.l2_regularizer(0.1)])(wt)
    assert l1.op.name == "l1_regularizer" and l2.op.name == "l2_regularizer"
    got = sess.run([l1, l2, both, summed])
    np.testing.assert_allclose(got, [5.0, 1.5, 6.5, 6.5], rtol=1e-6)
    assert layers.l2_regularizer(0.0)(wt) is None
    assert layers.sum_regularizer([None]) is None


def test_regularizers_refuse_integer_and_negative_scales():
    with pytest.raises(ValueError, match="cannot be an integer"):
        layers.l2_regularizer(1)
    with pytest.raises(ValueError, match="less than 0"):
        layers.l1_regularizer(-0.1)


def test_apply_regularization_sums_penalties_into_regularization_losses(sess):
    ws = [tf.constant([1.0, 2.0]), tf.constant([[3.0]])]
    total = layers.apply_regularization(layers.l2_regularizer(1.0), ws)
    assert tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES) == [total]
    assert np.isclose(sess.run(total), 7.0)
    with pytest.raises(ValueError, match="No weights to regularize"):
        layers.apply_regularization(layers.l2_regularizer(1.0))


def test_weights_regularizer_of_a_layer_lands_in_regularization_losses(sess):
    layers.fully_connected(tf.zeros([1, 2]), 3, weights_initializer=tf.ones_initializer(),
                           weights_regularizer=layers.l2_regularizer(0.5))
    (loss,) = tf.losses.get_regularization_losses()
    # named after the core layer's `kernel`, as TF 1.15's contrib layers (built on tf.layers) name it
    assert loss.op.name == "fully_connected/kernel/Regularizer/l2_regularizer"
    sess.run(tf.global_variables_initializer())
    assert np.isclose(sess.run(loss), 0.5 * 6 / 2)
    layers.fully_connected(tf.zeros([1, 2]), 3, weights_regularizer=layers.l2_regularizer(0.5),
                           biases_regularizer=layers.l1_regularizer(0.1), scope="fully_connected", reuse=True)
    assert len(tf.losses.get_regularization_losses()) == 1  # a reused layer adds no second penalty
    layers.conv2d(tf.zeros([1, 3, 3, 1]), 2, 1, biases_regularizer=layers.l1_regularizer(0.1))
    assert tf.losses.get_regularization_losses()[1].op.name == "Conv/bias/Regularizer/l1_regularizer"


def test_linear_relu_and_relu6_are_fully_connected_with_their_activation():
    x = tf.zeros([1, 2])
    assert layers.linear(x, 3).op.type == "BiasAdd"
    assert layers.relu(x, 3).op.type == "Relu"
    assert layers.relu6(x, 3).op.type == "Relu6"
    assert _names(tf.model_variables())[-2:] == ["fully_connected_2/weights:0", "fully_connected_2/biases:0"]


# ----------------------------------------------------------------------------------------------------------
# arg_scope, summaries, optimize_loss
# ----------------------------------------------------------------------------------------------------------
def test_arg_scope_sets_defaults_of_layers_and_explicit_arguments_win():
    framework = tf.contrib.framework
    with framework.arg_scope([layers.conv2d, layers.fully_connected], activation_fn=None,
                             weights_initializer=tf.zeros_initializer()):
        with framework.arg_scope([layers.conv2d], padding="VALID"):
            conv = layers.conv2d(tf.zeros([1, 5, 5, 1]), 2, 3)
            fc = layers.fully_connected(tf.zeros([1, 2]), 2, activation_fn=tf.nn.relu)
    assert conv.shape.as_list() == [1, 3, 3, 2]
    assert conv.op.type == "BiasAdd"
    assert fc.op.type == "Relu"
    assert layers.conv2d(tf.zeros([1, 5, 5, 1]), 2, 3).shape.as_list() == [1, 5, 5, 2]


def test_outputs_collections_receive_the_layer_outputs():
    y = layers.fully_connected(tf.zeros([1, 2]), 2, outputs_collections="acts")
    p = layers.max_pool2d(tf.zeros([1, 4, 4, 1]), 2, outputs_collections=["acts"])
    assert tf.get_collection("acts") == [y, p]


def test_summarize_activation_and_collection_add_summaries(sess):
    x = tf.constant([[-1.0, 2.0, 7.0]])
    act = tf.nn.relu6(x, name="act")
    summaries = layers.summarize_activation(act)
    assert summaries.op.type == "HistogramSummary"
    names = sorted(s.op.name for s in tf.get_collection(tf.GraphKeys.SUMMARIES))
    assert names == ["act/activation", "act/sixes", "act/zeros"]
    tf.add_to_collection("things", tf.constant(3.0, name="scalar"))
    tf.add_to_collection("things", tf.constant([1.0, 2.0], name="vector"))
    made = layers.summarize_collection("things")
    assert [m.op.type for m in made] == ["ScalarSummary", "HistogramSummary"]
    assert len(layers.summarize_tensors([tf.constant(1.0)])) == 1
    assert layers.summarize_activations() == []
    sess.run(tf.summary.merge_all())


def _regression_graph():
    x = tf.constant(RNG.randn(16, 3).astype(np.float32))
    y = tf.constant(RNG.randn(16, 1).astype(np.float32))
    pred = layers.fully_connected(x, 1, activation_fn=None)
    return tf.reduce_mean(tf.square(pred - y))


@pytest.mark.parametrize("optimizer", ["SGD", "Adam", "Adagrad", "Momentum", "RMSProp",
                                       tf.train.GradientDescentOptimizer, "instance", "function"])
def test_optimize_loss_accepts_a_name_class_instance_or_function_and_decreases_the_loss(sess, optimizer):
    if optimizer == "instance":
        optimizer = tf.train.GradientDescentOptimizer(0.05)
    elif optimizer == "function":
        optimizer = lambda lr: tf.train.MomentumOptimizer(lr, momentum=0.5)  # noqa: E731
    loss = _regression_graph()
    step = tf.train.get_or_create_global_step()
    train = layers.optimize_loss(loss, step, 0.05, optimizer, clip_gradients=5.0)
    sess.run(tf.global_variables_initializer())
    first = sess.run(train)
    for _ in range(20):
        last = sess.run(train)
    assert last < first
    assert sess.run(step) == 21
    assert "OptimizeLoss/learning_rate:0" in _names(tf.global_variables())


def test_optimize_loss_summaries_decay_and_update_ops(sess):
    loss = _regression_graph()
    step = tf.train.get_or_create_global_step()
    counter = tf.Variable(0.0, trainable=False)
    tf.add_to_collection(tf.GraphKeys.UPDATE_OPS, tf.assign_add(counter, 1.0))
    train = layers.optimize_loss(loss, step, 0.1, "SGD", summaries=layers.OPTIMIZER_SUMMARIES,
                                 learning_rate_decay_fn=lambda lr, gs: lr * 0.5)
    names = {s.op.name for s in tf.get_collection(tf.GraphKeys.SUMMARIES)}
    # the summary is named after the learning-rate variable, so its name is made unique, as in TF
    assert {"OptimizeLoss/loss", "OptimizeLoss/learning_rate_1", "OptimizeLoss/global_norm/gradient_norm",
            "OptimizeLoss/gradients/fully_connected/weights_0"} <= names
    sess.run(tf.global_variables_initializer())
    sess.run(train)
    sess.run(train)
    assert sess.run(counter) == 2.0


def test_optimize_loss_refuses_bad_optimizers_learning_rates_and_summaries():
    loss = _regression_graph()
    step = tf.train.get_or_create_global_step()
    with pytest.raises(ValueError, match="Optimizer name should be one of"):
        layers.optimize_loss(loss, step, 0.1, "Nadam")
    with pytest.raises(ValueError, match="Learning rate is None"):
        layers.optimize_loss(loss, step, None, "SGD")
    with pytest.raises(ValueError, match="Learning rate should be 0d Tensor or float"):
        layers.optimize_loss(loss, step, 1, "SGD")
    with pytest.raises(ValueError, match="Summaries should be one of"):
        layers.optimize_loss(loss, step, 0.1, "SGD", summaries=["everything"])
    with pytest.raises(ValueError, match="Unrecognized optimizer"):
        layers.optimize_loss(loss, step, 0.1, 3)


def test_an_unsupported_contrib_name_raises_an_attribute_error_naming_the_docs_page():
    with pytest.raises(AttributeError, match="docs/contrib.md"):
        tf.contrib.learn  # noqa: B018
    with pytest.raises(AttributeError, match="docs/contrib.md"):
        layers.nonexistent  # noqa: B018
    assert not hasattr(tf.contrib.slim, "nonexistent")
