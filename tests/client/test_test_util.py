"""tf.test: TestCase's sessions and assertions, compute_gradient(_error), assert_equal_graph_def and helpers."""

import unittest

import numpy as np
import pytest

import tfmini as tf


class _Sample(tf.test.TestCase):
    __test__ = False  # a TestCase to drive by hand, not one for pytest to collect

    def runTest(self):  # noqa: N802 - unittest's name
        pass


@pytest.fixture
def case():
    test = _Sample()
    test.setUp()
    yield test
    test.tearDown()


def test_setup_resets_the_default_graph():
    tf.constant(1.0, name="left_over")
    test = _Sample()
    test.setUp()
    assert tf.get_default_graph().get_operations() == []
    test.tearDown()


def test_cached_session_is_reused_and_evaluate_runs_structures(case):
    x = tf.constant([1.0, 2.0])
    with case.cached_session() as first:
        assert tf.get_default_session() is first
        assert case.evaluate({"x": x, "y": [x * 2]})["y"][0].tolist() == [2.0, 4.0]
    with case.test_session() as second:
        assert second is first
    with case.session() as fresh:
        assert fresh is not first
    assert case.evaluate(x + 1).tolist() == [2.0, 3.0]
    with tf.Graph().as_default() as other, pytest.raises(ValueError, match="different than the one"):
        with case.cached_session(graph=other):
            pass


def test_assert_all_close_nested_and_loosened_for_float32(case):
    case.assertAllClose({"a": [1.0, 2.0], "b": (np.float32(3.0),)}, {"a": [1.0, 2.0 + 1e-7], "b": (3.0,)})
    case.assertAllClose(np.float32([1.0]), [1.0 + 5e-7])
    with pytest.raises(AssertionError):
        case.assertAllClose([1.0, 2.0], [1.0, 2.1])
    with pytest.raises(AssertionError, match="shape mismatch"):
        case.assertAllClose([1.0, 2.0], [[1.0, 2.0]])
    case.assertAllCloseAccordingToType(np.float16([1.0]), [1.0005])
    case.assertNotAllClose([1.0], [2.0])
    case.assertAllEqual([[1, 2]], np.array([[1, 2]]))
    with pytest.raises(AssertionError):
        case.assertAllEqual([1, 2], [1, 3])


def test_bounds_near_and_shapes(case):
    case.assertAllGreater([2, 3], 1)
    case.assertAllLessEqual([2, 3], 3)
    case.assertAllInRange([0.0, 1.0], 0.0, 1.0)
    with pytest.raises(AssertionError, match="1 of 2 elements"):
        case.assertAllInRange([0.0, 1.0], 0.0, 1.0, open_upper_bound=True)
    case.assertAllInSet([1, 2, 2], {1, 2})
    case.assertNear(1.0, 1.05, 0.1)
    case.assertArrayNear([1.0, 2.0], [1.01, 2.0], 0.02)
    case.assertShapeEqual(np.zeros((2, 3)), tf.zeros([2, 3]))
    case.assertDeviceEqual("/cpu:0", "/device:CPU:0")
    case.assertProtoEquals("dim { size: 2 }", tf.TensorShape([2]).as_proto())


def test_assert_raises_op_error_matches_run_time_errors(case):
    x = tf.placeholder(tf.float32, [None])
    with case.cached_session() as sess:
        with case.assertRaisesOpError("must feed a value|You must feed"):
            sess.run(x * 2)
        with pytest.raises(AssertionError, match="not raised"):
            with case.assertRaisesOpError("anything"):
                pass


def test_checked_thread_reports_its_failure(case):
    def boom():
        raise RuntimeError("inside")

    thread = case.checkedThread(boom)
    thread.start()
    with pytest.raises(AssertionError, match="RuntimeError: inside"):
        thread.join()


