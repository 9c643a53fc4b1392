"""The TF1 summary ops (ScalarSummary, HistogramSummary, ImageSummary, AudioSummaryV2, TensorSummaryV2,
MergeSummary) and their `tf.summary` wrappers: each op outputs a serialized `Summary` proto as a scalar string,
encoded as TensorFlow encodes it (histogram buckets, PNG images, WAV audio). Knows nothing of event files."""

from __future__ import annotations

import contextlib
import re
import struct
from collections.abc import Iterator

import numpy as np
from google.protobuf import message as _message

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import png
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import REQUIRED, NotDifferentiable, apply_op, register_op
from tfmini.ops import shape_fns
from tfmini.protobuf import summary_pb2, tensor_pb2

__all__ = [
    "audio", "get_summary_description", "histogram", "image", "merge", "merge_all", "scalar", "tensor_summary",
    "text",
]

_DBL_MAX = float(np.finfo(np.float64).max)


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


def _serialized(summary: summary_pb2.Summary) -> np.ndarray:
    return np.array(summary.SerializeToString(), dtype=object)


def _scalar_string(value: np.ndarray, what: str) -> str:
    if np.ndim(value) != 0:
        raise _invalid(f"{what} must be scalar")
    item = np.asarray(value).item()
    return item.decode("utf-8", "surrogateescape") if isinstance(item, bytes) else str(item)


# ---------------------------------------------------------------------------------------------------------------
# ScalarSummary: one simple_value per element of `values`, tagged by the matching element of `tags`.

def _legacy_scalar(a: np.ndarray) -> bool:
    """A scalar, or a vector of one element: TF 1.x lets either stand for the other here."""
    return a.shape in ((), (1,))


@register_op("ScalarSummary", inputs=["tags: string", "values: T"], outputs=["summary: string"],
             allowed={"T": _dt.REAL}, shape=shape_fns.scalar)
def _scalar_summary(tags, values):
    tags, values = np.asarray(tags), np.asarray(values)
    if tags.shape != values.shape and not (_legacy_scalar(tags) and _legacy_scalar(values)):
        single = f" (tag '{tags.reshape(-1)[0].decode('utf-8', 'replace')}')" if tags.size == 1 else ""
        raise _invalid(f"tags and values not the same shape: {_shape.dims_str(tags.shape)} != "
                       f"{_shape.dims_str(values.shape)}{single}")
    summary = summary_pb2.Summary()
    for tag, value in zip(tags.reshape(-1).tolist(), values.astype(np.float32).reshape(-1).tolist()):
        summary.value.add(tag=tag.decode("utf-8", "surrogateescape"), simple_value=value)
    return _serialized(summary)


# ---------------------------------------------------------------------------------------------------------------
# HistogramSummary: TF's default buckets, right edges growing by 10% from 1e-12 to 1e20 on both sides of 0.

def _default_bucket_limits() -> np.ndarray:
    ladder = []
    v = 1.0e-12
    while v < 1.0e20:  # repeated multiplication, as TF builds them: the edges are bit-for-bit TF's
        ladder.append(v)
        v *= 1.1
    positive = np.array(ladder + [_DBL_MAX])
    return np.concatenate([-positive[::-1], [0.0], positive])


_BUCKET_LIMITS = _default_bucket_limits()


