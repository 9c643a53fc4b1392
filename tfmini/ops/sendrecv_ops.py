"""TF's `_Send`, `_Recv`, `_HostSend` and `_HostRecv`: the ops a partitioned graph carries at each edge cut
between two tasks (and at feeds and fetches that travel with the run request). Their kernels hand values to
the rendezvous of the step running on this thread, `ctx.rendezvous`, which only a worker's session state
(tfmini/distributed/worker.py) has; knows nothing of how a rendezvous moves values between workers."""

from __future__ import annotations

import numpy as np

from tfmini.framework import dtypes as _dtypes
from tfmini.framework import errors as _errors
from tfmini.framework import registry as _reg
from tfmini.framework.registry import register_op

# The device TF names the client by in a distributed step: client-terminated feeds are sent from it and
# client-terminated fetches are received by it.
CLIENT_DEVICE = "/job:localhost/replica:0/task:0/device:CPU:0"


def rendezvous_key(send_device: str, send_device_incarnation: int, recv_device: str, tensor_name: str) -> str:
    """TF's rendezvous key of a tensor sent from `send_device` to `recv_device` outside any loop frame:
    '<send_device>;<incarnation as 16 hex digits>;<recv_device>;<tensor_name>;0:0'."""
    return (f"{send_device};{send_device_incarnation & 0xFFFFFFFFFFFFFFFF:016x};{recv_device};{tensor_name};"
            "0:0")


def parse_rendezvous_key(key: str) -> tuple[str, int, str, str]:
    """(send_device, incarnation, recv_device, tensor_name) of a key made by `rendezvous_key`; ValueError
    (InvalidArgumentError when run) for anything else."""
    parts = key.split(";")
    if len(parts) != 5 or not parts[0] or not parts[2] or not parts[3]:
        raise ValueError(f"Invalid rendezvous key: {key}")
    try:
        incarnation = int(parts[1], 16)
    except ValueError:
        raise ValueError(f"Invalid rendezvous key: {key}") from None
    return parts[0], incarnation, parts[2], parts[3]


_TRANSFER_ATTRS = {
    "tensor_name": ("string", _reg.REQUIRED),
    "send_device": ("string", _reg.REQUIRED),
    "send_device_incarnation": ("int", _reg.REQUIRED),
    "recv_device": ("string", _reg.REQUIRED),
    "client_terminated": ("bool", False),
}


def op_key(op) -> str:
    """The rendezvous key a send or recv op `op` transfers its tensor under."""
    return rendezvous_key(_text(op.get_attr("send_device")), op.get_attr("send_device_incarnation"),
                          _text(op.get_attr("recv_device")), _text(op.get_attr("tensor_name")))


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _rendezvous(ctx, op):
    """The rendezvous of the step running on this thread, or InvalidArgumentError outside a distributed step."""
    rendezvous = getattr(ctx, "rendezvous", None)
    if rendezvous is None:
        raise _errors.InvalidArgumentError(
            None, op, f"{op.type} op '{op.name}' only runs in a partition of a distributed step: this session has "
            "no rendezvous to transfer its tensor through.")
    return rendezvous


def _send_factory(op, ctx):
    key = op_key(op)
    client_terminated = bool(op.get_attr("client_terminated"))

    def send(value):
        _rendezvous(ctx, op).send(key, value, op, client_terminated=client_terminated)

    return send


def _recv_factory(op, ctx):
    key = op_key(op)
    if op.get_attr("tensor_type") == _dtypes.variant:
        def recv_variant():
            return _as_variant(_rendezvous(ctx, op).recv(key, op))

        return recv_variant

    def recv():
        return _rendezvous(ctx, op).recv(key, op)

    return recv


def _as_variant(value):
    """A variant (a TensorList, a dataset) as its kernels hold it: a transport that carries values as arrays
    delivers one wrapped in a 0-d object array."""
    if isinstance(value, np.ndarray) and value.dtype == object and value.ndim == 0:
        return value.item()
    return value


# Stateful: a transfer is never constant-folded, and every one runs in its step.
for _send_type in ("_Send", "_HostSend"):
    register_op(_send_type, inputs=["tensor: T"], attrs=dict(_TRANSFER_ATTRS), stateful=True,
                shape=lambda op: [], factory=_send_factory,
                doc="Hands its input to the step's rendezvous under the key its attrs make (by value).")
for _recv_type in ("_Recv", "_HostRecv"):
    register_op(_recv_type, outputs=["tensor: tensor_type"], attrs=dict(_TRANSFER_ATTRS), stateful=True,
                factory=_recv_factory,
                doc="Waits for the value sent under the key its attrs make, until the step's deadline or abort.")


__all__ = ["CLIENT_DEVICE", "op_key", "parse_rendezvous_key", "rendezvous_key"]
