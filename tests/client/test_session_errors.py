"""Run-time errors: tf.errors.OpError and its subclasses (error codes, op, node_def, message naming the op and
where user code created it), how kernel exceptions map to them, timeouts (DeadlineExceededError) from
RunOptions and ConfigProto, and the session staying usable afterwards."""

import pickle
import time

import numpy as np
import pytest

import tfmini as tf
from tfmini.framework import registry
from tfmini.protobuf import node_def_pb2

_SUBCLASSES = {
    "CancelledError": 1, "UnknownError": 2, "InvalidArgumentError": 3, "DeadlineExceededError": 4,
    "NotFoundError": 5, "AlreadyExistsError": 6, "PermissionDeniedError": 7, "ResourceExhaustedError": 8,
    "FailedPreconditionError": 9, "AbortedError": 10, "OutOfRangeError": 11, "UnimplementedError": 12,
    "InternalError": 13, "UnavailableError": 14, "DataLossError": 15, "UnauthenticatedError": 16,
}


@pytest.fixture
def raising_op():
    """A test-only op whose kernel raises the exception built by its `kind` attr (registered for one test)."""
    kinds = {
        "cancelled": lambda: tf.errors.CancelledError(None, None, "step cancelled"),
        "failed_precondition": lambda: tf.errors.FailedPreconditionError(None, None, "not ready"),
        "out_of_range": lambda: tf.errors.OutOfRangeError(None, None, "End of sequence"),
        "not_found": lambda: tf.errors.NotFoundError(None, None, "no such thing"),
        "value_error": lambda: ValueError("bad value"),
        "index_error": lambda: IndexError("index 9 out of range"),
        "zero_division": lambda: ZeroDivisionError("division by zero"),
        "memory": lambda: MemoryError("too big"),
        "not_implemented": lambda: NotImplementedError("not here"),
        "runtime": lambda: RuntimeError("kernel bug"),
    }

    @registry.register_op("TfminiTestRaise", inputs=["x: T"], outputs=["y: T"], attrs={"kind": ("string", "")},
                          stateful=True, shape=lambda op: op.inputs[0].shape)
    def _kernel(x, *, kind):
        raise kinds[kind]()

    def make(x, kind, name=None):
        return registry.apply_op("TfminiTestRaise", [x], {"kind": kind}, name=name).outputs[0]

    yield make
    registry._REGISTRY.pop("TfminiTestRaise")


@pytest.fixture
def sleeping_op():
    """A test-only op that sleeps `ms` milliseconds, for slow graphs (registered for one test)."""

    @registry.register_op("TfminiTestSleep", inputs=["x: T"], outputs=["y: T"], attrs={"ms": ("int", 0)},
                          stateful=True, shape=lambda op: op.inputs[0].shape)
    def _kernel(x, *, ms):
        time.sleep(ms / 1000.0)
        return x

    def make(x, ms):
        return registry.apply_op("TfminiTestSleep", [x], {"ms": ms}).outputs[0]

    yield make
    registry._REGISTRY.pop("TfminiTestSleep")


# ----------------------------------------------------------------------------------------------------------
# The error classes
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,code", sorted(_SUBCLASSES.items(), key=lambda kv: kv[1]))
def test_every_subclass_is_constructible_with_its_error_code(name, code):
    cls = getattr(tf.errors, name)
    c = tf.constant(1.0)
    err = cls(None, c.op, "message")
    assert isinstance(err, tf.errors.OpError) and isinstance(err, Exception)
    assert err.error_code == code
    assert err.message == "message" and str(err) == "message"
    assert err.op is c.op
    assert isinstance(err.node_def, node_def_pb2.NodeDef) and err.node_def.name == c.op.name
    assert tf.errors.exception_type_from_error_code(code) is cls
    assert tf.errors.error_code_from_exception_type(cls) == code


def test_error_code_constants_match_tf():
    for name, code in _SUBCLASSES.items():
        constant = {"CancelledError": "CANCELLED", "UnknownError": "UNKNOWN",
                    "InvalidArgumentError": "INVALID_ARGUMENT", "DeadlineExceededError": "DEADLINE_EXCEEDED",
                    "NotFoundError": "NOT_FOUND", "AlreadyExistsError": "ALREADY_EXISTS",
                    "PermissionDeniedError": "PERMISSION_DENIED", "ResourceExhaustedError": "RESOURCE_EXHAUSTED",
                    "FailedPreconditionError": "FAILED_PRECONDITION", "AbortedError": "ABORTED",
                    "OutOfRangeError": "OUT_OF_RANGE", "UnimplementedError": "UNIMPLEMENTED",
                    "InternalError": "INTERNAL", "UnavailableError": "UNAVAILABLE", "DataLossError": "DATA_LOSS",
                    "UnauthenticatedError": "UNAUTHENTICATED"}[name]
        assert getattr(tf.errors, constant) == code
    assert tf.errors.OK == 0


