"""`tf.test`: TF 1.x's TestCase (sessions, `evaluate`, the `assertAll*` family), gradient checks and test helpers.

`tf.test.TestCase` resets the default graph before each test and gives `self.session()` / `self.cached_session()`
/ `self.test_session()` as TF1 tests use them; `tf.test.compute_gradient(_error)` compare `tf.gradients` with
central finite differences through the default session, as TF 1.15's v1 gradient checker does.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import tempfile
import threading
import unittest
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from google.protobuf import text_format

from tfmini.client.session import Session
from tfmini.framework import dtypes as _dtypes
from tfmini.framework import errors
from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.framework.indexed_slices import IndexedSlicesValue
from tfmini.framework.sparse_tensor import SparseTensorValue
from tfmini.ops import array_ops, gradients_impl
from tfmini.protobuf import graph_pb2


def _to_array(value: Any) -> np.ndarray:
    if isinstance(value, SparseTensorValue):
        dense = np.zeros(value.dense_shape, dtype=np.asarray(value.values).dtype)
        dense[tuple(np.asarray(value.indices).T)] = value.values
        return dense
    return np.asarray(value)


def _is_plain_array(value: Any) -> bool:
    """Whether a nested list/tuple converts to one numeric NumPy array (not ragged, no dicts or SparseTensors)."""
    try:
        return np.asarray(value).dtype != object
    except ValueError:
        return False


def _tolerance(dtype: np.dtype, rtol: float, atol: float,
               half_rtol: float = 1e-3, half_atol: float = 1e-3) -> tuple[float, float]:
    if dtype in (np.float16, _dtypes.bfloat16.as_numpy_dtype):
        return max(rtol, half_rtol), max(atol, half_atol)
    if dtype in (np.float32, np.complex64):
        return max(rtol, 1e-6), max(atol, 1e-6)
    return rtol, atol


@tf_export("test.TestCase")
class TestCase(unittest.TestCase):
    """A unittest TestCase with TF 1.x's graph, session and array assertions."""

    def __init__(self, methodName: str = "runTest") -> None:  # noqa: N803 - unittest's name
        super().__init__(methodName)
        self._cached_session: Session | None = None
        self._tempdir: str | None = None

    def setUp(self) -> None:  # noqa: N802 - unittest's name
        super().setUp()
        _ops.reset_default_graph()
        np.random.seed(0)

    def tearDown(self) -> None:  # noqa: N802 - unittest's name
        if self._cached_session is not None:
            self._cached_session.close()
            self._cached_session = None
        super().tearDown()

    # -- sessions
    @contextlib.contextmanager
    def session(self, graph: _ops.Graph | None = None, config: Any = None, use_gpu: bool = False,
                force_gpu: bool = False) -> Iterator[Session]:
        """A new Session on `graph` (default: the default graph), installed as the default session."""
        with Session(graph=graph, config=config) as sess, sess.as_default():
            if graph is None:
                yield sess
            else:
                with graph.as_default():
                    yield sess

    @contextlib.contextmanager
    def cached_session(self, graph: _ops.Graph | None = None, config: Any = None, use_gpu: bool = False,
                       force_gpu: bool = False) -> Iterator[Session]:
        """One Session reused by every call in a test (closed in tearDown), installed as the default session."""
        graph = _ops.get_default_graph() if graph is None else graph
        if self._cached_session is not None and self._cached_session.graph is not graph:
            raise ValueError("The graph used to get the cached session is different than the one that was used to "
                             "create the session. Maybe create a new session with self.session()")
        if self._cached_session is None:
            self._cached_session = Session(graph=graph, config=config)
        with self._cached_session.as_default(), graph.as_default():
            yield self._cached_session

    def test_session(self, graph: _ops.Graph | None = None, config: Any = None, use_gpu: bool = False,
                     force_gpu: bool = False) -> contextlib.AbstractContextManager[Session]:
        """TF 1.x's older name of cached_session (skipped when unittest collects it as a test, as in TF)."""
        if self.id().endswith(".test_session"):
            self.skipTest("Not a test.")
        return self.cached_session(graph=graph, config=config)

    def evaluate(self, tensors: Any) -> Any:
        """Runs tensors (any fetch structure) in the default session, or in this test's cached session."""
        sess = _ops.get_default_session()
        if sess is None:
            with self.cached_session() as sess:
                return sess.run(tensors)
        return sess.run(tensors)

    def get_temp_dir(self) -> str:
        """A directory for this test's files, made on first use."""
        if self._tempdir is None:
            self._tempdir = tempfile.mkdtemp(dir=get_temp_dir())
        return self._tempdir

    # -- array assertions
    def assertAllClose(self, a: Any, b: Any, rtol: float = 1e-6, atol: float = 1e-6,  # noqa: N802
                       msg: str | None = None) -> None:
        """Element-wise closeness of arrays or of nested dicts/lists/tuples of arrays, with float16 and float32
        tolerances loosened as TF's does."""
        self._assert_close(a, b, rtol, atol, msg, path="")

    def _assert_close(self, a: Any, b: Any, rtol: float, atol: float, msg: str | None, path: str) -> None:
        if isinstance(a, dict) or isinstance(b, dict):
            self.assertIsInstance(a, dict, f"{path}: {a!r} is not a dict")
            self.assertIsInstance(b, dict, f"{path}: {b!r} is not a dict")
            self.assertEqual(set(a), set(b), f"{path}: keys differ")
            for key in a:
                self._assert_close(a[key], b[key], rtol, atol, msg, f"{path}[{key!r}]")
            return
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
            if not (_is_plain_array(a) and _is_plain_array(b)):
                self.assertEqual(len(a), len(b), f"{path}: lengths differ")
                for i, (x, y) in enumerate(zip(a, b)):
                    self._assert_close(x, y, rtol, atol, msg, f"{path}[{i}]")
                return
        x, y = _to_array(a), _to_array(b)
        self.assertEqual(x.shape, y.shape, f"{path}: shape mismatch: expected {x.shape}, got {y.shape}. {msg or ''}")
        if x.dtype.kind in "fc" or y.dtype.kind in "fc":
            dtype = x.dtype if x.dtype.kind in "fc" else y.dtype
            rtol, atol = _tolerance(dtype, rtol, atol)
            np.testing.assert_allclose(y, x, rtol=rtol, atol=atol, equal_nan=True,
                                       err_msg=f"{path} {msg or ''}".strip())
        else:
            np.testing.assert_array_equal(y, x, err_msg=f"{path} {msg or ''}".strip())

    def assertAllCloseAccordingToType(self, a: Any, b: Any, rtol: float = 1e-6,  # noqa: N802
                                      atol: float = 1e-6, float_rtol: float = 1e-6, float_atol: float = 1e-6,
                                      half_rtol: float = 1e-3, half_atol: float = 1e-3,
                                      bfloat16_rtol: float = 1e-2, bfloat16_atol: float = 1e-2,
                                      msg: str | None = None) -> None:
        x = _to_array(a)
        if x.dtype in (np.float32, np.complex64):
            rtol, atol = max(rtol, float_rtol), max(atol, float_atol)
        elif x.dtype == np.float16:
            rtol, atol = max(rtol, half_rtol), max(atol, half_atol)
        elif x.dtype == _dtypes.bfloat16.as_numpy_dtype:
            rtol, atol = max(rtol, bfloat16_rtol), max(atol, bfloat16_atol)
        self.assertAllClose(a, b, rtol=rtol, atol=atol, msg=msg)

    def assertAllEqual(self, a: Any, b: Any, msg: str | None = None) -> None:  # noqa: N802
        x, y = _to_array(a), _to_array(b)
        self.assertEqual(x.shape, y.shape, f"shape mismatch: expected {x.shape}, got {y.shape}. {msg or ''}")
        np.testing.assert_array_equal(y, x, err_msg=msg or "")

    def assertNotAllClose(self, a: Any, b: Any, **kwargs: Any) -> None:  # noqa: N802
        try:
            self.assertAllClose(a, b, **kwargs)
        except AssertionError:
            return
        raise AssertionError("The two values are close at all elements")

    def assertNear(self, f1: float, f2: float, err: float, msg: str | None = None) -> None:  # noqa: N802
        self.assertTrue(f1 == f2 or math.fabs(f1 - f2) <= err,
                        f"{f1:f} != {f2:f} +/- {err:f}{' (' + msg + ')' if msg else ''}")

    def assertArrayNear(self, farray1: Sequence[float], farray2: Sequence[float], err: float,  # noqa: N802
                        msg: str | None = None) -> None:
        self.assertEqual(len(farray1), len(farray2), msg)
        for f1, f2 in zip(farray1, farray2):
            self.assertNear(float(f1), float(f2), err, msg)

    def assertNDArrayNear(self, ndarray1: Any, ndarray2: Any, err: float,  # noqa: N802
                          msg: str | None = None) -> None:
        self.assertTrue(np.linalg.norm(np.asarray(ndarray1) - np.asarray(ndarray2)) <= err, msg)

    def _bound(self, a: Any, check: Any, what: str) -> None:
        x = _to_array(a)
        bad = ~check(x)
        if np.any(bad):
            raise AssertionError(f"{np.count_nonzero(bad)} of {x.size} elements are not {what}: {x[bad][:10]}")

    def assertAllGreater(self, a: Any, comparison_target: Any) -> None:  # noqa: N802
        self._bound(a, lambda x: x > comparison_target, f"> {comparison_target}")

    def assertAllGreaterEqual(self, a: Any, comparison_target: Any) -> None:  # noqa: N802
        self._bound(a, lambda x: x >= comparison_target, f">= {comparison_target}")

    def assertAllLess(self, a: Any, comparison_target: Any) -> None:  # noqa: N802
        self._bound(a, lambda x: x < comparison_target, f"< {comparison_target}")

    def assertAllLessEqual(self, a: Any, comparison_target: Any) -> None:  # noqa: N802
        self._bound(a, lambda x: x <= comparison_target, f"<= {comparison_target}")

    def assertAllInRange(self, target: Any, lower_bound: Any, upper_bound: Any,  # noqa: N802
                         open_lower_bound: bool = False, open_upper_bound: bool = False) -> None:
        def check(x: np.ndarray) -> np.ndarray:
            low = x > lower_bound if open_lower_bound else x >= lower_bound
            high = x < upper_bound if open_upper_bound else x <= upper_bound
            return low & high

        self._bound(target, check, f"in {'(' if open_lower_bound else '['}{lower_bound}, {upper_bound}"
                                   f"{')' if open_upper_bound else ']'}")

    def assertAllInSet(self, target: Any, expected_set: Any) -> None:  # noqa: N802
        allowed = set(np.asarray(list(expected_set)).ravel().tolist())
        self._bound(target, lambda x: np.vectorize(lambda v: v in allowed, otypes=[bool])(x), f"in {allowed}")

    def assertShapeEqual(self, np_array: np.ndarray, tf_tensor: _ops.Tensor,  # noqa: N802
                         msg: str | None = None) -> None:
        """The NumPy array's shape equals the tensor's static shape."""
        if not isinstance(tf_tensor, _ops.Tensor):
            raise TypeError("tf_tensor must be a Tensor")
        self.assertAllEqual(np.asarray(np_array).shape, tf_tensor.get_shape().as_list(), msg=msg)

    def assertDeviceEqual(self, device1: str | None, device2: str | None,  # noqa: N802
                          msg: str | None = None) -> None:
        self.assertEqual(_ops._merge_device("", device1 or ""), _ops._merge_device("", device2 or ""), msg)

    def assertProtoEquals(self, expected_message_maybe_ascii: Any, message: Any,  # noqa: N802
                          msg: str | None = None) -> None:
        """Compares a protocol buffer with another one or with its text format."""
        if isinstance(expected_message_maybe_ascii, str):
            expected = type(message)()
            text_format.Merge(expected_message_maybe_ascii, expected)
        else:
            expected = expected_message_maybe_ascii
        self.assertEqual(text_format.MessageToString(expected), text_format.MessageToString(message), msg)

    @contextlib.contextmanager
    def assertRaisesWithPredicateMatch(self, exception_type: type[BaseException],  # noqa: N802
                                       expected_err_re_or_predicate: Any) -> Iterator[None]:
        if callable(expected_err_re_or_predicate):
            predicate = expected_err_re_or_predicate
        else:
            pattern = expected_err_re_or_predicate

            def predicate(exc: BaseException) -> bool:
                return re.search(pattern, str(exc)) is not None

        try:
            yield
        except exception_type as exc:
            if not predicate(exc):
                raise AssertionError(f"Exception of type {type(exc).__name__}: {exc} does not match") from exc
        else:
            raise AssertionError(f"{exception_type.__name__} not raised")

    def assertRaisesOpError(self, expected_err_re_or_predicate: Any):  # noqa: N802
        """Expects an `OpError` (a run-time TF error) whose message matches."""
        return self.assertRaisesWithPredicateMatch(errors.OpError, expected_err_re_or_predicate)

    def checkedThread(self, target: Any, args: Sequence[Any] = (), kwargs: dict | None = None):  # noqa: N802
        """A thread whose exception fails the test when it is joined."""
        return _CheckedThread(self, target, args, kwargs)


