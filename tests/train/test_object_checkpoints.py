"""tf.train.Checkpoint and tf.train.CheckpointManager in graph mode: restoring an object-based checkpoint
written by TensorFlow (variables, Adam's slots and accumulators, a nested Checkpoint), writing TensorFlow's
object graph and keys, restore statuses, deferred slot restoration and the manager's bookkeeping."""

from __future__ import annotations

import os

import numpy as np
import pytest

import tfmini as tf
from tfmini.protobuf import trackable_object_graph_pb2

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf", "train_more", "object")
RECORDED = dict(np.load(os.path.join(FIXTURE, "values.npz")))


def _program():
    """The program of tools/tf_fixtures/gen_train_more.py's object_checkpoint."""
    v = tf.get_variable("v", initializer=np.array([1.0, 2.0], np.float32), use_resource=False)
    w = tf.Variable(3.0, name="w")
    opt = tf.train.AdamOptimizer(0.1)
    train = opt.minimize(tf.reduce_sum(v * v) * w + w * w)
    ckpt = tf.train.Checkpoint(v=v, optimizer=opt, nested=tf.train.Checkpoint(w=w))
    return v, w, opt, train, ckpt


def _values(sess, v, w, opt) -> dict:
    out = {name: sess.run(var) for name, var in [
        ("v", v), ("w", w), ("v_m", opt.get_slot(v, "m")), ("v_v", opt.get_slot(v, "v")),
        ("w_m", opt.get_slot(w, "m")), ("w_v", opt.get_slot(w, "v"))]}
    out["beta1_power"], out["beta2_power"] = sess.run(list(opt._get_beta_accumulators()))
    return out


def _object_graph(prefix):
    reader = tf.train.load_checkpoint(prefix)
    proto = trackable_object_graph_pb2.TrackableObjectGraph.FromString(
        reader.get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH").item())
    proto.DiscardUnknownFields()  # TF 2 adds has_checkpoint_values, which TF 1.15 did not write
    return set(reader.get_variable_to_shape_map()), proto


def test_restores_a_tensorflow_checkpoint():
    with tf.Graph().as_default():
        v, w, opt, train, ckpt = _program()
        with tf.Session() as sess:
            status = ckpt.restore(tf.train.latest_checkpoint(FIXTURE))
            status.assert_consumed().assert_existing_objects_matched().assert_nontrivial_match()
            status.run_restore_ops(sess)
            got = _values(sess, v, w, opt)
            assert sess.run(ckpt.save_counter) == 1
    for key, value in RECORDED.items():
        np.testing.assert_allclose(got[key], value, rtol=1e-6, err_msg=key)


def test_writes_tensorflows_keys_and_object_graph(tmp_path):
    tf_keys, tf_graph = _object_graph(os.path.join(FIXTURE, "ckpt-1"))
    with tf.Graph().as_default():
        v, w, opt, train, ckpt = _program()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train)
            path = ckpt.save(str(tmp_path / "ckpt"), session=sess)
            values = _values(sess, v, w, opt)
    assert path == str(tmp_path / "ckpt-1")
    assert tf.train.latest_checkpoint(str(tmp_path)) == path
    keys, graph = _object_graph(path)
    assert keys == tf_keys
    assert graph == tf_graph
    reader = tf.train.load_checkpoint(path)
    np.testing.assert_allclose(reader.get_tensor("v/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE"),
                               values["v_m"])
    np.testing.assert_allclose(reader.get_tensor("nested/w/.ATTRIBUTES/VARIABLE_VALUE"), values["w"])


def test_slots_created_after_restore_are_restored_when_the_ops_run():
    with tf.Graph().as_default():
        v = tf.get_variable("v", initializer=np.array([0.0, 0.0], np.float32), use_resource=False)
        w = tf.Variable(0.0, name="w")
        opt = tf.train.AdamOptimizer(0.1)
        ckpt = tf.train.Checkpoint(v=v, optimizer=opt, nested=tf.train.Checkpoint(w=w))
        status = ckpt.restore(os.path.join(FIXTURE, "ckpt-1"))
        with pytest.raises(AssertionError, match="Unresolved object in checkpoint"):
            status.assert_consumed()
        status.assert_existing_objects_matched()
        train = opt.minimize(tf.reduce_sum(v * v) * w + w * w)
        with tf.Session() as sess:
            status.assert_consumed()
            status.initialize_or_restore(sess)
            got = _values(sess, v, w, opt)
            sess.run(train)
    for key, value in RECORDED.items():
        np.testing.assert_allclose(got[key], value, rtol=1e-6, err_msg=key)


