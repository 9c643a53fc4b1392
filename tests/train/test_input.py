"""tf.train's queue-based input pipelines: producers (string/range/slice/input_producer, limit_epochs) and
batching (batch, batch_join, shuffle_batch, shuffle_batch_join) against NumPy, with TF's op names and errors,
and a classic queue-runner training loop run to completion. Threads are joined with timeouts."""

import contextlib

import numpy as np
import pytest

import tfmini as tf

JOIN_SECONDS = 10


@contextlib.contextmanager
def running_queues(sess):
    """Starts the graph's queue runners under a coordinator; stops and joins them (with a timeout) on exit."""
    coord = tf.train.Coordinator()
    threads = tf.train.start_queue_runners(sess, coord)
    try:
        yield coord
    finally:
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=JOIN_SECONDS)
        assert not any(t.is_alive() for t in threads)


def _run_until_out_of_range(sess, fetch) -> list:
    out = []
    with pytest.raises(tf.errors.OutOfRangeError):
        for _ in range(10_000):
            out.append(sess.run(fetch))
    return out


def _closed_source(sess, values, dtype=tf.int32):
    """A closed queue of scalars: reading past `values` is the end of an input."""
    src = tf.FIFOQueue(len(values) + 1, [dtype], shapes=[[]])
    sess.run(src.enqueue_many([np.asarray(values, dtype.as_numpy_dtype)]))
    sess.run(src.close())
    return src


# ----------------------------------------------------------------------------------------------------------
# Names, as TF 1.15 gives them
# ----------------------------------------------------------------------------------------------------------
def test_producer_and_batch_names_match_tf():
    fq = tf.train.string_input_producer(["a", "b"], num_epochs=2)
    assert fq.name == "input_producer"
    assert [v.name for v in tf.local_variables()] == ["input_producer/limit_epochs/epochs:0"]
    assert tf.local_variables()[0].dtype.base_dtype == tf.int64
    sliced = tf.train.slice_input_producer([tf.constant([[1, 2], [3, 4]]), tf.constant([5, 6])], num_epochs=1)
    assert [t.name for t in sliced] == ["input_producer_1/GatherV2:0", "input_producer_1/GatherV2_1:0"]
    assert sliced[0].shape.as_list() == [2] and sliced[1].shape.as_list() == []
    assert tf.train.range_input_producer(10).name == "input_producer_2"
    x, y = tf.constant([1.0, 2.0]), tf.constant(3)
    assert tf.train.batch([x], 2).name == "batch:0"
    b = tf.train.batch([x, y], 2)
    assert [t.name for t in b] == ["batch_1:0", "batch_1:1"] and b[0].shape.as_list() == [2, 2]
    d = tf.train.batch({"a": x}, 2)
    assert list(d) == ["a"] and d["a"].name == "batch_2:0"
    small = tf.train.batch((x, [y]), 2, allow_smaller_final_batch=True)
    assert small[0].shape.as_list() == [None, 2] and small[1].shape.as_list() == [None, 1]
    sb = tf.train.shuffle_batch([x, y], 4, capacity=20, min_after_dequeue=10)
    assert [t.name for t in sb] == ["shuffle_batch:0", "shuffle_batch:1"] and sb[0].shape.as_list() == [4, 2]
    assert tf.train.batch_join([[x, y], [x, y]], 2)[0].name == "batch_join:0"
    assert tf.train.shuffle_batch_join([[x, y], [x, y]], 2, 20, 10)[0].name == "shuffle_batch_join:0"
    runners = tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS)
    summary = [(qr.name, [op.name for op in qr.enqueue_ops]) for qr in runners]
    assert summary == [
        ("input_producer", ["input_producer/input_producer_EnqueueMany"]),
        ("input_producer_1/input_producer", ["input_producer_1/input_producer/input_producer_EnqueueMany"]),
        ("input_producer_2", ["input_producer_2/input_producer_2_EnqueueMany"]),
        ("batch/fifo_queue", ["batch/fifo_queue_enqueue"]),
        ("batch_1/fifo_queue", ["batch_1/fifo_queue_enqueue"]),
        ("batch_2/fifo_queue", ["batch_2/fifo_queue_enqueue"]),
        ("batch_3/fifo_queue", ["batch_3/fifo_queue_enqueue"]),
        ("shuffle_batch/random_shuffle_queue", ["shuffle_batch/random_shuffle_queue_enqueue"]),
        ("batch_join/fifo_queue", ["batch_join/fifo_queue_enqueue", "batch_join/fifo_queue_enqueue_1"]),
        ("shuffle_batch_join/random_shuffle_queue", ["shuffle_batch_join/random_shuffle_queue_enqueue",
                                                     "shuffle_batch_join/random_shuffle_queue_enqueue_1"]),
    ]
    assert runners[3].close_op.name == "batch/fifo_queue_Close"
    assert runners[3].cancel_op.name == "batch/fifo_queue_Close_1"


