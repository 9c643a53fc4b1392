"""TF1's readers for queue pipelines: the reader resources (TFRecordReaderV2, TextLineReaderV2,
FixedLengthRecordReaderV2, WholeFileReaderV2, IdentityReaderV2), the ops over them (ReaderReadV2,
ReaderReadUpToV2, ReaderNumRecordsProducedV2, ReaderNumWorkUnitsCompletedV2, ReaderResetV2,
ReaderSerializeStateV2, ReaderRestoreStateV2) and the Python classes (`tf.ReaderBase`, `tf.TFRecordReader`, ...).

A reader's state (its current work unit, a filename dequeued from a queue of filenames, and its position in
it) lives in the session (`ctx.resources`). When the current work unit has no record left, a read dequeues
the next one, blocking like a dequeue: it honours the run's deadline and ends with CancelledError when the
session closes, and with OutOfRangeError when the queue is closed and empty."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import record_io
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import REQUIRED, NotDifferentiable, apply_op, register_op
from tfmini.ops import shape_fns
from tfmini.ops.data_flow_ops import QueueResource
from tfmini.ops.dataset_readers import open_stream

__all__ = [
    "FixedLengthRecordReader", "IdentityReader", "ReaderBase", "TFRecordReader", "TextLineReader",
    "WholeFileReader",
]

# How often a read waiting for another thread's read of the same reader checks the run's deadline.
_POLL_SECONDS = 0.02
_READ_CHUNK = 1 << 16


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


def _path(work: bytes) -> str:
    return work.decode("utf-8", "surrogateescape")


def _check_exists(work: bytes) -> None:
    """A work unit that names no file fails when it starts, so the next read moves on to the next one (a
    directory or an unreadable file fails at each read instead, as in TF)."""
    path = _path(work)
    if not os.path.lexists(path):
        raise _errors.NotFoundError(None, None, f"{path}; No such file or directory")


# ----------------------------------------------------------------------------------------------------------
# Work units: each kind of reader turns a dequeued work string into an iterator of (key, value) records
# ----------------------------------------------------------------------------------------------------------
def _tfrecord_records(work: bytes, compression: str) -> Iterator[tuple[bytes, bytes]]:
    """The records of a TFRecord file, keyed by the file name and the record's offset in the (uncompressed)
    stream of framed records, as TF keys them."""
    offset = 0
    for record in record_io.tf_record_iterator(_path(work), compression):
        yield b"%s:%d" % (work, offset), record
        offset += len(record) + 16  # the framing: length, its CRC, the data, the data's CRC


def _text_lines(work: bytes, file, skip_header_lines: int) -> Iterator[tuple[bytes, bytes]]:
    """The lines of a text file without their line ends ("\\n" or "\\r\\n"), keyed by the file name and the
    line number counted from 1 (header lines included); a last line without a newline is a record too."""
    with file:
        for number, line in enumerate(file, 1):
            if number <= skip_header_lines:
                continue
            if line.endswith(b"\n"):
                line = line[:-1]
            if line.endswith(b"\r"):
                line = line[:-1]
            yield b"%s:%d" % (work, number), line


def _fixed_length_records(work: bytes, source, header_bytes: int, record_bytes: int, footer_bytes: int,
                          hop_bytes: int) -> Iterator[tuple[bytes, bytes]]:
    """Records of `record_bytes` bytes after a header, starting every `hop_bytes` (or back to back), as long
    as a whole record and the footer still fit; keyed by the file name and the record's index. `source` gives
    the file's bytes (decompressed, for a ZLIB or GZIP encoding)."""
    step = hop_bytes or record_bytes
    needed = record_bytes + footer_bytes
    try:
        if len(source.read(header_bytes)) < header_bytes:
            return
        window = bytearray()
        index = 0
        while True:
            while len(window) < needed:
                chunk = source.read(max(needed - len(window), _READ_CHUNK))
                if not chunk:
                    return
                window += chunk
            yield b"%s:%d" % (work, index), bytes(window[:record_bytes])
            index += 1
            if step <= len(window):
                del window[:step]
            else:
                skip = step - len(window)
                window.clear()
                if len(source.read(skip)) < skip:
                    return
    finally:
        source.close()


def _whole_file(work: bytes) -> Iterator[tuple[bytes, bytes]]:
    with open_stream(_path(work), "", 0) as f:
        yield work, f.read()


def _identity(work: bytes) -> Iterator[tuple[bytes, bytes]]:
    yield work, work


