"""The tf.data file dataset ops: TFRecordDataset (records of TFRecord files, through
framework/record_io), TextLineDataset (lines of text files), FixedLengthRecordDatasetV2 (fixed-size
records between a header and a footer) and CSVDataset (the fields of CSV records), each over one or more
files, uncompressed, ZLIB or GZIP. Files are opened when an iterator reaches them and read as elements are
asked for."""

from __future__ import annotations

import io
import os
import re
import zlib
from collections.abc import Callable, Iterator

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework.record_io import TFRecordOptions, tf_record_iterator
from tfmini.framework.registry import import_only_attr
from tfmini.ops.dataset_ops import (
    DatasetValue,
    ElementIterator,
    dims_str,
    register_dataset_op,
    scalar_int,
    scalar_text,
)
from tfmini.ops.string_ops import number_parser

_READ_CHUNK = 1 << 16


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


def _filenames(value, op_type: str) -> list[str]:
    if np.ndim(value) > 1:
        raise _invalid(f"{op_type}: `filenames` must be a scalar or a vector, got shape "
                       f"{dims_str(np.shape(value))}.")
    # surrogateescape: a name that is not UTF-8 still opens the file it names (as in io_ops).
    return [f.decode("utf-8", errors="surrogateescape") if isinstance(f, bytes) else str(f)
            for f in np.asarray(value, dtype=object).reshape(-1)]


def _compression(value, op_type: str) -> str:
    v = value[()] if isinstance(value, np.ndarray) else value
    text = v.decode() if isinstance(v, bytes) else str(v)
    try:
        return TFRecordOptions.get_compression_type_string(text)
    except ValueError:
        raise _invalid(f"{op_type}: Unsupported compression_type: {text}.") from None


def _file_access(op: _ops.Operation) -> str:
    return "the files named by its 'filenames' input"


class _ZlibReader(io.RawIOBase):
    """The decompressed bytes of a ZLIB or GZIP file, read as they are asked for."""

    def __init__(self, file, gzip: bool) -> None:
        self._file = file
        self._inflate = zlib.decompressobj(zlib.MAX_WBITS + (16 if gzip else 0))
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            if self._inflate.eof:
                return 0
            chunk = self._inflate.unconsumed_tail or self._file.read(_READ_CHUNK)
            if not chunk:
                return 0
            try:
                self._pending = self._inflate.decompress(chunk, _READ_CHUNK)
            except zlib.error as e:
                raise _errors.DataLossError(None, None, f"corrupted compressed stream: {e}") from None
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        self._file.close()
        super().close()


def open_stream(path: str, compression: str, buffer_size: int):
    """A buffered binary stream of `path`'s (decompressed) bytes, with TF's errors for a missing file."""
    try:
        raw = open(path, "rb")  # closed by the reading iterator when it is done with the file
    except FileNotFoundError:
        raise _errors.NotFoundError(None, None, f"{path}; No such file or directory") from None
    except IsADirectoryError:
        raise _errors.FailedPreconditionError(None, None, f"{path}; Is a directory") from None
    except PermissionError:
        raise _errors.PermissionDeniedError(None, None, f"{path}; Permission denied") from None
    if not compression:
        return raw
    return io.BufferedReader(_ZlibReader(raw, compression == "GZIP"), max(buffer_size, io.DEFAULT_BUFFER_SIZE))


class _FilesIter(ElementIterator):
    """The elements of several files in turn: `read(path)` gives an iterator of one file's records (bytes).
    An error while reading a file ends that file; the next call goes on with the next one."""

    __slots__ = ("_paths", "_read", "_current")

    def __init__(self, paths: list[str], read: Callable[[str], Iterator[bytes]]) -> None:
        self._paths = list(reversed(paths))
        self._read = read
        self._current: Iterator[bytes] | None = None

    def __next__(self) -> tuple:
        while True:
            if self._current is None:
                if not self._paths:
                    raise StopIteration
                self._current = self._read(self._paths.pop())
            try:
                record = next(self._current)
            except StopIteration:
                self._current = None
                continue
            except BaseException:
                close = getattr(self._current, "close", None)
                self._current = None
                if close is not None:
                    close()
                raise
            return self._element(record)

    @staticmethod
    def _element(record) -> tuple:
        return (np.array(record, dtype=object),)


