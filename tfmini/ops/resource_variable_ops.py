"""Resource variables: TF's resource-handle ops (VarHandleOp, ReadVariableOp, AssignVariableOp, ...,
ResourceGather, ResourceScatter*) and `ResourceVariable`, the variable `use_resource=True` creates.

A VarHandleOp's output is the session's storage cell for its (container, shared_name); the cell lives in
the session state, never in the graph. Updates install a new array instead of writing into the stored one,
so a value ReadVariableOp handed out is a snapshot that later updates do not change (TF's semantics).
The training ops' resource forms (ResourceApply*) are declared beside their ref forms in state_ops.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _reg
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.indexed_slices import IndexedSlices
from tfmini.framework.registry import NotDifferentiable, RegisterGradient, apply_op, register_op
from tfmini.ops import array_ops, control_flow_ops, shape_fns, state_ops
from tfmini.ops.variables import (
    Variable,
    VariableAggregation,
    VariableSynchronization,
    register_resource_variable_class,
)
from tfmini.protobuf import variable_pb2

_INDEX = (_dt.int32, _dt.int64)
_array_dims = state_ops._array_dims


# ----------------------------------------------------------------------------------------------------------
# The handle and plain reads and writes
# ----------------------------------------------------------------------------------------------------------
def _resource_key(op: _ops.Operation) -> tuple[str, str]:
    """(session-state key, variable name): TF names the resource by its shared_name, or by the op's name
    when that is empty. ':' cannot occur in op names, so these keys never meet a ref variable's."""
    name = op.get_attr("shared_name") or op.name
    return f"resource:{op.get_attr('container')}:{name}", name


_RESOURCE_CELL_TYPES: dict[type, type] = {}


def _resource_cell_type(cell_type: type) -> type:
    """`cell_type` (the session's storage cell class) with a `container` slot: the container TF's messages
    name for the variable, known only when the session makes the cell."""
    found = _RESOURCE_CELL_TYPES.get(cell_type)
    if found is None:
        found = _RESOURCE_CELL_TYPES[cell_type] = type(
            f"Resource{cell_type.__name__}", (cell_type,),
            {"__slots__": ("container", "container_exists"), "__module__": __name__, "__doc__": cell_type.__doc__})
    return found


def _cell_container(cell, default: str) -> str | None:
    """The container of what a storage cell holds: a resource variable's, a ref variable's (its op's
    container attr, else the task's default), None for cells of other ops."""
    container = getattr(cell, "container", None)
    if container is not None:
        return container
    op = getattr(cell, "op", None)
    if op is not None and op.type in ("VariableV2", "Variable"):
        return op.get_attr("container") or default
    return None


def _container_check(cells, container: str, default: str) -> Callable[[], bool]:
    """Whether `container` holds anything yet (TF's resource manager makes a container with its first
    resource): a variable in it that has been assigned."""
    def container_exists() -> bool:
        return any(getattr(c, "initialized", False) and _cell_container(c, default) == container
                   for c in list(cells.values()))

    return container_exists


def _default_container(ctx) -> str:
    """The default container of the task whose state `ctx` is: its job's name on a worker of a cluster,
    'localhost' for a local session (as TF names a device's resource manager's default container)."""
    return getattr(getattr(ctx, "worker", None), "default_container", None) or "localhost"


def _var_handle_factory(op, ctx):
    key, name = _resource_key(op)
    cells = ctx.cells
    # The cell class is the session's own (the one its ref variables use), found through a cell it makes.
    cell_type = _resource_cell_type(type(ctx.cell(op)))
    ctx.cells.pop(op.name, None)
    default = _default_container(ctx)
    container = op.get_attr("container") or default
    container_exists = _container_check(cells, container, default)

    def var_handle():
        cell = cells.get(key)
        if cell is None:
            with ctx.lock:
                cell = cells.get(key)
                if cell is None:
                    cell = cell_type(name, op)
                    cell.container = container
                    cell.container_exists = container_exists
                    cells[key] = cell
        return cell

    return var_handle


