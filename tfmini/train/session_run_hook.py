"""`tf.train.SessionRunHook` and the values a monitored session passes its hooks around each `run` call
(SessionRunArgs, SessionRunContext, SessionRunValues). Plain data: knows no session class and no op."""

from __future__ import annotations

import collections
from typing import Any

from tfmini.framework.api_export import tf_export


@tf_export("train.SessionRunHook")
class SessionRunHook:
    """Extends a monitored session: `begin()` before the graph is finalized, `after_create_session(session,
    coord)` whenever a session is (re)created, `before_run(run_context)` and `after_run(run_context,
    run_values)` around every `run` call, `end(session)` when the monitored session closes cleanly."""

    def begin(self) -> None:
        """Called once before the session is created; the graph may still be changed here."""

    def after_create_session(self, session, coord) -> None:
        """Called when a session was created (and again after each recovery); the graph is finalized."""

    def before_run(self, run_context: SessionRunContext) -> SessionRunArgs | None:
        """Called before each `run`; may return SessionRunArgs whose fetches, feeds and options join the call."""
        return None

    def after_run(self, run_context: SessionRunContext, run_values: SessionRunValues) -> None:
        """Called after each successful `run` with the values of the fetches this hook asked for."""

    def end(self, session) -> None:
        """Called when the monitored session closes without an error (not after an exception)."""


@tf_export("train.SessionRunArgs")
class SessionRunArgs(collections.namedtuple("SessionRunArgs", ["fetches", "feed_dict", "options"])):
    """What a hook adds to a `run` call: `fetches` (any structure `Session.run` takes), `feed_dict` and
    `RunOptions`."""

    __slots__ = ()

    def __new__(cls, fetches: Any, feed_dict: dict | None = None, options=None) -> SessionRunArgs:
        return super().__new__(cls, fetches, feed_dict, options)


@tf_export("train.SessionRunContext")
class SessionRunContext:
    """What a hook sees of a `run` call: the caller's arguments, the session, and a way to ask the loop to
    stop after this call."""

    def __init__(self, original_args: SessionRunArgs, session) -> None:
        self._original_args = original_args
        self._session = session
        self._stop_requested = False

    @property
    def original_args(self) -> SessionRunArgs:
        """The fetches and feed_dict the caller of `run` passed, as SessionRunArgs."""
        return self._original_args

    @property
    def session(self):
        """The raw session the call runs in (a hook may run other ops in it)."""
        return self._session

    @property
    def stop_requested(self) -> bool:
        """Whether a hook asked the loop to stop."""
        return self._stop_requested

    def request_stop(self) -> None:
        """Makes the monitored session's `should_stop()` return True after this call."""
        self._stop_requested = True


SessionRunValues = collections.namedtuple("SessionRunValues", ["results", "options", "run_metadata"])
tf_export("train.SessionRunValues")(SessionRunValues)
SessionRunValues.__doc__ = """What a `run` call returned to a hook: `results` (the values of the hook's fetches,
None when it asked for none), the RunOptions of the call and its RunMetadata."""

__all__ = ["SessionRunArgs", "SessionRunContext", "SessionRunHook", "SessionRunValues"]
