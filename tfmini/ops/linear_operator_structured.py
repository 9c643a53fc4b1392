"""More structured tf.linalg operators: LinearOperatorZeros, Householder reflections, block-diagonal and Kronecker
products of operators, low-rank updates (solved with the Woodbury identity) and Toeplitz matrices. Each acts
through its structure; the dense matrix is built only by to_dense (and by Toeplitz's solve).
"""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.ops import array_ops, linalg_impl, linalg_ops, math_ops
from tfmini.ops.linear_operator import (
    _MATRIX_TYPES,
    LinearOperator,
    LinearOperatorDiag,
    LinearOperatorIdentity,
    _adjoint_if,
    _BaseIdentity,
    _check_dtype,
    _constant_value,
    _dimension_arg,
    _operand,
    _square_shape_of,
    _square_shape_tensor_of,
)


@tf_export("linalg.LinearOperatorZeros")
class LinearOperatorZeros(_BaseIdentity):
    """The [batch] zero matrix of num_rows x num_columns (square by default)."""

    def __init__(self, num_rows, num_columns=None, batch_shape=None, dtype=None, is_non_singular=False,
                 is_self_adjoint=True, is_positive_definite=False, is_square=True, assert_proper_shapes=False,
                 name="LinearOperatorZeros") -> None:
        dtype = _dt.as_dtype(dtype or _dt.float32)
        if not is_self_adjoint:
            raise ValueError("A zero operator is always self adjoint.")
        if is_non_singular:
            raise ValueError("A zero operator is always singular.")
        if is_positive_definite:
            raise ValueError("A zero operator is always not positive-definite.")
        with _ops.name_scope(name, values=[num_rows, num_columns, batch_shape]):
            rows, rows_static = _dimension_arg(num_rows, "num_rows")
            cols, cols_static = (rows, rows_static) if num_columns is None else _dimension_arg(num_columns,
                                                                                                "num_columns")
            self._num_rows, self._num_rows_static = rows, rows_static
            self._num_columns, self._num_columns_static = cols, cols_static
            if rows_static is not None and cols_static is not None and rows_static != cols_static:
                is_square = None  # a rectangular zero matrix: the shape says it
            self._batch_shape_arg = None if batch_shape is None else math_ops.cast(
                _ops.convert_to_tensor(batch_shape, name="batch_shape"), _dt.int32)
            value = None if batch_shape is None else _constant_value(self._batch_shape_arg)
            if value is not None and np.any(value < 0):
                raise ValueError(f"Argument batch_shape must be non-negative.  Found: {value.tolist()}")
            self._batch_shape_static = (_shape.TensorShape([]) if batch_shape is None else
                                        _shape.TensorShape(value.tolist()) if value is not None else
                                        _shape.unknown_shape())
        self._assert_proper_shapes = assert_proper_shapes
        super().__init__(dtype, is_non_singular=False, is_self_adjoint=True if is_square else None,
                         is_positive_definite=False, is_square=is_square, name=name)

    def _shape(self):
        return self._batch_shape_static.concatenate([self._num_rows_static, self._num_columns_static])

    def _shape_tensor(self):
        batch = (self._batch_shape_arg if self._batch_shape_arg is not None
                 else _ops.convert_to_tensor([], dtype=_dt.int32))
        return array_ops.concat([batch, array_ops.stack([self._num_rows, self._num_columns])], 0)

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x_shape = array_ops.shape(_adjoint_if(x, adjoint_arg))
        rows = self._num_columns if adjoint else self._num_rows
        batch = array_ops.broadcast_dynamic_shape(self.batch_shape_tensor(), x_shape[:-2])
        return array_ops.zeros(array_ops.concat([batch, array_ops.stack([rows, x_shape[-1]])], 0), self.dtype)

    def _determinant(self):
        return array_ops.zeros(self.batch_shape_tensor(), self.dtype)

    def _log_abs_determinant(self):
        return math_ops.log(self._determinant())

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        raise NotImplementedError("Zero operators are not invertible.")

    def _to_dense(self):
        return array_ops.zeros(self.shape_tensor(), self.dtype)

    def _diag_part(self):
        size = math_ops.minimum(self._num_rows, self._num_columns)
        return array_ops.zeros(array_ops.concat([self.batch_shape_tensor(), array_ops.expand_dims(size, 0)], 0),
                               self.dtype)

    def _trace(self):
        return array_ops.zeros(self.batch_shape_tensor(), self.dtype)

    def _add_to_tensor(self, x):
        return array_ops.identity(x)