register_op(
    "VarHandleOp",
    outputs=["resource: resource"],
    attrs={"container": ("string", ""), "shared_name": ("string", ""), "debug_name": ("string", ""),
           "dtype": ("type", _reg.REQUIRED),
           "shape": ("shape", _reg.REQUIRED), "allowed_devices": ("list(string)", [])},
    shape=shape_fns.scalar,
    stateful=True,
    factory=_var_handle_factory,
    doc="A handle to the resource variable named by `container` and `shared_name` (the op's name if empty).",
)


def _initialized(cell):
    if not cell.initialized:
        raise state_ops.uninitialized_resource(cell)
    return cell.base


def _read_shape(op):
    return state_ops.handle_shape(op.inputs[0])


@register_op("ReadVariableOp", inputs=["resource: resource"], outputs=["value: dtype"], shape=_read_shape,
             stateful=True)
def _read_variable(cell, *, dtype):
    """The variable's current value: a read-only array that later updates leave as it is."""
    _initialized(cell)
    state_ops.check_resource_dtype(cell, dtype.as_numpy_dtype)
    return cell.value


@RegisterGradient("ReadVariableOp")
def _read_variable_grad(op, grad):
    return grad


def _assign_variable_factory(op, ctx):
    dtype = op.get_attr("dtype").as_numpy_dtype
    validate = op.get_attr("validate_shape")

    def assign_variable(cell, value):
        if cell.initialized:
            state_ops.check_resource_dtype(cell, dtype, assigning=True)
            if validate and cell.base.shape != np.shape(value):
                raise _errors.InvalidArgumentError(
                    None, None, f"Trying to assign to variable with tensor with wrong shape. Expected "
                    f"{_array_dims(cell.base.shape)} got {_array_dims(np.shape(value))}")
        # A private copy: the value may be an array the caller still holds.
        cell.value = np.asarray(value, dtype=dtype)

    return assign_variable


register_op(
    "AssignVariableOp",
    inputs=["resource: resource", "value: dtype"],
    attrs={"validate_shape": ("bool", False)},
    shape=lambda op: [],
    stateful=True,
    factory=_assign_variable_factory,
    doc="Stores a copy of `value` as the resource variable's value (creating the variable if needed).",
)


def _assign_update_factory(ufunc: Callable) -> Callable:
    def factory(op, ctx):
        dtype = op.get_attr("dtype").as_numpy_dtype

        def assign_update(cell, value):
            with cell.lock:
                base = _initialized(cell)
                state_ops.check_resource_dtype(cell, dtype)
                if base.shape != np.shape(value):
                    raise _errors.InvalidArgumentError(
                        None, None, f"Cannot update variable with shape {_array_dims(base.shape)} using a Tensor "
                        f"with shape {_array_dims(np.shape(value))}, shapes must be equal.")
                cell.set_base(np.asarray(ufunc(base, value), dtype=dtype))

        return assign_update

    return factory


for _name, _ufunc in (("AssignAddVariableOp", np.add), ("AssignSubVariableOp", np.subtract)):
    register_op(
        _name,
        inputs=["resource: resource", "value: dtype"],
        shape=lambda op: [],
        stateful=True,
        factory=_assign_update_factory(_ufunc),
        doc=f"Sets the resource variable to {_ufunc.__name__}(variable, value).",
    )


@register_op("VarIsInitializedOp", inputs=["resource: resource"], outputs=["is_initialized: bool"],
             shape=shape_fns.scalar, stateful=True)
def _var_is_initialized(cell):
    """Whether the resource variable holds a value."""
    return np.bool_(cell.initialized)


@register_op("DisableCopyOnRead", inputs=["resource: resource"], stateful=True)
def _disable_copy_on_read(cell):
    """Nothing to do: TF stops copying a variable's buffer for reads that may alias it (TF2 SavedModels' save
    functions run it); here every update installs a new array, so no read is ever changed by one."""


