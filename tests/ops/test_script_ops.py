"""tf.py_func, tf.numpy_function and tf.py_function (PyFunc, PyFuncStateless, EagerPyFunc) and tf.timestamp:
values, dtypes and strings, TF's run-time errors (messages recorded from TensorFlow in
tests/fixtures/tf/misc_core/py_func.json), the token registry and GraphDef round trips, folding of stateless
functions and gradients given with gradient_override_map."""

from __future__ import annotations

import gc
import json
import re
import time
from pathlib import Path

import numpy as np
import pytest

import tfmini as tf
from tfmini.framework import errors

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "misc_core"
MESSAGES = json.loads((FIXTURES / "py_func.json").read_text(encoding="utf-8"))


def _run(fetches, feed_dict=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed_dict)


def test_py_func_computes_on_numpy_values_of_its_inputs():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [3])
        y = tf.py_func(lambda a, b: a * b, [x, tf.constant(2.0)], tf.float32)
        assert y.dtype == tf.float32 and y.shape.ndims is None
        assert y.op.type == "PyFunc"
        np.testing.assert_array_equal(_run(y, {x: [1, 2, 3]}), np.float32([2, 4, 6]))


def test_a_list_of_tout_gives_a_list_and_an_empty_list_gives_the_operation():
    with tf.Graph().as_default():
        calls = []
        outs = tf.py_func(lambda a: (a, a.astype(np.int32) * 2), [tf.constant([1.0, 2.0])], [tf.float32, tf.int32])
        assert isinstance(outs, list) and [t.dtype for t in outs] == [tf.float32, tf.int32]
        op = tf.py_func(lambda: calls.append(1), [], [])
        assert isinstance(op, tf.Operation)
        a, b = _run(outs)
        np.testing.assert_array_equal(b, np.int32([2, 4]))
        _run(op)
        assert calls == [1]


def test_strings_pass_in_as_bytes_and_str_results_come_out_as_utf8_bytes():
    with tf.Graph().as_default():
        s = tf.constant(["ab", "c"])
        upper = tf.py_func(lambda a: np.array([v.upper() for v in a], dtype=object), [s], tf.string)
        text = tf.py_func(lambda a: "h\u00e9llo", [s], tf.string)
        raw = tf.py_func(lambda a: b"raw", [s], tf.string)
        u, t, r = _run([upper, text, raw])
        assert u.tolist() == [b"AB", b"C"]
        assert t == "h\u00e9llo".encode()
        assert r == b"raw"


def test_the_function_gets_writable_copies_and_feeds_stay_untouched():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [2])

        def bump(a):
            a += 1
            return a

        y = tf.py_func(bump, [x], tf.float32)
        fed = np.float32([1, 2])
        np.testing.assert_array_equal(_run(y, {x: fed}), [2, 3])
        np.testing.assert_array_equal(fed, [1, 2])


@pytest.mark.parametrize("case, func, error", [
    ("wrong_dtype", lambda a: a.astype(np.float64), errors.InvalidArgumentError),
    ("wrong_count", lambda a: (a, a), errors.InvalidArgumentError),
    ("raises", lambda a: 1 / 0, errors.UnknownError),
    ("stops", lambda a: next(iter([])), errors.OutOfRangeError),
    ("bad_value", lambda a: int("q"), errors.InvalidArgumentError),
])
def test_run_time_errors_are_tfs_naming_the_op_and_the_session_stays_usable(case, func, error):
    recorded = MESSAGES[case]
    assert recorded["error"] == error.__name__
    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0])
        y = tf.py_func(func, [x], tf.float32, name="user_fn")
        token = y.op.get_attr("token")
        token = token.decode() if isinstance(token, bytes) else token
        with tf.Session() as sess:
            with pytest.raises(error) as info:
                sess.run(y)
            expected = re.sub(r"pyfunc_\d+", token, recorded["message"])
            assert expected in info.value.message.replace("StopIteration: ", "StopIteration:")
            assert "user_fn" in info.value.message
            np.testing.assert_array_equal(sess.run(x * 2), [2, 4])


def test_a_float_result_for_a_float32_output_is_refused_as_tf_does():
    with tf.Graph().as_default():
        y = tf.py_func(lambda: 1.5, [], tf.float32)
        with pytest.raises(errors.InvalidArgumentError, match="is double, but expects float"):
            _run(y)


def test_an_imported_graph_has_no_function_under_the_token_once_its_maker_is_gone():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [2], name="x")
        tf.py_func(lambda a: a + 1, [x], tf.float32, name="f")
        graph_def = g.as_graph_def()
    del g, x
    gc.collect()
    node = next(n for n in graph_def.node if n.name == "f")
    assert node.op == "PyFunc" and node.attr["token"].s.startswith(b"pyfunc_")
    with tf.Graph().as_default():
        tf.import_graph_def(graph_def, name="")
        with tf.Session() as sess, pytest.raises(errors.InvalidArgumentError, match="callback pyfunc_.* is not found"):
            sess.run("f:0", {"x:0": [1, 2]})


def test_stateful_functions_run_every_time_and_stateless_ones_may_be_folded():
    counter = {"stateful": 0, "stateless": 0}

    def count(key):
        def f(a):
            counter[key] += 1
            return a
        return f

    with tf.Graph().as_default():
        c = tf.constant(1.0)
        stateful = tf.py_func(count("stateful"), [c], tf.float32)
        stateless = tf.py_func(count("stateless"), [c], tf.float32, stateful=False)
        assert stateless.op.type == "PyFuncStateless" and stateful.op.type == "PyFunc"
        with tf.Session() as sess:
            for _ in range(3):
                sess.run([stateful, stateless])
        assert counter["stateful"] == 3
        assert counter["stateless"] == 1  # constant input: computed once when the plan was compiled


