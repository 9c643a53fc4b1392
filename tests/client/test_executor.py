"""The in-process engine: pruning to what fetches need given feeds, one compiled plan per (graph version,
fetches, feeds, targets), constant folding that never leaks mutation, the fast path (`Plan.run`) agreeing
with the plain path (`Plan.run_steps`) on values and errors, and engines chosen by target."""

import gc
import linecache
import re
import traceback

import numpy as np
import pytest

import tfmini as tf
from tfmini.client import engine, executor, local_engine


def _engine(sess) -> local_engine.LocalEngine:
    return sess._engine


def _plan(fetches=(), feeds=(), targets=(), graph=None):
    state = executor.SessionState(graph or tf.get_default_graph())
    return executor.compile_plan(state, tuple(fetches), tuple(feeds), tuple(targets))


# ----------------------------------------------------------------------------------------------------------
# Pruning
# ----------------------------------------------------------------------------------------------------------
def test_plan_contains_only_the_ops_fetches_need():
    a = tf.constant(1.0, name="a")
    b = tf.constant(2.0, name="b")
    tf.constant(3.0, name="unrelated")
    s = tf.add(a, b, name="s")
    tf.multiply(s, 2.0, name="downstream")
    plan = _plan([s])
    assert [op.name for op in plan.ops] == ["a", "b", "s"]


def test_unfed_placeholder_elsewhere_does_not_matter():
    tf.placeholder(tf.float32, name="elsewhere")
    c = tf.constant(2.0) * 3.0
    with tf.Session() as sess:
        assert sess.run(c) == 6.0


def test_producer_of_a_fed_tensor_is_not_run():
    p = tf.placeholder(tf.float32, name="p")
    mid = tf.multiply(p, 2.0, name="mid")
    out = tf.add(mid, 1.0, name="out")
    plan = _plan([out], [mid])
    assert "p" not in [op.name for op in plan.ops] and "mid" not in [op.name for op in plan.ops]
    with tf.Session() as sess:
        assert sess.run(out, {mid: 10.0}) == 11.0


def test_targets_run_for_side_effects_and_their_control_inputs_with_them():
    c = tf.constant(1.0)
    handle_op = tf.get_session_handle(c)
    with tf.control_dependencies([handle_op]):
        marker = tf.no_op(name="marker")
    plan = _plan(targets=[marker])
    assert {op.name for op in plan.ops} == {c.op.name, handle_op.op.name, "marker"}


def test_control_inputs_added_after_creation_are_ordered_topologically():
    a = tf.constant(1.0, name="a")
    late = tf.constant(2.0, name="late")
    a.op._add_control_input(late.op)  # 'a' now waits for an op created after it
    order = [op.name for op in _plan([a]).ops]
    assert order.index("late") < order.index("a")


def test_cycles_are_reported():
    a = tf.identity(tf.constant(1.0), name="ia")
    b = tf.identity(a, name="ib")
    a.op._add_control_input(b.op)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="cycle"):
            sess.run(b)


# ----------------------------------------------------------------------------------------------------------
# Plan cache
# ----------------------------------------------------------------------------------------------------------
def test_one_plan_per_signature_reused_across_runs():
    p = tf.placeholder(tf.float32)
    y = p * 2.0
    z = p + 1.0
    with tf.Session() as sess:
        eng = _engine(sess)
        assert eng.cached_plan_count == 0
        for v in range(3):
            assert sess.run(y, {p: float(v)}) == 2.0 * v
        assert eng.cached_plan_count == 1
        plan = eng.compile((y,), (p,), ()).plan
        assert eng.compile((y,), (p,), ()).plan is plan
        sess.run(z, {p: 1.0})
        sess.run([y, z], {p: 1.0})
        sess.run(y.op, {p: 1.0})
        assert eng.cached_plan_count == 4
        # Fetch structure does not matter, only the unique fetches.
        sess.run({"k": [y, (y,)]}, {p: 1.0})
        assert eng.cached_plan_count == 4


