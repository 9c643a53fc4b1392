"""`tf.variable_scope` and `tf.get_variable`: variables named by variable scope (not name scope), created
once and shared on request (`reuse=True` / `tf.AUTO_REUSE`), with scope-wide initializers and regularizers.

The variable store and the scope stack live in collections of the graph, so each graph has its own.
"""

from __future__ import annotations

import copy
import enum
import inspect
import threading
import traceback

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.func_graph import share_collection_with_functions
from tfmini.framework.ops import GraphKeys
from tfmini.ops import array_ops, init_ops, resource_variable_ops
from tfmini.ops import partitioned_variables as _pv
from tfmini.ops.variables import (
    Variable,
    VariableAggregation,
    VariableSynchronization,
    register_default_use_resource,
)

_VARSTORE_KEY = ("__variable_store",)
_VARSCOPESTORE_KEY = ("__varscope",)
# tf.get_variable inside a cond branch or loop body must find (and add to) the outer graph's variable store.
share_collection_with_functions(_VARSTORE_KEY)
share_collection_with_functions(_VARSCOPESTORE_KEY)


class _ReuseMode(enum.Enum):
    AUTO_REUSE = 1


AUTO_REUSE = _ReuseMode.AUTO_REUSE
tf_export("AUTO_REUSE").export_constant(__name__, "AUTO_REUSE")


@tf_export("no_regularizer")
def no_regularizer(_) -> None:
    """A regularizer that adds no loss (to switch off a scope's regularizer for one variable)."""
    return None


# ----------------------------------------------------------------------------------------------------------
# The variable store: name -> variable, one per graph
# ----------------------------------------------------------------------------------------------------------
def _creation_site(v: Variable) -> str:
    file, line, func = v.op.traceback
    return "".join(traceback.format_list([traceback.FrameSummary(file, line, func)]))


def _takes_no_required_args(fn) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params)


