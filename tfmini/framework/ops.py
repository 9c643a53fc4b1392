"""The graph model: `Graph`, `Operation`, `Tensor`, name scopes, control dependencies and the per-thread
default-graph and default-session stacks. Graphs only record; nothing here runs a kernel."""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from google.protobuf import text_format

from tfmini.framework import dtypes as _dtypes
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_VALID_OP_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$")
_VALID_SCOPE_NAME = re.compile(r"^[A-Za-z0-9_.\\/>-]*$")


def user_call_site() -> tuple[str, int, str]:
    """(filename, line, function) of the innermost frame outside tfmini: where user code created an op."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return ("<unknown>", 0, "<unknown>")
    return (frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)


# GraphDef export (`Operation.node_def`, `Graph.graph_def_versions`, `Graph.as_graph_def`) is built on the op
# registry and on function bodies, which sit above this module: node_def.py and graph_io.py hand their
# functions in here when they are imported, as TF's tensor_conversion_registry takes conversions.
_GRAPH_DEF_EXPORT: dict[str, Callable] = {}


def register_graph_def_export(what: str, function: Callable) -> None:
    """Makes `function` the implementation of `what` ('node_def', 'graph_def_versions', 'as_graph_def', or
    'finish_graph_def': `function(graph, graph_def)` puts a GraphDef just exported into TensorFlow's form)."""
    _GRAPH_DEF_EXPORT[what] = function


def _graph_def_export(what: str) -> Callable:
    function = _GRAPH_DEF_EXPORT.get(what)
    if function is None:
        raise RuntimeError(f"{what} needs GraphDef export, which tfmini.framework.graph_io registers when it is "
                           "imported (`import tfmini` imports it).")
    return function


# ----------------------------------------------------------------------------------------------------------
# Tensor
# ----------------------------------------------------------------------------------------------------------
@tf_export("Tensor")
class Tensor:
    """A symbolic handle to one output of an `Operation`; its value exists only inside a session run."""

    __array_priority__ = 100
    __slots__ = ("_op", "_value_index", "_dtype", "_shape", "_consumers", "__weakref__")

    def __init__(self, op: Operation, value_index: int, dtype: _dtypes.DType) -> None:
        self._op = op
        self._value_index = value_index
        self._dtype = _dtypes.as_dtype(dtype)
        self._shape = _shape.unknown_shape()
        self._consumers: list[Operation] = []

    @property
    def op(self) -> Operation:
        return self._op

    @property
    def graph(self) -> Graph:
        return self._op._graph

    @property
    def name(self) -> str:
        return f"{self._op._name}:{self._value_index}"

    @property
    def dtype(self) -> _dtypes.DType:
        return self._dtype

    @property
    def value_index(self) -> int:
        return self._value_index

    @property
    def device(self) -> str:
        return self._op.device

    @property
    def shape(self) -> _shape.TensorShape:
        return self._shape

    def get_shape(self) -> _shape.TensorShape:
        return self._shape

    def set_shape(self, shape) -> None:
        """Refines the static shape; raises ValueError if `shape` is incompatible with what is known."""
        self._shape = self._shape.merge_with(_shape.as_shape(shape))

    def consumers(self) -> list[Operation]:
        return list(self._consumers)

    def eval(self, feed_dict=None, session=None):
        """Runs the graph up to this tensor in `session` (or the default session) and returns its value."""
        return _run_using_default_session(self, "tensor", feed_dict, session, "evaluate tensor using `eval()`")

    def _as_node_def_input(self) -> str:
        return self._op._name if self._value_index == 0 else f"{self._op._name}:{self._value_index}"

    def _as_graph_element(self) -> Tensor:
        return self

    def __repr__(self) -> str:
        return f"<tf.Tensor '{self.name}' shape={self._shape} dtype={self._dtype.name}>"

    def __str__(self) -> str:
        dev = f", device={self.device}" if self.device else ""
        return f'Tensor("{self.name}", shape={self._shape}, dtype={self._dtype.name}{dev})'

    # Identity hashing in C: graph elements key every dict on the build and run paths.
    __hash__ = object.__hash__

    def __eq__(self, other) -> bool:
        return self is other

    def __ne__(self, other) -> bool:
        return self is not other

    def __bool__(self) -> bool:
        raise TypeError(
            "Using a `tf.Tensor` as a Python `bool` is not allowed. Use `if t is not None:` instead of `if t:` to "
            "test if a tensor is defined, and use TensorFlow ops such as tf.cond to execute subgraphs "
            "conditioned on the value of a tensor."
        )

    __nonzero__ = __bool__

    def __iter__(self) -> Iterator[Tensor]:
        # TF1 graph mode never iterates a symbolic tensor (not even one of known shape): `a, b = t` must fail.
        raise TypeError(
            "Tensor objects are only iterable when eager execution is enabled. To iterate over this tensor use "
            "tf.map_fn."
        )

    def __len__(self) -> int:
        raise TypeError(
            f"len is not well defined for symbolic Tensors. ({self.name}) Please call `x.shape` rather than "
            "`len(x)` for shape information."
        )

    def __reduce__(self):
        raise TypeError("A tf.Tensor is symbolic and cannot be pickled; fetch its value with a Session first.")


def _run_using_default_session(element, kind: str, feed_dict, session, what: str):
    if session is None:
        session = get_default_session()
        if session is None:
            raise ValueError(
                f"Cannot {what}: No default session is registered. Use `with sess.as_default()` or pass an "
                f"explicit session to `{'eval' if kind == 'tensor' else 'run'}(session=sess)`"
            )
        if session.graph is not element.graph:
            raise ValueError(
                f"Cannot use the default session to {what.split(' using')[0]}: the {kind}'s graph is different "
                "from the session's graph. Pass an explicit session to "
                f"`{'eval' if kind == 'tensor' else 'run'}(session=sess)`."
            )
    elif session.graph is not element.graph:
        raise ValueError(
            f"Cannot use the given session to {what.split(' using')[0]}: the {kind}'s graph is different from "
            "the session's graph."
        )
    return session.run(element, feed_dict)


# ----------------------------------------------------------------------------------------------------------
# Operation
# ----------------------------------------------------------------------------------------------------------
@tf_export("Operation")
class Operation:
    """A node in a `Graph`: an op type, attrs, input tensors, control inputs and output tensors."""

    __slots__ = (
        "_graph", "_name", "_type", "_opdef", "_inputs", "_outputs", "_control_inputs", "_attrs", "_device",
        "_id", "_traceback", "_control_outputs", "__weakref__",
    )

    def __init__(self, graph, name, op_type, opdef, inputs, output_dtypes, attrs, control_inputs, device,
                 traceback) -> None:
        self._graph = graph
        self._name = name
        self._type = op_type
        self._opdef = opdef
        self._inputs = tuple(inputs)
        self._attrs = attrs
        self._control_inputs = list(control_inputs)
        self._control_outputs: list[Operation] = []
        self._device = device
        self._traceback = traceback
        self._id = 0
        self._outputs = [Tensor(self, i, dt) for i, dt in enumerate(output_dtypes)]

    # -- properties ------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name

    @property
    def type(self) -> str:
        return self._type

    @property
    def graph(self) -> Graph:
        return self._graph

    @property
    def inputs(self) -> tuple[Tensor, ...]:
        return self._inputs

    @property
    def outputs(self) -> list[Tensor]:
        return list(self._outputs)

    @property
    def control_inputs(self) -> list[Operation]:
        return list(self._control_inputs)

    @property
    def device(self) -> str:
        return self._device

    @property
    def op_def(self):
        return self._opdef

    @property
    def traceback(self) -> tuple[str, int, str]:
        """Where user code created this op: (filename, line, function)."""
        return self._traceback

    @property
    def node_def(self):
        return _graph_def_export("node_def")(self)

    def values(self) -> tuple[Tensor, ...]:
        return tuple(self._outputs)

    def get_attr(self, name: str):
        if name not in self._attrs:
            raise ValueError(f"Operation '{self._name}' has no attr named '{name}'.")
        return self._attrs[name]

    def colocation_groups(self) -> list[bytes]:
        """The colocation groups of this op (`b'loc:@name'`, from its `_class` attr), or its own group
        (`b'loc:@<its name>'`) when it is colocated with nothing."""
        groups = [_as_group_bytes(g) for g in self._attrs.get("_class", None) or ()]
        groups = [g for g in groups if g.startswith(COLOCATION_PREFIX)]
        return groups or [COLOCATION_PREFIX + self._name.encode()]

    @property
    def _attr_names(self):
        return list(self._attrs)

    def _set_attr(self, name: str, value) -> None:
        self._attrs[name] = value

    def _add_control_input(self, op: Operation) -> None:
        self._add_control_inputs([op])

    def _add_control_inputs(self, ops) -> None:
        for op in ops:
            if not isinstance(op, Operation):
                raise TypeError(f"op must be an Operation: {op!r}")
            if op._graph is not self._graph:
                raise ValueError(f"{op.name} must be from the same graph as {self._name}")
            if op not in self._control_inputs:
                self._control_inputs.append(op)
                op._control_outputs.append(self)
        self._graph._bump_version()

    def run(self, feed_dict=None, session=None) -> None:
        """Runs this op (for its side effects) in `session` or the default session."""
        _run_using_default_session(self, "operation", feed_dict, session, "execute operation using `run()`")

    def _as_graph_element(self) -> Operation:
        return self

    def where_created(self) -> str:
        file, line, _ = self._traceback
        return f"{file}:{line}"

    def __repr__(self) -> str:
        return f"<tf.Operation '{self._name}' type={self._type}>"

    def __str__(self) -> str:
        # text_format sorts attrs by key as TF's printout does; str() of a upb message prints them in hash order.
        return text_format.MessageToString(self.node_def)

    # Identity hashing in C: graph elements key every dict on the build and run paths.
    __hash__ = object.__hash__

    def __eq__(self, other) -> bool:
        return self is other


# ----------------------------------------------------------------------------------------------------------
# Graph
# ----------------------------------------------------------------------------------------------------------
@tf_export("Graph")
class Graph:
    """A dataflow graph: a set of Operations and the Tensors between them, plus collections and scopes."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._nodes_by_name: dict[str, Operation] = {}
        self._nodes: list[Operation] = []
        self._version = 0
        self._names_in_use: dict[str, int] = {}
        self._collections: dict[str, list] = {}
        self._finalized = False
        self._unfeedable: set[Tensor] = set()
        self._unfetchable: set[Operation] = set()
        self._gradient_override_map: dict[str, str] = {}
        self._container = ""
        self._seed = None
        self._scope_state = threading.local()

    # -- thread-local builder state --------------------------------------------
    def _state(self):
        st = self._scope_state
        if not hasattr(st, "name_stack"):
            st.name_stack = ""
            st.control_stack = []
            st.device_stack = []
            st.colocation_stack = []
        return st

    # -- defaults --------------------------------------------------------------
    @contextlib.contextmanager
    def as_default(self) -> Iterator[Graph]:
        """Makes this graph the default graph of the current thread inside the `with` block."""
        stack = _graph_stack()
        stack.append(self)
        try:
            yield self
        finally:
            # Remove this very entry even if inner blocks were left unbalanced.
            for i in range(len(stack) - 1, -1, -1):
                if stack[i] is self:
                    del stack[i]
                    break

    @property
    def seed(self):
        return self._seed

    @seed.setter
    def seed(self, value) -> None:
        self._seed = value

    @property
    def version(self) -> int:
        """Grows whenever the graph changes; a session's compiled plans are keyed on it."""
        return self._version

    def _bump_version(self) -> None:
        self._version += 1

    @property
    def finalized(self) -> bool:
        return self._finalized

    def finalize(self) -> None:
        """Makes this graph read-only: adding an op afterwards raises RuntimeError."""
        self._finalized = True

    def _unsafe_unfinalize(self) -> None:
        self._finalized = False

    def _check_not_finalized(self) -> None:
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")

    @property
    def building_function(self) -> bool:
        return False

    @property
    def graph_def_versions(self):
        return _graph_def_export("graph_def_versions")()

    # -- names -----------------------------------------------------------------
    def unique_name(self, name: str, mark_as_used: bool = True) -> str:
        """Returns `name` prefixed by the current name scope, made unique with a `_N` suffix (as TF does)."""
        stack = self._state().name_stack
        if stack:
            name = f"{stack}/{name}"
        key = name.lower()
        i = self._names_in_use.get(key, 0)
        if mark_as_used:
            self._names_in_use[key] = i + 1
        if i > 0:
            base = key
            while key in self._names_in_use:
                key = f"{base}_{i}"
                i += 1
            if mark_as_used:
                self._names_in_use[key] = 1
            name = f"{name}_{i - 1}"
        return name

    def get_name_scope(self) -> str:
        return self._state().name_stack

    @contextlib.contextmanager
    def name_scope(self, name) -> Iterator[str]:
        """Pushes a name scope; a name ending in '/' re-enters that exact scope, None or '' resets to the root."""
        if isinstance(name, bytes):
            name = name.decode()
        st = self._state()
        if name:
            pattern = _VALID_SCOPE_NAME if st.name_stack else _VALID_OP_NAME
            if not pattern.match(name):
                raise ValueError(f"'{name}' is not a valid scope name")
        old = st.name_stack
        if not name:
            new_stack, returned = "", ""
        elif name.endswith("/"):
            new_stack, returned = name[:-1], name
        else:
            new_stack = self.unique_name(name)
            returned = new_stack + "/"
        st.name_stack = new_stack
        try:
            yield returned
        finally:
            st.name_stack = old

    # -- control dependencies --------------------------------------------------
    @contextlib.contextmanager
    def control_dependencies(self, control_inputs) -> Iterator[None]:
        """Ops created inside the block run only after `control_inputs`; None clears the outer ones."""
        st = self._state()
        if control_inputs is None:
            saved = st.control_stack
            st.control_stack = []
            try:
                yield
            finally:
                st.control_stack = saved
            return
        ops_ = []
        for c in control_inputs:
            if callable(c) and not isinstance(c, (Tensor, Operation)) and not hasattr(c, "_as_graph_element"):
                c = c()
            el = self.as_graph_element(c)
            op = el.op if isinstance(el, Tensor) else el
            if op not in ops_:
                ops_.append(op)
        st.control_stack.append(ops_)
        try:
            yield
        finally:
            st.control_stack.pop()

    def _current_control_inputs(self, input_ops) -> list[Operation]:
        result: list[Operation] = []
        for frame in self._state().control_stack:
            for op in frame:
                if op not in result and op not in input_ops:
                    result.append(op)
        return result

    # -- devices (recorded, not used for placement) ----------------------------
    @contextlib.contextmanager
    def device(self, device_name_or_function) -> Iterator[None]:
        if isinstance(device_name_or_function, str):
            _parse_device(device_name_or_function)  # a malformed string fails here, as in TF
        st = self._state()
        st.device_stack.append(device_name_or_function)
        try:
            yield
        finally:
            st.device_stack.pop()

    def _current_device(self, op_name: str, op_type: str) -> _PendingPlacement:
        """The device scopes and colocations in effect for an op being created; `_add_op` resolves them into
        its device string once the op exists, so device functions see the op itself (its type, attrs,
        inputs and outputs), as in TF."""
        st = self._state()
        return _PendingPlacement(tuple(st.device_stack), tuple(st.colocation_stack))

    def _place(self, op: Operation, pending: _PendingPlacement) -> str:
        """TF's placement of a new op: the device stack merged innermost first (each spec filling only the
        fields -- job, replica, task, device -- still unset; `tf.device(None)` hides the outer scopes; a
        device function sees the op with the device so far and its result replaces it), then the device of
        every op it is colocated with, which wins. An op taking a reference input (an Assign, an optimizer's
        Apply*) is colocated with that input's op and ignores the device scopes, as TF's op builder does.
        Spelled canonically: '/gpu:0' -> '/device:GPU:0'.

        The colocation is also recorded as TF records it, in the op's `_class` attr: the sorted union of the
        colocation groups (`loc:@name`) of the ops it is colocated with. An op made with no colocation scope
        keeps a `_class` it was given (a NodeDef being imported)."""
        refs = [t.op for t in op._inputs if t._dtype._is_ref_dtype]
        op._device = ""
        for d in reversed(() if refs else pending.devices):
            if d is None:
                break
            if callable(d):
                op._device = _device_string(d(op))
            elif d:
                op._device = _merge_device(op._device, _device_string(d))
        colocated = (*pending.colocations, *refs)
        for other in colocated:
            if other.device:
                op._device = other.device
        if pending.colocations or (refs and "_class" not in op._attrs):
            op._attrs["_class"] = sorted({g for other in colocated for g in other.colocation_groups()})
        return op._device

    @contextlib.contextmanager
    def colocate_with(self, op, ignore_existing: bool = False) -> Iterator[None]:
        """Ops created inside the block are placed on the device of `op` (an Operation, Tensor or
        Variable) whatever the device scopes say: the outer device scopes and functions do not apply inside
        (a `tf.device` entered inside does, until the colocation overrides it). `ignore_existing` drops the
        outer colocations; `op=None` with it clears them."""
        if op is None and not ignore_existing:
            raise ValueError("Trying to reset colocation (op is None) but ignore_existing is not True")
        target = None if op is None else _op_to_colocate_with(op, self)
        st = self._state()
        saved_devices, saved_colocations = st.device_stack, st.colocation_stack
        st.device_stack = []
        st.colocation_stack = ([] if ignore_existing else list(saved_colocations)) + \
            ([target] if target is not None else [])
        try:
            yield
        finally:
            st.device_stack, st.colocation_stack = saved_devices, saved_colocations

    @contextlib.contextmanager
    def container(self, container_name: str) -> Iterator[str]:
        """Stateful ops created inside the block (variables, queues, tables, ...) that have a `container`
        attr left empty get `container_name` in it."""
        saved = self._container
        self._container = container_name
        try:
            yield container_name
        finally:
            self._container = saved

    @contextlib.contextmanager
    def gradient_override_map(self, op_type_map: dict) -> Iterator[None]:
        """Ops of a type in `op_type_map` created inside the block take their gradient from the gradient
        function registered under the mapped name."""
        if not isinstance(op_type_map, dict):
            raise TypeError("op_type_map must be a dictionary mapping strings to strings")
        for op_type, mapped in op_type_map.items():
            if not (isinstance(op_type, str) and isinstance(mapped, str)):
                raise TypeError("op_type_map must be a dictionary mapping strings to strings")
        saved = dict(self._gradient_override_map)
        self._gradient_override_map.update(op_type_map)
        try:
            yield
        finally:
            self._gradient_override_map = saved

    # -- adding operations -----------------------------------------------------
    def _add_op(self, op: Operation) -> None:
        if isinstance(op._device, _PendingPlacement):
            self._place(op, op._device)  # outside the lock: device functions are user code
        with self._lock:
            self._check_not_finalized()
            if op._name in self._nodes_by_name:
                raise ValueError(f"Duplicate node name in graph: '{op._name}'")
            if self._container and op._opdef is not None and op._opdef.stateful and \
                    op._attrs.get("container", None) in ("", b""):
                op._attrs["container"] = self._container
            self._nodes.append(op)
            self._version += 1
            op._id = self._version  # ids follow the version: as_graph_def(from_version) compares them
            self._nodes_by_name[op._name] = op
            for t in op._inputs:
                t._consumers.append(op)
            for c in op._control_inputs:
                c._control_outputs.append(op)

    @contextlib.contextmanager
    def _all_or_nothing(self) -> Iterator[None]:
        """Ops added inside the block are taken out again if it raises, with the names they used, so the
        graph is left as it was (what `import_graph_def` promises for a GraphDef it refuses). Other threads
        add nothing meanwhile."""
        with self._lock:
            n_ops, names = len(self._nodes), dict(self._names_in_use)
            try:
                yield
            except BaseException:
                for op in reversed(self._nodes[n_ops:]):
                    for t in op._inputs:
                        t._consumers.remove(op)
                    for c in op._control_inputs:
                        c._control_outputs.remove(op)
                    del self._nodes_by_name[op._name]
                del self._nodes[n_ops:]
                self._names_in_use = names
                self._version += 1
                raise

    # -- lookup ----------------------------------------------------------------
    def get_operations(self) -> list[Operation]:
        return list(self._nodes)

    def get_operation_by_name(self, name: str) -> Operation:
        if not isinstance(name, str):
            raise TypeError(f"Operation names are strings (or similar), not {type(name).__name__}.")
        return self.as_graph_element(name, allow_tensor=False, allow_operation=True)

    def get_tensor_by_name(self, name: str) -> Tensor:
        if not isinstance(name, str):
            raise TypeError(f"Tensor names are strings (or similar), not {type(name).__name__}.")
        return self.as_graph_element(name, allow_tensor=True, allow_operation=False)

    def _get_operation_by_name_unsafe(self, name: str) -> Operation:
        return self._nodes_by_name[name]

    def as_graph_element(self, obj, allow_tensor: bool = True, allow_operation: bool = True):
        """Resolves a Tensor, Operation, name string or `_as_graph_element()` object within this graph.

        Raises TypeError for objects of the wrong kind and ValueError/KeyError for names not in the graph,
        with TensorFlow's messages.
        """
        if allow_tensor and allow_operation:
            types_str = "Tensor or Operation"
        elif allow_tensor:
            types_str = "Tensor"
        else:
            types_str = "Operation"
        conv = getattr(obj, "_as_graph_element", None)
        if conv is not None and not isinstance(obj, (Tensor, Operation)):
            obj = conv()
        if isinstance(obj, bytes):
            obj = obj.decode()
        if isinstance(obj, str):
            name = obj
            if ":" in name and allow_tensor:
                op_name, _, idx = name.rpartition(":")
                try:
                    out_n = int(idx)
                except ValueError:
                    raise ValueError(
                        f"The name {name!r} looks a like a Tensor name, but is not a valid one. Tensor names "
                        'must be of the form "<op_name>:<output_index>".'
                    ) from None
                if op_name not in self._nodes_by_name:
                    raise KeyError(
                        f"The name {name!r} refers to a Tensor which does not exist. The operation, "
                        f"{op_name!r}, does not exist in the graph."
                    )
                op = self._nodes_by_name[op_name]
                if out_n < 0 or out_n >= len(op._outputs):
                    raise KeyError(
                        f"The name {name!r} refers to a Tensor which does not exist. The operation, "
                        f"{op_name!r}, exists but only has {len(op._outputs)} outputs."
                    )
                return op._outputs[out_n]
            if ":" in name and not allow_tensor:
                raise ValueError(f"Name {name!r} appears to refer to a Tensor, not a {types_str}.")
            if ":" not in name and allow_operation:
                if name not in self._nodes_by_name:
                    raise KeyError(f"The name {name!r} refers to an Operation not in the graph.")
                return self._nodes_by_name[name]
            if name in self._nodes_by_name:
                raise ValueError(
                    f"The name {name!r} refers to an Operation, not a {types_str}. Tensor names must be of the "
                    'form "<op_name>:<output_index>".'
                )
            raise ValueError(
                f"The name {name!r} looks like an (invalid) Operation name, not a {types_str}. Tensor names must "
                'be of the form "<op_name>:<output_index>".'
            )
        if isinstance(obj, Tensor) and allow_tensor:
            if obj.graph is not self:
                raise ValueError(f"Tensor {obj} is not an element of this graph.")
            return obj
        if isinstance(obj, Operation) and allow_operation:
            if obj._graph is not self:
                raise ValueError(f"Operation {obj} is not an element of this graph.")
            return obj
        raise TypeError(f"Can not convert a {type(obj).__name__} into a {types_str}.")

    # -- collections -----------------------------------------------------------
    def add_to_collection(self, name: str, value) -> None:
        self._check_not_finalized()
        self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names, value) -> None:
        names = (names,) if isinstance(names, str) else set(names)
        for name in names:
            self.add_to_collection(name, value)

    def get_collection_ref(self, name: str) -> list:
        return self._collections.setdefault(name, [])

    def get_collection(self, name: str, scope=None) -> list:
        items = self._collections.get(name, [])
        if scope is None:
            return list(items)
        regex = re.compile(scope)
        return [it for it in items if getattr(it, "name", None) is not None and regex.match(it.name)]

    def get_all_collection_keys(self) -> list[str]:
        return [k for k in self._collections if isinstance(k, str)]

    def clear_collection(self, name: str) -> None:
        self._check_not_finalized()
        self._collections.pop(name, None)

    # -- feeding / fetching policy ---------------------------------------------
    def prevent_feeding(self, tensor: Tensor) -> None:
        self._unfeedable.add(tensor)
        self._version += 1  # sessions re-check feeds of cached signatures

    def is_feedable(self, tensor: Tensor) -> bool:
        return tensor not in self._unfeedable

    def prevent_fetching(self, op: Operation) -> None:
        self._unfetchable.add(op)
        self._version += 1  # sessions re-check fetches of cached signatures

    def is_fetchable(self, tensor_or_op) -> bool:
        op = tensor_or_op.op if isinstance(tensor_or_op, Tensor) else tensor_or_op
        return op not in self._unfetchable

    # -- serialization ---------------------------------------------------------
    def as_graph_def(self, from_version=None, add_shapes: bool = False):
        """Returns a `GraphDef` proto with a NodeDef for every op (those added after `from_version` if given)."""
        graph_def = _graph_def_export("as_graph_def")(self, from_version=from_version, add_shapes=add_shapes)
        _graph_def_export("finish_graph_def")(self, graph_def)
        return graph_def

    def _next_op_seed(self) -> int:
        """The op seed a random op gets when only the graph seed is set: the graph's op count so far, so each
        random op draws differently and a rebuilt program repeats."""
        return len(self._nodes)


