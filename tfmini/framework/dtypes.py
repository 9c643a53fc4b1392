"""DType objects mirroring TensorFlow's `tf.DType`, with the DataType enum numbers of types.proto.

Knows NumPy only; nothing here builds graphs.
"""

from __future__ import annotations

import numpy as np

from tfmini.framework.api_export import tf_export

_REF_OFFSET = 100


@tf_export("DType", "dtypes.DType")
class DType:
    """A tensor element type: its TF name, DataType enum value and NumPy dtype."""

    __slots__ = ("_enum", "_name", "_np")

    def __init__(self, enum: int, name: str, np_type: type | None) -> None:
        self._enum = enum
        self._name = name
        self._np = np_type

    # -- identity --------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name

    @property
    def as_datatype_enum(self) -> int:
        return self._enum

    @property
    def as_numpy_dtype(self) -> type:
        return self.base_dtype._np

    @property
    def _is_ref_dtype(self) -> bool:
        return self._enum > _REF_OFFSET

    @property
    def is_ref(self) -> bool:
        return self._enum > _REF_OFFSET

    @property
    def base_dtype(self) -> DType:
        return _BY_ENUM[self._enum - _REF_OFFSET] if self.is_ref else self

    @property
    def _as_ref(self) -> DType:
        return self if self.is_ref else _BY_ENUM[self._enum + _REF_OFFSET]

    @property
    def real_dtype(self) -> DType:
        base = self.base_dtype
        return {complex64: float32, complex128: float64}.get(base, base)

    # -- classification --------------------------------------------------------
    @property
    def is_bool(self) -> bool:
        return self.base_dtype is bool_

    @property
    def is_floating(self) -> bool:
        return self.base_dtype in (float16, bfloat16, float32, float64)

    @property
    def is_complex(self) -> bool:
        return self.base_dtype in (complex64, complex128)

    @property
    def is_integer(self) -> bool:
        return self.base_dtype in _INTEGER

    @property
    def is_unsigned(self) -> bool:
        return self.base_dtype in (uint8, uint16, uint32, uint64)

    @property
    def is_quantized(self) -> bool:
        return self.base_dtype in QUANTIZED_DTYPES

    @property
    def is_numpy_compatible(self) -> bool:
        return self.base_dtype._np is not None

    @property
    def min(self):
        """The smallest value of an integer or floating type (TypeError for the others, quantized ones included)."""
        return self._limits("minimum")[0]

    @property
    def max(self):
        """The largest value of an integer or floating type (TypeError for the others, quantized ones included)."""
        return self._limits("maximum")[1]

    def _limits(self, which: str):
        # TF gives no limits for quantized types: their values stand for real numbers in a range only the ops know
        if self.base_dtype is bfloat16:  # no NumPy type: float32's exponent range with an 8-bit significand
            largest = float.fromhex("0x1.FEp127")
            return -largest, largest
        if self.is_integer:
            info = np.iinfo(self.as_numpy_dtype)
        elif self.is_floating:
            info = np.finfo(self.as_numpy_dtype)
        else:
            raise TypeError(f"Cannot find {which} value of {self}.")
        return info.min, info.max

    @property
    def size(self) -> int:
        if self.base_dtype is bfloat16:  # no NumPy type of its own (np.dtype(None) would be float64's 8 bytes)
            return 2
        return 1 if self.base_dtype is string else np.dtype(self.as_numpy_dtype).itemsize

    def is_compatible_with(self, other) -> bool:
        other = as_dtype(other)
        return self._enum in (other._enum, other.base_dtype._enum)

    # -- python protocol -------------------------------------------------------
    def __eq__(self, other) -> bool:
        if other is None:
            return False
        if isinstance(other, DType):
            return self._enum == other._enum
        try:
            return self._enum == as_dtype(other)._enum
        except TypeError:
            return False

    def __ne__(self, other) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return self._enum

    def __reduce__(self):
        return as_dtype, (self._name,)

    def __repr__(self) -> str:
        return f"tf.{self._name}"

    __str__ = __repr__


