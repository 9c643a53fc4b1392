"""tf.linalg.LinearOperator and its common subclasses: matrices known by how they act (matmul, solve, determinant)
rather than by their entries, so that a diagonal or identity operator never builds its dense matrix.

A subclass gives its static and dynamic shape (`_shape`, `_shape_tensor`) and `_matmul`; every other method has
a default built from the dense matrix, which subclasses replace where their structure allows something cheaper.
The hook names are TensorFlow's, so TF1 code that subclasses LinearOperator runs unchanged.
"""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.ops import array_ops, check_ops, control_flow_ops, linalg_impl, linalg_ops, math_ops

_MATRIX_TYPES = (_dt.float16, _dt.float32, _dt.float64, _dt.complex64, _dt.complex128)


def _adjoint_if(x, flag: bool):
    return linalg_ops.adjoint(x) if flag else x


def _static_or_dynamic_broadcast(a, b) -> tuple[_ops.Tensor, _ops.Tensor]:
    """a and b ([..., M, N] and [..., N, K]) with their batch dimensions broadcast to a common batch shape."""
    sa, sb = a.shape, b.shape
    if sa.is_fully_defined() and sb.is_fully_defined():
        batch_a, batch_b = sa.as_list()[:-2], sb.as_list()[:-2]
        if batch_a == batch_b:
            return a, b
        batch = list(np.broadcast_shapes(tuple(batch_a), tuple(batch_b)))
        return (array_ops.broadcast_to(a, batch + sa.as_list()[-2:]),
                array_ops.broadcast_to(b, batch + sb.as_list()[-2:]))
    shape_a, shape_b = array_ops.shape(a), array_ops.shape(b)
    batch = array_ops.broadcast_dynamic_shape(shape_a[:-2], shape_b[:-2])
    return (array_ops.broadcast_to(a, array_ops.concat([batch, shape_a[-2:]], 0)),
            array_ops.broadcast_to(b, array_ops.concat([batch, shape_b[-2:]], 0)))


