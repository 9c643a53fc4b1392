"""tf.data.experimental: cardinality, get_single_element, sample_from_datasets, TFRecordWriter, the
transformations' argument checks and the CPU-only device transformations (element orders of scan,
group_by_window, bucket_by_sequence_length, unique, choose_from_datasets and Counter are checked against
TensorFlow in test_dataset_tf_fixtures.py)."""

from __future__ import annotations

import numpy as np
import pytest

import tfmini as tf

E = tf.data.experimental


def _elements(dataset) -> list:
    nxt = dataset.make_one_shot_iterator().get_next()
    out = []
    with tf.Session() as sess:
        while True:
            try:
                out.append(sess.run(nxt))
            except tf.errors.OutOfRangeError:
                return out


def test_cardinality_of_known_infinite_and_unknown_datasets():
    ds = tf.data.Dataset.range(10)
    cases = {
        ds: 10, ds.batch(3): 4, ds.batch(3, drop_remainder=True): 3, ds.repeat(): E.INFINITE_CARDINALITY,
        ds.repeat(2).skip(5).take(100): 15, ds.filter(lambda x: tf.equal(x, 1)): E.UNKNOWN_CARDINALITY,
        ds.map(lambda x: x * 2).shuffle(4).prefetch(1).cache(): 10, ds.shard(3, 1): 3, ds.repeat().take(7): 7,
        tf.data.Dataset.zip((ds, ds.repeat())): 10, ds.concatenate(ds.take(2)): 12,
        tf.data.Dataset.from_tensors([1, 2]): 1, tf.data.Dataset.from_tensor_slices(np.zeros((6, 2))): 6,
    }
    tensors = [E.cardinality(d) for d in cases]
    assert tensors[0].dtype == tf.int64 and tensors[0].shape.as_list() == []
    with tf.Session() as sess:
        assert sess.run(tensors) == list(cases.values())


def test_get_single_element_and_its_errors():
    value = E.get_single_element(tf.data.Dataset.from_tensors(({"a": [1, 2]}, "s")))
    with tf.Session() as sess:
        got = sess.run(value)
        assert got[0]["a"].tolist() == [1, 2] and got[1] == b"s"
        with pytest.raises(tf.errors.InvalidArgumentError, match="Dataset was empty"):
            sess.run(E.get_single_element(tf.data.Dataset.range(0)))
        with pytest.raises(tf.errors.InvalidArgumentError, match="more than one element"):
            sess.run(E.get_single_element(tf.data.Dataset.range(2)))
    with pytest.raises(TypeError):
        E.get_single_element([1, 2])


def test_sample_from_datasets_follows_the_weights_and_skips_ended_inputs():
    zeros = tf.data.Dataset.from_tensors(np.int64(0)).repeat()
    ones = tf.data.Dataset.from_tensors(np.int64(1)).repeat()
    got = _elements(E.sample_from_datasets([zeros, ones], [0.25, 0.75], seed=7).take(4000))
    assert abs(np.mean(got) - 0.75) < 0.03
    short = E.sample_from_datasets([tf.data.Dataset.range(3), tf.data.Dataset.range(10, 13)], seed=1)
    assert sorted(int(v) for v in _elements(short)) == [0, 1, 2, 10, 11, 12]


def test_choose_from_datasets_needs_int64_scalar_choices():
    with pytest.raises(TypeError, match="scalar `tf.int64`"):
        E.choose_from_datasets([tf.data.Dataset.range(3)], tf.data.Dataset.range(2).map(lambda x: tf.cast(x, tf.int32)))
    with pytest.raises(TypeError, match="same type structure"):
        E.choose_from_datasets([tf.data.Dataset.range(3), tf.data.Dataset.from_tensors(1.0)], tf.data.Dataset.range(1))


