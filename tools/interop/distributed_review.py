"""Classic TF1 distributed programs run on TensorFlow and on tfmini, compared (run by `make interop`).

    /work/tfenv/bin/python tools/interop/distributed_review.py tf-write DIR      TensorFlow runs, records
    .venv/bin/python       tools/interop/distributed_review.py tfmini-check DIR  tfmini runs, compares
    .venv/bin/python       tools/interop/distributed_review.py tfmini-write DIR  tfmini runs, records
    /work/tfenv/bin/python tools/interop/distributed_review.py tf-check DIR      TensorFlow runs, compares

Each program is a function of `env` (the library as `env.tf`, a cluster of one ps and two workers served by
`tf.train.Server`s in this process, and their targets), written once for both libraries: ps/worker training
with `replica_device_setter`, between-graph replication, shared queues, containers and `Session.reset`,
timeouts, bad devices, soft placement, device functions, `colocate_with`, resource variables, `tf.data` on a
worker, `tf.cond` and `tf.while_loop` reading ps variables, fetch structures, `list_devices`,
`MonitoredTrainingSession` with a chief and a non-chief, `SyncReplicasOptimizer` over two workers, and what
`RunMetadata` reports (the devices of the partition graphs and of `step_stats.dev_stats`). A program returns
what it observed: fetched values, errors (class and message), device names. Every container of the cluster
is reset before each program.

The writer records the observations in `observations.json`; the checker runs the same programs with its own
library and compares: values (to 1e-5), error classes, device names and sets; error messages are printed side
by side in the table, not compared. A program with a known difference (`KNOWN`: on purpose, or reported to
the owner of the module at fault) is reported as such instead of failing. REVIEW_VERBOSE=1 in the environment
prints the table: each program's status, what differs, and both sides' error messages; REVIEW_SERVERS=processes
runs each task's server in a process of its own (a TF1 script calling `server.join()`) instead of in the
driver's process. TensorFlow is imported only by the tf-* commands, tfmini only by the tfmini-* commands.
"""

from __future__ import annotations

import collections
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from types import ModuleType

import numpy as np
from _driver import expect, import_tensorflow, run

# Seconds one program may take before it counts as hung.
PROGRAM_TIMEOUT = 90.0
RTOL, ATOL = 1e-5, 1e-6


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The program each task's process runs when REVIEW_SERVERS=processes: a TF1-style server script.
_TASK_SCRIPT = """
import json, os, sys
sys.path.insert(0, {driver_dir!r})
if {tensorflow!r}:
    from _driver import import_tensorflow
    tf = import_tensorflow()
else:
    import tfmini as tf
server = tf.train.Server(tf.train.ClusterSpec(json.loads(sys.argv[1])), job_name=sys.argv[2],
                         task_index=int(sys.argv[3]))
server.join()
"""
PROCESSES: list[subprocess.Popen] = []


class Env:
    """What a program gets: the library, the cluster and its servers' targets. The servers run in this
    process, or (REVIEW_SERVERS=processes in the environment) one process per task, as TF1 scripts do; then
    `servers` is empty and the programs that look at a Server object are skipped."""

    def __init__(self, tf: ModuleType) -> None:
        self.tf = tf
        self.spec = {"ps": [f"localhost:{_free_port()}"],
                     "worker": [f"localhost:{_free_port()}", f"localhost:{_free_port()}"]}
        self.cluster = tf.train.ClusterSpec(self.spec)
        tasks = [(job, i) for job in ("ps", "worker") for i in range(len(self.spec[job]))]
        if os.environ.get("REVIEW_SERVERS") == "processes":
            self.servers = {}
            self._start_processes(tf, tasks)
            targets = {task: f"grpc://{self.spec[task[0]][task[1]]}" for task in tasks}
        else:
            self.servers = {task: tf.train.Server(self.cluster, job_name=task[0], task_index=task[1])
                            for task in tasks}
            targets = {task: server.target for task, server in self.servers.items()}
        self.ps, self.w0, self.w1 = targets[("ps", 0)], targets[("worker", 0)], targets[("worker", 1)]
        self.scratch = tempfile.mkdtemp(prefix="distributed_review_")

    def _start_processes(self, tf: ModuleType, tasks: list) -> None:
        script = _TASK_SCRIPT.format(driver_dir=os.path.dirname(os.path.abspath(__file__)),
                                     tensorflow=not tf.__name__.startswith("tfmini"))
        environment = dict(os.environ, OPENBLAS_NUM_THREADS="1")
        for job, index in tasks:
            PROCESSES.append(subprocess.Popen([sys.executable, "-c", script, json.dumps(self.spec), job, str(index)],
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                              env=environment))
        deadline = time.monotonic() + 60
        for job, addresses in self.spec.items():
            for address in addresses:
                host, _, port = address.rpartition(":")
                while True:
                    try:
                        socket.create_connection((host, int(port)), timeout=1).close()
                        break
                    except OSError:
                        if time.monotonic() > deadline:
                            raise RuntimeError(f"the server of {job} at {address} did not start") from None
                        time.sleep(0.1)

    def session(self, target: str, graph, **config):
        """A session on `target`, with TensorFlow's graph rewriting off (it renames and folds nodes)."""
        proto = self.tf.ConfigProto(**config)
        proto.graph_options.rewrite_options.disable_meta_optimizer = True
        proto.graph_options.optimizer_options.opt_level = -1
        return self.tf.Session(target, graph=graph, config=proto)


# ----------------------------------------------------------------------------------------------------------
# Observations as JSON
# ----------------------------------------------------------------------------------------------------------
def value(v):
    """A fetched value as JSON: arrays keep their dtype and shape; structures keep their kind."""
    if isinstance(v, dict):
        return {"dict": {str(k): value(x) for k, x in sorted(v.items(), key=lambda kv: str(kv[0]))}}
    if isinstance(v, tuple) and hasattr(v, "_fields"):
        return {"namedtuple": type(v).__name__, "fields": {f: value(getattr(v, f)) for f in v._fields}}
    if isinstance(v, (list, tuple)):
        return {type(v).__name__: [value(x) for x in v]}
    if v is None or isinstance(v, (str, bool, int, float)):
        return v
    a = np.asarray(v)
    if a.dtype.kind in "SO":
        return {"strings": [x.decode() if isinstance(x, bytes) else str(x) for x in a.ravel().tolist()],
                "shape": list(a.shape)}
    if a.dtype.kind == "c":
        return {"real": a.real.tolist(), "imag": a.imag.tolist(), "dtype": str(a.dtype), "shape": list(a.shape)}
    return {"array": a.tolist(), "dtype": str(a.dtype), "shape": list(a.shape)}


def error(fn: Callable[[], object]):
    """The observation of calling `fn`: its value, or its error's class and first message line."""
    try:
        return {"value": value(fn())}
    except Exception as e:  # noqa: BLE001 - the error itself is the observation
        return {"error": type(e).__name__, "message": _message(e)}


def _message(e: Exception) -> str:
    """The lines of an error message that say what went wrong (not TF 2's 'Graph execution error:' banner or
    the stack of where the node was defined)."""
    lines = [line.strip() for line in str(getattr(e, "message", e)).splitlines()]
    kept = [line for line in lines if line and not line.startswith(("Graph execution error", "Detected at node",
                                                                      "File ", "Original stack trace"))]
    return " | ".join(kept)[:400]


TRANSFERS = ("_Send", "_Recv", "_HostSend", "_HostRecv")


def partition_devices(run_metadata) -> dict:
    """The devices of the partitions that run a node of the user's graph, and each such node's device.

    Transfers are left out, and with them TensorFlow's partition on the master task that only relays the feeds
    and fetches (tfmini sends them with the request of the partition that reads or makes them); so are
    tfmini's copies of small constants ('<name>/replicate/_<k>'), sent by TensorFlow instead."""
    devices, nodes = set(), {}
    for gd in run_metadata.partition_graphs:
        for nd in gd.node:
            if nd.op in TRANSFERS or nd.name.startswith("_") or "/replicate/_" in nd.name:
                continue
            devices.add(nd.device)
            nodes[nd.name] = nd.device
    return {"partition_devices": sorted(devices), "node_devices": nodes}


def _ran_user_nodes(device_stats) -> bool:
    return any(ns.node_name not in ("_SOURCE", "RecvTensor") and not ns.node_name.startswith("_")
               and not ns.timeline_label.split(" = ")[-1].startswith(TRANSFERS) for ns in device_stats.node_stats)


