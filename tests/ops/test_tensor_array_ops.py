"""tf.TensorArray: the TensorArrayV3 ops against NumPy references, inside tf.while_loop, with gradients checked
by finite differences, and TF's errors for misuse."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from gradient_checker import check_gradients

import tfmini as tf


def _run(fetches, feed_dict=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed_dict=feed_dict)


@pytest.fixture(autouse=True)
def _fresh_graph():
    with tf.Graph().as_default():
        yield


# ----------------------------------------------------------------------------------------------------------
# Values
# ----------------------------------------------------------------------------------------------------------
def test_write_read_and_stack_match_the_written_values():
    ta = tf.TensorArray(tf.float32, size=3, clear_after_read=False)
    w = ta.write(0, [1.0, 2.0]).write(1, [3.0, 4.0]).write(2, [5.0, 6.0])
    stacked, one = w.stack(), w.read(1)
    assert stacked.shape.as_list() == [3, 2]
    assert one.shape.as_list() == [2]
    s, r = _run([stacked, one])
    np.testing.assert_array_equal(s, np.array([[1, 2], [3, 4], [5, 6]], np.float32))
    np.testing.assert_array_equal(r, np.array([3, 4], np.float32))
    assert s.dtype == np.float32


def test_unstack_then_read_and_gather_give_rows():
    x = tf.placeholder(tf.float64, [4, 3])
    ta = tf.TensorArray(tf.float64, size=4, clear_after_read=False).unstack(x)
    v = np.arange(12.0).reshape(4, 3)
    r, g, s = _run([ta.read(2), ta.gather([3, 0, 3]), ta.size()], {x: v})
    np.testing.assert_array_equal(r, v[2])
    np.testing.assert_array_equal(g, v[[3, 0, 3]])
    assert s == 4 and s.dtype == np.int32


def test_scatter_writes_rows_at_indices():
    ta = tf.TensorArray(tf.int32, size=4).scatter([3, 1], [[1, 2], [3, 4]]).write(0, [5, 6]).write(2, [7, 8])
    np.testing.assert_array_equal(_run(ta.stack()), [[5, 6], [3, 4], [7, 8], [1, 2]])


def test_gather_mixes_scattered_blocks_and_single_writes():
    v = np.arange(10.0).reshape(5, 2)
    ta = tf.TensorArray(tf.float64, size=8, clear_after_read=False)
    ta = ta.scatter([0, 1, 2], v[:3]).scatter([7, 5], v[3:]).write(3, [-1.0, -2.0]).write(4, [-3.0, -4.0])
    ta = ta.write(6, [9.0, 9.0])
    got = _run([ta.stack(), ta.gather([5, 0, 3, 7, 1])])
    want = np.array([v[0], v[1], v[2], [-1, -2], [-3, -4], v[4], [9, 9], v[3]])
    np.testing.assert_array_equal(got[0], want)
    np.testing.assert_array_equal(got[1], want[[5, 0, 3, 7, 1]])


def test_scatter_onto_written_elements_or_with_repeated_indices_fails():
    ta = tf.TensorArray(tf.float32, size=3).write(1, 1.0)
    _fails(ta.scatter([0, 1], [2.0, 3.0]).flow, "index 1 because it has already been written to")
    _fails(tf.TensorArray(tf.float32, size=3).scatter([2, 2], [2.0, 3.0]).flow,
           "index 2 because it has already been written to")


def test_gathering_a_scattered_block_twice_clears_it_after_the_first():
    ta = tf.TensorArray(tf.float32, size=3).unstack([1.0, 2.0, 3.0])
    first = ta.gather([0, 1])
    with tf.control_dependencies([first]):
        again = ta.gather([1, 2])
    _fails([first, again], "Could not read index 1 twice")
    _fails(ta.gather([2, 2]), "Could not read index 2 twice")


def test_a_dynamic_array_grown_one_write_at_a_time_in_a_loop():
    def body(i, ta):
        return i + 1, ta.write(i, tf.stack([i, i * i]))

    _, ta = tf.while_loop(lambda i, _: i < 1000, body, (0, tf.TensorArray(tf.int32, size=0, dynamic_size=True)))
    got, n = _run([ta.stack(), ta.size()])
    assert n == 1000
    np.testing.assert_array_equal(got, np.stack([np.arange(1000), np.arange(1000) ** 2], axis=1))


def test_split_and_concat_round_trip_with_lengths():
    v = np.arange(12.0, dtype=np.float32).reshape(6, 2)
    value = tf.TensorArray(tf.float32, size=3, infer_shape=False).split(v, [1, 3, 2]).concat()
    piece = tf.TensorArray(tf.float32, size=3, infer_shape=False).split(v, [1, 3, 2]).read(1)
    got, got_piece = _run([value, piece])
    np.testing.assert_array_equal(got, v)
    np.testing.assert_array_equal(got_piece, v[1:4])


def test_concat_returns_lengths_output():
    ta = tf.TensorArray(tf.float32, size=2, infer_shape=False).write(0, [[1.0]]).write(1, [[2.0], [3.0]])
    value = ta.concat()
    lengths = value.op.outputs[1]
    v, n = _run([value, lengths])
    np.testing.assert_array_equal(v, [[1.0], [2.0], [3.0]])
    np.testing.assert_array_equal(n, [1, 2])
    assert n.dtype == np.int64


def test_dynamic_size_grows_on_write_and_unwritten_elements_read_as_zeros():
    ta = tf.TensorArray(tf.float32, size=1, dynamic_size=True, element_shape=[]).write(3, 1.0)
    s, n = _run([ta.stack(), ta.size()])
    np.testing.assert_array_equal(s, [0.0, 0.0, 0.0, 1.0])
    assert n == 4


def test_zero_size_stack_with_a_known_element_shape_is_empty():
    s = _run(tf.TensorArray(tf.float32, size=0, element_shape=[2]).stack())
    assert s.shape == (0, 2) and s.dtype == np.float32


def test_element_shape_is_inferred_from_writes_and_shared_by_later_arrays():
    ta = tf.TensorArray(tf.float32, size=2)
    assert ta.element_shape.ndims is None
    w = ta.write(0, tf.zeros([2, 3]))
    assert ta.element_shape.as_list() == [2, 3]
    assert w.read(1).shape.as_list() == [2, 3]
    with pytest.raises(ValueError, match="Inconsistent shapes"):
        w.write(1, tf.zeros([3]))


def test_names_and_node_types_follow_tensorflow():
    ta = tf.TensorArray(tf.float32, size=2, name="foo")
    assert ta.handle.name == "foo:0" and ta.flow.name == "foo:1"
    assert ta.handle.dtype == tf.resource and ta.flow.dtype == tf.float32
    assert ta.handle.op.type == "TensorArrayV3"
    w = ta.write(0, [1.0])
    assert w.flow.op.name == "TensorArrayWrite/TensorArrayWriteV3"
    assert w.stack().op.name == "TensorArrayStack/TensorArrayGatherV3"
    assert w.read(0).op.type == "TensorArrayReadV3"
    assert ta.unstack([[1.0], [2.0]]).flow.op.name == "TensorArrayUnstack/TensorArrayScatter/TensorArrayScatterV3"
    named = tf.TensorArray(tf.float32, size=1, tensor_array_name="bar")
    assert named.handle.op.get_attr("tensor_array_name") == "bar"
    assert named.handle.op.get_attr("identical_element_shapes") is True


def test_identity_and_close():
    ta = tf.TensorArray(tf.float32, size=1).write(0, 2.0)
    ident = ta.identity()
    assert ident.flow is not ta.flow
    assert _run(ident.read(0)) == 2.0
    closed = ta.close()
    assert closed.type == "TensorArrayCloseV3"
    _run(closed)


# ----------------------------------------------------------------------------------------------------------
# Inside tf.while_loop
# ----------------------------------------------------------------------------------------------------------
def _rnn_like(x, w):
    """h_t = tanh(x_t * w + h_{t-1}) over the rows of x, reading x from one TensorArray and writing h to another
    carried as a loop variable, as dynamic_rnn does."""
    n = tf.shape(x)[0]
    inputs = tf.TensorArray(x.dtype, size=n).unstack(x)
    outputs = tf.TensorArray(x.dtype, size=n)

    def body(t, out, h):
        h = tf.tanh(inputs.read(t) * w + h)
        return t + 1, out.write(t, h), h

    _, out, h = tf.while_loop(lambda t, *_: t < n, body, (0, outputs, tf.zeros_like(w)))
    return out.stack(), h


def _np_rnn_like(x, w):
    h = np.zeros_like(w)
    rows = []
    for row in x:
        h = np.tanh(row * w + h)
        rows.append(h)
    return np.array(rows), h


def test_while_loop_carries_a_tensor_array_and_reads_a_captured_one():
    x = tf.placeholder(tf.float64, [None, 3])
    w = tf.placeholder(tf.float64, [3])
    ys, h = _rnn_like(x, w)
    assert isinstance(ys, tf.Tensor)
    xv, wv = np.random.RandomState(0).randn(5, 3), np.random.RandomState(1).randn(3)
    got_ys, got_h = _run([ys, h], {x: xv, w: wv})
    want_ys, want_h = _np_rnn_like(xv, wv)
    np.testing.assert_allclose(got_ys, want_ys, rtol=1e-12)
    np.testing.assert_allclose(got_h, want_h, rtol=1e-12)


def test_while_loop_returns_tensor_arrays_to_the_caller():
    def body(i, ta):
        return i + 1, ta.write(i, tf.cast(i, tf.float32) * 2.0)

    _, ta = tf.while_loop(lambda i, _: i < 4, body, (0, tf.TensorArray(tf.float32, size=4)))
    assert isinstance(ta, tf.TensorArray)
    np.testing.assert_array_equal(_run(ta.stack()), [0.0, 2.0, 4.0, 6.0])


def test_tensor_array_in_a_loop_with_dynamic_size_and_maximum_iterations():
    def body(i, ta):
        return i + 1, ta.write(i, tf.fill([2], i))

    _, ta = tf.while_loop(lambda i, _: i < 100, body, (0, tf.TensorArray(tf.int32, size=0, dynamic_size=True)),
                          maximum_iterations=3)
    np.testing.assert_array_equal(_run(ta.stack()), [[0, 0], [1, 1], [2, 2]])


def test_shape_invariants_may_name_tensor_array_loop_variables():
    def body(i, ta, acc):
        return i + 1, ta.write(i, acc), tf.concat([acc, [1.0]], 0)[1:]

    _, ta, _ = tf.while_loop(lambda i, *_: i < 3, body, (0, tf.TensorArray(tf.float32, size=3), tf.zeros([2])),
                             shape_invariants=(tf.TensorShape([]), tf.TensorShape(None), tf.TensorShape([None])))
    np.testing.assert_array_equal(_run(ta.stack()), [[0.0, 0.0], [0.0, 1.0], [1.0, 1.0]])


def test_a_loop_body_must_return_its_tensor_array():
    ta = tf.TensorArray(tf.float32, size=2)
    with pytest.raises(ValueError, match="must return the TensorArray it was given"):
        tf.while_loop(lambda i, _: i < 2, lambda i, t: (i + 1, tf.TensorArray(tf.float32, size=2)), (0, ta))
    with pytest.raises(TypeError, match="body returned a Tensor"):
        tf.while_loop(lambda i, _: i < 2, lambda i, t: (i + 1, t.flow), (0, ta))


def test_cond_branches_return_tensor_arrays():
    p = tf.placeholder(tf.bool, [])
    ta = tf.TensorArray(tf.float32, size=1)
    out = tf.cond(p, lambda: ta.write(0, 1.0), lambda: ta.write(0, -1.0))
    assert isinstance(out, tf.TensorArray)
    assert _run(out.read(0), {p: True}) == 1.0
    assert _run(out.read(0), {p: False}) == -1.0


def test_cond_branches_must_return_one_array_made_outside():
    p = tf.placeholder(tf.bool, [])
    ta = tf.TensorArray(tf.float32, size=1)
    with pytest.raises(ValueError, match="it created"):
        tf.cond(p, lambda: tf.TensorArray(tf.float32, size=1).write(0, 1.0),
                lambda: tf.TensorArray(tf.float32, size=1).write(0, 2.0))
    other = tf.TensorArray(tf.float32, size=1)
    with pytest.raises(ValueError, match="must return the same TensorArray"):
        tf.cond(p, lambda: ta.write(0, 1.0), lambda: other.write(0, 2.0))
    with pytest.raises(ValueError, match="must return the same TensorArray"):
        tf.cond(p, lambda: ta.write(0, 1.0), lambda: tf.constant(2.0))


def test_runs_do_not_share_arrays_across_calls_or_threads():
    x = tf.placeholder(tf.float32, [None])
    n = tf.shape(x)[0]
    out = tf.TensorArray(tf.float32, size=n)

    def body(i, ta):
        return i + 1, ta.write(i, x[i] * 2.0)

    _, out = tf.while_loop(lambda i, _: i < n, body, (0, out))
    stacked = out.stack()
    results, errors = {}, []
    with tf.Session() as sess:
        def work(k: int) -> None:
            try:
                for _ in range(20):
                    v = np.full([k + 1], float(k), np.float32)
                    got = sess.run(stacked, {x: v})
                    np.testing.assert_array_equal(got, v * 2.0)
                results[k] = True
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors
    assert len(results) == 4


def test_parallel_engine_runs_tensor_array_loops():
    x = tf.placeholder(tf.float64, [None, 3])
    w = tf.placeholder(tf.float64, [3])
    ys, h = _rnn_like(x, w)
    g = tf.gradients(tf.reduce_sum(ys), w)[0]
    xv, wv = np.random.RandomState(8).randn(6, 3), np.random.RandomState(9).randn(3)
    config = tf.ConfigProto(inter_op_parallelism_threads=2)
    with tf.Session(config=config) as sess:
        parallel = sess.run([ys, h, g], {x: xv, w: wv})
    serial = _run([ys, h, g], {x: xv, w: wv})
    for a, b in zip(parallel, serial):
        np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------------------------------------
# Gradients (finite differences)
# ----------------------------------------------------------------------------------------------------------
def test_gradient_through_writes_in_a_loop_then_stack():
    check_gradients(lambda x, w: _rnn_like(x, w)[0], [np.random.RandomState(2).randn(4, 3),
                                                      np.random.RandomState(3).randn(3)])


def test_gradient_through_unstack_and_reads_in_a_loop_and_the_final_state():
    check_gradients(lambda x, w: _rnn_like(x, w)[1], [np.random.RandomState(4).randn(3, 2),
                                                      np.random.RandomState(5).randn(2)])


def test_gradient_through_write_read_outside_loops():
    def fn(x, y):
        ta = tf.TensorArray(tf.float64, size=2).write(0, x).write(1, y * x)
        return ta.read(0) * ta.read(1)

    check_gradients(fn, [np.array([0.5, -1.5]), np.array([2.0, 0.25])])


def test_gradient_through_gather_and_scatter():
    def fn(x):
        ta = tf.TensorArray(tf.float64, size=4, clear_after_read=False).scatter([2, 0, 3, 1], x)
        return ta.gather([1, 1, 3]) * tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], tf.float64)

    check_gradients(fn, [np.random.RandomState(6).randn(4, 2)])


def test_gradient_through_split_and_concat():
    def fn(x):
        ta = tf.TensorArray(tf.float64, size=3, infer_shape=False).split(x, [2, 1, 3])
        return tf.sin(ta.concat()) * tf.range(6.0, dtype=tf.float64)[:, None]

    check_gradients(fn, [np.random.RandomState(7).randn(6, 2)])


def _dynamic_rnn_like(x, w):
    """The loop of TF's dynamic_rnn: time-major inputs unstacked into a tuple of arrays, a tuple of output
    arrays with a partly known element shape as loop variables, maximum_iterations, and a state."""
    steps = tf.shape(x)[0]
    input_tas = tuple(tf.TensorArray(x.dtype, size=steps, element_shape=x.shape[1:], tensor_array_name=f"input_{i}")
                      .unstack(x) for i in range(1))
    output_tas = tuple(tf.TensorArray(x.dtype, size=steps, element_shape=tf.TensorShape([None, 2]),
                                      tensor_array_name=f"output_{i}") for i in range(2))

    def step(t, outs, state):
        inp = tuple(ta.read(t) for ta in input_tas)[0]
        new_state = tf.tanh(tf.matmul(inp, w) + state)
        outs = tuple(ta.write(t, v) for ta, v in zip(outs, (new_state, new_state * state)))
        return t + 1, outs, new_state

    batch = tf.shape(x)[1]
    init = tf.zeros(tf.stack([batch, 2]), x.dtype)
    _, outs, final = tf.while_loop(lambda t, *_: t < steps, step, (tf.constant(0), output_tas, init),
                                   maximum_iterations=steps)
    return [ta.stack() for ta in outs] + [final]


def test_dynamic_rnn_style_loop_matches_numpy_and_finite_differences():
    xv, wv = np.random.RandomState(12).randn(4, 3, 5), np.random.RandomState(13).randn(5, 2)
    x = tf.placeholder(tf.float64, [None, None, 5])
    w = tf.placeholder(tf.float64, [5, 2])
    a, b, final = _dynamic_rnn_like(x, w)
    assert a.shape.as_list() == [None, None, 2]
    got = _run([a, b, final], {x: xv, w: wv})
    state, want_a, want_b = np.zeros([3, 2]), [], []
    for row in xv:
        new = np.tanh(row @ wv + state)
        want_a.append(new)
        want_b.append(new * state)
        state = new
    np.testing.assert_allclose(got[0], want_a, rtol=1e-12)
    np.testing.assert_allclose(got[1], want_b, rtol=1e-12)
    np.testing.assert_allclose(got[2], state, rtol=1e-12)
    check_gradients(_dynamic_rnn_like, [xv, wv])


def test_gradient_through_a_cond_writing_a_tensor_array_in_a_loop():
    def fn(x):
        n = tf.shape(x)[0]
        inputs = tf.TensorArray(tf.float64, size=n).unstack(x)

        def body(i, ta):
            v = inputs.read(i)
            ta = tf.cond(tf.equal(i % 2, 0), lambda: ta.write(i, v * v), lambda: ta.write(i, tf.sin(v)))
            return i + 1, ta

        _, ta = tf.while_loop(lambda i, _: i < n, body, (0, tf.TensorArray(tf.float64, size=n)))
        return ta.stack()

    check_gradients(fn, [np.random.RandomState(14).randn(5, 2)])


def test_gradients_of_an_element_read_twice_add_up_and_second_derivatives_work_outside_loops():
    x = tf.placeholder(tf.float64, [3])
    ta = tf.TensorArray(tf.float64, size=3, clear_after_read=False).unstack(x)
    y = tf.reduce_sum(ta.stack() ** 3) + ta.read(1) * ta.read(1)
    g = tf.gradients(y, x)[0]
    h = tf.hessians(y, x)[0]
    v = np.array([1.0, 2.0, 3.0])
    got_g, got_h = _run([g, h], {x: v})
    np.testing.assert_allclose(got_g, 3 * v**2 + [0.0, 2 * v[1], 0.0])
    np.testing.assert_allclose(got_h, np.diag(6 * v + [0.0, 2.0, 0.0]))


def test_gradient_of_elements_read_many_times_by_finite_differences():
    def fn(z):
        ta = tf.TensorArray(tf.float64, size=2, clear_after_read=False).unstack(z)
        return ta.read(0) ** 2 * ta.read(1) + tf.sin(ta.read(0)) + ta.gather([1, 0, 1])

    check_gradients(fn, [np.array([[0.5, -1.0], [2.0, 0.25]])])


def test_two_gradient_computations_do_not_share_gradient_arrays():
    x = tf.placeholder(tf.float64, [3])
    ta = tf.TensorArray(tf.float64, size=3).unstack(x)
    y = tf.reduce_sum(ta.stack() ** 2)
    g1 = tf.gradients(y, x)[0]
    g2 = tf.gradients(y * 3.0, x)[0]
    v = np.array([1.0, 2.0, -1.0])
    a, b = _run([g1, g2], {x: v})
    np.testing.assert_allclose(a, 2 * v)
    np.testing.assert_allclose(b, 6 * v)


# ----------------------------------------------------------------------------------------------------------
# Graphs TensorFlow built
# ----------------------------------------------------------------------------------------------------------
_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "tensor_array"


def test_a_tensorflow_graph_of_tensor_array_ops_and_their_gradients_runs_with_tensorflows_values():
    # Recorded by tools/tf_fixtures/gen_tensor_array.py: every TensorArrayV3 op type and TensorArrayGradV3.
    graph_def = tf.GraphDef()
    graph_def.ParseFromString((_FIXTURES / "graph.pb").read_bytes())
    meta = json.loads((_FIXTURES / "fetches.json").read_text())
    want = np.load(_FIXTURES / "values.npz")
    tf.import_graph_def(graph_def, name="")
    got = _run(meta["fetches"], {meta["feed"]: want["x"]})
    assert set(got) == {"read", "gathered", "concat", "split_concat", "split_read", "grown_stack", "grown_size",
                        "grad"}
    for name, value in got.items():
        assert np.asarray(value).dtype == want[name].dtype, name
        np.testing.assert_allclose(value, want[name], rtol=1e-6, err_msg=name)


def test_graph_def_round_trip_of_a_loop_over_tensor_arrays():
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    n = tf.shape(x)[0]
    inputs = tf.TensorArray(tf.float32, size=n).unstack(x)

    def body(i, ta):
        return i + 1, ta.write(i, inputs.read(i) * 2.0)

    _, out = tf.while_loop(lambda i, _: i < n, body, (0, tf.TensorArray(tf.float32, size=n, element_shape=[2])))
    tf.identity(out.stack(), name="y")
    graph_def = tf.get_default_graph().as_graph_def()
    with tf.Graph().as_default():
        tf.import_graph_def(graph_def, name="")
        got = _run("y:0", {"x:0": np.arange(6.0).reshape(3, 2)})
    np.testing.assert_array_equal(got, np.arange(6.0).reshape(3, 2) * 2)


# ----------------------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------------------
def _fails(fetch, match: str, error=tf.errors.InvalidArgumentError, feed_dict=None) -> None:
    with tf.Session() as sess:
        with pytest.raises(error, match=match):
            sess.run(fetch, feed_dict=feed_dict)
        # the session stays usable
        assert sess.run(tf.constant(1.0) + 1.0) == 2.0


def test_reading_an_unwritten_element_of_unknown_shape_fails():
    ta = tf.TensorArray(tf.float32, size=2, infer_shape=False).write(0, [1.0])
    _fails(ta.gather([1]), "has not yet been written to")


def test_writing_an_element_twice_fails():
    _fails(tf.TensorArray(tf.float32, size=2).write(0, 1.0).write(0, 2.0).flow, "already been written to")


def test_writing_out_of_range_without_dynamic_size_fails():
    _fails(tf.TensorArray(tf.float32, size=3).write(5, 1.0).flow,
           "Tried to write to index 5 but array is not resizeable and size is: 3")
    _fails(tf.TensorArray(tf.float32, size=1).write(-1, 1.0).flow, "Tried to write to index -1")


def test_reading_out_of_range_fails():
    _fails(tf.TensorArray(tf.float32, size=1).write(0, 1.0).read(-1), "Tried to read from index -1 but array size")


def test_reading_a_cleared_element_fails():
    ta = tf.TensorArray(tf.float32, size=1).write(0, 1.0)
    first = ta.read(0)
    with tf.control_dependencies([first]):
        second = ta.read(0)
    _fails([first, second], "cleared after a previous read")


def test_size_mismatches_in_unstack_scatter_and_split_fail():
    _fails(tf.TensorArray(tf.float32, size=3).unstack([1.0, 2.0, 3.0, 4.0]).flow,
           r"Max scatter index must be < array size \(3 vs. 3\)")
    with pytest.raises(ValueError, match="Dimensions must be equal"):
        tf.TensorArray(tf.float32, size=3).scatter([0, 1], [1.0, 2.0, 3.0])
    idx = tf.placeholder(tf.int32, [None])
    _fails(tf.TensorArray(tf.float32, size=3).scatter(idx, [1.0, 2.0, 3.0]).flow,
           r"Expected len\(indices\) == values.shape\[0\], but saw: 2 vs. 3", feed_dict={idx: [0, 1]})
    _fails(tf.TensorArray(tf.float32, size=3).split([1.0, 2.0, 3.0], [1, 1]).flow,
           "Expected sum of lengths to be equal to values.shape")
    _fails(tf.TensorArray(tf.float32, size=3, infer_shape=False).split([1.0, 2.0, 3.0], [2, 1]).flow,
           r"size of lengths \(2 vs. 3\)")


def test_dtype_mismatch_fails_when_run():
    _fails(tf.TensorArray(tf.float32, size=1).write(0, tf.constant(1)).flow,
           "TensorArray dtype is float but Op is trying to write dtype int32")


def test_element_shape_mismatch_fails_when_run():
    v = tf.placeholder(tf.float32, [None])
    _fails(tf.TensorArray(tf.float32, size=2, element_shape=[2]).write(0, v).flow,
           "incompatible with the TensorArray's inferred element shape: \\[2\\]", feed_dict={v: [1.0, 2.0, 3.0]})
    a, b = tf.placeholder(tf.float32, [None]), tf.placeholder(tf.float32, [None])
    _fails(tf.TensorArray(tf.float32, size=2).write(0, a).write(1, b).flow, "inferred element shape: \\[3\\]",
           feed_dict={a: [1.0, 2.0, 3.0], b: [1.0, 2.0]})


def test_stack_of_inconsistent_shapes_and_concat_of_scalars_fail():
    a, b = tf.placeholder(tf.float32, [None]), tf.placeholder(tf.float32, [None])
    ta = tf.TensorArray(tf.float32, size=2, infer_shape=False).write(0, a).write(1, b)
    _fails(ta.stack(), "inconsistent shapes", feed_dict={a: [1.0], b: [1.0, 2.0]})
    _fails(tf.TensorArray(tf.float32, size=2, infer_shape=False).write(0, 1.0).write(1, 2.0).concat(),
           "Concat saw a scalar shape at index 0")


def test_zero_size_stack_of_unknown_element_shape_is_unimplemented():
    _fails(tf.TensorArray(tf.float32, size=0).stack(), "not fully defined", error=tf.errors.UnimplementedError)


def test_using_a_closed_array_fails():
    ta = tf.TensorArray(tf.float32, size=1)
    close = ta.close()
    with tf.control_dependencies([close]):
        w = ta.write(0, 1.0)
    _fails(w.flow, "has already been closed")


def test_constructor_argument_errors():
    ta = tf.TensorArray(tf.float32, size=1)
    with pytest.raises(ValueError, match="both handle and tensor_array_name"):
        tf.TensorArray(tf.float32, handle=ta.handle, flow=ta.flow, tensor_array_name="x")
    with pytest.raises(ValueError, match="both a handle and size"):
        tf.TensorArray(tf.float32, size=1, handle=ta.handle, flow=ta.flow)
    with pytest.raises(TypeError, match="Handle must be a Tensor"):
        tf.TensorArray(tf.float32, handle="x")
    with pytest.raises(ValueError, match="flow must be None if handle is None"):
        tf.TensorArray(tf.float32, size=1, flow=ta.flow)
