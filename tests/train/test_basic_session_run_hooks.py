"""The standard session-run hooks: each hook's timing rules (steps, and seconds on a fake clock), what it
fetches, feeds, logs, saves and writes, and its errors. Hooks run in a _HookedSession over a plain Session, as
TF's own hook tests drive them, or in a MonitoredSession where the session's lifetime matters."""

import json
import logging
import os

import numpy as np
import pytest

import tfmini as tf
from tfmini.train import basic_session_run_hooks as hooks_module
from tfmini.train.monitored_session import _HookedSession


class FakeClock:
    """Stands in for the `time` module of the hooks: `time()` returns what the test sets; `sleep` runs a
    callback (so a wait loop can make progress) and advances the clock."""

    def __init__(self, now: float = 1000.0, on_sleep=None) -> None:
        self.now = now
        self.on_sleep = on_sleep
        self.sleeps = 0

    def time(self) -> float:
        return self.now

    def sleep(self, secs: float) -> None:
        self.sleeps += 1
        self.now += secs
        if self.on_sleep:
            self.on_sleep()


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(hooks_module, "time", fake)
    return fake


@pytest.fixture(autouse=True)
def _close_cached_writers():
    yield
    tf.summary.FileWriterCache.clear()


class RecordingWriter:
    """A summary writer that keeps what it is given, in order."""

    def __init__(self) -> None:
        self.summaries: list[tuple[int, tf.Summary]] = []
        self.session_logs: list[tuple[int, int]] = []
        self.flushes = 0

    def add_summary(self, summary, global_step=None) -> None:
        if isinstance(summary, bytes):
            summary = tf.Summary.FromString(summary)
        self.summaries.append((global_step, summary))

    def add_session_log(self, session_log, global_step=None) -> None:
        self.session_logs.append((global_step, session_log.status))

    def flush(self) -> None:
        self.flushes += 1


def _step_graph():
    """A global step and an op incrementing it."""
    gs = tf.train.get_or_create_global_step()
    return gs, tf.assign_add(gs, 1)


def _hooked(sess, hooks):
    for h in hooks:
        h.begin()
    sess.run(tf.global_variables_initializer())
    for h in hooks:
        h.after_create_session(sess, None)
    return _HookedSession(sess, hooks)


# ----------------------------------------------------------------------------------------------------------
# SecondOrStepTimer
# ----------------------------------------------------------------------------------------------------------
def test_timer_needs_exactly_one_of_secs_and_steps():
    with pytest.raises(ValueError, match="Either every_secs or every_steps"):
        tf.train.SecondOrStepTimer()
    with pytest.raises(ValueError, match="Can not provide both"):
        tf.train.SecondOrStepTimer(every_secs=1, every_steps=1)


def test_timer_every_steps_triggers_first_then_every_n():
    timer = tf.train.SecondOrStepTimer(every_steps=3)
    assert timer.should_trigger_for_step(5) and timer.last_triggered_step() is None
    assert timer.update_last_triggered_step(5) == (None, None)
    assert [s for s in range(5, 12) if timer.should_trigger_for_step(s)] == [8, 9, 10, 11]
    assert not timer.should_trigger_for_step(5)  # never twice at the same step


def test_timer_every_secs_uses_the_clock(clock):
    timer = tf.train.SecondOrStepTimer(every_secs=2.0)
    timer.update_last_triggered_step(0)
    clock.now += 1.9
    assert not timer.should_trigger_for_step(100)
    clock.now += 0.1
    assert timer.should_trigger_for_step(100)
    elapsed_secs, elapsed_steps = timer.update_last_triggered_step(7)
    assert elapsed_secs == pytest.approx(2.0) and elapsed_steps == 7
    timer.reset()
    assert timer.last_triggered_step() is None and timer.should_trigger_for_step(7)


# ----------------------------------------------------------------------------------------------------------
# LoggingTensorHook
# ----------------------------------------------------------------------------------------------------------
def test_logging_hook_argument_errors():
    t = tf.constant(1.0)
    with pytest.raises(ValueError, match="exactly one of every_n_iter and every_n_secs"):
        tf.train.LoggingTensorHook([t])
    with pytest.raises(ValueError, match="exactly one of every_n_iter and every_n_secs"):
        tf.train.LoggingTensorHook([t], every_n_iter=1, every_n_secs=1)
    with pytest.raises(ValueError, match="invalid every_n_iter=0"):
        tf.train.LoggingTensorHook([t], every_n_iter=0)


