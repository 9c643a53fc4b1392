"""tf.nn.nce_loss, sampled_softmax_loss, embedding_lookup_sparse, safe_embedding_lookup_sparse and the small
composites (log_poisson_loss, sufficient_statistics, normalize_moments, batch_norm_with_global_normalization,
compute_average_loss, scale_regularization_loss), against NumPy references and TensorFlow's recorded outputs
(tools/tf_fixtures/gen_sampling.py)."""

import os
import warnings

import numpy as np
import pytest
from gradient_checker import check_gradients

import tfmini as tf

HERE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf", "sampling")
LOSSES = np.load(os.path.join(HERE, "sampled_losses.npz"))
COMPOSITES = np.load(os.path.join(HERE, "composites.npz"))
FLT_MAX = np.finfo(np.float32).max


def _run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


def _numpy_sampled_logits(w, b, labels, x, sampled, true_expected, sampled_expected, remove_hits):
    num_true = labels.shape[1]
    true_logits = np.einsum("bd,btd->bt", x, w[labels]) + b[labels] - np.log(true_expected)
    sampled_logits = x @ w[sampled].T + b[sampled]
    if remove_hits:
        hit = (labels[:, :, None] == sampled[None, None, :]).any(axis=1)
        sampled_logits = np.where(hit, sampled_logits - FLT_MAX, sampled_logits)
    sampled_logits = sampled_logits - np.log(sampled_expected)
    logits = np.concatenate([true_logits, sampled_logits], axis=1)
    targets = np.concatenate([np.full(true_logits.shape, 1.0 / num_true), np.zeros(sampled_logits.shape)], axis=1)
    return logits, targets


def numpy_nce_loss(*args):
    z, t = _numpy_sampled_logits(*args)
    return np.sum(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z))), axis=1)


def numpy_sampled_softmax_loss(*args):
    z, t = _numpy_sampled_logits(*args)
    z = z - z.max(axis=1, keepdims=True)
    return -np.sum(t * (z - np.log(np.exp(z).sum(axis=1, keepdims=True))), axis=1)