@tf_export("linalg.LinearOperator")
class LinearOperator:
    """Base class of operators acting like [batch] matrices A of shape [B1, ..., Bb, M, N].

    The hints `is_non_singular`, `is_self_adjoint`, `is_positive_definite` and `is_square` are promises by the
    caller (None: unknown); they choose algorithms and are checked only against each other.
    """

    def __init__(self, dtype, graph_parents=None, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=None, name=None) -> None:
        if is_positive_definite:
            if is_non_singular is False:
                raise ValueError("A positive definite matrix is always non-singular.")
            is_non_singular = True
        if is_non_singular:
            if is_square is False:
                raise ValueError("A non-singular matrix is always square.")
            is_square = True
        if is_self_adjoint:
            if is_square is False:
                raise ValueError("A self-adjoint matrix is always square.")
            is_square = True
        self._dtype = _dt.as_dtype(dtype).base_dtype if dtype is not None else None
        self._graph_parents = list(graph_parents or [])
        self._is_non_singular = is_non_singular
        self._is_self_adjoint = is_self_adjoint
        self._is_positive_definite = is_positive_definite
        self._is_square_set_or_implied_by_hints = is_square
        self._name = name or type(self).__name__

    # -- what a subclass provides -------------------------------------------------------------------------
    def _shape(self) -> _shape.TensorShape:
        raise NotImplementedError(f"{type(self).__name__} does not implement _shape")

    def _shape_tensor(self) -> _ops.Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement _shape_tensor")

    def _matmul(self, x, adjoint=False, adjoint_arg=False) -> _ops.Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement _matmul")

    # -- properties ---------------------------------------------------------------------------------------
    @property
    def dtype(self):
        return self._dtype

    @property
    def name(self) -> str:
        return self._name

    @property
    def graph_parents(self) -> list:
        return self._graph_parents

    @property
    def is_non_singular(self):
        return self._is_non_singular

    @property
    def is_self_adjoint(self):
        return self._is_self_adjoint

    @property
    def is_positive_definite(self):
        return self._is_positive_definite

    @property
    def is_square(self):
        """Whether M == N for the matrices: the hint, else what the static shape says (None when unknown)."""
        dom, rng = self.domain_dimension.value, self.range_dimension.value
        auto = None if dom is None or rng is None else dom == rng
        hint = self._is_square_set_or_implied_by_hints
        if hint is not None and auto is not None and hint != auto:
            raise ValueError(f"User-defined hint for is_square ({hint}) contradicts the static shape "
                             f"{self.shape}.")
        return hint if hint is not None else auto

    @property
    def shape(self) -> _shape.TensorShape:
        return self._shape()

    @property
    def batch_shape(self) -> _shape.TensorShape:
        s = self.shape
        return s if s.ndims is None else _shape.TensorShape(s.dims[:-2])

    @property
    def tensor_rank(self) -> int | None:
        return self.shape.ndims

    @property
    def domain_dimension(self) -> _shape.Dimension:
        s = self.shape
        return _shape.Dimension(None) if s.ndims is None else s.dims[-1]

    @property
    def range_dimension(self) -> _shape.Dimension:
        s = self.shape
        return _shape.Dimension(None) if s.ndims is None else s.dims[-2]

    @property
    def H(self) -> LinearOperator:  # noqa: N802 - TF's name
        return self.adjoint()

    def _name_scope(self, name):
        return _NestedScope(self.name, name)

    def shape_tensor(self, name="shape_tensor") -> _ops.Tensor:
        with self._name_scope(name):
            if self.shape.is_fully_defined():
                return _ops.convert_to_tensor(self.shape.as_list(), dtype=_dt.int32)
            return self._shape_tensor()

    def batch_shape_tensor(self, name="batch_shape_tensor") -> _ops.Tensor:
        with self._name_scope(name):
            if self.batch_shape.is_fully_defined():
                return _ops.convert_to_tensor(self.batch_shape.as_list(), dtype=_dt.int32)
            return self.shape_tensor()[:-2]

    def tensor_rank_tensor(self, name="tensor_rank_tensor") -> _ops.Tensor:
        with self._name_scope(name):
            if self.tensor_rank is not None:
                return _ops.convert_to_tensor(self.tensor_rank, dtype=_dt.int32)
            return array_ops.size(self.shape_tensor())

    def domain_dimension_tensor(self, name="domain_dimension_tensor") -> _ops.Tensor:
        with self._name_scope(name):
            if self.domain_dimension.value is not None:
                return _ops.convert_to_tensor(self.domain_dimension.value, dtype=_dt.int32)
            return self.shape_tensor()[-1]

    def range_dimension_tensor(self, name="range_dimension_tensor") -> _ops.Tensor:
        with self._name_scope(name):
            if self.range_dimension.value is not None:
                return _ops.convert_to_tensor(self.range_dimension.value, dtype=_dt.int32)
            return self.shape_tensor()[-2]

    # -- checks -------------------------------------------------------------------------------------------
    def _check_input_dtype(self, arg) -> None:
        if arg.dtype.base_dtype != self.dtype:
            raise TypeError(f"Expected argument to have dtype {self.dtype.name}.  Found: {arg.dtype.name} in tensor "
                            f"{arg}")

    def _can_use_cholesky(self) -> bool:
        return bool(self.is_self_adjoint and self.is_positive_definite)

    def assert_non_singular(self, name="assert_non_singular") -> _ops.Operation:
        """An op failing at run time when some matrix is singular (or its condition number is huge)."""
        with self._name_scope(name):
            return self._assert_non_singular()

    def _assert_non_singular(self):
        s = linalg_ops.svd(self.to_dense(), compute_uv=False)
        dtype = s.dtype.base_dtype
        cond = math_ops.reduce_max(s, axis=-1) / math_ops.reduce_min(s, axis=-1)
        size = math_ops.cast(math_ops.maximum(self.domain_dimension_tensor(), self.range_dimension_tensor()), dtype)
        limit = 100.0 * size / np.finfo(dtype.as_numpy_dtype).eps
        return check_ops.assert_less(cond, limit, message="Singular matrix up to precision epsilon.")

    def assert_positive_definite(self, name="assert_positive_definite") -> _ops.Operation:
        """An op failing at run time when some matrix is not positive definite (assumes self-adjoint)."""
        with self._name_scope(name):
            return self._assert_positive_definite()

    def _assert_positive_definite(self):
        if not self.is_self_adjoint:
            raise NotImplementedError("assert_positive_definite needs an operator known to be self-adjoint")
        return control_flow_ops.group(linalg_ops.cholesky(self.to_dense()))

    def assert_self_adjoint(self, name="assert_self_adjoint") -> _ops.Operation:
        """An op failing at run time when some matrix differs from its adjoint."""
        with self._name_scope(name):
            return self._assert_self_adjoint()

    def _assert_self_adjoint(self):
        dense = self.to_dense()
        return check_ops.assert_equal(dense, linalg_ops.adjoint(dense), message="Matrix was not equal to its adjoint.")

    # -- products and solves ------------------------------------------------------------------------------
    def matmul(self, x, adjoint=False, adjoint_arg=False, name="matmul"):
        """A x (A^H x with `adjoint`; x^H in place of x with `adjoint_arg`). x is a Tensor [..., N, R] or an
        operator (the result is then their composition)."""
        if isinstance(x, LinearOperator):
            left = self.adjoint() if adjoint else self
            right = x.adjoint() if adjoint_arg else x
            return LinearOperatorComposition([left, right])
        with self._name_scope(name):
            x = _ops.convert_to_tensor(x, name="x")
            self._check_input_dtype(x)
            return self._matmul(x, adjoint=adjoint, adjoint_arg=adjoint_arg)

    def _matvec(self, x, adjoint=False):
        return array_ops.squeeze(self._matmul(array_ops.expand_dims(x, -1), adjoint=adjoint), axis=-1)

    def matvec(self, x, adjoint=False, name="matvec") -> _ops.Tensor:
        """A x for vectors x [..., N]."""
        with self._name_scope(name):
            x = _ops.convert_to_tensor(x, name="x")
            self._check_input_dtype(x)
            return self._matvec(x, adjoint=adjoint)

    def _check_solvable(self, what: str) -> None:
        if self.is_non_singular is False:
            raise NotImplementedError(f"Exact {what} not implemented for an operator that is expected to be "
                                      "singular.")
        if self.is_square is False:
            raise NotImplementedError(f"Exact {what} not implemented for an operator that is expected to not be "
                                      "square.")

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        rhs = _adjoint_if(rhs, adjoint_arg)
        if self._can_use_cholesky():
            dense, rhs = _static_or_dynamic_broadcast(self.to_dense(), rhs)
            return linalg_ops.cholesky_solve(linalg_ops.cholesky(dense), rhs)
        dense, rhs = _static_or_dynamic_broadcast(self.to_dense(), rhs)
        return linalg_ops.matrix_solve(dense, rhs, adjoint=adjoint)

    def solve(self, rhs, adjoint=False, adjoint_arg=False, name="solve"):
        """X with A X = rhs (A^H X = rhs with `adjoint`; rhs^H in place of rhs with `adjoint_arg`). An operator
        rhs gives the composition of this operator's inverse with it."""
        self._check_solvable("solve")
        if isinstance(rhs, LinearOperator):
            left = LinearOperatorInversion(self.adjoint() if adjoint else self)
            right = rhs.adjoint() if adjoint_arg else rhs
            return LinearOperatorComposition([left, right])
        with self._name_scope(name):
            rhs = _ops.convert_to_tensor(rhs, name="rhs")
            self._check_input_dtype(rhs)
            return self._solve(rhs, adjoint=adjoint, adjoint_arg=adjoint_arg)

    def _solvevec(self, rhs, adjoint=False):
        return array_ops.squeeze(self._solve(array_ops.expand_dims(rhs, -1), adjoint=adjoint), axis=-1)

    def solvevec(self, rhs, adjoint=False, name="solve") -> _ops.Tensor:
        """x with A x = rhs for vectors rhs [..., M]."""
        self._check_solvable("solve")
        with self._name_scope(name):
            rhs = _ops.convert_to_tensor(rhs, name="rhs")
            self._check_input_dtype(rhs)
            return self._solvevec(rhs, adjoint=adjoint)

    # -- scalars and the dense matrix ---------------------------------------------------------------------
    def _determinant(self):
        if self._can_use_cholesky():
            return math_ops.exp(self.log_abs_determinant())
        return linalg_ops.matrix_determinant(self.to_dense())

    def determinant(self, name="det") -> _ops.Tensor:
        """det(A) of each (square) matrix."""
        if self.is_square is False:
            raise NotImplementedError("Determinant not implemented for an operator that is expected to not be "
                                      "square.")
        with self._name_scope(name):
            return self._determinant()

    def _log_abs_determinant(self):
        if self._can_use_cholesky():
            diag = linalg_impl.matrix_diag_part(linalg_ops.cholesky(self.to_dense()))
            return 2.0 * math_ops.reduce_sum(math_ops.log(math_ops.abs(diag)), axis=[-1])
        return linalg_ops.log_matrix_determinant(self.to_dense()).log_abs_determinant

    def log_abs_determinant(self, name="log_abs_det") -> _ops.Tensor:
        """log |det(A)| of each (square) matrix."""
        if self.is_square is False:
            raise NotImplementedError("Determinant not implemented for an operator that is expected to not be "
                                      "square.")
        with self._name_scope(name):
            return self._log_abs_determinant()

    def _to_dense(self):
        if self.batch_shape.is_fully_defined():
            batch = self.batch_shape.as_list()
        else:
            batch = self.batch_shape_tensor()
        n = self.domain_dimension.value
        eye = linalg_impl.eye(n if n is not None else self.domain_dimension_tensor(), batch_shape=batch,
                             dtype=self.dtype)
        return self.matmul(eye)

    def to_dense(self, name="to_dense") -> _ops.Tensor:
        """The dense [..., M, N] matrix."""
        with self._name_scope(name):
            return self._to_dense()

    def _diag_part(self):
        return linalg_impl.matrix_diag_part(self.to_dense())

    def diag_part(self, name="diag_part") -> _ops.Tensor:
        """The main diagonal of each matrix, [..., min(M, N)]."""
        with self._name_scope(name):
            return self._diag_part()

    def _trace(self):
        return math_ops.reduce_sum(self.diag_part(), axis=-1)

    def trace(self, name="trace") -> _ops.Tensor:
        """The trace of each matrix."""
        with self._name_scope(name):
            return self._trace()

    def _add_to_tensor(self, x):
        return self.to_dense() + x

    def add_to_tensor(self, x, name="add_to_tensor") -> _ops.Tensor:
        """A + x for a Tensor x of A's shape."""
        with self._name_scope(name):
            x = _ops.convert_to_tensor(x, name="x")
            self._check_input_dtype(x)
            return self._add_to_tensor(x)

    # -- derived operators --------------------------------------------------------------------------------
    def adjoint(self, name="adjoint") -> LinearOperator:
        """The operator A^H (this operator itself when it is self-adjoint)."""
        if self.is_self_adjoint is True:
            return self
        with self._name_scope(name):
            return LinearOperatorAdjoint(self)

    def inverse(self, name="inverse") -> LinearOperator:
        """The operator A^-1 (for square, non-singular A)."""
        if self.is_square is False:
            raise ValueError("Cannot take the Inverse: This operator represents a non square matrix.")
        if self.is_non_singular is False:
            raise ValueError("Cannot take the Inverse: This operator represents a singular matrix.")
        with self._name_scope(name):
            return LinearOperatorInversion(self)

    def cholesky(self, name="cholesky") -> LinearOperator:
        """The lower-triangular operator L with A = L L^H (for self-adjoint positive-definite A)."""
        if not self._can_use_cholesky():
            raise ValueError("Cannot take the Cholesky decomposition: Not a positive definite self adjoint matrix.")
        with self._name_scope(name):
            return LinearOperatorLowerTriangular(linalg_ops.cholesky(self.to_dense()), is_non_singular=True,
                                                 is_self_adjoint=False, is_square=True)


