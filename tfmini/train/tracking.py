"""Object-based checkpoints in graph mode: `tf.train.Checkpoint` (save, write, restore, read, save_counter)
and `tf.train.CheckpointManager`. Checkpoints hold TensorFlow's object graph (`_CHECKPOINTABLE_OBJECT_GRAPH`)
and keys such as `v/.ATTRIBUTES/VARIABLE_VALUE` and `v/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE`,
so TensorFlow reads what tfmini writes and the other way round.

Tracked objects: variables (ref and resource), optimizers (their slot and non-slot variables), Checkpoints,
and any object whose public attributes hold tracked objects (layers, user classes), by attribute name.
"""

from __future__ import annotations

import collections
import logging
import os
import time

from tfmini.framework import dtypes as _dt
from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.framework.constant_op import constant
from tfmini.framework.registry import apply_op
from tfmini.ops import array_ops, control_flow_ops, state_ops
from tfmini.ops.resource_variable_ops import ResourceVariable, assign_variable_op, is_resource_variable
from tfmini.ops.variables import Variable
from tfmini.protobuf import trackable_object_graph_pb2
from tfmini.train import checkpoint as _ckpt
from tfmini.train import training_util
from tfmini.train.optimizer import Optimizer

_log = logging.getLogger("tfmini")

OBJECT_GRAPH_PROTO_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
_VARIABLE_VALUE = "VARIABLE_VALUE"
_TrackableObject = trackable_object_graph_pb2.TrackableObjectGraph.TrackableObject


def _is_variable(x) -> bool:
    return isinstance(x, Variable) or is_resource_variable(x)


def _escape(local_name: str) -> str:
    """A local name as a checkpoint key component: '.' becomes '.S' and '/' becomes './'."""
    return local_name.replace(".", ".S").replace("/", "./")


def _attribute_key(path: str) -> str:
    return f"{path}/.ATTRIBUTES/{_VARIABLE_VALUE}"


def _slot_key(variable_path: str, optimizer_path: str, slot_name: str) -> str:
    return _attribute_key(f"{variable_path}/.OPTIMIZER_SLOT/{optimizer_path}/{_escape(slot_name)}")


def _children(obj) -> list[tuple[str, object]]:
    """The named dependencies of a tracked object, in TF's order."""
    if _is_variable(obj):
        return []
    if isinstance(obj, Checkpoint):
        return list(obj._dependencies.items())
    if isinstance(obj, Optimizer):
        graph = _ops.get_default_graph()
        return [(name, v) for (name, g), v in obj._non_slot_dict.items() if g is graph]
    return [(name, value) for name, value in vars(obj).items() if not name.startswith("_") and _trackable(value)]


def _trackable(value) -> bool:
    if _is_variable(value) or isinstance(value, (Checkpoint, Optimizer)):
        return True
    if isinstance(value, (str, bytes, int, float, bool, _ops.Tensor, _ops.Operation, list, tuple, dict)) or \
            value is None or not hasattr(value, "__dict__"):
        return False
    return any(_trackable(v) for k, v in vars(value).items() if not k.startswith("_"))


