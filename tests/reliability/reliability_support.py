"""Shared pieces of the reliability suite: outcome tallies for fuzz tests, a guard that turns a hang into a
test failure, and an IPython shell with the extension loaded for the display tests."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator

# fuzz test name -> outcome -> count; printed by conftest's terminal summary.
TALLIES: dict[str, Counter] = defaultdict(Counter)


class Hang(Exception):
    """An example ran past its time limit."""


@contextlib.contextmanager
def no_hang(seconds: float):
    """Raises Hang in the main thread when the block runs longer than `seconds` (a no-op off the main
    thread, where signals cannot be delivered)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum, frame):
        raise Hang(f"example ran longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def extension_shell(setup: str = "") -> Iterator:
    """A fresh IPython shell (history in memory) with `%load_ext ipython_ext` done and `setup` run in it;
    afterwards the extension is unloaded and the default graph and session stack are clean again."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    import ipython_ext
    import tfmini as tf

    tf.reset_default_graph()
    InteractiveShell.clear_instance()
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    shell = InteractiveShell.instance(config=config)
    ipython_ext.load_ipython_extension(shell)
    if setup:
        shell.run_cell(setup)
    try:
        yield shell
    finally:
        ipython_ext.unload_ipython_extension(shell)
        InteractiveShell.clear_instance()
        while tf.get_default_session() is not None:
            tf.get_default_session().close()
        tf.reset_default_graph()
