"""`tf.flags` (also `tf.app.flags`): TF 1.x's command-line flags, the absl.flags API TF1 programs use.

`DEFINE_string("data_dir", "/tmp/data", "help")` declares a flag on the global `FLAGS`; `tf.app.run()` parses
`sys.argv` and calls `main(argv)` with the arguments left over. As TF 1.x's wrapper did, reading a flag before any
parse parses `sys.argv` first; unlike TF 1.x, that implicit parse ignores arguments it does not know, so a notebook
kernel's own arguments (`-f kernel.json`) do not make every flag read fail. An explicit `FLAGS(argv)` refuses
unknown flags with `UnrecognizedFlagError`, as absl does.

Accepted command-line forms: `--name=value`, `--name value`, `-name=value`, `--bool_flag`, `--nobool_flag`,
`--bool_flag=false`; `--` ends the flags.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from tfmini.framework.api_export import tf_export


@tf_export("flags.Error")
class Error(Exception):
    """The base class of flag errors."""


@tf_export("flags.IllegalFlagValueError")
class IllegalFlagValueError(Error):
    """A flag's value cannot be parsed or is outside what the flag allows."""


@tf_export("flags.UnrecognizedFlagError")
class UnrecognizedFlagError(Error):
    """The command line names a flag nobody defined."""

    def __init__(self, flagname: str, flagvalue: str = "") -> None:
        self.flagname = flagname
        self.flagvalue = flagvalue
        super().__init__(f"Unknown command line flag '{flagname}'")


@tf_export("flags.DuplicateFlagError")
class DuplicateFlagError(Error):
    """A flag of that name is defined already."""


@tf_export("flags.UnparsedFlagAccessError")
class UnparsedFlagAccessError(Error):
    """A flag was read before the command line was parsed (only with implicit parsing turned off)."""


@tf_export("flags.ValidationError")
class ValidationError(Error):
    """A validator registered on flags rejected their values."""


def _parse_bool(text: Any) -> bool:
    if isinstance(text, bool):
        return text
    lowered = str(text).strip().lower()
    if lowered in ("true", "t", "1", "yes", "y"):
        return True
    if lowered in ("false", "f", "0", "no", "n"):
        return False
    raise ValueError(f"Non-boolean argument to boolean flag: {text!r}")


@tf_export("flags.Flag")
class Flag:
    """One defined flag: its name, help, default, current value and how a command-line string becomes a value."""

    def __init__(self, name: str, default: Any, help: str, parse: Callable[[Any], Any],  # noqa: A002
                 boolean: bool = False, multi: bool = False, short_name: str | None = None) -> None:
        self.name = name
        self.help = help
        self.short_name = short_name
        self.boolean = boolean
        self.multi = multi
        self._parse = parse
        self.present = 0
        self.default = None if default is None else self.parse(default)
        self.value = self.default
        self.using_default_value = True

    def parse(self, argument: Any) -> Any:
        """The value an argument (a command-line string or a Python value) gives this flag."""
        try:
            if self.multi:
                items = argument if isinstance(argument, (list, tuple)) else [argument]
                return [self._parse(item) for item in items]
            return self._parse(argument)
        except (ValueError, TypeError) as exc:
            raise IllegalFlagValueError(f"flag --{self.name}={argument}: {exc}") from None

    def set_from_command_line(self, argument: Any) -> None:
        value = self.parse(argument)
        if self.multi and self.present:
            value = list(self.value or []) + value
        self.value = value
        self.present += 1
        self.using_default_value = False

    def __repr__(self) -> str:
        return f"<Flag --{self.name}={self.value!r}>"


