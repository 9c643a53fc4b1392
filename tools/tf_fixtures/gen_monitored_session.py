"""Records TF1 training loops run by TensorFlow's MonitoredTrainingSession / MonitoredSession and their hooks,
for tests/train/test_monitored_session_fixtures.py, which runs the same programs in tfmini.

Run with the TensorFlow environment: /work/tfenv/bin/python tools/tf_fixtures/gen_monitored_session.py
Writes tests/fixtures/tf/monitored_session/: loops.json (per scenario: losses, the events written as
(step, kind, detail), the checkpoints kept, logged lines, final values; only what TensorFlow produces the
same way on every run: where a hook's global-step read may run before or after the step's update, TF's
timing varies from run to run) and tf_checkpoint/ (the last checkpoint
of the classic loop, TensorFlow's V2 files with a relative `checkpoint` state file, which tfmini resumes from).
"""

from __future__ import annotations

import glob
import json
import logging
import os
import re
import shutil
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "tf",
                   "monitored_session")


def linear_model():
    """y = x.w fitted by SGD with a global step and a scalar summary of the loss."""
    gs = tf.train.get_or_create_global_step()
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    y = tf.constant([[1.0], [2.0]])
    w = tf.get_variable("w", [2, 1], initializer=tf.zeros_initializer(), use_resource=False)
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y))
    tf.summary.scalar("loss", loss)
    train = tf.train.GradientDescentOptimizer(0.01).minimize(loss, global_step=gs)
    return gs, w, loss, train


def event_list(logdir):
    """(step, kind, detail) of every event in the directory's event files, oldest file first."""
    out = []
    for path in sorted(glob.glob(os.path.join(logdir, "events.out.tfevents.*")), key=os.path.getmtime):
        for e in tf.train.summary_iterator(path):
            kind = e.WhichOneof("what")
            if kind == "summary":
                detail = [v.tag for v in e.summary.value]
            elif kind == "session_log":
                detail = tf.SessionLog.SessionStatus.Name(e.session_log.status)
            elif kind == "tagged_run_metadata":
                detail = e.tagged_run_metadata.tag
            else:
                detail = None
            out.append([int(e.step), kind, detail])
    return out


def classic_loop(logdir):
    losses = []
    with tf.Graph().as_default():
        gs, w, loss, train = linear_model()
        with tf.train.MonitoredTrainingSession(checkpoint_dir=logdir, save_summaries_steps=2, save_checkpoint_steps=4,
                                               hooks=[tf.train.StopAtStepHook(last_step=10)]) as sess:
            while not sess.should_stop():
                losses.append(float(sess.run([train, loss])[1]))
    tf.summary.FileWriterCache.clear()
    state = tf.train.get_checkpoint_state(logdir)
    first = {
        "losses": losses, "events": event_list(logdir),
        "checkpoints": [os.path.basename(p) for p in state.all_model_checkpoint_paths],
        "w": tf.train.load_variable(logdir, "w").tolist(),
    }
    with tf.Graph().as_default():
        gs, w, loss, train = linear_model()
        with tf.train.MonitoredTrainingSession(checkpoint_dir=logdir, save_checkpoint_steps=4,
                                               hooks=[tf.train.StopAtStepHook(num_steps=3)]) as sess:
            start = int(sess.run(gs))
            resumed_losses = []
            while not sess.should_stop():
                resumed_losses.append(float(sess.run([train, loss])[1]))
    tf.summary.FileWriterCache.clear()
    state = tf.train.get_checkpoint_state(logdir)
    resumed = {"start_step": start, "losses": resumed_losses,
               "checkpoints": [os.path.basename(p) for p in state.all_model_checkpoint_paths]}
    return first, resumed


class ListHandler(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def logging_hook():
    """LoggingTensorHook every 3 iterations and at the end; elapsed times are replaced by '<t>'."""
    handler = ListHandler()
    logger = logging.getLogger("tensorflow")
    logger.addHandler(handler)
    old = logger.level
    logger.setLevel(logging.INFO)
    try:
        with tf.Graph().as_default():
            v = tf.Variable(1.5, name="v", use_resource=False)
            vec = tf.constant([1e-5, 2.0, 3.25], name="vec")
            add = tf.assign_add(v, 0.25)
            hook = tf.train.LoggingTensorHook({"v": v, "vec": vec}, every_n_iter=3, at_end=True)
            listed = tf.train.LoggingTensorHook(["vec", "v:0"], every_n_iter=4)
            with tf.train.MonitoredSession(hooks=[hook, listed]) as sess:
                for _ in range(7):
                    sess.run(add)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)
    keep = [re.sub(r"\(\d+\.\d+ sec\)", "(<t> sec)", line) for line in handler.lines
            if line.startswith(("v = ", "vec = "))]
    return {"lines": keep}


def dataset_loop():
    """An input that runs out: OutOfRangeError ends the with block; FinalOpsHook sees the total."""
    with tf.Graph().as_default():
        total = tf.Variable(0, dtype=tf.int64, use_resource=False)
        it = tf.data.Dataset.range(7).batch(2).make_one_shot_iterator()
        add = tf.assign_add(total, tf.reduce_sum(it.get_next()))
        final = tf.train.FinalOpsHook({"total": total})
        runs = 0
        with tf.train.MonitoredSession(hooks=[final]) as sess:
            while not sess.should_stop():
                sess.run(add)
                runs += 1
        return {"runs": runs, "final": int(final.final_ops_values["total"]), "should_stop": bool(sess.should_stop())}


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    work = tempfile.mkdtemp()
    try:
        ckpt_dir = os.path.join(work, "classic")
        first, resumed = classic_loop(ckpt_dir)
        # Keep the classic loop's checkpoint at step 10 (before the resumed run) for tfmini to resume from.
        with tf.Graph().as_default():
            linear_model()
            saver = tf.train.Saver()
            with tf.Session() as sess:
                saver.restore(sess, os.path.join(ckpt_dir, "model.ckpt-10"))
                assert np.allclose(sess.run("w:0"), first["w"])
                os.makedirs(os.path.join(OUT, "tf_checkpoint"))
                saver.save(sess, os.path.join(OUT, "tf_checkpoint", "model.ckpt"), global_step=10,
                           write_meta_graph=False)
        state = tf.train.get_checkpoint_state(os.path.join(OUT, "tf_checkpoint"))
        with open(os.path.join(OUT, "tf_checkpoint", "checkpoint"), "w") as f:
            f.write('model_checkpoint_path: "model.ckpt-10"\nall_model_checkpoint_paths: "model.ckpt-10"\n')
        assert os.path.basename(state.model_checkpoint_path) == "model.ckpt-10"
        cases = {
            "tensorflow_version": tf.__version__,
            "classic": first,
            "resumed": resumed,
            "logging": logging_hook(),
            "dataset": dataset_loop(),
        }
    finally:
        shutil.rmtree(work)
    with open(os.path.join(OUT, "loops.json"), "w") as f:
        json.dump(cases, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
