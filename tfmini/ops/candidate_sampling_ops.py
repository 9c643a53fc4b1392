"""Candidate samplers (UniformCandidateSampler, LogUniformCandidateSampler, LearnedUnigramCandidateSampler,
ThreadUnsafeUnigramCandidateSampler, FixedUnigramCandidateSampler, AllCandidateSampler) and
ComputeAccidentalHits, with their `tf.random` / `tf.nn` wrappers.

Each sampler draws one set of `num_sampled` candidate ids for the whole batch from its distribution over
[0, range_max) and reports, for the true classes and for the sampled ids, how many times each is expected to
occur in such a draw: `p * num_sampled` for independent draws, `1 - (1 - p) ** num_tries` when `unique`
draws were made with rejection until `num_sampled` distinct ids were found (`num_tries` draws in all), as
TensorFlow computes them. Draws come from the session's generator for the op, seeded by its (seed, seed2)
attrs; the learned unigram samplers keep their counts per session and op, updated with the true classes of
every run after drawing.
"""

from __future__ import annotations

import collections

import numpy as np

from tfmini.framework import errors as _errors
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import REQUIRED, NotDifferentiable, apply_op, attr_minimum, register_op
from tfmini.ops import random_ops

_SEED_ATTRS = {"seed": ("int", 0), "seed2": ("int", 0)}
_OUTPUTS = ["sampled_candidates: int64", "true_expected_count: float32", "sampled_expected_count: float32"]

# What the sampler wrappers return; `sess.run` rebuilds the namedtuple around the three arrays.
_SamplerResult = collections.namedtuple(
    "CandidateSampler", ["sampled_candidates", "true_expected_count", "sampled_expected_count"])
_AccidentalHits = collections.namedtuple("ComputeAccidentalHits", ["indices", "ids", "weights"])


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


# ----------------------------------------------------------------------------------------------------------
# Distributions over [0, range): probability of ids, and draws
# ----------------------------------------------------------------------------------------------------------
class _Uniform:
    def __init__(self, range_max: int) -> None:
        self.range = range_max

    def support(self) -> int:
        return self.range

    def probability(self, ids: np.ndarray) -> np.ndarray:
        return np.full(ids.shape, np.float32(1) / np.float32(self.range), dtype=np.float32)

    def draw(self, gen: np.random.Generator, n: int) -> np.ndarray:
        return gen.integers(0, self.range, size=n, dtype=np.int64)


class _LogUniform:
    """P(k) = log((k + 2) / (k + 1)) / log(range + 1): Zipf-like, for ids sorted by decreasing frequency."""

    def __init__(self, range_max: int) -> None:
        self.range = range_max
        self.log_range = np.log1p(float(range_max))

    def support(self) -> int:
        return self.range

    def probability(self, ids: np.ndarray) -> np.ndarray:
        ids = ids.astype(np.float64)
        return (np.log((ids + 2.0) / (ids + 1.0)) / self.log_range).astype(np.float32)

    def draw(self, gen: np.random.Generator, n: int) -> np.ndarray:
        value = np.exp(gen.random(n) * self.log_range) - 1.0
        return value.astype(np.int64) % self.range


class _Weighted:
    """A distribution proportional to float32 weights (the unigram samplers)."""

    def __init__(self, weights: np.ndarray) -> None:
        self.weights = weights
        self.range = weights.shape[0]

    def support(self) -> int:
        return int(np.count_nonzero(self.weights))

    def total(self) -> np.float32:
        # Accumulated one weight at a time in float32, as TensorFlow sums them.
        return np.cumsum(self.weights, dtype=np.float32)[-1] if self.range else np.float32(0)

    def probability(self, ids: np.ndarray) -> np.ndarray:
        return (self.weights[ids] / self.total()).astype(np.float32)

    def draw(self, gen: np.random.Generator, n: int) -> np.ndarray:
        cdf = np.cumsum(self.weights, dtype=np.float64)
        picks = np.searchsorted(cdf, gen.random(n) * cdf[-1], side="right")
        return np.minimum(picks, self.range - 1).astype(np.int64)