class _VariableStore:
    """The variables `get_variable` created in one graph, by full name."""

    def __init__(self) -> None:
        self._vars: dict[str, Variable] = {}
        self._partitioned_vars: dict[str, _pv.PartitionedVariable] = {}

    def get_variable(self, name, shape=None, dtype=_dt.float32, initializer=None, regularizer=None, reuse=None,
                     trainable=None, collections=None, caching_device=None, partitioner=None,
                     validate_shape=True, use_resource=None, custom_getter=None, constraint=None,
                     synchronization=VariableSynchronization.AUTO, aggregation=VariableAggregation.NONE):
        if custom_getter is not None and not callable(custom_getter):
            raise ValueError(f"Passed a custom_getter which is not callable: {custom_getter}")
        dtype = getattr(dtype, "base_dtype", dtype)
        if trainable is None:
            trainable = synchronization != VariableSynchronization.ON_READ

        def true_getter(name, shape=None, dtype=_dt.float32, initializer=None, regularizer=None, reuse=None,
                        trainable=None, collections=None, caching_device=None, partitioner=None,
                        validate_shape=True, use_resource=None, constraint=None,
                        synchronization=VariableSynchronization.AUTO, aggregation=VariableAggregation.NONE):
            # reuse=True finds a partitioned variable without its partitioner, as in TF (AUTO_REUSE does not)
            if partitioner is not None or (reuse is True and name in self._partitioned_vars):
                return self._get_partitioned_variable(
                    name, partitioner, shape=shape, dtype=dtype, initializer=initializer, regularizer=regularizer,
                    reuse=reuse, trainable=trainable, collections=collections, caching_device=caching_device,
                    validate_shape=validate_shape, use_resource=use_resource, constraint=constraint,
                    synchronization=synchronization, aggregation=aggregation)
            return self._get_single_variable(
                name, shape=shape, dtype=dtype, initializer=initializer, regularizer=regularizer, reuse=reuse,
                trainable=trainable, collections=collections, caching_device=caching_device,
                validate_shape=validate_shape, use_resource=use_resource, constraint=constraint,
                synchronization=synchronization, aggregation=aggregation)

        kwargs = dict(getter=true_getter, name=name, shape=shape, dtype=dtype, initializer=initializer,
                      regularizer=regularizer, reuse=reuse, trainable=trainable, collections=collections,
                      caching_device=caching_device, partitioner=partitioner, validate_shape=validate_shape,
                      use_resource=use_resource, synchronization=synchronization, aggregation=aggregation)
        if custom_getter is None:
            getter = kwargs.pop("getter")
            return getter(constraint=constraint, **kwargs)
        params = inspect.signature(custom_getter).parameters
        if "constraint" in params or any(p.kind is p.VAR_KEYWORD for p in params.values()):
            kwargs["constraint"] = constraint
        return custom_getter(**kwargs)

    def _get_partitioned_variable(self, name, partitioner, shape=None, dtype=_dt.float32, initializer=None,
                                  regularizer=None, reuse=None, trainable=None, collections=None,
                                  caching_device=None, validate_shape=True, use_resource=None, constraint=None,
                                  synchronization=VariableSynchronization.AUTO,
                                  aggregation=VariableAggregation.NONE) -> _pv.PartitionedVariable:
        """The variable `name` cut by `partitioner` into parts `name/part_i` along one axis, as TF makes it."""
        from_tensor = isinstance(initializer, _ops.Tensor)
        if name in self._vars:
            raise ValueError(f"A partitioner was provided, but an unpartitioned version of the variable was found: "
                             f"{name}.  Perhaps a variable of the same name was already created without "
                             "partitioning?")
        shape = _shape.as_shape(shape)
        if from_tensor:
            shape = shape.merge_with(initializer.get_shape())
        dtype = _dt.as_dtype(dtype)
        partitions = _pv.call_partitioner(partitioner, shape, dtype) if (not reuse or partitioner) else None
        if name in self._partitioned_vars:
            if reuse is False:
                raise ValueError(f"Partitioned variable with name {name} already exists. Did you mean to set "
                                 "reuse=True or reuse=tf.AUTO_REUSE in VarScope?")
            found = self._partitioned_vars[name]
            if not shape.is_compatible_with(found.get_shape()):
                raise ValueError(f"Trying to reuse partitioned variable {name}, but specified shape {shape} and "
                                 f"found shape {found.get_shape()}.")
            if not dtype.is_compatible_with(found.dtype):
                raise ValueError(f"Trying to reuse partitioned variable {name}, but specified dtype {dtype.name} "
                                 f"and found dtype {found.dtype.name}.")
            if partitions is not None and found._get_partitions() != partitions:
                raise ValueError(f"Trying to reuse partitioned variable {name}, but specified partitions "
                                 f"{partitions} and found partitions {found._get_partitions()}.")
            return found
        if reuse is True:
            raise ValueError(f"PartitionedVariable {name} does not exist, or was not created with tf.get_variable(). "
                             "Did you mean to set reuse=False or reuse=tf.AUTO_REUSE in VarScope?")
        slice_dim, num_slices = _pv.slice_dim_and_num_slices(partitions)
        if f"{name}/part_0" in self._vars:
            if f"{name}/part_{num_slices - 1}" not in self._vars:
                raise ValueError(f"Partitioner returned a different partitioning than what was already found.  "
                                 f"Partitioner returned {num_slices} shards, and shard {name}/part_0 was found, but "
                                 f"{name}/part_{num_slices - 1} was not.")
            if f"{name}/part_{num_slices}" in self._vars:
                raise ValueError(f"Partitioner returned a different partitioning than what was already found.  "
                                 f"Partitioner returned {num_slices} shards, and shard {name}/part_0 was found, but "
                                 f"so was the extra shard {name}/part_{num_slices}.")
        parts = []
        full_shape = shape.as_list()
        for i, (offset, part_shape) in enumerate(_pv.iter_slices(full_shape, num_slices, slice_dim)):
            part_name = f"{name}/part_{i}"
            part_init, init_shape = initializer, part_shape
            if initializer is not None and not callable(initializer):
                # A value for the whole variable: each part starts from its slice of it.
                with _ops.name_scope(part_name + "/PartitionedInitializer"):
                    whole = initializer if from_tensor else _ops.convert_to_tensor(initializer, dtype=dtype)
                    part_init = array_ops.slice(whole, offset, part_shape)
                init_shape = None
            with _ops.name_scope(None):
                part = self._get_single_variable(
                    part_name, shape=init_shape, dtype=dtype, initializer=part_init, regularizer=regularizer,
                    reuse=reuse, trainable=trainable, collections=collections, caching_device=caching_device,
                    validate_shape=validate_shape, use_resource=use_resource, constraint=constraint,
                    synchronization=synchronization, aggregation=aggregation,
                    partition_info=_pv.PartitionInfo(full_shape, offset))
            part._save_slice_info = _pv.SaveSliceInfo(name, full_shape, offset, part_shape)
            parts.append(part)
        partitioned = _pv.PartitionedVariable(name, shape, dtype, parts, partitions)
        self._partitioned_vars[name] = partitioned
        return partitioned

    def _get_single_variable(self, name, shape=None, dtype=_dt.float32, initializer=None, regularizer=None,
                             reuse=None, trainable=None, collections=None, caching_device=None,
                             validate_shape=True, use_resource=None, constraint=None,
                             synchronization=VariableSynchronization.AUTO,
                             aggregation=VariableAggregation.NONE, partition_info=None) -> Variable:
        initializing_from_value = initializer is not None and not callable(initializer)
        if shape is not None and initializing_from_value:
            raise ValueError("If initializer is a constant, do not specify shape.")
        dtype = _dt.as_dtype(dtype)
        shape = _shape.as_shape(shape)

        if name in self._vars:
            found = self._vars[name]
            if reuse is False:
                msg = (f"Variable {name} already exists, disallowed. Did you mean to set reuse=True or "
                       "reuse=tf.AUTO_REUSE in VarScope?")
                raise ValueError(f"{msg} Originally defined at:\n\n{_creation_site(found)}")
            if not shape.is_compatible_with(found.get_shape()):
                raise ValueError(f"Trying to share variable {name}, but specified shape {shape} and found shape "
                                 f"{found.get_shape()}.")
            if not dtype.is_compatible_with(found.dtype):
                raise ValueError(f"Trying to share variable {name}, but specified dtype {dtype.name} and found "
                                 f"dtype {found.dtype.base_dtype.name}.")
            return found

        if partition_info is None and f"{name}/part_0" in self._vars:
            raise ValueError(f"No partitioner was provided, but a partitioned version of the variable was found: "
                             f"{name}/part_0. Perhaps a variable of the same name was already created with "
                             "partitioning?")
        if reuse is True:
            raise ValueError(f"Variable {name} does not exist, or was not created with tf.get_variable(). Did you "
                             "mean to set reuse=tf.AUTO_REUSE in VarScope?")

        if initializer is None:
            initializer, initializing_from_value = _default_initializer(name, dtype), False
        with _ops.init_scope():
            if initializing_from_value:
                init_val, variable_dtype = initializer, None
            else:
                if inspect.isclass(initializer):
                    initializer = initializer()
                if shape.is_fully_defined():
                    dims = shape.as_list()
                    bound = initializer

                    def init_val():
                        return bound(dims, dtype=dtype, partition_info=partition_info)

                    variable_dtype = dtype.base_dtype
                elif _takes_no_required_args(initializer):
                    init_val, variable_dtype = initializer, None
                else:
                    raise ValueError(
                        "The initializer passed is not valid. It should be a callable with no arguments and the "
                        "shape should not be provided or an instance of `tf.keras.initializers.*' and `shape` "
                        "should be fully defined."
                    )
        v = Variable(initial_value=init_val, name=name, trainable=trainable, collections=collections,
                     caching_device=caching_device, dtype=variable_dtype, validate_shape=validate_shape,
                     constraint=constraint, use_resource=use_resource, synchronization=synchronization,
                     aggregation=aggregation)
        self._vars[name] = v

        if regularizer:
            with _ops.name_scope(name + "/Regularizer/"), _ops.init_scope():
                loss = regularizer(v)
            if loss is not None:
                _ops.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
        return v


