"""MonitoredTrainingSession, MonitoredSession, SingularMonitoredSession, Scaffold, the session creators and
SessionManager: a classic training loop that checkpoints (TF's V2 format) and writes summaries and resumes
from its directory; hook call order and fetch/feed merging; the ends of a loop (should_stop, OutOfRangeError,
StopIteration, errors); recovery from AbortedError; queue runners under the coordinator."""

import logging
import os
import threading

import numpy as np
import pytest

import tfmini as tf
from tfmini.train import session_manager as session_manager_module
from tfmini.train.monitored_session import _MonitoredSession


@pytest.fixture(autouse=True)
def _close_cached_writers():
    yield
    tf.summary.FileWriterCache.clear()


class RecordingHook(tf.train.SessionRunHook):
    """Records every call it gets (into a list it may share with other hooks)."""

    def __init__(self, name="hook", calls=None, fetches=None, feed_dict=None) -> None:
        self.name = name
        self.calls = [] if calls is None else calls
        self.fetches = fetches
        self.feed_dict = feed_dict
        self.results = []

    def begin(self):
        self.calls.append((self.name, "begin"))

    def after_create_session(self, session, coord):
        assert session.graph.finalized and isinstance(coord, tf.train.Coordinator)
        self.calls.append((self.name, "after_create_session"))

    def before_run(self, run_context):
        self.calls.append((self.name, "before_run"))
        if self.fetches is None and self.feed_dict is None:
            return None
        return tf.train.SessionRunArgs(self.fetches, self.feed_dict)

    def after_run(self, run_context, run_values):
        self.calls.append((self.name, "after_run"))
        self.results.append(run_values.results)

    def end(self, session):
        self.calls.append((self.name, "end"))


def _linear_model():
    """y = x.w fitted by SGD with a global step and a scalar summary of the loss."""
    gs = tf.train.get_or_create_global_step()
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    y = tf.constant([[1.0], [2.0]])
    w = tf.get_variable("w", [2, 1], initializer=tf.zeros_initializer())
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y))
    tf.summary.scalar("loss", loss)
    train = tf.train.GradientDescentOptimizer(0.01).minimize(loss, global_step=gs)
    return gs, w, loss, train


def _events(logdir):
    files = sorted(f for f in os.listdir(logdir) if f.startswith("events.out.tfevents"))
    return [e for f in files for e in tf.train.summary_iterator(os.path.join(logdir, f))]


# ----------------------------------------------------------------------------------------------------------
# The classic loop
# ----------------------------------------------------------------------------------------------------------
def test_training_loop_checkpoints_summaries_and_resumes(tmp_path):
    logdir = str(tmp_path)
    losses = []
    with tf.Graph().as_default():
        gs, w, loss, train = _linear_model()
        with tf.train.MonitoredTrainingSession(checkpoint_dir=logdir, save_summaries_steps=2,
                                               save_checkpoint_steps=4,
                                               hooks=[tf.train.StopAtStepHook(last_step=10)]) as sess:
            while not sess.should_stop():
                losses.append(sess.run([train, loss])[1])
        assert not tf.get_default_graph().finalized  # finalized while the session ran only
    assert len(losses) == 10
    state = tf.train.get_checkpoint_state(logdir)
    assert os.path.basename(state.model_checkpoint_path) == "model.ckpt-10"
    assert [os.path.basename(p) for p in state.all_model_checkpoint_paths] == [
        f"model.ckpt-{s}" for s in (0, 4, 8, 10)]
    for suffix in (".index", ".data-00000-of-00001", ".meta"):
        assert os.path.isfile(os.path.join(logdir, "model.ckpt-10" + suffix))
    assert os.path.isfile(os.path.join(logdir, "graph.pbtxt"))
    saved = dict(tf.train.list_variables(logdir))
    assert saved["global_step"] == [] and saved["w"] == [2, 1]
    w_after_10 = tf.train.load_variable(logdir, "w")

    tf.summary.FileWriterCache.clear()  # the cached writer holds the last events until it flushes or closes
    events = _events(logdir)
    assert events[0].HasField("file_version") and any(e.HasField("graph_def") for e in events)
    assert [e.step for e in events if e.HasField("summary") and e.summary.value[0].tag == "loss"] == [1, 3, 5, 7, 9]
    loss_at_1 = next(e.summary.value[0].simple_value for e in events if e.HasField("summary") and e.step == 1)
    assert loss_at_1 == pytest.approx(losses[0])
    assert [e.step for e in events if e.HasField("session_log") and
            e.session_log.status == tf.SessionLog.CHECKPOINT] == [0, 4, 8, 10]

    # A second session on the same directory resumes from global step 10 and the saved weights.
    with tf.Graph().as_default():
        gs, w, loss, train = _linear_model()
        with tf.train.MonitoredTrainingSession(checkpoint_dir=logdir, save_checkpoint_steps=4,
                                               hooks=[tf.train.StopAtStepHook(num_steps=3)]) as sess:
            assert sess.run(gs) == 10
            np.testing.assert_array_equal(sess.run(w), w_after_10)
            steps = 0
            while not sess.should_stop():
                sess.run(train)
                steps += 1
    assert steps == 3
    assert os.path.basename(tf.train.latest_checkpoint(logdir)) == "model.ckpt-13"


