"""tf.train.replica_device_setter and the contrib.training ps strategies: placements replayed from TensorFlow
(tools/tf_fixtures/gen_device_placement.py) node by node, the strategies, and a placed graph running in one
process."""

import hashlib
import json
import textwrap
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import tfmini as tf
from tfmini.protobuf import node_def_pb2

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "device_placement" / "programs.json"
PROGRAMS = json.loads(FIXTURE.read_text())["programs"]


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
    nodes = _build(PROGRAMS[name]["source"]).as_graph_def().node
    built = {n.name: n.device for n in nodes}
    types = {n.name: n.op for n in nodes}
    for node, (op_type, device) in recorded.items():
        if node in built:
            assert built[node] == device, f"{name}: {node} ({op_type}) on {built[node]!r}, TF: {device!r}"
    # Nodes only one side has are the internals of a gradient or of tf.zeros, which tfmini builds from other
    # primitives: each must sit where TF put the ops of its scope.
    scope_devices: dict[str, set] = {}
    for node, (_, device) in recorded.items():
        scope_devices.setdefault(_scope(node), set()).add(device)
    internal = ("gradients/", "zeros/")
    for node in set(built) - set(recorded):
        if node.startswith(internal):
            assert scope_devices.get(_scope(node), {built[node]}) == {built[node]}, node
    # Any other node is one tfmini names differently (a resource update's reads, the assignments of Adam's
    # resource beta powers, a table's default value): it must pair with a TF node of its type on its
    # device under the same outer scope.
    only_tf = Counter((n.split("/")[0] if "/" in n else "", *recorded[n]) for n in set(recorded) - set(built)
                      if not n.startswith(internal))
    only_here = Counter((n.split("/")[0] if "/" in n else "", types[n], built[n]) for n in set(built) - set(recorded)
                        if not n.startswith(internal))
    assert only_here == only_tf, f"{name}: nodes without a TF counterpart {only_here - only_tf}, " \
                                 f"TF nodes missing {only_tf - only_here}"


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_placement_matches_tensorflow(name):
    _check_placement(name)


def test_fixture_covers_the_programs_of_the_brief():
    assert {"ps_tasks_2", "cluster_dict", "greedy", "nested_worker_task", "merge_devices_false", "optimizer_adam",
            "optimizer_adam_resource", "optimizer_momentum", "group_by_device", "lookup_tables"} <= set(PROGRAMS)
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


def test_group_makes_one_no_op_per_device_in_device_order():
    with tf.Graph().as_default() as g:
        with tf.device("/job:ps/task:1"):
            a = tf.constant(1.0, name="a")
        with tf.device("/job:ps/task:0"):
            b = tf.constant(2.0, name="b")
            b2 = tf.constant(3.0, name="b2")
        c = tf.constant(4.0, name="c")
        grouped = tf.group(a, b, c, b2, name="grouped")
        with tf.device("/job:worker"):
            single = tf.group(b, b2, name="single")
        empty = tf.group(name="empty")
    per_device = [g.get_operation_by_name(n) for n in ("grouped/NoOp", "grouped/NoOp_1", "grouped/NoOp_2")]
    assert [op.device for op in per_device] == ["", "/job:ps/task:0", "/job:ps/task:1"]
    assert [[i.name for i in op.control_inputs] for op in per_device] == [["c"], ["b", "b2"], ["a"]]
    assert grouped.device == "" and set(grouped.control_inputs) == set(per_device)
    # One device: the named NoOp itself goes there (merged with the scopes around it).
    assert single.device == "/job:ps/task:0" and {i.name for i in single.control_inputs} == {"b", "b2"}
    assert (empty.type, empty.control_inputs) == ("NoOp", [])


