"""Parsing ops (Example and SequenceExample protos) against TensorFlow's recorded outputs
(tools/tf_fixtures/gen_records.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from tf_recorded_cases import FIXTURES

import tfmini as tf
from tfmini.framework import errors
from tfmini.ops import parsing_ops

EXAMPLE_ERRORS = json.loads((FIXTURES / "example_errors.json").read_text())


def _recorded(filename: str = "examples.npz") -> dict:
    """A recorded .npz with its string arrays rebuilt from their bytes, lengths and shapes."""
    out = {}
    with np.load(FIXTURES / filename) as z:
        for key in z.files:
            if key.endswith(".bytes"):
                name = key[: -len(".bytes")]
                data, lengths = z[key].tobytes(), z[name + ".lengths"]
                ends = np.cumsum(lengths)
                arr = np.empty(len(lengths), dtype=object)
                arr[:] = [data[e - n : e] for e, n in zip(ends, lengths)]
                out[name] = arr.reshape(z[name + ".shape"])
            elif not key.endswith((".lengths", ".shape")):
                out[key] = z[key]
    return out


RECORDED = _recorded()
SERIALIZED = list(RECORDED["serialized"])


def _spec() -> dict:
    """gen_records.py's parsing spec."""
    return {
        "age": tf.FixedLenFeature([], tf.int64),
        "height": tf.FixedLenFeature([], tf.float32, default_value=-1.0),
        "name": tf.FixedLenFeature([], tf.string),
        "tags": tf.VarLenFeature(tf.string),
        "scores": tf.FixedLenFeature([3], tf.float32),
        "ids": tf.FixedLenFeature([2, 3], tf.int64),
        "seq": tf.FixedLenSequenceFeature([2], tf.float32, allow_missing=True, default_value=-9.0),
        "big": tf.VarLenFeature(tf.int64),
        "sp": tf.SparseFeature(index_key="sp_idx", value_key="sp_val", dtype=tf.float32, size=10),
    }


def _assert_matches(prefix: str, got: dict, recorded: dict = RECORDED) -> None:
    for key, value in got.items():
        if isinstance(value, tf.SparseTensorValue):
            for part, arr in zip(("indices", "values", "dense_shape"), value):
                want = recorded[f"{prefix}.{key}.{part}"]
                assert np.asarray(arr).tolist() == want.tolist(), (key, part)
                if want.dtype != object:
                    assert np.asarray(arr).dtype == want.dtype
        else:
            want = recorded[f"{prefix}.{key}"]
            got_arr = np.asarray(value, dtype=object) if want.dtype == object else np.asarray(value)
            assert got_arr.shape == want.shape and got_arr.tolist() == want.tolist(), key
            assert all(isinstance(x, bytes) for x in got_arr.ravel()) if want.dtype == object else True
            assert want.dtype == object or got_arr.dtype == want.dtype


def test_parse_example_matches_tensorflow():
    with tf.Session() as sess:
        got = sess.run(tf.parse_example(tf.constant(SERIALIZED), _spec()))
    assert set(got) == set(_spec())
    _assert_matches("batch", got)


def test_parse_example_fed_batch_has_static_shapes():
    serialized = tf.placeholder(tf.string, [None])
    out = tf.io.parse_example(serialized, _spec())
    assert out["ids"].shape.as_list() == [None, 2, 3]
    assert out["seq"].shape.as_list() == [None, None, 2]
    assert out["tags"].indices.shape.as_list() == [None, 2]
    with tf.Session() as sess:
        got = sess.run(out, {serialized: SERIALIZED})
    _assert_matches("batch", got)


@pytest.mark.parametrize("index", [0, 1])
def test_parse_single_example_matches_tensorflow(index):
    spec = {k: v for k, v in _spec().items() if k != "seq"}
    assert "sp" in spec
    with tf.Session() as sess:
        got = sess.run(tf.parse_single_example(SERIALIZED[index], spec))
    _assert_matches(f"single{index}", got)