def test_logging_hook_every_n_iter_logs_tags_and_values(sess, caplog):
    gs, inc = _step_graph()
    a = tf.constant(2.5, name="a")
    hook = tf.train.LoggingTensorHook({"value_a": a, "step": gs}, every_n_iter=3)
    mon = _hooked(sess, [hook])
    caplog.set_level(logging.INFO, logger="tfmini")
    for _ in range(7):
        mon.run(inc)
    lines = [r.getMessage() for r in caplog.records if r.name == "tfmini" and "value_a" in r.getMessage()]
    # Iterations 0, 3 and 6 log (tags sorted); the step is read in the same run as its increment.
    assert len(lines) == 3
    assert lines[0] == f"step = {lines[0].split(',')[0].split('= ')[1]}, value_a = 2.5"
    assert lines[1].startswith("step = ") and lines[1].endswith(" sec)") and "value_a = 2.5" in lines[1]


def test_logging_hook_names_list_order_and_formatter(sess, caplog):
    a = tf.constant([1.0, 2.0], name="a")
    tf.constant(3, name="b")
    hook = tf.train.LoggingTensorHook(["b", "a:0"], every_n_iter=1)
    mon = _hooked(sess, [hook])
    caplog.set_level(logging.INFO, logger="tfmini")
    mon.run(a)
    assert caplog.records[-1].getMessage() == "b = 3, a:0 = [1. 2.]"
    caplog.clear()
    hook = tf.train.LoggingTensorHook({"x": a}, every_n_iter=1, formatter=lambda v: f"x sums to {v['x'].sum()}")
    mon = _hooked(sess, [hook])
    mon.run(a)
    assert caplog.records[-1].getMessage() == "x sums to 3.0"


def test_logging_hook_ambiguous_op_name_and_foreign_graph():
    a, b = tf.split(tf.constant([1.0, 2.0]), 2, name="halves")
    with pytest.raises(ValueError, match="ambiguous"):
        tf.train.LoggingTensorHook(["halves"], every_n_iter=1).begin()
    with tf.Graph().as_default():
        other = tf.constant(1.0)
    with pytest.raises(ValueError, match="graph attribute that is equal to current graph"):
        tf.train.LoggingTensorHook([other], every_n_iter=1).begin()


def test_logging_hook_every_n_secs_follows_the_clock(sess, caplog, clock):
    a = tf.constant(1.0, name="a")
    hook = tf.train.LoggingTensorHook({"a": a}, every_n_secs=10)
    mon = _hooked(sess, [hook])
    caplog.set_level(logging.INFO, logger="tfmini")
    mon.run(a)
    clock.now += 5
    mon.run(a)
    clock.now += 5
    mon.run(a)
    messages = [r.getMessage() for r in caplog.records if r.name == "tfmini"]
    assert messages == ["a = 1.0", "a = 1.0 (10.000 sec)"]


def test_logging_hook_at_end_only(sess, caplog):
    v = tf.Variable(1.0, name="v")
    add = tf.assign_add(v, 1.0)
    hook = tf.train.LoggingTensorHook({"v": v}, at_end=True)
    mon = _hooked(sess, [hook])
    caplog.set_level(logging.INFO, logger="tfmini")
    for _ in range(3):
        mon.run(add)
    assert not [r for r in caplog.records if r.name == "tfmini"]
    hook.end(sess)
    assert caplog.records[-1].getMessage() == "v = 4.0"


# ----------------------------------------------------------------------------------------------------------
# StopAtStepHook
# ----------------------------------------------------------------------------------------------------------
def test_stop_at_step_argument_errors_and_missing_global_step():
    with pytest.raises(ValueError, match="One of num_steps or last_step"):
        tf.train.StopAtStepHook()
    with pytest.raises(ValueError, match="Only one of num_steps or last_step"):
        tf.train.StopAtStepHook(num_steps=1, last_step=2)
    with pytest.raises(RuntimeError, match="Global step should be created to use StopAtStepHook"):
        tf.train.StopAtStepHook(num_steps=1).begin()


