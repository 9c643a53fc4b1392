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
_TYPE_ATTRS = {"T", "Tout", "dtype", "out_type", "out_idx", "output_dtype", "output_type", "type", "Treal",
               "Tcomplex"}
# Results TF computes with another series, in another precision or rounding order: compared to a few ulps (TF
# evaluates the float32 special functions in float32, tfmini in float64, so those differ by more; TF's fake
# quantization rounds with or without fused multiply-adds depending on its vectorization).
_LOOSE = {"BesselI0e", "BesselI1e", "Igamma", "Igammac", "Betainc", "Zeta", "Polygamma", "CumulativeLogsumexp",
          "Xlogy", "Xdivy", "Xlog1py", "Angle", "IgammaGradA", "RandomGammaGrad", "StatelessRandomNormal",
          "StatelessTruncatedNormal", "FakeQuantWithMinMaxArgs", "FakeQuantWithMinMaxVars",
          "FakeQuantWithMinMaxVarsPerChannel", "FakeQuantWithMinMaxVarsGradient",
          "FakeQuantWithMinMaxVarsPerChannelGradient", "Ndtri", "Erfinv", "FFT", "IFFT2D", "FFT3D", "RFFT", "IRFFT",
          "RFFT2D", "IRFFT2D", "RFFT3D", "IRFFT3D"}


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
    # d/da of the incomplete gamma function sums a series whose terms cancel: both sides are good to ~1e-11.
    float64 = 1e-9 if case["op"] in ("IgammaGradA", "RandomGammaGrad") else 1e-12
    return {np.float16: 2e-3, np.float32: 2e-5, np.complex64: 2e-5}.get(np.dtype(dtype).type, float64)


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


def _run(t, feed=None):
    with tf.Session() as sess:
        return sess.run(t, feed)


# ----------------------------------------------------------------------------------------------------------
# Unsorted segment reductions
# ----------------------------------------------------------------------------------------------------------
def _segment_reference(data, ids, n, reduce, empty):
    out = np.full((n,) + data.shape[ids.ndim:], empty, dtype=np.float64)
    for seg in range(n):
        rows = data[ids == seg]
        if len(rows):
            out[seg] = reduce(rows, axis=0)
    return out


@pytest.mark.parametrize("fn, reduce, empty", [
    (tf.unsorted_segment_max, np.max, np.finfo(np.float64).min),
    (tf.math.unsorted_segment_min, np.min, np.finfo(np.float64).max),
    (tf.unsorted_segment_prod, np.prod, 1.0),
    (tf.unsorted_segment_mean, np.mean, 0.0),
    (tf.math.unsorted_segment_sqrt_n, lambda rows, axis: rows.sum(axis) / np.sqrt(len(rows)), 0.0),
])
def test_unsorted_segment_reductions_match_numpy(fn, reduce, empty):
    data = np.random.RandomState(0).uniform(-2, 2, (6, 3))
    ids = np.array([3, 0, 3, -1, 0, 3], np.int32)
    got = _run(fn(data, ids, 5))
    np.testing.assert_allclose(got, _segment_reference(data, ids, 5, reduce, empty), rtol=1e-12)


def test_unsorted_segment_ids_may_cover_several_dimensions():
    data = np.arange(12.0).reshape(2, 3, 2)
    ids = np.array([[0, 2, 0], [1, 2, 2]])
    got = _run(tf.unsorted_segment_mean(data, ids, 3))
    np.testing.assert_allclose(got, [[2.0, 3.0], [6.0, 7.0], [(2 + 8 + 10) / 3, (3 + 9 + 11) / 3]])


@pytest.mark.parametrize("fn", [tf.unsorted_segment_max, tf.unsorted_segment_min, tf.unsorted_segment_prod,
                                tf.unsorted_segment_mean, tf.unsorted_segment_sqrt_n])
