"""`tf.import_graph_def` validates a GraphDef as TensorFlow's importer does: a malformed GraphDef is refused
with a ValueError naming the node at fault, never silently rewired, reshaped or half-imported, and never with
a raw exception or an InternalError."""

from __future__ import annotations

import pytest

import tfmini as tf
from tfmini.framework import dtypes
from tfmini.protobuf import graph_pb2, tensor_pb2


def _graph_def():
    """x (placeholder) + c (scalar Const) -> y; a 2-way Split 'sp' of a Const -> Concat 'z'."""
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        a, b = tf.split(tf.constant([[1.0, 2.0, 3.0, 4.0]], name="m"), 2, axis=1, name="sp")
        tf.add(x, tf.constant(1.0, name="c"), name="y")
        tf.concat([a, b], 1, name="z")
    return g.as_graph_def()


def _node(gd, name):
    return next(n for n in gd.node if n.name == name)


def _refused(gd, *fragments: str) -> str:
    """Imports `gd` into a fresh graph, expecting a ValueError whose message holds every fragment; the graph
    must be left without a half-imported node."""
    g = tf.Graph()
    with g.as_default(), pytest.raises(ValueError) as info:
        tf.import_graph_def(gd, name="imp")
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message
    assert not [op for op in g.get_operations() if op.name.startswith("imp/")]
    return message


def test_a_valid_graph_def_imports_and_runs():
    with tf.Graph().as_default() as g:
        tf.import_graph_def(_graph_def(), name="imp")
        with tf.Session() as sess:
            assert sess.run(g.get_tensor_by_name("imp/z:0")).tolist() == [[1.0, 2.0, 3.0, 4.0]]


# -- input references -------------------------------------------------------------------------------------
def test_negative_output_index_is_an_unknown_input_not_the_last_output():
    gd = _graph_def()
    _node(gd, "z").input[0] = "sp:-1"
    _refused(gd, "'z'", "sp:-1")


@pytest.mark.parametrize("ref", ["sp:b", "sp:1:0", "sp:", ":0", "", "sp: 1", "sp:+1"])
def test_malformed_input_strings_are_refused(ref):
    gd = _graph_def()
    _node(gd, "z").input[0] = ref
    _refused(gd, "'z'")


def test_output_index_out_of_range_names_node_and_output_count():
    gd = _graph_def()
    _node(gd, "z").input[0] = "sp:7"
    _refused(gd, "'z'", "7", "2 outputs")


def test_output_index_too_large_for_an_int_is_refused():
    gd = _graph_def()
    _node(gd, "z").input[0] = "sp:99999999999999999999999"
    _refused(gd, "'z'")


def test_empty_control_input_is_refused():
    gd = _graph_def()
    _node(gd, "z").input.append("^")
    _refused(gd, "'z'")


def test_unknown_control_input_is_refused():
    gd = _graph_def()
    _node(gd, "y").input.append("^nope")
    _refused(gd, "'y'", "nope")


def test_control_inputs_must_come_after_data_inputs():
    gd = _graph_def()
    _node(gd, "y").input.insert(0, "^c")
    _refused(gd, "'y'", "Control dependencies must come after regular dependencies")


# -- node names and structure -------------------------------------------------------------------------------
def test_empty_node_name_is_refused_not_renamed():
    gd = _graph_def()
    _node(gd, "c").name = ""
    _node(gd, "y").input[1] = ""
    _refused(gd, "node name")


def test_node_name_ending_in_a_slash_is_refused_not_renamed():
    gd = _graph_def()
    _node(gd, "c").name = "c/"
    _node(gd, "y").input[1] = "c/"
    _refused(gd, "'c/'")


def test_duplicate_node_names_are_refused_naming_the_node():
    gd = _graph_def()
    gd.node.add().CopyFrom(_node(gd, "c"))
    _refused(gd, "'c'")


def test_data_cycle_is_refused():
    gd = _graph_def()
    _node(gd, "y").input[0] = "y"
    _refused(gd, "cycle", "'y'")


def test_control_cycle_is_refused():
    gd = _graph_def()
    _node(gd, "c").input.append("^y")
    _refused(gd, "cycle")


def test_too_many_inputs_are_refused():
    gd = _graph_def()
    _node(gd, "y").input.append("x")
    _refused(gd, "'y'", "3")


def test_too_few_inputs_are_refused():
    gd = _graph_def()
    del _node(gd, "y").input[1]
    _refused(gd, "'y'")


def test_list_input_length_must_match_its_number_attr():
    gd = _graph_def()
    _node(gd, "z").attr["N"].i = 3
    _refused(gd, "'z'")


