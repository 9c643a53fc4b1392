"""Graph, Operation, Tensor, dtypes, shapes, the op registry, errors and GraphDef I/O."""
