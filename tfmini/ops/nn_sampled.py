"""The remaining `tf.nn` functions: composites over primitive ops (no kernels or gradients of their own) for
the sampled losses (nce_loss, sampled_softmax_loss), embedding_lookup_sparse and safe_embedding_lookup_sparse,
log_poisson_loss, sufficient_statistics / normalize_moments, batch_norm_with_global_normalization and the
loss-scaling helpers compute_average_loss and scale_regularization_loss; and the ApproxTopK op behind
approx_max_k / approx_min_k (computed exactly here)."""

from __future__ import annotations

import math
import warnings

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import REQUIRED, RegisterGradient, apply_op, attr_minimum, register_op
from tfmini.framework.sparse_tensor import SparseTensor
from tfmini.ops import array_ops, candidate_sampling_ops, math_ops, nn_impl, segment_ops
from tfmini.ops.partitioned_variables import PartitionedVariable


# ----------------------------------------------------------------------------------------------------------
# Sampled losses
# ----------------------------------------------------------------------------------------------------------
def _as_partitions(weights) -> list:
    """The partitions of a table: a list's items, a PartitionedVariable's parts, or the one tensor."""
    return list(weights) if isinstance(weights, (list, tuple, PartitionedVariable)) else [weights]


def _sum_rows(x: _ops.Tensor) -> _ops.Tensor:
    """The sum of each row of a matrix, as a vector."""
    return math_ops.reduce_sum(x, 1)


def _compute_sampled_logits(weights, biases, labels, inputs, num_sampled, num_classes, num_true=1,
                            sampled_values=None, subtract_log_q=True, remove_accidental_hits=False,
                            partition_strategy="mod", name=None, seed=None) -> tuple:
    """Logits of each row's true classes and of the shared sampled classes, [batch, num_true + num_sampled],
    and the matching labels (1 / num_true for the true columns, 0 for the sampled ones).

    With `subtract_log_q` each logit is lowered by the log of its class's expected count under the sampler;
    with `remove_accidental_hits` a sampled class equal to one of the row's true classes gets -FLT_MAX
    added to its logit. Without `sampled_values`, classes are drawn by log_uniform_candidate_sampler
    (unique, seeded by `seed`).
    """
    parts = _as_partitions(weights)
    with _ops.name_scope(name, "compute_sampled_logits", parts + [biases, inputs, labels]):
        labels = _ops.convert_to_tensor(labels, name="labels")
        if labels.dtype != _dt.int64:
            labels = math_ops.cast(labels, _dt.int64)
        inputs = _ops.convert_to_tensor(inputs, name="inputs")
        labels_flat = array_ops.reshape(labels, [-1])
        if sampled_values is None:
            sampled_values = candidate_sampling_ops.log_uniform_candidate_sampler(
                true_classes=labels, num_true=num_true, num_sampled=num_sampled, unique=True,
                range_max=num_classes, seed=seed)
        sampled, true_expected_count, sampled_expected_count = (array_ops.stop_gradient(s) for s in sampled_values)
        sampled = math_ops.cast(sampled, _dt.int64)
        num_true_rows = array_ops.shape(labels_flat)[0]

        # One lookup for the true and the sampled classes' weights and biases.
        all_ids = array_ops.concat([labels_flat, sampled], 0)
        all_w = nn_impl.embedding_lookup(parts, all_ids, partition_strategy=partition_strategy)
        if all_w.dtype != inputs.dtype:
            all_w = math_ops.cast(all_w, inputs.dtype)
        true_w = array_ops.slice(all_w, [0, 0], array_ops.stack([num_true_rows, -1]))
        sampled_w = array_ops.slice(all_w, array_ops.stack([num_true_rows, 0]), [-1, -1])
        all_b = nn_impl.embedding_lookup(biases, all_ids, partition_strategy=partition_strategy)
        if all_b.dtype != inputs.dtype:
            all_b = math_ops.cast(all_b, inputs.dtype)
        true_b = array_ops.slice(all_b, [0], array_ops.shape(labels_flat))
        sampled_b = array_ops.slice(all_b, array_ops.shape(labels_flat), [-1])

        # True logits: each input row against its own num_true weight rows.
        dim = array_ops.shape(true_w)[1:2]
        true_w = array_ops.reshape(true_w, array_ops.concat([[-1, num_true], dim], 0))
        row_dots = math_ops.multiply(array_ops.expand_dims(inputs, 1), true_w)
        true_logits = array_ops.reshape(_sum_rows(array_ops.reshape(row_dots, array_ops.concat([[-1], dim], 0))),
                                        [-1, num_true])
        true_logits += array_ops.reshape(true_b, [-1, num_true])
        sampled_logits = math_ops.matmul(inputs, sampled_w, transpose_b=True) + sampled_b

        if remove_accidental_hits:
            hits = candidate_sampling_ops.compute_accidental_hits(labels, sampled, num_true=num_true)
            positions = array_ops.concat([array_ops.reshape(hits.indices, [-1, 1]),
                                          array_ops.reshape(math_ops.cast(hits.ids, _dt.int32), [-1, 1])], 1)
            logits_shape = array_ops.concat([array_ops.shape(labels)[:1],
                                             array_ops.expand_dims(num_sampled, 0)], 0)
            # A (row, position) pair repeats when a row repeats a true class: mark it once, not twice, so
            # the added -FLT_MAX does not overflow to -inf.
            marked = array_ops.scatter_nd(positions, array_ops.ones_like(hits.weights), logits_shape)
            hit = math_ops.cast(math_ops.greater(marked, 0), sampled_logits.dtype)
            sampled_logits += hit * _ops.convert_to_tensor(-np.finfo(np.float32).max, dtype=sampled_logits.dtype)

        if subtract_log_q:
            true_logits -= math_ops.log(true_expected_count)
            sampled_logits -= math_ops.log(sampled_expected_count)
        out_logits = array_ops.concat([true_logits, sampled_logits], 1)
        out_labels = array_ops.concat([array_ops.ones_like(true_logits) / num_true,
                                       array_ops.zeros_like(sampled_logits)], 1)
        return out_logits, out_labels