def _draw(dist, gen: np.random.Generator, num_sampled: int, unique: bool) -> tuple[np.ndarray, int]:
    """`num_sampled` ids and the number of draws made: with `unique`, draws are repeated until that many
    distinct ids were seen, keeping each id at its first draw."""
    if not unique:
        return dist.draw(gen, num_sampled), num_sampled
    draws = np.empty(0, dtype=np.int64)
    chunk = max(2 * num_sampled, 64)
    while True:
        draws = np.concatenate([draws, dist.draw(gen, chunk)])
        _, first = np.unique(draws, return_index=True)
        if first.size >= num_sampled:
            first = np.sort(first)[:num_sampled]
            return draws[first], int(first[-1]) + 1
        chunk *= 2


def _expected_count(p: np.ndarray, num_sampled: int, num_tries: int) -> np.ndarray:
    """How often an id of probability `p` is expected among the sampled ids (a probability when unique)."""
    if num_tries == num_sampled:
        return (p * np.float32(num_sampled)).astype(np.float32)
    return (-np.expm1(np.float32(num_tries) * np.log1p(-p))).astype(np.float32)


def _check_true_classes(true_classes: np.ndarray, num_true: int) -> None:
    if true_classes.ndim != 2:
        raise _invalid(f"true_classes must be a matrix, got shape {_shape.dims_str(true_classes.shape)}")
    if true_classes.shape[1] != num_true:
        raise _invalid(f"true_classes must have num_true columns, expected: {true_classes.shape[1]} was: "
                       f"{num_true}")


def _check_in_range(true_classes: np.ndarray, range_max: int) -> None:
    bad = (true_classes < 0) | (true_classes >= range_max)
    if bad.any():
        raise _invalid(f"`true_candidate` out of range [0, {range_max}), received {int(true_classes[bad][0])}")


def _sample(dist, gen, true_classes, *, num_true: int, num_sampled: int, unique: bool) -> tuple:
    _check_true_classes(true_classes, num_true)
    _check_in_range(true_classes, dist.range)
    if unique and num_sampled > dist.range:
        raise _invalid("Sampler's range is too small.")
    if unique and num_sampled > dist.support():
        # TensorFlow would draw forever here; say why instead.
        raise _invalid(f"Sampler's range is too small: only {dist.support()} ids have a nonzero probability, "
                       f"{num_sampled} distinct ones were asked for.")
    sampled, num_tries = _draw(dist, gen, num_sampled, unique)
    true_expected = _expected_count(dist.probability(true_classes), num_sampled, num_tries)
    sampled_expected = _expected_count(dist.probability(sampled), num_sampled, num_tries)
    return sampled, true_expected, sampled_expected


# ----------------------------------------------------------------------------------------------------------
# Op declarations
# ----------------------------------------------------------------------------------------------------------
def _sampler_shape(op):
    true_classes = op.inputs[0].shape.with_rank(2)
    num_sampled = op.get_attr("num_sampled")
    return [_shape.TensorShape([num_sampled]), _shape.TensorShape([true_classes[0], true_classes[1]]),
            _shape.TensorShape([num_sampled])]


