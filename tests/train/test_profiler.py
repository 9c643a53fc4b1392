"""tf.profiler against tfprof's results recorded from TensorFlow (parameters and float operations by scope
and by op type, and the printed tables), and on traced runs' time and memory, advice and op logs."""

from __future__ import annotations

import os

import numpy as np
import pytest

import tfmini as tf
from tfmini.protobuf import tfprof_log_pb2

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf", "train_more", "profiler")
B = tf.profiler.ProfileOptionBuilder


def _model():
    """The model of tools/tf_fixtures/gen_train_more.py's profiler_model."""
    x = tf.placeholder(tf.float32, [8, 6], name="x")
    image = tf.placeholder(tf.float32, [2, 5, 5, 3], name="image")
    with tf.variable_scope("dense"):
        kernel = tf.get_variable("kernel", [6, 4])
        bias = tf.get_variable("bias", [4], initializer=tf.zeros_initializer())
        hidden = tf.nn.relu(tf.matmul(x, kernel) + bias)
    with tf.variable_scope("conv"):
        filters = tf.get_variable("filters", [3, 3, 3, 2])
        conv = tf.nn.conv2d(image, filters, [1, 1, 1, 1], "SAME")
        conv = tf.nn.bias_add(conv, tf.get_variable("bias", [2]))
        pooled = tf.nn.max_pool(conv, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
    tf.Variable(0, name="counter", trainable=False)
    return tf.reduce_mean(tf.square(hidden - 1.0)) + tf.reduce_sum(pooled * pooled)


def _recorded(key, proto_class):
    with open(os.path.join(FIXTURES, key + ".pb"), "rb") as f:
        return proto_class.FromString(f.read())


def _tree(p) -> tuple:
    """(name, parameters, total_parameters, float_ops, total_float_ops, definitions, input shapes, children)."""
    shapes = tuple((k, tuple(d.size for d in v.dim)) for k, v in sorted(p.input_shapes.items()))
    return (p.name, p.parameters, p.total_parameters, p.float_ops, p.total_float_ops, p.total_definition_count,
            shapes, tuple(_tree(c) for c in p.children))


def _profile_text(path) -> list[str]:
    lines = open(path).read().splitlines()
    return lines[lines.index("Profile:") + 1:]


@pytest.mark.parametrize("key, options", [("params_scope", B.trainable_variables_parameter()),
                                          ("flops_scope", B.float_operation())])
def test_scope_view_matches_tensorflow(key, options, tmp_path):
    text = str(tmp_path / "out.txt")
    with tf.Graph().as_default() as g:
        _model()
        got = tf.profiler.profile(g, cmd="scope", options=B(options).with_file_output(text).build())
    assert isinstance(got, tf.profiler.GraphNodeProto)
    assert _tree(got) == _tree(_recorded(key, tf.profiler.GraphNodeProto))
    assert _profile_text(text) == _profile_text(os.path.join(FIXTURES, key + ".txt"))


def test_op_view_matches_tensorflow(tmp_path):
    # TF 2 writes AddV2 where TF 1.15 (and tfmini) wrote Add.
    text = str(tmp_path / "out.txt")
    with tf.Graph().as_default() as g:
        _model()
        got = tf.profiler.profile(g, cmd="op", options=B(B.float_operation()).with_file_output(text).build())
    want = _recorded("flops_op", tf.profiler.MultiGraphNodeProto)

    def chain(p):
        out = []
        while p.children:
            p = p.children[0]
            out.append((p.name.replace("AddV2", "Add"), p.float_ops, p.total_float_ops,
                        [(n.name, n.float_ops) for n in p.graph_nodes]))
        return out

    assert got.total_float_ops == want.total_float_ops == 6271
    assert chain(got) == chain(want)
    expected = [line.replace("AddV2", "Add  ") for line in _profile_text(os.path.join(FIXTURES, "flops_op.txt"))]
    # tfprof pads one name one space short; the numbers and shares are compared.
    assert [line.split() for line in _profile_text(text)] == [line.split() for line in expected]


def test_profile_defaults_to_trainable_parameters(capsys):
    with tf.Graph().as_default():
        _model()
        got = tf.profiler.profile()
    assert got.total_parameters == 84
    out = capsys.readouterr().out
    assert "_TFProfRoot (--/84 params)" in out and "dense/kernel (6x4, 24/24 params)" in out


def _traced(g, loss):
    sess = tf.Session(graph=g)
    sess.run(tf.global_variables_initializer())
    run_meta = tf.RunMetadata()
    feeds = {"x:0": np.ones((8, 6), np.float32), "image:0": np.ones((2, 5, 5, 3), np.float32)}
    sess.run(loss, feeds, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE), run_metadata=run_meta)
    sess.close()
    return run_meta


def test_time_and_memory_from_a_traced_run():
    with tf.Graph().as_default() as g:
        loss = _model()
        run_meta = _traced(g, loss)
        profiler = tf.profiler.Profiler(g)
        profiler.add_step(0, run_meta)
        opts = B(B.time_and_memory(min_micros=0)).with_empty_output().build()
        scope = profiler.profile_name_scope(opts)
        ops = profiler.profile_operations(opts)
    nodes = {}

    def walk(p):
        nodes[p.name] = p
        for c in p.children:
            walk(c)

    walk(scope)
    conv = nodes["conv/Conv2D"]
    assert conv.run_count == 1 and conv.exec_micros >= 0
    assert conv.output_bytes == conv.requested_bytes == 2 * 5 * 5 * 2 * 4
    assert nodes["dense/MatMul"].output_bytes == 8 * 4 * 4
    assert scope.total_requested_bytes == sum(p.requested_bytes for p in nodes.values())
    assert scope.total_exec_micros == sum(p.exec_micros for p in nodes.values())
    assert "RandomUniform" not in {p.name for p in nodes.values()}  # not run by this step
    groups = {}
    p = ops
    while p.children:
        p = p.children[0]
        groups[p.name] = p
    assert groups["Conv2D"].requested_bytes == conv.requested_bytes


