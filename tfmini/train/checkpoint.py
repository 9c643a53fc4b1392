"""Checkpoint files and the checkpoint state file.

A checkpoint is one file, `<prefix>.npz`: tfmini's own versioned format on NumPy's .npz (specified in
docs/checkpoint_format.md). The state file `<dir>/checkpoint` lists a directory's checkpoints in TF's
CheckpointState text format. This module knows files, never graphs or sessions.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import zipfile

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors

FORMAT_NAME = "tfmini-checkpoint"
FORMAT_VERSION = 1
SUFFIX = ".npz"
_HEADER_KEY = "__tfmini_checkpoint__"


def data_path(prefix: str) -> str:
    """The file a checkpoint `prefix` is stored in."""
    return os.fspath(prefix) + SUFFIX


def _write_atomically(path: str, write) -> None:
    """Writes via a temporary file in the same directory, so readers never see a partial file."""
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _os_error(e: OSError, path: str) -> _errors.OpError:
    if isinstance(e, FileNotFoundError):
        return _errors.NotFoundError(None, None, f"{os.path.dirname(path) or path}; No such file or directory")
    if isinstance(e, PermissionError):
        return _errors.PermissionDeniedError(None, None, f"{path}; Permission denied")
    return _errors.UnknownError(None, None, f"{path}; {e}")


# ----------------------------------------------------------------------------------------------------------
# Writing and reading checkpoints
# ----------------------------------------------------------------------------------------------------------
def write_checkpoint(prefix: str, tensors: dict) -> str:
    """Writes `tensors` (name -> ndarray, with `dtypes` as TF dtype names in `tensors[name].dtype` or object
    arrays of bytes for strings) to `<prefix>.npz`; returns `prefix`. Raises tf.errors on I/O failure."""
    entries, arrays = [], {}
    for i, (name, value) in enumerate(sorted(tensors.items())):
        key = f"t{i}"
        arr = np.asarray(value)
        entry = {"name": name, "key": key, "shape": list(arr.shape)}
        if arr.dtype.kind == "O":
            flat = [x if isinstance(x, bytes) else str(x).encode() for x in arr.reshape(-1)]
            entry["dtype"] = "string"
            arrays[key] = np.frombuffer(b"".join(flat), dtype=np.uint8)
            arrays[key + "_lengths"] = np.array([len(x) for x in flat], dtype=np.int64)
        else:
            entry["dtype"] = _dt.as_dtype(arr.dtype).name
            arrays[key] = np.ascontiguousarray(arr)
        entries.append(entry)
    header = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "tensors": entries}
    arrays[_HEADER_KEY] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    path = data_path(prefix)
    try:
        _write_atomically(path, lambda f: np.savez(f, **arrays))
    except OSError as e:
        raise _os_error(e, path) from None
    return os.fspath(prefix)


class CheckpointReader:
    """Reads the tensors of one checkpoint (`tf.train.NewCheckpointReader` / `tf.train.load_checkpoint`)."""

    def __init__(self, prefix: str) -> None:
        self._prefix = os.fspath(prefix)
        path = data_path(self._prefix)
        if not os.path.isfile(path):
            raise _errors.NotFoundError(
                None, None, f"Unsuccessful TensorSliceReader constructor: Failed to find any matching files for "
                f"{self._prefix}"
            )
        try:
            with np.load(path, allow_pickle=False) as npz:
                header = json.loads(bytes(npz[_HEADER_KEY]).decode())
                if header.get("format") != FORMAT_NAME:
                    raise ValueError("not a tfmini checkpoint")
                if header.get("version", 0) > FORMAT_VERSION:
                    raise _errors.UnimplementedError(
                        None, None, f"Checkpoint {path} has format version {header['version']}; this tfmini reads "
                        f"versions up to {FORMAT_VERSION}."
                    )
                self._entries = {e["name"]: e for e in header["tensors"]}
                self._arrays = {k: npz[k] for k in npz.files if k != _HEADER_KEY}
        except (zipfile.BadZipFile, KeyError, ValueError, OSError, json.JSONDecodeError) as e:
            raise _errors.DataLossError(
                None, None, f"Unable to open checkpoint file {path}: not a tfmini checkpoint ({e}). Perhaps the file "
                "is in a different format."
            ) from None

    def has_tensor(self, name: str) -> bool:
        return name in self._entries

    def get_tensor(self, name: str) -> np.ndarray:
        """The value of tensor `name` (NotFoundError if the checkpoint has none)."""
        entry = self._entries.get(name)
        if entry is None:
            raise _errors.NotFoundError(None, None, f"Key {name} not found in checkpoint")
        data = self._arrays[entry["key"]]
        if entry["dtype"] == "string":
            lengths = self._arrays[entry["key"] + "_lengths"]
            raw = data.tobytes()
            ends = np.cumsum(lengths)
            flat = [raw[e - n:e] for e, n in zip(ends.tolist(), lengths.tolist())]
            out = np.empty(len(flat), dtype=object)
            out[:] = flat
            return out.reshape(entry["shape"])
        return np.array(data, dtype=_dt.as_dtype(entry["dtype"]).as_numpy_dtype).reshape(entry["shape"])

    def get_variable_to_shape_map(self) -> dict:
        return {name: list(e["shape"]) for name, e in self._entries.items()}

    def get_variable_to_dtype_map(self) -> dict:
        return {name: _dt.as_dtype(e["dtype"]) for name, e in self._entries.items()}

    def debug_string(self) -> bytes:
        lines = [f"{n} ({e['dtype']}) {e['shape']}" for n, e in sorted(self._entries.items())]
        return ("\n".join(lines) + "\n").encode()


def NewCheckpointReader(filepattern: str) -> CheckpointReader:  # noqa: N802 - TF's public name
    return CheckpointReader(filepattern)


def _checkpoint_filename(ckpt_dir_or_file: str) -> str:
    if os.path.isdir(ckpt_dir_or_file):
        latest = latest_checkpoint(ckpt_dir_or_file)
        if latest is None:
            raise ValueError(f"Couldn't find 'checkpoint' file or checkpoints in given directory {ckpt_dir_or_file}")
        return latest
    return ckpt_dir_or_file


def load_checkpoint(ckpt_dir_or_file: str) -> CheckpointReader:
    """A reader for the checkpoint `ckpt_dir_or_file` (a prefix, or a directory's latest checkpoint)."""
    return CheckpointReader(_checkpoint_filename(ckpt_dir_or_file))


def load_variable(ckpt_dir_or_file: str, name: str) -> np.ndarray:
    """The saved value of variable `name` (a trailing ':0' is ignored)."""
    if name.endswith(":0"):
        name = name[:-2]
    return load_checkpoint(ckpt_dir_or_file).get_tensor(name)


def list_variables(ckpt_dir_or_file: str) -> list:
    """[(name, shape)] of the saved variables, sorted by name."""
    shapes = load_checkpoint(ckpt_dir_or_file).get_variable_to_shape_map()
    return [(name, shapes[name]) for name in sorted(shapes)]


def checkpoint_exists(checkpoint_prefix: str) -> bool:
    """Whether a checkpoint with this prefix exists."""
    return os.path.isfile(data_path(checkpoint_prefix))


def get_checkpoint_mtimes(checkpoint_prefixes) -> list:
    """Modification times (seconds since the epoch) of the existing checkpoints among `checkpoint_prefixes`."""
    return [os.path.getmtime(data_path(p)) for p in checkpoint_prefixes if checkpoint_exists(p)]


def remove_checkpoint(checkpoint_prefix: str, checkpoint_format_version=None, meta_graph_suffix: str = "meta") -> None:
    """Deletes the checkpoint's files."""
    for path in (data_path(checkpoint_prefix), f"{checkpoint_prefix}.{meta_graph_suffix}"):
        if os.path.exists(path):
            os.remove(path)


# ----------------------------------------------------------------------------------------------------------
# The checkpoint state file (TF's CheckpointState proto in text format)
# ----------------------------------------------------------------------------------------------------------
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
    _write_atomically(path, lambda f: f.write(str(state).encode("utf-8")))


def _relative_to(p: str, save_dir: str, absolute: bool) -> str:
    """`p` relative to `save_dir` if `p` is absolute (`absolute`) or relative (not `absolute`)."""
    return os.path.relpath(p, save_dir) if os.path.isabs(p) == absolute else p


def latest_checkpoint(checkpoint_dir: str, latest_filename=None) -> str | None:
    """The prefix of the newest checkpoint recorded in `checkpoint_dir`, if its file exists, else None."""
    ckpt = get_checkpoint_state(checkpoint_dir, latest_filename)
    if ckpt and ckpt.model_checkpoint_path and checkpoint_exists(ckpt.model_checkpoint_path):
        return ckpt.model_checkpoint_path
    return None