class _NestedScope:
    """The operator's name scope with the method's inside it (TF's `with self._name_scope(name)`)."""

    def __init__(self, outer: str, inner: str | None) -> None:
        self._scopes = [_ops.name_scope(outer)] + ([_ops.name_scope(inner)] if inner else [])

    def __enter__(self):
        value = None
        for scope in self._scopes:
            value = scope.__enter__()
        return value

    def __exit__(self, *exc):
        for scope in reversed(self._scopes):
            scope.__exit__(*exc)
        return False


def _check_dtype(tensor, allowed, what: str) -> None:
    if tensor.dtype.base_dtype not in allowed:
        raise TypeError(f"Argument {what} must have dtype in {[d.name for d in allowed]}.  Found: "
                        f"{tensor.dtype.name}")


def _operand(value, what: str, min_rank: int) -> _ops.Tensor:
    """The argument `what` of an operator as a tensor of a matrix dtype with at least `min_rank` dimensions
    (when its rank is known)."""
    tensor = _ops.convert_to_tensor(value, name=what)
    _check_dtype(tensor, _MATRIX_TYPES, what)
    if tensor.shape.ndims is not None and tensor.shape.ndims < min_rank:
        dimensions = "dimension" if min_rank == 1 else "dimensions"
        raise ValueError(f"Argument {what} must have at least {min_rank} {dimensions}.  Found: {tensor}")
    return tensor