def test_op_error_base_class_takes_a_code():
    err = tf.errors.OpError(None, None, "generic", tf.errors.ABORTED)
    assert err.error_code == tf.errors.ABORTED
    assert err.op is None and err.node_def is None


def test_op_errors_pickle_round_trip():
    err = tf.errors.OutOfRangeError(None, None, "done")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is tf.errors.OutOfRangeError and back.message == "done" and back.error_code == 11


# ----------------------------------------------------------------------------------------------------------
# Errors raised by runs
# ----------------------------------------------------------------------------------------------------------
def test_unfed_placeholder_error_carries_op_node_def_code_and_creation_site():
    p = tf.placeholder(tf.float32, name="needs_feed"); line = _line()  # noqa: E702 - the line of the op
    y = p * 2.0
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(y)
    err = info.value
    assert err.error_code == tf.errors.INVALID_ARGUMENT
    assert err.op is p.op
    assert err.node_def.name == "needs_feed" and err.node_def.op == "Placeholder"
    assert "You must feed a value for placeholder tensor 'needs_feed'" in err.message
    assert f"[[node needs_feed (defined at {__file__}:{line}) ]]" in err.message


def _line():
    import sys

    return sys._getframe(1).f_lineno


@pytest.mark.parametrize(
    "kind,cls,text",
    [
        ("cancelled", tf.errors.CancelledError, "step cancelled"),
        ("failed_precondition", tf.errors.FailedPreconditionError, "not ready"),
        ("out_of_range", tf.errors.OutOfRangeError, "End of sequence"),
        ("not_found", tf.errors.NotFoundError, "no such thing"),
        ("value_error", tf.errors.InvalidArgumentError, "bad value"),
        ("index_error", tf.errors.InvalidArgumentError, "index 9 out of range"),
        ("zero_division", tf.errors.InvalidArgumentError, "division by zero"),
        ("memory", tf.errors.ResourceExhaustedError, "too big"),
        ("not_implemented", tf.errors.UnimplementedError, "not here"),
        ("runtime", tf.errors.InternalError, "kernel bug"),
    ],
)
def test_kernel_exceptions_become_the_matching_op_error(raising_op, kind, cls, text):
    x = tf.constant(1.0)
    y = raising_op(x, kind, name="boom")
    file, line, _ = y.op.traceback
    assert file == __file__  # the innermost frame outside tfmini: the fixture's helper
    with tf.Session() as sess:
        for run in (lambda: sess.run(y + 1.0), lambda: sess.run(y, options=tf.RunOptions(timeout_in_ms=60000))):
            with pytest.raises(cls) as info:
                run()
            err = info.value
            assert type(err) is cls
            assert err.op is y.op and err.node_def.name == "boom"
            assert text in err.message
            assert f"[[node boom (defined at {file}:{line}) ]]" in err.message
        assert sess.run(x) == 1.0  # the session stays usable


def test_session_stays_usable_after_run_time_errors():
    p = tf.placeholder(tf.int32)
    r = tf.reshape(p, [2, 2])
    with tf.Session() as sess:
        for _ in range(2):
            with pytest.raises(tf.errors.InvalidArgumentError, match="Input to reshape"):
                sess.run(r, {p: [1, 2, 3]})
        np.testing.assert_array_equal(sess.run(r, {p: [1, 2, 3, 4]}), [[1, 2], [3, 4]])


