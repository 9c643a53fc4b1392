"""Meta graphs: export_meta_graph's MetaGraphDef (collections, SaverDef, op list), import_meta_graph resuming
training from a Saver's .meta file, scopes, input_map, clear_devices, and write_graph in text and binary."""

import os

import numpy as np
import pytest
from google.protobuf import text_format

import tfmini as tf
from tfmini.protobuf import graph_pb2, meta_graph_pb2, queue_runner_pb2, saver_pb2, variable_pb2


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield


def _linear_model():
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    t = tf.placeholder(tf.float32, [None, 1], name="t")
    w = tf.get_variable("w", initializer=np.array([[0.5], [-1.0]], np.float32))
    b = tf.get_variable("b", initializer=np.zeros([1], np.float32))
    y = tf.add(tf.matmul(x, w), b, name="y")
    loss = tf.reduce_mean(tf.square(y - t), name="loss")
    step = tf.train.get_or_create_global_step()
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step)
    tf.add_to_collection(tf.GraphKeys.LOSSES, loss)
    return x, t, w, b, y, loss, train


_X = np.array([[1.0, 2.0], [3.0, -1.0]], np.float32)
_T = np.array([[1.0], [0.0]], np.float32)


def test_collections_are_stored_by_kind():
    _linear_model()
    tf.add_to_collection("counts", 3)
    tf.add_to_collection("rates", 0.25)
    tf.add_to_collection("words", "hi")
    mg = tf.train.export_meta_graph()
    cols = mg.collection_def
    assert cols["counts"].int64_list.value == [3]
    assert cols["rates"].float_list.value == [0.25]
    assert cols["words"].bytes_list.value == [b"hi"]
    assert list(cols["train_op"].node_list.value) == ["GradientDescent"]
    assert list(cols["losses"].node_list.value) == ["loss:0"]
    var_defs = []
    for raw in cols["variables"].bytes_list.value:
        vd = variable_pb2.VariableDef()
        vd.ParseFromString(raw)
        var_defs.append(vd)
    by_name = {vd.variable_name: vd for vd in var_defs}
    assert set(by_name) == {"w:0", "b:0", "global_step:0"}
    w = by_name["w:0"]
    assert (w.initializer_name, w.snapshot_name, w.initial_value_name) == ("w/Assign", "w/read:0",
                                                                           "w/Initializer/initial_value:0") or \
        w.initializer_name == "w/Assign" and w.snapshot_name == "w/read:0"
    assert w.trainable and not w.is_resource
    assert not by_name["global_step:0"].trainable
    assert len(cols["trainable_variables"].bytes_list.value) == 2


def test_meta_info_lists_the_op_types_the_graph_uses():
    _linear_model()
    mg = tf.train.export_meta_graph()
    ops = {op.name: op for op in mg.meta_info_def.stripped_op_list.op}
    assert {"MatMul", "VariableV2", "Placeholder", "Assign"} <= set(ops)
    assert list(ops) == sorted(ops)
    assert ops["VariableV2"].is_stateful and not ops["MatMul"].is_stateful
    attrs = {a.name: a for a in ops["MatMul"].attr}
    assert attrs["transpose_a"].type == "bool" and attrs["transpose_a"].default_value.b is False
    assert mg.meta_info_def.tensorflow_version
    assert {nd.name for nd in mg.graph_def.node} >= {"x", "w", "y", "loss"}
    # export_meta_graph records shapes as TF does
    assert "_output_shapes" in next(nd for nd in mg.graph_def.node if nd.name == "y").attr


def test_saver_def_names_the_save_and_restore_ops():
    _linear_model()
    saver = tf.train.Saver(max_to_keep=3)
    sd = saver.as_saver_def()
    assert isinstance(sd, saver_pb2.SaverDef)
    assert (sd.filename_tensor_name, sd.save_tensor_name, sd.restore_op_name) == (
        "save/Const:0", "save/control_dependency:0", "save/restore_all")
    assert sd.max_to_keep == 3 and sd.version == saver_pb2.SaverDef.V2
    assert saver.saver_def is sd
    mg = saver.export_meta_graph()
    assert mg.saver_def == sd


