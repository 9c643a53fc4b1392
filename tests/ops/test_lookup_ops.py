"""Lookup tables (tf.lookup, tf.contrib.lookup, tf.tables_initializer) against the lookups recorded from
TensorFlow in tests/fixtures/tf/misc_core/lookup.json (out-of-vocabulary buckets, defaults, vocabulary files),
plus their errors, sharing and GraphDef round trips."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np
import pytest

import tfmini as tf
from tfmini.framework import errors
from tfmini.framework.registry import apply_op

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "misc_core"
RECORDED = json.loads((FIXTURES / "lookup.json").read_text(encoding="utf-8"))
INPUTS = RECORDED["inputs"]


def _text(value):
    if isinstance(value, np.ndarray):
        return [_text(v) for v in value.tolist()]
    if isinstance(value, list):
        return [_text(v) for v in value]
    return value.decode() if isinstance(value, bytes) else value


@pytest.fixture()
def files(tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(INPUTS["vocab"]) + "\n", encoding="utf-8")
    columns = tmp_path / "columns.txt"
    columns.write_text("\n".join(INPUTS["columns"]) + "\n", encoding="utf-8")
    return str(vocab), str(columns)


def test_tables_give_tensorflows_ids_buckets_and_defaults(files):
    vocab_file, columns_file = files
    with tf.Graph().as_default():
        queries = tf.constant(INPUTS["string_queries"])
        ints = tf.constant(INPUTS["int_queries"], tf.int64)
        built = {
            "tensor_oov3": tf.lookup.StaticVocabularyTable(
                tf.lookup.KeyValueTensorInitializer(INPUTS["vocab"], np.arange(6, dtype=np.int64)), 3).lookup(queries),
            "int_vocab_oov5": tf.lookup.StaticVocabularyTable(
                tf.lookup.KeyValueTensorInitializer(np.array([10, 20, 30], np.int64),
                                                    np.arange(3, dtype=np.int64)), 5).lookup(ints),
            "file_oov2": tf.lookup.StaticVocabularyTable(
                tf.lookup.TextFileInitializer(vocab_file, tf.string, -2, tf.int64, -1), 2).lookup(queries),
            "file_vocab3_default": tf.lookup.StaticHashTable(
                tf.lookup.TextFileInitializer(vocab_file, tf.string, -2, tf.int64, -1, vocab_size=3),
                -7).lookup(queries),
            "columns_int_to_string": tf.lookup.StaticHashTable(
                tf.lookup.TextFileInitializer(columns_file, tf.int64, 0, tf.string, 1), "?").lookup(ints),
            "columns_string_to_float": tf.lookup.StaticHashTable(
                tf.lookup.TextFileInitializer(columns_file, tf.string, 1, tf.float32, 2), -1.0).lookup(
                    tf.constant(["twenty", "forty", "none"])),
            "hash_table_default": tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(["a", "b"], [1.5, 2.5]), 0.25).lookup(
                    tf.constant(["b", "c", "a"])),
            "vocab_size": tf.lookup.StaticVocabularyTable(
                tf.lookup.KeyValueTensorInitializer(INPUTS["vocab"], np.arange(6, dtype=np.int64)), 3).size(),
        }
        assert built["tensor_oov3"].dtype == tf.int64 and built["tensor_oov3"].shape == [2, 3]
        assert built["columns_string_to_float"].dtype == tf.float32
        with tf.Session() as sess:
            sess.run(tf.tables_initializer())
            got = sess.run(built)
    for key, value in got.items():
        assert _text(value) == RECORDED[key], key


def test_contrib_helpers_map_vocabularies_both_ways(files):
    vocab_file, _ = files
    with tf.Graph().as_default():
        words = tf.constant(INPUTS["string_queries"])
        ids = tf.contrib.lookup.index_table_from_tensor(INPUTS["vocab"], num_oov_buckets=3).lookup(words)
        from_file = tf.contrib.lookup.index_table_from_file(vocab_file, num_oov_buckets=2).lookup(words)
        no_oov = tf.contrib.lookup.index_table_from_tensor(INPUTS["vocab"], default_value=-5).lookup(words)
        int_ids = tf.contrib.lookup.index_table_from_tensor(
            np.array([10, 20, 30], np.int64), num_oov_buckets=5, dtype=tf.int64).lookup(
                tf.constant(INPUTS["int_queries"], tf.int64))
        back = tf.contrib.lookup.index_to_string_table_from_tensor(INPUTS["vocab"]).lookup(
            tf.constant([0, 5, 6, -1], tf.int64))
        back_file = tf.contrib.lookup.index_to_string_table_from_file(vocab_file, default_value="?").lookup(
            tf.constant([2, 9], tf.int64))
        mapped = tf.contrib.lookup.index_to_string(tf.constant([1, 3], tf.int64), INPUTS["vocab"])
        indexed = tf.contrib.lookup.string_to_index(tf.constant(["brain", "x"]), INPUTS["vocab"])
        with tf.Session() as sess:
            sess.run(tf.initializers.tables_initializer())
            got = sess.run([ids, from_file, no_oov, int_ids, back, back_file, mapped, indexed])
    assert got[0].tolist() == RECORDED["tensor_oov3"]
    assert got[1].tolist() == RECORDED["file_oov2"]
    assert got[2].tolist() == [[1, -5, 5], [-5, -5, -5]]
    assert got[3].tolist() == RECORDED["int_vocab_oov5"]
    assert _text(got[4]) == ["emerson", "surgery", "UNK", "UNK"]
    assert _text(got[5]) == ["palmer", "?"]
    assert _text(got[6]) == ["lake", "brain"]
    assert got[7].tolist() == [3, -1]


def test_lookup_of_a_sparse_tensor_keeps_its_indices():
    with tf.Graph().as_default():
        table = tf.contrib.lookup.HashTable(tf.contrib.lookup.KeyValueTensorInitializer(["a", "b"], [7, 8]), -1)
        sp = tf.SparseTensor([[0, 0], [1, 2]], ["b", "z"], [2, 3])
        out = table.lookup(sp)
        assert isinstance(out, tf.SparseTensor)
        with tf.Session() as sess:
            sess.run(tf.tables_initializer())
            value = sess.run(out)
    assert value.values.tolist() == [8, -1]
    assert value.indices.tolist() == [[0, 0], [1, 2]]


def test_an_uninitialized_table_fails_and_initializing_twice_with_the_same_data_is_fine():
    with tf.Graph().as_default():
        table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer([1, 2], [3.0, 4.0],
                                                                              key_dtype=tf.int64), 0.0)
        out = table.lookup(tf.constant([2, 5], tf.int64))
        init = tf.tables_initializer()
        with tf.Session() as sess:
            with pytest.raises(errors.FailedPreconditionError, match="Table not initialized"):
                sess.run(out)
            sess.run(init)
            sess.run(init)
            assert sess.run(out).tolist() == [4.0, 0.0]
            assert sess.run(table.size()) == 2
        with tf.Session() as other:  # each session has its own tables
            with pytest.raises(errors.FailedPreconditionError):
                other.run(out)


def test_a_key_with_two_values_is_refused_and_the_session_stays_usable():
    with tf.Graph().as_default():
        table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(["a", "a"], [1, 2]), -1)
        fine = tf.constant(3) * 2
        with tf.Session() as sess:
            with pytest.raises(errors.FailedPreconditionError, match="HashTable has different value for same key"):
                sess.run(table.initializer)
            assert sess.run(fine) == 6


def test_keys_and_values_of_different_sizes_are_refused():
    with tf.Graph().as_default():
        table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(["a", "b"], [1, 2, 3]), -1)
        with tf.Session() as sess, pytest.raises(errors.InvalidArgumentError):
            sess.run(table.initializer)


def test_keys_of_the_wrong_dtype_are_a_type_error_at_graph_build():
    with tf.Graph().as_default():
        table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(["a"], [1]), -1)
        with pytest.raises(TypeError, match="Signature mismatch. Keys must be dtype tf.string, got tf.int64"):
            table.lookup(tf.constant([1], tf.int64))
        with pytest.raises(ValueError):
            tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(["a"], [1]), [-1, -2])
        with pytest.raises(ValueError, match="oov_buckets must be > 0"):
            tf.lookup.StaticVocabularyTable(
                tf.lookup.KeyValueTensorInitializer(["a"], np.array([0], np.int64)), 0)


def test_vocabulary_files_with_too_few_lines_or_columns_fail_at_run_time(files):
    vocab_file, columns_file = files
    with tf.Graph().as_default():
        short = tf.lookup.StaticHashTable(
            tf.lookup.TextFileInitializer(vocab_file, tf.string, -2, tf.int64, -1, vocab_size=50), -1)
        narrow = tf.lookup.StaticHashTable(
            tf.lookup.TextFileInitializer(columns_file, tf.string, 5, tf.int64, -1), -1)
        not_a_number = tf.lookup.StaticHashTable(
            tf.lookup.TextFileInitializer(columns_file, tf.string, 0, tf.int64, 1), -1)
        missing = tf.lookup.StaticHashTable(
            tf.lookup.TextFileInitializer(vocab_file + ".missing", tf.string, -2, tf.int64, -1), -1)
        with tf.Session() as sess:
            with pytest.raises(errors.InvalidArgumentError, match="Invalid vocab_size"):
                sess.run(short.initializer)
            with pytest.raises(errors.InvalidArgumentError, match="Invalid number of columns"):
                sess.run(narrow.initializer)
            with pytest.raises(errors.InvalidArgumentError, match="not a valid int64"):
                sess.run(not_a_number.initializer)
            with pytest.raises(errors.NotFoundError):
                sess.run(missing.initializer)


def test_tables_initializer_without_tables_is_a_no_op_and_the_ops_carry_tfs_signatures():
    with tf.Graph().as_default():
        op = tf.tables_initializer()
        assert op.type == "NoOp" and op.name == "init_all_tables"
        table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(["a"], [1]), -1)
        assert table.resource_handle.op.type == "HashTableV2"
        assert table.initializer.type == "InitializeTableV2"
        assert table.initializer in tf.get_collection(tf.GraphKeys.TABLE_INITIALIZERS)
        assert table.lookup(tf.constant(["a"])).op.type == "LookupTableFindV2"
        assert table.size().op.type == "LookupTableSizeV2"


def test_a_graph_def_with_tables_imports_and_runs(files):
    vocab_file, _ = files
    with tf.Graph().as_default() as g:
        words = tf.placeholder(tf.string, [None], name="words")
        table = tf.contrib.lookup.index_table_from_file(vocab_file, num_oov_buckets=2)
        tf.identity(table.lookup(words), name="ids")
        tf.tables_initializer(name="init_tables")
        graph_def = g.as_graph_def()
    with tf.Graph().as_default():
        tf.import_graph_def(graph_def, name="", allow_file_access=True)
        with tf.Session() as sess:
            sess.run("init_tables")
            ids = sess.run("ids:0", {"words:0": ["lake", "karn", "evil"]})
    assert ids.tolist() == [RECORDED["file_oov2"][0][0], RECORDED["file_oov2"][1][0], RECORDED["file_oov2"][1][1]]


def test_an_imported_text_file_initializer_may_not_read_files_unless_allowed(files):
    vocab_file, _ = files
    with tf.Graph().as_default() as g:
        tf.contrib.lookup.index_table_from_file(vocab_file)
        tf.tables_initializer(name="init_tables")
        graph_def = g.as_graph_def()
    with tf.Graph().as_default():
        tf.import_graph_def(graph_def, name="")
        with tf.Session() as sess, pytest.raises(errors.PermissionDeniedError):
            sess.run("init_tables")


def test_lookup_table_import_fills_a_table():
    with tf.Graph().as_default():
        table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(["a"], [1]), -1)
        imported = apply_op("LookupTableImportV2", [table.resource_handle, tf.constant(["x", "y"]),
                                                    tf.constant([5, 6])])
        out = table.lookup(tf.constant(["x", "a"]))
        with tf.Session() as sess:
            sess.run(imported)
            assert sess.run(out).tolist() == [5, -1]
            with pytest.raises(errors.FailedPreconditionError, match="already initialized with different data"):
                sess.run(table.initializer)


def test_mutable_tables_insert_remove_and_look_up_as_tensorflow():
    with tf.Graph().as_default():
        mutable = tf.contrib.lookup.MutableHashTable(tf.string, tf.int64, -1)
        vectors = tf.contrib.lookup.MutableHashTable(tf.int64, tf.float32, [0.5, -0.5])
        dense = tf.contrib.lookup.MutableDenseHashTable(tf.int64, tf.int64, -1, empty_key=0, deleted_key=-1)
        changes = [mutable.insert(["a", "b", "c"], np.array([1, 2, 3], np.int64)),
                   mutable.insert(["b", "d"], np.array([20, 4], np.int64)),
                   mutable.remove(tf.constant(["c", "zz"])),
                   vectors.insert(tf.constant([5, 6], tf.int64), [[1.0, 2.0], [3.0, 4.0]]),
                   dense.insert(tf.constant([3, 4, 5], tf.int64), tf.constant([30, 40, 50], tf.int64)),
                   dense.remove(tf.constant([4], tf.int64))]
        built = {
            "mutable_after_changes": mutable.lookup(tf.constant(["a", "b", "c", "d", "e"])),
            "mutable_vectors": vectors.lookup(tf.constant([[6, 7], [5, 6]], tf.int64)),
            "dense_after_changes": dense.lookup(tf.constant([3, 4, 5, 6], tf.int64)),
            "mutable_size": mutable.size(),
            "dense_size": dense.size(),
        }
        assert built["mutable_vectors"].shape == [2, 2, 2]
        assert mutable.resource_handle.op.type == "MutableHashTableV2"
        assert vectors.resource_handle.op.type == "MutableHashTableOfTensorsV2"
        assert dense.resource_handle.op.type == "MutableDenseHashTableV2"
        exported_keys, exported_values = mutable.export()
        with tf.Session() as sess:
            for change in changes:
                sess.run(change)
            got = sess.run(built)
            keys, values = sess.run([exported_keys, exported_values])
    for key, value in got.items():
        assert _text(value) == RECORDED[key], key
    assert dict(zip(_text(keys), values.tolist())) == {"a": 1, "b": 20, "d": 4}


def test_mutable_tables_refuse_bad_keys_and_shapes_at_run_time():
    with tf.Graph().as_default():
        dense = tf.contrib.lookup.MutableDenseHashTable(tf.int64, tf.int64, -1, empty_key=0, deleted_key=-1)
        same_markers = tf.contrib.lookup.MutableDenseHashTable(tf.int64, tf.int64, -1, empty_key=7, deleted_key=7)
        vectors = tf.contrib.lookup.MutableHashTable(tf.int64, tf.float32, [0.0, 0.0])
        with tf.Session() as sess:
            with pytest.raises(errors.InvalidArgumentError, match="Using the empty_key as a table key"):
                sess.run(dense.insert(tf.constant([0], tf.int64), tf.constant([1], tf.int64)))
            with pytest.raises(errors.InvalidArgumentError, match="Using the deleted_key as a table key"):
                sess.run(dense.lookup(tf.constant([-1], tf.int64)))
            with pytest.raises(errors.InvalidArgumentError, match="Empty and deleted keys cannot be equal"):
                sess.run(same_markers.size())
            with pytest.raises(errors.InvalidArgumentError, match=r"Expected shape \[1, 2\] for value, got \[1, 3\]"):
                sess.run(vectors.insert(tf.constant([1], tf.int64), [[1.0, 2.0, 3.0]]))
            assert sess.run(vectors.size()) == 0


def test_lookup_experimental_names_the_mutable_tables_with_tfs_signatures():
    assert tf.lookup.experimental.DenseHashTable is tf.contrib.lookup.MutableDenseHashTable
    assert tf.lookup.experimental.MutableHashTable is tf.contrib.lookup.MutableHashTable
    assert sorted(tf.lookup.experimental.__all__) == ["DenseHashTable", "MutableHashTable"]
    dense_params = inspect.signature(tf.lookup.experimental.DenseHashTable).parameters
    assert [(p.name, p.default) for p in dense_params.values()][3:] == [
        ("empty_key", inspect.Parameter.empty), ("deleted_key", inspect.Parameter.empty),
        ("initial_num_buckets", None), ("name", "MutableDenseHashTable"), ("checkpoint", True)]
    mutable_params = inspect.signature(tf.lookup.experimental.MutableHashTable).parameters
    assert list(mutable_params) == ["key_dtype", "value_dtype", "default_value", "name", "checkpoint"]
    with tf.Graph().as_default():
        table = tf.lookup.experimental.DenseHashTable(tf.int64, tf.float32, default_value=-1.0, empty_key=-1,
                                                      deleted_key=-2, initial_num_buckets=8)
        insert = table.insert(tf.constant([3, 9, 12], tf.int64), tf.constant([0.5, 1.5, 2.5]))
        remove = table.remove(tf.constant([9], tf.int64))
        looked_up = table.lookup(tf.constant([[12, 9], [3, 4]], tf.int64))
        with tf.Session() as sess:
            sess.run(insert)
            sess.run(remove)
            np.testing.assert_array_equal(sess.run(looked_up), [[2.5, -1.0], [0.5, -1.0]])
            assert sess.run(table.size()) == 2
