"""Placement (device completion from the master task, handle and ref consumers beside their producer,
replica_device_setter graphs, TF's errors for devices the cluster lacks, soft placement) and partition structure
(send/recv attrs and keys, one transfer per tensor and task, control edges, feeds and fetches, one global order,
function libraries)."""

from __future__ import annotations

import numpy as np
import pytest

import tfmini as tf
from tfmini.distributed.partition import cluster_tasks, partition, place
from tfmini.framework import errors
from tfmini.ops.sendrecv_ops import rendezvous_key

CLUSTER = {"ps": ["localhost:1", "localhost:2"], "worker": ["localhost:3", "localhost:4"]}
PS0, PS1 = "/job:ps/replica:0/task:0", "/job:ps/replica:0/task:1"
WK0, WK1 = "/job:worker/replica:0/task:0", "/job:worker/replica:0/task:1"


def cpu(task):
    return task + "/device:CPU:0"


def test_cluster_tasks_in_cluster_def_order():
    assert cluster_tasks(CLUSTER) == [PS0, PS1, WK0, WK1]
    assert cluster_tasks(tf.train.ClusterSpec({"b": ["x:1"], "a": ["y:1"]})) == ["/job:a/replica:0/task:0",
                                                                             "/job:b/replica:0/task:0"]
    assert cluster_tasks(["/job:w/task:1", "/job:w/task:0"]) == ["/job:w/replica:0/task:0", "/job:w/replica:0/task:1"]


def test_devices_are_completed_from_the_master_task():
    with tf.Graph().as_default() as g:
        a = tf.constant(1.0, name="a")
        tf.identity(a, name="a2")  # a second reader: `a` is no generator moved to its reader
        with tf.device("/job:ps"):
            b = tf.identity(a, name="b")
        with tf.device("/job:ps/task:1"):
            c = tf.identity(b, name="c")
        with tf.device("/job:worker"):
            d = tf.identity(c, name="d")
        with tf.device("/cpu:0"):
            e = tf.identity(d, name="e")
        with tf.device("/task:0"):
            tf.identity(e, name="f")
    devices = place(g, CLUSTER, "/job:worker/task:1")
    assert devices == {"a": cpu(WK1), "a2": cpu(WK1), "b": cpu(PS0), "c": cpu(PS1), "d": cpu(WK1), "e": cpu(WK1),
                       "f": cpu(WK0)}
    assert place(g, CLUSTER, WK0)["a"] == cpu(WK0)


def test_handle_and_ref_consumers_follow_their_producer_but_readers_of_a_ref_do_not():
    with tf.Graph().as_default() as g:
        with tf.device("/job:ps/task:1"):
            v = tf.Variable([1.0], name="v")
            tf.get_variable("r", initializer=[2.0], use_resource=True)
        with tf.device("/job:worker/task:0"):
            tf.identity(v, name="read_v")
    gd = g.as_graph_def()
    # Ops the graph built beside the variable, moved by hand: placement puts them back.
    for nd in gd.node:
        if nd.name in ("v/Assign", "r/Read/ReadVariableOp", "r/Assign") or nd.op == "AssignVariableOp":
            nd.device = "/job:worker/task:1"
    devices = place(gd, CLUSTER, WK0)
    for nd in gd.node:
        if nd.op in ("Assign", "ReadVariableOp", "AssignVariableOp", "VariableV2", "VarHandleOp"):
            assert devices[nd.name] == cpu(PS1), nd.name
    assert devices["read_v"] == cpu(WK0)


