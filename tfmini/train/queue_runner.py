"""`tf.train.queue_runner`: the namespace TF 1.15 keeps for QueueRunner, add_queue_runner and
start_queue_runners (also under `tf.train`; defined in train/queue_runner_impl.py).

The names are declared with `@tf_export` beside their definitions and bound here when tfmini is imported
(framework/api_export.py).
"""
