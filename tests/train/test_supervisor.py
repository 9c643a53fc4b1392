"""tf.train.Supervisor: managed sessions initialized or restored from logdir, the standard services'
checkpoints, summaries and session logs, stopping through the coordinator, and non-chief replicas."""

from __future__ import annotations

import glob
import os
import time

import numpy as np
import pytest

import tfmini as tf


def _model():
    gs = tf.train.get_or_create_global_step()
    w = tf.Variable(1.0, name="w")
    tf.summary.scalar("w_value", w)
    train = tf.group(tf.assign_add(gs, 1), tf.assign_add(w, 0.5))
    return gs, w, train


def _events(logdir):
    out = []
    for path in sorted(glob.glob(os.path.join(logdir, "events.out.tfevents.*"))):
        for e in tf.train.summary_iterator(path):
            kind = e.WhichOneof("what")
            if kind == "session_log":
                out.append((e.step, "session_log", tf.SessionLog.SessionStatus.Name(e.session_log.status)))
            elif kind == "summary":
                out.append((e.step, "summary", tuple(v.tag for v in e.summary.value)))
            elif kind is not None:
                out.append((e.step, kind, None))
    return out


def test_defaults_come_from_the_graph_and_the_graph_is_finalized(tmp_path):
    with tf.Graph().as_default() as g:
        gs, _, _ = _model()
        sv = tf.train.Supervisor(logdir=str(tmp_path))
        assert g.finalized
        assert sv.is_chief
        assert sv.global_step is g.get_tensor_by_name("global_step:0")
        assert tf.get_collection(tf.GraphKeys.READY_OP) == [sv.ready_op]
        assert tf.get_collection(tf.GraphKeys.INIT_OP) == [sv.init_op]
        assert tf.get_collection(tf.GraphKeys.LOCAL_INIT_OP) == [sv.session_manager._local_init_op]
        assert tf.get_collection(tf.GraphKeys.SAVERS) == [sv.saver]
        assert tf.get_collection(tf.GraphKeys.SUMMARY_OP) == [sv.summary_op]
        assert sv.save_path == os.path.join(str(tmp_path), "model.ckpt")
        assert (sv.save_model_secs, sv.save_summaries_secs) == (600, 120)
        assert isinstance(sv.coord, tf.train.Coordinator)
        sv.summary_writer.close()
    with tf.Graph().as_default():
        _model()
        sv = tf.train.Supervisor(logdir=None, saver=None, summary_op=None, ready_op=None, global_step=None)
        assert (sv.saver, sv.summary_op, sv.ready_op, sv.global_step, sv.summary_writer) == (None,) * 5


def test_managed_session_initializes_saves_and_logs(tmp_path):
    logdir = str(tmp_path)
    with tf.Graph().as_default():
        gs, w, train = _model()
        sv = tf.train.Supervisor(logdir=logdir)
        with sv.managed_session() as sess:
            # The checkpoint thread saves at once when the services start (at step 0).
            deadline = time.time() + 10
            while tf.train.latest_checkpoint(logdir) is None and time.time() < deadline:
                time.sleep(0.01)
            for _ in range(4):
                sess.run(train)
            assert sess.run(w) == 3.0
        assert sv.should_stop()
        with pytest.raises(RuntimeError, match="closed"):
            sess.run(w)
    assert tf.train.latest_checkpoint(logdir) == os.path.join(logdir, "model.ckpt-0")
    assert os.path.exists(os.path.join(logdir, "graph.pbtxt"))
    events = _events(logdir)
    kinds = [(step, kind) for step, kind, _ in events]
    assert (0, "graph_def") in kinds and (0, "meta_graph_def") in kinds
    assert (0, "session_log", "START") in events
    # The services run on their own threads: their first events come at whatever step training reached.
    for what in [("summary", ("w_value",)), ("summary", ("global_step/sec",)), ("session_log", "CHECKPOINT")]:
        assert what in [e[1:] for e in events]
    assert events[-1][1:] == ("session_log", "STOP")


def test_a_new_supervisor_resumes_from_the_latest_checkpoint(tmp_path):
    logdir = str(tmp_path)
    with tf.Graph().as_default():
        gs, w, train = _model()
        sv = tf.train.Supervisor(logdir=logdir, save_summaries_secs=0, save_model_secs=0)
        with sv.managed_session() as sess:
            for _ in range(3):
                sess.run(train)
            sv.saver.save(sess, sv.save_path, global_step=gs)
    with tf.Graph().as_default():
        gs, w, train = _model()
        # init_op would set w to its initial value: it must not run when restoring.
        sv = tf.train.Supervisor(logdir=logdir, save_summaries_secs=0, save_model_secs=0)
        with sv.managed_session() as sess:
            assert sess.run([gs, w]) == [3, 2.5]


