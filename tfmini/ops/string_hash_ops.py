"""String hash buckets with TensorFlow's exact numbers: StringToHashBucketFast (FarmHash's Fingerprint64),
StringToHashBucketStrong (keyed SipHash-2-4) and the deprecated StringToHashBucket (TF's Hash64, MurmurHash64A
with seed 0xDECAFCAFFE), each hash taken modulo num_buckets."""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import NotDifferentiable, apply_op, register_op

__all__ = [
    "fingerprint64",
    "fingerprint64_many",
    "legacy_hash64",
    "siphash24",
    "string_to_hash_bucket",
    "string_to_hash_bucket_fast",
    "string_to_hash_bucket_strong",
]


def _same_shape(op):
    return op.inputs[0].shape


def _string(x, name: str = "input") -> _ops.Tensor:
    return _ops.convert_to_tensor(x, dtype=_dt.string, name=name)


_M64 = (1 << 64) - 1
_K0, _K1, _K2 = 0xC3A5C85C97CB3127, 0xB492B66FBE98F273, 0x9AE16A3B2F90404F


def _u64(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 8], "little")


def _u32(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 4], "little")


def _rotr(v: int, shift: int) -> int:
    return ((v >> shift) | (v << (64 - shift))) & _M64


def _shift_mix(v: int) -> int:
    return v ^ (v >> 47)


def _hash_16(u: int, v: int, mul: int) -> int:
    a = ((u ^ v) * mul) & _M64
    a ^= a >> 47
    b = ((v ^ a) * mul) & _M64
    b ^= b >> 47
    return (b * mul) & _M64


def _hash_0_to_16(s: bytes, n: int) -> int:
    if n >= 8:
        mul = _K2 + n * 2
        a = (_u64(s, 0) + _K2) & _M64
        b = _u64(s, n - 8)
        c = (_rotr(b, 37) * mul + a) & _M64
        d = ((_rotr(a, 25) + b) * mul) & _M64
        return _hash_16(c, d, mul)
    if n >= 4:
        mul = _K2 + n * 2
        return _hash_16(n + (_u32(s, 0) << 3), _u32(s, n - 4), mul)
    if n > 0:
        y = s[0] + (s[n >> 1] << 8)
        z = n + (s[n - 1] << 2)
        return (_shift_mix(((y * _K2) ^ (z * _K0)) & _M64) * _K2) & _M64
    return _K2


def _hash_17_to_32(s: bytes, n: int) -> int:
    mul = _K2 + n * 2
    a = (_u64(s, 0) * _K1) & _M64
    b = _u64(s, 8)
    c = (_u64(s, n - 8) * mul) & _M64
    d = (_u64(s, n - 16) * _K2) & _M64
    return _hash_16((_rotr((a + b) & _M64, 43) + _rotr(c, 30) + d) & _M64,
                    (a + _rotr((b + _K2) & _M64, 18) + c) & _M64, mul)


def _hash_33_to_64(s: bytes, n: int) -> int:
    mul = _K2 + n * 2
    a = (_u64(s, 0) * _K2) & _M64
    b = _u64(s, 8)
    c = (_u64(s, n - 8) * mul) & _M64
    d = (_u64(s, n - 16) * _K2) & _M64
    y = (_rotr((a + b) & _M64, 43) + _rotr(c, 30) + d) & _M64
    z = _hash_16(y, (a + _rotr((b + _K2) & _M64, 18) + c) & _M64, mul)
    e = (_u64(s, 16) * mul) & _M64
    f = _u64(s, 24)
    g = ((y + _u64(s, n - 32)) * mul) & _M64
    h = ((z + _u64(s, n - 24)) * mul) & _M64
    return _hash_16((_rotr((e + f) & _M64, 43) + _rotr(g, 30) + h) & _M64,
                    (e + _rotr((f + a) & _M64, 18) + g) & _M64, mul)


def _weak_32(s: bytes, at: int, a: int, b: int) -> tuple[int, int]:
    w, x, y, z = _u64(s, at), _u64(s, at + 8), _u64(s, at + 16), _u64(s, at + 24)
    a = (a + w) & _M64
    b = _rotr((b + a + z) & _M64, 21)
    c = a
    a = (a + x + y) & _M64
    b = (b + _rotr(a, 44)) & _M64
    return (a + z) & _M64, (b + c) & _M64


