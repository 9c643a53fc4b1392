"""Initializers (`tf.zeros_initializer()`, `tf.glorot_uniform_initializer()`, ..., and `tf.initializers.*`):
callables `init(shape, dtype=None, partition_info=None)` that build the graph ops of an initial value.

Random initializers draw with the random ops, so they honour graph- and op-level seeds.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.framework.constant_op import constant
from tfmini.ops import array_ops, linalg_ops, math_ops, random_ops


def _assert_float_dtype(dtype: _dt.DType) -> _dt.DType:
    if not dtype.is_floating:
        raise ValueError(f"Expected floating point type, got {dtype}.")
    return dtype


class Initializer:
    """Base of all initializers: `__call__(shape, dtype=None, partition_info=None)` returns a Tensor."""

    def __call__(self, shape, dtype=None, partition_info=None):
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Initializer:
        config = dict(config)
        config.pop("dtype", None)
        return cls(**config)

    def _dtype(self, dtype) -> _dt.DType:
        return self.dtype if dtype is None else _dt.as_dtype(dtype).base_dtype


@tf_export("initializers.zeros", "zeros_initializer")
class Zeros(Initializer):
    """All zeros."""

    def __init__(self, dtype=_dt.float32) -> None:
        self.dtype = _dt.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return array_ops.zeros(shape, self._dtype(dtype))

    def get_config(self) -> dict:
        return {"dtype": self.dtype.name}


@tf_export("initializers.ones", "ones_initializer")
class Ones(Initializer):
    """All ones."""

    def __init__(self, dtype=_dt.float32) -> None:
        self.dtype = _dt.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return array_ops.ones(shape, self._dtype(dtype))

    def get_config(self) -> dict:
        return {"dtype": self.dtype.name}


@tf_export("constant_initializer", "initializers.constant")
class Constant(Initializer):
    """A constant `value`: a scalar fills the shape; a shorter list is padded with its last element."""

    def __init__(self, value=0, dtype=_dt.float32, verify_shape: bool = False) -> None:
        if not (np.isscalar(value) or isinstance(value, (list, tuple, np.ndarray))):
            raise TypeError(
                f"Invalid type for initial value: {type(value)} (expected Python scalar, list or tuple of values, "
                "or numpy.ndarray)."
            )
        self.value = value
        self.dtype = _dt.as_dtype(dtype)
        self._verify_shape = verify_shape

    def __call__(self, shape, dtype=None, partition_info=None, verify_shape=None):
        if verify_shape is None:
            verify_shape = self._verify_shape
        return constant(self.value, dtype=self._dtype(dtype), shape=shape, verify_shape=verify_shape)

    def get_config(self) -> dict:
        return {"value": self.value, "dtype": self.dtype.name}


@tf_export("initializers.random_uniform", "random_uniform_initializer")
class RandomUniform(Initializer):
    """Uniform in [minval, maxval) (maxval defaults to 1 for floats)."""

    def __init__(self, minval=0, maxval=None, seed=None, dtype=_dt.float32) -> None:
        self.minval = minval
        self.maxval = maxval
        self.seed = seed
        self.dtype = _dt.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_ops.random_uniform(shape, self.minval, self.maxval, self._dtype(dtype), seed=self.seed)

    def get_config(self) -> dict:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed, "dtype": self.dtype.name}


class _NormalInitializer(Initializer):
    """What the normal initializers share: mean, standard deviation, seed and a float dtype; `_sample` is the
    random op that draws."""

    _sample: Callable

    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=_dt.float32) -> None:
        self.mean = mean
        self.stddev = stddev
        self.seed = seed
        self.dtype = _assert_float_dtype(_dt.as_dtype(dtype))

    def __call__(self, shape, dtype=None, partition_info=None):
        return self._sample(shape, self.mean, self.stddev, self._dtype(dtype), seed=self.seed)

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed, "dtype": self.dtype.name}


@tf_export("initializers.random_normal", "random_normal_initializer")
class RandomNormal(_NormalInitializer):
    """Normal with the given mean and standard deviation."""

    _sample = staticmethod(random_ops.random_normal)


@tf_export("initializers.truncated_normal", "truncated_normal_initializer")
class TruncatedNormal(_NormalInitializer):
    """Normal with the given mean and standard deviation, redrawn beyond two standard deviations."""

    _sample = staticmethod(random_ops.truncated_normal)


def _compute_fans(shape) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight shape; convolution kernels are [..., in_channels, out_channels]."""
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    receptive_field = 1.0
    for d in shape[:-2]:
        receptive_field *= d
    return int(shape[-2] * receptive_field), int(shape[-1] * receptive_field)


