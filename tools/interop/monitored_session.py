"""Training directories of MonitoredTrainingSession both ways between TensorFlow and tfmini (run by
`make interop`).

    /work/tfenv/bin/python tools/interop/monitored_session.py tf-write DIR      TensorFlow trains into DIR
    .venv/bin/python       tools/interop/monitored_session.py tfmini-check DIR  tfmini resumes and checks it
    .venv/bin/python       tools/interop/monitored_session.py tfmini-write DIR  tfmini trains into DIR
    /work/tfenv/bin/python tools/interop/monitored_session.py tf-check DIR      TensorFlow resumes and checks it

Both sides run the same TF1 program (the two libraries share the API): a linear model trained by
MonitoredTrainingSession for 10 steps with StopAtStepHook, checkpoints every 4 steps and summaries every 2.
A check reads the directory with its own library: the kept checkpoints and the `checkpoint` state, the event
file (graph, START/CHECKPOINT session logs and loss summaries at TensorFlow's steps), graph.pbtxt and a
checkpoint's .meta (imported pruned to the training step, restored and run); then it resumes training from
the directory with its own MonitoredTrainingSession for 3 more steps and requires the global step to continue
from 10 with the losses its own uninterrupted 13-step run gives. Exits non-zero with a message on any
disagreement. TensorFlow is imported only by the tf-* commands, tfmini only by the tfmini-* commands.
"""

from __future__ import annotations

import glob
import os
import sys
from types import ModuleType

import numpy as np
from _driver import CheckFailed, expect, import_tensorflow, run
from google.protobuf import text_format

STEPS = 10
MORE_STEPS = 3


# Attrs TF 2.x added to ops after 1.15 (hints for second-order gradients).
TF2_ONLY_ATTRS = {"MatMul": ("grad_a", "grad_b")}


def _as_tf1(graph_def):
    """`graph_def` without the attrs TF 2.x added after TF 1.15."""
    for node in graph_def.node:
        for name in TF2_ONLY_ATTRS.get(node.op, ()):
            if name in node.attr:
                del node.attr[name]
    return graph_def


def _build(tf: ModuleType):
    """The program, in whichever library `tf` is: the global step, the loss and the train op."""
    gs = tf.train.get_or_create_global_step()
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    y = tf.constant([[1.0], [2.0]])
    w = tf.get_variable("w", [2, 1], initializer=tf.zeros_initializer())
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y))
    tf.summary.scalar("loss", loss)
    train = tf.train.GradientDescentOptimizer(0.01).minimize(loss, global_step=gs)
    return gs, loss, train


def _train(tf: ModuleType, logdir: str | None, stop_hook, read_start: bool = False,
           **kwargs) -> tuple[int | None, list[float]]:
    """(the global step the session started at, read in a run of its own when `read_start`, and the losses of
    each step) of a MonitoredTrainingSession."""
    losses = []
    start = None
    with tf.Graph().as_default():
        gs, loss, train = _build(tf)
        with tf.train.MonitoredTrainingSession(checkpoint_dir=logdir, hooks=[stop_hook], **kwargs) as sess:
            if read_start:
                start = int(sess.run(gs))
            while not sess.should_stop():
                losses.append(float(sess.run([train, loss])[1]))
    tf.summary.FileWriterCache.clear()
    return start, losses


def _write(tf: ModuleType, logdir: str) -> None:
    _train(tf, logdir, tf.train.StopAtStepHook(last_step=STEPS), save_checkpoint_steps=4, save_summaries_steps=2)