def test_stop_at_step_last_step(sess):
    gs, inc = _step_graph()
    mon = _hooked(sess, [tf.train.StopAtStepHook(last_step=5)])
    runs = 0
    while not mon.should_stop():
        mon.run(inc)
        runs += 1
    assert runs == 5 and sess.run(gs) == 5
    with pytest.raises(RuntimeError, match="Run called even after should_stop requested"):
        mon.run(inc)


def test_stop_at_step_num_steps_counts_from_the_session_start(sess):
    gs, inc = _step_graph()
    hook = tf.train.StopAtStepHook(num_steps=4)
    hook.begin()
    sess.run(tf.global_variables_initializer())
    sess.run(tf.assign(gs, 10))
    hook.after_create_session(sess, None)
    mon = _HookedSession(sess, [hook])
    while not mon.should_stop():
        mon.run(inc)
    assert sess.run(gs) == 14


def test_stop_at_step_steps_without_increment_do_not_stop(sess):
    gs, inc = _step_graph()
    mon = _hooked(sess, [tf.train.StopAtStepHook(last_step=2)])
    for _ in range(5):
        mon.run(gs)  # reads only: the global step stays 0
    assert not mon.should_stop()
    mon.run(inc)
    mon.run(inc)
    assert mon.should_stop()


# ----------------------------------------------------------------------------------------------------------
# NanTensorHook
# ----------------------------------------------------------------------------------------------------------
def test_nan_hook_raises_on_nan_loss(sess, caplog):
    x = tf.placeholder(tf.float32, [])
    mon = _hooked(sess, [tf.train.NanTensorHook(x)])
    mon.run(x, {x: 1.0})
    with pytest.raises(tf.train.NanLossDuringTrainingError, match="NaN loss during training"):
        mon.run(x, {x: np.nan})
    assert "Model diverged with loss = NaN." in caplog.text
    assert str(tf.train.NanLossDuringTrainingError()) == "NaN loss during training."


def test_nan_hook_without_failing_requests_stop(sess, caplog):
    x = tf.placeholder(tf.float32, [])
    mon = _hooked(sess, [tf.train.NanTensorHook(x, fail_on_nan_loss=False)])
    mon.run(x, {x: 2.0})
    assert not mon.should_stop()
    mon.run(x, {x: np.nan})
    assert mon.should_stop()
    assert [r.levelname for r in caplog.records if "diverged" in r.getMessage()] == ["WARNING"]


# ----------------------------------------------------------------------------------------------------------
# CheckpointSaverHook
# ----------------------------------------------------------------------------------------------------------
class RecordingListener(tf.train.CheckpointSaverListener):
    def __init__(self, stop_after_step=None) -> None:
        self.calls: list = []
        self._stop_after_step = stop_after_step

    def begin(self):
        self.calls.append(("begin",))

    def before_save(self, session, global_step_value):
        self.calls.append(("before_save", global_step_value))

    def after_save(self, session, global_step_value):
        self.calls.append(("after_save", global_step_value))
        return self._stop_after_step is not None and global_step_value >= self._stop_after_step

    def end(self, session, global_step_value):
        self.calls.append(("end", global_step_value))


def test_checkpoint_hook_argument_errors(tmp_path):
    saver_graph = tf.Graph()
    with saver_graph.as_default():
        tf.Variable(1.0)
        saver = tf.train.Saver()
    with pytest.raises(ValueError, match="You cannot provide both saver and scaffold"):
        tf.train.CheckpointSaverHook(str(tmp_path), save_steps=1, saver=saver, scaffold=tf.train.Scaffold())
    with pytest.raises(ValueError, match="Either every_secs or every_steps"):
        tf.train.CheckpointSaverHook(str(tmp_path))
    with pytest.raises(RuntimeError, match="Global step should be created to use CheckpointSaverHook"):
        tf.train.CheckpointSaverHook(str(tmp_path), save_steps=1).begin()


def test_checkpoint_hook_without_a_saver_in_the_collection(sess, tmp_path):
    _step_graph()
    hook = tf.train.CheckpointSaverHook(str(tmp_path), save_steps=1)
    hook.begin()
    sess.run(tf.global_variables_initializer())
    with pytest.raises(RuntimeError, match="No items in collection savers"):
        hook.after_create_session(sess, None)