def _default_initializer(name: str, dtype: _dt.DType):
    """glorot_uniform for floats, zeros for integers, bools and strings, as TF1 does."""
    if dtype.is_floating:
        return init_ops.glorot_uniform_initializer()
    if dtype.is_integer or dtype.is_unsigned or dtype.is_bool or dtype == _dt.string:
        return init_ops.zeros_initializer()
    raise ValueError(f"An initializer for variable {name} of {dtype.base_dtype!r} is required")


def _get_default_variable_store() -> _VariableStore:
    store = _ops.get_collection(_VARSTORE_KEY)
    if store:
        return store[0]
    store = _VariableStore()
    _ops.add_to_collection(_VARSTORE_KEY, store)
    return store


# ----------------------------------------------------------------------------------------------------------
# Variable scopes
# ----------------------------------------------------------------------------------------------------------
@tf_export("VariableScope")
class VariableScope:
    """`tf.VariableScope`: a variable-name prefix plus defaults (reuse, initializer, regularizer, dtype, ...)
    for the variables `get_variable` creates under it."""

    def __init__(self, reuse, name: str = "", initializer=None, regularizer=None, caching_device=None,
                 partitioner=None, custom_getter=None, name_scope: str = "", dtype=_dt.float32,
                 use_resource=None, constraint=None) -> None:
        self._name = name
        self._initializer = initializer
        self._regularizer = regularizer
        self._reuse = reuse
        self._caching_device = caching_device
        self._partitioner = partitioner
        self._custom_getter = custom_getter
        self._name_scope = name_scope
        self._dtype = dtype
        self._use_resource = use_resource
        self._constraint = constraint

    @property
    def name(self) -> str:
        return self._name

    @property
    def original_name_scope(self) -> str:
        """The name scope that was opened when this variable scope was first entered (ends with '/')."""
        return self._name_scope

    @property
    def reuse(self):
        return self._reuse

    @property
    def initializer(self):
        return self._initializer

    @property
    def dtype(self):
        return self._dtype

    @property
    def use_resource(self):
        return self._use_resource

    @property
    def regularizer(self):
        return self._regularizer

    @property
    def caching_device(self):
        return self._caching_device

    @property
    def partitioner(self):
        return self._partitioner

    @property
    def custom_getter(self):
        return self._custom_getter

    @property
    def constraint(self):
        return self._constraint

    def reuse_variables(self) -> None:
        """Makes `get_variable` in this scope return existing variables from now on."""
        self._reuse = True

    def set_initializer(self, initializer) -> None:
        self._initializer = initializer

    def set_dtype(self, dtype) -> None:
        self._dtype = dtype

    def set_use_resource(self, use_resource) -> None:
        self._use_resource = use_resource

    def set_regularizer(self, regularizer) -> None:
        self._regularizer = regularizer

    def set_caching_device(self, caching_device) -> None:
        self._caching_device = caching_device

    def set_partitioner(self, partitioner) -> None:
        self._partitioner = partitioner

    def set_custom_getter(self, custom_getter) -> None:
        self._custom_getter = custom_getter

    def get_collection(self, name: str) -> list:
        scope = self._name + "/" if self._name else ""
        return _ops.get_collection(name, scope)

    def trainable_variables(self) -> list:
        return self.get_collection(GraphKeys.TRAINABLE_VARIABLES)

    def global_variables(self) -> list:
        return self.get_collection(GraphKeys.GLOBAL_VARIABLES)

    def local_variables(self) -> list:
        return self.get_collection(GraphKeys.LOCAL_VARIABLES)

    def get_variable(self, var_store: _VariableStore, name: str, shape=None, dtype=None, initializer=None,
                     regularizer=None, reuse=None, trainable=None, collections=None, caching_device=None,
                     partitioner=None, validate_shape=True, use_resource=None, custom_getter=None,
                     constraint=None, synchronization=VariableSynchronization.AUTO,
                     aggregation=VariableAggregation.NONE) -> Variable:
        """Gets or creates `name` in this scope, filling unset arguments from the scope's defaults."""
        regularizer = self._regularizer if regularizer is None else regularizer
        caching_device = self._caching_device if caching_device is None else caching_device
        partitioner = self._partitioner if partitioner is None else partitioner
        custom_getter = self._custom_getter if custom_getter is None else custom_getter
        reuse = self._reuse if reuse is None else reuse
        use_resource = self._use_resource if use_resource is None else use_resource
        full_name = self._name + "/" + name if self._name else name
        # Variable names depend on the variable scope only, so the name scope is reset while creating it.
        with _ops.name_scope(None):
            if dtype is not None and initializer is not None and not callable(initializer):
                init_dtype = _ops.convert_to_tensor(initializer).dtype.base_dtype
                if init_dtype != _dt.as_dtype(dtype):
                    raise ValueError(f"Initializer type '{init_dtype}' and explicit dtype "
                                     f"'{_dt.as_dtype(dtype)}' don't match.")
            initializer = self._initializer if initializer is None else initializer
            constraint = self._constraint if constraint is None else constraint
            dtype = self._dtype if dtype is None else dtype
            return var_store.get_variable(
                full_name, shape=shape, dtype=dtype, initializer=initializer, regularizer=regularizer,
                reuse=reuse, trainable=trainable, collections=collections, caching_device=caching_device,
                partitioner=partitioner, validate_shape=validate_shape, use_resource=use_resource,
                custom_getter=custom_getter, constraint=constraint, synchronization=synchronization,
                aggregation=aggregation)


