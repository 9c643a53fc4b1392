"""Stateless random ops (StatelessRandomUniform, StatelessRandomNormal, StatelessTruncatedNormal,
StatelessRandomUniformInt, StatelessMultinomial) with TensorFlow's numbers, and tf.random.stateless_*.

A stateless op's output is a function of its shape and its seed pair alone: TF scrambles the pair into a Philox
key and counter (as `dataset_random.stateless_stream` does) and fills the output from consecutive Philox blocks, turning
the 32-bit words into numbers as its distributions do (mantissa bits for uniforms, Box-Muller for normals,
rejection beyond two standard deviations for truncated normals). The kernels here compute the same blocks with
NumPy, many counters at a time, so the numbers are TF's bit for bit (normals up to the last ulp of sin/log).
"""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import NotDifferentiable, apply_op, register_op
from tfmini.ops import math_ops, random_ops
from tfmini.ops.dataset_random import _STATELESS_KEY

_INDEX = (_dt.int32, _dt.int64)
_FLOATS = (_dt.float16, _dt.float32, _dt.float64)
_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = 0x9E3779B9, 0xBB67AE85
_MASK32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)
# TF reserves this many Philox blocks for each group of outputs of a distribution that may reject samples.
_BLOCKS_PER_GROUP_FLOAT, _BLOCKS_PER_GROUP_DOUBLE = 256, 128


def _philox(counter_lo: np.ndarray, counter_hi: tuple[int, int], key: tuple[int, int]) -> np.ndarray:
    """Philox4x32-10 of the 128-bit counters (counter_hi words 2 and 3, counter_lo the low 64 bits) under `key`:
    an [n, 4] uint32 array of their output words."""
    lo = counter_lo.astype(np.uint64)
    c = [lo & _MASK32, lo >> _SHIFT32, np.full_like(lo, counter_hi[0]), np.full_like(lo, counter_hi[1])]
    k0, k1 = key
    for _ in range(10):
        p0 = _M0 * c[0]
        p1 = _M1 * c[2]
        c = [((p1 >> _SHIFT32) ^ c[1] ^ np.uint64(k0)) & _MASK32, p1 & _MASK32,
             ((p0 >> _SHIFT32) ^ c[3] ^ np.uint64(k1)) & _MASK32, p0 & _MASK32]
        k0, k1 = (k0 + _W0) & 0xFFFFFFFF, (k1 + _W1) & 0xFFFFFFFF
    return np.stack(c, axis=1).astype(np.uint32)


class _Stream:
    """The Philox key and counter TF's stateless ops derive from a seed pair; `blocks(first, n)` are the words of
    blocks first .. first + n - 1 (each an offset added to the counter's low 64 bits)."""

    def __init__(self, seed) -> None:
        seed = np.asarray(seed)
        if seed.shape != (2,):
            raise _errors.InvalidArgumentError(None, None, f"seed must have shape [2], not {list(seed.shape)}")
        seed0, seed1 = (int(s) % (1 << 64) for s in seed)
        # One Philox block of the pair (seed0 in the low counter words, seed1 in the high ones) under a fixed key
        # gives the key (its first two words) and the high counter words (its last two).
        mix = _philox(np.array([seed0], np.uint64), (seed1 & 0xFFFFFFFF, seed1 >> 32), _STATELESS_KEY)[0]
        self.key = (int(mix[0]), int(mix[1]))
        self.counter_hi = (int(mix[2]), int(mix[3]))

    def blocks(self, offsets: np.ndarray) -> np.ndarray:
        return _philox(np.asarray(offsets, dtype=np.uint64), self.counter_hi, self.key)


# ----------------------------------------------------------------------------------------------------------
# Words to numbers, as TF's random distributions convert them
# ----------------------------------------------------------------------------------------------------------
def _uint32_to_float(x: np.ndarray) -> np.ndarray:
    """A float32 in [0, 1) from the low 23 bits of x (as the mantissa of a number in [1, 2), minus 1)."""
    return ((x & np.uint32(0x7FFFFF)) | np.uint32(0x3F800000)).view(np.float32) - np.float32(1)


