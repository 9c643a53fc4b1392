"""Gradient accumulators: `tf.ConditionalAccumulator` and its base `tf.ConditionalAccumulatorBase`, the
run-time accumulator a session keeps, and its ops in TF's two forms (a Ref(string) handle: ConditionalAccumulator,
AccumulatorApplyGradient, AccumulatorTakeGradient; a resource handle: ResourceConditionalAccumulator,
ResourceAccumulator*), with the count and global-step ops every accumulator (dense or sparse) shares.

An accumulator adds up the gradients of one global step: a gradient computed at a local step older than the
accumulator's global step is dropped; a take waits until enough gradients arrived (honouring the run's deadline
and the session's close), hands out their sum or mean and starts the next step. Accumulators live in the
session's resources under (container, name): accumulators given a shared_name are one accumulator for every
op naming it."""

from __future__ import annotations

import collections
import itertools
import threading
from collections.abc import Callable

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.registry import NotDifferentiable, apply_op, register_op
from tfmini.ops import math_ops, shape_fns

# How often a blocked take wakes to check the run's deadline and cancellation (an apply wakes it at once).
_POLL_SECONDS = 0.02
# Resource names of unshared accumulators, "_<n>_<op name>", numbered per process (as queues are).
_accumulator_ids = itertools.count()
# The dtypes TF's accumulator kernels are registered for (the op defs allow every number type).
_KERNEL_DTYPES = (_dt.float16, _dt.float32, _dt.float64)


def _invalid(msg: str) -> _errors.InvalidArgumentError:
    return _errors.InvalidArgumentError(None, None, msg)


def _attr_text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _partial_shape_str(shape: _shape.TensorShape) -> str:
    """A possibly partial shape as TF's messages print it: [2,?], or <unknown> for an unknown rank."""
    return "<unknown>" if shape.ndims is None else _shape.dims_str(shape)


class AccumulatorResource:
    """What every accumulator keeps in a session: its global step, how many gradients the current step has,
    and the takes waiting for them (served in arrival order, as TF serves them). Subclasses hold the aggregate:
    `_add(...)` adds a gradient, `_aggregate()` returns the result of a take, `_reset()` empties it."""

    def __init__(self, name: str, dtype: _dt.DType, shape: _shape.TensorShape, reduction_type: str) -> None:
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.reduction_type = reduction_type
        self.global_step = 0
        self.count = 0
        self._cond = threading.Condition()
        self._cancelled = False
        self._takers: collections.deque = collections.deque()
        self._reset()

    def _reset(self) -> None:
        raise NotImplementedError

    def _aggregate(self):
        raise NotImplementedError

    def cancel(self) -> None:
        """The session is closing: a waiting take (and every later one) ends with CancelledError."""
        with self._cond:
            self._cancelled = True
            self._cond.notify_all()

    def set_global_step(self, step: int) -> None:
        with self._cond:
            self.global_step = step  # TF accepts a smaller step too (it only logs a warning)

    def apply(self, local_step: int, gradient) -> None:
        """Adds `gradient` (checked by `_add`) unless it was computed at a step older than the global step:
        TF drops a stale gradient without looking at it."""
        with self._cond:
            if local_step < self.global_step:
                return
            self._add(gradient)
            self.count += 1
            self._cond.notify_all()

    def _add(self, gradient) -> None:
        raise NotImplementedError

    def take(self, op, num_required: int, check_deadline: Callable):
        """Waits until this take is the oldest waiting and `num_required` gradients arrived; returns their
        aggregate, advances the global step and starts an empty aggregate."""
        if num_required < 1:
            raise _invalid(f"Argument num_required must be positive, but was {num_required}")
        with self._cond:
            if self._cancelled:
                raise _errors.CancelledError(None, op, "TakeGrad operation was cancelled")
            token = object()
            self._takers.append(token)
            try:
                while self._takers[0] is not token or self.count < num_required:
                    self._cond.wait(_POLL_SECONDS)
                    if self._cancelled:
                        raise _errors.CancelledError(None, op, "TakeGrad operation was cancelled")
                    check_deadline(op)
                self.global_step += 1
                result = self._aggregate()
                self.count = 0
                self._reset()
                return result
            finally:
                self._takers.remove(token)
                self._cond.notify_all()