def _make(enum: int, name: str, np_type) -> DType:
    dt = DType(enum, name, np_type)
    _BY_ENUM[enum] = dt
    _BY_ENUM[enum + _REF_OFFSET] = DType(enum + _REF_OFFSET, name + "_ref", np_type)
    _BY_NAME[name] = dt
    _BY_NAME[name + "_ref"] = _BY_ENUM[enum + _REF_OFFSET]
    return dt


_BY_ENUM: dict[int, DType] = {}
_BY_NAME: dict[str, DType] = {}

float32 = _make(1, "float32", np.float32)
float64 = _make(2, "float64", np.float64)
int32 = _make(3, "int32", np.int32)
uint8 = _make(4, "uint8", np.uint8)
int16 = _make(5, "int16", np.int16)
int8 = _make(6, "int8", np.int8)
string = _make(7, "string", np.object_)
complex64 = _make(8, "complex64", np.complex64)
int64 = _make(9, "int64", np.int64)
bool_ = _make(10, "bool", np.bool_)
bfloat16 = _make(14, "bfloat16", None)
uint16 = _make(17, "uint16", np.uint16)
complex128 = _make(18, "complex128", np.complex128)
float16 = _make(19, "float16", np.float16)
resource = _make(20, "resource", np.object_)
variant = _make(21, "variant", np.object_)
qint8 = _make(11, "qint8", np.dtype([("qint8", np.int8)]))
quint8 = _make(12, "quint8", np.dtype([("quint8", np.uint8)]))
qint32 = _make(13, "qint32", np.dtype([("qint32", np.int32)]))
qint16 = _make(15, "qint16", np.dtype([("qint16", np.int16)]))
quint16 = _make(16, "quint16", np.dtype([("quint16", np.uint16)]))
uint32 = _make(22, "uint32", np.uint32)
uint64 = _make(23, "uint64", np.uint64)

half = float16
float_ = float32
double = float64

# tf.float32, tf.dtypes.float32, ...: the dtype constants under their TF names
tf_export("bfloat16", "dtypes.bfloat16").export_constant(__name__, "bfloat16")
tf_export("complex128", "dtypes.complex128").export_constant(__name__, "complex128")
tf_export("complex64", "dtypes.complex64").export_constant(__name__, "complex64")
tf_export("dtypes.float16", "dtypes.half", "float16", "half").export_constant(__name__, "float16")
tf_export("dtypes.float32", "float32").export_constant(__name__, "float32")
tf_export("double", "dtypes.double", "dtypes.float64", "float64").export_constant(__name__, "float64")
tf_export("dtypes.int16", "int16").export_constant(__name__, "int16")
tf_export("dtypes.int32", "int32").export_constant(__name__, "int32")
tf_export("dtypes.int64", "int64").export_constant(__name__, "int64")
tf_export("dtypes.int8", "int8").export_constant(__name__, "int8")
tf_export("dtypes.resource", "resource").export_constant(__name__, "resource")
tf_export("dtypes.string", "string").export_constant(__name__, "string")
tf_export("dtypes.uint16", "uint16").export_constant(__name__, "uint16")
tf_export("dtypes.uint32", "uint32").export_constant(__name__, "uint32")
tf_export("dtypes.uint64", "uint64").export_constant(__name__, "uint64")
tf_export("dtypes.uint8", "uint8").export_constant(__name__, "uint8")
tf_export("dtypes.variant", "variant").export_constant(__name__, "variant")
tf_export("bool", "dtypes.bool").export_constant(__name__, "bool_")
# The quantized types: TF 1.15 names them and reads and writes them in TensorProtos; tfmini has no quantized
# kernels, so they serve as values of dtype attrs and in comparisons, as NumPy one-field records like TF's.
tf_export("dtypes.qint8", "qint8").export_constant(__name__, "qint8")
tf_export("dtypes.quint8", "quint8").export_constant(__name__, "quint8")
tf_export("dtypes.qint16", "qint16").export_constant(__name__, "qint16")
tf_export("dtypes.quint16", "quint16").export_constant(__name__, "quint16")
tf_export("dtypes.qint32", "qint32").export_constant(__name__, "qint32")

