"""tf.saved_model (TF1): SavedModelBuilder and simple_save write TensorFlow's layout, loader.load restores
graph, variables, collections and assets and runs the main op; signature_def_utils, utils and the constants;
and a SavedModel written by TensorFlow (tools/tf_fixtures/gen_meta_graphs.py) loads and runs here."""

import os
from pathlib import Path

import numpy as np
import pytest
from google.protobuf import text_format

import tfmini as tf
from tfmini.framework.registry import apply_op
from tfmini.protobuf import saved_model_pb2, types_pb2

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "meta_graphs"
_X = np.array([[1.0, 2.0], [-1.0, 0.5]], np.float32)


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield


def _model():
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    w = tf.Variable([[1.0], [2.0]], name="w")
    b = tf.Variable([0.5], name="b")
    y = tf.add(tf.matmul(x, w), b, name="y")
    return x, w, b, y


def _expected(w=((1.0,), (2.0,)), b=(0.5,)):
    return _X @ np.array(w, np.float32) + np.array(b, np.float32)


def test_simple_save_layout_and_load(tmp_path):
    export_dir = str(tmp_path / "model")
    x, w, b, y = _model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(w.assign([[3.0], [-1.0]]))
        tf.saved_model.simple_save(sess, export_dir, inputs={"x": x}, outputs={"y": y})
    assert sorted(os.listdir(export_dir)) == ["saved_model.pb", "variables"]
    assert sorted(os.listdir(os.path.join(export_dir, "variables"))) == [
        "variables.data-00000-of-00001", "variables.index"]
    sm = saved_model_pb2.SavedModel()
    sm.ParseFromString(Path(export_dir, "saved_model.pb").read_bytes())
    assert sm.saved_model_schema_version == 1 and len(sm.meta_graphs) == 1
    [mg] = sm.meta_graphs
    assert list(mg.meta_info_def.tags) == ["serve"]
    sig = mg.signature_def["serving_default"]
    assert sig.method_name == "tensorflow/serving/predict"
    assert sig.inputs["x"].name == "x:0" and sig.outputs["y"].name == "y:0"
    assert sig.inputs["x"].dtype == types_pb2.DT_FLOAT
    assert [d.size for d in sig.inputs["x"].tensor_shape.dim] == [-1, 2]
    assert not any(nd.device for nd in mg.graph_def.node)  # simple_save clears devices

    with tf.Graph().as_default(), tf.Session() as sess:
        loaded = tf.saved_model.loader.load(sess, [tf.saved_model.tag_constants.SERVING], export_dir)
        sig = loaded.signature_def[tf.saved_model.signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY]
        x_t = tf.saved_model.utils.get_tensor_from_tensor_info(sig.inputs["x"])
        y_t = tf.saved_model.utils.get_tensor_from_tensor_info(sig.outputs["y"])
        np.testing.assert_allclose(sess.run(y_t, {x_t: _X}), _expected(w=[[3.0], [-1.0]]))
        assert [v.name for v in tf.global_variables()] == ["w:0", "b:0"]


def test_builder_with_several_tag_sets_main_op_and_text(tmp_path):
    export_dir = str(tmp_path / "m")
    x, w, b, y = _model()
    counter = tf.Variable(0, name="counter", trainable=False, collections=[tf.GraphKeys.LOCAL_VARIABLES])
    bump = tf.group(counter.initializer, name="bump")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        builder = tf.saved_model.builder.SavedModelBuilder(export_dir)
        builder.add_meta_graph_and_variables(
            sess, ["train"], signature_def_map={
                "predict": tf.saved_model.signature_def_utils.predict_signature_def({"x": x}, {"y": y})},
            main_op=bump)
        with pytest.raises(AssertionError, match="already been saved"):
            builder.add_meta_graph_and_variables(sess, ["x"])
        builder.add_meta_graph(["serve", "gpu"], strip_default_attrs=True)
        path = builder.save(as_text=True)
    assert path == os.path.join(export_dir, "saved_model.pbtxt").encode()
    sm = text_format.Parse(Path(export_dir, "saved_model.pbtxt").read_text(), saved_model_pb2.SavedModel())
    assert [list(mg.meta_info_def.tags) for mg in sm.meta_graphs] == [["train"], ["serve", "gpu"]]
    assert sm.meta_graphs[1].meta_info_def.stripped_default_attrs

    with tf.Graph().as_default(), tf.Session() as sess:
        mg = tf.saved_model.loader.load(sess, ["train"], export_dir)
        assert list(mg.collection_def["saved_model_main_op"].node_list.value) == ["bump"]
        # the main op ran: the local variable is initialized
        assert sess.run("counter:0") == 0
        np.testing.assert_allclose(sess.run("y:0", {"x:0": _X}), _expected())
    with tf.Graph().as_default(), tf.Session() as sess:
        tf.saved_model.loader.load(sess, ["gpu", "serve"], export_dir, import_scope="imported")
        np.testing.assert_allclose(sess.run("imported/y:0", {"imported/x:0": _X}), _expected())
    with tf.Graph().as_default(), tf.Session() as sess:
        with pytest.raises(RuntimeError, match="could not be found"):
            tf.saved_model.loader.load(sess, ["serve"], export_dir)


