"""`tf.contrib.framework`: arg scopes (`arg_scope`, `add_arg_scope`), model and plain variables by collection,
lookups of variables by scope, name and suffix, the global step helpers and assigning values or a checkpoint
to variables. Builds on tf.train's checkpoint reader and Saver; knows nothing of contrib.layers."""

from __future__ import annotations

import contextlib
import functools
import inspect
import re
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import tf_logging as _logging
from tfmini.framework.api_export import tf_export
from tfmini.ops import array_ops as _array_ops
from tfmini.ops import control_flow_ops as _control_flow_ops
from tfmini.ops import sort_ops as _sort_ops
from tfmini.ops import sparse_ops as _sparse_ops
from tfmini.ops import variable_scope as _vs
from tfmini.ops.variables import Variable, VariableAggregation, VariableSynchronization
from tfmini.train import checkpoint as _checkpoint
from tfmini.train import checkpoint_utils as _checkpoint_utils
from tfmini.train import saver as _saver
from tfmini.train import training_util as _training_util

_GraphKeys = _ops.GraphKeys

# ----------------------------------------------------------------------------------------------------------
# arg_scope
# ----------------------------------------------------------------------------------------------------------
# The stack of active arg scopes: each entry maps a decorated function's key to the keyword arguments it gets.
_ARG_STACK: list[dict] = [{}]
# key of every function decorated with add_arg_scope -> the names of its arguments that have defaults
_DECORATED_OPS: dict[Any, tuple[str, ...]] = {}


@tf_export("contrib.framework.arg_scope_func_key")
def arg_scope_func_key(op: Callable) -> Any:
    """The key under which an arg scope stores the defaults of `op` (its undecorated function)."""
    return getattr(op, "_key_op", op)


def _name_op(op: Callable) -> str:
    return f"{getattr(op, '__module__', '')}.{getattr(op, '__name__', op)}"


def _kwarg_names(func: Callable) -> tuple[str, ...]:
    params = inspect.signature(func).parameters.values()
    return tuple(p.name for p in params
                 if p.default is not inspect.Parameter.empty
                 and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY))


@tf_export("contrib.framework.current_arg_scope")
def current_arg_scope() -> dict:
    """The innermost arg scope: a dict from function keys to the keyword arguments they get."""
    return _ARG_STACK[-1]


@tf_export("contrib.framework.has_arg_scope")
def has_arg_scope(func: Callable) -> bool:
    """Whether `func` was decorated with `add_arg_scope`."""
    return arg_scope_func_key(func) in _DECORATED_OPS


@tf_export("contrib.framework.arg_scoped_arguments")
def arg_scoped_arguments(func: Callable) -> tuple[str, ...]:
    """The argument names of a decorated function that an arg scope can set (those with defaults); an
    AssertionError for an undecorated function, as TF asserts."""
    if not has_arg_scope(func):
        raise AssertionError(f"{_name_op(func)} is not decorated with @add_arg_scope")
    return _DECORATED_OPS[arg_scope_func_key(func)]


@tf_export("contrib.framework.arg_scope")
@contextlib.contextmanager
def arg_scope(list_ops_or_scope, **kwargs) -> Iterator[dict]:
    """Sets default keyword arguments of the listed `add_arg_scope` functions inside the `with` block.

    `list_ops_or_scope` is a list or tuple of decorated functions, or a scope dict yielded by an earlier
    `arg_scope`, which is made current again (then no keyword arguments may be given). Inner scopes extend
    outer ones; arguments passed explicitly to a call always win.
    """
    if isinstance(list_ops_or_scope, dict):
        if kwargs:
            raise ValueError("When attempting to re-use a scope by suppling a dictionary, kwargs must be empty.")
        scope = list_ops_or_scope.copy()
    else:
        if not isinstance(list_ops_or_scope, (list, tuple)):
            raise TypeError("list_ops_or_scope must either be a list/tuple or reused scope (i.e. dict)")
        scope = current_arg_scope().copy()
        for op in list_ops_or_scope:
            if not has_arg_scope(op):
                raise ValueError(f"{_name_op(op)} is not decorated with @add_arg_scope")
            key = arg_scope_func_key(op)
            merged = dict(scope.get(key, {}))
            merged.update(kwargs)
            scope[key] = merged
    _ARG_STACK.append(scope)
    try:
        yield scope
    finally:
        _ARG_STACK.pop()


@tf_export("contrib.framework.add_arg_scope")
def add_arg_scope(func: Callable) -> Callable:
    """Decorates `func` so that `arg_scope([func], ...)` can set its keyword arguments."""
    key = arg_scope_func_key(func)

    @functools.wraps(func)
    def func_with_args(*args, **kwargs):
        scoped = current_arg_scope().get(key)
        if scoped:
            kwargs = {**scoped, **kwargs}
        return func(*args, **kwargs)

    _DECORATED_OPS[key] = _kwarg_names(func)
    func_with_args._key_op = key
    return func_with_args


