"""Decoding ops: raw bytes into numbers (DecodeRaw), CSV records into columns (DecodeCSV), compressed strings
(DecodeCompressed), JSON Examples into binary ones (DecodeJSONExample), and tensors to and from serialized
TensorProtos (SerializeTensor, ParseTensor)."""

from __future__ import annotations

import base64
import json
import re
import zlib

import numpy as np
from google.protobuf import json_format
from google.protobuf.message import DecodeError

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import REQUIRED, NotDifferentiable, apply_op, register_op
from tfmini.framework.tensor_util import make_ndarray
from tfmini.ops.string_ops import parse_number
from tfmini.protobuf import example_pb2, tensor_pb2

__all__ = ["decode_compressed", "decode_csv", "decode_json_example", "decode_raw", "parse_tensor", "serialize_tensor"]


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


# ----------------------------------------------------------------------------------------------------------
# SerializeTensor, ParseTensor: a tensor as a serialized TensorProto and back
# ----------------------------------------------------------------------------------------------------------
def _tf_type_name(dtype: _dt.DType) -> str:
    """TF's DataTypeString spelling, used in its messages ('float' for float32, 'double' for float64)."""
    return {"float32": "float", "float64": "double", "float16": "half"}.get(dtype.name, dtype.name)


@register_op("SerializeTensor", inputs=["tensor: T"], outputs=["serialized: string"],
             shape=lambda op: _shape.TensorShape([]))
def _serialize_tensor_kernel(tensor):
    dtype = _dt.string if tensor.dtype == object else _dt.as_dtype(tensor.dtype)
    proto = tensor_pb2.TensorProto(dtype=dtype.as_datatype_enum)
    proto.tensor_shape.SetInParent()  # a scalar still writes its (empty) shape, as TF does
    for d in tensor.shape:
        proto.tensor_shape.dim.add(size=d)
    if dtype == _dt.string:
        proto.string_val.extend(tensor.reshape(-1).tolist())
    elif tensor.size:
        proto.tensor_content = np.ascontiguousarray(tensor, dtype=tensor.dtype.newbyteorder("<")).tobytes()
    return np.array(proto.SerializeToString(), dtype=object)


NotDifferentiable("SerializeTensor")


@tf_export("io.serialize_tensor", "serialize_tensor")
def serialize_tensor(tensor, name: str | None = None) -> _ops.Tensor:
    """The tensor as a serialized TensorProto (a scalar string), as TensorFlow writes it."""
    return apply_op("SerializeTensor", [tensor], name=name).outputs[0]


@register_op("ParseTensor", inputs=["serialized: string"], outputs=["output: out_type"],
             shape=lambda op: _shape.unknown_shape())
def _parse_tensor_kernel(serialized, *, out_type):
    if serialized.ndim != 0:
        raise _invalid(f"Expected `serialized` to be a scalar, got shape: {_shape.dims_str(serialized.shape)}")
    data = serialized.item()
    try:
        proto = tensor_pb2.TensorProto.FromString(data)
        value = make_ndarray(proto)
    except (DecodeError, TypeError, ValueError):
        raise _invalid("Could not parse `serialized` as TensorProto, base64: "
                       f"{base64.urlsafe_b64encode(data).decode()}") from None
    got, want = _dt.as_dtype(proto.dtype), _dt.as_dtype(out_type)
    if got != want:
        raise _invalid(f"Type mismatch between parsed tensor ({_tf_type_name(got)}) and dtype "
                       f"({_tf_type_name(want)})")
    return value


NotDifferentiable("ParseTensor")


