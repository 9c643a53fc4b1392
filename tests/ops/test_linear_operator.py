"""tf.linalg.LinearOperator and its subclasses (linear_operator and linear_operator_structured): every method against
the dense matrix in NumPy, for batches and the adjoint/adjoint_arg variants, the hint rules, user subclasses, and
gradients through the operators."""

from __future__ import annotations

import numpy as np
import pytest
from gradient_checker import check_gradients, random_array

import tfmini as tf
from tfmini.framework import errors


def _run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed_dict=feed)


def _h(a):
    return np.conj(np.swapaxes(a, -1, -2))


def _spd(batch, n, seed):
    a = random_array((*batch, n, n), seed=seed, low=-1, high=1)
    return a @ _h(a) + n * np.eye(n)


def _circulant_dense(kernel, depth=1):
    """The matrix of circular convolution with `kernel` over its `depth` innermost dims (positions row-major)."""
    block = kernel.shape[kernel.ndim - depth:]
    idx = np.array(list(np.ndindex(*block)))
    diff = (idx[:, None, :] - idx[None, :, :]) % np.array(block)
    lin = np.ravel_multi_index(tuple(diff.reshape(-1, depth).T), block).reshape(len(idx), len(idx))
    return kernel.reshape(kernel.shape[:kernel.ndim - depth] + (-1,))[..., lin]


def _operators():
    """(label, operator builder, dense NumPy matrix), float64, with batch dimensions where the operator has them."""
    full = random_array((2, 3, 3), seed=1, low=-1, high=1) + 3 * np.eye(3)
    spd = _spd((2,), 3, seed=2)
    diag = random_array((2, 3), seed=3, low=0.5, high=2.0)
    tril = np.tril(random_array((3, 3), seed=4, low=-1, high=1)) + 2 * np.eye(3)
    mult = np.array([2.0, -0.5])
    axis = random_array((2, 3), seed=10, low=-1, high=1)
    small = random_array((2, 2, 2), seed=11, low=-1, high=1) + 2 * np.eye(2)
    u = random_array((2, 3, 2), seed=12, low=-0.5, high=0.5)
    v = random_array((2, 3, 2), seed=13, low=-0.5, high=0.5)
    col, row = np.array([4.0, 1.0, -0.5]), np.array([9.0, 0.7, 0.2])
    kernel1 = random_array((2, 4), seed=14, low=-0.5, high=0.5) + np.array([3.0, 0, 0, 0])
    kernel2 = random_array((2, 3), seed=15, low=-0.5, high=0.5) + np.array([[3.0, 0, 0], [0, 0, 0]])
    kernel3 = random_array((2, 2, 2, 2), seed=16, low=-0.3, high=0.3)
    kernel3[..., 0, 0, 0] += 3.0
    return [
        ("full", lambda: tf.linalg.LinearOperatorFullMatrix(full), full),
        ("full_spd", lambda: tf.linalg.LinearOperatorFullMatrix(spd, is_self_adjoint=True,
                                                                  is_positive_definite=True), spd),
        ("diag", lambda: tf.linalg.LinearOperatorDiag(diag), np.stack([np.diag(d) for d in diag])),
        ("tril", lambda: tf.linalg.LinearOperatorLowerTriangular(tril + np.triu(np.ones((3, 3)), 1)), tril),
        ("identity", lambda: tf.linalg.LinearOperatorIdentity(3, dtype=tf.float64), np.eye(3)),
        ("identity_batch", lambda: tf.linalg.LinearOperatorIdentity(3, batch_shape=[2], dtype=tf.float64),
         np.broadcast_to(np.eye(3), (2, 3, 3))),
        ("scaled", lambda: tf.linalg.LinearOperatorScaledIdentity(3, mult), mult[:, None, None] * np.eye(3)),
        ("adjoint", lambda: tf.linalg.LinearOperatorFullMatrix(full).adjoint(), _h(full)),
        ("inverse", lambda: tf.linalg.LinearOperatorFullMatrix(full).inverse(), np.linalg.inv(full)),
        ("composition", lambda: tf.linalg.LinearOperatorComposition([
            tf.linalg.LinearOperatorFullMatrix(full), tf.linalg.LinearOperatorDiag(diag)]),
         full @ np.stack([np.diag(d) for d in diag])),
        ("householder", lambda: tf.linalg.LinearOperatorHouseholder(axis),
         np.eye(3) - 2 * np.einsum("bi,bj->bij", axis, axis) / np.sum(axis * axis, -1)[:, None, None]),
        ("block_diag", lambda: tf.linalg.LinearOperatorBlockDiag([
            tf.linalg.LinearOperatorFullMatrix(small), tf.linalg.LinearOperatorDiag(diag)]),
         np.stack([np.block([[s, np.zeros((2, 3))], [np.zeros((3, 2)), np.diag(d)]]) for s, d in zip(small, diag)])),
        ("kronecker", lambda: tf.linalg.LinearOperatorKronecker([
            tf.linalg.LinearOperatorFullMatrix(small), tf.linalg.LinearOperatorFullMatrix(full)]),
         np.stack([np.kron(s, f) for s, f in zip(small, full)])),
        ("kronecker3", lambda: tf.linalg.LinearOperatorKronecker([
            tf.linalg.LinearOperatorFullMatrix(small[0]), tf.linalg.LinearOperatorDiag(diag[0]),
            tf.linalg.LinearOperatorFullMatrix(small[1])]), np.kron(np.kron(small[0], np.diag(diag[0])), small[1])),
        ("low_rank", lambda: tf.linalg.LinearOperatorLowRankUpdate(tf.linalg.LinearOperatorDiag(diag), u,
                                                                  diag_update=[2.0, 0.5], v=v),
         np.stack([np.diag(d) for d in diag]) + u @ np.diag([2.0, 0.5]) @ _h(v)),
        ("low_rank_spd", lambda: tf.linalg.LinearOperatorLowRankUpdate(
            tf.linalg.LinearOperatorFullMatrix(spd, is_self_adjoint=True, is_positive_definite=True), u),
         spd + u @ _h(u)),
        ("toeplitz", lambda: tf.linalg.LinearOperatorToeplitz(col, row),
         np.array([[col[0], row[1], row[2]], [col[1], col[0], row[1]], [col[2], col[1], col[0]]])),
        ("circulant", lambda: tf.linalg.LinearOperatorCirculant(np.fft.fft(kernel1), input_output_dtype=tf.float64),
         _circulant_dense(kernel1)),
        ("circulant2d", lambda: tf.linalg.LinearOperatorCirculant2D(np.fft.fft2(kernel2),
                                                                    input_output_dtype=tf.float64),
         _circulant_dense(kernel2, 2)),
        ("circulant3d", lambda: tf.linalg.LinearOperatorCirculant3D(np.fft.fftn(kernel3, axes=(-3, -2, -1)),
                                                                    input_output_dtype=tf.float64),
         _circulant_dense(kernel3, 3)),
    ]