@register_op("VariableShape", inputs=["input: resource"], outputs=["output: out_type"],
             attrs={"out_type": ("type", _dt.int32)}, allowed={"out_type": _INDEX},
             shape=lambda op: _shape.TensorShape([state_ops.handle_shape(op.inputs[0]).ndims]), stateful=True)
def _variable_shape(cell, *, out_type):
    """The resource variable's shape as a 1-D tensor."""
    return np.array(_initialized(cell).shape, dtype=out_type.as_numpy_dtype)


def _destroy_factory(op, ctx):
    ignore = op.get_attr("ignore_lookup_error")

    def destroy(cell):
        # The handle's cell exists from the handle on; the variable exists once something was assigned to it.
        if not cell.initialized and not ignore:
            raise _errors.NotFoundError(None, None, state_ops.missing_resource_message(cell, looking_up=False))
        key, _ = _resource_key(cell.op)
        with ctx.lock:
            ctx.cells.pop(key, None)

    return destroy


register_op(
    "DestroyResourceOp",
    inputs=["resource: resource"],
    attrs={"ignore_lookup_error": ("bool", True)},
    shape=lambda op: [],
    stateful=True,
    factory=_destroy_factory,
    doc="Deletes the resource variable from the session; the next use of its handle finds a new, empty one.",
)


# ----------------------------------------------------------------------------------------------------------
# Sparse reads and updates
# ----------------------------------------------------------------------------------------------------------
def _gather_shape(op):
    params = state_ops.handle_shape(op.inputs[0])
    if params.ndims is None:
        return _shape.unknown_shape()
    return op.inputs[1].shape.concatenate(_shape.TensorShape(params.as_list()[1:]))


def _check_rows(indices, n: int) -> None:
    flat = np.reshape(indices, -1)
    bad = (flat < 0) | (flat >= n)
    if bad.any():
        i = int(np.argmax(bad))
        raise _errors.InvalidArgumentError(None, None, f"indices[{i}] = {flat[i]} is not in [0, {n})")


@register_op("ResourceGather", inputs=["resource: resource", "indices: Tindices"], outputs=["output: dtype"],
             attrs={"batch_dims": ("int", 0), "validate_indices": ("bool", True)}, allowed={"Tindices": _INDEX},
             shape=_gather_shape, stateful=True)
def _resource_gather(cell, indices, *, dtype, batch_dims):
    """Rows `indices` of the resource variable."""
    base = _initialized(cell)
    state_ops.check_resource_dtype(cell, dtype.as_numpy_dtype)
    if batch_dims != 0:
        raise _errors.UnimplementedError(None, None, "ResourceGather: batch_dims other than 0 is not supported")
    if base.ndim == 0:
        raise _errors.InvalidArgumentError(None, None, "params must be at least 1 dimensional")
    _check_rows(indices, base.shape[0])
    return np.take(base, indices, axis=0)


@RegisterGradient("ResourceGather")
def _resource_gather_grad(op, grad):
    """The gradient with respect to the handle is sparse: IndexedSlices of the variable's shape."""
    handle, indices = op.inputs
    params_shape = apply_op("VariableShape", [handle]).outputs[0]
    size = array_ops.expand_dims(array_ops.size(indices), 0)
    values_shape = array_ops.concat([size, params_shape[1:]], 0)
    values = array_ops.reshape(grad, values_shape)
    indices = array_ops.reshape(indices, size)
    return IndexedSlices(values, indices, params_shape), None


_RESOURCE_SCATTERS = {
    "ResourceScatterUpdate": (state_ops._scatter_set, _dt.ALL_TYPES),
    "ResourceScatterAdd": (np.add.at, _dt.NUMBER),
    "ResourceScatterSub": (np.subtract.at, _dt.NUMBER),
    "ResourceScatterMul": (np.multiply.at, _dt.NUMBER),
    "ResourceScatterDiv": (state_ops._scatter_divide, _dt.NUMBER),
    "ResourceScatterMin": (np.minimum.at, _dt.REAL),
    "ResourceScatterMax": (np.maximum.at, _dt.REAL),
}


