"""tf.ConditionalAccumulator and the accumulator ops (Ref(string) and resource forms): the runs TensorFlow
recorded (means, sums, stale gradients dropped by global step, shape errors), takes that wait for enough
gradients and honour the run's deadline and the session's close, shared accumulators, and the build-time
errors, against NumPy and tools/tf_fixtures/gen_sync_replicas.py's recordings."""

from __future__ import annotations

import json
import os
import threading
import time

import numpy as np
import pytest

import tfmini as tf
from tfmini.framework import errors
from tfmini.framework.registry import apply_op

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf", "sync_replicas")
with open(os.path.join(FIXTURES, "accumulator.json")) as _f:
    RECORDED = json.load(_f)


def _run_later(fn, delay: float = 0.1) -> threading.Thread:
    def target():
        time.sleep(delay)
        fn()

    t = threading.Thread(target=target, daemon=True)
    t.start()
    return t


@pytest.mark.parametrize("name", sorted(RECORDED["programs"]))
def test_recorded_accumulator_programs_give_tensorflows_results(name):
    program = RECORDED["programs"][name]
    with tf.Graph().as_default() as graph:
        namespace = {"tf": tf}
        exec(program["source"], namespace)  # noqa: S102 - the program TensorFlow ran
        assert [[op.name, op.type] for op in graph.get_operations()] == program["ops"]
        with tf.Session() as sess:
            for (fetch, feeds), want in zip(program["runs"], program["results"]):
                feed_dict = {namespace[k]: v for k, v in feeds.items()}
                if "error" in want:
                    with pytest.raises(getattr(errors, want["error"])) as info:
                        sess.run(namespace[fetch], feed_dict=feed_dict)
                    assert info.value.message.startswith(want["message"].split(" with these attrs")[0]), \
                        (fetch, feeds)
                    continue
                got = sess.run(namespace[fetch], feed_dict=feed_dict)
                if want["value"] is None:
                    assert got is None
                else:
                    assert np.asarray(got).dtype.name == want["dtype"]
                    np.testing.assert_array_equal(got, np.array(want["value"], want["dtype"]))


@pytest.mark.parametrize("case", sorted(RECORDED["static_errors"]))
def test_build_time_errors_are_tensorflows(case):
    want = RECORDED["static_errors"][case]
    with tf.Graph().as_default():
        with pytest.raises((ValueError, TypeError)) as info:
            exec(want["source"], {"tf": tf})  # noqa: S102 - the case TensorFlow ran
    assert type(info.value).__name__ == want["error"]
    if case in ("apply_wrong_shape", "bad_reduction"):  # (tfmini adds where the op was being created)
        assert str(info.value).startswith(want["message"])


def test_mean_of_many_gradients_against_numpy_and_the_fed_arrays_stay_untouched():
    rng = np.random.default_rng(3)
    grads = [rng.standard_normal((3, 4)).astype(np.float32) for _ in range(5)]
    copies = [g.copy() for g in grads]
    with tf.Graph().as_default():
        acc = tf.ConditionalAccumulator(tf.float32, shape=[3, 4])
        g = tf.placeholder(tf.float32, [3, 4])
        apply = acc.apply_grad(g)
        take = acc.take_grad(5)
        assert take.shape.as_list() == [3, 4] and take.dtype == tf.float32
        with tf.Session() as sess:
            for grad in grads:
                sess.run(apply, {g: grad})
            np.testing.assert_allclose(sess.run(take), np.mean(grads, axis=0), rtol=1e-6)
    for grad, copy in zip(grads, copies):
        np.testing.assert_array_equal(grad, copy)


def test_take_waits_for_the_gradients_from_other_threads():
    with tf.Graph().as_default():
        acc = tf.ConditionalAccumulator(tf.float64, shape=[2], reduction_type="SUM")
        g = tf.placeholder(tf.float64, [2])
        apply = acc.apply_grad(g)
        take = acc.take_grad(3)
        with tf.Session() as sess:
            def apply_three():
                for i in range(3):
                    time.sleep(0.02)
                    sess.run(apply, {g: [i, 2.0 * i]})

            started = time.perf_counter()
            worker = _run_later(apply_three, 0.05)
            np.testing.assert_array_equal(sess.run(take), [3.0, 6.0])
            assert time.perf_counter() - started >= 0.1
            worker.join()
            assert sess.run(acc.num_accumulated()) == 0


def test_take_honours_the_run_deadline_and_the_session_stays_usable():
    with tf.Graph().as_default():
        acc = tf.ConditionalAccumulator(tf.float32, shape=[])
        apply = acc.apply_grad(1.5)
        take = acc.take_grad(2)
        with tf.Session() as sess:
            sess.run(apply)
            with pytest.raises(errors.DeadlineExceededError):
                sess.run(take, options=tf.RunOptions(timeout_in_ms=60))
            assert sess.run(acc.num_accumulated()) == 1  # a timed-out take leaves the aggregate alone
            sess.run(apply)
            assert sess.run(take) == 1.5


