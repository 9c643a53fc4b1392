"""Fractional pooling: FractionalMaxPool/FractionalAvgPool and their gradient ops (tf.nn.fractional_max_pool,
fractional_avg_pool), pooling over regions of irregular sizes whose boundaries are drawn at random per run
(fixed with deterministic=True).

Regions are gathered with index arrays (max) or summed with 0/1 membership matrices (average): no Python loop
runs over regions or elements.
"""

from __future__ import annotations

import collections

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import RegisterGradient, apply_op, register_op
from tfmini.ops import array_ops
from tfmini.ops.conv3d_ops import known_dims


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


# ----------------------------------------------------------------------------------------------------------
# The ops
# ----------------------------------------------------------------------------------------------------------
_FRACTIONAL_ATTRS = {
    "pooling_ratio": ("list(float)", _reg.REQUIRED),
    "pseudo_random": ("bool", False),
    "overlapping": ("bool", False),
    "deterministic": ("bool", False),
    "seed": ("int", 0),
    "seed2": ("int", 0),
}
_FRACTIONAL_TYPES = (_dt.float32, _dt.float64, _dt.int32, _dt.int64)


def _check_pooling_ratio(ratio, op_type: str) -> list:
    ratio = [float(r) for r in ratio]
    if len(ratio) != 4:
        raise ValueError(f"{op_type}: pooling_ratio field must specify 4 dimensions, got {len(ratio)}")
    if any(r < 1 for r in ratio):
        raise ValueError(f"{op_type}: pooling_ratio cannot be smaller than 1, got: {ratio}")
    if ratio[0] != 1 or ratio[3] != 1:
        raise ValueError("Fractional pooling is not yet supported on the batch nor channel dimension.")
    return ratio


def _fractional_shape(op):
    ratio = _check_pooling_ratio(op.get_attr("pooling_ratio"), op.type)
    dims = known_dims(op.inputs[0].shape, 4)
    out = [None if d is None else int(np.floor(d / r)) for d, r in zip(dims, ratio)]
    for d in out:
        if d is not None and d <= 0:
            raise ValueError(f"{op.type}: output_size must be positive, got {out}")
    return [out, [None if out[1] is None else out[1] + 1], [None if out[2] is None else out[2] + 1]]


def pooling_sequence(length: int, out: int, gen: np.random.Generator, pseudo_random: bool) -> np.ndarray:
    """The out + 1 region boundaries 0 = b_0 < ... < b_out = length of one dimension: regular when `out` divides
    `length`; else regions of length//out and length//out + 1 in random order, or (pseudo_random) boundaries
    ceil(alpha * (i + u)) - 1 for alpha = length / out and one random offset u (Graham's fractional pooling)."""
    k = length // out
    if length % out == 0:
        diff = np.full(out, k, dtype=np.int64)
    elif pseudo_random:
        alpha = length / out
        max_u = min((k + 2) / alpha - 1, (length + 1 - k) / alpha - (out - 1))
        u = gen.random() * max_u
        inner = np.ceil(alpha * (np.arange(1, out) + u)).astype(np.int64) - 1
        return np.concatenate([[0], inner, [length]]).astype(np.int64)
    else:
        diff = np.full(out, k, dtype=np.int64)
        diff[:length % out] += 1
        diff = gen.permutation(diff)
    return np.concatenate([[0], np.cumsum(diff)]).astype(np.int64)


def _region_index(seq: np.ndarray, length: int, overlapping: bool) -> tuple:
    """(index, valid): per region, the positions it covers padded to the longest region with its first
    position (which leaves a max and its first occurrence unchanged), and which entries are real."""
    starts = seq[:-1]
    ends = np.minimum(seq[1:] + (1 if overlapping else 0), length)  # exclusive
    width = int((ends - starts).max()) if starts.size else 0
    offsets = np.arange(width)
    index = starts[:, None] + offsets[None, :]
    valid = index < ends[:, None]
    return np.where(valid, index, starts[:, None]), valid


def _check_sequence(seq, length: int, out: int, what: str) -> np.ndarray:
    seq = np.asarray(seq, dtype=np.int64).reshape(-1)
    if seq.size != out + 1:
        raise _invalid(f"{what} must have {out + 1} elements, got {seq.size}")
    if seq.size and (seq[0] < 0 or seq[-1] > length or np.any(np.diff(seq) <= 0)):
        raise _invalid(f"{what} must increase strictly from 0 to {length}, got {seq.tolist()}")
    return seq


def _fractional_windows(x: np.ndarray, rows: np.ndarray, cols: np.ndarray, overlapping: bool):
    """The (n, out_h, out_w, region_h * region_w, c) gathered regions (padded regions repeat their first
    element) with the input row and column of each entry."""
    r_index, _ = _region_index(rows, x.shape[1], overlapping)
    c_index, _ = _region_index(cols, x.shape[2], overlapping)
    win = x[:, r_index[:, None, :, None], c_index[None, :, None, :], :]  # (n, oh, ow, rh, rw, c)
    n, oh, ow, rh, rw, c = win.shape
    return win.reshape(n, oh, ow, rh * rw, c), r_index, c_index