OPERATORS = _operators()


@pytest.mark.parametrize("label,build,dense", OPERATORS, ids=[o[0] for o in OPERATORS])
def test_operator_methods_match_the_dense_matrix(label, build, dense):
    rng = np.random.RandomState(5)
    with tf.Graph().as_default():
        op = build()
        assert op.shape.as_list() == list(dense.shape)
        assert op.batch_shape.as_list() == list(dense.shape[:-2])
        assert op.is_square
        x = rng.uniform(-1, 1, dense.shape[:-1] + (2,))
        v = rng.uniform(-1, 1, dense.shape[:-1])
        big = rng.uniform(-1, 1, dense.shape)
        fetches = {
            "to_dense": op.to_dense(), "shape": op.shape_tensor(), "matmul": op.matmul(x),
            "matmul_adj": op.matmul(x, adjoint=True), "matmul_adj_arg": op.matmul(np.swapaxes(x, -1, -2),
                                                                                  adjoint_arg=True),
            "matvec": op.matvec(v), "solve": op.solve(x), "solve_adj": op.solve(x, adjoint=True),
            "solve_adj_arg": op.solve(np.swapaxes(x, -1, -2), adjoint_arg=True), "solvevec": op.solvevec(v),
            "det": op.determinant(), "logdet": op.log_abs_determinant(), "diag": op.diag_part(),
            "trace": op.trace(), "add": op.add_to_tensor(big), "adjoint": op.adjoint().to_dense(),
            "H": op.H.to_dense(), "inv": op.inverse().to_dense(),
        }
        got = _run(fetches)
    want = {
        "to_dense": dense, "shape": list(dense.shape), "matmul": dense @ x, "matmul_adj": _h(dense) @ x,
        "matmul_adj_arg": dense @ x, "matvec": np.einsum("...ij,...j->...i", dense, v),
        "solve": np.linalg.solve(dense, x), "solve_adj": np.linalg.solve(_h(dense), x),
        "solve_adj_arg": np.linalg.solve(dense, x), "solvevec": np.linalg.solve(dense, v[..., None])[..., 0],
        "det": np.linalg.det(dense), "logdet": np.linalg.slogdet(dense)[1],
        "diag": np.diagonal(dense, axis1=-2, axis2=-1), "trace": np.trace(dense, axis1=-2, axis2=-1),
        "add": dense + big, "adjoint": _h(dense), "H": _h(dense), "inv": np.linalg.inv(dense),
    }
    for key, value in want.items():
        np.testing.assert_allclose(got[key], value, rtol=1e-10, atol=1e-12, err_msg=f"{label}.{key}")


