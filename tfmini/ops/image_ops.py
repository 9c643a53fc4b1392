"""`tf.image`'s geometry and statistics: crop, pad, flip, rotate and transpose, per-image standardization, total
variation, image gradients, Sobel edges, PSNR and SSIM, and the ExtractImagePatches and ExtractGlimpse ops, each
followed by its wrappers.

The other tf.image families live in `image_resize_ops`, `image_box_ops`, `image_colour_ops` (with
convert_image_dtype) and `image_codec_ops`, their shared checks in `image_common`. Images are NHWC (or HWC where TF
accepts a single image).
"""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import NotDifferentiable, RegisterGradient, apply_op, register_op
from tfmini.ops import array_ops, control_flow_ops, depthwise_conv_ops, math_ops, nn_ops, random_ops
from tfmini.ops.image_colour_ops import convert_image_dtype
from tfmini.ops.image_common import (
    _as_batch,
    _assert,
    _check_at_least_3d,
    _dimensions,
    _int_vector,
    _invalid,
    _is_tensor,
    _static_or_none,
    _target_batch,
    _unbatch,
    _with_checks,
)


# ----------------------------------------------------------------------------------------------------------
# Crop and pad
# ----------------------------------------------------------------------------------------------------------
@tf_export("image.crop_to_bounding_box")
def crop_to_bounding_box(image, offset_height, offset_width, target_height, target_width) -> _ops.Tensor:
    """The [target_height, target_width] window of `image` whose top-left corner is at the offsets."""
    with _ops.name_scope(None, "crop_to_bounding_box", [image]):
        image = _ops.convert_to_tensor(image, name="image")
        image, is_batch = _as_batch(image)
        checks = _check_at_least_3d(image, require_static=False)
        batch, height, width, depth = _dimensions(image, 4)
        checks += _assert(offset_width >= 0, ValueError, "offset_width must be >= 0.")
        checks += _assert(offset_height >= 0, ValueError, "offset_height must be >= 0.")
        checks += _assert(target_width > 0, ValueError, "target_width must be > 0.")
        checks += _assert(target_height > 0, ValueError, "target_height must be > 0.")
        checks += _assert(width >= target_width + offset_width, ValueError, "width must be >= target + offset.")
        checks += _assert(height >= target_height + offset_height, ValueError, "height must be >= target + offset.")
        image = _with_checks(checks, image)
        cropped = array_ops.slice(image, _int_vector([0, offset_height, offset_width, 0]),
                                  _int_vector([-1, target_height, target_width, -1]))
        cropped.set_shape(_static_or_none([batch, target_height, target_width, depth]))
        return _unbatch(cropped, is_batch)


@tf_export("image.pad_to_bounding_box")
def pad_to_bounding_box(image, offset_height, offset_width, target_height, target_width) -> _ops.Tensor:
    """`image` placed at the offsets in a zero canvas of [target_height, target_width]."""
    with _ops.name_scope(None, "pad_to_bounding_box", [image]):
        image = _ops.convert_to_tensor(image, name="image")
        image, is_batch = _as_batch(image)
        checks = _check_at_least_3d(image, require_static=False)
        batch, height, width, depth = _dimensions(image, 4)
        after_w = target_width - offset_width - width
        after_h = target_height - offset_height - height
        checks += _assert(offset_height >= 0, ValueError, "offset_height must be >= 0")
        checks += _assert(offset_width >= 0, ValueError, "offset_width must be >= 0")
        checks += _assert(after_w >= 0, ValueError, "width must be <= target - offset")
        checks += _assert(after_h >= 0, ValueError, "height must be <= target - offset")
        image = _with_checks(checks, image)
        paddings = array_ops.reshape(_int_vector([0, 0, offset_height, after_h, offset_width, after_w, 0, 0]),
                                     [4, 2])
        padded = array_ops.pad(image, paddings)
        padded.set_shape(_static_or_none([batch, target_height, target_width, depth]))
        return _unbatch(padded, is_batch)


