"""tf.data functions and generators: map / filter / flat_map / interleave bodies traced into function graphs
(any op works inside, captured placeholders and variables become op inputs), from_generator called lazily
at run time, and the errors for functions and generators that return the wrong thing."""

from __future__ import annotations

import collections
import time

import numpy as np
import pytest

import tfmini as tf

Point = collections.namedtuple("Point", ["x", "y"])


def _elements(dataset, feed=None, limit: int = 10_000) -> list:
    it = dataset.make_initializable_iterator()
    nxt = it.get_next()
    out = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(it.initializer, feed)
        for _ in range(limit):
            try:
                out.append(sess.run(nxt))
            except tf.errors.OutOfRangeError:
                return out
    raise AssertionError("the dataset did not end")


def _ints(dataset, feed=None) -> list:
    return [int(x) for x in _elements(dataset, feed)]


# ----------------------------------------------------------------------------------------------------------
# map
# ----------------------------------------------------------------------------------------------------------
def test_map_runs_any_ops_and_unpacks_tuples():
    x = np.random.RandomState(0).randn(6, 3).astype(np.float32)
    ds = tf.data.Dataset.from_tensor_slices((x, np.arange(6))).map(
        lambda row, i: (tf.nn.softmax(row), tf.reduce_sum(row), tf.equal(i % 2, 0)), num_parallel_calls=4)
    assert ds.output_types == (tf.float32, tf.float32, tf.bool)
    assert ds.output_shapes[0].as_list() == [3]
    got = _elements(ds)
    e = np.exp(x - x.max(1, keepdims=True))
    for i, (sm, s, even) in enumerate(got):
        np.testing.assert_allclose(sm, e[i] / e[i].sum(), rtol=1e-6)
        np.testing.assert_allclose(s, x[i].sum(), rtol=1e-6)
        assert even == (i % 2 == 0)


def test_map_passes_a_dict_as_one_argument_and_may_return_a_dict():
    ds = tf.data.Dataset.from_tensor_slices({"a": [1, 2], "b": [10, 20]}).map(
        lambda d: {"sum": d["a"] + d["b"], "a": d["a"]})
    assert [int(e["sum"]) for e in _elements(ds)] == [11, 22]


def test_map_returning_a_list_gives_a_tuple():
    ds = tf.data.Dataset.range(3).map(lambda x: [x, x * 2])
    assert ds.output_types == (tf.int64, tf.int64)
    assert [(int(a), int(b)) for a, b in _elements(ds)] == [(0, 0), (1, 2), (2, 4)]


def test_map_with_a_namedtuple_element():
    ds = tf.data.Dataset.from_tensors(Point(tf.constant(1.0), tf.constant(2.0))).map(lambda p: p.x + p.y)
    assert [float(v) for v in _elements(ds)] == [3.0]


def test_map_captures_placeholders_bound_when_the_iterator_is_initialized():
    offset = tf.placeholder(tf.int64, [])
    ds = tf.data.Dataset.range(3).map(lambda x: x + offset)
    assert _ints(ds, {offset: 10}) == [10, 11, 12]


def test_map_reads_a_captured_variable_when_the_iterator_is_initialized():
    # As in TensorFlow (recorded): the variable's value is read when the dataset op runs, at initialization.
    v = tf.Variable(1, dtype=tf.int64)
    ds = tf.data.Dataset.range(4).map(lambda x: x * v)
    it = ds.make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        sess.run(v.initializer)
        sess.run(it.initializer)
        assert sess.run(nxt) == 0
        assert sess.run(nxt) == 1
        sess.run(v.assign(10))
        assert sess.run(nxt) == 2
        sess.run(it.initializer)
        assert [sess.run(nxt), sess.run(nxt)] == [0, 10]


