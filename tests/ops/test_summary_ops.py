"""The summary ops and tf.summary's functions: serialized Summary protos byte for byte as TensorFlow makes them
(recorded by tools/tf_fixtures/gen_summaries.py), histogram buckets, PNG and WAV encodings read back by
independent decoders, tags, scopes and collections, and TF's errors."""

from __future__ import annotations

import io
import json
import struct
import wave
import zlib
from pathlib import Path

import numpy as np
import pytest

import tfmini as tf
from tfmini.framework import errors
from tfmini.framework.registry import apply_op
from tfmini.ops import summary_ops
from tfmini.protobuf import node_def_pb2, summary_pb2

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "summaries"
META = json.loads((FIXTURES / "summaries.json").read_text())
with np.load(FIXTURES / "summaries.npz", allow_pickle=True) as _npz:
    ARRAYS = {k: _npz[k] for k in _npz.files}
CASES = [c for c, m in META["cases"].items() if m["fn"] not in ("merge", "merge_all")]


def _recorded(name: str) -> bytes:
    return ARRAYS[f"out__{name}"].tobytes()


def _build(case: str) -> tf.Tensor:
    m = META["cases"][case]
    kwargs = dict(m["kwargs"])
    name = kwargs.pop("name_override", case)
    if m["family"]:
        kwargs["family"] = m["family"]
    value = tf.constant(ARRAYS[f"in__{m['input']}"])
    fn = getattr(tf.summary, m["fn"])
    if m["scope"]:
        with tf.name_scope(m["scope"]):
            return fn(name, value, **kwargs)
    return fn(name, value, **kwargs)


def _parse(serialized: bytes) -> summary_pb2.Summary:
    return summary_pb2.Summary.FromString(serialized)


@pytest.mark.parametrize("case", CASES)
def test_summary_bytes_match_tensorflow(case, sess):
    t = _build(case)
    assert t.op.name == META["cases"][case]["op_name"]
    assert t.dtype == tf.string and t.shape.ndims == 0
    assert sess.run(t) == _recorded(case)


def test_merge_and_merge_all_match_tensorflow(sess):
    built = {case: _build(case) for case in META["cases"]["merge_all"]["inputs"]}  # TF's creation order
    merged = tf.summary.merge([built[c] for c in META["cases"]["merge"]["inputs"]], name="merged")
    assert merged.op.name == "merged/merged" and merged.op.type == "MergeSummary"
    merged_all = tf.summary.merge_all()
    got = sess.run({"merge": merged, "merge_all": merged_all})
    assert got["merge"] == _recorded("merge")
    assert got["merge_all"] == _recorded("merge_all")


ERROR_BUILDERS = {
    "histo_nan": lambda: tf.summary.histogram("h", tf.constant([1.0, np.nan])),
    "histo_inf": lambda: tf.summary.histogram("h", tf.constant([np.inf, 1.0])),
    "merge_duplicate": lambda: tf.summary.merge([tf.summary.scalar("s", 1.0), tf.summary.scalar("t", 2.0),
                                                 apply_op("ScalarSummary", ["s", 3.0]).outputs[0]]),
    "merge_unparsable": lambda: tf.summary.merge([tf.constant(b"\xff\xff")]),
    "scalar_shape_mismatch": lambda: apply_op("ScalarSummary", [["a", "b"], [1.0, 2.0, 3.0]]),
    "image_bad_channels": lambda: apply_op("ImageSummary", ["i", tf.zeros([1, 2, 2, 2])]),
    "image_bad_rank": lambda: apply_op("ImageSummary", [
        "i", tf.placeholder_with_default(tf.zeros([1, 2, 2]), shape=None)]),
    "audio_bad_rank": lambda: apply_op("AudioSummaryV2", [
        "a", tf.placeholder_with_default(tf.zeros([1, 2, 2, 2]), shape=None), 8000.0]),
    "histogram_tag_not_scalar": lambda: apply_op("HistogramSummary", [["a", "b"], [1.0]]),
}


# TensorFlow 2's kernels (which recorded the fixtures) reworded two messages; tfmini keeps TF 1.15's words.
TF115_WORDING = {
    "histo_inf": "Infinity in summary histogram for: h",
    "scalar_shape_mismatch": "tags and values not the same shape: [2] != [3]",
}