@tf_export("nn.nce_loss")
def nce_loss(weights, biases, labels, inputs, num_sampled, num_classes, num_true=1, sampled_values=None,
             remove_accidental_hits=False, partition_strategy="mod", name="nce_loss") -> _ops.Tensor:
    """Noise-contrastive estimation loss per example: sigmoid cross-entropy of the true classes (label
    1 / num_true) and of `num_sampled` sampled classes (label 0), logits corrected by log expected counts.

    `weights` [num_classes, dim] (or a list of its partitions), `biases` [num_classes], `labels` int
    [batch, num_true], `inputs` [batch, dim]; returns [batch].
    """
    logits, labels = _compute_sampled_logits(
        weights=weights, biases=biases, labels=labels, inputs=inputs, num_sampled=num_sampled,
        num_classes=num_classes, num_true=num_true, sampled_values=sampled_values, subtract_log_q=True,
        remove_accidental_hits=remove_accidental_hits, partition_strategy=partition_strategy, name=name)
    sampled_losses = nn_impl.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits,
                                                               name="sampled_losses")
    return _sum_rows(sampled_losses)


@tf_export("nn.sampled_softmax_loss")
def sampled_softmax_loss(weights, biases, labels, inputs, num_sampled, num_classes, num_true=1,
                         sampled_values=None, remove_accidental_hits=True, partition_strategy="mod",
                         name="sampled_softmax_loss", seed=None) -> _ops.Tensor:
    """Softmax cross-entropy over each example's true classes and `num_sampled` sampled classes, logits
    corrected by log expected counts (a training-time estimate of the full softmax loss); returns [batch]."""
    logits, labels = _compute_sampled_logits(
        weights=weights, biases=biases, labels=labels, inputs=inputs, num_sampled=num_sampled,
        num_classes=num_classes, num_true=num_true, sampled_values=sampled_values, subtract_log_q=True,
        remove_accidental_hits=remove_accidental_hits, partition_strategy=partition_strategy, name=name,
        seed=seed)
    labels = array_ops.stop_gradient(labels, name="labels_stop_gradient")
    return nn_impl.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)


