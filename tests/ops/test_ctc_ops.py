"""CTC: tf.nn.ctc_loss (op CTCLoss and its gradient), ctc_loss_v2, the greedy and beam search decoders, and
collapse_repeated / ctc_unique_labels, against TensorFlow's recorded outputs (tools/tf_fixtures/gen_sampling.py)
and a brute-force NumPy reference that sums over every alignment."""

import itertools
import os

import numpy as np
import pytest
from gradient_checker import check_gradients

import tfmini as tf

FIX = np.load(os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf", "sampling", "ctc.npz"))


def _labels():
    return tf.SparseTensor(FIX["labels_indices"], FIX["labels_values"], FIX["labels_shape"])


def _run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


def _brute_force_loss(logits: np.ndarray, label: list[int], merge_repeated: bool = True) -> float:
    """-log of the summed probability of every frame labelling that reduces to `label` (blank = last class)."""
    t_len, classes = logits.shape
    blank = classes - 1
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    total = 0.0
    for path in itertools.product(range(classes), repeat=t_len):
        if merge_repeated:
            collapsed = [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]
        else:
            collapsed = list(path)
        if [k for k in collapsed if k != blank] == label:
            total += np.exp(sum(logp[t, k] for t, k in enumerate(path)))
    return -np.log(total)


@pytest.mark.parametrize("name,kwargs", [
    ("default", {}),
    ("no_merge", {"ctc_merge_repeated": False}),
    ("collapse", {"preprocess_collapse_repeated": True}),
    ("collapse_no_merge", {"preprocess_collapse_repeated": True, "ctc_merge_repeated": False}),
])
def test_ctc_loss_and_gradient_match_tensorflow(name, kwargs):
    x = tf.constant(FIX["logits"])
    loss = tf.nn.ctc_loss(_labels(), x, FIX["seq_len"], **kwargs)
    grad = tf.gradients(tf.reduce_sum(loss * np.arange(1.0, 5.0, dtype=np.float32)), x)[0]
    got_loss, got_grad = _run([loss, grad])
    assert loss.dtype == tf.float32 and loss.shape.as_list() == [4]
    np.testing.assert_allclose(got_loss, FIX[f"{name}/loss"], rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(got_grad, FIX[f"{name}/grad"], rtol=1e-4, atol=2e-6)


def test_ctc_loss_is_minus_log_of_the_summed_alignment_probabilities():
    rng = np.random.RandomState(3)
    logits = rng.randn(5, 1, 4)
    for label in ([0, 1], [2, 2], [1]):
        sp = tf.SparseTensor([[0, i] for i in range(len(label))], np.array(label, np.int32), [1, len(label)])
        got = _run(tf.nn.ctc_loss(sp, logits, [5]))
        np.testing.assert_allclose(got[0], _brute_force_loss(logits[:, 0], label), rtol=1e-10)


def test_ctc_loss_ignore_longer_outputs_than_inputs_gives_zero_loss_and_gradient():
    x = tf.constant(FIX["logits"])
    loss = tf.nn.ctc_loss(_labels(), x, [7, 5, 7, 1], ignore_longer_outputs_than_inputs=True)
    got_loss, got_grad = _run([loss, tf.gradients(loss, x)[0]])
    np.testing.assert_allclose(got_loss, FIX["ignore_longer/loss"], rtol=2e-5)
    np.testing.assert_allclose(got_grad, FIX["ignore_longer/grad"], rtol=1e-4, atol=2e-6)
    assert got_loss[3] == 0 and not got_grad[:, 3].any()


def test_ctc_loss_batch_major_float64():
    x = tf.constant(np.transpose(FIX["logits"], [1, 0, 2]).astype(np.float64))
    loss = tf.nn.ctc_loss(_labels(), x, FIX["seq_len"], time_major=False)
    got_loss, got_grad = _run([loss, tf.gradients(loss, x)[0]])
    assert loss.dtype == tf.float64
    np.testing.assert_allclose(got_loss, FIX["batch_major_f64/loss"], rtol=1e-7)
    np.testing.assert_allclose(got_grad, FIX["batch_major_f64/grad"], rtol=1e-6, atol=1e-9)


def test_ctc_loss_gradient_matches_finite_differences():
    def loss(x):
        labels = tf.SparseTensor([[0, 0], [0, 1], [1, 0]], np.array([1, 1, 0], np.int32), [2, 2])
        return tf.nn.ctc_loss(labels, x, [5, 3])

    check_gradients(loss, [np.random.RandomState(4).randn(5, 2, 3)], rtol=1e-6, atol=1e-8)


def test_ctc_loss_second_derivative_is_refused():
    x = tf.constant(FIX["logits"])
    g = tf.gradients(tf.reduce_sum(tf.nn.ctc_loss(_labels(), x, FIX["seq_len"])), x)[0]
    with pytest.raises(LookupError, match="second derivative of ctc_loss"):
        tf.gradients(tf.reduce_sum(g * g), x)


@pytest.mark.parametrize("seq_len,labels,match", [
    ([7, 5, 7, 1], None, r"Not enough time for target transition sequence \(required: 2, available: 1\)"),
    ([7, 5, 7, 9], None, r"sequence_length\(3\) <= 7"),
    ([7, 5, 7], None, r"len\(sequence_length\) != batch_size"),
    ([7, 5, 7, 2], ([[0, 0], [2, 0], [3, 0]], [1, 1, 1]), "Labels length is zero in batch 1"),
    ([7, 5, 7, 2], ([[0, 0], [1, 0], [2, 0], [3, 0]], [1, -2, 1, 1]), "All labels must be nonnegative integers"),
    ([7, 5, 7, 2], ([[0, 0], [0, 1], [1, 0], [2, 0], [3, 0]], [4, 1, 1, 1, 1]), "Saw a non-null label"),
    ([7, 5, 7, 2], ([[1, 0], [0, 0], [2, 0], [3, 0]], [1, 1, 1, 1]), "label SparseTensor is not valid"),
])
def test_ctc_loss_bad_input_is_invalid_argument_and_session_survives(seq_len, labels, match):
    sp = _labels() if labels is None else tf.SparseTensor(labels[0], np.array(labels[1], np.int32), [4, 2])
    lengths = tf.placeholder(tf.int32, [None])
    loss = tf.nn.ctc_loss(sp, tf.constant(FIX["logits"]), lengths)
    good = tf.nn.ctc_loss(_labels(), tf.constant(FIX["logits"]), lengths)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match=match) as info:
            sess.run(loss, {lengths: seq_len})
        assert "CTCLoss" in str(info.value)
        np.testing.assert_allclose(sess.run(good, {lengths: FIX["seq_len"]}), FIX["default/loss"], rtol=2e-5)


def test_ctc_loss_requires_sparse_labels_and_builds_tf_op():
    with pytest.raises(TypeError, match="Expected labels .* to be a SparseTensor"):
        tf.nn.ctc_loss([[1, 2]], tf.zeros([3, 1, 4]), [3])
    loss = tf.nn.ctc_loss(_labels(), tf.zeros([7, 4, 5]), FIX["seq_len"], ctc_merge_repeated=False)
    op = loss.op
    assert op.type == "CTCLoss"
    assert op.get_attr("ctc_merge_repeated") is False and op.get_attr("preprocess_collapse_repeated") is False
    assert op.outputs[1].shape.as_list() == [7, 4, 5]


def test_ctc_loss_v2_dense_and_sparse_with_a_middle_blank():
    x = tf.constant(FIX["logits"])
    dense = tf.nn.ctc_loss_v2(FIX["v2/labels"], x, FIX["v2/label_length"], FIX["seq_len"])
    sparse = tf.nn.ctc_loss_v2(_labels(), x, None, FIX["seq_len"], blank_index=2)
    got = _run([dense, tf.gradients(dense, x)[0], sparse, tf.gradients(sparse, x)[0]])
    np.testing.assert_allclose(got[0], FIX["v2_dense/loss"], rtol=2e-5)
    np.testing.assert_allclose(got[1], FIX["v2_dense/grad"], rtol=1e-4, atol=2e-6)
    np.testing.assert_allclose(got[2], FIX["v2_sparse_blank2/loss"], rtol=2e-5)
    np.testing.assert_allclose(got[3], FIX["v2_sparse_blank2/grad"], rtol=1e-4, atol=2e-6)
    with pytest.raises(ValueError, match="blank_index must be given"):
        tf.nn.ctc_loss_v2(_labels(), x, None, FIX["seq_len"])


def _check_sparse(value, key):
    np.testing.assert_array_equal(value.indices, FIX[f"{key}/indices"])
    np.testing.assert_array_equal(value.values, FIX[f"{key}/values"])
    np.testing.assert_array_equal(value.dense_shape, FIX[f"{key}/shape"])


@pytest.mark.parametrize("source", ["peaked", "random"])
@pytest.mark.parametrize("merge", [True, False])
def test_ctc_greedy_decoder_matches_tensorflow(source, merge):
    logits = FIX["peaked"] if source == "peaked" else FIX["logits"]
    (decoded,), log_prob = tf.nn.ctc_greedy_decoder(logits, FIX["seq_len"], merge_repeated=merge)
    assert decoded.values.dtype == tf.int64 and log_prob.shape.as_list() == [4, 1]
    got, lp = _run([decoded, log_prob])
    key = f"greedy_{source}_{'merge' if merge else 'nomerge'}"
    _check_sparse(got, key)
    np.testing.assert_allclose(lp, FIX[f"{key}/log_probability"], rtol=1e-6)


@pytest.mark.parametrize("source", ["peaked", "random"])
@pytest.mark.parametrize("merge", [True, False])
def test_ctc_beam_search_decoder_matches_tensorflow(source, merge):
    logits = FIX["peaked"] if source == "peaked" else FIX["logits"]
    decoded, log_prob = tf.nn.ctc_beam_search_decoder(logits, FIX["seq_len"], beam_width=6, top_paths=3,
                                                      merge_repeated=merge)
    assert len(decoded) == 3 and log_prob.shape.as_list() == [4, 3]
    got, lp = _run([decoded, log_prob])
    key = f"beam_{source}_{'merge' if merge else 'nomerge'}"
    for p in range(3):
        _check_sparse(got[p], f"{key}/{p}")
    np.testing.assert_allclose(lp, FIX[f"{key}/log_probability"], rtol=1e-5, atol=1e-5)


def test_ctc_beam_search_decoder_wide_beam_and_v2():
    decoded, log_prob = tf.nn.ctc_beam_search_decoder(FIX["beam_wide/logits"], [12, 9], beam_width=20, top_paths=4)
    got, lp = _run([decoded, log_prob])
    for p in range(4):
        _check_sparse(got[p], f"beam_wide/{p}")
    np.testing.assert_allclose(lp, FIX["beam_wide/log_probability"], rtol=1e-5, atol=1e-5)
    v2, v2_lp = tf.nn.ctc_beam_search_decoder_v2(FIX["logits"], FIX["seq_len"], beam_width=6, top_paths=3)
    got, lp = _run([v2, v2_lp])
    for p in range(3):
        _check_sparse(got[p], f"beam_random_nomerge/{p}")


def test_ctc_decoders_refuse_bad_lengths_and_too_many_paths():
    lengths = tf.placeholder(tf.int32, [None])
    (greedy,), _ = tf.nn.ctc_greedy_decoder(FIX["logits"], lengths)
    beam, _ = tf.nn.ctc_beam_search_decoder(FIX["logits"], lengths, beam_width=2, top_paths=3)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match=r"sequence_length\(1\) <= 7"):
            sess.run(greedy, {lengths: [7, 8, 1, 1]})
        with pytest.raises(tf.errors.InvalidArgumentError, match="requested more paths than the beam width"):
            sess.run(beam, {lengths: [7, 5, 7, 2]})
        assert sess.run(greedy, {lengths: [7, 5, 7, 2]}).dense_shape[0] == 4