class _ObjectGraph:
    """The tracked objects reachable from a root, breadth first as TF numbers them, with their paths, and the
    optimizers' slot variables after them."""

    def __init__(self, root) -> None:
        self.objects: list = [root]
        self.paths: list[str] = [""]
        self.children: list[list[tuple[str, int]]] = [[]]
        ids = {id(root): 0}
        queue = collections.deque([0])
        while queue:
            i = queue.popleft()
            for name, child in _children(self.objects[i]):
                if id(child) not in ids:
                    ids[id(child)] = len(self.objects)
                    self.objects.append(child)
                    self.paths.append(_escape(name) if i == 0 else f"{self.paths[i]}/{_escape(name)}")
                    self.children.append([])
                    queue.append(ids[id(child)])
                self.children[i].append((name, ids[id(child)]))
        # (optimizer node, original variable node, slot name, slot variable node)
        self.slots: list[tuple[int, int, str, int]] = []
        for opt_id, opt in list(enumerate(self.objects)):
            if not isinstance(opt, Optimizer):
                continue
            for slot_name in opt.get_slot_names():
                for var_id, var in list(enumerate(self.objects)):
                    slot = opt.get_slot(var, slot_name) if _is_variable(var) else None
                    if slot is None:
                        continue
                    self.objects.append(slot)
                    self.paths.append(_slot_key(self.paths[var_id], self.paths[opt_id], slot_name))
                    self.children.append([])
                    self.slots.append((opt_id, var_id, slot_name, len(self.objects) - 1))

    def key(self, node_id: int) -> str:
        path = self.paths[node_id]
        return path if path.endswith(_VARIABLE_VALUE) else _attribute_key(path)

    def variables(self) -> list[tuple[int, object]]:
        return [(i, obj) for i, obj in enumerate(self.objects) if _is_variable(obj)]

    def proto(self) -> trackable_object_graph_pb2.TrackableObjectGraph:
        out = trackable_object_graph_pb2.TrackableObjectGraph()
        for i, obj in enumerate(self.objects):
            node = out.nodes.add()
            for name, child in self.children[i]:
                node.children.add(node_id=child, local_name=name)
            if _is_variable(obj):
                node.attributes.add(name=_VARIABLE_VALUE, full_name=obj.op.name, checkpoint_key=self.key(i))
        for opt_id, var_id, slot_name, slot_id in self.slots:
            out.nodes[opt_id].slot_variables.add(original_variable_node_id=var_id, slot_name=slot_name,
                                                 slot_variable_node_id=slot_id)
        return out


def _session(session):
    session = session or _ops.get_default_session()
    if session is None:
        raise ValueError("The session parameter must be specified in graph mode (there is no default session).")
    return session


def _value_tensor(var) -> _ops.Tensor:
    return var.read_value() if is_resource_variable(var) else var.value()


def _restore_op(var, save_path: str, key: str) -> _ops.Operation:
    """An op assigning the checkpoint value `key` of `save_path` to `var` (built outside any control flow)."""
    graph = var.graph
    with graph.as_default(), _ops.control_dependencies(None), _ops.name_scope("checkpoint_restore"):
        restored = apply_op("RestoreV2", [constant(save_path, dtype=_dt.string), constant([key]), constant([""])],
                            {"dtypes": [var.dtype.base_dtype]}).outputs[0]
        if is_resource_variable(var):
            return assign_variable_op(var.handle, restored)
        return state_ops.assign(var._ref(), restored, validate_shape=var.get_shape().is_fully_defined()).op


def _initialize(session, variables) -> None:
    if variables:
        with variables[0].graph.as_default(), _ops.control_dependencies(None):
            session.run(control_flow_ops.group(*[v.initializer for v in variables]))


