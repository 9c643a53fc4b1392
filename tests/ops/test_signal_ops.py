"""tf.signal: frame, overlap_and_add, the windows, stft/inverse_stft, inverse_stft_window_fn, fftshift/ifftshift,
linear_to_mel_weight_matrix and mfccs_from_log_mel_spectrograms against TensorFlow's recorded outputs (values,
dtypes, static shapes; tools/tf_fixtures/gen_signal.py) and NumPy references, their gradients against finite
differences, and the errors for bad arguments."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from gradient_checker import check_gradients

import tfmini as tf
from tfmini.framework import errors

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "signal"
RECORDED = json.loads((FIXTURES / "cases.json").read_text(encoding="utf-8"))["cases"]
ARRAYS = np.load(FIXTURES / "cases.npz")
_TOL = {np.float16: 1e-3, np.float32: 2e-5, np.complex64: 2e-5, np.float64: 1e-12, np.complex128: 1e-12}


def _window(spec):
    if spec is None:
        return None
    if spec.startswith("inverse_stft_window_fn("):
        return tf.signal.inverse_stft_window_fn(int(spec[len("inverse_stft_window_fn("):-1]))
    return getattr(tf.signal, spec)


def _build(case: dict, inputs: dict):
    kwargs = dict(case["kwargs"])
    for key in ("window_fn", "forward_window_fn"):
        if key in kwargs:
            kwargs[key] = _window(kwargs[key])
    if "dtype" in kwargs:
        kwargs["dtype"] = tf.as_dtype(kwargs["dtype"])
    if case["function"] == "inverse_stft_window_fn":
        frame_length, dtype = kwargs.pop("frame_length"), kwargs.pop("dtype", tf.float32)
        return tf.signal.inverse_stft_window_fn(**kwargs)(frame_length, dtype=dtype)
    return getattr(tf.signal, case["function"])(**{k: tf.constant(v) for k, v in inputs.items()}, **kwargs)


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_matches_tensorflow_recorded_output(name):
    case = RECORDED[name]
    inputs = {k: ARRAYS[f"{name}/{k}"] for k in case["inputs"]}
    want = ARRAYS[f"{name}/out"]
    with tf.Graph().as_default():
        out = _build(case, inputs)
        assert out.shape.as_list() == case["static_shape"]
        with tf.Session() as sess:
            got = sess.run(out)
    assert got.dtype == want.dtype and got.shape == want.shape
    tol = _TOL.get(want.dtype.type, 0)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * max(1.0, float(np.abs(want).max(initial=0))))


def _np_frame(x, length, step):
    count = max(0, 1 + (x.shape[-1] - length) // step)
    return np.stack([x[..., i * step:i * step + length] for i in range(count)], -2)


def test_frame_and_overlap_and_add_with_unknown_shapes_match_numpy():
    x = np.random.RandomState(0).normal(size=(2, 23)).astype(np.float32)
    sig = tf.placeholder(tf.float32, [None, None])
    length = tf.placeholder(tf.int32, [])
    step = tf.placeholder(tf.int32, [])
    framed = tf.signal.frame(sig, length, step)
    padded = tf.signal.frame(sig, length, step, pad_end=True, pad_value=2.0)
    frames = tf.placeholder(tf.float32, None)
    added = tf.signal.overlap_and_add(frames, step)
    assert framed.shape.as_list() == [None, None, None] and added.shape.ndims is None
    with tf.Session() as sess:
        feed = {sig: x, length: 5, step: 3}
        got, got_padded = sess.run([framed, padded], feed)
        np.testing.assert_array_equal(got, _np_frame(x, 5, 3))
        full = np.concatenate([x, np.full((2, 3), 2.0, np.float32)], 1)  # 8 frames need 26 samples
        np.testing.assert_array_equal(got_padded, _np_frame(full, 5, 3))
        summed = sess.run(added, {frames: got, step: 3})
    want = np.zeros((2, 3 * 6 + 5), np.float32)
    for i in range(got.shape[1]):
        want[:, 3 * i:3 * i + 5] += got[:, i]
    np.testing.assert_allclose(summed, want, rtol=1e-6)


def test_frame_of_a_signal_of_unknown_rank_along_a_negative_axis():
    sig = tf.placeholder(tf.float32)
    framed = tf.signal.frame(sig, 2, 2, axis=-2, pad_end=True)
    x = np.arange(30, dtype=np.float32).reshape(2, 5, 3)
    with tf.Session() as sess:
        got = sess.run(framed, {sig: x})
    want = np.stack([np.concatenate([x, np.zeros((2, 1, 3), np.float32)], 1)[:, 2 * i:2 * i + 2] for i in range(3)],
                    1)
    np.testing.assert_array_equal(got, want)


def test_windows_match_their_definition_and_unknown_lengths():
    n = tf.placeholder(tf.int32, [])
    hann = tf.signal.hann_window(n, periodic=False, dtype=tf.float64)
    with tf.Session() as sess:
        for length in (1, 4, 9):
            want = np.hanning(length) if length > 1 else np.ones(1)
            np.testing.assert_allclose(sess.run(hann, {n: length}), want, atol=1e-12)
    assert tf.signal.hamming_window(6).shape.as_list() == [6]


def test_stft_then_inverse_stft_reconstructs_the_signal():
    x = np.random.RandomState(3).normal(size=(2, 64))
    stfts = tf.signal.stft(x, 16, 4)
    back = tf.signal.inverse_stft(stfts, 16, 4, window_fn=tf.signal.inverse_stft_window_fn(4))
    assert stfts.shape.as_list() == [2, 13, 9] and stfts.dtype == tf.complex128
    with tf.Session() as sess:
        got = sess.run(back)
    # Away from the ends, where fewer than frame_length / frame_step frames overlap, the signal comes back.
    np.testing.assert_allclose(got[:, 12:-12], x[:, 12:-12], atol=1e-10)


def test_stft_of_unknown_frame_length_uses_the_enclosing_power_of_two():
    length = tf.placeholder(tf.int32, [])
    x = np.random.RandomState(4).normal(size=40).astype(np.float32)
    spec = tf.signal.stft(x, length, 5)
    with tf.Session() as sess:
        got = sess.run(spec, {length: 12})
        want = sess.run(tf.signal.stft(x, 12, 5, fft_length=16))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert got.shape == (6, 9)


def test_inverse_stft_of_unknown_frame_length_crops_or_pads_the_frames():
    rng = np.random.RandomState(5)
    stfts = (rng.normal(size=(4, 9)) + 1j * rng.normal(size=(4, 9))).astype(np.complex64)
    length = tf.placeholder(tf.int32, [])
    dynamic = tf.signal.inverse_stft(stfts, length, 5, fft_length=16)
    with tf.Session() as sess:
        for frame_length in (12, 20):
            want = sess.run(tf.signal.inverse_stft(stfts, frame_length, 5, fft_length=16))
            np.testing.assert_allclose(sess.run(dynamic, {length: frame_length}), want, rtol=1e-5, atol=1e-6)


def test_fftshift_of_unknown_shape_and_its_inverse():
    x = np.arange(35.0).reshape(5, 7)
    ph = tf.placeholder(tf.float64)
    with tf.Session() as sess:
        shifted, back = sess.run([tf.signal.fftshift(ph), tf.signal.ifftshift(tf.signal.fftshift(ph, axes=1), axes=1)],
                                 {ph: x})
    np.testing.assert_array_equal(shifted, np.fft.fftshift(x))
    np.testing.assert_array_equal(back, x)


def test_mel_matrix_rows_are_triangular_filters():
    m = tf.signal.linear_to_mel_weight_matrix(8, 65, 16000, 100.0, 7000.0, dtype=tf.float64)
    with tf.Session() as sess:
        w = sess.run(m)
    assert w.shape == (65, 8) and np.all(w >= 0) and np.all(w <= 1) and np.all(w[0] == 0)
    assert np.all(w.max(0) > 0.5)  # every filter has a peak


def test_names_are_tfs():
    assert tf.signal.fft is tf.fft is tf.spectral.fft
    assert tf.signal.rfft is tf.spectral.rfft and tf.signal.dct is tf.spectral.dct
    assert tf.signal.stft.__defaults__[1] is tf.signal.hann_window
    with tf.Graph().as_default():
        assert tf.signal.frame([1.0, 2.0, 3.0], 2, 1, name="framing").op.name.startswith("framing/")


# -- gradients


def test_frame_gradient():
    check_gradients(lambda x: tf.signal.frame(x, 4, 3, pad_end=True, pad_value=1.0, axis=1),
                    [np.random.RandomState(5).normal(size=(2, 10, 2))])


def test_overlap_and_add_gradient():
    check_gradients(lambda x: tf.signal.overlap_and_add(x, 2), [np.random.RandomState(6).normal(size=(2, 4, 5))])


def test_stft_gradient():
    def parts(x):
        s = tf.signal.stft(x, 8, 3, fft_length=8)
        return [tf.real(s), tf.imag(s)]

    check_gradients(parts, [np.random.RandomState(7).normal(size=(2, 20))])


def test_inverse_stft_gradient():
    rng = np.random.RandomState(8)
    check_gradients(lambda re, im: tf.signal.inverse_stft(tf.complex(re, im), 8, 4),
                    [rng.normal(size=(4, 5)), rng.normal(size=(4, 5))])


def test_mfcc_gradient():
    check_gradients(tf.signal.mfccs_from_log_mel_spectrograms, [np.random.RandomState(9).normal(size=(3, 6))])


# -- errors


def test_bad_frame_arguments_raise_value_errors_when_known():
    x = tf.constant(np.zeros(10, np.float32))
    with pytest.raises(ValueError, match="frame_length"):
        tf.signal.frame(x, -1, 1)
    with pytest.raises(ValueError, match="frame_step"):
        tf.signal.frame(x, 3, 0)
    with pytest.raises(ValueError, match="rank"):
        tf.signal.frame(1.0, 3, 1)
    with pytest.raises(ValueError):
        tf.signal.frame(x, [3], 1)
    with pytest.raises(TypeError, match="frame_length"):
        tf.signal.frame(x, 3.0, 1)
    with pytest.raises(ValueError, match="axis"):
        tf.signal.frame(x, 3, 1, axis=1)
    with pytest.raises(ValueError, match="rank"):
        tf.signal.overlap_and_add(x, 2)
    with pytest.raises(ValueError, match="frame_step"):
        tf.signal.overlap_and_add(tf.reshape(x, [2, 5]), 0)


def test_bad_frame_arguments_fed_at_run_time_raise_invalid_argument_and_the_session_goes_on():
    length = tf.placeholder(tf.int32, [])
    step = tf.placeholder(tf.int32, [])
    framed = tf.signal.frame(np.arange(6.0, dtype=np.float32), length, step)
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError, match="frame_step must be positive"):
            sess.run(framed, {length: 2, step: 0})
        with pytest.raises(errors.InvalidArgumentError, match="frame_length must be non-negative"):
            sess.run(framed, {length: -2, step: 1})
        assert sess.run(framed, {length: 2, step: 2}).shape == (3, 2)


def test_bad_stft_arguments():
    with pytest.raises(ValueError, match="floating point"):
        tf.signal.stft(np.arange(10), 4, 2)
    with pytest.raises(ValueError, match="rank"):
        tf.signal.stft(np.float32(1), 4, 2)
    with pytest.raises(ValueError):
        tf.signal.stft(np.zeros(10, np.float32), 4, 2, fft_length=[8])
    with pytest.raises(ValueError, match="complex"):
        tf.signal.inverse_stft(np.zeros((3, 5), np.float32), 4, 2)
    with pytest.raises(ValueError, match="rank"):
        tf.signal.inverse_stft(np.zeros(5, np.complex64), 4, 2)
    with pytest.raises(ValueError):
        tf.signal.inverse_stft(np.zeros((3, 5), np.complex64), 4, 2, fft_length=[8])


def test_bad_window_and_mel_arguments():
    with pytest.raises(ValueError, match="floating point"):
        tf.signal.hann_window(5, dtype=tf.int32)
    with pytest.raises(ValueError):
        tf.signal.hamming_window([3])
    with pytest.raises(ValueError, match="non-negative"):
        tf.signal.hann_window(-1)
    bad = [({"num_mel_bins": 0}, "num_mel_bins must be positive"),
           ({"lower_edge_hertz": -1.0}, "lower_edge_hertz must be non-negative"),
           ({"lower_edge_hertz": 4000.0}, "lower_edge_hertz 4000.0 >= upper_edge_hertz"),
           ({"sample_rate": 0}, "sample_rate must be positive"),
           ({"upper_edge_hertz": 5000.0}, "Nyquist"),
           ({"dtype": tf.int32}, "floating point")]
    for kwargs, message in bad:
        with pytest.raises(ValueError, match=message):
            tf.signal.linear_to_mel_weight_matrix(**kwargs)
    with pytest.raises(TypeError):
        tf.signal.mfccs_from_log_mel_spectrograms(np.zeros((2, 3), np.int32))


def test_frame_along_an_axis_fed_at_run_time():
    axis = tf.placeholder(tf.int32, [])
    x = np.arange(24.0).reshape(2, 4, 3)
    framed = tf.signal.frame(x, 2, 1, axis=axis)
    assert framed.shape.as_list() == [None, None, None, None]
    with tf.Session() as sess:
        for a in (1, -2, 0):
            np.testing.assert_array_equal(sess.run(framed, {axis: a}), sess.run(tf.signal.frame(x, 2, 1, axis=a)))


def test_contrib_signal_holds_tf_signals_functions():
    """TF 1.15 exported the signal functions under tf.contrib.signal too, as the same objects."""
    for name in ("frame", "overlap_and_add", "stft", "inverse_stft", "hann_window", "hamming_window",
                 "linear_to_mel_weight_matrix", "mfccs_from_log_mel_spectrograms", "inverse_stft_window_fn"):
        assert getattr(tf.contrib.signal, name) is getattr(tf.signal, name)