def test_monitored_training_session_default_hooks(tmp_path):
    gs, w, loss, train = _linear_model()
    user = RecordingHook()
    chief_only = RecordingHook("chief")
    sess = tf.train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path), hooks=[user],
                                             chief_only_hooks=[chief_only])
    kinds = [type(h).__name__ for h in sess._hooks]
    assert kinds == ["RecordingHook", "StepCounterHook", "SummarySaverHook", "CheckpointSaverHook", "RecordingHook"]
    assert sess._hooks[0] is chief_only and sess._hooks[-1] is user
    assert sess._hooks[2]._timer._every_steps == 100 and sess._hooks[3]._timer._every_secs == 600
    assert sess._hooks[1]._timer._every_steps == 100
    sess.close()
    with tf.Graph().as_default():
        _linear_model()
        no_dir = tf.train.MonitoredTrainingSession(hooks=[user])
        assert no_dir._hooks == [user]
        no_dir.close()
    with tf.Graph().as_default():
        _linear_model()
        secs = tf.train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path), save_summaries_secs=5,
                                                 save_checkpoint_steps=7, log_step_count_steps=None)
        assert [type(h).__name__ for h in secs._hooks] == ["SummarySaverHook", "CheckpointSaverHook"]
        assert secs._hooks[0]._timer._every_secs == 5 and secs._hooks[0]._timer._every_steps is None
        assert secs._hooks[1]._timer._every_steps == 7 and secs._hooks[1]._timer._every_secs is None
        secs.close()


def test_path_directories_share_one_event_file(tmp_path):
    train = _linear_model()[3]
    with tf.train.MonitoredTrainingSession(checkpoint_dir=tmp_path, summary_dir=tmp_path, save_summaries_steps=1,
                                           hooks=[tf.train.StopAtStepHook(last_step=2)]) as sess:
        while not sess.should_stop():
            sess.run(train)
    tf.summary.FileWriterCache.clear()
    assert len([p for p in os.listdir(tmp_path) if p.startswith("events.out.tfevents")]) == 1
    assert tf.train.latest_checkpoint(tmp_path).endswith("model.ckpt-2")


