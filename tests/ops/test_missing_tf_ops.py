"""The op types tfmini gained to run TensorFlow's own graphs: gradient helpers (SigmoidGrad, TanhGrad, SqrtGrad,
RsqrtGrad, ReciprocalGrad), ConcatOffset, ListDiff, Segment*, DynamicStitch/ParallelDynamicStitch,
DynamicPartition, MatrixDiagV3/MatrixDiagPartV3/MatrixSetDiagV3, DepthwiseConv2dNative and its backprops, LRN and
LRNGrad, FusedBatchNormV3 and FusedBatchNormGradV3.

Values are checked against TensorFlow's, recorded by tools/tf_fixtures/gen_missing_ops.py; gradients against
finite differences; bad input against TF's error classes.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from gradient_checker import check_against_numpy, check_gradients, random_array

import tfmini as tf
from tfmini.framework import errors
from tfmini.framework.registry import apply_op
from tfmini.ops import normalization_ops

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf", "missing_ops")
with open(os.path.join(FIXTURES, "cases.json")) as _f:
    CASES = json.load(_f)["cases"]
ARRAYS = np.load(os.path.join(FIXTURES, "cases.npz"))
# float32 results of ops that sum many terms differ from TF's in the last bits.
_LOOSE = {"LRN", "LRNGrad", "FusedBatchNormV3", "FusedBatchNormGradV3", "DepthwiseConv2dNativeBackpropFilter",
          "SegmentProd"}


def _inputs(i: int, case: dict) -> list:
    out = []
    for j, n in enumerate(case["inputs"]):
        out.append(ARRAYS[f"{i}/in{j}"] if n is None else [ARRAYS[f"{i}/in{j}_{m}"] for m in range(n)])
    return out


def _attrs(case: dict) -> dict:
    return {k: tf.as_dtype(v) if k in ("out_idx",) else v for k, v in case["attrs"].items()}


def _build(case, values, feed: bool):
    """The op of `case` on constants (feed=False) or on placeholders of unknown shape, and the feed dict."""
    feeds, inputs = {}, []
    for v in values:
        items = v if isinstance(v, list) else [v]
        if feed:
            ts = [tf.placeholder(tf.as_dtype(a.dtype)) for a in items]
            feeds.update(zip(ts, items))
        else:
            ts = [tf.constant(a) for a in items]
        inputs.append(ts if isinstance(v, list) else ts[0])
    return apply_op(case["op"], inputs, _attrs(case)), feeds


@pytest.mark.parametrize("feed", [False, True], ids=["const", "fed"])
@pytest.mark.parametrize("i", range(len(CASES)), ids=[f"{k}-{c['op']}" for k, c in enumerate(CASES)])
def test_op_computes_what_tensorflow_computed(i, feed):
    case = CASES[i]
    with tf.Graph().as_default():
        op, feeds = _build(case, _inputs(i, case), feed)
        with tf.Session() as sess:
            if "error" in case:
                with pytest.raises(getattr(errors, case["error"])):
                    sess.run(op.outputs, feeds)
                return
            got = sess.run(op.outputs, feeds)
    assert len(got) == case["outputs"]
    for j, (value, t) in enumerate(zip(got, op.outputs)):
        want = ARRAYS[f"{i}/out{j}"]
        assert value.dtype == want.dtype, (j, value.dtype, want.dtype)
        assert t.shape.is_compatible_with(want.shape), (j, t.shape, want.shape)
        if case["op"] == "FusedBatchNormV3" and j in (3, 4) and not case["attrs"]["is_training"]:
            continue  # in inference TF leaves these reserve spaces uninitialized
        tol = 2e-5 if case["op"] in _LOOSE else 1e-6
        np.testing.assert_allclose(value, want, rtol=tol, atol=tol, err_msg=f"output {j}")


# -- gradients ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("op_type", ["SigmoidGrad", "TanhGrad", "SqrtGrad", "RsqrtGrad", "ReciprocalGrad"])
def test_gradient_helpers_are_differentiable(op_type):
    y = random_array((3, 4), low=0.2, high=0.9, seed=1)
    dy = random_array((3, 4), seed=2)
    check_gradients(lambda a, b: apply_op(op_type, [a, b]).outputs[0], [y, dy])


@pytest.mark.parametrize("op_type, fn", [
    ("SigmoidGrad", tf.sigmoid), ("TanhGrad", tf.tanh), ("SqrtGrad", tf.sqrt), ("RsqrtGrad", tf.rsqrt),
    ("ReciprocalGrad", tf.reciprocal),
])
def test_gradient_helper_is_the_activations_gradient(op_type, fn):
    x = random_array((5,), low=0.3, high=2.0, seed=3)
    dy = random_array((5,), seed=4)
    with tf.Graph().as_default():
        xt = tf.constant(x)
        y = fn(xt)
        helper = apply_op(op_type, [y, tf.constant(dy)]).outputs[0]
        (reference,) = tf.gradients(y, xt, grad_ys=tf.constant(dy))
        with tf.Session() as sess:
            got, want = sess.run([helper, reference])
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_gradient_helper_refuses_operands_of_two_shapes():
    with tf.Graph().as_default():
        a, b = tf.placeholder(tf.float32), tf.placeholder(tf.float32)
        z = apply_op("TanhGrad", [a, b]).outputs[0]
        with tf.Session() as sess, pytest.raises(errors.InvalidArgumentError, match="same size and shape"):
            sess.run(z, {a: np.zeros(3, np.float32), b: np.zeros(4, np.float32)})


@pytest.mark.parametrize("fn", [tf.segment_sum, tf.segment_mean, tf.segment_max, tf.segment_min])
def test_segment_reductions_are_differentiable(fn):
    data = random_array((6, 3), seed=5)
    check_gradients(lambda d: fn(d, tf.constant([0, 0, 1, 3, 3, 3])), [data])


def test_segment_sum_matches_numpy_and_leaves_missing_segments_zero():
    ids = np.array([0, 2, 2, 4])

    def reference(d):
        out = np.zeros((5, 2), d.dtype)
        np.add.at(out, ids, d)
        return out

    check_against_numpy(lambda d: tf.segment_sum(d, ids), reference, random_array((4, 2), seed=6),
                        dtypes=[np.float32, np.float64, np.int32])


def test_segment_ids_must_be_sorted():
    with tf.Graph().as_default(), tf.Session() as sess:
        out = tf.segment_sum(tf.constant([1.0, 2.0, 3.0]), tf.constant([0, 2, 1]))
        with pytest.raises(errors.InvalidArgumentError, match="not increasing"):
            sess.run(out)
        # the session stays usable
        assert sess.run(tf.segment_sum(tf.constant([1.0, 2.0]), tf.constant([0, 0]))).tolist() == [3.0]


def test_dynamic_stitch_and_partition_are_differentiable():
    def fn(d):
        parts = tf.dynamic_partition(d, tf.constant([1, 0, 1, 2]), 3)
        stitched = tf.dynamic_stitch([tf.constant([0, 3]), tf.constant([1]), tf.constant([2])],
                                     [parts[1], parts[0], parts[2]])
        return stitched * stitched + tf.reduce_sum(parts[2])

    check_gradients(fn, [random_array((4, 2), seed=7)])


def test_dynamic_partition_with_an_unused_partition_has_a_gradient():
    check_gradients(lambda d: tf.dynamic_partition(d, tf.constant([0, 0, 1]), 3)[0] * 2.0,
                    [random_array((3, 2), seed=8)])


def test_setdiff1d_returns_values_and_positions():
    with tf.Graph().as_default(), tf.Session() as sess:
        result = tf.setdiff1d([4, 1, 6, 1], [1], index_dtype=tf.int64)
        out, idx = sess.run(result)
    assert (out.tolist(), idx.tolist(), idx.dtype) == ([4, 6], [0, 2], np.int64)
    assert result._fields == ("out", "idx")


def test_list_diff_refuses_matrices():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="rank 1"):
            tf.setdiff1d([[1, 2]], [1])


@pytest.mark.parametrize("k", [0, 1, -1, [-1, 1], [0, 2]])
def test_band_diagonal_ops_are_differentiable(k):
    x = random_array((2, 3, 4), seed=9)
    kk = np.array(k, np.int32)

    def part(a):
        return apply_op("MatrixDiagPartV3", [a, kk, np.float64(0)]).outputs[0]

    check_gradients(part, [x])
    with tf.Graph().as_default(), tf.Session() as sess:
        d = sess.run(part(tf.constant(x)))
    check_gradients(lambda a, b: apply_op("MatrixSetDiagV3", [a, b, kk]).outputs[0], [x, d])
    check_gradients(lambda b: apply_op("MatrixDiagV3", [b, kk, np.int32(3), np.int32(4), np.float64(0)]).outputs[0],
                    [d])


def test_band_diagonal_ops_check_their_attrs_and_band():
    with tf.Graph().as_default():
        x = tf.zeros([3, 3])
        with pytest.raises(ValueError, match="align"):
            apply_op("MatrixDiagPartV3", [x, 0, 0.0], {"align": "MIDDLE"})
        bad = apply_op("MatrixDiagPartV3", [x, tf.placeholder(tf.int32), 0.0]).outputs[0]
        with tf.Session() as sess, pytest.raises(errors.InvalidArgumentError, match="lower_diag_index"):
            sess.run(bad, {"Placeholder:0": np.array([2, 1], np.int32)})


@pytest.mark.parametrize("strides, padding, rate", [
    ([1, 1, 1, 1], "SAME", None), ([1, 2, 2, 1], "VALID", None), ([1, 1, 1, 1], "SAME", [2, 2]),
])
def test_depthwise_conv2d_matches_per_channel_conv2d_and_is_differentiable(strides, padding, rate):
    x, f = random_array((2, 6, 5, 3), seed=10), random_array((3, 2, 3, 2), seed=11)

    def per_channel(xv, fv):
        with tf.Graph().as_default(), tf.Session() as sess:
            outs = [tf.nn.convolution(xv[..., c:c + 1], fv[:, :, c:c + 1, :], padding,
                                      strides=strides[1:3] if rate is None else None, dilation_rate=rate)
                    for c in range(3)]
            return np.concatenate(sess.run(outs), axis=-1)

    check_against_numpy(lambda a, b: tf.nn.depthwise_conv2d(a, b, strides, padding, rate=rate), per_channel, x, f,
                        rtol=1e-10, modes=("const",))
    check_gradients(lambda a, b: tf.nn.depthwise_conv2d(a, b, strides, padding, rate=rate), [x, f])


def test_depthwise_backprops_are_differentiable():
    x, f = random_array((1, 4, 4, 2), seed=12), random_array((2, 2, 2, 2), seed=13)
    dy = random_array((1, 4, 4, 4), seed=14)
    attrs = {"strides": [1, 1, 1, 1], "padding": "SAME"}
    check_gradients(lambda b, g: apply_op("DepthwiseConv2dNativeBackpropInput",
                                          [tf.constant([1, 4, 4, 2]), b, g], attrs).outputs[0], [f, dy])
    check_gradients(lambda a, g: apply_op("DepthwiseConv2dNativeBackpropFilter",
                                          [a, tf.constant([2, 2, 2, 2]), g], attrs).outputs[0], [x, dy])


def test_depthwise_conv2d_refuses_mismatched_channels():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="Dimensions must be equal"):
            tf.nn.depthwise_conv2d(tf.zeros([1, 4, 4, 3]), tf.zeros([2, 2, 2, 1]), [1, 1, 1, 1], "SAME")


def _lrn_reference(x, r, bias, alpha, beta):
    sq = np.square(x.astype(np.float64))
    padded = np.pad(sq, [(0, 0)] * 3 + [(r, r)])
    sums = sum(padded[..., k:k + x.shape[-1]] for k in range(2 * r + 1))
    return x / np.power(bias + alpha * sums, beta)


def test_lrn_matches_numpy():
    x = random_array((2, 3, 3, 6), seed=15).astype(np.float32)
    check_against_numpy(lambda a: tf.nn.lrn(a, 2, 0.5, 0.3, 0.75),
                        lambda a: _lrn_reference(a, 2, 0.5, 0.3, 0.75).astype(np.float32), x, rtol=1e-5)


def _numeric_jacobian_vector(f, x, g, delta):
    """sum(g * df/dx) for every element of x, by central differences."""
    out = np.zeros_like(x)
    flat = out.reshape(-1)
    for i in range(x.size):
        xp, xm = x.copy(), x.copy()
        xp.reshape(-1)[i] += delta
        xm.reshape(-1)[i] -= delta
        flat[i] = np.sum(g * (f(xp) - f(xm))) / (2 * delta)
    return out


def test_lrn_grad_is_the_derivative_of_lrn():
    attrs = {"depth_radius": 2, "bias": 0.7, "alpha": 0.4, "beta": 0.6}
    x = random_array((1, 2, 2, 5), seed=16)
    g = random_array((1, 2, 2, 5), seed=17)
    y = normalization_ops._lrn(x, **attrs)
    got = normalization_ops._lrn_grad(g, x, y, **attrs)
    want = _numeric_jacobian_vector(lambda v: normalization_ops._lrn(v, **attrs), x, g, 1e-6)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("is_training", [True, False])
def test_fused_batch_norm_grad_is_the_derivative_of_fused_batch_norm(is_training):
    x = random_array((2, 3, 2, 4), seed=18).astype(np.float32)
    scale = random_array((4,), low=0.5, high=1.5, seed=19).astype(np.float32)
    offset = random_array((4,), seed=20).astype(np.float32)
    mean = random_array((4,), seed=21).astype(np.float32)
    var = random_array((4,), low=0.5, high=1.5, seed=22).astype(np.float32)
    g = random_array(x.shape, seed=23).astype(np.float32)
    attrs = {"epsilon": 0.001, "data_format": "NHWC", "is_training": is_training}
    with tf.Graph().as_default(), tf.Session() as sess:
        xs = [tf.constant(v) for v in (x, scale, offset)]
        y = apply_op("FusedBatchNormV3", [*xs, mean, var], attrs).outputs[0]
        got = sess.run(tf.gradients(y, xs, grad_ys=tf.constant(g)))

    def forward(xv, sv, ov):
        return normalization_ops._fused_bn(xv, sv, ov, mean, var, exponential_avg_factor=1.0, **attrs)[0]

    for k, base in enumerate((x, scale, offset)):
        def f(v, k=k):
            args = [x.astype(np.float64), scale.astype(np.float64), offset.astype(np.float64)]
            args[k] = v
            return forward(*[a.astype(np.float32) for a in args]).astype(np.float64)

        want = _numeric_jacobian_vector(f, base.astype(np.float64), g.astype(np.float64), 1e-2)
        np.testing.assert_allclose(got[k], want, rtol=2e-3, atol=2e-3)


def test_fused_batch_norm_refuses_wrong_rank_and_format():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="rank 4"):
            apply_op("FusedBatchNormV3", [tf.zeros([2, 3]), *[tf.zeros([3])] * 4])
        with pytest.raises(ValueError, match="data format"):
            apply_op("FusedBatchNormV3", [tf.zeros([1, 2, 2, 3]), *[tf.zeros([3])] * 4], {"data_format": "HWCN"})
