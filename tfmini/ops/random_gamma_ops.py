"""Gamma and Poisson sampling: RandomGamma (with its reparameterization gradient, RandomGammaGrad) and
RandomPoissonV2, behind tf.random.gamma / tf.random_gamma and tf.random.poisson / tf.random_poisson.

Like the other stateful random ops (random_ops), each op draws from a NumPy generator the session keeps per op,
seeded from the op's (seed, seed2) attrs: fixed seeds repeat across sessions, but the numbers are NumPy's samples
of the distribution, not TensorFlow's.
"""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import NotDifferentiable, RegisterGradient, apply_op, register_op
from tfmini.ops import array_ops, math_ops, random_ops, shape_fns, special_math_ops

_INDEX = (_dt.int32, _dt.int64)
_FLOATS = (_dt.float16, _dt.float32, _dt.float64)


def _sample_shape(op):
    """shape (input 0, a 1-D shape tensor) followed by the shape of the parameter tensor (input 1)."""
    return _reg.constant_value_as_shape(op.inputs[0]).concatenate(op.inputs[1].shape)


# ----------------------------------------------------------------------------------------------------------
# RandomGamma and its gradient
# ----------------------------------------------------------------------------------------------------------
def _gamma_factory(op, ctx):
    gen = random_ops._generator(op, ctx)

    def kernel(shape, alpha):
        dims = random_ops._check_shape(shape) + np.shape(alpha)
        a = np.broadcast_to(np.asarray(alpha, np.float64), dims)
        samples = np.full(dims, np.nan)
        valid = a > 0
        samples[valid] = gen.standard_gamma(a[valid])
        return samples.astype(alpha.dtype)

    return kernel


register_op("RandomGamma", inputs=["shape: S", "alpha: T"], outputs=["output: T"],
            attrs={**random_ops._SEED_ATTRS}, allowed={"S": _INDEX, "T": _FLOATS}, shape=_sample_shape,
            stateful=True, factory=_gamma_factory,
            doc="Samples from Gamma(alpha, 1), one draw of shape `shape` per entry of alpha.")


@register_op("RandomGammaGrad", inputs=["alpha: T", "sample: T"], outputs=["output: T"],
             allowed={"T": (_dt.float32, _dt.float64)}, shape=shape_fns.broadcast, fresh_output=True)
def _random_gamma_grad_kernel(alpha, sample):
    """d sample / d alpha at fixed quantile (implicit reparameterization): -(dP/da) / (dP/dx) for the regularized
    incomplete gamma P(alpha, sample), the CDF of Gamma(alpha, 1)."""
    with np.errstate(all="ignore"):
        a = np.asarray(alpha, np.float64)
        x = np.asarray(sample, np.float64)
        log_density = (a - 1) * np.log(x) - x - special_math_ops._lgamma(a)
        out = -special_math_ops.igamma_grad_a64(a, x) / np.exp(log_density)
    return out.astype(np.asarray(sample).dtype)


NotDifferentiable("RandomGammaGrad")


@RegisterGradient("RandomGamma")
def _random_gamma_grad(op, grad):
    shape, alpha = op.inputs
    sample = op.outputs[0]
    n_sample_dims = array_ops.shape(shape)[0]
    # alpha with one leading unit dimension per sample dimension, so it broadcasts against the samples.
    alpha_shape = array_ops.concat([array_ops.ones(array_ops.expand_dims(n_sample_dims, 0), _dt.int32),
                                    array_ops.shape(alpha)], 0)
    partial = apply_op("RandomGammaGrad", [array_ops.reshape(alpha, alpha_shape), sample]).outputs[0]
    return None, math_ops.reduce_sum(grad * partial, axis=array_ops.range(n_sample_dims))


@tf_export("random.gamma", "random_gamma")
def random_gamma(shape, alpha, beta=None, dtype=_dt.float32, seed=None, name=None) -> _ops.Tensor:
    """Samples of Gamma(alpha, beta) (beta the rate, 1 by default): shape `shape + broadcast(alpha, beta).shape`;
    differentiable with respect to alpha and beta."""
    dtype = _dt.as_dtype(dtype).base_dtype
    with _ops.name_scope(name, "random_gamma", [shape, alpha, beta]):
        shape = _ops.convert_to_tensor(shape, name="shape", dtype=_dt.int32)
        alpha = _ops.convert_to_tensor(alpha, name="alpha", dtype=dtype)
        beta = _ops.convert_to_tensor(beta if beta is not None else 1, name="beta", dtype=dtype)
        alpha_broadcast = alpha + array_ops.zeros_like(beta)
        sample = apply_op("RandomGamma", [shape, alpha_broadcast], random_ops._seed_attrs(seed)).outputs[0]
        tiny = _ops.convert_to_tensor(np.finfo(dtype.as_numpy_dtype).tiny, dtype=dtype)
        return math_ops.maximum(tiny, sample / beta)


# ----------------------------------------------------------------------------------------------------------
# RandomPoissonV2
# ----------------------------------------------------------------------------------------------------------
def _poisson_factory(op, ctx):
    gen = random_ops._generator(op, ctx)
    out_type = op.get_attr("dtype").as_numpy_dtype

    def kernel(shape, rate):
        dims = random_ops._check_shape(shape) + np.shape(rate)
        lam = np.broadcast_to(np.asarray(rate, np.float64), dims)
        bad = ~(lam >= 0)
        if np.any(bad) and not np.issubdtype(out_type, np.floating):
            raise _errors.InvalidArgumentError(None, None, "rate must be non-negative for an integer output dtype")
        counts = gen.poisson(np.where(bad, 0.0, lam)).astype(np.float64)
        counts[bad] = np.nan  # a negative or nan rate has no distribution
        return counts.astype(out_type)

    return kernel


register_op("RandomPoissonV2", inputs=["shape: S", "rate: R"], outputs=["output: dtype"],
            attrs={**random_ops._SEED_ATTRS, "R": ("type", _dt.float64), "dtype": ("type", _dt.int64)},
            allowed={"S": _INDEX, "R": _FLOATS + _INDEX, "dtype": _FLOATS + _INDEX}, shape=_sample_shape,
            stateful=True, factory=_poisson_factory,
            doc="Samples from Poisson(rate), one draw of shape `shape` per entry of rate.")
NotDifferentiable("RandomPoissonV2")


@tf_export("random.poisson", "random_poisson")
def random_poisson(lam, shape, dtype=_dt.float32, seed=None, name=None) -> _ops.Tensor:
    """Samples of Poisson(lam), of shape `shape + lam.shape` and `dtype` (a float or integer type)."""
    with _ops.name_scope(name, "random_poisson", [lam, shape]):
        shape = _ops.convert_to_tensor(shape, name="shape", dtype=_dt.int32)
        lam = _ops.convert_to_tensor(lam, name="lam")
        attrs = {"dtype": _dt.as_dtype(dtype), **random_ops._seed_attrs(seed)}
        return apply_op("RandomPoissonV2", [shape, lam], attrs).outputs[0]
