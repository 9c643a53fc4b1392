"""Linear algebra (TF's linalg_ops family): inverses, determinants, the Cholesky, QR, SVD, self-adjoint eigen and
LU decompositions, solves (general, triangular, least squares, tridiagonal), the cross product, matrix square root
and logarithm, each with its NumPy kernel, gradient and Python wrapper. The functions composed from these ops
(expm, logdet, pinv, lu_solve, ...) are in linalg_impl.

Every op works on batches: the last two dimensions hold the matrices, the leading ones are batch dimensions.
"""

from __future__ import annotations

import collections

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import RegisterGradient, apply_op, register_op
from tfmini.ops import array_ops, math_ops

# TF's types for the LAPACK-style ops: half, float, double and the complex types.
_LINALG_TYPES = _dt.FLOATING + _dt.COMPLEX
_fmt = _shape.dims_str


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


def _working(x: np.ndarray) -> np.ndarray:
    """The array LAPACK computes on: float16 is widened to float32 (the result is rounded back)."""
    return x.astype(np.float32) if x.dtype == np.float16 else x


def _check_matrices(x: np.ndarray, square: bool = True) -> None:
    if x.ndim < 2:
        raise _invalid(f"Input tensor 0 must have rank >= 2, received shape: {_fmt(x.shape)}")
    if square and x.shape[-1] != x.shape[-2]:
        raise _invalid("Input matrix must be square.")


def _batch_square_shape(op, index: int = 0) -> _shape.TensorShape:
    """Input `index` as a batch of square matrices: rank >= 2, last two dimensions equal (TF's ValueError)."""
    s = op.inputs[index].shape
    if s.ndims is None:
        return s
    if s.ndims < 2:
        raise ValueError(f"Shape must be at least rank 2 but is rank {s.ndims}")
    rows, cols = s.dims[-2], s.dims[-1]
    if not rows.is_compatible_with(cols):
        raise ValueError(f"Dimensions must be equal, but are {rows} and {cols}")
    n = rows.merge_with(cols)
    return _shape.TensorShape(s.dims[:-2]).concatenate([n, n])


def _batch_matrix_shape(op, index: int = 0) -> _shape.TensorShape:
    s = op.inputs[index].shape
    if s.ndims is not None and s.ndims < 2:
        raise ValueError(f"Shape must be at least rank 2 but is rank {s.ndims}")
    return s


def _same_shape_square(op):
    return _batch_square_shape(op)


def _batch_dims(s: _shape.TensorShape) -> _shape.TensorShape:
    return _shape.unknown_shape() if s.ndims is None else _shape.TensorShape(s.dims[:-2])


# ----------------------------------------------------------------------------------------------------------
# Helpers the gradients and wrappers share
# ----------------------------------------------------------------------------------------------------------
def _mm(a, b, adjoint_a: bool = False, adjoint_b: bool = False) -> _ops.Tensor:
    return math_ops.matmul(a, b, adjoint_a=adjoint_a, adjoint_b=adjoint_b)


def _diag_part(x) -> _ops.Tensor:
    return array_ops.matrix_diag_part(x)


def _tril(x, k_lower: int = -1) -> _ops.Tensor:
    return array_ops.matrix_band_part(x, k_lower, 0)


def _triu(x) -> _ops.Tensor:
    return array_ops.matrix_band_part(x, 0, -1)


def _expand_last2(x) -> _ops.Tensor:
    return array_ops.expand_dims(array_ops.expand_dims(x, -1), -1)


def _identity_like(x) -> _ops.Tensor:
    """Identity matrices with x's batch shape, size of x's last dimension and dtype."""
    return array_ops.matrix_set_diag(array_ops.zeros_like(x), array_ops.ones_like(_diag_part(x)))


def _conj(x) -> _ops.Tensor:
    return math_ops.conj(x) if x.dtype.is_complex else x


@tf_export("linalg.matrix_transpose", "linalg.transpose", "matrix_transpose")
def matrix_transpose(a, name="matrix_transpose", conjugate=False) -> _ops.Tensor:
    """Transposes the last two dimensions of a (conjugating them too with `conjugate`)."""
    with _ops.name_scope(name, values=[a]):
        a = _ops.convert_to_tensor(a, name="a")
        ndims = a.shape.ndims
        if ndims is not None:
            if ndims < 2:
                raise ValueError(f"Argument 'a' should be a (batch) matrix, with rank >= 2.  Found: {a.shape}")
            perm = list(range(ndims - 2)) + [ndims - 1, ndims - 2]
        else:
            rank = array_ops.rank(a)
            perm = array_ops.concat([array_ops.range(rank - 2), array_ops.stack([rank - 1, rank - 2])], 0)
        return array_ops.transpose(a, perm=perm, conjugate=conjugate)


@tf_export("linalg.adjoint")
def adjoint(matrix, name=None) -> _ops.Tensor:
    """The conjugate transpose of the last two dimensions."""
    with _ops.name_scope(name, "adjoint", [matrix]):
        matrix = _ops.convert_to_tensor(matrix, name="matrix")
        return matrix_transpose(matrix, conjugate=True)


# ----------------------------------------------------------------------------------------------------------
# MatrixInverse, MatrixDeterminant, LogMatrixDeterminant
# ----------------------------------------------------------------------------------------------------------
@register_op("MatrixInverse", inputs=["input: T"], outputs=["output: T"], attrs={"adjoint": ("bool", False)},
             allowed={"T": _LINALG_TYPES}, shape=_same_shape_square, fresh_output=True)
def _matrix_inverse_kernel(x, *, adjoint):
    _check_matrices(x)
    a = _working(x)
    if adjoint:
        a = np.conj(np.swapaxes(a, -1, -2))
    try:
        out = np.linalg.inv(a)
    except np.linalg.LinAlgError:
        raise _invalid("Input is not invertible.") from None
    return out.astype(x.dtype, copy=False)


@RegisterGradient("MatrixInverse")
def _matrix_inverse_grad(op, grad):
    # Y = A^-1: dA = -Y^H G Y^H; with adjoint (Y = A^-H) the transpose of that, -Y G^H Y.
    y = op.outputs[0]
    if op.get_attr("adjoint"):
        return -_mm(y, _mm(grad, y, adjoint_a=True))
    return -_mm(y, _mm(grad, y, adjoint_b=True), adjoint_a=True)


@tf_export("linalg.inv", "matrix_inverse")
def matrix_inverse(input, adjoint=False, name=None) -> _ops.Tensor:  # noqa: A002
    """The inverse (or, with `adjoint`, the inverse of the conjugate transpose) of each square matrix."""
    return apply_op("MatrixInverse", [input], {"adjoint": bool(adjoint)}, name=name).outputs[0]


def _det_shape(op):
    return _batch_dims(_batch_square_shape(op))


@register_op("MatrixDeterminant", inputs=["input: T"], outputs=["output: T"], allowed={"T": _LINALG_TYPES},
             shape=_det_shape)