def test_plan_is_recompiled_after_the_graph_changes():
    c = tf.constant(3.0)
    with tf.Session() as sess:
        eng = _engine(sess)
        sess.run(c)
        first = eng.compile((c,), (), ()).plan
        assert first.graph_version == tf.get_default_graph().version
        tf.constant(4.0)  # any change bumps the version
        second = eng.compile((c,), (), ()).plan
        assert second is not first
        assert second.graph_version == tf.get_default_graph().version
        assert eng.compile((c,), (), ()).plan is second
        assert sess.run(c) == 3.0


def test_recompiled_plan_sees_new_control_inputs():
    p = tf.placeholder(tf.float32, name="needs_feed")
    out = tf.identity(tf.constant(1.0), name="out")
    with tf.Session() as sess:
        assert sess.run(out) == 1.0
        out.op._add_control_input(p.op)
        with pytest.raises(tf.errors.InvalidArgumentError, match="needs_feed"):
            sess.run(out)


def test_plan_cache_is_bounded():
    p = tf.placeholder(tf.float32)
    outs = [p + float(i) for i in range(6)]
    with tf.Session() as sess:
        eng = _engine(sess)
        eng.max_cached_plans = 3
        for o in outs:
            sess.run(o, {p: 0.0})
        assert eng.cached_plan_count == 3
        assert sess.run(outs[0], {p: 1.0}) == 1.0


def test_close_drops_cached_plans():
    c = tf.constant(1.0)
    sess = tf.Session()
    sess.run(c)
    eng = _engine(sess)
    sess.close()
    assert eng.cached_plan_count == 0


# ----------------------------------------------------------------------------------------------------------
# Constant folding
# ----------------------------------------------------------------------------------------------------------
def test_feed_independent_stateless_ops_are_folded():
    a = tf.constant([1.0, 2.0])
    b = a * 2.0
    p = tf.placeholder(tf.float32, shape=[2])
    out = b + p
    plan = _plan([out], [p])
    folded_slots = set(plan.folded)
    assert plan.slot_of[b] in folded_slots
    assert plan.slot_of[out] not in folded_slots
    np.testing.assert_array_equal(plan.run([np.ones(2, np.float32)])[0], [3.0, 5.0])


def test_mutating_fetched_values_never_changes_later_results():
    a = tf.constant([1.0, 2.0])
    b = a * 2.0
    c = tf.reshape(b, [2, 1])
    with tf.Session() as sess:
        for t, want in ((a, [1.0, 2.0]), (b, [2.0, 4.0]), (c, [[2.0], [4.0]])):
            v = sess.run(t)
            v[...] = -1.0  # fetched arrays are the caller's to mutate
            np.testing.assert_array_equal(sess.run(t), want)
        both = sess.run([a, b])
        both[0][0] = 99.0
        np.testing.assert_array_equal(sess.run(b), [2.0, 4.0])


def test_stateful_ops_are_never_folded():
    h = tf.get_session_handle(tf.constant(1.0))
    with tf.Session() as sess:
        assert sess.run(h).handle != sess.run(h).handle