class _CheckedThread:
    def __init__(self, testcase: TestCase, target: Any, args: Sequence[Any], kwargs: dict | None) -> None:
        self._testcase = testcase
        self._exception: BaseException | None = None

        def run() -> None:
            try:
                target(*args, **(kwargs or {}))
            except BaseException as exc:  # noqa: BLE001 - reported to the test at join
                self._exception = exc

        self._thread = threading.Thread(target=run)

    def start(self) -> None:
        self._thread.start()

    def join(self) -> None:
        self._thread.join()
        if self._exception is not None:
            self._testcase.fail(f"thread raised {type(self._exception).__name__}: {self._exception}")

    def is_alive(self) -> bool:
        return self._thread.is_alive()


@tf_export("test.main")
def main(argv: Sequence[str] | None = None) -> None:
    """Runs the TestCases of the `__main__` module (unittest's runner)."""
    unittest.main(argv=None if argv is None else list(argv))


@tf_export("test.get_temp_dir")
def get_temp_dir() -> str:
    """A temporary directory for tests, the same one for the whole process (`TEST_TMPDIR` if set)."""
    global _TEMP_DIR
    if _TEMP_DIR is None:
        base = os.environ.get("TEST_TMPDIR")
        _TEMP_DIR = base if base else tempfile.mkdtemp(prefix="tfmini_test_")
        os.makedirs(_TEMP_DIR, exist_ok=True)
    return _TEMP_DIR