def _uint32_to_half(x: np.ndarray) -> np.ndarray:
    """A float16 in [0, 1) from the low 10 bits of x."""
    bits = ((x & np.uint32(0x3FF)) | np.uint32(15 << 10)).astype(np.uint16)
    return bits.view(np.float16) - np.float16(1)


def _uint64_to_double(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """A float64 in [0, 1) from the low 20 bits of `hi` and the 32 bits of `lo`."""
    mantissa = ((hi & np.uint32(0xFFFFF)).astype(np.uint64) << _SHIFT32) | lo.astype(np.uint64)
    return (mantissa | np.uint64(1023 << 52)).view(np.float64) - 1.0


def _box_muller_float(x0: np.ndarray, x1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    u1 = np.maximum(_uint32_to_float(x0), np.float32(1e-7))
    v1 = np.float32(2 * np.pi) * _uint32_to_float(x1)
    radius = np.sqrt(np.float32(-2) * np.log(u1))
    return np.sin(v1) * radius, np.cos(v1) * radius


def _box_muller_double(x0, x1, x2, x3) -> tuple[np.ndarray, np.ndarray]:
    u1 = np.maximum(_uint64_to_double(x0, x1), 1e-7)
    v1 = 2 * np.pi * _uint64_to_double(x2, x3)
    radius = np.sqrt(-2.0 * np.log(u1))
    return np.sin(v1) * radius, np.cos(v1) * radius


def _uniform_words(words: np.ndarray, dtype) -> np.ndarray:
    """Uniform numbers from [n, 4] block words: 4 per block (float16/32) or 2 (float64)."""
    if dtype == np.float64:
        return _uint64_to_double(words[:, 0::2], words[:, 1::2]).reshape(-1)
    convert = _uint32_to_half if dtype == np.float16 else _uint32_to_float
    return convert(words).reshape(-1)


def _normal_words(words: np.ndarray, dtype) -> np.ndarray:
    """Standard normals from [n, 4] block words by Box-Muller: 4 per block (float16/32, computed in float32) or
    2 (float64)."""
    if dtype == np.float64:
        d0, d1 = _box_muller_double(words[:, 0], words[:, 1], words[:, 2], words[:, 3])
        return np.stack([d0, d1], axis=1).reshape(-1)
    f0, f1 = _box_muller_float(words[:, 0::2], words[:, 1::2])
    return np.stack([f0, f1], axis=2).reshape(-1).astype(dtype)


def _fill(seed, shape, dtype, per_block: int, convert) -> np.ndarray:
    n = int(np.prod(shape))
    stream = _Stream(seed)
    words = stream.blocks(np.arange(-(-n // per_block), dtype=np.uint64))
    return convert(words, dtype)[:n].astype(dtype, copy=False).reshape(shape)


def _truncated_normal(seed, shape, dtype) -> np.ndarray:
    """TF's truncated normal: output groups of 4 (2 for float64) each draw from their own reserved run of blocks,
    taking normals in order and skipping those of magnitude 2 or more."""
    n = int(np.prod(shape))
    double = dtype == np.float64
    group = 2 if double else 4
    reserved = _BLOCKS_PER_GROUP_DOUBLE if double else _BLOCKS_PER_GROUP_FLOAT
    groups = -(-n // group)
    stream = _Stream(seed)
    out = np.empty((groups, group), dtype=np.float64 if double else np.float32)
    pending = np.arange(groups)
    blocks = 2  # blocks drawn per group so far; doubled for the groups still short of accepted samples
    while pending.size:
        offsets = (pending[:, None] * reserved + np.arange(blocks)[None, :]).astype(np.uint64)
        words = stream.blocks(offsets.reshape(-1)).reshape(pending.size, blocks, 4)
        if double:
            d0, d1 = _box_muller_double(words[..., 0], words[..., 1], words[..., 2], words[..., 3])
            samples = np.stack([d0, d1], axis=2).reshape(pending.size, -1)
        else:
            f0, f1 = _box_muller_float(words[..., 0::2], words[..., 1::2])
            samples = np.stack([f0, f1], axis=3).reshape(pending.size, -1)
        accepted = np.abs(samples) < 2
        enough = accepted.sum(axis=1) >= group
        for row in np.nonzero(enough)[0]:
            out[pending[row]] = samples[row][accepted[row]][:group]
        pending = pending[~enough]
        blocks *= 2
        if blocks > reserved:
            raise _errors.InternalError(None, None, "truncated normal sampling exhausted its reserved samples")
    return out.reshape(-1)[:n].astype(dtype).reshape(shape)


# ----------------------------------------------------------------------------------------------------------
# Ops
# ----------------------------------------------------------------------------------------------------------
def _check_seed_shape(seed: _ops.Tensor) -> None:
    shape = seed.shape.with_rank(1)
    if shape[0].value not in (None, 2):
        raise ValueError(f"Dimension must be 2 but is {shape[0].value}: the seed is a pair of integers")


def _stateless_shape(op):
    _check_seed_shape(op.inputs[1])
    return _reg.constant_value_as_shape(op.inputs[0])


def _register_float_sampler(op_type: str, sample, doc: str) -> None:
    def kernel(shape, seed, *, dtype):
        return sample(seed, random_ops._check_shape(shape), dtype.as_numpy_dtype)

    register_op(op_type, inputs=["shape: T", "seed: Tseed"], outputs=["output: dtype"],
                attrs={"dtype": ("type", _dt.float32), "T": ("type", _dt.int32), "Tseed": ("type", _dt.int64)},
                allowed={"dtype": _FLOATS, "T": _INDEX, "Tseed": _INDEX}, shape=_stateless_shape,
                fresh_output=True, doc=doc)(kernel)
    NotDifferentiable(op_type)


_register_float_sampler(
    "StatelessRandomUniform",
    lambda seed, shape, dtype: _fill(seed, shape, dtype, 2 if dtype == np.float64 else 4, _uniform_words),
    "Uniform numbers in [0, 1), a function of the seed pair.")
_register_float_sampler(
    "StatelessRandomNormal",
    lambda seed, shape, dtype: _fill(seed, shape, dtype, 2 if dtype == np.float64 else 4, _normal_words),
    "Standard normal numbers, a function of the seed pair.")
_register_float_sampler(
    "StatelessTruncatedNormal", _truncated_normal,
    "Standard normal numbers redrawn beyond two standard deviations, a function of the seed pair.")


def _uniform_int_shape(op):
    for i in (2, 3):
        random_ops._scalar_input_shape(op, i)
    return _stateless_shape(op)


@register_op("StatelessRandomUniformInt", inputs=["shape: T", "seed: Tseed", "minval: dtype", "maxval: dtype"],
             outputs=["output: dtype"], attrs={"Tseed": ("type", _dt.int64)},
             allowed={"dtype": _INDEX, "T": _INDEX, "Tseed": _INDEX}, shape=_uniform_int_shape, fresh_output=True)
def _stateless_uniform_int(shape, seed, minval, maxval):
    if np.ndim(minval) != 0 or np.ndim(maxval) != 0:
        raise _errors.InvalidArgumentError(None, None, "minval and maxval must be scalars")
    dims = random_ops._check_shape(shape)
    n = int(np.prod(dims))
    dtype = np.asarray(minval).dtype
    if minval >= maxval and n:
        raise _errors.InvalidArgumentError(None, None, f"Need minval < maxval: {minval} >= {maxval}")
    if not n:
        return np.zeros(dims, dtype=dtype)
    stream = _Stream(seed)
    wide = dtype == np.int64
    per_block = 2 if wide else 4
    words = stream.blocks(np.arange(-(-n // per_block), dtype=np.uint64))
    # Each number is minval + (bits mod range), in the unsigned width of the dtype.
    span = int(maxval) - int(minval)
    if wide:
        bits = words[:, 0::2].astype(np.uint64) | (words[:, 1::2].astype(np.uint64) << _SHIFT32)
        offset = bits.reshape(-1) % np.uint64(span)
    else:
        offset = words.reshape(-1).astype(np.uint64) % np.uint64(span)
    out = (offset[:n].astype(np.uint64) + np.uint64(int(minval) % (1 << 64))).view(np.int64)
    return out.astype(dtype).reshape(dims)


NotDifferentiable("StatelessRandomUniformInt")


def _multinomial_shape(op):
    logits = op.inputs[0].shape.with_rank(2)
    _check_seed_shape(op.inputs[2])
    n = _reg.constant_value(op.inputs[1])
    return [logits[0], None if n is None else int(n)]


@register_op("StatelessMultinomial", inputs=["logits: T", "num_samples: int32", "seed: Tseed"],
             outputs=["output: output_dtype"],
             attrs={"Tseed": ("type", _dt.int64), "output_dtype": ("type", _dt.int64)},
             allowed={"T": _dt.REAL, "Tseed": _INDEX, "output_dtype": _INDEX}, shape=_multinomial_shape,
             fresh_output=True)
def _stateless_multinomial(logits, num_samples, seed, *, output_dtype):
    if logits.ndim != 2:
        raise _errors.InvalidArgumentError(None, None, f"logits should be a matrix, got shape {list(logits.shape)}")
    batch, classes = logits.shape
    count = int(num_samples)
    if count < 0:
        raise _errors.InvalidArgumentError(None, None, f"num_samples should be nonnegative, got {count}")
    if classes == 0 and batch and count:
        raise _errors.InvalidArgumentError(None, None, "num_classes should be positive, got 0")
    out_type = output_dtype.as_numpy_dtype
    if not batch or not count:
        return np.zeros((batch, count), dtype=out_type)
    # Each sample takes two consecutive words of one stream running through the rows (TF's single-shard order):
    # a double in [0, 1) scaled by the row's total, placed in the row's cumulative distribution.
    stream = _Stream(seed)
    words = stream.blocks(np.arange(-(-batch * count // 2), dtype=np.uint64)).reshape(-1)
    u = _uint64_to_double(words[0::2], words[1::2])[:batch * count].reshape(batch, count)
    z = logits.astype(np.float64)
    finite = np.isfinite(z)
    top = np.max(np.where(finite, z, -np.inf), axis=1, keepdims=True)
    with np.errstate(all="ignore"):
        p = np.where(finite, np.exp(z - top), 0.0)
    cdf = np.cumsum(p, axis=1)
    targets = u * cdf[:, -1:]
    out = np.empty((batch, count), dtype=out_type)
    for row in range(batch):  # the first class whose cumulative probability exceeds each target
        out[row] = np.minimum(np.searchsorted(cdf[row], targets[row], side="right"), classes - 1)
    return out


NotDifferentiable("StatelessMultinomial")


# ----------------------------------------------------------------------------------------------------------
# Python API
# ----------------------------------------------------------------------------------------------------------
_ALGORITHMS = ("auto_select", "philox")


def _check_alg(alg) -> None:
    if isinstance(alg, str) and alg.lower() in _ALGORITHMS or alg in (1, None):
        return
    raise ValueError(f"tfmini's stateless random ops use the Philox algorithm only, got alg={alg!r}")


def _seed_tensor(seed) -> _ops.Tensor:
    return _ops.convert_to_tensor(seed, name="seed", preferred_dtype=_dt.int64)


@tf_export("random.stateless_uniform")
def stateless_random_uniform(shape, seed, minval=0, maxval=None, dtype=_dt.float32, name=None,
                             alg="auto_select") -> _ops.Tensor:
    """Uniform numbers in [minval, maxval) determined by `shape` and the seed pair `seed` ([2] int32/int64);
    integer dtypes need `maxval`."""
    _check_alg(alg)
    dtype = _dt.as_dtype(dtype).base_dtype
    if dtype.is_integer and maxval is None:
        raise ValueError(f"Must specify maxval for integer dtype {dtype!r}")
    if maxval is None:
        maxval = 1
    with _ops.name_scope(name, "stateless_random_uniform", [shape, seed, minval, maxval]) as scope:
        shape_t = random_ops._shape_tensor(shape)
        minval_t = _ops.convert_to_tensor(minval, dtype=dtype, name="min")
        maxval_t = _ops.convert_to_tensor(maxval, dtype=dtype, name="max")
        if dtype.is_integer:
            return apply_op("StatelessRandomUniformInt", [shape_t, _seed_tensor(seed), minval_t, maxval_t],
                            name=scope).outputs[0]
        rnd = apply_op("StatelessRandomUniform", [shape_t, _seed_tensor(seed)], {"dtype": dtype}).outputs[0]
        return math_ops.add(rnd * (maxval_t - minval_t), minval_t, name=scope)


def _stateless_scaled(op_type, default_name, shape, seed, mean, stddev, dtype, name, alg) -> _ops.Tensor:
    _check_alg(alg)
    dtype = _dt.as_dtype(dtype).base_dtype
    with _ops.name_scope(name, default_name, [shape, seed, mean, stddev]) as scope:
        shape_t = random_ops._shape_tensor(shape)
        mean_t = _ops.convert_to_tensor(mean, dtype=dtype, name="mean")
        stddev_t = _ops.convert_to_tensor(stddev, dtype=dtype, name="stddev")
        rnd = apply_op(op_type, [shape_t, _seed_tensor(seed)], {"dtype": dtype}).outputs[0]
        return math_ops.add(rnd * stddev_t, mean_t, name=scope)


@tf_export("random.stateless_normal")
def stateless_random_normal(shape, seed, mean=0.0, stddev=1.0, dtype=_dt.float32, name=None,
                            alg="auto_select") -> _ops.Tensor:
    """Normal numbers of the given mean and standard deviation, determined by `shape` and the seed pair."""
    return _stateless_scaled("StatelessRandomNormal", "stateless_random_normal", shape, seed, mean, stddev, dtype,
                             name, alg)


@tf_export("random.stateless_truncated_normal")
def stateless_truncated_normal(shape, seed, mean=0.0, stddev=1.0, dtype=_dt.float32, name=None,
                               alg="auto_select") -> _ops.Tensor:
    """Normal numbers within two standard deviations of `mean`, determined by `shape` and the seed pair."""
    return _stateless_scaled("StatelessTruncatedNormal", "stateless_truncated_normal", shape, seed, mean, stddev,
                             dtype, name, alg)


def _stateless_draw(logits, num_samples, seed, output_dtype) -> _ops.Tensor:
    logits = _ops.convert_to_tensor(logits, name="logits")
    attrs = {"output_dtype": _dt.as_dtype(output_dtype)}
    return apply_op("StatelessMultinomial", [logits, num_samples, _seed_tensor(seed)], attrs).outputs[0]


@tf_export("random.stateless_categorical")
def stateless_categorical(logits, num_samples, seed, dtype=_dt.int64, name=None) -> _ops.Tensor:
    """`num_samples` class indices per row of `logits` (unnormalized log-probabilities), determined by the seed
    pair."""
    with _ops.name_scope(name, "stateless_categorical", [logits, seed]):
        return _stateless_draw(logits, num_samples, seed, dtype)


@tf_export("random.stateless_multinomial")
def stateless_multinomial(logits, num_samples, seed, output_dtype=_dt.int64, name=None) -> _ops.Tensor:
    """`stateless_categorical` under its older name."""
    with _ops.name_scope(name, "stateless_multinomial", [logits, seed]):
        return _stateless_draw(logits, num_samples, seed, output_dtype)