def _membership(seq: np.ndarray, length: int, overlapping: bool) -> np.ndarray:
    """(regions, length) 0/1 matrix of which positions each region covers."""
    ends = np.minimum(seq[1:] + (1 if overlapping else 0), length)
    positions = np.arange(length)[None, :]
    return ((positions >= seq[:-1, None]) & (positions < ends[:, None])).astype(np.float64)


def _fractional_factory(reduce_kind: str):
    def factory(op, ctx):
        ratio = _check_pooling_ratio(op.get_attr("pooling_ratio"), op.type)
        pseudo, overlapping = op.get_attr("pseudo_random"), op.get_attr("overlapping")
        seed, seed2 = op.get_attr("seed"), op.get_attr("seed2")
        if op.get_attr("deterministic"):
            # A fixed pair of seeds (drawn once when none is given) gives the same regions every run.
            seeds = [seed % 2**64, seed2 % 2**64] if seed or seed2 else list(np.random.SeedSequence().generate_state(2))
            generator = None
        else:
            if seed or seed2:
                raise _invalid("Both seed and seed2 should be 0 if deterministic is false.")
            generator = ctx.generator(op, None)

        def kernel(x):
            if x.ndim != 4:
                raise _invalid(f"{op.type}: input must be 4-dimensional, got shape {list(x.shape)}")
            out = [int(np.floor(d / r)) for d, r in zip(x.shape, ratio)]
            if any(d <= 0 for d in out):
                raise _invalid(f"{op.type}: output_size must be positive, got {out} for input {list(x.shape)}")
            gen = generator if generator is not None else np.random.default_rng(seeds)
            rows = pooling_sequence(x.shape[1], out[1], gen, pseudo)
            cols = pooling_sequence(x.shape[2], out[2], gen, pseudo)
            if reduce_kind == "max":
                win, _, _ = _fractional_windows(x, rows, cols, overlapping)
                result = win.max(axis=3)
            else:
                m_rows = _membership(rows, x.shape[1], overlapping)
                m_cols = _membership(cols, x.shape[2], overlapping)
                ct = np.float64 if x.dtype.kind in "iu" else x.dtype
                sums = np.einsum("ih,jw,nhwc->nijc", m_rows.astype(ct), m_cols.astype(ct), x.astype(ct),
                                 optimize=True)
                counts = np.outer(m_rows.sum(1), m_cols.sum(1))[None, :, :, None]
                # integer averages truncate toward zero, as TensorFlow's integer division does
                result = (sums / counts if x.dtype.kind == "f" else np.trunc(sums / counts)).astype(x.dtype)
            return result, rows, cols

        return kernel

    return factory


for _op_type, _kind in (("FractionalMaxPool", "max"), ("FractionalAvgPool", "avg")):
    register_op(_op_type, inputs=["value: T"],
                outputs=["output: T", "row_pooling_sequence: int64", "col_pooling_sequence: int64"],
                attrs=dict(_FRACTIONAL_ATTRS), allowed={"T": _FRACTIONAL_TYPES}, shape=_fractional_shape,
                stateful=True, factory=_fractional_factory(_kind))


@register_op("FractionalMaxPoolGrad",
             inputs=["orig_input: T", "orig_output: T", "out_backprop: T", "row_pooling_sequence: int64",
                     "col_pooling_sequence: int64"],
             outputs=["output: T"], attrs={"overlapping": ("bool", False)}, allowed={"T": _FRACTIONAL_TYPES},
             shape=lambda op: op.inputs[0].shape.with_rank(4), fresh_output=True)