def test_summary_dir_separate_from_checkpoint_dir(tmp_path):
    ckpt_dir, summary_dir = str(tmp_path / "ckpt"), str(tmp_path / "summaries")
    train = _linear_model()[3]
    with tf.train.MonitoredTrainingSession(checkpoint_dir=ckpt_dir, summary_dir=summary_dir, save_summaries_steps=1,
                                           hooks=[tf.train.StopAtStepHook(last_step=2)]) as sess:
        while not sess.should_stop():
            sess.run(train)
    tf.summary.FileWriterCache.clear()
    assert [e.step for e in _events(summary_dir) if e.HasField("summary")] == [1, 2]
    assert tf.train.latest_checkpoint(ckpt_dir).endswith("model.ckpt-2")


# ----------------------------------------------------------------------------------------------------------
# Scaffold
# ----------------------------------------------------------------------------------------------------------
def test_scaffold_finalize_builds_defaults_and_finalizes_the_graph():
    _linear_model()
    tf.Variable(0, collections=[tf.GraphKeys.LOCAL_VARIABLES], name="local_counter")
    scaffold = tf.train.Scaffold()
    assert scaffold.init_op is None and scaffold.saver is None
    assert scaffold.finalize() is scaffold
    graph = tf.get_default_graph()
    assert graph.finalized
    assert tf.get_collection(tf.GraphKeys.INIT_OP) == [scaffold.init_op]
    assert tf.get_collection(tf.GraphKeys.READY_OP) == [scaffold.ready_op]
    assert tf.get_collection(tf.GraphKeys.READY_FOR_LOCAL_INIT_OP) == [scaffold.ready_for_local_init_op]
    assert tf.get_collection(tf.GraphKeys.LOCAL_INIT_OP) == [scaffold.local_init_op]
    assert tf.get_collection(tf.GraphKeys.SUMMARY_OP) == [scaffold.summary_op]
    assert tf.get_collection(tf.GraphKeys.SAVERS) == [scaffold.saver]
    assert scaffold.ready_op.dtype == tf.string
    graph._unsafe_unfinalize()
    with tf.Session() as sess:
        assert sorted(sess.run(scaffold.ready_op)) == [b"global_step", b"local_counter", b"w"]
        assert list(sess.run(scaffold.ready_for_local_init_op)) == [b"global_step", b"w"]
        sess.run(scaffold.init_op)
        assert list(sess.run(scaffold.ready_op)) == [b"local_counter"]
        assert sess.run(scaffold.ready_for_local_init_op).size == 0
        sess.run(scaffold.local_init_op)
        assert sess.run(scaffold.ready_op).size == 0
    # A second scaffold takes the ops from the collections.
    again = tf.train.Scaffold().finalize()
    assert again.init_op is scaffold.init_op and again.saver is scaffold.saver


def test_scaffold_collection_with_two_items_and_copy():
    tf.Variable(1.0)
    tf.add_to_collection(tf.GraphKeys.INIT_OP, tf.no_op())
    tf.add_to_collection(tf.GraphKeys.INIT_OP, tf.no_op())
    with pytest.raises(RuntimeError, match='More than one item in the collection "init_op"'):
        tf.train.Scaffold().finalize()
    with pytest.raises(TypeError, match="copy_from_scaffold is not a Scaffold instance"):
        tf.train.Scaffold(copy_from_scaffold="scaffold")
    op = tf.no_op(name="mine")
    calls = []
    base = tf.train.Scaffold(init_op=op, init_feed_dict={"a": 1}, init_fn=lambda scaffold, sess: calls.append(scaffold))
    copy = tf.train.Scaffold(copy_from_scaffold=base, ready_op=tf.constant([], tf.string))
    assert copy.init_op is op and copy.init_feed_dict == {"a": 1} and copy.ready_op is not None
    copy.init_fn("sess")
    assert calls == [copy]  # the copied init_fn receives the new scaffold


