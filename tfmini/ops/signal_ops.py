"""tf.signal beyond the transforms: framing and overlap-add, the Hann and Hamming windows, the short-time Fourier
transform and its inverse, fftshift/ifftshift, the mel filterbank and MFCCs. All are compositions of existing ops
(gathers, segment sums, the real FFTs of spectral_ops), so their gradients are those of the ops they are built of."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework.api_export import tf_export
from tfmini.ops import array_ops, control_flow_ops, math_ops, spectral_ops


def _static_int(t: _ops.Tensor) -> int | None:
    value = _reg.constant_value(t)
    return None if value is None else int(value)


def _integer_scalar(value, name: str, op_name: str) -> _ops.Tensor:
    """`value` as an integer scalar tensor; TypeError for a non-integer one and ValueError for a non-scalar."""
    t = _ops.convert_to_tensor(value, name=name)
    if not t.dtype.is_integer:
        raise TypeError(f"{op_name}: {name} must be an integer, got a {t.dtype.name} tensor")
    t.shape.with_rank(0)
    return t


def _check_positive(t: _ops.Tensor, static: int | None, name: str, op_name: str, allow_zero: bool):
    """A ValueError now when `t` is known and out of range, else an Assert raising InvalidArgumentError at run
    time (returned, to be used as a control dependency); None when nothing needs checking at run time."""
    bound = "non-negative" if allow_zero else "positive"
    if static is not None:
        if static < 0 or (static == 0 and not allow_zero):
            raise ValueError(f"{op_name}: {name} must be {bound}, got {static}")
        return None
    zero = math_ops.cast(0, t.dtype)
    ok = math_ops.greater_equal(t, zero) if allow_zero else math_ops.greater(t, zero)
    return control_flow_ops.Assert(ok, [f"{op_name}: {name} must be {bound}, got", t], name=f"check_{name}")


def _with_checks(t: _ops.Tensor, checks: list) -> _ops.Tensor:
    checks = [c for c in checks if c is not None]
    if not checks:
        return t
    with _ops.control_dependencies(checks):
        return array_ops.identity(t)


def _frame_indices(num_frames, frame_length, frame_step):
    """indices[i, j] = i * frame_step + j: in NumPy when all three are ints, else as a tensor."""
    if all(isinstance(v, int) for v in (num_frames, frame_length, frame_step)):
        return (np.arange(num_frames, dtype=np.int64)[:, None] * frame_step
                + np.arange(frame_length, dtype=np.int64)[None, :]).astype(np.int32)
    starts = array_ops.range(num_frames) * frame_step
    return array_ops.expand_dims(starts, 1) + array_ops.expand_dims(array_ops.range(frame_length), 0)


def _pad_end_of_axis(x: _ops.Tensor, axis, extra, value) -> _ops.Tensor:
    """`x` padded with `extra` copies of `value` at the end of `axis` (ints where known, else scalar tensors)."""
    rank = x.shape.ndims
    if isinstance(axis, int) and isinstance(extra, int) and rank is not None:
        paddings = np.zeros((rank, 2), np.int32)
        paddings[axis, 1] = extra
    else:
        rank_t = array_ops.rank(x) if rank is None else rank
        paddings = array_ops.concat([array_ops.zeros(array_ops.stack([axis, 2]), _dt.int32),
                                     array_ops.reshape(array_ops.stack([0, extra]), [1, 2]),
                                     array_ops.zeros(array_ops.stack([rank_t - axis - 1, 2]), _dt.int32)], 0)
    return array_ops.pad(x, paddings, constant_values=value)


@tf_export("signal.frame", "contrib.signal.frame")
def frame(signal, frame_length, frame_step, pad_end=False, pad_value=0, axis=-1, name=None) -> _ops.Tensor:
    """Splits `signal`'s `axis` dimension into frames of `frame_length` samples taken every `frame_step` samples:
    the result has shape `signal.shape[:axis] + [frames, frame_length] + signal.shape[axis + 1:]`. Without
    `pad_end`, only whole frames are kept (`1 + (length - frame_length) // frame_step`, at least 0); with it,
    the end is padded with `pad_value` so that every sample starts a frame (`ceil(length / frame_step)`)."""
    with _ops.name_scope(name, "frame", [signal, frame_length, frame_step, pad_value]):
        signal = _ops.convert_to_tensor(signal, name="signal")
        frame_length = _integer_scalar(frame_length, "frame_length", "frame")
        frame_step = _integer_scalar(frame_step, "frame_step", "frame")
        shape = signal.shape.with_rank_at_least(1)
        axis_tensor = _integer_scalar(axis, "axis", "frame")
        axis = _static_int(axis_tensor)
        fl, step = _static_int(frame_length), _static_int(frame_step)
        checks = [_check_positive(frame_length, fl, "frame_length", "frame", allow_zero=True),
                  _check_positive(frame_step, step, "frame_step", "frame", allow_zero=False)]
        length = None
        if axis is None:
            # An axis known only at run time: counted from the end when negative, the static shape unknown.
            axis_t = math_ops.floormod(math_ops.cast(axis_tensor, _dt.int32), array_ops.rank(signal))
        elif shape.ndims is not None:
            if not -shape.ndims <= axis < shape.ndims:
                raise ValueError(f"frame: axis {axis} is out of range for a signal of rank {shape.ndims}")
            axis %= shape.ndims
            length = shape[axis].value
            axis_t = axis
        else:
            axis_t = array_ops.rank(signal) + axis if axis < 0 else axis
        signal = _with_checks(signal, checks)
        fl_v = fl if fl is not None else math_ops.cast(frame_length, _dt.int32)
        step_v = step if step is not None else math_ops.cast(frame_step, _dt.int32)
        length_v = length if length is not None else array_ops.shape(signal)[axis_t]
        static = fl is not None and step is not None and length is not None
        if pad_end:
            num_frames = -(-length // step) if static else (length_v + step_v - 1) // step_v
            if static:
                extra = max(0, (num_frames - 1) * step + fl - length)
            else:
                extra = math_ops.maximum(0, (num_frames - 1) * step_v + fl_v - length_v)
            if not (isinstance(extra, int) and extra == 0):
                value = _ops.convert_to_tensor(pad_value, dtype=signal.dtype, name="pad_value")
                value.shape.with_rank(0)
                signal = _pad_end_of_axis(signal, axis_t, extra, value)
        elif static:
            num_frames = max(0, 1 + (length - fl) // step)
        else:
            num_frames = math_ops.maximum(0, 1 + (length_v - fl_v) // step_v)
        indices = _frame_indices(num_frames, fl_v, step_v)
        framed = array_ops.gather(signal, indices, axis=axis_t)
        if axis is None and shape.ndims is not None:
            framed.set_shape([None] * (shape.ndims + 1))
        elif shape.ndims is not None:
            frames_dim = num_frames if isinstance(num_frames, int) else None
            framed.set_shape(shape[:axis].concatenate([frames_dim, fl]).concatenate(shape[axis + 1:]))
        return framed


@tf_export("signal.overlap_and_add", "contrib.signal.overlap_and_add")
def overlap_and_add(signal, frame_step, name=None) -> _ops.Tensor:
    """Adds up the frames of `signal` ([..., frames, frame_length]) placed `frame_step` samples apart: the result
    has shape [..., (frames - 1) * frame_step + frame_length]."""
    with _ops.name_scope(name, "overlap_and_add", [signal, frame_step]):
        signal = _ops.convert_to_tensor(signal, name="signal")
        shape = signal.shape.with_rank_at_least(2)
        frame_step = _integer_scalar(frame_step, "frame_step", "overlap_and_add")
        step = _static_int(frame_step)
        signal = _with_checks(signal, [_check_positive(frame_step, step, "frame_step", "overlap_and_add",
                                                       allow_zero=False)])
        dyn = array_ops.shape(signal)
        frames = shape[-2].value if shape.ndims is not None else None
        fl = shape[-1].value if shape.ndims is not None else None
        frames_v = frames if frames is not None else dyn[-2]
        fl_v = fl if fl is not None else dyn[-1]
        step_v = step if step is not None else math_ops.cast(frame_step, _dt.int32)
        static = frames is not None and fl is not None and step is not None
        # As in TF, (frames - 1) * frame_step + frame_length even without frames (zeros, when not negative).
        if static:
            out_len = max(0, (frames - 1) * step + fl)
        else:
            out_len = math_ops.maximum(0, (frames_v - 1) * step_v + fl_v)
        segment_ids = _frame_indices(frames_v, fl_v, step_v)
        segment_ids = segment_ids.reshape(-1) if isinstance(segment_ids, np.ndarray) else array_ops.reshape(
            segment_ids, array_ops.reshape(frames_v * fl_v, [1]))
        outer = dyn[:-2]
        outer_static = shape[:-2] if shape.ndims is not None else None
        batch = (int(np.prod(outer_static.as_list(), dtype=np.int64)) if outer_static is not None
                 and outer_static.is_fully_defined() else math_ops.reduce_prod(outer))
        # Samples first, so that one segment sum adds every frame's samples into their output positions.
        samples = array_ops.transpose(array_ops.reshape(signal, array_ops.stack([batch, frames_v * fl_v])))
        summed = math_ops.unsorted_segment_sum(samples, segment_ids, out_len)
        result = array_ops.reshape(array_ops.transpose(summed), array_ops.concat([outer, [out_len]], 0))
        if shape.ndims is not None:
            result.set_shape(shape[:-2].concatenate([out_len if static else None]))
        return result


def _raised_cosine_window(name, default_name: str, window_length, periodic, dtype, a: float,
                          b: float) -> _ops.Tensor:
    """a - b cos(2 pi k / N) for k = 0 .. window_length - 1, N = window_length (periodic, even length) or
    window_length - 1; a window of length 1 is [1]. Computed in `dtype`."""
    dtype = _dt.as_dtype(dtype)
    if not dtype.is_floating:
        raise ValueError(f"dtype must be a floating point type. Found {dtype}")
    with _ops.name_scope(name, default_name, [window_length, periodic]):
        window_length = _ops.convert_to_tensor(window_length, dtype=_dt.int32, name="window_length")
        window_length.shape.with_rank(0)
        n = _static_int(window_length)
        if n is not None and n < 0:
            raise ValueError(f"{default_name}: window_length must be non-negative, got {n}")
        if n == 1:
            return array_ops.ones([1], dtype=dtype)
        periodic = math_ops.cast(_ops.convert_to_tensor(periodic, dtype=_dt.bool_, name="periodic"), _dt.int32)
        periodic.shape.with_rank(0)
        even = 1 - math_ops.floormod(window_length, 2)
        denominator = math_ops.cast(window_length + periodic * even - 1, dtype)
        count = math_ops.cast(array_ops.range(window_length), dtype)
        angle = _ops.convert_to_tensor(2 * np.pi, dtype=dtype) * count / denominator
        window = math_ops.cast(a - b * math_ops.cos(angle), dtype)
        if n is None:
            window = array_ops.where(math_ops.equal(array_ops.fill(array_ops.shape(window), window_length), 1),
                                     array_ops.ones_like(window), window)
        window.set_shape([n])
        return window


@tf_export("signal.hann_window", "contrib.signal.hann_window")
def hann_window(window_length, periodic=True, dtype=_dt.float32, name=None) -> _ops.Tensor:
    """The Hann window 0.5 - 0.5 cos(2 pi k / N) of `window_length` samples (periodic: N = window_length for even
    lengths, else symmetric: N = window_length - 1)."""
    return _raised_cosine_window(name, "hann_window", window_length, periodic, dtype, 0.5, 0.5)


@tf_export("signal.hamming_window", "contrib.signal.hamming_window")
def hamming_window(window_length, periodic=True, dtype=_dt.float32, name=None) -> _ops.Tensor:
    """The Hamming window 0.54 - 0.46 cos(2 pi k / N) of `window_length` samples (N as for hann_window)."""
    return _raised_cosine_window(name, "hamming_window", window_length, periodic, dtype, 0.54, 0.46)


def _enclosing_power_of_two(value: _ops.Tensor):
    """The smallest power of two >= value: an int when value is known, else an int32 tensor."""
    static = _static_int(value)
    if static is not None:
        return 1 if static <= 1 else 2 ** math.ceil(math.log2(static))
    as_float = math_ops.cast(value, _dt.float64)
    exponent = math_ops.ceil(math_ops.log(as_float) / np.log(2.0))
    return math_ops.cast(math_ops.pow(_ops.convert_to_tensor(2.0, _dt.float64), exponent), _dt.int32)


def _fft_length_arg(fft_length, frame_length: _ops.Tensor, op_name: str):
    if fft_length is None:
        return _enclosing_power_of_two(frame_length)
    fft_length = _integer_scalar(fft_length, "fft_length", op_name)
    static = _static_int(fft_length)
    return static if static is not None else math_ops.cast(fft_length, _dt.int32)


@tf_export("signal.stft", "contrib.signal.stft")
def stft(signals, frame_length, frame_step, fft_length=None, window_fn=hann_window, pad_end=False,
         name=None) -> _ops.Tensor:
    """The short-time Fourier transform of real `signals` ([..., samples]): frames of `frame_length` every
    `frame_step` samples, each multiplied by `window_fn(frame_length, dtype=...)` (none when None) and transformed
    by an rfft of `fft_length` points (default: the smallest power of two >= frame_length). The result is
    [..., frames, fft_length // 2 + 1], complex64 for float32 signals and complex128 for float64."""
    with _ops.name_scope(name, "stft", [signals, frame_length, frame_step]):
        signals = _ops.convert_to_tensor(signals, name="signals")
        if not signals.dtype.is_floating:
            raise ValueError(f"dtype must be a floating point type. Found {signals.dtype}")
        signals.shape.with_rank_at_least(1)
        frame_length = _integer_scalar(frame_length, "frame_length", "stft")
        frame_step = _integer_scalar(frame_step, "frame_step", "stft")
        fft_length = _fft_length_arg(fft_length, frame_length, "stft")
        framed = frame(signals, frame_length, frame_step, pad_end=pad_end)
        if window_fn is not None:
            framed = framed * window_fn(frame_length, dtype=framed.dtype)
        lengths = np.array([fft_length], np.int32) if isinstance(fft_length, int) else array_ops.reshape(
            fft_length, [1])
        return spectral_ops.rfft(framed, lengths)


@tf_export("signal.inverse_stft", "contrib.signal.inverse_stft")
def inverse_stft(stfts, frame_length, frame_step, fft_length=None, window_fn=hann_window,
                 name=None) -> _ops.Tensor:
    """Real signals from their short-time Fourier transforms ([..., frames, fft_length // 2 + 1]): each frame's
    irfft, cropped or zero-padded to `frame_length`, multiplied by `window_fn(frame_length, dtype=...)` and
    overlap-added `frame_step` apart. With `inverse_stft_window_fn(frame_step)` as window_fn this inverts stft
    (away from the ends)."""
    with _ops.name_scope(name, "inverse_stft", [stfts]):
        stfts = _ops.convert_to_tensor(stfts, name="stfts")
        if not stfts.dtype.is_complex:
            raise ValueError(f"inverse_stft: stfts must be complex64 or complex128, got {stfts.dtype.name}")
        stfts.shape.with_rank_at_least(2)
        frame_length = _integer_scalar(frame_length, "frame_length", "inverse_stft")
        frame_step = _integer_scalar(frame_step, "frame_step", "inverse_stft")
        fft_length = _fft_length_arg(fft_length, frame_length, "inverse_stft")
        lengths = np.array([fft_length], np.int32) if isinstance(fft_length, int) else array_ops.reshape(
            fft_length, [1])
        frames = spectral_ops.irfft(stfts, lengths)
        fl = _static_int(frame_length)
        have = frames.shape[-1].value if frames.shape.ndims is not None else None
        if fl is not None and have is not None:
            if have > fl:
                frames = frames[..., :fl]
            elif have < fl:
                frames = array_ops.pad(frames, [[0, 0]] * (frames.shape.ndims - 1) + [[0, fl - have]])
        else:
            fl_v = math_ops.cast(frame_length, _dt.int32)
            frames = frames[..., :fl_v]
            extra = math_ops.maximum(0, fl_v - array_ops.shape(frames)[-1])
            frames = _pad_end_of_axis(frames, array_ops.rank(frames) - 1, extra, 0)
        if window_fn is not None:
            frames = frames * window_fn(frame_length, dtype=stfts.dtype.real_dtype)
        return overlap_and_add(frames, frame_step)


@tf_export("signal.inverse_stft_window_fn", "contrib.signal.inverse_stft_window_fn")
def inverse_stft_window_fn(frame_step, forward_window_fn=hann_window, name=None) -> Callable[..., _ops.Tensor]:
    """A window function for inverse_stft that undoes `forward_window_fn` at hop `frame_step`: the forward window
    divided by the sum of the squared forward windows overlapping each sample."""

    def inverse_window(frame_length, dtype) -> _ops.Tensor:
        with _ops.name_scope(name, "inverse_stft_window_fn", [forward_window_fn]):
            step = _integer_scalar(frame_step, "frame_step", "inverse_stft_window_fn")
            forward = forward_window_fn(frame_length, dtype=dtype)
            squares = math_ops.square(forward)
            length = array_ops.shape(squares)[0]
            step_v = math_ops.cast(step, _dt.int32)
            overlaps = (length + step_v - 1) // step_v
            padded = array_ops.pad(squares, array_ops.reshape(array_ops.stack([0, overlaps * step_v - length]),
                                                              [1, 2]))
            # Sum the squared window over the frames that overlap each position within one hop, then repeat it.
            per_hop = math_ops.reduce_sum(array_ops.reshape(padded, array_ops.stack([overlaps, step_v])), 0,
                                          keepdims=True)
            denominator = array_ops.reshape(array_ops.tile(per_hop, array_ops.stack([overlaps, 1])), [-1])
            window = forward / denominator[:length]
            window.set_shape(forward.shape)
            return window

    return inverse_window


def _shift_amounts(x: _ops.Tensor, axes, sign: int):
    """(shift, axes) rolling every listed axis (all when None) by sign * (its size // 2)."""
    dims = x.shape.as_list() if x.shape.ndims is not None else None
    if axes is None:
        if dims is None:
            axes = array_ops.range(array_ops.rank(x))
            return sign * (array_ops.shape(x) // 2), axes
        axes = list(range(len(dims)))
    scalar = isinstance(axes, (int, np.integer))
    axes_list = [int(axes)] if scalar else [int(a) for a in axes]
    if dims is not None and all(dims[a] is not None for a in axes_list):
        shift = [sign * (dims[a] // 2) for a in axes_list]
    else:
        shift = sign * (array_ops.gather(array_ops.shape(x), axes_list) // 2)
    return (shift[0] if scalar else shift), (axes_list[0] if scalar else axes_list)


@tf_export("signal.fftshift")
def fftshift(x, axes=None, name=None) -> _ops.Tensor:
    """`x` rolled by half its size along `axes` (all by default), moving the zero frequency to the centre."""
    with _ops.name_scope(name, "fftshift") as scope:
        x = _ops.convert_to_tensor(x)
        shift, axes = _shift_amounts(x, axes, 1)
        return array_ops.roll(x, shift, axes, name=scope)


@tf_export("signal.ifftshift")
def ifftshift(x, axes=None, name=None) -> _ops.Tensor:
    """The inverse of fftshift (they differ for odd sizes)."""
    with _ops.name_scope(name, "ifftshift") as scope:
        x = _ops.convert_to_tensor(x)
        shift, axes = _shift_amounts(x, axes, -1)
        return array_ops.roll(x, shift, axes, name=scope)


# The HTK mel scale: mel(f) = 1127 ln(1 + f / 700).
_MEL_BREAK_FREQUENCY_HERTZ = 700.0
_MEL_HIGH_FREQUENCY_Q = 1127.0


def _hertz_to_mel(hertz):
    return _MEL_HIGH_FREQUENCY_Q * np.log1p(np.asarray(hertz, np.float64) / _MEL_BREAK_FREQUENCY_HERTZ)


def _python_number(value, name: str):
    if isinstance(value, _ops.Tensor):
        known = _reg.constant_value(value)
        if known is None:
            raise ValueError(f"linear_to_mel_weight_matrix: {name} must be known when the graph is built")
        value = known
    return np.asarray(value).item()


@tf_export("signal.linear_to_mel_weight_matrix", "contrib.signal.linear_to_mel_weight_matrix")
def linear_to_mel_weight_matrix(num_mel_bins=20, num_spectrogram_bins=129, sample_rate=8000, lower_edge_hertz=125.0,
                                upper_edge_hertz=3800.0, dtype=_dt.float32, name=None) -> _ops.Tensor:
    """A [num_spectrogram_bins, num_mel_bins] matrix of triangular mel filters (HTK's mel scale) spanning
    lower_edge_hertz .. upper_edge_hertz: a linear spectrogram times it is a mel spectrogram. Spectrogram bin 0
    (DC) gets no weight."""
    num_mel_bins = _python_number(num_mel_bins, "num_mel_bins")
    num_spectrogram_bins = _python_number(num_spectrogram_bins, "num_spectrogram_bins")
    sample_rate = _python_number(sample_rate, "sample_rate")
    lower_edge_hertz = _python_number(lower_edge_hertz, "lower_edge_hertz")
    upper_edge_hertz = _python_number(upper_edge_hertz, "upper_edge_hertz")
    if num_mel_bins <= 0:
        raise ValueError(f"num_mel_bins must be positive. Got: {num_mel_bins}")
    if lower_edge_hertz < 0.0:
        raise ValueError(f"lower_edge_hertz must be non-negative. Got: {lower_edge_hertz}")
    if lower_edge_hertz >= upper_edge_hertz:
        raise ValueError(f"lower_edge_hertz {lower_edge_hertz} >= upper_edge_hertz {upper_edge_hertz}")
    if sample_rate <= 0.0:
        raise ValueError(f"sample_rate must be positive. Got: {sample_rate}")
    if upper_edge_hertz > sample_rate / 2:
        raise ValueError(f"upper_edge_hertz must not be larger than the Nyquist frequency (sample_rate / 2). "
                         f"Got {upper_edge_hertz} for sample_rate: {sample_rate}")
    dtype = _dt.as_dtype(dtype)
    if not dtype.is_floating:
        raise ValueError(f"dtype must be a floating point type. Got: {dtype}")
    if num_spectrogram_bins < 0:
        raise ValueError(f"num_spectrogram_bins must be non-negative. Got: {num_spectrogram_bins}")
    with _ops.name_scope(name, "linear_to_mel_weight_matrix") as scope:
        # Bin 0 (DC) is left out of every filter; the others sit at their frequencies on the mel scale.
        spectrogram_mel = _hertz_to_mel(np.linspace(0.0, sample_rate / 2.0, int(num_spectrogram_bins))[1:])[:, None]
        edges = np.linspace(_hertz_to_mel(lower_edge_hertz), _hertz_to_mel(upper_edge_hertz), int(num_mel_bins) + 2)
        lower, center, upper = edges[:-2][None, :], edges[1:-1][None, :], edges[2:][None, :]
        rising = (spectrogram_mel - lower) / (center - lower)
        falling = (upper - spectrogram_mel) / (upper - center)
        weights = np.maximum(0.0, np.minimum(rising, falling))
        weights = np.concatenate([np.zeros((min(1, int(num_spectrogram_bins)), int(num_mel_bins))), weights], 0)
        return _ops.convert_to_tensor(weights.astype(dtype.as_numpy_dtype), name=scope)


@tf_export("signal.mfccs_from_log_mel_spectrograms", "contrib.signal.mfccs_from_log_mel_spectrograms")
def mfccs_from_log_mel_spectrograms(log_mel_spectrograms, name=None) -> _ops.Tensor:
    """Mel-frequency cepstral coefficients of `log_mel_spectrograms` ([..., num_mel_bins]): their orthonormally
    scaled type-II DCT over the last axis, dct2(x) / sqrt(2 num_mel_bins) (HTK's scaling, with the first
    coefficient left at that scale too). Keep the first few coefficients for the usual MFCC features."""
    with _ops.name_scope(name, "mfccs_from_log_mel_spectrograms", [log_mel_spectrograms]):
        x = _ops.convert_to_tensor(log_mel_spectrograms, name="log_mel_spectrograms")
        if not x.dtype.is_floating:
            raise TypeError(f"mfccs_from_log_mel_spectrograms: log_mel_spectrograms must be float32 or float64, "
                            f"got {x.dtype.name}")
        x.shape.with_rank_at_least(1)
        bins = x.shape[-1].value if x.shape.ndims is not None else None
        if bins is None:
            raise ValueError("mfccs_from_log_mel_spectrograms: the number of mel bins (the last dimension) must be "
                             "known when the graph is built")
        dct2 = spectral_ops.dct(x, type=2)
        return dct2 * _ops.convert_to_tensor(1.0 / np.sqrt(2.0 * bins), dtype=x.dtype)