def _square_shape_of(vector: _ops.Tensor):
    """The static shape [..., N, N] of an operator given by a [..., N] tensor."""
    s = vector.shape
    return s if s.ndims is None else s.concatenate(s.dims[-1:])


def _square_shape_tensor_of(vector: _ops.Tensor) -> _ops.Tensor:
    """The dynamic shape [..., N, N] of an operator given by a [..., N] tensor."""
    d = array_ops.shape(vector)
    return array_ops.concat([d, d[-1:]], 0)


# ----------------------------------------------------------------------------------------------------------
# Dense, diagonal, triangular
# ----------------------------------------------------------------------------------------------------------
@tf_export("linalg.LinearOperatorFullMatrix")
class LinearOperatorFullMatrix(LinearOperator):
    """The operator of a dense [batch] matrix [..., M, N]."""

    def __init__(self, matrix, is_non_singular=None, is_self_adjoint=None, is_positive_definite=None,
                 is_square=None, name="LinearOperatorFullMatrix") -> None:
        with _ops.name_scope(name, values=[matrix]):
            self._matrix = _operand(matrix, "matrix", 2)
        super().__init__(self._matrix.dtype, graph_parents=[self._matrix], is_non_singular=is_non_singular,
                         is_self_adjoint=is_self_adjoint, is_positive_definite=is_positive_definite,
                         is_square=is_square, name=name)

    def _shape(self):
        return self._matrix.shape

    def _shape_tensor(self):
        return array_ops.shape(self._matrix)

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        return math_ops.matmul(self._matrix, x, adjoint_a=adjoint, adjoint_b=adjoint_arg)

    def _to_dense(self):
        return self._matrix


@tf_export("linalg.LinearOperatorDiag")
class LinearOperatorDiag(LinearOperator):
    """The operator of square diagonal matrices, given by their diagonals [..., N]."""

    def __init__(self, diag, is_non_singular=None, is_self_adjoint=None, is_positive_definite=None,
                 is_square=True, name="LinearOperatorDiag") -> None:
        with _ops.name_scope(name, values=[diag]):
            self._diag = _operand(diag, "diag", 1)
            if not self._diag.dtype.is_complex:
                if is_self_adjoint is False:
                    raise ValueError("A real diagonal operator is always self adjoint.")
                is_self_adjoint = True
            if is_square is False:
                raise ValueError("Only square diagonal operators currently supported.")
        super().__init__(self._diag.dtype, graph_parents=[self._diag], is_non_singular=is_non_singular,
                         is_self_adjoint=is_self_adjoint, is_positive_definite=is_positive_definite,
                         is_square=True, name=name)

    @property
    def diag(self) -> _ops.Tensor:
        return self._diag

    def _shape(self):
        return _square_shape_of(self._diag)

    def _shape_tensor(self):
        return _square_shape_tensor_of(self._diag)

    def _diag_for(self, adjoint):
        return math_ops.conj(self._diag) if adjoint and self._diag.dtype.is_complex else self._diag

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        return array_ops.expand_dims(self._diag_for(adjoint), -1) * _adjoint_if(x, adjoint_arg)

    def _matvec(self, x, adjoint=False):
        return self._diag_for(adjoint) * x

    def _determinant(self):
        return math_ops.reduce_prod(self._diag, axis=[-1])

    def _log_abs_determinant(self):
        return math_ops.reduce_sum(math_ops.log(math_ops.abs(self._diag)), axis=[-1])

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        return _adjoint_if(rhs, adjoint_arg) / array_ops.expand_dims(self._diag_for(adjoint), -1)

    def _solvevec(self, rhs, adjoint=False):
        return rhs / self._diag_for(adjoint)

    def _to_dense(self):
        return linalg_impl.matrix_diag(self._diag)

    def _diag_part(self):
        return array_ops.identity(self._diag)

    def _trace(self):
        return math_ops.reduce_sum(self._diag, axis=-1)

    def _add_to_tensor(self, x):
        return array_ops.matrix_set_diag(x, array_ops.matrix_diag_part(x) + self._diag)

    def _assert_non_singular(self):
        return check_ops.assert_positive(math_ops.abs(self._diag), message="Singular operator:  Diagonal contained "
                                                                           "zero values.")

    def _assert_positive_definite(self):
        return check_ops.assert_positive(math_ops.real(self._diag),
                                         message="This diagonal operator contained non-positive real values.")

    def _assert_self_adjoint(self):
        return check_ops.assert_equal(math_ops.imag(self._diag) if self._diag.dtype.is_complex
                                      else array_ops.zeros_like(self._diag), array_ops.zeros_like(
                                          math_ops.real(self._diag)),
                                      message="This diagonal operator contained non-zero imaginary values.")

    def inverse(self, name="inverse") -> LinearOperator:
        if self.is_non_singular is False:
            raise ValueError("Cannot take the Inverse: This operator represents a singular matrix.")
        with self._name_scope(name):
            return LinearOperatorDiag(math_ops.reciprocal(self._diag), is_non_singular=self.is_non_singular,
                                      is_self_adjoint=self.is_self_adjoint,
                                      is_positive_definite=self.is_positive_definite)

    def cholesky(self, name="cholesky") -> LinearOperator:
        if not self._can_use_cholesky():
            raise ValueError("Cannot take the Cholesky decomposition: Not a positive definite self adjoint matrix.")
        with self._name_scope(name):
            return LinearOperatorDiag(math_ops.sqrt(self._diag), is_non_singular=True, is_self_adjoint=True,
                                      is_positive_definite=True)


