"""tf.linalg: the linear-algebra ops against NumPy (batched, several dtypes) or recorded TensorFlow outputs (the
sign-ambiguous decompositions after normalising signs, expm, sqrtm, lu), their gradients against finite
differences in float64, TF's errors, and the public names against TensorFlow's."""

from __future__ import annotations

import inspect
import json
import os

import numpy as np
import pytest
from gradient_checker import check_against_numpy, check_gradients, random_array

import tfmini as tf
from tfmini.framework import errors

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf")
RNG = np.random.RandomState(3)


def _run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed_dict=feed)


def _square(*batch_and_n, seed=0, dtype=np.float64):
    """Well-conditioned square matrices: random plus n on the diagonal."""
    *batch, n = batch_and_n
    a = random_array((*batch, n, n), np.float64, -1, 1, seed=seed) + n * np.eye(n)
    return a.astype(dtype)


def _spd(*batch_and_n, seed=0):
    a = random_array(batch_and_n[:-1] + (batch_and_n[-1], batch_and_n[-1]), np.float64, -1, 1, seed=seed)
    return a @ np.swapaxes(a, -1, -2) + batch_and_n[-1] * np.eye(batch_and_n[-1])


def _sym(x):
    """A symmetric matrix built from x (for gradients of ops that expect one)."""
    return 0.5 * (x + tf.linalg.adjoint(x))


def _h(a):
    return np.conj(np.swapaxes(a, -1, -2))


# ----------------------------------------------------------------------------------------------------------
# Values against NumPy
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
@pytest.mark.parametrize("shape", [(3,), (2, 4), (2, 1, 2)])
def test_inverse_det_slogdet_match_numpy_on_batches(dtype, shape):
    a = _square(*shape, seed=1).astype(dtype)
    if np.dtype(dtype).kind == "c":
        a = a + 0.5j * _square(*shape, seed=2)
    check_against_numpy(tf.linalg.inv, np.linalg.inv, a)
    check_against_numpy(lambda x: tf.linalg.inv(x, adjoint=True), lambda x: np.linalg.inv(_h(x)), a)
    check_against_numpy(tf.linalg.det, np.linalg.det, a)
    check_against_numpy(lambda x: tf.linalg.slogdet(x).log_abs_determinant, lambda x: np.linalg.slogdet(x)[1],
                        a, expected_dtype=dtype)
    check_against_numpy(lambda x: tf.linalg.slogdet(x).sign, lambda x: np.linalg.slogdet(x)[0], a)


def test_half_precision_inverse_computes_in_float32_and_rounds_back():
    a = _square(3, seed=4, dtype=np.float16)
    got = _run(tf.linalg.inv(tf.constant(a)))
    assert got.dtype == np.float16
    np.testing.assert_allclose(got, np.linalg.inv(a.astype(np.float32)).astype(np.float16), rtol=1e-3)


def test_zero_size_matrices_and_empty_batches():
    assert _run(tf.linalg.det(tf.zeros([0, 0]))) == 1.0
    assert _run(tf.linalg.inv(tf.zeros([2, 0, 0]))).shape == (2, 0, 0)
    assert _run(tf.linalg.cholesky(tf.zeros([0, 3, 3]))).shape == (0, 3, 3)


@pytest.mark.parametrize("shape", [(4,), (2, 3)])
def test_cholesky_reads_the_lower_triangle(shape):
    a = _spd(*shape, seed=5)
    garbage_upper = a + np.triu(np.full(a.shape[-2:], 7.0), 1)
    check_against_numpy(tf.linalg.cholesky, lambda x: np.linalg.cholesky(a), garbage_upper)
    np.testing.assert_allclose(_run(tf.linalg.logdet(a)), np.linalg.slogdet(a)[1], rtol=1e-12)
    rhs = random_array(a.shape[:-1] + (2,), seed=6)
    np.testing.assert_allclose(_run(tf.linalg.cholesky_solve(tf.linalg.cholesky(a), rhs)), np.linalg.solve(a, rhs),
                               rtol=1e-10)


@pytest.mark.parametrize("adjoint", [False, True])
def test_solve_matches_numpy(adjoint):
    a = _square(2, 3, seed=7)
    b = random_array((2, 3, 4), seed=8)
    check_against_numpy(lambda x, y: tf.linalg.solve(x, y, adjoint=adjoint),
                        lambda x, y: np.linalg.solve(_h(x) if adjoint else x, y), a, b, dtypes=[np.float32,
                                                                                                 np.float64])


@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("adjoint", [False, True])
def test_triangular_solve_reads_one_triangle(lower, adjoint):
    a = _square(2, 4, seed=9)
    b = random_array((2, 4, 2), seed=10)
    tri = np.tril(a) if lower else np.triu(a)
    want = np.linalg.solve(_h(tri) if adjoint else tri, b)
    got = _run(tf.linalg.triangular_solve(a, b, lower=lower, adjoint=adjoint))
    np.testing.assert_allclose(got, want, rtol=1e-10)


