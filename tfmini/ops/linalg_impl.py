"""The tf.linalg functions built from other ops (TF's linalg_impl): expm, logdet, pinv, matrix_rank, lu_solve and
its kin, matvec, trace, eye, normalize and the k-diagonal forms of diag, diag_part and set_diag. Being
compositions, they need no kernels or gradients of their own.
"""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import apply_op
from tfmini.ops import array_ops, control_flow_ops, math_ops
from tfmini.ops.linalg_ops import (
    _diag_part,
    _identity_like,
    _mm,
    _tril,
    _triu,
    cholesky,
    matrix_solve,
    matrix_triangular_solve,
    svd,
)


@tf_export("linalg.matvec")
def matvec(a, b, transpose_a=False, adjoint_a=False, a_is_sparse=False, b_is_sparse=False,
           name=None) -> _ops.Tensor:
    """The product of each matrix in a with the vector in b: [..., M, N] x [..., N] -> [..., M]."""
    with _ops.name_scope(name, "MatVec", [a, b]):
        a = _ops.convert_to_tensor(a, name="a")
        b = _ops.convert_to_tensor(b, name="b")
        product = math_ops.matmul(a, array_ops.expand_dims(b, -1), transpose_a=transpose_a, adjoint_a=adjoint_a,
                                  a_is_sparse=a_is_sparse, b_is_sparse=b_is_sparse)
        return array_ops.squeeze(product, axis=-1)


@tf_export("linalg.trace", "trace")
def trace(x, name=None) -> _ops.Tensor:
    """The sum of each matrix's main diagonal."""
    with _ops.name_scope(name, "Trace", [x]) as scope:
        x = _ops.convert_to_tensor(x, name="x")
        return math_ops.reduce_sum(array_ops.matrix_diag_part(x), [-1], name=scope)


@tf_export("linalg.eye", "eye")
def eye(num_rows, num_columns=None, batch_shape=None, dtype=_dt.float32, name=None) -> _ops.Tensor:
    """An identity matrix [num_rows, num_columns] (square by default), or a batch of them of `batch_shape`."""
    with _ops.name_scope(name, "eye", [num_rows, num_columns, batch_shape]):
        square = num_columns is None
        rows = _ops.convert_to_tensor(num_rows, dtype=_dt.int32, name="num_rows")
        cols = rows if square else _ops.convert_to_tensor(num_columns, dtype=_dt.int32, name="num_columns")
        batch = (_ops.convert_to_tensor([], dtype=_dt.int32) if batch_shape is None
                 else _ops.convert_to_tensor(batch_shape, dtype=_dt.int32, name="shape"))
        diag_size = rows if square else math_ops.minimum(rows, cols)
        ones = array_ops.ones(array_ops.concat([batch, array_ops.expand_dims(diag_size, 0)], 0), dtype=dtype)
        zero = _ops.convert_to_tensor(0, dtype=_dt.as_dtype(dtype).base_dtype)
        return apply_op("MatrixDiagV3", [ones, np.int32(0), rows, cols, zero], {"align": "RIGHT_LEFT"}).outputs[0]


@tf_export("linalg.logdet")
def logdet(matrix, name=None) -> _ops.Tensor:
    """log(det(A)) of each Hermitian positive-definite matrix, from its Cholesky factor (stable for large A)."""
    with _ops.name_scope(name, "logdet", [matrix]):
        chol = cholesky(matrix)
        return 2.0 * math_ops.reduce_sum(math_ops.log(math_ops.real(_diag_part(chol))), axis=[-1])


@tf_export("linalg.pinv")
def pinv(a, rcond=None, validate_args=False, name=None) -> _ops.Tensor:
    """The Moore-Penrose pseudo-inverse of each matrix, by SVD: singular values at most rcond * max(s) count as 0.

    rcond defaults to 10 * max(M, N) * eps of a's dtype.
    """
    del validate_args  # the inputs are checked by the ops themselves
    with _ops.name_scope(name, "pinv", [a, rcond]):
        a = _ops.convert_to_tensor(a, name="a")
        if not a.dtype.is_floating:
            raise TypeError(f"Input `a` must have `float`-like `dtype` (saw {a.dtype.name}).")
        dtype = a.dtype.base_dtype
        if rcond is None:
            shape = array_ops.shape(a)
            size = math_ops.cast(math_ops.maximum(shape[-1], shape[-2]), dtype)
            rcond = 10.0 * size * np.finfo(dtype.as_numpy_dtype).eps
        rcond = _ops.convert_to_tensor(rcond, dtype=dtype, name="rcond")
        s, u, v = svd(a, full_matrices=False, compute_uv=True)
        cutoff = rcond * math_ops.reduce_max(s, axis=-1)
        kept = math_ops.greater(s, array_ops.expand_dims(cutoff, -1))
        safe = array_ops.where_v2(kept, s, array_ops.ones_like(s))
        s_inv = array_ops.where_v2(kept, math_ops.reciprocal(safe), array_ops.zeros_like(s))
        return _mm(v * array_ops.expand_dims(s_inv, -2), u, adjoint_b=True)


