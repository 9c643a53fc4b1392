"""`tf.contrib.training`: `HParams` (named hyperparameters with fixed types, parsed from `"a=1,b=[2,3]"` strings
or JSON, with TF 1.15's type rules: no bool<->number, no float->int, no number->str), and the training helpers
`create_train_op`, `train` (a MonitoredTrainingSession loop) and the gradient transforms they use; the ps
placement strategies for `tf.train.replica_device_setter` (`RandomStrategy`, `GreedyLoadBalancingStrategy` with
`byte_size_load_fn`)."""

from __future__ import annotations

import hashlib
import json
import numbers
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _tensor_shape
from tfmini.framework import tf_logging as _logging
from tfmini.framework.api_export import tf_export
from tfmini.framework.indexed_slices import IndexedSlices
from tfmini.ops import check_ops as _check_ops
from tfmini.ops import control_flow_ops as _control_flow_ops
from tfmini.ops import math_ops as _math_ops
from tfmini.ops import summary_ops as _summary
from tfmini.ops import variables as _variables
from tfmini.train import monitored_session as _monitored_session
from tfmini.train import optimizer as _optimizer
from tfmini.train import training_util as _training_util

# name, optional [index], '=', then one value (no comma or '[') or a bracketed list; a comma ends each assignment.
_ASSIGNMENT = re.compile(r"""
    (?P<name>[a-zA-Z][\w.]*)
    (\[\s*(?P<index>\d+)\s*\])?
    \s*=\s*
    ((?P<val>[^,\[]*) | \[(?P<vals>[^\]]*)\])
    ($|,\s*)""", re.VERBOSE)


def _parse_fail(name: str, var_type: type, value, values: str):
    raise ValueError(f"Could not parse hparam '{name}' of type '{var_type.__name__}' with value '{value}' in {values}")


def _reuse_fail(name: str, values: str):
    raise ValueError(f"Multiple assignments to variable '{name}' in {values}")


def _bool_parser(name: str, values: str):
    def parse(text: str) -> bool:
        if text in ("true", "True"):
            return True
        if text in ("false", "False"):
            return False
        try:
            return bool(int(text))
        except ValueError:
            _parse_fail(name, bool, text, values)

    return parse


def _store_scalar(results: dict, name: str, index, value, values: str) -> None:
    if index is None:
        if name in results:
            _reuse_fail(name, values)
        results[name] = value
        return
    slot = results.setdefault(name, {})
    if not isinstance(slot, dict):
        _reuse_fail(name, values)
    if index in slot:
        _reuse_fail(f"{name}[{index}]", values)
    slot[index] = value


@tf_export("contrib.training.parse_values")
def parse_values(values: str, type_map: dict, ignore_unknown: bool = False) -> dict:
    """{name: value} of a string of comma-separated assignments ("lr=0.1,layers=[64,32],use_bn=true"), each
    value parsed as its name's type in `type_map`; `name[i]=v` gives {name: {i: v}}."""
    results: dict = {}
    pos = 0
    while pos < len(values):
        m = _ASSIGNMENT.match(values, pos)
        if not m:
            raise ValueError(f"Malformed hyperparameter value: {values[pos:]}")
        pos = m.end()
        name = m.group("name")
        if name not in type_map:
            if ignore_unknown:
                continue
            raise ValueError(f"Unknown hyperparameter type for {name}")
        var_type = type_map[name]
        parse = _bool_parser(name, values) if var_type is bool else var_type
        if m.group("val") is not None:
            try:
                parsed = parse(m.group("val"))
            except ValueError:
                _parse_fail(name, var_type, m.group("val"), values)
            index = m.group("index")
            _store_scalar(results, name, None if not index else int(index), parsed, values)
        elif m.group("vals") is not None:
            if m.group("index") is not None:
                raise ValueError("Assignment of a list to a list index.")
            if name in results:
                _reuse_fail(name, values)
            try:
                results[name] = [parse(e) for e in re.split("[ ,]", m.group("vals")) if e]
            except ValueError:
                _parse_fail(name, var_type, m.group("vals"), values)
        else:
            _parse_fail(name, var_type, "", values)
    return results


