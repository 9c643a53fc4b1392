"""TFRecord files: the framing (length, masked CRC32C of the length, data, masked CRC32C of the data), ZLIB
and GZIP compression, a writer and a reading iterator. Knows files and bytes only, no graphs or ops.

A record is stored as::

    uint64 length (little endian)
    uint32 masked_crc32c(length bytes)
    byte   data[length]
    uint32 masked_crc32c(data)

Compressed files are one zlib (RFC 1950) or gzip (RFC 1952) stream over that framing, deflated with TF's
zlib settings (memLevel 9, no gzip name or time), so the bytes written here are the bytes TensorFlow writes.
"""

from __future__ import annotations

import os
import stat
import struct
import zlib
from collections.abc import Iterator
from typing import Any, BinaryIO

import google_crc32c

from tfmini.framework import errors
from tfmini.framework.api_export import tf_export

__all__ = [
    "TFRecordCompressionType",
    "TFRecordOptions",
    "TFRecordWriter",
    "tf_record_iterator",
    "masked_crc32c",
]

_HEADER = struct.Struct("<QI")  # length, masked crc of the length
_FOOTER = struct.Struct("<I")  # masked crc of the data
_LENGTH = struct.Struct("<Q")
_MASK_DELTA = 0xA282EAD8
_READ_CHUNK = 1 << 16

# TF's ZlibCompressionOptions defaults (zlib_compression_options.h); GZIP adds 16 to the window bits.
_ZLIB_DEFAULTS = {
    "flush_mode": zlib.Z_NO_FLUSH,
    "input_buffer_size": 256 << 10,
    "output_buffer_size": 256 << 10,
    "window_bits": zlib.MAX_WBITS,
    "compression_level": zlib.Z_DEFAULT_COMPRESSION,
    "compression_method": zlib.DEFLATED,
    "mem_level": 9,
    "compression_strategy": zlib.Z_DEFAULT_STRATEGY,
}


def masked_crc32c(data: bytes) -> int:
    """The CRC32C of `data`, rotated right by 15 bits plus a constant: TFRecord's checksum, which stays
    meaningful when records that hold CRCs are themselves checksummed."""
    crc = google_crc32c.value(bytes(data))
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


@tf_export("io.TFRecordCompressionType", "python_io.TFRecordCompressionType")
class TFRecordCompressionType:
    """The compression of a TFRecord file."""

    NONE = 0
    ZLIB = 1
    GZIP = 2


@tf_export("io.TFRecordOptions", "python_io.TFRecordOptions")
class TFRecordOptions:
    """How a TFRecord file is compressed: `compression_type` ("", "ZLIB", "GZIP" or a
    `TFRecordCompressionType`) and zlib's settings for writing (None keeps TF's default for each)."""

    compression_type_map = {
        TFRecordCompressionType.ZLIB: "ZLIB",
        TFRecordCompressionType.GZIP: "GZIP",
        TFRecordCompressionType.NONE: "",
    }

    def __init__(
        self,
        compression_type: Any = None,
        flush_mode: int | None = None,
        input_buffer_size: int | None = None,
        output_buffer_size: int | None = None,
        window_bits: int | None = None,
        compression_level: int | None = None,
        compression_method: int | None = None,
        mem_level: int | None = None,
        compression_strategy: int | None = None,
    ) -> None:
        self.get_compression_type_string(compression_type)  # refuses an unknown type now
        self.compression_type = compression_type
        self.flush_mode = flush_mode
        self.input_buffer_size = input_buffer_size
        self.output_buffer_size = output_buffer_size
        self.window_bits = window_bits
        self.compression_level = compression_level
        self.compression_method = compression_method
        self.mem_level = mem_level
        self.compression_strategy = compression_strategy

    @classmethod
    def get_compression_type_string(cls, options: Any) -> str:
        """The compression of `options` (a TFRecordOptions, a TFRecordCompressionType value or a string)
        as "", "ZLIB" or "GZIP"; ValueError for anything else."""
        if not options:
            return ""
        if isinstance(options, TFRecordOptions):
            return cls.get_compression_type_string(options.compression_type)
        if isinstance(options, (int, str)):
            if options in cls.compression_type_map:
                return cls.compression_type_map[options]
            if options in cls.compression_type_map.values():
                return options
        raise ValueError(f'Not a valid compression_type: "{options}"')

    def _zlib_settings(self) -> dict:
        """zlib's settings for a writer: TF's defaults for the compression type, then the ones given here."""
        settings = dict(_ZLIB_DEFAULTS)
        if self.get_compression_type_string(self) == "GZIP":
            settings["window_bits"] += 16
        for key in settings:
            value = getattr(self, key)
            if value is not None:
                settings[key] = int(value)
        return settings


