"""tf.gfile and tf.io.gfile against the behaviour recorded from TensorFlow (TF 2.21's tf.compat.v1.gfile on a
local directory): results, error classes and their wording."""

import os

import pytest

import tfmini as tf

g = tf.gfile


def test_the_v1_and_v2_namespaces_have_tf_s_names():
    assert sorted(n for n in dir(g) if not n.startswith("_")) == [
        "Copy", "DeleteRecursively", "Exists", "FastGFile", "GFile", "Glob", "IsDirectory", "ListDirectory",
        "MakeDirs", "MkDir", "Open", "Remove", "Rename", "Stat", "Walk"]
    for name in ("GFile", "copy", "exists", "glob", "isdir", "join", "listdir", "makedirs", "mkdir", "remove",
                 "rename", "rmtree", "stat", "walk"):
        assert callable(getattr(tf.io.gfile, name))


def test_reading_and_writing_text_and_bytes(tmp_path):
    path = str(tmp_path / "a.txt")
    with g.GFile(path, "w") as f:
        f.write("hello\nworld\n")
    assert g.GFile(path).read() == "hello\nworld\n"
    assert g.GFile(path, "rb").read() == b"hello\nworld\n"
    assert g.GFile(path).readlines() == ["hello\n", "world\n"]
    assert list(g.GFile(path)) == ["hello\n", "world\n"]
    assert g.GFile(path).size() == 12
    f = g.GFile(path)
    f.seek(6)
    assert (f.read(3), f.tell()) == ("wor", 9)
    f.seek(position=0)
    assert f.readline() == "hello\n"
    f.close()
    with g.Open(path, "a") as f:
        f.write(b"more")
    assert tf.io.gfile.GFile(path, "rb").read() == b"hello\nworld\nmore"


def test_a_missing_file_is_not_found_when_first_read(tmp_path):
    missing = str(tmp_path / "nope")
    f = g.GFile(missing)  # opening is lazy, as in TF
    with pytest.raises(tf.errors.NotFoundError, match=f"{missing}; No such file or directory"):
        f.read()
    with pytest.raises(tf.errors.FailedPreconditionError, match="Is a directory"):
        g.GFile(str(tmp_path), "w").write("x")


def test_file_system_functions_and_their_errors(tmp_path):
    d = tmp_path / "d"
    missing = str(tmp_path / "nope")
    assert not g.Exists(missing) and not g.IsDirectory(missing)
    with pytest.raises(tf.errors.NotFoundError, match=f"{missing}; No such file or directory"):
        g.Remove(missing)
    with pytest.raises(tf.errors.NotFoundError, match=f"Could not find directory {missing}"):
        g.ListDirectory(missing)
    with pytest.raises(tf.errors.NotFoundError):
        g.Stat(missing)
    with pytest.raises(tf.errors.NotFoundError, match=f"{missing} not found"):
        g.DeleteRecursively(missing)

    g.MkDir(str(d))
    g.MkDir(str(d))  # an existing directory is accepted, as in TF
    g.MakeDirs(str(d))
    with pytest.raises(tf.errors.NotFoundError):
        g.MkDir(str(tmp_path / "x" / "y"))
    g.MakeDirs(str(tmp_path / "x" / "y"))
    assert g.IsDirectory(str(tmp_path / "x" / "y"))

    a, b = str(d / "a.txt"), str(d / "b.txt")
    with g.GFile(a, "w") as f:
        f.write("hello\nworld\n")
    g.Copy(a, b)
    with pytest.raises(tf.errors.AlreadyExistsError, match="file already exists"):
        g.Copy(a, b)
    g.Copy(a, b, overwrite=True)
    with pytest.raises(tf.errors.AlreadyExistsError):
        g.Rename(a, b)
    assert g.ListDirectory(str(d)) == ["a.txt", "b.txt"]
    assert g.Glob(str(d / "*.txt")) == [a, b]
    assert g.Glob([str(d / "a*"), str(d / "b*")]) == [a, b]
    assert g.Glob(str(tmp_path / "zz" / "*.txt")) == []
    st = g.Stat(a)
    assert (st.length, st.is_directory, g.Stat(str(d)).is_directory) == (12, False, True)
    assert st.mtime_nsecs == os.stat(a).st_mtime_ns
    with pytest.raises(tf.errors.FailedPreconditionError, match="Is a directory"):
        g.Remove(str(d))
    with pytest.raises(tf.errors.NotFoundError, match="Could not find directory"):
        g.ListDirectory(a)

    assert list(g.Walk(str(tmp_path))) == [
        (str(tmp_path), ["d", "x"], []), (str(d), [], ["a.txt", "b.txt"]),
        (str(tmp_path / "x"), ["y"], []), (str(tmp_path / "x" / "y"), [], [])]
    assert [w[0] for w in g.Walk(str(tmp_path), in_order=False)][-1] == str(tmp_path)
    assert list(g.Walk(missing)) == []
    g.Rename(a, str(d / "c.txt"))
    assert tf.io.gfile.listdir(str(d)) == ["b.txt", "c.txt"]
    g.DeleteRecursively(str(d))
    assert not g.Exists(str(d))


def test_only_local_paths_are_served(tmp_path):
    path = tmp_path / "f"
    path.write_text("x")
    assert g.Exists(f"file://{path}")
    with pytest.raises(tf.errors.UnimplementedError, match="scheme 'gs' not implemented"):
        g.Exists("gs://bucket/object")
