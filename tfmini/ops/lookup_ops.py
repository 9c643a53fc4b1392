"""Lookup tables (`tf.lookup`, `tf.contrib.lookup`, `tf.tables_initializer`): the ops HashTableV2,
InitializeTableV2, InitializeTableFromTextFileV2, LookupTableFindV2, LookupTableImportV2 and LookupTableSizeV2,
and the table classes TF1 programs build on them.

A table lives in the session's resources (keyed by its container and shared name, or by its op), so two
sessions on one graph have separate tables; the handle a HashTableV2 op outputs is the table itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from tfmini.framework import dtypes as _dt
from tfmini.framework import errors as _errors
from tfmini.framework import ops as _ops
from tfmini.framework import tensor_shape as _shape
from tfmini.framework.api_export import tf_export
from tfmini.framework.file_io import GFile
from tfmini.framework.registry import REQUIRED, NotDifferentiable, apply_op, attr_minimum, register_op
from tfmini.framework.sparse_tensor import SparseTensor
from tfmini.ops import array_ops, control_flow_ops, math_ops, shape_fns, string_hash_ops, string_ops


# ----------------------------------------------------------------------------------------------------------
# The table resource
# ----------------------------------------------------------------------------------------------------------
def _type_name(dtype: _dt.DType) -> str:
    return {"float32": "float", "float64": "double", "float16": "half"}.get(dtype.name, dtype.name)


class HashTableResource:
    """A static hash table: filled once by an initializer, then read. Keys are kept sorted beside their
    values, so a lookup of many keys is one vectorized search."""

    def __init__(self, key_dtype: _dt.DType, value_dtype: _dt.DType) -> None:
        self.key_dtype = key_dtype
        self.value_dtype = value_dtype
        self.keys: np.ndarray | None = None
        self.values: np.ndarray | None = None
        self.lock = threading.Lock()

    @property
    def initialized(self) -> bool:
        return self.keys is not None

    def size(self) -> int:
        return 0 if self.keys is None else len(self.keys)

    def check_types(self, key_dtype: _dt.DType, value_dtype: _dt.DType) -> None:
        if key_dtype != self.key_dtype or value_dtype != self.value_dtype:
            raise _errors.InvalidArgumentError(
                None, None, f"Conflicting key/value types: {_type_name(key_dtype)}->{_type_name(value_dtype)} "
                f"with {_type_name(self.key_dtype)}->{_type_name(self.value_dtype)}")

    def initialize(self, keys: np.ndarray, values: np.ndarray) -> None:
        keys, values = np.ravel(keys), np.ravel(values)
        if keys.shape != values.shape:
            raise _errors.InvalidArgumentError(
                None, None, f"Expected shape {list(keys.shape)} for values, got {list(values.shape)}")
        order = np.argsort(keys, kind="stable")
        keys, values = keys[order], values[order]
        repeated = np.flatnonzero(keys[1:] == keys[:-1]) if len(keys) > 1 else np.zeros(0, dtype=np.intp)
        clash = repeated[values[repeated] != values[repeated + 1]]
        if clash.size:
            i = clash[0]
            raise _errors.FailedPreconditionError(
                None, None, f"HashTable has different value for same key. Key {_show(keys[i])} has "
                f"{_show(values[i])} and trying to add value {_show(values[i + 1])}")
        if repeated.size:
            keep = np.ones(len(keys), dtype=bool)
            keep[repeated + 1] = False
            keys, values = keys[keep], values[keep]
        with self.lock:
            if self.keys is not None:
                if not (np.array_equal(self.keys, keys) and np.array_equal(self.values, values)):
                    raise _errors.FailedPreconditionError(
                        None, None, "Table was already initialized with different data.")
                return
            keys.flags.writeable = False
            values.flags.writeable = False
            self.keys, self.values = keys, values

    def find(self, queries: np.ndarray, default: np.ndarray) -> np.ndarray:
        """The value of each query key (`default` for keys not held), shaped queries.shape + value shape."""
        if self.keys is None:
            raise _errors.FailedPreconditionError(None, None, "Table not initialized.")
        value_shape = self.values.shape[1:]
        out = np.empty(np.shape(queries) + value_shape, dtype=self.values.dtype)
        if not len(self.keys):
            out[...] = default
            return out
        flat = np.ravel(queries)
        pos = np.minimum(np.searchsorted(self.keys, flat), len(self.keys) - 1)
        found = (self.keys[pos] == flat).reshape((-1,) + (1,) * len(value_shape))
        out.reshape((-1,) + value_shape)[...] = np.where(found, self.values[pos], default)
        return out


class MutableTableResource(HashTableResource):
    """A hash table that ops may change at any time (insert, remove, export), holding values of shape
    `value_shape`; a dense table also refuses its empty and deleted marker keys."""

    def __init__(self, key_dtype: _dt.DType, value_dtype: _dt.DType, value_shape: tuple,
                 reserved: tuple = ()) -> None:
        super().__init__(key_dtype, value_dtype)
        self.keys = _empty_array(key_dtype, ())
        self.values = _empty_array(value_dtype, value_shape)
        self.value_shape = tuple(value_shape)
        self.reserved = reserved

    def check_keys(self, keys: np.ndarray) -> None:
        for what, marker in zip(("empty_key", "deleted_key"), self.reserved):
            if np.any(keys == marker):
                raise _errors.InvalidArgumentError(
                    None, None, f"Using the {what} as a table key is not allowed")

    def insert(self, keys: np.ndarray, values: np.ndarray) -> None:
        keys = np.asarray(keys)
        expected = keys.shape + self.value_shape
        if np.shape(values) != expected:
            raise _errors.InvalidArgumentError(
                None, None, f"Expected shape {list(expected)} for value, got {list(np.shape(values))}")
        self.check_keys(keys)
        with self.lock:
            all_keys = np.concatenate([self.keys, keys.ravel()])
            all_values = np.concatenate([self.values, np.reshape(values, (-1,) + self.value_shape)])
            # the last value given for a key wins: keep each key's first place in the reversed order
            unique, first = np.unique(all_keys[::-1], return_index=True)
            self.keys, self.values = unique, all_values[::-1][first]

    def remove(self, keys: np.ndarray) -> None:
        self.check_keys(np.asarray(keys))
        with self.lock:
            keep = ~np.isin(self.keys, np.ravel(keys))
            self.keys, self.values = self.keys[keep], self.values[keep]

    def initialize(self, keys: np.ndarray, values: np.ndarray) -> None:
        """LookupTableImportV2 on a mutable table replaces its contents."""
        keys = np.asarray(keys)
        with self.lock:
            self.keys, self.values = _empty_array(self.key_dtype, ()), _empty_array(self.value_dtype, self.value_shape)
        self.insert(keys, np.reshape(values, keys.shape + self.value_shape))

    def find(self, queries: np.ndarray, default: np.ndarray) -> np.ndarray:
        self.check_keys(np.asarray(queries))
        return super().find(queries, default)


def _empty_array(dtype: _dt.DType, shape: tuple) -> np.ndarray:
    return np.empty((0,) + tuple(shape), dtype=object if dtype == _dt.string else dtype.as_numpy_dtype)


def _show(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _table_of(handle: np.ndarray) -> HashTableResource:
    table = handle[()] if isinstance(handle, np.ndarray) else handle
    if not isinstance(table, HashTableResource):
        raise _errors.InvalidArgumentError(None, None, "Input is not a lookup table handle")
    return table


def _new_table(op: _ops.Operation, key_dtype: _dt.DType, value_dtype: _dt.DType, markers) -> HashTableResource:
    if op.type == "HashTableV2":
        return HashTableResource(key_dtype, value_dtype)
    value_shape = tuple(op.get_attr("value_shape").as_list()) if "value_shape" in op._attrs else ()
    return MutableTableResource(key_dtype, value_dtype, value_shape, markers)


def _hash_table_factory(op: _ops.Operation, ctx) -> Callable:
    key_dtype, value_dtype = op.get_attr("key_dtype"), op.get_attr("value_dtype")
    shared = op.get_attr("shared_name")
    shared = shared.decode() if isinstance(shared, bytes) else shared
    if not shared and op.get_attr("use_node_name_sharing"):
        shared = op.name
    container = op.get_attr("container")
    key = ("lookup_table", container, shared) if shared else ("lookup_table", op)

    def hash_table(*markers):
        if markers and np.array_equal(markers[0], markers[1]):
            raise _errors.InvalidArgumentError(None, None, "Empty and deleted keys cannot be equal")
        table = ctx.resources.get(key)
        if table is None:
            with ctx.lock:
                table = ctx.resources.get(key)
                if table is None:
                    table = ctx.resources[key] = _new_table(op, key_dtype, value_dtype, markers)
        if (table.key_dtype, table.value_dtype) != (key_dtype, value_dtype):
            raise _errors.InvalidArgumentError(
                None, None, f"Shared table '{shared}' holds {_type_name(table.key_dtype)}->"
                f"{_type_name(table.value_dtype)}, not {_type_name(key_dtype)}->{_type_name(value_dtype)}")
        handle = np.empty((), dtype=object)
        handle[()] = table
        return handle

    return hash_table


register_op("HashTableV2", outputs=["table_handle: resource"],
            attrs={"container": ("string", ""), "shared_name": ("string", ""),
                   "use_node_name_sharing": ("bool", False), "key_dtype": ("type", REQUIRED),
                   "value_dtype": ("type", REQUIRED)},
            stateful=True, shape=shape_fns.scalar, factory=_hash_table_factory)


_MUTABLE_TABLE_ATTRS = {"container": ("string", ""), "shared_name": ("string", ""),
                        "use_node_name_sharing": ("bool", False), "key_dtype": ("type", REQUIRED),
                        "value_dtype": ("type", REQUIRED)}
register_op("MutableHashTableV2", outputs=["table_handle: resource"], attrs=dict(_MUTABLE_TABLE_ATTRS),
            stateful=True, shape=shape_fns.scalar, factory=_hash_table_factory)
register_op("MutableHashTableOfTensorsV2", outputs=["table_handle: resource"],
            attrs={**_MUTABLE_TABLE_ATTRS, "value_shape": ("shape", [])},
            stateful=True, shape=shape_fns.scalar, factory=_hash_table_factory)
register_op("MutableDenseHashTableV2", inputs=["empty_key: key_dtype", "deleted_key: key_dtype"],
            outputs=["table_handle: resource"],
            attrs={**_MUTABLE_TABLE_ATTRS, "value_shape": ("shape", []), "initial_num_buckets": ("int", 131072),
                   "max_load_factor": ("float", 0.8)},
            stateful=True, shape=shape_fns.scalar, factory=_hash_table_factory)


def _mutable_table_of(handle) -> MutableTableResource:
    table = _table_of(handle)
    if not isinstance(table, MutableTableResource):
        raise _errors.InvalidArgumentError(None, None, "This table cannot be changed: it is not a mutable table")
    return table


@register_op("LookupTableInsertV2", inputs=["table_handle: resource", "keys: Tin", "values: Tout"], stateful=True)
def _insert(handle, keys, values, *, Tin, Tout):  # noqa: N803 - TF's attr names
    table = _mutable_table_of(handle)
    table.check_types(Tin, Tout)
    table.insert(np.asarray(keys), np.asarray(values))


@register_op("LookupTableRemoveV2", inputs=["table_handle: resource", "keys: Tin"], stateful=True)
def _remove(handle, keys, *, Tin):  # noqa: N803 - TF's attr names
    table = _mutable_table_of(handle)
    table.check_types(Tin, table.value_dtype)
    table.remove(np.asarray(keys))


def _export_shapes(op: _ops.Operation) -> list:
    return [_shape.TensorShape([None]), _shape.TensorShape(None)]


@register_op("LookupTableExportV2", inputs=["table_handle: resource"], outputs=["keys: Tkeys", "values: Tvalues"],
             stateful=True, shape=_export_shapes)
def _export(handle, *, Tkeys, Tvalues):  # noqa: N803 - TF's attr names
    table = _table_of(handle)
    table.check_types(Tkeys, Tvalues)
    if table.keys is None:
        return _empty_array(Tkeys, ()), _empty_array(Tvalues, ())
    return table.keys.copy(), table.values.copy()


@register_op("InitializeTableV2", inputs=["table_handle: resource", "keys: Tkey", "values: Tval"], stateful=True)
def _initialize_table(handle, keys, values, *, Tkey, Tval):  # noqa: N803 - TF's attr names
    table = _table_of(handle)
    table.check_types(Tkey, Tval)
    table.initialize(np.asarray(keys), np.asarray(values))


@register_op("LookupTableImportV2", inputs=["table_handle: resource", "keys: Tin", "values: Tout"], stateful=True)
def _import_table(handle, keys, values, *, Tin, Tout):  # noqa: N803 - TF's attr names
    table = _table_of(handle)
    table.check_types(Tin, Tout)
    table.initialize(np.asarray(keys), np.asarray(values))


def _find_shape(op: _ops.Operation) -> _shape.TensorShape:
    return op.inputs[1].shape.concatenate(op.inputs[2].shape)


@register_op("LookupTableFindV2", inputs=["table_handle: resource", "keys: Tin", "default_value: Tout"],
             outputs=["values: Tout"], stateful=True, shape=_find_shape)
def _find(handle, keys, default_value, *, Tin, Tout):  # noqa: N803 - TF's attr names
    table = _table_of(handle)
    table.check_types(Tin, Tout)
    value_shape = getattr(table, "value_shape", ())
    if np.shape(default_value) != value_shape:
        raise _errors.InvalidArgumentError(
            None, None, f"Expected shape {list(value_shape)} for default value, got {list(np.shape(default_value))}")
    return table.find(np.asarray(keys), default_value)


@register_op("LookupTableSizeV2", inputs=["table_handle: resource"], outputs=["size: int64"], stateful=True,
             shape=shape_fns.scalar)
def _table_size(handle):
    return np.int64(_table_of(handle).size())


WHOLE_LINE = -2
LINE_NUMBER = -1


def _parse_column(fields: list, dtype: _dt.DType, what: str, filename: str) -> np.ndarray:
    if dtype == _dt.string:
        out = np.empty(len(fields), dtype=object)
        out[:] = [f.encode("utf-8") for f in fields]
        return out
    try:
        if dtype.is_integer:
            return np.array([int(f) for f in fields], dtype=dtype.as_numpy_dtype)
        return np.array([float(f) for f in fields], dtype=dtype.as_numpy_dtype)
    except ValueError:
        bad = next(i for i, f in enumerate(fields) if not _parses(f, dtype))
        raise _errors.InvalidArgumentError(
            None, None, f"Field {fields[bad]} in line {bad} is not a valid {_type_name(dtype)}: {what} of "
            f"{filename}") from None


def _parses(text: str, dtype: _dt.DType) -> bool:
    try:
        int(text) if dtype.is_integer else float(text)
    except ValueError:
        return False
    return True


def _column(lines: list, index: int, delimiter: str, dtype: _dt.DType, what: str, filename: str,
            offset: int) -> np.ndarray:
    if index == LINE_NUMBER:
        if dtype != _dt.int64:
            raise _errors.InvalidArgumentError(
                None, None, f"Signature mismatch. {what} must be type int64 when using line numbers, got "
                f"{_type_name(dtype)}")
        return np.arange(offset, offset + len(lines), dtype=np.int64)
    if index == WHOLE_LINE:
        return _parse_column(lines, dtype, what, filename)
    fields = []
    for n, line in enumerate(lines):
        tokens = line.split(delimiter) if delimiter else line.split()
        if index >= len(tokens):
            raise _errors.InvalidArgumentError(
                None, None, f"Invalid number of columns in {filename} line {n} ({line}) : expected {index + 1} got "
                f"{len(tokens)}")
        fields.append(tokens[index])
    return _parse_column(fields, dtype, what, filename)


def _text_file_init_factory(op: _ops.Operation, ctx) -> Callable:
    key_index, value_index = op.get_attr("key_index"), op.get_attr("value_index")
    vocab_size, offset = op.get_attr("vocab_size"), op.get_attr("offset")
    delimiter = op.get_attr("delimiter")
    delimiter = delimiter.decode() if isinstance(delimiter, bytes) else delimiter

    def initialize_from_text_file(handle, filename):
        table = _table_of(handle)
        name = filename[()] if isinstance(filename, np.ndarray) else filename
        name = name.decode("utf-8") if isinstance(name, bytes) else str(name)
        with GFile(name, "r") as f:
            lines = f.read().splitlines()
        if vocab_size != -1:
            if len(lines) < vocab_size:
                raise _errors.InvalidArgumentError(
                    None, None, f"Invalid vocab_size in {name}: expected {vocab_size} got {len(lines)}")
            lines = lines[:vocab_size]
        keys = _column(lines, key_index, delimiter, table.key_dtype, "Key", name, offset)
        values = _column(lines, value_index, delimiter, table.value_dtype, "Value", name, offset)
        table.initialize(keys, values)

    return initialize_from_text_file


def _text_file_path(op: _ops.Operation) -> str:
    return "the vocabulary file named by its filename input"


register_op("InitializeTableFromTextFileV2", inputs=["table_handle: resource", "filename: string"],
            attrs={"key_index": ("int", REQUIRED), "value_index": ("int", REQUIRED), "vocab_size": ("int", -1),
                   "delimiter": ("string", "\t"), "offset": ("int", 0)},
            stateful=True, factory=_text_file_init_factory, file_access=_text_file_path)
attr_minimum("InitializeTableFromTextFileV2", "key_index", -2)
attr_minimum("InitializeTableFromTextFileV2", "value_index", -2)
attr_minimum("InitializeTableFromTextFileV2", "vocab_size", -1)

for _op_type in ("HashTableV2", "InitializeTableV2", "InitializeTableFromTextFileV2", "LookupTableFindV2",
                 "LookupTableImportV2", "LookupTableSizeV2", "MutableHashTableV2", "MutableHashTableOfTensorsV2",
                 "MutableDenseHashTableV2", "LookupTableInsertV2", "LookupTableRemoveV2", "LookupTableExportV2"):
    NotDifferentiable(_op_type)


# ----------------------------------------------------------------------------------------------------------
# Initializers
# ----------------------------------------------------------------------------------------------------------
@tf_export("lookup.TextFileIndex", "contrib.lookup.TextFileIndex")
class TextFileIndex:
    """The special columns of a vocabulary file: the whole line, or the line number."""

    WHOLE_LINE = WHOLE_LINE
    LINE_NUMBER = LINE_NUMBER


class _KeyValueDtypes:
    """The key and value dtypes of a table or of what fills it."""

    def __init__(self, key_dtype, value_dtype) -> None:
        self._key_dtype = _dt.as_dtype(key_dtype)
        self._value_dtype = _dt.as_dtype(value_dtype)

    @property
    def key_dtype(self) -> _dt.DType:
        return self._key_dtype

    @property
    def value_dtype(self) -> _dt.DType:
        return self._value_dtype


class TableInitializerBase(_KeyValueDtypes):
    """What fills a table: its key and value dtypes and `initialize(table)`, which returns the init op."""

    @property
    def _shared_name(self) -> str | None:
        return None

    def initialize(self, table) -> _ops.Operation:
        raise NotImplementedError

    def _check_table_dtypes(self, table) -> None:
        if table.key_dtype != self._key_dtype:
            raise TypeError(f"Invalid key dtype, expected {self._key_dtype} but got {table.key_dtype}.")
        if table.value_dtype != self._value_dtype:
            raise TypeError(f"Invalid value dtype, expected {self._value_dtype} but got {table.value_dtype}.")


@tf_export("lookup.KeyValueTensorInitializer", "contrib.lookup.KeyValueTensorInitializer")
class KeyValueTensorInitializer(TableInitializerBase):
    """Fills a table from a tensor of keys and a tensor of values of the same size."""

    def __init__(self, keys, values, key_dtype=None, value_dtype=None, name=None) -> None:
        with _ops.name_scope(name, "key_value_init", [keys, values]) as scope:
            self._keys = _ops.convert_to_tensor(keys, dtype=key_dtype, name="keys")
            self._values = _ops.convert_to_tensor(values, dtype=value_dtype, name="values")
            self._name = scope
        super().__init__(self._keys.dtype, self._values.dtype)

    def initialize(self, table) -> _ops.Operation:
        self._check_table_dtypes(table)
        with _ops.name_scope(self._name, values=(table.resource_handle, self._keys, self._values)):
            init_op = apply_op("InitializeTableV2", [table.resource_handle, self._keys, self._values])
        _ops.add_to_collection(_ops.GraphKeys.TABLE_INITIALIZERS, init_op)
        return init_op


@tf_export("lookup.TextFileInitializer", "contrib.lookup.TextFileInitializer")
class TextFileInitializer(TableInitializerBase):
    """Fills a table from a text file, one entry per line: the key and the value are each a column
    (split by `delimiter`), the whole line (TextFileIndex.WHOLE_LINE) or the line number
    (TextFileIndex.LINE_NUMBER, int64). `vocab_size` takes only the first lines (the file must have them)."""

    def __init__(self, filename, key_dtype, key_index, value_dtype, value_index, vocab_size=None,
                 delimiter="\t", name=None) -> None:
        if not isinstance(filename, _ops.Tensor) and not filename:
            raise ValueError(f"Filename required for {name}.")
        key_dtype, value_dtype = _dt.as_dtype(key_dtype), _dt.as_dtype(value_dtype)
        if key_index < -2:
            raise ValueError(f"Invalid key index {key_index}.")
        if key_index == LINE_NUMBER and key_dtype != _dt.int64:
            raise ValueError(f"Signature mismatch. Keys must be dtype {_dt.int64}, got {key_dtype}.")
        if key_index == WHOLE_LINE and not key_dtype.is_integer and key_dtype != _dt.string:
            raise ValueError(f"Signature mismatch. Keys must be integer or string, got {key_dtype}.")
        if value_index < -2:
            raise ValueError(f"Invalid value index {value_index}.")
        if value_index == LINE_NUMBER and value_dtype != _dt.int64:
            raise ValueError(f"Signature mismatch. Values must be dtype {_dt.int64}, got {value_dtype}.")
        if value_index == WHOLE_LINE and value_dtype != _dt.string:
            raise ValueError(f"Signature mismatch. Values must be dtype {_dt.string}, got {value_dtype}.")
        if vocab_size is not None and vocab_size <= 0:
            raise ValueError(f"Invalid vocab_size {vocab_size}.")
        self._filename_arg = filename
        self._key_index = key_index
        self._value_index = value_index
        self._vocab_size = vocab_size
        self._delimiter = delimiter
        self._name = name
        super().__init__(key_dtype, value_dtype)

    def initialize(self, table) -> _ops.Operation:
        self._check_table_dtypes(table)
        with _ops.name_scope(self._name, "text_file_init", (table.resource_handle,)):
            filename = _ops.convert_to_tensor(self._filename_arg, _dt.string, name="asset_filepath")
            init_op = apply_op(
                "InitializeTableFromTextFileV2", [table.resource_handle, filename],
                {"key_index": self._key_index, "value_index": self._value_index,
                 "vocab_size": -1 if self._vocab_size is None else self._vocab_size,
                 "delimiter": self._delimiter})
        _ops.add_to_collection(_ops.GraphKeys.TABLE_INITIALIZERS, init_op)
        if not isinstance(self._filename_arg, _ops.Tensor):
            _ops.add_to_collection(_ops.GraphKeys.ASSET_FILEPATHS, filename)
        return init_op

    @property
    def _shared_name(self) -> str | None:
        if isinstance(self._filename_arg, _ops.Tensor):
            return None
        vocab = "" if self._vocab_size is None else str(self._vocab_size)
        filename = self._filename_arg.decode() if isinstance(self._filename_arg, bytes) else self._filename_arg
        return f"hash_table_{filename}_{vocab}_{self._key_index}_{self._value_index}"


@tf_export("contrib.lookup.TextFileStringTableInitializer")
class TextFileStringTableInitializer(TextFileInitializer):
    """A TextFileInitializer mapping the key column (default: the line number) to string values (default:
    the whole line)."""

    def __init__(self, filename, key_column_index=LINE_NUMBER, value_column_index=WHOLE_LINE, vocab_size=None,
                 delimiter="\t", name="text_file_string_table_init") -> None:
        super().__init__(filename, _dt.int64, key_column_index, _dt.string, value_column_index,
                         vocab_size=vocab_size, delimiter=delimiter, name=name)


@tf_export("contrib.lookup.TextFileIdTableInitializer")
class TextFileIdTableInitializer(TextFileInitializer):
    """A TextFileInitializer mapping keys (default: the whole line) to int64 ids (default: the line
    number)."""

    def __init__(self, filename, key_column_index=WHOLE_LINE, value_column_index=LINE_NUMBER, vocab_size=None,
                 delimiter="\t", name="text_file_id_table_init", key_dtype=_dt.string) -> None:
        super().__init__(filename, key_dtype, key_column_index, _dt.int64, value_column_index,
                         vocab_size=vocab_size, delimiter=delimiter, name=name)


# ----------------------------------------------------------------------------------------------------------
# Tables
# ----------------------------------------------------------------------------------------------------------
@tf_export("contrib.lookup.LookupInterface")
class LookupInterface(_KeyValueDtypes):
    """What every lookup table offers: its key and value dtypes, `lookup(keys)` and `size()`."""

    @property
    def name(self) -> str:
        return self._name

    def _check_keys(self, keys):
        values = keys.values if isinstance(keys, SparseTensor) else keys
        if values.dtype.base_dtype != self._key_dtype:
            raise TypeError(f"Signature mismatch. Keys must be dtype {self._key_dtype}, got {values.dtype}.")


def _on_values(keys, fn):
    """`fn` applied to the keys, or to a SparseTensor's values (keeping its indices and shape)."""
    if isinstance(keys, SparseTensor):
        return SparseTensor(keys.indices, fn(keys.values), keys.dense_shape)
    return fn(keys)


