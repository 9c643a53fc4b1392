"""tf.train.SyncReplicasOptimizer on a local session, against TensorFlow's recordings
(tools/tf_fixtures/gen_sync_replicas.py): the graph it builds (names, types, inputs, devices under
replica_device_setter), a replica's trajectory with the chief's queue runner on a thread (dense and sparse
gradients), two replicas on two threads aggregating two gradients per step, plain GradientDescent's numbers
once the first stale step is past, and the hook in a MonitoredTrainingSession (chief and non-chief)."""

from __future__ import annotations

import json
import os
import threading
import time

import numpy as np
import pytest

import tfmini as tf
from tfmini.framework import errors

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf", "sync_replicas")
with open(os.path.join(FIXTURES, "graphs.json")) as _f:
    GRAPHS = json.load(_f)
with open(os.path.join(FIXTURES, "trajectory.json")) as _f:
    TRAJECTORIES = json.load(_f)

# Graph parts other modules build (tf.gradients, report_uninitialized_variables' boolean_mask), compared by their
# own tests, not here.
_OTHER_MODULES = ("gradients/", "report_uninitialized_variables/")
# TF 2.21 (which recorded the graphs) differs from TF 1.15 here: `+` builds AddV2 (1.15: Add), embedding_lookup
# adds an Identity, and FIFOQueue asks for "/device:CPU:*" (1.15 places the queue by the device scope only).
_TF2_ONLY_NODES = {"embedding_lookup/Identity"}
_TF2_TYPES = {"Add": "AddV2"}


def _build(source: str) -> dict:
    namespace = {"tf": tf, "np": np}
    exec(source, namespace)  # noqa: S102 - the program TensorFlow ran
    return namespace


def _gradient_or(tensor_name: str) -> str:
    """A tensor's name, or "<gradient>" for an output of tf.gradients (whose graph differs from TF's)."""
    return "<gradient>" if tensor_name.startswith("gradients/") else tensor_name


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _nodes(graph) -> dict:
    return {op.name: op for op in graph.get_operations()}


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_the_graph_is_tensorflows(name):
    """The nodes outside tf.gradients and report_uninitialized_variables are TF's: names, types, data inputs
    (TF drops control inputs already implied by a data input; tfmini keeps them) and devices."""
    recorded = [n for n in GRAPHS[name]["nodes"] if not n[0].startswith(_OTHER_MODULES)
                and n[0] not in _TF2_ONLY_NODES]
    with tf.Graph().as_default() as graph:
        _build(GRAPHS[name]["source"])
        ours = {k: op for k, op in _nodes(graph).items() if not k.startswith(_OTHER_MODULES)}
    assert sorted(ours) == sorted(n[0] for n in recorded)
    for node_name, op_type, inputs, device, _ in recorded:
        op = ours[node_name]
        assert _TF2_TYPES.get(op.type, op.type) == op_type, node_name
        data_inputs = [_gradient_or(i) for i in inputs if not i.startswith("^")]
        if node_name == "loss" and name == "embedding":
            data_inputs = ["embedding_lookup:0", "Const:0"]
        assert [_gradient_or(t.name) for t in op.inputs] == data_inputs, node_name
        assert {"^" + c.name for c in op.control_inputs} >= {i for i in inputs if i.startswith("^")}, node_name
        assert op.device == device.replace("/device:CPU:*", ""), node_name


def test_collections_and_the_optimizers_attributes():
    with tf.Graph().as_default():
        ns = _build(GRAPHS["two_variables"]["source"])
        opt, train_op = ns["opt"], ns["train_op"]
        local_step = opt._local_step
        assert local_step in tf.local_variables() and local_step not in tf.global_variables()
        assert local_step.op.name == "sync_rep_local_step" and local_step.dtype.base_dtype == tf.int64
        assert train_op.op.type == "Assign" and train_op.op.inputs[0].op is local_step.op
        assert opt.local_step_init_op.op.name == "Assign" and opt.chief_init_op.name == "sync_replicas/group_deps"
        assert opt.ready_for_local_init_op.op.name == "report_uninitialized_variables/boolean_mask/GatherV2"
        qr = opt.get_chief_queue_runner()
        assert qr.name == "sync_token_q" and [op.name for op in qr.enqueue_ops] == ["sync_token_q_EnqueueMany"]
        assert opt.get_slot_names() == [] and opt.variables() == [] and opt.get_name() == "sync_replicas"
        assert opt.get_slot(ns["w"], "momentum") is None
        accumulators = [a for a, _ in opt._accumulator_list]
        assert [_text(a.accumulator_ref.op.get_attr("shared_name")) for a in accumulators] == \
            ["w:0/grad_accum", "b:0/grad_accum"]


