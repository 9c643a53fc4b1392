"""Record TensorFlow's TFRecord files, serialized Examples, parsing results and string-op outputs.

Run with the TensorFlow environment: ``/work/tfenv/bin/python tools/tf_fixtures/gen_records.py``.
Writes small files into ``tests/fixtures/tf/records/``; the tests replay them without TensorFlow.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "tf" / "records"


def sample_records() -> list[bytes]:
    """Records of many sizes: empty, short, binary, compressible and a few KB of pseudo-random bytes."""
    rng = np.random.RandomState(7)
    return [
        b"",
        b"a",
        b"hello tfrecord",
        bytes(range(256)),
        b"abcabcabc" * 400,
        rng.randint(0, 256, size=3000).astype(np.uint8).tobytes(),
        b"\x00" * 1000,
        b"last record",
    ]


def write_files(records: list[bytes]) -> dict:
    """Each compression with default options, plus non-default zlib options and a flush mid-file."""
    cases = {
        "none": dict(compression_type=""),
        "zlib": dict(compression_type="ZLIB"),
        "gzip": dict(compression_type="GZIP"),
        "zlib_level9_mem8": dict(compression_type="ZLIB", compression_level=9, mem_level=8),
        "gzip_level1": dict(compression_type="GZIP", compression_level=1),
        "zlib_sync_small_buffer": dict(compression_type="ZLIB", flush_mode=2, input_buffer_size=64),
        "gzip_full_small_buffer": dict(compression_type="GZIP", flush_mode=3, input_buffer_size=100),
    }
    for name, opts in cases.items():
        with tf.io.TFRecordWriter(str(OUT / f"{name}.tfrecord"), tf.io.TFRecordOptions(**opts)) as w:
            for r in records:
                w.write(r)
    # writer.flush() between records
    for ctype in ("", "ZLIB", "GZIP"):
        name = f"flushed_{ctype.lower() or 'none'}"
        cases[name] = dict(compression_type=ctype, flush_after=[2, 5])
        with tf.io.TFRecordWriter(str(OUT / f"{name}.tfrecord"), tf.io.TFRecordOptions(ctype)) as w:
            for i, r in enumerate(records):
                w.write(r)
                if i in (2, 5):
                    w.flush()
    return cases


def read_errors(records: list[bytes]) -> dict:
    """What TF's reader says about damaged files: the error class and message per case."""
    clean = (OUT / "none.tfrecord").read_bytes()
    lengths = [len(r) for r in records]
    second = 12 + lengths[0] + 4  # offset of the second record
    damaged = {
        "flip_length": _flip(clean, second + 1),
        "flip_length_crc": _flip(clean, second + 9),
        "flip_data": _flip(clean, second + 12),
        "flip_data_crc": _flip(clean, second + 12 + lengths[1]),
        "truncated_header": clean[: second + 5],
        "truncated_data": clean[: second + 12],
        "truncated_footer": clean[: second + 12 + lengths[1] + 2],
    }
    gz = (OUT / "gzip.tfrecord").read_bytes()
    damaged["gzip_truncated"] = gz[: len(gz) // 2]
    result = {}
    for name, data in damaged.items():
        path = OUT / "damaged.tmp"
        path.write_bytes(data)
        got = []
        ctype = "GZIP" if name.startswith("gzip") else ""
        try:
            for r in tf.io.tf_record_iterator(str(path), ctype):
                got.append(len(r))
            err = None
        except Exception as e:  # noqa: BLE001 - recording whatever TF raises
            err = [type(e).__name__, str(e)]
        result[name] = {"records_before_error": len(got), "error": err}
        path.unlink()
    return result


def _flip(data: bytes, at: int) -> bytes:
    b = bytearray(data)
    b[at] ^= 0x40
    return bytes(b)


def _feature(kind: str, values) -> tf.train.Feature:
    if kind == "bytes":
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=values))
    if kind == "float":
        return tf.train.Feature(float_list=tf.train.FloatList(value=values))
    return tf.train.Feature(int64_list=tf.train.Int64List(value=values))


# name -> (kind, values) per example; None leaves the feature out
EXAMPLES = [
    {
        "age": ("int64", [29]), "height": ("float", [1.75]), "name": ("bytes", [b"ann"]),
        "tags": ("bytes", [b"a", b"bb"]), "scores": ("float", [1.0, 2.5, -3.0]), "ids": ("int64", [1, 2, 3, 4, 5, 6]),
        "seq": ("float", [1.0, 2.0, 3.0, 4.0]), "sp_idx": ("int64", [7, 2]), "sp_val": ("float", [0.5, 1.5]),
        "big": ("int64", [-(2**62), 2**40]),
    },
    {
        "age": ("int64", [31]), "name": ("bytes", [b"bob"]), "tags": ("bytes", []),
        "scores": ("float", [4.0, 5.0, 6.0]), "ids": ("int64", [0, 0, 0, 1, 1, 1]), "seq": ("float", [5.0, 6.0]),
        "sp_idx": ("int64", []), "sp_val": ("float", []), "big": ("int64", [1]),
    },
    {
        "age": ("int64", [40]), "height": ("float", [1.5]), "name": ("bytes", [b"\xff\x00cy"]),
        "scores": ("float", [7.0, 8.0, 9.0]), "ids": ("int64", [9, 8, 7, 6, 5, 4]), "sp_idx": ("int64", [0]),
        "sp_val": ("float", [2.0]), "big": ("int64", []),
    },
]


