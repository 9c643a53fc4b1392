"""`tf.train.AdagradDAOptimizer`: Adagrad dual averaging (ApplyAdagradDA), for sparse linear models; slots
"gradient_accumulator" and "gradient_squared_accumulator", and the global step it is given."""

from __future__ import annotations

from tfmini.framework import constant_op
from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.ops import array_ops, training_ops_more
from tfmini.train.optimizer import Optimizer, _update_op


@tf_export("train.AdagradDAOptimizer")
class AdagradDAOptimizer(Optimizer):
    """Each step recomputes the variable from the running sums: with t = global_step + 1 (read when the
    update runs), var = -sign(g_acc) * max(|g_acc| - l1 * t, 0) * lr / (l2 * t * lr + sqrt(gg_acc)).
    `global_step` must be an int64 variable (the op takes it as int64), usually the one `minimize` increments."""

    def __init__(self, learning_rate, global_step, initial_gradient_squared_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0, use_locking: bool = False,
                 name: str = "AdagradDA") -> None:
        if initial_gradient_squared_accumulator_value <= 0.0:
            raise ValueError("initial_gradient_squared_accumulator_value must be positive: "
                             f"{initial_gradient_squared_accumulator_value}")
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_gradient_squared_accumulator_value = initial_gradient_squared_accumulator_value
        self._l1_regularization_strength = l1_regularization_strength
        self._l2_regularization_strength = l2_regularization_strength
        self._global_step = global_step
        self._global_step_on_worker = None

    def _create_slots(self, var_list) -> None:
        for v in var_list:
            with _ops.colocate_with(v):
                dtype = v.dtype.base_dtype
                g_val = constant_op.constant(0.0, shape=v.get_shape(), dtype=dtype)
                gg_val = constant_op.constant(self._initial_gradient_squared_accumulator_value, shape=v.get_shape(),
                                              dtype=dtype)
            self._get_or_make_slot(v, g_val, "gradient_accumulator", self._name)
            self._get_or_make_slot(v, gg_val, "gradient_squared_accumulator", self._name)

    def _prepare(self) -> None:
        self._learning_rate_tensor = _ops.convert_to_tensor(self._call_if_callable(self._learning_rate),
                                                            name="learning_rate")
        # The step the update uses: the global step read once per run, plus one, beside the learning rate (TF's
        # placement under replica_device_setter).
        with _ops.colocate_with(self._learning_rate_tensor):
            self._global_step_on_worker = array_ops.identity(self._global_step) + 1

    def _hyper(self, var) -> list:
        return [self._cast(t, var) for t in (self._learning_rate_tensor, self._l1_regularization_strength,
                                             self._l2_regularization_strength)]

    def _apply_dense(self, grad, var):
        g_acc = self.get_slot(var, "gradient_accumulator")
        gg_acc = self.get_slot(var, "gradient_squared_accumulator")
        global_step = array_ops.identity(self._global_step_on_worker)
        return _update_op(training_ops_more.apply_adagrad_da(var, g_acc, gg_acc, grad, *self._hyper(var),
                                                             global_step, use_locking=self._use_locking))

    def _apply_sparse(self, grad, var):
        g_acc = self.get_slot(var, "gradient_accumulator")
        gg_acc = self.get_slot(var, "gradient_squared_accumulator")
        global_step = array_ops.identity(self._global_step_on_worker)
        return _update_op(training_ops_more.sparse_apply_adagrad_da(
            var, g_acc, gg_acc, grad.values, grad.indices, *self._hyper(var), global_step,
            use_locking=self._use_locking))