# ----------------------------------------------------------------------------------------------------------
# The reader resource
# ----------------------------------------------------------------------------------------------------------
class ReaderResource:
    """One reader in one session: how it turns a work unit into records, the work unit it is in and what it
    has produced. Reads of one reader are serialized, as in TF."""

    def __init__(self, name: str, start_work: Callable[[bytes], Iterator], one_record_per_work: bool,
                 supports_serialize: bool) -> None:
        self.name = name
        self._start_work = start_work
        self._one_record_per_work = one_record_per_work
        self.supports_serialize = supports_serialize
        self._lock = threading.Lock()
        self.work = b""
        self.work_started = 0
        self.work_finished = 0
        self.records_produced = 0
        self._records: Iterator | None = None
        self._error: _errors.OpError | None = None  # a failed work unit fails again at each read, as in TF

    def __repr__(self) -> str:
        return f"<ReaderResource {self.name}>"

    # -- locking: a read waiting for another one's dequeue still honours its run's deadline ---------------
    def acquire(self, op, check_deadline: Callable) -> None:
        while not self._lock.acquire(timeout=_POLL_SECONDS):
            check_deadline(op)

    def release(self) -> None:
        self._lock.release()

    # -- work units -----------------------------------------------------------------------------------------
    def _in_progress(self) -> bool:
        return self.work_finished < self.work_started

    def _next_work(self, op, queue_handle, check_deadline: Callable) -> None:
        queue = queue_handle.item() if isinstance(queue_handle, np.ndarray) else queue_handle
        if not isinstance(queue, QueueResource):
            raise _invalid("The queue_handle input does not refer to a queue.")
        if len(queue.dtypes) != 1:
            raise _invalid("Expected single component queue")
        if queue.dtypes[0] != _dt.string:
            raise _invalid("Expected queue with single string component")
        (value,) = queue.take(op, 1, False, check_deadline)[0]
        if np.size(value) != 1:
            raise _invalid("Expected to dequeue a one-element string tensor")
        work = np.asarray(value).reshape(-1)[0]
        self.work = work.encode() if isinstance(work, str) else bytes(work)
        self._records = self._start_work(self.work)  # a work unit that fails to start is skipped
        self._error = None
        self.work_started += 1

    def _finish_work(self) -> None:
        self.work_finished = self.work_started
        self._records = None
        self._error = None

    def _read_one(self, op, queue_handle, check_deadline: Callable) -> tuple[bytes, bytes] | None:
        """The next record of the current work unit, starting one first if needed; None when the work unit
        turned out to be exhausted (it is then finished)."""
        if not self._in_progress():
            self._next_work(op, queue_handle, check_deadline)
        if self._error is not None:
            raise type(self._error)(None, None, self._error.message)
        try:
            record = next(self._records, None)
        except _errors.OpError as e:
            self._error = e
            raise
        if record is None:
            self._finish_work()
            return None
        self.records_produced += 1
        if self._one_record_per_work:
            self._finish_work()
        return record

    def read(self, op, queue_handle, check_deadline: Callable) -> tuple[bytes, bytes]:
        while True:
            record = self._read_one(op, queue_handle, check_deadline)
            if record is not None:
                return record

    def read_up_to(self, op, queue_handle, n: int, check_deadline: Callable) -> list[tuple[bytes, bytes]]:
        """Up to `n` records, all from one work unit: fewer when it ends first."""
        records: list[tuple[bytes, bytes]] = []
        while len(records) < n:
            record = self._read_one(op, queue_handle, check_deadline)
            if record is None:
                if records:
                    break
                continue
            records.append(record)
            if not self._in_progress():
                break  # this record ended its work unit
        return records

    def reset(self) -> None:
        self.work = b""
        self.work_started = self.work_finished = self.records_produced = 0
        self._records = None
        self._error = None

    # -- state ----------------------------------------------------------------------------------------------
    def serialize(self) -> bytes:
        """The ReaderBaseState proto of this reader, as TF serializes it."""
        if not self.supports_serialize:
            raise _errors.UnimplementedError(None, None, "Reader SerializeState")
        return _encode_state(self.work_started, self.work_finished, self.records_produced, self.work)

    def restore(self, state: bytes) -> None:
        if not self.supports_serialize:
            raise _errors.UnimplementedError(None, None, "Reader RestoreState")
        try:
            started, finished, produced, work = _decode_state(state)
        except ValueError:
            raise _invalid(f"Could not parse state for {self.name}: {state!r}") from None
        described = _describe_state(started, finished, produced, work)
        if started < 0 or finished < 0 or produced < 0:
            raise _invalid(f"Unexpected negative value when restoring in {self.name}: {described}")
        if started > finished:
            raise _invalid(f"Inconsistent work started vs. finished when restoring in {self.name}: {described}")
        self.work_started, self.work_finished, self.records_produced, self.work = started, finished, produced, work
        self._records = None
        self._error = None