@tf_export("linalg.LinearOperatorLowerTriangular")
class LinearOperatorLowerTriangular(LinearOperator):
    """The operator of square lower-triangular matrices: only the lower triangle of `tril` is used."""

    def __init__(self, tril, is_non_singular=None, is_self_adjoint=None, is_positive_definite=None,
                 is_square=None, name="LinearOperatorLowerTriangular") -> None:
        if is_square is False:
            raise ValueError("Only square lower triangular operators supported at this time.")
        with _ops.name_scope(name, values=[tril]):
            tril = _operand(tril, "tril", 2)
            self._tril = array_ops.matrix_band_part(tril, -1, 0)
            self._diag = array_ops.matrix_diag_part(self._tril)
        super().__init__(self._tril.dtype, graph_parents=[self._tril], is_non_singular=is_non_singular,
                         is_self_adjoint=is_self_adjoint, is_positive_definite=is_positive_definite,
                         is_square=True, name=name)

    def _shape(self):
        return self._tril.shape

    def _shape_tensor(self):
        return array_ops.shape(self._tril)

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        return math_ops.matmul(self._tril, x, adjoint_a=adjoint, adjoint_b=adjoint_arg)

    def _determinant(self):
        return math_ops.reduce_prod(self._diag, axis=[-1])

    def _log_abs_determinant(self):
        return math_ops.reduce_sum(math_ops.log(math_ops.abs(self._diag)), axis=[-1])

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        tril, rhs = _static_or_dynamic_broadcast(self._tril, _adjoint_if(rhs, adjoint_arg))
        return linalg_ops.matrix_triangular_solve(tril, rhs, lower=True, adjoint=adjoint)

    def _to_dense(self):
        return self._tril

    def _diag_part(self):
        return self._diag

    def _assert_non_singular(self):
        return check_ops.assert_positive(math_ops.abs(self._diag), message="Singular operator:  Diagonal contained "
                                                                           "zero values.")


# ----------------------------------------------------------------------------------------------------------
# Identity and scaled identity
# ----------------------------------------------------------------------------------------------------------
class _BaseIdentity(LinearOperator):
    """Shape bookkeeping shared by the identity operators: num_rows and a batch shape."""

    def _init_num_rows(self, num_rows):
        self._num_rows, self._num_rows_static = _dimension_arg(num_rows, "num_rows")

    def _eye(self, batch_shape):
        n = self._num_rows_static if self._num_rows_static is not None else self._num_rows
        return linalg_impl.eye(n, batch_shape=batch_shape, dtype=self.dtype)

    def _ones_diag(self):
        shape = array_ops.concat([self.batch_shape_tensor(), array_ops.expand_dims(self._num_rows, 0)], 0)
        return array_ops.ones(shape, dtype=self.dtype)


def _dimension_arg(value, what: str) -> tuple[_ops.Tensor, int | None]:
    """A matrix dimension given as an int or a scalar integer tensor: (int32 tensor, value if known), checked."""
    t = _ops.convert_to_tensor(value, name=what)
    if not t.dtype.is_integer:
        raise TypeError(f"Argument {what} must be integer type.  Found: {t}")
    if t.shape.ndims not in (None, 0):
        raise ValueError(f"Argument {what} must be a 0-D Tensor.  Found: {t}")
    known = _constant_value(t)
    static = None if known is None else int(known)
    if static is not None and static < 0:
        raise ValueError(f"Argument {what} must be non-negative.  Found: {static}")
    return math_ops.cast(t, _dt.int32), static


