"""tfmini's version and the GraphDef versions it writes and imports, under TF's names (`tf.VERSION`,
`tf.GRAPH_DEF_VERSION`, ...)."""

from tfmini.framework import node_def as _node_def
from tfmini.framework.api_export import tf_export

__version__ = "0.1.0"  # tfmini's own version (pyproject.toml)
VERSION = "1.15.0-tfmini"
GRAPH_DEF_VERSION = _node_def.PRODUCER_VERSION
GRAPH_DEF_VERSION_MIN_CONSUMER = _node_def.MIN_CONSUMER
GRAPH_DEF_VERSION_MIN_PRODUCER = _node_def.MIN_PRODUCER

for _name in ("__version__", "VERSION", "GRAPH_DEF_VERSION", "GRAPH_DEF_VERSION_MIN_CONSUMER",
              "GRAPH_DEF_VERSION_MIN_PRODUCER"):
    tf_export(_name).export_constant(__name__, _name)
del _name
