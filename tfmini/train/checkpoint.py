"""Checkpoint files and the checkpoint state file.

A checkpoint is written in TensorFlow's V2 format (`<prefix>.index` + `<prefix>.data-00000-of-00001`, the
tensor bundle of tensor_bundle.py); readers also take V2 checkpoints TensorFlow wrote (any number of data
shards) and tfmini's older `<prefix>.npz` files. The state file `<dir>/checkpoint` lists a directory's
checkpoints in TF's CheckpointState text format. Files are placed atomically (docs/checkpoint_format.md).
This module knows files, never graphs or sessions.
"""

from __future__ import annotations

import glob
import json
import math
import os
import re
import secrets
import socket
import stat
import struct
import zipfile
import zlib

try:
    import fcntl
except ImportError:  # no flock (Windows): a temporary's liveness is judged by its writer's pid alone
    fcntl = None

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework.api_export import tf_export
from tfmini.train import sstable
from tfmini.train import tensor_bundle as _bundle

# TF's SaverDef.CheckpointFormatVersion values.
V1 = 1
V2 = 2

# tfmini's legacy format (read only): one `.npz` file per checkpoint.
FORMAT_NAME = "tfmini-checkpoint"
FORMAT_VERSION = 1
SUFFIX = ".npz"
_HEADER_KEY = "__tfmini_checkpoint__"


def npz_path(prefix: str) -> str:
    """The legacy `.npz` file of a checkpoint `prefix`."""
    return os.fspath(prefix) + SUFFIX


# ----------------------------------------------------------------------------------------------------------
# Atomic, durable writes and the temporaries they leave when a writer is killed
# ----------------------------------------------------------------------------------------------------------
# A temporary is `<final name>.tempstate.<host tag>.<writer pid>.<12 hex digits>`, written beside its final
# file and held under an exclusive flock while written, so a later save can tell a dead writer's leftover
# (same host, pid gone, lock free) from a live writer's file or a user's file that merely looks alike.
_TEMP_MARK = ".tempstate."
_TEMP_NAME = re.compile(r"^(?P<final>.+)\.tempstate\.(?P<host>[0-9a-f]{8})\.(?P<pid>[1-9][0-9]{0,9})\.[0-9a-f]{12}$")


def _host_tag() -> str:
    return f"{zlib.crc32(socket.gethostname().encode()):08x}"


def temporary_path(path: str, pid: int | None = None) -> str:
    """A fresh temporary name beside `path` for writer process `pid` (this process by default)."""
    return f"{path}{_TEMP_MARK}{_host_tag()}.{os.getpid() if pid is None else pid}.{secrets.token_hex(6)}"


def _process_is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process: alive, or unknowable, so kept
        return True
    return True


def _remove_if_unlocked(path: str) -> None:
    """Removes `path` unless a live writer holds its lock (flock locks die with their process)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return
        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.remove(path)
    except OSError:
        pass
    finally:
        os.close(fd)


def _is_checkpoint_file(name: str, state_filename: str) -> bool:
    return (name == state_filename or name.endswith((".index", SUFFIX))
            or _bundle.DATA_FILE_PATTERN.search(name) is not None)


def remove_stale_temporaries(directory: str, state_filename: str = "checkpoint") -> None:
    """Removes the temporaries that killed writers on this host left in `directory`: those of checkpoint
    files and of the state file `state_filename` whose writer process is gone and whose lock is free."""
    host = _host_tag()
    try:
        entries = list(os.scandir(directory or "."))
    except OSError:
        return
    for entry in entries:
        if _TEMP_MARK not in entry.name:
            continue
        m = _TEMP_NAME.match(entry.name)
        if m is None or m["host"] != host or not _is_checkpoint_file(m["final"], state_filename):
            continue
        if _process_is_alive(int(m["pid"])):
            continue
        _remove_if_unlocked(entry.path)


def _fsync_directory(directory: str) -> None:
    """Makes a rename in `directory` durable, where the OS lets a directory be opened and synced."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a directory; the rename itself is still atomic
    finally:
        os.close(fd)


