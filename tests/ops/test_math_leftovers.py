"""TF 1.15's math and array leftovers: every recorded raw-op case (bitwise, special functions, LinSpace,
UnravelIndex, UniqueWithCounts, HistogramFixedWidth, Bincount, Bitcast, Lower/UpperBound, the unsorted segment
reductions, ArgMax/ArgMin, ParallelConcat and the stateless random ops) computes TensorFlow's values, recorded by
tools/tf_fixtures/gen_math_leftovers.py, or fails with TF's error class; and the Python wrappers of the unsorted
segment reductions, bincount, histograms, confusion_matrix, linspace, unravel_index, unique_with_counts, bitcast,
parallel_stack, arg_max/arg_min, floor_div, clip_by_average_norm, the scatter ops and tf.math's twins.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from gradient_checker import check_gradients

import tfmini as tf
from tfmini.framework import errors
from tfmini.framework.registry import apply_op

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf", "math_leftovers")
with open(os.path.join(FIXTURES, "cases.json")) as _f:
    CASES = json.load(_f)["cases"]
ARRAYS = np.load(os.path.join(FIXTURES, "cases.npz"))
_TYPE_ATTRS = {"T", "Tout", "dtype", "out_type", "out_idx", "output_dtype", "output_type", "type"}
# Results TF computes with another series, in another precision or rounding order: compared to a few ulps (TF
# evaluates the float32 special functions in float32, tfmini in float64, so those differ by more).
_LOOSE = {"BesselI0e", "BesselI1e", "Igamma", "Igammac", "Betainc", "Zeta", "Polygamma", "CumulativeLogsumexp",
          "Xlogy", "Xdivy", "Xlog1py", "Angle", "StatelessRandomNormal", "StatelessTruncatedNormal"}


def _inputs(i: int, case: dict) -> list:
    return [ARRAYS[f"{i}/in{j}"] if n is None else [ARRAYS[f"{i}/in{j}_{m}"] for m in range(n)]
            for j, n in enumerate(case["inputs"])]


def _attrs(case: dict) -> dict:
    return {k: tf.as_dtype(v) if k in _TYPE_ATTRS else v for k, v in case["attrs"].items()}


def _build(case, values, feed: bool):
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


def _tolerance(case, dtype) -> float:
    if case["op"] not in _LOOSE:
        return 0.0
    return {np.float16: 2e-3, np.float32: 2e-5}.get(np.dtype(dtype).type, 1e-12)


@pytest.mark.parametrize("feed", [False, True], ids=["const", "fed"])
@pytest.mark.parametrize("i", range(len(CASES)), ids=[f"{k}-{c['op']}" for k, c in enumerate(CASES)])
def test_op_computes_what_tensorflow_computed(i, feed):
    case = CASES[i]
    with tf.Graph().as_default():
        if "error" in case:
            # TF refused these while building (ValueError) or running (InvalidArgumentError); tfmini may find a
            # fed input's problem only when it runs.
            with pytest.raises((ValueError, errors.InvalidArgumentError)):
                op, feeds = _build(case, _inputs(i, case), feed)
                with tf.Session() as sess:
                    sess.run(op.outputs, feeds)
            return
        op, feeds = _build(case, _inputs(i, case), feed)
        with tf.Session() as sess:
            got = sess.run(op.outputs, feeds)
    assert len(got) == case["outputs"]
    for j, (value, t) in enumerate(zip(got, op.outputs)):
        want = ARRAYS[f"{i}/out{j}"]
        assert value.dtype == want.dtype, (j, value.dtype, want.dtype)
        assert value.shape == want.shape, (j, value.shape, want.shape)
        assert t.shape.is_compatible_with(want.shape), (j, t.shape, want.shape)
        tol = _tolerance(case, want.dtype)
        if tol:
            np.testing.assert_allclose(value, want, rtol=tol, atol=tol, err_msg=f"output {j}")
        else:
            np.testing.assert_array_equal(value, want, err_msg=f"output {j}")


def test_the_error_cases_fail_in_a_session_that_stays_usable():
    x = tf.placeholder(tf.int32)
    y = apply_op("InvertPermutation", [x]).outputs[0]
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError, match="is duplicated in the input"):
            sess.run(y, {x: [1, 1, 0]})
        np.testing.assert_array_equal(sess.run(y, {x: [2, 0, 1]}), [1, 2, 0])