def _as_keys(keys):
    if isinstance(keys, SparseTensor):
        return keys
    return _ops.convert_to_tensor(keys, name="keys")


@tf_export("contrib.lookup.InitializableLookupTableBase")
class InitializableLookupTableBase(LookupInterface):
    """A table filled once by its initializer (whose init op joins the TABLE_INITIALIZERS collection), with
    `default_value` for keys it does not hold."""

    def __init__(self, default_value, initializer) -> None:
        super().__init__(initializer.key_dtype, initializer.value_dtype)
        self._initializer = initializer
        self._default_value = _ops.convert_to_tensor(default_value, dtype=self._value_dtype)
        self._default_value.get_shape().merge_with(_shape.TensorShape([]))
        self._resource_handle = self._create_resource()
        self._init_op = initializer.initialize(self)

    @property
    def resource_handle(self) -> _ops.Tensor:
        return self._resource_handle

    @property
    def initializer(self) -> _ops.Operation:
        return self._init_op

    @property
    def init(self) -> _ops.Operation:
        return self._init_op

    @property
    def default_value(self) -> _ops.Tensor:
        return self._default_value

    def size(self, name=None) -> _ops.Tensor:
        """The number of entries, an int64 scalar."""
        with _ops.name_scope(name, f"{self.name}_Size", [self.resource_handle]):
            return apply_op("LookupTableSizeV2", [self.resource_handle]).outputs[0]

    def lookup(self, keys, name=None):
        """The value of each key (a Tensor or SparseTensor), `default_value` for keys not in the table."""
        keys = _as_keys(keys)
        self._check_keys(keys)
        values = keys.values if isinstance(keys, SparseTensor) else keys
        with _ops.name_scope(name, f"{self.name}_Lookup", (self.resource_handle, values, self._default_value)):
            return _on_values(keys, lambda k: apply_op(
                "LookupTableFindV2", [self.resource_handle, k, self._default_value]).outputs[0])


