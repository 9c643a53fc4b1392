"""tf.data sources and transformations: the elements (and their order) each yields against NumPy/Python
references, static output types and shapes, and TF's errors for bad pipelines."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import tfmini as tf


def _elements(dataset, limit: int = 10_000) -> list:
    """Every element of `dataset`, read through a one-shot iterator until OutOfRangeError."""
    nxt = dataset.make_one_shot_iterator().get_next()
    out = []
    with tf.Session() as sess:
        for _ in range(limit):
            try:
                out.append(sess.run(nxt))
            except tf.errors.OutOfRangeError:
                return out
    raise AssertionError("the dataset did not end")


def _ints(dataset) -> list:
    return [int(x) for x in _elements(dataset)]


# ----------------------------------------------------------------------------------------------------------
# Sources
# ----------------------------------------------------------------------------------------------------------
def test_from_tensor_slices_yields_rows_of_every_component():
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    y = np.array([1, 0, 1, 1], dtype=np.int32)
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    assert ds.output_types == (tf.float32, tf.int32)
    assert [s.as_list() for s in ds.output_shapes] == [[3], []]
    got = _elements(ds)
    assert len(got) == 4
    for i, (a, b) in enumerate(got):
        np.testing.assert_array_equal(a, x[i])
        assert b == y[i] and a.dtype == np.float32


def test_from_tensor_slices_of_a_dict_keeps_the_keys():
    ds = tf.data.Dataset.from_tensor_slices({"b": [1.0, 2.0], "a": [[1, 2], [3, 4]]})
    assert ds.output_types == {"a": tf.int32, "b": tf.float32}
    got = _elements(ds)
    assert got[1]["b"] == 2.0
    np.testing.assert_array_equal(got[1]["a"], [3, 4])


def test_a_list_is_one_tensor_not_a_structure():
    ds = tf.data.Dataset.from_tensor_slices([[1, 2], [3, 4], [5, 6]])
    assert ds.output_types == tf.int32
    assert ds.output_shapes.as_list() == [2]
    assert [list(e) for e in _elements(ds)] == [[1, 2], [3, 4], [5, 6]]


def test_from_tensor_slices_with_different_first_dimensions_is_a_value_error():
    with pytest.raises(ValueError):
        tf.data.Dataset.from_tensor_slices((np.zeros(3), np.zeros(4)))
    with pytest.raises(ValueError):
        tf.data.Dataset.from_tensor_slices(np.float32(1.0))


def test_from_tensors_is_one_element():
    ds = tf.data.Dataset.from_tensors(([1, 2, 3], "s"))
    assert ds.output_types == (tf.int32, tf.string)
    got = _elements(ds)
    assert len(got) == 1
    np.testing.assert_array_equal(got[0][0], [1, 2, 3])
    assert got[0][1] == b"s"


@pytest.mark.parametrize("args", [(5,), (2, 7), (2, 11, 3), (10, 2, -3), (3, 3), (5, 1)])
def test_range_matches_python_range(args):
    ds = tf.data.Dataset.range(*args)
    assert ds.output_types == tf.int64 and ds.output_shapes.as_list() == []
    assert _ints(ds) == list(range(*args))


def test_zip_stops_at_the_shortest_and_keeps_nesting():
    a = tf.data.Dataset.range(5)
    b = tf.data.Dataset.from_tensor_slices(np.arange(3) * 10.0)
    c = tf.data.Dataset.range(100, 104)
    ds = tf.data.Dataset.zip((a, (b, c)))
    assert ds.output_types == (tf.int64, (tf.float64, tf.int64))
    got = _elements(ds)
    assert [(int(x), float(y), int(z)) for x, (y, z) in got] == [(0, 0.0, 100), (1, 10.0, 101), (2, 20.0, 102)]
    with pytest.raises(TypeError):
        tf.data.Dataset.zip((a, [1, 2]))


def test_concatenate_and_its_type_check():
    ds = tf.data.Dataset.range(3).concatenate(tf.data.Dataset.range(10, 12))
    assert _ints(ds) == [0, 1, 2, 10, 11]
    with pytest.raises(TypeError):
        tf.data.Dataset.range(3).concatenate(tf.data.Dataset.from_tensor_slices([1.0]))


def test_concatenate_generalizes_shapes():
    a = tf.data.Dataset.from_tensors([1, 2])
    b = tf.data.Dataset.from_tensors([1, 2, 3])
    assert a.concatenate(b).output_shapes.as_list() == [None]


# ----------------------------------------------------------------------------------------------------------
# batch, padded_batch, unbatch
# ----------------------------------------------------------------------------------------------------------
def test_batch_stacks_and_keeps_a_short_last_batch():
    ds = tf.data.Dataset.range(10).batch(4)
    assert ds.output_shapes.as_list() == [None]
    got = _elements(ds)
    assert [list(b) for b in got] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_batch_with_drop_remainder_has_a_static_batch_dimension():
    ds = tf.data.Dataset.from_tensor_slices(np.ones((10, 3), np.float32)).batch(4, drop_remainder=True)
    assert ds.output_shapes.as_list() == [4, 3]
    assert [b.shape for b in _elements(ds)] == [(4, 3), (4, 3)]


def test_batch_after_map_stacks_element_by_element():
    ds = tf.data.Dataset.range(7).map(lambda x: (x, tf.cast(x, tf.float32) * 0.5)).batch(3)
    got = _elements(ds)
    assert [list(a) for a, _ in got] == [[0, 1, 2], [3, 4, 5], [6]]
    np.testing.assert_allclose(got[1][1], [1.5, 2.0, 2.5])


def test_batching_elements_of_different_shapes_is_invalid_argument():
    ds = tf.data.Dataset.range(1, 4).map(lambda n: tf.range(n)).batch(3)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Cannot batch tensors with different shapes in "
                       "component 0. First element had shape \\[1\\] and element 1 had shape \\[2\\]"):
        _elements(ds)


def test_batch_of_batches_and_unbatch_round_trip():
    ds = tf.data.Dataset.range(12).batch(3).batch(2)
    assert ds.output_shapes.as_list() == [None, None]
    got = _elements(ds)
    np.testing.assert_array_equal(got[0], [[0, 1, 2], [3, 4, 5]])
    assert _ints(ds.unbatch().unbatch()) == list(range(12))
    assert _ints(tf.data.Dataset.range(5).batch(2).apply(tf.data.experimental.unbatch())) == list(range(5))


def test_unbatch_of_scalars_is_a_value_error():
    with pytest.raises(ValueError):
        tf.data.Dataset.range(3).unbatch()


def test_padded_batch_pads_to_the_longest_and_to_fixed_shapes():
    ds = tf.data.Dataset.range(1, 5).map(lambda n: tf.fill([n], n))
    got = _elements(ds.padded_batch(2, padded_shapes=[None]))
    np.testing.assert_array_equal(got[0], [[1, 0], [2, 2]])
    np.testing.assert_array_equal(got[1], [[3, 3, 3, 0], [4, 4, 4, 4]])
    fixed = ds.padded_batch(3, padded_shapes=[5], padding_values=np.int64(-1))
    assert fixed.output_shapes.as_list() == [None, 5]
    got = _elements(fixed)
    np.testing.assert_array_equal(got[1], [[4, 4, 4, 4, -1]])


def test_padded_batch_of_a_tuple_with_string_padding():
    ds = tf.data.Dataset.from_tensor_slices((["a", "b", "c"], [1, 2, 3])).map(
        lambda s, n: (tf.fill([n], s), n))
    got = _elements(ds.padded_batch(3, padded_shapes=([None], [])))
    assert got[0][0].tolist() == [[b"a", b"", b""], [b"b", b"b", b""], [b"c", b"c", b"c"]]
    assert list(got[0][1]) == [1, 2, 3]


def test_padded_batch_smaller_than_an_element_fails():
    ds = tf.data.Dataset.range(1, 5).map(lambda n: tf.fill([n], n)).padded_batch(4, padded_shapes=[2])
    with pytest.raises(tf.errors.DataLossError, match="pad to a smaller size"):
        _elements(ds)
    with pytest.raises(ValueError, match="not compatible"):
        tf.data.Dataset.from_tensors([1, 2, 3]).padded_batch(2, padded_shapes=[2])


# ----------------------------------------------------------------------------------------------------------
# repeat, take, skip, shard, cache, prefetch, enumerate
# ----------------------------------------------------------------------------------------------------------
def test_repeat_take_skip():
    assert _ints(tf.data.Dataset.range(3).repeat(2)) == [0, 1, 2, 0, 1, 2]
    assert _ints(tf.data.Dataset.range(3).repeat().take(7)) == [0, 1, 2, 0, 1, 2, 0]
    assert _ints(tf.data.Dataset.range(10).skip(7)) == [7, 8, 9]
    assert _ints(tf.data.Dataset.range(10).skip(-1)) == []
    assert _ints(tf.data.Dataset.range(10).take(-1)) == list(range(10))
    assert _ints(tf.data.Dataset.range(10).take(0)) == []
    assert _ints(tf.data.Dataset.range(3).repeat(0)) == []


def test_repeating_an_empty_dataset_forever_ends():
    assert _ints(tf.data.Dataset.range(0).repeat()) == []


def test_shard_takes_every_nth_element():
    assert _ints(tf.data.Dataset.range(10).shard(3, 1)) == [1, 4, 7]
    with pytest.raises(tf.errors.InvalidArgumentError):
        _ints(tf.data.Dataset.range(10).shard(3, 3))


def test_cache_replays_the_first_pass():
    counter = itertools.count()

    def gen():
        for _ in range(3):
            yield next(counter)

    ds = tf.data.Dataset.from_generator(gen, tf.int64).cache().repeat(3)
    assert _ints(ds) == [0, 1, 2] * 3
    assert next(counter) == 3  # the generator ran once


def test_prefetch_and_enumerate():
    assert _ints(tf.data.Dataset.range(4).prefetch(2)) == [0, 1, 2, 3]
    assert _ints(tf.data.Dataset.range(4).prefetch(tf.data.experimental.AUTOTUNE)) == [0, 1, 2, 3]
    got = _elements(tf.data.Dataset.from_tensor_slices(["a", "b"]).enumerate(5))
    assert [(int(i), s) for i, s in got] == [(5, b"a"), (6, b"b")]


def test_apply_must_return_a_dataset():
    assert _ints(tf.data.Dataset.range(5).apply(lambda d: d.skip(3))) == [3, 4]
    with pytest.raises(TypeError):
        tf.data.Dataset.range(5).apply(lambda d: 3)


# ----------------------------------------------------------------------------------------------------------
# shuffle
# ----------------------------------------------------------------------------------------------------------
def test_shuffle_is_a_permutation_that_depends_on_the_seed():
    a = _ints(tf.data.Dataset.range(50).shuffle(50, seed=1))
    b = _ints(tf.data.Dataset.range(50).shuffle(50, seed=1))
    c = _ints(tf.data.Dataset.range(50).shuffle(50, seed=2))
    assert sorted(a) == list(range(50))
    assert a == b and a != c and a != list(range(50))


def test_shuffle_buffer_bounds_how_far_elements_move():
    got = _ints(tf.data.Dataset.range(100).shuffle(5, seed=3))
    assert sorted(got) == list(range(100))
    # With a buffer of 5, the element output at position i was read at most 4 positions later.
    assert all(x <= i + 4 for i, x in enumerate(got))
    assert _ints(tf.data.Dataset.range(10).shuffle(1)) == list(range(10))


def test_shuffle_reshuffles_each_iteration_unless_asked_not_to():
    reshuffled = _ints(tf.data.Dataset.range(20).shuffle(20, seed=5).repeat(2))
    assert reshuffled[:20] != reshuffled[20:] and sorted(reshuffled[20:]) == list(range(20))
    fixed = _ints(tf.data.Dataset.range(20).shuffle(20, seed=5, reshuffle_each_iteration=False).repeat(2))
    assert fixed[:20] == fixed[20:]


def test_shuffle_follows_the_graph_seed():
    def run_with_graph_seed(seed):
        with tf.Graph().as_default():
            tf.set_random_seed(seed)
            return _ints(tf.data.Dataset.range(30).shuffle(30))

    assert run_with_graph_seed(7) == run_with_graph_seed(7)
    assert run_with_graph_seed(7) != run_with_graph_seed(8)


# ----------------------------------------------------------------------------------------------------------
# window
# ----------------------------------------------------------------------------------------------------------
def _windows(ds):
    return [list(map(int, w)) for w in _elements(ds.flat_map(lambda w: w.batch(100)))]


def test_window_with_shift_stride_and_remainder():
    assert _windows(tf.data.Dataset.range(7).window(3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert _windows(tf.data.Dataset.range(7).window(3, drop_remainder=True)) == [[0, 1, 2], [3, 4, 5]]
    assert _windows(tf.data.Dataset.range(7).window(3, shift=2)) == [[0, 1, 2], [2, 3, 4], [4, 5, 6], [6]]
    assert _windows(tf.data.Dataset.range(7).window(3, shift=1, stride=2, drop_remainder=True)) == [
        [0, 2, 4], [1, 3, 5], [2, 4, 6]]
    assert _windows(tf.data.Dataset.range(10).window(2, shift=4)) == [[0, 1], [4, 5], [8, 9]]


def test_window_of_a_tuple_gives_a_tuple_of_datasets():
    ds = tf.data.Dataset.from_tensor_slices((np.arange(5), np.arange(5) * 10)).window(2)
    assert ds.output_classes == (tf.data.Dataset, tf.data.Dataset)
    pairs = _elements(ds.flat_map(lambda a, b: tf.data.Dataset.zip((a.batch(2), b.batch(2)))))
    assert [(list(a), list(b)) for a, b in pairs] == [([0, 1], [0, 10]), ([2, 3], [20, 30]), ([4], [40])]


def test_cache_to_a_file_is_written_by_the_first_full_pass_and_read_afterwards(tmp_path):
    prefix = str(tmp_path / "cache")
    calls = []

    def gen():
        for i in range(4):
            calls.append(i)
            yield (np.full([2], i, np.float32), f"s{i}\x00".encode())

    def build():
        return tf.data.Dataset.from_generator(gen, (tf.float32, tf.string), ([2], [])).cache(prefix)

    first = _elements(build())
    assert len(calls) == 4 and (tmp_path / "cache.tfmini-cache").exists()
    second = _elements(build())  # a new graph and session: read from the file, the generator never runs
    assert len(calls) == 4
    assert [(a.tolist(), s) for a, s in second] == [(a.tolist(), s) for a, s in first]
    assert second[3][1] == b"s3\x00"


def test_a_partial_pass_leaves_no_cache_file(tmp_path):
    prefix = str(tmp_path / "partial")
    assert _ints(tf.data.Dataset.range(10).cache(prefix).take(3)) == [0, 1, 2]
    assert not list(tmp_path.iterdir())  # neither the cache nor the dropped writer's temporary file
    assert _ints(tf.data.Dataset.range(5).cache(prefix)) == list(range(5))
    assert _ints(tf.data.Dataset.range(100).cache(prefix)) == list(range(5))  # as TF: the cache wins


def test_values_fetched_from_a_memory_cache_do_not_change_later_epochs():
    with tf.Graph().as_default():
        ds = tf.data.Dataset.from_tensor_slices(np.arange(4.0).reshape(2, 2)).map(lambda x: x * 1).cache().repeat(2)
        nxt = tf.data.make_one_shot_iterator(ds).get_next()
        with tf.Session() as sess:
            got = []
            for _ in range(4):
                value = sess.run(nxt)
                got.append(value.copy())
                if value.flags.writeable:
                    value[:] = 99
    assert [g.tolist() for g in got] == [[0.0, 1.0], [2.0, 3.0], [0.0, 1.0], [2.0, 3.0]]


def _hostile_cache(prefix, arrays) -> None:
    with open(prefix + ".tfmini-cache", "wb") as f:
        for a in arrays:
            np.save(f, a, allow_pickle=False)


@pytest.mark.parametrize("arrays, what", [
    ([np.array([2**28], np.int64), np.array([1, 1, 1], np.int64), np.frombuffer(b"abc", np.uint8)],
     "has 3 lengths"),
    ([np.array([2], np.int64), np.array([2**62, 2**62], np.int64), np.frombuffer(b"abc", np.uint8)],
     "add up to"),
    ([np.array([1], np.int64), np.array([-1], np.int64), np.frombuffer(b"abc", np.uint8)], "negative"),
])
def test_a_hostile_string_cache_file_is_a_data_loss_error_without_allocating(tmp_path, arrays, what):
    prefix = str(tmp_path / "c")
    _hostile_cache(prefix, arrays)
    with tf.Graph().as_default():
        ds = tf.data.Dataset.from_tensors(tf.constant(["x"])).cache(prefix)
        nxt = tf.data.make_one_shot_iterator(ds).get_next()
        with tf.Session() as sess, pytest.raises(tf.errors.DataLossError, match=what) as info:
            sess.run(nxt)
    assert prefix + ".tfmini-cache" in info.value.message


def test_a_numeric_cache_array_larger_than_the_file_is_a_data_loss_error(tmp_path):
    prefix = str(tmp_path / "n")
    with open(prefix + ".tfmini-cache", "wb") as f:  # a header claiming 2**31 float64 values, then 32 bytes
        np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False, "shape": (2**31,)})
        f.write(bytes(32))
    with tf.Graph().as_default():
        ds = tf.data.Dataset.from_tensors(tf.constant([1.0, 2.0, 3.0, 4.0], tf.float64)).cache(prefix)
        nxt = tf.data.make_one_shot_iterator(ds).get_next()
        with tf.Session() as sess, pytest.raises(tf.errors.DataLossError, match="needs 17179869184 bytes"):
            sess.run(nxt)
        with tf.Session() as sess:  # a session is still usable, and the damaged file stays as it is
            with pytest.raises(tf.errors.DataLossError):
                sess.run(nxt)


# ----------------------------------------------------------------------------------------------------------
# SparseTensor components (element orders and values are checked against TF in test_dataset_tf_fixtures.py)
# ----------------------------------------------------------------------------------------------------------
def test_sparse_elements_keep_their_class_dtype_and_static_shape():
    st = tf.SparseTensor([[0, 1], [2, 0]], np.array([1.0, 2.0], np.float32), [3, 4])
    ds = tf.data.Dataset.from_tensor_slices((st, tf.range(3)))
    assert ds.output_classes == (tf.SparseTensor, tf.Tensor)
    assert ds.output_types == (tf.float32, tf.int32)
    assert ds.output_shapes[0].as_list() == [4]
    batched = ds.map(lambda s, i: (s, i)).batch(2)
    assert batched.output_shapes[0].as_list() == [None, 4]
    sp, _ = batched.make_one_shot_iterator().get_next()
    assert isinstance(sp, tf.SparseTensor) and sp.shape.as_list() == [None, 4]
    with tf.Session() as sess:
        value = sess.run(sp)
    assert isinstance(value, tf.SparseTensorValue)
    assert value.indices.tolist() == [[0, 1]] and value.dense_shape.tolist() == [2, 4]


def test_map_over_sparse_elements_and_iterator_from_structure():
    ds = tf.data.Dataset.from_tensors(tf.SparseTensor([[0], [2]], [1, 5], [4])).map(
        lambda s: (tf.sparse_tensor_to_dense(s), s))
    it = tf.data.Iterator.from_structure(ds.output_types, ds.output_shapes, output_classes=ds.output_classes)
    dense, sparse = it.get_next()
    with tf.Session() as sess:
        sess.run(it.make_initializer(ds))
        d, s = sess.run([dense, sparse])
    assert d.tolist() == [1, 0, 5, 0] and s.values.tolist() == [1, 5]


def test_padded_batch_of_sparse_elements_is_a_type_error():
    ds = tf.data.Dataset.from_tensors(tf.SparseTensor([[0]], [1], [2]))
    with pytest.raises(TypeError, match="SparseTensor"):
        ds.padded_batch(2, [None])