class _VariableScopeStore(threading.local):
    """The current variable scope and how often each scope name was opened (for unique default names)."""

    def __init__(self) -> None:
        super().__init__()
        self.current_scope = VariableScope(False)
        self.variable_scopes_count: dict[str, int] = {}

    def open_variable_scope(self, scope_name: str) -> None:
        self.variable_scopes_count[scope_name] = self.variable_scopes_count.get(scope_name, 0) + 1

    def close_variable_subscopes(self, scope_name: str) -> None:
        for k in list(self.variable_scopes_count):
            if scope_name is None or k.startswith(scope_name + "/"):
                self.variable_scopes_count[k] = 0

    def variable_scope_count(self, scope_name: str) -> int:
        return self.variable_scopes_count.get(scope_name, 0)


def get_variable_scope_store() -> _VariableScopeStore:
    store = _ops.get_collection(_VARSCOPESTORE_KEY)
    if store:
        return store[0]
    store = _VariableScopeStore()
    _ops.add_to_collection(_VARSCOPESTORE_KEY, store)
    return store


@tf_export("get_variable_scope")
def get_variable_scope() -> VariableScope:
    """`tf.get_variable_scope`: the current VariableScope."""
    return get_variable_scope_store().current_scope


def _get_unique_variable_scope(prefix: str) -> str:
    store = get_variable_scope_store()
    current = get_variable_scope()
    name = current.name + "/" + prefix if current.name else prefix
    if store.variable_scope_count(name) == 0:
        return prefix
    idx = 1
    while store.variable_scope_count(f"{name}_{idx}") > 0:
        idx += 1
    return f"{prefix}_{idx}"


