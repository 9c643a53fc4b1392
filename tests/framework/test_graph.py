"""tf.Graph: default-graph stacks (per thread), naming and name scopes, control dependencies, collections,
lookup by name, GraphDef export/import, finalize and the version counter, compared with TF1's behaviour."""

import threading

import numpy as np
import pytest

import tfmini as tf
from tfmini.protobuf import graph_pb2


# ----------------------------------------------------------------------------------------------------------
# Default graph
# ----------------------------------------------------------------------------------------------------------
def test_as_default_nests_and_restores_the_outer_default():
    outer_default = tf.get_default_graph()
    g1, g2 = tf.Graph(), tf.Graph()
    with g1.as_default() as entered:
        assert entered is g1
        assert tf.get_default_graph() is g1
        with g2.as_default():
            assert tf.get_default_graph() is g2
            c = tf.constant(1.0)
        assert tf.get_default_graph() is g1
    assert tf.get_default_graph() is outer_default
    assert c.graph is g2
    assert g1.get_operations() == []


def test_ops_go_to_the_default_graph():
    g = tf.Graph()
    with g.as_default():
        a = tf.constant(1)
    b = tf.constant(2)
    assert a.graph is g and a.op.graph is g
    assert b.graph is tf.get_default_graph() and b.graph is not g


def test_default_graph_stack_is_per_thread():
    g = tf.Graph()
    global_default = tf.get_default_graph()
    seen = {}

    def worker():
        seen["default"] = tf.get_default_graph()
        inner = tf.Graph()
        with inner.as_default():
            seen["inner"] = tf.get_default_graph() is inner
            ready.set()
            release.wait(5)

    ready, release = threading.Event(), threading.Event()
    with g.as_default():
        t = threading.Thread(target=worker)
        t.start()
        ready.wait(5)
        # The other thread's as_default() does not leak into this thread.
        assert tf.get_default_graph() is g
        release.set()
        t.join(5)
    assert seen["default"] is global_default  # not g: the thread sees the process-wide default
    assert seen["inner"] is True


def test_get_default_graph_is_stable_until_reset():
    g = tf.get_default_graph()
    assert tf.get_default_graph() is g
    tf.constant(1.0)
    tf.reset_default_graph()
    g2 = tf.get_default_graph()
    assert g2 is not g
    assert g2.get_operations() == []


def test_reset_default_graph_inside_a_with_block_raises_assertion_error():
    with tf.Graph().as_default():
        with pytest.raises(AssertionError, match="nested graphs"):
            tf.reset_default_graph()
    tf.reset_default_graph()  # allowed again once the block is left


# ----------------------------------------------------------------------------------------------------------
# Names
# ----------------------------------------------------------------------------------------------------------
def test_unique_op_names_get_numeric_suffixes():
    names = [tf.constant(i).op.name for i in range(3)]
    assert names == ["Const", "Const_1", "Const_2"]
    assert tf.constant(0, name="x").name == "x:0"
    assert tf.constant(0, name="x").name == "x_1:0"
    # A name that collides with a generated suffix is itself made unique.
    assert tf.constant(0, name="x_1").name == "x_1_1:0"


def test_unique_names_are_per_graph():
    g1, g2 = tf.Graph(), tf.Graph()
    with g1.as_default():
        a = tf.constant(1)
    with g2.as_default():
        b = tf.constant(1)
    assert a.op.name == b.op.name == "Const"


def test_name_scope_nests_and_returns_the_scope_string():
    with tf.name_scope("outer") as outer:
        assert outer == "outer/"
        a = tf.constant(1, name="a")
        with tf.name_scope("inner") as inner:
            assert inner == "outer/inner/"
            b = tf.constant(1)
    assert a.op.name == "outer/a"
    assert b.op.name == "outer/inner/Const"
    assert tf.get_default_graph().get_name_scope() == ""


def test_name_scope_reentered_without_slash_is_made_unique():
    with tf.name_scope("s"):
        pass
    with tf.name_scope("s") as second:
        c = tf.constant(1)
    assert second == "s_1/"
    assert c.op.name == "s_1/Const"