# The prefix of a colocation group in an op's `_class` attr: `loc:@` and the name of the group's op.
COLOCATION_PREFIX = b"loc:@"


def _as_group_bytes(value) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8", errors="surrogateescape")


class _PendingPlacement(NamedTuple):
    """The device scopes (outermost first) and the ops to colocate with, in effect where an op was created."""

    devices: tuple
    colocations: tuple


def _op_to_colocate_with(value, graph: Graph) -> Operation:
    if isinstance(value, Operation):
        return value
    if isinstance(value, Tensor):
        return value.op
    op = getattr(value, "op", None)  # a Variable: colocate with its variable op
    if isinstance(op, Operation):
        return op
    element = graph.as_graph_element(value)
    return element.op if isinstance(element, Tensor) else element


_DEVICE_FIELDS = ("job", "replica", "task", "device")


def _device_string(d) -> str:
    if d is None:
        return ""
    return d.to_string() if hasattr(d, "to_string") else str(d)


def _device_number(value: str, what: str, spec: str) -> str:
    """`value` if it is a number (or '*' where `what` is the device index), as TF's DeviceSpec parses it."""
    if value.isascii() and value.isdigit() or value == "*" and what == "device index":
        return value
    raise ValueError(f"Invalid {what} '{value}' in device spec '{spec}': it must be a non-negative integer")