def test_replica_device_setter_graph_puts_variables_round_robin_and_compute_on_the_worker():
    with tf.Graph().as_default() as g:
        with tf.device(tf.train.replica_device_setter(ps_tasks=2, worker_device="/job:worker/task:1")):
            x = tf.placeholder(tf.float32, [None, 3])
            h = tf.layers.dense(x, 4, name="h")
            loss = tf.reduce_sum(tf.layers.dense(h, 1, name="o"))
            tf.train.AdamOptimizer().minimize(loss)
    gd = g.as_graph_def()
    devices = place(gd, CLUSTER, WK0)
    variables = [nd.name for nd in gd.node if nd.op == "VariableV2"]
    assert {devices[v] for v in variables} == {cpu(PS0), cpu(PS1)}
    for nd in gd.node:
        if nd.op.startswith("Apply"):
            assert devices[nd.name] == devices[nd.input[0]]
        if nd.op in ("MatMul", "BiasAdd", "Sum"):
            assert devices[nd.name] == cpu(WK1)


@pytest.mark.parametrize("device", ["/job:nope/task:0", "/job:ps/task:7", "/job:ps/task:0/device:GPU:0",
                                    "/device:CPU:1"])
def test_a_device_the_cluster_lacks_is_an_invalid_argument_error_with_tfs_wording(device):
    with tf.Graph().as_default() as g:
        with tf.device(device):
            tf.constant(1.0, name="bad")
    available = ", ".join(cpu(t) for t in (PS0, PS1, WK0, WK1))
    with pytest.raises(errors.InvalidArgumentError) as e:
        place(g, CLUSTER, WK0)
    assert e.value.message == (f"Cannot assign a device for operation bad: Operation was explicitly assigned to "
                               f"{g.get_operation_by_name('bad').device} but available devices are [ {available} ]. "
                               "Make sure the device specification refers to a valid device.")


def test_soft_placement_falls_back_to_the_tasks_cpu_but_not_to_another_task():
    with tf.Graph().as_default() as g:
        with tf.device("/job:ps/task:1/device:GPU:0"):
            tf.constant(1.0, name="gpu_op")
        with tf.device("/job:ps/device:CPU:3"):
            tf.constant(1.0, name="cpu3")
    assert place(g, CLUSTER, WK1, allow_soft_placement=True) == {"gpu_op": cpu(PS1), "cpu3": cpu(PS0)}
    with g.as_default(), tf.device("/job:nope/task:3"):
        tf.constant(1.0, name="lost")
    with pytest.raises(errors.InvalidArgumentError, match="operation lost: .* /job:nope/task:3 but available"):
        place(g, CLUSTER, WK1, allow_soft_placement=True)


def test_master_must_be_a_task_of_the_cluster():
    with tf.Graph().as_default() as g:
        tf.constant(1.0)
    with pytest.raises(errors.InvalidArgumentError, match="master task"):
        place(g, CLUSTER, "/job:chief/task:0")


# ----------------------------------------------------------------------------------------------------------
# Partition structure
# ----------------------------------------------------------------------------------------------------------
def _attrs(nd):
    out = {}
    for k, v in nd.attr.items():
        which = v.WhichOneof("value")
        out[k] = getattr(v, which) if which else None
    return out


def _program():
    g = tf.Graph()
    with g.as_default():
        with tf.device("/job:ps/task:0"):
            w = tf.Variable([[1.0, 2.0]], name="w")
            s = tf.placeholder(tf.float32, [], name="s")
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        with tf.device("/job:worker/task:0"):
            y = tf.reduce_sum(x * w, name="y")
            y2 = tf.multiply(w, 3.0, name="y2")
            z = tf.identity(y, name="z")
        with tf.device("/job:worker/task:1"):
            u = tf.add(w, 1.0, name="u")
        with tf.device("/job:ps/task:0"):
            upd = tf.assign_add(w, [[0.5, 0.5]] * s, name="upd")
            with tf.control_dependencies([z]):
                after = tf.no_op(name="after")
    return g, w, s, x, y, y2, z, u, upd, after