def _fractional_max_pool_grad(x, y, grad, rows, cols, *, overlapping):
    """Each output's gradient goes to the first maximum (row-major) of its region."""
    if x.ndim != 4 or grad.ndim != 4:
        raise _invalid(f"orig_input and out_backprop must be 4-dimensional, got shapes {list(x.shape)} and "
                       f"{list(grad.shape)}")
    rows = _check_sequence(rows, x.shape[1], grad.shape[1], "row_pooling_sequence")
    cols = _check_sequence(cols, x.shape[2], grad.shape[2], "col_pooling_sequence")
    want = (x.shape[0], len(rows) - 1, len(cols) - 1, x.shape[3])
    if grad.shape != want or y.shape != want:
        raise _invalid(f"orig_output and out_backprop must have shape {list(want)}, got {list(y.shape)} and "
                       f"{list(grad.shape)}")
    win, r_index, c_index = _fractional_windows(x, rows, cols, overlapping)
    first = np.argmax(win, axis=3)  # (n, oh, ow, c), the first maximum
    rw = c_index.shape[1]
    src_rows = r_index[np.arange(want[1])[None, :, None, None], first // rw]
    src_cols = c_index[np.arange(want[2])[None, None, :, None], first % rw]
    n, h, w, c = x.shape
    flat = ((np.arange(n)[:, None, None, None] * h + src_rows) * w + src_cols) * c + np.arange(c)
    out = np.bincount(flat.reshape(-1), weights=grad.reshape(-1).astype(np.float64), minlength=x.size)
    return out.reshape(x.shape).astype(grad.dtype)


@register_op("FractionalAvgPoolGrad",
             inputs=["orig_input_tensor_shape: int64", "out_backprop: T", "row_pooling_sequence: int64",
                     "col_pooling_sequence: int64"],
             outputs=["output: T"], attrs={"overlapping": ("bool", False)}, allowed={"T": _FRACTIONAL_TYPES},
             shape=lambda op: _reg.constant_value_as_shape(op.inputs[0]).merge_with(_shape.unknown_shape(4)),
             fresh_output=True)
def _fractional_avg_pool_grad(orig_shape, grad, rows, cols, *, overlapping):
    """Each output's gradient spread evenly over its region."""
    shape = [int(d) for d in np.reshape(orig_shape, [-1])]
    if len(shape) != 4:
        raise _invalid(f"orig_input_tensor_shape must have 4 elements, got {len(shape)}")
    if grad.ndim != 4 or grad.shape[0] != shape[0] or grad.shape[3] != shape[3]:
        raise _invalid(f"out_backprop must be 4-dimensional with the batch and depth of {shape}, got "
                       f"{list(grad.shape)}")
    rows = _check_sequence(rows, shape[1], grad.shape[1], "row_pooling_sequence")
    cols = _check_sequence(cols, shape[2], grad.shape[2], "col_pooling_sequence")
    m_rows, m_cols = _membership(rows, shape[1], overlapping), _membership(cols, shape[2], overlapping)
    counts = np.outer(m_rows.sum(1), m_cols.sum(1))[None, :, :, None]
    share = grad.astype(np.float64) / counts
    return np.einsum("ih,jw,nijc->nhwc", m_rows, m_cols, share, optimize=True).astype(grad.dtype)


@RegisterGradient("FractionalMaxPool")
def _fractional_max_pool_gradient(op, grad, unused_rows_grad, unused_cols_grad):
    return apply_op("FractionalMaxPoolGrad", [op.inputs[0], op.outputs[0], grad, op.outputs[1], op.outputs[2]],
                    {"overlapping": op.get_attr("overlapping")}).outputs[0]


@RegisterGradient("FractionalAvgPool")
def _fractional_avg_pool_gradient(op, grad, unused_rows_grad, unused_cols_grad):
    shape = array_ops.shape(op.inputs[0], out_type=_dt.int64)
    return apply_op("FractionalAvgPoolGrad", [shape, grad, op.outputs[1], op.outputs[2]],
                    {"overlapping": op.get_attr("overlapping")}).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# Python wrappers
# ----------------------------------------------------------------------------------------------------------
# TF's namedtuples: session.run rebuilds them around the three arrays.
_FractionalMaxPoolResult = collections.namedtuple("FractionalMaxPool",
                                                  ["output", "row_pooling_sequence", "col_pooling_sequence"])
_FractionalAvgPoolResult = collections.namedtuple("FractionalAvgPool",
                                                  ["output", "row_pooling_sequence", "col_pooling_sequence"])


def _fractional_pool(op_type: str, result, value, pooling_ratio, pseudo_random, overlapping, deterministic, seed,
                     seed2, name):
    attrs = {"pooling_ratio": [float(r) for r in pooling_ratio], "pseudo_random": bool(pseudo_random),
             "overlapping": bool(overlapping), "deterministic": bool(deterministic), "seed": int(seed),
             "seed2": int(seed2)}
    op = apply_op(op_type, [value], attrs, name=name)
    return result(*op.outputs)


@tf_export("nn.fractional_max_pool")
def fractional_max_pool(value, pooling_ratio, pseudo_random=False, overlapping=False, deterministic=False, seed=0,
                        seed2=0, name=None) -> tuple:
    """Max pooling over regions of irregular sizes: about value's height / pooling_ratio[1] rows and width /
    pooling_ratio[2] columns, with the region boundaries drawn at random; returns (output, row_pooling_sequence,
    col_pooling_sequence)."""
    return _fractional_pool("FractionalMaxPool", _FractionalMaxPoolResult, value, pooling_ratio, pseudo_random,
                            overlapping, deterministic, seed, seed2, name)


@tf_export("nn.fractional_avg_pool")
def fractional_avg_pool(value, pooling_ratio, pseudo_random=False, overlapping=False, deterministic=False, seed=0,
                        seed2=0, name=None) -> tuple:
    """Average pooling over regions of irregular sizes (see fractional_max_pool); returns (output,
    row_pooling_sequence, col_pooling_sequence)."""
    return _fractional_pool("FractionalAvgPool", _FractionalAvgPoolResult, value, pooling_ratio, pseudo_random,
                            overlapping, deterministic, seed, seed2, name)