def _lock_while_writing(fd: int) -> None:
    """Marks the temporary as a live writer's; where the file system has no flock (some network mounts),
    the writer's pid alone tells."""
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            pass


def _write_temporary(path: str, write) -> str:
    """Writes a synced temporary beside `path` with `write(file)` and returns its name (removed again if
    `write` fails)."""
    tmp = temporary_path(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            _lock_while_writing(f.fileno())
            write(f)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        _remove_quietly(tmp)
        raise
    return tmp


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def _write_atomically(path: str, write, state_filename: str = "checkpoint") -> None:
    """Writes via a temporary file in the same directory, synced to disk before it is renamed into place
    (and the directory after), so readers never see a partial file and a crash never leaves an empty one."""
    directory = os.path.dirname(path) or "."
    remove_stale_temporaries(directory, state_filename)
    tmp = _write_temporary(path, write)
    try:
        os.replace(tmp, path)
    except BaseException:
        _remove_quietly(tmp)
        raise
    _fsync_directory(directory)


def _os_error(e: OSError, path: str) -> _errors.OpError:
    if isinstance(e, FileNotFoundError):
        return _errors.NotFoundError(None, None, f"{os.path.dirname(path) or path}; No such file or directory")
    if isinstance(e, PermissionError):
        return _errors.PermissionDeniedError(None, None, f"{path}; Permission denied")
    return _errors.UnknownError(None, None, f"{path}; {e}")


# ----------------------------------------------------------------------------------------------------------
# Writing (always V2)
# ----------------------------------------------------------------------------------------------------------
def write_checkpoint(prefix: str, tensors: dict) -> str:
    """Writes `tensors` (name -> ndarray, strings as object arrays of bytes, or a tensor_bundle.SlicedTensor
    stored as its slices) as the V2 checkpoint `prefix`: `<prefix>.data-00000-of-00001` in the given order,
    then `<prefix>.index`. Returns `prefix`.

    Both files are complete and synced under temporary names before either is renamed into place; an older
    index of the same prefix is removed first, so a crash never pairs an index with another save's data.
    As TensorFlow's SaveV2 does, a missing directory is created if its own parent exists (a sharded save
    writes into a fresh `<prefix>_temp.../` directory this way)."""
    prefix = os.fspath(prefix)
    data_file, index_file = _bundle.data_path(prefix), _bundle.index_path(prefix)
    directory = os.path.dirname(prefix) or "."
    written = []
    try:
        if not os.path.isdir(directory):
            try:
                os.mkdir(directory)  # one level only: a missing parent stays NotFoundError
            except FileExistsError:
                pass
        remove_stale_temporaries(directory)
        writer = []

        def write_data(f) -> None:
            bundle = _bundle.BundleWriter(f)
            for name, value in tensors.items():
                if isinstance(value, _bundle.SlicedTensor):
                    for extents, part in value.slices:
                        bundle.add_slice(name, value.full_shape, extents, part)
                else:
                    bundle.add(name, value)
            writer.append(bundle)

        written.append(_write_temporary(data_file, write_data))
        written.append(_write_temporary(index_file, lambda f: f.write(writer[0].index_bytes())))
        _remove_quietly(index_file)
        os.replace(written[0], data_file)
        os.replace(written[1], index_file)
    except OSError as e:
        raise _os_error(e, index_file) from None
    finally:
        for tmp in written:
            _remove_quietly(tmp)
    _fsync_directory(directory)
    return prefix


# ----------------------------------------------------------------------------------------------------------
# The legacy .npz reader
# ----------------------------------------------------------------------------------------------------------
# The dtypes a checkpoint may hold, by the names its header uses.
_SAVED_DTYPES = {d.name: d for d in _dt.ALL_TYPES}
# The largest .npy header NumPy reads (its max_header_size) plus the magic, version and length fields.
_MAX_NPY_PREAMBLE = 12 + 10000
# The header member is JSON; no tensor count needs more, and nothing larger is inflated to find out.
_MAX_HEADER_BYTES = 64 << 20
_READ_CHUNK = 1 << 20
# What zipfile, zlib and NumPy's .npy header reader raise on bytes that are not what they claim to be.
_MALFORMED = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError, struct.error,
              NotImplementedError, RuntimeError, OverflowError, KeyError, IndexError)


