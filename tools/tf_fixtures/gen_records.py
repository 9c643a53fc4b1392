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


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    records = sample_records()
    cases = write_files(records)
    errors = read_errors(records)
    (OUT / "record_cases.json").write_text(json.dumps({"cases": cases, "errors": errors}, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
