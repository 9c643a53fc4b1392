"""String ops against TensorFlow's recorded outputs (tools/tf_fixtures/gen_records.py) and Python references."""

from __future__ import annotations

import base64
import decimal
import re
from fractions import Fraction

import numpy as np
import pytest
from tf_recorded_cases import CASES, DECODE_PREFIXES, HASH_PREFIX, check_case

import tfmini as tf
from tfmini.framework import errors
from tfmini.ops import string_ops

STRING_CASES = sorted(n for n in CASES if not n.startswith((*DECODE_PREFIXES, HASH_PREFIX)))


@pytest.mark.parametrize("name", STRING_CASES)
def test_matches_tensorflow(name):
    check_case(name)


def _random_strings(rng, n: int, alphabet: bytes = b"ab ,;") -> list[bytes]:
    return [bytes(rng.choice(list(alphabet), size=rng.randint(0, 12))) for _ in range(n)]


def test_string_split_matches_python_on_random_strings():
    rng = np.random.RandomState(0)
    data = _random_strings(rng, 50)
    with tf.Session() as sess:
        got = sess.run(tf.string_split(data, delimiter=",;", skip_empty=True))
    want = [[t for t in re.split(b"[,;]", s) if t] for s in data]
    assert got.values.tolist() == [t for ts in want for t in ts]
    assert got.dense_shape.tolist() == [len(data), max(len(t) for t in want)]
    rows = np.repeat(np.arange(len(data)), [len(t) for t in want])
    np.testing.assert_array_equal(got.indices[:, 0], rows)


def test_strings_split_matches_python_bytes_split():
    rng = np.random.RandomState(1)
    data = _random_strings(rng, 40, b"ab  \t")
    with tf.Session() as sess:
        ws = sess.run(tf.strings.split(data))
        sep = sess.run(tf.strings.split(data, sep="a", maxsplit=1))
    assert ws.values.tolist() == [t for s in data for t in s.split()]
    assert sep.values.tolist() == [t for s in data for t in s.split(b"a", 1)]


def test_split_result_has_static_shapes_and_is_sparse():
    sp = tf.string_split(tf.placeholder(tf.string, [None]))
    assert isinstance(sp, tf.SparseTensor)
    assert sp.indices.shape.as_list() == [None, 2] and sp.dense_shape.shape.as_list() == [2]
    with pytest.raises(ValueError, match="RaggedTensor"):
        tf.strings.split(["a"], result_type="RaggedTensor")


def test_reduce_join_matches_python_join():
    rng = np.random.RandomState(2)
    data = np.array(_random_strings(rng, 24), dtype=object).reshape(2, 3, 4)
    with tf.Session() as sess:
        got = sess.run(tf.reduce_join(data, axis=1, separator="|"))
        unknown_rank = sess.run(tf.reduce_join(tf.placeholder(tf.string), separator="/"), {"Placeholder:0": data})
    want = np.array([[b"|".join(data[i, :, k]) for k in range(4)] for i in range(2)], dtype=object)
    assert got.tolist() == want.tolist()
    assert unknown_rank == b"/".join(data.reshape(-1))
    assert tf.reduce_join(data, axis=[0, 2], keepdims=True).shape.as_list() == [1, 3, 1]


def test_as_string_matches_printf_formatting():
    x = np.array([0.5, -1.25, 1234.5678, 1e-7], np.float32)
    with tf.Session() as sess:
        got = sess.run(tf.as_string(x, precision=3, width=12, fill=" "))
    assert got.tolist() == [f"{v:12.3f}".encode() for v in x.astype(np.float64)]


def test_string_to_number_round_trips_as_string():
    x = np.array([1.5, -2.25, 3e5], np.float64)
    with tf.Session() as sess:
        got = sess.run(tf.string_to_number(tf.as_string(x, precision=17), out_type=tf.float64))
    np.testing.assert_array_equal(got, x)