def test_steps_are_averaged_and_selectable():
    with tf.Graph().as_default() as g:
        loss = _model()
        first, second = _traced(g, loss), _traced(g, loss)
        profiler = tf.profiler.Profiler(g)
        profiler.add_step(1, first)
        profiler.add_step(2, second)
        opts = B(B.time_and_memory(min_micros=0, min_bytes=0)).with_empty_output()
        mean = profiler.profile_name_scope(opts.build())
        only_one = profiler.profile_name_scope(opts.with_step(1).build())
    assert mean.total_requested_bytes == only_one.total_requested_bytes


def test_graph_view_holds_inputs_under_their_consumers():
    with tf.Graph().as_default() as g:
        _model()
        got = tf.profiler.profile(g, cmd="graph", options=B(B.float_operation()).with_empty_output().build())
    top = {c.name: c for c in got.children}
    assert "add" in top
    assert {c.name for c in top["add"].children} == {"Mean", "Sum"}
    assert got.total_float_ops == 6271


def test_op_log_adds_types_and_float_ops(tmp_path):
    with tf.Graph().as_default() as g:
        _model()
        op_log = tfprof_log_pb2.OpLogProto()
        op_log.log_entries.add(name="dense/Relu", float_ops=32, types=["_activation"])
        got = tf.profiler.profile(g, op_log=op_log, cmd="scope",
                                  options=B(B.float_operation()).with_accounted_types(["_activation"])
                                  .with_empty_output().build())
        assert [(c.name, c.float_ops) for c in got.children] == [("dense/Relu", 32)]
        tf.profiler.write_op_log(g, str(tmp_path), op_log)
    written = tfprof_log_pb2.OpLogProto.FromString((tmp_path / "tfprof_log.pb").read_bytes())
    entries = {e.name: e for e in written.log_entries}
    assert list(entries["dense/kernel"].types) == ["_trainable_variables"]
    assert entries["conv/Conv2D"].float_ops == 5400
    assert entries["dense/Relu"].float_ops == 32 and "_activation" in entries["dense/Relu"].types


def test_option_builder():
    opts = (B().with_max_depth(3).with_min_memory(min_bytes=5).with_min_execution_time(min_micros=7)
            .with_node_names(show_name_regexes=["dense.*"]).order_by("bytes").select(["bytes", "params"])
            .with_step(2).account_displayed_op_only(True).with_accounted_types(["Conv2D"]).build())
    assert opts["max_depth"] == 3 and opts["min_bytes"] == 5 and opts["min_micros"] == 7
    assert opts["show_name_regexes"] == ["dense.*"] and opts["order_by"] == "bytes"
    assert opts["select"] == ["bytes", "params"] and opts["step"] == 2 and opts["account_displayed_op_only"]
    assert B().with_timeline_output("t.json").build()["output"] == "timeline:outfile=t.json"
    assert B.trainable_variables_parameter()["account_type_regexes"] == ["_trainable_variables"]
    assert B.float_operation()["min_float_ops"] == 1
    base = B.time_and_memory()
    assert base["select"] == ["micros", "bytes"] and base["min_micros"] == 1 and base["order_by"] == "micros"


def test_name_filters_and_depth():
    with tf.Graph().as_default() as g:
        _model()
        opts = B(B.float_operation()).with_node_names(show_name_regexes=["conv/.*"],
                                                        hide_name_regexes=[".*Initializer.*"]).with_empty_output()
        got = tf.profiler.profile(g, options=opts.build())
        assert [c.name for c in got.children] == ["conv/Conv2D", "conv/BiasAdd", "conv/MaxPool"]
        shallow = tf.profiler.profile(g, options=B(B.float_operation()).with_max_depth(1).with_empty_output().build())
        assert all(not c.children for c in shallow.children)


def test_advise_names_the_expensive_ops():
    with tf.Graph().as_default() as g:
        run_meta = _traced(g, _model())
        advice = tf.profiler.advise(g, run_meta)
    assert isinstance(advice, tf.profiler.AdviceProto)
    reports = advice.checkers["ExpensiveOperationChecker"].reports
    assert len(reports) == 3 and all(r.startswith("top ") for r in reports)
    with pytest.raises(ValueError, match="run_meta must be provided"):
        tf.profiler.advise(g, None)


def test_bad_arguments():
    with tf.Graph().as_default() as g:
        _model()
        with pytest.raises(tf.errors.InvalidArgumentError, match="unknown cmd: bogus"):
            tf.profiler.profile(g, cmd="bogus")
        with pytest.raises(tf.errors.InvalidArgumentError, match="Unknown order_by"):
            tf.profiler.profile(g, options=B().order_by("bogus").with_empty_output().build())


def test_code_view_groups_ops_by_the_line_that_made_them():
    with tf.Graph().as_default() as g:
        _model()
        got = tf.profiler.profile(g, cmd="code", options=B(B.float_operation()).with_empty_output().build())
    names = [c.name for c in got.children]
    conv = next(c for c in got.children if "conv2d" in c.name)
    assert conv.name.startswith("test_profiler.py:") and ":_model:" in conv.name
    assert conv.float_ops == 5400 and [n.name for n in conv.graph_nodes] == ["conv/Conv2D"]
    assert names[0] == conv.name  # ordered by float ops
    assert got.total_float_ops == 6271
