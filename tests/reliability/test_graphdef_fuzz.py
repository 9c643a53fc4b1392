"""Fuzzing `tf.import_graph_def` with mutated GraphDefs: every import either succeeds or is refused with a
ValueError/TypeError/OpError carrying a message (never an InternalError, a raw exception or a hang); what
imports re-exports and re-imports, and running its float outputs either works or fails with an OpError."""

from __future__ import annotations

import os
import re

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from reliability_support import TALLIES, Hang, no_hang

import tfmini as tf
from tfmini.framework import dtypes

TALLY = TALLIES["graphdef_fuzz"]
_CRASH = re.compile(r"\b(IndexError|KeyError|AttributeError|ZeroDivisionError|OverflowError|RecursionError|"
                    r"AssertionError|NotImplementedError): ")


def _mlp():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        y = tf.placeholder(tf.float32, [None, 1], name="y")
        h = tf.layers.dense(x, 4, activation=tf.nn.relu, name="h")
        out = tf.layers.dense(h, 1, name="out")
        loss = tf.reduce_mean(tf.square(out - y), name="loss")
        tf.train.GradientDescentOptimizer(0.1).minimize(loss, name="train")
    return g.as_graph_def()


def _loop():
    with tf.Graph().as_default() as g:
        scale = tf.placeholder(tf.float32, [], name="scale")
        tf.while_loop(lambda i, v: i < 4, lambda i, v: (i + 1, v * scale + 1.0),
                      [tf.constant(0), tf.constant(1.0)], name="loop")
    return g.as_graph_def()


def _cond():
    with tf.Graph().as_default() as g:
        p = tf.placeholder(tf.bool, [], name="p")
        a = tf.placeholder(tf.float32, [2], name="a")
        tf.cond(p, lambda: a * 2.0, lambda: tf.reduce_sum(a) + tf.zeros([2]), name="choose")
    return g.as_graph_def()


def _strings():
    with tf.Graph().as_default() as g:
        v = tf.placeholder(tf.float32, [3], name="v")
        tf.print("v is", v, output_stream="file:///tmp/tfmini-fuzz-must-not-exist.txt", name="show")
        tf.identity(tf.constant(["a", "b"]), name="text")
        tf.split(tf.reshape(v, [3, 1]) * 1.5, 3, name="parts")
    return g.as_graph_def()


SEEDS = [_mlp(), _loop(), _cond(), _strings()]
SEED_BYTES = [gd.SerializeToString() for gd in SEEDS]
FORBIDDEN_FILE = "/tmp/tfmini-fuzz-must-not-exist.txt"
DTYPE_ENUMS = [0, 1, 2, 3, 5, 6, 7, 9, 10, 19, 21, 101, 121, 9999]
DIMS = [-5, -1, 0, 1, 2, 3, 7, 1 << 20, 1 << 40, 1 << 62]


def _node_names(gd) -> list[str]:
    return [nd.name for nd in gd.node] or ["x"]


# -- mutations: each takes (GraphDef, draw) and changes the GraphDef in place ----------------------------------
def _delete_node(gd, draw):
    if gd.node:
        del gd.node[draw(st.integers(0, len(gd.node) - 1))]


def _duplicate_node(gd, draw):
    if gd.node:
        nd = gd.node.add()
        nd.CopyFrom(gd.node[draw(st.integers(0, len(gd.node) - 2))])
        if draw(st.booleans()):
            nd.name += "_copy"


def _rewrite_input(gd, draw):
    nodes = [nd for nd in gd.node if nd.input]
    if not nodes:
        return
    nd = draw(st.sampled_from(nodes))
    i = draw(st.integers(0, len(nd.input) - 1))
    target = draw(st.sampled_from(_node_names(gd)))
    nd.input[i] = draw(st.sampled_from([
        target, f"{target}:{draw(st.integers(-2, 5))}", f"^{target}", "", "^", f"{target}:b", f"{target}:1:0",
        draw(st.text(max_size=8)),
    ]))


def _add_or_drop_input(gd, draw):
    if not gd.node:
        return
    nd = draw(st.sampled_from(list(gd.node)))
    if nd.input and draw(st.booleans()):
        del nd.input[draw(st.integers(0, len(nd.input) - 1))]
    else:
        ref = draw(st.sampled_from(_node_names(gd)))
        nd.input.insert(draw(st.integers(0, len(nd.input))), draw(st.sampled_from([ref, "^" + ref])))