def test_a_waiting_take_is_cancelled_when_the_session_closes():
    with tf.Graph().as_default():
        acc = tf.ConditionalAccumulator(tf.float32, shape=[2])
        take = acc.take_grad(1)
        sess = tf.Session()
        sess.run(acc.num_accumulated())  # creates the accumulator
        caught = []

        def take_in_thread():
            try:
                sess.run(take)
            except errors.CancelledError as e:
                caught.append(e)

        t = threading.Thread(target=take_in_thread)
        t.start()
        time.sleep(0.1)
        sess.close()
        t.join(5)
        assert not t.is_alive() and caught and "TakeGrad operation was cancelled" in caught[0].message


def test_takes_are_served_in_arrival_order():
    with tf.Graph().as_default():
        acc = tf.ConditionalAccumulator(tf.float32, shape=[], reduction_type="SUM")
        g = tf.placeholder(tf.float32, [])
        step = tf.placeholder(tf.int64, [])
        apply = acc.apply_grad(g, local_step=step)
        take_two, take_one = acc.take_grad(2), acc.take_grad(1)
        with tf.Session() as sess:
            results = {}
            first = threading.Thread(target=lambda: results.setdefault("two", sess.run(take_two)))
            first.start()
            time.sleep(0.05)
            second = threading.Thread(target=lambda: results.setdefault("one", sess.run(take_one)))
            second.start()
            time.sleep(0.05)
            sess.run(apply, {g: 1.0, step: 0})
            time.sleep(0.1)
            assert not results  # the take of one waits behind the older take of two
            sess.run(apply, {g: 2.0, step: 0})
            first.join(5)
            assert results == {"two": 3.0}
            sess.run(apply, {g: 5.0, step: 1})  # the first take moved the global step to 1
            second.join(5)
            assert results == {"two": 3.0, "one": 5.0}


def test_stale_gradients_are_dropped_by_global_step():
    with tf.Graph().as_default():
        acc = tf.ConditionalAccumulator(tf.float32, shape=[2])
        g = tf.placeholder(tf.float32, [2])
        step = tf.placeholder(tf.int64, [])
        apply = acc.apply_grad(g, local_step=step)
        set_step = acc.set_global_step(step)
        take = acc.take_grad(1)
        with tf.Session() as sess:
            sess.run(set_step, {step: 5})
            sess.run(apply, {g: [1.0, 1.0], step: 4})
            assert sess.run(acc.num_accumulated()) == 0
            sess.run(apply, {g: [2.0, 4.0], step: 5})
            sess.run(apply, {g: [4.0, 0.0], step: 7})
            np.testing.assert_array_equal(sess.run(take), [3.0, 2.0])
            sess.run(apply, {g: [1.0, 1.0], step: 5})  # the take moved the global step to 6
            assert sess.run(acc.num_accumulated()) == 0
            sess.run(set_step, {step: 2})  # a smaller global step is accepted
            sess.run(apply, {g: [1.0, 1.0], step: 2})
            assert sess.run(acc.num_accumulated()) == 1


def test_ref_handle_ops_compute_like_the_resource_ones():
    with tf.Graph().as_default():
        handle = apply_op("ConditionalAccumulator", [], {"dtype": tf.float32, "shape": tf.TensorShape([2]),
                                                        "reduction_type": "MEAN"}, name="ref_acc").outputs[0]
        assert handle.dtype == tf.string._as_ref and handle.shape.as_list() == [2]
        acc = tf.ConditionalAccumulatorBase(tf.float32, [2], handle)
        assert acc.name == "ref_acc" and acc.accumulator_ref is handle and acc.dtype == tf.float32
        step = tf.constant(0, tf.int64)
        apply_a = apply_op("AccumulatorApplyGradient", [handle, step, tf.constant([1.0, 3.0])])
        apply_b = apply_op("AccumulatorApplyGradient", [handle, step, tf.constant([2.0, 5.0])])
        take = apply_op("AccumulatorTakeGradient", [handle, 2], {"dtype": tf.float32}).outputs[0]
        count = acc.num_accumulated()
        assert count.op.type == "AccumulatorNumAccumulated" and count.op.name == "ref_acc_NumAccumulated"
        assert acc.set_global_step(3).type == "AccumulatorSetGlobalStep"
        with tf.Session() as sess:
            sess.run([apply_a, apply_b])
            assert sess.run(count) == 2
            np.testing.assert_array_equal(sess.run(take), [1.5, 4.0])
            handle_value = sess.run(handle)
            assert handle_value.shape == (2,) and handle_value[0] == b""
            assert handle_value[1].startswith(b"_") and handle_value[1].endswith(b"_ref_acc")