_TEMP_DIR: str | None = None


@tf_export("test.is_gpu_available")
def is_gpu_available(cuda_only: bool = False, min_cuda_compute_capability: tuple[int, int] | None = None) -> bool:
    """False: tfmini computes on the CPU with NumPy."""
    return False


@tf_export("test.gpu_device_name")
def gpu_device_name() -> str:
    """'' (no GPU device)."""
    return ""


@tf_export("test.is_built_with_cuda")
def is_built_with_cuda() -> bool:
    return False


@tf_export("test.is_built_with_gpu_support")
def is_built_with_gpu_support() -> bool:
    return False


@tf_export("test.is_built_with_rocm")
def is_built_with_rocm() -> bool:
    return False


@tf_export("test.is_built_with_xla")
def is_built_with_xla() -> bool:
    return False


@tf_export("test.assert_equal_graph_def")
def assert_equal_graph_def(actual: graph_pb2.GraphDef, expected: graph_pb2.GraphDef,
                           checkpoint_v2: bool = False, hash_table_shared_name: bool = False) -> None:
    """Raises AssertionError naming the first difference unless the GraphDefs hold the same nodes (in any order).

    With `checkpoint_v2`, the random `_temp_<uuid>` part of save ops' file-name constants is ignored.
    """
    if not isinstance(actual, graph_pb2.GraphDef):
        raise TypeError(f"Expected tf.GraphDef for actual, got {type(actual).__name__}")
    if not isinstance(expected, graph_pb2.GraphDef):
        raise TypeError(f"Expected tf.GraphDef for expected, got {type(expected).__name__}")

    def nodes(graph_def: graph_pb2.GraphDef) -> dict[str, Any]:
        out = {}
        for node in graph_def.node:
            node = type(node).FromString(node.SerializeToString())
            if checkpoint_v2 and node.op == "Const" and "value" in node.attr:
                tensor = node.attr["value"].tensor
                for i, s in enumerate(tensor.string_val):
                    tensor.string_val[i] = re.sub(rb"_temp_[0-9a-f]{32}", b"_temp_", s)
            if hash_table_shared_name and "shared_name" in node.attr:
                del node.attr["shared_name"]
            out[node.name] = node
        return out

    got, want = nodes(actual), nodes(expected)
    if set(got) != set(want):
        raise AssertionError(f"Graphs have different nodes: only in actual {sorted(set(got) - set(want))}, "
                             f"only in expected {sorted(set(want) - set(got))}")
    for name in sorted(got):
        a, e = got[name], want[name]
        if a.op != e.op or list(a.input) != list(e.input) or a.device != e.device or dict(a.attr) != dict(e.attr):
            raise AssertionError(f"Node {name!r} differs:\nactual:\n{a}\nexpected:\n{e}")