def _change_op(gd, draw):
    if gd.node:
        draw(st.sampled_from(list(gd.node))).op = draw(st.sampled_from(
            ["Const", "Identity", "AddV2", "MatMul", "NoSuchOp", "Placeholder", "PrintV2", "While", "If",
             "ConcatV2", "Split", "Reshape", "VariableV2", "Assign", "NoOp"]))


def _mutate_attr(gd, draw):
    nodes = [nd for nd in gd.node if nd.attr]
    if not nodes:
        return
    nd = draw(st.sampled_from(nodes))
    key = draw(st.sampled_from(sorted(nd.attr)))
    av = nd.attr[key]
    choice = draw(st.integers(0, 7))
    if choice == 0:
        del nd.attr[key]
    elif choice == 1:
        av.Clear()
        av.i = draw(st.integers(-3, 1 << 40))
    elif choice == 2:
        av.Clear()
        av.type = draw(st.sampled_from(DTYPE_ENUMS))
    elif choice == 3:
        av.Clear()
        av.s = draw(st.binary(max_size=12))
    elif choice == 4:
        av.Clear()
        av.shape.dim.add(size=draw(st.sampled_from(DIMS)))
    elif choice == 5:
        av.Clear()
        av.list.i.extend(draw(st.lists(st.integers(-2, 4), max_size=3)))
    elif choice == 6:
        av.Clear()
        av.func.name = draw(st.sampled_from([f.signature.name for f in gd.library.function] or ["f"]))
    else:
        nd.attr[draw(st.sampled_from(["payload", "_extra", "N", "T"]))].b = True


def _mutate_tensor(gd, draw):
    consts = [nd for nd in gd.node if "value" in nd.attr and nd.attr["value"].HasField("tensor")]
    if not consts:
        return
    t = draw(st.sampled_from(consts)).attr["value"].tensor
    choice = draw(st.integers(0, 5))
    if choice == 0:
        t.dtype = draw(st.sampled_from(DTYPE_ENUMS))
    elif choice == 1:
        t.tensor_shape.dim.add(size=draw(st.sampled_from(DIMS)))
    elif choice == 2 and t.tensor_shape.dim:
        t.tensor_shape.dim[0].size = draw(st.sampled_from(DIMS))
    elif choice == 3:
        t.tensor_content = draw(st.binary(max_size=24))
    elif choice == 4:
        t.float_val.extend(draw(st.lists(st.floats(allow_nan=True), max_size=4)))
    else:
        t.string_val.append(draw(st.binary(max_size=6)))


def _mutate_library(gd, draw):
    if not gd.library.function:
        return
    fd = draw(st.sampled_from(list(gd.library.function)))
    choice = draw(st.integers(0, 5))
    if choice == 0 and fd.node_def:
        draw(st.sampled_from(list(fd.node_def))).op = draw(st.sampled_from(["Bogus", "Identity", "AddV2"]))
    elif choice == 1 and fd.node_def:
        nd = draw(st.sampled_from(list(fd.node_def)))
        if nd.input:
            nd.input[0] = draw(st.sampled_from([nd.input[0] + "0", nd.input[0].rsplit(":", 1)[0] + ":-1",
                                                "ghost:output:0", "^ghost", "", nd.input[0].split(":")[0]]))
    elif choice == 2:
        fd.ret.clear()
    elif choice == 3 and fd.signature.input_arg:
        fd.signature.input_arg[0].type = draw(st.sampled_from(DTYPE_ENUMS))
    elif choice == 4:
        gd.library.function.add().CopyFrom(fd)
    elif fd.node_def:
        del fd.node_def[draw(st.integers(0, len(fd.node_def) - 1))]


MUTATIONS = [_delete_node, _duplicate_node, _rewrite_input, _add_or_drop_input, _change_op, _mutate_attr,
             _mutate_tensor, _mutate_library]


