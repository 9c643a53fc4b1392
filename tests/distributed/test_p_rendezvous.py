"""StepRendezvous: values kept until received (once), routing by the key's receiving task, deadlines, aborts
waking waiters; WorkerResources' containers and reset."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from tfmini.distributed.worker import StepRendezvous, WorkerResources, task_of_device
from tfmini.framework import errors
from tfmini.ops.sendrecv_ops import rendezvous_key

PS, WK = "/job:ps/replica:0/task:0", "/job:worker/replica:0/task:0"
KEY = rendezvous_key(PS + "/device:CPU:0", 7, WK + "/device:CPU:0", "edge_3_w")


def test_task_of_device():
    assert task_of_device(PS + "/device:CPU:0") == PS
    assert task_of_device(PS) == PS


def test_value_put_before_recv_is_kept_and_received_once():
    r = StepRendezvous(WK, 1)
    r.put(KEY, np.float32(3))
    assert r.recv(KEY) == 3
    assert r.pending() == []
    with pytest.raises(errors.DeadlineExceededError, match="Timed out"):
        r.recv(KEY, deadline=time.perf_counter() + 0.05)


def test_recv_waits_for_a_later_put():
    r = StepRendezvous(WK, 1)
    threading.Timer(0.05, r.put, (KEY, np.arange(3))).start()
    np.testing.assert_array_equal(r.recv(KEY, deadline=time.perf_counter() + 5), np.arange(3))


def test_send_routes_to_the_receiving_task_and_copies_read_only_values():
    got = []
    sender = StepRendezvous(PS, 1, remote_put=lambda task, key, v: got.append((task, key, v)))
    storage = np.arange(4.0)
    view = storage.view()
    view.flags.writeable = False
    sender.send(KEY, view)
    (task, key, value), = got
    assert (task, key) == (WK, KEY)
    storage[0] = 99.0
    assert value[0] == 0.0
    # A key received on this task, and a client-terminated send, stay here.
    local = rendezvous_key(WK + "/device:CPU:0", 1, PS + "/device:CPU:0", "y:0")
    sender.send(local, np.float32(1))
    client = rendezvous_key(PS + "/device:CPU:0", 1, WK + "/device:CPU:0", "z:0")
    sender.send(client, np.float32(2), client_terminated=True)
    assert sorted(sender.pending()) == sorted([local, client])
    assert len(got) == 1


def test_send_without_transport_is_an_internal_error():
    with pytest.raises(errors.InternalError, match="No transport"):
        StepRendezvous(PS, 1).send(KEY, np.float32(1))


def test_abort_wakes_a_waiting_recv_with_cancelled_error():
    r = StepRendezvous(WK, 5)
    cause = errors.InvalidArgumentError(None, None, "bad input on ps")
    threading.Timer(0.05, r.abort, (cause,)).start()
    t0 = time.perf_counter()
    with pytest.raises(errors.CancelledError, match="Step 5 was aborted: bad input on ps"):
        r.recv(KEY)
    assert time.perf_counter() - t0 < 2
    assert r.error is cause and r.stopped.is_set()
    r.put(KEY, 1)  # dropped after the abort
    assert r.pending() == []
    with pytest.raises(errors.CancelledError):
        r.send(KEY, np.float32(1))


def test_abort_with_deadline_exceeded_keeps_its_class():
    r = StepRendezvous(WK, 5)
    r.abort(errors.DeadlineExceededError(None, None, "step timed out"))
    with pytest.raises(errors.DeadlineExceededError, match="step timed out"):
        r.recv(KEY)


def test_bound_takes_the_earlier_deadline():
    r = StepRendezvous(WK, 1, deadline=time.perf_counter() + 100)
    r.bound(time.perf_counter() + 0.05)
    r.bound(None)
    t0 = time.perf_counter()
    with pytest.raises(errors.DeadlineExceededError):
        r.recv(KEY)
    assert time.perf_counter() - t0 < 2


class _Queue:
    def __init__(self):
        self.cancelled = False

    def cancel(self):
        self.cancelled = True


def test_reset_drops_only_the_named_containers_and_cancels_their_queues():
    res = WorkerResources(PS)
    assert res.default_container == "ps"
    q_default, q_other = _Queue(), _Queue()
    res.resources[("queue", "", "q")] = q_default
    res.resources[("queue", "c1", "q")] = q_other
    res.cells["resource::v"] = object()
    res.cells["resource:c1:v"] = object()
    assert res.containers() == {"ps", "c1"}
    generation = res.generation
    res.reset(["c1"])
    assert q_other.cancelled and not q_default.cancelled
    assert set(res.cells) == {"resource::v"} and set(res.resources) == {("queue", "", "q")}
    assert res.generation == generation + 1
    res.reset(None)
    assert q_default.cancelled and not res.cells and not res.resources