def test_checkpoint_hook_every_n_steps_listeners_and_files(sess, tmp_path):
    gs, inc = _step_graph()
    w = tf.Variable(0.0, name="w")
    step_op = tf.group(inc, tf.assign_add(w, 0.5))
    saver = tf.train.Saver()
    listener = RecordingListener()
    hook = tf.train.CheckpointSaverHook(str(tmp_path), save_steps=2, saver=saver, listeners=[listener])
    mon = _hooked(sess, [hook])
    for _ in range(5):
        mon.run(step_op)
    hook.end(sess)
    assert listener.calls == [("begin",)] + [c for s in (0, 2, 4, 5) for c in (("before_save", s),
                                                                              ("after_save", s))] + [("end", 5)]
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert state.model_checkpoint_path == os.path.join(str(tmp_path), "model.ckpt-5")
    assert [os.path.basename(p) for p in state.all_model_checkpoint_paths] == [
        "model.ckpt-0", "model.ckpt-2", "model.ckpt-4", "model.ckpt-5"]
    assert tf.train.load_variable(str(tmp_path), "w") == 2.5
    assert tf.train.load_variable(os.path.join(str(tmp_path), "model.ckpt-2"), "global_step") == 2
    assert os.path.isfile(tmp_path / "graph.pbtxt") and os.path.isfile(tmp_path / "model.ckpt-4.meta")
    tf.summary.FileWriterCache.clear()
    (events,) = [p for p in os.listdir(tmp_path) if p.startswith("events.out.tfevents")]
    logs = [(e.step, e.session_log.checkpoint_path) for e in tf.train.summary_iterator(str(tmp_path / events))
            if e.HasField("session_log")]
    assert logs == [(s, os.path.join(str(tmp_path), "model.ckpt")) for s in (0, 2, 4, 5)]


def test_checkpoint_hook_end_skips_a_step_already_saved(sess, tmp_path):
    gs, inc = _step_graph()
    listener = RecordingListener()
    hook = tf.train.CheckpointSaverHook(str(tmp_path), save_steps=2, saver=tf.train.Saver(), listeners=[listener])
    mon = _hooked(sess, [hook])
    mon.run(inc)
    mon.run(inc)
    hook.end(sess)
    assert [c for c in listener.calls if c[0] == "before_save"] == [("before_save", 0), ("before_save", 2)]


def test_checkpoint_hook_every_n_secs(sess, tmp_path, clock):
    gs, inc = _step_graph()
    listener = RecordingListener()
    hook = tf.train.CheckpointSaverHook(str(tmp_path), save_secs=60, saver=tf.train.Saver(), listeners=[listener])
    mon = _hooked(sess, [hook])
    mon.run(inc)
    clock.now += 30
    mon.run(inc)
    clock.now += 30
    mon.run(inc)
    mon.run(inc)
    assert [c[1] for c in listener.calls if c[0] == "after_save"] == [0, 3]


def test_checkpoint_listener_can_stop_training(sess, tmp_path):
    gs, inc = _step_graph()
    hook = tf.train.CheckpointSaverHook(str(tmp_path), save_steps=1, saver=tf.train.Saver(),
                                        listeners=[RecordingListener(stop_after_step=3)])
    mon = _hooked(sess, [hook])
    while not mon.should_stop():
        mon.run(inc)
    assert sess.run(gs) == 3


# ----------------------------------------------------------------------------------------------------------
# SummarySaverHook
# ----------------------------------------------------------------------------------------------------------
def test_summary_hook_argument_errors():
    with pytest.raises(ValueError, match="Exactly one of scaffold or summary_op"):
        tf.train.SummarySaverHook(save_steps=1)
    with pytest.raises(ValueError, match="Exactly one of scaffold or summary_op"):
        tf.train.SummarySaverHook(save_steps=1, scaffold=tf.train.Scaffold(), summary_op=tf.constant(""))
    with pytest.raises(RuntimeError, match="Global step should be created to use SummarySaverHook"):
        tf.train.SummarySaverHook(save_steps=1, summary_op=tf.constant("")).begin()


