"""Checks on tfmini.protobuf: modules import, bytes match TensorFlow's wire format, version contract holds."""

from __future__ import annotations

import importlib
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PB_DIR = REPO / "tfmini" / "protobuf"
PROTO_FILES = sorted(PB_DIR.glob("*.proto"))
MODULES = sorted(p.stem + "_pb2" for p in PROTO_FILES)
GENCODE_VERSION = (6, 31, 1)


# --- a minimal protobuf wire encoder, written from the encoding spec -------------------------------------


def varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64  # negative int32/int64 travel as 10-byte two's complement
    out = bytearray()
    while True:
        low = n & 0x7F
        n >>= 7
        if n:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def tag(field: int, wire_type: int) -> bytes:
    return varint((field << 3) | wire_type)


def f_varint(field: int, value: int) -> bytes:
    return tag(field, 0) + varint(value)


def f_bytes(field: int, value: bytes | str) -> bytes:
    if isinstance(value, str):
        value = value.encode()
    return tag(field, 2) + varint(len(value)) + value


def f_double(field: int, value: float) -> bytes:
    return tag(field, 1) + struct.pack("<d", value)


def f_float(field: int, value: float) -> bytes:
    return tag(field, 5) + struct.pack("<f", value)


def map_entry(field: int, key: bytes, value: bytes) -> bytes:
    """A map<K, V> entry: a submessage with key=1 and value=2 (both already encoded)."""
    return f_bytes(field, key + value)


# --- 1. every module imports ----------------------------------------------------------------------------


def test_there_are_protos():
    for name in ("types", "tensor", "attr_value", "node_def", "graph", "function", "step_stats", "config"):
        assert name + "_pb2" in MODULES


@pytest.mark.parametrize("module", MODULES)
def test_module_imports(module):
    mod = importlib.import_module(f"tfmini.protobuf.{module}")
    assert mod.DESCRIPTOR.package == "tfmini"
    assert mod.DESCRIPTOR.name == f"tfmini/protobuf/{module[: -len('_pb2')]}.proto"
    assert (PB_DIR / f"{module}.pyi").exists()


def test_imports_in_a_fresh_process():
    code = "from tfmini.protobuf import " + ", ".join(MODULES)
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


# --- 2. wire interop with TensorFlow's field numbers ----------------------------------------------------


def test_nodedef_hand_encoded():
    from tfmini.protobuf import attr_value_pb2, node_def_pb2, types_pb2

    dtype_attr = f_varint(6, 1)  # AttrValue.type = DT_FLOAT
    shape_attr = f_bytes(7, f_bytes(2, f_varint(1, -1)) + f_bytes(2, f_varint(1, 3)))  # shape [?, 3]
    raw = (
        f_bytes(1, "x")  # name
        + f_bytes(2, "Placeholder")  # op
        + f_bytes(3, "a:1")  # input
        + f_bytes(3, "^init")
        + f_bytes(4, "/device:CPU:0")  # device
        + map_entry(5, f_bytes(1, "dtype"), f_bytes(2, dtype_attr))  # attr
        + map_entry(5, f_bytes(1, "shape"), f_bytes(2, shape_attr))
        + f_bytes(6, f_bytes(1, "orig") + f_bytes(2, "fn"))  # experimental_debug_info
    )
    node = node_def_pb2.NodeDef.FromString(raw)
    assert node.name == "x" and node.op == "Placeholder"
    assert list(node.input) == ["a:1", "^init"]
    assert node.device == "/device:CPU:0"
    assert node.attr["dtype"].type == types_pb2.DT_FLOAT
    assert node.attr["dtype"].WhichOneof("value") == "type"
    assert [d.size for d in node.attr["shape"].shape.dim] == [-1, 3]
    assert list(node.experimental_debug_info.original_node_names) == ["orig"]
    assert list(node.experimental_debug_info.original_func_names) == ["fn"]
    assert isinstance(node.attr["dtype"], attr_value_pb2.AttrValue)

    # Serialization is deterministic for the non-map fields; check a simple round trip byte-for-byte.
    simple = f_bytes(1, "n") + f_bytes(2, "Add") + f_bytes(3, "a") + f_bytes(3, "b")
    assert node_def_pb2.NodeDef.FromString(simple).SerializeToString() == simple


