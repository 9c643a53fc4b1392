"""Shared pieces of the reliability suite: outcome tallies for fuzz tests and a guard that turns a hang into
a test failure."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections import Counter, defaultdict

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