# ----------------------------------------------------------------------------------------------------------
# Creating variables
# ----------------------------------------------------------------------------------------------------------
@tf_export("contrib.framework.variable")
@add_arg_scope
def variable(name, shape=None, dtype=None, initializer=None, regularizer=None, trainable=True, collections=None,
             caching_device=None, device=None, partitioner=None, custom_getter=None, use_resource=None,
             synchronization=VariableSynchronization.AUTO, aggregation=VariableAggregation.NONE) -> Variable:
    """Gets or creates `name` with tf.get_variable, in `collections` (GLOBAL_VARIABLES by default)."""
    collections = list(dict.fromkeys(collections if collections is not None else [_GraphKeys.GLOBAL_VARIABLES]))
    getter = _vs.get_variable
    if custom_getter is not None:
        getter = functools.partial(custom_getter, reuse=_vs.get_variable_scope().reuse)
    with _ops.device(device or ""):
        return getter(name, shape=shape, dtype=dtype, initializer=initializer, regularizer=regularizer,
                      trainable=trainable, collections=collections, caching_device=caching_device,
                      partitioner=partitioner, use_resource=use_resource, synchronization=synchronization,
                      aggregation=aggregation)


@tf_export("contrib.framework.model_variable")
@add_arg_scope
def model_variable(name, shape=None, dtype=_dt.float32, initializer=None, regularizer=None, trainable=True,
                   collections=None, caching_device=None, device=None, partitioner=None, custom_getter=None,
                   use_resource=None, synchronization=VariableSynchronization.AUTO,
                   aggregation=VariableAggregation.NONE) -> Variable:
    """`variable`, also in MODEL_VARIABLES (the variables a model is made of, saved and restored with it)."""
    collections = list(collections or []) + [_GraphKeys.GLOBAL_VARIABLES, _GraphKeys.MODEL_VARIABLES]
    return variable(name, shape=shape, dtype=dtype, initializer=initializer, regularizer=regularizer,
                    trainable=trainable, collections=collections, caching_device=caching_device, device=device,
                    partitioner=partitioner, custom_getter=custom_getter, use_resource=use_resource,
                    synchronization=synchronization, aggregation=aggregation)


@tf_export("contrib.framework.local_variable")
def local_variable(initial_value, validate_shape=True, name=None, use_resource=None) -> Variable:
    """A non-trainable variable in LOCAL_VARIABLES holding `initial_value`."""
    return Variable(initial_value, trainable=False, collections=[_GraphKeys.LOCAL_VARIABLES],
                    validate_shape=validate_shape, name=name, use_resource=use_resource)


@tf_export("contrib.framework.global_variable")
def global_variable(initial_value, validate_shape=True, name=None, use_resource=None) -> Variable:
    """A non-trainable variable in GLOBAL_VARIABLES holding `initial_value`."""
    return Variable(initial_value, trainable=False, collections=[_GraphKeys.GLOBAL_VARIABLES],
                    validate_shape=validate_shape, name=name, use_resource=use_resource)


@tf_export("contrib.framework.add_model_variable")
def add_model_variable(var) -> None:
    """Adds `var` to MODEL_VARIABLES unless it is there already."""
    if var not in _ops.get_collection(_GraphKeys.MODEL_VARIABLES):
        _ops.add_to_collection(_GraphKeys.MODEL_VARIABLES, var)


# ----------------------------------------------------------------------------------------------------------
# Finding variables
# ----------------------------------------------------------------------------------------------------------
@tf_export("contrib.framework.get_variables")
def get_variables(scope=None, suffix=None, collection=_GraphKeys.GLOBAL_VARIABLES) -> list:
    """The variables of `collection` whose names match the regex `scope` and end with `suffix`."""
    if isinstance(scope, _vs.VariableScope):
        scope = scope.name
    if suffix is not None:
        if ":" not in suffix:
            suffix += ":"
        scope = (scope or "") + ".*" + suffix
    return _ops.get_collection(collection, scope)


@tf_export("contrib.framework.get_model_variables")
def get_model_variables(scope=None, suffix=None) -> list:
    return get_variables(scope, suffix, _GraphKeys.MODEL_VARIABLES)


@tf_export("contrib.framework.get_local_variables")
def get_local_variables(scope=None, suffix=None) -> list:
    return get_variables(scope, suffix, _GraphKeys.LOCAL_VARIABLES)


