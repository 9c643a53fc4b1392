"""Record TensorFlow's tf.image outputs: resize ops (every method, align_corners, half_pixel_centers) and their
gradients, crop_and_resize and its gradients, non-max suppression, colour conversions and adjustments,
convert_image_dtype, crops and pads, box drawing, image statistics, and the codecs (a JPEG, PNG, GIF and BMP
and TensorFlow's decoding of them).

Run with the TensorFlow environment: ``/work/tfenv/bin/python tools/tf_fixtures/gen_image.py``.
Writes ``tests/fixtures/tf/image/cases.npz`` (one output per case name) and the small image files; the tests
build the same graphs from ``cases(tf)`` below with tfmini and compare.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "tf" / "image"


def _inputs() -> dict:
    rng = np.random.RandomState(7)
    boxes = rng.uniform(0, 1, (24, 4)).astype(np.float32)
    boxes[:, 2:] = boxes[:, :2] + rng.uniform(0.05, 0.4, (24, 2))
    return {
        "img_f": rng.uniform(0, 1, (2, 5, 7, 3)).astype(np.float32),
        "img_u8": rng.randint(0, 256, (1, 6, 4, 2)).astype(np.uint8),
        "rgb_f": rng.uniform(0, 1, (3, 4, 5, 3)).astype(np.float32),
        "rgb_u8": rng.randint(0, 256, (4, 6, 3)).astype(np.uint8),
        "grad_in": rng.uniform(-1, 1, (2, 5, 7, 3)).astype(np.float32),
        "crop_img": rng.uniform(0, 1, (2, 6, 8, 3)).astype(np.float32),
        "crop_boxes": np.array([[0.1, 0.2, 0.7, 0.9], [-0.2, 0.13, 0.55, 1.3], [0.83, 0.71, 0.21, 0.12],
                                [0.3, 0.3, 0.3, 0.3]], dtype=np.float32),
        "crop_ind": np.array([0, 1, 1, 0], dtype=np.int32),
        "nms_boxes": boxes,
        "nms_scores": rng.uniform(0, 1, 24).astype(np.float32),
        "draw_img": rng.uniform(0, 0.5, (2, 9, 11, 3)).astype(np.float32),
        "draw_boxes": np.array([[[0.1, 0.1, 0.6, 0.8], [-0.2, 0.3, 0.5, 1.4], [0.5, 0.5, 0.4, 0.9]],
                                [[0.0, 0.0, 1.0, 1.0], [0.25, 0.5, 0.75, 0.6], [1.2, 0.1, 1.5, 0.3]]],
                               dtype=np.float32),
        "gray_f": rng.uniform(0, 1, (1, 5, 6, 1)).astype(np.float32),
        "small_f64": rng.uniform(-1, 1, (1, 4, 5, 2)),
    }


def _dtype_cases(tf) -> dict:
    """convert_image_dtype between integer and float types, with and without saturation."""
    values = {
        "uint8": np.array([0, 1, 127, 128, 254, 255], dtype=np.uint8),
        "int16": np.array([-32768, -1, 0, 1, 255, 32767], dtype=np.int16),
        "int32": np.array([-2147483648, -5, 0, 65535, 2147483647], dtype=np.int32),
        "float32": np.array([-0.5, 0.0, 0.25, 0.5, 0.999, 1.0, 1.5], dtype=np.float32),
        "float64": np.array([-0.1, 0.0, 0.3, 0.7, 1.0, 1.2], dtype=np.float64),
    }
    out = {}
    for src, value in values.items():
        for dst in ("uint8", "uint16", "int16", "int32", "float32", "float64"):
            for saturate in (False, True):
                if saturate and src.startswith("float") and dst.startswith("float"):
                    continue
                key = f"convert_{src}_{dst}_{int(saturate)}"
                out[key] = (lambda v=value, d=dst, s=saturate: tf.image.convert_image_dtype(
                    tf.constant(v), getattr(tf, d), saturate=s))
    return out


def _random_resize_cases(tf) -> dict:
    """Resizes and crop_and_resize of random small sizes (one-pixel axes, up- and downscaling, boxes reaching
    outside the image)."""
    rng = np.random.RandomState(123)
    out = {}
    for i in range(48):
        h, w = rng.randint(1, 8, 2)
        oh, ow = rng.randint(1, 13, 2)
        op = ("bilinear", "nearest_neighbor", "bicubic", "area")[i % 4]
        align, half = ((False, False), (True, False), (False, True))[rng.randint(3)]
        kw = {"align_corners": align} if op == "area" else {"align_corners": align, "half_pixel_centers": half}
        img = rng.uniform(-3, 3, (1, h, w, 2)).astype(np.float32)
        out[f"random_resize_{i}"] = (lambda op=op, img=img, size=(oh, ow), kw=kw:
                                     getattr(tf.image, "resize_" + op)(tf.constant(img), size, **kw))
    for i in range(16):
        h, w = rng.randint(1, 8, 2)
        img = rng.uniform(0, 1, (2, h, w, 1)).astype(np.float32)
        boxes = rng.uniform(-0.3, 1.3, (3, 4)).astype(np.float32)
        ind = rng.randint(0, 2, 3).astype(np.int32)
        crop = tuple(int(v) for v in rng.randint(1, 5, 2))
        out[f"random_crop_and_resize_{i}"] = (
            lambda img=img, boxes=boxes, ind=ind, crop=crop, method=("bilinear", "nearest")[i % 2]:
            tf.image.crop_and_resize(tf.constant(img), tf.constant(boxes), tf.constant(ind), crop, method=method))
    return out


def cases(tf, x: dict) -> dict:
    """Case name -> a function building the case's output tensor(s) with `tf` (TensorFlow or tfmini)."""
    c = tf.constant
    out = {}
    for op in ("bilinear", "nearest_neighbor", "bicubic", "area"):
        for size in ((3, 4), (9, 11), (5, 7), (1, 1)):
            for align, half in ((False, False), (True, False), (False, True)):
                if op == "area" and half:
                    continue
                for img in ("img_f", "img_u8"):
                    key = f"resize_{op}_{img}_{size[0]}x{size[1]}_{int(align)}{int(half)}"
                    fn = getattr(tf.image, "resize_" + op)
                    kwargs = {"align_corners": align}
                    if op != "area":
                        kwargs["half_pixel_centers"] = half
                    out[key] = (lambda fn=fn, img=img, size=size, kw=kwargs: fn(c(x[img]), size, **kw))
    out.update(_random_resize_cases(tf))
    for op in ("bilinear", "nearest_neighbor", "bicubic"):
        for size in ((3, 4), (9, 11)):
            for align, half in ((False, False), (True, False), (False, True)):
                key = f"resizegrad_{op}_{size[0]}x{size[1]}_{int(align)}{int(half)}"

                def grad(op=op, size=size, align=align, half=half):
                    image = c(x["img_f"])
                    y = getattr(tf.image, "resize_" + op)(image, size, align_corners=align, half_pixel_centers=half)
                    w = c(np.cos(np.arange(np.prod([2, size[0], size[1], 3]))).reshape(2, *size, 3)
                          .astype(np.float32))
                    return tf.gradients(y, image, grad_ys=w)[0]

                out[key] = grad
    for method in (0, 1, 2, 3):
        for size, keep in (((4, 9), True), ((8, 3), True), ((4, 9), False), ((5, 7), False)):
            out[f"resize_images_{method}_{size[0]}x{size[1]}_{int(keep)}"] = (
                lambda method=method, size=size, keep=keep: tf.image.resize_images(
                    c(x["img_f"][0]), size, method=method, preserve_aspect_ratio=keep))
    for th, tw in ((3, 5), (8, 4), (10, 12), (5, 7)):
        out[f"resize_with_pad_{th}x{tw}"] = (lambda th=th, tw=tw: tf.image.resize_image_with_pad(
            c(x["img_f"]), th, tw))
        out[f"crop_or_pad_{th}x{tw}"] = (lambda th=th, tw=tw: tf.image.resize_image_with_crop_or_pad(
            c(x["img_f"][1]), th, tw))
    for frac in (0.5, 0.33, 0.9):
        out[f"central_crop_{frac}"] = lambda frac=frac: tf.image.central_crop(c(x["img_f"]), frac)
    for method in ("bilinear", "nearest"):
        for size in ((3, 4), (1, 1), (5, 2)):
            key = f"crop_and_resize_{method}_{size[0]}x{size[1]}"
            out[key] = (lambda method=method, size=size: tf.image.crop_and_resize(
                c(x["crop_img"]), c(x["crop_boxes"]), c(x["crop_ind"]), size, method=method,
                extrapolation_value=-1.0))

            def crop_grads(method=method, size=size):
                image, boxes = c(x["crop_img"]), c(x["crop_boxes"])
                y = tf.image.crop_and_resize(image, boxes, c(x["crop_ind"]), size, method=method)
                w = c(np.sin(np.arange(4 * size[0] * size[1] * 3)).reshape(4, *size, 3).astype(np.float32))
                g = tf.gradients(y, [image, boxes] if method == "bilinear" else [image], grad_ys=w)
                return g

            out[key + "_grad"] = crop_grads

    def b():
        return c(x["nms_boxes"])

    def s():
        return c(x["nms_scores"])

    for iou in (0.0, 0.3, 0.5, 0.9):
        for score in (float("-inf"), 0.4):
            out[f"nms_{iou}_{score}"] = lambda iou=iou, score=score: tf.image.non_max_suppression(
                b(), s(), 10, iou_threshold=iou, score_threshold=score)
    out["nms_padded"] = lambda: tf.image.non_max_suppression_padded(b(), s(), 12, 0.3, 0.5,
                                                                    pad_to_max_output_size=True)
    out["nms_soft"] = lambda: tf.image.non_max_suppression_with_scores(b(), s(), 15, 0.6, 0.1, soft_nms_sigma=0.5)
    out["nms_soft_hard"] = lambda: tf.image.non_max_suppression_with_scores(b(), s(), 15, 0.4, 0.0)
    out["nms_overlaps"] = lambda: tf.image.non_max_suppression_overlaps(
        c(np.abs(np.sin(np.outer(np.arange(24), np.arange(24)))).astype(np.float32)), s(), 8, 0.5, 0.2)

    def rgb():
        return c(x["rgb_f"])

    out["rgb_to_hsv"] = lambda: tf.image.rgb_to_hsv(rgb())
    out["hsv_to_rgb"] = lambda: tf.image.hsv_to_rgb(rgb())
    out["rgb_to_hsv_gray_pixels"] = lambda: tf.image.rgb_to_hsv(c(np.array(
        [[0.5, 0.5, 0.5], [0, 0, 0], [1, 0, 0], [0.2, 0.2, 0.7], [0.7, 0.2, 0.2], [0.2, 0.7, 0.7]], np.float32)))
    for name in ("rgb_to_yiq", "yiq_to_rgb", "rgb_to_yuv", "yuv_to_rgb"):
        out[name] = lambda name=name: getattr(tf.image, name)(rgb())
    out["rgb_to_grayscale_f"] = lambda: tf.image.rgb_to_grayscale(rgb())
    out["rgb_to_grayscale_u8"] = lambda: tf.image.rgb_to_grayscale(c(x["rgb_u8"]))
    out["grayscale_to_rgb"] = lambda: tf.image.grayscale_to_rgb(c(x["gray_f"]))
    for img in ("rgb_f", "rgb_u8"):
        for d in (-0.7, 0.2, 0.45):
            out[f"adjust_hue_{img}_{d}"] = lambda img=img, d=d: tf.image.adjust_hue(c(x[img]), d)
        for f in (0.0, 0.5, 2.0):
            out[f"adjust_saturation_{img}_{f}"] = lambda img=img, f=f: tf.image.adjust_saturation(c(x[img]), f)
        for f in (0.3, 1.7):
            out[f"adjust_contrast_{img}_{f}"] = lambda img=img, f=f: tf.image.adjust_contrast(c(x[img]), f)
        for d in (-0.3, 0.25):
            out[f"adjust_brightness_{img}_{d}"] = lambda img=img, d=d: tf.image.adjust_brightness(c(x[img]), d)
        for g, gain in ((0.5, 1.0), (2.2, 0.8)):
            out[f"adjust_gamma_{img}_{g}_{gain}"] = lambda img=img, g=g, gain=gain: tf.image.adjust_gamma(
                c(x[img]), g, gain)
        out[f"standardize_{img}"] = lambda img=img: tf.image.per_image_standardization(c(x[img]))
    out["standardize_constant"] = lambda: tf.image.per_image_standardization(c(np.full((3, 3, 2), 5, np.uint8)))
    out.update(_dtype_cases(tf))
    out["draw_default"] = lambda: tf.image.draw_bounding_boxes(c(x["draw_img"]), c(x["draw_boxes"]))
    out["draw_colors"] = lambda: tf.image.draw_bounding_boxes(
        c(x["draw_img"]), c(x["draw_boxes"]), colors=c(np.array([[0.1, 0.2, 0.3, 1], [0.9, 0.8, 0.7, 1]],
                                                                 np.float32)))
    out["draw_gray"] = lambda: tf.image.draw_bounding_boxes(c(x["draw_img"][..., :1]), c(x["draw_boxes"]))
    out["total_variation_3d"] = lambda: tf.image.total_variation(c(x["img_f"][0]))
    out["total_variation_4d"] = lambda: tf.image.total_variation(c(x["img_f"]))
    out["image_gradients"] = lambda: tf.image.image_gradients(c(x["img_f"]))
    out["sobel_edges"] = lambda: tf.image.sobel_edges(c(x["img_f"]))
    out["psnr_f"] = lambda: tf.image.psnr(c(x["img_f"]), c(x["grad_in"] * 0.1 + x["img_f"]), 1.0)
    out["psnr_u8"] = lambda: tf.image.psnr(c(x["rgb_u8"]), c(255 - x["rgb_u8"]), 255)
    for k in (0, 1, 2, 3, -1, 6):
        out[f"rot90_{k}"] = lambda k=k: tf.image.rot90(c(x["img_f"]), k)
    out["rot90_3d"] = lambda: tf.image.rot90(c(x["img_f"][0]), 1)
    out["transpose"] = lambda: tf.image.transpose_image(c(x["img_f"]))
    out["flip_lr"] = lambda: tf.image.flip_left_right(c(x["img_f"][0]))
    out["flip_ud"] = lambda: tf.image.flip_up_down(c(x["img_f"]))
    for padding in ("VALID", "SAME"):
        for k, stride, rate in (((2, 3), (1, 2), (1, 1)), ((3, 2), (2, 3), (2, 1))):
            key = f"patches_{padding}_{k[0]}{k[1]}_{stride[0]}{stride[1]}_{rate[0]}{rate[1]}"
            args = ([1, *k, 1], [1, *stride, 1], [1, *rate, 1], padding)
            out[key] = lambda args=args: tf.image.extract_patches(c(x["img_f"]), *args)

            def patch_grad(args=args):
                image = c(x["img_f"])
                y = tf.extract_image_patches(image, *args)
                w = tf.cos(tf.cast(tf.reshape(tf.range(tf.size(y)), tf.shape(y)), tf.float32))
                return tf.gradients(y, image, grad_ys=w)[0]

            out[key + "_grad"] = patch_grad
    out["combined_nms"] = lambda: tf.image.combined_non_max_suppression(
        c(x["nms_boxes"].reshape(2, 12, 1, 4) * 1.2 - 0.1), c(np.stack([x["nms_scores"], x["nms_scores"][::-1]], -1)
                                                              .reshape(2, 12, 2)), 4, 6, 0.3, 0.2)
    out["combined_nms_per_class"] = lambda: tf.image.combined_non_max_suppression(
        c(np.stack([x["nms_boxes"], x["nms_boxes"][::-1]], 1).reshape(2, 12, 2, 4)),
        c(np.stack([x["nms_scores"], x["nms_scores"][::-1]], -1).reshape(2, 12, 2)), 3, 20, 0.5,
        pad_per_class=True, clip_boxes=False)
    glimpse_offsets = {"centered": ([[0.1, -0.2], [-0.3, 0.25]], {}),
                       "pixels": ([[2.2, 3.9], [1.5, 3.6]], {"centered": False, "normalized": False}),
                       "fractions": ([[0.4, 0.45], [0.6, 0.51]], {"centered": False})}
    for key, (offsets, kw) in glimpse_offsets.items():
        out[f"glimpse_{key}"] = lambda offsets=offsets, kw=kw: tf.image.extract_glimpse(
            c(x["img_f"]), [3, 4], c(np.array(offsets, np.float32)), **kw)
    big = np.random.RandomState(9).uniform(0, 1, (2, 37, 41, 3)).astype(np.float32)
    noisy = np.clip(big + np.random.RandomState(10).normal(0, 0.1, big.shape), 0, 1).astype(np.float32)
    out["ssim"] = lambda: tf.image.ssim(c(big), c(noisy), 1.0)
    out["ssim_small_window"] = lambda: tf.image.ssim(c(big), c(noisy), 1.0, filter_size=5, filter_sigma=0.8)
    out["ssim_u8"] = lambda: tf.image.ssim(c((big * 255).astype(np.uint8)), c((noisy * 255).astype(np.uint8)), 255)
    out["ssim_map"] = lambda: tf.image.ssim(c(big), c(noisy), 1.0, filter_size=7, return_index_map=True)
    out["ssim_multiscale"] = lambda: tf.image.ssim_multiscale(c(big), c(noisy), 1.0, power_factors=(0.3, 0.3, 0.4),
                                                              filter_size=5)
    return out


