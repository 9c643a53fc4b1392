"""The stack ops of TF1's loop gradients (StackV2, StackPushV2, StackPopV2, StackCloseV2) and ControlTrigger.

A TF1 `tf.gradients` through a dataflow while loop saves each forward value its backward loop needs on a stack:
the forward loop pushes it every iteration and the backward loop pops it back in reverse order. The handle a
`StackV2` op outputs carries the stack's storage, created fresh each time the op runs, as a TensorArray's does
(TF likewise keeps stacks in the step's container): it lives as long as the run that made it, concurrent runs
never share one, and a push or a pop is O(1). Knows the op registry only; nothing of sessions or control flow.
"""

from __future__ import annotations

import itertools

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.registry import REQUIRED, NotDifferentiable, apply_op, register_op

# TF's names of data types in kernel messages ('float', not 'float32').
_TYPE_NAMES = {"float32": "float", "float64": "double"}

# Each stack made in this process gets a number appended to its name, as TF names its stack resources, so two
# stacks of one name (the same op run twice, or two ops) are told apart in messages.
_STACK_IDS = itertools.count()


def _type_name(dtype: _dt.DType) -> str:
    name = dtype.base_dtype.name
    return _TYPE_NAMES.get(name, name)


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


class StackStorage:
    """The elements of one stack in one run (a Python list: the top is its end), its element type, its size
    limit (none when max_size <= 0) and whether it was closed."""

    __slots__ = ("name", "dtype", "np_dtype", "max_size", "elements", "closed")

    def __init__(self, name: str, dtype: _dt.DType, max_size: int) -> None:
        self.name = name
        self.dtype = dtype.base_dtype
        self.np_dtype = self.dtype.as_numpy_dtype
        self.max_size = max_size
        self.elements: list = []
        self.closed = False

    def __repr__(self) -> str:
        return f"<Stack '{self.name}' size={len(self.elements)} elem_type={self.dtype.name}>"

    def check_open(self) -> None:
        if self.closed:
            raise _invalid(f"Stack[{self.name}] has already been closed.")

    def push(self, value) -> None:
        """Puts `value` on top (not copied: arrays passed between kernels are never written into)."""
        self.check_open()
        if 0 < self.max_size <= len(self.elements):
            raise _invalid(f"Stack[{self.name}] overflowed its max_size ({self.max_size})")
        self.elements.append(value)

    def pop(self):
        self.check_open()
        if not self.elements:
            raise _invalid(f"Stack[{self.name}] is empty when calling Pop().")
        return self.elements.pop()

    def close(self) -> None:
        self.closed = True
        self.elements = []


def _storage(handle) -> StackStorage:
    if not isinstance(handle, StackStorage):
        raise _invalid(f"Expected a stack handle, got {type(handle).__name__}")
    return handle


def _scalar_input_shape(op: _ops.Operation, index: int, what: str) -> None:
    shape = op.inputs[index].shape
    if shape.ndims is not None and shape.ndims != 0:
        raise ValueError(f"Shape must be rank 0 but is rank {shape.ndims} ({what} has shape {shape})")


# ----------------------------------------------------------------------------------------------------------
# StackV2: a new stack per run
# ----------------------------------------------------------------------------------------------------------
def _stack_shape(op: _ops.Operation) -> _shape.TensorShape:
    _scalar_input_shape(op, 0, "max_size")
    return _shape.TensorShape([2])


def _stack_factory(op: _ops.Operation, ctx):
    base = op.get_attr("stack_name") or op.name
    elem_type = _dt.as_dtype(op.get_attr("elem_type"))

    def run_stack(max_size):
        if np.ndim(max_size) != 0:
            raise _invalid(f"Stack size must be a scalar, but had shape: {list(np.shape(max_size))}")
        return StackStorage(f"{base}_{next(_STACK_IDS)}", elem_type, int(max_size))

    return run_stack


register_op(
    "StackV2",
    inputs=["max_size: int32"],
    outputs=["handle: resource"],
    attrs={"elem_type": ("type", REQUIRED), "stack_name": ("string", "")},
    shape=_stack_shape,
    stateful=True,
    factory=_stack_factory,
    doc="A new, empty stack of `elem_type` elements for this run (at most `max_size` of them when it is "
        "positive): its handle.",
)