@tf_export("flags.FlagValues")
class FlagValues:
    """A registry of flags: attribute access gives values, calling it with argv parses a command line."""

    def __init__(self) -> None:
        object.__setattr__(self, "_flags", {})
        object.__setattr__(self, "_parsed", False)
        object.__setattr__(self, "_implicit_parse", True)
        object.__setattr__(self, "_validators", [])

    # -- defining
    def _define(self, flag: Flag) -> Flag:
        if flag.name in self._flags:
            raise DuplicateFlagError(f"The flag '{flag.name}' is defined twice.")
        if flag.name in dir(type(self)):
            raise Error(f"The flag '{flag.name}' would shadow a method of FlagValues.")
        self._flags[flag.name] = flag
        if flag.short_name:
            self._flags[flag.short_name] = flag
        return flag

    def __contains__(self, name: str) -> bool:
        return name in self._flags

    def __iter__(self):
        return iter(dict.fromkeys(flag.name for flag in self._flags.values()))

    def __len__(self) -> int:
        return len(set(id(flag) for flag in self._flags.values()))

    def __delattr__(self, name: str) -> None:
        flag = self._flags.pop(name, None)
        if flag is None:
            raise AttributeError(name)
        for key in [k for k, v in self._flags.items() if v is flag]:
            del self._flags[key]

    # -- reading and writing values
    def __getattr__(self, name: str) -> Any:
        flags = self.__dict__["_flags"]
        if name not in flags:
            raise AttributeError(name)
        if not self.__dict__["_parsed"]:
            if not self.__dict__["_implicit_parse"]:
                raise UnparsedFlagAccessError(
                    f"Trying to access flag --{name} before flags were parsed."
                )
            self._parse_argv(sys.argv, known_only=True)
        return flags[name].value

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self._flags:
            raise AttributeError(f"no flag --{name} is defined; define it with a DEFINE_* function first")
        flag = self._flags[name]
        flag.value = value
        flag.using_default_value = False
        flag.present += 1
        self._check_validators()

    def __getitem__(self, name: str) -> Flag:
        return self._flags[name]

    def is_parsed(self) -> bool:
        return self._parsed

    def mark_as_parsed(self) -> None:
        object.__setattr__(self, "_parsed", True)

    def unparse_flags(self) -> None:
        """Resets every flag to its default and marks the command line as not parsed."""
        for flag in self._flags.values():
            flag.value = flag.default
            flag.present = 0
            flag.using_default_value = True
        object.__setattr__(self, "_parsed", False)

    def flag_values_dict(self) -> dict[str, Any]:
        return {name: self._flags[name].value for name in self}

    def get_flag_value(self, name: str, default: Any) -> Any:
        flag = self._flags.get(name)
        return default if flag is None else flag.value

    def set_default(self, name: str, value: Any) -> None:
        flag = self._flags[name]
        flag.default = flag.parse(value)
        if flag.using_default_value:
            flag.value = flag.default

    # -- parsing
    def __call__(self, argv: Sequence[str], known_only: bool = False) -> list[str]:
        """Parses the flags of `argv` (argv[0] is the program) and returns the program and what is left."""
        if isinstance(argv, str):
            raise TypeError("argv should be a tuple/list of strings, not bytes or string.")
        if not argv:
            raise ValueError("argv cannot be an empty list, and must contain the program name as the first element.")
        return self._parse_argv(argv, known_only=known_only)

    def _parse_argv(self, argv: Sequence[str], known_only: bool) -> list[str]:
        rest = [argv[0]]
        args = list(argv[1:])
        i = 0
        while i < len(args):
            arg = args[i]
            i += 1
            if arg == "--":
                # absl hands the separator on only when it tolerates unknown flags (as tf.app.run does).
                rest.extend(args[i - 1:] if known_only else args[i:])
                break
            if not arg.startswith("-") or arg == "-":
                rest.append(arg)
                continue
            body = arg.lstrip("-")
            name, has_value, value = body.partition("=")
            flag = self._flags.get(name)
            if flag is None and name.startswith("no") and not has_value:
                negated = self._flags.get(name[2:])
                if negated is not None and negated.boolean:
                    negated.set_from_command_line(False)
                    continue
            if flag is None:
                if known_only:
                    rest.append(arg)
                    continue
                raise UnrecognizedFlagError(name, value)
            if not has_value:
                if flag.boolean:
                    value = "true"
                elif i < len(args):
                    value = args[i]
                    i += 1
                else:
                    raise IllegalFlagValueError(f"flag --{name} needs a value")
            flag.set_from_command_line(value)
        object.__setattr__(self, "_parsed", True)
        self._check_validators()
        return rest

    # -- validators
    def _add_validator(self, names: tuple[str, ...], check: Callable[..., bool], message: str, multi: bool) -> None:
        for name in names:
            if name not in self._flags:
                raise KeyError(f"flag --{name} does not exist")
        self._validators.append((names, check, message, multi))

    def _check_validators(self) -> None:
        for names, check, message, multi in self._validators:
            if multi:
                ok = check({name: self._flags[name].value for name in names})
            else:
                ok = check(self._flags[names[0]].value)
            if not ok:
                raise IllegalFlagValueError(f"{', '.join('--' + n for n in names)}: {message}")

    def __repr__(self) -> str:
        return f"<FlagValues {self.flag_values_dict()!r}>"


FLAGS = FlagValues()
tf_export("flags.FLAGS").export_constant(__name__, "FLAGS")


def _define(parse: Callable[[Any], Any], name: str, default: Any, help: str, flag_values: FlagValues | None,  # noqa: A002
            boolean: bool = False, multi: bool = False, short_name: str | None = None) -> Flag:
    return (FLAGS if flag_values is None else flag_values)._define(
        Flag(name, default, help, parse, boolean=boolean, multi=multi, short_name=short_name)
    )


