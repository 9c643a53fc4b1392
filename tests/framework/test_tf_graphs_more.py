"""More GraphDefs written by real TensorFlow (tools/tf_fixtures/gen_tf_graphs_more.py) import and give TensorFlow's
values run after run: tf.function calls (StatefulPartitionedCall, PartitionedCall) trained with TensorFlow's own
gradient calls, a function holding a loop and a cond, a TF1 Defun called by name, a control-flow-v2 loop over
TensorArrays whose gradient adds TensorLists with AddN, and TF1 conds and loops assigning reference variables
(RefSwitch, RefMerge, RefEnter)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import tfmini as tf
from tfmini.framework import errors, registry
from tfmini.framework.functionalize import CONTROL_FLOW_OPS, functionalize_graph_def
from tfmini.ops import functional_ops
from tfmini.protobuf import graph_pb2

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf", "tf_graphs_more")
with open(os.path.join(FIXTURES, "cases.json")) as _f:
    CASES = {k: v for k, v in json.load(_f).items() if not k.startswith("_")}


def _graph_def(name: str) -> graph_pb2.GraphDef:
    with open(os.path.join(FIXTURES, f"{name}.pb"), "rb") as f:
        return graph_pb2.GraphDef.FromString(f.read())


def _replay(name: str, scope: str = "") -> None:
    """Imports case `name` under `scope` and runs its recorded runs in order, comparing every fetch."""
    entry = CASES[name]
    values = np.load(os.path.join(FIXTURES, f"{name}.npz"))
    prefix = f"{scope}/" if scope else ""
    g = tf.Graph()
    with g.as_default():
        tf.import_graph_def(_graph_def(name), name=scope)
    with tf.Session(graph=g) as sess:
        if entry["init"]:
            sess.run(prefix + entry["init"])
        for k, run in enumerate(entry["runs"]):
            feeds = {prefix + t: values[f"feed{k}/{t}"] for t in run["feeds"]}
            got = sess.run([prefix + t for t in run["fetches"]] + [prefix + t for t in run["targets"]], feeds)
            for t, value in zip(run["fetches"], got):
                want = values[f"fetch{k}/{t}"]
                assert np.asarray(value).dtype == want.dtype, (name, k, t)
                np.testing.assert_allclose(value, want, rtol=2e-5, atol=2e-5, err_msg=f"{name} run {k} {t}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_tensorflow_graph_gives_tensorflows_values_run_after_run(name):
    _replay(name)


def test_reference_variables_bound_in_functions_follow_the_import_scope():
    _replay("ref_variables_in_control_flow", scope="imported")


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_op_type_of_the_case_is_registered_rewritten_or_a_library_function(name):
    functions = {fd.signature.name for fd in _graph_def(name).library.function}
    assert not [op for op in CASES[name]["ops"]
                if op not in registry._REGISTRY and op not in functions and op not in CONTROL_FLOW_OPS]


def test_defun_call_by_name_becomes_a_stateful_partitioned_call():
    gd = _graph_def("defun_call")
    (call,) = [nd for nd in gd.node if nd.op.startswith("scaled_softsign")]
    out = functionalize_graph_def(gd)
    new = {nd.name: nd for nd in out.node}[call.name]
    assert new.op == "StatefulPartitionedCall"
    assert new.attr["f"].func.name == call.op
    assert list(new.attr["Tin"].list.type) == [tf.float32.as_datatype_enum] * 2


def test_defun_call_inside_a_function_reads_the_call_by_its_output_list():
    gd = _graph_def("defun_call")
    (call,) = [nd for nd in gd.node if nd.op.startswith("scaled_softsign")]
    callee = call.op
    # Wrap the call into a second function, which reads the callee's output by its output arg name.
    outer = gd.library.function.add()
    outer.signature.name = "outer"
    outer.signature.input_arg.add(name="a", type=tf.float32.as_datatype_enum)
    outer.signature.input_arg.add(name="s", type=tf.float32.as_datatype_enum)
    outer.signature.output_arg.add(name="r", type=tf.float32.as_datatype_enum)
    inner = outer.node_def.add(name="inner", op=callee)
    inner.input.extend(["a", "s"])
    fn = {fd.signature.name: fd for fd in gd.library.function}[callee]
    outer.ret["r"] = f"inner:{fn.signature.output_arg[0].name}:0"
    call.op = "outer"
    _check_defun(gd)


def _check_defun(gd) -> None:
    values = np.load(os.path.join(FIXTURES, "defun_call.npz"))
    with tf.Graph().as_default():
        tf.import_graph_def(gd, name="")
        with tf.Session() as sess:
            got = sess.run("out:0", {"x:0": values["feed0/x:0"]})
    np.testing.assert_allclose(got, values["fetch0/out:0"], rtol=1e-6)


def test_partitioned_call_of_an_imported_function_is_differentiable_here():
    values = np.load(os.path.join(FIXTURES, "defun_call.npz"))
    x_value = values["feed0/x:0"]
    g = tf.Graph()
    with g.as_default():
        tf.import_graph_def(_graph_def("defun_call"), name="")
        x, out = g.get_tensor_by_name("x:0"), g.get_tensor_by_name("out:0")
        (dx,) = tf.gradients(tf.reduce_sum(out * out), [x])
        with tf.Session() as sess:
            got, y = sess.run([dx, out], {x: x_value})
    a = 2.0 * x_value
    # out = a / (1 + |a|) * 3 + 1, d out / d x = 3 * 2 / (1 + |a|)^2
    np.testing.assert_allclose(got, 2.0 * y * 6.0 / (1.0 + np.abs(a)) ** 2, rtol=1e-5)


def test_partitioned_call_with_side_effects_has_no_gradient():
    g = tf.Graph()
    with g.as_default():
        tf.import_graph_def(_graph_def("function_call"), name="")
        call = g.get_operation_by_name("StatefulPartitionedCall")
        x = g.get_tensor_by_name("x:0")
        # The forward function TF wrote reads variables only: it is recomputed for a gradient here.
        (dx,) = tf.gradients(tf.reduce_sum(call.outputs[0]), [x])
        assert dx is not None
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(1.0, use_resource=True)
        fn = functional_ops.FuncGraph("assigning", g)
        with fn.as_default():
            a = tf.placeholder(tf.float32, [], name="a")
            handle = fn.capture(v.handle)
            fn.inputs.extend([a, handle])
            with tf.control_dependencies([registry.apply_op("AssignAddVariableOp", [handle, a])]):
                fn.outputs = [tf.identity(a * 2.0)]
        c = tf.constant(3.0)
        call = registry.apply_op("StatefulPartitionedCall", [[c, v.handle]],
                                 {"f": fn, "Tin": [tf.float32, tf.resource], "Tout": [tf.float32]})
        with pytest.raises(LookupError, match="side effects"):
            tf.gradients(call.outputs[0], [c])


def test_partitioned_call_checks_its_function_signature():
    g = tf.Graph()
    with g.as_default():
        fn = functional_ops.FuncGraph("halve", g)
        with fn.as_default():
            a = tf.placeholder(tf.float32, [], name="a")
            fn.inputs.append(a)
            fn.outputs = [a / 2.0]
        with pytest.raises(ValueError, match="takes input types"):
            registry.apply_op("PartitionedCall", [[tf.constant(1)]], {"f": fn, "Tin": [tf.int32],
                                                                      "Tout": [tf.float32]})
        call = registry.apply_op("PartitionedCall", [[tf.constant(3.0)]],
                                 {"f": fn, "Tin": [tf.float32], "Tout": [tf.float32]})
        with tf.Session() as sess:
            assert sess.run(call.outputs[0]) == 1.5


def test_add_n_adds_tensor_lists_elementwise_and_refuses_mismatches():
    with tf.Graph().as_default():
        shape = tf.constant([2], tf.int32)

        def op(op_type, inputs, **attrs):
            return registry.apply_op(op_type, inputs, attrs).outputs[0]

        a = op("TensorListFromTensor", [tf.constant([[1.0, 2.0], [3.0, 4.0]]), shape])
        b = op("TensorListReserve", [shape, tf.constant(2)], element_dtype=tf.float32)
        b = op("TensorListSetItem", [b, tf.constant(1), tf.constant([10.0, 20.0])])
        total = tf.add_n([a, b, op("ZerosLike", [a]), a])
        stacked = op("TensorListStack", [total, shape], element_dtype=tf.float32)
        short = op("TensorListFromTensor", [tf.constant([[1.0, 2.0]]), shape])
        bad = tf.add_n([a, short])
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run(stacked), [[2.0, 4.0], [16.0, 28.0]])
            with pytest.raises(errors.InvalidArgumentError, match="different lengths"):
                sess.run(bad)
            np.testing.assert_array_equal(sess.run(stacked), [[2.0, 4.0], [16.0, 28.0]])


def test_ref_identity_forwards_the_variable():
    with tf.Graph().as_default():
        v = tf.Variable([1.0, 2.0], use_resource=False)
        ref = registry.apply_op("RefIdentity", [v._ref()]).outputs[0]
        assert ref.dtype == tf.float32._as_ref
        update = tf.assign_add(ref, [1.0, 1.0])
        with tf.Session() as sess:
            sess.run(v.initializer)
            sess.run(update)
            np.testing.assert_array_equal(sess.run(v), [2.0, 3.0])


def test_one_shot_iterator_is_written_with_its_dataset_factory_and_reads_back():
    g = tf.Graph()
    with g.as_default():
        ds = tf.data.Dataset.from_tensor_slices(np.arange(5, dtype=np.int64)).map(lambda v: v * 2).batch(2)
        tf.identity(tf.data.make_one_shot_iterator(ds).get_next(), name="next")
    gd = g.as_graph_def()
    (node,) = [nd for nd in gd.node if nd.op == "OneShotIterator"]
    assert not node.input
    factory = {fd.signature.name: fd for fd in gd.library.function}[node.attr["dataset_factory"].func.name]
    assert not factory.signature.input_arg
    assert [a.type for a in factory.signature.output_arg] == [tf.variant.as_datatype_enum]
    with tf.Graph().as_default() as h:
        tf.import_graph_def(gd, name="")
        first, second = tf.Session(graph=h), tf.Session(graph=h)
        # Each session builds the dataset once and iterates on its own.
        np.testing.assert_array_equal(first.run("next:0"), [0, 2])
        np.testing.assert_array_equal(first.run("next:0"), [4, 6])
        np.testing.assert_array_equal(second.run("next:0"), [0, 2])
        np.testing.assert_array_equal(first.run("next:0"), [8])
        with pytest.raises(errors.OutOfRangeError):
            first.run("next:0")


def test_one_shot_iterator_refuses_a_factory_that_does_not_return_one_dataset():
    g = tf.Graph()
    with g.as_default():
        fn = functional_ops.FuncGraph("not_a_dataset", g)
        with fn.as_default():
            fn.outputs = [tf.constant(1.0)]
        with pytest.raises(ValueError, match="dataset_factory function of OneShotIterator"):
            registry.apply_op("OneShotIterator", [], {"dataset_factory": fn, "output_types": [tf.int64],
                                                      "output_shapes": [[None]]})


def test_tensorflow2_saved_model_loads_and_its_signature_gives_tensorflows_outputs():
    with open(os.path.join(FIXTURES, "cases.json")) as f:
        entry = json.load(f)["_tf2_saved_model"]
    values = np.load(os.path.join(FIXTURES, "tf2_saved_model.npz"))
    with tf.Session(graph=tf.Graph()) as sess:
        meta_graph = tf.saved_model.loader.load(sess, ["serve"], os.path.join(FIXTURES, "tf2_saved_model"))
        signature = meta_graph.signature_def[entry["signature"]]
        got = sess.run(signature.outputs[entry["output"]].name,
                       {signature.inputs[entry["input"]].name: values["x"]})
    np.testing.assert_allclose(got, values["y"], rtol=1e-6, atol=1e-6)


def test_tfmini_graph_assigning_variables_in_a_cond_and_a_loop_reads_back():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [3], name="x")
        v = tf.get_variable("v", initializer=tf.constant([1.0, 2.0, 3.0]))
        tf.cond(tf.reduce_sum(x) > 0, lambda: tf.assign_add(v, x), lambda: tf.assign(v, x * 2.0), name="update")
        count = tf.get_variable("count", initializer=tf.constant(0))

        def body(i):
            with tf.control_dependencies([tf.assign_add(count, 1)]):
                return i + 1

        tf.while_loop(lambda i: i < 4, body, [0], name="loop")
    with tf.Graph().as_default():
        tf.import_graph_def(g.as_graph_def(), name="again")
        with tf.Session() as sess:
            sess.run(["again/v/Assign", "again/count/Assign"])
            np.testing.assert_array_equal(sess.run("again/update:0", {"again/x:0": [1.0, 1.0, 1.0]}), [2, 3, 4])
            np.testing.assert_array_equal(sess.run("again/update:0", {"again/x:0": [-1.0, 0.0, 0.0]}), [-2, 0, 0])
            assert sess.run("again/loop:0") == 4
            assert sess.run("again/count:0") == 4
            np.testing.assert_array_equal(sess.run("again/v:0"), [-2, 0, 0])


def test_symbolic_gradient_gives_zeros_for_integer_inputs_and_checks_its_signature():
    g = tf.Graph()
    with g.as_default():
        fn = functional_ops.FuncGraph("scale", g)
        with fn.as_default():
            a = tf.placeholder(tf.float32, [2], name="a")
            k = tf.placeholder(tf.int32, [], name="k")
            fn.inputs.extend([a, k])
            fn.outputs = [tf.identity(a * a * tf.cast(k, tf.float32))]
        with pytest.raises(ValueError, match="one gradient per output"):
            registry.apply_op("SymbolicGradient", [[tf.constant([1.0, 2.0]), tf.constant(3)]],
                              {"f": fn, "Tin": [tf.float32, tf.int32], "Tout": [tf.float32, tf.int32]})
        grad = registry.apply_op("SymbolicGradient", [[tf.constant([1.0, 2.0]), tf.constant(3),
                                                       tf.constant([1.0, 0.5])]],
                                 {"f": fn, "Tin": [tf.float32, tf.int32, tf.float32],
                                  "Tout": [tf.float32, tf.int32]})
        with tf.Session() as sess:
            da, dk = sess.run(grad.outputs)
    np.testing.assert_allclose(da, [6.0, 6.0])  # 2 a k dy
    assert dk == 0 and dk.dtype == np.int32


def test_one_function_passed_two_variables_in_one_argument_is_refused():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [3], name="x")
        v = tf.get_variable("v", initializer=tf.constant([1.0, 2.0, 3.0]))
        tf.get_variable("w", initializer=tf.constant([0.0, 0.0, 0.0]))
        tf.cond(tf.reduce_sum(x) > 0, lambda: tf.assign_add(v, x), lambda: tf.assign(v, x), name="update")
    gd = g.as_graph_def()
    by_name = {nd.name: nd for nd in gd.node}
    other = gd.node.add()
    other.CopyFrom(by_name["update"])
    other.name = "update_w"
    other.input[1] = "w"
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="Node 'update_w'.*variable 'w'.*variable 'v'"):
            tf.import_graph_def(gd, name="")


def test_stateful_nodes_of_a_function_run_even_when_it_lists_no_control_returns():
    # As TensorFlow never prunes a stateful node from a function body, an assignment its outputs do not depend on
    # runs with every call, whether or not the function lists it in control_ret.
    gd = _graph_def("function_effects")
    for fd in gd.library.function:
        fd.ClearField("control_ret")
    values = np.load(os.path.join(FIXTURES, "function_effects.npz"))
    with tf.Graph().as_default():
        tf.import_graph_def(gd, name="")
        with tf.Session() as sess:
            sess.run(CASES["function_effects"]["init"])
            sess.run("StatefulPartitionedCall", {"x:0": values["feed0/x:0"]})
            np.testing.assert_array_equal(sess.run("ReadVariableOp:0"), values["fetch1/ReadVariableOp:0"])


def _graph_def_with_library_function(op_type: str, called: bool) -> graph_pb2.GraphDef:
    """A graph adding 1 to a placeholder, with library function 'f' holding one node of `op_type`, which
    a PartitionedCall node runs when `called`."""
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [2], name="x")
        tf.add(x, 1.0, name="y")
    gd = g.as_graph_def()
    fd = gd.library.function.add()
    fd.signature.name = "f"
    fd.signature.input_arg.add(name="a", type=tf.float32.as_datatype_enum)
    fd.signature.output_arg.add(name="out", type=tf.float32.as_datatype_enum)
    node = fd.node_def.add(name="inner", op=op_type, input=["a"])
    node.attr["T"].type = tf.float32.as_datatype_enum
    fd.ret["out"] = "inner:y:0"
    if called:
        call = gd.node.add(name="call", op="PartitionedCall", input=["x"])
        call.attr["Tin"].list.type.append(tf.float32.as_datatype_enum)
        call.attr["Tout"].list.type.append(tf.float32.as_datatype_enum)
        call.attr["f"].func.name = "f"
    return gd


def test_library_function_nothing_calls_may_use_ops_tfmini_lacks():
    g = tf.Graph()
    with g.as_default():
        tf.import_graph_def(_graph_def_with_library_function("NoSuchOpAnywhere", called=False), name="")
    with tf.Session(graph=g) as sess:
        np.testing.assert_array_equal(sess.run("y:0", {"x:0": [1.0, 2.0]}), [2.0, 3.0])


def test_library_function_using_an_unregistered_op_is_refused_when_called():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match=r"Function 'f', node 'inner': Op type not registered "
                                             r"'NoSuchOpAnywhere'"):
            tf.import_graph_def(_graph_def_with_library_function("NoSuchOpAnywhere", called=True), name="")
        assert not tf.get_default_graph().get_operations()  # a refused GraphDef adds nothing


def test_library_function_of_registered_ops_is_instantiated_when_called():
    g = tf.Graph()
    with g.as_default():
        tf.import_graph_def(_graph_def_with_library_function("Neg", called=True), name="")
    with tf.Session(graph=g) as sess:
        np.testing.assert_array_equal(sess.run("call:0", {"x:0": [1.0, 2.0]}), [-1.0, -2.0])


def test_zeros_like_of_a_tensor_list_is_a_list_of_zeros_as_long_as_it():
    with tf.Graph().as_default():
        shape = tf.constant([2], tf.int32)

        def op(op_type, inputs, **attrs):
            return registry.apply_op(op_type, inputs, attrs).outputs[0]

        a = op("TensorListFromTensor", [tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), shape])
        zeros = op("ZerosLike", [a])
        length = op("TensorListLength", [zeros])
        stacked = op("TensorListStack", [zeros, shape], element_dtype=tf.float32)
        total = op("TensorListStack", [tf.add_n([zeros, a]), shape], element_dtype=tf.float32)
        nested = op("TensorListFromTensor", [tf.constant([[7.0]]), tf.constant([1], tf.int32)])
        outer = op("TensorListPushBack", [op("EmptyTensorList", [tf.constant(-1), tf.constant(-1)],
                                             element_dtype=tf.variant), nested])
        inner_zeros = op("TensorListGetItem", [op("ZerosLike", [outer]), tf.constant(0), tf.constant(-1)],
                         element_dtype=tf.variant)
        inner_stacked = op("TensorListStack", [inner_zeros, tf.constant([1], tf.int32)], element_dtype=tf.float32)
        strings = op("ZerosLike", [op("TensorListFromTensor", [tf.constant(["a", "b"]), tf.constant(-1)])])
        with tf.Session() as sess:
            got, n, summed, inner = sess.run([stacked, length, total, inner_stacked])
            np.testing.assert_array_equal(got, np.zeros((3, 2), np.float32))
            assert got.dtype == np.float32 and n == 3
            np.testing.assert_array_equal(summed, [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
            np.testing.assert_array_equal(inner, [[0.0]])
            with pytest.raises(errors.InvalidArgumentError, match="unsupported dtype string"):
                sess.run(strings)


def test_add_n_refuses_a_tensor_list_with_a_variant_that_is_not_one():
    with tf.Graph().as_default():
        lst = registry.apply_op("TensorListFromTensor", [tf.constant([1.0]), tf.constant(-1)]).outputs[0]
        empty = registry.apply_op("OptionalNone", []).outputs[0]
        with tf.Session() as sess:
            with pytest.raises(errors.InvalidArgumentError, match="AddN cannot add variants"):
                sess.run(tf.add_n([lst, empty]))


@pytest.mark.parametrize("kind", ["Sum", "Mean", "SqrtN"])
def test_sparse_segment_grad_v2_is_the_dense_gradient_at_the_distinct_indices(kind):
    rng = np.random.RandomState(3)
    grad = rng.standard_normal((3, 2)).astype(np.float32)
    indices = np.array([4, 1, 4, 0, 1], np.int64)
    segment_ids = np.array([0, 0, 1, 2, 2], np.int32)
    with tf.Graph().as_default():
        args = [tf.constant(grad), tf.constant(indices), tf.constant(segment_ids), tf.constant(6)]
        dense = registry.apply_op(f"SparseSegment{kind}Grad", args).outputs[0]
        values, unique = registry.apply_op(f"SparseSegment{kind}GradV2", args).outputs
        bad = registry.apply_op(f"SparseSegment{kind}GradV2", args[:3] + [tf.constant(4)]).outputs[0]
        assert values.shape.as_list() == [None, 2] and unique.dtype == tf.int64
        with tf.Session() as sess:
            want, got, got_indices = sess.run([dense, values, unique])
            with pytest.raises(errors.InvalidArgumentError, match=f"SparseSegment{kind}GradV2.*Index out of range"):
                sess.run(bad)
    np.testing.assert_array_equal(got_indices, [0, 1, 4])
    assert got_indices.dtype == np.int64
    np.testing.assert_allclose(got, want[[0, 1, 4]], rtol=1e-6)


@pytest.mark.parametrize("kind", ["Sum", "Mean", "SqrtN"])
def test_sparse_gradient_attr_gives_indexed_slices_of_the_same_values(kind):
    data = np.arange(12, dtype=np.float32).reshape(6, 2)
    with tf.Graph().as_default():
        x = tf.constant(data)
        indices, segment_ids = tf.constant([1, 3, 3, 5]), tf.constant([0, 0, 1, 1])
        grads = []
        for sparse in (False, True):
            y = registry.apply_op(f"SparseSegment{kind}", [x, indices, segment_ids],
                                  {"sparse_gradient": sparse}).outputs[0]
            grads.append(tf.gradients(tf.reduce_sum(y * y), x)[0])
        assert isinstance(grads[1], tf.IndexedSlices) and not isinstance(grads[0], tf.IndexedSlices)
        with tf.Session() as sess:
            dense, sparse = sess.run([grads[0], tf.convert_to_tensor(grads[1])])
    np.testing.assert_allclose(sparse, dense, rtol=1e-6)