def test_attr_value_oneof_numbers():
    from tfmini.protobuf import attr_value_pb2

    parse = attr_value_pb2.AttrValue.FromString
    assert parse(f_bytes(2, b"abc")).s == b"abc"
    assert parse(f_varint(3, -7)).i == -7
    assert parse(f_float(4, 0.5)).f == 0.5
    assert parse(f_varint(5, 1)).b is True
    assert parse(f_bytes(9, "T")).placeholder == "T"
    assert parse(f_bytes(10, f_bytes(1, "fn"))).func.name == "fn"
    lst = parse(f_bytes(1, f_bytes(3, varint(1) + varint(2) + varint(3)) + f_bytes(2, b"s")))  # packed i
    assert list(lst.list.i) == [1, 2, 3] and list(lst.list.s) == [b"s"]


def test_tensor_proto_fields():
    from tfmini.protobuf import tensor_pb2, types_pb2

    raw = (
        f_varint(1, types_pb2.DT_FLOAT)
        + f_bytes(2, f_bytes(2, f_varint(1, 2)) + f_bytes(2, f_varint(1, 2)))  # tensor_shape [2, 2]
        + f_bytes(4, struct.pack("<4f", 1, 2, 3, 4))  # tensor_content
        + f_bytes(5, struct.pack("<2f", 7.0, 8.0))  # float_val, packed
        + f_bytes(10, varint(5) + varint(-1))  # int64_val, packed
        + f_bytes(8, b"hi")  # string_val
    )
    t = tensor_pb2.TensorProto.FromString(raw)
    assert t.dtype == types_pb2.DT_FLOAT
    assert [d.size for d in t.tensor_shape.dim] == [2, 2]
    assert struct.unpack("<4f", t.tensor_content) == (1, 2, 3, 4)
    assert list(t.float_val) == [7.0, 8.0]
    assert list(t.int64_val) == [5, -1]
    assert list(t.string_val) == [b"hi"]
    # TensorFlow writes packed repeated scalars; so must we.
    assert tensor_pb2.TensorProto(float_val=[7.0, 8.0]).SerializeToString() == f_bytes(
        5, struct.pack("<2f", 7.0, 8.0)
    )


def test_datatype_values():
    from tfmini.protobuf import types_pb2

    expected = {
        "DT_INVALID": 0, "DT_FLOAT": 1, "DT_DOUBLE": 2, "DT_INT32": 3, "DT_UINT8": 4, "DT_INT16": 5,
        "DT_INT8": 6, "DT_STRING": 7, "DT_COMPLEX64": 8, "DT_INT64": 9, "DT_BOOL": 10, "DT_QINT8": 11,
        "DT_QUINT8": 12, "DT_QINT32": 13, "DT_BFLOAT16": 14, "DT_QINT16": 15, "DT_QUINT16": 16,
        "DT_UINT16": 17, "DT_COMPLEX128": 18, "DT_HALF": 19, "DT_RESOURCE": 20, "DT_VARIANT": 21,
        "DT_UINT32": 22, "DT_UINT64": 23,
    }  # fmt: skip
    for name, value in expected.items():
        assert types_pb2.DataType.Value(name) == value
        if value:
            assert types_pb2.DataType.Value(name + "_REF") == value + 100
    for value in types_pb2.DataType.values():
        if 0 < value < 100:
            assert types_pb2.DataType.Name(value + 100) == types_pb2.DataType.Name(value) + "_REF"


