"""`tf.train.queue_runner`: the namespace TF 1.15 keeps for QueueRunner, add_queue_runner and
start_queue_runners (also under `tf.train`)."""

from tfmini.train.queue_runner_impl import QueueRunner, add_queue_runner, start_queue_runners

__all__ = ["QueueRunner", "add_queue_runner", "start_queue_runners"]