def fingerprint64(s: bytes) -> int:
    """FarmHash's Fingerprint64 of `s` (TF's Fingerprint64), as an unsigned 64-bit int."""
    n = len(s)
    if n <= 16:
        return _hash_0_to_16(s, n)
    if n <= 32:
        return _hash_17_to_32(s, n)
    if n <= 64:
        return _hash_33_to_64(s, n)
    seed = 81
    x = seed
    y = (seed * _K1 + 113) & _M64
    z = (_shift_mix((y * _K2 + 113) & _M64) * _K2) & _M64
    v = (0, 0)
    w = (0, 0)
    x = (x * _K2 + _u64(s, 0)) & _M64
    end = ((n - 1) // 64) * 64
    last64 = end + ((n - 1) & 63) - 63
    at = 0
    while True:
        x = (_rotr((x + y + v[0] + _u64(s, at + 8)) & _M64, 37) * _K1) & _M64
        y = (_rotr((y + v[1] + _u64(s, at + 48)) & _M64, 42) * _K1) & _M64
        x ^= w[1]
        y = (y + v[0] + _u64(s, at + 40)) & _M64
        z = (_rotr((z + w[0]) & _M64, 33) * _K1) & _M64
        v = _weak_32(s, at, (v[1] * _K1) & _M64, (x + w[0]) & _M64)
        w = _weak_32(s, at + 32, (z + w[1]) & _M64, (y + _u64(s, at + 16)) & _M64)
        z, x = x, z
        at += 64
        if at == end:
            break
    mul = _K1 + ((z & 0xFF) << 1)
    at = last64
    w0 = (w[0] + ((n - 1) & 63)) & _M64
    v0 = (v[0] + w0) & _M64
    w0 = (w0 + v0) & _M64
    x = (_rotr((x + y + v0 + _u64(s, at + 8)) & _M64, 37) * mul) & _M64
    y = (_rotr((y + v[1] + _u64(s, at + 48)) & _M64, 42) * mul) & _M64
    x ^= (w[1] * 9) & _M64
    y = (y + v0 * 9 + _u64(s, at + 40)) & _M64
    z = (_rotr((z + w0) & _M64, 33) * mul) & _M64
    v = _weak_32(s, at, (v[1] * mul) & _M64, (x + w0) & _M64)
    w = _weak_32(s, at + 32, (z + w[1]) & _M64, (y + _u64(s, at + 16)) & _M64)
    z, x = x, z
    return _hash_16((_hash_16(v[0], w[0], mul) + _shift_mix(y) * _K0 + z) & _M64,
                    (_hash_16(v[1], w[1], mul) + x) & _M64, mul)


# Vectorized Fingerprint64 for strings of up to 64 bytes (the common case: words, ids, categories): the same
# arithmetic as the scalar functions above, on uint64 arrays that wrap modulo 2**64 as the C code does.
_U = np.uint64


def _vrotr(v: np.ndarray, shift: int) -> np.ndarray:
    return (v >> _U(shift)) | (v << _U(64 - shift))


def _vshift_mix(v: np.ndarray) -> np.ndarray:
    return v ^ (v >> _U(47))


def _vhash_16(u: np.ndarray, v: np.ndarray, mul: np.ndarray) -> np.ndarray:
    a = (u ^ v) * mul
    a ^= a >> _U(47)
    b = (v ^ a) * mul
    b ^= b >> _U(47)
    return b * mul


class _Padded:
    """Strings of one length class as a zero-padded byte matrix, with little-endian loads at per-row offsets."""

    def __init__(self, rows: np.ndarray) -> None:
        self.rows = rows

    @classmethod
    def of(cls, strings: list[bytes], width: int) -> _Padded:
        data = np.frombuffer(b"".join(s.ljust(width, b"\0") for s in strings), dtype=np.uint8)
        return cls(data.reshape(len(strings), width))

    def load(self, offset, size: int) -> np.ndarray:
        cols = np.asarray(offset, dtype=np.int64).reshape(-1, 1) + np.arange(size)
        cols = np.broadcast_to(cols, (self.rows.shape[0], size))
        picked = np.ascontiguousarray(np.take_along_axis(self.rows, cols, axis=1))
        return picked.view("<u8" if size == 8 else "<u4").reshape(-1).astype(np.uint64)


def _vfingerprint_0_to_16(p: _Padded, n: np.ndarray) -> np.ndarray:
    n64 = n.astype(np.uint64)
    mul = _U(_K2) + n64 * _U(2)
    out = np.full(len(n), _U(_K2))
    big = n >= 8
    if big.any():
        q = _Padded(p.rows[big])
        a = q.load(0, 8) + _U(_K2)
        b = q.load(n[big] - 8, 8)
        c = _vrotr(b, 37) * mul[big] + a
        d = (_vrotr(a, 25) + b) * mul[big]
        out[big] = _vhash_16(c, d, mul[big])
    mid = (n >= 4) & (n < 8)
    if mid.any():
        q = _Padded(p.rows[mid])
        out[mid] = _vhash_16(n64[mid] + (q.load(0, 4) << _U(3)), q.load(n[mid] - 4, 4), mul[mid])
    small = (n > 0) & (n < 4)
    if small.any():
        rows, k = p.rows[small], n[small]
        at = np.arange(len(k))
        y = rows[:, 0].astype(np.uint64) + (rows[at, k >> 1].astype(np.uint64) << _U(8))
        z = k.astype(np.uint64) + (rows[at, k - 1].astype(np.uint64) << _U(2))
        out[small] = _vshift_mix((y * _U(_K2)) ^ (z * _U(_K0))) * _U(_K2)
    return out


def _vfingerprint_17_to_32(p: _Padded, n: np.ndarray) -> np.ndarray:
    mul = _U(_K2) + n.astype(np.uint64) * _U(2)
    a = p.load(0, 8) * _U(_K1)
    b = p.load(8, 8)
    c = p.load(n - 8, 8) * mul
    d = p.load(n - 16, 8) * _U(_K2)
    return _vhash_16(_vrotr(a + b, 43) + _vrotr(c, 30) + d, a + _vrotr(b + _U(_K2), 18) + c, mul)


def _vfingerprint_33_to_64(p: _Padded, n: np.ndarray) -> np.ndarray:
    mul = _U(_K2) + n.astype(np.uint64) * _U(2)
    a = p.load(0, 8) * _U(_K2)
    b = p.load(8, 8)
    c = p.load(n - 8, 8) * mul
    d = p.load(n - 16, 8) * _U(_K2)
    y = _vrotr(a + b, 43) + _vrotr(c, 30) + d
    z = _vhash_16(y, a + _vrotr(b + _U(_K2), 18) + c, mul)
    e = p.load(16, 8) * mul
    f = p.load(24, 8)
    g = (y + p.load(n - 32, 8)) * mul
    h = (z + p.load(n - 24, 8)) * mul
    return _vhash_16(_vrotr(e + f, 43) + _vrotr(g, 30) + h, e + _vrotr(f + a, 18) + g, mul)


def fingerprint64_many(strings: np.ndarray) -> np.ndarray:
    """Fingerprint64 of every string of `strings` (any shape) as a uint64 array of that shape."""
    flat = strings.reshape(-1).tolist()
    n = np.fromiter(map(len, flat), dtype=np.int64, count=len(flat))
    out = np.empty(len(flat), dtype=np.uint64)
    for low, high, fn in ((0, 16, _vfingerprint_0_to_16), (17, 32, _vfingerprint_17_to_32),
                          (33, 64, _vfingerprint_33_to_64)):
        rows = np.flatnonzero((n >= low) & (n <= high))
        if rows.size:
            out[rows] = fn(_Padded.of([flat[i] for i in rows], max(high, 8)), n[rows])
    for i in np.flatnonzero(n > 64):
        out[i] = fingerprint64(flat[i])
    return out.reshape(strings.shape)


def _sip_round(v0: int, v1: int, v2: int, v3: int) -> tuple[int, int, int, int]:
    v0 = (v0 + v1) & _M64
    v1 = ((v1 << 13) | (v1 >> 51)) & _M64 ^ v0
    v0 = ((v0 << 32) | (v0 >> 32)) & _M64
    v2 = (v2 + v3) & _M64
    v3 = ((v3 << 16) | (v3 >> 48)) & _M64 ^ v2
    v0 = (v0 + v3) & _M64
    v3 = ((v3 << 21) | (v3 >> 43)) & _M64 ^ v0
    v2 = (v2 + v1) & _M64
    v1 = ((v1 << 17) | (v1 >> 47)) & _M64 ^ v2
    v2 = ((v2 << 32) | (v2 >> 32)) & _M64
    return v0, v1, v2, v3


def siphash24(key: tuple[int, int], s: bytes) -> int:
    """SipHash-2-4 of `s` under the 128-bit key (k0, k1) (TF's StrongKeyedHash)."""
    k0, k1 = key
    v0, v1 = k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D
    v2, v3 = k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573
    n = len(s)
    full = n - n % 8
    tail = s[full:] + bytes(7 - n % 8) + bytes([n & 0xFF])
    for m in [_u64(s, i) for i in range(0, full, 8)] + [int.from_bytes(tail, "little")]:
        v3 ^= m
        v0, v1, v2, v3 = _sip_round(*_sip_round(v0, v1, v2, v3))
        v0 ^= m
    v2 ^= 0xFF
    for _ in range(4):
        v0, v1, v2, v3 = _sip_round(v0, v1, v2, v3)
    return v0 ^ v1 ^ v2 ^ v3


def legacy_hash64(s: bytes, seed: int = 0xDECAFCAFFE) -> int:
    """TF's Hash64 (MurmurHash64A) of `s`, used by the deprecated StringToHashBucket."""
    m, r = 0xC6A4A7935BD1E995, 47
    n = len(s)
    h = (seed ^ (n * m)) & _M64
    full = n - n % 8
    for i in range(0, full, 8):
        k = (_u64(s, i) * m) & _M64
        k ^= k >> r
        k = (k * m) & _M64
        h = ((h ^ k) * m) & _M64
    if n % 8:
        h = ((h ^ int.from_bytes(s[full:], "little")) * m) & _M64
    h ^= h >> r
    h = (h * m) & _M64
    return h ^ (h >> r)


def _buckets(hash_fn, strings: np.ndarray, num_buckets: int) -> np.ndarray:
    return np.fromiter((hash_fn(s) % num_buckets for s in strings.reshape(-1)), dtype=np.int64,
                       count=strings.size).reshape(strings.shape)


@register_op("StringToHashBucketFast", inputs=["input: string"], outputs=["output: int64"],
             attrs={"num_buckets": ("int", _reg.REQUIRED)}, shape=_same_shape)
def _hash_bucket_fast_kernel(inp, *, num_buckets):
    return (fingerprint64_many(inp) % np.uint64(num_buckets)).astype(np.int64)


@register_op("StringToHashBucketStrong", inputs=["input: string"], outputs=["output: int64"],
             attrs={"num_buckets": ("int", _reg.REQUIRED), "key": ("list(int)", _reg.REQUIRED)}, shape=_same_shape)
def _hash_bucket_strong_kernel(inp, *, num_buckets, key):
    if len(key) != 2:
        raise _errors.InvalidArgumentError(None, None, f"Key must have 2 elements, got {len(key)}")
    k = (key[0] & _M64, key[1] & _M64)  # int64 attrs carry the key's unsigned bits
    return _buckets(lambda s: siphash24(k, s), inp, num_buckets)


@register_op("StringToHashBucket", inputs=["string_tensor: string"], outputs=["output: int64"],
             attrs={"num_buckets": ("int", _reg.REQUIRED)}, shape=_same_shape)
def _hash_bucket_kernel(inp, *, num_buckets):
    return _buckets(legacy_hash64, inp, num_buckets)


for _op_type in ("StringToHashBucketFast", "StringToHashBucketStrong", "StringToHashBucket"):
    _reg.attr_minimum(_op_type, "num_buckets", 1)
    NotDifferentiable(_op_type)


@tf_export("string_to_hash_bucket_fast", "strings.to_hash_bucket_fast")
def string_to_hash_bucket_fast(input, num_buckets: int, name: str | None = None) -> _ops.Tensor:  # noqa: A002
    """Each string's FarmHash Fingerprint64 modulo `num_buckets` (fast, not for adversarial input)."""
    return apply_op("StringToHashBucketFast", [_string(input)], {"num_buckets": int(num_buckets)},
                    name=name).outputs[0]


@tf_export("string_to_hash_bucket_strong", "strings.to_hash_bucket_strong")
def string_to_hash_bucket_strong(input, num_buckets: int, key, name: str | None = None) -> _ops.Tensor:  # noqa: A002
    """Each string's SipHash-2-4 under `key` (two ints) modulo `num_buckets`: a keyed hash that resists
    crafted collisions."""
    return apply_op("StringToHashBucketStrong", [_string(input)],
                    {"num_buckets": int(num_buckets), "key": [int(k) for k in key]}, name=name).outputs[0]


@tf_export("string_to_hash_bucket", "strings.to_hash_bucket")
def string_to_hash_bucket(string_tensor=None, num_buckets: int | None = None, name: str | None = None,
                          input=None) -> _ops.Tensor:  # noqa: A002
    """Each string's legacy TF Hash64 modulo `num_buckets` (deprecated in TF: use the fast or strong one);
    `input` is the newer name of `string_tensor` (tf.strings.to_hash_bucket is this same function)."""
    if (string_tensor is None) == (input is None):
        raise ValueError("Exactly one of 'string_tensor' and 'input' must be given.")
    if num_buckets is None:
        raise TypeError("string_to_hash_bucket() missing required argument 'num_buckets'")
    return apply_op("StringToHashBucket", [_string(input if string_tensor is None else string_tensor,
                                                   "string_tensor")],
                    {"num_buckets": int(num_buckets)}, name=name).outputs[0]
