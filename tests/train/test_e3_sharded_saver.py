"""tf.train.Saver(sharded=True) as TF 1.15 builds and runs it: one shard per device (a SaveV2 on each
device's CPU 0 writing `<prefix>_temp_<uuid>/part-<i>-of-<n>`, MergeV2Checkpoints on the last device
renaming the shards' data files to `<prefix>.data-<i>-of-<n>` under one index), one restore per device.
Replayed against TensorFlow's graph, files and run (tools/tf_fixtures/gen_e3_sharded_saver.py), on a local
session and on a 1 ps + 1 worker in-process cluster, where each task writes its own shard."""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time

import numpy as np
import pytest

import tfmini as tf
from tfmini.distributed import dask_runtime
from tfmini.distributed.server import free_port
from tfmini.framework.registry import apply_op

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf", "e3_sharded_saver")
with open(os.path.join(FIXTURES, "graph.json")) as f:
    TF_GRAPH = json.load(f)
with open(os.path.join(FIXTURES, "run.json")) as f:
    TF_RUN = json.load(f)
TF_CKPT = os.path.join(FIXTURES, "ckpt", "model")
# TF 2's regex test for s3:// prefixes, which TF 1.15 does not build (it joins '_temp_<uuid>/part' instead).
TF2_ONLY = {"save/StaticRegexFullMatch", "save/Const_1", "save/Const_2", "save/Select", "save/StringJoin"}
TF115_JOIN = [["save/StringJoin/inputs_1", "Const", "", []],
              ["save/StringJoin", "StringJoin", "", ["save/Const", "save/StringJoin/inputs_1"]]]
VALUES = {"a": np.array([1.0, 2.0], np.float32), "s": np.array([b"x", b"yz"], object),
          "b": np.array([[3]], np.int32), "r": np.array([4.0, 5.0], np.float32)}


def _build():
    """The model of the fixture: a and s on /job:ps/task:0, b and the resource variable r on the worker."""
    with tf.device("/job:ps/task:0"):
        a = tf.Variable([1.0, 2.0], name="a")
        s = tf.Variable([b"x", b"yz"], name="s")
    with tf.device("/job:worker/task:0"):
        b = tf.Variable([[3]], name="b", dtype=tf.int32)
        r = tf.get_variable("r", initializer=np.array([4.0, 5.0], np.float32), use_resource=True)
    return [a, s, b, r], tf.train.Saver(sharded=True)


def _zero(sess, variables) -> None:
    a, s, b, r = variables
    sess.run([a.assign([0.0, 0.0]), s.assign([b"", b""]), b.assign([[0]]), r.assign([0.0, 0.0])])


def _check_values(sess, variables) -> None:
    for var, want in zip(variables, VALUES.values()):
        got = sess.run(var)
        assert got.dtype == want.dtype or want.dtype == object
        np.testing.assert_array_equal(got, want)


def _check_files(directory: str) -> None:
    """The checkpoint files are TF's (names and bytes), with no temporary directory left."""
    assert sorted(n for n in os.listdir(directory) if n.startswith("model")) == TF_RUN["files"] + ["model.meta"]
    for name in TF_RUN["files"]:
        with open(os.path.join(directory, name), "rb") as mine, open(os.path.join(FIXTURES, "ckpt", name), "rb") as tf_:
            assert mine.read() == tf_.read(), name


def test_graph_matches_tf_1_15():
    with tf.Graph().as_default() as graph:
        _, saver = _build()
        mine = [[n.name, n.op, n.device, list(n.input)] for n in graph.as_graph_def().node
                if n.name.startswith("save/")]
        join = graph.get_operation_by_name("save/StringJoin/inputs_1").get_attr("value")
    assert re.fullmatch(rb"_temp_[0-9a-f]{32}/part", np.asarray(join).item())
    want = [n for n in TF_GRAPH["nodes"] if n[0] not in TF2_ONLY]
    want[3:3] = TF115_JOIN
    assert [n[0] for n in mine] == [n[0] for n in want]
    for (name, op, device, inputs), (_, tf_op, tf_device, tf_inputs) in zip(mine, want):
        assert op == tf_op, name
        data = [i for i in inputs if not i.startswith("^")]
        assert data == [i for i in tf_inputs if not i.startswith("^")], name
        assert sorted(set(inputs) - set(data)) == sorted(i for i in tf_inputs if i.startswith("^")), name
        if op == "SaveV2":
            # tfmini colocates an op with every variable it reads as a ref, so the save is on the
            # variables' device: the same task as TF's, without TF's '/device:CPU:0'.
            assert tf_device.startswith(device), name
        else:
            assert device == tf_device, name
    assert saver.saver_def.sharded
    for key in ("filename_tensor_name", "save_tensor_name", "restore_op_name"):
        assert getattr(saver.saver_def, key) == TF_GRAPH["saver_def"][key]


def test_local_session_writes_tf_s_shards_and_restores_them(tmp_path):
    with tf.Graph().as_default():
        variables, saver = _build()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            path = saver.save(sess, str(tmp_path / "model"))
            assert path == str(tmp_path / "model")
            _check_files(str(tmp_path))
            _zero(sess, variables)
            saver.restore(sess, path)
            _check_values(sess, variables)
    reader = tf.train.NewCheckpointReader(path)
    assert sorted(reader.get_variable_to_shape_map()) == ["a", "b", "r", "s"]