@tf_export("lookup.StaticHashTable")
class StaticHashTable(InitializableLookupTableBase):
    """An immutable hash table filled by `initializer` when tf.tables_initializer() runs."""

    def __init__(self, initializer, default_value, name=None) -> None:
        self._initializer = initializer
        self._default_value = default_value
        self._shared_name = initializer._shared_name or ""
        self._name = name or "hash_table"
        self._table_name = None
        super().__init__(default_value, initializer)
        self._value_shape = self._default_value.get_shape()

    def _create_resource(self) -> _ops.Tensor:
        op = apply_op("HashTableV2", [], {"shared_name": self._shared_name, "key_dtype": self._key_dtype,
                                          "value_dtype": self._value_dtype}, name=self._name)
        self._table_name = op.name.split("/")[-1]
        return op.outputs[0]

    @property
    def name(self) -> str:
        return self._table_name


@tf_export("contrib.lookup.HashTable")
class HashTable(StaticHashTable):
    """tf.contrib.lookup's name of StaticHashTable (with TF1's `shared_name`)."""

    def __init__(self, initializer, default_value, shared_name=None, name=None) -> None:
        self._given_shared_name = shared_name
        super().__init__(initializer, default_value, name=name)

    def _create_resource(self) -> _ops.Tensor:
        if self._given_shared_name:
            self._shared_name = self._given_shared_name
        return super()._create_resource()