class _LoadStatus:
    """What `Checkpoint.restore(save_path)` returns: the checkpoint's objects matched to the Python objects
    reachable from the root. In graph mode nothing is restored until `run_restore_ops(session)` or
    `initialize_or_restore(session)` runs; objects created after `restore` (optimizer slots) are matched
    then."""

    def __init__(self, root, save_path: str, graph_proto, keys: set) -> None:
        self._root = root
        self._save_path = save_path
        self._proto = graph_proto
        self._keys = keys
        self._ops: dict[tuple[int, str], _ops.Operation] = {}

    def _match(self) -> tuple[_ObjectGraph, dict[int, int]]:
        """(the Python object graph, checkpoint node id -> Python node id)."""
        graph = _ObjectGraph(self._root)
        python_ids = {id(obj): i for i, obj in enumerate(graph.objects)}
        matched = {0: 0}
        queue = collections.deque([0])
        while queue:
            ckpt_id = queue.popleft()
            py_obj = graph.objects[matched[ckpt_id]]
            py_children = dict(_children(py_obj))
            for ref in self._proto.nodes[ckpt_id].children:
                child = py_children.get(ref.local_name)
                if child is not None and ref.node_id not in matched:
                    matched[ref.node_id] = python_ids[id(child)]
                    queue.append(ref.node_id)
        for ckpt_id, node in enumerate(self._proto.nodes):
            if ckpt_id not in matched or not node.slot_variables:
                continue
            optimizer = graph.objects[matched[ckpt_id]]
            if not isinstance(optimizer, Optimizer):
                continue
            for ref in node.slot_variables:
                original = matched.get(ref.original_variable_node_id)
                if original is None:
                    continue
                slot = optimizer.get_slot(graph.objects[original], ref.slot_name)
                if slot is not None and id(slot) in python_ids:
                    matched[ref.slot_variable_node_id] = python_ids[id(slot)]
        return graph, matched

    def _restore_ops(self, graph: _ObjectGraph, matched: dict[int, int]) -> list:
        out = []
        for ckpt_id, py_id in matched.items():
            var = graph.objects[py_id]
            if not _is_variable(var):
                continue
            for attribute in self._proto.nodes[ckpt_id].attributes:
                if attribute.name != _VARIABLE_VALUE or attribute.checkpoint_key not in self._keys:
                    continue
                cache_key = (id(var), attribute.checkpoint_key)
                if cache_key not in self._ops:
                    self._ops[cache_key] = _restore_op(var, self._save_path, attribute.checkpoint_key)
                out.append(self._ops[cache_key])
        return out

    def run_restore_ops(self, session=None) -> None:
        """Restores every matched variable's value in `session` (default: the default session)."""
        session = _session(session)
        graph, matched = self._match()
        restore_ops = self._restore_ops(graph, matched)
        if restore_ops:
            session.run(restore_ops)

    def initialize_or_restore(self, session=None) -> None:
        """Restores the matched variables and runs the initializers of the other reachable variables."""
        session = _session(session)
        graph, matched = self._match()
        restored = set(matched.values())
        _initialize(session, [v for i, v in graph.variables() if i not in restored])
        restore_ops = self._restore_ops(graph, matched)
        if restore_ops:
            session.run(restore_ops)

    def assert_consumed(self) -> _LoadStatus:
        """AssertionError unless every value in the checkpoint has a Python object and every Python variable a
        checkpointed value."""
        graph, matched = self._match()
        for ckpt_id, node in enumerate(self._proto.nodes):
            if node.attributes and ckpt_id not in matched:
                raise AssertionError(f"Unresolved object in checkpoint {self._save_path}: {node}")
        self._assert_python_matched(graph, matched)
        return self

    def assert_existing_objects_matched(self) -> _LoadStatus:
        """AssertionError unless every Python object reachable from the root now has a checkpointed value
        (the checkpoint may hold more)."""
        graph, matched = self._match()
        self._assert_python_matched(graph, matched)
        return self

    def assert_nontrivial_match(self) -> _LoadStatus:
        """AssertionError if nothing but the root was matched."""
        _, matched = self._match()
        if len(matched) <= 1:
            raise AssertionError(f"Nothing except the root object matched a checkpointed value. Typically this "
                                 f"means that the checkpoint does not match the Python program. The following "
                                 f"objects have no matching checkpointed value: {self._root}")
        return self

    def expect_partial(self) -> _LoadStatus:
        """Silences warnings about values of the checkpoint left unused (tfmini gives none)."""
        return self

    def _assert_python_matched(self, graph: _ObjectGraph, matched: dict[int, int]) -> None:
        found = set(matched.values())
        missing = [obj for i, obj in enumerate(graph.objects) if i not in found]
        if missing:
            raise AssertionError(f"Some Python objects were not bound to checkpointed values, likely due to changes "
                                 f"in the Python program: {missing}")