# ReaderBaseState (reader_base.proto): work_started = 1, work_finished = 2, num_records_produced = 3 (int64
# varints), current_work = 4 (bytes); proto3, so zero values and empty bytes are left out.
def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # int64 varints carry negative numbers in two's complement
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _encode_state(started: int, finished: int, produced: int, work: bytes) -> bytes:
    out = bytearray()
    for number, value in ((1, started), (2, finished), (3, produced)):
        if value:
            out += bytes([number << 3]) + _varint(value)
    if work:
        out += bytes([4 << 3 | 2]) + _varint(len(work)) + work
    return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            value &= (1 << 64) - 1
            return (value - (1 << 64) if value >= 1 << 63 else value), pos


def _decode_state(data: bytes) -> tuple[int, int, int, bytes]:
    """The fields of a serialized ReaderBaseState; ValueError when `data` is not one."""
    ints = {1: 0, 2: 0, 3: 0}
    work = b""
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(data, pos)
            if number in ints:
                ints[number] = value
        elif wire == 2:
            length, pos = _read_varint(data, pos)
            if length < 0 or pos + length > len(data):
                raise ValueError("truncated field")
            if number == 4:
                work = data[pos:pos + length]
            pos += length
        elif wire == 1 and pos + 8 <= len(data):
            pos += 8
        elif wire == 5 and pos + 4 <= len(data):
            pos += 4
        else:
            raise ValueError("bad wire type")
        if number == 0:
            raise ValueError("field number 0")
    return ints[1], ints[2], ints[3], work


def _describe_state(started: int, finished: int, produced: int, work: bytes) -> str:
    fields = [f"{name}: {value}" for name, value in (("work_started", started), ("work_finished", finished),
                                                        ("num_records_produced", produced)) if value]
    if work:
        fields.append('current_work: "' + work.decode("utf-8", "backslashreplace").replace('"', '\\"') + '"')
    return " ".join(fields)


# ----------------------------------------------------------------------------------------------------------
# The reader ops
# ----------------------------------------------------------------------------------------------------------
_RESOURCE_ATTRS = {"container": ("string", ""), "shared_name": ("string", "")}


