"""Parsing ops: tf.train.Example and SequenceExample protos into dense tensors and SparseTensors (ParseExample,
ParseSingleExample, ParseSequenceExample, ParseSingleSequenceExample) for the feature configurations
FixedLenFeature, VarLenFeature, FixedLenSequenceFeature and SparseFeature."""

from __future__ import annotations

import collections

import numpy as np
from google.protobuf.message import DecodeError

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import REQUIRED, NotDifferentiable, apply_op, register_op
from tfmini.framework.sparse_tensor import SparseTensor
from tfmini.ops import array_ops, math_ops, nn_ops
from tfmini.ops.string_ops import sparse_rows
from tfmini.protobuf import example_pb2

__all__ = [
    "FixedLenFeature",
    "FixedLenSequenceFeature",
    "SparseFeature",
    "VarLenFeature",
    "parse_example",
    "parse_sequence_example",
    "parse_single_example",
    "parse_single_sequence_example",
]

_PARSE_TYPES = (_dt.float32, _dt.int64, _dt.string)
# which list of a tf.train.Feature holds each dtype, and TF's name for the dtype in messages
_LIST_OF = {_dt.float32: "float_list", _dt.int64: "int64_list", _dt.string: "bytes_list"}
_TYPE_NAME = {"float_list": "float", "int64_list": "int64", "bytes_list": "string"}


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


# ----------------------------------------------------------------------------------------------------------
# Feature configurations
# ----------------------------------------------------------------------------------------------------------
@tf_export("VarLenFeature", "io.VarLenFeature")
class VarLenFeature(collections.namedtuple("VarLenFeature", ["dtype"])):
    """A feature with any number of values, parsed into a SparseTensor."""


@tf_export("FixedLenFeature", "io.FixedLenFeature")
class FixedLenFeature(collections.namedtuple("FixedLenFeature", ["shape", "dtype", "default_value"])):
    """A feature with a fixed number of values, parsed into a dense tensor of `shape`; without a
    `default_value` every example must have it."""

    def __new__(cls, shape, dtype, default_value=None):
        return super().__new__(cls, shape, dtype, default_value)


@tf_export("FixedLenSequenceFeature", "io.FixedLenSequenceFeature")
class FixedLenSequenceFeature(
    collections.namedtuple("FixedLenSequenceFeature", ["shape", "dtype", "allow_missing", "default_value"])
):
    """A feature holding a sequence of items of `shape`, parsed into a dense tensor with one more leading
    dimension; shorter sequences in a batch are padded with `default_value` (zero or "" when None)."""

    def __new__(cls, shape, dtype, allow_missing=False, default_value=None):
        return super().__new__(cls, shape, dtype, allow_missing, default_value)


@tf_export("SparseFeature", "io.SparseFeature")
class SparseFeature(
    collections.namedtuple("SparseFeature", ["index_key", "value_key", "dtype", "size", "already_sorted"])
):
    """A SparseTensor built from two (or more) features of each Example: the indices in `index_key` (one key,
    or a list of keys for a multi-dimensional SparseTensor of `size` per key) and the values in `value_key`.
    Unless `already_sorted`, each example's entries are put in index order."""

    def __new__(cls, index_key, value_key, dtype, size, already_sorted=False):
        return super().__new__(cls, index_key, value_key, dtype, size, already_sorted)


def _index_keys(feature: SparseFeature) -> list[str]:
    return [feature.index_key] if isinstance(feature.index_key, str) else list(feature.index_key)


def _sizes(feature: SparseFeature) -> list[int]:
    return [feature.size] if isinstance(feature.index_key, str) else list(feature.size)


def _with_sparse_feature_parts(features: dict) -> dict:
    """`features` with each SparseFeature's index and value keys added as the VarLenFeatures it is built from;
    ValueError where a key is already asked for as something else."""
    features = dict(features)
    for key in sorted(features):
        feature = features[key]
        if not isinstance(feature, SparseFeature):
            continue
        index_keys, sizes = _index_keys(feature), _sizes(feature)
        if not index_keys or len(sizes) != len(index_keys):
            raise ValueError(f"SparseFeature {key} needs one size per index key, got index_key={feature.index_key} "
                             f"and size={feature.size}.")
        for part, dtype in [(k, _dt.int64) for k in index_keys] + [(feature.value_key, feature.dtype)]:
            wanted = VarLenFeature(_dt.as_dtype(dtype))
            existing = features.setdefault(part, wanted)
            if not (isinstance(existing, VarLenFeature) and _dt.as_dtype(existing.dtype) == wanted.dtype):
                raise ValueError(f"Conflicting type for feature {part}: {existing} and {wanted} (needed by "
                                 f"SparseFeature {key}).")
    return features


def _merge_sparse_features(features: dict, parsed: dict) -> dict:
    """The parsed dict with each SparseFeature built from its parts, and the parts nobody asked for removed
    (TF's sparse_merge: indices from the index features' values, sorted unless already_sorted)."""
    result = dict(parsed)
    for key in sorted(features):
        feature = features[key]
        if isinstance(feature, SparseFeature):
            ids = [parsed[k] for k in _index_keys(feature)]
            result[key] = _sparse_merge(ids, parsed[feature.value_key], _sizes(feature), feature.already_sorted)
    return {k: v for k, v in result.items() if k in features}