def _cast_to_type_if_compatible(name: str, param_type: type, value) -> Any:
    """`value` as `param_type`, refusing the casts TF refuses (ValueError)."""
    fail = f"Could not cast hparam '{name}' of type '{param_type}' from value {value!r}"
    if type(value) is param_type:
        return value
    if issubclass(param_type, type(None)):
        return value
    if issubclass(param_type, (str, bytes)) and not isinstance(value, (str, bytes)):
        raise ValueError(fail)
    if issubclass(param_type, bool) != isinstance(value, bool):
        raise ValueError(fail)
    if issubclass(param_type, numbers.Integral) and not isinstance(value, numbers.Integral):
        raise ValueError(fail)
    if issubclass(param_type, numbers.Number) and not isinstance(value, numbers.Number):
        raise ValueError(fail)
    return param_type(value)


@tf_export("contrib.training.HParams")
class HParams:
    """Hyperparameters as attributes (`hparams.learning_rate`), each with the type of its first value (a list's
    elements share one type), settable from strings (`parse`), JSON (`parse_json`) and dicts."""

    def __init__(self, hparam_def=None, model_structure=None, **kwargs) -> None:
        self._hparam_types: dict[str, tuple[type, bool]] = {}
        self._model_structure = model_structure
        if hparam_def is not None:
            raise ValueError("HParams from an HParamDef protocol buffer are not supported by tfmini")
        for name, value in kwargs.items():
            self.add_hparam(name, value)

    def add_hparam(self, name: str, value) -> None:
        """Adds hyperparameter `name` (ValueError if the name is taken or a list value is empty)."""
        if getattr(self, name, None) is not None:
            raise ValueError(f"Hyperparameter name is reserved: {name}")
        if isinstance(value, (list, tuple)):
            if not value:
                raise ValueError(f"Multi-valued hyperparameters cannot be empty: {name}")
            self._hparam_types[name] = (type(value[0]), True)
        else:
            self._hparam_types[name] = (type(value), False)
        setattr(self, name, value)

    def set_hparam(self, name: str, value) -> None:
        """Sets an existing hyperparameter, casting to its type where TF allows (KeyError for unknown names)."""
        param_type, is_list = self._hparam_types[name]
        if isinstance(value, list):
            if not is_list:
                raise ValueError(f"Must not pass a list for single-valued parameter: {name}")
            setattr(self, name, [_cast_to_type_if_compatible(name, param_type, v) for v in value])
        else:
            if is_list:
                raise ValueError(f"Must pass a list for multi-valued parameter: {name}.")
            setattr(self, name, _cast_to_type_if_compatible(name, param_type, value))

    def del_hparam(self, name: str) -> None:
        """Removes hyperparameter `name` if it exists."""
        if hasattr(self, name):
            delattr(self, name)
            del self._hparam_types[name]

    def parse(self, values: str) -> HParams:
        """Overrides hyperparameters from "name=value,name=[v1,v2]" (see `parse_values`); returns self."""
        type_map = {name: param_type for name, (param_type, _) in self._hparam_types.items()}
        return self.override_from_dict(parse_values(values, type_map))

    def override_from_dict(self, values_dict: dict) -> HParams:
        for name, value in values_dict.items():
            self.set_hparam(name, value)
        return self

    def set_model_structure(self, model_structure) -> None:
        self._model_structure = model_structure

    def get_model_structure(self):
        return self._model_structure

    def to_json(self, indent=None, separators=None, sort_keys=False) -> str:
        """The hyperparameters as a JSON object (callable values left out)."""
        def without_callables(x):
            if isinstance(x, dict):
                return {k: without_callables(v) for k, v in x.items() if not callable(v)}
            if isinstance(x, list):
                return [without_callables(v) for v in x if not callable(v)]
            return x

        return json.dumps(without_callables(self.values()), indent=indent, separators=separators,
                          sort_keys=sort_keys)

    def parse_json(self, values_json: str) -> HParams:
        """Overrides hyperparameters from a JSON object; returns self."""
        return self.override_from_dict(json.loads(values_json))

    def values(self) -> dict:
        """{name: value} of every hyperparameter."""
        return {name: getattr(self, name) for name in self._hparam_types}

    def get(self, key: str, default=None):
        """The value of `key`, or `default` when there is no such hyperparameter; a default of the wrong type
        for an existing one is a ValueError."""
        if key not in self._hparam_types:
            return default
        if default is not None:
            param_type, is_list = self._hparam_types[key]
            type_str = f"list<{param_type}>" if is_list else str(param_type)
            fail = f"Hparam '{key}' of type '{type_str}' is incompatible with default={default}"
            if is_list != isinstance(default, list):
                raise ValueError(fail)
            try:
                for value in default if is_list else [default]:
                    _cast_to_type_if_compatible(key, param_type, value)
            except ValueError as e:
                raise ValueError(f"{fail}. {e}") from None
        return getattr(self, key)

    def __contains__(self, key) -> bool:
        return key in self._hparam_types

    def __str__(self) -> str:
        return str(sorted(self.values().items()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self})"