def _constant_value(t):
    """t's value when it is known when the graph is built, else None."""
    value = _reg.constant_value(t)
    return None if value is None else np.asarray(value)


@tf_export("linalg.LinearOperatorIdentity")
class LinearOperatorIdentity(_BaseIdentity):
    """The [batch] identity operator of num_rows x num_rows matrices; it never builds its dense matrix to act."""

    def __init__(self, num_rows, batch_shape=None, dtype=None, is_non_singular=True, is_self_adjoint=True,
                 is_positive_definite=True, is_square=True, assert_proper_shapes=False,
                 name="LinearOperatorIdentity") -> None:
        dtype = _dt.as_dtype(dtype or _dt.float32)
        if not is_self_adjoint:
            raise ValueError("An identity operator is always self adjoint.")
        if not is_non_singular:
            raise ValueError("An identity operator is always non-singular.")
        if not is_positive_definite:
            raise ValueError("An identity operator is always positive-definite.")
        if not is_square:
            raise ValueError("An identity operator is always square.")
        with _ops.name_scope(name, values=[num_rows, batch_shape]):
            self._init_num_rows(num_rows)
            if batch_shape is None:
                self._batch_shape_arg = None
                self._batch_shape_static = _shape.TensorShape([])
            else:
                arg = _ops.convert_to_tensor(batch_shape, name="batch_shape")
                if not arg.dtype.is_integer:
                    raise TypeError(f"Argument batch_shape must be integer type.  Found: {arg}")
                if arg.shape.ndims not in (None, 1):
                    raise ValueError(f"Argument batch_shape must be a 1-D Tensor.  Found: {arg}")
                value = _constant_value(arg)
                if value is not None and np.any(value < 0):
                    raise ValueError(f"Argument batch_shape must be non-negative.  Found: {value.tolist()}")
                self._batch_shape_arg = math_ops.cast(arg, _dt.int32)
                self._batch_shape_static = (_shape.TensorShape(value.tolist()) if value is not None
                                            else _shape.unknown_shape(rank=arg.shape.as_list()[0]
                                                                      if arg.shape.ndims == 1 else None))
        self._assert_proper_shapes = assert_proper_shapes
        super().__init__(dtype, is_non_singular=True, is_self_adjoint=True, is_positive_definite=True,
                         is_square=True, name=name)

    def _shape(self):
        n = self._num_rows_static
        return self._batch_shape_static.concatenate([n, n])

    def _shape_tensor(self):
        batch = (self._batch_shape_arg if self._batch_shape_arg is not None
                 else _ops.convert_to_tensor([], dtype=_dt.int32))
        return array_ops.concat([batch, array_ops.stack([self._num_rows, self._num_rows])], 0)

    def _with_batch(self, x):
        """x broadcast against this operator's batch shape (the identity of a batch maps x to a batch)."""
        if self._batch_shape_arg is None:
            return x
        ones = array_ops.ones(array_ops.concat([self._batch_shape_arg, [1, 1]], 0), dtype=x.dtype)
        return x * ones

    def _checked_rows(self, x):
        """x, checked to have num_rows rows: when the graph is built if both are known, else at run time with
        `assert_proper_shapes`."""
        rows = x.shape.dims[-2].value if x.shape.ndims is not None and x.shape.ndims >= 2 else None
        if rows is not None and self._num_rows_static is not None and rows != self._num_rows_static:
            raise ValueError(f"Operator of {self._num_rows_static} rows cannot act on an argument of shape {x.shape}")
        if self._assert_proper_shapes and (rows is None or self._num_rows_static is None):
            check = check_ops.assert_equal(array_ops.shape(x)[-2], self._num_rows,
                                           message="Argument x has the wrong number of rows")
            with _ops.control_dependencies([check]):
                return array_ops.identity(x)
        return x

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        return self._with_batch(self._checked_rows(_adjoint_if(x, adjoint_arg)))

    def _determinant(self):
        return array_ops.ones(self.batch_shape_tensor(), dtype=self.dtype)

    def _log_abs_determinant(self):
        return array_ops.zeros(self.batch_shape_tensor(), dtype=self.dtype)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        return self._matmul(rhs, adjoint_arg=adjoint_arg)

    def _to_dense(self):
        batch = self._batch_shape_static.as_list() if self._batch_shape_static.is_fully_defined() else (
            self._batch_shape_arg)
        return self._eye(batch)

    def _diag_part(self):
        return self._ones_diag()

    def _trace(self):
        return math_ops.cast(self._num_rows, self.dtype) * array_ops.ones(self.batch_shape_tensor(), self.dtype)

    def _add_to_tensor(self, x):
        return array_ops.matrix_set_diag(x, array_ops.matrix_diag_part(x) + 1)

    def _assert_non_singular(self):
        return control_flow_ops.no_op("assert_non_singular")

    def _assert_positive_definite(self):
        return control_flow_ops.no_op("assert_positive_definite")

    def _assert_self_adjoint(self):
        return control_flow_ops.no_op("assert_self_adjoint")


