"""TF1 dataflow control flow on import: rewrites a GraphDef's while loops (Enter, Merge, Switch, LoopCond,
NextIteration, Exit) and conds (Switch, Merge) into functional `While` and `If` nodes whose cond, body and
branches go into the GraphDef's function library, innermost first. Works on protos only: it knows the
registry's op signatures (to name function outputs) and builds no ops.

Names users fetch survive: each Exit and each cond's Merge becomes an Identity of that name over the
functional node's output (an IdentityN when a Merge's `value_index` output is read too).

TF1 gradients through loops come through unchanged: each stack a gradient loop pops is an invariant of both the
forward and the backward While, and the ops run only for their effect (the forward loop's pushes, the
ControlTriggers joining them) stay control inputs of the values the body or branch returns."""

from __future__ import annotations

from collections import ChainMap, defaultdict, deque

import numpy as np

from tfmini.framework import dtypes as _dtypes
from tfmini.framework import registry as _registry
from tfmini.protobuf import function_pb2, graph_pb2, node_def_pb2, types_pb2

_ENTER = frozenset({"Enter", "RefEnter"})
_EXIT = frozenset({"Exit", "RefExit"})
_MERGE = frozenset({"Merge", "RefMerge"})
_SWITCH = frozenset({"Switch", "RefSwitch"})
_NEXT = frozenset({"NextIteration", "RefNextIteration"})
_TRIGGER = frozenset({"ControlTrigger"})
CONTROL_FLOW_OPS = _ENTER | _EXIT | _MERGE | _SWITCH | _NEXT | {"LoopCond"}

Nodes = dict  # node name -> NodeDef, in GraphDef order


def parse_tensor_name(ref: str) -> tuple[str, int]:
    """(node name, output index) of a tensor reference, as TF parses it: 'name:k' with k made of digits
    names output k of 'name'; any other string ('sp:-1', 'a:b', '') names output 0 of a node called exactly
    that, which the GraphDef then has to hold (names with ':' are not valid, so it never does)."""
    node, sep, index = ref.rpartition(":")
    if sep and node and index.isascii() and index.isdigit():
        return node, int(index)
    return ref, 0


def _key(ref: str) -> str:
    """A data input as 'node:k', whichever way it was spelled."""
    node, k = parse_tensor_name(ref)
    return f"{node}:{k}"


def _ref(node: str, k: int) -> str:
    return node if k == 0 else f"{node}:{k}"


def _source(inp: str) -> str:
    """The node an input (data or control) comes from."""
    return inp[1:] if inp.startswith("^") else parse_tensor_name(inp)[0]


def _data_inputs(nd) -> list[str]:
    return [i for i in nd.input if not i.startswith("^")]


def _error(nd, msg: str) -> ValueError:
    return ValueError(f"Node '{nd.name}' (op '{nd.op}'): {msg}")


def functionalize_graph_def(graph_def, prefix: str = ""):
    """`graph_def` with its TF1 loops and conds as functional While and If nodes (the same message when it
    has none). ValueError names the node of a structure that cannot be rewritten. `prefix` is the name scope
    the nodes are imported under ('import/'), which the variables bound in functions take.

    Nodes that call a library function by naming it as their op type (TF1's Defun) become
    StatefulPartitionedCall nodes first, and reference variables that a functional node's functions assign
    to (TF1's RefSwitch/RefEnter of a variable) are bound in those functions last (see
    `_bind_reference_variables`)."""
    names = {fd.signature.name for fd in graph_def.library.function}
    scopes = [graph_def.node, *(fd.node_def for fd in graph_def.library.function)]
    calls = any(nd.op in names for nodes in scopes for nd in nodes)
    in_functions = [i for i, fd in enumerate(graph_def.library.function)
                    if any(nd.op in CONTROL_FLOW_OPS for nd in fd.node_def)]
    control_flow = bool(in_functions) or any(nd.op in CONTROL_FLOW_OPS for nd in graph_def.node)
    control_returns = any(_effects(fd) for fd in graph_def.library.function)
    if not (calls or control_flow or control_returns or _passes_variables(graph_def)):
        return graph_def
    out = graph_pb2.GraphDef()
    out.CopyFrom(graph_def)
    if calls:
        _calls_by_name(out)
    if control_returns:
        _run_control_returns(out)
    library = _Library(out.library)
    for i in in_functions:
        _functionalize_function(out.library.function[i], library)
    if any(nd.op in CONTROL_FLOW_OPS for nd in out.node):
        _functionalize_graph_nodes(out, library)
    _bind_reference_variables(out, prefix)
    return out


def _functionalize_graph_nodes(out, library: _Library) -> None:
    nodes: Nodes = {}
    for nd in out.node:
        if nd.name in nodes:
            raise ValueError(f"Node '{nd.name}' is not unique: the GraphDef has two nodes of that name.")
        nodes[nd.name] = nd
        if nd.op in CONTROL_FLOW_OPS:
            _check_arity(nd)
    nodes = _functionalize(nodes, {}, library)
    del out.node[:]
    out.node.extend(nodes.values())


def _check_arity(nd) -> None:
    n = len(_data_inputs(nd))
    want = 2 if nd.op in _SWITCH else 1
    if (n < want) if nd.op in _MERGE else (n != want):
        raise _error(nd, f"has {n} data inputs; {nd.op} takes {'at least ' if nd.op in _MERGE else ''}{want}")
    if any(not i.startswith("^") for i in nd.input[n:]):
        raise _error(nd, "control inputs must come after data inputs")


def _functionalize_function(fd, library: _Library) -> None:
    """Rewrites the TF1 control flow in FunctionDef `fd` (e.g. a tf.cond inside a TF1 Defun) in place."""
    fn = fd.signature.name
    arg_types = {arg.name: arg.type for arg in fd.signature.input_arg}
    nodes: Nodes = {}
    for nd in fd.node_def:
        if nd.name in nodes or nd.name in arg_types:
            raise ValueError(f"Function '{fn}': node '{nd.name}' is not unique.")
        nodes[nd.name] = nd

    def flat(ref: str) -> str:
        """A FunctionDef reference ('arg', 'node:out_arg:index') as 'node:k' (an arg as its name)."""
        node, _, rest = ref.partition(":")
        if node in arg_types and not rest:
            return node
        if node not in nodes:
            raise ValueError(f"Function '{fn}': unknown input '{ref}'")
        arg, _, index = rest.partition(":")
        if not arg:
            return node
        if index and not (index.isascii() and index.isdigit()):
            raise ValueError(f"Function '{fn}': input '{ref}' has a malformed output index")
        return _ref(node, _flat_index(nodes[node], arg, int(index or 0)))

    flat_nodes: Nodes = {}
    for name, nd in nodes.items():
        copy = node_def_pb2.NodeDef()
        copy.CopyFrom(nd)
        del copy.input[:]
        copy.input.extend(i if i.startswith("^") else flat(i) for i in nd.input)
        if nd.op in CONTROL_FLOW_OPS:
            _check_arity(copy)
        flat_nodes[name] = copy
    outputs = [(arg.name, flat(fd.ret[arg.name]), arg.type) for arg in fd.signature.output_arg
               if arg.name in fd.ret]
    if len(outputs) != len(fd.signature.output_arg):
        raise ValueError(f"Function '{fn}': an output has no return value in 'ret'")
    flat_nodes = _functionalize(flat_nodes, arg_types, library)
    rebuilt = _function_def(fn, list(arg_types.items()), flat_nodes, outputs)
    del fd.node_def[:]
    fd.node_def.extend(rebuilt.node_def)
    fd.ret.clear()
    fd.ret.update(rebuilt.ret)