def _reader_op(name: str, inputs: list, doc: str, parse: Callable) -> None:
    """Declares a file dataset op whose kernel `parse(op, *inputs) -> (paths, read)` reads its inputs."""

    def factory(op: _ops.Operation, ctx) -> Callable:
        def run(*inputs):
            paths, read = parse(op, *inputs)
            return DatasetValue(lambda: _FilesIter(paths, read), op.name)

        return run

    register_dataset_op(name, inputs, factory=factory, doc=doc, file_access=_file_access, structure_attrs=False)


# ----------------------------------------------------------------------------------------------------------
# TFRecordDataset
# ----------------------------------------------------------------------------------------------------------
def _tfrecord_inputs(op, filenames, compression_type, buffer_size):
    paths = _filenames(filenames, op.type)
    compression = _compression(compression_type, op.type)
    if scalar_int(buffer_size, "buffer_size", op.type) < 0:
        raise _invalid("`buffer_size` must be >= 0 (0 == no buffering)")
    return paths, lambda path: iter(tf_record_iterator(path, compression))


_reader_op("TFRecordDataset", ["filenames: string", "compression_type: string", "buffer_size: int64"],
           "The records of the TFRecord files `filenames`, one file after another.", _tfrecord_inputs)


# ----------------------------------------------------------------------------------------------------------
# TextLineDataset
# ----------------------------------------------------------------------------------------------------------
def _lines(path: str, compression: str, buffer_size: int) -> Iterator[bytes]:
    stream = open_stream(path, compression, buffer_size)
    try:
        for line in stream:
            if line.endswith(b"\n"):
                line = line[:-1]
            # TF's dataset line reader drops every carriage return, not only one before the newline.
            yield line.replace(b"\r", b"") if b"\r" in line else line
    finally:
        stream.close()


def _text_line_inputs(op, filenames, compression_type, buffer_size):
    paths = _filenames(filenames, op.type)
    compression = _compression(compression_type, op.type)
    size = scalar_int(buffer_size, "buffer_size", op.type)
    if size < 0:
        raise _invalid("`buffer_size` must be >= 0 (0 == default)")
    return paths, lambda path: _lines(path, compression, size)


_reader_op("TextLineDataset", ["filenames: string", "compression_type: string", "buffer_size: int64"],
           "The lines (without their line ends) of the text files `filenames`, one file after another.",
           _text_line_inputs)


