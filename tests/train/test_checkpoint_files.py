"""Checkpoint files under failure: durable atomic writes of the V2 files (each fsynced before any rename, the
directory after), temporaries of dead writers cleaned by the next save, lazy readers bounded by each tensor's
declared size, and for the legacy .npz format (still read) zip bombs refused and DataLossError naming the file
and tensor for every kind of corruption. V2 corruption is in test_tensor_bundle.py."""

import json
import os
import stat
import struct
import subprocess
import sys
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

import tfmini as tf
from tfmini.train import checkpoint as ckpt
from tfmini.train import tensor_bundle

MiB = 1 << 20


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield


def _write(tmp_path, name="m", tensors=None):
    """A legacy tfmini .npz checkpoint of `tensors`, laid out as docs/checkpoint_format.md describes."""
    tensors = tensors if tensors is not None else {
        "w": np.arange(6, dtype=np.float32).reshape(2, 3), "s": np.array([b"ab", b"\x00"], dtype=object)}
    entries, arrays = [], {}
    for i, (key, value) in enumerate(sorted(tensors.items())):
        arr = np.asarray(value)
        entry = {"name": key, "key": f"t{i}", "shape": list(arr.shape)}
        if arr.dtype.kind == "O":
            entry["dtype"] = "string"
            arrays[f"t{i}"] = np.frombuffer(b"".join(arr.reshape(-1)), np.uint8)
            arrays[f"t{i}_lengths"] = np.array([len(x) for x in arr.reshape(-1)], np.int64)
        else:
            entry["dtype"] = tf.as_dtype(arr.dtype).name
            arrays[f"t{i}"] = arr
        entries.append(entry)
    prefix = str(tmp_path / name)
    _savez_with_header(prefix + ".npz", {"format": "tfmini-checkpoint", "version": 1, "tensors": entries}, **arrays)
    return prefix


def _read_everything(prefix):
    reader = tf.train.NewCheckpointReader(prefix)
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


# ----------------------------------------------------------------------------------------------------------
# Durable, atomic writes
# ----------------------------------------------------------------------------------------------------------
def test_save_fsyncs_both_files_before_either_rename_and_the_directory_after(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        mode = os.fstat(fd).st_mode
        name = os.path.basename(os.readlink(f"/proc/self/fd/{fd}")) if not stat.S_ISDIR(mode) else None
        events.append(("fsync-dir", None) if stat.S_ISDIR(mode) else ("fsync", name.split(".tempstate.")[0]))
        real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", os.path.basename(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    ckpt.write_checkpoint(str(tmp_path / "m"), {"w": np.array([1.0, 2.0])})
    assert events == [("fsync", "m.data-00000-of-00001"), ("fsync", "m.index"),
                      ("replace", "m.data-00000-of-00001"), ("replace", "m.index"), ("fsync-dir", None)]
    events.clear()
    ckpt.update_checkpoint_state(str(tmp_path), str(tmp_path / "m"))
    assert events == [("fsync", "checkpoint"), ("replace", "checkpoint"), ("fsync-dir", None)]


def test_temporary_files_are_attributable_and_removed_when_a_write_fails(tmp_path, monkeypatch):
    name = os.path.basename(ckpt.temporary_path(str(tmp_path / "m.index")))
    assert name.startswith("m.index.tempstate.") and f".{os.getpid()}." in name
    real_add = tensor_bundle.BundleWriter.add

    def fail_on_second(self, key, value):
        if key == "y":
            raise OSError(28, "No space left on device")
        real_add(self, key, value)

    monkeypatch.setattr(tensor_bundle.BundleWriter, "add", fail_on_second)
    with pytest.raises(tf.errors.UnknownError, match="No space left"):
        ckpt.write_checkpoint(str(tmp_path / "m"), {"x": np.zeros(3), "y": np.zeros(3)})
    assert os.listdir(tmp_path) == []


def test_a_failed_index_write_keeps_the_previous_checkpoint_whole(tmp_path, monkeypatch):
    prefix = ckpt.write_checkpoint(str(tmp_path / "m"), {"x": np.arange(3.0)})

    def fail(self):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tensor_bundle.BundleWriter, "index_bytes", fail)
    with pytest.raises(tf.errors.UnknownError, match="No space left"):
        ckpt.write_checkpoint(prefix, {"x": np.arange(3.0) + 10})
    assert sorted(os.listdir(tmp_path)) == ["m.data-00000-of-00001", "m.index"]
    assert tf.train.load_variable(prefix, "x").tolist() == [0.0, 1.0, 2.0]


