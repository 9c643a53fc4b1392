"""tf.linalg.LinearOperatorCirculant, Circulant2D and Circulant3D: circulant matrices (and block-circulant ones with
circulant blocks) given by their spectrum, the DFT of the convolution kernel. They act by FFT: A x = IFFT(spectrum
* FFT(x)), so matmul, solve and determinants cost O(N log N) per column and the dense matrix is never built.
"""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.ops import array_ops, check_ops, linalg_ops, math_ops, spectral_ops
from tfmini.ops.linear_operator import LinearOperator, _adjoint_if

_TRANSFORMS = {1: (spectral_ops.fft, spectral_ops.ifft), 2: (spectral_ops.fft2d, spectral_ops.ifft2d),
               3: (spectral_ops.fft3d, spectral_ops.ifft3d)}
_COMPLEX_OF = {_dt.float16: _dt.complex64, _dt.float32: _dt.complex64, _dt.float64: _dt.complex128,
               _dt.complex64: _dt.complex64, _dt.complex128: _dt.complex128}


class _BaseLinearOperatorCirculant(LinearOperator):
    """A circulant operator whose `block_depth` innermost spectrum dimensions are the block shape (N0, N1, ...):
    the matrices are N x N with N = N0 * N1 * ..., and the leading spectrum dimensions are the batch shape."""

    def __init__(self, spectrum, block_depth: int, input_output_dtype=_dt.complex64, is_non_singular=None,
                 is_self_adjoint=None, is_positive_definite=None, is_square=True, name=None) -> None:
        if is_square is False:
            raise ValueError("A circulant operator is always square.")
        with _ops.name_scope(name, values=[spectrum]):
            spectrum = _ops.convert_to_tensor(spectrum, name="spectrum")
            if spectrum.dtype.base_dtype not in _COMPLEX_OF:
                raise TypeError(f"Argument spectrum must have dtype float16, float32, float64, complex64 or "
                                f"complex128.  Found: {spectrum.dtype.name}")
            complex_dtype = _COMPLEX_OF[spectrum.dtype.base_dtype]
            if spectrum.dtype.base_dtype != complex_dtype:
                spectrum = math_ops.cast(spectrum, complex_dtype)
            if spectrum.shape.ndims is not None and spectrum.shape.ndims < block_depth:
                raise ValueError(f"Argument spectrum must have at least {block_depth} dimensions.  Found: "
                                 f"{spectrum}")
            self._spectrum = spectrum
        self._block_depth = block_depth
        self._fft, self._ifft = _TRANSFORMS[block_depth]
        super().__init__(_dt.as_dtype(input_output_dtype), graph_parents=[spectrum],
                         is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                         is_positive_definite=is_positive_definite, is_square=True, name=name)

    @property
    def spectrum(self) -> _ops.Tensor:
        return self._spectrum

    @property
    def block_depth(self) -> int:
        return self._block_depth

    @property
    def block_shape(self) -> _shape.TensorShape:
        s = self._spectrum.shape
        return _shape.unknown_shape(rank=self._block_depth) if s.ndims is None else _shape.TensorShape(
            s.dims[-self._block_depth:])

    def block_shape_tensor(self) -> _ops.Tensor:
        if self.block_shape.is_fully_defined():
            return _ops.convert_to_tensor(self.block_shape.as_list(), dtype=_dt.int32)
        return array_ops.shape(self._spectrum)[-self._block_depth:]

    def _block_axes(self) -> list[int]:
        return list(range(-self._block_depth, 0))

    def _shape(self):
        s = self._spectrum.shape
        if s.ndims is None:
            return _shape.unknown_shape()
        dims = self.block_shape.as_list()
        n = None if None in dims else int(np.prod(dims))
        return _shape.TensorShape(s.dims[:-self._block_depth]).concatenate([n, n])

    def _shape_tensor(self):
        shape = array_ops.shape(self._spectrum)
        n = math_ops.reduce_prod(shape[-self._block_depth:])
        return array_ops.concat([shape[:-self._block_depth], array_ops.stack([n, n])], 0)

    def _to_io_dtype(self, x):
        """A complex result in the operator's dtype: its real part for a real operator."""
        if self.dtype.is_complex:
            return math_ops.cast(x, self.dtype)
        return math_ops.cast(math_ops.real(x), self.dtype)

    def _in_frequency(self, x, scale):
        """IFFT(scale * FFT(x)) applied to each column of x [..., N, R], back in the operator's dtype."""
        columns = linalg_ops.matrix_transpose(math_ops.cast(x, self._spectrum.dtype))  # [..., R, N]
        shape = array_ops.shape(columns)
        blocks = array_ops.reshape(columns, array_ops.concat([shape[:-1], self.block_shape_tensor()], 0))
        # The spectrum broadcasts over the R columns: one more axis before its block dimensions.
        scale = array_ops.expand_dims(scale, -(self._block_depth + 1))
        out = self._ifft(self._fft(blocks) * scale)
        out_shape = array_ops.shape(out)
        flat = array_ops.reshape(out, array_ops.concat([out_shape[:-self._block_depth],
                                                        array_ops.expand_dims(shape[-1], 0)], 0))
        result = self._to_io_dtype(linalg_ops.matrix_transpose(flat))
        if x.shape.ndims is not None and self.batch_shape.ndims is not None:
            batch = array_ops.broadcast_static_shape(self.batch_shape, _shape.TensorShape(x.shape.dims[:-2]))
            result.set_shape(batch.concatenate([self.range_dimension, x.shape.dims[-1]]))
        return result

    def _spectrum_for(self, adjoint):
        return math_ops.conj(self._spectrum) if adjoint else self._spectrum

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        return self._in_frequency(_adjoint_if(x, adjoint_arg), self._spectrum_for(adjoint))

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        return self._in_frequency(_adjoint_if(rhs, adjoint_arg), math_ops.reciprocal(self._spectrum_for(adjoint)))

    def _determinant(self):
        return self._to_io_dtype(math_ops.reduce_prod(self._spectrum, axis=self._block_axes()))

    def _log_abs_determinant(self):
        logs = math_ops.log(math_ops.abs(self._spectrum))
        return math_ops.cast(math_ops.reduce_sum(logs, axis=self._block_axes()), self.dtype)

    def _trace(self):
        return self._to_io_dtype(math_ops.reduce_sum(self._spectrum, axis=self._block_axes()))

    def _diag_part(self):
        # Every diagonal entry is the kernel's first value, the spectrum's mean.
        mean = math_ops.reduce_mean(self._spectrum, axis=self._block_axes())
        n = self.domain_dimension_tensor()
        ones = array_ops.ones(array_ops.concat([array_ops.shape(mean), array_ops.expand_dims(n, 0)], 0),
                              self._spectrum.dtype)
        return self._to_io_dtype(array_ops.expand_dims(mean, -1) * ones)

    def convolution_kernel(self, name="convolution_kernel") -> _ops.Tensor:
        """The kernel h of the circular convolution this operator computes, IFFT(spectrum), in its dtype."""
        with self._name_scope(name):
            return self._to_io_dtype(self._ifft(self._spectrum))

    def assert_hermitian_spectrum(self, name="assert_hermitian_spectrum") -> _ops.Operation:
        """An op failing at run time unless the spectrum is Hermitian, i.e. the operator is real."""
        with self._name_scope(name):
            kernel = self._ifft(self._spectrum)
            limit = 100 * np.finfo(kernel.dtype.real_dtype.as_numpy_dtype).eps * (
                1 + math_ops.reduce_max(math_ops.abs(kernel)))
            return check_ops.assert_less_equal(math_ops.reduce_max(math_ops.abs(math_ops.imag(kernel))), limit,
                                               message="Spectrum was not Hermitian")