class _Library:
    """The GraphDef's function library, to which the rewrite adds functions under unused names."""

    def __init__(self, library) -> None:
        self._library = library
        self._names = {fd.signature.name for fd in library.function}

    def add(self, fd) -> str:
        base = "".join(c if c.isalnum() or c in "_.-" else "_" for c in fd.signature.name)
        name, k = base, 1
        while name in self._names:
            name, k = f"{base}_{k}", k + 1
        self._names.add(name)
        fd.signature.name = name
        self._library.function.add().CopyFrom(fd)
        return name


def _functionalize(nodes: Nodes, arg_types: dict, library: _Library) -> Nodes:
    """Rewrites every loop (deepest frame first) and then every cond (innermost first) of `nodes`, a graph or
    a function body whose arguments `arg_types` maps to their DataType enums."""
    while True:
        frames, parents = _frames(nodes)
        if not parents:
            break
        depth = {}
        for f in parents:
            d, g = 0, f
            while g:
                d, g = d + 1, parents.get(g, "")
            depth[f] = d
        # Loops of the deepest level hold no other loop and share no node: one analysis rewrites them all.
        deepest = max(depth.values())
        members = defaultdict(list)
        for n, f in frames.items():
            members[f].append(n)
        consumers = _consumers(nodes)
        for f in parents:
            if depth[f] == deepest:
                _LoopRewrite(nodes, f, members[f], frames, consumers, arg_types, library).run()
    _rewrite_conds(nodes, arg_types, library)
    for nd in nodes.values():
        if nd.op in CONTROL_FLOW_OPS:
            raise _error(nd, "this control-flow node is not part of a while loop or cond that can be rewritten into "
                             "a functional While or If (tfmini runs TF1 control flow that way)")
    return nodes


def _consumers(nodes: Nodes) -> dict[str, list[str]]:
    out = defaultdict(list)
    for nd in nodes.values():
        for inp in nd.input:
            src = _source(inp)
            if src in nodes:
                out[src].append(nd.name)
    return out


def _frames(nodes: Nodes) -> tuple[dict[str, str], dict[str, str]]:
    """The frame each node runs in ('' outside every loop) and each loop frame's parent frame: an Enter
    starts the frame it names, an Exit returns to the parent of its input's frame, any other node runs in
    its inputs' frame."""
    consumers = _consumers(nodes)
    frame: dict[str, str] = {}
    parents: dict[str, str] = {}
    queue = deque(n for n, nd in nodes.items() if not any(_source(i) in nodes for i in nd.input))
    for n in queue:
        frame[n] = ""
    while queue:
        n = queue.popleft()
        for c in consumers[n]:
            if c in frame:
                continue
            nd, f = nodes[c], frame[n]
            if nd.op in _ENTER:
                name = nd.attr["frame_name"].s.decode("utf-8", errors="replace")
                if parents.setdefault(name, f) != f:
                    raise _error(nd, f"frame '{name}' is entered from two different frames")
                f = name
            elif nd.op in _EXIT:
                f = parents.get(f, "")
            frame[c] = f
            queue.append(c)
    for n in nodes:
        frame.setdefault(n, "")
    return frame, parents


def _fresh(base: str, taken) -> str:
    name, k = base, 1
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    return name


# ----------------------------------------------------------------------------------------------------------
# Output signatures from the registry
# ----------------------------------------------------------------------------------------------------------
def _output_args(nd) -> list[tuple[str, list[int]]]:
    """(name, DataType enums) of each output arg of node `nd`: TF's for the control-flow ops, the
    registry's for the rest."""
    if nd.op in CONTROL_FLOW_OPS:
        t = nd.attr["T"].type
        if nd.op in _SWITCH:
            return [("output_false", [t]), ("output_true", [t])]
        if nd.op in _MERGE:
            return [("output", [t]), ("value_index", [types_pb2.DT_INT32])]
        return [("output", [types_pb2.DT_BOOL if nd.op == "LoopCond" else t])]
    try:
        opdef = _registry.get_op_def(nd.op)
    except KeyError:
        raise ValueError(f"NodeDef mentions attr or op that is not registered: Op type not registered "
                         f"'{nd.op}' in node '{nd.name}'") from None

    def attr(name: str):
        if name in nd.attr:
            return nd.attr[name]
        raise _error(nd, f"lacks attr '{name}'")

    out = []
    for spec in opdef.outputs:
        if spec.type_list_attr:
            out.append((spec.name, list(attr(spec.type_list_attr).list.type)))
            continue
        n = attr(spec.number_attr).i if spec.number_attr else 1
        dtype = spec.fixed_type.as_datatype_enum if spec.fixed_type is not None else attr(spec.type_attr).type
        out.append((spec.name, [dtype] * n))
    return out


def _output_arg(nd, k: int) -> tuple[str, int, int]:
    """(output arg name, index within it, DataType enum) of output `k` of node `nd`."""
    pos = 0
    for name, types in _output_args(nd):
        if k < pos + len(types):
            return name, k - pos, types[k - pos]
        pos += len(types)
    raise _error(nd, f"has no output {k}")


def _flat_index(nd, arg: str, index: int) -> int:
    """The position among `nd`'s outputs of output arg `arg`'s element `index` (a FunctionDef reference)."""
    pos = 0
    for name, types in _output_args(nd):
        if name == arg:
            if index >= len(types):
                break
            return pos + index
        pos += len(types)
    raise _error(nd, f"has no output '{arg}:{index}'")


def _tensor_type(ref: str, nodes: Nodes, arg_types: dict) -> int:
    node, k = parse_tensor_name(ref)
    if node in arg_types:
        return arg_types[node]
    if node not in nodes:
        raise ValueError(f"Unknown input node '{ref}'")
    return _output_arg(nodes[node], k)[2]