def test_one_send_and_recv_per_tensor_and_destination_task_with_tf_attrs():
    g, w, s, x, y, y2, z, u, upd, after = _program()
    step = partition(g, [y, y2, u], [x], cluster=CLUSTER, master=WK0, incarnations={PS0: 11, WK0: -3})
    assert set(step.graph_defs) == {PS0, WK0, WK1}
    ps = step.graph_defs[PS0]
    sends = [nd for nd in ps.node if nd.op == "_Send"]
    # w/read goes to worker 0 (read by y and y2: one transfer) and to worker 1.
    assert sorted(_attrs(nd)["recv_device"] for nd in sends) == [cpu(WK0).encode(), cpu(WK1).encode()]
    for nd in sends:
        a = _attrs(nd)
        assert nd.input == ["w/read"] and a["T"] == tf.float32.as_datatype_enum
        assert a["send_device"] == cpu(PS0).encode() and a["send_device_incarnation"] == 11
        assert a["tensor_name"].startswith(b"edge_") and a["tensor_name"].endswith(b"_w/read")
        assert a["client_terminated"] is False
    recvs = {nd.name: nd for gd in step.graph_defs.values() for nd in gd.node if nd.op == "_Recv"}
    for send in sends:
        match = [r for r in recvs.values() if _attrs(r)["tensor_name"] == _attrs(send)["tensor_name"]]
        assert len(match) == 1
        ra = _attrs(match[0])
        assert ra["tensor_type"] == tf.float32.as_datatype_enum and match[0].device == ra["recv_device"].decode()
        assert ra["send_device_incarnation"] == 11
    wk0 = step.graph_defs[WK0]
    readers = [nd for nd in wk0.node if nd.name in ("mul", "y2")]
    w_inputs = {i for nd in readers for i in nd.input if i.startswith("w/read")}
    assert len(w_inputs) == 1 and w_inputs.pop() in recvs
    assert step.run_nodes[PS0] == [nd.name for nd in sends]


def test_feeds_and_fetches_are_client_terminated_with_tf_keys():
    g, w, s, x, y, y2, z, u, upd, after = _program()
    step = partition(g, [y, x, upd], [x, s, "z:0"], cluster=CLUSTER, master=WK0)
    client = cpu(WK0)
    feed_x, feed_s, feed_z = step.feed_keys
    assert feed_x == (WK0, rendezvous_key(client, 0, cpu(WK0), "x:0"))
    assert feed_s == (PS0, rendezvous_key(client, 0, cpu(PS0), "s:0"))
    assert feed_z is None  # nothing the step runs reads z
    assert step.fetch_keys[0] == (WK0, rendezvous_key(cpu(WK0), 0, client, "y:0"))
    assert step.fetch_keys[1] is None  # fetched and fed: the client hands back the fed value
    assert step.fetch_keys[2][0] == PS0  # a ref fetched by value
    recv_s = next(nd for nd in step.graph_defs[PS0].node if nd.name == "_recv_s_0")
    assert _attrs(recv_s)["client_terminated"] is True and _attrs(recv_s)["send_device"] == client.encode()
    send_upd = next(nd for nd in step.graph_defs[PS0].node if nd.name == "_send_upd_0")
    assert _attrs(send_upd)["T"] == tf.float32.as_datatype_enum and send_upd.input == ["upd"]
    assert step.client_device == client
    # placeholders replaced by their feeds are not in any partition
    names = {nd.name for gd in step.graph_defs.values() for nd in gd.node}
    assert not {"x", "s"} & names


def test_control_edge_across_tasks_goes_through_a_sent_const():
    g, w, s, x, y, y2, z, u, upd, after = _program()
    step = partition(g, [], [x], [after], cluster=CLUSTER, master=WK0)
    wk0, ps = step.graph_defs[WK0], step.graph_defs[PS0]
    const = next(nd for nd in wk0.node if nd.op == "Const" and nd.input == ["^z"])
    send = next(nd for nd in wk0.node if nd.op == "_Send" and nd.input == [const.name])
    recv = next(nd for nd in ps.node if nd.op == "_Recv"
                and _attrs(nd)["tensor_name"] == _attrs(send)["tensor_name"])
    identity = next(nd for nd in ps.node if nd.op == "Identity" and nd.input == [recv.name])
    node_after = next(nd for nd in ps.node if nd.name == "after")
    assert list(node_after.input) == ["^" + identity.name]
    assert "after" in step.run_nodes[PS0]


