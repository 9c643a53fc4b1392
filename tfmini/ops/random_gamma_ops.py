"""Gamma and Poisson sampling: RandomGamma (with its reparameterization gradient, RandomGammaGrad) and
RandomPoissonV2, behind tf.random.gamma / tf.random_gamma and tf.random.poisson / tf.random_poisson.

Both draw TensorFlow's numbers: TF's Philox stream seeded by the op's (seed, seed2), 256 blocks reserved per
output, consumed as TF's kernels do (Marsaglia and Tsang's rejection method for gamma; Knuth's product of uniforms
below rate 10 and Hormann's transformed rejection (PTRS) from 10 on for Poisson); each run of an op in a session
moves on by the blocks it reserved, as TF's generator does.
"""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import NotDifferentiable, RegisterGradient, apply_op, register_op
from tfmini.ops import array_ops, math_ops, random_ops, shape_fns, special_math_ops, stateless_random_ops

_INDEX = (_dt.int32, _dt.int64)
_FLOATS = (_dt.float16, _dt.float32, _dt.float64)


def _sample_shape(op):
    """shape (input 0, a 1-D shape tensor) followed by the shape of the parameter tensor (input 1)."""
    return _reg.constant_value_as_shape(op.inputs[0]).concatenate(op.inputs[1].shape)


# ----------------------------------------------------------------------------------------------------------
# RandomGamma and its gradient
# ----------------------------------------------------------------------------------------------------------
# TF reserves this many Philox blocks for each output of RandomGamma; each output's draws start at its own.
_BLOCKS_PER_OUTPUT = 256


class _OutputStreams:
    """The per-output Philox streams of one run of RandomGamma or RandomPoissonV2: output i reads blocks
    base + 256 i, base + 256 i + 1, ... in order, turning each into two normals (Box-Muller) or two uniforms, taken
    last first, as TF's distributions hand them out."""

    def __init__(self, key: tuple[int, int], counter_hi: tuple[int, int], base: int, n_out: int) -> None:
        self.key, self.counter_hi = key, counter_hi
        self.first = base + np.arange(n_out, dtype=np.int64) * _BLOCKS_PER_OUTPUT
        self.next = np.zeros(n_out, np.int64)
        self.normals, self.normals_left = np.zeros((n_out, 2)), np.zeros(n_out, np.int64)
        self.uniforms, self.uniforms_left = np.zeros((n_out, 2)), np.zeros(n_out, np.int64)

    def _block(self, rows: np.ndarray) -> np.ndarray:
        if (self.next[rows] >= _BLOCKS_PER_OUTPUT).any():
            raise _errors.InternalError(None, None, "RandomGamma exhausted the samples reserved for an output")
        words = stateless_random_ops._philox((self.first[rows] + self.next[rows]).astype(np.uint64),
                                             self.counter_hi, self.key)
        self.next[rows] += 1
        return words

    def normal(self, rows: np.ndarray) -> np.ndarray:
        refill = rows[self.normals_left[rows] == 0]
        if refill.size:
            w = self._block(refill)
            d0, d1 = stateless_random_ops._box_muller_double(w[:, 0], w[:, 1], w[:, 2], w[:, 3])
            self.normals[refill] = np.stack([d0, d1], axis=1)
            self.normals_left[refill] = 2
        self.normals_left[rows] -= 1
        return self.normals[rows, self.normals_left[rows]]

    def uniform(self, rows: np.ndarray) -> np.ndarray:
        refill = rows[self.uniforms_left[rows] == 0]
        if refill.size:
            w = self._block(refill)
            self.uniforms[refill] = stateless_random_ops._uint64_to_double(w[:, 0::2], w[:, 1::2])
            self.uniforms_left[refill] = 2
        self.uniforms_left[rows] -= 1
        return self.uniforms[rows, self.uniforms_left[rows]]


def _sample_gamma(streams: _OutputStreams, alpha: np.ndarray) -> np.ndarray:
    """One Gamma(alpha[i], 1) sample per output i: -log(1 - u) for alpha 1, else Marsaglia and Tsang's
    transformation-rejection (for alpha < 1 from alpha + 1, scaled by u^(1/alpha)), in double precision."""
    out = np.empty(alpha.size)
    exponential = np.nonzero(alpha == 1.0)[0]
    if exponential.size:
        out[exponential] = -np.log(1.0 - streams.uniform(exponential))
    below_one = alpha < 1
    d = alpha + np.where(below_one, 2.0 / 3, -1.0 / 3)
    with np.errstate(all="ignore"):
        c = 1.0 / 3 / np.sqrt(d)
        active = np.nonzero(alpha != 1.0)[0]
        while active.size:
            x = streams.normal(active)
            v = 1 + c[active] * x
            tried = ~(v <= 0)  # TF redraws only when v <= 0 (a nan v goes on, as in TF)
            rows, x, v = active[tried], x[tried], v[tried] ** 3
            u = streams.uniform(rows)
            accepted = (u < 1 - 0.0331 * (x * x) * (x * x)) | (np.log(u) < 0.5 * x * x + d[rows] * (1 - v + np.log(v)))
            done, value = rows[accepted], d[rows[accepted]] * v[accepted]
            scaled = below_one[done]
            if scaled.any():
                value[scaled] *= streams.uniform(done[scaled]) ** (1 / alpha[done[scaled]])
            out[done] = value
            finished = np.zeros(alpha.size, bool)
            finished[done] = True
            active = active[~finished[active]]
    return out