def test_out_of_range_stops_quietly_and_other_errors_are_raised(tmp_path):
    with tf.Graph().as_default():
        _, w, _ = _model()
        sv = tf.train.Supervisor(logdir=str(tmp_path), save_model_secs=0, save_summaries_secs=0)
        with sv.managed_session() as sess:
            sess.run(w)
            raise tf.errors.OutOfRangeError(None, None, "input exhausted")
        assert sv.should_stop()
        with pytest.raises(ValueError, match="boom"):
            with sv.managed_session():
                raise ValueError("boom")


def test_init_feed_dict_init_fn_and_local_init_op():
    with tf.Graph().as_default():
        start = tf.placeholder(tf.float32, [])
        v = tf.Variable(start, name="v")
        local = tf.Variable(5, name="local", collections=[tf.GraphKeys.LOCAL_VARIABLES])
        u = tf.Variable(0, name="u")
        set_u = u.assign(7)
        calls = []

        def init_fn(sess):
            calls.append(sess.run(v))
            sess.run(set_u)

        sv = tf.train.Supervisor(init_op=tf.variables_initializer([v]), init_feed_dict={start: 2.5},
                                 init_fn=init_fn, ready_op=tf.report_uninitialized_variables([v, u]))
        with sv.managed_session() as sess:
            assert sess.run([v, u, local]) == [2.5, 7, 5]
        assert calls == [2.5]


def test_model_not_ready_after_init_is_an_error():
    with tf.Graph().as_default():
        tf.Variable(1.0)
        sv = tf.train.Supervisor(init_op=tf.no_op())
        with pytest.raises(RuntimeError, match="Init operations did not make model ready"):
            with sv.managed_session():
                pass


def test_summary_thread_runs_every_save_summaries_secs(tmp_path):
    logdir = str(tmp_path)
    with tf.Graph().as_default():
        _, _, train = _model()
        sv = tf.train.Supervisor(logdir=logdir, save_summaries_secs=0.05, save_model_secs=0)
        with sv.managed_session() as sess:
            deadline = time.time() + 0.4
            while time.time() < deadline:
                sess.run(train)
                time.sleep(0.01)
    summaries = [e for e in _events(logdir) if e[1] == "summary" and e[2] == ("w_value",)]
    assert len(summaries) >= 3
    steps = [e[0] for e in summaries]
    assert steps == sorted(steps) and steps[-1] > 0


def test_loop_and_summary_computed(tmp_path):
    logdir = str(tmp_path)
    with tf.Graph().as_default():
        gs, _, train = _model()
        sv = tf.train.Supervisor(logdir=logdir, save_summaries_secs=0, save_model_secs=0)
        ticks = []
        with sv.managed_session() as sess:
            sess.run(train)
            sv.loop(0.01, lambda: ticks.append(1))
            time.sleep(0.1)
            sv.summary_computed(sess, tf.Summary(value=[tf.Summary.Value(tag="mine", simple_value=1.0)]))
        assert len(ticks) >= 2
    assert (1, "summary", ("mine",)) in _events(logdir)


def test_non_chief_replicas_wait_and_write_nothing(tmp_path):
    with tf.Graph().as_default():
        with tf.device("/cpu:0"):
            _model()
        sv = tf.train.Supervisor(is_chief=False, logdir=str(tmp_path), recovery_wait_secs=0.01)
        assert (sv.summary_writer, sv.save_path) == (None, None)
        with pytest.raises(RuntimeError, match="Only chief supervisor can start standard services"):
            sv.start_standard_services(None)
        with pytest.raises(tf.errors.DeadlineExceededError, match="Session was not ready"):
            sv.prepare_or_wait_for_session(max_wait_secs=0.05)
        with pytest.raises(RuntimeError, match="Writing a summary requires a summary writer"):
            sv.summary_computed(None, tf.Summary())
    assert os.listdir(str(tmp_path)) == []
    with tf.Graph().as_default():
        tf.Variable(1.0)
        with pytest.raises(ValueError, match="When using replicas, all Variables must have their device set"):
            tf.train.Supervisor(is_chief=False)


def test_supervisor_starts_queue_runners():
    with tf.Graph().as_default():
        queue = tf.FIFOQueue(10, tf.float32)
        counter = tf.Variable(0.0)
        enqueue = queue.enqueue(tf.assign_add(counter, 1.0))
        tf.train.add_queue_runner(tf.train.QueueRunner(queue, [enqueue]))
        dequeue = queue.dequeue()
        sv = tf.train.Supervisor()
        with sv.managed_session() as sess:
            values = [sess.run(dequeue) for _ in range(3)]
        assert np.all(np.diff(values) > 0)
