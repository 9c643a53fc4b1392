"""`tf.train.init_from_checkpoint`: makes variables' initializers load values from a checkpoint (warm starts),
by name or by whole variable scopes, as TF 1.15's assignment maps describe."""

from __future__ import annotations

import logging

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.constant_op import constant
from tfmini.framework.registry import apply_op
from tfmini.ops import array_ops, state_ops
from tfmini.ops import variable_scope as _vs
from tfmini.ops.partitioned_variables import PartitionedVariable
from tfmini.ops.resource_variable_ops import assign_variable_op, is_resource_variable
from tfmini.ops.variables import Variable
from tfmini.train.checkpoint import _checkpoint_filename, load_checkpoint

_log = logging.getLogger("tfmini.train")


def _is_variable(x) -> bool:
    return isinstance(x, Variable) or is_resource_variable(x)


def _collect_partitioned_variable(name: str, store_vars: dict) -> list | None:
    """The parts name/part_0, name/part_1, ... of a partitioned variable, or None."""
    if name + "/part_0" not in store_vars:
        return None
    parts = []
    while f"{name}/part_{len(parts)}" in store_vars:
        parts.append(store_vars[f"{name}/part_{len(parts)}"])
    return parts


def _set_checkpoint_initializer(variable, ckpt_file: str, tensor_name: str, slice_info=None) -> None:
    """Replaces `variable`'s initializer by an assignment of `tensor_name` read from `ckpt_file` (RestoreV2),
    and its initial value by the restored tensor; a part of a partitioned variable (`slice_info`) takes its
    slice of the saved whole tensor."""
    base_type = variable.dtype.base_dtype
    with _ops.device(variable.device), _ops.device("/cpu:0"):
        restore = apply_op("RestoreV2", [constant(ckpt_file, dtype=_dt.string), constant([tensor_name]),
                                         constant([""])], {"dtypes": [base_type]},
                           name="checkpoint_initializer").outputs[0]
        if slice_info is not None:
            restore = array_ops.slice(restore, slice_info.var_offset, slice_info.var_shape)
    restore.set_shape(variable.get_shape())
    if is_resource_variable(variable):
        init_op = assign_variable_op(variable.handle, restore)
    else:
        init_op = state_ops.assign(variable._ref(), restore,
                                   validate_shape=variable.get_shape().is_fully_defined()).op
    variable._initializer_op = init_op
    variable._initial_value = restore


def _set_variable_or_list_initializer(variable_or_list, ckpt_file: str, tensor_name: str) -> None:
    if not isinstance(variable_or_list, (list, PartitionedVariable)):
        _set_checkpoint_initializer(variable_or_list, ckpt_file, tensor_name)
        return
    full_name = None
    for v in variable_or_list:
        slice_info = v._save_slice_info
        if full_name is None:
            full_name = slice_info.full_name
        elif full_name != slice_info.full_name:
            raise ValueError(f"Slices must all be from the same tensor: {full_name} != {slice_info.full_name}")
        _set_checkpoint_initializer(v, ckpt_file, tensor_name, slice_info)


@tf_export("train.init_from_checkpoint")
def init_from_checkpoint(ckpt_dir_or_file, assignment_map) -> None:
    """Initializes variables from the checkpoint `ckpt_dir_or_file` (a prefix or a directory's latest) instead
    of their initializers: nothing is read until the initializers run (`global_variables_initializer`).

    `assignment_map` maps names in the checkpoint to current variables:
      - `'ckpt/scope/': 'scope/'` loads every `get_variable` variable under `scope/` from the same relative
        name under `ckpt/scope/` (`'/'` on either side is the root);
      - `'ckpt/name': 'scope/var'` or `'ckpt/name': variable` loads one variable.
    A partitioned variable (by name, as a PartitionedVariable or as the list of its parts) gets its parts'
    slices of the saved whole tensor. Raises ValueError for a name missing from the checkpoint, a shape
    mismatch, or a scope mapped to a name.
    """
    ckpt_file = _checkpoint_filename(ckpt_dir_or_file)
    with load_checkpoint(ckpt_dir_or_file) as reader:
        variable_map = reader.get_variable_to_shape_map()
    store_vars = _vs._get_default_variable_store()._vars
    for tensor_name_in_ckpt, current in sorted(assignment_map.items(), key=lambda kv: kv[0]):
        if _is_variable(current) or isinstance(current, PartitionedVariable) or (
                isinstance(current, list) and current and all(_is_variable(v) for v in current)):
            var = current
        else:
            var = store_vars.get(current)
            if var is None:
                var = _collect_partitioned_variable(current, store_vars)
        if var is not None:
            if tensor_name_in_ckpt not in variable_map:
                raise ValueError(f"Tensor {tensor_name_in_ckpt} is not found in {ckpt_dir_or_file} checkpoint "
                                 f"{variable_map}")
            if _is_variable(var):
                saved_shape = _shape.TensorShape(variable_map[tensor_name_in_ckpt])
                if not var.get_shape().is_compatible_with(saved_shape):
                    raise ValueError(f"Shape of variable {var.name} ({var.get_shape()}) doesn't match with shape "
                                     f"of tensor {tensor_name_in_ckpt} ({saved_shape.as_list()}) from checkpoint "
                                     "reader.")
                var_name = var.name
            else:
                var_name = ",".join(v.name for v in var)
            _set_variable_or_list_initializer(var, ckpt_file, tensor_name_in_ckpt)
            _log.debug("Initialize variable %s from checkpoint %s with %s", var_name, ckpt_dir_or_file,
                       tensor_name_in_ckpt)
            continue
        if not isinstance(current, str):
            raise TypeError(f"assignment_map values must be variable names or variables, got {current!r}")
        scopes = current[:current.rindex("/")] if "/" in current else ""
        if not tensor_name_in_ckpt.endswith("/"):
            raise ValueError(f"Assignment map with scope only name {scopes} should map to scope only "
                             f"{tensor_name_in_ckpt}. Should be 'scope/': 'other_scope/'.")
        # The variables under the scope; a partitioned variable once, by its name without /part_i.
        in_scope = sorted({name[:name.index("/part_")] if "/part_" in name else name
                           for name in store_vars if not scopes or name.startswith(scopes + "/")})
        for var_name in in_scope:
            # The variable's name relative to its scope, under the checkpoint's scope ('/' is the root).
            full_tensor_name = var_name[len(scopes):]
            if current != "/":
                full_tensor_name = full_tensor_name[1:]
            if tensor_name_in_ckpt != "/":
                full_tensor_name = tensor_name_in_ckpt + full_tensor_name
            full_tensor_name = full_tensor_name.removesuffix("/")
            if full_tensor_name not in variable_map:
                raise ValueError(f"Tensor {full_tensor_name} ({var_name[len(scopes) + 1:]} in "
                                 f"{tensor_name_in_ckpt}) is not found in {ckpt_dir_or_file} checkpoint")
            var = store_vars.get(var_name)
            if var is None:
                var = _collect_partitioned_variable(var_name, store_vars)
            _set_variable_or_list_initializer(var, ckpt_file, full_tensor_name)
            _log.debug("Initialize variable %s from checkpoint %s with %s", var_name, ckpt_dir_or_file,
                       full_tensor_name)
