"""Records what TensorFlow's tf.data yields for a set of pipelines, and TFRecord files TensorFlow writes, for
tests/data/test_dataset_tf_fixtures.py. Run with the TensorFlow environment:

    /work/tfenv/bin/python tools/tf_fixtures/gen_data.py

Writes tests/fixtures/tf/data/: cases.json (each case: a pipeline expression over `tf` and `files`, and the
elements TF yielded, or the error class it raised) and the input files the file cases read."""

from __future__ import annotations

import gzip
import json
import os
import zlib
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "tf" / "data"

# Pipelines as expressions over `tf` (TensorFlow here, tfmini in the test) and `files` (name -> path).
CASES = {
    "interleave_c2_b2": "tf.data.Dataset.range(1, 6).interleave("
                        "lambda x: tf.data.Dataset.from_tensors(x).repeat(x), 2, 2)",
    "interleave_c3_b1": "tf.data.Dataset.range(1, 6).interleave("
                        "lambda x: tf.data.Dataset.from_tensors(x).repeat(x), 3, 1)",
    "interleave_c4_b3": "tf.data.Dataset.range(1, 8).interleave("
                        "lambda x: tf.data.Dataset.range(x * 10, x * 10 + x), 4, 3)",
    "window_3": "tf.data.Dataset.range(7).window(3).flat_map(lambda w: w.batch(10))",
    "window_3_shift2": "tf.data.Dataset.range(7).window(3, shift=2).flat_map(lambda w: w.batch(10))",
    "window_3_shift1_stride2": "tf.data.Dataset.range(7).window(3, 1, 2).flat_map(lambda w: w.batch(10))",
    "window_2_shift4": "tf.data.Dataset.range(10).window(2, 4).flat_map(lambda w: w.batch(10))",
    "window_3_shift5": "tf.data.Dataset.range(7).window(3, 5).flat_map(lambda w: w.batch(10))",
    "window_4_drop": "tf.data.Dataset.range(10).window(4, 3, drop_remainder=True).flat_map(lambda w: w.batch(10))",
    "padded_batch_none": "tf.data.Dataset.range(1, 6).map(lambda n: tf.fill([n], n)).padded_batch(2, [None])",
    "padded_batch_fixed": "tf.data.Dataset.range(1, 5).map(lambda n: tf.fill([n, 2], n))"
                          ".padded_batch(3, [6, None], padding_values=tf.constant(-1, tf.int64))",
    "padded_batch_tuple": "tf.data.Dataset.range(1, 5).map(lambda n: (tf.range(n), tf.fill([2], n)))"
                          ".padded_batch(2, ([None], [3]), drop_remainder=True)",
    "padded_batch_too_small": "tf.data.Dataset.range(1, 5).map(lambda n: tf.fill([n], n)).padded_batch(2, [2])",
    "unbatch": "tf.data.Dataset.range(1, 5).map(lambda n: tf.range(n)).unbatch()",
    "batch_drop": "tf.data.Dataset.range(10).batch(3, drop_remainder=True)",
    "shard": "tf.data.Dataset.range(11).shard(4, 2)",
    "repeat_skip_take": "tf.data.Dataset.range(4).repeat(3).skip(2).take(7)",
    "concatenate_zip": "tf.data.Dataset.zip((tf.data.Dataset.range(3).concatenate(tf.data.Dataset.range(7, 9)),"
                       " tf.data.Dataset.range(100, 200)))",
    "filter_flat_map": "tf.data.Dataset.range(8).filter(lambda x: tf.equal(x % 2, 1))"
                       ".flat_map(lambda x: tf.data.Dataset.range(x).batch(2))",
    "batch_mismatch": "tf.data.Dataset.range(1, 4).map(lambda n: tf.range(n)).batch(2)",
    "group_by_window": "tf.data.Dataset.range(10).apply(tf.data.experimental.group_by_window("
                       "lambda x: x % 3, lambda k, w: w.batch(2), window_size=2))",
    "group_by_window_size_func": "tf.data.Dataset.range(12).apply(tf.data.experimental.group_by_window("
                                 "lambda x: x % 2, lambda k, w: w.batch(5).map(lambda b: tf.reduce_sum(b) + 100 * k),"
                                 " window_size_func=lambda k: k + 2))",
    "bucket_by_sequence_length": "tf.data.Dataset.range(1, 9).map(lambda n: tf.fill([n], n)).apply("
                                 "tf.data.experimental.bucket_by_sequence_length(lambda x: tf.shape(x)[0], [3, 6],"
                                 " [2, 2, 2]))",
    "bucket_pad_to_boundary": "tf.data.Dataset.range(1, 9).map(lambda n: (tf.fill([n], n), n)).apply("
                              "tf.data.experimental.bucket_by_sequence_length(lambda x, n: tf.shape(x)[0],"
                              " [3, 6, 10], [2, 2, 3, 2], pad_to_bucket_boundary=True))",
    "bucket_drop_remainder": "tf.data.Dataset.range(1, 12).map(lambda n: tf.fill([n], n)).apply("
                             "tf.data.experimental.bucket_by_sequence_length(lambda x: tf.shape(x)[0], [5],"
                             " [3, 2], drop_remainder=True))",
    "scan": "tf.data.Dataset.range(6).apply(tf.data.experimental.scan(tf.constant(0, tf.int64),"
            " lambda s, x: (s + x, (s, x * 2))))",
    "unique": "tf.data.Dataset.from_tensor_slices(['b', 'a', 'b', 'c', 'a']).apply(tf.data.experimental.unique())",
    "choose_from_datasets": "tf.data.experimental.choose_from_datasets([tf.data.Dataset.range(10, 12), "
                            "tf.data.Dataset.range(3)], tf.data.Dataset.from_tensor_slices("
                            "tf.constant([0, 1, 1, 0, 0, 1, 1, 0], tf.int64)))",
    "counter": "tf.data.experimental.Counter(5, -2).take(4)",
    "csv_defaults_quotes": "tf.data.experimental.CsvDataset(files['data.csv'], [tf.int32, [0.5], ['none'], "
                           "tf.constant([7], tf.int64)], header=True)",
    "csv_select_na": "tf.data.experimental.CsvDataset(files['data.csv'], [[-1], ['?']], header=True, "
                     "select_cols=[0, 2], na_value='NA')",
    "csv_semicolon_gzip": "tf.data.experimental.CsvDataset(files['semi.csv.gz'], [tf.float64, tf.string], "
                          "compression_type='GZIP', field_delim=';')",
    "csv_required_missing": "tf.data.experimental.CsvDataset(files['missing.csv'], [tf.int32, tf.int32])",
    "csv_bad_number": "tf.data.experimental.CsvDataset(files['bad.csv'], [tf.int32])",
    "sparse_batch": "tf.data.Dataset.range(1, 5).map(lambda n: tf.SparseTensor(tf.stack([[0, n - 1]]), "
                    "tf.reshape(n * 10, [1]), tf.stack([tf.constant(2, tf.int64), n]))).batch(3)",
    "sparse_slices": "tf.data.Dataset.from_tensor_slices((tf.SparseTensor([[0, 1], [2, 0], [2, 3]], [1.0, 2.0, 3.0],"
                     " [3, 4]), tf.constant([7, 8, 9])))",
    "sparse_batch_unbatch": "tf.data.Dataset.from_tensor_slices(tf.SparseTensor([[0, 1], [2, 0], [2, 3]], "
                            "['a', 'b', 'c'], [3, 5])).batch(2).unbatch()",
    "sparse_varlen_examples": "tf.data.TFRecordDataset(files['examples.tfrecord']).map(lambda r: "
                              "tf.parse_single_example(r, {'v': tf.VarLenFeature(tf.int64), "
                              "'x': tf.FixedLenFeature([], tf.float32)})).batch(2)",
    "dense_to_sparse_batch": "tf.data.Dataset.range(1, 6).map(lambda n: tf.fill([n], n)).apply("
                             "tf.data.experimental.dense_to_sparse_batch(2, [6]))",
    "dense_to_sparse_batch_unknown": "tf.data.Dataset.range(1, 6).map(lambda n: tf.fill([n, 2], n)).apply("
                                     "tf.data.experimental.dense_to_sparse_batch(3, [None, 2]))",
    "dense_to_sparse_batch_too_big": "tf.data.Dataset.range(1, 6).map(lambda n: tf.fill([n], n)).apply("
                                     "tf.data.experimental.dense_to_sparse_batch(2, [3]))",
    "make_csv_dataset": "tf.data.experimental.make_csv_dataset(files['people.csv'], 2, label_name='survived', "
                        "num_epochs=1, shuffle=False)",
    "make_csv_dataset_select": "tf.data.experimental.make_csv_dataset(files['people.csv'], 3, num_epochs=2, "
                               "shuffle=False, select_columns=['score', 'age'])",
    "shuffle_seed1": "tf.data.Dataset.range(10).shuffle(10, seed=1)",
    "shuffle_small_buffer": "tf.data.Dataset.range(40).shuffle(7, seed=3)",
    "shuffle_big_buffer": "tf.data.Dataset.range(300).shuffle(1000, seed=123456789)",
    "shuffle_repeat_reshuffle": "tf.data.Dataset.range(8).shuffle(8, seed=2).repeat(3)",
    "shuffle_repeat_fixed": "tf.data.Dataset.range(8).shuffle(8, seed=2, reshuffle_each_iteration=False).repeat(3)",
    "shuffle_batch_tuple": "tf.data.Dataset.from_tensor_slices((tf.range(12), tf.range(12) * 2)).shuffle(5, seed=9)"
                           ".batch(4)",
    "shuffle_and_repeat": "tf.data.Dataset.range(6).apply(tf.data.experimental.shuffle_and_repeat(6, 2, seed=4))",
    "shuffle_graph_and_op_seed": "tf.set_random_seed(7) or tf.data.Dataset.range(10).shuffle(4, seed=11)",
    "generator_padded": "tf.data.Dataset.from_generator(lambda: iter([[1, 2], [3], [4, 5, 6]]), tf.int64, "
                        "tf.TensorShape([None])).padded_batch(2, [None])",
    "generator_dict": "tf.data.Dataset.from_generator(lambda: iter([{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'y'}]), "
                      "{'a': tf.int32, 'b': tf.string})",
    "generator_bad_type": "tf.data.Dataset.from_generator(lambda: iter([1, 'x']), tf.int64)",
    "generator_bad_shape": "tf.data.Dataset.from_generator(lambda: iter([[1, 2], [1, 2, 3]]), tf.int64, "
                           "tf.TensorShape([2]))",
    "zip_dicts_filter": "tf.data.Dataset.zip({'i': tf.data.Dataset.range(6), 'f': tf.data.Dataset.range(6).map("
                        "lambda x: tf.cast(x, tf.float32) / 2)}).filter(lambda d: d['f'] > 1.0)",
    "map_error_then_continue": "tf.data.Dataset.from_tensor_slices([1.0, -1.0, 4.0]).map("
                               "lambda x: tf.debugging.check_numerics(tf.sqrt(x), 'bad'))",
    "make_batched_features_dataset": "tf.data.experimental.make_batched_features_dataset(files['examples.tfrecord'], 2,"
                                     " {'v': tf.VarLenFeature(tf.int64), 'x': tf.FixedLenFeature([], tf.float32)}, "
                                     "label_key='x', num_epochs=1, shuffle=False)",
    "parse_example_dataset": "tf.data.TFRecordDataset(files['examples.tfrecord']).batch(3).apply("
                             "tf.data.experimental.parse_example_dataset({'x': tf.FixedLenFeature([], tf.float32)}))",
    "random_dataset": "tf.data.experimental.RandomDataset(seed=5).take(6)",
    "random_dataset_graph_and_op_seed": "tf.set_random_seed(3) or tf.data.experimental.RandomDataset(seed=9).take(6)",
    "sample_from_datasets": "tf.data.experimental.sample_from_datasets([tf.data.Dataset.range(0, 100), "
                            "tf.data.Dataset.range(100, 200), tf.data.Dataset.range(200, 300)], [0.5, 0.2, 0.3], "
                            "seed=7).take(40)",
    "sample_from_datasets_uniform": "tf.data.experimental.sample_from_datasets([tf.data.Dataset.range(3), "
                                    "tf.data.Dataset.range(10, 13)], seed=12)",
    "tfrecord_none": "tf.data.TFRecordDataset(files['records.tfrecord'])",
    "tfrecord_gzip": "tf.data.TFRecordDataset(files['records.tfrecord.gz'], compression_type='GZIP')",
    "tfrecord_zlib": "tf.data.TFRecordDataset(files['records.tfrecord.zlib'], compression_type='ZLIB')",
    "tfrecord_two_files_parallel": "tf.data.TFRecordDataset([files['records.tfrecord'], "
                                   "files['records.tfrecord.gz']], compression_type='', num_parallel_reads=2)"
                                   ".take(3)",
    "text_lines": "tf.data.TextLineDataset([files['lines.txt'], files['lines_crlf.txt']])",
    "text_lines_gzip": "tf.data.TextLineDataset(files['lines.txt.gz'], compression_type='GZIP')",
    "fixed_length": "tf.data.FixedLengthRecordDataset(files['fixed.bin'], 5, header_bytes=3, footer_bytes=2)",
    "fixed_length_zlib": "tf.data.FixedLengthRecordDataset(files['fixed.bin.zlib'], 5, header_bytes=3, "
                         "footer_bytes=2, compression_type='ZLIB')",
}