def test_scaffold_init_feed_dict_and_init_fn():
    init_value = tf.placeholder(tf.float32, [])
    v = tf.Variable(init_value, name="v")
    u = tf.Variable(0.0, name="u")
    assign_u = u.assign(7.0)
    seen = []

    def init_fn(scaffold, sess):
        seen.append(scaffold)
        sess.run(assign_u)

    scaffold = tf.train.Scaffold(init_feed_dict={init_value: 3.0}, init_fn=init_fn)
    with tf.train.MonitoredSession(tf.train.ChiefSessionCreator(scaffold=scaffold)) as sess:
        assert sess.run([v, u]) == [3.0, 7.0]
    assert seen == [scaffold]


# ----------------------------------------------------------------------------------------------------------
# Hooks around runs
# ----------------------------------------------------------------------------------------------------------
def test_hook_call_order():
    v = tf.Variable(1.0)
    calls = []
    first, second = RecordingHook("a", calls), RecordingHook("b", calls)
    with tf.train.MonitoredSession(hooks=[first, second]) as sess:
        assert calls == [("a", "begin"), ("b", "begin"), ("a", "after_create_session"),
                         ("b", "after_create_session")]
        sess.run(v)
    assert calls[4:] == [("a", "before_run"), ("b", "before_run"), ("a", "after_run"), ("b", "after_run"),
                         ("a", "end"), ("b", "end")]


def test_hooks_fetches_and_feeds_join_the_call():
    x = tf.placeholder(tf.float32, [], name="x")
    y = tf.placeholder(tf.float32, [], name="y")
    total = x + y
    fetching = RecordingHook(fetches={"double": total * 2})
    feeding = RecordingHook(feed_dict={y: 10.0})
    with tf.train.MonitoredSession(hooks=[fetching, feeding]) as sess:
        assert sess.run(total, feed_dict={x: 1.0}) == 11.0
        assert sess.run([total], feed_dict={x: 2.0}) == [12.0]
    assert fetching.results == [{"double": 22.0}, {"double": 24.0}]
    assert feeding.results == [None, None]


def test_feed_conflicts_raise():
    x = tf.placeholder(tf.float32, [])
    with tf.train.MonitoredSession(hooks=[RecordingHook(feed_dict={x: 1.0}), RecordingHook(feed_dict={x: 2.0})]) \
            as sess:
        with pytest.raises(RuntimeError, match="Same tensor is fed by two hooks"):
            sess.run(x)
    tf.get_default_graph()._unsafe_unfinalize()
    with tf.train.MonitoredSession(hooks=[RecordingHook(feed_dict={x: 1.0})]) as sess:
        with pytest.raises(RuntimeError, match="Same tensor is fed by a SessionRunHook and user"):
            sess.run(x, feed_dict={x: 3.0})
        assert sess.run(x) == 1.0


def test_hook_run_options_reach_the_session_and_its_metadata():
    a = tf.constant([1.0, 2.0])
    b = tf.reduce_sum(a * 3.0)

    class TracingHook(tf.train.SessionRunHook):
        def before_run(self, run_context):
            return tf.train.SessionRunArgs(None, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE))

        def after_run(self, run_context, run_values):
            self.trace_level = run_values.options.trace_level
            self.nodes = [n.node_name for d in run_values.run_metadata.step_stats.dev_stats for n in d.node_stats]

    hook = TracingHook()
    with tf.train.MonitoredSession(hooks=[hook]) as sess:
        assert sess.run(b) == 9.0
    assert hook.trace_level == tf.RunOptions.FULL_TRACE and hook.nodes


def test_stop_requested_by_a_hook_and_run_after_stop():
    gs = tf.train.get_or_create_global_step()
    inc = tf.assign_add(gs, 1)
    with tf.train.MonitoredSession(hooks=[tf.train.StopAtStepHook(last_step=3)]) as sess:
        runs = 0
        while not sess.should_stop():
            sess.run(inc)
            runs += 1
        assert runs == 3
        with pytest.raises(RuntimeError, match="Run called even after should_stop requested"):
            sess.run(inc)