def _op_streams(op, ctx):
    """The Philox key and high counter words of a stateful random op's (seed, seed2), and the per-session count
    of blocks its earlier runs reserved (TF's generator state)."""
    seed, seed2 = op.get_attr("seed"), op.get_attr("seed2")
    if seed == 0 and seed2 == 0:  # TF then seeds from a nondeterministic source
        seed, seed2 = (int(v) for v in np.random.SeedSequence().generate_state(2, np.uint64))
    key = (seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF)
    counter_hi = (seed2 & 0xFFFFFFFF, (seed2 >> 32) & 0xFFFFFFFF)
    return key, counter_hi, ctx.resources.setdefault((op.type, op), [0])


def _reserve(ctx, reserved: list, n_out: int) -> int:
    """The first block of this run's outputs; later runs start after the blocks reserved here."""
    with ctx.lock:
        base = reserved[0]
        reserved[0] += n_out * _BLOCKS_PER_OUTPUT
    return base


def _gamma_factory(op, ctx):
    key, counter_hi, reserved = _op_streams(op, ctx)

    def kernel(shape, alpha):
        sample_dims = random_ops._check_shape(shape)
        n_samples, n_alphas = int(np.prod(sample_dims)), int(np.size(alpha))
        n_out = n_samples * n_alphas
        base = _reserve(ctx, reserved, n_out)
        # Output i = (alpha index) * n_samples + (sample index) has its own stream; the result is laid out
        # [samples..., alphas...].
        alphas = np.repeat(np.asarray(alpha, np.float64).reshape(-1), n_samples)
        samples = _sample_gamma(_OutputStreams(key, counter_hi, base, n_out), alphas)
        return samples.reshape(n_alphas, n_samples).T.reshape(sample_dims + np.shape(alpha)).astype(alpha.dtype)

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
def _sample_poisson(streams: _OutputStreams, rate: np.ndarray) -> np.ndarray:
    """One Poisson(rate[i]) sample per output i: 0 for rate 0, the number of uniforms whose running product stays
    above exp(-rate) below rate 10, Hormann's PTRS from 10 on (the constants of his paper), in double precision."""
    out = np.zeros(rate.size)
    with np.errstate(all="ignore"):
        limit = np.exp(-rate)
        product, count = np.ones(rate.size), np.zeros(rate.size)
        active = np.nonzero((rate > 0) & (rate < 10))[0]
        while active.size:
            product[active] *= streams.uniform(active)
            done = product[active] <= limit[active]
            out[active[done]] = count[active[done]]
            count[active[~done]] += 1
            active = active[~done]
        log_rate = np.log(rate)
        b = 0.931 + 2.53 * np.sqrt(rate)
        a = -0.059 + 0.02483 * b
        inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
        v_r = 0.9277 - 3.6224 / (b - 2)
        active = np.nonzero(rate >= 10)[0]
        while active.size:
            u = streams.uniform(active) - 0.5
            v = streams.uniform(active)
            u_shifted = 0.5 - np.abs(u)
            ra, ba, aa = rate[active], b[active], a[active]
            k = np.floor((2 * aa / u_shifted + ba) * u + ra + 0.43)
            quick = (k >= 0) & (u_shifted >= 0.07) & (v <= v_r[active])
            rejected = (k < 0) | ((u_shifted < 0.013) & (v > u_shifted))
            s = np.log(v * inv_alpha[active] / (aa / (u_shifted * u_shifted) + ba))
            t = -ra + k * log_rate[active] - special_math_ops._lgamma(k + 1)
            accepted = quick | (~rejected & (s <= t))
            out[active[accepted]] = k[accepted]
            active = active[~accepted]
    return out


def _poisson_factory(op, ctx):
    key, counter_hi, reserved = _op_streams(op, ctx)
    out_type = op.get_attr("dtype").as_numpy_dtype

    def kernel(shape, rate):
        sample_dims = random_ops._check_shape(shape)
        n_samples, n_rates = int(np.prod(sample_dims)), int(np.size(rate))
        n_out = n_samples * n_rates
        rates = np.repeat(np.asarray(rate, np.float64).reshape(-1), n_samples)
        bad = ~(rates >= 0)  # TF never finishes drawing for these; here they are nan (refused for integers)
        if bad.any() and not np.issubdtype(out_type, np.floating):
            raise _errors.InvalidArgumentError(None, None, "rate must be non-negative for an integer output dtype")
        base = _reserve(ctx, reserved, n_out)
        samples = _sample_poisson(_OutputStreams(key, counter_hi, base, n_out), np.where(bad, 0.0, rates))
        samples[bad] = np.nan
        return samples.reshape(n_rates, n_samples).T.reshape(sample_dims + np.shape(rate)).astype(out_type)

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
