"""String hash buckets against TensorFlow's recorded values (tools/tf_fixtures/gen_records.py): FarmHash
Fingerprint64, keyed SipHash-2-4 and TF's legacy Hash64 on strings of every length up to 80 bytes and longer ones
up to 200 (each hash branches on the length)."""

from __future__ import annotations

import numpy as np
import pytest
from tf_recorded_cases import CASES, HASH_PREFIX, check_case

import tfmini as tf
from tfmini.framework import errors
from tfmini.ops import string_hash_ops

HASH_CASES = sorted(n for n in CASES if n.startswith(HASH_PREFIX))


@pytest.mark.parametrize("name", HASH_CASES)
def test_matches_tensorflow(name):
    check_case(name)


def test_vectorized_fingerprint_matches_the_scalar_one():
    rng = np.random.RandomState(9)
    data = np.empty(3000, dtype=object)
    data[:] = [rng.bytes(int(n)) for n in rng.randint(0, 140, size=3000)]
    want = np.array([string_hash_ops.fingerprint64(s) for s in data], dtype=np.uint64)
    np.testing.assert_array_equal(string_hash_ops.fingerprint64_many(data.reshape(30, 100)), want.reshape(30, 100))


def test_hash_buckets_check_their_attrs():
    with pytest.raises(ValueError, match="num_buckets"):
        tf.string_to_hash_bucket_fast(["a"], 0)
    with tf.Session() as sess, pytest.raises(errors.InvalidArgumentError, match="Key must have 2 elements"):
        sess.run(tf.strings.to_hash_bucket_strong(["a"], 10, [1, 2, 3]))


def test_hash_bucket_fast_spreads_random_strings_evenly():
    rng = np.random.RandomState(6)
    data = [rng.bytes(int(n)) for n in rng.randint(0, 100, size=4000)]
    with tf.Session() as sess:
        buckets = sess.run(tf.strings.to_hash_bucket_fast(data, 8))
    counts = np.bincount(buckets, minlength=8)
    assert counts.min() > 400 and counts.max() < 600


def test_legacy_hash_bucket_takes_either_argument_name():
    with tf.Session() as sess:
        a = sess.run(tf.strings.to_hash_bucket(input=["x", "y"], num_buckets=97))
        b = sess.run(tf.string_to_hash_bucket(["x", "y"], 97))
    assert a.tolist() == b.tolist()
    with pytest.raises(ValueError, match="Exactly one"):
        tf.string_to_hash_bucket(["x"], 3, input=["y"])


def test_public_names():
    assert tf.strings.to_hash_bucket_fast is tf.string_to_hash_bucket_fast is string_hash_ops.string_to_hash_bucket_fast
    assert tf.strings.to_hash_bucket_strong is tf.string_to_hash_bucket_strong
    assert tf.string_to_hash_bucket is string_hash_ops.string_to_hash_bucket
    assert tf.strings.to_hash_bucket is tf.string_to_hash_bucket