# ----------------------------------------------------------------------------------------------------------
# Sparse embedding lookups
# ----------------------------------------------------------------------------------------------------------
_COMBINERS = ("mean", "sqrtn", "sum")


def _check_combiner(combiner):
    if combiner is None:
        warnings.warn('The default value of combiner will change from "mean" to "sqrtn" after 2016/11/01.',
                      stacklevel=3)
        combiner = "mean"
    if combiner not in _COMBINERS:
        raise ValueError("combiner must be one of 'mean', 'sqrtn' or 'sum'")
    return combiner


def _per_row(weights: _ops.Tensor, embeddings: _ops.Tensor) -> _ops.Tensor:
    """`weights` [n] reshaped to [n, 1, ..., 1] so it scales each of the n embeddings."""
    ones = array_ops.fill(array_ops.expand_dims(array_ops.rank(embeddings) - 1, 0), 1)
    shaped = array_ops.reshape(weights, array_ops.concat([array_ops.shape(weights), ones], 0))
    if embeddings.shape.ndims is not None:
        shaped.set_shape(weights.shape.concatenate([1] * (embeddings.shape.ndims - 1)))
    return shaped


def _combine(embeddings, weights, segment_ids, combiner: str, num_segments=None, name=None) -> tuple:
    """Per-segment sum, mean or sqrt-n combination of `embeddings` (weighted when `weights` is given),
    and the per-segment divisor's source (weight sums, or entry counts). With `num_segments` the ids need
    not be sorted; segments without entries get 0 (and a divisor of 1)."""
    def segment_sum(data, last=False):
        if num_segments is None:
            return segment_ops.segment_sum(data, segment_ids, name=name if last else None)
        return math_ops.unsorted_segment_sum(data, segment_ids, num_segments, name=name if last else None)

    if weights is not None:
        weights = _per_row(math_ops.cast(weights, embeddings.dtype), embeddings)
        embeddings = embeddings * weights
        if combiner == "sum":
            return segment_sum(embeddings, last=True)
        divisor = segment_sum(weights if combiner == "mean" else math_ops.square(weights))
        if num_segments is not None:  # empty segments (replaced later) divide by 1, not 0
            divisor = array_ops.where_v2(math_ops.equal(divisor, 0), array_ops.ones_like(divisor), divisor)
    else:
        if combiner == "sum":
            return segment_sum(embeddings, last=True)
        counts = segment_sum(_per_row(array_ops.ones_like(segment_ids, dtype=embeddings.dtype), embeddings))
        divisor = math_ops.maximum(counts, array_ops.ones_like(counts))
    if combiner == "sqrtn":
        divisor = math_ops.sqrt(divisor)
    # A row between used rows that has no ids has weight 0: it combines to 0, as in TF 2.x (TF 1.15 divided
    # 0 by 0 there).
    return math_ops.div_no_nan(segment_sum(embeddings), divisor, name=name)


@tf_export("nn.embedding_lookup_sparse")
def embedding_lookup_sparse(params, sp_ids, sp_weights, partition_strategy="mod", name=None, combiner=None,
                            max_norm=None, allow_fast_lookup=False) -> _ops.Tensor:
    """Combined embeddings of each row of the SparseTensor `sp_ids` (ids in row order): the sum, mean or
    sqrt-n-scaled sum of the rows of `params` they select, weighted by `sp_weights` (a SparseTensor with
    the same indices, or None for weight 1). Returns [max row id + 1, dim...].

    `allow_fast_lookup` selects a faster TF kernel; the result is the same.
    """
    combiner = _check_combiner(combiner)
    if params is None or (isinstance(params, (list, tuple)) and not params):
        raise ValueError("Missing 'params'.")
    parts = _as_partitions(params)
    if not isinstance(sp_ids, SparseTensor):
        raise TypeError("sp_ids must be SparseTensor")
    if sp_weights is not None and not isinstance(sp_weights, SparseTensor):
        raise TypeError("sp_weights must be either None or SparseTensor")
    if sp_weights is not None:
        sp_ids.values.shape.assert_is_compatible_with(sp_weights.values.shape)
        sp_ids.indices.shape.assert_is_compatible_with(sp_weights.indices.shape)
        sp_ids.dense_shape.shape.assert_is_compatible_with(sp_weights.dense_shape.shape)
    with _ops.name_scope(name, "embedding_lookup_sparse", parts + [sp_ids]) as scope:
        segment_ids = math_ops.cast(sp_ids.indices[:, 0], _dt.int32)
        embeddings = nn_impl.embedding_lookup(parts, sp_ids.values, partition_strategy=partition_strategy,
                                              max_norm=max_norm)
        weights = None if sp_weights is None else sp_weights.values
        return _combine(embeddings, weights, segment_ids, combiner, name=scope)


