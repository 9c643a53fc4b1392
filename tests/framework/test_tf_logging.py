"""tf.logging: levels, verbosity, the handler TF 1.x installs, and the per-call-site counters."""

import logging

import pytest

import tfmini as tf
from tfmini.framework import tf_logging


@pytest.fixture
def captured():
    """tf.logging's records, with the logger's level and handlers restored afterwards."""
    logger = tf.get_logger()
    level = logger.level
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Keep()
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_levels_are_pythons():
    assert (tf.logging.DEBUG, tf.logging.INFO, tf.logging.WARN, tf.logging.ERROR, tf.logging.FATAL) == (
        10, 20, 30, 40, 50)


def test_verbosity_filters_and_is_reported(captured):
    tf.logging.set_verbosity(tf.logging.WARN)
    tf.logging.info("hidden %d", 1)
    tf.logging.warning("shown %d", 2)
    tf.logging.warn("also shown")
    assert [r.getMessage() for r in captured] == ["shown 2", "also shown"]
    tf.logging.set_verbosity(tf.logging.INFO)
    assert tf.logging.get_verbosity() == tf.logging.INFO
    tf.logging.info("now %s", "visible")
    tf.logging.debug("still hidden")
    tf.logging.error("an error")
    tf.logging.fatal("fatal does not exit")
    tf.logging.log(tf.logging.WARN, "via log")
    tf.logging.vlog(tf.logging.ERROR, "via vlog")
    tf.logging.TaskLevelStatusMessage("status")
    tf.logging.flush()
    assert [(r.levelno, r.getMessage()) for r in captured[2:]] == [
        (20, "now visible"), (40, "an error"), (50, "fatal does not exit"), (30, "via log"), (40, "via vlog"),
        (40, "status"),
    ]


def test_tfminis_own_modules_log_through_tf_logging(captured):
    """A hook's INFO lines appear once the user asks for INFO, as TensorFlow's did."""
    tf.logging.set_verbosity(tf.logging.INFO)
    logging.getLogger(tf_logging.LOGGER_NAME).info("from a hook")
    assert [r.getMessage() for r in captured] == ["from a hook"]


def test_log_every_n_and_first_n_count_per_call_site(captured):
    tf.logging.set_verbosity(tf.logging.INFO)
    for i in range(7):
        tf.logging.log_every_n(tf.logging.INFO, "every %d", 3, i)
    for i in range(5):
        tf.logging.log_first_n(tf.logging.INFO, "first %d", 2, i)
    tf.logging.log_if(tf.logging.INFO, "if %s", False, "no")
    tf.logging.log_if(tf.logging.INFO, "if %s", True, "yes")
    assert [r.getMessage() for r in captured] == ["every 0", "every 3", "every 6", "first 0", "first 1", "if yes"]


def test_first_use_installs_tf1s_stderr_handler_at_warn(capsys, monkeypatch):
    monkeypatch.setattr(tf_logging, "LOGGER_NAME", "tfmini_fresh_logger")
    monkeypatch.setattr(tf_logging, "_configured", False)
    monkeypatch.setattr(logging.getLogger(), "handlers", [])
    logger = tf.get_logger()
    assert logger.name == "tfmini_fresh_logger" and logger.level == tf.logging.WARN
    tf.logging.info("not shown")
    tf.logging.warning("Saving %s", "checkpoints")
    assert capsys.readouterr().err == "WARNING:tfmini_fresh_logger:Saving checkpoints\n"
    tf.get_logger()
    assert len(logger.handlers) == 1


def test_a_configured_program_gets_no_extra_handler(monkeypatch):
    monkeypatch.setattr(tf_logging, "LOGGER_NAME", "tfmini_configured_logger")
    monkeypatch.setattr(tf_logging, "_configured", False)
    monkeypatch.setattr(logging.getLogger(), "handlers", [logging.NullHandler()])
    assert tf.get_logger().handlers == []
