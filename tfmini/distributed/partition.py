"""Placement and partitioning of a step, as TF's distributed master does it: every node of a GraphDef gets a full
device on a task of the cluster (`place`), and the nodes a step signature needs are cut into one partition
GraphDef per task, joined by `_Send`/`_Recv` pairs at the cut edges, with feeds and fetches as
client-terminated recvs and sends (`partition` -> `PartitionedStep`). Pure graph code: knows nothing of Dask
or of how partitions run.

Every partition lists its nodes in one global topological order of the whole partitioned step (send and recv
nodes included): a worker running a partition's nodes in their order can always run the lowest-ordered node
not yet run anywhere, so no cycle of waiting recvs can form."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NoReturn

from tfmini.framework import dtypes as _dtypes
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import registry as _registry
from tfmini.framework.device import DeviceSpec
from tfmini.ops.sendrecv_ops import rendezvous_key
from tfmini.protobuf import graph_pb2, node_def_pb2
from tfmini.train.server_lib import ClusterSpec

CPU = "CPU"


def device_of_task(task: str) -> str:
    """The CPU device of a task: '/job:ps/replica:0/task:0/device:CPU:0'."""
    return f"{task}/device:{CPU}:0"


def task_name(job: str, task: int, replica: int = 0) -> str:
    """TF's full name of a task: '/job:<job>/replica:<replica>/task:<task>'."""
    return f"/job:{job}/replica:{replica}/task:{task}"


def cluster_tasks(cluster) -> list[str]:
    """The full task names of `cluster` (a ClusterSpec, its dict or ClusterDef, or task names), jobs sorted by
    name and tasks by index, the order of TF's ClusterDef."""
    if isinstance(cluster, (list, tuple)) and all(isinstance(t, str) for t in cluster):
        names = [_full_task(t) for t in cluster]
        return sorted(set(names), key=_task_sort_key)
    spec = cluster if isinstance(cluster, ClusterSpec) else ClusterSpec(cluster)
    return [task_name(job, i) for job in sorted(spec.jobs) for i in spec.task_indices(job)]


def session_tasks(cluster, master: str, device_filters: Iterable[str] = ()) -> list[str]:
    """The tasks a session with `ConfigProto.device_filters` sees, in ClusterDef order: every task of
    `cluster` without filters; else the master task and each task whose CPU device some filter matches (every
    field the filter gives equals the device's: '/job:ps', '/job:worker/task:1', '/replica:0/task:1'; a
    filter naming another device type matches none). A filter that is no device name matches nothing, as TF
    skips it."""
    tasks = cluster_tasks(cluster)
    filters = list(device_filters)
    if not filters:
        return tasks
    specs = []
    for text in filters:
        try:
            specs.append(DeviceSpec.from_string(text))
        except ValueError:
            continue
    master = _full_task(master)
    return [t for t in tasks if t == master or any(_filter_matches(spec, t) for spec in specs)]


def _filter_matches(spec: DeviceSpec, task: str) -> bool:
    there = DeviceSpec.from_string(task)
    if any(want is not None and want != have for want, have in
           ((spec.job, there.job), (spec.replica, there.replica), (spec.task, there.task))):
        return False
    return (spec.device_type is None or spec.device_type.upper() == CPU) and spec.device_index in (None, 0)


def _task_sort_key(task: str) -> tuple:
    spec = DeviceSpec.from_string(task)
    return (spec.job or "", spec.replica or 0, spec.task or 0)


def _full_task(task: str) -> str:
    """'/job:ps/replica:0/task:1' for '/job:ps/task:1' (or for one of its devices)."""
    try:
        spec = DeviceSpec.from_string(task)
    except ValueError:
        raise _errors.InvalidArgumentError(None, None, f"Malformed task name: '{task}'") from None
    if spec.job is None:
        raise _errors.InvalidArgumentError(None, None, f"A task name must name its job: '{task}'")
    return task_name(spec.job, spec.task or 0, spec.replica or 0)


# ----------------------------------------------------------------------------------------------------------
# NodeDef facts from the op registry
# ----------------------------------------------------------------------------------------------------------
def _attr(nd, opdef, name: str, kind: str):
    """An attr of NodeDef `nd` as a Python value (type attrs as DTypes), or the op def's default."""
    if name in nd.attr:
        av = nd.attr[name]
        if kind == "type":
            return _dtypes.as_dtype(av.type)
        if kind == "list(type)":
            return [_dtypes.as_dtype(t) for t in av.list.type]
        if kind == "int":
            return av.i
        return av
    default = opdef.attrs.get(name, (kind, None))[1]
    if default is _registry.REQUIRED:
        raise _errors.InvalidArgumentError(None, None, f"Node '{nd.name}' ({nd.op}) is missing attr '{name}'.")
    return default