def _wrap_custom_getter(custom_getter, old_getter):
    """Nested scopes' custom getters compose: the inner one receives the outer one as its `getter`."""
    if old_getter is None:
        return custom_getter

    def wrapped(getter, *args, **kwargs):
        return custom_getter(lambda *a, **k: old_getter(getter, *a, **k), *args, **kwargs)

    return wrapped


_SCOPE_DEFAULTS = ("initializer", "regularizer", "caching_device", "partitioner", "dtype", "use_resource",
                   "constraint")


class _pure_variable_scope:  # noqa: N801 - mirrors TF's internal name
    """Enters a variable scope without touching name scopes (variable_scope handles those)."""

    def __init__(self, name_or_scope, reuse=None, old_name_scope=None, custom_getter=None, **defaults) -> None:
        self._name_or_scope = name_or_scope
        self._reuse = reuse
        self._old_name_scope = old_name_scope
        self._custom_getter = custom_getter
        self._defaults = defaults
        self._store = get_variable_scope_store()
        self._last_scope = None

    def _configure(self, scope: VariableScope, custom_getter_base) -> VariableScope:
        for key in _SCOPE_DEFAULTS:
            value = self._defaults.get(key)
            if value is not None:
                getattr(scope, f"set_{key}")(value)
        if self._custom_getter is not None:
            scope.set_custom_getter(_wrap_custom_getter(self._custom_getter, custom_getter_base))
        return scope

    def __enter__(self) -> VariableScope:
        self._old = self._store.current_scope
        src = self._name_or_scope
        if isinstance(src, VariableScope):
            self._new_name = src.name
            scope = VariableScope(src.reuse if not self._reuse else self._reuse, name=src.name,
                                  initializer=src.initializer, regularizer=src.regularizer,
                                  caching_device=src.caching_device, partitioner=src.partitioner,
                                  custom_getter=src.custom_getter, name_scope=src.original_name_scope,
                                  dtype=src.dtype, use_resource=src.use_resource, constraint=src.constraint)
            scope = self._configure(scope, src.custom_getter)
            self._store.open_variable_scope(self._new_name)
            self._old_subscopes = copy.copy(self._store.variable_scopes_count)
        else:
            old = self._old
            self._new_name = old.name + "/" + src if old.name else src
            reuse = self._reuse or old.reuse  # reuse is inherited by sub-scopes
            name_scope = src if self._old_name_scope is None else self._old_name_scope
            scope = VariableScope(reuse, name=self._new_name, initializer=old.initializer,
                                  regularizer=old.regularizer, caching_device=old.caching_device,
                                  partitioner=old.partitioner, custom_getter=old.custom_getter,
                                  name_scope=name_scope, dtype=old.dtype, use_resource=old.use_resource,
                                  constraint=old.constraint)
            scope = self._configure(scope, old.custom_getter)
            self._store.open_variable_scope(self._new_name)
        self._store.current_scope = scope
        self._last_scope = scope
        return scope

    def __exit__(self, *exc) -> None:
        if self._store.current_scope is not self._last_scope:
            raise RuntimeError("Improper nesting of variable_scope.")
        if isinstance(self._name_or_scope, VariableScope):
            self._store.variable_scopes_count = self._old_subscopes
        else:
            self._store.close_variable_subscopes(self._new_name)
        self._store.current_scope = self._old


