"""Partitioned variables: the partitioners' answers and the parts get_variable makes (names, slice specs,
values) against TensorFlow (tests/fixtures/tf/misc_core/partitioned.json), embedding lookups over the parts and
their gradients per part against TensorFlow (tests/fixtures/tf/partitioned/), PartitionedVariable as a tensor and
as a list of parts, reuse and its errors, initializers that see the full shape, assign, and
tf.create_partitioned_variables."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tfmini as tf
from tfmini.ops.partitioned_variables import PartitionedVariable

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "misc_core"
PARTITIONED = Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "partitioned"
RECORDED = json.loads((FIXTURES / "partitioned.json").read_text(encoding="utf-8"))
MAKERS = {"fixed": tf.fixed_size_partitioner, "axis_size": tf.variable_axis_size_partitioner,
          "min_max": tf.min_max_variable_partitioner}
TABLE = np.arange(22, dtype=np.float32).reshape(11, 2)


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as g:
        yield g


@pytest.mark.parametrize("case", RECORDED["partitioners"], ids=lambda c: f"{c['kind']}-{c['shape']}-{c['dtype']}")
def test_partitioners_answer_as_tensorflow(case):
    partitioner = MAKERS[case["kind"]](**case["kwargs"])
    assert partitioner(shape=tf.TensorShape(case["shape"]), dtype=tf.as_dtype(case["dtype"])) == case["partitions"]


def test_get_variable_makes_tfs_parts_and_reads_as_the_whole():
    with tf.variable_scope("emb", partitioner=tf.fixed_size_partitioner(4)):
        w = tf.get_variable("w", [11, 2], initializer=TABLE)
    assert isinstance(w, PartitionedVariable)
    assert w.name == "emb/w" and w.shape == [11, 2] and w.dtype == tf.float32 and len(w) == 4
    assert [{"name": v.name, "spec": v._save_slice_info.spec, "shape": v.shape.as_list()} for v in w] == \
        RECORDED["parts"]
    assert [v.name for v in tf.global_variables()] == [p["name"] for p in RECORDED["parts"]]
    assert [v.name for v in tf.trainable_variables()] == [p["name"] for p in RECORDED["parts"]]
    whole = tf.convert_to_tensor(w)
    assert whole.name == "emb/w:0" and whole.shape == [11, 2]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(whole), TABLE)
        np.testing.assert_array_equal(sess.run(tf.matmul(w, tf.ones([2, 1]))), TABLE.sum(1, keepdims=True))
        with pytest.raises(TypeError, match="Can not convert a PartitionedVariable"):
            sess.run(w)


def test_embedding_lookup_over_the_parts_follows_the_partition_strategy():
    with tf.variable_scope("emb", partitioner=tf.fixed_size_partitioner(4)):
        w = tf.get_variable("w", [11, 2], initializer=TABLE)
    ids = RECORDED["ids"]
    mod = tf.nn.embedding_lookup(list(w), ids, partition_strategy="mod")
    div = tf.nn.embedding_lookup(list(w), ids, partition_strategy="div")
    whole_div = tf.nn.embedding_lookup(w, ids, partition_strategy="div")
    whole_mod = tf.nn.embedding_lookup(w, ids, partition_strategy="mod")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got_mod, got_div, got_whole, got_whole_mod = sess.run([mod, div, whole_div, whole_mod])
    assert got_mod.tolist() == RECORDED["lookups"]["mod"]
    assert got_div.tolist() == RECORDED["lookups"]["div"]
    assert got_whole.tolist() == RECORDED["lookups"]["div"]
    assert got_whole_mod.tolist() == RECORDED["lookups"]["mod"]


LOOKUPS = np.load(PARTITIONED / "lookups.npz")
SPARSE = np.load(PARTITIONED / "sparse.npz")
# The inputs tools/tf_fixtures/gen_partitioned.py looked up.
TABLE3 = (np.arange(33, dtype=np.float32).reshape(11, 3) * 0.5 - 4.0).astype(np.float32)
IDS = np.array([[0, 10, 3], [7, 7, 5]], np.int64)
LIST_TABLE = np.random.RandomState(3).randn(10, 2).astype(np.float32)
LIST_IDS = np.array([9, 0, 4, 3, 6, 4], np.int32)


def _coefficients(shape) -> np.ndarray:
    return (np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape) % 5 - 2.0).astype(np.float32)


def _table3():
    return tf.get_variable("w", [11, 3], initializer=TABLE3, partitioner=tf.fixed_size_partitioner(4))


@pytest.mark.parametrize("strategy", ["mod", "div"])
def test_lookup_in_a_partitioned_variable_and_its_gradients_per_part_match_tensorflow(strategy):
    w = _table3()
    looked = tf.nn.embedding_lookup(w, IDS, partition_strategy=strategy)
    clipped = tf.nn.embedding_lookup(w, IDS, partition_strategy=strategy, max_norm=3.0)
    assert looked.shape == [2, 3, 3]
    grads = tf.gradients(tf.reduce_sum(looked * _coefficients([2, 3, 3])), list(w))
    assert all(isinstance(g, tf.IndexedSlices) for g in grads)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got, got_clipped, got_grads = sess.run([looked, clipped, grads])
    np.testing.assert_array_equal(got, LOOKUPS[f"var/{strategy}/out"])
    np.testing.assert_allclose(got_clipped, LOOKUPS[f"var/{strategy}/clipped"], rtol=1e-6)
    for i, g in enumerate(got_grads):
        np.testing.assert_array_equal(g.values, LOOKUPS[f"var/{strategy}/grad{i}/values"])
        np.testing.assert_array_equal(g.indices, LOOKUPS[f"var/{strategy}/grad{i}/indices"])
        np.testing.assert_array_equal(g.dense_shape, LOOKUPS[f"var/{strategy}/grad{i}/dense_shape"])


@pytest.mark.parametrize("strategy", ["mod", "div"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_training_a_looked_up_partitioned_variable_updates_the_parts_as_tensorflow(strategy, optimizer):
    w = _table3()
    looked = tf.nn.embedding_lookup(w, IDS, partition_strategy=strategy)
    opt = tf.train.GradientDescentOptimizer(0.1) if optimizer == "sgd" else tf.train.AdamOptimizer(0.05)
    train = opt.minimize(tf.reduce_sum(tf.square(looked - _coefficients([2, 3, 3]))))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train)
        got = sess.run(tf.convert_to_tensor(w))
    np.testing.assert_allclose(got, LOOKUPS[f"train/{strategy}/{optimizer}"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("strategy", ["mod", "div"])
def test_lookup_in_a_list_of_uneven_tensors_matches_tensorflow(strategy):
    parts = [tf.constant(LIST_TABLE[:4]), tf.constant(LIST_TABLE[4:7]), tf.constant(LIST_TABLE[7:])]
    ids = tf.placeholder(tf.int32, [None])
    looked = tf.nn.embedding_lookup(parts, ids, partition_strategy=strategy)
    assert looked.shape.as_list() == [None, 2]
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(looked, {ids: LIST_IDS}), LOOKUPS[f"list/{strategy}/out"])


def test_lookup_div_over_parts_of_unknown_length_counts_their_rows_when_run():
    rows = [tf.placeholder(tf.float32, [None, 2]) for _ in range(3)]
    looked = tf.nn.embedding_lookup(rows, LIST_IDS, partition_strategy="div")
    feeds = dict(zip(rows, (LIST_TABLE[:4], LIST_TABLE[4:7], LIST_TABLE[7:])))
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(looked, feeds), LOOKUPS["list/div/out"])
    with pytest.raises(ValueError, match="Unrecognized partition strategy: rows"):
        tf.nn.embedding_lookup(rows, LIST_IDS, partition_strategy="rows")


@pytest.mark.parametrize("strategy", ["mod", "div"])
@pytest.mark.parametrize("combiner", ["sum", "mean", "sqrtn"])
def test_sparse_lookup_in_a_partitioned_variable_matches_tensorflow(strategy, combiner):
    w = _table3()
    sp_ids = tf.SparseTensor([[0, 0], [0, 1], [1, 0], [3, 0], [3, 1], [3, 2]],
                             tf.constant([1, 10, 4, 7, 2, 1], tf.int64), [4, 3])
    sp_weights = tf.SparseTensor(sp_ids.indices, [0.5, 2.0, 1.0, -1.5, 0.25, 3.0], [4, 3])
    looked = tf.nn.embedding_lookup_sparse(w, sp_ids, sp_weights, partition_strategy=strategy, combiner=combiner)
    fetches = {"out": looked}
    if (strategy, combiner) == ("mod", "mean"):
        fetches["grads"] = [tf.convert_to_tensor(g) for g in
                            tf.gradients(tf.reduce_sum(looked * _coefficients([4, 3])), list(w))]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(fetches)
    np.testing.assert_allclose(got["out"], SPARSE[f"sparse/{strategy}/{combiner}"], rtol=1e-6)
    for i, g in enumerate(got.get("grads", [])):
        np.testing.assert_allclose(g, SPARSE[f"sparse/mod/mean/grad{i}"], rtol=1e-6)


def test_safe_sparse_lookup_in_a_partitioned_variable_matches_tensorflow():
    w = _table3()
    ids = tf.SparseTensor([[0, 0], [0, 1], [1, 0], [2, 0], [2, 1]], tf.constant([3, -1, -2, 9, 6], tf.int64),
                          [4, 2])
    div = tf.nn.safe_embedding_lookup_sparse(w, ids)
    mod = tf.nn.safe_embedding_lookup_sparse(w, ids, default_id=2, partition_strategy="mod")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got_div, got_mod = sess.run([div, mod])
    np.testing.assert_allclose(got_div, SPARSE["safe/div"], rtol=1e-6)
    np.testing.assert_allclose(got_mod, SPARSE["safe/mod/default"], rtol=1e-6)


def test_reuse_returns_the_same_partitioned_variable_and_checks_it():
    part = tf.fixed_size_partitioner(3)
    with tf.variable_scope("s", partitioner=part):
        w = tf.get_variable("w", [6, 2])
    with tf.variable_scope("s", reuse=True, partitioner=part):
        assert tf.get_variable("w", [6, 2]) is w
    with tf.variable_scope("s", reuse=True):
        assert tf.get_variable("w", [6, 2], partitioner=part) is w
    with tf.variable_scope("s", partitioner=part):
        with pytest.raises(ValueError, match="Partitioned variable with name s/w already exists"):
            tf.get_variable("w", [6, 2])
    with tf.variable_scope("s", reuse=True, partitioner=part):
        with pytest.raises(ValueError, match="but specified shape"):
            tf.get_variable("w", [5, 2])
    with tf.variable_scope("s", reuse=True, partitioner=tf.fixed_size_partitioner(2)):
        with pytest.raises(ValueError, match="but specified partitions"):
            tf.get_variable("w", [6, 2])
    with tf.variable_scope("s", reuse=True, partitioner=part):
        with pytest.raises(ValueError, match="PartitionedVariable s/missing does not exist"):
            tf.get_variable("missing", [6, 2])


def test_partitioned_and_plain_variables_of_one_name_conflict():
    tf.get_variable("plain", [4, 2])
    with pytest.raises(ValueError, match="an unpartitioned version of the variable was found: plain"):
        tf.get_variable("plain", [4, 2], partitioner=tf.fixed_size_partitioner(2))
    tf.get_variable("cut", [4, 2], partitioner=tf.fixed_size_partitioner(2))
    with pytest.raises(ValueError, match="No partitioner was provided, but a partitioned version"):
        tf.get_variable("cut", [4, 2])


def test_bad_partitions_and_shapes_are_refused():
    with pytest.raises(ValueError, match="must be fully defined"):
        tf.get_variable("a", [None, 2], partitioner=tf.fixed_size_partitioner(2))
    with pytest.raises(ValueError, match="rank at least 1"):
        tf.get_variable("b", [], partitioner=lambda shape, dtype: [])
    with pytest.raises(ValueError, match="does not match the Variable's rank"):
        tf.get_variable("c", [4, 2], partitioner=lambda shape, dtype: [2])
    with pytest.raises(ValueError, match="zero partitions"):
        tf.get_variable("d", [4, 2], partitioner=lambda shape, dtype: [0, 1])
    with pytest.raises(ValueError, match="Can only slice a variable along one dimension"):
        tf.get_variable("e", [4, 2], partitioner=lambda shape, dtype: [2, 2])
    with pytest.raises(ValueError, match="must be positive"):
        tf.variable_axis_size_partitioner(0)
    with pytest.raises(ValueError, match="Can not partition variable along axis 2"):
        tf.min_max_variable_partitioner(axis=2)(shape=tf.TensorShape([3, 3]), dtype=tf.float32)


def test_initializers_see_the_full_shape_and_each_part_its_offset():
    seen = []

    def initializer(shape, dtype=None, partition_info=None):
        seen.append((shape, partition_info.full_shape, partition_info.var_offset,
                     partition_info.single_offset(shape), partition_info.single_slice_dim(shape)))
        start = partition_info.single_offset(shape)
        rows = np.arange(start, start + shape[0], dtype=np.float32)[:, None] * np.ones(shape[1], np.float32)
        return tf.constant(rows)

    w = tf.get_variable("w", [5, 3], initializer=initializer, partitioner=tf.fixed_size_partitioner(2))
    assert seen == [([3, 3], [5, 3], [0, 0], 0, 0), ([2, 3], [5, 3], [3, 0], 3, 0)]
    # glorot_uniform's bound comes from the full shape: every part's values fit sqrt(6 / (5 + 3))
    g = tf.get_variable("g", [5, 3], partitioner=tf.fixed_size_partitioner(2))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(tf.convert_to_tensor(w))[:, 0], np.arange(5))
        assert np.abs(sess.run(tf.convert_to_tensor(g))).max() <= np.sqrt(6 / 8)


def test_assign_splits_the_value_over_the_parts():
    w = tf.get_variable("w", [5, 2], initializer=tf.zeros_initializer(), partitioner=tf.fixed_size_partitioner(2))
    new = np.arange(10, dtype=np.float32).reshape(5, 2)
    assigned = w.assign(new)
    added = w.assign_add(np.ones((5, 2), np.float32), read_value=False)
    assert len(assigned) == 2 and all(isinstance(op, tf.Operation) for op in added)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        parts = sess.run(assigned)
        assert [p.shape for p in parts] == [(3, 2), (2, 2)]
        sess.run(added)
        np.testing.assert_array_equal(sess.run(tf.convert_to_tensor(w)), new + 1)


def test_gradients_reach_the_parts_and_an_optimizer_trains_them():
    w = tf.get_variable("w", [4, 1], initializer=tf.ones_initializer(), partitioner=tf.fixed_size_partitioner(2))
    x = tf.constant([[1.0, 2.0, 3.0, 4.0]])
    loss = tf.reduce_sum(tf.matmul(x, w))
    grads = tf.gradients(loss, list(w))
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        g0, g1 = sess.run(grads)
        np.testing.assert_array_equal(g0, [[1], [2]])
        np.testing.assert_array_equal(g1, [[3], [4]])
        sess.run(train)
        np.testing.assert_array_equal(sess.run(tf.convert_to_tensor(w))[:, 0], [0.5, 0.0, -0.5, -1.0])


def test_a_saver_round_trips_the_parts(tmp_path):
    w = tf.get_variable("w", [5, 2], initializer=TABLE[:5], partitioner=tf.fixed_size_partitioner(2))
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = saver.save(sess, str(tmp_path / "model"))
    with tf.Session() as sess:
        saver.restore(sess, path)
        np.testing.assert_array_equal(sess.run(tf.convert_to_tensor(w)), TABLE[:5])


def test_create_partitioned_variables_gives_the_parts():
    parts = tf.create_partitioned_variables([5, 3], [1, 2], tf.zeros_initializer())
    assert [v.name for v in parts] == ["PartitionedVariable/part_0:0", "PartitionedVariable/part_1:0"]
    assert [v.shape.as_list() for v in parts] == [[5, 2], [5, 1]]
    with pytest.raises(ValueError, match="must have the length"):
        tf.create_partitioned_variables([5, 3], [2], tf.zeros_initializer())


class ShardedCell(tf.nn.rnn_cell.BasicRNNCell):
    """A BasicRNNCell whose kernel is cut into 3 parts along its rows."""

    def build(self, inputs_shape):
        rows = inputs_shape[-1] + self._num_units
        self._kernel = self.add_weight("kernel", shape=[rows, self._num_units],
                                       initializer=tf.constant_initializer(0.1),
                                       partitioner=tf.fixed_size_partitioner(3))
        self._bias = self.add_weight("bias", shape=[self._num_units], initializer=tf.zeros_initializer())
        self.built = True


def test_a_cell_weight_with_a_partitioner_is_a_partitioned_variable_whose_parts_are_its_weights():
    cell = ShardedCell(2)
    x = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
    out, _ = cell(x, cell.zero_state(2, tf.float32))
    assert isinstance(cell._kernel, PartitionedVariable) and cell._kernel.name == "sharded_cell/kernel"
    assert [v.name for v in cell.trainable_weights] == [
        "sharded_cell/kernel/part_0:0", "sharded_cell/kernel/part_1:0", "sharded_cell/kernel/part_2:0",
        "sharded_cell/bias:0"]
    grads = tf.gradients(tf.reduce_sum(out), cell.trainable_weights)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got, got_grads = sess.run([out, grads])
    xh = np.concatenate([np.arange(6, dtype=np.float32).reshape(2, 3), np.zeros((2, 2), np.float32)], 1)
    want = np.tanh(xh @ np.full((5, 2), 0.1, np.float32))
    np.testing.assert_allclose(got, want, rtol=1e-6)
    dpre = 1 - want ** 2
    np.testing.assert_allclose(np.concatenate(got_grads[:3]), xh.T @ dpre, rtol=1e-5)


@pytest.mark.parametrize("strategy", ["mod", "div"])
@pytest.mark.parametrize("loss_fn", [tf.nn.nce_loss, tf.nn.sampled_softmax_loss])
def test_sampled_losses_take_a_partitioned_variable_as_their_parts(strategy, loss_fn):
    rng = np.random.RandomState(2)
    table = rng.randn(11, 3).astype(np.float32)
    inputs = tf.constant(rng.randn(2, 3).astype(np.float32))
    biases = tf.constant(rng.randn(11).astype(np.float32))
    w = tf.get_variable("w", [11, 3], initializer=table, partitioner=tf.fixed_size_partitioner(4))
    parts = [tf.constant(table[a:b]) for a, b in ((0, 3), (3, 6), (6, 9), (9, 11))]
    labels = np.array([[1], [10]], np.int64)
    sampled = (np.array([0, 7, 10], np.int64), np.array([[0.3], [0.5]], np.float32),
               np.array([0.2, 0.4, 0.6], np.float32))

    def loss(weights):
        return loss_fn(weights, biases, labels, inputs, 3, 11, sampled_values=sampled, partition_strategy=strategy)

    from_variable, from_parts = loss(w), loss(parts)
    grads = tf.gradients(tf.reduce_sum(from_variable), list(w))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got, want, got_grads = sess.run([from_variable, from_parts, [tf.convert_to_tensor(g) for g in grads]])
    np.testing.assert_allclose(got, want, rtol=1e-6)
    # Only the rows of the labelled and sampled ids (0, 1, 7, 10) get a gradient, where the strategy puts them:
    # under "mod" id i is row i // 4 of part i % 4 (parts start at rows 0, 3, 6, 9 of the whole).
    touched = np.flatnonzero(np.concatenate([np.abs(g).sum(1) > 0 for g in got_grads])).tolist()
    ids = np.array([0, 1, 7, 10])
    want_rows = np.array([0, 3, 6, 9])[ids % 4] + ids // 4 if strategy == "mod" else ids
    assert touched == sorted(want_rows.tolist())
