"""TF1's readers over queues of filenames: TFRecordReader (each compression), TextLineReader, FixedLengthRecordReader
(header, footer, hop, encodings), WholeFileReader and IdentityReader, checked against plain-Python readings of
files written here with keys and counters as TensorFlow gives them; read_up_to, reset, serialized state, TF's errors
for missing and corrupt files, blocking reads honouring deadlines and session close, and queue-runner pipelines."""

from __future__ import annotations

import gzip
import json
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest

import tfmini as tf
from tfmini.framework import record_io
from tfmini.framework.registry import apply_op
from tfmini.ops import reader_ops

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "readers"
TF_CASES = json.loads((FIXTURES / "readers.json").read_text())
RECORDS = [[b"alpha", b"", b"gamma" * 40], [b"x" * 3, b"yy"]]


def _write_tfrecords(tmp_path, compression: str = "") -> list[str]:
    paths = []
    for i, records in enumerate(RECORDS):
        path = str(tmp_path / f"data{i}.tfrecord")
        with record_io.TFRecordWriter(path, compression) as w:
            for r in records:
                w.write(r)
        paths.append(path)
    return paths


def _tfrecord_expected(paths: list[str]) -> list[tuple[bytes, bytes]]:
    """Keys are `<file>:<offset of the record in the uncompressed framing>`: each record takes 16 bytes more."""
    out = []
    for path, records in zip(paths, RECORDS):
        offset = 0
        for r in records:
            out.append((f"{path}:{offset}".encode(), r))
            offset += len(r) + 16
    return out


def _queue_of(files, capacity: int = 16):
    queue = tf.FIFOQueue(capacity, [tf.string], shapes=[[]])
    return queue, queue.enqueue_many([files]), queue.close()


def _read_all(reader, files, *, up_to: int | None = None):
    """Every (key, value) the reader reads from a closed queue of `files`, until OutOfRangeError, with the reader's
    counters after each read."""
    queue, fill, close = _queue_of(files)
    if up_to is None:
        key, value = reader.read(queue)
    else:
        key, value = reader.read_up_to(queue, up_to)
    produced, completed = reader.num_records_produced(), reader.num_work_units_completed()
    out, counts = [], []
    with tf.Session() as sess:
        sess.run(fill)
        sess.run(close)
        while True:
            try:
                out.append(sess.run([key, value]))
            except tf.errors.OutOfRangeError as e:
                assert "is closed and has insufficient elements (requested 1, current size 0)" in str(e)
                break
            counts.append(tuple(sess.run([produced, completed])))
        final = tuple(sess.run([produced, completed]))
    return out, counts, final


# ----------------------------------------------------------------------------------------------------------
# Against TensorFlow: what its readers read from the fixture files (tools/tf_fixtures/gen_readers.py)
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", sorted(TF_CASES))
def test_reader_reads_what_tensorflow_read(case):
    spec = TF_CASES[case]
    prefix = str(FIXTURES)
    files = [f if spec["reader"] == "IdentityReader" else f"{prefix}/{f}" for f in spec["files"]]
    with tf.Graph().as_default():
        reader = getattr(tf, spec["reader"])(**spec["kwargs"])
        queue, fill, close = _queue_of(files)
        up_to = spec["up_to"]
        key, value = reader.read(queue) if up_to is None else reader.read_up_to(queue, up_to)
        counters = [reader.num_records_produced(), reader.num_work_units_completed()]
        state = reader.serialize_state() if reader.supports_serialize else None
        with tf.Session() as sess:
            sess.run(fill)
            sess.run(close)
            for step in spec["steps"]:
                keys, values = sess.run([key, value])
                keys, values = ([keys], [values]) if up_to is None else (keys.tolist(), values.tolist())
                assert [k.decode().replace(prefix, "{dir}") for k in keys] == step["keys"]
                assert [v.hex() for v in values] == step["values"]
                assert [int(c) for c in sess.run(counters)] == step["counters"]
                if "state_fields" in step:
                    serialized = sess.run(state)
                    started, finished, produced, work = step["state_fields"]
                    work = work.replace("{dir}", prefix).encode()
                    assert reader_ops._decode_state(serialized) == (started, finished, produced, work)
                    if "state" in step:
                        assert serialized.hex() == step["state"]
            with pytest.raises(getattr(tf.errors, spec["end"])):
                sess.run(key)
            assert [int(c) for c in sess.run(counters)] == spec["final_counters"]