@pytest.mark.parametrize("shape", [(5, 3), (2, 5, 3), (3, 5)])
@pytest.mark.parametrize("l2", [0.0, 0.5])
def test_lstsq_fast_and_exact(shape, l2):
    a = random_array(shape, seed=11, low=-1, high=1)
    b = random_array(shape[:-1] + (2,), seed=12)
    m, n = shape[-2:]
    if m >= n:
        want = np.linalg.solve(_h(a) @ a + l2 * np.eye(n), _h(a) @ b)
    else:
        want = _h(a) @ np.linalg.solve(a @ _h(a) + l2 * np.eye(m), b)
    np.testing.assert_allclose(_run(tf.linalg.lstsq(a, b, l2_regularizer=l2)), want, rtol=1e-9, atol=1e-12)
    assert tf.matrix_solve_ls is tf.linalg.lstsq
    if l2 == 0.0:
        flat_a, flat_b = a.reshape((-1, m, n)), b.reshape((-1, m, 2))
        exact = np.stack([np.linalg.lstsq(x, y, rcond=None)[0] for x, y in zip(flat_a, flat_b)]).reshape(want.shape)
        np.testing.assert_allclose(_run(tf.linalg.lstsq(a, b, fast=False)), exact, rtol=1e-9, atol=1e-12)


def test_lstsq_exact_minimum_norm_on_rank_deficient_matrix():
    a = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
    b = np.array([[1.0], [2.0], [3.0]])
    np.testing.assert_allclose(_run(tf.linalg.lstsq(a, b, fast=False)), np.linalg.pinv(a) @ b, rtol=1e-12)


def test_cross_matches_numpy_for_floats_and_ints():
    a, b = random_array((4, 3), seed=13), random_array((4, 3), seed=14)
    check_against_numpy(tf.linalg.cross, np.cross, a, b, dtypes=[np.float32, np.float64, np.int32])
    assert tf.cross is tf.linalg.cross


def test_eigvalsh_and_svd_values_match_numpy():
    a = random_array((2, 4, 4), seed=15)
    sym = a + np.swapaxes(a, -1, -2)
    check_against_numpy(tf.linalg.eigvalsh, lambda x: np.linalg.eigvalsh(x), sym, dtypes=[np.float32, np.float64],
                        rtol=1e-4)
    tall = random_array((3, 5, 2), seed=16)
    check_against_numpy(lambda x: tf.linalg.svd(x, compute_uv=False), lambda x: np.linalg.svd(x, compute_uv=False),
                        tall, dtypes=[np.float32, np.float64], rtol=1e-4)


def test_decomposition_output_shapes_are_tf_shapes():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [2, 5, 3])
        s, u, v = tf.linalg.svd(x)
        assert (s.shape.as_list(), u.shape.as_list(), v.shape.as_list()) == ([2, 3], [2, 5, 3], [2, 3, 3])
        s, u, v = tf.linalg.svd(x, full_matrices=True)
        assert (u.shape.as_list(), v.shape.as_list()) == ([2, 5, 5], [2, 3, 3])
        q, r = tf.linalg.qr(x)
        assert (q.shape.as_list(), r.shape.as_list()) == ([2, 5, 3], [2, 3, 3])
        op = tf.linalg.svd(x, compute_uv=False).op
        assert [t.shape.as_list() for t in op.outputs] == [[2, 3], [0], [0]]
        assert tf.linalg.eigvalsh(tf.placeholder(tf.float32, [4, 3, 3])).op.outputs[1].shape.as_list() == [0]
        e, v = tf.linalg.eigh(tf.placeholder(tf.float32, [None, 3, 3]))
        assert (e.shape.as_list(), v.shape.as_list()) == ([None, 3], [None, 3, 3])
        assert tf.linalg.det(tf.placeholder(tf.float32, [4, 2, 2])).shape.as_list() == [4]
        assert tf.linalg.solve(tf.placeholder(tf.float32, [3, 3]), tf.placeholder(tf.float32, [3, 7])).shape == [3, 7]
        assert tf.linalg.lstsq(tf.placeholder(tf.float32, [6, 3]), tf.placeholder(tf.float32, [6, 2])).shape == [3, 2]
        lu, p = tf.linalg.lu(tf.placeholder(tf.float32, [2, 4, 4]), output_idx_type=tf.int64)
        assert (lu.shape.as_list(), p.shape.as_list(), p.dtype) == ([2, 4, 4], [2, 4], tf.int64)


def test_qr_and_svd_and_eigh_reconstruct_their_input():
    a = random_array((2, 5, 3), seed=17)
    q, r = _run(tf.linalg.qr(a))
    np.testing.assert_allclose(q @ r, a, atol=1e-12)
    np.testing.assert_allclose(np.tril(r, -1), 0.0, atol=0)
    s, u, v = _run(tf.linalg.svd(a))
    np.testing.assert_allclose((u * s[..., None, :]) @ _h(v), a, atol=1e-12)
    sym = _spd(2, 3, seed=18)
    e, v = _run(tf.linalg.eigh(sym))
    np.testing.assert_allclose((v * e[..., None, :]) @ _h(v), sym, atol=1e-12)
    assert np.all(np.diff(e, axis=-1) >= 0)


