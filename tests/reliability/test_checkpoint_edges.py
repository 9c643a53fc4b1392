"""Checkpoints at their edges: a save killed by SIGKILL mid-write leaves temporaries the next save removes
(while a live writer's stay) and the previous checkpoint restorable, and fuzzed bytes of a valid checkpoint's
index or data file either restore exactly or fail with DataLossError, never another error, a hang or a wrong
value."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from reliability_support import TALLIES, no_hang

import tfmini as tf
from tfmini.train import checkpoint as ckpt

REPO = Path(__file__).resolve().parents[2]

# The child saves a 32 MiB variable and stops inside the save, after the data is written and before the
# rename (its os.replace blocks), so the parent can watch it live and then kill it without warning.
_BLOCKED_SAVER = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    import tfmini as tf

    def blocked_replace(src, dst):
        print("writing", flush=True)
        time.sleep(600)

    big = tf.Variable(np.ones(4 << 20), name="big")
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(big.initializer)
        os.replace = blocked_replace
        saver.save(sess, sys.argv[1])
""")


def _temporaries(directory: Path) -> list[Path]:
    """The files in `directory` that are neither a checkpoint's nor the state file."""
    return sorted(p for p in directory.iterdir() if ".tempstate." in p.name)


def _save_small(directory: Path, name: str = "small") -> str:
    with tf.Graph().as_default():
        w = tf.Variable([1.0, 2.0], name="w")
        with tf.Session() as sess:
            sess.run(w.initializer)
            return tf.train.Saver().save(sess, str(directory / name))


def test_a_save_killed_mid_write_leaves_a_temporary_the_next_save_removes(tmp_path):
    previous = _save_small(tmp_path, "previous")
    child = subprocess.Popen([sys.executable, "-c", _BLOCKED_SAVER, str(tmp_path / "big")], cwd=REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with no_hang(60):
            assert child.stdout.readline() == "writing\n", child.stderr.read()
        temporaries = _temporaries(tmp_path)
        data, index = temporaries
        assert data.name.startswith("big.data-00000-of-00001.tempstate.") and f".{child.pid}." in data.name
        assert index.name.startswith("big.index.tempstate.") and f".{child.pid}." in index.name
        assert data.stat().st_size >= 32 << 20

        _save_small(tmp_path)  # the writer is alive: its temporaries stay
        assert _temporaries(tmp_path) == temporaries
        assert tf.train.load_variable(previous, "w").tolist() == [1.0, 2.0]  # the old one is untouched

        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
        assert all(t.exists() for t in temporaries)  # nothing in the killed process could clean up
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
        child.stderr.close()

    prefix = _save_small(tmp_path)
    assert _temporaries(tmp_path) == []
    assert tf.train.load_variable(prefix, "w").tolist() == [1.0, 2.0]
    assert tf.train.load_variable(previous, "w").tolist() == [1.0, 2.0]


# ----------------------------------------------------------------------------------------------------------
# Fuzzed checkpoint bytes
# ----------------------------------------------------------------------------------------------------------
_TENSORS = {
    "dense/kernel": np.arange(12, dtype=np.float32).reshape(3, 4),
    "global_step": np.int64(7),
    "flags": np.array([True, False, True]),
    "names": np.array([b"a", b"", b"\x00\xff"], dtype=object),
    "empty": np.zeros((0, 2), np.float64),
}


_FILES = (".index", ".data-00000-of-00001")


@pytest.fixture(scope="module")
def valid_checkpoint(tmp_path_factory) -> dict:
    prefix = ckpt.write_checkpoint(str(tmp_path_factory.mktemp("valid") / "m"), _TENSORS)
    return {suffix: Path(prefix + suffix).read_bytes() for suffix in _FILES}


_mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 1 << 20), st.integers(0, 7)),
    st.tuples(st.just("set"), st.integers(0, 1 << 20), st.integers(0, 255)),
    st.tuples(st.just("truncate"), st.integers(0, 1 << 20), st.just(0)),
    st.tuples(st.just("delete"), st.integers(0, 1 << 20), st.integers(1, 64)),
    st.tuples(st.just("insert"), st.integers(0, 1 << 20), st.integers(0, 255)),
)


def _mutate(data: bytes, mutations) -> bytes:
    out = bytearray(data)
    for kind, where, arg in mutations:
        at = where % (len(out) + 1)
        if kind == "truncate":
            del out[at:]
        elif kind == "delete":
            del out[at:at + arg]
        elif kind == "insert":
            out[at:at] = bytes([arg])
        elif at < len(out):
            out[at] = out[at] ^ (1 << arg) if kind == "flip" else arg
    return bytes(out)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tolist() == b.tolist()


@given(target=st.sampled_from(_FILES), mutations=st.lists(_mutation, min_size=1, max_size=4))
def test_fuzz_corrupted_checkpoint_bytes_restore_exactly_or_are_data_loss(valid_checkpoint, tmp_path_factory,
                                                                          target, mutations):
    tally = TALLIES["checkpoint_fuzz"]
    tally["examples"] += 1
    directory = tmp_path_factory.getbasetemp() / "checkpoint_fuzz"
    directory.mkdir(exist_ok=True)
    for suffix, data in valid_checkpoint.items():
        (directory / ("m" + suffix)).write_bytes(_mutate(data, mutations) if suffix == target else data)
    try:
        with no_hang(10):
            reader = tf.train.NewCheckpointReader(str(directory / "m"))
            got = {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}
    except (tf.errors.DataLossError, tf.errors.NotFoundError) as e:
        tally["data_loss" if isinstance(e, tf.errors.DataLossError) else "not_found"] += 1
        assert str(directory / "m") + target in e.message
        return
    except BaseException as e:
        tally["hang" if type(e).__name__ == "Hang" else f"raw:{type(e).__name__}"] += 1
        raise
    if set(got) != set(_TENSORS) or not all(_same(got[n], _TENSORS[n]) for n in _TENSORS):
        tally["wrong_result"] += 1
        raise AssertionError(f"a mutated checkpoint read as {got}")
    tally["correct"] += 1
