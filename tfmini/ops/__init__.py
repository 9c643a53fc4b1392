"""The op library, one module per family; importing this package registers every op."""

from tfmini.ops import (  # noqa: F401 - imported for their registrations
    array_ops,
    check_ops,
    control_flow_ops,
    gradients_impl,
    math_ops,
    nn_ops,
    random_ops,
    session_ops,
    sparse_ops,
    state_ops,
)