def _register_sampler(op_type: str, make_dist, *, extra_attrs=None, learned: bool = False, file_access=None,
                      doc: str = "") -> None:
    """Declares a sampler op whose distribution is `make_dist(op)`; a `learned` sampler adds each run's true
    classes to its counts (kept per session in `ctx.resources`) after drawing."""
    attrs = {"num_true": ("int", REQUIRED), "num_sampled": ("int", REQUIRED), "unique": ("bool", REQUIRED),
             "range_max": ("int", REQUIRED), **(extra_attrs or {})}
    attrs.update(_SEED_ATTRS)

    def factory(op, ctx):
        gen = random_ops._generator(op, ctx)
        num_true, num_sampled, unique = op.get_attr("num_true"), op.get_attr("num_sampled"), op.get_attr("unique")
        made: list = []  # the distribution, made at the first run so that a bad attr fails that run

        def kernel(true_classes):
            if not made:
                made.append(make_dist(op))
            return _sample(made[0], gen, true_classes, num_true=num_true, num_sampled=num_sampled, unique=unique)

        if not learned:
            return kernel
        key = f"{op.name}:unigram counts"

        def learned_kernel(true_classes):
            with ctx.lock:
                dist = ctx.resources.get(key)
                if dist is None:
                    dist = ctx.resources[key] = make_dist(op)
                out = _sample(dist, gen, true_classes, num_true=num_true, num_sampled=num_sampled, unique=unique)
                counts = np.bincount(true_classes.ravel(), minlength=dist.range)
                dist.weights = dist.weights + counts.astype(np.float32)
            return out

        return learned_kernel

    register_op(op_type, inputs=["true_classes: int64"], outputs=_OUTPUTS, attrs=attrs, shape=_sampler_shape,
                stateful=True, factory=factory, file_access=file_access, doc=doc)
    for attr in ("num_true", "num_sampled", "range_max"):
        attr_minimum(op_type, attr, 1)
    NotDifferentiable(op_type)


def _all_factory(op, ctx):
    num_true, num_sampled = op.get_attr("num_true"), op.get_attr("num_sampled")

    def kernel(true_classes):
        _check_true_classes(true_classes, num_true)
        return (np.arange(num_sampled, dtype=np.int64), np.ones(true_classes.shape, dtype=np.float32),
                np.ones(num_sampled, dtype=np.float32))

    return kernel


register_op("AllCandidateSampler", inputs=["true_classes: int64"], outputs=_OUTPUTS,
            attrs={"num_true": ("int", REQUIRED), "num_sampled": ("int", REQUIRED),
                   "unique": ("bool", REQUIRED), **_SEED_ATTRS},
            shape=_sampler_shape, stateful=True, factory=_all_factory,
            doc="Every id of [0, num_sampled) as the sampled candidates, all expected counts 1.")
attr_minimum("AllCandidateSampler", "num_true", 1)
attr_minimum("AllCandidateSampler", "num_sampled", 1)
NotDifferentiable("AllCandidateSampler")

_register_sampler("UniformCandidateSampler", lambda op: _Uniform(op.get_attr("range_max")),
                  doc="Candidates drawn uniformly from [0, range_max).")
_register_sampler("LogUniformCandidateSampler", lambda op: _LogUniform(op.get_attr("range_max")),
                  doc="Candidates drawn from the log-uniform (Zipfian) distribution over [0, range_max).")


def _learned(op) -> _Weighted:
    return _Weighted(np.ones(op.get_attr("range_max"), dtype=np.float32))


_register_sampler("LearnedUnigramCandidateSampler", _learned, learned=True,
                  doc="Candidates drawn from the unigram distribution of the true classes seen so far (every id "
                      "starts with count 1).")
_register_sampler("ThreadUnsafeUnigramCandidateSampler", _learned, learned=True,
                  doc="LearnedUnigramCandidateSampler's distribution (TF's unlocked variant).")


