"""Records TensorFlow's outputs for tests/ops/test_linalg_ops.py where NumPy is not the natural reference: the
sign-ambiguous decompositions (Qr, Svd, SelfAdjointEigV2, compared after normalising signs), the matrix
exponential (tf.linalg.expm), the matrix square root, the LU decomposition with its pivots, and gradients of
complex inputs (TF's convention for them).

Run with the TensorFlow environment: /work/tfenv/bin/python tools/tf_fixtures/gen_linalg.py
Writes tests/fixtures/tf/linalg/cases.npz: "<name>/in" the input, "<name>/out<j>" TF's outputs; for gradient
cases "<name>/in<j>", "<name>/grad_ys<k>" and "<name>/grad<j>".
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "tf", "linalg")
RNG = np.random.RandomState(7)


def cases():
    tall = RNG.uniform(-1, 1, (2, 4, 3))
    wide = RNG.uniform(-1, 1, (3, 5))
    square = RNG.uniform(-1, 1, (2, 3, 3))
    sym = square + np.swapaxes(square, -1, -2)
    spd = square @ np.swapaxes(square, -1, -2) + 3 * np.eye(3)
    yield "qr_tall", tall, lambda x: tf.linalg.qr(x)
    yield "qr_tall_full", tall, lambda x: tf.linalg.qr(x, full_matrices=True)
    yield "qr_wide", wide, lambda x: tf.linalg.qr(x)
    yield "svd_tall", tall, lambda x: tf.linalg.svd(x)
    yield "svd_wide_full", wide, lambda x: tf.linalg.svd(x, full_matrices=True)
    yield "svd_values_f32", tall.astype(np.float32), lambda x: [tf.linalg.svd(x, compute_uv=False)]
    yield "eigh", sym, lambda x: tf.linalg.eigh(x)
    yield "eigh_f32", sym.astype(np.float32), lambda x: tf.linalg.eigh(x)
    for scale in (0.005, 0.2, 0.8, 1.5, 4.0, 30.0):
        yield f"expm_{scale}", scale * square, lambda x: [tf.linalg.expm(x)]
        yield f"expm_f32_{scale}", (scale * square).astype(np.float32), lambda x: [tf.linalg.expm(x)]
    yield "expm_c128", square[0] + 1j * square[1], lambda x: [tf.linalg.expm(x)]
    yield "sqrtm", spd, lambda x: [tf.linalg.sqrtm(x)]
    rot = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 2.0]]) + 2 * np.eye(3)
    yield "sqrtm_nonsymmetric", rot, lambda x: [tf.linalg.sqrtm(x)]
    yield "lu", RNG.uniform(-1, 1, (2, 4, 4)), lambda x: list(tf.linalg.lu(x))
    yield "logm_c128", (spd[0] + 0.3j * sym[0]).astype(np.complex128), lambda x: [tf.linalg.logm(x)]


def qr_phase_free(a):
    """|q|^2 and |r|^2: a complex QR is defined up to a phase per column of Q (and row of R)."""
    q, r = tf.linalg.qr(a)
    return [tf.math.real(q * tf.math.conj(q)), tf.math.real(r * tf.math.conj(r))]


def svd_phase_free(a):
    """s, |u|^2, |v|^2 and U diag(s) V^H: a complex SVD is defined up to a phase per singular pair."""
    s, u, v = tf.linalg.svd(a)
    product = tf.matmul(u * tf.cast(s, u.dtype)[..., None, :], v, adjoint_b=True)
    return [s, tf.math.real(u * tf.math.conj(u)), tf.math.real(v * tf.math.conj(v)), tf.math.real(product)]


def complex_gradient_cases():
    """(name, inputs, build(*tensors) -> list of outputs): tf.gradients of each output set, with fixed grad_ys."""
    def cplx(*shape):
        return RNG.uniform(-1, 1, shape) + 1j * RNG.uniform(-1, 1, shape)

    square = cplx(2, 3, 3) + 3 * np.eye(3)
    herm = square @ np.conj(np.swapaxes(square, -1, -2)) + 3 * np.eye(3)
    rhs = cplx(2, 3, 2)
    yield "grad_inv", [square], lambda a: [tf.linalg.inv(a)]
    yield "grad_inv_adjoint", [square], lambda a: [tf.linalg.inv(a, adjoint=True)]
    yield "grad_det", [square], lambda a: [tf.linalg.det(a)]
    yield "grad_slogdet", [square], lambda a: [tf.linalg.slogdet(a).log_abs_determinant]
    yield "grad_solve", [square, rhs], lambda a, b: [tf.linalg.solve(a, b)]
    yield "grad_solve_adjoint", [square, rhs], lambda a, b: [tf.linalg.solve(a, b, adjoint=True)]
    yield "grad_triangular_solve", [square, rhs], lambda a, b: [tf.linalg.triangular_solve(a, b, adjoint=True)]
    yield "grad_cholesky", [herm], lambda a: [tf.linalg.cholesky(a)]
    yield "grad_eigvalsh", [herm], lambda a: [tf.linalg.eigvalsh(a)]
    yield "grad_qr", [cplx(2, 4, 3)], qr_phase_free
    yield "grad_svd", [cplx(2, 4, 3)], svd_phase_free
    yield "grad_svd_wide", [cplx(3, 5)], svd_phase_free
    yield "grad_lstsq_tall", [cplx(5, 3), cplx(5, 2)], lambda a, b: [tf.linalg.lstsq(a, b)]
    yield "grad_lstsq_wide", [cplx(3, 5), cplx(3, 2)], lambda a, b: [tf.linalg.lstsq(a, b)]
    yield "grad_sqrtm", [herm + 0.3j * np.eye(3)], lambda a: [tf.linalg.sqrtm(a)]
    diags = cplx(2, 3, 4) + np.array([0.0, 4.0, 0.0])[:, None]
    yield "grad_tridiagonal_solve", [diags, cplx(2, 4, 2)], lambda d, b: [tf.linalg.tridiagonal_solve(d, b)]
    yield "grad_tridiagonal_matmul", [diags, cplx(2, 4, 2)], lambda d, b: [tf.linalg.tridiagonal_matmul(d, b)]
    yield "grad_eigh", [herm], lambda a: [tf.linalg.eigh(a)[0],
                                         tf.math.real(tf.linalg.eigh(a)[1] * tf.math.conj(tf.linalg.eigh(a)[1]))]


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    arrays = {}
    for name, value, build in cases():
        with tf.Graph().as_default(), tf.Session() as sess:
            outs = sess.run(list(build(tf.constant(value))))
        arrays[f"{name}/in"] = value
        for j, out in enumerate(outs):
            arrays[f"{name}/out{j}"] = out
    for name, values, build in complex_gradient_cases():
        with tf.Graph().as_default(), tf.Session() as sess:
            xs = [tf.constant(v) for v in values]
            ys = build(*xs)
            grad_ys = [tf.constant(RNG.uniform(-1, 1, y.shape.as_list()) * (1 + 0.5j if y.dtype.is_complex else 1))
                       for y in ys]
            grads = sess.run(tf.gradients(ys, xs, grad_ys=grad_ys))
            for j, v in enumerate(values):
                arrays[f"{name}/in{j}"] = v
                arrays[f"{name}/grad{j}"] = grads[j]
            for k, g in enumerate(grad_ys):
                arrays[f"{name}/grad_ys{k}"] = sess.run(g)
    np.savez_compressed(os.path.join(OUT, "cases.npz"), **arrays)
    print(f"{len(arrays)} arrays written to {OUT}")


if __name__ == "__main__":
    main()