def test_unsorted_segment_gradients(fn):
    # Every segment has rows: an empty max/min segment holds the dtype's extreme, which the checker's weighted
    # sum would overflow on.
    ids = np.array([2, 0, 2, -1, 0, 1], np.int32)
    data = np.random.RandomState(1).uniform(0.5, 2, (6, 2)) * np.where(np.arange(12).reshape(6, 2) % 3, 1, -1)
    check_gradients(lambda d: fn(d, ids, 3), [data])


def test_unsorted_segment_prod_gradient_with_zeros():
    ids = tf.constant([0, 0, 0, 1, 1, 1])
    data = tf.constant([0.0, 2.0, 3.0, 0.0, 0.0, 5.0], tf.float64)
    grad = _run(tf.gradients(tf.unsorted_segment_prod(data, ids, 2), data)[0])
    np.testing.assert_array_equal(grad, [6.0, 0.0, 0.0, 0.0, 0.0, 0.0])


def test_unsorted_segment_ids_out_of_range_fail():
    ids = tf.placeholder(tf.int32)
    y = tf.unsorted_segment_max(tf.constant([1.0, 2.0]), ids, 2)
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError, match="out of range"):
            sess.run(y, {ids: [0, 2]})
        assert sess.run(y, {ids: [1, 1]}).tolist() == [np.finfo(np.float32).min, 2.0]


# ----------------------------------------------------------------------------------------------------------
# Counting
# ----------------------------------------------------------------------------------------------------------
def test_bincount_matches_numpy():
    arr = np.array([[1, 4], [4, 0]], np.int32)
    assert _run(tf.bincount(arr)).tolist() == np.bincount(arr.ravel()).tolist()
    assert _run(tf.math.bincount(arr, minlength=7)).tolist() == np.bincount(arr.ravel(), minlength=7).tolist()
    assert _run(tf.bincount(arr, maxlength=2)).tolist() == [1, 1]
    w = np.array([[0.5, 1.0], [2.0, 4.0]], np.float32)
    np.testing.assert_allclose(_run(tf.bincount(arr, weights=w)), np.bincount(arr.ravel(), w.ravel()))
    counts = _run(tf.bincount(np.zeros([0], np.int32), dtype=tf.float32))
    assert counts.dtype == np.float32 and counts.shape == (0,)
    with pytest.raises(errors.InvalidArgumentError, match="non-negative"):
        _run(tf.bincount(tf.constant([1, -2])))


def test_histograms_match_numpy():
    values = np.random.RandomState(2).uniform(-6, 6, 500)
    counts = _run(tf.histogram_fixed_width(values, [-5.0, 5.0], nbins=10))
    inside = np.clip(values, -5, 5 - 1e-9)
    np.testing.assert_array_equal(counts, np.histogram(inside, bins=10, range=(-5, 5))[0])
    assert counts.dtype == np.int32
    bins = _run(tf.histogram_fixed_width_bins(values.reshape(20, 25), [-5.0, 5.0], nbins=10))
    assert bins.shape == (20, 25) and bins.dtype == np.int32
    assert tf.histogram_fixed_width_bins([1.0], [0.0, 2.0], dtype=tf.int64).dtype == tf.int32  # as TF
    np.testing.assert_array_equal(np.bincount(bins.ravel(), minlength=10), counts)
    with pytest.raises(errors.InvalidArgumentError, match="value_range"):
        _run(tf.histogram_fixed_width(tf.constant([1.0]), tf.constant([2.0, 1.0]), nbins=3))


def test_confusion_matrix_counts_and_weights():
    labels, preds = [0, 2, 1, 2, 2], [0, 1, 1, 2, 2]
    want = np.zeros((3, 3), np.int32)
    np.add.at(want, (labels, preds), 1)
    got = _run(tf.confusion_matrix(labels, preds))
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, want)
    got = _run(tf.math.confusion_matrix(labels, preds, num_classes=4, dtype=tf.float32,
                                        weights=[1.0, 0.5, 2.0, 1.0, 1.0]))
    assert got.shape == (4, 4) and got[2, 1] == 0.5 and got[2, 2] == 2.0
    with pytest.raises(errors.InvalidArgumentError, match="negative"):
        _run(tf.confusion_matrix([0, -1], [0, 1]))
    with pytest.raises(errors.InvalidArgumentError, match="out of bound"):
        _run(tf.confusion_matrix([0, 3], [0, 1], num_classes=3))