def _parse_device(spec: str) -> dict:
    """{'job', 'replica', 'task', 'device'} -> value, for the fields a device string names. A field named
    twice, a replica, task or device index that is not a number, or an unknown attribute is a ValueError."""
    fields: dict[str, str] = {}
    for part in spec.split("/"):
        y = part.split(":")
        if y[0] in ("job", "replica", "task") and len(y) == 2:
            if y[0] in fields:
                raise ValueError(f"Cannot specify '{y[0]}' twice in device spec '{spec}'")
            fields[y[0]] = y[1] if y[0] == "job" else _device_number(y[1], y[0], spec)
        elif len(y) in (1, 2) and y[0].upper() in ("CPU", "GPU") or len(y) == 3 and y[0] == "device":
            if "device" in fields:
                raise ValueError(f"Cannot specify multiple device types: {spec}")
            kind, index = (y[1], y[2]) if len(y) == 3 else (y[0].upper(), y[1] if len(y) == 2 else "*")
            fields["device"] = f"{kind}:{_device_number(index, 'device index', spec)}"
        elif part:
            raise ValueError(f"Unknown attribute: '{y[0]}' in '{spec}'")
    return fields


def _merge_device(current: str, spec: str) -> str:
    """`spec` filling in the fields `current` leaves unset, in TF's canonical spelling."""
    fields = {**_parse_device(spec), **_parse_device(current)}
    return "".join(f"/{k}:{fields[k]}" for k in _DEVICE_FIELDS if k in fields)


