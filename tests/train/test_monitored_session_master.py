"""tf.train.MonitoredTrainingSession as between-graph replication uses it: TF 1.15's whole parameter list, and
`master` and `config` reaching the session it creates, on the chief (which initializes the model) and on other
workers (which wait for it to be ready, up to `max_wait_secs`, and run only `hooks`)."""

from __future__ import annotations

import inspect

import pytest

import tfmini as tf
from tfmini.framework import errors
from tfmini.train import monitored_session
from tfmini.train import session_manager as session_manager_module

# TF 1.15's parameters, in order, with their defaults (USE_DEFAULT is the module's "not given" marker).
TF_115_PARAMETERS = [
    ("master", ""), ("is_chief", True), ("checkpoint_dir", None), ("scaffold", None), ("hooks", None),
    ("chief_only_hooks", None), ("save_checkpoint_secs", monitored_session.USE_DEFAULT),
    ("save_summaries_steps", monitored_session.USE_DEFAULT), ("save_summaries_secs", monitored_session.USE_DEFAULT),
    ("config", None), ("stop_grace_period_secs", 120), ("log_step_count_steps", 100), ("max_wait_secs", 7200),
    ("save_checkpoint_steps", monitored_session.USE_DEFAULT), ("summary_dir", None),
]


class _Recorder(tf.train.SessionRunHook):
    def __init__(self) -> None:
        self.created = 0

    def after_create_session(self, session, coord) -> None:
        self.created += 1


@pytest.fixture
def created_sessions(monkeypatch):
    """The (target, config) of every session the train layer creates; the sessions are local ones."""
    created = []

    def factory(target, graph=None, config=None):
        created.append((target, config))
        return tf.Session("", graph=graph, config=config)

    monkeypatch.setattr(session_manager_module, "_session_factory", [factory])
    return created


def test_the_parameters_are_tf_115s():
    params = inspect.signature(tf.train.MonitoredTrainingSession).parameters
    assert [(p.name, p.default) for p in params.values()] == TF_115_PARAMETERS


def test_the_chief_creates_its_session_on_master_with_config(created_sessions):
    with tf.Graph().as_default():
        v = tf.Variable(3.0)
        config = tf.ConfigProto(allow_soft_placement=True, operation_timeout_in_ms=5000)
        chief_only, everyone = _Recorder(), _Recorder()
        with tf.train.MonitoredTrainingSession(master="grpc://ps0:2222", is_chief=True, config=config,
                                               hooks=[everyone], chief_only_hooks=[chief_only],
                                               save_checkpoint_secs=None, save_summaries_steps=None,
                                               save_summaries_secs=None, stop_grace_period_secs=1,
                                               log_step_count_steps=10, max_wait_secs=5,
                                               save_checkpoint_steps=None, summary_dir=None) as sess:
            assert sess.run(v) == 3.0  # the chief initialized the model
    assert created_sessions == [("grpc://ps0:2222", config)]
    assert chief_only.created == everyone.created == 1


def test_a_worker_waits_for_the_model_on_master_with_config_and_runs_only_hooks(created_sessions):
    with tf.Graph().as_default():
        tf.constant(1.0)
        config = tf.ConfigProto(inter_op_parallelism_threads=1)
        chief_only, everyone = _Recorder(), _Recorder()
        with tf.train.MonitoredTrainingSession("grpc://worker1:2222", False, config=config, hooks=[everyone],
                                               chief_only_hooks=[chief_only]):
            pass
    assert created_sessions == [("grpc://worker1:2222", config)]
    assert (chief_only.created, everyone.created) == (0, 1)


def test_a_worker_gives_up_after_max_wait_secs_when_no_chief_initializes_the_model(created_sessions):
    with tf.Graph().as_default():
        tf.Variable(1.0, name="never_initialized")
        with pytest.raises(errors.DeadlineExceededError, match="Session was not ready after waiting 0 secs"):
            tf.train.MonitoredTrainingSession(master="grpc://worker1:2222", is_chief=False, max_wait_secs=0)
    assert created_sessions == [("grpc://worker1:2222", None)]