def _flat_rows(indices: _ops.Tensor, dense_shape: _ops.Tensor, rank: int) -> _ops.Tensor:
    """The row of each entry when a SparseTensor of `rank` is viewed as [prod(shape[:-1]), shape[-1]]."""
    row = indices[:, 0]
    for k in range(1, rank - 1):
        row = row * dense_shape[k] + indices[:, k]
    return row


@tf_export("nn.safe_embedding_lookup_sparse")
def safe_embedding_lookup_sparse(embedding_weights, sparse_ids, sparse_weights=None, combiner="mean",
                                 default_id=None, name=None, partition_strategy="div", max_norm=None,
                                 allow_fast_lookup=False) -> _ops.Tensor:
    """embedding_lookup_sparse that tolerates bad input: ids < 0 (and, unless combiner is 'sum', weights
    <= 0) are dropped, and rows left without ids get the embedding of `default_id` (zeros when None).
    `sparse_ids` may have any rank >= 2: the result is [shape[:-1]..., dim...]."""
    if embedding_weights is None:
        raise ValueError(f"Missing embedding_weights {embedding_weights}.")
    parts = _as_partitions(embedding_weights)
    if len(parts) < 1:
        raise ValueError(f"Missing embedding_weights {embedding_weights}.")
    if combiner not in _COMBINERS:
        raise ValueError("combiner must be one of 'mean', 'sqrtn' or 'sum'")
    if not isinstance(sparse_ids, SparseTensor):
        raise TypeError("sparse_ids must be SparseTensor")
    rank = _shape.dimension_value(sparse_ids.dense_shape.shape[0])
    if rank is None:
        raise ValueError("safe_embedding_lookup_sparse needs sparse_ids of known rank")
    scope_inputs = parts + [sparse_ids] + ([] if sparse_weights is None else [sparse_weights])
    with _ops.name_scope(name, "embedding_lookup", scope_inputs) as scope:
        dense_shape = sparse_ids.dense_shape
        num_rows = math_ops.reduce_prod(dense_shape[:rank - 1])
        rows = _flat_rows(sparse_ids.indices, dense_shape, rank)
        ids = sparse_ids.values
        keep = math_ops.greater_equal(ids, array_ops.zeros_like(ids))
        weights = None
        if sparse_weights is not None:
            weights = sparse_weights.values
            if combiner != "sum":
                keep = math_ops.logical_and(keep, math_ops.greater(weights, array_ops.zeros_like(weights)))
            weights = array_ops.boolean_mask(weights, keep)
        ids, rows = array_ops.boolean_mask(ids, keep), array_ops.boolean_mask(rows, keep)
        embeddings = nn_impl.embedding_lookup(parts, ids, partition_strategy=partition_strategy, max_norm=max_norm)
        result = _combine(embeddings, weights, rows, combiner, num_segments=num_rows)
        entries = math_ops.unsorted_segment_sum(array_ops.ones_like(rows, dtype=_dt.int32), rows, num_rows)
        empty = _per_row(math_ops.equal(entries, 0), result)
        if default_id is None:
            filler = array_ops.zeros_like(result)
        else:
            default = nn_impl.embedding_lookup(parts, array_ops.fill([1], math_ops.cast(default_id, ids.dtype)),
                                               partition_strategy=partition_strategy, max_norm=max_norm)
            filler = default + array_ops.zeros_like(result)
        result = array_ops.where_v2(empty, filler, result)
        final_shape = array_ops.concat([math_ops.cast(dense_shape[:rank - 1], _dt.int32),
                                        array_ops.shape(result)[1:]], 0)
        final = array_ops.reshape(result, final_shape, name=scope)
        final.set_shape(_shape.unknown_shape(rank - 1).concatenate(result.shape[1:]))
        return final


