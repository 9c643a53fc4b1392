"""What every contrib layer shares: its variables' collections (`variables_collections`) and outputs'
(`outputs_collections`), data formats and window tuples, static booleans (`is_training`) and default
initializers. Knows no layer."""

from __future__ import annotations

import numbers

from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.ops import control_flow_ops as _control_flow_ops
from tfmini.ops import init_ops as _init_ops

DATA_FORMAT_NCHW = "NCHW"
DATA_FORMAT_NHWC = "NHWC"
ZEROS = _init_ops.zeros_initializer()
ONES = _init_ops.ones_initializer()


def variable_collections(variables_collections, name: str):
    """The collections for variable `name`: a dict maps each variable name to its own collections."""
    if isinstance(variables_collections, dict):
        return variables_collections.get(name)
    return variables_collections


def collect_named_outputs(collections, alias: str, outputs):
    """Adds `outputs` to each of `collections` (when given) and returns it."""
    if collections:
        _ops.add_to_collections(collections, outputs)
    return outputs


def ntuple(value, n: int, name: str) -> list[int]:
    if isinstance(value, numbers.Integral):
        return [int(value)] * n
    values = list(value)
    if len(values) != n or not all(isinstance(v, numbers.Integral) for v in values):
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. Received: {value}")
    return [int(v) for v in values]


def pair(value, name: str) -> list[int]:
    return ntuple(value, 2, name)


def check_4d_format(data_format) -> None:
    if data_format not in (DATA_FORMAT_NCHW, DATA_FORMAT_NHWC):
        raise ValueError("data_format has to be either NCHW or NHWC.")


def channels_of(inputs: _ops.Tensor, data_format: str, layer: str) -> int:
    axis = 1 if data_format.startswith("NC") else -1
    channels = inputs.shape[axis].value
    if channels is None:
        raise ValueError(f"The channel dimension of the inputs to {layer} should be defined. Found `None`.")
    return channels


def static_bool(value):
    """True/False when `value` is known at graph-construction time, None for a tensor fed at run time."""
    if isinstance(value, (_ops.Tensor,)):
        known = _reg.constant_value(value)
        return None if known is None else bool(known)
    return bool(value)


def smart_cond(pred, true_fn, false_fn):
    known = static_bool(pred)
    if known is None:
        return _control_flow_ops.cond(pred, true_fn, false_fn)
    return true_fn() if known else false_fn()


