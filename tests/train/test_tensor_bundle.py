"""TensorFlow's V2 checkpoint format (tensor bundle): checkpoints TensorFlow wrote (recorded by
tools/tf_fixtures/gen_checkpoints.py) read and restore here, tfmini writes TensorFlow's bytes, the index table
round-trips, and every kind of damage is a DataLossError naming the file."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import tfmini as tf
from tfmini.protobuf import tensor_bundle_pb2
from tfmini.train import checkpoint as ckpt
from tfmini.train import sstable, tensor_bundle

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "checkpoints"
DTYPES = str(FIXTURES / "dtypes" / "ckpt")


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield


def _expected_dtypes_values() -> dict:
    with np.load(FIXTURES / "dtypes" / "values.npz", allow_pickle=False) as npz:
        values = {k.replace("__", "/"): npz[k] for k in npz.files}
    strings = json.loads((FIXTURES / "dtypes" / "strings.json").read_text())
    shapes = {"str_scalar": (), "str_vector": (4,), "str_matrix": (2, 2)}
    for name, hexes in strings.items():
        arr = np.empty(len(hexes), dtype=object)
        arr[:] = [bytes.fromhex(h) for h in hexes]
        values[name] = arr.reshape(shapes[name])
    return values


def _assert_same(got, want, name=""):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, name
    if want.dtype == object:
        assert got.dtype == object and got.tolist() == want.tolist(), name
    else:
        assert got.dtype == want.dtype, name
        np.testing.assert_array_equal(got, want, err_msg=name)


# ----------------------------------------------------------------------------------------------------------
# Checkpoints TensorFlow wrote
# ----------------------------------------------------------------------------------------------------------
def test_every_dtype_tensorflow_saved_reads_back_exactly():
    want = _expected_dtypes_values()
    with tf.train.NewCheckpointReader(DTYPES) as reader:
        shapes = reader.get_variable_to_shape_map()
        assert shapes == {**{n: list(np.shape(v)) for n, v in want.items()}, "bf16": [2]}
        dtypes = reader.get_variable_to_dtype_map()
        for name, value in want.items():
            _assert_same(reader.get_tensor(name), value, name)
            expected = tf.string if value.dtype == object else tf.as_dtype(value.dtype)
            assert dtypes[name] == expected
        assert dtypes["bf16"] == tf.bfloat16
        with pytest.raises(tf.errors.UnimplementedError, match="bf16.*bfloat16"):
            reader.get_tensor("bf16")


@pytest.mark.parametrize("name", ["dtypes", "partitioned", "sharded"])
def test_debug_string_prints_what_tensorflow_prints(name):
    recorded = json.loads((FIXTURES / "debug_strings.json").read_text())[name]
    with tf.train.NewCheckpointReader(str(FIXTURES / name / "ckpt")) as reader:
        assert reader.debug_string() == bytes.fromhex(recorded)


def test_saver_restores_every_dtype_from_a_tensorflow_checkpoint():
    want = _expected_dtypes_values()
    variables = {}
    for name, value in want.items():
        dtype = tf.string if value.dtype == object else tf.as_dtype(value.dtype)
        zero = np.zeros(value.shape, value.dtype) if value.dtype != object else np.full(value.shape, b"", object)
        variables[name] = tf.Variable(zero, dtype=dtype, name=name.replace("/", "_"))
    saver = tf.train.Saver(variables)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        saver.restore(sess, DTYPES)
        for name, var in variables.items():
            got = sess.run(var)
            _assert_same(np.array(got, dtype=object) if want[name].dtype == object else got, want[name], name)


def test_a_tensorflow_trained_model_restores_and_keeps_training_the_same():
    record = json.loads((FIXTURES / "model" / "model.json").read_text())
    x = tf.constant(np.array(record["x"], np.float32))
    y = tf.constant(np.array(record["y"], np.float32))
    w = tf.get_variable("w", initializer=tf.constant([[0.5], [-0.25], [0.1]]))
    b = tf.get_variable("b", initializer=tf.constant([0.0]))
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
    step = tf.train.get_or_create_global_step()
    train = tf.train.AdamOptimizer(0.1).minimize(loss, global_step=step)
    saver = tf.train.Saver()
    latest = tf.train.latest_checkpoint(str(FIXTURES / "model"))
    assert latest == str(FIXTURES / "model" / "model.ckpt-3")
    with tf.Session() as sess:
        saver.restore(sess, latest)
        assert sess.run(step) == 3
        np.testing.assert_allclose(sess.run(loss), record["loss"], rtol=1e-6)
        sess.run(train)
        for var in tf.global_variables():
            np.testing.assert_allclose(sess.run(var), record["after_step"][var.op.name], rtol=1e-5, atol=1e-7,
                                       err_msg=var.op.name)
        np.testing.assert_allclose(sess.run(loss), record["loss_after_step"], rtol=1e-5)


def test_a_sharded_checkpoint_reads_across_its_data_files():
    prefix = str(FIXTURES / "sharded" / "ckpt")
    assert tf.train.list_variables(prefix) == [("a", [4]), ("b", [2]), ("c", [])]
    assert tf.train.load_variable(prefix, "a").tolist() == [0.0, 1.0, 2.0, 3.0]
    assert tf.train.load_variable(prefix, "b").tolist() == [b"x", b"yz"]
    assert tf.train.load_variable(prefix, "c") == 5 and tf.train.load_variable(prefix, "c").dtype == np.int32


def test_an_object_based_checkpoint_lists_and_loads_its_variables():
    prefix = str(FIXTURES / "object" / "ckpt")
    names = dict(tf.train.list_variables(prefix))
    assert names == {"_CHECKPOINTABLE_OBJECT_GRAPH": [], "kernel/.ATTRIBUTES/VARIABLE_VALUE": [3, 2],
                     "step/.ATTRIBUTES/VARIABLE_VALUE": []}
    kernel = tf.train.load_variable(prefix, "kernel/.ATTRIBUTES/VARIABLE_VALUE")
    np.testing.assert_array_equal(kernel, np.arange(6, dtype=np.float32).reshape(3, 2))
    assert tf.train.load_variable(prefix, "step/.ATTRIBUTES/VARIABLE_VALUE") == 12
    assert isinstance(tf.train.load_variable(prefix, "_CHECKPOINTABLE_OBJECT_GRAPH").item(), bytes)


PARTITIONED = str(FIXTURES / "partitioned" / "ckpt")


def test_partitioned_variables_read_whole_from_their_slices():
    assert tf.train.list_variables(PARTITIONED) == [("big", [300, 1]), ("cols", [2, 4]), ("emb", [6, 2]),
                                                    ("whole", []), ("words", [4])]
    _assert_same(tf.train.load_variable(PARTITIONED, "emb"), np.arange(12, dtype=np.float32).reshape(6, 2))
    _assert_same(tf.train.load_variable(PARTITIONED, "big"), np.arange(300, dtype=np.int32).reshape(300, 1))
    _assert_same(tf.train.load_variable(PARTITIONED, "cols"), np.arange(8, dtype=np.float64).reshape(2, 4))
    _assert_same(tf.train.load_variable(PARTITIONED, "words"), np.array([b"a", b"bc", b"", b"d\x00"], object))
    assert tf.train.load_variable(PARTITIONED, "whole") == 1.0


def test_slice_keys_are_tensorflows_ordered_code():
    items = sstable.read_table(Path(PARTITIONED + ".index").read_bytes())
    keys = {k for k, _ in items}
    expected = set()
    for key, value in items[1:]:
        entry = tensor_bundle_pb2.BundleEntryProto.FromString(bytes(value))
        for piece in entry.slices:
            extents = [(x.start, x.length if x.HasField("length") else -1) for x in piece.extent]
            expected.add(tensor_bundle.slice_key(key, extents))
    assert len(expected) == 10 and expected <= keys
    numbers = [-(2**62), -70000, -8193, -65, -64, -1, 0, 1, 63, 64, 100, 8191, 8192, 2**40, 2**62]
    encoded = [tensor_bundle.slice_key(b"v", [(n, 1)]) for n in numbers]
    assert sorted(encoded) == encoded and len(set(encoded)) == len(numbers)
    assert tensor_bundle.slice_key(b"a\x00\xff", []) == b"\x00a\x00\xff\xff\x00\x00\x01\x00"


def _edit_slices(name: str, slices):
    """An index edit giving tensor `name` these slices ([(start, length or None)] per slice)."""
    def edit(items):
        out = []
        for key, value in items:
            if key == name.encode():
                entry = tensor_bundle_pb2.BundleEntryProto.FromString(value)
                del entry.slices[:]
                for extents in slices:
                    piece = entry.slices.add()
                    for start, length in extents:
                        extent = piece.extent.add(start=start)
                        if length is not None:
                            extent.length = length
                value = entry.SerializeToString()
            out.append((key, value))
        return out
    return edit


@pytest.mark.parametrize("slices, message", [
    ([[(0, 2), (0, 2)], [(0, 2), (0, 2)], [(4, 2), (0, 2)]], "the slice .* has no entry|overlaps"),
    ([[(0, 2), (0, 2)], [(2, 2), (0, 2)]], "cover 8 of 12"),
    ([[(4, 4), (0, 2)]], "lies outside shape"),
    ([[(0, 2)]], "another rank"),
])
def test_slices_that_overlap_leave_gaps_or_lie_outside_are_data_loss(tmp_path, slices, message):
    shutil.copytree(FIXTURES / "partitioned", tmp_path / "p")
    prefix = str(tmp_path / "p" / "ckpt")
    _rewrite_index(prefix + ".index", _edit_slices("emb", slices))
    with pytest.raises(tf.errors.DataLossError, match=f"ckpt.index.*tensor emb: .*({message})"):
        tf.train.load_variable(prefix, "emb")


def test_a_sliced_tensor_claiming_a_huge_shape_is_refused_before_allocating(tmp_path):
    shutil.copytree(FIXTURES / "partitioned", tmp_path / "p")
    prefix = str(tmp_path / "p" / "ckpt")

    def huge(items):
        out = []
        for key, value in items:
            if key == b"emb":
                entry = tensor_bundle_pb2.BundleEntryProto.FromString(value)
                entry.shape.dim[0].size = 2**45
                value = entry.SerializeToString()
            out.append((key, value))
        return out

    _rewrite_index(prefix + ".index", huge)
    tracemalloc.start()
    try:
        with pytest.raises(tf.errors.DataLossError, match="tensor emb"):
            tf.train.load_variable(prefix, "emb")
        assert tracemalloc.get_traced_memory()[1] < 1 << 20
    finally:
        tracemalloc.stop()


def test_a_missing_or_short_slice_is_data_loss(tmp_path):
    shutil.copytree(FIXTURES / "partitioned", tmp_path / "p")
    prefix = str(tmp_path / "p" / "ckpt")
    first_emb_slice = tensor_bundle.slice_key(b"emb", [(0, 2), (0, 2)])
    _rewrite_index(prefix + ".index", lambda items: [(k, v) for k, v in items if k != first_emb_slice])
    with pytest.raises(tf.errors.DataLossError, match=r"ckpt.index.*tensor emb: the slice \[\(0, 2\), \(0, 2\)\]"):
        tf.train.load_variable(prefix, "emb")
    assert tf.train.load_variable(prefix, "big").shape == (300, 1)


def test_a_v1_checkpoint_is_refused_saying_what_it_is():
    prefix = str(FIXTURES / "v1" / "model.ckpt")
    assert tf.train.checkpoint_exists(prefix)
    with pytest.raises(tf.errors.UnimplementedError, match="V1 checkpoint.*does not read"):
        tf.train.NewCheckpointReader(prefix)
    v = tf.Variable(np.zeros(3, np.float32), name="v")
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(tf.errors.UnimplementedError, match="V1 checkpoint"):
            saver.restore(sess, prefix)
        assert sess.run(v).tolist() == [0.0, 0.0, 0.0]


def test_a_checkpoints_own_file_given_as_its_prefix_names_the_prefix():
    for path in (DTYPES + ".index", DTYPES + ".data-00000-of-00001"):
        with pytest.raises(tf.errors.InvalidArgumentError, match=f"checkpoint {DTYPES}"):
            tf.train.NewCheckpointReader(path)


# ----------------------------------------------------------------------------------------------------------
# tfmini writes TensorFlow's bytes
# ----------------------------------------------------------------------------------------------------------
def _entries(prefix: str) -> dict:
    items = sstable.read_table(Path(prefix + ".index").read_bytes())
    return {k.decode(): tensor_bundle_pb2.BundleEntryProto.FromString(bytes(v)) for k, v in items[1:]}


def test_rewriting_a_tensorflow_checkpoint_reproduces_its_files_byte_for_byte(tmp_path):
    source = str(FIXTURES / "model" / "model.ckpt-3")
    with tf.train.NewCheckpointReader(source) as reader:
        tensors = {name: reader.get_tensor(name) for name in sorted(reader.get_variable_to_shape_map())}
    prefix = ckpt.write_checkpoint(str(tmp_path / "copy"), tensors)
    for suffix in (".index", ".data-00000-of-00001"):
        assert Path(prefix + suffix).read_bytes() == Path(source + suffix).read_bytes(), suffix


def test_an_index_spanning_several_blocks_has_tensorflows_bytes(tmp_path):
    record = json.loads((FIXTURES / "multiblock.json").read_text())
    tensors = {record["name_format"].format(i=i): np.full((2,), i, np.float32) for i in range(record["count"])}
    prefix = ckpt.write_checkpoint(str(tmp_path / "many"), tensors)
    assert os.path.getsize(prefix + ".index") == record["index_bytes"] > sstable.BLOCK_SIZE
    for suffix in (".index", ".data-00000-of-00001"):
        assert hashlib.sha256(Path(prefix + suffix).read_bytes()).hexdigest() == record[suffix], suffix
    assert tf.train.load_variable(prefix, record["name_format"].format(i=4321)).tolist() == [4321.0, 4321.0]


def test_every_dtype_is_written_with_tensorflows_bytes_and_checksums(tmp_path):
    want = _expected_dtypes_values()
    prefix = ckpt.write_checkpoint(str(tmp_path / "m"), dict(sorted(want.items())))
    ours, theirs = _entries(prefix), _entries(DTYPES)
    our_data = Path(prefix + ".data-00000-of-00001").read_bytes()
    their_data = Path(DTYPES + ".data-00000-of-00001").read_bytes()
    for name in want:
        a, b = ours[name], theirs[name]
        assert (a.dtype, a.shape, a.size, a.crc32c) == (b.dtype, b.shape, b.size, b.crc32c), name
        assert our_data[a.offset:a.offset + a.size] == their_data[b.offset:b.offset + b.size], name


def test_tensors_are_written_in_the_order_given_and_indexed_by_name(tmp_path):
    prefix = ckpt.write_checkpoint(str(tmp_path / "m"), {"z": np.int8(1), "a": np.int8(2), "\u00e9": np.int8(3)})
    assert Path(prefix + ".data-00000-of-00001").read_bytes() == b"\x01\x02\x03"
    entries = _entries(prefix)
    assert list(entries) == ["a", "z", "\u00e9"] and [entries[n].offset for n in entries] == [1, 0, 2]
    assert {n: tf.train.load_variable(prefix, n).item() for n in entries} == {"a": 2, "z": 1, "\u00e9": 3}


def test_round_trip_of_every_dtype_scalars_and_empties(tmp_path):
    rng = np.random.RandomState(3)
    tensors = {f"t_{np.dtype(d).name}": rng.randint(0, 100, size=(2, 3)).astype(d)
               for d in (np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8,
                         np.uint16, np.uint32, np.uint64, np.complex64, np.complex128, np.bool_)}
    tensors.update(scalar=np.float64(2.5), empty=np.zeros((3, 0), np.int32), empty_str=np.zeros(0, object),
                   str_scalar=np.array("caf\u00e9", dtype=object), big_str=np.array([b"\x00" * 300, b"y"], object))
    prefix = ckpt.write_checkpoint(str(tmp_path / "m"), tensors)
    with tf.train.load_checkpoint(prefix) as reader:
        for name, value in tensors.items():
            got = reader.get_tensor(name)
            if name == "str_scalar":
                assert got.shape == () and got.item() == "caf\u00e9".encode()
            else:
                _assert_same(got, value, name)
            assert got.flags.writeable


def test_a_save_creates_one_missing_directory_level_as_tensorflow_does(tmp_path):
    prefix = ckpt.write_checkpoint(str(tmp_path / "new" / "m"), {"x": np.ones(2)})
    assert tf.train.load_variable(prefix, "x").tolist() == [1.0, 1.0]
    with pytest.raises(tf.errors.NotFoundError, match="No such file or directory"):
        ckpt.write_checkpoint(str(tmp_path / "no" / "such" / "m"), {"x": np.ones(2)})
    assert sorted(os.listdir(tmp_path)) == ["new"]


# ----------------------------------------------------------------------------------------------------------
# The index table
# ----------------------------------------------------------------------------------------------------------
def test_tables_with_many_blocks_round_trip():
    items = [(f"key/{i:05d}".encode(), bytes([i % 256]) * (i % 37)) for i in range(3000)]
    data = sstable.build_table(items, block_size=1024)
    got = sstable.read_table(data)
    assert [(k, bytes(v)) for k, v in got] == items
    assert sstable.read_table(sstable.build_table([])) == []
    with pytest.raises(ValueError, match="strictly increasing"):
        sstable.build_table([(b"b", b""), (b"a", b"")])


# ----------------------------------------------------------------------------------------------------------
# Damage is DataLossError naming the file
# ----------------------------------------------------------------------------------------------------------
_TENSORS = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "s": np.array([b"ab", b"", b"xyz"], object),
            "n": np.int64(4)}


def _rewrite_index(path: str, edit) -> None:
    """Rebuilds the index at `path` with `edit(list of (key, value))` applied, checksums made valid again."""
    items = [(k, bytes(v)) for k, v in sstable.read_table(Path(path).read_bytes())]
    Path(path).write_bytes(sstable.build_table(edit(items)))


def _edit_entry(name: str, **fields):
    def edit(items):
        out = []
        for key, value in items:
            if key == name.encode():
                entry = tensor_bundle_pb2.BundleEntryProto.FromString(value)
                for field, v in fields.items():
                    setattr(entry, field, v)
                value = entry.SerializeToString()
            out.append((key, value))
        return out
    return edit


def _flip(path: str, at) -> None:
    data = bytearray(Path(path).read_bytes())
    data[at(data)] ^= 0x04
    Path(path).write_bytes(bytes(data))


def _set_block_compression(path: str, kind: int) -> None:
    data = bytearray(Path(path).read_bytes())
    footer = len(data) - sstable.FOOTER_SIZE
    _, pos = sstable.decode_varint(data, footer, len(data))
    _, pos = sstable.decode_varint(data, pos, len(data))
    offset, pos = sstable.decode_varint(data, pos, len(data))
    size, _ = sstable.decode_varint(data, pos, len(data))
    data[offset + size] = kind
    struct.pack_into("<I", data, offset + size + 1, sstable.masked_crc32c(bytes(data[offset:offset + size + 1])))
    Path(path).write_bytes(bytes(data))


CORRUPTIONS = {
    # kind: (file suffix named in the error, damage)
    "index_empty": (".index", lambda p: Path(p + ".index").write_bytes(b"")),
    "index_truncated": (".index", lambda p: Path(p + ".index").write_bytes(Path(p + ".index").read_bytes()[:-9])),
    "index_bad_magic": (".index", lambda p: _flip(p + ".index", lambda d: len(d) - 3)),
    "index_block_crc": (".index", lambda p: _flip(p + ".index", lambda d: 12)),
    "index_snappy_block": (".index", lambda p: _set_block_compression(p + ".index", 1)),
    "index_unknown_compression": (".index", lambda p: _set_block_compression(p + ".index", 7)),
    "no_header": (".index", lambda p: _rewrite_index(p + ".index", lambda items: items[1:])),
    "entry_not_a_proto": (".index", lambda p: _rewrite_index(
        p + ".index", lambda items: [*items[:1], (items[1][0], b"\xff\xff\xff"), *items[2:]])),
    "shard_out_of_range": (".index", lambda p: _rewrite_index(p + ".index", _edit_entry("w", shard_id=3))),
    "invalid_dtype": (".index", lambda p: _rewrite_index(p + ".index", _edit_entry("w", dtype=0))),
    "size_not_shape": (".data-00000-of-00001", lambda p: _rewrite_index(p + ".index", _edit_entry("w", size=20))),
    "data_bit_flip": (".data-00000-of-00001", lambda p: _flip(p + ".data-00000-of-00001", lambda d: 30)),
    "string_length_flip": (".data-00000-of-00001", lambda p: _flip(p + ".data-00000-of-00001", lambda d: 0)),
    "string_body_flip": (".data-00000-of-00001", lambda p: _flip(p + ".data-00000-of-00001", lambda d: 10)),
    "data_truncated": (".data-00000-of-00001", lambda p: Path(p + ".data-00000-of-00001").write_bytes(
        Path(p + ".data-00000-of-00001").read_bytes()[:20])),
    "data_missing": (".data-00000-of-00001", lambda p: os.remove(p + ".data-00000-of-00001")),
}


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_every_corruption_is_data_loss_naming_the_file(tmp_path, kind):
    # Data order n (8 bytes), s (3 + 4 + 5 bytes), w (24 bytes): byte 0 is in n, 8 in s's lengths, 30 in w.
    prefix = ckpt.write_checkpoint(str(tmp_path / "m"), {"n": _TENSORS["n"], "s": _TENSORS["s"],
                                                          "w": _TENSORS["w"]})
    suffix, damage = CORRUPTIONS[kind]
    if kind in ("string_length_flip", "string_body_flip"):
        prefix = ckpt.write_checkpoint(str(tmp_path / "m"), {"s": _TENSORS["s"], "w": _TENSORS["w"]})
    damage(prefix)
    with pytest.raises(tf.errors.DataLossError) as info:
        with tf.train.NewCheckpointReader(prefix) as reader:
            for name in reader.get_variable_to_shape_map():
                reader.get_tensor(name)
    assert prefix + suffix in info.value.message


def test_string_lengths_whose_sum_wraps_around_64_bits_are_data_loss(tmp_path):
    # Lengths 2**64 - 1 and 2 add up to 1 modulo 2**64: one body byte, with every checksum valid.
    prefix = ckpt.write_checkpoint(str(tmp_path / "m"), {"s": np.array([b"a", b"b"], dtype=object)})
    lengths = np.array([2**64 - 1, 2], np.uint64)
    crc = tensor_bundle._Crc()
    crc.update(tensor_bundle._lengths_bytes(lengths, "<"))
    stored = struct.pack("<I", sstable.mask_crc32c(crc.value))
    crc.update(stored)
    crc.update(b"z")
    data = b"\xff" * 9 + b"\x01" + b"\x02" + stored + b"z"
    Path(prefix + ".data-00000-of-00001").write_bytes(data)
    _rewrite_index(prefix + ".index", _edit_entry("s", size=len(data), crc32c=sstable.mask_crc32c(crc.value)))
    with tf.train.NewCheckpointReader(prefix) as reader:
        with pytest.raises(tf.errors.DataLossError, match="string lengths add up to 18446744073709551617"):
            reader.get_tensor("s")


def test_one_damaged_tensor_leaves_the_others_readable(tmp_path):
    prefix = ckpt.write_checkpoint(str(tmp_path / "m"), {"a": np.arange(3.0), "b": np.arange(4.0)})
    _flip(prefix + ".data-00000-of-00001", lambda d: 2)
    with tf.train.NewCheckpointReader(prefix) as reader:
        with pytest.raises(tf.errors.DataLossError, match="tensor a: checksum mismatch"):
            reader.get_tensor("a")
        assert reader.get_tensor("b").tolist() == [0.0, 1.0, 2.0, 3.0]


def test_a_huge_declared_shape_is_refused_without_allocating_it(tmp_path):
    prefix = ckpt.write_checkpoint(str(tmp_path / "m"), {"w": np.zeros(2, np.float32)})

    def huge(items):
        key, value = items[1]
        entry = tensor_bundle_pb2.BundleEntryProto.FromString(value)
        del entry.shape.dim[:]
        entry.shape.dim.add().size = 2**40
        entry.size = 2**42
        return [items[0], (key, entry.SerializeToString())]

    _rewrite_index(prefix + ".index", huge)
    with pytest.raises(tf.errors.DataLossError, match="truncated"):
        tf.train.load_variable(prefix, "w")


# ----------------------------------------------------------------------------------------------------------
# Checkpoint management over the V2 file set
# ----------------------------------------------------------------------------------------------------------
def test_remove_checkpoint_and_mtimes_handle_every_file_of_a_v2_checkpoint(tmp_path):
    shutil.copytree(FIXTURES / "sharded", tmp_path / "s")
    prefix = str(tmp_path / "s" / "ckpt")
    Path(prefix + ".meta").write_bytes(b"meta")
    Path(str(tmp_path / "s" / "other.index")).write_bytes(b"keep")
    assert tf.train.checkpoint_exists(prefix)
    assert tf.train.get_checkpoint_mtimes([prefix, str(tmp_path / "none")]) == [os.path.getmtime(prefix + ".index")]
    tf.train.remove_checkpoint(prefix)
    assert os.listdir(tmp_path / "s") == ["other.index"]
    assert not tf.train.checkpoint_exists(prefix)


def test_values_a_checkpoint_cannot_hold_are_refused_and_nothing_is_left(tmp_path):
    with pytest.raises(ValueError, match="tensor s: a string tensor holds a int"):
        ckpt.write_checkpoint(str(tmp_path / "m"), {"a": np.ones(2), "s": np.array([b"x", 3], dtype=object)})
    with pytest.raises(ValueError, match="tensor t: a checkpoint cannot hold NumPy dtype datetime64"):
        ckpt.write_checkpoint(str(tmp_path / "m"), {"t": np.array(["2020-01-01"], dtype="datetime64[D]")})
    with pytest.raises(ValueError, match="duplicate or empty key"):
        ckpt.write_checkpoint(str(tmp_path / "m"), {"": np.ones(2)})
    assert os.listdir(tmp_path) == []


def test_a_big_endian_bundle_reads_in_native_order(tmp_path):
    values = {"f": np.array([1.5, -2.0], ">f4"), "i": np.array([[1, 256]], ">i8")}
    data, items = b"", []
    for name, value in values.items():
        raw = value.tobytes()
        entry = tensor_bundle_pb2.BundleEntryProto(dtype=tf.as_dtype(value.dtype.newbyteorder("=")).as_datatype_enum,
                                                   offset=len(data), size=len(raw),
                                                   crc32c=sstable.masked_crc32c(raw))
        entry.shape.SetInParent()
        for d in value.shape:
            entry.shape.dim.add().size = d
        items.append((name.encode(), entry.SerializeToString()))
        data += raw
    header = tensor_bundle_pb2.BundleHeaderProto(num_shards=1, endianness=tensor_bundle_pb2.BundleHeaderProto.BIG)
    Path(tmp_path / "be.index").write_bytes(sstable.build_table([(b"", header.SerializeToString()), *items]))
    Path(tmp_path / "be.data-00000-of-00001").write_bytes(data)
    got = tf.train.load_variable(str(tmp_path / "be"), "f")
    assert got.dtype == np.float32 and got.dtype.isnative and got.tolist() == [1.5, -2.0]
    assert tf.train.load_variable(str(tmp_path / "be"), "i").tolist() == [[1, 256]]


def test_one_reader_serves_threads_reading_different_tensors(tmp_path):
    tensors = {f"t{i}": np.full(50000, i, np.int32) for i in range(8)}
    tensors["s"] = np.array([b"x" * i for i in range(300)], dtype=object)
    prefix = ckpt.write_checkpoint(str(tmp_path / "m"), tensors)
    with tf.train.NewCheckpointReader(prefix) as reader, ThreadPoolExecutor(8) as pool:
        names = list(tensors) * 10
        for name, got in zip(names, pool.map(reader.get_tensor, names)):
            _assert_same(got, tensors[name], name)
