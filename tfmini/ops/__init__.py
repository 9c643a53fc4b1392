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

# -- math leftovers
# isort: split
from tfmini.ops import (  # noqa: E402,F401 - registers their ops and names
    bitwise_ops,
    counting_ops,
    edit_distance_ops,
    fake_quant_ops,
    fingerprint_ops,
    manip_ops,
    random_gamma_ops,
    sort_ops,
    special_math_ops,
    spectral_ops,
    stateless_random_ops,
)

# -- sampling
# isort: split
from tfmini.ops import candidate_sampling_ops, ctc_ops, nn_sampled  # noqa: E402,F401 - registers their ops and names

# -- linalg
# isort: split
from tfmini.ops import (  # noqa: E402,F401 - registers their ops and names
    linalg_impl,
    linalg_ops,
    linear_operator,
    linear_operator_circulant,
    linear_operator_structured,
)

# -- api declarations
# isort: split
from tfmini.ops import (  # noqa: E402,F401 - registers their ops and declares their public names
    core_rnn_cell,
    data_flow_ops,
    decode_ops,
    depthwise_conv_ops,
    fused_rnn_cell,
    higher_order_ops,
    init_ops,
    io_ops,
    matrix_diag_ops,
    nn_impl,
    normalization_ops,
    parsing_ops,
    reader_ops,
    rnn,
    rnn_cell_impl,
    segment_ops,
    stack_ops,
    string_hash_ops,
    string_ops,
    summary_ops,
    tensor_array_ops,
    variable_scope,
    variables,
)

# -- sparse
# isort: split
from tfmini.ops import (  # noqa: E402,F401 - register their ops and declare their public names
    sets_ops,
    sparse_accumulator_ops,
    sparse_segment_ops,
)

# -- image
# isort: split
from tfmini.ops import (  # noqa: E402,F401 - register the tf.image ops and declare tf.image's names
    image_box_ops,
    image_codec_ops,
    image_colour_ops,
    image_ops,
    image_resize_ops,
)

# -- metrics
# isort: split
from tfmini.ops import metrics_impl  # noqa: E402,F401 - declares tf.metrics' names

# -- misc core
# isort: split
from tfmini.ops import custom_gradient, lookup_ops, script_ops, template  # noqa: E402,F401 - registers ops and names

# -- conv
# isort: split
from tfmini.ops import (  # noqa: E402,F401 - registers their ops and names
    conv3d_ops,
    fractional_pooling_ops,
    pooling_ops,
    space_depth_ops,
)

# -- train more
# isort: split
from tfmini.ops import training_ops_more  # noqa: E402,F401 - registers the FTRL, proximal and Adagrad-DA ops

# -- contrib rnn cells
# isort: split
from tfmini.ops import contrib_rnn_cells  # noqa: E402,F401 - declares the remaining tf.contrib.rnn cells

# -- signal
# isort: split
from tfmini.ops import signal_ops  # noqa: E402,F401 - declares tf.signal's framing, windows, STFTs and mel filters

# -- send and recv
# isort: split
from tfmini.ops import sendrecv_ops  # noqa: E402,F401 - registers _Send, _Recv, _HostSend and _HostRecv

# -- accumulators
# isort: split
from tfmini.ops import accumulator_ops  # noqa: E402,F401 - registers the accumulator ops, tf.ConditionalAccumulator