# ----------------------------------------------------------------------------------------------------------
# FixedLengthRecordDatasetV2
# ----------------------------------------------------------------------------------------------------------
def _fixed_records(path: str, header: int, record: int, footer: int, compression: str,
                   buffer_size: int) -> Iterator[bytes]:
    stream = open_stream(path, compression, buffer_size)
    try:
        if not compression:
            body = os.fstat(stream.fileno()).st_size - header - footer
            if body < 0 or body % record:
                # An uncompressed file's size is known before reading: TF calls a bad one an invalid argument.
                raise _invalid(f"Excluding the header ({header} bytes) and footer ({footer} bytes), input file "
                               f"\"{path}\" has body length {body} bytes, which is not an exact multiple of the "
                               f"record length ({record} bytes).")
            stream.seek(header)
            for _ in range(body // record):
                yield stream.read(record)
            return
        if len(stream.read(header)) < header:
            return
        # The footer is whatever remains at the end: keep `footer` bytes read ahead of each record.
        ahead = stream.read(footer)
        done = 0  # bytes of the records given so far
        while True:
            chunk = stream.read(record)
            data = ahead + chunk
            if len(chunk) < record:
                if len(data) > footer and (len(data) - footer) % record:
                    # Found only at the end of a compressed stream: TF calls it data loss there.
                    raise _errors.DataLossError(
                        None, None, f"Excluding the header ({header} bytes) and footer ({footer} bytes), input "
                        f"file \"{path}\" has body length {done + len(data) - footer} bytes, which is not an "
                        f"exact multiple of the record length ({record} bytes).")
                return
            yield data[:record]
            done += record
            ahead = data[record:]
    finally:
        stream.close()


def _fixed_length_inputs(op, filenames, header_bytes, record_bytes, footer_bytes, buffer_size, compression_type):
    paths = _filenames(filenames, op.type)
    header = scalar_int(header_bytes, "header_bytes", op.type)
    record = scalar_int(record_bytes, "record_bytes", op.type)
    footer = scalar_int(footer_bytes, "footer_bytes", op.type)
    size = scalar_int(buffer_size, "buffer_size", op.type)
    if header < 0:
        raise _invalid("`header_bytes` must be >= 0")
    if record <= 0:
        raise _invalid("`record_bytes` must be > 0")
    if footer < 0:
        raise _invalid("`footer_bytes` must be >= 0")
    if size < 0:
        raise _invalid("`buffer_size` must be >= 0 (0 == no buffering)")
    compression = _compression(compression_type, op.type)
    return paths, lambda path: _fixed_records(path, header, record, footer, compression, size)


_reader_op("FixedLengthRecordDatasetV2",
           ["filenames: string", "header_bytes: int64", "record_bytes: int64", "footer_bytes: int64",
            "buffer_size: int64", "compression_type: string"],
           "The records of `record_bytes` bytes of the files `filenames`, between a header and a footer.",
           _fixed_length_inputs)


# ----------------------------------------------------------------------------------------------------------
# CSVDataset
# ----------------------------------------------------------------------------------------------------------
_CSV_TYPES = {np.dtype(np.int32): _dt.int32, np.dtype(np.int64): _dt.int64, np.dtype(np.float32): _dt.float32,
              np.dtype(np.float64): _dt.float64}
_QUOTE_IN_UNQUOTED = "Unquoted fields cannot have quotes inside"
_BAD_QUOTE = "Quote inside a string has to be escaped by another quote"
_UNCLOSED_QUOTE = "Reached end of file without closing quoted field in record"


class _NeedMore(Exception):
    """The buffer ends inside a record while the stream has more bytes."""


def _scan_record(buf: bytes, pos: int, eof: bool, delim: int, quote: bool, field_end: re.Pattern):
    """The fields of the record starting at `buf[pos]` and the position after it, by TF's CSV rules: a record
    ends at \\n, \\r, \\r\\n or the end of the file, and a field at the delimiter too; with `quote`, a
    field starting with a quote is quoted (\"\" inside is one quote) and any other field must hold no quote.
    Each field is (bytes or None when it is dropped, the error it gives or None). Raises _NeedMore when
    `buf` ends before the record does and `eof` is false."""
    fields: list[tuple[bytes | None, str | None]] = []
    size = len(buf)

    def line_end(at: int, char: int) -> int:  # the position after a line break starting at `at`
        if char == 0x0D:
            if at + 1 >= size and not eof:
                raise _NeedMore
            if at + 1 < size and buf[at + 1] == 0x0A:
                return at + 2
        return at + 1

    while True:
        if pos >= size:
            if not eof:
                raise _NeedMore
            fields.append((b"", None))  # the file ends right after a delimiter: an empty last field
            return fields, pos
        if quote and buf[pos] == 0x22:
            parts, error, at = [], None, pos + 1
            while True:
                close = buf.find(b'"', at)
                if close < 0:
                    if not eof:
                        raise _NeedMore
                    fields.append((None, _UNCLOSED_QUOTE))  # TF reports this one, even after a bad quote
                    fields.append((b"", None))  # as TF: the record then ends with an empty field
                    return fields, size
                if close + 1 >= size:
                    if not eof:
                        raise _NeedMore
                    parts.append(buf[at:close])
                    fields.append((None if error else b"".join(parts), error))
                    return fields, size
                after = buf[close + 1]
                if after == 0x22:  # an escaped quote
                    parts.append(buf[at:close + 1])
                    at = close + 2
                    continue
                if after == delim or after in (0x0A, 0x0D):
                    parts.append(buf[at:close])
                    fields.append((None if error else b"".join(parts), error))
                    if after == delim:
                        pos = close + 2
                        break
                    return fields, line_end(close + 1, after)
                error = error or _BAD_QUOTE  # the field goes on to its real end, and is dropped
                at = close + 2
            continue
        m = field_end.search(buf, pos)
        if m is None:
            if not eof:
                raise _NeedMore
            end, char = size, None
        else:
            end, char = m.start(), buf[m.start()]
        field = buf[pos:end]
        fields.append((field, _QUOTE_IN_UNQUOTED if quote and b'"' in field else None))
        if char == delim:
            pos = end + 1
            continue
        return fields, size if char is None else line_end(end, char)


def _csv_value(field: bytes | None, default, dtype: np.dtype, parse, index: int):
    """Output `index` of a record as a scalar array of `dtype`: the default when empty or NA (which the
    caller decides by passing None), else the field parsed by `parse` as TF parses numbers (ASCII only)."""
    if field is None:
        if default is None:
            raise _invalid(f"Field {index} is required but missing in record!")
        return np.asarray(default).reshape(())
    if parse is None:
        return np.array(field, dtype=object)
    value = parse(field)
    if value is None:
        raise _invalid(f"Field {index} in record is not a valid {_CSV_TYPES[dtype].name}: "
                       f"{field.decode('utf-8', 'backslashreplace')}")
    return np.array(value, dtype=dtype)  # a float32 value is one already, or a float64 that rounds to it


def _csv_element(fields, select: list[int] | None, na_value: bytes, defaults: list, dtypes: list, parsers: list):
    """The element a scanned record gives, or the first error it has (fields in order, as TF reports)."""
    wanted = None if select is None else set(select)
    out: list = []
    error = None
    for i, (field, scan_error) in enumerate(fields):
        if scan_error is not None and error is None:
            error = _invalid(scan_error)
        if field is None or (wanted is not None and i not in wanted):
            continue
        index = len(out)
        if index >= len(dtypes):
            error = error or _invalid(f"Expect {len(dtypes)} fields but have more in record")
            continue
        try:
            out.append(_csv_value(None if field == b"" or field == na_value else field, defaults[index],
                                  dtypes[index], parsers[index], index))
        except _errors.InvalidArgumentError as e:
            error = error or e
            out.append(None)
    if error is None and len(out) != len(dtypes):
        error = _invalid(f"Expect {len(dtypes)} fields but have {len(out)} in record")
    return error if error is not None else tuple(out)


def _csv_records(path: str, compression: str, buffer_size: int, header: bool, delim: str, quote: bool,
                 na_value: str, select: list[int] | None, defaults: list, dtypes: list) -> Iterator:
    """The elements of one CSV file; a record with an error gives the error (an InvalidArgumentError raised
    by the iterator) and reading goes on with the next record, as in TF."""
    stream = open_stream(path, compression, buffer_size)
    delim_byte = delim.encode("utf-8", "surrogateescape")[0]
    field_end = re.compile(b"[" + re.escape(bytes([delim_byte])) + b"\r\n]")
    na = na_value.encode("utf-8", "surrogateescape")
    parsers = [number_parser(_CSV_TYPES[t]) if t in _CSV_TYPES else None for t in dtypes]
    chunk = buffer_size if buffer_size > 0 else 4 * _READ_CHUNK
    buf, pos, eof = b"", 0, False
    first = True
    try:
        while True:
            if pos >= len(buf):
                if eof:
                    if first and header:
                        yield _invalid("Can't read header of file")
                    return
                buf, pos = stream.read(chunk), 0
                eof = not buf
                continue
            # The common record (no quotes, no \r) is one slice of a line split at the delimiter.
            newline = buf.find(b"\n", pos)
            line = buf[pos:newline] if newline >= 0 else buf[pos:] if eof else None
            if line is not None and b"\r" not in line and not (quote and b'"' in line):
                fields = [(f, None) for f in line.split(bytes([delim_byte]))]
                pos = newline + 1 if newline >= 0 else len(buf)
            else:
                try:
                    fields, pos = _scan_record(buf, pos, eof, delim_byte, quote, field_end)
                except _NeedMore:
                    more = stream.read(max(chunk, len(buf) - pos))  # a long record: read more each time
                    buf, pos, eof = buf[pos:] + more, 0, not more
                    continue
            if first and header:
                first = False
                if any(e is not None for _, e in fields):
                    yield _invalid("Can't read header of file")
                continue
            first = False
            yield _csv_element(fields, select, na, defaults, dtypes, parsers)
    finally:
        stream.close()


class _CsvFilesIter(_FilesIter):
    """As _FilesIter, but each record already is the tuple of an element's components, or the error of a
    bad record (raised without ending the file: the next call reads the next record)."""

    @staticmethod
    def _element(record) -> tuple:
        if isinstance(record, _errors.OpError):
            raise record
        return record


def _csv_dataset_factory(op: _ops.Operation, ctx) -> Callable:
    dtypes = [np.dtype(t.as_numpy_dtype) for t in op.get_attr("output_types")]

    def run(filenames, compression_type, buffer_size, header, field_delim, use_quote_delim, na_value,
            select_cols, *record_defaults):
        paths = _filenames(filenames, op.type)
        compression = _compression(compression_type, op.type)
        size = scalar_int(buffer_size, "buffer_size", op.type)
        delim = scalar_text(field_delim)
        if len(delim) != 1:
            raise _invalid("field_delim should be only 1 character")
        na = scalar_text(na_value)
        select = [int(c) for c in np.asarray(select_cols).reshape(-1)]
        if select:
            if any(b <= a for a, b in zip(select, select[1:])) or select[0] < 0:
                raise _invalid("select_cols should be increasing and non-negative.")
            if len(select) != len(record_defaults):
                raise _invalid("select_cols should match output size")
        for i, d in enumerate(record_defaults):
            if np.size(d) > 1:
                raise _invalid(f"There should only be 1 default per field but field {i} has {np.size(d)}")
        defaults = [None if np.size(d) == 0 else d for d in record_defaults]
        args = (compression, size, bool(header), delim, bool(use_quote_delim), na, select or None, defaults, dtypes)
        return DatasetValue(lambda: _CsvFilesIter(paths, lambda path: _csv_records(path, *args)), op.name)

    return run


register_dataset_op(
    "CSVDataset",
    ["filenames: string", "compression_type: string", "buffer_size: int64", "header: bool", "field_delim: string",
     "use_quote_delim: bool", "na_value: string", "select_cols: int64", "record_defaults: output_types"],
    factory=_csv_dataset_factory, file_access=_file_access,
    allowed={"output_types": (_dt.float32, _dt.float64, _dt.int32, _dt.int64, _dt.string)},
    doc="The records of CSV files, each a tuple of scalars of `record_defaults`' types (an empty default marks a "
        "required field).")


# TensorFlow's op defs give these datasets a debugging `metadata` attr, which an import drops.
import_only_attr(("FixedLengthRecordDatasetV2", "TFRecordDataset", "TextLineDataset"), "metadata", "string", "",
                 hint=True)