def test_compute_gradient_gives_both_jacobians():
    with tf.Graph().as_default(), tf.Session():
        x = tf.placeholder(tf.float64, [2, 3])
        w = tf.constant(np.arange(6.0).reshape(3, 2))
        y = tf.matmul(tf.square(x), w)
        x0 = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
        theoretical, numerical = tf.test.compute_gradient(x, [2, 3], y, [2, 2], x_init_value=x0)
        expected = np.zeros((6, 4))
        for i in range(2):
            for j in range(3):
                for k in range(2):
                    expected[i * 3 + j, i * 2 + k] = 2 * x0[i, j] * np.arange(6.0).reshape(3, 2)[j, k]
        np.testing.assert_allclose(theoretical, expected)
        np.testing.assert_allclose(numerical, expected, atol=1e-6)
        assert tf.test.compute_gradient_error(x, [2, 3], y, [2, 2], x_init_value=x0) < 1e-6


def test_compute_gradient_with_several_xs_and_a_wrong_gradient_shows_up():
    with tf.Graph().as_default(), tf.Session():
        a = tf.placeholder(tf.float64, [3])
        b = tf.placeholder(tf.float64, [3])

        @tf.RegisterGradient("WrongSquareForTestUtil")
        def _wrong(op, grad):
            return [grad * op.inputs[0]]  # missing the factor 2

        with tf.get_default_graph().gradient_override_map({"Square": "WrongSquareForTestUtil"}):
            y = tf.square(a) * b
        pairs = tf.test.compute_gradient([a, b], [[3], [3]], y, [3], x_init_value=[np.ones(3), np.full(3, 2.0)])
        assert len(pairs) == 2
        error = tf.test.compute_gradient_error([a, b], [[3], [3]], y, [3],
                                               x_init_value=[np.ones(3), np.full(3, 2.0)])
        assert error == pytest.approx(2.0, abs=1e-6)


def test_compute_gradient_needs_a_default_session():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [1])
        with pytest.raises(ValueError, match="default session"):
            tf.test.compute_gradient(x, [1], x * 2, [1])


def test_assert_equal_graph_def_names_the_differing_node():
    with tf.Graph().as_default() as g1:
        tf.add(tf.constant(1.0, name="a"), 2.0, name="sum")
    with tf.Graph().as_default() as g2:
        tf.add(tf.constant(1.0, name="a"), 3.0, name="sum")
    tf.test.assert_equal_graph_def(g1.as_graph_def(), g1.as_graph_def())
    with pytest.raises(AssertionError, match="Node 'sum/y' differs"):
        tf.test.assert_equal_graph_def(g1.as_graph_def(), g2.as_graph_def())
    with pytest.raises(TypeError, match="Expected tf.GraphDef"):
        tf.test.assert_equal_graph_def("x", g1.as_graph_def())


def test_platform_queries_and_temp_dir():
    assert tf.test.is_gpu_available() is False and tf.test.gpu_device_name() == ""
    assert not tf.test.is_built_with_cuda() and not tf.test.is_built_with_gpu_support()
    assert tf.test.get_temp_dir() == tf.test.get_temp_dir()


def test_a_tf1_style_test_class_runs_under_unittest():
    class SquareTest(tf.test.TestCase):
        def testSquare(self):  # noqa: N802 - TF1 test naming
            with self.cached_session():
                x = tf.square([2, 3])
                self.assertAllEqual(x.eval(), [4, 9])

        def testFails(self):  # noqa: N802
            with self.cached_session():
                self.assertAllEqual(tf.square([2]).eval(), [5])

    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(SquareTest).run(result)
    assert result.testsRun == 3 and len(result.failures) == 1 and not result.errors
    assert [test.id().rsplit('.', 1)[1] for test, _ in result.skipped] == ["test_session"]


def test_compute_gradient_densifies_indexed_slices_gradients():
    """tf.gather's gradient is IndexedSlices, repeated rows included: the theoretical Jacobian adds them up."""
    with tf.Graph().as_default(), tf.Session():
        p = tf.placeholder(tf.float64, [4, 2])
        y = tf.gather(p, [0, 2, 2])
        theoretical, numerical = tf.test.compute_gradient(p, [4, 2], y, [3, 2], x_init_value=np.ones((4, 2)))
        assert theoretical.sum(axis=1).tolist() == [1, 1, 0, 0, 2, 2, 0, 0]
        np.testing.assert_allclose(theoretical, numerical, atol=1e-9)