def _read_vocab_counts(path: str) -> list[float]:
    """The last comma-separated field of every non-empty line of a vocabulary file, as a float."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise _errors.NotFoundError(None, None, f"{path}; {e.strerror or e}") from None
    counts = []
    for line in lines:
        if not line:
            continue
        try:
            counts.append(float(line.split(",")[-1]))
        except ValueError:
            raise _invalid(f"Wrong vocabulary format at line: {line}") from None
    return counts


def _fixed_unigram(op) -> _Weighted:
    """The shard's table of weights: a zero for each reserved id of the shard, then count ** distortion of
    every vocabulary entry whose id falls in the shard. As in TensorFlow, the entries' ids are counted from
    the number of reserved ids the shard holds, and both draws and probabilities use positions in the
    shard's own table."""
    range_max, vocab_file = op.get_attr("range_max"), op.get_attr("vocab_file")
    unigrams, distortion = list(op.get_attr("unigrams")), op.get_attr("distortion")
    reserved, num_shards, shard = op.get_attr("num_reserved_ids"), op.get_attr("num_shards"), op.get_attr("shard")
    vocab_file = vocab_file.decode() if isinstance(vocab_file, bytes) else vocab_file
    if vocab_file and unigrams:
        raise _invalid("Must only provide one of vocab_file and unigrams.")
    if not vocab_file and not unigrams:
        raise _invalid("Must provide either vocab_file or unigrams.")
    counts = np.asarray(_read_vocab_counts(vocab_file) if vocab_file else unigrams, dtype=np.float32)
    reserved_in_shard = int(np.count_nonzero(np.arange(reserved) % num_shards == shard))
    in_shard = (np.arange(counts.shape[0]) + reserved_in_shard) % num_shards == shard
    weights = np.concatenate([np.zeros(reserved_in_shard, dtype=np.float32),
                              np.power(counts[in_shard], np.float32(distortion))]).astype(np.float32)
    if weights.shape[0] != range_max:
        raise _invalid(f"range is {range_max} must be equal to weights size  {weights.shape[0]}")
    if not np.any(weights > 0):
        raise _invalid("FixedUnigramCandidateSampler needs at least one positive count in its shard")
    return _Weighted(weights)


def _vocab_file_access(op):
    path = op.get_attr("vocab_file")
    path = path.decode() if isinstance(path, bytes) else path
    return f"the vocabulary file {path!r}" if path else None


_register_sampler(
    "FixedUnigramCandidateSampler", _fixed_unigram,
    extra_attrs={"vocab_file": ("string", ""), "distortion": ("float", 1.0), "num_reserved_ids": ("int", 0),
                 "num_shards": ("int", 1), "shard": ("int", 0), "unigrams": ("list(float)", [])},
    file_access=_vocab_file_access,
    doc="Candidates drawn from a fixed unigram distribution (a vocabulary file's counts or `unigrams`, "
        "raised to `distortion`).")
attr_minimum("FixedUnigramCandidateSampler", "num_shards", 1)
attr_minimum("FixedUnigramCandidateSampler", "shard", 0)


def _accidental_hits_shape(op):
    op.inputs[0].shape.with_rank(2)
    op.inputs[1].shape.with_rank(1)
    return [_shape.TensorShape([None])] * 3


@register_op("ComputeAccidentalHits", inputs=["true_classes: int64", "sampled_candidates: int64"],
             outputs=["indices: int32", "ids: int64", "weights: float32"],
             attrs={"num_true": ("int", REQUIRED), **_SEED_ATTRS}, shape=_accidental_hits_shape)
def _compute_accidental_hits(true_classes, sampled_candidates, *, num_true):
    _check_true_classes(true_classes, num_true)
    if sampled_candidates.ndim != 1:
        raise _invalid(f"sampled_candidates must be a vector, got shape "
                       f"{_shape.dims_str(sampled_candidates.shape)}")
    # An id sampled more than once is reported at its last position, as TensorFlow's id -> position map keeps.
    order = np.argsort(sampled_candidates, kind="stable")
    ids_sorted = sampled_candidates[order]
    flat = true_classes.ravel()
    at = np.searchsorted(ids_sorted, flat, side="right") - 1
    hit = (at >= 0) & (ids_sorted[np.maximum(at, 0)] == flat)
    rows = np.repeat(np.arange(true_classes.shape[0], dtype=np.int32), num_true)[hit]
    positions = order[at[hit]].astype(np.int64)
    return rows, positions, np.full(rows.shape, -np.finfo(np.float32).max, dtype=np.float32)


NotDifferentiable("ComputeAccidentalHits")


# ----------------------------------------------------------------------------------------------------------
# Python API
# ----------------------------------------------------------------------------------------------------------
def _seeds(seed) -> dict:
    seed1, seed2 = random_ops.get_seed(seed)
    return {"seed": seed1 or 0, "seed2": seed2 or 0}