def test_map_with_random_ops_and_a_seed_is_repeatable():
    def draw():
        with tf.Graph().as_default():
            tf.set_random_seed(3)
            ds = tf.data.Dataset.range(4).map(lambda x: tf.random_uniform([]))
            return [float(v) for v in _elements(ds)]

    a, b = draw(), draw()
    assert a == b and len(set(a)) == 4


def test_nested_maps_and_functions_with_control_flow():
    ds = tf.data.Dataset.range(6).map(lambda x: tf.cond(x < 3, lambda: x * 10, lambda: -x)).map(
        lambda x: tf.while_loop(lambda i, acc: i < 3, lambda i, acc: (i + 1, acc + x),
                                [0, tf.constant(0, tf.int64)])[1])
    assert _ints(ds) == [0, 30, 60, -9, -12, -15]


def test_an_error_inside_map_names_the_body_op_and_the_iterator_goes_on():
    ds = tf.data.Dataset.from_tensor_slices([1.0, -1.0, 4.0]).map(
        lambda x: tf.debugging.check_numerics(tf.sqrt(x), "bad sqrt"))
    it = ds.make_one_shot_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        assert sess.run(nxt) == 1.0
        with pytest.raises(tf.errors.InvalidArgumentError, match="bad sqrt"):
            sess.run(nxt)
        assert sess.run(nxt) == 2.0
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(nxt)


def test_map_function_errors_at_graph_construction():
    with pytest.raises(TypeError, match="must return a value"):
        tf.data.Dataset.range(3).map(lambda x: None)
    with pytest.raises(TypeError):
        tf.data.Dataset.range(3).map(lambda x, y: x)
    with pytest.raises(TypeError, match="callable"):
        tf.data.Dataset.range(3).map(3)


# ----------------------------------------------------------------------------------------------------------
# filter
# ----------------------------------------------------------------------------------------------------------
def test_filter_keeps_elements_where_the_predicate_holds():
    ds = tf.data.Dataset.range(20).filter(lambda x: tf.equal(x % 3, 0))
    assert _ints(ds) == [0, 3, 6, 9, 12, 15, 18]
    pairs = tf.data.Dataset.from_tensor_slices((np.arange(6), np.arange(6) * 1.5)).filter(lambda i, f: f > 4.0)
    assert [int(i) for i, _ in _elements(pairs)] == [3, 4, 5]


def test_filter_predicate_must_be_a_scalar_bool():
    with pytest.raises(ValueError, match="scalar boolean"):
        tf.data.Dataset.range(3).filter(lambda x: x)
    with pytest.raises(ValueError, match="scalar boolean"):
        tf.data.Dataset.range(3).filter(lambda x: tf.fill([2], True))


# ----------------------------------------------------------------------------------------------------------
# flat_map, interleave
# ----------------------------------------------------------------------------------------------------------
def test_flat_map_concatenates_the_datasets_in_order():
    ds = tf.data.Dataset.range(1, 4).flat_map(lambda n: tf.data.Dataset.range(n).map(lambda i: i + 10 * n))
    assert _ints(ds) == [10, 20, 21, 30, 31, 32]
    with pytest.raises(TypeError, match="must return a `Dataset`"):
        tf.data.Dataset.range(3).flat_map(lambda x: x)


def test_flat_map_of_slices_captures_outer_tensors():
    table = tf.constant([[1, 2], [3, 4], [5, 6]])
    ds = tf.data.Dataset.range(3).flat_map(lambda i: tf.data.Dataset.from_tensor_slices(table[i]))
    assert _ints(ds) == [1, 2, 3, 4, 5, 6]


def _repeat_n(x):
    return tf.data.Dataset.from_tensors(x).repeat(x)