class DenseAccumulatorResource(AccumulatorResource):
    """A ConditionalAccumulator's state: the sum of the current step's gradients (all of one shape)."""

    def _reset(self) -> None:
        self._sum = None

    def _add(self, gradient: np.ndarray) -> None:
        if self._sum is not None and gradient.shape != self._sum.shape:
            raise _invalid(f"Shape mismatch: expected {_shape.dims_str(self._sum.shape)}, got "
                           f"{_shape.dims_str(gradient.shape)}")
        if not self.shape.is_compatible_with(_shape.TensorShape(list(gradient.shape))):
            raise _invalid(f"Shape mismatch: expected {_partial_shape_str(self.shape)}, got "
                           f"{_shape.dims_str(gradient.shape)}")
        # The first gradient is copied (it may be a fed array or a variable's storage, never to be written);
        # the others are added into that copy, which a take hands out and forgets.
        if self._sum is None:
            self._sum = np.array(gradient, copy=True)
        else:
            np.add(self._sum, gradient, out=self._sum)

    def _aggregate(self) -> np.ndarray:
        if self.reduction_type == "MEAN":
            return self._sum / self._sum.dtype.type(self.count)
        return self._sum


# ----------------------------------------------------------------------------------------------------------
# Creating accumulators and finding them from a handle
# ----------------------------------------------------------------------------------------------------------
def _check_kernel_dtype(op, dtype: _dt.DType) -> None:
    if dtype not in _KERNEL_DTYPES:
        attrs = ", ".join(f'{k}="{_attr_text(op.get_attr(k))}"' for k in ("container", "shared_name",
                                                                             "reduction_type"))
        raise _invalid(f"No OpKernel was registered to support Op '{op.type}' used by {{{{node {op.name}}}}} with "
                       f"these attrs: [dtype=DT_{dtype.name.upper()}, shape={_partial_shape_str(op.get_attr('shape'))}"
                       f", {attrs}]: its kernels take half, float and double")


def _find_or_create(op, ctx, make: Callable, key: tuple, name: str | None) -> AccumulatorResource:
    """The accumulator stored under `key` in the session (created by `make` on first use, named `name`, or
    "_<n>_<op name>" when None); a shared one found there must be of the kind and dtype `op` declares."""
    resource = ctx.resources.get(key)
    if resource is None:
        with ctx.lock:
            if getattr(ctx, "closed", False):
                raise _errors.CancelledError(None, op, "Session has been closed.")
            resource = ctx.resources.get(key)
            if resource is None:
                _check_kernel_dtype(op, op.get_attr("dtype"))
                name = name or f"_{next(_accumulator_ids)}_{op.name}"
                resource = ctx.resources[key] = make(name, op.get_attr("dtype"), op.get_attr("shape"),
                                                     _attr_text(op.get_attr("reduction_type")))
                return resource
    if type(resource) is not make or resource.dtype != op.get_attr("dtype"):
        raise _invalid(f"Shared accumulator '{name}' holds {resource.dtype.name} gradients of a "
                       f"{type(resource).__name__}, but {op.name} asks for {op.get_attr('dtype').name} gradients "
                       f"of a {make.__name__}")
    return resource


def accumulator_ref_factory(make: Callable) -> Callable:
    """The factory of a Ref(string) accumulator op: its output is its cell, holding the handle (container, name)
    of the session's accumulator, which `make(name, dtype, shape, reduction_type)` creates on first run."""

    def factory(op, ctx):
        cell = ctx.cell(op)
        container, shared = (_attr_text(op.get_attr(a)) for a in ("container", "shared_name"))

        def accumulator():
            if not cell.initialized:
                name = shared or f"_{next(_accumulator_ids)}_{op.name}"
                _find_or_create(op, ctx, make, ("accumulator", container, name), name)
                cell.value = np.array([container.encode(), name.encode()], dtype=object)
            return cell

        return accumulator

    return factory


def accumulator_resource_factory(make: Callable) -> Callable:
    """The factory of a resource accumulator op: its output is a handle holding the session's accumulator
    (one per op when unshared)."""

    def factory(op, ctx):
        container, shared = (_attr_text(op.get_attr(a)) for a in ("container", "shared_name"))
        key = ("accumulator", container, shared) if shared else ("accumulator", op)

        def accumulator():
            handle = np.empty((), dtype=object)
            handle[()] = _find_or_create(op, ctx, make, key, shared or None)
            return handle

        return accumulator

    return factory


def accumulator_of(ctx, handle) -> AccumulatorResource:
    """The accumulator a handle names: a resource handle holds it; a Ref(string) handle's cell holds
    (container, name)."""
    if isinstance(handle, np.ndarray):
        resource = handle.item() if handle.dtype == object and handle.ndim == 0 else None
        if isinstance(resource, AccumulatorResource):
            return resource
        raise _invalid("The handle does not refer to an accumulator.")
    container, name = (v.decode() if isinstance(v, bytes) else str(v) for v in np.asarray(handle.value))
    resource = ctx.resources.get(("accumulator", container, name))
    if resource is None:
        raise _errors.NotFoundError(None, None, f"Resource {container}/{name} of an accumulator does not exist.")
    return resource


