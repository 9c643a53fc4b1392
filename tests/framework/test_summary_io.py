"""Event files: FileWriter's file name, first record and events; its queue, flushing, close and reopen;
FileWriterCache; summary_iterator over an event file TensorFlow wrote (tests/fixtures/tf/summaries); records
byte for byte as TensorFlow frames them; and TensorBoard's own EventAccumulator reading tfmini's files."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from tensorboard.backend.event_processing import event_accumulator

import tfmini as tf
from tfmini.framework import errors
from tfmini.framework.record_io import tf_record_iterator
from tfmini.protobuf import graph_pb2, summary_pb2

TF_EVENTS = Path(__file__).resolve().parents[1] / "fixtures" / "tf" / "summaries" / "events.out.tfevents.tf"


def _event_files(logdir) -> list[str]:
    return sorted(str(p) for p in Path(logdir).glob("events.out.tfevents.*"))


def _events(logdir) -> list[tf.Event]:
    (path,) = _event_files(logdir)
    return list(tf.train.summary_iterator(path))


def _scalar_summary(tag: str, value: float) -> tf.Summary:
    return tf.Summary(value=[tf.Summary.Value(tag=tag, simple_value=value)])


def test_file_name_and_first_event_follow_tensorflow(tmp_path):
    before = int(time.time())
    writer = tf.summary.FileWriter(tmp_path / "run", filename_suffix=".v1")
    (path,) = _event_files(tmp_path / "run")  # created at once, with its version event
    name = os.path.basename(path)
    m = re.fullmatch(r"events\.out\.tfevents\.(\d{10})\.(.+)\.v1", name)
    assert m and m.group(2) == socket.gethostname() and before <= int(m.group(1)) <= time.time()
    (first,) = tf.train.summary_iterator(path)
    assert first.file_version == "brain.Event:2" and first.wall_time == int(m.group(1)) and first.step == 0
    assert writer.get_logdir() == str(tmp_path / "run")
    writer.close()
    with tf.summary.FileWriter(os.fsencode(tmp_path / "bytes")) as writer:
        assert writer.get_logdir() == str(tmp_path / "bytes") and _event_files(tmp_path / "bytes")


def test_summaries_from_a_session_are_written_with_steps_and_wall_times(tmp_path, sess):
    x = tf.placeholder(tf.float32, [])
    tf.summary.scalar("x", x)
    tf.summary.histogram("xs", tf.stack([x, 2 * x]))
    merged = tf.summary.merge_all()
    with tf.summary.FileWriter(str(tmp_path)) as writer:
        for step in range(3):
            writer.add_summary(sess.run(merged, {x: float(step)}), global_step=np.int64(10 * step))
    events = _events(tmp_path)[1:]
    assert [e.step for e in events] == [0, 10, 20]
    assert all(abs(e.wall_time - time.time()) < 60 for e in events)
    assert [e.summary.value[0].simple_value for e in events] == [0.0, 1.0, 2.0]
    assert [e.summary.value[1].histo.max for e in events] == [0.0, 2.0, 4.0]


def test_metadata_is_kept_on_a_tags_first_value_only_and_the_callers_proto_is_untouched(tmp_path):
    with_meta = summary_pb2.Summary()
    value = with_meta.value.add(tag="t", simple_value=1.0)
    value.metadata.plugin_data.plugin_name = "scalars"
    with tf.summary.FileWriter(tmp_path) as writer:
        writer.add_summary(with_meta, 1)
        writer.add_summary(with_meta.SerializeToString(), 2)
    assert with_meta.value[0].HasField("metadata")
    first, second = _events(tmp_path)[1:]
    assert first.summary.value[0].metadata.plugin_data.plugin_name == "scalars"
    assert not second.summary.value[0].HasField("metadata")


def test_graph_run_metadata_session_logs_and_raw_events(tmp_path, sess):
    a = tf.constant(2.0, name="a")
    b = tf.square(a, name="b")
    meta = tf.RunMetadata()
    sess.run(b, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE), run_metadata=meta)
    with tf.summary.FileWriter(tmp_path, graph=sess.graph) as writer:
        writer.add_run_metadata(meta, "run1", global_step=5)
        with pytest.raises(ValueError, match="already used"):
            writer.add_run_metadata(meta, "run1")
        writer.add_session_log(tf.SessionLog(status=tf.SessionLog.START), 6)
        writer.add_event(tf.Event(wall_time=123.0, step=7, file_version="custom"))
    events = _events(tmp_path)
    graph_def = graph_pb2.GraphDef.FromString(events[1].graph_def)
    assert [n.name for n in graph_def.node] == ["a", "b"]
    assert "_output_shapes" in graph_def.node[1].attr  # add_shapes=True, as TF writes it
    meta_graph = tf.MetaGraphDef.FromString(events[2].meta_graph_def)  # the constructor writes it too
    assert list(meta_graph.graph_def.node) == list(graph_def.node)
    assert {op.name for op in meta_graph.meta_info_def.stripped_op_list.op} == {"Const", "Square"}
    assert events[3].tagged_run_metadata.tag == "run1" and events[3].step == 5
    assert tf.RunMetadata.FromString(events[3].tagged_run_metadata.run_metadata) == meta
    assert events[4].session_log.status == tf.SessionLog.START and events[4].step == 6
    assert events[5] == tf.Event(wall_time=123.0, step=7, file_version="custom")


def test_add_graph_argument_errors_and_graph_def(tmp_path):
    g = tf.Graph()
    with g.as_default():
        tf.constant(1.0, name="c")
    with tf.summary.FileWriter(tmp_path) as writer:
        with pytest.raises(ValueError, match="only graph, or graph_def"):
            writer.add_graph(g, graph_def=g.as_graph_def())
        with pytest.raises(TypeError, match="instance of `Graph`"):
            writer.add_graph("not a graph")
        with pytest.warns(UserWarning, match="deprecated"):
            writer.add_graph(None, graph_def=g.as_graph_def())
        with pytest.raises(TypeError, match="must be type MetaGraphDef"):
            writer.add_meta_graph(g.as_graph_def())
        writer.add_meta_graph(tf.train.export_meta_graph(graph=g), global_step=3)
        with pytest.raises(TypeError, match="Summary proto"):
            writer.add_summary(3.0)
    events = _events(tmp_path)
    assert graph_pb2.GraphDef.FromString(events[1].graph_def).node[0].name == "c"
    assert tf.MetaGraphDef.FromString(events[2].meta_graph_def).graph_def.node[0].name == "c"
    assert events[2].step == 3


def test_events_wait_in_the_queue_until_flush(tmp_path):
    writer = tf.summary.FileWriter(tmp_path, flush_secs=3600)
    (path,) = _event_files(tmp_path)
    size = os.path.getsize(path)
    writer.add_summary(_scalar_summary("s", 1.0))
    time.sleep(0.2)
    assert os.path.getsize(path) == size  # buffered: the periodic flush is an hour away
    writer.flush()
    assert len(list(tf.train.summary_iterator(path))) == 2
    writer.close()


def test_flush_secs_flushes_from_the_background_thread(tmp_path):
    writer = tf.summary.FileWriter(tmp_path, flush_secs=0)
    (path,) = _event_files(tmp_path)
    writer.add_summary(_scalar_summary("s", 1.0))
    deadline = time.time() + 10
    while len(list(tf.train.summary_iterator(path))) < 2 and time.time() < deadline:
        time.sleep(0.01)
    assert len(list(tf.train.summary_iterator(path))) == 2
    writer.close()


def test_a_small_queue_blocks_producers_but_loses_nothing(tmp_path):
    with tf.summary.FileWriter(tmp_path, max_queue=1) as writer:
        for i in range(200):
            writer.add_summary(_scalar_summary("s", float(i)), i)
    assert [e.step for e in _events(tmp_path)[1:]] == list(range(200))


def test_closed_writer_warns_and_ignores_then_reopen_writes_a_new_file(tmp_path, monkeypatch):
    writer = tf.summary.FileWriter(tmp_path)
    writer.add_summary(_scalar_summary("s", 1.0), 1)
    writer.close()
    writer.close()  # harmless
    with pytest.warns(UserWarning, match="closed FileWriter"):
        writer.add_summary(_scalar_summary("s", 2.0), 2)
    assert [e.step for e in _events(tmp_path)[1:]] == [1]
    (first_file,) = _event_files(tmp_path)
    # a later second names a new file
    monkeypatch.setattr(time, "time", lambda real=time.time: real() + 5)
    writer.reopen()
    writer.add_summary(_scalar_summary("s", 3.0), 3)
    writer.close()
    files = _event_files(tmp_path)
    assert len(files) == 2 and first_file in files
    (second_file,) = set(files) - {first_file}
    events = list(tf.train.summary_iterator(second_file))
    assert events[0].file_version == "brain.Event:2" and [e.step for e in events[1:]] == [3]


def test_reopen_within_the_same_second_keeps_the_earlier_events(tmp_path, monkeypatch):
    monkeypatch.setattr(time, "time", lambda: 1_700_000_000.5)
    writer = tf.summary.FileWriter(tmp_path)
    writer.add_summary(_scalar_summary("s", 1.0), 1)
    writer.close()
    writer.reopen()
    writer.add_summary(_scalar_summary("s", 2.0), 2)
    writer.close()
    events = _events(tmp_path)
    assert [e.step for e in events if e.HasField("summary")] == [1, 2]


def test_a_deleted_file_is_started_again(tmp_path):
    writer = tf.summary.FileWriter(tmp_path)
    (path,) = _event_files(tmp_path)
    os.remove(path)
    writer.add_summary(_scalar_summary("s", 1.0), 4)
    writer.close()
    events = _events(tmp_path)
    assert events[0].file_version == "brain.Event:2" and events[1].step == 4


def test_session_argument_is_refused_clearly(tmp_path, sess):
    with pytest.raises(NotImplementedError, match="session"):
        tf.summary.FileWriter(tmp_path, session=sess)


def test_file_writer_cache_shares_one_writer_per_logdir(tmp_path):
    tf.constant(1.0, name="in_default_graph")
    a = tf.summary.FileWriterCache.get(str(tmp_path / "a"))
    assert tf.summary.FileWriterCache.get(str(tmp_path / "a")) is a
    assert tf.summary.FileWriterCache.get(str(tmp_path / "b")) is not a
    a.add_summary(_scalar_summary("s", 1.0), 1)
    tf.summary.FileWriterCache.clear()
    events = _events(tmp_path / "a")
    assert graph_pb2.GraphDef.FromString(events[1].graph_def).node[0].name == "in_default_graph"
    assert events[2].HasField("meta_graph_def") and events[3].step == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tf.summary.FileWriterCache.get(str(tmp_path / "a")) is not a


# -- TensorFlow's files -------------------------------------------------------------------------------------

def test_summary_iterator_reads_tensorflows_event_file():
    events = list(tf.train.summary_iterator(str(TF_EVENTS)))
    assert events[0].file_version == "brain.Event:2"
    kinds = [e.WhichOneof("what") for e in events]
    assert kinds[1:4] == ["graph_def", "meta_graph_def", "session_log"]
    assert kinds.count("summary") == 3 and kinds.count("tagged_run_metadata") == 1
    graph_def = graph_pb2.GraphDef.FromString(events[1].graph_def)
    assert {"x", "loss"} <= {n.name for n in graph_def.node}
    summaries = [e for e in events if e.HasField("summary")]
    assert [e.step for e in summaries] == [0, 1, 2]
    loss = [v.simple_value for e in summaries for v in e.summary.value if v.tag == "loss_1"]
    np.testing.assert_allclose(loss, [np.mean(np.arange(12.0) ** 2) * (s + 1) ** 2 for s in range(3)], rtol=1e-6)
    assert events[-1].session_log.status == tf.SessionLog.CHECKPOINT
    assert events[-1].session_log.checkpoint_path == "/ck"


def test_rewritten_events_are_tensorflows_bytes(tmp_path):
    """Every record of TF's file, added with add_event, comes out framed and serialized as TF wrote it."""
    records = list(tf_record_iterator(str(TF_EVENTS)))
    with tf.summary.FileWriter(tmp_path) as writer:
        for record in records[1:]:
            writer.add_event(tf.Event.FromString(record))
    (path,) = _event_files(tmp_path)
    tf_bytes = TF_EVENTS.read_bytes()
    ours = Path(path).read_bytes()
    our_first = next(tf_record_iterator(path))
    assert ours[16 + len(our_first):] == tf_bytes[16 + len(records[0]):]  # 16: a record's framing