def _jsonable(value):
    if isinstance(value, tf.SparseTensorValue):
        return {"sparse": [_jsonable(v) for v in value]}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    arr = np.asarray(value)
    if arr.dtype.kind in "SO":
        return {"bytes_hex": [bytes(x).hex() for x in arr.reshape(-1)], "shape": list(arr.shape)}
    return {"values": arr.tolist(), "dtype": arr.dtype.name, "shape": list(arr.shape)}


def _write_files() -> dict:
    records = [b"alpha", b"", bytes(range(256)), b"omega" * 100]
    files = {}
    for name, compression in (("records.tfrecord", ""), ("records.tfrecord.gz", "GZIP"),
                              ("records.tfrecord.zlib", "ZLIB")):
        path = str(OUT / name)
        with tf.io.TFRecordWriter(path, tf.io.TFRecordOptions(compression)) as writer:
            for r in records:
                writer.write(r)
        files[name] = path
    with tf.io.TFRecordWriter(str(OUT / "examples.tfrecord")) as writer:
        for i in range(5):
            feature = {"v": tf.train.Feature(int64_list=tf.train.Int64List(value=list(range(i)))),
                       "x": tf.train.Feature(float_list=tf.train.FloatList(value=[i / 2]))}
            writer.write(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())
    files["examples.tfrecord"] = str(OUT / "examples.tfrecord")
    text = b"first\nsecond\n\nfourth without newline"
    (OUT / "lines.txt").write_bytes(text)
    (OUT / "lines_crlf.txt").write_bytes(b"a\r\nb\r\n")
    (OUT / "lines.txt.gz").write_bytes(gzip.compress(text, mtime=0))
    fixed = b"HDR" + b"".join(bytes([65 + i]) * 5 for i in range(4)) + b"FT"
    (OUT / "fixed.bin").write_bytes(fixed)
    (OUT / "fixed.bin.zlib").write_bytes(zlib.compress(fixed))
    (OUT / "data.csv").write_bytes(b'a,b,c,d\n1,2.5,"quoted, with comma",9\n2,,NA,\n3,-1e3,"say ""hi""",4\n')
    (OUT / "people.csv").write_bytes(b"age,name,score,survived\n22,ann,1.5,0\n38,bob,2,1\n,cid,,1\n54,dee,1e20,0\n")
    (OUT / "semi.csv.gz").write_bytes(gzip.compress(b"1.5;x\n-2;y z\n", mtime=0))
    (OUT / "missing.csv").write_bytes(b"1,2\n3,\n5,6\n")
    (OUT / "bad.csv").write_bytes(b"1\nabc\n3\n")
    for name in ("lines.txt", "lines_crlf.txt", "lines.txt.gz", "fixed.bin", "fixed.bin.zlib", "data.csv",
                 "semi.csv.gz", "missing.csv", "bad.csv", "people.csv"):
        files[name] = str(OUT / name)
    return files


def _run(expression: str, files: dict) -> dict:
    with tf.Graph().as_default():
        dataset = eval(expression, {"tf": tf, "files": files})  # noqa: S307 - our own case expressions
        nxt = tf.data.make_one_shot_iterator(dataset).get_next()
        elements = []
        with tf.Session() as sess:
            while True:
                try:
                    elements.append(_jsonable(sess.run(nxt)))
                except tf.errors.OutOfRangeError:
                    return {"elements": elements}
                except tf.errors.OpError as e:
                    return {"elements": elements, "error": type(e).__name__}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    files = _write_files()
    cases = {name: {"expression": expr, **_run(expr, files)} for name, expr in CASES.items()}
    lines = [f"{json.dumps(name)}: {json.dumps(cases[name], sort_keys=True)}" for name in sorted(cases)]
    (OUT / "cases.json").write_text("{\n" + ",\n".join(lines) + "\n}\n")  # one case a line
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
