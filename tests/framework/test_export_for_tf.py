"""GraphDefs tfmini writes in the form TensorFlow expects: loops carry their captured tensors as loop variables
(T, output_shapes and the body agree), forward graphs carry no tfmini-only attrs or outputs, the gradients of a
cond (optionals) and of a loop (TensorArray accumulators) are TensorFlow ops, the shapes export cannot express
keep tfmini's form and read back; and gate_gradients groups gradients with tf.tuple as TensorFlow does."""

from __future__ import annotations

import os

import numpy as np
import pytest
from test_op_defs_against_tf import TFMINI_ONLY  # the op-def comparison beside this module (tests are no package)

import tfmini as tf
from tfmini.framework import func_graph, registry, tensorflow_check
from tfmini.protobuf import op_def_pb2

OP_DEFS = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf", "op_defs", "op_defs.pb")


def _tf_op_defs() -> dict:
    """TensorFlow's OpDefs by op type (recorded by tools/tf_fixtures/gen_op_defs.py)."""
    if not os.path.exists(OP_DEFS):
        pytest.skip("TensorFlow's op defs are not recorded (tools/tf_fixtures/gen_op_defs.py)")
    ops = op_def_pb2.OpList()
    with open(OP_DEFS, "rb") as f:
        ops.ParseFromString(f.read())
    return {op.name: op for op in ops.op}


def _build_control_flow():
    """A loop reading two outer tensors, a loop nested in a loop and in a cond; returns (feeds, fetches)."""
    x = tf.placeholder(tf.float32, [3], name="x")
    scale = tf.constant(0.5, name="scale")
    limit = tf.placeholder(tf.int32, [], name="limit")
    pred = tf.placeholder(tf.bool, [], name="pred")

    def outer_body(i, acc):
        _, acc = tf.while_loop(lambda j, a: j < i, lambda j, a: (j + 1, a * scale + x), [tf.constant(0), acc])
        return i + 1, acc

    _, acc = tf.while_loop(lambda i, a: i < limit, outer_body, [tf.constant(0), x], name="outer")
    in_cond = tf.cond(pred, lambda: tf.while_loop(lambda v: tf.reduce_sum(v) < 40.0, lambda v: v * 2.0 + x, [x]),
                      lambda: x * scale)
    feeds = {"x:0": np.array([1.0, -0.5, 2.0], np.float32), "limit:0": np.array(3, np.int32),
             "pred:0": np.array(True)}
    return feeds, [acc, in_cond]


def _nodes_and_functions(gd):
    """(node list, {function name: FunctionDef}) of a GraphDef: every scope NodeDefs live in."""
    return gd.node, {fd.signature.name: fd for fd in gd.library.function}


def _all_nodes(gd):
    yield from gd.node
    for fd in gd.library.function:
        yield from fd.node_def


def _tape_readers(gd) -> list:
    """The ops that read the tape (last output) of an If or While once tfmini reads `gd` back: at top level
    or in a function body."""
    with tf.Graph().as_default() as g:
        tf.import_graph_def(gd, name="")
        ops = g.get_operations()
        ops += [op for fn in func_graph.functions_used(ops) for op in fn.get_operations()]
        return [c.name for op in ops if op.type in ("If", "While") for c in op.outputs[-1].consumers()]


def test_loop_with_captures_exports_them_as_loop_variables_the_body_passes_through():
    with tf.Graph().as_default() as g:
        _build_control_flow()
        gd = g.as_graph_def()
    _, functions = _nodes_and_functions(gd)
    whiles = [nd for nd in _all_nodes(gd) if nd.op == "While"]
    assert len(whiles) == 3
    for nd in whiles:
        types = list(nd.attr["T"].list.type)
        assert len(nd.attr["output_shapes"].list.shape) == len(types)
        assert "back_prop" not in nd.attr
        if "Tout" in nd.attr:  # written only while tfmini's own While requires it, then as all of T
            assert list(nd.attr["Tout"].list.type) == types
        body, cond = functions[nd.attr["body"].func.name], functions[nd.attr["cond"].func.name]
        assert [a.type for a in body.signature.input_arg] == types
        assert [a.type for a in body.signature.output_arg] == types
        assert [a.type for a in cond.signature.input_arg] == types
        assert [a.type for a in cond.signature.output_arg] == [tf.bool.as_datatype_enum]
        # The captured inputs (after the loop variables) are returned unchanged.
        n_vars = sum(not a.name.startswith("capture_") for a in body.signature.input_arg)
        assert 0 < n_vars < len(types)
        for arg, out in zip(body.signature.input_arg[n_vars:], body.signature.output_arg[n_vars:]):
            assert body.ret[out.name] == arg.name
    outer = next(nd for nd in gd.node if nd.name == "outer")
    assert list(outer.input[:2]) == ["Const", "x"] and sorted(outer.input[2:]) == ["limit", "scale", "x"]
    assert _tape_readers(gd) == []