# ----------------------------------------------------------------------------------------------------------
# Default graph and session stacks
# ----------------------------------------------------------------------------------------------------------
_thread_state = threading.local()
_global_default_graph: Graph | None = None
_global_lock = threading.Lock()


def _graph_stack() -> list:
    stack = getattr(_thread_state, "graphs", None)
    if stack is None:
        stack = _thread_state.graphs = []
    return stack


def _session_stack() -> list:
    stack = getattr(_thread_state, "sessions", None)
    if stack is None:
        stack = _thread_state.sessions = []
    return stack


@tf_export("get_default_graph")
def get_default_graph() -> Graph:
    """The innermost graph entered with `as_default()` in this thread, else the process-wide default graph."""
    stack = _graph_stack()
    if stack:
        return stack[-1]
    global _global_default_graph
    if _global_default_graph is None:
        with _global_lock:
            if _global_default_graph is None:
                _global_default_graph = Graph()
    return _global_default_graph


@tf_export("reset_default_graph")
def reset_default_graph() -> None:
    """Replaces the process-wide default graph with a new empty one."""
    if _graph_stack():
        raise AssertionError(
            "Do not use tf.reset_default_graph() to clear nested graphs. If you need a cleared graph, exit the "
            "nesting and create a new graph."
        )
    global _global_default_graph
    _global_default_graph = Graph()


