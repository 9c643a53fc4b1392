"""Fractional pooling (tf.nn.fractional_max_pool, fractional_avg_pool and their gradient ops): regular cases
recorded from TensorFlow, TensorFlow's gradients on regions it drew, the regions' properties, pooling against a
reference over the returned regions, determinism, finite-difference gradients and the errors."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from conv_recorded_cases import FIXTURES, cases_starting, check_recorded_case
from gradient_checker import check_gradients, random_array

import tfmini as tf
from tfmini.framework.registry import apply_op


@pytest.mark.parametrize("name", cases_starting("fractional"))
def test_regular_regions_match_recorded_tensorflow(name):
    check_recorded_case(name)


FRACTIONAL = json.loads((FIXTURES / "fractional.json").read_text(encoding="utf-8"))
FRACTIONAL_ARRAYS = np.load(FIXTURES / "fractional.npz")


def _fractional_reference(x, rows, cols, overlapping, reduce):
    """Pools each region [rows[i], rows[i + 1]) x [cols[j], cols[j + 1]) (one more row and column when
    overlapping, within the input)."""
    extra = 1 if overlapping else 0
    out = np.zeros((x.shape[0], len(rows) - 1, len(cols) - 1, x.shape[3]), dtype=np.float64)
    for i, j in itertools.product(range(len(rows) - 1), range(len(cols) - 1)):
        region = x[:, rows[i]:min(rows[i + 1] + extra, x.shape[1]), cols[j]:min(cols[j + 1] + extra, x.shape[2])]
        out[:, i, j] = reduce(region, axis=(1, 2))
    return out


@pytest.mark.parametrize("name", sorted(FRACTIONAL))
def test_fractional_gradient_ops_on_tensorflows_random_regions(name):
    """TF's forward output is the reference pooling of its regions, and tfmini's gradient ops give TF's input
    gradient for those regions."""
    case, a = FRACTIONAL[name], {k: FRACTIONAL_ARRAYS[f"{name}/{k}"] for k in ("x", "out", "rows", "cols",
                                                                              "grad_ys", "grad_x")}
    reduce = np.max if case["kind"] == "max" else np.mean
    np.testing.assert_allclose(_fractional_reference(a["x"], a["rows"], a["cols"], case["overlapping"], reduce),
                               a["out"], rtol=1e-6)
    with tf.Graph().as_default(), tf.Session() as sess:
        attrs = {"overlapping": case["overlapping"]}
        if case["kind"] == "max":
            grad = apply_op("FractionalMaxPoolGrad", [a["x"], a["out"], a["grad_ys"], a["rows"], a["cols"]], attrs)
        else:
            grad = apply_op("FractionalAvgPoolGrad", [np.array(a["x"].shape, np.int64), a["grad_ys"], a["rows"],
                                                      a["cols"]], attrs)
        got = sess.run(grad.outputs[0])
    np.testing.assert_allclose(got, a["grad_x"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("pseudo_random", [False, True])
@pytest.mark.parametrize("overlapping", [False, True])
@pytest.mark.parametrize("fn, reduce", [(tf.nn.fractional_max_pool, np.max), (tf.nn.fractional_avg_pool, np.mean)])
def test_fractional_pools_pool_the_regions_they_return(fn, reduce, overlapping, pseudo_random):
    x = random_array((2, 11, 13, 2), seed=30)
    with tf.Graph().as_default(), tf.Session() as sess:
        result = fn(x, [1, 1.6, 1.45, 1], pseudo_random=pseudo_random, overlapping=overlapping)
        assert result.output.shape.as_list() == [2, 6, 8, 2] and result.row_pooling_sequence.dtype == tf.int64
        out, rows, cols = sess.run(result)
    for seq, length, regions in ((rows, 11, 6), (cols, 13, 8)):
        assert seq[0] == 0 and seq[-1] == length and len(seq) == regions + 1
        sizes = np.diff(seq)
        assert sizes.min() >= 1 and sizes.max() <= 2 * (length // regions) + 1
        if not pseudo_random:
            assert sorted(set(sizes)) == [length // regions, length // regions + 1]
    np.testing.assert_allclose(out, _fractional_reference(x, rows, cols, overlapping, reduce), rtol=1e-12)


def test_fractional_pool_regions_are_fixed_only_when_deterministic():
    x = random_array((1, 20, 20, 1), seed=31)
    with tf.Graph().as_default(), tf.Session() as sess:
        free = tf.nn.fractional_max_pool(x, [1, 1.4, 1.4, 1])
        fixed = tf.nn.fractional_max_pool(x, [1, 1.4, 1.4, 1], deterministic=True, seed=3, seed2=4)
        free_rows = {tuple(sess.run(free.row_pooling_sequence)) for _ in range(8)}
        fixed_rows = {tuple(sess.run(fixed.row_pooling_sequence)) for _ in range(8)}
        same_seeds = tf.nn.fractional_max_pool(x, [1, 1.4, 1.4, 1], deterministic=True, seed=3, seed2=4)
        assert tuple(sess.run(same_seeds.row_pooling_sequence)) in fixed_rows
    assert len(free_rows) > 1 and len(fixed_rows) == 1


def test_fractional_pool_gradients_match_finite_differences_for_fixed_regions():
    x = random_array((1, 7, 6, 2), seed=32)
    for fn in (tf.nn.fractional_max_pool, tf.nn.fractional_avg_pool):
        check_gradients(lambda t, fn=fn: fn(t, [1, 1.5, 1.3, 1], overlapping=True, deterministic=True, seed=1,
                                            seed2=2).output, [x])


def test_fractional_pool_errors():
    with tf.Graph().as_default(), tf.Session() as sess:
        with pytest.raises(ValueError, match="smaller than 1"):
            tf.nn.fractional_max_pool(tf.zeros([1, 4, 4, 1]), [1, 0.5, 2, 1])
        with pytest.raises(ValueError, match="batch nor channel"):
            tf.nn.fractional_avg_pool(tf.zeros([1, 4, 4, 1]), [2, 2, 2, 1])
        with pytest.raises(ValueError, match="4 dimensions"):
            tf.nn.fractional_avg_pool(tf.zeros([1, 4, 4, 1]), [1, 2, 2])
        seeded = tf.nn.fractional_max_pool(tf.zeros([1, 4, 4, 1]), [1, 2, 2, 1], seed=1)
        with pytest.raises(tf.errors.InvalidArgumentError, match="deterministic is false"):
            sess.run(seeded.output)
        x = tf.placeholder(tf.float32)
        fed = tf.nn.fractional_max_pool(x, [1, 2, 2, 1])
        with pytest.raises(tf.errors.InvalidArgumentError, match="4-dimensional"):
            sess.run(fed.output, {x: np.zeros((4, 4))})
        assert sess.run(fed.output, {x: np.ones((1, 4, 4, 1))}).shape == (1, 2, 2, 1)