def test_an_overwrite_interrupted_between_its_renames_leaves_no_mixed_checkpoint(tmp_path, monkeypatch):
    prefix = ckpt.write_checkpoint(str(tmp_path / "m"), {"x": np.arange(3.0)})
    real_replace = os.replace

    def crash_before_the_index(src, dst):
        if dst.endswith(".index"):
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_before_the_index)
    with pytest.raises(KeyboardInterrupt):
        ckpt.write_checkpoint(prefix, {"x": np.arange(3.0) + 10})
    monkeypatch.setattr(os, "replace", real_replace)
    # The old index went first: the prefix is no checkpoint now, rather than an index over other data.
    assert not tf.train.checkpoint_exists(prefix)
    assert os.listdir(tmp_path) == ["m.data-00000-of-00001"]
    ckpt.write_checkpoint(prefix, {"x": np.arange(3.0) + 20})
    assert tf.train.load_variable(prefix, "x").tolist() == [20.0, 21.0, 22.0]


def _dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_next_save_removes_temporaries_of_dead_writers_only(tmp_path):
    dead = ckpt.temporary_path(str(tmp_path / "old.npz"), pid=_dead_pid())
    dead_state = ckpt.temporary_path(str(tmp_path / "checkpoint"), pid=_dead_pid())
    dead_index = ckpt.temporary_path(str(tmp_path / "old.index"), pid=_dead_pid())
    dead_data = ckpt.temporary_path(str(tmp_path / "old.data-00001-of-00002"), pid=_dead_pid())
    live = ckpt.temporary_path(str(tmp_path / "live.npz"))  # this process: a writer still running
    lookalikes = [str(tmp_path / n) for n in ("m.npz.tempstate", "m.npz.tempstate.x.1.abc", "notes.txt",
                                              os.path.basename(dead) + ".bak")]
    for path in [dead, dead_state, dead_index, dead_data, live, *lookalikes]:
        with open(path, "wb") as f:
            f.write(b"partial")
    w = tf.Variable(1.0, name="w")
    with tf.Session() as sess:
        sess.run(w.initializer)
        tf.train.Saver().save(sess, str(tmp_path / "m"))
    left = set(os.listdir(tmp_path))
    assert not {os.path.basename(p) for p in (dead, dead_state, dead_index, dead_data)} & left
    assert {os.path.basename(p) for p in [live, *lookalikes]} <= left
    assert {"m.index", "m.data-00000-of-00001", "checkpoint"} <= left


def test_a_temporary_locked_by_a_live_writer_survives_even_if_its_pid_looks_dead(tmp_path):
    import fcntl

    busy = ckpt.temporary_path(str(tmp_path / "busy.npz"), pid=_dead_pid())
    with open(busy, "wb") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        ckpt.write_checkpoint(str(tmp_path / "m"), {"x": np.zeros(2)})
        assert os.path.exists(busy)
    ckpt.write_checkpoint(str(tmp_path / "m"), {"x": np.zeros(2)})
    assert not os.path.exists(busy)


# ----------------------------------------------------------------------------------------------------------
# A lazy, bounded reader
# ----------------------------------------------------------------------------------------------------------
def _peak_bytes(fn):
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("fmt", ["v2", "npz"])
def test_opening_a_checkpoint_reads_only_its_index(tmp_path, fmt):
    tensors = {"a": np.ones(8 * MiB // 4, np.float32), "b": np.full(8 * MiB // 4, 2, np.float32)}
    write = ckpt.write_checkpoint if fmt == "v2" else lambda p, t: _write(tmp_path, "m", t)
    prefix = write(str(tmp_path / "m"), tensors)
    reader, peak = _peak_bytes(lambda: tf.train.NewCheckpointReader(prefix))
    assert peak < MiB
    value, peak = _peak_bytes(lambda: reader.get_tensor("b"))
    assert peak < 8 * MiB + 3 * MiB and value.dtype == np.float32 and (value == 2).all()


def _zip(path, members):
    """A zip file whose members are given as (name, stored bytes, method, declared size, crc), so tests can
    declare sizes and checksums the data does not have."""
    local, central = bytearray(), bytearray()
    for name, data, method, size, crc in members:
        encoded = name.encode()
        header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, crc, len(data), size, len(encoded), 0)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0, crc, len(data), size,
                               len(encoded), 0, 0, 0, 0, 0, len(local)) + encoded
        local += header + encoded + data
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(local), 0)
    with open(path, "wb") as f:
        f.write(bytes(local + central + end))


