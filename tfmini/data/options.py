"""`tf.data.Options` and its nested option groups (TF 1.15): settings a pipeline carries, set with
`Dataset.with_options` and read with `Dataset.options()`. tfmini computes every element on demand, in
order, on the calling thread, so none of them changes what a pipeline yields: they are recorded, validated
and merged as TensorFlow does."""

from __future__ import annotations

from typing import Any, ClassVar

from tfmini.framework.api_export import tf_export


class OptionsBase:
    """A group of options: each is unset (None) until assigned a value of its type; unknown names and
    values of the wrong type are refused as TF refuses them."""

    _OPTIONS: ClassVar[dict[str, tuple[Any, str]]] = {}  # name -> (type, description)

    def __init__(self) -> None:
        object.__setattr__(self, "_values", {})
        for name, (kind, _) in self._OPTIONS.items():
            if isinstance(kind, type) and issubclass(kind, OptionsBase):
                self._values[name] = kind()

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._OPTIONS:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
        return self._values.get(name)

    def __setattr__(self, name: str, value) -> None:
        if name not in self._OPTIONS:
            raise AttributeError(f"Cannot set the property {name} on {type(self).__name__}.")
        kind = self._OPTIONS[name][0]
        if value is not None and not isinstance(value, kind):
            raise TypeError(f"Property \"{name}\" must be of type {kind}, got: {value!r} (type: {type(value)}).")
        self._values[name] = value

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self._values == other._values

    def __ne__(self, other) -> bool:
        return not self == other

    __hash__ = None  # mutable

    def __repr__(self) -> str:
        set_values = ", ".join(f"{k}={v!r}" for k, v in sorted(self._values.items()) if v is not None)
        return f"{type(self).__name__}({set_values})"

    def _merged(self, other: OptionsBase) -> OptionsBase:
        """The options of both; a value set differently in the two is ValueError."""
        result = type(self)()
        for name in self._OPTIONS:
            a, b = self._values.get(name), other._values.get(name)
            if isinstance(a, OptionsBase):
                result._values[name] = a._merged(b)
            elif a is None or b is None or a == b:
                result._values[name] = a if b is None else b
            else:
                raise ValueError(f"Cannot merge incompatible values ({a!r} and {b!r}) of option: {name}")
        return result


@tf_export("data.experimental.MapVectorizationOptions")
class MapVectorizationOptions(OptionsBase):
    """Options for vectorizing map functions (tf.data.experimental.MapVectorizationOptions)."""

    _OPTIONS: ClassVar = {
        "enabled": (bool, "Whether to vectorize map transformations."),
        "use_choose_fastest": (bool, "Whether to pick the faster of the vectorized and original pipelines."),
    }


@tf_export("data.experimental.OptimizationOptions")
class OptimizationOptions(OptionsBase):
    """Static optimizations of a pipeline (tf.data.experimental.OptimizationOptions)."""

    _OPTIONS: ClassVar = {
        "apply_default_optimizations": (bool, "Whether to apply the default static optimizations."),
        "autotune": (bool, "Whether to tune parallelism and buffer sizes automatically."),
        "autotune_buffers": (bool, "Whether to tune buffer sizes automatically."),
        "autotune_cpu_budget": (int, "The CPU budget of autotuning."),
        "filter_fusion": (bool, "Whether to fuse filter transformations."),
        "filter_with_random_uniform_fusion": (bool, "Whether to fuse filter with random_uniform."),
        "hoist_random_uniform": (bool, "Whether to hoist random_uniform out of map functions."),
        "map_and_batch_fusion": (bool, "Whether to fuse map and batch."),
        "map_and_filter_fusion": (bool, "Whether to fuse map and filter."),
        "map_fusion": (bool, "Whether to fuse map transformations."),
        "map_parallelization": (bool, "Whether to parallelize stateless map transformations."),
        "map_vectorization": (MapVectorizationOptions, "Map vectorization options."),
        "noop_elimination": (bool, "Whether to remove transformations that do nothing."),
        "parallel_batch": (bool, "Whether to batch in parallel."),
        "shuffle_and_repeat_fusion": (bool, "Whether to fuse shuffle and repeat."),
    }


@tf_export("data.experimental.DistributeOptions")
class DistributeOptions(OptionsBase):
    """How a pipeline is distributed (tf.data.experimental.DistributeOptions)."""

    _OPTIONS: ClassVar = {
        "auto_shard": (bool, "Whether to shard the input automatically."),
        "num_devices": (int, "The number of devices attached to the input pipeline."),
    }


@tf_export("data.experimental.StatsOptions")
class StatsOptions(OptionsBase):
    """Statistics collection (tf.data.experimental.StatsOptions)."""

    _OPTIONS: ClassVar = {
        "aggregator": (object, "The StatsAggregator statistics are reported to."),
        "counter_prefix": (str, "A prefix for the counters."),
        "latency_all_edges": (bool, "Whether to record the latency of every transformation."),
        "prefix": (str, "A prefix for the statistics."),
    }


@tf_export("data.experimental.ThreadingOptions")
class ThreadingOptions(OptionsBase):
    """Threads of a pipeline (tf.data.experimental.ThreadingOptions)."""

    _OPTIONS: ClassVar = {
        "max_intra_op_parallelism": (int, "The most threads one op may use."),
        "private_threadpool_size": (int, "The size of a private thread pool for the pipeline."),
    }


@tf_export("data.Options")
class Options(OptionsBase):
    """The options of a pipeline (`tf.data.Options`)."""

    _OPTIONS: ClassVar = {
        "experimental_deterministic": (bool, "Whether elements must be produced in order (tfmini always does)."),
        "experimental_distribute": (DistributeOptions, "Distribution options."),
        "experimental_optimization": (OptimizationOptions, "Optimization options."),
        "experimental_slack": (bool, "Whether to introduce slack in the last prefetch."),
        "experimental_stats": (StatsOptions, "Statistics options."),
        "experimental_threading": (ThreadingOptions, "Threading options."),
    }

    def merge(self, options: Options) -> Options:
        """These options and `options` together (ValueError if they set one option differently)."""
        if not isinstance(options, Options):
            raise TypeError(f"options must be a tf.data.Options, got {options!r}")
        return self._merged(options)
