"""`tf.train.Optimizer` and TF1's optimizers (GradientDescent, Momentum, Adam, Adadelta, Adagrad, RMSProp): graph
builders that compute gradients with `tf.gradients` and apply them with the training ops, keeping their
per-variable state in slot variables named `<var>/<Optimizer>`.
"""

from __future__ import annotations

import contextlib

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.framework.ops import GraphKeys
from tfmini.ops import array_ops, control_flow_ops, gradients_impl, init_ops, math_ops, state_ops
from tfmini.ops import variable_scope as _vs
from tfmini.ops.resource_variable_ops import is_resource_variable
from tfmini.ops.variables import Variable, trainable_variables


# ----------------------------------------------------------------------------------------------------------
# Slot variables
# ----------------------------------------------------------------------------------------------------------
def _create_slot_var(primary: Variable, val, shape, dtype, validate_shape: bool) -> Variable:
    scope = _vs.get_variable_scope()
    partitioner = scope.partitioner
    scope.set_partitioner(None)
    try:
        # A value (not an initializer) carries its own shape, so none is given. A resource variable's slots
        # are resource variables, a ref variable's are ref variables.
        slot = _vs.get_variable("", initializer=val, trainable=False, shape=shape if callable(val) else None,
                                dtype=dtype, validate_shape=validate_shape,
                                use_resource=is_resource_variable(primary))
    finally:
        scope.set_partitioner(partitioner)
    info = getattr(primary, "_save_slice_info", None)
    if info is not None:
        # A slot of one part of a partitioned variable is the same part of the slot of the whole: TF saves
        # `emb/Adam` in slices, as it saves `emb`. A scalar slot has no slices.
        ndims = slot.shape.ndims
        if ndims is None or ndims > 0:
            slot_name = slot.op.name[len(primary.op.name) + 1:]
            slot._set_save_slice_info(Variable.SaveSliceInfo(
                f"{info.full_name}/{slot_name}", info.full_shape[:ndims], info.var_offset[:ndims],
                info.var_shape[:ndims]))
    return slot


def _slot_placement(primary, colocate_with_primary: bool):
    """A slot sits beside its primary (on the primary's parameter server), unless asked not to."""
    return _ops.colocate_with(primary) if colocate_with_primary else contextlib.nullcontext()


def create_slot(primary: Variable, val, name: str, colocate_with_primary: bool = True) -> Variable:
    """A non-trainable variable `<primary>/<name>` initialized to the tensor `val`."""
    validate_shape = val.get_shape().is_fully_defined()
    with _vs.variable_scope(None, primary.op.name + "/" + name), _slot_placement(primary, colocate_with_primary):
        return _create_slot_var(primary, val, None, None, validate_shape)


def create_slot_with_initializer(primary: Variable, initializer, shape, dtype, name: str,
                                 colocate_with_primary: bool = True) -> Variable:
    """A non-trainable variable `<primary>/<name>` of `shape` and `dtype` built by `initializer`."""
    with _vs.variable_scope(None, primary.op.name + "/" + name), _slot_placement(primary, colocate_with_primary):
        return _create_slot_var(primary, initializer, shape, dtype, shape.is_fully_defined())


def create_zeros_slot(primary: Variable, name: str, dtype=None, colocate_with_primary: bool = True) -> Variable:
    """A non-trainable variable `<primary>/<name>` of zeros shaped like `primary`."""
    dtype = primary.dtype.base_dtype if dtype is None else dtype
    shape = primary.get_shape()
    if shape.is_fully_defined():
        return create_slot_with_initializer(primary, init_ops.zeros_initializer(), shape, dtype, name,
                                            colocate_with_primary)
    source = primary.initialized_value() if isinstance(primary, Variable) else primary
    value = array_ops.zeros(array_ops.shape(source), dtype=dtype)
    return create_slot(primary, value, name, colocate_with_primary)


def _var_key(var) -> tuple:
    return (var.op.graph, var.op.name)