def histogram_proto(values: np.ndarray) -> summary_pb2.HistogramProto:
    """The HistogramProto TF's HistogramSummary makes of finite `values`: counts in the default buckets, each run
    of empty buckets collapsed into its last one, plus min, max, num, sum and sum of squares."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    counts = np.bincount(np.searchsorted(_BUCKET_LIMITS, v, side="right"), minlength=_BUCKET_LIMITS.size)
    counts = counts[: _BUCKET_LIMITS.size].astype(np.float64)
    filled = counts > 0
    # A bucket is written when it holds values, or when it ends a run of empty buckets.
    keep = filled | np.append(filled[1:], True)
    proto = summary_pb2.HistogramProto(
        min=float(v.min()) if v.size else _DBL_MAX,
        max=float(v.max()) if v.size else -_DBL_MAX,
        num=float(v.size),
        # Sequential sums (not NumPy's pairwise ones), as TF adds the values one at a time.
        sum=float(np.add.accumulate(v)[-1]) if v.size else 0.0,
        sum_squares=float(np.add.accumulate(v * v)[-1]) if v.size else 0.0,
    )
    proto.bucket_limit.extend(_BUCKET_LIMITS[keep].tolist())
    proto.bucket.extend(counts[keep].tolist())
    return proto


def _histogram_summary_factory(op: _ops.Operation, ctx):
    name = op.name  # TF's messages name the op

    def kernel(tag, values):
        tag = _scalar_string(tag, "tags")
        v = np.asarray(values, dtype=np.float64).reshape(-1)
        bad = ~np.isfinite(v)
        if bad.any():
            if np.isnan(v[np.argmax(bad)]):
                raise _invalid(f"Nan in summary histogram for: {name}")
            raise _invalid(f"Infinity in summary histogram for: {name}")
        summary = summary_pb2.Summary()
        summary.value.add(tag=tag, histo=histogram_proto(v))
        return _serialized(summary)

    return kernel


register_op("HistogramSummary", inputs=["tag: string", "values: T"], outputs=["summary: string"],
            attrs={"T": ("type", _dt.float32)}, allowed={"T": _dt.REAL}, shape=shape_fns.scalar,
            factory=_histogram_summary_factory)


# ---------------------------------------------------------------------------------------------------------------
# ImageSummary: up to max_images images of a [batch, height, width, channels] tensor as PNGs.

def _to_uint8_image(image: np.ndarray, bad_color: np.ndarray) -> np.ndarray:
    """A float image scaled into uint8 as TF does it: all values >= 0 are scaled so the largest is 255; with a
    negative value, 0 goes to 128 and the largest magnitude to 127 away from it. The range ignores pixels
    holding a non-finite value; those pixels become `bad_color`."""
    dtype = image.dtype.type
    finite = np.isfinite(image).all(axis=-1)
    seen = image[finite]
    # The range and the scale are float32 whatever the image's type, as in TF's kernel.
    lo = np.float32(seen.min()) if seen.size else np.float32(np.inf)
    hi = np.float32(seen.max()) if seen.size else np.float32(-np.inf)
    if lo < 0:
        biggest = max(abs(lo), abs(hi))
        scale, offset = (np.float32(0) if biggest < 1e-6 else np.float32(127) / biggest), 128.0
    else:
        scale, offset = (np.float32(0) if hi < 1e-6 else np.float32(255) / hi), 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = image * dtype(scale) + dtype(offset)
        out = np.where(finite[..., None], scaled, 0).astype(np.uint8)
    out[~finite] = bad_color[: image.shape[-1]]
    return out


def _image_summary_factory(op: _ops.Operation, ctx):
    max_images = op.get_attr("max_images")
    bad_color = np.asarray(op.get_attr("bad_color"))

    def kernel(tag, tensor):
        tag = _scalar_string(tag, "tag")
        shape = np.shape(tensor)
        if len(shape) != 4 or shape[-1] not in (1, 3, 4):
            raise _invalid(f"Tensor must be 4-D with last dim 1, 3, or 4, not {_shape.dims_str(shape)}")
        if bad_color.ndim != 1:
            raise _invalid("bad_color must be a vector")
        if bad_color.size < shape[-1]:
            raise _invalid(f"bad_color tensor must have at least {shape[-1]} elements, not {bad_color.size}")
        summary = summary_pb2.Summary()
        for i in range(min(max_images, shape[0])):
            pixels = tensor[i] if tensor.dtype == np.uint8 else _to_uint8_image(tensor[i], bad_color)
            value = summary.value.add(tag=f"{tag}/image/{i}" if max_images > 1 else f"{tag}/image")
            value.image.height, value.image.width, value.image.colorspace = shape[1], shape[2], shape[3]
            value.image.encoded_image_string = png.encode(pixels)
        return _serialized(summary)

    return kernel


def _image_summary_shape(op: _ops.Operation) -> _shape.TensorShape:
    rank = op.inputs[1].shape.ndims
    if rank is not None and rank != 4:
        raise ValueError(f"Shape must be rank 4 but is rank {rank}")
    return _shape.TensorShape([])


register_op("ImageSummary", inputs=["tag: string", "tensor: T"], outputs=["summary: string"],
            attrs={"max_images": ("int", 3), "T": ("type", _dt.float32),
                   "bad_color": ("tensor", np.array([255, 0, 0, 255], dtype=np.uint8))},
            allowed={"T": (_dt.uint8, _dt.float32, _dt.float16, _dt.float64)}, shape=_image_summary_shape,
            factory=_image_summary_factory)


# ---------------------------------------------------------------------------------------------------------------
# AudioSummaryV2: up to max_outputs clips of a [batch, frames] or [batch, frames, channels] tensor as WAV files.

def encode_wav(samples: np.ndarray, sample_rate: int) -> bytes:
    """Float samples [frames, channels] in [-1, 1] as a 16-bit PCM WAV file (values outside are clipped; each
    sample is scaled by 2**15 and rounded half away from zero, as TF does)."""
    frames, channels = samples.shape
    scaled = samples.astype(np.float64) * 32768.0
    pcm = np.clip(np.sign(scaled) * np.floor(np.abs(scaled) + 0.5), -32768, 32767)
    data = np.nan_to_num(pcm).astype("<i2").tobytes()
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(data), b"WAVE", b"fmt ", 16, 1, channels,
                         sample_rate, sample_rate * channels * 2, channels * 2, 16, b"data", len(data))
    return header + data


@register_op("AudioSummaryV2", inputs=["tag: string", "tensor: float32", "sample_rate: float32"],
             outputs=["summary: string"], attrs={"max_outputs": ("int", 3)}, shape=shape_fns.scalar)
def _audio_summary(tag, tensor, sample_rate, *, max_outputs):
    tag = _scalar_string(tag, "tag")
    if np.ndim(sample_rate) != 0:
        raise _invalid("sample_rate must be a scalar")
    rate = float(np.float32(sample_rate))
    if not rate > 0:
        raise _invalid("sample_rate must be > 0")
    if np.ndim(tensor) not in (2, 3):
        raise _invalid(f"Tensor must be 3-D or 2-D, got: {_shape.dims_str(np.shape(tensor))}")
    clips = tensor if tensor.ndim == 3 else tensor[..., None]
    wav_rate = max(int(np.rint(rate)), 1)  # rounded half to even, as lrintf does
    summary = summary_pb2.Summary()
    for i in range(min(max_outputs, clips.shape[0])):
        value = summary.value.add(tag=f"{tag}/audio/{i}" if max_outputs > 1 else f"{tag}/audio")
        value.audio.sample_rate = rate
        value.audio.num_channels = clips.shape[2]
        value.audio.length_frames = clips.shape[1]
        value.audio.content_type = "audio/wav"
        value.audio.encoded_audio_string = encode_wav(clips[i], wav_rate)
    return _serialized(summary)


# ---------------------------------------------------------------------------------------------------------------
# TensorSummaryV2: the tensor itself, with the plugin metadata its caller serialized.

def _tensor_proto(arr: np.ndarray) -> tensor_pb2.TensorProto:
    """TF's layout for a summarized tensor: strings in string_val, everything else as raw tensor_content."""
    dtype = _dt.as_dtype(arr.dtype) if arr.dtype.kind != "O" else _dt.string
    proto = tensor_pb2.TensorProto(dtype=dtype.as_datatype_enum, tensor_shape=_shape.TensorShape(arr.shape).as_proto())
    if dtype == _dt.string:
        proto.string_val.extend(arr.reshape(-1).tolist())
    else:
        proto.tensor_content = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")).tobytes()
    return proto