def _matrix_determinant_kernel(x):
    _check_matrices(x)
    return np.asarray(np.linalg.det(_working(x))).astype(x.dtype)


@RegisterGradient("MatrixDeterminant")
def _matrix_determinant_grad(op, grad):
    # d det(A) / dA = det(A) A^-T (conjugated for complex A).
    a_adj_inv = matrix_inverse(op.inputs[0], adjoint=True)
    return _expand_last2(grad * op.outputs[0]) * a_adj_inv


@tf_export("linalg.det", "matrix_determinant")
def matrix_determinant(input, name=None) -> _ops.Tensor:  # noqa: A002
    """The determinant of each square matrix."""
    return apply_op("MatrixDeterminant", [input], name=name).outputs[0]


@register_op("LogMatrixDeterminant", inputs=["input: T"], outputs=["sign: T", "log_abs_determinant: T"],
             allowed={"T": _LINALG_TYPES}, shape=lambda op: [_det_shape(op)] * 2)
def _log_matrix_determinant_kernel(x):
    _check_matrices(x)
    sign, logdet = np.linalg.slogdet(_working(x))
    return np.asarray(sign).astype(x.dtype), np.asarray(logdet).astype(x.dtype)


@RegisterGradient("LogMatrixDeterminant")
def _log_matrix_determinant_grad(op, grad_sign, grad_logdet):
    # The sign is piecewise constant; d log|det A| / dA = A^-T.
    del grad_sign
    return _expand_last2(grad_logdet) * matrix_inverse(op.inputs[0], adjoint=True)


LogMatrixDeterminant = collections.namedtuple("LogMatrixDeterminant", ["sign", "log_abs_determinant"])


@tf_export("linalg.slogdet")
def log_matrix_determinant(input, name=None) -> LogMatrixDeterminant:  # noqa: A002
    """(sign, log |det|) of each square matrix: the determinant without overflow."""
    op = apply_op("LogMatrixDeterminant", [input], name=name)
    return LogMatrixDeterminant(*op.outputs)


# ----------------------------------------------------------------------------------------------------------
# Cholesky
# ----------------------------------------------------------------------------------------------------------
@register_op("Cholesky", inputs=["input: T"], outputs=["output: T"], allowed={"T": _LINALG_TYPES},
             shape=_same_shape_square, fresh_output=True)
def _cholesky_kernel(x):
    _check_matrices(x)
    if x.size == 0:
        return np.array(x, copy=True)
    try:
        out = np.linalg.cholesky(_working(x))  # reads the lower triangle only, as TF's kernel does
    except np.linalg.LinAlgError:
        raise _invalid("Cholesky decomposition was not successful. The input might not be valid.") from None
    return out.astype(x.dtype, copy=False)


@RegisterGradient("Cholesky")
def _cholesky_grad(op, grad):
    # With A = L L^H, the symmetric gradient is S + S^H halved, where S = L^-H Phi(L^H G) L^-1 and Phi keeps
    # the lower triangle with its diagonal halved.
    chol = op.outputs[0]
    middle = _mm(chol, grad, adjoint_a=True)
    middle = _tril(array_ops.matrix_set_diag(middle, 0.5 * _diag_part(middle)))
    chol_inv = matrix_triangular_solve(chol, _identity_like(chol), lower=True)
    s = _mm(_mm(chol_inv, middle, adjoint_a=True), chol_inv)
    return 0.5 * (s + adjoint(s))