def test_batch_graphs_are_tfs_op_for_op():
    x, y = tf.constant([1.0, 2.0]), tf.constant(3)
    tf.train.batch([x], 2)
    tf.train.shuffle_batch([x, y], 4, capacity=20, min_after_dequeue=10)
    names = [op.name for op in tf.get_default_graph().get_operations()]
    assert names == [
        "Const", "Const_1", "batch/Const", "batch/fifo_queue", "batch/fifo_queue_enqueue", "batch/fifo_queue_Close",
        "batch/fifo_queue_Close_1", "batch/fifo_queue_Size", "batch/Cast", "batch/mul/y", "batch/mul",
        "batch/fraction_of_32_full/tags", "batch/fraction_of_32_full", "batch/n", "batch", "shuffle_batch/Const",
        "shuffle_batch/random_shuffle_queue", "shuffle_batch/random_shuffle_queue_enqueue",
        "shuffle_batch/random_shuffle_queue_Close", "shuffle_batch/random_shuffle_queue_Close_1",
        "shuffle_batch/random_shuffle_queue_Size", "shuffle_batch/sub/y", "shuffle_batch/sub",
        "shuffle_batch/Maximum/x", "shuffle_batch/Maximum", "shuffle_batch/Cast", "shuffle_batch/mul/y",
        "shuffle_batch/mul", "shuffle_batch/fraction_over_10_of_10_full/tags",
        "shuffle_batch/fraction_over_10_of_10_full", "shuffle_batch/n", "shuffle_batch",
    ]


def test_fullness_summaries(sess):
    tf.train.batch([tf.constant(1.0)], 2, capacity=16)
    tf.train.shuffle_batch([tf.constant(1.0)], 2, capacity=20, min_after_dequeue=4)
    batch_runner, shuffle_runner = tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS)
    batch_summary, shuffle_summary = tf.get_collection(tf.GraphKeys.SUMMARIES)
    for _ in range(4):
        sess.run(batch_runner.enqueue_ops[0])
    for _ in range(8):
        sess.run(shuffle_runner.enqueue_ops[0])
    values = [tf.summary.Summary.FromString(v).value[0] for v in sess.run([batch_summary, shuffle_summary])]
    assert (values[0].tag, values[0].simple_value) == ("batch/fraction_of_16_full", 0.25)
    assert (values[1].tag, values[1].simple_value) == ("shuffle_batch/fraction_over_4_of_16_full", 0.25)