@register_op("TensorSummaryV2", inputs=["tag: string", "tensor: T", "serialized_summary_metadata: string"],
             outputs=["summary: string"], shape=shape_fns.scalar)
def _tensor_summary(tag, tensor, serialized_summary_metadata):
    tag = _scalar_string(tag, "tag")
    if np.ndim(serialized_summary_metadata) != 0:
        raise _invalid("serialized_summary_metadata must be scalar")
    summary = summary_pb2.Summary()
    value = summary.value.add(tag=tag)
    value.tensor.CopyFrom(_tensor_proto(np.asarray(tensor)))
    try:
        value.metadata.ParseFromString(np.asarray(serialized_summary_metadata).item())
    except _message.DecodeError:
        raise _invalid("Could not parse serialized_summary_metadata") from None
    return _serialized(summary)


def _legacy_tensor_summary_factory(op: _ops.Operation, ctx):
    name = op.name  # the old op names its node instead of a tag

    def kernel(tensor):
        summary = summary_pb2.Summary()
        summary.value.add(node_name=name).tensor.CopyFrom(_tensor_proto(np.asarray(tensor)))
        return _serialized(summary)

    return kernel


# TensorSummary: the TF 1.0 form, still found in old graphs (its attrs are not written into the summary).
register_op("TensorSummary", inputs=["tensor: T"], outputs=["summary: string"],
            attrs={"description": ("string", ""), "labels": ("list(string)", []), "display_name": ("string", "")},
            shape=shape_fns.scalar, factory=_legacy_tensor_summary_factory)