def test_exported_control_flow_reads_back_with_the_same_values():
    with tf.Graph().as_default() as g:
        feeds, fetches = _build_control_flow()
        with tf.Session() as sess:
            want = sess.run(fetches, feeds)
        gd = g.as_graph_def(add_shapes=True)
        names = [t.name for t in fetches]
    for nd in gd.node:
        if nd.op == "While":
            assert len(nd.attr["_output_shapes"].list.shape) == len(nd.attr["T"].list.type)
        if nd.op == "If":
            assert len(nd.attr["_output_shapes"].list.shape) == len(nd.attr["Tout"].list.type)
    with tf.Graph().as_default():
        tf.import_graph_def(gd, name="")
        with tf.Session() as sess:
            got = sess.run(names, feeds)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    np.testing.assert_allclose(want[0], 1.875 * feeds["x:0"], rtol=1e-6)  # x, 1.5 x, then 1.75 x and 1.875 x


def test_forward_graph_writes_only_attrs_tensorflows_op_defs_declare():
    op_defs = _tf_op_defs()
    with tf.Graph().as_default() as g:
        _build_control_flow()
        x = tf.placeholder(tf.float32, [None, 4], name="features")
        w = tf.Variable(np.ones((4, 2), np.float32), name="w")
        tf.nn.softmax(tf.nn.relu(tf.matmul(x, w) + 1.0))
        gd = g.as_graph_def()
    tout_kept = registry.get_op_def("While").attrs.get("Tout", (None, None))[1] is registry.REQUIRED
    for nd in _all_nodes(gd):
        assert nd.op in op_defs, nd.op
        declared = {a.name for a in op_defs[nd.op].attr}
        extra = {k for k in nd.attr if not k.startswith("_") and k not in declared}
        if nd.op == "While" and tout_kept:
            extra.discard("Tout")
        assert not extra, f"{nd.name} ({nd.op}) writes attrs TensorFlow's op def lacks: {sorted(extra)}"
        missing = {a.name for a in op_defs[nd.op].attr if not a.HasField("default_value")} - set(nd.attr)
        assert not missing, f"{nd.name} ({nd.op}) lacks required attrs {sorted(missing)}"


def test_loop_gradient_exports_as_a_tensorflow_while_over_tensor_lists():
    op_defs = _tf_op_defs()
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [3], name="x")
        c = tf.constant(1.5, name="c")
        _, y = tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, tf.sin(v) * c), [tf.constant(0), x])
        z = tf.cond(tf.reduce_sum(x) > 0, lambda: y * c, lambda: y)
        dx, dc = tf.gradients(tf.reduce_sum(z), [x, c])
        feed = {"x:0": np.array([1.0, 2.0, -0.5], np.float32)}
        with tf.Session() as sess:
            want = sess.run([dx, dc], feed)
        gd = g.as_graph_def(add_shapes=True)
        names = [dx.name, dc.name]
    ops = [nd.op for nd in _all_nodes(gd)]
    assert "WhileGrad" not in ops and "TapeRead" not in ops and ops.count("TensorListPushBack") >= 2
    loop = next(nd for nd in gd.node if nd.name == "while")
    # loop variables, the captured c, the iteration count, then one TensorList per recorded value but c
    types = list(loop.attr["T"].list.type)
    n_lists = types.count(tf.variant.as_datatype_enum)
    assert n_lists >= 1 and types == ([tf.int32.as_datatype_enum] + [tf.float32.as_datatype_enum] * 2
                                      + [tf.int32.as_datatype_enum] + [tf.variant.as_datatype_enum] * n_lists)
    lists = [nd for nd in gd.node if nd.op == "EmptyTensorList"]
    assert [nd.attr["element_dtype"].type for nd in lists] == [tf.float32.as_datatype_enum] * n_lists
    backward = [nd for nd in gd.node if nd.op == "While" and nd.name != "while"]
    for nd in (loop, *backward):
        assert len(nd.attr["_output_shapes"].list.shape) == len(nd.attr["T"].list.type)
    # the gradient takes the count and the lists, and c from the loop output that passes it through
    assert len(backward) == 1 and sorted(backward[0].input[-2 - n_lists:]) == [
        f"while:{j}" for j in range(2, 4 + n_lists)]
    for nd in _all_nodes(gd):
        declared = {a.name for a in op_defs[nd.op].attr}
        assert not {k for k in nd.attr if not k.startswith("_")} - declared, nd
    for fd in gd.library.function:  # TensorFlow wants args and nodes named apart
        names_in_fd = [a.name for a in fd.signature.input_arg] + [nd.name for nd in fd.node_def]
        assert len(names_in_fd) == len(set(names_in_fd)), fd.signature.name
    assert _tape_readers(gd) == []
    with tf.Graph().as_default():
        tf.import_graph_def(gd, name="")
        with tf.Session() as sess:
            got = sess.run(names, feed)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-6)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-6)
    v, grad = feed["x:0"].astype(np.float64), np.ones(3)
    values = [v]
    for _ in range(3):
        values.append(np.sin(values[-1]) * 1.5)
    grad = grad * 1.5  # through the cond's true branch (sum(x) > 0)
    for prev in reversed(values[:-1]):
        grad = grad * np.cos(prev) * 1.5
    np.testing.assert_allclose(want[0], grad, rtol=1e-5)