def _run_sampler(op_type: str, true_classes, attrs: dict, seed, name) -> _SamplerResult:
    op = apply_op(op_type, [true_classes], {**attrs, **_seeds(seed)}, name=name)
    return _SamplerResult(*op.outputs)


@tf_export("random.uniform_candidate_sampler", "nn.uniform_candidate_sampler")
def uniform_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max, seed=None,
                              name=None) -> _SamplerResult:
    """Samples `num_sampled` ids uniformly from [0, range_max) (distinct ones if `unique`); returns
    (sampled_candidates, true_expected_count, sampled_expected_count)."""
    return _run_sampler("UniformCandidateSampler", true_classes,
                        {"num_true": num_true, "num_sampled": num_sampled, "unique": unique,
                         "range_max": range_max}, seed, name)


@tf_export("random.log_uniform_candidate_sampler", "nn.log_uniform_candidate_sampler")
def log_uniform_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max, seed=None,
                                  name=None) -> _SamplerResult:
    """Samples ids from the log-uniform distribution P(k) = log((k + 2) / (k + 1)) / log(range_max + 1),
    which suits ids sorted by decreasing frequency."""
    return _run_sampler("LogUniformCandidateSampler", true_classes,
                        {"num_true": num_true, "num_sampled": num_sampled, "unique": unique,
                         "range_max": range_max}, seed, name)


@tf_export("random.learned_unigram_candidate_sampler", "nn.learned_unigram_candidate_sampler")
def learned_unigram_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max, seed=None,
                                      name=None) -> _SamplerResult:
    """Samples ids from the unigram distribution of the true classes the op has seen in this session (each
    id counted once to begin with); each run's true classes are counted after drawing."""
    return _run_sampler("LearnedUnigramCandidateSampler", true_classes,
                        {"num_true": num_true, "num_sampled": num_sampled, "unique": unique,
                         "range_max": range_max}, seed, name)


@tf_export("random.fixed_unigram_candidate_sampler", "nn.fixed_unigram_candidate_sampler")
def fixed_unigram_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max, vocab_file="",
                                    distortion=1.0, num_reserved_ids=0, num_shards=1, shard=0, unigrams=(),
                                    seed=None, name=None) -> _SamplerResult:
    """Samples ids from fixed unigram counts (`unigrams`, or the last field of each line of `vocab_file`)
    raised to `distortion`; the first `num_reserved_ids` ids have probability 0, and with `num_shards` > 1
    only the ids with id % num_shards == shard are drawn."""
    return _run_sampler("FixedUnigramCandidateSampler", true_classes,
                        {"num_true": num_true, "num_sampled": num_sampled, "unique": unique,
                         "range_max": range_max, "vocab_file": vocab_file, "distortion": distortion,
                         "num_reserved_ids": num_reserved_ids, "num_shards": num_shards, "shard": shard,
                         "unigrams": [float(u) for u in unigrams]}, seed, name)


@tf_export("random.all_candidate_sampler", "nn.all_candidate_sampler")
def all_candidate_sampler(true_classes, num_true, num_sampled, unique, seed=None, name=None) -> _SamplerResult:
    """Returns every id of [0, num_sampled) as the sampled candidates, with all expected counts 1 (for tests
    of the sampled losses against their full versions)."""
    return _run_sampler("AllCandidateSampler", true_classes,
                        {"num_true": num_true, "num_sampled": num_sampled, "unique": unique}, seed, name)


@tf_export("nn.compute_accidental_hits")
def compute_accidental_hits(true_classes, sampled_candidates, num_true, seed=None, name=None) -> _AccidentalHits:
    """The (row, sampled position) pairs where a sampled candidate equals one of the row's true classes,
    each with weight -FLT_MAX (added to a sampled logit to remove the hit)."""
    op = apply_op("ComputeAccidentalHits", [true_classes, sampled_candidates],
                  {"num_true": num_true, **_seeds(seed)}, name=name)
    return _AccidentalHits(*op.outputs)
