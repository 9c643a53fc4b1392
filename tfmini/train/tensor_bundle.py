"""TensorFlow's V2 checkpoint format, the tensor bundle: `<prefix>.index`, a table (sstable.py) mapping ""
to a BundleHeaderProto and each tensor's name to a BundleEntryProto, and `<prefix>.data-<shard>-of-<n>`
files holding the tensors' bytes. Knows files and bytes, never graphs or sessions; atomic placement of the
files is the caller's (checkpoint.py).

A numeric tensor's bytes are its elements in C order, little endian (bool: one byte each). A string
tensor's bytes are each element's length as a varint, the masked CRC32C of those lengths (each taken as a
uint32, or a uint64 when it does not fit), then the elements' bytes. An entry's crc32c is the masked CRC32C
of all of a tensor's bytes.
"""

from __future__ import annotations

import math
import os
import re
import struct
import threading

import google_crc32c
import numpy as np
from google.protobuf.message import DecodeError

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.protobuf import tensor_bundle_pb2, types_pb2
from tfmini.train import sstable

HEADER_KEY = b""
# The bundle format version TF writes (kTensorBundleVersion) and the newest this reader understands.
BUNDLE_VERSION = 1
_BIG = tensor_bundle_pb2.BundleHeaderProto.BIG
_U32 = struct.Struct("<I")
DATA_FILE_PATTERN = re.compile(r"\.data-(\d{5})-of-(\d{5})$")


def index_path(prefix: str) -> str:
    """The `.index` file of checkpoint `prefix`."""
    return os.fspath(prefix) + ".index"


def data_path(prefix: str, shard: int = 0, num_shards: int = 1) -> str:
    """Data file `shard` of a checkpoint `prefix` split into `num_shards` files."""
    return f"{os.fspath(prefix)}.data-{shard:05d}-of-{num_shards:05d}"


def _element_bytes(name: str, value) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise ValueError(f"tensor {name}: a string tensor holds a {type(value).__name__}, not bytes or str")


class _Crc:
    """A running CRC32C, fed bytes or read-only uint8 arrays."""

    def __init__(self) -> None:
        self.value = 0

    def update(self, data) -> None:
        self.value = google_crc32c.extend(self.value, data)


def _lengths_bytes(lengths: np.ndarray, byte_order: str) -> bytes:
    """The lengths as the string layout's checksum sees them: uint32 each, uint64 where one does not fit."""
    if lengths.size == 0 or int(lengths.max()) <= 0xFFFFFFFF:
        return lengths.astype(byte_order + "u4").tobytes()
    return b"".join(struct.pack(byte_order + ("I" if n <= 0xFFFFFFFF else "Q"), n) for n in lengths.tolist())


# ----------------------------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------------------------
class SlicedTensor:
    """A tensor a checkpoint stores as slices: its whole shape, and (extents, value) per slice, extents being
    (start, length) per dimension (length -1 for a whole dimension)."""

    __slots__ = ("full_shape", "slices")

    def __init__(self, full_shape, slices=()) -> None:
        self.full_shape = [int(d) for d in full_shape]
        self.slices: list[tuple[list[tuple[int, int]], np.ndarray]] = list(slices)