def test_two_gradients_of_one_loop_read_the_same_lists():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [2], name="x")
        _, y = tf.while_loop(lambda i, v: i < 2, lambda i, v: (i + 1, v * v), [0, x])
        first = tf.gradients(tf.reduce_sum(y), x)[0]
        second = tf.gradients(tf.reduce_sum(y * 3.0), x, name="again")[0]
        feed = {"x:0": np.array([1.5, -0.5], np.float32)}
        with tf.Session() as sess:
            want = sess.run([first, second], feed)
        gd = g.as_graph_def()
    ops = [nd.op for nd in _all_nodes(gd)]
    assert ops.count("While") == 3 and "WhileGrad" not in ops and "TapeRead" not in ops
    lists = [f"{nd.name}" for nd in gd.node if nd.op == "EmptyTensorList"]
    backward = [nd for nd in gd.node if nd.op == "While" and nd.name != "while"]
    assert lists and len(backward) == 2 and backward[0].input[-len(lists):] == backward[1].input[-len(lists):]
    with tf.Graph().as_default():
        tf.import_graph_def(gd, name="")
        with tf.Session() as sess:
            got = sess.run([first.name, second.name], feed)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    np.testing.assert_allclose(want[0], 4 * feed["x:0"] ** 3, rtol=1e-6)
    np.testing.assert_allclose(want[1], 12 * feed["x:0"] ** 3, rtol=1e-6)


def test_gradient_of_a_loop_inside_a_loop_exports_as_tensorflows_while_v2():
    op_defs = _tf_op_defs()
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [2], name="x")

        def outer_body(i, v):
            return i + 1, tf.while_loop(lambda j, w: j < 2, lambda j, w: (j + 1, w * 1.5), [0, v])[1]

        _, y = tf.while_loop(lambda i, v: i < 2, outer_body, [0, x])
        (dx,) = tf.gradients(tf.reduce_sum(y * y), [x])
        feed = {"x:0": np.array([1.0, -2.0], np.float32)}
        with tf.Session() as sess:
            want = sess.run(dx, feed)
        gd = g.as_graph_def()
    ops = [nd.op for nd in _all_nodes(gd)]
    assert not {"WhileGrad", "TapeRead"} & set(ops) and all(op in op_defs for op in ops)
    assert ops.count("While") == 4  # two forward loops, two gradient loops
    # per outer iteration the outer loop pushes the inner loop's count and its lists (a list of lists)
    outer = next(fd for fd in gd.library.function if any(nd.op == "While" for nd in fd.node_def)
                 and any(nd.op == "TensorListPushBack" for nd in fd.node_def))
    pushed = [nd for nd in outer.node_def if nd.op == "TensorListPushBack"]
    assert [nd.attr["element_dtype"].type for nd in pushed][:2] == [tf.int32.as_datatype_enum,
                                                                    tf.variant.as_datatype_enum]
    tensorflow_check.check_for_tensorflow(gd)
    with tf.Graph().as_default():
        tf.import_graph_def(gd, name="")
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(dx.name, feed), want, rtol=1e-6)
    np.testing.assert_allclose(want, 2 * 1.5 ** 8 * feed["x:0"], rtol=1e-6)