@tf_export("initializers.variance_scaling", "variance_scaling_initializer")
class VarianceScaling(Initializer):
    """Samples with variance `scale / n`, n the fan-in, fan-out or their average (`mode`), from a truncated
    normal (`distribution="truncated_normal"` or `"normal"`), a normal (`"untruncated_normal"`) or a uniform."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 dtype=_dt.float32) -> None:
        if scale <= 0.0:
            raise ValueError("`scale` must be positive float.")
        if mode not in {"fan_in", "fan_out", "fan_avg"}:
            raise ValueError("Invalid `mode` argument:", mode)
        distribution = distribution.lower()
        if distribution not in {"normal", "uniform", "truncated_normal", "untruncated_normal"}:
            raise ValueError("Invalid `distribution` argument:", distribution)
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.seed = seed
        self.dtype = _assert_float_dtype(_dt.as_dtype(dtype))

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = self._dtype(dtype)
        full_shape = shape if partition_info is None else partition_info.full_shape
        fan_in, fan_out = _compute_fans(list(full_shape))
        denominator = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, denominator)
        if self.distribution in ("normal", "truncated_normal"):
            # The standard deviation of a unit normal truncated to [-2, 2], so the result has variance `scale`.
            stddev = math.sqrt(scale) / 0.87962566103423978
            return random_ops.truncated_normal(shape, 0.0, stddev, dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return random_ops.random_normal(shape, 0.0, math.sqrt(scale), dtype, seed=self.seed)
        limit = math.sqrt(3.0 * scale)
        return random_ops.random_uniform(shape, -limit, limit, dtype, seed=self.seed)

    def get_config(self) -> dict:
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed,
                "dtype": self.dtype.name}


@tf_export("glorot_uniform_initializer", "initializers.glorot_uniform")
class GlorotUniform(VarianceScaling):
    """Uniform in ±sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""

    def __init__(self, seed=None, dtype=_dt.float32) -> None:
        super().__init__(scale=1.0, mode="fan_avg", distribution="uniform", seed=seed, dtype=dtype)

    def get_config(self) -> dict:
        return {"seed": self.seed, "dtype": self.dtype.name}