# ----------------------------------------------------------------------------------------------------------
# TFRecordReader
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("compression", ["", "ZLIB", "GZIP"])
def test_tfrecord_reader_reads_every_record_keyed_by_file_and_offset(tmp_path, compression):
    paths = _write_tfrecords(tmp_path, compression)
    with tf.Graph().as_default():
        reader = tf.TFRecordReader(options=record_io.TFRecordOptions(compression) if compression else None)
        out, counts, final = _read_all(reader, paths)
    assert [(k, v) for k, v in out] == _tfrecord_expected(paths)
    # A work unit is finished when a read finds it exhausted, so the first file counts once the second starts.
    assert counts == [(1, 0), (2, 0), (3, 0), (4, 1), (5, 1)]
    assert final == (5, 2)


def test_tfrecord_reader_takes_the_compression_as_a_string_and_checks_it(tmp_path):
    paths = _write_tfrecords(tmp_path, "GZIP")
    with tf.Graph().as_default():
        reader = tf.TFRecordReader(name="gz", options="GZIP")
        assert reader.reader_ref.op.type == "TFRecordReaderV2"
        assert reader.reader_ref.op.get_attr("compression_type") == "GZIP"
        out, _, _ = _read_all(reader, paths)
    assert [v for _, v in out] == [r for records in RECORDS for r in records]
    with pytest.raises(ValueError, match="Not a valid compression_type"):
        tf.TFRecordReader(options="LZ4")


def test_tfrecord_read_up_to_never_spans_two_files(tmp_path):
    paths = _write_tfrecords(tmp_path)
    with tf.Graph().as_default():
        out, counts, final = _read_all(tf.TFRecordReader(), paths, up_to=2)
    expected = _tfrecord_expected(paths)
    batches = [list(zip(k.tolist(), v.tolist())) for k, v in out]
    assert batches == [expected[0:2], expected[2:3], expected[3:5]]
    assert counts == [(2, 0), (3, 1), (5, 1)]  # the end of a file is found by the read after its last record
    assert final == (5, 2)


def test_read_shapes_dtypes_and_op_types():
    with tf.Graph().as_default():
        queue, _, _ = _queue_of(["f"])
        reader = tf.TFRecordReader()
        key, value = reader.read(queue, name="rd")
        keys, values = reader.read_up_to(queue, 4)
        assert key.op.name == "rd" and key.op.type == "ReaderReadV2"
        assert key.dtype == tf.string and value.dtype == tf.string
        assert key.shape.as_list() == [] and value.shape.as_list() == []
        assert keys.op.type == "ReaderReadUpToV2" and keys.shape.as_list() == [None]
        assert values.shape.as_list() == [None]
        assert reader.reader_ref.dtype == tf.resource and reader.reader_ref.op.name == "TFRecordReaderV2"
        assert reader.num_records_produced().dtype == tf.int64
        assert reader.num_work_units_completed().op.type == "ReaderNumWorkUnitsCompletedV2"
        assert reader.reset().type == "ReaderResetV2"
        assert not reader.supports_serialize
        # A queue handle works as well as the queue object.
        assert reader.read(queue.queue_ref)[0].op.inputs[1] is queue.queue_ref
        with pytest.raises(ValueError, match="must have rank 0"):
            reader.read_up_to(queue, [1, 2])


# ----------------------------------------------------------------------------------------------------------
# TextLineReader
# ----------------------------------------------------------------------------------------------------------
TEXTS = {
    "final_newline.txt": b"head\none\ntwo\n\nthree\n",
    "no_final_newline.txt": b"head\nfour\r\nfive\r",
    "only_header.txt": b"head",
    "empty.txt": b"",
}


def _text_expected(paths: dict, skip: int) -> list[tuple[bytes, bytes]]:
    """Plain-Python reading: split on \\n, drop one \\r at a line's end, no record after a final newline."""
    out = []
    for path, data in paths.items():
        lines = data.split(b"\n")
        if lines[-1] == b"":
            lines.pop()
        for number, line in enumerate(lines, 1):
            if number > skip:
                out.append((f"{path}:{number}".encode(), line[:-1] if line.endswith(b"\r") else line))
    return out


@pytest.mark.parametrize("skip", [None, 1, 3])
def test_text_line_reader_keys_lines_from_one_and_skips_headers(tmp_path, skip):
    paths = {}
    for name, data in TEXTS.items():
        (tmp_path / name).write_bytes(data)
        paths[str(tmp_path / name)] = data
    with tf.Graph().as_default():
        out, _, final = _read_all(tf.TextLineReader(skip_header_lines=skip), list(paths))
    expected = _text_expected(paths, skip or 0)
    assert [(k, v) for k, v in out] == expected
    assert final == (len(expected), len(paths))


def test_text_line_reader_read_up_to(tmp_path):
    path = tmp_path / "lines.txt"
    path.write_bytes(b"".join(b"line %d\n" % i for i in range(7)))
    with tf.Graph().as_default():
        out, _, _ = _read_all(tf.TextLineReader(), [str(path)], up_to=3)
    assert [v.tolist() for _, v in out] == [[b"line 0", b"line 1", b"line 2"], [b"line 3", b"line 4", b"line 5"],
                                            [b"line 6"]]
    assert out[2][0].tolist() == [f"{path}:7".encode()]