# ----------------------------------------------------------------------------------------------------------
# Losses, moments, batch normalization
# ----------------------------------------------------------------------------------------------------------
@tf_export("nn.log_poisson_loss")
def log_poisson_loss(targets, log_input, compute_full_loss=False, name=None) -> _ops.Tensor:
    """exp(log_input) - log_input * targets, the Poisson negative log-likelihood up to a term in the
    targets; with `compute_full_loss` that term's Stirling approximation
    targets * log(targets) - targets + 0.5 * log(2 pi targets) is added where targets > 1."""
    with _ops.name_scope(name, "log_poisson_loss", [log_input, targets]) as name:
        log_input = _ops.convert_to_tensor(log_input, name="log_input")
        targets = _ops.convert_to_tensor(targets, name="targets")
        try:
            targets.shape.merge_with(log_input.shape)
        except ValueError:
            raise ValueError(f"log_input and targets must have the same shape ({log_input.shape} vs "
                             f"{targets.shape})") from None
        result = math_ops.exp(log_input) - log_input * targets
        if compute_full_loss:
            half = _ops.convert_to_tensor(0.5, dtype=targets.dtype)
            two_pi = _ops.convert_to_tensor(2 * math.pi, dtype=targets.dtype)
            stirling = targets * math_ops.log(targets) - targets + half * math_ops.log(two_pi * targets)
            zeros, ones = array_ops.zeros_like(targets), array_ops.ones_like(targets)
            small = math_ops.logical_and(math_ops.greater_equal(targets, zeros), math_ops.less_equal(targets, ones))
            result += array_ops.where(small, zeros, stirling)
        return result


@tf_export("nn.sufficient_statistics")
def sufficient_statistics(x, axes, shift=None, keep_dims=None, name=None, keepdims=None) -> tuple:
    """(count, sum of x - shift, sum of (x - shift) ** 2, shift) over `axes`: what normalize_moments turns
    into a mean and a variance. The count is a constant when those dims are known statically."""
    axes = sorted(set(axes))
    keep = nn_impl._renamed(keepdims, "keepdims", keep_dims, "keep_dims")
    keep = bool(keep) if keep is not None else False
    with _ops.name_scope(name, "sufficient_statistics", [x, shift]):
        x = _ops.convert_to_tensor(x, name="x")
        dims = x.shape.dims if x.shape.ndims is not None else None
        if dims is not None and all(dims[d].value is not None for d in axes):
            count = 1
            for d in axes:
                count *= dims[d].value
            counts = _ops.convert_to_tensor(count, dtype=x.dtype)
        else:
            x_dims = array_ops.gather(math_ops.cast(array_ops.shape(x), x.dtype), axes)
            counts = math_ops.reduce_prod(x_dims, name="count")
        if shift is not None:
            shift = _ops.convert_to_tensor(shift, name="shift")
            m_ss = math_ops.subtract(x, shift)
            v_ss = math_ops.squared_difference(x, shift)
        else:
            m_ss, v_ss = x, math_ops.square(x)
        m_ss = math_ops.reduce_sum(m_ss, axes, keepdims=keep, name="mean_ss")
        v_ss = math_ops.reduce_sum(v_ss, axes, keepdims=keep, name="var_ss")
    return counts, m_ss, v_ss, shift


