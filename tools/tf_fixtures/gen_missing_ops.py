"""Records TensorFlow's outputs for the op types tfmini gained to run TF's own graphs (gradient helpers, segment,
stitch and partition ops, setdiff, concat offsets, V3 band-diagonal ops, depthwise convolution, LRN and fused
batch norm), for tests/ops/test_missing_tf_ops.py.

Run with the TensorFlow environment: /work/tfenv/bin/python tools/tf_fixtures/gen_missing_ops.py
Writes tests/fixtures/tf/missing_ops/cases.json (per case: op type, attrs, input and output counts, or the error
class TF raised) and cases.npz (inputs "<i>/in<j>" and outputs "<i>/out<j>"). Each case runs the raw op once.
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.python.framework import op_def_registry  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "tf", "missing_ops")
RNG = np.random.RandomState(3)


def f32(*shape, low=-1.5, high=1.5):
    return RNG.uniform(low, high, shape).astype(np.float32)


def i32(values):
    return np.asarray(values, np.int32)


def cases():
    """(op type, input arrays, attrs) for every recorded case; list inputs are Python lists of arrays."""
    y = RNG.uniform(0.1, 0.9, (3, 4)).astype(np.float32)
    dy = f32(3, 4)
    for op in ("SigmoidGrad", "TanhGrad", "SqrtGrad", "RsqrtGrad", "ReciprocalGrad"):
        yield op, [y, dy], {}
    yield "ConcatOffset", [np.int32(1), [i32([2, 3, 5]), i32([2, 1, 5]), i32([2, 4, 5])]], {}
    yield "ConcatOffset", [np.int32(-3), [i32([2, 3]), i32([4, 3])]], {}
    yield "ConcatOffset", [np.int32(0), [i32([2, 3]), i32([4, 2])]], {}
    yield "ListDiff", [i32([5, 1, 7, 1, 3, 9]), i32([1, 9, 4])], {"out_idx": tf.int32}
    yield "ListDiff", [np.array([0.5, 2.0, -1.0], np.float32), np.array([2.0], np.float32)], {"out_idx": tf.int64}
    data = f32(7, 3)
    ids = i32([0, 0, 2, 2, 2, 3, 5])
    for op in ("SegmentSum", "SegmentMean", "SegmentMax", "SegmentMin", "SegmentProd"):
        yield op, [data, ids], {}
    yield "SegmentMean", [i32([[3, 4], [8, 1], [5, 5]]), i32([0, 0, 1])], {}
    yield "SegmentSum", [data, i32([0, 1, 1, 0, 2, 2, 3])], {}
    yield "SegmentSum", [data, np.array([0, 0, 1, 1, 1, 2, 2], np.int64)], {}
    yield "DynamicStitch", [[i32([0, 2, 4]), i32([[1, 3], [2, 5]])], [f32(3, 2), f32(2, 2, 2)]], {}
    yield "DynamicStitch", [[i32([1, 0])], [f32(2)]], {}
    yield "DynamicPartition", [f32(6, 2), i32([2, 0, 2, 1, 0, 2])], {"num_partitions": 4}
    yield "DynamicPartition", [f32(2, 3, 2), i32([[0, 1, 0], [1, 1, 0]])], {"num_partitions": 2}
    yield "DynamicPartition", [f32(3), i32([0, 2, 1])], {"num_partitions": 2}
    x = f32(2, 4, 5)
    for k in (0, 1, -2, [-1, 2], [0, 3]):
        for align in ("RIGHT_LEFT", "LEFT_RIGHT", "LEFT_LEFT", "RIGHT_RIGHT"):
            kk = i32(k)
            yield "MatrixDiagPartV3", [x, kk, np.float32(9)], {"align": align}
            n = 1 if np.ndim(k) == 0 else k[1] - k[0] + 1
            length = 5 if np.ndim(k) == 0 else 4
            diag = f32(2, length) if n == 1 else f32(2, n, length)
            yield "MatrixDiagV3", [diag, kk, np.int32(-1), np.int32(-1), np.float32(7)], {"align": align}
            part = tf.raw_ops.MatrixDiagPartV3(input=x, k=kk, padding_value=np.float32(0), align=align).numpy()
            yield "MatrixSetDiagV3", [x, part * 2 + 1, kk], {"align": align}
    yield "MatrixDiagV3", [f32(3), np.int32(1), np.int32(5), np.int32(-1), np.float32(0)], {"align": "RIGHT_LEFT"}
    xi, fi = f32(2, 5, 6, 3), f32(3, 3, 3, 2)
    # TF's CPU kernel refuses unequal row and column strides.
    yield "DepthwiseConv2dNative", [xi, fi], {"strides": [1, 2, 1, 1], "padding": "SAME"}
    for strides, padding in (([1, 1, 1, 1], "SAME"), ([1, 2, 2, 1], "VALID"), ([1, 3, 3, 1], "SAME")):
        attrs = {"strides": strides, "padding": padding}
        out = tf.raw_ops.DepthwiseConv2dNative(input=xi, filter=fi, **attrs).numpy()
        yield "DepthwiseConv2dNative", [xi, fi], attrs
        g = f32(*out.shape)
        yield "DepthwiseConv2dNativeBackpropInput", [i32(xi.shape), fi, g], attrs
        yield "DepthwiseConv2dNativeBackpropFilter", [xi, i32(fi.shape), g], attrs
    xl = f32(2, 3, 2, 7)
    for attrs in ({}, {"depth_radius": 2, "bias": 0.5, "alpha": 0.3, "beta": 0.75}, {"depth_radius": 0}):
        out = tf.raw_ops.LRN(input=xl, **attrs).numpy()
        yield "LRN", [xl], attrs
        yield "LRNGrad", [f32(*xl.shape), xl, out], attrs
    xb = f32(3, 4, 2, 5, low=-2, high=3)
    scale, offset = f32(5, low=0.5, high=1.5), f32(5)
    mean, var = f32(5), f32(5, low=0.5, high=2)
    empty = np.zeros([0], np.float32)
    train = {"epsilon": 0.001, "is_training": True}
    yield "FusedBatchNormV3", [xb, scale, offset, empty, empty], train
    yield "FusedBatchNormV3", [xb, scale, offset, mean, var], {**train, "exponential_avg_factor": 0.25}
    yield "FusedBatchNormV3", [xb, scale, offset, mean, var], {"epsilon": 0.01, "is_training": False}
    xn = np.ascontiguousarray(xb.transpose(0, 3, 1, 2))
    yield "FusedBatchNormV3", [xn, scale, offset, empty, empty], {**train, "data_format": "NCHW"}
    outs = tf.raw_ops.FusedBatchNormV3(x=xb, scale=scale, offset=offset, mean=empty, variance=empty, **train)
    dyb = f32(*xb.shape)
    yield "FusedBatchNormGradV3", [dyb, xb, scale, outs[3].numpy(), outs[4].numpy(), outs[5].numpy()], train
    yield "FusedBatchNormGradV3", [dyb, xb, scale, mean, var, empty], {"epsilon": 0.01, "is_training": False}


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
                arrays[f"{i}/in{j}"] = value
        fn = getattr(tf.raw_ops, op)
        names = [a.name for a in op_def_registry.get(op).input_arg]
        try:
            outs = fn(**dict(zip(names, inputs)), **attrs)
        except tf.errors.OpError as e:
            entry["error"] = type(e).__name__
            outs = []
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        entry["outputs"] = len(outs)
        for j, out in enumerate(outs):
            arrays[f"{i}/out{j}"] = out.numpy()
        manifest.append(entry)
    np.savez_compressed(os.path.join(OUT, "cases.npz"), **arrays)
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"tensorflow_version": tf.__version__, "cases": manifest}, f, indent=0)
        f.write("\n")
    print(f"{len(manifest)} cases, {sum('error' in c for c in manifest)} errors")


if __name__ == "__main__":
    main()