def test_error_from_an_op_in_a_name_scope_names_the_full_op_name():
    with tf.name_scope("layer"):
        p = tf.placeholder(tf.float32, name="x")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[\[node layer/x \(defined at"):
            sess.run(p)


def test_unknown_target_raises_not_found():
    with pytest.raises(tf.errors.NotFoundError) as info:
        tf.Session("some_engine://nowhere")
    assert info.value.error_code == tf.errors.NOT_FOUND


# ----------------------------------------------------------------------------------------------------------
# Timeouts
# ----------------------------------------------------------------------------------------------------------
def test_run_options_timeout_raises_deadline_exceeded_on_a_slow_graph(sleeping_op):
    x = tf.constant(1.0)
    y = x
    for _ in range(5):
        y = sleeping_op(y, 20)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.DeadlineExceededError) as info:
            sess.run(y, options=tf.RunOptions(timeout_in_ms=5))
        assert info.value.error_code == tf.errors.DEADLINE_EXCEEDED
        assert info.value.op is not None
        assert sess.run(y, options=tf.RunOptions(timeout_in_ms=60000)) == 1.0


def test_config_operation_timeout_applies_to_every_run(sleeping_op):
    y = tf.constant(1.0)
    for _ in range(4):
        y = sleeping_op(y, 20)
    with tf.Session(config=tf.ConfigProto(operation_timeout_in_ms=5)) as sess:
        with pytest.raises(tf.errors.DeadlineExceededError):
            sess.run(y)
        # A per-run timeout overrides the session's default.
        assert sess.run(y, options=tf.RunOptions(timeout_in_ms=60000)) == 1.0


def test_fast_graph_within_timeout_runs_normally():
    p = tf.placeholder(tf.float32)
    with tf.Session() as sess:
        assert sess.run(p + 1.0, {p: 1.0}, options=tf.RunOptions(timeout_in_ms=60000)) == 2.0


def test_run_options_and_metadata_must_be_protos():
    c = tf.constant(1.0)
    with tf.Session() as sess:
        with pytest.raises(TypeError):
            sess.run(c, options={"timeout_in_ms": 5})
        with pytest.raises(TypeError):
            sess.run(c, run_metadata=tf.RunOptions())


def test_feeding_a_variable_then_updating_it_in_place_is_invalid_argument_naming_the_op():
    v = tf.Variable(1.0)
    add = v.assign_add(1.0)
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(add, {v: 5.0})
        assert info.value.op is add.op
        assert "Input 0 of node AssignAdd was passed float32 from Variable:0 incompatible with expected " \
               "float32_ref" in info.value.message
        assert "[[node AssignAdd (defined at " in info.value.message
        # Reading a fed variable is fine, and the session stays usable.
        assert sess.run(v * 2.0, {v: 5.0}) == 10.0
        assert sess.run(add) == 2.0


def test_a_partial_run_may_update_a_variable_an_earlier_call_read_but_not_a_fed_one():
    v = tf.Variable(1.0)
    doubled = v * 2.0
    a = tf.placeholder(tf.float32, [])
    add = tf.assign_add(v, a)
    with tf.Session() as sess:
        sess.run(v.initializer)
        h = sess.partial_run_setup([doubled, add], [a])
        assert sess.partial_run(h, doubled) == 2.0
        assert sess.partial_run(h, add, {a: 3.0}) == 4.0
        h = sess.partial_run_setup([add], [a, v])
        with pytest.raises(tf.errors.InvalidArgumentError, match="incompatible with expected float32_ref"):
            sess.partial_run(h, add, {a: 1.0, v: 7.0})


def test_feeding_a_variable_updated_inside_a_loop_or_cond_body_is_invalid_argument():
    v = tf.Variable(np.zeros(3, np.float32))

    def body(i):
        with tf.control_dependencies([tf.assign_add(v, tf.ones([3]), use_locking=True)]):
            return i + 1

    loop = tf.while_loop(lambda i: i < 2, body, [tf.constant(0)])
    branch = tf.cond(tf.constant(True), lambda: tf.assign_add(v, tf.ones([3])), lambda: tf.identity(v))
    reads = tf.while_loop(lambda i: i < 2, lambda i: i + 1 + tf.cast(tf.reduce_sum(v), tf.int32) * 0,
                          [tf.constant(0)])
    with tf.Session() as sess:
        sess.run(v.initializer)
        for fetch, node in ((loop, "while/AssignAdd"), (branch, "cond/AssignAdd")):
            with pytest.raises(tf.errors.InvalidArgumentError, match="incompatible with expected float32_ref") as e:
                sess.run(fetch, {v: np.ones(3, np.float32)})
            assert f"[[node {node} " in e.value.message
        assert sess.run(reads, {v: np.ones(3, np.float32)}) == 2  # reading a fed variable in a body is fine
        np.testing.assert_array_equal(sess.run(v), [0.0, 0.0, 0.0])