def test_save_writes_the_meta_file_and_import_resumes_training(tmp_path):
    x, t, w, b, y, loss, train = _linear_model()
    saver = tf.train.Saver()
    prefix = str(tmp_path / "model")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train, {x: _X, t: _T})
        path = saver.save(sess, prefix, global_step=tf.train.get_global_step())
        saved_w = sess.run(w)
        sess.run(train, {x: _X, t: _T})
        expected_w, expected_loss = sess.run([w, loss], {x: _X, t: _T})
    assert path == prefix + "-1" and os.path.isfile(path + ".meta")

    with tf.Graph().as_default():
        restorer = tf.train.import_meta_graph(path + ".meta")
        assert isinstance(restorer, tf.train.Saver)
        train_op = tf.get_collection(tf.GraphKeys.TRAIN_OP)[0]
        [imported_loss] = tf.get_collection(tf.GraphKeys.LOSSES)
        assert [v.name for v in tf.trainable_variables()] == ["w:0", "b:0"]
        assert sorted(v.name for v in tf.global_variables()) == ["b:0", "global_step:0", "w:0"]
        with tf.Session() as sess:
            restorer.restore(sess, path)
            np.testing.assert_array_equal(sess.run("w:0"), saved_w)
            assert sess.run(tf.train.get_global_step()) == 1
            sess.run(train_op, {"x:0": _X, "t:0": _T})
            got_w, got_loss = sess.run(["w:0", imported_loss], {"x:0": _X, "t:0": _T})
            assert sess.run(tf.train.get_global_step()) == 2
            # the imported saver saves again, meta graph included
            again = restorer.save(sess, prefix, global_step=2)
    np.testing.assert_allclose(got_w, expected_w, rtol=1e-6)
    np.testing.assert_allclose(got_loss, expected_loss, rtol=1e-6)
    assert os.path.isfile(again + ".meta")


def test_one_variable_in_several_collections_is_one_object(tmp_path):
    _linear_model()
    mg = tf.train.export_meta_graph()
    with tf.Graph().as_default():
        tf.train.import_meta_graph(mg)
        glob = {v.name: v for v in tf.global_variables()}
        for v in tf.trainable_variables():
            assert glob[v.name] is v
        w = glob["w:0"]
        assert w.initializer.name == "w/Assign" and w.value().name == "w/read:0" and w.trainable
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_array_equal(sess.run(w), [[0.5], [-1.0]])
            np.testing.assert_array_equal(sess.run(w + 1.0), [[1.5], [0.0]])


def test_without_saver_def_a_new_saver_or_none():
    _linear_model()
    with_vars = tf.train.export_meta_graph()
    tf.reset_default_graph()
    tf.constant(1.0, name="c")
    no_vars = tf.train.export_meta_graph()
    with tf.Graph().as_default():
        assert isinstance(tf.train.import_meta_graph(with_vars), tf.train.Saver)
    with tf.Graph().as_default():
        assert tf.train.import_meta_graph(no_vars) is None


def test_import_scope_prefixes_ops_collections_and_the_saver(tmp_path):
    x, t, w, b, y, loss, train = _linear_model()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(w.assign([[2.0], [3.0]]))
        path = saver.save(sess, str(tmp_path / "m"))
    with tf.Graph().as_default():
        restorer = tf.train.import_meta_graph(path + ".meta", import_scope="net")
        assert restorer.saver_def.restore_op_name == "net/save/restore_all"
        assert tf.get_collection(tf.GraphKeys.TRAIN_OP)[0].name == "net/GradientDescent"
        assert [v.name for v in tf.trainable_variables()] == ["net/w:0", "net/b:0"]
        with tf.Session() as sess:
            restorer.restore(sess, path)
            np.testing.assert_array_equal(sess.run("net/w:0"), [[2.0], [3.0]])