def test_session_graph_and_closing_twice():
    v = tf.Variable(2.0)
    sess = tf.train.MonitoredSession()
    assert sess.graph is tf.get_default_graph() and not sess.should_stop()
    assert sess.run(v) == 2.0
    sess.close()
    assert sess.should_stop()
    with pytest.raises(RuntimeError, match="Session is already closed"):
        sess.close()


# ----------------------------------------------------------------------------------------------------------
# The ends of a loop
# ----------------------------------------------------------------------------------------------------------
def test_out_of_range_from_a_dataset_ends_the_loop_and_runs_end():
    total = tf.Variable(0, dtype=tf.int64)
    it = tf.data.Dataset.range(5).make_one_shot_iterator()
    add = tf.assign_add(total, it.get_next())
    final = tf.train.FinalOpsHook(total)
    recording = RecordingHook()
    runs = 0
    with tf.train.MonitoredSession(hooks=[final, recording]) as sess:
        while not sess.should_stop():
            sess.run(add)
            runs += 1
    assert runs == 5  # the sixth run raised OutOfRangeError, which ended the with block
    assert final.final_ops_values == 10
    assert recording.calls[-1] == ("hook", "end")


def test_stop_iteration_from_a_step_fn_ends_the_loop():
    v = tf.Variable(0)
    inc = tf.assign_add(v, 1)
    hook = RecordingHook()
    with tf.train.MonitoredSession(hooks=[hook]) as sess:
        def step_fn(step_context):
            value = step_context.run_with_hooks(inc)
            if value == 3:
                step_context.request_stop()
            return value
        values = []
        while not sess.should_stop():
            values.append(sess.run_step_fn(step_fn))
    assert values == [1, 2] and hook.calls.count(("hook", "after_run")) == 3 and hook.calls[-1] == ("hook", "end")


def test_run_step_fn_raw_session_and_signature():
    v = tf.Variable(5.0)
    hook = RecordingHook()
    with tf.train.MonitoredSession(hooks=[hook]) as sess:
        assert sess.run_step_fn(lambda step_context: step_context.session.run(v)) == 5.0
        assert ("hook", "before_run") not in hook.calls  # the raw session bypasses the hooks
        with pytest.raises(ValueError, match="`step_fn` may either have one `step_context` argument"):
            sess.run_step_fn(lambda ctx, extra: None)


def test_errors_propagate_and_skip_end():
    x = tf.placeholder(tf.float32, [2])
    hook = RecordingHook()
    with pytest.raises(ValueError):
        with tf.train.MonitoredSession(hooks=[hook]) as sess:
            sess.run(x, feed_dict={x: [1.0, 2.0, 3.0]})
    assert ("hook", "end") not in hook.calls
    assert not tf.get_default_graph().finalized


def test_session_stays_usable_after_a_failed_run():
    x = tf.placeholder(tf.float32, [2])
    doubled = x * 2
    with tf.train.MonitoredSession(hooks=[RecordingHook(fetches=doubled)]) as sess:
        with pytest.raises(ValueError, match="shape"):
            sess.run(x, feed_dict={x: [1.0, 2.0, 3.0]})
        with pytest.raises(tf.errors.InvalidArgumentError, match="must feed a value for placeholder"):
            sess.run(x)
        assert not sess.should_stop()
        assert list(sess.run(x, feed_dict={x: [1.0, 2.0]})) == [1.0, 2.0]


def test_callers_options_and_feeds_are_not_changed():
    x = tf.placeholder(tf.float32, [])
    y = tf.placeholder(tf.float32, [])

    class OptionsHook(tf.train.SessionRunHook):
        def before_run(self, run_context):
            return tf.train.SessionRunArgs(None, feed_dict={y: 2.0},
                                           options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE))

    options = tf.RunOptions(timeout_in_ms=60000)
    feeds = {x: 1.0}
    metadata = tf.RunMetadata()
    total = x + y
    with tf.train.MonitoredSession(hooks=[OptionsHook()]) as sess:
        assert sess.run(total, feed_dict=feeds, options=options, run_metadata=metadata) == 3.0
    assert options == tf.RunOptions(timeout_in_ms=60000) and feeds == {x: 1.0}
    assert metadata.step_stats.dev_stats  # the hook's trace request filled the caller's metadata


