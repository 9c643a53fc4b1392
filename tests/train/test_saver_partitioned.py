"""tf.train.Saver with partitioned variables: the parts of one variable are saved as slices of one checkpoint
tensor (SaveV2/RestoreV2 shape_and_slices, the tensor bundle's slice entries), byte for byte as TensorFlow
writes them (tests/fixtures/tf/partitioned/ckpt from tools/tf_fixtures/gen_partitioned.py); TensorFlow's
checkpoint and meta graph restore here; list_variables/load_variable see whole tensors; slices restore into
another partitioning; the save slice info travels in VariableDef; bad slices and specs are refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tfmini as tf
from tfmini.framework.registry import apply_op
from tfmini.train import tensor_bundle

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "partitioned"
TF_PREFIX = str(FIXTURES / "ckpt" / "model")
RECORDED = json.loads((FIXTURES / "ckpt.json").read_text(encoding="utf-8"))
EMB, SIDE, BIAS = (np.array(RECORDED[k], np.float32) for k in ("emb", "side", "bias"))


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as g:
        yield g


def _model(emb_parts=3, side_parts=2, initialized=True):
    """The model gen_partitioned.py saved: model/emb [7, 4] cut along rows, model/side [3, 5] along columns
    and model/bias [4]; with `initialized=False` every value starts at zero."""
    emb, side, bias = (EMB, SIDE, BIAS) if initialized else (np.zeros_like(EMB), np.zeros_like(SIDE),
                                                              np.zeros_like(BIAS))
    with tf.variable_scope("model"):
        e = tf.get_variable("emb", [7, 4] if emb_parts else None, initializer=emb,
                            partitioner=tf.fixed_size_partitioner(emb_parts) if emb_parts else None)
        s = tf.get_variable("side", [3, 5] if side_parts else None, initializer=side,
                            partitioner=tf.fixed_size_partitioner(side_parts, axis=1) if side_parts else None)
        b = tf.get_variable("bias", initializer=bias)
    return e, s, b


def _values(sess, variables):
    return [sess.run(tf.convert_to_tensor(v)) for v in variables]


def test_a_saved_partitioned_model_is_byte_for_byte_tensorflows_checkpoint(tmp_path):
    _model()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        prefix = saver.save(sess, str(tmp_path / "model"), write_state=False)
    for suffix in (".index", ".data-00000-of-00001"):
        assert Path(prefix + suffix).read_bytes() == Path(TF_PREFIX + suffix).read_bytes()


def test_the_save_op_names_each_part_by_its_full_variable_and_slice():
    _model()
    saver = tf.train.Saver()
    graph = tf.get_default_graph()
    with tf.Session() as sess:
        names, specs = sess.run([graph.get_tensor_by_name("save/tensor_names:0"),
                                 graph.get_tensor_by_name("save/shape_and_slices:0")])
    assert [n.decode() for n in names] == ["model/bias"] + ["model/emb"] * 3 + ["model/side"] * 2
    assert [s.decode() for s in specs] == ["", "7 4 0,3:0,4", "7 4 3,2:0,4", "7 4 5,2:0,4", "3 5 0,3:0,3",
                                           "3 5 0,3:3,2"]
    assert saver.saver_def.restore_op_name == "save/restore_all"


def test_tensorflows_partitioned_checkpoint_restores_into_the_parts():
    variables = _model(initialized=False)
    with tf.Session() as sess:
        tf.train.Saver().restore(sess, TF_PREFIX)
        emb, side, bias = _values(sess, variables)
        part = sess.run(list(variables[0])[1])
    np.testing.assert_array_equal(emb, EMB)
    np.testing.assert_array_equal(side, SIDE)
    np.testing.assert_array_equal(bias, BIAS)
    np.testing.assert_array_equal(part, EMB[3:5])


@pytest.mark.parametrize("emb_parts,side_parts", [(2, 3), (None, None), (7, 5)])
def test_slices_restore_into_another_partitioning_or_a_whole_variable(emb_parts, side_parts):
    variables = _model(emb_parts, side_parts, initialized=False)
    with tf.Session() as sess:
        tf.train.Saver().restore(sess, TF_PREFIX)
        emb, side, bias = _values(sess, variables)
    np.testing.assert_array_equal(emb, EMB)
    np.testing.assert_array_equal(side, SIDE)
    np.testing.assert_array_equal(bias, BIAS)


def test_a_whole_checkpoint_tensor_restores_into_parts(tmp_path):
    with tf.Graph().as_default():
        _model(None, None)
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            prefix = saver.save(sess, str(tmp_path / "whole"), write_state=False)
    variables = _model(initialized=False)
    with tf.Session() as sess:
        tf.train.Saver().restore(sess, prefix)
        emb, side, _ = _values(sess, variables)
    np.testing.assert_array_equal(emb, EMB)
    np.testing.assert_array_equal(side, SIDE)


def test_list_variables_and_load_variable_see_the_whole_tensors(tmp_path):
    _model()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        prefix = saver.save(sess, str(tmp_path / "model"))
    for ckpt in (prefix, TF_PREFIX):
        assert [[n, s] for n, s in tf.train.list_variables(ckpt)] == RECORDED["list_variables"]
        np.testing.assert_array_equal(tf.train.load_variable(ckpt, "model/emb"), EMB)
        np.testing.assert_array_equal(tf.train.load_variable(ckpt, "model/side"), SIDE)
    np.testing.assert_array_equal(tf.train.load_variable(str(tmp_path), "model/emb"), EMB)


def test_a_sharded_save_keeps_the_slices(tmp_path):
    _model()
    saver = tf.train.Saver(sharded=True)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        prefix = saver.save(sess, str(tmp_path / "model"), write_state=False)
    reader = tensor_bundle.BundleReader(prefix)
    try:
        sliced = reader.get_slices("model/emb")
        assert reader.get_slices("model/bias") is None
    finally:
        reader.close()
    assert sliced.full_shape == [7, 4] and [e for e, _ in sliced.slices] == [[(0, 3), (0, 4)], [(3, 2), (0, 4)],
                                                                            [(5, 2), (0, 4)]]
    np.testing.assert_array_equal(np.concatenate([v for _, v in sliced.slices]), EMB)
    np.testing.assert_array_equal(tf.train.load_variable(prefix, "model/side"), SIDE)


def test_var_lists_may_name_partitioned_variables_and_lists_of_parts(tmp_path):
    emb, side, bias = _model()
    savers = {"list": tf.train.Saver([emb, bias]), "dict": tf.train.Saver({"table": emb, "cols": list(side)})}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        paths = {k: s.save(sess, str(tmp_path / k), write_state=False) for k, s in savers.items()}
    assert tf.train.list_variables(paths["list"]) == [("model/bias", [4]), ("model/emb", [7, 4])]
    assert tf.train.list_variables(paths["dict"]) == [("cols", [3, 5]), ("table", [7, 4])]
    np.testing.assert_array_equal(tf.train.load_variable(paths["dict"], "table"), EMB)
    np.testing.assert_array_equal(tf.train.load_variable(paths["dict"], "cols"), SIDE)


def test_a_part_alone_in_a_dict_is_saved_whole_under_its_name(tmp_path):
    emb, _, _ = _model()
    saver = tf.train.Saver({"first_rows": list(emb)[0]})
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = saver.save(sess, str(tmp_path / "one"), write_state=False)
    assert tf.train.list_variables(path) == [("first_rows", [3, 4])]
    np.testing.assert_array_equal(tf.train.load_variable(path, "first_rows"), EMB[:3])


def test_bad_groups_of_slices_are_refused_when_the_saver_is_built():
    emb, side, bias = _model()
    with pytest.raises(ValueError, match="Slices must all be from the same tensor: model/emb != model/side"):
        tf.train.Saver({"mixed": [list(emb)[0], list(side)[0]]})
    with pytest.raises(ValueError, match="Slices must all be slices"):
        tf.train.Saver({"mixed": [list(emb)[0], bias]})
    with pytest.raises(ValueError, match="Mixing slices and non-slices with the same name: model/emb"):
        tf.train.Saver([tf.Variable(1.0, name="model/emb")] + list(emb))
    with pytest.raises(ValueError, match="At least two variables have the same name: model/emb"):
        tf.train.Saver([emb, emb])


def test_restoring_slices_of_another_shape_is_an_invalid_argument(tmp_path):
    with tf.variable_scope("model"):
        tf.get_variable("emb", [8, 4], partitioner=tf.fixed_size_partitioner(2))
    saver = tf.train.Saver()
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="does not match the shape stored in checkpoint"):
            saver.restore(sess, TF_PREFIX)
        sess.run(tf.global_variables_initializer())  # the session is still usable


def test_save_and_restore_ops_check_their_slice_specs(tmp_path):
    prefix = str(tmp_path / "raw")
    value = np.ones((2, 3), np.float32)
    bad = {"7 4 0,3": "one extent per dimension", "2 3 0,5:0,3": "lies outside its shape",
           "2 3 a,1:0,3": "Expected a shape and slice spec", "2 3 0,1:0,3": "needs a value of shape"}
    with tf.Session() as sess:
        for spec, message in bad.items():
            save = apply_op("SaveV2", [prefix, ["t"], [spec], [value]])
            with pytest.raises(tf.errors.InvalidArgumentError, match=message):
                sess.run(save)
        sess.run(apply_op("SaveV2", [prefix, ["t", "t"], ["4 3 0,2:-", "4 3 2,2:-"], [value, value * 2]]))
        restore = apply_op("RestoreV2", [prefix, ["t", "t"], ["", "4 3 1,2:1,2"]],
                           {"dtypes": [tf.float32, tf.float32]})
        whole, piece = sess.run(restore.outputs)
    np.testing.assert_array_equal(whole, np.concatenate([value, value * 2]))
    np.testing.assert_array_equal(piece, [[1, 1], [2, 2]])


def test_save_slice_info_travels_in_the_variable_def():
    emb, _, bias = _model()
    part = list(emb)[2]
    assert tf.Variable.SaveSliceInfo is type(part._save_slice_info) and bias._save_slice_info is None
    proto = part.to_proto()
    info = proto.save_slice_info_def
    assert (info.full_name, list(info.full_shape), list(info.var_offset), list(info.var_shape)) == \
        ("model/emb", [7, 4], [5, 0], [2, 4])
    assert not bias.to_proto().HasField("save_slice_info_def")
    scoped = part.to_proto(export_scope="model")
    assert scoped.save_slice_info_def.full_name == "emb"
    imported = tf.Variable.SaveSliceInfo(save_slice_info_def=scoped.save_slice_info_def, import_scope="copy")
    assert imported.full_name == "copy/emb" and imported.spec == "7 4 5,2:0,4"
    again = tf.Variable.from_proto(proto)
    assert again._save_slice_info.full_name == "model/emb" and again._save_slice_info.spec == "7 4 5,2:0,4"
    assert tf.Variable.from_proto(bias.to_proto())._save_slice_info is None
    fresh = tf.Variable(np.zeros(3, np.float32))
    fresh._set_save_slice_info(tf.Variable.SaveSliceInfo("whole", [6], [3], [3]))
    assert fresh._get_save_slice_info().spec == "6 3,3"


def test_tensorflows_meta_graph_imports_parts_with_their_slices_and_restores():
    saver = tf.train.import_meta_graph(TF_PREFIX + ".meta")
    infos = {v.op.name: v._save_slice_info for v in tf.global_variables()}
    assert infos["model/bias"] is None
    assert {n: i.spec for n, i in infos.items() if i is not None} == {
        "model/emb/part_0": "7 4 0,3:0,4", "model/emb/part_1": "7 4 3,2:0,4", "model/emb/part_2": "7 4 5,2:0,4",
        "model/side/part_0": "3 5 0,3:0,3", "model/side/part_1": "3 5 0,3:3,2"}
    with tf.Session() as sess:
        saver.restore(sess, TF_PREFIX)
        np.testing.assert_array_equal(sess.run("model/side/part_1:0"), SIDE[:, 3:])
        tf.train.Saver().restore(sess, TF_PREFIX)
        np.testing.assert_array_equal(sess.run("model/emb/part_2:0"), EMB[5:])


def test_a_meta_graph_round_trip_keeps_the_slices(tmp_path):
    _model()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        prefix = saver.save(sess, str(tmp_path / "model"))
    with tf.Graph().as_default():
        restorer = tf.train.import_meta_graph(prefix + ".meta")
        assert sorted(v._save_slice_info.full_name for v in tf.global_variables() if v._save_slice_info) == \
            ["model/emb"] * 3 + ["model/side"] * 2
        with tf.Session() as sess:
            restorer.restore(sess, prefix)
            np.testing.assert_array_equal(sess.run("model/emb/part_0:0"), EMB[:3])


def _adam_model():
    """gen_partitioned.py's adam_model: a 3-part embedding trained by Adam, whose slots are partitioned like it."""
    with tf.variable_scope("model"):
        emb = tf.get_variable("emb", [7, 4], initializer=EMB, partitioner=tf.fixed_size_partitioner(3))
    ids = np.array([[0, 6, 3], [5, 5, 2]], np.int64)
    loss = tf.reduce_sum(tf.square(tf.nn.embedding_lookup(emb, ids, partition_strategy="mod") - 1.0))
    return emb, tf.train.AdamOptimizer(0.05).minimize(loss)