def test_complex_decompositions_reconstruct():
    a = random_array((4, 3), seed=19) + 1j * random_array((4, 3), seed=20)
    s, u, v = _run(tf.linalg.svd(a))
    assert s.dtype == np.float64
    np.testing.assert_allclose((u * s) @ _h(v), a, atol=1e-12)
    herm = a.T.conj() @ a + np.eye(3)
    np.testing.assert_allclose(_run(tf.linalg.cholesky(herm)), np.linalg.cholesky(herm), atol=1e-12)


def test_composites_match_numpy():
    a = random_array((2, 4, 3), seed=21)
    np.testing.assert_allclose(_run(tf.linalg.pinv(a)), np.linalg.pinv(a), rtol=1e-9, atol=1e-12)
    deficient = np.array([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(_run(tf.linalg.pinv(deficient)), np.linalg.pinv(deficient), atol=1e-12)
    assert _run(tf.linalg.matrix_rank(deficient)) == 1
    np.testing.assert_array_equal(_run(tf.linalg.matrix_rank(a)), [3, 3])
    sq = random_array((2, 3, 3), seed=22)
    np.testing.assert_allclose(_run(tf.linalg.trace(sq)), np.trace(sq, axis1=-2, axis2=-1))
    assert tf.trace is tf.linalg.trace
    v = random_array((2, 3), seed=23)
    np.testing.assert_allclose(_run(tf.linalg.matvec(sq, v)), np.einsum("bij,bj->bi", sq, v))
    np.testing.assert_allclose(_run(tf.linalg.matvec(sq, v, adjoint_a=True)), np.einsum("bji,bj->bi", sq, v))
    c = sq + 1j * sq[::-1]
    np.testing.assert_array_equal(_run(tf.linalg.adjoint(c)), _h(c))
    np.testing.assert_array_equal(_run(tf.linalg.matrix_transpose(c)), np.swapaxes(c, -1, -2))
    np.testing.assert_array_equal(_run(tf.matrix_transpose(tf.placeholder_with_default(sq, None))),
                                  np.swapaxes(sq, -1, -2))
    normalized, norm = _run(tf.linalg.normalize(v, axis=-1))
    np.testing.assert_allclose(norm, np.linalg.norm(v, axis=-1, keepdims=True))
    np.testing.assert_allclose(normalized, v / norm)


def test_eye_shapes_and_dtypes():
    np.testing.assert_array_equal(_run(tf.eye(3)), np.eye(3, dtype=np.float32))
    got = _run(tf.linalg.eye(2, num_columns=4, batch_shape=[3], dtype=tf.float64))
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, np.broadcast_to(np.eye(2, 4), (3, 2, 4)))
    with tf.Graph().as_default():
        assert tf.eye(3, batch_shape=[2]).shape.as_list() == [2, 3, 3]
        n = tf.placeholder(tf.int32, [])
        assert _run(tf.eye(n, 2, dtype=tf.int32), {n: 3}).tolist() == [[1, 0], [0, 1], [0, 0]]


def test_lu_and_its_solves():
    a = _square(2, 4, seed=24)
    lu, p = _run(tf.linalg.lu(a))
    assert p.dtype == np.int32
    lower = np.tril(lu, -1) + np.eye(4)
    upper = np.triu(lu)
    np.testing.assert_allclose(lower @ upper, np.take_along_axis(a, p[..., None], axis=-2), atol=1e-12)
    np.testing.assert_allclose(_run(tf.linalg.lu_reconstruct(lu, p)), a, atol=1e-12)
    rhs = random_array((2, 4, 3), seed=25)
    np.testing.assert_allclose(_run(tf.linalg.lu_solve(lu, p, rhs)), np.linalg.solve(a, rhs), atol=1e-12)
    np.testing.assert_allclose(_run(tf.linalg.lu_matrix_inverse(lu, p)), np.linalg.inv(a), atol=1e-12)


def test_diag_family_with_k():
    d = np.arange(1.0, 7.0).reshape(2, 3)
    got = _run(tf.linalg.diag(d, k=1))
    want = np.stack([np.diag(row, 1) for row in d])
    np.testing.assert_array_equal(got, want)
    x = random_array((2, 3, 4), seed=26)
    np.testing.assert_array_equal(_run(tf.linalg.diag_part(x)), np.diagonal(x, axis1=-2, axis2=-1))
    np.testing.assert_array_equal(_run(tf.linalg.diag_part(x, k=1)), np.diagonal(x, 1, axis1=-2, axis2=-1))
    new = _run(tf.linalg.set_diag(x, np.zeros((2, 3))))
    np.testing.assert_array_equal(np.diagonal(new, axis1=-2, axis2=-1), 0.0)
    np.testing.assert_array_equal(_run(tf.linalg.band_part(x, 0, 1)), np.triu(np.tril(x, 1)))
    assert tf.linalg.band_part is tf.matrix_band_part


def _tridiagonal(batch, m, seed):
    sup, main, sub = (random_array((*batch, m), seed=seed + i) for i in range(3))
    main = main + 4.0
    dense = np.zeros((*batch, m, m))
    idx = np.arange(m)
    dense[..., idx, idx] = main
    dense[..., idx[:-1], idx[1:]] = sup[..., :-1]
    dense[..., idx[1:], idx[:-1]] = sub[..., 1:]
    return sup, main, sub, dense


@pytest.mark.parametrize("pivoting", [True, False])
def test_tridiagonal_solve_in_every_format(pivoting):
    sup, main, sub, dense = _tridiagonal((2,), 5, seed=60)
    rhs = random_array((2, 5, 3), seed=63)
    want = np.linalg.solve(dense, rhs)
    compact = np.stack([sup, main, sub], -2)
    for diagonals, fmt in ((compact, "compact"), ([sup, main, sub], "sequence"), (dense, "matrix")):
        got = _run(tf.linalg.tridiagonal_solve(diagonals, rhs, diagonals_format=fmt, partial_pivoting=pivoting))
        np.testing.assert_allclose(got, want, rtol=1e-10, err_msg=fmt)
    vector = _run(tf.linalg.tridiagonal_solve(compact, rhs[..., 0]))
    np.testing.assert_allclose(vector, want[..., 0], rtol=1e-10)
    transposed = _run(tf.linalg.tridiagonal_solve(compact, np.swapaxes(rhs, -1, -2), transpose_rhs=True))
    np.testing.assert_allclose(transposed, want, rtol=1e-10)
    with tf.Graph().as_default():
        x = tf.linalg.tridiagonal_solve(tf.placeholder(tf.float32, [2, 3, 5]), tf.placeholder(tf.float32, [2, 5, 4]))
        assert (x.op.type, x.shape.as_list()) == ("TridiagonalSolve", [2, 5, 4])
        with pytest.raises(ValueError, match="Dimension must be 3 but is 2"):
            tf.linalg.tridiagonal_solve(tf.ones([2, 3]), tf.ones([3, 1]))


def test_tridiagonal_solve_errors():
    zero_pivot = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0], [0.0, 1.0, 1.0]])  # main diagonal 0, 1, 1: pivots
    singular = np.array([[1.0, 2.0, 0.0], [0.0, 0.0, 0.0], [0.0, 3.0, 4.0]])
    with pytest.raises(errors.InvalidArgumentError, match="requires pivoting"):
        _run(tf.linalg.tridiagonal_solve(zero_pivot, np.ones((3, 1)), partial_pivoting=False))
    np.testing.assert_allclose(_run(tf.linalg.tridiagonal_solve(zero_pivot, np.ones((3, 1)))).ravel(),
                               np.linalg.solve(np.array([[0.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 1.0]]),
                                               np.ones(3)))
    with pytest.raises(errors.InvalidArgumentError, match="The matrix is not invertible."):
        _run(tf.linalg.tridiagonal_solve(singular, np.ones((3, 1))))