def test_graphdef_hand_encoded():
    from tfmini.protobuf import graph_pb2

    raw = (
        f_bytes(1, f_bytes(1, "a") + f_bytes(2, "Const"))  # node
        + f_bytes(1, f_bytes(1, "b") + f_bytes(2, "Identity") + f_bytes(3, "a"))
        + f_bytes(4, f_varint(1, 27) + f_varint(2, 0) + f_bytes(3, varint(5)))  # versions
        + f_bytes(  # library: one function with a signature, one gradient
            2,
            f_bytes(1, f_bytes(1, f_bytes(1, "MyFn")) + map_entry(4, f_bytes(1, "out"), f_bytes(2, "x:y:0")))
            + f_bytes(2, f_bytes(1, "MyFn") + f_bytes(2, "MyFnGrad")),
        )
    )
    g = graph_pb2.GraphDef.FromString(raw)
    assert [n.name for n in g.node] == ["a", "b"]
    assert list(g.node[1].input) == ["a"]
    assert g.versions.producer == 27 and list(g.versions.bad_consumers) == [5]
    assert g.library.function[0].signature.name == "MyFn"
    assert g.library.function[0].ret["out"] == "x:y:0"
    assert g.library.gradient[0].function_name == "MyFn"
    assert g.library.gradient[0].gradient_func == "MyFnGrad"
    assert graph_pb2.GraphDef.FromString(g.SerializeToString()) == g


def test_run_options_hand_encoded():
    from tfmini.protobuf import config_pb2

    raw = f_varint(1, 3) + f_varint(2, 1500) + f_varint(3, -1) + f_varint(5, 1) + f_varint(7, 1)
    ro = config_pb2.RunOptions.FromString(raw)
    assert ro.trace_level == config_pb2.RunOptions.FULL_TRACE == 3
    assert config_pb2.RunOptions.TraceLevel.Name(1) == "SOFTWARE_TRACE"
    assert config_pb2.RunOptions.HARDWARE_TRACE == 2
    assert ro.timeout_in_ms == 1500
    assert ro.inter_op_thread_pool == -1
    assert ro.output_partition_graphs and ro.report_tensor_allocations_upon_oom
    assert config_pb2.RunOptions(trace_level=3, timeout_in_ms=1500).SerializeToString() == (
        f_varint(1, 3) + f_varint(2, 1500)
    )
    exp = config_pb2.RunOptions.FromString(f_bytes(8, f_varint(1, 9) + f_bytes(3, f_varint(1, 2))))
    assert exp.experimental.collective_graph_key == 9
    assert exp.experimental.run_handler_pool_options.priority == 2


def test_config_proto_hand_encoded():
    from tfmini.protobuf import config_pb2

    raw = (
        map_entry(1, f_bytes(1, "GPU"), f_varint(2, 0))  # device_count
        + f_varint(2, 2)  # intra_op_parallelism_threads
        + f_varint(5, 4)  # inter_op_parallelism_threads
        + f_bytes(6, f_double(1, 0.5) + f_varint(4, 1))  # gpu_options
        + f_varint(7, 1)  # allow_soft_placement
        + f_varint(8, 1)  # log_device_placement
        + f_bytes(10, f_bytes(3, f_varint(3, -1)) + f_varint(5, 1))  # graph_options
        + f_varint(11, 60000)  # operation_timeout_in_ms
        + f_bytes(14, f_bytes(1, f_bytes(1, "worker") + map_entry(2, f_varint(1, 0), f_bytes(2, "h:1"))))
        + f_bytes(16, f_bytes(11, f_bytes(1, "sess") + f_varint(2, 3)))  # experimental.session_metadata
    )
    cp = config_pb2.ConfigProto.FromString(raw)
    assert dict(cp.device_count) == {"GPU": 0}
    assert cp.intra_op_parallelism_threads == 2
    assert cp.inter_op_parallelism_threads == 4
    assert cp.gpu_options.per_process_gpu_memory_fraction == 0.5 and cp.gpu_options.allow_growth
    assert cp.allow_soft_placement and cp.log_device_placement
    assert cp.graph_options.optimizer_options.opt_level == config_pb2.OptimizerOptions.L0
    assert cp.graph_options.infer_shapes
    assert cp.operation_timeout_in_ms == 60000
    assert cp.cluster_def.job[0].name == "worker" and cp.cluster_def.job[0].tasks[0] == "h:1"
    assert cp.experimental.session_metadata.name == "sess"
    assert cp.experimental.session_metadata.version == 3
    assert config_pb2.ConfigProto(
        inter_op_parallelism_threads=5, intra_op_parallelism_threads=2
    ).SerializeToString() == f_varint(2, 2) + f_varint(5, 5)


