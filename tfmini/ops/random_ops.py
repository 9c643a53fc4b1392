"""Random ops (RandomStandardNormal, RandomUniform, RandomUniformInt, TruncatedNormal, RandomShuffle,
Multinomial), TF1's graph-level and op-level seeds (`tf.set_random_seed`, `get_seed`) and the Python API.

Every random op is stateful: it is never constant-folded, and its kernel draws from a NumPy generator that the
session keeps per op (`SessionState.generator`), seeded once from the op's (seed, seed2) attrs. So with fixed
seeds a program gives the same numbers in every new session, while successive runs in one session advance.
"""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import NotDifferentiable, apply_op, register_op
from tfmini.ops import array_ops, control_flow_ops, math_ops

DEFAULT_GRAPH_SEED = 87654321
_MAXINT32 = 2**31 - 1
_INDEX = (_dt.int32, _dt.int64)
_FLOATS = (_dt.float16, _dt.float32, _dt.float64)
_SEED_ATTRS = {"seed": ("int", 0), "seed2": ("int", 0)}


# ----------------------------------------------------------------------------------------------------------
# Seeds
# ----------------------------------------------------------------------------------------------------------
@tf_export("random.set_random_seed", "set_random_seed")
def set_random_seed(seed) -> None:
    """Sets the graph-level seed of the default graph; random ops created afterwards derive their seeds
    from it (see `get_seed`)."""
    _ops.get_default_graph().seed = seed


@tf_export("get_seed", "random.get_seed")
def get_seed(op_seed) -> tuple:
    """The (seed, seed2) pair a random op should use, following TF1's rules.

    Graph seed and op seed set: both are used. Graph seed set, op seed None: the op seed is derived from the
    graph's op count, so each op differs but the program is repeatable. Only the op seed: the default graph
    seed stands in. Neither: (None, None), i.e. nondeterministic. (0, 0) is reserved for "nondeterministic" by
    the kernels, so it is remapped.
    """
    graph = _ops.get_default_graph()
    global_seed = graph.seed
    if global_seed is not None:
        if op_seed is None:
            op_seed = graph._next_op_seed()
        seeds = (int(global_seed) % _MAXINT32, int(op_seed) % _MAXINT32)
    elif op_seed is not None:
        seeds = (DEFAULT_GRAPH_SEED, int(op_seed) % _MAXINT32)
    else:
        seeds = (None, None)
    if seeds == (0, 0):
        return (0, _MAXINT32)
    return seeds


def _seed_attrs(seed) -> dict:
    seed1, seed2 = get_seed(seed)
    return {"seed": seed1 or 0, "seed2": seed2 or 0}


def _generator(op, ctx) -> np.random.Generator:
    """The session's generator for `op`; both seed attrs 0 means a fresh, unpredictable stream."""
    seed, seed2 = op.get_attr("seed"), op.get_attr("seed2")
    return ctx.generator(op, None if seed == 0 and seed2 == 0 else [seed, seed2])


# ----------------------------------------------------------------------------------------------------------
# Shape helpers
# ----------------------------------------------------------------------------------------------------------
def _shape_from_input(op):
    """Output shape given by the op's first input, a 1-D shape tensor."""
    return _reg.constant_value_as_shape(op.inputs[0])


def _check_shape(shape) -> tuple:
    dims = np.reshape(shape, [-1])
    if np.ndim(shape) != 1:
        raise _errors.InvalidArgumentError(None, None, f"shape must be a vector of {{int32,int64}}, got shape "
                                           f"{list(np.shape(shape))}")
    if np.any(dims < 0):
        raise _errors.InvalidArgumentError(None, None, f"Dimension -1 must be >= 0; shape: {dims.tolist()}")
    return tuple(int(d) for d in dims)