def test_cholesky_of_positive_definite_operators():
    spd = _spd((2,), 3, seed=6)
    with tf.Graph().as_default():
        full = tf.linalg.LinearOperatorFullMatrix(spd, is_self_adjoint=True, is_positive_definite=True)
        diag = tf.linalg.LinearOperatorDiag([4.0, 9.0], is_positive_definite=True)
        chol = full.cholesky()
        assert isinstance(chol, tf.linalg.LinearOperatorLowerTriangular)
        got, got_diag = _run([chol.to_dense(), diag.cholesky().to_dense()])
        with pytest.raises(ValueError, match="Not a positive definite self adjoint matrix"):
            tf.linalg.LinearOperatorFullMatrix(spd).cholesky()
    np.testing.assert_allclose(got, np.linalg.cholesky(spd), rtol=1e-12)
    np.testing.assert_array_equal(got_diag, np.diag([2.0, 3.0]))


def test_dtypes_hints_and_shape_errors():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="A positive definite matrix is always non-singular."):
            tf.linalg.LinearOperatorFullMatrix(np.eye(2), is_positive_definite=True, is_non_singular=False)
        with pytest.raises(ValueError, match="A non-singular matrix is always square."):
            tf.linalg.LinearOperatorFullMatrix(np.eye(2), is_non_singular=True, is_square=False)
        with pytest.raises(ValueError, match="A real diagonal operator is always self adjoint."):
            tf.linalg.LinearOperatorDiag([1.0, 2.0], is_self_adjoint=False)
        with pytest.raises(TypeError, match="must have dtype"):
            tf.linalg.LinearOperatorFullMatrix(np.eye(2, dtype=np.int32))
        with pytest.raises(ValueError, match="must be non-negative"):
            tf.linalg.LinearOperatorIdentity(-1)
        wide = tf.linalg.LinearOperatorFullMatrix(np.ones((2, 3)))
        assert wide.is_square is False and wide.domain_dimension.value == 3 and wide.range_dimension.value == 2
        with pytest.raises(NotImplementedError, match="expected to not be square"):
            wide.determinant()
        with pytest.raises(TypeError, match="Expected argument to have dtype float64"):
            wide.matmul(np.ones((3, 1), np.float32))
        with pytest.raises(ValueError, match="Operators are incompatible"):
            tf.linalg.LinearOperatorComposition([wide, wide])
        assert tf.linalg.LinearOperatorDiag([1.0]).adjoint().__class__ is tf.linalg.LinearOperatorDiag


def test_identity_checks_rows_at_run_time_with_assert_proper_shapes():
    with tf.Graph().as_default():
        n = tf.placeholder(tf.int32, [])
        x = tf.placeholder(tf.float32, [None, 2])
        op = tf.linalg.LinearOperatorIdentity(n, assert_proper_shapes=True)
        y = op.matmul(x)
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run(y, {n: 3, x: np.ones((3, 2))}), np.ones((3, 2)))
            with pytest.raises(errors.InvalidArgumentError, match="wrong number of rows"):
                sess.run(y, {n: 4, x: np.ones((3, 2))})
        with pytest.raises(ValueError, match="cannot act"):
            tf.linalg.LinearOperatorIdentity(3).matmul(tf.ones([2, 2]))


def test_user_subclass_gets_every_method_from_matmul():
    class Doubling(tf.linalg.LinearOperator):
        def __init__(self, n):
            self._n = n
            super().__init__(tf.float64, is_square=True, name="Doubling")

        def _shape(self):
            return tf.TensorShape([self._n, self._n])

        def _shape_tensor(self):
            return tf.constant([self._n, self._n])

        def _matmul(self, x, adjoint=False, adjoint_arg=False):
            return 2.0 * (tf.linalg.adjoint(x) if adjoint_arg else x)

    with tf.Graph().as_default():
        op = Doubling(3)
        dense, det, solved = _run([op.to_dense(), op.determinant(), op.solve(np.ones((3, 1)))])
    np.testing.assert_allclose(dense, 2 * np.eye(3))
    np.testing.assert_allclose(det, 8.0)
    np.testing.assert_allclose(solved, np.full((3, 1), 0.5))