def test_export_scope_keeps_the_scope_and_lists_unbound_inputs():
    outside = tf.placeholder(tf.float32, [2], name="outside")
    with tf.name_scope("inner"):
        v = tf.Variable([1.0, 2.0], name="v")
        tf.multiply(outside, v, name="out")
    tf.Variable(0.0, name="other")
    mg = tf.train.export_meta_graph(export_scope="inner")
    names = {nd.name for nd in mg.graph_def.node}
    assert "out" in names and "v" in names and "outside" not in names and "other" not in names
    assert list(mg.collection_def["unbound_inputs"].node_list.value) == ["outside"]
    assert len(mg.collection_def["variables"].bytes_list.value) == 1
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="unbound inputs"):
            tf.train.import_meta_graph(mg, import_scope="new")
    # Bound through input_map, the scope imports and computes with the new input.
    with tf.Graph().as_default():
        fed = tf.constant([3.0, 4.0], name="fed")
        tf.train.import_meta_graph(mg, import_scope="new", input_map={"outside:0": fed})
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_array_equal(sess.run("new/out:0"), [3.0, 8.0])


def test_input_map_replaces_a_placeholder():
    _linear_model()
    mg = tf.train.export_meta_graph()
    with tf.Graph().as_default():
        fixed = tf.constant(_X, name="fixed")
        tf.train.import_meta_graph(mg, input_map={"x:0": fixed})
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_allclose(sess.run("y:0"), _X @ np.array([[0.5], [-1.0]], np.float32))


def test_clear_devices_on_export_and_import():
    with tf.device("/cpu:0"):
        tf.constant(1.0, name="c")
    mg = tf.train.export_meta_graph()
    assert mg.graph_def.node[0].device
    assert not tf.train.export_meta_graph(clear_devices=True).graph_def.node[0].device
    with tf.Graph().as_default() as g:
        tf.train.import_meta_graph(mg, clear_devices=True)
        assert g.get_operation_by_name("c").device == ""


def test_strip_default_attrs_drops_defaults_only():
    a = tf.placeholder(tf.float32, [2, 2], name="a")
    tf.matmul(a, a, transpose_b=True, name="mm")
    mg = tf.train.export_meta_graph(strip_default_attrs=True)
    mm = next(nd for nd in mg.graph_def.node if nd.name == "mm")
    assert "transpose_a" not in mm.attr and mm.attr["transpose_b"].b
    assert mg.meta_info_def.stripped_default_attrs
    with tf.Graph().as_default():
        tf.train.import_meta_graph(mg)
        with tf.Session() as sess:
            got = sess.run("mm:0", {"a:0": [[1.0, 2.0], [3.0, 4.0]]})
    np.testing.assert_array_equal(got, [[5.0, 11.0], [11.0, 25.0]])


def test_text_and_binary_meta_graph_files(tmp_path):
    _linear_model()
    text_path = str(tmp_path / "g.meta.txt")
    bin_path = str(tmp_path / "sub" / "g.meta")
    mg = tf.train.export_meta_graph(filename=text_path, as_text=True)
    tf.train.export_meta_graph(filename=bin_path)
    assert text_format.Parse(open(text_path).read(), meta_graph_pb2.MetaGraphDef()) == mg
    parsed = meta_graph_pb2.MetaGraphDef()
    parsed.ParseFromString(open(bin_path, "rb").read())
    assert parsed == mg
    for path in (text_path, bin_path):
        with tf.Graph().as_default():
            tf.train.import_meta_graph(path)
            assert len(tf.trainable_variables()) == 2