def test_gradient_of_a_cond_inside_a_loop_exports_with_its_optionals_in_tensor_lists():
    op_defs = _tf_op_defs()
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [3], name="x")
        w = tf.constant([0.5, -0.3, 0.8], name="w")

        def body(i, h):
            return i + 1, tf.cond(tf.reduce_sum(h) > 0.0, lambda: tf.tanh(h * w), lambda: h * w * w + x)

        _, y = tf.while_loop(lambda i, h: i < 4, body, [0, x])
        dx, dw = tf.gradients(tf.reduce_sum(y * y), [x, w])
        feed = {"x:0": np.array([0.3, -0.2, 0.4], np.float32)}
        with tf.Session() as sess:
            want = sess.run([dx, dw], feed)
        gd = g.as_graph_def()
    ops = [nd.op for nd in _all_nodes(gd)]
    assert not {"WhileGrad", "TapeRead"} & set(ops) and all(op in op_defs for op in ops)
    # the inner cond's optionals are pushed, per iteration, onto TensorLists of variants
    lists = [nd.attr["element_dtype"].type for nd in gd.node if nd.op == "EmptyTensorList"]
    assert tf.variant.as_datatype_enum in lists
    assert {"OptionalFromValue", "OptionalGetValue", "TensorListPushBack", "TensorListGetItem"} <= set(ops)
    assert not [nd.name for fd in gd.library.function for nd in fd.node_def
                if nd.op == "Const" and nd.attr["dtype"].type == tf.variant.as_datatype_enum]
    with tf.Graph().as_default():
        tf.import_graph_def(gd, name="")
        with tf.Session() as sess:
            got = sess.run([dx.name, dw.name], feed)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-6)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-6)
    # finite differences of the loop's value
    def value(xv, wv):
        h = xv.astype(np.float64)
        for _ in range(4):
            h = np.tanh(h * wv) if h.sum() > 0 else h * wv * wv + xv
        return (h * h).sum()

    xv, wv, eps = feed["x:0"].astype(np.float64), np.array([0.5, -0.3, 0.8]), 1e-6
    numeric = [(value(xv + eps * e, wv) - value(xv - eps * e, wv)) / (2 * eps) for e in np.eye(3)]
    np.testing.assert_allclose(want[0], numeric, rtol=1e-4, atol=1e-6)


# ----------------------------------------------------------------------------------------------------------
# gate_gradients
# ----------------------------------------------------------------------------------------------------------
def _tuple_ops(g) -> list:
    return [op for op in g.get_operations() if "/tuple/" in op.name]


def test_gate_gradients_groups_each_ops_input_gradients_with_a_tuple():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [2, 3], name="x")
        w = tf.constant(np.arange(12, dtype=np.float32).reshape(3, 4), name="w")
        y = tf.reduce_sum(tf.matmul(x, w))
        gw, gx = tf.gradients(y, [w, x], gate_gradients=True)
        assert gx.name == "gradients/MatMul_grad/tuple/control_dependency:0"
        assert gw.name == "gradients/MatMul_grad/tuple/control_dependency_1:0"
        gate = g.get_operation_by_name("gradients/MatMul_grad/tuple/group_deps")
        assert gate.type == "NoOp"
        assert sorted(op.name for op in gate.control_inputs) == ["gradients/MatMul_grad/MatMul",
                                                                 "gradients/MatMul_grad/MatMul_1"]
        assert gx.op.type == "Identity" and gx.op.control_inputs == [gate]
        assert gw.op.control_inputs == [gate]
        # The sum's gradient has one input gradient (its axes get none): nothing to group.
        assert not any(op.name.startswith("gradients/Sum_grad/tuple") for op in g.get_operations())
        ungated = tf.gradients(y, [w, x], name="plain")
        assert not any(op.name.startswith("plain") for op in _tuple_ops(g))
        xv = np.array([[1, 2, 3], [4, 5, 6]], np.float32)
        with tf.Session() as sess:
            a, b = sess.run([[gw, gx], ungated], {x: xv})
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p, q)
    np.testing.assert_array_equal(a[0], np.repeat(xv.sum(0)[:, None], 4, 1))


def test_gate_gradients_keeps_indexed_slices_sparse():
    with tf.Graph().as_default():
        params = tf.constant(np.arange(8, dtype=np.float32).reshape(4, 2))
        scale = tf.constant(2.0)
        y = tf.reduce_sum(tf.gather(params * scale, [0, 2, 2]))
        (gp,) = tf.gradients(y, [params], gate_gradients=True)
        sparse = tf.gradients(tf.reduce_sum(tf.gather(params, [1, 1])) * scale, [params], gate_gradients=True)[0]
        gated = tf.tuple([sparse, scale])
        assert isinstance(gated[0], tf.IndexedSlices)
        assert gated[0].values.op.type == "Identity" and gated[0].values.op.control_inputs
        with tf.Session() as sess:
            dense, rows = sess.run([gp, tf.convert_to_tensor(gated[0])])
    np.testing.assert_array_equal(dense, [[2, 2], [0, 0], [4, 4], [0, 0]])
    np.testing.assert_array_equal(rows, [[0, 0], [4, 4], [0, 0], [0, 0]])


