"""`tf.logging`: TF 1.x's logging functions over Python's `logging`, on the logger tfmini's own modules use.

`tf.logging.set_verbosity(tf.logging.INFO)` therefore also shows what tfmini's hooks, savers and session managers
log (`LoggingTensorHook`, `StopAtStepHook`, ...), as it showed TensorFlow's. As in TF 1.15, the first call of a
`tf.logging` function gives the logger a handler writing `LEVEL:name:message` lines to standard error when the
program has configured no logging of its own; the level starts at WARN.
"""

from __future__ import annotations

import logging as _logging
import sys
import threading
from typing import Any

from tfmini.framework.api_export import tf_export

LOGGER_NAME = "tfmini"

DEBUG = _logging.DEBUG
INFO = _logging.INFO
WARN = _logging.WARN
ERROR = _logging.ERROR
FATAL = _logging.FATAL
for _name in ("DEBUG", "INFO", "WARN", "ERROR", "FATAL"):
    tf_export(f"logging.{_name}").export_constant(__name__, _name)

_lock = threading.Lock()
_configured = False
# (file, line) of a log_every_n / log_first_n call -> how many times it was called
_counts: dict[tuple[str, int], int] = {}


@tf_export("get_logger")
def get_logger() -> _logging.Logger:
    """The logger behind `tf.logging`, given a standard-error handler on first use if nothing is configured."""
    global _configured
    logger = _logging.getLogger(LOGGER_NAME)
    if not _configured:
        with _lock:
            if not _configured:
                if not _logging.getLogger().handlers and not logger.handlers:
                    handler = _logging.StreamHandler(sys.stderr)
                    handler.setFormatter(_logging.Formatter(_logging.BASIC_FORMAT))
                    logger.addHandler(handler)
                    logger.propagate = False
                if logger.level == _logging.NOTSET:
                    logger.setLevel(WARN)
                _configured = True
    return logger


@tf_export("logging.log")
def log(level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().log(level, msg, *args, **kwargs)


@tf_export("logging.debug")
def debug(msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().debug(msg, *args, **kwargs)


@tf_export("logging.info")
def info(msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().info(msg, *args, **kwargs)


@tf_export("logging.warning")
def warning(msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().warning(msg, *args, **kwargs)


@tf_export("logging.warn")
def warn(msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().warning(msg, *args, **kwargs)


@tf_export("logging.error")
def error(msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().error(msg, *args, **kwargs)


@tf_export("logging.fatal")
def fatal(msg: Any, *args: Any, **kwargs: Any) -> None:
    """Logs at FATAL; like TF's, it does not stop the program."""
    get_logger().fatal(msg, *args, **kwargs)


@tf_export("logging.vlog")
def vlog(level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().log(level, msg, *args, **kwargs)


@tf_export("logging.TaskLevelStatusMessage")
def TaskLevelStatusMessage(msg: Any) -> None:  # noqa: N802 - TF's name
    error(msg)


@tf_export("logging.flush")
def flush() -> None:
    for handler in get_logger().handlers:
        handler.flush()


@tf_export("logging.get_verbosity")
def get_verbosity() -> int:
    return get_logger().getEffectiveLevel()


@tf_export("logging.set_verbosity")
def set_verbosity(v: int) -> None:
    """Sets the threshold below which messages are dropped (`tf.logging.DEBUG`, `INFO`, `WARN`, `ERROR`, `FATAL`)."""
    get_logger().setLevel(v)


def _call_site_count() -> int:
    """How many times the caller of the caller has run this line, counting this call."""
    frame = sys._getframe(2)
    key = (frame.f_code.co_filename, frame.f_lineno)
    with _lock:
        _counts[key] = count = _counts.get(key, 0) + 1
    return count


@tf_export("logging.log_every_n")
def log_every_n(level: int, msg: Any, n: int, *args: Any) -> None:
    """Logs on the 1st, (n+1)th, (2n+1)th, ... call from one line of code."""
    count = _call_site_count()
    if (count - 1) % max(int(n), 1) == 0:
        get_logger().log(level, msg, *args)


@tf_export("logging.log_first_n")
def log_first_n(level: int, msg: Any, n: int, *args: Any) -> None:
    """Logs the first n calls from one line of code."""
    if _call_site_count() <= n:
        get_logger().log(level, msg, *args)


@tf_export("logging.log_if")
def log_if(level: int, msg: Any, condition: Any, *args: Any) -> None:
    if condition:
        get_logger().log(level, msg, *args)