def test_negative_number_attr_is_refused():
    gd = _graph_def()
    _node(gd, "z").attr["N"].i = -1
    _refused(gd, "'z'")


def test_input_of_the_wrong_dtype_is_a_value_error_naming_the_node():
    gd = _graph_def()
    ic = gd.node.add(name="ic", op="Const")
    ic.attr["dtype"].type = dtypes.int32.as_datatype_enum
    ic.attr["value"].tensor.dtype = dtypes.int32.as_datatype_enum
    ic.attr["value"].tensor.int_val.append(1)
    _node(gd, "y").input[1] = "ic"
    _refused(gd, "'y'", "int32")


# -- ops and attrs ----------------------------------------------------------------------------------------
def test_missing_required_attr_is_refused():
    gd = _graph_def()
    del _node(gd, "y").attr["T"]
    _refused(gd, "'y'", "'T'")


def test_attr_of_the_wrong_kind_is_refused():
    gd = _graph_def()
    _node(gd, "y").attr["T"].Clear()
    _node(gd, "y").attr["T"].i = 3
    _refused(gd, "'y'", "'T'")


def test_attr_with_no_value_is_refused():
    gd = _graph_def()
    _node(gd, "y").attr["T"].Clear()
    _refused(gd, "'y'", "'T'")


def test_unknown_dtype_enum_in_a_type_attr_is_refused():
    gd = _graph_def()
    _node(gd, "y").attr["T"].type = 9999
    _refused(gd, "'y'", "9999")


def test_ref_dtype_in_a_type_attr_is_refused():
    gd = _graph_def()
    _node(gd, "y").attr["T"].type = dtypes.float32._as_ref.as_datatype_enum
    _refused(gd, "'y'")


def test_unregistered_op_is_refused():
    gd = _graph_def()
    _node(gd, "y").op = "NoSuchOp"
    _refused(gd, "'y'", "NoSuchOp", "not registered")


def test_bad_shape_attr_is_refused():
    gd = _graph_def()
    _node(gd, "x").attr["shape"].shape.dim.add(size=-7)
    _refused(gd, "'x'")


# -- Const tensors ----------------------------------------------------------------------------------------
def _const_tensor(gd, name="c"):
    return _node(gd, name).attr["value"].tensor


def test_const_with_negative_dims_is_refused_not_reshaped():
    gd = _graph_def()
    t = _const_tensor(gd)
    t.tensor_shape.dim.add(size=-5)
    t.tensor_shape.dim.add(size=4)
    t.float_val[:] = [1.0, 2.0, 3.0]
    _refused(gd, "'c'", "-5")


def test_const_content_of_the_wrong_length_is_refused():
    gd = _graph_def()
    _const_tensor(gd, "m").tensor_content = b"\0" * 5
    _refused(gd, "'m'")


def test_const_with_more_values_than_its_shape_holds_is_refused():
    gd = _graph_def()
    _const_tensor(gd).float_val[:] = [1.0, 2.0, 3.0]
    _refused(gd, "'c'", "3")


def test_const_whose_dtype_attr_disagrees_with_its_value_is_refused():
    gd = _graph_def()
    _node(gd, "c").attr["dtype"].type = dtypes.int32.as_datatype_enum
    _refused(gd, "'c'", "int32", "float32")


def test_const_with_an_unknown_tensor_dtype_is_refused():
    gd = _graph_def()
    _const_tensor(gd).dtype = 9999
    _refused(gd, "'c'")


def test_const_holding_values_in_a_field_of_another_dtype_is_refused():
    gd = _graph_def()
    t = _const_tensor(gd)
    del t.float_val[:]
    t.string_val.append(b"abc")
    _refused(gd, "'c'", "string_val")


@pytest.mark.parametrize("dims", [[1 << 20, 1 << 20], [1 << 62, 1 << 62], [1 << 40]])
def test_const_claiming_a_huge_shape_is_refused_without_allocating(dims):
    gd = _graph_def()
    t = _const_tensor(gd)
    for d in dims:
        t.tensor_shape.dim.add(size=d)
    _refused(gd, "'c'")


def test_const_filled_from_fewer_values_still_imports_as_tf_does():
    gd = _graph_def()
    t = _const_tensor(gd)
    t.tensor_shape.dim.add(size=3)
    t.float_val[:] = [1.0, 2.0]
    _node(gd, "y").input[0] = "c"
    with tf.Graph().as_default() as g:
        tf.import_graph_def(gd, name="imp")
        with tf.Session() as sess:
            assert sess.run(g.get_tensor_by_name("imp/c:0")).tolist() == [1.0, 2.0, 2.0]