@tf_export("linalg.matrix_rank")
def matrix_rank(a, tol=None, validate_args=False, name=None) -> _ops.Tensor:
    """The number of singular values of each matrix above `tol` (default eps * max(M, N) * max(s)), as int32."""
    del validate_args
    with _ops.name_scope(name, "matrix_rank", [a, tol]):
        a = _ops.convert_to_tensor(a, name="a")
        s = svd(a, compute_uv=False)
        if tol is None:
            shape = array_ops.shape(a)
            size = math_ops.cast(math_ops.maximum(shape[-1], shape[-2]), s.dtype.base_dtype)
            eps = np.finfo(s.dtype.base_dtype.as_numpy_dtype).eps
            tol = eps * size * math_ops.reduce_max(s, axis=-1, keepdims=True)
        else:
            tol = _ops.convert_to_tensor(tol, dtype=s.dtype.base_dtype, name="tol")
        return math_ops.cast(math_ops.reduce_sum(math_ops.cast(math_ops.greater(s, tol), _dt.int32), axis=-1),
                             _dt.int32)


@tf_export("linalg.normalize")
def normalize(tensor, ord="euclidean", axis=None, name=None) -> tuple[_ops.Tensor, _ops.Tensor]:  # noqa: A002
    """(tensor / norm, norm) with the norm of `tf.norm(tensor, ord, axis, keepdims=True)`."""
    with _ops.name_scope(name, "normalize", [tensor]):
        tensor = _ops.convert_to_tensor(tensor, name="tensor")
        norm = math_ops.norm(tensor, ord=ord, axis=axis, keepdims=True)
        norm = math_ops.cast(norm, tensor.dtype)
        return tensor / norm, norm


def _permutation_matrix(perm, dtype) -> _ops.Tensor:
    """P with rows e_perm[i], so that P A takes A's rows in the order perm."""
    return array_ops.one_hot(perm, array_ops.shape(perm)[-1], dtype=dtype)


def _unit_lower(lower_upper) -> _ops.Tensor:
    return array_ops.matrix_set_diag(_tril(lower_upper), array_ops.ones_like(_diag_part(lower_upper)))


@tf_export("linalg.lu_reconstruct")
def lu_reconstruct(lower_upper, perm, validate_args=False, name=None) -> _ops.Tensor:
    """The matrix A whose `tf.linalg.lu` is (lower_upper, perm)."""
    del validate_args
    with _ops.name_scope(name or "lu_reconstruct", values=[lower_upper, perm]):
        lower_upper = _ops.convert_to_tensor(lower_upper, name="lower_upper")
        perm = _ops.convert_to_tensor(perm, name="perm")
        product = _mm(_unit_lower(lower_upper), _triu(lower_upper))
        return _mm(_permutation_matrix(perm, lower_upper.dtype.base_dtype), product, adjoint_a=True)


@tf_export("linalg.lu_solve")
def lu_solve(lower_upper, perm, rhs, validate_args=False, name=None) -> _ops.Tensor:
    """X with A X = rhs, given A's `tf.linalg.lu` (lower_upper, perm)."""
    del validate_args
    with _ops.name_scope(name or "lu_solve", values=[lower_upper, perm, rhs]):
        lower_upper = _ops.convert_to_tensor(lower_upper, name="lower_upper")
        perm = _ops.convert_to_tensor(perm, name="perm")
        rhs = _ops.convert_to_tensor(rhs, name="rhs", dtype=lower_upper.dtype.base_dtype)
        permuted = _mm(_permutation_matrix(perm, lower_upper.dtype.base_dtype), rhs)
        y = matrix_triangular_solve(_unit_lower(lower_upper), permuted, lower=True)
        return matrix_triangular_solve(lower_upper, y, lower=False)


