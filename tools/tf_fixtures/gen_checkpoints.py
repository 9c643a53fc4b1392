"""Record checkpoints written by TensorFlow itself, for tfmini's checkpoint readers to replay.

Run with the TensorFlow environment: ``/work/tfenv/bin/python tools/tf_fixtures/gen_checkpoints.py``.
Writes into ``tests/fixtures/tf/checkpoints/``:

- ``dtypes/``: a TF1 Saver checkpoint with one variable per dtype (scalars, strings with arbitrary bytes, an
  empty tensor, bfloat16), and ``values.npz`` / ``strings.json`` holding what was saved;
- ``model/``: a linear model trained 3 Adam steps, saved by a TF1 Saver with a global step and relative paths in
  its ``checkpoint`` file; ``model.json`` holds the data, the loss at the checkpoint and the variables and loss
  after one more training step;
- ``sharded/``: a sharded Saver's checkpoint over two CPU devices (two data files);
- ``object/``: an object-based ``tf.train.Checkpoint``;
- ``partitioned/``: variables saved in slices by partitioners (rows, columns, strings);
- ``v1/``: a V1 (TensorSliceReader format) checkpoint, which tfmini refuses clearly;
- ``debug_strings.json``: what TensorFlow's reader's ``debug_string()`` prints for three of them;
- ``multiblock.json``: SHA-256 digests of a 6000-tensor checkpoint whose index spans several blocks.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "tf" / "checkpoints"

STRINGS = {
    "str_scalar": b"hello",
    "str_vector": [b"", b"a", b"\x00\xff binary \x00", "h\u00e9llo".encode()],
    "str_matrix": [[b"ab", b"c"], [b"", b"x" * 130]],
}


def numeric_values() -> dict:
    rng = np.random.RandomState(0)
    return {
        "f32": rng.randn(2, 3).astype(np.float32),
        "f64": rng.randn(4).astype(np.float64),
        "f16": rng.randn(3, 1).astype(np.float16),
        "i8": np.array([-128, 0, 127], np.int8),
        "i16": np.array([[-300, 7]], np.int16),
        "i32": np.arange(-3, 3, dtype=np.int32).reshape(3, 2),
        "i64": np.array([2**40, -(2**62)], np.int64),
        "u8": np.array([0, 200, 255], np.uint8),
        "u16": np.array([65535, 1], np.uint16),
        "u32": np.array([4000000000, 3], np.uint32),
        "u64": np.array([2**63 + 5], np.uint64),
        "flag": np.array([True, False, True]),
        "c64": (rng.randn(2) + 1j * rng.randn(2)).astype(np.complex64),
        "c128": (rng.randn(2, 2) + 1j * rng.randn(2, 2)).astype(np.complex128),
        "scalar_f32": np.float32(3.5),
        "scalar_i64": np.int64(-9),
        "empty": np.zeros((0, 3), np.float32),
        "nested/scope/w": np.full((2, 2), 0.25, np.float32),
    }


def fresh(name: str) -> Path:
    path = OUT / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def gen_dtypes() -> None:
    out = fresh("dtypes")
    values = numeric_values()
    with tf.Graph().as_default():
        variables = [tf.Variable(v, name=k) for k, v in values.items()]
        variables += [tf.Variable(np.array(v, dtype=object), name=k) for k, v in STRINGS.items()]
        variables.append(tf.Variable(tf.constant([1.5, -2.0], tf.bfloat16), name="bf16"))
        saver = tf.train.Saver(variables)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            saver.save(sess, str(out / "ckpt"), write_meta_graph=False, write_state=False)
    np.savez(out / "values.npz", **{k.replace("/", "__"): v for k, v in values.items()})
    (out / "strings.json").write_text(json.dumps({k: np.array(v, dtype=object).reshape(-1).tolist()
                                                  for k, v in STRINGS.items()}, default=lambda b: b.hex()))


def build_model(x, y):
    w = tf.get_variable("w", initializer=tf.constant([[0.5], [-0.25], [0.1]]))
    b = tf.get_variable("b", initializer=tf.constant([0.0]))
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
    step = tf.train.get_or_create_global_step()
    train = tf.train.AdamOptimizer(0.1).minimize(loss, global_step=step)
    return loss, train


def gen_model() -> None:
    out = fresh("model")
    rng = np.random.RandomState(1)
    xs = rng.randn(8, 3).astype(np.float32)
    ys = (xs @ np.array([[1.0], [2.0], [-1.0]], np.float32) + 0.5).astype(np.float32)
    with tf.Graph().as_default():
        loss, train = build_model(tf.constant(xs), tf.constant(ys))
        saver = tf.train.Saver(save_relative_paths=True)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(3):
                sess.run(train)
            cwd = os.getcwd()
            os.chdir(out)
            try:
                saver.save(sess, "model.ckpt", global_step=tf.train.get_global_step(), write_meta_graph=False)
            finally:
                os.chdir(cwd)
            saved_loss = float(sess.run(loss))
            sess.run(train)
            after = {v.op.name: sess.run(v).tolist() for v in tf.global_variables()}
            after_loss = float(sess.run(loss))
    (out / "model.json").write_text(json.dumps({"x": xs.tolist(), "y": ys.tolist(), "loss": saved_loss,
                                                "after_step": after, "loss_after_step": after_loss}))


def gen_sharded() -> None:
    out = fresh("sharded")
    config = tf.ConfigProto(device_count={"CPU": 2})
    with tf.Graph().as_default():
        with tf.device("/cpu:0"):
            a = tf.Variable(np.arange(4, dtype=np.float32), name="a")
        with tf.device("/cpu:1"):
            b = tf.Variable(np.array([b"x", b"yz"], dtype=object), name="b")
            c = tf.Variable(np.int32(5), name="c")
        saver = tf.train.Saver([a, b, c], sharded=True)
        with tf.Session(config=config) as sess:
            sess.run(tf.global_variables_initializer())
            saver.save(sess, str(out / "ckpt"), write_meta_graph=False, write_state=False)


def gen_object_based() -> None:
    out = fresh("object")
    with tf.Graph().as_default():
        dense = tf.Variable(np.arange(6, dtype=np.float32).reshape(3, 2), name="kernel")
        step = tf.Variable(np.int64(12), name="step")
        ckpt = tf.train.Checkpoint(kernel=dense, step=step)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            ckpt.write(str(out / "ckpt"), session=sess)


def gen_partitioned() -> None:
    """Slices of 2 and of 100 rows (slice keys encode starts below and above 64), string slices too."""
    out = fresh("partitioned")
    with tf.Graph().as_default():
        tf.get_variable("emb", initializer=tf.constant(np.arange(12, dtype=np.float32).reshape(6, 2)),
                        partitioner=tf.fixed_size_partitioner(3))
        tf.get_variable("big", initializer=tf.constant(np.arange(300, dtype=np.int32).reshape(300, 1)),
                        partitioner=tf.fixed_size_partitioner(3))
        tf.get_variable("cols", initializer=tf.constant(np.arange(8, dtype=np.float64).reshape(2, 4)),
                        partitioner=lambda shape, dtype: [1, 2])
        tf.get_variable("words", initializer=tf.constant([b"a", b"bc", b"", b"d\x00"]),
                        partitioner=tf.fixed_size_partitioner(2))
        tf.Variable(np.float32(1.0), name="whole")
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            saver.save(sess, str(out / "ckpt"), write_meta_graph=False, write_state=False)


def gen_v1() -> None:
    out = fresh("v1")
    with tf.Graph().as_default():
        tf.Variable(np.ones(3, np.float32), name="v")
        saver = tf.train.Saver(write_version=tf.train.SaverDef.V1)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            saver.save(sess, str(out / "model.ckpt"), write_meta_graph=False, write_state=False)


MULTIBLOCK_COUNT = 6000


def multiblock_name(i: int) -> str:
    return f"layer_{i:05d}/some/rather/long/scope/name/for/the/variable/kernel"


def record_multiblock_digests() -> None:
    """An index too large for one 256 KiB block (6000 long names): only the SHA-256 of TensorFlow's files
    is kept; the test writes the same tensors and compares digests."""
    import hashlib
    import tempfile

    import tensorflow as tf2

    names = [multiblock_name(i) for i in range(MULTIBLOCK_COUNT)]
    values = [np.full((2,), i, np.float32) for i in range(MULTIBLOCK_COUNT)]
    with tempfile.TemporaryDirectory() as tmp:
        prefix = os.path.join(tmp, "many")
        with tf.Graph().as_default(), tf.Session() as sess:
            sess.run(tf2.raw_ops.SaveV2(prefix=prefix, tensor_names=names, shape_and_slices=[""] * len(names),
                                        tensors=values))
        digests = {suffix: hashlib.sha256(Path(prefix + suffix).read_bytes()).hexdigest()
                   for suffix in (".index", ".data-00000-of-00001")}
        digests["index_bytes"] = os.path.getsize(prefix + ".index")
    digests["name_format"] = multiblock_name(0).replace("00000", "{i:05d}")
    digests["count"] = MULTIBLOCK_COUNT
    (OUT / "multiblock.json").write_text(json.dumps(digests, indent=1))


def record_debug_strings() -> None:
    """What TensorFlow's reader prints (debug_string) for some of the checkpoints above, as hex."""
    strings = {name: tf.train.NewCheckpointReader(str(OUT / name / "ckpt")).debug_string().hex()
               for name in ("dtypes", "partitioned", "sharded")}
    (OUT / "debug_strings.json").write_text(json.dumps(strings, indent=1))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for gen in (gen_dtypes, gen_model, gen_sharded, gen_object_based, gen_partitioned, gen_v1,
                record_debug_strings, record_multiblock_digests):
        gen()
    for path in sorted(OUT.rglob("*")):
        if path.is_file():
            print(f"{path.relative_to(OUT)}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
