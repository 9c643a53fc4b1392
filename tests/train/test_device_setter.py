"""tf.train.replica_device_setter and the contrib.training ps strategies: placements replayed from TensorFlow
(tools/tf_fixtures/gen_device_placement.py) node by node, the strategies, and a placed graph running in one
process."""

import hashlib
import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

import tfmini as tf
from tfmini.protobuf import node_def_pb2

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "device_placement" / "programs.json"
PROGRAMS = json.loads(FIXTURE.read_text())["programs"]

# Programs whose placement needs colocation that other modules do not ask for yet: the optimizer's slots,
# beta powers and update ops beside their variable, get_variable's initializers unplaced, the update group
# split per device.
NEEDS_OPTIMIZER_COLOCATION = {"optimizer_adam"}


def _greedy(num_tasks):
    return tf.contrib.training.GreedyLoadBalancingStrategy(num_tasks, tf.contrib.training.byte_size_load_fn)


def _build(source: str) -> tf.Graph:
    graph = tf.Graph()
    with graph.as_default():
        exec(textwrap.dedent(source), {"tf": tf, "greedy": _greedy})  # noqa: S102 - the recorded programs
    return graph


def _scope(name: str) -> str:
    return name.rsplit("/", 1)[0] if "/" in name else ""


def _check_placement(name: str) -> None:
    recorded = PROGRAMS[name]["nodes"]
    built = {n.name: n.device for n in _build(PROGRAMS[name]["source"]).as_graph_def().node}
    for node, (op_type, device) in recorded.items():
        if node in built:
            assert built[node] == device, f"{name}: {node} ({op_type}) on {built[node]!r}, TF: {device!r}"
    # Nodes only one side has are the internals of a gradient or of tf.zeros, which tfmini builds from other
    # primitives: each must sit where TF put the ops of its scope.
    scope_devices: dict[str, set] = {}
    for node, (_, device) in recorded.items():
        scope_devices.setdefault(_scope(node), set()).add(device)
    for node in set(built) - set(recorded):
        assert node.startswith(("gradients/", "zeros/")), f"{name}: unexpected node {node}"
        assert scope_devices.get(_scope(node), {built[node]}) == {built[node]}, node
    for node in set(recorded) - set(built):
        assert node.startswith(("gradients/", "zeros/")), f"{name}: missing node {node}"


@pytest.mark.parametrize("name", sorted(set(PROGRAMS) - NEEDS_OPTIMIZER_COLOCATION))
def test_placement_matches_tensorflow(name):
    _check_placement(name)


@pytest.mark.xfail(strict=True, reason="train/optimizer.py and variables.py do not colocate slots, beta powers, "
                                       "update ops and initializers with their variables yet")
@pytest.mark.parametrize("name", sorted(NEEDS_OPTIMIZER_COLOCATION))
def test_optimizer_placement_matches_tensorflow(name):
    _check_placement(name)


def test_fixture_covers_the_programs_of_the_brief():
    assert {"ps_tasks_2", "cluster_dict", "greedy", "nested_worker_task", "merge_devices_false"} <= set(PROGRAMS)
    devices = {d for p in PROGRAMS.values() for _, d in p["nodes"].values()}
    assert {"/job:ps/task:0", "/job:ps/task:1", "/job:worker", "/job:worker/task:1"} <= devices


def test_round_robin_over_ps_tasks_in_creation_order():
    with tf.Graph().as_default():
        with tf.device(tf.train.replica_device_setter(ps_tasks=3)):
            vs = [tf.Variable(float(i), name=f"v{i}") for i in range(5)]
            r = tf.get_variable("r", [2], use_resource=True)
            y = tf.add_n([v.read_value() for v in vs], name="y")
    assert [v.op.device for v in vs] == [f"/job:ps/task:{i}" for i in (0, 1, 2, 0, 1)]
    assert r.handle.op.device == "/job:ps/task:2"  # VarHandleOp is a ps op too
    assert y.op.device == "/job:worker"


def test_ps_ops_follow_tensorflow_standard_list():
    from tfmini.train.device_setter import STANDARD_PS_OPS

    assert STANDARD_PS_OPS == (
        "Variable", "VariableV2", "AutoReloadVariable", "MutableHashTable", "MutableHashTableV2",
        "MutableHashTableOfTensors", "MutableHashTableOfTensorsV2", "MutableDenseHashTable",
        "MutableDenseHashTableV2", "VarHandleOp", "BoostedTreesEnsembleResourceHandleOp",
        "BoostedTreesQuantileStreamResourceHandleOp", "ResourceConditionalAccumulator")


def test_mutable_hash_table_goes_to_a_ps_task():
    with tf.Graph().as_default():
        with tf.device(tf.train.replica_device_setter(ps_tasks=2)):
            table = tf.contrib.lookup.MutableHashTable(tf.string, tf.int64, -1)
            v = tf.Variable(1, name="v")
    assert table.resource_handle.op.type == "MutableHashTableV2"
    assert (table.resource_handle.op.device, v.op.device) == ("/job:ps/task:0", "/job:ps/task:1")


def test_no_ps_tasks_gives_no_device_function():
    assert tf.train.replica_device_setter() is None
    assert tf.train.replica_device_setter(ps_tasks=0, cluster=None) is None
    assert tf.train.replica_device_setter(cluster={"worker": ["w:1"]}) is None
    cluster = tf.train.ClusterSpec({"ps": ["p:1", "p:2"], "worker": ["w:1"]})
    fn = tf.train.replica_device_setter(cluster=cluster)
    with tf.Graph().as_default():
        with tf.device(fn):
            a, b, c = (tf.Variable(1.0, name=n) for n in "abc")
    assert [v.op.device for v in (a, b, c)] == ["/job:ps/task:0", "/job:ps/task:1", "/job:ps/task:0"]


