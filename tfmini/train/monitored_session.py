"""Training loops as TensorFlow 1.x runs them: `Scaffold` (the init, ready, summary ops and saver a session
needs), session creators for the chief and for workers, `MonitoredSession` and `SingularMonitoredSession`
(hooks around every run, queue runners under a coordinator, recovery from preemption errors, a clean end on
OutOfRangeError) and `MonitoredTrainingSession`. Sessions come from session_manager's registered factory."""

from __future__ import annotations

import inspect
import logging
import os

from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.ops import array_ops, control_flow_ops, summary_ops
from tfmini.ops import variables as _variables
from tfmini.protobuf import config_pb2
from tfmini.train import basic_session_run_hooks as _hooks
from tfmini.train import queue_runner_impl
from tfmini.train.coordinator import Coordinator
from tfmini.train.saver import Saver
from tfmini.train.session_manager import SessionManager
from tfmini.train.session_run_hook import SessionRunArgs, SessionRunContext, SessionRunValues

_log = logging.getLogger("tfmini")

# Errors after which a session is recreated (a worker or parameter server went away and came back).
_PREEMPTION_ERRORS = (_errors.AbortedError, _errors.UnavailableError)

# The marker for "argument not given" of MonitoredTrainingSession's save_* arguments, as TF has it.
USE_DEFAULT = object()


# ----------------------------------------------------------------------------------------------------------
# Scaffold
# ----------------------------------------------------------------------------------------------------------
def _default_saver():
    """The saver of the SAVERS collection, or a new sharded one that allows an empty variable list (added to
    the collection)."""
    savers = _ops.get_collection(_ops.GraphKeys.SAVERS)
    if savers:
        if len(savers) > 1:
            raise RuntimeError(f"More than one item in collection {_ops.GraphKeys.SAVERS}. Please indicate which "
                               "one to use by passing it to the constructor.")
        return savers[0]
    saver = Saver(sharded=True, allow_empty=True)
    _ops.add_to_collection(_ops.GraphKeys.SAVERS, saver)
    return saver