# What TensorFlow's StringToNumber and DecodeCSV gave for each text (float32, float64); None: an error.
_RECORDED_FLOATS = [
    ("0x10", 16.0, 16.0), ("-0x10", -16.0, -16.0), ("0X1F", 31.0, 31.0), ("0x1p3", 8.0, 8.0),
    ("0x1.8p1", 3.0, 3.0), ("0x1.8", 1.5, 1.5), (" 0x10 ", 16.0, 16.0), ("+0x10", 16.0, 16.0),
    ("0x1P-2", 0.25, 0.25), ("0x.8p1", 1.0, 1.0), ("0x8.p0", 8.0, 8.0), ("0x1e5", 485.0, 485.0),
    ("0X1.8P+1", 3.0, 3.0), ("0x1p128", np.inf, 2.0**128), ("0x1p-149", 2.0**-149, 2.0**-149),
    ("0x1p-150", 0.0, 2.0**-150), ("0x1p-1074", 0.0, 5e-324), ("0x1p-1075", 0.0, 0.0),
    ("0x1p1024", np.inf, np.inf), ("0x1.000001p0", 1.0, 1.0000000596046448),
    ("0x1.0000018p0", 1.0000001192092896, 1.0000000894069672),
    ("0x1.0000010000000000001p0", 1.0000001192092896, 1.0000000596046448),
    ("1.0000000596046447753906250001", 1.0000001192092896, 1.0000000596046448),
    ("7.006492321624085e-46", 0.0, 7.006492321624085e-46), ("7.0064923216240862e-46", 2.0**-149, 7.006492321624087e-46),
    ("3.4028235e38", 3.4028234663852886e38, 3.4028235e38), ("3.4028236e38", np.inf, 3.4028236e38),
    ("1e39", np.inf, 1e39), ("1e-50", 0.0, 1e-50), ("1e400", np.inf, np.inf), ("1e-400", 0.0, 0.0),
    ("nan(123)", np.nan, np.nan), ("NAN(1)", np.nan, np.nan), ("nan()", np.nan, np.nan), ("-nan", np.nan, np.nan),
    ("-Infinity", -np.inf, -np.inf), ("INF", np.inf, np.inf), ("\t1", 1.0, 1.0), ("\x0b1\x0c", 1.0, 1.0),
    ("1.e5", 1e5, 1e5), ("1.5e+3", 1500.0, 1500.0),
    ("0x", None, None), ("0xg", None, None), ("1_0", None, None), ("0x1_0", None, None), ("1e", None, None),
    ("1f", None, None), (".e5", None, None), ("0x1p", None, None), ("0x1p+", None, None), ("0x.p1", None, None),
    ("0x-1", None, None), ("0x1p1.5", None, None), ("nan(a-b)", None, None), ("inf(1)", None, None),
    ("infinit", None, None), ("nans", None, None), ("0b1", None, None), ("1e5.5", None, None),
    ("\u0661", None, None), ("++1", None, None), ("- 1", None, None), ("", None, None),
]


@pytest.mark.parametrize("text, want32, want64", _RECORDED_FLOATS)
def test_string_to_number_and_decode_csv_parse_floats_as_tensorflow(text, want32, want64):
    for dtype, want in ((tf.float32, want32), (tf.float64, want64)):
        with tf.Graph().as_default(), tf.Session() as sess:
            ops_ = [tf.string_to_number([text], dtype), tf.decode_csv([text], [tf.constant([0], dtype)])[0]]
            for op in ops_:
                if want is None:
                    with pytest.raises(errors.InvalidArgumentError):
                        sess.run(op)
                else:
                    np.testing.assert_array_equal(sess.run(op), np.array([want], dtype.as_numpy_dtype))


def _nearest_float32(x: Fraction) -> np.float32:
    """The float32 nearest to `x`, ties to even, by comparing exact distances to the candidates."""
    guess = np.float32(float(x))
    candidates = [np.nextafter(guess, np.float32(-np.inf)), guess, np.nextafter(guess, np.float32(np.inf))]
    return min(candidates, key=lambda c: (abs(Fraction(float(c)) - x), int(c.view(np.uint32)) & 1))