def test_tridiagonal_matmul_in_every_format():
    sup, main, sub, dense = _tridiagonal((3,), 4, seed=64)
    rhs = random_array((3, 4, 2), seed=67)
    want = dense @ rhs
    for diagonals, fmt in ((np.stack([sup, main, sub], -2), "compact"), ([sup, main, sub], "sequence"),
                           (dense, "matrix")):
        np.testing.assert_allclose(_run(tf.linalg.tridiagonal_matmul(diagonals, rhs, diagonals_format=fmt)), want,
                                   rtol=1e-12, err_msg=fmt)


def test_tridiagonal_gradients():
    sup, main, sub, _ = _tridiagonal((2,), 4, seed=68)
    rhs = random_array((2, 4, 2), seed=71)
    check_gradients(lambda d, b: tf.linalg.tridiagonal_solve(d, b), [np.stack([sup, main, sub], -2), rhs])
    check_gradients(lambda d, b: tf.linalg.tridiagonal_solve(d, b, partial_pivoting=False),
                    [np.stack([sup, main, sub], -2), rhs])
    check_gradients(lambda a, b, c, x: tf.linalg.tridiagonal_matmul([a, b, c], x, diagonals_format="sequence"),
                    [sup, main, sub, rhs])


def test_sqrtm_of_spd_squares_back_and_real_input_with_negative_eigenvalue_is_nan():
    a = _spd(2, 3, seed=27)
    root = _run(tf.linalg.sqrtm(a))
    np.testing.assert_allclose(root @ root, a, rtol=1e-10)
    assert np.all(np.isnan(_run(tf.linalg.sqrtm(np.diag([-1.0, 4.0])))))


def test_expm_of_known_matrices():
    rotation = np.array([[0.0, -1.0], [1.0, 0.0]]) * 0.7
    np.testing.assert_allclose(_run(tf.linalg.expm(rotation)),
                               [[np.cos(0.7), -np.sin(0.7)], [np.sin(0.7), np.cos(0.7)]], rtol=1e-14)
    diag = np.diag([-40.0, 0.001, 12.0])
    np.testing.assert_allclose(_run(tf.linalg.expm(diag)), np.diag(np.exp([-40.0, 0.001, 12.0])), rtol=1e-12)
    assert _run(tf.linalg.expm(tf.zeros([2, 3, 3], tf.float16))).dtype == np.float16