def _function_def(name: str, args: list[tuple[str, int]], nodes: Nodes, outputs: list[tuple[str, str, int]]):
    """A FunctionDef taking `args` (name, type), holding `nodes` (whose inputs name graph tensors and the
    args) and returning `outputs` (name, tensor reference, type)."""
    fd = function_pb2.FunctionDef()
    fd.signature.name = name
    arg_names = {a for a, _ in args}
    for a, t in args:
        fd.signature.input_arg.add(name=a, type=t)
    body = dict(nodes)
    rets = []
    for out_name, ref, t in outputs:
        node, _ = parse_tensor_name(ref)
        if node in arg_names:
            # A function returning its argument unchanged: an Identity, so the output is a node's.
            ident = _fresh(f"{out_name}_identity", body.keys() | arg_names)
            body[ident] = _node(ident, "Identity", [ref], T=t)
            ref = ident
        rets.append((out_name, ref, t))

    def function_ref(inp: str, owner) -> str:
        node, k = parse_tensor_name(inp)
        if node in arg_names:
            return node
        if node not in body:
            raise _error(owner, f"reads '{inp}', which is outside the function being built from its loop or cond")
        out_arg, index, _ = _output_arg(body[node], k)
        return f"{node}:{out_arg}:{index}"

    for nd in body.values():
        new = fd.node_def.add()
        new.CopyFrom(nd)
        del new.input[:]
        for inp in nd.input:
            if inp.startswith("^"):
                if inp[1:] in body:
                    new.input.append(inp)
            else:
                new.input.append(function_ref(inp, nd))
    for out_name, ref, t in rets:
        fd.signature.output_arg.add(name=out_name, type=t)
        fd.ret[out_name] = function_ref(ref, body[parse_tensor_name(ref)[0]])
    return fd


def _node(name: str, op: str, inputs: list[str], device: str = "", **attrs):
    nd = node_def_pb2.NodeDef(name=name, op=op, device=device)
    nd.input.extend(inputs)
    for key, value in attrs.items():
        if isinstance(value, list):
            nd.attr[key].list.type.extend(value)
        else:
            nd.attr[key].type = value
    return nd


def _func_attr(nd, key: str, name: str) -> None:
    nd.attr[key].func.name = name


# ----------------------------------------------------------------------------------------------------------
# While loops
# ----------------------------------------------------------------------------------------------------------
class _LoopRewrite:
    """Rewrites the loop of frame `frame` (which holds no other loop) into a While node: its loop variables
    are the Merges fed by a non-constant Enter, its loop invariants the constant Enters."""

    def __init__(self, nodes: Nodes, frame: str, members: list[str], frames: dict, consumers: dict,
                 arg_types: dict, library: _Library) -> None:
        self.nodes, self.frame, self.arg_types, self.library = nodes, frame, arg_types, library
        self.members = members
        self.consumers = consumers
        self.exits = list({c: nodes[c] for n in members for c in consumers[n]
                           if nodes[c].op in _EXIT and frames.get(_source(nodes[c].input[0])) == frame}.values())

    def _one(self, ops, what: str, nodes) -> object:
        found = [self.nodes[n] for n in nodes if self.nodes[n].op in ops]
        if len(found) != 1:
            raise ValueError(f"While loop '{self.frame}' has {len(found)} {what} nodes; a TF1 while loop has one")
        return found[0]

    def run(self) -> None:
        nodes = self.nodes
        loop_cond = self._one({"LoopCond"}, "LoopCond", self.members)
        pred_key = f"{loop_cond.name}:0"
        by_key = defaultdict(list)  # tensor key -> consumers
        for n in self.members:
            for inp in _data_inputs(nodes[n]):
                by_key[_key(inp)].append(nodes[n])
        exits_of = defaultdict(list)  # a loop Switch's false output -> the Exits passing it out
        for nd in self.exits:
            exits_of[self._exit_source(nd)].append(nd)
        enters = [nodes[n] for n in self.members if nodes[n].op in _ENTER]
        invariants = [nd for nd in enters if nd.attr["is_constant"].b]
        loop_vars = []  # (enter, merge, switch, next_iteration, exit or None)
        for enter in enters:
            if enter.attr["is_constant"].b:
                continue
            merges = [c for c in by_key[f"{enter.name}:0"] if c.op in _MERGE]
            if len(merges) != 1 or len(_data_inputs(merges[0])) != 2:
                raise _error(enter, f"this loop variable of while loop '{self.frame}' does not feed one Merge with "
                                    "two inputs")
            merge = merges[0]
            others = [nodes.get(_source(i)) for i in _data_inputs(merge) if _key(i) != f"{enter.name}:0"]
            if len(others) != 1 or others[0] is None or others[0].op not in _NEXT:
                raise _error(merge, "a loop Merge must join an Enter and a NextIteration")
            switches = [c for c in by_key[f"{merge.name}:0"]
                        if c.op in _SWITCH and _key(c.input[1]) == pred_key and _key(c.input[0]) == f"{merge.name}:0"]
            if len(switches) != 1:
                raise _error(merge, f"a loop Merge must feed one Switch on '{loop_cond.name}'")
            loop_vars.append((enter, merge, switches[0], others[0], exits_of.pop(f"{switches[0].name}:0", [])))
        for stray in (nd for group in exits_of.values() for nd in group if self.consumers.get(nd.name)):
            raise _error(stray, f"this Exit of while loop '{self.frame}' passes out neither a loop variable nor an "
                                "Identity of one")
        if not loop_vars:
            raise _error(loop_cond, f"while loop '{self.frame}' has no loop variables")

        taken = nodes
        var_args = [_fresh(f"loop_var_{i}", taken) for i in range(len(loop_vars))]
        inv_args = [_fresh(f"loop_invariant_{j}", taken) for j in range(len(invariants))]
        arg_types = [(a, e.attr["T"].type) for a, (e, *_) in zip(var_args, loop_vars)]
        arg_types += [(a, e.attr["T"].type) for a, e in zip(inv_args, invariants)]
        structural = {nd.name for nd in invariants}
        cond_map, body_map = {}, {}
        for a, (enter, merge, switch, nxt, _) in zip(var_args, loop_vars):
            structural |= {enter.name, merge.name, switch.name, nxt.name}
            cond_map[f"{merge.name}:0"] = a
            body_map[f"{merge.name}:0"] = a
            body_map[f"{switch.name}:1"] = a
        structural.add(loop_cond.name)
        for a, e in zip(inv_args, invariants):
            cond_map[f"{e.name}:0"] = body_map[f"{e.name}:0"] = a
        inner = set(self.members) - structural

        cond_nodes = self._extract([loop_cond.input[0]], cond_map, inner, structural)
        nexts = [nxt for _, _, _, nxt, _ in loop_vars]
        body_nodes = self._extract([i for nxt in nexts for i in nxt.input], body_map, inner, structural)
        cond_ref = cond_map.get(_key(loop_cond.input[0]), loop_cond.input[0])
        body_refs = [self._next_value(nxt, body_map, body_nodes) for nxt in nexts]
        types = dict(arg_types)
        cond_nodes = _functionalize(cond_nodes, types, self.library)
        body_nodes = _functionalize(body_nodes, types, self.library)
        scope = self.frame.rpartition("/")[0]
        prefix = f"{scope}/" if scope else ""
        cond_fn = self.library.add(_function_def(
            f"{prefix}cond", arg_types, cond_nodes, [("cond", cond_ref, types_pb2.DT_BOOL)]))
        body_fn = self.library.add(_function_def(
            f"{prefix}body", arg_types, body_nodes,
            [(f"output_{i}", ref, t) for i, (ref, (_, t)) in enumerate(zip(body_refs, arg_types))]))

        for n in self.members:
            del nodes[n]
        for nd in self.exits:
            del nodes[nd.name]
        name = _fresh(f"{prefix}While", ChainMap(nodes, {nd.name: None for nd in self.exits}))
        all_enters = [e for e, *_ in loop_vars] + invariants
        controls = list(dict.fromkeys(i for e in all_enters for i in e.input if i.startswith("^")))
        loop = _node(name, "While", [e.input[0] for e in all_enters] + controls, device=all_enters[0].device,
                     T=[t for _, t in arg_types], Tout=[t for _, t in arg_types[:len(var_args)]])
        _func_attr(loop, "cond", cond_fn)
        _func_attr(loop, "body", body_fn)
        loop.attr["parallel_iterations"].i = all_enters[0].attr["parallel_iterations"].i or 10
        loop.attr["output_shapes"].list.SetInParent()
        replaced = {name: loop}
        for i, (enter, _, _, _, exit_nodes) in enumerate(loop_vars):
            for exit_node in exit_nodes:
                replaced[exit_node.name] = _node(exit_node.name, "Identity", [f"{name}:{i}"],
                                                 device=exit_node.device, T=enter.attr["T"].type)
        _replace(nodes, set(self.members), replaced, name, self.consumers)

    def _exit_source(self, nd) -> str:
        """The tensor Exit `nd` passes out, looking through Identity nodes of the frame: TF's gradient loops
        exit through the Identity that tf.tuple puts on a loop Switch's false output."""
        key = _key(nd.input[0])
        while True:
            node, k = parse_tensor_name(key)
            src = self.nodes.get(node)
            if src is None or src.op != "Identity" or k != 0 or node not in self.members:
                return key
            key = _key(_data_inputs(src)[0])

    @staticmethod
    def _next_value(nxt, mapped: dict, body: Nodes) -> str:
        """The body's result for the loop variable that NextIteration `nxt` feeds. Ops that run only for their
        effect are control inputs of a NextIteration (TF1's gradient loops push onto their stacks so): an
        Identity of the value under them makes the body run them every iteration, as the frame did."""
        ref = mapped.get(_key(nxt.input[0]), nxt.input[0])
        controls = [i for i in nxt.input if i.startswith("^") and i[1:] in body]
        if not controls:
            return ref
        body[nxt.name] = _node(nxt.name, "Identity", [ref, *controls], device=nxt.device, T=nxt.attr["T"].type)
        return f"{nxt.name}:0"

    def _extract(self, roots: list[str], mapped: dict, inner: set, structural: set) -> Nodes:
        """Copies of the frame's nodes that `roots` depend on, reading `mapped` tensors as arguments; control
        inputs on the loop's own Enter/Merge/Switch nodes are dropped (a function's arguments are ready)."""
        keep: set = set()
        stack = list(roots)
        while stack:
            inp = stack.pop()
            if not inp.startswith("^") and _key(inp) in mapped:
                continue
            src = _source(inp)
            if src in keep or (inp.startswith("^") and src in structural):
                continue
            if src not in inner:
                owner = self.nodes.get(src)
                what = f"'{src}'" if owner is None else f"node '{src}' (op '{owner.op}')"
                raise ValueError(f"While loop '{self.frame}' reads {what} in a way the rewrite into a functional "
                                 "While does not support")
            keep.add(src)
            stack.extend(self.nodes[src].input)
        out: Nodes = {}
        for n in self.members:
            if n not in keep:
                continue
            nd = node_def_pb2.NodeDef()
            nd.CopyFrom(self.nodes[n])
            del nd.input[:]
            for inp in self.nodes[n].input:
                if inp.startswith("^"):
                    if inp[1:] in keep:
                        nd.input.append(inp)
                else:
                    nd.input.append(mapped.get(_key(inp), inp))
            out[n] = nd
        return out


