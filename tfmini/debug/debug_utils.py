"""TF's debug watch helpers: they add `DebugTensorWatch` entries to `RunOptions.debug_options`, naming the
(node, output slot) pairs a debug wrapper session dumps. Runs whose options hold no watch dump everything."""

from __future__ import annotations

import re

from tfmini.framework import ops as _ops
from tfmini.protobuf import config_pb2


def _as_list(value) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def add_debug_tensor_watch(run_options: config_pb2.RunOptions, node_name: str, output_slot: int = 0,
                           debug_ops="DebugIdentity", debug_urls=None,
                           tolerate_debug_op_creation_failures: bool = False, global_step: int = -1) -> None:
    """Adds a watch on output `output_slot` of node `node_name` to `run_options`. `debug_urls` are recorded
    as given (a wrapper session keeps dumps in memory and writes to none of them)."""
    watch_opts = run_options.debug_options.debug_tensor_watch_opts
    run_options.debug_options.global_step = global_step
    watch = watch_opts.add()
    watch.tolerate_debug_op_creation_failures = tolerate_debug_op_creation_failures
    watch.node_name = node_name
    watch.output_slot = output_slot
    watch.debug_ops.extend(_as_list(debug_ops))
    watch.debug_urls.extend(_as_list(debug_urls))


def _compiled(pattern: str | None):
    return None if pattern is None else re.compile(pattern)


def _watch_matching(run_options, graph: _ops.Graph, keep, debug_ops, debug_urls, tolerate: bool,
                    global_step: int, reset_disk_byte_usage: bool) -> None:
    """Watches every output (op, slot) of `graph` for which `keep(op, tensor)` is true."""
    for op in graph.get_operations():
        for slot, tensor in enumerate(op.outputs):
            if keep(op, tensor):
                add_debug_tensor_watch(run_options, op.name, slot, debug_ops=debug_ops, debug_urls=debug_urls,
                                       tolerate_debug_op_creation_failures=tolerate, global_step=global_step)
    run_options.debug_options.reset_disk_byte_usage = reset_disk_byte_usage


def watch_graph(run_options: config_pb2.RunOptions, graph: _ops.Graph, debug_ops="DebugIdentity", debug_urls=None,
                node_name_regex_whitelist: str | None = None, op_type_regex_whitelist: str | None = None,
                tensor_dtype_regex_whitelist: str | None = None, tolerate_debug_op_creation_failures: bool = False,
                global_step: int = -1, reset_disk_byte_usage: bool = False) -> None:
    """Watches every output of `graph` whose node name, op type and dtype name (`float32_ref` for a
    variable) match the given regexes (from the start of the text; None matches all)."""
    names, types, dtypes = (_compiled(p) for p in (node_name_regex_whitelist, op_type_regex_whitelist,
                                                  tensor_dtype_regex_whitelist))

    def keep(op, tensor) -> bool:
        return ((names is None or names.match(op.name) is not None)
                and (types is None or types.match(op.type) is not None)
                and (dtypes is None or dtypes.match(tensor.dtype.name) is not None))

    _watch_matching(run_options, graph, keep, debug_ops, debug_urls, tolerate_debug_op_creation_failures,
                    global_step, reset_disk_byte_usage)


def watch_graph_with_blacklist(run_options: config_pb2.RunOptions, graph: _ops.Graph, debug_ops="DebugIdentity",
                               debug_urls=None, node_name_regex_blacklist: str | None = None,
                               op_type_regex_blacklist: str | None = None,
                               tensor_dtype_regex_blacklist: str | None = None,
                               tolerate_debug_op_creation_failures: bool = False, global_step: int = -1,
                               reset_disk_byte_usage: bool = False) -> None:
    """Watches every output of `graph` except those whose node name, op type or dtype name matches one of the
    given regexes."""
    names, types, dtypes = (_compiled(p) for p in (node_name_regex_blacklist, op_type_regex_blacklist,
                                                  tensor_dtype_regex_blacklist))

    def keep(op, tensor) -> bool:
        return not ((names is not None and names.match(op.name) is not None)
                    or (types is not None and types.match(op.type) is not None)
                    or (dtypes is not None and dtypes.match(tensor.dtype.name) is not None))

    _watch_matching(run_options, graph, keep, debug_ops, debug_urls, tolerate_debug_op_creation_failures,
                    global_step, reset_disk_byte_usage)


def watched_tensors(run_options: config_pb2.RunOptions | None) -> set[tuple[str, int]] | None:
    """The (node name, output slot) pairs `run_options` watches, or None when it names none (watch all)."""
    if run_options is None or not run_options.debug_options.debug_tensor_watch_opts:
        return None
    return {(w.node_name, w.output_slot) for w in run_options.debug_options.debug_tensor_watch_opts}


__all__ = ["add_debug_tensor_watch", "watch_graph", "watch_graph_with_blacklist", "watched_tensors"]
