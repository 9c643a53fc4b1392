"""Decoding ops (DecodeRaw, DecodeCSV, DecodeCompressed, SerializeTensor, ParseTensor) against TensorFlow's
recorded outputs (tools/tf_fixtures/gen_records.py) and NumPy / zlib references."""

from __future__ import annotations

import gzip
import zlib

import numpy as np
import pytest
from tf_recorded_cases import CASES, DECODE_PREFIXES, check_case

import tfmini as tf
from tfmini.framework import errors
from tfmini.ops import decode_ops

DECODE_CASES = sorted(n for n in CASES if n.startswith(DECODE_PREFIXES))


@pytest.mark.parametrize("name", DECODE_CASES)
def test_matches_tensorflow(name):
    check_case(name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16, np.uint16, np.int32, np.int64, np.complex64])
@pytest.mark.parametrize("little_endian", [True, False])
def test_decode_raw_matches_numpy_frombuffer(dtype, little_endian):
    rng = np.random.RandomState(4)
    values = (rng.randn(3, 5) * 100).astype(dtype)
    order = "<" if little_endian else ">"
    data = [row.astype(np.dtype(dtype).newbyteorder(order)).tobytes() for row in values]
    with tf.Session() as sess:
        got = sess.run(tf.decode_raw(data, tf.as_dtype(dtype), little_endian=little_endian))
    assert got.dtype == values.dtype
    np.testing.assert_array_equal(got, values)


def test_decode_raw_does_not_alias_its_input():
    p = tf.placeholder(tf.string, [1])
    with tf.Session() as sess:
        got = sess.run(tf.decode_raw(p, tf.uint8), {p: [b"\x01\x02"]})
    assert got.flags.writeable and got.tolist() == [[1, 2]]


def test_decode_csv_matches_python_on_random_numbers():
    rng = np.random.RandomState(5)
    ints = rng.randint(-1000, 1000, size=30)
    floats = rng.randn(30)
    records = [f"{a},{float(b)!r},w{a}" for a, b in zip(ints, floats)]
    with tf.Session() as sess:
        a, b, c = sess.run(tf.decode_csv(records, [tf.constant([], tf.int64), [0.0], ["?"]]))
        d = sess.run(tf.decode_csv(records, [[0], tf.constant([0.0], tf.float64), [""]])[1])
    np.testing.assert_array_equal(a, ints)
    np.testing.assert_array_equal(b, floats.astype(np.float32))
    np.testing.assert_array_equal(d, floats)
    assert c.tolist() == [f"w{a}".encode() for a in ints]


def test_decode_csv_errors_leave_session_usable():
    with tf.Session() as sess:
        p = tf.placeholder(tf.string, [None])
        cols = tf.decode_csv(p, [[0], [0]])
        with pytest.raises(errors.InvalidArgumentError, match="Expect 2 fields"):
            sess.run(cols, {p: ["1"]})
        assert [c.tolist() for c in sess.run(cols, {p: ["1,2"]})] == [[1], [2]]


def test_decode_csv_select_cols_counts_the_selected_fields():
    with tf.Session() as sess:
        got = sess.run(tf.decode_csv(["a,1,b,2.5,extra"], [[""], [0.0]], select_cols=[2, 3]))
        assert [g.tolist() for g in got] == [[b"b"], [2.5]]
        # what TF says when the record ends before the selected columns
        with pytest.raises(errors.InvalidArgumentError, match="Expect 2 fields but have 0 in record 0"):
            sess.run(tf.decode_csv(["a,1"], [[""], [0.0]], select_cols=[2, 3]))


def test_decode_csv_argument_checks_at_build_time():
    with pytest.raises(ValueError, match="select_cols"):
        tf.decode_csv(["1"], [[0], [0]], select_cols=[1, 0])
    with pytest.raises(TypeError):
        tf.decode_csv(["1"], [[True]])
    with pytest.raises(ValueError, match="length-0 or length-1"):
        tf.decode_csv(["1"], [[0, 1]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int8, np.uint8, np.int32, np.int64, np.bool_,
                                   np.complex128, np.float16, object])
def test_serialize_then_parse_tensor_round_trips(dtype):
    rng = np.random.RandomState(7)
    if dtype is object:
        value = np.array([[b"a", b""], [b"\x00z", b"long" * 9]], dtype=object)
    else:
        value = (rng.randn(2, 3, 2) * 10).astype(dtype)
    tf_dtype = tf.string if dtype is object else tf.as_dtype(dtype)
    with tf.Session() as sess:
        serialized = tf.io.serialize_tensor(tf.constant(value, dtype=tf_dtype))
        got = sess.run(tf.io.parse_tensor(serialized, tf_dtype))
    assert got.dtype == value.dtype and got.shape == value.shape
    assert got.tolist() == value.tolist()