class _NameBasedStatus:
    """What restoring a tf.train.Saver checkpoint (no object graph) returns: each variable reachable from the
    root is matched by its graph name, as the Saver saved it."""

    def __init__(self, root, save_path: str, keys: set) -> None:
        self._root = root
        self._save_path = save_path
        self._keys = keys
        self._ops: dict[int, _ops.Operation] = {}

    def _variables(self) -> list:
        return [v for _, v in _ObjectGraph(self._root).variables()]

    def run_restore_ops(self, session=None) -> None:
        session = _session(session)
        restore_ops = []
        for var in self._variables():
            if var.op.name in self._keys:
                if id(var) not in self._ops:
                    self._ops[id(var)] = _restore_op(var, self._save_path, var.op.name)
                restore_ops.append(self._ops[id(var)])
        if restore_ops:
            session.run(restore_ops)

    def initialize_or_restore(self, session=None) -> None:
        self.run_restore_ops(session)

    def assert_consumed(self):
        raise AssertionError(f"{self._save_path} is a name-based tf.train.Saver checkpoint: its values are matched "
                             "by variable names, so which of them are used cannot be asserted. Save it again with "
                             "tf.train.Checkpoint to get an object-based checkpoint.")

    def assert_existing_objects_matched(self):
        missing = [v for v in self._variables() if v.op.name not in self._keys]
        if missing:
            raise AssertionError(f"Some objects had no value of their name in the checkpoint: {missing}")
        return self

    def assert_nontrivial_match(self):
        return self.assert_existing_objects_matched()

    def expect_partial(self):
        return self


class _InitializationOnlyStatus:
    """What `Checkpoint.restore(None)` returns: `initialize_or_restore` runs the variables' initializers."""

    _MESSAGE = "No checkpoint specified (save_path=None); nothing is being restored."

    def __init__(self, root) -> None:
        self._root = root

    def initialize_or_restore(self, session=None) -> None:
        _initialize(_session(session), [v for _, v in _ObjectGraph(self._root).variables()])

    def run_restore_ops(self, session=None) -> None:
        raise AssertionError(self._MESSAGE)

    def assert_consumed(self):
        raise AssertionError(self._MESSAGE)

    def assert_existing_objects_matched(self):
        raise AssertionError(self._MESSAGE)

    def assert_nontrivial_match(self):
        raise AssertionError(self._MESSAGE)

    def expect_partial(self):
        return self


