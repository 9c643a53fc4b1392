"""The benchmark workloads of issue 6, each as a tfmini graph (built with the TF1 API, so the same builder
serves TensorFlow's compat.v1 module) and as hand-written NumPy doing the same math.

A workload is a `Workload(name, build, numpy_step)`: `build(tf, weights)` returns `(fetches, feed_dict)`
for one `Session.run` step; `numpy_step(weights, feeds)` returns the step's result. Weights are drawn once
with NumPy and shared by every side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class Workload:
    name: str
    make_data: Callable[[np.random.Generator], dict]
    build: Callable  # (tf, data) -> (fetches, feed_dict, check_fetch)
    numpy_factory: Callable  # data -> step() -> result to compare
    stateful: bool = False   # training steps change weights: correctness is checked on a fresh copy


def _f32(rng, *shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


# -- 1. trivial -------------------------------------------------------------------------------------------
def _trivial_data(rng):
    return {"a": np.float32(3.0), "b": np.float32(4.0)}


def _trivial_build(tf, d):
    c = tf.constant(d["a"]) * tf.constant(d["b"])
    return c, None, c


def _trivial_numpy(d):
    a, b = d["a"], d["b"]
    return lambda: a * b


# -- 2. feed_small ----------------------------------------------------------------------------------------
def _feed_small_data(rng):
    return {"x": _f32(rng, 32, 10), "W": _f32(rng, 10, 16, scale=0.3), "b": _f32(rng, 16, scale=0.1)}


def _feed_small_build(tf, d):
    x = tf.placeholder(tf.float32, [32, 10], name="x")
    y = tf.reduce_sum(tf.nn.relu(tf.matmul(x, tf.constant(d["W"])) + tf.constant(d["b"])))
    return y, {x: d["x"]}, y


def _feed_small_numpy(d):
    x, W, b = d["x"], d["W"], d["b"]

    def step():
        return np.maximum(x @ W + b, 0).sum(dtype=np.float32)

    return step


# -- 3/4. MLP ---------------------------------------------------------------------------------------------
_MLP = (784, 512, 256, 10)


def _mlp_data(rng):
    d = {"x": _f32(rng, 256, 784)}
    labels = rng.integers(0, 10, size=256)
    d["y"] = np.eye(10, dtype=np.float32)[labels]
    for i, (n_in, n_out) in enumerate(zip(_MLP, _MLP[1:])):
        d[f"W{i}"] = _f32(rng, n_in, n_out, scale=np.sqrt(2.0 / n_in))
        d[f"b{i}"] = np.zeros(n_out, np.float32)
    return d


def _mlp_logits(tf, x, params):
    h = x
    for i in range(3):
        h = tf.matmul(h, params[f"W{i}"]) + params[f"b{i}"]
        if i < 2:
            h = tf.nn.relu(h)
    return h


def _mlp_infer_build(tf, d):
    x = tf.placeholder(tf.float32, [None, 784], name="x")
    params = {k: tf.constant(v) for k, v in d.items() if k[0] in "Wb"}
    probs = tf.nn.softmax(_mlp_logits(tf, x, params))
    return probs, {x: d["x"]}, probs


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _mlp_infer_numpy(d):
    x = d["x"]
    W = [d[f"W{i}"] for i in range(3)]
    b = [d[f"b{i}"] for i in range(3)]

    def step():
        h = np.maximum(x @ W[0] + b[0], 0)
        h = np.maximum(h @ W[1] + b[1], 0)
        return _softmax(h @ W[2] + b[2])

    return step


def _mlp_train_build(tf, d):
    x = tf.placeholder(tf.float32, [None, 784], name="x")
    y = tf.placeholder(tf.float32, [None, 10], name="y")
    params = {k: tf.Variable(v, name=k) for k, v in d.items() if k[0] in "Wb"}
    logits = _mlp_logits(tf, x, params)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    init = tf.global_variables_initializer()
    return [train, loss], {x: d["x"], y: d["y"]}, loss, init


def _mlp_train_numpy(d):
    x, y = d["x"], d["y"]
    W = [d[f"W{i}"].copy() for i in range(3)]
    b = [d[f"b{i}"].copy() for i in range(3)]
    lr = np.float32(0.1)
    n = np.float32(x.shape[0])

    def step():
        a1 = x @ W[0] + b[0]
        h1 = np.maximum(a1, 0)
        a2 = h1 @ W[1] + b[1]
        h2 = np.maximum(a2, 0)
        z = h2 @ W[2] + b[2]
        zs = z - z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(zs).sum(axis=1, keepdims=True))
        logp = zs - lse
        loss = -(y * logp).sum(axis=1).mean(dtype=np.float32)
        g = (np.exp(logp) - y) / n
        gW2, gb2 = h2.T @ g, g.sum(axis=0)
        g = (g @ W[2].T) * (a2 > 0)
        gW1, gb1 = h1.T @ g, g.sum(axis=0)
        g = (g @ W[1].T) * (a1 > 0)
        gW0, gb0 = x.T @ g, g.sum(axis=0)
        for p, gp in zip(W + b, (gW0, gW1, gW2, gb0, gb1, gb2)):
            p -= lr * gp
        return loss

    return step


# -- 5. wide_elementwise ----------------------------------------------------------------------------------
_N_ELEMENTWISE = 500


def _wide_data(rng):
    return {"x": _f32(rng, 64), "c": rng.uniform(0.5, 1.5, size=(_N_ELEMENTWISE, 1)).astype(np.float32)}


def _wide_program(x, c, mul, add, tanh, maximum, sub):
    """500 elementwise ops: chains of (mul, add, tanh, maximum, sub) merged by a tree of adds, then a short
    tail; the same program for every side (the ops are passed in)."""
    chains, k = [], 0
    n_chains = 83  # 83 chains of 5 ops + 82 merging adds + 3 tail ops = 500
    for _ in range(n_chains):
        t = mul(x, c[k % len(c)])
        t = add(t, c[(k + 1) % len(c)])
        t = tanh(t)
        t = maximum(t, c[(k + 2) % len(c)] - 1.0)
        t = sub(t, c[(k + 3) % len(c)])
        k += 4
        chains.append(t)
    while len(chains) > 1:
        merged = [add(chains[i], chains[i + 1]) for i in range(0, len(chains) - 1, 2)]
        if len(chains) % 2:
            merged.append(chains[-1])
        chains = merged
    t = mul(chains[0], c[0])
    t = add(t, c[1])
    return tanh(t)


def _wide_build(tf, d):
    x = tf.placeholder(tf.float32, [64], name="x")
    consts = [tf.constant(v) for v in d["c"][:, 0]]
    out = _wide_program(x, consts, tf.multiply, tf.add, tf.tanh, tf.maximum, tf.subtract)
    return out, {x: d["x"]}, out


def _wide_numpy(d):
    x = d["x"]
    consts = [np.float32(v) for v in d["c"][:, 0]]
    return lambda: _wide_program(x, consts, np.multiply, np.add, np.tanh, np.maximum, np.subtract)


# -- 6. conv ----------------------------------------------------------------------------------------------
def _conv_data(rng):
    return {"x": _f32(rng, 32, 28, 28, 16), "K": _f32(rng, 3, 3, 16, 32, scale=0.1), "b": _f32(rng, 32, scale=0.1)}


def _conv_build(tf, d):
    x = tf.placeholder(tf.float32, [None, 28, 28, 16], name="x")
    y = tf.nn.conv2d(x, tf.constant(d["K"]), strides=[1, 1, 1, 1], padding="SAME")
    y = tf.nn.relu(tf.nn.bias_add(y, tf.constant(d["b"])))
    y = tf.nn.max_pool(y, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="VALID")
    return y, {x: d["x"]}, y


def _conv_numpy(d):
    """A strong im2col NumPy version: pad once, a strided window view, one GEMM, fused bias+relu, pool by
    reshape."""
    x, K, b = d["x"], d["K"], d["b"]
    Kmat = K.reshape(-1, K.shape[-1])
    n, h, w, cin = x.shape
    padded = np.zeros((n, h + 2, w + 2, cin), np.float32)

    def step():
        padded[:, 1:-1, 1:-1, :] = x
        s = padded.strides
        cols = np.lib.stride_tricks.as_strided(padded, (n, h, w, 3, 3, cin), (s[0], s[1], s[2], s[1], s[2], s[3]))
        y = cols.reshape(n * h * w, 9 * cin) @ Kmat
        y += b
        np.maximum(y, 0, out=y)
        return y.reshape(n, h // 2, 2, w // 2, 2, -1).max(axis=(2, 4))

    return step


# -- 6b. cnn_train ----------------------------------------------------------------------------------------
def _cnn_data(rng):
    labels = rng.integers(0, 10, 32)
    return {"x": _f32(rng, 32, 28, 28, 1), "y": np.eye(10, dtype=np.float32)[labels],
            "K1": _f32(rng, 3, 3, 1, 16, scale=0.3), "b1": np.zeros(16, np.float32),
            "K2": _f32(rng, 3, 3, 16, 32, scale=0.1), "b2": np.zeros(32, np.float32),
            "W": _f32(rng, 7 * 7 * 32, 10, scale=0.03), "b3": np.zeros(10, np.float32)}


def _cnn_train_build(tf, d):
    """One SGD step of a small CNN: conv 3x3 -> 16, relu, 2x2 max-pool, conv 3x3 -> 32, relu, 2x2 max-pool,
    dense -> 10, softmax cross-entropy."""
    def pool(t):
        return tf.nn.max_pool(t, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="VALID")

    x = tf.placeholder(tf.float32, [None, 28, 28, 1], name="x")
    labels = tf.placeholder(tf.float32, [None, 10], name="labels")
    v = {k: tf.Variable(d[k], name=k) for k in ("K1", "b1", "K2", "b2", "W", "b3")}
    h = pool(tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, v["K1"], [1, 1, 1, 1], "SAME"), v["b1"])))
    h = pool(tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(h, v["K2"], [1, 1, 1, 1], "SAME"), v["b2"])))
    logits = tf.matmul(tf.reshape(h, [-1, 7 * 7 * 32]), v["W"]) + v["b3"]
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits))
    train = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
    return [train, loss], {x: d["x"], labels: d["y"]}, loss, tf.global_variables_initializer()


def _im2col_3x3_same(x):
    """(columns (n*h*w, 9*c), padded input) of a 3x3 SAME stride-1 convolution, through a strided view."""
    n, h, w, c = x.shape
    padded = np.zeros((n, h + 2, w + 2, c), x.dtype)
    padded[:, 1:-1, 1:-1] = x
    s = padded.strides
    view = np.lib.stride_tricks.as_strided(padded, (n, h, w, 3, 3, c), (s[0], s[1], s[2], s[1], s[2], s[3]))
    return view.reshape(n * h * w, 9 * c)


def _pool_2x2(a):
    n, h, w, c = a.shape
    return a.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


def _pool_2x2_grad(a, pooled, g):
    """The pool's gradient on every element equal to its window's maximum (ties after relu are zeros, whose
    gradient the relu mask removes anyway)."""
    n, h, w, c = a.shape
    mask = a.reshape(n, h // 2, 2, w // 2, 2, c) == pooled[:, :, None, :, None, :]
    return (mask * g[:, :, None, :, None, :]).reshape(a.shape)


def _cnn_train_numpy(d):
    """The CNN step by hand: im2col convolutions, the input gradient of the second convolution as a
    convolution of its output gradient with the flipped filter, pool gradients by masks."""
    x, y = d["x"], d["y"]
    params = {k: d[k].copy() for k in ("K1", "b1", "K2", "b2", "W", "b3")}
    lr = np.float32(0.01)
    n = x.shape[0]

    def step():
        K1, b1, K2, b2, W, b3 = (params[k] for k in ("K1", "b1", "K2", "b2", "W", "b3"))
        cols1 = _im2col_3x3_same(x)
        a1 = (cols1 @ K1.reshape(9, 16)).reshape(n, 28, 28, 16) + b1
        r1 = np.maximum(a1, 0)
        p1 = _pool_2x2(r1)
        cols2 = _im2col_3x3_same(p1)
        a2 = (cols2 @ K2.reshape(144, 32)).reshape(n, 14, 14, 32) + b2
        r2 = np.maximum(a2, 0)
        p2 = _pool_2x2(r2)
        flat = p2.reshape(n, -1)
        z = flat @ W + b3
        zs = z - z.max(axis=1, keepdims=True)
        logp = zs - np.log(np.exp(zs).sum(axis=1, keepdims=True))
        loss = -(y * logp).sum(axis=1).mean(dtype=np.float32)
        g = (np.exp(logp) - y) / np.float32(n)
        grads = {"W": flat.T @ g, "b3": g.sum(axis=0)}
        g2 = _pool_2x2_grad(r2, p2, (g @ W.T).reshape(p2.shape)) * (a2 > 0)
        g2m = g2.reshape(-1, 32)
        grads["K2"], grads["b2"] = (cols2.T @ g2m).reshape(K2.shape), g2m.sum(axis=0)
        flipped = K2[::-1, ::-1].transpose(0, 1, 3, 2).reshape(288, 16)
        gp1 = (_im2col_3x3_same(g2) @ flipped).reshape(p1.shape)
        g1 = (_pool_2x2_grad(r1, p1, gp1) * (a1 > 0)).reshape(-1, 16)
        grads["K1"], grads["b1"] = (cols1.T @ g1).reshape(K1.shape), g1.sum(axis=0)
        for k, gk in grads.items():
            params[k] -= lr * gk
        return loss

    return step


# -- 7. big_matmul ----------------------------------------------------------------------------------------
def _big_data(rng):
    return {"A": _f32(rng, 1024, 1024), "B": _f32(rng, 1024, 1024)}


def _big_build(tf, d):
    A = tf.Variable(d["A"], name="A")
    B = tf.Variable(d["B"], name="B")
    y = tf.matmul(A, B)
    return y, None, y, tf.global_variables_initializer()


def _big_numpy(d):
    A, B = d["A"], d["B"]
    return lambda: A @ B


WORKLOADS = [
    Workload("trivial", _trivial_data, _trivial_build, _trivial_numpy),
    Workload("feed_small", _feed_small_data, _feed_small_build, _feed_small_numpy),
    Workload("mlp_infer", _mlp_data, _mlp_infer_build, _mlp_infer_numpy),
    Workload("mlp_train", _mlp_data, _mlp_train_build, _mlp_train_numpy, stateful=True),
    Workload("wide_elementwise", _wide_data, _wide_build, _wide_numpy),
    Workload("conv", _conv_data, _conv_build, _conv_numpy),
    Workload("cnn_train", _cnn_data, _cnn_train_build, _cnn_train_numpy, stateful=True),
    Workload("big_matmul", _big_data, _big_build, _big_numpy),
]

TARGETS = {
    "trivial": 10.0,
    "feed_small": 2.0,
    "mlp_infer": 1.05,
    "mlp_train": 1.10,
    "wide_elementwise": 1.3,
    "conv": 1.0,
    "cnn_train": 1.10,
    "big_matmul": 1.02,
}

# tfmini / TensorFlow targets (paired trials in one process); workloads without one are compared only.
TARGETS_VS_TF = {
    "mlp_train": 1.0,
    "conv": 1.0,
    "cnn_train": 1.10,
    "big_matmul": 1.05,
}

# A FULL_TRACE training step against the same step untraced.
TRACED_TARGET = 1.5