@tf_export("variable_scope")
class variable_scope:  # noqa: N801 - TF's public name
    """`tf.variable_scope(name_or_scope, default_name=None, values=None, ...)`: opens a variable scope (and
    a name scope of the same name) for `get_variable`.

    `reuse=True` makes `get_variable` return existing variables (and fail for new ones), `tf.AUTO_REUSE`
    creates or returns; reuse is inherited by nested scopes. Re-entering a captured VariableScope object
    returns to its variable names.
    """

    def __init__(self, name_or_scope, default_name=None, values=None, initializer=None, regularizer=None,
                 caching_device=None, partitioner=None, custom_getter=None, reuse=None, dtype=None,
                 use_resource=None, constraint=None, auxiliary_name_scope=True) -> None:
        if default_name is None and name_or_scope is None:
            raise TypeError("If default_name is None then name_or_scope is required")
        if reuse is False:
            reuse = None  # False means "inherit", as in TF
        if not (reuse is True or reuse is None or reuse is AUTO_REUSE):
            raise ValueError("The reuse parameter must be True or False or None.")
        if not isinstance(auxiliary_name_scope, bool):
            raise TypeError(f"The auxiliary_name_scope must be `True` or `False`, while get {auxiliary_name_scope}")
        self._name_or_scope = name_or_scope
        self._default_name = default_name
        self._values = values or []
        self._defaults = dict(initializer=initializer, regularizer=regularizer, caching_device=caching_device,
                              partitioner=partitioner, dtype=dtype, use_resource=use_resource,
                              constraint=constraint)
        self._custom_getter = custom_getter
        self._reuse = reuse
        self._auxiliary_name_scope = auxiliary_name_scope
        self._graph = _ops._graph_from_values(self._values) if self._values else None
        self._exits: list = []

    def _enter(self, cm):
        value = cm.__enter__()
        self._exits.append(cm)
        return value

    def __enter__(self) -> VariableScope:
        self._exits = []
        try:
            if self._graph is not None and not _ops.get_default_graph().building_function:
                self._enter(self._graph.as_default())
            return self._enter_scopes()
        except BaseException:
            self._unwind(None, None, None)
            raise

    def _enter_scopes(self) -> VariableScope:
        graph = _ops.get_default_graph()
        current_name_scope = None
        if not self._auxiliary_name_scope:
            # Stay in the current name scope.
            name_scope = graph.get_name_scope()
            current_name_scope = graph.name_scope(name_scope + "/" if name_scope else name_scope)
        src = self._name_or_scope
        if src is not None:
            if not isinstance(src, (VariableScope, str)):
                raise TypeError("VariableScope: name_or_scope must be a string or VariableScope.")
            name_scope = src if isinstance(src, str) else src.name.split("/")[-1]
            if name_scope or current_name_scope:
                entered = self._enter(current_name_scope or graph.name_scope(name_scope))
                old_name_scope = entered if isinstance(src, str) else src.original_name_scope
            else:
                old_name_scope = None
            return self._enter(_pure_variable_scope(src, reuse=self._reuse, old_name_scope=old_name_scope,
                                                    custom_getter=self._custom_getter, **self._defaults))
        if self._reuse:
            raise ValueError("reuse=True cannot be used without a name_or_scope")
        entered = self._enter(current_name_scope or graph.name_scope(self._default_name))
        unique = _get_unique_variable_scope(self._default_name)
        return self._enter(_pure_variable_scope(unique, old_name_scope=entered, custom_getter=self._custom_getter,
                                                **self._defaults))

    def _unwind(self, *exc) -> None:
        while self._exits:
            self._exits.pop().__exit__(*exc)

    def __exit__(self, *exc) -> None:
        self._unwind(*exc)


