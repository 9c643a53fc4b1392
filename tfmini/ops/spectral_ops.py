"""Discrete Fourier transforms over the innermost 1, 2 or 3 dimensions: FFT, IFFT, FFT2D, IFFT2D, FFT3D and
IFFT3D of complex tensors, RFFT/IRFFT (and 2D, 3D) between real signals and their half spectra (TF's
unnormalized forward and 1/n-normalized inverse transforms, as NumPy's), with their gradients, behind tf.fft ...
tf.ifft3d and tf.spectral.*; and the discrete cosine transforms tf.spectral.dct / idct."""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import RegisterGradient, apply_op, register_op
from tfmini.ops import array_ops, math_ops

# op type: (NumPy transform, number of innermost dims, inverse op type)
_TRANSFORMS = {
    "FFT": (np.fft.fftn, 1, "IFFT"),
    "IFFT": (np.fft.ifftn, 1, "FFT"),
    "FFT2D": (np.fft.fftn, 2, "IFFT2D"),
    "IFFT2D": (np.fft.ifftn, 2, "FFT2D"),
    "FFT3D": (np.fft.fftn, 3, "IFFT3D"),
    "IFFT3D": (np.fft.ifftn, 3, "FFT3D"),
}


def _transform_kernel(transform, rank: int):
    axes = tuple(range(-rank, 0))

    def kernel(x):
        if x.ndim < rank:
            raise _errors.InvalidArgumentError(None, None, f"Input must be at least {rank}D, got shape "
                                               f"{list(x.shape)}")
        if x.size == 0:
            return np.zeros(x.shape, dtype=x.dtype)
        return transform(x, axes=axes).astype(x.dtype, copy=False)

    return kernel


def _transform_shape(rank: int):
    return lambda op: op.inputs[0].shape.with_rank_at_least(rank)


for _name, (_transform, _rank, _inverse) in _TRANSFORMS.items():
    register_op(_name, inputs=["input: Tcomplex"], outputs=["output: Tcomplex"],
                attrs={"Tcomplex": ("type", _dt.complex64)}, allowed={"Tcomplex": _dt.COMPLEX},
                shape=_transform_shape(_rank), fresh_output=True)(_transform_kernel(_transform, _rank))


def _inner_size(t: _ops.Tensor, rank: int) -> _ops.Tensor:
    """The number of points the transform of `t` covers (its innermost `rank` dims), as a complex scalar of t's
    dtype."""
    n = math_ops.reduce_prod(array_ops.shape(t)[-rank:])
    real = math_ops.cast(n, t.dtype.real_dtype)
    return math_ops.complex(real, array_ops.zeros_like(real))


def _transform_grad(op_type: str):
    _, rank, inverse = _TRANSFORMS[op_type]
    forward = not op_type.startswith("I")

    def gradient(op, grad):
        # The adjoint of the unnormalized DFT is n times the inverse transform; that of the inverse is 1/n times
        # the forward transform.
        back = apply_op(inverse, [grad]).outputs[0]
        size = _inner_size(grad, rank)
        return back * size if forward else back / size

    return gradient


for _name in _TRANSFORMS:
    RegisterGradient(_name)(_transform_grad(_name))


def _transform_api(op_type: str, doc: str):
    def fn(input, name=None) -> _ops.Tensor:  # noqa: A002 - TF's argument name
        return apply_op(op_type, [input], name=name).outputs[0]

    fn.__name__ = fn.__qualname__ = op_type.lower()
    fn.__doc__ = doc
    return fn