def test_build_time_errors_match_tf():
    with pytest.raises(ValueError, match="Cannot infer Tensor's rank"):
        tf.train.batch([tf.placeholder(tf.float32)], 2)
    with pytest.raises(ValueError, match="All shapes must be fully defined"):
        tf.train.batch([tf.placeholder(tf.float32, [None])], 2)
    assert tf.train.batch([tf.placeholder(tf.float32, [None])], 2, dynamic_pad=True).shape.as_list() == [2, None]
    with pytest.raises(ValueError, match="capacity 5 must be bigger than min_after_dequeue 10"):
        tf.train.shuffle_batch([tf.constant(1.0)], 2, 5, 10)
    with pytest.raises(ValueError, match="num_epochs must be > 0 not 0"):
        tf.train.limit_epochs(tf.constant(1), 0)
    with pytest.raises(ValueError, match="string_input_producer requires a non-null input tensor"):
        tf.train.string_input_producer([])
    with pytest.raises(ValueError, match="must have a fully defined shape or `element_shape`"):
        tf.train.input_producer(tf.placeholder(tf.float32, [None, None]))
    with pytest.raises(ValueError, match="All dictionaries in tensors_list must have the same keys"):
        tf.train.batch_join([{"a": tf.constant(1)}, {"b": tf.constant(1)}], 2)
    with pytest.raises(TypeError, match="Expected types to be consistent"):
        tf.train.batch_join([[tf.constant(1)], [tf.constant(1.0)]], 2)
    with pytest.raises(TypeError, match="does not batch SparseTensors"):
        tf.train.batch([tf.SparseTensor([[0]], [1.0], [2])], 2)
    assert tf.train.limit_epochs(tf.constant(1)).op.type == "Const"  # no limit: the tensor itself


# ----------------------------------------------------------------------------------------------------------
# Producers
# ----------------------------------------------------------------------------------------------------------
def test_limit_epochs_counts_evaluations(sess):
    limited = tf.train.limit_epochs(tf.constant([1, 2]), num_epochs=3)
    sess.run(tf.local_variables_initializer())
    for _ in range(3):
        np.testing.assert_array_equal(sess.run(limited), [1, 2])
    with pytest.raises(tf.errors.OutOfRangeError, match="Reached limit of 3"):
        sess.run(limited)


def test_string_input_producer_epochs_in_order_and_shuffled(sess):
    names = [b"a.txt", b"b.txt", b"c.txt"]
    ordered = tf.train.string_input_producer(names, num_epochs=2, shuffle=False)
    shuffled = tf.train.string_input_producer(names, num_epochs=4, shuffle=True, seed=1)
    sess.run(tf.local_variables_initializer())
    with running_queues(sess):
        assert _run_until_out_of_range(sess, ordered.dequeue()) == names * 2
        got = _run_until_out_of_range(sess, shuffled.dequeue())
    assert len(got) == 12
    for epoch in range(4):  # every epoch is a permutation of the names
        assert sorted(got[3 * epoch:3 * epoch + 3]) == names


def test_string_input_producer_refuses_an_empty_tensor_at_run_time(sess):
    names = tf.placeholder(tf.string, [None])
    q = tf.train.string_input_producer(names, shuffle=False)
    qr = tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS)[0]
    with pytest.raises(tf.errors.InvalidArgumentError, match="requires a non-null input tensor"):
        sess.run(qr.enqueue_ops[0], {names: np.array([], dtype=object)})
    sess.run(qr.enqueue_ops[0], {names: np.array([b"x"], dtype=object)})
    assert sess.run(q.dequeue()) == b"x"


def test_range_input_producer(sess):
    q = tf.train.range_input_producer(5, num_epochs=2, shuffle=False)
    sess.run(tf.local_variables_initializer())
    with running_queues(sess):
        assert _run_until_out_of_range(sess, q.dequeue()) == [0, 1, 2, 3, 4] * 2


