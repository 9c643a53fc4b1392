"""Placement and partitions of classic ps/worker programs against TensorFlow's, recorded by
tools/tf_fixtures/gen_partitions.py (TF's RunMetadata.partition_graphs of a step run from the worker task).

Compared: the device of every node both graphs have, and the transfers (send/recv pairs: sending and receiving
task, what is sent, client-terminated or not) at the tensors both graphs have. Two differences are by design and
normalized here: TF routes a fetch made on another task through the master task's client-terminated send, while
tfmini sends it to the client from the task that computes it."""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest

import tfmini as tf
from tfmini.distributed.partition import partition

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf", "partitions", "programs.json")
with open(FIXTURE) as _f:
    RECORDED = json.load(_f)
CLUSTER = {"ps": ["localhost:1", "localhost:2"], "worker": ["localhost:3"]}
MASTER = RECORDED["master"]
_MADE = re.compile(r"(/ctrl)?_S\d+$|/replicate/_\d+$")


def _task(device: str) -> str:
    return device.split("/device:")[0]


def _ours(source: str):
    graph = tf.Graph()
    with graph.as_default():
        scope = {"tf": tf, "np": np, "cluster": tf.train.ClusterSpec(CLUSTER)}
        exec(source, scope)  # noqa: S102 - the recorded programs
    step = partition(graph, scope["fetches"], list(scope["feeds"]), scope["targets"], cluster=CLUSTER,
                     master=MASTER)
    devices, transfers = {}, []
    for gd in step.graph_defs.values():
        for nd in gd.node:
            if nd.op in ("_Send", "_Recv"):
                transfers.append((nd.op, nd.attr["client_terminated"].b, _task(nd.attr["send_device"].s.decode()),
                                  _task(nd.attr["recv_device"].s.decode()),
                                  re.sub(r"^edge_\d+_", "", nd.attr["tensor_name"].s.decode())))
            elif not _MADE.search(nd.name):
                devices[nd.name] = nd.device
    return devices, transfers


def _tf_transfers(recorded) -> list[tuple]:
    """TF's transfers with a fetch computed off the master sent to the client from its own task."""
    transfers = [tuple(t) for per_task in recorded["transfers"].values() for t in per_task]
    devices = recorded["devices"]
    out = list(transfers)
    for op, client, send, recv, sent in transfers:
        node = sent.split(":")[0]
        if op == "_Send" and client and node in devices and _task(devices[node]) != send:
            there = _task(devices[node])
            out.remove((op, client, send, recv, sent))
            out.remove(("_Send", False, there, send, node))
            out.remove(("_Recv", False, there, send, node))
            out.append(("_Send", True, there, send, sent))
    return sorted(out)


@pytest.mark.parametrize("name", sorted(RECORDED["programs"]))
def test_devices_match_tensorflow(name):
    recorded = RECORDED["programs"][name]
    devices, _ = _ours(recorded["source"])
    theirs = {n: d for n, d in recorded["devices"].items() if not _MADE.search(n)}
    common = set(devices) & set(theirs)
    assert len(common) >= 0.6 * len(theirs)
    assert {n: devices[n] for n in common} == {n: theirs[n] for n in common}


@pytest.mark.parametrize("name", ["explicit_devices", "queue_on_ps"])
def test_transfers_match_tensorflow(name):
    recorded = RECORDED["programs"][name]
    _, transfers = _ours(recorded["source"])
    assert sorted(transfers) == _tf_transfers(recorded)


@pytest.mark.parametrize("name", ["sgd_replica_device_setter", "adam_resource_variables"])
def test_data_transfers_of_tensors_both_graphs_have_match_tensorflow(name):
    # Control transfers are left out: they follow how tf.group and the optimizers order their updates, where
    # the recorded TensorFlow (2.x) and tfmini (TF 1.15's one NoOp per device) build different control edges.
    recorded = RECORDED["programs"][name]
    devices, transfers = _ours(recorded["source"])
    theirs = _tf_transfers(recorded)
    both = set(devices) & set(recorded["devices"])
    controls = set(recorded["control_transfers"])

    def shared(ts):
        return sorted(t for t in ts if t[1] or (t[4] in both and t[4] not in controls))

    assert shared(transfers) == shared(theirs)
    assert len(shared(theirs)) >= 0.5 * len([t for t in theirs if t[4] not in controls])


@pytest.mark.parametrize("name", ["explicit_devices", "queue_on_ps"])
def test_partition_op_types_match_tensorflow(name):
    recorded = RECORDED["programs"][name]
    graph_devices, _ = _ours(recorded["source"])
    ours: dict[str, list[str]] = {}
    graph = tf.Graph()
    with graph.as_default():
        exec(recorded["source"], {"tf": tf, "np": np, "cluster": tf.train.ClusterSpec(CLUSTER)})  # noqa: S102
    for node, device in graph_devices.items():
        ours.setdefault(_task(device), []).append(graph.get_operation_by_name(node).type)
    assert {t: sorted(ops) for t, ops in ours.items()} == recorded["ops"]