# ----------------------------------------------------------------------------------------------------------
# FixedLengthRecordReader
# ----------------------------------------------------------------------------------------------------------
def _fixed_expected(path: str, data: bytes, header: int, record: int, footer: int, hop: int) -> list:
    end = len(data) - footer
    step = hop or record
    out = []
    start = header
    while start + record <= end:
        out.append((f"{path}:{len(out)}".encode(), data[start:start + record]))
        start += step
    return out


@pytest.mark.parametrize("header, record, footer, hop", [
    (0, 4, 0, 0), (2, 3, 3, 0), (2, 4, 3, 2), (2, 3, 1, 5), (1, 7, 0, 7), (0, 30, 0, 0), (5, 1, 5, 1),
])
@pytest.mark.parametrize("encoding", ["", "ZLIB", "GZIP"])
def test_fixed_length_reader_against_slicing(tmp_path, header, record, footer, hop, encoding):
    data = bytes(range(23))
    stored = {"": data, "ZLIB": zlib.compress(data), "GZIP": gzip.compress(data)}[encoding]
    path = tmp_path / "fixed.bin"
    path.write_bytes(stored)
    with tf.Graph().as_default():
        reader = tf.FixedLengthRecordReader(record, header_bytes=header, footer_bytes=footer, hop_bytes=hop,
                                            encoding=encoding or None)
        out, _, final = _read_all(reader, [str(path)])
    expected = _fixed_expected(str(path), data, header, record, footer, hop)
    assert [(k, v) for k, v in out] == expected
    assert final == (len(expected), 1)


def test_fixed_length_reader_over_a_file_larger_than_its_read_buffer(tmp_path):
    rng = np.random.default_rng(0)
    data = rng.integers(0, 256, 200_003, dtype=np.uint8).tobytes()
    path = tmp_path / "big.bin"
    path.write_bytes(gzip.compress(data))
    with tf.Graph().as_default():
        out, _, _ = _read_all(tf.FixedLengthRecordReader(1000, header_bytes=3, hop_bytes=997, encoding="GZIP"),
                              [str(path)], up_to=64)
    values = [v for _, vs in out for v in vs.tolist()]
    assert values == [v for _, v in _fixed_expected(str(path), data, 3, 1000, 0, 997)]


def test_fixed_length_reader_refuses_negative_sizes_and_unknown_encodings(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"0123456789")
    with tf.Graph().as_default():
        queue, fill, _ = _queue_of([str(path)])
        bad_size = tf.FixedLengthRecordReader(4, header_bytes=-1).read(queue)
        bad_encoding = tf.FixedLengthRecordReader(4, encoding="LZMA").read(queue)
        with tf.Session() as sess:
            sess.run(fill)
            with pytest.raises(tf.errors.InvalidArgumentError, match="header_bytes must be >= 0 not -1"):
                sess.run(bad_size)
            with pytest.raises(tf.errors.InvalidArgumentError, match="Unsupported encoding"):
                sess.run(bad_encoding)


# ----------------------------------------------------------------------------------------------------------
# WholeFileReader, IdentityReader
# ----------------------------------------------------------------------------------------------------------
def test_whole_file_reader_reads_each_file_as_one_record(tmp_path):
    files = []
    for i, data in enumerate([b"first file\n", b"", bytes(range(256))]):
        (tmp_path / f"w{i}").write_bytes(data)
        files.append((str(tmp_path / f"w{i}"), data))
    with tf.Graph().as_default():
        reader = tf.WholeFileReader()
        assert reader.supports_serialize
        out, counts, _ = _read_all(reader, [f for f, _ in files])
    assert [(k, v) for k, v in out] == [(f.encode(), d) for f, d in files]
    assert counts == [(1, 1), (2, 2), (3, 3)]  # each work unit ends with its record


def test_identity_reader_gives_each_work_unit_as_key_and_value():
    with tf.Graph().as_default():
        out, counts, _ = _read_all(tf.IdentityReader(), ["a", "bb", "c"], up_to=5)
    assert [(k.tolist(), v.tolist()) for k, v in out] == [([b"a"], [b"a"]), ([b"bb"], [b"bb"]), ([b"c"], [b"c"])]
    assert counts == [(1, 1), (2, 2), (3, 3)]