@tf_export("train.Scaffold")
class Scaffold:
    """What a monitored session needs to create, initialize and save a model. Any part not given is taken
    from its graph collection (INIT_OP, READY_OP, READY_FOR_LOCAL_INIT_OP, LOCAL_INIT_OP, SUMMARY_OP,
    SAVERS) or built by `finalize()`, which then finalizes the graph. `init_fn(scaffold, session)` runs after
    `init_op` when no checkpoint was restored. `copy_from_scaffold` fills the parts not given from another
    Scaffold."""

    def __init__(self, init_op=None, init_feed_dict=None, init_fn=None, ready_op=None,
                 ready_for_local_init_op=None, local_init_op=None, summary_op=None, saver=None,
                 copy_from_scaffold=None) -> None:
        if copy_from_scaffold is not None:
            if not isinstance(copy_from_scaffold, Scaffold):
                raise TypeError("copy_from_scaffold is not a Scaffold instance.")

            def coalesce(given, copied):
                return given if given is not None else copied

            init_op = coalesce(init_op, copy_from_scaffold.init_op)
            init_feed_dict = coalesce(init_feed_dict, copy_from_scaffold.init_feed_dict)
            init_fn = coalesce(init_fn, copy_from_scaffold._user_init_fn)
            ready_op = coalesce(ready_op, copy_from_scaffold.ready_op)
            ready_for_local_init_op = coalesce(ready_for_local_init_op, copy_from_scaffold.ready_for_local_init_op)
            local_init_op = coalesce(local_init_op, copy_from_scaffold.local_init_op)
            summary_op = coalesce(summary_op, copy_from_scaffold.summary_op)
            saver = coalesce(saver, copy_from_scaffold.saver)
        # init_fn receives the scaffold too, so it can use the scaffold's saver.
        self._user_init_fn = init_fn
        self._init_fn = (lambda sess: init_fn(self, sess)) if init_fn else None
        self._init_op = init_op
        self._init_feed_dict = init_feed_dict
        self._ready_op = ready_op
        self._ready_for_local_init_op = ready_for_local_init_op
        self._local_init_op = local_init_op
        self._summary_op = summary_op
        self._saver = saver

    def finalize(self) -> Scaffold:
        """Builds the parts not given (or takes them from the graph's collections) and finalizes the graph."""
        if self._init_op is None:
            self._init_op = Scaffold.get_or_default("init_op", _ops.GraphKeys.INIT_OP, _default_init_op)
        if self._ready_op is None:
            self._ready_op = Scaffold.get_or_default("ready_op", _ops.GraphKeys.READY_OP, _default_ready_op)
        if self._ready_for_local_init_op is None:
            self._ready_for_local_init_op = Scaffold.get_or_default(
                "ready_for_local_init_op", _ops.GraphKeys.READY_FOR_LOCAL_INIT_OP, _default_ready_for_local_init_op)
        if self._local_init_op is None:
            self._local_init_op = Scaffold.get_or_default("local_init_op", _ops.GraphKeys.LOCAL_INIT_OP,
                                                          Scaffold.default_local_init_op)
        if self._summary_op is None:
            self._summary_op = Scaffold.get_or_default("summary_op", _ops.GraphKeys.SUMMARY_OP,
                                                       summary_ops.merge_all)
        if self._saver is None:
            self._saver = _default_saver()
        self._saver.build()
        _ops.get_default_graph().finalize()
        _log.info("Graph was finalized.")
        return self

    @property
    def init_fn(self):
        return self._init_fn

    @property
    def init_op(self):
        return self._init_op

    @property
    def ready_op(self):
        return self._ready_op

    @property
    def ready_for_local_init_op(self):
        return self._ready_for_local_init_op

    @property
    def local_init_op(self):
        return self._local_init_op

    @property
    def summary_op(self):
        return self._summary_op

    @property
    def saver(self):
        return self._saver

    @property
    def init_feed_dict(self):
        return self._init_feed_dict

    @staticmethod
    def get_or_default(arg_name: str, collection_key: str, default_constructor):
        """The one element of the collection `collection_key`, or `default_constructor()` (added to the
        collection unless None). RuntimeError when the collection holds several."""
        elements = _ops.get_collection(collection_key)
        if elements:
            if len(elements) > 1:
                raise RuntimeError(f'More than one item in the collection "{collection_key}". Please indicate '
                                   f"which one to use by passing it to the tf.Scaffold constructor as:  "
                                   f"tf.Scaffold({arg_name}=item to use)")
            return elements[0]
        op = default_constructor()
        if op is not None:
            _ops.add_to_collection(collection_key, op)
        return op

    @staticmethod
    def default_local_init_op():
        """Initializes the local variables and the tables."""
        tables = control_flow_ops.group(*_ops.get_collection(_ops.GraphKeys.TABLE_INITIALIZERS),
                                        name="init_all_tables")
        return control_flow_ops.group(_variables.local_variables_initializer(), tables)


def _default_init_op():
    return control_flow_ops.group(_variables.global_variables_initializer())


def _default_ready_op():
    return array_ops.concat([_variables.report_uninitialized_variables()], 0)


def _default_ready_for_local_init_op():
    return array_ops.concat([_variables.report_uninitialized_variables(_variables.global_variables())], 0)


# ----------------------------------------------------------------------------------------------------------
# Session creators
# ----------------------------------------------------------------------------------------------------------
@tf_export("train.SessionCreator")
class SessionCreator:
    """Creates a session for a monitored session (and again when it recovers)."""

    def create_session(self):
        raise NotImplementedError(f"create_session is not implemented for {self}.")


@tf_export("train.ChiefSessionCreator")
class ChiefSessionCreator(SessionCreator):
    """Creates a session that is restored from the latest checkpoint of `checkpoint_dir` (or
    `checkpoint_filename_with_path`) or initialized by the scaffold's init ops."""

    def __init__(self, scaffold: Scaffold | None = None, master: str = "", config=None, checkpoint_dir=None,
                 checkpoint_filename_with_path=None) -> None:
        self._checkpoint_dir = checkpoint_dir
        self._checkpoint_filename_with_path = checkpoint_filename_with_path
        self._scaffold = scaffold or Scaffold()
        self._session_manager = None
        self._master = master
        self._config = config

    def _get_session_manager(self) -> SessionManager:
        if self._session_manager is None:
            self._session_manager = SessionManager(
                local_init_op=self._scaffold.local_init_op, ready_op=self._scaffold.ready_op,
                ready_for_local_init_op=self._scaffold.ready_for_local_init_op, graph=_ops.get_default_graph())
        return self._session_manager

    def create_session(self):
        self._scaffold.finalize()
        return self._get_session_manager().prepare_session(
            self._master, saver=self._scaffold.saver, checkpoint_dir=self._checkpoint_dir,
            checkpoint_filename_with_path=self._checkpoint_filename_with_path, config=self._config,
            init_op=self._scaffold.init_op, init_feed_dict=self._scaffold.init_feed_dict,
            init_fn=self._scaffold.init_fn)