class _MutableTableBase(LookupInterface):
    """A table the graph changes with `insert` and `remove` (no initializer: it starts empty), whose
    `lookup` gives `default_value` (a scalar or a tensor of the values' shape) for keys it does not hold."""

    _op_prefix = "MutableHashTable"

    def __init__(self, key_dtype, value_dtype, default_value, name, checkpoint) -> None:
        super().__init__(key_dtype, value_dtype)
        self._default_value = _ops.convert_to_tensor(default_value, dtype=self._value_dtype, name="default_value")
        self._value_shape = self._default_value.get_shape()
        self._checkpoint = checkpoint
        self._name = name
        self._resource_handle = self._create_resource()
        self._table_name = self._resource_handle.op.name.split("/")[-1]

    @property
    def resource_handle(self) -> _ops.Tensor:
        return self._resource_handle

    @property
    def name(self) -> str:
        return self._table_name

    def _table_attrs(self) -> dict:
        # Without a shared name, a checkpointed table is shared by its node name, as TF shares it.
        return {"shared_name": "", "use_node_name_sharing": bool(self._checkpoint), "key_dtype": self._key_dtype,
                "value_dtype": self._value_dtype}

    def size(self, name=None) -> _ops.Tensor:
        """The number of entries, an int64 scalar."""
        with _ops.name_scope(name, f"{self.name}_Size", [self.resource_handle]), \
                _ops.colocate_with(self.resource_handle):
            return apply_op("LookupTableSizeV2", [self.resource_handle]).outputs[0]

    def lookup(self, keys, name=None) -> _ops.Tensor:
        """The values of `keys`, shaped keys.shape + the values' shape."""
        with _ops.name_scope(name, f"{self.name}_lookup_table_find", (self.resource_handle, keys,
                                                                        self._default_value)):
            keys = _ops.convert_to_tensor(keys, dtype=self._key_dtype, name="keys")
            # The table's ops sit beside the table (on its parameter server), as TF places them.
            with _ops.colocate_with(self.resource_handle):
                return apply_op("LookupTableFindV2", [self.resource_handle, keys, self._default_value]).outputs[0]

    def insert(self, keys, values, name=None) -> _ops.Operation:
        """Sets the value of each key (replacing what it had); `values` is keys.shape + the values' shape."""
        with _ops.name_scope(name, f"{self.name}_lookup_table_insert", [self.resource_handle, keys, values]):
            keys = _ops.convert_to_tensor(keys, self._key_dtype, name="keys")
            values = _ops.convert_to_tensor(values, self._value_dtype, name="values")
            with _ops.colocate_with(self.resource_handle):
                return apply_op("LookupTableInsertV2", [self.resource_handle, keys, values])

    def remove(self, keys, name=None) -> _ops.Operation:
        """Removes `keys` (keys it does not hold are ignored)."""
        if isinstance(keys, _ops.Tensor) and keys.dtype != self._key_dtype:
            raise TypeError(f"Signature mismatch. Keys must be dtype {self._key_dtype}, got {keys.dtype}.")
        with _ops.name_scope(name, f"{self.name}_lookup_table_remove", (self.resource_handle, keys)):
            keys = _ops.convert_to_tensor(keys, self._key_dtype, name="keys")
            return apply_op("LookupTableRemoveV2", [self.resource_handle, keys])

    def export(self, name=None) -> tuple:
        """(keys, values): every entry of the table, in no particular order."""
        with _ops.name_scope(name, f"{self.name}_lookup_table_export_values", [self.resource_handle]), \
                _ops.colocate_with(self.resource_handle):
            op = apply_op("LookupTableExportV2", [self.resource_handle],
                          {"Tkeys": self._key_dtype, "Tvalues": self._value_dtype})
            keys, values = op.outputs
            values.set_shape(_shape.TensorShape([None]).concatenate(self._value_shape))
            return keys, values