def test_summary_hook_every_n_steps(sess):
    gs, inc = _step_graph()
    v = tf.Variable(0.0)
    step_op = tf.group(inc, tf.assign_add(v, 1.0))
    summary_op = tf.summary.scalar("v", v)
    writer = RecordingWriter()
    hook = tf.train.SummarySaverHook(save_steps=3, summary_writer=writer, summary_op=summary_op)
    mon = _hooked(sess, [hook])
    for _ in range(8):
        mon.run(step_op)
    hook.end(sess)
    # A START log, then the summaries at the global steps after runs 1, 4 and 7, as TF writes them.
    assert writer.session_logs == [(1, tf.SessionLog.START)]
    assert [s for s, _ in writer.summaries] == [1, 4, 7]
    assert all(summary.value[0].tag == "v" for _, summary in writer.summaries)
    assert writer.flushes == 1


def test_summary_hook_every_n_secs_and_op_lists(sess, clock):
    gs, inc = _step_graph()
    ops = [tf.summary.scalar("a", tf.constant(1.0)), tf.summary.scalar("b", tf.constant(2.0))]
    writer = RecordingWriter()
    hook = tf.train.SummarySaverHook(save_secs=10, summary_writer=writer, summary_op=ops)
    mon = _hooked(sess, [hook])
    mon.run(inc)
    clock.now += 9
    mon.run(inc)
    clock.now += 1
    mon.run(inc)
    assert [(s, summary.value[0].tag) for s, summary in writer.summaries] == [(1, "a"), (1, "b"), (3, "a"),
                                                                              (3, "b")]


def test_summary_hook_writes_an_event_file(sess, tmp_path):
    gs, inc = _step_graph()
    tf.summary.scalar("step", gs)
    scaffold = tf.train.Scaffold(summary_op=tf.summary.merge_all())
    hook = tf.train.SummarySaverHook(save_steps=2, output_dir=str(tmp_path), scaffold=scaffold)
    mon = _hooked(sess, [hook])
    for _ in range(4):
        mon.run(inc)
    hook.end(sess)
    (events,) = os.listdir(tmp_path)
    values = [(e.step, e.summary.value[0].simple_value) for e in tf.train.summary_iterator(str(tmp_path / events))
              if e.HasField("summary")]
    assert [s for s, _ in values] == [1, 3]


# ----------------------------------------------------------------------------------------------------------
# StepCounterHook
# ----------------------------------------------------------------------------------------------------------
def test_step_counter_argument_errors():
    with pytest.raises(ValueError, match="exactly one of every_n_steps and every_n_secs"):
        tf.train.StepCounterHook(every_n_steps=None)
    with pytest.raises(ValueError, match="exactly one of every_n_steps and every_n_secs"):
        tf.train.StepCounterHook(every_n_steps=1, every_n_secs=1)
    with pytest.raises(RuntimeError, match="Global step should be created to use StepCounterHook"):
        tf.train.StepCounterHook().begin()


def test_step_counter_every_n_steps_writes_steps_per_second(sess, clock, caplog):
    gs, inc = _step_graph()
    writer = RecordingWriter()
    hook = tf.train.StepCounterHook(every_n_steps=10, summary_writer=writer)
    mon = _hooked(sess, [hook])
    caplog.set_level(logging.INFO, logger="tfmini")
    for _ in range(30):
        mon.run(inc)
        clock.now += 0.5
    # Triggers at global steps 1 (the start), 11 and 21: 10 steps in 5 seconds each time.
    assert [(s, summary.value[0].tag, summary.value[0].simple_value) for s, summary in writer.summaries] == [
        (11, "global_step/sec", 2.0), (21, "global_step/sec", 2.0)]
    assert "global_step/sec: 2" in caplog.text


def test_step_counter_every_n_secs_and_stale_step_warning(sess, clock, caplog):
    gs, inc = _step_graph()
    writer = RecordingWriter()
    hook = tf.train.StepCounterHook(every_n_steps=None, every_n_secs=4, summary_writer=writer)
    mon = _hooked(sess, [hook])
    for _ in range(6):
        mon.run(inc)
        clock.now += 1
    assert [(s, summary.value[0].simple_value) for s, summary in writer.summaries] == [(5, 1.0)]
    for _ in range(8):
        mon.run(gs)
    warnings = [r for r in caplog.records if "has not been increased" in r.getMessage()]
    assert len(warnings) == 5  # the first few only


