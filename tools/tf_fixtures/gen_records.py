"""Record TensorFlow's TFRecord files, serialized Examples, parsing results and string-op outputs.

Run with the TensorFlow environment: ``/work/tfenv/bin/python tools/tf_fixtures/gen_records.py``.
Writes small files into ``tests/fixtures/tf/records/``; the tests replay them without TensorFlow.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from pathlib import Path

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "tf" / "records"


def sample_records() -> list[bytes]:
    """Records of many sizes: empty, short, binary, compressible and a few KB of pseudo-random bytes."""
    rng = np.random.RandomState(7)
    return [
        b"",
        b"a",
        b"hello tfrecord",
        bytes(range(256)),
        b"abcabcabc" * 400,
        rng.randint(0, 256, size=3000).astype(np.uint8).tobytes(),
        b"\x00" * 1000,
        b"last record",
    ]


def write_files(records: list[bytes]) -> dict:
    """Each compression with default options, plus non-default zlib options and a flush mid-file."""
    cases = {
        "none": dict(compression_type=""),
        "zlib": dict(compression_type="ZLIB"),
        "gzip": dict(compression_type="GZIP"),
        "zlib_level9_mem8": dict(compression_type="ZLIB", compression_level=9, mem_level=8),
        "gzip_level1": dict(compression_type="GZIP", compression_level=1),
        "zlib_sync_small_buffer": dict(compression_type="ZLIB", flush_mode=2, input_buffer_size=64),
        "gzip_full_small_buffer": dict(compression_type="GZIP", flush_mode=3, input_buffer_size=100),
    }
    for name, opts in cases.items():
        with tf.io.TFRecordWriter(str(OUT / f"{name}.tfrecord"), tf.io.TFRecordOptions(**opts)) as w:
            for r in records:
                w.write(r)
    # writer.flush() between records
    for ctype in ("", "ZLIB", "GZIP"):
        name = f"flushed_{ctype.lower() or 'none'}"
        cases[name] = dict(compression_type=ctype, flush_after=[2, 5])
        with tf.io.TFRecordWriter(str(OUT / f"{name}.tfrecord"), tf.io.TFRecordOptions(ctype)) as w:
            for i, r in enumerate(records):
                w.write(r)
                if i in (2, 5):
                    w.flush()
    return cases


def read_errors(records: list[bytes]) -> dict:
    """What TF's reader says about damaged files: the error class and message per case."""
    clean = (OUT / "none.tfrecord").read_bytes()
    lengths = [len(r) for r in records]
    second = 12 + lengths[0] + 4  # offset of the second record
    damaged = {
        "flip_length": _flip(clean, second + 1),
        "flip_length_crc": _flip(clean, second + 9),
        "flip_data": _flip(clean, second + 12),
        "flip_data_crc": _flip(clean, second + 12 + lengths[1]),
        "truncated_header": clean[: second + 5],
        "truncated_data": clean[: second + 12],
        "truncated_footer": clean[: second + 12 + lengths[1] + 2],
    }
    gz = (OUT / "gzip.tfrecord").read_bytes()
    damaged["gzip_truncated"] = gz[: len(gz) // 2]
    result = {}
    for name, data in damaged.items():
        path = OUT / "damaged.tmp"
        path.write_bytes(data)
        got = []
        ctype = "GZIP" if name.startswith("gzip") else ""
        try:
            for r in tf.io.tf_record_iterator(str(path), ctype):
                got.append(len(r))
            err = None
        except Exception as e:  # noqa: BLE001 - recording whatever TF raises
            err = [type(e).__name__, str(e)]
        result[name] = {"records_before_error": len(got), "error": err}
        path.unlink()
    return result


def _flip(data: bytes, at: int) -> bytes:
    b = bytearray(data)
    b[at] ^= 0x40
    return bytes(b)


def _feature(kind: str, values) -> tf.train.Feature:
    if kind == "bytes":
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=values))
    if kind == "float":
        return tf.train.Feature(float_list=tf.train.FloatList(value=values))
    return tf.train.Feature(int64_list=tf.train.Int64List(value=values))