@tf_export("nn.normalize_moments")
def normalize_moments(counts, mean_ss, variance_ss, shift, name=None) -> tuple:
    """(mean, variance) from sufficient statistics: mean = mean_ss / counts + shift,
    variance = variance_ss / counts - (mean_ss / counts) ** 2."""
    with _ops.name_scope(name, "normalize", [counts, mean_ss, variance_ss, shift]):
        divisor = math_ops.reciprocal(counts, name="divisor")
        if shift is not None:
            shifted_mean = math_ops.multiply(mean_ss, divisor, name="shifted_mean")
            mean = math_ops.add(shifted_mean, shift, name="mean")
        else:
            shifted_mean = math_ops.multiply(mean_ss, divisor, name="mean")
            mean = shifted_mean
        variance = math_ops.subtract(math_ops.multiply(variance_ss, divisor), math_ops.square(shifted_mean),
                                     name="variance")
    return mean, variance


@tf_export("nn.batch_norm_with_global_normalization")
def batch_norm_with_global_normalization(t=None, m=None, v=None, beta=None, gamma=None, variance_epsilon=None,
                                         scale_after_normalization=None, name=None, input=None,  # noqa: A002
                                         mean=None, variance=None) -> _ops.Tensor:
    """Batch normalization with given (global) mean `m` and variance `v`: (t - m) / sqrt(v + epsilon) * gamma
    + beta, gamma applied only with `scale_after_normalization` (the deprecated form of batch_normalization)."""
    t = nn_impl._renamed(input, "input", t, "t")
    m = nn_impl._renamed(mean, "mean", m, "m")
    v = nn_impl._renamed(variance, "variance", v, "v")
    return nn_impl.batch_normalization(t, m, v, beta, gamma if scale_after_normalization else None,
                                       variance_epsilon, name)


# ----------------------------------------------------------------------------------------------------------
# Loss scaling for replicated training (one replica here)
# ----------------------------------------------------------------------------------------------------------
@tf_export("nn.compute_average_loss")
def compute_average_loss(per_example_loss, sample_weight=None, global_batch_size=None) -> _ops.Tensor:
    """sum(per_example_loss * sample_weight) / global_batch_size, the global batch size defaulting to the
    first dimension of `per_example_loss` (tfmini runs one replica)."""
    per_example_loss = _ops.convert_to_tensor(per_example_loss)
    dtype = per_example_loss.dtype
    if per_example_loss.shape.ndims == 0:
        raise ValueError("Invalid value passed for `per_example_loss`. Expected a tensor with at least rank 1.")
    if sample_weight is not None:
        sample_weight = math_ops.cast(_ops.convert_to_tensor(sample_weight), dtype)
        per_example_loss = per_example_loss * sample_weight
    if global_batch_size is None:
        global_batch_size = array_ops.shape(per_example_loss)[0]
    else:
        global_batch_size = _ops.convert_to_tensor(global_batch_size)
        if global_batch_size.shape.ndims not in (None, 0):
            raise ValueError("global_batch_size must be scalar.")
        if not global_batch_size.dtype.is_integer:
            raise TypeError("global_batch_size must be an integer.")
        static = _static_int(global_batch_size)
        if static is not None and static <= 0:
            raise ValueError("global_batch_size must be positive.")
    return math_ops.reduce_sum(per_example_loss) / math_ops.cast(global_batch_size, dtype)


def _static_int(t: _ops.Tensor):
    from_graph = _reg.constant_value(t)
    return None if from_graph is None else int(np.asarray(from_graph))


@tf_export("nn.scale_regularization_loss")
def scale_regularization_loss(regularization_loss) -> _ops.Tensor:
    """The sum of `regularization_loss` divided by the number of replicas (one here)."""
    return math_ops.reduce_sum(regularization_loss) / 1



# ----------------------------------------------------------------------------------------------------------
# ApproxTopK (TF 2.x's approx_max_k / approx_min_k)
# ----------------------------------------------------------------------------------------------------------
def _axis(rank: int, axis: int) -> int:
    if not -rank <= axis < rank:
        raise ValueError(f"reduction_dimension {axis} is out of range for a tensor of rank {rank}")
    return axis % rank