# ----------------------------------------------------------------------------------------------------------
# Training ops and the training loop
# ----------------------------------------------------------------------------------------------------------
@tf_export("contrib.training.add_gradients_summaries")
def add_gradients_summaries(grads_and_vars) -> list:
    """A histogram `<var>_gradient` and a scalar `<var>_gradient_norm` for each variable with a gradient."""
    summaries = []
    for grad, var in grads_and_vars:
        if grad is None:
            _logging.info("Var %s has no gradient", var.op.name)
            continue
        values = grad.values if isinstance(grad, IndexedSlices) else grad
        summaries.append(_summary.histogram(var.op.name + "_gradient", values))
        summaries.append(_summary.scalar(var.op.name + "_gradient_norm", _math_ops.global_norm([values])))
    return summaries


@tf_export("contrib.training.clip_gradient_norms")
def clip_gradient_norms(gradients_to_variables, max_norm) -> list:
    """Each gradient clipped to L2 norm `max_norm` on its own (`tf.clip_by_norm`)."""
    clipped = []
    for grad, var in gradients_to_variables:
        if isinstance(grad, IndexedSlices):
            grad = IndexedSlices(_math_ops.clip_by_norm(grad.values, max_norm), grad.indices, grad.dense_shape)
        elif grad is not None:
            grad = _math_ops.clip_by_norm(grad, max_norm)
        clipped.append((grad, var))
    return clipped


@tf_export("contrib.training.clip_gradient_norms_fn")
def clip_gradient_norms_fn(max_norm) -> Callable:
    """A `transform_grads_fn` clipping each gradient to `max_norm`."""
    def clip_norms(gradients_to_variables):
        return clip_gradient_norms(gradients_to_variables, max_norm)

    return clip_norms


@tf_export("contrib.training.multiply_gradients")
def multiply_gradients(grads_and_vars, gradient_multipliers) -> list:
    """The gradients of the variables named in `gradient_multipliers` (by variable or op name) scaled."""
    if not isinstance(grads_and_vars, list):
        raise ValueError("`grads_and_vars` must be a list.")
    if not gradient_multipliers:
        raise ValueError("`gradient_multipliers` is empty.")
    if not isinstance(gradient_multipliers, dict):
        raise ValueError("`gradient_multipliers` must be a dict.")
    multiplied = []
    for grad, var in grads_and_vars:
        key = var if var in gradient_multipliers else var.op.name if var.op.name in gradient_multipliers else None
        if key is not None:
            if grad is None:
                raise ValueError("Requested multiple of `None` gradient.")
            if isinstance(grad, IndexedSlices):
                scaled = grad.values * _ops.convert_to_tensor(gradient_multipliers[key], dtype=grad.dtype)
                grad = IndexedSlices(scaled, grad.indices, grad.dense_shape)
            else:
                grad = grad * _ops.convert_to_tensor(gradient_multipliers[key], dtype=grad.dtype)
        multiplied.append((grad, var))
    return multiplied


# create_train_op's default for global_step: the graph's global step, created if missing
_USE_GLOBAL_STEP = 0