@tf_export("train.WorkerSessionCreator")
class WorkerSessionCreator(SessionCreator):
    """Creates a session once the chief has initialized the model (waiting up to `max_wait_secs`)."""

    def __init__(self, scaffold: Scaffold | None = None, master: str = "", config=None,
                 max_wait_secs: float = 30 * 60) -> None:
        self._scaffold = scaffold or Scaffold()
        self._session_manager = None
        self._master = master
        self._config = config
        self._max_wait_secs = max_wait_secs

    def _get_session_manager(self) -> SessionManager:
        if self._session_manager is None:
            self._session_manager = SessionManager(
                local_init_op=self._scaffold.local_init_op, ready_op=self._scaffold.ready_op,
                ready_for_local_init_op=self._scaffold.ready_for_local_init_op, graph=_ops.get_default_graph())
        return self._session_manager

    def create_session(self):
        self._scaffold.finalize()
        return self._get_session_manager().wait_for_session(self._master, config=self._config,
                                                            max_wait_secs=self._max_wait_secs)


# ----------------------------------------------------------------------------------------------------------
# The wrapped sessions: hooks, coordination, recovery (innermost first)
# ----------------------------------------------------------------------------------------------------------
class _WrappedSession:
    """A session wrapper that knows when to stop: its own `_check_stop()` or the wrapped one's."""

    def __init__(self, sess) -> None:
        self._sess = sess
        self._wrapped_is_stoppable = isinstance(sess, _WrappedSession)

    @property
    def graph(self):
        return self._sess.graph

    @property
    def sess_str(self) -> str:
        return self._sess.sess_str

    def should_stop(self) -> bool:
        if self._check_stop():
            return True
        if self._sess:
            return self._wrapped_is_stoppable and self._sess.should_stop()
        return True

    def _check_stop(self) -> bool:
        raise NotImplementedError

    def close(self) -> None:
        if self._sess:
            try:
                self._sess.close()
            except _PREEMPTION_ERRORS as e:
                _log.error("An error occurred when attempting to close the session. This may be due to a "
                           "preemption in a connected worker or parameter server. Error: %s", e)
            finally:
                self._sess = None

    def run(self, *args, **kwargs):
        return self._sess.run(*args, **kwargs)

    def run_step_fn(self, step_fn, raw_session, run_with_hooks):
        run_with_hooks = run_with_hooks or self.run
        return step_fn(_MonitoredSession.StepContext(raw_session, run_with_hooks))


class _HookedSession(_WrappedSession):
    """Calls the hooks around each run, merging their fetches, feeds and options into the call."""

    def __init__(self, sess, hooks: list) -> None:
        super().__init__(sess)
        self._hooks = hooks
        self._should_stop = False

    def _check_stop(self) -> bool:
        return self._should_stop

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        if self.should_stop():
            raise RuntimeError("Run called even after should_stop requested.")
        actual_fetches = {"caller": fetches}
        run_context = SessionRunContext(original_args=SessionRunArgs(fetches, feed_dict), session=self._sess)
        merged_options = config_pb2.RunOptions()
        if options is not None:
            merged_options.CopyFrom(options)
        feed_dict = self._call_hook_before_run(run_context, actual_fetches, feed_dict, merged_options)
        # The session is asked to trace only when the caller or a hook set an option.
        traced = options is not None or merged_options.ByteSize() > 0
        metadata = run_metadata if run_metadata is not None else config_pb2.RunMetadata()
        run_options = merged_options if traced else None
        run_metadata_arg = metadata if traced or run_metadata is not None else None
        if len(actual_fetches) == 1:
            # No hook fetches anything: the caller's fetches run as they are (the session's fast path).
            outputs = {"caller": self._sess.run(fetches, feed_dict=feed_dict, options=run_options,
                                                run_metadata=run_metadata_arg)}
        else:
            outputs = self._sess.run(actual_fetches, feed_dict=feed_dict, options=run_options,
                                     run_metadata=run_metadata_arg)
        for hook in self._hooks:
            hook.after_run(run_context, SessionRunValues(results=outputs.get(hook), options=merged_options,
                                                         run_metadata=metadata))
        self._should_stop = self._should_stop or run_context.stop_requested
        return outputs["caller"]

    def _call_hook_before_run(self, run_context, fetch_dict: dict, user_feed_dict, options):
        hook_feeds: dict = {}
        for hook in self._hooks:
            request = hook.before_run(run_context)
            if request is None:
                continue
            if request.fetches is not None:
                fetch_dict[hook] = request.fetches
            if request.feed_dict:
                _raise_if_feeds_intersect(hook_feeds, request.feed_dict, "Same tensor is fed by two hooks.")
                hook_feeds.update(request.feed_dict)
            if request.options:
                _merge_run_options(options, request.options)
        if not hook_feeds:
            return user_feed_dict
        if not user_feed_dict:
            return hook_feeds
        _raise_if_feeds_intersect(user_feed_dict, hook_feeds, "Same tensor is fed by a SessionRunHook and user.")
        hook_feeds.update(user_feed_dict)
        return hook_feeds


