"""Moving averages: `assign_moving_average` (what batch normalization uses for its statistics) and
`tf.train.ExponentialMovingAverage`, which keeps a shadow variable `<var>/ExponentialMovingAverage` per variable."""

from __future__ import annotations

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.framework.ops import GraphKeys
from tfmini.ops import control_flow_ops, init_ops, math_ops, state_ops
from tfmini.ops import variable_scope as _vs
from tfmini.ops.variables import Variable, global_variables, moving_average_variables, trainable_variables
from tfmini.train.optimizer import create_slot, create_zeros_slot


def assign_moving_average(variable, value, decay, zero_debias: bool = True, name=None) -> _ops.Tensor:
    """variable -= (1 - decay) * (variable - value). With `zero_debias`, the average of the values seen so far
    is kept in a `biased` variable and `variable` gets it divided by 1 - decay**steps, undoing the pull
    towards the zero it started from."""
    with _ops.name_scope(name, "AssignMovingAvg", [variable, value, decay]) as scope:
        one_minus_decay = _ops.convert_to_tensor(1.0 - decay, name="decay")
        if one_minus_decay.dtype != variable.dtype.base_dtype:
            one_minus_decay = math_ops.cast(one_minus_decay, variable.dtype.base_dtype)
        if zero_debias:
            return _zero_debias(variable, value, one_minus_decay)
        return state_ops.assign_sub(variable, (variable - value) * one_minus_decay, name=scope)


def _unique_in_scope(name: str) -> str:
    scope = _vs.get_variable_scope()
    if scope.reuse:
        return name
    taken = {v.op.name for v in scope.global_variables()}
    full = scope.name + "/" + name
    if full not in taken:
        return name
    idx = 1
    while f"{full}_{idx}" in taken:
        idx += 1
    return f"{name}_{idx}"


def _zero_debias(unbiased: Variable, value, one_minus_decay) -> _ops.Tensor:
    with _vs.variable_scope(unbiased.op.name, values=[unbiased, value, one_minus_decay]):
        biased = _vs.get_variable(_unique_in_scope("biased"), initializer=init_ops.zeros_initializer(),
                                  shape=unbiased.get_shape(), dtype=unbiased.dtype.base_dtype, trainable=False)
        local_step = _vs.get_variable(_unique_in_scope("local_step"), shape=[], dtype=unbiased.dtype.base_dtype,
                                      initializer=init_ops.zeros_initializer(), trainable=False)
        update_biased = state_ops.assign_sub(biased, (biased - value) * one_minus_decay)
        update_local_step = local_step.assign_add(1)
        bias_factor = 1 - math_ops.pow(1.0 - one_minus_decay, update_local_step)
        return state_ops.assign(unbiased, update_biased / bias_factor, name=_ops.get_default_graph().get_name_scope()
                                + "/")


@tf_export("train.ExponentialMovingAverage")
class ExponentialMovingAverage:
    """`tf.train.ExponentialMovingAverage(decay, num_updates=None)`: `apply(var_list)` builds an op that moves
    a shadow copy of each variable towards it (shadow -= (1 - decay) * (shadow - var)); with `num_updates`, the
    decay is min(decay, (1 + num_updates) / (10 + num_updates)) so early averages move faster."""

    def __init__(self, decay, num_updates=None, zero_debias: bool = False,
                 name: str = "ExponentialMovingAverage") -> None:
        self._decay = decay
        self._num_updates = num_updates
        self._zero_debias = zero_debias
        self._name = name
        self._averages: dict = {}

    @property
    def name(self) -> str:
        return self._name

    def apply(self, var_list=None) -> _ops.Operation:
        """Creates the shadow variables (initialized to the variables' initial values) and returns the op
        that updates them all."""
        if var_list is None:
            var_list = trainable_variables()
        debiased = set()
        for var in var_list:
            if var.dtype.base_dtype not in (_dt.bfloat16, _dt.float16, _dt.float32, _dt.float64):
                raise TypeError(f"The variables must be half, float, or double: {var.name}")
            if var in self._averages:
                continue
            with _ops.init_scope():
                if isinstance(var, Variable):
                    avg = create_slot(var, var.initialized_value(), self._name)
                    _ops.add_to_collection(GraphKeys.MOVING_AVERAGE_VARIABLES, var)
                else:
                    # An average of a tensor sits beside it only when the tensor is a variable's handle or ref
                    # (TF's rule), so under replica_device_setter the average of a value gets a ps task.
                    avg = create_zeros_slot(var, self._name, colocate_with_primary=var.op.type in (
                        "Variable", "VariableV2", "VarHandleOp"))
                    if self._zero_debias:
                        debiased.add(avg)
            self._averages[var] = avg
        with _ops.name_scope(self._name) as scope:
            decay = _ops.convert_to_tensor(self._decay, name="decay")
            if self._num_updates is not None:
                num_updates = math_ops.cast(self._num_updates, _dt.float32, name="num_updates")
                decay = math_ops.minimum(decay, (1.0 + num_updates) / (10.0 + num_updates))
            updates = [assign_moving_average(self._averages[var], var, decay,
                                             zero_debias=self._averages[var] in debiased)
                       for var in var_list]
            return control_flow_ops.group(*updates, name=scope)

    def average(self, var):
        """The shadow variable of `var`, or None."""
        return self._averages.get(var)

    def average_name(self, var) -> str:
        """The name the shadow variable of `var` has (or would get): what a Saver restoring averages uses."""
        if var in self._averages:
            return self._averages[var].op.name
        return _ops.get_default_graph().unique_name(var.op.name + "/" + self._name, mark_as_used=False)

    def variables_to_restore(self, moving_avg_variables=None) -> dict:
        """{checkpoint name: variable} that loads each variable from its saved moving average (and the other
        global variables from themselves): pass it to `tf.train.Saver` to evaluate with averaged weights."""
        if moving_avg_variables is None:
            moving_avg_variables = trainable_variables() + moving_average_variables()
        moving_avg_variables = list(dict.fromkeys(moving_avg_variables))
        name_map = {self.average_name(v): v for v in moving_avg_variables}
        averaged = {v.name for v in moving_avg_variables}
        for v in global_variables():
            if v.name not in averaged and v.op.name not in name_map:
                name_map[v.op.name] = v
        return name_map