def test_gradients_flow_through_operators():
    rhs = random_array((3, 2), seed=7)
    check_gradients(lambda d: tf.linalg.LinearOperatorDiag(d).solve(rhs), [np.array([1.5, 2.0, 3.0])])
    check_gradients(lambda m: tf.linalg.LinearOperatorFullMatrix(m).log_abs_determinant(),
                    [random_array((3, 3), seed=8) + 3 * np.eye(3)])
    check_gradients(lambda t: tf.linalg.LinearOperatorLowerTriangular(t).solve(rhs),
                    [random_array((3, 3), seed=9) + 3 * np.eye(3)])


def test_zeros_operator():
    with tf.Graph().as_default():
        square = tf.linalg.LinearOperatorZeros(3, batch_shape=[2], dtype=tf.float64)
        wide = tf.linalg.LinearOperatorZeros(2, num_columns=4)
        assert square.shape.as_list() == [2, 3, 3] and wide.shape.as_list() == [2, 4] and wide.is_square is False
        x = np.ones((3, 5))
        got = _run({"matmul": square.matmul(x), "det": square.determinant(), "dense": wide.to_dense(),
                    "adj": wide.matmul(np.ones((2, 1), np.float32), adjoint=True), "trace": square.trace(),
                    "add": square.add_to_tensor(np.full((2, 3, 3), 7.0)), "diag": wide.diag_part()})
        with pytest.raises(ValueError, match="always singular"):
            tf.linalg.LinearOperatorZeros(2, is_non_singular=True)
        with pytest.raises(NotImplementedError):
            square.solve(x)
    np.testing.assert_array_equal(got["matmul"], np.zeros((2, 3, 5)))
    np.testing.assert_array_equal(got["det"], [0.0, 0.0])
    np.testing.assert_array_equal(got["dense"], np.zeros((2, 4), np.float32))
    np.testing.assert_array_equal(got["adj"], np.zeros((4, 1), np.float32))
    np.testing.assert_array_equal(got["trace"], [0.0, 0.0])
    np.testing.assert_array_equal(got["add"], np.full((2, 3, 3), 7.0))
    np.testing.assert_array_equal(got["diag"], np.zeros(2, np.float32))


def test_kronecker_acts_without_its_dense_matrix():
    with tf.Graph().as_default():
        op = tf.linalg.LinearOperatorKronecker([tf.linalg.LinearOperatorFullMatrix(np.eye(40)),
                                                tf.linalg.LinearOperatorFullMatrix(np.eye(50))])
        y = op.matmul(np.ones((2000, 1)))
        assert y.shape.as_list() == [2000, 1]
        ops = tf.get_default_graph().get_operations()
        assert not any(t.shape.as_list() == [2000, 2000] for o in ops for t in o.outputs if t.shape.is_fully_defined())
        np.testing.assert_array_equal(_run(y), np.ones((2000, 1)))


def test_complex_circulant_and_its_kernel():
    spectrum = np.array([[2.0 + 1.0j, 1.0 - 0.5j, 3.0, -1.0 + 2.0j]])
    kernel = np.fft.ifft(spectrum)
    dense = _circulant_dense(kernel)
    x = (np.arange(8.0) - 2 + 1j * np.arange(8.0)[::-1]).reshape(1, 4, 2)
    with tf.Graph().as_default():
        op = tf.linalg.LinearOperatorCirculant(spectrum, input_output_dtype=tf.complex128)
        assert op.shape.as_list() == [1, 4, 4] and op.block_shape.as_list() == [4]
        got = _run({"dense": op.to_dense(), "matmul": op.matmul(x, adjoint=True), "solve": op.solve(x),
                    "det": op.determinant(), "kernel": op.convolution_kernel()})
        real_op = tf.linalg.LinearOperatorCirculant(np.fft.fft([3.0, 1.0, 0.5]), input_output_dtype=tf.float64)
        _run(real_op.assert_hermitian_spectrum())
        with pytest.raises(errors.InvalidArgumentError, match="Spectrum was not Hermitian"):
            _run(op.assert_hermitian_spectrum())
    np.testing.assert_allclose(got["dense"], dense, atol=1e-12)
    np.testing.assert_allclose(got["matmul"], _h(dense) @ x, atol=1e-12)
    np.testing.assert_allclose(got["solve"], np.linalg.solve(dense, x), atol=1e-12)
    np.testing.assert_allclose(got["det"], np.linalg.det(dense), rtol=1e-12)
    np.testing.assert_allclose(got["kernel"], kernel, atol=1e-12)