@tf_export("linalg.LinearOperatorHouseholder")
class LinearOperatorHouseholder(LinearOperator):
    """The reflection H = I - 2 v v^H / (v^H v) across the hyperplane orthogonal to `reflection_axis` v [..., N]."""

    def __init__(self, reflection_axis, is_non_singular=None, is_self_adjoint=None, is_positive_definite=None,
                 is_square=None, name="LinearOperatorHouseholder") -> None:
        with _ops.name_scope(name, values=[reflection_axis]):
            self._axis = _operand(reflection_axis, "reflection_axis", 1)
        if is_self_adjoint is False:
            raise ValueError("A Householder operator is always self adjoint.")
        if is_non_singular is False:
            raise ValueError("A Householder operator is always non-singular.")
        if is_positive_definite is True:
            raise ValueError("A Householder operator is always non-positive definite.")
        if is_square is False:
            raise ValueError("A Householder operator is always square.")
        super().__init__(self._axis.dtype, graph_parents=[self._axis], is_non_singular=True,
                         is_self_adjoint=True, is_positive_definite=False, is_square=True, name=name)

    @property
    def reflection_axis(self) -> _ops.Tensor:
        return self._axis

    def _shape(self):
        return _square_shape_of(self._axis)

    def _shape_tensor(self):
        return _square_shape_tensor_of(self._axis)

    def _unit_axis(self):
        norm2 = math_ops.reduce_sum(math_ops.real(math_ops.conj(self._axis) * self._axis), -1, keepdims=True)
        return self._axis / math_ops.cast(math_ops.sqrt(norm2), self.dtype)

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = _adjoint_if(x, adjoint_arg)
        u = array_ops.expand_dims(self._unit_axis(), -1)
        return x - 2 * u * math_ops.matmul(u, x, adjoint_a=True)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        return self._matmul(rhs, adjoint_arg=adjoint_arg)  # a reflection is its own inverse

    def _determinant(self):
        return -array_ops.ones(self.batch_shape_tensor(), self.dtype)

    def _log_abs_determinant(self):
        return array_ops.zeros(self.batch_shape_tensor(), self.dtype)

    def _to_dense(self):
        u = array_ops.expand_dims(self._unit_axis(), -1)
        return _identity_of(self._axis) - 2 * math_ops.matmul(u, u, adjoint_b=True)

    def _diag_part(self):
        u = self._unit_axis()
        return 1 - 2 * math_ops.conj(u) * u

    def _trace(self):
        return math_ops.cast(self.domain_dimension_tensor() - 2, self.dtype) * array_ops.ones(
            self.batch_shape_tensor(), self.dtype)


def _identity_of(vectors) -> _ops.Tensor:
    """Identity matrices [..., N, N] for vectors [..., N]."""
    return linalg_impl.matrix_diag(array_ops.ones_like(vectors))


def _square_operators(operators, what: str) -> list:
    operators = list(operators)
    if not operators:
        raise ValueError(f"Expected a non-empty list of operators. Found: {operators}")
    if len({op.dtype for op in operators}) > 1:
        raise TypeError(f"Expected all operators to have the same dtype.  Found "
                        f"{', '.join(sorted({op.dtype.name for op in operators}))}")
    for op in operators:
        if op.is_square is False:
            raise ValueError(f"The {what} operators must be square.")
    return operators


def _all_true(flags) -> bool:
    return all(flag is True for flag in flags)


def _batch_of(operators) -> _shape.TensorShape:
    batch = operators[0].batch_shape
    for op in operators[1:]:
        batch = array_ops.broadcast_static_shape(batch, op.batch_shape)
    return batch