def test_restores_tf_s_sharded_checkpoint(tmp_path):
    """TF's two-shard checkpoint restores through the sharded saver and through a one-shard saver."""
    for sharded in (True, False):
        with tf.Graph().as_default():
            variables, _ = _build()
            saver = tf.train.Saver(sharded=sharded)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                _zero(sess, variables)
                saver.restore(sess, TF_CKPT)
                _check_values(sess, variables)


def test_a_second_save_replaces_the_first(tmp_path):
    with tf.Graph().as_default():
        variables, saver = _build()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            saver.save(sess, str(tmp_path / "model"))
            _zero(sess, variables)
            saver.save(sess, str(tmp_path / "model"))
            sess.run(tf.global_variables_initializer())
            saver.restore(sess, str(tmp_path / "model"))
            assert sess.run(variables[2]).tolist() == [[0]]
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", *TF_RUN["files"], "model.meta"]


def test_partitioned_variable_across_devices_merges_its_slices(tmp_path):
    """The parts of one partitioned variable on two devices are two shards' slices of one checkpoint tensor."""
    value = np.arange(12, dtype=np.float32).reshape(6, 2)
    with tf.Graph().as_default():
        with tf.device(tf.train.replica_device_setter(ps_tasks=2)):
            v = tf.get_variable("p", shape=[6, 2], initializer=tf.zeros_initializer(),
                                partitioner=tf.fixed_size_partitioner(2))
        assert {part.device for part in v} == {"/job:ps/task:0", "/job:ps/task:1"}
        saver = tf.train.Saver(sharded=True)
        with tf.Session() as sess:
            sess.run([part.assign(value[3 * i:3 * i + 3]) for i, part in enumerate(v)])
            path = saver.save(sess, str(tmp_path / "model"), write_meta_graph=False)
            sess.run([part.assign(tf.zeros_like(part)) for part in v])
            saver.restore(sess, path)
            np.testing.assert_array_equal(sess.run(tf.concat(list(v), 0)), value)
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "model.data-00000-of-00002", "model.data-00001-of-00002",
                                            "model.index"]
    np.testing.assert_array_equal(tf.train.load_variable(path, "p"), value)


def test_merge_refuses_a_tensor_in_two_shards_and_a_missing_shard(tmp_path):
    parts = tmp_path / "model_temp"
    parts.mkdir()
    with tf.Graph().as_default():
        names = [apply_op("ShardedFilename", [str(parts / "part"), i, 2]).outputs[0] for i in range(2)]
        saves = [apply_op("SaveV2", [n, ["x"], [""], [tf.constant([float(i)])]]) for i, n in enumerate(names)]
        with tf.control_dependencies(saves):
            merge = apply_op("MergeV2Checkpoints", [tf.stack(names), str(tmp_path / "model")])
        missing = apply_op("MergeV2Checkpoints", [[str(parts / "nothing")], str(tmp_path / "other")])
        allowed = apply_op("MergeV2Checkpoints", [[str(parts / "nothing")], str(tmp_path / "other")],
                           {"allow_missing_files": True})
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match="Duplicate tensor keyed by x encountered"):
                sess.run(merge)
            with pytest.raises(tf.errors.NotFoundError, match="nothing.index"):
                sess.run(missing)
            sess.run(allowed)
    assert not os.path.exists(tmp_path / "model.index")


@pytest.fixture(scope="module")
def cluster():
    before = set(threading.enumerate())
    spec = tf.train.ClusterSpec({"ps": [f"localhost:{free_port()}"], "worker": [f"localhost:{free_port()}"]})
    servers = [tf.train.Server(spec, job_name="ps", task_index=0),
               tf.train.Server(spec, job_name="worker", task_index=0)]
    yield servers
    for server in reversed(servers):
        server._stop()
    dask_runtime.shutdown()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and set(threading.enumerate()) - before:
        time.sleep(0.05)


def test_each_cluster_task_writes_its_own_shard(cluster, tmp_path):
    with tf.Graph().as_default():
        variables, saver = _build()
        with tf.Session(cluster[1].target) as sess:
            sess.run(tf.global_variables_initializer())
            metadata = tf.RunMetadata()
            path = sess.run(saver.saver_def.save_tensor_name,
                            {saver.saver_def.filename_tensor_name: str(tmp_path / "model")},
                            options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE), run_metadata=metadata)
            assert path == str(tmp_path / "model").encode()
            ran_on = {n.node_name: d.device for d in metadata.step_stats.dev_stats for n in d.node_stats
                      if n.node_name in TF_RUN["ran_on"]}
            assert ran_on == TF_RUN["ran_on"]
            saver.export_meta_graph(str(tmp_path / "model.meta"))
            _check_files(str(tmp_path))
            _zero(sess, variables)
            saver.restore(sess, str(tmp_path / "model"))
            _check_values(sess, variables)
            # And TF's own checkpoint, each task restoring its tensors.
            _zero(sess, variables)
            shutil.copytree(os.path.dirname(TF_CKPT), tmp_path / "tf")
            saver.restore(sess, str(tmp_path / "tf" / "model"))
            _check_values(sess, variables)
