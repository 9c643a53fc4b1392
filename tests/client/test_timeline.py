"""tfmini.client.timeline.Timeline: the Chrome trace of a traced step, loaded back as JSON and checked against
the Trace Event Format (keys per phase, durations, paired flows bound inside slices, numeric counters) and
against the step stats it came from."""

import json
from collections import Counter

import numpy as np
import pytest

import tfmini as tf
from tfmini.client.timeline import Timeline, parse_op_label
from tfmini.client.tracing import step_peak_bytes
from tfmini.protobuf import step_stats_pb2

FULL = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
_NUMBER = (int, float)


def _graph():
    """Two inputs feeding a small diamond: x -> (a, b) -> c -> loss."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        a = tf.tanh(x, name="a")
        b = tf.square(x, name="b")
        c = tf.matmul(a, b, transpose_b=True, name="c")
        loss = tf.reduce_sum(c, name="loss")
    return g, x, loss


def _traced_step_stats(runs=1):
    g, x, loss = _graph()
    feed = {x: np.arange(12, dtype=np.float32).reshape(3, 4)}
    out = []
    with tf.Session(graph=g) as sess:
        for _ in range(runs):
            md = tf.RunMetadata()
            sess.run(loss, feed, options=FULL, run_metadata=md)
            out.append(md.step_stats)
    return g, out


def _check_trace_event_format(trace: dict) -> list[dict]:
    """Asserts `trace` follows the Trace Event Format for the phases a Timeline emits; returns its events."""
    assert isinstance(trace, dict) and isinstance(trace["traceEvents"], list)
    events = trace["traceEvents"]
    names, thread_names = {}, {}
    for e in events:
        assert e["ph"] in {"M", "X", "s", "f", "C"}, e
        assert isinstance(e["pid"], int)
        if e["ph"] == "M":
            assert e["name"] in {"process_name", "process_sort_index", "thread_name", "thread_sort_index"}
            if e["name"].startswith("thread"):
                assert isinstance(e["tid"], int)
            if e["name"].endswith("_name"):
                assert isinstance(e["args"]["name"], str) and e["args"]["name"]
                (thread_names if e["name"] == "thread_name" else names)[(e["pid"], e.get("tid"))] = e["args"]["name"]
            else:
                assert isinstance(e["args"]["sort_index"], int)
            continue
        assert isinstance(e["name"], str) and isinstance(e["cat"], str)
        assert isinstance(e["ts"], _NUMBER) and e["ts"] >= 0
        assert isinstance(e["tid"], int)
        assert (e["pid"], None) in names, f"process {e['pid']} has no name"
        if e["ph"] == "X":
            assert isinstance(e["dur"], _NUMBER) and e["dur"] >= 0
            assert isinstance(e["args"], dict)
            assert (e["pid"], e["tid"]) in thread_names, f"thread {e['tid']} has no name"
        elif e["ph"] == "C":
            assert e["args"] and all(isinstance(v, _NUMBER) and not isinstance(v, bool) for v in e["args"].values())
        else:
            assert isinstance(e["id"], int)
    # Slices of one thread nest or follow each other; they never partly overlap.
    by_thread: dict = {}
    for e in events:
        if e["ph"] == "X":
            by_thread.setdefault((e["pid"], e["tid"]), []).append((e["ts"], e["ts"] + e["dur"]))
    for slices in by_thread.values():
        open_ends: list = []
        for start, end in sorted(slices, key=lambda p: (p[0], -p[1])):
            while open_ends and open_ends[-1] <= start:
                open_ends.pop()
            assert not open_ends or end <= open_ends[-1], "slices partly overlap"
            open_ends.append(end)
    # Every flow has one start and one end, with the same category and name, bound inside slices.
    flows: dict = {}
    for e in events:
        if e["ph"] in "sf":
            flows.setdefault(e["id"], []).append(e)
    for pair in flows.values():
        assert sorted(p["ph"] for p in pair) == ["f", "s"]
        start, end = sorted(pair, key=lambda p: p["ph"] != "s")
        assert (start["cat"], start["name"]) == (end["cat"], end["name"])
        assert end["bp"] == "e"
        assert start["ts"] <= end["ts"]
        for point in pair:
            assert any(s <= point["ts"] <= t for s, t in by_thread[(point["pid"], point["tid"])])
    return events


def _slice_at(events, point) -> dict:
    return next(e for e in events if e["ph"] == "X" and (e["pid"], e["tid"]) == (point["pid"], point["tid"])
                and e["ts"] <= point["ts"] <= e["ts"] + e["dur"])


# ----------------------------------------------------------------------------------------------------------
# A real traced step
# ----------------------------------------------------------------------------------------------------------
def test_trace_is_valid_trace_event_json_with_one_complete_event_per_op():
    g, (stats,) = _traced_step_stats()
    events = _check_trace_event_format(json.loads(Timeline(stats).generate_chrome_trace_format()))
    nodes = list(stats.dev_stats[0].node_stats)
    ops = [e for e in events if e["ph"] == "X"]
    assert [e["args"]["name"] for e in ops] == [ns.node_name for ns in nodes]
    for e, ns in zip(ops, nodes):
        op = g.get_operation_by_name(ns.node_name)
        assert e["name"] == e["args"]["op"] == op.type
        assert e["cat"] == "Op"
        assert [e["args"][f"input{i}"] for i in range(len(op.inputs))] == [t.op.name for t in op.inputs]
        assert e["dur"] == pytest.approx(ns.all_end_rel_nanos / 1000, abs=1e-3)
    first = nodes[0].all_start_nanos
    assert [e["ts"] for e in ops] == pytest.approx([(ns.all_start_nanos - first) / 1000 for ns in nodes], abs=1e-3)


def test_processes_and_threads_are_named_and_sorted():
    _, (stats,) = _traced_step_stats()
    events = json.loads(Timeline(stats).generate_chrome_trace_format(show_memory=True))["traceEvents"]
    meta = [(e["name"], e["pid"], e.get("tid"), e["args"]) for e in events if e["ph"] == "M"]
    dev = stats.dev_stats[0]
    assert ("process_name", 0, None, {"name": "Allocators"}) in meta
    assert ("process_name", 1, None, {"name": f"{dev.device} Compute"}) in meta
    assert ("process_sort_index", 1, None, {"sort_index": 1}) in meta
    # One named lane per thread that ran ops (several when the parallel engine spread the step).
    tids = sorted({ns.thread_id for ns in dev.node_stats})
    for tid in tids:
        assert ("thread_name", 1, tid, {"name": dev.thread_names[tid]}) in meta
    sort_indices = [args["sort_index"] for name, pid, tid, args in meta if name == "thread_sort_index" and pid == 1]
    assert sorted(sort_indices) == list(range(len(tids)))
    # Metadata comes before the events it names.
    phases = [e["ph"] for e in events]
    assert phases.index("X") > max(i for i, p in enumerate(phases) if p == "M")


def test_dataflow_draws_one_flow_per_edge_from_producer_to_consumer():
    g, (stats,) = _traced_step_stats()
    events = _check_trace_event_format(json.loads(Timeline(stats).generate_chrome_trace_format()))
    ran = {ns.node_name for ns in stats.dev_stats[0].node_stats}
    edges = Counter((t.op.name, op.name) for name in ran for op in [g.get_operation_by_name(name)]
                    for t in op.inputs if t.op.name in ran)
    starts = {e["id"]: e for e in events if e["ph"] == "s"}
    drawn = Counter()
    for end in (e for e in events if e["ph"] == "f"):
        producer, consumer = _slice_at(events, starts[end["id"]]), _slice_at(events, end)
        assert end["name"] == producer["args"]["name"]  # the tensor: output 0 of the producer
        drawn[(producer["args"]["name"], consumer["args"]["name"])] += 1
    assert drawn == edges
    assert ("x", "a") not in drawn  # a fed tensor has no producer in the step


def test_without_dataflow_there_are_no_flow_events():
    _, (stats,) = _traced_step_stats()
    events = json.loads(Timeline(stats).generate_chrome_trace_format(show_dataflow=False))["traceEvents"]
    assert not [e for e in events if e["ph"] in ("s", "t", "f")]
    assert [e for e in events if e["ph"] == "X"]


def test_memory_counters_follow_the_bytes_in_use_per_allocator():
    _, (stats,) = _traced_step_stats()
    plain = json.loads(Timeline(stats).generate_chrome_trace_format())["traceEvents"]
    assert not [e for e in plain if e["ph"] == "C"]
    events = _check_trace_event_format(json.loads(Timeline(stats).generate_chrome_trace_format(show_memory=True)))
    counters = [e for e in events if e["ph"] == "C"]
    assert {(e["name"], e["pid"], tuple(e["args"])) for e in counters} == {("cpu", 0, ("cpu",))}
    values = [e["args"]["cpu"] for e in counters]
    nodes = stats.dev_stats[0].node_stats
    expected = []
    for ns in nodes:
        expected += [ns.memory[0].allocator_bytes_in_use - ns.memory[0].total_bytes,
                     ns.memory[0].allocator_bytes_in_use]
    assert values == expected
    assert max(values) == step_peak_bytes(stats)["cpu"]
    assert values[0] == 3 * 4 * 4  # the step starts holding the fed value
    assert [e["ts"] for e in counters] == sorted(e["ts"] for e in counters)


def test_a_second_run_of_the_same_plan_yields_the_same_events_apart_from_times():
    _, runs = _traced_step_stats(runs=2)

    def timeless(stats):
        events = json.loads(Timeline(stats).generate_chrome_trace_format(show_memory=True))["traceEvents"]
        # Like times, which thread runs an op (and so which lanes there are) is the scheduler's choice on the
        # parallel engine: compared apart from times, threads and the thread lanes' own metadata.
        return sorted(json.dumps({k: v for k, v in e.items() if k not in ("ts", "dur", "tid")}, sort_keys=True)
                      for e in events if not (e["ph"] == "M" and e["name"].startswith("thread_")))

    first, second = timeless(runs[0]), timeless(runs[1])
    assert first == second
    assert len(first) > 10


def test_pretty_output_round_trips_through_serialized_step_stats():
    _, (stats,) = _traced_step_stats()
    copy = step_stats_pb2.StepStats.FromString(stats.SerializeToString())
    text = Timeline(copy).generate_chrome_trace_format()
    assert text.startswith("{\n")
    assert json.loads(text) == json.loads(Timeline(stats).generate_chrome_trace_format())


# ----------------------------------------------------------------------------------------------------------
# Step stats from elsewhere
# ----------------------------------------------------------------------------------------------------------
def _stats(*nodes, device="/device:CPU:0"):
    """StepStats from (name, label, start µs, duration µs, thread) tuples, micros only (as TF 1.x records)."""
    stats = step_stats_pb2.StepStats()
    dev = stats.dev_stats.add(device=device)
    for name, label, start, dur, thread in nodes:
        dev.node_stats.add(node_name=name, timeline_label=label, all_start_micros=start, all_end_rel_micros=dur,
                           op_end_rel_micros=dur, thread_id=thread).output.add(slot=0)
    return stats


def test_parse_op_label_reads_name_type_and_inputs():
    assert parse_op_label("y = Add(x, z:1, ^c)") == ("y", "Add", ["x", "z:1", "^c"])
    assert parse_op_label("c = Const()") == ("c", "Const", [])
    assert parse_op_label("not a label") == ("unknown", "unknown", [])


def test_partly_overlapping_ops_of_one_thread_go_to_separate_tracks():
    stats = _stats(("a", "a = Foo()", 100, 50, 7), ("b", "b = Bar(a)", 120, 50, 7), ("c", "c = Baz(b)", 200, 5, 7))
    events = _check_trace_event_format(json.loads(Timeline(stats).generate_chrome_trace_format()))
    tid = {e["args"]["name"]: e["tid"] for e in events if e["ph"] == "X"}
    assert tid["a"] == tid["c"] == 7 and tid["b"] != 7
    names = {e["tid"]: e["args"]["name"] for e in events if e["name"] == "thread_name"}
    assert names == {7: "thread 7", tid["b"]: "thread 7 (overlap 1)"}
    ts = {e["args"]["name"]: (e["ts"], e["dur"]) for e in events if e["ph"] == "X"}
    assert ts == {"a": (0.0, 50.0), "b": (20.0, 50.0), "c": (100.0, 5.0)}


def test_flows_reach_across_devices_and_name_later_outputs_by_index():
    stats = _stats(("p", "p = Split()", 0, 10, 1))
    stats.dev_stats[0].node_stats[0].output.add(slot=1)
    other = stats.dev_stats.add(device="/device:CPU:1")
    other.node_stats.add(node_name="q", timeline_label="q = Neg(p:1)", all_start_micros=20, all_end_rel_micros=4,
                         thread_id=2)
    events = _check_trace_event_format(json.loads(Timeline(stats).generate_chrome_trace_format()))
    s, f = (next(e for e in events if e["ph"] == ph) for ph in "sf")
    assert s["name"] == f["name"] == "p:1"
    assert (s["pid"], f["pid"]) == (0, 1)
    assert _slice_at(events, s)["args"]["name"] == "p" and _slice_at(events, f)["args"]["name"] == "q"


def test_an_unreadable_label_gives_type_unknown_unless_the_graph_names_it():
    g = tf.Graph()
    with g.as_default():
        tf.constant(1.0, name="k")
    stats = _stats(("k", "", 0, 3, 1))
    plain = json.loads(Timeline(stats).generate_chrome_trace_format())["traceEvents"]
    with_graph = json.loads(Timeline(stats, graph=g).generate_chrome_trace_format())["traceEvents"]
    assert [e["name"] for e in plain if e["ph"] == "X"] == ["unknown"]
    assert [e["name"] for e in with_graph if e["ph"] == "X"] == ["Const"]


def test_empty_step_stats_give_an_empty_but_valid_trace():
    trace = json.loads(Timeline(step_stats_pb2.StepStats()).generate_chrome_trace_format(show_memory=True))
    events = _check_trace_event_format(trace)
    assert [e["ph"] for e in events] == ["M", "M"]
