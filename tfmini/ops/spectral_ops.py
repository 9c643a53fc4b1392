"""Discrete Fourier transforms over the innermost 1, 2 or 3 dimensions of complex tensors: FFT, IFFT, FFT2D,
IFFT2D, FFT3D and IFFT3D (TF's unnormalized forward and 1/n-normalized inverse transforms, as NumPy's), with
their gradients, behind tf.fft ... tf.ifft3d and tf.spectral.*."""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
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
tf_export("fft", "spectral.fft")(fft)
ifft = _transform_api("IFFT", "The inverse discrete Fourier transform over the innermost dimension (1/n scaled).")
tf_export("ifft", "spectral.ifft")(ifft)
fft2d = _transform_api("FFT2D", "The 2-D discrete Fourier transform over the innermost 2 dimensions.")
tf_export("fft2d", "spectral.fft2d")(fft2d)
ifft2d = _transform_api("IFFT2D", "The inverse 2-D discrete Fourier transform over the innermost 2 dimensions.")
tf_export("ifft2d", "spectral.ifft2d")(ifft2d)
fft3d = _transform_api("FFT3D", "The 3-D discrete Fourier transform over the innermost 3 dimensions.")
tf_export("fft3d", "spectral.fft3d")(fft3d)
ifft3d = _transform_api("IFFT3D", "The inverse 3-D discrete Fourier transform over the innermost 3 dimensions.")
tf_export("ifft3d", "spectral.ifft3d")(ifft3d)
