"""Connectionist temporal classification: the CTCLoss op (loss and its gradient with respect to the logits,
from the forward-backward recursions of Graves' thesis, ch. 7), the CTCGreedyDecoder and CTCBeamSearchDecoder
ops, and the `tf.nn` wrappers (ctc_loss, ctc_loss_v2, the decoders, collapse_repeated, ctc_unique_labels).

The blank is the last class. The loss op applies a softmax to its inputs itself; its gradient output is
softmax(inputs) minus the posterior of each class at each step, and serves as the gradient of the loss.
"""

from __future__ import annotations

import heapq
import itertools

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import REQUIRED, NotDifferentiable, RegisterGradient, apply_op, attr_minimum, register_op
from tfmini.framework.sparse_tensor import SparseTensor
from tfmini.ops import array_ops, higher_order_ops, math_ops, nn_ops

_FLOATS = (_dt.float32, _dt.float64)


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


def _logsumexp(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log(exp(a) + exp(b)) elementwise, exact when either side is -inf."""
    hi = np.maximum(a, b)
    lo = np.minimum(a, b)
    with np.errstate(invalid="ignore"):
        out = hi + np.log1p(np.exp(lo - hi))
    return np.where(np.isneginf(hi), hi, out)


# ----------------------------------------------------------------------------------------------------------
# CTCLoss
# ----------------------------------------------------------------------------------------------------------
def _label_sequences(indices: np.ndarray, values: np.ndarray, batch_size: int) -> list[list[int]]:
    """The label sequence of each batch entry from a SparseTensor's (batch, position) indices."""
    if indices.shape[0]:
        if np.any(indices < 0):
            raise _invalid("label SparseTensor is not valid: indices must be non-negative")
        order_ok = np.all((indices[1:, 0] > indices[:-1, 0]) |
                          ((indices[1:, 0] == indices[:-1, 0]) & (indices[1:, 1] > indices[:-1, 1])))
        if not order_ok:
            raise _invalid("label SparseTensor is not valid: indices are out of order or repeated")
        bad = indices[:, 0] >= batch_size
        if bad.any():
            raise _invalid(f"labels batch index must be between 0 and {batch_size} but saw: "
                           f"{int(indices[bad][0, 0])}")
    bounds = np.searchsorted(indices[:, 0], np.arange(batch_size + 1)) if indices.shape[0] else \
        np.zeros(batch_size + 1, dtype=np.int64)
    return [values[bounds[b]:bounds[b + 1]].tolist() for b in range(batch_size)]


def _target(label: list[int], b: int, num_classes: int, collapse: bool) -> list[int]:
    """The labels CTC aligns for entry `b`: repeats collapsed if asked, ending at the first blank-or-above
    label (a non-blank after it is an error), all checked to be class ids."""
    if not label:
        raise _invalid(f"Labels length is zero in batch {b}")
    out: list[int] = []
    finished = False
    for i, lab in enumerate(label):
        if i and collapse and lab == label[i - 1]:
            continue
        if lab >= num_classes - 1:
            finished = True
        elif finished:
            raise _invalid(f"Saw a non-null label (index >= num_classes - 1) following a null label, batch: {b} "
                           f"num_classes: {num_classes} labels: {','.join(map(str, label))} labels seen so far: "
                           f"{','.join(map(str, out))}")
        else:
            out.append(lab)
    if any(lab < 0 for lab in out):
        raise _invalid(f"All labels must be nonnegative integers, batch: {b} labels: {','.join(map(str, out))}")
    return out


def _ctc_batch(logp: np.ndarray, lengths: np.ndarray, targets: list[list[int]], blank: int,
               merge_repeated: bool) -> tuple:
    """-log p(target | x) and d loss / d logits of a batch, `logp` the [T, B, classes] log-softmax (rows past
    an entry's length unused). The recursions run over time for all entries at once, on each entry's
    blank-extended target padded with impossible states."""
    t_max, batch, num_classes = logp.shape
    u_max = 2 * max(len(t) for t in targets) + 1
    ext = np.full((batch, u_max), blank, dtype=np.int64)
    valid = np.zeros((batch, u_max), dtype=bool)
    for b, target in enumerate(targets):
        ext[b, 1:2 * len(target):2] = target
        valid[b, :2 * len(target) + 1] = True
    is_blank = ext == blank
    # Transitions into state u: from u (staying; non-blank states only when repeats merge), from u - 1, and
    # from u - 2 for a non-blank label that differs from the label two states back (or, without merging,
    # even when it is the same).
    stay = is_blank | merge_repeated
    skip = np.zeros((batch, u_max), dtype=bool)
    skip[:, 2:] = ~is_blank[:, 2:] & ~(merge_repeated & (ext[:, 2:] == ext[:, :-2]))
    emit = np.take_along_axis(logp, np.broadcast_to(ext[None], (t_max, batch, u_max)), axis=2)
    emit = np.where(valid[None] & (np.arange(t_max)[:, None, None] < lengths[None, :, None]), emit, -np.inf)
    neg_inf = np.full((batch, u_max), -np.inf, dtype=logp.dtype)

    alpha = np.full((t_max, batch, u_max), -np.inf, dtype=logp.dtype)
    alpha[0, :, :2] = emit[0, :, :2]
    for t in range(1, t_max):
        prev = alpha[t - 1]
        acc = np.where(stay, prev, neg_inf)
        acc[:, 1:] = _logsumexp(acc[:, 1:], prev[:, :-1])
        acc[:, 2:] = np.where(skip[:, 2:], _logsumexp(acc[:, 2:], prev[:, :-2]), acc[:, 2:])
        alpha[t] = acc + emit[t]

    # Each entry's backward pass starts at its own last step, in its last two states.
    last = np.arange(u_max)[None, :] >= valid.sum(axis=1, keepdims=True) - 2
    start = np.where(last & valid, 0.0, -np.inf).astype(logp.dtype)
    beta = np.full((t_max, batch, u_max), -np.inf, dtype=logp.dtype)
    for t in range(t_max - 1, -1, -1):
        acc = neg_inf
        if t + 1 < t_max:
            nxt = beta[t + 1] + emit[t + 1]
            acc = np.where(stay, nxt, neg_inf)
            acc[:, :-1] = _logsumexp(acc[:, :-1], nxt[:, 1:])
            acc[:, :-2] = np.where(skip[:, 2:], _logsumexp(acc[:, :-2], nxt[:, 2:]), acc[:, :-2])
        at_end = (lengths == t + 1)[:, None]
        beta[t] = np.where(at_end, start, np.where(valid, acc, neg_inf))

    log_p = np.logaddexp.reduce(alpha[0] + beta[0], axis=1)
    probs = np.exp(logp)
    # Posterior of each class at each step: the paths through the states that emit it.
    with np.errstate(invalid="ignore"):
        occupancy = np.exp(alpha + beta - log_p[None, :, None])
    occupancy = np.where(np.isfinite(log_p)[None, :, None], occupancy, 0)
    onehot = np.zeros((batch, u_max, num_classes), dtype=logp.dtype)
    np.put_along_axis(onehot, ext[:, :, None], 1, axis=2)
    posterior = np.einsum("tbu,buc->tbc", occupancy, onehot * valid[:, :, None])
    # Without any valid path the gradient is the softmax itself, as in TensorFlow.
    grad = probs - posterior
    grad = np.where(np.arange(t_max)[:, None, None] < lengths[None, :, None], grad, 0)
    return -log_p, grad


def _ctc_loss_shape(op):
    inputs = op.inputs[0].shape.with_rank(3)
    op.inputs[1].shape.with_rank(2)
    op.inputs[2].shape.with_rank(1)
    seq = op.inputs[3].shape.with_rank(1)
    batch = inputs[1].merge_with(seq[0])
    return [_shape.TensorShape([batch]), _shape.TensorShape([inputs[0], batch, inputs[2]])]


@register_op("CTCLoss", inputs=["inputs: T", "labels_indices: int64", "labels_values: int32",
                                "sequence_length: int32"],
             outputs=["loss: T", "gradient: T"],
             attrs={"preprocess_collapse_repeated": ("bool", False), "ctc_merge_repeated": ("bool", True),
                    "ignore_longer_outputs_than_inputs": ("bool", False), "T": ("type", _dt.float32)},
             allowed={"T": _FLOATS}, shape=_ctc_loss_shape)
def _ctc_loss_kernel(inputs, labels_indices, labels_values, sequence_length, *, preprocess_collapse_repeated,
                     ctc_merge_repeated, ignore_longer_outputs_than_inputs):
    if inputs.ndim != 3:
        raise _invalid("inputs is not a 3-Tensor")
    if sequence_length.ndim != 1:
        raise _invalid("sequence_length is not a vector")
    if labels_indices.ndim != 2:
        raise _invalid("labels_indices is not a matrix")
    if labels_values.ndim != 1:
        raise _invalid("labels_values is not a vector")
    max_time, batch_size, num_classes = inputs.shape
    if sequence_length.shape[0] != batch_size:
        raise _invalid(f"len(sequence_length) != batch_size.  len(sequence_length):  {sequence_length.shape[0]} "
                       f"batch_size: {batch_size}")
    if labels_indices.shape[0] != labels_values.shape[0]:
        raise _invalid(f"labels_indices and labels_values must contain the same number of rows, but saw shapes: "
                       f"{_shape.dims_str(labels_indices.shape)} vs. {_shape.dims_str(labels_values.shape)}")
    if batch_size == 0:
        raise _invalid("batch_size must not be 0")
    labels = _label_sequences(labels_indices, labels_values, batch_size)
    for b in range(batch_size):
        if sequence_length[b] > max_time:
            raise _invalid(f"sequence_length({b}) <= {max_time}")
    for b in range(batch_size):
        if sequence_length[b] < 0:
            raise _invalid(f"seq_len({b}) < 0")
    targets = []
    for b in range(batch_size):
        target = _target(labels[b], b, num_classes, preprocess_collapse_repeated)
        if any(lab >= num_classes for lab in target):
            raise _invalid(f"No label may be greater than num_classes. num_classes: {num_classes}, batch: {b} "
                           f"labels: {','.join(map(str, target))}")
        if not ignore_longer_outputs_than_inputs and len(labels[b]) > sequence_length[b]:
            raise _invalid(f"Not enough time for target transition sequence (required: {len(labels[b])}, "
                           f"available: {int(sequence_length[b])}){b}You can turn this error into a warning by "
                           f"using the flag ignore_longer_outputs_than_inputs")
        targets.append(target)

    loss = np.zeros(batch_size, dtype=inputs.dtype)
    grad = np.zeros(inputs.shape, dtype=inputs.dtype)
    lengths = sequence_length.astype(np.int64)
    # Entries without steps, or (when allowed) with more labels than steps, get no loss and no gradient.
    used = (lengths > 0) & ~(ignore_longer_outputs_than_inputs &
                             (np.array([len(lab) for lab in labels]) > lengths))
    if used.any():
        rows = np.nonzero(used)[0]
        x = inputs[:, rows, :]
        shifted = x - x.max(axis=2, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
        loss[rows], grad[:, rows, :] = _ctc_batch(logp, lengths[rows], [targets[b] for b in rows],
                                                  num_classes - 1, ctc_merge_repeated)
    return loss, grad


_NO_SECOND_DERIVATIVE = ("Currently there is no way to take the second derivative of ctc_loss due to the fused "
                         "implementation's interaction with tf.gradients()")


@register_op("PreventGradient", inputs=["input: T"], outputs=["output: T"], attrs={"message": ("string", "")},
             shape=lambda op: op.inputs[0].shape)
def _prevent_gradient(x):
    return x


@RegisterGradient("PreventGradient")
def _prevent_gradient_grad(op, _grad):
    """Differentiating through PreventGradient is an error naming the reason, as in TensorFlow."""
    message = op.get_attr("message")
    message = message.decode() if isinstance(message, bytes) else message
    raise LookupError(f"Gradient explicitly disabled. Reason: {message}")


@RegisterGradient("CTCLoss")
def _ctc_loss_grad(op, grad_loss, _grad_gradient):
    """The op's own gradient output, scaled per batch entry by the incoming gradient of the loss. It is not
    differentiable again (TF's message says why)."""
    gradient = apply_op("PreventGradient", [op.outputs[1]], {"message": _NO_SECOND_DERIVATIVE}).outputs[0]
    return [array_ops.expand_dims(array_ops.expand_dims(grad_loss, 0), -1) * gradient, None, None, None]




# ----------------------------------------------------------------------------------------------------------
# Decoders
# ----------------------------------------------------------------------------------------------------------
def _check_decoder_inputs(inputs: np.ndarray, sequence_length: np.ndarray) -> tuple[int, int, int]:
    if inputs.ndim != 3:
        raise _invalid("inputs is not a 3-Tensor")
    max_time, batch_size, num_classes = inputs.shape
    if max_time == 0:
        raise _invalid("max_time is 0")
    if sequence_length.ndim != 1:
        raise _invalid("sequence_length is not a vector")
    if sequence_length.shape[0] != batch_size:
        raise _errors.FailedPreconditionError(
            None, None, f"len(sequence_length) != batch_size.  len(sequence_length):  {sequence_length.shape[0]} "
                        f"batch_size: {batch_size}")
    for b in range(batch_size):
        if sequence_length[b] > max_time:
            raise _errors.FailedPreconditionError(None, None, f"sequence_length({b}) <= {max_time}")
    return max_time, batch_size, num_classes


def _sparse_outputs(paths: list[list[int]]) -> tuple:
    """(indices, values, dense_shape) of one SparseTensor holding a path per batch entry."""
    lengths = [len(p) for p in paths]
    rows = np.repeat(np.arange(len(paths), dtype=np.int64), lengths)
    cols = np.concatenate([np.arange(n, dtype=np.int64) for n in lengths]) if paths else np.zeros(0, np.int64)
    values = np.asarray(list(itertools.chain.from_iterable(paths)), dtype=np.int64)
    return (np.stack([rows, cols], axis=1).reshape(-1, 2), values,
            np.asarray([len(paths), max(lengths, default=0)], dtype=np.int64))


def _decoder_shape(op, top_paths: int):
    inputs = op.inputs[0].shape.with_rank(3)
    seq = op.inputs[1].shape.with_rank(1)
    batch = inputs[1].merge_with(seq[0])
    sparse = [_shape.TensorShape([None, 2])] * top_paths + [_shape.TensorShape([None])] * top_paths + \
        [_shape.TensorShape([2])] * top_paths
    return sparse + [_shape.TensorShape([batch, top_paths])]


@register_op("CTCGreedyDecoder", inputs=["inputs: T", "sequence_length: int32"],
             outputs=["decoded_indices: int64", "decoded_values: int64", "decoded_shape: int64",
                      "log_probability: T"],
             attrs={"merge_repeated": ("bool", False), "blank_index": ("int", -1), "T": ("type", _dt.float32)},
             allowed={"T": _FLOATS}, shape=lambda op: _decoder_shape(op, 1))
def _ctc_greedy_decoder(inputs, sequence_length, *, merge_repeated, blank_index):
    max_time, batch_size, num_classes = _check_decoder_inputs(inputs, sequence_length)
    blank = num_classes + blank_index if blank_index < 0 else blank_index
    if not 0 <= blank < num_classes:
        raise _invalid(f"blank_index expected to be between {-num_classes} and {num_classes - 1} but was "
                       f"{blank_index}")
    best = np.argmax(inputs, axis=2)  # [T, B], the first of equal maxima
    top = np.take_along_axis(inputs, best[:, :, None], axis=2)[:, :, 0]
    steps = np.arange(max_time)[:, None] < sequence_length[None, :]
    # 0 - sum rather than -sum: an entry without steps gets 0, not -0, as in TensorFlow.
    log_probability = (0 - np.sum(np.where(steps, top, 0), axis=0, dtype=inputs.dtype)).reshape(batch_size, 1)
    paths = []
    for b in range(batch_size):
        seq = best[:max(int(sequence_length[b]), 0), b]
        keep = seq != blank
        if merge_repeated and seq.size:
            keep &= np.concatenate([[True], seq[1:] != seq[:-1]])
        paths.append(seq[keep].tolist())
    return (*_sparse_outputs(paths), log_probability.astype(inputs.dtype))


NotDifferentiable("CTCGreedyDecoder")


class _BeamEntry:
    """A prefix in the beam: its last label, parent, children, and the log-probabilities at the previous and
    the current step of all its paths (`total`), of those ending in a blank, and of those ending in its
    label."""

    __slots__ = ("label", "parent", "children", "old_total", "old_blank", "old_label", "total", "blank",
                 "label_p")

    def __init__(self, label: int, parent) -> None:
        self.label, self.parent, self.children = label, parent, {}
        self.old_total = self.old_blank = self.old_label = -np.inf
        self.total = self.blank = self.label_p = -np.inf

    def reset_new(self) -> None:
        self.total = self.blank = self.label_p = -np.inf

    def labels(self, merge_repeated: bool) -> list[int]:
        out, prev, node = [], -1, self
        while node.parent is not None:
            if not merge_repeated or node.label != prev:
                out.append(node.label)
            prev, node = node.label, node.parent
        return out[::-1]


def _beam_search_one(logits: np.ndarray, beam_width: int, top_paths: int, merge_repeated: bool) -> tuple:
    """The `top_paths` best label sequences of one sequence of logits [T, classes] and their log-probabilities,
    by TensorFlow's prefix beam search (no language model).

    The beam holds the best `beam_width` prefixes by total log-probability, as a min-heap of
    (total, -arrival, entry) so that its weakest entry is at hand; totals of entries in the heap never change.
    """
    num_classes = logits.shape[1]
    blank = num_classes - 1
    neg_inf = logits.dtype.type(-np.inf)
    arrival = itertools.count()
    root = _BeamEntry(-1, None)
    root.total = root.blank = logits.dtype.type(0)
    heap = [(root.total, -next(arrival), root)]
    labels = np.arange(blank)
    for row in logits:
        top = row.max()
        logp = row - (top + np.log(np.sum(np.exp(row - top))))
        logp_blank = logp[blank]
        branches = [e for _, _, e in sorted(heap, reverse=True)]
        heap = []
        for b in branches:
            b.old_total, b.old_blank, b.old_label = b.total, b.blank, b.label_p
        for b in branches:
            parent = b.parent
            if parent is not None:
                if parent.total != neg_inf:
                    previous = parent.old_blank if b.label == parent.label else parent.old_total
                    b.label_p = np.logaddexp(b.label_p, previous)
                b.label_p += logp[b.label]
            b.blank = b.old_total + logp_blank
            b.total = np.logaddexp(b.blank, b.label_p)
            heap.append((b.total, -next(arrival), b))
        heapq.heapify(heap)
        for b in branches:
            full = len(heap) >= beam_width
            if b.old_total == neg_inf or (full and not b.old_total > heap[0][0]):
                continue
            # A child's score when new: its label's log-probability after the paths it can extend.
            scores = logp[:blank] + b.old_total
            if b.label >= 0:
                scores[b.label] = logp[b.label] + b.old_blank
            candidates = labels
            children = b.children
            if full:
                passing = scores > heap[0][0]
                candidates = labels[passing]
                # A child that fails is deactivated, old probabilities included: one evicted from the beam
                # in this step then no longer grows children of its own.
                for label, child in children.items():
                    if not passing[label] and child.total == neg_inf:
                        child.old_total = child.old_blank = child.old_label = neg_inf
            for label in candidates.tolist():
                child = children.get(label)
                if child is None:
                    child = children[label] = _BeamEntry(label, b)
                elif child.total != neg_inf:
                    continue
                score = scores[label]
                if score != neg_inf and (len(heap) < beam_width or score > heap[0][0]):
                    child.blank, child.label_p, child.total = neg_inf, score, score
                    item = (score, -next(arrival), child)
                    if len(heap) == beam_width:
                        heapq.heapreplace(heap, item)[2].reset_new()
                    else:
                        heapq.heappush(heap, item)
                else:
                    child.old_total = child.old_blank = child.old_label = neg_inf
                    child.reset_new()
    if top_paths > beam_width:
        raise _invalid("requested more paths than the beam width.")
    if top_paths > len(heap):
        raise _invalid("Less leaves in the beam search than requested.")
    best = [e for _, _, e in sorted(heap, reverse=True)[:top_paths]]
    return [e.labels(merge_repeated) for e in best], [e.total for e in best]


def _beam_search_factory(op, ctx):
    beam_width, top_paths = op.get_attr("beam_width"), op.get_attr("top_paths")
    merge_repeated = op.get_attr("merge_repeated")

    def kernel(inputs, sequence_length):
        _, batch_size, _ = _check_decoder_inputs(inputs, sequence_length)
        paths = [[None] * batch_size for _ in range(top_paths)]
        log_probability = np.zeros((batch_size, top_paths), dtype=inputs.dtype)
        for b in range(batch_size):
            found, scores = _beam_search_one(inputs[:int(sequence_length[b]), b, :], beam_width, top_paths,
                                             merge_repeated)
            for p in range(top_paths):
                paths[p][b] = found[p]
            log_probability[b] = scores
        outs = [_sparse_outputs(p) for p in paths]
        return [o[0] for o in outs] + [o[1] for o in outs] + [o[2] for o in outs] + [log_probability]

    return kernel


register_op("CTCBeamSearchDecoder", inputs=["inputs: T", "sequence_length: int32"],
            outputs=["decoded_indices: top_paths * int64", "decoded_values: top_paths * int64",
                     "decoded_shape: top_paths * int64", "log_probability: T"],
            attrs={"beam_width": ("int", REQUIRED), "top_paths": ("int", REQUIRED), "merge_repeated": ("bool", True),
                   "T": ("type", _dt.float32)},
            allowed={"T": _FLOATS}, shape=lambda op: _decoder_shape(op, op.get_attr("top_paths")),
            factory=_beam_search_factory)
attr_minimum("CTCBeamSearchDecoder", "beam_width", 1)
attr_minimum("CTCBeamSearchDecoder", "top_paths", 1)
NotDifferentiable("CTCBeamSearchDecoder")


# ----------------------------------------------------------------------------------------------------------
# Python API
# ----------------------------------------------------------------------------------------------------------
@tf_export("nn.ctc_loss")
def ctc_loss(labels, inputs=None, sequence_length=None, preprocess_collapse_repeated=False, ctc_merge_repeated=True,
             ignore_longer_outputs_than_inputs=False, time_major=True, logits=None) -> _ops.Tensor:
    """The CTC loss -log p(labels | inputs) of each batch entry.

    `labels` is a SparseTensor of int32 class ids (indices [batch, position]); `inputs` (or `logits`) the
    unnormalized scores, [max_time, batch, num_classes] (or [batch, max_time, num_classes] when not
    `time_major`), the blank being class num_classes - 1; `sequence_length` int32 [batch].
    """
    if not isinstance(labels, SparseTensor):
        raise TypeError("Expected labels (first argument) to be a SparseTensor")
    if logits is not None and inputs is not None:
        raise ValueError("Cannot specify both 'logits' and 'inputs'")
    inputs = logits if logits is not None else inputs
    inputs = _ops.convert_to_tensor(inputs, name="inputs")
    if not time_major:
        inputs = array_ops.transpose(inputs, [1, 0, 2])
    op = apply_op("CTCLoss", [inputs, labels.indices, labels.values, sequence_length],
                  {"preprocess_collapse_repeated": bool(preprocess_collapse_repeated),
                   "ctc_merge_repeated": bool(ctc_merge_repeated),
                   "ignore_longer_outputs_than_inputs": bool(ignore_longer_outputs_than_inputs)})
    return op.outputs[0]


def _dim(t: _ops.Tensor, i: int):
    """Dim `i` of `t`: a Python int when known statically, else a scalar tensor."""
    known = t.shape.ndims is not None and t.shape.dims[i].value
    return known if known is not None and known is not False else array_ops.shape(t)[i]


def _blank_last(logits: _ops.Tensor, labels_values: _ops.Tensor, blank_index):
    """Logits with class `blank_index` moved to the end and label ids above it shifted down, so that
    CTCLoss (whose blank is the last class) sees the same problem."""
    num_classes = logits.shape.dims[2].value if logits.shape.ndims is not None else None
    if num_classes is None:
        raise ValueError("ctc_loss_v2 needs the number of classes (the last dim of logits) to be known")
    if blank_index < 0:
        blank_index += num_classes
    if blank_index == num_classes - 1:
        return logits, labels_values
    logits = array_ops.concat([logits[:, :, :blank_index], logits[:, :, blank_index + 1:],
                               logits[:, :, blank_index:blank_index + 1]], axis=2)
    shifted = array_ops.where(math_ops.less(labels_values, blank_index), labels_values, labels_values - 1)
    return logits, shifted


@tf_export("nn.ctc_loss_v2")
def ctc_loss_v2(labels, logits, label_length, logit_length, logits_time_major=True, unique=None,
                blank_index=None, name=None) -> _ops.Tensor:
    """TF2's CTC loss: `labels` dense int [batch, max_label_length] with `label_length` (blank 0 by default),
    or a SparseTensor (then `blank_index` must be given); `logits` [frames, batch, classes] (time major) and
    `logit_length` [batch]. `unique` (from ctc_unique_labels) only speeds up TF's dense kernel."""
    with _ops.name_scope(name, "ctc_loss_v2", [labels, logits, label_length, logit_length]):
        logits = _ops.convert_to_tensor(logits, name="logits")
        if not logits_time_major:
            logits = array_ops.transpose(logits, [1, 0, 2])
        logit_length = math_ops.cast(logit_length, _dt.int32)
        empty = None
        if isinstance(labels, SparseTensor):
            if blank_index is None:
                raise ValueError("blank_index must be given when using SparseTensor labels.")
            sparse = labels
        else:
            if blank_index is None:
                blank_index = 0
            sparse, empty = _dense_labels_as_sparse(labels, label_length, blank_index, _dim(logits, 2))
            # An entry without labels gets a stand-in label (CTCLoss refuses empty ones) and one step at least;
            # its loss is replaced below.
            logit_length = array_ops.where(empty, math_ops.maximum(logit_length, 1), logit_length)
        logits, values = _blank_last(logits, math_ops.cast(sparse.values, _dt.int32), blank_index)
        loss = ctc_loss(SparseTensor(sparse.indices, values, sparse.dense_shape), logits, logit_length,
                        time_major=True)
        if empty is None:
            return loss
        # The only path for an empty label sequence is all blanks (the blank is now the last class).
        steps = array_ops.transpose(array_ops.sequence_mask(logit_length, maxlen=_dim(logits, 0), dtype=logits.dtype))
        blank_loss = -math_ops.reduce_sum(nn_ops.log_softmax(logits)[:, :, -1] * steps, axis=0)
        return array_ops.where(empty, blank_loss, loss)


def _dense_labels_as_sparse(labels, label_length, blank_index: int, num_classes) -> tuple:
    """Dense labels [batch, max_len] with lengths as a SparseTensor for CTCLoss, and which entries are empty:
    those hold one stand-in label (any class but the blank) in an extra last column."""
    labels = _ops.convert_to_tensor(labels, name="labels")
    label_length = math_ops.cast(_ops.convert_to_tensor(label_length, name="label_length"), _dt.int32)
    if not isinstance(num_classes, int):
        raise ValueError("ctc_loss_v2 needs the number of classes (the last dim of logits) to be known")
    stand_in = 1 if blank_index % num_classes == 0 else 0
    empty = math_ops.equal(label_length, 0)
    width = _dim(labels, 1)
    labels = array_ops.concat([labels, array_ops.fill(array_ops.stack([_dim(labels, 0), 1]),
                                                      math_ops.cast(stand_in, labels.dtype))], 1)
    extra = math_ops.logical_and(array_ops.expand_dims(empty, 1),
                                 math_ops.equal(array_ops.range(width + 1), width))
    present = math_ops.logical_or(array_ops.sequence_mask(label_length, maxlen=width + 1), extra)
    sparse = SparseTensor(math_ops.cast(array_ops.where(present), _dt.int64), array_ops.boolean_mask(labels, present),
                          math_ops.cast(array_ops.shape(labels), _dt.int64))
    return sparse, empty


@tf_export("nn.ctc_greedy_decoder")
def ctc_greedy_decoder(inputs, sequence_length, merge_repeated=True, blank_index=None) -> tuple:
    """The most likely class at each step, blanks dropped (and, with `merge_repeated`, runs of one class
    merged): ([SparseTensor of the paths], [batch, 1] minus the sum of the chosen logits)."""
    op = apply_op("CTCGreedyDecoder", [inputs, sequence_length],
                  {"merge_repeated": bool(merge_repeated), "blank_index": -1 if blank_index is None else blank_index})
    indices, values, shape, log_probability = op.outputs
    return [SparseTensor(indices, values, shape)], log_probability


@tf_export("nn.ctc_beam_search_decoder")
def ctc_beam_search_decoder(inputs, sequence_length, beam_width=100, top_paths=1, merge_repeated=True) -> tuple:
    """The `top_paths` most likely label sequences by prefix beam search of width `beam_width`:
    ([one SparseTensor per path rank], [batch, top_paths] log-probabilities). With `merge_repeated`, equal
    consecutive labels of a path are merged in the output."""
    op = apply_op("CTCBeamSearchDecoder", [inputs, sequence_length],
                  {"beam_width": beam_width, "top_paths": top_paths, "merge_repeated": bool(merge_repeated)})
    outs = op.outputs
    decoded = [SparseTensor(outs[i], outs[top_paths + i], outs[2 * top_paths + i]) for i in range(top_paths)]
    return decoded, outs[-1]


@tf_export("nn.ctc_beam_search_decoder_v2")
def ctc_beam_search_decoder_v2(inputs, sequence_length, beam_width=100, top_paths=1) -> tuple:
    """ctc_beam_search_decoder without merging repeated labels of a path (TF2's form)."""
    return ctc_beam_search_decoder(inputs, sequence_length, beam_width=beam_width, top_paths=top_paths,
                                   merge_repeated=False)


@tf_export("nn.collapse_repeated")
def collapse_repeated(labels, seq_length, name=None) -> tuple:
    """Each row of `labels` [batch, max_len] (first `seq_length` entries) with runs of one label reduced to
    one, left-aligned and zero-padded to the longest result: (collapsed labels, new lengths)."""
    with _ops.name_scope(name, "collapse_repeated_labels", [labels, seq_length]):
        labels = _ops.convert_to_tensor(labels, name="labels")
        seq_length = _ops.convert_to_tensor(seq_length, name="seq_length")
        starts_run = array_ops.concat([array_ops.ones_like(labels[:, :1], dtype=_dt.bool_),
                                       math_ops.not_equal(labels[:, 1:], labels[:, :-1])], axis=1)
        keep = math_ops.logical_and(starts_run, array_ops.sequence_mask(seq_length, maxlen=_dim(labels, 1)))
        new_length = math_ops.reduce_sum(math_ops.cast(keep, _dt.int32), axis=1)
        new_max = math_ops.reduce_max(new_length)
        slots = array_ops.sequence_mask(new_length, maxlen=new_max)
        out = array_ops.scatter_nd(math_ops.cast(array_ops.where(slots), _dt.int32),
                                   array_ops.boolean_mask(labels, keep),
                                   array_ops.stack([_dim(labels, 0), new_max]))
        return out, math_ops.cast(new_length, seq_length.dtype)


@tf_export("nn.ctc_unique_labels")
def ctc_unique_labels(labels, name=None) -> tuple:
    """Per row of `labels` [batch, max_len]: its distinct labels in order of first appearance, zero-padded to
    max_len (int64), and each entry's index into them (int32)."""
    with _ops.name_scope(name, "ctc_unique_labels", [labels]):
        labels = _ops.convert_to_tensor(labels, name="labels")

        def unique_row(row):
            values, idx = array_ops.unique(row)
            padded = array_ops.pad(values, [[0, array_ops.shape(idx)[0] - array_ops.shape(values)[0]]])
            return [math_ops.cast(padded, _dt.int64), idx]

        return tuple(higher_order_ops.map_fn(unique_row, labels, dtype=[_dt.int64, _dt.int32]))
