"""`tf.train.ProximalGradientDescentOptimizer`: a gradient step followed by the proximal step of l1 and l2
regularization (ApplyProximalGradientDescent); no slots."""

from __future__ import annotations

from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.ops import training_ops_more
from tfmini.train.optimizer import Optimizer, _update_op


class _RegularizedRateOptimizer(Optimizer):
    """An optimizer with a learning rate and l1 and l2 regularization strengths (the proximal optimizers and
    FTRL): `_prepare` makes their tensors, `_rate_and_regularization(var)` gives them cast to the variable's
    type."""

    def _prepare(self) -> None:
        c = self._call_if_callable
        self._learning_rate_tensor = _ops.convert_to_tensor(c(self._learning_rate), name="learning_rate")
        self._l1_regularization_strength_tensor = _ops.convert_to_tensor(
            c(self._l1_regularization_strength), name="l1_regularization_strength")
        self._l2_regularization_strength_tensor = _ops.convert_to_tensor(
            c(self._l2_regularization_strength), name="l2_regularization_strength")

    def _rate_and_regularization(self, var) -> list:
        return [self._cast(t, var) for t in (self._learning_rate_tensor, self._l1_regularization_strength_tensor,
                                             self._l2_regularization_strength_tensor)]


@tf_export("train.ProximalGradientDescentOptimizer")
class ProximalGradientDescentOptimizer(_RegularizedRateOptimizer):
    """prox = var - learning_rate * grad; var = sign(prox) * max(|prox| - learning_rate * l1, 0) /
    (1 + learning_rate * l2)."""

    def __init__(self, learning_rate, l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 use_locking: bool = False, name: str = "ProximalGradientDescent") -> None:
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._l1_regularization_strength = l1_regularization_strength
        self._l2_regularization_strength = l2_regularization_strength

    def _apply_dense(self, grad, var):
        return _update_op(training_ops_more.apply_proximal_gradient_descent(
            var, *self._rate_and_regularization(var), grad, use_locking=self._use_locking))

    def _apply_sparse(self, grad, var):
        return _update_op(training_ops_more.sparse_apply_proximal_gradient_descent(
            var, *self._rate_and_regularization(var), grad.values, grad.indices, use_locking=self._use_locking))
