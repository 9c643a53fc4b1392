"""SpaceToDepth/DepthToSpace, SpaceToBatch(ND)/BatchToSpace(ND), tf.required_space_to_batch_paddings and
tf.nn.with_space_to_batch: recorded TensorFlow values and gradients, NumPy references built element by
element, round trips, static shapes and the errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conv_recorded_cases import cases_starting, check_recorded_case
from gradient_checker import check_gradients, random_array

import tfmini as tf
from tfmini.framework.registry import apply_op
from tfmini.ops import conv3d_ops, space_depth_ops


@pytest.mark.parametrize("name", cases_starting("space_to", "depth_to", "batch_to", "required_space"))
def test_matches_recorded_tensorflow(name):
    check_recorded_case(name)


def _space_to_depth_reference(x, b):
    n, h, w, c = x.shape
    out = np.zeros((n, h // b, w // b, b * b * c), x.dtype)
    for i, j, di, dj in itertools.product(range(h // b), range(w // b), range(b), range(b)):
        out[:, i, j, (di * b + dj) * c:(di * b + dj + 1) * c] = x[:, i * b + di, j * b + dj]
    return out


def test_space_to_depth_and_back_in_both_layouts():
    x = random_array((2, 6, 4, 3), dtype=np.float32, seed=1)
    with tf.Graph().as_default(), tf.Session() as sess:
        s = tf.nn.space_to_depth(x, 2)
        s_first = tf.space_to_depth(np.transpose(x, (0, 3, 1, 2)), 2, data_format="NCHW")
        back = tf.depth_to_space(s, 2)
        back_first = tf.nn.depth_to_space(s_first, 2, data_format="NCHW")
        assert s.shape.as_list() == [2, 3, 2, 12] and s_first.shape.as_list() == [2, 12, 3, 2]
        got, got_first, got_back, got_back_first = sess.run([s, s_first, back, back_first])
    np.testing.assert_array_equal(got, _space_to_depth_reference(x, 2))
    np.testing.assert_array_equal(got_first, np.transpose(got, (0, 3, 1, 2)))
    np.testing.assert_array_equal(got_back, x)
    np.testing.assert_array_equal(got_back_first, np.transpose(x, (0, 3, 1, 2)))


def test_space_and_depth_gradients():
    check_gradients(lambda x: tf.space_to_depth(x, 2), [random_array((1, 4, 2, 2), seed=2)])
    check_gradients(lambda x: tf.depth_to_space(x, 2, data_format="NCHW"), [random_array((1, 8, 2, 1), seed=3)])


def _space_to_batch_reference(x, block, paddings):
    m = len(block)
    xp = np.pad(x, [(0, 0)] + [tuple(p) for p in paddings] + [(0, 0)] * (x.ndim - 1 - m))
    n = x.shape[0]
    out_spatial = [s // b for s, b in zip(xp.shape[1:1 + m], block)]
    out = np.zeros((n * int(np.prod(block)), *out_spatial, *x.shape[1 + m:]), x.dtype)
    for offsets in itertools.product(*(range(b) for b in block)):
        k = 0
        for o, b in zip(offsets, block):
            k = k * b + o
        for batch in range(n):
            index = tuple(slice(o, None, b) for o, b in zip(offsets, block))
            out[k * n + batch] = xp[(batch, *index)]
    return out


@pytest.mark.parametrize("block, paddings, shape", [
    ([2, 3], [[1, 1], [2, 1]], (2, 4, 6, 3)),
    ([3], [[0, 2]], (3, 7, 2)),
    ([2, 1, 2], [[0, 0], [1, 0], [1, 1]], (1, 4, 3, 2, 2)),
])
def test_space_to_batch_nd_matches_a_reference_and_inverts(block, paddings, shape):
    x = random_array(shape, dtype=np.int32, low=-9, high=9, seed=4)
    with tf.Graph().as_default(), tf.Session() as sess:
        s = tf.space_to_batch_nd(x, block, paddings)
        back = tf.manip.batch_to_space_nd(s, block, paddings)
        want = _space_to_batch_reference(x, block, paddings)
        assert s.shape.as_list() == list(want.shape)
        got, got_back = sess.run([s, back])
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got_back, x)


def test_space_to_batch_with_fed_block_and_paddings_and_gradients():
    x = random_array((2, 4, 5, 1), seed=5)
    with tf.Graph().as_default(), tf.Session() as sess:
        block = tf.placeholder(tf.int64, [2])
        pads = tf.placeholder(tf.int32, [2, 2])
        s = tf.space_to_batch_nd(x, block, pads)
        assert s.shape.as_list() == [None, None, None, 1]
        got = sess.run(s, {block: [2, 2], pads: [[0, 0], [1, 2]]})
    np.testing.assert_array_equal(got, _space_to_batch_reference(x, [2, 2], [[0, 0], [1, 2]]))
    check_gradients(lambda t: tf.space_to_batch_nd(t, [2, 2], [[0, 0], [1, 2]]), [x])
    check_gradients(lambda t: tf.batch_to_space_nd(t, [2, 1], [[1, 0], [0, 0]]), [random_array((4, 2, 3), seed=6)])
    check_gradients(lambda t: tf.space_to_batch(t, [[1, 1], [0, 1]], block_size=2), [x])
    check_gradients(lambda t: tf.batch_to_space(t, [[0, 1], [1, 1]], 2), [random_array((4, 2, 2, 1), seed=7)])


def test_4d_forms_equal_the_nd_ops_with_a_square_block():
    """tf.space_to_batch/batch_to_space build the ND ops with an int64 square block, as TF 1.x does; the 4-D
    SpaceToBatch/BatchToSpace ops (found in imported graphs) compute the same."""
    x = random_array((2, 5, 3, 2), dtype=np.float32, seed=8)
    with tf.Graph().as_default(), tf.Session() as sess:
        a = tf.space_to_batch(x, [[1, 0], [2, 1]], block_shape=3)
        b = apply_op("SpaceToBatch", [x, [[1, 0], [2, 1]]], {"block_size": 3}).outputs[0]
        c = tf.batch_to_space(a, [[1, 0], [2, 1]], 3)
        d = apply_op("BatchToSpace", [b, [[1, 0], [2, 1]]], {"block_size": 3}).outputs[0]
        assert a.op.type == "SpaceToBatchND" and a.op.inputs[1].dtype == tf.int64
        assert c.op.type == "BatchToSpaceND" and b.shape.as_list() == [18, 2, 2, 2]
        got_a, got_b, got_c, got_d = sess.run([a, b, c, d])
    np.testing.assert_array_equal(got_a, got_b)
    np.testing.assert_array_equal(got_c, x)
    np.testing.assert_array_equal(got_d, x)
    check_gradients(lambda t: apply_op("SpaceToBatch", [t, [[1, 1], [0, 1]]], {"block_size": 2}).outputs[0],
                    [random_array((2, 4, 5, 1), seed=18)])
    check_gradients(lambda t: apply_op("BatchToSpace", [t, [[0, 1], [1, 1]]], {"block_size": 2}).outputs[0],
                    [random_array((4, 2, 2, 1), seed=19)])


def test_required_space_to_batch_paddings_static_and_fed():
    with tf.Graph().as_default(), tf.Session() as sess:
        p, c = tf.required_space_to_batch_paddings([5, 7], [2, 3], [[1, 0], [2, 2]])
        assert p.op.type == "Const"
        shape = tf.placeholder(tf.int32, [2])
        pf, cf = tf.required_space_to_batch_paddings(shape, [2, 3])
        got = sess.run([p, c, pf, cf], {shape: [5, 7]})
    np.testing.assert_array_equal(got[0], [[1, 0], [2, 3]])
    np.testing.assert_array_equal(got[1], [[0, 0], [0, 1]])
    np.testing.assert_array_equal(got[2], [[0, 1], [0, 2]])
    np.testing.assert_array_equal(got[3], [[0, 1], [0, 2]])


def test_with_space_to_batch_makes_an_undilated_op_dilated():
    x = random_array((1, 7, 8, 2), seed=9)
    w = random_array((2, 3, 2, 3), seed=10)
    with tf.Graph().as_default(), tf.Session() as sess:
        for padding in ("SAME", "VALID"):
            y = tf.nn.with_space_to_batch(x, [2, 3], padding,
                                          lambda t, n, p: tf.nn.conv2d(t, w, [1, 1, 1, 1], p),
                                          filter_shape=[2, 3])
            ref = tf.nn.conv2d(x, w, [1, 1, 1, 1], padding, dilations=[1, 2, 3, 1])
            got, want = sess.run([y, ref])
            np.testing.assert_allclose(got, want, rtol=1e-12)
        plain = tf.nn.with_space_to_batch(x, [1, 1], "SAME", lambda t, n, p: tf.identity(t, name="plain"))
        assert plain.op.name == "plain"
        with pytest.raises(ValueError, match="filter_shape"):
            tf.nn.with_space_to_batch(x, [2, 2], "SAME", lambda t, n, p: t)


def test_graph_construction_errors():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="divisible"):
            tf.space_to_depth(tf.zeros([1, 5, 4, 1]), 2)
        with pytest.raises(ValueError, match="divisible"):
            tf.depth_to_space(tf.zeros([1, 2, 2, 6]), 2)
        with pytest.raises(ValueError, match="at least minimum 2"):
            tf.space_to_depth(tf.zeros([1, 4, 4, 1]), 1)
        with pytest.raises(ValueError, match="not divisible"):
            tf.space_to_batch_nd(tf.zeros([1, 5, 4, 1]), [2, 2], [[0, 0], [0, 0]])
        with pytest.raises(ValueError, match="divisible by product"):
            tf.batch_to_space_nd(tf.zeros([3, 2, 2, 1]), [2, 1], [[0, 0], [0, 0]])


def test_run_time_errors_leave_the_session_usable():
    with tf.Graph().as_default(), tf.Session() as sess:
        x = tf.placeholder(tf.float32)
        s = tf.space_to_depth(x, 2, name="s2d")
        with pytest.raises(tf.errors.InvalidArgumentError, match="divisible by block_size") as info:
            sess.run(s, {x: np.zeros((1, 3, 4, 1))})
        assert "s2d" in str(info.value)
        pads = tf.placeholder(tf.int32)
        b = tf.space_to_batch_nd(x, [2, 2], pads)
        with pytest.raises(tf.errors.InvalidArgumentError, match="non-negative"):
            sess.run(b, {x: np.zeros((1, 4, 4, 1)), pads: [[-1, 1], [0, 0]]})
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"shape \[2, 2\]"):
            sess.run(b, {x: np.zeros((1, 4, 4, 1)), pads: [[0, 0]]})
        c = tf.batch_to_space_nd(x, [2, 2], pads)
        with pytest.raises(tf.errors.InvalidArgumentError, match="crops"):
            sess.run(c, {x: np.zeros((4, 1, 1, 1)), pads: [[2, 1], [0, 0]]})
        assert sess.run(s, {x: np.ones((1, 2, 2, 1))}).shape == (1, 1, 1, 4)


def test_kernels_leave_their_inputs_unchanged():
    x = random_array((2, 4, 4, 2), dtype=np.float32, seed=11)
    x0 = x.copy()
    with tf.Graph().as_default(), tf.Session() as sess:
        xp = tf.placeholder(tf.float32, x.shape)
        outs = [tf.space_to_depth(xp, 2), tf.space_to_batch_nd(xp, [2, 2], [[0, 0], [0, 0]]),
                tf.batch_to_space_nd(xp, [1, 2], [[0, 0], [0, 0]])]
        values = sess.run(outs, {xp: x})
        values[1][...] = 7.0  # results are the caller's own arrays
    np.testing.assert_array_equal(x, x0)


def test_rearrangements_that_move_nothing_still_return_fresh_arrays():
    """A block of 1 (or one block per image, or 1-voxel patches) leaves the layout as it was: the kernels must
    still return new arrays (the executor may write into an op's fresh output), never a view of their input."""
    x = random_array((1, 2, 2, 4), dtype=np.float32, seed=12)
    image = random_array((1, 2, 2, 1), dtype=np.float32, seed=13)
    pixel = random_array((1, 1, 1, 4), dtype=np.float32, seed=14)
    volume = random_array((1, 1, 2, 2, 4), dtype=np.float32, seed=15)
    no_pairs = np.zeros((2, 2), np.int32)
    cases = [(space_depth_ops._space_to_batch_nd(x, np.array([1, 1]), no_pairs), x),
             (space_depth_ops._batch_to_space_nd(x, np.array([1, 1]), no_pairs), x),
             (space_depth_ops._space_to_depth(image, block_size=2, data_format="NHWC"), image),
             (space_depth_ops._depth_to_space(pixel, block_size=2, data_format="NHWC"), pixel),
             (conv3d_ops._extract_volume_patches(volume, ksizes=[1] * 5, strides=[1] * 5, padding="VALID"), volume)]
    for result, source in cases:
        assert not np.may_share_memory(result, source)


def test_with_space_to_batch_on_channels_first_spatial_dims():
    """Dimensions between the batch and the spatial ones (the channels of NCHW) get block 1 and no padding."""
    x = random_array((2, 9, 8, 3), seed=16)
    w = random_array((2, 2, 3, 4), seed=17)
    with tf.Graph().as_default(), tf.Session() as sess:
        first = tf.nn.with_space_to_batch(
            np.transpose(x, (0, 3, 1, 2)), [2, 3], "SAME",
            lambda t, n, p: tf.nn.conv2d(t, w, [1, 1, 1, 1], p, data_format="NCHW"), filter_shape=[2, 2],
            spatial_dims=[2, 3])
        pooled = tf.nn.pool(np.transpose(x, (0, 3, 1, 2)), [2, 2], "MAX", "VALID", dilation_rate=[2, 3],
                            data_format="NCHW")
        want_conv = tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME", dilations=[1, 2, 3, 1])
        want_pool = tf.nn.pool(x, [2, 2], "MAX", "VALID", dilation_rate=[2, 3])
        got, got_pool, want, want_p = sess.run([first, pooled, want_conv, want_pool])
    np.testing.assert_allclose(np.transpose(got, (0, 2, 3, 1)), want, rtol=1e-12)
    np.testing.assert_array_equal(np.transpose(got_pool, (0, 2, 3, 1)), want_p)