@tf_export("glorot_normal_initializer", "initializers.glorot_normal")
class GlorotNormal(VarianceScaling):
    """Truncated normal with stddev sqrt(2 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""

    def __init__(self, seed=None, dtype=_dt.float32) -> None:
        super().__init__(scale=1.0, mode="fan_avg", distribution="truncated_normal", seed=seed, dtype=dtype)

    def get_config(self) -> dict:
        return {"seed": self.seed, "dtype": self.dtype.name}


@tf_export("initializers.uniform_unit_scaling", "uniform_unit_scaling_initializer")
class UniformUnitScaling(Initializer):
    """Uniform in ±sqrt(3 / fan_in) * factor (TF1's deprecated uniform_unit_scaling_initializer)."""

    def __init__(self, factor=1.0, seed=None, dtype=_dt.float32) -> None:
        self.factor = factor
        self.seed = seed
        self.dtype = _assert_float_dtype(_dt.as_dtype(dtype))

    def __call__(self, shape, dtype=None, partition_info=None):
        full_shape = list(shape if partition_info is None else partition_info.full_shape)
        input_size = 1.0
        for d in full_shape[:-1]:
            input_size *= float(d)
        input_size = max(input_size, 1.0)
        limit = math.sqrt(3 / input_size) * self.factor
        return random_ops.random_uniform(shape, -limit, limit, self._dtype(dtype), seed=self.seed)

    def get_config(self) -> dict:
        return {"factor": self.factor, "seed": self.seed, "dtype": self.dtype.name}


@tf_export("initializers.identity")
class Identity(Initializer):
    """`gain` times the identity matrix (2-D shapes only)."""

    def __init__(self, gain=1.0, dtype=_dt.float32) -> None:
        self.gain = gain
        self.dtype = _assert_float_dtype(_dt.as_dtype(dtype))

    def __call__(self, shape, dtype=None, partition_info=None):
        full_shape = list(shape if partition_info is None else partition_info.full_shape)
        if len(full_shape) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices.")
        dtype = self._dtype(dtype)
        return constant(self.gain * np.eye(*full_shape), dtype=dtype)

    def get_config(self) -> dict:
        return {"gain": self.gain, "dtype": self.dtype.name}


def orthogonalize(normal: _ops.Tensor, shape: list) -> _ops.Tensor:
    """The orthogonal matrix TF's orthogonal initializer makes from its normal draw `normal` (the flattened
    shape, rows >= columns): Q of its QR decomposition with each column's sign set by R's diagonal, so the
    result is uniform over orthogonal matrices; transposed back when `shape` has fewer rows than columns."""
    q, r = linalg_ops.qr(normal, full_matrices=False)
    q = q * math_ops.sign(array_ops.matrix_diag_part(r))
    num_rows = int(np.prod(shape[:-1]))
    if num_rows < shape[-1]:
        q = array_ops.transpose(q)
    return array_ops.reshape(q, shape)


@tf_export("initializers.orthogonal", "orthogonal_initializer")
class Orthogonal(Initializer):
    """An orthogonal matrix (rows or columns orthonormal, whichever are fewer) times `gain`; shapes of more
    than two dimensions are flattened to (product of all but the last, last) (Saxe et al., 2014)."""

    def __init__(self, gain=1.0, seed=None, dtype=_dt.float32) -> None:
        self.gain = gain
        self.seed = seed
        self.dtype = _assert_float_dtype(_dt.as_dtype(dtype))

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = self._dtype(dtype)
        shape = [int(d) for d in shape]
        if len(shape) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional")
        num_rows, num_cols = int(np.prod(shape[:-1])), shape[-1]
        flat_shape = (num_cols, num_rows) if num_rows < num_cols else (num_rows, num_cols)
        normal = random_ops.random_normal(flat_shape, dtype=dtype, seed=self.seed)
        return self.gain * orthogonalize(normal, shape)

    def get_config(self) -> dict:
        return {"gain": self.gain, "seed": self.seed, "dtype": self.dtype.name}


@tf_export("initializers.he_normal")
def he_normal(seed=None) -> VarianceScaling:
    return VarianceScaling(scale=2.0, mode="fan_in", distribution="truncated_normal", seed=seed)


@tf_export("initializers.he_uniform")
def he_uniform(seed=None) -> VarianceScaling:
    return VarianceScaling(scale=2.0, mode="fan_in", distribution="uniform", seed=seed)


@tf_export("initializers.lecun_normal")
def lecun_normal(seed=None) -> VarianceScaling:
    return VarianceScaling(scale=1.0, mode="fan_in", distribution="truncated_normal", seed=seed)


@tf_export("initializers.lecun_uniform")
def lecun_uniform(seed=None) -> VarianceScaling:
    return VarianceScaling(scale=1.0, mode="fan_in", distribution="uniform", seed=seed)


# TF1's public names.
zeros_initializer = Zeros
ones_initializer = Ones
constant_initializer = Constant
random_uniform_initializer = RandomUniform
random_normal_initializer = RandomNormal
truncated_normal_initializer = TruncatedNormal
variance_scaling_initializer = VarianceScaling
glorot_uniform_initializer = GlorotUniform
glorot_normal_initializer = GlorotNormal
uniform_unit_scaling_initializer = UniformUnitScaling
identity_initializer = Identity
orthogonal_initializer = Orthogonal