CASES = {
    "nce_1": ("nce", 1, False, "mod", 1),
    "nce_2_hits": ("nce", 2, True, "mod", 1),
    "softmax_1": ("softmax", 1, True, "mod", 1),
    "softmax_2_nohits": ("softmax", 2, False, "mod", 1),
    "softmax_mod_parts": ("softmax", 1, True, "mod", 3),
    "nce_div_parts": ("nce", 1, True, "div", 3),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_sampled_losses_and_gradients_match_tensorflow_and_numpy(case):
    fn_name, num_true, hits, strategy, n_parts = CASES[case]
    c = {k: LOSSES[f"{case}/{k}"] for k in ("labels", "sampled", "true_expected", "sampled_expected")}
    weights, biases, inputs = LOSSES["weights"], LOSSES["biases"], LOSSES["inputs"]
    w, b, x = tf.constant(weights), tf.constant(biases), tf.constant(inputs)
    if n_parts == 1:
        parts = w
    elif strategy == "div":
        parts = tf.split(w, n_parts, 0)
    else:
        parts = [tf.gather(w, np.arange(p, 12, n_parts)) for p in range(n_parts)]
    fn = tf.nn.nce_loss if fn_name == "nce" else tf.nn.sampled_softmax_loss
    loss = fn(parts, b, c["labels"], x, len(c["sampled"]), 12, num_true=num_true,
              sampled_values=(c["sampled"], c["true_expected"], c["sampled_expected"]),
              remove_accidental_hits=hits, partition_strategy=strategy)
    grads = tf.gradients(tf.reduce_sum(loss * np.arange(1.0, 4.0, dtype=np.float32)), [w, b, x])
    got_loss, gw, gb, gx = _run([loss] + [tf.convert_to_tensor(g) for g in grads])
    assert loss.shape.as_list() == [3]
    np.testing.assert_allclose(got_loss, LOSSES[f"{case}/loss"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gw, LOSSES[f"{case}/grad_weights"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gb, LOSSES[f"{case}/grad_biases"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gx, LOSSES[f"{case}/grad_inputs"], rtol=1e-5, atol=1e-6)
    reference = numpy_nce_loss if fn_name == "nce" else numpy_sampled_softmax_loss
    want = reference(weights.astype(np.float64), biases.astype(np.float64), c["labels"], inputs.astype(np.float64),
                     c["sampled"], c["true_expected"], c["sampled_expected"], hits)
    np.testing.assert_allclose(got_loss, want, rtol=1e-5)


@pytest.mark.parametrize("fn", [tf.nn.nce_loss, tf.nn.sampled_softmax_loss])
def test_sampled_loss_gradients_match_finite_differences(fn):
    rng = np.random.RandomState(5)
    labels = np.array([[1], [4]], np.int64)
    sampled = (np.array([0, 4, 2], np.int64), np.array([[0.3], [0.5]]), np.array([0.2, 0.4, 0.6]))

    def loss(w, b, x):
        return fn(w, b, labels, x, 3, 6, sampled_values=sampled, remove_accidental_hits=True)

    check_gradients(loss, [rng.randn(6, 3), rng.randn(6), rng.randn(2, 3)], rtol=1e-6, atol=1e-8)


def test_sampled_losses_draw_log_uniform_candidates_when_none_are_given():
    w, b, x = tf.ones([20, 4]), tf.zeros([20]), tf.ones([5, 4])
    loss = tf.nn.sampled_softmax_loss(w, b, [[1], [2], [3], [4], [5]], x, 6, 20, seed=3)
    nce = tf.nn.nce_loss(w, b, [[1], [2], [3], [4], [5]], x, 6, 20)
    types = {op.type for op in tf.get_default_graph().get_operations()}
    assert "LogUniformCandidateSampler" in types and "ComputeAccidentalHits" in types
    got = _run([loss, nce])
    assert got[0].shape == (5,) and np.all(np.isfinite(got[0])) and np.all(np.isfinite(got[1]))


ELS = ("ids/indices", "ids/values", "ids/shape")


@pytest.mark.parametrize("combiner", ["sum", "mean", "sqrtn"])
@pytest.mark.parametrize("weighted", [False, True])
def test_embedding_lookup_sparse_matches_tensorflow(combiner, weighted):
    p = tf.constant(COMPOSITES["params"])
    sp = tf.SparseTensor(*(COMPOSITES[k] for k in ELS))
    spw = tf.SparseTensor(COMPOSITES["ids/indices"], COMPOSITES["ids/weights"], COMPOSITES["ids/shape"]) \
        if weighted else None
    r = tf.nn.embedding_lookup_sparse(p, sp, spw, combiner=combiner)
    got, grad = _run([r, tf.convert_to_tensor(tf.gradients(tf.reduce_sum(r * r), p)[0])])
    key = f"els_{combiner}_{'w' if weighted else 'nw'}"
    np.testing.assert_allclose(got, COMPOSITES[f"{key}/result"], rtol=1e-6)
    np.testing.assert_allclose(grad, COMPOSITES[f"{key}/grad"], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("combiner", ["sum", "mean", "sqrtn"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("default_id", [None, 4])
def test_safe_embedding_lookup_sparse_matches_tensorflow(combiner, weighted, default_id):
    p = tf.constant(COMPOSITES["params"])
    sp = tf.SparseTensor(COMPOSITES["safe/indices"], COMPOSITES["safe/values"], COMPOSITES["safe/shape"])
    spw = tf.SparseTensor(COMPOSITES["safe/indices"], COMPOSITES["safe/weights"], COMPOSITES["safe/shape"]) \
        if weighted else None
    r = tf.nn.safe_embedding_lookup_sparse(p, sp, spw, combiner=combiner, default_id=default_id)
    assert r.shape.as_list()[-1] == 3
    got, grad = _run([r, tf.convert_to_tensor(tf.gradients(tf.reduce_sum(r * r), p)[0])])
    key = f"safe_{combiner}_{'w' if weighted else 'nw'}_{default_id}"
    np.testing.assert_allclose(got, COMPOSITES[f"{key}/result"], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(grad, COMPOSITES[f"{key}/grad"], rtol=1e-5, atol=1e-6)


def test_embedding_lookup_sparse_argument_errors_and_default_combiner_warning():
    sp = tf.SparseTensor([[0, 0]], np.array([1], np.int64), [1, 1])
    with pytest.raises(ValueError, match="combiner must be one of"):
        tf.nn.embedding_lookup_sparse(tf.ones([3, 2]), sp, None, combiner="max")
    with pytest.raises(TypeError, match="sp_ids must be SparseTensor"):
        tf.nn.embedding_lookup_sparse(tf.ones([3, 2]), [1], None, combiner="sum")
    with pytest.raises(TypeError, match="sp_weights must be either None or SparseTensor"):
        tf.nn.embedding_lookup_sparse(tf.ones([3, 2]), sp, [1.0], combiner="sum")
    with pytest.raises(ValueError, match="Missing 'params'"):
        tf.nn.embedding_lookup_sparse([], sp, None, combiner="sum")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = tf.nn.embedding_lookup_sparse(tf.ones([3, 2]), sp, None)
    assert any("sqrtn" in str(w.message) for w in caught)
    np.testing.assert_allclose(_run(r), [[1.0, 1.0]])


def test_log_poisson_loss_matches_tensorflow_and_formula():
    t, x = COMPOSITES["poisson/targets"], COMPOSITES["poisson/log_input"]
    plain, full = _run([tf.nn.log_poisson_loss(t, x), tf.nn.log_poisson_loss(t, x, compute_full_loss=True)])
    np.testing.assert_allclose(plain, COMPOSITES["poisson/loss"], rtol=1e-6)
    np.testing.assert_allclose(full, COMPOSITES["poisson/full"], rtol=1e-6)
    np.testing.assert_allclose(plain, np.exp(x) - x * t, rtol=1e-6)
    with pytest.raises(ValueError, match="log_input and targets must have the same shape"):
        tf.nn.log_poisson_loss(tf.ones([2]), tf.ones([3]))
    check_gradients(lambda a: tf.nn.log_poisson_loss(np.array([0.5, 3.0]), a, compute_full_loss=True),
                    [np.array([0.2, -0.4])])


def test_sufficient_statistics_and_normalize_moments_match_tensorflow():
    x = COMPOSITES["moments/x"]
    count, m_ss, v_ss, shift = tf.nn.sufficient_statistics(x, [0, 2], shift=0.5)
    mean, var = tf.nn.normalize_moments(count, m_ss, v_ss, shift)
    got = _run([count, m_ss, v_ss, mean, var])
    for g, key in zip(got, ("count", "mean_ss", "var_ss", "mean", "variance")):
        np.testing.assert_allclose(g, COMPOSITES[f"moments/{key}"], rtol=1e-5)
    np.testing.assert_allclose(got[3], x.mean(axis=(0, 2)), rtol=1e-5)
    np.testing.assert_allclose(got[4], x.var(axis=(0, 2)), rtol=1e-4, atol=1e-6)
    dynamic = tf.placeholder(tf.float32, [None, 4])
    count, m_ss, _, none_shift = tf.nn.sufficient_statistics(dynamic, [0], keepdims=True)
    assert none_shift is None and m_ss.shape.as_list() == [1, 4]
    assert _run(count, {dynamic: np.ones((5, 4))}) == 5


def test_batch_norm_with_global_normalization_scales_only_when_asked():
    rng = np.random.RandomState(7)
    t, m, v, beta, gamma = (rng.rand(2, 3) + 0.5 for _ in range(5))
    scaled = tf.nn.batch_norm_with_global_normalization(t, m, v, beta, gamma, 0.01, True)
    unscaled = tf.nn.batch_norm_with_global_normalization(input=t, mean=m, variance=v, beta=beta, gamma=gamma,
                                                          variance_epsilon=0.01, scale_after_normalization=False)
    got = _run([scaled, unscaled])
    np.testing.assert_allclose(got[0], (t - m) / np.sqrt(v + 0.01) * gamma + beta, rtol=1e-10)
    np.testing.assert_allclose(got[1], (t - m) / np.sqrt(v + 0.01) + beta, rtol=1e-10)


def test_compute_average_loss_and_scale_regularization_loss():
    losses = np.array([1.0, 2.0, 3.0, 6.0], np.float32)
    got = _run([tf.nn.compute_average_loss(losses), tf.nn.compute_average_loss(losses, global_batch_size=8),
                tf.nn.compute_average_loss(losses, sample_weight=[1.0, 0.0, 1.0, 0.5]),
                tf.nn.scale_regularization_loss([0.5, 1.5])])
    np.testing.assert_allclose(got, [3.0, 1.5, 7.0 / 4, 2.0], rtol=1e-6)
    with pytest.raises(ValueError, match="at least rank 1"):
        tf.nn.compute_average_loss(2.0)
    with pytest.raises(TypeError, match="global_batch_size must be an integer"):
        tf.nn.compute_average_loss(losses, global_batch_size=2.5)
    with pytest.raises(ValueError, match="global_batch_size must be positive"):
        tf.nn.compute_average_loss(losses, global_batch_size=0)


def test_silu_is_swish():
    assert tf.nn.silu is tf.nn.swish
    x = np.array([-2.0, 0.0, 1.5])
    np.testing.assert_allclose(_run(tf.nn.silu(x)), x / (1 + np.exp(-x)), rtol=1e-12)


def test_nce_loss_trains_word2vec_style_variables():
    tf.set_random_seed(1)
    embeddings = tf.Variable(tf.random_uniform([30, 8], -1.0, 1.0))
    nce_w = tf.Variable(tf.truncated_normal([30, 8], stddev=0.3))
    nce_b = tf.Variable(tf.zeros([30]))
    centers = tf.placeholder(tf.int32, [None])
    contexts = tf.placeholder(tf.int64, [None, 1])
    loss = tf.reduce_mean(tf.nn.nce_loss(nce_w, nce_b, contexts, tf.nn.embedding_lookup(embeddings, centers),
                                         num_sampled=5, num_classes=30))
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    feed = {centers: np.arange(30) % 10, contexts: ((np.arange(30) % 10 + 10)[:, None]).astype(np.int64)}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = np.mean([sess.run(loss, feed) for _ in range(5)])
        for _ in range(60):
            sess.run(train, feed)
        last = np.mean([sess.run(loss, feed) for _ in range(5)])
    assert last < 0.5 * first


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_approx_max_k_and_min_k_are_exact_top_k_with_gradients(axis):
    x = np.random.RandomState(9).randn(4, 6, 3).astype(np.float32)
    values, indices = tf.math.approx_max_k(x, 2, reduction_dimension=axis)
    low, low_idx = tf.nn.approx_min_k(x, 3, reduction_dimension=axis)
    got = _run([values, indices, low, low_idx])
    order = np.argsort(-x, axis=axis, kind="stable")
    np.testing.assert_array_equal(got[1], np.take(order, [0, 1], axis=axis))
    np.testing.assert_array_equal(got[0], np.take_along_axis(x, got[1], axis=axis))
    np.testing.assert_array_equal(got[3], np.take(np.argsort(x, axis=axis, kind="stable"), [0, 1, 2], axis=axis))
    assert values.shape.as_list()[axis] == 2 and indices.dtype == tf.int32 and values.op.type == "ApproxTopK"
    assert tf.nn.approx_max_k is tf.math.approx_max_k
    check_gradients(lambda a: tf.cast(tf.nn.approx_max_k(tf.cast(a, tf.float32), 2, reduction_dimension=axis)[0],
                                      tf.float64), [x.astype(np.float64)], delta=1e-3, rtol=1e-3, atol=1e-4)


def test_approx_top_k_with_k_above_the_dimension_is_refused():
    with pytest.raises(ValueError, match="must not exceed"):
        tf.nn.approx_max_k(tf.zeros([2, 3]), 4)
    with pytest.raises(tf.errors.InvalidArgumentError, match="must not exceed"):
        p = tf.placeholder(tf.float32, [None, None])
        _run(tf.nn.approx_max_k(p, 4)[0], {p: np.zeros((2, 3))})