@st.composite
def graph_defs(draw):
    if draw(st.integers(0, 9)) == 0:  # random bytes, or a seed's bytes with a few flipped
        data = bytearray(draw(st.sampled_from(SEED_BYTES)))
        for _ in range(draw(st.integers(1, 6))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        raw = bytes(data) if draw(st.booleans()) else draw(st.binary(max_size=200))
        try:
            return tf.GraphDef.FromString(raw)
        except Exception:  # noqa: BLE001 - bytes that do not parse are the parser's business, not the importer's
            return tf.GraphDef.FromString(draw(st.sampled_from(SEED_BYTES)))
    gd = tf.GraphDef()
    gd.CopyFrom(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        draw(st.sampled_from(MUTATIONS))(gd, draw)
    return gd


def _classify(exc: BaseException, stage: str) -> str:
    """The outcome name of an exception raised at `stage`; the bad ones are 'internal_error' and 'raw_error'."""
    if isinstance(exc, tf.errors.InternalError):
        return "internal_error"
    if not str(exc):
        return "raw_error"
    if isinstance(exc, tf.errors.OpError):
        return f"{stage}_{type(exc).__name__}"
    if stage == "import" and isinstance(exc, (ValueError, TypeError)):
        if _CRASH.search(str(exc)):
            # Refused cleanly, but because an op's construction (a shape function) broke on the node rather
            # than checked it: counted apart so a long run shows which ops to harden.
            return "rejected_after_shape_fn_crash"
        return f"rejected_{type(exc).__name__}"
    return "raw_error"


def _feeds(graph: tf.Graph, rng: np.random.Generator) -> dict:
    feeds = {}
    for op in graph.get_operations():
        if op.type != "Placeholder":
            continue
        t = op.outputs[0]
        dims = [2 if d is None else d for d in (t.shape.as_list() if t.shape.ndims is not None else [])]
        if any(d > 64 for d in dims):
            continue
        if t.dtype.base_dtype == dtypes.bool_:
            feeds[t] = rng.random(dims) < 0.5
        elif t.dtype.base_dtype.is_floating or t.dtype.base_dtype.is_integer:
            feeds[t] = rng.integers(0, 3, size=dims).astype(t.dtype.base_dtype.as_numpy_dtype)
    return feeds


RUN_DEADLINE_MS = 2000


def _import_run_and_reimport(gd, failures: list) -> str:
    with tf.Graph().as_default() as g:
        try:
            tf.import_graph_def(gd, name="imp")
        except Exception as e:  # noqa: BLE001 - classified: only the expected kinds count as clean
            outcome = _classify(e, "import")
            if outcome in ("internal_error", "raw_error"):
                failures.append(f"import: {type(e).__name__}: {e}")
            return outcome
        exported = g.as_graph_def()
    with tf.Graph().as_default():
        try:
            tf.import_graph_def(exported, name="again")
        except Exception as e:  # noqa: BLE001 - a graph that imported once must import again
            failures.append(f"re-import: {type(e).__name__}: {e}")
            return "reimport_failed"
    fetches = [t for op in g.get_operations() for t in op.outputs
               if t.dtype.base_dtype.is_floating and op.type not in ("Placeholder", "VariableV2")]
    targets = [op for op in g.get_operations() if not op.outputs]  # PrintV2, NoOp, Assert, training steps
    if not fetches and not targets:
        return "imported"
    rng = np.random.default_rng(0)
    # A mutated loop may never end (as it would not in TensorFlow): the run's deadline must stop it, cleanly.
    options = tf.RunOptions(timeout_in_ms=RUN_DEADLINE_MS)
    with tf.Session(graph=g) as sess:
        for t in fetches[:6] + targets[:3]:
            try:
                sess.run(t, _feeds(g, rng), options=options)
            except Exception as e:  # noqa: BLE001 - classified below
                outcome = _classify(e, "run")
                if outcome in ("internal_error", "raw_error"):
                    failures.append(f"run {t.name}: {type(e).__name__}: {e}")
                    return outcome
    return "imported_and_ran"


@given(graph_defs())
def test_graphdef_fuzz(gd):
    failures: list[str] = []
    try:
        with no_hang(30):  # runs are bounded by their deadline: this catches what it would miss
            outcome = _import_run_and_reimport(gd, failures)
    except Hang:
        outcome = "hang"
        failures.append("hang")
    TALLY[outcome] += 1
    TALLY["examples"] += 1
    assert not os.path.exists(FORBIDDEN_FILE), "an imported graph wrote a file without allow_file_access"
    assert not failures, failures