@tf_export("contrib.lookup.MutableHashTable", "lookup.experimental.MutableHashTable")
class MutableHashTable(_MutableTableBase):
    """A mutable hash table: values are scalars, or tensors of `default_value`'s shape."""

    def __init__(self, key_dtype, value_dtype, default_value, name="MutableHashTable", checkpoint=True) -> None:
        super().__init__(key_dtype, value_dtype, default_value, name, checkpoint)

    def _create_resource(self) -> _ops.Tensor:
        attrs = self._table_attrs()
        if self._value_shape.ndims == 0:
            return apply_op("MutableHashTableV2", [], attrs, name=self._name).outputs[0]
        attrs["value_shape"] = self._value_shape
        return apply_op("MutableHashTableOfTensorsV2", [], attrs, name=self._name).outputs[0]


@tf_export("contrib.lookup.MutableDenseHashTable", "lookup.experimental.DenseHashTable")
class DenseHashTable(_MutableTableBase):
    """A mutable hash table whose keys may not be `empty_key` or `deleted_key` (TF's open-addressing table
    reserves them; here they are refused the same way)."""

    def __init__(self, key_dtype, value_dtype, default_value, empty_key, deleted_key, initial_num_buckets=None,
                 name="MutableDenseHashTable", checkpoint=True) -> None:
        self._empty_key = _ops.convert_to_tensor(empty_key, dtype=_dt.as_dtype(key_dtype), name="empty_key")
        self._deleted_key = _ops.convert_to_tensor(deleted_key, dtype=_dt.as_dtype(key_dtype), name="deleted_key")
        self._initial_num_buckets = initial_num_buckets
        super().__init__(key_dtype, value_dtype, default_value, name, checkpoint)

    def _create_resource(self) -> _ops.Tensor:
        attrs = {**self._table_attrs(), "value_shape": self._value_shape}
        if self._initial_num_buckets is not None:
            attrs["initial_num_buckets"] = int(self._initial_num_buckets)
        return apply_op("MutableDenseHashTableV2", [self._empty_key, self._deleted_key], attrs,
                        name=self._name).outputs[0]


