"""`tf.Variable` (TF1's reference variable) and the variable collections and initializers over it:
`tf.global_variables`, `tf.global_variables_initializer`, `tf.report_uninitialized_variables`, ...

A Variable is graph structure only (a VariableV2 op, its initializer Assign and a `read` snapshot); its
value lives in each session that runs it.
"""

from __future__ import annotations

import enum
import inspect
import weakref

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.constant_op import constant
from tfmini.framework.ops import GraphKeys
from tfmini.framework.registry import apply_op
from tfmini.ops import array_ops, control_flow_ops, math_ops, state_ops
from tfmini.ops.partitioned_variables import SaveSliceInfo
from tfmini.protobuf import variable_pb2


@tf_export("VariableSynchronization")
class VariableSynchronization(enum.Enum):
    """`tf.VariableSynchronization`: when a distributed variable is aggregated (recorded, not acted on)."""

    AUTO = 0
    NONE = 1
    ON_WRITE = 2
    ON_READ = 3


@tf_export("VariableAggregation")
class VariableAggregation(enum.Enum):
    """`tf.VariableAggregation`: how a distributed variable's updates are combined (recorded, not acted on)."""

    NONE = 0
    SUM = 1
    MEAN = 2
    ONLY_FIRST_REPLICA = 3
    ONLY_FIRST_TOWER = 3


# Tensor operators a Variable supports by applying them to its value (as TF1's Variable does).
_OPERATORS = (
    "__neg__", "__abs__", "__invert__", "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
    "__truediv__", "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__", "__rpow__",
    "__matmul__", "__rmatmul__", "__lt__", "__le__", "__gt__", "__ge__", "__and__", "__rand__", "__or__",
    "__ror__", "__xor__", "__rxor__",
)


# The resource-variable class and the default of `use_resource` (TF's `_DEFAULT_USE_RESOURCE`, as the current
# variable scope overrides it), registered by resource_variable_ops and variable_scope, which sit above this
# module: `tf.Variable(...)` builds a ResourceVariable when use_resource (given or by default) is true.
_RESOURCE_VARIABLE: dict[str, object] = {"class": None, "default": lambda: False}


def register_resource_variable_class(cls: type) -> None:
    _RESOURCE_VARIABLE["class"] = cls


def register_default_use_resource(fn) -> None:
    """`fn() -> bool`: whether `tf.Variable` builds resource variables when `use_resource` is None."""
    _RESOURCE_VARIABLE["default"] = fn


class _VariableMeta(type):
    """Makes `tf.Variable(...)` return a ResourceVariable when asked for one (TF's VariableMetaclass)."""

    def __call__(cls, *args, **kwargs):
        resource_cls = _RESOURCE_VARIABLE["class"]
        if cls is Variable and resource_cls is not None:
            arguments = inspect.signature(Variable.__init__).bind(None, *args, **kwargs).arguments
            variable_def = arguments.get("variable_def")
            if variable_def is not None:
                if isinstance(variable_def, (bytes, bytearray)):
                    variable_def = variable_pb2.VariableDef.FromString(bytes(variable_def))
                    arguments["variable_def"] = variable_def
                resource = variable_def.is_resource
            else:
                use_resource = arguments.get("use_resource")
                resource = _RESOURCE_VARIABLE["default"]() if use_resource is None else bool(use_resource)
            if resource:
                accepted = inspect.signature(resource_cls.__init__).parameters
                return resource_cls(**{k: v for k, v in arguments.items() if k in accepted and k != "self"})
        return super().__call__(*args, **kwargs)


