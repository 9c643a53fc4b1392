"""`tf.train.SessionManager`: creates a session ready to train, from a checkpoint or by running init ops, or
waits until another process has made the model ready. Sessions come from the factory the client layer
registers here (`register_session_factory`): this layer may not import the client."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

import numpy as np

from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.train import checkpoint as _ckpt

_log = logging.getLogger("tfmini")

# The session class (target, graph=, config=) -> session, registered by the layer that owns it.
_session_factory: list[Callable] = []


def register_session_factory(factory: Callable) -> None:
    """Makes `factory(target, graph=graph, config=config)` the way this layer creates sessions (tf.Session)."""
    _session_factory[:] = [factory]


def new_session(target: str = "", graph: _ops.Graph | None = None, config=None):
    """A new session from the registered factory."""
    if not _session_factory:
        raise RuntimeError("No session class is registered with tfmini.train.session_manager; import tfmini to "
                           "register tf.Session.")
    return _session_factory[0](target, graph=graph, config=config)


def _maybe_name(obj) -> str:
    """The name of `obj` when it has one, else its text, for messages."""
    if obj is None:
        return "None"
    return getattr(obj, "name", None) or str(obj)


def _ready(op, sess, msg: str) -> tuple[bool, str | None]:
    """Whether `op` (a tensor of the names of what is not initialized) reports nothing in `sess`, with a
    message naming what is not ready otherwise. No op means ready."""
    if op is None:
        return True, None
    try:
        ready_value = sess.run(op)
    except _errors.FailedPreconditionError as e:
        if "uninitialized" not in str(e):
            _log.warning("%s : error [%s]", msg, e)
            raise
        return False, str(e)
    # Ready when the op reports an empty list (None and int32 results are accepted for old ready ops).
    if ready_value is None or np.asarray(ready_value).dtype == np.int32 or np.size(ready_value) == 0:
        return True, None
    names = ", ".join(v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in np.reshape(ready_value, -1))
    return False, "Variables not initialized: " + names


class _CountDownTimer:
    def __init__(self, duration_secs: float) -> None:
        self._start_time_secs = time.time()
        self._duration_secs = duration_secs

    def secs_remaining(self) -> float:
        return max(0.0, self._duration_secs - (time.time() - self._start_time_secs))


@tf_export("train.SessionManager")
class SessionManager:
    """Creates sessions for `graph` (the default graph) and makes them ready: `ready_op` reports the
    variables still uninitialized; `local_init_op` runs once `ready_for_local_init_op` reports nothing."""

    def __init__(self, local_init_op=None, ready_op=None, ready_for_local_init_op=None, graph=None,
                 recovery_wait_secs: float = 30, local_init_run_options=None, local_init_feed_dict=None) -> None:
        if graph is None:
            graph = _ops.get_default_graph()
        self._local_init_op = local_init_op
        self._local_init_feed_dict = local_init_feed_dict
        self._local_init_run_options = local_init_run_options
        self._ready_op = ready_op
        self._ready_for_local_init_op = ready_for_local_init_op
        self._graph = graph
        self._recovery_wait_secs = recovery_wait_secs
        self._target = None
        if ready_for_local_init_op is not None and local_init_op is None:
            raise ValueError("If you pass a ready_for_local_init_op you must also pass a local_init_op , "
                             f"ready_for_local_init_op [{ready_for_local_init_op}]")

    def _restore_checkpoint(self, master: str, saver=None, checkpoint_dir=None, checkpoint_filename_with_path=None,
                            wait_for_checkpoint: bool = False, max_wait_secs: float = 7200, config=None):
        """(a new session, whether it was restored from a checkpoint)."""
        self._target = master
        if checkpoint_dir and checkpoint_filename_with_path:
            raise ValueError("Can not provide both checkpoint_dir and checkpoint_filename_with_path.")
        sess = new_session(self._target, graph=self._graph, config=config)
        if not saver or not (checkpoint_dir or checkpoint_filename_with_path):
            return sess, False
        if checkpoint_filename_with_path:
            saver.restore(sess, checkpoint_filename_with_path)
            return sess, True
        checkpoint_dir = os.fspath(checkpoint_dir)
        wait_time = 0.0
        ckpt = _ckpt.get_checkpoint_state(checkpoint_dir)
        while not ckpt or not ckpt.model_checkpoint_path:
            if not (wait_for_checkpoint and wait_time < max_wait_secs):
                return sess, False
            _log.info("Waiting for checkpoint to be available.")
            time.sleep(self._recovery_wait_secs)
            wait_time += self._recovery_wait_secs
            ckpt = _ckpt.get_checkpoint_state(checkpoint_dir)
        saver.restore(sess, ckpt.model_checkpoint_path)
        saver.recover_last_checkpoints(list(ckpt.all_model_checkpoint_paths))
        return sess, True

    def prepare_session(self, master: str, init_op=None, saver=None, checkpoint_dir=None,
                        checkpoint_filename_with_path=None, wait_for_checkpoint: bool = False,
                        max_wait_secs: float = 7200, config=None, init_feed_dict=None, init_fn=None):
        """A session restored from the latest checkpoint (of `checkpoint_dir`, or the one given), or else
        initialized by `init_op` (with `init_feed_dict`) and `init_fn(sess)`; then `local_init_op` runs.
        RuntimeError if the model is still not ready."""
        sess, is_loaded = self._restore_checkpoint(
            master, saver, checkpoint_dir=checkpoint_dir, checkpoint_filename_with_path=checkpoint_filename_with_path,
            wait_for_checkpoint=wait_for_checkpoint, max_wait_secs=max_wait_secs, config=config)
        if not is_loaded:
            if init_op is None and not init_fn and self._local_init_op is None:
                raise RuntimeError("Model is not initialized and no init_op or init_fn or local_init_op was given")
            if init_op is not None:
                sess.run(init_op, feed_dict=init_feed_dict)
            if init_fn:
                init_fn(sess)
        local_init_success, msg = self._try_run_local_init_op(sess)
        if not local_init_success:
            raise RuntimeError(f"Init operations did not make model ready for local_init.  Init op: "
                               f"{_maybe_name(init_op)}, init fn: {init_fn}, error: {msg}")
        is_ready, msg = self._model_ready(sess)
        if not is_ready:
            raise RuntimeError(f"Init operations did not make model ready.  Init op: {_maybe_name(init_op)}, init "
                               f"fn: {init_fn}, local_init_op: {self._local_init_op}, error: {msg}")
        return sess

    def recover_session(self, master: str, saver=None, checkpoint_dir=None, checkpoint_filename_with_path=None,
                        wait_for_checkpoint: bool = False, max_wait_secs: float = 7200, config=None):
        """(a session, whether it was restored from a checkpoint and is ready). The local init op runs
        either way."""
        sess, is_loaded = self._restore_checkpoint(
            master, saver, checkpoint_dir=checkpoint_dir, checkpoint_filename_with_path=checkpoint_filename_with_path,
            wait_for_checkpoint=wait_for_checkpoint, max_wait_secs=max_wait_secs, config=config)
        local_init_success, msg = self._try_run_local_init_op(sess)
        if not is_loaded:
            return sess, False
        restoring_file = checkpoint_dir or checkpoint_filename_with_path
        if not local_init_success:
            _log.info("Restoring model from %s did not make model ready for local init: %s", restoring_file, msg)
            return sess, False
        is_ready, msg = self._model_ready(sess)
        if not is_ready:
            _log.info("Restoring model from %s did not make model ready: %s", restoring_file, msg)
            return sess, False
        _log.info("Restored model from %s", restoring_file)
        return sess, True

    def wait_for_session(self, master: str, config=None, max_wait_secs: float | None = float("inf")):
        """A session in which another process made the model ready (after this one's local init op),
        trying every `recovery_wait_secs`; DeadlineExceededError after `max_wait_secs`."""
        self._target = master
        if max_wait_secs is None:
            max_wait_secs = float("inf")
        timer = _CountDownTimer(max_wait_secs)
        while True:
            sess = new_session(self._target, graph=self._graph, config=config)
            not_ready_msg = None
            local_init_success, not_ready_local_msg = self._try_run_local_init_op(sess)
            if local_init_success:
                is_ready, not_ready_msg = self._model_ready(sess)
                if is_ready:
                    return sess
            self._safe_close(sess)
            if timer.secs_remaining() - self._recovery_wait_secs < 0:
                raise _errors.DeadlineExceededError(
                    None, None, f"Session was not ready after waiting {max_wait_secs} secs.")
            _log.info("Waiting for model to be ready.  Ready_for_local_init_op:  %s, ready: %s",
                      not_ready_local_msg, not_ready_msg)
            time.sleep(self._recovery_wait_secs)

    @staticmethod
    def _safe_close(sess) -> None:
        try:
            sess.close()
        except Exception:  # noqa: BLE001 - a session that will not close is dropped anyway
            pass

    def _model_ready(self, sess) -> tuple[bool, str | None]:
        return _ready(self._ready_op, sess, "Model not ready")

    def _model_ready_for_local_init(self, sess) -> tuple[bool, str | None]:
        return _ready(self._ready_for_local_init_op, sess, "Model not ready for local init")

    def _try_run_local_init_op(self, sess) -> tuple[bool, str | None]:
        if self._local_init_op is None:
            return True, None
        is_ready_for_local_init, msg = self._model_ready_for_local_init(sess)
        if not is_ready_for_local_init:
            return False, msg
        _log.info("Running local_init_op.")
        sess.run(self._local_init_op, feed_dict=self._local_init_feed_dict, options=self._local_init_run_options)
        _log.info("Done running local_init_op.")
        return True, None


__all__ = ["SessionManager"]