@tf_export("executing_eagerly")
def executing_eagerly() -> bool:
    """Always False: tfmini has graph mode only."""
    return False


@tf_export("disable_eager_execution")
def disable_eager_execution() -> None:
    """A no-op: graph mode is the only mode. TF1 programs run on TF2 call it (or `disable_v2_behavior`) first."""


@tf_export("disable_v2_behavior")
def disable_v2_behavior() -> None:
    """A no-op: tfmini always behaves as TF 1.x (graph mode, v1 control-flow semantics, v1 TensorShape)."""


@tf_export("get_default_session")
def get_default_session():
    """The innermost session made default in this thread (`with sess:` / `as_default()` /
    InteractiveSession), or None."""
    stack = _session_stack()
    return stack[-1] if stack else None


@contextlib.contextmanager
def default_session(session) -> Iterator[Any]:
    stack = _session_stack()
    stack.append(session)
    try:
        yield session
    finally:
        for i in range(len(stack) - 1, -1, -1):
            if stack[i] is session:
                del stack[i]
                break


def prepend_name_scope(name: str, import_scope: str | None) -> str:
    """`name` (an op or tensor name, or a '^' control input) under `import_scope`."""
    if not import_scope:
        return name
    scope = import_scope.rstrip("/")
    if name.startswith("^"):
        return "^" + scope + "/" + name[1:]
    return scope + "/" + name


