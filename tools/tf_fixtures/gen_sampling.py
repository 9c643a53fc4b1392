"""Records TensorFlow's outputs for the candidate samplers, sampled losses, CTC ops and tf.nn composites, for
tests/ops/test_candidate_sampling_ops.py, test_ctc_ops.py and test_nn_sampled.py.

Run with the TensorFlow environment: /work/tfenv/bin/python tools/tf_fixtures/gen_sampling.py
Writes tests/fixtures/tf/sampling/{samplers,sampled_losses,ctc,composites}.npz: each case's inputs and
TensorFlow's results under "<case>/<name>" keys. Inputs come from a fixed NumPy seed; sampled ids are given
explicitly wherever a result depends on them (TensorFlow's sampler draws cannot be reproduced).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "tf", "sampling")


def run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


def samplers() -> dict:
    """Expected counts that do not depend on the draws: the true classes' with unique=False, after each of
    three runs of a learned sampler, and fixed-unigram tables with reserved ids, shards and distortion."""
    out = {}
    true = np.array([[0, 3], [7, 9], [1, 1]], dtype=np.int64)
    cases = {
        "uniform": lambda t: tf.random.uniform_candidate_sampler(t, 2, 5, False, 10, seed=1),
        "log_uniform": lambda t: tf.random.log_uniform_candidate_sampler(t, 2, 5, False, 10, seed=1),
        "fixed": lambda t: tf.random.fixed_unigram_candidate_sampler(
            t, 2, 4, False, 12, unigrams=list(np.arange(1.0, 11.0)), num_reserved_ids=2, distortion=0.75, seed=1),
        "fixed_shard0": lambda t: tf.random.fixed_unigram_candidate_sampler(
            t % 6, 2, 4, False, 6, unigrams=list(np.arange(1.0, 11.0)), num_reserved_ids=2, num_shards=2,
            shard=0, seed=1),
        "fixed_shard1": lambda t: tf.random.fixed_unigram_candidate_sampler(
            t % 6, 2, 4, False, 6, unigrams=list(np.arange(1.0, 11.0)), num_reserved_ids=2, num_shards=2,
            shard=1, seed=1),
        "fixed_shard1_of_3": lambda t: tf.random.fixed_unigram_candidate_sampler(
            t % 3, 2, 3, False, 3, unigrams=list(np.arange(1.0, 11.0)), num_reserved_ids=1, num_shards=3,
            shard=1, seed=1),
    }
    for name, make in cases.items():
        with tf.Graph().as_default():
            r = run(make(tf.constant(true)))
            out[f"{name}/true_expected_count"] = r.true_expected_count
    with tf.Graph().as_default():
        s = tf.random.learned_unigram_candidate_sampler(tf.constant(true), 2, 4, False, 10, seed=1)
        with tf.Session() as sess:
            out["learned/true_expected_count"] = np.stack([sess.run(s).true_expected_count for _ in range(3)])
    out["true"] = true
    return out


def sampled_losses() -> dict:
    rng = np.random.RandomState(0)
    out = {}
    num_classes, dim, batch = 12, 4, 3
    weights = rng.randn(num_classes, dim).astype(np.float32)
    biases = rng.randn(num_classes).astype(np.float32)
    inputs = rng.randn(batch, dim).astype(np.float32)
    out.update({"weights": weights, "biases": biases, "inputs": inputs})
    cases = {
        "nce_1": dict(fn="nce", num_true=1, labels=[[2], [5], [7]], sampled=[1, 5, 9, 2], hits=False,
                      strategy="mod", parts=1),
        "nce_2_hits": dict(fn="nce", num_true=2, labels=[[2, 3], [5, 5], [7, 0]], sampled=[1, 5, 9, 2, 3],
                           hits=True, strategy="mod", parts=1),
        "softmax_1": dict(fn="softmax", num_true=1, labels=[[2], [5], [7]], sampled=[1, 5, 9, 2], hits=True,
                          strategy="mod", parts=1),
        "softmax_2_nohits": dict(fn="softmax", num_true=2, labels=[[2, 3], [5, 11], [7, 0]],
                                 sampled=[1, 5, 9, 2, 3], hits=False, strategy="mod", parts=1),
        "softmax_mod_parts": dict(fn="softmax", num_true=1, labels=[[2], [5], [7]], sampled=[1, 5, 9, 10],
                                  hits=True, strategy="mod", parts=3),
        "nce_div_parts": dict(fn="nce", num_true=1, labels=[[2], [5], [11]], sampled=[1, 5, 9, 10], hits=True,
                              strategy="div", parts=3),
    }
    for name, c in cases.items():
        labels = np.array(c["labels"], dtype=np.int64)
        sampled = np.array(c["sampled"], dtype=np.int64)
        true_expected = rng.uniform(0.1, 0.9, size=labels.shape).astype(np.float32)
        sampled_expected = rng.uniform(0.1, 0.9, size=sampled.shape).astype(np.float32)
        with tf.Graph().as_default():
            w = tf.constant(weights)
            parts = tf.split(w, c["parts"], 0) if c["strategy"] == "div" else \
                [tf.gather(w, np.arange(p, num_classes, c["parts"])) for p in range(c["parts"])]
            b, x = tf.constant(biases), tf.constant(inputs)
            fn = tf.nn.nce_loss if c["fn"] == "nce" else tf.nn.sampled_softmax_loss
            loss = fn(parts if c["parts"] > 1 else w, b, labels, x, len(sampled), num_classes,
                      num_true=c["num_true"], sampled_values=(sampled, true_expected, sampled_expected),
                      remove_accidental_hits=c["hits"], partition_strategy=c["strategy"])
            gw, gb, gx = tf.gradients(tf.reduce_sum(loss * np.arange(1.0, batch + 1, dtype=np.float32)),
                                      [w, b, x])
            loss, gw, gb, gx = run([loss, tf.convert_to_tensor(gw), tf.convert_to_tensor(gb), gx])
        for k, v in dict(labels=labels, sampled=sampled, true_expected=true_expected,
                         sampled_expected=sampled_expected, loss=loss, grad_weights=gw, grad_biases=gb,
                         grad_inputs=gx).items():
            out[f"{name}/{k}"] = v
    return out


def ctc() -> dict:
    rng = np.random.RandomState(1)
    out = {}
    t_max, batch, classes = 7, 4, 5
    labels = [[0, 1, 1], [2], [3, 3, 0, 0], [1, 2]]
    seq_len = np.array([7, 5, 7, 2], dtype=np.int32)
    idx = np.array([[b, i] for b, lab in enumerate(labels) for i in range(len(lab))], dtype=np.int64)
    vals = np.array([v for lab in labels for v in lab], dtype=np.int32)
    shape = np.array([batch, 4], dtype=np.int64)
    logits = rng.randn(t_max, batch, classes).astype(np.float32) * 2
    out.update({"labels_indices": idx, "labels_values": vals, "labels_shape": shape, "logits": logits,
                "seq_len": seq_len})
    configs = {
        "default": dict(),
        "no_merge": dict(ctc_merge_repeated=False),
        "collapse": dict(preprocess_collapse_repeated=True),
        "collapse_no_merge": dict(preprocess_collapse_repeated=True, ctc_merge_repeated=False),
    }
    short = np.array([7, 5, 7, 1], dtype=np.int32)  # batch entry 3 has 2 labels in 1 step
    for name, kw in configs.items():
        with tf.Graph().as_default():
            x = tf.constant(logits)
            sp = tf.SparseTensor(idx, vals, shape)
            loss = tf.nn.ctc_loss(sp, x, seq_len, **kw)
            g = tf.gradients(tf.reduce_sum(loss * np.arange(1.0, batch + 1, dtype=np.float32)), x)[0]
            out[f"{name}/loss"], out[f"{name}/grad"] = run([loss, g])
    with tf.Graph().as_default():
        x = tf.constant(logits)
        loss = tf.nn.ctc_loss(tf.SparseTensor(idx, vals, shape), x, short, ignore_longer_outputs_than_inputs=True)
        out["ignore_longer/loss"], out["ignore_longer/grad"] = run([loss, tf.gradients(loss, x)[0]])
    with tf.Graph().as_default():
        x = tf.constant(np.transpose(logits, [1, 0, 2]).astype(np.float64))
        loss = tf.nn.ctc_loss(tf.SparseTensor(idx, vals, shape), x, seq_len, time_major=False)
        out["batch_major_f64/loss"], out["batch_major_f64/grad"] = run([loss, tf.gradients(loss, x)[0]])
    # TF2's loss with dense labels (blank 0) and with sparse labels and a blank in the middle.
    dense = np.array([[1, 2, 2, 0], [3, 0, 0, 0], [4, 4, 1, 1], [2, 3, 0, 0]], dtype=np.int32)
    dense_len = np.array([3, 1, 4, 2], dtype=np.int32)
    out["v2/labels"], out["v2/label_length"] = dense, dense_len
    with tf.Graph().as_default():
        x = tf.constant(logits)
        loss = tf.nn.ctc_loss_v2(dense, x, dense_len, seq_len)
        out["v2_dense/loss"], out["v2_dense/grad"] = run([loss, tf.gradients(loss, x)[0]])
        loss = tf.nn.ctc_loss_v2(tf.SparseTensor(idx, vals, shape), x, None, seq_len, blank_index=2)
        out["v2_sparse_blank2/loss"], out["v2_sparse_blank2/grad"] = run([loss, tf.gradients(loss, x)[0]])
        # An empty label sequence (TF2's dense loss takes it: the all-blank path), blank in the middle.
        empty_len = np.array([3, 0, 0, 2], dtype=np.int32)
        loss = tf.nn.ctc_loss_v2(dense, x, empty_len, seq_len, blank_index=-1)
        out["v2_dense_empty/label_length"] = empty_len
        out["v2_dense_empty/loss"], out["v2_dense_empty/grad"] = run([loss, tf.gradients(loss, x)[0]])
    # Decoders: a peaked input (repeats, blanks) and random logits.
    # Small noise keeps the decoders free of ties, whose order is TensorFlow's implementation detail.
    peaked = np.log(rng.uniform(0.01, 0.03, size=(t_max, batch, classes))).astype(np.float32)
    best = np.array([[0, 0, 4, 0, 1, 1, 4], [2, 4, 2, 2, 3, 4, 4], [4, 4, 4, 4, 4, 4, 4], [1, 3, 3, 0, 0, 4, 2]])
    for t in range(t_max):
        for b in range(batch):
            peaked[t, b, best[b, t]] = np.log(0.92)
    out["peaked"] = peaked
    for src_name, src in (("peaked", peaked), ("random", logits)):
        for merge in (True, False):
            with tf.Graph().as_default():
                (d,), lp = tf.nn.ctc_greedy_decoder(src, seq_len, merge_repeated=merge)
                d, lp = run([d, lp])
                key = f"greedy_{src_name}_{'merge' if merge else 'nomerge'}"
                out.update({f"{key}/indices": d.indices, f"{key}/values": d.values, f"{key}/shape": d.dense_shape,
                            f"{key}/log_probability": lp})
            with tf.Graph().as_default():
                decoded, lp = tf.nn.ctc_beam_search_decoder(src, seq_len, beam_width=6, top_paths=3,
                                                            merge_repeated=merge)
                decoded, lp = run([decoded, lp])
                key = f"beam_{src_name}_{'merge' if merge else 'nomerge'}"
                out[f"{key}/log_probability"] = lp
                for p, d in enumerate(decoded):
                    out.update({f"{key}/{p}/indices": d.indices, f"{key}/{p}/values": d.values,
                                f"{key}/{p}/shape": d.dense_shape})
    with tf.Graph().as_default():
        wide = rng.randn(12, 2, 8).astype(np.float32)
        out["beam_wide/logits"] = wide
        decoded, lp = tf.nn.ctc_beam_search_decoder(wide, [12, 9], beam_width=20, top_paths=4)
        decoded, lp = run([decoded, lp])
        out["beam_wide/log_probability"] = lp
        for p, d in enumerate(decoded):
            out.update({f"beam_wide/{p}/indices": d.indices, f"beam_wide/{p}/values": d.values,
                        f"beam_wide/{p}/shape": d.dense_shape})
    with tf.Graph().as_default():
        coll, coll_len = tf.nn.collapse_repeated(np.array([[1, 1, 2, 2, 3], [4, 4, 4, 0, 0], [5, 6, 6, 6, 6]],
                                                          np.int32), np.array([5, 3, 3], np.int32))
        out["collapse_repeated/labels"], out["collapse_repeated/lengths"] = run([coll, coll_len])
        u, i = tf.nn.ctc_unique_labels(np.array([[3, 1, 3, 2], [5, 5, 5, 5]], np.int64))
        out["unique_labels/labels"], out["unique_labels/idx"] = run([u, i])
    return out


def composites() -> dict:
    rng = np.random.RandomState(2)
    out = {}
    params = rng.randn(10, 3).astype(np.float32)
    out["params"] = params
    ids = tf.SparseTensorValue(np.array([[0, 0], [0, 1], [2, 0], [2, 1], [2, 2], [3, 0]], np.int64),
                               np.array([1, 4, 4, 7, 0, 9], np.int64), np.array([5, 3], np.int64))
    w = np.array([0.5, 2.0, 1.0, 0.25, 3.0, 1.5], np.float32)
    out["ids/indices"], out["ids/values"], out["ids/shape"], out["ids/weights"] = (ids.indices, ids.values,
                                                                                   ids.dense_shape, w)
    for combiner in ("sum", "mean", "sqrtn"):
        for weighted in (False, True):
            with tf.Graph().as_default():
                p = tf.constant(params)
                sp = tf.SparseTensor(*ids)
                spw = tf.SparseTensor(ids.indices, w, ids.dense_shape) if weighted else None
                r = tf.nn.embedding_lookup_sparse(p, sp, spw, combiner=combiner)
                g = tf.gradients(tf.reduce_sum(r * r), p)[0]
                key = f"els_{combiner}_{'w' if weighted else 'nw'}"
                out[f"{key}/result"], out[f"{key}/grad"] = run([r, tf.convert_to_tensor(g)])
    # safe_embedding_lookup_sparse: invalid ids, non-positive weights, empty rows, rank 3
    sids = tf.SparseTensorValue(np.array([[0, 0, 0], [0, 0, 1], [0, 2, 0], [1, 0, 0], [1, 1, 0], [1, 1, 1]],
                                         np.int64),
                                np.array([3, -1, 5, 2, 8, 6], np.int64), np.array([2, 3, 2], np.int64))
    sw = np.array([1.0, 2.0, 0.0, 0.5, -1.0, 2.0], np.float32)
    out["safe/indices"], out["safe/values"], out["safe/shape"], out["safe/weights"] = (
        sids.indices, sids.values, sids.dense_shape, sw)
    for combiner in ("sum", "mean", "sqrtn"):
        for weighted in (False, True):
            for default_id in (None, 4):
                with tf.Graph().as_default():
                    p = tf.constant(params)
                    sp = tf.SparseTensor(*sids)
                    spw = tf.SparseTensor(sids.indices, sw, sids.dense_shape) if weighted else None
                    r = tf.nn.safe_embedding_lookup_sparse(p, sp, spw, combiner=combiner, default_id=default_id)
                    g = tf.gradients(tf.reduce_sum(r * r), p)[0]
                    key = f"safe_{combiner}_{'w' if weighted else 'nw'}_{default_id}"
                    out[f"{key}/result"], out[f"{key}/grad"] = run([r, tf.convert_to_tensor(g)])
    targets = np.array([0.0, 0.5, 1.0, 2.0, 7.0], np.float32)
    log_input = rng.randn(5).astype(np.float32)
    out["poisson/targets"], out["poisson/log_input"] = targets, log_input
    with tf.Graph().as_default():
        out["poisson/loss"] = run(tf.nn.log_poisson_loss(targets, log_input))
        out["poisson/full"] = run(tf.nn.log_poisson_loss(targets, log_input, compute_full_loss=True))
    x = rng.randn(3, 4, 2).astype(np.float32)
    out["moments/x"] = x
    with tf.Graph().as_default():
        c, m, v, s = tf.nn.sufficient_statistics(x, [0, 2], shift=0.5)
        out["moments/count"], out["moments/mean_ss"], out["moments/var_ss"] = run([c, m, v])
        mean, var = tf.nn.normalize_moments(c, m, v, 0.5)
        out["moments/mean"], out["moments/variance"] = run([mean, var])
    return out


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    for name, make in (("samplers", samplers), ("sampled_losses", sampled_losses), ("ctc", ctc),
                       ("composites", composites)):
        np.savez_compressed(os.path.join(OUT, f"{name}.npz"), **make())


if __name__ == "__main__":
    main()