def _npy_header(dtype, shape):
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                                               "fortran_order": False, "shape": shape})
    return buf.getvalue()


def _npy_bytes(arr):
    import io

    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _header_member(tensors):
    header = {"format": "tfmini-checkpoint", "version": 1, "tensors": tensors}
    data = _npy_bytes(np.frombuffer(json.dumps(header).encode(), np.uint8))
    return ("__tfmini_checkpoint__.npy", data, zipfile.ZIP_STORED, len(data), zlib.crc32(data))


def _deflated_zeros(prefix_bytes, mib):
    """A raw deflate stream of `prefix_bytes` followed by `mib` MiB of zeros, about 1000 times smaller."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = comp.compress(prefix_bytes) + comp.flush(zlib.Z_FULL_FLUSH)
    block = comp.compress(bytes(MiB)) + comp.flush(zlib.Z_FULL_FLUSH)
    return head + block * mib + comp.flush()


BOMB_MIB = 1536


@pytest.mark.parametrize("declared", ["honest", "lying"])
def test_a_zip_bomb_member_is_data_loss_without_inflating_it(tmp_path, declared):
    head = _npy_header(np.float32, (4,))
    stream = _deflated_zeros(head, BOMB_MIB)
    assert len(stream) < 2 * MiB
    size = len(head) + BOMB_MIB * MiB if declared == "honest" else len(head) + 16
    _zip(tmp_path / "bomb.npz", [
        _header_member([{"name": "x", "key": "t0", "dtype": "float32", "shape": [4]}]),
        ("t0.npy", stream, zipfile.ZIP_DEFLATED, size, 0)])
    reader = tf.train.NewCheckpointReader(str(tmp_path / "bomb"))
    assert reader.get_variable_to_shape_map() == {"x": [4]}
    tracemalloc.start()
    try:
        with pytest.raises(tf.errors.DataLossError, match="bomb.npz.*tensor x"):
            reader.get_tensor("x")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * MiB


def test_a_zip_bomb_header_is_data_loss_without_inflating_it(tmp_path):
    stream = _deflated_zeros(_npy_header(np.uint8, (BOMB_MIB * MiB,)), BOMB_MIB)
    _zip(tmp_path / "hb.npz", [("__tfmini_checkpoint__.npy", stream, zipfile.ZIP_DEFLATED,
                                BOMB_MIB * MiB + 128, 0)])
    tracemalloc.start()
    try:
        with pytest.raises(tf.errors.DataLossError, match="hb.npz"):
            tf.train.NewCheckpointReader(str(tmp_path / "hb"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * MiB


def test_a_compressed_checkpoint_within_its_declared_sizes_reads(tmp_path):
    header = {"format": "tfmini-checkpoint", "version": 1,
              "tensors": [{"name": "x", "key": "t0", "dtype": "int64", "shape": [2, 2]}]}
    np.savez_compressed(str(tmp_path / "c.npz"), t0=np.arange(4).reshape(2, 2),
                        __tfmini_checkpoint__=np.frombuffer(json.dumps(header).encode(), np.uint8))
    assert tf.train.load_variable(str(tmp_path / "c"), "x").tolist() == [[0, 1], [2, 3]]


# ----------------------------------------------------------------------------------------------------------
# Corruption is DataLossError naming the file (and the tensor)
# ----------------------------------------------------------------------------------------------------------
def _rewrite(path, fn):
    with open(path, "rb") as f:
        data = bytearray(f.read())
    data = fn(data)
    with open(path, "wb") as f:
        f.write(bytes(data))


def _member_offset(path, member):
    with zipfile.ZipFile(path) as zf:
        return zf.getinfo(member).header_offset


def _flip(at):
    def fn(data):
        data[at(data)] ^= 0x10
        return data
    return fn


def _savez_with_header(path, header, **arrays):
    np.savez(path, __tfmini_checkpoint__=np.frombuffer(json.dumps(header).encode(), np.uint8), **arrays)


def _entry(**changes):
    entry = {"name": "x", "key": "t0", "dtype": "float32", "shape": [2, 3]}
    entry.update(changes)
    return entry


def _corrupt_file(kind, path):
    """Turns the checkpoint file at `path` (written by _write) into the corruption `kind`."""
    data_member = _member_offset(path, "t1.npy")
    header = {"format": "tfmini-checkpoint", "version": 1}
    x = np.zeros((2, 3), np.float32)
    {
        "empty": lambda: _rewrite(path, lambda d: bytearray()),
        "truncated": lambda: _rewrite(path, lambda d: d[:len(d) // 2]),
        "truncated_tail": lambda: _rewrite(path, lambda d: d[:-30]),
        "wrong_magic": lambda: _rewrite(path, lambda d: bytearray(b"GIF8") + d[4:]),
        "bad_directory": lambda: _rewrite(path, _flip(lambda d: d.rfind(b"PK\x01\x02") + 42)),
        "bad_member_header": lambda: _rewrite(path, _flip(lambda d: data_member)),
        "bit_flip_in_data": lambda: _rewrite(path, _flip(lambda d: data_member + 200)),
        "unsupported_compression": lambda: _rewrite(path, lambda d: _set_method(d, 99)),
        "encrypted": lambda: _rewrite(path, lambda d: _set_flags(d, 1)),
        "not_json": lambda: np.savez(path, __tfmini_checkpoint__=np.frombuffer(b"{nope", np.uint8)),
        "header_not_bytes": lambda: np.savez(path, __tfmini_checkpoint__=np.zeros(3, np.float64)),
        "tensors_not_a_list": lambda: _savez_with_header(path, {**header, "tensors": {"x": 1}}),
        "version_not_an_int": lambda: _savez_with_header(path, {**header, "version": "1", "tensors": []}),
        "wrong_dtype": lambda: _savez_with_header(path, {**header, "tensors": [_entry(dtype="int32")]}, t0=x),
        "ref_dtype": lambda: _savez_with_header(path, {**header, "tensors": [_entry(dtype="float32_ref")]}, t0=x),
        "unknown_dtype": lambda: _savez_with_header(path, {**header, "tensors": [_entry(dtype="float128")]}, t0=x),
        "wrong_shape": lambda: _savez_with_header(path, {**header, "tensors": [_entry(shape=[3, 2])]}, t0=x),
        "negative_shape": lambda: _savez_with_header(path, {**header, "tensors": [_entry(shape=[-2, 3])]}, t0=x),
        "huge_shape": lambda: _savez_with_header(path, {**header, "tensors": [_entry(shape=[2**62, 2**62])]},
                                                 t0=x),
        "missing_member": lambda: _savez_with_header(path, {**header, "tensors": [_entry()]}, t1=x),
        "missing_lengths": lambda: _savez_with_header(
            path, {**header, "tensors": [_entry(dtype="string", shape=[1])]}, t0=np.zeros(2, np.uint8)),
        "lengths_past_data": lambda: _savez_with_header(
            path, {**header, "tensors": [_entry(dtype="string", shape=[2])]}, t0=np.zeros(2, np.uint8),
            t0_lengths=np.array([1, 5])),
        "negative_lengths": lambda: _savez_with_header(
            path, {**header, "tensors": [_entry(dtype="string", shape=[2])]}, t0=np.zeros(2, np.uint8),
            t0_lengths=np.array([3, -1])),
        "duplicate_names": lambda: _savez_with_header(path, {**header, "tensors": [_entry(), _entry(key="t1")]},
                                                      t0=x, t1=x),
        "object_member": lambda: _savez_with_header(path, {**header, "tensors": [_entry(dtype="string")]},
                                                    t0=np.array([b"a"], dtype=object)),
    }[kind]()


CORRUPTIONS = ["empty", "truncated", "truncated_tail", "wrong_magic", "bad_directory", "bad_member_header",
               "bit_flip_in_data", "unsupported_compression", "encrypted", "not_json", "header_not_bytes",
               "tensors_not_a_list", "version_not_an_int", "wrong_dtype", "ref_dtype", "unknown_dtype",
               "wrong_shape", "negative_shape", "huge_shape", "missing_member", "missing_lengths",
               "lengths_past_data", "negative_lengths", "duplicate_names", "object_member"]


def _set_method(data, method):
    """Sets the compression method of the second member (t1) in its local header and in the directory."""
    local = data.find(b"PK\x03\x04", data.find(b"PK\x03\x04") + 4)
    struct.pack_into("<H", data, local + 8, method)
    central = data.find(b"PK\x01\x02", data.find(b"PK\x01\x02") + 4)
    struct.pack_into("<H", data, central + 10, method)
    return data


def _set_flags(data, flags):
    local = data.find(b"PK\x03\x04", data.find(b"PK\x03\x04") + 4)
    struct.pack_into("<H", data, local + 6, flags)
    central = data.find(b"PK\x01\x02", data.find(b"PK\x01\x02") + 4)
    struct.pack_into("<H", data, central + 8, flags)
    return data


@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_every_corruption_is_data_loss_naming_the_file(tmp_path, kind):
    prefix = _write(tmp_path)
    path = prefix + ".npz"
    _corrupt_file(kind, path)
    with pytest.raises(tf.errors.DataLossError) as info:
        _read_everything(prefix)
    assert path in info.value.message
    if kind in ("wrong_dtype", "wrong_shape", "missing_member", "bit_flip_in_data", "lengths_past_data"):
        assert "tensor " in info.value.message


def test_a_corrupted_checkpoint_fails_restore_with_data_loss_and_the_session_stays_usable(tmp_path):
    w = tf.Variable(np.arange(6, dtype=np.float32).reshape(2, 3), name="w")
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(w.initializer)
        path = saver.save(sess, str(tmp_path / "m"))
        _rewrite(path + ".data-00000-of-00001", _flip(lambda d: 5))
        with pytest.raises(tf.errors.DataLossError, match="(?s)m.data-00000-of-00001.*tensor w.*save/RestoreV2"):
            saver.restore(sess, path)
        np.testing.assert_array_equal(sess.run(w), np.arange(6).reshape(2, 3))


def test_a_missing_checkpoint_file_stays_not_found(tmp_path):
    with pytest.raises(tf.errors.NotFoundError):
        tf.train.NewCheckpointReader(str(tmp_path / "gone"))


def test_nothing_is_unpickled(tmp_path, monkeypatch):
    import pickle

    def refuse(*args, **kwargs):
        raise AssertionError("a checkpoint read unpickled data")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    prefix = _write(tmp_path)
    _corrupt_file("object_member", prefix + ".npz")
    with pytest.raises(tf.errors.DataLossError, match="tensor x"):
        _read_everything(prefix)


@pytest.mark.parametrize("fmt", ["v2", "npz"])
def test_a_closed_reader_says_so_instead_of_blaming_the_file(tmp_path, fmt):
    tensors = {"w": np.zeros(2)}
    prefix = ckpt.write_checkpoint(str(tmp_path / "m"), tensors) if fmt == "v2" else _write(tmp_path, "m", tensors)
    reader = tf.train.NewCheckpointReader(prefix)
    reader.close()
    with pytest.raises(tf.errors.FailedPreconditionError, match="closed"):
        reader.get_tensor("w")


def test_a_file_system_without_flock_still_saves(tmp_path, monkeypatch):
    import fcntl

    def no_locks(fd, op):
        raise OSError(37, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    prefix = ckpt.write_checkpoint(str(tmp_path / "m"), {"w": np.zeros((2, 3))})
    assert tf.train.load_variable(prefix, "w").shape == (2, 3)


def test_legacy_npz_scalars_read_back_as_scalars(tmp_path):
    prefix = _write(tmp_path, tensors={"s": np.float32(2.5), "t": np.array(b"x", dtype=object)})
    header = {"format": "tfmini-checkpoint", "version": 1,
              "tensors": [{"name": "old", "key": "t0", "dtype": "int64", "shape": []}]}
    _savez_with_header(str(tmp_path / "old.npz"), header, t0=np.array([7], np.int64))  # older writers: shape (1,)
    reader = tf.train.NewCheckpointReader(prefix)
    assert reader.get_tensor("s").shape == () and reader.get_tensor("s") == np.float32(2.5)
    assert reader.get_tensor("t").shape == () and reader.get_tensor("t").item() == b"x"
    old = tf.train.load_variable(str(tmp_path / "old"), "old")
    assert old.shape == () and old == 7
    assert tf.train.list_variables(prefix) == [("s", []), ("t", [])]


def test_legacy_npz_debug_string_has_tensorflows_layout(tmp_path):
    with tf.train.NewCheckpointReader(_write(tmp_path)) as reader:
        assert reader.debug_string() == b"s (DT_STRING) [2]\nw (DT_FLOAT) [2,3]\n"
