"""slim's training helpers: `create_train_op` (contrib.training's with gradient multipliers and per-gradient
clipping), `train_step` and `train`, the loop TF1 slim scripts end with. `train` runs on a MonitoredSession
(TF 1.15 used a Supervisor): the same initialization, restoring from `logdir`, checkpoints every
`save_interval_secs`, summaries every `save_summaries_secs` and a stop at `number_of_steps`."""

from __future__ import annotations

import time

from tfmini.contrib import _training_impl as _training
from tfmini.framework import ops as _ops
from tfmini.framework import tf_logging as _logging
from tfmini.framework.api_export import tf_export
from tfmini.ops import control_flow_ops as _control_flow_ops
from tfmini.ops import math_ops as _math_ops
from tfmini.ops import summary_ops as _summary
from tfmini.ops import variables as _variables
from tfmini.train import basic_session_run_hooks as _hooks
from tfmini.train import monitored_session as _monitored_session
from tfmini.train import optimizer as _optimizer
from tfmini.train import saver as _saver
from tfmini.train import training_util as _training_util

_USE_DEFAULT = 0

for _name in ("add_gradients_summaries", "clip_gradient_norms", "multiply_gradients"):
    tf_export(f"contrib.slim.learning.{_name}").export_constant(_training.__name__, _name)


@tf_export("contrib.slim.learning.create_train_op")
def create_train_op(total_loss, optimizer, global_step=_training._USE_GLOBAL_STEP, update_ops=None,
                    variables_to_train=None, clip_gradient_norm=0, summarize_gradients=False,
                    gate_gradients=_optimizer.Optimizer.GATE_OP, aggregation_method=None,
                    colocate_gradients_with_ops=False, gradient_multipliers=None, check_numerics=True):
    """`tf.contrib.training.create_train_op` whose gradients are first multiplied by `gradient_multipliers`
    and then each clipped to `clip_gradient_norm` (when > 0)."""
    def transform_grads_fn(grads):
        if gradient_multipliers:
            with _ops.name_scope("multiply_grads"):
                grads = _training.multiply_gradients(grads, gradient_multipliers)
        if clip_gradient_norm > 0:
            with _ops.name_scope("clip_grads"):
                grads = _training.clip_gradient_norms(grads, clip_gradient_norm)
        return grads

    return _training.create_train_op(
        total_loss=total_loss, optimizer=optimizer, global_step=global_step, update_ops=update_ops,
        variables_to_train=variables_to_train, transform_grads_fn=transform_grads_fn,
        summarize_gradients=summarize_gradients, gate_gradients=gate_gradients,
        aggregation_method=aggregation_method, colocate_gradients_with_ops=colocate_gradients_with_ops,
        check_numerics=check_numerics)


@tf_export("contrib.slim.learning.train_step")
def train_step(sess, train_op, global_step, train_step_kwargs) -> tuple:
    """One step: runs `train_op` and the global step, logs every `should_log` step; returns (loss, should_stop)."""
    start = time.time()
    total_loss, np_global_step = sess.run([train_op, global_step])
    elapsed = time.time() - start
    if "should_log" in train_step_kwargs and sess.run(train_step_kwargs["should_log"]):
        _logging.info("global step %d: loss = %.4f (%.3f sec/step)", np_global_step, total_loss, elapsed)
    should_stop = bool(sess.run(train_step_kwargs["should_stop"])) if "should_stop" in train_step_kwargs else False
    return total_loss, should_stop


def _default_step_kwargs(global_step, number_of_steps, log_every_n_steps) -> dict:
    with _ops.name_scope("train_step"):
        kwargs = {}
        if number_of_steps:
            kwargs["should_stop"] = _math_ops.greater_equal(global_step, number_of_steps)
        else:
            kwargs["should_stop"] = _ops.convert_to_tensor(False)
        if log_every_n_steps > 0:
            kwargs["should_log"] = _math_ops.equal(_math_ops.floormod(global_step, log_every_n_steps), 0)
        return kwargs