def _batch_tensor_of(operators) -> _ops.Tensor:
    batch = operators[0].batch_shape_tensor()
    for op in operators[1:]:
        batch = array_ops.broadcast_dynamic_shape(batch, op.batch_shape_tensor())
    return batch


class _SquareOperatorsCombined(LinearOperator):
    """A square operator built from square `operators` (their batch shapes broadcast), of a size that
    `_combined_size` makes from theirs (Python ints) and `_combined_size_tensor` (int32 scalars)."""

    def __init__(self, operators: list, separator: str, is_non_singular, is_self_adjoint, is_positive_definite,
                 name) -> None:
        self._operators = operators
        super().__init__(operators[0].dtype, graph_parents=[p for op in operators for p in op.graph_parents],
                         is_non_singular=is_non_singular, is_self_adjoint=is_self_adjoint,
                         is_positive_definite=is_positive_definite, is_square=True,
                         name=name or separator.join(op.name for op in operators))

    @property
    def operators(self) -> list:
        return list(self._operators)

    def _shape(self):
        batch = _batch_of(self._operators)
        dims = [op.domain_dimension.value for op in self._operators]
        n = None if None in dims else self._combined_size(dims)
        return _shape.unknown_shape() if batch.ndims is None else batch.concatenate([n, n])

    def _shape_tensor(self):
        n = self._combined_size_tensor([op.domain_dimension_tensor() for op in self._operators])
        return array_ops.concat([_batch_tensor_of(self._operators), array_ops.stack([n, n])], 0)


@tf_export("linalg.LinearOperatorBlockDiag")
class LinearOperatorBlockDiag(_SquareOperatorsCombined):
    """The block-diagonal operator diag(A1, ..., Ak) of square operators (their batch shapes broadcast)."""

    def __init__(self, operators, is_non_singular=None, is_self_adjoint=None, is_positive_definite=None,
                 is_square=True, name=None) -> None:
        operators = _square_operators(operators, "block diagonal")
        if is_square is False:
            raise ValueError("A block diagonal operator is always square.")
        for flag, what in ((is_non_singular, "is_non_singular"), (is_self_adjoint, "is_self_adjoint"),
                           (is_positive_definite, "is_positive_definite")):
            if flag is False and _all_true(getattr(op, what) for op in operators):
                raise ValueError(f"The direct sum of operators that all have {what} True has it too.")
        if _all_true(op.is_non_singular for op in operators):
            is_non_singular = True
        if _all_true(op.is_self_adjoint for op in operators):
            is_self_adjoint = True
        if _all_true(op.is_positive_definite for op in operators):
            is_positive_definite = True
        super().__init__(operators, "_ds_", is_non_singular, is_self_adjoint, is_positive_definite, name)

    @staticmethod
    def _combined_size(sizes: list) -> int:
        return sum(sizes)

    @staticmethod
    def _combined_size_tensor(sizes: list):
        return math_ops.add_n(sizes)

    def _split_rows(self, x):
        sizes = [op.domain_dimension_tensor() for op in self._operators]
        return array_ops.split(x, array_ops.stack(sizes), axis=-2)

    def _broadcast_concat(self, parts):
        batch = _batch_tensor_of(self._operators)
        full = []
        for part in parts:
            shape = array_ops.shape(part)
            full.append(array_ops.broadcast_to(part, array_ops.concat(
                [array_ops.broadcast_dynamic_shape(batch, shape[:-2]), shape[-2:]], 0)))
        return array_ops.concat(full, axis=-2)

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = _adjoint_if(x, adjoint_arg)
        return self._broadcast_concat([op.matmul(part, adjoint=adjoint)
                                       for op, part in zip(self._operators, self._split_rows(x))])

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        rhs = _adjoint_if(rhs, adjoint_arg)
        return self._broadcast_concat([op.solve(part, adjoint=adjoint)
                                       for op, part in zip(self._operators, self._split_rows(rhs))])

    def _determinant(self):
        result = self._operators[0].determinant()
        for op in self._operators[1:]:
            result = result * op.determinant()
        return result

    def _log_abs_determinant(self):
        return math_ops.add_n([op.log_abs_determinant() for op in self._operators])

    def _diag_part(self):
        batch = _batch_tensor_of(self._operators)
        parts = []
        for op in self._operators:
            d = op.diag_part()
            shape = array_ops.shape(d)
            parts.append(array_ops.broadcast_to(d, array_ops.concat([batch, shape[-1:]], 0)))
        return array_ops.concat(parts, axis=-1)

    def _trace(self):
        return math_ops.add_n([op.trace() for op in self._operators])


