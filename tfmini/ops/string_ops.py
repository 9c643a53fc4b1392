"""String ops over tensors of bytes (NumPy object arrays): splitting, substrings, joining, regular expressions,
case and whitespace, conversions to and from numbers, base64, and tf.strings.format."""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import struct
from collections.abc import Callable
from fractions import Fraction
from functools import partial

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import NotDifferentiable, apply_op, register_op
from tfmini.framework.sparse_tensor import SparseTensor
from tfmini.ops import array_ops, math_ops, shape_fns

__all__ = [
    "as_string",
    "decode_base64",
    "encode_base64",
    "ngrams",
    "reduce_join",
    "regex_full_match",
    "regex_replace",
    "string_format",
    "string_join",
    "string_length",
    "string_lower",
    "string_split",
    "string_split_v2",
    "string_strip",
    "string_to_number",
    "string_upper",
    "substr",
    "unicode_transcode",
]


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


def _map_bytes(fn, arr: np.ndarray) -> np.ndarray:
    """`fn` applied to every string of `arr`, as an object array of the same shape."""
    out = np.empty(arr.shape, dtype=object)
    out.reshape(-1)[:] = [fn(x) for x in arr.reshape(-1)]
    return out


def _as_bytes(value) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def _same_shape(op):
    return op.inputs[0].shape


def _string(x, name: str = "input") -> _ops.Tensor:
    return _ops.convert_to_tensor(x, dtype=_dt.string, name=name)


# ----------------------------------------------------------------------------------------------------------
# Numbers in strings (shared with DecodeCSV): what TF's safe_strto32/64 and strtod-based parsers accept
# ----------------------------------------------------------------------------------------------------------
_INT_RE = re.compile(rb"\s*[+-]?\d+\s*\Z")
# Decimal, hexadecimal (an integer or a float with a binary exponent: 0x10, 0X1.8p1, 0x.8p1) and the special
# values (inf, infinity, nan, nan(chars); any case), with surrounding whitespace, as TF's float parsers take them.
# Bytes patterns: \d is ASCII only, and nothing else (underscores, other digits) gets through.
_FLOAT_RE = re.compile(
    rb"\s*(?P<sign>[+-]?)(?:(?P<dec>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    rb"|0[xX](?P<hex>[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP](?P<hexp>[+-]?\d+))?"
    rb"|(?P<inf>inf(?:inity)?)|(?P<nan>nan(?:\([0-9a-zA-Z_]*\))?))\s*\Z",
    re.IGNORECASE,
)


def _hex_fraction(digits: bytes, exponent: bytes | None) -> Fraction:
    """The exact value of the hexadecimal significand `digits` (with an optional point) times 2**exponent."""
    whole, _, frac = digits.partition(b".")
    value = Fraction(int(whole + frac or b"0", 16), 16 ** len(frac))
    power = int(exponent) if exponent else 0
    # Past these powers every significand this long is 0 or inf in float64 already: no huge Fractions.
    power = max(min(power, 4 * len(digits) + 1100), -(4 * len(digits) + 1200))
    return value * Fraction(2) ** power


def _to_float32(exact: Callable[[], Fraction], nearest64: float) -> np.float32:
    """A value rounded once, to the nearest float32 (ties to even). `nearest64` is the value rounded to
    float64; rounding that to float32 gives the same result unless it lies exactly halfway between two
    float32s (every such midpoint is a float64), and only then is the exact value, `exact()`, needed."""
    with np.errstate(over="ignore"):
        single = np.float32(nearest64)
    if float(single) == nearest64 or np.isnan(nearest64):
        return single
    if np.isinf(single):  # beyond the largest float32: the neighbours are it and inf
        below, above = np.float32(np.finfo(np.float32).max), np.float32(np.inf)
        middle = 2.0**128 - 2.0**103
        if nearest64 < 0:
            below, above, middle = -above, -below, -middle
    else:
        other = np.nextafter(single, np.float32(np.inf if nearest64 > float(single) else -np.inf))
        below, above = min(single, other), max(single, other)
        middle = (float(below) + float(above)) / 2
    if nearest64 != middle:
        return single
    value = exact()
    if value == Fraction(middle):
        return single  # a true tie: numpy rounds it to even
    return above if value > Fraction(middle) else below


def parse_number(text: bytes, dtype: _dt.DType):
    """The number `text` spells in `dtype` (int32, int64, float32 or float64), or None if it is not one.
    Floats are rounded once, from the exact value the text spells, to the nearest value of `dtype`."""
    return number_parser(dtype)(text)


def number_parser(dtype: _dt.DType) -> Callable[[bytes], int | float | None]:
    """`parse_number` for one dtype, with the dtype's checks resolved once (for parsing many fields)."""
    if dtype.is_integer:
        info = np.iinfo(dtype.as_numpy_dtype)
        return partial(_parse_int, low=int(info.min), high=int(info.max))
    return partial(_parse_float, single=dtype.base_dtype == _dt.float32)