@tf_export("flags.DEFINE_string")
def DEFINE_string(name: str, default: str | None, help: str, flag_values: FlagValues | None = None,  # noqa: N802, A002
                  **args: Any) -> Flag:
    return _define(str, name, default, help, flag_values, short_name=args.get("short_name"))


@tf_export("flags.DEFINE_boolean", "flags.DEFINE_bool")
def DEFINE_boolean(name: str, default: bool | None, help: str, flag_values: FlagValues | None = None,  # noqa: N802, A002
                   **args: Any) -> Flag:
    return _define(_parse_bool, name, default, help, flag_values, boolean=True, short_name=args.get("short_name"))


DEFINE_bool = DEFINE_boolean


def _number(kind: type, lower_bound: Any, upper_bound: Any) -> Callable[[Any], Any]:
    def parse(text: Any) -> Any:
        if kind is int and isinstance(text, str):
            value = int(text, 0)
        elif kind is int and isinstance(text, float) and not text.is_integer():
            raise ValueError(f"{text!r} is not an integer")
        else:
            value = kind(text)
        if lower_bound is not None and value < lower_bound:
            raise ValueError(f"{value} is less than the lower bound {lower_bound}")
        if upper_bound is not None and value > upper_bound:
            raise ValueError(f"{value} is greater than the upper bound {upper_bound}")
        return value

    return parse


@tf_export("flags.DEFINE_integer")
def DEFINE_integer(name: str, default: int | None, help: str, lower_bound: int | None = None,  # noqa: N802, A002
                   upper_bound: int | None = None, flag_values: FlagValues | None = None, **args: Any) -> Flag:
    return _define(_number(int, lower_bound, upper_bound), name, default, help, flag_values,
                   short_name=args.get("short_name"))


@tf_export("flags.DEFINE_float")
def DEFINE_float(name: str, default: float | None, help: str, lower_bound: float | None = None,  # noqa: N802, A002
                 upper_bound: float | None = None, flag_values: FlagValues | None = None, **args: Any) -> Flag:
    return _define(_number(float, lower_bound, upper_bound), name, default, help, flag_values,
                   short_name=args.get("short_name"))


def _enum_parser(enum_values: Iterable[str], case_sensitive: bool) -> Callable[[Any], str]:
    allowed = list(enum_values)

    def parse(text: Any) -> str:
        text = str(text)
        for value in allowed:
            if value == text or (not case_sensitive and value.lower() == text.lower()):
                return value
        raise ValueError(f"value should be one of <{'|'.join(allowed)}>")

    return parse


@tf_export("flags.DEFINE_enum")
def DEFINE_enum(name: str, default: str | None, enum_values: Iterable[str], help: str,  # noqa: N802, A002
                flag_values: FlagValues | None = None, case_sensitive: bool = True, **args: Any) -> Flag:
    return _define(_enum_parser(enum_values, case_sensitive), name, default, help, flag_values,
                   short_name=args.get("short_name"))


@tf_export("flags.DEFINE_enum_class")
def DEFINE_enum_class(name: str, default: Any, enum_class: type[enum.Enum], help: str,  # noqa: N802, A002
                      flag_values: FlagValues | None = None, case_sensitive: bool = False, **args: Any) -> Flag:
    names = _enum_parser([member.name for member in enum_class], case_sensitive)

    def parse(text: Any) -> enum.Enum:
        return text if isinstance(text, enum_class) else enum_class[names(text)]

    return _define(parse, name, default, help, flag_values, short_name=args.get("short_name"))


def _split_list(separator: str | None) -> Callable[[Any], list[str]]:
    def parse(text: Any) -> list[str]:
        if isinstance(text, (list, tuple)):
            return [str(item) for item in text]
        text = str(text).strip()
        if not text:
            return []
        return [item.strip() for item in text.split(separator)] if separator else text.split()

    return parse


@tf_export("flags.DEFINE_list")
def DEFINE_list(name: str, default: Any, help: str, flag_values: FlagValues | None = None,  # noqa: N802, A002
                **args: Any) -> Flag:
    """A comma-separated list of strings (`--layers=64,32`)."""
    return _define(_split_list(","), name, default, help, flag_values, short_name=args.get("short_name"))


@tf_export("flags.DEFINE_spaceseplist")
def DEFINE_spaceseplist(name: str, default: Any, help: str, comma_compat: bool = False,  # noqa: N802, A002
                        flag_values: FlagValues | None = None, **args: Any) -> Flag:
    """A whitespace-separated list of strings (also comma-separated with `comma_compat`)."""
    split = _split_list(None)

    def parse(text: Any) -> list[str]:
        if comma_compat and isinstance(text, str):
            text = text.replace(",", " ")
        return split(text)

    return _define(parse, name, default, help, flag_values, short_name=args.get("short_name"))