def test_a_damaged_event_file_is_a_data_loss_error(tmp_path):
    damaged = tmp_path / "events.out.tfevents.damaged"
    data = bytearray(TF_EVENTS.read_bytes())
    data[40] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(errors.DataLossError):
        list(tf.train.summary_iterator(str(damaged)))
    with pytest.raises(errors.NotFoundError):
        list(tf.train.summary_iterator(str(tmp_path / "missing")))


# -- TensorBoard --------------------------------------------------------------------------------------------

def test_tensorboard_event_accumulator_reads_tfminis_file(tmp_path, sess):
    x = tf.placeholder(tf.float32, [None], name="x")
    tf.summary.scalar("loss", tf.reduce_mean(x))
    tf.summary.histogram("values", x)
    tf.summary.image("picture", tf.reshape(x[:12], [1, 2, 2, 3]))
    tf.summary.audio("sound", tf.reshape(x[:12], [2, 6]) / 20.0, 8000.0)
    tf.summary.text("note", tf.constant("**hi**"))
    merged = tf.summary.merge_all()
    with tf.summary.FileWriter(tmp_path, sess.graph) as writer:
        for step in range(3):
            meta = tf.RunMetadata()
            feed = {x: np.arange(12, dtype=np.float32) + step}
            s = sess.run(merged, feed, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                         run_metadata=meta)
            writer.add_summary(s, step)
            if step == 2:
                writer.add_run_metadata(meta, "traced", step)
    acc = event_accumulator.EventAccumulator(str(tmp_path), size_guidance={event_accumulator.TENSORS: 0,
                                                                 event_accumulator.HISTOGRAMS: 0})
    acc.Reload()
    tags = acc.Tags()
    assert tags["scalars"] == ["loss"] and tags["histograms"] == ["values"]
    assert tags["images"] == ["picture/image/0"] and tags["audio"] == ["sound/audio/0", "sound/audio/1"]
    assert tags["tensors"] == ["note"] and tags["graph"] and tags["run_metadata"] == ["traced"]
    assert tags["meta_graph"]
    assert [(e.step, e.value) for e in acc.Scalars("loss")] == [(0, 5.5), (1, 6.5), (2, 7.5)]
    assert [h.histogram_value.num for h in acc.Histograms("values")] == [12, 12, 12]
    assert acc.Histograms("values")[2].histogram_value.max == 13.0
    image = acc.Images("picture/image/0")[0]
    assert (image.width, image.height) == (2, 2) and image.encoded_image_string.startswith(b"\x89PNG")
    assert acc.Audio("sound/audio/0")[0].sample_rate == 8000.0
    assert acc.Tensors("note")[0].tensor_proto.string_val == [b"**hi**"]
    assert {n.name for n in acc.Graph().node} >= {"x", "loss"}
    assert acc.RunMetadata("traced").step_stats.dev_stats


def test_concurrent_closes_and_adds_all_return(tmp_path):
    """Two threads closing one writer both return (the later waits for the first), and an event added while
    the writer closes neither lands behind the stop marker nor makes a later flush wait forever."""
    for trial in range(10):
        writer = tf.summary.FileWriter(str(tmp_path / str(trial)))
        barrier = threading.Barrier(3)

        def close(writer=writer, barrier=barrier):
            barrier.wait()
            writer.close()

        def add_then_flush(writer=writer, barrier=barrier):
            barrier.wait()
            writer.event_writer.add_event(tf.Event(step=1))
            writer.event_writer.flush()

        threads = [threading.Thread(target=f, daemon=True) for f in (close, close, add_then_flush)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(5)
        assert not any(t.is_alive() for t in threads), f"trial {trial}: a close or flush never returned"
        assert writer.event_writer._closed