# Orders recorded from TensorFlow for Dataset.range(1, 6).interleave(_repeat_n, cycle_length, block_length).
@pytest.mark.parametrize("cycle,block,expected", [
    (2, 2, [1, 2, 2, 3, 3, 3, 4, 4, 5, 5, 4, 4, 5, 5, 5]),
    (3, 1, [1, 2, 3, 2, 3, 4, 3, 4, 5, 4, 5, 4, 5, 5, 5]),
    (1, 3, [1, 2, 2, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 5]),
])
def test_interleave_order_matches_tensorflow(cycle, block, expected):
    assert _ints(tf.data.Dataset.range(1, 6).interleave(_repeat_n, cycle, block)) == expected
    parallel = tf.data.Dataset.range(1, 6).interleave(_repeat_n, cycle, block, num_parallel_calls=2)
    assert _ints(parallel) == expected


def test_interleave_of_files_like_datasets():
    ds = tf.data.Dataset.from_tensor_slices(["a", "b"]).interleave(
        lambda s: tf.data.Dataset.from_tensors(s).repeat(3), cycle_length=2, block_length=1)
    assert _elements(ds) == [b"a", b"b"] * 3
    exp = tf.data.Dataset.range(1, 6).apply(tf.data.experimental.parallel_interleave(_repeat_n, 2, 2))
    assert _ints(exp)[:4] == [1, 2, 2, 3]


# ----------------------------------------------------------------------------------------------------------
# from_generator
# ----------------------------------------------------------------------------------------------------------
def test_from_generator_with_structures_and_args():
    def gen(n, scale):
        for i in range(n):
            yield (i * scale, [i] * 2)

    ds = tf.data.Dataset.from_generator(gen, (tf.float32, tf.int32), (tf.TensorShape([]), tf.TensorShape([2])),
                                        args=(3, 0.5))
    assert ds.output_shapes[1].as_list() == [2]
    got = _elements(ds)
    assert [(float(a), list(b)) for a, b in got] == [(0.0, [0, 0]), (0.5, [1, 1]), (1.0, [2, 2])]
    assert got[0][0].dtype == np.float32


def test_from_generator_is_lazy_over_a_million_rows():
    pulled = []

    def rows():
        for i in range(10**6):
            pulled.append(i)
            yield np.full([4], i, dtype=np.float32)

    ds = tf.data.Dataset.from_generator(rows, tf.float32, tf.TensorShape([4])).map(lambda r: r * 2).take(3)
    start = time.perf_counter()
    got = _elements(ds)
    assert time.perf_counter() - start < 2.0
    assert [float(r[0]) for r in got] == [0.0, 2.0, 4.0]
    assert len(pulled) == 3


def test_a_million_row_range_is_never_materialized():
    ds = tf.data.Dataset.range(10**12).map(lambda x: x * 2).filter(lambda x: tf.equal(x % 3, 0)).batch(2).take(2)
    start = time.perf_counter()
    assert [list(b) for b in _elements(ds)] == [[0, 6], [12, 18]]
    assert time.perf_counter() - start < 2.0


def test_from_generator_restarts_on_reinitialization():
    ds = tf.data.Dataset.from_generator(lambda: iter([1, 2]), tf.int64)
    it = ds.make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        for _ in range(2):
            sess.run(it.initializer)
            assert [sess.run(nxt), sess.run(nxt)] == [1, 2]
            with pytest.raises(tf.errors.OutOfRangeError):
                sess.run(nxt)


