"""Event files both ways between TensorFlow and tfmini (run by `make interop`).

    /work/tfenv/bin/python tools/interop/summaries.py tf-write DIR      TensorFlow writes an event file
    .venv/bin/python       tools/interop/summaries.py tfmini-check DIR  tfmini reads and checks it
    .venv/bin/python       tools/interop/summaries.py tfmini-write DIR  tfmini writes an event file
    /work/tfenv/bin/python tools/interop/summaries.py tf-check DIR      TensorFlow (and TensorBoard) check it

Both sides run the same TF1 program (the two libraries share the API): a graph with scalar, histogram, image,
audio, text and tensor summaries, written with its graph, run metadata and session logs at three steps. A check
reads the file with its own summary_iterator, recomputes every summary with its own ops and requires the same
bytes, imports the written graph, and parses the run metadata. Exits non-zero with a message on any
disagreement. TensorFlow is imported only by the tf-* commands, tfmini only by the tfmini-* commands.
"""

from __future__ import annotations

import glob
import os
import sys
from types import ModuleType

import numpy as np
from _driver import CheckFailed, expect, import_tensorflow, run

SUFFIX = ".interop"
STEPS = 3


def _feed(step: int) -> np.ndarray:
    return (np.linspace(-3.0, 5.0, 64) * (step + 1)).astype(np.float32)


def _build(tf: ModuleType):
    """The program, in whichever library `tf` is: returns the placeholder and the merged summary."""
    x = tf.placeholder(tf.float32, [None], name="x")
    loss = tf.reduce_mean(tf.square(x), name="loss")
    tf.summary.scalar("loss", loss)
    tf.summary.histogram("x", x)
    tf.summary.image("img", tf.reshape(x[:48], [2, 4, 2, 3]), max_outputs=2)
    tf.summary.audio("sound", tf.reshape(x[:40], [2, 20]) / 100.0, 8000.0)
    tf.summary.text("note", tf.constant("**step**"))
    tf.summary.tensor_summary("t", tf.reshape(x[:6], [2, 3]))
    with tf.name_scope("outer"):
        tf.summary.scalar("inner", loss * 2.0, family="group")
    return x, tf.summary.merge_all()


def _write(tf: ModuleType, logdir: str) -> None:
    with tf.Graph().as_default() as graph:
        x, merged = _build(tf)
        writer = tf.summary.FileWriter(logdir, graph, filename_suffix=SUFFIX)
        with tf.Session() as sess:
            writer.add_session_log(tf.SessionLog(status=tf.SessionLog.START), 0)
            for step in range(STEPS):
                meta = tf.RunMetadata()
                options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
                summary = sess.run(merged, {x: _feed(step)}, options=options, run_metadata=meta)
                writer.add_summary(summary, step)
                if step == 1:
                    writer.add_run_metadata(meta, "step1", step)
            writer.add_session_log(tf.SessionLog(status=tf.SessionLog.CHECKPOINT, checkpoint_path="/ck"), STEPS)
        writer.close()


def _expected_summaries(tf: ModuleType) -> list[bytes]:
    """The checker's own serialized summaries for each step, with the metadata of a tag's later values
    dropped, as FileWriter writes them."""
    with tf.Graph().as_default():
        x, merged = _build(tf)
        with tf.Session() as sess:
            runs = [sess.run(merged, {x: _feed(step)}) for step in range(STEPS)]
    seen: set[str] = set()
    out = []
    for serialized in runs:
        summary = tf.Summary.FromString(serialized)
        for value in summary.value:
            if value.tag in seen:
                value.ClearField("metadata")
            seen.add(value.tag)
        out.append(summary.SerializeToString())
    return out


