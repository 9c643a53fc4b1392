"""Errors of a partition name their node and the task it ran on, also when the failing node belongs to another
partition of the task (a variable's storage is shared by every partition that uses it): TensorFlow's message
names the node and task, never where a worker imported a partition. Container resets name containers as TF does."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import tfmini as tf
from tfmini.distributed.partition import partition
from tfmini.distributed.worker import PartitionRunner, StepRendezvous, WorkerResources
from tfmini.framework import errors

CLUSTER = {"ps": ["localhost:1"], "worker": ["localhost:2"]}
PS0 = "/job:ps/replica:0/task:0"
_steps = itertools.count(1)


def _runner(graph, fetches, resources, session):
    step = partition(graph.as_graph_def(), fetches, (), (), cluster=CLUSTER, master="/job:worker/task:0")
    return step, PartitionRunner(step.graph_defs[PS0], step.run_nodes[PS0], resources, session=session)


def _run(step, runner):
    rendezvous = StepRendezvous(PS0, next(_steps))
    runner.run(rendezvous)
    return [rendezvous.recv(key) for _, key in step.fetch_keys]


def test_reading_a_variable_another_partition_made_names_the_node_and_task():
    with tf.Graph().as_default() as g:
        with tf.device("/job:ps/task:0"):
            a = tf.Variable(1.0, name="a")
        check = tf.is_variable_initialized(a)
    resources = WorkerResources(PS0)
    first = _runner(g, [check], resources, "one")  # makes the variable's storage, not initialized
    assert not _run(*first)[0]
    second = _runner(g, [a.value()], resources, "two")
    with pytest.raises(errors.FailedPreconditionError) as caught:
        _run(*second)
    message = caught.value.message
    assert message == f"Attempting to use uninitialized value a\n\t [[node a (on {PS0}) ]]"


def test_an_empty_container_name_resets_nothing_and_the_job_name_resets_the_default_container():
    with tf.Graph().as_default() as g:
        with tf.device("/job:ps/task:0"):
            a = tf.Variable(1.0, name="a")
            with tf.container("box"):
                b = tf.Variable(2.0, name="b")
        check = [tf.is_variable_initialized(a), tf.is_variable_initialized(b)]
    resources = WorkerResources(PS0)
    init = partition(g.as_graph_def(), (), (), [a.initializer, b.initializer], cluster=CLUSTER,
                     master="/job:worker/task:0")
    runner = PartitionRunner(init.graph_defs[PS0], init.run_nodes[PS0], resources, session="s")
    checker = _runner(g, check, resources, "s")
    runner.run(StepRendezvous(PS0, next(_steps)))
    resources.reset([""])  # TF's default container is named after the job: "" names no container
    assert [bool(v) for v in _run(*checker)] == [True, True]
    resources.reset(["ps"])
    assert [bool(v) for v in _run(*checker)] == [False, True]
    resources.reset(["box"])
    assert [bool(v) for v in _run(*checker)] == [False, False]


def test_a_variable_declared_with_another_dtype_than_the_one_on_the_task_is_an_internal_error():
    with tf.Graph().as_default() as g1, tf.device("/job:ps/task:0"):
        v1 = tf.Variable([1.0, 2.0], name="mm")
    with tf.Graph().as_default() as g2, tf.device("/job:ps/task:0"):
        v2 = tf.Variable([1, 2], name="mm")
    with tf.Graph().as_default() as g3, tf.device("/job:ps/task:0"):
        v3 = tf.Variable([5.0, 6.0, 7.0], name="mm")  # another shape: TF shares it as it is
    resources = WorkerResources(PS0)
    init = partition(g1.as_graph_def(), (), (), [v1.initializer], cluster=CLUSTER, master="/job:worker/task:0")
    PartitionRunner(init.graph_defs[PS0], init.run_nodes[PS0], resources).run(StepRendezvous(PS0, next(_steps)))
    with pytest.raises(errors.InternalError, match="^Output 0 of type float_ref does not match declared output "
                       "type int32_ref for node mm"):
        _run(*_runner(g2, [v2.value()], resources, "two"))
    np.testing.assert_array_equal(_run(*_runner(g3, [v3.value()], resources, "three"))[0], [1.0, 2.0])


def test_an_error_compiling_a_partition_names_the_node_and_task_and_the_next_run_compiles_again():
    with tf.Graph().as_default() as g1, tf.device("/job:ps/task:0"):
        v1 = tf.Variable([1.0, 2.0], name="mm")
    with tf.Graph().as_default() as g2, tf.device("/job:ps/task:0"):
        v2 = tf.Variable([1, 2], name="mm")
    resources = WorkerResources(PS0)
    reader = partition(g2.as_graph_def(), [v2.value()], (), (), cluster=CLUSTER, master="/job:worker/task:0")
    runner = PartitionRunner(reader.graph_defs[PS0], reader.run_nodes[PS0], resources)  # makes an int32 `mm`
    resources.reset(["ps"])  # `mm` goes; the runner compiles again before its next run
    init = partition(g1.as_graph_def(), (), (), [v1.initializer], cluster=CLUSTER, master="/job:worker/task:0")
    PartitionRunner(init.graph_defs[PS0], init.run_nodes[PS0], resources).run(StepRendezvous(PS0, next(_steps)))
    with pytest.raises(errors.InternalError) as caught:
        _run(reader, runner)
    assert caught.value.message.endswith(f"for node mm\n\t [[node mm (on {PS0}) ]]")
    resources.reset(["ps"])
    with pytest.raises(errors.FailedPreconditionError, match="uninitialized value mm"):
        _run(reader, runner)  # compiled again: the int variable is its own now, not yet initialized
