"""_Send/_Recv op defs and kernels: TF's rendezvous keys, and the error a transfer gives in a session that runs
no distributed step (the local engine has no rendezvous)."""

from __future__ import annotations

import pytest

import tfmini as tf
from tfmini.framework import errors
from tfmini.framework.registry import apply_op, get_op_def
from tfmini.ops import sendrecv_ops

A = "/job:ps/replica:0/task:0/device:CPU:0"
B = "/job:worker/replica:0/task:0/device:CPU:0"


def _attrs(**extra):
    return {"tensor_name": "edge_1_x", "send_device": A, "send_device_incarnation": -2, "recv_device": B, **extra}


def test_rendezvous_key_has_tf_format_with_unsigned_hex_incarnation():
    assert sendrecv_ops.rendezvous_key(A, 1, B, "x:0") == f"{A};0000000000000001;{B};x:0;0:0"
    key = sendrecv_ops.rendezvous_key(A, -2, B, "edge_1_x")
    assert key.split(";")[1] == "fffffffffffffffe"
    assert sendrecv_ops.parse_rendezvous_key(key) == (A, 2**64 - 2, B, "edge_1_x")
    with pytest.raises(ValueError, match="Invalid rendezvous key"):
        sendrecv_ops.parse_rendezvous_key("a;b;c")


def test_transfer_ops_are_stateful_with_tf_attrs():
    for op_type in ("_Send", "_Recv", "_HostSend", "_HostRecv"):
        od = get_op_def(op_type)
        assert od.stateful
        assert od.attrs["client_terminated"] == ("bool", False)
        assert set(od.attrs) >= {"tensor_name", "send_device", "send_device_incarnation", "recv_device"}
    assert get_op_def("_Recv").outputs[0].type_attr == "tensor_type"
    assert get_op_def("_Send").inputs[0].type_attr == "T"


def test_op_key_reads_the_attrs():
    with tf.Graph().as_default():
        r = apply_op("_Recv", [], _attrs(tensor_type=tf.float32), name="r")
        assert r.outputs[0].dtype == tf.float32
        assert sendrecv_ops.op_key(r) == sendrecv_ops.rendezvous_key(A, -2, B, "edge_1_x")


@pytest.mark.parametrize("op_type", ["_Recv", "_HostRecv"])
def test_recv_in_a_local_session_fails_naming_the_op_and_session_stays_usable(op_type):
    with tf.Graph().as_default():
        r = apply_op(op_type, [], _attrs(tensor_type=tf.float32), name="r").outputs[0]
        x = tf.constant(3.0)
        with tf.Session() as sess:
            with pytest.raises(errors.InvalidArgumentError, match="only runs in a partition of a distributed step"):
                sess.run(r)
            assert sess.run(x) == 3.0


def test_send_in_a_local_session_fails_and_is_never_folded():
    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0])
        s = apply_op("_Send", [x], _attrs(), name="s")
        with tf.Session() as sess:
            with pytest.raises(errors.InvalidArgumentError, match="'s' only runs"):
                sess.run(s)