@tf_export("linalg.LinearOperatorScaledIdentity")
class LinearOperatorScaledIdentity(_BaseIdentity):
    """c I of num_rows x num_rows matrices for a [batch of] scalar multiplier c (batch shape: c's shape)."""

    def __init__(self, num_rows, multiplier, is_non_singular=None, is_self_adjoint=None,
                 is_positive_definite=None, is_square=True, assert_proper_shapes=False,
                 name="LinearOperatorScaledIdentity") -> None:
        if not is_square:
            raise ValueError("A ScaledIdentity operator is always square.")
        with _ops.name_scope(name, values=[multiplier, num_rows]):
            self._multiplier = _ops.convert_to_tensor(multiplier, name="multiplier")
            _check_dtype(self._multiplier, _MATRIX_TYPES, "multiplier")
            if not self._multiplier.dtype.is_complex:
                if is_self_adjoint is False:
                    raise ValueError("A real diagonal operator is always self adjoint.")
                is_self_adjoint = True
            self._init_num_rows(num_rows)
        self._assert_proper_shapes = assert_proper_shapes
        super().__init__(self._multiplier.dtype, graph_parents=[self._multiplier], is_non_singular=is_non_singular,
                         is_self_adjoint=is_self_adjoint, is_positive_definite=is_positive_definite,
                         is_square=True, name=name)

    @property
    def multiplier(self) -> _ops.Tensor:
        return self._multiplier

    def _shape(self):
        n = self._num_rows_static
        return self._multiplier.shape.concatenate([n, n])

    def _shape_tensor(self):
        return array_ops.concat([array_ops.shape(self._multiplier), array_ops.stack([self._num_rows,
                                                                                      self._num_rows])], 0)

    def _scale(self, adjoint, extra_dims: int):
        c = math_ops.conj(self._multiplier) if adjoint and self._multiplier.dtype.is_complex else self._multiplier
        for _ in range(extra_dims):
            c = array_ops.expand_dims(c, -1)
        return c

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        return self._scale(adjoint, 2) * _adjoint_if(x, adjoint_arg)

    def _matvec(self, x, adjoint=False):
        return self._scale(adjoint, 1) * x

    def _determinant(self):
        return math_ops.pow(self._multiplier, math_ops.cast(self._num_rows, self.dtype))

    def _log_abs_determinant(self):
        return math_ops.cast(self._num_rows, math_ops.abs(self._multiplier).dtype) * math_ops.log(
            math_ops.abs(self._multiplier))

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        return _adjoint_if(rhs, adjoint_arg) / self._scale(adjoint, 2)

    def _solvevec(self, rhs, adjoint=False):
        return rhs / self._scale(adjoint, 1)

    def _to_dense(self):
        return self._scale(False, 2) * self._eye(None)

    def _diag_part(self):
        return self._scale(False, 1) * self._ones_diag()

    def _trace(self):
        return self._multiplier * math_ops.cast(self._num_rows, self.dtype)

    def _add_to_tensor(self, x):
        return array_ops.matrix_set_diag(x, array_ops.matrix_diag_part(x) + self._scale(False, 1))

    def _assert_non_singular(self):
        return check_ops.assert_positive(math_ops.abs(self._multiplier), message="LinearOperator was singular")

    def _assert_positive_definite(self):
        return check_ops.assert_positive(math_ops.real(self._multiplier),
                                         message="LinearOperator was not positive definite.")


# ----------------------------------------------------------------------------------------------------------
# Operators built from other operators
# ----------------------------------------------------------------------------------------------------------
def _combined_hint(ours, theirs, what: str):
    if ours is not None and theirs is not None and ours != theirs:
        raise ValueError(f"An operator's {what} hint ({ours}) contradicts the wrapped operator's ({theirs}).")
    return ours if ours is not None else theirs


@tf_export("linalg.LinearOperatorAdjoint")
class LinearOperatorAdjoint(LinearOperator):
    """A^H of an operator A, acting through A's own methods."""

    def __init__(self, operator, is_non_singular=None, is_self_adjoint=None, is_positive_definite=None,
                 is_square=None, name=None) -> None:
        self._operator = operator
        super().__init__(operator.dtype, graph_parents=operator.graph_parents,
                         is_non_singular=_combined_hint(is_non_singular, operator.is_non_singular, "is_non_singular"),
                         is_self_adjoint=_combined_hint(is_self_adjoint, operator.is_self_adjoint, "is_self_adjoint"),
                         is_positive_definite=_combined_hint(is_positive_definite, operator.is_positive_definite,
                                                             "is_positive_definite"),
                         is_square=_combined_hint(is_square, operator.is_square, "is_square"),
                         name=name or operator.name + "_adjoint")

    @property
    def operator(self) -> LinearOperator:
        return self._operator

    def _shape(self):
        s = self._operator.shape
        return s if s.ndims is None else _shape.TensorShape(s.dims[:-2] + [s.dims[-1], s.dims[-2]])

    def _shape_tensor(self):
        s = self._operator.shape_tensor()
        return array_ops.concat([s[:-2], s[-1:], s[-2:-1]], 0)

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        return self._operator.matmul(x, adjoint=not adjoint, adjoint_arg=adjoint_arg)

    def _matvec(self, x, adjoint=False):
        return self._operator.matvec(x, adjoint=not adjoint)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        return self._operator.solve(rhs, adjoint=not adjoint, adjoint_arg=adjoint_arg)

    def _determinant(self):
        det = self._operator.determinant()
        return math_ops.conj(det) if det.dtype.is_complex else det

    def _log_abs_determinant(self):
        return self._operator.log_abs_determinant()

    def _to_dense(self):
        return linalg_ops.adjoint(self._operator.to_dense())

    def _diag_part(self):
        d = self._operator.diag_part()
        return math_ops.conj(d) if d.dtype.is_complex else d

    def adjoint(self, name="adjoint") -> LinearOperator:
        return self._operator