def test_name_scope_with_trailing_slash_reuses_the_exact_scope():
    with tf.name_scope("s") as scope:
        a = tf.constant(1)
    with tf.name_scope(scope):
        b = tf.constant(1)
    assert a.op.name == "s/Const"
    assert b.op.name == "s/Const_1"


def test_name_scope_none_returns_to_the_root():
    with tf.name_scope("a"):
        with tf.name_scope(None) as root:
            c = tf.constant(1, name="top")
        with tf.get_default_graph().name_scope("") as empty:
            d = tf.constant(1, name="top2")
    assert root == "" and empty == ""
    assert c.op.name == "top"
    assert d.op.name == "top2"


def test_name_scope_default_name_used_when_name_is_none():
    with tf.name_scope(None, "default") as scope:
        assert scope == "default/"
    with tf.name_scope("given", "default") as scope:
        assert scope == "given/"


def test_name_scope_with_values_but_no_name_raises():
    c = tf.constant(1)
    with pytest.raises(ValueError, match="At least one of name"):
        with tf.name_scope(None, None, [c]):
            pass


@pytest.mark.parametrize("bad", ["bad name", "_lead", "-lead", "a!b", "/lead"])
def test_invalid_root_scope_names_raise_value_error(bad):
    with pytest.raises(ValueError, match="is not a valid scope name"):
        with tf.name_scope(bad):
            pass


def test_nested_scope_names_may_start_with_underscore_or_dash():
    with tf.name_scope("ok"):
        with tf.name_scope("_inner") as s1:
            pass
        with tf.name_scope("-inner") as s2:
            pass
    assert s1 == "ok/_inner/" and s2 == "ok/-inner/"


def test_name_scope_with_values_enters_their_graph():
    g = tf.Graph()
    with g.as_default():
        a = tf.constant(2)
    # Built outside g's as_default block: the converted constant must still land in g.
    b = a * 3
    assert b.graph is g
    assert all(t.graph is g for t in b.op.inputs)
    assert tf.get_default_graph() is not g
    with tf.Session(graph=g) as sess:
        assert sess.run(b) == 6


def test_invalid_op_name_raises_value_error():
    with pytest.raises(ValueError, match="not a valid node name"):
        tf.constant(1, name="bad name")


# ----------------------------------------------------------------------------------------------------------
# Control dependencies
# ----------------------------------------------------------------------------------------------------------
def test_control_dependencies_add_control_inputs_and_nest():
    a = tf.constant(1.0, name="a")
    b = tf.constant(2.0, name="b")
    with tf.control_dependencies([a]):
        c = tf.constant(3.0, name="c")
        with tf.control_dependencies([b.op]):
            d = tf.constant(4.0, name="d")
    e = tf.constant(5.0, name="e")
    assert c.op.control_inputs == [a.op]
    assert set(d.op.control_inputs) == {a.op, b.op}
    assert e.op.control_inputs == []
    assert "^a" in c.op.node_def.input


def test_control_dependencies_none_clears_outer_dependencies():
    a = tf.constant(1.0)
    with tf.control_dependencies([a]):
        with tf.control_dependencies(None):
            b = tf.constant(2.0)
        c = tf.constant(3.0)
    assert b.op.control_inputs == []
    assert c.op.control_inputs == [a.op]


def test_control_dependency_on_a_data_input_is_not_duplicated():
    a = tf.constant(1.0)
    with tf.control_dependencies([a]):
        b = a + 1.0
    assert b.op.control_inputs == []


def test_control_dependencies_reject_non_graph_elements():
    with pytest.raises(TypeError):
        with tf.control_dependencies([3]):
            pass