def _sparse_merge(ids: list[SparseTensor], values: SparseTensor, sizes: list[int],
                  already_sorted: bool) -> SparseTensor:
    with _ops.name_scope(None, "SparseMerge"):
        lead = ids[0].indices[:, :-1]  # the example's row in a batch; nothing for a single example
        columns = [lead] + [array_ops.expand_dims(t.values, 1) for t in ids]
        indices = array_ops.concat(columns, 1)
        shape = array_ops.concat([ids[0].dense_shape[:-1], _ops.convert_to_tensor(sizes, dtype=_dt.int64)], 0)
        if already_sorted:
            return SparseTensor(indices, values.values, shape)
        # each entry's row-major position, then the order of those positions (top_k of their negatives sorts
        # ascending; float64 holds positions exactly below 2**53)
        width = ids[0].indices.shape.as_list()[1] - 1 + len(ids)  # the parse ops' shapes are static
        position = indices[:, 0]
        for c in range(1, width):
            position = position * shape[c] + indices[:, c]
        order = nn_ops.top_k(-math_ops.cast(position, _dt.float64), k=array_ops.size(position)).indices
        return SparseTensor(array_ops.gather(indices, order), array_ops.gather(values.values, order), shape)


class _RawParams:
    """The op-level description of a features dict: keys in sorted order, split into sparse and dense."""

    def __init__(self, features: dict) -> None:
        if not features:
            raise ValueError("Missing: features was empty.")
        features = _with_sparse_feature_parts(features)
        self.sparse_keys: list[str] = []
        self.sparse_types: list[_dt.DType] = []
        self.dense_keys: list[str] = []
        self.dense_types: list[_dt.DType] = []
        self.dense_shapes: list[_shape.TensorShape] = []
        self.dense_defaults: list = []
        for key in sorted(features):
            feature = features[key]
            if isinstance(feature, VarLenFeature):
                self.sparse_keys.append(key)
                self.sparse_types.append(_parse_dtype(feature.dtype, key))
            elif isinstance(feature, (FixedLenFeature, FixedLenSequenceFeature)):
                self._add_dense(key, feature)
            elif not isinstance(feature, SparseFeature):
                raise ValueError(f"Invalid feature {key}:{feature}.")

    def _add_dense(self, key: str, feature) -> None:
        dtype = _parse_dtype(feature.dtype, key)
        if feature.shape is None:
            raise ValueError(f"Missing shape for feature {key}.")
        shape = _shape.as_shape(feature.shape)
        if not shape.is_fully_defined():
            raise ValueError(f"All dimensions of shape for feature {key} need to be known but received {shape}.")
        dims = [int(d) for d in shape.as_list()]
        if isinstance(feature, FixedLenSequenceFeature):
            if not feature.allow_missing:
                raise ValueError("Unsupported: FixedLenSequenceFeature requires allow_missing to be True.")
            op_shape = _shape.TensorShape([None, *dims])
            default = feature.default_value
            default = _np_value(default, dtype, key) if default is not None else np.zeros([0], dtype.as_numpy_dtype)
            if default.size > 1:
                raise ValueError(f"Default value of FixedLenSequenceFeature {key} must be a scalar (the padding), "
                                 f"got {feature.default_value!r}.")
        else:
            op_shape = _shape.TensorShape(dims)
            if feature.default_value is None:
                default = np.zeros([0], dtype.as_numpy_dtype)  # required: no default
            else:
                default = _np_value(feature.default_value, dtype, key)
                if default.size != int(np.prod(dims)):
                    raise ValueError(
                        f"Cannot reshape a tensor with {default.size} elements to shape {dims} (default_value of "
                        f"feature {key})"
                    )
                default = default.reshape(dims)
        self.dense_keys.append(key)
        self.dense_types.append(dtype)
        self.dense_shapes.append(op_shape)
        self.dense_defaults.append(default)

    def default_tensors(self, scope: str) -> list[_ops.Tensor]:
        with _ops.name_scope(scope):
            return [
                _ops.convert_to_tensor(d, dtype=t, name=f"key_{k}" if d.size else f"key_{k}_required")
                for k, t, d in zip(self.dense_keys, self.dense_types, self.dense_defaults)
            ]


def _parse_dtype(dtype, key: str) -> _dt.DType:
    dtype = _dt.as_dtype(dtype)
    if dtype not in _PARSE_TYPES:
        raise ValueError(f"Unsupported dtype {dtype.name} for feature {key}: must be float32, int64 or string.")
    return dtype


def _np_value(value, dtype: _dt.DType, key: str) -> np.ndarray:
    if isinstance(value, (_ops.Tensor, SparseTensor)):
        raise TypeError(f"default_value of feature {key} must be a Python or NumPy value, not a tensor.")
    if dtype == _dt.string:
        arr = np.asarray(value, dtype=object)
        out = np.empty(arr.shape, dtype=object)
        out.reshape(-1)[:] = [x.encode() if isinstance(x, str) else bytes(x) for x in arr.reshape(-1)]
        return out
    return np.asarray(value, dtype=dtype.as_numpy_dtype)


