"""tf.orthogonal_initializer (tf.initializers.orthogonal): TF's algorithm (QR of a normal draw, the sign of R's
diagonal, transposed for wide shapes, times gain) gives TensorFlow's matrices from TensorFlow's draws, recorded
in tests/fixtures/tf/misc_core/orthogonal.npz, and orthogonal matrices from tfmini's own draws."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tfmini as tf
from tfmini.ops import init_ops

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "misc_core"
CASES = json.loads((FIXTURES / "orthogonal.json").read_text(encoding="utf-8"))
RECORDED = np.load(FIXTURES / "orthogonal.npz")


@pytest.mark.parametrize("i", range(len(CASES)))
def test_tensorflows_draw_gives_tensorflows_matrix(i):
    case = CASES[i]
    with tf.Graph().as_default():
        out = case["gain"] * init_ops.orthogonalize(tf.constant(RECORDED[f"{i}/normal"]), case["shape"])
        with tf.Session() as sess:
            value = sess.run(out)
    expected = RECORDED[f"{i}/out"]
    assert value.shape == expected.shape and value.dtype == expected.dtype
    np.testing.assert_allclose(value, expected, atol=1e-5 if case["dtype"] == "float32" else 1e-12)


@pytest.mark.parametrize("shape", [[3, 5], [5, 3], [2, 3, 4], [4, 4], [1, 6]])
def test_the_rows_or_columns_are_orthonormal_times_gain(shape):
    with tf.Graph().as_default():
        v = tf.get_variable("v", shape, initializer=tf.orthogonal_initializer(gain=1.5, seed=3))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            value = sess.run(v).reshape(-1, shape[-1])
    assert value.dtype == np.float32
    small = value @ value.T if value.shape[0] < value.shape[1] else value.T @ value
    np.testing.assert_allclose(small, 2.25 * np.eye(len(small)), atol=1e-5)


def test_seeded_draws_repeat_and_the_config_round_trips():
    init = tf.initializers.orthogonal(gain=2.0, seed=5, dtype=tf.float64)
    assert tf.orthogonal_initializer is tf.initializers.orthogonal
    assert init.get_config() == {"gain": 2.0, "seed": 5, "dtype": "float64"}
    again = tf.orthogonal_initializer.from_config(init.get_config())
    values = []
    for initializer in (init, again):
        with tf.Graph().as_default() as g:
            g.seed = 1
            with tf.Session() as sess:
                values.append(sess.run(initializer([4, 3], dtype=tf.float64)))
    assert values[0].dtype == np.float64
    np.testing.assert_array_equal(values[0], values[1])


def test_shapes_of_fewer_than_two_dimensions_and_integer_dtypes_are_refused():
    with pytest.raises(ValueError, match="at least two-dimensional"):
        tf.orthogonal_initializer()([3])
    with pytest.raises(ValueError, match="Expected floating point type"):
        tf.orthogonal_initializer(dtype=tf.int32)