def test_control_input_runs_before_its_dependent_at_run_time():
    p = tf.placeholder(tf.float32, name="must_feed")
    with tf.control_dependencies([p]):
        guarded = tf.constant(1.0) + 0.0
    with tf.control_dependencies([p]):
        with tf.control_dependencies(None):
            free = tf.constant(1.0) + 0.0
    with tf.Session() as sess:
        # The control input is executed: fetching `guarded` needs the unfed placeholder.
        with pytest.raises(tf.errors.InvalidArgumentError, match="must_feed"):
            sess.run(guarded)
        assert sess.run(guarded, {p: 0.0}) == 1.0
        assert sess.run(free) == 1.0


def test_control_dependency_orders_stateful_ops_even_against_creation_order():
    with tf.Session() as sess:
        handle = sess.run(tf.get_session_handle(tf.constant(7.0)))
        holder, reader = tf.get_session_tensor(handle.handle, tf.float32)
        del_holder, deleter = tf.delete_session_tensor(handle.handle)
        # The reader was created first; the control input added afterwards must still make it wait.
        reader.op._add_control_input(deleter)
        with pytest.raises(tf.errors.InvalidArgumentError, match="not in the session store"):
            sess.run(reader, {holder: handle.handle, del_holder: handle.handle})


def test_control_dependency_reader_before_deleter():
    with tf.Session() as sess:
        handle = sess.run(tf.get_session_handle(tf.constant(7.0)))
        holder, reader = tf.get_session_tensor(handle.handle, tf.float32)
        with tf.control_dependencies([reader]):
            del_holder, deleter = tf.delete_session_tensor(handle.handle)
        value, _ = sess.run([reader, deleter], {holder: handle.handle, del_holder: handle.handle})
        assert value == 7.0
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(reader, {holder: handle.handle})


# ----------------------------------------------------------------------------------------------------------
# Collections
# ----------------------------------------------------------------------------------------------------------
def test_collections_add_get_and_copy_semantics():
    g = tf.get_default_graph()
    a, b = tf.constant(1, name="a"), tf.constant(2, name="b")
    tf.add_to_collection("mine", a)
    tf.add_to_collections(["mine", "other"], b)
    assert tf.get_collection("mine") == [a, b]
    assert g.get_collection("other") == [b]
    assert tf.get_collection("missing") == []
    got = tf.get_collection("mine")
    got.append("junk")
    assert tf.get_collection("mine") == [a, b]  # get_collection returns a copy
    ref = tf.get_collection_ref("mine")
    ref.append(a)
    assert tf.get_collection("mine") == [a, b, a]  # get_collection_ref is live
    assert set(g.get_all_collection_keys()) >= {"mine", "other"}
    g.clear_collection("other")
    assert g.get_collection("other") == []


def test_get_collection_filters_by_scope_regex():
    with tf.name_scope("keep"):
        k = tf.constant(1)
    d = tf.constant(2)
    tf.add_to_collection("c", k)
    tf.add_to_collection("c", d)
    tf.add_to_collection("c", 3)  # items without a name are dropped when a scope is given
    assert tf.get_collection("c", scope="keep") == [k]
    assert tf.get_collection("c") == [k, d, 3]


def test_collections_are_per_graph():
    g = tf.Graph()
    g.add_to_collection("x", 1)
    assert tf.get_collection("x") == []
    assert g.get_collection("x") == [1]


# ----------------------------------------------------------------------------------------------------------
# Lookup
# ----------------------------------------------------------------------------------------------------------
def test_get_operations_in_creation_order():
    a = tf.constant(1, name="a")
    b = tf.constant(2, name="b")
    c = tf.add(a, b, name="c")
    assert tf.get_default_graph().get_operations() == [a.op, b.op, c.op]


def test_get_operation_and_tensor_by_name():
    g = tf.get_default_graph()
    with tf.name_scope("s"):
        c = tf.constant(1, name="c")
    assert g.get_operation_by_name("s/c") is c.op
    assert g.get_tensor_by_name("s/c:0") is c
    assert g.as_graph_element("s/c") is c.op
    assert g.as_graph_element("s/c:0") is c
    assert g.as_graph_element(c) is c