def test_float32_is_rounded_once_from_the_decimal_text():
    """Texts at, just above and just below midpoints between float32s: their float64 rounding is the
    midpoint itself, so only the exact decimal value decides (a double rounding gets half of them wrong)."""
    rng = np.random.RandomState(7)
    texts, want = [], []
    for bits in rng.randint(0x00800000, 0x7F000000, size=60).astype(np.uint32):
        low = bits.view(np.float32)
        middle = (Fraction(float(low)) + Fraction(float(np.nextafter(low, np.float32(np.inf))))) / 2
        exact = decimal.Decimal(float(middle))  # the midpoint is a float64
        with decimal.localcontext() as ctx:
            ctx.prec = 400
            for value in (exact, exact + exact * decimal.Decimal("1e-30"), exact - exact * decimal.Decimal("1e-30")):
                texts.append(f"{value:e}")
                want.append(_nearest_float32(Fraction(value)))
    with tf.Session() as sess:
        got = sess.run(tf.string_to_number(texts))
    np.testing.assert_array_equal(got, np.array(want, np.float32))
    assert len(set(np.array(want, np.float32).tolist())) > 100  # the three texts of a midpoint do differ


def test_base64_round_trip_random_bytes():
    rng = np.random.RandomState(3)
    data = [rng.bytes(int(n)) for n in rng.randint(0, 40, size=20)]
    with tf.Session() as sess:
        enc = sess.run(tf.encode_base64(data))
        dec = sess.run(tf.decode_base64(enc))
    assert enc.tolist() == [base64.urlsafe_b64encode(d).rstrip(b"=") for d in data]
    assert dec.tolist() == data


def test_substr_utf8_and_bytes_agree_on_ascii():
    words = ["tensor", "flow", "mini"]
    with tf.Session() as sess:
        a = sess.run(tf.substr(words, 1, 2))
        b = sess.run(tf.strings.substr(words, 1, 2, unit="UTF8_CHAR"))
    assert a.tolist() == b.tolist() == [w[1:3].encode() for w in words]


def test_regex_rewrite_is_re2_syntax_not_python_template():
    with tf.Session() as sess:
        # \n is no escape in RE2's rewrite: the backslash must be followed by a digit or another backslash
        with pytest.raises(errors.InvalidArgumentError, match="Rewrite"):
            sess.run(tf.regex_replace(["ab"], "a", "\\n"))
        assert sess.run(tf.regex_replace(["ab"], "(a)", "<\\1\\0>")).tolist() == [b"<aa>b"]


def test_global_replace_skips_empty_match_after_a_match_as_re2_does():
    with tf.Session() as sess:
        assert sess.run(tf.regex_replace(["baaac", ""], "a*", "X")).tolist() == [b"XbXcX", b"X"]
        assert sess.run(tf.regex_replace(["baaac"], "a*", "X", replace_global=False)).tolist() == [b"Xbaaac"]


def test_regexes_work_on_utf8_characters_with_ascii_classes():
    with tf.Session() as sess:
        assert sess.run(tf.regex_replace(["h\u00e9llo"], ".", "x")).tolist() == [b"xxxxx"]
        assert sess.run(tf.strings.regex_full_match(["h\u00e9llo", "hallo"], "h.llo")).tolist() == [True, True]
        # RE2's \w is ASCII: the accented letter is no word character
        assert sess.run(tf.regex_replace(["\u00e9t\u00e9 a1"], "\\w", "_")).tolist() == ["\u00e9_\u00e9 __".encode()]
        # bytes that are no UTF-8 pass through unchanged
        assert sess.run(tf.regex_replace([b"\xff-\xfe"], "-", "+")).tolist() == [b"\xff+\xfe"]


def test_reduce_join_of_an_empty_axis_gives_empty_strings():
    with tf.Session() as sess:
        assert sess.run(tf.reduce_join(tf.zeros([2, 0], tf.string), axis=1)).tolist() == [b"", b""]
        assert sess.run(tf.reduce_join(tf.zeros([0, 2], tf.string), axis=0, separator="x")).tolist() == [b"", b""]


def test_substr_negative_len_takes_the_rest():
    with tf.Session() as sess:
        assert sess.run(tf.substr(["hello"], 1, -1)).tolist() == [b"ello"]


def test_as_string_keeps_the_sign_of_nan_as_printf():
    x = np.array([np.nan, -np.nan, 1.0], np.float32)
    with tf.Session() as sess:
        assert sess.run(tf.as_string(x)).tolist() == [b"nan", b"-nan", b"1.000000"]
        assert sess.run(tf.as_string(x, width=6)).tolist() == [b"   nan", b"  -nan", b"1.000000"]
        assert sess.run(tf.as_string([True], width=3)).tolist() == [b"true"]