# ---------------------------------------------------------------------------------------------------------------
# MergeSummary: the values of several serialized summaries in one, refusing a tag seen twice.

@register_op("MergeSummary", inputs=["inputs: N * string"], outputs=["summary: string"],
             attrs={"N": ("int", REQUIRED)}, shape=shape_fns.scalar)
def _merge_summary(*inputs):
    merged = summary_pb2.Summary()
    seen: set[str] = set()
    for tensor in inputs:
        for serialized in np.asarray(tensor).reshape(-1).tolist():
            part = summary_pb2.Summary()
            try:
                part.ParseFromString(serialized)
            except _message.DecodeError:
                raise _invalid("Could not parse one of the summary inputs") from None
            for value in part.value:
                if value.tag in seen:
                    raise _invalid(f"Duplicate tag {value.tag} found in summary inputs")
                seen.add(value.tag)
            merged.value.extend(part.value)
    return _serialized(merged)


for _op_type in ("ScalarSummary", "HistogramSummary", "ImageSummary", "AudioSummaryV2", "TensorSummaryV2",
                 "TensorSummary", "MergeSummary"):
    NotDifferentiable(_op_type)


# ---------------------------------------------------------------------------------------------------------------
# tf.summary's graph functions.

_INVALID_TAG_CHARACTERS = re.compile(r"[^-/\w\.]")


def _clean_tag(name: str | None) -> str | None:
    """A summary name made a valid scope name: characters other than letters, digits, '_', '-', '.', '/'
    become '_', and leading slashes go."""
    if name is None:
        return None
    return _INVALID_TAG_CHARACTERS.sub("_", name).lstrip("/")


@contextlib.contextmanager
def _summary_scope(name: str, family: str | None, values) -> Iterator[tuple[str, str]]:
    """The (tag, scope) of a summary named `name`: the scope is a fresh name scope (under `family` when
    given), and the tag is that scope's full name (with `family/` in front when a family is given, so
    TensorBoard groups the summaries by family)."""
    name, family = _clean_tag(name), _clean_tag(family)
    base = name if family is None else f"{family}/{name}"
    with _ops.name_scope(base, values=values) as scope:
        tag = scope.rstrip("/")
        yield (tag if family is None else f"{family}/{tag}"), scope


def _collect(op_output: _ops.Tensor, collections, default=(_ops.GraphKeys.SUMMARIES,)) -> None:
    for key in default if collections is None else collections:
        _ops.add_to_collection(key, op_output)


@tf_export("summary.scalar")
def scalar(name: str, tensor, collections=None, family: str | None = None) -> _ops.Tensor:
    """`tf.summary.scalar`: a Summary with one simple_value, the value of the real scalar `tensor`.

    The op is added to `collections` (default [GraphKeys.SUMMARIES]); `family` prefixes the tag and the op's
    name scope, grouping summaries in TensorBoard."""
    with _summary_scope(name, family, [tensor]) as (tag, scope):
        val = apply_op("ScalarSummary", [tag, tensor], name=scope).outputs[0]
        _collect(val, collections)
    return val


@tf_export("summary.histogram")
def histogram(name: str, values, collections=None, family: str | None = None) -> _ops.Tensor:
    """`tf.summary.histogram`: a Summary with a HistogramProto of `values` (any shape) in TF's default
    buckets. Running it with a NaN or an infinity in `values` raises InvalidArgumentError."""
    with _summary_scope(name, family, [values]) as (tag, scope):
        val = apply_op("HistogramSummary", [tag, values], name=scope).outputs[0]
        _collect(val, collections)
    return val


