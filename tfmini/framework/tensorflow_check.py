"""Whether TensorFlow can run a GraphDef tfmini wrote: the op types only tfmini has, and the check that names
them in a GraphDef (or a Graph) and in the library functions it calls. Knows op types by name only."""

from __future__ import annotations

from tfmini.framework import ops as _ops

# Op types tfmini registers and TensorFlow has no op for, with what a GraphDef holding one says about its graph.
TFMINI_ONLY_OPS = {
    "WhileGrad": "the gradient of a tf.while_loop in tfmini's own form, which tfmini writes when the loop's tape "
                 "(its last output) is read by anything else than the gradients tf.gradients builds",
    "TapeRead": "a value a tf.cond or tf.while_loop recorded for its gradient, read in tfmini's own form, which "
                "tfmini writes when the tape (the op's last output) is read by anything else than the gradients "
                "tf.gradients builds",
    "PyGeneratorDataset": "tf.data.Dataset.from_generator, whose Python generator only the process that made it has",
    "DatasetWeightedChoice": "the draw of tf.data.experimental.sample_from_datasets",
    "SparseTensorToDatasetVariant": "a SparseTensor component of a tf.data dataset",
    "SparseTensorToDatasetRows": "the rows of a SparseTensor as tf.data elements",
    "DatasetVariantToSparseTensor": "a SparseTensor component of a tf.data dataset",
}


def tensorflow_incompatibilities(graph_def) -> list[str]:
    """What in `graph_def` (a GraphDef, or a Graph to export) TensorFlow cannot run: one line per tfmini-only op
    type (`TFMINI_ONLY_OPS`) its nodes or the library functions they call use, naming the op, how many nodes
    use it, the first of them and why such a node is there. Empty when every op type is one TensorFlow has."""
    if isinstance(graph_def, _ops.Graph):
        graph_def = graph_def.as_graph_def()
    uses: dict = {}  # op type -> [count, where the first node is]
    functions = {fd.signature.name: fd for fd in graph_def.library.function}
    called, pending = set(), [graph_def.node]  # TensorFlow instantiates only the functions nodes call
    while pending:
        for nd in pending.pop():
            for name in called_functions(nd):
                if name in functions and name not in called:
                    called.add(name)
                    pending.append(functions[name].node_def)
    places = [("", graph_def.node)] + [(f" in function '{fd.signature.name}'", fd.node_def)
                                       for fd in graph_def.library.function if fd.signature.name in called]
    for place, nodes in places:
        for nd in nodes:
            if nd.op in TFMINI_ONLY_OPS:
                uses.setdefault(nd.op, [0, f"'{nd.name}'{place}"])[0] += 1
    return [f"op '{op}' exists only in tfmini ({count} node{'s' if count > 1 else ''}, first {first}): "
            f"{TFMINI_ONLY_OPS[op]}" for op, (count, first) in uses.items()]


def check_for_tensorflow(graph_def) -> None:
    """Raises ValueError naming each op type of `graph_def` (a GraphDef, or a Graph to export) that TensorFlow
    does not have, a node using it and why it is there; returns None when TensorFlow has every op. tfmini's own
    writers (`as_graph_def`, `tf.train.write_graph`, `export_meta_graph`, savers) write such nodes, which tfmini
    reads back; this is the check to run before handing a GraphDef to TensorFlow."""
    found = tensorflow_incompatibilities(graph_def)
    if found:
        raise ValueError("TensorFlow cannot run this GraphDef: " + "; ".join(found))


def called_functions(nd) -> list:
    """The names of the functions NodeDef `nd` names in its attrs (a func, or a list of them)."""
    names = []
    for av in nd.attr.values():
        names += [av.func.name] if av.HasField("func") else [f.name for f in av.list.func]
    return names
