"""ReadFile and WriteFile (whole files as strings), MatchingFiles (glob patterns), TF's errors, and refusal in
graphs imported without allow_file_access."""

from __future__ import annotations

import pytest

import tfmini as tf
from tfmini.framework import errors
from tfmini.ops import io_ops


def test_write_then_read_round_trips_bytes_and_creates_directories(tmp_path):
    path = str(tmp_path / "a" / "b" / "blob.bin")
    data = bytes(range(256)) * 3
    with tf.Session() as sess:
        assert sess.run(tf.io.write_file(path, data)) is None
        assert sess.run(tf.io.read_file(path)) == data
    assert (tmp_path / "a" / "b" / "blob.bin").read_bytes() == data


def test_read_file_sees_the_file_as_it_is_at_each_run(tmp_path):
    path = tmp_path / "f.txt"
    path.write_bytes(b"first")
    contents = tf.read_file(str(path))
    with tf.Session() as sess:
        assert sess.run(contents) == b"first"
        path.write_bytes(b"second")
        assert sess.run(contents) == b"second"


def test_read_file_with_fed_name(tmp_path):
    for i in range(3):
        (tmp_path / f"{i}.txt").write_text(str(i) * (i + 1))
    name = tf.placeholder(tf.string, [])
    contents = tf.io.read_file(name)
    with tf.Session() as sess:
        got = [sess.run(contents, {name: str(tmp_path / f"{i}.txt")}) for i in range(3)]
    assert got == [b"0", b"11", b"222"]


def test_missing_file_and_directory_fail_as_tensorflow_does(tmp_path):
    with tf.Session() as sess:
        with pytest.raises(errors.NotFoundError, match="nope.txt; No such file or directory"):
            sess.run(tf.io.read_file(str(tmp_path / "nope.txt")))
        with pytest.raises(errors.FailedPreconditionError, match="Is a directory"):
            sess.run(tf.io.read_file(str(tmp_path)))
        with pytest.raises(errors.InvalidArgumentError, match="must be scalar"):
            sess.run(tf.io.read_file([str(tmp_path)]))
        (tmp_path / "ok.txt").write_bytes(b"ok")
        assert sess.run(tf.io.read_file(str(tmp_path / "ok.txt"))) == b"ok"


def test_imported_graph_may_not_touch_files_unless_allowed(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_bytes(b"s3cret")
    with tf.Graph().as_default() as g:
        tf.io.read_file(str(path), name="read")
        tf.io.write_file(str(tmp_path / "out.txt"), "x", name="write")
    graph_def = g.as_graph_def()
    with tf.Graph().as_default() as imported:
        tf.import_graph_def(graph_def, name="")
        with tf.Session() as sess:
            with pytest.raises(errors.PermissionDeniedError):
                sess.run(imported.get_tensor_by_name("read:0"))
            with pytest.raises(errors.PermissionDeniedError):
                sess.run(imported.get_operation_by_name("write"))
    assert not (tmp_path / "out.txt").exists()
    with tf.Graph().as_default() as trusted:
        tf.import_graph_def(graph_def, name="", allow_file_access=True)
        with tf.Session() as sess:
            assert sess.run(trusted.get_tensor_by_name("read:0")) == b"s3cret"


def test_read_file_result_is_a_scalar_string():
    t = tf.io.read_file("x")
    assert t.dtype == tf.string and t.shape.as_list() == []


def test_public_names():
    assert tf.io.matching_files is tf.matching_files is io_ops.matching_files
    assert tf.io.read_file is tf.read_file is io_ops.read_file
    assert tf.io.write_file is tf.write_file is io_ops.write_file


def _tree(root) -> None:
    for name in ("b.txt", "a.txt", "c.csv", "sub/x.txt", ".hidden.txt"):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)


def test_matching_files_lists_sorted_matches_as_tensorflow_does(tmp_path):
    _tree(tmp_path)
    d = str(tmp_path)
    # the answers TF 2.21's MatchingFiles gave on the same tree (it matches names starting with a dot too)
    cases = {
        f"{d}/*.txt": [".hidden.txt", "a.txt", "b.txt"],
        f"{d}/nope/*.txt": [],
        f"{d}/*": [".hidden.txt", "a.txt", "b.txt", "c.csv", "sub"],
        f"{d}/[ab].txt": ["a.txt", "b.txt"],
        f"{d}/?.txt": ["a.txt", "b.txt"],
        f"{d}/*/*.txt": ["sub/x.txt"],
        f"{d}/a.txt": ["a.txt"],
    }
    with tf.Session() as sess:
        for pattern, want in cases.items():
            got = sess.run(tf.io.matching_files(pattern))
            assert got.tolist() == [f"{d}/{w}".encode() for w in want], pattern
        both = sess.run(tf.matching_files([f"{d}/*.csv", f"{d}/[ab].txt"]))
    assert both.tolist() == [f"{d}/{w}".encode() for w in ("a.txt", "b.txt", "c.csv")]


def test_matching_files_keeps_a_file_each_pattern_matches_as_tensorflow_does(tmp_path):
    for name in ("x1.txt", "x2.txt", "b.txt"):
        (tmp_path / name).write_bytes(b"")
    d = str(tmp_path)
    with tf.Session() as sess:
        got = sess.run(tf.matching_files([f"{d}/x2.txt", f"{d}/x*.txt", f"{d}/b*", f"{d}/x2.txt"]))
    # TF 2.21 gave: every pattern's matches together, sorted, x2.txt once per pattern matching it
    assert got.tolist() == [f"{d}/{w}".encode() for w in ("b.txt", "x1.txt", "x2.txt", "x2.txt", "x2.txt")]


def test_matching_files_sees_new_files_at_each_run(tmp_path):
    files = tf.io.matching_files(str(tmp_path / "*.rec"))
    with tf.Session() as sess:
        assert sess.run(files).tolist() == []
        (tmp_path / "1.rec").write_bytes(b"")
        assert sess.run(files).tolist() == [str(tmp_path / "1.rec").encode()]