def test_partitions_follow_one_global_topological_order():
    g, w, s, x, y, y2, z, u, upd, after = _program()
    step = partition(g, [y, y2, u, upd], [x, s], [after], cluster=CLUSTER, master=WK1)
    # Nodes of all partitions, with data, control and send->recv edges and each partition's own order:
    # acyclic exactly when one global order lists every partition in its order.
    edges, nodes = [], []
    sends = {}
    for task, gd in step.graph_defs.items():
        names = [nd.name for nd in gd.node]
        nodes += [(task, n) for n in names]
        edges += [((task, a), (task, b)) for a, b in zip(names, names[1:])]
        for nd in gd.node:
            for i in nd.input:
                edges.append(((task, i.lstrip("^").split(":")[0]), (task, nd.name)))
            if nd.op == "_Send":
                sends[_attrs(nd)["tensor_name"]] = (task, nd.name)
    for task, gd in step.graph_defs.items():
        for nd in gd.node:
            if nd.op == "_Recv" and not _attrs(nd)["client_terminated"]:
                edges.append((sends[_attrs(nd)["tensor_name"]], (task, nd.name)))
    indeg = {n: 0 for n in nodes}
    out = {n: [] for n in nodes}
    for a, b in edges:
        indeg[b] += 1
        out[a].append(b)
    ready = [n for n in nodes if indeg[n] == 0]
    seen = 0
    while ready:
        n = ready.pop()
        seen += 1
        for m in out[n]:
            indeg[m] -= 1
            if indeg[m] == 0:
                ready.append(m)
    assert seen == len(nodes)
    # every node carries its full device
    for task, gd in step.graph_defs.items():
        assert all(nd.device == cpu(task) for nd in gd.node)


def test_functions_are_copied_into_the_partitions_that_call_them():
    g = tf.Graph()
    with g.as_default():
        with tf.device("/job:ps/task:0"):
            v = tf.Variable(2.0, name="v")
        with tf.device("/job:worker/task:0"):
            p = tf.placeholder(tf.bool, [])
            c = tf.cond(p, lambda: v * 2.0, lambda: tf.while_loop(lambda i: i < 10.0, lambda i: i + v, [v]))
    step = partition(g, [c], [p], cluster=CLUSTER, master=WK0)
    gd = g.as_graph_def()
    assert len(step.graph_defs[WK0].library.function) == len(gd.library.function) > 0
    assert len(step.graph_defs[PS0].library.function) == 0


def test_unknown_fetch_and_target_names_are_invalid_arguments():
    g, *_ = _program()
    with pytest.raises(errors.InvalidArgumentError, match="nope:0"):
        partition(g, ["nope:0"], cluster=CLUSTER, master=WK0)
    with pytest.raises(errors.InvalidArgumentError, match="'nope'"):
        partition(g, [], [], ["nope"], cluster=CLUSTER, master=WK0)


def test_precomputed_placement_is_reused():
    g, w, s, x, y, *_ = _program()
    devices = place(g, CLUSTER, WK0)
    devices = {**devices, "mul": cpu(WK1), "y": cpu(WK1)}
    step = partition(g, [y], [x], cluster=CLUSTER, master=WK0, devices=devices)
    assert step.fetch_keys[0][0] == WK1
    assert np.array_equal(sorted(step.devices), sorted(["w", "w/read", "mul", "Const", "y"]))