def test_collapse_repeated_and_ctc_unique_labels_match_tensorflow():
    labels, lengths = tf.nn.collapse_repeated(np.array([[1, 1, 2, 2, 3], [4, 4, 4, 0, 0], [5, 6, 6, 6, 6]],
                                                       np.int32), np.array([5, 3, 3], np.int32))
    unique, idx = tf.nn.ctc_unique_labels(np.array([[3, 1, 3, 2], [5, 5, 5, 5]], np.int64))
    got = _run([labels, lengths, unique, idx])
    np.testing.assert_array_equal(got[0], FIX["collapse_repeated/labels"])
    np.testing.assert_array_equal(got[1], FIX["collapse_repeated/lengths"])
    np.testing.assert_array_equal(got[2], FIX["unique_labels/labels"])
    np.testing.assert_array_equal(got[3], FIX["unique_labels/idx"])


def test_ctc_loss_trains_a_model_that_decodes_its_labels():
    rng = np.random.RandomState(8)
    features = rng.randn(10, 2, 6).astype(np.float32)
    labels = tf.SparseTensor([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1]], np.array([1, 2, 1, 3, 3], np.int32), [2, 3])
    w = tf.Variable(tf.zeros([6, 5]))
    b = tf.Variable(tf.zeros([5]))
    logits = tf.reshape(tf.matmul(tf.reshape(features, [-1, 6]), w) + b, [10, 2, 5])
    loss = tf.reduce_mean(tf.nn.ctc_loss(labels, logits, [10, 10]))
    train = tf.train.AdamOptimizer(0.1).minimize(loss)
    (decoded,), _ = tf.nn.ctc_greedy_decoder(logits, [10, 10])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss)
        for _ in range(150):
            sess.run(train)
        assert sess.run(loss) < 0.2 * first
        dense = sess.run(tf.sparse_tensor_to_dense(decoded, default_value=-1))
    np.testing.assert_array_equal(dense, [[1, 2, 1], [3, 3, -1]])