@tf_export("contrib.lookup.HasherSpec")
class HasherSpec:
    """How out-of-vocabulary keys are hashed into buckets: `hasher` ("fasthash" or "stronghash") and `key`."""

    def __init__(self, hasher: str, key) -> None:
        self.hasher = hasher
        self.key = key

    def __repr__(self) -> str:
        return f"HasherSpec(hasher={self.hasher!r}, key={self.key!r})"


FastHashSpec = HasherSpec("fasthash", None)
tf_export("contrib.lookup.FastHashSpec").export_constant(__name__, "FastHashSpec")


@tf_export("contrib.lookup.StrongHashSpec")
class StrongHashSpec(HasherSpec):
    """SipHash with a two-int `key`: out-of-vocabulary buckets an adversary cannot steer."""

    def __init__(self, key) -> None:
        if len(key) != 2:
            raise ValueError(f"key must have size 2, got {len(key)}.")
        if not all(isinstance(k, int) for k in key):
            raise TypeError(f"Invalid key {key}. Must be unsigned integer values.")
        super().__init__("stronghash", key)


def _hash_buckets(keys: _ops.Tensor, num_buckets: int, hasher_spec: HasherSpec) -> _ops.Tensor:
    if keys.dtype != _dt.string:
        keys = string_ops.as_string(keys)
    if hasher_spec.hasher == "fasthash":
        return string_hash_ops.string_to_hash_bucket_fast(keys, num_buckets)
    if hasher_spec.hasher == "stronghash":
        return string_hash_ops.string_to_hash_bucket_strong(keys, num_buckets, hasher_spec.key)
    if hasher_spec.hasher == "legacy":
        return string_hash_ops.string_to_hash_bucket(keys, num_buckets)
    raise ValueError(f"Unknown hasher {hasher_spec.hasher}")