def _ancestors(op) -> set:
    before, stack = set(), [op]
    while stack:
        op = stack.pop()
        for dep in [t.op for t in op.inputs] + list(op.control_inputs):
            if dep not in before:
                before.add(dep)
                stack.append(dep)
    return before


def _readers_not_before_update(g, train) -> list:
    """Ops the train step runs that read a variable's value but that its ApplyAdam does not depend on: a
    concurrent executor may run them after the update, on the new value."""
    runs = _ancestors(train)
    problems = []
    for update in (op for op in g.get_operations() if op.type == "ApplyAdam"):
        var = update.inputs[0].op
        before = _ancestors(update)
        reads = [c for t in var.outputs for c in t.consumers() if c.type == "Identity"]
        readers = {c for r in reads for t in r.outputs for c in t.consumers()}
        problems += [(var.name, r.name) for r in readers if r in runs and r not in before]
    return problems


@pytest.mark.parametrize("gate", [0, 1, 2])
def test_optimizer_gating_orders_every_read_of_a_weight_before_its_update(gate):
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        w1 = tf.Variable(np.full((3, 4), 0.1, np.float32), name="w1")
        w2 = tf.Variable(np.full((4, 2), 0.2, np.float32), name="w2")
        loss = tf.reduce_sum(tf.square(tf.matmul(tf.nn.relu(tf.matmul(x, w1)), w2)))
        train = tf.train.AdamOptimizer(0.1).minimize(loss, gate_gradients=gate)
        problems = _readers_not_before_update(g, train)
        if gate == 0:
            # dh = dy w2^T reads w2 but feeds only w1's update: nothing keeps ApplyAdam(w2) from running first.
            assert ("w2", "gradients/MatMul_1_grad/MatMul") in problems
            assert not _tuple_ops(g)
        else:
            assert problems == []
        if gate == 2:
            assert g.get_operation_by_name("tuple/group_deps").type == "NoOp"
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            losses = [sess.run([loss, train], {x: np.ones((2, 3), np.float32)})[0] for _ in range(3)]
    assert losses[0] == pytest.approx(2 * 2 * (4 * 0.3 * 0.2) ** 2, rel=1e-5)
    assert losses[2] < losses[0]


def test_gradient_of_a_loop_inside_a_cond_branch_exports_with_its_accumulators_in_optionals():
    op_defs = _tf_op_defs()
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [2], name="x")
        c = tf.constant(3.0, name="c")
        pred = tf.placeholder(tf.bool, [], name="pred")
        y = tf.cond(pred, lambda: tf.while_loop(lambda i, v: i < 2, lambda i, v: (i + 1, v * c), [0, x])[1],
                    lambda: x)
        (dx,) = tf.gradients(tf.reduce_sum(y), [x])
        feed = {"x:0": np.array([1.0, 2.0], np.float32), "pred:0": np.array(True)}
        with tf.Session() as sess:
            want = sess.run(dx, feed)
        gd = g.as_graph_def()
    ops = [nd.op for nd in _all_nodes(gd)]
    assert not {"WhileGrad", "TapeRead"} & set(ops) and all(op in op_defs for op in ops)
    # the branch's loop accumulates on TensorLists; its counter, lists and captured c travel as optionals
    inner = [nd for fd in gd.library.function for nd in fd.node_def if nd.op == "While"]
    assert len(inner) == 2 and all("Tout" not in nd.attr for nd in inner)
    forward_if = next(nd for nd in gd.node if nd.op == "If" and nd.name == "cond")
    assert list(forward_if.attr["Tout"].list.type).count(tf.variant.as_datatype_enum) == 3
    with tf.Graph().as_default():
        tf.import_graph_def(gd, name="")
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(dx.name, feed), want, rtol=1e-6)
    np.testing.assert_allclose(want, [9.0, 9.0], rtol=1e-6)


def test_tuple_names_its_ops_as_tensorflow_does():
    with tf.Graph().as_default() as g:
        a, b = tf.constant(1.0), tf.constant(2.0)
        ta, tb = tf.tuple([a, b])
        assert (ta.name, tb.name) == ("tuple/control_dependency:0", "tuple/control_dependency_1:0")
        assert ta.op.control_inputs == [g.get_operation_by_name("tuple/group_deps")]
        with tf.Session() as sess:
            assert sess.run([ta, tb]) == [1.0, 2.0]