def _check(tf: ModuleType, logdir: str, summary_iterator, graph_def_class, meta_graph_def_class,
           run_metadata_class) -> list[str]:
    files = glob.glob(os.path.join(logdir, "events.out.tfevents.*" + SUFFIX))
    expect(len(files) == 1, f"expected one events file *{SUFFIX} in {logdir}, found {files}")
    events = list(summary_iterator(files[0]))
    expect(events and events[0].file_version == "brain.Event:2",
            f"the first event must name file_version brain.Event:2, got {events[:1]}")
    kinds = [e.WhichOneof("what") for e in events]
    expect(kinds.count("graph_def") == 1, f"expected one graph_def event, got kinds {kinds}")
    graph_def = graph_def_class.FromString(events[kinds.index("graph_def")].graph_def)
    with tf.Graph().as_default():
        tf.import_graph_def(graph_def, name="")
        names = {op.name for op in tf.get_default_graph().get_operations()}
    expect({"x", "loss", "Merge/MergeSummary"} <= names, f"the written graph lacks x/loss/merge: {sorted(names)}")

    expect(kinds.count("meta_graph_def") == 1, f"expected one meta_graph_def event, got kinds {kinds}")
    meta_graph = meta_graph_def_class.FromString(events[kinds.index("meta_graph_def")].meta_graph_def)
    expect([n.name for n in meta_graph.graph_def.node] == [n.name for n in graph_def.node],
            "the meta graph's graph differs from the graph event's")
    expect({"Placeholder", "MergeSummary"} <= {op.name for op in meta_graph.meta_info_def.stripped_op_list.op},
            "the meta graph's stripped op list lacks Placeholder/MergeSummary")

    summaries = [e for e in events if e.HasField("summary")]
    expect([e.step for e in summaries] == list(range(STEPS)),
            f"summary steps are {[e.step for e in summaries]}, expected {list(range(STEPS))}")
    for event, expected in zip(summaries, _expected_summaries(tf)):
        got = event.summary.SerializeToString()
        if got != expected:
            got_tags = [v.tag for v in event.summary.value]
            want_tags = [v.tag for v in tf.Summary.FromString(expected).value]
            bad = [a.tag for a, b in zip(event.summary.value, tf.Summary.FromString(expected).value) if a != b]
            raise CheckFailed(f"step {event.step}: the written summary differs from this side's own "
                              f"(tags {got_tags} vs {want_tags}; differing values: {bad})")

    tagged = [e for e in events if e.HasField("tagged_run_metadata")]
    expect(len(tagged) == 1 and tagged[0].tagged_run_metadata.tag == "step1" and tagged[0].step == 1,
            f"expected run metadata 'step1' at step 1, got {[(e.tagged_run_metadata.tag, e.step) for e in tagged]}")
    meta = run_metadata_class.FromString(tagged[0].tagged_run_metadata.run_metadata)
    expect(len(meta.step_stats.dev_stats) > 0, "the run metadata holds no step stats")

    logs = [(e.session_log.status, e.step, e.session_log.checkpoint_path) for e in events if e.HasField("session_log")]
    expect(logs == [(tf.SessionLog.START, 0, ""), (tf.SessionLog.CHECKPOINT, STEPS, "/ck")],
            f"unexpected session logs {logs}")
    return [v.tag for v in summaries[0].summary.value]


def _check_with_tensorboard(logdir: str, tags: list[str]) -> str:
    try:
        from tensorboard.backend.event_processing import event_accumulator
    except ImportError:  # optional: TensorBoard is not a dependency of either side
        return "TensorBoard not installed: EventAccumulator check skipped"
    acc = event_accumulator.EventAccumulator(logdir, size_guidance={event_accumulator.TENSORS: 0,
                                                                    event_accumulator.HISTOGRAMS: 0})
    acc.Reload()
    found = acc.Tags()
    seen = set(found["scalars"]) | set(found["histograms"]) | set(found["images"]) | set(found["audio"]) \
        | set(found["tensors"])
    expect(seen == set(tags), f"TensorBoard found tags {sorted(seen)}, the file holds {sorted(tags)}")
    expect(found["graph"], "TensorBoard found no graph")
    expect(found["run_metadata"] == ["step1"], f"TensorBoard found run metadata {found['run_metadata']}")
    expect(len(acc.Scalars("loss_1")) == STEPS, "TensorBoard did not find a scalar per step")
    return f"TensorBoard's EventAccumulator read {len(tags)} tags, the graph and the run metadata"


def tf_write(logdir: str) -> str:
    tf = import_tensorflow()
    _write(tf, logdir)
    return "TensorFlow wrote an event file"


def tf_check(logdir: str) -> str:
    tf = import_tensorflow()
    from tensorflow.core.framework import graph_pb2
    from tensorflow.core.protobuf import config_pb2, meta_graph_pb2

    tags = _check(tf, logdir, tf.train.summary_iterator, graph_pb2.GraphDef, meta_graph_pb2.MetaGraphDef,
                  config_pb2.RunMetadata)
    return "TensorFlow read tfmini's event file; " + _check_with_tensorboard(logdir, tags)


def tfmini_write(logdir: str) -> str:
    import tfmini as tf

    _write(tf, logdir)
    return "tfmini wrote an event file"


def tfmini_check(logdir: str) -> str:
    import tfmini as tf
    from tfmini.protobuf import config_pb2, graph_pb2, meta_graph_pb2

    tags = _check(tf, logdir, tf.train.summary_iterator, graph_pb2.GraphDef, meta_graph_pb2.MetaGraphDef,
                  config_pb2.RunMetadata)
    return "tfmini read TensorFlow's event file; " + _check_with_tensorboard(logdir, tags)


COMMANDS = {"tf-write": tf_write, "tf-check": tf_check, "tfmini-write": tfmini_write, "tfmini-check": tfmini_check}


def main(argv: list[str]) -> int:
    return run("summaries", COMMANDS, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