def test_sparse_feature_sorts_indices_unless_told_they_are_sorted():
    ex = tf.train.Example(features=tf.train.Features(feature={
        "i": tf.train.Feature(int64_list=tf.train.Int64List(value=[5, 1, 3])),
        "j": tf.train.Feature(int64_list=tf.train.Int64List(value=[0, 2, 1])),
        "v": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"five", b"one", b"three"])),
    })).SerializeToString()
    spec = {"s": tf.io.SparseFeature(["i", "j"], "v", tf.string, [6, 3]),
            "u": tf.SparseFeature("i", "v", tf.string, 6, already_sorted=True),
            "i": tf.VarLenFeature(tf.int64)}
    with tf.Session() as sess:
        got = sess.run(tf.parse_example([ex, ex], spec))
    assert set(got) == {"s", "u", "i"}
    assert got["s"].indices.tolist() == [[0, 1, 2], [0, 3, 1], [0, 5, 0], [1, 1, 2], [1, 3, 1], [1, 5, 0]]
    assert got["s"].values.tolist() == [b"one", b"three", b"five"] * 2
    assert got["s"].dense_shape.tolist() == [2, 6, 3]
    assert got["u"].indices.tolist() == [[0, 5], [0, 1], [0, 3], [1, 5], [1, 1], [1, 3]]
    with pytest.raises(ValueError, match="Conflicting type"):
        tf.parse_example([ex], {"s": tf.SparseFeature("i", "v", tf.string, 6), "v": tf.VarLenFeature(tf.int64)})


def test_parse_single_example_sequence_feature():
    spec = {"seq": tf.io.FixedLenSequenceFeature([2], tf.float32, allow_missing=True)}
    with tf.Session() as sess:
        got = sess.run(tf.io.parse_single_example(SERIALIZED[0], spec))
    np.testing.assert_array_equal(got["seq"], [[1.0, 2.0], [3.0, 4.0]])


_BAD = {
    "missing_required": (SERIALIZED[1:2], {"height": tf.FixedLenFeature([], tf.float32)}),
    "wrong_type": (SERIALIZED[:1], {"age": tf.FixedLenFeature([], tf.float32)}),
    "wrong_size": (SERIALIZED[:1], {"scores": tf.FixedLenFeature([2], tf.float32)}),
    "wrong_varlen_type": (SERIALIZED[:1], {"tags": tf.VarLenFeature(tf.int64)}),
    "not_a_proto": ([b"\x0a\x05garbage"], {"age": tf.FixedLenFeature([], tf.int64)}),
    "seq_not_multiple": (SERIALIZED[1:2], {"scores": tf.FixedLenSequenceFeature([2], tf.float32, allow_missing=True)}),
}


@pytest.mark.parametrize("name", sorted(_BAD))
def test_bad_examples_fail_as_tensorflow_does_and_session_survives(name):
    cls_name, message = EXAMPLE_ERRORS[name]
    serialized, spec = _BAD[name]
    with tf.Session() as sess:
        with pytest.raises(getattr(errors, cls_name)) as info:
            sess.run(tf.parse_example(serialized, spec))
        assert info.value.message.startswith(message)
        assert sess.run(tf.parse_example(SERIALIZED, {"age": tf.FixedLenFeature([], tf.int64)}))["age"].tolist() == [
            29, 31, 40]


def test_parse_single_example_errors_name_the_key_only():
    # TF's ParseSingleExample words its errors without an example name or index
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError) as info:
            sess.run(tf.parse_single_example(SERIALIZED[0], {"age": tf.FixedLenFeature([], tf.float32)}))
        assert info.value.message.startswith(
            "Key: age.  Data types don't match. Data type: int64 but expected type: float")
        with pytest.raises(errors.InvalidArgumentError) as info:
            sess.run(tf.parse_single_example(b"", {"a": tf.FixedLenFeature([], tf.float32)}))
        assert info.value.message.startswith("Feature: a (data type: float) is required but could not be found.")


