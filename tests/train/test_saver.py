"""tf.train.Saver and checkpoint files: round trips into fresh sessions and graphs, the checkpoint state file,
max_to_keep, the V2 file layout, checkpoint readers and TF's errors."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

import tfmini as tf
from tfmini.protobuf import tensor_bundle_pb2
from tfmini.train import checkpoint as ckpt
from tfmini.train import sstable


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield


def _model():
    w = tf.get_variable("w", initializer=np.arange(6, dtype=np.float32).reshape(2, 3))
    b = tf.get_variable("b", initializer=np.array([1, 2], np.int64))
    return w, b


def test_save_then_restore_into_a_new_session(tmp_path):
    w, b = _model()
    saver = tf.train.Saver()
    prefix = str(tmp_path / "model.ckpt")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(w.assign_add(tf.ones([2, 3])))
        assert saver.save(sess, prefix) == prefix
    assert os.path.isfile(prefix + ".index") and os.path.isfile(prefix + ".data-00000-of-00001")
    with tf.Session() as sess:
        saver.restore(sess, prefix)
        np.testing.assert_array_equal(sess.run(w), np.arange(6, dtype=np.float32).reshape(2, 3) + 1)
        assert sess.run(b).tolist() == [1, 2]


def test_restore_into_a_rebuilt_graph(tmp_path):
    _model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = tf.train.Saver().save(sess, str(tmp_path / "m"))
    with tf.Graph().as_default():
        w = tf.get_variable("w", [2, 3])
        tf.get_variable("b", [2], dtype=tf.int64)
        with tf.Session() as sess:
            tf.train.Saver().restore(sess, path)
            np.testing.assert_array_equal(sess.run(w), np.arange(6).reshape(2, 3))


def test_saver_builds_ops_under_the_save_scope():
    _model()
    saver = tf.train.Saver()
    names = {op.name for op in tf.get_default_graph().get_operations()}
    assert {"save/Const", "save/SaveV2", "save/control_dependency", "save/RestoreV2", "save/restore_all",
            "save/Assign", "save/Assign_1"} <= names
    assert saver._filename_tensor.name == "save/Const:0"


def test_saver_works_on_a_finalized_graph(tmp_path):
    w, _ = _model()
    saver = tf.train.Saver()
    init = tf.global_variables_initializer()
    tf.get_default_graph().finalize()
    with tf.Session() as sess:
        sess.run(init)
        path = saver.save(sess, str(tmp_path / "m"))
    with tf.Session() as sess:  # a fresh session: only the restore gives w a value
        saver.restore(sess, path)
        np.testing.assert_array_equal(sess.run(w), np.arange(6, dtype=np.float32).reshape(2, 3))


def test_global_step_suffix_and_checkpoint_state_file(tmp_path):
    _model()
    step = tf.train.get_or_create_global_step()
    saver = tf.train.Saver()
    prefix = str(tmp_path / "model.ckpt")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert saver.save(sess, prefix, global_step=100) == prefix + "-100"
        sess.run(step.assign(250))
        assert saver.save(sess, prefix, global_step=step) == prefix + "-250"
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert state.model_checkpoint_path == prefix + "-250"
    assert state.all_model_checkpoint_paths == [prefix + "-100", prefix + "-250"]
    # As TF's Saver (its state files carry no timestamps; tf.train.CheckpointManager's do).
    assert state.all_model_checkpoint_timestamps == []
    assert tf.train.latest_checkpoint(str(tmp_path)) == prefix + "-250"
    text = (tmp_path / "checkpoint").read_text()
    assert text.startswith(f'model_checkpoint_path: "{prefix}-250"\nall_model_checkpoint_paths: "{prefix}-100"\n')


def test_pad_step_number(tmp_path):
    _model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = tf.train.Saver(pad_step_number=True).save(sess, str(tmp_path / "m"), global_step=7)
    assert path.endswith("m-00000007")


def test_max_to_keep_deletes_the_oldest_checkpoints(tmp_path):
    _model()
    saver = tf.train.Saver(max_to_keep=2)
    prefix = str(tmp_path / "m")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        paths = [saver.save(sess, prefix, global_step=i) for i in range(4)]
    assert saver.last_checkpoints == paths[2:]
    assert [tf.train.checkpoint_exists(p) for p in paths] == [False, False, True, True]
    assert tf.train.get_checkpoint_state(str(tmp_path)).all_model_checkpoint_paths == paths[2:]
    assert sorted(f for f in os.listdir(tmp_path) if not f.endswith(".meta")) == [
        "checkpoint", "m-2.data-00000-of-00001", "m-2.index", "m-3.data-00000-of-00001", "m-3.index"]


def test_max_to_keep_none_keeps_everything(tmp_path):
    _model()
    saver = tf.train.Saver(max_to_keep=None)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        paths = [saver.save(sess, str(tmp_path / "m"), global_step=i) for i in range(3)]
    assert all(tf.train.checkpoint_exists(p) for p in paths)


def test_relative_save_directory_writes_relative_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.mkdir("run")
    _model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = tf.train.Saver().save(sess, os.path.join("run", "m"), global_step=1)
    assert path == os.path.join("run", "m-1")
    assert 'model_checkpoint_path: "m-1"' in (tmp_path / "run" / "checkpoint").read_text()
    assert tf.train.latest_checkpoint("run") == os.path.join("run", "m-1")


def test_var_list_as_dict_renames_and_as_list_limits(tmp_path):
    w, b = _model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = tf.train.Saver({"weights": w}).save(sess, str(tmp_path / "d"))
        only_b = tf.train.Saver([b]).save(sess, str(tmp_path / "l"))
    assert tf.train.list_variables(path) == [("weights", [2, 3])]
    assert tf.train.list_variables(only_b) == [("b", [2])]
    with tf.Graph().as_default():
        other = tf.get_variable("other", [2, 3])
        with tf.Session() as sess:
            tf.train.Saver({"weights": other}).restore(sess, path)
            np.testing.assert_array_equal(sess.run(other), np.arange(6).reshape(2, 3))


def test_optimizer_slots_and_global_step_round_trip(tmp_path):
    w, _ = _model()
    step = tf.train.get_or_create_global_step()
    opt = tf.train.AdamOptimizer(0.1)
    train = opt.minimize(tf.reduce_sum(w * w), global_step=step)
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train)
        path = saver.save(sess, str(tmp_path / "m"), global_step=step)
        expected = sess.run([w, opt.get_slot(w, "m"), step])
    names = [n for n, _ in tf.train.list_variables(path)]
    assert names == ["b", "beta1_power", "beta2_power", "global_step", "w", "w/Adam", "w/Adam_1"]
    with tf.Session() as sess:
        saver.restore(sess, path)
        got = sess.run([w, opt.get_slot(w, "m"), step])
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])
    assert got[2] == 3 and path.endswith("m-3")


def test_string_bool_and_complex_variables_round_trip(tmp_path):
    s = tf.Variable(np.array([[b"a", b""], [b"\x00z\xff", b"long string"]], dtype=object), name="s")
    flags = tf.Variable([True, False], name="flags")
    c = tf.Variable(np.array([1 + 2j], np.complex64), name="c")
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = saver.save(sess, str(tmp_path / "m"))
    with tf.Session() as sess:
        saver.restore(sess, path)
        sv, fv, cv = sess.run([s, flags, c])
    assert sv.tolist() == [[b"a", b""], [b"\x00z\xff", b"long string"]]
    assert fv.tolist() == [True, False] and cv.dtype == np.complex64 and cv.tolist() == [1 + 2j]


# ----------------------------------------------------------------------------------------------------------
# The file format
# ----------------------------------------------------------------------------------------------------------
def test_checkpoint_files_follow_tensorflows_v2_layout(tmp_path):
    w, b = _model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = tf.train.Saver().save(sess, str(tmp_path / "m"))
    items = sstable.read_table(Path(path + ".index").read_bytes())
    assert [key for key, _ in items] == [b"", b"b", b"w"]
    header = tensor_bundle_pb2.BundleHeaderProto.FromString(bytes(items[0][1]))
    assert header.num_shards == 1 and header.version.producer == 1
    entries = [tensor_bundle_pb2.BundleEntryProto.FromString(bytes(v)) for _, v in items[1:]]
    assert [(e.dtype, [d.size for d in e.shape.dim], e.offset, e.size) for e in entries] == [
        (tf.int64.as_datatype_enum, [2], 0, 16), (tf.float32.as_datatype_enum, [2, 3], 16, 24)]
    data = Path(path + ".data-00000-of-00001").read_bytes()
    assert data == np.array([1, 2], "<i8").tobytes() + np.arange(6, dtype="<f4").tobytes()
    assert entries[1].crc32c == sstable.masked_crc32c(data[16:])


def test_checkpoint_reader_api(tmp_path):
    prefix = ckpt.write_checkpoint(str(tmp_path / "x"), {"a/b": np.ones([2], np.float64), "n": np.int32(4)})
    reader = tf.train.load_checkpoint(prefix)
    assert reader.has_tensor("a/b") and not reader.has_tensor("zz")
    assert reader.get_variable_to_shape_map() == {"a/b": [2], "n": []}
    assert reader.get_variable_to_dtype_map() == {"a/b": tf.float64, "n": tf.int32}
    assert tf.train.load_variable(prefix, "n:0") == 4
    with pytest.raises(tf.errors.NotFoundError, match="Key zz not found in checkpoint"):
        reader.get_tensor("zz")
    with pytest.raises(tf.errors.NotFoundError, match="Failed to find any matching files"):
        tf.train.NewCheckpointReader(str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="Couldn't find 'checkpoint' file or checkpoints"):
        tf.train.load_checkpoint(str(tmp_path))


def test_a_newer_format_version_is_rejected(tmp_path):
    header = {"format": "tfmini-checkpoint", "version": 99, "tensors": []}
    with open(tmp_path / "v.npz", "wb") as f:
        np.savez(f, __tfmini_checkpoint__=np.frombuffer(json.dumps(header).encode(), np.uint8))
    with pytest.raises(tf.errors.UnimplementedError, match="format version 99"):
        tf.train.NewCheckpointReader(str(tmp_path / "v"))


def test_a_file_that_is_not_a_checkpoint_is_data_loss(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(tf.errors.DataLossError):
        tf.train.NewCheckpointReader(str(tmp_path / "junk"))
    np.savez(str(tmp_path / "plain.npz"), x=np.zeros(2))
    with pytest.raises(tf.errors.DataLossError):
        tf.train.NewCheckpointReader(str(tmp_path / "plain"))


def test_checkpoint_state_text_round_trip_with_escapes():
    state = ckpt.CheckpointState('dir/with "quote"\\and\nnewline/ü', ["a", 'dir/with "quote"\\and\nnewline/ü'],
                                 [1.5, 2.25], 3.0)
    assert ckpt.parse_checkpoint_state(str(state)) == state


def test_get_checkpoint_state_without_a_file_is_none(tmp_path):
    assert tf.train.get_checkpoint_state(str(tmp_path)) is None
    assert tf.train.latest_checkpoint(str(tmp_path)) is None


def test_latest_checkpoint_ignores_a_deleted_checkpoint(tmp_path):
    _model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = tf.train.Saver().save(sess, str(tmp_path / "m"))
    os.remove(path + ".index")
    assert tf.train.latest_checkpoint(str(tmp_path)) is None


# ----------------------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------------------
def test_restore_errors_are_wrapped_with_tf_messages(tmp_path):
    w, _ = _model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = tf.train.Saver([w]).save(sess, str(tmp_path / "m"))
    with tf.Graph().as_default():
        tf.get_variable("w", [2, 3])
        tf.get_variable("extra", [1])
        with tf.Session() as sess:
            with pytest.raises(tf.errors.NotFoundError,
                               match="(?s)Restoring from checkpoint failed.*Key extra not found"):
                tf.train.Saver().restore(sess, path)
    with tf.Graph().as_default():
        tf.get_variable("w", [3, 2])
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError,
                               match="(?s)mismatch between the current graph and the graph.*lhs shape= \\[3,2\\] rhs "
                                     "shape= \\[2,3\\]"):
                tf.train.Saver().restore(sess, path)
    with tf.Graph().as_default():
        tf.get_variable("w", [2, 3], dtype=tf.float64)
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match="expected dtype float64 does not equal"):
                tf.train.Saver().restore(sess, path)


def test_restore_path_errors(tmp_path):
    _model()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        with pytest.raises(ValueError, match="Can't load save_path when it is None"):
            saver.restore(sess, None)
        with pytest.raises(ValueError, match="The passed save_path is not a valid checkpoint"):
            saver.restore(sess, str(tmp_path / "nothing"))


def test_save_errors(tmp_path):
    _model()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value"):
            saver.save(sess, str(tmp_path / "m"))
        sess.run(tf.global_variables_initializer())
        with pytest.raises(ValueError, match="Parent directory of .* doesn't exist, can't save"):
            saver.save(sess, str(tmp_path / "no" / "such" / "m"))
        with pytest.raises(ValueError, match="'latest_filename' collides with 'save_path'"):
            saver.save(sess, str(tmp_path / "checkpoint"))
        with pytest.raises(ValueError, match="'latest_filename' must not contain path components"):
            saver.save(sess, str(tmp_path / "m"), latest_filename="a/b")
        with pytest.raises(TypeError, match="'sess' must be a Session"):
            saver.save("not a session", str(tmp_path / "m"))


def test_a_missing_directory_level_is_created_by_a_plain_save_and_refused_by_a_sharded_one(tmp_path):
    # As TensorFlow: SaveV2 creates the one missing level below an existing directory, while a sharded
    # saver writes its shard into <prefix>_temp_<uuid>/, whose parent must exist, and creates nothing.
    w, _ = _model()
    plain, sharded = tf.train.Saver(), tf.train.Saver(sharded=True)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert plain.save(sess, str(tmp_path / "rel0" / "x")) == str(tmp_path / "rel0" / "x")
        with pytest.raises(ValueError, match="Parent directory of .*rel1/x doesn't exist, can't save"):
            sharded.save(sess, str(tmp_path / "rel1" / "x"))
        assert sorted(os.listdir(tmp_path)) == ["rel0"]
        path = sharded.save(sess, str(tmp_path / "rel0" / "s"), global_step=3)
        sess.run(w.assign(tf.zeros_like(w)))
        sharded.restore(sess, path)
        np.testing.assert_array_equal(sess.run(w), np.arange(6, dtype=np.float32).reshape(2, 3))
    assert path == str(tmp_path / "rel0" / "s-3") and sharded.saver_def.sharded
    assert sorted(os.listdir(tmp_path / "rel0")) == [
        "checkpoint", "s-3.data-00000-of-00001", "s-3.index", "s-3.meta", "x.data-00000-of-00001", "x.index",
        "x.meta"]  # the shard's temporary directory is gone
    assert {op.type for op in tf.get_default_graph().get_operations()} >= {"ShardedFilename", "MergeV2Checkpoints"}


def test_saver_construction_errors():
    with pytest.raises(ValueError, match="No variables to save"):
        tf.train.Saver()
    assert tf.train.Saver(allow_empty=True).save(tf.Session(), "/nonexistent/x") is None
    w = tf.Variable(1.0, name="w")
    with pytest.raises(ValueError, match="At least two variables have the same name: w"):
        tf.train.Saver([w, w])
    with pytest.raises(TypeError, match="Variable to save is not a Variable"):
        tf.train.Saver([tf.constant(1.0)])
    with pytest.raises(TypeError, match="Variables to save should be passed in a dict or a list"):
        tf.train.Saver(w)


def test_deferred_build(tmp_path):
    saver = tf.train.Saver(defer_build=True)
    w = tf.Variable(2.0, name="w")
    with tf.Session() as sess:
        sess.run(w.initializer)
        with pytest.raises(RuntimeError, match="`build\\(\\)` should be called before save"):
            saver.save(sess, str(tmp_path / "m"))
        saver.build()
        path = saver.save(sess, str(tmp_path / "m"))
    assert tf.train.list_variables(path) == [("w", [])]


def test_resource_and_ref_variables_restore_from_each_others_checkpoints(tmp_path):
    for writer, reader in ((True, False), (False, True), (True, True)):
        path = str(tmp_path / f"ck_{writer}_{reader}")
        with tf.Graph().as_default():
            w = tf.Variable([[1.0, 2.0]], name="w", use_resource=writer)
            s = tf.Variable(3, name="s", use_resource=writer)
            saver = tf.train.Saver()
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                sess.run(w.assign([[5.0, 6.0]]))
                saver.save(sess, path)
        with tf.Graph().as_default():
            w = tf.Variable([[0.0, 0.0]], name="w", use_resource=reader)
            s = tf.Variable(0, name="s", use_resource=reader)
            saver = tf.train.Saver()
            with tf.Session() as sess:
                saver.restore(sess, path)
                np.testing.assert_array_equal(sess.run(w), [[5.0, 6.0]])
                assert sess.run(s) == 3