class BundleWriter:
    """Appends tensors to an open data file (shard 0 of 1) and builds the index that describes them.

    `add` writes each tensor's bytes as it comes, in the order given (as TF's SaveV2 does); `index_bytes`
    returns the `.index` file's contents, entries sorted by name."""

    def __init__(self, data_file) -> None:
        self._file = data_file
        self._offset = 0
        self._entries: dict[bytes, bytes] = {}
        # A sliced tensor's entry (dtype, full shape, its slices' extents), written into the index at the end.
        self._sliced: dict[bytes, tensor_bundle_pb2.BundleEntryProto] = {}

    def add(self, name: str, value) -> None:
        """Writes tensor `name` (an ndarray; object, bytes or str arrays are strings)."""
        key = name.encode("utf-8") if isinstance(name, str) else bytes(name)
        if key == HEADER_KEY or key in self._entries or key in self._sliced:
            raise ValueError(f"Adding duplicate or empty key: {name!r}")
        self._write(key, name, value)

    def add_slice(self, name: str, full_shape, extents: list[tuple[int, int]], value) -> None:
        """Writes `value` as the slice `extents` ((start, length) per dimension, length -1 for a whole
        dimension) of tensor `name`, whose whole shape is `full_shape`: the bytes under the slice's own key,
        and the slice added to the tensor's entry, as TensorFlow stores a partitioned variable."""
        key = name.encode("utf-8") if isinstance(name, str) else bytes(name)
        if key == HEADER_KEY or key in self._entries:
            raise ValueError(f"Adding duplicate or empty key: {name!r}")
        full_shape = [int(d) for d in full_shape]
        if len(extents) != len(full_shape):
            raise ValueError(f"tensor {name}: the slice {extents} has another rank than shape {full_shape}")
        arr = np.asarray(value)
        want = tuple(n if length == _FULL_EXTENT else length for (_, length), n in zip(extents, full_shape))
        if arr.shape != want:
            raise ValueError(f"tensor {name}: the slice {extents} of shape {full_shape} needs a value of shape "
                             f"{list(want)}, got {list(arr.shape)}")
        entry = self._sliced.get(key)
        if entry is None:
            entry = self._sliced[key] = tensor_bundle_pb2.BundleEntryProto()
            entry.shape.SetInParent()
            for d in full_shape:
                entry.shape.dim.add().size = d
        elif [d.size for d in entry.shape.dim] != full_shape:
            raise ValueError(f"tensor {name}: a slice of shape {full_shape} after slices of shape "
                             f"{[d.size for d in entry.shape.dim]}")
        data_key = slice_key(key, extents)
        if data_key in self._entries:
            raise ValueError(f"tensor {name}: the slice {extents} is written twice")
        dtype_enum = self._write(data_key, name, arr)
        if entry.slices and entry.dtype != dtype_enum:
            raise ValueError(f"tensor {name}: its slices have different dtypes")
        entry.dtype = dtype_enum
        proto = entry.slices.add()
        for start, length in extents:
            extent = proto.extent.add()
            if length != _FULL_EXTENT:
                extent.start = start
                extent.length = length

    def _write(self, key: bytes, name: str, value) -> int:
        """Appends one tensor's bytes under `key`; its dtype enum."""
        arr = np.asarray(value)
        entry = tensor_bundle_pb2.BundleEntryProto()
        entry.shape.SetInParent()
        for d in arr.shape:
            entry.shape.dim.add().size = d
        crc = _Crc()
        if arr.dtype.kind in "OSU":
            entry.dtype = _dt.string.as_datatype_enum
            flat = [_element_bytes(name, x) for x in arr.reshape(-1)]
            lengths = np.array([len(x) for x in flat], dtype=np.uint64)
            head = b"".join(sstable.encode_varint(len(x)) for x in flat)
            crc.update(_lengths_bytes(lengths, "<"))
            checksum = _U32.pack(sstable.mask_crc32c(crc.value))
            crc.update(checksum)
            body = b"".join(flat)
            crc.update(body)
            chunks = (head, checksum, body)
        else:
            try:
                entry.dtype = _dt.as_dtype(arr.dtype).as_datatype_enum
            except TypeError:
                raise ValueError(f"tensor {name}: a checkpoint cannot hold NumPy dtype {arr.dtype}") from None
            raw = arr.astype(arr.dtype.newbyteorder("<"), order="C", copy=False).reshape(-1).view(np.uint8)
            raw.flags.writeable = False
            crc.update(raw)
            chunks = (raw,)
        size = 0
        for chunk in chunks:
            self._file.write(chunk)
            size += len(chunk)
        entry.shard_id = 0
        entry.offset = self._offset
        entry.size = size
        entry.crc32c = sstable.mask_crc32c(crc.value)
        self._offset += size
        self._entries[key] = entry.SerializeToString()
        return entry.dtype

    def index_bytes(self) -> bytes:
        """The `.index` file for everything added so far."""
        header = tensor_bundle_pb2.BundleHeaderProto(num_shards=1)
        header.version.producer = BUNDLE_VERSION
        entries = dict(self._entries)
        entries.update((key, entry.SerializeToString()) for key, entry in self._sliced.items())
        items = [(HEADER_KEY, header.SerializeToString())] + sorted(entries.items())
        return sstable.build_table(items)