def _replace(nodes: Nodes, removed: set, replaced: dict, functional: str, consumers: dict) -> None:
    """Puts the `replaced` nodes into `nodes` (at the end: import orders nodes by their inputs) and points
    other nodes' control inputs on `removed` nodes at the functional node; data inputs on removed nodes that
    nothing replaced are refused. `consumers` lists the readers each removed node had."""
    for name, nd in replaced.items():
        nodes.pop(name, None)
        nodes[name] = nd
    readers = {c for n in removed if n not in replaced for c in consumers.get(n, ())}
    for nd in [nodes[c] for c in readers if c in nodes and c not in replaced]:
        if not any(_source(i) in removed and _source(i) not in replaced for i in nd.input):
            continue
        new = []
        for inp in nd.input:
            src = _source(inp)
            if src in removed and src not in replaced:
                if not inp.startswith("^"):
                    raise _error(nd, f"reads '{inp}' from inside a loop or cond branch without passing through its "
                                     "Exit or Merge")
                inp = f"^{functional}"
            if inp not in new:
                new.append(inp)
        del nd.input[:]
        nd.input.extend(new)


# ----------------------------------------------------------------------------------------------------------
# Conds
# ----------------------------------------------------------------------------------------------------------
def _topological(nodes: Nodes) -> list[str]:
    order, state = [], {}
    for root in nodes:
        stack = [(root, False)]
        while stack:
            n, done = stack.pop()
            if done:
                state[n] = 2
                order.append(n)
                continue
            if state.get(n):
                if state[n] == 1:
                    raise _error(nodes[n], "the graph has a cycle through this node outside a while loop")
                continue
            state[n] = 1
            stack.append((n, True))
            stack.extend((d, False) for d in map(_source, nodes[n].input) if d in nodes and state.get(d) != 2)
    return order