# -- gradient checks ------------------------------------------------------------------------------------------
def _size(shape: Sequence[int]) -> int:
    return int(np.prod(shape, dtype=np.int64))


def _jacobians(x: _ops.Tensor, x_shape: Sequence[int], x_value: np.ndarray, y: _ops.Tensor,
               y_shape: Sequence[int], delta: float, feed: dict) -> tuple[np.ndarray, np.ndarray]:
    sess = _ops.get_default_session()
    if sess is None:
        raise ValueError("tf.test.compute_gradient needs a default session: use it inside `with tf.Session():` "
                         "or `with self.cached_session():`")
    x_size, y_size = _size(x_shape), _size(y_shape)
    dtype = x.dtype.base_dtype.as_numpy_dtype
    theoretical = np.zeros((x_size, y_size), dtype=dtype)
    numerical = np.zeros((x_size, y_size), dtype=dtype)
    dy = array_ops.placeholder(y.dtype.base_dtype, shape=y_shape, name="compute_gradient_dy")
    (grad,) = gradients_impl.gradients(y, x, grad_ys=dy)
    point = {**feed, x: x_value}
    if grad is not None:
        dy_value = np.zeros(y_shape, dtype=y.dtype.base_dtype.as_numpy_dtype)
        flat = dy_value.reshape(-1)
        for col in range(y_size):
            flat[:] = 0
            flat[col] = 1
            value = sess.run(grad, feed_dict={**point, dy: dy_value})
            theoretical[:, col] = _dense_gradient(value, x_shape).reshape(-1)
    x_flat = np.array(x_value, dtype=dtype).reshape(-1)
    for row in range(x_size):
        original = x_flat[row]
        x_flat[row] = original + delta
        up = np.asarray(sess.run(y, feed_dict={**feed, x: x_flat.reshape(x_shape)}), dtype=np.float64)
        x_flat[row] = original - delta
        down = np.asarray(sess.run(y, feed_dict={**feed, x: x_flat.reshape(x_shape)}), dtype=np.float64)
        x_flat[row] = original
        numerical[row, :] = ((up - down) / (2 * delta)).reshape(-1)
    return theoretical, numerical


