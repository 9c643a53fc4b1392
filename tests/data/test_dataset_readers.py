"""tf.data's file datasets against files written in the test: TFRecordDataset (files from tf.io's
TFRecordWriter, uncompressed, ZLIB and GZIP), TextLineDataset and FixedLengthRecordDataset; several files,
file names from a placeholder or a Dataset, interleaved reads, and TF's errors for missing or damaged
files."""

from __future__ import annotations

import gzip
import os
import zlib

import numpy as np
import pytest

import tfmini as tf


def _elements(dataset, feed=None) -> list:
    it = dataset.make_initializable_iterator()
    nxt = it.get_next()
    out = []
    with tf.Session() as sess:
        sess.run(it.initializer, feed)
        while True:
            try:
                out.append(sess.run(nxt))
            except tf.errors.OutOfRangeError:
                return out


def _write_records(path, records, compression=None):
    options = tf.io.TFRecordOptions(compression) if compression else None
    with tf.io.TFRecordWriter(str(path), options) as writer:
        for r in records:
            writer.write(r)
    return str(path)


# ----------------------------------------------------------------------------------------------------------
# TFRecordDataset
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("compression", [None, "ZLIB", "GZIP"])
def test_tfrecord_dataset_reads_what_the_writer_wrote(tmp_path, compression):
    records = [b"first", b"", bytes(range(256)) * 40, b"last"]
    path = _write_records(tmp_path / "a.tfrecord", records, compression)
    ds = tf.data.TFRecordDataset(path, compression_type=compression)
    assert ds.output_types == tf.string and ds.output_shapes.as_list() == []
    assert _elements(ds) == records


def test_tfrecord_dataset_reads_several_files_in_order_and_interleaved(tmp_path):
    a = _write_records(tmp_path / "a", [b"a0", b"a1", b"a2"])
    b = _write_records(tmp_path / "b", [b"b0", b"b1"])
    assert _elements(tf.data.TFRecordDataset([a, b])) == [b"a0", b"a1", b"a2", b"b0", b"b1"]
    assert _elements(tf.data.TFRecordDataset([a, b], num_parallel_reads=2)) == [b"a0", b"b0", b"a1", b"b1", b"a2"]
    names = tf.data.Dataset.from_tensor_slices([b, a])
    assert _elements(tf.data.TFRecordDataset(names)) == [b"b0", b"b1", b"a0", b"a1", b"a2"]


def test_tfrecord_file_names_from_a_placeholder(tmp_path):
    a = _write_records(tmp_path / "a", [b"x"])
    b = _write_records(tmp_path / "b", [b"yy", b"zzz"])
    files = tf.placeholder(tf.string, [None])
    ds = tf.data.TFRecordDataset(files).map(tf.strings.length)
    assert _elements(ds, {files: [b]}) == [2, 3]
    assert _elements(ds, {files: [b, a]}) == [2, 3, 1]


def test_tfrecord_dataset_missing_file_is_not_found_and_the_session_goes_on(tmp_path):
    ds = tf.data.TFRecordDataset(str(tmp_path / "missing.tfrecord"))
    it = ds.make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        sess.run(it.initializer)
        with pytest.raises(tf.errors.NotFoundError, match="missing.tfrecord"):
            sess.run(nxt)
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(nxt)


def test_tfrecord_dataset_damaged_record_is_data_loss(tmp_path):
    path = _write_records(tmp_path / "a", [b"hello", b"world"])
    data = bytearray(open(path, "rb").read())
    data[14] ^= 0xFF  # inside the first record's data
    open(path, "wb").write(bytes(data))
    with pytest.raises(tf.errors.DataLossError):
        _elements(tf.data.TFRecordDataset(path))


def test_tfrecord_dataset_refuses_an_unknown_compression(tmp_path):
    path = _write_records(tmp_path / "a", [b"x"])
    with pytest.raises(tf.errors.InvalidArgumentError, match="compression"):
        _elements(tf.data.TFRecordDataset(path, compression_type="LZ4"))


def test_tfrecord_pipeline_of_examples_with_parse_shuffle_batch(tmp_path):
    path = str(tmp_path / "examples.tfrecord")
    with tf.io.TFRecordWriter(path) as writer:
        for i in range(10):
            ex = tf.train.Example(features=tf.train.Features(feature={
                "x": tf.train.Feature(float_list=tf.train.FloatList(value=[i, i * 0.5])),
                "y": tf.train.Feature(int64_list=tf.train.Int64List(value=[i % 3]))}))
            writer.write(ex.SerializeToString())
    features = {"x": tf.FixedLenFeature([2], tf.float32), "y": tf.FixedLenFeature([], tf.int64)}
    ds = tf.data.TFRecordDataset(path).map(lambda r: tf.parse_single_example(r, features))
    assert ds.output_shapes["x"].as_list() == [2]
    got = _elements(ds.shuffle(10, seed=4).batch(4))
    assert [len(b["y"]) for b in got] == [4, 4, 2]
    xs = np.concatenate([b["x"] for b in got])
    assert sorted(xs[:, 0].tolist()) == list(range(10))
    np.testing.assert_array_equal(np.concatenate([b["y"] for b in got]), xs[:, 0].astype(np.int64) % 3)