# name -> (kind, values) per example; None leaves the feature out
EXAMPLES = [
    {
        "age": ("int64", [29]), "height": ("float", [1.75]), "name": ("bytes", [b"ann"]),
        "tags": ("bytes", [b"a", b"bb"]), "scores": ("float", [1.0, 2.5, -3.0]), "ids": ("int64", [1, 2, 3, 4, 5, 6]),
        "seq": ("float", [1.0, 2.0, 3.0, 4.0]), "sp_idx": ("int64", [7, 2]), "sp_val": ("float", [0.5, 1.5]),
        "big": ("int64", [-(2**62), 2**40]),
    },
    {
        "age": ("int64", [31]), "name": ("bytes", [b"bob"]), "tags": ("bytes", []),
        "scores": ("float", [4.0, 5.0, 6.0]), "ids": ("int64", [0, 0, 0, 1, 1, 1]), "seq": ("float", [5.0, 6.0]),
        "sp_idx": ("int64", []), "sp_val": ("float", []), "big": ("int64", [1]),
    },
    {
        "age": ("int64", [40]), "height": ("float", [1.5]), "name": ("bytes", [b"\xff\x00cy"]),
        "scores": ("float", [7.0, 8.0, 9.0]), "ids": ("int64", [9, 8, 7, 6, 5, 4]), "sp_idx": ("int64", [0]),
        "sp_val": ("float", [2.0]), "big": ("int64", []),
    },
]


def serialized_examples() -> list[bytes]:
    out = []
    for ex in EXAMPLES:
        feats = {k: _feature(kind, v) for k, (kind, v) in ex.items()}
        out.append(tf.train.Example(features=tf.train.Features(feature=feats)).SerializeToString(deterministic=True))
    return out


def parsing_spec() -> dict:
    return {
        "age": tf.FixedLenFeature([], tf.int64),
        "height": tf.FixedLenFeature([], tf.float32, default_value=-1.0),
        "name": tf.FixedLenFeature([], tf.string),
        "tags": tf.VarLenFeature(tf.string),
        "scores": tf.FixedLenFeature([3], tf.float32),
        "ids": tf.FixedLenFeature([2, 3], tf.int64),
        "seq": tf.FixedLenSequenceFeature([2], tf.float32, allow_missing=True, default_value=-9.0),
        "big": tf.VarLenFeature(tf.int64),
        "sp": tf.SparseFeature(index_key="sp_idx", value_key="sp_val", dtype=tf.float32, size=10),
    }


def _flatten(prefix: str, value, out: dict) -> None:
    if isinstance(value, tf.SparseTensorValue):
        out[prefix + ".indices"] = value.indices
        out[prefix + ".values"] = value.values
        out[prefix + ".dense_shape"] = value.dense_shape
    else:
        out[prefix] = np.asarray(value)


def record_examples() -> None:
    serialized = serialized_examples()
    arrays: dict[str, np.ndarray] = {"serialized": np.array(serialized, dtype=object)}
    errors = {}
    with tf.Graph().as_default(), tf.Session() as sess:
        spec = parsing_spec()
        batch = sess.run(tf.parse_example(tf.constant(serialized), spec))
        for k, v in batch.items():
            _flatten("batch." + k, v, arrays)
        single_spec = {k: v for k, v in spec.items() if k != "seq"}
        for i in range(2):
            single = sess.run(tf.parse_single_example(tf.constant(serialized[i]), single_spec))
            for k, v in single.items():
                _flatten(f"single{i}." + k, v, arrays)
        bad = {
            "missing_required": (serialized[1:2], {"height": tf.FixedLenFeature([], tf.float32)}),
            "wrong_type": (serialized[:1], {"age": tf.FixedLenFeature([], tf.float32)}),
            "wrong_size": (serialized[:1], {"scores": tf.FixedLenFeature([2], tf.float32)}),
            "wrong_varlen_type": (serialized[:1], {"tags": tf.VarLenFeature(tf.int64)}),
            "not_a_proto": ([b"\x0a\x05garbage"], {"age": tf.FixedLenFeature([], tf.int64)}),
            "seq_not_multiple": (serialized[1:2], {
                "scores": tf.FixedLenSequenceFeature([2], tf.float32, allow_missing=True)}),
        }
        for name, (ser, sp) in bad.items():
            try:
                sess.run(tf.parse_example(tf.constant(ser), sp))
                errors[name] = None
            except Exception as e:  # noqa: BLE001 - recording whatever TF raises
                errors[name] = [type(e).__name__, _op_message(str(e))]
    # a SequenceExample for the proto test
    seq = tf.train.SequenceExample()
    seq.context.feature["length"].int64_list.value.append(3)
    for tok in (b"a", b"b", b"c"):
        seq.feature_lists.feature_list["tokens"].feature.add().bytes_list.value.append(tok)
    arrays["sequence_example"] = np.array([seq.SerializeToString(deterministic=True)], dtype=object)
    save_arrays(OUT / "examples.npz", arrays)
    (OUT / "example_errors.json").write_text(json.dumps(errors, indent=1, sort_keys=True))