def _raise_if_feeds_intersect(feeds1: dict, feeds2: dict, message: str) -> None:
    intersection = set(feeds1) & set(feeds2)
    if intersection:
        raise RuntimeError(f"{message} Conflict(s): {list(intersection)}")


def _merge_run_options(options, incoming) -> None:
    """Merges a hook's RunOptions into the call's: the larger trace level, timeout and thread pool win."""
    options.trace_level = max(options.trace_level, incoming.trace_level)
    options.timeout_in_ms = max(options.timeout_in_ms, incoming.timeout_in_ms)
    options.inter_op_thread_pool = max(options.inter_op_thread_pool, incoming.inter_op_thread_pool)
    options.output_partition_graphs = max(options.output_partition_graphs, incoming.output_partition_graphs)
    options.debug_options.debug_tensor_watch_opts.extend(incoming.debug_options.debug_tensor_watch_opts)
    options.debug_options.reset_disk_byte_usage = (options.debug_options.reset_disk_byte_usage
                                                   or incoming.debug_options.reset_disk_byte_usage)
    options.report_tensor_allocations_upon_oom = (options.report_tensor_allocations_upon_oom
                                                  or incoming.report_tensor_allocations_upon_oom)


class _CoordinatedSession(_WrappedSession):
    """Stops when the coordinator was asked to stop (raising the exception a thread reported); closing asks
    the threads to stop and joins them."""

    def __init__(self, sess, coord: Coordinator, stop_grace_period_secs: float = 120) -> None:
        super().__init__(sess)
        self._coord = coord
        self._stop_grace_period_secs = stop_grace_period_secs

    def _check_stop(self) -> bool:
        self._coord.raise_requested_exception()
        return self._coord.should_stop()

    def close(self) -> None:
        self._coord.request_stop()
        try:
            self._coord.join(stop_grace_period_secs=self._stop_grace_period_secs, ignore_live_threads=True)
        finally:
            try:
                _WrappedSession.close(self)
            except Exception:  # noqa: BLE001 - join() already reported the errors that matter
                pass

    def run(self, *args, **kwargs):
        try:
            return self._sess.run(*args, **kwargs)
        except _PREEMPTION_ERRORS:
            raise
        except Exception as original:
            # A thread's preemption error is the root cause of a failure here: raise that one instead.
            try:
                self._coord.raise_requested_exception()
            except _PREEMPTION_ERRORS:
                raise
            except Exception:  # noqa: BLE001 - any other reported error: the run's own error is raised
                pass
            raise original from None