@tf_export("linalg.lu_matrix_inverse")
def lu_matrix_inverse(lower_upper, perm, validate_args=False, name=None) -> _ops.Tensor:
    """The inverse of the matrix A whose `tf.linalg.lu` is (lower_upper, perm)."""
    with _ops.name_scope(name or "lu_matrix_inverse", values=[lower_upper, perm]):
        lower_upper = _ops.convert_to_tensor(lower_upper, name="lower_upper")
        return lu_solve(lower_upper, perm, _identity_like(lower_upper), validate_args=validate_args)


# The diagonals k of tf.linalg.diag, diag_part and set_diag (MatrixDiagV3 and its kin, in matrix_diag_ops).
def _diag_k(k) -> _ops.Tensor:
    return _ops.convert_to_tensor(k, dtype=_dt.int32, name="k")


def _is_default(k, *others) -> bool:
    """Whether k is the main diagonal and the other arguments their defaults, given as Python values: TF 1.15 then
    writes the original ops (MatrixDiag, MatrixDiagPart, MatrixSetDiag), which every TensorFlow reads."""
    return isinstance(k, int) and k == 0 and all(isinstance(v, (int, str)) and v in (-1, 0, "RIGHT_LEFT")
                                                 for v in others)


@tf_export("linalg.diag", "matrix_diag")
def matrix_diag(diagonal, name="diag", k=0, num_rows=-1, num_cols=-1, padding_value=0,
                align="RIGHT_LEFT") -> _ops.Tensor:
    """A batch of matrices with the given diagonals k (an int, or a (low, high) pair) and `padding_value`
    elsewhere; the size is the smallest that holds them unless num_rows/num_cols say otherwise."""
    if _is_default(k, num_rows, num_cols, padding_value, align):
        return array_ops.matrix_diag(diagonal, name=name)
    with _ops.name_scope(name, values=[diagonal]):
        diagonal = _ops.convert_to_tensor(diagonal, name="diagonal")
        pad = _ops.convert_to_tensor(padding_value, dtype=diagonal.dtype.base_dtype, name="padding_value")
        return apply_op("MatrixDiagV3", [diagonal, _diag_k(k), np.int32(num_rows), np.int32(num_cols), pad],
                        {"align": align}).outputs[0]


@tf_export("linalg.diag_part", "matrix_diag_part")
def matrix_diag_part(input, name="diag_part", k=0, padding_value=0, align="RIGHT_LEFT") -> _ops.Tensor:  # noqa: A002
    """The diagonals k (an int, or a (low, high) pair) of each matrix, shorter ones padded with padding_value."""
    if _is_default(k, padding_value, align):
        return array_ops.matrix_diag_part(input, name=name)
    with _ops.name_scope(name, values=[input]):
        x = _ops.convert_to_tensor(input, name="input")
        pad = _ops.convert_to_tensor(padding_value, dtype=x.dtype.base_dtype, name="padding_value")
        return apply_op("MatrixDiagPartV3", [x, _diag_k(k), pad], {"align": align}).outputs[0]


@tf_export("linalg.set_diag", "matrix_set_diag")
def matrix_set_diag(input, diagonal, name="set_diag", k=0, align="RIGHT_LEFT") -> _ops.Tensor:  # noqa: A002
    """Each matrix of `input` with its diagonals k replaced by `diagonal`."""
    if _is_default(k, align):
        return array_ops.matrix_set_diag(input, diagonal, name=name)
    with _ops.name_scope(name, values=[input, diagonal]):
        x = _ops.convert_to_tensor(input, name="input")
        diagonal = _ops.convert_to_tensor(diagonal, dtype=x.dtype.base_dtype, name="diagonal")
        return apply_op("MatrixSetDiagV3", [x, diagonal, _diag_k(k)], {"align": align}).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# expm: Pade approximation with scaling and squaring (Higham, "The scaling and squaring method for the matrix
# exponential revisited", 2005), built from matmuls and one solve so that it has a gradient.
# ----------------------------------------------------------------------------------------------------------
_PADE_COEFFICIENTS = {
    3: (120.0, 60.0, 12.0, 1.0),
    5: (30240.0, 15120.0, 3360.0, 420.0, 30.0, 1.0),
    7: (17297280.0, 8648640.0, 1995840.0, 277200.0, 25200.0, 1512.0, 56.0, 1.0),
    9: (17643225600.0, 8821612800.0, 2075673600.0, 302702400.0, 30270240.0, 2162160.0, 110880.0, 3960.0, 90.0,
        1.0),
    13: (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0, 129060195264000.0,
         10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0,
         1.0),
}
# The largest 1-norm for which each order's approximant is accurate to the unit roundoff (Higham's theta_m);
# single precision stops at order 7.
_PADE_THETAS = {
    _dt.float64: ((3, 1.495585217958292e-002), (5, 2.539398330063230e-001), (7, 9.504178996162932e-001),
                  (9, 2.097847961257068e+000), (13, 5.371920351148152e+000)),
    _dt.float32: ((3, 4.258730016922831e-001), (5, 1.880152677804762e+000), (7, 3.925724783138660e+000)),
}