@tf_export("train.Checkpoint")
class Checkpoint:
    """Groups trackable objects (variables, optimizers, layers, other Checkpoints) under names, and saves or
    restores all the values reachable from them as an object-based checkpoint:

        ckpt = tf.train.Checkpoint(optimizer=opt, model=model)
        path = ckpt.save("/tmp/training/ckpt", session=sess)      # /tmp/training/ckpt-1
        ckpt.restore(path).run_restore_ops(sess)

    In graph mode every operation needs a session (`session=`, or the default session).
    """

    def __init__(self, **kwargs) -> None:
        object.__setattr__(self, "_dependencies", collections.OrderedDict())
        object.__setattr__(self, "_save_counter", None)
        object.__setattr__(self, "_save_ops", {})
        object.__setattr__(self, "_increment", None)
        for name, value in sorted(kwargs.items(), key=lambda item: item[0]):
            setattr(self, name, value)

    def __setattr__(self, name: str, value) -> None:
        if not name.startswith("_"):
            if not _trackable(value):
                raise ValueError(f"`Checkpoint` was expecting a trackable object (a variable, an optimizer, a "
                                 f"Checkpoint or an object holding them), got {value!r}.")
            self._dependencies[name] = value
        object.__setattr__(self, name, value)

    @property
    def save_counter(self):
        """An int64 variable counting the saves, created (uninitialized) on first use."""
        self._maybe_create_save_counter()
        return self._save_counter

    def _maybe_create_save_counter(self) -> None:
        if self._save_counter is None:
            with _ops.init_scope():
                counter = ResourceVariable(0, dtype=_dt.int64, name="save_counter", trainable=False)
            object.__setattr__(self, "_save_counter", counter)
            self._dependencies["save_counter"] = counter

    def write(self, file_prefix: str, session=None) -> str:
        """Writes every value reachable from this object to the checkpoint `file_prefix` (no counter, no
        `checkpoint` state file); returns `file_prefix`."""
        session = _session(session)
        file_prefix = os.fspath(file_prefix)
        graph = _ObjectGraph(self)
        variables = graph.variables()
        keys = tuple(graph.key(i) for i, _ in variables)
        save = self._save_ops.get((session.graph, keys))
        if save is None:
            with session.graph.as_default(), _ops.control_dependencies(None), _ops.name_scope("save"):
                prefix = array_ops.placeholder(_dt.string, [], name="file_prefix")
                proto = array_ops.placeholder(_dt.string, [], name="object_graph")
                names = constant(list(keys) + [OBJECT_GRAPH_PROTO_KEY])
                slices = constant([""] * (len(keys) + 1))
                values = [_value_tensor(v) for _, v in variables] + [proto]
                op = apply_op("SaveV2", [prefix, names, slices, values], name="SaveV2")
            save = (op, prefix, proto)
            self._save_ops[(session.graph, keys)] = save
        directory = os.path.dirname(file_prefix)
        if directory:
            os.makedirs(directory, exist_ok=True)
        op, prefix, proto = save
        session.run(op, {prefix: file_prefix, proto: graph.proto().SerializeToString()})
        return file_prefix

    def save(self, file_prefix: str, session=None) -> str:
        """Increments `save_counter`, writes `<file_prefix>-<counter>` and records it in the directory's
        `checkpoint` state file; returns the path written."""
        session = _session(session)
        file_prefix = os.fspath(file_prefix)
        created = self._save_counter is None
        counter = self.save_counter
        if created:
            session.run(counter.initializer)
        if self._increment is None:
            with session.graph.as_default(), _ops.control_dependencies(None):
                object.__setattr__(self, "_increment", counter.assign_add(1))
        number = int(session.run(self._increment))
        path = self.write(f"{file_prefix}-{number}", session=session)
        _ckpt.update_checkpoint_state(os.path.dirname(file_prefix), path, [path], save_relative_paths=True)
        return path

    def restore(self, save_path):
        """A status object restoring the checkpoint `save_path` (from `save` or `tf.train.latest_checkpoint`)
        into the objects reachable from this one, `save_counter` included; None gives a status that only
        initializes."""
        if save_path is None:
            return _InitializationOnlyStatus(self)
        self._maybe_create_save_counter()
        return self.read(save_path)

    def read(self, save_path):
        """Like `restore`, without creating `save_counter`. A checkpoint written by tf.train.Saver (without an
        object graph) is matched by variable names."""
        save_path = os.fspath(save_path)
        with _ckpt.CheckpointReader(save_path) as reader:
            keys = set(reader.get_variable_to_shape_map())
            if OBJECT_GRAPH_PROTO_KEY not in keys:
                return _NameBasedStatus(self, save_path, keys)
            serialized = reader.get_tensor(OBJECT_GRAPH_PROTO_KEY)
        serialized = serialized.item() if hasattr(serialized, "item") else serialized
        proto = trackable_object_graph_pb2.TrackableObjectGraph.FromString(serialized)
        return _LoadStatus(self, save_path, proto, keys)


