"""`tf.queue`: the queue classes of TF1's input pipelines (`tf.queue.FIFOQueue`, ...), views over
`ops/data_flow_ops`."""

from tfmini.ops.data_flow_ops import FIFOQueue, PaddingFIFOQueue, PriorityQueue, QueueBase, RandomShuffleQueue

__all__ = ["FIFOQueue", "PaddingFIFOQueue", "PriorityQueue", "QueueBase", "RandomShuffleQueue"]
