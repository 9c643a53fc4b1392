"""Fetch and feed structure: mappers that flatten any nesting of fetches (lists, tuples, namedtuples,
dicts, SparseTensors, ...) into unique graph elements and rebuild the results in the same shape."""

from __future__ import annotations

import collections
import operator
from collections.abc import Callable

from tfmini.framework import ops as _ops

# type -> (fetch_fn(obj) -> (list of fetches, rebuild(values) -> result),
#          feed_fn(obj, value) -> list of (tensor, value) pairs, partial_run_feed_fn(obj) -> list of tensors)
_CONVERSIONS: list[tuple[type, Callable, Callable | None, Callable | None]] = []


def register_session_run_conversion_functions(tensor_type: type, fetch_function: Callable,
                                              feed_function: Callable | None = None,
                                              feed_function_for_partial_run: Callable | None = None) -> None:
    """Teaches `Session.run` to fetch and feed objects of `tensor_type` (TF's public extension point).

    `fetch_function(obj)` returns `(fetches, rebuild)`; `feed_function(obj, value)` returns a list of
    `(tensor, value)` pairs; `feed_function_for_partial_run(obj)` returns the list of tensors to feed.
    """
    for entry in _CONVERSIONS:
        if issubclass(tensor_type, entry[0]):
            raise ValueError(f"{tensor_type} has already been registered so ignore it.")
    _CONVERSIONS.insert(0, (tensor_type, fetch_function, feed_function, feed_function_for_partial_run))


def conversion_for(obj):
    for entry in _CONVERSIONS:
        if isinstance(obj, entry[0]):
            return entry
    return None


class FetchMapper:
    """Maps a fetch structure to a flat list of unique graph elements and rebuilds results."""

    unique_fetches: list

    def build_results(self, values: list):
        raise NotImplementedError

    def fast_builder(self) -> Callable:
        """`results -> value`, where `results` are the values of the unique fetches that are Tensors, in order
        (what an engine returns): the unique fetches that are Operations get None, as in `build_results`."""
        is_tensor = [isinstance(f, _ops.Tensor) for f in self.unique_fetches]
        if all(is_tensor):
            return self.build_results

        def build(results):
            it = iter(results)
            return self.build_results([next(it) if t else None for t in is_tensor])

        return build

    @staticmethod
    def for_fetch(fetch, graph: _ops.Graph) -> FetchMapper:
        if type(fetch) is _ops.Tensor:  # the common case first: checks below cost more than the mapping
            return ElementFetchMapper(fetch, graph)
        if fetch is None:
            raise TypeError(f"Fetch argument {fetch!r} has invalid type {type(fetch)}")
        if isinstance(fetch, (list, tuple)):
            return ListFetchMapper(fetch, graph)
        if isinstance(fetch, collections.abc.Mapping):
            return DictFetchMapper(fetch, graph)
        conv = conversion_for(fetch)
        if conv is not None:
            fetches, rebuild = conv[1](fetch)
            return ConvertedFetchMapper(fetches, rebuild, graph)
        return ElementFetchMapper(fetch, graph)


class ElementFetchMapper(FetchMapper):
    """A single Tensor, Operation or name; the result is the value (None for an Operation)."""

    def __init__(self, fetch, graph: _ops.Graph) -> None:
        self.unique_fetches = [resolve_fetch(fetch, graph)]

    def build_results(self, values: list):
        return values[0]

    def fast_builder(self) -> Callable:
        if isinstance(self.unique_fetches[0], _ops.Tensor):
            return operator.itemgetter(0)
        return lambda results: None


def resolve_fetch(fetch, graph: _ops.Graph):
    """The Tensor or Operation `fetch` denotes in `graph`, with TensorFlow's TypeError/ValueError."""
    if type(fetch) is _ops.Tensor and fetch._op._graph is graph:
        return fetch
    try:
        return graph.as_graph_element(fetch, allow_tensor=True, allow_operation=True)
    except TypeError as e:
        raise TypeError(
            f"Fetch argument {fetch!r} has invalid type {type(fetch)}, must be a string or Tensor. ({e})"
        ) from None
    except (ValueError, KeyError) as e:
        msg = e.args[0] if e.args else str(e)
        raise ValueError(f"Fetch argument {fetch!r} cannot be interpreted as a Tensor. ({msg})") from None


def _uniquify(mappers: list[FetchMapper]) -> tuple[list, list[list[int]]]:
    unique: list = []
    index: dict = {}
    positions = []
    for m in mappers:
        pos = []
        for f in m.unique_fetches:
            if f not in index:
                index[f] = len(unique)
                unique.append(f)
            pos.append(index[f])
        positions.append(pos)
    return unique, positions


class ListFetchMapper(FetchMapper):
    """Lists, tuples and namedtuples; the result has the same type."""

    def __init__(self, fetches, graph: _ops.Graph) -> None:
        self._type = type(fetches)
        self._mappers = [FetchMapper.for_fetch(f, graph) for f in fetches]
        self.unique_fetches, self._positions = _uniquify(self._mappers)

    def fast_builder(self) -> Callable:
        """For a flat list or tuple of Tensors and Operations, a builder without per-element mappers."""
        if self._type not in (list, tuple) or not all(isinstance(m, ElementFetchMapper) for m in self._mappers):
            return super().fast_builder()
        tensor_index: dict = {}
        for f in self.unique_fetches:
            if isinstance(f, _ops.Tensor):
                tensor_index[f] = len(tensor_index)
        positions = [tensor_index.get(m.unique_fetches[0], -1) for m in self._mappers]
        kind = self._type
        if positions == list(range(len(tensor_index))):
            return (lambda r: r) if kind is list else tuple
        if kind is list:
            return lambda r: [r[i] if i >= 0 else None for i in positions]
        return lambda r: tuple([r[i] if i >= 0 else None for i in positions])

    def build_results(self, values: list):
        results = [m.build_results([values[i] for i in pos]) for m, pos in zip(self._mappers, self._positions)]
        if issubclass(self._type, list):
            return results if self._type is list else self._type(results)
        if issubclass(self._type, tuple) and hasattr(self._type, "_fields"):
            return self._type(*results)
        return self._type(results)


class DictFetchMapper(FetchMapper):
    """dict, OrderedDict, defaultdict and other mappings; the result has the same type and keys."""

    def __init__(self, fetches, graph: _ops.Graph) -> None:
        self._fetch = fetches
        self._keys = list(fetches.keys())
        self._mappers = [FetchMapper.for_fetch(fetches[k], graph) for k in self._keys]
        self.unique_fetches, self._positions = _uniquify(self._mappers)

    def build_results(self, values: list):
        kind = type(self._fetch)
        if isinstance(self._fetch, collections.defaultdict):
            results = kind(self._fetch.default_factory)
        else:
            try:
                results = kind()
            except TypeError:
                results = {}
        for k, m, pos in zip(self._keys, self._mappers, self._positions):
            results[k] = m.build_results([values[i] for i in pos])
        return results


class ConvertedFetchMapper(FetchMapper):
    """An object with registered conversion functions (e.g. SparseTensor -> SparseTensorValue)."""

    def __init__(self, fetches: list, rebuild: Callable, graph: _ops.Graph) -> None:
        self._rebuild = rebuild
        self._mapper = ListFetchMapper(list(fetches), graph)
        self.unique_fetches = self._mapper.unique_fetches

    def build_results(self, values: list):
        return self._rebuild(self._mapper.build_results(values))