def _approx_top_k_shape(op):
    x = op.inputs[0].shape
    if x.ndims is None:
        return [_shape.unknown_shape(), _shape.unknown_shape()]
    axis = _axis(x.ndims, op.get_attr("reduction_dimension"))
    k = op.get_attr("k")
    if x.dims[axis].value is not None and k > x.dims[axis].value:
        raise ValueError(f"k ({k}) must not exceed the reduction dimension ({x.dims[axis].value})")
    out = x[:axis].concatenate([k]).concatenate(x[axis + 1:])
    return [out, out]


@register_op("ApproxTopK", inputs=["input: T"], outputs=["values: T", "indices: int32"],
             attrs={"k": ("int", REQUIRED), "reduction_dimension": ("int", -1), "recall_target": ("float", 0.95),
                    "is_max_k": ("bool", True), "reduction_input_size_override": ("int", -1),
                    "aggregate_to_topk": ("bool", True)},
             allowed={"T": (_dt.float16, _dt.bfloat16, _dt.float32)}, shape=_approx_top_k_shape)
def _approx_top_k(x, *, k, reduction_dimension, is_max_k):
    """The exact k largest (smallest) entries along the dimension, ties in index order: an exact answer meets
    every recall target."""
    if x.ndim == 0:
        raise _errors.InvalidArgumentError(None, None, "ApproxTopK needs an input of rank >= 1")
    axis = _axis(x.ndim, reduction_dimension)
    if k > x.shape[axis]:
        raise _errors.InvalidArgumentError(None, None, f"k ({k}) must not exceed the reduction dimension "
                                                       f"({x.shape[axis]})")
    order = np.argsort(-x if is_max_k else x, axis=axis, kind="stable")
    indices = np.take(order, np.arange(k), axis=axis)
    return np.take_along_axis(x, indices, axis=axis), indices.astype(np.int32)


@RegisterGradient("ApproxTopK")
def _approx_top_k_grad(op, grad_values, _grad_indices):
    """The values' gradient scattered back to the positions they came from."""
    x, indices = op.inputs[0], op.outputs[1]
    if x.shape.ndims is None:
        raise ValueError("The gradient of ApproxTopK needs the input's rank")
    axis = _axis(x.shape.ndims, op.get_attr("reduction_dimension"))
    depth = array_ops.shape(x)[axis]
    one_hot = array_ops.one_hot(indices, depth, axis=axis + 1, dtype=grad_values.dtype)
    return math_ops.reduce_sum(one_hot * array_ops.expand_dims(grad_values, axis + 1), axis)


attr_minimum("ApproxTopK", "k", 0)


def _approx_top_k_api(operand, k, reduction_dimension, recall_target, is_max_k, reduction_input_size_override,
                      aggregate_to_topk, name) -> tuple:
    op = apply_op("ApproxTopK", [operand],
                  {"k": k, "reduction_dimension": reduction_dimension, "recall_target": float(recall_target),
                   "is_max_k": is_max_k, "reduction_input_size_override": reduction_input_size_override,
                   "aggregate_to_topk": bool(aggregate_to_topk)}, name=name)
    return op.outputs[0], op.outputs[1]


@tf_export("math.approx_max_k", "nn.approx_max_k")
def approx_max_k(operand, k, reduction_dimension=-1, recall_target=0.95, reduction_input_size_override=-1,
                 aggregate_to_topk=True, name=None) -> tuple:
    """(values, indices) of the k largest entries of `operand` along `reduction_dimension`. TensorFlow
    approximates them on TPUs; here they are exact, which satisfies any `recall_target`."""
    return _approx_top_k_api(operand, k, reduction_dimension, recall_target, True, reduction_input_size_override,
                             aggregate_to_topk, name)


@tf_export("math.approx_min_k", "nn.approx_min_k")
def approx_min_k(operand, k, reduction_dimension=-1, recall_target=0.95, reduction_input_size_override=-1,
                 aggregate_to_topk=True, name=None) -> tuple:
    """(values, indices) of the k smallest entries of `operand` along `reduction_dimension` (exact here)."""
    return _approx_top_k_api(operand, k, reduction_dimension, recall_target, False, reduction_input_size_override,
                             aggregate_to_topk, name)