@tf_export("Variable")
class Variable(metaclass=_VariableMeta):
    """`tf.Variable`: a tensor-like handle to state that persists across `Session.run` calls.

    Builds a VariableV2 op named `name`, an `Assign` of `initial_value` (the `initializer`) and a `read`
    Identity that `value()` returns; used as a Tensor, the variable stands for that snapshot.
    """

    __array_priority__ = 100
    # Where this variable sits in a larger one a checkpoint saves whole (a part of a PartitionedVariable).
    SaveSliceInfo = SaveSliceInfo
    _save_slice_info: SaveSliceInfo | None = None

    def __init__(self, initial_value=None, trainable=None, collections=None, validate_shape: bool = True,
                 caching_device=None, name=None, variable_def=None, dtype=None, expected_shape=None,
                 import_scope=None, constraint=None, use_resource=None,
                 synchronization=VariableSynchronization.AUTO, aggregation=VariableAggregation.NONE,
                 shape=None) -> None:
        if variable_def is not None:
            if initial_value is not None:
                raise ValueError("variable_def and initial_value are mutually exclusive.")
            self._init_from_proto(variable_def, import_scope)
            return
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
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
            collections = [GraphKeys.GLOBAL_VARIABLES]
        if not isinstance(collections, (list, tuple, set)):
            raise ValueError(
                f"collections argument to Variable constructor must be a list, tuple, or set. Got {collections} "
                f"of type {type(collections)}"
            )
        if constraint is not None and not callable(constraint):
            raise ValueError("The `constraint` argument must be a callable.")
        if trainable and GraphKeys.TRAINABLE_VARIABLES not in collections:
            collections = list(collections) + [GraphKeys.TRAINABLE_VARIABLES]
        self._trainable = bool(trainable)
        self._constraint = constraint
        self._synchronization = synchronization
        self._aggregation = aggregation
        self._caching_device = caching_device
        dtype = None if dtype is None else _dt.as_dtype(dtype).base_dtype
        init_from_fn = callable(initial_value)
        with _ops.init_scope():
            graph = _ops.get_default_graph()
            values = [] if init_from_fn else [initial_value]
            with _ops.name_scope(name, "Variable", values) as scope:
                if init_from_fn:
                    # Built on no device, as TF does: the variable it will initialize does not exist yet
                    # to be colocated with.
                    with graph.name_scope("Initializer"), graph.device(None):
                        self._initial_value = _ops.convert_to_tensor(initial_value(), name="initial_value",
                                                                     dtype=dtype)
                else:
                    self._initial_value = _ops.convert_to_tensor(initial_value, name="initial_value", dtype=dtype)
                if validate_shape and not self._initial_value.shape.is_fully_defined():
                    raise ValueError(f"initial_value must have a shape specified: {self._initial_value}")
                var_shape = self._variable_shape(shape, validate_shape)
                self._variable = state_ops.variable_op_v2(var_shape, self._initial_value.dtype.base_dtype,
                                                          name=scope)
                self._initializer_op = state_ops.assign(self._variable, self._initial_value,
                                                        validate_shape=validate_shape).op
                if caching_device is not None:
                    with graph.device(caching_device):
                        self._snapshot = array_ops.identity(self._variable, name="read")
                else:
                    self._snapshot = array_ops.identity(self._variable, name="read")
            graph.add_to_collections(collections, self)

    def _init_from_proto(self, variable_def, import_scope: str | None) -> None:
        """Wraps the ops a `VariableDef` names (already in the default graph, under `import_scope`)."""
        if isinstance(variable_def, (bytes, bytearray)):
            variable_def = variable_pb2.VariableDef.FromString(bytes(variable_def))
        if variable_def.is_resource:
            raise ValueError(f"Variable {variable_def.variable_name!r} is a resource variable, which tfmini does not "
                             "have; only reference (VariableV2) variables can be imported.")
        graph = _ops.get_default_graph()

        def element(name):
            return graph.as_graph_element(_ops.prepend_name_scope(name, import_scope))

        self._variable = element(variable_def.variable_name)
        self._initializer_op = element(variable_def.initializer_name)
        self._initial_value = element(variable_def.initial_value_name) if variable_def.initial_value_name else None
        self._snapshot = element(variable_def.snapshot_name)
        self._trainable = variable_def.trainable
        self._constraint = None
        self._caching_device = None
        self._synchronization = VariableSynchronization(variable_def.synchronization)
        self._aggregation = VariableAggregation(variable_def.aggregation)
        self._save_slice_info_from_proto(variable_def, import_scope)

    def _save_slice_info_from_proto(self, variable_def, import_scope: str | None) -> None:
        """Takes the slice a `VariableDef` records (its `save_slice_info_def`), if any."""
        if variable_def.HasField("save_slice_info_def"):
            self._save_slice_info = SaveSliceInfo(save_slice_info_def=variable_def.save_slice_info_def,
                                                  import_scope=import_scope)
        else:
            self._save_slice_info = None

    def _save_slice_info_to_proto(self, variable_def, export_scope: str | None) -> None:
        """Records this variable's slice (if it is one) in `variable_def`, as TF's VariableDef carries it."""
        if self._save_slice_info is not None:
            proto = self._save_slice_info.to_proto(export_scope=export_scope)
            if proto is not None:
                variable_def.save_slice_info_def.MergeFrom(proto)

    def _set_save_slice_info(self, save_slice_info: SaveSliceInfo) -> None:
        """Marks this variable as the slice `save_slice_info` describes of a variable saved whole."""
        self._save_slice_info = save_slice_info

    def _get_save_slice_info(self) -> SaveSliceInfo | None:
        return self._save_slice_info

    def to_proto(self, export_scope: str | None = None):
        """This variable as a `VariableDef`, its names relative to `export_scope` (None when the variable lies
        outside that scope), as meta graphs store it."""
        if not _ops.in_name_scope(self.name, export_scope):
            return None
        vd = variable_pb2.VariableDef(
            variable_name=_ops.strip_name_scope(self.name, export_scope),
            initializer_name=_ops.strip_name_scope(self.initializer.name, export_scope),
            snapshot_name=_ops.strip_name_scope(self._snapshot.name, export_scope),
            is_resource=False,
            trainable=self.trainable,
            synchronization=self._synchronization.value,
            aggregation=self._aggregation.value,
        )
        if self._initial_value is not None:
            vd.initial_value_name = _ops.strip_name_scope(self._initial_value.name, export_scope)
        self._save_slice_info_to_proto(vd, export_scope)
        return vd

    @staticmethod
    def from_proto(variable_def, import_scope: str | None = None) -> Variable:
        """The Variable a `VariableDef` describes, over ops already in the default graph."""
        return Variable(variable_def=variable_def, import_scope=import_scope)

    def _variable_shape(self, shape, validate_shape: bool) -> _shape.TensorShape:
        initial_shape = self._initial_value.shape
        if shape is not None:
            shape = _shape.as_shape(shape)
            if not initial_shape.is_compatible_with(shape):
                raise ValueError(
                    f"The initial value's shape ({initial_shape}) is not compatible with the explicitly supplied "
                    f"`shape` argument ({shape})."
                )
            return shape
        return initial_shape if validate_shape else _shape.unknown_shape()

    # -- properties ------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._variable.name

    @property
    def op(self) -> _ops.Operation:
        return self._variable.op

    @property
    def graph(self) -> _ops.Graph:
        return self._variable.graph

    @property
    def device(self) -> str:
        return self._variable.device

    @property
    def dtype(self) -> _dt.DType:
        """The ref dtype of the variable (e.g. float32_ref), as in TF1."""
        return self._variable.dtype

    @property
    def shape(self) -> _shape.TensorShape:
        return self._variable.shape

    def get_shape(self) -> _shape.TensorShape:
        return self._variable.shape

    @property
    def initializer(self) -> _ops.Operation:
        """The op that assigns the initial value."""
        return self._initializer_op

    @property
    def initial_value(self) -> _ops.Tensor:
        return self._initial_value

    @property
    def trainable(self) -> bool:
        return self._trainable

    @property
    def constraint(self):
        return self._constraint

    @property
    def synchronization(self) -> VariableSynchronization:
        return self._synchronization

    @property
    def aggregation(self) -> VariableAggregation:
        return self._aggregation

    # -- reading ---------------------------------------------------------------
    def value(self) -> _ops.Tensor:
        """The `read` snapshot of the variable's value (the tensor the variable stands for)."""
        return self._snapshot

    def read_value(self) -> _ops.Tensor:
        """A new Identity reading the variable where it is called (e.g. after control dependencies)."""
        return array_ops.identity(self._variable, name="read")

    def _ref(self) -> _ops.Tensor:
        """The ref-typed output of the variable op, for ops that update it."""
        return self._variable

    ref = _ref

    def _as_graph_element(self) -> _ops.Tensor:
        return self._variable

    def initialized_value(self) -> _ops.Tensor:
        """The variable's value if it is initialized, else its initial value (for initial values built from
        other variables)."""
        with _ops.init_scope():
            return control_flow_ops.cond(state_ops.is_variable_initialized(self), self.read_value,
                                         lambda: self.initial_value)

    def eval(self, session=None):
        """The variable's value in `session` (or the default session)."""
        return self._variable.eval(session=session)

    def load(self, value, session=None) -> None:
        """Stores `value` in the variable by running its initializer with the initial value replaced."""
        session = session or _ops.get_default_session()
        if session is None:
            raise ValueError("Either session argument should be provided or default session should be established")
        session.run(self._initializer_op, {self._initializer_op.inputs[1]: value})

    # -- updating --------------------------------------------------------------
    def assign(self, value, use_locking: bool = False, name=None, read_value: bool = True) -> _ops.Tensor:
        """An Assign of `value`: its ref output (or the op, with `read_value=False`)."""
        out = state_ops.assign(self._variable, value, use_locking=use_locking, name=name)
        return out if read_value else out.op

    def assign_add(self, delta, use_locking: bool = False, name=None, read_value: bool = True) -> _ops.Tensor:
        out = state_ops.assign_add(self._variable, delta, use_locking=use_locking, name=name)
        return out if read_value else out.op

    def assign_sub(self, delta, use_locking: bool = False, name=None, read_value: bool = True) -> _ops.Tensor:
        out = state_ops.assign_sub(self._variable, delta, use_locking=use_locking, name=name)
        return out if read_value else out.op

    def _scatter(self, fn, sparse_delta, use_locking, name):
        if not hasattr(sparse_delta, "indices") or not hasattr(sparse_delta, "values"):
            raise TypeError(f"sparse_delta is not IndexedSlices: {sparse_delta}")
        return fn(self._variable, sparse_delta.indices, sparse_delta.values, use_locking=use_locking, name=name)

    def scatter_update(self, sparse_delta, use_locking: bool = False, name=None) -> _ops.Tensor:
        return self._scatter(state_ops.scatter_update, sparse_delta, use_locking, name)

    def scatter_add(self, sparse_delta, use_locking: bool = False, name=None) -> _ops.Tensor:
        return self._scatter(state_ops.scatter_add, sparse_delta, use_locking, name)

    def scatter_sub(self, sparse_delta, use_locking: bool = False, name=None) -> _ops.Tensor:
        return self._scatter(state_ops.scatter_sub, sparse_delta, use_locking, name)

    def scatter_mul(self, sparse_delta, use_locking: bool = False, name=None) -> _ops.Tensor:
        return self._scatter(state_ops.scatter_mul, sparse_delta, use_locking, name)

    def count_up_to(self, limit) -> _ops.Tensor:
        return state_ops.count_up_to(self._variable, limit)

    def _strided_slice_assign(self, begin, end, strides, value, name, begin_mask, end_mask, ellipsis_mask,
                              new_axis_mask, shrink_axis_mask) -> _ops.Tensor:
        return state_ops.strided_slice_assign(
            self._variable, begin, end, strides, value, name=name, begin_mask=begin_mask, end_mask=end_mask,
            ellipsis_mask=ellipsis_mask, new_axis_mask=new_axis_mask, shrink_axis_mask=shrink_axis_mask)

    # -- Python protocol -------------------------------------------------------
    def __getitem__(self, slice_spec):
        """A slice of the value that also supports `.assign(value)` into the variable."""
        sliced = self.value()[slice_spec]
        if sliced.op.type == "StridedSlice":
            sliced.__class__ = _VariableSlice
            _SLICED_VARIABLE[sliced] = self
        return sliced

    def __iter__(self):
        raise TypeError("'Variable' object is not iterable.")

    def __repr__(self) -> str:
        return f"<tf.Variable '{self.name}' shape={self.shape} dtype={self.dtype.name}>"

    def __reduce__(self):
        raise TypeError("A tf.Variable belongs to a graph and cannot be pickled.")

    @staticmethod
    def _tensor_conversion(v: Variable, dtype=None, name=None, as_ref: bool = False) -> _ops.Tensor:
        if dtype is not None and not dtype.is_compatible_with(v.dtype):
            raise ValueError(
                f"Incompatible type conversion requested to type '{dtype.name}' for variable of type "
                f"'{v.dtype.name}'"
            )
        return v._ref() if as_ref else v.value()