def test_slice_input_producer_keeps_rows_together(sess):
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10, dtype=np.int64) * 7
    xs, ys = tf.train.slice_input_producer([x, y], num_epochs=2, shuffle=True, seed=3)
    sess.run(tf.local_variables_initializer())
    with running_queues(sess):
        rows = _run_until_out_of_range(sess, [xs, ys])
    assert len(rows) == 20
    for xv, yv in rows:
        i = int(yv) // 7
        np.testing.assert_array_equal(xv, x[i])
    assert sorted(int(yv) // 7 for _, yv in rows) == sorted(list(range(10)) * 2)


# ----------------------------------------------------------------------------------------------------------
# Batching
# ----------------------------------------------------------------------------------------------------------
def test_batch_with_and_without_the_smaller_final_batch(sess):
    x = np.arange(10, dtype=np.int32)
    (row,) = tf.train.slice_input_producer([x], num_epochs=1, shuffle=False)
    (row2,) = tf.train.slice_input_producer([x], num_epochs=1, shuffle=False)
    full_only = tf.train.batch([row], 4)
    with_rest = tf.train.batch([row2], 4, allow_smaller_final_batch=True)
    sess.run(tf.local_variables_initializer())
    with running_queues(sess):
        assert [b.tolist() for b in _run_until_out_of_range(sess, full_only)] == [[0, 1, 2, 3], [4, 5, 6, 7]]
        assert [b.tolist() for b in _run_until_out_of_range(sess, with_rest)] == [
            [0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_batch_enqueue_many_and_dict_structure(sess):
    src = _closed_source(sess, [0, 1, 2])
    i = src.dequeue()
    rows = {"x": tf.stack([i * 10, i * 10 + 1]), "y": tf.cast(tf.stack([i, i]), tf.float32)}
    out = tf.train.batch(rows, 3, enqueue_many=True, allow_smaller_final_batch=True)
    assert sorted(out) == ["x", "y"] and out["x"].shape.as_list() == [None]
    with running_queues(sess):
        batches = _run_until_out_of_range(sess, out)
    assert [b["x"].tolist() for b in batches] == [[0, 1, 10], [11, 20, 21]]
    assert [b["y"].tolist() for b in batches] == [[0, 0, 1], [1, 2, 2]]
    assert batches[0]["y"].dtype == np.float32


def test_batch_dynamic_pad(sess):
    src = _closed_source(sess, [1, 3, 2])
    seq = tf.range(src.dequeue())
    padded = tf.train.batch([seq], 3, dynamic_pad=True)
    with running_queues(sess):
        np.testing.assert_array_equal(sess.run(padded), [[0, 0, 0], [0, 1, 2], [0, 1, 0]])


def test_batch_join_mixes_readers(sess):
    a = _closed_source(sess, [1, 2, 3])
    b = _closed_source(sess, [10, 20, 30])
    out = tf.train.batch_join([[a.dequeue()], [b.dequeue()]], 2, allow_smaller_final_batch=True)
    with running_queues(sess):
        got = [v for batch in _run_until_out_of_range(sess, out) for v in batch.tolist()]
    assert sorted(got) == [1, 2, 3, 10, 20, 30]


def test_shuffle_batch_is_a_permutation_of_its_input(sess):
    (row,) = tf.train.slice_input_producer([np.arange(40, dtype=np.int32)], num_epochs=1, shuffle=False)
    out = tf.train.shuffle_batch([row], 8, capacity=30, min_after_dequeue=10, seed=5,
                                 allow_smaller_final_batch=True)
    sess.run(tf.local_variables_initializer())
    with running_queues(sess):
        got = [v for batch in _run_until_out_of_range(sess, out) for v in batch.tolist()]
    assert sorted(got) == list(range(40)) and got != list(range(40))


def test_shuffle_batch_join(sess):
    a = _closed_source(sess, list(range(10)))
    b = _closed_source(sess, list(range(10, 20)))
    out = tf.train.shuffle_batch_join([[a.dequeue()], [b.dequeue()]], 5, capacity=12, min_after_dequeue=4)
    with running_queues(sess):
        got = [v for batch in _run_until_out_of_range(sess, out) for v in batch.tolist()]
    assert sorted(got) == list(range(20))


def test_maybe_batch_keeps_what_keep_input_keeps(sess):
    src = _closed_source(sess, list(range(8)))
    i = src.dequeue()
    out = tf.train.maybe_batch([i], tf.equal(i % 2, 0), 2, allow_smaller_final_batch=True)
    with running_queues(sess):
        got = [v for batch in _run_until_out_of_range(sess, out) for v in batch.tolist()]
    assert got == [0, 2, 4, 6]


def test_maybe_batch_with_a_keep_vector_and_enqueue_many(sess):
    src = _closed_source(sess, [0, 1])
    i = src.dequeue()
    rows = tf.stack([i * 10, i * 10 + 1, i * 10 + 2])
    out = tf.train.maybe_batch([rows], tf.constant([True, False, True]), 2, enqueue_many=True,
                               allow_smaller_final_batch=True)
    with running_queues(sess):
        got = [v for batch in _run_until_out_of_range(sess, out) for v in batch.tolist()]
    assert got == [0, 2, 10, 12]


def test_maybe_shuffle_batch_and_joins(sess):
    a = _closed_source(sess, list(range(10)))
    b = _closed_source(sess, list(range(10, 20)))
    c = _closed_source(sess, list(range(20, 30)))
    d = _closed_source(sess, list(range(30, 40)))
    ia, ib, ic, idd = a.dequeue(), b.dequeue(), c.dequeue(), d.dequeue()
    shuffled = tf.train.maybe_shuffle_batch([ia], 3, 12, 2, ia < 5, allow_smaller_final_batch=True)
    joined = tf.train.maybe_batch_join([[ib], [ic]], ib > 100, 4, allow_smaller_final_batch=True)
    both = tf.train.maybe_shuffle_batch_join([[idd]], 3, 12, 2, True, allow_smaller_final_batch=True)
    with running_queues(sess):
        got = [v for batch in _run_until_out_of_range(sess, shuffled) for v in batch.tolist()]
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(joined)  # ib > 100 never holds: nothing is kept, and the queue closes at the end of input
        got_both = [v for batch in _run_until_out_of_range(sess, both) for v in batch.tolist()]
    assert sorted(got) == [0, 1, 2, 3, 4] and sorted(got_both) == list(range(30, 40))
    with pytest.raises(ValueError, match="`keep_input` cannot be a vector when `enqueue_many=False`"):
        tf.train.maybe_batch([ia], tf.constant([True]), 2)
    with pytest.raises(ValueError, match="`keep_input` must be 0 or 1 dimensions"):
        tf.train.maybe_batch([ia], tf.constant([[True]]), 2, enqueue_many=True)


def test_match_filenames_once(tmp_path):
    for name in ("a.txt", "b.txt", "c.csv"):
        (tmp_path / name).write_text("x")
    files = tf.train.match_filenames_once(str(tmp_path / "*.txt"))
    assert files.name == "matching_filenames:0" and files in tf.local_variables()
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        got = sorted(sess.run(files).tolist())
    assert got == [str(tmp_path / "a.txt").encode(), str(tmp_path / "b.txt").encode()]


# ----------------------------------------------------------------------------------------------------------
# The classic TF1 training loop
# ----------------------------------------------------------------------------------------------------------
def test_queue_runner_training_loop_runs_to_completion():
    rng = np.random.RandomState(0)
    features = rng.randn(64, 3).astype(np.float32)
    true_w = np.float32([[1.5], [-2.0], [0.5]])
    labels = features @ true_w + 0.25
    epochs, batch_size = 12, 8
    x, y = tf.train.slice_input_producer([features, labels], num_epochs=epochs, shuffle=True, seed=2)
    xb, yb = tf.train.shuffle_batch([x, y], batch_size, capacity=40, min_after_dequeue=16, seed=4,
                                    allow_smaller_final_batch=True)
    w = tf.Variable(tf.zeros([3, 1]))
    b = tf.Variable(0.0)
    loss = tf.reduce_mean(tf.square(tf.matmul(xb, w) + b - yb))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    seen = tf.size(yb)
    with tf.Session() as sess:
        sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        steps, examples, losses = 0, 0, []
        try:
            while not coord.should_stop():
                _, n, value = sess.run([train, seen, loss])
                steps, examples = steps + 1, examples + n
                losses.append(value)
        except tf.errors.OutOfRangeError:
            pass
        finally:
            coord.request_stop()
        coord.join(threads, stop_grace_period_secs=JOIN_SECONDS)
        assert not any(t.is_alive() for t in threads)
        final_w, final_b = sess.run([w, b])
    assert examples == 64 * epochs and steps == 64 * epochs // batch_size
    assert losses[-1] < 1e-3 < losses[0]
    np.testing.assert_allclose(final_w, true_w, atol=0.02)
    np.testing.assert_allclose(final_b, 0.25, atol=0.02)