def test_group_by_window_argument_checks():
    with pytest.raises(ValueError):
        E.group_by_window(lambda x: x, lambda k, w: w)
    with pytest.raises(ValueError):
        E.group_by_window(lambda x: x, lambda k, w: w, 2, lambda k: k)
    with pytest.raises(ValueError, match="tf.int64"):
        tf.data.Dataset.range(3).apply(E.group_by_window(lambda x: tf.cast(x, tf.int32), lambda k, w: w, 2))
    with pytest.raises(TypeError, match="Dataset"):
        tf.data.Dataset.range(3).apply(E.group_by_window(lambda x: x, lambda k, w: k, 2))
    with pytest.raises(ValueError, match="len\\(bucket_batch_sizes\\)"):
        E.bucket_by_sequence_length(lambda x: 1, [3, 6], [2, 2])


def test_bucket_by_sequence_length_beyond_the_last_boundary_fails_when_padding_to_it():
    ds = tf.data.Dataset.range(1, 9).map(lambda n: tf.fill([n], n)).apply(
        E.bucket_by_sequence_length(lambda x: tf.shape(x)[0], [3], [2, 2], pad_to_bucket_boundary=True))
    with pytest.raises(tf.errors.InvalidArgumentError, match="pad_to_bucket_boundary"):
        _elements(ds)


def test_scan_and_unique_argument_checks():
    with pytest.raises(TypeError, match="pair"):
        tf.data.Dataset.range(3).apply(E.scan(np.int64(0), lambda s, x: s + x))
    with pytest.raises(TypeError):
        tf.data.Dataset.range(3).apply(E.scan(np.int64(0), lambda s, x: (tf.cast(s, tf.float32), x)))
    with pytest.raises(TypeError, match="unique"):
        tf.data.Dataset.from_tensors(1.5).apply(E.unique())


def test_scan_state_shape_is_relaxed_when_it_grows():
    ds = tf.data.Dataset.range(4).apply(E.scan(tf.zeros([0], tf.int64), lambda s, x: (tf.concat([s, [x]], 0), s)))
    assert ds.output_shapes.as_list() == [None]
    assert [v.tolist() for v in _elements(ds)] == [[], [0], [0, 1], [0, 1, 2]]


def test_tfrecord_writer_writes_a_dataset_that_tfrecord_dataset_reads_back(tmp_path):
    path = str(tmp_path / "out.tfrecord")
    records = tf.data.Dataset.range(5).map(lambda x: tf.as_string(x * x))
    write = E.TFRecordWriter(path, "GZIP").write(records)
    with tf.Session() as sess:
        sess.run(write)
    assert _elements(tf.data.TFRecordDataset(path, "GZIP")) == [b"0", b"1", b"4", b"9", b"16"]
    with pytest.raises(TypeError, match="DT_STRING"):
        E.TFRecordWriter(path).write(tf.data.Dataset.range(3))


def test_device_transformations_keep_the_elements():
    ds = tf.data.Dataset.range(3).apply(E.copy_to_device("/cpu:0")).apply(E.prefetch_to_device("/cpu:0"))
    assert [int(v) for v in _elements(ds)] == [0, 1, 2]


def test_map_and_batch_shuffle_and_repeat_enumerate_dataset():
    mb = tf.data.Dataset.range(5).apply(E.map_and_batch(lambda x: x * 3, 2, drop_remainder=True))
    assert [b.tolist() for b in _elements(mb)] == [[0, 3], [6, 9]]
    sr = _elements(tf.data.Dataset.range(5).apply(E.shuffle_and_repeat(5, 2, seed=3)))
    assert sorted(int(v) for v in sr[:5]) == list(range(5)) and sorted(int(v) for v in sr[5:]) == list(range(5))
    en = _elements(tf.data.Dataset.from_tensor_slices([7, 8]).apply(E.enumerate_dataset(1)))
    assert [(int(i), int(v)) for i, v in en] == [(1, 7), (2, 8)]
    with pytest.raises(ValueError):
        E.map_and_batch(lambda x: x, 2, num_parallel_batches=1, num_parallel_calls=1)