# ----------------------------------------------------------------------------------------------------------
# The parser shared by ParseExample and ParseSingleExample
# ----------------------------------------------------------------------------------------------------------
def _decode(serialized: np.ndarray, message_type, what: str) -> list:
    messages = []
    for s in serialized:
        try:
            messages.append(message_type.FromString(s))
        except DecodeError:
            raise _invalid(f"Could not parse {what} input, value: '{s.decode('latin-1')}'") from None
    return messages


def _key_at(names: list[str] | None, index: int, key: str) -> str:
    """How TF's messages place a feature: by example name, key and batch index, or (for ParseSingleExample,
    `names` None) by key alone."""
    return f"Key: {key}." if names is None else f"Name: {names[index]}, Key: {key}, Index: {index}."


def _missing(names: list[str] | None, index: int, key: str, dtype: _dt.DType) -> _errors.InvalidArgumentError:
    where = "" if names is None else f"Name: {names[index]}, "
    return _invalid(f"{where}Feature: {key} (data type: {_TYPE_NAME[_LIST_OF[dtype]]}) is required but could not "
                    "be found.")


def _feature_values(features, key: str, dtype: _dt.DType, names: list[str] | None, index: int, sparse: bool):
    """The values of feature `key` of a Features message (None when absent), with TF's error for the wrong
    kind."""
    feature = features.feature.get(key)
    if feature is None:
        return None
    kind = feature.WhichOneof("kind")
    if kind is None:
        return None
    want = _LIST_OF[dtype]
    if kind != want:
        if sparse:
            raise _invalid(f"{_key_at(names, index, key)}  Data types don't match. Expected type: "
                           f"{_TYPE_NAME[want]}, Actual type: {_TYPE_NAME[kind]}")
        raise _invalid(f"{_key_at(names, index, key)}  Data types don't match. Data type: "
                       f"{_TYPE_NAME[kind]} but expected type: {_TYPE_NAME[want]}")
    return getattr(feature, kind).value


def _names(names: np.ndarray, count: int) -> list[str]:
    names = names.reshape(-1)
    return [n.decode("utf-8", "replace") for n in names] if names.size else ["<unknown>"] * count


def _values_array(values, dtype: _dt.DType) -> np.ndarray:
    if dtype == _dt.string:
        out = np.empty(len(values), dtype=object)
        out[:] = list(values)
        return out
    return np.asarray(values, dtype=dtype.as_numpy_dtype)


def _parse(examples, names, sparse_keys, sparse_types, dense_keys, dense_types, dense_shapes, dense_defaults):
    """Parses a batch of Features messages: per sparse key (indices, values, dense_shape), per dense key the
    batch tensor. `names` are the examples' names for messages, None for ParseSingleExample's wording."""
    sparse_out = []
    for key, dtype in zip(sparse_keys, sparse_types):
        per_example = [_feature_values(ex, key, dtype, names, i, True) for i, ex in enumerate(examples)]
        indices, shape = sparse_rows(np.array([0 if v is None else len(v) for v in per_example], dtype=np.int64))
        values = _values_array([x for v in per_example if v is not None for x in v], dtype)
        sparse_out.append((indices, values, shape))
    dense_out = []
    for key, dtype, shape, default in zip(dense_keys, dense_types, dense_shapes, dense_defaults):
        dims = shape.as_list()
        if dims and dims[0] is None:
            dense_out.append(_parse_sequence(examples, names, key, dtype, dims[1:], default))
        else:
            dense_out.append(_parse_fixed(examples, names, key, dtype, dims, default))
    return sparse_out, dense_out


def _parse_fixed(examples, names, key, dtype, dims, default) -> np.ndarray:
    size = int(np.prod(dims))
    out = np.empty([len(examples), *dims], dtype=dtype.as_numpy_dtype)
    rows = out.reshape(len(examples), size)  # a view: whole rows are assigned, so strings are never nested
    for i, ex in enumerate(examples):
        values = _feature_values(ex, key, dtype, names, i, False)
        if values is None:
            if default.size == 0:  # no default: required (even for a shape with no elements, as in TF)
                raise _missing(names, i, key, dtype)
            rows[i] = default.reshape(-1)
            continue
        if len(values) != size:
            raise _invalid(f"{_key_at(names, i, key)}  Number of {_TYPE_NAME[_LIST_OF[dtype]]} "
                           f"values != expected.  Values size: {len(values)} but output shape: "
                           f"{_shape.dims_str(dims)}")
        rows[i] = _values_array(values, dtype)
    return out


