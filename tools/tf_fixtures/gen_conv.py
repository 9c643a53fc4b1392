"""Records TensorFlow's outputs and gradients for the 3-D convolutions, the pools and the space/depth ops
(tests/ops/test_conv3d_ops.py, test_pooling_ops.py, test_space_depth_ops.py), where layouts make NumPy
references awkward, and the tf.layers convolution and pooling layers (tests/test_layers_more.py).

Each case is one expression over inputs named a, b, c, written against the TF 1.x API, so that the tests
evaluate the same text with tfmini. Run with the TensorFlow environment:
    /work/tfenv/bin/python tools/tf_fixtures/gen_conv.py
Writes tests/fixtures/tf/conv/cases.json (name -> expression, input names, differentiable inputs) and
cases.npz ("<name>/<input>", "<name>/out<j>", "<name>/grad_ys<j>", "<name>/grad_<input>"); and layers.json
(name -> expression, the variables it creates with their shapes) and layers.npz ("<name>/x" the input,
"<name>/var<j>" the values loaded into the variables, "<name>/out", "<name>/grad_ys", "<name>/grad_x",
"<name>/grad_var<j>"); and fractional.json/.npz: fractional pooling with TensorFlow's random regions
("<name>/x", "/out", "/rows", "/cols", "/grad_ys", "/grad_x"), to replay its gradient ops on those regions.
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # tf.compat.v1.layers needs the Keras 2 package (tf_keras)

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "tf", "conv")
RNG = np.random.RandomState(11)


def distinct(shape, dtype=np.float32):
    """Values with no ties (max pooling's gradient is then well defined), in a random order."""
    n = int(np.prod(shape))
    return (RNG.permutation(n).reshape(shape) / n * 4 - 2).astype(dtype)


def uniform(shape, dtype=np.float32):
    return RNG.uniform(-1, 1, shape).astype(dtype)


# name, expression, {input: array}, differentiable inputs
CASES = [
    # Conv3D and its backprops
    ("conv3d_same_strided", "tf.nn.conv3d(a, b, [1, 2, 1, 2, 1], 'SAME')",
     {"a": uniform((2, 5, 4, 6, 3)), "b": uniform((3, 2, 3, 3, 4))}, ["a", "b"]),
    ("conv3d_valid", "tf.nn.conv3d(a, b, [1, 1, 1, 1, 1], 'VALID')",
     {"a": uniform((1, 4, 5, 4, 2)), "b": uniform((2, 3, 2, 2, 3))}, ["a", "b"]),
    ("conv3d_valid_stride3", "tf.nn.conv3d(a, b, [1, 3, 2, 1, 1], 'VALID')",
     {"a": uniform((2, 7, 5, 4, 2)), "b": uniform((2, 2, 2, 2, 2))}, ["a", "b"]),
    ("conv3d_transpose_same", "tf.nn.conv3d_transpose(a, b, [2, 6, 5, 4, 3], [1, 2, 2, 1, 1], 'SAME')",
     {"a": uniform((2, 3, 3, 4, 2)), "b": uniform((3, 3, 2, 3, 2))}, ["a", "b"]),
    ("conv3d_transpose_valid", "tf.nn.conv3d_transpose(a, b, [1, 5, 7, 4, 2], [1, 1, 2, 1, 1], 'VALID')",
     {"a": uniform((1, 4, 3, 3, 3)), "b": uniform((2, 3, 2, 2, 3))}, ["a", "b"]),
    ("conv3d_backprop_filter", "tf.nn.conv3d_backprop_filter_v2(a, [2, 2, 3, 3, 2], b, [1, 2, 1, 2, 1], 'SAME')",
     {"a": uniform((2, 4, 5, 6, 3)), "b": uniform((2, 2, 5, 3, 2))}, ["a", "b"]),
    # the other transposed convolutions and ExtractVolumePatches
    ("conv1d_transpose_same", "tf.nn.conv1d_transpose(a, b, [2, 9, 3], 2)",
     {"a": uniform((2, 5, 4)), "b": uniform((3, 3, 4))}, ["a", "b"]),
    ("conv1d_transpose_valid", "tf.nn.conv1d_transpose(a, b, [1, 6, 2], 1, 'VALID')",
     {"a": uniform((1, 4, 3)), "b": uniform((3, 2, 3))}, ["a", "b"]),
    ("conv_transpose_3d", "tf.nn.conv_transpose(a, b, [1, 4, 5, 4, 2], [1, 2, 1, 2, 1], 'SAME')",
     {"a": uniform((1, 2, 5, 2, 3)), "b": uniform((2, 3, 2, 2, 3))}, ["a", "b"]),
    ("conv_transpose_2d", "tf.nn.conv_transpose(a, b, [2, 7, 5, 2], 2, 'VALID')",
     {"a": uniform((2, 3, 2, 3)), "b": uniform((3, 3, 2, 3))}, ["a", "b"]),
    ("atrous_conv2d_transpose_same", "tf.nn.atrous_conv2d_transpose(a, b, [2, 6, 7, 3], 2, 'SAME')",
     {"a": uniform((2, 6, 7, 4)), "b": uniform((3, 2, 3, 4))}, ["a", "b"]),
    ("atrous_conv2d_transpose_valid", "tf.nn.atrous_conv2d_transpose(a, b, [1, 9, 8, 2], 3, 'VALID')",
     {"a": uniform((1, 3, 5, 3)), "b": uniform((3, 2, 2, 3))}, ["a", "b"]),
    ("extract_volume_patches_same", "tf.extract_volume_patches(a, [1, 2, 3, 2, 1], [1, 2, 1, 2, 1], 'SAME')",
     {"a": uniform((2, 3, 4, 5, 2))}, ["a"]),
    ("extract_volume_patches_valid", "tf.extract_volume_patches(a, [1, 2, 2, 2, 1], [1, 1, 2, 1, 1], 'VALID')",
     {"a": uniform((1, 4, 5, 3, 3))}, ["a"]),
    # separable_conv2d
    ("separable_conv2d", "tf.nn.separable_conv2d(a, b, c, [1, 2, 2, 1], 'SAME')",
     {"a": uniform((2, 6, 5, 3)), "b": uniform((3, 3, 3, 2)), "c": uniform((1, 1, 6, 4))}, ["a", "b", "c"]),
    ("separable_conv2d_rate", "tf.nn.separable_conv2d(a, b, c, [1, 1, 1, 1], 'VALID', rate=[2, 2])",
     {"a": uniform((1, 7, 8, 2)), "b": uniform((2, 3, 2, 2)), "c": uniform((1, 1, 4, 3))}, ["a", "b", "c"]),
    ("separable_conv2d_rate_same", "tf.nn.separable_conv2d(a, b, c, [1, 1, 1, 1], 'SAME', rate=[2, 1])",
     {"a": uniform((1, 6, 5, 2)), "b": uniform((3, 2, 2, 1)), "c": uniform((1, 1, 2, 3))}, ["a", "b", "c"]),
    # 3-D pools
    ("max_pool3d_same", "tf.nn.max_pool3d(a, [1, 2, 3, 2, 1], [1, 2, 2, 1, 1], 'SAME')",
     {"a": distinct((2, 5, 4, 3, 2))}, ["a"]),
    ("max_pool3d_valid", "tf.nn.max_pool3d(a, [1, 2, 2, 2, 1], [1, 1, 2, 1, 1], 'VALID')",
     {"a": distinct((1, 4, 5, 3, 3))}, ["a"]),
    ("max_pool3d_ties", "tf.nn.max_pool3d(a, [1, 2, 2, 1, 1], [1, 1, 1, 1, 1], 'VALID')",
     {"a": np.ones((1, 3, 3, 2, 1), np.float32)}, ["a"]),
    ("avg_pool3d_same", "tf.nn.avg_pool3d(a, [1, 3, 2, 2, 1], [1, 2, 1, 2, 1], 'SAME')",
     {"a": uniform((2, 5, 4, 5, 2))}, ["a"]),
    ("avg_pool3d_valid", "tf.nn.avg_pool3d(a, [1, 2, 2, 2, 1], [1, 2, 2, 2, 1], 'VALID')",
     {"a": uniform((1, 4, 5, 4, 3))}, ["a"]),
    # fractional pooling where the regions are regular (the input size a multiple of the output size)
    ("fractional_max_pool_regular", "list(tf.nn.fractional_max_pool(a, [1.0, 2.0, 2.0, 1.0]))",
     {"a": distinct((2, 6, 8, 3))}, ["a"]),
    ("fractional_max_pool_regular_overlapping",
     "list(tf.nn.fractional_max_pool(a, [1.0, 2.0, 3.0, 1.0], overlapping=True, pseudo_random=True))",
     {"a": distinct((1, 6, 9, 2))}, ["a"]),
    ("fractional_avg_pool_regular_overlapping",
     "list(tf.nn.fractional_avg_pool(a, [1.0, 3.0, 2.0, 1.0], overlapping=True))",
     {"a": uniform((2, 9, 4, 2))}, ["a"]),
    # MaxPoolWithArgmax
    ("max_pool_with_argmax_same", "list(tf.nn.max_pool_with_argmax(a, [1, 3, 2, 1], [1, 2, 2, 1], 'SAME'))",
     {"a": distinct((2, 5, 6, 3))}, ["a"]),
    ("max_pool_with_argmax_batch",
     "list(tf.nn.max_pool_with_argmax(a, [1, 2, 2, 1], [1, 1, 2, 1], 'VALID', include_batch_in_index=True,"
     " output_dtype=tf.int64))",
     {"a": distinct((3, 4, 5, 2))}, ["a"]),
    ("max_pool_with_argmax_ties", "list(tf.nn.max_pool_with_argmax(a, [1, 2, 2, 1], [1, 1, 1, 1], 'SAME'))",
     {"a": np.ones((1, 3, 3, 2), np.float32)}, []),
    # tf.nn.pool, 1-D pools, max_pool_v2
    ("pool_max_dilated", "tf.nn.pool(a, [2, 2], 'MAX', 'VALID', dilation_rate=[2, 3])",
     {"a": distinct((2, 7, 8, 2))}, ["a"]),
    ("pool_avg_dilated", "tf.nn.pool(a, [3, 2], 'AVG', 'VALID', dilation_rate=[2, 2])",
     {"a": uniform((1, 8, 7, 3))}, ["a"]),
    ("pool_avg_strided_same", "tf.nn.pool(a, [3, 3], 'AVG', 'SAME', strides=[2, 2])",
     {"a": uniform((2, 5, 6, 2))}, ["a"]),
    ("pool_max_1d_dilated", "tf.nn.pool(a, [2], 'MAX', 'VALID', dilation_rate=[3])",
     {"a": distinct((2, 9, 3))}, ["a"]),
    ("pool_avg_3d", "tf.nn.pool(a, [2, 2, 2], 'AVG', 'SAME', strides=[1, 2, 2])",
     {"a": uniform((1, 3, 4, 5, 2))}, ["a"]),
    ("max_pool1d", "tf.nn.max_pool1d(a, 3, 2, 'SAME')", {"a": distinct((2, 7, 3))}, ["a"]),
    ("avg_pool1d", "tf.nn.avg_pool1d(a, [2], [1], 'VALID')", {"a": uniform((2, 5, 3))}, ["a"]),
    ("max_pool_v2_3d", "tf.nn.max_pool_v2(a, 2, 2, 'VALID')", {"a": distinct((1, 4, 4, 5, 2))}, ["a"]),
    # Dilation2D and erosion
    ("dilation2d_same", "tf.nn.dilation2d(a, b, [1, 1, 1, 1], [1, 1, 1, 1], 'SAME')",
     {"a": distinct((2, 5, 4, 3)), "b": distinct((2, 3, 3))}, ["a", "b"]),
    ("dilation2d_strided_rates", "tf.nn.dilation2d(a, b, [1, 2, 1, 1], [1, 2, 1, 1], 'VALID')",
     {"a": distinct((1, 8, 6, 2)), "b": distinct((2, 2, 2))}, ["a", "b"]),
    ("dilation2d_rates_same", "tf.nn.dilation2d(a, b, [1, 1, 2, 1], [1, 1, 2, 1], 'SAME')",
     {"a": distinct((1, 5, 7, 2)), "b": distinct((3, 2, 2))}, ["a", "b"]),
    ("erosion2d", "tf.nn.erosion2d(a, b, [1, 1, 1, 1], [1, 1, 1, 1], 'SAME')",
     {"a": distinct((2, 4, 5, 2)), "b": distinct((3, 2, 2))}, ["a", "b"]),
    ("erosion2d_valid", "tf.nn.erosion2d(a, b, [1, 2, 2, 1], [1, 1, 2, 1], 'VALID')",
     {"a": distinct((1, 7, 8, 3)), "b": distinct((2, 3, 3))}, ["a", "b"]),
    # space/depth and space/batch
    ("space_to_depth", "tf.space_to_depth(a, 2)", {"a": uniform((2, 4, 6, 3))}, ["a"]),
    ("depth_to_space", "tf.depth_to_space(a, 3)", {"a": uniform((2, 2, 3, 18))}, ["a"]),
    ("space_to_batch_nd", "tf.space_to_batch_nd(a, [2, 3], [[1, 1], [2, 1]])", {"a": uniform((2, 4, 6, 3))},
     ["a"]),
    ("space_to_batch_nd_1d_rest", "tf.space_to_batch_nd(a, [2], [[1, 3]])", {"a": uniform((3, 6, 2, 2))}, ["a"]),
    ("batch_to_space_nd", "tf.batch_to_space_nd(a, [2, 2], [[0, 1], [1, 0]])", {"a": uniform((8, 2, 3, 2))},
     ["a"]),
    ("batch_to_space_nd_3d", "tf.batch_to_space_nd(a, [1, 2, 3], [[0, 0], [1, 0], [0, 2]])",
     {"a": uniform((12, 2, 2, 2, 1))}, ["a"]),
    ("space_to_batch", "tf.space_to_batch(a, [[1, 0], [2, 1]], 3)", {"a": uniform((2, 5, 3, 2))}, ["a"]),
    ("batch_to_space", "tf.batch_to_space(a, [[1, 0], [0, 1]], 2)", {"a": uniform((8, 2, 3, 1))}, ["a"]),
    ("required_space_to_batch_paddings", "list(tf.required_space_to_batch_paddings([5, 7], [2, 3], [[1, 0], "
     "[2, 2]]))", {}, []),
]


def record():
    os.makedirs(OUT, exist_ok=True)
    arrays, index = {}, {}
    for name, expr, inputs, diff in CASES:
        graph = tf.Graph()
        with graph.as_default():
            placeholders = {k: tf.constant(v) for k, v in inputs.items()}
            outs = eval(expr, {"tf": tf}, placeholders)  # noqa: S307 - the case table above
            outs = outs if isinstance(outs, list) else [outs]
            grads = []
            if diff:
                ys = [y for y in outs if y.dtype.is_floating]
                grad_ys = [uniform(y.shape.as_list()) for y in ys]
                for j, g in enumerate(grad_ys):
                    arrays[f"{name}/grad_ys{j}"] = g
                grads = tf.gradients(ys, [placeholders[k] for k in diff], grad_ys=[tf.constant(g) for g in grad_ys])
            with tf.Session(graph=graph) as sess:
                values = sess.run([outs, grads])
        for k, v in inputs.items():
            arrays[f"{name}/{k}"] = v
        for j, v in enumerate(values[0]):
            arrays[f"{name}/out{j}"] = v
        for k, v in zip(diff, values[1]):
            arrays[f"{name}/grad_{k}"] = v
        index[name] = {"expr": expr, "inputs": sorted(inputs), "diff": diff}
    np.savez_compressed(os.path.join(OUT, "cases.npz"), **arrays)
    with open(os.path.join(OUT, "cases.json"), "w", encoding="utf-8") as f:
        json.dump(index, f, indent=1, sort_keys=True)


# name, expression over input x (a layer call in TF 1.x's tf.layers), input shape
LAYER_CASES = [
    ("conv1d", "tf.layers.conv1d(x, 4, 3, strides=2, padding='same')", (2, 9, 3)),
    ("conv1d_causal_dilated", "tf.layers.Conv1D(3, 3, padding='causal', dilation_rate=2, activation=tf.nn.relu)(x)",
     (2, 8, 2)),
    ("conv3d", "tf.layers.conv3d(x, 3, (2, 3, 2), strides=(1, 2, 1), padding='same', name='c3')", (2, 4, 5, 3, 2)),
    ("conv3d_dilated", "tf.layers.Conv3D(2, 2, dilation_rate=(2, 1, 1))(x)", (1, 5, 3, 4, 2)),
    ("conv2d_transpose_valid", "tf.layers.conv2d_transpose(x, 4, 3, strides=2)", (2, 3, 4, 2)),
    ("conv2d_transpose_same", "tf.layers.Conv2DTranspose(3, (2, 3), strides=(2, 1), padding='same')(x)",
     (1, 4, 3, 2)),
    ("conv3d_transpose", "tf.layers.conv3d_transpose(x, 2, 2, strides=(2, 1, 2), padding='valid')", (1, 2, 3, 2, 3)),
    ("separable_conv1d", "tf.layers.separable_conv1d(x, 5, 3, depth_multiplier=2, padding='same')", (2, 7, 3)),
    ("separable_conv1d_dilated", "tf.layers.SeparableConv1D(2, 2, dilation_rate=2)(x)", (1, 8, 2)),
    ("separable_conv2d", "tf.layers.separable_conv2d(x, 4, 3, strides=2, depth_multiplier=2)", (2, 7, 6, 2)),
    ("separable_conv2d_dilated", "tf.layers.SeparableConv2D(3, 2, dilation_rate=(2, 2), padding='same')(x)",
     (1, 6, 5, 2)),
    ("max_pooling1d", "tf.layers.max_pooling1d(x, 3, 2, padding='same')", (2, 7, 3)),
    ("average_pooling1d", "tf.layers.AveragePooling1D(2, 1)(x)", (2, 5, 2)),
    ("max_pooling3d", "tf.layers.MaxPooling3D(2, (1, 2, 2), padding='same')(x)", (1, 3, 4, 5, 2)),
    ("average_pooling3d", "tf.layers.average_pooling3d(x, (2, 2, 1), 2)", (2, 4, 4, 3, 2)),
]


def record_layers():
    arrays, index = {}, {}
    for name, expr, shape in LAYER_CASES:
        graph = tf.Graph()
        with graph.as_default():
            x = tf.constant(distinct(shape) if "max_pool" in name else uniform(shape))
            y = eval(expr, {"tf": tf, "x": x})  # noqa: S307 - the case table above
            variables = tf.global_variables()
            values = [uniform(v.shape.as_list()) for v in variables]
            with tf.Session(graph=graph) as sess:
                for v, value in zip(variables, values):
                    v.load(value, sess)
                out = sess.run(y)
                grad_ys = uniform(out.shape)
                grads = sess.run(tf.gradients(y, [x] + variables, grad_ys=tf.constant(grad_ys)))
            x_value = sess_free_value(x)
        arrays[f"{name}/x"] = x_value
        arrays[f"{name}/out"] = out
        arrays[f"{name}/grad_ys"] = grad_ys
        arrays[f"{name}/grad_x"] = grads[0]
        for j, (value, grad) in enumerate(zip(values, grads[1:])):
            arrays[f"{name}/var{j}"] = value
            arrays[f"{name}/grad_var{j}"] = grad
        index[name] = {"expr": expr, "variables": [[v.name, v.shape.as_list()] for v in variables],
                       "output": y.name, "static_shape": y.shape.as_list()}
    np.savez_compressed(os.path.join(OUT, "layers.npz"), **arrays)
    with open(os.path.join(OUT, "layers.json"), "w", encoding="utf-8") as f:
        json.dump(index, f, indent=1, sort_keys=True)


def sess_free_value(t):
    """The value of a constant tensor, read from its op."""
    return tf.make_ndarray(t.op.get_attr("value"))


# name, function, input shape, pooling_ratio, pseudo_random, overlapping
FRACTIONAL_CASES = [
    ("max_random", "max", (2, 7, 9, 3), [1.0, 1.5, 1.7, 1.0], False, False),
    ("max_pseudo_overlapping", "max", (1, 10, 8, 2), [1.0, 1.44, 1.73, 1.0], True, True),
    ("avg_random_overlapping", "avg", (2, 9, 7, 2), [1.0, 1.6, 1.3, 1.0], False, True),
    ("avg_pseudo", "avg", (1, 11, 10, 3), [1.0, 1.5, 2.2, 1.0], True, False),
]


def record_fractional():
    arrays, index = {}, {}
    for name, kind, shape, ratio, pseudo, overlapping in FRACTIONAL_CASES:
        graph = tf.Graph()
        with graph.as_default():
            x = tf.constant(distinct(shape) if kind == "max" else uniform(shape))
            fn = tf.nn.fractional_max_pool if kind == "max" else tf.nn.fractional_avg_pool
            out, rows, cols = fn(x, ratio, pseudo_random=pseudo, overlapping=overlapping, deterministic=True,
                                 seed=5, seed2=7)
            grad_ys = uniform(out.shape.as_list())
            grad = tf.gradients(out, x, grad_ys=tf.constant(grad_ys))[0]
            with tf.Session(graph=graph) as sess:
                values = sess.run([x, out, rows, cols, grad])
        for key, value in zip(["x", "out", "rows", "cols", "grad_x"], values):
            arrays[f"{name}/{key}"] = value
        arrays[f"{name}/grad_ys"] = grad_ys
        index[name] = {"kind": kind, "pooling_ratio": ratio, "pseudo_random": pseudo, "overlapping": overlapping}
    np.savez_compressed(os.path.join(OUT, "fractional.npz"), **arrays)
    with open(os.path.join(OUT, "fractional.json"), "w", encoding="utf-8") as f:
        json.dump(index, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    record()
    record_layers()
    record_fractional()