def test_adam_slots_of_parts_are_saved_as_slices_of_the_slot_of_the_whole(tmp_path):
    """TF saves the slots of a partitioned variable as `emb/Adam` in slices: its Adam checkpoint restores here and
    the next step gives TF's numbers, and tfmini writes the same names."""
    recorded = json.loads((FIXTURES / "ckpt_adam.json").read_text(encoding="utf-8"))
    emb, train = _adam_model()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        saver.restore(sess, str(FIXTURES / "ckpt_adam" / "model"))
        sess.run(train)
        np.testing.assert_allclose(sess.run(tf.concat(list(emb), 0)), recorded["emb_after_next_step"],
                                   rtol=1e-6, atol=1e-7)
        prefix = saver.save(sess, str(tmp_path / "model"), write_state=False)
    assert [[name, list(shape)] for name, shape in tf.train.list_variables(prefix)] == recorded["list_variables"]


@pytest.mark.parametrize("use_resource", [False, True])
def test_variable_defs_carry_the_slice_of_each_part(use_resource):
    """A meta graph of partitioned variables keeps each part's save_slice_info_def, ref and resource alike."""
    with tf.variable_scope("model", use_resource=use_resource):
        emb = tf.get_variable("emb", [7, 4], initializer=EMB, partitioner=tf.fixed_size_partitioner(3))
    protos = [part.to_proto() for part in emb]
    assert [p.save_slice_info_def.full_name for p in protos] == ["model/emb"] * 3
    assert [list(p.save_slice_info_def.var_offset) for p in protos] == [[0, 0], [3, 0], [5, 0]]
    meta = tf.train.export_meta_graph()
    with tf.Graph().as_default():
        tf.train.import_meta_graph(meta)
        restored = tf.global_variables()
        infos = [v._save_slice_info for v in restored]
        assert [(i.full_name, i.var_offset, i.var_shape) for i in infos] == [
            ("model/emb", [0, 0], [3, 4]), ("model/emb", [3, 0], [2, 4]), ("model/emb", [5, 0], [2, 4])]