def test_folding_failures_surface_at_run_time_with_the_op_named():
    bad = tf.reshape(tf.constant([1, 2, 3]), tf.constant([2, 2]) * 1, name="bad")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[\[node bad "):
            sess.run(bad)


# ----------------------------------------------------------------------------------------------------------
# Fast path and plain path
# ----------------------------------------------------------------------------------------------------------
def _graphs():
    """(fetches, feeds, feed values) triples exercising folding, multiple outputs, repeated and fed fetches."""
    p = tf.placeholder(tf.float32, shape=[None, 3], name="p")
    w = tf.constant(np.arange(6, dtype=np.float32).reshape(3, 2))
    h = tf.matmul(p, w)
    total = tf.reduce_sum(h, axis=1)
    shape = tf.shape(h)
    const_only = tf.constant(2.0) * 3.0
    x = np.random.RandomState(0).rand(4, 3).astype(np.float32)
    return [
        ([total], [p], [x]),
        ([h, total, shape, const_only], [p], [x]),
        ([const_only], [], []),
        ([total, h], [h], [np.ones((2, 2), np.float32)]),
        ([p, p], [p], [x]),
    ]


def test_fast_and_plain_paths_give_equal_outputs():
    for fetches, feeds, values in _graphs():
        plan = _plan(fetches, feeds)
        fast = plan.run(values)
        plain = plan.run_steps(values)
        assert len(fast) == len(plain) == len(fetches)
        for f, s in zip(fast, plain):
            assert type(f) is type(s)
            np.testing.assert_array_equal(f, s)


def test_fast_and_plain_paths_give_equal_errors():
    p = tf.placeholder(tf.int32, name="p")
    shape = tf.placeholder(tf.int32, name="shape")
    r = tf.reshape(p, shape, name="r")
    out = r + 1
    unfed = tf.placeholder(tf.float32, name="unfed") * 2.0
    cases = [
        (_plan([out], [p, shape]), [np.arange(3, dtype=np.int32), np.array([2, 2], np.int32)]),
        (_plan([unfed]), []),
    ]
    for plan, values in cases:
        errors = []
        for run in (plan.run, plan.run_steps):
            with pytest.raises(tf.errors.OpError) as info:
                run(values)
            errors.append(info.value)
        fast, plain = errors
        assert type(fast) is type(plain) is tf.errors.InvalidArgumentError
        assert fast.op is plain.op
        assert fast.message == plain.message
        assert "[[node " in fast.message


def test_plain_path_reports_each_step():
    a = tf.constant(2.0, name="a")
    b = tf.multiply(a, 3.0, name="b")
    plan = _plan([b])
    seen = []
    out = plan.run_steps([], on_step=lambda step, t0, t1, outs: seen.append((step.op.name, outs)))
    assert out == [6.0]
    assert [name for name, _ in seen] == ["a", "b/y", "b"]
    assert seen[-1][1][0] == 6.0


def test_plain_path_deadline():
    c = tf.constant(1.0) + 1.0
    plan = _plan([c])
    with pytest.raises(tf.errors.DeadlineExceededError):
        plan.run_steps([], deadline=0.0)


def test_scalars_come_back_as_numpy_scalars_on_both_paths():
    c = tf.constant(1.5) * 2.0
    plan = _plan([c])
    for v in (plan.run([])[0], plan.run_steps([])[0]):
        assert isinstance(v, np.float32) and v == 3.0


def _code_objects(code):
    yield code
    for const in code.co_consts:
        if hasattr(const, "co_consts"):
            yield from _code_objects(const)


def test_generated_plan_code_holds_only_slot_numbers_and_registry_attr_names():
    # Op names, attr strings and constants that look like code stay data: the generated function refers to
    # slots and kernels by number only, and its only strings are the attr names kernels are called with.
    x = tf.placeholder(tf.float32, shape=[2, 2], name="exec.__import__")
    checked = tf.debugging.check_numerics(x, message="'); __import__('os').system('echo pwned'); ('")
    product = tf.einsum("ij,jk->ik", checked, tf.constant([[1.0, 0.0], [0.0, 1.0]], name="eval"))
    text = tf.constant("__import__('os').system('echo pwned')", name="os.system")
    summed = tf.reduce_sum(product, axis=0, keepdims=True, name="globals")
    plan = _plan([summed, text], [x])
    attr_names = {name for op in plan.ops for name in op.op_def.attrs}
    slot_name = re.compile(r"^(feeds|_as_result|value|[sCK][0-9]+|A[0-9]+_[A-Za-z_]+)$")
    for code in _code_objects(plan.fast_fn.__code__):
        for name in code.co_names + code.co_varnames:
            assert slot_name.match(name), name
            if name.startswith("A"):
                assert name.split("_", 1)[1] in attr_names, name
        for const in code.co_consts:
            if isinstance(const, tuple):  # keyword-argument names of a call
                assert set(const) <= attr_names, const
            else:
                assert const is None or type(const) is int, const
    np.testing.assert_array_equal(plan.run([np.ones((2, 2), np.float32)])[0], [[2.0, 2.0]])


# ----------------------------------------------------------------------------------------------------------
# Engines by target
# ----------------------------------------------------------------------------------------------------------
def test_unknown_target_raises_not_found():
    with pytest.raises(tf.errors.NotFoundError, match="No session factory registered"):
        engine.engine_for("nowhere://x", tf.get_default_graph(), None)


def test_registered_engine_serves_its_target_prefix():
    made = []

    def factory(graph, config):
        made.append(graph)
        return local_engine.LocalEngine(graph, config)

    engine.register_engine("testengine://", factory)
    try:
        c = tf.constant(5.0)
        with tf.Session("testengine://host:1") as sess:
            assert sess.sess_str == "testengine://host:1"
            assert sess.run(c) == 5.0
        assert made == [tf.get_default_graph()]
    finally:
        engine._ENGINES.pop("testengine://")
    with pytest.raises(tf.errors.NotFoundError):
        tf.Session("testengine://host:1")


def test_concurrent_runs_in_one_session_give_each_thread_its_own_results():
    import threading

    p = tf.placeholder(tf.float32, shape=[None])
    outs = [tf.reduce_sum(p * float(k)) for k in range(4)]
    failures = []
    with tf.Session() as sess:

        def worker(k):
            for i in range(200):
                x = np.full(3, float(i), np.float32)
                got = sess.run(outs[k], {p: x})
                if got != 3.0 * i * k:
                    failures.append((k, i, got))

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sess._engine.cached_plan_count == 4
    assert failures == []


def test_generated_run_loop_is_registered_with_linecache_and_names_each_op():
    x = tf.placeholder(tf.float32, [None], name="x")
    y = tf.sqrt(x * 2.0, name="root_of.two-x")
    plan = _plan([y], [x])
    filename = plan.fast_fn.__code__.co_filename
    assert filename.startswith("<tfmini plan ")
    lines = linecache.getlines(filename)
    assert "".join(lines) == plan.source
    step = next(s for s in plan.steps if s.op is y.op)
    call_line = next(k for k, s in plan.line_to_step.items() if s is step)
    assert lines[call_line - 2].strip() == f"# {ascii(y.op.name)} ('Sqrt')"

    def interrupting_sqrt(*args, **kwargs):
        raise KeyboardInterrupt  # not turned into an OpError: its traceback goes through the plan's frame

    step_fn = step.fn
    plan.fast_fn.__defaults__ = tuple(interrupting_sqrt if d is step_fn else d for d in plan.fast_fn.__defaults__)
    with pytest.raises(KeyboardInterrupt) as info:
        plan.run([np.ones(2, np.float32)])
    shown = "".join(traceback.format_tb(info.value.__traceback__))
    assert filename in shown and "K" in shown.split(filename)[1].splitlines()[1]
    del plan, info
    gc.collect()
    assert filename not in linecache.cache  # dropped with its plan: evicted plans leak no source


def test_a_freed_plan_gives_its_file_name_back():
    # Every compiled file name stays allocated in CPython, so names are reused once their plan is gone:
    # opening and closing sessions keeps using the same few names instead of growing without end.
    x = tf.placeholder(tf.float32, [])
    y = x * 2.0

    def plan_file_names() -> set:
        with tf.Session() as sess:
            sess.run(y, {x: 1.0})
            return {f for f in linecache.cache if f.startswith("<tfmini plan ")}

    gc.collect()
    first = plan_file_names()
    seen = set()
    for _ in range(20):
        gc.collect()
        seen |= plan_file_names()
    assert first and len(seen) <= len(first) + 2