class _Corrupt(Exception):
    """A checkpoint's bytes contradict its format; becomes a DataLossError naming the file."""


def _check_entry(entry) -> tuple[str, str, _dt.DType, tuple]:
    if not isinstance(entry, dict):
        raise _Corrupt(f"header entry {entry!r} is not an object")
    name, key, dtype, shape = (entry.get(k) for k in ("name", "key", "dtype", "shape"))
    if not isinstance(name, str) or not isinstance(key, str):
        raise _Corrupt(f"header entry {entry!r} has no string name and key")
    if not isinstance(dtype, str) or dtype not in _SAVED_DTYPES:
        raise _Corrupt(f"tensor {name}: {dtype!r} is not a dtype a checkpoint can hold")
    if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
        raise _Corrupt(f"tensor {name}: shape {shape!r} is not a list of non-negative sizes")
    return name, key, _SAVED_DTYPES[dtype], tuple(shape)


class _NpzReader:
    """Reads a legacy tfmini `.npz` checkpoint.

    Opening reads the zip directory and the header only; each tensor is read when asked for, never inflating
    more than its shape and dtype imply. Any contradiction in the file is a DataLossError naming it."""

    def __init__(self, prefix: str) -> None:
        self._prefix = os.fspath(prefix)
        self._path = path = npz_path(self._prefix)
        self._zip = None
        try:
            self._file = open(path, "rb")  # noqa: SIM115 - held open for lazy reads, closed by close()
        except OSError as e:
            raise _os_error(e, path) from None
        try:
            self._zip = zipfile.ZipFile(self._file)
            self._members = {}
            for info in self._zip.infolist():
                if info.filename in self._members:
                    raise _Corrupt(f"member {info.filename} appears twice")
                self._members[info.filename] = info
            raw = self._read_array(_HEADER_KEY, np.dtype(np.uint8), None, _MAX_HEADER_BYTES)
            header = json.loads(raw.tobytes().decode("utf-8"))
            if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
                raise _Corrupt("not a tfmini checkpoint")
            version = header.get("version")
            if type(version) is not int or version < 1:
                raise _Corrupt(f"format version {version!r} is not a positive integer")
            if version > FORMAT_VERSION:
                self.close()
                raise _errors.UnimplementedError(
                    None, None, f"Checkpoint {path} has format version {version}; this tfmini reads "
                    f"versions up to {FORMAT_VERSION}."
                )
            tensors = header.get("tensors")
            if not isinstance(tensors, list):
                raise _Corrupt("the header's tensors are not a list")
            self._entries = {}
            for entry in tensors:
                name, key, dtype, shape = _check_entry(entry)
                if name in self._entries:
                    raise _Corrupt(f"tensor {name} is listed twice")
                self._entries[name] = (key, dtype, shape)
        except (_Corrupt, *_MALFORMED) as e:
            self.close()
            raise _errors.DataLossError(
                None, None, f"Unable to open checkpoint file {path}: not a tfmini checkpoint ({e}). Perhaps the file "
                "is in a different format."
            ) from None

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
        if getattr(self, "_file", None) is not None:
            self._file.close()

    def _read_array(self, member: str, dtype: np.dtype, shape: tuple | None, max_items: int) -> np.ndarray:
        """The .npy array in zip member `member` + '.npy': of `dtype` and exactly `shape`, or 1-D with at most
        `max_items` items when `shape` is None. Inflates no more than that size allows."""
        info = self._members.get(member + ".npy")
        if info is None:
            raise _Corrupt(f"member {member}.npy is missing")
        if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _Corrupt(f"member {member}.npy is encrypted or uses compression method {info.compress_type}")
        items = max_items if shape is None else math.prod(shape)
        if info.file_size > items * dtype.itemsize + _MAX_NPY_PREAMBLE:
            raise _Corrupt(f"member {member}.npy declares {info.file_size} bytes, more than its shape and dtype "
                           "allow")
        with self._zip.open(info) as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                got_shape, fortran, got_dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                got_shape, fortran, got_dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise _Corrupt(f"member {member}.npy has .npy version {version}")
            if got_dtype.hasobject or got_dtype.newbyteorder("<") != dtype.newbyteorder("<"):
                raise _Corrupt(f"member {member}.npy holds {got_dtype}, not {dtype}")
            if shape is None and (len(got_shape) != 1 or got_shape[0] > max_items):
                raise _Corrupt(f"member {member}.npy has shape {got_shape}, not a vector of at most {max_items}")
            # Writers before this reader stored scalars as 1-element vectors.
            if shape is not None and got_shape != shape and not (shape == () and got_shape == (1,)):
                raise _Corrupt(f"member {member}.npy has shape {list(got_shape)}, not {list(shape)}")
            nbytes = math.prod(got_shape) * dtype.itemsize
            if f.tell() + nbytes != info.file_size:
                raise _Corrupt(f"member {member}.npy is {info.file_size} bytes, not the {f.tell() + nbytes} its "
                               ".npy header implies")
            out = np.empty(nbytes, np.uint8)
            view, done = memoryview(out), 0
            while done < nbytes:  # zipfile checks the member's CRC-32 when this reaches its end
                chunk = f.read(min(_READ_CHUNK, nbytes - done))
                if not chunk:
                    raise _Corrupt(f"member {member}.npy is truncated")
                view[done:done + len(chunk)] = chunk
                done += len(chunk)
        order = "F" if fortran else "C"
        if got_dtype.kind == "b":
            arr = (out != 0).reshape(got_shape, order=order)
        else:
            arr = out.view(got_dtype).reshape(got_shape, order=order).astype(dtype.newbyteorder("="), copy=False)
        return np.asarray(arr, order="C").reshape(got_shape if shape is None else shape)

    def get_tensor(self, name: str) -> np.ndarray:
        """The value of tensor `name` (NotFoundError if the checkpoint has none, DataLossError if its bytes
        are corrupted)."""
        entry = self._entries.get(name)
        if entry is None:
            raise _errors.NotFoundError(None, None, f"Key {name} not found in checkpoint")
        key, dtype, shape = entry
        if self._zip is None or self._zip.fp is None:
            raise _errors.FailedPreconditionError(None, None, f"The reader of {self._path} is closed")
        try:
            if dtype != _dt.string:
                return self._read_array(key, np.dtype(dtype.as_numpy_dtype), shape, 0)
            count = math.prod(shape)
            lengths = self._read_array(key + "_lengths", np.dtype(np.int64), (count,), 0)
            data = self._members.get(key + ".npy")
            # Bounding each length by the data member's size keeps their int64 sum from overflowing.
            if count and (lengths.min() < 0 or data is None or lengths.max() > data.file_size):
                raise _Corrupt(f"string lengths {lengths.min()}..{lengths.max()} do not fit member {key}.npy")
            raw = self._read_array(key, np.dtype(np.uint8), (int(lengths.sum()),), 0).tobytes()
        except (_Corrupt, *_MALFORMED) as e:
            raise _errors.DataLossError(
                None, None, f"Checkpoint file {self._path} is corrupted: tensor {name}: {e}"
            ) from None
        ends = np.cumsum(lengths)
        flat = [raw[e - n:e] for e, n in zip(ends.tolist(), lengths.tolist())]
        out = np.empty(len(flat), dtype=object)
        out[:] = flat
        return out.reshape(shape)

    def shapes_and_dtypes(self) -> dict:
        return {name: (shape, dtype) for name, (_, dtype, shape) in self._entries.items()}

    def debug_string(self) -> bytes:
        entries = sorted((name.encode("utf-8"), dtype.as_datatype_enum, shape)
                         for name, (_, dtype, shape) in self._entries.items())
        return b"".join(_bundle.debug_line(*entry) for entry in entries)


