"""Distributed TensorFlow on Dask: `tf.train.Server`, and the engine behind `Session("grpc://...")` that places
a graph on the tasks of a cluster, cuts it into one partition per task joined by `_Send`/`_Recv` pairs, and runs
each partition on the Dask worker serving its task. Dask (`distributed`) is an optional extra,
`pip install tfmini[distributed]`; nothing here imports it until a server or a distributed session is made."""

from tfmini.distributed.engine import assign_tasks  # noqa: F401 - the short public name