_SLICED_VARIABLE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class _VariableSlice(_ops.Tensor):
    """The tensor `v[...]` returns: an ordinary slice of v's value that can also be assigned to."""

    __slots__ = ()

    def assign(self, value, name=None) -> _ops.Tensor:
        """Writes `value` into the sliced part of the variable; returns the variable's ref after the update."""
        op = self.op
        _, begin, end, strides = op.inputs
        return _SLICED_VARIABLE[self]._strided_slice_assign(
            begin, end, strides, value, name or op.name + "/_assign",
            **{k: op.get_attr(k) for k in ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
                                           "shrink_axis_mask")})


def _operator(name: str):
    def apply(self, *args):
        return getattr(_ops.Tensor, name)(self.value(), *args)

    apply.__name__ = name
    return apply


for _name in _OPERATORS:
    setattr(Variable, _name, _operator(_name))

RefVariable = Variable
VariableV1 = Variable
_ops.register_tensor_conversion_function(Variable, Variable._tensor_conversion)


# ----------------------------------------------------------------------------------------------------------
# Collections and initializers
# ----------------------------------------------------------------------------------------------------------
@tf_export("all_variables", "global_variables")
def global_variables(scope=None) -> list:
    """The variables in the GLOBAL_VARIABLES collection (filtered by `scope`, a regex on names)."""
    return _ops.get_collection(GraphKeys.GLOBAL_VARIABLES, scope)


