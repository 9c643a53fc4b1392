"""`tf.train.Supervisor`: TF1's training supervisor. It prepares a session (restoring the latest checkpoint of
`logdir` or running the init ops, or, when not the chief, waiting until the chief has), runs the standard
services (periodic checkpoints, summaries and steps/sec in background threads) and stops them with its
Coordinator. Built on SessionManager, Coordinator, Saver and FileWriter."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator

from tfmini.framework import dtypes as _dt
from tfmini.framework import graph_util as _graph_util
from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.framework.ops import GraphKeys
from tfmini.framework.summary_io import FileWriter
from tfmini.ops import control_flow_ops, lookup_ops, summary_ops
from tfmini.ops import variables as _variables
from tfmini.protobuf import event_pb2, summary_pb2
from tfmini.train import meta_graph as _meta_graph
from tfmini.train import training_util
from tfmini.train.coordinator import Coordinator, LooperThread
from tfmini.train.saver import Saver
from tfmini.train.session_manager import SessionManager

_log = logging.getLogger("tfmini")


@tf_export("train.Supervisor")
class Supervisor:
    """Runs the chores of a training program: session preparation, checkpoints, summaries and stopping.

    Every op argument left at `Supervisor.USE_DEFAULT` is taken from its graph collection (READY_OP,
    INIT_OP, LOCAL_INIT_OP, SAVERS, SUMMARY_OP) or created there: `report_uninitialized_variables()`,
    `global_variables_initializer()`, the local-variable and table initializers, a `Saver()` (when the graph
    has variables) and `tf.summary.merge_all()`. None disables it. The global step defaults to the tensor
    'global_step:0' when it is an integer. Only the chief (`is_chief`) writes checkpoints and events in
    `logdir`; the others wait for the model to be ready. The graph is finalized.
    """

    USE_DEFAULT = 0

    def __init__(self, graph=None, ready_op=USE_DEFAULT, ready_for_local_init_op=USE_DEFAULT,
                 is_chief: bool = True, init_op=USE_DEFAULT, init_feed_dict=None, local_init_op=USE_DEFAULT,
                 logdir=None, summary_op=USE_DEFAULT, saver=USE_DEFAULT, global_step=USE_DEFAULT,
                 save_summaries_secs=120, save_model_secs=600, recovery_wait_secs=30, stop_grace_secs=120,
                 checkpoint_basename: str = "model.ckpt", session_manager=None, summary_writer=USE_DEFAULT,
                 init_fn=None, local_init_run_options=None) -> None:
        if graph is None:
            graph = _ops.get_default_graph()
        self._graph = graph
        with graph.as_default():
            self._init_ready_op(ready_op, ready_for_local_init_op)
            self._init_init_op(init_op, init_feed_dict)
            self._init_local_init_op(local_init_op)
            self._init_saver(saver)
            self._init_summary_op(summary_op)
            self._init_global_step(global_step)
            self._meta_graph_def = _meta_graph.export_meta_graph(
                graph_def=graph.as_graph_def(add_shapes=True),
                saver_def=self._saver.saver_def if self._saver else None, graph=graph)
        self._is_chief = is_chief
        self._coord = Coordinator()
        self._recovery_wait_secs = recovery_wait_secs
        self._stop_grace_secs = stop_grace_secs
        self._init_fn = init_fn
        self._local_init_run_options = local_init_run_options
        # Only a chief writes checkpoints and events.
        self._logdir = None
        self._save_summaries_secs = None
        self._save_model_secs = None
        self._save_path = None
        self._summary_writer = None
        self._graph_added_to_summary = False
        if is_chief:
            self._logdir = os.fspath(logdir) if logdir else logdir
            self._save_summaries_secs = save_summaries_secs
            self._save_model_secs = save_model_secs
            if self._logdir:
                self._save_path = os.path.join(self._logdir, checkpoint_basename)
            if summary_writer is Supervisor.USE_DEFAULT:
                if self._logdir:
                    self._summary_writer = FileWriter(self._logdir)
            else:
                self._summary_writer = summary_writer
        if session_manager is None:
            session_manager = SessionManager(
                local_init_op=self._local_init_op, ready_op=self._ready_op,
                ready_for_local_init_op=self._ready_for_local_init_op, graph=graph,
                recovery_wait_secs=recovery_wait_secs, local_init_run_options=local_init_run_options)
        self._session_manager = session_manager
        self._verify_setup()
        graph.finalize()

    # -- the defaults ------------------------------------------------------------------------------------
    def _first_of_collection(self, key: str):
        found = _ops.get_collection(key)
        if len(found) > 1:
            _log.info("Found %d %s operations. Returning the first one.", len(found), key)
        return found[0] if found else None

    def _init_ready_op(self, ready_op, ready_for_local_init_op) -> None:
        if ready_op is Supervisor.USE_DEFAULT:
            ready_op = self._first_of_collection(GraphKeys.READY_OP)
            if ready_op is None:
                ready_op = _variables.report_uninitialized_variables()
                _ops.add_to_collection(GraphKeys.READY_OP, ready_op)
        self._ready_op = ready_op
        if ready_for_local_init_op is Supervisor.USE_DEFAULT:
            ready_for_local_init_op = self._first_of_collection(GraphKeys.READY_FOR_LOCAL_INIT_OP)
        self._ready_for_local_init_op = ready_for_local_init_op

    def _init_init_op(self, init_op, init_feed_dict) -> None:
        if init_op is Supervisor.USE_DEFAULT:
            init_op = self._first_of_collection(GraphKeys.INIT_OP)
            if init_op is None:
                init_op = _variables.global_variables_initializer()
                _ops.add_to_collection(GraphKeys.INIT_OP, init_op)
        self._init_op = init_op
        self._init_feed_dict = init_feed_dict

    def _init_local_init_op(self, local_init_op) -> None:
        if local_init_op is Supervisor.USE_DEFAULT:
            local_init_op = self._first_of_collection(GraphKeys.LOCAL_INIT_OP)
            if local_init_op is None:
                local_init_op = control_flow_ops.group(_variables.local_variables_initializer(),
                                                       lookup_ops.tables_initializer())
                _ops.add_to_collection(GraphKeys.LOCAL_INIT_OP, local_init_op)
        self._local_init_op = local_init_op

    def _init_saver(self, saver) -> None:
        if saver is Supervisor.USE_DEFAULT:
            saver = self._first_of_collection(GraphKeys.SAVERS)
            if saver is None and _variables.global_variables():
                saver = Saver()
                _ops.add_to_collection(GraphKeys.SAVERS, saver)
        self._saver = saver

    def _init_summary_op(self, summary_op) -> None:
        if summary_op is Supervisor.USE_DEFAULT:
            summary_op = self._first_of_collection(GraphKeys.SUMMARY_OP)
            if summary_op is None:
                summary_op = summary_ops.merge_all()
                if summary_op is not None:
                    _ops.add_to_collection(GraphKeys.SUMMARY_OP, summary_op)
        self._summary_op = summary_op

    def _init_global_step(self, global_step) -> None:
        if global_step is Supervisor.USE_DEFAULT:
            global_step = self._default_global_step_tensor()
        self._global_step = global_step

    def _default_global_step_tensor(self):
        try:
            gs = _ops.get_default_graph().get_tensor_by_name("global_step:0")
        except KeyError:
            return None
        if gs.dtype.base_dtype in (_dt.int32, _dt.int64):
            return gs
        _log.warning("Found 'global_step' is not an int type: %s", gs.dtype)
        return None

    def _verify_setup(self) -> None:
        # Replicas other than the chief share the chief's variables, so each variable needs a device.
        if not self._is_chief:
            for op in self._graph.get_operations():
                if op.type in ("Variable", "VariableV2") and not op.device:
                    raise ValueError(f"When using replicas, all Variables must have their device set: {op}")

    # -- what it holds -----------------------------------------------------------------------------------
    @property
    def is_chief(self) -> bool:
        return self._is_chief

    @property
    def session_manager(self) -> SessionManager:
        return self._session_manager

    @property
    def coord(self) -> Coordinator:
        return self._coord

    @property
    def init_op(self):
        return self._init_op

    @property
    def init_feed_dict(self):
        return self._init_feed_dict

    @property
    def ready_op(self):
        return self._ready_op

    @property
    def ready_for_local_init_op(self):
        return self._ready_for_local_init_op

    @property
    def summary_writer(self):
        return self._summary_writer

    @property
    def summary_op(self):
        return self._summary_op

    @property
    def save_summaries_secs(self):
        return self._save_summaries_secs

    @property
    def global_step(self):
        return self._global_step

    @property
    def saver(self):
        return self._saver

    @property
    def save_model_secs(self):
        return self._save_model_secs

    @property
    def save_path(self):
        return self._save_path

    # -- sessions and services ---------------------------------------------------------------------------
    def _write_graph(self) -> None:
        """Writes graph.pbtxt into `logdir` and the graph and meta graph into the events, once per writer."""
        if self._logdir:
            _graph_util.write_graph(self._graph.as_graph_def(add_shapes=True), self._logdir, "graph.pbtxt")
        if self._summary_writer and not self._graph_added_to_summary:
            self._summary_writer.add_graph(self._graph)
            self._summary_writer.add_meta_graph(self._meta_graph_def)
            self._graph_added_to_summary = True

    def start_standard_services(self, sess) -> list | None:
        """Starts the summary, steps/sec and checkpoint threads the settings ask for (chief only; needs
        `logdir`), after a SessionLog START at the current step; returns the threads."""
        if not self._is_chief:
            raise RuntimeError("Only chief supervisor can start standard services. Because only chief "
                               "supervisors can write events.")
        if not self._logdir:
            _log.warning("Standard services need a 'logdir' passed to the SessionManager")
            return None
        if self._global_step is not None and self._summary_writer:
            current_step = training_util.global_step(sess, self._global_step)
            self._summary_writer.add_session_log(event_pb2.SessionLog(status=event_pb2.SessionLog.START),
                                                 current_step)
        threads = []
        if self._save_summaries_secs and self._summary_writer:
            if self._summary_op is not None:
                threads.append(SVSummaryThread(self, sess))
            if self._global_step is not None:
                threads.append(SVStepCounterThread(self, sess))
        if self.saver and self._save_model_secs:
            threads.append(SVTimerCheckpointThread(self, sess))
        for t in threads:
            t.start()
        return threads

    def prepare_or_wait_for_session(self, master: str = "", config=None, wait_for_checkpoint: bool = False,
                                    max_wait_secs=7200, start_standard_services: bool = True):
        """The chief's session restored from `logdir` or initialized (then the graph is written and the
        services start); another replica's session once the model is ready. Queue runners are started."""
        self._coord.clear_stop()
        if self._summary_writer:
            self._summary_writer.reopen()
        if self._is_chief:
            sess = self._session_manager.prepare_session(
                master, init_op=self.init_op, saver=self.saver, checkpoint_dir=self._logdir,
                wait_for_checkpoint=wait_for_checkpoint, max_wait_secs=max_wait_secs, config=config,
                init_feed_dict=self._init_feed_dict, init_fn=self._init_fn)
            self._write_graph()
            if start_standard_services:
                _log.info("Starting standard services.")
                self.start_standard_services(sess)
        else:
            sess = self._session_manager.wait_for_session(master, config=config, max_wait_secs=max_wait_secs)
        if start_standard_services:
            _log.info("Starting queue runners.")
            self.start_queue_runners(sess)
        return sess

    def start_queue_runners(self, sess, queue_runners=None) -> list:
        """Starts the threads of `queue_runners` (default: the graph's QUEUE_RUNNERS) under the coordinator."""
        if queue_runners is None:
            queue_runners = self._graph.get_collection(GraphKeys.QUEUE_RUNNERS)
        threads = []
        for qr in queue_runners:
            threads.extend(qr.create_threads(sess, coord=self._coord, daemon=True, start=True))
        return threads

    def loop(self, timer_interval_secs, target, args=None, kwargs=None) -> LooperThread:
        """Starts a thread calling `target(*args, **kwargs)` every `timer_interval_secs` until stop."""
        looper = LooperThread(self._coord, timer_interval_secs, target=target, args=args, kwargs=kwargs)
        looper.start()
        return looper

    def stop(self, threads=None, close_summary_writer: bool = True, ignore_live_threads: bool = False) -> None:
        """Requests a stop and joins the services' threads (re-raising an exception one of them reported);
        then writes a SessionLog STOP and closes the summary writer."""
        self._coord.request_stop()
        try:
            self._coord.join(threads, stop_grace_period_secs=self._stop_grace_secs,
                             ignore_live_threads=ignore_live_threads)
        finally:
            if close_summary_writer and self._summary_writer:
                self._summary_writer.add_session_log(event_pb2.SessionLog(status=event_pb2.SessionLog.STOP))
                self._summary_writer.close()
                self._graph_added_to_summary = False

    def request_stop(self, ex=None) -> None:
        self._coord.request_stop(ex=ex)

    def should_stop(self) -> bool:
        return self._coord.should_stop()

    def stop_on_exception(self):
        return self._coord.stop_on_exception()

    def wait_for_stop(self) -> None:
        self._coord.wait_for_stop()

    def summary_computed(self, sess, summary, global_step=None) -> None:
        """Writes a summary computed by the caller, at the current global step unless one is given."""
        if not self._summary_writer:
            raise RuntimeError("Writing a summary requires a summary writer.")
        if global_step is None and self.global_step is not None:
            global_step = training_util.global_step(sess, self.global_step)
        self._summary_writer.add_summary(summary, global_step)

    @contextlib.contextmanager
    def managed_session(self, master: str = "", config=None, start_standard_services: bool = True,
                        close_summary_writer: bool = True) -> Iterator:
        """A session for a `with` block: an exception in the block (OutOfRangeError included) requests a
        stop instead of propagating; at the end the services are stopped (re-raising what they reported)
        and the session is closed."""
        sess = None
        try:
            sess = self.prepare_or_wait_for_session(master=master, config=config,
                                                    start_standard_services=start_standard_services)
            yield sess
        except Exception as e:  # noqa: BLE001 - handed to the coordinator, which re-raises it from stop()
            self.request_stop(e)
        finally:
            try:
                self.stop(close_summary_writer=close_summary_writer)
            finally:
                if sess is not None:
                    with contextlib.suppress(Exception):
                        sess.close()

    # TF's original CamelCase names.
    PrepareSession = prepare_or_wait_for_session
    StartQueueRunners = start_queue_runners
    StartStandardServices = start_standard_services
    Stop = stop
    RequestStop = request_stop
    Loop = loop
    ShouldStop = should_stop
    StopOnException = stop_on_exception
    WaitForStop = wait_for_stop
    SummaryComputed = summary_computed