def _scatter_factory(update: Callable) -> Callable:
    def factory(op, ctx):
        dtype = op.get_attr("dtype").as_numpy_dtype

        def scatter(cell, indices, updates):
            with cell.lock:
                base = _initialized(cell)
                state_ops.check_resource_dtype(cell, dtype)
                if base.ndim == 0:
                    raise _errors.InvalidArgumentError(None, None, "params must be at least 1 dimensional")
                if np.ndim(updates) and np.shape(updates) != np.shape(indices) + base.shape[1:]:
                    raise _errors.InvalidArgumentError(
                        None, None, "Must have updates.shape = indices.shape + params.shape[1:] or updates.shape = "
                        f"[], got updates.shape {_array_dims(np.shape(updates))}, indices.shape "
                        f"{_array_dims(np.shape(indices))}, params.shape {_array_dims(base.shape)}")
                _check_rows(indices, base.shape[0])
                work = base.copy()
                update(work, indices, updates)
                cell.set_base(work)

        return scatter

    return factory


def _resource_scatter_shape(op):
    return []


for _name, (_update, _allowed) in _RESOURCE_SCATTERS.items():
    register_op(
        _name,
        inputs=["resource: resource", "indices: Tindices", "updates: dtype"],
        allowed={"dtype": _allowed, "Tindices": _INDEX},
        shape=_resource_scatter_shape,
        stateful=True,
        factory=_scatter_factory(_update),
        doc="Updates the rows of the resource variable named by `indices`.",
    )

for _name in ["VarHandleOp", "AssignVariableOp", "AssignAddVariableOp", "AssignSubVariableOp", "VarIsInitializedOp",
              "VariableShape", "DestroyResourceOp", "DisableCopyOnRead", *_RESOURCE_SCATTERS]:
    NotDifferentiable(_name)


# ----------------------------------------------------------------------------------------------------------
# Op wrappers (tf.raw_ops-style, TF's gen_resource_variable_ops names)
# ----------------------------------------------------------------------------------------------------------
def var_handle_op(dtype, shape, container: str = "", shared_name: str = "", allowed_devices=(),
                  name=None) -> _ops.Tensor:
    attrs = {"dtype": _dt.as_dtype(dtype).base_dtype, "shape": _shape.as_shape(shape), "container": container,
             "shared_name": shared_name, "allowed_devices": list(allowed_devices)}
    return apply_op("VarHandleOp", [], attrs, name=name).outputs[0]


def read_variable_op(resource, dtype, name=None) -> _ops.Tensor:
    return apply_op("ReadVariableOp", [resource], {"dtype": _dt.as_dtype(dtype)}, name=name).outputs[0]


def assign_variable_op(resource, value, name=None) -> _ops.Operation:
    return apply_op("AssignVariableOp", [resource, value], name=name)


def assign_add_variable_op(resource, value, name=None) -> _ops.Operation:
    return apply_op("AssignAddVariableOp", [resource, value], name=name)


def assign_sub_variable_op(resource, value, name=None) -> _ops.Operation:
    return apply_op("AssignSubVariableOp", [resource, value], name=name)


def var_is_initialized_op(resource, name=None) -> _ops.Tensor:
    return apply_op("VarIsInitializedOp", [resource], name=name).outputs[0]


def variable_shape(input, out_type=_dt.int32, name=None) -> _ops.Tensor:  # noqa: A002 - TF's argument name
    return apply_op("VariableShape", [input], {"out_type": _dt.as_dtype(out_type)}, name=name).outputs[0]


def destroy_resource_op(resource, ignore_lookup_error: bool = True, name=None) -> _ops.Operation:
    return apply_op("DestroyResourceOp", [resource], {"ignore_lookup_error": bool(ignore_lookup_error)}, name=name)