@tf_export("local_variables")
def local_variables(scope=None) -> list:
    return _ops.get_collection(GraphKeys.LOCAL_VARIABLES, scope)


@tf_export("model_variables")
def model_variables(scope=None) -> list:
    return _ops.get_collection(GraphKeys.MODEL_VARIABLES, scope)


@tf_export("trainable_variables")
def trainable_variables(scope=None) -> list:
    return _ops.get_collection(GraphKeys.TRAINABLE_VARIABLES, scope)


@tf_export("moving_average_variables")
def moving_average_variables(scope=None) -> list:
    return _ops.get_collection(GraphKeys.MOVING_AVERAGE_VARIABLES, scope)


@tf_export("initialize_variables", "initializers.variables", "variables_initializer")
def variables_initializer(var_list, name: str = "init") -> _ops.Operation:
    """One op that runs the initializers of `var_list` (a NoOp when it is empty)."""
    if var_list:
        return control_flow_ops.group(*[v.initializer for v in var_list], name=name)
    return control_flow_ops.no_op(name=name)


@tf_export("global_variables_initializer", "initialize_all_variables", "initializers.global_variables")
def global_variables_initializer() -> _ops.Operation:
    return variables_initializer(global_variables())


@tf_export("initialize_local_variables", "initializers.local_variables", "local_variables_initializer")
def local_variables_initializer() -> _ops.Operation:
    return variables_initializer(local_variables())