def test_node_exec_stats_hand_encoded():
    from tfmini.protobuf import step_stats_pb2, types_pb2

    output = f_varint(1, 0) + f_bytes(  # NodeOutput.slot, tensor_description
        3,
        f_varint(1, types_pb2.DT_FLOAT)
        + f_bytes(2, f_bytes(2, f_varint(1, 4)))
        + f_bytes(4, f_varint(1, 16) + f_varint(2, 64) + f_bytes(3, "cpu")),
    )
    record = f_varint(1, 10) + f_varint(2, 64)  # AllocationRecord
    memory = f_bytes(1, "cpu") + f_varint(2, 64) + f_varint(3, 64) + f_bytes(6, record)
    stats = (
        f_bytes(1, "MatMul")
        + f_varint(2, 1_700_000_000_000_000)
        + f_varint(3, 1)
        + f_varint(4, 5)
        + f_varint(5, 6)
        + f_bytes(6, memory)
        + f_bytes(7, output)
        + f_bytes(8, "MatMul = MatMul(a, b)")
        + f_varint(9, 1_699_999_999_999_990)
        + f_varint(10, 7)
        + f_bytes(12, f_varint(1, 32) + f_varint(3, 8))
        + f_varint(13, 1_700_000_000_000_000_000)
        + f_varint(14, 1000)
        + f_varint(15, 5000)
        + f_varint(16, 6000)
        + f_varint(17, 1_699_999_999_999_990_000)
    )
    raw = f_bytes(1, f_bytes(1, "/job:localhost/replica:0/task:0/device:CPU:0") + f_bytes(2, stats)
                  + map_entry(3, f_varint(1, 7), f_bytes(2, "main")))  # fmt: skip
    ss = step_stats_pb2.StepStats.FromString(raw)
    dev = ss.dev_stats[0]
    assert dev.device.endswith("device:CPU:0") and dev.thread_names[7] == "main"
    ns = dev.node_stats[0]
    assert ns.node_name == "MatMul"
    assert (ns.all_start_micros, ns.op_start_rel_micros, ns.op_end_rel_micros, ns.all_end_rel_micros) == (
        1_700_000_000_000_000, 1, 5, 6,
    )  # fmt: skip
    assert ns.memory[0].allocator_name == "cpu" and ns.memory[0].peak_bytes == 64
    assert ns.memory[0].allocation_records[0].alloc_bytes == 64
    out = ns.output[0]
    assert out.slot == 0 and out.tensor_description.dtype == types_pb2.DT_FLOAT
    assert out.tensor_description.shape.dim[0].size == 4
    assert out.tensor_description.allocation_description.allocated_bytes == 64
    assert ns.timeline_label == "MatMul = MatMul(a, b)"
    assert ns.scheduled_micros == 1_699_999_999_999_990 and ns.thread_id == 7
    assert ns.memory_stats.temp_memory_size == 32 and ns.memory_stats.persistent_memory_size == 8
    assert ns.all_start_nanos == 1_700_000_000_000_000_000
    assert (ns.op_start_rel_nanos, ns.op_end_rel_nanos, ns.all_end_rel_nanos) == (1000, 5000, 6000)
    assert ns.scheduled_nanos == 1_699_999_999_999_990_000