def _define_multi(item: Callable[[Any], Any], name: str, default: Any, help: str,  # noqa: A002
                  flag_values: FlagValues | None, short_name: str | None) -> Flag:
    return _define(item, name, default, help, flag_values, multi=True, short_name=short_name)


@tf_export("flags.DEFINE_multi_string")
def DEFINE_multi_string(name: str, default: Any, help: str, flag_values: FlagValues | None = None,  # noqa: N802, A002
                        **args: Any) -> Flag:
    """A flag that may be given several times (`--input=a --input=b` gives `['a', 'b']`)."""
    return _define_multi(str, name, default, help, flag_values, args.get("short_name"))


@tf_export("flags.DEFINE_multi_integer")
def DEFINE_multi_integer(name: str, default: Any, help: str, lower_bound: int | None = None,  # noqa: N802, A002
                         upper_bound: int | None = None, flag_values: FlagValues | None = None,
                         **args: Any) -> Flag:
    return _define_multi(_number(int, lower_bound, upper_bound), name, default, help, flag_values,
                         args.get("short_name"))


@tf_export("flags.DEFINE_multi_float")
def DEFINE_multi_float(name: str, default: Any, help: str, lower_bound: float | None = None,  # noqa: N802, A002
                       upper_bound: float | None = None, flag_values: FlagValues | None = None,
                       **args: Any) -> Flag:
    return _define_multi(_number(float, lower_bound, upper_bound), name, default, help, flag_values,
                         args.get("short_name"))


@tf_export("flags.DEFINE_multi_enum")
def DEFINE_multi_enum(name: str, default: Any, enum_values: Iterable[str], help: str,  # noqa: N802, A002
                      flag_values: FlagValues | None = None, case_sensitive: bool = True, **args: Any) -> Flag:
    return _define_multi(_enum_parser(enum_values, case_sensitive), name, default, help, flag_values,
                         args.get("short_name"))


@tf_export("flags.register_validator")
def register_validator(flag_name: str, checker: Callable[[Any], bool], message: str = "Flag validation failed",
                       flag_values: FlagValues | None = None) -> None:
    """Checks `checker(value)` whenever the flag is parsed or set; a false result raises IllegalFlagValueError."""
    (FLAGS if flag_values is None else flag_values)._add_validator((flag_name,), checker, message, multi=False)


@tf_export("flags.validator")
def validator(flag_name: str, message: str = "Flag validation failed",
              flag_values: FlagValues | None = None) -> Callable[[Callable[[Any], bool]], Callable[[Any], bool]]:
    """`register_validator` as a decorator."""
    def decorate(checker: Callable[[Any], bool]) -> Callable[[Any], bool]:
        register_validator(flag_name, checker, message, flag_values)
        return checker

    return decorate


@tf_export("flags.register_multi_flags_validator")
def register_multi_flags_validator(flag_names: Sequence[str], multi_flags_checker: Callable[[dict], bool],
                                   message: str = "Flags validation failed",
                                   flag_values: FlagValues | None = None) -> None:
    """Checks `multi_flags_checker({name: value, ...})` over several flags."""
    (FLAGS if flag_values is None else flag_values)._add_validator(
        tuple(flag_names), multi_flags_checker, message, multi=True
    )


@tf_export("flags.mark_flag_as_required")
def mark_flag_as_required(flag_name: str, flag_values: FlagValues | None = None) -> None:
    """The flag must have a value (not None) once flags are parsed."""
    register_validator(flag_name, lambda value: value is not None,
                       f"Flag --{flag_name} must have a value other than None.", flag_values)


@tf_export("flags.mark_flags_as_required")
def mark_flags_as_required(flag_names: Iterable[str], flag_values: FlagValues | None = None) -> None:
    for flag_name in flag_names:
        mark_flag_as_required(flag_name, flag_values)


@tf_export("flags.mark_flags_as_mutual_exclusive")
def mark_flags_as_mutual_exclusive(flag_names: Sequence[str], required: bool = False,
                                   flag_values: FlagValues | None = None) -> None:
    """At most one (exactly one with `required`) of the flags may be other than None."""
    def check(values: dict) -> bool:
        given = sum(value is not None for value in values.values())
        return given == 1 if required else given <= 1

    register_multi_flags_validator(
        flag_names, check,
        f"{'Exactly' if required else 'At most'} one of ({', '.join(flag_names)}) must have a value other than None.",
        flag_values,
    )


@tf_export("app.run")
def run(main: Callable[[list[str]], Any] | None = None, argv: Sequence[str] | None = None) -> None:
    """Parses the flags of `argv` (default `sys.argv`), calls `main(remaining_argv)` and exits with its result."""
    args = list(sys.argv if argv is None else argv)
    remaining = FLAGS(args, known_only=True)
    main = main or sys.modules["__main__"].main
    sys.exit(main(remaining))