def test_get_operation_by_name_errors():
    g = tf.get_default_graph()
    tf.constant(1, name="c")
    with pytest.raises(KeyError, match="not in the graph"):
        g.get_operation_by_name("nope")
    with pytest.raises(ValueError, match="appears to refer to a Tensor"):
        g.get_operation_by_name("c:0")
    with pytest.raises(TypeError, match="Operation names are strings"):
        g.get_operation_by_name(3)


def test_get_tensor_by_name_errors():
    g = tf.get_default_graph()
    tf.constant(1, name="c")
    with pytest.raises(ValueError, match="refers to an Operation, not a Tensor"):
        g.get_tensor_by_name("c")
    with pytest.raises(KeyError, match="only has 1 outputs"):
        g.get_tensor_by_name("c:1")
    with pytest.raises(KeyError, match="does not exist in the graph"):
        g.get_tensor_by_name("nope:0")
    with pytest.raises(ValueError, match="not a valid one"):
        g.get_tensor_by_name("c:x")
    with pytest.raises(TypeError, match="Tensor names are strings"):
        g.get_tensor_by_name(None)


def test_as_graph_element_rejects_elements_of_other_graphs_and_bad_types():
    other = tf.Graph()
    with other.as_default():
        c = tf.constant(1)
    g = tf.get_default_graph()
    with pytest.raises(ValueError, match="not an element of this graph"):
        g.as_graph_element(c)
    with pytest.raises(ValueError, match="not an element of this graph"):
        g.as_graph_element(c.op)
    with pytest.raises(TypeError, match="Can not convert a int"):
        g.as_graph_element(3)
    own = tf.constant(1)
    with pytest.raises(TypeError, match="into a Operation"):
        g.as_graph_element(own, allow_tensor=False)


# ----------------------------------------------------------------------------------------------------------
# GraphDef
# ----------------------------------------------------------------------------------------------------------
def _small_graph():
    g = tf.Graph()
    with g.as_default():
        a = tf.constant([[1.0, 2.0]], name="a")
        p = tf.placeholder(tf.float32, shape=[None, 2], name="p")
        with tf.control_dependencies([a]):
            s = tf.add(a, p, name="s")
        tf.reduce_sum(s, name="total")
    return g


def test_as_graph_def_has_a_node_per_op_with_inputs_and_attrs():
    g = _small_graph()
    gd = g.as_graph_def()
    assert isinstance(gd, graph_pb2.GraphDef)
    assert [n.name for n in gd.node] == [op.name for op in g.get_operations()]
    by_name = {n.name: n for n in gd.node}
    assert by_name["s"].op == "Add"
    assert list(by_name["s"].input) == ["a", "p"]  # the control dependency on a data input is dropped
    assert list(by_name["total"].input) == ["s", "Const"]
    assert by_name["p"].attr["dtype"].type == tf.float32.as_datatype_enum
    assert [d.size for d in by_name["p"].attr["shape"].shape.dim] == [-1, 2]
    assert tf.make_ndarray(by_name["a"].attr["value"].tensor).tolist() == [[1.0, 2.0]]


def test_graph_def_bytes_parse_back_as_graph_def():
    gd = _small_graph().as_graph_def()
    parsed = tf.GraphDef.FromString(gd.SerializeToString())
    assert parsed == gd
    assert parsed.versions.producer == gd.versions.producer


def test_graph_def_round_trips_through_import_graph_def():
    gd = _small_graph().as_graph_def()
    g2 = tf.Graph()
    with g2.as_default():
        tf.import_graph_def(gd, name="")
    assert g2.as_graph_def() == gd
    with tf.Session(graph=g2) as sess:
        out = sess.run("total:0", {"p:0": [[10.0, 20.0]]})
    assert out == pytest.approx(33.0)


def test_import_graph_def_prefixes_names_and_maps_inputs():
    gd = _small_graph().as_graph_def()
    g2 = tf.Graph()
    with g2.as_default():
        x = tf.constant([[5.0, 5.0]])
        total, = tf.import_graph_def(gd, input_map={"p:0": x}, return_elements=["total:0"])
    assert total.name == "import/total:0"
    with tf.Session(graph=g2) as sess:
        assert sess.run(total) == pytest.approx(13.0)