# ----------------------------------------------------------------------------------------------------------
# Against TensorFlow's recorded outputs
# ----------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tf_cases():
    with np.load(os.path.join(FIXTURES, "linalg", "cases.npz")) as f:
        return {k: f[k] for k in f.files}


def _column_signs(ref, got):
    """Flips got's columns to ref's signs (each column of a decomposition is defined up to sign)."""
    signs = np.sign(np.sum(ref * got, axis=-2, keepdims=True))
    return got * np.where(signs == 0, 1, signs)


@pytest.mark.parametrize("name,full", [("qr_tall", False), ("qr_tall_full", True), ("qr_wide", False)])
def test_qr_matches_tensorflow_up_to_signs(tf_cases, name, full):
    a = tf_cases[f"{name}/in"]
    q, r = _run(tf.linalg.qr(a, full_matrices=full))
    tq, tr = tf_cases[f"{name}/out0"], tf_cases[f"{name}/out1"]
    assert q.shape == tq.shape and r.shape == tr.shape
    k = min(a.shape[-2:])
    signs = np.sign(np.sum(tq[..., :k] * q[..., :k], axis=-2))  # one sign per column of Q and row of R
    np.testing.assert_allclose(q[..., :k] * signs[..., None, :], tq[..., :k], atol=1e-12)
    np.testing.assert_allclose(r[..., :k, :] * signs[..., :, None], tr[..., :k, :], atol=1e-12)


@pytest.mark.parametrize("name,full", [("svd_tall", False), ("svd_wide_full", True)])
def test_svd_matches_tensorflow_up_to_signs(tf_cases, name, full):
    a = tf_cases[f"{name}/in"]
    s, u, v = _run(tf.linalg.svd(a, full_matrices=full))
    ts, tu, tv = (tf_cases[f"{name}/out{j}"] for j in range(3))
    np.testing.assert_allclose(s, ts, rtol=1e-12)
    k = s.shape[-1]
    signs = np.sign(np.sum(tu[..., :k] * u[..., :k], axis=-2, keepdims=True))
    np.testing.assert_allclose(u[..., :k] * signs, tu[..., :k], atol=1e-12)
    np.testing.assert_allclose(v[..., :k] * signs, tv[..., :k], atol=1e-12)
    assert u.shape == tu.shape and v.shape == tv.shape
    s32 = _run(tf.linalg.svd(tf_cases["svd_values_f32/in"], compute_uv=False))
    np.testing.assert_allclose(s32, tf_cases["svd_values_f32/out0"], rtol=1e-5)


@pytest.mark.parametrize("name,rtol", [("eigh", 1e-12), ("eigh_f32", 1e-4)])
def test_eigh_matches_tensorflow_up_to_signs(tf_cases, name, rtol):
    e, v = _run(tf.linalg.eigh(tf_cases[f"{name}/in"]))
    te, tv = tf_cases[f"{name}/out0"], tf_cases[f"{name}/out1"]
    assert e.dtype == te.dtype
    np.testing.assert_allclose(e, te, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(_column_signs(tv, v), tv, rtol=rtol, atol=rtol * 10)


def test_expm_matches_tensorflow(tf_cases):
    names = sorted({k.split("/")[0] for k in tf_cases if k.startswith("expm")})
    assert len(names) == 13
    for name in names:
        a = tf_cases[f"{name}/in"]
        got = _run(tf.linalg.expm(a))
        want = tf_cases[f"{name}/out0"]
        assert got.dtype == want.dtype, name
        tol = 1e-5 if a.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max(), err_msg=name)


def test_sqrtm_logm_and_lu_match_tensorflow(tf_cases):
    for name in ("sqrtm", "sqrtm_nonsymmetric"):
        np.testing.assert_allclose(_run(tf.linalg.sqrtm(tf_cases[f"{name}/in"])), tf_cases[f"{name}/out0"],
                                   rtol=1e-10, err_msg=name)
    np.testing.assert_allclose(_run(tf.linalg.logm(tf_cases["logm_c128/in"])), tf_cases["logm_c128/out0"],
                               rtol=1e-10, atol=1e-12)
    lu, p = _run(tf.linalg.lu(tf_cases["lu/in"]))
    np.testing.assert_array_equal(p, tf_cases["lu/out1"])
    np.testing.assert_allclose(lu, tf_cases["lu/out0"], rtol=1e-12, atol=1e-14)


# ----------------------------------------------------------------------------------------------------------
# Gradients against finite differences (float64)
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("adjoint", [False, True])
def test_inverse_gradient(adjoint):
    check_gradients(lambda x: tf.linalg.inv(x, adjoint=adjoint), [_square(2, 3, seed=30)])


def test_determinant_gradients():
    a = _square(2, 3, seed=31)
    check_gradients(tf.linalg.det, [a])
    check_gradients(lambda x: tf.linalg.slogdet(x).log_abs_determinant, [a - 3.5 * np.eye(3)])
    check_gradients(lambda x: tf.linalg.logdet(_sym(x)), [_spd(2, 3, seed=32)])


def test_cholesky_gradient():
    check_gradients(lambda x: tf.linalg.cholesky(_sym(x)), [_spd(2, 3, seed=33)])