# ----------------------------------------------------------------------------------------------------------
# How each kind of variable is differentiated and updated
# ----------------------------------------------------------------------------------------------------------
class _RefVariableProcessor:
    def __init__(self, v: Variable) -> None:
        self._v = v

    def target(self) -> _ops.Tensor:
        return self._v._ref()

    def update_op(self, optimizer: Optimizer, g):
        if isinstance(g, _ops.Tensor):
            update = optimizer._apply_dense(g, self._v)
            if self._v.constraint is None:
                return update
            with _ops.control_dependencies([update]):
                return self._v.assign(self._v.constraint(self._v))
        if self._v.constraint is not None:
            raise RuntimeError("Cannot use a constraint function on a sparse variable.")
        return optimizer._apply_sparse_duplicate_indices(g, self._v)


class _TensorProcessor:
    """Lets compute_gradients differentiate with respect to plain tensors (which cannot be updated)."""

    def __init__(self, v: _ops.Tensor) -> None:
        self._v = v

    def target(self) -> _ops.Tensor:
        return self._v

    def update_op(self, optimizer: Optimizer, g):
        raise NotImplementedError("Trying to update a Tensor ", self._v)


def _get_processor(v):
    if isinstance(v, Variable):
        return _RefVariableProcessor(v)
    if isinstance(v, _ops.Tensor):
        return _TensorProcessor(v)
    raise NotImplementedError("Trying to optimize unsupported type ", v)


def _flatten(var_list) -> list:
    if isinstance(var_list, dict):
        return [v for k in sorted(var_list) for v in _flatten(var_list[k])]
    if isinstance(var_list, (list, tuple)):
        return [v for item in var_list for v in _flatten(item)]
    return [var_list]


def _update_op(update) -> _ops.Operation:
    """The op of a training op's ref output, or the op itself (the Resource* forms have no output)."""
    return update.op if isinstance(update, _ops.Tensor) else update


def _is_sparse(g) -> bool:
    return hasattr(g, "indices") and hasattr(g, "values") and not isinstance(g, _ops.Tensor)