def test_reduce_join_repeated_axis_fails_when_run():
    op = tf.reduce_join([["a"]], axis=[0, 0])
    with tf.Session() as sess, pytest.raises(errors.InvalidArgumentError, match="Duplicate reduction dimension 0"):
        sess.run(op)


def test_invalid_pattern_is_invalid_argument_and_session_survives():
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError, match="Invalid pattern"):
            sess.run(tf.strings.regex_full_match(["a"], "("))
        assert sess.run(tf.strings.regex_full_match(["a"], "a")).tolist() == [True]


def test_fed_strings_are_not_modified():
    data = np.array([b" a ", b"B"], dtype=object)
    keep = data.copy()
    p = tf.placeholder(tf.string, [2])
    with tf.Session() as sess:
        sess.run([tf.strings.strip(p), tf.strings.lower(p), tf.string_join([p, p])], {p: data})
    assert data.tolist() == keep.tolist()


def test_string_ops_have_no_gradient():
    x = tf.constant([1.0, 2.0])
    y = tf.string_to_number(tf.as_string(x))
    assert tf.gradients(y, x) == [None]


def test_strings_format_counts_placeholders_when_built():
    with pytest.raises(ValueError, match="num placeholders"):
        tf.strings.format("{} {}", [tf.constant(1)])


def test_unicode_transcode_round_trips_random_text():
    rng = np.random.RandomState(10)
    texts = ["".join(chr(c) for c in rng.choice([*range(32, 127), *range(0xA0, 0x2FF), 0x1F600], size=n))
             for n in rng.randint(0, 30, size=25)]
    with tf.Session() as sess:
        utf16 = sess.run(tf.strings.unicode_transcode(texts, "UTF-8", "UTF-16-BE"))
        back = sess.run(tf.strings.unicode_transcode(utf16, "UTF-16-BE", "UTF-8"))
    assert utf16.tolist() == [t.encode("utf-16-be") for t in texts]
    assert back.tolist() == [t.encode() for t in texts]


def test_ngrams_match_python_windows_on_random_tokens():
    rng = np.random.RandomState(11)
    tokens = np.array([f"t{v}" for v in rng.randint(0, 9, size=42)], dtype=object).reshape(3, 2, 7)
    with tf.Session() as sess:
        got = sess.run(tf.strings.ngrams(tokens, [2, 4], separator="+"))
    want = [[[b"+".join(x.encode() for x in row[i : i + w]) for w in (2, 4) for i in range(len(row) - w + 1)]
             for row in block] for block in tokens]
    assert got.shape == (3, 2, 10) and got.tolist() == want


def test_ngrams_of_fed_data_keep_the_static_shape_they_can():
    p = tf.placeholder(tf.string, [None, 5])
    out = tf.strings.ngrams(p, 2)
    assert out.shape.as_list() == [None, None]
    with tf.Session() as sess:
        assert sess.run(out, {p: [list("abcde")]}).tolist() == [[b"a b", b"b c", b"c d", b"d e"]]


def test_string_to_number_takes_either_argument_name():
    with tf.Session() as sess:
        assert sess.run(tf.strings.to_number(input=["2"], out_type=tf.int32)).tolist() == [2]
        assert sess.run(tf.strings.to_number(string_tensor=["2.5"])).tolist() == [2.5]
    with pytest.raises(ValueError, match="Exactly one"):
        tf.string_to_number()


def test_public_names():
    assert tf.strings.join is tf.string_join is string_ops.string_join
    assert tf.strings.substr is tf.substr
    assert tf.strings.reduce_join is tf.reduce_join
    assert tf.strings.regex_replace is tf.regex_replace
    assert tf.strings.strip is tf.string_strip
    assert tf.strings.as_string is tf.as_string
    assert tf.strings.to_number is tf.string_to_number
    assert tf.strings.unicode_transcode is string_ops.unicode_transcode
    assert tf.strings.ngrams is string_ops.ngrams
    assert tf.io.encode_base64 is tf.encode_base64