def test_qr_gradient():
    check_gradients(lambda x: list(tf.linalg.qr(x)), [random_array((2, 4, 3), seed=34)])
    check_gradients(lambda x: list(tf.linalg.qr(x)), [_square(3, seed=35)])
    with tf.Graph().as_default():
        q, r = tf.linalg.qr(tf.placeholder(tf.float64, [2, 3]))
        with pytest.raises(NotImplementedError):
            tf.gradients(q, q.op.inputs[0])


@pytest.mark.parametrize("shape", [(2, 4, 3), (3, 5), (3, 3)])
def test_svd_gradient(shape):
    a = random_array(shape, seed=36)

    def sign_free(x):
        s, u, v = tf.linalg.svd(x)
        # Columns of U and V are defined up to a shared sign: u_i v_i^T and u_i * u_0i are not.
        return [s, tf.matmul(u * s[..., None, :], v, adjoint_b=True), u * u[..., :1, :], v * v[..., :1, :]]

    check_gradients(sign_free, [a], rtol=1e-5, atol=1e-6)
    check_gradients(lambda x: tf.linalg.svd(x, compute_uv=False), [a])


def test_self_adjoint_eig_gradient():
    def sign_free(x):
        e, v = tf.linalg.eigh(x)
        return [e, v * v[..., :1, :]]

    a = random_array((2, 3, 3), seed=37)
    # The op reads the lower triangle only, so the raw (non-symmetric) input is differentiated.
    check_gradients(sign_free, [a + np.swapaxes(a, -1, -2)])
    check_gradients(tf.linalg.eigvalsh, [a + np.swapaxes(a, -1, -2)])


@pytest.mark.parametrize("adjoint", [False, True])
def test_solve_gradient(adjoint):
    check_gradients(lambda a, b: tf.linalg.solve(a, b, adjoint=adjoint),
                    [_square(2, 3, seed=38), random_array((2, 3, 2), seed=39)])


@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("adjoint", [False, True])
def test_triangular_solve_gradient(lower, adjoint):
    check_gradients(lambda a, b: tf.linalg.triangular_solve(a, b, lower=lower, adjoint=adjoint),
                    [_square(2, 3, seed=40), random_array((2, 3, 2), seed=41)])


@pytest.mark.parametrize("shape", [(5, 3), (3, 5)])
def test_lstsq_gradient(shape):
    a = random_array(shape, seed=42, low=-1, high=1)
    b = random_array(shape[:-1] + (2,), seed=43)
    check_gradients(lambda x, y: tf.linalg.lstsq(x, y, l2_regularizer=0.3), [a, b])
    check_gradients(lambda x, y: tf.linalg.lstsq(x, y), [a, b])


def test_cross_band_part_trace_norm_gradients():
    check_gradients(tf.linalg.cross, [random_array((2, 3), seed=44), random_array((2, 3), seed=45)])
    check_gradients(lambda x: tf.linalg.band_part(x, 1, 0), [random_array((2, 3, 3), seed=46)])
    check_gradients(tf.linalg.trace, [random_array((2, 3, 3), seed=47)])
    check_gradients(lambda x: tf.linalg.norm(x, axis=[-2, -1]), [random_array((2, 3, 3), seed=48)])


def test_sqrtm_expm_pinv_gradients():
    check_gradients(tf.linalg.sqrtm, [_spd(3, seed=49)])
    check_gradients(tf.linalg.expm, [random_array((2, 3, 3), seed=50, low=-1.5, high=1.5)], rtol=1e-5)
    check_gradients(tf.linalg.expm, [random_array((3, 3), seed=51, low=-0.05, high=0.05)])
    check_gradients(tf.linalg.pinv, [random_array((4, 3), seed=52)])


# ----------------------------------------------------------------------------------------------------------
# Errors as TensorFlow raises them
# ----------------------------------------------------------------------------------------------------------
def test_non_square_input_is_a_value_error_at_graph_time():
    with tf.Graph().as_default():
        for fn in (tf.linalg.inv, tf.linalg.det, tf.linalg.cholesky, tf.linalg.eigh, tf.linalg.slogdet):
            with pytest.raises(ValueError, match="Dimensions must be equal, but are 2 and 3"):
                fn(tf.ones([2, 3]))
        with pytest.raises(ValueError, match="Dimension must be 3 but is 4"):
            tf.linalg.cross(tf.ones([2, 4]), tf.ones([2, 4]))
        with pytest.raises(TypeError):
            tf.linalg.inv(tf.ones([2, 2], tf.int32))