@tf_export("linalg.LinearOperatorInversion")
class LinearOperatorInversion(LinearOperator):
    """A^-1 of a square, non-singular operator A: its matmul is A's solve and its solve A's matmul."""

    def __init__(self, operator, is_non_singular=None, is_self_adjoint=None, is_positive_definite=None,
                 is_square=None, name=None) -> None:
        if operator.is_non_singular is False or is_non_singular is False:
            raise ValueError(f"operator and supplied hints must have is_non_singular equal to True or None.  Found "
                             f"{operator.is_non_singular}, {is_non_singular}")
        if operator.is_square is False or is_square is False:
            raise ValueError(f"operator and supplied hints must have is_square equal to True or None.  Found "
                             f"{operator.is_square}, {is_square}")
        self._operator = operator
        super().__init__(operator.dtype, graph_parents=operator.graph_parents, is_non_singular=is_non_singular,
                         is_self_adjoint=_combined_hint(is_self_adjoint, operator.is_self_adjoint, "is_self_adjoint"),
                         is_positive_definite=_combined_hint(is_positive_definite, operator.is_positive_definite,
                                                             "is_positive_definite"),
                         is_square=is_square, name=name or operator.name + "_inv")

    @property
    def operator(self) -> LinearOperator:
        return self._operator

    def _shape(self):
        return self._operator.shape

    def _shape_tensor(self):
        return self._operator.shape_tensor()

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        return self._operator.solve(x, adjoint=adjoint, adjoint_arg=adjoint_arg)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        return self._operator.matmul(rhs, adjoint=adjoint, adjoint_arg=adjoint_arg)

    def _determinant(self):
        return math_ops.reciprocal(self._operator.determinant())

    def _log_abs_determinant(self):
        return -self._operator.log_abs_determinant()

    def inverse(self, name="inverse") -> LinearOperator:
        return self._operator


@tf_export("linalg.LinearOperatorComposition")
class LinearOperatorComposition(LinearOperator):
    """The product A1 A2 ... Ak of operators (applied right to left); batch shapes broadcast."""

    def __init__(self, operators, is_non_singular=None, is_self_adjoint=None, is_positive_definite=None,
                 is_square=None, name=None) -> None:
        operators = list(operators)
        if not operators:
            raise ValueError(f"Expected a non-empty list of operators. Found: {operators}")
        dtypes = {op.dtype for op in operators}
        if len(dtypes) > 1:
            raise TypeError(f"Expected all operators to have the same dtype.  Found "
                            f"{', '.join(sorted(d.name for d in dtypes))}")
        if all(op.is_non_singular for op in operators):
            if is_non_singular is False:
                raise ValueError("The composition of non-singular operators is always non-singular.")
            is_non_singular = True
        for left, right in zip(operators, operators[1:]):
            if not left.domain_dimension.is_compatible_with(right.range_dimension):
                raise ValueError(f"Operators are incompatible.  Expected `x` to have dimension "
                                 f"{left.domain_dimension} but got {right.range_dimension}.")
        self._operators = operators
        parents = [p for op in operators for p in op.graph_parents]
        super().__init__(operators[0].dtype, graph_parents=parents, is_non_singular=is_non_singular,
                         is_self_adjoint=is_self_adjoint, is_positive_definite=is_positive_definite,
                         is_square=is_square, name=name or "_o_".join(op.name for op in operators))

    @property
    def operators(self) -> list:
        return list(self._operators)

    def _shape(self):
        batch = self._operators[0].batch_shape
        for op in self._operators[1:]:
            batch = array_ops.broadcast_static_shape(batch, op.batch_shape)
        if batch.ndims is None:
            return _shape.unknown_shape()
        return batch.concatenate([self._operators[0].range_dimension, self._operators[-1].domain_dimension])

    def _shape_tensor(self):
        batch = self._operators[0].batch_shape_tensor()
        for op in self._operators[1:]:
            batch = array_ops.broadcast_dynamic_shape(batch, op.batch_shape_tensor())
        return array_ops.concat([batch, array_ops.stack([self._operators[0].range_dimension_tensor(),
                                                         self._operators[-1].domain_dimension_tensor()])], 0)

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        order = self._operators if adjoint else list(reversed(self._operators))
        result = order[0].matmul(x, adjoint=adjoint, adjoint_arg=adjoint_arg)
        for op in order[1:]:
            result = op.matmul(result, adjoint=adjoint)
        return result

    def _determinant(self):
        result = self._operators[0].determinant()
        for op in self._operators[1:]:
            result = result * op.determinant()
        return result

    def _log_abs_determinant(self):
        result = self._operators[0].log_abs_determinant()
        for op in self._operators[1:]:
            result = result + op.log_abs_determinant()
        return result

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        # (A1 ... Ak)^-1 = Ak^-1 ... A1^-1: solve with A1 first (with Ak first for the adjoint).
        order = list(reversed(self._operators)) if adjoint else self._operators
        result = order[0].solve(rhs, adjoint=adjoint, adjoint_arg=adjoint_arg)
        for op in order[1:]:
            result = op.solve(result, adjoint=adjoint)
        return result