def _pade(matrix, order: int, eye) -> tuple[_ops.Tensor, _ops.Tensor]:
    """(U, V), the odd and even parts of the order-`order` Pade approximant's numerator: exp(A) ~ (V-U)^-1 (V+U)."""
    b = _PADE_COEFFICIENTS[order]
    a2 = _mm(matrix, matrix)
    powers = [eye, a2]  # A^0, A^2, A^4, ...
    if order == 13:
        a4 = _mm(a2, a2)
        a6 = _mm(a4, a2)
        u_high = _mm(a6, b[13] * a6 + b[11] * a4 + b[9] * a2)
        v_high = _mm(a6, b[12] * a6 + b[10] * a4 + b[8] * a2)
        u = _mm(matrix, u_high + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * eye)
        v = v_high + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * eye
        return u, v
    while len(powers) <= order // 2:
        powers.append(_mm(powers[-1], a2))
    u = _mm(matrix, sum(b[2 * i + 1] * p for i, p in enumerate(powers[:order // 2 + 1])))
    v = sum(b[2 * i] * p for i, p in enumerate(powers[:order // 2 + 1]))
    return u, v


@tf_export("linalg.expm")
def matrix_exponential(input, name=None) -> _ops.Tensor:  # noqa: A002
    """exp(A) of each square matrix, by Pade approximation with scaling and squaring."""
    with _ops.name_scope(name, "matrix_exponential", [input]):
        matrix = _ops.convert_to_tensor(input, name="input")
        s = matrix.shape
        if s.ndims is not None and s.ndims < 2:
            raise ValueError(f"tf.linalg.expm requires a (batch of) square matrices, got shape {s}")
        if s.ndims is not None and not s.dims[-1].is_compatible_with(s.dims[-2]):
            raise ValueError(f"tf.linalg.expm requires square matrices, got shape {s}")
        dtype = matrix.dtype.base_dtype
        if dtype not in (_dt.float16, _dt.float32, _dt.float64, _dt.complex64, _dt.complex128):
            raise TypeError(f"tf.linalg.expm does not support matrices of type {dtype.name}")
        if dtype == _dt.float16:
            return math_ops.cast(matrix_exponential(math_ops.cast(matrix, _dt.float32)), _dt.float16)
        thetas = _PADE_THETAS[_dt.float64 if dtype in (_dt.float64, _dt.complex128) else _dt.float32]
        real = _dt.float64 if dtype in (_dt.float64, _dt.complex128) else _dt.float32
        eye = _identity_like(matrix)
        # The 1-norm (largest absolute column sum) of each matrix, shaped [..., 1, 1] to select per matrix.
        l1 = math_ops.reduce_max(math_ops.reduce_sum(math_ops.abs(matrix), axis=-2, keepdims=True), axis=-1,
                                 keepdims=True)
        top_order, top_theta = thetas[-1]
        squarings = math_ops.maximum(math_ops.ceil(math_ops.log(l1 / top_theta) / np.log(2.0)), 0.0)
        scaled = matrix / math_ops.cast(math_ops.pow(_ops.convert_to_tensor(2.0, dtype=real), squarings), dtype)
        u, v = _pade(scaled, top_order, eye)
        for order, theta in reversed(thetas[:-1]):  # a lower order where the (unscaled) norm allows it
            u_low, v_low = _pade(matrix, order, eye)
            small = math_ops.less(l1, theta)
            u, v = array_ops.where_v2(small, u_low, u), array_ops.where_v2(small, v_low, v)
        squarings = array_ops.where_v2(math_ops.less(l1, top_theta), array_ops.zeros_like(squarings), squarings)
        result = matrix_solve(v - u, v + u)
        most = math_ops.cast(math_ops.reduce_max(squarings), _dt.int32)

        def square_some(i, r):
            again = math_ops.less(math_ops.cast(i, real), squarings)
            return i + 1, array_ops.where_v2(again, _mm(r, r), r)

        _, result = control_flow_ops.while_loop(lambda i, r: math_ops.less(i, most), square_some,
                                                [_ops.convert_to_tensor(0, dtype=_dt.int32), result])
        return result