def test_ctc_decoders_on_short_and_empty_sequences_match_tensorflow():
    x = np.random.RandomState(0).randn(4, 2, 5).astype(np.float32)
    beam, beam_lp = tf.nn.ctc_beam_search_decoder(x, [4, 1], beam_width=5, top_paths=3)
    (greedy,), greedy_lp = tf.nn.ctc_greedy_decoder(x, [4, 1], blank_index=0)
    (_,), empty_lp = tf.nn.ctc_greedy_decoder(x, [4, -1])
    got = _run([beam, beam_lp, greedy, greedy_lp, empty_lp])
    # Values recorded from TensorFlow 2.21 (tf.compat.v1) for this input.
    np.testing.assert_array_equal(got[0][0].values, [3, 1, 1])
    np.testing.assert_array_equal(got[0][1].values, [3, 1, 0])
    np.testing.assert_array_equal(got[0][1].dense_shape, [2, 3])
    np.testing.assert_array_equal(got[0][2].values, [3, 1, 3])
    np.testing.assert_allclose(got[1], [[-2.6566563, -3.1871858, -3.2710705], [-0.8795226, -1.4190125, -1.9328299]],
                               rtol=1e-6)
    np.testing.assert_array_equal(got[2].values, [3, 1, 4, 1, 1])
    np.testing.assert_allclose(got[3], [[-6.3430834], [-0.95008844]], rtol=1e-6)
    assert got[4][1, 0] == 0 and not np.signbit(got[4][1, 0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Less leaves in the beam search than requested"):
        _run(tf.nn.ctc_beam_search_decoder(x, [4, 0], beam_width=5, top_paths=3)[1])


def test_ctc_loss_v2_takes_empty_label_sequences_as_the_all_blank_path():
    x = tf.constant(FIX["logits"])
    loss = tf.nn.ctc_loss_v2(FIX["v2/labels"], x, FIX["v2_dense_empty/label_length"], FIX["seq_len"], blank_index=-1)
    got_loss, got_grad = _run([loss, tf.gradients(loss, x)[0]])
    np.testing.assert_allclose(got_loss, FIX["v2_dense_empty/loss"], rtol=2e-5)
    np.testing.assert_allclose(got_grad, FIX["v2_dense_empty/grad"], rtol=1e-4, atol=2e-6)