@tf_export("variable_op_scope")
def variable_op_scope(values, name_or_scope, default_name=None, initializer=None, regularizer=None,
                      caching_device=None, partitioner=None, custom_getter=None, reuse=None, dtype=None,
                      use_resource=None, constraint=None) -> variable_scope:
    """Deprecated TF1 spelling of `variable_scope(name_or_scope, default_name, values, ...)`."""
    return variable_scope(name_or_scope, default_name=default_name, values=values, initializer=initializer,
                          regularizer=regularizer, caching_device=caching_device, partitioner=partitioner,
                          custom_getter=custom_getter, reuse=reuse, dtype=dtype, use_resource=use_resource,
                          constraint=constraint)


# ----------------------------------------------------------------------------------------------------------
# get_variable
# ----------------------------------------------------------------------------------------------------------
@tf_export("get_variable")
def get_variable(name, shape=None, dtype=None, initializer=None, regularizer=None, trainable=None,
                 collections=None, caching_device=None, partitioner=None, validate_shape=True, use_resource=None,
                 custom_getter=None, constraint=None, synchronization=VariableSynchronization.AUTO,
                 aggregation=VariableAggregation.NONE) -> Variable:
    """`tf.get_variable`: the variable `name` in the current variable scope, created if the scope's reuse
    allows (ValueError otherwise). Without an initializer, floats get glorot_uniform and integers zeros."""
    return get_variable_scope().get_variable(
        _get_default_variable_store(), name, shape=shape, dtype=dtype, initializer=initializer,
        regularizer=regularizer, trainable=trainable, collections=collections, caching_device=caching_device,
        partitioner=partitioner, validate_shape=validate_shape, use_resource=use_resource,
        custom_getter=custom_getter, constraint=constraint, synchronization=synchronization,
        aggregation=aggregation)