def test_round_trip_with_resource_variables_and_layers_like_objects(tmp_path):
    class Model:
        def __init__(self):
            self.kernel = tf.get_variable("kernel", initializer=np.arange(6, dtype=np.float32).reshape(2, 3),
                                          use_resource=True)
            self.scale = tf.Variable(2.0, name="scale")
            self.name = "not tracked"

    with tf.Graph().as_default():
        model = Model()
        ckpt = tf.train.Checkpoint(model=model)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run([model.kernel.assign(model.kernel * 10), model.scale.assign(5.0)])
            ckpt.write(str(tmp_path / "weights"), session=sess)
    assert not os.path.exists(tmp_path / "checkpoint")  # write keeps no state file
    keys, _ = _object_graph(str(tmp_path / "weights"))
    assert keys == {"_CHECKPOINTABLE_OBJECT_GRAPH", "model/kernel/.ATTRIBUTES/VARIABLE_VALUE",
                    "model/scale/.ATTRIBUTES/VARIABLE_VALUE"}
    with tf.Graph().as_default():
        model = Model()
        ckpt = tf.train.Checkpoint(model=model)
        with tf.Session() as sess:
            ckpt.read(str(tmp_path / "weights")).assert_consumed().run_restore_ops(sess)
            np.testing.assert_array_equal(sess.run(model.kernel), np.arange(6).reshape(2, 3) * 10)
            assert sess.run(model.scale) == 5.0


def test_restore_none_only_initializes():
    with tf.Graph().as_default():
        v = tf.Variable(4.0)
        ckpt = tf.train.Checkpoint(v=v)
        status = ckpt.restore(None)
        with pytest.raises(AssertionError, match="No checkpoint specified"):
            status.assert_consumed()
        with tf.Session() as sess:
            status.initialize_or_restore(sess)
            assert sess.run(v) == 4.0


def test_unmatched_python_objects_fail_assert_consumed(tmp_path):
    with tf.Graph().as_default():
        ckpt = tf.train.Checkpoint(a=tf.Variable(1.0))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            path = ckpt.save(str(tmp_path / "ckpt"), session=sess)
    with tf.Graph().as_default():
        extra = tf.Variable(7.0, name="extra")
        ckpt = tf.train.Checkpoint(a=tf.Variable(0.0), b=extra)
        status = ckpt.restore(path)
        with pytest.raises(AssertionError, match="Some Python objects were not bound"):
            status.assert_consumed()
        status.assert_nontrivial_match()
        with tf.Session() as sess:
            status.initialize_or_restore(sess)
            assert sess.run([ckpt.a, extra]) == [1.0, 7.0]
    with tf.Graph().as_default():
        # read() creates no save_counter, which would match the checkpoint's
        status = tf.train.Checkpoint(other=tf.Variable(0.0)).read(path)
        with pytest.raises(AssertionError, match="Nothing except the root object matched"):
            status.assert_nontrivial_match()


def test_checkpoint_errors(tmp_path):
    with pytest.raises(ValueError, match="was expecting a trackable object"):
        tf.train.Checkpoint(x=3)
    with tf.Graph().as_default():
        ckpt = tf.train.Checkpoint(v=tf.Variable(1.0))
        with pytest.raises(ValueError, match="session parameter must be specified"):
            ckpt.save(str(tmp_path / "ckpt"))


def test_a_saver_checkpoint_is_restored_by_variable_names(tmp_path):
    with tf.Graph().as_default():
        v, w, opt, train, _ = _program()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train)
            prefix = tf.train.Saver().save(sess, str(tmp_path / "model"))
            want = _values(sess, v, w, opt)
    with tf.Graph().as_default():
        v, w, opt, train, ckpt = _program()
        status = ckpt.restore(prefix)
        with pytest.raises(AssertionError, match="name-based tf.train.Saver checkpoint"):
            status.assert_consumed()
        with pytest.raises(AssertionError, match="save_counter"):
            status.assert_existing_objects_matched()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            status.run_restore_ops(sess)
            got = _values(sess, v, w, opt)
    for key, value in want.items():
        np.testing.assert_array_equal(got[key], value, err_msg=key)


def test_save_counter_counts_saves(tmp_path):
    with tf.Graph().as_default():
        ckpt = tf.train.Checkpoint(v=tf.Variable(1.0))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            paths = [ckpt.save(str(tmp_path / "ckpt"), session=sess) for _ in range(3)]
            assert sess.run(ckpt.save_counter) == 3
    assert [os.path.basename(p) for p in paths] == ["ckpt-1", "ckpt-2", "ckpt-3"]
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert state.all_model_checkpoint_paths == [paths[-1]]


def test_checkpoint_manager_keeps_the_newest(tmp_path):
    directory = str(tmp_path / "run")
    with tf.Graph().as_default():
        gs = tf.train.get_or_create_global_step()
        step = tf.assign_add(gs, 10)
        ckpt = tf.train.Checkpoint(step=gs)
        manager = tf.train.CheckpointManager(ckpt, directory, max_to_keep=2, checkpoint_name="model")
        assert manager.latest_checkpoint is None and manager.checkpoints == []
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(3):
                manager.save()
            sess.run(step)
            by_step = manager.save(checkpoint_number=gs)
    names = [os.path.basename(p) for p in manager.checkpoints]
    assert names == ["model-3", "model-10"] and by_step == manager.latest_checkpoint
    assert not os.path.exists(os.path.join(directory, "model-1.index"))
    assert not os.path.exists(os.path.join(directory, "model-2.index"))
    assert tf.train.latest_checkpoint(directory) == by_step
    resumed = tf.train.CheckpointManager(ckpt, directory, max_to_keep=2)
    assert resumed.checkpoints == manager.checkpoints and resumed.latest_checkpoint == by_step
    with pytest.raises(ValueError, match="Expected a positive integer or `None` for `max_to_keep`, got 0"):
        tf.train.CheckpointManager(ckpt, directory, max_to_keep=0)