# ----------------------------------------------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------------------------------------------
def debug_line(key: bytes, dtype_enum: int, shape) -> bytes:
    """A checkpoint reader's debug_string line for one stored tensor: `name (DT_FLOAT) [2,3]`."""
    try:
        kind = types_pb2.DataType.Name(dtype_enum)
    except ValueError:
        kind = f"DataType({dtype_enum})"
    return key + f" ({kind}) [{','.join(map(str, shape))}]\n".encode()


# ----------------------------------------------------------------------------------------------------------
# Keys of slices: TF's OrderedCode encoding of (0, tensor name, rank, start and length per dimension)
# ----------------------------------------------------------------------------------------------------------
# The bits that mark an n-byte signed number in its first two bytes.
_SIGNED_HEADER = ((0, 0), (0x80, 0), (0xC0, 0), (0xE0, 0), (0xF0, 0), (0xF8, 0), (0xFC, 0), (0xFE, 0), (0xFF, 0),
                  (0xFF, 0x80), (0xFF, 0xC0))
_FULL_EXTENT = -1
_SPECIAL_BYTES = re.compile(rb"[\x00\xff]")


def _ordered_unsigned(value: int) -> bytes:
    body = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return bytes([len(body)]) + body


def _ordered_signed(value: int) -> bytes:
    magnitude = ~value if value < 0 else value
    if magnitude < 64:
        return bytes([(0x80 ^ value) & 0xFF])
    n = magnitude.bit_length() // 7 + 1
    out = bytearray((value & ((1 << 80) - 1)).to_bytes(10, "big")[10 - n:])
    out[0] ^= _SIGNED_HEADER[n][0]
    out[1] ^= _SIGNED_HEADER[n][1]
    return bytes(out)


def _ordered_string(value: bytes) -> bytes:
    """The bytes with 0x00 and 0xff escaped (0x00 0xff, 0xff 0x00), then the terminator 0x00 0x01."""
    return _SPECIAL_BYTES.sub(lambda m: b"\x00\xff" if m.group() == b"\x00" else b"\xff\x00", value) + b"\x00\x01"


def slice_key(name: bytes, extents: list[tuple[int, int]]) -> bytes:
    """The table key under which the slice `extents` ((start, length) per dimension, length -1 for a whole
    dimension) of tensor `name` is stored."""
    key = _ordered_unsigned(0) + _ordered_string(name) + _ordered_unsigned(len(extents))
    for start, length in extents:
        key += _ordered_signed(start) + _ordered_signed(length)
    return key


class _Entry:
    __slots__ = ("dtype_enum", "dtype", "shape", "shard", "offset", "size", "crc", "slices")

    def __init__(self, proto, dtype) -> None:
        self.dtype_enum = proto.dtype
        self.dtype = dtype
        self.shape = tuple(d.size for d in proto.shape.dim)
        self.shard = proto.shard_id
        self.offset = proto.offset
        self.size = proto.size
        self.crc = proto.crc32c
        # Per slice, (start, length) per dimension; length -1 is the whole dimension.
        self.slices = [[(x.start, x.length if x.HasField("length") else _FULL_EXTENT) for x in s.extent]
                       for s in proto.slices]


def _data_loss(path: str, what: str) -> _errors.DataLossError:
    return _errors.DataLossError(None, None, f"Checkpoint file {path} is corrupted: {what}")