# ----------------------------------------------------------------------------------------------------------
# Array manipulations
# ----------------------------------------------------------------------------------------------------------
def test_linspace_unravel_index_and_unique_with_counts():
    assert tf.linspace is tf.lin_space
    got = _run(tf.linspace(0.0, 1.0, 5))
    np.testing.assert_allclose(got, np.linspace(0, 1, 5))
    with pytest.raises(ValueError):
        tf.linspace(0.0, 1.0, 0)
    np.testing.assert_array_equal(_run(tf.unravel_index([1, 7, 11], [3, 4])), np.unravel_index([1, 7, 11], (3, 4)))
    y, idx, count = _run(tf.unique_with_counts([5, 3, 5, 5, 9, 3]))
    assert y.tolist() == [5, 3, 9] and idx.tolist() == [0, 1, 0, 0, 2, 1] and count.tolist() == [3, 2, 1]


def test_bitcast_reinterprets_bytes():
    x = np.array([1.0, -2.5], np.float32)
    np.testing.assert_array_equal(_run(tf.bitcast(x, tf.int32)), x.view(np.int32))
    as_bytes = _run(tf.bitcast(x, tf.uint8))
    assert as_bytes.shape == (2, 4)
    np.testing.assert_array_equal(_run(tf.bitcast(as_bytes, tf.float32)), x)
    with pytest.raises(ValueError, match="Cannot bitcast"):
        tf.bitcast(tf.constant([1, 2, 3], tf.uint8), tf.float32)


def test_parallel_stack_and_guarantee_const():
    a, b = np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)
    stacked = tf.parallel_stack([a, b])
    assert stacked.shape.as_list() == [2, 2, 3]
    np.testing.assert_array_equal(_run(stacked), np.stack([a, b]))
    x = tf.constant([1.0, 2.0])
    assert _run(tf.guarantee_const(x)).tolist() == [1.0, 2.0]
    with pytest.raises(LookupError):
        tf.gradients(tf.guarantee_const(x), x)


def test_arg_max_arg_min_floor_div_and_clip_by_average_norm():
    x = np.array([[1, 5, 2], [7, 0, 3]], np.int32)
    assert _run(tf.arg_max(x, 1)).tolist() == [1, 0]
    got = _run(tf.arg_min(x, 0, output_type=tf.int32))
    assert got.dtype == np.int32 and got.tolist() == [0, 1, 0]
    assert _run(tf.floor_div([7, -7], [2, 2])).tolist() == [3, -4]
    t = np.array([[3.0, 4.0], [0.0, 0.0]], np.float32)  # L2 norm 5 over 4 elements: average norm 1.25
    np.testing.assert_allclose(_run(tf.clip_by_average_norm(t, 0.5)), t * 0.5 / 1.25, rtol=1e-6)
    np.testing.assert_allclose(_run(tf.clip_by_average_norm(t, 2.0)), t, rtol=1e-6)


def test_manip_names_are_the_array_functions():
    for name in ("gather_nd", "reshape", "reverse", "roll", "scatter_nd", "tile"):
        assert getattr(tf.manip, name) is getattr(tf, name)