def resource_gather(resource, indices, dtype, batch_dims: int = 0, validate_indices: bool = True,
                    name=None) -> _ops.Tensor:
    attrs = {"dtype": _dt.as_dtype(dtype), "batch_dims": int(batch_dims), "validate_indices": bool(validate_indices)}
    return apply_op("ResourceGather", [resource, indices], attrs, name=name).outputs[0]


def _resource_scatter(op_type: str):
    def scatter(resource, indices, updates, name=None) -> _ops.Operation:
        return apply_op(op_type, [resource, indices, updates], name=name)

    scatter.__name__ = "resource_scatter_" + op_type[len("ResourceScatter"):].lower()
    scatter.__doc__ = f"The {op_type} op: updates the rows `indices` of the resource variable."
    return scatter


resource_scatter_update = _resource_scatter("ResourceScatterUpdate")
resource_scatter_add = _resource_scatter("ResourceScatterAdd")
resource_scatter_sub = _resource_scatter("ResourceScatterSub")
resource_scatter_mul = _resource_scatter("ResourceScatterMul")
resource_scatter_div = _resource_scatter("ResourceScatterDiv")
resource_scatter_min = _resource_scatter("ResourceScatterMin")
resource_scatter_max = _resource_scatter("ResourceScatterMax")


def is_resource_variable(var) -> bool:
    """Whether `var` is a resource variable (TF's test, used by optimizers and savers)."""
    return isinstance(var, ResourceVariable)