def _check(tf: ModuleType, logdir: str) -> str:
    state = tf.train.get_checkpoint_state(logdir)
    expect(state is not None, f"no checkpoint state in {logdir}")
    kept = [os.path.basename(p) for p in state.all_model_checkpoint_paths]
    expect(kept == ["model.ckpt-0", "model.ckpt-4", "model.ckpt-8", "model.ckpt-10"],
            f"kept checkpoints are {kept}")
    expect(os.path.basename(tf.train.latest_checkpoint(logdir)) == "model.ckpt-10",
            f"latest checkpoint is {tf.train.latest_checkpoint(logdir)}")
    variables = dict(tf.train.list_variables(logdir))
    expect(variables.get("global_step") == [] and variables.get("w") == [2, 1],
            f"the checkpoint holds {variables}")
    expect(int(tf.train.load_variable(logdir, "global_step")) == STEPS, "the last checkpoint is not at step 10")

    files = glob.glob(os.path.join(logdir, "events.out.tfevents.*"))
    expect(len(files) == 1, f"expected one events file in {logdir}, found {files}")
    events = list(tf.train.summary_iterator(files[0]))
    kinds = [e.WhichOneof("what") for e in events]
    expect("graph_def" in kinds and "meta_graph_def" in kinds, f"no graph in the event file: {kinds}")
    summary_steps = [e.step for e in events if e.HasField("summary") and e.summary.value[0].tag == "loss"]
    expect(summary_steps == [1, 3, 5, 7, 9], f"loss summaries at steps {summary_steps}")
    logs = [(tf.SessionLog.SessionStatus.Name(e.session_log.status), e.step) for e in events
            if e.HasField("session_log")]
    expect(logs == [("CHECKPOINT", 0), ("START", 1), ("CHECKPOINT", 4), ("CHECKPOINT", 8), ("CHECKPOINT", 10)],
            f"session logs are {logs}")

    # The graphs are imported as TensorFlow 1.15 wrote them (without the attrs TF 2.x added since) and
    # pruned to the training step: the hooks' global-step read (a tf.cond in TensorFlow's graphs, Switch and
    # Merge ops tfmini does not have) is left out. The variables are restored by a Saver built on the import.
    with open(os.path.join(logdir, "graph.pbtxt")) as f:
        graph_def = text_format.Parse(f.read(), tf.GraphDef())
    with tf.Graph().as_default():
        tf.import_graph_def(_as_tf1(tf.graph_util.extract_sub_graph(graph_def, ["GradientDescent"])), name="")
        names = {op.name for op in tf.get_default_graph().get_operations()}
        expect({"global_step", "w", "GradientDescent"} <= names, "graph.pbtxt lacks the model's ops")
    with open(os.path.join(logdir, "model.ckpt-10.meta"), "rb") as f:
        meta_graph = tf.MetaGraphDef.FromString(f.read())
    expect(meta_graph.saver_def.restore_op_name.endswith("restore_all"),
            f"the meta graph's SaverDef names restore op {meta_graph.saver_def.restore_op_name!r}")
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(_as_tf1(tf.graph_util.extract_sub_graph(meta_graph.graph_def, ["GradientDescent"])),
                            name="")
        saver = tf.train.Saver({name: graph.get_tensor_by_name(name + ":0") for name in ("w", "global_step")})
        with tf.Session() as sess:
            saver.restore(sess, os.path.join(logdir, "model.ckpt-10"))
            restored = sess.run("w:0")
            sess.run("GradientDescent")
            expect(int(sess.run("global_step:0")) == STEPS + 1, "the imported train op did not step")
    np.testing.assert_array_equal(restored, tf.train.load_variable(logdir, "w"))

    start, resumed = _train(tf, logdir, tf.train.StopAtStepHook(num_steps=MORE_STEPS), read_start=True,
                            save_checkpoint_steps=4)
    expect(start == STEPS, f"the resumed session started at global step {start}, not {STEPS}")
    _, own = _train(tf, None, tf.train.StopAtStepHook(last_step=STEPS + MORE_STEPS))
    if not np.allclose(resumed, own[STEPS:], rtol=1e-5):
        raise CheckFailed(f"resumed losses {resumed} differ from this side's own {own[STEPS:]}")
    return f"resumed at step {start}; {len(events)} events, checkpoints {kept}, graph and meta graph imported"


def tf_write(logdir: str) -> str:
    _write(import_tensorflow(), logdir)
    return "TensorFlow trained into the directory"


def tf_check(logdir: str) -> str:
    return "TensorFlow read tfmini's training directory: " + _check(import_tensorflow(), logdir)


def tfmini_write(logdir: str) -> str:
    import tfmini as tf

    _write(tf, logdir)
    return "tfmini trained into the directory"


def tfmini_check(logdir: str) -> str:
    import tfmini as tf

    return "tfmini read TensorFlow's training directory: " + _check(tf, logdir)


COMMANDS = {"tf-write": tf_write, "tf-check": tf_check, "tfmini-write": tfmini_write, "tfmini-check": tfmini_check}


def main(argv: list[str]) -> int:
    return run("monitored_session", COMMANDS, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