# ----------------------------------------------------------------------------------------------------------
# FinalOpsHook, FeedFnHook, GlobalStepWaiterHook
# ----------------------------------------------------------------------------------------------------------
def test_final_ops_hook_values_and_feeds(sess):
    v = tf.Variable(1.0)
    add = tf.assign_add(v, 2.0)
    scale = tf.placeholder(tf.float32, [])
    hook = tf.train.FinalOpsHook({"v": v, "scaled": v * scale}, final_ops_feed_dict={scale: 10.0})
    mon = _hooked(sess, [hook])
    mon.run(add)
    mon.run(add)
    assert hook.final_ops_values is None
    hook.end(sess)
    assert hook.final_ops_values == {"v": 5.0, "scaled": 50.0}


def test_final_ops_hook_reraises_out_of_range(sess, caplog):
    it = tf.data.Dataset.range(1).make_one_shot_iterator()
    value = it.get_next()
    sess.run(value)
    hook = tf.train.FinalOpsHook(value)
    with pytest.raises(tf.errors.OutOfRangeError):
        hook.end(sess)
    assert "FinalOpsHook" in caplog.text


def test_feed_fn_hook_feeds_every_run(sess):
    x = tf.placeholder(tf.float32, [])
    values = iter([1.0, 2.0, 3.0])
    mon = _hooked(sess, [tf.train.FeedFnHook(lambda: {x: next(values)})])
    assert [mon.run(x * 2) for _ in range(3)] == [2.0, 4.0, 6.0]


def test_global_step_waiter_hook_waits_for_the_step(sess, monkeypatch):
    gs, inc = _step_graph()
    fake = FakeClock(on_sleep=lambda: sess.run(inc))
    monkeypatch.setattr(hooks_module, "time", fake)
    hook = tf.train.GlobalStepWaiterHook(wait_until_step=3)
    mon = _hooked(sess, [hook])
    mon.run(gs)
    assert fake.sleeps == 3 and sess.run(gs) == 3
    mon.run(gs)
    assert fake.sleeps == 3  # waits before the first run only
    with pytest.raises(RuntimeError, match="Global step should be created"):
        with tf.Graph().as_default():
            tf.train.GlobalStepWaiterHook(1).begin()


def test_global_step_waiter_hook_with_nothing_to_wait_for(sess):
    gs, _ = _step_graph()
    hook = tf.train.GlobalStepWaiterHook(wait_until_step=0)
    mon = _hooked(sess, [hook])
    assert mon.run(gs) == 0


# ----------------------------------------------------------------------------------------------------------
# The global step read
# ----------------------------------------------------------------------------------------------------------
def test_global_step_read_is_created_once_and_cached():
    gs = tf.train.get_or_create_global_step()
    read = hooks_module._get_or_create_global_step_read()
    assert read is hooks_module._get_or_create_global_step_read()
    assert tf.get_collection(hooks_module.GLOBAL_STEP_READ_KEY) == [read]
    assert read.dtype == tf.int64 and read.op.name.startswith(gs.op.name + "/")


# ----------------------------------------------------------------------------------------------------------
# ProfilerHook
# ----------------------------------------------------------------------------------------------------------
def test_profiler_hook_traces_every_n_steps(sess, tmp_path):
    gs, inc = _step_graph()
    work = tf.group(inc, tf.reduce_sum(tf.matmul(tf.ones([4, 4]), tf.ones([4, 4])), name="work"))
    hook = tf.train.ProfilerHook(save_steps=2, output_dir=str(tmp_path))
    mon = _hooked(sess, [hook])
    for _ in range(5):
        mon.run(work)
    # The first trace comes one period after the first step: at global steps 2 and 4.
    assert sorted(p for p in os.listdir(tmp_path) if p.startswith("timeline")) == ["timeline-2.json",
                                                                                   "timeline-4.json"]
    with open(tmp_path / "timeline-2.json") as f:
        trace = json.load(f)
    ops = {e["args"]["name"]: e["name"] for e in trace["traceEvents"] if e.get("ph") == "X"}
    assert ops["work"] == "Sum" and ops["MatMul"] == "MatMul"
    tf.summary.FileWriterCache.clear()
    (events,) = [p for p in os.listdir(tmp_path) if p.startswith("events.out.tfevents")]
    tags = [e.tagged_run_metadata.tag for e in tf.train.summary_iterator(str(tmp_path / events))
            if e.HasField("tagged_run_metadata")]
    assert tags == ["step_2", "step_4"]
    with pytest.raises(ValueError, match="Either every_secs or every_steps"):
        tf.train.ProfilerHook(output_dir=str(tmp_path))