@tf_export("contrib.training.create_train_op")
def create_train_op(total_loss, optimizer, global_step=_USE_GLOBAL_STEP, update_ops=None, variables_to_train=None,
                    transform_grads_fn=None, summarize_gradients=False, gate_gradients=_optimizer.Optimizer.GATE_OP,
                    aggregation_method=None, colocate_gradients_with_ops=False, check_numerics=True) -> _ops.Tensor:
    """A tensor that, when run, applies one optimizer step and returns the loss (checked for inf and NaN).

    The UPDATE_OPS (or `update_ops`) run before the loss; `transform_grads_fn` may change the (gradient,
    variable) list; the op is added to the TRAIN_OP collection.
    """
    if global_step is _USE_GLOBAL_STEP:
        global_step = _training_util.get_or_create_global_step()
    collected = list(dict.fromkeys(_ops.get_collection(_ops.GraphKeys.UPDATE_OPS)))
    update_ops = collected if update_ops is None else list(dict.fromkeys(update_ops))
    if not set(map(id, collected)) <= set(map(id, update_ops)):
        _logging.warning("update_ops in create_train_op does not contain all the update_ops in "
                         "GraphKeys.UPDATE_OPS")
    if update_ops:
        with _ops.control_dependencies(update_ops):
            barrier = _control_flow_ops.no_op(name="update_barrier")
        total_loss = _control_flow_ops.with_dependencies([barrier], total_loss)
    trainable = _variables.trainable_variables()
    if variables_to_train is None:
        variables_to_train = trainable
    elif any(all(v is not t for t in trainable) for v in variables_to_train):
        raise ValueError("variables_to_train holds a variable that is not trainable")
    if not variables_to_train:
        raise ValueError("There are no variables to train")
    grads = optimizer.compute_gradients(total_loss, variables_to_train, gate_gradients=gate_gradients,
                                        aggregation_method=aggregation_method,
                                        colocate_gradients_with_ops=colocate_gradients_with_ops)
    if transform_grads_fn:
        grads = transform_grads_fn(grads)
    if summarize_gradients:
        with _ops.name_scope("summarize_grads"):
            add_gradients_summaries(grads)
    grad_updates = optimizer.apply_gradients(grads, global_step=global_step)
    with _ops.name_scope("train_op"):
        if check_numerics:
            total_loss = _check_ops.check_numerics(total_loss, "LossTensor is inf or nan")
        train_op = _control_flow_ops.with_dependencies([grad_updates], total_loss)
    train_ops = _ops.get_collection_ref(_ops.GraphKeys.TRAIN_OP)
    if all(op is not train_op for op in train_ops):
        train_ops.append(train_op)
    return train_op


@tf_export("contrib.training.train")
def train(train_op, logdir, master="", is_chief=True, scaffold=None, hooks=None, chief_only_hooks=None,
          save_checkpoint_secs=600, save_summaries_steps=100, config=None, max_wait_secs=7200, run_metadata=None):
    """Runs `train_op` in a MonitoredTrainingSession on `logdir` until a hook asks to stop (a StopAtStepHook
    in `hooks`, say); returns the last loss. Checkpoints and summaries are written to `logdir`."""
    if logdir is None and is_chief:
        if save_summaries_steps:
            raise ValueError("logdir cannot be None when save_summaries_steps is not None")
        if save_checkpoint_secs:
            raise ValueError("logdir cannot be None when save_checkpoint_secs is not None")
    with _monitored_session.MonitoredTrainingSession(
            master=master, is_chief=is_chief, checkpoint_dir=logdir, scaffold=scaffold, hooks=hooks,
            chief_only_hooks=chief_only_hooks, save_checkpoint_secs=save_checkpoint_secs,
            save_summaries_steps=save_summaries_steps, config=config, max_wait_secs=max_wait_secs) as session:
        loss = None
        while not session.should_stop():
            loss = session.run(train_op, run_metadata=run_metadata)
    return loss


# -- ps placement strategies for tf.train.replica_device_setter ---------------------------------------------
@tf_export("contrib.training.RandomStrategy")
class RandomStrategy:
    """A ps task for each op from a hash of its name and `seed`: spread like a random choice, yet the same
    for the same op names in every process (MD5, not Python's salted hash)."""

    def __init__(self, num_ps_tasks: int, seed: int = 0) -> None:
        self._num_tasks = num_ps_tasks
        self._seed = seed

    def __call__(self, op) -> int:
        digest = hashlib.md5(f"{op.name}_{self._seed:d}".encode()).hexdigest()
        return int(digest, 16) % self._num_tasks


@tf_export("contrib.training.GreedyLoadBalancingStrategy")
class GreedyLoadBalancingStrategy:
    """Each ps op goes to the ps task with the least load so far (the first of equals), whose load then grows
    by `load_fn(op)`. Placement depends on the order the ops are created in."""

    def __init__(self, num_tasks: int, load_fn: Callable) -> None:
        self._num_tasks = num_tasks
        self._load_fn = load_fn
        self._ps_loads = np.zeros(num_tasks)

    def __call__(self, op) -> int:
        task = int(np.argmin(self._ps_loads))
        self._ps_loads[task] += self._load_fn(op)
        return task


@tf_export("contrib.training.byte_size_load_fn")
def byte_size_load_fn(op) -> int:
    """The size in bytes of the single output of `op` (typically a variable op); ValueError if `op` has
    several outputs or its shape is not fully defined. A variable op whose output shape is not known yet
    is measured by its `shape` attr."""
    if len(op.outputs) != 1:
        raise ValueError(f"Op {op} must have a single output")
    output = op.outputs[0]
    shape = output.get_shape()
    if not shape.is_fully_defined():
        shape = _tensor_shape.TensorShape(op.get_attr("shape"))
    shape.assert_is_fully_defined()
    return shape.num_elements() * output.dtype.size