class _CondStates:
    """For each node, the branches it runs in: a frozenset of (predicate, branch) pairs. A Switch's output k
    adds (its predicate, k) to its inputs' pairs; a Merge drops the pairs its inputs disagree on; any other
    node runs in the union of its inputs' branches. A predicate is named by its tensor, looking through
    Identity nodes (tf.cond switches on both `pred` and `Identity(pred)`)."""

    def __init__(self, nodes: Nodes) -> None:
        self.nodes = nodes
        self.state: dict[str, frozenset] = {}
        self.switches: dict[str, list[str]] = defaultdict(list)  # predicate -> Switches on it
        order = _topological(nodes)
        self.position = {n: i for i, n in enumerate(order)}
        for n in order:
            nd = nodes[n]
            if nd.op in _SWITCH:
                self.switches[self.predicate(nd.input[1])].append(n)
            if nd.op in _MERGE or nd.op in _TRIGGER:
                # A ControlTrigger runs once any input is done, live or dead (TF1's gradients join the stack
                # pushes and pops of both branches of a cond with one): it runs where all its inputs run.
                ins = [self.of(i) for i in (_data_inputs(nd) if nd.op in _MERGE else nd.input)]
                self.state[n] = frozenset.intersection(*ins) if ins else frozenset()
                continue
            s = frozenset().union(*(self.of(i) for i in nd.input))
            if len({p for p, _ in s}) != len(s):
                raise _error(nd, "this node reads both branches of a cond without a Merge")
            self.state[n] = s

    def predicate(self, ref: str) -> str:
        key = _key(ref)
        seen = set()
        while key not in seen:
            seen.add(key)
            node, k = parse_tensor_name(key)
            nd = self.nodes.get(node)
            if nd is None or nd.op != "Identity" or k != 0:
                break
            key = _key(_data_inputs(nd)[0])
        return key

    def of(self, inp: str) -> frozenset:
        """The branches a (data or control) input runs in."""
        src = _source(inp)
        s = self.state.get(src, frozenset())
        nd = self.nodes.get(src)
        if nd is not None and nd.op in _SWITCH and not inp.startswith("^"):
            s = s | {(self.predicate(nd.input[1]), parse_tensor_name(inp)[1])}
        return s

    def ready_merge(self, name: str):
        """(outer branches, predicate) of a Merge whose inputs each run in one branch of one predicate beyond
        the Merge's own, else None."""
        nd = self.nodes[name]
        outer = self.state[name]
        extra = [self.of(i) - outer for i in _data_inputs(nd)]
        if len(extra) < 2 or any(len(e) != 1 for e in extra):
            return None
        preds = {p for e in extra for p, _ in e}
        branches = [b for e in extra for _, b in e]
        if len(preds) != 1 or len(set(branches)) != len(branches):
            return None
        return outer, preds.pop()


def _rewrite_conds(nodes: Nodes, arg_types: dict, library: _Library) -> None:
    """Rewrites the conds level by level, innermost first; one analysis serves every cond of a level (they
    share no node: a cond that would touch an already rewritten one waits for the next pass)."""
    while True:
        states = _CondStates(nodes)
        groups = defaultdict(list)
        for n, nd in nodes.items():
            if nd.op in _MERGE:
                key = states.ready_merge(n)
                if key is not None:
                    groups[key].append(n)
        if not groups:
            return
        deepest = max(len(outer) for outer, _ in groups)
        consumers = _consumers(nodes)
        touched: set = set()
        for (outer, pred), merges in groups.items():
            if len(outer) != deepest:
                continue
            while merges:
                rewrite = _CondRewrite(nodes, states, consumers, pred, merges, arg_types, library)
                merges = [m for m in merges if m not in rewrite.merges]
                if touched & (rewrite.members | set(rewrite.merges) | rewrite.switches):
                    continue
                touched |= rewrite.run()