def test_empty_shape_without_default_is_still_required():
    with tf.Session() as sess, pytest.raises(errors.InvalidArgumentError, match="Feature: a .* is required"):
        sess.run(tf.parse_example([b""], {"a": tf.FixedLenFeature([0], tf.int64)}))


def test_example_names_appear_in_errors():
    with tf.Session() as sess, pytest.raises(errors.InvalidArgumentError, match="Name: second, Feature: height"):
        sess.run(tf.parse_example(SERIALIZED[:2], {"height": tf.FixedLenFeature([], tf.float32)},
                                  example_names=["first", "second"]))


def test_feature_configurations_are_checked_when_built():
    with pytest.raises(ValueError, match="allow_missing"):
        tf.parse_example(SERIALIZED, {"s": tf.FixedLenSequenceFeature([], tf.float32)})
    with pytest.raises(ValueError, match="Missing shape"):
        tf.parse_example(SERIALIZED, {"s": tf.FixedLenFeature(None, tf.float32)})
    with pytest.raises(ValueError, match="Unsupported dtype"):
        tf.parse_example(SERIALIZED, {"s": tf.VarLenFeature(tf.int32)})
    with pytest.raises(ValueError, match="features was empty"):
        tf.parse_example(SERIALIZED, {})
    with pytest.raises(ValueError):
        tf.parse_example(SERIALIZED, {"s": tf.FixedLenFeature([2], tf.float32, default_value=[1.0, 2.0, 3.0])})
    with pytest.raises(ValueError, match="rank 1"):
        tf.parse_example(SERIALIZED[0], {"age": tf.FixedLenFeature([], tf.int64)})


def test_fixed_len_default_fills_missing_features_with_its_shape():
    spec = {"extra": tf.FixedLenFeature([2, 2], tf.int64, default_value=[[1, 2], [3, 4]]),
            "word": tf.FixedLenFeature([], tf.string, default_value="none")}
    with tf.Session() as sess:
        got = sess.run(tf.parse_example(SERIALIZED[:2], spec))
    np.testing.assert_array_equal(got["extra"], [[[1, 2], [3, 4]]] * 2)
    assert got["word"].tolist() == [b"none", b"none"]


def test_parsed_examples_written_through_tfrecord_round_trip(tmp_path):
    path = str(tmp_path / "ex.tfrecord")
    rng = np.random.RandomState(0)
    rows = rng.randn(5, 4).astype(np.float32)
    with tf.io.TFRecordWriter(path) as w:
        for i, row in enumerate(rows):
            feats = {"x": tf.train.Feature(float_list=tf.train.FloatList(value=row)),
                     "i": tf.train.Feature(int64_list=tf.train.Int64List(value=[i]))}
            w.write(tf.train.Example(features=tf.train.Features(feature=feats)).SerializeToString())
    records = list(tf.io.tf_record_iterator(path))
    spec = {"x": tf.FixedLenFeature([4], tf.float32), "i": tf.FixedLenFeature([], tf.int64)}
    with tf.Session() as sess:
        got = sess.run(tf.parse_example(records, spec))
    np.testing.assert_array_equal(got["x"], rows)
    np.testing.assert_array_equal(got["i"], np.arange(5))


SEQUENCES = _recorded("sequence_examples.npz")
SEQUENCE_ERRORS = json.loads((FIXTURES / "sequence_example_errors.json").read_text())


def _sequence_specs() -> tuple[dict, dict]:
    context = {"length": tf.FixedLenFeature([], tf.int64),
               "label": tf.FixedLenFeature([], tf.string, default_value="none")}
    sequence = {"tokens": tf.FixedLenSequenceFeature([], tf.int64, allow_missing=True),
                "vecs": tf.FixedLenSequenceFeature([2], tf.float32, allow_missing=True),
                "words": tf.VarLenFeature(tf.string)}
    return context, sequence