# ----------------------------------------------------------------------------------------------------------
# TextLineDataset
# ----------------------------------------------------------------------------------------------------------
def test_text_line_dataset_strips_line_ends(tmp_path):
    p = tmp_path / "a.txt"
    p.write_bytes(b"one\ntwo\r\n\nlast without newline")
    q = tmp_path / "b.txt"
    q.write_bytes(b"b1\nb2\n")
    ds = tf.data.TextLineDataset([str(p), str(q)])
    assert _elements(ds) == [b"one", b"two", b"", b"last without newline", b"b1", b"b2"]
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert _elements(tf.data.TextLineDataset(str(empty))) == []


def test_text_line_dataset_a_file_name_that_is_not_utf8_opens_its_file(tmp_path):
    name = os.path.join(os.fsencode(tmp_path), b"caf\xe9.txt")
    with open(name, "wb") as f:
        f.write(b"line1\n")
    assert _elements(tf.data.TextLineDataset(tf.constant([name]))) == [b"line1"]


@pytest.mark.parametrize("compression", [None, "GZIP"])
def test_text_line_dataset_drops_every_carriage_return_as_tensorflow(tmp_path, compression):
    data = b"a\r\nb\rc\n\n\r\nmid\r\rdle\r\nlast\r"
    p = tmp_path / "cr.txt"
    p.write_bytes(gzip.compress(data) if compression else data)
    got = _elements(tf.data.TextLineDataset(str(p), compression_type=compression or ""))
    assert got == [b"a", b"bc", b"", b"", b"middle", b"last"]  # recorded from TensorFlow for the plain file


@pytest.mark.parametrize("compression", ["GZIP", "ZLIB"])
def test_text_line_dataset_reads_compressed_files(tmp_path, compression):
    text = b"".join(b"line %d\n" % i for i in range(5000))
    p = tmp_path / "a.txt.z"
    p.write_bytes(gzip.compress(text) if compression == "GZIP" else zlib.compress(text))
    got = _elements(tf.data.TextLineDataset(str(p), compression_type=compression, buffer_size=1024))
    assert got == [b"line %d" % i for i in range(5000)]


def test_text_line_dataset_reads_only_what_is_asked_for(tmp_path):
    p = tmp_path / "big.txt"
    p.write_bytes(b"".join(b"%d\n" % i for i in range(200_000)))
    got = _elements(tf.data.TextLineDataset(str(p)).skip(5).take(2).map(tf.string_to_number))
    assert got == [5.0, 6.0]


# ----------------------------------------------------------------------------------------------------------
# FixedLengthRecordDataset
# ----------------------------------------------------------------------------------------------------------
def test_fixed_length_records_between_header_and_footer(tmp_path):
    p = tmp_path / "a.bin"
    p.write_bytes(b"HDR" + b"aaaa" + b"bbbb" + b"cccc" + b"FT")
    ds = tf.data.FixedLengthRecordDataset(str(p), record_bytes=4, header_bytes=3, footer_bytes=2)
    assert _elements(ds) == [b"aaaa", b"bbbb", b"cccc"]


@pytest.mark.parametrize("compression", ["GZIP", "ZLIB"])
def test_fixed_length_records_of_compressed_files(tmp_path, compression):
    body = b"H" + np.arange(300, dtype=np.int32).tobytes() + b"FOOT"
    p = tmp_path / "a.bin"
    p.write_bytes(gzip.compress(body) if compression == "GZIP" else zlib.compress(body))
    ds = tf.data.FixedLengthRecordDataset(str(p), 12, header_bytes=1, footer_bytes=4, compression_type=compression)
    got = _elements(ds)
    assert len(got) == 100
    assert np.frombuffer(got[7], np.int32).tolist() == [21, 22, 23]


def test_fixed_length_records_that_do_not_divide_the_body_are_tensorflows_errors(tmp_path):
    # As TensorFlow: a plain file's size is checked before reading (InvalidArgumentError), a compressed
    # stream's only at its end, after the whole records (DataLossError); both name the body length.
    p = tmp_path / "a.bin"
    p.write_bytes(b"0123456789a")
    with pytest.raises(tf.errors.InvalidArgumentError, match="has body length 11 bytes, which is not an exact"):
        _elements(tf.data.FixedLengthRecordDataset(str(p), record_bytes=4))
    with pytest.raises(tf.errors.InvalidArgumentError, match="has body length -1 bytes"):
        _elements(tf.data.FixedLengthRecordDataset(str(p), record_bytes=4, header_bytes=10, footer_bytes=2))
    z = tmp_path / "a.gz"
    z.write_bytes(gzip.compress(b"0123456789a"))
    ds = tf.data.FixedLengthRecordDataset(str(z), record_bytes=4, compression_type="GZIP")
    it = tf.data.make_one_shot_iterator(ds)
    nxt = it.get_next()
    with tf.Session() as sess:
        assert [sess.run(nxt), sess.run(nxt)] == [b"0123", b"4567"]
        with pytest.raises(tf.errors.DataLossError, match="has body length 11 bytes, which is not an exact"):
            sess.run(nxt)
    with pytest.raises(tf.errors.InvalidArgumentError, match="record_bytes"):
        _elements(tf.data.FixedLengthRecordDataset(str(p), record_bytes=0))


def test_file_datasets_refuse_a_filenames_dataset_of_numbers():
    with pytest.raises(TypeError, match="tf.string"):
        tf.data.TextLineDataset(tf.data.Dataset.range(3))