class _VocabularyTableBase(LookupInterface):
    """Ids of keys found in an int64-valued table, and `num_oov_buckets` hash buckets after the table's ids
    for the others."""

    def _bucket_ids(self, values: _ops.Tensor) -> _ops.Tensor:
        if self._table is not None:
            ids = self._table.lookup(values)
        else:
            ids = array_ops.fill(array_ops.shape(values), np.int64(-1))
        if not self._num_oov_buckets:
            return ids
        buckets = _hash_buckets(values, self._num_oov_buckets, self._hasher_spec)
        if self._table is not None:
            buckets = math_ops.add(buckets, self._table.size())
            return array_ops.where(math_ops.equal(ids, -1), buckets, ids)
        return buckets

    def size(self, name=None) -> _ops.Tensor:
        """The table's size plus the number of out-of-vocabulary buckets."""
        with _ops.name_scope(name, f"{self.name}_Size"):
            if self._table is None:
                return _ops.convert_to_tensor(np.int64(self._num_oov_buckets))
            return math_ops.add(self._table.size(), np.int64(self._num_oov_buckets))

    def lookup(self, keys, name=None):
        keys = _as_keys(keys)
        values = keys.values if isinstance(keys, SparseTensor) else keys
        if values.dtype.base_dtype != self._key_dtype:
            if not (values.dtype.is_integer and self._key_dtype.is_integer):
                raise TypeError(f"Signature mismatch. Keys must be dtype {self._key_dtype}, got {values.dtype}.")
        with _ops.name_scope(name, f"{self.name}_Lookup"):
            def ids_of(k):
                if self._table is not None and k.dtype != self._table.key_dtype:
                    k = math_ops.cast(k, self._table.key_dtype)
                return self._bucket_ids(k)
            return _on_values(keys, ids_of)

    @property
    def resource_handle(self):
        return None if self._table is None else self._table.resource_handle

    @property
    def initializer(self):
        return control_flow_ops.no_op() if self._table is None else self._table.initializer


@tf_export("lookup.StaticVocabularyTable")
class StaticVocabularyTable(_VocabularyTableBase):
    """Maps keys to int64 ids: those in `initializer`'s table to its ids, the others to one of
    `num_oov_buckets` buckets (Fingerprint64 of the key, as a string) numbered after the table's size."""

    def __init__(self, initializer, num_oov_buckets, lookup_key_dtype=None, name=None) -> None:
        if num_oov_buckets <= 0:
            raise ValueError("oov_buckets must be > 0.")
        if initializer.value_dtype != _dt.int64:
            raise TypeError(f"Invalid value dtype, expected {_dt.int64} but got {initializer.value_dtype}.")
        if initializer.key_dtype.is_integer and initializer.key_dtype != _dt.int64:
            raise TypeError(f"Invalid key dtype, expected {_dt.int64} but got {initializer.key_dtype}.")
        self._num_oov_buckets = num_oov_buckets
        self._hasher_spec = FastHashSpec
        self._name = name or "hash_table"
        with _ops.name_scope(name, "vocabulary_table"):
            self._table = StaticHashTable(initializer, -1)
        super().__init__(lookup_key_dtype or initializer.key_dtype, _dt.int64)


@tf_export("contrib.lookup.IdTableWithHashBuckets")
class IdTableWithHashBuckets(_VocabularyTableBase):
    """tf.contrib.lookup's vocabulary table: `table` (int64 ids, may be None) for known keys and
    `num_oov_buckets` hash buckets (hashed as `hasher_spec` says) after its ids for the others."""

    def __init__(self, table, num_oov_buckets, hasher_spec=FastHashSpec, name=None, key_dtype=None) -> None:
        if name:
            name = name.rstrip("/")
        if table is not None:
            if key_dtype is None:
                key_dtype = table.key_dtype
            if table.value_dtype != _dt.int64:
                raise TypeError(f"Invalid value dtype, expected {_dt.int64} but got {table.value_dtype}.")
        elif key_dtype is None:
            key_dtype = _dt.string
        if num_oov_buckets < 0:
            raise ValueError(f"oov_buckets must be >= 0, got {num_oov_buckets}.")
        if not isinstance(hasher_spec, HasherSpec):
            raise TypeError(f"hasher_spec must be of type HasherSpec, got {hasher_spec}")
        self._table = table
        self._num_oov_buckets = num_oov_buckets
        self._hasher_spec = hasher_spec
        self._name = name or "hash_table"
        super().__init__(key_dtype, _dt.int64)


# ----------------------------------------------------------------------------------------------------------
# Vocabulary helpers and tf.tables_initializer
# ----------------------------------------------------------------------------------------------------------
def _check_oov(num_oov_buckets, vocab_size=None) -> None:
    if num_oov_buckets < 0:
        raise ValueError(f"num_oov_buckets must be greater or equal than 0, got {num_oov_buckets}.")
    if vocab_size is not None and vocab_size < 1:
        raise ValueError(f"vocab_size must be greater than 0, got {vocab_size}.")