# ----------------------------------------------------------------------------------------------------------
# Reading either format
# ----------------------------------------------------------------------------------------------------------
@tf_export("train.CheckpointReader")
class CheckpointReader:
    """Reads the tensors of one checkpoint (`tf.train.NewCheckpointReader` / `tf.train.load_checkpoint`):
    a V2 checkpoint (`<prefix>.index`) or a legacy tfmini one (`<prefix>.npz`).

    Opening reads the index only; each tensor is read and checked when asked for. Any contradiction in the
    files is a DataLossError naming the file."""

    def __init__(self, prefix: str) -> None:
        self._prefix = os.fspath(prefix)
        self._impl = None
        if os.path.isfile(_bundle.index_path(self._prefix)):
            self._impl = _bundle.BundleReader(self._prefix)
        elif os.path.isfile(npz_path(self._prefix)):
            self._impl = _NpzReader(self._prefix)
        else:
            raise _not_a_checkpoint(self._prefix)
        self._entries = self._impl.shapes_and_dtypes()

    def close(self) -> None:
        """Closes the checkpoint's files (reading a tensor after this is an error)."""
        if self._impl is not None:
            self._impl.close()
            self._impl = None

    def __enter__(self) -> CheckpointReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    def has_tensor(self, name: str) -> bool:
        return name in self._entries

    def get_tensor(self, name: str) -> np.ndarray:
        """The value of tensor `name` (NotFoundError if the checkpoint has none, DataLossError if its bytes
        are corrupted)."""
        if name not in self._entries:
            raise _errors.NotFoundError(None, None, f"Key {name} not found in checkpoint")
        if self._impl is None:
            raise _errors.FailedPreconditionError(None, None, f"The reader of checkpoint {self._prefix} is closed")
        return self._impl.get_tensor(name)

    def _get_slices(self, name: str):
        """Tensor `name` as the tensor_bundle.SlicedTensor it is stored as (None when it is stored whole)."""
        if self._impl is None:
            raise _errors.FailedPreconditionError(None, None, f"The reader of checkpoint {self._prefix} is closed")
        get_slices = getattr(self._impl, "get_slices", None)
        return None if get_slices is None else get_slices(name)

    def get_variable_to_shape_map(self) -> dict:
        return {name: list(shape) for name, (shape, _) in self._entries.items()}

    def get_variable_to_dtype_map(self) -> dict:
        """{name: DType}; a tensor of a TensorFlow dtype tfmini lacks is left out."""
        return {name: dtype for name, (_, dtype) in self._entries.items() if dtype is not None}

    def debug_string(self) -> bytes:
        """One line per stored tensor, `name (DT_FLOAT) [2,3]`, in key order, as TensorFlow prints it (a sliced
        tensor shows as its slices' keys)."""
        if self._impl is None:
            raise _errors.FailedPreconditionError(None, None, f"The reader of checkpoint {self._prefix} is closed")
        return self._impl.debug_string()


