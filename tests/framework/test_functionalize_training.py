"""TF1 training graphs whose gradients run back through dataflow while loops, recorded from TensorFlow
(tools/tf_fixtures/gen_control_flow_v1_training.py, and the while_gradient case of gen_control_flow_v1.py):
they import through the rewrite into functional While (each stack handle an invariant of both the forward and
the backward loop), give TensorFlow's gradients, and train with TensorFlow's losses and final weights."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tfmini as tf
from tfmini.framework.functionalize import CONTROL_FLOW_OPS, functionalize_graph_def
from tfmini.protobuf import graph_pb2

ROOT = Path(__file__).resolve().parents[1] / "fixtures" / "tf"
FIXTURES = ROOT / "control_flow_v1_training"
CASES = json.loads((FIXTURES / "cases.json").read_text())


def _graph_def(name: str, where: Path = FIXTURES) -> graph_pb2.GraphDef:
    return graph_pb2.GraphDef.FromString((where / f"{name}.pb").read_bytes())


def _values(name: str, where: Path = FIXTURES):
    return np.load(where / f"{name}.npz")


def _feeds(values) -> dict:
    return {k[len("feed/"):]: values[k] for k in values.files if k.startswith("feed/")}


def _train(sess, entry: dict, feeds: dict, steps: int) -> list:
    losses = []
    for _ in range(steps):
        losses.append(sess.run(entry["loss"], feeds))
        sess.run(entry["train"], feeds)
    return losses


LOOP_CASES = sorted(name for name, entry in CASES.items() if "NextIteration" in entry["op_types"])


def test_every_case_holds_tf1_control_flow_and_most_a_loop_gradient():
    assert len(LOOP_CASES) >= 5
    for entry in CASES.values():
        assert {"Switch", "Merge"} <= set(entry["op_types"])


@pytest.mark.parametrize("name", LOOP_CASES)
def test_recorded_graph_uses_stacks_so_it_exercises_the_loop_gradient(name):
    types = set(CASES[name]["op_types"])
    assert {"StackV2", "StackPushV2", "StackPopV2", "ControlTrigger", "NextIteration"} <= types


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_through_the_loop_are_tensorflows(name):
    entry, values = CASES[name], _values(name)
    with tf.Graph().as_default():
        tf.import_graph_def(_graph_def(name), name="")
        with tf.Session() as sess:
            sess.run(entry["init"])
            grads = sess.run(entry["gradients"], _feeds(values))
    for var, grad in zip(entry["variables"], grads):
        np.testing.assert_allclose(grad, values[f"grad/{var}"], rtol=1e-5, atol=1e-6, err_msg=f"{name} {var}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_training_gives_tensorflows_losses_and_weights(name):
    entry, values = CASES[name], _values(name)
    with tf.Graph().as_default():
        tf.import_graph_def(_graph_def(name), name="")
        with tf.Session() as sess:
            sess.run(entry["init"])
            losses = _train(sess, entry, _feeds(values), len(values["losses"]))
            weights = sess.run([f"{v}:0" for v in entry["variables"]])
    np.testing.assert_allclose(losses, values["losses"], rtol=1e-5, atol=1e-7)
    assert losses[-1] < losses[0]
    for var, w in zip(entry["variables"], weights):
        np.testing.assert_allclose(w, values[f"final/{var}"], rtol=1e-5, atol=1e-6, err_msg=f"{name} {var}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_parallel_engine_trains_to_the_serial_losses(name):
    entry, values = CASES[name], _values(name)
    feeds, steps = _feeds(values), len(values["losses"])
    results = []
    for threads in (1, 2):
        with tf.Graph().as_default():
            tf.import_graph_def(_graph_def(name), name="")
            with tf.Session(config=tf.ConfigProto(inter_op_parallelism_threads=threads)) as sess:
                sess.run(entry["init"])
                results.append(_train(sess, entry, feeds, steps))
    np.testing.assert_array_equal(results[0], results[1])


def test_while_gradient_fixture_of_the_forward_cases_trains_with_tensorflows_losses():
    where = ROOT / "control_flow_v1"
    values = _values("while_gradient", where)
    entry = {"loss": "loss:0", "train": "train"}
    with tf.Graph().as_default():
        tf.import_graph_def(_graph_def("while_gradient", where), name="")
        with tf.Session() as sess:
            sess.run("w/Assign")
            losses = _train(sess, entry, {"x:0": values["feed0/x:0"]}, len(values["train_losses"]))
    np.testing.assert_allclose(losses, values["train_losses"], rtol=1e-5)


def test_stack_handles_are_invariants_of_the_forward_and_backward_loops():
    # Two gradient computations (the recorded check and the optimizer's): one forward loop pushing onto the
    # stacks of both, and a backward loop for each popping its own.
    out = functionalize_graph_def(_graph_def("sequence_loss"))
    assert not [n.name for n in out.node if n.op in CONTROL_FLOW_OPS]
    stacks = {n.name for n in out.node if n.op == "StackV2"}
    loops = {n.name: n for n in out.node if n.op == "While"}
    assert stacks and sorted(loops) == ["gradients/while/While", "gradients_1/while/While", "while/While"]
    for stack in stacks:
        readers = sorted(name for name, loop in loops.items() if stack in loop.input)
        assert readers == sorted(["while/While", stack.split("/")[0] + "/while/While"]), stack
    bodies = {f.signature.name: f for f in out.library.function}
    ops_in = {name: {nd.op for nd in bodies[loop.attr["body"].func.name].node_def} for name, loop in loops.items()}
    assert "StackPushV2" in ops_in["while/While"] and "StackPopV2" not in ops_in["while/While"]
    for name in ("gradients/while/While", "gradients_1/while/While"):
        assert "StackPopV2" in ops_in[name] and "StackPushV2" not in ops_in[name]


def test_effect_only_ops_on_next_iteration_run_every_iteration():
    # The forward body's pushes feed nothing but a control input of the loop counter's NextIteration: the
    # rewritten body makes that value an Identity under them, so each iteration pushes.
    out = functionalize_graph_def(_graph_def("sequence_loss"))
    body = next(f for f in out.library.function
                if any(nd.op == "StackPushV2" for nd in f.node_def))
    pushes = {nd.name for nd in body.node_def if nd.op == "StackPushV2"}
    gated = [nd for nd in body.node_def if nd.op == "Identity" and {i[1:] for i in nd.input if i[0] == "^"} & pushes]
    assert gated
    assert {nd.name for nd in gated} <= {ref.split(":")[0] for ref in body.ret.values()}


def test_one_plan_trains_many_steps_without_rebuilding_the_graph():
    entry, values = CASES["sequence_loss"], _values("sequence_loss")
    feeds = _feeds(values)
    with tf.Graph().as_default() as g:
        tf.import_graph_def(_graph_def("sequence_loss"), name="")
        version = g.version
        with tf.Session() as sess:
            sess.run(entry["init"])
            step = sess.make_callable([entry["loss"], entry["train"]], list(feeds))
            losses = [step(*feeds.values())[0] for _ in range(len(values["losses"]))]
        assert g.version == version
    np.testing.assert_allclose(losses, values["losses"], rtol=1e-5)


def _train_projection_through_frozen_lstm(threads: int = 1) -> tuple[list, np.ndarray]:
    """tfmini's own training: a projection variable in front of TensorFlow's frozen LSTM (its loop imported as
    a functional While), differentiated by tfmini's tf.gradients, with the recipe TensorFlow trained by."""
    entry, values = CASES["frozen_dynamic_rnn"], _values("frozen_dynamic_rnn")
    frozen = _graph_def("frozen_lstm")
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [3, 5, 2])
        lengths = tf.placeholder(tf.int32, [3])
        target = tf.placeholder(tf.float32, [3, 5, 4])
        proj = tf.Variable(values["init/proj"], name="proj")
        projected = tf.reshape(tf.matmul(tf.reshape(x, [15, 2]), proj), [3, 5, 2])
        (outputs,) = tf.import_graph_def(frozen, input_map={"x:0": projected, "lengths:0": lengths},
                                         return_elements=["outputs:0"], name="frozen")
        loss = tf.reduce_mean(tf.square(outputs - target))
        train = tf.train.GradientDescentOptimizer(entry["learning_rate"]).minimize(loss)
        feeds = {x: values["feed/x:0"], lengths: values["feed/lengths:0"], target: values["feed/target:0"]}
        with tf.Session(config=tf.ConfigProto(inter_op_parallelism_threads=threads)) as sess:
            sess.run(tf.global_variables_initializer())
            losses = _train(sess, {"loss": loss, "train": train}, feeds, len(values["losses"]))
            return losses, sess.run(proj)