class SVSummaryThread(LooperThread):
    """Every save_summaries_secs: runs the summary op (with the global step) and writes its result."""

    def __init__(self, sv: Supervisor, sess) -> None:
        super().__init__(sv.coord, sv.save_summaries_secs)
        self._sv = sv
        self._sess = sess

    def run_loop(self) -> None:
        if self._sv.global_step is not None:
            summary_strs, global_step = self._sess.run([self._sv.summary_op, self._sv.global_step])
        else:
            summary_strs, global_step = self._sess.run(self._sv.summary_op), None
        if self._sv.summary_writer:
            _log.info("Recording summary at step %s.", global_step)
            self._sv.summary_writer.add_summary(summary_strs, global_step)


class SVStepCounterThread(LooperThread):
    """Every save_summaries_secs: writes the steps per second since the last time as '<step op>/sec'."""

    def __init__(self, sv: Supervisor, sess, step_counter=None) -> None:
        super().__init__(sv.coord, sv.save_summaries_secs)
        self._sv = sv
        self._sess = sess
        self._last_time = 0.0
        self._last_step = 0
        self._step_counter = sv.global_step if step_counter is None else step_counter
        self._summary_tag = f"{self._step_counter.op.name}/sec"

    def start_loop(self) -> None:
        self._last_time = time.time()
        self._last_step = training_util.global_step(self._sess, self._step_counter)

    def run_loop(self) -> None:
        current_step = training_util.global_step(self._sess, self._step_counter)
        added_steps = current_step - self._last_step
        self._last_step = current_step
        current_time = time.time()
        elapsed_time = current_time - self._last_time
        self._last_time = current_time
        steps_per_sec = added_steps / elapsed_time if elapsed_time > 0.0 else float("inf")
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=self._summary_tag,
                                                                       simple_value=steps_per_sec)])
        if self._sv.summary_writer:
            self._sv.summary_writer.add_summary(summary, current_step)
        _log.debug("%s: %g", self._summary_tag, steps_per_sec)


class SVTimerCheckpointThread(LooperThread):
    """Every save_model_secs: saves a checkpoint to save_path (numbered by the global step) and records a
    SessionLog CHECKPOINT."""

    def __init__(self, sv: Supervisor, sess) -> None:
        super().__init__(sv.coord, sv.save_model_secs)
        self._sv = sv
        self._sess = sess

    def run_loop(self) -> None:
        _log.info("Saving checkpoint to path %s", self._sv.save_path)
        self._sv.saver.save(self._sess, self._sv.save_path, global_step=self._sv.global_step)
        if self._sv.summary_writer and self._sv.global_step is not None:
            current_step = training_util.global_step(self._sess, self._sv.global_step)
            self._sv.summary_writer.add_session_log(
                event_pb2.SessionLog(status=event_pb2.SessionLog.CHECKPOINT, checkpoint_path=self._sv.save_path),
                current_step)