def _as_options(options: Any) -> TFRecordOptions:
    return options if isinstance(options, TFRecordOptions) else TFRecordOptions(compression_type=options)


def _open(path: Any, mode: str) -> BinaryIO:
    """The file at `path`, with TF's error classes for a missing or unusable one."""
    name = _path_str(path)
    try:
        return open(name, mode)  # the caller owns and closes it
    except FileNotFoundError:
        raise errors.NotFoundError(None, None, f"{name}; No such file or directory") from None
    except IsADirectoryError:
        raise errors.FailedPreconditionError(None, None, f"{name}; Is a directory") from None
    except PermissionError:
        raise errors.PermissionDeniedError(None, None, f"{name}; Permission denied") from None


def _path_str(path: Any) -> str:
    return path.decode() if isinstance(path, bytes) else str(path)


def _as_record_bytes(record: Any) -> bytes:
    if isinstance(record, str):
        return record.encode("utf-8")
    if isinstance(record, (bytes, bytearray, memoryview)):
        return bytes(record)
    raise TypeError(f"A record must be bytes or str, got {type(record).__name__}")


class _DeflateSink:
    """TF's ZlibOutputBuffer: appends go to an input buffer of `input_buffer_size` bytes that is deflated with
    `flush_mode` when the next append does not fit (or directly when it never fits). With Z_NO_FLUSH deflate's
    output does not depend on how the input is split, so the buffer is skipped."""

    def __init__(self, file: BinaryIO, settings: dict) -> None:
        try:
            self._deflate = zlib.compressobj(
                settings["compression_level"],
                settings["compression_method"],
                settings["window_bits"],
                settings["mem_level"],
                settings["compression_strategy"],
            )
        except (ValueError, zlib.error) as e:
            raise errors.InvalidArgumentError(None, None, f"Invalid zlib compression options: {e}") from None
        self._file = file
        self._flush_mode = settings["flush_mode"]
        self._capacity = settings["input_buffer_size"]
        self._pending = bytearray()

    def append(self, data: bytes) -> None:
        if self._flush_mode == zlib.Z_NO_FLUSH:
            self._file.write(self._deflate.compress(data))
            return
        if len(data) <= self._capacity - len(self._pending):
            self._pending += data
            return
        self._deflate_pending(self._flush_mode)
        if len(data) <= self._capacity:
            self._pending += data
            return
        self._file.write(self._deflate.compress(data) + self._deflate.flush(self._flush_mode))

    def _deflate_pending(self, mode: int) -> None:
        out = self._deflate.compress(bytes(self._pending))
        self._pending.clear()
        if mode != zlib.Z_NO_FLUSH:
            out += self._deflate.flush(mode)
        self._file.write(out)

    def flush(self) -> None:
        self._deflate_pending(zlib.Z_PARTIAL_FLUSH)  # what TF's writer does on flush()
        self._file.flush()

    def close(self) -> None:
        self._deflate_pending(zlib.Z_FINISH)
        self._file.close()


class _PlainSink:
    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self.append = file.write

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()


