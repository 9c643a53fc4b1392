"""`tf.data.experimental`: the TF 1.15 experimental transformations tfmini implements (each a function
returning a `Dataset -> Dataset` transformation for `Dataset.apply`), and AUTOTUNE."""

from __future__ import annotations

from collections.abc import Callable

from tfmini.data.dataset_ops import AUTOTUNE, DatasetV1
from tfmini.data.structure import flatten
from tfmini.framework.registry import apply_op

__all__ = ["AUTOTUNE", "enumerate_dataset", "ignore_errors", "map_and_batch", "parallel_interleave",
           "shuffle_and_repeat", "unbatch"]


def unbatch() -> Callable[[DatasetV1], DatasetV1]:
    """Splits each element along its first dimension (as `Dataset.unbatch`)."""
    return lambda dataset: dataset.unbatch()


def enumerate_dataset(start=0) -> Callable[[DatasetV1], DatasetV1]:
    """Pairs each element with its index counted from `start` (as `Dataset.enumerate`)."""
    return lambda dataset: dataset.enumerate(start)


def map_and_batch(map_func: Callable, batch_size, num_parallel_batches=None, drop_remainder: bool = False,
                  num_parallel_calls=None) -> Callable[[DatasetV1], DatasetV1]:
    """`map(map_func)` then `batch(batch_size, drop_remainder)` (the parallelism arguments are accepted)."""
    if num_parallel_batches is not None and num_parallel_calls is not None:
        raise ValueError("The `num_parallel_batches` and `num_parallel_calls` arguments are mutually exclusive.")
    return lambda dataset: dataset.map(map_func).batch(batch_size, drop_remainder)


def shuffle_and_repeat(buffer_size, count=None, seed=None) -> Callable[[DatasetV1], DatasetV1]:
    """`shuffle(buffer_size, seed)` then `repeat(count)`: each repetition is shuffled anew."""
    return lambda dataset: dataset.shuffle(buffer_size, seed).repeat(count)


def parallel_interleave(map_func: Callable, cycle_length, block_length=1, sloppy: bool = False,
                        buffer_output_elements=None, prefetch_input_elements=None) -> Callable[[DatasetV1], DatasetV1]:
    """`interleave(map_func, cycle_length, block_length)` in its deterministic order (the parallelism and
    buffering arguments are accepted; `sloppy` orders are one of the orders TF may give)."""
    return lambda dataset: dataset.interleave(map_func, cycle_length, block_length)


def ignore_errors() -> Callable[[DatasetV1], DatasetV1]:
    """Drops the elements whose computation fails (e.g. a map body's error) instead of reporting them."""
    def apply(dataset: DatasetV1) -> DatasetV1:
        t = apply_op("IgnoreErrorsDataset", [dataset._variant_tensor],
                     {"output_types": [s.dtype for s in flatten(dataset._structure)],
                      "output_shapes": [s.shape for s in flatten(dataset._structure)]}).outputs[0]
        return DatasetV1(t, dataset._structure)

    return apply
