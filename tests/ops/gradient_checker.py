"""Shared test helpers for op tests: `check_gradients` (tf.gradients against central finite differences in
float64) and `check_against_numpy` (an op run in a Session against a NumPy reference, value and dtype).

Import from tests in tests/ops as `from gradient_checker import check_gradients, check_against_numpy`
(pytest puts a test file's directory on sys.path).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

import tfmini as tf

# Shape pairs exercising NumPy broadcasting for binary ops: equal shapes, scalars on either side, rank
# extension, and size-1 dims stretched on both sides.
BROADCAST_SHAPES: list[tuple[tuple[int, ...], tuple[int, ...]]] = [
    ((), ()),
    ((3,), (3,)),
    ((2, 3), ()),
    ((), (2, 3)),
    ((2, 3), (3,)),
    ((3,), (2, 3)),
    ((2, 1), (1, 3)),
    ((4, 1, 3), (2, 1)),
    ((2, 3, 4), (2, 3, 4)),
]

FLOAT_DTYPES = (np.float16, np.float32, np.float64)
INT_DTYPES = (np.int32, np.int64)

# Default tolerances when comparing against NumPy, per result dtype.
_RTOL = {np.float16: 2e-3, np.float32: 2e-5, np.float64: 1e-12, np.complex64: 2e-5, np.complex128: 1e-12}


def random_array(shape, dtype=np.float64, low: float = -2.0, high: float = 2.0, seed: int = 0) -> np.ndarray:
    """A deterministic array of `shape` and `dtype` with values in [low, high) (integers: rounded)."""
    rng = np.random.RandomState(seed)
    values = rng.uniform(low, high, size=shape)
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        values = np.floor(values)
    elif dtype.kind == "b":
        values = values > (low + high) / 2
    return np.asarray(values).astype(dtype)


def _as_list(x) -> tuple[list, bool]:
    if isinstance(x, (list, tuple)):
        return list(x), True
    return [x], False


# ----------------------------------------------------------------------------------------------------------
# NumPy reference checks
# ----------------------------------------------------------------------------------------------------------
def check_against_numpy(
    tf_fn: Callable,
    np_fn: Callable,
    *arrays,
    dtypes: Sequence | None = None,
    expected_dtype=None,
    rtol: float | None = None,
    atol: float = 0.0,
    modes: Sequence[str] = ("feed", "const"),
) -> None:
    """Runs `tf_fn(*tensors)` in a Session and compares its value and dtype with `np_fn(*arrays)`.

    `dtypes`: run once per dtype, casting every array to it first (default: the arrays' own dtypes).
    `expected_dtype`: the dtype the op must return (a dtype, or a function of the input dtype); by default the
    dtype of NumPy's result. `modes`: "feed" passes the inputs as fed placeholders of unknown shape (the run-time
    path), "const" as constants (shape inference and constant folding). NaNs compare equal.
    """
    runs = [None] if dtypes is None else list(dtypes)
    for dtype in runs:
        vals = [np.asarray(a) if dtype is None else np.asarray(a).astype(dtype) for a in arrays]
        expected = np.asarray(np_fn(*vals))
        if expected_dtype is None:
            want_dtype = expected.dtype
        elif callable(expected_dtype) and not isinstance(expected_dtype, type):
            want_dtype = np.dtype(expected_dtype(np.dtype(dtype if dtype is not None else vals[0].dtype)))
        else:
            want_dtype = np.dtype(expected_dtype)
        for mode in modes:
            got = _run_on(tf_fn, vals, mode)
            where = (f"dtype={np.dtype(dtype).name if dtype is not None else 'as given'}, mode={mode}, "
                     f"shapes={[v.shape for v in vals]}")
            got_arr = np.asarray(got)
            assert got_arr.dtype == want_dtype, f"{where}: result dtype {got_arr.dtype}, expected {want_dtype}"
            assert got_arr.shape == expected.shape, f"{where}: result shape {got_arr.shape}, expected {expected.shape}"
            if want_dtype.kind in "fc":
                tol = _RTOL.get(want_dtype.type, 1e-6) if rtol is None else rtol
                np.testing.assert_allclose(
                    got_arr, expected.astype(want_dtype), rtol=tol, atol=atol, equal_nan=True, err_msg=where,
                )
            else:
                np.testing.assert_array_equal(got_arr, expected.astype(want_dtype), err_msg=where)


def _run_on(tf_fn: Callable, vals: list[np.ndarray], mode: str):
    with tf.Graph().as_default():
        if mode == "feed":
            inputs = [tf.placeholder(tf.as_dtype(v.dtype), shape=None) for v in vals]
            feed = dict(zip(inputs, vals))
        elif mode == "const":
            inputs = [tf.constant(v) for v in vals]
            feed = {}
        else:
            raise ValueError(f"unknown mode {mode!r}")
        out = tf_fn(*inputs)
        with tf.Session() as sess:
            value = sess.run(out, feed_dict=feed)
        if isinstance(out, tf.Tensor):
            assert out.shape.is_compatible_with(np.shape(value)), (
                f"static shape {out.shape} of {out.name} disagrees with run-time shape {np.shape(value)} ({mode})"
            )
        return value


# ----------------------------------------------------------------------------------------------------------
# Finite-difference gradient checks
# ----------------------------------------------------------------------------------------------------------
def check_gradients(
    fn_or_ys,
    xs_values,
    *,
    delta: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    seed: int = 0,
    feed_dict: dict | None = None,
) -> list[np.ndarray]:
    """Asserts that tf.gradients matches central finite differences (in float64) and returns the gradients.

    Two forms:
      * `check_gradients(fn, [x0, x1, ...])`: `fn(*xs)` builds ys from float64 placeholders fed with the given
        values (in a fresh graph); every x is differentiated.
      * `check_gradients(ys, {x_tensor: value, ...})`: ys (a tensor or list) already built in a graph; the keys
        are the tensors to differentiate (fed with the values; they must be float64).
    The check is on a random projection: L = sum_k sum(w_k * y_k) with fixed random weights w_k, given to
    tf.gradients as grad_ys, so it also checks that grad_ys are honoured. `feed_dict` feeds other tensors.
    """
    if callable(fn_or_ys) and not isinstance(fn_or_ys, tf.Tensor):
        values = [np.asarray(v, dtype=np.float64) for v in _as_list(xs_values)[0]]
        with tf.Graph().as_default():
            xs = [tf.placeholder(tf.float64, shape=v.shape, name=f"x{i}") for i, v in enumerate(values)]
            ys = fn_or_ys(*xs)
            return _check(ys, xs, values, delta, rtol, atol, seed, feed_dict)
    xs = list(xs_values.keys())
    values = [np.asarray(xs_values[x], dtype=np.float64) for x in xs]
    for x in xs:
        assert x.dtype.base_dtype == tf.float64, f"check_gradients needs float64 xs, got {x.name}: {x.dtype.name}"
    with xs[0].graph.as_default():
        return _check(fn_or_ys, xs, values, delta, rtol, atol, seed, feed_dict)


def _check(ys, xs, values, delta, rtol, atol, seed, feed_dict) -> list[np.ndarray]:
    ys, _ = _as_list(ys)
    base_feed = dict(feed_dict or {})
    with tf.Session() as sess:
        y_vals = sess.run(ys, feed_dict={**base_feed, **dict(zip(xs, values))})
        rng = np.random.RandomState(seed)
        weights = [rng.uniform(0.5, 1.5, size=np.shape(v)) * rng.choice([-1.0, 1.0], size=np.shape(v))
                   for v in y_vals]
        grad_ys = [tf.constant(w, dtype=y.dtype.base_dtype) for w, y in zip(weights, ys)]
        grads = tf.gradients(ys, xs, grad_ys=grad_ys)
        for x, g in zip(xs, grads):
            assert g is not None, f"tf.gradients returned None for {x.name}: it is not connected to ys"
        analytic = [_dense(v) for v in sess.run(grads, feed_dict={**base_feed, **dict(zip(xs, values))})]

        def objective(point: list[np.ndarray]) -> float:
            outs = sess.run(ys, feed_dict={**base_feed, **dict(zip(xs, point))})
            return float(sum(np.sum(w * np.asarray(o, dtype=np.float64)) for w, o in zip(weights, outs)))

        for i, (x, v, a) in enumerate(zip(xs, values, analytic)):
            assert a.shape == v.shape, f"gradient for {x.name} has shape {a.shape}, expected {v.shape}"
            numeric = np.zeros_like(v)
            for idx in np.ndindex(*v.shape):
                point = [p.copy() for p in values]
                point[i][idx] += delta
                up = objective(point)
                point[i][idx] -= 2 * delta
                down = objective(point)
                numeric[idx] = (up - down) / (2 * delta)
            err = np.abs(a - numeric)
            bound = atol + rtol * np.abs(numeric)
            if np.any(err > bound) or not np.all(np.isfinite(a)):
                worst = np.unravel_index(np.argmax(err - bound), err.shape) if err.size else ()
                raise AssertionError(
                    f"gradient of ys w.r.t. {x.name} (input {i}, shape {v.shape}) disagrees with finite differences:"
                    f" max abs error {np.max(err):.3g} at {tuple(int(k) for k in worst)}: "
                    f"tf.gradients {a[worst]!r} vs numeric {numeric[worst]!r}\n"
                    f"tf.gradients:\n{a}\nnumeric:\n{numeric}"
                )
    return analytic


def _dense(value) -> np.ndarray:
    """A fetched gradient as a dense float64 array (IndexedSlicesValue is scattered-added into zeros)."""
    if hasattr(value, "indices") and hasattr(value, "values") and hasattr(value, "dense_shape"):
        out = np.zeros(np.asarray(value.dense_shape), dtype=np.float64)
        np.add.at(out, np.asarray(value.indices), np.asarray(value.values, dtype=np.float64))
        return out
    return np.asarray(value, dtype=np.float64)