def test_frozen_loop_trains_a_projection_in_front_of_it_with_tfmini_gradients_to_tensorflows_losses():
    values = _values("frozen_dynamic_rnn")
    frozen = _graph_def("frozen_lstm")
    assert not [n.name for n in frozen.node if n.op == "VariableV2"]
    assert {"Enter", "Exit", "NextIteration", "TensorArrayV3"} <= {n.op for n in frozen.node}
    losses, proj = _train_projection_through_frozen_lstm()
    np.testing.assert_allclose(losses, values["losses"], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(proj, values["final/proj"], rtol=1e-5, atol=1e-6)
    assert not np.allclose(proj, values["init/proj"])
    parallel_losses, _ = _train_projection_through_frozen_lstm(threads=2)
    np.testing.assert_array_equal(parallel_losses, losses)


def _forward_while(name: str) -> graph_pb2.GraphDef:
    return _graph_def(name, ROOT / "control_flow_v1")


def test_exit_through_an_identity_of_the_loop_switch_is_the_loop_variable():
    # TF's gradient loops exit through tf.tuple's Identity on a loop Switch's false output.
    gd = _forward_while("while")
    gd.node.add(name="while/tuple_identity", op="Identity", input=["while/Switch_1", "^while/Switch"]).attr[
        "T"].type = gd.node[0].attr["dtype"].type
    gd.node.add(name="while/Exit_via_identity", op="Exit", input=["while/tuple_identity"]).attr["T"].type = (
        gd.node[0].attr["dtype"].type)
    gd.node.add(name="both", op="Sub", input=["while/Exit_via_identity", "while/Exit_1"]).attr["T"].type = (
        gd.node[0].attr["dtype"].type)
    values = np.load(ROOT / "control_flow_v1" / "while.npz")
    with tf.Graph().as_default():
        tf.import_graph_def(gd, name="")
        with tf.Session() as sess:
            via, diff = sess.run(["while/Exit_via_identity:0", "both:0"],
                                 {"x:0": values["feed0/x:0"], "n:0": values["feed0/n:0"]})
    np.testing.assert_allclose(via, values["fetch0/while/Exit_1:0"], rtol=1e-6)
    np.testing.assert_array_equal(diff, np.zeros_like(diff))


def test_exit_of_a_value_that_is_no_loop_variable_is_refused_by_name():
    gd = _forward_while("while")
    gd.node.add(name="while/Exit_stray", op="Exit", input=["while/add_1"]).attr["T"].type = (
        gd.node[0].attr["dtype"].type)
    gd.node.add(name="reads_stray", op="Identity", input=["while/Exit_stray"]).attr["T"].type = (
        gd.node[0].attr["dtype"].type)
    with tf.Graph().as_default(), pytest.raises(ValueError, match="'while/Exit_stray'.*neither a loop variable"):
        tf.import_graph_def(gd, name="")


def test_stack_pushes_inside_cond_branches_run_with_their_branch():
    # The forward loop's cond pushes in whichever branch it takes and a ControlTrigger joins both branches'
    # pushes: each branch function's outputs come after the pushes it holds.
    out = functionalize_graph_def(_graph_def("cond_in_loop"))
    assert not [n.name for n in out.node if n.op in CONTROL_FLOW_OPS]
    branches = [f for f in out.library.function if any(nd.op == "StackPushV2" for nd in f.node_def)
                and "branch" in f.signature.name]
    assert len(branches) == 2
    for fn in branches:
        pushes = {nd.name for nd in fn.node_def if nd.op == "StackPushV2"}
        by_name = {nd.name: nd for nd in fn.node_def}
        for ref in fn.ret.values():
            gate = by_name[ref.split(":")[0]]
            assert gate.op == "Identity" and pushes <= {i[1:] for i in gate.input if i.startswith("^")}


@pytest.mark.parametrize("branch", ["true", "false"])
def test_gradient_cond_reads_forward_branch_tensors_as_extra_outputs_of_the_forward_if(branch):
    # Outside a loop TF1's gradient is a cond on the forward cond's predicate whose branches read the forward
    # branches' tensors directly: the forward If passes them out (a zero from the other branch, which the
    # gradient cond then does not take), and the gradient conds are Ifs of their own.
    name = f"cond_training_{branch}_branch"
    out = functionalize_graph_def(_graph_def(name))
    assert not [n.name for n in out.node if n.op in CONTROL_FLOW_OPS]
    ifs = {n.name: n for n in out.node if n.op == "If"}
    forward = ifs["cond/If"]
    assert len(forward.attr["Tout"].list.type) > 1
    readers = [n for n in ifs.values() if n is not forward and any(i.startswith("cond/If:") for i in n.input)]
    assert readers
    values = _values(name)
    with tf.Graph().as_default():
        tf.import_graph_def(_graph_def(name), name="")
        with tf.Session() as sess:
            sess.run(CASES[name]["init"])
            grads = sess.run(CASES[name]["gradients"], _feeds(values))
    untaken = "v" if branch == "true" else "w"
    assert not np.any(values[f"grad/{untaken}"])
    for var, grad in zip(CASES[name]["variables"], grads):
        np.testing.assert_allclose(grad, values[f"grad/{var}"], rtol=1e-5, atol=1e-6)