# ----------------------------------------------------------------------------------------------------------
# Reset and serialized state
# ----------------------------------------------------------------------------------------------------------
def test_reset_forgets_the_work_unit_and_the_counters(tmp_path):
    paths = _write_tfrecords(tmp_path)
    with tf.Graph().as_default():
        queue, fill, _ = _queue_of(paths + paths)
        reader = tf.TFRecordReader()
        key, _ = reader.read(queue)
        counters = [reader.num_records_produced(), reader.num_work_units_completed()]
        with tf.Session() as sess:
            sess.run(fill)
            assert sess.run(key) == f"{paths[0]}:0".encode()
            sess.run(reader.reset())
            assert sess.run(counters) == [0, 0]
            # The next read starts the next work unit of the queue from its beginning.
            assert sess.run(key) == f"{paths[1]}:0".encode()
            assert sess.run(counters) == [1, 0]


def test_identity_reader_state_round_trips_with_tf_bytes():
    with tf.Graph().as_default():
        queue, fill, _ = _queue_of(["a", "b", "c"])
        reader = tf.IdentityReader()
        key, _ = reader.read(queue)
        state = reader.serialize_state()
        feed = tf.placeholder(tf.string, [])
        restore = reader.restore_state(feed)
        counters = [reader.num_records_produced(), reader.num_work_units_completed()]
        with tf.Session() as sess:
            sess.run(fill)
            assert sess.run(state) == b""
            assert sess.run(key) == b"a"
            saved = sess.run(state)
            assert saved == b'\x08\x01\x10\x01\x18\x01"\x01a'  # TensorFlow's ReaderBaseState bytes
            assert sess.run(key) == b"b"
            sess.run(restore, {feed: saved})
            assert sess.run(counters) == [1, 1]
            assert sess.run(key) == b"c"
            assert sess.run(counters) == [2, 2]
            sess.run(restore, {feed: b"\x08\x81\x01\x10\x81\x01\x18\x02\"\x03abc"})
            assert sess.run(state) == b"\x08\x81\x01\x10\x81\x01\x18\x02\"\x03abc"
            # Fields the state does not know (fixed-width ones here) are skipped, as a proto parser does.
            sess.run(restore, {feed: b"\x29" + bytes(8) + b"\x35" + bytes(4) + b"\x08\x02\x10\x02"})
            assert sess.run(state) == b"\x08\x02\x10\x02"


@pytest.mark.parametrize("state, message", [
    (b"garbage", r"Could not parse state for IdentityReader 'IdentityReaderV2': b'garbage'"),
    (b"\x08", "Could not parse state"),
    (b'"\x05ab', "Could not parse state"),
    (b"\x00\x01", "Could not parse state"),
    (b"\x08\x02\x10\x01", "Inconsistent work started vs. finished when restoring in IdentityReader "
                          "'IdentityReaderV2': work_started: 2 work_finished: 1"),
    (b"\x18\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", "Unexpected negative value when restoring in "
                                                     "IdentityReader 'IdentityReaderV2': num_records_produced: -1"),
])
def test_restoring_a_bad_state_is_an_invalid_argument_and_keeps_the_reader(state, message):
    with tf.Graph().as_default():
        reader = tf.IdentityReader()
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match=message):
                sess.run(reader.restore_state(state))
            assert sess.run(reader.serialize_state()) == b""


def test_readers_without_serialization_say_unimplemented(tmp_path):
    with tf.Graph().as_default():
        reader = tf.TextLineReader()
        with tf.Session() as sess:
            with pytest.raises(tf.errors.UnimplementedError, match="Reader SerializeState"):
                sess.run(reader.serialize_state())
            with pytest.raises(tf.errors.UnimplementedError, match="Reader RestoreState"):
                sess.run(reader.restore_state(b""))


# ----------------------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------------------
def test_a_missing_file_is_not_found_once_and_the_next_read_moves_on(tmp_path):
    paths = _write_tfrecords(tmp_path)
    missing = str(tmp_path / "missing.tfrecord")
    with tf.Graph().as_default():
        queue, fill, _ = _queue_of([missing, paths[1]])
        key, _ = tf.TFRecordReader().read(queue)
        with tf.Session() as sess:
            sess.run(fill)
            with pytest.raises(tf.errors.NotFoundError, match=f"{missing}; No such file or directory"):
                sess.run(key)
            assert sess.run(key) == f"{paths[1]}:0".encode()


def test_whole_file_reader_keeps_failing_on_a_missing_file(tmp_path):
    missing = str(tmp_path / "missing")
    with tf.Graph().as_default():
        queue, fill, _ = _queue_of([missing, missing + "2"])
        key, _ = tf.WholeFileReader().read(queue)
        with tf.Session() as sess:
            sess.run(fill)
            for _ in range(2):  # TF reads the file when it reads the record: the work unit stays current
                with pytest.raises(tf.errors.NotFoundError, match=f"{missing}; No such"):
                    sess.run(key)


