"""Property-based fuzzing of feeds: random placeholders (dtype, static shape) fed random values of every form a
caller may pass (Python scalars and nested or ragged lists, NumPy scalars and arrays of any dtype, views,
buffers, subclasses, array-likes, masked arrays), through every feed path, and session-handle round trips.

Each example either runs and matches a NumPy reference (np.asarray(value, dtype), then the same arithmetic),
or is refused with a TypeError, ValueError or InvalidArgumentError naming the fed tensor; never another
error. Nothing aliases: writing into a result leaves the caller's object as it was and writing into the
caller's object leaves earlier results as they were. The session still runs afterwards."""

from __future__ import annotations

import array
import warnings
from collections.abc import Callable

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from reliability_support import TALLIES, Hang, no_hang

import tfmini as tf

pytestmark = pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")

PLACEHOLDER_DTYPES = [tf.float16, tf.float32, tf.float64, tf.int8, tf.int16, tf.int32, tf.int64, tf.uint8,
                      tf.uint16, tf.uint32, tf.uint64, tf.bool, tf.string, tf.complex64, tf.complex128]
SOURCE_DTYPES = ["f2", "f4", "f8", ">f4", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "?", "c8", "c16",
                 "U3", "S3"]
FEED_PATHS = ["run", "cached runner", "callable", "partial run"]


class ArrayLike:
    """An object that hands NumPy its own buffer through `__array__`."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)


class SubArray(np.ndarray):
    """A plain ndarray subclass."""


# ----------------------------------------------------------------------------------------------------------
# Strategies: a value the caller feeds, and the writable array (if any) through which it can change it
# ----------------------------------------------------------------------------------------------------------
any_static_shape = st.one_of(st.none(), st.lists(st.one_of(st.none(), st.integers(0, 3)), max_size=3).map(tuple))


def _shape_of(value) -> tuple | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.shape(value)
    except (TypeError, ValueError):
        return None


def static_shapes(value) -> st.SearchStrategy:
    """Unknown rank, any shape, or (most often) the value's own shape with some dims unknown, so that many
    examples get past the shape check to the conversion and the run."""
    own = _shape_of(value)
    if own is None:
        return any_static_shape
    partial = st.lists(st.booleans(), min_size=len(own), max_size=len(own)).map(
        lambda unknown: tuple(None if u else d for u, d in zip(unknown, own)))
    return st.one_of(any_static_shape, partial, partial)

python_scalars = st.one_of(
    st.integers(), st.integers(-300, 300), st.floats(), st.booleans(), st.complex_numbers(),
    st.text(max_size=4), st.binary(max_size=4), st.sampled_from([float("nan"), float("inf"), -float("inf"),
                                                                  2**31, 2**63, -(2**63) - 1, 2**64]),
)
nested_lists = st.recursive(python_scalars, lambda inner: st.lists(inner, max_size=3), max_leaves=8)


@st.composite
def source_arrays(draw) -> np.ndarray:
    dtype = np.dtype(draw(st.sampled_from(SOURCE_DTYPES)))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))
    return draw(hnp.arrays(dtype, shape))


def _numeric(a: np.ndarray) -> bool:
    return a.dtype.kind in "biufc"


@st.composite
def fed_values(draw) -> tuple[str, object, np.ndarray | None]:
    """(form name, value, the caller's writable array sharing the value's memory or None)."""
    form = draw(st.sampled_from([
        "python scalar", "nested list", "list", "ragged list", "numpy scalar", "ndarray", "0-d array",
        "strided view", "fortran order", "byte-swapped", "read-only", "memoryview", "bytearray", "array.array",
        "matrix", "masked", "subclass", "__array__ object", "list of arrays",
    ]))
    if form == "python scalar":
        return form, draw(python_scalars), None
    if form == "nested list":
        return form, draw(nested_lists), None
    a = draw(source_arrays())
    if form == "list":
        return "list" if a.ndim else "python scalar", a.tolist(), None  # a 0-d array's tolist() is a scalar
    if form == "ragged list":
        rows = a.tolist() if a.ndim else [a.item()]
        return form, [rows, rows[:1] + [0]], None
    if form == "numpy scalar":
        return form, a.reshape(-1)[0] if a.size else a.dtype.type(), None
    if form == "0-d array":
        return form, (b := np.array(a.reshape(-1)[0] if a.size else a.dtype.type())), b
    if form == "strided view" and a.ndim:
        big = np.repeat(a, 2, axis=-1)
        return form, big[..., ::2], big
    if form == "fortran order":
        b = np.asfortranarray(a)
        return form, b, b
    if form == "byte-swapped" and _numeric(a) and a.dtype.itemsize > 1:
        b = a.astype(a.dtype.newbyteorder())
        return form, b, b
    if form == "read-only":
        a.flags.writeable = False
        return form, a, None
    if form == "memoryview" and _numeric(a):
        return form, memoryview(a), a
    if form == "bytearray":
        buf = bytearray(np.ascontiguousarray(a).view(np.uint8).tobytes() if _numeric(a) else b"abc")
        return form, buf, np.frombuffer(buf, np.uint8)
    if form == "array.array" and _numeric(a) and a.dtype.kind in "fiu" and a.dtype.itemsize >= 2:
        code = {"f4": "f", "f8": "d", "i2": "h", "i4": "i", "i8": "q", "u2": "H", "u4": "I", "u8": "Q"}
        key = f"{a.dtype.kind}{a.dtype.itemsize}"
        if key in code:
            buf = array.array(code[key], a.astype(a.dtype.newbyteorder("=")).reshape(-1).tolist())
            return form, buf, np.frombuffer(buf, dtype=np.dtype(a.dtype.newbyteorder("=")))
    if form == "matrix" and _numeric(a) and a.ndim <= 2:
        m = np.matrix(a)
        return form, m, np.asarray(m)
    if form == "masked":
        return form, np.ma.masked_array(a, mask=draw(hnp.arrays(np.bool_, a.shape))), a
    if form == "subclass":
        return form, a.view(SubArray), a
    if form == "__array__ object":
        return form, ArrayLike(a), a
    if form == "list of arrays" and a.ndim:
        return form, list(a), a
    return "ndarray", a, a


# ----------------------------------------------------------------------------------------------------------
# The NumPy reference
# ----------------------------------------------------------------------------------------------------------
def _to_bytes(x) -> bytes:
    if isinstance(x, (bytes, np.bytes_)):
        return bytes(x)
    if isinstance(x, (str, np.str_)):
        return str(x).encode("utf-8")
    raise TypeError(f"not a string: {x!r}")


def reference(value, dtype: tf.DType) -> np.ndarray:
    """What TF feeds for `value` (np.asarray to the dtype; strings as bytes); raises where NumPy cannot."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dtype == tf.string:
            obj = np.asarray(value, dtype=object)
            out = np.empty(obj.shape, dtype=object)
            out.reshape(-1)[:] = [_to_bytes(x) for x in obj.reshape(-1)]
            return out
        return np.array(np.asarray(value, dtype=dtype.as_numpy_dtype))  # a copy: the caller's buffer changes