def test_momentum_slots_and_variables_come_from_the_wrapped_optimizer():
    with tf.Graph().as_default():
        w = tf.Variable([1.0, 2.0], name="w")
        opt = tf.train.SyncReplicasOptimizer(tf.train.MomentumOptimizer(0.1, 0.9), replicas_to_aggregate=2)
        opt.minimize(tf.reduce_sum(w * w), global_step=tf.train.get_or_create_global_step())
        assert opt.get_slot_names() == ["momentum"]
        assert opt.get_slot(w, "momentum").op.name == "w/Momentum"
        assert [v.op.name for v in opt.variables()] == ["w/Momentum"]


def test_build_errors():
    with tf.Graph().as_default():
        w = tf.Variable(1.0)
        opt = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(0.1), replicas_to_aggregate=3,
                                             total_num_replicas=2)
        with pytest.raises(ValueError, match="Should be called after apply_gradients"):
            opt.get_chief_queue_runner()
        with pytest.raises(ValueError, match="should be called after apply_gradients"):
            opt.get_init_tokens_op()
        hook = opt.make_session_run_hook(is_chief=True)
        with pytest.raises(ValueError, match="apply_gradient should be called before using the hook"):
            hook.begin()
        with pytest.raises(ValueError, match="Must supply at least one variable"):
            opt.apply_gradients([])
        with pytest.raises(ValueError, match="Global step is required to check staleness"):
            opt.apply_gradients([(tf.constant(1.0), w)])
        opt.apply_gradients([(tf.constant(1.0), w)], global_step=tf.train.get_or_create_global_step())
        with pytest.raises(ValueError, match=r"Too few tokens to finish the first step: 0 \(given\) vs 1 \(needed\)"):
            opt.get_init_tokens_op(num_tokens=0)
        assert opt.get_init_tokens_op(num_tokens=1).type == "QueueEnqueueManyV2"


def _start_chief(sess, opt, init_tokens):
    sess.run(tf.global_variables_initializer())
    sess.run(tf.local_variables_initializer())
    sess.run(opt.chief_init_op)
    sess.run(init_tokens)
    coord = tf.train.Coordinator()
    opt.get_chief_queue_runner().create_threads(sess, coord=coord, daemon=True, start=True)
    return coord


def _wait_for_step(sess, global_step, step: int) -> None:
    deadline = time.monotonic() + 10
    while sess.run(global_step) < step:
        assert time.monotonic() < deadline, "the chief's queue runner did not apply the step"
        time.sleep(0.005)


@pytest.mark.parametrize("which", ["one_replica", "one_replica_embedding", "one_replica_adam_resource"])
def test_one_replica_trajectory_is_tensorflows(which):
    """replicas_to_aggregate=1: the first step is applied, the second's gradient is stale (computed at local
    step 0 once the accumulators are at step 1) and dropped, then every step is applied. (Dense gradients,
    IndexedSlices of an embedding, and Adam on a resource variable.)"""
    recorded = TRAJECTORIES[which]
    with tf.Graph().as_default():
        ns = _build(recorded["source"])
        opt, train_op, global_step = ns["opt"], ns["train_op"], ns["global_step"]
        init_tokens = opt.get_init_tokens_op()
        with tf.Session() as sess:
            coord = _start_chief(sess, opt, init_tokens)
            for step, want in enumerate(recorded["steps"]):
                assert sess.run(train_op) == want["local_step"]
                if step == 0:
                    _wait_for_step(sess, global_step, 1)
                for var in recorded["variables"]:
                    np.testing.assert_allclose(sess.run(ns[var]), want[var], rtol=1e-6, err_msg=f"step {step}")
                assert sess.run([global_step, opt._local_step]) == [want["global_step"], want["local_step"]]
            coord.request_stop()


