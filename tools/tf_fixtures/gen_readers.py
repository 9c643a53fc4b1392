"""Record what TensorFlow's TF1 readers (TFRecordReader, TextLineReader, FixedLengthRecordReader, WholeFileReader,
IdentityReader) read from small files fed through a FIFOQueue of filenames: keys, values, the counters after each
read, how the sequence ends, and the state (ReaderBaseState) of the readers that serialize one.

Run with the TensorFlow environment: ``/work/tfenv/bin/python tools/tf_fixtures/gen_readers.py``.
Writes the input files and ``readers.json`` into ``tests/fixtures/tf/readers/``; keys name the files as
``{dir}/<file>``. The tests replay the cases without TensorFlow.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from pathlib import Path

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow.compat.v1 as tf  # noqa: E402
from tensorflow.core.framework import reader_base_pb2  # noqa: E402

tf.disable_v2_behavior()

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "tf" / "readers"


def write_inputs() -> None:
    """The files the cases read; TFRecord files are written by TensorFlow itself."""
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "lines.txt").write_bytes(b"header\nfirst\n\nthird line\r\nno newline at the end\r")
    (OUT / "lines_final_newline.txt").write_bytes(b"h1\nh2\nkept\n")
    (OUT / "empty.txt").write_bytes(b"")
    raw = bytes((i * 37 + 11) % 256 for i in range(61))
    (OUT / "fixed.bin").write_bytes(raw)
    (OUT / "fixed.bin.gz").write_bytes(gzip.compress(raw, mtime=0))
    (OUT / "fixed.bin.zlib").write_bytes(zlib.compress(raw))
    records = [b"", b"one", bytes(range(200)), b"last"]
    for compression, suffix in (("", ""), ("ZLIB", ".zlib"), ("GZIP", ".gz")):
        with tf.io.TFRecordWriter(str(OUT / f"records.tfrecord{suffix}"), compression) as w:
            for r in records:
                w.write(r)
    with tf.io.TFRecordWriter(str(OUT / "records2.tfrecord")) as w:
        for r in (b"second file", b"x" * 70):
            w.write(r)


# name -> (reader class name, constructor kwargs, files, read_up_to count or None)
CASES = {
    "tfrecord": ("TFRecordReader", {}, ["records.tfrecord", "records2.tfrecord"], None),
    "tfrecord_zlib": ("TFRecordReader", {"options": "ZLIB"}, ["records.tfrecord.zlib"], None),
    "tfrecord_gzip_up_to": ("TFRecordReader", {"options": "GZIP"}, ["records.tfrecord.gz"], 3),
    "tfrecord_up_to": ("TFRecordReader", {}, ["records.tfrecord", "records2.tfrecord"], 3),
    "text": ("TextLineReader", {}, ["lines.txt", "empty.txt", "lines_final_newline.txt"], None),
    "text_skip_2": ("TextLineReader", {"skip_header_lines": 2}, ["lines.txt", "lines_final_newline.txt"], None),
    "text_up_to": ("TextLineReader", {"skip_header_lines": 1}, ["lines.txt", "lines_final_newline.txt"], 2),
    "fixed": ("FixedLengthRecordReader", {"record_bytes": 7, "header_bytes": 3, "footer_bytes": 5},
              ["fixed.bin"], None),
    "fixed_hop_overlap": ("FixedLengthRecordReader", {"record_bytes": 9, "header_bytes": 1, "footer_bytes": 2,
                                                      "hop_bytes": 4}, ["fixed.bin"], None),
    "fixed_hop_gap": ("FixedLengthRecordReader", {"record_bytes": 4, "hop_bytes": 11}, ["fixed.bin"], None),
    "fixed_gzip": ("FixedLengthRecordReader", {"record_bytes": 8, "header_bytes": 2, "footer_bytes": 3,
                                               "encoding": "GZIP"}, ["fixed.bin.gz"], None),
    "fixed_zlib_up_to": ("FixedLengthRecordReader", {"record_bytes": 6, "hop_bytes": 5, "encoding": "ZLIB"},
                         ["fixed.bin.zlib"], 4),
    "whole_file": ("WholeFileReader", {}, ["lines.txt", "empty.txt", "fixed.bin"], None),
    "whole_file_up_to": ("WholeFileReader", {}, ["lines.txt", "fixed.bin"], 5),
    "identity": ("IdentityReader", {}, ["a", "bc", ""], None),
}


def record_case(reader_name: str, kwargs: dict, files: list[str], up_to: int | None) -> dict:
    prefix = str(OUT)
    work = [str(OUT / f) if reader_name != "IdentityReader" else f for f in files]
    steps = []
    with tf.Graph().as_default():
        queue = tf.FIFOQueue(16, [tf.string], shapes=[[]])
        fill, close = queue.enqueue_many([work]), queue.close()
        reader = getattr(tf, reader_name)(**kwargs)
        key, value = reader.read(queue) if up_to is None else reader.read_up_to(queue, up_to)
        counters = [reader.num_records_produced(), reader.num_work_units_completed()]
        state = reader.serialize_state() if reader.supports_serialize else None
        with tf.Session() as sess:
            sess.run(fill)
            sess.run(close)
            while True:
                try:
                    k, v = sess.run([key, value])
                except tf.errors.OutOfRangeError:
                    end = "OutOfRangeError"
                    break
                keys = [k] if up_to is None else list(k)
                values = [v] if up_to is None else list(v)
                step = {"keys": [x.decode().replace(prefix, "{dir}") for x in keys],
                        "values": [x.hex() for x in values],
                        "counters": [int(c) for c in sess.run(counters)]}
                if state is not None:
                    serialized = sess.run(state)
                    fields = reader_base_pb2.ReaderBaseState.FromString(serialized)
                    step["state_fields"] = [fields.work_started, fields.work_finished, fields.num_records_produced,
                                            fields.current_work.decode().replace(prefix, "{dir}")]
                    if prefix.encode() not in serialized:  # the bytes themselves, where they name no path
                        step["state"] = serialized.hex()
                steps.append(step)
            final = [int(c) for c in sess.run(counters)]
    return {"reader": reader_name, "kwargs": kwargs, "files": files, "up_to": up_to, "steps": steps, "end": end,
            "final_counters": final}


def main() -> None:
    write_inputs()
    cases = {name: record_case(*spec) for name, spec in CASES.items()}
    (OUT / "readers.json").write_text(json.dumps(cases, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