def strip_name_scope(name: str, export_scope: str | None) -> str:
    """`name` with the leading `export_scope/` removed (unchanged when it lies outside the scope)."""
    if not export_scope:
        return name
    scope = export_scope.rstrip("/") + "/"
    if name.startswith("^" + scope):
        return "^" + name[len(scope) + 1:]
    if name.startswith(scope):
        return name[len(scope):]
    return name


def in_name_scope(name: str, scope: str | None) -> bool:
    """Whether `name` lies under `scope` (every name does when `scope` is empty)."""
    return not scope or name.startswith(scope.rstrip("/") + "/")


# ----------------------------------------------------------------------------------------------------------
# Module-level conveniences over the default graph
# ----------------------------------------------------------------------------------------------------------
@tf_export("name_scope")
@contextlib.contextmanager
def name_scope(name, default_name=None, values=None) -> Iterator[str]:
    """`tf.name_scope`: a scope on the graph of `values` (or the default graph)."""
    n = default_name if name is None else name
    # `tf.name_scope(None)` alone is TF's idiom for returning to the root scope; with values it is an error.
    if n is None and values is not None:
        raise ValueError(f"At least one of name ({name}) and default_name ({default_name}) must be provided.")
    graph = get_default_graph()
    if values and not graph.building_function:
        graph = _graph_from_values(values)
    # Ops created in the scope (e.g. constants converted from Python values) go to the graph of `values`.
    enter_graph = graph.as_default() if graph is not get_default_graph() else contextlib.nullcontext()
    with enter_graph, graph.name_scope(n) as scope:
        yield scope


