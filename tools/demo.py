"""`make demo`: a short tour of the tfmini runtime, printing what each step gives back. Exercises an
InteractiveSession with `eval()`, nested fetches, feeds, a partial run, sparse tensors, session handles,
a run-time error, and a traced run summarised from its step stats."""

from __future__ import annotations

import collections
import textwrap

import numpy as np

import tfmini as tf


def section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 70 - len(title)))


def show(label: str, value) -> None:
    text = repr(value) if not isinstance(value, str) else value
    if "\n" in text:
        print(f"{label}:\n{textwrap.indent(text, '    ')}")
    else:
        print(f"{label}: {text}")


def interactive_session() -> None:
    section("InteractiveSession and eval()")
    sess = tf.InteractiveSession()
    a = tf.constant(5.0, name="a")
    b = tf.constant(6.0, name="b")
    c = a * b
    show("c", c)
    show("c.eval()", c.eval())
    show("default session is sess", tf.get_default_session() is sess)
    sess.close()
    show("after close, default session", tf.get_default_session())


def nested_fetches_and_feeds(sess: tf.Session) -> None:
    section("Nested fetches and feeds")
    x = tf.placeholder(tf.float32, shape=[None, 3], name="x")
    w = tf.constant(np.arange(6, dtype=np.float32).reshape(3, 2), name="w")
    logits = tf.matmul(x, w, name="logits")
    total = tf.reduce_sum(logits, name="total")
    Result = collections.namedtuple("Result", ["logits", "total"])
    out = sess.run({"result": Result(logits, total), "shape": [tf.shape(logits)], "op": total.op},
                   feed_dict={x: [[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]})
    show("fetch {'result': Result(logits, total), 'shape': [...], 'op': op}", out)
    show("fetch by name 'total:0'", sess.run("total:0", {"x:0": np.ones((4, 3))}))
    try:
        sess.run(total, {x: [1.0, 2.0, 3.0]})
    except ValueError as e:
        show("feeding a value of the wrong shape", f"ValueError: {e}")


def partial_run(sess: tf.Session) -> None:
    section("Partial run")
    a = tf.placeholder(tf.float32, shape=[], name="pa")
    b = tf.placeholder(tf.float32, shape=[], name="pb")
    c = tf.placeholder(tf.float32, shape=[], name="pc")
    r1 = tf.add(a, b, name="r1")
    r2 = tf.multiply(r1, c, name="r2")
    h = sess.partial_run_setup([r1, r2], [a, b, c])
    res = sess.partial_run(h, r1, feed_dict={a: 1, b: 2})
    show("step 1: r1 = a + b with a=1, b=2", res)
    res = sess.partial_run(h, r2, feed_dict={c: res})
    show("step 2: r2 = r1 * c with c=r1", res)


def sparse(sess: tf.Session) -> None:
    section("Sparse tensors")
    st = tf.SparseTensor(indices=[[0, 0], [1, 2]], values=[1.0, 2.0], dense_shape=[3, 4])
    show("fetching a SparseTensor", sess.run(st))
    sp = tf.sparse_placeholder(tf.float32, name="sp")
    dense = tf.sparse_tensor_to_dense(sp)
    value = tf.SparseTensorValue(indices=[[0, 1], [2, 3]], values=[5.0, 7.0], dense_shape=[3, 4])
    show("feeding a SparseTensorValue, fetching it densified", sess.run(dense, {sp: value}))


def handles(sess: tf.Session) -> None:
    section("Session handles")
    h = sess.run(tf.get_session_handle(tf.constant([1.0, 2.0]) * 10.0))
    show("handle", h)
    show("handle.eval()", h.eval())
    holder, value = tf.get_session_tensor(h.handle, tf.float32)
    show("read back through get_session_tensor, plus 1", sess.run(value + 1.0, {holder: h.handle}))
    h.delete()
    try:
        sess.run(value, {holder: h.handle})
    except tf.errors.InvalidArgumentError as e:
        show("after delete()", f"{type(e).__name__}: {e.message.splitlines()[0]}")


def errors(sess: tf.Session) -> None:
    section("Errors name the op and where it was created")
    p = tf.placeholder(tf.float32, name="never_fed")
    try:
        sess.run(p * 2.0)
    except tf.errors.InvalidArgumentError as e:
        show(f"{type(e).__name__} (error_code {e.error_code}, op {e.op.name!r})", e.message)
    show("the session is still usable", sess.run(tf.constant(1.0) + 1.0))


def traced_run(sess: tf.Session) -> None:
    section("A traced run, summarised from RunMetadata.step_stats")
    rng = np.random.default_rng(0)
    x = tf.placeholder(tf.float32, shape=[None, 64], name="inputs")
    h = x
    for i in range(3):
        w = tf.constant(rng.standard_normal((64, 64)).astype(np.float32) * 0.1, name=f"w{i}")
        h = tf.tanh(tf.matmul(h, w), name=f"layer{i}")
    loss = tf.reduce_mean(tf.square(h), name="loss")
    metadata = tf.RunMetadata()
    value = sess.run(loss, {x: rng.standard_normal((256, 64))},
                     options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE), run_metadata=metadata)
    show("loss", value)
    for dev in metadata.step_stats.dev_stats:
        nodes = list(dev.node_stats)
        total_us = sum(n.all_end_rel_micros for n in nodes)
        print(f"device {dev.device}: {len(nodes)} ops, {total_us} us of op time")
        print(f"    {'op':<28}{'us':>6}  output")
        for n in sorted(nodes, key=lambda n: -n.all_end_rel_micros)[:5]:
            outs = ", ".join(
                f"{[d.size for d in o.tensor_description.shape.dim]} "
                f"({o.tensor_description.allocation_description.requested_bytes} B)" for o in n.output
            )
            print(f"    {n.timeline_label[:26]:<28}{n.all_end_rel_micros:>6}  {outs}")


def main() -> None:
    np.set_printoptions(precision=4, suppress=True)
    print(f"tfmini {tf.__version__} (TensorFlow {tf.VERSION} API)")
    interactive_session()
    with tf.Session() as sess:
        nested_fetches_and_feeds(sess)
        partial_run(sess)
        sparse(sess)
        handles(sess)
        errors(sess)
        traced_run(sess)


if __name__ == "__main__":
    main()