@pytest.mark.parametrize("damage", ["corrupt", "truncate"])
def test_a_damaged_record_is_data_loss_at_each_read(tmp_path, damage):
    (path,) = _write_tfrecords(tmp_path)[:1]
    data = bytearray(open(path, "rb").read())
    if damage == "corrupt":
        data[len(RECORDS[0][0]) + 16 + 12] ^= 0xFF  # the second record's data
    else:
        del data[-3:]
    with open(path, "wb") as f:
        f.write(bytes(data))
    with tf.Graph().as_default():
        queue, fill, _ = _queue_of([path])
        key, value = tf.TFRecordReader().read(queue)
        with tf.Session() as sess:
            sess.run(fill)
            assert sess.run(value) == RECORDS[0][0]
            if damage == "truncate":
                assert sess.run(value) == RECORDS[0][1]
            for _ in range(2):
                with pytest.raises(tf.errors.DataLossError, match="corrupted record|truncated record") as info:
                    sess.run(key)
                assert "ReaderReadV2" in str(info.value)
            assert sess.run(tf.constant(2) * 3) == 6


def test_reading_a_directory_is_a_failed_precondition(tmp_path):
    with tf.Graph().as_default():
        queue, fill, _ = _queue_of([str(tmp_path)])
        key, _ = tf.FixedLengthRecordReader(4).read(queue)
        with tf.Session() as sess:
            sess.run(fill)
            with pytest.raises(tf.errors.FailedPreconditionError, match="Is a directory"):
                sess.run(key)


@pytest.mark.parametrize("dtypes, shapes, value, message", [
    ([tf.int32], [[]], 1, "Expected queue with single string component"),
    ([tf.string, tf.string], None, ["a", "b"], "Expected single component queue"),
    ([tf.string], None, [["a", "b"]], "Expected to dequeue a one-element string tensor"),
])
def test_a_queue_of_other_elements_is_an_invalid_argument(dtypes, shapes, value, message):
    with tf.Graph().as_default():
        queue = tf.FIFOQueue(4, dtypes, shapes=shapes)
        key, _ = tf.IdentityReader().read(queue)
        with tf.Session() as sess:
            sess.run(queue.enqueue(value))
            with pytest.raises(tf.errors.InvalidArgumentError, match=message):
                sess.run(key)


def test_damaged_compressed_fixed_length_file_is_data_loss_and_short_files_have_no_record(tmp_path):
    bad, short = tmp_path / "bad.gz", tmp_path / "short.bin"
    bad.write_bytes(b"not gzip at all")
    short.write_bytes(b"abc")
    with tf.Graph().as_default():
        queue, fill, _ = _queue_of([str(bad)])
        key, _ = tf.FixedLengthRecordReader(2, encoding="GZIP").read(queue)
        with tf.Session() as sess:
            sess.run(fill)
            with pytest.raises(tf.errors.DataLossError, match="corrupted compressed stream"):
                sess.run(key)
        out, _, final = _read_all(tf.FixedLengthRecordReader(1, header_bytes=4), [str(short)])
    assert out == [] and final == (0, 1)


def test_text_line_reader_on_a_directory_and_a_negative_header_count(tmp_path):
    with tf.Graph().as_default():
        queue, fill, _ = _queue_of([str(tmp_path)])
        key, _ = tf.TextLineReader().read(queue)
        negative, _ = tf.TextLineReader(skip_header_lines=-1).read(queue)
        with tf.Session() as sess:
            sess.run(fill)
            for _ in range(2):
                with pytest.raises(tf.errors.FailedPreconditionError, match="Is a directory"):
                    sess.run(key)
            with pytest.raises(tf.errors.InvalidArgumentError, match="skip_header_lines must be >= 0 not -1"):
                sess.run(negative)


def test_handles_of_the_wrong_resource_are_invalid_arguments():
    with tf.Graph().as_default():
        queue, fill, _ = _queue_of(["a"])
        reader, other = tf.IdentityReader(), tf.IdentityReader()
        wrong_queue, _ = reader.read(other.reader_ref)
        not_a_reader = tf.ReaderBase(queue.queue_ref).num_records_produced()
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match="queue_handle input does not refer to a queue"):
                sess.run(wrong_queue)
            with pytest.raises(tf.errors.InvalidArgumentError, match="reader_handle input does not refer to a"):
                sess.run(not_a_reader)