@tf_export("linalg.LinearOperatorCirculant")
class LinearOperatorCirculant(_BaseLinearOperatorCirculant):
    """Circulant N x N matrices from their spectrum [..., N] (the DFT of the first column)."""

    def __init__(self, spectrum, input_output_dtype=_dt.complex64, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=True, name="LinearOperatorCirculant") -> None:
        super().__init__(spectrum, 1, input_output_dtype=input_output_dtype, is_non_singular=is_non_singular,
                         is_self_adjoint=is_self_adjoint, is_positive_definite=is_positive_definite,
                         is_square=is_square, name=name)


@tf_export("linalg.LinearOperatorCirculant2D")
class LinearOperatorCirculant2D(_BaseLinearOperatorCirculant):
    """Block-circulant matrices with circulant blocks from a spectrum [..., N0, N1]: the 2-D circular convolution
    of [N0, N1] arrays flattened row-major to vectors of N0 * N1."""

    def __init__(self, spectrum, input_output_dtype=_dt.complex64, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=True, name="LinearOperatorCirculant2D") -> None:
        super().__init__(spectrum, 2, input_output_dtype=input_output_dtype, is_non_singular=is_non_singular,
                         is_self_adjoint=is_self_adjoint, is_positive_definite=is_positive_definite,
                         is_square=is_square, name=name)


@tf_export("linalg.LinearOperatorCirculant3D")
class LinearOperatorCirculant3D(_BaseLinearOperatorCirculant):
    """The 3-D analogue of LinearOperatorCirculant2D, from a spectrum [..., N0, N1, N2]."""

    def __init__(self, spectrum, input_output_dtype=_dt.complex64, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=True, name="LinearOperatorCirculant3D") -> None:
        super().__init__(spectrum, 3, input_output_dtype=input_output_dtype, is_non_singular=is_non_singular,
                         is_self_adjoint=is_self_adjoint, is_positive_definite=is_positive_definite,
                         is_square=is_square, name=name)