def test_shared_name_makes_one_accumulator_and_sessions_stay_separate():
    with tf.Graph().as_default():
        first = tf.ConditionalAccumulator(tf.float32, shape=[1], shared_name="grads", name="a")
        second = tf.ConditionalAccumulator(tf.float32, shape=[1], shared_name="grads", name="b")
        other = tf.ConditionalAccumulator(tf.float32, shape=[1], name="c")
        clash = tf.ConditionalAccumulator(tf.float64, shape=[1], shared_name="grads", name="d")
        with tf.Session() as sess, tf.Session() as sess2:
            sess.run(first.apply_grad([1.0]))
            assert sess.run([first.num_accumulated(), second.num_accumulated(), other.num_accumulated()]) == [1, 1, 0]
            np.testing.assert_array_equal(sess.run(second.take_grad(1)), [1.0])
            assert sess2.run(first.num_accumulated()) == 0
            with pytest.raises(errors.InvalidArgumentError, match="Shared accumulator 'grads'"):
                sess.run(clash.num_accumulated())


def test_bad_run_time_inputs_raise_invalid_argument_naming_the_op():
    with tf.Graph().as_default():
        acc = tf.ConditionalAccumulator(tf.float32, shape=[2])
        g = tf.placeholder(tf.float32)
        steps = tf.placeholder(tf.int64)
        n = tf.placeholder(tf.int32)
        apply = acc.apply_grad(g, local_step=steps, name="apply_me")
        take = acc.take_grad(n, name="take_me")
        with tf.Session() as sess:
            with pytest.raises(errors.InvalidArgumentError, match="Argument local_step must be scalar") as info:
                sess.run(apply, {g: [1.0, 2.0], steps: [0]})
            assert info.value.op.name == "apply_me"
            with pytest.raises(errors.InvalidArgumentError, match="Argument num_required must be scalar"):
                sess.run(take, {n: [1]})
            with pytest.raises(errors.InvalidArgumentError, match=r"Shape mismatch: expected \[2\], got \[3\]"):
                sess.run(apply, {g: [1.0, 2.0, 3.0], steps: 0})
            with pytest.raises(errors.InvalidArgumentError, match="must be positive, but was -1"):
                sess.run(take, {n: -1})
            sess.run(apply, {g: [1.0, 2.0], steps: 0})
            np.testing.assert_array_equal(sess.run(take, {n: 1}), [1.0, 2.0])


def test_unknown_shape_takes_the_first_gradients_shape_and_int_dtypes_have_no_kernel():
    with tf.Graph().as_default():
        acc = tf.ConditionalAccumulator(tf.float64)
        g = tf.placeholder(tf.float64)
        apply = acc.apply_grad(g)
        take = acc.take_grad(2)
        assert take.shape.ndims is None
        ints = tf.ConditionalAccumulator(tf.int64, shape=[])
        with tf.Session() as sess:
            sess.run(apply, {g: np.ones((2, 3))})
            with pytest.raises(errors.InvalidArgumentError, match=r"expected \[2,3\], got \[3,2\]"):
                sess.run(apply, {g: np.ones((3, 2))})
            sess.run(apply, {g: np.full((2, 3), 3.0)})
            np.testing.assert_array_equal(sess.run(take), np.full((2, 3), 2.0))
            sess.run(apply, {g: np.ones(4)})  # stale: the take advanced the global step to 1
            with pytest.raises(errors.InvalidArgumentError, match="No OpKernel was registered"):
                sess.run(ints.num_accumulated())


def test_sparse_rows_repeated_in_one_gradient_add_up_and_count_once():
    """As TF's sparse accumulator aggregates: a row's mean is over the gradients that hold it, and a gradient
    naming a row twice gives it the sum of both slices (SyncReplicasOptimizer's embedding gradients do)."""
    with tf.Graph().as_default():
        acc = tf.sparse.SparseConditionalAccumulator(tf.float32, shape=())
        first = acc.apply_grad([0, 2, 0], [[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]], grad_shape=[3, 2])
        second = acc.apply_grad([2, 1], [[4.0, 4.0], [5.0, 5.0]], grad_shape=[3, 2])
        indices, values, shape = acc.take_grad(2)
        with tf.Session() as sess:
            sess.run([first])
            sess.run([second])
            got = sess.run([indices, values, shape])
    np.testing.assert_array_equal(got[0], [0, 1, 2])
    np.testing.assert_array_equal(got[1], [[4.0, 4.0], [5.0, 5.0], [3.0, 3.0]])
    np.testing.assert_array_equal(got[2], [-1, 2])  # a first dim the accumulator's shape does not give is -1