def _arg_types(nd, opdef, specs) -> list[tuple[_dtypes.DType, bool]]:
    """The flat (dtype, is_ref) of the args `specs` (an op def's inputs or outputs) of NodeDef `nd`."""
    out = []
    for spec in specs:
        if spec.type_list_attr is not None:
            types = list(_attr(nd, opdef, spec.type_list_attr, "list(type)"))
        else:
            dtype = spec.fixed_type if spec.fixed_type is not None else _attr(nd, opdef, spec.type_attr, "type")
            n = _attr(nd, opdef, spec.number_attr, "int") if spec.number_attr else 1
            types = [dtype] * n
        out.extend((t, spec.is_ref) for t in types)
    return out


class _Node:
    """What partitioning needs of one NodeDef: its position, data inputs (node, port), control inputs, and
    its output types."""

    __slots__ = ("nd", "index", "inputs", "controls", "outputs", "ref_args", "forwards_refs")

    def __init__(self, nd, index: int) -> None:
        self.nd = nd
        self.index = index
        self.inputs: list[tuple[str, int]] = []
        self.controls: list[str] = []
        for inp in nd.input:
            if inp.startswith("^"):
                self.controls.append(inp[1:])
            else:
                name, _, port = inp.partition(":")
                self.inputs.append((name, int(port) if port else 0))
        try:
            opdef = _registry.get_op_def(nd.op)
        except KeyError:
            raise _errors.InvalidArgumentError(
                None, None, f"Op type not registered '{nd.op}' in node '{nd.name}'") from None
        self.outputs = [t._as_ref if ref else t for t, ref in _arg_types(nd, opdef, opdef.outputs)]
        self.ref_args = [ref for _, ref in _arg_types(nd, opdef, opdef.inputs)]
        self.forwards_refs = opdef.forwards_refs


def _nodes(graph_def) -> dict[str, _Node]:
    nodes: dict[str, _Node] = {}
    for i, nd in enumerate(graph_def.node):
        nodes[nd.name] = _Node(nd, i)
    for node in nodes.values():
        for name, _ in node.inputs:
            if name not in nodes:
                raise _errors.InvalidArgumentError(
                    None, None, f"Node '{node.nd.name}': Unknown input node '{name}'")
        for name in node.controls:
            if name not in nodes:
                raise _errors.InvalidArgumentError(
                    None, None, f"Node '{node.nd.name}': Unknown input node '^{name}'")
    return nodes