def _op_message(text: str) -> str:
    """The kernel's own message out of TF 2's 'Graph execution error' text (after its "Node: 'x'" line,
    before the node listing)."""
    marker = text.find("\nNode: '")
    if marker >= 0:
        text = text[text.index("\n", marker + 1) + 1 :]
    return text.split("\n\t [[")[0].strip()


def save_arrays(path: Path, arrays: dict) -> None:
    """An .npz without pickles: a string array `k` is stored as `k.bytes` (its concatenated elements, uint8),
    `k.lengths` and `k.shape`."""
    out = {}
    for k, a in arrays.items():
        if a.dtype == object or a.dtype.kind in "SU":
            items = [bytes(x) for x in a.ravel()]
            out[k + ".bytes"] = np.frombuffer(b"".join(items), dtype=np.uint8)
            out[k + ".lengths"] = np.array([len(x) for x in items], dtype=np.int64)
            out[k + ".shape"] = np.array(a.shape, dtype=np.int64)
        else:
            out[k] = a
    np.savez(path, **out)


def _sequence_example(context: dict, lists: dict) -> bytes:
    seq = tf.train.SequenceExample()
    for key, (kind, values) in context.items():
        seq.context.feature[key].CopyFrom(_feature(kind, values))
    for key, (kind, steps) in lists.items():
        fl = seq.feature_lists.feature_list[key]
        for values in steps:
            fl.feature.add().CopyFrom(_feature(kind, values))
    return seq.SerializeToString(deterministic=True)


SEQUENCE_EXAMPLES = [
    ({"length": ("int64", [3]), "label": ("bytes", [b"pos"])},
     {"tokens": ("int64", [[1], [2], [3]]), "vecs": ("float", [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]),
      "words": ("bytes", [[b"a", b"b"], [b"c"], []])}),
    ({"length": ("int64", [1])}, {"tokens": ("int64", [[7]]), "vecs": ("float", [[0.5, 0.5]])}),
    ({"length": ("int64", [0]), "label": ("bytes", [b"neg"])}, {}),
]


def sequence_specs():
    context = {"length": tf.FixedLenFeature([], tf.int64),
               "label": tf.FixedLenFeature([], tf.string, default_value="none")}
    sequence = {"tokens": tf.FixedLenSequenceFeature([], tf.int64, allow_missing=True),
                "vecs": tf.FixedLenSequenceFeature([2], tf.float32, allow_missing=True),
                "words": tf.VarLenFeature(tf.string)}
    return context, sequence


def record_sequence_examples() -> None:
    serialized = [_sequence_example(c, f) for c, f in SEQUENCE_EXAMPLES]
    arrays: dict[str, np.ndarray] = {"serialized": np.array(serialized, dtype=object)}
    errors = {}
    with tf.Graph().as_default(), tf.Session() as sess:
        context, sequence = sequence_specs()
        for i in range(2):
            ctx, seq = sess.run(tf.parse_single_sequence_example(serialized[i], context, sequence))
            for k, v in {**{"context." + k: v for k, v in ctx.items()},
                         **{"sequence." + k: v for k, v in seq.items()}}.items():
                _flatten(f"single{i}.{k}", v, arrays)
        ctx, seq, lengths = sess.run(tf.io.parse_sequence_example(serialized, context, sequence))
        for k, v in {**{"context." + k: v for k, v in ctx.items()}, **{"sequence." + k: v for k, v in seq.items()},
                     **{"lengths." + k: v for k, v in lengths.items()}}.items():
            _flatten(f"batch.{k}", v, arrays)
        bad = {
            "missing_list": (serialized[2], {}, {"tokens": tf.FixedLenSequenceFeature([], tf.int64)}),
            "step_size": (serialized[0], {}, {"vecs": tf.FixedLenSequenceFeature([3], tf.float32)}),
            "step_type": (serialized[0], {}, {"tokens": tf.FixedLenSequenceFeature([], tf.float32)}),
            "varlen_type": (serialized[0], {}, {"words": tf.VarLenFeature(tf.int64)}),
            "context_missing": (serialized[1], {"label": tf.FixedLenFeature([], tf.string)}, {}),
        }
        for name, (ser, ctx_spec, seq_spec) in bad.items():
            try:
                sess.run(tf.parse_single_sequence_example(ser, ctx_spec, seq_spec))
                errors[name] = None
            except Exception as e:  # noqa: BLE001 - recording whatever TF raises
                errors[name] = [type(e).__name__, _op_message(str(e))]
    save_arrays(OUT / "sequence_examples.npz", arrays)
    (OUT / "sequence_example_errors.json").write_text(json.dumps(errors, indent=1, sort_keys=True))


