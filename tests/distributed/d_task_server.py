"""A TF1-style task server for the multi-process tests: `python d_task_server.py CLUSTER_JSON JOB INDEX`
serves one task of the cluster until the process is killed."""

import json
import sys

import tfmini as tf

cluster = tf.train.ClusterSpec(json.loads(sys.argv[1]))
server = tf.train.Server(cluster, job_name=sys.argv[2], task_index=int(sys.argv[3]))
print("serving", server.target, flush=True)
server.join()