# ----------------------------------------------------------------------------------------------------------
# The base class
# ----------------------------------------------------------------------------------------------------------
@tf_export("train.Optimizer")
class Optimizer:
    """`tf.train.Optimizer`: `minimize(loss)` = `compute_gradients` + `apply_gradients`.

    Subclasses create their slots in `_create_slots`, convert hyperparameters to tensors in `_prepare`, and
    build each variable's update in `_apply_dense` / `_apply_sparse`; `_finish` groups the updates.
    """

    GATE_NONE = 0
    GATE_OP = 1
    GATE_GRAPH = 2

    def __init__(self, use_locking: bool, name: str) -> None:
        if not name:
            raise ValueError("Must specify the optimizer name")
        self._use_locking = use_locking
        self._name = name
        self._slots: dict[str, dict] = {}
        self._non_slot_dict: dict[tuple, Variable] = {}

    def get_name(self) -> str:
        return self._name

    def minimize(self, loss, global_step=None, var_list=None, gate_gradients=GATE_OP, aggregation_method=None,
                 colocate_gradients_with_ops: bool = False, name=None, grad_loss=None):
        """An op that updates `var_list` (default: the trainable variables) to decrease `loss`, and increments
        `global_step` when given."""
        grads_and_vars = self.compute_gradients(
            loss, var_list=var_list, gate_gradients=gate_gradients, aggregation_method=aggregation_method,
            colocate_gradients_with_ops=colocate_gradients_with_ops, grad_loss=grad_loss)
        vars_with_grad = [v for g, v in grads_and_vars if g is not None]
        if not vars_with_grad:
            raise ValueError(
                "No gradients provided for any variable, check your graph for ops that do not support gradients, "
                f"between variables {[str(v) for _, v in grads_and_vars]} and loss {loss}."
            )
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    def compute_gradients(self, loss, var_list=None, gate_gradients=GATE_OP, aggregation_method=None,
                          colocate_gradients_with_ops: bool = False, grad_loss=None) -> list:
        """[(gradient or None, variable)] of `loss` for each variable in `var_list` (default: trainable)."""
        if callable(loss):
            loss = loss()
        if gate_gradients not in (Optimizer.GATE_NONE, Optimizer.GATE_OP, Optimizer.GATE_GRAPH):
            raise ValueError(
                "gate_gradients must be one of: Optimizer.GATE_NONE, Optimizer.GATE_OP, Optimizer.GATE_GRAPH.  "
                f"Not {gate_gradients}"
            )
        self._assert_valid_dtypes([loss])
        if grad_loss is not None:
            self._assert_valid_dtypes([grad_loss])
        if var_list is None:
            var_list = trainable_variables() + _ops.get_collection(GraphKeys.TRAINABLE_RESOURCE_VARIABLES)
        else:
            var_list = _flatten(var_list)
        processors = [_get_processor(v) for v in var_list]
        if not var_list:
            raise ValueError("No variables to optimize.")
        var_refs = [p.target() for p in processors]
        grads = gradients_impl.gradients(
            loss, var_refs, grad_ys=grad_loss, gate_gradients=(gate_gradients == Optimizer.GATE_OP),
            aggregation_method=aggregation_method, colocate_gradients_with_ops=colocate_gradients_with_ops)
        if gate_gradients == Optimizer.GATE_GRAPH:
            grads = control_flow_ops.tuple(grads)
        grads_and_vars = list(zip(grads, var_list))
        self._assert_valid_dtypes([v for g, v in grads_and_vars if g is not None])
        return grads_and_vars

    def apply_gradients(self, grads_and_vars, global_step=None, name=None) -> _ops.Operation:
        """An op applying each (gradient, variable) update (skipping None gradients), then incrementing
        `global_step` when given."""
        grads_and_vars = tuple(grads_and_vars)
        if not grads_and_vars:
            raise ValueError("No variables provided.")
        converted = []
        for g, v in grads_and_vars:
            if g is not None:
                try:
                    g = _ops.convert_to_tensor_or_indexed_slices(g)
                except TypeError:
                    raise TypeError(f"Gradient must be convertible to a Tensor or IndexedSlices, or None: {g}") \
                        from None
                if not isinstance(g, _ops.Tensor) and not _is_sparse(g):
                    raise TypeError(f"Gradient must be a Tensor, IndexedSlices, or None: {g}")
            converted.append((g, v, _get_processor(v)))
        var_list = [v for g, v, _ in converted if g is not None]
        if not var_list:
            raise ValueError(f"No gradients provided for any variable: {[str(v) for _, v, _ in converted]}.")
        with _ops.init_scope():
            self._create_slots(var_list)
        update_ops = []
        with _ops.name_scope(name, self._name) as name:
            self._prepare()
            for grad, var, processor in converted:
                if grad is None:
                    continue
                # Everything a variable's update builds sits on the variable's device.
                with _ops.name_scope("update_" + var.op.name), _ops.colocate_with(var):
                    update_ops.append(processor.update_op(self, grad))
            if global_step is None:
                apply_updates = self._finish(update_ops, name)
            else:
                with _ops.control_dependencies([self._finish(update_ops, "update")]), \
                        _ops.colocate_with(global_step):
                    apply_updates = state_ops.assign_add(global_step, 1, name=name)
        if isinstance(apply_updates, _ops.Tensor):
            apply_updates = apply_updates.op
        train_ops = _ops.get_collection_ref(GraphKeys.TRAIN_OP)
        if apply_updates not in train_ops:
            train_ops.append(apply_updates)
        return apply_updates

    # -- slots -----------------------------------------------------------------
    def get_slot(self, var, name: str):
        """The slot variable `name` the optimizer made for `var`, or None."""
        named_slots = self._slots.get(name)
        if not named_slots:
            return None
        return named_slots.get(_var_key(var))

    def get_slot_names(self) -> list[str]:
        return sorted(self._slots)

    def variables(self) -> list:
        """The optimizer's own variables (slots and non-slot variables) in the default graph, by name."""
        graph = _ops.get_default_graph()
        found = [v for (_, g), v in self._non_slot_dict.items() if g is graph]
        for slots in self._slots.values():
            found.extend(v for v in slots.values() if v.graph is graph)
        return sorted(found, key=lambda v: v.name)

    def _slot_dict(self, slot_name: str) -> dict:
        return self._slots.setdefault(slot_name, {})

    def _get_or_make_slot(self, var, val, slot_name: str, op_name: str) -> Variable:
        named_slots = self._slot_dict(slot_name)
        if _var_key(var) not in named_slots:
            named_slots[_var_key(var)] = create_slot(var, val, op_name)
        return named_slots[_var_key(var)]

    def _get_or_make_slot_with_initializer(self, var, initializer, shape, dtype, slot_name: str,
                                           op_name: str) -> Variable:
        named_slots = self._slot_dict(slot_name)
        if _var_key(var) not in named_slots:
            named_slots[_var_key(var)] = create_slot_with_initializer(var, initializer, shape, dtype, op_name)
        return named_slots[_var_key(var)]

    def _zeros_slot(self, var, slot_name: str, op_name: str) -> Variable:
        named_slots = self._slot_dict(slot_name)
        if _var_key(var) not in named_slots:
            named_slots[_var_key(var)] = create_zeros_slot(var, op_name)
        return named_slots[_var_key(var)]

    def _create_non_slot_variable(self, initial_value, name: str, colocate_with) -> Variable:
        key = (name, colocate_with.graph)
        v = self._non_slot_dict.get(key)
        if v is None:
            with _ops.colocate_with(colocate_with):
                v = _vs.variable(initial_value, name=name, trainable=False,
                                 use_resource=is_resource_variable(colocate_with))
            self._non_slot_dict[key] = v
        return v

    def _get_non_slot_variable(self, name: str, graph=None):
        return self._non_slot_dict.get((name, graph))

    def _non_slot_variables(self) -> list:
        return list(self._non_slot_dict.values())

    # -- what subclasses provide -----------------------------------------------
    def _create_slots(self, var_list) -> None:
        pass

    def _prepare(self) -> None:
        pass

    def _apply_dense(self, grad, var):
        raise NotImplementedError()

    def _apply_sparse(self, grad, var):
        raise NotImplementedError()

    def _apply_sparse_duplicate_indices(self, grad, var):
        """Sums the gradient rows of repeated indices, then calls `_apply_sparse`."""
        unique_indices, positions = array_ops.unique(grad.indices)
        summed = math_ops.unsorted_segment_sum(grad.values, positions, array_ops.shape(unique_indices)[0])
        return self._apply_sparse(type(grad)(summed, unique_indices, grad.dense_shape), var)

    def _finish(self, update_ops, name_scope):
        return control_flow_ops.group(*update_ops, name=name_scope)

    # -- helpers ---------------------------------------------------------------
    def _valid_dtypes(self) -> set:
        return {_dt.float16, _dt.bfloat16, _dt.float32, _dt.float64}

    def _assert_valid_dtypes(self, tensors) -> None:
        valid = self._valid_dtypes()
        for t in tensors:
            dtype = t.dtype.base_dtype
            if dtype not in valid:
                raise ValueError(f"Invalid type {dtype!r} for {t.name}, expected: {sorted(valid, key=str)}.")

    @staticmethod
    def _call_if_callable(param):
        return param() if callable(param) else param

    @staticmethod
    def _cast(t, var):
        return math_ops.cast(t, var.dtype.base_dtype)


