"""tf.image against TensorFlow's recorded outputs (tools/tf_fixtures/gen_image.py builds the same graphs with
TensorFlow), resize and crop_and_resize gradients against finite differences, TF's errors, and the random
augmentations' seed rules and invariants."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest
from gradient_checker import check_gradients

import tfmini as tf

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "tf", "image")

_spec = importlib.util.spec_from_file_location("gen_image", os.path.join(ROOT, "tools", "tf_fixtures",
                                                                         "gen_image.py"))
gen_image = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen_image)

RECORDED = np.load(os.path.join(FIXTURES, "cases.npz"))
INPUTS = gen_image._inputs()
CASES = gen_image.cases(tf, INPUTS)

# tfmini's saturate_cast clamps float32 to int32's max, which rounds up to 2**31 in float32 and wraps in the
# cast (as TF 1.15 did); TF 2.21 clamps to the largest float32 below 2**31.
DIFFERENT_FROM_TF_2_21 = {"convert_float32_int32_1"}


def _run(fetches, feed_dict=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed_dict)


@pytest.mark.parametrize("name", sorted(set(CASES) - DIFFERENT_FROM_TF_2_21))
def test_matches_tensorflow(name):
    with tf.Graph().as_default():
        value = _run(CASES[name]())
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    keys = [f"{name}:{i}" for i in range(len(values))] if isinstance(value, (list, tuple)) else [name]
    for key, got in zip(keys, values):
        want = RECORDED[key]
        got = np.asarray(got)
        assert got.dtype == want.dtype and got.shape == want.shape, key
        if got.dtype.kind == "f":
            np.testing.assert_allclose(got, want, rtol=2e-6, atol=2e-6, err_msg=key)
        else:
            np.testing.assert_array_equal(got, want, err_msg=key)


# ----------------------------------------------------------------------------------------------------------
# Gradients against finite differences
# ----------------------------------------------------------------------------------------------------------
RESIZE_FLAGS = [(False, False), (True, False), (False, True)]


@pytest.mark.parametrize("op", ["resize_bilinear", "resize_bicubic", "resize_nearest_neighbor"])
@pytest.mark.parametrize("size", [(3, 4), (7, 9)])
@pytest.mark.parametrize("flags", RESIZE_FLAGS)
def test_resize_gradient_matches_finite_differences(op, size, flags):
    align, half = flags
    image = np.random.RandomState(1).uniform(-1, 1, (2, 4, 5, 2))
    # The resize ops compute in float32 and are linear in the image, so a large step is exact.
    check_gradients(lambda x: getattr(tf.image, op)(x, size, align_corners=align, half_pixel_centers=half),
                    [image], delta=0.5, rtol=1e-4, atol=1e-4)


def test_resize_gradient_dtype_follows_image():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [1, 3, 3, 1])
        g = tf.gradients(tf.image.resize_bilinear(x, [5, 5]), x)[0]
        assert g.dtype == tf.float64
        assert g.op.type == "ResizeBilinearGrad"
        n = tf.gradients(tf.image.resize_nearest_neighbor(x, [5, 5]), x)[0]
        assert n.op.type == "ResizeNearestNeighborGrad"
        assert _run(n, {x: np.ones((1, 3, 3, 1))}).sum() == 25


@pytest.mark.parametrize("crop", [(3, 4), (1, 1)])
def test_crop_and_resize_gradients_match_finite_differences(crop):
    rng = np.random.RandomState(2)
    image = rng.uniform(-1, 1, (2, 5, 6, 2))
    # corners chosen so that no sample lands on a whole pixel, where the interpolation has a kink
    boxes = np.array([[0.11, 0.07, 0.83, 0.91], [0.62, 0.58, 0.17, 0.23], [-0.13, 0.21, 0.47, 1.09]])
    box_ind = np.array([0, 1, 1], np.int32)

    def fn(img, bx):
        return tf.image.crop_and_resize(tf.cast(img, tf.float32), tf.cast(bx, tf.float32), box_ind, crop)

    check_gradients(fn, [image, boxes], delta=1e-3, rtol=2e-2, atol=2e-3)


def test_crop_and_resize_integer_image_has_box_gradient_only():
    with tf.Graph().as_default():
        image = tf.constant(np.arange(2 * 4 * 4, dtype=np.uint8).reshape(2, 4, 4, 1))
        boxes = tf.constant([[0.1, 0.1, 0.8, 0.9]])
        crops = tf.image.crop_and_resize(image, boxes, [1], [2, 2])
        g_image, g_boxes = tf.gradients(crops, [image, boxes])
        assert g_image is None
        assert _run(g_boxes).shape == (1, 4)


# ----------------------------------------------------------------------------------------------------------
# Shapes, dtypes and TF's errors
# ----------------------------------------------------------------------------------------------------------
def test_resize_images_keeps_static_shapes_and_skips_same_size():
    with tf.Graph().as_default():
        image = tf.placeholder(tf.uint8, [4, 6, 3])
        assert tf.image.resize_images(image, [4, 6]) is not None
        same = tf.image.resize_images(image, [4, 6])
        assert same.dtype == tf.uint8 and same.shape.as_list() == [4, 6, 3]
        out = tf.image.resize_images(image, [8, 5], method=tf.image.ResizeMethod.BICUBIC)
        assert out.dtype == tf.float32 and out.shape.as_list() == [8, 5, 3]
        nearest = tf.image.resize(image, [2, 2], method=tf.image.ResizeMethod.NEAREST_NEIGHBOR)
        assert nearest.dtype == tf.uint8
        with pytest.raises(ValueError, match="1-D Tensor of 2 elements"):
            tf.image.resize_images(image, [1, 2, 3])
        with pytest.raises(ValueError, match="3 or 4 dimensions"):
            tf.image.resize_images(tf.zeros([2, 2]), [1, 1])
        with pytest.raises(ValueError, match="not implemented"):
            tf.image.resize_images(image, [2, 2], method=7)


def test_resize_errors_name_the_op_and_session_stays_usable():
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32)
        size = tf.placeholder(tf.int32)
        out = tf.image.resize_bilinear(images, size, name="my_resize")
        both = tf.image.resize_bilinear(images, size, align_corners=True, half_pixel_centers=True)
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match="my_resize"):
                sess.run(out, {images: np.zeros((3, 3, 1)), size: [2, 2]})
            with pytest.raises(tf.errors.InvalidArgumentError, match="must be positive"):
                sess.run(out, {images: np.zeros((1, 3, 3, 1)), size: [0, 2]})
            with pytest.raises(tf.errors.InvalidArgumentError, match="half_pixel_centers"):
                sess.run(both, {images: np.zeros((1, 3, 3, 1)), size: [2, 2]})
            assert sess.run(out, {images: np.ones((1, 3, 3, 1)), size: [2, 2]}).shape == (1, 2, 2, 1)
        with pytest.raises(ValueError, match="rank 4"):
            tf.image.resize_bilinear(tf.zeros([3, 3, 1]), [2, 2])


def test_crop_and_resize_errors():
    with tf.Graph().as_default():
        ind = tf.placeholder(tf.int32, [None])
        crops = tf.image.crop_and_resize(tf.zeros([2, 4, 4, 1]), [[0.0, 0.0, 1.0, 1.0]], ind, [2, 2])
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match="outside \\[0, batch_size\\)"):
                sess.run(crops, {ind: [2]})
            assert sess.run(crops, {ind: [1]}).shape == (1, 2, 2, 1)
        with pytest.raises(ValueError, match="box_ind"):
            tf.image.crop_and_resize(tf.zeros([1, 2, 2, 1]), [[0.0, 0, 1, 1]], [0], [1, 1], box_indices=[0])


def test_crop_and_pad_checks_static_and_dynamic():
    with tf.Graph().as_default():
        image = tf.zeros([4, 5, 1])
        with pytest.raises(ValueError, match="width must be >= target \\+ offset"):
            tf.image.crop_to_bounding_box(image, 0, 2, 2, 4)
        with pytest.raises(ValueError, match="offset_height must be >= 0"):
            tf.image.pad_to_bounding_box(image, -1, 0, 6, 6)
        with pytest.raises(ValueError, match="at least three-dimensional"):
            tf.image.flip_left_right(tf.zeros([2, 2]))
        fed = tf.placeholder(tf.float32, [None, None, 1])
        crop = tf.image.crop_to_bounding_box(fed, 1, 1, 2, 2)
        assert crop.shape.as_list() == [2, 2, 1]
        padded = tf.image.pad_to_bounding_box(fed, 1, 2, 5, 6)
        value = np.arange(12, dtype=np.float32).reshape(3, 4, 1)
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run(crop, {fed: value}), value[1:3, 1:3])
            np.testing.assert_array_equal(sess.run(padded, {fed: np.ones((3, 4, 1))})[1:4, 2:6], 1)
            with pytest.raises(tf.errors.InvalidArgumentError, match="height must be >= target \\+ offset"):
                sess.run(crop, {fed: np.zeros((2, 4, 1))})
            with pytest.raises(tf.errors.InvalidArgumentError, match="width must be <= target - offset"):
                sess.run(padded, {fed: np.zeros((3, 5, 1))})


def test_dynamic_crop_or_pad_and_central_crop_match_static():
    value = np.random.RandomState(0).uniform(size=(7, 6, 2)).astype(np.float32)
    with tf.Graph().as_default():
        fed = tf.placeholder(tf.float32, [None, None, 2])
        static = tf.constant(value)
        pairs = [(tf.image.resize_image_with_crop_or_pad(fed, 4, 9),
                  tf.image.resize_image_with_crop_or_pad(static, 4, 9)),
                 (tf.image.central_crop(fed, 0.5), tf.image.central_crop(static, 0.5)),
                 (tf.image.resize_image_with_pad(fed, 5, 9), tf.image.resize_image_with_pad(static, 5, 9)),
                 (tf.image.resize_images(fed, [3, 8], preserve_aspect_ratio=True),
                  tf.image.resize_images(static, [3, 8], preserve_aspect_ratio=True))]
        got = _run(pairs, {fed: value})
    for dynamic, fixed in got:
        np.testing.assert_allclose(dynamic, fixed, rtol=1e-6)


def test_nms_errors_and_padding():
    with tf.Graph().as_default():
        boxes = tf.placeholder(tf.float32)
        scores = tf.placeholder(tf.float32)
        sel = tf.image.non_max_suppression(boxes, scores, 3, iou_threshold=1.5)
        ok = tf.image.non_max_suppression(boxes, scores, 3)
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match="iou_threshold must be in \\[0, 1\\]"):
                sess.run(sel, {boxes: np.zeros((2, 4)), scores: np.zeros(2)})
            with pytest.raises(tf.errors.InvalidArgumentError, match="4 columns"):
                sess.run(ok, {boxes: np.zeros((2, 3)), scores: np.zeros(2)})
            assert sess.run(ok, {boxes: np.zeros((0, 4)), scores: np.zeros(0)}).shape == (0,)
            # equal scores: the lower index wins; identical boxes suppress each other
            same = sess.run(ok, {boxes: [[0, 0, 1, 1]] * 3, scores: [0.5, 0.5, 0.5]})
            np.testing.assert_array_equal(same, [0])
        idx, valid = tf.image.non_max_suppression_padded(tf.constant([[0.0, 0, 1, 1]]), [0.9], 4,
                                                         pad_to_max_output_size=True)
        assert idx.shape.as_list() == [4]
        np.testing.assert_array_equal(_run(idx), [0, 0, 0, 0])
        assert _run(valid) == 1


def test_colour_conversion_round_trips():
    rgb = np.random.RandomState(5).uniform(size=(4, 5, 3))
    with tf.Graph().as_default():
        x = tf.constant(rgb)
        pairs = _run([tf.image.hsv_to_rgb(tf.image.rgb_to_hsv(x)), tf.image.yiq_to_rgb(tf.image.rgb_to_yiq(x)),
                      tf.image.yuv_to_rgb(tf.image.rgb_to_yuv(x))])
    # TF's YIQ and YUV matrices are rounded, so their products are the identity to about 1e-4
    for back, tolerance in zip(pairs, (1e-6, 1e-4, 1e-4)):
        np.testing.assert_allclose(back, rgb, atol=tolerance)
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="size 1"):
            tf.image.grayscale_to_rgb(tf.zeros([2, 2, 3]))
        with pytest.raises(ValueError, match="3"):
            tf.image.rgb_to_hsv(tf.zeros([2, 2, 4]))


def test_convert_image_dtype_rules():
    with tf.Graph().as_default():
        img = tf.constant(np.array([0, 128, 255], np.uint8))
        same = tf.image.convert_image_dtype(img, tf.uint8)
        assert same.op.type == "Identity"
        with pytest.raises(AttributeError, match="floating point or integer"):
            tf.image.convert_image_dtype(img, tf.bool)
        np.testing.assert_array_equal(_run(tf.image.convert_image_dtype(img, tf.uint16)), [0, 32768, 65280])


def test_adjust_gamma_rejects_negative_gamma():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="non-negative"):
            tf.image.adjust_gamma(tf.zeros([2, 2, 3]), -1.0)
        gamma = tf.placeholder(tf.float32, [])
        out = tf.image.adjust_gamma(tf.ones([2, 2, 3]) * 0.25, gamma)
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match="non-negative"):
                sess.run(out, {gamma: -0.5})
            np.testing.assert_allclose(sess.run(out, {gamma: 0.5}), 0.5)


def test_kernels_leave_fed_images_unchanged():
    images = np.random.RandomState(0).uniform(size=(1, 6, 6, 3)).astype(np.float32)
    copy = images.copy()
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, images.shape)
        outs = [tf.image.draw_bounding_boxes(x, [[[0.1, 0.1, 0.8, 0.8]]]), tf.image.adjust_hue(x, 0.3),
                tf.image.adjust_saturation(x, 0.5), tf.image.adjust_contrast(x, 2.0),
                tf.image.resize_bilinear(x, [3, 3]), tf.image.flip_left_right(x)]
        _run(outs, {x: images})
    np.testing.assert_array_equal(images, copy)


# ----------------------------------------------------------------------------------------------------------
# Random augmentations
# ----------------------------------------------------------------------------------------------------------
def _draws(build, runs: int = 1, feed=None):
    with tf.Graph().as_default():
        tf.set_random_seed(11)
        out = build()
        with tf.Session() as sess:
            return [sess.run(out, feed) for _ in range(runs)]


def test_random_flips_follow_the_graph_seed_and_flip_both_ways():
    image = np.arange(2 * 3 * 1, dtype=np.float32).reshape(2, 3, 1)
    first = _draws(lambda: tf.image.random_flip_left_right(tf.constant(image)), runs=20)
    again = _draws(lambda: tf.image.random_flip_left_right(tf.constant(image)), runs=20)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    kinds = {tuple(v.ravel()) for v in first}
    assert kinds == {tuple(image.ravel()), tuple(image[:, ::-1].ravel())}
    batch = np.stack([image] * 16)
    out = _draws(lambda: tf.image.random_flip_up_down(tf.constant(batch)))[0]
    flipped = [np.array_equal(o, image[::-1]) for o in out]
    assert all(f or np.array_equal(o, image) for f, o in zip(flipped, out))
    assert 0 < sum(flipped) < 16


def test_random_colour_adjustments_stay_in_their_ranges():
    image = np.random.RandomState(3).uniform(0.2, 0.8, size=(4, 4, 3)).astype(np.float32)
    for _ in range(3):
        (b,) = _draws(lambda: tf.image.random_brightness(tf.constant(image), 0.1))
        delta = b - image
        assert np.ptp(delta) < 1e-6 and abs(delta.mean()) <= 0.1
    (c,) = _draws(lambda: tf.image.random_contrast(tf.constant(image), 0.5, 0.6))
    mean = image.mean(axis=(0, 1))
    factor = (c - mean) / (image - mean)
    assert 0.5 <= factor.min() and factor.max() < 0.6 + 1e-4
    assert _draws(lambda: tf.image.random_hue(tf.constant(image), 0.2))[0].shape == image.shape
    assert _draws(lambda: tf.image.random_saturation(tf.constant(image), 0.2, 0.9))[0].shape == image.shape
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="upper must be > lower"):
            tf.image.random_contrast(image, 0.5, 0.5)
        with pytest.raises(ValueError, match="lower must be non-negative"):
            tf.image.random_saturation(image, -0.5, 0.5)
        with pytest.raises(ValueError, match="<= 0.5"):
            tf.image.random_hue(image, 0.6)
        with pytest.raises(ValueError, match="non-negative"):
            tf.image.random_brightness(image, -0.1)


def test_random_crop_is_tf_random_crop():
    assert tf.image.random_crop is tf.random_crop
    value = np.arange(5 * 6 * 3).reshape(5, 6, 3)
    (crop,) = _draws(lambda: tf.image.random_crop(tf.constant(value), [2, 3, 3]))
    y, x = np.argwhere(value[..., 0] == crop[0, 0, 0])[0]
    np.testing.assert_array_equal(crop, value[y:y + 2, x:x + 3])


def test_sample_distorted_bounding_box_satisfies_its_constraints():
    boxes = np.array([[[0.1, 0.2, 0.5, 0.6], [0.3, 0.3, 0.9, 0.8]]], np.float32)

    def build():
        return tf.image.sample_distorted_bounding_box([40, 60, 3], boxes, seed=4, seed2=9, min_object_covered=0.5,
                                                      aspect_ratio_range=[0.5, 2.0], area_range=[0.1, 0.9])

    runs = _draws(build, runs=30)
    assert all(np.array_equal(a, b) for r1, r2 in zip(runs, _draws(build, runs=30)) for a, b in zip(r1, r2))
    for begin, size, bbox in runs:
        (y, x, z), (h, w, d) = begin, size
        assert z == 0 and d == -1 and 0 <= y and y + h <= 40 and 0 <= x and x + w <= 60
        np.testing.assert_allclose(bbox[0, 0], [y / 40, x / 60, (y + h) / 40, (x + w) / 60], rtol=1e-6)
        if (h, w) != (40, 60):
            assert 0.1 * 2400 - 60 <= h * w <= 0.9 * 2400 + 60
    assert len({tuple(r[0]) for r in runs}) > 1
    with tf.Graph().as_default():
        out = tf.image.sample_distorted_bounding_box([10, 10, 3], np.zeros((1, 0, 4), np.float32))
        with pytest.raises(tf.errors.InvalidArgumentError, match="use_image_if_no_bounding_boxes"):
            _run(out)
        whole = tf.image.sample_distorted_bounding_box([10, 10, 3], np.zeros((1, 0, 4), np.float32),
                                                       use_image_if_no_bounding_boxes=True,
                                                       area_range=[1.0, 1.0])
        begin, size, _ = _run(whole)
        np.testing.assert_array_equal(begin, [0, 0, 0])
        np.testing.assert_array_equal(size, [10, 10, -1])


def test_resize_method_constants_and_namespace():
    assert (tf.image.ResizeMethod.BILINEAR, tf.image.ResizeMethod.NEAREST_NEIGHBOR,
            tf.image.ResizeMethod.BICUBIC, tf.image.ResizeMethod.AREA) == (0, 1, 2, 3)
    assert tf.image.resize is tf.image.resize_images
    assert tf.image.transpose is tf.image.transpose_image
    assert tf.image.resize_with_crop_or_pad is tf.image.resize_image_with_crop_or_pad


# ----------------------------------------------------------------------------------------------------------
# Patches, combined NMS, SSIM
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("padding", ["VALID", "SAME"])
def test_extract_image_patches_gradient_matches_finite_differences(padding):
    image = np.random.RandomState(4).uniform(-1, 1, (2, 5, 6, 2))
    check_gradients(lambda x: tf.extract_image_patches(x, [1, 3, 2, 1], [1, 2, 1, 1], [1, 1, 2, 1], padding),
                    [image])


def test_extract_image_patches_shapes_and_errors():
    with tf.Graph().as_default():
        patches = tf.image.extract_image_patches(tf.zeros([2, 7, 8, 3], tf.int32), sizes=[1, 3, 3, 1],
                                                 strides=[1, 2, 2, 1], rates=[1, 1, 1, 1], padding="SAME")
        assert patches.shape.as_list() == [2, 4, 4, 27] and patches.dtype == tf.int32
        with pytest.raises(ValueError, match="batch and depth"):
            tf.image.extract_patches(tf.zeros([1, 4, 4, 1]), [2, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1], "VALID")
        with pytest.raises(ValueError, match="rank 4"):
            tf.image.extract_patches(tf.zeros([4, 4, 1]), [1, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1], "VALID")


def test_combined_non_max_suppression_shapes_and_clipping():
    boxes = np.array([[[[-0.5, 0.2, 0.4, 1.5]], [[0.0, 0.0, 0.1, 0.1]]]], np.float32)
    scores = np.array([[[0.9, 0.1], [0.3, 0.8]]], np.float32)
    with tf.Graph().as_default():
        out = tf.image.combined_non_max_suppression(boxes, scores, 1, 5)
        assert [t.shape.as_list() for t in out] == [[1, 5, 4], [1, 5], [1, 5], [1]]
        nmsed_boxes, nmsed_scores, classes, valid = _run(out)
    np.testing.assert_allclose(nmsed_scores[0], [0.9, 0.8, 0, 0, 0])
    np.testing.assert_array_equal(classes[0, :2], [0, 1])
    np.testing.assert_allclose(nmsed_boxes[0, 0], [0.0, 0.2, 0.4, 1.0])
    assert valid.tolist() == [2]


def test_ssim_of_an_image_with_itself_is_one_and_checks_sizes():
    image = np.random.RandomState(1).uniform(size=(2, 16, 16, 3)).astype(np.float32)
    with tf.Graph().as_default():
        same = tf.image.ssim(image, image, 1.0)
        assert same.shape.as_list() == [2]
        np.testing.assert_allclose(_run(same), [1, 1], rtol=1e-5)
        small = tf.placeholder(tf.float32, [None, None, 3])
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError):
                sess.run(tf.image.ssim(small, small, 1.0), {small: np.zeros((5, 5, 3))})


def test_extract_glimpse_fills_outside_with_noise_from_the_image_range():
    image = np.arange(2 * 6 * 7 * 2, dtype=np.float32).reshape(2, 6, 7, 2)
    with tf.Graph().as_default():
        out = _run(tf.image.extract_glimpse(image, [3, 3], np.array([[-1, -1], [1, 1]], np.float32)))
    np.testing.assert_array_equal(out[0, 1:, 1:], image[0, :2, :2])
    np.testing.assert_array_equal(out[1, :2, :2], image[1, 4:, 5:])
    assert 0 <= out[0, 0].min() and out[0, 0].max() <= 83
    assert 84 <= out[1, 2].min() and out[1, 2].max() <= 167
    with tf.Graph().as_default():
        with pytest.raises(tf.errors.InvalidArgumentError, match="offsets"):
            _run(tf.image.extract_glimpse(image, [3, 3], np.zeros((3, 2), np.float32)))


def test_sample_distorted_bounding_box_takes_its_seeds_as_given():
    with tf.Graph().as_default():
        tf.set_random_seed(5)
        begin, _, _ = tf.image.sample_distorted_bounding_box([8, 8, 3], [[[0.0, 0.0, 1.0, 1.0]]], seed2=3)
        assert (begin.op.get_attr("seed"), begin.op.get_attr("seed2")) == (0, 3)
        assert begin.op.type == "SampleDistortedBoundingBoxV2"


@pytest.mark.parametrize("make", [
    lambda x: tf.image.adjust_hue(x, 0.1), lambda x: tf.image.adjust_saturation(x, 1.5),
    lambda x: tf.image.adjust_contrast(x, 1.5), lambda x: tf.image.rgb_to_hsv(x), lambda x: tf.image.hsv_to_rgb(x),
    lambda x: tf.image.resize_area(x, [2, 2]),
])
def test_ops_tf_gives_no_gradient_refuse_one_as_tf_does(make):
    """TF 1.15 registers no gradient for these ops: tf.gradients through them raises LookupError (a silent None
    would hide that the loss does not reach the image)."""
    x = tf.constant(np.full((1, 4, 4, 3), 0.5, np.float32))
    with pytest.raises(LookupError, match="No gradient defined"):
        tf.gradients(tf.reduce_sum(make(x)), x)