def _codec_files() -> dict:
    """Small image files: a photo-like JPEG made by TensorFlow (below), and a GIF and BMP made with Pillow."""
    from PIL import Image  # the generator's own dependency, as TensorFlow is

    rng = np.random.RandomState(3)
    yy, xx = np.mgrid[0:16, 0:20]
    smooth = np.stack([yy * 15, xx * 12, (yy + xx) * 7], -1).astype(np.uint8)
    files = {}
    frames = [Image.fromarray((smooth + 40 * i).astype(np.uint8)).convert("P", palette=Image.ADAPTIVE)
              for i in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    files["anim.gif"] = buf.getvalue()
    buf = io.BytesIO()
    Image.fromarray(rng.randint(0, 256, (5, 7, 3)).astype(np.uint8)).save(buf, format="BMP")
    files["rgb.bmp"] = buf.getvalue()
    palette = Image.fromarray(smooth).convert("P", palette=Image.ADAPTIVE, colors=7)
    buf = io.BytesIO()
    palette.save(buf, format="PNG")
    files["palette.png"] = buf.getvalue()
    buf = io.BytesIO()
    Image.fromarray(smooth[..., 0] > 100).save(buf, format="PNG")
    files["bilevel.png"] = buf.getvalue()
    base = np.zeros((12, 15, 3), np.uint8)
    base[..., 0] = 200
    moving = []
    for i in range(4):  # a square moving over a background: Pillow writes frames 2-4 as partial, transparent ones
        f = base.copy()
        f[2 + i:6 + i, 3 + 2 * i:8 + 2 * i] = [30 * i, 255 - 40 * i, 60]
        moving.append(Image.fromarray(f).convert("P", palette=Image.ADAPTIVE, colors=8))
    buf = io.BytesIO()
    moving[0].save(buf, format="GIF", save_all=True, append_images=moving[1:], disposal=2, transparency=0)
    files["partial.gif"] = buf.getvalue()
    gray = Image.fromarray(np.array([[0, 1, 2, 3], [3, 2, 1, 0]], np.uint8), "P")
    gray.putpalette([10, 10, 10, 200, 200, 200, 50, 50, 50, 255, 255, 255])
    buf = io.BytesIO()
    gray.save(buf, format="GIF", interlace=True)
    files["gray_palette.gif"] = buf.getvalue()
    files["smooth_rgb.npy"] = smooth
    return files


def _png_pixels() -> dict:
    """Images of every PNG layout TensorFlow writes: 8 and 16 bits, 1 to 4 channels."""
    rng = np.random.RandomState(5)
    out = {}
    for channels in (1, 2, 3, 4):
        out[f"u8_{channels}"] = rng.randint(0, 256, (9, 13, channels)).astype(np.uint8)
        out[f"u16_{channels}"] = rng.randint(0, 65536, (6, 5, channels)).astype(np.uint16)
    yy, xx = np.mgrid[0:24, 0:31]
    out["smooth_u8_3"] = np.stack([yy * 9, xx * 7, (yy * xx) % 256], -1).astype(np.uint8)
    return out


def main() -> None:
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    import tensorflow.compat.v1 as tf  # the generator runs only with TensorFlow installed

    tf.disable_v2_behavior()
    OUT.mkdir(parents=True, exist_ok=True)
    x = _inputs()
    results = {}
    with tf.Graph().as_default():
        built = {name: fn() for name, fn in cases(tf, x).items()}
        with tf.Session() as sess:
            for name, t in built.items():
                value = sess.run(t)
                if isinstance(value, (list, tuple)):
                    for i, v in enumerate(value):
                        results[f"{name}:{i}"] = np.asarray(v)
                else:
                    results[name] = np.asarray(value)
    files = _codec_files()
    smooth = files.pop("smooth_rgb.npy")
    for name, data in files.items():
        (OUT / name).write_bytes(data)
    with tf.Graph().as_default(), tf.Session() as sess:
        jpeg = sess.run(tf.image.encode_jpeg(tf.constant(smooth), quality=90))
        (OUT / "smooth.jpg").write_bytes(jpeg)
        results["smooth_rgb"] = smooth
        for channels in (0, 1, 3):
            for dct in ("", "INTEGER_FAST", "INTEGER_ACCURATE"):
                results[f"jpeg_decode_{channels}_{dct}"] = sess.run(
                    tf.image.decode_jpeg(jpeg, channels=channels, dct_method=dct))
        for ratio in (2, 4):
            results[f"jpeg_decode_ratio_{ratio}"] = sess.run(
                tf.image.decode_jpeg(jpeg, ratio=ratio, dct_method="INTEGER_ACCURATE"))
        results["jpeg_decode_and_crop"] = sess.run(
            tf.image.decode_and_crop_jpeg(jpeg, [2, 3, 9, 11], dct_method="INTEGER_ACCURATE"))
        yy, xx = np.mgrid[0:64, 0:80]
        pattern = np.stack([yy * 4, xx * 3, (yy * xx) % 256], -1).astype(np.uint8)
        whole = sess.run(tf.image.encode_jpeg(tf.constant(pattern), quality=90))
        truncated = whole[:int(len(whole) * 0.6)]
        (OUT / "truncated.jpg").write_bytes(truncated)
        results["jpeg_truncated_recovered"] = sess.run(tf.image.decode_jpeg(
            truncated, try_recover_truncated=True, dct_method="INTEGER_ACCURATE"))
        results["jpeg_shape"] = sess.run(tf.image.extract_jpeg_shape(jpeg))
        for name in ("anim.gif", "partial.gif", "gray_palette.gif"):
            results[f"gif_decode_{name}"] = sess.run(tf.image.decode_gif(files[name]))
        results["bmp_decode"] = sess.run(tf.image.decode_bmp(files["rgb.bmp"]))
        results["bmp_decode_4"] = sess.run(tf.image.decode_bmp(files["rgb.bmp"], channels=4))
        pixels = _png_pixels()
        for key, value in pixels.items():
            for level in (-1, 0, 9):
                results[f"png_bytes_{key}_{level}"] = np.frombuffer(
                    sess.run(tf.image.encode_png(tf.constant(value), compression=level)), np.uint8)
            if key.startswith("smooth"):
                continue
            for channels in (0, 1, 3, 4):
                for dtype in ("uint8", "uint16"):
                    results[f"png_decode_{key}_{channels}_{dtype}"] = sess.run(tf.image.decode_png(
                        tf.image.encode_png(tf.constant(value)), channels=channels, dtype=getattr(tf, dtype)))
        for name in ("palette.png", "bilevel.png"):
            for channels in (0, 1, 3, 4):
                results[f"png_file_{name}_{channels}"] = sess.run(tf.image.decode_png(files[name], channels=channels))
        for name in ("smooth.jpg", "anim.gif", "rgb.bmp", "palette.png"):
            data = jpeg if name == "smooth.jpg" else files[name]
            for dtype in ("uint8",) if name in ("smooth.jpg", "anim.gif") else ("uint8", "uint16", "float32"):
                results[f"decode_image_{name}_{dtype}"] = sess.run(tf.io.decode_image(data, dtype=getattr(tf, dtype)))
        results["adjust_jpeg_quality_30"] = sess.run(tf.image.adjust_jpeg_quality(
            tf.constant(smooth.astype(np.float32) / 255), 30))
    for k, v in x.items():
        results["input:" + k] = v
    np.savez_compressed(OUT / "cases.npz", **results)
    print(f"wrote {len(results)} arrays to {OUT}")


if __name__ == "__main__":
    main()