fft = _transform_api("FFT", "The discrete Fourier transform over the innermost dimension of a complex tensor.")
tf_export("fft", "signal.fft", "spectral.fft")(fft)
ifft = _transform_api("IFFT", "The inverse discrete Fourier transform over the innermost dimension (1/n scaled).")
tf_export("ifft", "signal.ifft", "spectral.ifft")(ifft)
fft2d = _transform_api("FFT2D", "The 2-D discrete Fourier transform over the innermost 2 dimensions.")
tf_export("fft2d", "signal.fft2d", "spectral.fft2d")(fft2d)
ifft2d = _transform_api("IFFT2D", "The inverse 2-D discrete Fourier transform over the innermost 2 dimensions.")
tf_export("ifft2d", "signal.ifft2d", "spectral.ifft2d")(ifft2d)
fft3d = _transform_api("FFT3D", "The 3-D discrete Fourier transform over the innermost 3 dimensions.")
tf_export("fft3d", "signal.fft3d", "spectral.fft3d")(fft3d)
ifft3d = _transform_api("IFFT3D", "The inverse 3-D discrete Fourier transform over the innermost 3 dimensions.")
tf_export("ifft3d", "signal.ifft3d", "spectral.ifft3d")(ifft3d)


# ----------------------------------------------------------------------------------------------------------
# Real transforms: RFFT / IRFFT (1D, 2D, 3D). The ops crop the transformed axes of their input to fft_length (for
# IRFFT the innermost one to fft_length[-1] // 2 + 1) and refuse shorter ones; the Python wrappers zero-pad
# shorter inputs first, as TF's do.
# ----------------------------------------------------------------------------------------------------------
_REAL_TRANSFORMS = {"RFFT": 1, "RFFT2D": 2, "RFFT3D": 3, "IRFFT": 1, "IRFFT2D": 2, "IRFFT3D": 3}
_REAL_ATTRS = {"Treal": ("type", _dt.float32), "Tcomplex": ("type", _dt.complex64)}
_REAL_ALLOWED = {"Treal": (_dt.float32, _dt.float64), "Tcomplex": _dt.COMPLEX}


def _real_transform_shape(op):
    rank = _REAL_TRANSFORMS[op.type]
    x = op.inputs[0].shape.with_rank_at_least(rank)
    lengths = _reg.constant_value(op.inputs[1])
    if lengths is None:
        return x[:-rank].concatenate([None] * rank)
    dims = [int(n) for n in lengths]
    if not op.type.startswith("I"):
        dims[-1] = dims[-1] // 2 + 1
    return x[:-rank].concatenate(dims)