# ----------------------------------------------------------------------------------------------------------
# Push, pop, close
# ----------------------------------------------------------------------------------------------------------
@register_op(
    "StackPushV2",
    inputs=["handle: resource", "elem: T"],
    outputs=["output: T"],
    attrs={"swap_memory": ("bool", False)},
    shape=lambda op: op.inputs[1].shape,
    stateful=True,
)
def _stack_push(handle, elem, *, swap_memory):
    """Pushes `elem` and forwards it. `swap_memory` (moving the element to host memory) means nothing here."""
    stack = _storage(handle)
    dtype = getattr(elem, "dtype", None)
    if dtype != stack.np_dtype:
        got = _dt.as_dtype(np.asarray(elem).dtype)
        if got != stack.dtype:
            raise _invalid(f"Stack[{stack.name}] must have type {_type_name(stack.dtype)} but got "
                           f"{_type_name(got)}")
    stack.push(elem)
    return elem


@register_op(
    "StackPopV2",
    inputs=["handle: resource"],
    outputs=["elem: elem_type"],
    attrs={"elem_type": ("type", REQUIRED)},
    shape=lambda op: _shape.unknown_shape(),
    stateful=True,
)
def _stack_pop(handle, *, elem_type):
    """The element on top, removed from the stack."""
    stack = _storage(handle)
    want = _dt.as_dtype(elem_type).base_dtype
    if want != stack.dtype:
        raise _errors.InternalError(None, None, f"Output 0 of type {_type_name(stack.dtype)} does not match "
                                                f"declared output type {_type_name(want)} for Stack[{stack.name}]")
    return stack.pop()


@register_op("StackCloseV2", inputs=["handle: resource"], stateful=True)
def _stack_close(handle):
    """Releases the elements; later pushes and pops fail (closing again does nothing)."""
    _storage(handle).close()


for _op_type in ("StackV2", "StackPushV2", "StackPopV2", "StackCloseV2"):
    NotDifferentiable(_op_type)


# ----------------------------------------------------------------------------------------------------------
# The generated wrappers TF has for these ops (gen_data_flow_ops), by their names and arguments
# ----------------------------------------------------------------------------------------------------------
def stack_v2(max_size, elem_type, stack_name: str = "", name: str | None = None) -> _ops.Tensor:
    """A new stack of `elem_type` elements (at most `max_size` when positive); its handle."""
    return apply_op("StackV2", [max_size], {"elem_type": _dt.as_dtype(elem_type), "stack_name": stack_name},
                    name=name).outputs[0]


def stack_push_v2(handle, elem, swap_memory: bool = False, name: str | None = None) -> _ops.Tensor:
    """Pushes `elem` on the stack of `handle`; returns `elem`."""
    return apply_op("StackPushV2", [handle, elem], {"swap_memory": swap_memory}, name=name).outputs[0]


def stack_pop_v2(handle, elem_type, name: str | None = None) -> _ops.Tensor:
    """The top element of the stack of `handle`, removed from it."""
    return apply_op("StackPopV2", [handle], {"elem_type": _dt.as_dtype(elem_type)}, name=name).outputs[0]


def stack_close_v2(handle, name: str | None = None) -> _ops.Operation:
    """Closes the stack of `handle`."""
    return apply_op("StackCloseV2", [handle], name=name)


# ----------------------------------------------------------------------------------------------------------
# ControlTrigger
# ----------------------------------------------------------------------------------------------------------
# TF1's gradient loops synchronize their stack pops with a ControlTrigger (the `b_sync` node), which in TF runs
# even when its control inputs are dead. tfmini has no dead tensors (TF1 control flow becomes functional
# If/While at import), so it is a plain stateful no-op; it lives here, beside the stacks it accompanies.
@register_op("ControlTrigger", stateful=True)
def _control_trigger():
    """Does nothing; used for its control inputs."""


NotDifferentiable("ControlTrigger")


def control_trigger(name: str | None = None) -> _ops.Operation:
    """An op that does nothing, run for its control inputs."""
    return apply_op("ControlTrigger", [], name=name)
