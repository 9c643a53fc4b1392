"""`tf.train.SyncReplicasOptimizer`: synchronous data-parallel training over replicas that each run the same
train op. Each replica pushes its gradients into one accumulator per variable (beside the variable) and then
waits for a token; the chief's queue runner takes the mean of `replicas_to_aggregate` gradients per variable,
applies it with the wrapped optimizer, advances the global step and hands out the next step's tokens.
Gradients computed at a step older than the global step are dropped by the accumulators.

`make_session_run_hook` gives the hook a MonitoredTrainingSession needs: it runs the local (or chief) init op
once the model is ready for it, fills the token queue and starts the chief's queue runner."""

from __future__ import annotations

import logging

import numpy as np

from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.framework.indexed_slices import IndexedSlices
from tfmini.ops import array_ops, control_flow_ops, data_flow_ops, state_ops
from tfmini.ops import variable_scope as _vs
from tfmini.ops import variables as _variables
from tfmini.ops.accumulator_ops import ConditionalAccumulator
from tfmini.ops.sparse_accumulator_ops import SparseConditionalAccumulator
from tfmini.train import optimizer as _optimizer
from tfmini.train import queue_runner_impl, session_manager
from tfmini.train.session_run_hook import SessionRunHook

_log = logging.getLogger("tfmini")


@tf_export("train.SyncReplicasOptimizer")
class SyncReplicasOptimizer(_optimizer.Optimizer):
    """Wraps `opt` so that replicas train synchronously: every step applies the mean of
    `replicas_to_aggregate` gradients per variable, whichever replicas computed them (`total_num_replicas`
    may be larger, for backup replicas, or smaller, when replicas compute several batches per step).

    Each replica runs the op `minimize`/`apply_gradients` returns; the chief also runs the queue runner of
    `get_chief_queue_runner()` and, once, `chief_init_op` and `get_init_tokens_op()`; other replicas run
    `local_step_init_op`. `make_session_run_hook(is_chief)` does all of that in a MonitoredTrainingSession.
    """

    def __init__(self, opt: _optimizer.Optimizer, replicas_to_aggregate: int, total_num_replicas=None,
                 variable_averages=None, variables_to_average=None, use_locking: bool = False,
                 name: str = "sync_replicas") -> None:
        if total_num_replicas is None:
            total_num_replicas = replicas_to_aggregate
        super().__init__(use_locking, name)
        _log.info("SyncReplicasV2: replicas_to_aggregate=%s; total_num_replicas=%s", replicas_to_aggregate,
                  total_num_replicas)
        self._opt = opt
        self._replicas_to_aggregate = replicas_to_aggregate
        self._gradients_applied = False
        self._variable_averages = variable_averages
        self._variables_to_average = variables_to_average
        self._total_num_replicas = total_num_replicas
        # The chief hands out this many tokens per step: enough for every replica, and for every gradient.
        self._tokens_per_step = max(total_num_replicas, replicas_to_aggregate)
        self._global_step = None
        self._sync_token_queue = None
        self._chief_queue_runner = None
        # (accumulator, device of its variable), in the order of the gradients.
        self._accumulator_list: list = []

    def compute_gradients(self, *args, **kwargs) -> list:
        """The wrapped optimizer's gradients, per replica (aggregation happens in apply_gradients, so a replica
        may still clip or otherwise change its own gradients)."""
        return self._opt.compute_gradients(*args, **kwargs)

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        """Builds the synchronization: the accumulators, the chief's update, the token queue and this
        replica's local step. Returns the replica's train op: push the gradients, then wait for a token and
        take its step as the local step. ValueError without gradients or without `global_step` (staleness is
        measured against it)."""
        if not grads_and_vars:
            raise ValueError("Must supply at least one variable")
        if global_step is None:
            raise ValueError("Global step is required to check staleness")
        self._global_step = global_step
        train_ops = []
        aggregated_grad = []
        var_list = []

        # The local step lives with this replica's ops (beside a no-op built under the current device scope),
        # never on a parameter server: every replica has its own.
        local_anchor = control_flow_ops.no_op()
        with _ops.colocate_with(local_anchor):
            self._local_step = _vs.variable(initial_value=0, trainable=False,
                                            collections=[_ops.GraphKeys.LOCAL_VARIABLES],
                                            dtype=global_step.dtype.base_dtype, name="sync_rep_local_step")
        self.local_step_init_op = state_ops.assign(self._local_step, global_step)
        chief_init_ops = [self.local_step_init_op]
        self.ready_for_local_init_op = _variables.report_uninitialized_variables(_variables.global_variables())

        with _ops.name_scope(None, self._name):
            for grad, var in grads_and_vars:
                var_list.append(var)
                with _ops.device(var.device):
                    if grad is None:
                        aggregated_grad.append(None)  # nothing to aggregate: passed through
                        continue
                    if isinstance(grad, _ops.Tensor):
                        grad_accum = ConditionalAccumulator(grad.dtype, shape=var.get_shape(),
                                                            shared_name=var.name + "/grad_accum")
                        train_ops.append(grad_accum.apply_grad(grad, local_step=self._local_step))
                        aggregated_grad.append(grad_accum.take_grad(self._replicas_to_aggregate))
                    else:
                        if not isinstance(grad, IndexedSlices):
                            raise ValueError("Unknown grad type!")
                        grad_accum = SparseConditionalAccumulator(grad.dtype, shape=(),
                                                                  shared_name=var.name + "/grad_accum")
                        train_ops.append(grad_accum.apply_indexed_slices_grad(grad, local_step=self._local_step))
                        aggregated_grad.append(grad_accum.take_indexed_slices_grad(self._replicas_to_aggregate))
                    self._accumulator_list.append((grad_accum, var.device))

            aggregated_grads_and_vars = zip(aggregated_grad, var_list)
            # The chief's update, the token queue and the replica's wait sit with the global step.
            with _ops.device(global_step.device), _ops.name_scope(""):
                update_op = self._opt.apply_gradients(aggregated_grads_and_vars, global_step)
            with _ops.device(global_step.device), _ops.name_scope(""):
                sync_token_queue = data_flow_ops.FIFOQueue(-1, global_step.dtype.base_dtype, shapes=(),
                                                           name="sync_token_q", shared_name="sync_token_q")
                self._sync_token_queue = sync_token_queue
            with _ops.device(global_step.device), _ops.name_scope(""):
                with _ops.control_dependencies(train_ops):
                    token = sync_token_queue.dequeue()
                train_op = state_ops.assign(self._local_step, token)

                with _ops.control_dependencies([update_op]):
                    tokens = array_ops.fill(np.array([self._tokens_per_step], np.int32), global_step)
                    sync_op = sync_token_queue.enqueue_many((tokens,))
                if self._variable_averages is not None:
                    with _ops.control_dependencies([sync_op]), _ops.name_scope(""):
                        sync_op = self._variable_averages.apply(self._variables_to_average)
                self._chief_queue_runner = queue_runner_impl.QueueRunner(sync_token_queue, [sync_op])
            for accum, dev in self._accumulator_list:
                with _ops.device(dev):
                    chief_init_ops.append(accum.set_global_step(global_step, name="SetGlobalStep"))
            self.chief_init_op = control_flow_ops.group(*chief_init_ops)
            self._gradients_applied = True
            return train_op

    def get_chief_queue_runner(self) -> queue_runner_impl.QueueRunner:
        """The queue runner the chief runs: take the aggregated gradients, apply them, advance the global step
        and enqueue the next tokens. ValueError before apply_gradients."""
        if self._gradients_applied is False:
            raise ValueError("Should be called after apply_gradients().")
        return self._chief_queue_runner

    def get_slot(self, *args, **kwargs):
        """The wrapped optimizer's slot."""
        return self._opt.get_slot(*args, **kwargs)

    def variables(self) -> list:
        """The wrapped optimizer's variables (not the local step)."""
        return self._opt.variables()

    def get_slot_names(self, *args, **kwargs) -> list[str]:
        """The wrapped optimizer's slot names."""
        return self._opt.get_slot_names(*args, **kwargs)

    def get_init_tokens_op(self, num_tokens: int = -1):
        """An op enqueueing `num_tokens` tokens (of the current global step; `replicas_to_aggregate` when -1)
        for the chief to run once, so that the first step can start. ValueError before apply_gradients, or for
        fewer tokens than `replicas_to_aggregate - total_num_replicas` (the first step could never finish)."""
        if self._gradients_applied is False:
            raise ValueError("get_init_tokens_op() should be called after apply_gradients().")
        tokens_needed = self._replicas_to_aggregate - self._total_num_replicas
        if num_tokens == -1:
            num_tokens = self._replicas_to_aggregate
        elif num_tokens < tokens_needed:
            raise ValueError(f"Too few tokens to finish the first step: {num_tokens} (given) vs {tokens_needed} "
                             "(needed)")
        if num_tokens > 0:
            with _ops.device(self._global_step.device), _ops.name_scope(""):
                tokens = array_ops.fill(np.array([num_tokens], np.int32), self._global_step)
                return self._sync_token_queue.enqueue_many((tokens,))
        return control_flow_ops.no_op(name="no_init_tokens")

    def make_session_run_hook(self, is_chief: bool, num_tokens: int = -1) -> SessionRunHook:
        """The hook that initializes this replica's synchronization in a MonitoredTrainingSession."""
        return _SyncReplicasOptimizerHook(self, is_chief, num_tokens)