def _file_has_table_magic(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            if f.seek(0, os.SEEK_END) < sstable.FOOTER_SIZE:
                return False
            f.seek(-8, os.SEEK_END)
            return int.from_bytes(f.read(8), "little") == sstable.MAGIC
    except OSError:
        return False


def _not_a_checkpoint(prefix: str) -> _errors.OpError:
    """The error for a prefix without a V2 index or an .npz file: what the path holds instead, if anything."""
    matches = [prefix] if os.path.isfile(prefix) else sorted(m for m in glob.glob(prefix) if os.path.isfile(m))
    if not matches:
        return _errors.NotFoundError(
            None, None, f"Unsuccessful TensorSliceReader constructor: Failed to find any matching files for {prefix}"
        )
    path = matches[0]
    for suffix in (".index", SUFFIX):
        if path.endswith(suffix):
            return _errors.InvalidArgumentError(
                None, None, f"{path} is a file of the checkpoint {path[:-len(suffix)]}; pass the checkpoint's "
                "prefix (without the file extension)"
            )
    if _bundle.DATA_FILE_PATTERN.search(path):
        stem = _bundle.DATA_FILE_PATTERN.sub("", path)
        return _errors.InvalidArgumentError(
            None, None, f"{path} is a data file of the checkpoint {stem}; pass the checkpoint's prefix {stem}"
        )
    if _file_has_table_magic(path):
        return _errors.UnimplementedError(
            None, None, f"{path} is a V1 checkpoint (TensorFlow's TensorSliceReader format), which tfmini does not "
            "read. Restore it in TensorFlow and save it again with tf.train.Saver(write_version="
            "tf.train.SaverDef.V2) to get the V2 format (<prefix>.index and <prefix>.data-*)."
        )
    return _errors.DataLossError(
        None, None, f"Unable to open table file {path}: Data loss: not an sstable (bad magic number): perhaps your "
        "file is in a different file format and you need to use a different restore operator?"
    )


@tf_export("train.NewCheckpointReader")
def NewCheckpointReader(filepattern: str) -> CheckpointReader:  # noqa: N802 - TF's public name
    return CheckpointReader(filepattern)


def _checkpoint_filename(ckpt_dir_or_file: str) -> str:
    if os.path.isdir(ckpt_dir_or_file):
        latest = latest_checkpoint(ckpt_dir_or_file)
        if latest is None:
            raise ValueError(f"Couldn't find 'checkpoint' file or checkpoints in given directory {ckpt_dir_or_file}")
        return latest
    return ckpt_dir_or_file


@tf_export("train.load_checkpoint")
def load_checkpoint(ckpt_dir_or_file: str) -> CheckpointReader:
    """A reader for the checkpoint `ckpt_dir_or_file` (a prefix, or a directory's latest checkpoint)."""
    return CheckpointReader(_checkpoint_filename(ckpt_dir_or_file))


@tf_export("train.load_variable")
def load_variable(ckpt_dir_or_file: str, name: str) -> np.ndarray:
    """The saved value of variable `name` (a trailing ':0' is ignored)."""
    if name.endswith(":0"):
        name = name[:-2]
    with load_checkpoint(ckpt_dir_or_file) as reader:
        return reader.get_tensor(name)


@tf_export("train.list_variables")
def list_variables(ckpt_dir_or_file: str) -> list:
    """[(name, shape)] of the saved variables, sorted by name."""
    with load_checkpoint(ckpt_dir_or_file) as reader:
        shapes = reader.get_variable_to_shape_map()
    return [(name, shapes[name]) for name in sorted(shapes)]


def _checkpoint_files(prefix: str) -> list[str]:
    """The existing file that marks checkpoint `prefix`: its V2 index, its .npz, or files matching it (V1)."""
    for path in (_bundle.index_path(prefix), npz_path(prefix)):
        if os.path.isfile(path):
            return [path]
    return sorted(glob.glob(prefix))


@tf_export("train.checkpoint_exists")
def checkpoint_exists(checkpoint_prefix: str) -> bool:
    """Whether a checkpoint with this prefix exists (V2, legacy .npz, or files matching it, as TF's V1)."""
    return bool(_checkpoint_files(os.fspath(checkpoint_prefix)))


@tf_export("train.get_checkpoint_mtimes")
def get_checkpoint_mtimes(checkpoint_prefixes) -> list:
    """Modification times (seconds since the epoch) of the existing checkpoints among `checkpoint_prefixes`."""
    return [os.path.getmtime(path) for p in checkpoint_prefixes for path in _checkpoint_files(os.fspath(p))]


@tf_export("train.remove_checkpoint")
def remove_checkpoint(checkpoint_prefix: str, checkpoint_format_version: int = V2,
                      meta_graph_suffix: str = "meta") -> None:
    """Deletes the checkpoint's files: for V2 its index, data shards (and a legacy .npz), for V1 the prefix
    file itself; and its meta graph. Files already gone are skipped."""
    prefix = os.fspath(checkpoint_prefix)
    if checkpoint_format_version == V2:
        paths = [_bundle.index_path(prefix), npz_path(prefix),
                 *glob.glob(glob.escape(prefix) + ".data-[0-9][0-9][0-9][0-9][0-9]-of-[0-9][0-9][0-9][0-9][0-9]")]
    else:
        paths = [prefix]
    for path in [*paths, f"{prefix}.{meta_graph_suffix}"]:
        if os.path.isfile(path):
            _remove_quietly(path)


# ----------------------------------------------------------------------------------------------------------
# The checkpoint state file (TF's CheckpointState proto in text format)
# ----------------------------------------------------------------------------------------------------------
@tf_export("train.CheckpointState")
class CheckpointState:
    """What `tf.train.get_checkpoint_state` returns: the latest checkpoint and those still kept."""

    def __init__(self, model_checkpoint_path: str = "", all_model_checkpoint_paths=(),
                 all_model_checkpoint_timestamps=(), last_preserved_timestamp: float = 0.0) -> None:
        self.model_checkpoint_path = model_checkpoint_path
        self.all_model_checkpoint_paths = list(all_model_checkpoint_paths)
        self.all_model_checkpoint_timestamps = list(all_model_checkpoint_timestamps)
        self.last_preserved_timestamp = last_preserved_timestamp

    def __eq__(self, other) -> bool:
        return isinstance(other, CheckpointState) and vars(self) == vars(other)

    def __str__(self) -> str:
        lines = []
        if self.model_checkpoint_path:
            lines.append(f"model_checkpoint_path: {_quote(self.model_checkpoint_path)}")
        lines += [f"all_model_checkpoint_paths: {_quote(p)}" for p in self.all_model_checkpoint_paths]
        lines += [f"all_model_checkpoint_timestamps: {t!r}" for t in self.all_model_checkpoint_timestamps]
        if self.last_preserved_timestamp:
            lines.append(f"last_preserved_timestamp: {self.last_preserved_timestamp!r}")
        return "".join(line + "\n" for line in lines)

    __repr__ = __str__


def _quote(s: str) -> str:
    out = []
    for b in s.encode("utf-8"):
        c = chr(b)
        if c in "\\\"'":
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif 32 <= b < 127:
            out.append(c)
        else:
            out.append(f"\\{b:03o}")
    return '"' + "".join(out) + '"'


_ESCAPES = {"n": b"\n", "r": b"\r", "t": b"\t", "\\": b"\\", '"': b'"', "'": b"'"}
_LINE = re.compile(r"^\s*(\w+)\s*:\s*(.*?)\s*$")


def _unquote(s: str) -> str:
    if len(s) < 2 or s[0] not in "\"'" or s[-1] != s[0]:
        raise ValueError(f"expected a quoted string, got {s!r}")
    body, out, i = s[1:-1], bytearray(), 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode("utf-8")
            i += 1
        elif body[i + 1:i + 4].isdigit() and len(body[i + 1:i + 4]) == 3:
            out.append(int(body[i + 1:i + 4], 8))
            i += 4
        else:
            out += _ESCAPES.get(body[i + 1], body[i + 1].encode())
            i += 2
    return out.decode("utf-8")


def parse_checkpoint_state(text: str) -> CheckpointState:
    """Parses the text format written by `CheckpointState.__str__` (ValueError if malformed)."""
    state = CheckpointState()
    for line in text.splitlines():
        if not line.strip() or line.strip().startswith("#"):
            continue
        m = _LINE.match(line)
        if m is None:
            raise ValueError(f"cannot parse line {line!r}")
        field, value = m.groups()
        if field == "model_checkpoint_path":
            state.model_checkpoint_path = _unquote(value)
        elif field == "all_model_checkpoint_paths":
            state.all_model_checkpoint_paths.append(_unquote(value))
        elif field == "all_model_checkpoint_timestamps":
            state.all_model_checkpoint_timestamps.append(float(value))
        elif field == "last_preserved_timestamp":
            state.last_preserved_timestamp = float(value)
        else:
            raise ValueError(f"unknown field {field!r}")
    return state


def _state_path(checkpoint_dir: str, latest_filename) -> str:
    return os.path.join(checkpoint_dir, latest_filename or "checkpoint")


@tf_export("train.get_checkpoint_state")
def get_checkpoint_state(checkpoint_dir: str, latest_filename=None):
    """The CheckpointState in `<checkpoint_dir>/checkpoint`, with relative paths made relative to the
    directory; None if there is no (readable) state file."""
    path = _state_path(checkpoint_dir, latest_filename)
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            ckpt = parse_checkpoint_state(f.read())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not ckpt.model_checkpoint_path:
        raise ValueError(f"Invalid checkpoint state loaded from {checkpoint_dir}")
    if not os.path.isabs(ckpt.model_checkpoint_path):
        ckpt.model_checkpoint_path = os.path.join(checkpoint_dir, ckpt.model_checkpoint_path)
    ckpt.all_model_checkpoint_paths = [p if os.path.isabs(p) else os.path.join(checkpoint_dir, p)
                                       for p in ckpt.all_model_checkpoint_paths]
    return ckpt


@tf_export("train.update_checkpoint_state")
def update_checkpoint_state(save_dir: str, model_checkpoint_path: str, all_model_checkpoint_paths=None,
                            latest_filename=None, all_model_checkpoint_timestamps=None,
                            last_preserved_timestamp=None, save_relative_paths: bool = False) -> None:
    """Writes `<save_dir>/checkpoint` naming `model_checkpoint_path` as the latest checkpoint. Paths are
    written as given, except that paths under a relative `save_dir` (and, with `save_relative_paths`, all
    paths) are written relative to `save_dir`."""
    save_dir = save_dir or "."
    paths = list(all_model_checkpoint_paths or [])
    if save_relative_paths:
        model_checkpoint_path = _relative_to(model_checkpoint_path, save_dir, absolute=True)
        paths = [_relative_to(p, save_dir, absolute=True) for p in paths]
    if not paths or paths[-1] != model_checkpoint_path:
        paths.append(model_checkpoint_path)
    timestamps = list(all_model_checkpoint_timestamps or [])
    if timestamps and len(timestamps) != len(paths):
        raise ValueError(f"Checkpoint timestamps, if provided, must match checkpoint paths (got paths {paths} and "
                         f"timestamps {timestamps})")
    if not os.path.isabs(save_dir):
        model_checkpoint_path = _relative_to(model_checkpoint_path, save_dir, absolute=False)
        paths = [_relative_to(p, save_dir, absolute=False) for p in paths]
    path = _state_path(save_dir, latest_filename)
    if os.path.normpath(path) == os.path.normpath(model_checkpoint_path):
        raise RuntimeError(f"Save path '{model_checkpoint_path}' conflicts with path used for checkpoint state.  "
                           "Please use a different save path.")
    state = CheckpointState(model_checkpoint_path, paths, timestamps, last_preserved_timestamp or 0.0)
    _write_atomically(path, lambda f: f.write(str(state).encode("utf-8")), os.path.basename(path))


def _relative_to(p: str, save_dir: str, absolute: bool) -> str:
    """`p` relative to `save_dir` if `p` is absolute (`absolute`) or relative (not `absolute`)."""
    return os.path.relpath(p, save_dir) if os.path.isabs(p) == absolute else p


@tf_export("train.latest_checkpoint")
def latest_checkpoint(checkpoint_dir: str, latest_filename=None) -> str | None:
    """The prefix of the newest checkpoint recorded in `checkpoint_dir`, if its file exists, else None."""
    ckpt = get_checkpoint_state(checkpoint_dir, latest_filename)
    if ckpt and ckpt.model_checkpoint_path and checkpoint_exists(ckpt.model_checkpoint_path):
        return ckpt.model_checkpoint_path
    return None