# Op calls replayed by tests/ops/test_string_ops.py and test_parsing_ops.py: [case name, function path under tf,
# args, kwargs]. Values: JSON lists/numbers/strings; {"__dtype__": name} is a dtype, {"__const__": v, "dtype": n}
# a constant of that dtype, {"__bytes__": latin-1 text} raw bytes, {"__complex__": [re, im]} a complex number.
def _c(value, dtype):
    return {"__const__": value, "dtype": dtype}


def _latin1(data: bytes) -> str:
    return data.decode("latin-1")


def _b(text: str) -> dict:
    """A raw-bytes case argument from a string of code points 0-255."""
    return {"__bytes__": text}


# a TensorProto holding the float 1.5 in float_val (as make_tensor_proto writes it)
_FLOAT_PROTO = b"\x08\x01\x12\x00*\x04\x00\x00\xc0?"
# strings of every length from 0 to 80 bytes and a few longer ones (the hashes branch on length: FarmHash at
# 16, 32 and 64 bytes and per 64-byte block beyond), with varied contents
HASH_INPUTS = [("The quick brown fox jumps over the lazy dog 0123456789!" * 5)[i % 11 : i % 11 + i]
               for i in [*range(0, 81), 96, 127, 128, 129, 150, 200]] + ["\u00e9t\u00e9", "\x00\x01\x02"]
NGRAM_DATA = [["a", "b", "c", "d"], ["e", "f", "g", "h"]]
DT = {name: {"__dtype__": name} for name in ("int16", "int32", "int64", "uint8", "float32", "float64", "bool",
                                               "complex64", "string")}
