"""The Python side of the views of distributed runs: device strings parsed, completed and shortened ('ps:0'),
stable device colours, the graph view's device table (graphs placed with tf.device and
replica_device_setter), and the trace view's lane groups per device and transfers (`_Send`/`_Recv` pairs
matched by their rendezvous, TF's RecvTensor records from a real two-task TensorFlow cluster), all escaped.
The browser side is test_device_views_browser.py; the builders here make the distributed steps both use."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from ext_helpers import HOSTILE

import tfmini as tf
from ipython_ext import graph_model, graph_view
from ipython_ext.trace_colours import (
    DEVICE_PALETTE,
    NO_DEVICE,
    NO_DEVICE_COLOUR,
    canonical_device,
    device_colours,
    parse_device,
    short_device_names,
)
from ipython_ext.trace_data import script_json, trace_data, transfer_of
from ipython_ext.trace_view import TraceView
from tfmini.client.timeline import node_times_ns

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "device_views" / "distributed_step.pb"
PS = "/job:ps/replica:0/task:0/device:CPU:0"
WORKER0 = "/job:worker/replica:0/task:0/device:CPU:0"
WORKER1 = "/job:worker/replica:0/task:1/device:CPU:0"
TRANSFER_THREAD = 9  # the thread the builder's sends and receives run on, beside the ops' threads


# -- builders ---------------------------------------------------------------------------------------------
def mlp_graph(workers: int = 2, layers: int = 3, width: int = 32):
    """An MLP trained on `workers` towers (one per worker task, in-graph replication) whose variables
    replica_device_setter puts on the one ps task; the averaged gradients are applied by Adam. Returns the
    graph, the (x, y) placeholders per tower, the train op and the initializer."""
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(0)
        cluster = tf.train.ClusterSpec({"ps": ["ps0:2222"], "worker": [f"w{k}:2222" for k in range(workers)]})
        opt = tf.train.AdamOptimizer(0.01)
        towers, feeds = [], []
        for k in range(workers):
            setter = tf.train.replica_device_setter(cluster=cluster, worker_device=f"/job:worker/task:{k}")
            with tf.device(setter), tf.name_scope(f"tower{k}"):
                x = tf.placeholder(tf.float32, [None, width], name="x")
                y = tf.placeholder(tf.float32, [None, 1], name="y")
                h = x
                with tf.variable_scope("mlp", reuse=tf.AUTO_REUSE):
                    for i in range(layers):
                        h = tf.layers.dense(h, width, activation=tf.nn.relu, name=f"dense{i}")
                    out = tf.layers.dense(h, 1, name="out")
                towers.append(opt.compute_gradients(tf.losses.mean_squared_error(y, out)))
                feeds.append((x, y))
        with tf.device(tf.train.replica_device_setter(cluster=cluster, worker_device="/job:worker/task:0")):
            average = [(tf.add_n([t[i][0] for t in towers]) / workers, towers[0][i][1])
                       for i in range(len(towers[0]))]
            train = opt.apply_gradients(average, global_step=tf.train.get_or_create_global_step())
            init = tf.global_variables_initializer()
    return graph, feeds, train, init


def distributed_step(graph, feeds, train, init, master: str = WORKER0) -> tf.RunMetadata:
    """The RunMetadata a distributed step of `train` fills: traced here in one process, its node stats split
    into one DeviceStepStats per task device (an op's device completed as placement does; unplaced ops on
    `master`), and a `_Send` on the producer's device plus a `_Recv` on the consumer's device for every
    tensor an op reads from another device, with TF's transfer labels ('name = _Send(edge_N_op @recv_device)')
    and times (sent when its producer ended, received a few microseconds later, one transfer at a time per
    device, on a thread of their own)."""
    rng = np.random.default_rng(0)
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        feed = {}
        for x, y in feeds:
            feed[x] = rng.standard_normal((16, x.shape[1].value)).astype(np.float32)
            feed[y] = rng.standard_normal((16, 1)).astype(np.float32)
        local = tf.RunMetadata()
        sess.run(train, feed, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE), run_metadata=local)
    device_of = {op.name: canonical_device(op.device) if op.device else master for op in graph.get_operations()}
    md = tf.RunMetadata()
    by_device = {}
    for device in sorted(set(device_of[ns.node_name] for d in local.step_stats.dev_stats for ns in d.node_stats)):
        by_device[device] = md.step_stats.dev_stats.add(device=device)
    end_of = {}
    edge = 0
    sent: set = set()
    wire_free: dict[str, int] = {}  # per device: when its transfer thread is free again
    for ns in (ns for d in local.step_stats.dev_stats for ns in d.node_stats):
        here = device_of[ns.node_name]
        op = graph.get_operation_by_name(ns.node_name)
        for t in op.inputs:
            there = device_of[t.op.name]
            if there == here or (t.name, here) in sent or t.op.name not in end_of:
                continue
            sent.add((t.name, here))
            edge += 1
            tensor = f"edge_{edge}_{t.op.name}"
            start = max(end_of[t.op.name], wire_free.get(there, 0), wire_free.get(here, 0) - 1000)
            send, recv_name = f"{t.op.name}/_{2 * edge}", f"{t.op.name}/_{2 * edge + 1}"
            by_device[there].node_stats.add(
                node_name=send, timeline_label=f"{send} = _Send({tensor} @{here})", all_start_nanos=start,
                all_end_rel_nanos=1000, op_end_rel_nanos=1000, thread_id=TRANSFER_THREAD)
            recv = by_device[here].node_stats.add(
                node_name=recv_name, timeline_label=f"{recv_name} = _Recv({tensor} @{there})",
                all_start_nanos=start + 1000, all_end_rel_nanos=3000, op_end_rel_nanos=3000,
                thread_id=TRANSFER_THREAD)
            wire_free[there], wire_free[here] = start + 1000, start + 4000
            size = int(np.prod([d or 16 for d in t.shape.as_list()])) if t.shape.dims is not None else 1
            recv.output.add(slot=0).tensor_description.allocation_description.requested_bytes = 4 * size
        by_device[here].node_stats.add().CopyFrom(ns)
        end_of[ns.node_name] = node_times_ns(ns)[1]
    return md


def tf_cluster_step() -> tf.RunMetadata:
    """The step recorded on a real TensorFlow ps + worker cluster (tools/tf_fixtures/gen_device_views.py)."""
    return tf.RunMetadata.FromString(FIXTURE.read_bytes())


@pytest.fixture(scope="module")
def mlp():
    return mlp_graph()


@pytest.fixture(scope="module")
def step(mlp):
    return distributed_step(*mlp)


# -- devices ----------------------------------------------------------------------------------------------
def test_device_strings_parse_and_complete_as_placement_does():
    assert parse_device("/job:ps/replica:0/task:1/device:GPU:2") == {
        "job": "ps", "replica": "0", "task": "1", "type": "GPU", "index": "2"}
    assert parse_device("/job:ps/task:0/cpu:0") == {"job": "ps", "task": "0", "type": "CPU", "index": "0"}
    assert parse_device("not a device") is None and parse_device("") is None
    assert canonical_device("/job:ps/task:0") == PS
    assert canonical_device("/job:ps/replica:0/task:0/device:CPU:0") == PS
    assert canonical_device("/job:worker/task:1/device:cpu:0") == WORKER1
    assert canonical_device("/cpu:0") == "/device:CPU:0"
    assert canonical_device(HOSTILE) == HOSTILE


def test_short_names_keep_as_few_fields_as_tell_devices_apart():
    assert short_device_names([PS, WORKER0, WORKER1]) == ["ps:0", "worker:0", "worker:1"]
    local = ["/job:localhost/replica:0/task:0/device:CPU:0", "/job:localhost/replica:0/task:0/device:GPU:0"]
    assert short_device_names(local) == ["CPU:0", "GPU:0"]
    assert short_device_names([PS, "/job:ps/replica:0/task:0/device:GPU:0", WORKER0]) == [
        "ps:0/CPU:0", "ps:0/GPU:0", "worker:0"]
    assert short_device_names(["/job:worker/replica:0/device:CPU:0", "", "odd"]) == ["worker", NO_DEVICE, "odd"]
    assert short_device_names([WORKER0]) == ["worker:0"]


def test_device_colours_are_stable_distinct_and_keyed_by_name():
    names = ["ps:0", "worker:0", "worker:1", "worker:2"]
    colours = device_colours(names)
    assert len(set(colours)) == 4 and set(colours) <= set(DEVICE_PALETTE)
    assert device_colours(list(reversed(names))) == list(reversed(colours))  # order does not matter
    assert device_colours(["worker:1", "ps:0"]) == [colours[2], colours[0]]  # nor which others are there
    assert device_colours([NO_DEVICE, "ps:0"]) == [NO_DEVICE_COLOUR, colours[0]]
    many = [f"worker:{k}" for k in range(len(DEVICE_PALETTE))]
    assert len(set(device_colours(many))) == len(DEVICE_PALETTE)  # a palette's worth never collides
    assert len(device_colours(many + ["ps:0", "ps:1"])) == len(many) + 2


# -- the graph view ---------------------------------------------------------------------------------------
def graph_data(graph) -> dict:
    view = graph_view.GraphView(graph)
    h = view.hierarchy
    return json.loads(graph_model.to_json(view.nodes, h, [0], {}))


def test_graph_view_finds_the_devices_replica_device_setter_placed_ops_on(mlp):
    graph = mlp[0]
    data = graph_data(graph)
    devices, strings = data["devices"], data["strings"]
    assert [strings[i] for i in devices["name"]] == [PS, WORKER0, WORKER1, NO_DEVICE]
    assert [strings[i] for i in devices["short"]] == ["ps:0", "worker:0", "worker:1", NO_DEVICE]
    assert devices["colour"] == device_colours(["ps:0", "worker:0", "worker:1", NO_DEVICE])
    assert [[strings[w] for w in ws] for ws in devices["written"]] == [
        ["/job:ps/task:0"], ["/job:worker/task:0"], ["/job:worker/task:1"], []]
    ops = graph.get_operations()
    want = [["/job:ps/task:0", "/job:worker/task:0", "/job:worker/task:1", ""].index(op.device) for op in ops]
    assert devices["of_op"] == want
    assert Counter(want)[0] == sum(op.type == "VariableV2" for op in ops) + Counter(
        op.device for op in ops if op.type != "VariableV2")["/job:ps/task:0"]


def test_a_graph_on_one_device_has_no_device_table():
    for placement in (None, "/cpu:0", "/job:worker/task:0"):
        graph = tf.Graph()
        with graph.as_default(), tf.device(placement):
            tf.add(tf.constant(1.0), tf.constant(2.0))
        assert graph_data(graph)["devices"] == {}
    graph = tf.Graph()
    with graph.as_default():
        with tf.device("/cpu:0"):
            a = tf.constant(1.0)
        tf.add(a, 1.0)  # pinned beside unplaced ops: one device in a local session
    assert graph_data(graph)["devices"] == {}


def test_ops_placed_on_a_job_beside_unplaced_ones_are_two_devices_and_spellings_of_one_task_are_one():
    graph = tf.Graph()
    with graph.as_default():
        with tf.device("/job:ps/task:0"):
            a = tf.constant(1.0, name="a")
        with tf.device("/job:ps/replica:0/task:0/device:CPU:0"):
            b = tf.constant(2.0, name="b")
        tf.add(a, b, name="c")
    data = graph_data(graph)
    strings = data["strings"]
    assert [strings[i] for i in data["devices"]["short"]] == ["ps:0", NO_DEVICE]
    assert [[strings[w] for w in ws] for ws in data["devices"]["written"]] == [
        ["/job:ps/task:0", "/job:ps/replica:0/task:0/device:CPU:0"], []]
    assert data["devices"]["of_op"] == [0, 0, 1]


def test_hostile_device_names_reach_the_graph_view_only_escaped():
    gd = tf.GraphDef()
    gd.node.add(name="a", op="Const", device=f"/job:{HOSTILE}/task:0")
    gd.node.add(name="b", op="Identity", input=["a"], device="/job:</script><script>alert(1)//")
    markup = graph_view.GraphView(gd).html()
    data = re.search(r'data-tfx="graph-data">(.*?)</script>', markup, re.S)[1]
    assert "<" not in data and ">" not in data and "&" not in data
    decoded = json.loads(data)
    names = {decoded["strings"][i] for i in decoded["devices"]["name"]}
    assert names == {f"/job:{HOSTILE}/replica:0/task:0/device:CPU:0", "/job:</script><script>alert(1)//"}
    assert "<script>alert" not in graph_view.without_view_scripts(markup)


# -- the trace view ---------------------------------------------------------------------------------------
def test_transfer_labels_parse_in_tf_forms():
    assert transfer_of(f"w/read_S0 = _Send(edge_4_w/read @{WORKER0})", PS) == (PS, WORKER0, "edge_4_w/read", True)
    assert transfer_of(f"w/read_S1 = _Recv(edge_4_w/read @{PS}", WORKER0) == (PS, WORKER0, "edge_4_w/read", False)
    key = f"{PS};0000000000000001;{WORKER0};edge_4_w/read;0:0"
    assert transfer_of(f"r = _Recv({key})", WORKER0) == (PS, WORKER0, "edge_4_w/read", False)
    assert transfer_of(f"[24B] [1.627119Mb/s] edge_4_w/read from {PS} to {WORKER0}", WORKER0) == (
        PS, WORKER0, "edge_4_w/read", False)
    assert transfer_of("y = MatMul(x, w/read)", WORKER0) is None
    assert transfer_of("s = _Send(x)", WORKER0) is None


def test_trace_groups_lanes_by_device_and_matches_every_send_to_its_recv(step):
    [run] = trace_data([step.step_stats])["runs"]
    assert run["devices"] == [PS, WORKER0, WORKER1]
    assert run["groups"] == [list(g) for g in zip(["ps:0", "worker:0", "worker:1"],
                                                  device_colours(["ps:0", "worker:0", "worker:1"]))]
    assert [t[0] for t in run["tracks"]] == sorted(t[0] for t in run["tracks"])  # a device's lanes together
    assert all(t[4] == f"{run['devices'][t[0]]} · {t[5]}" and t[5].startswith("thread ") for t in run["tracks"])
    counts = Counter(run["k"][j] for j in range(len(run["k"])))
    assert sum(counts.values()) == sum(len(d.node_stats) for d in step.step_stats.dev_stats)
    nodes = [ns for d in step.step_stats.dev_stats for ns in d.node_stats]
    sends = [j for j, ns in enumerate(nodes) if "= _Send(" in ns.timeline_label]
    recvs = [j for j, ns in enumerate(nodes) if "= _Recv(" in ns.timeline_label]
    assert len(sends) == len(recvs) > 20
    assert sorted(x[0] for x in run["x"]) == sends and sorted(x[1] for x in run["x"]) == recvs
    for a, b, size, tensor, src, dst in run["x"]:
        assert tensor in nodes[a].timeline_label and tensor in nodes[b].timeline_label
        assert src != dst and {src, dst} <= {"ps:0", "worker:0", "worker:1"}
        assert size == nodes[b].output[0].tensor_description.allocation_description.requested_bytes
    # the variables' values go from ps:0 to both workers, the gradients of worker:1 to worker:0
    pairs = Counter((x[4], x[5]) for x in run["x"])
    assert pairs[("ps:0", "worker:0")] and pairs[("ps:0", "worker:1")] and pairs[("worker:1", "worker:0")]


def test_a_real_tensorflow_cluster_step_gets_one_group_per_device_and_its_rpc_transfers(step):
    md = tf_cluster_step()
    assert [d.device for d in md.step_stats.dev_stats] == [WORKER0, PS, PS, WORKER0]
    [run] = trace_data([md.step_stats])["runs"]
    assert run["devices"] == [WORKER0, PS]  # TF's two records of each device are one device
    assert [g[0] for g in run["groups"]] == ["worker:0", "ps:0"]
    nodes = [ns for dev in (WORKER0, PS) for d in md.step_stats.dev_stats if d.device == dev for ns in d.node_stats]
    names = [ns.node_name for ns in nodes]
    got = {(x[3], names[x[0]], names[x[1]], x[2], x[4], x[5]) for x in run["x"]}
    assert got == {("edge_4_w/read", "w/read", "RecvTensor", 24, "ps:0", "worker:0"),
                   ("edge_11_gradients/y_grad/MatMul_1", "gradients/y_grad/MatMul_1", "RecvTensor", 24, "worker:0",
                    "ps:0"),
                   ("edge_10_GradientDescent/learning_rate", "GradientDescent/learning_rate", "RecvTensor", 4,
                    "worker:0", "ps:0")}


def test_feeds_and_fetches_have_the_client_at_their_other_end():
    stats = tf.StepStats()
    client = "/job:localhost/replica:0/task:0/device:CPU:0"
    worker = stats.dev_stats.add(device=WORKER0)
    stats.dev_stats.add(device=PS).node_stats.add(node_name="w", timeline_label="w = VariableV2()",
                                                  all_start_micros=1, all_end_rel_micros=1)
    # TF's client-terminated receive and send name the task's own device at both ends
    worker.node_stats.add(node_name="_recv_x_0", timeline_label=f"_recv_x_0 = _Recv(x:0 @{WORKER0})",
                          all_start_micros=2, all_end_rel_micros=3).output.add(slot=0)
    worker.node_stats.add(node_name="_send_y_0", timeline_label=f"_send_y_0 = _Send(y:0 @{WORKER0})",
                          all_start_micros=6, all_end_rel_micros=1)
    # a device the trace does not have keeps its full name
    worker.node_stats.add(node_name="_recv_z_0", timeline_label=f"_recv_z_0 = _Recv(z:0 @{client})",
                          all_start_micros=7, all_end_rel_micros=1)
    [run] = trace_data([stats])["runs"]
    assert run["x"] == [[-1, 0, 0, "x:0", "client", "worker:0"], [-1, 2, -1, "z:0", client, "worker:0"],
                        [1, -1, -1, "y:0", "worker:0", "client"]]
    # a session's client device is its master task's: a feed received on another traced task names that task
    ps = stats.dev_stats[1]
    ps.node_stats.add(node_name="_recv_f_0", timeline_label=f"_recv_f_0 = _Recv(f:0 @{WORKER0})",
                      all_start_micros=8, all_end_rel_micros=1).output.add(slot=0)
    ps.node_stats.add(node_name="_send_g_0", timeline_label=f"_send_g_0 = _Send(g:0 @{WORKER0})",
                      all_start_micros=9, all_end_rel_micros=1)
    [run] = trace_data([stats])["runs"]
    assert [-1, 4, 0, "f:0", "client", "ps:0"] in run["x"] and [5, -1, -1, "g:0", "ps:0", "client"] in run["x"]


def test_single_device_traces_keep_their_data_and_hostile_device_names_stay_in_the_json():
    stats = tf.StepStats()
    dev = stats.dev_stats.add(device=f"/job:{HOSTILE}/replica:0/task:0/device:CPU:0")
    dev.node_stats.add(node_name="a", timeline_label="a = Const()", all_start_micros=1, all_end_rel_micros=1)
    other = stats.dev_stats.add(device="</script><script>alert(1)</script>")
    other.node_stats.add(node_name="b", timeline_label=f"b = _Recv(t @/job:{HOSTILE}/task:0)", all_start_micros=3,
                         all_end_rel_micros=1)
    data = trace_data([stats])
    [run] = data["runs"]
    assert [g[0] for g in run["groups"]] == [f"{HOSTILE}:0", "</script><script>alert(1)</script>"]
    # no send of the traced device feeds it: a client-terminated receive
    assert run["x"] == [[-1, 1, -1, "t", "client", "</script><script>alert(1)</script>"]]
    text = script_json(data)
    assert "<" not in text and ">" not in text and "&" not in text and json.loads(text) == data
    html = TraceView(stats).html()
    assert "<script>alert(1)" not in html and HOSTILE not in html
    single = tf.StepStats()
    one = single.dev_stats.add(device=WORKER0)
    one.node_stats.add(node_name="a", timeline_label="a = Const()", all_start_micros=1, all_end_rel_micros=1)
    [run] = trace_data([single])["runs"]
    assert run["groups"] == [["worker:0", device_colours(["worker:0"])[0]]] and run["x"] == []
    assert [t[4] for t in run["tracks"]] == ["thread 1"]