def test_one_replica_trains_to_gradient_descents_numbers():
    """After the first stale step, a replica aggregating its own gradient each step is plain GradientDescent."""
    def model():
        x = tf.constant([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5], [2.0, 1.0]])
        y = tf.constant([[1.0], [0.0], [2.0], [1.5]])
        w = tf.Variable([[0.5], [-0.25]], name="w")
        b = tf.Variable(0.1, name="b")
        return tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y)), w, b

    steps = 8
    with tf.Graph().as_default():
        loss, w, b = model()
        train = tf.train.GradientDescentOptimizer(0.05).minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(steps):
                sess.run(train)
            want = sess.run([w, b])
    with tf.Graph().as_default():
        loss, w, b = model()
        global_step = tf.train.get_or_create_global_step()
        opt = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(0.05), replicas_to_aggregate=1)
        train = opt.minimize(loss, global_step=global_step)
        init_tokens = opt.get_init_tokens_op()
        with tf.Session() as sess:
            coord = _start_chief(sess, opt, init_tokens)
            sess.run(train)
            _wait_for_step(sess, global_step, 1)
            for _ in range(steps):
                sess.run(train)
            got = sess.run([w, b])
            assert sess.run(global_step) == steps
            coord.request_stop()
    np.testing.assert_allclose(got[0], want[0], rtol=1e-6)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-6)


def test_two_replicas_on_two_threads_aggregate_two_gradients_per_step():
    """As TF's own test runs them in one process: each round both replicas run their train op at once; the
    chief's queue runner applies the mean of their gradients (the second round's are stale)."""
    with tf.Graph().as_default():
        global_step = tf.train.get_or_create_global_step()
        var_0 = tf.Variable(0.0, name="v0")
        var_1 = tf.Variable(1.0, name="v1")
        train_ops, opts = [], []
        for i in range(2):
            grads = [tf.constant(0.1 + 0.2 * i), tf.constant(0.9 + 0.2 * i)]
            opt = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(2.0), replicas_to_aggregate=2,
                                                 total_num_replicas=2)
            train_ops.append(opt.apply_gradients(zip(grads, [var_0, var_1]), global_step=global_step))
            opts.append(opt)
        # Both replicas' accumulators are the shared ones of their variables: one per variable in the session.
        assert _text(opts[1]._accumulator_list[0][0].accumulator_ref.op.get_attr("shared_name")) == "v0:0/grad_accum"
        init_tokens = opts[0].get_init_tokens_op()
        with tf.Session() as sess:
            coord = _start_chief(sess, opts[0], init_tokens)
            for step, want in enumerate(TRAJECTORIES["two_replicas"]["rounds"]):
                workers = [threading.Thread(target=sess.run, args=(op,)) for op in train_ops]
                for t in workers:
                    t.start()
                for t in workers:
                    t.join(10)
                if step == 0:
                    _wait_for_step(sess, global_step, 1)
                got = sess.run([var_0, var_1, global_step])
                np.testing.assert_allclose(got[:2], want[:2], rtol=1e-6, err_msg=f"round {step}")
                assert got[2] == want[2]
            coord.request_stop()


def test_a_replica_waits_for_its_token_until_the_deadline():
    with tf.Graph().as_default():
        ns = _build(GRAPHS["two_variables"]["source"])
        opt, train_op = ns["opt"], ns["train_op"]
        with tf.Session() as sess:
            sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
            sess.run(opt.chief_init_op)
            # No tokens and no chief: the replica pushes its gradients and waits for a token.
            with pytest.raises(errors.DeadlineExceededError):
                sess.run(train_op, options=tf.RunOptions(timeout_in_ms=80))
            count = opt._accumulator_list[0][0].num_accumulated()
            assert sess.run(count) == 1
            sess.run(ns["init_tokens"])
            assert sess.run(train_op) == 0  # the token of global step 0


