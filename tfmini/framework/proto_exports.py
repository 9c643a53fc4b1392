"""TF names of the protocol buffer messages tfmini exposes (`tf.GraphDef`, `tf.train.Example`, ...).

The generated `*_pb2` modules are never edited, so their message classes are declared here.
"""

from tfmini.framework.api_export import tf_export
from tfmini.protobuf import (
    attr_value_pb2,
    config_pb2,
    event_pb2,
    example_pb2,
    feature_pb2,
    graph_pb2,
    meta_graph_pb2,
    node_def_pb2,
    saver_pb2,
    step_stats_pb2,
    summary_pb2,
    tensor_pb2,
    tensor_shape_pb2,
)

tf_export("AttrValue")(attr_value_pb2.AttrValue)
tf_export("ConfigProto")(config_pb2.ConfigProto)
tf_export("GPUOptions")(config_pb2.GPUOptions)
tf_export("GraphOptions")(config_pb2.GraphOptions)
tf_export("OptimizerOptions")(config_pb2.OptimizerOptions)
tf_export("RunMetadata")(config_pb2.RunMetadata)
tf_export("RunOptions")(config_pb2.RunOptions)
tf_export("Event", "summary.Event")(event_pb2.Event)
tf_export("LogMessage")(event_pb2.LogMessage)
tf_export("SessionLog", "summary.SessionLog")(event_pb2.SessionLog)
tf_export("summary.TaggedRunMetadata")(event_pb2.TaggedRunMetadata)
tf_export("train.Example")(example_pb2.Example)
tf_export("train.SequenceExample")(example_pb2.SequenceExample)
tf_export("train.BytesList")(feature_pb2.BytesList)
tf_export("train.Feature")(feature_pb2.Feature)
tf_export("train.FeatureList")(feature_pb2.FeatureList)
tf_export("train.FeatureLists")(feature_pb2.FeatureLists)
tf_export("train.Features")(feature_pb2.Features)
tf_export("train.FloatList")(feature_pb2.FloatList)
tf_export("train.Int64List")(feature_pb2.Int64List)
tf_export("GraphDef")(graph_pb2.GraphDef)
tf_export("MetaGraphDef")(meta_graph_pb2.MetaGraphDef)
tf_export("TensorInfo")(meta_graph_pb2.TensorInfo)
tf_export("NodeDef")(node_def_pb2.NodeDef)
tf_export("train.SaverDef")(saver_pb2.SaverDef)
tf_export("StepStats")(step_stats_pb2.StepStats)
tf_export("HistogramProto")(summary_pb2.HistogramProto)
tf_export("Summary", "summary.Summary")(summary_pb2.Summary)
tf_export("summary.SummaryDescription")(summary_pb2.SummaryDescription)
tf_export("SummaryMetadata")(summary_pb2.SummaryMetadata)
tf_export("TensorProto")(tensor_pb2.TensorProto)
tf_export("TensorShapeProto")(tensor_shape_pb2.TensorShapeProto)