# ----------------------------------------------------------------------------------------------------------
# The optimizers
# ----------------------------------------------------------------------------------------------------------
@tf_export("train.GradientDescentOptimizer")
class GradientDescentOptimizer(Optimizer):
    """var -= learning_rate * grad."""

    def __init__(self, learning_rate, use_locking: bool = False, name: str = "GradientDescent") -> None:
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._learning_rate_tensor = None

    def _prepare(self) -> None:
        lr = self._call_if_callable(self._learning_rate)
        self._learning_rate_tensor = _ops.convert_to_tensor(lr, name="learning_rate")

    def _apply_dense(self, grad, var):
        return _update_op(state_ops.apply_gradient_descent(var, self._cast(self._learning_rate_tensor, var), grad,
                                                use_locking=self._use_locking))

    def _apply_sparse_duplicate_indices(self, grad, var):
        # Scatter-subtracting repeated rows adds them up already.
        delta = grad.values * self._cast(self._learning_rate_tensor, var)
        return var.scatter_sub(type(grad)(delta, grad.indices, grad.dense_shape), use_locking=self._use_locking)


@tf_export("train.MomentumOptimizer")
class MomentumOptimizer(Optimizer):
    """accum = momentum * accum + grad; var -= learning_rate * accum (Nesterov: var -= learning_rate *
    (grad + momentum * accum)). Slot "momentum"."""

    def __init__(self, learning_rate, momentum, use_locking: bool = False, name: str = "Momentum",
                 use_nesterov: bool = False) -> None:
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._momentum = momentum
        self._use_nesterov = use_nesterov

    def _create_slots(self, var_list) -> None:
        for v in var_list:
            self._zeros_slot(v, "momentum", self._name)

    def _prepare(self) -> None:
        self._learning_rate_tensor = _ops.convert_to_tensor(self._call_if_callable(self._learning_rate),
                                                            name="learning_rate")
        self._momentum_tensor = _ops.convert_to_tensor(self._call_if_callable(self._momentum), name="momentum")

    def _apply_dense(self, grad, var):
        mom = self.get_slot(var, "momentum")
        return _update_op(state_ops.apply_momentum(var, mom, self._cast(self._learning_rate_tensor, var), grad,
                                        self._cast(self._momentum_tensor, var), use_locking=self._use_locking,
                                        use_nesterov=self._use_nesterov))

    def _apply_sparse(self, grad, var):
        mom = self.get_slot(var, "momentum")
        lr = self._cast(self._learning_rate_tensor, var)
        momentum = self._cast(self._momentum_tensor, var)
        return _update_op(state_ops.sparse_apply_momentum(var, mom, lr, grad.values, grad.indices, momentum,
                                                          use_locking=self._use_locking,
                                                          use_nesterov=self._use_nesterov))