@pytest.mark.parametrize("index", [0, 1])
def test_parse_single_sequence_example_matches_tensorflow(index):
    with tf.Session() as sess:
        context, sequence = sess.run(tf.parse_single_sequence_example(SEQUENCES["serialized"][index],
                                                                      *_sequence_specs()))
    _assert_matches(f"single{index}.context", context, SEQUENCES)
    _assert_matches(f"single{index}.sequence", sequence, SEQUENCES)


def test_parse_sequence_example_matches_tensorflow():
    serialized = tf.placeholder(tf.string, [None])
    context, sequence, lengths = tf.io.parse_sequence_example(serialized, *_sequence_specs())
    assert sequence["vecs"].shape.as_list() == [None, None, 2]
    assert sequence["words"].indices.shape.as_list() == [None, 3]
    with tf.Session() as sess:
        context, sequence, lengths = sess.run((context, sequence, lengths),
                                              {serialized: list(SEQUENCES["serialized"])})
    _assert_matches("batch.context", context, SEQUENCES)
    _assert_matches("batch.sequence", sequence, SEQUENCES)
    _assert_matches("batch.lengths", lengths, SEQUENCES)


_BAD_SEQUENCES = {
    "missing_list": (2, {}, {"tokens": tf.FixedLenSequenceFeature([], tf.int64)}),
    "step_size": (0, {}, {"vecs": tf.FixedLenSequenceFeature([3], tf.float32)}),
    "step_type": (0, {}, {"tokens": tf.FixedLenSequenceFeature([], tf.float32)}),
    "varlen_type": (0, {}, {"words": tf.VarLenFeature(tf.int64)}),
    "context_missing": (1, {"label": tf.FixedLenFeature([], tf.string)}, {}),
}


@pytest.mark.parametrize("name", sorted(_BAD_SEQUENCES))
def test_bad_sequence_examples_fail_as_tensorflow_does(name):
    index, context, sequence = _BAD_SEQUENCES[name]
    cls_name, message = SEQUENCE_ERRORS[name]
    with tf.Session() as sess:
        with pytest.raises(getattr(errors, cls_name)) as info:
            sess.run(tf.parse_single_sequence_example(SEQUENCES["serialized"][index], context, sequence))
        if name == "context_missing":
            # TF 1.15's ParseSingleSequenceExample says a required feature is missing; TF 2's kernel words it
            # as a count mismatch
            assert "Feature: label (data type: string) is required" in info.value.message
        else:
            assert info.value.message.startswith(message)
        ctx, _ = sess.run(tf.parse_single_sequence_example(SEQUENCES["serialized"][0], *_sequence_specs()))
        assert ctx["length"] == 3


def test_sequence_feature_configurations_are_checked_when_built():
    with pytest.raises(ValueError, match="Missing features"):
        tf.parse_single_sequence_example(SEQUENCES["serialized"][0])
    with pytest.raises(ValueError, match="sequence features"):
        tf.parse_single_sequence_example(SEQUENCES["serialized"][0],
                                         sequence_features={"x": tf.FixedLenFeature([], tf.int64)})
    with pytest.raises(ValueError, match="context features"):
        tf.parse_single_sequence_example(SEQUENCES["serialized"][0],
                                         context_features={"x": tf.FixedLenSequenceFeature([], tf.int64)})


def test_public_names():
    for name in ("parse_example", "parse_single_example", "FixedLenFeature", "SparseFeature", "VarLenFeature",
                 "FixedLenSequenceFeature", "parse_single_sequence_example"):
        assert getattr(tf, name) is getattr(tf.io, name) is getattr(parsing_ops, name)
    # TF 1.15 exports the batch version under tf.io only
    assert tf.io.parse_sequence_example is parsing_ops.parse_sequence_example
    assert not hasattr(tf, "parse_sequence_example")
