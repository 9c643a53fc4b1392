"""A CheckpointManager takes over from a directory's state file only the checkpoints it can date as younger than
the last preserved one, as TF's does: tf.train.Checkpoint.save writes a state file without times, so a manager
opened on that directory manages (and later deletes) none of those checkpoints."""

import os

import tfmini as tf


def test_a_manager_leaves_undated_checkpoints_alone(tmp_path):
    directory = str(tmp_path)
    with tf.Graph().as_default():
        w = tf.get_variable("w", initializer=[1.0, 2.0])
        ckpt = tf.train.Checkpoint(w=w)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            first = ckpt.save(os.path.join(directory, "user"), session=sess)
            manager = tf.train.CheckpointManager(ckpt, directory, max_to_keep=1)
            assert manager.checkpoints == [] and manager.latest_checkpoint == first
            manager.save()
            newest = manager.save()
    assert manager.checkpoints == [newest]
    assert os.path.exists(first + ".index"), "the manager deleted a checkpoint it did not write"


def test_a_resumed_manager_still_manages_its_own_checkpoints(tmp_path):
    directory = str(tmp_path)
    with tf.Graph().as_default():
        ckpt = tf.train.Checkpoint(w=tf.get_variable("w", initializer=[1.0]))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            manager = tf.train.CheckpointManager(ckpt, directory, max_to_keep=3)
            saved = [manager.save() for _ in range(2)]
            resumed = tf.train.CheckpointManager(ckpt, directory, max_to_keep=1)
            assert resumed.checkpoints == saved
            newest = resumed.save()
    assert resumed.checkpoints == [newest]
    assert not any(os.path.exists(p + ".index") for p in saved)