def _graph_from_values(values) -> Graph:
    """The graph the graph elements among `values` live in; as in TF, elements of two graphs are a
    ValueError naming both."""
    graph = first = None
    for v in _flatten_values(values):
        kind = type(v)
        # The common cases first: the general probe below costs more than the op's other bookkeeping.
        if kind is Tensor or kind is Operation:
            element = v
        elif kind in _PLAIN_VALUES:
            continue
        else:
            element = _graph_element_of(v)
        if element is None:
            continue
        if graph is None:
            graph, first = element.graph, element
        elif element.graph is not graph:
            raise ValueError(f"{element} must be from the same graph as {first}.")
    return graph if graph is not None else get_default_graph()


def _graph_element_of(value):
    """`value` if it lives in a graph (a Tensor, an Operation, a composite tensor), the graph element it stands
    for if it has one (a Variable's tensor), else None."""
    if isinstance(getattr(value, "graph", None), Graph) and not hasattr(value, "_as_graph_element"):
        return value
    as_element = getattr(value, "_as_graph_element", None)
    if not callable(as_element):
        return None
    try:
        element = as_element()
    except Exception:  # noqa: BLE001 - an object that cannot name its element yet belongs to no graph
        return None
    return element if isinstance(getattr(element, "graph", None), Graph) else None


# Types that never stand for a graph element.
_PLAIN_VALUES = frozenset({int, float, bool, complex, str, bytes, type(None)})


def _flatten_values(values):
    if isinstance(values, (list, tuple)):
        for v in values:
            yield from _flatten_values(v)
    else:
        yield values


@tf_export("control_dependencies")
def control_dependencies(control_inputs):
    return get_default_graph().control_dependencies(control_inputs)


@tf_export("container")
def container(container_name):
    """`tf.container`: a context manager putting the stateful ops created inside into `container_name`."""
    return get_default_graph().container(container_name)


@tf_export("device")
def device(device_name_or_function):
    return get_default_graph().device(device_name_or_function)


@tf_export("colocate_with")
def colocate_with(op, ignore_existing: bool = False):
    return get_default_graph().colocate_with(op, ignore_existing)


@tf_export("add_to_collection")
def add_to_collection(name: str, value) -> None:
    get_default_graph().add_to_collection(name, value)


@tf_export("add_to_collections")
def add_to_collections(names, value) -> None:
    get_default_graph().add_to_collections(names, value)


@tf_export("get_collection")
def get_collection(key: str, scope=None) -> list:
    return get_default_graph().get_collection(key, scope)


@tf_export("get_collection_ref")
def get_collection_ref(key: str) -> list:
    return get_default_graph().get_collection_ref(key)


