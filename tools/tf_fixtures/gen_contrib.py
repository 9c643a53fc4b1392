"""Records TensorFlow's numbers for the computations tf.contrib.layers shares with tf.compat.v1 (TF 2.21 has no
tf.contrib), for tests/contrib/test_contrib_layers.py.

    /work/tfenv/bin/python tools/tf_fixtures/gen_contrib.py

contrib.layers.batch_norm with its defaults (decay 0.999, epsilon 0.001, center, no scale, fused) runs TF's
fused kernel (2-D inputs reshaped to [N, 1, 1, C]) with moving averages updated as contrib updates them: three
training steps record the outputs and the moving mean and variance, then one inference step. conv2d (rate 2)
and conv2d_transpose (stride 2, SAME and VALID) run with fixed weights. Writes tests/fixtures/tf/contrib/layers.npz
(inputs and weights included).
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "tf" / "contrib" / "layers.npz"
RNG = np.random.RandomState(7)


def batch_norm_steps(batches: list[np.ndarray], test_batch: np.ndarray, rank: int) -> dict:
    """Outputs and moving statistics of contrib's default batch_norm (beta initialized to 0.1) after each training
    batch, then one inference batch: TF's fused kernel, whose batch variance output is the unbiased one, and
    moving averages m -= (m - value) * (1 - decay)."""
    graph = tf.Graph()
    with graph.as_default():
        channels = batches[0].shape[-1]
        x = tf.placeholder(tf.float32, [None] + list(batches[0].shape[1:]))
        x4 = x if rank == 4 else tf.reshape(x, [-1, 1, 1, channels])
        beta = tf.Variable(np.full(channels, 0.1, np.float32))
        gamma = tf.ones([channels])
        moving_mean = tf.Variable(np.zeros(channels, np.float32))
        moving_var = tf.Variable(np.ones(channels, np.float32))
        y, mean, var = tf.nn.fused_batch_norm(x4, gamma, beta, epsilon=0.001, is_training=True)
        decay = 0.999
        updates = [tf.assign_sub(moving_mean, (moving_mean - mean) * (1 - decay)),
                   tf.assign_sub(moving_var, (moving_var - var) * (1 - decay))]
        y_test, _, _ = tf.nn.fused_batch_norm(x4, gamma, beta, mean=moving_mean, variance=moving_var,
                                              epsilon=0.001, is_training=False)
        if rank != 4:
            y, y_test = tf.reshape(y, tf.shape(x)), tf.reshape(y_test, tf.shape(x))
        out: dict = {}
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for i, batch in enumerate(batches):
                out[f"y{i}"], _ = sess.run([y, updates], {x: batch})
                out[f"mean{i}"], out[f"var{i}"] = sess.run([moving_mean, moving_var])
            out["y_test"] = sess.run(y_test, {x: test_batch})
    return out


def conv_cases(images: np.ndarray, kernel: np.ndarray, bias: np.ndarray, t_kernel: np.ndarray) -> dict:
    """relu(conv2d(rate 2) + bias) and relu(conv2d_transpose(stride 2) + bias) for SAME and VALID."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.constant(images)
        outs = {"dilated": tf.nn.relu(tf.nn.bias_add(
            tf.nn.conv2d(x, kernel, strides=[1, 1, 1, 1], padding="SAME", dilations=[1, 2, 2, 1]), bias))}
        n, h, w, _ = images.shape
        kh, kw, out_channels, _ = t_kernel.shape
        for padding in ("SAME", "VALID"):
            oh, ow = (h * 2, w * 2) if padding == "SAME" else (h * 2 + max(kh - 2, 0), w * 2 + max(kw - 2, 0))
            y = tf.nn.conv2d_transpose(x, t_kernel, [n, oh, ow, out_channels], [1, 2, 2, 1], padding=padding)
            outs[f"transpose_{padding}"] = tf.nn.relu(tf.nn.bias_add(y, bias[:out_channels]))
        with tf.Session() as sess:
            return sess.run(outs)


def main() -> None:
    arrays: dict[str, np.ndarray] = {}
    for rank, shape in ((4, (6, 3, 3, 4)), (2, (8, 5))):
        batches = [(RNG.randn(*shape) * 2 + 1).astype(np.float32) for _ in range(3)]
        test_batch = RNG.randn(*shape).astype(np.float32)
        arrays[f"bn{rank}_test_batch"] = test_batch
        for i, b in enumerate(batches):
            arrays[f"bn{rank}_batch{i}"] = b
        for key, value in batch_norm_steps(batches, test_batch, rank).items():
            arrays[f"bn{rank}_{key}"] = value
    images = RNG.randn(2, 7, 7, 3).astype(np.float32)
    kernel = RNG.randn(3, 3, 3, 4).astype(np.float32)
    t_kernel = RNG.randn(3, 3, 2, 3).astype(np.float32)  # [kh, kw, out, in] as contrib's transposed weights
    bias = RNG.randn(4).astype(np.float32)
    arrays.update(images=images, kernel=kernel, t_kernel=t_kernel, bias=bias)
    for key, value in conv_cases(images, kernel, bias, t_kernel).items():
        arrays[key] = value
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(arrays)} arrays)")


if __name__ == "__main__":
    main()
