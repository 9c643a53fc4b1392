"""What `tf.contrib` and its sub-namespaces answer for a name tfmini does not have: an AttributeError saying
that tf.contrib is partial and where the supported subset is listed (docs/contrib.md)."""


def missing_name(namespace: str, name: str) -> AttributeError:
    """The AttributeError for `tf.<namespace>.<name>`, which tfmini's partial tf.contrib does not provide."""
    return AttributeError(
        f"module 'tf.{namespace}' has no attribute '{name}': tfmini's tf.contrib is partial (TensorFlow 1.15's "
        f"common contrib subset: layers, framework, losses, metrics, training, slim, rnn); "
        f"see docs/contrib.md for what exists, what differs and what is left out")
