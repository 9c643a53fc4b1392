"""LevelDB's table format (an SSTable) as TensorFlow writes it for a checkpoint's `.index` file: sorted
key/value pairs in prefix-compressed blocks, an index block, and a footer with the table magic number.

Knows bytes only: no files, protos or tensors. Layout (all integers little endian)::

    data block*  metaindex block  index block  footer
    block   = entry* uint32 restart_offset* uint32 num_restarts, then a 5-byte trailer:
              uint8 compression (0 = none) and the masked CRC32C of the block and that byte
    entry   = varint shared_key_bytes, varint unshared_key_bytes, varint value_bytes, key suffix, value
    footer  = block handle of the metaindex, of the index (varint offset, varint size), zero-padded
              to 40 bytes, then the 8-byte magic number

Each index entry maps a key at or after its block's last key (and before the next block's first) to the
block's handle.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

import google_crc32c

MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
_HANDLES_SIZE = 40
TRAILER_SIZE = 5
# TensorFlow's table options: 256 KiB blocks, a restart point every 16 entries (every entry in the index).
BLOCK_SIZE = 256 << 10
RESTART_INTERVAL = 16
_NO_COMPRESSION = 0
_SNAPPY = 1
_MASK_DELTA = 0xA282EAD8
_U32 = struct.Struct("<I")


class TableError(Exception):
    """The bytes are not a well-formed table; the caller names the file."""


def mask_crc32c(crc: int) -> int:
    """A CRC32C rotated and offset as LevelDB and TF store it, so that data holding CRCs checksums well."""
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def masked_crc32c(data) -> int:
    """The masked CRC32C of `data` (bytes or a read-only uint8 array)."""
    return mask_crc32c(google_crc32c.value(data))


def encode_varint(value: int) -> bytes:
    """LEB128: seven bits a byte, least significant first."""
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def decode_varint(buf, pos: int, limit: int, max_bytes: int = 10) -> tuple[int, int]:
    """The varint at `buf[pos:]` and the position after it; TableError if it runs past `limit`."""
    result = shift = 0
    for i in range(max_bytes):
        if pos >= limit:
            raise TableError("a varint runs past its block")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            if i == max_bytes - 1 and byte > (1 if max_bytes == 10 else 0x0F):
                raise TableError("a varint overflows 64 bits")
            return result, pos
        shift += 7
    raise TableError("a varint is longer than 64 bits")


# ----------------------------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------------------------
class _BlockBuilder:
    def __init__(self, restart_interval: int) -> None:
        self.interval = restart_interval
        self.buf = bytearray()
        self.restarts = [0]
        self.count = 0
        self.last_key = b""

    def add(self, key: bytes, value: bytes) -> None:
        shared = 0
        if self.count < self.interval:
            limit = min(len(key), len(self.last_key))
            while shared < limit and key[shared] == self.last_key[shared]:
                shared += 1
        else:
            self.restarts.append(len(self.buf))
            self.count = 0
        self.buf += encode_varint(shared) + encode_varint(len(key) - shared) + encode_varint(len(value))
        self.buf += key[shared:] + value
        self.last_key = key
        self.count += 1

    def size_estimate(self) -> int:
        return len(self.buf) + 4 * len(self.restarts) + 4

    def empty(self) -> bool:
        return not self.buf

    def finish(self) -> bytes:
        return bytes(self.buf) + struct.pack(f"<{len(self.restarts) + 1}I", *self.restarts, len(self.restarts))


def _shortest_separator(start: bytes, limit: bytes) -> bytes:
    """A short key >= `start` and < `limit` (LevelDB's bytewise comparator)."""
    n = min(len(start), len(limit))
    i = 0
    while i < n and start[i] == limit[i]:
        i += 1
    if i < n and start[i] < 0xFF and start[i] + 1 < limit[i]:
        return start[:i] + bytes([start[i] + 1])
    return start


def _short_successor(key: bytes) -> bytes:
    """A short key >= `key`."""
    for i, b in enumerate(key):
        if b != 0xFF:
            return key[:i] + bytes([b + 1])
    return key


def build_table(items: Iterable[tuple[bytes, bytes]], block_size: int = BLOCK_SIZE) -> bytes:
    """The table holding `items`, (key, value) pairs in strictly increasing key order; the same bytes
    TensorFlow's table builder writes for them (uncompressed blocks)."""
    out = bytearray()
    index = _BlockBuilder(1)
    block = _BlockBuilder(RESTART_INTERVAL)
    pending = None  # (last key of the flushed block, its handle) waiting for the next key
    last = None

    def write_block(contents: bytes) -> bytes:
        handle = encode_varint(len(out)) + encode_varint(len(contents))
        out.extend(contents)
        out.append(_NO_COMPRESSION)
        out.extend(_U32.pack(masked_crc32c(contents + bytes([_NO_COMPRESSION]))))
        return handle

    for key, value in items:
        key, value = bytes(key), bytes(value)
        if last is not None and key <= last:
            raise ValueError(f"table keys must be strictly increasing: {key!r} after {last!r}")
        if pending is not None:
            index.add(_shortest_separator(pending[0], key), pending[1])
            pending = None
        block.add(key, value)
        last = key
        if block.size_estimate() >= block_size:
            pending = (last, write_block(block.finish()))
            block = _BlockBuilder(RESTART_INTERVAL)
    if not block.empty():
        pending = (last, write_block(block.finish()))
    if pending is not None:
        index.add(_short_successor(pending[0]), pending[1])
    metaindex_handle = write_block(_BlockBuilder(RESTART_INTERVAL).finish())
    index_handle = write_block(index.finish())
    handles = metaindex_handle + index_handle
    out += handles + bytes(_HANDLES_SIZE - len(handles)) + struct.pack("<Q", MAGIC)
    return bytes(out)


# ----------------------------------------------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------------------------------------------
def _decode_handle(buf, pos: int, limit: int) -> tuple[int, int, int]:
    offset, pos = decode_varint(buf, pos, limit)
    size, pos = decode_varint(buf, pos, limit)
    return offset, size, pos


def _block_contents(data: bytes, offset: int, size: int, what: str) -> memoryview:
    """The checked contents of the block at `offset` (TableError on a bad handle, crc or compression)."""
    end = offset + size + TRAILER_SIZE
    if end > len(data) - FOOTER_SIZE:
        raise TableError(f"the {what} block at {offset} (+{size} bytes) runs past the end of the table")
    kind = data[offset + size]
    (stored,) = _U32.unpack_from(data, offset + size + 1)
    if masked_crc32c(data[offset:offset + size + 1]) != stored:
        raise TableError(f"block checksum mismatch in the {what} block at offset {offset}")
    if kind == _SNAPPY:
        raise TableError(f"the {what} block at {offset} is Snappy-compressed, which tfmini does not read")
    if kind != _NO_COMPRESSION:
        raise TableError(f"the {what} block at {offset} has unknown compression type {kind}")
    return memoryview(data)[offset:offset + size]


def _block_entries(block: memoryview, what: str) -> list[tuple[bytes, memoryview]]:
    """The (key, value) pairs of one block, in order."""
    n = len(block)
    if n < 4:
        raise TableError(f"the {what} block is {n} bytes, too short for its restart count")
    (num_restarts,) = _U32.unpack_from(block, n - 4)
    limit = n - 4 - 4 * num_restarts
    if num_restarts == 0 or limit < 0:
        raise TableError(f"the {what} block's restart count {num_restarts} does not fit it")
    entries = []
    key = b""
    pos = 0
    while pos < limit:
        shared, pos = decode_varint(block, pos, limit, 5)
        unshared, pos = decode_varint(block, pos, limit, 5)
        size, pos = decode_varint(block, pos, limit, 5)
        if shared > len(key) or pos + unshared + size > limit:
            raise TableError(f"an entry of the {what} block runs past it")
        key = key[:shared] + bytes(block[pos:pos + unshared])
        pos += unshared
        entries.append((key, block[pos:pos + size]))
        pos += size
    return entries


def read_table(data: bytes) -> list[tuple[bytes, memoryview]]:
    """All (key, value) pairs of the table `data`, in key order (TableError if it is not a sound table)."""
    if len(data) < FOOTER_SIZE:
        raise TableError(f"the file is {len(data)} bytes, too short for a table footer")
    (magic,) = struct.unpack_from("<Q", data, len(data) - 8)
    if magic != MAGIC:
        raise TableError("not an sstable (bad magic number)")
    footer = len(data) - FOOTER_SIZE
    _, _, pos = _decode_handle(data, footer, footer + _HANDLES_SIZE)
    index_offset, index_size, _ = _decode_handle(data, pos, footer + _HANDLES_SIZE)
    items: list[tuple[bytes, memoryview]] = []
    for _, handle in _block_entries(_block_contents(data, index_offset, index_size, "index"), "index"):
        offset, size, end = _decode_handle(handle, 0, len(handle))
        for key, value in _block_entries(_block_contents(data, offset, size, "data"), "data"):
            if items and key <= items[-1][0]:
                raise TableError(f"keys out of order: {key!r} after {items[-1][0]!r}")
            items.append((key, value))
    return items