def test_run_time_errors_name_the_op_and_leave_the_session_usable():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64)
        rhs = tf.placeholder(tf.float64)
        inv, chol, solve, det = tf.linalg.inv(x), tf.linalg.cholesky(x), tf.linalg.solve(x, rhs), tf.linalg.det(x)
        cross = tf.linalg.cross(x, rhs)
        singular = np.array([[1.0, 2.0], [2.0, 4.0]])
        with tf.Session() as sess:
            with pytest.raises(errors.InvalidArgumentError, match="Input is not invertible.") as info:
                sess.run(inv, {x: singular})
            assert info.value.op.type == "MatrixInverse"
            with pytest.raises(errors.InvalidArgumentError,
                               match="Cholesky decomposition was not successful. The input might not be valid."):
                sess.run(chol, {x: np.array([[1.0, 2.0], [2.0, 1.0]])})
            with pytest.raises(errors.InvalidArgumentError, match="Input matrix is not invertible."):
                sess.run(solve, {x: singular, rhs: np.ones((2, 1))})
            with pytest.raises(errors.InvalidArgumentError, match="Input matrix and rhs are incompatible."):
                sess.run(solve, {x: np.eye(2), rhs: np.ones((3, 1))})
            with pytest.raises(errors.InvalidArgumentError, match="Input matrix must be square."):
                sess.run(det, {x: np.ones((2, 3))})
            with pytest.raises(errors.FailedPreconditionError, match="only defined for 3-element vectors"):
                sess.run(cross, {x: np.ones((2, 4)), rhs: np.ones((2, 4))})
            with pytest.raises(errors.InvalidArgumentError, match="not invertible"):
                sess.run(tf.linalg.triangular_solve(x, rhs), {x: np.zeros((2, 2)), rhs: np.ones((2, 1))})
            np.testing.assert_allclose(sess.run(inv, {x: np.eye(2) * 2}), np.eye(2) / 2)


def test_kernels_leave_their_inputs_untouched():
    a = _square(4, seed=53)
    a.setflags(write=False)
    keep = a.copy()
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64)
        outs = [tf.linalg.lu(x).lu, tf.linalg.inv(x), tf.linalg.cholesky(_sym(x) + 8 * tf.eye(4, dtype=tf.float64)),
                tf.linalg.triangular_solve(x, x), tf.linalg.qr(x).q, tf.linalg.sqrtm(tf.matmul(x, x, transpose_b=True))]
        _run(outs, {x: a})
    np.testing.assert_array_equal(a, keep)


# ----------------------------------------------------------------------------------------------------------
# Graphs and names as TensorFlow's
# ----------------------------------------------------------------------------------------------------------
def test_wrappers_create_tf_op_types():
    with tf.Graph().as_default():
        a = tf.ones([3, 3], tf.float64)
        made = {
            "MatrixInverse": tf.matrix_inverse(a), "MatrixDeterminant": tf.matrix_determinant(a),
            "LogMatrixDeterminant": tf.linalg.slogdet(a).sign, "Cholesky": tf.cholesky(a), "Qr": tf.qr(a).q,
            "Svd": tf.svd(a)[0], "SelfAdjointEigV2": tf.self_adjoint_eigvals(a), "MatrixSolve": tf.matrix_solve(a, a),
            "MatrixTriangularSolve": tf.matrix_triangular_solve(a, a), "MatrixSolveLs": tf.matrix_solve_ls(a, a),
            "Cross": tf.cross(a, a), "MatrixSquareRoot": tf.matrix_square_root(a), "Lu": tf.linalg.lu(a).p,
            "MatrixLogarithm": tf.linalg.logm(tf.ones([2, 2], tf.complex64)),
            "TridiagonalSolve": tf.linalg.tridiagonal_solve(tf.ones([3, 3], tf.float64), a),
            "TridiagonalMatMul": tf.linalg.tridiagonal_matmul(tf.ones([3, 3], tf.float64), a),
        }
        for op_type, t in made.items():
            assert t.op.type == op_type


def _tf_api():
    with open(os.path.join(FIXTURES, "api", "v1_api.json")) as f:
        return json.load(f)


# tf.linalg names of TF 2.x's v1 API that TF 1.15 does not have, left out.
_NOT_BUILT = {"eigh_tridiagonal", "LinearOperatorBlockLowerTriangular", "LinearOperatorPermutation",
              "LinearOperatorTridiag"}


def _parameter_names(signature: str) -> list[str]:
    """The parameter names of a recorded signature "(a: Annotated[Any, ~T], b=1, *inputs, **kwargs) -> ..."."""
    depth, part, parts = 0, "", []
    for ch in signature[1:signature.rindex(")") if "->" not in signature else signature.index(") ->")]:
        depth += ch in "[(" and 1 or (-1 if ch in "])" else 0)
        if ch == "," and depth == 0:
            parts.append(part)
            part = ""
        else:
            part += ch
    parts.append(part)
    return [p.strip().split(":")[0].split("=")[0].lstrip("*") for p in parts if p.strip()]


def test_every_tf_linalg_function_exists_with_tf_signature():
    api = _tf_api()
    for full in api["names"]:
        if not full.startswith("tf.linalg."):
            continue
        name = full[len("tf.linalg."):]
        if name in _NOT_BUILT:
            assert not hasattr(tf.linalg, name), f"tf.linalg.{name} exists: take it off _NOT_BUILT"
            continue
        fn = getattr(tf.linalg, name)
        tf_sig = api["signatures"].get(full)
        if tf_sig is None:
            continue
        ours = [p.name for p in inspect.signature(fn).parameters.values()]
        theirs = _parameter_names(tf_sig)
        # TF 2.x added these arguments; TF 1.15's functions have none of them.
        theirs = [p for p in theirs if p not in ("output_type", "grad_a", "grad_b", "perturb_singular")]
        assert ours == theirs, (name, ours, theirs)