def read_index(path: str) -> list:
    """The (key, value) pairs of the `.index` file at `path`; DataLossError naming it if it is no table."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise _errors.UnknownError(None, None, f"{path}; {e}") from None
    try:
        return sstable.read_table(data)
    except sstable.TableError as e:
        raise _errors.DataLossError(
            None, None, f"Unable to open table file {path}: Data loss: {e}: perhaps your file is in a different "
            "file format and you need to use a different restore operator?"
        ) from None


def parse_header(value) -> tensor_bundle_pb2.BundleHeaderProto | None:
    """The BundleHeaderProto in `value`, or None if the bytes are not one."""
    header = tensor_bundle_pb2.BundleHeaderProto()
    try:
        header.ParseFromString(bytes(value))
    except DecodeError:
        return None
    return header


class BundleReader:
    """Reads a V2 checkpoint: the whole `.index` up front, each tensor's bytes from its data file only when
    asked for. Corruption is a DataLossError naming the file."""

    def __init__(self, prefix: str) -> None:
        self._prefix = os.fspath(prefix)
        self._index = index_path(self._prefix)
        self._files: dict[int, object] = {}
        self._lock = threading.Lock()  # one seek-and-read at a time on the shared file objects
        self._closed = False
        items = read_index(self._index)
        if not items or items[0][0] != HEADER_KEY:
            raise _data_loss(self._index, "the table has no bundle header (its first key is not empty)")
        header = parse_header(items[0][1])
        if header is None:
            raise _data_loss(self._index, "the bundle header is not a BundleHeaderProto")
        if header.version.min_consumer > BUNDLE_VERSION or BUNDLE_VERSION in header.version.bad_consumers:
            raise _errors.UnimplementedError(
                None, None, f"Checkpoint {self._index} needs a newer bundle reader: min_consumer "
                f"{header.version.min_consumer}, this reader is version {BUNDLE_VERSION}"
            )
        if header.num_shards < 1:
            raise _data_loss(self._index, f"the header has {header.num_shards} shards")
        self._num_shards = header.num_shards
        self._byte_order = ">" if header.endianness == _BIG else "<"
        self._entries: dict[str, _Entry] = {}
        # The bytes of each slice of a sliced tensor, under keys of their own (slice_key), raw until read.
        self._slices: dict[bytes, memoryview] = {}
        for key, value in items[1:]:
            if key[:1] == b"\x00":
                self._slices[key] = value
            else:
                self._entries[self._name(key)] = self._check_entry(key, value)

    def _name(self, key: bytes) -> str:
        try:
            return key.decode("utf-8")
        except UnicodeDecodeError:
            raise _data_loss(self._index, f"key {key!r} is not UTF-8") from None

    def _check_entry(self, key: bytes, value) -> _Entry:
        proto = tensor_bundle_pb2.BundleEntryProto()
        try:
            proto.ParseFromString(bytes(value))
        except DecodeError:
            raise _data_loss(self._index, f"the entry of tensor {key!r} is not a BundleEntryProto") from None
        name = key.decode("utf-8", "replace")
        if proto.dtype <= 0 or proto.dtype > 100:
            raise _data_loss(self._index, f"tensor {name} has invalid dtype {proto.dtype}")
        if any(d.size < 0 for d in proto.shape.dim) or proto.shape.unknown_rank:
            raise _data_loss(self._index, f"tensor {name} has an incomplete shape")
        if not 0 <= proto.shard_id < self._num_shards or proto.offset < 0 or proto.size < 0:
            raise _data_loss(self._index, f"tensor {name} is at shard {proto.shard_id}, offset {proto.offset}, "
                                          f"size {proto.size}, outside a {self._num_shards}-shard bundle")
        try:
            dtype = _dt.as_dtype(proto.dtype)
        except TypeError:
            dtype = None  # a TensorFlow dtype tfmini has no type for: listed, not readable
        return _Entry(proto, dtype)

    # -- what it holds ----------------------------------------------------------
    def shapes_and_dtypes(self) -> dict:
        """{name: (shape tuple, DType or None for a TensorFlow dtype tfmini lacks)}."""
        return {name: (e.shape, e.dtype) for name, e in self._entries.items()}

    def debug_string(self) -> bytes:
        """Every stored tensor in key order, the slices of a sliced tensor in its stead."""
        stored = {name.encode("utf-8"): e for name, e in self._entries.items() if not e.slices}
        stored.update((key, self._check_entry(key, raw)) for key, raw in self._slices.items())
        return b"".join(debug_line(key, stored[key].dtype_enum, stored[key].shape) for key in sorted(stored))

    # -- reading tensors --------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            self._closed = True
            for f in self._files.values():
                f.close()
            self._files.clear()

    def _data_file(self, shard: int):
        with self._lock:
            return self._open_data_file(shard)

    def _open_data_file(self, shard: int):
        f = self._files.get(shard)
        if f is None:
            path = data_path(self._prefix, shard, self._num_shards)
            try:
                f = open(path, "rb")  # noqa: SIM115 - kept open for further reads, closed by close()
            except FileNotFoundError:
                raise _errors.DataLossError(
                    None, None, f"Checkpoint {self._prefix}: data file {path} is missing"
                ) from None
            except OSError as e:
                raise _errors.UnknownError(None, None, f"{path}; {e}") from None
            self._files[shard] = f
        return f

    def get_tensor(self, name: str) -> np.ndarray:
        """The value of tensor `name`, read and checked now (a sliced tensor is assembled from its slices)."""
        e = self._entries.get(name)
        if e is None:
            raise _errors.NotFoundError(None, None, f"Key {name} not found in checkpoint")
        if self._closed:
            raise _errors.FailedPreconditionError(None, None, f"The reader of {self._index} is closed")
        if e.dtype is None or e.dtype.as_numpy_dtype is None:
            raise _errors.UnimplementedError(
                None, None, f"Tensor {name} in checkpoint {self._prefix} has dtype "
                f"{e.dtype.name if e.dtype is not None else e.dtype_enum}, which tfmini cannot hold"
            )
        if e.slices:
            return self._read_sliced(name, e)
        return self._read_entry(f"tensor {name}", e)

    def get_slices(self, name: str) -> SlicedTensor | None:
        """Tensor `name` as the slices it is stored as (None when it is stored whole), each read and checked."""
        e = self._entries.get(name)
        if e is None or not e.slices:
            return None
        whole = self.get_tensor(name)
        out = SlicedTensor(e.shape)
        for extents in e.slices:
            bounds = tuple(slice(None) if length == _FULL_EXTENT else slice(start, start + length)
                           for start, length in extents)
            out.slices.append((extents, whole[bounds]))
        return out

    def _read_sliced(self, name: str, e: _Entry) -> np.ndarray:
        """The whole tensor, assembled from its slices once all are found disjoint, covering it, and backed
        by bytes their data files hold (so nothing is allocated for what the files only claim)."""
        pieces = []
        for extents in e.slices:
            if len(extents) != len(e.shape):
                raise _data_loss(self._index, f"tensor {name}: the slice {extents} has another rank than "
                                              f"shape {list(e.shape)}")
            bounds = [(0, n) if length == _FULL_EXTENT else (start, start + length)
                      for (start, length), n in zip(extents, e.shape)]
            if not all(0 <= lo <= hi <= n for (lo, hi), n in zip(bounds, e.shape)):
                raise _data_loss(self._index, f"tensor {name}: the slice {extents} lies outside shape {list(e.shape)}")
            key = slice_key(name.encode("utf-8"), extents)
            raw = self._slices.get(key)
            if raw is None:
                raise _data_loss(self._index, f"tensor {name}: the slice {extents} has no entry")
            part = self._check_entry(key, raw)
            want = tuple(hi - lo for lo, hi in bounds)
            if part.dtype_enum != e.dtype_enum or part.shape != want:
                raise _data_loss(self._index, f"tensor {name}: the slice {extents} holds {list(part.shape)} of dtype "
                                              f"{part.dtype_enum}, not {list(want)} of {e.dtype_enum}")
            label = f"tensor {name} (slice {extents})"
            self._check_span(label, part)
            if math.prod(want):
                for other, _, _ in pieces:
                    if all(lo < o_hi and o_lo < hi for (lo, hi), (o_lo, o_hi) in zip(bounds, other)):
                        raise _data_loss(self._index, f"tensor {name}: the slice {extents} overlaps another")
                pieces.append((bounds, part, label))
        covered = sum(math.prod(hi - lo for lo, hi in bounds) for bounds, _, _ in pieces)
        if covered != math.prod(e.shape):
            raise _data_loss(self._index, f"tensor {name}: its slices cover {covered} of {math.prod(e.shape)} "
                                          "elements")
        out = np.empty(e.shape, object if e.dtype == _dt.string else e.dtype.as_numpy_dtype)
        for bounds, part, label in pieces:
            out[tuple(slice(lo, hi) for lo, hi in bounds)] = self._read_entry(label, part)
        return out

    def _check_span(self, label: str, e: _Entry) -> str:
        """Checks that entry `e`'s bytes lie in its data file and fit its shape and dtype; returns the file."""
        path = data_path(self._prefix, e.shard, self._num_shards)
        file_size = os.fstat(self._data_file(e.shard).fileno()).st_size
        if e.offset + e.size > file_size:
            raise _data_loss(path, f"{label} needs bytes {e.offset}..{e.offset + e.size}, the file has "
                                   f"{file_size} (truncated)")
        count = math.prod(e.shape)
        if e.dtype == _dt.string:
            if count + 4 > e.size:
                raise _data_loss(path, f"{label}: {e.size} bytes cannot hold {count} strings")
        elif count * e.dtype.size != e.size:
            raise _data_loss(path, f"{label} of shape {list(e.shape)} and dtype {e.dtype.name} takes "
                                   f"{count * e.dtype.size} bytes, its entry says {e.size}")
        return path

    def _read_entry(self, label: str, e: _Entry) -> np.ndarray:
        path = self._check_span(label, e)
        f = self._data_file(e.shard)
        if e.dtype == _dt.string:
            with self._lock:
                f.seek(e.offset)
                data = f.read(e.size)
            return self._decode_strings(data, path, label, e, math.prod(e.shape))
        dtype = np.dtype(e.dtype.as_numpy_dtype)
        out = np.empty(e.shape, dtype.newbyteorder(self._byte_order))
        raw = out.reshape(-1).view(np.uint8)
        with self._lock:
            f.seek(e.offset)
            got = f.readinto(raw)
        if got != e.size:
            raise _data_loss(path, f"{label} is truncated")
        raw.flags.writeable = False
        crc = _Crc()
        crc.update(raw)
        if sstable.mask_crc32c(crc.value) != e.crc:
            raise _data_loss(path, f"{label}: checksum mismatch (CRC32C of its bytes differs from the index)")
        return out.astype(dtype, copy=False)

    def _decode_strings(self, data: bytes, path: str, label: str, e: _Entry, count: int) -> np.ndarray:
        if len(data) != e.size:
            raise _data_loss(path, f"{label} is truncated")
        buf = np.frombuffer(data, np.uint8)
        lengths, pos = _decode_varints(buf, count)
        if lengths is None:
            raise _data_loss(path, f"{label}: malformed string lengths")
        crc = _Crc()
        crc.update(_lengths_bytes(lengths, self._byte_order))
        (stored,) = struct.unpack_from(self._byte_order + "I", data, pos)
        if sstable.mask_crc32c(crc.value) != stored:
            raise _data_loss(path, f"{label}: the length checksum does not match")
        crc.update(data[pos:pos + 4])
        pos += 4
        total = sum(lengths.tolist())  # Python ints: crafted 10-byte lengths cannot wrap around to a match
        if total != e.size - pos:
            raise _data_loss(path, f"{label}: string lengths add up to {total}, the entry leaves "
                                   f"{e.size - pos} bytes")
        crc.update(data[pos:])
        if sstable.mask_crc32c(crc.value) != e.crc:
            raise _data_loss(path, f"{label}: checksum mismatch (CRC32C of its bytes differs from the index)")
        ends = (np.cumsum(lengths, dtype=np.int64) + pos).tolist()
        starts = [pos, *ends[:-1]]
        out = np.empty(count, dtype=object)
        out[:] = [data[s:t] for s, t in zip(starts, ends)]
        return out.reshape(e.shape)


def _decode_varints(buf: np.ndarray, count: int) -> tuple[np.ndarray | None, int]:
    """The first `count` varints in `buf` as uint64, and the position after them (None if malformed)."""
    if count == 0:
        return np.zeros(0, np.uint64), 0
    ends = np.flatnonzero(buf < 0x80)[:count]
    if len(ends) < count:
        return None, 0
    starts = np.concatenate(([0], ends[:-1] + 1))
    widths = ends - starts + 1
    if widths.max() > 10:
        return None, 0
    seg = buf[:ends[-1] + 1].astype(np.uint64)
    group = np.repeat(np.arange(count), widths)
    shifts = ((np.arange(len(seg)) - starts[group]) * 7).astype(np.uint64)
    values = np.bitwise_or.reduceat((seg & np.uint64(0x7F)) << shifts, starts)
    return values, int(ends[-1]) + 1