def _cond_training_graph():
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    training = tf.placeholder(tf.bool, [], name="training")
    w = tf.Variable(np.array([[0.5, -1.0], [2.0, 0.1], [0.3, 0.3]], np.float32), name="w")
    h = tf.matmul(x, w)
    mean = tf.reduce_mean(h, 0)
    h = tf.cond(training, lambda: tf.sin(h - mean) * h, lambda: tf.exp(h) * 0.5, name="branch")
    loss = tf.reduce_sum(h * h, name="loss")
    (dw,) = tf.gradients(loss, [w])
    return w, tf.identity(dw, name="dw")


def test_cond_gradient_exports_as_tensorflows_cond_v2_with_optionals():
    op_defs = _tf_op_defs()
    feed = {"x:0": np.array([[1, 2, 3], [0.5, -1, 2]], np.float32)}
    with tf.Graph().as_default() as g:
        w, dw = _cond_training_graph()
        with tf.Session() as sess:
            sess.run(w.initializer)
            want = [sess.run(dw, {**feed, "training:0": np.array(v)}) for v in (True, False)]
        gd = g.as_graph_def()
    nodes = {nd.name: nd for nd in gd.node}
    forward, grad = nodes["branch"], nodes["gradients/branch_grad/If"]
    n_opt = len(forward.attr["Tout"].list.type) - 1
    assert n_opt > 0 and list(forward.attr["Tout"].list.type)[1:] == [tf.variant.as_datatype_enum] * n_opt
    assert len(forward.attr["output_shapes"].list.shape) == n_opt + 1
    assert list(grad.input[1:1 + n_opt]) == [f"branch:{k + 1}" for k in range(n_opt)]
    assert list(grad.attr["Tin"].list.type)[:n_opt] == [tf.variant.as_datatype_enum] * n_opt
    functions = {fd.signature.name: fd for fd in gd.library.function}
    for attr in ("then_branch", "else_branch"):
        fwd, bwd = functions[forward.attr[attr].func.name], functions[grad.attr[attr].func.name]
        assert [a.type for a in fwd.signature.output_arg] == list(forward.attr["Tout"].list.type)
        assert [a.type for a in bwd.signature.input_arg] == list(grad.attr["Tin"].list.type)
        assert {nd.op for nd in fwd.node_def} >= {"OptionalFromValue", "OptionalNone"}
        assert "OptionalGetValue" in {nd.op for nd in bwd.node_def}
        assert not fwd.attr and not bwd.attr
    for nd in _all_nodes(gd):
        assert nd.op in op_defs, f"{nd.name}: {nd.op} is not a TensorFlow op"
        declared = {a.name for a in op_defs[nd.op].attr}
        assert not {k for k in nd.attr if not k.startswith("_")} - declared, nd
    assert _tape_readers(gd) == []
    with tf.Graph().as_default() as g:
        tf.import_graph_def(gd, name="")
        with tf.Session() as sess:
            sess.run("w/Assign")
            got = [sess.run("dw:0", {**feed, "training:0": np.array(v)}) for v in (True, False)]
    np.testing.assert_allclose(got, want, rtol=1e-6)
    x = feed["x:0"] @ np.array([[0.5, -1.0], [2.0, 0.1], [0.3, 0.3]], np.float32)
    np.testing.assert_allclose(want[1], feed["x:0"].T @ (2 * (0.5 * np.exp(x)) * 0.5 * np.exp(x)), rtol=1e-5)


def test_gradient_of_a_cond_inside_a_cond_branch_exports_with_optionals_of_optionals():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [2], name="x")
        p = tf.placeholder(tf.bool, [], name="p")
        y = tf.cond(p, lambda: tf.cond(p, lambda: tf.sin(x), lambda: x) * x, lambda: x)
        (dx,) = tf.gradients(tf.reduce_sum(y), [x])
        feed = {"x:0": np.array([0.5, 1.0], np.float32), "p:0": np.array(True)}
        with tf.Session() as sess:
            want = sess.run(dx, feed)
            want_false = sess.run(dx, {**feed, "p:0": np.array(False)})
        gd = g.as_graph_def()
    ops = [nd.op for nd in _all_nodes(gd)]
    assert not {"WhileGrad", "TapeRead"} & set(ops) and "OptionalGetValue" in ops
    # the inner cond's optionals travel inside the outer cond's: an OptionalGetValue of a variant
    assert any(nd.op == "OptionalGetValue" and list(nd.attr["output_types"].list.type) == [tf.variant.as_datatype_enum]
               for nd in _all_nodes(gd))
    assert _tape_readers(gd) == []
    with tf.Graph().as_default():
        tf.import_graph_def(gd, name="")
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(dx.name, feed), want, rtol=1e-6)
            np.testing.assert_allclose(sess.run(dx.name, {**feed, "p:0": np.array(False)}), want_false, rtol=1e-6)
    np.testing.assert_allclose(want_false, [1.0, 1.0])
    xv = feed["x:0"]
    np.testing.assert_allclose(want, np.cos(xv) * xv + np.sin(xv), rtol=1e-6)