class _FinalValues(tf.train.SessionRunHook):
    """Fetches `tensors` when the monitored session ends."""

    def __init__(self, tensors) -> None:
        self._tensors = tensors
        self.values = None

    def end(self, session) -> None:
        self.values = session.run(self._tensors)


# Closing the chief's session cancels its queue runner's waiting take after the coordinator was joined: the
# thread then ends with TF's CancelledError (TF's queue runner re-raises it the same way).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_monitored_training_session_with_the_chief_hook():
    recorded = TRAJECTORIES["one_replica"]
    with tf.Graph().as_default():
        ns = _build(recorded["source"])
        opt, train_op, global_step = ns["opt"], ns["train_op"], ns["global_step"]
        hook = opt.make_session_run_hook(is_chief=True)
        stop = tf.train.StopAtStepHook(last_step=4)
        final = _FinalValues([ns["w"], ns["b"], global_step])
        seen = []
        with tf.train.MonitoredTrainingSession(master="", is_chief=True, hooks=[hook, stop, final],
                                               stop_grace_period_secs=0.2) as sess:
            while not sess.should_stop():
                seen.append(sess.run(train_op))
                if len(seen) == 1:
                    _wait_for_step(sess, global_step, 1)
        w, b, gs = final.values
        for thread in threading.enumerate():  # the queue runner ends once the session's close cancels its take
            if thread.name.startswith("QueueRunnerThread-sync_token_q"):
                thread.join(5)
    # StopAtStepHook stops the loop after the run at whose end the global step is 4: the fifth.
    assert seen == [s["local_step"] for s in recorded["steps"]]
    want = recorded["steps"][len(seen) - 1]
    assert gs == want["global_step"] == 4
    np.testing.assert_allclose(w, want["w"], rtol=1e-6)
    np.testing.assert_allclose(b, want["b"], rtol=1e-6)


def test_the_non_chief_hook_sets_the_local_step_from_the_global_step():
    with tf.Graph().as_default():
        ns = _build(GRAPHS["two_variables"]["source"])
        opt, global_step = ns["opt"], ns["global_step"]
        hook = opt.make_session_run_hook(is_chief=False)
        hook.begin()
        coord = tf.train.Coordinator()
        with tf.Session() as sess:
            with pytest.raises(RuntimeError, match="Init operations did not make model ready for "
                                                   "SyncReplicasOptimizer local_init. Init op: Assign:0, error: "
                                                   "Variables not initialized: global_step, w, b"):
                hook.after_create_session(sess, coord)
            sess.run(tf.global_variables_initializer())
            sess.run(global_step.assign(7))
            threads_before = threading.active_count()
            hook.after_create_session(sess, coord)
            assert sess.run(opt._local_step) == 7
            assert threading.active_count() == threads_before  # no queue runner, and no tokens, off the chief
            assert sess.run(opt._sync_token_queue.size()) == 0


def test_variable_averages_move_once_per_applied_step():
    """With `variable_averages`, the chief's queue runner also updates the moving averages, after the tokens."""
    with tf.Graph().as_default():
        global_step = tf.train.get_or_create_global_step()
        w = tf.Variable(1.0, name="w")
        ema = tf.train.ExponentialMovingAverage(0.5)
        opt = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(0.25), replicas_to_aggregate=1,
                                             variable_averages=ema, variables_to_average=[w])
        train = opt.minimize(w * w, global_step=global_step)
        assert [op.name for op in opt.get_chief_queue_runner().enqueue_ops] == ["ExponentialMovingAverage"]
        average = ema.average(w)
        init_tokens = opt.get_init_tokens_op()
        with tf.Session() as sess:
            coord = _start_chief(sess, opt, init_tokens)
            sess.run(train)
            _wait_for_step(sess, global_step, 1)
            deadline = time.monotonic() + 10
            while sess.run(average) == 1.0:  # the average moves just after the step's tokens are enqueued
                assert time.monotonic() < deadline
                time.sleep(0.005)
            # One step: w = 1 - 0.25 * 2 = 0.5; the average moves halfway from 1 to it.
            assert sess.run([w, average]) == [0.5, 0.75]
            coord.request_stop()
