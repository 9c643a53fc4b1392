"""`tf.train.ProximalAdagradOptimizer`: Adagrad's per-coordinate rate followed by the proximal step of l1 and
l2 regularization (ApplyProximalAdagrad); slot "accumulator"."""

from __future__ import annotations

from tfmini.framework import constant_op
from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.ops import training_ops_more
from tfmini.train.optimizer import _update_op
from tfmini.train.proximal_gradient_descent import _RegularizedRateOptimizer


@tf_export("train.ProximalAdagradOptimizer")
class ProximalAdagradOptimizer(_RegularizedRateOptimizer):
    """accum += grad**2; rate = learning_rate / sqrt(accum); prox = var - rate * grad;
    var = sign(prox) * max(|prox| - rate * l1, 0) / (1 + rate * l2)."""

    def __init__(self, learning_rate, initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, use_locking: bool = False, name: str = "ProximalAdagrad") -> None:
        if initial_accumulator_value <= 0.0:
            raise ValueError(f"initial_accumulator_value must be positive: {initial_accumulator_value}")
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_accumulator_value = initial_accumulator_value
        self._l1_regularization_strength = l1_regularization_strength
        self._l2_regularization_strength = l2_regularization_strength

    def _create_slots(self, var_list) -> None:
        for v in var_list:
            with _ops.colocate_with(v):
                val = constant_op.constant(self._initial_accumulator_value, shape=v.get_shape(),
                                           dtype=v.dtype.base_dtype)
            self._get_or_make_slot(v, val, "accumulator", self._name)

    def _apply_dense(self, grad, var):
        acc = self.get_slot(var, "accumulator")
        return _update_op(training_ops_more.apply_proximal_adagrad(var, acc, *self._rate_and_regularization(var), grad,
                                                                   use_locking=self._use_locking))

    def _apply_sparse(self, grad, var):
        acc = self.get_slot(var, "accumulator")
        return _update_op(training_ops_more.sparse_apply_proximal_adagrad(
            var, acc, *self._rate_and_regularization(var), grad.values, grad.indices, use_locking=self._use_locking))