def test_gradient_also_taken_inside_the_differentiated_body_exports_in_tensorflows_form():
    op_defs = _tf_op_defs()
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [2], name="x")

        def outer_body(i, v):
            inner = tf.while_loop(lambda j, w: j < 2, lambda j, w: (j + 1, tf.tanh(w)), [0, v])[1]
            step = tf.stop_gradient(tf.gradients(tf.reduce_sum(inner), v)[0])  # the inner tape is read here too
            return i + 1, inner - 0.1 * step

        _, y = tf.while_loop(lambda i, v: i < 2, outer_body, [0, x])
        (dx,) = tf.gradients(tf.reduce_sum(y * y), [x])
        feed = {"x:0": np.array([0.5, -1.0], np.float32)}
        with tf.Session() as sess:
            want = sess.run(dx, feed)
        gd = g.as_graph_def()
    ops = [nd.op for nd in _all_nodes(gd)]
    assert all(op in op_defs for op in ops) and ops.count("While") == 5  # 2 forward, 3 gradient loops
    tensorflow_check.check_for_tensorflow(gd)
    with tf.Graph().as_default():
        tf.import_graph_def(gd, name="")
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(dx.name, feed), want, rtol=1e-6)


def test_tensorflow_check_names_tfmini_only_ops_and_the_nodes_using_them():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [2], name="x")
        loop = tf.while_loop(lambda i, v: i < 2, lambda i, v: (i + 1, tf.tanh(v)), [0, x])[1].op
        forward = g.as_graph_def()
        (dx,) = tf.gradients(tf.reduce_sum(loop.outputs[1]), [x])
        tf.identity(loop.outputs[-1], name="tape")  # a tape read otherwise than by its gradient
        feed = {"x:0": np.array([0.5, -1.0], np.float32)}
        with tf.Session() as sess:
            want = sess.run(dx, feed)
        gd = g.as_graph_def()
        items = tf.data.Dataset.from_generator(lambda: iter([1.0, 2.0]), tf.float32).make_one_shot_iterator()
        items.get_next()
    assert tensorflow_check.tensorflow_incompatibilities(forward) == []
    tensorflow_check.check_for_tensorflow(forward)
    found = tensorflow_check.tensorflow_incompatibilities(gd)
    assert [line.split("'")[1] for line in found] == ["WhileGrad", "TapeRead"]
    with pytest.raises(ValueError, match=r"TensorFlow cannot run this GraphDef: op 'WhileGrad' exists only in tfmini "
                                         r"\(1 node, first 'gradients/while_grad/WhileGrad'\): the gradient of a "
                                         r"tf.while_loop in tfmini's own form.*op 'TapeRead' exists only in tfmini "
                                         r"\(1 node, first 'read_while_Tanh_0' in function '[^']+'\)"):
        tensorflow_check.check_for_tensorflow(gd)
    with tf.Graph().as_default():  # tfmini reads its own form back
        tf.import_graph_def(gd, name="")
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(dx.name, feed), want, rtol=1e-6)
    found = tensorflow_check.tensorflow_incompatibilities(g)  # a Graph is exported first
    assert [line.split("'")[1] for line in found] == ["WhileGrad", "PyGeneratorDataset", "TapeRead"]
    assert "Dataset.from_generator" in found[1]


def test_tensorflow_check_passes_every_training_graph_tensorflow_runs():
    with tf.Graph().as_default() as g:
        _cond_training_graph()
        x = tf.placeholder(tf.float32, [3])
        _, y = tf.while_loop(lambda i, h: i < 3, lambda i, h: (i + 1, tf.cond(tf.reduce_sum(h) > 0, lambda: h * 0.5,
                                                                              lambda: tf.tanh(h))), [0, x])
        tf.gradients(tf.reduce_sum(y), x)
    tensorflow_check.check_for_tensorflow(g)


def test_tfmini_only_op_table_is_the_op_def_comparisons():
    # test_op_defs_against_tf checks that its list is exactly the registered op types TensorFlow lacks.
    assert set(tensorflow_check.TFMINI_ONLY_OPS) == set(TFMINI_ONLY)


def _loop(f, x):
    return tf.while_loop(lambda j, a: j < 2, lambda j, a: (j + 1, f(a)), [0, x])[1]


def _cond(f, g, x):
    return tf.cond(tf.reduce_sum(x) > 0, lambda: f(x), lambda: g(x))