def test_assets_are_copied_and_fed_to_the_main_op(tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("a\nb\n")
    asset = tf.constant(str(vocab), name="vocab_path")
    tf.add_to_collection(tf.GraphKeys.ASSET_FILEPATHS, asset)
    path_var = tf.Variable("", name="path_seen", collections=[tf.GraphKeys.LOCAL_VARIABLES])
    record = tf.group(tf.assign(path_var, asset), name="record_asset")
    tf.Variable(1.0, name="v")
    export_dir = str(tmp_path / "export")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(path_var.initializer)
        builder = tf.saved_model.Builder(export_dir)
        builder.add_meta_graph_and_variables(sess, ["serve"], assets_collection=[asset], main_op=record)
        builder.save()
    copied = Path(export_dir, "assets", "vocab.txt")
    assert copied.read_text() == "a\nb\n"
    with tf.Graph().as_default(), tf.Session() as sess:
        mg = tf.saved_model.loader.load(sess, ["serve"], export_dir)
        assert [a.filename for a in mg.asset_file_def] == ["vocab.txt"]
        assert mg.asset_file_def[0].tensor_info.name == "vocab_path:0"
        assert sess.run("path_seen:0").decode() == str(copied)


def test_builder_refuses_a_non_empty_directory_and_load_a_missing_model(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    with pytest.raises(AssertionError, match="isn't empty"):
        tf.saved_model.builder.SavedModelBuilder(str(tmp_path / "full"))
    builder = tf.saved_model.builder.SavedModelBuilder(str(tmp_path / "new" / "dir"))
    with pytest.raises(AssertionError, match="has not been saved yet"):
        builder.add_meta_graph(["serve"])
    assert not tf.saved_model.loader.maybe_saved_model_directory(str(tmp_path / "full"))
    with tf.Session() as sess, pytest.raises(OSError, match="SavedModel file does not exist"):
        tf.saved_model.loader.load(sess, ["serve"], str(tmp_path / "full"))


def test_signature_def_utils():
    sdu = tf.saved_model.signature_def_utils
    examples = tf.placeholder(tf.string, [None], name="examples")
    scores = tf.placeholder(tf.float32, [None, 3], name="scores")
    classes = tf.placeholder(tf.string, [None, 3], name="classes")
    ints = tf.placeholder(tf.int32, [None], name="ints")

    cls = sdu.classification_signature_def(examples, classes, scores)
    assert cls.method_name == "tensorflow/serving/classify"
    assert set(cls.outputs) == {"classes", "scores"} and cls.inputs["inputs"].name == "examples:0"
    assert sdu.is_valid_signature(cls)
    reg = sdu.regression_signature_def(examples, scores)
    assert reg.method_name == "tensorflow/serving/regress" and sdu.is_valid_signature(reg)
    pred = sdu.predict_signature_def({"a": ints}, {"b": scores})
    assert sdu.is_valid_signature(pred) and not sdu.is_valid_signature(None)
    built = sdu.build_signature_def({"in": tf.saved_model.utils.build_tensor_info(ints)}, {}, "custom")
    assert built.method_name == "custom" and not sdu.is_valid_signature(built)
    wrong = sdu.build_signature_def(dict(cls.inputs), {"scores": tf.saved_model.build_tensor_info(ints)},
                                    tf.saved_model.CLASSIFY_METHOD_NAME)
    assert not sdu.is_valid_signature(wrong)

    with pytest.raises(ValueError, match="Prediction inputs cannot be None or empty"):
        sdu.predict_signature_def({}, {"b": scores})
    with pytest.raises(ValueError, match="Prediction outputs cannot be None or empty"):
        sdu.predict_signature_def({"a": ints}, None)
    with pytest.raises(ValueError, match="Regression examples must be a string Tensor"):
        sdu.regression_signature_def(ints, scores)
    with pytest.raises(ValueError, match="Regression output must be a float Tensor"):
        sdu.regression_signature_def(examples, ints)
    with pytest.raises(ValueError, match="cannot both be None"):
        sdu.classification_signature_def(examples, None, None)
    with pytest.raises(ValueError, match="Classification classes must be a string Tensor"):
        sdu.classification_signature_def(examples, ints, None)
    with pytest.raises(ValueError, match="Classification scores must be a float Tensor"):
        sdu.classification_signature_def(examples, None, ints)


def test_tensor_info_of_a_sparse_tensor_round_trips():
    sp = tf.sparse_placeholder(tf.float32, [None, 4], name="sp")
    info = tf.saved_model.utils.build_tensor_info(sp)
    assert info.WhichOneof("encoding") == "coo_sparse"
    assert info.coo_sparse.values_tensor_name == sp.values.name
    back = tf.saved_model.utils.get_tensor_from_tensor_info(info)
    assert isinstance(back, tf.SparseTensor)
    assert (back.indices, back.values, back.dense_shape) == (sp.indices, sp.values, sp.dense_shape)
    with pytest.raises(KeyError):
        tf.saved_model.utils.get_tensor_from_tensor_info(tf.TensorInfo(name="nothing:0"))


def test_constants_are_tensorflows():
    assert tf.saved_model.tag_constants.SERVING == "serve" and tf.saved_model.TRAINING == "train"
    assert tf.saved_model.constants.SAVED_MODEL_FILENAME_PB == "saved_model.pb"
    assert tf.saved_model.constants.VARIABLES_DIRECTORY == "variables"
    assert tf.saved_model.constants.MAIN_OP_KEY == "saved_model_main_op"
    assert tf.saved_model.signature_constants.PREDICT_METHOD_NAME == "tensorflow/serving/predict"
    assert tf.saved_model.load is tf.saved_model.loader.load


def test_a_saved_model_written_by_tensorflow_loads_and_runs():
    expected = np.load(FIXTURES / "expected.npz")
    with tf.Session() as sess:
        mg = tf.saved_model.loader.load(sess, ["serve"], str(FIXTURES / "saved_model"))
        sig = mg.signature_def["serving_default"]
        assert tf.saved_model.signature_def_utils.is_valid_signature(sig)
        x = tf.saved_model.utils.get_tensor_from_tensor_info(sig.inputs["x"])
        probs = tf.saved_model.utils.get_tensor_from_tensor_info(sig.outputs["probs"])
        np.testing.assert_allclose(sess.run(probs, {x: expected["x"]}), expected["probs_saved"], rtol=1e-6)
        np.testing.assert_array_equal(sess.run("w:0"), expected["w_saved"])
        # its sharded Saver (ShardedFilename, MergeV2Checkpoints) saves here too
        ops = {op.type for op in sess.graph.get_operations()}
        assert {"ShardedFilename", "MergeV2Checkpoints"} <= ops


def test_sharded_filename_and_merge_v2_checkpoints(tmp_path):
    shards = tmp_path / "ckpt_temp"
    shards.mkdir()
    names = [apply_op("ShardedFilename", [str(shards / "part"), i, 2]).outputs[0] for i in range(2)]
    saves = [apply_op("SaveV2", [n, [k], [""], [tf.constant(v)]])
             for n, k, v in zip(names, ["a", "b"], [np.arange(3.0), np.array([7], np.int64)])]
    with tf.control_dependencies(saves):
        merge = apply_op("MergeV2Checkpoints", [tf.stack(names), str(tmp_path / "ckpt")])
    with tf.Session() as sess:
        assert sess.run(names[1]) == str(shards / "part-00001-of-00002").encode()
        sess.run(merge)
    # one data file per shard, renamed under the merged prefix as TF does; the temporary shards and dir are gone
    assert sorted(os.listdir(tmp_path)) == ["ckpt.data-00000-of-00002", "ckpt.data-00001-of-00002", "ckpt.index"]
    reader = tf.train.load_checkpoint(str(tmp_path / "ckpt"))
    np.testing.assert_array_equal(reader.get_tensor("a"), np.arange(3.0))
    np.testing.assert_array_equal(reader.get_tensor("b"), [7])
    with tf.Session() as sess, pytest.raises(tf.errors.NotFoundError):
        sess.run(apply_op("MergeV2Checkpoints", [[str(tmp_path / "missing")], str(tmp_path / "out")]))