def traced(sess, fetches, feed_dict=None):
    """Runs one fully traced step with partition graphs; (result, what RunMetadata shows)."""
    options = _RUN_OPTIONS(trace_level=3, output_partition_graphs=True)
    meta = _RUN_METADATA()
    out = sess.run(fetches, feed_dict, options=options, run_metadata=meta)
    seen = partition_devices(meta)
    seen["dev_stats"] = sorted({d.device for d in meta.step_stats.dev_stats if _ran_user_nodes(d)})
    return out, seen


_RUN_OPTIONS: Callable = None
_RUN_METADATA: Callable = None


# ----------------------------------------------------------------------------------------------------------
# The programs
# ----------------------------------------------------------------------------------------------------------
W0, W1, PS = "/job:worker/task:0", "/job:worker/task:1", "/job:ps/task:0"
X = np.array([[1.0, 2.0], [3.0, 4.0], [-1.0, 0.5]], np.float32)
Y = np.array([[1.0], [0.0], [2.0]], np.float32)


def _linear(tf, worker: str, cluster, optimizer=None):
    with tf.device(tf.train.replica_device_setter(cluster=cluster, worker_device=worker)):
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        y = tf.placeholder(tf.float32, [None, 1], name="y")
        w = tf.get_variable("w", initializer=np.array([[0.5], [-0.5]], np.float32))
        b = tf.get_variable("b", initializer=np.zeros([1], np.float32))
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
        step = tf.train.get_or_create_global_step()
        train = (optimizer or tf.train.GradientDescentOptimizer(0.1)).minimize(loss, global_step=step)
    return x, y, w, b, loss, step, train