DEEP_NESTINGS = {
    "loop_in_loop_in_loop": lambda x, t, w: _loop(lambda a: _loop(lambda b: _loop(t, b), a), x),
    "loop_in_cond_in_loop": lambda x, t, w: _loop(lambda a: _cond(lambda b: _loop(t, b), lambda b: b * w, a), x),
    "cond_in_loop_in_cond": lambda x, t, w: _cond(lambda a: _loop(lambda b: _cond(t, lambda c: c * w, b), a),
                                                  lambda a: a * w, x),
    "loop_in_cond_in_cond": lambda x, t, w: _cond(lambda a: _cond(lambda b: _loop(t, b), lambda b: b * w, a),
                                                  lambda a: a, x),
}


@pytest.mark.parametrize("name", sorted(DEEP_NESTINGS))
def test_gradient_of_control_flow_nested_two_levels_deep_exports_in_tensorflows_form(name):
    op_defs = _tf_op_defs()
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [3], name="x")
        w = tf.constant([0.5, -0.4, 0.9], name="w")
        y = DEEP_NESTINGS[name](x, lambda a: tf.tanh(a * w), w)
        dx, dw = tf.gradients(tf.reduce_sum(y * y), [x, w])
        feed = {"x:0": np.array([1.0, 2.0, 3.0], np.float32)}
        with tf.Session() as sess:
            want = sess.run([dx, dw], feed)
        gd = g.as_graph_def()
    ops = [nd.op for nd in _all_nodes(gd)]
    assert all(op in op_defs for op in ops) and _tape_readers(gd) == []
    tensorflow_check.check_for_tensorflow(gd)
    with tf.Graph().as_default():
        tf.import_graph_def(gd, name="")
        with tf.Session() as sess:
            got = sess.run([dx.name, dw.name], feed)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-6)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-6)


def test_loop_gradient_taken_inside_a_cond_branch_exports_in_tensorflows_form():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [3], name="x")

        def branch():
            start = tf.identity(x)
            y = tf.while_loop(lambda j, a: j < 3, lambda j, a: (j + 1, tf.sin(a) * 1.5), [0, start])[1]
            return tf.gradients(tf.reduce_sum(y), start)[0]

        out = tf.cond(tf.reduce_sum(x) > 0, branch, lambda: x)
        feed = {"x:0": np.array([1.0, 2.0, 3.0], np.float32)}
        with tf.Session() as sess:
            want = sess.run(out, feed)
        gd = g.as_graph_def()
    tensorflow_check.check_for_tensorflow(gd)
    assert "TensorListPushBack" in [nd.op for nd in _all_nodes(gd)]
    with tf.Graph().as_default():
        tf.import_graph_def(gd, name="")
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(out.name, feed), want, rtol=1e-6)
    v, grad = feed["x:0"].astype(np.float64), np.ones(3)
    values = [v]
    for _ in range(3):
        values.append(np.sin(values[-1]) * 1.5)
    for prev in reversed(values[:-1]):
        grad = grad * np.cos(prev) * 1.5
    np.testing.assert_allclose(want, grad, rtol=1e-5)


def test_unread_resource_zeros_of_a_gradient_are_not_exported():
    # LSTM's loop has TensorArray handles among its outputs: the gradient builds zeros for them it never reads
    def spread(shape, dtype=None, partition_info=None):
        return tf.constant(np.linspace(-0.5, 0.5, int(np.prod(shape))).reshape(shape).astype(np.float32))

    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [2, 3, 4], name="x")
        with tf.variable_scope("model", initializer=spread):
            _, state = tf.nn.dynamic_rnn(tf.nn.rnn_cell.LSTMCell(3), x, dtype=tf.float32)
        loss = tf.reduce_sum(tf.square(state.h), name="loss")
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, name="train")
        init = tf.global_variables_initializer()
        zeros = [op.name for op in g.get_operations() if op.type == "Const" and op.outputs[0].dtype == tf.resource]
        feed = {"x:0": np.random.RandomState(1).standard_normal((2, 3, 4)).astype(np.float32)}
        with tf.Session() as sess:
            sess.run(init)
            want = [sess.run([loss, train], feed)[0] for _ in range(2)]
        gd = g.as_graph_def()
    assert zeros and not {nd.name for nd in _all_nodes(gd)} & set(zeros)
    tensorflow_check.check_for_tensorflow(gd)
    with tf.Graph().as_default():
        tf.import_graph_def(gd, name="")
        with tf.Session() as sess:
            sess.run(init.name)
            got = [sess.run(["loss:0", "train"], feed)[0] for _ in range(2)]
    np.testing.assert_allclose(got, want, rtol=1e-5)
