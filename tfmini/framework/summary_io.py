"""Event files, TensorBoard's input: `FileWriter` (tf.summary.FileWriter) writes Event protos from a background
thread, `FileWriterCache` keeps one writer per log directory, and `summary_iterator` reads a file back. An event
file is a TFRecord file whose first record is an Event with file_version "brain.Event:2"."""

from __future__ import annotations

import os
import queue
import socket
import struct
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.framework.record_io import masked_crc32c, tf_record_iterator
from tfmini.protobuf import config_pb2, event_pb2, graph_pb2, summary_pb2

__all__ = ["EventFileWriter", "FileWriter", "FileWriterCache", "summary_iterator"]

FILE_VERSION = "brain.Event:2"

# A FileWriter given a graph also writes its MetaGraphDef, as TF's does. The exporter (tf.train's
# export_meta_graph) lives in the train layer above this one, which registers it here.
_meta_graph_exporter: Callable | None = None


def register_meta_graph_exporter(exporter: Callable) -> None:
    """Sets the function FileWriter calls as `exporter(graph_def=..., graph=...)` for a MetaGraphDef."""
    global _meta_graph_exporter
    _meta_graph_exporter = exporter


@tf_export("train.summary_iterator")
def summary_iterator(path: Any) -> Iterator[event_pb2.Event]:
    """`tf.train.summary_iterator`: the Event protos of the event file at `path`, in order (a damaged record is
    a DataLossError, a missing file a NotFoundError)."""
    for record in tf_record_iterator(path):
        yield event_pb2.Event.FromString(record)


def _framed(record: bytes) -> bytes:
    """One TFRecord: length, masked CRC32C of the length, data, masked CRC32C of the data."""
    length = struct.pack("<Q", len(record))
    return length + struct.pack("<I", masked_crc32c(length)) + record + struct.pack("<I", masked_crc32c(record))


class _EventsFile:
    """One events file at a time under `prefix`: created on the first write (named
    `<prefix>.out.tfevents.<10-digit seconds>.<hostname><suffix>`, starting with a file_version event), and
    created anew after `close()` or when the file has been deleted meanwhile."""

    def __init__(self, prefix: str, suffix: str) -> None:
        self._prefix = prefix
        self._suffix = suffix
        self._file = None
        self.path: str | None = None

    def open_if_needed(self) -> None:
        """Starts a file unless one is open and still there."""
        if self._file is not None:
            if os.path.exists(self.path):
                return
            self._file.close()  # deleted under us: start a new file, as TF's writer does
        seconds = int(time.time())
        self.path = f"{self._prefix}.out.tfevents.{seconds:010d}.{socket.gethostname()}{self._suffix}"
        # Appending, not truncating: a writer reopened within the same second finds its own earlier file.
        self._file = open(self.path, "ab")
        first = event_pb2.Event(wall_time=float(seconds), file_version=FILE_VERSION)
        self._file.write(_framed(first.SerializeToString()))
        self._file.flush()

    def write(self, serialized_event: bytes) -> None:
        self.open_if_needed()
        self._file.write(_framed(serialized_event))

    def flush(self) -> None:
        if self._file is not None:  # with nothing written since close(), no new file
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


_SENTINEL = object()