class _RecoverableSession(_WrappedSession):
    """Recreates the session (restoring from the latest checkpoint) when a run or a stop check meets a
    preemption error (AbortedError, UnavailableError)."""

    def __init__(self, sess_creator: SessionCreator) -> None:
        self._sess_creator = sess_creator
        super().__init__(self._create_session())

    def _create_session(self):
        while True:
            try:
                return self._sess_creator.create_session()
            except _PREEMPTION_ERRORS as e:
                _log.info("An error was raised while a session was being created. This may be due to a "
                          "preemption of a connected worker or parameter server. A new session will be created. "
                          "Error: %s", e)

    def _check_stop(self) -> bool:
        try:
            if self._sess:
                return self._sess._check_stop()
            return True
        except _PREEMPTION_ERRORS as e:
            _log.info("An error was raised while considering whether the session is complete. This may be due "
                      "to a preemption in a connected worker or parameter server. The current session will be "
                      "closed and a new session will be created. Error: %s", e)
            self.close()
            self._sess = self._create_session()
            # The session was just recreated: the computation goes on.
            return False
        except Exception:  # noqa: BLE001 - should_stop answers True rather than raise
            return True

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        while True:
            try:
                if not self._sess:
                    self._sess = self._create_session()
                return self._sess.run(fetches, feed_dict=feed_dict, options=options, run_metadata=run_metadata)
            except _PREEMPTION_ERRORS as e:
                _log.info("An error was raised. This may be due to a preemption in a connected worker or "
                          "parameter server. The current session will be closed and a new session will be "
                          "created. Error: %s", e)
                self.close()
                self._sess = None

    def run_step_fn(self, step_fn, raw_session, run_with_hooks):
        while True:
            try:
                if not self._sess:
                    self._sess = self._create_session()
                run_with_hooks = self._sess.run
                return self._sess.run_step_fn(step_fn, self._sess_creator.tf_sess, run_with_hooks)
            except _PREEMPTION_ERRORS as e:
                _log.info("An error was raised. This may be due to a preemption in a connected worker or "
                          "parameter server. The current session will be closed and a new session will be "
                          "created. Error: %s", e)
                self.close()
                self._sess = None


# ----------------------------------------------------------------------------------------------------------
# Monitored sessions
# ----------------------------------------------------------------------------------------------------------
class _CoordinatedSessionCreator(SessionCreator):
    """Creates the raw session, starts the graph's queue runners under a new coordinator, tells the hooks,
    and wraps the session with the hooks and the coordinator."""

    def __init__(self, session_creator: SessionCreator, hooks: list, stop_grace_period_secs: float) -> None:
        self._session_creator = session_creator
        self._hooks = hooks
        self.coord: Coordinator | None = None
        self.tf_sess = None
        self._stop_grace_period_secs = stop_grace_period_secs

    def create_session(self):
        self.tf_sess = self._session_creator.create_session()
        # The coordinator must not swallow any exception: no clean-stop types.
        self.coord = Coordinator(clean_stop_exception_types=[])
        try:
            if self.tf_sess.graph.get_collection(_ops.GraphKeys.QUEUE_RUNNERS):
                queue_runner_impl.start_queue_runners(sess=self.tf_sess, coord=self.coord)
            for hook in self._hooks:
                hook.after_create_session(self.tf_sess, self.coord)
        except BaseException:
            # Nobody gets this session: stop its queue-runner threads and close it before the error goes up.
            self.coord.request_stop()
            try:
                self.coord.join(stop_grace_period_secs=self._stop_grace_period_secs, ignore_live_threads=True)
            except Exception as e:  # noqa: BLE001 - a thread's own error must not replace the hook's
                _log.warning("A queue-runner thread failed while the session was being abandoned: %s", e)
            finally:
                self.tf_sess.close()
            raise
        return _CoordinatedSession(_HookedSession(self.tf_sess, self._hooks), self.coord,
                                   self._stop_grace_period_secs)


