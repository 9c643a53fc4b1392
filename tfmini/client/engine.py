"""The engine seam: what a Session asks of the engine serving its target, and the registry that picks an
engine by target. A session knows this interface only; each engine is a module of its own (`local_engine`
runs in this process, serially or on a thread pool)."""

from __future__ import annotations

import abc
from collections.abc import Callable, Collection, Sequence

from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops


class Executable(abc.ABC):
    """One compiled signature (fetch tensors, feed tensors, target ops) of one graph version.

    Feed values come in the order of the signature's feed tensors, already converted and checked by the
    session; results come in the order of its fetch tensors, as `Session.run` hands them out (0-d arrays as
    NumPy scalars; nothing the engine keeps is handed out without a copy). Kernel failures raise the matching
    `tf.errors.OpError` naming the op."""

    graph_version: int

    @abc.abstractmethod
    def run(self, feed_values: Sequence) -> list:
        """Runs the signature once, untraced and without a deadline (the hot path)."""

    @abc.abstractmethod
    def run_traced(self, feed_values: Sequence, options, run_metadata, deadline: float | None) -> list:
        """Runs the signature once, recording what `options` asks for in `run_metadata` (either may be None)
        and failing with DeadlineExceededError past `deadline` (perf_counter seconds, or None)."""


class PartialRun(abc.ABC):
    """The engine's side of one partial run: the values computed and fed so far, and the ops already run."""

    @abc.abstractmethod
    def run(self, fetch_tensors: Sequence[_ops.Tensor], target_ops: Sequence[_ops.Operation], feeds: dict,
            user_fed: Collection[_ops.Tensor], deadline: float | None) -> list:
        """Adds `feeds` (tensor -> converted value), runs only the ops the fetches and targets need that no
        earlier call ran, and returns the fetched values. `user_fed`: every tensor the user fed so far;
        `deadline`: as for `Executable.run_traced`."""


class Engine(abc.ABC):
    """Runs one graph for one session and owns that session's run-time state (variable values, session
    handles, random generators)."""

    @abc.abstractmethod
    def compile(self, fetch_tensors: tuple, feed_tensors: tuple, target_ops: tuple) -> Executable:
        """The executable of this signature for the graph as it is now (cached by the engine as it likes)."""

    @abc.abstractmethod
    def partial_run(self) -> PartialRun:
        """The state of a new partial run."""

    @abc.abstractmethod
    def list_devices(self) -> list:
        """The devices this engine runs on, as `DeviceAttributes`."""

    @abc.abstractmethod
    def close(self) -> None:
        """Frees the session's state; the engine is not used again."""


# The memory limit TF reports for a CPU device (256 MiB, its CPU allocator's nominal figure).
CPU_MEMORY_LIMIT_BYTES = 268435456


class DeviceAttributes:
    """A device as `Session.list_devices()` describes it (TF's `_DeviceAttributes`); a CPU device reports
    TF's figure for its memory limit unless told otherwise."""

    def __init__(self, name: str, device_type: str, memory_limit_bytes: int = CPU_MEMORY_LIMIT_BYTES) -> None:
        self.name = name
        self.device_type = device_type
        self.memory_limit_bytes = memory_limit_bytes
        self.incarnation = 0

    def __repr__(self) -> str:
        return f"_DeviceAttributes({self.name}, {self.device_type}, {self.memory_limit_bytes}, {self.incarnation})"


# target prefix -> factory(graph, config) -> Engine
_ENGINES: dict[str, Callable] = {}


def register_engine(target: str, factory: Callable) -> None:
    """Makes `Session(target=...)` use `factory(graph, config)` for targets equal to or prefixed by `target`.

    Two optional attributes of a factory extend that: with `takes_target` true it is called as
    `factory(graph, config, target)` (an engine that connects somewhere needs the whole target, not only its
    prefix), and `reset(target, containers, config)` is what `Session.reset` calls to clear resource
    containers shared by the sessions on that target (engines without it share none)."""
    _ENGINES[target] = factory


def engine_factory(target: str) -> Callable:
    """The engine factory serving `target` (exact match, else the longest registered prefix); NotFoundError
    naming the registered ones otherwise."""
    if target in _ENGINES:
        return _ENGINES[target]
    prefixes = sorted((p for p in _ENGINES if p and target.startswith(p)), key=len, reverse=True)
    if prefixes:
        return _ENGINES[prefixes[0]]
    raise _errors.NotFoundError(
        None, None,
        f"No session factory registered for the given session options: {{target: \"{target}\"}} Registered "
        f"factories are {{{', '.join(repr(k) for k in _ENGINES)}}}.",
    )


def engine_for(target: str, graph: _ops.Graph, config) -> Engine:
    factory = engine_factory(target)
    if getattr(factory, "takes_target", False):
        return factory(graph, config, target)
    return factory(graph, config)