def arithmetic(p: tf.Tensor) -> tuple[tf.Tensor, Callable]:
    """An op of `p` for the dtype, and the same computation in NumPy."""
    if p.dtype == tf.string:
        return tf.size(p), lambda r: np.int32(r.size)
    if p.dtype == tf.bool:
        return tf.logical_not(p), np.logical_not
    return p + p, lambda r: r + r


def _fits(static, shape) -> bool:
    return static is None or (len(static) == len(shape) and all(d is None or d == s for d, s in zip(static, shape)))


def _same(got, want) -> bool:
    got = np.asarray(got, dtype=object) if want.dtype == object else np.asarray(got)  # a 0-d string is bytes
    if got.dtype != want.dtype or got.shape != want.shape:
        return False
    if want.dtype == object:
        return got.tolist() == want.tolist()
    return bool(np.array_equal(got, want, equal_nan=True))


def _scribble(result) -> None:
    """Writes into a fetched array (when it can be written) the way a caller reusing its buffer would."""
    if isinstance(result, np.ndarray) and result.size and result.flags.writeable:
        result[...] = b"~" if result.dtype == object else 1


# ----------------------------------------------------------------------------------------------------------
# One example
# ----------------------------------------------------------------------------------------------------------
FORMS_NUMPY_MUST_ACCEPT = {"list", "numpy scalar", "ndarray", "0-d array", "strided view", "fortran order",
                           "byte-swapped", "read-only", "memoryview", "bytearray", "array.array", "matrix",
                           "subclass", "__array__ object", "list of arrays"}


def _run_feed(sess, path, p, fetches, value):
    if path == "run":
        return sess.run(fetches, {p: value})
    if path == "cached runner":
        sess.run(fetches, {p: value})
        return sess.run(fetches, {p: value})
    if path == "callable":
        return sess.make_callable(fetches, [p])(value)
    handle = sess.partial_run_setup(fetches, [p])
    return sess.partial_run(handle, fetches, {p: value})