@tf_export("get_local_variable")
def get_local_variable(name, shape=None, dtype=None, initializer=None, regularizer=None, trainable=False,
                       collections=None, caching_device=None, partitioner=None, validate_shape=True,
                       use_resource=None, custom_getter=None, constraint=None,
                       synchronization=VariableSynchronization.AUTO,
                       aggregation=VariableAggregation.NONE) -> Variable:
    """`tf.get_local_variable`: like get_variable, in LOCAL_VARIABLES (not saved, not trained)."""
    collections = list(collections or []) + [GraphKeys.LOCAL_VARIABLES]
    return get_variable(name, shape=shape, dtype=dtype, initializer=initializer, regularizer=regularizer,
                        trainable=False, collections=collections, caching_device=caching_device,
                        partitioner=partitioner, validate_shape=validate_shape, use_resource=use_resource,
                        custom_getter=custom_getter, constraint=constraint, synchronization=synchronization,
                        aggregation=aggregation)


@tf_export("create_partitioned_variables")
def create_partitioned_variables(shape, slicing, initializer, dtype=_dt.float32, trainable=True, collections=None,
                                 name=None, reuse=None) -> list:
    """The deprecated TF1 way to make a partitioned variable: its parts, cut as `slicing` says (one count per
    axis, more than one on one axis at most), in a variable scope `name` (default "PartitionedVariable")."""
    if len(shape) != len(slicing):
        raise ValueError(f"The 'shape' and 'slicing' of a partitioned Variable must have the length: shape: "
                         f"{shape}, slicing: {slicing}")
    if len(shape) < 1:
        raise ValueError(f"A partitioned Variable must have rank at least 1: shape: {shape}")
    with variable_scope(name, "PartitionedVariable", reuse=reuse) as scope:
        store = _get_default_variable_store()
        full_name = scope.name
        reuse = scope.reuse if reuse is None else reuse
        with _ops.name_scope(None):
            partitioned = store.get_variable(full_name, shape=shape, dtype=dtype, initializer=initializer,
                                             trainable=trainable, collections=collections, reuse=reuse,
                                             partitioner=lambda **unused: list(slicing))
        return list(partitioned)


def variable(initial_value=None, trainable=None, collections=None, validate_shape=True, caching_device=None,
             name=None, dtype=None, constraint=None, use_resource=None,
             synchronization=VariableSynchronization.AUTO, aggregation=VariableAggregation.NONE) -> Variable:
    """A plain `tf.Variable` (what optimizers use for their non-slot variables)."""
    return Variable(initial_value=initial_value, trainable=trainable, collections=collections,
                    validate_shape=validate_shape, caching_device=caching_device, name=name, dtype=dtype,
                    constraint=constraint, use_resource=use_resource, synchronization=synchronization,
                    aggregation=aggregation)


# ----------------------------------------------------------------------------------------------------------
# Resource variables by default (TF's _DEFAULT_USE_RESOURCE; TF 1.15 starts with it off)
# ----------------------------------------------------------------------------------------------------------
_USE_RESOURCE = {"default": False}


@tf_export("enable_resource_variables")
def enable_resource_variables() -> None:
    """`tf.compat.v1.enable_resource_variables`: variables created without `use_resource` are resource
    variables from now on."""
    _USE_RESOURCE["default"] = True


@tf_export("disable_resource_variables")
def disable_resource_variables() -> None:
    """`tf.compat.v1.disable_resource_variables`: variables are reference variables unless asked otherwise."""
    _USE_RESOURCE["default"] = False


@tf_export("resource_variables_enabled")
def resource_variables_enabled() -> bool:
    """Whether variables are resource variables by default."""
    return _USE_RESOURCE["default"]


def _default_use_resource() -> bool:
    """The current variable scope's `use_resource`, else the global default."""
    scoped = get_variable_scope().use_resource
    return _USE_RESOURCE["default"] if scoped is None else bool(scoped)


register_default_use_resource(_default_use_resource)
ResourceVariable = resource_variable_ops.ResourceVariable