class _MonitoredSession:
    """What MonitoredSession and SingularMonitoredSession share."""

    def __init__(self, session_creator: SessionCreator | None, hooks, should_recover: bool,
                 stop_grace_period_secs: float = 120) -> None:
        self._graph_was_finalized = _ops.get_default_graph().finalized
        self._hooks = list(hooks or [])
        for hook in self._hooks:
            hook.begin()
        self._coordinated_creator = _CoordinatedSessionCreator(
            session_creator=session_creator or ChiefSessionCreator(), hooks=self._hooks,
            stop_grace_period_secs=stop_grace_period_secs)
        if should_recover:
            self._sess = _RecoverableSession(self._coordinated_creator)
        else:
            self._sess = self._coordinated_creator.create_session()

    @property
    def graph(self):
        """The graph the session runs."""
        return self._tf_sess().graph

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Runs `fetches` as `Session.run` does, with the hooks' before_run/after_run around the call."""
        return self._sess.run(fetches, feed_dict=feed_dict, options=options, run_metadata=run_metadata)

    def run_step_fn(self, step_fn):
        """Calls `step_fn(step_context)`: `step_context.session` is the raw session,
        `step_context.run_with_hooks(...)` runs with the hooks, `step_context.request_stop()` ends the loop.
        Returns what `step_fn` returns."""
        params = list(inspect.signature(step_fn).parameters)
        if params != ["step_context"] and params != ["self", "step_context"]:
            raise ValueError("`step_fn` may either have one `step_context` argument, or `self` and "
                             f"`step_context` arguments if it's an instance method. Got {tuple(params)} instead.")
        return self._sess.run_step_fn(step_fn, self._tf_sess(), run_with_hooks=None)

    class StepContext:
        """What `run_step_fn` gives its function: the raw session and a run that goes through the hooks."""

        def __init__(self, session, run_with_hooks_fn) -> None:
            self._session = session
            self._run_with_hooks_fn = run_with_hooks_fn

        @property
        def session(self):
            return self._session

        def run_with_hooks(self, *args, **kwargs):
            return self._run_with_hooks_fn(*args, **kwargs)

        def request_stop(self):
            """Ends the loop: raises StopIteration, which the monitored session's `with` block swallows."""
            raise StopIteration("step_fn has requested the iterations to stop.")

    def should_stop(self) -> bool:
        """Whether the loop should end: a hook requested a stop, the coordinator was stopped, or the session
        is closed."""
        return self._sess is None or self._sess.should_stop()

    def close(self) -> None:
        """Calls the hooks' end() and closes the session (stopping the queue runner threads)."""
        self._close_internal()

    def __enter__(self):
        return self

    def __exit__(self, exception_type, exception_value, traceback) -> bool:
        # An input running out (OutOfRangeError) or a step function's stop request ends the loop cleanly.
        if exception_type is not None and issubclass(exception_type, (_errors.OutOfRangeError, StopIteration)):
            exception_type = None
        self._close_internal(exception_type)
        return exception_type is None

    def _close_internal(self, exception_type=None) -> None:
        try:
            if not exception_type:
                for hook in self._hooks:
                    hook.end(self._coordinated_creator.tf_sess)
        finally:
            try:
                if self._sess is None:
                    raise RuntimeError("Session is already closed.")
                self._sess.close()
            finally:
                self._sess = None
                self._coordinated_creator.tf_sess = None
                self._coordinated_creator.coord = None
                if not self._graph_was_finalized:
                    _ops.get_default_graph()._unsafe_unfinalize()

    def _is_closed(self) -> bool:
        return self._sess is None

    def _tf_sess(self):
        return self._coordinated_creator.tf_sess


@tf_export("train.MonitoredSession")
class MonitoredSession(_MonitoredSession):
    """A session for training loops: `session_creator` (a ChiefSessionCreator by default) creates and
    initializes or restores the session; `hooks` run around every `run`; queue runners start under a
    coordinator; AbortedError and UnavailableError recreate the session; `should_stop()` says when to end.
    Used as a context manager, an OutOfRangeError ends the `with` block cleanly and the hooks' end() runs."""

    def __init__(self, session_creator: SessionCreator | None = None, hooks=None,
                 stop_grace_period_secs: float = 120) -> None:
        super().__init__(session_creator, hooks, should_recover=True,
                         stop_grace_period_secs=stop_grace_period_secs)


@tf_export("train.SingularMonitoredSession")
class SingularMonitoredSession(_MonitoredSession):
    """A MonitoredSession on one machine without recovery, created from a Scaffold (and checkpoint) directly;
    `raw_session()` is the underlying tf.Session."""

    def __init__(self, hooks=None, scaffold: Scaffold | None = None, master: str = "", config=None,
                 checkpoint_dir=None, stop_grace_period_secs: float = 120,
                 checkpoint_filename_with_path=None) -> None:
        session_creator = ChiefSessionCreator(scaffold=scaffold, master=master, config=config,
                                              checkpoint_dir=checkpoint_dir,
                                              checkpoint_filename_with_path=checkpoint_filename_with_path)
        super().__init__(session_creator, hooks, should_recover=False,
                         stop_grace_period_secs=stop_grace_period_secs)

    def raw_session(self):
        """The tf.Session inside (running it bypasses the hooks)."""
        return self._tf_sess()