def serialized_examples() -> list[bytes]:
    out = []
    for ex in EXAMPLES:
        feats = {k: _feature(kind, v) for k, (kind, v) in ex.items()}
        out.append(tf.train.Example(features=tf.train.Features(feature=feats)).SerializeToString(deterministic=True))
    return out


def parsing_spec() -> dict:
    return {
        "age": tf.FixedLenFeature([], tf.int64),
        "height": tf.FixedLenFeature([], tf.float32, default_value=-1.0),
        "name": tf.FixedLenFeature([], tf.string),
        "tags": tf.VarLenFeature(tf.string),
        "scores": tf.FixedLenFeature([3], tf.float32),
        "ids": tf.FixedLenFeature([2, 3], tf.int64),
        "seq": tf.FixedLenSequenceFeature([2], tf.float32, allow_missing=True, default_value=-9.0),
        "big": tf.VarLenFeature(tf.int64),
        "sp": tf.SparseFeature(index_key="sp_idx", value_key="sp_val", dtype=tf.float32, size=10),
    }


def _flatten(prefix: str, value, out: dict) -> None:
    if isinstance(value, tf.SparseTensorValue):
        out[prefix + ".indices"] = value.indices
        out[prefix + ".values"] = value.values
        out[prefix + ".dense_shape"] = value.dense_shape
    else:
        out[prefix] = np.asarray(value)


def record_examples() -> None:
    serialized = serialized_examples()
    arrays: dict[str, np.ndarray] = {"serialized": np.array(serialized, dtype=object)}
    errors = {}
    with tf.Graph().as_default(), tf.Session() as sess:
        spec = parsing_spec()
        batch = sess.run(tf.parse_example(tf.constant(serialized), spec))
        for k, v in batch.items():
            _flatten("batch." + k, v, arrays)
        single_spec = {k: v for k, v in spec.items() if k != "seq"}
        for i in range(2):
            single = sess.run(tf.parse_single_example(tf.constant(serialized[i]), single_spec))
            for k, v in single.items():
                _flatten(f"single{i}." + k, v, arrays)
        bad = {
            "missing_required": (serialized[1:2], {"height": tf.FixedLenFeature([], tf.float32)}),
            "wrong_type": (serialized[:1], {"age": tf.FixedLenFeature([], tf.float32)}),
            "wrong_size": (serialized[:1], {"scores": tf.FixedLenFeature([2], tf.float32)}),
            "wrong_varlen_type": (serialized[:1], {"tags": tf.VarLenFeature(tf.int64)}),
            "not_a_proto": ([b"\x0a\x05garbage"], {"age": tf.FixedLenFeature([], tf.int64)}),
            "seq_not_multiple": (serialized[1:2], {
                "scores": tf.FixedLenSequenceFeature([2], tf.float32, allow_missing=True)}),
        }
        for name, (ser, sp) in bad.items():
            try:
                sess.run(tf.parse_example(tf.constant(ser), sp))
                errors[name] = None
            except Exception as e:  # noqa: BLE001 - recording whatever TF raises
                errors[name] = [type(e).__name__, _op_message(str(e))]
    # a SequenceExample for the proto test
    seq = tf.train.SequenceExample()
    seq.context.feature["length"].int64_list.value.append(3)
    for tok in (b"a", b"b", b"c"):
        seq.feature_lists.feature_list["tokens"].feature.add().bytes_list.value.append(tok)
    arrays["sequence_example"] = np.array([seq.SerializeToString(deterministic=True)], dtype=object)
    save_arrays(OUT / "examples.npz", arrays)
    (OUT / "example_errors.json").write_text(json.dumps(errors, indent=1, sort_keys=True))


def _op_message(text: str) -> str:
    """The kernel's own message out of TF 2's 'Graph execution error' text (after its "Node: 'x'" line,
    before the node listing)."""
    marker = text.find("\nNode: '")
    if marker >= 0:
        text = text[text.index("\n", marker + 1) + 1 :]
    return text.split("\n\t [[")[0].strip()


def save_arrays(path: Path, arrays: dict) -> None:
    """An .npz without pickles: a string array `k` is stored as `k.bytes` (its concatenated elements, uint8),
    `k.lengths` and `k.shape`."""
    out = {}
    for k, a in arrays.items():
        if a.dtype == object or a.dtype.kind in "SU":
            items = [bytes(x) for x in a.ravel()]
            out[k + ".bytes"] = np.frombuffer(b"".join(items), dtype=np.uint8)
            out[k + ".lengths"] = np.array([len(x) for x in items], dtype=np.int64)
            out[k + ".shape"] = np.array(a.shape, dtype=np.int64)
        else:
            out[k] = a
    np.savez(path, **out)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    records = sample_records()
    cases = write_files(records)
    errors = read_errors(records)
    (OUT / "record_cases.json").write_text(json.dumps({"cases": cases, "errors": errors}, indent=1, sort_keys=True))
    record_examples()


if __name__ == "__main__":
    main()
