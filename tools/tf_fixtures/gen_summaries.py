"""Record the serialized Summary protos TensorFlow's TF1 summary ops produce (scalar, histogram, image, audio,
text, tensor_summary, merge) for fixed inputs, the errors they raise on bad input, and one event file written by
tf.summary.FileWriter.

Run with the TensorFlow environment: ``/work/tfenv/bin/python tools/tf_fixtures/gen_summaries.py``.
Writes ``summaries.npz`` (each case's input and output bytes), ``summaries.json`` (how each case was built, the
error messages) and ``events.out.tfevents.tf`` into ``tests/fixtures/tf/summaries/``. The tests replay the cases
without TensorFlow.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "tf" / "summaries"


def _inputs() -> dict[str, np.ndarray]:
    rng = np.random.RandomState(7)
    image_pos = rng.uniform(0, 1, size=(3, 5, 6, 3)).astype(np.float32)
    image_neg = rng.uniform(-2, 1.5, size=(2, 4, 5, 1)).astype(np.float32)
    image_nan = rng.uniform(0, 3, size=(1, 3, 4, 4)).astype(np.float32)
    image_nan[0, 1, 2, 0] = np.nan
    image_nan[0, 2, 3, 3] = np.inf
    wave = np.sin(np.linspace(0, 40, 300)).astype(np.float32)
    return {
        "scalar_float": np.float32(3.25),
        "scalar_int": np.int32(-7),
        "scalar_double": np.float64(1e-3),
        "histo_normal": rng.normal(0, 2, size=200).astype(np.float32),
        "histo_mixed": np.array([0, 0, -1e-13, 1e-13, 5, -5, 1e25, -3.5e-8, 2], dtype=np.float64),
        "histo_int": np.array([[1, 2, 2], [3, 0, -4]], dtype=np.int64),
        "histo_empty": np.zeros((0,), dtype=np.float32),
        "image_uint8": rng.randint(0, 256, size=(2, 4, 3, 3)).astype(np.uint8),
        "image_pos": image_pos,
        "image_neg": image_neg,
        "image_nan": image_nan,
        "image_double": rng.uniform(0, 0.5, size=(1, 7, 9, 3)),
        "image_gray_uint8": rng.randint(0, 256, size=(1, 33, 40, 1)).astype(np.uint8),
        "image_zero": np.zeros((1, 2, 2, 3), dtype=np.float32),
        "image_row": rng.randint(0, 256, size=(1, 1, 9, 3)).astype(np.uint8),
        "image_column": rng.uniform(-1, 1, size=(1, 7, 1, 1)).astype(np.float16),
        "image_large": (np.add.outer(np.arange(120), np.arange(130))[None, :, :, None]
                        * np.array([1, 3, 7, 11]) % 256).astype(np.uint8),
        "audio_mono": np.stack([wave, 0.5 * wave]),
        "audio_stereo": np.stack([wave[:100], -wave[:100] * 1.5], axis=-1)[None],
        "text_scalar": np.array(b"hello **world**", dtype=object),
        "text_vector": np.array([b"a", b"b c", "\u00e9".encode()], dtype=object),
        "tensor_matrix": rng.normal(size=(2, 3)).astype(np.float32),
        "tensor_int64_scalar": np.int64(42),
    }


# name -> (function, input key, kwargs, scope, family)
CASES = {
    "scalar_float": ("scalar", "scalar_float", {}, None, None),
    "scalar_int_scoped": ("scalar", "scalar_int", {}, "outer", None),
    "scalar_double_family": ("scalar", "scalar_double", {}, None, "fam"),
    "scalar_odd_name": ("scalar", "scalar_float", {"name_override": "bad name:1"}, None, None),
    "histo_normal": ("histogram", "histo_normal", {}, None, None),
    "histo_mixed": ("histogram", "histo_mixed", {}, None, None),
    "histo_int": ("histogram", "histo_int", {}, None, None),
    "histo_empty": ("histogram", "histo_empty", {}, None, None),
    "image_uint8": ("image", "image_uint8", {}, None, None),
    "image_uint8_one": ("image", "image_uint8", {"max_outputs": 1}, None, None),
    "image_pos": ("image", "image_pos", {"max_outputs": 2}, None, None),
    "image_neg": ("image", "image_neg", {}, None, None),
    "image_nan": ("image", "image_nan", {}, None, None),
    "image_double": ("image", "image_double", {}, None, None),
    "image_gray_uint8": ("image", "image_gray_uint8", {}, None, None),
    "image_zero": ("image", "image_zero", {}, None, "pics"),
    "image_row": ("image", "image_row", {}, None, None),
    "image_column": ("image", "image_column", {}, None, None),
    "image_large": ("image", "image_large", {}, None, None),
    "audio_mono": ("audio", "audio_mono", {"sample_rate": 8000, "max_outputs": 2}, None, None),
    "audio_mono_one": ("audio", "audio_mono", {"sample_rate": 16000.5, "max_outputs": 1}, None, None),
    "audio_stereo": ("audio", "audio_stereo", {"sample_rate": 44100}, None, None),
    "text_scalar": ("text", "text_scalar", {}, None, None),
    "text_vector": ("text", "text_vector", {}, None, None),
    "tensor_matrix": ("tensor_summary", "tensor_matrix", {}, None, None),
    "tensor_int64_scalar": ("tensor_summary", "tensor_int64_scalar", {"display_name": "Answer"}, None, None),
    "tensor_string": ("tensor_summary", "text_vector", {}, None, None),
}

# name -> (a function building the failing summary op, the error class expected)
ERROR_CASES = {
    "histo_nan": lambda: tf.summary.histogram("h", tf.constant([1.0, np.nan])),
    "histo_inf": lambda: tf.summary.histogram("h", tf.constant([np.inf, 1.0])),
    "merge_duplicate": lambda: tf.summary.merge([tf.summary.scalar("s", 1.0), tf.summary.scalar("t", 2.0),
                                                 tf.raw_ops.ScalarSummary(tags="s", values=3.0)]),
    "merge_unparsable": lambda: tf.summary.merge([tf.constant(b"\xff\xff")]),
    "scalar_shape_mismatch": lambda: tf.raw_ops.ScalarSummary(tags=["a", "b"], values=[1.0, 2.0, 3.0]),
    "image_bad_channels": lambda: tf.raw_ops.ImageSummary(tag="i", tensor=tf.zeros([1, 2, 2, 2])),
    "image_bad_rank": lambda: tf.raw_ops.ImageSummary(tag="i", tensor=tf.placeholder_with_default(
        tf.zeros([1, 2, 2]), shape=None)),
    "audio_bad_rank": lambda: tf.raw_ops.AudioSummaryV2(tag="a", tensor=tf.placeholder_with_default(
        tf.zeros([1, 2, 2, 2]), shape=None), sample_rate=8000.0),
    "histogram_tag_not_scalar": lambda: tf.raw_ops.HistogramSummary(tag=["a", "b"], values=[1.0]),
}


def _kernel_message(message: str) -> str:
    """The kernel's own words, without the node and traceback lines TF 2's session wraps them in."""
    core = message.split("\n\t [[")[0]
    return core.rsplit("\nNode: ", 1)[-1].split("\n", 1)[-1].strip()


def _build(fn: str, value: np.ndarray, kwargs: dict, family: str | None, name: str):
    kwargs = dict(kwargs)
    name = kwargs.pop("name_override", name)
    if family is not None:
        kwargs["family"] = family
    return getattr(tf.summary, fn)(name, tf.constant(value), **kwargs)


def record_cases() -> None:
    inputs = _inputs()
    arrays: dict[str, np.ndarray] = {}
    meta: dict[str, dict] = {"cases": {}, "errors": {}}
    with tf.Graph().as_default(), tf.Session() as sess:
        ops = {}
        for case, (fn, key, kwargs, scope, family) in CASES.items():
            if scope:
                with tf.name_scope(scope):
                    ops[case] = _build(fn, inputs[key], kwargs, family, case)
            else:
                ops[case] = _build(fn, inputs[key], kwargs, family, case)
            meta["cases"][case] = {"fn": fn, "input": key, "kwargs": kwargs, "scope": scope, "family": family,
                                   "op_name": ops[case].op.name}
        merged = tf.summary.merge([ops["scalar_float"], ops["histo_int"], ops["image_uint8_one"]], name="merged")
        merged_all = tf.summary.merge_all()
        results = sess.run({**ops, "merge": merged, "merge_all": merged_all})
        meta["cases"]["merge"] = {"fn": "merge", "inputs": ["scalar_float", "histo_int", "image_uint8_one"]}
        meta["cases"]["merge_all"] = {"fn": "merge_all", "inputs": list(CASES)}
        for name, value in results.items():
            arrays[f"out__{name}"] = np.frombuffer(value, dtype=np.uint8)
        for key, value in inputs.items():
            arrays[f"in__{key}"] = value
    for case, build in ERROR_CASES.items():
        with tf.Graph().as_default(), tf.Session() as sess:
            op = build()
            try:
                sess.run(op)
            except tf.errors.OpError as e:
                meta["errors"][case] = {"class": type(e).__name__, "message": _kernel_message(e.message),
                                        "op_name": op.op.name}
            else:
                raise AssertionError(f"{case} did not fail")
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT / "summaries.npz", **arrays)
    (OUT / "summaries.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")


def record_event_file() -> None:
    """An event file with a graph, a meta graph, summaries at three steps, session logs and run metadata."""
    tmp = tempfile.mkdtemp()
    try:
        with tf.Graph().as_default() as g:
            x = tf.placeholder(tf.float32, [None], name="x")
            loss = tf.reduce_mean(tf.square(x), name="loss")
            tf.summary.scalar("loss", loss)
            tf.summary.histogram("x", x)
            tf.summary.image("img", tf.reshape(x[:12], [1, 2, 2, 3]))
            tf.summary.audio("sound", tf.reshape(x[:12], [2, 6]) / 10.0, 4000.0)
            tf.summary.text("note", tf.constant("step text"))
            merged = tf.summary.merge_all()
            writer = tf.summary.FileWriter(tmp, g, filename_suffix=".tf")
            with tf.Session() as sess:
                writer.add_session_log(tf.SessionLog(status=tf.SessionLog.START), 0)
                for step in range(3):
                    opts = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
                    meta = tf.RunMetadata()
                    s = sess.run(merged, {x: np.arange(12, dtype=np.float32) * (step + 1)}, options=opts,
                                 run_metadata=meta)
                    writer.add_summary(s, step)
                    if step == 1:
                        writer.add_run_metadata(meta, "step1", step)
                writer.add_session_log(tf.SessionLog(status=tf.SessionLog.CHECKPOINT, checkpoint_path="/ck"), 3)
            writer.close()
        (path,) = glob.glob(os.path.join(tmp, "events.out.tfevents.*"))
        shutil.copy(path, OUT / "events.out.tfevents.tf")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    record_cases()
    record_event_file()