def test_tf1_top_level_names_are_the_tf_linalg_functions():
    pairs = {
        "matrix_inverse": "inv", "matrix_determinant": "det", "cholesky": "cholesky",
        "cholesky_solve": "cholesky_solve",
        "qr": "qr", "svd": "svd", "self_adjoint_eig": "eigh", "self_adjoint_eigvals": "eigvalsh",
        "matrix_solve": "solve", "matrix_solve_ls": "lstsq", "matrix_triangular_solve": "triangular_solve",
        "matrix_band_part": "band_part", "matrix_transpose": "matrix_transpose", "trace": "trace", "norm": "norm",
        "eye": "eye", "cross": "cross", "einsum": "einsum", "tensordot": "tensordot", "matmul": "matmul",
        "matrix_square_root": "sqrtm", "global_norm": "global_norm", "diag": "tensor_diag",
        "diag_part": "tensor_diag_part",
    }
    for top, linalg_name in pairs.items():
        assert getattr(tf, top) is getattr(tf.linalg, linalg_name), top
    assert tf.linalg.transpose is tf.linalg.matrix_transpose
    assert tf.linalg.l2_normalize is tf.nn.l2_normalize is tf.math.l2_normalize


def _eigh_phase_free(a):
    """The eigenvalues and |v|^2 of the eigenvectors (a complex eigenvector is defined up to a phase)."""
    e, v = tf.linalg.eigh(a)
    return [e, tf.math.real(v * tf.math.conj(v))]


def _qr_phase_free(a):
    """|q|^2 and |r|^2: a complex QR is defined up to a phase per column of Q (and row of R)."""
    q, r = tf.linalg.qr(a)
    return [tf.math.real(q * tf.math.conj(q)), tf.math.real(r * tf.math.conj(r))]


def _svd_phase_free(a):
    """s, |u|^2, |v|^2 and U diag(s) V^H: a complex SVD is defined up to a phase per singular pair."""
    s, u, v = tf.linalg.svd(a)
    product = tf.matmul(u * tf.cast(s, u.dtype)[..., None, :], v, adjoint_b=True)
    return [s, tf.math.real(u * tf.math.conj(u)), tf.math.real(v * tf.math.conj(v)), tf.math.real(product)]


# Complex inputs: tf.gradients against TensorFlow's recorded values (its convention for complex gradients).
_COMPLEX_GRADIENTS = {
    "grad_inv": lambda a: [tf.linalg.inv(a)],
    "grad_inv_adjoint": lambda a: [tf.linalg.inv(a, adjoint=True)],
    "grad_det": lambda a: [tf.linalg.det(a)],
    "grad_slogdet": lambda a: [tf.linalg.slogdet(a).log_abs_determinant],
    "grad_solve": lambda a, b: [tf.linalg.solve(a, b)],
    "grad_solve_adjoint": lambda a, b: [tf.linalg.solve(a, b, adjoint=True)],
    "grad_triangular_solve": lambda a, b: [tf.linalg.triangular_solve(a, b, adjoint=True)],
    "grad_cholesky": lambda a: [tf.linalg.cholesky(a)],
    "grad_eigvalsh": lambda a: [tf.linalg.eigvalsh(a)],
    "grad_eigh": _eigh_phase_free,
    "grad_qr": _qr_phase_free,
    "grad_svd": _svd_phase_free,
    "grad_svd_wide": _svd_phase_free,
    "grad_lstsq_tall": lambda a, b: [tf.linalg.lstsq(a, b)],
    "grad_lstsq_wide": lambda a, b: [tf.linalg.lstsq(a, b)],
    "grad_sqrtm": lambda a: [tf.linalg.sqrtm(a)],
    "grad_tridiagonal_solve": lambda d, b: [tf.linalg.tridiagonal_solve(d, b)],
    "grad_tridiagonal_matmul": lambda d, b: [tf.linalg.tridiagonal_matmul(d, b)],
}


@pytest.mark.parametrize("name", sorted(_COMPLEX_GRADIENTS))
def test_complex_gradients_match_tensorflow(tf_cases, name):
    n_in = len([k for k in tf_cases if k.startswith(f"{name}/in")])
    values = [tf_cases[f"{name}/in{j}"] for j in range(n_in)]
    with tf.Graph().as_default():
        xs = [tf.constant(v) for v in values]
        ys = _COMPLEX_GRADIENTS[name](*xs)
        grad_ys = [tf.constant(tf_cases[f"{name}/grad_ys{k}"]) for k in range(len(ys))]
        got = _run(tf.gradients(ys, xs, grad_ys=grad_ys))
    for j, g in enumerate(got):
        np.testing.assert_allclose(g, tf_cases[f"{name}/grad{j}"], rtol=1e-9, atol=1e-10, err_msg=f"{name} x{j}")


def test_lstsq_refuses_regularized_complex128_as_tf():
    with tf.Graph().as_default():
        with pytest.raises(NotImplementedError, match="disabled for complex128"):
            tf.linalg.lstsq(np.eye(2, dtype=np.complex128), np.ones((2, 1), np.complex128), l2_regularizer=0.5)
