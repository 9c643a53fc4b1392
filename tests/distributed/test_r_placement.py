"""Placement of generators as TF's placer does it (seen against TensorFlow's distributed sessions by
tools/interop/distributed_review.py): a constant goes after the other ops, to the device its readers share when
its device string allows it, and a device error names the reader before its constant; the tasks a session with
ConfigProto.device_filters sees."""

from __future__ import annotations

import numpy as np
import pytest

import tfmini as tf
from tfmini.distributed.partition import place, session_tasks
from tfmini.framework import errors

CLUSTER = {"ps": ["localhost:1"], "worker": ["localhost:2", "localhost:3"]}
PS0 = "/job:ps/replica:0/task:0/device:CPU:0"
WK0 = "/job:worker/replica:0/task:0/device:CPU:0"
WK1 = "/job:worker/replica:0/task:1/device:CPU:0"
BIG = np.arange(20, dtype=np.float32)


def test_a_constant_with_a_partial_device_goes_to_its_readers_task_within_that_device():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [20], name="x")
        with tf.device("/job:worker"):
            c = tf.constant(BIG, name="c")
        with tf.device("/job:ps"):
            p = tf.constant(BIG, name="p")
        with tf.device("/job:worker/task:1"):
            y = tf.add(x, c, name="y")
            tf.add(y, p, name="z")
    devices = place(g, CLUSTER, "/job:worker/task:0")
    assert devices["c"] == WK1  # its readers' task, which "/job:worker" allows
    assert devices["p"] == PS0  # "/job:ps" does not allow the readers' task: its own device string decides


def test_a_constant_read_by_several_ops_on_one_device_goes_there():
    with tf.Graph().as_default() as g:
        c = tf.constant(BIG, name="c")
        with tf.device("/job:worker/task:1"):
            a = tf.add(c, 1.0, name="a")
            b = tf.multiply(c, 2.0, name="b")
            with tf.control_dependencies([c.op]):
                tf.add(a, b, name="d")
    assert place(g, CLUSTER, "/job:worker/task:0")["c"] == WK1


def test_a_constant_read_on_two_devices_stays_where_its_device_string_says():
    with tf.Graph().as_default() as g:
        c = tf.constant(BIG, name="c")
        with tf.device("/job:worker/task:1"):
            tf.add(c, 1.0, name="a")
        with tf.device("/job:ps/task:0"):
            tf.add(c, 2.0, name="b")
    assert place(g, CLUSTER, "/job:worker/task:0")["c"] == WK0
    assert place(g, CLUSTER, "/job:ps/task:0")["c"] == PS0


def test_a_constant_asking_for_a_gpu_joins_its_reader_under_soft_placement_only():
    with tf.Graph().as_default() as g:
        with tf.device("/job:worker/task:1/device:GPU:0"):
            c = tf.constant(1.0, name="c")
        with tf.device("/job:worker/task:1"):
            tf.add(c, 1.0, name="y")
    assert place(g, CLUSTER, "/job:worker/task:0", allow_soft_placement=True)["c"] == WK1
    with pytest.raises(errors.InvalidArgumentError, match="operation c: .*GPU:0"):
        place(g, CLUSTER, "/job:worker/task:0")


def test_a_device_error_names_the_reader_before_its_constant():
    with tf.Graph().as_default() as g:
        with tf.device("/job:worker/task:9"):
            c = tf.constant(3.0, name="c")
            tf.multiply(c, 2.0, name="y")
    with pytest.raises(errors.InvalidArgumentError, match=r"Cannot assign a device for operation y: .*"
                       r"explicitly assigned to /job:worker/task:9"):
        place(g, CLUSTER, "/job:worker/task:0")


def test_a_constant_named_by_a_colocation_group_keeps_its_group():
    with tf.Graph().as_default() as g:
        with tf.device("/job:ps/task:0"):
            c = tf.constant(BIG, name="c")
        with tf.device("/job:worker/task:1"):
            tf.add(c, 1.0, name="a")
    gd = g.as_graph_def()
    for nd in gd.node:
        if nd.name == "a":
            nd.attr["_class"].list.s.append(b"loc:@c")
    devices = place(gd, CLUSTER, "/job:worker/task:0")
    assert devices["c"] == PS0 and devices["a"] == PS0


@pytest.mark.parametrize("filters, seen", [
    ((), [PS0, WK0, WK1]),
    (["/job:ps"], [PS0, WK0]),
    (["/job:worker/task:1"], [WK0, WK1]),
    (["/job:ps/replica:0/task:0/device:CPU:0"], [PS0, WK0]),
    (["/replica:0/task:1"], [WK0, WK1]),
    (["/job:nope"], [WK0]),
    (["/job:ps/device:GPU:0"], [WK0]),
    (["not a device", "/job:ps"], [PS0, WK0]),
])
def test_device_filters_leave_the_master_and_the_tasks_they_match(filters, seen):
    # What TensorFlow's list_devices shows for a session on worker 0 with these ConfigProto.device_filters.
    tasks = session_tasks(CLUSTER, "/job:worker/task:0", filters)
    assert [t + "/device:CPU:0" for t in tasks] == seen


def test_placement_on_filtered_tasks_refuses_a_task_filtered_out():
    with tf.Graph().as_default() as g:
        with tf.device("/job:worker/task:1"):
            tf.add(tf.constant(1.0), 1.0, name="c")
    tasks = session_tasks(CLUSTER, "/job:worker/task:0", ["/job:ps"])
    with pytest.raises(errors.InvalidArgumentError, match=r"operation c: .*available devices are \[ "
                       + PS0 + ", " + WK0 + r" \]"):
        place(g, tasks, "/job:worker/task:0")


def test_shape_size_and_rank_go_with_their_input_when_their_device_string_allows_it():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, None, name="x")
        with tf.device("/job:ps/task:0"):
            r = tf.identity(x, name="r")
        tf.shape(r, name="s")
        tf.size(r, name="n")
        tf.rank(r, name="k")
        with tf.device("/job:worker"):
            tf.shape(r, name="on_worker")
        tf.identity(r, name="copy")  # not a metadata op: the master task's
    devices = place(g, CLUSTER, "/job:worker/task:1")
    assert [devices[n] for n in ("s", "n", "k")] == [PS0] * 3
    assert devices["on_worker"] == WK1 and devices["copy"] == WK1