@tf_export("summary.image")
def image(name: str, tensor, max_outputs: int = 3, collections=None, family: str | None = None) -> _ops.Tensor:
    """`tf.summary.image`: the first `max_outputs` images of a [batch, height, width, channels] tensor
    (channels 1, 3 or 4; uint8 as is, floats scaled per image) as PNGs, tagged `name/image/<i>`
    (`name/image` when max_outputs is 1)."""
    with _summary_scope(name, family, [tensor]) as (tag, scope):
        val = apply_op("ImageSummary", [tag, tensor], {"max_images": max_outputs}, name=scope).outputs[0]
        _collect(val, collections)
    return val


@tf_export("summary.audio")
def audio(name: str, tensor, sample_rate, max_outputs: int = 3, collections=None,
          family: str | None = None) -> _ops.Tensor:
    """`tf.summary.audio`: the first `max_outputs` clips of a float [batch, frames] or [batch, frames,
    channels] tensor with values in [-1, 1], as 16-bit WAV files at `sample_rate` Hz, tagged
    `name/audio/<i>` (`name/audio` when max_outputs is 1)."""
    with _summary_scope(name, family, [tensor]) as (tag, scope):
        rate = _ops.convert_to_tensor(sample_rate, dtype=_dt.float32, name="sample_rate")
        val = apply_op("AudioSummaryV2", [tag, tensor, rate], {"max_outputs": max_outputs}, name=scope).outputs[0]
        _collect(val, collections)
    return val


@tf_export("summary.tensor_summary")
def tensor_summary(name: str, tensor, summary_description=None, collections=None, summary_metadata=None,
                   family: str | None = None, display_name: str | None = None) -> _ops.Tensor:
    """`tf.summary.tensor_summary`: a Summary holding `tensor` itself as a TensorProto, with
    `summary_metadata` (a SummaryMetadata; `display_name` and `summary_description` fill its fields)."""
    metadata = summary_pb2.SummaryMetadata()
    if summary_metadata is not None:
        metadata.CopyFrom(summary_metadata)  # the caller's proto stays as it was
    if summary_description is not None:
        metadata.summary_description = summary_description
    if display_name is not None:
        metadata.display_name = display_name
    serialized = metadata.SerializeToString()
    with _summary_scope(name, family, [tensor]) as (tag, scope):
        val = apply_op("TensorSummaryV2", [tag, tensor, serialized], name=scope).outputs[0]
        _collect(val, collections)
    return val


@tf_export("summary.text")
def text(name: str, tensor, collections=None) -> _ops.Tensor:
    """`tf.summary.text`: a string tensor as a tensor summary for TensorBoard's text plugin (Markdown)."""
    tensor = _ops.convert_to_tensor(tensor)
    if tensor.dtype != _dt.string:
        raise ValueError(f"Expected tensor {tensor.name} to have dtype string, got {tensor.dtype}")
    metadata = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="text"))
    return tensor_summary(name, tensor, summary_metadata=metadata, collections=collections)


@tf_export("summary.merge")
def merge(inputs, collections=None, name: str | None = None) -> _ops.Tensor:
    """`tf.summary.merge`: one Summary with the values of the serialized summaries `inputs` (a tag twice is an
    InvalidArgumentError when it runs). Added to `collections` (default: none)."""
    with _ops.name_scope(name, "Merge", inputs):
        inputs = [_ops.convert_to_tensor(x, dtype=_dt.string) for x in inputs]
        val = apply_op("MergeSummary", [inputs], {"N": len(inputs)}, name=name).outputs[0]
        _collect(val, collections, default=())
    return val


@tf_export("summary.merge_all")
def merge_all(key: str = _ops.GraphKeys.SUMMARIES, scope: str | None = None,
              name: str | None = None) -> _ops.Tensor | None:
    """`tf.summary.merge_all`: `merge` over the summaries in collection `key` (those whose name matches
    `scope`, when given), or None when there are none."""
    summary_ops = _ops.get_collection(key, scope=scope)
    if not summary_ops:
        return None
    return merge(summary_ops, name=name)


@tf_export("summary.get_summary_description")
def get_summary_description(node_def) -> summary_pb2.SummaryDescription:
    """`tf.summary.get_summary_description`: the SummaryDescription a TensorSummary node's `description`
    attr holds (a NodeDef of another op type is a ValueError)."""
    if node_def.op != "TensorSummary":
        raise ValueError(f"Can't get_summary_description on {node_def.op}")
    description = summary_pb2.SummaryDescription()
    description.ParseFromString(node_def.attr["description"].s)
    return description
