"""tf.train.init_from_checkpoint on a checkpoint written by TensorFlow: scope-to-scope, root and one-variable
assignment maps, ref and resource variables, and TF's errors."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

import tfmini as tf

CKPT_DIR = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf", "train_more", "warm_start")
W = np.arange(6, dtype=np.float32).reshape(2, 3)


def _initialized(*variables):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(list(variables))


def test_scope_to_scope_loads_every_variable_under_it():
    with tf.Graph().as_default():
        with tf.variable_scope("new"):
            w = tf.get_variable("w", [2, 3])
            with tf.variable_scope("inner"):
                b = tf.get_variable("b", [2], dtype=tf.float64, use_resource=True)
        other = tf.get_variable("other", initializer=1.5)
        tf.train.init_from_checkpoint(CKPT_DIR, {"old/": "new/"})
        got_w, got_b, got_other = _initialized(w, b, other)
    np.testing.assert_array_equal(got_w, W)
    np.testing.assert_array_equal(got_b, [7.0, 8.0])
    assert got_other == 1.5  # outside the mapped scope: its own initializer


def test_name_to_variable_and_name_to_name():
    with tf.Graph().as_default():
        a = tf.get_variable("a", [2, 3])
        c = tf.Variable(0, dtype=tf.int64, name="counter")
        tf.train.init_from_checkpoint(os.path.join(CKPT_DIR, "model"), {"old/w": "a", "v": c})
        assert a.initial_value.op.type == "RestoreV2"
        got_a, got_c = _initialized(a, c)
    np.testing.assert_array_equal(got_a, W)
    assert got_c == 3


def test_root_mappings():
    with tf.Graph().as_default():
        with tf.variable_scope("some"):
            w = tf.get_variable("w", [2, 3])
        tf.train.init_from_checkpoint(CKPT_DIR, {"old/": "some/"})
        np.testing.assert_array_equal(_initialized(w)[0], W)
    with tf.Graph().as_default():
        with tf.variable_scope("old"):
            w = tf.get_variable("w", [2, 3])
            with tf.variable_scope("inner"):
                b = tf.get_variable("b", [2], dtype=tf.float64)
        v = tf.get_variable("v", [], dtype=tf.int64)
        tf.train.init_from_checkpoint(CKPT_DIR, {"/": "/"})
        got = _initialized(w, b, v)
    np.testing.assert_array_equal(got[0], W)
    np.testing.assert_array_equal(got[1], [7.0, 8.0])
    assert got[2] == 3


def test_nothing_is_read_until_the_initializer_runs(tmp_path):
    directory = tmp_path / "ckpt"
    shutil.copytree(CKPT_DIR, directory)
    with tf.Graph().as_default():
        w = tf.get_variable("w", [2, 3])
        tf.train.init_from_checkpoint(str(directory), {"old/w": "w"})
        shutil.rmtree(directory)
        with tf.Session() as sess:
            with pytest.raises(tf.errors.NotFoundError):
                sess.run(w.initializer)


def test_errors():
    with tf.Graph().as_default():
        tf.get_variable("a", [2, 3])
        tf.get_variable("wrong", [4])
        with pytest.raises(ValueError, match="Tensor old/missing is not found in"):
            tf.train.init_from_checkpoint(CKPT_DIR, {"old/missing": "a"})
        with pytest.raises(ValueError, match=r"Shape of variable wrong:0 \(\(4,\)\) doesn't match with shape of "
                                             r"tensor old/w \(\[2, 3\]\)"):
            tf.train.init_from_checkpoint(CKPT_DIR, {"old/w": "wrong"})
        with pytest.raises(ValueError, match="Should be 'scope/': 'other_scope/'"):
            tf.train.init_from_checkpoint(CKPT_DIR, {"old/w": "nothing/"})
        with pytest.raises(ValueError, match=r"Tensor old/a \(.* in old/\) is not found"):
            tf.train.init_from_checkpoint(CKPT_DIR, {"old/": "/"})


def test_partitioned_variables_get_their_slices():
    with tf.Graph().as_default():
        with tf.variable_scope("new", partitioner=tf.fixed_size_partitioner(2)):
            w = tf.get_variable("w", [2, 3])
        tf.train.init_from_checkpoint(CKPT_DIR, {"old/": "new/"})
        np.testing.assert_array_equal(_parts(w), W)
    with tf.Graph().as_default():
        with tf.variable_scope("s", partitioner=tf.fixed_size_partitioner(2, axis=1)):
            w = tf.get_variable("w", [2, 3])
        tf.train.init_from_checkpoint(CKPT_DIR, {"old/w": "s/w"})
        np.testing.assert_array_equal(_parts(w), W)
    with tf.Graph().as_default():
        with tf.variable_scope("t", partitioner=tf.fixed_size_partitioner(2)):
            w = tf.get_variable("w", [2, 3])
        tf.train.init_from_checkpoint(CKPT_DIR, {"old/w": list(w)})
        np.testing.assert_array_equal(_parts(w), W)


def _parts(partitioned):
    parts = list(partitioned)
    values = _initialized(*parts)
    axis = next(i for i, o in enumerate(parts[1]._save_slice_info.var_offset) if o)
    return np.concatenate(values, axis=axis)