@tf_export("linalg.cholesky", "cholesky")
def cholesky(input, name=None) -> _ops.Tensor:  # noqa: A002
    """The lower-triangular L with L L^H = A of each Hermitian positive-definite matrix (its lower triangle is read)."""
    return apply_op("Cholesky", [input], name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# Qr
# ----------------------------------------------------------------------------------------------------------
def _qr_shape(op):
    s = _batch_matrix_shape(op)
    if s.ndims is None:
        return [s, s]
    batch, m, n = _shape.TensorShape(s.dims[:-2]), s.dims[-2], s.dims[-1]
    if op.get_attr("full_matrices"):
        return [batch.concatenate([m, m]), batch.concatenate([m, n])]
    k = None if m.value is None or n.value is None else min(m.value, n.value)
    return [batch.concatenate([m, k]), batch.concatenate([k, n])]


@register_op("Qr", inputs=["input: T"], outputs=["q: T", "r: T"], attrs={"full_matrices": ("bool", False)},
             allowed={"T": _LINALG_TYPES}, shape=_qr_shape, fresh_output=True)
def _qr_kernel(x, *, full_matrices):
    _check_matrices(x, square=False)
    q, r = np.linalg.qr(_working(x), mode="complete" if full_matrices else "reduced")
    return q.astype(x.dtype, copy=False), r.astype(x.dtype, copy=False)


@RegisterGradient("Qr")
def _qr_grad(op, dq, dr):
    # For A = QR with M >= N (reduced): dA = (dQ + Q copyltu(M)) R^-H with M = R dR^H - dQ^H Q, where
    # copyltu mirrors the lower triangle onto the upper one.
    a, (q, r) = op.inputs[0], op.outputs
    m, n = a.shape.dims[-2].value if a.shape.ndims else None, a.shape.dims[-1].value if a.shape.ndims else None
    if m is None or n is None or m < n or (op.get_attr("full_matrices") and m != n):
        raise NotImplementedError("QrGrad not implemented when ncols > nrows or full_matrices is true and "
                                  "ncols != nrows.")
    dq = array_ops.zeros_like(q) if dq is None else dq
    dr = array_ops.zeros_like(r) if dr is None else dr
    mid = _mm(r, dr, adjoint_b=True) - _mm(dq, q, adjoint_a=True)
    low = _tril(mid)
    copyltu = low + adjoint(low) - array_ops.matrix_diag(_diag_part(mid))
    lhs = dq + _mm(q, copyltu)
    # X R^-H = (R^-1 X^H)^H, with R upper triangular.
    return adjoint(matrix_triangular_solve(r, adjoint(lhs), lower=False))


Qr = collections.namedtuple("Qr", ["q", "r"])


@tf_export("linalg.qr", "qr")
def qr(input, full_matrices=False, name=None) -> Qr:  # noqa: A002
    """The QR decomposition of each matrix: (q, r), q with orthonormal columns and r upper triangular."""
    op = apply_op("Qr", [input], {"full_matrices": bool(full_matrices)}, name=name)
    return Qr(*op.outputs)


# ----------------------------------------------------------------------------------------------------------
# Svd
# ----------------------------------------------------------------------------------------------------------
def _svd_shape(op):
    s = _batch_matrix_shape(op)
    if s.ndims is None:
        return [_shape.unknown_shape()] * 3
    batch, m, n = _shape.TensorShape(s.dims[:-2]), s.dims[-2], s.dims[-1]
    k = None if m.value is None or n.value is None else min(m.value, n.value)
    if not op.get_attr("compute_uv"):
        return [batch.concatenate([k]), _shape.TensorShape([0]), _shape.TensorShape([0])]
    if op.get_attr("full_matrices"):
        return [batch.concatenate([k]), batch.concatenate([m, m]), batch.concatenate([n, n])]
    return [batch.concatenate([k]), batch.concatenate([m, k]), batch.concatenate([n, k])]


@register_op("Svd", inputs=["input: T"], outputs=["s: T", "u: T", "v: T"],
             attrs={"compute_uv": ("bool", True), "full_matrices": ("bool", False)},
             allowed={"T": _LINALG_TYPES}, shape=_svd_shape, fresh_output=True)
def _svd_kernel(x, *, compute_uv, full_matrices):
    _check_matrices(x, square=False)
    a = _working(x)
    if not compute_uv:
        s = np.linalg.svd(a, compute_uv=False)
        return s.astype(x.dtype), np.zeros((0,), x.dtype), np.zeros((0,), x.dtype)
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    v = np.conj(np.swapaxes(vh, -1, -2))
    return s.astype(x.dtype), u.astype(x.dtype, copy=False), np.ascontiguousarray(v).astype(x.dtype, copy=False)


def _distinct_reciprocal(e_rows, e_cols):
    """F[i, j] = 1 / (e_cols[j] - e_rows[i]) off the diagonal and 0 on it (the eigen/singular-vector kernels)."""
    diff = array_ops.expand_dims(e_cols, -2) - array_ops.expand_dims(e_rows, -1)
    off = array_ops.matrix_set_diag(diff, array_ops.ones_like(e_rows))
    return array_ops.matrix_set_diag(math_ops.reciprocal(off), array_ops.zeros_like(e_rows))


@RegisterGradient("Svd")
def _svd_grad(op, ds, du, dv):
    # The reduced SVD A = U S V^T: with F[i, j] = 1 / (s_j^2 - s_i^2),
    # dA = U [ (F o (U^T dU - dU^T U)) S + diag(dS) + S (F o (V^T dV - dV^T V)) ] V^T
    #      + (I - U U^T) dU S^-1 V^T + U S^-1 dV^T (I - V V^T)        (the last terms for non-square A).
    a = op.inputs[0]
    if not op.get_attr("compute_uv"):
        s, u, v = svd(a, compute_uv=True)
        return _mm(u * array_ops.expand_dims(ds, -2), v, adjoint_b=True)
    if op.get_attr("full_matrices"):
        m = a.shape.dims[-2].value if a.shape.ndims else None
        n = a.shape.dims[-1].value if a.shape.ndims else None
        if m is None or n is None or m != n:
            raise NotImplementedError("SVD gradient has not been implemented for input with unknown inner matrix "
                                      "shape or with full_matrices=True and a non-square input.")
    s, u, v = op.outputs
    ds = array_ops.zeros_like(s) if ds is None else ds
    s_mat = array_ops.matrix_diag(s)
    middle = array_ops.matrix_diag(ds)
    s2 = s * s
    f = _distinct_reciprocal(s2, s2)
    s_inv = math_ops.reciprocal(s)
    result = None
    if du is not None:
        utdu = _mm(u, du, adjoint_a=True)
        middle = middle + _mm(f * (utdu - adjoint(utdu)), s_mat)
        # (I - U U^T) dU S^-1, which is zero for square A.
        rest_u = du - _mm(u, utdu)
        result = _mm(rest_u * array_ops.expand_dims(s_inv, -2), v, adjoint_b=True)
    if dv is not None:
        vtdv = _mm(v, dv, adjoint_a=True)
        middle = middle + _mm(s_mat, f * (vtdv - adjoint(vtdv)))
        if vtdv.dtype.is_complex:
            # A complex SVD is defined up to a phase per singular pair: the imaginary diagonal of V^H dV that
            # such a phase leaves adds (L^H - L) S^-1 / 2 with L = diag(V^H dV).
            phase = array_ops.matrix_diag(_diag_part(vtdv))
            middle = middle + 0.5 * _mm(adjoint(phase) - phase, array_ops.matrix_diag(math_ops.reciprocal(s)))
        rest_v = dv - _mm(v, vtdv)
        term = _mm(u * array_ops.expand_dims(s_inv, -2), rest_v, adjoint_b=True)
        result = term if result is None else result + term
    core = _mm(_mm(u, middle), v, adjoint_b=True)
    return core if result is None else core + result


@tf_export("linalg.svd", "svd")
def svd(tensor, full_matrices=False, compute_uv=True, name=None):
    """Singular values of each matrix in decreasing order; with `compute_uv`, (s, u, v) with A = U diag(s) V^H."""
    with _ops.name_scope(name, "svd", [tensor]):
        tensor = _ops.convert_to_tensor(tensor, name="tensor")
        s, u, v = apply_op("Svd", [tensor], {"compute_uv": bool(compute_uv),
                                             "full_matrices": bool(full_matrices)}).outputs
        if compute_uv:
            return math_ops.real(s) if s.dtype.is_complex else s, u, v
        return math_ops.real(s) if s.dtype.is_complex else s


# ----------------------------------------------------------------------------------------------------------
# SelfAdjointEigV2
# ----------------------------------------------------------------------------------------------------------
def _eig_shape(op):
    s = _batch_square_shape(op)
    if s.ndims is None:
        return [_shape.unknown_shape(), _shape.unknown_shape() if op.get_attr("compute_v") else
                _shape.TensorShape([0])]
    e = _shape.TensorShape(s.dims[:-1])
    return [e, s if op.get_attr("compute_v") else _shape.TensorShape([0])]


@register_op("SelfAdjointEigV2", inputs=["input: T"], outputs=["e: T", "v: T"], attrs={"compute_v": ("bool", True)},
             allowed={"T": _LINALG_TYPES}, shape=_eig_shape, fresh_output=True)
def _self_adjoint_eig_kernel(x, *, compute_v):
    _check_matrices(x)
    a = _working(x)
    real = np.float32 if x.dtype == np.float16 else x.dtype
    if not compute_v:
        e = np.linalg.eigvalsh(a, UPLO="L")
        return e.astype(real).astype(x.dtype), np.zeros((0,), x.dtype)
    e, v = np.linalg.eigh(a, UPLO="L")  # the lower triangle only, as TF's kernel reads it
    return e.astype(x.dtype), v.astype(x.dtype, copy=False)


@RegisterGradient("SelfAdjointEigV2")
def _self_adjoint_eig_grad(op, grad_e, grad_v):
    # A = V diag(e) V^H: dA = V (diag(de) + F o (V^H dV)) V^H with F[i, j] = 1 / (e_j - e_i); the kernel reads
    # the lower triangle only, so the symmetric gradient is folded onto it.
    e, v = op.outputs
    if not op.get_attr("compute_v"):
        e, v = self_adjoint_eig(op.inputs[0])
        grad_v = None
    inner = array_ops.matrix_diag(grad_e if grad_e is not None else array_ops.zeros_like(e))
    if grad_v is not None:
        inner = inner + _distinct_reciprocal(e, e) * _mm(v, grad_v, adjoint_a=True)
    full = _mm(_mm(v, inner), v, adjoint_b=True)
    folded = _tril(full + adjoint(full))
    return array_ops.matrix_set_diag(folded, 0.5 * _diag_part(folded))


@tf_export("linalg.eigh", "self_adjoint_eig")
def self_adjoint_eig(tensor, name=None) -> tuple[_ops.Tensor, _ops.Tensor]:
    """(e, v): the eigenvalues in ascending order and the eigenvectors (columns) of each self-adjoint matrix."""
    e, v = apply_op("SelfAdjointEigV2", [tensor], {"compute_v": True}, name=name).outputs
    return e, v


@tf_export("linalg.eigvalsh", "self_adjoint_eigvals")
def self_adjoint_eigvals(tensor, name=None) -> _ops.Tensor:
    """The eigenvalues of each self-adjoint matrix, in ascending order."""
    return apply_op("SelfAdjointEigV2", [tensor], {"compute_v": False}, name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# MatrixSolve, MatrixTriangularSolve (and cholesky_solve on it), MatrixSolveLs
# ----------------------------------------------------------------------------------------------------------
def _solve_shape(op):
    a = _batch_square_shape(op)
    b = _batch_matrix_shape(op, 1)
    if a.ndims is None or b.ndims is None:
        return b if a.ndims is None else _shape.TensorShape(a.dims[:-1]).concatenate(
            [None] if b.ndims is None else b.dims[-1:])
    if a.ndims != b.ndims:
        raise ValueError(f"Shape must be rank {a.ndims} but is rank {b.ndims}")
    batch = _shape.TensorShape(a.dims[:-2]).merge_with(_shape.TensorShape(b.dims[:-2]))
    rows = a.dims[-1]
    if not rows.is_compatible_with(b.dims[-2]):
        raise ValueError(f"Dimensions must be equal, but are {rows} and {b.dims[-2]}")
    return batch.concatenate([rows.merge_with(b.dims[-2]), b.dims[-1]])


def _check_solve_inputs(matrix: np.ndarray, rhs: np.ndarray) -> None:
    _check_matrices(matrix)
    if rhs.ndim < 2:
        raise _invalid(f"Input tensor 1 must have rank >= 2, received shape: {_fmt(rhs.shape)}")
    if matrix.ndim != rhs.ndim or matrix.shape[:-2] != rhs.shape[:-2]:
        raise _invalid(f"Input matrix and rhs must have the same batch dimensions: {_fmt(matrix.shape)} vs. "
                       f"{_fmt(rhs.shape)}")
    if matrix.shape[-1] != rhs.shape[-2]:
        raise _invalid("Input matrix and rhs are incompatible.")


@register_op("MatrixSolve", inputs=["matrix: T", "rhs: T"], outputs=["output: T"],
             attrs={"adjoint": ("bool", False)}, allowed={"T": _LINALG_TYPES}, shape=_solve_shape,
             fresh_output=True)
def _matrix_solve_kernel(matrix, rhs, *, adjoint):
    _check_solve_inputs(matrix, rhs)
    a, b = _working(matrix), _working(rhs)
    if adjoint:
        a = np.conj(np.swapaxes(a, -1, -2))
    if b.size == 0 or a.size == 0:
        return np.zeros(rhs.shape, rhs.dtype)
    try:
        out = np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        raise _invalid("Input matrix is not invertible.") from None
    return out.astype(rhs.dtype, copy=False)


@RegisterGradient("MatrixSolve")
def _matrix_solve_grad(op, grad):
    # X = A^-1 B: dB = A^-H dX, dA = -dB X^H; with adjoint (X = A^-H B): dB = A^-1 dX, dA = -X dB^H.
    a, x = op.inputs[0], op.outputs[0]
    adj = op.get_attr("adjoint")
    grad_b = matrix_solve(a, grad, adjoint=not adj)
    grad_a = -_mm(x, grad_b, adjoint_b=True) if adj else -_mm(grad_b, x, adjoint_b=True)
    return grad_a, grad_b


@tf_export("linalg.solve", "matrix_solve")
def matrix_solve(matrix, rhs, adjoint=False, name=None) -> _ops.Tensor:
    """X with A X = B (or A^H X = B with `adjoint`) for each square A; rhs is [..., M, K]."""
    return apply_op("MatrixSolve", [matrix, rhs], {"adjoint": bool(adjoint)}, name=name).outputs[0]


@register_op("MatrixTriangularSolve", inputs=["matrix: T", "rhs: T"], outputs=["output: T"],
             attrs={"lower": ("bool", True), "adjoint": ("bool", False)}, allowed={"T": _LINALG_TYPES},
             shape=_solve_shape, fresh_output=True)
def _matrix_triangular_solve_kernel(matrix, rhs, *, lower, adjoint):
    _check_solve_inputs(matrix, rhs)
    if rhs.size == 0 or matrix.size == 0:
        return np.zeros(rhs.shape, rhs.dtype)
    a = _working(matrix)
    a = np.tril(a) if lower else np.triu(a)
    if np.any(np.diagonal(a, axis1=-2, axis2=-1) == 0):
        raise _invalid("Input matrix is not invertible.")
    if adjoint:
        a = np.conj(np.swapaxes(a, -1, -2))
    return np.linalg.solve(a, _working(rhs)).astype(rhs.dtype, copy=False)


@RegisterGradient("MatrixTriangularSolve")
def _matrix_triangular_solve_grad(op, grad):
    # As MatrixSolve's, with dA kept to the triangle the op reads.
    a, x = op.inputs[0], op.outputs[0]
    adj, lower = op.get_attr("adjoint"), op.get_attr("lower")
    grad_b = matrix_triangular_solve(a, grad, lower=lower, adjoint=not adj)
    grad_a = -_mm(x, grad_b, adjoint_b=True) if adj else -_mm(grad_b, x, adjoint_b=True)
    return (_tril(grad_a) if lower else _triu(grad_a)), grad_b


@tf_export("linalg.triangular_solve", "matrix_triangular_solve")
def matrix_triangular_solve(matrix, rhs, lower=True, adjoint=False, name=None) -> _ops.Tensor:
    """X with A X = B for triangular A: only the lower (or, with lower=False, upper) triangle of A is read."""
    return apply_op("MatrixTriangularSolve", [matrix, rhs], {"lower": bool(lower), "adjoint": bool(adjoint)},
                    name=name).outputs[0]


@tf_export("linalg.cholesky_solve", "cholesky_solve")
def cholesky_solve(chol, rhs, name=None) -> _ops.Tensor:
    """X with A X = B, given A's Cholesky factor `chol` (L with A = L L^H)."""
    with _ops.name_scope(name, "cholesky_solve", [chol, rhs]):
        y = matrix_triangular_solve(chol, rhs, adjoint=False, lower=True)
        return matrix_triangular_solve(chol, y, adjoint=True, lower=True)


def _solve_ls_shape(op):
    a = _batch_matrix_shape(op)
    b = _batch_matrix_shape(op, 1)
    if op.inputs[2].shape.ndims not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {op.inputs[2].shape.ndims}")
    if a.ndims is None or b.ndims is None:
        return _shape.unknown_shape()
    if not a.dims[-2].is_compatible_with(b.dims[-2]):
        raise ValueError(f"Dimensions must be equal, but are {a.dims[-2]} and {b.dims[-2]}")
    batch = _shape.TensorShape(a.dims[:-2]).merge_with(_shape.TensorShape(b.dims[:-2]))
    return batch.concatenate([a.dims[-1], b.dims[-1]])


@register_op("MatrixSolveLs", inputs=["matrix: T", "rhs: T", "l2_regularizer: float64"], outputs=["output: T"],
             attrs={"fast": ("bool", True)}, allowed={"T": _LINALG_TYPES}, shape=_solve_ls_shape,
             fresh_output=True)
def _matrix_solve_ls_kernel(matrix, rhs, l2_regularizer, *, fast):
    _check_matrices(matrix, square=False)
    if rhs.ndim < 2 or matrix.shape[:-2] != rhs.shape[:-2] or matrix.shape[-2] != rhs.shape[-2]:
        raise _invalid(f"Input matrix and rhs are incompatible: {_fmt(matrix.shape)} vs. {_fmt(rhs.shape)}")
    lam = float(l2_regularizer)
    if lam < 0:
        raise _invalid(f"l2_regularizer must be non-negative, got {lam}")
    a, b = _working(matrix), _working(rhs)
    m, n = a.shape[-2:]
    out_shape = a.shape[:-2] + (n, b.shape[-1])
    if a.size == 0 or b.size == 0:
        return np.zeros(out_shape, rhs.dtype)
    ah = np.conj(np.swapaxes(a, -1, -2))
    if fast:
        try:
            if m >= n:  # the normal equations (A^H A + l2 I) X = A^H B
                gram = ah @ a + lam * np.eye(n, dtype=a.dtype)
                out = np.linalg.solve(gram, ah @ b)
            else:  # the minimum-norm solution X = A^H (A A^H + l2 I)^-1 B
                gram = a @ ah + lam * np.eye(m, dtype=a.dtype)
                out = ah @ np.linalg.solve(gram, b)
        except np.linalg.LinAlgError:
            raise _invalid("Input matrix is not invertible.") from None
        return out.astype(rhs.dtype, copy=False)
    if lam:  # regularized least squares as the plain problem on [A; sqrt(l2) I]
        a = np.concatenate([a, np.broadcast_to(np.sqrt(lam) * np.eye(n, dtype=a.dtype), a.shape[:-2] + (n, n))], -2)
        b = np.concatenate([b, np.zeros(b.shape[:-2] + (n, b.shape[-1]), b.dtype)], -2)
    # The minimum-norm solution, singular values below LAPACK's lstsq cutoff (eps * max(M, N)) counted as zero.
    cutoff = np.finfo(a.dtype).eps * max(a.shape[-2:])
    return (np.linalg.pinv(a, rcond=cutoff) @ b).astype(rhs.dtype, copy=False)


@RegisterGradient("MatrixSolveLs")
def _matrix_solve_ls_grad(op, grad):
    # Gradients of the fast (normal-equation) solution; with Z the solve of the gram matrix against the
    # incoming gradient: M >= N: X = C^-1 A^H B, C = A^H A + l2 I, Z = C^-1 dX,
    #   dB = A Z, dA = (B - A X) Z^H - A Z X^H;
    # M < N: X = A^H Y, Y = D^-1 B, D = A A^H + l2 I, V = D^-1 A dX,
    #   dB = V, dA = Y dX^H - (V Y^H + Y V^H) A.
    if not op.get_attr("fast"):
        raise ValueError("Gradient not defined for fast=False")
    a, b, l2 = op.inputs
    x = op.outputs[0]
    l2 = math_ops.cast(l2, a.dtype.base_dtype)
    m = a.shape.dims[-2].value if a.shape.ndims else None
    n = a.shape.dims[-1].value if a.shape.ndims else None
    if m is None or n is None:
        raise NotImplementedError("The gradient of MatrixSolveLs needs the matrix dimensions known")
    if m >= n:
        gram = _mm(a, a, adjoint_a=True)
        z = cholesky_solve(cholesky(gram + l2 * _identity_like(gram)), grad)
        grad_b = _mm(a, z)
        grad_a = _mm(b - _mm(a, x), z, adjoint_b=True) - _mm(grad_b, x, adjoint_b=True)
        return grad_a, grad_b, None
    gram = _mm(a, a, adjoint_b=True)
    chol = cholesky(gram + l2 * _identity_like(gram))
    y = cholesky_solve(chol, b)
    v = cholesky_solve(chol, _mm(a, grad))
    grad_a = _mm(y, grad, adjoint_b=True) - _mm(_mm(v, y, adjoint_b=True) + _mm(y, v, adjoint_b=True), a)
    return grad_a, v, None


@tf_export("linalg.lstsq", "matrix_solve_ls")
def matrix_solve_ls(matrix, rhs, l2_regularizer=0.0, fast=True, name=None) -> _ops.Tensor:
    """The least-squares solution X of min ||A X - B||^2 + l2_regularizer ||X||^2 for each [M, N] matrix A.

    fast=True solves the normal equations by Cholesky (well-conditioned A of full rank); fast=False is
    the minimum-norm least-squares solution of any A.
    """
    with _ops.name_scope(name, "matrix_solve_ls", [matrix, rhs, l2_regularizer]) as scope:
        matrix = _ops.convert_to_tensor(matrix, name="matrix")
        if matrix.dtype == _dt.complex128 and l2_regularizer != 0:
            raise NotImplementedError("matrix_solve_ls is currently disabled for complex128 and l2_regularizer != 0 "
                                      "due to poor accuracy.")
        regularizer = _ops.convert_to_tensor(l2_regularizer, dtype=_dt.float64, name="l2_regularizer")
        return apply_op("MatrixSolveLs", [matrix, rhs, regularizer], {"fast": bool(fast)}, name=scope).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# Cross
# ----------------------------------------------------------------------------------------------------------
def _cross_shape(op):
    a, b = op.inputs[0].shape, op.inputs[1].shape
    merged = a.merge_with(b) if a.is_compatible_with(b) else None
    if merged is None:
        raise ValueError("Dimensions must be equal")
    if merged.ndims is not None:
        if merged.ndims < 1:
            raise ValueError("Shape must be at least rank 1 but is rank 0")
        last = merged.dims[-1].value
        if last is not None and last != 3:
            raise ValueError(f"Dimension must be 3 but is {last}")
    return merged


@register_op("Cross", inputs=["a: T", "b: T"], outputs=["product: T"], allowed={"T": _dt.REAL},
             shape=_cross_shape, fresh_output=True)
def _cross_kernel(a, b):
    if a.shape != b.shape:
        raise _invalid(f"Both inputs must be of same shape: {_fmt(a.shape)} vs. {_fmt(b.shape)}")
    if a.ndim < 1:
        raise _invalid("Input must be at least 1D" + _fmt(a.shape))
    if a.shape[-1] != 3:
        raise _errors.FailedPreconditionError(None, None, "Cross-products are only defined for 3-element vectors.")
    return np.cross(a, b).astype(a.dtype, copy=False)


@RegisterGradient("Cross")
def _cross_grad(op, grad):
    # g . (u x v) = u . (v x g) = v . (g x u)
    u, v = op.inputs
    return cross(v, grad), cross(grad, u)


@tf_export("linalg.cross", "cross")
def cross(a, b, name=None) -> _ops.Tensor:
    """The pairwise cross product of the 3-vectors in the last dimension of a and b."""
    return apply_op("Cross", [a, b], name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# MatrixSquareRoot, MatrixLogarithm (by eigendecomposition), Lu
# ----------------------------------------------------------------------------------------------------------
def _by_eigenvalues(x: np.ndarray, fn) -> np.ndarray:
    """fn applied to each matrix's eigenvalues: V fn(L) V^-1 (a diagonalizable matrix's primary function)."""
    a = _working(x)
    if a.size == 0:
        return np.array(x, copy=True)
    w, v = np.linalg.eig(a)
    with np.errstate(all="ignore"):
        fw = fn(w.astype(np.result_type(w.dtype, np.complex64)))
        out = np.linalg.solve(np.swapaxes(v, -1, -2), np.swapaxes(v * fw[..., None, :], -1, -2))
    out = np.swapaxes(out, -1, -2)
    if x.dtype.kind != "c":
        # A real matrix with a negative real eigenvalue has no real principal root: NaN, as TF's kernel gives.
        scale = np.maximum(np.abs(out).max(axis=(-2, -1), keepdims=True), 1.0)
        bad = np.abs(out.imag).max(axis=(-2, -1), keepdims=True) > 1e3 * np.finfo(a.dtype).eps * scale
        out = np.where(bad, np.nan, out.real)
    return out.astype(x.dtype)


@register_op("MatrixSquareRoot", inputs=["input: T"], outputs=["output: T"], allowed={"T": _LINALG_TYPES},
             shape=_same_shape_square, fresh_output=True)
def _matrix_square_root_kernel(x):
    _check_matrices(x)
    return _by_eigenvalues(x, np.sqrt)


@RegisterGradient("MatrixSquareRoot")
def _matrix_square_root_grad(op, grad):
    # S = sqrtm(A), A = S S: dA solves the Sylvester equation S^T dA + dA S^T = dS. Row-major, vec(P X Q) =
    # (P kron Q^T) vec(X), so (S^T kron I + I kron S) vec(dA) = vec(dS). For complex A TensorFlow transposes
    # without conjugating, and so does this.
    s = op.outputs[0]
    shape = array_ops.shape(s)
    n = shape[-1]
    eye = _identity_like(s)
    st = matrix_transpose(s)
    kron = math_ops.einsum("...ij,...kl->...ikjl", st, eye) + math_ops.einsum("...ij,...kl->...ikjl", eye, s)
    flat_shape = array_ops.concat([shape[:-2], array_ops.stack([n * n, n * n])], 0)
    vec_shape = array_ops.concat([shape[:-2], array_ops.stack([n * n, 1])], 0)
    solved = matrix_solve(array_ops.reshape(kron, flat_shape), array_ops.reshape(grad, vec_shape))
    return array_ops.reshape(solved, shape)


@tf_export("linalg.sqrtm", "matrix_square_root")
def matrix_square_root(input, name=None) -> _ops.Tensor:  # noqa: A002
    """The principal square root of each square matrix."""
    return apply_op("MatrixSquareRoot", [input], name=name).outputs[0]


@register_op("MatrixLogarithm", inputs=["input: T"], outputs=["output: T"], allowed={"T": _dt.COMPLEX},
             shape=_same_shape_square, fresh_output=True)
def _matrix_logarithm_kernel(x):
    _check_matrices(x)
    return _by_eigenvalues(x, np.log)


@tf_export("linalg.logm")
def matrix_logarithm(input, name=None) -> _ops.Tensor:  # noqa: A002
    """The principal logarithm of each square complex matrix."""
    return apply_op("MatrixLogarithm", [input], name=name).outputs[0]


def _lu_shape(op):
    s = _batch_square_shape(op)
    return [s, _shape.unknown_shape() if s.ndims is None else _shape.TensorShape(s.dims[:-1])]


@register_op("Lu", inputs=["input: T"], outputs=["lu: T", "p: output_idx_type"],
             attrs={"output_idx_type": ("type", _dt.int32)},
             allowed={"T": _LINALG_TYPES, "output_idx_type": (_dt.int32, _dt.int64)}, shape=_lu_shape,
             fresh_output=True)
def _lu_kernel(x, *, output_idx_type):
    _check_matrices(x)
    n = x.shape[-1]
    a = np.array(_working(x), copy=True).reshape((-1, n, n))
    perm = np.tile(np.arange(n), (a.shape[0], 1))
    rows = np.arange(a.shape[0])
    for k in range(n):  # partial pivoting, one column at a time for every matrix at once
        piv = k + np.argmax(np.abs(a[:, k:, k]), axis=1)
        a[rows, k], a[rows, piv] = a[rows, piv], a[rows, k].copy()
        perm[rows, k], perm[rows, piv] = perm[rows, piv], perm[rows, k].copy()
        pivot = a[:, k, k]
        if np.any(pivot == 0):
            raise _invalid("Input is not invertible.")
        a[:, k + 1:, k] /= pivot[:, None]
        a[:, k + 1:, k + 1:] -= a[:, k + 1:, k, None] * a[:, None, k, k + 1:]
    return a.reshape(x.shape).astype(x.dtype), perm.reshape(x.shape[:-1]).astype(output_idx_type.as_numpy_dtype)


Lu = collections.namedtuple("Lu", ["lu", "p"])


@tf_export("linalg.lu")
def lu(input, output_idx_type=_dt.int32, name=None) -> Lu:  # noqa: A002
    """(lu, p): the LU decomposition with partial pivoting, P A = L U with L unit lower triangular, packed into one
    matrix (L below the diagonal, U on and above it), and p the row permutation (P's rows are e_p[i])."""
    op = apply_op("Lu", [input], {"output_idx_type": _dt.as_dtype(output_idx_type)}, name=name)
    return Lu(*op.outputs)


# ----------------------------------------------------------------------------------------------------------
# TridiagonalSolve, TridiagonalMatMul: tridiagonal matrices given by their three diagonals
# ----------------------------------------------------------------------------------------------------------
_TRIDIAGONAL_TYPES = (_dt.float32, _dt.float64, _dt.complex64, _dt.complex128)


def _diagonal(m, k: int) -> _ops.Tensor:
    """Diagonal k of each matrix (MatrixDiagPartV3, from matrix_diag_ops)."""
    zero = _ops.convert_to_tensor(0, dtype=m.dtype.base_dtype)
    return apply_op("MatrixDiagPartV3", [m, np.int32(k), zero], {"align": "RIGHT_LEFT"}).outputs[0]


def _tridiagonal_parts(diagonals, diagonals_format: str, what: str) -> tuple:
    """(superdiag, maindiag, subdiag), each [..., M], from TF's three ways of giving a tridiagonal matrix."""
    if diagonals_format == "compact":
        d = _ops.convert_to_tensor(diagonals, name="diagonals")
        return d[..., 0, :], d[..., 1, :], d[..., 2, :]
    if diagonals_format == "sequence":
        if not isinstance(diagonals, (list, tuple)) or len(diagonals) != 3:
            raise ValueError(f"Expected diagonals to be a sequence of length 3 for {what}.")
        sup = _ops.convert_to_tensor(diagonals[0], name="superdiag")
        return (sup, _ops.convert_to_tensor(diagonals[1], name="maindiag", dtype=sup.dtype.base_dtype),
                _ops.convert_to_tensor(diagonals[2], name="subdiag", dtype=sup.dtype.base_dtype))
    if diagonals_format == "matrix":
        m = _ops.convert_to_tensor(diagonals, name="diagonals")
        zeros = array_ops.zeros_like(m[..., :1, 0])
        return (array_ops.concat([_diagonal(m, 1), zeros], -1), _diagonal(m, 0),
                array_ops.concat([zeros, _diagonal(m, -1)], -1))
    raise ValueError(f"Unrecognized diagonals_format: {diagonals_format}")


def _tridiagonal_solve_shape(op):
    d, rhs = op.inputs[0].shape, op.inputs[1].shape
    if d.ndims is not None:
        if d.ndims < 2:
            raise ValueError(f"Shape must be at least rank 2 but is rank {d.ndims}")
        if d.dims[-2].value is not None and d.dims[-2].value != 3:
            raise ValueError(f"Dimension must be 3 but is {d.dims[-2].value}")
    if rhs.ndims is not None and rhs.ndims < 2:
        raise ValueError(f"Shape must be at least rank 2 but is rank {rhs.ndims}")
    if d.ndims is not None and rhs.ndims is not None:
        if d.ndims != rhs.ndims:
            raise ValueError(f"Shape must be rank {d.ndims} but is rank {rhs.ndims}")
        if not d.dims[-1].is_compatible_with(rhs.dims[-2]):
            raise ValueError(f"Dimensions must be equal, but are {d.dims[-1]} and {rhs.dims[-2]}")
        batch = _shape.TensorShape(d.dims[:-2]).merge_with(_shape.TensorShape(rhs.dims[:-2]))
        return batch.concatenate([d.dims[-1].merge_with(rhs.dims[-2]), rhs.dims[-1]])
    return rhs


def _tridiagonal_dense(superdiag: np.ndarray, maindiag: np.ndarray, subdiag: np.ndarray) -> np.ndarray:
    """The [..., M, M] matrices with the given diagonals ([..., M]; superdiag's last and subdiag's first element
    are not part of the matrix)."""
    m = maindiag.shape[-1]
    out = np.zeros(maindiag.shape + (m,), np.result_type(superdiag, maindiag, subdiag))
    i = np.arange(m)
    out[..., i, i] = maindiag
    out[..., i[:-1], i[1:]] = superdiag[..., :-1]
    out[..., i[1:], i[:-1]] = subdiag[..., 1:]
    return out


def _thomas_solve(superdiag, maindiag, subdiag, rhs):
    """Gaussian elimination without row exchanges (the Thomas algorithm), row by row for every matrix at once."""
    m = maindiag.shape[-1]
    ratio = np.empty(maindiag.shape, np.result_type(maindiag, rhs))
    x = np.array(rhs, dtype=ratio.dtype, copy=True)
    for i in range(m):
        pivot = maindiag[..., i] - (subdiag[..., i] * ratio[..., i - 1] if i else 0)
        if np.any(pivot == 0):
            raise _invalid("The matrix is either not invertible, or requires pivoting. Try setting "
                           "partial_pivoting = True.")
        ratio[..., i] = superdiag[..., i] / pivot
        if i:
            x[..., i, :] -= subdiag[..., i, None] * x[..., i - 1, :]
        x[..., i, :] /= pivot[..., None]
    for i in range(m - 2, -1, -1):
        x[..., i, :] -= ratio[..., i, None] * x[..., i + 1, :]
    return x.astype(rhs.dtype, copy=False)


@register_op("TridiagonalSolve", inputs=["diagonals: T", "rhs: T"], outputs=["output: T"],
             attrs={"partial_pivoting": ("bool", True), "perturb_singular": ("bool", False)},
             allowed={"T": _TRIDIAGONAL_TYPES}, shape=_tridiagonal_solve_shape, fresh_output=True)
def _tridiagonal_solve_kernel(diagonals, rhs, *, partial_pivoting, perturb_singular):
    if perturb_singular:
        raise _errors.UnimplementedError(None, None, "TridiagonalSolve: perturb_singular is not supported")
    if diagonals.ndim < 2 or diagonals.shape[-2] != 3:
        raise _invalid(f"Expected diagonals to be provided as a tensor of shape [..., 3, M], got "
                       f"{_fmt(diagonals.shape)}")
    if rhs.ndim != diagonals.ndim or rhs.shape[:-2] != diagonals.shape[:-2] or rhs.shape[-2] != diagonals.shape[-1]:
        raise _invalid(f"Incompatible shapes of diagonals and rhs: {_fmt(diagonals.shape)} vs. {_fmt(rhs.shape)}")
    if rhs.size == 0 or diagonals.size == 0:
        return np.zeros(rhs.shape, rhs.dtype)
    if not partial_pivoting:
        return _thomas_solve(diagonals[..., 0, :], diagonals[..., 1, :], diagonals[..., 2, :], rhs)
    a = _tridiagonal_dense(diagonals[..., 0, :], diagonals[..., 1, :], diagonals[..., 2, :])
    try:
        out = np.linalg.solve(a, rhs)
    except np.linalg.LinAlgError:
        raise _invalid("The matrix is not invertible.") from None
    return out.astype(rhs.dtype, copy=False)


def _shift_products(grad, x, conjugate: bool):
    """Per row i of the [..., M, K] operands: (sum_k g[i] x[i+1], sum_k g[i] x[i], sum_k g[i] x[i-1]), x
    conjugated if asked, with zero where i+1 or i-1 falls outside: the three diagonals of g x^T (or g x^H)."""
    x = _conj(x) if conjugate else x
    zeros = array_ops.zeros_like(x[..., :1, :])
    below = array_ops.concat([x[..., 1:, :], zeros], -2)  # x[i+1]
    above = array_ops.concat([zeros, x[..., :-1, :]], -2)  # x[i-1]
    return (math_ops.reduce_sum(grad * below, -1), math_ops.reduce_sum(grad * x, -1),
            math_ops.reduce_sum(grad * above, -1))


def _transposed_diagonals(superdiag, maindiag, subdiag, conjugate: bool):
    """The diagonals of the transpose (the adjoint if `conjugate`): its superdiagonal is the subdiagonal moved up
    one place, and so on."""
    if conjugate:
        superdiag, maindiag, subdiag = _conj(superdiag), _conj(maindiag), _conj(subdiag)
    zeros = array_ops.zeros_like(maindiag[..., :1])
    return (array_ops.concat([subdiag[..., 1:], zeros], -1), maindiag,
            array_ops.concat([zeros, superdiag[..., :-1]], -1))


@RegisterGradient("TridiagonalSolve")
def _tridiagonal_solve_grad(op, grad):
    # X = A^-1 B: dB = A^-T dX, and dA = -dB X^T restricted to the three diagonals. TensorFlow transposes
    # without conjugating here also for complex A (unlike its other gradients), and so does this.
    diagonals, x = op.inputs[0], op.outputs[0]
    sup, main, sub = _transposed_diagonals(diagonals[..., 0, :], diagonals[..., 1, :], diagonals[..., 2, :],
                                           conjugate=False)
    grad_rhs = apply_op("TridiagonalSolve", [array_ops.stack([sup, main, sub], -2), grad],
                        {"partial_pivoting": op.get_attr("partial_pivoting")}).outputs[0]
    d_sup, d_main, d_sub = _shift_products(grad_rhs, x, conjugate=False)
    return -array_ops.stack([d_sup, d_main, d_sub], -2), grad_rhs


@tf_export("linalg.tridiagonal_solve")
def tridiagonal_solve(diagonals, rhs, diagonals_format="compact", transpose_rhs=False, conjugate_rhs=False,
                      name=None, partial_pivoting=True) -> _ops.Tensor:
    """X with A X = rhs for tridiagonal A, given as "compact" [..., 3, M] (superdiagonal, main diagonal,
    subdiagonal; the superdiagonal's last and the subdiagonal's first element are ignored), "sequence" (those three
    [..., M] tensors) or "matrix" [..., M, M] (its tridiagonal part). rhs is [..., M, K] or [..., M]; with
    `transpose_rhs` it is given as [..., K, M] (conjugated too with `conjugate_rhs`)."""
    with _ops.name_scope(name, "tridiagonal_solve", [diagonals, rhs]):
        if diagonals_format == "compact":
            compact = _ops.convert_to_tensor(diagonals, name="diagonals")
        else:
            compact = array_ops.stack(list(_tridiagonal_parts(diagonals, diagonals_format, "tridiagonal_solve")), -2)
        rhs = _ops.convert_to_tensor(rhs, name="rhs", dtype=compact.dtype.base_dtype)
        is_vector = rhs.shape.ndims is not None and compact.shape.ndims is not None and (
            rhs.shape.ndims == compact.shape.ndims - 1)
        if is_vector:
            rhs = array_ops.expand_dims(math_ops.conj(rhs) if conjugate_rhs else rhs, -1)
        elif transpose_rhs:
            rhs = matrix_transpose(rhs, conjugate=conjugate_rhs)
        elif conjugate_rhs:
            rhs = math_ops.conj(rhs)
        out = apply_op("TridiagonalSolve", [compact, rhs], {"partial_pivoting": bool(partial_pivoting)}).outputs[0]
        return array_ops.squeeze(out, axis=-1) if is_vector else out


def _tridiagonal_matmul_shape(op):
    rhs = op.inputs[3].shape
    if rhs.ndims is not None and rhs.ndims < 2:
        raise ValueError(f"Shape must be at least rank 2 but is rank {rhs.ndims}")
    for t in op.inputs[:3]:
        s = t.shape
        if s.ndims is not None and rhs.ndims is not None:
            if s.ndims != rhs.ndims:
                raise ValueError(f"Shape must be rank {rhs.ndims} but is rank {s.ndims}")
            if s.dims[-2].value not in (None, 1):
                raise ValueError(f"Dimension must be 1 but is {s.dims[-2].value}")
            if not s.dims[-1].is_compatible_with(rhs.dims[-2]):
                raise ValueError(f"Dimensions must be equal, but are {s.dims[-1]} and {rhs.dims[-2]}")
    return rhs


@register_op("TridiagonalMatMul", inputs=["superdiag: T", "maindiag: T", "subdiag: T", "rhs: T"],
             outputs=["output: T"], allowed={"T": _TRIDIAGONAL_TYPES}, shape=_tridiagonal_matmul_shape,
             fresh_output=True)
def _tridiagonal_matmul_kernel(superdiag, maindiag, subdiag, rhs):
    if rhs.ndim < 2:
        raise _invalid(f"Input must have rank >= 2, but got {_fmt(rhs.shape)}")
    want = rhs.shape[:-2] + (1, rhs.shape[-2])
    for what, d in (("superdiag", superdiag), ("maindiag", maindiag), ("subdiag", subdiag)):
        if d.shape != want:
            raise _invalid(f"Expected {what} to have shape {_fmt(want)}, got {_fmt(d.shape)}")
    out = maindiag[..., 0, :, None] * rhs
    out[..., :-1, :] += superdiag[..., 0, :-1, None] * rhs[..., 1:, :]
    out[..., 1:, :] += subdiag[..., 0, 1:, None] * rhs[..., :-1, :]
    return out.astype(rhs.dtype, copy=False)


@RegisterGradient("TridiagonalMatMul")
def _tridiagonal_matmul_grad(op, grad):
    # Y = A X: dX = A^H dY (the adjoint's diagonals), and the diagonals' gradients are dY X^H on them.
    superdiag, maindiag, subdiag, rhs = op.inputs
    sup, main, sub = _transposed_diagonals(superdiag[..., 0, :], maindiag[..., 0, :], subdiag[..., 0, :],
                                           conjugate=True)
    grad_rhs = apply_op("TridiagonalMatMul", [array_ops.expand_dims(sup, -2), array_ops.expand_dims(main, -2),
                                              array_ops.expand_dims(sub, -2), grad]).outputs[0]
    d_sup, d_main, d_sub = (array_ops.expand_dims(d, -2) for d in _shift_products(grad, rhs, conjugate=True))
    return d_sup, d_main, d_sub, grad_rhs


@tf_export("linalg.tridiagonal_matmul")
def tridiagonal_matmul(diagonals, rhs, diagonals_format="compact", name=None) -> _ops.Tensor:
    """The product A rhs of tridiagonal A (given as for `tf.linalg.tridiagonal_solve`) with rhs [..., M, N]."""
    with _ops.name_scope(name, "tridiagonal_matmul", [diagonals, rhs]):
        sup, main, sub = _tridiagonal_parts(diagonals, diagonals_format, "tridiagonal_matmul")
        rhs = _ops.convert_to_tensor(rhs, name="rhs", dtype=main.dtype.base_dtype)
        return apply_op("TridiagonalMatMul", [array_ops.expand_dims(sup, -2), array_ops.expand_dims(main, -2),
                                              array_ops.expand_dims(sub, -2), rhs]).outputs[0]