# ----------------------------------------------------------------------------------------------------------
# ResourceVariable
# ----------------------------------------------------------------------------------------------------------
class ResourceVariable(Variable):
    """A variable held through a resource handle (`tf.Variable(..., use_resource=True)`).

    Its graph: a VarHandleOp named like the variable, `<name>/IsInitialized/VarIsInitializedOp`,
    `<name>/Assign` (the initializer, an AssignVariableOp) and `<name>/Read/ReadVariableOp` (the graph
    element). Every use as a tensor reads the value anew where it is used, so reads see the updates
    that their control dependencies ordered before them.
    """

    def __init__(self, initial_value=None, trainable=None, collections=None, validate_shape: bool = True,
                 caching_device=None, name=None, dtype=None, variable_def=None, import_scope=None,
                 constraint=None, distribute_strategy=None, synchronization=VariableSynchronization.AUTO,
                 aggregation=VariableAggregation.NONE, shape=None) -> None:
        if variable_def is not None:
            if initial_value is not None:
                raise ValueError("variable_def and initial_value are mutually exclusive.")
            self._init_from_resource_proto(variable_def, import_scope)
            return
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        collections, trainable = self._check_args(trainable, collections, constraint, synchronization, aggregation,
                                                  name)
        self._caching_device = caching_device
        dtype = None if dtype is None else _dt.as_dtype(dtype).base_dtype
        init_from_fn = callable(initial_value)
        with _ops.init_scope():
            graph = _ops.get_default_graph()
            with _ops.name_scope(name, "Variable", [] if init_from_fn else [initial_value]) as scope:
                handle_name = scope[:-1] if scope.endswith("/") else scope
                # The initial value is built on no device, the initializing assignment and the first read
                # on the handle's device, as TF places them.
                with graph.name_scope("Initializer"), graph.device(None):
                    value = initial_value() if init_from_fn else initial_value
                    self._initial_value = _ops.convert_to_tensor(value, name="initial_value", dtype=dtype)
                if validate_shape and not self._initial_value.shape.is_fully_defined():
                    raise ValueError(f"initial_value must have a shape specified: {self._initial_value}")
                var_shape = self._variable_shape(shape, validate_shape)
                self._dtype = self._initial_value.dtype.base_dtype
                self._handle = var_handle_op(self._dtype, var_shape, shared_name=handle_name, name=scope)
                with graph.name_scope("IsInitialized"):
                    self._is_initialized_op = var_is_initialized_op(self._handle)
                with graph.name_scope("Assign") as assign_scope, graph.colocate_with(None, ignore_existing=True), \
                        graph.device(self._handle.device):
                    self._initializer_op = assign_variable_op(self._handle, self._initial_value,
                                                              name=assign_scope)
                with graph.name_scope("Read"), graph.device(self._handle.device):
                    self._graph_element = read_variable_op(self._handle, self._dtype)
            graph.add_to_collections(collections, self)

    def _check_args(self, trainable, collections, constraint, synchronization, aggregation, name):
        """Variable's argument checks and defaults; sets the attributes they decide."""
        if not isinstance(synchronization, VariableSynchronization):
            synchronization = VariableSynchronization(synchronization)
        if not isinstance(aggregation, VariableAggregation):
            aggregation = VariableAggregation(aggregation)
        if trainable is None:
            trainable = synchronization != VariableSynchronization.ON_READ
        elif trainable and synchronization == VariableSynchronization.ON_READ:
            raise ValueError(
                f"Synchronization value can be set to VariableSynchronization.ON_READ only for non-trainable "
                f"variables. You have specified trainable=True and synchronization=VariableSynchronization."
                f"ON_READ for variable {name}."
            )
        if collections is None:
            collections = [_ops.GraphKeys.GLOBAL_VARIABLES]
        if not isinstance(collections, (list, tuple, set)):
            raise ValueError(
                f"collections argument to Variable constructor must be a list, tuple, or set. Got {collections} "
                f"of type {type(collections)}"
            )
        if constraint is not None and not callable(constraint):
            raise ValueError("The `constraint` argument must be a callable.")
        if trainable and _ops.GraphKeys.TRAINABLE_VARIABLES not in collections:
            collections = list(collections) + [_ops.GraphKeys.TRAINABLE_VARIABLES]
        self._trainable = bool(trainable)
        self._constraint = constraint
        self._synchronization = synchronization
        self._aggregation = aggregation
        return collections, trainable

    def _init_from_resource_proto(self, variable_def, import_scope: str | None) -> None:
        if isinstance(variable_def, (bytes, bytearray)):
            variable_def = variable_pb2.VariableDef.FromString(bytes(variable_def))
        if not variable_def.is_resource:
            raise ValueError("Trying to restore Variable as ResourceVariable.")
        graph = _ops.get_default_graph()

        def element(name):
            return graph.as_graph_element(_ops.prepend_name_scope(name, import_scope))

        self._handle = element(variable_def.variable_name)
        self._dtype = self._handle.op.get_attr("dtype")
        self._initializer_op = element(variable_def.initializer_name)
        self._initial_value = element(variable_def.initial_value_name) if variable_def.initial_value_name else None
        self._graph_element = element(variable_def.snapshot_name) if variable_def.snapshot_name else None
        self._is_initialized_op = None
        self._trainable = variable_def.trainable
        self._constraint = None
        self._caching_device = None
        self._synchronization = VariableSynchronization(variable_def.synchronization)
        self._aggregation = VariableAggregation(variable_def.aggregation)
        self._save_slice_info_from_proto(variable_def, import_scope)

    def to_proto(self, export_scope: str | None = None):
        """This variable as a `VariableDef` with `is_resource` set (None outside `export_scope`)."""
        if not _ops.in_name_scope(self.name, export_scope):
            return None
        vd = variable_pb2.VariableDef(
            variable_name=_ops.strip_name_scope(self._handle.name, export_scope),
            initializer_name=_ops.strip_name_scope(self._initializer_op.name, export_scope),
            is_resource=True,
            trainable=self.trainable,
            synchronization=self._synchronization.value,
            aggregation=self._aggregation.value,
        )
        if self._graph_element is not None:
            vd.snapshot_name = _ops.strip_name_scope(self._graph_element.name, export_scope)
        if self._initial_value is not None:
            vd.initial_value_name = _ops.strip_name_scope(self._initial_value.name, export_scope)
        self._save_slice_info_to_proto(vd, export_scope)
        return vd

    @staticmethod
    def from_proto(variable_def, import_scope: str | None = None) -> ResourceVariable:
        return ResourceVariable(variable_def=variable_def, import_scope=import_scope)

    # -- properties ------------------------------------------------------------
    @property
    def handle(self) -> _ops.Tensor:
        """The resource tensor (the VarHandleOp's output)."""
        return self._handle

    @property
    def name(self) -> str:
        return self._handle.name

    @property
    def op(self) -> _ops.Operation:
        return self._handle.op

    @property
    def graph(self) -> _ops.Graph:
        return self._handle.graph

    @property
    def device(self) -> str:
        return self._handle.device

    @property
    def dtype(self) -> _dt.DType:
        """The value dtype (resource variables have no ref dtypes)."""
        return self._dtype

    @property
    def shape(self) -> _shape.TensorShape:
        return self._handle.op.get_attr("shape")

    def get_shape(self) -> _shape.TensorShape:
        return self.shape

    @property
    def create(self) -> _ops.Operation:
        return self._initializer_op

    # -- reading ---------------------------------------------------------------
    def _read_variable_op(self) -> _ops.Tensor:
        return read_variable_op(self._handle, self._dtype)

    def value(self) -> _ops.Tensor:
        """A new read of the variable's value, on the handle's device whatever the device scopes and
        colocations in effect say (TF 1.15's placement)."""
        with _ops.colocate_with(None, ignore_existing=True), _ops.device(self._handle.device):
            return self._read_variable_op()

    def read_value(self) -> _ops.Tensor:
        """An Identity of a new read, under `Read/`: the value at this point of the graph. The read sits on
        the handle's device, the Identity where the device scopes put it."""
        with _ops.name_scope("Read"), _ops.device(self._handle.device):
            value = self._read_variable_op()
        return array_ops.identity(value)

    def sparse_read(self, indices, name=None) -> _ops.Tensor:
        """Rows `indices` of the value (ResourceGather, whose gradient is IndexedSlices)."""
        with _ops.name_scope("Gather" if name is None else name) as scope:
            return resource_gather(self._handle, indices, self._dtype, name=scope)

    def _ref(self) -> _ops.Tensor:
        return self._handle

    ref = _ref

    def _as_graph_element(self) -> _ops.Tensor:
        return self._graph_element

    def is_initialized(self, name=None) -> _ops.Tensor:
        return var_is_initialized_op(self._handle, name=name)

    def initialized_value(self) -> _ops.Tensor:
        with _ops.init_scope():
            return control_flow_ops.cond(self.is_initialized(), self.read_value, lambda: self.initial_value)

    def eval(self, session=None):
        return self._graph_element.eval(session=session)

    def load(self, value, session=None) -> None:
        session = session or _ops.get_default_session()
        if session is None:
            raise ValueError("Either session argument should be provided or default session should be established")
        session.run(self._initializer_op, {self._initializer_op.inputs[1]: value})

    def count_up_to(self, limit) -> _ops.Tensor:
        """The value before incrementing it (ResourceCountUpTo); OutOfRangeError once it reached `limit`."""
        return apply_op("ResourceCountUpTo", [self._handle], {"limit": int(limit), "T": self._dtype}).outputs[0]

    # -- updating --------------------------------------------------------------
    def _lazy_read(self, update: _ops.Operation, read_value: bool):
        """The value after `update` (a read that depends on it), or the update op itself."""
        if not read_value:
            return update
        with _ops.control_dependencies([update]):
            return self._read_variable_op()

    def assign(self, value, use_locking=None, name=None, read_value: bool = True):
        """An AssignVariableOp of `value`; returns a read after it (or the op, with `read_value=False`)."""
        with _ops.name_scope("Assign" if name is None else name) as scope:
            value = _ops.convert_to_tensor(value, dtype=self._dtype, name="value")
            self.shape.assert_is_compatible_with(value.shape)
            op = assign_variable_op(self._handle, value, name=scope)
        return self._lazy_read(op, read_value)

    def assign_add(self, delta, use_locking=None, name=None, read_value: bool = True):
        with _ops.name_scope("AssignAddVariableOp" if name is None else name) as scope:
            op = assign_add_variable_op(self._handle, _ops.convert_to_tensor(delta, dtype=self._dtype),
                                        name=scope)
        return self._lazy_read(op, read_value)

    def assign_sub(self, delta, use_locking=None, name=None, read_value: bool = True):
        with _ops.name_scope("AssignSubVariableOp" if name is None else name) as scope:
            op = assign_sub_variable_op(self._handle, _ops.convert_to_tensor(delta, dtype=self._dtype),
                                        name=scope)
        return self._lazy_read(op, read_value)

    def _scatter_op(self, wrapper: Callable, sparse_delta, name):
        if not isinstance(sparse_delta, IndexedSlices):
            raise TypeError(f"sparse_delta is not IndexedSlices: {sparse_delta}")
        values = _ops.convert_to_tensor(sparse_delta.values, dtype=self._dtype)
        return self._lazy_read(wrapper(self._handle, sparse_delta.indices, values, name=name), True)

    def scatter_update(self, sparse_delta, use_locking: bool = False, name=None):
        return self._scatter_op(resource_scatter_update, sparse_delta, name)

    def scatter_add(self, sparse_delta, use_locking: bool = False, name=None):
        return self._scatter_op(resource_scatter_add, sparse_delta, name)

    def scatter_sub(self, sparse_delta, use_locking: bool = False, name=None):
        return self._scatter_op(resource_scatter_sub, sparse_delta, name)

    def scatter_mul(self, sparse_delta, use_locking: bool = False, name=None):
        return self._scatter_op(resource_scatter_mul, sparse_delta, name)

    def scatter_div(self, sparse_delta, use_locking: bool = False, name=None):
        return self._scatter_op(resource_scatter_div, sparse_delta, name)

    def scatter_min(self, sparse_delta, use_locking: bool = False, name=None):
        return self._scatter_op(resource_scatter_min, sparse_delta, name)

    def scatter_max(self, sparse_delta, use_locking: bool = False, name=None):
        return self._scatter_op(resource_scatter_max, sparse_delta, name)

    def _strided_slice_assign(self, begin, end, strides, value, name, begin_mask, end_mask, ellipsis_mask,
                              new_axis_mask, shrink_axis_mask) -> _ops.Tensor:
        """`v[...].assign(value)`: a ResourceStridedSliceAssign, then a read of the whole variable after it."""
        attrs = {"begin_mask": begin_mask, "end_mask": end_mask, "ellipsis_mask": ellipsis_mask,
                 "new_axis_mask": new_axis_mask, "shrink_axis_mask": shrink_axis_mask}
        value = _ops.convert_to_tensor(value, dtype=self._dtype)
        op = apply_op("ResourceStridedSliceAssign", [self._handle, begin, end, strides, value], attrs, name=name)
        return self._lazy_read(op, True)

    def __repr__(self) -> str:
        return f"<tf.Variable '{self.name}' shape={self.shape} dtype={self.dtype.name}>"

    @staticmethod
    def _tensor_conversion(v: ResourceVariable, dtype=None, name=None, as_ref: bool = False) -> _ops.Tensor:
        if dtype is not None and not dtype.is_compatible_with(v.dtype):
            raise ValueError(
                f"Incompatible type conversion requested to type '{dtype.name}' for variable of type "
                f"'{v.dtype.name}'"
            )
        return v._handle if as_ref else v.value()


_ops.register_tensor_conversion_function(ResourceVariable, ResourceVariable._tensor_conversion)
register_resource_variable_class(ResourceVariable)
