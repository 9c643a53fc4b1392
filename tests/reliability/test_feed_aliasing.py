"""Fetches never alias a feed: whatever object the caller feeds (buffers, ndarray subclasses, strided or
byte-swapped arrays, objects with `__array__`), writing into a fetched value leaves the caller's object as it
was, and writing into the caller's object after the run leaves the fetched value as it was. Checked on every
feed path: a first run, a cached runner, a callable, a traced run and a partial run."""

from __future__ import annotations

import array
import ctypes

import numpy as np
import pytest

import tfmini as tf

# np.matrix is one of the forms fed on purpose; NumPy's advice against the class is not news here.
pytestmark = pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")


class ArrayLike:
    """An object that hands NumPy its own buffer through `__array__` (as many array libraries do)."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data

    def __array__(self, dtype=None, copy=None):
        return self.data


class SubArray(np.ndarray):
    """A plain ndarray subclass, as libraries derive them."""


def _float32_values() -> dict:
    """name -> a factory of a fresh value holding 0, 1, 2, 3 (as float32 data where the form allows), and
    the form's own writable view of its buffer (None when the caller cannot write into it)."""

    def arange(n=4):
        return np.arange(n, dtype=np.float32)

    def own(value):
        return np.asarray(value)

    def make_ctypes():
        buf = (ctypes.c_float * 4)(0, 1, 2, 3)
        return buf, np.ctypeslib.as_array(buf)

    return {
        "memoryview": lambda: (lambda a: (memoryview(a), a))(arange()),
        "array.array": lambda: (lambda v: (v, own(v)))(array.array("f", [0, 1, 2, 3])),
        "ctypes array": make_ctypes,
        "np.matrix": lambda: (lambda m: (m, own(m)))(np.matrix([[0, 1, 2, 3]], dtype=np.float32)),
        "ndarray subclass": lambda: (lambda s: (s, s))(arange().view(SubArray)),
        "__array__ object": lambda: (lambda a: (ArrayLike(a), a))(arange()),
        "strided view": lambda: (lambda a: (a[::2], a))(np.array([0, 9, 1, 9, 2, 9, 3, 9], np.float32)),
        "fortran order": lambda: (lambda a: (a, a))(np.asfortranarray(arange().reshape(2, 2))),
        "byte-swapped": lambda: (lambda a: (a, a))(arange().astype(">f4")),
        "float64 array": lambda: (lambda a: (a, a))(np.arange(4, dtype=np.float64)),
        "plain array": lambda: (lambda a: (a, a))(arange()),
        "0-d array": lambda: (lambda a: (a, a))(np.array(3.0, np.float32)),
        "list of arrays": lambda: (lambda a, b: ([a, b], a))(arange(2), arange(2) + 2),
        "numpy scalar": lambda: (np.float32(3.0), None),
    }


VALUES = _float32_values()


def _fed(value) -> np.ndarray:
    """A snapshot of the caller's data as the run should see it."""
    return np.array(np.asarray(value, dtype=np.float32))


def _feed_paths(sess, p, fetch):
    """name -> `run(value) -> fetched array` for every way a value reaches a placeholder."""

    def first_run(value):  # the session's first run of this signature: the general path
        return sess.run([fetch], {p: value})[0]

    def cached_runner(value):
        sess.run(fetch, {p: np.zeros_like(np.asarray(value, np.float32))})
        return sess.run(fetch, {p: value})

    def traced(value):
        return sess.run(fetch, {p: value}, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                        run_metadata=tf.RunMetadata())

    def partial(value):
        handle = sess.partial_run_setup([fetch], [p])
        return sess.partial_run(handle, fetch, {p: value})

    return {"run": first_run, "cached runner": cached_runner, "callable": sess.make_callable(fetch, [p]),
            "traced": traced, "partial run": partial}


FETCHES = {"placeholder": lambda p: p, "identity": tf.identity, "reshape": lambda p: tf.reshape(p, [-1])}


@pytest.mark.parametrize("fetch_kind", list(FETCHES))
@pytest.mark.parametrize("form", list(VALUES))
def test_writing_into_a_fetch_never_changes_the_fed_object(form, fetch_kind):
    p = tf.placeholder(tf.float32)
    fetch = FETCHES[fetch_kind](p)
    with tf.Session() as sess:
        for path, run in _feed_paths(sess, p, fetch).items():
            value, _ = VALUES[form]()
            before = _fed(value)
            out = np.asarray(run(value))
            np.testing.assert_array_equal(out.reshape(-1), before.reshape(-1), err_msg=path)
            if isinstance(out, np.ndarray) and out.ndim:
                out[...] = -7.0
            np.testing.assert_array_equal(_fed(value), before, err_msg=f"{form} via {path}")


@pytest.mark.parametrize("fetch_kind", list(FETCHES))
@pytest.mark.parametrize("form", [f for f in VALUES if f != "numpy scalar"])
def test_writing_into_the_fed_object_after_the_run_never_changes_the_fetch(form, fetch_kind):
    p = tf.placeholder(tf.float32)
    fetch = FETCHES[fetch_kind](p)
    with tf.Session() as sess:
        for path, run in _feed_paths(sess, p, fetch).items():
            value, buffer = VALUES[form]()
            out = run(value)
            kept = np.array(out)
            buffer[...] = 55.0
            np.testing.assert_array_equal(out, kept, err_msg=f"{form} via {path}")


def test_a_bytearray_fed_to_uint8_is_not_aliased():
    p = tf.placeholder(tf.uint8)
    with tf.Session() as sess:
        for fetch in (p, tf.identity(p)):
            data = bytearray(b"abcd")
            out = sess.run(fetch, {p: data})
            np.testing.assert_array_equal(out, [97, 98, 99, 100])
            out[0] = 0
            assert data == bytearray(b"abcd")
            data[1] = 0
            assert out[1] == 98


def test_the_callers_object_keeps_its_flags():
    p = tf.placeholder(tf.float32)
    with tf.Session() as sess:
        for form in VALUES:
            value, buffer = VALUES[form]()
            sess.run(tf.identity(p), {p: value})
            if buffer is not None:
                assert buffer.flags.writeable, form  # feeding never locks the caller's own array