def check_feed(dtype, static, form, value, buffer, path, through_handle) -> str:
    """Runs one example; returns its outcome, raising AssertionError for a wrong result or a bad error."""
    graph = tf.Graph()
    with graph.as_default():
        p = tf.placeholder(dtype, shape=None if static is None else list(static), name="fuzz_feed")
        op, numpy_op = arithmetic(p)
        fetches = [tf.identity(p, name="fuzz_identity"), op]
        handle_op = tf.get_session_handle(p) if through_handle else None
        sanity = tf.constant(2.0) * 3.0
    op_names = [o.name for o in graph.get_operations() if o.type != "Const"]
    with tf.Session(graph=graph) as sess:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # NumPy's cast warnings (complex to real, NaN to int, ...)
                results = _run_feed(sess, path, p, fetches, value)
                handle = sess.run(handle_op, {p: value}) if through_handle else None
        except (TypeError, ValueError, tf.errors.InvalidArgumentError) as e:
            kind = type(e).__name__ if not isinstance(e, tf.errors.OpError) else "InvalidArgumentError"
            assert not isinstance(e, tf.errors.OpError) or type(e) is tf.errors.InvalidArgumentError, repr(e)
            named = op_names if isinstance(e, tf.errors.OpError) else [p.name]
            assert any(n in str(e) for n in named), f"the error does not name the tensor: {e!r}"
            # A lone string (np.str_, np.bytes_ too) is refused for a non-string tensor on purpose, by its own
            # rule; the forms here must be refused only when NumPy cannot convert them or the shape is wrong.
            if form in FORMS_NUMPY_MUST_ACCEPT and dtype != tf.string and not isinstance(value, (str, bytes)):
                try:
                    want = reference(value, dtype)
                except (TypeError, ValueError, OverflowError):
                    want = None
                assert want is None or not _fits(static, want.shape), f"refused a feed NumPy converts: {e!r}"
            outcome = f"rejected_{kind}"
        else:
            want = reference(value, dtype)  # an accepted value must be one NumPy converts
            assert form != "masked", "a masked array was fed"
            assert _fits(static, want.shape), f"fed shape {want.shape} into {static}"
            assert _same(results[0], want), f"identity gave {results[0]!r}, want {want!r}"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                want_op = np.asarray(numpy_op(want))
            assert _same(results[1], want_op), f"{op.op.type} gave {results[1]!r}, want {want_op!r}"
            if buffer is not None:
                buffer[...] = 0  # the caller reuses its buffer after the run
                assert _same(results[0], want) and _same(results[1], want_op), \
                    "writing into the caller's value changed a fetch"
                written = buffer.copy()
            for r in results:
                _scribble(r)
            if buffer is not None:
                assert np.array_equal(buffer, written), "writing into a fetch changed the caller's value"
            if through_handle:
                got = handle.eval()
                assert _same(got, want), f"handle eval gave {got!r}, want {want!r}"
                _scribble(got)
                holder, read = tf.get_session_tensor(handle.handle, dtype)
                assert _same(sess.run(read, {holder: handle.handle}), want)
                if dtype != tf.string:  # fed to a string tensor, a handle stands for its own string
                    assert _same(sess.run(fetches[0], {p: handle}), want)
            outcome = "accepted"
        assert sess.run(sanity) == 6.0
    return outcome


def _outcome_of(exc: BaseException) -> str:
    if isinstance(exc, Hang):
        return "hang"
    if isinstance(exc, AssertionError):
        return "wrong_result"
    if isinstance(exc, tf.errors.OpError):
        return "internal_error"
    return "raw_error"


@given(dtype=st.sampled_from(PLACEHOLDER_DTYPES), fed=fed_values(), path=st.sampled_from(FEED_PATHS),
       through_handle=st.booleans(), data=st.data())
def test_feed_fuzz(dtype, fed, path, through_handle, data):
    form, value, buffer = fed
    static = data.draw(static_shapes(value), label="static shape")
    tally = TALLIES["feed_fuzz"]
    try:
        with no_hang(10):
            outcome = check_feed(dtype, static, form, value, buffer, path, through_handle)
    except BaseException as e:
        tally[_outcome_of(e)] += 1
        raise
    tally[outcome] += 1
    event(f"{form}: {outcome}")  # per-form coverage, shown by --hypothesis-show-statistics