@tf_export("train.MonitoredTrainingSession")
def MonitoredTrainingSession(master: str = "", is_chief: bool = True, checkpoint_dir=None,  # noqa: N802 - TF's name
                             scaffold: Scaffold | None = None, hooks=None, chief_only_hooks=None,
                             save_checkpoint_secs=USE_DEFAULT, save_summaries_steps=USE_DEFAULT,
                             save_summaries_secs=USE_DEFAULT, config=None, stop_grace_period_secs: float = 120,
                             log_step_count_steps: int = 100, max_wait_secs: float = 7200,
                             save_checkpoint_steps=USE_DEFAULT, summary_dir=None) -> MonitoredSession:
    """A MonitoredSession for training. The chief restores from or initializes `checkpoint_dir` and adds the
    standard hooks: StepCounterHook (every `log_step_count_steps`) and SummarySaverHook (every
    `save_summaries_steps`, 100 by default, or `save_summaries_secs`) writing to `summary_dir` (or
    `checkpoint_dir`), CheckpointSaverHook (every `save_checkpoint_secs`, 600 by default, or
    `save_checkpoint_steps`), then `chief_only_hooks` and `hooks`. Other workers wait up to `max_wait_secs`
    for the chief to initialize the model and run `hooks` only."""
    if save_summaries_steps is USE_DEFAULT and save_summaries_secs is USE_DEFAULT:
        save_summaries_steps, save_summaries_secs = 100, None
    elif save_summaries_secs is USE_DEFAULT:
        save_summaries_secs = None
    elif save_summaries_steps is USE_DEFAULT:
        save_summaries_steps = None
    if save_checkpoint_steps is USE_DEFAULT and save_checkpoint_secs is USE_DEFAULT:
        save_checkpoint_steps, save_checkpoint_secs = None, 600
    elif save_checkpoint_secs is USE_DEFAULT:
        save_checkpoint_secs = None
    elif save_checkpoint_steps is USE_DEFAULT:
        save_checkpoint_steps = None

    scaffold = scaffold or Scaffold()
    if not is_chief:
        session_creator = WorkerSessionCreator(scaffold=scaffold, master=master, config=config,
                                               max_wait_secs=max_wait_secs)
        return MonitoredSession(session_creator=session_creator, hooks=hooks or [],
                                stop_grace_period_secs=stop_grace_period_secs)

    all_hooks = list(chief_only_hooks or [])
    session_creator = ChiefSessionCreator(scaffold=scaffold, checkpoint_dir=checkpoint_dir, master=master,
                                          config=config)
    if checkpoint_dir is not None:
        checkpoint_dir = os.fspath(checkpoint_dir)
    # One cached FileWriter per directory: the same directory as a str and as a path must be one key.
    summary_dir = os.fspath(summary_dir) if summary_dir else checkpoint_dir
    if summary_dir:
        if log_step_count_steps and log_step_count_steps > 0:
            all_hooks.append(_hooks.StepCounterHook(output_dir=summary_dir, every_n_steps=log_step_count_steps))
        if (save_summaries_steps and save_summaries_steps > 0) or (save_summaries_secs and save_summaries_secs > 0):
            all_hooks.append(_hooks.SummarySaverHook(scaffold=scaffold, save_steps=save_summaries_steps,
                                                     save_secs=save_summaries_secs, output_dir=summary_dir))
    if checkpoint_dir:
        if (save_checkpoint_secs and save_checkpoint_secs > 0) or \
                (save_checkpoint_steps and save_checkpoint_steps > 0):
            all_hooks.append(_hooks.CheckpointSaverHook(checkpoint_dir, save_steps=save_checkpoint_steps,
                                                        save_secs=save_checkpoint_secs, scaffold=scaffold))
    all_hooks.extend(hooks or [])
    return MonitoredSession(session_creator=session_creator, hooks=all_hooks,
                            stop_grace_period_secs=stop_grace_period_secs)


__all__ = [
    "ChiefSessionCreator", "MonitoredSession", "MonitoredTrainingSession", "Scaffold", "SessionCreator",
    "SingularMonitoredSession", "WorkerSessionCreator",
]
