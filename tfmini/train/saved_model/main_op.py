"""`tf.saved_model.main_op`: the op a SavedModel runs after restoring its variables."""

from __future__ import annotations

from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.ops import control_flow_ops
from tfmini.ops.variables import local_variables_initializer


@tf_export("saved_model.main_op.main_op")
def main_op() -> _ops.Operation:
    """Initializes the local variables and the tables (the table initializers collection)."""
    tables = control_flow_ops.group(*_ops.get_collection(_ops.GraphKeys.TABLE_INITIALIZERS),
                                    name="init_all_tables")
    return control_flow_ops.group(local_variables_initializer(), tables)


@tf_export("saved_model.main_op.main_op_with_restore", "saved_model.main_op_with_restore")
def main_op_with_restore(restore_op_name) -> _ops.Operation:
    """main_op() run after the op named `restore_op_name`."""
    with _ops.control_dependencies([main_op()]):
        return control_flow_ops.group(_ops.get_default_graph().as_graph_element(restore_op_name))