def test_nan_loss_in_a_training_session(tmp_path):
    loss = tf.Variable(1.0) * tf.constant(np.nan)
    with pytest.raises(tf.train.NanLossDuringTrainingError):
        with tf.train.MonitoredTrainingSession(hooks=[tf.train.NanTensorHook(loss)]) as sess:
            sess.run(loss)


def test_user_graph_that_was_finalized_stays_finalized():
    tf.Variable(1.0)
    tf.train.Scaffold().finalize()
    with tf.train.MonitoredSession() as sess:
        sess.run(tf.get_collection(tf.GraphKeys.READY_OP))
    assert tf.get_default_graph().finalized


# ----------------------------------------------------------------------------------------------------------
# Recovery
# ----------------------------------------------------------------------------------------------------------
class AbortOnceSession:
    """A session whose run raises AbortedError once, at the `abort_at`-th call that comes through the hooks
    with hook fetches (as a preempted worker's would); everything else goes to the real session."""

    def __init__(self, sess, abort_at: int) -> None:
        self._sess = sess
        self._abort_at = abort_at
        self._calls = 0

    def __getattr__(self, name):
        return getattr(self._sess, name)

    def run(self, fetches, *args, **kwargs):
        self._calls += isinstance(fetches, dict) and "caller" in fetches
        if self._calls == self._abort_at:
            self._calls += 1
            raise tf.errors.AbortedError(None, None, "Connection to the parameter server was lost")
        return self._sess.run(fetches, *args, **kwargs)


class FlakyCreator(tf.train.SessionCreator):
    def __init__(self, inner, abort_at: int) -> None:
        self._inner = inner
        self._abort_at = abort_at
        self.created = 0

    def create_session(self):
        self.created += 1
        sess = self._inner.create_session()
        return AbortOnceSession(sess, self._abort_at) if self.created == 1 else sess


def test_aborted_run_recreates_the_session_from_the_checkpoint(tmp_path, caplog):
    gs = tf.train.get_or_create_global_step()
    v = tf.Variable(0.0, name="v")
    step = tf.group(tf.assign_add(gs, 1), tf.assign_add(v, 1.0))
    scaffold = tf.train.Scaffold()
    saver_hook = tf.train.CheckpointSaverHook(str(tmp_path), save_steps=2, scaffold=scaffold)
    hook = RecordingHook()
    creator = FlakyCreator(tf.train.ChiefSessionCreator(scaffold=scaffold, checkpoint_dir=str(tmp_path)), 7)
    caplog.set_level(logging.INFO, logger="tfmini")
    values = []
    with tf.train.MonitoredSession(creator, hooks=[saver_hook, hook]) as sess:
        # Two runs per step: the 7th, the 4th step's training run, is aborted and retried in a new session.
        for _ in range(4):
            sess.run(step)
            values.append(sess.run([gs, v]))
        assert creator.created == 2
        assert hook.calls.count(("hook", "after_create_session")) == 2
    # The new session restored the checkpoint of step 2: the step after it is lost, the retried one counts.
    assert values == [[1, 1.0], [2, 2.0], [3, 3.0], [3, 3.0]]
    assert "An error was raised. This may be due to a preemption" in caplog.text