def test_from_generator_yielding_the_wrong_type_or_shape_is_invalid_argument():
    bad_type = tf.data.Dataset.from_generator(lambda: iter(["x"]), tf.int64)
    with pytest.raises(tf.errors.InvalidArgumentError, match="expected type"):
        _elements(bad_type)
    bad_shape = tf.data.Dataset.from_generator(lambda: iter([[1, 2, 3]]), tf.int64, tf.TensorShape([2]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="shape"):
        _elements(bad_shape)
    bad_structure = tf.data.Dataset.from_generator(lambda: iter([1]), (tf.int64, tf.int64))
    with pytest.raises(tf.errors.InvalidArgumentError, match="structure"):
        _elements(bad_structure)


def test_an_exception_in_the_generator_surfaces_as_an_op_error():
    def gen():
        yield 1
        raise RuntimeError("generator broke")

    with pytest.raises(tf.errors.UnknownError, match="generator broke"):
        _elements(tf.data.Dataset.from_generator(gen, tf.int64))


# ----------------------------------------------------------------------------------------------------------
# reduce, ignore_errors, list_files
# ----------------------------------------------------------------------------------------------------------
def test_reduce_folds_every_element():
    ds = tf.data.Dataset.from_tensor_slices((np.arange(5), np.arange(5) * 0.5))
    total = ds.reduce(np.float64(0.0), lambda s, el: s + tf.cast(el[0], tf.float64) * el[1])
    count_and_list = tf.data.Dataset.range(4).reduce(
        (np.int64(0), tf.zeros([0], tf.int64)), lambda s, x: (s[0] + 1, tf.concat([s[1], [x * x]], 0)))
    assert count_and_list[1].shape.as_list() == [None]
    with tf.Session() as sess:
        t, (n, squares) = sess.run([total, count_and_list])
    assert t == sum(i * i * 0.5 for i in range(5))
    assert n == 4 and squares.tolist() == [0, 1, 4, 9]


def test_reduce_state_must_keep_its_structure_and_types():
    with pytest.raises(TypeError):
        tf.data.Dataset.range(3).reduce(np.int64(0), lambda s, x: (s, x))
    with pytest.raises(TypeError):
        tf.data.Dataset.range(3).reduce(np.int64(0), lambda s, x: tf.cast(s, tf.float32))


def test_ignore_errors_skips_failed_elements():
    ds = tf.data.Dataset.from_tensor_slices([1.0, -1.0, 4.0, -2.0, 9.0]).map(
        lambda x: tf.debugging.check_numerics(tf.sqrt(x), "bad")).apply(tf.data.experimental.ignore_errors())
    assert [float(v) for v in _elements(ds)] == [1.0, 2.0, 3.0]


def test_list_files_matches_a_glob_and_shuffles_unless_asked_not_to(tmp_path):
    for name in ("b.txt", "a.txt", "c.csv"):
        (tmp_path / name).write_text(name)
    pattern = str(tmp_path / "*.txt")
    ordered = _elements(tf.data.Dataset.list_files(pattern, shuffle=False))
    assert ordered == [str(tmp_path / "a.txt").encode(), str(tmp_path / "b.txt").encode()]
    assert sorted(_elements(tf.data.Dataset.list_files(pattern, seed=1))) == ordered
    with pytest.raises(tf.errors.InvalidArgumentError, match="No files matched pattern"):
        _elements(tf.data.Dataset.list_files(str(tmp_path / "*.none")))


def test_legacy_function_variants_and_sparse_tensor_slices():
    ds = tf.data.Dataset.range(6).map_with_legacy_function(lambda x: x * 2).filter_with_legacy_function(
        lambda x: x > 4)
    assert _ints(ds) == [6, 8, 10]
    rows = tf.data.Dataset.from_sparse_tensor_slices(tf.SparseTensor([[0, 1], [1, 0]], [5, 6], [2, 3]))
    assert rows.output_classes is tf.SparseTensor and rows.output_shapes.as_list() == [3]
    assert [(v.indices.tolist(), v.values.tolist()) for v in _elements(rows)] == [([[1]], [5]), ([[0]], [6])]
    with pytest.raises(TypeError):
        tf.data.Dataset.from_sparse_tensor_slices([1, 2])


def test_from_generator_copies_what_it_yields():
    def reuse_one_buffer():
        buf = np.zeros(2, np.float32)
        for i in range(3):
            buf[:] = i
            yield buf

    got = _elements(tf.data.Dataset.from_generator(reuse_one_buffer, tf.float32, tf.TensorShape([2])).batch(3))
    assert got[0].tolist() == [[0, 0], [1, 1], [2, 2]]
