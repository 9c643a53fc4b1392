"""tf.fft ... tf.ifft3d and tf.spectral's real transforms (rfft/irfft, 2D, 3D, with cropping and padding to
fft_length) against NumPy's transforms, with gradients through complex parts checked by finite differences (TF's
own values are replayed in test_math_leftovers), and tf.spectral.dct/idct against TensorFlow's recorded outputs."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from gradient_checker import check_gradients

import tfmini as tf
from tfmini.framework import errors
from tfmini.framework.registry import apply_op

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


def _numpy_transform(ref, x, fft_length, rank):
    if fft_length is None:
        return ref(x)
    if rank == 1:
        return ref(x, n=fft_length[0])
    return ref(x, s=fft_length, axes=tuple(range(-rank, 0)))


@pytest.mark.parametrize("fn, ref, shape, fft_length", [
    (tf.spectral.rfft, np.fft.rfft, (2, 6), None),
    (tf.spectral.rfft, np.fft.rfft, (2, 6), [9]),
    (tf.spectral.rfft, np.fft.rfft, (3, 7), [4]),
    (tf.spectral.rfft2d, np.fft.rfft2, (2, 4, 5), [3, 8]),
    (tf.spectral.rfft3d, np.fft.rfftn, (2, 3, 4), None),
])
def test_real_transforms_match_numpy_and_are_differentiable(fn, ref, shape, fft_length):
    x = np.random.RandomState(2).normal(size=shape)
    rank = {tf.spectral.rfft: 1, tf.spectral.rfft2d: 2, tf.spectral.rfft3d: 3}[fn]
    with tf.Session() as sess:
        got = sess.run(fn(x, fft_length))
    np.testing.assert_allclose(got, _numpy_transform(ref, x, fft_length, rank), atol=1e-12)

    def parts(t):
        z = fn(t, fft_length)
        return [tf.real(z), tf.imag(z)]

    check_gradients(parts, [x])


@pytest.mark.parametrize("fn, ref, shape, fft_length", [
    (tf.spectral.irfft, np.fft.irfft, (2, 5), None),
    (tf.spectral.irfft, np.fft.irfft, (2, 5), [9]),
    (tf.spectral.irfft, np.fft.irfft, (2, 5), [14]),
    (tf.spectral.irfft2d, np.fft.irfft2, (2, 3, 4), [3, 5]),
    (tf.spectral.irfft3d, np.fft.irfftn, (2, 3, 4), None),
])
def test_inverse_real_transforms_match_numpy_and_are_differentiable(fn, ref, shape, fft_length):
    rng = np.random.RandomState(3)
    re, im = rng.normal(size=shape), rng.normal(size=shape)
    rank = {tf.spectral.irfft: 1, tf.spectral.irfft2d: 2, tf.spectral.irfft3d: 3}[fn]
    with tf.Session() as sess:
        got = sess.run(fn(re + 1j * im, fft_length))
    np.testing.assert_allclose(got, _numpy_transform(ref, re + 1j * im, fft_length, rank), atol=1e-12)
    check_gradients(lambda a, b: fn(tf.complex(a, b), fft_length), [re, im])


def test_real_transform_ops_refuse_short_inputs():
    x = tf.placeholder(tf.float32)
    y = apply_op("RFFT", [x, np.array([8], np.int32)]).outputs[0]
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError, match="at least 8"):
            sess.run(y, {x: np.ones((2, 5), np.float32)})
        assert sess.run(y, {x: np.ones((1, 9), np.float32)}).shape == (1, 5)
    assert tf.spectral.rfft([1.0, 2.0]).dtype == tf.complex64
    assert tf.spectral.irfft([1.0 + 0j, 2.0]).dtype == tf.float32


def test_real_transforms_keep_the_static_shape_when_it_is_known():
    with tf.Graph().as_default():
        x = tf.zeros([2, 8])
        assert tf.spectral.rfft(x).shape.as_list() == [2, 5]
        assert tf.spectral.rfft(x, fft_length=[12]).shape.as_list() == [2, 7]
        assert tf.spectral.irfft(tf.spectral.rfft(x)).shape.as_list() == [2, 8]
        assert tf.spectral.rfft2d(tf.zeros([3, 2, 4])).shape.as_list() == [3, 2, 3]
        unknown = tf.placeholder(tf.float32, [None, None])
        assert tf.spectral.rfft(unknown).shape.as_list() == [None, None]
        data = np.arange(16.0, dtype=np.float32).reshape(2, 8)
        padded, cropped = tf.spectral.rfft(data, fft_length=[12]), tf.spectral.rfft(data, fft_length=[6])
        with tf.Session() as sess:
            got_padded, got_cropped = sess.run([padded, cropped])
    np.testing.assert_allclose(got_padded, np.fft.rfft(data, 12), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(got_cropped, np.fft.rfft(data, 6), rtol=1e-5, atol=1e-4)


# ----------------------------------------------------------------------------------------------------------
# Discrete cosine transforms
# ----------------------------------------------------------------------------------------------------------
_FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf", "math_leftovers")
with open(os.path.join(_FIXTURES, "cases.json")) as _f:
    _DCT_CASES = json.load(_f)["dct"]
_ARRAYS = np.load(os.path.join(_FIXTURES, "cases.npz"))


@pytest.mark.parametrize("i", range(len(_DCT_CASES)),
                         ids=[f"{'i' if c['inverse'] else ''}dct{c['type']}-n{c['n']}-{c['norm']}" for c in _DCT_CASES])
def test_dct_matches_tensorflow(i):
    case = _DCT_CASES[i]
    fn = tf.spectral.idct if case["inverse"] else tf.spectral.dct
    with tf.Session() as sess:
        got = sess.run(fn(_ARRAYS["dct/in"], type=case["type"], n=case["n"], norm=case["norm"]))
    np.testing.assert_allclose(got, _ARRAYS[f"dct{i}/out"], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", [2, 3, 4])
def test_orthonormal_dct_is_inverted_by_idct_and_differentiable(kind):
    x = np.random.RandomState(7).normal(size=(2, 5))
    with tf.Session() as sess:
        back = sess.run(tf.spectral.idct(tf.spectral.dct(x, type=kind, norm="ortho"), type=kind, norm="ortho"))
    np.testing.assert_allclose(back, x, atol=1e-12)
    check_gradients(lambda t: tf.spectral.dct(t, type=kind, n=7), [x])


def test_dct_argument_errors():
    with pytest.raises(ValueError):
        tf.spectral.dct(tf.ones([3]), type=5)
    with pytest.raises(ValueError):
        tf.spectral.dct(tf.ones([3]), type=1, norm="ortho")
    with pytest.raises(NotImplementedError):
        tf.spectral.dct(tf.ones([3, 3]), axis=0)
    with pytest.raises(TypeError):
        tf.spectral.dct(tf.ones([3], tf.int32))