class _CondRewrite:
    """Rewrites the Merges of one cond (predicate `pred`; Merges whose branches share nodes go together) into
    one If node whose branches hold the nodes that run in each branch."""

    def __init__(self, nodes: Nodes, states: _CondStates, consumers: dict, pred: str, merges: list[str],
                 arg_types: dict, library: _Library) -> None:
        self.nodes, self.states, self.pred, self.arg_types, self.library = nodes, states, pred, arg_types, library
        self.consumers = consumers
        # Keep only the Merges connected (through shared branch nodes) to the first one: another cond on the
        # same predicate becomes an If of its own.
        # A Merge that reads one of the group's outputs (the cond TF1's gradient builds on the same predicate,
        # whose branches read the forward branches' tensors) is a cond of its own, rewritten after this one.
        closures = {m: self._closure(m) for m in merges}
        first = min(merges, key=self.states.position.__getitem__)
        group, members = [first], set(closures[first])
        changed = True
        while changed:
            changed = False
            for m in merges:
                if m not in group and closures[m] & members and not self._reads(m, closures[m], set(group)):
                    group.append(m)
                    members |= closures[m]
                    changed = True
        self.merges = group
        others = set().union(*(closures[m] for m in merges if m not in group))
        self.members = self._with_dangling(members, self.states.state[merges[0]], others)
        self.core = self._core(members)
        # The Switches on the predicate the branches read.
        self.switches = {_source(i) for n in self.members | set(group) for i in nodes[n].input
                         if self._is_pred_switch(_source(i))}

    def _branch_of(self, inp: str) -> int | None:
        for p, b in self.states.of(inp):
            if p == self.pred:
                return b
        return None

    def _is_pred_switch(self, src: str) -> bool:
        nd = self.nodes.get(src)
        return (nd is not None and nd.op in _SWITCH and self.states.predicate(nd.input[1]) == self.pred
                and self._branch_of(f"^{src}") is None)

    def _with_dangling(self, members: set, outer: frozenset, others: set) -> set:
        """`members` and the nodes of the cond's branches that nothing outside reads (an unused loop Exit,
        tf.cond's `switch_f`): each reads only members, the predicate's Switches and tensors outside the cond."""
        members = set(members)
        sources = members | {n for n in self.states.switches.get(self.pred, ()) if self._is_pred_switch(n)}
        queue = deque(c for n in sources for c in self.consumers.get(n, ()))
        while queue:
            n = queue.popleft()
            nd = self.nodes.get(n)
            if (nd is None or n in members or n in others or n in self.merges or n not in self.states.state
                    or self._branch_of(f"^{n}") is None or not outer <= self.states.state[n]):
                continue
            if all(_source(i) in members or self._is_pred_switch(_source(i)) or self._branch_of(i) is None
                   for i in nd.input) and not self._reads(n, set(), set(self.merges)):
                members.add(n)
                queue.extend(self.consumers.get(n, ()))
        return members

    def _core(self, closures: set) -> set:
        """The members the cond runs for its own sake: what its Merges read (`closures`), the members something
        outside waits for (stack pushes a ControlTrigger joins), and the members those read. The other members
        (TF1 gradient nodes placed in the branch, such as the Shape of a branch tensor) run only for readers
        outside the cond, whose control inputs therefore go to those readers and not to the If."""
        waited = [n for n in self.members - closures
                  if any(c not in self.members and c not in self.merges and f"^{n}" in self.nodes[c].input
                         for c in self.consumers.get(n, ()) if c in self.nodes)]
        core, stack = set(closures), waited
        while stack:
            n = stack.pop()
            if n in core or n not in self.members:
                continue
            core.add(n)
            stack.extend(_source(i) for i in self.nodes[n].input)
        return core

    def _reads(self, merge: str, closure: set, targets: set) -> bool:
        """Whether `merge` (with branch nodes `closure`) depends on one of the Merges `targets` (a node of TF1's
        gradient cond does on the forward cond's)."""
        position = self.states.position
        floor = min(position[t] for t in targets)
        seen = set(closure)
        stack = [i for n in (*closure, merge) for i in self.nodes[n].input]
        while stack:
            src = _source(stack.pop())
            if src in targets:
                return True
            if src in seen or src not in self.nodes or position.get(src, floor) < floor:
                continue
            seen.add(src)
            stack.extend(self.nodes[src].input)
        return False

    def _closure(self, merge: str) -> set[str]:
        """The nodes the Merge's inputs depend on inside the cond's branches."""
        found: set = set()
        stack = list(_data_inputs(self.nodes[merge]))
        while stack:
            inp = stack.pop()
            src = _source(inp)
            if src in found or self._is_pred_switch(src) or self._branch_of(f"^{src}") is None:
                continue
            found.add(src)
            stack.extend(self.nodes[src].input)
        return found

    def run(self) -> set[str]:
        """Rewrites the cond; returns the names of the nodes it removed or replaced."""
        nodes = self.nodes
        branch_nodes: list[Nodes] = [{}, {}]
        for n in sorted(self.members, key=self.states.position.__getitem__):
            branch_nodes[self._branch_of(f"^{n}")][n] = nodes[n]
        # The If's inputs: what the branches read from outside, through a Switch on the predicate or directly.
        inputs: list[str] = []
        controls: list[str] = []
        late_controls: list[str] = []  # control inputs of the members that only readers outside need
        taken = ChainMap({}, nodes, self.arg_types)  # new names go into the first map
        arg_of: dict[str, str] = {}
        maps: list[dict] = [{}, {}]

        def outer_input(key: str, b: int, via: str) -> None:
            if key not in arg_of:
                arg_of[key] = _fresh(f"input_{len(inputs)}", taken)
                taken[arg_of[key]] = None
                inputs.append(key)
            maps[b][via] = arg_of[key]

        for b in (0, 1):
            for nd in list(branch_nodes[b].values()) + [nodes[m] for m in self.merges]:
                for inp in nd.input:
                    src = _source(inp)
                    if src in self.members:
                        continue
                    if inp.startswith("^"):
                        if nd.name in self.merges or self._is_pred_switch(src):
                            continue
                        target = controls if nd.name in self.core else late_controls
                        if inp not in target:
                            target.append(inp)
                        continue
                    if nd.name in self.merges and self._branch_of(inp) != b:
                        continue
                    if self._is_pred_switch(src):
                        if parse_tensor_name(inp)[1] == b:
                            outer_input(_key(nodes[src].input[0]), b, _key(inp))
                    elif nd.name not in self.merges:
                        outer_input(_key(inp), b, _key(inp))
        types = [_tensor_type(key, nodes, self.arg_types) for key in inputs]
        args = [(arg_of[k], t) for k, t in zip(inputs, types)]

        # The outputs: per Merge, the input coming from each branch; a value_index output if anyone reads it.
        consumers = self.consumers
        reads_index = {m for m in self.merges
                       if any(parse_tensor_name(i) == (m, 1) for c in consumers[m] for i in _data_inputs(nodes[c]))}
        outputs: list[list] = [[], []]
        out_types = []
        for m in self.merges:
            t = nodes[m].attr["T"].type
            out_types.append(t)
            for inp in _data_inputs(nodes[m]):
                b = self._branch_of(inp)
                ref = maps[b].get(_key(inp), inp)
                outputs[b].append((f"output_{len(out_types) - 1}", ref, t))
        for m in self.merges:
            if m in reads_index:
                out_types.append(types_pb2.DT_INT32)
                for pos, inp in enumerate(_data_inputs(nodes[m])):
                    b = self._branch_of(inp)
                    const = _fresh(f"{m}_value_index", taken)
                    taken[const] = None
                    branch_nodes[b][const] = _int32_const(const, pos)
                    outputs[b].append((f"output_{len(out_types) - 1}", const, types_pb2.DT_INT32))

        # Branch tensors read outside the cond other than through its Merges (by the branches of TF1's gradient
        # cond on the same predicate, which runs only where they were computed): extra outputs, a zero of their
        # type from the other branch.
        exported: dict[str, int] = {}
        export_readers: set = set()
        for n in sorted(self.members, key=self.states.position.__getitem__):
            for c in consumers.get(n, ()):
                if c in self.members or c in self.merges or c not in nodes:
                    continue
                for inp in _data_inputs(nodes[c]):
                    key = _key(inp)
                    if _source(inp) != n:
                        continue
                    export_readers.add(c)
                    if key in exported:
                        continue
                    t = _tensor_type(key, nodes, self.arg_types)
                    exported[key] = len(out_types)
                    out_types.append(t)
                    b = self._branch_of(f"^{n}")
                    zero = _fresh(f"{n}_other_branch", taken)
                    taken[zero] = None
                    branch_nodes[1 - b][zero] = _zero_const(nodes[c], zero, t)
                    outputs[b].append((f"output_{exported[key]}", key, t))
                    outputs[1 - b].append((f"output_{exported[key]}", zero, t))

        # Branch nodes that something outside the cond waits for (a ControlTrigger after the stack pushes of
        # both branches): the branch's outputs come after them, so the If runs them when it takes the branch.
        for b in (0, 1):
            effects = [f"^{n}" for n in branch_nodes[b]
                       if any(c not in self.members and c not in self.merges and f"^{n}" in nodes[c].input
                              for c in consumers.get(n, ()) if c in nodes)]
            if not effects:
                continue
            for k, (out_name, ref, t) in enumerate(outputs[b]):
                gate = _fresh(f"{out_name}_after_effects", taken)
                taken[gate] = None
                branch_nodes[b][gate] = _node(gate, "Identity", [ref, *effects], T=t)
                outputs[b][k] = (out_name, f"{gate}:0", t)

        scope = self.merges[0].rpartition("/")[0]
        prefix = f"{scope}/" if scope else ""
        fns = []
        for b, label in ((1, "true"), (0, "false")):
            body: Nodes = {}
            for n, nd in branch_nodes[b].items():
                copy = node_def_pb2.NodeDef()
                copy.CopyFrom(nd)
                del copy.input[:]
                for inp in nd.input:
                    if inp.startswith("^"):
                        if inp[1:] in branch_nodes[b]:
                            copy.input.append(inp)
                    else:
                        copy.input.append(maps[b].get(_key(inp), inp))
                body[n] = copy
            fns.append(self.library.add(_function_def(f"{prefix}{label}_branch", args, body, outputs[b])))

        device = nodes[self.merges[0]].device
        removed = set(self.members) | set(self.merges)
        for n in removed:
            del nodes[n]
        name = _fresh(f"{prefix}If", ChainMap(nodes, dict.fromkeys(self.merges)))
        cond = _node(name, "If", [_ref(*parse_tensor_name(self.pred))] + [_ref(*parse_tensor_name(k)) for k in inputs]
                     + controls, device=device,
                     Tcond=types_pb2.DT_BOOL, Tin=types, Tout=out_types)
        _func_attr(cond, "then_branch", fns[0])
        _func_attr(cond, "else_branch", fns[1])
        cond.attr["output_shapes"].list.SetInParent()
        replaced = {name: cond}
        n_values = len(self.merges)
        index_pos = n_values
        for i, m in enumerate(self.merges):
            t = out_types[i]
            if m in reads_index:
                replaced[m] = _node(m, "IdentityN", [f"{name}:{i}", f"{name}:{index_pos}"], T=[t, types_pb2.DT_INT32])
                index_pos += 1
            else:
                replaced[m] = _node(m, "Identity", [f"{name}:{i}"], T=t)
        for c in export_readers:
            new = [f"{name}:{exported[_key(i)]}" if not i.startswith("^") and _key(i) in exported else i
                   for i in nodes[c].input]
            new += [i for i in late_controls if i not in new and i not in controls]
            del nodes[c].input[:]
            nodes[c].input.extend(new)
        _replace(nodes, removed, replaced, name, self.consumers)
        # Switches on the predicate that nothing reads any more go with the cond. A Switch read only as a
        # control input (TF's gradient of a Merge, grouped by tf.tuple) stands for its inputs being ready.
        for sw in self.switches:
            if sw not in nodes:
                continue
            readers = [nodes[c] for c in self.consumers.get(sw, ()) if c in nodes
                       and any(_source(i) == sw for i in nodes[c].input)]
            if any(not i.startswith("^") and _source(i) == sw for nd in readers for i in nd.input):
                continue
            ready = [f"^{_source(i)}" for i in nodes[sw].input]
            for nd in readers:
                new = [i for i in nd.input if i != f"^{sw}"]
                new += [i for i in ready if i not in new]
                del nd.input[:]
                nd.input.extend(new)
            del nodes[sw]
            removed.add(sw)
        return removed | set(replaced)