def test_readers_with_one_shared_name_are_one_reader():
    with tf.Graph().as_default():
        queue, fill, _ = _queue_of(["a", "b"])
        first = tf.ReaderBase(apply_op("IdentityReaderV2", [], {"shared_name": "shared"}).outputs[0])
        second = tf.ReaderBase(apply_op("IdentityReaderV2", [], {"shared_name": "shared"}).outputs[0])
        clash = tf.ReaderBase(apply_op("WholeFileReaderV2", [], {"shared_name": "shared"}).outputs[0])
        bad_compression = tf.ReaderBase(apply_op("TFRecordReaderV2", [], {"compression_type": "LZ4"}).outputs[0])
        with tf.Session() as sess:
            sess.run(fill)
            assert sess.run(first.read(queue)[0]) == b"a"
            assert sess.run(second.num_records_produced()) == 1
            with pytest.raises(tf.errors.InvalidArgumentError, match="Shared reader 'shared' is of type "
                                                                     "IdentityReader, not WholeFileReader"):
                sess.run(clash.num_records_produced())
            with pytest.raises(tf.errors.InvalidArgumentError, match="Unsupported compression_type: 'LZ4'"):
                sess.run(bad_compression.num_records_produced())


def test_read_up_to_zero_reads_nothing_and_negative_is_invalid():
    with tf.Graph().as_default():
        queue, fill, _ = _queue_of(["a"])
        n = tf.placeholder(tf.int64, [])
        keys, _ = tf.IdentityReader().read_up_to(queue, n)
        with tf.Session() as sess:
            sess.run(fill)
            assert sess.run(keys, {n: 0}).tolist() == []
            with pytest.raises(tf.errors.InvalidArgumentError, match="num_records must be >= 0 but got -1"):
                sess.run(keys, {n: -1})
            assert sess.run(keys, {n: 1}).tolist() == [b"a"]


def test_fed_values_of_the_wrong_rank_are_invalid_arguments():
    with tf.Graph().as_default():
        queue, fill, _ = _queue_of(["a"])
        reader = tf.IdentityReader()
        n = tf.placeholder(tf.int64)
        state = tf.placeholder(tf.string)
        keys, _ = reader.read_up_to(queue, n)
        restore = reader.restore_state(state)
        with tf.Session() as sess:
            sess.run(fill)
            with pytest.raises(tf.errors.InvalidArgumentError, match=r"num_records must be a scalar, got shape \[2\]"):
                sess.run(keys, {n: [1, 2]})
            with pytest.raises(tf.errors.InvalidArgumentError, match=r"the state must be a scalar string, got "
                                                                     r"shape \[1\]"):
                sess.run(restore, {state: [b""]})
            assert sess.run(keys, {n: 3}).tolist() == [b"a"]


# ----------------------------------------------------------------------------------------------------------
# Sessions, blocking, deadlines, close
# ----------------------------------------------------------------------------------------------------------
def test_two_sessions_have_their_own_readers(tmp_path):
    paths = _write_tfrecords(tmp_path)
    with tf.Graph().as_default():
        queue, fill, _ = _queue_of(paths)
        key, _ = tf.TFRecordReader().read(queue)
        with tf.Session() as a, tf.Session() as b:
            a.run(fill)
            b.run(fill)
            assert a.run(key) == b.run(key) == f"{paths[0]}:0".encode()
            assert a.run(key) == f"{paths[0]}:21".encode()
            assert b.run(key) == f"{paths[0]}:21".encode()


def test_the_parallel_engine_reads_as_the_serial_one(tmp_path):
    paths = _write_tfrecords(tmp_path)
    with tf.Graph().as_default():
        queue, fill, close = _queue_of(paths)
        reader = tf.TFRecordReader()
        key, value = reader.read(queue)
        lengths = tf.strings.length(value)
        got = []
        with tf.Session(config=tf.ConfigProto(inter_op_parallelism_threads=2)) as sess:
            sess.run(fill)
            sess.run(close)
            with pytest.raises(tf.errors.OutOfRangeError):
                while True:
                    got.append(tuple(sess.run([key, value, lengths])))
    assert [(k, v) for k, v, _ in got] == _tfrecord_expected(paths)
    assert [n for _, v, n in got] == [len(v) for _, v, _ in got]


def test_a_read_blocked_on_an_empty_queue_honours_the_deadline():
    with tf.Graph().as_default():
        queue, fill, _ = _queue_of(["late"])
        key, _ = tf.IdentityReader().read(queue)
        with tf.Session() as sess:
            with pytest.raises(tf.errors.DeadlineExceededError):
                sess.run(key, options=tf.RunOptions(timeout_in_ms=100))
            sess.run(fill)
            assert sess.run(key) == b"late"