@pytest.mark.parametrize("case", sorted(META["errors"]))
def test_bad_input_raises_tensorflows_error(case, sess):
    want = dict(META["errors"][case])
    want["message"] = TF115_WORDING.get(case, want["message"])
    op = ERROR_BUILDERS[case]()
    op = op.op if isinstance(op, tf.Tensor) else op
    assert op.name == want["op_name"]
    with pytest.raises(getattr(errors, want["class"])) as info:
        sess.run(op.outputs[0])
    assert want["message"] in info.value.message
    # the session stays usable
    assert sess.run(tf.summary.scalar("after", 1.0)) == summary_pb2.Summary(
        value=[summary_pb2.Summary.Value(tag="after", simple_value=1.0)]).SerializeToString()


def test_scalar_and_one_element_vector_stand_for_each_other_as_in_tf1(sess):
    s = _parse(sess.run(tf.summary.scalar("v", tf.constant([2.5]))))
    assert [(v.tag, v.simple_value) for v in s.value] == [("v", 2.5)]
    with pytest.raises(errors.InvalidArgumentError, match=r"not the same shape: \[\] != \[2\] \(tag 'w'\)"):
        sess.run(tf.summary.scalar("w", tf.constant([1.0, 2.0])))


def test_image_of_known_wrong_rank_fails_at_graph_construction():
    with pytest.raises(ValueError, match="rank 4"):
        tf.summary.image("i", tf.zeros([2, 2, 3]))


def test_audio_sample_rate_must_be_positive(sess):
    s = tf.summary.audio("a", tf.zeros([1, 4]), tf.placeholder(tf.float32, []))
    with pytest.raises(errors.InvalidArgumentError, match="sample_rate must be > 0"):
        sess.run(s, {"Placeholder:0": 0.0})


# -- histograms ---------------------------------------------------------------------------------------------

def _reference_histogram(values):
    """Counts per default bucket with a plain loop over the bucket edges (no searchsorted)."""
    limits = summary_ops._BUCKET_LIMITS
    counts = np.zeros(limits.size)
    for v in values:
        i = 0
        while limits[i] <= v:
            i += 1
        counts[i] += 1
    return limits, counts


def test_default_bucket_edges_are_tfs_ladder():
    limits = summary_ops._BUCKET_LIMITS
    positive = limits[limits > 0]
    assert positive[0] == 1e-12 and positive[-1] == np.finfo(np.float64).max and positive[-2] < 1e20
    np.testing.assert_allclose(positive[1:-1] / positive[:-2], 1.1, rtol=1e-12)
    np.testing.assert_array_equal(limits[: positive.size], -positive[::-1])
    assert limits[positive.size] == 0.0 and limits.size == 2 * positive.size + 1


def test_histogram_counts_match_a_reference_and_collapse_empty_runs(sess):
    values = np.concatenate([np.random.RandomState(3).standard_cauchy(300), [0.0, 0.0, -1e-12, 1e-12]])
    proto = _parse(sess.run(tf.summary.histogram("h", values))).value[0].histo
    limits, counts = _reference_histogram(values)
    expected_limits, expected_counts = [], []
    for i, c in enumerate(counts):
        if c > 0 or i + 1 == counts.size or counts[i + 1] > 0:
            expected_limits.append(limits[i])
            expected_counts.append(c)
    assert list(proto.bucket_limit) == expected_limits and list(proto.bucket) == expected_counts
    assert proto.num == values.size and sum(proto.bucket) == values.size
    assert proto.min == values.min() and proto.max == values.max()
    assert proto.sum == pytest.approx(values.sum()) and proto.sum_squares == pytest.approx((values ** 2).sum())


def test_histogram_of_nothing_has_one_empty_bucket(sess):
    proto = _parse(sess.run(tf.summary.histogram("h", tf.zeros([0, 3])))).value[0].histo
    assert proto.num == 0 and list(proto.bucket) == [0.0]
    assert list(proto.bucket_limit) == [np.finfo(np.float64).max]


# -- images -------------------------------------------------------------------------------------------------