def test_singular_monitored_session_does_not_recover(tmp_path):
    v = tf.Variable(3.0)
    with tf.train.SingularMonitoredSession() as sess:
        raw = sess.raw_session()
        assert isinstance(raw, tf.Session) and raw.run(v) == 3.0
        assert sess.run(v) == 3.0
    assert sess.raw_session() is None

    tf.get_default_graph()._unsafe_unfinalize()
    creator = FlakyCreator(tf.train.ChiefSessionCreator(), 1)
    # SingularMonitoredSession's own construction (no recovery) over a session creator that aborts.
    mon = _MonitoredSession(creator, [RecordingHook(fetches=v)], should_recover=False)
    with pytest.raises(tf.errors.AbortedError):
        mon.run(v)
    mon.close()


def test_singular_session_restores_a_given_checkpoint(tmp_path):
    v = tf.Variable(1.0, name="v")
    saver = tf.train.Saver()
    with tf.Session() as s:
        s.run(v.initializer)
        s.run(v.assign(42.0))
        path = saver.save(s, str(tmp_path / "model"))
    with tf.train.SingularMonitoredSession(checkpoint_filename_with_path=path) as sess:
        assert sess.run(v) == 42.0


# ----------------------------------------------------------------------------------------------------------
# Queue runners and the coordinator
# ----------------------------------------------------------------------------------------------------------
def test_queue_runners_start_under_the_coordinator_and_end_the_loop():
    producer = tf.train.range_input_producer(6, num_epochs=1, shuffle=False)
    value = producer.dequeue()
    seen = []
    with tf.train.MonitoredSession() as sess:
        while not sess.should_stop():
            seen.append(int(sess.run(value)))
    assert seen == [0, 1, 2, 3, 4, 5]


def test_queue_runner_error_stops_the_loop_and_is_raised_at_close():
    q = tf.FIFOQueue(10, [tf.float32], shapes=[[]])
    bad = tf.check_numerics(tf.constant(np.nan), "bad input")
    tf.train.add_queue_runner(tf.train.QueueRunner(q, [q.enqueue([bad])]))
    v = tf.Variable(1.0)

    class KeepCoordinator(tf.train.SessionRunHook):
        def after_create_session(self, session, coord):
            self.coord = coord

    hook = KeepCoordinator()
    with pytest.raises(tf.errors.InvalidArgumentError, match="bad input"):
        with tf.train.MonitoredSession(hooks=[hook]) as sess:
            assert hook.coord.wait_for_stop(10)
            assert sess.should_stop()
            sess.run(v)  # the session itself still runs until closed


def test_a_hook_failing_after_create_session_stops_the_threads_and_closes_the_session():
    q = tf.FIFOQueue(4, tf.float32, shapes=[])
    tf.train.add_queue_runner(tf.train.QueueRunner(q, [q.enqueue(1.0)]))
    x = q.dequeue()
    created = []

    class KeepSession(tf.train.SessionCreator):
        def create_session(self):
            created.append(tf.train.ChiefSessionCreator().create_session())
            return created[-1]

    class BadAfterCreate(tf.train.SessionRunHook):
        def after_create_session(self, session, coord):
            self.coord = coord
            raise ValueError("after_create failed")

    hook = BadAfterCreate()
    with pytest.raises(ValueError, match="after_create failed"):
        with tf.train.MonitoredSession(session_creator=KeepSession(), hooks=[hook]) as sess:
            sess.run(x)
    assert hook.coord.should_stop()
    assert not [t for t in threading.enumerate() if t.name.startswith("QueueRunnerThread")]
    with pytest.raises(RuntimeError, match="closed Session"):
        created[0].run(x)


def test_coordinator_stop_request_stops_the_loop():
    v = tf.Variable(1.0)

    class StopAfterCreate(tf.train.SessionRunHook):
        def after_create_session(self, session, coord):
            self.coord = coord

    hook = StopAfterCreate()
    with tf.train.MonitoredSession(hooks=[hook]) as sess:
        sess.run(v)
        assert not sess.should_stop()
        hook.coord.request_stop()
        assert sess.should_stop()