def _parse_int(text: bytes, low: int, high: int) -> int | None:
    if not _INT_RE.match(text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def _parse_float(text: bytes, single: bool) -> float | None:
    """The float `text` spells, rounded once to float32 when `single` (returned as the float64 holding it,
    or as a float64 that rounds to it), else to float64."""
    m = _FLOAT_RE.match(text)
    if m is None:
        return None
    negative = m["sign"] == b"-"
    if m["inf"] is not None:
        return float("-inf") if negative else float("inf")
    if m["nan"] is not None:
        return float("nan")
    if m["dec"] is not None:
        nearest = float(m["dec"])  # correctly rounded to float64
        exact = partial(Fraction, m["dec"].decode("ascii"))
    else:
        value = _hex_fraction(m["hex"], m["hexp"])
        try:
            nearest = float(value)  # correctly rounded to float64
        except OverflowError:
            nearest = float("inf")
        exact = partial(_same, value)
    if single and _maybe_float32_midpoint(nearest):
        nearest = float(_to_float32(exact, nearest))
    # A float64 that is no float32 midpoint rounds to the float32 the exact value rounds to.
    return -nearest if negative else nearest


def _same(value):
    return value


_FLOAT32_TINY, _FLOAT32_MAX = float(np.finfo(np.float32).tiny), float(np.finfo(np.float32).max)
_LOW29 = (1 << 29) - 1


def _maybe_float32_midpoint(value: float) -> bool:
    """Whether `value` may lie halfway between two float32s: in the normal float32 range exactly when the 29
    bits below a float32's significand are 1 followed by zeros (other ranges are left to `_to_float32`)."""
    if not _FLOAT32_TINY <= value < _FLOAT32_MAX:
        return value != 0.0 and value != float("inf")
    return (struct.unpack("<Q", struct.pack("<d", value))[0] & _LOW29) == 1 << 28


# ----------------------------------------------------------------------------------------------------------
# StringSplit, StringSplitV2 -> SparseTensor
# ----------------------------------------------------------------------------------------------------------
def _check_rank(shape: _shape.TensorShape, rank: int) -> None:
    if shape.ndims is not None and shape.ndims != rank:
        raise ValueError(f"Shape must be rank {rank} but is rank {shape.ndims}")


def _split_shape(op):
    _check_rank(op.inputs[0].shape, 1)
    _check_rank(op.inputs[1].shape, 0)
    return [_shape.TensorShape([None, 2]), _shape.TensorShape([None]), _shape.TensorShape([2])]


def sparse_rows(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The [N, 2] indices and the [2] dense shape of a SparseTensor whose row i holds `counts[i]` entries in
    its first columns (the layout of split tokens and of parsed VarLenFeatures)."""
    rows = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    cols = np.arange(counts.sum(), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return np.stack([rows, cols], axis=1), np.array([len(counts), counts.max(initial=0)], dtype=np.int64)


def _tokens_to_sparse(tokens: list[list[bytes]]):
    indices, shape = sparse_rows(np.array([len(t) for t in tokens], dtype=np.int64))
    values = np.empty(len(indices), dtype=object)
    values[:] = [x for t in tokens for x in t]
    return indices, values, shape


def _check_vector(x: np.ndarray, what: str = "input") -> None:
    if x.ndim != 1:
        raise _invalid(f"{what} must be a vector, got shape: {_shape.dims_str(x.shape)}")


@register_op(
    "StringSplit",
    inputs=["input: string", "delimiter: string"],
    outputs=["indices: int64", "values: string", "shape: int64"],
    attrs={"skip_empty": ("bool", True)},
    shape=_split_shape,
)
def _string_split_kernel(inp, delimiter, *, skip_empty):
    _check_vector(inp)
    delim = bytes(np.asarray(delimiter).item())
    if delim:
        splitter = re.compile(b"[" + re.escape(delim) + b"]")
        tokens = [splitter.split(s) for s in inp]
    else:
        tokens = [[s[i : i + 1] for i in range(len(s))] for s in inp]
    if skip_empty:
        tokens = [[t for t in ts if t] for ts in tokens]
    return _tokens_to_sparse(tokens)


@register_op(
    "StringSplitV2",
    inputs=["input: string", "sep: string"],
    outputs=["indices: int64", "values: string", "shape: int64"],
    attrs={"maxsplit": ("int", -1)},
    shape=_split_shape,
)
def _string_split_v2_kernel(inp, sep, *, maxsplit):
    _check_vector(inp)
    sep = bytes(np.asarray(sep).item())
    # empty sep: runs of whitespace separate, and no empty tokens at either end (Python's bytes.split())
    tokens = [s.split(sep or None, maxsplit) for s in inp]
    return _tokens_to_sparse(tokens)


NotDifferentiable("StringSplit")
NotDifferentiable("StringSplitV2")


def _sparse_result(op) -> SparseTensor:
    return SparseTensor(op.outputs[0], op.outputs[1], op.outputs[2])


def _check_result_type(result_type: str) -> None:
    if result_type != "SparseTensor":
        raise ValueError(f"result_type must be 'SparseTensor' (tfmini has no RaggedTensor), got {result_type!r}.")


@tf_export("string_split")
def string_split(source, sep=None, skip_empty: bool = True, delimiter=None, result_type: str = "SparseTensor",
                 name: str | None = None) -> SparseTensor:
    """Splits each string of the vector `source` at every character of `delimiter` (" " by default; "" splits
    into single bytes) into a SparseTensor of tokens; `skip_empty` drops empty tokens."""
    if sep is not None and delimiter is not None:
        raise ValueError("Cannot specify both 'sep' and 'delimiter'")
    _check_result_type(result_type)
    delimiter = sep if sep is not None else (" " if delimiter is None else delimiter)
    with _ops.name_scope(name, "StringSplit", [source]):
        op = apply_op("StringSplit", [_string(source), _string(delimiter, "delimiter")],
                      {"skip_empty": bool(skip_empty)}, name="StringSplit")
    return _sparse_result(op)


@tf_export("strings.split")
def string_split_v2(input=None, sep=None, maxsplit: int = -1, result_type: str = "SparseTensor", source=None,
                    name: str | None = None) -> SparseTensor:
    """tf.strings.split: splits each string of a vector at each occurrence of the string `sep` (runs of
    whitespace when None), at most `maxsplit` times, into a SparseTensor."""
    if input is not None and source is not None:
        raise ValueError("Cannot specify both 'input' and 'source'")
    input = source if input is None else input
    if input is None:
        raise TypeError("strings.split() missing required argument 'input'")
    _check_result_type(result_type)
    with _ops.name_scope(name, "StringSplit", [input]):
        op = apply_op("StringSplitV2", [_string(input), _string("" if sep is None else sep, "sep")],
                      {"maxsplit": int(maxsplit)}, name="StringSplitV2")
    return _sparse_result(op)


# ----------------------------------------------------------------------------------------------------------
# Substr
# ----------------------------------------------------------------------------------------------------------
def _substr_shape(op):
    return array_ops.broadcast_static_shape(
        array_ops.broadcast_static_shape(op.inputs[0].shape, op.inputs[1].shape), op.inputs[2].shape
    )


@register_op(
    "Substr",
    inputs=["input: string", "pos: T", "len: T"],
    outputs=["output: string"],
    attrs={"unit": ("string", "BYTE")},
    allowed={"T": (_dt.int32, _dt.int64)},
    shape=_substr_shape,
)
def _substr_kernel(inp, pos, length, *, unit):
    if unit not in ("BYTE", "UTF8_CHAR"):
        raise _invalid(f"unit must be BYTE or UTF8_CHAR, got {unit}")
    if np.shape(pos) != np.shape(length):
        raise _invalid(f"pos and len should have the same shape, got: {_shape.dims_str(np.shape(pos))} vs. "
                       f"{_shape.dims_str(np.shape(length))}")
    try:
        s, p, n = np.broadcast_arrays(inp, pos, length)
    except ValueError:
        raise _invalid(f"Incompatible shapes: {_shape.dims_str(inp.shape)} vs. {_shape.dims_str(np.shape(pos))}") \
            from None
    out = np.empty(s.shape, dtype=object)
    flat_out = out.reshape(-1)
    for i, (text, start, count) in enumerate(zip(s.reshape(-1), p.reshape(-1), n.reshape(-1))):
        chars = text.decode("utf-8", "surrogateescape") if unit == "UTF8_CHAR" else text
        size = len(chars)
        start = int(start)
        if start > size or start < -size:
            shown = "" if unit == "UTF8_CHAR" else f" b'{text.decode('latin-1')}'"  # TF's two wordings
            raise _invalid(f"pos {start} out of range for string{shown} at index {i}")
        start = start + size if start < 0 else start
        count = int(count)
        # a negative length is a huge unsigned one in TF: the rest of the string
        piece = chars[start:] if count < 0 else chars[start : start + count]
        flat_out[i] = piece.encode("utf-8", "surrogateescape") if unit == "UTF8_CHAR" else piece
    return out


NotDifferentiable("Substr")


@tf_export("strings.substr", "substr")
def substr(input, pos, len, name: str | None = None, unit: str = "BYTE") -> _ops.Tensor:  # noqa: A002
    """The substring of each string starting at `pos` (from the end when negative) of `len` bytes or UTF-8
    characters (`unit`); `pos` and `len` broadcast against `input`."""
    return apply_op("Substr", [_string(input), pos, len], {"unit": unit}, name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# StringToNumber, AsString
# ----------------------------------------------------------------------------------------------------------
@register_op(
    "StringToNumber",
    inputs=["string_tensor: string"],
    outputs=["output: out_type"],
    attrs={"out_type": ("type", _dt.float32)},
    allowed={"out_type": (_dt.float32, _dt.float64, _dt.int32, _dt.int64)},
    shape=_same_shape,
)
def _string_to_number_kernel(strings, *, out_type):
    dtype = _dt.as_dtype(out_type)
    out = np.empty(strings.shape, dtype=dtype.as_numpy_dtype)
    flat = out.reshape(-1)
    parse = number_parser(dtype)
    for i, s in enumerate(strings.reshape(-1)):
        value = parse(s)
        if value is None:
            raise _invalid(f"StringToNumberOp could not correctly convert string: {s.decode('latin-1')}")
        flat[i] = value
    return out


NotDifferentiable("StringToNumber")


@tf_export("string_to_number", "strings.to_number")
def string_to_number(string_tensor=None, out_type=_dt.float32, name: str | None = None,
                     input=None) -> _ops.Tensor:  # noqa: A002
    """Each string parsed as a number of `out_type` (float32, float64, int32 or int64); `input` is the newer
    name of `string_tensor` (tf.strings.to_number is this same function)."""
    string_tensor = _one_of(string_tensor, input, "string_tensor", "input")
    return apply_op("StringToNumber", [_string(string_tensor, "string_tensor")],
                    {"out_type": _dt.as_dtype(out_type)}, name=name).outputs[0]


def _one_of(old, new, old_name: str, new_name: str):
    """The argument given under its deprecated name `old_name` or its new name `new_name` (exactly one)."""
    if (old is None) == (new is None):
        raise ValueError(f"Exactly one of '{old_name}' and '{new_name}' must be given.")
    return old if new is None else new


_AS_STRING_TYPES = (_dt.int8, _dt.int16, _dt.int32, _dt.int64, _dt.uint8, _dt.uint16, _dt.complex64,
                    _dt.complex128, _dt.float16, _dt.float32, _dt.float64, _dt.bool_)


def _as_string_format(dtype: _dt.DType, precision: int, scientific: bool, shortest: bool, width: int,
                      fill: str) -> str:
    """The printf format TF's AsString builds, with its errors for options the dtype does not take."""
    if scientific and shortest:
        raise _invalid("Cannot select both scientific and shortest notation")
    if len(fill) > 1:
        raise _invalid("Fill string must be one or fewer characters")
    if fill and fill not in " +-0#":
        raise _invalid(f'Fill argument not supported: "{fill}"')
    floating = dtype.is_floating or dtype.is_complex
    if not floating:
        if scientific or shortest:
            raise _invalid(f"scientific and shortest format not supported for datatype {dtype.name}")
        if precision > -1:
            raise _invalid(f"precision not supported for datatype {dtype.name}")
    spec = "%" + fill + (str(width) if width > -1 else "")
    if floating:
        spec += (f".{precision}" if precision > -1 else "") + ("e" if scientific else "g" if shortest else "f")
    else:
        spec += "d"
    return spec


def _negative_nan(text: bytes) -> bytes:
    """printf writes a NaN with its sign bit set as -nan (Python's % drops the sign)."""
    padded = text.startswith(b" ") and b"nan" in text
    return text.replace(b"nan", b"-nan", 1)[1 if padded else 0 :]


@register_op(
    "AsString",
    inputs=["input: T"],
    outputs=["output: string"],
    attrs={"precision": ("int", -1), "scientific": ("bool", False), "shortest": ("bool", False),
           "width": ("int", -1), "fill": ("string", "")},
    allowed={"T": _AS_STRING_TYPES},
    shape=_same_shape,
)
def _as_string_kernel(x, *, precision, scientific, shortest, width, fill):
    dtype = _dt.as_dtype(x.dtype)
    fill = fill.decode() if isinstance(fill, bytes) else fill
    spec = _as_string_format(dtype, precision, scientific, shortest, width, fill)
    flat = x.reshape(-1)
    if dtype == _dt.bool_:
        texts = [b"true" if v else b"false" for v in flat]
    elif dtype.is_complex:
        texts = [f"({spec % v.real},{spec % v.imag})".encode() for v in flat]
    elif dtype.is_floating:
        texts = [(spec % v).encode() for v in flat.astype(np.float64).tolist()]
        for i in np.flatnonzero(np.isnan(flat) & np.signbit(flat)):
            texts[i] = _negative_nan(texts[i])
    else:
        texts = [(spec % v).encode() for v in flat.tolist()]
    out = np.empty(x.shape, dtype=object)
    out.reshape(-1)[:] = texts
    return out


NotDifferentiable("AsString")


@tf_export("as_string", "dtypes.as_string", "strings.as_string")
def as_string(input, precision: int = -1, scientific: bool = False, shortest: bool = False, width: int = -1,
              fill: str = "", name: str | None = None) -> _ops.Tensor:  # noqa: A002
    """Each number or bool as a string, formatted as printf would with the given options."""
    return apply_op("AsString", [input], {"precision": int(precision), "scientific": bool(scientific),
                                          "shortest": bool(shortest), "width": int(width), "fill": fill},
                    name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# ReduceJoin, StringJoin
# ----------------------------------------------------------------------------------------------------------
def _reduce_axes(axes, rank: int) -> list[int]:
    out = []
    for a in np.asarray(axes).reshape(-1).tolist():
        if not -rank <= a < rank:
            raise _invalid(f"Invalid reduction dimension {a} for input with {rank} dimensions.")
        a %= rank
        if a in out:
            raise _invalid(f"Duplicate reduction dimension {a}")
        out.append(a)
    return out


def _reduce_join_shape(op):
    dims = op.inputs[0].shape.as_tuple()
    axes = _reg.constant_value(op.inputs[1])
    keep = op.get_attr("keep_dims")
    if dims is None or axes is None:
        return _shape.unknown_shape()
    axes = np.asarray(axes).reshape(-1).tolist()
    for a in axes:
        if not -len(dims) <= a < len(dims):
            raise ValueError(f"Invalid reduction dimension {a} for input with {len(dims)} dimensions.")
    reduced = {a % len(dims) for a in axes}
    if len(reduced) < len(axes):
        return _shape.unknown_shape()  # TF reports a repeated dimension when the op runs
    return _shape.TensorShape([1 if i in reduced else d for i, d in enumerate(dims) if keep or i not in reduced])


@register_op(
    "ReduceJoin",
    inputs=["inputs: string", "reduction_indices: int32"],
    outputs=["output: string"],
    attrs={"keep_dims": ("bool", False), "separator": ("string", "")},
    shape=_reduce_join_shape,
)
def _reduce_join_kernel(inputs, axes, *, keep_dims, separator):
    sep = _as_bytes(separator)
    axes = _reduce_axes(axes, inputs.ndim)
    value = inputs
    for a in axes:  # TF joins along the axes one after another, in the order given
        moved = np.moveaxis(value, a, -1)
        lead = moved.shape[:-1]
        rows = moved.reshape(int(np.prod(lead)), moved.shape[-1])
        joined = np.empty(rows.shape[0], dtype=object)
        joined[:] = [sep.join(r) for r in rows.tolist()]
        value = np.expand_dims(joined.reshape(lead), a)
    if not keep_dims and axes:
        value = value.reshape([d for i, d in enumerate(value.shape) if i not in axes])
    return value


NotDifferentiable("ReduceJoin")


@tf_export("reduce_join", "strings.reduce_join")
def reduce_join(inputs, axis=None, keep_dims=None, separator: str = "", name: str | None = None,
                reduction_indices=None, keepdims=None) -> _ops.Tensor:
    """Joins the strings along `axis` (all axes, last first, when None) with `separator` between them."""
    if axis is not None and reduction_indices is not None:
        raise ValueError("Cannot specify both 'axis' and 'reduction_indices'.")
    if keepdims is not None and keep_dims is not None:
        raise ValueError("Cannot specify both 'keep_dims' and 'keepdims'.")
    axis = reduction_indices if axis is None else axis
    keep = bool(keepdims if keepdims is not None else keep_dims)
    with _ops.name_scope(name, "ReduceJoin", [inputs, axis]) as scope:
        inputs = _string(inputs, "inputs")
        if axis is None:
            rank = inputs.shape.ndims
            if rank is not None:
                axis = list(range(rank - 1, -1, -1))
            else:
                axis = array_ops.range(array_ops.rank(inputs) - 1, -1, -1)
        return apply_op("ReduceJoin", [inputs, axis], {"keep_dims": keep, "separator": separator},
                        name=scope).outputs[0]


def _string_join_shape(op):
    """Non-scalar inputs share one shape; all scalars give a scalar."""
    dims = [t.shape.as_tuple() for t in op.inputs if t.shape.ndims != 0]
    if not dims:
        return _shape.TensorShape([])
    merged = dims[0]
    for d in dims[1:]:
        merged = shape_fns.merge_dims(merged, d)
    if len(dims) < len(op.inputs) and merged is None:
        return _shape.unknown_shape()  # an unknown-rank input might be a scalar too
    return _shape.TensorShape(merged)


@register_op(
    "StringJoin",
    inputs=["inputs: N * string"],
    outputs=["output: string"],
    attrs={"separator": ("string", "")},
    shape=_string_join_shape,
)
def _string_join_kernel(*inputs, separator):
    shaped = [x for x in inputs if x.ndim]
    for x in shaped[1:]:
        if x.shape != shaped[0].shape:
            raise _invalid(f"Input shapes do not match: {_shape.dims_str(shaped[0].shape)} vs. "
                           f"{_shape.dims_str(x.shape)}")
    sep = np.array(_as_bytes(separator), dtype=object)
    out = np.asarray(inputs[0], dtype=object)
    for x in inputs[1:]:
        out = out + sep + x if sep.item() else out + x
    return np.asarray(out, dtype=object).reshape(shaped[0].shape if shaped else ())


_reg.attr_minimum("StringJoin", "N", 1)
NotDifferentiable("StringJoin")


@tf_export("string_join", "strings.join")
def string_join(inputs, separator: str = "", name: str | None = None) -> _ops.Tensor:
    """Concatenates the strings of tensors of one shape (scalars repeat), element by element."""
    return apply_op("StringJoin", [[_string(x, "inputs") for x in inputs]], {"separator": separator},
                    name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# RegexReplace, RegexFullMatch (and their Static variants, for patterns known when the graph is built)
# ----------------------------------------------------------------------------------------------------------
# Regular expressions run on text, as RE2 runs on UTF-8: "." is one character, not one byte. Bytes that are no
# UTF-8 travel through as lone surrogates and come back unchanged. re.ASCII gives \d, \w, \s and \b RE2's
# ASCII meanings.
def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _compile(pattern) -> re.Pattern:
    text = _text(_as_bytes(pattern))
    try:
        return re.compile(text, re.ASCII)
    except re.error as e:
        raise _invalid(f"Invalid pattern: {text}, error: {e}") from None


def _rewriter(rewrite: str, groups: int):
    """A replacement function for RE2's rewrite syntax: \\0-\\9 insert a group, \\\\ a backslash; every other
    character is literal (Python's templates would also expand \\n, \\g<...> and so on)."""
    parts: list = []
    literal: list[str] = []
    i = 0
    while i < len(rewrite):
        c = rewrite[i]
        if c == "\\":
            nxt = rewrite[i + 1 : i + 2]
            if nxt and nxt in "0123456789":
                if int(nxt) > groups:
                    raise _invalid(f"Rewrite schema error: '\\{nxt}' not allowed: pattern has {groups} "
                                   "capturing groups")
                parts.append("".join(literal))
                literal.clear()
                parts.append(int(nxt))
            elif nxt == "\\":
                literal.append("\\")
            else:
                raise _invalid(f"Rewrite schema error: '\\' must be followed by a digit or '\\': {rewrite}")
            i += 2
            continue
        literal.append(c)
        i += 1
    parts.append("".join(literal))
    if len(parts) == 1:
        text = parts[0]
        return lambda m: text
    return lambda m: "".join(p if isinstance(p, str) else (m.group(p) or "") for p in parts)


def _replace_all(regex: re.Pattern, repl, s: str) -> str:
    """Every match replaced, with RE2's GlobalReplace rule: an empty match right where the previous match ended
    is skipped (Python's re.sub would replace it: 'baaac' with a* gives XbXXcX there, XbXcX in TF)."""
    out, pos, last_end = [], 0, -1
    while pos <= len(s):
        m = regex.search(s, pos)
        if m is None:
            break
        out.append(s[pos : m.start()])
        if m.end() == m.start() == last_end:
            out.append(s[pos : pos + 1])
            pos += 1
            continue
        out.append(repl(m))
        pos = last_end = m.end()
    out.append(s[pos:])
    return "".join(out)


def _regex_replace(inp: np.ndarray, pattern, rewrite, replace_global: bool) -> np.ndarray:
    regex = _compile(pattern)
    repl = _rewriter(_text(_as_bytes(rewrite)), regex.groups)
    if replace_global:
        return _map_bytes(lambda s: _utf8(_replace_all(regex, repl, _text(s))), inp)
    return _map_bytes(lambda s: _utf8(regex.sub(repl, _text(s), count=1)), inp)


@register_op(
    "RegexReplace",
    inputs=["input: string", "pattern: string", "rewrite: string"],
    outputs=["output: string"],
    attrs={"replace_global": ("bool", True)},
    shape=_same_shape,
)
def _regex_replace_kernel(inp, pattern, rewrite, *, replace_global):
    return _regex_replace(inp, np.asarray(pattern).item(), np.asarray(rewrite).item(), replace_global)


@register_op(
    "StaticRegexReplace",
    inputs=["input: string"],
    outputs=["output: string"],
    attrs={"pattern": ("string", _reg.REQUIRED), "rewrite": ("string", _reg.REQUIRED),
           "replace_global": ("bool", True)},
    shape=_same_shape,
)
def _static_regex_replace_kernel(inp, *, pattern, rewrite, replace_global):
    return _regex_replace(inp, pattern, rewrite, replace_global)


NotDifferentiable("RegexReplace")
NotDifferentiable("StaticRegexReplace")


@tf_export("regex_replace", "strings.regex_replace")
def regex_replace(input, pattern, rewrite, replace_global: bool = True, name: str | None = None) -> _ops.Tensor:  # noqa: A002
    """Replaces the matches of `pattern` in each string by `rewrite` (\\1 inserts a group): all matches, or
    only the first when `replace_global` is False."""
    if isinstance(pattern, (str, bytes)) and isinstance(rewrite, (str, bytes)):
        return apply_op("StaticRegexReplace", [_string(input)],
                        {"pattern": pattern, "rewrite": rewrite, "replace_global": bool(replace_global)},
                        name=name).outputs[0]
    return apply_op("RegexReplace", [_string(input), _string(pattern, "pattern"), _string(rewrite, "rewrite")],
                    {"replace_global": bool(replace_global)}, name=name).outputs[0]


def _full_match(inp: np.ndarray, pattern) -> np.ndarray:
    regex = _compile(pattern)
    return np.fromiter((regex.fullmatch(_text(s)) is not None for s in inp.reshape(-1)), dtype=bool,
                       count=inp.size).reshape(inp.shape)


@register_op("RegexFullMatch", inputs=["input: string", "pattern: string"], outputs=["output: bool"],
             shape=_same_shape)
def _regex_full_match_kernel(inp, pattern):
    return _full_match(inp, np.asarray(pattern).item())


@register_op("StaticRegexFullMatch", inputs=["input: string"], outputs=["output: bool"],
             attrs={"pattern": ("string", _reg.REQUIRED)}, shape=_same_shape)
def _static_regex_full_match_kernel(inp, *, pattern):
    return _full_match(inp, pattern)


NotDifferentiable("RegexFullMatch")
NotDifferentiable("StaticRegexFullMatch")


@tf_export("strings.regex_full_match")
def regex_full_match(input, pattern, name: str | None = None) -> _ops.Tensor:  # noqa: A002
    """Whether each whole string matches `pattern`."""
    if isinstance(pattern, (str, bytes)):
        return apply_op("StaticRegexFullMatch", [_string(input)], {"pattern": pattern}, name=name).outputs[0]
    return apply_op("RegexFullMatch", [_string(input), _string(pattern, "pattern")], name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# StringLength, StringLower, StringUpper, StringStrip
# ----------------------------------------------------------------------------------------------------------
@register_op("StringLength", inputs=["input: string"], outputs=["output: int32"],
             attrs={"unit": ("string", "BYTE")}, shape=_same_shape)
def _string_length_kernel(inp, *, unit):
    if unit == "BYTE":
        lengths = (len(s) for s in inp.reshape(-1))
    elif unit == "UTF8_CHAR":
        # every byte that does not continue a UTF-8 sequence starts a character
        lengths = (len(s) - sum(1 for b in s if b & 0xC0 == 0x80) for s in inp.reshape(-1))
    else:
        raise _invalid(f"unit must be BYTE or UTF8_CHAR, got {unit}")
    return np.fromiter(lengths, dtype=np.int32, count=inp.size).reshape(inp.shape)


NotDifferentiable("StringLength")


@tf_export("strings.length")
def string_length(input, name: str | None = None, unit: str = "BYTE") -> _ops.Tensor:  # noqa: A002
    """The length of each string in bytes, or in UTF-8 characters with unit="UTF8_CHAR"."""
    return apply_op("StringLength", [_string(input)], {"unit": unit}, name=name).outputs[0]


def _case_kernel(convert_ascii, convert_text):
    def kernel(inp, *, encoding):
        if encoding == "":
            return _map_bytes(convert_ascii, inp)
        if encoding.lower().replace("-", "") != "utf8":
            raise _invalid(f"encoding must be empty or utf-8, got {encoding}")
        return _map_bytes(lambda s: convert_text(s.decode("utf-8", "surrogateescape")).encode(
            "utf-8", "surrogateescape"), inp)

    return kernel


register_op("StringLower", inputs=["input: string"], outputs=["output: string"],
            attrs={"encoding": ("string", "")}, shape=_same_shape)(_case_kernel(bytes.lower, str.lower))
register_op("StringUpper", inputs=["input: string"], outputs=["output: string"],
            attrs={"encoding": ("string", "")}, shape=_same_shape)(_case_kernel(bytes.upper, str.upper))
NotDifferentiable("StringLower")
NotDifferentiable("StringUpper")


@tf_export("strings.lower")
def string_lower(input, encoding: str = "", name: str | None = None) -> _ops.Tensor:  # noqa: A002
    """Each string in lower case: ASCII letters only, or all of Unicode with encoding="utf-8"."""
    return apply_op("StringLower", [_string(input)], {"encoding": encoding}, name=name).outputs[0]


@tf_export("strings.upper")
def string_upper(input, encoding: str = "", name: str | None = None) -> _ops.Tensor:  # noqa: A002
    """Each string in upper case: ASCII letters only, or all of Unicode with encoding="utf-8"."""
    return apply_op("StringUpper", [_string(input)], {"encoding": encoding}, name=name).outputs[0]


@register_op("StringStrip", inputs=["input: string"], outputs=["output: string"], shape=_same_shape)
def _string_strip_kernel(inp):
    return _map_bytes(bytes.strip, inp)


NotDifferentiable("StringStrip")


@tf_export("string_strip", "strings.strip")
def string_strip(input, name: str | None = None) -> _ops.Tensor:  # noqa: A002
    """Each string without leading and trailing whitespace."""
    return apply_op("StringStrip", [_string(input)], name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# EncodeBase64, DecodeBase64 (the web-safe alphabet, - and _)
# ----------------------------------------------------------------------------------------------------------
_BASE64_RE = re.compile(rb"[A-Za-z0-9_-]*")


@register_op("EncodeBase64", inputs=["input: string"], outputs=["output: string"], attrs={"pad": ("bool", False)},
             shape=_same_shape)
def _encode_base64_kernel(inp, *, pad):
    if pad:
        return _map_bytes(base64.urlsafe_b64encode, inp)
    return _map_bytes(lambda s: base64.urlsafe_b64encode(s).rstrip(b"="), inp)


def _decode_base64(s: bytes) -> bytes:
    body = s.rstrip(b"=")
    if len(s) - len(body) > 2 or not _BASE64_RE.fullmatch(body):
        raise _invalid("Invalid character found in base64.")
    if len(body) % 4 == 1:
        raise _invalid("Base64 string length cannot be 1 modulo 4.")
    try:
        return base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4))
    except binascii.Error:
        raise _invalid("Invalid character found in base64.") from None


@register_op("DecodeBase64", inputs=["input: string"], outputs=["output: string"], shape=_same_shape)
def _decode_base64_kernel(inp):
    return _map_bytes(_decode_base64, inp)


NotDifferentiable("EncodeBase64")
NotDifferentiable("DecodeBase64")


@tf_export("encode_base64", "io.encode_base64")
def encode_base64(input, pad: bool = False, name: str | None = None) -> _ops.Tensor:  # noqa: A002
    """Each string in web-safe base64 (- and _ for + and /), with = padding only if `pad`."""
    return apply_op("EncodeBase64", [_string(input)], {"pad": bool(pad)}, name=name).outputs[0]


@tf_export("decode_base64", "io.decode_base64")
def decode_base64(input, name: str | None = None) -> _ops.Tensor:  # noqa: A002
    """Decodes web-safe base64 strings (padded or not)."""
    return apply_op("DecodeBase64", [_string(input)], name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# StringNGrams: n-grams of the rows of a ragged string tensor (values and row splits); tf.strings.ngrams runs
# it on the last axis of a dense tensor
# ----------------------------------------------------------------------------------------------------------
def _row_ngrams(tokens: list[bytes], widths, sep: bytes, left: bytes, right: bytes, pad_width: int,
                preserve_short: bool) -> list[bytes]:
    out: list[bytes] = []
    for w in widths:
        pad = w - 1 if pad_width < 0 else min(pad_width, w - 1)
        padded = [left] * pad + tokens + [right] * pad
        count = len(padded) - w + 1
        if count > 0:
            out.extend(sep.join(padded[i : i + w]) for i in range(count))
        elif preserve_short and tokens:
            out.append(sep.join(padded))  # one n-gram holding the whole (padded) short sequence
    return out


def _ngrams_shape(op):
    _check_rank(op.inputs[0].shape, 1)
    _check_rank(op.inputs[1].shape, 1)
    return [_shape.TensorShape([None]), op.inputs[1].shape]


@register_op(
    "StringNGrams",
    inputs=["data: string", "data_splits: Tsplits"],
    outputs=["ngrams: string", "ngrams_splits: Tsplits"],
    attrs={"separator": ("string", _reg.REQUIRED), "ngram_widths": ("list(int)", _reg.REQUIRED),
           "left_pad": ("string", _reg.REQUIRED), "right_pad": ("string", _reg.REQUIRED),
           "pad_width": ("int", _reg.REQUIRED), "preserve_short_sequences": ("bool", _reg.REQUIRED),
           "Tsplits": ("type", _dt.int64)},
    allowed={"Tsplits": (_dt.int32, _dt.int64)},
    shape=_ngrams_shape,
)
def _string_ngrams_kernel(data, splits, *, separator, ngram_widths, left_pad, right_pad, pad_width,
                          preserve_short_sequences):
    if splits.size and (splits[0] != 0 or splits[-1] != data.size or np.any(np.diff(splits) < 0)):
        raise _invalid(f"Invalid data_splits: they must start at 0, not decrease and end at the number of data "
                       f"values ({data.size})")
    sep, left, right = _as_bytes(separator), _as_bytes(left_pad), _as_bytes(right_pad)
    tokens = data.tolist()
    rows = [_row_ngrams(tokens[a:b], ngram_widths, sep, left, right, pad_width, preserve_short_sequences)
            for a, b in zip(splits[:-1].tolist(), splits[1:].tolist())]
    values = np.empty(sum(len(r) for r in rows), dtype=object)
    values[:] = [g for r in rows for g in r]
    out_splits = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(splits.dtype)
    return values, out_splits


NotDifferentiable("StringNGrams")


@tf_export("strings.ngrams")
def ngrams(data, ngram_width, separator: str = " ", pad_values=None, padding_width=None,
           preserve_short_sequences: bool = False, name: str | None = None) -> _ops.Tensor:
    """The n-grams of width `ngram_width` (an int or a list of them) along the last axis of the string tensor
    `data`, joined with `separator`; `pad_values` (a string, or a (left, right) pair) pads each sequence by
    `padding_width` (default width - 1); with `preserve_short_sequences` a sequence too short for any n-gram
    gives one n-gram of all of it. The result has `data`'s shape with the last axis holding the n-grams."""
    widths = [ngram_width] if isinstance(ngram_width, int) else list(ngram_width)
    if any(w <= 0 for w in widths):
        raise ValueError(f"All ngram_widths must be greater than 0. Got {ngram_width}")
    if pad_values is None:
        if padding_width is not None:
            raise ValueError("pad_values must be provided if padding_width is set.")
        left = right = ""
        pad_width = 0
    else:
        if isinstance(pad_values, (str, bytes)):
            left = right = pad_values
        elif isinstance(pad_values, (tuple, list)) and len(pad_values) == 2:
            left, right = pad_values
        else:
            raise ValueError("pad_values must be a string, tuple of strings, or None.")
        if padding_width is not None and padding_width < 1:
            raise ValueError("padding_width must be greater than 0.")
        pad_width = -1 if padding_width is None else int(padding_width)
    attrs = {"separator": separator, "ngram_widths": widths, "left_pad": left, "right_pad": right,
             "pad_width": pad_width, "preserve_short_sequences": bool(preserve_short_sequences)}
    with _ops.name_scope(name, "StringNGrams", [data]):
        data = _string(data, "data")
        rank = data.shape.ndims
        if rank == 0:
            raise ValueError("Data must have rank>0")
        if rank is None:
            raise ValueError("The rank of data must be known.")
        shape = array_ops.shape(data, out_type=_dt.int64)
        rows = math_ops.reduce_prod(shape[:-1])
        splits = array_ops.range(rows + 1, dtype=_dt.int64) * shape[-1]
        values, out_splits = apply_op("StringNGrams", [array_ops.reshape(data, [-1]), splits], attrs,
                                      name="StringNGrams").outputs
        # every row has as many n-grams as every other: the total over the number of rows
        per_row = math_ops.floordiv(out_splits[-1], math_ops.maximum(rows, 1))
        result = array_ops.reshape(values, array_ops.concat([shape[:-1], array_ops.expand_dims(per_row, 0)], 0))
        result.set_shape(data.shape[:-1].concatenate([None]))
        return result


# ----------------------------------------------------------------------------------------------------------
# UnicodeTranscode: text from one encoding to another, invalid input replaced, dropped or refused
# ----------------------------------------------------------------------------------------------------------
_OUTPUT_ENCODINGS = {"UTF-8": "utf-8", "UTF-16-BE": "utf-16-be", "UTF-32-BE": "utf-32-be"}
_C0_CONTROLS = {i: None for i in range(0x20)}


def _decode_text(data: bytes, encoding: str, errors: str, replacement: str) -> str:
    if errors == "strict":
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            raise _invalid("Invalid formatting on input string") from None
    if errors == "ignore" or replacement == "\ufffd":
        return data.decode(encoding, errors)
    # another replacement character: splice it in where each maximal invalid sequence was (the places Python's
    # "replace" handler would put U+FFFD, which the input may also hold for real)
    pieces, pos = [], 0
    while True:
        try:
            pieces.append(data[pos:].decode(encoding))
            return "".join(pieces)
        except UnicodeDecodeError as e:
            pieces.append(data[pos : pos + e.start].decode(encoding))
            pieces.append(replacement)
            pos += e.end


@register_op(
    "UnicodeTranscode",
    inputs=["input: string"],
    outputs=["output: string"],
    attrs={"input_encoding": ("string", _reg.REQUIRED), "output_encoding": ("string", _reg.REQUIRED),
           "errors": ("string", "replace"), "replacement_char": ("int", 65533),
           "replace_control_characters": ("bool", False)},
    shape=_same_shape,
)
def _unicode_transcode_kernel(inp, *, input_encoding, output_encoding, errors, replacement_char,
                              replace_control_characters):
    try:
        source = codecs.lookup(input_encoding).name
    except LookupError:
        raise _invalid(f"Could not create converter for input encoding: {input_encoding}") from None
    if not 0 <= replacement_char <= 0x10FFFF or 0xD800 <= replacement_char <= 0xDFFF:
        raise _invalid("replacement_char out of unicode codepoint range")
    replacement = chr(replacement_char)
    target = _OUTPUT_ENCODINGS[output_encoding]
    controls = {i: replacement for i in _C0_CONTROLS} if replace_control_characters else None

    def transcode(data: bytes) -> bytes:
        text = _decode_text(data, source, errors, replacement)
        return (text.translate(controls) if controls else text).encode(target)

    return _map_bytes(transcode, inp)


NotDifferentiable("UnicodeTranscode")


@tf_export("strings.unicode_transcode")
def unicode_transcode(input, input_encoding: str, output_encoding: str, errors: str = "replace",
                      replacement_char: int = 65533, replace_control_characters: bool = False,
                      name: str | None = None) -> _ops.Tensor:  # noqa: A002
    """Each string re-encoded from `input_encoding` (any encoding Python knows: UTF-8, UTF-16-BE, ISO-8859-1,
    ...) to UTF-8, UTF-16-BE or UTF-32-BE; invalid input is replaced by `replacement_char`, dropped
    (errors="ignore") or an error (errors="strict")."""
    if output_encoding not in _OUTPUT_ENCODINGS:
        raise ValueError(f"Attr 'output_encoding' of 'UnicodeTranscode' Op passed string '{output_encoding}' not "
                         'in: "UTF-8", "UTF-16-BE", "UTF-32-BE".')
    if errors not in ("strict", "replace", "ignore"):
        raise ValueError(f"Attr 'errors' of 'UnicodeTranscode' Op passed string '{errors}' not in: \"strict\", "
                         '"replace", "ignore".')
    return apply_op("UnicodeTranscode", [_string(input)],
                    {"input_encoding": input_encoding, "output_encoding": output_encoding, "errors": errors,
                     "replacement_char": int(replacement_char),
                     "replace_control_characters": bool(replace_control_characters)}, name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# tf.strings.format: tensors formatted into a template as tf.print shows them (StringFormat is declared in
# control_flow_ops, beside tf.print, which uses it)
# ----------------------------------------------------------------------------------------------------------
@tf_export("strings.format")
def string_format(template: str, inputs, placeholder: str = "{}", summarize: int = 3,
                  name: str | None = None) -> _ops.Tensor:
    """tf.strings.format: `template` with each `placeholder` replaced by the next input tensor, shown as
    tf.print shows it (the first and last `summarize` entries of each dimension)."""
    if not isinstance(inputs, (list, tuple)):
        inputs = [inputs]
    count = template.count(placeholder)
    if count != len(inputs):
        raise ValueError(f"num placeholders in template and num inputs must match: {count} vs. {len(inputs)}")
    tensors = [_ops.convert_to_tensor(x) for x in inputs]
    return apply_op("StringFormat", [tensors], {"template": template, "placeholder": placeholder,
                                                "summarize": int(summarize)}, name=name).outputs[0]