def _decode_png(data: bytes) -> np.ndarray:
    """A small independent PNG reader (8-bit, non-interlaced): chunks, inflate, the five row filters."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0] == zlib.crc32(kind + body)
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, bit_depth, color_type = header[:4]
    channels = {0: 1, 4: 2, 2: 3, 6: 4}[color_type]
    raw = zlib.decompress(idat)
    stride = width * channels
    out = np.zeros((height, stride), dtype=np.int64)
    for y in range(height):
        kind, row = raw[y * (stride + 1)], np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1)
        prev = out[y - 1] if y else np.zeros(stride, dtype=np.int64)
        for x in range(stride):
            a = out[y, x - channels] if x >= channels else 0
            b = prev[x]
            c = prev[x - channels] if x >= channels else 0
            predictor = [0, a, b, (a + b) // 2, None][kind]
            if kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                predictor = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            out[y, x] = (int(row[x]) + predictor) % 256
    return out.reshape(height, width, channels).astype(np.uint8)


def test_png_round_trips_uint8_images_of_each_channel_count(sess):
    rng = np.random.RandomState(5)
    for channels in (1, 3, 4):
        pixels = rng.randint(0, 256, size=(2, 6, 5, channels)).astype(np.uint8)
        pixels[1] = np.arange(30 * channels).reshape(6, 5, channels) % 7  # smooth: other filters win
        s = _parse(sess.run(tf.summary.image(f"c{channels}", pixels, max_outputs=5)))
        assert [v.tag for v in s.value] == [f"c{channels}/image/0", f"c{channels}/image/1"]
        for i, v in enumerate(s.value):
            assert (v.image.height, v.image.width, v.image.colorspace) == (6, 5, channels)
            np.testing.assert_array_equal(_decode_png(v.image.encoded_image_string), pixels[i])


def test_float_images_are_scaled_as_tf_documents(sess):
    positive = np.array([[[[0.0], [0.5]], [[1.0], [2.0]]]], dtype=np.float32)
    mixed = np.array([[[[-1.0], [0.0]], [[0.5], [2.0]]]], dtype=np.float32)
    s = sess.run([tf.summary.image("p", positive, max_outputs=1), tf.summary.image("m", mixed, max_outputs=1)])
    got = [_decode_png(_parse(x).value[0].image.encoded_image_string)[..., 0] for x in s]
    np.testing.assert_array_equal(got[0], [[0, 63], [127, 255]])  # 255 / max, truncated
    np.testing.assert_array_equal(got[1], [[64, 128], [159, 255]])  # 0 -> 128, 127 / max|x|


def test_non_finite_pixels_get_bad_color(sess):
    img = np.ones((1, 1, 3, 3), dtype=np.float32)
    img[0, 0, 1, 2] = np.nan
    s = _parse(sess.run(tf.summary.image("i", img)))
    np.testing.assert_array_equal(_decode_png(s.value[0].image.encoded_image_string)[0],
                                  [[255, 255, 255], [255, 0, 0], [255, 255, 255]])


# -- audio --------------------------------------------------------------------------------------------------

def test_wav_holds_16_bit_samples_rounded_and_clipped(sess):
    clip = np.array([[[0.0, 1.0], [-1.0, 0.5], [2.0, -3.0], [1 / 65536, -1 / 65536]]], dtype=np.float32)
    s = _parse(sess.run(tf.summary.audio("a", clip, 22050, max_outputs=1)))
    (v,) = s.value
    assert v.tag == "a/audio" and v.audio.content_type == "audio/wav"
    assert (v.audio.num_channels, v.audio.length_frames, v.audio.sample_rate) == (2, 4, 22050)
    with wave.open(io.BytesIO(v.audio.encoded_audio_string)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (2, 2, 22050, 4)
        samples = np.frombuffer(w.readframes(4), dtype="<i2").reshape(4, 2)
    np.testing.assert_array_equal(samples, [[0, 32767], [-32768, 16384], [32767, -32768], [1, -1]])


# -- tags, scopes, collections ------------------------------------------------------------------------------

def test_summaries_join_the_summaries_collection_or_the_given_ones():
    a = tf.summary.scalar("a", 1.0)
    b = tf.summary.histogram("b", [1.0], collections=["mine"])
    c = tf.summary.text("c", tf.constant("x"), collections=[])
    assert tf.get_collection(tf.GraphKeys.SUMMARIES) == [a]
    assert tf.get_collection("mine") == [b]
    assert c not in tf.get_collection(tf.GraphKeys.SUMMARIES)
    m = tf.summary.merge([a, b])
    assert m not in tf.get_collection(tf.GraphKeys.SUMMARIES)


def test_merge_all_is_none_without_summaries_and_honours_key_and_scope(sess):
    assert tf.summary.merge_all() is None
    with tf.name_scope("train"):
        tf.summary.scalar("loss", 1.0)
    tf.summary.scalar("other", 2.0)
    tf.summary.scalar("extra", 3.0, collections=["custom"])
    tags = lambda t: [v.tag for v in _parse(sess.run(t)).value]  # noqa: E731
    assert tags(tf.summary.merge_all()) == ["train/loss", "other"]
    assert tags(tf.summary.merge_all(scope="train")) == ["train/loss"]
    assert tags(tf.summary.merge_all(key="custom")) == ["extra"]


def test_repeated_names_get_unique_tags_and_bad_characters_are_replaced(sess):
    t1, t2 = tf.summary.scalar("loss", 1.0), tf.summary.scalar("loss", 2.0)
    t3 = tf.summary.scalar("/weird name!", 3.0, family="fam")
    assert [t.op.name for t in (t1, t2, t3)] == ["loss", "loss_1", "fam/weird_name_"]
    tags = [v.tag for v in _parse(sess.run(tf.summary.merge([t1, t2, t3]))).value]
    assert tags == ["loss", "loss_1", "fam/fam/weird_name_"]


def test_scalar_of_each_real_dtype_and_a_fed_value(sess):
    for dtype in (tf.int8, tf.uint8, tf.int64, tf.float16, tf.float64):
        s = _parse(sess.run(tf.summary.scalar(f"s_{dtype.name}", tf.constant(7, dtype=dtype))))
        assert s.value[0].simple_value == 7.0
    x = tf.placeholder(tf.float32, [])
    assert _parse(sess.run(tf.summary.scalar("fed", x), {x: -2.5})).value[0].simple_value == -2.5


def test_text_needs_strings_and_carries_the_text_plugin(sess):
    with pytest.raises(ValueError, match="to have dtype string"):
        tf.summary.text("t", tf.constant(1.0))
    v = _parse(sess.run(tf.summary.text("t", tf.constant(["a", "b"])))).value[0]
    assert v.metadata.plugin_data.plugin_name == "text"
    assert list(v.tensor.string_val) == [b"a", b"b"]


def test_tensor_summary_leaves_the_callers_metadata_alone(sess):
    metadata = summary_pb2.SummaryMetadata(display_name="mine")
    s = tf.summary.tensor_summary("t", tf.constant([1, 2], tf.int32), summary_metadata=metadata,
                                  display_name="shown", summary_description="what")
    v = _parse(sess.run(s)).value[0]
    assert metadata.display_name == "mine"
    assert v.metadata.display_name == "shown" and v.metadata.summary_description == "what"
    np.testing.assert_array_equal(tf.make_ndarray(v.tensor), [1, 2])


def test_legacy_tensor_summary_names_its_node(sess):
    t = apply_op("TensorSummary", [tf.constant([1.0, 2.0])], {"description": "d", "display_name": "n"}, name="ts")
    want = summary_pb2.Summary()
    want.value.add(node_name="ts").tensor.CopyFrom(tf.make_tensor_proto(np.array([1.0, 2.0], np.float32)))
    assert sess.run(t.outputs[0]) == want.SerializeToString()  # as TF writes it: no tag, no metadata


def test_get_summary_description_reads_a_tensor_summary_node():
    node = node_def_pb2.NodeDef(op="TensorSummary")
    node.attr["description"].s = summary_pb2.SummaryDescription(type_hint="scalar").SerializeToString()
    assert tf.summary.get_summary_description(node).type_hint == "scalar"
    node.op = "ScalarSummary"
    with pytest.raises(ValueError, match="Can't get_summary_description on ScalarSummary"):
        tf.summary.get_summary_description(node)


def test_summary_ops_are_not_differentiable():
    x = tf.constant(1.0)
    assert tf.gradients(tf.strings.length(tf.summary.scalar("s", x)), x) == [None]


def test_public_names():
    assert tf.Summary is summary_pb2.Summary and tf.summary.Summary is summary_pb2.Summary
    assert tf.summary.SessionLog is tf.SessionLog and tf.summary.Event is tf.Event
    assert tf.HistogramProto is summary_pb2.HistogramProto and tf.SummaryMetadata is summary_pb2.SummaryMetadata