def _dense_gradient(value: Any, x_shape: Sequence[int]) -> np.ndarray:
    """A fetched gradient as a dense array (IndexedSlicesValue rows are added into zeros)."""
    if isinstance(value, IndexedSlicesValue):
        dense = np.zeros(x_shape, dtype=np.asarray(value.values).dtype)
        np.add.at(dense, np.asarray(value.indices), np.asarray(value.values))
        return dense
    return np.asarray(value)


@tf_export("test.compute_gradient")
def compute_gradient(x: Any, x_shape: Any, y: _ops.Tensor, y_shape: Sequence[int], x_init_value: Any = None,
                     delta: float = 1e-3, init_targets: Any = None, extra_feed_dict: dict | None = None) -> Any:
    """The theoretical (tf.gradients) and numerical (central differences) Jacobians of y with respect to x.

    Each Jacobian has one row per element of x and one column per element of y. With a list of xs (and a list of
    shapes), returns a list of (theoretical, numerical) pairs. Runs in the default session; `init_targets` run
    first (e.g. variable initializers); x values default to uniform draws in [0, 1).
    """
    sess = _ops.get_default_session()
    if init_targets is not None and sess is not None:
        sess.run(init_targets)
    feed = dict(extra_feed_dict or {})
    if isinstance(x, (list, tuple)):
        values = x_init_value if x_init_value is not None else [None] * len(x)
        feed_all = dict(feed)
        inits = []
        for xi, shape, value in zip(x, x_shape, values):
            value = (np.random.random_sample(shape) if value is None else np.asarray(value))
            value = value.astype(xi.dtype.base_dtype.as_numpy_dtype)
            inits.append(value)
            feed_all[xi] = value
        return [
            _jacobians(xi, shape, value, y, y_shape, delta, {k: v for k, v in feed_all.items() if k is not xi})
            for xi, shape, value in zip(x, x_shape, inits)
        ]
    value = np.random.random_sample(x_shape) if x_init_value is None else np.asarray(x_init_value)
    if tuple(value.shape) != tuple(x_shape):
        raise ValueError(f"x_init_value has shape {value.shape}, x_shape is {tuple(x_shape)}")
    return _jacobians(x, x_shape, value.astype(x.dtype.base_dtype.as_numpy_dtype), y, y_shape, delta, feed)


@tf_export("test.compute_gradient_error")
def compute_gradient_error(x: Any, x_shape: Any, y: _ops.Tensor, y_shape: Sequence[int], x_init_value: Any = None,
                           delta: float = 1e-3, init_targets: Any = None,
                           extra_feed_dict: dict | None = None) -> float:
    """The largest absolute difference between the theoretical and numerical Jacobians of compute_gradient."""
    result = compute_gradient(x, x_shape, y, y_shape, x_init_value, delta, init_targets, extra_feed_dict)
    pairs = result if isinstance(result, list) else [result]
    error = 0.0
    for theoretical, numerical in pairs:
        if theoretical.size:
            error = max(error, float(np.max(np.abs(theoretical - numerical))))
    return error