_INTEGER = (int8, int16, int32, int64, uint8, uint16, uint32, uint64)
float32_ref = float32._as_ref
float64_ref = float64._as_ref
int32_ref = int32._as_ref
int64_ref = int64._as_ref

_ALIASES = {
    "float": float32, "double": float64, "half": float16, "bool": bool_, "str": string,
    "float_ref": float32._as_ref, "double_ref": float64._as_ref, "half_ref": float16._as_ref,
}

_FROM_NUMPY = {
    np.dtype(np.float32): float32,
    np.dtype(np.float64): float64,
    np.dtype(np.float16): float16,
    np.dtype(np.int8): int8,
    np.dtype(np.int16): int16,
    np.dtype(np.int32): int32,
    np.dtype(np.int64): int64,
    np.dtype(np.uint8): uint8,
    np.dtype(np.uint16): uint16,
    np.dtype(np.uint32): uint32,
    np.dtype(np.uint64): uint64,
    np.dtype(np.bool_): bool_,
    np.dtype(np.complex64): complex64,
    np.dtype(np.complex128): complex128,
    np.dtype(np.object_): string,
    **{qt.as_numpy_dtype: qt for qt in (qint8, quint8, qint16, quint16, qint32)},
}

_FROM_PYTHON = {float: float32, int: int32, bool: bool_, str: string, bytes: string, complex: complex128}


@tf_export("as_dtype", "dtypes.as_dtype")
def as_dtype(type_value) -> DType:
    """Converts a DType, enum number, name, NumPy type or Python type to a `DType`."""
    if isinstance(type_value, DType):
        return type_value
    if isinstance(type_value, str):
        dt = _BY_NAME.get(type_value) or _ALIASES.get(type_value)
        if dt is not None:
            return dt
    elif isinstance(type_value, int) and not isinstance(type_value, bool):
        dt = _BY_ENUM.get(type_value)
        if dt is not None:
            return dt
    elif isinstance(type_value, type) and type_value in _FROM_PYTHON:
        return _FROM_PYTHON[type_value]
    elif type_value is not None:  # np.dtype(None) would be float64; TF rejects None
        try:
            npd = np.dtype(type_value)
        except (TypeError, ValueError):  # NumPy raises ValueError for objects with an unusable `.dtype`
            npd = None
        if npd is not None:
            if npd.kind in "SU":
                return string
            if npd in _FROM_NUMPY:
                return _FROM_NUMPY[npd]
    raise TypeError(f"Cannot convert value {type_value!r} to a TensorFlow DType.")


FLOATING = (float16, float32, float64)
COMPLEX = (complex64, complex128)
SIGNED_INTEGER = (int8, int16, int32, int64)
INTEGER = _INTEGER
REAL = FLOATING + INTEGER
NUMBER = REAL + COMPLEX
ALL_TYPES = NUMBER + (bool_, string)
# the quantized types and their ref types, as TF lists them
QUANTIZED_DTYPES: frozenset = frozenset(
    {d for base in (qint8, quint8, qint16, quint16, qint32) for d in (base, base._as_ref)})
tf_export("QUANTIZED_DTYPES", "dtypes.QUANTIZED_DTYPES").export_constant(__name__, "QUANTIZED_DTYPES")

__all__ = [
    "DType", "as_dtype", "float16", "half", "float32", "float64", "double", "int8", "int16", "int32", "int64",
    "uint8", "uint16", "uint32", "uint64", "bool_", "string", "complex64", "complex128", "bfloat16",
    "resource", "variant",
]
