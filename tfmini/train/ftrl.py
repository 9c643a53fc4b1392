"""`tf.train.FtrlOptimizer`: FTRL-proximal (McMahan et al.) with l1, l2 and l2-shrinkage regularization, its
slots "accum" and "linear" per variable, applied with the ApplyFtrl / ApplyFtrlV2 training ops."""

from __future__ import annotations

from tfmini.framework import constant_op
from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.ops import training_ops_more
from tfmini.train.optimizer import _update_op
from tfmini.train.proximal_gradient_descent import _RegularizedRateOptimizer


def _check_non_negative(value, what: str) -> None:
    if value < 0.0:
        raise ValueError(f"{what} {value:f} needs to be positive or zero")


@tf_export("train.FtrlOptimizer")
class FtrlOptimizer(_RegularizedRateOptimizer):
    """FTRL-proximal: per coordinate, `accum` sums the squared gradients and `linear` the gradients corrected
    for the changing rate; the variable is the closed-form minimizer of the regularized linear model, exactly
    zero where the l1 term wins. With `l2_shrinkage_regularization_strength` > 0 the gradient is shrunk by
    2 * l2_shrinkage * var first (ApplyFtrlV2)."""

    def __init__(self, learning_rate, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0, use_locking: bool = False,
                 name: str = "Ftrl", accum_name=None, linear_name=None,
                 l2_shrinkage_regularization_strength=0.0) -> None:
        super().__init__(use_locking, name)
        _check_non_negative(initial_accumulator_value, "initial_accumulator_value")
        if learning_rate_power > 0.0:
            raise ValueError(f"learning_rate_power {learning_rate_power:f} needs to be negative or zero")
        _check_non_negative(l1_regularization_strength, "l1_regularization_strength")
        _check_non_negative(l2_regularization_strength, "l2_regularization_strength")
        _check_non_negative(l2_shrinkage_regularization_strength, "l2_shrinkage_regularization_strength")
        self._learning_rate = learning_rate
        self._learning_rate_power = learning_rate_power
        self._initial_accumulator_value = initial_accumulator_value
        self._l1_regularization_strength = l1_regularization_strength
        self._l2_regularization_strength = l2_regularization_strength
        self._l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self._accum_name = accum_name
        self._linear_name = linear_name

    def _create_slots(self, var_list) -> None:
        for v in var_list:
            with _ops.colocate_with(v):
                val = constant_op.constant(self._initial_accumulator_value, dtype=v.dtype.base_dtype,
                                           shape=v.get_shape())
            self._get_or_make_slot(v, val, "accum", self._accum_name or self._name)
            self._zeros_slot(v, "linear", self._linear_name or self._name)

    def _prepare(self) -> None:
        super()._prepare()
        c = self._call_if_callable
        self._l2_shrinkage_regularization_strength_tensor = _ops.convert_to_tensor(
            c(self._l2_shrinkage_regularization_strength), name="l2_shrinkage_regularization_strength")
        self._learning_rate_power_tensor = _ops.convert_to_tensor(c(self._learning_rate_power),
                                                                  name="learning_rate_power")

    def _hyper(self, var) -> tuple[list, list]:
        """([lr, l1, l2], [l2_shrinkage]) or ([lr, l1, l2], []) and then lr_power, cast to the variable's type."""
        head = self._rate_and_regularization(var)
        shrinkage = []
        if self._l2_shrinkage_regularization_strength > 0.0:
            shrinkage = [self._cast(self._l2_shrinkage_regularization_strength_tensor, var)]
        return head + shrinkage + [self._cast(self._learning_rate_power_tensor, var)], shrinkage

    def _apply_dense(self, grad, var):
        accum, linear = self.get_slot(var, "accum"), self.get_slot(var, "linear")
        hyper, shrinkage = self._hyper(var)
        apply = training_ops_more.apply_ftrl_v2 if shrinkage else training_ops_more.apply_ftrl
        return _update_op(apply(var, accum, linear, grad, *hyper, use_locking=self._use_locking))

    def _apply_sparse(self, grad, var):
        accum, linear = self.get_slot(var, "accum"), self.get_slot(var, "linear")
        hyper, shrinkage = self._hyper(var)
        apply = training_ops_more.sparse_apply_ftrl_v2 if shrinkage else training_ops_more.sparse_apply_ftrl
        return _update_op(apply(var, accum, linear, grad.values, grad.indices, *hyper, use_locking=self._use_locking))