def test_missing_meta_file_is_an_io_error(tmp_path):
    with pytest.raises(OSError, match="does not exist"):
        tf.train.import_meta_graph(str(tmp_path / "nope.meta"))
    with pytest.raises(TypeError, match="unexpected keyword"):
        tf.train.import_meta_graph(str(tmp_path / "nope.meta"), bogus=1)


def test_unserializable_collections_are_skipped():
    tf.add_to_collection("objects", object())
    tf.add_to_collection("mixed", 1)
    tf.add_to_collection("mixed", "one")
    tf.add_to_collection("counts", 1)
    mg = tf.train.export_meta_graph()
    assert "objects" not in mg.collection_def and "mixed" not in mg.collection_def
    assert "counts" in mg.collection_def


def test_other_objects_are_stored_by_name_and_bools_as_ints():
    v = tf.Variable(1.0, name="v")
    tf.add_to_collection("my_vars", v)
    tf.add_to_collection("flags", True)
    mg = tf.train.export_meta_graph()
    assert list(mg.collection_def["my_vars"].node_list.value) == ["v:0"]
    assert list(mg.collection_def["flags"].int64_list.value) == [1]
    with tf.Graph().as_default() as g:
        tf.train.import_meta_graph(mg)
        assert tf.get_collection("my_vars") == [g.get_tensor_by_name("v:0")]


def test_savers_collection_round_trips():
    _linear_model()
    saver = tf.train.Saver()
    tf.add_to_collection(tf.GraphKeys.SAVERS, saver)
    mg = tf.train.export_meta_graph()
    with tf.Graph().as_default():
        tf.train.import_meta_graph(mg)
        [restored] = tf.get_collection(tf.GraphKeys.SAVERS)
        assert isinstance(restored, tf.train.Saver)
        assert restored.saver_def == saver.saver_def


@pytest.mark.parametrize("as_text", [True, False])
def test_write_graph_text_and_binary(tmp_path, as_text):
    tf.add(tf.constant(1.0, name="a"), 2.0, name="sum")
    logdir = tmp_path / "logs" / "deep"
    path = tf.train.write_graph(tf.get_default_graph(), str(logdir), "g.pb", as_text=as_text)
    assert path == os.path.join(str(logdir), "g.pb")
    gd = graph_pb2.GraphDef()
    data = open(path, "rb").read()
    if as_text:
        text_format.Parse(data.decode(), gd)
    else:
        gd.ParseFromString(data)
    assert gd == tf.get_default_graph().as_graph_def()
    assert tf.io.write_graph is tf.train.write_graph
    # a GraphDef proto is written as given
    path2 = tf.io.write_graph(gd, str(tmp_path), "again.pbtxt")
    assert text_format.Parse(open(path2).read(), graph_pb2.GraphDef()) == gd
    with pytest.raises(TypeError):
        tf.train.write_graph(42, str(tmp_path), "x.pb")


# -- a meta graph and checkpoint written by TensorFlow (tools/tf_fixtures/gen_meta_graphs.py) -----------------
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "tf", "meta_graphs")


def test_tensorflows_meta_graph_resumes_training_here():
    expected = np.load(os.path.join(FIXTURES, "expected.npz"))
    feeds = {"x:0": expected["x"], "labels:0": expected["labels"]}
    saver = tf.train.import_meta_graph(os.path.join(FIXTURES, "model.ckpt-1.meta"))
    assert (saver.saver_def.filename_tensor_name, saver.saver_def.restore_op_name) == ("save/Const:0",
                                                                                      "save/restore_all")
    [train_op] = tf.get_collection(tf.GraphKeys.TRAIN_OP)
    assert train_op.name == "train"
    assert [v.name for v in tf.trainable_variables()] == ["w:0", "b:0"]
    assert tf.train.get_global_step().name == "global_step:0"
    [loss] = tf.get_collection(tf.GraphKeys.LOSSES)
    with tf.Session() as sess:
        saver.restore(sess, os.path.join(FIXTURES, "model.ckpt-1"))
        np.testing.assert_array_equal(sess.run("w:0"), expected["w_saved"])
        np.testing.assert_allclose(sess.run(loss, feeds), expected["loss_saved"], rtol=1e-6)
        np.testing.assert_allclose(sess.run("probs:0", feeds), expected["probs_saved"], rtol=1e-6)
        sess.run(train_op, feeds)
        assert sess.run(tf.train.get_global_step()) == 2
        np.testing.assert_allclose(sess.run("w:0"), expected["w_next"], rtol=1e-6)
        np.testing.assert_allclose(sess.run("b:0"), expected["b_next"], rtol=1e-6)
        np.testing.assert_allclose(sess.run(loss, feeds), expected["loss_next"], rtol=1e-6)