def test_decode_compressed_matches_zlib():
    rng = np.random.RandomState(8)
    data = [rng.bytes(int(n)) for n in rng.randint(0, 3000, size=6)]
    with tf.Session() as sess:
        z = sess.run(tf.io.decode_compressed([zlib.compress(d) for d in data], "ZLIB"))
        g = sess.run(tf.io.decode_compressed([gzip.compress(d) for d in data], compression_type="GZIP"))
        with pytest.raises(errors.DataLossError):
            sess.run(tf.io.decode_compressed([zlib.compress(data[1])[:-3]], "ZLIB"))
    assert z.tolist() == g.tolist() == data


# JSON Examples and the bytes TensorFlow's DecodeJSONExample gave for them: features in the JSON's order, float
# and int64 lists unpacked (one field per value).
_JSON_EXAMPLE_BYTES = [
    ('{"features": {"feature": {"f": {"floatList": {"value": [1.0, 2.5]}}, "i": {"int64List": {"value": ["3", '
     '"-4"]}}, "b": {"bytesList": {"value": ["YWI="]}}, "e": {"floatList": {}}, "one": {"floatList": {"value": '
     '[7]}}}}}',
     "0a4f0a110a0166120c120a0d0000803f0d000020400a140a0169120f1a0d080308fcffffffffffffffff010a0b0a016212060a04"
     "0a0261620a070a0165120212000a0e0a036f6e65120712050d0000e040"),
    ('{"features": {"feature": {}}}', "0a00"),
    ('{"features": {"feature": {"z": {}, "a": {"floatList": {"value": ["NaN", "Infinity", 1e-3, 0.1, -0.0]}}}}}',
     "0a290a050a017a12000a200a0161121b12190d0000c07f0d0000807f0d6f12833a0dcdcccc3d0d00000080"),
    ('{"features": {"feature": {"b": {"int64_list": {"value": [9223372036854775807, "-9223372036854775808", 0]}}, '
     '"a": {"bytes_list": {"value": []}}}}}',
     "0a290a1e0a016212191a1708ffffffffffffffff7f088080808080808080800108000a070a016112020a00"),
    ('{"features": null}', ""),
]


def test_decode_json_example_writes_tensorflows_bytes():
    with tf.Session() as sess:
        got = sess.run(tf.io.decode_json_example([text for text, _ in _JSON_EXAMPLE_BYTES]))
    assert [g.hex() for g in got] == [want for _, want in _JSON_EXAMPLE_BYTES]


def test_decode_json_example_gives_the_example_tensorflow_gives():
    # the JSON forms TF's DecodeJSONExample accepts: camelCase or field names, int64s as strings or numbers,
    # bytes in base64
    texts = ['{"features": {"feature": {"a": {"int64List": {"value": ["1", 2]}}, '
             '"b": {"floatList": {"value": [1.5]}}, "c": {"bytesList": {"value": ["aGk="]}}}}}',
             "{}", '{"features": {"feature": {"x": {"int64_list": {"value": [3]}}}}}']
    with tf.Session() as sess:
        binary = sess.run(tf.io.decode_json_example(texts))
        parsed = sess.run(tf.parse_example(binary, {"a": tf.VarLenFeature(tf.int64)}))
        with pytest.raises(errors.InvalidArgumentError, match="Error while parsing JSON"):
            sess.run(tf.io.decode_json_example(['{"nope": 1}']))
    first = tf.train.Example.FromString(binary[0])
    assert list(first.features.feature["a"].int64_list.value) == [1, 2]
    assert list(first.features.feature["b"].float_list.value) == [1.5]
    assert list(first.features.feature["c"].bytes_list.value) == [b"hi"]
    assert binary[1] == b""
    assert tf.train.Example.FromString(binary[2]).features.feature["x"].int64_list.value[0] == 3
    assert parsed["a"].values.tolist() == [1, 2]


def test_public_names():
    for name in ("decode_raw", "decode_csv", "decode_compressed", "decode_json_example", "serialize_tensor",
                 "parse_tensor"):
        assert getattr(tf, name) is getattr(tf.io, name) is getattr(decode_ops, name)