# ----------------------------------------------------------------------------------------------------------
# Scatter updates of reference variables
# ----------------------------------------------------------------------------------------------------------
def test_scatter_div_and_nd_updates():
    v = tf.Variable(np.arange(12.0).reshape(3, 4))
    vi = tf.Variable(np.array([7, -7, 9], np.int32))
    upd = tf.scatter_nd_update(v, [[0, 1], [2, 3]], [100.0, 200.0])
    add = tf.scatter_nd_add(v, [[1]], [[1.0, 1.0, 1.0, 1.0]])
    sub = tf.scatter_nd_sub(v, [[0, 0], [0, 0]], [1.0, 2.0])
    div = tf.scatter_div(vi, [0, 1, 0], [2, 2, 3])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        want = np.arange(12.0).reshape(3, 4)
        want[0, 1], want[2, 3] = 100, 200
        np.testing.assert_array_equal(sess.run(upd), want)
        want[1] += 1
        np.testing.assert_array_equal(sess.run(add), want)
        want[0, 0] -= 3
        np.testing.assert_array_equal(sess.run(sub), want)
        assert sess.run(div).tolist() == [1, -3, 9]  # 7 / 6 and -7 / 2, truncated
        bad = tf.scatter_nd_add(v, tf.constant([[5]]), tf.ones([1, 4], tf.float64))
        with pytest.raises(errors.InvalidArgumentError, match="does not index"):
            sess.run(bad)
        np.testing.assert_array_equal(sess.run(v), want)


def test_scatter_nd_shape_mismatch_is_found_at_graph_time():
    v = tf.Variable(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="updates.shape"):
        tf.scatter_nd_update(v, [[0]], np.ones((1, 3)))
    assert tf.scatter_nd_update(v, [[0]], np.ones((1, 4))).op.get_attr("use_locking") is True


# ----------------------------------------------------------------------------------------------------------
# Tensor scatters, repeat, batch_gather, batch_scatter_update
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn, update", [
    (tf.tensor_scatter_nd_update, lambda out, idx, u: out.__setitem__(idx, u)),
    (tf.tensor_scatter_add, np.add.at),
    (tf.tensor_scatter_sub, np.subtract.at),
    (tf.tensor_scatter_nd_max, np.maximum.at),
    (tf.tensor_scatter_nd_min, np.minimum.at),
])
def test_tensor_scatters_match_numpy_and_leave_the_input_alone(fn, update):
    tensor = np.random.RandomState(0).uniform(-1, 1, (4, 3))
    indices = np.array([[2], [0]])
    updates = np.random.RandomState(1).uniform(-1, 1, (2, 3))
    want = tensor.copy()
    update(want, (indices[:, 0],), updates)
    const = tf.constant(tensor)
    out = fn(const, indices, updates)
    with tf.Session() as sess:
        got, again = sess.run([out, const])
    np.testing.assert_allclose(got, want)
    np.testing.assert_array_equal(again, tensor)
    check_gradients(lambda t, u: fn(t, indices, u), [tensor, updates])


def test_tensor_scatter_names_and_errors():
    assert tf.tensor_scatter_update is tf.tensor_scatter_nd_update
    assert tf.tensor_scatter_nd_add is tf.tensor_scatter_add and tf.tensor_scatter_nd_sub is tf.tensor_scatter_sub
    np.testing.assert_array_equal(_run(tf.tensor_scatter_nd_update([1, 2, 3], [[0], [2]], [9, 8])), [9, 2, 8])
    with pytest.raises(ValueError, match="updates.shape"):
        tf.tensor_scatter_nd_add(tf.zeros([3, 2]), [[0]], tf.ones([1, 3]))
    idx = tf.placeholder(tf.int32)
    out = tf.tensor_scatter_nd_add(tf.zeros([3]), idx, [1.0])
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError, match="does not index"):
            sess.run(out, {idx: [[3]]})
        assert sess.run(out, {idx: [[1]]}).tolist() == [0.0, 1.0, 0.0]
    with pytest.raises(ValueError, match="bad_indices_policy"):
        tf.tensor_scatter_nd_add([1.0], [[0]], [1.0], bad_indices_policy="IGNORE")


@pytest.mark.parametrize("repeats, axis", [(2, None), ([1, 0, 3], 1), (3, 0), ([2, 1], 0), (0, 1)])
def test_repeat_matches_numpy(repeats, axis):
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(_run(tf.repeat(x, repeats, axis=axis)), np.repeat(x, repeats, axis=axis))


def test_repeat_gradient_sums_the_copies():
    check_gradients(lambda x: tf.repeat(x, [2, 1, 3], axis=1), [np.random.RandomState(0).uniform(size=(2, 3))])