OP_CASES = [
    ["split_default", "string_split", [["hello world", "a  b c", ""]], {}],
    ["split_keep_empty", "string_split", [["a  b", " c"]], {"skip_empty": False}],
    ["split_chars", "string_split", [["abc", "de"]], {"delimiter": ""}],
    ["split_multi_delim", "string_split", [["a,b;c", ";;x"]], {"delimiter": ",;"}],
    ["split_sep_arg", "string_split", [["a|b"]], {"sep": "|"}],
    ["split_matrix_input", "string_split", [[["a b"]]], {}],
    ["strings_split_whitespace", "strings.split", [["a b", "  x  y ", ""]], {}],
    ["strings_split_sep", "strings.split", [["1,,2", ",", ""]], {"sep": ","}],
    ["strings_split_long_sep", "strings.split", [["1<>2<><>3"]], {"sep": "<>"}],
    ["strings_split_maxsplit", "strings.split", [["a b c d", "e"]], {"maxsplit": 2}],
    ["substr_scalar", "substr", ["Hello", 1, 3], {}],
    ["substr_vectors", "substr", [["hello", "world"], [1, 2], [2, 3]], {}],
    ["substr_negative_pos", "substr", [["hello", "abc"], -3, 2], {}],
    ["substr_past_end", "substr", [["hello"], 3, 10], {}],
    ["substr_pos_at_end", "substr", [["hello"], 5, 2], {}],
    ["substr_out_of_range", "substr", [["abc", "abcdef"], 5, 1], {}],
    ["substr_utf8", "strings.substr", [["h\u00e9llo w\u00f6rld"], 1, 3], {"unit": "UTF8_CHAR"}],
    ["substr_broadcast", "substr", [[["ab", "cd"], ["ef", "gh"]], [0, 1], [1, 1]], {}],
    ["substr_int64", "substr", [["abcdef"], _c(2, "int64"), _c(3, "int64")], {}],
    ["to_number_float", "string_to_number", [["1.5", "-2e3", " 3 ", "inf", "-nan", ".5", "1."]], {}],
    ["to_number_float64", "string_to_number", [["0.1", "1e300"]], {"out_type": DT["float64"]}],
    ["to_number_int32", "string_to_number", [["12", "-7", "+3", " 8"]], {"out_type": DT["int32"]}],
    ["to_number_int64", "strings.to_number", [["9000000000", "-1"]], {"out_type": DT["int64"]}],
    ["to_number_bad", "string_to_number", [["1.0", "abc"]], {}],
    ["to_number_int_from_float", "string_to_number", [["1.5"]], {"out_type": DT["int32"]}],
    ["to_number_int32_overflow", "string_to_number", [["3000000000"]], {"out_type": DT["int32"]}],
    ["to_number_underscore", "string_to_number", [["1_0"]], {"out_type": DT["int32"]}],
    ["as_string_float", "as_string", [[1.5, -0.25, 1e10, 3.14159265, 0.0]], {}],
    ["as_string_precision", "as_string", [[1.5, -0.25, 3.14159265]], {"precision": 2}],
    ["as_string_scientific", "as_string", [[1.5, -0.000123]], {"scientific": True}],
    ["as_string_shortest", "as_string", [[1.5, 1e10, 0.0001, 123456789.0]], {"shortest": True}],
    ["as_string_width", "as_string", [[1.5, -2.0]], {"width": 10}],
    ["as_string_width_zero_fill", "as_string", [[1.5, -2.0]], {"width": 10, "fill": "0"}],
    ["as_string_int_width", "as_string", [[1, -22, 333]], {"width": 5, "fill": "0"}],
    ["as_string_int", "as_string", [_c([[1, -2], [30, 4000000]], "int64")], {}],
    ["as_string_bool", "as_string", [[True, False]], {}],
    ["as_string_double", "as_string", [_c([0.1, 2.5], "float64")], {"precision": 10}],
    ["as_string_complex", "as_string", [_c([{"__complex__": [1.0, 2.0]}], "complex64")], {}],
    ["as_string_sci_and_shortest", "as_string", [[1.0]], {"scientific": True, "shortest": True}],
    ["as_string_precision_int", "as_string", [[1]], {"precision": 2}],
    ["as_string_bad_fill", "as_string", [[1]], {"width": 4, "fill": "ab"}],
    ["reduce_join_all", "reduce_join", [[["a", "b"], ["c", "d"]]], {}],
    ["reduce_join_axis0", "reduce_join", [[["a", "b"], ["c", "d"]]], {"axis": 0}],
    ["reduce_join_axis1_sep", "reduce_join", [[["a", "b"], ["c", "d"]]], {"axis": 1, "separator": "-"}],
    ["reduce_join_order_10", "reduce_join", [[["a", "b"], ["c", "d"]]], {"axis": [1, 0], "separator": "."}],
    ["reduce_join_order_01", "reduce_join", [[["a", "b"], ["c", "d"]]], {"axis": [0, 1], "separator": "."}],
    ["reduce_join_keepdims", "reduce_join", [[["a", "b"], ["c", "d"]]], {"axis": -1, "keep_dims": True}],
    ["reduce_join_3d", "strings.reduce_join", [[[["a", "b"], ["c", "d"]], [["e", "f"], ["g", "h"]]]],
     {"axis": [2, 0], "separator": "+"}],
    ["reduce_join_empty_axis", "reduce_join", [[["a", "b"]]], {"axis": []}],
    ["reduce_join_bad_axis", "reduce_join", [["a", "b"]], {"axis": 3}],
    ["string_join_scalar_and_vector", "string_join", [[["a", "b"], "x"]], {}],
    ["string_join_sep", "strings.join", [[["a", "b"], ["c", "d"], "!"]], {"separator": "_"}],
    ["string_join_mismatch", "string_join", [[["a", "b"], ["c", "d", "e"]]], {}],
    ["regex_replace_global", "regex_replace", [["abcabc", "xyz"], "b", "B"], {}],
    ["regex_replace_first", "regex_replace", [["abcabc"], "b", "B"], {"replace_global": False}],
    ["regex_replace_groups", "regex_replace", [["ab ab", "xab"], "(a)(b)", "\\2\\1"], {}],
    ["regex_replace_backslash", "regex_replace", [["a.b"], "\\.", "\\\\"], {}],
    ["regex_replace_classes", "strings.regex_replace", [["Hello  World 42"], "\\s+|\\d", "_"], {}],
    ["regex_replace_tensor_pattern", "regex_replace", [["aaa"], _c("a", "string"), _c("b", "string")], {}],
    ["regex_full_match", "strings.regex_full_match", [["abc", "abd", "xabc"], "ab."], {}],
    ["regex_full_match_alt", "strings.regex_full_match", [["cat", "dog", "cow"], "c(at|ow)"], {}],
    ["length_bytes", "strings.length", [["", "abc", "h\u00e9llo"]], {}],
    ["length_chars", "strings.length", [["", "abc", "h\u00e9llo"]], {"unit": "UTF8_CHAR"}],
    ["lower_ascii", "strings.lower", [["HeLLo \u00c9COLE"]], {}],
    ["lower_utf8", "strings.lower", [["HeLLo \u00c9COLE"]], {"encoding": "utf-8"}],
    ["upper_ascii", "strings.upper", [["hello \u00e9cole"]], {}],
    ["strip", "strings.strip", [["  a b \t\n", "x", "   "]], {}],
    ["format", "strings.format", ["x={} y={}", [[1, 2, 3], 5]], {}],
    ["format_summarize", "strings.format", ["v: {}", [list(range(10))]], {"summarize": 2}],
    ["format_placeholder", "strings.format", ["a=%s", [2.5]], {"placeholder": "%s"}],
    ["encode_base64", "encode_base64", [["hello", "", "\u00ff?>"]], {}],
    ["encode_base64_pad", "io.encode_base64", [["hello", "ab"]], {"pad": True}],
    ["decode_base64", "decode_base64", [["aGVsbG8", "aGVsbG8=", "w78_Pg", ""]], {}],
    ["decode_base64_bad_char", "decode_base64", [["a$bc"]], {}],
    ["decode_base64_bad_length", "decode_base64", [["abcde"]], {}],
    ["decode_raw_int16", "decode_raw", [[{"__bytes__": "\x01\x02\x03\x04"}]], {"out_type": DT["int16"]}],
    ["decode_raw_big_endian", "decode_raw", [[{"__bytes__": "\x01\x02\x03\x04"}]],
     {"out_type": DT["int16"], "little_endian": False}],
    ["decode_raw_uint8_matrix", "io.decode_raw", [[["ab", "cd"]]], {"out_type": DT["uint8"]}],
    ["decode_raw_float", "decode_raw", [[{"__bytes__": "\x00\x00\x80?\x00\x00\x00\xc0"}]],
     {"out_type": DT["float32"]}],
    ["decode_raw_not_multiple", "decode_raw", [["abc"]], {"out_type": DT["int16"]}],
    ["decode_raw_ragged", "decode_raw", [["ab", "abcd"]], {"out_type": DT["int16"]}],
    ["ngrams_bigrams", "strings.ngrams", [NGRAM_DATA, 2], {}],
    ["ngrams_separator", "strings.ngrams", [NGRAM_DATA, 3], {"separator": "_"}],
    ["ngrams_widths", "strings.ngrams", [NGRAM_DATA, [1, 3]], {}],
    ["ngrams_pad", "strings.ngrams", [NGRAM_DATA, 2], {"pad_values": "#"}],
    ["ngrams_pad_pair", "strings.ngrams", [NGRAM_DATA, 3], {"pad_values": ["<", ">"]}],
    ["ngrams_pad_width", "strings.ngrams", [NGRAM_DATA, 3], {"pad_values": ["<", ">"], "padding_width": 1}],
    ["ngrams_pad_width_capped", "strings.ngrams", [NGRAM_DATA, 3], {"pad_values": "#", "padding_width": 5}],
    ["ngrams_too_short", "strings.ngrams", [NGRAM_DATA, 5], {}],
    ["ngrams_preserve_short", "strings.ngrams", [NGRAM_DATA, 5], {"preserve_short_sequences": True}],
    ["ngrams_preserve_short_padded", "strings.ngrams", [NGRAM_DATA, 7],
     {"pad_values": "#", "padding_width": 1, "preserve_short_sequences": True}],
    ["ngrams_vector", "strings.ngrams", [["a", "b", "c"], 2], {}],
    ["ngrams_3d", "strings.ngrams", [[[["a", "b"], ["c", "d"]]], 2], {}],
    ["ngrams_scalar", "strings.ngrams", ["a", 2], {}],
    ["ngrams_width_without_pad", "strings.ngrams", [NGRAM_DATA, 2], {"padding_width": 1}],
    ["ngrams_zero_width", "strings.ngrams", [NGRAM_DATA, 0], {}],
    ["ngrams_zero_padding", "strings.ngrams", [NGRAM_DATA, 2], {"pad_values": "#", "padding_width": 0}],
    ["transcode_to_utf16", "strings.unicode_transcode", [["h\u00e9llo", ""], "UTF-8", "UTF-16-BE"], {}],
    ["transcode_to_utf32", "strings.unicode_transcode", [["h\u00e9llo"], "UTF-8", "UTF-32-BE"], {}],
    ["transcode_from_utf16", "strings.unicode_transcode", [[_b("\x00h\x00i"), _b("\x00h\x00"),
                                                            _b("\xd8\x00\x00a")], "UTF-16-BE", "UTF-8"], {}],
    ["transcode_invalid_utf8", "strings.unicode_transcode",
     [[_b("a\xffb"), _b("\xe2\x82"), _b("\xc3\x28"), _b("\xf0\x9f\x98\x80x"), _b("\xed\xa0\x80")], "UTF-8",
      "UTF-8"], {}],
    ["transcode_ignore", "strings.unicode_transcode", [[_b("a\xffb")], "UTF-8", "UTF-8"], {"errors": "ignore"}],
    ["transcode_strict", "strings.unicode_transcode", [[_b("a\xffb")], "UTF-8", "UTF-8"], {"errors": "strict"}],
    ["transcode_replacement_char", "strings.unicode_transcode", [[_b("a\xffb\xef\xbf\xbd")], "UTF-8", "UTF-8"],
     {"replacement_char": 63}],
    ["transcode_controls", "strings.unicode_transcode", [[_b("a\x01b\nc\x7f")], "UTF-8", "UTF-8"],
     {"replace_control_characters": True}],
    ["transcode_latin1", "strings.unicode_transcode", [[_b("caf\xe9")], "ISO-8859-1", "UTF-8"], {}],
    ["transcode_ascii", "strings.unicode_transcode", [[_b("ab"), _b("a\xffb")], "US-ASCII", "UTF-8"], {}],
    ["transcode_utf32_invalid", "strings.unicode_transcode", [[_b("\x00\x00\x00a\x00\x11\x00\x00")], "UTF-32-BE",
                                                               "UTF-8"], {}],
    ["transcode_bom_kept", "strings.unicode_transcode", [[_b("\xef\xbb\xbfhi")], "UTF-8", "UTF-16-BE"], {}],
    ["transcode_bad_output", "strings.unicode_transcode", [["x"], "UTF-8", "latin1"], {}],
    ["transcode_bad_input", "strings.unicode_transcode", [["x"], "nope", "UTF-8"], {}],
    ["transcode_bad_replacement", "strings.unicode_transcode", [["x"], "UTF-8", "UTF-8"],
     {"replacement_char": 0x110000}],
    ["hash_fast", "strings.to_hash_bucket_fast", [HASH_INPUTS, 2**63 - 1], {}],
    ["hash_fast_small", "string_to_hash_bucket_fast", [HASH_INPUTS[:40], 10], {}],
    ["hash_strong", "strings.to_hash_bucket_strong", [HASH_INPUTS, 2**63 - 1, [1, 2]], {}],
    ["hash_strong_big_key", "string_to_hash_bucket_strong", [HASH_INPUTS[60:], 1000, [-1, 12345]], {}],
    ["hash_legacy", "string_to_hash_bucket", [HASH_INPUTS, 2**63 - 1], {}],
    ["hash_legacy_small", "strings.to_hash_bucket", [[["a", "b"], ["c", "dd"]], 7], {}],
    ["serialize_float_scalar", "io.serialize_tensor", [_c(1.5, "float32")], {}],
    ["serialize_int_matrix", "io.serialize_tensor", [_c([[1, 2, 3], [4, 5, 6]], "int32")], {}],
    ["serialize_strings", "io.serialize_tensor", [["a", "bc", ""]], {}],
    ["serialize_bool", "io.serialize_tensor", [[True, False, True]], {}],
    ["serialize_empty_double", "io.serialize_tensor", [_c([], "float64")], {}],
    ["serialize_int64_3d", "io.serialize_tensor", [_c([[[1]], [[2]]], "int64")], {}],
    ["parse_tensor_float_val", "io.parse_tensor", [{"__bytes__": _latin1(_FLOAT_PROTO)}, DT["float32"]], {}],
    ["parse_tensor_type_mismatch", "io.parse_tensor", [{"__bytes__": _latin1(_FLOAT_PROTO)}, DT["int32"]], {}],
    ["parse_tensor_garbage", "io.parse_tensor", ["garbage!", DT["float32"]], {}],
    ["decompress_zlib", "io.decode_compressed", [[{"__bytes__": _latin1(zlib.compress(b"hello hello"))}, ""]],
     {"compression_type": "ZLIB"}],
    ["decompress_gzip", "io.decode_compressed", [[{"__bytes__": _latin1(gzip.compress(b"abc" * 9, mtime=0))}]],
     {"compression_type": "GZIP"}],
    ["decompress_none", "io.decode_compressed", [["plain"]], {}],
    ["decompress_bad", "io.decode_compressed", [["not zlib"]], {"compression_type": "ZLIB"}],
    ["csv_basic", "decode_csv", [["1,2.5,hello", '3,,"q,""w"""', ",4,x"], [[0], [1.0], [""]]], {}],
    ["csv_required_missing", "decode_csv", [["1,", "2,3"], [[0], _c([], "int32")]], {}],
    ["csv_too_few_fields", "decode_csv", [["1,2"], [[0], [0], [0]]], {}],
    ["csv_too_many_fields", "decode_csv", [["1,2,3"], [[0], [0]]], {}],
    ["csv_bad_int", "decode_csv", [["1,x"], [[0], [0]]], {}],
    ["csv_bad_float", "decode_csv", [["1.5e"], [[0.0]]], {}],
    ["csv_na_value", "decode_csv", [["NA,2", "1,NA"], [[7], [8]]], {"na_value": "NA"}],
    ["csv_select_cols", "decode_csv", [["a,1,b,2.5", "c,3,d,4"], [[""], [0.0]]], {"select_cols": [2, 3]}],
    ["csv_delim", "decode_csv", [["1|2", "3|4"], [_c([0], "int64"), _c([0.0], "float64")]], {"field_delim": "|"}],
    ["csv_no_quote_delim", "decode_csv", [['"a",b'], [[""], [""]]], {"use_quote_delim": False}],
    ["csv_bad_quote", "decode_csv", [['"a"b,c'], [[""], [""]]], {}],
    ["csv_quote_in_unquoted", "decode_csv", [['a"b,c'], [[""], [""]]], {}],
    ["csv_matrix_records", "decode_csv", [[["1,2"], ["3,4"]], [[0], [0]]], {}],
    ["csv_empty_record", "decode_csv", [[""], [[5]]], {}],
    ["csv_trailing_delim", "decode_csv", [["1,"], [[0], [9]]], {}],
    ["csv_spaces_int", "decode_csv", [[" 1 , 2"], [[0], [0]]], {}],
]