def check_reduction_type(op) -> None:
    reduction = _attr_text(op.get_attr("reduction_type"))
    if reduction not in ("MEAN", "SUM"):
        raise ValueError(f"Attr 'reduction_type' of '{op.type}' Op passed string '{reduction}' not in: "
                         f'"MEAN", "SUM".')


def _scalar_input(value, what: str) -> int:
    if np.ndim(value) != 0:
        raise _invalid(f"Argument {what} must be scalar, but had bad shape {_shape.dims_str(np.shape(value))}")
    return int(value)


# ----------------------------------------------------------------------------------------------------------
# The ops every accumulator shares
# ----------------------------------------------------------------------------------------------------------
def _num_accumulated_factory(op, ctx):
    def num_accumulated(handle):
        return np.int32(accumulator_of(ctx, handle).count)

    return num_accumulated


def _set_global_step_factory(op, ctx):
    def set_global_step(handle, new_global_step):
        accumulator_of(ctx, handle).set_global_step(_scalar_input(new_global_step, "new_global_step"))

    return set_global_step


for _handle, _prefix in (("Ref(string)", ""), ("resource", "Resource")):
    register_op(f"{_prefix}AccumulatorNumAccumulated", inputs=[f"handle: {_handle}"],
                outputs=["num_accumulated: int32"], shape=shape_fns.scalar, stateful=True,
                factory=_num_accumulated_factory)
    register_op(f"{_prefix}AccumulatorSetGlobalStep", inputs=[f"handle: {_handle}", "new_global_step: int64"],
                shape=lambda op: [], stateful=True, factory=_set_global_step_factory)


# ----------------------------------------------------------------------------------------------------------
# The dense accumulator's ops
# ----------------------------------------------------------------------------------------------------------
def _accumulator_shape(handle_shape: _shape.TensorShape) -> Callable:
    def shape(op) -> _shape.TensorShape:
        check_reduction_type(op)
        return handle_shape

    return shape


def _apply_factory(op, ctx):
    dtype = op.get_attr("dtype")

    def apply(handle, local_step, gradient):
        accumulator = accumulator_of(ctx, handle)
        if accumulator.dtype != dtype:
            kind = "resource" if op.type.startswith("Resource") else "string_ref"
            raise _invalid(f"Signature mismatch, have: {kind}, int64, {dtype.name} expected: {kind}, int64, "
                           f"{accumulator.dtype.name}")
        accumulator.apply(_scalar_input(local_step, "local_step"), np.asarray(gradient))

    return apply


def _take_factory(op, ctx):
    dtype = op.get_attr("dtype")
    check_deadline = ctx.check_deadline

    def take(handle, num_required):
        accumulator = accumulator_of(ctx, handle)
        if accumulator.dtype != dtype:
            raise _invalid(f"Signature mismatch: the accumulator holds {accumulator.dtype.name} gradients, "
                           f"{op.name} takes {dtype.name}")
        return accumulator.take(op, _scalar_input(num_required, "num_required"), check_deadline)

    return take


_DTYPE_ATTR = {"dtype": ("type", _reg.REQUIRED)}
_ACCUMULATOR_ATTRS = {**_DTYPE_ATTR, "shape": ("shape", _reg.REQUIRED), "container": ("string", ""),
                      "shared_name": ("string", ""), "reduction_type": ("string", "MEAN")}
_NUMBER = {"dtype": _dt.NUMBER}

register_op("ConditionalAccumulator", outputs=["handle: Ref(string)"], attrs=_ACCUMULATOR_ATTRS, allowed=_NUMBER,
            shape=_accumulator_shape(_shape.TensorShape([2])), stateful=True,
            factory=accumulator_ref_factory(DenseAccumulatorResource))
register_op("ResourceConditionalAccumulator", outputs=["handle: resource"], attrs=_ACCUMULATOR_ATTRS,
            allowed=_NUMBER, shape=_accumulator_shape(_shape.scalar()), stateful=True,
            factory=accumulator_resource_factory(DenseAccumulatorResource))
for _handle, _prefix in (("Ref(string)", ""), ("resource", "Resource")):
    # TF marks the Ref forms stateless (their Ref input keeps them from being folded) and the resource forms
    # stateful; here both are stateful, which is what they are.
    register_op(f"{_prefix}AccumulatorApplyGradient",
                inputs=[f"handle: {_handle}", "local_step: int64", "gradient: dtype"], attrs=dict(_DTYPE_ATTR),
                allowed=_NUMBER, shape=lambda op: [], stateful=True, factory=_apply_factory)
    register_op(f"{_prefix}AccumulatorTakeGradient", inputs=[f"handle: {_handle}", "num_required: int32"],
                outputs=["average: dtype"], attrs=dict(_DTYPE_ATTR), allowed=_NUMBER,
                shape=lambda op: _shape.unknown_shape(), stateful=True, factory=_take_factory)