def p_ps_variable_fetch(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            v = tf.Variable([1.0, 2.0, 3.0], name="v")
        with tf.device(W0):
            y = tf.multiply(v, 2.0, name="y")
        with env.session(env.w0, g) as sess:
            sess.run(v.initializer)
            out, seen = traced(sess, [y, v])
    return {"fetch": value(out), "devices": seen, "v.device": v.device, "y.device": y.device}


def p_replica_device_setter_training(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        x, y, w, b, loss, step, train = _linear(tf, W0, env.cluster)
        with env.session(env.w0, g) as sess:
            sess.run(tf.global_variables_initializer())
            losses = [sess.run([loss, train], {x: X, y: Y})[0] for _ in range(4)]
            final = sess.run([w, b, step])
    return {"losses": value(losses), "final": value(final),
            "devices": {"w": w.device, "b": b.device, "loss": loss.device, "step": step.device,
                        "train": train.device}}


def p_between_graph_replication(env):
    tf = env.tf
    graphs = [tf.Graph(), tf.Graph()]
    built = []
    for i, g in enumerate(graphs):
        with g.as_default():
            built.append(_linear(tf, f"/job:worker/task:{i}", env.cluster))
    with graphs[0].as_default():
        init = tf.global_variables_initializer()
    with graphs[1].as_default():
        ready = tf.report_uninitialized_variables()
    s0, s1 = env.session(env.w0, graphs[0]), env.session(env.w1, graphs[1])
    try:
        before = s1.run(ready)
        s0.run(init)
        after = s1.run(ready)
        for i in (0, 1, 1, 0, 1):
            x, y, _, _, _, _, train = built[i]
            (s0, s1)[i].run(train, {x: X, y: Y})
        finals = [s.run([b[2], b[3], b[5]]) for s, b in zip((s0, s1), built)]
    finally:
        s0.close()
        s1.close()
    return {"uninitialized_before": value(before), "uninitialized_after": value(after), "finals": value(finals)}


def p_uninitialized_variable_on_ps(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            v = tf.Variable(3.0, name="never_initialized")
        with tf.device(W0):
            y = v + 1.0
        with env.session(env.w0, g) as sess:
            got = error(lambda: sess.run(y))
            usable = error(lambda: sess.run(tf.constant(5.0)))
    return {"read": got, "afterwards": usable}


def _device_error(env, device: str, **config):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(device):
            y = tf.add(tf.constant(1.0), 2.0, name="y")
        z = tf.constant(7.0, name="z")
        with env.session(env.w0, g, **config) as sess:
            first = error(lambda: traced(sess, y)[1])
            other = error(lambda: sess.run(z))
    return {"run": first, "other_op_same_graph": other}


def p_unknown_job(env):
    return _device_error(env, "/job:nope/task:0")


def p_task_index_out_of_range(env):
    return _device_error(env, "/job:ps/task:3")


def p_gpu_without_soft_placement(env):
    return _device_error(env, "/job:worker/task:1/device:GPU:0")


def p_gpu_with_soft_placement(env):
    return _device_error(env, "/job:worker/task:1/device:GPU:0", allow_soft_placement=True)


def p_unknown_job_with_soft_placement(env):
    return _device_error(env, "/job:nope/task:0", allow_soft_placement=True)


def p_second_cpu_with_soft_placement(env):
    return _device_error(env, "/job:ps/task:0/device:CPU:1", allow_soft_placement=True)


def p_device_function(env):
    tf = env.tf

    def chooser(op):
        return PS if op.type in ("VariableV2", "Assign", "Const") else W1

    g = tf.Graph()
    with g.as_default():
        with tf.device(chooser):
            v = tf.Variable([2.0, 3.0], name="v")
            y = tf.reduce_sum(v * v, name="y")
        with env.session(env.w0, g) as sess:
            sess.run(v.initializer)
            out, seen = traced(sess, y)
    return {"y": value(out), "devices": seen, "graph_devices": {"v": v.device, "y": y.device}}


def p_colocate_with(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            v = tf.Variable([1.0, 2.0], name="v")
        with tf.device(W1):
            with tf.colocate_with(v):
                c = tf.add(v, 1.0, name="c")
            d = tf.multiply(c, 3.0, name="d")
        with env.session(env.w0, g) as sess:
            sess.run(v.initializer)
            out, seen = traced(sess, d)
    return {"d": value(out), "devices": seen, "c.device": c.device}


def p_colocation_groups(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            v = tf.Variable([1.0, 2.0], name="v")
        with tf.device(W1), tf.colocate_with(v):
            c = tf.add(v, 1.0, name="c")
        node = g.as_graph_def().node
    classes = {nd.name: [x.decode() for x in nd.attr["_class"].list.s] for nd in node if "_class" in nd.attr}
    groups = error(lambda: sorted(x.decode() for x in c.op.colocation_groups()))
    return {"groups": groups, "graph_def_class_attrs": classes}


def p_shared_queue_between_graphs(env):
    tf = env.tf
    producer, consumer = tf.Graph(), tf.Graph()
    with producer.as_default(), tf.device(PS):
        q = tf.FIFOQueue(10, tf.float32, shapes=[[2]], shared_name="shared_q", name="q")
        enq = q.enqueue_many([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]])
        size = q.size()
    with consumer.as_default(), tf.device(PS):
        q2 = tf.FIFOQueue(10, tf.float32, shapes=[[2]], shared_name="shared_q", name="other_name")
        with tf.device(W1):
            deq = q2.dequeue() * 10.0
    with env.session(env.w0, producer) as s0, env.session(env.w1, consumer) as s1:
        s0.run(enq)
        got = [s1.run(deq) for _ in range(2)]
        left = s0.run(size)
    return {"dequeued": value(got), "left": value(left)}


def p_closed_queue(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            q = tf.FIFOQueue(5, tf.int32, shapes=[], name="q")
            enq = q.enqueue_many([[1, 2]])
            close = q.close()
        with tf.device(W0):
            deq = q.dequeue() + 100
        with env.session(env.w0, g) as sess:
            sess.run(enq)
            sess.run(close)
            got = [error(lambda: sess.run(deq)) for _ in range(3)]
            enq_after = error(lambda: sess.run(enq))
    return {"dequeues": got, "enqueue_after_close": enq_after}


def p_timeout_in_ms(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            q = tf.FIFOQueue(5, tf.float32, shapes=[], name="q")
        with tf.device(W0):
            deq = q.dequeue() * 2.0
        with env.session(env.w0, g) as sess:
            start = time.monotonic()
            got = error(lambda: sess.run(deq, options=tf.RunOptions(timeout_in_ms=300)))
            took = time.monotonic() - start
            sess.run(q.enqueue(4.0))
            after = error(lambda: sess.run(deq))
    return {"blocked": got, "bounded": took < 10, "afterwards": after}


def p_operation_timeout_in_ms(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(W1):
            q = tf.FIFOQueue(5, tf.float32, shapes=[], name="q")
            deq = q.dequeue()
        with env.session(env.w0, g, operation_timeout_in_ms=300) as sess:
            got = error(lambda: sess.run(deq))
            ok = error(lambda: sess.run(tf.constant(1.0) + 1.0))
    return {"blocked": got, "afterwards": ok}


def p_reset_one_container(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            with tf.container("c1"):
                a = tf.Variable(1.0, name="a")
            b = tf.Variable(2.0, name="b")
        check = [tf.is_variable_initialized(a), tf.is_variable_initialized(b)]
        with env.session(env.w0, g) as sess:
            sess.run(tf.global_variables_initializer())
            before = sess.run(check)
        tf.Session.reset(env.w0, ["c1"])
        with env.session(env.w1, g) as sess:
            after = sess.run(check)
            read_a = error(lambda: sess.run(a))
    return {"before": value(before), "after": value(after), "read_reset": read_a}


def p_reset_everything(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            tf.Variable(1.0, name="a")
        with tf.device(W1):
            tf.Variable(2.0, name="b")
        report = tf.report_uninitialized_variables()
        with env.session(env.w0, g) as sess:
            sess.run(tf.global_variables_initializer())
            before = sess.run(report)
            tf.Session.reset(env.ps)
            after_in_open_session = error(lambda: sess.run(report))
        with env.session(env.w0, g) as sess:
            after = sess.run(report)
    return {"before": value(before), "open_session": after_in_open_session, "new_session": value(after)}


def p_resource_variable(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            v = tf.get_variable("rv", initializer=np.array([1.0, 2.0, 3.0], np.float32), use_resource=True)
        with tf.device(W1):
            upd = v.assign_add(tf.constant([1.0, 1.0, 1.0]) * 2.0)
            gathered = tf.gather(v, [2, 0]) * 1.0
            # TF 2.x places a device-less Identity with its input; TF 1.15 did not: give it a device.
            read = v.read_value()
        with env.session(env.w0, g) as sess:
            sess.run(v.initializer)
            sess.run(upd)
            out, seen = traced(sess, [read, gathered])
    return {"values": value(out), "devices": seen}


def p_dataset_on_worker(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(W1):
            ds = tf.data.Dataset.range(5).map(lambda x: x * 2).batch(2)
            it = tf.data.make_one_shot_iterator(ds)
            nxt = it.get_next()
        with tf.device(W0):
            total = tf.reduce_sum(nxt) + 1
        with env.session(env.w0, g) as sess:
            got = [error(lambda: sess.run(total)) for _ in range(4)]
    return {"steps": got}


def p_initializable_iterator_across_sessions(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(W1):
            n = tf.placeholder(tf.int64, [], name="n")
            it = tf.data.Dataset.range(n).make_initializable_iterator()
            nxt = it.get_next()
        with env.session(env.w0, g) as s0:
            s0.run(it.initializer, {n: 3})
            first = s0.run(nxt)
            with env.session(env.w0, g) as s1:
                other = error(lambda: s1.run(nxt))
            second = s0.run(nxt)
    return {"first": value(first), "other_session": other, "second": value(second)}


def p_cond_across_devices(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            v = tf.Variable([1.0, -2.0], name="v")
            p = tf.placeholder(tf.bool, [], name="p")
        with tf.device(W0):
            out = tf.cond(p, lambda: v * 2.0, lambda: v - 1.0)
        with env.session(env.w0, g) as sess:
            sess.run(v.initializer)
            got = [sess.run(out, {p: True}), sess.run(out, {p: False})]
    return {"branches": value(got)}


def p_while_loop_reads_ps(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            v = tf.Variable(1.5, name="v")
        with tf.device(W1):
            _, acc = tf.while_loop(lambda i, a: i < 4, lambda i, a: (i + 1, a + v * tf.cast(i, tf.float32)),
                                   [tf.constant(0), tf.constant(0.0)])
        with env.session(env.w0, g) as sess:
            sess.run(v.initializer)
            got, seen = traced(sess, acc)
    return {"acc": value(got), "dev_stats": seen["dev_stats"]}


def p_partial_run(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(W0):
            a = tf.placeholder(tf.float32, [], name="a")
            b = tf.placeholder(tf.float32, [], name="b")
            r1 = a + 1.0
            r2 = r1 * b
        with env.session(env.w0, g) as sess:
            def steps():
                h = sess.partial_run_setup([r1, r2], [a, b])
                return [sess.partial_run(h, r1, {a: 1.0}), sess.partial_run(h, r2, {b: 3.0})]
            return {"partial_run": error(steps)}


def p_fetch_structures(env):
    tf = env.tf
    pair = collections.namedtuple("pair", ["first", "second"])
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            a = tf.constant([1, 2], name="a")
        with tf.device(W1):
            b = tf.add(a, 3, name="b")
        x = tf.placeholder(tf.int32, [2], name="x")
        with env.session(env.w0, g) as sess:
            out = sess.run({"k": [a, (b, a)], "nt": pair(b, {"z": b}), "fed": x, "op": b.op}, {x: [7, 8]})
    return {"out": value(out)}


def p_fetch_fed_tensor_on_ps(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            a = tf.Variable([1.0, 2.0], name="a")
            r = a * 3.0
        with tf.device(W1):
            s = r + 1.0
        with env.session(env.w0, g) as sess:
            got = sess.run([r, s], {r: [10.0, 20.0]})
            uninit = error(lambda: sess.run(s))
    return {"fed": value(got), "not_fed": uninit}


def p_list_devices(env):
    tf = env.tf
    with env.session(env.w1, tf.Graph()) as sess:
        devices = sess.list_devices()
    return {"names": sorted(d.name for d in devices), "types": sorted({d.device_type for d in devices})}


def p_device_attributes(env):
    tf = env.tf
    with env.session(env.w1, tf.Graph()) as sess:
        devices = sess.list_devices()
    return {"memory_limits": sorted({d.memory_limit_bytes for d in devices}),
            "incarnations_set": all(d.incarnation != 0 for d in devices)}


def p_trace_devices(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            v = tf.Variable(tf.ones([3]), name="v")
        with tf.device(W1):
            h = tf.square(v, name="h")
        with tf.device(W0):
            out = tf.reduce_sum(h, name="out")
        with env.session(env.w0, g) as sess:
            sess.run(v.initializer)
            got, seen = traced(sess, out)
    return {"out": value(got), "seen": seen}


def p_master_placement(env):
    """Ops without a device go to the task the session connected to; '/job:worker' alone to its task 0."""
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        a = tf.placeholder(tf.float32, [2], name="a")
        b = tf.square(a, name="b")
        with tf.device("/job:worker"):
            c = tf.negative(b, name="c")
        with tf.device("/cpu:0"):
            d = tf.add(c, 1.0, name="d")
        with tf.device("/job:ps/replica:0"):
            e = tf.multiply(d, 2.0, name="e")
        results = {}
        for name, target in (("ps", env.ps), ("w1", env.w1)):
            with env.session(target, g) as sess:
                got, seen = traced(sess, e, {a: [1.0, 2.0]})
            results[name] = {"e": value(got), "nodes": seen["node_devices"]}
    return results


def p_string_tensor_across_tasks(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            s = tf.constant(["ab", "cde"], name="s")
        with tf.device(W1):
            j = tf.strings.join([s, tf.constant("!")], separator="-")
            n = tf.strings.length(j)
        with env.session(env.w0, g) as sess:
            got = sess.run([j, n])
    return {"got": value(got)}


def p_control_dependency_across_tasks(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            counter = tf.Variable(0, name="counter")
            bump = tf.assign_add(counter, 1)
        with tf.device(W1):
            with tf.control_dependencies([bump]):
                marker = tf.constant(5, name="marker") * 2
        with env.session(env.w0, g) as sess:
            sess.run(counter.initializer)
            got = [sess.run(marker) for _ in range(3)]
            final = sess.run(counter)
    return {"marker": value(got), "counter": value(final)}


def p_assert_fails_on_ps(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [], name="x")
        with tf.device(PS):
            check = tf.Assert(x > 0, [x], name="positive")
        with tf.device(W1):
            with tf.control_dependencies([check]):
                y = tf.identity(x * 2.0)
        with env.session(env.w0, g) as sess:
            bad = error(lambda: sess.run(y, {x: -1.0}))
            good = error(lambda: sess.run(y, {x: 2.0}))
    return {"bad": bad, "good": good}


def p_same_variable_two_graphs(env):
    tf = env.tf
    results = {}
    g1, g2 = tf.Graph(), tf.Graph()
    with g1.as_default(), tf.device(PS):
        v1 = tf.Variable([1.0, 1.0], name="shared")
        upd = v1.assign([4.0, 5.0])
    with g2.as_default(), tf.device(PS):
        v2 = tf.Variable([9.0, 9.0], name="shared")
        report = tf.report_uninitialized_variables()
    with env.session(env.w0, g1) as s1, env.session(env.w1, g2) as s2:
        results["g2_before"] = value(s2.run(report))
        s1.run(v1.initializer)
        results["g2_reads_g1_init"] = value(s2.run(v2))
        s1.run(upd)
        results["g2_reads_assign"] = value(s2.run(v2))
        s2.run(v2.initializer)
        results["g1_reads_g2_init"] = value(s1.run(v1))
    return results


def p_int_and_bool_on_ps(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            i = tf.Variable([3, 4], dtype=tf.int32, name="i")
            f = tf.Variable(True, name="flag")
        with tf.device(W0):
            out = [i * 2, tf.logical_not(f), tf.cast(i, tf.int64) + 1]
        with env.session(env.w1, g) as sess:
            sess.run([i.initializer, f.initializer])
            got = sess.run(out)
    return {"got": value(got)}


def p_monitored_chief_and_non_chief(env):
    tf = env.tf
    results = {}
    graphs = [tf.Graph(), tf.Graph()]
    for i, g in enumerate(graphs):
        with g.as_default():
            x, y, w, b, loss, step, train = _linear(tf, f"/job:worker/task:{i}", env.cluster)
            hooks = [tf.train.StopAtStepHook(last_step=3 * (i + 1))]
            with tf.train.MonitoredTrainingSession(master=(env.w0, env.w1)[i], is_chief=(i == 0), hooks=hooks,
                                                   save_checkpoint_secs=None, save_summaries_steps=None,
                                                   log_step_count_steps=None) as sess:
                steps = 0
                while not sess.should_stop():
                    sess.run(train, {x: X, y: Y})
                    steps += 1
            with tf.Session((env.w0, env.w1)[i]) as sess:
                results[f"task{i}"] = {"ran": steps, "final": value(sess.run([w, b, step]))}
    return results


def p_sync_replicas_two_workers(env):
    tf = env.tf
    graphs, built = [tf.Graph(), tf.Graph()], []
    for i, g in enumerate(graphs):
        with g.as_default():
            with tf.device(tf.train.replica_device_setter(cluster=env.cluster,
                                                          worker_device=f"/job:worker/task:{i}")):
                w = tf.get_variable("w", initializer=np.array([1.0, -1.0], np.float32))
                data = tf.constant(X[:, :] if i == 0 else X[::-1, :])
                loss = tf.reduce_sum(tf.square(tf.reduce_sum(data * w, axis=1) - 1.0))
                step = tf.train.get_or_create_global_step()
                opt = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(0.01),
                                                     replicas_to_aggregate=2, total_num_replicas=2)
                train = opt.minimize(loss, global_step=step)
                hook = opt.make_session_run_hook(is_chief=(i == 0), num_tokens=0)
            built.append((w, step, train, hook))
    finals = [None, None]
    errors = []

    def worker(i):
        try:
            w, step, train, hook = built[i]
            with graphs[i].as_default():
                stop = tf.train.StopAtStepHook(last_step=3)
                with tf.train.MonitoredTrainingSession(
                        master=(env.w0, env.w1)[i], is_chief=(i == 0), hooks=[hook, stop],
                        save_checkpoint_secs=None, save_summaries_steps=None, log_step_count_steps=None,
                        stop_grace_period_secs=2) as sess:
                    while not sess.should_stop():
                        sess.run(train)
        except Exception as e:  # noqa: BLE001 - recorded as the program's observation
            errors.append(f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    with graphs[0].as_default(), tf.Session(env.w0) as sess:
        finals = sess.run([built[0][0], built[0][1]])
    return {"final": value(finals), "errors": sorted({e.split(":")[0] for e in errors})}


def p_while_loop_updates_ps_variable(env):
    """A loop on a worker whose body updates a ps variable: the loop frame spans two tasks."""
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            v = tf.Variable(0.0, name="v")
        with tf.device(W1):
            def body(i):
                with tf.control_dependencies([tf.assign_add(v, tf.cast(i, tf.float32))]):
                    return i + 1
            done = tf.while_loop(lambda i: i < 4, body, [tf.constant(0)])
        with env.session(env.w0, g) as sess:
            sess.run(v.initializer)
            got = error(lambda: sess.run(done))
            final = sess.run(v)
    return {"loop": got, "v": value(final)}


def p_cond_branch_on_other_task(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            v = tf.Variable(10.0, name="v")
        p = tf.placeholder(tf.bool, [], name="p")
        with tf.device(W1):
            out = tf.cond(p, lambda: tf.assign_add(v, 1.0), lambda: tf.identity(v) * 0.5)
        with env.session(env.w0, g) as sess:
            sess.run(v.initializer)
            got = [error(lambda: sess.run(out, {p: True})), error(lambda: sess.run(out, {p: False}))]
            final = sess.run(v)
    return {"branches": got, "v": value(final)}


def p_reset_drops_shared_queue(env):
    """Session.reset drops a shared queue and what it held (TensorFlow 2.21 crashes when a step is blocked on
    the queue being reset, so no step waits on it here)."""
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            q = tf.FIFOQueue(3, tf.float32, shapes=[], shared_name="reset_q", name="q")
            enq = q.enqueue_many([[1.0, 2.0]])
        with tf.device(W0):
            deq = q.dequeue() + 1.0
        with env.session(env.w0, g) as sess:
            sess.run(enq)
            before = sess.run(q.size())
            tf.Session.reset(env.w1)
            after = error(lambda: sess.run(q.size()))
            sess.run(enq)
            again = error(lambda: sess.run(deq))
    return {"before": value(before), "after": after, "again": again}


def p_shared_queue_mismatch(env):
    tf = env.tf
    g1, g2 = tf.Graph(), tf.Graph()
    with g1.as_default(), tf.device(PS):
        q1 = tf.FIFOQueue(3, tf.float32, shapes=[], shared_name="mismatch_q")
    with g2.as_default(), tf.device(PS):
        q2 = tf.FIFOQueue(5, tf.float32, shapes=[], shared_name="mismatch_q")
        q3 = tf.FIFOQueue(3, tf.int32, shapes=[], shared_name="mismatch_q", name="q3")
    with env.session(env.w0, g1) as s1, env.session(env.w1, g2) as s2:
        s1.run(q1.size())
        capacity = error(lambda: s2.run(q2.size()))
        dtype = error(lambda: s2.run(q3.size()))
    return {"capacity": capacity, "dtype": dtype}


def p_feed_placeholder_on_ps(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            x = tf.placeholder(tf.float32, [None], name="x")
            s = tf.placeholder(tf.string, [], name="s")
        with tf.device(W1):
            y = tf.reduce_sum(x * x)
            t = tf.strings.join([s, s])
        with tf.device(W0):
            z = x + 1.0
        with env.session(env.w0, g) as sess:
            got = sess.run([y, z, t, y], {x: [1.0, 2.0, 3.0], s: "ab"})
            missing = error(lambda: sess.run(y))
    return {"got": value(got), "missing_feed": missing}


def p_uninitialized_resource_variable(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            v = tf.get_variable("rv", [2], use_resource=True, initializer=tf.zeros_initializer())
        with tf.device(W1):
            y = v.read_value() + 1.0
        check = tf.is_variable_initialized(v)
        with env.session(env.w0, g) as sess:
            before = sess.run(check)
            read = error(lambda: sess.run(y))
            sess.run(v.initializer)
            after = error(lambda: sess.run(y))
    return {"initialized_before": value(before), "read": read, "after": after}


def p_optimizer_slot_devices(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        opt = tf.train.AdamOptimizer(0.1)
        x, y, w, b, loss, step, train = _linear(tf, W1, env.cluster, opt)
        slots = {name: opt.get_slot(w, name).device for name in opt.get_slot_names()}
        with env.session(env.w0, g) as sess:
            sess.run(tf.global_variables_initializer())
            losses = [sess.run([loss, train], {x: X, y: Y})[0] for _ in range(3)]
            final = sess.run([w, b, opt.get_slot(w, "m"), opt.get_slot(b, "v")])
    return {"slots": slots, "losses": value(losses), "final": value(final),
            "globals": sorted(f"{v.op.name}@{v.device}" for v in g.get_collection("variables"))}


def p_device_setter_strings(env):
    """replica_device_setter's placements (graph-side only): round robin over ps tasks, ps_ops, merging."""
    tf = env.tf
    g = tf.Graph()
    out = {}
    with g.as_default():
        setter = tf.train.replica_device_setter(ps_tasks=3, worker_device="/job:worker/task:1",
                                                ps_ops=["VariableV2", "Placeholder"])
        with tf.device(setter):
            vs = [tf.Variable(float(i), name=f"v{i}") for i in range(4)]
            p = tf.placeholder(tf.float32, name="p")
            with tf.device("/job:special/task:7"):
                c = tf.constant(1.0, name="c")
                d = tf.Variable(1.0, name="d")
            with tf.device("/device:GPU:1"):
                e = tf.add(vs[0], 1.0, name="e")
            f = tf.add(vs[1], c, name="f")
        for t in (*vs, p, c, d, e, f):
            out[t.op.name] = t.device
        setter2 = tf.train.replica_device_setter(cluster=env.cluster, ps_device="/job:ps/cpu:0",
                                                 merge_devices=False)
        with tf.device("/job:worker/task:1"), tf.device(setter2):
            g1 = tf.Variable(1.0, name="g1")
            g2 = tf.add(g1, 1.0, name="g2")
        out["g1"], out["g2"] = g1.device, g2.device
    return out


def p_one_tensor_to_two_tasks(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            v = tf.Variable([1.0, 2.0], name="v")
            r = tf.identity(v) * 2.0
        with tf.device(W0):
            a = r + 1.0
        with tf.device(W1):
            b = r - 1.0
            c = a * b
        with env.session(env.w0, g) as sess:
            sess.run(v.initializer)
            got, seen = traced(sess, [a, b, c, c])
    return {"got": value(got), "seen": seen}


def p_concurrent_steps_one_session(env):
    """Two threads of one session: one blocks on an empty ps queue, the other fills it."""
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            q = tf.FIFOQueue(3, tf.float32, shapes=[], name="q")
        with tf.device(W1):
            deq = q.dequeue() * 3.0
        x = tf.placeholder(tf.float32, [])
        enq = q.enqueue(x)
        box = {}
        with env.session(env.w0, g) as sess:
            t = threading.Thread(target=lambda: box.update(r=error(lambda: sess.run(deq))), daemon=True)
            t.start()
            time.sleep(0.3)
            sess.run(enq, {x: 5.0})
            t.join(10)
    return {"dequeued": box.get("r")}


def p_session_graph_version_change(env):
    """Ops added to the graph after a distributed run: the next run sees them."""
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            v = tf.Variable(2.0, name="v")
        with env.session(env.w0, g) as sess:
            sess.run(v.initializer)
            first = sess.run(v)
            with tf.device(W1):
                w = v * 5.0
            second = sess.run(w)
            with tf.device(PS):
                upd = v.assign(7.0)
            third = [sess.run(upd), sess.run(w)]
    return {"got": value([first, second, third])}


def p_generator_placement(env):
    """TF's placer puts a constant (no inputs, one output) whose consumers share one device on that device,
    when its own device string allows it."""
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [20], name="x")
        big = np.arange(20, dtype=np.float32)
        with tf.device("/job:worker"):
            c1 = tf.constant(big, name="c1")
        c2 = tf.constant(big, name="c2")
        with tf.device("/job:ps"):
            c3 = tf.constant(big, name="c3")
        c4 = tf.constant(big, name="c4")
        with tf.device(W1):
            a = tf.add(x, c1, name="a")
            b = tf.add(a, c2, name="b")
            d = tf.add(b, c3, name="d")
            e = tf.add(d, c4, name="e")
        with tf.device(PS):
            f = tf.multiply(c4, 2.0, name="f")
        with env.session(env.w0, g) as sess:
            got, seen = traced(sess, [e, f], {x: big})
    return {"got": value(got), "nodes": seen["node_devices"]}


def p_metadata_op_placement(env):
    """TF's placer puts a device-less Shape, Size or Rank with its input."""
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            v = tf.Variable(np.ones((3, 4), np.float32), name="v")
            r = tf.identity(v, name="r")
        s = tf.shape(r, name="s")
        n = tf.size(r, name="n")
        k = tf.rank(r, name="k")
        with tf.device(W1):
            t = tf.reduce_sum(tf.cast(s, tf.float32), name="t")
        with env.session(env.w0, g) as sess:
            sess.run(v.initializer)
            got, seen = traced(sess, [t, n, k])
    return {"got": value(got), "nodes": seen["node_devices"]}


def p_bad_device_error_names_the_consumer(env):
    """Which op a placement error names when a constant and its consumer both ask for a missing device."""
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device("/job:worker/task:9"):
            c = tf.constant(3.0, name="c")
            y = tf.multiply(c, 2.0, name="y")
        with env.session(env.w0, g) as sess:
            got = error(lambda: sess.run(y))
    return {"names_y": "operation y:" in got.get("message", ""), "run": got}


def p_device_filters(env):
    """ConfigProto.device_filters: the session sees only the tasks the filters name."""
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            a = tf.constant(1.0, name="a")
        with tf.device(W0):
            b = tf.add(a, 1.0, name="b")
        with tf.device(W1):
            c = tf.add(b, 1.0, name="c")
        with env.session(env.w0, g, device_filters=["/job:ps", "/job:worker/task:0"]) as sess:
            devices = sorted(d.name for d in sess.list_devices())
            ok = error(lambda: sess.run(b))
            bad = error(lambda: sess.run(c))
    return {"devices": devices, "b": ok, "c": bad}


def p_one_shot_iterator_two_sessions(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(W1):
            nxt = tf.data.make_one_shot_iterator(tf.data.Dataset.range(10)).get_next()
        with env.session(env.w0, g) as s0, env.session(env.w1, g) as s1:
            got = [s0.run(nxt), s1.run(nxt), s0.run(nxt), s1.run(nxt)]
    return {"got": value(got)}


def p_random_ops_two_sessions(env):
    """Seeded random ops on the ps: whether two sessions (and two runs) draw the same numbers."""
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            r = tf.random_uniform([4], seed=3, name="r")
        with tf.device(W1):
            u = tf.random_normal([2], seed=5, name="u")
        with env.session(env.w0, g) as s0, env.session(env.w1, g) as s1:
            a1, a2, b1 = s0.run([r, u]), s0.run([r, u]), s1.run([r, u])
    return {"same_run_to_run": bool(np.array_equal(a1[0], a2[0])),
            "same_across_sessions": bool(np.array_equal(a1[0], b1[0]) and np.array_equal(a1[1], b1[1]))}


def p_sharded_saver(env):
    tf = env.tf
    directory = os.path.join(env.scratch, "sharded")
    os.makedirs(directory, exist_ok=True)
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            a = tf.Variable([1.0, 2.0], name="a")
        with tf.device(W1):
            b = tf.Variable([[3.0]], name="b")
        saver = tf.train.Saver(sharded=True)
        with env.session(env.w0, g) as sess:
            sess.run(tf.global_variables_initializer())
            path = saver.save(sess, os.path.join(directory, "model"))
            sess.run([a.assign([0.0, 0.0]), b.assign([[0.0]])])
            saver.restore(sess, path)
            restored = sess.run([a, b])
    files = sorted(os.listdir(directory))
    return {"restored": value(restored), "files": [f for f in files if f.startswith("model")],
            "listed": sorted(n for n, _ in tf.train.list_variables(path))}


def p_caching_device(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(W1):
            v = tf.get_variable("cv", initializer=np.array([1.0, 2.0], np.float32),
                                caching_device="/job:worker/task:1")
            w = tf.get_variable("pv", initializer=np.array([3.0], np.float32))
        with tf.device(PS):
            y = tf.reduce_sum(v) + w
        with env.session(env.w0, g) as sess:
            sess.run(tf.global_variables_initializer())
            got, seen = traced(sess, y)
    return {"y": value(got), "nodes": seen["node_devices"], "v.device": v.device, "value.device": v.value().device}


def p_colocate_with_ignore_existing(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            v = tf.Variable(1.0, name="v")
        with tf.device(W0):
            u = tf.Variable(2.0, name="u")
        with tf.colocate_with(v):
            with tf.colocate_with(u, ignore_existing=True):
                a = tf.add(u, 1.0, name="a")
            with tf.device(W1):
                b = tf.add(v, 1.0, name="b")
        with env.session(env.w1, g) as sess:
            sess.run([v.initializer, u.initializer])
            got, seen = traced(sess, [a, b])
    return {"got": value(got), "nodes": seen["node_devices"], "a": a.device, "b": b.device}


def p_server_attributes(env):
    tf = env.tf
    if not env.servers:
        return {"skipped": "the servers run in processes of their own"}
    server = env.servers[("worker", 1)]
    sd = server.server_def
    return {"target_scheme": server.target.split("://")[0], "job": sd.job_name, "task": sd.task_index,
            "protocol": sd.protocol, "jobs": sorted(j.name for j in sd.cluster.job),
            "spec": {k: len(v) for k, v in tf.train.ClusterSpec(sd.cluster).as_dict().items()}}


def p_dtypes_across_tasks(env):
    tf = env.tf
    g = tf.Graph()
    values = {"float16": [1.5, -2.0], "float64": [1e-300, 3.5], "int8": [-128, 127], "uint8": [0, 255],
              "int16": [-3, 4], "uint16": [65535, 1], "int64": [2 ** 40, -1], "bool": [True, False],
              "complex64": [1 + 2j, -3j], "complex128": [0.5 - 1j, 2.0]}
    with g.as_default():
        made = {}
        with tf.device(PS):
            for name, v in values.items():
                made[name] = tf.constant(v, dtype=getattr(tf, name), name=f"c_{name}")
            empty = tf.zeros([0, 3], name="empty")
            scalar = tf.constant(7, name="scalar")
        with tf.device(W1):
            got = {name: tf.identity(t) for name, t in made.items()}
            got["empty"] = tf.identity(empty)
            got["scalar"] = tf.identity(scalar)
        with env.session(env.w0, g) as sess:
            out = sess.run(got)
    return {"out": value(out)}


def p_large_and_strided_tensors(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [512, 1024], name="x")
        with tf.device(PS):
            t = tf.transpose(x * 1.0)
            s = tf.strided_slice(x, [0, 0], [512, 1024], [3, 7])
        with tf.device(W1):
            total = tf.reduce_sum(t[:, :5], axis=0)
            sliced = tf.reduce_sum(s, axis=1)
        data = np.arange(512 * 1024, dtype=np.float32).reshape(512, 1024) / 1024.0
        with env.session(env.w0, g) as sess:
            got = sess.run([total, sliced, t[-1, -3:]], {x: data})
    return {"got": value(got)}


def p_py_func_on_worker(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            a = tf.constant([1.0, 2.0, 3.0], name="a")
        with tf.device(W1):
            b = tf.py_func(lambda v: (v * 10.0).astype(np.float32), [a], tf.float32, name="pyf")
        with tf.device(W0):
            c = b + 1.0
        with env.session(env.w0, g) as sess:
            got = error(lambda: sess.run(c))
    return {"got": got}


def p_sparse_tensor_across_tasks(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        sp = tf.sparse_placeholder(tf.float32, name="sp")
        with tf.device(PS):
            doubled = tf.SparseTensor(sp.indices, sp.values * 2.0, sp.dense_shape)
        with tf.device(W1):
            dense = tf.sparse_tensor_to_dense(doubled)
        with env.session(env.w0, g) as sess:
            fed = tf.SparseTensorValue([[0, 1], [2, 0]], [3.0, 4.0], [3, 2])
            d, s = sess.run([dense, doubled], {sp: fed})
    return {"dense": value(d), "sparse": value([s.indices, s.values, s.dense_shape])}


def p_colocate_gradients_with_ops(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            w = tf.Variable([[1.0, 2.0], [3.0, 4.0]], name="w")
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        with tf.device(W1):
            h = tf.tanh(tf.matmul(x, w), name="h")
        with tf.device(W0):
            loss = tf.reduce_sum(tf.square(h), name="loss")
        grads = tf.gradients(loss, [w], colocate_gradients_with_ops=True)
        plain = tf.gradients(loss, [w], name="plain")
        devices = {op.name: op.device for op in g.get_operations()
                   if op.name.startswith(("gradients/", "plain/")) and op.type in ("MatMul", "TanhGrad", "Mul")}
        with env.session(env.w0, g) as sess:
            sess.run(w.initializer)
            got = sess.run([grads[0], plain[0]], {x: X[:, :2]})
    return {"grads": value(got), "devices": devices}


def p_recurrent_loop_on_worker(env):
    """A recurrent loop over a TensorArray on a worker reads its weights from the ps in every iteration, and
    trains them."""
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(tf.train.replica_device_setter(cluster=env.cluster, worker_device=W1)):
            inputs = tf.placeholder(tf.float32, [4, 2, 3], name="inputs")
            w_in = tf.get_variable("w_in", initializer=np.full((3, 5), 0.1, np.float32))
            w_rec = tf.get_variable("w_rec", initializer=np.full((5, 5), -0.05, np.float32))
            steps = tf.TensorArray(tf.float32, size=4).unstack(inputs)
            outs = tf.TensorArray(tf.float32, size=4)

            def body(t, h, outs):
                h = tf.tanh(tf.matmul(steps.read(t), w_in) + tf.matmul(h, w_rec))
                return t + 1, h, outs.write(t, h)

            _, state, outs = tf.while_loop(lambda t, h, o: t < 4, body, [tf.constant(0), tf.zeros([2, 5]), outs])
            loss = tf.reduce_mean(tf.square(outs.stack() - 0.5))
            train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
        data = np.linspace(-1, 1, 24, dtype=np.float32).reshape(4, 2, 3)
        with env.session(env.w0, g) as sess:
            sess.run(tf.global_variables_initializer())
            losses = [sess.run([loss, train], {inputs: data})[0] for _ in range(3)]
            final = sess.run([state, w_rec], {inputs: data})
    return {"losses": value(losses), "final": value(final)}


def p_monitored_checkpoints_resume(env):
    """A chief's MonitoredTrainingSession saves checkpoints of the ps variables; after a reset of the cluster a
    new one restores them and the global step goes on."""
    tf = env.tf
    directory = os.path.join(env.scratch, "monitored")
    out = {}
    for round_ in (0, 1):
        g = tf.Graph()
        with g.as_default():
            x, y, w, b, loss, step, train = _linear(tf, W0, env.cluster)
            hooks = [tf.train.StopAtStepHook(last_step=3 * (round_ + 1))]
            with tf.train.MonitoredTrainingSession(master=env.w0, is_chief=True, checkpoint_dir=directory,
                                                   hooks=hooks, save_checkpoint_steps=2,
                                                   save_summaries_steps=None, log_step_count_steps=None) as sess:
                first = sess.run(step)
                while not sess.should_stop():
                    sess.run(train, {x: X, y: Y})
            with tf.Session(env.w0) as sess:
                out[f"round{round_}"] = {"first_step": value(first), "final": value(sess.run([w, b, step]))}
        tf.Session.reset(env.w0)
    out["checkpoints"] = sorted(os.path.basename(p) for p in
                                tf.train.get_checkpoint_state(directory).all_model_checkpoint_paths)
    return out


def p_reset_default_container_by_job_name(env):
    """A task's default container is named after its job: resetting "ps" clears what the ps keeps there."""
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            a = tf.Variable(1.0, name="a")
            r = tf.get_variable("r", initializer=2.0, use_resource=True)
        with tf.device(W1):
            b = tf.Variable(3.0, name="b")
            s = tf.get_variable("s", initializer=4.0, use_resource=True)
        check = [tf.is_variable_initialized(v) for v in (a, r, b, s)]
        with env.session(env.w0, g) as sess:
            sess.run(tf.global_variables_initializer())
        out = {}
        for containers in (["ps"], ["localhost"], ["worker"]):
            tf.Session.reset(env.w0, containers)
            with env.session(env.w0, g) as sess:
                out["+".join(containers)] = value(sess.run(check))
                sess.run(tf.global_variables_initializer())
    return out


def p_unshared_queue_per_session(env):
    """A queue without a shared_name is one per session: a second session on the same graph has its own."""
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            q = tf.FIFOQueue(5, tf.float32, shapes=[], name="q")
            enq = q.enqueue_many([[1.0, 2.0, 3.0]])
            size = q.size()
        with tf.device(W1):
            deq = q.dequeue() * 2.0
        with env.session(env.w0, g) as s0, env.session(env.w1, g) as s1:
            s0.run(enq)
            sizes = [s0.run(size), s1.run(size)]
            first = s0.run(deq)
            other = error(lambda: s1.run(deq, options=tf.RunOptions(timeout_in_ms=200)))
            left = s0.run(size)
    return {"sizes": value(sizes), "first": value(first), "other_session": other, "left": value(left)}


def p_loop_reading_resource_variable(env):
    """A loop on a worker whose body reads a resource variable of the ps: where the loop's ops run."""
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            v = tf.get_variable("rv", initializer=np.array([0.5, 1.0], np.float32), use_resource=True)
        with tf.device(W1):
            _, acc = tf.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a * 2.0 + v.read_value()),
                                   [tf.constant(0), tf.zeros([2])], name="loop")
            out = tf.identity(acc, name="out")
        with env.session(env.w0, g) as sess:
            sess.run(v.initializer)
            got, seen = traced(sess, out)
    loop_devices = sorted({d for n, d in seen["node_devices"].items() if n.startswith("loop")})
    return {"out": value(got), "loop_devices": loop_devices}


def p_feed_variable_and_intermediates(env):
    """Feeding a ps variable (its ref tensor) and an intermediate another task computes."""
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            v = tf.Variable([1.0, 2.0], name="v")
            m = tf.multiply(v, 3.0, name="m")
        with tf.device(W1):
            n = tf.add(m, 1.0, name="n")
        with tf.device(W0):
            o = tf.multiply(n, v, name="o")
        with env.session(env.w0, g) as sess:
            sess.run(v.initializer)
            fed_v = error(lambda: sess.run([m, n, o], {v: [10.0, 20.0]}))
            fed_m = error(lambda: sess.run([n, o, m], {m: [0.5, 0.5]}))
            fed_n = error(lambda: sess.run([o, v], {n: [2.0, 2.0]}))
            after = sess.run(v)
    return {"fed_v": fed_v, "fed_m": fed_m, "fed_n": fed_n, "v_after": value(after)}


def p_reset_empty_and_unknown_containers(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            a = tf.Variable(1.0, name="a")
        with tf.container("box"), tf.device(W1):
            b = tf.Variable(2.0, name="b")
        check = [tf.is_variable_initialized(a), tf.is_variable_initialized(b)]
        with env.session(env.w0, g) as sess:
            sess.run(tf.global_variables_initializer())
        out = {}
        for containers in ([""], ["no_such_container"], ["box", "ps"]):
            tf.Session.reset(env.w0, containers)
            with env.session(env.w0, g) as sess:
                out[repr(containers)] = value(sess.run(check))
                sess.run(tf.global_variables_initializer())
    return out


def p_shared_variable_mismatch(env):
    """Two graphs declare one ps variable with other dtypes or shapes."""
    tf = env.tf
    g1, g2, g3 = tf.Graph(), tf.Graph(), tf.Graph()
    with g1.as_default(), tf.device(PS):
        v1 = tf.Variable([1.0, 2.0], name="mm")
    with g2.as_default(), tf.device(PS):
        v2 = tf.Variable([1, 2], name="mm")
    with g3.as_default(), tf.device(PS):
        v3 = tf.Variable([1.0, 2.0, 3.0], name="mm")
    # Sessions on the ps itself: one partition, so TensorFlow reports one error (its Python side fails to
    # parse the node names of some multi-task error messages and raises ValueError instead).
    with env.session(env.ps, g1) as s1, env.session(env.ps, g2) as s2, env.session(env.ps, g3) as s3:
        s1.run(v1.initializer)
        other_dtype = error(lambda: s2.run(v2.value()))
        other_shape = error(lambda: s3.run(v3.value()))
        init_shape = error(lambda: s3.run(v3.initializer))
    return {"other_dtype": other_dtype, "other_shape": other_shape, "init_other_shape": init_shape}


def p_shared_resource_variable_mismatch(env):
    """Two graphs declare one ps resource variable with other dtypes or shapes."""
    tf = env.tf
    graphs = [tf.Graph() for _ in range(3)]
    made = []
    for g, init in zip(graphs, ([1.0, 2.0], [1, 2], [1.0, 2.0, 3.0])):
        with g.as_default(), tf.device(PS):
            made.append(tf.get_variable("rmm", initializer=np.array(init), use_resource=True))
    sessions = [env.session(env.w0, g) for g in graphs]
    try:
        sessions[0].run(made[0].initializer)
        with graphs[1].as_default():
            read_int = made[1].read_value()
        with graphs[2].as_default():
            read_long = made[2].read_value() * 1.0
        # (Assigning a value of another shape: TF 2.x refuses it, TF 1.15's AssignVariableOp did not check.)
        out = {"other_dtype": error(lambda: sessions[1].run(read_int)),
               "other_shape": error(lambda: sessions[2].run(read_long)),
               "after": error(lambda: sessions[0].run(made[0].read_value()))}
    finally:
        for s in sessions:
            s.close()
    return out


def p_partition_graphs_without_tracing(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            a = tf.constant(np.ones(40, np.float32), name="a")
        with tf.device(W1):
            b = tf.reduce_sum(a, name="b")
        with env.session(env.w0, g) as sess:
            meta = tf.RunMetadata()
            got = sess.run(b, options=tf.RunOptions(output_partition_graphs=True), run_metadata=meta)
            seen = partition_devices(meta)
            plain = tf.RunMetadata()
            sess.run(b, run_metadata=plain)
    return {"b": value(got), "seen": seen, "step_stats_untraced": len(meta.step_stats.dev_stats),
            "partitions_unasked": len(plain.partition_graphs)}


def p_partial_run_across_tasks(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(PS):
            v = tf.Variable(2.0, name="v")
            a = tf.placeholder(tf.float32, [], name="a")
            r1 = a * v
        with tf.device(W1):
            b = tf.placeholder(tf.float32, [], name="b")
            r2 = r1 + b
        with tf.device(W0):
            r3 = r2 * r1
        with env.session(env.w0, g) as sess:
            sess.run(v.initializer)

            def steps():
                h = sess.partial_run_setup([r1, r2, r3], [a, b])
                first = sess.partial_run(h, r1, {a: 3.0})
                return [first, sess.partial_run(h, [r2, r3], {b: 1.0})]

            got = error(steps)
            missing = error(lambda: sess.partial_run(sess.partial_run_setup([r2], [a, b]), r2, {a: 1.0}))
    return {"steps": got, "missing_feed": missing}


def p_local_variables_per_worker(env):
    """Between-graph workers each keep a local variable (LOCAL_VARIABLES) on their own task, initialized by
    their own MonitoredTrainingSession, beside the shared global step."""
    tf = env.tf
    out = {}
    for i in (0, 1):
        g = tf.Graph()
        with g.as_default():
            with tf.device(tf.train.replica_device_setter(cluster=env.cluster,
                                                          worker_device=f"/job:worker/task:{i}")):
                step = tf.train.get_or_create_global_step()
                seen = tf.Variable(0, name="seen", trainable=False, collections=[tf.GraphKeys.LOCAL_VARIABLES])
                count = tf.assign_add(seen, 1)
                train = tf.assign_add(step, 1)
            with tf.train.MonitoredTrainingSession(master=(env.w0, env.w1)[i], is_chief=(i == 0),
                                                   save_checkpoint_secs=None, save_summaries_steps=None,
                                                   log_step_count_steps=None) as sess:
                for _ in range(2 + i):
                    sess.run([count, train])
                out[f"task{i}"] = {"seen": value(sess.run(seen)), "step": value(sess.run(step)),
                                   "seen_device": seen.device}
    return out


def p_queue_runner_input_pipeline(env):
    """A tf.train.batch input pipeline on a worker, its queue runners started by MonitoredTrainingSession."""
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(W1):
            data = tf.constant(np.arange(12, dtype=np.float32).reshape(6, 2))
            item = tf.train.slice_input_producer([data], shuffle=False)
            batch = tf.train.batch(item, batch_size=4, num_threads=1)
        with tf.device(W0):
            total = tf.reduce_sum(batch, axis=1)
        with tf.train.MonitoredTrainingSession(master=env.w0, is_chief=True, save_checkpoint_secs=None,
                                               save_summaries_steps=None, log_step_count_steps=None) as sess:
            got = [sess.run(total) for _ in range(3)]
    return {"batches": value(got)}


def p_supervisor_managed_session(env):
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        x, y, w, b, loss, step, train = _linear(tf, W1, env.cluster)
        sv = tf.train.Supervisor(is_chief=True, logdir=None, global_step=step, save_model_secs=0,
                                 save_summaries_secs=0, summary_op=None)
        with sv.managed_session(env.w1) as sess:
            losses = [sess.run([loss, train], {x: X, y: Y})[0] for _ in range(3)]
            final = sess.run([w, b, step])
    return {"losses": value(losses), "final": value(final)}


def p_dataset_made_on_another_task(env):
    """An iterator on one worker over a dataset whose ops sit on another (the dataset variant crosses tasks)."""
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        with tf.device(W1):
            ds = tf.data.Dataset.range(4).map(lambda v: v * 3)
        with tf.device(W0):
            it = tf.data.make_initializable_iterator(ds)
            nxt = it.get_next()
        with env.session(env.w0, g) as sess:
            init = error(lambda: sess.run(it.initializer))
            got = [error(lambda: sess.run(nxt)) for _ in range(2)]
    return {"init": init, "got": got}


def p_metadata_op_of_unknown_shape_placement(env):
    """Where a device-less Shape, Size or Rank of a tensor of unknown shape made on the ps runs."""
    tf = env.tf
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, None, name="x")
        with tf.device(PS):
            r = tf.identity(x * 2.0, name="r")
        s = tf.shape(r, name="s")
        n = tf.size(r, name="n")
        k = tf.rank(r, name="k")
        with tf.device(W1):
            t = tf.reduce_sum(tf.cast(s, tf.float32), name="t")
        with env.session(env.w0, g) as sess:
            got, seen = traced(sess, [t, n, k], {x: np.ones((3, 4), np.float32)})
    return {"got": value(got), "nodes": {name: seen["node_devices"].get(name) for name in ("s", "n", "k")}}


PROGRAMS: list[Callable] = [v for k, v in sorted(globals().items()) if k.startswith("p_")]

# Programs whose observations differ from TensorFlow's, with why: on purpose (docs/distributed.md says so), or
# a known defect not fixed yet. They are listed as such instead of failing the check.
KNOWN = {
    "p_loop_reading_resource_variable": "on purpose: a tfmini loop is one functional While run by one kernel on "
                                        "one task; a loop taking a variable's handle or ref runs where the "
                                        "variable lives (TF runs the loop on its device, the reads on the ps)",
    "p_dataset_made_on_another_task": "known: between server processes a dataset cannot cross tasks (the "
                                      "dataset value does not pickle); in one process it can",
    "p_colocate_gradients_with_ops": "known: some gradient functions name their ops differently from TF's "
                                     "(mul for TF's Mul/TanhGrad); every op both graphs have is on TF's device",
}


# ----------------------------------------------------------------------------------------------------------
# Running and comparing
# ----------------------------------------------------------------------------------------------------------
def observe(tf: ModuleType, only: list[str] | None = None) -> dict:
    """Every program's observations (or its failure), run on one cluster of in-process servers."""
    global _RUN_OPTIONS, _RUN_METADATA
    _RUN_OPTIONS, _RUN_METADATA = tf.RunOptions, tf.RunMetadata
    env = Env(tf)
    out = {}
    for program in PROGRAMS:
        name = program.__name__
        if only and name not in only:
            continue
        tf.Session.reset(env.w0)
        box: dict = {}

        def body(program=program, box=box):
            try:
                box["result"] = json.loads(json.dumps(program(env)))
            except Exception as e:  # noqa: BLE001 - a crashing program is an observation too
                box["result"] = {"crashed": f"{type(e).__name__}: {e}",
                                 "where": traceback.format_exc().splitlines()[-3:]}

        start = time.monotonic()
        thread = threading.Thread(target=body, daemon=True)
        thread.start()
        thread.join(PROGRAM_TIMEOUT)
        out[name] = box.get("result", {"crashed": f"hung for {PROGRAM_TIMEOUT} s"})
        out[name]["_seconds"] = round(time.monotonic() - start, 2)
    return out


def differences(mine, theirs, path: str = "") -> list[str]:
    """Where two observations disagree (error messages and timings excepted)."""
    if isinstance(mine, dict) and isinstance(theirs, dict):
        found = []
        if "error" in mine or "error" in theirs:
            if mine.get("error") != theirs.get("error"):
                return [f"{path}: {mine.get('error') or 'value'} vs {theirs.get('error') or 'value'}"]
            return []
        for k in sorted(set(mine) | set(theirs)):
            if k.startswith("_") or k == "message":
                continue
            if k not in mine or k not in theirs:
                if path.endswith(("node_devices", "nodes")):
                    continue  # a node one side copies, renames or leaves out: the devices of shared ones count
                found.append(f"{path}/{k}: only on {'this' if k in mine else 'the recorded'} side")
                continue
            found.extend(differences(mine[k], theirs[k], f"{path}/{k}"))
        return found
    if isinstance(mine, list) and isinstance(theirs, list):
        if len(mine) != len(theirs):
            return [f"{path}: {len(mine)} items vs {len(theirs)}"]
        return [d for i, (a, b) in enumerate(zip(mine, theirs)) for d in differences(a, b, f"{path}[{i}]")]
    if isinstance(mine, float) or isinstance(theirs, float):
        try:
            if np.allclose(mine, theirs, rtol=RTOL, atol=ATOL):
                return []
        except TypeError:
            pass
    return [] if mine == theirs else [f"{path}: {mine!r} vs {theirs!r}"]


def _messages(obs, path: str = "") -> dict:
    if isinstance(obs, dict):
        found = {}
        if "error" in obs:
            found[path] = f"{obs['error']}: {obs.get('message', '')}"
        for k, v in obs.items():
            found.update(_messages(v, f"{path}/{k}"))
        return found
    if isinstance(obs, list):
        return {k: v for i, x in enumerate(obs) for k, v in _messages(x, f"{path}[{i}]").items()}
    return {}


def _write(tf: ModuleType, directory: str, writer: str) -> str:
    observations = observe(tf)
    with open(os.path.join(directory, "observations.json"), "w", encoding="utf-8") as f:
        json.dump({"writer": writer, "programs": observations}, f, indent=1, sort_keys=True)
    crashed = [k for k, v in observations.items() if "crashed" in v]
    return f"{len(observations)} programs observed" + (f" ({len(crashed)} crashed: {crashed})" if crashed else "")


def _check(tf: ModuleType, directory: str, checker: str) -> str:
    with open(os.path.join(directory, "observations.json"), encoding="utf-8") as f:
        recorded = json.load(f)
    writer = recorded["writer"]
    mine = observe(tf, list(recorded["programs"]))
    verbose = os.environ.get("REVIEW_VERBOSE") == "1"
    failures, rows = [], []
    for name, theirs in recorded["programs"].items():
        found = differences(mine.get(name, {}), theirs)
        status = "same" if not found else ("differs (known)" if name in KNOWN else "DIFFERS")
        rows.append((name, status, found))
        if found and name not in KNOWN:
            failures.append(f"{name}: " + "; ".join(found))
        if verbose:
            print(f"{name:44s} {status}")
            for d in found:
                print(f"    {d}")
            msgs_mine, msgs_theirs = _messages(mine.get(name, {})), _messages(theirs)
            for k in sorted(set(msgs_mine) | set(msgs_theirs)):
                print(f"    {k}\n      {checker}: {msgs_mine.get(k)}\n      {writer}: {msgs_theirs.get(k)}")
    expect(not failures, f"{checker} differs from {writer} on {len(failures)} programs:\n  " + "\n  ".join(failures))
    known = [name for name, status, _ in rows if status == "differs (known)"]
    return (f"{len(rows) - len(known)} of {len(rows)} programs agree with {writer}"
            + (f"; known differences: {', '.join(known)}" if known else ""))


def _tensorflow() -> ModuleType:
    return import_tensorflow()


def _tfmini() -> ModuleType:
    import tfmini  # only the tfmini-* commands import tfmini

    return tfmini


COMMANDS = {
    "tf-write": lambda d: _write(_tensorflow(), d, "TensorFlow"),
    "tf-check": lambda d: _check(_tensorflow(), d, "TensorFlow"),
    "tfmini-write": lambda d: _write(_tfmini(), d, "tfmini"),
    "tfmini-check": lambda d: _check(_tfmini(), d, "tfmini"),
}


def main(argv: list[str]) -> int:
    try:
        code = run("distributed_review", COMMANDS, argv)
    finally:
        for process in PROCESSES:
            process.kill()
            process.wait(10)
    sys.stdout.flush()
    # In-process servers keep threads alive (TensorFlow's cannot be stopped): end the process here.
    os._exit(code)


if __name__ == "__main__":
    main(sys.argv[1:])