@tf_export("io.parse_tensor", "parse_tensor")
def parse_tensor(serialized, out_type, name: str | None = None) -> _ops.Tensor:
    """The tensor a serialized TensorProto (a scalar string) holds; `out_type` must be its dtype."""
    return apply_op("ParseTensor", [_ops.convert_to_tensor(serialized, dtype=_dt.string)],
                    {"out_type": _dt.as_dtype(out_type)}, name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# DecodeCompressed: each string inflated from ZLIB or GZIP
# ----------------------------------------------------------------------------------------------------------
def _inflate(data: bytes, window_bits: int) -> bytes:
    if not data:
        return b""
    inflater = zlib.decompressobj(window_bits)
    try:
        out = inflater.decompress(data)
    except zlib.error as e:
        code = re.search(r"Error (-?\d+)", str(e))
        raise _errors.DataLossError(None, None, f"inflate() failed with error {code.group(1) if code else ''}: "
                                    f"{str(e).split(': ', 1)[-1]}") from None
    if not inflater.eof:
        raise _errors.DataLossError(None, None, "inflate() failed: the compressed stream is truncated")
    return out


@register_op("DecodeCompressed", inputs=["bytes: string"], outputs=["output: string"],
             attrs={"compression_type": ("string", "")}, shape=lambda op: op.inputs[0].shape)
def _decode_compressed_kernel(data, *, compression_type):
    if compression_type == "":
        return data.copy()
    if compression_type not in ("ZLIB", "GZIP"):
        raise _invalid(f"Only ZLIB, GZIP or NONE are supported compressions, got {compression_type}")
    window_bits = zlib.MAX_WBITS + (16 if compression_type == "GZIP" else 0)
    out = np.empty(data.shape, dtype=object)
    out.reshape(-1)[:] = [_inflate(s, window_bits) for s in data.reshape(-1)]
    return out


NotDifferentiable("DecodeCompressed")


@tf_export("decode_compressed", "io.decode_compressed")
def decode_compressed(bytes, compression_type: str = "", name: str | None = None) -> _ops.Tensor:
    """Each string decompressed from `compression_type` ("ZLIB", "GZIP", or "" for none)."""
    return apply_op("DecodeCompressed", [_ops.convert_to_tensor(bytes, dtype=_dt.string)],
                    {"compression_type": compression_type}, name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# DecodeJSONExample: tf.train.Example protos written in protobuf's JSON mapping, as binary protos
# ----------------------------------------------------------------------------------------------------------
def _varint(n: int) -> bytes:
    out = bytearray()
    n &= (1 << 64) - 1  # negative int64s as their two's complement, ten bytes
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _feature_bytes(feature) -> bytes:
    """A Feature as TF's JSON-to-binary writer gives it: every list value in a field of its own (not packed)."""
    kind = feature.WhichOneof("kind")
    if kind == "bytes_list":
        return _field(1, b"".join(_field(1, v) for v in feature.bytes_list.value))
    if kind == "float_list":
        values = np.asarray(feature.float_list.value, dtype="<f4").tobytes()
        return _field(2, b"".join(b"\x0d" + values[i:i + 4] for i in range(0, len(values), 4)))
    if kind == "int64_list":
        return _field(3, b"".join(b"\x08" + _varint(v) for v in feature.int64_list.value))
    return b""


def _feature_order(text: str) -> list[str]:
    """The keys of the JSON's feature map in the order the text gives them (TF writes the map that way)."""
    def pairs(value, *names):
        for key, inner in value if isinstance(value, list) else []:
            if key in names:
                return inner
        return None

    top = json.loads(text, object_pairs_hook=list)
    return [key for key, _ in pairs(pairs(top, "features"), "feature") or []]


def _json_example(text: bytes) -> bytes:
    """The binary Example the JSON `text` spells, with TF's bytes: fields in the JSON's order, lists unpacked."""
    try:
        decoded = text.decode("utf-8")
        example = json_format.Parse(decoded, example_pb2.Example())
    except (json_format.ParseError, UnicodeDecodeError) as e:
        raise _invalid(f"Error while parsing JSON: {e}") from None
    if not example.HasField("features"):
        return b""
    features = example.features.feature
    order = list(dict.fromkeys(k for k in _feature_order(decoded) if k in features))
    order += sorted(k for k in features if k not in set(order))
    entries = b"".join(_field(1, _field(1, k.encode("utf-8")) + _field(2, _feature_bytes(features[k])))
                       for k in order)
    return _field(1, entries)


@register_op("DecodeJSONExample", inputs=["json_examples: string"], outputs=["binary_examples: string"],
             shape=lambda op: op.inputs[0].shape)
def _decode_json_example_kernel(json_examples):
    out = np.empty(json_examples.shape, dtype=object)
    out.reshape(-1)[:] = [_json_example(s) for s in json_examples.reshape(-1)]
    return out


NotDifferentiable("DecodeJSONExample")


@tf_export("decode_json_example", "io.decode_json_example")
def decode_json_example(json_examples, name: str | None = None) -> _ops.Tensor:
    """Each JSON string (protobuf's JSON form of a tf.train.Example, e.g. {"features": {"feature": {"a":
    {"int64List": {"value": [1]}}}}}) as a serialized binary Example, ready for parse_example."""
    return apply_op("DecodeJSONExample", [_ops.convert_to_tensor(json_examples, dtype=_dt.string)],
                    name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# DecodeRaw
# ----------------------------------------------------------------------------------------------------------
_RAW_TYPES = (_dt.float16, _dt.float32, _dt.float64, _dt.int32, _dt.uint16, _dt.uint8, _dt.int16, _dt.int8,
              _dt.int64, _dt.complex64, _dt.complex128, _dt.bool_)


def _decode_raw_shape(op):
    return op.inputs[0].shape.concatenate([None])


@register_op(
    "DecodeRaw",
    inputs=["bytes: string"],
    outputs=["output: out_type"],
    attrs={"little_endian": ("bool", True)},
    allowed={"out_type": _RAW_TYPES},
    shape=_decode_raw_shape,
)
def _decode_raw_kernel(data, *, out_type, little_endian):
    dtype = np.dtype(_dt.as_dtype(out_type).as_numpy_dtype).newbyteorder("<" if little_endian else ">")
    flat = data.reshape(-1)
    if flat.size == 0:
        return np.zeros([*data.shape, 0], dtype=dtype.newbyteorder("="))
    width = len(flat[0])
    if width % dtype.itemsize:
        raise _invalid(f"Input to DecodeRaw has length {width} that is not a multiple of {dtype.itemsize}, the size "
                       f"of {_dt.as_dtype(out_type).name}")
    for i, s in enumerate(flat):
        if len(s) != width:
            # TF's wording names the first string's size first
            raise _invalid(f"DecodeRaw requires input strings to all be the same size, but element {i} has size "
                           f"{width} != {len(s)}")
    values = np.frombuffer(b"".join(flat), dtype=dtype).astype(dtype.newbyteorder("="))
    return values.reshape([*data.shape, width // dtype.itemsize])


NotDifferentiable("DecodeRaw")


@tf_export("decode_raw", "io.decode_raw")
def decode_raw(input_bytes=None, out_type=None, little_endian: bool = True, name: str | None = None,
               bytes=None) -> _ops.Tensor:
    """Reinterprets the bytes of each string as a vector of `out_type` numbers (all strings the same length)."""
    if (input_bytes is None) == (bytes is None):
        raise ValueError("Exactly one of input_bytes and bytes must be given.")
    if out_type is None:
        raise TypeError("decode_raw() missing required argument 'out_type'")
    return apply_op("DecodeRaw", [input_bytes if bytes is None else bytes],
                    {"out_type": _dt.as_dtype(out_type), "little_endian": bool(little_endian)}, name=name).outputs[0]


# ----------------------------------------------------------------------------------------------------------
# DecodeCSV
# ----------------------------------------------------------------------------------------------------------
_CSV_TYPES = (_dt.float32, _dt.float64, _dt.int32, _dt.int64, _dt.string)


def _decode_csv_shape(op):
    for d in op.inputs[1:]:
        dims = d.shape.as_tuple()
        if dims is not None and (len(dims) > 1 or (len(dims) == 1 and (dims[0] or 0) > 1)):
            raise ValueError("Shape of a default must be a length-0 or length-1 vector, or a scalar.")
    return [op.inputs[0].shape] * (len(op.inputs) - 1)


@register_op(
    "DecodeCSV",
    inputs=["records: string", "record_defaults: OUT_TYPE"],
    outputs=["output: OUT_TYPE"],
    attrs={"OUT_TYPE": ("list(type)", REQUIRED), "field_delim": ("string", ","), "use_quote_delim": ("bool", True),
           "na_value": ("string", ""), "select_cols": ("list(int)", [])},
    allowed={"OUT_TYPE": (_dt.float32, _dt.float64, _dt.int32, _dt.int64, _dt.string)},
    shape=_decode_csv_shape,
)
def _decode_csv_kernel(records, *defaults, field_delim, use_quote_delim, na_value, select_cols):
    delim = field_delim.encode() if isinstance(field_delim, str) else field_delim
    na = na_value.encode() if isinstance(na_value, str) else na_value
    if len(delim) != 1:
        raise _invalid("field_delim should be only 1 char")
    select = list(select_cols)
    if select:
        if any(c < 0 for c in select):
            raise _invalid("select_cols contains negative values.")
        if any(b <= a for a, b in zip(select, select[1:])):
            raise _invalid("select_cols is not strictly increasing.")
        if len(select) != len(defaults):
            raise _invalid("Length of select_cols and record_defaults do not match.")
    for d in defaults:
        if d.size > 1:
            raise _invalid("Shape of a default must be a length-0 or length-1 vector, or a scalar.")
    n_out = len(defaults)
    flat = records.reshape(-1)
    columns: list[list] = [[] for _ in range(n_out)]
    for i, record in enumerate(flat):
        fields = _split_csv(record, delim, use_quote_delim)
        if select:
            if len(fields) <= select[-1]:
                present = sum(1 for c in select if c < len(fields))  # TF counts the selected fields found
                raise _invalid(f"Expect {len(select)} fields but have {present} in record {i}")
            fields = [fields[c] for c in select]
        elif len(fields) != n_out:
            raise _invalid(f"Expect {n_out} fields but have {len(fields)} in record {i}")
        for f, field in enumerate(fields):
            columns[f].append(field)
    return [_csv_column(col, d, f, na, records.shape) for f, (col, d) in enumerate(zip(columns, defaults))]


def _split_csv(record: bytes, delim: bytes, use_quote_delim: bool) -> list[bytes]:
    """The fields of one CSV record, with TF's rules: an empty record has no fields, a quoted field may hold
    delimiters and doubled quotes, an unquoted one no quote or line break."""
    if not record:
        return []
    if not use_quote_delim:
        return record.split(delim)
    if b'"' not in record:
        if b"\n" in record or b"\r" in record:
            raise _invalid("Unquoted fields cannot have quotes/CRLFs inside")
        return record.split(delim)
    fields = []
    pos, n = 0, len(record)
    while True:
        if record[pos : pos + 1] == b'"':
            buf = bytearray()
            pos += 1
            while True:
                end = record.find(b'"', pos)
                if end < 0:
                    raise _invalid("Quoted field has to end with quote followed by delim or end")
                buf += record[pos:end]
                if record[end + 1 : end + 2] == b'"':  # "" inside quotes is one quote
                    buf += b'"'
                    pos = end + 2
                    continue
                pos = end + 1
                break
            if pos < n and record[pos : pos + 1] != delim:
                raise _invalid("Quote inside a string has to be escaped by another quote")
            fields.append(bytes(buf))
        else:
            end = record.find(delim, pos)
            end = n if end < 0 else end
            field = record[pos:end]
            if b'"' in field or b"\n" in field or b"\r" in field:
                raise _invalid("Unquoted fields cannot have quotes/CRLFs inside")
            fields.append(field)
            pos = end
        if pos >= n:
            return fields
        pos += 1  # past the delimiter
        if pos == n:
            fields.append(b"")
            return fields


def _csv_column(fields: list[bytes], default: np.ndarray, f: int, na: bytes, shape) -> np.ndarray:
    dtype = _dt.string if default.dtype == object else _dt.as_dtype(default.dtype)
    np_type = dtype.as_numpy_dtype
    out = np.empty(len(fields), dtype=np_type)
    fallback = default.reshape(-1)[0] if default.size else None
    for i, field in enumerate(fields):
        if not field or field == na:
            if fallback is None:
                raise _invalid(f"Field {f} is required but missing in record {i}!")
            out[i] = fallback
        elif dtype == _dt.string:
            out[i] = field
        else:
            value = parse_number(field, dtype)
            if value is None:
                name = {_dt.float32: "float", _dt.float64: "double"}.get(dtype, dtype.name)
                raise _invalid(f"Field {f} in record {i} is not a valid {name}: {field.decode('latin-1')}")
            out[i] = value
    return out.reshape(shape)


NotDifferentiable("DecodeCSV")


@tf_export("decode_csv", "io.decode_csv")
def decode_csv(records, record_defaults, field_delim: str = ",", use_quote_delim: bool = True,
               name: str | None = None, na_value: str = "", select_cols=None) -> list[_ops.Tensor]:
    """Splits CSV `records` into one tensor per column, of the dtype of that column's entry of
    `record_defaults` (a one-element default, or an empty one for a required column)."""
    if select_cols is not None and len(select_cols) != len(record_defaults):
        raise ValueError("Length of select_cols and record_defaults do not match.")
    if select_cols is not None and any(b <= a for a, b in zip(select_cols, select_cols[1:])):
        raise ValueError("select_cols is not strictly increasing.")
    if select_cols is not None and any(c < 0 for c in select_cols):
        raise ValueError("select_cols contains negative values.")
    with _ops.name_scope(name, "DecodeCSV", [records]):
        defaults = [_csv_default(d, i) for i, d in enumerate(record_defaults)]
        op = apply_op(
            "DecodeCSV", [records, defaults],
            {"field_delim": field_delim, "use_quote_delim": bool(use_quote_delim), "na_value": na_value,
             "select_cols": list(select_cols or [])},
            name="DecodeCSV",
        )
    return op.outputs


def _csv_default(value, index: int) -> _ops.Tensor:
    if isinstance(value, _ops.Tensor):
        tensor = value
    else:
        tensor = _ops.convert_to_tensor(value, name=f"record_defaults_{index}")
    if tensor.dtype.base_dtype not in _CSV_TYPES:
        raise TypeError(f"Value passed to parameter 'record_defaults' has DataType {tensor.dtype.base_dtype.name} "
                        "not in list of allowed values: float32, float64, int32, int64, string")
    return tensor