def test_csv_dataset_types_defaults_and_argument_checks(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("x,y\n1,\n,2.5\n")
    ds = E.CsvDataset(str(p), [[0], tf.float32], header=True)
    assert ds.output_types == (tf.int32, tf.float32)
    assert ds.output_shapes[0].as_list() == []
    with pytest.raises(tf.errors.InvalidArgumentError, match="Field 1 is required"):
        _elements(ds)
    assert [(int(a), float(b)) for a, b in _elements(E.CsvDataset(str(p), [[0], [1.0]], header=True))] == [
        (1, 1.0), (0, 2.5)]
    with pytest.raises(ValueError, match="select_cols"):
        E.CsvDataset(str(p), [[0]], select_cols=[0, 1])
    with pytest.raises(ValueError):
        E.CsvDataset(str(p), [[0, 1]])
    with pytest.raises(TypeError):
        E.CsvDataset(str(p), [[True]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Expect 3 fields but have 2"):
        _elements(E.CsvDataset(str(p), [[0], [0], [0]], header=True))


def _csv_outcomes(path, defaults, **kwargs) -> list:
    """Each record's element (plain Python values) or ("ERR", message), then "END"."""
    with tf.Graph().as_default():
        nxt = tf.data.make_one_shot_iterator(E.CsvDataset(str(path), defaults, **kwargs)).get_next()
        out = []
        with tf.Session() as sess:
            while True:
                try:
                    out.append(tuple(v if isinstance(v, bytes) else v.item() for v in sess.run(nxt)))
                except tf.errors.OutOfRangeError:
                    return out + ["END"]
                except tf.errors.InvalidArgumentError as e:
                    out.append(("ERR", e.message.split("\n")[0]))


_Q = "Unquoted fields cannot have quotes inside"
_EXPECT2 = "Expect 2 fields but have 1 in record"
# Records and what TensorFlow's CSVDataset gave for them (error messages as TF words them).
_CSV_RECORDED = [
    (b"1_0,2_5\n3,4\n", [[0], [0.0]], {}, [("ERR", "Field 0 in record is not a valid int32: 1_0"), (3, 4.0)]),
    ("\u0661\u0662,1\n5,6\n".encode(), [[0], [0.0]], {},
     [("ERR", "Field 0 in record is not a valid int32: \u0661\u0662"), (5, 6.0)]),
    (b"caf\xe9,1\nok,2\n", [[""], [0]], {}, [(b"caf\xe9", 1), (b"ok", 2)]),
    (b"x" * 200000 + b",1\n", [[""], [0]], {}, [(b"x" * 200000, 1)]),
    (b'a"b,1\n"c"d,2\n', [[""], [0]], {},
     [("ERR", _Q), ("ERR", "Reached end of file without closing quoted field in record")]),
    (b'a"b,1\n"c""d",2\n"e\nf",3\n', [[""], [0]], {}, [("ERR", _Q), (b'c"d', 2), (b"e\nf", 3)]),
    (b"a,1\r\nb,2\rc,3\n\nd,4", [[""], [0]], {}, [(b"a", 1), (b"b", 2), (b"c", 3), ("ERR", _EXPECT2), (b"d", 4)]),
    (b"a,1\n\nb,2\n", [["z"], [7]], {}, [(b"a", 1), ("ERR", _EXPECT2), (b"b", 2)]),
    (b"a,1,", [[""], [0]], {}, [("ERR", "Expect 2 fields but have more in record")]),
    (b'a,1\n"b,2\n', [[""], [0]], {},
     [(b"a", 1), ("ERR", "Reached end of file without closing quoted field in record")]),
    (b'a"b,1\n"c"d,2\n', [[""], [0]], {"use_quote_delim": False}, [(b'a"b', 1), (b'"c"d', 2)]),
    (b"0x10,1\n", [[0.0], [0]], {}, [(16.0, 1)]),
    (b" 5 ,\t1.5\n", [[0], [0.0]], {}, [(5, 1.5)]),
    (b"NA,1\n", [[9], [0]], {"na_value": "NA"}, [(9, 1)]),
    (b"a,1,x\nb,2\n", [[""], [0]], {"select_cols": [0, 1]}, [(b"a", 1), (b"b", 2)]),
    (b"a\nb,2\n", [[""], [0]], {"select_cols": [0, 1]}, [("ERR", _EXPECT2), (b"b", 2)]),
    (b"a,1,2\nb,2\n", [[""], [0]], {}, [("ERR", "Expect 2 fields but have more in record"), (b"b", 2)]),
    (b"", [[""], [0]], {"header": True}, [("ERR", "Can't read header of file")]),
    (b'"x\n', [[""], [0]], {"header": True}, [("ERR", "Can't read header of file")]),
    (b"h1,h2\r\nb,2\n", [[""], [0]], {"header": True}, [(b"b", 2)]),
    (b"a;1\n", [[""], [0]], {"field_delim": ";"}, [(b"a", 1)]),
    (b'"12","3.5"\n', [[0], [0.0]], {}, [(12, 3.5)]),
    (b'x,"a"b\n', [[0], [""]], {}, [("ERR", "Field 0 in record is not a valid int32: x")]),
    (b"2147483648,1\n", [[0], [0]], {}, [("ERR", "Field 0 in record is not a valid int32: 2147483648")]),
    (b"1.0000000596046447753906250001,1\n", [[0.0], [0]], {}, [(1.0000001192092896, 1)]),
    (b'"a"', [[""]], {}, [(b"a",)]),
    (b"a\r", [[""]], {}, [(b"a",)]),
]


@pytest.mark.parametrize("data, defaults, kwargs, want", _CSV_RECORDED)
def test_csv_dataset_parses_bytes_by_tensorflows_rules(tmp_path, data, defaults, kwargs, want):
    p = tmp_path / "a.csv"
    p.write_bytes(data)
    assert _csv_outcomes(p, defaults, **kwargs) == want + ["END"]


def test_csv_dataset_records_split_across_read_buffers_parse_the_same(tmp_path):
    rng = np.random.RandomState(0)
    pieces = [b"a", b"bc", b'"q,\r\n""x"', b"", b"7"]
    lines = []
    for _ in range(60):
        row = [pieces[k] for k in rng.randint(0, len(pieces), size=3)]
        lines.append(b",".join(row) + [b"\n", b"\r\n", b"\r"][rng.randint(0, 3)])
    p = tmp_path / "r.csv"
    p.write_bytes(b"".join(lines))
    whole = _csv_outcomes(p, [[""], [""], [""]])
    assert len(whole) == 61 and all(isinstance(r, tuple) and len(r) == 3 for r in whole[:-1])
    for size in (1, 2, 3, 7, 64):
        assert _csv_outcomes(p, [[""], [""], [""]], buffer_size=size) == whole


def test_make_csv_dataset_infers_names_and_types_and_splits_the_label(tmp_path):
    (tmp_path / "a.csv").write_text("age,name,score,survived\n22,ann,1.5,0\n38,bob,2,1\n,cid,,1\n")
    (tmp_path / "b.csv").write_text("age,name,score,survived\n54,dee,0.25,0\n")
    ds = E.make_csv_dataset(str(tmp_path / "*.csv"), batch_size=2, label_name="survived", num_epochs=1,
                            shuffle=False)
    features, label = ds.output_types
    assert list(features) == ["age", "name", "score"]
    assert features == {"age": tf.int32, "name": tf.string, "score": tf.float32} and label == tf.int32
    assert ds.output_shapes[0]["age"].as_list() == [None]
    got = _elements(ds)
    assert [b[0]["age"].tolist() for b in got] == [[22, 38], [0, 54]]
    assert [b[0]["name"].tolist() for b in got] == [[b"ann", b"bob"], [b"cid", b"dee"]]
    np.testing.assert_allclose(np.concatenate([b[0]["score"] for b in got]), [1.5, 2.0, 0.0, 0.25])
    assert np.concatenate([b[1] for b in got]).tolist() == [0, 1, 1, 0]


def test_make_csv_dataset_select_columns_defaults_and_endless_epochs(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("x,y,z\n1,2,3\n4,5,6\n7,8,9\n")
    ds = E.make_csv_dataset(str(p), 2, select_columns=["z", "x"], column_defaults=[[0.0], [0.0]], shuffle=True,
                            shuffle_seed=2)
    assert ds.output_types == {"x": tf.float32, "z": tf.float32}
    assert ds.output_shapes["x"].as_list() == [2]  # num_epochs=None repeats forever and drops the remainder
    nxt = ds.make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        xs = np.concatenate([sess.run(nxt)["x"] for _ in range(6)])
    assert sorted(xs.tolist()) == [1.0] * 4 + [4.0] * 4 + [7.0] * 4
    with pytest.raises(ValueError, match="No files match"):
        E.make_csv_dataset(str(tmp_path / "*.none"), 2)
    with pytest.raises(ValueError, match="label_name"):
        E.make_csv_dataset(str(p), 2, label_name="w")
    with pytest.raises(ValueError, match="without a header"):
        E.make_csv_dataset(str(p), 2, header=False)


def test_options_are_validated_merged_along_the_pipeline_and_leave_elements_alone():
    opts = tf.data.Options()
    opts.experimental_deterministic = False
    opts.experimental_optimization.map_fusion = True
    ds = tf.data.Dataset.range(3).with_options(opts).map(lambda x: x + 1)
    more = tf.data.Options()
    more.experimental_threading.private_threadpool_size = 2
    ds = ds.with_options(more)
    got = ds.options()
    assert got.experimental_deterministic is False
    assert got.experimental_optimization.map_fusion is True
    assert got.experimental_threading.private_threadpool_size == 2
    assert tf.data.Dataset.range(3).options() == tf.data.Options()
    assert [int(v) for v in _elements(ds)] == [1, 2, 3]
    conflicting = tf.data.Options()
    conflicting.experimental_deterministic = True
    with pytest.raises(ValueError, match="incompatible values"):
        ds.with_options(conflicting)
    with pytest.raises(AttributeError):
        opts.no_such_option = True
    with pytest.raises(TypeError):
        opts.experimental_slack = "yes"
    assert isinstance(tf.data.experimental.OptimizationOptions(), tf.data.experimental.OptimizationOptions)


def test_make_batched_features_dataset_and_parse_example_dataset_checks(tmp_path):
    path = str(tmp_path / "ex.tfrecord")
    with tf.io.TFRecordWriter(path) as writer:
        for i in range(5):
            feature = {"x": tf.train.Feature(int64_list=tf.train.Int64List(value=[i]))}
            writer.write(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())
    features = {"x": tf.FixedLenFeature([], tf.int64)}
    ds = E.make_batched_features_dataset(str(tmp_path / "*.tfrecord"), 2, features, shuffle_seed=5)
    assert ds.output_shapes["x"].as_list() == [2]  # endless epochs: the last partial batch is dropped
    nxt = ds.make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        xs = np.concatenate([sess.run(nxt)["x"] for _ in range(5)])
    assert sorted(xs.tolist()) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    with pytest.raises(ValueError, match="No files match"):
        E.make_batched_features_dataset(str(tmp_path / "*.none"), 2, features)
    with pytest.raises(ValueError, match="label_key"):
        E.make_batched_features_dataset(path, 2, features, label_key="y")
    with pytest.raises(TypeError, match="vectors of strings"):
        tf.data.Dataset.range(3).apply(E.parse_example_dataset(features))