class EventFileWriter:
    """Writes serialized events into an events file in `logdir` from a background thread: `add_event` queues
    (blocking while `max_queue` events wait), the thread writes them and flushes the file at most every
    `flush_secs` seconds; `flush` waits for the queue to empty, `close` flushes and stops the thread, `reopen`
    starts it again (later events go into a new file)."""

    def __init__(self, logdir: Any, max_queue: int = 10, flush_secs: float = 120,
                 filename_suffix: str | None = None) -> None:
        self._logdir = os.fsdecode(logdir)
        os.makedirs(self._logdir, exist_ok=True)
        self._queue: queue.Queue = queue.Queue(max_queue)
        self._flush_secs = flush_secs
        self._file = _EventsFile(os.path.join(self._logdir, "events"), filename_suffix or "")
        self._file.open_if_needed()  # the file and its version event exist from the start, as with TF
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        # Serializes close, reopen and queueing: a second close waits for the first and returns, and no event
        # is queued behind the stop marker (where no thread would take it and a later flush would wait forever).
        self._state_lock = threading.Lock()
        self._closed = False
        self._start_worker()

    def _start_worker(self) -> None:
        self._worker = threading.Thread(target=self._run, name="EventLoggerThread", daemon=True)
        self._worker.start()

    def _run(self) -> None:
        next_flush = time.time() + self._flush_secs
        while True:
            item = self._queue.get()
            try:
                if item is _SENTINEL:
                    return
                with self._lock:
                    self._file.write(item)
                    now = time.time()
                    if now > next_flush:
                        self._file.flush()
                        next_flush = now + self._flush_secs
            except Exception as e:  # noqa: BLE001 - kept and raised by the next flush or close
                self._error = e
            finally:
                self._queue.task_done()

    def get_logdir(self) -> str:
        """The directory the events file is in."""
        return self._logdir

    def add_event(self, event: event_pb2.Event) -> None:
        """Queues `event` for writing (nothing happens once the writer is closed)."""
        serialized = event.SerializeToString()
        with self._state_lock:
            if not self._closed:
                self._queue.put(serialized)

    def _raise_pending_error(self) -> None:
        error, self._error = self._error, None
        if error is not None:
            raise error

    def flush(self) -> None:
        """Waits until every queued event is written, then flushes the file."""
        self._queue.join()
        with self._lock:
            self._file.flush()
        self._raise_pending_error()

    def close(self) -> None:
        """Flushes, stops the writing thread and closes the file. Idempotent and thread-safe: a caller that
        comes while another closes waits until the writer is closed, then returns."""
        with self._state_lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(_SENTINEL)
            self._queue.join()
            self._worker.join()
            with self._lock:
                try:
                    self._file.flush()
                finally:
                    self._file.close()
        self._raise_pending_error()

    def reopen(self) -> None:
        """After `close()`: starts writing again, into a new events file."""
        with self._state_lock:
            if self._closed:
                self._closed = False
                self._start_worker()


