"""The standard `tf.train` session-run hooks (checkpoints, summaries, stopping, logging, NaN checks, step rates,
final ops, feeds, waiting for a global step) and the step-or-seconds timer they share. They reach sessions only
through `run` and the graph through the default graph."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

import numpy as np

from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.framework.graph_util import write_graph
from tfmini.framework.summary_io import FileWriterCache
from tfmini.ops.variables import Variable
from tfmini.protobuf.config_pb2 import RunOptions
from tfmini.protobuf.event_pb2 import SessionLog
from tfmini.protobuf.summary_pb2 import Summary
from tfmini.train import meta_graph as _meta_graph
from tfmini.train import training_util
from tfmini.train.session_run_hook import SessionRunArgs, SessionRunHook

_log = logging.getLogger("tfmini")

# The collection caching the global step's read tensor, as TF names it.
GLOBAL_STEP_READ_KEY = "global_step_read_op_cache"

# How long GlobalStepWaiterHook sleeps between two looks at the global step.
_WAIT_POLL_SECONDS = 0.5

# The Timeline class (step_stats -> Chrome trace) ProfilerHook writes with, registered by the client layer
# that owns it (this layer may not import the client).
_timeline_class: list[type] = []


def register_timeline_class(timeline_class: type) -> None:
    """Makes `timeline_class(step_stats).generate_chrome_trace_format(show_dataflow=, show_memory=)` the way
    ProfilerHook turns a traced step into a Chrome trace."""
    _timeline_class[:] = [timeline_class]


def _get_or_create_global_step_read(graph=None):
    """A tensor reading the global step (its value plus zero, so the read is a copy and not the variable
    storage), created once per graph and cached in GLOBAL_STEP_READ_KEY; None when there is no global step."""
    graph = graph or _ops.get_default_graph()
    cached = graph.get_collection(GLOBAL_STEP_READ_KEY)
    if len(cached) > 1:
        raise RuntimeError(f"There are multiple items in collection {GLOBAL_STEP_READ_KEY}. There should be only "
                           "one.")
    if cached:
        return cached[0]
    step = training_util.get_global_step(graph)
    if step is None:
        return None
    with graph.as_default() as g, g.name_scope(None), g.name_scope(step.op.name + "/"):
        value = step.initialized_value() if isinstance(step, Variable) else step
        read = value + 0
    graph.add_to_collection(GLOBAL_STEP_READ_KEY, read)
    return read


def _global_step_read_or_raise(hook_name: str):
    read = _get_or_create_global_step_read()
    if read is None:
        raise RuntimeError(f"Global step should be created to use {hook_name}.")
    return read


def _step_after_run(read_value, expected_step: int | None) -> int:
    """The global step after a run, estimated from a global step read in that run, which ran before or after
    the run's update: a value that already reached `expected_step` (the step the run should end at) was read
    after it (in tfmini a read created after the train op always is, ops running in creation order)."""
    if expected_step is not None and read_value >= expected_step:
        return int(read_value)
    return int(read_value) + 1


def _as_graph_element(obj):
    """`obj` as an element of the default graph: a tensor or op of it, or a name ('op' meaning 'op:0', which
    must then be the op's only output)."""
    graph = _ops.get_default_graph()
    if not isinstance(obj, str):
        if getattr(obj, "graph", None) is not graph:
            raise ValueError(f"Passed {obj} should have graph attribute that is equal to current graph {graph}.")
        return obj
    if ":" in obj:
        return graph.as_graph_element(obj)
    element = graph.as_graph_element(obj + ":0")
    try:
        graph.as_graph_element(obj + ":1")
    except (KeyError, ValueError):
        return element
    raise ValueError(f"Name {obj} is ambiguous, as this `Operation` has multiple outputs (at least 2).")


# ----------------------------------------------------------------------------------------------------------
# Timers
# ----------------------------------------------------------------------------------------------------------
class _HookTimer:
    """Decides at which global steps a hook acts."""

    def reset(self) -> None:
        """Forgets when it last triggered."""

    def should_trigger_for_step(self, step: int) -> bool:
        raise NotImplementedError

    def update_last_triggered_step(self, step: int) -> tuple[float | None, int | None]:
        """Records a trigger at `step`; returns (seconds, steps) since the previous one, (None, None) for the
        first."""
        raise NotImplementedError

    def last_triggered_step(self) -> int | None:
        raise NotImplementedError


@tf_export("train.SecondOrStepTimer")
class SecondOrStepTimer(_HookTimer):
    """Triggers at the first step and then once `every_secs` seconds or `every_steps` steps have passed since
    the last trigger (exactly one of them is given); never twice at the same step."""

    def __init__(self, every_secs: float | None = None, every_steps: int | None = None) -> None:
        self.reset()
        self._every_secs = every_secs
        self._every_steps = every_steps
        if every_secs is None and every_steps is None:
            raise ValueError("Either every_secs or every_steps should be provided.")
        if every_secs is not None and every_steps is not None:
            raise ValueError("Can not provide both every_secs and every_steps.")

    def reset(self) -> None:
        self._last_triggered_step: int | None = None
        self._last_triggered_time: float | None = None

    def should_trigger_for_step(self, step: int) -> bool:
        if self._last_triggered_step is None:
            return True
        if self._last_triggered_step == step:
            return False
        if self._every_secs is not None and time.time() >= self._last_triggered_time + self._every_secs:
            return True
        return self._every_steps is not None and step >= self._last_triggered_step + self._every_steps

    def update_last_triggered_step(self, step: int) -> tuple[float | None, int | None]:
        now = time.time()
        if self._last_triggered_time is None:
            elapsed = (None, None)
        else:
            elapsed = (now - self._last_triggered_time, step - self._last_triggered_step)
        self._last_triggered_time = now
        self._last_triggered_step = step
        return elapsed

    def last_triggered_step(self) -> int | None:
        return self._last_triggered_step


class NeverTriggerTimer(_HookTimer):
    """A timer that never triggers (LoggingTensorHook logging only at the end)."""

    def should_trigger_for_step(self, step: int) -> bool:
        return False

    def update_last_triggered_step(self, step: int) -> tuple[None, None]:
        return (None, None)

    def last_triggered_step(self) -> None:
        return None


# ----------------------------------------------------------------------------------------------------------
# Logging, stopping, NaN checks
# ----------------------------------------------------------------------------------------------------------
@tf_export("train.LoggingTensorHook")
class LoggingTensorHook(SessionRunHook):
    """Logs the values of `tensors` (a list of tensors or names, or a dict {tag: tensor or name}) every
    `every_n_iter` local steps or `every_n_secs` seconds, and/or once at the end (`at_end`), through the
    'tfmini' logger at INFO level, as `tag = value` pairs or as `formatter(values_dict)` returns them."""

    def __init__(self, tensors, every_n_iter: int | None = None, every_n_secs: float | None = None,
                 at_end: bool = False, formatter: Callable[[dict], str] | None = None) -> None:
        only_at_end = at_end and every_n_iter is None and every_n_secs is None
        if not only_at_end and (every_n_iter is None) == (every_n_secs is None):
            raise ValueError("either at_end and/or exactly one of every_n_iter and every_n_secs must be provided.")
        if every_n_iter is not None and every_n_iter <= 0:
            raise ValueError(f"invalid every_n_iter={every_n_iter}.")
        if not isinstance(tensors, dict):
            self._tag_order = list(tensors)
            tensors = {item: item for item in tensors}
        else:
            self._tag_order = sorted(tensors)
        self._tensors = tensors
        self._formatter = formatter
        self._timer = (NeverTriggerTimer() if only_at_end
                       else SecondOrStepTimer(every_secs=every_n_secs, every_steps=every_n_iter))
        self._log_at_end = at_end

    def begin(self) -> None:
        self._timer.reset()
        self._iter_count = 0
        self._current_tensors = {tag: _as_graph_element(t) for tag, t in self._tensors.items()}

    def before_run(self, run_context) -> SessionRunArgs | None:
        self._should_trigger = self._timer.should_trigger_for_step(self._iter_count)
        return SessionRunArgs(self._current_tensors) if self._should_trigger else None

    def _log_tensors(self, tensor_values: dict) -> None:
        elapsed_secs, _ = self._timer.update_last_triggered_step(self._iter_count)
        # Values print without scientific notation, for the formatter too (restored afterwards).
        with np.printoptions(suppress=True):
            if self._formatter:
                _log.info(self._formatter(tensor_values))
                return
            stats = ", ".join(f"{tag} = {tensor_values[tag]}" for tag in self._tag_order)
        if elapsed_secs is not None:
            _log.info("%s (%.3f sec)", stats, elapsed_secs)
        else:
            _log.info("%s", stats)

    def after_run(self, run_context, run_values) -> None:
        if self._should_trigger:
            self._log_tensors(run_values.results)
        self._iter_count += 1

    def end(self, session) -> None:
        if self._log_at_end:
            self._log_tensors(session.run(self._current_tensors))


@tf_export("train.StopAtStepHook")
class StopAtStepHook(SessionRunHook):
    """Requests a stop once the global step reaches `last_step`, or `num_steps` steps past its value when the
    session was created (exactly one of them is given)."""

    def __init__(self, num_steps: int | None = None, last_step: int | None = None) -> None:
        if num_steps is None and last_step is None:
            raise ValueError("One of num_steps or last_step must be specified.")
        if num_steps is not None and last_step is not None:
            raise ValueError("Only one of num_steps or last_step can be specified.")
        self._num_steps = num_steps
        self._last_step = last_step

    def begin(self) -> None:
        self._global_step_tensor = _global_step_read_or_raise("StopAtStepHook")

    def after_create_session(self, session, coord) -> None:
        if self._last_step is None:
            self._last_step = int(session.run(self._global_step_tensor)) + self._num_steps

    def before_run(self, run_context) -> SessionRunArgs:
        return SessionRunArgs(self._global_step_tensor)

    def after_run(self, run_context, run_values) -> None:
        # The fetched value was read while the step ran, before or after its increment: check the real one.
        if run_values.results + 1 >= self._last_step:
            if run_context.session.run(self._global_step_tensor) >= self._last_step:
                run_context.request_stop()


@tf_export("train.NanLossDuringTrainingError")
class NanLossDuringTrainingError(RuntimeError):
    """Raised by NanTensorHook when the loss is NaN."""

    def __str__(self) -> str:
        return "NaN loss during training."


@tf_export("train.NanTensorHook")
class NanTensorHook(SessionRunHook):
    """Checks `loss_tensor` after every step: a NaN raises NanLossDuringTrainingError (`fail_on_nan_loss`) or
    logs a warning and requests a stop."""

    def __init__(self, loss_tensor, fail_on_nan_loss: bool = True) -> None:
        self._loss_tensor = loss_tensor
        self._fail_on_nan_loss = fail_on_nan_loss

    def before_run(self, run_context) -> SessionRunArgs:
        return SessionRunArgs(self._loss_tensor)

    def after_run(self, run_context, run_values) -> None:
        if np.any(np.isnan(run_values.results)):
            message = "Model diverged with loss = NaN."
            if self._fail_on_nan_loss:
                _log.error(message)
                raise NanLossDuringTrainingError
            _log.warning(message)
            run_context.request_stop()


# ----------------------------------------------------------------------------------------------------------
# Checkpoints and summaries
# ----------------------------------------------------------------------------------------------------------
@tf_export("train.CheckpointSaverListener")
class CheckpointSaverListener:
    """Called by CheckpointSaverHook around its saves: `begin()`, `before_save(session, global_step_value)`,
    `after_save(session, global_step_value)` (returning True stops training) and `end(session,
    global_step_value)`."""

    def begin(self) -> None:
        pass

    def before_save(self, session, global_step_value) -> None:
        pass

    def after_save(self, session, global_step_value) -> bool | None:
        pass

    def end(self, session, global_step_value) -> None:
        pass


@tf_export("train.CheckpointSaverHook")
class CheckpointSaverHook(SessionRunHook):
    """Saves a checkpoint (`<checkpoint_dir>/<checkpoint_basename>-<global step>` with its meta graph) when the
    session is created, every `save_secs` seconds or `save_steps` steps, and at the end; writes the graph to
    `graph.pbtxt` and (with its meta graph) to the event file of `checkpoint_dir`, and a CHECKPOINT session log
    per save. The saver is `saver`, the `scaffold`'s, or the one in the SAVERS collection."""

    def __init__(self, checkpoint_dir, save_secs: float | None = None, save_steps: int | None = None, saver=None,
                 checkpoint_basename: str = "model.ckpt", scaffold=None, listeners=None) -> None:
        _log.info("Create CheckpointSaverHook.")
        if saver is not None and scaffold is not None:
            raise ValueError("You cannot provide both saver and scaffold.")
        self._saver = saver
        self._checkpoint_dir = os.fspath(checkpoint_dir)
        self._save_path = os.path.join(self._checkpoint_dir, checkpoint_basename)
        self._scaffold = scaffold
        self._timer = SecondOrStepTimer(every_secs=save_secs, every_steps=save_steps)
        self._listeners = list(listeners or [])
        self._steps_per_run = 1

    def _set_steps_per_run(self, steps_per_run: int) -> None:
        self._steps_per_run = steps_per_run

    def begin(self) -> None:
        self._summary_writer = FileWriterCache.get(self._checkpoint_dir)
        self._global_step_tensor = _global_step_read_or_raise("CheckpointSaverHook")
        for listener in self._listeners:
            listener.begin()

    def after_create_session(self, session, coord) -> None:
        global_step = int(session.run(self._global_step_tensor))
        # The graph goes out here rather than in begin(): other hooks may add to it until it is finalized.
        graph = _ops.get_default_graph()
        graph_def = graph.as_graph_def(add_shapes=True)
        write_graph(graph_def, self._checkpoint_dir, "graph.pbtxt")
        saver = self._get_saver()
        meta_graph_def = _meta_graph.export_meta_graph(graph_def=graph_def,
                                                        saver_def=saver.saver_def if saver else None)
        self._summary_writer.add_graph(graph)
        self._summary_writer.add_meta_graph(meta_graph_def)
        # The checkpoint of the state the session starts from.
        self._save(session, global_step)
        self._timer.update_last_triggered_step(global_step)

    def before_run(self, run_context) -> SessionRunArgs:
        return SessionRunArgs(self._global_step_tensor)

    def after_run(self, run_context, run_values) -> None:
        stale_global_step = run_values.results
        if self._timer.should_trigger_for_step(stale_global_step + self._steps_per_run):
            global_step = int(run_context.session.run(self._global_step_tensor))
            if self._timer.should_trigger_for_step(global_step):
                self._timer.update_last_triggered_step(global_step)
                if self._save(run_context.session, global_step):
                    run_context.request_stop()

    def end(self, session) -> None:
        last_step = int(session.run(self._global_step_tensor))
        if last_step != self._timer.last_triggered_step():
            self._save(session, last_step)
        for listener in self._listeners:
            listener.end(session, last_step)

    def _save(self, session, step: int) -> bool:
        """Saves the checkpoint of `step`; returns whether a listener asked to stop."""
        _log.info("Calling checkpoint listeners before saving checkpoint %d...", step)
        for listener in self._listeners:
            listener.before_save(session, step)
        _log.info("Saving checkpoints for %d into %s.", step, self._save_path)
        self._get_saver().save(session, self._save_path, global_step=step)
        self._summary_writer.add_session_log(
            SessionLog(status=SessionLog.CHECKPOINT, checkpoint_path=self._save_path), step)
        _log.info("Calling checkpoint listeners after saving checkpoint %d...", step)
        should_stop = False
        for listener in self._listeners:
            if listener.after_save(session, step):
                _log.info("A CheckpointSaverListener requested that training be stopped. listener: %s", listener)
                should_stop = True
        return should_stop

    def _get_saver(self):
        if self._saver is not None:
            return self._saver
        if self._scaffold is not None:
            return self._scaffold.saver
        savers = _ops.get_collection(_ops.GraphKeys.SAVERS)
        if not savers:
            raise RuntimeError(f"No items in collection {_ops.GraphKeys.SAVERS}. Please add a saver to the "
                               "collection or provide a saver or scaffold.")
        if len(savers) > 1:
            raise RuntimeError(f"More than one item in collection {_ops.GraphKeys.SAVERS}. Please indicate which "
                               "one to use by passing it to the constructor.")
        self._saver = savers[0]
        return self._saver


@tf_export("train.SummarySaverHook")
class SummarySaverHook(SessionRunHook):
    """Runs the summary op (`summary_op`, or the `scaffold`'s) every `save_steps` steps or `save_secs`
    seconds and adds its summaries at the global step to `summary_writer` (or the cached FileWriter of
    `output_dir`); writes a START session log first and flushes at the end."""

    def __init__(self, save_steps: int | None = None, save_secs: float | None = None, output_dir=None,
                 summary_writer=None, scaffold=None, summary_op=None) -> None:
        if (scaffold is None) == (summary_op is None):
            raise ValueError("Exactly one of scaffold or summary_op must be provided.")
        self._summary_op = summary_op
        self._summary_writer = summary_writer
        self._output_dir = os.fspath(output_dir) if output_dir is not None else None
        self._scaffold = scaffold
        self._timer = SecondOrStepTimer(every_secs=save_secs, every_steps=save_steps)

    def begin(self) -> None:
        if self._summary_writer is None and self._output_dir:
            self._summary_writer = FileWriterCache.get(self._output_dir)
        self._next_step: int | None = None
        self._global_step_tensor = _global_step_read_or_raise("SummarySaverHook")

    def before_run(self, run_context) -> SessionRunArgs:
        self._request_summary = self._next_step is None or self._timer.should_trigger_for_step(self._next_step)
        requests = {"global_step": self._global_step_tensor}
        if self._request_summary:
            summary_op = self._get_summary_op()
            if summary_op is not None:
                requests["summary"] = summary_op
        return SessionRunArgs(requests)

    def after_run(self, run_context, run_values) -> None:
        if not self._summary_writer:
            return
        global_step = _step_after_run(run_values.results["global_step"], self._next_step)
        if self._next_step is None or self._request_summary:
            global_step = int(run_context.session.run(self._global_step_tensor))
        if self._next_step is None:
            self._summary_writer.add_session_log(SessionLog(status=SessionLog.START), global_step)
        if self._request_summary:
            self._timer.update_last_triggered_step(global_step)
            for summary in run_values.results.get("summary", ()):
                self._summary_writer.add_summary(summary, global_step)
        self._next_step = global_step + 1

    def end(self, session=None) -> None:
        if self._summary_writer:
            self._summary_writer.flush()

    def _get_summary_op(self) -> list | None:
        summary_op = self._summary_op if self._summary_op is not None else self._scaffold.summary_op
        if summary_op is None:
            return None
        return summary_op if isinstance(summary_op, list) else [summary_op]


@tf_export("train.StepCounterHook")
class StepCounterHook(SessionRunHook):
    """Measures global steps per second every `every_n_steps` steps or `every_n_secs` seconds, logs it and
    writes it as the summary '<global step op name>/sec' to `summary_writer` (or the cached FileWriter of
    `output_dir`)."""

    def __init__(self, every_n_steps: int | None = 100, every_n_secs: float | None = None, output_dir=None,
                 summary_writer=None) -> None:
        if (every_n_steps is None) == (every_n_secs is None):
            raise ValueError("exactly one of every_n_steps and every_n_secs should be provided.")
        self._timer = SecondOrStepTimer(every_steps=every_n_steps, every_secs=every_n_secs)
        self._summary_writer = summary_writer
        self._output_dir = os.fspath(output_dir) if output_dir is not None else None
        self._last_global_step: int | None = None
        self._steps_per_run = 1
        self._stale_warnings = 0

    def _set_steps_per_run(self, steps_per_run: int) -> None:
        self._steps_per_run = steps_per_run

    def begin(self) -> None:
        if self._summary_writer is None and self._output_dir:
            self._summary_writer = FileWriterCache.get(self._output_dir)
        self._global_step_tensor = _global_step_read_or_raise("StepCounterHook")
        self._summary_tag = training_util.get_global_step().op.name + "/sec"

    def before_run(self, run_context) -> SessionRunArgs:
        return SessionRunArgs(self._global_step_tensor)

    def _log_and_record(self, elapsed_steps: int, elapsed_time: float, global_step: int) -> None:
        steps_per_sec = elapsed_steps / elapsed_time
        if self._summary_writer is not None:
            summary = Summary(value=[Summary.Value(tag=self._summary_tag, simple_value=steps_per_sec)])
            self._summary_writer.add_summary(summary, global_step)
        _log.info("%s: %g", self._summary_tag, steps_per_sec)

    def after_run(self, run_context, run_values) -> None:
        stale_global_step = run_values.results
        if self._timer.should_trigger_for_step(stale_global_step + self._steps_per_run):
            global_step = int(run_context.session.run(self._global_step_tensor))
            if self._timer.should_trigger_for_step(global_step):
                elapsed_time, elapsed_steps = self._timer.update_last_triggered_step(global_step)
                if elapsed_time is not None:
                    self._log_and_record(elapsed_steps, elapsed_time, global_step)
        # Some optimizers do not advance the global step every run: warn a few times only.
        if stale_global_step == self._last_global_step and self._stale_warnings < 5:
            self._stale_warnings += 1
            _log.warning("It seems that global step (tf.train.get_global_step) has not been increased. Current "
                         "value (could be stable): %s vs previous value: %s. You could increase the global step "
                         "by passing tf.train.get_global_step() to Optimizer.apply_gradients or "
                         "Optimizer.minimize.", stale_global_step, self._last_global_step)
        self._last_global_step = stale_global_step


@tf_export("train.ProfilerHook")
class ProfilerHook(SessionRunHook):
    """Traces one step every `save_steps` steps or `save_secs` seconds (not the first): writes its Chrome trace
    to `<output_dir>/timeline-<global step>.json` (for chrome://tracing or Perfetto) and its RunMetadata to the
    event file of `output_dir` under the tag 'step_<global step>'."""

    def __init__(self, save_steps: int | None = None, save_secs: float | None = None, output_dir="",
                 show_dataflow: bool = True, show_memory: bool = False) -> None:
        output_dir = os.fspath(output_dir)
        self._output_file = os.path.join(output_dir, "timeline-{}.json")
        self._file_writer = FileWriterCache.get(output_dir)
        self._show_dataflow = show_dataflow
        self._show_memory = show_memory
        self._timer = SecondOrStepTimer(every_secs=save_secs, every_steps=save_steps)

    def begin(self) -> None:
        self._next_step: int | None = None
        self._global_step_tensor = _global_step_read_or_raise("ProfilerHook")

    def before_run(self, run_context) -> SessionRunArgs:
        self._request_summary = self._next_step is not None and self._timer.should_trigger_for_step(self._next_step)
        options = RunOptions(trace_level=RunOptions.FULL_TRACE) if self._request_summary else None
        return SessionRunArgs({"global_step": self._global_step_tensor}, options=options)

    def after_run(self, run_context, run_values) -> None:
        stale_global_step = run_values.results["global_step"]
        if self._next_step is None:
            # The first trace comes only after a full period.
            self._timer.update_last_triggered_step(stale_global_step)
        global_step = _step_after_run(stale_global_step, self._next_step)
        if self._request_summary:
            global_step = int(run_context.session.run(self._global_step_tensor))
            self._timer.update_last_triggered_step(global_step)
            self._save(global_step, self._output_file.format(global_step), run_values.run_metadata.step_stats)
            self._file_writer.add_run_metadata(run_values.run_metadata, f"step_{global_step}")
        self._next_step = global_step + 1

    def _save(self, step: int, save_path: str, step_stats) -> None:
        if not _timeline_class:
            raise RuntimeError("No Timeline class is registered with tfmini.train.basic_session_run_hooks; import "
                               "tfmini to register tfmini.client.timeline.Timeline.")
        _log.info("Saving timeline for %d into '%s'.", step, save_path)
        trace = _timeline_class[0](step_stats).generate_chrome_trace_format(show_dataflow=self._show_dataflow,
                                                                            show_memory=self._show_memory)
        with open(save_path, "w", encoding="utf-8") as f:
            f.write(trace)


# ----------------------------------------------------------------------------------------------------------
# Final ops, feeds, waiting
# ----------------------------------------------------------------------------------------------------------
@tf_export("train.FinalOpsHook")
class FinalOpsHook(SessionRunHook):
    """Runs `final_ops` (any fetch structure, with `final_ops_feed_dict`) when the session ends; their values
    are `final_ops_values`."""

    def __init__(self, final_ops, final_ops_feed_dict: dict | None = None) -> None:
        self._final_ops = final_ops
        self._final_ops_feed_dict = final_ops_feed_dict
        self._final_ops_values = None

    @property
    def final_ops_values(self):
        return self._final_ops_values

    def end(self, session) -> None:
        if self._final_ops is None:
            return
        try:
            self._final_ops_values = session.run(self._final_ops, feed_dict=self._final_ops_feed_dict)
        except (_errors.OutOfRangeError, StopIteration):
            _log.warning("An OutOfRangeError or StopIteration was raised by the ops run by FinalOpsHook: they "
                         "depend on an input source that is exhausted. Final ops should only read variables "
                         "(e.g. a metric's value op), not consume more input.")
            raise


@tf_export("train.FeedFnHook")
class FeedFnHook(SessionRunHook):
    """Adds `feed_fn()`'s dict to the feeds of every run."""

    def __init__(self, feed_fn: Callable[[], dict]) -> None:
        self.feed_fn = feed_fn

    def before_run(self, run_context) -> SessionRunArgs:
        return SessionRunArgs(fetches=None, feed_dict=self.feed_fn())


@tf_export("train.GlobalStepWaiterHook")
class GlobalStepWaiterHook(SessionRunHook):
    """Holds the first run back until the global step reaches `wait_until_step` (workers starting after the
    chief has trained a while)."""

    def __init__(self, wait_until_step: int) -> None:
        self._wait_until_step = wait_until_step

    def begin(self) -> None:
        self._worker_is_started = False
        self._global_step_tensor = _global_step_read_or_raise("_GlobalStepWaiterHook")

    def before_run(self, run_context) -> None:
        if self._worker_is_started:
            return None
        if self._wait_until_step <= 0:
            self._worker_is_started = True
            return None
        _log.info("Waiting for global step %d before starting training.", self._wait_until_step)
        last_logged_step = 0
        while True:
            current_step = int(run_context.session.run(self._global_step_tensor))
            if current_step >= self._wait_until_step:
                self._worker_is_started = True
                return None
            if current_step - last_logged_step > 1000:
                _log.info("Waiting for global step %d before starting training. Current step is %d.",
                          self._wait_until_step, current_step)
                last_logged_step = current_step
            time.sleep(_WAIT_POLL_SECONDS)


__all__ = [
    "CheckpointSaverHook", "CheckpointSaverListener", "FeedFnHook", "FinalOpsHook", "GlobalStepWaiterHook",
    "LoggingTensorHook", "NanLossDuringTrainingError", "NanTensorHook", "NeverTriggerTimer", "ProfilerHook",
    "SecondOrStepTimer", "StepCounterHook", "StopAtStepHook", "SummarySaverHook",
]