# ----------------------------------------------------------------------------------------------------------
# Session creators and SessionManager
# ----------------------------------------------------------------------------------------------------------
def test_worker_session_creator_waits_for_a_ready_model():
    tf.Variable(1.0)
    with pytest.raises(tf.errors.DeadlineExceededError, match="Session was not ready after waiting 0 secs"):
        tf.train.MonitoredTrainingSession(is_chief=False, max_wait_secs=0)
    tf.get_default_graph()._unsafe_unfinalize()


def test_worker_session_runs_its_local_init_op():
    with tf.Graph().as_default():
        local = tf.Variable(5, collections=[tf.GraphKeys.LOCAL_VARIABLES])
        hook = RecordingHook()
        with tf.train.MonitoredTrainingSession(is_chief=False, hooks=[hook], max_wait_secs=0) as sess:
            assert sess.run(local) == 5
        assert hook.calls[0] == ("hook", "begin")


def test_session_manager_prepare_and_recover(tmp_path):
    v = tf.Variable(1.0, name="v")
    saver = tf.train.Saver()
    ready = tf.report_uninitialized_variables()
    manager = tf.train.SessionManager(ready_op=ready)
    with pytest.raises(RuntimeError, match="Model is not initialized and no init_op or init_fn"):
        manager.prepare_session("")
    with pytest.raises(RuntimeError, match="Init operations did not make model ready"):
        manager.prepare_session("", init_fn=lambda sess: None)
    sess = manager.prepare_session("", init_op=v.initializer)
    sess.run(v.assign(9.0))
    saver.save(sess, str(tmp_path / "model"), global_step=1)
    sess.close()

    sess, restored = manager.recover_session("", saver=saver, checkpoint_dir=str(tmp_path / "empty"))
    assert not restored
    sess.close()
    sess, restored = manager.recover_session("", saver=saver, checkpoint_dir=str(tmp_path))
    assert restored and sess.run(v) == 9.0
    sess.close()
    sess = manager.prepare_session("", init_op=v.initializer, saver=saver, checkpoint_dir=str(tmp_path))
    assert sess.run(v) == 9.0  # restored, so the init op did not run
    assert saver.last_checkpoints == [str(tmp_path / "model-1")]
    sess.close()
    with pytest.raises(ValueError, match="Can not provide both checkpoint_dir and checkpoint_filename_with_path"):
        manager.prepare_session("", init_op=v.initializer, saver=saver, checkpoint_dir=str(tmp_path),
                                checkpoint_filename_with_path=str(tmp_path / "model-1"))
    with pytest.raises(ValueError, match="If you pass a ready_for_local_init_op you must also pass a local_init_op"):
        tf.train.SessionManager(ready_for_local_init_op=ready)


def test_session_manager_wait_for_session():
    v = tf.Variable(1.0)
    manager = tf.train.SessionManager(ready_op=tf.report_uninitialized_variables(), recovery_wait_secs=0.001)
    with pytest.raises(tf.errors.DeadlineExceededError):
        manager.wait_for_session("", max_wait_secs=0.003)
    ready_manager = tf.train.SessionManager(ready_op=tf.constant([], tf.string))
    sess = ready_manager.wait_for_session("")
    assert sess.graph is tf.get_default_graph()
    sess.close()
    assert v is not None


def test_sessions_come_from_the_registered_factory(monkeypatch):
    tf.Variable(1.0)
    created = []

    def factory(target, graph=None, config=None):
        created.append((target, config))
        return tf.Session(target, graph=graph, config=config)

    monkeypatch.setattr(session_manager_module, "_session_factory", [factory])
    config = tf.ConfigProto(inter_op_parallelism_threads=1)
    with tf.train.MonitoredTrainingSession(config=config):
        pass
    assert created == [("", config)]
    monkeypatch.setattr(session_manager_module, "_session_factory", [])
    tf.get_default_graph()._unsafe_unfinalize()
    with pytest.raises(RuntimeError, match="No session class is registered"):
        tf.train.MonitoredSession()