@tf_export("linalg.LinearOperatorKronecker")
class LinearOperatorKronecker(_SquareOperatorsCombined):
    """The Kronecker product A1 (x) A2 (x) ... (x) Ak of square operators: block (i, j) of A1 (x) B is A1[i, j] B."""

    def __init__(self, operators, is_non_singular=None, is_self_adjoint=None, is_positive_definite=None,
                 is_square=None, name=None) -> None:
        operators = _square_operators(operators, "Kronecker")
        if _all_true(op.is_non_singular for op in operators):
            if is_non_singular is False:
                raise ValueError("The Kronecker product of non-singular operators is always non-singular.")
            is_non_singular = True
        if _all_true(op.is_self_adjoint for op in operators):
            if is_self_adjoint is False:
                raise ValueError("The Kronecker product of self-adjoint operators is always self-adjoint.")
            is_self_adjoint = True
        super().__init__(operators, "_x_", is_non_singular, is_self_adjoint, is_positive_definite, name)

    @staticmethod
    def _combined_size(sizes: list) -> int:
        return int(np.prod(sizes))

    @staticmethod
    def _combined_size_tensor(sizes: list):
        return math_ops.reduce_prod(array_ops.stack(sizes))

    def _apply(self, x, act):
        """act(op, y) applied with each factor along its own axis of x [..., n1 * ... * nk, R]."""
        sizes = [op.domain_dimension_tensor() for op in self._operators]
        total = math_ops.reduce_prod(array_ops.stack(sizes))
        for i, op in enumerate(self._operators):
            # Bring factor i's axis forward as rows: x viewed as [..., n_i, rest * R].
            shape = array_ops.shape(x)
            batch, cols = shape[:-2], shape[-1]
            before = math_ops.reduce_prod(array_ops.stack(sizes[:i] + [1]))
            after = total // (before * sizes[i])
            grid = array_ops.reshape(x, array_ops.concat([batch, array_ops.stack([before, sizes[i], after * cols])],
                                                         0))
            rank = array_ops.rank(grid)
            lead = array_ops.range(rank - 3)
            perm = array_ops.concat([lead, array_ops.stack([rank - 2, rank - 3, rank - 1])], 0)
            rows_first = array_ops.transpose(grid, perm)  # [..., n_i, before, after * R]
            flat = array_ops.reshape(rows_first, array_ops.concat(
                [array_ops.shape(rows_first)[:-3], array_ops.stack([sizes[i], before * after * cols])], 0))
            acted = act(op, flat)
            back = array_ops.reshape(acted, array_ops.concat(
                [array_ops.shape(acted)[:-2], array_ops.stack([sizes[i], before, after * cols])], 0))
            rank = array_ops.rank(back)
            lead = array_ops.range(rank - 3)
            back = array_ops.transpose(back, array_ops.concat([lead, array_ops.stack([rank - 2, rank - 3,
                                                                                      rank - 1])], 0))
            x = array_ops.reshape(back, array_ops.concat([array_ops.shape(back)[:-3], array_ops.stack([total,
                                                                                                       cols])], 0))
        return x

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        out = self._apply(_adjoint_if(x, adjoint_arg), lambda op, y: op.matmul(y, adjoint=adjoint))
        return _with_static_shape(out, self, x, adjoint_arg)

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        out = self._apply(_adjoint_if(rhs, adjoint_arg), lambda op, y: op.solve(y, adjoint=adjoint))
        return _with_static_shape(out, self, rhs, adjoint_arg)

    def _determinant(self):
        # det(A (x) B) = det(A)^nB det(B)^nA for square A (nA x nA) and B (nB x nB).
        total = math_ops.reduce_prod(array_ops.stack([op.domain_dimension_tensor() for op in self._operators]))
        result = None
        for op in self._operators:
            power = math_ops.cast(total // op.domain_dimension_tensor(), self.dtype)
            term = math_ops.pow(op.determinant(), power)
            result = term if result is None else result * term
        return result

    def _log_abs_determinant(self):
        total = math_ops.reduce_prod(array_ops.stack([op.domain_dimension_tensor() for op in self._operators]))
        terms = []
        for op in self._operators:
            logdet = op.log_abs_determinant()
            terms.append(math_ops.cast(total // op.domain_dimension_tensor(), logdet.dtype) * logdet)
        return math_ops.add_n(terms)

    def _to_dense(self):
        dense = self._operators[0].to_dense()
        for op in self._operators[1:]:
            other = op.to_dense()
            block = math_ops.einsum("...ij,...kl->...ikjl", dense, other)
            shape = array_ops.shape(block)
            dense = array_ops.reshape(block, array_ops.concat(
                [shape[:-4], array_ops.stack([shape[-4] * shape[-3], shape[-2] * shape[-1]])], 0))
        return dense

    def _diag_part(self):
        diag = self._operators[0].diag_part()
        for op in self._operators[1:]:
            outer = array_ops.expand_dims(diag, -1) * array_ops.expand_dims(op.diag_part(), -2)
            shape = array_ops.shape(outer)
            diag = array_ops.reshape(outer, array_ops.concat([shape[:-2], array_ops.expand_dims(
                shape[-2] * shape[-1], 0)], 0))
        return diag

    def _trace(self):
        result = self._operators[0].trace()
        for op in self._operators[1:]:
            result = result * op.trace()
        return result


def _with_static_shape(out, operator, x, adjoint_arg):
    """The static shape the Kronecker reshapes lose: the operator's batch and rows, x's columns."""
    cols = x.shape.dims[-2 if adjoint_arg else -1] if x.shape.ndims is not None else None
    batch = operator.batch_shape
    if x.shape.ndims is not None and batch.ndims is not None:
        batch = array_ops.broadcast_static_shape(batch, _shape.TensorShape(x.shape.dims[:-2]))
        out.set_shape(batch.concatenate([operator.range_dimension, cols]))
    return out


@tf_export("linalg.LinearOperatorLowRankUpdate")
class LinearOperatorLowRankUpdate(LinearOperator):
    """A = L + U D V^H: a base operator L [..., M, M] plus a rank-K update with U, V [..., M, K] and diagonal D
    (the identity when `diag_update` is None; V = U when `v` is None). Solves and determinants use the Woodbury
    identity and the matrix determinant lemma, through the K x K capacitance matrix C = D^-1 + V^H L^-1 U."""

    def __init__(self, base_operator, u, diag_update=None, v=None, is_diag_update_positive=None,
                 is_non_singular=None, is_self_adjoint=None, is_positive_definite=None, is_square=None,
                 name="LinearOperatorLowRankUpdate") -> None:
        if base_operator.is_square is False or is_square is False:
            raise ValueError("The base operator and the update must be square.")
        with _ops.name_scope(name, values=[u, diag_update, v]):
            dtype = base_operator.dtype
            self._u = _ops.convert_to_tensor(u, name="u", dtype=dtype)
            self._v = self._u if v is None else _ops.convert_to_tensor(v, name="v", dtype=dtype)
            self._use_v = v is not None
            if diag_update is None:
                if is_diag_update_positive is False:
                    raise ValueError("Default diagonal is the identity, which is positive.  However, user set "
                                     "'is_diag_update_positive' to False.")
                is_diag_update_positive = True
                self._diag_update = None
                self._diag_operator = LinearOperatorIdentity(
                    num_rows=array_ops.shape(self._u)[-1], dtype=dtype) if self._u.shape.ndims is None or (
                    self._u.shape.dims[-1].value is None) else LinearOperatorIdentity(
                    self._u.shape.dims[-1].value, dtype=dtype)
            else:
                self._diag_update = _ops.convert_to_tensor(diag_update, name="diag_update", dtype=dtype)
                self._diag_operator = LinearOperatorDiag(self._diag_update, is_non_singular=True,
                                                         is_positive_definite=is_diag_update_positive)
        self._base = base_operator
        self._is_diag_update_positive = is_diag_update_positive
        if (not self._use_v and base_operator.is_self_adjoint and base_operator.is_positive_definite
                and is_diag_update_positive):
            is_self_adjoint = True if is_self_adjoint is None else is_self_adjoint
            is_positive_definite = True if is_positive_definite is None else is_positive_definite
        parents = list(base_operator.graph_parents) + [self._u] + ([self._v] if self._use_v else []) + (
            [self._diag_update] if self._diag_update is not None else [])
        super().__init__(base_operator.dtype, graph_parents=parents, is_non_singular=is_non_singular,
                         is_self_adjoint=is_self_adjoint, is_positive_definite=is_positive_definite,
                         is_square=True, name=name)

    @property
    def base_operator(self) -> LinearOperator:
        return self._base

    @property
    def u(self) -> _ops.Tensor:
        return self._u

    @property
    def v(self) -> _ops.Tensor:
        return self._v

    @property
    def diag_update(self):
        return self._diag_update

    @property
    def diag_operator(self) -> LinearOperator:
        return self._diag_operator

    def _shape(self):
        batch = self._base.batch_shape
        if self._u.shape.ndims is not None and batch.ndims is not None:
            batch = array_ops.broadcast_static_shape(batch, _shape.TensorShape(self._u.shape.dims[:-2]))
        return _shape.unknown_shape() if batch.ndims is None else batch.concatenate(self._base.shape.dims[-2:])

    def _shape_tensor(self):
        batch = array_ops.broadcast_dynamic_shape(self._base.batch_shape_tensor(), array_ops.shape(self._u)[:-2])
        return array_ops.concat([batch, self._base.shape_tensor()[-2:]], 0)

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        x = _adjoint_if(x, adjoint_arg)
        left, right = (self._v, self._u) if adjoint else (self._u, self._v)
        projected = math_ops.matmul(right, x, adjoint_a=True)  # V^H x
        update = math_ops.matmul(left, self._diag_operator.matmul(projected, adjoint=adjoint))
        return self._base.matmul(x, adjoint=adjoint) + update

    def _capacitance(self, adjoint=False) -> tuple[_ops.Tensor, _ops.Tensor]:
        """(C, L^-1 U): C = D^-1 + V^H L^-1 U, the K x K matrix of the Woodbury identity (for the adjoint
        operator: C = D^-H + U^H L^-H V, with L^-H V)."""
        left, right = (self._v, self._u) if adjoint else (self._u, self._v)
        l_inv_left = self._base.solve(left, adjoint=adjoint)
        d_inv = self._diag_operator.inverse()
        d_inv = (d_inv.adjoint() if adjoint else d_inv).to_dense()
        return d_inv + math_ops.matmul(right, l_inv_left, adjoint_a=True), l_inv_left

    def _solve(self, rhs, adjoint=False, adjoint_arg=False):
        # Woodbury: A^-1 = L^-1 - L^-1 U C^-1 V^H L^-1.
        rhs = _adjoint_if(rhs, adjoint_arg)
        capacitance, l_inv_left = self._capacitance(adjoint)
        right = self._u if adjoint else self._v
        l_inv_rhs = self._base.solve(rhs, adjoint=adjoint)
        correction = linalg_ops.matrix_solve(*_common_batch(capacitance,
                                                            math_ops.matmul(right, l_inv_rhs, adjoint_a=True)))
        return l_inv_rhs - math_ops.matmul(l_inv_left, correction)

    def _log_abs_determinant(self):
        # The matrix determinant lemma: det(A) = det(C) det(D) det(L).
        capacitance, _ = self._capacitance()
        return (linalg_ops.log_matrix_determinant(capacitance).log_abs_determinant
                + self._diag_operator.log_abs_determinant() + self._base.log_abs_determinant())

    def _determinant(self):
        capacitance, _ = self._capacitance()
        return (linalg_ops.matrix_determinant(capacitance) * self._diag_operator.determinant()
                * self._base.determinant())

    def _to_dense(self):
        dense_update = math_ops.matmul(self._u, self._diag_operator.matmul(self._v, adjoint_arg=True))
        return self._base.to_dense() + dense_update


def _common_batch(a, b):
    shape_a, shape_b = array_ops.shape(a), array_ops.shape(b)
    batch = array_ops.broadcast_dynamic_shape(shape_a[:-2], shape_b[:-2])
    return (array_ops.broadcast_to(a, array_ops.concat([batch, shape_a[-2:]], 0)),
            array_ops.broadcast_to(b, array_ops.concat([batch, shape_b[-2:]], 0)))


@tf_export("linalg.LinearOperatorToeplitz")
class LinearOperatorToeplitz(LinearOperator):
    """A Toeplitz matrix T[i, j] = t(i - j) from its first column (t(0), t(1), ...) and first row (t(0), t(-1),
    ...); `col[..., 0]` is the diagonal (row[..., 0] is ignored)."""

    def __init__(self, col, row, is_non_singular=None, is_self_adjoint=None, is_positive_definite=None,
                 is_square=None, name="LinearOperatorToeplitz") -> None:
        with _ops.name_scope(name, values=[row, col]):
            self._row = _ops.convert_to_tensor(row, name="row")
            self._col = _ops.convert_to_tensor(col, name="col", dtype=self._row.dtype.base_dtype)
            _check_dtype(self._row, _MATRIX_TYPES, "row")
        if is_square is False:
            raise ValueError("Only square Toeplitz operators currently supported.")
        super().__init__(self._row.dtype, graph_parents=[self._row, self._col], is_non_singular=is_non_singular,
                         is_self_adjoint=is_self_adjoint, is_positive_definite=is_positive_definite,
                         is_square=True, name=name)

    @property
    def col(self) -> _ops.Tensor:
        return self._col

    @property
    def row(self) -> _ops.Tensor:
        return self._row

    def _shape(self):
        r, c = self._row.shape, self._col.shape
        if r.ndims is None or c.ndims is None:
            return _shape.unknown_shape()
        batch = array_ops.broadcast_static_shape(_shape.TensorShape(r.dims[:-1]), _shape.TensorShape(c.dims[:-1]))
        n = r.dims[-1].merge_with(c.dims[-1])
        return batch.concatenate([n, n])

    def _shape_tensor(self):
        r, c = array_ops.shape(self._row), array_ops.shape(self._col)
        n = r[-1:]
        return array_ops.concat([array_ops.broadcast_dynamic_shape(r[:-1], c[:-1]), n, n], 0)

    def _to_dense(self):
        # All values t(n-1), ..., t(1), t(0), t(-1), ..., t(-(n-1)) in one vector; entry (i, j) is t(i - j),
        # at position (n - 1) - (i - j).
        row, col = self._row, self._col
        if not (row.shape.is_fully_defined() and row.shape == col.shape):
            shape = array_ops.broadcast_dynamic_shape(array_ops.shape(row), array_ops.shape(col))
            row, col = array_ops.broadcast_to(row, shape), array_ops.broadcast_to(col, shape)
        n = array_ops.shape(row)[-1]
        values = array_ops.concat([array_ops.reverse(col, [-1]), row[..., 1:]], -1)
        i = array_ops.expand_dims(array_ops.range(n), -1)
        j = array_ops.expand_dims(array_ops.range(n), 0)
        index = (n - 1) - (i - j)
        gathered = array_ops.gather(values, array_ops.reshape(index, [-1]), axis=-1)
        shape = array_ops.shape(values)
        return array_ops.reshape(gathered, array_ops.concat([shape[:-1], array_ops.stack([n, n])], 0))

    def _matmul(self, x, adjoint=False, adjoint_arg=False):
        return math_ops.matmul(self.to_dense(), x, adjoint_a=adjoint, adjoint_b=adjoint_arg)

    def _diag_part(self):
        return self._col[..., :1] * array_ops.ones_like(self._col)

    def _trace(self):
        return math_ops.cast(array_ops.shape(self._col)[-1], self.dtype) * self._col[..., 0]