@tf_export("GraphKeys")
class GraphKeys:
    """`tf.GraphKeys`: the standard collection names (the strings TF uses, so saved graphs agree)."""

    GLOBAL_VARIABLES = "variables"
    LOCAL_VARIABLES = "local_variables"
    METRIC_VARIABLES = "metric_variables"
    MODEL_VARIABLES = "model_variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    SUMMARIES = "summaries"
    QUEUE_RUNNERS = "queue_runners"
    TABLE_INITIALIZERS = "table_initializer"
    ASSET_FILEPATHS = "asset_filepaths"
    MOVING_AVERAGE_VARIABLES = "moving_average_variables"
    REGULARIZATION_LOSSES = "regularization_losses"
    CONCATENATED_VARIABLES = "concatenated_variables"
    SAVERS = "savers"
    WEIGHTS = "weights"
    BIASES = "biases"
    ACTIVATIONS = "activations"
    UPDATE_OPS = "update_ops"
    LOSSES = "losses"
    SAVEABLE_OBJECTS = "saveable_objects"
    RESOURCES = "resources"
    LOCAL_RESOURCES = "local_resources"
    TRAINABLE_RESOURCE_VARIABLES = "trainable_resource_variables"
    INIT_OP = "init_op"
    LOCAL_INIT_OP = "local_init_op"
    READY_OP = "ready_op"
    READY_FOR_LOCAL_INIT_OP = "ready_for_local_init_op"
    SUMMARY_OP = "summary_op"
    GLOBAL_STEP = "global_step"
    EVAL_STEP = "eval_step"
    TRAIN_OP = "train_op"
    COND_CONTEXT = "cond_context"
    WHILE_CONTEXT = "while_context"
    VARIABLES = GLOBAL_VARIABLES


@tf_export("init_scope")
@contextlib.contextmanager
def init_scope() -> Iterator[None]:
    """`tf.init_scope`: builds in the outermost graph that is not a function body (variables and their
    initializers live there), with no control dependencies, keeping the current name scope."""
    graph = get_default_graph()
    scope = graph.get_name_scope()
    outer = graph
    while outer.building_function:
        outer = outer.outer_graph
    if outer is graph:
        with graph.control_dependencies(None):
            yield
        return
    with outer.as_default(), outer.name_scope(scope + "/" if scope else None), outer.control_dependencies(None):
        yield


# ----------------------------------------------------------------------------------------------------------
# Conversion to Tensor
# ----------------------------------------------------------------------------------------------------------
_conversion_registry: list[tuple[int, type, Callable]] = []


# convert_to_tensor's last resort for Python and NumPy values: a Const op. Const is declared through the op
# registry above this module, so constant_op registers its `constant` here when it is imported.
_constant_conversion: Callable | None = None


def register_constant_conversion(constant: Callable) -> None:
    """Makes `constant(value, dtype=, name=)` what `convert_to_tensor` builds for a value no registered type
    claims."""
    global _constant_conversion
    _constant_conversion = constant


@tf_export("register_tensor_conversion_function")
def register_tensor_conversion_function(base_type, conversion_func: Callable, priority: int = 100) -> None:
    """Lets `convert_to_tensor` accept instances of `base_type` (e.g. Variables)."""
    _conversion_registry.append((priority, base_type, conversion_func))
    _conversion_registry.sort(key=lambda e: e[0])


@tf_export("convert_to_tensor")
def convert_to_tensor(value, dtype=None, name=None, preferred_dtype=None, as_ref: bool = False,
                      dtype_hint=None) -> Tensor:
    """Turns `value` (a Tensor, a registered type such as a Variable, or a Python/NumPy value) into a Tensor."""
    if dtype is not None:
        dtype = _dtypes.as_dtype(dtype)
    preferred_dtype = preferred_dtype or dtype_hint
    if isinstance(value, Tensor):
        if dtype is not None and not dtype.is_compatible_with(value.dtype):
            raise ValueError(
                f"Tensor conversion requested dtype {dtype.name} for Tensor with dtype {value.dtype.name}: "
                f"{value!r}"
            )
        return value
    for _, base_type, fn in _conversion_registry:
        if isinstance(value, base_type):
            result = fn(value, dtype=dtype, name=name, as_ref=as_ref)
            if result is NotImplemented:
                continue
            if dtype is not None and not dtype.is_compatible_with(result.dtype):
                raise ValueError(
                    f"Tensor conversion requested dtype {dtype.name} for Tensor with dtype {result.dtype.name}: "
                    f"{result!r}"
                )
            return result
    if isinstance(value, Operation):
        raise TypeError(f"Can't convert Operation '{value.name}' to Tensor (target dtype={dtype}, name={name!r})")
    if _constant_conversion is None:
        raise TypeError(f"Failed to convert object of type {type(value)} to Tensor: no conversion is registered "
                        "for Python values (tfmini.framework.constant_op registers one when it is imported).")
    if dtype is None and preferred_dtype is not None:
        try:
            return _constant_conversion(value, dtype=preferred_dtype, name=name or "Const")
        except (TypeError, ValueError):
            pass
    return _constant_conversion(value, dtype=dtype, name=name or "Const")


def convert_n_to_tensor(values, dtype=None, name=None, preferred_dtype=None) -> list[Tensor]:
    return [
        convert_to_tensor(v, dtype=dtype, name=None if name is None else f"{name}_{i}",
                          preferred_dtype=preferred_dtype)
        for i, v in enumerate(values)
    ]


def convert_to_tensor_or_indexed_slices(value, dtype=None, name=None):
    if hasattr(value, "_is_composite_tensor"):
        return value
    return convert_to_tensor(value, dtype=dtype, name=name)


def op_name_is_valid(name: str) -> bool:
    return bool(_VALID_OP_NAME.match(name))
