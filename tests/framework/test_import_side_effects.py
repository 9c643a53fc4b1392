"""Ops that touch the file system are opt-in for imported graphs: `tf.import_graph_def` refuses to run them
unless `allow_file_access=True`, while graphs the user builds keep their side effects."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import tfmini as tf
from tfmini.framework import registry

# Every op type that may touch the file system or the network, and when: docs/reliability.md lists exactly
# these; the test below fails when the op library and this list disagree.
DOCUMENTED_FILE_ACCESS_OPS = {
    "PrintV2": "output_stream starts with file:// (appends the printed text to that file)",
    "SaveV2": "always (writes the checkpoint named by its prefix input)",
    "RestoreV2": "always (reads the checkpoint named by its prefix input)",
    "MergeV2Checkpoints": "always (merges the checkpoint shards named by its inputs into its destination)",
    "ReadFile": "always (reads the file named by its filename input)",
    "WriteFile": "always (writes the file named by its filename input, creating missing directories)",
    "MatchingFiles": "always (lists the directories its pattern input names)",
    "ReaderReadV2": "its reader reads files (every reader but IdentityReader): opens the dequeued file names",
    "ReaderReadUpToV2": "as ReaderReadV2",
    "TFRecordDataset": "when iterated (reads the files named by its filenames input)",
    "TextLineDataset": "when iterated (reads the files named by its filenames input)",
    "FixedLengthRecordDatasetV2": "when iterated (reads the files named by its filenames input)",
    "CSVDataset": "when iterated (reads the files named by its filenames input)",
    "CacheDataset": "its filename input is not empty (writes, then reads, the cache files)",
    "DatasetToTFRecord": "always (writes the TFRecord file named by its filename input)",
    "FixedUnigramCandidateSampler": "its vocab_file attr is not empty (reads the unigram counts from that file)",
    "InitializeTableFromTextFileV2": "always (reads the vocabulary file named by its filename input)",
}
# The modules below the client whose code touches the file system, and the ops through which it does: a
# module that starts touching files must declare its ops' file_access and be added here. Modules listed with
# no ops are file-format libraries called by those ops, or Python APIs a user calls directly (writers,
# exporters, loaders), which no imported GraphDef can reach.
FILE_TOUCHING_MODULES = {
    "tfmini/ops/control_flow_ops.py": {"PrintV2"},
    "tfmini/ops/io_ops.py": {"ReadFile", "WriteFile", "MatchingFiles"},
    "tfmini/ops/reader_ops.py": {"ReaderReadV2", "ReaderReadUpToV2"},
    "tfmini/ops/dataset_readers.py": {"TFRecordDataset", "TextLineDataset", "FixedLengthRecordDatasetV2",
                                      "CSVDataset"},
    "tfmini/ops/dataset_cache.py": {"CacheDataset"},
    "tfmini/ops/dataset_experimental_ops.py": {"DatasetToTFRecord"},
    "tfmini/ops/candidate_sampling_ops.py": {"FixedUnigramCandidateSampler"},
    "tfmini/ops/lookup_ops.py": {"InitializeTableFromTextFileV2"},
    "tfmini/train/saver.py": {"SaveV2", "RestoreV2", "MergeV2Checkpoints"},
    "tfmini/train/checkpoint.py": set(),  # the checkpoint reader and writer, called by the ops above
    "tfmini/train/tensor_bundle.py": set(),  # the V2 bundle reader and writer, called by checkpoint.py
    "tfmini/framework/record_io.py": set(),  # TFRecord framing, called by the readers and datasets
    "tfmini/framework/summary_io.py": set(),  # tf.summary.FileWriter and summary_iterator (Python API)
    "tfmini/framework/graph_util.py": set(),  # tf.train.write_graph (Python API)
    "tfmini/train/profiler.py": set(),  # tf.profiler's write_op_log and file outputs (Python API)
    "tfmini/train/tracking.py": set(),  # tf.train.CheckpointManager's directory (Python API; files via Saver)
    "tfmini/train/meta_graph.py": set(),  # export_meta_graph / import_meta_graph files (Python API)
    "tfmini/train/saved_model/builder.py": set(),  # SavedModelBuilder.save (Python API)
    "tfmini/train/saved_model/loader.py": set(),  # tf.saved_model.loader.load (Python API)
    "tfmini/distributed/server.py": set(),  # tf.train.Server listens on its task's address (Python API)
    "tfmini/data/experimental.py": set(),  # make_csv_dataset reads the header when building (Python API)
    "tfmini/train/session_manager.py": set(),  # waits for and restores checkpoints (Python API)
    "tfmini/train/basic_session_run_hooks.py": set(),  # ProfilerHook's timelines (Python API)
    "tfmini/framework/file_io.py": set(),  # tf.gfile / tf.io.gfile (Python API)
}
# Direct file calls, and the project's own file-opening helpers (record_io's writer, the readers' stream opener).
# Builtin open() and the standard library's openers count; methods merely named open (Pillow's
# `Image.open(io.BytesIO(data))` on bytes already in memory) do not.
_FILE_CALLS = re.compile(r"(?<![.\w])open\(|\b(io|gzip|bz2|lzma|tarfile|zipfile|codecs)\.open\(|"
                         r"\bos\.(remove|replace|rename|unlink|mkdir|makedirs|fdopen|open|scandir|listdir)\b|"
                         r"\bshutil\.|\bPath\(|\b_ckpt\.|\bsocket\.|\burllib\b|\bsubprocess\b|"
                         r"\bTFRecordWriter\(|\bopen_stream\(|\bGFile\(|\bFastGFile\(")


def _print_to_file_graph_def(path: str):
    """A GraphDef whose PrintV2 node appends text to `path`, built as a user would with tf.print."""
    with tf.Graph().as_default() as g:
        tf.print("attacker text", output_stream=f"file://{path}", name="evil")
    return g.as_graph_def()


def _print_ops(graph: tf.Graph) -> list:
    return [op for op in graph.get_operations() if op.type == "PrintV2"]


def test_imported_file_print_is_refused_by_default_naming_op_path_and_opt_in(tmp_path):
    target = tmp_path / "site.pth"
    gd = _print_to_file_graph_def(str(target))
    with tf.Graph().as_default() as g:
        tf.import_graph_def(gd, name="imp")
        (op,) = _print_ops(g)
        with tf.Session() as sess:
            with pytest.raises(tf.errors.PermissionDeniedError) as info:
                sess.run(op)
    message = str(info.value)
    assert op.name in message
    assert str(target) in message
    assert "allow_file_access=True" in message
    assert "import_graph_def" in message
    assert not target.exists()


def test_refusal_leaves_the_session_usable(tmp_path):
    gd = _print_to_file_graph_def(str(tmp_path / "out.txt"))
    with tf.Graph().as_default() as g:
        tf.import_graph_def(gd, name="")
        (op,) = _print_ops(g)
        x = tf.constant(3.0) * 2.0
        with tf.Session() as sess:
            for _ in range(2):
                with pytest.raises(tf.errors.PermissionDeniedError):
                    sess.run(op)
                assert sess.run(x) == 6.0


def test_import_itself_touches_no_file(tmp_path):
    target = tmp_path / "never.txt"
    with tf.Graph().as_default():
        tf.import_graph_def(_print_to_file_graph_def(str(target)), allow_file_access=True)
    assert not target.exists()


def test_opt_in_lets_an_imported_graph_write_its_file(tmp_path):
    target = tmp_path / "log.txt"
    gd = _print_to_file_graph_def(str(target))
    with tf.Graph().as_default() as g:
        tf.import_graph_def(gd, allow_file_access=True)
        (op,) = _print_ops(g)
        with tf.Session() as sess:
            sess.run(op)
    assert target.read_text() == "attacker text\n"


def test_imported_print_to_stderr_needs_no_opt_in(capsys):
    with tf.Graph().as_default() as src:
        tf.print("hello", name="p")
    with tf.Graph().as_default() as g:
        tf.import_graph_def(src.as_graph_def())
        (op,) = _print_ops(g)
        with tf.Session() as sess:
            sess.run(op)
    assert "hello" in capsys.readouterr().err


def test_user_built_file_print_keeps_working(tmp_path):
    target = tmp_path / "mine.txt"
    with tf.Graph().as_default():
        op = tf.print("mine", output_stream=f"file://{target}")
        with tf.Session() as sess:
            sess.run(op)
    assert target.read_text() == "mine\n"


def test_user_ops_beside_an_imported_graph_keep_their_side_effects(tmp_path):
    theirs, mine = tmp_path / "theirs.txt", tmp_path / "mine.txt"
    with tf.Graph().as_default():
        tf.import_graph_def(_print_to_file_graph_def(str(theirs)))
        op = tf.print("mine", output_stream=f"file://{mine}")
        with tf.Session() as sess:
            sess.run(op)
    assert mine.read_text() == "mine\n"
    assert not theirs.exists()


def test_file_print_inside_an_imported_loop_body_is_refused(tmp_path):
    target = tmp_path / "loop.txt"
    with tf.Graph().as_default() as src:
        def body(i):
            with tf.control_dependencies([tf.print("step", i, output_stream=f"file://{target}")]):
                return i + 1

        tf.while_loop(lambda i: i < 3, body, [tf.constant(0)], name="loop")
    gd = src.as_graph_def()
    with tf.Graph().as_default() as g:
        tf.import_graph_def(gd, name="imp")
        out = g.get_tensor_by_name("imp/loop:0")
        with tf.Session() as sess:
            with pytest.raises(tf.errors.PermissionDeniedError) as info:
                sess.run(out)
            assert str(target) in str(info.value)
    assert not target.exists()
    with tf.Graph().as_default() as g:
        tf.import_graph_def(gd, name="imp", allow_file_access=True)
        with tf.Session() as sess:
            assert sess.run(g.get_tensor_by_name("imp/loop:0")) == 3
    assert target.read_text() == "step 0\nstep 1\nstep 2\n"


def test_reimporting_an_exported_import_still_refuses(tmp_path):
    target = tmp_path / "again.txt"
    with tf.Graph().as_default() as first:
        tf.import_graph_def(_print_to_file_graph_def(str(target)), allow_file_access=True)
    with tf.Graph().as_default() as g:
        tf.import_graph_def(first.as_graph_def())
        (op,) = _print_ops(g)
        with tf.Session() as sess, pytest.raises(tf.errors.PermissionDeniedError):
            sess.run(op)
    assert not target.exists()


def _ops_in_the_docs_table() -> set[str]:
    """The op names in the first column of docs/reliability.md's table of ops that touch files."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "reliability.md").read_text(encoding="utf-8")
    table = text.split("The ops that touch the file system or the network", 1)[1].split("\n\n")[1]
    return set(re.findall(r"^\| `(\w+)` \|", table, flags=re.M))