def decode_arg(value, tf_module):
    """A case argument as the API call takes it (shared convention with the tests)."""
    if isinstance(value, dict):
        if "__dtype__" in value:
            return getattr(tf_module, value["__dtype__"])
        if "__complex__" in value:
            return complex(*value["__complex__"])
        if "__bytes__" in value:
            return value["__bytes__"].encode("latin-1")
        if "__const__" in value:
            return tf_module.constant(decode_arg(value["__const__"], tf_module), dtype=getattr(tf_module,
                                                                                               value["dtype"]))
    if isinstance(value, list):
        return [decode_arg(v, tf_module) for v in value]
    return value


def encode_result(value) -> dict:
    if isinstance(value, tf.SparseTensorValue):
        return {"sparse": [encode_result(value.indices), encode_result(value.values),
                           encode_result(value.dense_shape)]}
    if isinstance(value, (list, tuple)):
        return {"list": [encode_result(v) for v in value]}
    if isinstance(value, bytes):  # a scalar string (np.asarray would drop its trailing NULs)
        return {"dtype": "string", "shape": [], "values": [value.decode("latin-1")]}
    a = np.asarray(value)
    if a.dtype == object or a.dtype.kind == "S":
        return {"dtype": "string", "shape": list(a.shape), "values": [bytes(x).decode("latin-1") for x in a.ravel()]}
    if a.dtype.kind == "c":
        return {"dtype": a.dtype.name, "shape": list(a.shape), "values": [[x.real, x.imag] for x in a.ravel()]}
    return {"dtype": a.dtype.name, "shape": list(a.shape), "values": [_json_number(x) for x in a.ravel().tolist()]}


def _json_number(x):
    if isinstance(x, float) and not np.isfinite(x):
        return repr(x)
    return x


def record_op_cases() -> None:
    results = {}
    for name, path, args, kwargs in OP_CASES:
        with tf.Graph().as_default(), tf.Session() as sess:
            fn = tf
            for part in path.split("."):
                fn = getattr(fn, part)
            try:
                out = fn(*decode_arg(args, tf), **{k: decode_arg(v, tf) for k, v in kwargs.items()})
                results[name] = {"value": encode_result(sess.run(out))}
            except Exception as e:  # noqa: BLE001 - recording whatever TF raises
                msg = _op_message(e.message) if isinstance(e, tf.errors.OpError) else str(e)
                results[name] = {"error": [type(e).__name__, msg]}
    (OUT / "op_cases.json").write_text(json.dumps({"cases": OP_CASES, "results": results}, indent=0))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    records = sample_records()
    cases = write_files(records)
    errors = read_errors(records)
    (OUT / "record_cases.json").write_text(json.dumps({"cases": cases, "errors": errors}, indent=1, sort_keys=True))
    record_examples()
    record_op_cases()
    record_sequence_examples()


if __name__ == "__main__":
    main()