for _op_type in ("ConditionalAccumulator", "AccumulatorApplyGradient", "AccumulatorTakeGradient",
                 "AccumulatorNumAccumulated", "AccumulatorSetGlobalStep", "ResourceConditionalAccumulator",
                 "ResourceAccumulatorApplyGradient", "ResourceAccumulatorTakeGradient",
                 "ResourceAccumulatorNumAccumulated", "ResourceAccumulatorSetGlobalStep"):
    NotDifferentiable(_op_type)


# ----------------------------------------------------------------------------------------------------------
# The Python classes
# ----------------------------------------------------------------------------------------------------------
@tf_export("ConditionalAccumulatorBase")
class ConditionalAccumulatorBase:
    """An accumulator of gradients of one global step, over the handle `accumulator_ref` a subclass made:
    counts them and sets the global step; subclasses apply and take."""

    def __init__(self, dtype, shape, accumulator_ref) -> None:
        self._dtype = _dt.as_dtype(dtype)
        self._shape = _shape.unknown_shape() if shape is None else _shape.as_shape(shape)
        self._accumulator_ref = accumulator_ref
        self._name = accumulator_ref.op.name.split("/")[-1]

    def _op_type(self, ref_type: str) -> str:
        """The op type of the form (Ref(string) or resource) this accumulator's handle has."""
        return ref_type if self._accumulator_ref.dtype.is_ref else "Resource" + ref_type

    @property
    def accumulator_ref(self) -> _ops.Tensor:
        """The accumulator's handle."""
        return self._accumulator_ref

    @property
    def name(self) -> str:
        """The name of the accumulator op (its last name-scope component)."""
        return self._name

    @property
    def dtype(self) -> _dt.DType:
        """The dtype of the gradients."""
        return self._dtype

    def num_accumulated(self, name=None) -> _ops.Tensor:
        """The number of gradients aggregated for the current step (int32)."""
        return apply_op(self._op_type("AccumulatorNumAccumulated"), [self._accumulator_ref],
                        name=name or f"{self._name}_NumAccumulated").outputs[0]

    def set_global_step(self, new_global_step, name=None) -> _ops.Operation:
        """Sets the step a gradient must be computed at (at least) to be aggregated."""
        step = math_ops.cast(_ops.convert_to_tensor(new_global_step), _dt.int64)
        return apply_op(self._op_type("AccumulatorSetGlobalStep"), [self._accumulator_ref, step], name=name)


@tf_export("ConditionalAccumulator")
class ConditionalAccumulator(ConditionalAccumulatorBase):
    """Aggregates dense gradients of one global step: `apply_grad(grad, local_step)` adds a gradient unless
    `local_step` is older than the accumulator's global step; `take_grad(n)` waits for n gradients and returns
    their mean (or sum, with reduction_type "SUM"), then advances the global step. A shared_name makes it
    one accumulator for every graph and session naming it."""

    def __init__(self, dtype, shape=None, shared_name=None, name="conditional_accumulator",
                 reduction_type="MEAN") -> None:
        shape = _shape.unknown_shape() if shape is None else _shape.as_shape(shape)
        ref = apply_op("ResourceConditionalAccumulator", [],
                       {"dtype": _dt.as_dtype(dtype), "shape": shape, "shared_name": shared_name or "",
                        "reduction_type": reduction_type}, name=name).outputs[0]
        super().__init__(dtype, shape, ref)

    def apply_grad(self, grad, local_step=0, name=None) -> _ops.Operation:
        """An op adding `grad` (of the accumulator's dtype and shape), computed at `local_step`; ValueError
        when its static shape is not the accumulator's."""
        grad = _ops.convert_to_tensor(grad, self._dtype)
        grad.get_shape().assert_is_compatible_with(self._shape)
        local_step = math_ops.cast(_ops.convert_to_tensor(local_step), _dt.int64)
        return apply_op(self._op_type("AccumulatorApplyGradient"), [self._accumulator_ref, local_step, grad],
                        name=name)

    def take_grad(self, num_required, name=None) -> _ops.Tensor:
        """The aggregate of the current step's gradients, once `num_required` arrived."""
        out = apply_op(self._op_type("AccumulatorTakeGradient"), [self._accumulator_ref, num_required],
                       {"dtype": self._dtype}, name=name).outputs[0]
        out.set_shape(self._shape)
        return out
