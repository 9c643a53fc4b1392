"""contrib's weight initializers: `xavier_initializer` and `variance_scaling_initializer` with contrib's
factor/mode/uniform arguments (the truncated normal's stddev is sqrt(1.3 * factor / n), as in TF 1.15)."""

from __future__ import annotations

import math
from collections.abc import Callable

from tfmini.framework import dtypes as _dt
from tfmini.framework.api_export import tf_export
from tfmini.ops import random_ops as _random_ops

_MODES = ("FAN_IN", "FAN_OUT", "FAN_AVG")


def contrib_fans(shape) -> tuple[float, float]:
    """(fan_in, fan_out) of a weight shape as contrib counts them: conv kernels multiply both by the
    receptive field; a vector's fan-in is its length; a scalar has 1 and 1."""
    dims = [int(d) for d in shape]
    if not dims:
        return 1.0, 1.0
    fan_in = float(dims[-2]) if len(dims) > 1 else float(dims[-1])
    fan_out = float(dims[-1])
    for dim in dims[:-2]:
        fan_in *= dim
        fan_out *= dim
    return fan_in, fan_out


@tf_export("contrib.layers.variance_scaling_initializer")
def variance_scaling_initializer(factor=2.0, mode="FAN_IN", uniform=False, seed=None,
                                 dtype=_dt.float32) -> Callable:
    """An initializer with variance factor / n, n the fan-in, fan-out or their average (`mode`): uniform in
    +-sqrt(3 * factor / n), or a normal truncated at two stddevs with stddev sqrt(1.3 * factor / n).

    The defaults (factor 2, FAN_IN, normal) are He et al.'s initialization for ReLU networks.
    """
    dtype = _dt.as_dtype(dtype)
    if not dtype.is_floating:
        raise TypeError("Cannot create initializer for non-floating point type.")
    if mode not in _MODES:
        raise TypeError(f"Unknown mode {mode} [FAN_IN, FAN_OUT, FAN_AVG]")

    def _initializer(shape, dtype=dtype, partition_info=None):
        dtype = _dt.as_dtype(dtype)
        if not dtype.is_floating:
            raise TypeError("Cannot create initializer for non-floating point type.")
        full_shape = shape if partition_info is None else partition_info.full_shape
        fan_in, fan_out = contrib_fans(full_shape)
        n = {"FAN_IN": fan_in, "FAN_OUT": fan_out, "FAN_AVG": (fan_in + fan_out) / 2.0}[mode]
        if uniform:
            limit = math.sqrt(3.0 * factor / n)
            return _random_ops.random_uniform(shape, -limit, limit, dtype, seed=seed)
        stddev = math.sqrt(1.3 * factor / n)
        return _random_ops.truncated_normal(shape, 0.0, stddev, dtype, seed=seed)

    return _initializer


@tf_export("contrib.layers.xavier_initializer", "contrib.layers.xavier_initializer_conv2d")
def xavier_initializer(uniform=True, seed=None, dtype=_dt.float32) -> Callable:
    """Glorot and Bengio's initializer: uniform in +-sqrt(6 / (fan_in + fan_out)), or a truncated normal with
    stddev sqrt(1.3 * 2 / (fan_in + fan_out))."""
    return variance_scaling_initializer(factor=1.0, mode="FAN_AVG", uniform=uniform, seed=seed, dtype=dtype)


xavier_initializer_conv2d = xavier_initializer