def _shape_tensor(shape) -> _ops.Tensor:
    """A 1-D integer tensor from a shape given as a list (of ints or scalar tensors), TensorShape or tensor."""
    if isinstance(shape, _shape.TensorShape):
        shape = shape.as_list()
    if isinstance(shape, (list, tuple)) and any(isinstance(d, _ops.Tensor) for d in shape):
        return array_ops.stack([_ops.convert_to_tensor(d, dtype=_dt.int32) if not isinstance(d, _ops.Tensor)
                                else d for d in shape])
    if isinstance(shape, (list, tuple)):
        return _ops.convert_to_tensor(np.asarray(shape, dtype=np.int64 if _too_big(shape) else np.int32)
                                      .reshape(-1), name="shape")
    return _ops.convert_to_tensor(shape, name="shape", preferred_dtype=_dt.int32)


def _too_big(dims) -> bool:
    return any(int(d) > _MAXINT32 for d in dims)


# ----------------------------------------------------------------------------------------------------------
# Ops
# ----------------------------------------------------------------------------------------------------------
def _register_sampler(op_type: str, sample, doc: str) -> None:
    """Declares a random op mapping a 1-D shape tensor to a float tensor of that shape drawn by
    `sample(generator, dims, numpy dtype)`."""

    def factory(op, ctx):
        gen, dtype = _generator(op, ctx), op.get_attr("dtype").as_numpy_dtype

        def kernel(shape):
            return sample(gen, _check_shape(shape), dtype)

        return kernel

    register_op(
        op_type,
        inputs=["shape: T"], outputs=["output: dtype"],
        attrs={**_SEED_ATTRS, "dtype": ("type", _reg.REQUIRED)},
        allowed={"T": _INDEX, "dtype": _FLOATS},
        shape=_shape_from_input, stateful=True, factory=factory, doc=doc,
    )


def _sample_type(dtype):
    """NumPy's generators draw float32 or float64; half precision is drawn as float32 and rounded."""
    return dtype if dtype in (np.float32, np.float64) else np.float32


def _standard_normal(gen, dims, dtype):
    return gen.standard_normal(dims, dtype=_sample_type(dtype)).astype(dtype, copy=False)


def _truncated_normal(gen, dims, dtype):
    out = gen.standard_normal(dims)
    # Redraw the samples beyond two standard deviations until none is left.
    bad = np.abs(out) > 2.0
    while bad.any():
        out[bad] = gen.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2.0
    return out.astype(dtype)


def _uniform(gen, dims, dtype):
    out = gen.random(dims, dtype=_sample_type(dtype)).astype(dtype, copy=False)
    if dtype == np.float16:
        # Rounding to half precision can reach 1.0; keep the range half-open as TF does.
        out = np.minimum(out, np.nextafter(np.float16(1), np.float16(0)))
    return out


_register_sampler("RandomStandardNormal", _standard_normal, "Samples from the standard normal distribution.")
_register_sampler("TruncatedNormal", _truncated_normal,
                  "Samples from the standard normal distribution, redrawing values more than 2 away from 0.")
_register_sampler("RandomUniform", _uniform, "Samples uniformly from [0, 1).")


def _scalar_input_shape(op, index: int) -> None:
    s = op.inputs[index].shape
    if s.ndims is not None and s.ndims != 0:
        raise ValueError(f"Shape must be rank 0 but is rank {s.ndims}")


def _uniform_int_shape(op):
    _scalar_input_shape(op, 1)
    _scalar_input_shape(op, 2)
    return _shape_from_input(op)


def _uniform_int_factory(op, ctx):
    gen, dtype = _generator(op, ctx), op.get_attr("Tout").as_numpy_dtype

    def kernel(shape, minval, maxval):
        if np.ndim(minval) != 0 or np.ndim(maxval) != 0:
            raise _errors.InvalidArgumentError(None, None, "minval and maxval must be 0-D")
        dims = _check_shape(shape)
        if minval >= maxval and int(np.prod(dims)) > 0:
            raise _errors.InvalidArgumentError(None, None, f"Need minval < maxval: {minval} >= {maxval}")
        if int(np.prod(dims)) == 0:
            return np.zeros(dims, dtype=dtype)
        return gen.integers(int(minval), int(maxval), size=dims, dtype=dtype)

    return kernel


register_op(
    "RandomUniformInt",
    inputs=["shape: T", "minval: Tout", "maxval: Tout"], outputs=["output: Tout"],
    attrs=dict(_SEED_ATTRS),
    allowed={"T": _INDEX, "Tout": _INDEX},
    shape=_uniform_int_shape, stateful=True, factory=_uniform_int_factory,
    doc="Samples integers uniformly from [minval, maxval).",
)