@tf_export("contrib.framework.get_trainable_variables")
def get_trainable_variables(scope=None, suffix=None) -> list:
    return get_variables(scope, suffix, _GraphKeys.TRAINABLE_VARIABLES)


@tf_export("contrib.framework.get_variables_to_restore")
def get_variables_to_restore(include=None, exclude=None) -> list:
    """The global variables under the scopes of `include` (all by default) and under none of `exclude`."""
    if include is None:
        included = get_variables()
    else:
        if not isinstance(include, (list, tuple)):
            raise TypeError("include is provided but is not a list or a tuple.")
        included = [v for scope in include for v in get_variables(scope)]
    excluded: set[int] = set()
    if exclude is not None:
        if not isinstance(exclude, (list, tuple)):
            raise TypeError("exclude is provided but is not a list or a tuple.")
        excluded = {id(v) for scope in exclude for v in get_variables(scope)}
    return [v for v in included if id(v) not in excluded]


@tf_export("contrib.framework.get_variables_by_suffix")
def get_variables_by_suffix(suffix, scope=None) -> list:
    return get_variables(scope=scope, suffix=suffix)


@tf_export("contrib.framework.get_variables_by_name")
def get_variables_by_name(given_name, scope=None) -> list:
    """The global variables whose last name component is `given_name`."""
    return get_variables(scope=scope, suffix=f"/{given_name}:|^{given_name}:")


@tf_export("contrib.framework.get_unique_variable")
def get_unique_variable(var_op_name) -> Variable:
    """The global variable whose op is named exactly `var_op_name` (ValueError when there is none)."""
    candidates = get_variables(scope=var_op_name)
    if not candidates:
        raise ValueError(f"Couldn't find variable {var_op_name}")
    for candidate in candidates:
        if candidate.op.name == var_op_name:
            return candidate
    raise ValueError(f"Variable {var_op_name} does not uniquely identify a variable")


@tf_export("contrib.framework.get_variable_full_name")
def get_variable_full_name(var) -> str:
    """The name of `var`'s op (partitioned variables report the full variable's name)."""
    info = getattr(var, "_save_slice_info", None)
    return info.full_name if info is not None else var.op.name


@tf_export("contrib.framework.filter_variables")
def filter_variables(var_list, include_patterns=None, exclude_patterns=None, reg_search=True) -> list:
    """The variables of `var_list` whose names match one include pattern (all if None) and no exclude one."""
    def match(name: str, patterns) -> bool:
        find = re.search if reg_search else re.match
        return any(find(p, name) for p in patterns)

    kept = var_list if include_patterns is None else [v for v in var_list if match(v.op.name, include_patterns)]
    if exclude_patterns is not None:
        kept = [v for v in kept if not match(v.op.name, exclude_patterns)]
    return list(kept)


# ----------------------------------------------------------------------------------------------------------
# The global step (contrib's deprecated copies of tf.train's)
# ----------------------------------------------------------------------------------------------------------
@tf_export("contrib.framework.get_global_step")
def get_global_step(graph=None):
    """The graph's global step, or None (as `tf.train.get_global_step`)."""
    return _training_util.get_global_step(graph)


@tf_export("contrib.framework.create_global_step")
def create_global_step(graph=None) -> Variable:
    """Creates the global step variable (ValueError if there is one), as `tf.train.create_global_step`."""
    return _training_util.create_global_step(graph)


@tf_export("contrib.framework.get_or_create_global_step")
def get_or_create_global_step(graph=None):
    """The graph's global step, created when missing, as `tf.train.get_or_create_global_step`."""
    return _training_util.get_or_create_global_step(graph)


@tf_export("contrib.framework.assert_global_step")
def assert_global_step(global_step_tensor) -> None:
    """TypeError unless `global_step_tensor` is an integer scalar variable or tensor."""
    _training_util.assert_global_step(global_step_tensor)


@tf_export("contrib.framework.assert_or_get_global_step")
def assert_or_get_global_step(graph=None, global_step_tensor=None):
    """`global_step_tensor` checked to be a global step, or the graph's global step when it is None."""
    if global_step_tensor is None:
        global_step_tensor = get_global_step(graph)
    else:
        assert_global_step(global_step_tensor)
    return global_step_tensor


# ----------------------------------------------------------------------------------------------------------
# Assigning values and checkpoints
# ----------------------------------------------------------------------------------------------------------
def _placeholder_assign(var, assign_ops: list, feed_dict: dict, value: np.ndarray) -> None:
    """Adds `var.assign(placeholder)` to assign_ops and the placeholder's value (reshaped) to feed_dict."""
    placeholder = _array_ops.placeholder(dtype=var.dtype.base_dtype, shape=var.get_shape(),
                                         name="placeholder/" + var.op.name)
    assign_ops.append(var.assign(placeholder))
    feed_dict[placeholder] = np.asarray(value).reshape(var.get_shape().as_list())