def _topological(nodes: Mapping[str, _Node], names: Iterable[str]) -> list[str]:
    """`names` in a topological order of their data and control edges, lowest GraphDef position first among
    the ready ones (so a GraphDef already in topological order keeps its order)."""
    chosen = set(names)
    waiting: dict[str, int] = {}
    users: dict[str, list[str]] = {n: [] for n in chosen}
    for n in chosen:
        deps = {p for p, _ in nodes[n].inputs} | set(nodes[n].controls)
        deps &= chosen
        waiting[n] = len(deps)
        for d in deps:
            users[d].append(n)
    ready = [(nodes[n].index, n) for n in chosen if waiting[n] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, n = heapq.heappop(ready)
        order.append(n)
        for u in users[n]:
            waiting[u] -= 1
            if waiting[u] == 0:
                heapq.heappush(ready, (nodes[u].index, u))
    if len(order) != len(chosen):
        stuck = sorted(n for n in chosen if waiting[n] > 0)
        raise _errors.InvalidArgumentError(None, None, f"Graph contains a cycle through node '{stuck[0]}'.")
    return order


# ----------------------------------------------------------------------------------------------------------
# Placement
# ----------------------------------------------------------------------------------------------------------
def _graph_def(graph):
    return graph.as_graph_def() if isinstance(graph, _ops.Graph) else graph


def _follows(node: _Node, nodes: Mapping[str, _Node]) -> str | None:
    """The producer whose device `node` must share: that of its first input that is a resource handle, or a
    ref it takes as a ref (an update's variable; a functional op handing variables to its bodies)."""
    for k, (name, port) in enumerate(node.inputs):
        dtype = nodes[name].outputs[port]
        if dtype.base_dtype == _dtypes.resource:
            return name
        if dtype.is_ref and (node.forwards_refs or (k < len(node.ref_args) and node.ref_args[k])):
            return name
    return None


def place(graph_def, cluster, master: str, allow_soft_placement: bool = False,
          nodes: Mapping | None = None) -> dict[str, str]:
    """node name -> full device ('/job:J/replica:0/task:T/device:CPU:0') for every node of `graph_def` (a
    GraphDef or Graph), as TF's placer assigns them in a session whose master task is `master`:

    - a device string is completed from the master task for the job (and for the task, when the job is the
      master's; else the job's first task), replica 0 and `device:CPU:0`;
    - an op that takes a resource handle (ReadVariableOp, AssignVariableOp, ResourceApply*, queue and
      iterator ops, ...) or updates a ref (Assign, Apply*) is placed with the op producing the handle or ref;
    - an op whose `_class` attr names a colocation group ('loc:@w', in GraphDefs written by TensorFlow) is
      placed with that group's op;
    - a Shape, Size or Rank is placed with its input when its device string allows it;
    - a generator (no data inputs, one output that is neither a ref nor a resource handle: a constant made
      outside its readers' device scope) is placed after every other op, on the device of its readers when
      they share one its device string allows;
    - a device the cluster does not have (job, task, or a device type other than CPU) is an
      InvalidArgumentError with TF's wording; `allow_soft_placement` puts an op asking for a device type or
      index its task lacks (GPU, CPU:1) on that task's CPU, while a job or task the cluster lacks stays an
      error, as in TF."""
    graph_def = _graph_def(graph_def)
    tasks = cluster_tasks(cluster)
    master = _full_task(master)
    if master not in tasks:
        raise _errors.InvalidArgumentError(None, None, f"The master task {master} is not in the cluster {tasks}.")
    nodes = _nodes(graph_def) if nodes is None else nodes
    placer = _Placer(tasks, master, allow_soft_placement)
    devices: dict[str, str] = {}
    order = _topological(nodes, nodes)
    leaders = {group for node in nodes.values() if (group := _colocation(node, nodes)) is not None}
    # TF's placer leaves generators (no data inputs, one output that is neither a ref nor a resource handle)
    # to a second pass, so their consumers are placed first (and a device error names a consumer first).
    deferred = [name for name in order if _is_generator(nodes[name]) and name not in leaders
                and _colocation(nodes[name], nodes) is None]
    skipped = set(deferred)
    for name in order:
        if name in skipped:
            continue
        node = nodes[name]
        leader = _follows(node, nodes)
        if leader is not None:
            devices[name] = devices[leader]
            continue
        group = _colocation(node, nodes)
        if group is not None and group != name:
            # A GraphDef from TensorFlow names colocation groups in `_class`: the group's op decides.
            leader_node = nodes[group]
            devices[name] = devices.get(group) or placer.device(group, leader_node.nd.device)
        elif node.nd.op in _METADATA_OPS and node.inputs and node.inputs[0][0] in devices and placer.allows(
                node.nd.device, devices[node.inputs[0][0]]):
            # TF's placer: an op reading only its input's metadata runs where the input is made.
            devices[name] = devices[node.inputs[0][0]]
        else:
            devices[name] = placer.device(name, node.nd.device)
    _place_generators(nodes, devices, reversed(deferred), placer)
    return devices


# The op types TF's placer knows to read only the metadata of their input.
_METADATA_OPS = frozenset({"Shape", "Size", "Rank"})


def _is_generator(node: _Node) -> bool:
    return (not node.inputs and len(node.outputs) == 1 and not node.outputs[0].is_ref
            and node.outputs[0].base_dtype != _dtypes.resource)


def _place_generators(nodes: Mapping[str, _Node], devices: dict[str, str], generators: Iterable[str],
                      placer: _Placer) -> None:
    """TF's placer heuristic for generators (a constant made outside the device scope of its readers): one
    whose consumers (data and control) are all on one device goes there when its own device string allows
    it; any other goes where its device string says. `generators` come consumers first."""
    consumers: dict[str, list[str]] = {}
    for name, node in nodes.items():
        for src, _ in node.inputs:
            consumers.setdefault(src, []).append(name)
        for src in node.controls:
            consumers.setdefault(src, []).append(name)
    for name in generators:
        requested = nodes[name].nd.device
        found = {devices.get(c) for c in consumers.get(name, ())}
        if len(found) == 1 and None not in found and placer.allows(requested, next(iter(found))):
            devices[name] = next(iter(found))
        else:
            devices[name] = placer.device(name, requested)


def _colocation(node: _Node, nodes: Mapping[str, _Node]) -> str | None:
    """The node a `_class: ["loc:@name"]` attr (TF's colocation constraint) names, when the graph has it."""
    if "_class" not in node.nd.attr:
        return None
    for entry in node.nd.attr["_class"].list.s:
        text = entry.decode(errors="replace")
        if text.startswith("loc:@") and text[5:] in nodes:
            return text[5:]
    return None


class _Placer:
    def __init__(self, tasks: list[str], master: str, soft: bool) -> None:
        self.tasks = set(tasks)
        self.master = master
        self.master_spec = DeviceSpec.from_string(master)
        self.soft = soft
        self.first_task: dict[str, int] = {}
        for t in tasks:
            spec = DeviceSpec.from_string(t)
            self.first_task.setdefault(spec.job, spec.task)
        self.available = sorted(device_of_task(t) for t in tasks)
        self._memo: dict[str, str] = {}

    def device(self, node_name: str, requested: str) -> str:
        found = self._memo.get(requested)
        if found is None:
            found = self._resolve(node_name, requested)
            if found is not None:
                self._memo[requested] = found
        return found

    def _resolve(self, node_name: str, requested: str) -> str:
        try:
            spec = DeviceSpec.from_string(requested)
        except ValueError:
            return self._unavailable(node_name, requested)
        job = spec.job if spec.job is not None else self.master_spec.job
        if spec.task is not None:
            index = spec.task
        elif job == self.master_spec.job:
            index = self.master_spec.task
        else:
            index = self.first_task.get(job, 0)
        task = task_name(job, index, 0 if spec.replica is None else spec.replica)
        type_ok = spec.device_type is None or (spec.device_type.upper() == CPU and spec.device_index in (None, 0))
        if task in self.tasks and (type_ok or self.soft):
            return device_of_task(task)
        return self._unavailable(node_name, requested)

    def allows(self, requested: str, device: str) -> bool:
        """Whether an op asking for device string `requested` may run on `device` (a full device of the
        cluster): every field the string gives matches, a device type other than CPU only with soft
        placement."""
        try:
            spec = DeviceSpec.from_string(requested)
        except ValueError:
            return False
        there = DeviceSpec.from_string(device)
        if any(want is not None and want != have for want, have in
               ((spec.job, there.job), (spec.replica, there.replica), (spec.task, there.task))):
            return False
        return self.soft or spec.device_type is None or (
            spec.device_type.upper() == CPU and spec.device_index in (None, 0))

    def _unavailable(self, node_name: str, requested: str) -> NoReturn:
        raise _errors.InvalidArgumentError(
            None, None, f"Cannot assign a device for operation {node_name}: Operation was explicitly assigned to "
            f"{requested} but available devices are [ {', '.join(self.available)} ]. Make sure the device "
            "specification refers to a valid device.")


# ----------------------------------------------------------------------------------------------------------
# Partitioning
# ----------------------------------------------------------------------------------------------------------
@dataclass
class PartitionedStep:
    """A step signature cut into partitions.

    `graph_defs`: task -> its partition GraphDef (only tasks with something to run). `run_nodes`: task -> the
    node names its plan runs (its sends, then its target ops). `feed_keys`: per feed tensor, in feed order,
    (task, rendezvous key) the client puts the fed value under on that task, or None for a feed no partition
    reads. `fetch_keys`: per fetch tensor, (task, key) the client receives the value under on that task
    (repeated for a tensor fetched twice: receive it once), or None when the tensor is also fed (the client
    returns the fed value). `devices`: node -> full device of every node that runs. `client_device`: the
    device feeds are sent from and fetches received by (the master task's CPU, as in TF)."""

    graph_defs: dict[str, graph_pb2.GraphDef]
    run_nodes: dict[str, list[str]]
    feed_keys: list[tuple[str, str] | None]
    fetch_keys: list[tuple[str, str] | None]
    devices: dict[str, str] = field(default_factory=dict)
    client_device: str = ""


def _tensor_name(t) -> tuple[str, int]:
    name = t.name if isinstance(t, _ops.Tensor) else str(t)
    node, sep, port = name.partition(":")
    try:
        return node, int(port) if sep else 0
    except ValueError:
        raise _errors.InvalidArgumentError(None, None, f"Malformed tensor name: '{name}'") from None


def _op_name(op) -> str:
    return op.name if isinstance(op, _ops.Operation) else str(op)


def _needed(nodes: Mapping[str, _Node], fetches, targets, fed: set) -> set[str]:
    """The nodes the fetches and targets need given the fed tensors (a fed source node is not needed for a
    control edge either, as the local executor prunes it)."""
    needed: set[str] = set()
    stack = [n for n, p in fetches if (n, p) not in fed] + list(targets)
    while stack:
        name = stack.pop()
        if name in needed:
            continue
        needed.add(name)
        node = nodes[name]
        stack.extend(p for p, port in node.inputs if (p, port) not in fed)
        for c in node.controls:
            src = nodes[c]
            if src.inputs or not src.outputs or not all((c, k) in fed for k in range(len(src.outputs))):
                stack.append(c)
    return needed


def _functions_used(graph_def, nds) -> set[str]:
    """The library functions the NodeDefs `nds` call, directly or through the functions they call."""
    library = {f.signature.name: f for f in graph_def.library.function}
    found: set[str] = set()
    stack: list[str] = []

    def scan(attrs) -> None:
        for av in attrs.values():
            if av.HasField("func"):
                stack.append(av.func.name)
            elif av.HasField("list"):
                stack.extend(f.name for f in av.list.func)

    for nd in nds:
        scan(nd.attr)
    while stack:
        name = stack.pop()
        if name in found or name not in library:
            continue
        found.add(name)
        for fnd in library[name].node_def:
            scan(fnd.attr)
    return found


class _Builder:
    """Writes the partitions in one global order, creating send/recv pairs as the order reaches them."""

    def __init__(self, graph_def, nodes, devices, incarnations, client_device) -> None:
        self.graph_def = graph_def
        self.nodes = nodes
        self.devices = devices
        self.incarnations = incarnations
        self.client_device = client_device
        self.parts: dict[str, graph_pb2.GraphDef] = {}
        self.sends: dict[str, list[str]] = {}
        self.taken = set(nodes)
        self.counter = 0
        self.edges = 0
        # (source node, port) -> {task: name of the tensor there}; the source's own task holds its own name.
        self.available: dict[tuple[str, int], dict[str, str]] = {}
        # constant -> {task: its copy there}
        self.replicas: dict[str, dict[str, str]] = {}
        self.replica_count = 0
        # control source -> {task: node standing for it there}
        self.control_at: dict[str, dict[str, str]] = {}

    def task(self, device: str) -> str:
        return device.rsplit("/device:", 1)[0]

    def incarnation(self, device: str) -> int:
        return int(self.incarnations.get(self.task(device), 0))

    def name(self, base: str) -> str:
        while True:
            candidate = f"{base}_S{self.counter}"
            self.counter += 1
            if candidate not in self.taken:
                self.taken.add(candidate)
                return candidate

    def add(self, task: str, nd) -> None:
        part = self.parts.get(task)
        if part is None:
            part = self.parts[task] = graph_pb2.GraphDef()
            part.versions.CopyFrom(self.graph_def.versions)
            self.sends[task] = []
        part.node.add().CopyFrom(nd)
        if nd.op in ("_Send", "_HostSend"):
            self.sends[task].append(nd.name)

    def transfer(self, op: str, name: str, device: str, dtype, tensor_name: str, send_device: str,
                 recv_device: str, client_terminated: bool = False, input_: str | None = None):
        nd = node_def_pb2.NodeDef(name=name, op=op, device=device)
        if input_ is not None:
            nd.input.append(input_)
        nd.attr["T" if op == "_Send" else "tensor_type"].type = dtype.base_dtype.as_datatype_enum
        nd.attr["tensor_name"].s = tensor_name.encode()
        nd.attr["send_device"].s = send_device.encode()
        nd.attr["send_device_incarnation"].i = _signed64(self.incarnation(send_device))
        nd.attr["recv_device"].s = recv_device.encode()
        nd.attr["client_terminated"].b = client_terminated
        return nd

    def key(self, nd) -> str:
        return rendezvous_key(nd.attr["send_device"].s.decode(), nd.attr["send_device_incarnation"].i,
                              nd.attr["recv_device"].s.decode(), nd.attr["tensor_name"].s.decode())

    # -- data edges --------------------------------------------------------------------------------------
    def send_data(self, src: tuple[str, int], ref: str, dtype, from_device: str, to_tasks: list[str]) -> None:
        """Right after the source: one _Send per destination task; the matching _Recv is written when the
        order reaches the first consumer there."""
        where = self.available.setdefault(src, {})
        where[self.task(from_device)] = ref
        for dst in to_tasks:
            self.edges += 1
            tensor = f"edge_{self.edges}_{src[0]}"
            send = self.transfer("_Send", self.name(src[0]), from_device, dtype, tensor, from_device,
                                 dst + "/device:CPU:0", input_=ref)
            self.add(self.task(from_device), send)
            recv = self.transfer("_Recv", self.name(src[0]), dst + "/device:CPU:0", dtype, tensor, from_device,
                                 dst + "/device:CPU:0")
            where[dst] = recv

    def data_ref(self, src: tuple[str, int], task: str) -> str:
        """The input string for tensor `src` on `task`, writing its pending recv there first."""
        where = self.available[src]
        value = where[task]
        if isinstance(value, str):
            return value
        self.add(task, value)
        where[task] = value.name
        return value.name

    def replica(self, name: str, task: str) -> str:
        """The copy of constant `name` on `task`, written there on first use."""
        copies = self.replicas.setdefault(name, {})
        if task not in copies:
            copy = node_def_pb2.NodeDef()
            copy.CopyFrom(self.nodes[name].nd)
            copy.name = _unique_name(self, f"{name}/replicate/_{self.replica_count}")
            self.replica_count += 1
            copy.device = task + "/device:CPU:0"
            self.add(task, copy)
            copies[task] = copy.name
        return copies[task]

    # -- control edges -----------------------------------------------------------------------------------
    def send_control(self, src: str, from_device: str, to_tasks: list[str]) -> None:
        """As TF does: a Const with the control input, sent to each task, where an Identity of its recv
        stands for the source."""
        where = self.control_at.setdefault(src, {})
        for dst in to_tasks:
            const = node_def_pb2.NodeDef(name=self.name(f"{src}/ctrl"), op="Const", device=from_device)
            const.input.append("^" + src)
            const.attr["dtype"].type = _dtypes.float32.as_datatype_enum
            tensor = const.attr["value"].tensor
            tensor.dtype = _dtypes.float32.as_datatype_enum
            tensor.float_val.append(0.0)
            self.add(self.task(from_device), const)
            self.edges += 1
            tensor_name = f"edge_{self.edges}_{src}"
            recv_device = dst + "/device:CPU:0"
            self.add(self.task(from_device), self.transfer("_Send", self.name(src), from_device, _dtypes.float32,
                                                           tensor_name, from_device, recv_device, input_=const.name))
            recv = self.transfer("_Recv", self.name(src), recv_device, _dtypes.float32, tensor_name, from_device,
                                 recv_device)
            identity = node_def_pb2.NodeDef(name=self.name(src), op="Identity", device=recv_device)
            identity.input.append(recv.name)
            identity.attr["T"].type = _dtypes.float32.as_datatype_enum
            where[dst] = (recv, identity)

    def control_ref(self, src: str, task: str) -> str:
        value = self.control_at[src][task]
        if isinstance(value, str):
            return value
        recv, identity = value
        self.add(task, recv)
        self.add(task, identity)
        self.control_at[src][task] = identity.name
        return identity.name


# The most elements a constant may have to be copied to the tasks that read it instead of sent there.
_REPLICATE_MAX_ELEMENTS = 16


def _replicable(node: _Node) -> bool:
    """Whether `node` is a small constant with no inputs, cheaper to copy than to send."""
    if node.nd.op != "Const" or node.inputs or node.controls:
        return False
    elements = 1
    for dim in node.nd.attr["value"].tensor.tensor_shape.dim:
        elements *= dim.size
    return elements <= _REPLICATE_MAX_ELEMENTS


def _signed64(value: int) -> int:
    value &= 0xFFFFFFFFFFFFFFFF
    return value - (1 << 64) if value >= 1 << 63 else value


class _Reads:
    """Where the step reads what, off the task that makes it: tensors and control edges read on other tasks
    (tasks in the order of their first reader), the tasks reading each fed tensor, the small constants copied
    to their readers, and the nodes a task of their own still needs."""

    def __init__(self, nodes, order, task_of, fed: set, needed: set, targets, fetches) -> None:
        self.remote: dict[tuple[str, int], list[str]] = {}
        self.remote_controls: dict[str, list[str]] = {}
        self.fed_readers: dict[tuple[str, int], list[str]] = {}
        self.copied = {n for n in needed if _replicable(nodes[n])}
        self.local: set[str] = set(targets) | {n for n, _ in fetches}
        for name in order:
            node, here = nodes[name], task_of(name)
            for src in node.inputs:
                there = task_of(src[0])
                if src in fed:
                    _append_new(self.fed_readers.setdefault(src, []), here)
                elif there != here and src[0] in self.copied:
                    continue
                else:
                    self.local.add(src[0])
                if there != here:
                    _append_new(self.remote.setdefault(src, []), here)
            for c in node.controls:
                if c not in needed:
                    continue
                if task_of(c) == here:
                    self.local.add(c)
                else:
                    _append_new(self.remote_controls.setdefault(c, []), here)

    def skipped(self, name: str) -> bool:
        """Whether `name` is a copied constant its own task does not need."""
        return name in self.copied and name not in self.local and name not in self.remote_controls


def _append_new(items: list, item) -> None:
    if item not in items:
        items.append(item)


def partition(graph_def, fetches: Sequence = (), feeds: Sequence = (), targets: Sequence = (), *, cluster,
              master: str, allow_soft_placement: bool = False, incarnations: Mapping[str, int] | None = None,
              devices: Mapping[str, str] | None = None) -> PartitionedStep:
    """Cuts the step that fetches `fetches` (tensors or names 'node:port'), given `feeds` (likewise), and runs
    `targets` (ops or names) out of `graph_def` (a GraphDef, or a Graph whose GraphDef is taken) into one
    partition per task of `cluster`, with the session's `master` task.

    Placement is `place(...)` unless `devices` (its result, computed once per graph) is given. Each cut edge
    gets one `_Send` on the producer's task and one `_Recv` on the consumer's, shared by every consumer
    there; a control edge between tasks goes through a Const sent to the other task; a small constant read on
    another task is copied there. A feed becomes a client-terminated `_Recv` on a task that reads it (the fed
    node's when it does); a fetch a client-terminated `_Send` on the task of its producer. `incarnations`
    (task -> its worker's incarnation) go into the send_device_incarnation attrs and the keys. The functions
    the nodes of a partition call are copied into its library."""
    graph_def = _graph_def(graph_def)
    nodes = _nodes(graph_def)
    fetch_list = [_tensor_name(t) for t in fetches]
    feed_list = [_tensor_name(t) for t in feeds]
    target_list = [_op_name(o) for o in targets]
    for node, port in fetch_list + feed_list:
        if node not in nodes or port >= len(nodes[node].outputs):
            raise _errors.InvalidArgumentError(
                None, None, f"Tensor {node}:{port}, specified in either feed_devices or fetch_devices was not "
                "found in the Graph")
    for name in target_list:
        if name not in nodes:
            raise _errors.InvalidArgumentError(None, None, f"Node '{name}' (a target) was not found in the Graph")
    master = _full_task(master)
    if devices is None:
        devices = place(graph_def, cluster_tasks(cluster), master, allow_soft_placement, nodes=nodes)
    client_device = device_of_task(master)
    fed = set(feed_list)
    needed = _needed(nodes, fetch_list, target_list, fed)
    order = _topological(nodes, needed)
    b = _Builder(graph_def, nodes, devices, incarnations or {}, client_device)

    def task_of(name: str) -> str:
        return b.task(devices[name])

    reads = _Reads(nodes, order, task_of, fed, needed, target_list, fetch_list)
    feed_keys = _write_feeds(b, feed_list, reads, task_of)
    fetch_keys = _write_nodes(b, order, needed, fed, fetch_list, reads, task_of)
    run_nodes: dict[str, list[str]] = {}
    for task, part in b.parts.items():
        run_nodes[task] = list(b.sends[task]) + [t for t in dict.fromkeys(target_list) if task_of(t) == task]
        used = _functions_used(graph_def, part.node)
        for fd in graph_def.library.function:
            if fd.signature.name in used:
                part.library.function.add().CopyFrom(fd)
        for gd in graph_def.library.gradient:
            if gd.function_name in used:
                part.library.gradient.add().CopyFrom(gd)
    ordered = {t: b.parts[t] for t in sorted(b.parts, key=_task_sort_key)}
    return PartitionedStep(graph_defs=ordered, run_nodes={t: run_nodes[t] for t in ordered}, feed_keys=feed_keys,
                           fetch_keys=fetch_keys, devices={n: devices[n] for n in order},
                           client_device=client_device)


def _write_feeds(b: _Builder, feed_list: list, reads: _Reads, task_of) -> list[tuple[str, str] | None]:
    """Writes first, in feed order, a client-terminated recv per fed tensor on a task that reads it (the fed
    node's when it does, else the first reader), sending it on to its other readers; returns the feed keys."""
    feed_keys: list[tuple[str, str] | None] = []
    made: dict[tuple[str, int], tuple[str, str]] = {}
    for src in feed_list:
        if src not in made and src in reads.fed_readers:
            readers = reads.fed_readers[src]
            task = task_of(src[0]) if task_of(src[0]) in readers else readers[0]
            device = device_of_task(task)
            dtype = b.nodes[src[0]].outputs[src[1]]
            recv = b.transfer("_Recv", _unique_name(b, f"_recv_{src[0]}_{src[1]}"), device, dtype,
                              f"{src[0]}:{src[1]}", b.client_device, device, client_terminated=True)
            b.add(task, recv)
            made[src] = (task, b.key(recv))
            b.send_data(src, recv.name, dtype, device, [t for t in readers if t != task])
        feed_keys.append(made.get(src))
    return feed_keys


def _write_nodes(b: _Builder, order: list[str], needed: set, fed: set, fetch_list: list, reads: _Reads,
                 task_of) -> list[tuple[str, str] | None]:
    """Writes the step's nodes in `order`, each preceded by the recvs (and constant copies) it reads first and
    followed by its sends (to other tasks, and to the client for its fetched outputs); returns the fetch keys."""
    fetched: dict[str, list[tuple[str, int]]] = {}
    for src in fetch_list:
        if src not in fed:
            fetched.setdefault(src[0], []).append(src)
    fetch_sends: dict[tuple[str, int], tuple[str, str]] = {}
    for name in order:
        if reads.skipped(name):
            continue
        node, here, device = b.nodes[name], task_of(name), b.devices[name]
        nd = node_def_pb2.NodeDef()
        nd.CopyFrom(node.nd)
        nd.device = device
        del nd.input[:]
        for src in node.inputs:
            if src in fed:
                nd.input.append(b.data_ref(src, here))
            elif task_of(src[0]) == here:
                nd.input.append(_ref(src))
            elif src[0] in reads.copied:
                nd.input.append(b.replica(src[0], here))
            else:
                nd.input.append(b.data_ref(src, here))
        for c in node.controls:
            if c in needed:
                nd.input.append("^" + (c if task_of(c) == here else b.control_ref(c, here)))
        b.add(here, nd)
        for port, dtype in enumerate(node.outputs):
            src = (name, port)
            if src not in fed and reads.remote.get(src):
                b.send_data(src, _ref(src), dtype, device, reads.remote[src])
        if reads.remote_controls.get(name):
            b.send_control(name, device, reads.remote_controls[name])
        for src in fetched.get(name, ()):
            if src not in fetch_sends:
                send = b.transfer("_Send", _unique_name(b, f"_send_{src[0]}_{src[1]}"), device,
                                  node.outputs[src[1]], f"{src[0]}:{src[1]}", device, b.client_device,
                                  client_terminated=True, input_=_ref(src))
                b.add(here, send)
                fetch_sends[src] = (here, b.key(send))
    return [None if src in fed else fetch_sends[src] for src in fetch_list]


def _ref(src: tuple[str, int]) -> str:
    return src[0] if src[1] == 0 else f"{src[0]}:{src[1]}"


def _unique_name(b: _Builder, name: str) -> str:
    candidate, k = name, 1
    while candidate in b.taken:
        candidate, k = f"{name}_{k}", k + 1
    b.taken.add(candidate)
    return candidate


__all__ = ["PartitionedStep", "cluster_tasks", "device_of_task", "partition", "place", "session_tasks", "task_name"]
