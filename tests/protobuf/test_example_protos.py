"""tf.train.Example and friends: TF's field numbers, packed encoding and bytes identical to TensorFlow's."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import tfmini as tf
from tfmini.protobuf import example_pb2, feature_pb2

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "records"


def _recorded_strings(name: str) -> list[bytes]:
    with np.load(FIXTURES / "examples.npz") as z:
        data, lengths = z[name + ".bytes"].tobytes(), z[name + ".lengths"]
    ends = np.cumsum(lengths)
    return [data[e - n : e] for e, n in zip(ends, lengths)]


def _example(features: dict) -> tf.train.Example:
    feats = {}
    for key, (kind, values) in features.items():
        if kind == "bytes":
            feats[key] = tf.train.Feature(bytes_list=tf.train.BytesList(value=values))
        elif kind == "float":
            feats[key] = tf.train.Feature(float_list=tf.train.FloatList(value=values))
        else:
            feats[key] = tf.train.Feature(int64_list=tf.train.Int64List(value=values))
    return tf.train.Example(features=tf.train.Features(feature=feats))


def test_names_live_in_tf_train():
    assert tf.train.Example is example_pb2.Example
    assert tf.train.SequenceExample is example_pb2.SequenceExample
    for name in ("BytesList", "FloatList", "Int64List", "Feature", "Features", "FeatureList", "FeatureLists"):
        assert getattr(tf.train, name) is getattr(feature_pb2, name)


def test_field_numbers_are_tensorflows():
    f = feature_pb2.Feature.DESCRIPTOR.fields_by_name
    assert (f["bytes_list"].number, f["float_list"].number, f["int64_list"].number) == (1, 2, 3)
    assert f["bytes_list"].containing_oneof.name == "kind"
    assert example_pb2.Example.DESCRIPTOR.fields_by_name["features"].number == 1
    seq = example_pb2.SequenceExample.DESCRIPTOR.fields_by_name
    assert (seq["context"].number, seq["feature_lists"].number) == (1, 2)
    assert feature_pb2.FeatureLists.DESCRIPTOR.fields_by_name["feature_list"].number == 1


def test_float_and_int64_lists_are_packed():
    # field 1, wire type 2 (length-delimited): one packed run instead of a tag per value
    assert tf.train.Int64List(value=[1, 2, 3]).SerializeToString() == b"\x0a\x03\x01\x02\x03"
    assert tf.train.FloatList(value=[1.0]).SerializeToString() == b"\x0a\x04\x00\x00\x80\x3f"


def test_examples_serialize_to_tensorflows_bytes():
    from_tf = _recorded_strings("serialized")
    ex0 = _example({
        "age": ("int64", [29]), "height": ("float", [1.75]), "name": ("bytes", [b"ann"]),
        "tags": ("bytes", [b"a", b"bb"]), "scores": ("float", [1.0, 2.5, -3.0]), "ids": ("int64", [1, 2, 3, 4, 5, 6]),
        "seq": ("float", [1.0, 2.0, 3.0, 4.0]), "sp_idx": ("int64", [7, 2]), "sp_val": ("float", [0.5, 1.5]),
        "big": ("int64", [-(2**62), 2**40]),
    })
    assert ex0.SerializeToString(deterministic=True) == from_tf[0]
    back = tf.train.Example.FromString(from_tf[2])
    assert list(back.features.feature["name"].bytes_list.value) == [b"\xff\x00cy"]
    assert back.features.feature["big"].WhichOneof("kind") == "int64_list"
    assert "height" not in tf.train.Example.FromString(from_tf[1]).features.feature


def test_sequence_example_matches_tensorflow():
    seq = tf.train.SequenceExample()
    seq.context.feature["length"].int64_list.value.append(3)
    for tok in (b"a", b"b", b"c"):
        seq.feature_lists.feature_list["tokens"].feature.add().bytes_list.value.append(tok)
    assert seq.SerializeToString(deterministic=True) == _recorded_strings("sequence_example")[0]