def test_closing_the_session_cancels_blocked_reads():
    with tf.Graph().as_default():
        queue, _, _ = _queue_of([])
        reader = tf.IdentityReader()
        key, _ = reader.read(queue)
        sess = tf.Session()
        errors = []

        def blocked_read():
            try:
                sess.run(key)
            except Exception as e:  # noqa: BLE001 - recorded for the assertion below
                errors.append(e)

        threads = [threading.Thread(target=blocked_read) for _ in range(2)]  # one waits on the other
        for t in threads:
            t.start()
        threading.Event().wait(0.2)
        sess.close()
        for t in threads:
            t.join(timeout=10)
        assert not any(t.is_alive() for t in threads)
        assert len(errors) == 2
        assert all(isinstance(e, tf.errors.CancelledError) for e in errors), errors


def test_reads_from_several_threads_share_one_reader(tmp_path):
    path = tmp_path / "lines.txt"
    path.write_bytes(b"".join(b"%d\n" % i for i in range(300)))
    with tf.Graph().as_default():
        queue, fill, close = _queue_of([str(path)])
        _, value = tf.TextLineReader().read(queue)
        seen, lock = [], threading.Lock()
        with tf.Session() as sess:
            sess.run(fill)
            sess.run(close)

            def drain():
                while True:
                    try:
                        v = sess.run(value)
                    except tf.errors.OutOfRangeError:
                        return
                    with lock:
                        seen.append(int(v))

            threads = [threading.Thread(target=drain) for _ in range(3)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30)
            assert not any(t.is_alive() for t in threads)
    assert sorted(seen) == list(range(300))


# ----------------------------------------------------------------------------------------------------------
# Queue-runner pipelines
# ----------------------------------------------------------------------------------------------------------
def test_string_input_producer_epochs_end_with_out_of_range(tmp_path):
    paths = _write_tfrecords(tmp_path)
    with tf.Graph().as_default():
        filenames = tf.train.string_input_producer(paths, num_epochs=2, shuffle=False)
        key, value = tf.TFRecordReader().read(filenames)
        with tf.Session() as sess:
            sess.run(tf.local_variables_initializer())
            coord = tf.train.Coordinator()
            threads = tf.train.start_queue_runners(sess, coord=coord)
            got = []
            with pytest.raises(tf.errors.OutOfRangeError):
                while True:
                    got.append(tuple(sess.run([key, value])))
            coord.request_stop()
            coord.join(threads, stop_grace_period_secs=10)
    assert got == _tfrecord_expected(paths) * 2


def test_whole_file_reader_over_matched_filenames(tmp_path):
    """The classic image-folder pipeline: match_filenames_once -> string_input_producer -> WholeFileReader."""
    contents = {f"img{i}.png": bytes([i]) * (i + 1) for i in range(4)}
    for name, data in contents.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "notes.txt").write_bytes(b"not an image")
    with tf.Graph().as_default():
        filenames = tf.train.match_filenames_once(str(tmp_path / "*.png"))
        queue = tf.train.string_input_producer(filenames, num_epochs=1, shuffle=False)
        key, value = tf.WholeFileReader().read(queue)
        with tf.Session() as sess:
            sess.run(tf.local_variables_initializer())
            coord = tf.train.Coordinator()
            threads = tf.train.start_queue_runners(sess, coord=coord)
            got = {}
            try:
                while True:
                    k, v = sess.run([key, value])
                    got[k.decode()] = v
            except tf.errors.OutOfRangeError:
                pass
            coord.request_stop()
            coord.join(threads, stop_grace_period_secs=10)
    assert got == {str(tmp_path / name): data for name, data in contents.items()}


def test_several_readers_feed_a_batch_join_from_one_filename_queue(tmp_path):
    files = []
    for i in range(4):
        path = tmp_path / f"part-{i}.csv"
        path.write_bytes(b"id\n" + b"".join(b"%d\n" % (10 * i + j) for j in range(5)))
        files.append(str(path))
    epochs = 3
    with tf.Graph().as_default():
        queue = tf.train.string_input_producer(files, num_epochs=epochs, seed=2)
        per_reader = []
        for _ in range(3):
            _, line = tf.TextLineReader(skip_header_lines=1).read(queue)
            per_reader.append([tf.string_to_number(line, tf.int32)])
        ids = tf.train.batch_join(per_reader, batch_size=7, allow_smaller_final_batch=True)  # one component: a tensor
        seen = []
        with tf.Session() as sess:
            sess.run(tf.local_variables_initializer())
            coord = tf.train.Coordinator()
            threads = tf.train.start_queue_runners(sess, coord=coord)
            try:
                while True:
                    seen.extend(sess.run(ids).tolist())
            except tf.errors.OutOfRangeError:
                pass
            coord.request_stop()
            coord.join(threads, stop_grace_period_secs=10)
    assert sorted(seen) == sorted([10 * i + j for i in range(4) for j in range(5)] * epochs)