def _shuffle_factory(op, ctx):
    gen = _generator(op, ctx)

    def kernel(value):
        if np.ndim(value) == 0 or len(value) <= 1:
            return np.array(value, copy=True)
        return value[gen.permutation(len(value))]

    return kernel


register_op(
    "RandomShuffle",
    inputs=["value: T"], outputs=["output: T"],
    attrs=dict(_SEED_ATTRS),
    shape=lambda op: op.inputs[0].shape, stateful=True, factory=_shuffle_factory,
    doc="Shuffles a tensor along its first dimension.",
)


def _multinomial_shape(op):
    logits = op.inputs[0].shape.with_rank(2)
    _scalar_input_shape(op, 1)
    n = _reg.constant_value(op.inputs[1])
    return [logits[0], None if n is None else int(n)]


def _multinomial_factory(op, ctx):
    gen, dtype = _generator(op, ctx), op.get_attr("output_dtype").as_numpy_dtype

    def kernel(logits, num_samples):
        if logits.ndim != 2:
            raise _errors.InvalidArgumentError(None, None, f"logits should be a matrix, got shape "
                                               f"{list(logits.shape)}")
        batch, classes = logits.shape
        num_samples = int(num_samples)
        if num_samples < 0:
            raise _errors.InvalidArgumentError(None, None, f"num_samples should be nonnegative, got {num_samples}")
        if classes == 0 and batch > 0 and num_samples > 0:
            raise _errors.InvalidArgumentError(None, None, "num_classes should be positive, got 0")
        if batch == 0 or num_samples == 0:
            return np.zeros((batch, num_samples), dtype=dtype)
        z = logits.astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            p = np.exp(z - np.max(z, axis=1, keepdims=True))
        p[~np.isfinite(z)] = 0.0
        cdf = np.cumsum(p, axis=1)
        u = gen.random((batch, num_samples)) * cdf[:, -1:]
        out = np.empty((batch, num_samples), dtype=dtype)
        for b in range(batch):
            out[b] = np.minimum(np.searchsorted(cdf[b], u[b], side="right"), classes - 1)
        return out

    return kernel


register_op(
    "Multinomial",
    inputs=["logits: T", "num_samples: int32"], outputs=["output: output_dtype"],
    attrs={**_SEED_ATTRS, "output_dtype": ("type", _dt.int64)},
    allowed={"T": _dt.REAL, "output_dtype": _INDEX},
    shape=_multinomial_shape, stateful=True, factory=_multinomial_factory,
    doc="Draws samples from categorical distributions given by unnormalized log-probabilities.",
)

for _op_type in ("RandomStandardNormal", "TruncatedNormal", "RandomUniform", "RandomUniformInt", "RandomShuffle",
                 "Multinomial"):
    NotDifferentiable(_op_type)


# ----------------------------------------------------------------------------------------------------------
# Python API
# ----------------------------------------------------------------------------------------------------------
def _scaled_normal(op_type: str, default_name: str, shape, mean, stddev, dtype, seed, name) -> _ops.Tensor:
    """mean + stddev * (a sample of `op_type`), the way TF builds random_normal and truncated_normal."""
    dtype = _dt.as_dtype(dtype).base_dtype
    with _ops.name_scope(name, default_name, [shape, mean, stddev]) as scope:
        shape_t = _shape_tensor(shape)
        mean_t = _ops.convert_to_tensor(mean, dtype=dtype, name="mean")
        stddev_t = _ops.convert_to_tensor(stddev, dtype=dtype, name="stddev")
        rnd = apply_op(op_type, [shape_t], {"dtype": dtype, **_seed_attrs(seed)}, name=op_type).outputs[0]
        return math_ops.add(rnd * stddev_t, mean_t, name=scope)


@tf_export("random.normal", "random_normal")
def random_normal(shape, mean=0.0, stddev=1.0, dtype=_dt.float32, seed=None, name=None) -> _ops.Tensor:
    """Samples from a normal distribution with the given mean and standard deviation."""
    return _scaled_normal("RandomStandardNormal", "random_normal", shape, mean, stddev, dtype, seed, name)