@tf_export("contrib.lookup.index_table_from_tensor")
def index_table_from_tensor(vocabulary_list, num_oov_buckets=0, default_value=-1, hasher_spec=FastHashSpec,
                            dtype=_dt.string, name=None):
    """A table mapping each entry of the 1-D `vocabulary_list` to its position (int64), unknown keys to
    `default_value` or, with `num_oov_buckets`, to hash buckets after the vocabulary."""
    if vocabulary_list is None:
        raise ValueError("vocabulary_list must be specified.")
    _check_oov(num_oov_buckets)
    dtype = _dt.as_dtype(dtype)
    if not dtype.is_integer and dtype != _dt.string:
        raise TypeError(f"Only integer and string keys are supported, got {dtype}.")
    with _ops.name_scope(name, "string_to_index"):
        keys = _ops.convert_to_tensor(vocabulary_list)
        if keys.dtype.is_integer != dtype.is_integer:
            raise ValueError(f"Expected {'integer' if dtype.is_integer else 'non-integer'}, got {keys.dtype}.")
        if not dtype.is_integer and keys.dtype.base_dtype != dtype:
            raise ValueError(f"Expected {dtype}, got {keys.dtype}.")
        ids = array_ops.range(array_ops.size(keys, out_type=_dt.int64), dtype=_dt.int64)
        if keys.dtype.is_integer and keys.dtype != _dt.int64:
            keys = math_ops.cast(keys, _dt.int64)
        with _ops.name_scope(None, "hash_table"):
            init = KeyValueTensorInitializer(keys, ids, name="table_init")
            table = StaticHashTable(init, default_value)
        if num_oov_buckets:
            return IdTableWithHashBuckets(table, num_oov_buckets, hasher_spec=hasher_spec, key_dtype=dtype)
        return table


@tf_export("contrib.lookup.index_table_from_file")
def index_table_from_file(vocabulary_file=None, num_oov_buckets=0, vocab_size=None, default_value=-1,
                          hasher_spec=FastHashSpec, key_dtype=_dt.string, name=None,
                          key_column_index=TextFileIndex.WHOLE_LINE, value_column_index=TextFileIndex.LINE_NUMBER,
                          delimiter="\t"):
    """A table mapping the keys of a vocabulary file (one per line by default) to their line numbers."""
    if vocabulary_file is None or (isinstance(vocabulary_file, str) and not vocabulary_file):
        raise ValueError("vocabulary_file must be specified and must not be empty.")
    _check_oov(num_oov_buckets, vocab_size)
    key_dtype = _dt.as_dtype(key_dtype)
    if not key_dtype.is_integer and key_dtype != _dt.string:
        raise TypeError(f"Only integer and string keys are supported, got {key_dtype}.")
    with _ops.name_scope(name, "string_to_index"):
        table_key_dtype = _dt.int64 if key_dtype.is_integer else key_dtype
        init = TextFileIdTableInitializer(vocabulary_file, vocab_size=vocab_size, key_dtype=table_key_dtype,
                                          key_column_index=key_column_index,
                                          value_column_index=value_column_index, delimiter=delimiter)
        table = StaticHashTable(init, default_value)
        if num_oov_buckets:
            return IdTableWithHashBuckets(table, num_oov_buckets, hasher_spec=hasher_spec, key_dtype=key_dtype)
        return table


@tf_export("contrib.lookup.index_to_string_table_from_tensor")
def index_to_string_table_from_tensor(vocabulary_list, default_value="UNK", name=None):
    """A table mapping int64 ids to the strings of the 1-D `vocabulary_list`; other ids give
    `default_value`."""
    if vocabulary_list is None:
        raise ValueError("vocabulary_list must be specified.")
    with _ops.name_scope(name, "index_to_string"):
        values = _ops.convert_to_tensor(vocabulary_list, _dt.string)
        keys = array_ops.range(array_ops.size(values, out_type=_dt.int64), dtype=_dt.int64)
        init = KeyValueTensorInitializer(keys, values, _dt.int64, _dt.string, name="table_init")
        return StaticHashTable(init, default_value)


@tf_export("contrib.lookup.index_to_string_table_from_file")
def index_to_string_table_from_file(vocabulary_file, vocab_size=None, default_value="UNK", name=None,
                                    key_column_index=TextFileIndex.LINE_NUMBER,
                                    value_column_index=TextFileIndex.WHOLE_LINE, delimiter="\t"):
    """A table mapping int64 ids (line numbers by default) to the strings of a vocabulary file."""
    if vocabulary_file is None or (isinstance(vocabulary_file, str) and not vocabulary_file):
        raise ValueError("vocabulary_file must be specified and must not be empty.")
    if vocab_size is not None and vocab_size < 1:
        raise ValueError(f"vocab_size must be greater than 0, got {vocab_size}.")
    with _ops.name_scope(name, "index_to_string"):
        init = TextFileStringTableInitializer(vocabulary_file, vocab_size=vocab_size,
                                              key_column_index=key_column_index,
                                              value_column_index=value_column_index, delimiter=delimiter)
        return StaticHashTable(init, default_value)


@tf_export("contrib.lookup.index_to_string")
def index_to_string(tensor, mapping, default_value="UNK", name=None):
    """The strings of `mapping` at the int64 ids in `tensor` (`default_value` outside it)."""
    table = index_to_string_table_from_tensor(mapping, default_value=default_value, name=name)
    return table.lookup(tensor)


@tf_export("contrib.lookup.string_to_index")
def string_to_index(tensor, mapping, default_value=-1, name=None):
    """The int64 positions in `mapping` of the strings in `tensor` (`default_value` for others); the
    deprecated one-call form of index_table_from_tensor."""
    table = index_table_from_tensor(mapping, default_value=default_value, name=name)
    return table.lookup(tensor)


@tf_export("initializers.tables_initializer", "tables_initializer")
def tables_initializer(name="init_all_tables"):
    """One op running every table initializer of the default graph (a no-op when there is none)."""
    initializers = _ops.get_collection(_ops.GraphKeys.TABLE_INITIALIZERS)
    if initializers:
        return control_flow_ops.group(*initializers, name=name)
    return control_flow_ops.no_op(name=name)


@tf_export("initialize_all_tables")
def initialize_all_tables(name="init_all_tables"):
    """The deprecated TF 1.x name of tf.tables_initializer."""
    return tables_initializer(name)