def _real_transform_kernel(op_type: str):
    rank = _REAL_TRANSFORMS[op_type]
    inverse = op_type.startswith("I")
    axes = tuple(range(-rank, 0))

    def kernel(x, fft_length, *, Treal, Tcomplex):  # noqa: N803 - TF's attr names
        if x.ndim < rank:
            raise _errors.InvalidArgumentError(None, None, f"Input must be at least {rank}D, got shape "
                                               f"{list(x.shape)}")
        lengths = [int(n) for n in np.reshape(fft_length, -1)]
        if len(lengths) != rank or any(n < 0 for n in lengths):
            raise _errors.InvalidArgumentError(None, None, f"fft_length must have {rank} non-negative elements, "
                                               f"got {lengths}")
        needed = lengths[:-1] + [lengths[-1] // 2 + 1 if inverse else lengths[-1]]
        for axis, (have, need) in enumerate(zip(x.shape[-rank:], needed)):
            if have < need:
                raise _errors.InvalidArgumentError(None, None, f"Input dimension {x.ndim - rank + axis} must have "
                                                   f"length of at least {need} but got: {have}")
        out_type = (Treal if inverse else Tcomplex).as_numpy_dtype
        if inverse:
            out_shape = x.shape[:-rank] + tuple(lengths)
        else:
            out_shape = x.shape[:-rank] + tuple(lengths[:-1]) + (lengths[-1] // 2 + 1,)
        if 0 in out_shape or 0 in x.shape[-rank:]:
            return np.zeros(out_shape, dtype=out_type)
        transform = np.fft.irfftn if inverse else np.fft.rfftn
        return transform(x, s=lengths, axes=axes).astype(out_type, copy=False)

    return kernel


for _name in _REAL_TRANSFORMS:
    _in, _out = ("Tcomplex", "Treal") if _name.startswith("I") else ("Treal", "Tcomplex")
    register_op(_name, inputs=[f"input: {_in}", "fft_length: int32"], outputs=[f"output: {_out}"],
                attrs=dict(_REAL_ATTRS), allowed=dict(_REAL_ALLOWED), shape=_real_transform_shape,
                fresh_output=True)(_real_transform_kernel(_name))


def _half_spectrum_weights(n_last: _ops.Tensor, dtype: _dt.DType, inner: float) -> _ops.Tensor:
    """Per bin k = 0 .. n//2 of a half spectrum: 1 for the bins that appear once in the full spectrum (k = 0 and,
    for even n, k = n / 2), `inner` for the others (which stand for themselves and their mirror image)."""
    k = array_ops.range(n_last // 2 + 1)
    single = math_ops.logical_or(math_ops.equal(k, 0), math_ops.equal(2 * k, n_last))
    real = array_ops.where(single, array_ops.ones_like(k, dtype=dtype.real_dtype),
                           array_ops.fill(array_ops.shape(k), _ops.convert_to_tensor(inner, dtype=dtype.real_dtype)))
    return math_ops.complex(real, array_ops.zeros_like(real)) if dtype.is_complex else real


def _pad_inner_dims(x: _ops.Tensor, sizes: _ops.Tensor, rank: int) -> _ops.Tensor:
    """`x` zero-padded at the end of its innermost `rank` dims up to `sizes` where they are shorter."""
    extra = math_ops.maximum(sizes - array_ops.shape(x)[-rank:], 0)
    outer = array_ops.zeros(array_ops.stack([array_ops.rank(x) - rank, 2]), _dt.int32)
    return array_ops.pad(x, array_ops.concat([outer, array_ops.stack([array_ops.zeros_like(extra), extra], 1)], 0))


def _fit_inner_dims(t: _ops.Tensor, like: _ops.Tensor, rank: int) -> _ops.Tensor:
    """`t` cropped or zero-padded along its innermost `rank` dims to the sizes of `like`'s."""
    want = array_ops.shape(like)
    padded = _pad_inner_dims(t, want[-rank:], rank)
    return array_ops.slice(padded, array_ops.zeros_like(want), want)


def _real_transform_grad(op_type: str):
    rank = _REAL_TRANSFORMS[op_type]
    inverse = op_type.startswith("I")
    adjoint = op_type[1:] if inverse else "I" + op_type

    def gradient(op, grad):
        x, fft_length = op.inputs
        attrs = {"Treal": op.get_attr("Treal"), "Tcomplex": op.get_attr("Tcomplex")}
        lengths = math_ops.cast(fft_length, _dt.int32)
        total = math_ops.reduce_prod(lengths)
        if inverse:
            # irfft's adjoint: the half spectrum of the gradient, each inner bin counted twice, over prod(n).
            spectrum = apply_op(adjoint, [grad, lengths], attrs).outputs[0]
            weights = _half_spectrum_weights(lengths[-1], spectrum.dtype, 2.0)
            scale = math_ops.cast(math_ops.cast(total, _dt.float64), spectrum.dtype.real_dtype)
            back = spectrum * weights / math_ops.complex(scale, array_ops.zeros_like(scale))
        else:
            # rfft's adjoint: prod(n) irfft of the gradient with each inner bin halved (irfft doubles them).
            weights = _half_spectrum_weights(lengths[-1], grad.dtype, 0.5)
            signal = apply_op(adjoint, [grad * weights, lengths], attrs).outputs[0]
            back = signal * math_ops.cast(total, signal.dtype)
        return _fit_inner_dims(back, x, rank), None

    return gradient


for _name in _REAL_TRANSFORMS:
    RegisterGradient(_name)(_real_transform_grad(_name))


def _real_transform_api(op_type: str, doc: str):
    rank = _REAL_TRANSFORMS[op_type]
    inverse = op_type.startswith("I")

    def fn(input_tensor, fft_length=None, name=None) -> _ops.Tensor:
        with _ops.name_scope(name, op_type.lower(), [input_tensor]) as scope:
            # Python numbers default to TF's single precision; arrays and tensors keep their own dtype.
            preferred = None if isinstance(input_tensor, (np.ndarray, _ops.Tensor)) else (
                _dt.complex64 if inverse else _dt.float32)
            x = _ops.convert_to_tensor(input_tensor, preferred_dtype=preferred, name="input_tensor")
            real = x.dtype.real_dtype if x.dtype.is_complex else x.dtype
            complex_type = _dt.complex128 if real == _dt.float64 else _dt.complex64
            static_inner = x.shape[-rank:].as_list() if x.shape.ndims is not None and x.shape.ndims >= rank else None
            if fft_length is None:
                if static_inner is not None and None not in static_inner:
                    # Known when the graph is built: a constant, so the result's static shape is known, as in TF.
                    fft_length = np.array(static_inner[:-1] + [2 * (static_inner[-1] - 1) if inverse
                                                               else static_inner[-1]], np.int32)
                else:
                    inner = array_ops.shape(x)[-rank:]
                    if inverse:
                        # The signal length whose half spectrum has the innermost size: 2 (m - 1).
                        inner = array_ops.concat([inner[:-1], 2 * (inner[-1:] - 1)], 0)
                    fft_length = inner
            fft_length = _ops.convert_to_tensor(fft_length, dtype=_dt.int32, name="fft_length")
            needed = fft_length
            if inverse:
                needed = array_ops.concat([fft_length[:-1], fft_length[-1:] // 2 + 1], 0)
            lengths = _reg.constant_value(fft_length)
            if lengths is None or static_inner is None or None in static_inner:
                x = _pad_inner_dims(x, needed, rank)
            else:
                # Pad by amounts known now (none when the input is long enough), keeping the static shape.
                want = [int(n) for n in np.reshape(lengths, -1)]
                if inverse:
                    want[-1] = want[-1] // 2 + 1
                extra = [max(w - d, 0) for w, d in zip(want, static_inner)]
                if any(extra):
                    x = array_ops.pad(x, [[0, 0]] * (x.shape.ndims - rank) + [[0, e] for e in extra])
            return apply_op(op_type, [x, fft_length], {"Treal": real, "Tcomplex": complex_type},
                            name=scope).outputs[0]

    fn.__name__ = fn.__qualname__ = op_type.lower()
    fn.__doc__ = doc
    return fn


rfft = _real_transform_api("RFFT", "The half spectrum (n//2 + 1 bins) of real signals along the innermost dimension.")
tf_export("signal.rfft", "spectral.rfft")(rfft)
irfft = _real_transform_api("IRFFT", "Real signals of length fft_length from half spectra along the innermost "
                                     "dimension.")
tf_export("signal.irfft", "spectral.irfft")(irfft)
rfft2d = _real_transform_api("RFFT2D", "The 2-D half spectrum of real signals over the innermost 2 dimensions.")
tf_export("signal.rfft2d", "spectral.rfft2d")(rfft2d)
irfft2d = _real_transform_api("IRFFT2D", "Real 2-D signals from half spectra over the innermost 2 dimensions.")
tf_export("signal.irfft2d", "spectral.irfft2d")(irfft2d)
rfft3d = _real_transform_api("RFFT3D", "The 3-D half spectrum of real signals over the innermost 3 dimensions.")
tf_export("signal.rfft3d", "spectral.rfft3d")(rfft3d)
irfft3d = _real_transform_api("IRFFT3D", "Real 3-D signals from half spectra over the innermost 3 dimensions.")
tf_export("signal.irfft3d", "spectral.irfft3d")(irfft3d)


# ----------------------------------------------------------------------------------------------------------
# Discrete cosine transforms (composites: a product with the transform's cosine matrix along the last axis)
# ----------------------------------------------------------------------------------------------------------
def _dct_matrix(kind: int, size: int, norm: str | None) -> np.ndarray:
    """M with dct(x) = x @ M for signals of length `size`, in float64 (TF's and SciPy's definitions)."""
    n = np.arange(size)[:, None]
    k = np.arange(size)[None, :]
    if kind == 1:
        m = 2 * np.cos(np.pi * n * k / (size - 1))
        m[0, :] = 1
        m[-1, :] = (-1.0) ** np.arange(size)
    elif kind == 2:
        m = 2 * np.cos(np.pi * k * (2 * n + 1) / (2 * size))
        if norm == "ortho":
            m *= np.where(k == 0, np.sqrt(1 / (4 * size)), np.sqrt(1 / (2 * size)))
    elif kind == 3:
        m = 2 * np.cos(np.pi * n * (2 * k + 1) / (2 * size))
        m[0, :] = 1
        if norm == "ortho":
            m *= np.where(n == 0, np.sqrt(1 / size), np.sqrt(1 / (2 * size)))
    else:
        m = 2 * np.cos(np.pi * (2 * n + 1) * (2 * k + 1) / (4 * size))
        if norm == "ortho":
            m *= np.sqrt(1 / (2 * size))
    return m


def _check_dct_args(kind, n, axis, norm, size) -> None:
    if kind not in (1, 2, 3, 4):
        raise ValueError(f"Types I, II, III and IV (I)DCT are supported, got type {kind}.")
    if kind == 1 and norm == "ortho":
        raise ValueError("Normalization is not supported for the Type-I DCT.")
    if norm not in (None, "ortho"):
        raise ValueError(f"Unknown normalization. Expected None or 'ortho', got: {norm}")
    if axis != -1:
        raise NotImplementedError(f"axis must be -1. Got: {axis}")
    if n is not None and n < 1:
        raise ValueError(f"n should be a positive integer or None, got {n}")
    if size is None:
        raise ValueError("dct needs the size of the last dimension of its input (or n) at graph time")
    if kind == 1 and size < 2:
        raise ValueError("The Type-I DCT needs at least 2 points")


@tf_export("signal.dct", "spectral.dct")
def dct(input, type=2, n=None, axis=-1, norm=None, name=None) -> _ops.Tensor:  # noqa: A002 - TF's names
    """The discrete cosine transform of type 1, 2, 3 or 4 along the last axis (norm None or 'ortho'), as TF and
    SciPy define it; with `n`, the signals are cropped or zero-padded to length n first."""
    with _ops.name_scope(name, "dct", [input]):
        x = _ops.convert_to_tensor(input, name="input")
        if not x.dtype.is_floating:
            raise TypeError(f"dct needs a float32 or float64 input, got {x.dtype.name}")
        if not x.shape.ndims:
            raise ValueError(f"dct needs an input of known rank >= 1, got shape {x.shape}")
        length = x.shape[-1].value
        size = n if n is not None else length
        _check_dct_args(type, n, axis, norm, size)
        if n is not None:
            x = _fit_last_dim(x, n)
        matrix = _ops.convert_to_tensor(_dct_matrix(type, size, norm).astype(x.dtype.as_numpy_dtype))
        return math_ops.tensordot(x, matrix, [[x.shape.ndims - 1], [0]])


def _fit_last_dim(x: _ops.Tensor, size: int) -> _ops.Tensor:
    """`x` cropped or zero-padded at the end of its last dimension to `size`."""
    extra = math_ops.maximum(size - array_ops.shape(x)[-1:], 0)
    outer = array_ops.zeros(array_ops.stack([array_ops.rank(x) - 1, 2]), _dt.int32)
    padded = array_ops.pad(x, array_ops.concat([outer, array_ops.stack([array_ops.zeros_like(extra), extra], 1)], 0))
    begin = array_ops.zeros_like(array_ops.shape(padded))
    sizes = array_ops.concat([array_ops.shape(padded)[:-1], [size]], 0)
    out = array_ops.slice(padded, begin, sizes)
    out.set_shape(x.shape[:-1].concatenate([size]))
    return out


@tf_export("signal.idct", "spectral.idct")
def idct(input, type=2, n=None, axis=-1, norm=None, name=None) -> _ops.Tensor:  # noqa: A002 - TF's names
    """The DCT of the inverse type (III for II, II for III, I and IV for themselves), as TF defines idct: the exact
    inverse with norm='ortho', and the inverse up to a factor 2N (2(N-1) for type I) without."""
    inverse_type = {1: 1, 2: 3, 3: 2, 4: 4}.get(type, type)
    return dct(input, type=inverse_type, n=n, axis=axis, norm=norm, name=name or "idct")