def _attr_str(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _tfrecord_start(op) -> Callable:
    compression = _attr_str(op.get_attr("compression_type"))
    if compression not in ("", "ZLIB", "GZIP"):
        raise _invalid(f"Unsupported compression_type: {compression!r} (use '', 'ZLIB' or 'GZIP')")

    def start(work: bytes) -> Iterator:
        _check_exists(work)
        return _tfrecord_records(work, compression)

    return start


def _text_line_start(op) -> Callable:
    skip = op.get_attr("skip_header_lines")
    if skip < 0:
        raise _invalid(f"skip_header_lines must be >= 0 not {skip}")

    def start(work: bytes) -> Iterator:
        _check_exists(work)
        try:
            file = open_stream(_path(work), "", 0)
        except _errors.FailedPreconditionError as e:  # a directory: its reads fail, as TF's do
            return _failing(e)
        return _text_lines(work, file, skip)

    return start


def _fixed_length_start(op) -> Callable:
    sizes = {k: op.get_attr(k) for k in ("header_bytes", "record_bytes", "footer_bytes", "hop_bytes")}
    for k, v in sizes.items():
        if v < 0:
            raise _invalid(f"{k} must be >= 0 not {v}")
    encoding = _attr_str(op.get_attr("encoding"))
    if encoding not in ("", "ZLIB", "GZIP"):
        raise _invalid(f"Unsupported encoding: {encoding!r} (use '', 'ZLIB' or 'GZIP')")

    def start(work: bytes) -> Iterator:
        _check_exists(work)
        try:
            source = open_stream(_path(work), encoding, _READ_CHUNK)
        except _errors.FailedPreconditionError as e:
            return _failing(e)
        return _fixed_length_records(work, source, **sizes)

    return start


def _failing(error: _errors.OpError) -> Iterator:
    """A work unit whose reads fail with `error` (a generator: the error comes with the first read)."""
    yield from ()
    raise error


# op type -> (reader kind for messages, start_work factory, one record per work unit, supports serialize)
_READERS: dict[str, tuple[str, Callable, bool, bool]] = {
    "TFRecordReaderV2": ("TFRecordReader", _tfrecord_start, False, False),
    "TextLineReaderV2": ("TextLineReader", _text_line_start, False, False),
    "FixedLengthRecordReaderV2": ("FixedLengthRecordReader", _fixed_length_start, False, False),
    "WholeFileReaderV2": ("WholeFileReader", lambda op: _whole_file, True, True),
    "IdentityReaderV2": ("IdentityReader", lambda op: _identity, True, True),
}


def _handle_array(value) -> np.ndarray:
    handle = np.empty((), dtype=object)
    handle[()] = value
    return handle


def _reader_factory(op, ctx) -> Callable:
    """The reader op finds its reader in the session's resources (created on its first run) and outputs a
    handle to it."""
    kind, start_factory, one_record, serializable = _READERS[op.type]
    shared = _attr_str(op.get_attr("shared_name"))
    key = ("reader", _attr_str(op.get_attr("container")), shared) if shared else ("reader", op)

    def reader_handle():
        reader = ctx.resources.get(key)
        if reader is None:
            with ctx.lock:
                reader = ctx.resources.get(key)
                if reader is None:
                    name = f"{kind} '{shared or op.name}'"
                    reader = ReaderResource(name, start_factory(op), one_record, serializable)
                    ctx.resources[key] = reader
        if not reader.name.startswith(kind + " "):
            raise _invalid(f"Shared reader '{shared}' is of type {reader.name.split(' ')[0]}, not {kind}")
        return _handle_array(reader)

    return reader_handle


def _register_reader(op_type: str, attrs: dict) -> None:
    register_op(op_type, outputs=["reader_handle: resource"], attrs={**attrs, **_RESOURCE_ATTRS}, stateful=True,
                shape=shape_fns.scalar, factory=_reader_factory)
    NotDifferentiable(op_type)


_register_reader("TFRecordReaderV2", {"compression_type": ("string", "")})
_register_reader("TextLineReaderV2", {"skip_header_lines": ("int", 0)})
_register_reader("FixedLengthRecordReaderV2", {
    "header_bytes": ("int", 0), "record_bytes": ("int", REQUIRED), "footer_bytes": ("int", 0), "hop_bytes": ("int", 0),
    "encoding": ("string", ""),
})
_register_reader("WholeFileReaderV2", {})
_register_reader("IdentityReaderV2", {})


def _reader_of(handle) -> ReaderResource:
    reader = handle.item() if isinstance(handle, np.ndarray) else handle
    if not isinstance(reader, ReaderResource):
        raise _invalid("The reader_handle input does not refer to a reader.")
    return reader


def _reads_files(op) -> str | None:
    """What a read op may open: the files its reader's work units name (an IdentityReader opens none)."""
    reader_op = op.inputs[0].op
    if reader_op.type == "IdentityReaderV2":
        return None
    return "the files named by the work units it dequeues from its 'queue_handle' input"


def _scalar_inputs(*indices: int) -> Callable:
    def check(op) -> None:
        for i in indices:
            op.inputs[i].shape.with_rank(0)

    return check


def _read_shapes(op) -> list:
    _scalar_inputs(0, 1)(op)
    return [_shape.TensorShape([]), _shape.TensorShape([])]


def _string_scalar(value: bytes) -> np.ndarray:
    return np.array(value, dtype=object)


def _read_factory(op, ctx) -> Callable:
    check_deadline = ctx.check_deadline

    def read(reader_handle, queue_handle):
        reader = _reader_of(reader_handle)
        reader.acquire(op, check_deadline)
        try:
            key, value = reader.read(op, queue_handle, check_deadline)
        finally:
            reader.release()
        return _string_scalar(key), _string_scalar(value)

    return read


register_op("ReaderReadV2", inputs=["reader_handle: resource", "queue_handle: resource"],
            outputs=["key: string", "value: string"], stateful=True, shape=_read_shapes, factory=_read_factory,
            file_access=_reads_files)


def _read_up_to_shapes(op) -> list:
    _scalar_inputs(0, 1, 2)(op)
    return [_shape.TensorShape([None]), _shape.TensorShape([None])]


def _read_up_to_factory(op, ctx) -> Callable:
    check_deadline = ctx.check_deadline

    def read_up_to(reader_handle, queue_handle, num_records):
        reader = _reader_of(reader_handle)
        if np.ndim(num_records) != 0:
            raise _invalid(f"num_records must be a scalar, got shape {_shape.dims_str(np.shape(num_records))}")
        n = int(num_records)
        if n < 0:
            raise _invalid(f"num_records must be >= 0 but got {n}")
        records: list = []
        if n:
            reader.acquire(op, check_deadline)
            try:
                records = reader.read_up_to(op, queue_handle, n, check_deadline)
            finally:
                reader.release()
        keys = np.empty(len(records), dtype=object)
        values = np.empty(len(records), dtype=object)
        for i, (k, v) in enumerate(records):
            keys[i], values[i] = k, v
        return keys, values

    return read_up_to


register_op("ReaderReadUpToV2", inputs=["reader_handle: resource", "queue_handle: resource", "num_records: int64"],
            outputs=["keys: string", "values: string"], stateful=True, shape=_read_up_to_shapes,
            factory=_read_up_to_factory, file_access=_reads_files)


def _locked_kernel(fn: Callable) -> Callable:
    """A kernel over the reader alone: it waits for the reader's lock like a read does."""

    def factory(op, ctx) -> Callable:
        check_deadline = ctx.check_deadline

        def kernel(reader_handle, *args):
            reader = _reader_of(reader_handle)
            reader.acquire(op, check_deadline)
            try:
                return fn(reader, *args)
            finally:
                reader.release()

        return kernel

    return factory


def _scalar_shape_of_reader(op) -> _shape.TensorShape:
    _scalar_inputs(0)(op)
    return _shape.TensorShape([])


register_op("ReaderNumRecordsProducedV2", inputs=["reader_handle: resource"], outputs=["records_produced: int64"],
            stateful=True, shape=_scalar_shape_of_reader,
            factory=_locked_kernel(lambda reader: np.int64(reader.records_produced)))
register_op("ReaderNumWorkUnitsCompletedV2", inputs=["reader_handle: resource"],
            outputs=["units_completed: int64"], stateful=True, shape=_scalar_shape_of_reader,
            factory=_locked_kernel(lambda reader: np.int64(reader.work_finished)))
register_op("ReaderSerializeStateV2", inputs=["reader_handle: resource"], outputs=["state: string"],
            stateful=True, shape=_scalar_shape_of_reader,
            factory=_locked_kernel(lambda reader: _string_scalar(reader.serialize())))


def _restore(reader: ReaderResource, state) -> None:
    if np.ndim(state) != 0:
        raise _invalid(f"Could not restore state of {reader.name}: the state must be a scalar string, got "
                       f"shape {_shape.dims_str(np.shape(state))}")
    reader.restore(bytes(np.asarray(state).item()))


def _restore_shapes(op) -> list:
    _scalar_inputs(0, 1)(op)
    return []


register_op("ReaderRestoreStateV2", inputs=["reader_handle: resource", "state: string"], stateful=True,
            shape=_restore_shapes, factory=_locked_kernel(_restore))
register_op("ReaderResetV2", inputs=["reader_handle: resource"], stateful=True, shape=lambda op: [],
            factory=_locked_kernel(lambda reader: reader.reset()))

for _op_type in ("ReaderReadV2", "ReaderReadUpToV2", "ReaderNumRecordsProducedV2", "ReaderNumWorkUnitsCompletedV2",
                 "ReaderSerializeStateV2", "ReaderRestoreStateV2", "ReaderResetV2"):
    NotDifferentiable(_op_type)


# ----------------------------------------------------------------------------------------------------------
# The Python classes
# ----------------------------------------------------------------------------------------------------------
def _queue_ref(queue) -> _ops.Tensor:
    return queue if isinstance(queue, _ops.Tensor) else queue.queue_ref


@tf_export("ReaderBase")
class ReaderBase:
    """A reader: reads records from the files (work units) it dequeues from a queue of filenames. Its state
    lives in the session, so two sessions read separately."""

    def __init__(self, reader_ref: _ops.Tensor, supports_serialize: bool = False) -> None:
        self._reader_ref = reader_ref
        self._supports_serialize = supports_serialize

    @property
    def reader_ref(self) -> _ops.Tensor:
        """The reader's resource handle."""
        return self._reader_ref

    @property
    def supports_serialize(self) -> bool:
        """Whether serialize_state and restore_state work for this reader."""
        return self._supports_serialize

    def read(self, queue, name: str | None = None) -> tuple[_ops.Tensor, _ops.Tensor]:
        """The next record as (key, value) scalar strings; dequeues the next work unit from `queue` (a queue or
        its handle) when the current one is done. OutOfRangeError once `queue` is closed and empty."""
        op = apply_op("ReaderReadV2", [self._reader_ref, _queue_ref(queue)], name=name)
        return op.outputs[0], op.outputs[1]

    def read_up_to(self, queue, num_records, name: str | None = None) -> tuple[_ops.Tensor, _ops.Tensor]:
        """Up to `num_records` records of the current work unit as (keys, values) vectors (fewer when it ends
        first)."""
        n = _ops.convert_to_tensor(num_records, dtype=_dt.int64)
        op = apply_op("ReaderReadUpToV2", [self._reader_ref, _queue_ref(queue), n], name=name)
        return op.outputs[0], op.outputs[1]

    def num_records_produced(self, name: str | None = None) -> _ops.Tensor:
        """The number of records this reader has produced (since it was created or reset)."""
        return apply_op("ReaderNumRecordsProducedV2", [self._reader_ref], name=name).outputs[0]

    def num_work_units_completed(self, name: str | None = None) -> _ops.Tensor:
        """The number of work units this reader has finished."""
        return apply_op("ReaderNumWorkUnitsCompletedV2", [self._reader_ref], name=name).outputs[0]

    def serialize_state(self, name: str | None = None) -> _ops.Tensor:
        """The reader's state as a string (UnimplementedError when run for a reader that does not support it)."""
        return apply_op("ReaderSerializeStateV2", [self._reader_ref], name=name).outputs[0]

    def restore_state(self, state, name: str | None = None) -> _ops.Operation:
        """An op restoring a state that serialize_state produced."""
        state = _ops.convert_to_tensor(state, dtype=_dt.string)
        return apply_op("ReaderRestoreStateV2", [self._reader_ref, state], name=name)

    def reset(self, name: str | None = None) -> _ops.Operation:
        """An op returning the reader to its initial state: no work unit, nothing produced."""
        return apply_op("ReaderResetV2", [self._reader_ref], name=name)


@tf_export("WholeFileReader")
class WholeFileReader(ReaderBase):
    """Reads each file of the queue as one record: the key is the filename, the value the file's contents."""

    def __init__(self, name: str | None = None) -> None:
        super().__init__(apply_op("WholeFileReaderV2", [], name=name).outputs[0], supports_serialize=True)


@tf_export("TextLineReader")
class TextLineReader(ReaderBase):
    """Reads the lines of text files (without their line ends); keys are `<filename>:<line number>`, lines
    counted from 1. `skip_header_lines` lines at the start of each file are skipped."""

    def __init__(self, skip_header_lines: int | None = None, name: str | None = None) -> None:
        op = apply_op("TextLineReaderV2", [], {"skip_header_lines": int(skip_header_lines or 0)}, name=name)
        super().__init__(op.outputs[0])


@tf_export("FixedLengthRecordReader")
class FixedLengthRecordReader(ReaderBase):
    """Reads records of `record_bytes` bytes from files with a header and footer of fixed sizes; with
    `hop_bytes` a record starts every `hop_bytes` bytes (records may overlap or leave gaps). Keys are
    `<filename>:<record index>`. `encoding` ("ZLIB" or "GZIP") reads compressed files."""

    def __init__(self, record_bytes: int, header_bytes: int | None = None, footer_bytes: int | None = None,
                 hop_bytes: int | None = None, name: str | None = None, encoding: str | None = None) -> None:
        attrs = {"record_bytes": int(record_bytes), "header_bytes": int(header_bytes or 0),
                 "footer_bytes": int(footer_bytes or 0), "hop_bytes": int(hop_bytes or 0),
                 "encoding": encoding or ""}
        super().__init__(apply_op("FixedLengthRecordReaderV2", [], attrs, name=name).outputs[0])


@tf_export("TFRecordReader")
class TFRecordReader(ReaderBase):
    """Reads the records of TFRecord files (`options`: a TFRecordOptions or compression type); keys are
    `<filename>:<offset>`, the record's offset in the file's uncompressed stream."""

    def __init__(self, name: str | None = None, options=None) -> None:
        compression = record_io.TFRecordOptions.get_compression_type_string(options)
        op = apply_op("TFRecordReaderV2", [], {"compression_type": compression}, name=name)
        super().__init__(op.outputs[0])


@tf_export("IdentityReader")
class IdentityReader(ReaderBase):
    """Outputs each work unit of the queue as both key and value: one record per work unit."""

    def __init__(self, name: str | None = None) -> None:
        super().__init__(apply_op("IdentityReaderV2", [], name=name).outputs[0], supports_serialize=True)