def _write_examples(tmp_path, n_files: int, per_file: int, rng) -> tuple[list[str], np.ndarray, np.ndarray]:
    """TFRecord files of serialized tf.train.Examples with a 3-float feature `x` and a float label `y` = x.w + b."""
    w, b = np.array([1.5, -2.0, 0.5], np.float32), np.float32(0.25)
    xs = rng.normal(size=(n_files * per_file, 3)).astype(np.float32)
    ys = xs @ w + b
    paths = []
    for i in range(n_files):
        path = str(tmp_path / f"examples-{i}.tfrecord")
        with tf.python_io.TFRecordWriter(path) as writer:
            for j in range(i * per_file, (i + 1) * per_file):
                example = tf.train.Example(features=tf.train.Features(feature={
                    "x": tf.train.Feature(float_list=tf.train.FloatList(value=xs[j].tolist())),
                    "y": tf.train.Feature(float_list=tf.train.FloatList(value=[float(ys[j])])),
                }))
                writer.write(example.SerializeToString())
        paths.append(path)
    return paths, w, b


def test_classic_pipeline_trains_a_model_until_the_epochs_run_out(tmp_path):
    rng = np.random.default_rng(7)
    paths, w_true, b_true = _write_examples(tmp_path, n_files=3, per_file=40, rng=rng)
    epochs, batch = 30, 8
    with tf.Graph().as_default():
        tf.set_random_seed(1)
        filename_queue = tf.train.string_input_producer(paths, num_epochs=epochs, shuffle=True, seed=3)
        _, serialized = tf.TFRecordReader().read(filename_queue)
        features = tf.parse_single_example(serialized, {
            "x": tf.FixedLenFeature([3], tf.float32), "y": tf.FixedLenFeature([], tf.float32)})
        xb, yb = tf.train.shuffle_batch([features["x"], features["y"]], batch_size=batch, capacity=64,
                                        min_after_dequeue=16, num_threads=2, seed=5)
        w = tf.Variable(tf.zeros([3]), name="w")
        b = tf.Variable(0.0, name="b")
        loss = tf.reduce_mean(tf.square(tf.reduce_sum(xb * w, axis=1) + b - yb))
        step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        with tf.Session() as sess:
            sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
            coord = tf.train.Coordinator()
            threads = tf.train.start_queue_runners(sess, coord=coord)
            steps, losses = 0, []
            try:
                while not coord.should_stop():
                    losses.append(sess.run([step, loss])[1])
                    steps += 1
            except tf.errors.OutOfRangeError:
                pass
            finally:
                coord.request_stop()
            coord.join(threads, stop_grace_period_secs=10)
            w_fit, b_fit = sess.run([w, b])
    # Every example of every epoch went through the batches (the last partial batch is dropped).
    assert steps == 3 * 40 * epochs // batch
    assert losses[-1] < 1e-4 < losses[0]
    np.testing.assert_allclose(w_fit, w_true, atol=1e-2)
    np.testing.assert_allclose(b_fit, b_true, atol=1e-2)


def _reader_graph_def(reader_class, files):
    with tf.Graph().as_default() as g:
        queue, _, _ = _queue_of(files)
        queue.enqueue_many([files], name="fill")
        reader_class().read(queue, name="read")
        reader_class().read_up_to(queue, 2, name="read_up_to")
    return g.as_graph_def()


@pytest.mark.parametrize("read", ["read", "read_up_to"])
def test_an_imported_graph_may_read_files_only_when_allowed(tmp_path, read):
    paths = _write_tfrecords(tmp_path)
    gd = _reader_graph_def(tf.TFRecordReader, paths)
    with tf.Graph().as_default():
        tf.import_graph_def(gd, name="imp")
        with tf.Session() as sess:
            sess.run("imp/fill")
            with pytest.raises(tf.errors.PermissionDeniedError, match=f"imp/{read}' would access the files named"):
                sess.run(f"imp/{read}:1")
            assert sess.run(tf.constant(1) + 1) == 2
    with tf.Graph().as_default():
        tf.import_graph_def(gd, name="imp", allow_file_access=True)
        with tf.Session() as sess:
            sess.run("imp/fill")
            assert np.ravel(sess.run(f"imp/{read}:1"))[0] == RECORDS[0][0]


def test_an_imported_identity_reader_needs_no_file_access():
    gd = _reader_graph_def(tf.IdentityReader, ["a", "b"])
    with tf.Graph().as_default():
        tf.import_graph_def(gd, name="imp")
        with tf.Session() as sess:
            sess.run("imp/fill")
            assert sess.run("imp/read:0") == b"a"


def test_reader_module_exports_the_tf_names():
    assert tf.TFRecordReader is reader_ops.TFRecordReader
    for name in ("ReaderBase", "TextLineReader", "FixedLengthRecordReader", "WholeFileReader", "IdentityReader"):
        assert getattr(tf, name) is getattr(reader_ops, name)