def test_tensorflows_meta_graph_attrs_are_reconciled_with_its_op_list():
    mg = meta_graph_pb2.MetaGraphDef()
    with open(os.path.join(FIXTURES, "model.ckpt-1.meta"), "rb") as f:
        mg.ParseFromString(f.read())
    # a node written by a newer TF carries an attr tfmini's MatMul does not declare, at its default value
    matmul = next(nd for nd in mg.graph_def.node if nd.name == "MatMul")
    matmul.attr["grad_a"].b = False
    # and a node stripped of a default attr
    del next(nd for nd in mg.graph_def.node if nd.name == "loss").attr["keep_dims"]
    tf.train.import_meta_graph(mg)
    g = tf.get_default_graph()
    assert g.get_operation_by_name("loss").get_attr("keep_dims") is False
    assert "grad_a" not in g.get_operation_by_name("MatMul").node_def.attr


def test_queue_runners_round_trip_as_queue_runner_defs():
    queue = tf.FIFOQueue(10, [tf.float32], shapes=[[]], name="fifo")
    counter = tf.Variable(0.0, name="counter")
    enqueue = queue.enqueue([counter.assign_add(1.0)], name="enq")
    tf.train.add_queue_runner(tf.train.QueueRunner(queue, [enqueue]))
    queue.dequeue(name="deq")
    mg = tf.train.export_meta_graph()
    [raw] = mg.collection_def["queue_runners"].bytes_list.value
    qr_def = queue_runner_pb2.QueueRunnerDef.FromString(raw)
    assert (qr_def.queue_name, list(qr_def.enqueue_op_name)) == ("fifo", ["enq"])
    assert qr_def.close_op_name and qr_def.cancel_op_name
    assert list(qr_def.queue_closed_exception_types) == [tf.errors.OUT_OF_RANGE]
    with tf.Graph().as_default():
        tf.train.import_meta_graph(mg, import_scope="copy")
        [runner] = tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS)
        assert runner.queue.name == "copy/fifo" and [op.name for op in runner.enqueue_ops] == ["copy/enq"]
        assert runner.queue_closed_exception_types == (tf.errors.OutOfRangeError,)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            coord = tf.train.Coordinator()
            threads = tf.train.start_queue_runners(sess, coord=coord)
            got = [sess.run("copy/deq:0") for _ in range(3)]
            coord.request_stop()
            coord.join(threads)
    assert got == sorted(got) and got[0] >= 1.0


def test_clear_extraneous_savers_keeps_only_the_given_savers_ops():
    _linear_model()
    first = tf.train.Saver(name="first")
    second = tf.train.Saver()
    tf.add_to_collection(tf.GraphKeys.SAVERS, first)
    mg = second.export_meta_graph(clear_extraneous_savers=True)
    names = {nd.name for nd in mg.graph_def.node}
    assert "save/restore_all" in names and "save/SaveV2" in names
    assert not any(n.startswith("first/") for n in names)
    assert "savers" not in mg.collection_def
    kept = second.export_meta_graph()
    assert any(nd.name.startswith("first/") for nd in kept.graph_def.node) and "savers" in kept.collection_def