@tf_export("contrib.framework.assign_from_values")
def assign_from_values(var_names_to_values: dict) -> tuple:
    """An op assigning each named global variable its value, and the feed dict that op must be run with."""
    feed_dict: dict = {}
    assign_ops: list = []
    for var_name, value in var_names_to_values.items():
        found = _ops.get_collection(_GraphKeys.GLOBAL_VARIABLES, var_name)
        if not found:
            raise ValueError(f"Variable {var_name} wasn't found")
        if len(found) > 1:
            exact = [v for v in found if v.op.name == var_name]
            if not exact:
                raise ValueError(f"Variable {var_name} doesn't uniquely identify a variable")
            found = exact
        _placeholder_assign(found[0], assign_ops, feed_dict, value)
    return _control_flow_ops.group(*assign_ops), feed_dict


@tf_export("contrib.framework.assign_from_values_fn")
def assign_from_values_fn(var_names_to_values: dict) -> Callable:
    """A function of a session that assigns the variables their values (see `assign_from_values`)."""
    assign_op, feed_dict = assign_from_values(var_names_to_values)

    def callback(session) -> None:
        return session.run(assign_op, feed_dict)

    return callback


def _variables_by_checkpoint_name(var_list) -> dict:
    if isinstance(var_list, dict):
        return {name: [var] for name, var in var_list.items()}
    grouped: dict = {}
    for var in var_list:
        grouped.setdefault(get_variable_full_name(var), []).append(var)
    return grouped


@tf_export("contrib.framework.assign_from_checkpoint")
def assign_from_checkpoint(model_path, var_list, ignore_missing_vars=False) -> tuple:
    """An op assigning `var_list` (a list, or a dict of checkpoint names to variables) from the checkpoint at
    `model_path`, and its feed dict. A variable missing from the checkpoint is a ValueError, or a warning with
    `ignore_missing_vars`."""
    reader = _checkpoint.NewCheckpointReader(model_path)
    assign_ops: list = []
    feed_dict: dict = {}
    for ckpt_name, variables in _variables_by_checkpoint_name(var_list).items():
        if not reader.has_tensor(ckpt_name):
            message = f"Checkpoint is missing variable [{ckpt_name}]"
            if ignore_missing_vars:
                _logging.warning(message)
                continue
            raise ValueError(message)
        value = reader.get_tensor(ckpt_name)
        for var in variables:
            _placeholder_assign(var, assign_ops, feed_dict, value)
    return _control_flow_ops.group(*assign_ops), feed_dict


@tf_export("contrib.framework.assign_from_checkpoint_fn")
def assign_from_checkpoint_fn(model_path, var_list, ignore_missing_vars=False, reshape_variables=False):
    """A function of a session that restores `var_list` from the checkpoint at `model_path` with a Saver, or
    None when `ignore_missing_vars` leaves nothing to restore."""
    if not var_list:
        raise ValueError("var_list cannot be empty")
    if ignore_missing_vars:
        reader = _checkpoint.NewCheckpointReader(model_path)
        by_name = var_list if isinstance(var_list, dict) else {v.op.name: v for v in var_list}
        available = {}
        for name, var in by_name.items():
            if reader.has_tensor(name):
                available[name] = var
            else:
                _logging.warning("Variable %s missing in checkpoint %s", name, model_path)
        var_list = available
    if not var_list:
        _logging.warning("No Variables to restore")
        return None
    saver = _saver.Saver(var_list, reshape=reshape_variables)

    def callback(session) -> None:
        saver.restore(session, model_path)

    return callback


@tf_export("contrib.framework.init_from_checkpoint")
def init_from_checkpoint(checkpoint_dir, assignment_map) -> None:
    """Makes the initializers of the variables in `assignment_map` read them from the checkpoint at
    `checkpoint_dir` (contrib's name for `tf.train.init_from_checkpoint`)."""
    _checkpoint_utils.init_from_checkpoint(checkpoint_dir, assignment_map)


tf_export("contrib.framework.list_variables").export_constant(_checkpoint.__name__, "list_variables")
tf_export("contrib.framework.load_variable").export_constant(_checkpoint.__name__, "load_variable")
tf_export("contrib.framework.load_checkpoint").export_constant(_checkpoint.__name__, "load_checkpoint")
tf_export("contrib.framework.sort").export_constant(_sort_ops.__name__, "sort")
tf_export("contrib.framework.argsort").export_constant(_sort_ops.__name__, "argsort")
tf_export("contrib.framework.convert_to_tensor_or_sparse_tensor").export_constant(
    _sparse_ops.__name__, "convert_to_tensor_or_sparse_tensor")