@tf_export("train.AdamOptimizer")
class AdamOptimizer(Optimizer):
    """Adam (Kingma & Ba): slots "m" and "v" per variable and the non-slot accumulators beta1_power and
    beta2_power, advanced once per step after all variables are updated."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, use_locking: bool = False,
                 name: str = "Adam") -> None:
        super().__init__(use_locking, name)
        self._lr = learning_rate
        self._beta1 = beta1
        self._beta2 = beta2
        self._epsilon = epsilon

    def _get_beta_accumulators(self) -> tuple:
        with _ops.init_scope():
            graph = _ops.get_default_graph()
        return self._get_non_slot_variable("beta1_power", graph), self._get_non_slot_variable("beta2_power", graph)

    def _create_slots(self, var_list) -> None:
        first_var = min(var_list, key=lambda x: x.name)
        self._create_non_slot_variable(self._beta1, "beta1_power", first_var)
        self._create_non_slot_variable(self._beta2, "beta2_power", first_var)
        for v in var_list:
            self._zeros_slot(v, "m", self._name)
            self._zeros_slot(v, "v", self._name)

    def _prepare(self) -> None:
        self._lr_t = _ops.convert_to_tensor(self._call_if_callable(self._lr), name="learning_rate")
        self._beta1_t = _ops.convert_to_tensor(self._call_if_callable(self._beta1), name="beta1")
        self._beta2_t = _ops.convert_to_tensor(self._call_if_callable(self._beta2), name="beta2")
        self._epsilon_t = _ops.convert_to_tensor(self._call_if_callable(self._epsilon), name="epsilon")

    def _apply_dense(self, grad, var):
        beta1_power, beta2_power = self._get_beta_accumulators()
        return _update_op(state_ops.apply_adam(
            var, self.get_slot(var, "m"), self.get_slot(var, "v"), self._cast(beta1_power, var),
            self._cast(beta2_power, var), self._cast(self._lr_t, var), self._cast(self._beta1_t, var),
            self._cast(self._beta2_t, var), self._cast(self._epsilon_t, var), grad,
            use_locking=self._use_locking))

    def _apply_sparse(self, grad, var):
        beta1_power, beta2_power = self._get_beta_accumulators()
        beta1_power, beta2_power = self._cast(beta1_power, var), self._cast(beta2_power, var)
        lr_t, epsilon_t = self._cast(self._lr_t, var), self._cast(self._epsilon_t, var)
        beta1_t, beta2_t = self._cast(self._beta1_t, var), self._cast(self._beta2_t, var)
        lr = lr_t * math_ops.sqrt(1 - beta2_power) / (1 - beta1_power)
        m = self.get_slot(var, "m")
        m_t = state_ops.assign(m, m * beta1_t, use_locking=self._use_locking)
        with _ops.control_dependencies([m_t]):
            m_t = state_ops.scatter_add(m, grad.indices, grad.values * (1 - beta1_t), use_locking=self._use_locking)
        v = self.get_slot(var, "v")
        v_t = state_ops.assign(v, v * beta2_t, use_locking=self._use_locking)
        with _ops.control_dependencies([v_t]):
            v_t = state_ops.scatter_add(v, grad.indices, (grad.values * grad.values) * (1 - beta2_t),
                                        use_locking=self._use_locking)
        var_update = state_ops.assign_sub(var, lr * m_t / (math_ops.sqrt(v_t) + epsilon_t),
                                          use_locking=self._use_locking)
        return control_flow_ops.group(var_update, m_t, v_t)

    def _finish(self, update_ops, name_scope):
        with _ops.control_dependencies(update_ops):
            beta1_power, beta2_power = self._get_beta_accumulators()
            with _ops.colocate_with(beta1_power):
                update_beta1 = beta1_power.assign(beta1_power * self._beta1_t, use_locking=self._use_locking)
                update_beta2 = beta2_power.assign(beta2_power * self._beta2_t, use_locking=self._use_locking)
        return control_flow_ops.group(*update_ops + [update_beta1, update_beta2], name=name_scope)


@tf_export("train.AdadeltaOptimizer")
class AdadeltaOptimizer(Optimizer):
    """Adadelta (Zeiler): per-variable slots "accum" (running mean of grad**2) and "accum_update" (of the
    squared updates) scale each step."""

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-8, use_locking: bool = False,
                 name: str = "Adadelta") -> None:
        super().__init__(use_locking, name)
        self._lr = learning_rate
        self._rho = rho
        self._epsilon = epsilon

    def _create_slots(self, var_list) -> None:
        for v in var_list:
            self._zeros_slot(v, "accum", self._name)
            self._zeros_slot(v, "accum_update", self._name)

    def _prepare(self) -> None:
        c = self._call_if_callable
        self._lr_t = _ops.convert_to_tensor(c(self._lr), name="lr")
        self._rho_t = _ops.convert_to_tensor(c(self._rho), name="rho")
        self._epsilon_t = _ops.convert_to_tensor(c(self._epsilon), name="epsilon")

    def _hyper(self, var) -> list:
        return [self._cast(t, var) for t in (self._lr_t, self._rho_t, self._epsilon_t)]

    def _apply_dense(self, grad, var):
        accum, accum_update = self.get_slot(var, "accum"), self.get_slot(var, "accum_update")
        return _update_op(state_ops.apply_adadelta(var, accum, accum_update, *self._hyper(var), grad,
                                        use_locking=self._use_locking))

    def _apply_sparse(self, grad, var):
        accum, accum_update = self.get_slot(var, "accum"), self.get_slot(var, "accum_update")
        return _update_op(state_ops.sparse_apply_adadelta(var, accum, accum_update, *self._hyper(var), grad.values,
                                               grad.indices, use_locking=self._use_locking))


@tf_export("train.AdagradOptimizer")
class AdagradOptimizer(Optimizer):
    """accum += grad**2; var -= learning_rate * grad / sqrt(accum). Slot "accumulator"."""

    def __init__(self, learning_rate, initial_accumulator_value=0.1, use_locking: bool = False,
                 name: str = "Adagrad") -> None:
        if initial_accumulator_value <= 0.0:
            raise ValueError(f"initial_accumulator_value must be positive: {initial_accumulator_value}")
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_accumulator_value = initial_accumulator_value

    def _create_slots(self, var_list) -> None:
        for v in var_list:
            dtype = v.dtype.base_dtype
            if v.get_shape().is_fully_defined():
                init = init_ops.constant_initializer(self._initial_accumulator_value, dtype=dtype)
            else:
                def init(shape=None, dtype=dtype, partition_info=None, v=v):
                    return array_ops.fill(array_ops.shape(v.initialized_value()),
                                          _ops.convert_to_tensor(self._initial_accumulator_value, dtype=dtype))
            self._get_or_make_slot_with_initializer(v, init, v.get_shape(), dtype, "accumulator", self._name)

    def _prepare(self) -> None:
        self._learning_rate_tensor = _ops.convert_to_tensor(self._call_if_callable(self._learning_rate),
                                                            name="learning_rate")

    def _apply_dense(self, grad, var):
        acc = self.get_slot(var, "accumulator")
        return _update_op(state_ops.apply_adagrad(var, acc, self._cast(self._learning_rate_tensor, var), grad,
                                       use_locking=self._use_locking))

    def _apply_sparse(self, grad, var):
        acc = self.get_slot(var, "accumulator")
        lr = self._cast(self._learning_rate_tensor, var)
        return _update_op(state_ops.sparse_apply_adagrad(var, acc, lr, grad.values, grad.indices,
                                                         use_locking=self._use_locking))


@tf_export("train.RMSPropOptimizer")
class RMSPropOptimizer(Optimizer):
    """ms = decay * ms + (1 - decay) * grad**2; mom = momentum * mom + learning_rate * grad / sqrt(ms + epsilon);
    var -= mom. With `centered`, ms is replaced by ms - mg**2 (mg the running mean of grad). Slots "rms"
    (starting at ones), "momentum" and, centered, "mg"."""

    def __init__(self, learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10, use_locking: bool = False,
                 centered: bool = False, name: str = "RMSProp") -> None:
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._decay = decay
        self._momentum = momentum
        self._epsilon = epsilon
        self._centered = centered

    def _create_slots(self, var_list) -> None:
        for v in var_list:
            dtype = v.dtype.base_dtype
            if v.get_shape().is_fully_defined():
                init_rms = init_ops.ones_initializer(dtype=dtype)
            else:
                def init_rms(shape=None, dtype=dtype, partition_info=None, v=v):
                    return array_ops.ones_like(v.initialized_value())
            self._get_or_make_slot_with_initializer(v, init_rms, v.get_shape(), dtype, "rms", self._name)
            if self._centered:
                self._zeros_slot(v, "mg", self._name)
            self._zeros_slot(v, "momentum", self._name)

    def _prepare(self) -> None:
        c = self._call_if_callable
        self._learning_rate_tensor = _ops.convert_to_tensor(c(self._learning_rate), name="learning_rate")
        self._decay_tensor = _ops.convert_to_tensor(c(self._decay), name="decay")
        self._momentum_tensor = _ops.convert_to_tensor(c(self._momentum), name="momentum")
        self._epsilon_tensor = _ops.convert_to_tensor(c(self._epsilon), name="epsilon")

    def _hyper(self, var) -> list:
        return [self._cast(t, var) for t in (self._learning_rate_tensor, self._decay_tensor, self._momentum_tensor,
                                             self._epsilon_tensor)]

    def _apply_dense(self, grad, var):
        rms, mom = self.get_slot(var, "rms"), self.get_slot(var, "momentum")
        if self._centered:
            mg = self.get_slot(var, "mg")
            return _update_op(state_ops.apply_centered_rms_prop(var, mg, rms, mom, *self._hyper(var), grad,
                                                     use_locking=self._use_locking))
        return _update_op(state_ops.apply_rms_prop(var, rms, mom, *self._hyper(var), grad,
                                                   use_locking=self._use_locking))

    def _apply_sparse(self, grad, var):
        rms, mom = self.get_slot(var, "rms"), self.get_slot(var, "momentum")
        if self._centered:
            mg = self.get_slot(var, "mg")
            return _update_op(state_ops.sparse_apply_centered_rms_prop(
                var, mg, rms, mom, *self._hyper(var), grad.values, grad.indices, use_locking=self._use_locking))
        return _update_op(state_ops.sparse_apply_rms_prop(var, rms, mom, *self._hyper(var), grad.values, grad.indices,
                                               use_locking=self._use_locking))
