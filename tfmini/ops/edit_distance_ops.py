"""EditDistance (tf.edit_distance): the Levenshtein distance between the sequences of two SparseTensors, one per
index of their leading dimensions, declared with its shape function and kernel beside its Python wrapper."""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import NotDifferentiable, apply_op, register_op
from tfmini.framework.sparse_tensor import SparseTensor, SparseTensorValue

_fmt = _shape.dims_str


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


def levenshtein(a: np.ndarray, b: np.ndarray) -> int:
    """The edit distance between sequences a and b (insertions, deletions and substitutions cost 1).

    Row by row of the dynamic programme, each row in NumPy: with cand[j] the best cost reaching cell j from the
    row above (deletion) or the diagonal (substitution), the row is min over k <= j of cand[k] + (j - k)
    (insertions), a running minimum of cand[k] - k."""
    n = len(b)
    if len(a) == 0 or n == 0:
        return max(len(a), n)
    steps = np.arange(n + 1)
    row = steps.copy()
    for i, item in enumerate(a, start=1):
        cand = np.empty(n + 1, dtype=np.int64)
        cand[0] = i
        cand[1:] = np.minimum(row[1:] + 1, row[:-1] + (b != item))
        row = np.minimum.accumulate(cand - steps) + steps
    return int(row[-1])


def _edit_distance_shape(op):
    hyp_shape, truth_shape = op.inputs[2], op.inputs[5]
    hyp = _reg.constant_value(hyp_shape)
    truth = _reg.constant_value(truth_shape)
    if hyp is None or truth is None:
        rank = hyp_shape.shape.with_rank(1)[0].value
        return _shape.unknown_shape() if rank is None else _shape.TensorShape([None] * (rank - 1))
    if len(hyp) != len(truth):
        raise ValueError(f"Ranks of hypothesis and truth differ: {len(hyp)} vs. {len(truth)}")
    return _shape.TensorShape([max(int(h), int(t)) for h, t in zip(hyp[:-1], truth[:-1])])


def _check_sparse(indices, values, shape, what: str) -> None:
    if indices.ndim != 2 or values.ndim != 1 or shape.ndim != 1:
        raise _invalid(f"{what}_indices should be a matrix, {what}_values a vector and {what}_shape a vector, got "
                       f"shapes {_fmt(indices.shape)}, {_fmt(values.shape)}, {_fmt(shape.shape)}")
    if indices.shape[0] != values.shape[0] or indices.shape[1] != shape.shape[0]:
        raise _invalid(f"{what}_indices {_fmt(indices.shape)} does not match {what}_values {_fmt(values.shape)} "
                       f"and {what}_shape {_fmt(shape.shape)}")
    if indices.shape[0] and ((indices < 0) | (indices >= shape)).any():
        raise _invalid(f"{what}_indices out of bounds of {what}_shape {shape.tolist()}")


def _sequences(indices: np.ndarray, values: np.ndarray) -> dict:
    """The values of each sequence (the entries sharing all index coordinates but the last), in index order."""
    if not len(values):
        return {}
    order = np.lexsort(indices.T[::-1])
    indices, values = indices[order], values[order]
    keys = indices[:, :-1]
    starts = np.concatenate([[0], np.nonzero((keys[1:] != keys[:-1]).any(axis=1))[0] + 1, [len(values)]])
    return {tuple(keys[s].tolist()): values[s:e] for s, e in zip(starts[:-1], starts[1:])}


@register_op("EditDistance", inputs=["hypothesis_indices: int64", "hypothesis_values: T", "hypothesis_shape: int64",
                                     "truth_indices: int64", "truth_values: T", "truth_shape: int64"],
             outputs=["output: float32"], attrs={"normalize": ("bool", True)}, shape=_edit_distance_shape,
             fresh_output=True)
def _edit_distance_kernel(hyp_indices, hyp_values, hyp_shape, truth_indices, truth_values, truth_shape, *,
                          normalize):
    _check_sparse(hyp_indices, hyp_values, hyp_shape, "hypothesis")
    _check_sparse(truth_indices, truth_values, truth_shape, "truth")
    if hyp_shape.shape != truth_shape.shape:
        raise _invalid(f"hypothesis and truth have different ranks: {hyp_shape.tolist()} vs. "
                       f"{truth_shape.tolist()}")
    out_shape = tuple(int(max(h, t)) for h, t in zip(hyp_shape[:-1], truth_shape[:-1]))
    out = np.zeros(out_shape, dtype=np.float32)
    hyps, truths = _sequences(hyp_indices, hyp_values), _sequences(truth_indices, truth_values)
    empty = hyp_values[:0]
    for key in hyps.keys() | truths.keys():
        hyp, truth = hyps.get(key, empty), truths.get(key, empty)
        distance = float(levenshtein(hyp, truth))
        if normalize:
            distance = distance / len(truth) if len(truth) else np.inf
        out[key] = distance
    return out


NotDifferentiable("EditDistance")


@tf_export("edit_distance")
def edit_distance(hypothesis, truth, normalize=True, name="edit_distance") -> _ops.Tensor:
    """The Levenshtein distance between the sequences of two SparseTensors of one rank R (a float32 tensor of
    rank R - 1, one entry per sequence); with `normalize`, divided by the length of the truth sequence."""
    if not isinstance(hypothesis, (SparseTensor, SparseTensorValue)):
        raise TypeError("Hypothesis must be a SparseTensor.")
    if not isinstance(truth, (SparseTensor, SparseTensorValue)):
        raise TypeError("Truth must be a SparseTensor.")
    inputs = [hypothesis.indices, hypothesis.values, hypothesis.dense_shape,
              truth.indices, truth.values, truth.dense_shape]
    inputs = [_ops.convert_to_tensor(v, dtype=_dt.int64) if k % 3 != 1 else v for k, v in enumerate(inputs)]
    return apply_op("EditDistance", inputs, {"normalize": normalize}, name=name).outputs[0]