def test_small_constants_read_on_other_tasks_are_copied_not_sent():
    with tf.Graph().as_default() as g:
        with tf.device("/job:worker/task:0"):
            lr = tf.constant(0.5, name="lr")
            big = tf.constant(np.ones(100, np.float32), name="big")
        with tf.device("/job:ps/task:0"):
            v = tf.Variable(np.zeros(100, np.float32), name="v")
            upd = tf.assign_sub(v, lr * big, name="upd")
    step = partition(g, [], [], [upd.op], cluster=CLUSTER, master=WK0)
    ps = {nd.name: nd for nd in step.graph_defs[PS0].node}
    copies = [nd for nd in ps.values() if nd.name.startswith("lr/replicate/_")]
    assert len(copies) == 1 and copies[0].op == "Const" and copies[0].device == cpu(PS0)
    # The large constant is sent; the small one is neither sent nor kept on its own task, which reads neither.
    sent = [nd.attr["tensor_name"].s.decode() for nd in step.graph_defs[WK0].node if nd.op == "_Send"]
    assert [s.split("_", 2)[2] for s in sent] == ["big"]
    assert "lr" not in {nd.name for nd in step.graph_defs[WK0].node}


def test_colocation_groups_of_a_tensorflow_graph_def_are_honoured():
    with tf.Graph().as_default() as g:
        with tf.device("/job:ps/task:1"):
            tf.constant(1.0, name="anchor")
        tf.constant(2.0, name="follower")
        tf.constant(3.0, name="free")
    gd = g.as_graph_def()
    next(nd for nd in gd.node if nd.name == "follower").attr["_class"].list.s.append(b"loc:@anchor")
    next(nd for nd in gd.node if nd.name == "free").attr["_class"].list.s.append(b"loc:@missing")
    devices = place(gd, CLUSTER, WK0)
    assert devices == {"anchor": cpu(PS1), "follower": cpu(PS1), "free": cpu(WK0)}


def test_a_feed_arrives_where_it_is_read():
    with tf.Graph().as_default() as g:
        with tf.device("/job:ps/task:0"):
            p = tf.placeholder(tf.float32, [], name="p")
            on_ps = tf.identity(p, name="on_ps")
        with tf.device("/job:worker/task:1"):
            on_worker = tf.identity(p, name="on_worker")
    step = partition(g, [on_worker], [p], cluster=CLUSTER, master=WK0)
    assert list(step.graph_defs) == [WK1]  # read on worker 1 only: fed there, nothing goes through ps
    assert step.feed_keys[0][0] == WK1
    step = partition(g, [on_worker, on_ps], [p], cluster=CLUSTER, master=WK0)
    assert step.feed_keys[0][0] == PS0  # read on its own task too: fed there and sent on
    sends = [nd for nd in step.graph_defs[PS0].node if nd.op == "_Send" and not nd.attr["client_terminated"].b]
    assert [nd.input[0] for nd in sends] == ["_recv_p_0"]


def test_a_generator_without_device_goes_to_its_only_reader():
    with tf.Graph().as_default() as g:
        big = tf.constant(np.ones(100, np.float32), name="big")
        shared = tf.constant(np.ones(100, np.float32), name="shared")
        with tf.device("/job:ps/task:1"):
            tf.identity(big, name="on_ps")
            tf.identity(shared, name="reader_1")
        tf.identity(shared, name="reader_2")
    devices = place(g, CLUSTER, WK0)
    assert devices["big"] == cpu(PS1)
    assert devices["shared"] == cpu(WK0)  # two readers: the master task, as any op without a device


def test_a_copied_constant_stays_on_its_task_for_a_control_edge_there():
    with tf.Graph().as_default() as g:
        with tf.device("/job:worker/task:0"):
            lr = tf.constant(0.5, name="lr")
            with tf.control_dependencies([lr]):
                local = tf.constant(1.0, name="local") + 1.0
        with tf.device("/job:ps/task:0"):
            remote = tf.identity(lr, name="remote")
    step = partition(g, [local, remote], cluster=CLUSTER, master=WK0)
    wk0 = {nd.name: nd for nd in step.graph_defs[WK0].node}
    assert "lr" in wk0 and any(i == "^lr" for nd in wk0.values() for i in nd.input)
    assert [nd.name for nd in step.graph_defs[PS0].node if nd.op == "Const"] == ["lr/replicate/_0"]