def test_cluster_ps_job_follows_ps_device():
    cluster = {"param": ["p0:1", "p1:1", "p2:1"], "ps": ["x:1"]}
    fn = tf.train.replica_device_setter(cluster=cluster, ps_device="/job:param")
    with tf.Graph().as_default():
        with tf.device(fn):
            vs = [tf.Variable(1.0, name=f"v{i}") for i in range(4)]
    assert [v.op.device for v in vs] == ["/job:param/task:0", "/job:param/task:1", "/job:param/task:2",
                                         "/job:param/task:0"]


def test_ps_strategy_must_be_callable():
    with pytest.raises(TypeError, match="ps_strategy must be callable"):
        tf.train.replica_device_setter(ps_tasks=2, ps_strategy=3)


def test_bad_cluster_is_a_type_error():
    with pytest.raises(TypeError, match="`cluster` must be a dictionary"):
        tf.train.replica_device_setter(cluster=["ps:1"])


def test_custom_strategy_sees_the_operation():
    seen = []

    def strategy(op):
        seen.append((op.type, op.name, op.get_attr("dtype")))
        return 7

    with tf.Graph().as_default():
        with tf.device(tf.train.replica_device_setter(ps_tasks=8, ps_strategy=strategy)):
            v = tf.Variable(np.zeros(3, np.float64), name="v")
    assert seen == [("VariableV2", "v", tf.float64)]
    assert v.op.device == "/job:ps/task:7"


def test_device_function_takes_a_node_def():
    fn = tf.train.replica_device_setter(ps_tasks=2, worker_device="/job:worker/task:3")
    assert fn(node_def_pb2.NodeDef(name="v", op="VariableV2")) == "/job:ps/task:0"
    assert fn(node_def_pb2.NodeDef(name="v2", op="VariableV2", device="/job:ps/task:1")) == "/job:ps/task:1"
    assert fn(node_def_pb2.NodeDef(name="m", op="MatMul", device="/cpu:0")) == "/job:worker/task:3/device:CPU:0"


def test_ps_task_kept_when_the_op_names_another_job():
    fn = tf.train.replica_device_setter(ps_tasks=2)
    assert fn(node_def_pb2.NodeDef(op="VariableV2", device="/job:other")) == "/job:other"
    assert fn(node_def_pb2.NodeDef(op="VariableV2", device="/job:ps")) == "/job:ps/task:0"


def test_random_strategy_hashes_name_and_seed():
    for seed in (0, 5):
        strategy = tf.contrib.training.RandomStrategy(3, seed=seed)
        with tf.Graph().as_default():
            with tf.device(tf.train.replica_device_setter(ps_tasks=3, ps_strategy=strategy)):
                vs = [tf.Variable(1.0, name=f"var_{i}") for i in range(30)]
        expected = [int(hashlib.md5(f"var_{i}_{seed}".encode()).hexdigest(), 16) % 3 for i in range(30)]
        assert [v.op.device for v in vs] == [f"/job:ps/task:{t}" for t in expected]
        assert len(set(expected)) == 3


def test_greedy_strategy_picks_least_loaded_task():
    loads = {"a": 10.0, "b": 3.0, "c": 4.0, "d": 1.0, "e": 100.0}
    strategy = tf.contrib.training.GreedyLoadBalancingStrategy(2, lambda op: loads[op.name])
    with tf.Graph().as_default():
        with tf.device(tf.train.replica_device_setter(ps_tasks=2, ps_strategy=strategy)):
            vs = [tf.Variable(1.0, name=n) for n in loads]
    # a -> 0 (0, 0); b -> 1 (10, 0); c -> 1 (10, 3); d -> 1 (10, 7); e -> 1 (10, 8)
    assert [v.op.device[-1] for v in vs] == ["0", "1", "1", "1", "1"]


def test_byte_size_load_fn():
    with tf.Graph().as_default():
        v = tf.Variable(tf.zeros([3, 4], tf.float64))
        s = tf.Variable(1, name="s")
        x = tf.placeholder(tf.float32, [None, 2])
        parts = tf.split(tf.zeros([4]), 2)
    assert tf.contrib.training.byte_size_load_fn(v.op) == 96
    assert tf.contrib.training.byte_size_load_fn(s.op) == 4
    with pytest.raises(ValueError):
        tf.contrib.training.byte_size_load_fn(x.op)
    with pytest.raises(ValueError, match="must have a single output"):
        tf.contrib.training.byte_size_load_fn(parts[0].op)


def test_placed_graph_trains_in_one_process():
    def build():
        x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
        w = tf.Variable([[0.5], [-0.5]], name="w")
        b = tf.Variable([0.1], name="b")
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b))
        train = tf.train.GradientDescentOptimizer(0.05).minimize(loss)
        return loss, train, [w, b]

    results = []
    for placed in (False, True):
        with tf.Graph().as_default() as g:
            if placed:
                with tf.device("/job:worker/task:1"), tf.device(tf.train.replica_device_setter(ps_tasks=2)):
                    loss, train, variables = build()
                assert {v.op.device for v in variables} == {"/job:ps/task:0", "/job:ps/task:1"}
            else:
                loss, train, variables = build()
            with tf.Session(graph=g) as sess:
                sess.run(tf.global_variables_initializer())
                losses = [sess.run([loss, train])[0] for _ in range(5)]
                results.append((losses, sess.run(variables)))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(a, b)
    assert results[0][0][-1] < results[0][0][0]