class _SyncReplicasOptimizerHook(SessionRunHook):
    """Runs a SyncReplicasOptimizer's init ops when a session is created: the chief's (or a replica's) local
    init op once the global variables are initialized, then on the chief the initial tokens and the queue
    runner that aggregates and applies the gradients."""

    def __init__(self, sync_optimizer: SyncReplicasOptimizer, is_chief: bool, num_tokens: int) -> None:
        self._sync_optimizer = sync_optimizer
        self._is_chief = is_chief
        self._num_tokens = num_tokens

    def begin(self) -> None:
        if self._sync_optimizer._gradients_applied is False:
            raise ValueError("SyncReplicasOptimizer.apply_gradient should be called before using the hook.")
        self._ready_for_local_init_op = self._sync_optimizer.ready_for_local_init_op
        if self._is_chief:
            self._local_init_op = self._sync_optimizer.chief_init_op
            self._q_runner = self._sync_optimizer.get_chief_queue_runner()
            self._init_tokens_op = self._sync_optimizer.get_init_tokens_op(self._num_tokens)
        else:
            self._local_init_op = self._sync_optimizer.local_step_init_op
            self._q_runner = None
            self._init_tokens_op = None

    def after_create_session(self, session, coord) -> None:
        local_init_success, msg = session_manager._ready(
            self._ready_for_local_init_op, session, "Model is not ready for SyncReplicasOptimizer local init.")
        if not local_init_success:
            raise RuntimeError(f"Init operations did not make model ready for SyncReplicasOptimizer local_init. "
                               f"Init op: {self._local_init_op.name}, error: {msg}")
        session.run(self._local_init_op)
        if self._init_tokens_op is not None:
            session.run(self._init_tokens_op)
        if self._q_runner is not None:
            self._q_runner.create_threads(session, coord=coord, daemon=True, start=True)


__all__ = ["SyncReplicasOptimizer"]