def test_run_metadata_hand_encoded():
    from tfmini.protobuf import config_pb2

    raw = (
        f_bytes(1, f_bytes(1, f_bytes(1, "cpu")))  # step_stats.dev_stats.device
        + f_bytes(2, f_bytes(1, f_bytes(1, "n") + f_varint(3, 4)))  # cost_graph.node
        + f_bytes(3, f_bytes(1, f_bytes(1, "p")))  # partition_graphs
        + f_bytes(4, f_bytes(2, f_bytes(1, f_bytes(1, "pre"))) + f_bytes(3, f_bytes(1, f_bytes(1, "post"))))
        + f_bytes(5, f_bytes(1, "s"))  # session_metadata
    )
    rm = config_pb2.RunMetadata.FromString(raw)
    assert rm.step_stats.dev_stats[0].device == "cpu"
    assert rm.cost_graph.node[0].name == "n" and rm.cost_graph.node[0].id == 4
    assert rm.partition_graphs[0].node[0].name == "p"
    assert rm.function_graphs[0].pre_optimization_graph.node[0].name == "pre"
    assert rm.function_graphs[0].post_optimization_graph.node[0].name == "post"
    assert rm.session_metadata.name == "s"


def test_callable_options_hand_encoded():
    from tfmini.protobuf import config_pb2

    raw = (
        f_bytes(1, "x:0") + f_bytes(2, "y:0") + f_bytes(3, "train")
        + f_bytes(4, f_varint(1, 3))
        + f_bytes(5, f_bytes(1, "a:0") + f_bytes(2, "b:0"))
        + map_entry(6, f_bytes(1, "x:0"), f_bytes(2, "/device:CPU:0"))
        + f_varint(8, 1)
    )  # fmt: skip
    co = config_pb2.CallableOptions.FromString(raw)
    assert (list(co.feed), list(co.fetch), list(co.target)) == (["x:0"], ["y:0"], ["train"])
    assert co.run_options.trace_level == config_pb2.RunOptions.FULL_TRACE
    assert co.tensor_connection[0].from_tensor == "a:0" and co.tensor_connection[0].to_tensor == "b:0"
    assert co.feed_devices["x:0"] == "/device:CPU:0" and co.fetch_skip_sync


def test_unknown_fields_survive_round_trip():
    # Bytes from a newer TensorFlow with fields we do not know must pass through unchanged.
    from tfmini.protobuf import node_def_pb2

    raw = f_bytes(1, "n") + f_varint(999, 42)
    assert node_def_pb2.NodeDef.FromString(raw).SerializeToString() == raw


# --- 3. runtime-version contract ------------------------------------------------------------------------

_VALIDATE = re.compile(
    r"ValidateProtobufRuntimeVersion\(\s*_runtime_version\.Domain\.PUBLIC,\s*(\d+),\s*(\d+),\s*(\d+),\s*'([^']*)',"
)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split("."))


@pytest.mark.parametrize("module", MODULES)
def test_gencode_version(module):
    src = (PB_DIR / f"{module}.py").read_text()
    m = _VALIDATE.search(src)
    assert m, f"{module}.py has no ValidateProtobufRuntimeVersion call"
    assert tuple(int(g) for g in m.groups()[:3]) == GENCODE_VERSION
    assert m.group(4) == ""
    assert "# Protobuf Python Version: 6.31.1" in src


def test_pyproject_protobuf_bounds():
    text = (REPO / "pyproject.toml").read_text()
    m = re.search(r'"protobuf\s*>=\s*([0-9.]+)\s*,\s*<\s*([0-9.]+)"', text)
    assert m, "pyproject.toml must pin protobuf as 'protobuf>=X,<Y'"
    assert _version(m.group(1)) >= GENCODE_VERSION
    assert m.group(2) == "8"


def test_installed_runtime_within_bounds():
    from google.protobuf import __version__ as runtime

    assert GENCODE_VERSION <= _version(runtime)[:3] and _version(runtime)[0] < 8


# --- 4. descriptor names live in package tfmini ---------------------------------------------------------