def _zero_const(reader, name: str, dtype: int):
    """A scalar zero of `dtype` (numbers and bools), for a branch's output nothing reads when it is taken."""
    np_dtype = _dtypes.as_dtype(dtype).as_numpy_dtype
    if not (np.issubdtype(np_dtype, np.number) or np_dtype == np.bool_):
        raise _error(reader, f"reads a {_dtypes.as_dtype(dtype).name} tensor from inside a cond branch without "
                             "passing through its Merge")
    nd = node_def_pb2.NodeDef(name=name, op="Const")
    nd.attr["dtype"].type = dtype
    tensor = nd.attr["value"].tensor
    tensor.dtype = dtype
    tensor.tensor_shape.SetInParent()
    tensor.tensor_content = np.zeros((), np_dtype).tobytes()
    return nd


def _int32_const(name: str, value: int):
    nd = node_def_pb2.NodeDef(name=name, op="Const")
    nd.attr["dtype"].type = types_pb2.DT_INT32
    tensor = nd.attr["value"].tensor
    tensor.dtype = types_pb2.DT_INT32
    tensor.tensor_shape.SetInParent()
    tensor.int_val.append(value)
    return nd


# ----------------------------------------------------------------------------------------------------------
# Calls by name (TF1's Defun)
# ----------------------------------------------------------------------------------------------------------
def _calls_by_name(graph_def) -> None:
    """Nodes whose op type names a function of the library (how TF1's Defun calls its function) become
    StatefulPartitionedCall nodes of it, in place; in function bodies, their outputs, which were named by
    the function's output args ('call:z:0'), become the call's ('call:output:k')."""
    fns = {fd.signature.name: fd for fd in graph_def.library.function}
    for nd in graph_def.node:
        if nd.op in fns:
            _as_call(nd, fns[nd.op])
    for fd in graph_def.library.function:
        positions = {}
        for nd in fd.node_def:
            if nd.op in fns:
                callee = fns[nd.op]
                positions[nd.name] = {a.name: k for k, a in enumerate(callee.signature.output_arg)}
                _as_call(nd, callee)
        if not positions:
            continue
        for nd in fd.node_def:
            new = [_call_output_ref(i, positions) for i in nd.input]
            del nd.input[:]
            nd.input.extend(new)
        for key in list(fd.ret):
            fd.ret[key] = _call_output_ref(fd.ret[key], positions)


def _call_output_ref(ref: str, positions: dict) -> str:
    """A function body's reference to a call's output by the callee's output arg ('call:z:0') as one to the
    call node's output list ('call:output:k'); `positions` maps call node -> output arg -> k."""
    node, _, rest = ref.partition(":")
    arg, _, index = rest.partition(":")
    if ref.startswith("^") or node not in positions or arg not in positions[node] or index not in ("", "0"):
        return ref
    return f"{node}:output:{positions[node][arg]}"


def _as_call(nd, fd) -> None:
    sig = fd.signature
    if any(not a.type for a in (*sig.input_arg, *sig.output_arg)):
        raise _error(nd, f"calls function '{sig.name}', whose signature has arguments of a type given by an attr; "
                         "only functions of fixed types can be called")
    nd.op = "StatefulPartitionedCall"
    nd.ClearField("attr")
    nd.attr["Tin"].list.type.extend(a.type for a in sig.input_arg)
    nd.attr["Tout"].list.type.extend(a.type for a in sig.output_arg)
    nd.attr["f"].func.name = sig.name


# ----------------------------------------------------------------------------------------------------------
# Control returns: the ops a TF2 function runs for their effect
# ----------------------------------------------------------------------------------------------------------
_CALLS = frozenset({"PartitionedCall", "StatefulPartitionedCall"})
_IFS = frozenset({"If", "StatelessIf"})


def _effects(fd) -> list[str]:
    """The nodes function `fd` runs for their effect whenever it runs, as TensorFlow runs a function: those it
    lists in `control_ret`, and its stateful nodes (assignments, prints, random draws) that its outputs do not
    depend on (TensorFlow never prunes a stateful node from a function body)."""
    by_name = {nd.name: nd for nd in fd.node_def}
    needed: set = set()
    stack = [_node_of(ref.lstrip("^")) for ref in fd.ret.values()]
    while stack:
        n = stack.pop()
        if n in needed or n not in by_name:
            continue
        needed.add(n)
        stack.extend(_node_of(i.lstrip("^")) for i in by_name[n].input)
    effects = [n for n in fd.control_ret.values() if n in by_name and n not in needed]
    for nd in fd.node_def:
        if nd.name in needed or nd.name in effects:
            continue
        try:
            stateful = _registry.get_op_def(nd.op).stateful
        except KeyError:
            continue
        if stateful:
            effects.append(nd.name)
    return effects