@tf_export("train.CheckpointManager")
class CheckpointManager:
    """Saves `checkpoint` as `<directory>/<checkpoint_name>-<n>`, keeps the newest `max_to_keep` (None: all;
    plus one every `keep_checkpoint_every_n_hours`) and records them in `<directory>/checkpoint`; resumes
    the list it finds there."""

    def __init__(self, checkpoint: Checkpoint, directory, max_to_keep, keep_checkpoint_every_n_hours=None,
                 checkpoint_name: str = "ckpt") -> None:
        self._checkpoint = checkpoint
        self._save_counter_assign = None
        if max_to_keep is not None and max_to_keep <= 0:
            raise ValueError(f"Expected a positive integer or `None` for `max_to_keep`, got {max_to_keep}.")
        self._max_to_keep = max_to_keep
        self._keep_checkpoint_every_n_hours = keep_checkpoint_every_n_hours
        self._directory = os.fspath(directory)
        self._checkpoint_prefix = os.path.join(self._directory, checkpoint_name)
        recovered = _ckpt.get_checkpoint_state(self._directory)
        current = time.time()
        self._maybe_delete: collections.OrderedDict[str, float] = collections.OrderedDict()
        if recovered is None:
            self._latest_checkpoint = None
            self._last_preserved_timestamp = current - 1.0
        else:
            self._latest_checkpoint = recovered.model_checkpoint_path
            self._last_preserved_timestamp = recovered.last_preserved_timestamp
            if current < self._last_preserved_timestamp:
                self._last_preserved_timestamp = current
            # A checkpoint counts as this manager's (to be deleted in turn) only when it is younger than the last
            # preserved one; a state file without times (tf.train.Checkpoint.save writes none) hands none over,
            # so a manager never deletes checkpoints it cannot date.
            paths = recovered.all_model_checkpoint_paths
            timestamps = (list(recovered.all_model_checkpoint_timestamps)
                          or [self._last_preserved_timestamp] * len(paths))
            for path, stamp in zip(paths, timestamps):
                stamp = min(stamp, current)
                if stamp > self._last_preserved_timestamp:
                    self._maybe_delete[path] = stamp

    @property
    def directory(self) -> str:
        return self._directory

    @property
    def latest_checkpoint(self) -> str | None:
        return self._latest_checkpoint

    @property
    def checkpoints(self) -> list[str]:
        """The checkpoints kept (those `max_to_keep` will delete next first)."""
        return list(self._maybe_delete)

    def _record_state(self) -> None:
        _ckpt.update_checkpoint_state(
            self._directory, self._latest_checkpoint, list(self._maybe_delete),
            all_model_checkpoint_timestamps=list(self._maybe_delete.values()),
            last_preserved_timestamp=self._last_preserved_timestamp, save_relative_paths=True)

    def _sweep(self) -> None:
        if not self._max_to_keep:
            return
        while len(self._maybe_delete) > self._max_to_keep:
            filename, timestamp = self._maybe_delete.popitem(last=False)
            every = self._keep_checkpoint_every_n_hours
            if every and timestamp - every * 3600.0 >= self._last_preserved_timestamp:
                self._last_preserved_timestamp = timestamp
                continue
            _ckpt.remove_checkpoint(filename)

    def save(self, checkpoint_number=None) -> str:
        """Increments the checkpoint's save counter and writes `<prefix>-<checkpoint_number>` (default: the
        counter; an integer variable or tensor such as the global step is read), deleting what max_to_keep
        no longer keeps; returns the path. Runs in the default session."""
        session = _session(None)
        created = self._checkpoint._save_counter is None
        counter = self._checkpoint.save_counter
        if created:
            session.run(counter.initializer)
        if self._save_counter_assign is None:
            with session.graph.as_default(), _ops.control_dependencies(None):
                self._save_counter_assign = counter.assign_add(1)
        number = int(session.run(self._save_counter_assign))
        if checkpoint_number is None:
            checkpoint_number = number
        elif not isinstance(checkpoint_number, int):
            checkpoint_number = training_util.global_step(session, checkpoint_number)
        save_path = self._checkpoint.write(f"{self._checkpoint_prefix}-{checkpoint_number}", session=session)
        self._maybe_delete.pop(save_path, None)
        self._maybe_delete[save_path] = time.time()
        self._latest_checkpoint = save_path
        self._record_state()
        self._sweep()
        self._record_state()
        return save_path


__all__ = ["Checkpoint", "CheckpointManager"]