def test_every_op_that_touches_files_is_documented():
    declared = {name for name, opdef in registry._REGISTRY.items() if opdef.file_access is not None}
    assert declared == set(DOCUMENTED_FILE_ACCESS_OPS)
    assert _ops_in_the_docs_table() == declared


def test_only_the_known_modules_touch_files_and_their_ops_declare_it():
    root = Path(__file__).resolve().parents[2]
    touching = set()
    for path in sorted((root / "tfmini").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(("tfmini/client/", "tfmini/protobuf/")):
            continue  # above the op library (sessions, traces) or generated
        code = "\n".join(line.split("#", 1)[0] for line in path.read_text(encoding="utf-8").splitlines())
        if _FILE_CALLS.search(code):
            touching.add(rel)
    assert touching == set(FILE_TOUCHING_MODULES)
    declared = {name for name, opdef in registry._REGISTRY.items() if opdef.file_access is not None}
    assert set().union(*FILE_TOUCHING_MODULES.values()) == declared


def _saver_graph_def():
    with tf.Graph().as_default() as g:
        tf.Variable([1.0, 2.0], name="v")
        tf.train.Saver()
    return g.as_graph_def()


def test_an_imported_saver_graph_may_neither_write_nor_read_checkpoints(tmp_path):
    prefix = str(tmp_path / "ckpt")
    with tf.Graph().as_default() as g:
        tf.import_graph_def(_saver_graph_def(), name="")
        with tf.Session() as sess:
            sess.run(g.get_operation_by_name("v/Assign"))
            with pytest.raises(tf.errors.PermissionDeniedError, match="SaveV2 op 'save/SaveV2' would access the "
                                                                      "checkpoint files named by its 'prefix'"):
                sess.run("save/control_dependency:0", {"save/Const:0": prefix})
            assert list(tmp_path.iterdir()) == []
            with pytest.raises(tf.errors.PermissionDeniedError, match="RestoreV2 op 'save/RestoreV2'.*allow_file"):
                sess.run("save/restore_all", {"save/Const:0": prefix})
            assert sess.run("v:0").tolist() == [1.0, 2.0]


def test_an_imported_saver_graph_saves_and_restores_when_allowed(tmp_path):
    prefix = str(tmp_path / "ckpt")
    with tf.Graph().as_default() as g:
        tf.import_graph_def(_saver_graph_def(), name="", allow_file_access=True)
        with tf.Session() as sess:
            sess.run(g.get_operation_by_name("v/Assign"))
            sess.run("save/control_dependency:0", {"save/Const:0": prefix})
            sess.run(tf.assign(g.get_tensor_by_name("v:0"), [5.0, 6.0]))
            sess.run("save/restore_all", {"save/Const:0": prefix})
            assert sess.run("v:0").tolist() == [1.0, 2.0]


def test_print_to_a_file_in_a_missing_directory_is_not_found_and_session_stays_usable(tmp_path):
    target = tmp_path / "no" / "such" / "dir.txt"
    with tf.Graph().as_default():
        op = tf.print("x", output_stream=f"file://{target}")
        with tf.Session() as sess:
            with pytest.raises(tf.errors.NotFoundError) as info:
                sess.run(op)
            assert str(target) in str(info.value)
            assert sess.run(tf.constant(1.0) + 1.0) == 2.0


def _file_dataset_graph_def(kind: str, path: str):
    """A GraphDef iterating a tf.data file dataset of `kind` over `path`, built as a user would."""
    with tf.Graph().as_default() as g:
        if kind == "tfrecord":
            dataset = tf.data.TFRecordDataset([path])
        elif kind == "text":
            dataset = tf.data.TextLineDataset([path])
        elif kind == "fixed":
            dataset = tf.data.FixedLengthRecordDataset([path], record_bytes=2)
        else:
            dataset = tf.data.Dataset.range(3).cache(path)
        dataset.make_one_shot_iterator().get_next(name="next")
    return g.as_graph_def()


@pytest.mark.parametrize("kind", ["tfrecord", "text", "fixed", "cache"])
def test_an_imported_file_dataset_may_not_read_or_write_files_unless_allowed(tmp_path, kind):
    path = tmp_path / "data"
    if kind == "tfrecord":
        with tf.python_io.TFRecordWriter(str(path)) as writer:
            writer.write(b"ab")
    elif kind == "text":
        path.write_bytes(b"ab\n")
    elif kind == "fixed":
        path.write_bytes(b"abcd")
    gd = _file_dataset_graph_def(kind, str(path))
    with tf.Graph().as_default():
        tf.import_graph_def(gd, name="")
        with tf.Session() as sess:
            with pytest.raises(tf.errors.PermissionDeniedError, match="allow_file_access=True"):
                sess.run("next:0")
            assert sess.run(tf.constant(2.0) * 3.0) == 6.0
    assert sorted(p.name for p in tmp_path.iterdir()) == (["data"] if kind != "cache" else [])
    with tf.Graph().as_default():
        tf.import_graph_def(gd, name="", allow_file_access=True)
        with tf.Session() as sess:
            assert sess.run("next:0") == (0 if kind == "cache" else b"ab")
