"""Records TensorFlow's tf.signal outputs (frame, overlap_and_add, the windows, stft/inverse_stft,
inverse_stft_window_fn, fftshift/ifftshift, linear_to_mel_weight_matrix, mfccs_from_log_mel_spectrograms) for
tests/ops/test_signal_ops.py.

    /work/tfenv/bin/python tools/tf_fixtures/gen_signal.py

Writes tests/fixtures/tf/signal/cases.json (each case: function, arguments, the names of its array inputs) and
tests/fixtures/tf/signal/cases.npz (the arrays: `<case>/<input>` and `<case>/out`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "tf" / "signal"
RNG = np.random.RandomState(7)


def _normal(*shape, dtype=np.float32):
    return RNG.normal(size=shape).astype(dtype)


# name -> (function name, array inputs, other keyword arguments); a window function is given by its name.
CASES: dict[str, tuple[str, dict[str, np.ndarray], dict[str, object]]] = {
    "frame_basic": ("frame", {"signal": _normal(10)}, {"frame_length": 4, "frame_step": 2}),
    "frame_pad_end": ("frame", {"signal": _normal(10)}, {"frame_length": 4, "frame_step": 3, "pad_end": True}),
    "frame_pad_value": ("frame", {"signal": _normal(2, 11)},
                        {"frame_length": 4, "frame_step": 3, "pad_end": True, "pad_value": -1.5}),
    "frame_axis1_pad": ("frame", {"signal": _normal(2, 9, 3)},
                        {"frame_length": 3, "frame_step": 2, "pad_end": True, "axis": 1}),
    "frame_axis0": ("frame", {"signal": _normal(7, 2)}, {"frame_length": 3, "frame_step": 3, "axis": 0}),
    "frame_axis_minus2": ("frame", {"signal": _normal(2, 9, 3)}, {"frame_length": 4, "frame_step": 1, "axis": -2}),
    "frame_too_short": ("frame", {"signal": _normal(3)}, {"frame_length": 5, "frame_step": 1}),
    "frame_too_short_pad": ("frame", {"signal": _normal(3)}, {"frame_length": 5, "frame_step": 2, "pad_end": True}),
    "frame_int32": ("frame", {"signal": np.arange(12, dtype=np.int32).reshape(2, 6)},
                    {"frame_length": 2, "frame_step": 1}),
    "frame_float64_long_step": ("frame", {"signal": _normal(3, 13, dtype=np.float64)},
                                {"frame_length": 3, "frame_step": 5, "pad_end": True}),
    "ola_basic": ("overlap_and_add", {"signal": _normal(3, 4)}, {"frame_step": 2}),
    "ola_batch": ("overlap_and_add", {"signal": _normal(2, 3, 5)}, {"frame_step": 5}),
    "ola_gap": ("overlap_and_add", {"signal": _normal(2, 5)}, {"frame_step": 7}),
    "ola_int32": ("overlap_and_add", {"signal": np.arange(10, dtype=np.int32).reshape(2, 5)}, {"frame_step": 2}),
    "ola_one_frame": ("overlap_and_add", {"signal": _normal(1, 4)}, {"frame_step": 3}),
    "ola_float64_batch2": ("overlap_and_add", {"signal": _normal(2, 2, 4, 6, dtype=np.float64)}, {"frame_step": 1}),
    "ola_no_frames": ("overlap_and_add", {"signal": np.zeros((0, 4), np.float32)}, {"frame_step": 2}),
    "ola_empty_batch": ("overlap_and_add", {"signal": np.zeros((2, 0, 4), np.float32)}, {"frame_step": 2}),
    "ola_empty_frames": ("overlap_and_add", {"signal": np.zeros((3, 0), np.float32)}, {"frame_step": 2}),
    "frame_empty_pad": ("frame", {"signal": np.zeros(0, np.float32)}, {"frame_length": 3, "frame_step": 2,
                                                                        "pad_end": True}),
    "frame_empty_batch": ("frame", {"signal": np.zeros((0, 7), np.float32)}, {"frame_length": 3, "frame_step": 2}),
    "stft_default": ("stft", {"signals": _normal(2, 100)}, {"frame_length": 16, "frame_step": 8}),
    "stft_pad_end": ("stft", {"signals": _normal(70)},
                     {"frame_length": 16, "frame_step": 6, "fft_length": 32, "pad_end": True}),
    "stft_no_window": ("stft", {"signals": _normal(40)}, {"frame_length": 8, "frame_step": 4, "window_fn": None}),
    "stft_float64_hamming": ("stft", {"signals": _normal(3, 50, dtype=np.float64)},
                             {"frame_length": 10, "frame_step": 3, "window_fn": "hamming_window"}),
    "stft_short_fft": ("stft", {"signals": _normal(40)}, {"frame_length": 12, "frame_step": 4, "fft_length": 8}),
    "istft_default": ("inverse_stft", {"stfts": None}, {"frame_length": 16, "frame_step": 4}),
    "istft_inverse_window": ("inverse_stft", {"stfts": None},
                             {"frame_length": 16, "frame_step": 4, "window_fn": "inverse_stft_window_fn(4)"}),
    "istft_crop": ("inverse_stft", {"stfts": None}, {"frame_length": 12, "frame_step": 4, "fft_length": 16}),
    "istft_pad": ("inverse_stft", {"stfts": None}, {"frame_length": 20, "frame_step": 5, "fft_length": 16}),
    "istft_float64_no_window": ("inverse_stft", {"stfts": None},
                                {"frame_length": 10, "frame_step": 5, "window_fn": None}),
    "fftshift_all": ("fftshift", {"x": _normal(4, 5)}, {}),
    "fftshift_axis1": ("fftshift", {"x": _normal(4, 5)}, {"axes": 1}),
    "fftshift_axes_list": ("fftshift", {"x": _normal(3, 4, 5)}, {"axes": [-1, 0]}),
    "ifftshift_all": ("ifftshift", {"x": _normal(4, 5)}, {}),
    "ifftshift_odd": ("ifftshift", {"x": _normal(7)}, {"axes": [0]}),
    "mel_default": ("linear_to_mel_weight_matrix", {}, {}),
    "mel_16k": ("linear_to_mel_weight_matrix", {},
                {"num_mel_bins": 40, "num_spectrogram_bins": 257, "sample_rate": 16000, "lower_edge_hertz": 20.0,
                 "upper_edge_hertz": 8000.0}),
    "mel_float64_zero_edge": ("linear_to_mel_weight_matrix", {},
                              {"num_mel_bins": 10, "num_spectrogram_bins": 33, "sample_rate": 22050,
                               "lower_edge_hertz": 0.0, "upper_edge_hertz": 11025.0, "dtype": "float64"}),
    "mfcc_float32": ("mfccs_from_log_mel_spectrograms", {"log_mel_spectrograms": _normal(3, 20)}, {}),
    "mfcc_float64": ("mfccs_from_log_mel_spectrograms",
                     {"log_mel_spectrograms": _normal(2, 4, 13, dtype=np.float64)}, {}),
}
_STFT_INPUTS = {
    "istft_default": (np.complex64, (2, 6, 9)),
    "istft_inverse_window": (np.complex64, (7, 9)),
    "istft_crop": (np.complex64, (5, 9)),
    "istft_pad": (np.complex64, (4, 9)),
    "istft_float64_no_window": (np.complex128, (3, 6, 9)),
}
for _case, (_dtype, _shape) in _STFT_INPUTS.items():
    CASES[_case][1]["stfts"] = (RNG.normal(size=_shape) + 1j * RNG.normal(size=_shape)).astype(_dtype)

for _length in (0, 1, 2, 5, 8):
    for _periodic in (True, False):
        for _fn in ("hann_window", "hamming_window"):
            CASES[f"{_fn}_{_length}_{'periodic' if _periodic else 'symmetric'}"] = (
                _fn, {}, {"window_length": _length, "periodic": _periodic})
CASES["hann_window_7_float64"] = ("hann_window", {}, {"window_length": 7, "dtype": "float64"})
CASES["hamming_window_6_float16"] = ("hamming_window", {}, {"window_length": 6, "periodic": False,
                                                            "dtype": "float16"})
CASES["inverse_window_hann"] = ("inverse_stft_window_fn", {}, {"frame_step": 3, "frame_length": 8})
CASES["inverse_window_hamming_float64"] = ("inverse_stft_window_fn", {},
                                           {"frame_step": 4, "frame_length": 10,
                                            "forward_window_fn": "hamming_window", "dtype": "float64"})


def _window(spec):
    if spec is None:
        return None
    if spec.startswith("inverse_stft_window_fn("):
        return tf.signal.inverse_stft_window_fn(int(spec[len("inverse_stft_window_fn("):-1]))
    return getattr(tf.signal, spec)


def build(fn_name: str, inputs: dict[str, np.ndarray], kwargs: dict[str, object]):
    kwargs = dict(kwargs)
    for key in ("window_fn", "forward_window_fn"):
        if key in kwargs:
            kwargs[key] = _window(kwargs[key])
    if "dtype" in kwargs:
        kwargs["dtype"] = tf.as_dtype(kwargs["dtype"])
    if fn_name == "inverse_stft_window_fn":
        frame_length, dtype = kwargs.pop("frame_length"), kwargs.pop("dtype", tf.float32)
        return tf.signal.inverse_stft_window_fn(**kwargs)(frame_length, dtype=dtype)
    return getattr(tf.signal, fn_name)(**{k: tf.constant(v) for k, v in inputs.items()}, **kwargs)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {}
    described = {}
    for case, (fn_name, inputs, kwargs) in sorted(CASES.items()):
        with tf.Graph().as_default(), tf.Session() as sess:
            out = build(fn_name, inputs, kwargs)
            static = out.shape.as_list() if out.shape.ndims is not None else None
            arrays[f"{case}/out"] = sess.run(out)
        arrays.update({f"{case}/{k}": v for k, v in inputs.items()})
        described[case] = {"function": fn_name, "inputs": sorted(inputs), "kwargs": kwargs, "static_shape": static}
    np.savez_compressed(OUT / "cases.npz", **arrays)
    (OUT / "cases.json").write_text(json.dumps({"tensorflow": tf.__version__, "cases": described}, indent=1,
                                               sort_keys=True) + "\n", encoding="utf-8")
    print(f"{len(described)} cases -> {OUT}")


if __name__ == "__main__":
    main()