@tf_export("random.truncated_normal", "truncated_normal")
def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=_dt.float32, seed=None, name=None) -> _ops.Tensor:
    """Samples from a normal distribution truncated to two standard deviations around `mean`."""
    return _scaled_normal("TruncatedNormal", "truncated_normal", shape, mean, stddev, dtype, seed, name)


@tf_export("random.uniform", "random_uniform")
def random_uniform(shape, minval=0, maxval=None, dtype=_dt.float32, seed=None, name=None) -> _ops.Tensor:
    """Samples uniformly from [minval, maxval); integer dtypes need `maxval`."""
    dtype = _dt.as_dtype(dtype).base_dtype
    if maxval is None:
        if dtype.is_integer:
            raise ValueError(f"Must specify maxval for integer dtype {dtype!r}")
        maxval = 1
    with _ops.name_scope(name, "random_uniform", [shape, minval, maxval]) as scope:
        shape_t = _shape_tensor(shape)
        minval_t = _ops.convert_to_tensor(minval, dtype=dtype, name="min")
        maxval_t = _ops.convert_to_tensor(maxval, dtype=dtype, name="max")
        if dtype.is_integer:
            return apply_op("RandomUniformInt", [shape_t, minval_t, maxval_t], _seed_attrs(seed),
                            name=scope).outputs[0]
        rnd = apply_op("RandomUniform", [shape_t], {"dtype": dtype, **_seed_attrs(seed)},
                       name="RandomUniform").outputs[0]
        return math_ops.add(rnd * (maxval_t - minval_t), minval_t, name=scope)


@tf_export("random.shuffle", "random_shuffle")
def random_shuffle(value, seed=None, name=None) -> _ops.Tensor:
    """Shuffles `value` along its first dimension."""
    return apply_op("RandomShuffle", [value], _seed_attrs(seed), name=name).outputs[0]


@tf_export("multinomial", "random.multinomial")
def multinomial(logits, num_samples, seed=None, name=None, output_dtype=None) -> _ops.Tensor:
    """Draws `num_samples` class indices per row of `logits` (unnormalized log-probabilities)."""
    with _ops.name_scope(name, "multinomial", [logits]):
        return _multinomial(logits, num_samples, seed, output_dtype)


@tf_export("random.categorical")
def categorical(logits, num_samples, dtype=None, seed=None, name=None) -> _ops.Tensor:
    """`tf.random.categorical`: `multinomial` under its newer name."""
    with _ops.name_scope(name, "categorical", [logits]):
        return _multinomial(logits, num_samples, seed, dtype)


def _multinomial(logits, num_samples, seed, output_dtype) -> _ops.Tensor:
    logits = _ops.convert_to_tensor(logits, name="logits")
    attrs = {"output_dtype": _dt.as_dtype(output_dtype or _dt.int64), **_seed_attrs(seed)}
    return apply_op("Multinomial", [logits, num_samples], attrs).outputs[0]


@tf_export("image.random_crop", "random_crop")
def random_crop(value, size, seed=None, name=None) -> _ops.Tensor:
    """A slice of `value` of shape `size` at a uniformly random offset; fails at run time (InvalidArgumentError)
    when `value` is smaller than `size` in some dimension."""
    with _ops.name_scope(name, "random_crop", [value, size]) as scope:
        value = _ops.convert_to_tensor(value, name="value")
        size = _ops.convert_to_tensor(size, dtype=_dt.int32, name="size")
        shape = array_ops.shape(value)
        check = control_flow_ops.Assert(math_ops.reduce_all(math_ops.greater_equal(shape, size)),
                                        ["Need value.shape >= size, got ", shape, size], summarize=1000)
        shape = control_flow_ops.with_dependencies([check], shape)
        limit = shape - size + 1
        offset = math_ops.floormod(random_uniform(array_ops.shape(shape), dtype=size.dtype,
                                                  maxval=size.dtype.max, seed=seed), limit)
        return array_ops.slice(value, offset, size, name=scope)