def test_import_graph_def_rejects_non_graph_defs():
    with pytest.raises(TypeError):
        tf.import_graph_def("not a graph def")


def test_import_graph_def_builds_only_registered_ops_and_keeps_strings_as_data(monkeypatch):
    # Nothing in a GraphDef is ever evaluated: op types are looked up in the registry, names are validated,
    # attr values (code-looking strings included) become attrs, and unknown attrs are rejected. While
    # importing, importing os (what the payload would do if it were evaluated) fails the test.
    code = "__import__('os').system('echo pwned')"
    g = tf.Graph()
    with g.as_default():
        tf.debugging.check_numerics(tf.constant([1.0], name="x"), message=code, name="checked")
        tf.constant(code, name="text")
    gd = tf.GraphDef.FromString(g.as_graph_def().SerializeToString())
    bad_type = tf.GraphDef()
    bad_type.node.add(name="n", op=code)
    bad_attr = tf.GraphDef.FromString(gd.SerializeToString())
    bad_attr.node[0].attr["payload"].s = code.encode()
    bad_name = tf.GraphDef.FromString(gd.SerializeToString())
    bad_name.node[0].name = "x; import os"
    g2 = tf.Graph()
    with monkeypatch.context() as patch, g2.as_default():
        patch.setattr("builtins.__import__", _import_refusing("os", __import__))
        tf.import_graph_def(gd, name="")
        with pytest.raises(ValueError, match="not registered"):
            tf.import_graph_def(bad_type)
        with pytest.raises(ValueError, match="not in Op"):
            tf.import_graph_def(bad_attr)
        with pytest.raises(ValueError, match="not a valid node name"):
            tf.import_graph_def(bad_name, name="")
    assert g2.get_operation_by_name("checked").get_attr("message") == code
    with tf.Session(graph=g2) as sess:
        assert sess.run("text:0") == code.encode()


def test_attr_strings_that_are_not_utf8_round_trip_through_graph_defs():
    g = tf.Graph()
    with g.as_default():
        tf.debugging.check_numerics(tf.constant([1.0], name="x"), message="ok", name="checked")
    gd = g.as_graph_def()
    checked = next(n for n in gd.node if n.name == "checked")
    checked.attr["message"].s = b"not \xff utf-8"
    g2 = tf.Graph()
    with g2.as_default():
        tf.import_graph_def(gd, name="")
    again = next(n for n in g2.as_graph_def().node if n.name == "checked")
    assert again.attr["message"].s == b"not \xff utf-8"


def test_internal_attrs_survive_import_so_gradient_overrides_still_apply():
    g = tf.Graph()
    with g.as_default():
        x = tf.constant(0.5, tf.float64, name="x")
        with g.gradient_override_map({"Sin": "Cos"}):
            tf.sin(x, name="y")
    gd = g.as_graph_def(add_shapes=True)
    g2 = tf.Graph()
    with g2.as_default():
        tf.import_graph_def(gd, name="")
        assert g2.as_graph_def() == gd  # _gradient_op_type and _output_shapes included
        (grad,) = tf.gradients(g2.get_tensor_by_name("y:0"), g2.get_tensor_by_name("x:0"))
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(grad), -np.sin(0.5))  # Cos's gradient, as overridden


def _import_refusing(module: str, real_import):
    def guarded(name, *args, **kwargs):
        if name == module:
            raise AssertionError(f"importing a GraphDef imported {name}")
        return real_import(name, *args, **kwargs)

    return guarded


def test_as_graph_def_from_version_lists_only_newer_ops():
    g = tf.Graph()
    with g.as_default():
        tf.constant(1, name="old")
        v = g.version
        tf.constant(2, name="new")
    assert [n.name for n in g.as_graph_def(from_version=v).node] == ["new"]