def test_slots_follow_their_variable_unless_asked_not_to():
    from tfmini.train.optimizer import create_slot, create_zeros_slot

    with tf.Graph().as_default():
        with tf.device(tf.train.replica_device_setter(ps_tasks=2)):
            v = tf.Variable(tf.ones([2]), name="v")
            t = tf.constant([1.0, 2.0], name="t")
            beside = create_zeros_slot(v, "m")
            loose = create_zeros_slot(v, "loose", colocate_with_primary=False)
            of_tensor = create_slot(t, t * 2.0, "avg", colocate_with_primary=False)
    assert v.device == "/job:ps/task:0"
    assert beside.device == "/job:ps/task:0"
    assert loose.device == "/job:ps/task:1"  # the setter's next ps task
    assert of_tensor.device == "/job:ps/task:0"


def test_resource_reads_sit_on_the_handle_device():
    with tf.Graph().as_default():
        with tf.device("/job:ps/task:3"):
            v = tf.Variable([1.0, 2.0], name="v", use_resource=True)
        with tf.device("/job:worker/device:GPU:0"):
            other = tf.constant(1.0, name="other")
            with tf.colocate_with(other):
                used = v.value()
            read = v.read_value()
            y = v * 2.0
    assert (v.initializer.device, v._graph_element.op.device) == ("/job:ps/task:3", "/job:ps/task:3")
    assert v.initial_value.op.device == ""
    assert used.op.device == "/job:ps/task:3"
    # read_value: the read merges the handle's device into the scopes, its Identity stays with the scopes.
    assert read.op.inputs[0].op.device == "/job:ps/task:3/device:GPU:0"
    assert read.op.device == "/job:worker/device:GPU:0"
    assert y.op.inputs[0].op.device == "/job:ps/task:3" and y.op.device == "/job:worker/device:GPU:0"


def test_initializers_from_callables_are_built_on_no_device():
    with tf.Graph().as_default():
        with tf.device("/job:worker/task:1"):
            w = tf.get_variable("w", [2], initializer=tf.ones_initializer())
            v = tf.Variable(lambda: tf.zeros([2]), name="v")
            u = tf.Variable(tf.zeros([2]), name="u")
    assert (w.initial_value.op.device, v.initial_value.op.device) == ("", "")
    assert u.initial_value.op.device == "/job:worker/task:1"
    assert {w.device, v.device, u.device} == {"/job:worker/task:1"}


@pytest.mark.parametrize("use_resource", [False, True])
def test_placed_adam_trains_as_unplaced(use_resource):
    results = []
    for placed in (False, True):
        with tf.Graph().as_default() as g:
            with tf.device(tf.train.replica_device_setter(ps_tasks=2 if placed else 0)):
                x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
                w = tf.Variable([[0.5], [-0.5]], name="w", use_resource=use_resource)
                b = tf.get_variable("b", [1], initializer=tf.constant_initializer(0.1), use_resource=use_resource)
                loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b))
                step = tf.train.get_or_create_global_step()
                train = tf.train.AdamOptimizer(0.05).minimize(loss, global_step=step)
            if placed:
                assert {w.device, b.device} == {"/job:ps/task:0", "/job:ps/task:1"}
            with tf.Session(graph=g) as sess:
                sess.run(tf.global_variables_initializer())
                losses = [sess.run([loss, train])[0] for _ in range(4)]
                results.append((losses, sess.run([w, b, step])))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(a, b)
    assert results[0][1][2] == 4


def test_moving_average_of_a_tensor_goes_to_a_ps_task_and_of_a_variable_beside_it():
    """TF's ExponentialMovingAverage keeps an average beside a variable, but gives the average of a computed tensor
    its own place (the device function sends it to a ps task)."""
    with tf.Graph().as_default():
        with tf.device(tf.train.replica_device_setter(ps_tasks=2)):
            w = tf.Variable(1.0, name="w")
            loss = tf.square(w, name="loss")
            ema = tf.train.ExponentialMovingAverage(0.9)
            ema.apply([w, loss])
        assert ema.average(w).device == w.device == "/job:ps/task:0"
        assert ema.average(loss).device == "/job:ps/task:1"
        assert loss.device == "/job:worker"