@tf_export("image.central_crop")
def central_crop(image, central_fraction) -> _ops.Tensor:
    """The central `central_fraction` (in (0, 1]) of `image` along height and width."""
    with _ops.name_scope(None, "central_crop", [image]):
        image = _ops.convert_to_tensor(image, name="image")
        if central_fraction <= 0.0 or central_fraction > 1.0:
            raise ValueError("central_fraction must be within (0, 1]")
        if central_fraction == 1.0:
            return image
        rank = image.shape.ndims
        if rank not in (3, 4):
            raise ValueError(f"`image` should either be a Tensor with rank = 3 or rank = 4. Had rank = {rank}.")
        image = _with_checks(_check_at_least_3d(image, require_static=False), image)
        dims = _dimensions(image, rank)
        height, width = dims[-3], dims[-2]

        def start_and_size(size):
            if _is_tensor(size):
                f = math_ops.cast(size, _dt.float64)
                start = math_ops.cast((f - f * central_fraction) / 2, _dt.int32)
                return start, math_ops.cast(size, _dt.int32) - start * 2
            start = int((size - size * central_fraction) / 2)
            return start, size - start * 2

        h0, hs = start_and_size(height)
        w0, ws = start_and_size(width)
        begin = [h0, w0, 0] if rank == 3 else [0, h0, w0, 0]
        size = [hs, ws, -1] if rank == 3 else [-1, hs, ws, -1]
        cropped = array_ops.slice(image, _int_vector(begin), _int_vector(size))
        static = [d if not _is_tensor(d) else None for d in dims]
        static[-3:-1] = _static_or_none([hs, ws])
        cropped.set_shape(static)
        return cropped