def _run_control_returns(graph_def) -> None:
    """Makes the nodes a function runs for their effect (`_effects`: a tf.function's assignments, which
    TensorFlow runs whenever it calls the function) run whenever its outputs are computed: each output becomes
    an Identity with control inputs on them. A function without outputs gets one (a constant after them), and
    the calls and Ifs of it an int32 output more at the end, so that running the call runs them."""
    fns = {fd.signature.name: fd for fd in graph_def.library.function}
    effects = {name: _effects(fd) for name, fd in fns.items()}
    users = [nd for nodes in (graph_def.node, *(fd.node_def for fd in graph_def.library.function)) for nd in nodes
             if nd.op in _CALLS or nd.op in _IFS]
    empty = {name for name, fd in fns.items() if effects[name] and not fd.signature.output_arg}
    changed = True
    while changed:  # both branches of an If get the extra output when either needs it
        changed = False
        for nd in users:
            if nd.op in _IFS:
                pair = {nd.attr["then_branch"].func.name, nd.attr["else_branch"].func.name}
                if pair & empty and not pair <= empty and all(p in fns and not fns[p].signature.output_arg
                                                              for p in pair):
                    empty |= pair
                    changed = True
    for name, fd in fns.items():
        controls = [f"^{node}" for node in effects[name]]
        if name in empty:
            node = _fresh("control_returns", {nd.name for nd in fd.node_def} | {a.name for a in fd.signature.input_arg})
            fd.node_def.add().CopyFrom(_int32_const(node, 0))
            fd.node_def[-1].input.extend(controls)
            fd.signature.output_arg.add(name=node, type=types_pb2.DT_INT32)
            fd.ret[node] = f"{node}:output:0"
        elif controls:
            taken = {nd.name for nd in fd.node_def} | {a.name for a in fd.signature.input_arg}
            for arg in fd.signature.output_arg:
                gate = _fresh(f"{arg.name}_after_control_returns", taken)
                taken.add(gate)
                fd.node_def.add().CopyFrom(_node(gate, "Identity", [fd.ret[arg.name], *controls], T=arg.type))
                fd.ret[arg.name] = f"{gate}:output:0"
        fd.ClearField("control_ret")
    for nd in users:
        called = nd.attr["f"].func.name if nd.op in _CALLS else nd.attr["then_branch"].func.name
        if called in empty:
            nd.attr["Tout"].list.type.append(types_pb2.DT_INT32)
            for key in ("output_shapes", "_output_shapes"):
                if key in nd.attr and nd.attr[key].list.shape:
                    nd.attr[key].list.shape.add()


# ----------------------------------------------------------------------------------------------------------
# Reference variables inside functional nodes' functions
# ----------------------------------------------------------------------------------------------------------
_FUNCTIONAL = {"If": ("then_branch", "else_branch"), "StatelessIf": ("then_branch", "else_branch"),
               "While": ("cond", "body"), "StatelessWhile": ("cond", "body")}
_VARIABLES = frozenset({"VariableV2"})


def _node_of(ref: str) -> str:
    """The node a graph ('n:1') or function ('n:out:0') data input names."""
    return ref.partition(":")[0]


def _variable_inputs(nodes):
    """(functional node, argument position, variable NodeDef) for each input of an If or While among `nodes`
    that is a reference variable of the same scope."""
    by_name = {nd.name: nd for nd in nodes}
    for nd in nodes:
        if nd.op not in _FUNCTIONAL:
            continue
        offset = 1 if nd.op in ("If", "StatelessIf") else 0
        for pos, inp in enumerate(_data_inputs(nd)[offset:]):
            src = by_name.get(_node_of(inp))
            if src is not None and src.op in _VARIABLES:
                yield nd, pos, src


def _passes_variables(graph_def) -> bool:
    return any(True for _ in _variable_inputs(graph_def.node))


def _bind_reference_variables(graph_def, prefix: str) -> None:
    """A function argument an If or While passes a reference variable to becomes that variable inside the
    function: a VariableV2 node of the same attrs and of the name the variable is imported under, which names
    the same storage in a session (as TF's VariableV2 does, by its name), so the function's Assign, AssignAdd,
    ScatterUpdate, ... update the variable, as TF1's RefSwitch and RefEnter let the ops of a cond branch or loop
    body do. A function's arguments cannot be references (a FunctionDef has no ref types), so this is how the
    reference gets in.
    Functional nodes inside the function that pass the variable on are bound the same way."""
    fns = {fd.signature.name: fd for fd in graph_def.library.function}
    bound: dict = {}  # (function, argument position) -> the variable bound there
    pending = [graph_def.node]
    while pending:
        nodes = pending.pop()
        for nd, pos, var in list(_variable_inputs(nodes)):
            for attr in _FUNCTIONAL[nd.op]:
                name = nd.attr[attr].func.name
                fd = fns.get(name)
                if fd is None or pos >= len(fd.signature.input_arg):
                    continue
                if (name, pos) in bound:
                    if bound[name, pos] != var.name:
                        raise _error(nd, f"passes variable '{var.name}' to function '{name}', which another node "
                                         f"passes variable '{bound[name, pos]}' in the same argument; a variable "
                                         "is bound inside a function by name, so the two cannot share it")
                    continue
                bound[name, pos] = var.name
                _bind_variable(fd, fd.signature.input_arg[pos].name, var, prefix)
                pending.append(fd.node_def)


def _bind_variable(fd, arg: str, var, prefix: str) -> None:
    fn = fd.signature.name
    existing = [nd for nd in fd.node_def if nd.name == prefix + var.name]
    if existing and (existing[0].op != var.op or existing[0].attr != var.attr):
        raise ValueError(f"Function '{fn}' is passed variable '{var.name}' in argument '{arg}' but has a node "
                         f"'{var.name}' of its own, so the variable cannot be bound inside it by name")
    if any(a.name == prefix + var.name and a.name != arg for a in fd.signature.input_arg):
        raise ValueError(f"Function '{fn}' is passed variable '{var.name}' in argument '{arg}' but has another "
                         f"argument named '{var.name}', so the variable cannot be bound inside it by name")
    if not existing:
        nd = fd.node_def.add(name=prefix + var.name, op=var.op, device=var.device)
        for key, value in var.attr.items():
            nd.attr[key].CopyFrom(value)
    for nd in fd.node_def:
        if arg in nd.input:
            new = [f"{prefix}{var.name}:ref:0" if i == arg else i for i in nd.input]
            del nd.input[:]
            nd.input.extend(new)
