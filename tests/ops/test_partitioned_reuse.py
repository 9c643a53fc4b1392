"""tf.get_variable under reuse=True returns an existing partitioned variable without being given its
partitioner (TF's special case for reuse); AUTO_REUSE and reuse=False without one still refuse."""

import numpy as np
import pytest

import tfmini as tf


def _make():
    with tf.variable_scope("emb"):
        return tf.get_variable("table", partitioner=tf.fixed_size_partitioner(2),
                               initializer=tf.constant(np.arange(12.0, dtype=np.float32).reshape(6, 2)))


def test_reuse_true_finds_the_partitioned_variable_without_a_partitioner():
    with tf.Graph().as_default():
        table = _make()
        with tf.variable_scope("emb", reuse=True):
            again = tf.get_variable("table")
            shaped = tf.get_variable("table", [6, 2], dtype=tf.float32)
        assert again is table and shaped is table
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            out = sess.run(tf.nn.embedding_lookup(again, [5, 0]))
        np.testing.assert_array_equal(out, [[10.0, 11.0], [0.0, 1.0]])


def test_reuse_true_still_checks_shape_and_dtype():
    with tf.Graph().as_default():
        _make()
        with tf.variable_scope("emb", reuse=True):
            with pytest.raises(ValueError, match="specified shape"):
                tf.get_variable("table", [5, 2])
            with pytest.raises(ValueError, match="specified dtype"):
                tf.get_variable("table", [6, 2], dtype=tf.float64)


def test_auto_reuse_without_a_partitioner_is_refused_as_in_tf():
    with tf.Graph().as_default():
        _make()
        with tf.variable_scope("emb", reuse=tf.AUTO_REUSE):
            with pytest.raises(ValueError, match="No partitioner was provided, but a partitioned version"):
                tf.get_variable("table", [6, 2])