@tf_export("image.resize_image_with_crop_or_pad", "image.resize_with_crop_or_pad")
def resize_image_with_crop_or_pad(image, target_height, target_width) -> _ops.Tensor:
    """Centre-crops and/or zero-pads `image` to [target_height, target_width]."""
    with _ops.name_scope(None, "resize_image_with_crop_or_pad", [image]):
        image, is_batch = _target_batch(image, target_height, target_width)
        _, height, width, _ = _dimensions(image, 4)

        def halves(target, size):
            diff = target - size
            if _is_tensor(diff):
                return math_ops.maximum(-diff // 2, 0), math_ops.maximum(diff // 2, 0), math_ops.minimum(target, size)
            return max(-diff // 2, 0), max(diff // 2, 0), min(target, size)

        crop_h, pad_h, keep_h = halves(target_height, height)
        crop_w, pad_w, keep_w = halves(target_width, width)
        cropped = crop_to_bounding_box(image, crop_h, crop_w, keep_h, keep_w)
        resized = pad_to_bounding_box(cropped, pad_h, pad_w, target_height, target_width)
        resized.set_shape(_static_or_none([None, target_height, target_width, None]))
        return _unbatch(resized, is_batch)


# ----------------------------------------------------------------------------------------------------------
# Flip, rotate, transpose
# ----------------------------------------------------------------------------------------------------------
def _image_axes(image) -> tuple[_ops.Tensor, int]:
    """`image` checked to be 3-D or 4-D, and the offset of its height axis (0 or 1)."""
    image = _ops.convert_to_tensor(image, name="image")
    checks = _check_at_least_3d(image, require_static=False)
    image = _with_checks(checks, image)
    ndims = image.shape.ndims
    if ndims is None or ndims == 3:
        return image, 0
    if ndims == 4:
        return image, 1
    raise ValueError(f"'image' (shape {image.shape}) must have either 3 or 4 dimensions.")


@tf_export("image.flip_left_right")
def flip_left_right(image) -> _ops.Tensor:
    """Reverses the width axis of an image or a batch of images."""
    with _ops.name_scope(None, "flip_left_right", [image]):
        image, first = _image_axes(image)
        return array_ops.reverse(image, [first + 1])


@tf_export("image.flip_up_down")
def flip_up_down(image) -> _ops.Tensor:
    """Reverses the height axis of an image or a batch of images."""
    with _ops.name_scope(None, "flip_up_down", [image]):
        image, first = _image_axes(image)
        return array_ops.reverse(image, [first])


def _random_flip(image, axis_offset: int, seed, scope_name: str) -> _ops.Tensor:
    with _ops.name_scope(None, scope_name, [image]) as scope:
        image, first = _image_axes(image)
        axis = first + axis_offset
        if first == 0:
            draw = random_ops.random_uniform([], 0, 1.0, seed=seed)
            return control_flow_ops.cond(math_ops.less(draw, 0.5), lambda: array_ops.reverse(image, [axis]),
                                         lambda: image, name=scope)
        batch = array_ops.shape(image)[0]
        draw = random_ops.random_uniform(array_ops.reshape(batch, [1]), 0, 1.0, seed=seed)
        flips = math_ops.cast(math_ops.round(array_ops.reshape(draw, array_ops.stack([batch, 1, 1, 1]))),
                              image.dtype)
        return flips * array_ops.reverse(image, [axis]) + (1 - flips) * image


@tf_export("image.random_flip_left_right")
def random_flip_left_right(image, seed=None) -> _ops.Tensor:
    """Flips an image (or each image of a batch) left to right with probability 1/2."""
    return _random_flip(image, 1, seed, "random_flip_left_right")


@tf_export("image.random_flip_up_down")
def random_flip_up_down(image, seed=None) -> _ops.Tensor:
    """Flips an image (or each image of a batch) upside down with probability 1/2."""
    return _random_flip(image, 0, seed, "random_flip_up_down")


@tf_export("image.rot90")
def rot90(image, k=1, name=None) -> _ops.Tensor:
    """Rotates an image (or each image of a batch) by k quarter turns counter-clockwise."""
    with _ops.name_scope(name, "rot90", [image, k]) as scope:
        image, first = _image_axes(image)
        h, w = first, first + 1
        perm = list(range(image.shape.ndims or 3))
        perm[h], perm[w] = perm[w], perm[h]
        turns = [lambda: image,
                 lambda: array_ops.transpose(array_ops.reverse(image, [w]), perm),
                 lambda: array_ops.reverse(image, [h, w]),
                 lambda: array_ops.reverse(array_ops.transpose(image, perm), [w])]
        if not _is_tensor(k):
            out = turns[int(k) % 4]()
            return array_ops.identity(out, name=scope)
        k = math_ops.floormod(_ops.convert_to_tensor(k, dtype=_dt.int32, name="k"), 4)
        out = control_flow_ops.case([(math_ops.equal(k, i), fn) for i, fn in enumerate(turns[1:], 1)],
                                    default=turns[0], exclusive=True, name=scope)
        if image.shape.ndims is not None:
            out.set_shape([None] * image.shape.ndims)
        return out


@tf_export("image.transpose_image", "image.transpose")
def transpose_image(image, name=None) -> _ops.Tensor:
    """Swaps the height and width axes of an image or a batch of images."""
    with _ops.name_scope(name, "transpose", [image]):
        image, first = _image_axes(image)
        return array_ops.transpose(image, [1, 0, 2] if first == 0 else [0, 2, 1, 3])


# ----------------------------------------------------------------------------------------------------------
# Image statistics
# ----------------------------------------------------------------------------------------------------------
@tf_export("image.per_image_standardization")
def per_image_standardization(image) -> _ops.Tensor:
    """(image - mean) / max(stddev, 1/sqrt(num_pixels)) per image, in float32 (TF 1.15's rule)."""
    with _ops.name_scope(None, "per_image_standardization", [image]) as scope:
        image = _ops.convert_to_tensor(image, name="image")
        image = _with_checks(_check_at_least_3d(image, require_static=False), image)
        num_pixels = math_ops.reduce_prod(array_ops.shape(image)[-3:])
        image = math_ops.cast(image, _dt.float32)
        mean = math_ops.reduce_mean(image, axis=[-1, -2, -3], keepdims=True)
        variance = math_ops.reduce_mean(math_ops.square(image), axis=[-1, -2, -3], keepdims=True) \
            - math_ops.square(mean)
        stddev = math_ops.sqrt(math_ops.maximum(variance, 0.0))
        min_stddev = math_ops.rsqrt(math_ops.cast(num_pixels, _dt.float32))
        scale = math_ops.maximum(stddev, min_stddev)
        return math_ops.truediv(math_ops.subtract(image, mean), scale, name=scope)


@tf_export("image.total_variation")
def total_variation(images, name=None) -> _ops.Tensor:
    """Sum of absolute differences between neighbouring pixels (per image for a batch)."""
    with _ops.name_scope(name, "total_variation"):
        images = _ops.convert_to_tensor(images, name="images")
        ndims = images.shape.ndims
        if ndims == 3:
            dy = images[1:, :, :] - images[:-1, :, :]
            dx = images[:, 1:, :] - images[:, :-1, :]
            axis = None
        elif ndims == 4:
            dy = images[:, 1:, :, :] - images[:, :-1, :, :]
            dx = images[:, :, 1:, :] - images[:, :, :-1, :]
            axis = [1, 2, 3]
        else:
            raise ValueError("'images' must be either 3 or 4-dimensional.")
        return math_ops.reduce_sum(math_ops.abs(dy), axis=axis) + math_ops.reduce_sum(math_ops.abs(dx), axis=axis)


@tf_export("image.image_gradients")
def image_gradients(image):
    """Forward differences (dy, dx) of a [batch, height, width, depth] image, zero in the last row/column."""
    image = _ops.convert_to_tensor(image, name="image")
    if image.shape.ndims != 4:
        raise ValueError(f"image_gradients expects a 4D tensor [batch_size, h, w, d], not {image.shape}.")
    shape = array_ops.shape(image)
    batch, height, width, depth = array_ops.unstack(shape, 4)
    dy = image[:, 1:, :, :] - image[:, :-1, :, :]
    dx = image[:, :, 1:, :] - image[:, :, :-1, :]
    dy = array_ops.concat([dy, array_ops.zeros(array_ops.stack([batch, 1, width, depth]), image.dtype)], 1)
    dx = array_ops.concat([dx, array_ops.zeros(array_ops.stack([batch, height, 1, depth]), image.dtype)], 2)
    return array_ops.reshape(dy, shape), array_ops.reshape(dx, shape)


@tf_export("image.sobel_edges")
def sobel_edges(image) -> _ops.Tensor:
    """The vertical and horizontal Sobel responses of each channel, [batch, h, w, depth, 2] (edges reflected)."""
    image = _ops.convert_to_tensor(image, name="image")
    static = image.shape
    kernels = np.array([[[-1, -2, -1], [0, 0, 0], [1, 2, 1]], [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]])
    kernels = np.expand_dims(np.transpose(kernels, (1, 2, 0)), -2)
    shape = array_ops.shape(image)
    filters = array_ops.tile(_ops.convert_to_tensor(kernels.astype(image.dtype.base_dtype.as_numpy_dtype)),
                             array_ops.stack([1, 1, shape[-1], 1]))
    padded = array_ops.pad(image, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT")
    out = depthwise_conv_ops.depthwise_conv2d(padded, filters, [1, 1, 1, 1], "VALID")
    out = array_ops.reshape(out, array_ops.concat([shape, [2]], 0))
    out.set_shape(static.concatenate([2]))
    return out


def _check_same_image_shapes(a: _ops.Tensor, b: _ops.Tensor) -> None:
    sa, sb = a.shape.with_rank_at_least(3), b.shape.with_rank_at_least(3)
    if not sa[-3:].is_compatible_with(sb[-3:]):
        raise ValueError(f"Shapes must be compatible: {sa} and {sb}")


@tf_export("image.psnr")
def psnr(a, b, max_val, name=None) -> _ops.Tensor:
    """Peak signal-to-noise ratio (dB) between images `a` and `b` whose values span [0, max_val]."""
    with _ops.name_scope(name, "PSNR", [a, b]):
        a = _ops.convert_to_tensor(a, name="a")
        b = _ops.convert_to_tensor(b, name="b")
        max_val = convert_image_dtype(math_ops.cast(max_val, a.dtype), _dt.float32)
        a = convert_image_dtype(a, _dt.float32)
        b = convert_image_dtype(b, _dt.float32)
        _check_same_image_shapes(a, b)
        mse = math_ops.reduce_mean(math_ops.squared_difference(a, b), [-3, -2, -1])
        return math_ops.subtract(20 * math_ops.log(max_val) / np.log(10.0).astype(np.float32),
                                 np.float32(10 / np.log(10)) * math_ops.log(mse), name="psnr")


# ----------------------------------------------------------------------------------------------------------
# ExtractImagePatches
# ----------------------------------------------------------------------------------------------------------
def _patch_geometry(op_or_attrs, height, width):
    """Per spatial axis: (output size, padding before) for the op's ksizes, strides, rates and padding."""
    get = op_or_attrs.get_attr if hasattr(op_or_attrs, "get_attr") else op_or_attrs.__getitem__
    ksizes, strides, rates, padding = get("ksizes"), get("strides"), get("rates"), get("padding")
    padding = padding.decode() if isinstance(padding, bytes) else padding
    rows = nn_ops.window_output(height, ksizes[1], strides[1], rates[1], padding)
    cols = nn_ops.window_output(width, ksizes[2], strides[2], rates[2], padding)
    return rows, cols


def _check_patch_attrs(ksizes, strides, rates) -> None:
    for what, values in (("ksizes", ksizes), ("strides", strides), ("rates", rates)):
        if len(values) != 4:
            raise ValueError(f"{what} must be a list of 4 ints, got {list(values)}")
        if values[0] != 1 or values[3] != 1:
            raise ValueError(f"ExtractImagePatches: {what} in the batch and depth dimensions must be 1, got "
                             f"{list(values)}")


def _extract_patches_shape(op):
    batch, height, width, depth = (_shape.dimension_value(d) for d in op.inputs[0].shape.with_rank(4))
    ksizes = op.get_attr("ksizes")
    _check_patch_attrs(ksizes, op.get_attr("strides"), op.get_attr("rates"))
    (out_h, _, _), (out_w, _, _) = _patch_geometry(op, height, width)
    return [batch, out_h, out_w, None if depth is None else depth * ksizes[1] * ksizes[2]]


@register_op("ExtractImagePatches", inputs=["images: T"], outputs=["patches: T"],
             attrs={"ksizes": ("list(int)", _reg.REQUIRED), "strides": ("list(int)", _reg.REQUIRED),
                    "rates": ("list(int)", _reg.REQUIRED), "padding": ("string", _reg.REQUIRED)},
             allowed={"T": (_dt.bfloat16, _dt.float16, _dt.float32, _dt.float64, _dt.int8, _dt.int16, _dt.int32,
                            _dt.int64, _dt.uint8, _dt.uint16, _dt.uint32, _dt.uint64, _dt.complex64,
                            _dt.complex128, _dt.bool_)},
             shape=_extract_patches_shape)
def _extract_image_patches(images, *, ksizes, strides, rates, padding):
    """Each ksizes[1] x ksizes[2] window (dilated by rates, every strides pixels) flattened into the depth
    axis, row by row, channels innermost; SAME windows read zeros outside the image."""
    if images.ndim != 4:
        raise _invalid(f"input must be 4-dimensional{list(images.shape)}")
    attrs = {"ksizes": ksizes, "strides": strides, "rates": rates, "padding": padding}
    batch, height, width, depth = images.shape
    (out_h, top, bottom), (out_w, left, right) = _patch_geometry(attrs, height, width)
    padded = np.pad(images, [(0, 0), (top, bottom), (left, right), (0, 0)])
    rows = np.arange(out_h)[:, None] * strides[1] + np.arange(ksizes[1])[None, :] * rates[1]
    cols = np.arange(out_w)[:, None] * strides[2] + np.arange(ksizes[2])[None, :] * rates[2]
    patches = padded[:, rows[:, None, :, None], cols[None, :, None, :]]
    return np.ascontiguousarray(patches.reshape(batch, out_h, out_w, ksizes[1] * ksizes[2] * depth))


@RegisterGradient("ExtractImagePatches")
def _extract_image_patches_gradient(op, grad):
    """Adds each patch element's gradient back onto the pixel it was copied from: the patches of an image of
    pixel numbers (1-based, 0 where padding was read) give each element's pixel."""
    images = op.inputs[0]
    shape = array_ops.shape(images, out_type=_dt.int64)
    batch, height, width, depth = array_ops.unstack(shape, 4)
    pixels = height * width
    numbers = array_ops.reshape(array_ops.range(1, pixels + 1, dtype=_dt.int64), array_ops.stack([1, height, width, 1]))
    attrs = {name: op.get_attr(name) for name in ("ksizes", "strides", "rates", "padding")}
    sources = array_ops.reshape(apply_op("ExtractImagePatches", [numbers], attrs).outputs[0], [-1])
    window = op.get_attr("ksizes")[1] * op.get_attr("ksizes")[2]
    # grad [batch, out_h, out_w, window * depth] -> [out_h * out_w * window, batch * depth]
    flat = array_ops.reshape(grad, array_ops.stack([batch, -1, window, depth]))
    flat = array_ops.reshape(array_ops.transpose(flat, [1, 2, 0, 3]), array_ops.stack([-1, batch * depth]))
    summed = math_ops.unsorted_segment_sum(flat, sources, pixels + 1)[1:]
    summed = array_ops.reshape(summed, array_ops.stack([height, width, batch, depth]))
    return [array_ops.transpose(summed, [2, 0, 1, 3])]


def _patches(images, sizes, strides, rates, padding, name) -> _ops.Tensor:
    sizes, strides, rates = (list(int(v) for v in x) for x in (sizes, strides, rates))
    _check_patch_attrs(sizes, strides, rates)
    return apply_op("ExtractImagePatches", [images], {"ksizes": sizes, "strides": strides, "rates": rates,
                                                      "padding": padding}, name=name).outputs[0]


@tf_export("image.extract_image_patches", "extract_image_patches")
def extract_image_patches(images, ksizes=None, strides=None, rates=None, padding=None, name=None,
                          sizes=None) -> _ops.Tensor:
    """The patches of `images` ([batch, h, w, d]) of size ksizes (or `sizes`), flattened into the depth axis."""
    if sizes is not None:
        if ksizes is not None:
            raise ValueError("Cannot specify both 'ksizes' and 'sizes'.")
        ksizes = sizes
    if ksizes is None or strides is None or rates is None or padding is None:
        raise TypeError("extract_image_patches() needs ksizes (or sizes), strides, rates and padding")
    return _patches(images, ksizes, strides, rates, padding, name)


@tf_export("image.extract_patches")
def extract_patches(images, sizes, strides, rates, padding, name=None) -> _ops.Tensor:
    """extract_image_patches with the window size named `sizes`."""
    return _patches(images, sizes, strides, rates, padding, name)


# ----------------------------------------------------------------------------------------------------------
# Structural similarity
# ----------------------------------------------------------------------------------------------------------
def _gaussian_window(size: _ops.Tensor, sigma: _ops.Tensor) -> _ops.Tensor:
    """A [size, size, 1, 1] Gaussian filter summing to 1."""
    coords = math_ops.cast(array_ops.range(size), sigma.dtype)
    coords -= math_ops.cast(size - 1, sigma.dtype) / 2.0
    g = math_ops.square(coords) * (-0.5 / math_ops.square(sigma))
    g = array_ops.reshape(g, [1, -1]) + array_ops.reshape(g, [-1, 1])
    g = nn_ops.softmax(array_ops.reshape(g, [1, -1]))
    return array_ops.reshape(g, array_ops.stack([size, size, 1, 1]))


def _ssim_parts(img1, img2, max_val, filter_size, filter_sigma, k1, k2):
    """Per channel (and per pixel of the valid window positions): the luminance term and the contrast-structure
    term of SSIM, with a Gaussian window of `filter_size`."""
    size = _ops.convert_to_tensor(filter_size, _dt.int32)
    sigma = _ops.convert_to_tensor(filter_sigma, img1.dtype)
    shape1, shape2 = array_ops.shape_n([img1, img2])
    checks = [control_flow_ops.Assert(math_ops.reduce_all(math_ops.greater_equal(s[-3:-1], size)), [s, size],
                                      summarize=8) for s in (shape1, shape2)]
    img1 = control_flow_ops.with_dependencies(checks, img1)
    kernel = array_ops.tile(_gaussian_window(size, sigma), array_ops.stack([1, 1, shape1[-1], 1]))

    def blur(x):
        shape = array_ops.shape(x)
        flat = array_ops.reshape(x, array_ops.concat([[-1], shape[-3:]], 0))
        y = depthwise_conv_ops.depthwise_conv2d(flat, kernel, [1, 1, 1, 1], "VALID")
        return array_ops.reshape(y, array_ops.concat([shape[:-3], array_ops.shape(y)[1:]], 0))

    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    mean1, mean2 = blur(img1), blur(img2)
    num0 = mean1 * mean2 * 2.0
    den0 = math_ops.square(mean1) + math_ops.square(mean2)
    luminance = (num0 + c1) / (den0 + c1)
    num1 = blur(img1 * img2) * 2.0
    den1 = blur(math_ops.square(img1) + math_ops.square(img2))
    cs = (num1 - num0 + c2) / (den1 - den0 + c2)
    return luminance, cs


def _ssim_inputs(img1, img2, max_val):
    img1 = _ops.convert_to_tensor(img1, name="img1")
    img2 = _ops.convert_to_tensor(img2, name="img2")
    _check_same_image_shapes(img1, img2)
    max_val = convert_image_dtype(math_ops.cast(max_val, img1.dtype), _dt.float32)
    return convert_image_dtype(img1, _dt.float32), convert_image_dtype(img2, _dt.float32), max_val


@tf_export("image.ssim")
def ssim(img1, img2, max_val, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03,
         return_index_map: bool = False) -> _ops.Tensor:
    """Structural similarity of two images (or batches) with values in [0, max_val], averaged over the
    window positions and channels (`return_index_map`: the per-position map, averaged over channels)."""
    with _ops.name_scope(None, "SSIM", [img1, img2]):
        img1, img2, max_val = _ssim_inputs(img1, img2, max_val)
        luminance, cs = _ssim_parts(img1, img2, max_val, filter_size, filter_sigma, k1, k2)
        if return_index_map:
            return math_ops.reduce_mean(luminance * cs, [-1])
        per_channel = math_ops.reduce_mean(luminance * cs, [-3, -2])
        return math_ops.reduce_mean(per_channel, [-1])


_MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


@tf_export("image.ssim_multiscale")
def ssim_multiscale(img1, img2, max_val, power_factors=_MS_SSIM_WEIGHTS, filter_size=11, filter_sigma=1.5, k1=0.01,
                    k2=0.03) -> _ops.Tensor:
    """Multi-scale SSIM: the contrast-structure terms of successive 2x average-pooled scales and the SSIM of
    the last, raised to `power_factors` and multiplied."""
    with _ops.name_scope(None, "MS-SSIM", [img1, img2]):
        img1, img2, max_val = _ssim_inputs(img1, img2, max_val)
        images = [img1, img2]
        heads = [array_ops.shape(x)[:-3] for x in images]
        tails = [array_ops.shape(x)[-3:] for x in images]
        halving = [1, 2, 2, 1]
        scores = []
        for k in range(len(power_factors)):
            with _ops.name_scope(None, f"Scale{k}", images):
                if k > 0:
                    flat = [array_ops.reshape(x, array_ops.concat([[-1], t], 0)) for x, t in zip(images, tails)]
                    # odd sizes are padded by mirroring their last row or column before halving
                    remainder = math_ops.floormod(tails[0], [2, 2, 1])
                    paddings = array_ops.pad(array_ops.expand_dims(remainder, -1), [[1, 0], [1, 0]])
                    flat = [array_ops.pad(x, paddings, mode="SYMMETRIC") for x in flat]
                    pooled = [nn_ops.avg_pool(x, halving, halving, "VALID") for x in flat]
                    tails = [array_ops.shape(x)[1:] for x in pooled]
                    images = [array_ops.reshape(x, array_ops.concat([h, t], 0))
                              for x, h, t in zip(pooled, heads, tails)]
                luminance, cs = _ssim_parts(images[0], images[1], max_val, filter_size, filter_sigma, k1, k2)
                cs_mean = math_ops.reduce_mean(cs, [-3, -2])
                scores.append(nn_ops.relu(cs_mean))
        last = nn_ops.relu(math_ops.reduce_mean(luminance * cs, [-3, -2]))
        stacked = array_ops.stack(scores[:-1] + [last], axis=-1)
        weights = _ops.convert_to_tensor(np.asarray(power_factors, dtype=np.float32))
        return math_ops.reduce_mean(math_ops.reduce_prod(math_ops.pow(stacked, weights), [-1]), [-1])


# ----------------------------------------------------------------------------------------------------------
# ExtractGlimpse
# ----------------------------------------------------------------------------------------------------------
def _glimpse_shape(op):
    images = op.inputs[0].shape.with_rank(4)
    size = _reg.constant_value(op.inputs[1])
    h, w = (None, None) if size is None else (int(size[0]), int(size[1]))
    return [images[0], h, w, images[3]]


@register_op("ExtractGlimpse", inputs=["input: float32", "size: int32", "offsets: float32"],
             outputs=["glimpse: float32"],
             attrs={"centered": ("bool", True), "normalized": ("bool", True), "uniform_noise": ("bool", True),
                    "noise": ("string", "uniform")},
             shape=_glimpse_shape)
def _extract_glimpse(input, size, offsets, *, centered, normalized, uniform_noise, noise):  # noqa: A002
    """A size[0] x size[1] window of each image around its offset (y, x): in pixels from the top-left, or
    relative to the centre (`centered`, [-1, 1]) and/or as fractions of the image (`normalized`). Positions
    outside the image get noise drawn from the image's range ('uniform'), its mean and spread ('gaussian',
    clipped to the range) or zeros ('zero')."""
    if input.ndim != 4:
        raise _invalid(f"input must be 4-dimensional{list(input.shape)}")
    if np.shape(size) != (2,):
        raise _invalid(f"size must be a vector of 2 elements, got shape {list(np.shape(size))}")
    if offsets.ndim != 2 or offsets.shape[1] != 2 or offsets.shape[0] != input.shape[0]:
        raise _invalid(f"offsets must be [batch_size, 2], got shape {list(offsets.shape)}")
    noise = noise.decode() if isinstance(noise, bytes) else noise
    if uniform_noise and noise not in ("", "uniform"):
        raise _invalid("The uniform_noise and noise should not be specified at the same time")
    if not noise:
        noise = "uniform" if uniform_noise else "gaussian"
    if noise not in ("uniform", "gaussian", "zero"):
        raise _invalid(f"noise must be 'uniform', 'gaussian' or 'zero', got '{noise}'")
    batch, height, width, depth = input.shape
    out_h, out_w = int(size[0]), int(size[1])
    if out_h <= 0 or out_w <= 0:
        raise _invalid("size must be positive")
    y = offsets[:, 0].astype(np.float32)
    x = offsets[:, 1].astype(np.float32)
    if normalized:
        y, x = y * np.float32(height), x * np.float32(width)
    if centered:
        y, x = y / 2 + np.float32(height / 2), x / 2 + np.float32(width / 2)
    top = np.trunc(y - np.float32(out_h / 2)).astype(np.int64)
    left = np.trunc(x - np.float32(out_w / 2)).astype(np.int64)
    rows = top[:, None] + np.arange(out_h)[None, :]
    cols = left[:, None] + np.arange(out_w)[None, :]
    inside = ((rows >= 0) & (rows < height))[:, :, None] & ((cols >= 0) & (cols < width))[:, None, :]
    b = np.arange(batch)[:, None, None]
    values = input[b, np.clip(rows, 0, height - 1)[:, :, None], np.clip(cols, 0, width - 1)[:, None, :]]
    if noise == "zero" or inside.all():
        fill = np.zeros_like(values)
    else:
        rng = np.random.default_rng()
        low = input.min(axis=(1, 2, 3))[:, None, None, None]
        high = input.max(axis=(1, 2, 3))[:, None, None, None]
        if noise == "uniform":
            fill = low + (high - low) * rng.random(values.shape, dtype=np.float32)
        else:
            mean = input.mean(axis=(1, 2, 3))[:, None, None, None]
            spread = input.std(axis=(1, 2, 3))[:, None, None, None]
            fill = np.clip(mean + spread * rng.standard_normal(values.shape, dtype=np.float32), low, high)
    return np.where(inside[..., None], values, fill).astype(np.float32)


NotDifferentiable("ExtractGlimpse")


@tf_export("image.extract_glimpse")
def extract_glimpse(input, size, offsets, centered: bool = True, normalized: bool = True,  # noqa: A002
                    uniform_noise: bool = True, name=None) -> _ops.Tensor:
    """Windows of `size` around `offsets` ([batch, 2] as (y, x)) of a batch of images; see ExtractGlimpse for
    how offsets are read and how positions outside the image are filled."""
    return apply_op("ExtractGlimpse", [input, size, offsets],
                    {"centered": bool(centered), "normalized": bool(normalized),
                     "uniform_noise": bool(uniform_noise)}, name=name).outputs[0]
