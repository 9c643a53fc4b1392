"""Records where TensorFlow places each node of a few TF1 programs built under `tf.device` scopes and
`tf.train.replica_device_setter`, for tests/train/test_device_setter.py.

    /work/tfenv/bin/python tools/tf_fixtures/gen_device_placement.py

Writes tests/fixtures/tf/device_placement/programs.json: for each program its source (run by the test with
tfmini as `tf`) and the `device` (and op type) of every node of `as_graph_def()`. A program may call
`greedy(num_tasks)` for a greedy load-balancing ps strategy measuring ops in bytes: TensorFlow 2.x no longer
ships tf.contrib.training, so here it is a few lines over TensorFlow's ops (least-loaded task first, the load
of an op the byte size of its single output); the test passes tfmini's
`tf.contrib.training.GreedyLoadBalancingStrategy(num_tasks, tf.contrib.training.byte_size_load_fn)`.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "tf" / "device_placement"

PROGRAMS = {
    # Ref variables, a matmul model and a training step with a global step, two ps tasks round robin.
    "ps_tasks_2": """
        with tf.device(tf.train.replica_device_setter(ps_tasks=2)):
            x = tf.placeholder(tf.float32, [None, 3], name="x")
            w = tf.Variable(tf.ones([3, 2]), name="w")
            b = tf.Variable(tf.zeros([2]), name="b")
            y = tf.nn.relu(tf.matmul(x, w) + b, name="y")
            loss = tf.reduce_mean(tf.square(y), name="loss")
            step = tf.Variable(0, name="step", trainable=False)
            inc = tf.assign_add(step, 1, name="inc")
            grads = tf.gradients(loss, [w, b])
            upd_w = tf.assign_sub(w, 0.1 * grads[0], name="upd_w")
            upd_b = tf.assign_sub(b, 0.1 * grads[1], name="upd_b")
    """,
    # The number of ps tasks from a cluster, named ps and worker jobs with tasks, a worker task.
    "cluster_dict": """
        cluster = {"ps": ["ps0:2222", "ps1:2222", "ps2:2222"], "worker": ["w0:2222", "w1:2222"]}
        with tf.device(tf.train.replica_device_setter(cluster=cluster, worker_device="/job:worker/task:1",
                                                      ps_device="/job:ps/cpu:0")):
            a = tf.Variable(tf.ones([4]), name="a")
            bb = tf.Variable(tf.ones([5]), name="bb")
            c = tf.Variable(tf.ones([6]), name="c")
            d = tf.Variable(tf.ones([7]), name="d")
            s = tf.add_n([tf.reduce_sum(a), tf.reduce_sum(bb), tf.reduce_sum(c), tf.reduce_sum(d)], name="s")
            with tf.device("/job:ps/task:2"):
                pinned = tf.Variable(3.0, name="pinned")
            with tf.device("/gpu:1"):
                on_gpu = tf.identity(s, name="on_gpu")
    """,
    # A greedy strategy by byte size: variables of different sizes spread by load, not in turn.
    "greedy": """
        with tf.device(tf.train.replica_device_setter(ps_tasks=3, ps_strategy=greedy(3))):
            big = tf.Variable(tf.zeros([100, 10]), name="big")
            small1 = tf.Variable(tf.zeros([10]), name="small1")
            small2 = tf.Variable(tf.zeros([20], dtype=tf.float64), name="small2")
            mid = tf.Variable(tf.zeros([30, 10]), name="mid")
            scalar = tf.Variable(1.0, name="scalar")
            ints = tf.Variable(tf.zeros([50], dtype=tf.int32), name="ints")
            total = tf.add_n([tf.reduce_sum(big), tf.reduce_sum(small1), tf.cast(tf.reduce_sum(small2), tf.float32),
                              tf.reduce_sum(mid), scalar], name="total")
    """,
    # Nested in an outer worker-task scope (its task merges into worker ops; ps ops keep their own job),
    # with inner scopes naming a device, a ps task, another job, and tf.device(None).
    "nested_worker_task": """
        with tf.device("/job:worker/task:1"):
            with tf.device(tf.train.replica_device_setter(ps_tasks=2)):
                v1 = tf.Variable(tf.ones([2]), name="v1")
                v2 = tf.Variable(tf.ones([2]), name="v2")
                y = tf.add(v1, v2, name="y")
                with tf.device("/cpu:0"):
                    z = tf.multiply(y, 2.0, name="z")
                    v3 = tf.Variable(tf.ones([2]), name="v3")
                with tf.device("/job:ps/task:1"):
                    v4 = tf.Variable(tf.ones([2]), name="v4")
                with tf.device("/job:other"):
                    v5 = tf.Variable(tf.ones([2]), name="v5")
                    o = tf.identity(z, name="o")
                with tf.device(None):
                    free = tf.constant(1.0, name="free")
            outer = tf.constant(2.0, name="outer")
    """,
    # merge_devices=False: an op whose device is already set by an inner scope keeps it as it is.
    "merge_devices_false": """
        with tf.device(tf.train.replica_device_setter(ps_tasks=2, merge_devices=False)):
            v1 = tf.Variable(tf.ones([2]), name="v1")
            with tf.device("/task:3"):
                v2 = tf.Variable(tf.ones([2]), name="v2")
                t = tf.identity(v1, name="t")
            with tf.device("/job:foo/gpu:0"):
                u = tf.identity(v2, name="u")
            v3 = tf.Variable(tf.ones([2]), name="v3")
    """,
    # Own ps ops and ps device: placeholders and variables on the ps job; a device function inside another.
    "custom_ps_ops": """
        def on_gpu(op):
            return "/gpu:0" if op.type == "MatMul" else ""
        with tf.device(tf.train.replica_device_setter(ps_tasks=2, ps_device="/job:param", worker_device="",
                                                      ps_ops=["Placeholder", "VariableV2"])):
            p = tf.placeholder(tf.float32, [2, 2], name="p")
            q = tf.placeholder(tf.float32, [2, 2], name="q")
            w = tf.Variable(tf.ones([2, 2]), name="w")
            with tf.device(on_gpu):
                m = tf.matmul(p, w, name="m")
                n = tf.add(m, q, name="n")
    """,
    # An optimizer under the setter: TF puts slots, Adam's beta powers and the update ops beside their
    # variables (colocation), initializers of get_variable nowhere, and groups the updates per device.
    "optimizer_adam": """
        with tf.device(tf.train.replica_device_setter(ps_tasks=2)):
            x = tf.placeholder(tf.float32, [None, 3], name="x")
            w = tf.Variable(tf.ones([3, 2]), name="w")
            b = tf.get_variable("b", [2], initializer=tf.zeros_initializer())
            loss = tf.reduce_sum(tf.square(tf.matmul(x, w) + b), name="loss")
            gs = tf.train.get_or_create_global_step()
            train = tf.train.AdamOptimizer(0.1).minimize(loss, global_step=gs)
    """,
    # Resource variables under the setter with Adam: the handles, slots and beta powers on the ps tasks, the
    # initial values on no device, the updates beside their variables.
    "optimizer_adam_resource": """
        with tf.device(tf.train.replica_device_setter(ps_tasks=2)):
            x = tf.placeholder(tf.float32, [None, 3], name="x")
            w = tf.Variable(tf.ones([3, 2]), name="w", use_resource=True)
            b = tf.get_variable("b", [2], initializer=tf.zeros_initializer(), use_resource=True)
            loss = tf.reduce_sum(tf.square(tf.matmul(x, w.read_value()) + b.read_value()), name="loss")
            train = tf.train.AdamOptimizer(0.1).minimize(loss)
    """,
    # Momentum over get_variable's callable initializers (built on no device) and a ref global step.
    "optimizer_momentum": """
        with tf.device(tf.train.replica_device_setter(ps_tasks=3)):
            x = tf.placeholder(tf.float32, [4, 3], name="x")
            w = tf.get_variable("w", [3, 2], initializer=tf.ones_initializer())
            c = tf.get_variable("c", [2], initializer=tf.constant_initializer(0.5))
            d = tf.Variable(2.0, name="d")
            loss = tf.reduce_mean(tf.square(tf.matmul(x, w) * d + c), name="loss")
            step = tf.train.get_or_create_global_step()
            train = tf.train.MomentumOptimizer(0.1, 0.9).minimize(loss, global_step=step, name="train")
    """,
    # tf.group over ops on several devices: one NoOp per device, then the named one; on one device, the
    # group's NoOp goes there.
    "group_by_device": """
        with tf.device(tf.train.replica_device_setter(ps_tasks=2)):
            a = tf.Variable(1.0, name="a")
            b = tf.Variable(2.0, name="b")
            inc_a = tf.assign_add(a, 1.0, name="inc_a")
            inc_b = tf.assign_add(b, 1.0, name="inc_b")
            s = tf.add(a, b, name="s")
            both = tf.group(inc_a, inc_b, s, name="both")
            only_a = tf.group(inc_a, name="only_a")
            with tf.device("/job:worker/task:2"):
                t = tf.identity(s, name="t")
            mixed = tf.group(s, t)
    """,
    # Lookup tables under the setter: the table on a ps task, its find and insert ops beside it.
    "lookup_tables": """
        with tf.device(tf.train.replica_device_setter(ps_tasks=2)):
            v = tf.Variable(1.0, name="v")
            table = tf.lookup.experimental.MutableHashTable(tf.string, tf.int64, -1, name="table", checkpoint=False)
            keys = tf.constant(["a", "b"], name="keys")
            insert = table.insert(keys, tf.constant([1, 2], tf.int64, name="values"), name="insert")
            found = table.lookup(tf.constant(["a", "c"], name="query"), name="find")
            size = table.size(name="size")
            exported = table.export(name="export")
    """,
    # A cluster without the ps job: no device function, so tf.device(None) clears the outer scope.
    "cluster_without_ps": """
        with tf.device("/job:worker/task:0"):
            with tf.device(tf.train.replica_device_setter(cluster={"worker": ["w0:1"]})):
                v = tf.Variable(1.0, name="v")
            after = tf.identity(v, name="after")
    """,
}


def _tf115_resource_reads() -> None:
    """TF 1.15 placed a resource variable's reads on its handle's device: `value()` (every use as a tensor)
    on exactly that device, outside any colocation, and `read_value()`'s ReadVariableOp merged with it (its
    Identity stays where the scopes put it). TF 2.x dropped that placement and leaves those reads to the
    runtime placer; this puts the 1.15 placement back, so the recording is what TF 1.15 builds."""
    from tensorflow.python.framework import ops
    from tensorflow.python.ops import array_ops, resource_variable_ops

    def value(self):
        if self._cached_value is not None:
            return self._cached_value
        with ops.colocate_with(None, ignore_existing=True), ops.device(self.handle.device):
            return self._read_variable_op()

    def read_value(self):
        with ops.name_scope("Read"), ops.device(self.handle.device):
            read = self._read_variable_op()
        return array_ops.identity(read)

    resource_variable_ops.BaseResourceVariable.value = value
    resource_variable_ops.BaseResourceVariable.read_value = read_value


class _Greedy:
    """Least-loaded ps task first (the first of equals); an op's load is the byte size of its output."""

    def __init__(self, num_tasks: int) -> None:
        self._loads = [0] * num_tasks

    def __call__(self, op) -> int:
        task = self._loads.index(min(self._loads))
        shape = op.outputs[0].get_shape()
        if not shape.is_fully_defined():
            shape = tf.TensorShape(op.get_attr("shape"))
        self._loads[task] += shape.num_elements() * op.outputs[0].dtype.size
        return task


def _record(source: str) -> dict:
    graph = tf.Graph()
    with graph.as_default():
        exec(textwrap.dedent(source), {"tf": tf, "greedy": _Greedy})  # noqa: S102 - our own programs
    return {n.name: [n.op, n.device] for n in graph.as_graph_def().node}


def main() -> None:
    _tf115_resource_reads()
    OUT.mkdir(parents=True, exist_ok=True)
    programs = {name: {"source": textwrap.dedent(src).strip() + "\n", "nodes": _record(src)}
                for name, src in PROGRAMS.items()}
    (OUT / "programs.json").write_text(json.dumps({"tensorflow": tf.__version__, "programs": programs},
                                                  indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT / 'programs.json'}: {len(programs)} programs")


if __name__ == "__main__":
    main()