@tf_export("summary.FileWriter")
class FileWriter:
    """`tf.summary.FileWriter`: writes summaries, graphs, run metadata and session logs as events into an
    events file in `logdir`, for TensorBoard.

    `graph` (or the deprecated `graph_def`) is written at once, as by `add_graph`. Events are written by a
    background thread; `flush()` makes everything added so far reach the file, `close()` also ends the file,
    `reopen()` continues in a new one. Use it in a `with` block to close it at the end.
    """

    def __init__(self, logdir: Any, graph: Any = None, max_queue: int = 10, flush_secs: float = 120,
                 graph_def: Any = None, filename_suffix: str | None = None, session: Any = None) -> None:
        if session is not None:
            raise NotImplementedError(
                "FileWriter(session=...) writes through TF 2's summary-writer ops, which tfmini does not have; "
                "create the FileWriter without a session")
        self.event_writer = EventFileWriter(logdir, max_queue, flush_secs, filename_suffix)
        self._closed = False
        self._session_run_tags: set[str] = set()
        self._seen_summary_tags: set[str] = set()
        if graph is not None or graph_def is not None:
            self.add_graph(graph=graph, graph_def=graph_def)
            if _meta_graph_exporter is not None:
                given = graph if graph is not None else graph_def
                if isinstance(given, _ops.Graph):
                    meta = _meta_graph_exporter(graph=given)
                else:  # a GraphDef: TF takes the collections from the default graph
                    meta = _meta_graph_exporter(graph_def=given, graph=_ops.get_default_graph())
                self.add_meta_graph(meta)

    def __enter__(self) -> FileWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def get_logdir(self) -> str:
        """The directory the events file is in."""
        return self.event_writer.get_logdir()

    def _warn_if_closed(self) -> None:
        if self._closed:
            warnings.warn("Attempting to use a closed FileWriter. The operation will be a noop unless the "
                          "FileWriter is explicitly reopened.", stacklevel=3)

    def _add_event(self, event: event_pb2.Event, step: Any) -> None:
        self._warn_if_closed()
        event.wall_time = time.time()
        if step is not None:
            event.step = int(step)
        self.event_writer.add_event(event)

    def add_event(self, event: event_pb2.Event) -> None:
        """Writes `event` as it is (its wall_time and step included)."""
        self._warn_if_closed()
        self.event_writer.add_event(event)

    def add_summary(self, summary: Any, global_step: Any = None) -> None:
        """Writes a Summary (a proto, or its serialized bytes as a summary op's run returns them) at
        `global_step`. A tag's SummaryMetadata is written with its first value only, as TF does."""
        if isinstance(summary, (bytes, bytearray)):
            summary = summary_pb2.Summary.FromString(bytes(summary))
        elif isinstance(summary, summary_pb2.Summary):
            summary = summary_pb2.Summary.FromString(summary.SerializeToString())  # the caller's stays intact
        else:
            raise TypeError(f"add_summary expects a Summary proto or its serialized bytes, got "
                            f"{type(summary).__name__}")
        for value in summary.value:
            if value.tag in self._seen_summary_tags:
                value.ClearField("metadata")
            else:
                self._seen_summary_tags.add(value.tag)
        self._add_event(event_pb2.Event(summary=summary), global_step)

    def add_session_log(self, session_log: event_pb2.SessionLog, global_step: Any = None) -> None:
        """Writes a SessionLog (START, STOP, CHECKPOINT), e.g. so TensorBoard drops events from a run that
        restarted at an earlier step."""
        self._add_event(event_pb2.Event(session_log=session_log), global_step)

    def add_graph(self, graph: Any, global_step: Any = None, graph_def: Any = None) -> None:
        """Writes a Graph (its GraphDef with output shapes) for TensorBoard's graph tab; a GraphDef is
        accepted too (deprecated)."""
        if graph is not None and graph_def is not None:
            raise ValueError("Please pass only graph, or graph_def (deprecated), but not both.")
        if isinstance(graph, _ops.Graph) or isinstance(graph_def, _ops.Graph):
            true_graph = graph if isinstance(graph, _ops.Graph) else graph_def
            definition = true_graph.as_graph_def(add_shapes=True)
        elif isinstance(graph, graph_pb2.GraphDef) or isinstance(graph_def, graph_pb2.GraphDef):
            warnings.warn("Passing a `GraphDef` to the SummaryWriter is deprecated. Pass a `Graph` object "
                          "instead, such as `sess.graph`.", stacklevel=2)
            definition = graph if isinstance(graph, graph_pb2.GraphDef) else graph_def
        else:
            raise TypeError("The passed graph must be an instance of `Graph` or the deprecated `GraphDef`")
        self._add_event(event_pb2.Event(graph_def=definition.SerializeToString()), global_step)

    def add_meta_graph(self, meta_graph_def: Any, global_step: Any = None) -> None:
        """Writes a MetaGraphDef (TensorBoard shows its graph when no GraphDef was written)."""
        descriptor = getattr(meta_graph_def, "DESCRIPTOR", None)
        if getattr(descriptor, "name", None) != "MetaGraphDef":
            raise TypeError(f"meta_graph_def must be type MetaGraphDef, saw type: {type(meta_graph_def)}")
        self._add_event(event_pb2.Event(meta_graph_def=meta_graph_def.SerializeToString()), global_step)

    def add_run_metadata(self, run_metadata: config_pb2.RunMetadata, tag: str, global_step: Any = None) -> None:
        """Writes the RunMetadata of a traced `Session.run` under `tag` (each tag once), for TensorBoard's
        per-run compute time and memory views."""
        if tag in self._session_run_tags:
            raise ValueError("The provided tag was already used for this event type")
        self._session_run_tags.add(tag)
        tagged = event_pb2.TaggedRunMetadata(tag=tag, run_metadata=run_metadata.SerializeToString())
        self._add_event(event_pb2.Event(tagged_run_metadata=tagged), global_step)

    def flush(self) -> None:
        """Makes every event added so far reach the file."""
        self._warn_if_closed()
        self.event_writer.flush()

    def close(self) -> None:
        """Flushes and closes the events file; later calls are no-ops (with a warning) until `reopen()`."""
        self.event_writer.close()
        self._closed = True

    def reopen(self) -> None:
        """After `close()`: writes again, into a new events file in the same directory."""
        self.event_writer.reopen()
        self._closed = False


@tf_export("summary.FileWriterCache")
class FileWriterCache:
    """`tf.summary.FileWriterCache`: one FileWriter per log directory, shared by whoever asks for it."""

    _cache: dict[str, FileWriter] = {}
    _lock = threading.RLock()

    @staticmethod
    def get(logdir: Any) -> FileWriter:
        """The FileWriter for `logdir`, created (with the default graph) on first use."""
        with FileWriterCache._lock:
            if logdir not in FileWriterCache._cache:
                FileWriterCache._cache[logdir] = FileWriter(logdir, graph=_ops.get_default_graph())
            return FileWriterCache._cache[logdir]

    @staticmethod
    def clear() -> None:
        """Closes (and so flushes) every cached writer and forgets them."""
        with FileWriterCache._lock:
            for writer in FileWriterCache._cache.values():
                writer.close()
            FileWriterCache._cache = {}