def test_descriptor_full_names():
    from tfmini.protobuf import config_pb2, graph_pb2, node_def_pb2, step_stats_pb2, tensor_pb2, types_pb2

    assert config_pb2.RunOptions.DESCRIPTOR.full_name == "tfmini.RunOptions"
    assert config_pb2.ConfigProto.Experimental.DESCRIPTOR.full_name == "tfmini.ConfigProto.Experimental"
    assert config_pb2.RunMetadata.FunctionGraphs.DESCRIPTOR.full_name == "tfmini.RunMetadata.FunctionGraphs"
    assert graph_pb2.GraphDef.DESCRIPTOR.full_name == "tfmini.GraphDef"
    assert node_def_pb2.NodeDef.DESCRIPTOR.full_name == "tfmini.NodeDef"
    assert step_stats_pb2.NodeExecStats.DESCRIPTOR.full_name == "tfmini.NodeExecStats"
    assert tensor_pb2.TensorProto.DESCRIPTOR.full_name == "tfmini.TensorProto"
    assert types_pb2.DataType.DESCRIPTOR.full_name == "tfmini.DataType"


@pytest.mark.parametrize("module", MODULES)
def test_every_message_in_tfmini_package(module):
    mod = importlib.import_module(f"tfmini.protobuf.{module}")

    def walk(descs):
        for d in descs:
            yield d
            yield from walk(d.nested_types)

    for desc in walk(mod.DESCRIPTOR.message_types_by_name.values()):
        assert desc.full_name.startswith("tfmini."), desc.full_name
    for enum in mod.DESCRIPTOR.enum_types_by_name.values():
        assert enum.full_name.startswith("tfmini.")
    for dep in mod.DESCRIPTOR.dependencies:
        assert dep.name.startswith("tfmini/protobuf/"), dep.name


@pytest.mark.parametrize("proto", PROTO_FILES, ids=lambda p: p.name)
def test_proto_sources_use_tfmini_package(proto):
    text = proto.read_text()
    assert re.search(r"^package tfmini;$", text, re.M)
    for imp in re.findall(r'^import "([^"]+)";', text, re.M):
        assert imp.startswith("tfmini/protobuf/"), imp


# --- generated modules are current (the dev extras install the pinned generator) --------------------------


def test_generated_modules_match_sources(tmp_path):
    from grpc_tools import grpc_version

    assert grpc_version.VERSION == "1.75.1", (
        f"grpcio-tools {grpc_version.VERSION} is installed; the dev extras pin 1.75.1 (run `make venv`)"
    )
    rel = [str(p.relative_to(REPO)) for p in PROTO_FILES]
    protoc = [sys.executable, "-m", "grpc_tools.protoc", "-I."]
    subprocess.run([*protoc, f"--python_out={tmp_path}", f"--pyi_out={tmp_path}", *rel], check=True, cwd=REPO)
    for p in PROTO_FILES:
        for suffix in (".py", ".pyi"):
            name = p.stem + "_pb2" + suffix
            fresh = (tmp_path / "tfmini" / "protobuf" / name).read_text()
            assert (PB_DIR / name).read_text() == fresh, f"{name} is stale: run `make protos`"


def test_modules_load_on_the_oldest_runtime_pyproject_allows():
    """The generated code refuses runtimes older than its generator: it must load on protobuf 6.31.1, the
    lower bound in pyproject.toml (installed apart by `make venv`), as it does on the current runtime."""
    oldest = Path(sys.prefix) / "protobuf-min"
    assert (oldest / "google" / "protobuf").is_dir(), f"{oldest} is missing: run `make venv`"
    modules = [f"tfmini.protobuf.{p.stem}_pb2" for p in PROTO_FILES]
    script = (
        "import importlib, sys\n"
        f"sys.path.insert(0, {str(oldest)!r})\n"
        "import google.protobuf\n"
        "assert google.protobuf.__version__ == '6.31.1', google.protobuf.__version__\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "from tfmini.protobuf import config_pb2\n"
        "opts = config_pb2.RunOptions(trace_level=config_pb2.RunOptions.FULL_TRACE, timeout_in_ms=5)\n"
        "assert config_pb2.RunOptions.FromString(opts.SerializeToString()) == opts\n"
        "print('ok', len(sys.argv))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("ok"), done.stderr