# -- function library -------------------------------------------------------------------------------------
def _cond_graph_def():
    with tf.Graph().as_default() as g:
        p = tf.placeholder(tf.bool, [], name="p")
        tf.cond(p, lambda: tf.constant(1.0) * 2.0, lambda: tf.constant(2.0), name="cd")
    return g.as_graph_def()


def _library_node(gd, op_type="Mul"):
    for fd in gd.library.function:
        for nd in fd.node_def:
            if nd.op == op_type:
                return fd, nd
    raise AssertionError(f"no {op_type} in the library")


def test_unregistered_op_in_the_function_library_is_a_value_error():
    gd = _cond_graph_def()
    fd, nd = _library_node(gd)
    nd.op = "Bogus"
    _refused(gd, "Bogus", "not registered", fd.signature.name)


def test_function_missing_from_the_library_is_refused():
    gd = _cond_graph_def()
    name = gd.library.function[0].signature.name
    del gd.library.function[0]
    _refused(gd, name)


def test_duplicate_function_names_are_refused():
    gd = _cond_graph_def()
    gd.library.function.add().CopyFrom(gd.library.function[0])
    _refused(gd, gd.library.function[0].signature.name)


def test_negative_output_index_inside_a_function_is_refused():
    gd = _cond_graph_def()
    fd, nd = _library_node(gd)
    nd.input[0] = nd.input[0].rsplit(":", 1)[0] + ":-1"
    _refused(gd, fd.signature.name)


def test_out_of_range_output_inside_a_function_is_refused():
    gd = _cond_graph_def()
    fd, nd = _library_node(gd)
    nd.input[0] = nd.input[0].rsplit(":", 1)[0] + ":5"
    _refused(gd, fd.signature.name)


def test_unknown_control_input_inside_a_function_is_refused():
    gd = _cond_graph_def()
    fd, nd = _library_node(gd)
    nd.input.append("^ghost")
    _refused(gd, fd.signature.name, "ghost")


def test_function_return_missing_is_refused():
    gd = _cond_graph_def()
    fd, _ = _library_node(gd)
    fd.ret.clear()
    _refused(gd, fd.signature.name)


def test_unknown_attr_inside_a_function_is_refused():
    gd = _cond_graph_def()
    fd, nd = _library_node(gd)
    nd.attr["payload"].s = b"x"
    _refused(gd, fd.signature.name, "payload")


def test_function_calling_itself_is_refused_without_recursing_forever():
    gd = _cond_graph_def()
    fd, _ = _library_node(gd)
    other = next(f for f in gd.library.function if f is not fd)
    # The 'then' body gets a nested If whose branches are the body itself.
    with tf.Graph().as_default() as g:
        p = tf.placeholder(tf.bool, [], name="q")
        tf.cond(p, lambda: tf.constant(1.0), lambda: tf.constant(2.0), name="inner")
    inner = next(n for n in g.as_graph_def().node if n.op == "If")
    nd = fd.node_def.add()
    nd.CopyFrom(inner)
    nd.name = "nested"
    del nd.input[:]
    nd.input.append(fd.node_def[0].name + ":output:0")  # any bool would do; this refers to a real node
    nd.attr["then_branch"].func.name = fd.signature.name
    nd.attr["else_branch"].func.name = other.signature.name
    with tf.Graph().as_default(), pytest.raises(ValueError):
        tf.import_graph_def(gd, name="imp")


def test_function_with_an_unknown_input_arg_dtype_is_refused():
    with tf.Graph().as_default() as g:
        tf.while_loop(lambda i: i < 3, lambda i: i + 1, [tf.constant(0)], name="loop")
    gd = g.as_graph_def()
    fd = next(f for f in gd.library.function if f.signature.input_arg)
    fd.signature.input_arg[0].type = 9999
    _refused(gd, fd.signature.name)


def test_function_output_with_no_return_value_is_refused_and_the_graph_def_left_unchanged():
    gd = _cond_graph_def()
    fd, _ = _library_node(gd)
    fd.signature.output_arg.add(name="extra", type=fd.signature.output_arg[0].type)
    before = gd.SerializeToString()
    _refused(gd, fd.signature.name, "extra")
    assert gd.SerializeToString() == before


