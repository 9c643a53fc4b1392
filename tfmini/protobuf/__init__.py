"""Protocol buffer messages with TensorFlow's names, field numbers and enum values.

The messages live in proto package ``tfmini`` (not ``tensorflow``) so tfmini and TensorFlow can share a
process; their bytes are interchangeable with TensorFlow's. Import the generated modules directly, e.g.
``from tfmini.protobuf import config_pb2, graph_pb2``. Regenerate with ``make protos``.
"""
