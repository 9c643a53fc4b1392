"""Records TensorFlow's outputs for the math, array, bitwise and stateless-random op types of
tests/ops/test_math_leftovers.py, test_special_math_ops.py, test_bitwise_ops.py, test_sort_ops.py and
test_stateless_random_ops.py (special functions, shifts out of range, TF's Philox numbers of the stateless ops).

Run with the TensorFlow environment: /work/tfenv/bin/python tools/tf_fixtures/gen_math_leftovers.py
Writes tests/fixtures/tf/math_leftovers/cases.json (per case: op type, attrs, input and output counts, or the
error class TF raised) and cases.npz (inputs "<i>/in<j>", outputs "<i>/out<j>"). Each case runs the raw op once.
The "dct" list records tf.signal.dct / idct (composites in TF) of the array "dct/in", outputs "dct<i>/out"; the
"gamma" and "poisson" lists two successive runs of seeded RandomGamma / RandomPoissonV2 ops ("gamma<i>/alpha",
"poisson<i>/rate", "<name><i>/run0", "<name><i>/run1").
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.python.framework import op_def_registry  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "tf",
                   "math_leftovers")
RNG = np.random.RandomState(12)


def uniform(low, high, *shape, dtype=np.float64):
    return RNG.uniform(low, high, shape).astype(dtype)


def bitwise_cases():
    for dt in (np.int8, np.int32, np.int64, np.uint8, np.uint16):
        info = np.iinfo(dt)
        bits = info.bits
        x = np.array([info.min, info.min + 1, -1 if info.min else 1, 0, 1, 5, info.max // 2 + 1, info.max], dt)
        y = np.array([1, 0, bits - 1, 3, bits, bits + 5, 1, 2], dt)
        if info.min < 0:
            y[3] = -1
        for op in ("BitwiseAnd", "BitwiseOr", "BitwiseXor", "LeftShift", "RightShift"):
            yield op, [x, y], {}
        yield "Invert", [x], {}
        yield "PopulationCount", [x], {}
    yield "LeftShift", [np.array([[1], [3]], np.int32), np.array([0, 4, 31], np.int32)], {}


def special_cases():
    for dt in (np.float32, np.float64):
        x = np.array([0.0, 1e-3, -0.5, 1.0, -2.5, 7.0, 29.0, 31.0, -60.0, 250.0, 800.0], dt)
        yield "BesselI0e", [x], {}
        yield "BesselI1e", [x], {}
        a = np.array([0.1, 0.5, 1.0, 2.0, 3.5, 10.0, 50.0, 120.0, 1.0, 2.0, -1.0, 0.0], dt)
        xx = np.array([0.2, 3.0, 1.0, 0.5, 4.5, 12.0, 45.0, 130.0, 0.0, np.inf, 1.0, 1.0], dt)
        yield "Igamma", [a, xx], {}
        yield "Igammac", [a, xx], {}
        ag = np.array([0.5, 1.0, 2.0, 5.0, 3.0, 30.0, 0.2], dt)
        xg = np.array([0.3, 2.0, 1.0, 20.0, 0.5, 25.0, 0.01], dt)
        yield "IgammaGradA", [ag, xg], {}
        yield "RandomGammaGrad", [ag, xg], {}
        aa = np.array([0.5, 1.0, 2.0, 10.0, 0.2, 30.0, 5.0, 1.0, 2.0, -1.0, 1.0], dt)
        bb = np.array([0.5, 3.0, 2.0, 5.0, 0.3, 40.0, 1.0, 1.0, 2.0, 1.0, 2.0], dt)
        xb = np.array([0.3, 0.5, 0.9, 0.7, 0.01, 0.45, 0.999, 0.0, 1.0, 0.5, 1.5], dt)
        yield "Betainc", [aa, bb, xb], {}
        yield "Betainc", [dt(2.0), dt(3.0), uniform(0, 1, 2, 3, dtype=dt)], {}
        xz = np.array([2.0, 3.0, 2.0, 4.5, 1.5, 10.0, 1.0, 0.5, 2.0, 2.5, 3.0], dt)
        qz = np.array([1.0, 1.0, 0.5, 3.0, 2.0, 0.1, 1.0, 1.0, -2.0, -1.5, -1.5], dt)
        yield "Zeta", [xz, qz], {}
        yx = np.array([0.0, 0.0, 1.0, -2.0, 3.0, 0.5], dt)
        yy = np.array([0.0, np.inf, 0.0, 3.0, -1.0, 2.0], dt)
        for op in ("Xlogy", "Xdivy", "Xlog1py"):
            yield op, [yx, yy], {}
        yield "MulNoNan", [np.array([np.inf, np.nan, 2.0, -3.0], dt), np.array([0.0, 0.0, 3.0, 0.5], dt)], {}
        xc = uniform(-3, 3, 3, 4, dtype=dt)
        for attrs in ({}, {"exclusive": True}, {"reverse": True}, {"exclusive": True, "reverse": True}):
            yield "CumulativeLogsumexp", [xc, np.int32(1)], attrs
        yield "CumulativeLogsumexp", [xc, np.int32(0)], {"exclusive": True}
        yield "Polygamma", [np.array([0.0, 1.0, 2.0, 3.0], dt), np.array([2.5, 0.5, 3.0, 10.0], dt)], {}
        yield "Ndtri", [np.array([0.0, 1e-30, 1e-6, 0.01, 0.3, 0.5, 0.77, 0.999, 1.0, -0.1, 1.5], dt)], {}
        yield "Erfinv", [np.array([-1.0, -0.9999, -0.5, -1e-7, 0.0, 1e-20, 0.2, 0.95, 1.0, 1.5], dt)], {}
        yield "NextAfter", [np.array([0.0, 1.0, -1.0, 1.0, np.inf], dt), np.array([1.0, 2.0, -2.0, 1.0, 0.0], dt)], {}
    z = (uniform(-2, 2, 5) + 1j * uniform(-2, 2, 5)).astype(np.complex64)
    yield "Angle", [z], {"Tout": tf.float32}
    yield "Angle", [z.astype(np.complex128)], {"Tout": tf.float64}


def array_cases():
    yield "LinSpace", [np.float32(-1.0), np.float32(2.0), np.int32(7)], {}
    yield "LinSpace", [np.float64(0.1), np.float64(0.7), np.int64(10)], {}
    yield "LinSpace", [np.float32(3.0), np.float32(5.0), np.int32(1)], {}
    yield "LinSpace", [np.float32(3.0), np.float32(5.0), np.int32(0)], {}
    yield "InvertPermutation", [np.array([3, 0, 4, 1, 2], np.int32)], {}
    yield "InvertPermutation", [np.array([1, 1, 0], np.int32)], {}
    yield "InvertPermutation", [np.array([0, 5], np.int64)], {}
    yield "UnravelIndex", [np.array([0, 5, 11, 7], np.int32), np.array([3, 4], np.int32)], {}
    yield "UnravelIndex", [np.int64(22), np.array([2, 3, 4], np.int64)], {}
    yield "UnravelIndex", [np.array([12], np.int32), np.array([3, 4], np.int32)], {}
    yield "UniqueWithCounts", [np.array([4, 1, 4, 2, 1, 4, 7], np.int32)], {"out_idx": tf.int32}
    yield "UniqueWithCounts", [np.array([0.5, -1.0, 0.5], np.float32)], {"out_idx": tf.int64}
    x = uniform(-5, 5, 40)
    yield "HistogramFixedWidth", [x, np.array([-4.0, 4.0]), np.int32(7)], {"dtype": tf.int32}
    yield "HistogramFixedWidth", [np.array([1, 5, 9, 2, 2], np.int32), np.array([0, 10], np.int32), np.int32(4)], {
        "dtype": tf.int64}
    yield "HistogramFixedWidth", [x, np.array([1.0, 1.0]), np.int32(3)], {"dtype": tf.int32}
    yield "HistogramFixedWidth", [x, np.array([0.0, 1.0]), np.int32(0)], {"dtype": tf.int32}
    arr = np.array([1, 3, 3, 0, 7, 3], np.int32)
    yield "Bincount", [arr, np.int32(6), np.zeros([0], np.float32)], {}
    yield "Bincount", [arr, np.int32(9), np.arange(6, dtype=np.float64)], {}
    yield "Bincount", [np.array([1, -1], np.int32), np.int32(3), np.zeros([0], np.int32)], {}
    yield "Bitcast", [np.array([1.0, -2.5], np.float32)], {"type": tf.int32}
    yield "Bitcast", [np.array([1.0, -2.5], np.float32)], {"type": tf.uint8}
    yield "Bitcast", [np.arange(8, dtype=np.uint8).reshape(2, 4)], {"type": tf.float32}
    yield "Bitcast", [np.arange(6, dtype=np.uint8)], {"type": tf.float32}
    seq = np.sort(uniform(-3, 3, 2, 6).astype(np.float32), axis=1)
    vals = np.concatenate([seq[:, :2], uniform(-4, 4, 2, 3).astype(np.float32)], axis=1)
    yield "LowerBound", [seq, vals], {"out_type": tf.int32}
    yield "UpperBound", [seq, vals], {"out_type": tf.int64}
    data = uniform(-2, 2, 5, 3)
    ids = np.array([2, 0, 2, 3, 0], np.int32)
    for op in ("UnsortedSegmentMax", "UnsortedSegmentMin", "UnsortedSegmentProd"):
        yield op, [data, ids, np.int32(5)], {}
        yield op, [np.arange(6, dtype=np.int32).reshape(2, 3), np.array([[0, 1, 0], [2, 2, 1]], np.int64),
                   np.int64(4)], {}
        yield op, [data, np.array([2, 0, 7, 3, 0], np.int32), np.int32(5)], {}
    yield "ArgMax", [np.array([[1, 5, 5], [7, 0, 7]], np.int32), np.int32(1)], {"output_type": tf.int32}
    yield "ArgMin", [np.array([[1, 5, 5], [7, 0, 7]], np.float32), np.int32(0)], {}
    yield "ParallelConcat", [[np.ones([1, 2], np.float32), np.zeros([1, 2], np.float32)]], {"shape": [2, 2]}


def random_cases():
    for seed in (np.array([1, 2], np.int64), np.array([7, -3], np.int32), np.array([2**40, 5], np.int64)):
        for dt in (tf.float32, tf.float64, tf.float16):
            for op in ("StatelessRandomUniform", "StatelessRandomNormal", "StatelessTruncatedNormal"):
                yield op, [np.array([3, 5], np.int32), seed], {"dtype": dt}
        yield "StatelessRandomUniform", [np.array([7], np.int64), seed], {"dtype": tf.float32}
        yield "StatelessRandomUniformInt", [np.array([2, 5], np.int32), seed, np.int32(-5), np.int32(12)], {}
        yield "StatelessRandomUniformInt", [np.array([9], np.int32), seed, np.int64(-2**40), np.int64(3**30)], {}
        logits = np.log(np.array([[0.1, 0.6, 0.3], [0.5, 0.5, 0.0]], np.float32))
        yield "StatelessMultinomial", [logits, np.int32(6), seed], {"output_dtype": tf.int64}
        yield "StatelessMultinomial", [logits.astype(np.float64), np.int32(3), seed], {"output_dtype": tf.int32}


def fake_quant_cases():
    x = np.concatenate([np.linspace(-8, 8, 41), [0.0, 0.049, 0.051, -0.05]]).astype(np.float32)
    g = uniform(-1, 1, x.size, dtype=np.float32)
    for attrs in ({}, {"min": -1.0, "max": 1.0, "num_bits": 4}, {"min": 0.1, "max": 3.3, "narrow_range": True},
                  {"min": -2.5, "max": 7.0, "num_bits": 16}, {"min": 1.0, "max": 1.0}, {"num_bits": 1}):
        yield "FakeQuantWithMinMaxArgs", [x], attrs
        yield "FakeQuantWithMinMaxArgsGradient", [g, x], attrs
    for lo, hi, bits, narrow in ((-3.0, 5.0, 8, False), (0.2, 2.0, 3, True), (0.0, 0.0, 8, False),
                                 (-1.0, -0.5, 5, False), (2.0, 1.0, 8, False)):
        q = {"num_bits": bits, "narrow_range": narrow}
        yield "FakeQuantWithMinMaxVars", [x, np.float32(lo), np.float32(hi)], q
        yield "FakeQuantWithMinMaxVarsGradient", [g, x, np.float32(lo), np.float32(hi)], q
    xc, gc = x[:44].reshape(11, 4), g[:44].reshape(11, 4)
    lo = np.array([-3.0, 0.2, -1.0, 0.0], np.float32)
    hi = np.array([5.0, 2.0, -0.5, 0.0], np.float32)
    for bits, narrow in ((8, False), (4, True)):
        q = {"num_bits": bits, "narrow_range": narrow}
        yield "FakeQuantWithMinMaxVarsPerChannel", [xc, lo, hi], q
        yield "FakeQuantWithMinMaxVarsPerChannelGradient", [gc, xc, lo, hi], q


def edit_distance_cases():
    def sparse(rows, dtype=np.int64):
        indices = [[i, j, k] for i, row in enumerate(rows) for j, seq in enumerate(row) for k in range(len(seq))]
        values = [v for row in rows for seq in row for v in seq]
        width = max(len(seq) for row in rows for seq in row)
        return (np.array(indices, np.int64).reshape(-1, 3), np.array(values, dtype),
                np.array([len(rows), len(rows[0]), max(width, 1)], np.int64))

    hyp = sparse([[[1, 2, 3], [4]], [[], [5, 6, 7, 8]]])
    truth = sparse([[[1, 3], [4]], [[9], []]])
    for normalize in (True, False):
        yield "EditDistance", [*hyp, *truth], {"normalize": normalize}
    words = sparse([[[b"a", b"b"], [b"kitten"]]], dtype="S")
    other = sparse([[[b"b"], [b"sitting"]]], dtype="S")
    yield "EditDistance", [*words, *other], {"normalize": True}
    yield "EditDistance", [*truth, *hyp], {"normalize": True}
    h3, t3 = sparse([[[1, 2]]]), sparse([[[1, 2], [3]]])
    yield "EditDistance", [*h3, *t3], {"normalize": False}


def spectral_cases():
    x = uniform(-1, 1, 2, 6, 5, dtype=np.float32)
    z = (uniform(-1, 1, 2, 4, 5) + 1j * uniform(-1, 1, 2, 4, 5)).astype(np.complex64)
    # TF infers the input's type attr; the output's is given.
    to_complex, to_real = {"Tcomplex": tf.complex64}, {"Treal": tf.float32}
    for n in (5, 8, 3):
        yield "RFFT", [x, np.array([n], np.int32)], to_complex
        yield "IRFFT", [z, np.array([n], np.int32)], to_real
    yield "RFFT2D", [x, np.array([6, 5], np.int32)], to_complex
    yield "RFFT2D", [x, np.array([4, 7], np.int32)], to_complex
    yield "IRFFT2D", [z, np.array([4, 8], np.int32)], to_real
    yield "RFFT3D", [x.astype(np.float64), np.array([2, 6, 5], np.int32)], {"Tcomplex": tf.complex128}
    yield "IRFFT3D", [z, np.array([2, 3, 9], np.int32)], to_real
    for op in ("FFT", "IFFT2D", "FFT3D"):
        yield op, [z], {}


def fingerprint_cases():
    method = np.array(b"farmhash64")
    yield "Fingerprint", [np.array([b"", b"a", b"hello world", b"x" * 40, b"y" * 100], "S"), method], {}
    yield "Fingerprint", [np.array([[b"ab", b"c"], [b"", b"longer string here"]], "S"), method], {}
    yield "Fingerprint", [np.arange(12, dtype=np.int32).reshape(3, 4), method], {}
    yield "Fingerprint", [uniform(-1, 1, 2, 3, 5), method], {}
    yield "Fingerprint", [np.zeros((2, 0), np.float32), method], {}
    yield "Fingerprint", [np.array([1, 2], np.int64), np.array(b"md5")], {}


def cases():
    yield from bitwise_cases()
    yield from fingerprint_cases()
    yield from spectral_cases()
    yield from edit_distance_cases()
    yield from fake_quant_cases()
    yield from special_cases()
    yield from array_cases()
    yield from random_cases()


def dct_cases():
    """(kind, n, norm, inverse, input, TF's output) of tf.signal.dct / idct."""
    x = uniform(-1, 1, 3, 6, dtype=np.float32)
    for kind in (1, 2, 3, 4):
        for norm in ((None,) if kind == 1 else (None, "ortho")):
            for n in (None, 4, 9):
                for inverse in (False, True):
                    fn = tf.signal.idct if inverse else tf.signal.dct
                    with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
                        out = sess.run(fn(x, type=kind, n=n, norm=norm))
                    yield kind, n, norm, inverse, x, out


def gamma_runs():
    """(shape, alpha, seed, seed2, [TF's output of run 1, of run 2]) of RandomGamma, two runs in one session."""
    for shape, alpha, seed, seed2 in (([3], np.array([0.5, 1.0, 2.5, 9.0]), 7, 11),
                                      ([2, 2], np.array([[0.05, 1.7], [30.0, 0.9]], np.float32), 123, 0),
                                      ([5], np.float32(0.3), 0, 99)):
        with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
            op = tf.raw_ops.RandomGamma(shape=np.array(shape, np.int32), alpha=alpha, seed=seed, seed2=seed2)
            yield shape, alpha, seed, seed2, [sess.run(op), sess.run(op)]


def poisson_runs():
    """(shape, rate, dtype, seed, seed2, [TF's output of run 1, of run 2]) of RandomPoissonV2 in one session."""
    rates = np.array([0.0, 0.5, 3.0, 9.9, 10.0, 35.0, 1000.0])
    for shape, rate, dtype, seed, seed2 in (([20], rates, tf.float64, 7, 11),
                                            ([3, 2], np.array([4.0, 60.0], np.float32), tf.int32, 5, 0),
                                            ([6], np.int64(12), tf.float32, 0, 3)):
        with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
            op = tf.raw_ops.RandomPoissonV2(shape=np.array(shape, np.int32), rate=rate, seed=seed, seed2=seed2,
                                            dtype=dtype)
            yield shape, rate, dtype.name, seed, seed2, [sess.run(op), sess.run(op)]


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    manifest, arrays = [], {}
    for i, (op, inputs, attrs) in enumerate(cases()):
        entry = {"op": op, "attrs": {k: (v.name if isinstance(v, tf.DType) else v) for k, v in attrs.items()},
                 "inputs": []}
        for j, value in enumerate(inputs):
            if isinstance(value, list):
                entry["inputs"].append(len(value))
                for m, item in enumerate(value):
                    arrays[f"{i}/in{j}_{m}"] = item
            else:
                entry["inputs"].append(None)
                arrays[f"{i}/in{j}"] = np.asarray(value)
        names = [a.name for a in op_def_registry.get(op).input_arg]
        try:
            with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
                outs = getattr(tf.raw_ops, op)(**dict(zip(names, inputs)), **attrs)
                outs = sess.run(outs if isinstance(outs, (list, tuple)) else [outs])
        except (tf.errors.OpError, ValueError) as e:
            entry["error"] = type(e).__name__
            outs = []
        entry["outputs"] = len(outs)
        for j, out in enumerate(outs):
            arrays[f"{i}/out{j}"] = out
        manifest.append(entry)
    dcts = []
    for i, (kind, n, norm, inverse, x, out) in enumerate(dct_cases()):
        dcts.append({"type": kind, "n": n, "norm": norm, "inverse": inverse})
        arrays["dct/in"], arrays[f"dct{i}/out"] = x, out  # one input for every dct case
    gammas = []
    for i, (shape, alpha, seed, seed2, runs) in enumerate(gamma_runs()):
        gammas.append({"shape": shape, "seed": seed, "seed2": seed2})
        arrays[f"gamma{i}/alpha"] = alpha
        for r, out in enumerate(runs):
            arrays[f"gamma{i}/run{r}"] = out
    poissons = []
    for i, (shape, rate, dtype, seed, seed2, runs) in enumerate(poisson_runs()):
        poissons.append({"shape": shape, "dtype": dtype, "seed": seed, "seed2": seed2})
        arrays[f"poisson{i}/rate"] = rate
        for r, out in enumerate(runs):
            arrays[f"poisson{i}/run{r}"] = out
    np.savez_compressed(os.path.join(OUT, "cases.npz"), **arrays)
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"tensorflow_version": tf.__version__, "cases": manifest, "dct": dcts, "gamma": gammas,
                   "poisson": poissons}, f, indent=0)
        f.write("\n")
    print(f"{len(manifest)} cases, {sum('error' in c for c in manifest)} errors")


if __name__ == "__main__":
    main()
