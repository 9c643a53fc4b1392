"""contrib's weight regularizers (`l1_regularizer`, `l2_regularizer`, `l1_l2_regularizer`, `sum_regularizer`)
and `apply_regularization`, which sums a regularizer over weights into REGULARIZATION_LOSSES."""

from __future__ import annotations

import numbers
from collections.abc import Callable

from tfmini.framework import ops as _ops
from tfmini.framework import tf_logging as _logging
from tfmini.framework.api_export import tf_export
from tfmini.ops import math_ops as _math_ops
from tfmini.ops import nn_ops as _nn_ops


def _check_scale(scale, what: str = "scale") -> None:
    if isinstance(scale, numbers.Integral):
        raise ValueError(f"{what} cannot be an integer: {scale}")
    if isinstance(scale, numbers.Real):
        if scale < 0.0:
            raise ValueError(f"Setting a {what} less than 0 on a regularizer: {scale}")


def _scaled_regularizer(scale, scope, default_name: str, penalty: Callable) -> Callable:
    _check_scale(scale)
    if scale == 0.0:
        _logging.info("Scale of 0 disables regularizer.")
        return lambda _, name=None: None

    def regularizer(weights, name=None):
        with _ops.name_scope(scope, default_name, [weights]) as name:
            my_scale = _ops.convert_to_tensor(scale, dtype=weights.dtype.base_dtype, name="scale")
            return _math_ops.multiply(my_scale, penalty(weights), name=name)

    return regularizer


@tf_export("contrib.layers.l1_regularizer")
def l1_regularizer(scale, scope=None) -> Callable:
    """A function of weights returning scale * sum(|weights|) (None when scale is 0)."""
    return _scaled_regularizer(scale, scope, "l1_regularizer",
                               lambda w: _math_ops.reduce_sum(_math_ops.abs(w)))


@tf_export("contrib.layers.l2_regularizer")
def l2_regularizer(scale, scope=None) -> Callable:
    """A function of weights returning scale * sum(weights**2) / 2 (`tf.nn.l2_loss`; None when scale is 0)."""
    return _scaled_regularizer(scale, scope, "l2_regularizer", _nn_ops.l2_loss)


@tf_export("contrib.layers.sum_regularizer")
def sum_regularizer(regularizer_list, scope=None):
    """A regularizer adding the penalties of `regularizer_list` (None entries and None penalties skipped);
    None when the list holds no regularizer."""
    regularizers = [r for r in regularizer_list if r is not None]
    if not regularizers:
        return None

    def sum_reg(weights):
        with _ops.name_scope(scope, "sum_regularizer", [weights]) as name:
            penalties = [p for p in (r(weights) for r in regularizers) if p is not None]
            return _math_ops.add_n(penalties, name=name) if penalties else None

    return sum_reg


@tf_export("contrib.layers.l1_l2_regularizer")
def l1_l2_regularizer(scale_l1=1.0, scale_l2=1.0, scope=None):
    """The sum of an L1 and an L2 regularizer (just one of them when the other's scale is 0)."""
    _check_scale(scale_l1, "scale_l1")
    _check_scale(scale_l2, "scale_l2")
    scope = scope or "l1_l2_regularizer"
    if scale_l1 == 0.0:
        return l2_regularizer(scale_l2, scope)
    if scale_l2 == 0.0:
        return l1_regularizer(scale_l1, scope)
    return sum_regularizer([l1_regularizer(scale_l1), l2_regularizer(scale_l2)], scope=scope)


@tf_export("contrib.layers.apply_regularization")
def apply_regularization(regularizer, weights_list=None) -> _ops.Tensor:
    """The sum of `regularizer` over `weights_list` (default: the WEIGHTS collection), also added to
    REGULARIZATION_LOSSES."""
    if not weights_list:
        weights_list = _ops.get_collection(_ops.GraphKeys.WEIGHTS)
    if not weights_list:
        raise ValueError("No weights to regularize.")
    with _ops.name_scope("get_regularization_penalty", values=weights_list) as scope:
        penalties = [regularizer(w) for w in weights_list]
        penalties = [p if p is not None else _ops.convert_to_tensor(0.0) for p in penalties]
        for p in penalties:
            if p.shape.ndims != 0:
                raise ValueError(f"regularizer must return a scalar Tensor instead of a Tensor with rank "
                                 f"{p.shape.ndims}.")
        summed = _math_ops.add_n(penalties, name=scope)
        _ops.add_to_collection(_ops.GraphKeys.REGULARIZATION_LOSSES, summed)
        return summed