def test_as_graph_def_from_version_after_other_graph_changes():
    g = tf.Graph()
    with g.as_default():
        a = tf.constant(1, name="a")
        b = tf.constant(2, name="b")
        b.op._add_control_input(a.op)  # changes the graph (and its version) without adding an op
        v = g.version
        tf.constant(3, name="c")
    assert [n.name for n in g.as_graph_def(from_version=v).node] == ["c"]
    assert [n.name for n in g.as_graph_def(from_version=0).node] == ["a", "b", "c"]


def test_as_graph_def_add_shapes():
    g = _small_graph()
    node = {n.name: n for n in g.as_graph_def(add_shapes=True).node}["p"]
    shape = node.attr["_output_shapes"].list.shape[0]
    assert [d.size for d in shape.dim] == [-1, 2]


# ----------------------------------------------------------------------------------------------------------
# finalize and version
# ----------------------------------------------------------------------------------------------------------
def test_finalize_makes_the_graph_read_only_but_runnable():
    g = tf.Graph()
    with g.as_default():
        c = tf.constant(3)
        assert not g.finalized
        g.finalize()
        assert g.finalized
        with pytest.raises(RuntimeError, match="finalized"):
            tf.constant(1)
        with pytest.raises(RuntimeError, match="finalized"):
            tf.add_to_collection("x", c)
        with tf.Session() as sess:
            assert sess.run(c) == 3
    assert [op.name for op in g.get_operations()] == ["Const"]


def test_version_grows_with_every_change():
    g = tf.Graph()
    v0 = g.version
    with g.as_default():
        a = tf.constant(1)
        v1 = g.version
        b = tf.constant(2)
        v2 = g.version
        b.op._add_control_input(a.op)
        v3 = g.version
    assert v0 == 0 < v1 < v2 < v3


def test_graph_and_its_elements_are_not_picklable_values():
    import pickle

    c = tf.constant(1)
    with pytest.raises(TypeError):
        pickle.dumps(c)


def test_graph_element_equality_is_identity():
    a = tf.constant(np.float32(1))
    b = tf.constant(np.float32(1))
    assert a == a and not (a == b) and a != b
    assert len({a, b, a}) == 2


def test_name_scopes_and_control_dependencies_are_per_thread():
    g = tf.Graph()
    ready = threading.Event()
    made = {}

    def worker():
        with g.as_default():
            made["op"] = tf.constant(1.0, name="from_thread")
        ready.set()

    with g.as_default():
        dep = tf.constant(0.0, name="dep")
        with tf.name_scope("main_scope"), tf.control_dependencies([dep]):
            t = threading.Thread(target=worker)
            t.start()
            t.join(5)
            here = tf.constant(2.0, name="here")
    assert ready.is_set()
    assert made["op"].op.name == "from_thread"  # the other thread's scope stack is its own
    assert made["op"].op.control_inputs == []
    assert here.op.name == "main_scope/here" and here.op.control_inputs == [dep.op]


_CONST_VALUES = [
    np.float16([1.5]), np.float32([[1, 2]]), np.float64(3), np.int8([-1]), np.int16(2), np.int32([3]),
    np.int64([2**40]), np.uint8([255]), np.uint16([7]), np.uint32([9]), np.uint64([2**63]),
    np.array([True, False]), np.complex64([1 + 2j]), np.complex128(3 - 1j),
    np.array([b"a", b"bc"], dtype=object), np.zeros((0, 3), np.float32),
]


@pytest.mark.parametrize("value", _CONST_VALUES, ids=[str(np.asarray(v).dtype) for v in _CONST_VALUES])
def test_constants_of_every_dtype_survive_graph_def_bytes_round_trip(value):
    g = tf.Graph()
    with g.as_default():
        tf.constant(value, name="c")
    gd = tf.GraphDef.FromString(g.as_graph_def().SerializeToString())
    g2 = tf.Graph()
    with g2.as_default():
        tf.import_graph_def(gd, name="")
    with tf.Session(graph=g2) as sess:
        out = np.asarray(sess.run("c:0"))
    want = np.asarray(value)
    assert out.dtype == want.dtype and out.shape == want.shape
    np.testing.assert_array_equal(out, want)