def test_py_func_has_no_gradient_unless_overridden():
    with tf.Graph().as_default() as g:
        x = tf.constant([1.0, 2.0, 3.0])
        y = tf.py_func(np.square, [x], tf.float32)
        assert tf.gradients(y, x) == [None]

        @tf.RegisterGradient("MiscCoreSquareGrad")
        def _square_grad(op, dy):
            return [dy * 2.0 * op.inputs[0]]

        with g.gradient_override_map({"PyFunc": "MiscCoreSquareGrad"}):
            z = tf.py_func(np.square, [x], tf.float32)
        assert z.op.get_attr("_gradient_op_type") in ("MiscCoreSquareGrad", b"MiscCoreSquareGrad")
        grad = tf.gradients(tf.reduce_sum(z), x)[0]
        np.testing.assert_allclose(_run(grad), [2, 4, 6])


def test_gradient_override_map_wants_a_dict_of_strings():
    g = tf.Graph()
    with pytest.raises(TypeError):
        with g.gradient_override_map({"PyFunc": 3}):
            pass
    with pytest.raises(TypeError):
        with g.gradient_override_map([("PyFunc", "x")]):
            pass


def test_numpy_function_is_py_func_and_works_as_a_decorator():
    with tf.Graph().as_default():
        x = tf.constant([1, 2], tf.int64)
        y = tf.numpy_function(lambda a: a * 3, [x], tf.int64)

        @tf.numpy_function(Tout=tf.int64)
        def add_one(a):
            return a + 1

        z = add_one(x)
        assert y.op.type == "PyFunc" and z.op.type == "PyFunc"
        np.testing.assert_array_equal(_run(y), [3, 6])
        np.testing.assert_array_equal(_run(z), [2, 3])


def test_py_function_hands_eager_like_values_and_converts_results_to_tout():
    seen = {}

    def f(a, s):
        seen["dtype"], seen["shape"] = a.dtype, a.shape.as_list()
        return a.numpy().sum() * 0.5, [v.upper() for v in s.numpy()]

    with tf.Graph().as_default():
        x = tf.constant([[1, 2], [3, 4]], tf.int32)
        y, t = tf.py_function(f, [x, tf.constant(["a", "b"])], [tf.float32, tf.string])
        assert y.op.type == "EagerPyFunc"
        value, text = _run([y, t])
        assert value.dtype == np.float32 and value == 5.0
        assert text.tolist() == [b"A", b"B"]
        assert seen == {"dtype": tf.int32, "shape": [2, 2]}


def test_py_function_refuses_a_float_for_an_integer_output():
    with tf.Graph().as_default():
        y = tf.py_function(lambda: 1.5, [], tf.int32)
        with pytest.raises(errors.InvalidArgumentError, match="0-th value returned by pyfunc_.* is double"):
            _run(y)


def test_a_function_inside_a_while_loop_body_runs_each_iteration():
    with tf.Graph().as_default():
        def body(i, acc):
            step = tf.py_func(lambda v: (v * 2).astype(np.int32), [i], tf.int32)
            step.set_shape([])
            return i + 1, acc + step

        _, total = tf.while_loop(lambda i, acc: i < 4, body, [tf.constant(0), tf.constant(0)])
        assert _run(total) == 12


def test_timestamp_is_a_float64_that_is_never_folded():
    with tf.Graph().as_default():
        ts = tf.timestamp()
        assert ts.dtype == tf.float64 and ts.shape == []
        assert ts.op.type == "Timestamp"
        before = time.time()
        with tf.Session() as sess:
            first = sess.run(ts)
            time.sleep(0.01)
            second = sess.run(ts)
        assert before <= first < second <= time.time()


def test_py_function_scalars_are_numpy_scalars_and_work_in_dataset_map():
    with tf.Graph().as_default():
        words = tf.data.Dataset.from_tensor_slices(["ab", "c"]).map(
            lambda s: tf.py_function(lambda v: v.numpy().upper(), [s], tf.string))
        numbers = tf.data.Dataset.range(3).map(lambda x: tf.py_func(lambda v: v * 10, [x], tf.int64))
        same = tf.py_function(lambda v: v, [tf.constant(1.5, tf.float64)], tf.float32)
        next_word = tf.data.make_one_shot_iterator(words).get_next()
        next_number = tf.data.make_one_shot_iterator(numbers).get_next()
        with tf.Session() as sess:
            assert [sess.run(next_word) for _ in range(2)] == [b"AB", b"C"]
            assert [sess.run(next_number) for _ in range(3)] == [0, 10, 20]
            with pytest.raises(errors.InvalidArgumentError, match="is double, but expects float"):
                sess.run(same)


def test_py_function_values_take_python_operators_as_eager_tensors_do():
    seen = {}

    def f(a, b):
        doubled, mask = a * 2 + b, -a > -2.5
        seen["types"] = (type(doubled).__name__, doubled.dtype, mask.dtype, (a ** 2).numpy().tolist())
        return doubled, mask

    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0, 3.0])
        y, m = tf.py_function(f, [x, tf.constant(0.5)], [tf.float32, tf.bool])
        value, mask = _run([y, m])
    assert value.dtype == np.float32 and value.tolist() == [2.5, 4.5, 6.5]
    assert mask.tolist() == [True, True, False]
    assert seen["types"] == ("EagerValue", tf.float32, tf.bool, [1.0, 4.0, 9.0])
