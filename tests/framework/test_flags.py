"""tf.flags / tf.app.flags and tf.app.run: definitions, command-line forms, validators and errors."""

import enum

import pytest

import tfmini as tf
from tfmini.framework import flags as flags_lib


@pytest.fixture
def fv():
    return flags_lib.FlagValues()


def test_tf_app_flags_is_tf_flags():
    assert tf.app.flags is tf.flags
    assert tf.flags.DEFINE_bool is tf.flags.DEFINE_boolean


def test_defaults_before_any_argument(fv):
    tf.flags.DEFINE_string("data_dir", "/tmp/data", "where", flag_values=fv)
    tf.flags.DEFINE_integer("batch", 32, "size", flag_values=fv)
    tf.flags.DEFINE_float("lr", 0.1, "rate", flag_values=fv)
    tf.flags.DEFINE_boolean("fast", False, "go", flag_values=fv)
    fv(["prog"])
    assert (fv.data_dir, fv.batch, fv.lr, fv.fast) == ("/tmp/data", 32, 0.1, False)
    assert fv.flag_values_dict() == {"data_dir": "/tmp/data", "batch": 32, "lr": 0.1, "fast": False}


def test_command_line_forms(fv):
    tf.flags.DEFINE_string("name", "a", "", flag_values=fv)
    tf.flags.DEFINE_integer("steps", 1, "", flag_values=fv)
    tf.flags.DEFINE_boolean("fast", False, "", flag_values=fv)
    tf.flags.DEFINE_boolean("verbose", True, "", flag_values=fv)
    tf.flags.DEFINE_list("layers", "8,4", "", flag_values=fv)
    tf.flags.DEFINE_multi_string("input", [], "", flag_values=fv)
    tf.flags.DEFINE_enum("mode", "train", ["train", "eval"], "", flag_values=fv)
    rest = fv(["prog", "--name=b", "--steps", "0x10", "--fast", "--noverbose", "pos", "--layers=64, 32",
               "--input=x", "--input", "y", "-mode=eval", "--", "--name=ignored"])
    assert rest == ["prog", "pos", "--name=ignored"]
    assert (fv.name, fv.steps, fv.fast, fv.verbose, fv.layers, fv.input, fv.mode) == (
        "b", 16, True, False, ["64", "32"], ["x", "y"], "eval")


def test_bad_values_and_unknown_flags_raise_the_absl_errors(fv):
    tf.flags.DEFINE_integer("steps", 1, "", lower_bound=0, flag_values=fv)
    tf.flags.DEFINE_enum("mode", "train", ["train", "eval"], "", flag_values=fv)
    with pytest.raises(tf.flags.IllegalFlagValueError, match="steps"):
        fv(["prog", "--steps=many"])
    with pytest.raises(tf.flags.IllegalFlagValueError, match="lower bound"):
        fv(["prog", "--steps=-1"])
    with pytest.raises(tf.flags.IllegalFlagValueError, match="one of <train|eval>"):
        fv(["prog", "--mode=test"])
    with pytest.raises(tf.flags.UnrecognizedFlagError, match="Unknown command line flag 'f'"):
        fv(["prog", "-f", "kernel.json"])
    assert fv(["prog", "-f", "kernel.json"], known_only=True) == ["prog", "-f", "kernel.json"]
    with pytest.raises(tf.flags.DuplicateFlagError):
        tf.flags.DEFINE_integer("steps", 2, "", flag_values=fv)
    with pytest.raises(TypeError):
        fv("prog --steps=1")


def test_reading_before_parsing_parses_sys_argv_and_ignores_a_kernels_arguments(fv, monkeypatch):
    monkeypatch.setattr("sys.argv", ["ipykernel_launcher.py", "-f", "/tmp/kernel.json", "--epochs=3"])
    tf.flags.DEFINE_integer("epochs", 1, "", flag_values=fv)
    assert not fv.is_parsed()
    assert fv.epochs == 3
    assert fv.is_parsed()


def test_assignment_validators_and_required(fv):
    tf.flags.DEFINE_integer("n", 1, "", flag_values=fv)
    tf.flags.DEFINE_string("out", None, "", flag_values=fv)
    tf.flags.DEFINE_string("a", None, "", flag_values=fv)
    tf.flags.DEFINE_string("b", None, "", flag_values=fv)
    tf.flags.register_validator("n", lambda v: v % 2 == 1, "n must be odd", flag_values=fv)
    tf.flags.mark_flags_as_mutual_exclusive(["a", "b"], flag_values=fv)
    fv(["prog", "--n=3"])
    fv.n = 5
    assert fv.n == 5
    with pytest.raises(tf.flags.IllegalFlagValueError, match="n must be odd"):
        fv.n = 4
    fv.n = 5
    with pytest.raises(tf.flags.IllegalFlagValueError, match="At most one"):
        fv(["prog", "--a=1", "--b=2"])
    with pytest.raises(AttributeError, match="no flag --missing"):
        fv.missing = 1
    fv.unparse_flags()
    tf.flags.mark_flag_as_required("out", flag_values=fv)
    with pytest.raises(tf.flags.IllegalFlagValueError, match="--out must have a value"):
        fv(["prog"])


def test_enum_class_and_multi_numbers(fv):
    class Color(enum.Enum):
        RED = 1
        BLUE = 2

    tf.flags.DEFINE_enum_class("color", Color.RED, Color, "", flag_values=fv)
    tf.flags.DEFINE_multi_integer("k", [1], "", flag_values=fv)
    tf.flags.DEFINE_multi_float("w", None, "", flag_values=fv)
    fv(["prog", "--color=blue", "--k=2", "--k=3", "--w=0.5"])
    assert (fv.color, fv.k, fv.w) == (Color.BLUE, [2, 3], [0.5])


def test_app_run_parses_known_flags_and_exits_with_main(monkeypatch):
    seen = []
    monkeypatch.setattr(flags_lib, "FLAGS", flags_lib.FlagValues())
    flags_lib.DEFINE_integer("runs", 1, "")

    def main(argv):
        seen.append((argv, flags_lib.FLAGS.runs))
        return 0

    with pytest.raises(SystemExit) as exit_info:
        tf.app.run(main=main, argv=["prog", "--runs=4", "--unknown=1", "extra"])
    assert exit_info.value.code == 0
    assert seen == [(["prog", "--unknown=1", "extra"], 4)]


def test_known_only_parsing_keeps_the_separator_as_absl_does(fv):
    tf.flags.DEFINE_integer("steps", 1, "", flag_values=fv)
    assert fv(["prog", "--steps=2", "a", "--", "--steps=5"], known_only=True) == ["prog", "a", "--", "--steps=5"]
    assert fv.steps == 2
    assert fv(["prog", "--", "--steps=5"]) == ["prog", "--steps=5"]