@tf_export("io.TFRecordWriter", "python_io.TFRecordWriter")
class TFRecordWriter:
    """Writes records to a TFRecord file at `path` (created or truncated now), compressed as `options` says
    (a TFRecordOptions or a compression type). Use `write`, `flush` and `close`, or a `with` block."""

    def __init__(self, path: Any, options: Any = None) -> None:
        opts = _as_options(options)
        file = _open(path, "wb")
        if opts.get_compression_type_string(opts):
            try:
                self._sink = _DeflateSink(file, opts._zlib_settings())
            except errors.OpError:
                file.close()
                raise
        else:
            self._sink = _PlainSink(file)
        self._closed = False

    def write(self, record: bytes) -> None:
        """Appends one record."""
        if self._closed:
            raise errors.FailedPreconditionError(None, None, "Writer is closed.")
        data = _as_record_bytes(record)
        length = _LENGTH.pack(len(data))
        self._sink.append(_HEADER.pack(len(data), masked_crc32c(length)))
        self._sink.append(data)
        self._sink.append(_FOOTER.pack(masked_crc32c(data)))

    def flush(self) -> None:
        """Pushes what was written so far to the file (compressed files end their current deflate block)."""
        if self._closed:
            raise errors.FailedPreconditionError(None, None, "Writer is closed.")
        self._sink.flush()

    def close(self) -> None:
        """Finishes the file; closing twice is harmless."""
        if not self._closed:
            self._closed = True
            self._sink.close()

    def __del__(self) -> None:
        # as TF's writer does when destroyed: a writer never closed still leaves a complete file
        if not getattr(self, "_closed", True):
            self.close()

    def __enter__(self) -> TFRecordWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class _InflateSource:
    """Reads the decompressed bytes of a zlib or gzip stream, `n` at a time."""

    def __init__(self, file: BinaryIO, window_bits: int) -> None:
        self._file = file
        self._inflate = zlib.decompressobj(window_bits)
        self._out = bytearray()

    def read(self, n: int) -> bytes:
        while len(self._out) < n and not self._inflate.eof:
            chunk = self._inflate.unconsumed_tail or self._file.read(_READ_CHUNK)
            if not chunk:
                break
            try:
                self._out += self._inflate.decompress(chunk, max(n - len(self._out), _READ_CHUNK))
            except zlib.error as e:
                raise errors.DataLossError(None, None, f"corrupted compressed stream: {e}") from None
        data = bytes(self._out[:n])
        del self._out[:n]
        return data

    def close(self) -> None:
        self._file.close()


_MAX_READ = 1 << 24


def _read_at_most(source: Any, n: int, file: BinaryIO | None) -> bytes:
    """Up to `n` bytes of `source`, fewer at its end. A record header's length is read from the file, so it
    never sizes an allocation by itself: a plain `file` gives no more than the bytes it has left (known from
    its size), and a stream is read in bounded pieces until it ends or `n` bytes have come."""
    if file is not None:
        info = os.fstat(file.fileno())
        if stat.S_ISREG(info.st_mode):
            if n > info.st_size - file.tell():
                return b""  # cut short: the caller reports the truncated record
            return file.read(n)
    if n <= _MAX_READ:
        return source.read(n)
    pieces, have = [], 0
    while have < n:
        piece = source.read(min(_MAX_READ, n - have))
        if not piece:
            break
        pieces.append(piece)
        have += len(piece)
    return b"".join(pieces)


def _read_records(path: Any, compression: str) -> Iterator[bytes]:
    file = _open(path, "rb")
    if compression:
        source: Any = _InflateSource(file, zlib.MAX_WBITS + (16 if compression == "GZIP" else 0))
    else:
        source = file
    try:
        offset = 0
        while True:
            header = source.read(_HEADER.size)
            if len(header) < _HEADER.size:
                return  # TF ends quietly at a clean end and at a header cut short
            length, length_crc = _HEADER.unpack(header)
            if masked_crc32c(header[:8]) != length_crc:
                raise errors.DataLossError(None, None, f"corrupted record at {offset}")
            body = _read_at_most(source, length + _FOOTER.size, None if compression else file)
            if len(body) < length + _FOOTER.size:
                raise errors.DataLossError(None, None, f"truncated record at {offset}")
            data = body[:length]
            if masked_crc32c(data) != _FOOTER.unpack_from(body, length)[0]:
                # TF names where the checksummed part starts: the data, past the header
                raise errors.DataLossError(None, None, f"corrupted record at {offset + _HEADER.size}")
            yield data
            offset += _HEADER.size + length + _FOOTER.size
    finally:
        source.close()


@tf_export("io.tf_record_iterator", "python_io.tf_record_iterator")
def tf_record_iterator(path: Any, options: Any = None) -> Iterator[bytes]:
    """An iterator over the records of the TFRecord file at `path` (`options`: a TFRecordOptions or a
    compression type). The file is opened when iteration starts; a damaged record raises DataLossError,
    a missing file NotFoundError."""
    return _read_records(path, TFRecordOptions.get_compression_type_string(options))
