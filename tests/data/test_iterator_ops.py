"""tf.data iterators: one-shot, initializable (placeholders in the pipeline), reinitializable
(Iterator.from_structure + make_initializer) and feedable (string handles) iterators; OutOfRangeError at the
end with the session still usable; iterator state per session; TF's errors."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import tfmini as tf


def test_one_shot_iterator_ends_with_out_of_range_and_the_session_stays_usable():
    nxt = tf.data.Dataset.range(3).make_one_shot_iterator().get_next()
    c = tf.constant(5)
    with tf.Session() as sess:
        assert [sess.run(nxt) for _ in range(3)] == [0, 1, 2]
        with pytest.raises(tf.errors.OutOfRangeError, match="End of sequence"):
            sess.run(nxt)
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(nxt)
        assert sess.run(c) == 5


def test_one_shot_iterator_state_is_per_session():
    nxt = tf.data.Dataset.range(5).make_one_shot_iterator().get_next()
    s1, s2 = tf.Session(), tf.Session()
    try:
        assert [s1.run(nxt), s1.run(nxt)] == [0, 1]
        assert s2.run(nxt) == 0
        assert s1.run(nxt) == 2
    finally:
        s1.close()
        s2.close()


def test_one_shot_iterator_refuses_placeholders_and_variables():
    x = tf.placeholder(tf.int64, [None])
    with pytest.raises(ValueError, match="Cannot capture a placeholder"):
        tf.data.Dataset.from_tensor_slices(x).make_one_shot_iterator()
    v = tf.Variable(2.0)
    with pytest.raises(ValueError, match="Cannot capture a stateful node"):
        tf.data.Dataset.range(3).map(lambda i: tf.cast(i, tf.float32) * v).make_one_shot_iterator()


def test_compat_v1_functions_make_iterators():
    ds = tf.data.Dataset.from_tensor_slices(np.array([1.5, 2.5], np.float32))
    it = tf.compat.v1.data.make_one_shot_iterator(ds)
    assert tf.data.get_output_types(it) == tf.float32
    assert tf.data.get_output_shapes(ds).as_list() == []
    assert tf.data.get_output_classes(ds) is tf.Tensor
    init_it = tf.compat.v1.data.make_initializable_iterator(ds)
    with tf.Session() as sess:
        assert sess.run(it.get_next()) == 1.5
        sess.run(init_it.initializer)
        assert sess.run(init_it.get_next()) == 1.5


def test_initializable_iterator_with_placeholders_restarts_with_new_feeds():
    data = tf.placeholder(tf.float32, [None, 2])
    scale = tf.placeholder(tf.float32, [])
    it = tf.data.Dataset.from_tensor_slices(data).map(lambda row: row * scale).batch(2) \
        .make_initializable_iterator()
    nxt = it.get_next()
    assert nxt.shape.as_list() == [None, 2]
    a = np.arange(6, dtype=np.float32).reshape(3, 2)
    with tf.Session() as sess:
        sess.run(it.initializer, {data: a, scale: 2.0})
        np.testing.assert_array_equal(sess.run(nxt), a[:2] * 2)
        sess.run(it.initializer, {data: a[::-1], scale: -1.0})
        np.testing.assert_array_equal(sess.run(nxt), -a[::-1][:2])
        np.testing.assert_array_equal(sess.run(nxt), -a[:1])
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(nxt)
        sess.run(it.initializer, {data: a, scale: 1.0})
        np.testing.assert_array_equal(sess.run(nxt), a[:2])


def test_get_next_before_initialization_is_failed_precondition():
    it = tf.data.Dataset.range(3).make_initializable_iterator()
    with tf.Session() as sess, pytest.raises(tf.errors.FailedPreconditionError, match="not been initialized"):
        sess.run(it.get_next())


def test_reinitializable_iterator_switches_datasets():
    train = tf.data.Dataset.range(10).map(lambda x: x * 2)
    valid = tf.data.Dataset.range(3)
    it = tf.data.Iterator.from_structure(train.output_types, train.output_shapes)
    nxt = it.get_next()
    train_init, valid_init = it.make_initializer(train), it.make_initializer(valid)
    with tf.Session() as sess:
        sess.run(train_init)
        assert [sess.run(nxt) for _ in range(3)] == [0, 2, 4]
        sess.run(valid_init)
        assert [sess.run(nxt) for _ in range(3)] == [0, 1, 2]
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(nxt)
        sess.run(train_init)
        assert sess.run(nxt) == 0
    with pytest.raises(ValueError, match="does not have an initializer"):
        _ = it.initializer


def test_make_initializer_checks_types_and_shapes():
    it = tf.data.Iterator.from_structure((tf.int64, tf.float32), (tf.TensorShape([]), tf.TensorShape([2])))
    assert it.output_types == (tf.int64, tf.float32)
    with pytest.raises(TypeError, match="Expected output types"):
        it.make_initializer(tf.data.Dataset.range(3))
    bad_shape = tf.data.Dataset.zip((tf.data.Dataset.range(3),
                                     tf.data.Dataset.from_tensors(np.zeros(3, np.float32))))
    with pytest.raises(TypeError, match="Expected output shapes compatible"):
        it.make_initializer(bad_shape)


def test_feedable_iterator_reads_the_iterator_whose_handle_is_fed():
    train = tf.data.Dataset.range(100).repeat()
    valid = tf.data.Dataset.range(1000, 1003)
    handle = tf.placeholder(tf.string, shape=[])
    it = tf.data.Iterator.from_string_handle(handle, train.output_types, train.output_shapes)
    nxt = it.get_next()
    train_it = train.make_one_shot_iterator()
    valid_it = valid.make_initializable_iterator()
    with tf.Session() as sess:
        th, vh = sess.run([train_it.string_handle(), valid_it.string_handle()])
        assert isinstance(th, bytes) and th != vh
        assert [sess.run(nxt, {handle: th}) for _ in range(3)] == [0, 1, 2]
        sess.run(valid_it.initializer)
        assert sess.run(nxt, {handle: vh}) == 1000
        assert sess.run(nxt, {handle: th}) == 3
        assert sess.run(valid_it.get_next()) == 1001
        with pytest.raises(tf.errors.NotFoundError):
            sess.run(nxt, {handle: b"no such iterator"})
    with tf.Session() as other, pytest.raises(tf.errors.NotFoundError):
        other.run(nxt, {handle: th})


def test_feedable_iterator_checks_the_types_of_the_iterator_it_is_fed():
    handle = tf.placeholder(tf.string, shape=[])
    it = tf.data.Iterator.from_string_handle(handle, tf.float32)
    ints = tf.data.Dataset.range(3).make_one_shot_iterator()
    with tf.Session() as sess:
        h = sess.run(ints.string_handle())
        with pytest.raises(tf.errors.InvalidArgumentError, match="types"):
            sess.run(it.get_next(), {handle: h})


def test_shared_name_iterators_share_state_within_a_session():
    ds = tf.data.Dataset.range(10)
    a = ds.make_initializable_iterator(shared_name="shared_it")
    b = tf.data.Iterator.from_structure(tf.int64, tf.TensorShape([]), shared_name="shared_it")
    with tf.Session() as sess:
        sess.run(a.initializer)
        assert sess.run(a.get_next()) == 0
        assert sess.run(b.get_next()) == 1


def test_get_next_gives_static_shapes_and_structures():
    ds = tf.data.Dataset.from_tensor_slices({"x": np.zeros((4, 3), np.float32), "y": np.arange(4)}).batch(2)
    el = ds.make_one_shot_iterator().get_next()
    assert set(el) == {"x", "y"}
    assert el["x"].shape.as_list() == [None, 3] and el["x"].dtype == tf.float32
    assert el["y"].op.type == "IteratorGetNext"


def test_a_training_loop_over_epochs_with_out_of_range():
    x = np.linspace(-1, 1, 32).astype(np.float32)
    y = 3 * x + 1
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(32, seed=0).batch(8)
    it = ds.make_initializable_iterator()
    xb, yb = it.get_next()
    w = tf.Variable(0.0)
    b = tf.Variable(0.0)
    loss = tf.reduce_mean(tf.square(w * xb + b - yb))
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    steps = 0
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(30):
            sess.run(it.initializer)
            while True:
                try:
                    sess.run(train)
                    steps += 1
                except tf.errors.OutOfRangeError:
                    break
        np.testing.assert_allclose(sess.run([w, b]), [3.0, 1.0], atol=1e-3)
    assert steps == 30 * 4


def test_too_many_get_next_calls_warn():
    it = tf.data.Dataset.range(3).make_one_shot_iterator()
    with pytest.warns(UserWarning, match="unusually high number"):
        for _ in range(40):
            it.get_next()


def test_get_next_as_optional_has_no_value_at_the_end_instead_of_raising():
    it = tf.data.Dataset.from_tensor_slices(({"a": [1, 2]}, [0.5, 1.5])).make_initializable_iterator()
    opt = tf.data.experimental.get_next_as_optional(it)
    has, value = opt.has_value(), opt.get_value()
    assert value[0]["a"].dtype == tf.int32 and value[1].shape.as_list() == []
    with tf.Session() as sess:
        sess.run(it.initializer)
        assert sess.run(has)  # takes element 0
        got = sess.run(value)  # takes element 1
        assert got[0]["a"] == 2 and got[1] == 1.5
        assert not sess.run(has)
        with pytest.raises(tf.errors.InvalidArgumentError, match="does not have a value"):
            sess.run(value)


def test_optional_from_value_and_none():
    some = tf.data.experimental.Optional.from_value((tf.constant(3), tf.constant([1.0, 2.0])))
    none = tf.data.experimental.Optional.none_from_structure(some.value_structure)
    with tf.Session() as sess:
        assert sess.run([some.has_value(), none.has_value()]) == [True, False]
        a, b = sess.run(some.get_value())
        assert a == 3 and b.tolist() == [1.0, 2.0]
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(none.get_value())


def test_get_next_inside_a_while_loop_body_advances_the_iterator():
    it = tf.data.Dataset.range(100).make_initializable_iterator()
    total = tf.while_loop(lambda i, acc: i < 5, lambda i, acc: (i + 1, acc + it.get_next()),
                          [0, tf.constant(0, tf.int64)])[1]
    with tf.Session() as sess:
        sess.run(it.initializer)
        assert sess.run(total) == sum(range(5))
        assert sess.run(total) == sum(range(5, 10))


def test_an_endless_filter_stops_at_the_operation_timeout():
    nxt = tf.data.Dataset.range(10**15).filter(lambda x: tf.equal(x, -1)).make_one_shot_iterator().get_next()
    with tf.Session(config=tf.ConfigProto(operation_timeout_in_ms=200)) as sess:
        with pytest.raises(tf.errors.DeadlineExceededError):
            sess.run(nxt)
        assert sess.run(tf.constant(1)) == 1


def test_a_pipeline_survives_graph_def_export_and_import():
    scale = tf.constant(3, tf.int64, name="scale")
    ds = tf.data.Dataset.range(10).map(lambda x: x * scale).filter(lambda x: tf.equal(x % 2, 0)).batch(2)
    it = ds.make_initializable_iterator()
    nxt = it.get_next()
    graph_def = tf.get_default_graph().as_graph_def()
    assert len(graph_def.library.function) == 2
    with tf.Graph().as_default() as g:
        tf.import_graph_def(graph_def, name="")
        with tf.Session() as sess:
            sess.run(g.get_operation_by_name(it.initializer.name))
            assert sess.run(g.get_tensor_by_name(nxt.name)).tolist() == [0, 6]
            assert sess.run(g.get_tensor_by_name(nxt.name)).tolist() == [12, 18]


def test_fetched_elements_do_not_alias_the_fed_array():
    data = tf.placeholder(tf.float32, [None, 2])
    it = tf.data.Dataset.from_tensor_slices(data).make_initializable_iterator()
    nxt = it.get_next()
    fed = np.arange(6, dtype=np.float32).reshape(3, 2)
    with tf.Session() as sess:
        sess.run(it.initializer, {data: fed})
        row = sess.run(nxt)
        row[:] = -1
        assert fed[0].tolist() == [0.0, 1.0]
        assert sess.run(nxt).tolist() == [2.0, 3.0]


def test_threads_sharing_an_iterator_get_each_element_once():
    nxt = tf.data.Dataset.range(400).map(lambda x: x * 2).make_one_shot_iterator().get_next()
    got, errors = [], []
    with tf.Session() as sess:
        def worker():
            try:
                while True:
                    got.append(int(sess.run(nxt)))
            except tf.errors.OutOfRangeError:
                pass
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    assert not errors
    assert sorted(got) == [2 * i for i in range(400)]


def test_a_pipeline_keeps_the_values_fed_at_initialization():
    # The dataset outlives the initializing run: changing the fed array (or the variable a map function
    # captured) afterwards must not change the elements, as TF copies a feed into its tensor.
    p = tf.placeholder(tf.float32, [None, 2])
    q = tf.placeholder(tf.float32, [2])
    v = tf.Variable([1.0, 1.0])
    whole = tf.data.make_initializable_iterator(tf.data.Dataset.from_tensors(p))
    rows = tf.data.make_initializable_iterator(tf.data.Dataset.from_tensor_slices(p))
    mapped = tf.data.make_initializable_iterator(tf.data.Dataset.range(1).map(lambda i: q + v))
    bump = v.assign_add([10.0, 10.0])
    with tf.Session() as sess:
        sess.run(v.initializer)
        fed = np.zeros((2, 2), np.float32)
        sess.run([whole.initializer, rows.initializer, mapped.initializer], {p: fed, q: fed[0]})
        fed[:] = 3.0
        sess.run(bump)
        np.testing.assert_array_equal(sess.run(whole.get_next()), np.zeros((2, 2)))
        np.testing.assert_array_equal(sess.run(rows.get_next()), [0.0, 0.0])
        np.testing.assert_array_equal(sess.run(mapped.get_next()), [1.0, 1.0])
