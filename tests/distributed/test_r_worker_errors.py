"""Errors of a partition name their node and the task it ran on, also when the failing node belongs to another
partition of the task (a variable's storage is shared by every partition that uses it): TensorFlow's message
names the node and task, never where a worker imported a partition. Container resets name containers as TF does."""

from __future__ import annotations

import itertools

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