def _parse_sequence(examples, names, key, dtype, inner, default) -> np.ndarray:
    stride = int(np.prod(inner))
    parsed = []
    for i, ex in enumerate(examples):
        values = _feature_values(ex, key, dtype, names, i, False)
        values = _values_array([] if values is None else values, dtype)
        if len(values) % stride if stride else len(values):
            raise _invalid(
                f"{_key_at(names, i, key)}  Number of {_TYPE_NAME[_LIST_OF[dtype]]} values is "
                f"not a multiple of stride length. Saw {len(values)} values but output shape is: "
                f"{_shape.dims_str([None, *inner])}"
            )
        parsed.append(values.reshape([len(values) // stride if stride else 0, *inner]))
    longest = max((len(p) for p in parsed), default=0)
    pad = default.reshape(-1)[0] if default.size else (b"" if dtype == _dt.string else 0)
    out = np.full([len(examples), longest, *inner], pad, dtype=dtype.as_numpy_dtype)
    for i, p in enumerate(parsed):
        out[i, : len(p)] = p
    return out


def _parse_shapes(batch, sparse_count: int, dense_shapes, single: bool) -> list:
    rank = 1 if single else 2
    lead = [] if single else [batch]
    return (
        [_shape.TensorShape([None, rank])] * sparse_count
        + [_shape.TensorShape([None])] * sparse_count
        + [_shape.TensorShape([rank])] * sparse_count
        + [_shape.TensorShape(lead + list(_shape.as_shape(s).as_list())) for s in dense_shapes]
    )


# ----------------------------------------------------------------------------------------------------------
# ParseExample: a batch of Examples
# ----------------------------------------------------------------------------------------------------------
def _parse_example_shape(op):
    serialized = op.inputs[0].shape.with_rank(1)
    return _parse_shapes(serialized.as_list()[0], op.get_attr("Nsparse"), op.get_attr("dense_shapes"), False)


@register_op(
    "ParseExample",
    inputs=["serialized: string", "names: string", "sparse_keys: Nsparse * string", "dense_keys: Ndense * string",
            "dense_defaults: Tdense"],
    outputs=["sparse_indices: Nsparse * int64", "sparse_values: sparse_types", "sparse_shapes: Nsparse * int64",
             "dense_values: Tdense"],
    attrs={"sparse_types": ("list(type)", REQUIRED), "Tdense": ("list(type)", REQUIRED),
           "dense_shapes": ("list(shape)", REQUIRED)},
    allowed={"sparse_types": _PARSE_TYPES, "Tdense": _PARSE_TYPES},
    shape=_parse_example_shape,
)
def _parse_example_kernel(serialized, names, *rest, Nsparse, Ndense, sparse_types, dense_shapes):
    if serialized.ndim != 1:
        raise _invalid(f"Expected serialized to be a vector, got shape: {_shape.dims_str(serialized.shape)}")
    if names.size and names.shape != serialized.shape:
        raise _invalid(f"Expected len(names) == len(serialized), but got: {names.size} vs. {serialized.size}")
    sparse_keys = _texts(np.asarray(k).item() for k in rest[:Nsparse])
    dense_keys = _texts(np.asarray(k).item() for k in rest[Nsparse : Nsparse + Ndense])
    defaults = rest[Nsparse + Ndense :]
    features = [ex.features for ex in _decode(serialized, example_pb2.Example, "example")]
    sparse_out, dense_out = _parse(features, _names(names, len(features)), sparse_keys,
                                   [_dt.as_dtype(t) for t in sparse_types], dense_keys, _dtypes_of(defaults),
                                   [_shape.as_shape(s) for s in dense_shapes], defaults)
    return _flat_outputs(sparse_out, dense_out)


def _dtypes_of(arrays) -> list[_dt.DType]:
    return [_dt.string if a.dtype == object else _dt.as_dtype(a.dtype) for a in arrays]


def _flat_outputs(sparse_out, dense_out) -> list:
    return [s[0] for s in sparse_out] + [s[1] for s in sparse_out] + [s[2] for s in sparse_out] + dense_out


NotDifferentiable("ParseExample")


def _sparse_and_dense_of(sparse_keys, dense_keys, outputs: list) -> dict:
    """The parse outputs (all sparse indices, values, shapes, then the dense values) by feature key."""
    n = len(sparse_keys)
    result = {key: SparseTensor(outputs[i], outputs[n + i], outputs[2 * n + i]) for i, key in enumerate(sparse_keys)}
    result.update(zip(dense_keys, outputs[3 * n :]))
    return result


@tf_export("io.parse_example", "parse_example")
def parse_example(serialized, features: dict, name: str | None = None, example_names=None) -> dict:
    """Parses a vector of serialized `tf.train.Example` protos into a dict of Tensors (FixedLenFeature,
    FixedLenSequenceFeature) and SparseTensors (VarLenFeature), batched along the first dimension."""
    params = _RawParams(features)
    with _ops.name_scope(name, "ParseExample", [serialized, example_names]) as scope:
        names = [] if example_names is None else example_names
        op = apply_op(
            "ParseExample",
            [serialized, _ops.convert_to_tensor(names, dtype=_dt.string, name="names"),
             params.sparse_keys, params.dense_keys, params.default_tensors(scope)],
            {"sparse_types": params.sparse_types, "Tdense": params.dense_types, "dense_shapes": params.dense_shapes},
            name="ParseExample",
        )
        return _merge_sparse_features(features, _sparse_and_dense_of(params.sparse_keys, params.dense_keys, op.outputs))


# ----------------------------------------------------------------------------------------------------------
# ParseSingleExample: one Example, without the batch dimension
# ----------------------------------------------------------------------------------------------------------
def _parse_single_shape(op):
    op.inputs[0].shape.with_rank(0)
    return _parse_shapes(None, op.get_attr("num_sparse"), op.get_attr("dense_shapes"), True)


@register_op(
    "ParseSingleExample",
    inputs=["serialized: string", "dense_defaults: Tdense"],
    outputs=["sparse_indices: num_sparse * int64", "sparse_values: sparse_types",
             "sparse_shapes: num_sparse * int64", "dense_values: Tdense"],
    attrs={"num_sparse": ("int", REQUIRED), "sparse_keys": ("list(string)", REQUIRED),
           "dense_keys": ("list(string)", REQUIRED), "sparse_types": ("list(type)", REQUIRED),
           "Tdense": ("list(type)", REQUIRED), "dense_shapes": ("list(shape)", REQUIRED)},
    allowed={"sparse_types": _PARSE_TYPES, "Tdense": _PARSE_TYPES},
    shape=_parse_single_shape,
)
def _parse_single_example_kernel(serialized, *defaults, sparse_keys, dense_keys, sparse_types, dense_shapes):
    if serialized.ndim != 0:
        raise _invalid(f"Expected serialized to be a scalar, got shape: {_shape.dims_str(serialized.shape)}")
    features = [ex.features for ex in _decode(serialized.reshape(1), example_pb2.Example, "example")]
    sparse_out, dense_out = _parse(features, None, _texts(sparse_keys),
                                   [_dt.as_dtype(t) for t in sparse_types], _texts(dense_keys), _dtypes_of(defaults),
                                   [_shape.as_shape(s) for s in dense_shapes], defaults)
    return _flat_outputs(_unbatched_sparse(sparse_out), [d[0, ...] for d in dense_out])


def _unbatched_sparse(sparse_out: list) -> list:
    """Sparse results of a batch of one without their batch dimension."""
    return [(idx[:, 1:], vals, shape[1:]) for idx, vals, shape in sparse_out]


def _texts(keys) -> list[str]:
    return [k.decode() if isinstance(k, bytes) else k for k in keys]


NotDifferentiable("ParseSingleExample")


@tf_export("io.parse_single_example", "parse_single_example")
def parse_single_example(serialized, features: dict, name: str | None = None, example_names=None) -> dict:
    """Parses one serialized `tf.train.Example` (a scalar string) into a dict of Tensors and SparseTensors,
    as parse_example does for a batch, without the batch dimension."""
    params = _RawParams(features)
    with _ops.name_scope(name, "ParseSingleExample", [serialized, example_names]) as scope:
        op = apply_op(
            "ParseSingleExample",
            [serialized, params.default_tensors(scope)],
            {"num_sparse": len(params.sparse_keys), "sparse_keys": params.sparse_keys,
             "dense_keys": params.dense_keys, "sparse_types": params.sparse_types, "Tdense": params.dense_types,
             "dense_shapes": params.dense_shapes},
            name="ParseSingleExample",
        )
        return _merge_sparse_features(features, _sparse_and_dense_of(params.sparse_keys, params.dense_keys, op.outputs))


# ----------------------------------------------------------------------------------------------------------
# SequenceExample: context features (as an Example's) and feature lists, one Feature per step
# ----------------------------------------------------------------------------------------------------------
def _step_values(feature, key: str, dtype: _dt.DType, name: str, step: int):
    kind = feature.WhichOneof("kind")
    want = _LIST_OF[dtype]
    if kind is None:
        return []
    if kind != want:
        raise _invalid(f"Name: {name}, Feature list: {key}, Index: {step}.  Data types don't match. Expected type: "
                       f"{_TYPE_NAME[want]}")
    return getattr(feature, kind).value


def _parse_feature_lists(lists, names, sparse_keys, sparse_types, dense_keys, dense_types, dense_shapes,
                         missing_ok: set):
    """Parses the feature lists of a batch of SequenceExamples: per sparse key (indices [N, 3], values,
    [batch, steps, values]); per dense key the zero-padded [batch, steps, ...] tensor and each example's
    number of steps."""
    batch = len(lists)
    sparse_out = []
    for key, dtype in zip(sparse_keys, sparse_types):
        index_rows, values, steps_max, width = [], [], 0, 0
        for b, fls in enumerate(lists):
            fl = fls.feature_list.get(key)
            steps = [] if fl is None else [_step_values(f, key, dtype, names[b], t) for t, f in enumerate(fl.feature)]
            steps_max = max(steps_max, len(steps))
            for t, vals in enumerate(steps):
                width = max(width, len(vals))
                index_rows.extend((b, t, j) for j in range(len(vals)))
                values.extend(vals)
        indices = np.array(index_rows, dtype=np.int64).reshape(-1, 3)
        sparse_out.append((indices, _values_array(values, dtype), np.array([batch, steps_max, width], np.int64)))
    dense_out, lengths_out = [], []
    for key, dtype, shape in zip(dense_keys, dense_types, dense_shapes):
        inner = [int(d) for d in _shape.as_shape(shape).as_list()]
        size = int(np.prod(inner))
        per_example = []
        for b, fls in enumerate(lists):
            fl = fls.feature_list.get(key)
            if fl is None:
                if key not in missing_ok:
                    raise _invalid(
                        f"Name: {names[b]}, Feature list '{key}' is required but could not be found.  Did you mean "
                        "to include it in feature_list_dense_missing_assumed_empty or feature_list_dense_defaults?"
                    )
                per_example.append(np.zeros([0, *inner], dtype=dtype.as_numpy_dtype))
                continue
            rows = []
            for t, f in enumerate(fl.feature):
                vals = _step_values(f, key, dtype, names[b], t)
                if len(vals) != size:
                    raise _invalid(f"Name: {names[b]}, Key: {key}, Index: {t}.  Number of values != expected.  "
                                   f"values size: {len(vals)} but output shape: {_shape.dims_str(inner)}")
                rows.append(_values_array(vals, dtype).reshape(inner))
            per_example.append(np.stack(rows) if rows else np.zeros([0, *inner], dtype=dtype.as_numpy_dtype))
        lengths = np.array([len(p) for p in per_example], dtype=np.int64)
        out = np.full([batch, lengths.max(initial=0), *inner], b"" if dtype == _dt.string else 0,
                      dtype=dtype.as_numpy_dtype)
        for b, p in enumerate(per_example):
            out[b, : len(p)] = p
        dense_out.append(out)
        lengths_out.append(lengths)
    return sparse_out, dense_out, lengths_out


def _parse_sequence_batch(serialized, names, attrs: dict, context_defaults) -> tuple:
    """Context and feature-list outputs for a vector of serialized SequenceExamples."""
    examples = _decode(serialized, example_pb2.SequenceExample, "sequence example")
    names = _names(names, len(examples))
    context = _parse([ex.context for ex in examples], names, _texts(attrs["context_sparse_keys"]),
                     [_dt.as_dtype(t) for t in attrs["context_sparse_types"]], _texts(attrs["context_dense_keys"]),
                     _dtypes_of(context_defaults), [_shape.as_shape(s) for s in attrs["context_dense_shapes"]],
                     context_defaults)
    lists = _parse_feature_lists(
        [ex.feature_lists for ex in examples], names, _texts(attrs["feature_list_sparse_keys"]),
        [_dt.as_dtype(t) for t in attrs["feature_list_sparse_types"]], _texts(attrs["feature_list_dense_keys"]),
        [_dt.as_dtype(t) for t in attrs["feature_list_dense_types"]], attrs["feature_list_dense_shapes"],
        set(_texts(attrs["feature_list_dense_missing_assumed_empty"])),
    )
    return context, lists


_SEQUENCE_ATTRS = {
    "Ncontext_sparse": ("int", 0), "Ncontext_dense": ("int", 0), "Nfeature_list_sparse": ("int", 0),
    "Nfeature_list_dense": ("int", 0), "context_sparse_types": ("list(type)", []), "Tcontext_dense": ("list(type)", []),
    "feature_list_dense_types": ("list(type)", []), "context_dense_shapes": ("list(shape)", []),
    "feature_list_sparse_types": ("list(type)", []), "feature_list_dense_shapes": ("list(shape)", []),
}
_SEQUENCE_ALLOWED = {k: _PARSE_TYPES for k in ("context_sparse_types", "Tcontext_dense", "feature_list_dense_types",
                                                "feature_list_sparse_types")}
_SEQUENCE_OUTPUTS = [
    "context_sparse_indices: Ncontext_sparse * int64", "context_sparse_values: context_sparse_types",
    "context_sparse_shapes: Ncontext_sparse * int64", "context_dense_values: Tcontext_dense",
    "feature_list_sparse_indices: Nfeature_list_sparse * int64",
    "feature_list_sparse_values: feature_list_sparse_types",
    "feature_list_sparse_shapes: Nfeature_list_sparse * int64", "feature_list_dense_values: feature_list_dense_types",
]
_SEQUENCE_KEY_ATTRS = ("feature_list_dense_missing_assumed_empty", "context_sparse_keys", "context_dense_keys",
                       "feature_list_sparse_keys", "feature_list_dense_keys")


def _sequence_shapes(op, batch, single: bool) -> list:
    lead = [] if single else [batch]
    n_cs, n_fs = op.get_attr("Ncontext_sparse"), op.get_attr("Nfeature_list_sparse")
    rank = 1 if single else 2
    shapes = ([_shape.TensorShape([None, rank])] * n_cs + [_shape.TensorShape([None])] * n_cs
              + [_shape.TensorShape([rank])] * n_cs
              + [_shape.TensorShape(lead + _shape.as_shape(s).as_list()) for s in op.get_attr("context_dense_shapes")]
              + [_shape.TensorShape([None, rank + 1])] * n_fs + [_shape.TensorShape([None])] * n_fs
              + [_shape.TensorShape([rank + 1])] * n_fs
              + [_shape.TensorShape([*lead, None, *_shape.as_shape(s).as_list()])
                 for s in op.get_attr("feature_list_dense_shapes")])
    if not single:
        shapes += [_shape.TensorShape([batch])] * op.get_attr("Nfeature_list_dense")
    return shapes


def _parse_sequence_example_shape(op):
    serialized = op.inputs[0].shape
    if serialized.ndims is not None and serialized.ndims != 1:
        raise ValueError(f"Shape must be rank 1 but is rank {serialized.ndims}")
    return _sequence_shapes(op, None if serialized.ndims is None else serialized.as_list()[0], False)


@register_op(
    "ParseSequenceExample",
    inputs=["serialized: string", "debug_name: string", "context_dense_defaults: Tcontext_dense"],
    outputs=[*_SEQUENCE_OUTPUTS, "feature_list_dense_lengths: Nfeature_list_dense * int64"],
    attrs={**{k: ("list(string)", REQUIRED) for k in _SEQUENCE_KEY_ATTRS}, **_SEQUENCE_ATTRS},
    allowed=_SEQUENCE_ALLOWED,
    shape=_parse_sequence_example_shape,
)
def _parse_sequence_example_kernel(serialized, debug_name, *defaults, feature_list_dense_missing_assumed_empty,
                                   context_sparse_keys, context_dense_keys, feature_list_sparse_keys,
                                   feature_list_dense_keys, context_sparse_types, context_dense_shapes,
                                   feature_list_sparse_types, feature_list_dense_types, feature_list_dense_shapes):
    attrs = {
        "feature_list_dense_missing_assumed_empty": feature_list_dense_missing_assumed_empty,
        "context_sparse_keys": context_sparse_keys, "context_dense_keys": context_dense_keys,
        "feature_list_sparse_keys": feature_list_sparse_keys, "feature_list_dense_keys": feature_list_dense_keys,
        "context_sparse_types": context_sparse_types, "context_dense_shapes": context_dense_shapes,
        "feature_list_sparse_types": feature_list_sparse_types, "feature_list_dense_types": feature_list_dense_types,
        "feature_list_dense_shapes": feature_list_dense_shapes,
    }
    if serialized.ndim != 1:
        raise _invalid(f"Expected serialized to be a vector, got shape: {_shape.dims_str(serialized.shape)}")
    (c_sparse, c_dense), (f_sparse, f_dense, lengths) = _parse_sequence_batch(serialized, debug_name, attrs, defaults)
    return _flat_outputs(c_sparse, c_dense) + _flat_outputs(f_sparse, f_dense) + lengths


def _parse_single_sequence_example_shape(op):
    if op.inputs[0].shape.ndims not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {op.inputs[0].shape.ndims}")
    return _sequence_shapes(op, None, True)


@register_op(
    "ParseSingleSequenceExample",
    inputs=["serialized: string", "feature_list_dense_missing_assumed_empty: string",
            "context_sparse_keys: Ncontext_sparse * string", "context_dense_keys: Ncontext_dense * string",
            "feature_list_sparse_keys: Nfeature_list_sparse * string",
            "feature_list_dense_keys: Nfeature_list_dense * string", "context_dense_defaults: Tcontext_dense",
            "debug_name: string"],
    outputs=_SEQUENCE_OUTPUTS,
    attrs=_SEQUENCE_ATTRS,
    allowed=_SEQUENCE_ALLOWED,
    shape=_parse_single_sequence_example_shape,
)
def _parse_single_sequence_example_kernel(serialized, missing_ok, *rest, Ncontext_sparse, Ncontext_dense,
                                          Nfeature_list_sparse, Nfeature_list_dense, context_sparse_types,
                                          context_dense_shapes, feature_list_sparse_types, feature_list_dense_types,
                                          feature_list_dense_shapes):
    if serialized.ndim != 0:
        raise _invalid(f"Expected serialized to be a scalar, got shape: {_shape.dims_str(serialized.shape)}")
    keys, start = [], 0
    for n in (Ncontext_sparse, Ncontext_dense, Nfeature_list_sparse, Nfeature_list_dense):
        keys.append([np.asarray(k).item() for k in rest[start : start + n]])
        start += n
    defaults, debug_name = rest[start:-1], rest[-1]
    attrs = {
        "feature_list_dense_missing_assumed_empty": list(missing_ok.reshape(-1)), "context_sparse_keys": keys[0],
        "context_dense_keys": keys[1], "feature_list_sparse_keys": keys[2], "feature_list_dense_keys": keys[3],
        "context_sparse_types": context_sparse_types, "context_dense_shapes": context_dense_shapes,
        "feature_list_sparse_types": feature_list_sparse_types, "feature_list_dense_types": feature_list_dense_types,
        "feature_list_dense_shapes": feature_list_dense_shapes,
    }
    names = np.asarray(debug_name).reshape(-1)
    names = names if names.size and names[0] else np.zeros([0], object)
    (c_sparse, c_dense), (f_sparse, f_dense, _) = _parse_sequence_batch(serialized.reshape(1), names, attrs, defaults)
    return (_flat_outputs(_unbatched_sparse(c_sparse), [d[0, ...] for d in c_dense])
            + _flat_outputs(_unbatched_sparse(f_sparse), [d[0, ...] for d in f_dense]))


NotDifferentiable("ParseSequenceExample")
NotDifferentiable("ParseSingleSequenceExample")


class _SequenceParams:
    """The op-level description of context and sequence feature dicts."""

    def __init__(self, context_features: dict | None, sequence_features: dict | None) -> None:
        context_features = dict(context_features or {})
        sequence_features = dict(sequence_features or {})
        if not context_features and not sequence_features:
            raise ValueError("Missing features.")
        for key, feature in context_features.items():
            if not isinstance(feature, (VarLenFeature, FixedLenFeature)):
                raise ValueError(f"Invalid context feature {key}:{feature}: context features are FixedLenFeature or "
                                 "VarLenFeature.")
        self.context = _RawParams(context_features) if context_features else None
        self.sparse_keys, self.sparse_types = [], []
        self.dense_keys, self.dense_types, self.dense_shapes, self.missing_ok = [], [], [], []
        for key in sorted(sequence_features):
            feature = sequence_features[key]
            if isinstance(feature, VarLenFeature):
                self.sparse_keys.append(key)
                self.sparse_types.append(_parse_dtype(feature.dtype, key))
            elif isinstance(feature, FixedLenSequenceFeature):
                if feature.shape is None or not _shape.as_shape(feature.shape).is_fully_defined():
                    raise ValueError(f"Missing or partial shape for sequence feature {key}.")
                self.dense_keys.append(key)
                self.dense_types.append(_parse_dtype(feature.dtype, key))
                self.dense_shapes.append(_shape.as_shape(feature.shape))
                if feature.allow_missing:
                    self.missing_ok.append(key)
            else:
                raise ValueError(f"Invalid sequence feature {key}:{feature}: sequence features are "
                                 "FixedLenSequenceFeature or VarLenFeature.")

    def context_lists(self):
        c = self.context
        return ([], [], [], [], [], []) if c is None else (
            c.sparse_keys, c.sparse_types, c.dense_keys, c.dense_types, c.dense_shapes, c.dense_defaults)

    def attrs(self) -> dict:
        cs_keys, cs_types, cd_keys, cd_types, cd_shapes, _ = self.context_lists()
        return {"context_sparse_types": cs_types, "Tcontext_dense": cd_types, "context_dense_shapes": cd_shapes,
                "feature_list_sparse_types": self.sparse_types, "feature_list_dense_types": self.dense_types,
                "feature_list_dense_shapes": self.dense_shapes, "Ncontext_sparse": len(cs_keys),
                "Ncontext_dense": len(cd_keys), "Nfeature_list_sparse": len(self.sparse_keys),
                "Nfeature_list_dense": len(self.dense_keys)}

    def defaults(self, scope: str) -> list:
        return [] if self.context is None else self.context.default_tensors(scope)

    def results(self, outputs: list) -> tuple[dict, dict, list]:
        cs_keys, _, cd_keys, *_ = self.context_lists()
        n = len(cs_keys) * 3 + len(cd_keys)
        context = _sparse_and_dense_of(cs_keys, cd_keys, outputs[:n])
        m = len(self.sparse_keys) * 3 + len(self.dense_keys)
        sequence = _sparse_and_dense_of(self.sparse_keys, self.dense_keys, outputs[n : n + m])
        return context, sequence, outputs[n + m :]


@tf_export("io.parse_single_sequence_example", "parse_single_sequence_example")
def parse_single_sequence_example(serialized, context_features: dict | None = None,
                                  sequence_features: dict | None = None, example_name=None,
                                  name: str | None = None) -> tuple[dict, dict]:
    """Parses one serialized `tf.train.SequenceExample` into (context dict, feature-list dict): context
    features as parse_single_example parses them, FixedLenSequenceFeatures as [steps, ...] tensors and
    VarLenFeatures as SparseTensors indexed by (step, value)."""
    params = _SequenceParams(context_features, sequence_features)
    cs_keys, _, cd_keys, *_ = params.context_lists()
    with _ops.name_scope(name, "ParseSingleSequenceExample", [serialized, example_name]) as scope:
        op = apply_op(
            "ParseSingleSequenceExample",
            [serialized, _ops.convert_to_tensor(params.missing_ok, dtype=_dt.string,
                                                name="feature_list_dense_missing_assumed_empty"),
             cs_keys, cd_keys, params.sparse_keys, params.dense_keys, params.defaults(scope),
             _ops.convert_to_tensor("" if example_name is None else example_name, dtype=_dt.string,
                                    name="debug_name")],
            params.attrs(),
            name="ParseSingleSequenceExample",
        )
    context, sequence, _ = params.results(op.outputs)
    return context, sequence


@tf_export("io.parse_sequence_example")
def parse_sequence_example(serialized, context_features: dict | None = None, sequence_features: dict | None = None,
                           example_names=None, name: str | None = None) -> tuple[dict, dict, dict]:
    """Parses a vector of serialized `tf.train.SequenceExample`s into (context dict, feature-list dict,
    lengths dict): dense feature lists are padded with zeros ("" for strings) to the longest example, and
    lengths holds each example's number of steps per FixedLenSequenceFeature."""
    params = _SequenceParams(context_features, sequence_features)
    cs_keys, _, cd_keys, *_ = params.context_lists()
    with _ops.name_scope(name, "ParseSequenceExample", [serialized, example_names]) as scope:
        attrs = params.attrs()
        attrs.update(feature_list_dense_missing_assumed_empty=params.missing_ok, context_sparse_keys=cs_keys,
                     context_dense_keys=cd_keys, feature_list_sparse_keys=params.sparse_keys,
                     feature_list_dense_keys=params.dense_keys)
        names = [] if example_names is None else example_names
        op = apply_op(
            "ParseSequenceExample",
            [serialized, _ops.convert_to_tensor(names, dtype=_dt.string, name="debug_name"), params.defaults(scope)],
            attrs,
            name="ParseSequenceExample",
        )
    context, sequence, lengths = params.results(op.outputs)
    return context, sequence, dict(zip(params.dense_keys, lengths))
