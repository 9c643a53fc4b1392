"""`FuncGraph`: a sub-graph built from a Python function (a cond branch, a while body), which captures the
outer-graph tensors it uses as extra placeholder inputs. Functional control-flow ops run these sub-graphs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from tfmini.framework import ops as _ops


class FuncGraph(_ops.Graph):
    """A graph whose ops may use tensors of its outer graphs; each such tensor is captured once as a
    placeholder (`captures` maps outer tensor -> inner placeholder) and must be fed when the graph runs."""

    def __init__(self, name: str, outer_graph: _ops.Graph) -> None:
        super().__init__()
        self.name = name
        self.outer_graph = outer_graph
        self.captures: dict[_ops.Tensor, _ops.Tensor] = {}
        self.inputs: list[_ops.Tensor] = []
        self.outputs: list[_ops.Tensor] = []
        self.seed = outer_graph.seed
        self._gradient_override_map = dict(outer_graph._gradient_override_map)

    @property
    def building_function(self) -> bool:
        return True

    def is_ancestor(self, graph: _ops.Graph) -> bool:
        g = self.outer_graph
        while g is not None:
            if g is graph:
                return True
            g = getattr(g, "outer_graph", None)
        return False

    def capture(self, tensor: _ops.Tensor) -> _ops.Tensor:
        """The inner placeholder standing for outer `tensor` (created on first use)."""
        if tensor.graph is self:
            return tensor
        inner = self.captures.get(tensor)
        if inner is not None:
            return inner
        source = tensor
        if isinstance(self.outer_graph, FuncGraph) and tensor.graph is not self.outer_graph:
            source = self.outer_graph.capture(tensor)
        from tfmini.framework import registry

        with self.as_default(), self.name_scope(None), self.control_dependencies(None):
            inner = registry.apply_op(
                "Placeholder", [], {"dtype": tensor.dtype, "shape": tensor.shape},
                name=f"capture_{tensor.op.name.replace('/', '_')}_{tensor.value_index}",
            ).outputs[0]
        self.captures[tensor] = inner
        self._capture_sources = getattr(self, "_capture_sources", {})
        self._capture_sources[tensor] = source
        return inner

    @property
    def external_captures(self) -> list[_ops.Tensor]:
        """Outer tensors captured, in capture order (what a functional op must pass in)."""
        return list(self.captures)

    @property
    def internal_captures(self) -> list[_ops.Tensor]:
        return list(self.captures.values())


def innermost_function_graph() -> FuncGraph | None:
    g = _ops.get_default_graph()
    return g if isinstance(g, FuncGraph) else None


@contextlib.contextmanager
def building(func_graph: FuncGraph) -> Iterator[FuncGraph]:
    with func_graph.as_default():
        yield func_graph
