"""tf.fft ... tf.ifft3d (and tf.spectral's names) against NumPy's transforms, with gradients through complex
inputs checked by finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from gradient_checker import check_gradients

import tfmini as tf
from tfmini.framework import errors

_CASES = [
    (tf.fft, np.fft.fft, {}),
    (tf.ifft, np.fft.ifft, {}),
    (tf.fft2d, np.fft.fft2, {}),
    (tf.ifft2d, np.fft.ifft2, {}),
    (tf.fft3d, np.fft.fftn, {"axes": (-3, -2, -1)}),
    (tf.ifft3d, np.fft.ifftn, {"axes": (-3, -2, -1)}),
]


@pytest.mark.parametrize("fn, ref, kwargs", _CASES)
@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_transforms_match_numpy(fn, ref, kwargs, dtype):
    rng = np.random.RandomState(0)
    x = (rng.normal(size=(2, 3, 4, 5)) + 1j * rng.normal(size=(2, 3, 4, 5))).astype(dtype)
    with tf.Session() as sess:
        got = sess.run(fn(x))
    assert got.dtype == dtype
    np.testing.assert_allclose(got, ref(x, **kwargs), rtol=1e-4 if dtype == np.complex64 else 1e-12, atol=1e-5)


@pytest.mark.parametrize("fn, ref, kwargs", _CASES)
def test_transform_gradients(fn, ref, kwargs):
    rng = np.random.RandomState(1)
    re, im = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))

    def loss_parts(x, y):
        z = fn(tf.complex(x, y))
        return [tf.real(z), tf.imag(z)]

    check_gradients(loss_parts, [re, im])


def test_spectral_names_and_errors():
    assert tf.spectral.fft is tf.fft and tf.spectral.ifft3d is tf.ifft3d
    with pytest.raises(TypeError):
        tf.fft(tf.constant([1.0, 2.0]))
    with pytest.raises(ValueError):
        tf.fft2d(tf.constant([1 + 0j, 2 + 0j]))
    x = tf.placeholder(tf.complex64)
    y = tf.fft3d(x)
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError, match="at least 3D"):
            sess.run(y, {x: np.ones((2, 2), np.complex64)})
        assert sess.run(y, {x: np.ones((1, 1, 2), np.complex64)}).tolist() == [[[2 + 0j, 0j]]]