def test_batch_gather_and_batch_scatter_update():
    params = np.arange(24).reshape(2, 3, 4)
    indices = np.array([[2, 0], [1, 1]])
    np.testing.assert_array_equal(_run(tf.batch_gather(params, indices)),
                                  np.take_along_axis(params, indices[:, :, None], 1))
    v = tf.Variable(np.zeros((2, 4)))
    update = tf.batch_scatter_update(v, [[1, 3], [0, 2]], [[1.0, 2.0], [3.0, 4.0]])
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(update), [[0, 1, 0, 2], [3, 0, 4, 0]])


# ----------------------------------------------------------------------------------------------------------
# Fake quantization
# ----------------------------------------------------------------------------------------------------------
def test_fake_quant_rounds_to_levels_of_the_nudged_range():
    x = np.linspace(-2, 2, 41).astype(np.float32)
    got = _run(tf.fake_quant_with_min_max_args(x, min=-1.0, max=1.0, num_bits=3))
    # 8 levels, 2/7 apart, over a range moved (by less than a level) so that 0 is one of them
    scale = 2 / 7
    steps = (got - got.min()) / scale
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-5)
    assert len(np.unique(np.round(steps))) == 8 and np.isclose(got, 0, atol=1e-6).any()
    assert abs(got.min() + 1) < scale and abs(got.max() - 1) < scale
    halves_up = np.floor((x - got.min()) / scale + 0.5)
    np.testing.assert_allclose(got, np.clip(halves_up, 0, 7) * scale + got.min(), atol=1e-6)


def test_fake_quant_gradients_are_straight_through():
    x = tf.constant(np.linspace(-3, 3, 13).astype(np.float32))
    lo, hi = tf.constant(-1.0), tf.constant(2.0)
    y = tf.fake_quant_with_min_max_vars(x, lo, hi, num_bits=4)
    w = tf.constant(np.arange(13, dtype=np.float32))
    gx, glo, ghi = tf.gradients(tf.reduce_sum(y * w), [x, lo, hi])
    gx, glo, ghi, xv = _run([gx, glo, ghi, x])
    with tf.Session() as sess:
        nudged = sess.run(tf.fake_quant_with_min_max_vars(tf.constant([-5.0, 5.0]), lo, hi, num_bits=4))
    inside = (xv >= nudged[0]) & (xv <= nudged[1])
    np.testing.assert_array_equal(gx, np.where(inside, np.arange(13), 0))
    assert glo == np.arange(13)[xv < nudged[0]].sum() and ghi == np.arange(13)[xv > nudged[1]].sum()
    ga = tf.gradients(tf.fake_quant_with_min_max_args(x, -1.0, 1.0), x)[0]
    lo_args, hi_args = _run(tf.fake_quant_with_min_max_args([-5.0, 5.0], -1.0, 1.0))
    np.testing.assert_array_equal(_run(ga), np.where((xv >= lo_args) & (xv <= hi_args), 1, 0))


def test_fake_quant_per_channel_and_errors():
    x = np.random.RandomState(4).uniform(-3, 3, (5, 2)).astype(np.float32)
    lo, hi = np.array([-1.0, -2.0], np.float32), np.array([1.0, 0.5], np.float32)
    got = _run(tf.fake_quant_with_min_max_vars_per_channel(x, lo, hi))
    for c in range(2):
        np.testing.assert_array_equal(got[:, c], _run(tf.fake_quant_with_min_max_vars(x[:, c], lo[c], hi[c])))
    wrt_x, wrt_lo, wrt_hi = _run(tf.fake_quant_with_min_max_vars_per_channel_gradient(np.ones_like(x), x, lo, hi))
    assert wrt_lo.shape == (2,) and wrt_hi.shape == (2,) and wrt_x.shape == (5, 2)
    with pytest.raises(errors.InvalidArgumentError, match="smaller than max"):
        _run(tf.fake_quant_with_min_max_args(x, min=1.0, max=1.0))
    with pytest.raises(errors.InvalidArgumentError, match="num_bits"):
        _run(tf.fake_quant_with_min_max_vars(x, -1.0, 1.0, num_bits=17))
    with pytest.raises(TypeError):
        tf.fake_quant_with_min_max_args(tf.constant([1.0], tf.float64))