def test_a_graph_def_refused_midway_leaves_the_graph_exactly_as_it_was():
    # The last node fails its op's type check after every other node was built: all of them are taken out
    # again, with their names and the consumers they added to the user's tensors.
    gd = _graph_def()
    last = gd.node[-1]
    last.attr["T"].type = tf.int32.as_datatype_enum
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [1, 4], name="x")
        before_ops, before_version = g.get_operations(), g.version
        with pytest.raises(ValueError, match=last.name):
            tf.import_graph_def(gd, input_map={"x:0": x})
        assert g.get_operations() == before_ops and x.consumers() == []
        assert g.version > before_version  # sessions re-check what they cached
        # The refused import's names are free again: the next import takes scope 'import', not 'import_1'.
        tf.import_graph_def(_graph_def(), input_map={"x:0": x})
        assert g.get_tensor_by_name("import/z:0").op.type


def test_an_input_map_tensor_of_another_graph_is_refused():
    with tf.Graph().as_default():
        other = tf.constant([[1.0, 2.0, 3.0, 4.0]], name="o")
    with tf.Graph().as_default() as g:
        with pytest.raises(ValueError, match="must be from the graph the GraphDef is imported into"):
            tf.import_graph_def(_graph_def(), input_map={"x:0": other})
        assert g.get_operations() == []
    assert [op.name for op in other.graph.get_operations()] == ["o"]


# -- versions, variant Consts, unknown-rank shapes, device strings ---------------------------------------
def test_a_variant_const_is_refused_rather_than_fetched_as_none():
    gd = _graph_def()
    node = _node(gd, "c")
    node.attr["dtype"].type = dtypes.variant.as_datatype_enum
    t = node.attr["value"].tensor
    t.Clear()
    t.dtype = dtypes.variant.as_datatype_enum
    _refused(gd, "'c'", "variant", "0 elements")


def test_an_imported_variant_const_cannot_be_fetched_as_none():
    """A variant Const (TF writes them for empty TensorLists; its value cannot be held as a NumPy array) imports,
    and fetching it is refused rather than giving None."""
    gd = graph_pb2.GraphDef()
    node = gd.node.add(name="v", op="Const")
    node.attr["dtype"].type = dtypes.variant.as_datatype_enum
    value = tensor_pb2.TensorProto(dtype=dtypes.variant.as_datatype_enum)
    value.variant_val.add()
    node.attr["value"].tensor.CopyFrom(value)
    with tf.Graph().as_default() as g2:
        tf.import_graph_def(gd, name="imp")
        with tf.Session() as sess, pytest.raises(ValueError, match="fetch"):
            sess.run(g2.get_tensor_by_name("imp/v:0"))


def test_a_min_consumer_above_tfminis_producer_version_is_refused_as_tf_refuses_it():
    gd = _graph_def()
    gd.versions.min_consumer = gd.versions.producer + 1
    _refused(gd, f"GraphDef min consumer version {gd.versions.producer + 1} above current version "
                 f"{gd.versions.producer}", "Please upgrade")


def test_a_graph_def_naming_tfminis_version_a_bad_consumer_is_refused():
    gd = _graph_def()
    gd.versions.bad_consumers.extend([1, gd.versions.producer])
    _refused(gd, f"GraphDef disallows consumer version {gd.versions.producer}")


def test_a_graph_def_barring_only_other_consumer_versions_imports():
    gd = _graph_def()
    gd.versions.bad_consumers.append(gd.versions.producer + 1)
    gd.versions.min_consumer = gd.versions.producer
    with tf.Graph().as_default():
        tf.import_graph_def(gd, name="imp")


def test_a_negative_producer_version_is_refused():
    gd = _graph_def()
    gd.versions.producer = -1
    _refused(gd, "GraphDef producer version -1 below min producer")


def test_a_shape_of_unknown_rank_with_dims_is_refused():
    gd = _graph_def()
    shape = _node(gd, "x").attr["shape"].shape
    shape.unknown_rank = True
    _refused(gd, "'x'", "unknown rank")


@pytest.mark.parametrize("device", ["/job:a/job:b/device:XPU:x", "/device:CPU:x", "/task:one", "/job:a/job:b"])
def test_a_malformed_device_string_is_refused(device):
    gd = _graph_def()
    _node(gd, "c").device = device
    _refused(gd, "'c'", device)


def test_a_well_formed_device_string_imports_in_canonical_form():
    gd = _graph_def()
    _node(gd, "c").device = "/job:w/replica:0/task:1/device:XPU:2"
    with tf.Graph().as_default() as g:
        tf.import_graph_def(gd, name="imp")
        assert g.get_operation_by_name("imp/c").device == "/job:w/replica:0/task:1/device:XPU:2"
