"""Candidate samplers and tf.nn.compute_accidental_hits: expected counts against TensorFlow's recorded values
(tools/tf_fixtures/gen_sampling.py), the draws checked statistically with fixed seeds (TensorFlow's exact draw
sequence is not reproduced), per-session state of the learned samplers, and TF's errors."""

import os

import numpy as np
import pytest

import tfmini as tf

FIX = np.load(os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf", "sampling", "samplers.npz"))
TRUE = FIX["true"]
UNIGRAMS = list(np.arange(1.0, 11.0))


def _run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


@pytest.mark.parametrize("name,make", [
    ("uniform", lambda t: tf.random.uniform_candidate_sampler(t, 2, 5, False, 10, seed=1)),
    ("log_uniform", lambda t: tf.random.log_uniform_candidate_sampler(t, 2, 5, False, 10, seed=1)),
    ("fixed", lambda t: tf.random.fixed_unigram_candidate_sampler(
        t, 2, 4, False, 12, unigrams=UNIGRAMS, num_reserved_ids=2, distortion=0.75, seed=1)),
    ("fixed_shard0", lambda t: tf.random.fixed_unigram_candidate_sampler(
        t % 6, 2, 4, False, 6, unigrams=UNIGRAMS, num_reserved_ids=2, num_shards=2, shard=0, seed=1)),
    ("fixed_shard1", lambda t: tf.random.fixed_unigram_candidate_sampler(
        t % 6, 2, 4, False, 6, unigrams=UNIGRAMS, num_reserved_ids=2, num_shards=2, shard=1, seed=1)),
    ("fixed_shard1_of_3", lambda t: tf.random.fixed_unigram_candidate_sampler(
        t % 3, 2, 3, False, 3, unigrams=UNIGRAMS, num_reserved_ids=1, num_shards=3, shard=1, seed=1)),
])
def test_true_expected_counts_match_tensorflow(name, make):
    result = make(tf.constant(TRUE))
    got = _run(result)
    np.testing.assert_allclose(got.true_expected_count, FIX[f"{name}/true_expected_count"], rtol=1e-6)
    assert got.sampled_candidates.dtype == np.int64 and got.sampled_candidates.shape == (result[0].shape[0],)
    assert got.true_expected_count.dtype == np.float32


def test_learned_unigram_counts_the_true_classes_of_every_run_per_session():
    sampler = tf.random.learned_unigram_candidate_sampler(tf.constant(TRUE), 2, 4, False, 10, seed=1)
    with tf.Session() as sess:
        runs = np.stack([sess.run(sampler).true_expected_count for _ in range(3)])
    np.testing.assert_allclose(runs, FIX["learned/true_expected_count"], rtol=1e-6)
    with tf.Session() as fresh:  # a new session starts from the uniform counts again
        np.testing.assert_allclose(fresh.run(sampler).true_expected_count, runs[0], rtol=1e-6)


def test_non_unique_expected_counts_are_probability_times_num_sampled():
    s = tf.random.log_uniform_candidate_sampler(tf.constant(TRUE), 2, 7, False, 10, seed=3)
    got = _run(s)
    p = np.log((got.sampled_candidates + 2.0) / (got.sampled_candidates + 1.0)) / np.log(11.0)
    np.testing.assert_allclose(got.sampled_expected_count, p * 7, rtol=1e-6)


@pytest.mark.parametrize("make", [
    lambda t: tf.random.uniform_candidate_sampler(t, 2, 8, True, 10, seed=5),
    lambda t: tf.random.log_uniform_candidate_sampler(t, 2, 8, True, 10, seed=5),
    lambda t: tf.random.fixed_unigram_candidate_sampler(t, 2, 8, True, 10, unigrams=UNIGRAMS, seed=5),
])
def test_unique_draws_are_distinct_and_counts_follow_one_number_of_tries(make):
    got = _run(make(tf.constant(TRUE)))
    ids = got.sampled_candidates
    assert len(set(ids.tolist())) == 8 and ids.min() >= 0 and ids.max() < 10
    # Every expected count is 1 - (1 - p) ** k (or p * 8 when no draw was rejected) for one k >= 8.
    expected = np.concatenate([got.true_expected_count.ravel(), got.sampled_expected_count])
    assert np.all((expected > 0) & (expected <= 1.0 + 1e-6))


def test_unique_counts_use_the_number_of_draws():
    got = _run(tf.random.uniform_candidate_sampler(tf.constant(TRUE), 2, 9, True, 10, seed=2))
    p = np.float32(0.1)
    tries = np.log1p(-got.sampled_expected_count[0]) / np.log1p(-p)
    k = int(round(float(tries)))
    assert k > 9  # nine distinct ids out of ten practically always take extra draws
    np.testing.assert_allclose(got.sampled_expected_count, -np.expm1(k * np.log1p(-p)), rtol=1e-5)
    np.testing.assert_allclose(got.true_expected_count, -np.expm1(k * np.log1p(-p)), rtol=1e-5)


def _frequencies(sampler_fn, runs: int, range_max: int) -> np.ndarray:
    s = sampler_fn()
    with tf.Session() as sess:
        draws = np.concatenate([sess.run(s.sampled_candidates) for _ in range(runs)])
    return np.bincount(draws, minlength=range_max) / draws.size


def test_uniform_and_log_uniform_draws_follow_their_distributions():
    t = tf.constant(TRUE)
    uniform = _frequencies(lambda: tf.random.uniform_candidate_sampler(t, 2, 500, False, 10, seed=11), 40, 10)
    np.testing.assert_allclose(uniform, 0.1, atol=0.006)
    log_uniform = _frequencies(lambda: tf.random.log_uniform_candidate_sampler(t, 2, 500, False, 10, seed=12),
                               40, 10)
    k = np.arange(10)
    np.testing.assert_allclose(log_uniform, np.log((k + 2) / (k + 1)) / np.log(11), atol=0.006)


def test_fixed_unigram_draws_follow_the_distorted_counts_and_skip_reserved_ids():
    t = tf.constant(TRUE)
    freq = _frequencies(lambda: tf.random.fixed_unigram_candidate_sampler(
        t, 2, 500, False, 12, unigrams=UNIGRAMS, num_reserved_ids=2, distortion=0.5, seed=13), 40, 12)
    weights = np.concatenate([[0, 0], np.sqrt(UNIGRAMS)])
    np.testing.assert_allclose(freq, weights / weights.sum(), atol=0.006)
    assert freq[0] == 0 and freq[1] == 0


def test_fixed_unigram_reads_the_last_field_of_each_vocabulary_line(tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("the,40\nof,x,10\n\nand,30\n")
    s = tf.random.fixed_unigram_candidate_sampler([[0], [1], [2]], 1, 3, False, 3, vocab_file=str(vocab), seed=1)
    got = _run(s)
    np.testing.assert_allclose(got.true_expected_count.ravel(), np.array([40, 10, 30]) / 80 * 3, rtol=1e-6)


def test_draws_are_repeatable_per_seed_and_advance_between_runs():
    s = tf.random.uniform_candidate_sampler(tf.constant(TRUE), 2, 6, False, 1000, seed=21)
    with tf.Session() as sess:
        first, second = sess.run(s.sampled_candidates), sess.run(s.sampled_candidates)
    with tf.Session() as sess:
        again = sess.run(s.sampled_candidates)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, second)
    assert s.sampled_candidates.op.get_attr("seed") == 87654321 and s.sampled_candidates.op.get_attr("seed2") == 21


def test_all_candidate_sampler_returns_every_id_with_count_one():
    got = _run(tf.random.all_candidate_sampler(tf.constant(TRUE), 2, 6, True))
    np.testing.assert_array_equal(got.sampled_candidates, np.arange(6))
    assert np.all(got.true_expected_count == 1) and got.true_expected_count.shape == (3, 2)
    assert np.all(got.sampled_expected_count == 1)


def test_nn_and_random_names_are_one_function():
    assert tf.nn.uniform_candidate_sampler is tf.random.uniform_candidate_sampler
    assert tf.nn.fixed_unigram_candidate_sampler is tf.random.fixed_unigram_candidate_sampler
    assert tf.nn.all_candidate_sampler is tf.random.all_candidate_sampler


def test_compute_accidental_hits_reports_each_true_class_at_its_last_sampled_position():
    hits = tf.nn.compute_accidental_hits([[1, 1], [4, 5]], [1, 4, 1, 3], num_true=2)
    got = _run(hits)
    np.testing.assert_array_equal(got.indices, [0, 0, 1])
    np.testing.assert_array_equal(got.ids, [2, 2, 1])
    np.testing.assert_array_equal(got.weights, np.full(3, -np.finfo(np.float32).max, np.float32))
    assert got.indices.dtype == np.int32 and got.ids.dtype == np.int64


@pytest.mark.parametrize("make,match", [
    (lambda t: tf.random.uniform_candidate_sampler(t, 3, 4, True, 10),
     "true_classes must have num_true columns, expected: 2 was: 3"),
    (lambda t: tf.random.uniform_candidate_sampler(t, 2, 11, True, 10), "Sampler's range is too small."),
    (lambda t: tf.random.log_uniform_candidate_sampler(t, 2, 3, False, 8),
     r"`true_candidate` out of range \[0, 8\), received 9"),
    (lambda t: tf.random.learned_unigram_candidate_sampler(t, 2, 3, False, 5),
     r"`true_candidate` out of range \[0, 5\), received 7"),
    (lambda t: tf.random.fixed_unigram_candidate_sampler(t, 2, 4, False, 11, unigrams=UNIGRAMS, num_reserved_ids=2),
     "range is 11 must be equal to weights size  12"),
    (lambda t: tf.random.fixed_unigram_candidate_sampler(t, 2, 4, False, 10),
     "Must provide either vocab_file or unigrams."),
    (lambda t: tf.random.fixed_unigram_candidate_sampler(t, 2, 4, False, 10, vocab_file="v", unigrams=UNIGRAMS),
     "Must only provide one of vocab_file and unigrams."),
    (lambda t: tf.random.fixed_unigram_candidate_sampler(t, 2, 11, True, 12, unigrams=UNIGRAMS, num_reserved_ids=2),
     "only 10 ids have a nonzero probability"),
    (lambda t: tf.random.fixed_unigram_candidate_sampler(t, 2, 4, False, 10, unigrams=[0.0] * 10),
     "at least one positive count"),
    (lambda t: tf.nn.compute_accidental_hits(t, [1, 2], num_true=3),
     "true_classes must have num_true columns"),
])
def test_bad_input_is_invalid_argument_and_session_survives(make, match):
    bad = make(tf.constant(TRUE))
    good = tf.random.uniform_candidate_sampler(tf.constant(TRUE), 2, 4, True, 10, seed=1)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match=match):
            sess.run(bad)
        assert sess.run(good).sampled_candidates.shape == (4,)


def test_missing_vocabulary_file_is_not_found(tmp_path):
    s = tf.random.fixed_unigram_candidate_sampler(TRUE, 2, 4, False, 10, vocab_file=str(tmp_path / "none"))
    with pytest.raises(tf.errors.NotFoundError, match="none"):
        _run(s)


def test_graph_build_checks_rank_dtype_and_attr_minimums():
    with pytest.raises(ValueError, match="rank 2"):
        tf.random.uniform_candidate_sampler([1, 2], 1, 4, True, 10)
    with pytest.raises(ValueError, match="num_sampled"):
        tf.random.uniform_candidate_sampler(TRUE, 2, 0, True, 10)
    with pytest.raises(TypeError, match="int64"):
        tf.random.uniform_candidate_sampler(tf.constant(TRUE, tf.int32), 2, 4, True, 10)
    s = tf.random.uniform_candidate_sampler(tf.placeholder(tf.int64, [None, 2]), 2, 4, True, 10, name="cs")
    assert s.sampled_candidates.op.name == "cs" and s.sampled_candidates.op.type == "UniformCandidateSampler"
    assert s.true_expected_count.shape.as_list() == [None, 2] and s.sampled_expected_count.shape.as_list() == [4]
