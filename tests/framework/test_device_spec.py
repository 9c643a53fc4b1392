"""tf.DeviceSpec and the graph's placement of new ops: device functions see the op, colocate_with wins over
device scopes, reference inputs colocate (expected values as TensorFlow 1.x gives them)."""

import pytest

import tfmini as tf

D = tf.DeviceSpec


@pytest.mark.parametrize("spec, expected", [
    ("/cpu:0", "/device:CPU:0"), ("/CPU:1", "/device:CPU:1"), ("/gpu", "/device:GPU:*"),
    ("/device:cpu:0", "/device:CPU:0"), ("/device:GPU:*", "/device:GPU:*"),
    ("/job:ps/replica:1/task:2/device:GPU:3", "/job:ps/replica:1/task:2/device:GPU:3"), ("", ""),
    ("/task:3/job:x", "/job:x/task:3"), ("/device:TPU:2", "/device:TPU:2"), ("job:ps", "/job:ps"),
    ("cpu:0", "/device:CPU:0"),
])
def test_from_string_to_string(spec, expected):
    assert D.from_string(spec).to_string() == expected


@pytest.mark.parametrize("spec", ["/job:ps/task:x", "/foo:1", "/cpu:0/gpu:0"])
def test_malformed_strings_are_value_errors(spec):
    with pytest.raises(ValueError):
        D.from_string(spec)


def test_fields():
    d = D.from_string("/job:ps/replica:1/task:2/device:cpu:3")
    assert (d.job, d.replica, d.task, d.device_type, d.device_index) == ("ps", 1, 2, "CPU", 3)
    assert D.from_string("/gpu").device_index is None
    assert D(device_type="cpu", device_index=0).to_string() == "/device:CPU:0"
    assert D(device_index=2).to_string() == ""  # an index without a type is not spelled
    assert D(task="3").task == 3
    with pytest.raises(ValueError):
        D(task="x")
    d = D()
    d.job, d.task = "w", 2
    assert d.to_string() == "/job:w/task:2"


def test_parse_from_string_replaces_every_field():
    d = D(job="ps", task=1)
    assert d.parse_from_string("/gpu:2") is d
    assert d.to_string() == "/device:GPU:2"
    assert D(replica=1).parse_from_string("/job:x").to_string() == "/job:x"


def test_merging():
    d = D(job="ps", task=1)
    assert d.merge_from(D(job="w", device_type="CPU")) is None
    assert d.to_string() == "/job:w/task:1/device:CPU:*"
    base = D(job="ps", task=1)
    assert base.make_merged_spec(D(task=4)).to_string() == "/job:ps/task:4"
    assert base.to_string() == "/job:ps/task:1"
    assert base.replace(task=3).to_string() == "/job:ps/task:3"
    with pytest.raises(TypeError):
        base.replace(host="x")


def test_equality_hash_repr():
    assert D("ps") == D.from_string("/job:ps") and hash(D("ps")) == hash(D.from_string("/job:ps"))
    assert D("ps") != D("w")
    assert repr(D("ps")) == "<DeviceSpec(job=ps, replica=None, task=None, device_type=None, device_index=None)>"


def test_device_scope_takes_a_device_spec():
    with tf.Graph().as_default():
        with tf.device(D(job="ps", task=1)):
            with tf.device("/cpu:0"):
                c = tf.constant(1)
    assert c.op.device == "/job:ps/task:1/device:CPU:0"


def test_device_function_sees_the_operation():
    seen = []

    def fn(op):
        seen.append((op.name, op.type, op.device, op.get_attr("dtype"), op.outputs[0].shape.as_list()))
        return "/job:w"

    with tf.Graph().as_default():
        with tf.device(fn), tf.device("/task:2"):
            c = tf.constant([1.0, 2.0], name="c")
    assert seen == [("c", "Const", "/task:2", tf.float32, [2])]
    assert c.op.device == "/job:w"


def test_colocate_with_overrides_device_scopes():
    with tf.Graph().as_default():
        with tf.device("/job:ps/task:1"):
            a = tf.constant(1.0, name="a")
        with tf.device("/job:worker"):
            with tf.colocate_with(a):
                b = tf.identity(a, name="b")
                with tf.device("/job:foo/task:7"):
                    c = tf.identity(a, name="c")
            d = tf.identity(a, name="d")
        with tf.device("/job:foo/task:7"):
            with tf.colocate_with(d):
                e = tf.identity(a, name="e")
    assert [t.op.device for t in (b, c, d, e)] == ["/job:ps/task:1", "/job:ps/task:1", "/job:worker",
                                                   "/job:worker"]


def test_colocate_with_an_unplaced_op_hides_device_scopes():
    with tf.Graph().as_default():
        a = tf.constant(1.0, name="a")
        with tf.device(lambda op: "/job:worker"):
            with tf.colocate_with(a):
                b = tf.identity(a, name="b")
            c = tf.identity(a, name="c")
    assert (b.op.device, c.op.device) == ("", "/job:worker")


def test_colocate_with_ignore_existing_and_none():
    with tf.Graph().as_default():
        with tf.device("/job:ps/task:0"):
            a = tf.constant(1.0, name="a")
        with tf.device("/job:ps/task:1"):
            v = tf.Variable(1.0, name="v")
        with tf.colocate_with(a):
            with tf.colocate_with(v, ignore_existing=True):
                b = tf.identity(a, name="b")
            with tf.colocate_with(None, ignore_existing=True):
                c = tf.identity(a, name="c")
        with pytest.raises(ValueError, match="ignore_existing is not True"):
            with tf.colocate_with(None):
                pass
    assert (b.op.device, c.op.device) == ("/job:ps/task:1", "")


def test_ops_taking_a_reference_go_with_their_variable():
    with tf.Graph().as_default():
        with tf.device("/job:ps/task:1"):
            v = tf.Variable([1.0, 2.0], name="v")
        with tf.device("/job:worker"):
            upd = tf.assign_add(v, [1.0, 1.0], name="upd")
            total = tf.reduce_sum(v, name="total")
        with tf.Session() as sess:
            sess.run(v.initializer)
            assert sess.run(upd).tolist() == [2.0, 3.0]
    assert upd.op.device == "/job:ps/task:1"
    assert v.initializer.device == "/job:ps/task:1"
    assert total.op.device == "/job:worker"
