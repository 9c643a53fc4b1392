"""What loading the extension adds to a shell, kept so that unloading removes exactly that: the
InteractiveSession bound as `sess`, the magics, the display formatters; plus the session of the last
`%%run_graph --fresh` cell and the recent traced runs."""

from __future__ import annotations

import weakref
from collections import deque

import tfmini as tf
from ipython_ext import formatters
from ipython_ext.magics import ReportedError, RunGraphMagics, complete_run_graph
from ipython_ext.options import options
from ipython_ext.runs import op_error_text

SESSION_NAME = "sess"
COMPLETED = ("%run_graph", "%%run_graph")  # the commands whose arguments the extension completes

_loaded: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # shell -> Extension
_announced: weakref.WeakSet = weakref.WeakSet()  # shells told that `sess` was taken (said once per shell)


class Extension:
    """The extension's state in one IPython shell."""

    def __init__(self, shell) -> None:
        self.shell = shell
        self.session = None  # the InteractiveSession this extension made
        self.fresh = None  # the Session of the last %%run_graph --fresh cell
        self.traces: deque = deque(maxlen=options.trace_history)
        self.magics = RunGraphMagics(shell, self)
        self._previous_magics: dict[str, object] = {}
        self._registrations: list[formatters.Registration] = []

    # -- load / unload ---------------------------------------------------------
    def load(self) -> None:
        self._new_default_session(previous=None)
        table = self.shell.magics_manager.magics
        self._previous_magics = {kind: table[kind].get("run_graph") for kind in ("line", "cell")}
        self.shell.register_magics(self.magics)
        self._registrations = formatters.register(self.shell)
        for command in COMPLETED:
            self.shell.set_hook("complete_command", complete_run_graph, str_key=command)

    def unload(self) -> None:
        formatters.unregister(self._registrations)
        self._registrations = []
        self._remove_completer()
        manager = self.shell.magics_manager
        for kind, previous in self._previous_magics.items():
            current = manager.magics[kind].get("run_graph")
            if getattr(current, "__self__", None) is self.magics:
                if previous is None:
                    del manager.magics[kind]["run_graph"]
                else:
                    manager.magics[kind]["run_graph"] = previous
        if manager.registry.get(type(self.magics).__name__) is self.magics:
            del manager.registry[type(self.magics).__name__]
        self._close_fresh()
        if self.session is not None:
            self.session.close()
            if self.shell.user_ns.get(SESSION_NAME) is self.session:
                del self.shell.user_ns[SESSION_NAME]
            self.session = None

    def _remove_completer(self) -> None:
        """Takes our completion hook (set_hook binds it to the shell) out of IPython's dispatch table."""
        dispatch = self.shell.strdispatchers.get("complete_command")
        if dispatch is None:
            return
        for command in COMPLETED:
            chain = dispatch.strs.get(command)
            if chain is None:
                continue
            chain.chain[:] = [(p, f) for p, f in chain.chain if getattr(f, "__func__", f) is not complete_run_graph]
            if not chain.chain:
                del dispatch.strs[command]

    # -- sessions --------------------------------------------------------------
    def _new_default_session(self, previous) -> None:
        self.session = tf.InteractiveSession()
        ns = self.shell.user_ns
        if SESSION_NAME not in ns or ns[SESSION_NAME] is previous:
            ns[SESSION_NAME] = self.session
        elif self.shell not in _announced:
            _announced.add(self.shell)
            print(f"ipython_ext: `{SESSION_NAME}` is already defined, so it was left alone; the extension's "
                  "InteractiveSession is the default session (tf.get_default_session()).")

    def reset(self) -> None:
        """A new default graph and a new InteractiveSession (bound as `sess` if it was ours)."""
        try:
            tf.reset_default_graph()
        except AssertionError:
            raise ReportedError(
                "--reset: a graph is still entered as default (a `with g.as_default():` block or an "
                "InteractiveSession made with an explicit graph); close it first."
            ) from None
        previous = self.session
        if previous is not None:
            previous.close()
        self._close_fresh()
        self._new_default_session(previous)

    def fresh_session(self, graph, feed_dict=None):
        """A new Session on `graph` (a --fresh cell's graph), replacing the previous fresh session; global
        variables are initialized (with the cell's feeds, for initial values computed from placeholders),
        since nothing else could have done it yet."""
        self._close_fresh()
        self.fresh = tf.Session(graph=graph)
        if graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES):
            with graph.as_default():
                op = tf.global_variables_initializer()
            try:
                self.fresh.run(op, feed_dict=feed_dict or None)
            except tf.errors.OpError as e:
                raise ReportedError("initializing the cell's variables failed:\n" + op_error_text(e), e) from None
        return self.fresh

    def _close_fresh(self) -> None:
        if self.fresh is not None:
            self.fresh.close()
            self.fresh = None

    def session_for(self, graph):
        """The session to run fetches of `graph` in: the default session, else the last fresh one, else
        ours, whichever runs that graph (any of them when the fetches name no graph)."""
        candidates = [s for s in (tf.get_default_session(), self.fresh, self.session) if s is not None]
        for s in candidates:
            if graph is None or s.graph is graph:
                return s
        if not candidates:
            raise ReportedError("no default session: run `%run_graph --reset` or pass --session SESSION")
        raise ReportedError("the fetches belong to a graph that no open session runs: pass --session SESSION "
                            "(a tf.Session(graph=...) on that graph), or after tf.reset_default_graph() use "
                            "`%run_graph --reset`")

    def remember_trace(self, run_metadata) -> None:
        self.traces.append(run_metadata)


# -- entry points -----------------------------------------------------------------------------------------
def load(shell) -> None:
    if shell in _loaded:
        return
    ext = Extension(shell)
    ext.load()
    _loaded[shell] = ext


def unload(shell) -> None:
    ext = _loaded.pop(shell, None)
    if ext is not None:
        ext.unload()


def loaded(shell) -> Extension | None:
    return _loaded.get(shell)