def _all_variables_or_ops(var_list):
    if var_list is not None:
        return list(var_list)
    var_list = global_variables() + local_variables()
    if not var_list:
        # Variable ops built without the Variable class still count.
        graph = _ops.get_default_graph()
        var_list = [op.outputs[0] for op in graph.get_operations() if op.type == "VariableV2"]
    return var_list


@tf_export("is_variable_initialized")
def is_variable_initialized(variable) -> _ops.Tensor:
    return state_ops.is_variable_initialized(variable)


@tf_export("assert_variables_initialized")
def assert_variables_initialized(var_list=None) -> _ops.Tensor | None:
    """A tensor whose evaluation fails with FailedPreconditionError while any of `var_list` is uninitialized
    (None when there are no variables)."""
    var_list = _all_variables_or_ops(var_list)
    if not var_list:
        return None
    # Rank ops that really read each variable (tf.rank would fold a known rank into a constant).
    ranks = [apply_op("Rank", [v]).outputs[0] for v in var_list]
    return ranks[0] if len(ranks) == 1 else array_ops.stack(ranks)


@tf_export("report_uninitialized_variables")
def report_uninitialized_variables(var_list=None, name: str = "report_uninitialized_variables") -> _ops.Tensor:
    """A 1-D string tensor of the names of the variables in `var_list` not initialized in the session."""
    var_list = _all_variables_or_ops(var_list)
    with _ops.name_scope(name):
        if not var_list:
            return constant([], dtype=_dt.string)
        initialized = array_ops.stack([state_ops.is_variable_initialized(v) for v in var_list])
        names = constant([v.op.name for v in var_list])
        return array_ops.boolean_mask(names, math_ops.logical_not(initialized))


initialize_all_variables = global_variables_initializer
initialize_variables = variables_initializer
initialize_local_variables = local_variables_initializer
all_variables = global_variables
