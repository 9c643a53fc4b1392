"""Training loops recorded from TensorFlow (tools/tf_fixtures/gen_monitored_session.py) run again in tfmini:
MonitoredTrainingSession's losses, events (step, kind, detail), kept checkpoints and final weights, a resumed
run from the same directory and from TensorFlow's own checkpoint, LoggingTensorHook's lines, and a dataset
loop ended by OutOfRangeError."""

import glob
import json
import logging
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import tfmini as tf

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "monitored_session"
CASES = json.loads((FIXTURES / "loops.json").read_text())


@pytest.fixture(autouse=True)
def _close_cached_writers():
    yield
    tf.summary.FileWriterCache.clear()


def _linear_model():
    gs = tf.train.get_or_create_global_step()
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    y = tf.constant([[1.0], [2.0]])
    w = tf.get_variable("w", [2, 1], initializer=tf.zeros_initializer())
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y))
    tf.summary.scalar("loss", loss)
    train = tf.train.GradientDescentOptimizer(0.01).minimize(loss, global_step=gs)
    return gs, w, loss, train


def _event_list(logdir):
    out = []
    for path in sorted(glob.glob(os.path.join(logdir, "events.out.tfevents.*")), key=os.path.getmtime):
        for e in tf.train.summary_iterator(path):
            kind = e.WhichOneof("what")
            if kind == "summary":
                detail = [v.tag for v in e.summary.value]
            elif kind == "session_log":
                detail = tf.SessionLog.SessionStatus.Name(e.session_log.status)
            else:
                detail = None
            out.append([int(e.step), kind, detail])
    return out


def _train(logdir, stop_hook, read_start: bool = True, **kwargs):
    """(the global step the session started at, when `read_start` (a run of its own, as the recorded program
    does), the losses of the steps until `stop_hook` stops the loop)."""
    losses = []
    start = None
    with tf.Graph().as_default():
        gs, w, loss, train = _linear_model()
        with tf.train.MonitoredTrainingSession(checkpoint_dir=logdir, save_checkpoint_steps=4, hooks=[stop_hook],
                                               **kwargs) as sess:
            if read_start:
                start = int(sess.run(gs))
            while not sess.should_stop():
                losses.append(float(sess.run([train, loss])[1]))
    tf.summary.FileWriterCache.clear()
    return start, losses


def test_classic_loop_matches_tensorflow(tmp_path):
    expected = CASES["classic"]
    logdir = str(tmp_path)
    _, losses = _train(logdir, tf.train.StopAtStepHook(last_step=10), read_start=False, save_summaries_steps=2)
    np.testing.assert_allclose(losses, expected["losses"], rtol=1e-6)
    assert _event_list(logdir) == expected["events"]
    state = tf.train.get_checkpoint_state(logdir)
    assert [os.path.basename(p) for p in state.all_model_checkpoint_paths] == expected["checkpoints"]
    np.testing.assert_allclose(tf.train.load_variable(logdir, "w"), expected["w"], rtol=1e-6)

    resumed = CASES["resumed"]
    start, losses = _train(logdir, tf.train.StopAtStepHook(num_steps=3))
    assert start == resumed["start_step"]
    np.testing.assert_allclose(losses, resumed["losses"], rtol=1e-6)
    state = tf.train.get_checkpoint_state(logdir)
    assert [os.path.basename(p) for p in state.all_model_checkpoint_paths] == resumed["checkpoints"]


def test_resumes_from_a_tensorflow_checkpoint(tmp_path):
    logdir = str(tmp_path / "ckpt")
    shutil.copytree(FIXTURES / "tf_checkpoint", logdir)
    start, losses = _train(logdir, tf.train.StopAtStepHook(num_steps=3))
    assert start == CASES["resumed"]["start_step"]
    np.testing.assert_allclose(losses, CASES["resumed"]["losses"], rtol=1e-6)
    assert os.path.basename(tf.train.latest_checkpoint(logdir)) == "model.ckpt-13"


def test_logging_tensor_hook_lines_match_tensorflow(caplog):
    v = tf.Variable(1.5, name="v")
    vec = tf.constant([1e-5, 2.0, 3.25], name="vec")
    add = tf.assign_add(v, 0.25)
    hook = tf.train.LoggingTensorHook({"v": v, "vec": vec}, every_n_iter=3, at_end=True)
    listed = tf.train.LoggingTensorHook(["vec", "v:0"], every_n_iter=4)
    caplog.set_level(logging.INFO, logger="tfmini")
    with tf.train.MonitoredSession(hooks=[hook, listed]) as sess:
        for _ in range(7):
            sess.run(add)
    lines = [re.sub(r"\(\d+\.\d+ sec\)", "(<t> sec)", r.getMessage()) for r in caplog.records
             if r.name == "tfmini" and r.getMessage().startswith(("v = ", "vec = "))]
    assert lines == CASES["logging"]["lines"]


def test_dataset_loop_matches_tensorflow():
    expected = CASES["dataset"]
    total = tf.Variable(0, dtype=tf.int64)
    it = tf.data.Dataset.range(7).batch(2).make_one_shot_iterator()
    add = tf.assign_add(total, tf.reduce_sum(it.get_next()))
    final = tf.train.FinalOpsHook({"total": total})
    runs = 0
    with tf.train.MonitoredSession(hooks=[final]) as sess:
        while not sess.should_stop():
            sess.run(add)
            runs += 1
    assert runs == expected["runs"]
    assert final.final_ops_values["total"] == expected["final"]
    assert sess.should_stop() == expected["should_stop"]