@tf_export("contrib.slim.learning.train")
def train(train_op, logdir, train_step_fn=train_step, train_step_kwargs=_USE_DEFAULT, log_every_n_steps=1,
          graph=None, master="", is_chief=True, global_step=None, number_of_steps=None, init_op=_USE_DEFAULT,
          init_feed_dict=None, local_init_op=_USE_DEFAULT, init_fn=None, ready_op=_USE_DEFAULT,
          summary_op=_USE_DEFAULT, save_summaries_secs=600, summary_writer=_USE_DEFAULT, startup_delay_steps=0,
          saver=None, save_interval_secs=600, sync_optimizer=None, session_config=None, session_wrapper=None,
          trace_every_n_steps=None, ignore_live_threads=False):
    """Runs `train_step_fn` until it says stop (the global step reaching `number_of_steps`); returns the last
    loss. With a `logdir` the model is restored from it when it holds a checkpoint (else initialized and
    `init_fn(sess)` called), saved every `save_interval_secs` and at the end, and `summary_op` written every
    `save_summaries_secs`. Synchronous replicas, session wrappers, tracing and startup delays are refused."""
    if train_op is None:
        raise ValueError("train_op cannot be None.")
    if logdir is None:
        if summary_op is not _USE_DEFAULT:
            raise ValueError("Cannot provide summary_op because logdir=None")
        if saver is not None:
            raise ValueError("Cannot provide saver because logdir=None")
        if trace_every_n_steps is not None:
            raise ValueError("Cannot provide trace_every_n_steps because logdir=None")
    for given, what in ((sync_optimizer, "sync_optimizer"), (session_wrapper, "session_wrapper"),
                        (trace_every_n_steps, "trace_every_n_steps")):
        if given is not None:
            raise ValueError(f"slim.learning.train: {what} is not supported by tfmini")
    if startup_delay_steps:
        raise ValueError("slim.learning.train: startup_delay_steps is not supported by tfmini")
    if summary_writer is not _USE_DEFAULT:
        raise ValueError("slim.learning.train: a summary_writer of your own is not supported by tfmini; "
                         "summaries go to logdir")
    graph = graph or train_op.graph
    with graph.as_default():
        if global_step is None:
            global_step = _training_util.get_or_create_global_step()
        if train_step_kwargs is _USE_DEFAULT:
            train_step_kwargs = _default_step_kwargs(global_step, number_of_steps, log_every_n_steps)
        if summary_op is _USE_DEFAULT:
            summary_op = _summary.merge_all()
        if init_op is _USE_DEFAULT:
            init_op = _variables.global_variables_initializer()
        if local_init_op is _USE_DEFAULT:
            local_init_op = _control_flow_ops.group(_variables.local_variables_initializer())
        if ready_op is _USE_DEFAULT:
            ready_op = None
        if logdir is not None and saver is None:
            saver = _saver.Saver()
        scaffold = _monitored_session.Scaffold(
            init_op=init_op, init_feed_dict=init_feed_dict, ready_op=ready_op, local_init_op=local_init_op,
            init_fn=None if init_fn is None else (lambda _, sess: init_fn(sess)), saver=saver,
            summary_op=summary_op)
        hooks = []
        if logdir is not None and is_chief:
            hooks.append(_hooks.CheckpointSaverHook(logdir, save_secs=save_interval_secs, scaffold=scaffold))
            if summary_op is not None:
                hooks.append(_hooks.SummarySaverHook(save_secs=save_summaries_secs, output_dir=logdir,
                                                     summary_op=summary_op))
        creator = _monitored_session.ChiefSessionCreator(scaffold=scaffold, master=master, config=session_config,
                                                         checkpoint_dir=logdir)
        total_loss = None
        with _monitored_session.MonitoredSession(session_creator=creator, hooks=hooks) as sess:
            while not sess.should_stop():
                total_loss, should_stop = train_step_fn(sess, train_op, global_step, train_step_kwargs)
                if should_stop:
                    _logging.info("Stopping Training.")
                    break
        return total_loss