# ----------------------------------------------------------------------------------------------------------
# edit_distance
# ----------------------------------------------------------------------------------------------------------
def _levenshtein_reference(a, b):
    table = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
    return table[-1][-1]


def _sparse_batch(seqs):
    indices = [[i, k] for i, seq in enumerate(seqs) for k in range(len(seq))]
    values = [v for seq in seqs for v in seq]
    width = max([len(s) for s in seqs] + [1])
    return tf.SparseTensor(np.array(indices, np.int64).reshape(-1, 2), np.array(values, np.int32),
                           [len(seqs), width])


def test_edit_distance_matches_a_reference_dynamic_programme():
    rng = np.random.RandomState(6)
    hyps = [list(rng.randint(0, 4, rng.randint(0, 9))) for _ in range(12)]
    truths = [list(rng.randint(0, 4, rng.randint(1, 9))) for _ in range(12)]
    want = np.array([_levenshtein_reference(h, t) for h, t in zip(hyps, truths)], np.float32)
    got = _run(tf.edit_distance(_sparse_batch(hyps), _sparse_batch(truths), normalize=False))
    np.testing.assert_array_equal(got, want)
    normalized = _run(tf.edit_distance(_sparse_batch(hyps), _sparse_batch(truths)))
    np.testing.assert_allclose(normalized, want / [len(t) for t in truths], rtol=1e-6)


def test_edit_distance_takes_sparse_tensor_values_and_refuses_dense_input():
    hyp = tf.SparseTensorValue([[0, 0], [0, 1]], [b"a", b"b"], [1, 2])
    truth = tf.SparseTensorValue([[0, 0]], [b"b"], [1, 1])
    assert _run(tf.edit_distance(hyp, truth)).tolist() == [1.0]
    with pytest.raises(TypeError, match="Hypothesis must be a SparseTensor"):
        tf.edit_distance(tf.constant([[1]]), truth)
    with pytest.raises(TypeError, match="Truth must be a SparseTensor"):
        tf.edit_distance(hyp, tf.constant([[1]]))


def test_scatter_nd_updates_of_resource_variables():
    v = tf.get_variable("resource_nd", initializer=np.zeros((2, 3)), use_resource=True)
    before = v.read_value()
    update = tf.scatter_nd_update(v, [[0, 1], [1, 2]], [5.0, 6.0])
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(update), [[0, 5, 0], [0, 0, 6]])
        np.testing.assert_array_equal(sess.run(tf.scatter_nd_add(v, [[1]], [[1.0, 1.0, 1.0]])), [[0, 5, 0], [1, 1, 7]])
        np.testing.assert_array_equal(sess.run(tf.scatter_nd_sub(v, [[0, 0]], [2.0])), [[-2, 5, 0], [1, 1, 7]])
        with pytest.raises(errors.InvalidArgumentError, match="does not index"):
            sess.run(tf.scatter_nd_sub(v, [[7]], [[1.0, 1.0, 1.0]]))
        np.testing.assert_array_equal(sess.run(before), [[-2, 5, 0], [1, 1, 7]])


def test_fingerprint_rows():
    got = _run(tf.fingerprint(tf.constant([b"a", b"b", b"a"])))
    assert got.dtype == np.uint8 and got.shape == (3, 8)
    np.testing.assert_array_equal(got[0], got[2])
    assert not np.array_equal(got[0], got[1])
    ints = _run(tf.fingerprint(np.arange(6, dtype=np.int32).reshape(2, 3)))
    assert ints.shape == (2, 8)
    with pytest.raises(errors.InvalidArgumentError, match="Unsupported fingerprint method"):
        _run(tf.fingerprint([1, 2], method="md5"))
    with pytest.raises(ValueError):
        tf.fingerprint(tf.constant(1))
