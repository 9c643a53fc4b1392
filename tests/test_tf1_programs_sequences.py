"""Classic TF1 programs over sequences and input pipelines, written as a TF1 user (or a textbook chapter)
writes them, only `import tfmini as tf` differing: an RNN classifying digit images row by row, a time-series
RNN with an output projection, a stacked LSTM language-model step, and a linear model fed from TFRecord files
of tf.train.Example through tf.data. With fixed seeds every program repeats exactly."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

import tfmini as tf


def _digits():
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)  # 1797 images of 8 rows x 8 columns
    return x, digits.target.astype(np.int64)


# ----------------------------------------------------------------------------------------------------------
# An RNN reads each 8x8 digit row by row and classifies it from its last state
# ----------------------------------------------------------------------------------------------------------
def rnn_digits(seed: int, epochs: int = 12):
    x_all, y_all = _digits()
    x_train, y_train, x_test, y_test = x_all[:1500], y_all[:1500], x_all[1500:], y_all[1500:]
    n_steps, n_inputs, n_neurons, n_outputs = 8, 8, 64, 10

    with tf.Graph().as_default():
        tf.set_random_seed(seed)
        X = tf.placeholder(tf.float32, [None, n_steps, n_inputs])
        y = tf.placeholder(tf.int64, [None])
        basic_cell = tf.nn.rnn_cell.BasicRNNCell(num_units=n_neurons)
        outputs, states = tf.nn.dynamic_rnn(basic_cell, X, dtype=tf.float32)
        logits = tf.layers.dense(states, n_outputs)
        xentropy = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
        loss = tf.reduce_mean(xentropy)
        training_op = tf.train.AdamOptimizer(learning_rate=0.01).minimize(loss)
        correct = tf.nn.in_top_k(logits, y, 1)
        accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))
        names = [v.name for v in tf.trainable_variables()]

        losses = []
        rng = np.random.RandomState(0)
        with tf.Session() as sess:
            tf.global_variables_initializer().run()
            for _ in range(epochs):
                order = rng.permutation(len(x_train))
                for start in range(0, len(order), 100):
                    batch = order[start:start + 100]
                    _, loss_value = sess.run([training_op, loss], {X: x_train[batch], y: y_train[batch]})
                losses.append(loss_value)
            test_accuracy = accuracy.eval({X: x_test, y: y_test})
    return names, losses, test_accuracy


def test_an_rnn_reading_digit_rows_learns_to_classify_them():
    names, losses, test_accuracy = rnn_digits(seed=42)
    assert names == ["rnn/basic_rnn_cell/kernel:0", "rnn/basic_rnn_cell/bias:0", "dense/kernel:0", "dense/bias:0"]
    assert losses[-1] < 0.25 * losses[0]
    assert test_accuracy > 0.85


def test_the_rnn_program_repeats_exactly_with_the_same_seed():
    first, second = rnn_digits(seed=7, epochs=2), rnn_digits(seed=7, epochs=2)
    assert first[1] == second[1] and first[2] == second[2]


# ----------------------------------------------------------------------------------------------------------
# Time series: predict the next values of a sine-like curve with an output projection wrapper
# ----------------------------------------------------------------------------------------------------------
def _time_series(t):
    return t * np.sin(t) / 3 + 2 * np.sin(t * 5)


def test_a_time_series_rnn_with_an_output_projection_learns_the_next_step():
    n_steps, n_neurons = 20, 64
    rng = np.random.RandomState(42)

    def next_batch(batch_size):
        t0 = rng.rand(batch_size, 1) * (30 - n_steps * 0.1)
        ts = t0 + np.arange(0.0, n_steps + 1) * 0.1
        ys = _time_series(ts)
        return (ys[:, :-1].reshape(-1, n_steps, 1).astype(np.float32),
                ys[:, 1:].reshape(-1, n_steps, 1).astype(np.float32))

    with tf.Graph().as_default():
        tf.set_random_seed(42)
        X = tf.placeholder(tf.float32, [None, n_steps, 1])
        y = tf.placeholder(tf.float32, [None, n_steps, 1])
        cell = tf.contrib.rnn.OutputProjectionWrapper(
            tf.nn.rnn_cell.BasicRNNCell(num_units=n_neurons, activation=tf.nn.relu), output_size=1)
        outputs, _ = tf.nn.dynamic_rnn(cell, X, dtype=tf.float32)
        loss = tf.reduce_mean(tf.square(outputs - y))
        training_op = tf.train.AdamOptimizer(learning_rate=0.001).minimize(loss)
        assert outputs.shape.as_list() == [None, n_steps, 1]
        assert sorted(v.name for v in tf.trainable_variables()) == [
            "rnn/output_projection_wrapper/basic_rnn_cell/bias:0",
            "rnn/output_projection_wrapper/basic_rnn_cell/kernel:0",
            "rnn/output_projection_wrapper/bias:0",
            "rnn/output_projection_wrapper/kernel:0",
        ]
        x_check, y_check = next_batch(50)
        with tf.Session() as sess:
            tf.global_variables_initializer().run()
            before = loss.eval({X: x_check, y: y_check})
            for _ in range(300):
                x_batch, y_batch = next_batch(50)
                sess.run(training_op, {X: x_batch, y: y_batch})
            after = loss.eval({X: x_check, y: y_check})
    assert after < 0.1 * before


# ----------------------------------------------------------------------------------------------------------
# A stacked LSTM with dropout over embedded tokens, trained with clipped gradients (the PTB tutorial's shape)
# ----------------------------------------------------------------------------------------------------------
def test_a_stacked_lstm_language_model_step_trains_with_clipped_gradients():
    vocab, steps, batch, hidden = 12, 6, 8, 16
    rng = np.random.RandomState(0)
    # A deterministic token sequence (each token is the previous one plus one, mod vocab) is learnable.
    starts = rng.randint(0, vocab, size=[batch, 1])
    tokens = (starts + np.arange(steps + 1)) % vocab

    with tf.Graph().as_default():
        tf.set_random_seed(3)
        inputs = tf.placeholder(tf.int32, [batch, steps])
        targets = tf.placeholder(tf.int32, [batch, steps])
        keep_prob = tf.placeholder_with_default(1.0, [])
        embedding = tf.get_variable("embedding", [vocab, hidden], dtype=tf.float32)
        embedded = tf.nn.embedding_lookup(embedding, inputs)
        cells = [tf.nn.rnn_cell.DropoutWrapper(tf.nn.rnn_cell.BasicLSTMCell(hidden, forget_bias=0.0),
                                               output_keep_prob=keep_prob) for _ in range(2)]
        cell = tf.nn.rnn_cell.MultiRNNCell(cells, state_is_tuple=True)
        initial_state = cell.zero_state(batch, tf.float32)
        outputs, final_state = tf.nn.dynamic_rnn(cell, embedded, initial_state=initial_state)
        logits = tf.layers.dense(tf.reshape(outputs, [-1, hidden]), vocab)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.reshape(targets, [-1]), logits=logits))
        tvars = tf.trainable_variables()
        grads, _ = tf.clip_by_global_norm(tf.gradients(loss, tvars), 5.0)
        train_op = tf.train.GradientDescentOptimizer(1.0).apply_gradients(zip(grads, tvars))

        assert [v.name for v in tvars] == [
            "embedding:0",
            "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel:0",
            "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/bias:0",
            "rnn/multi_rnn_cell/cell_1/basic_lstm_cell/kernel:0",
            "rnn/multi_rnn_cell/cell_1/basic_lstm_cell/bias:0",
            "dense/kernel:0",
            "dense/bias:0",
        ]
        assert isinstance(final_state[0], tf.nn.rnn_cell.LSTMStateTuple)
        feed = {inputs: tokens[:, :-1], targets: tokens[:, 1:]}
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            first = sess.run(loss, feed)
            for _ in range(150):
                sess.run(train_op, {**feed, keep_prob: 0.9})
            last = sess.run(loss, feed)
            state = sess.run(final_state, feed)
    assert first == pytest.approx(np.log(vocab), rel=0.1)
    assert last < 0.3 * first
    assert state[1].h.shape == (batch, hidden)


# ----------------------------------------------------------------------------------------------------------
# TFRecord files of tf.train.Example, read back through tf.data to train a linear model
# ----------------------------------------------------------------------------------------------------------
def _write_examples(path, features, labels):
    with tf.python_io.TFRecordWriter(path) as writer:
        for f, label in zip(features, labels):
            example = tf.train.Example(features=tf.train.Features(feature={
                "x": tf.train.Feature(float_list=tf.train.FloatList(value=f)),
                "y": tf.train.Feature(float_list=tf.train.FloatList(value=[label])),
            }))
            writer.write(example.SerializeToString())


def test_a_linear_model_trains_from_tfrecord_files_through_tf_data(tmp_path):
    rng = np.random.RandomState(0)
    features = rng.randn(256, 3).astype(np.float32)
    labels = (features @ np.array([1.5, -2.0, 0.5], np.float32) + 0.75).astype(np.float32)
    files = [str(tmp_path / "part-0.tfrecord"), str(tmp_path / "part-1.tfrecord")]
    _write_examples(files[0], features[:128], labels[:128])
    _write_examples(files[1], features[128:], labels[128:])

    def parse(record):
        parsed = tf.parse_single_example(record, {
            "x": tf.FixedLenFeature([3], tf.float32),
            "y": tf.FixedLenFeature([], tf.float32),
        })
        return parsed["x"], parsed["y"]

    with tf.Graph().as_default():
        tf.set_random_seed(0)
        filenames = tf.placeholder(tf.string, [None])
        dataset = (tf.data.TFRecordDataset(filenames).map(parse).shuffle(256, seed=1).batch(32).repeat(2))
        iterator = dataset.make_initializable_iterator()
        x, y = iterator.get_next()
        assert dataset.output_types == (tf.float32, tf.float32)
        assert [s.as_list() for s in dataset.output_shapes] == [[None, 3], [None]]
        w = tf.Variable(tf.zeros([3, 1]))
        b = tf.Variable(0.0)
        prediction = tf.squeeze(tf.matmul(x, w), 1) + b
        loss = tf.reduce_mean(tf.square(prediction - y))
        train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)

        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            batches = 0
            for _ in range(10):  # ten passes, each re-initializing the iterator over both files
                sess.run(iterator.initializer, {filenames: files})
                while True:
                    try:
                        sess.run(train_op)
                        batches += 1
                    except tf.errors.OutOfRangeError:
                        break
            w_value, b_value = sess.run([w, b])
            # The pipeline reads every record: one pass over one file gives its 128 labels, in some order.
            sess.run(iterator.initializer, {filenames: files[:1]})
            seen = []
            while True:
                try:
                    seen.extend(sess.run(y).tolist())
                except tf.errors.OutOfRangeError:
                    break
    assert batches == 10 * 2 * 8
    np.testing.assert_allclose(w_value.ravel(), [1.5, -2.0, 0.5], atol=1e-3)
    assert b_value == pytest.approx(0.75, abs=1e-3)
    assert sorted(seen) == sorted(np.concatenate([labels[:128], labels[:128]]).tolist())
