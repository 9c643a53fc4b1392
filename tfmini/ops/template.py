"""`tf.make_template`: a function wrapped so that it creates its variables (with tf.get_variable) on the first
call and reuses them on every later call, under one variable scope of its own."""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable

from tfmini.framework import ops as _ops
from tfmini.framework.api_export import tf_export
from tfmini.framework.tf_logging import info as _log_info
from tfmini.ops import variable_scope as _vs


def _skip_common_stack_elements(stacktrace: list, base_case: list) -> list:
    """The frames of `stacktrace` after the ones it shares with `base_case` (keeping the last shared one)."""
    for i, (trace, base) in enumerate(zip(stacktrace, base_case)):
        if trace != base:
            return stacktrace[i:]
    return stacktrace[-1:]


class Template:
    """A function whose variables are created on its first call and shared by the calls after it.

    The variable scope is made unique from `name` when the template is built (`create_scope_now=True`) or
    on its first call; each later call re-enters that scope with reuse, wherever it is called from.
    """

    def __init__(self, name, func: Callable, create_scope_now: bool = False, unique_name=None,
                 custom_getter=None) -> None:
        self._func = func
        self._stacktrace = traceback.format_stack()[:-2]
        self._name = name
        self._unique_name = unique_name
        self._custom_getter = custom_getter
        if name is None:
            raise ValueError("name cannot be None.")
        if create_scope_now:
            scope_name = self._unique_name or _vs._get_unique_variable_scope(self._name)
            with _vs._pure_variable_scope(scope_name, custom_getter=self._custom_getter) as vs:
                self._variable_scope = vs
        else:
            self._variable_scope = None
        self._variables_created = False
        self._first_call = True

    def _call_func(self, args, kwargs):
        try:
            trainable_at_start = len(_ops.get_collection(_ops.GraphKeys.TRAINABLE_VARIABLES))
            vars_at_start = len(_ops.get_collection(_ops.GraphKeys.GLOBAL_VARIABLES))
            result = self._func(*args, **kwargs)
            if self._variables_created:
                trainable = _ops.get_collection(_ops.GraphKeys.TRAINABLE_VARIABLES)
                if len(trainable) != trainable_at_start:
                    raise ValueError(
                        "Trainable variable created when calling a template after the first time, perhaps you "
                        f"used tf.Variable when you meant tf.get_variable: {trainable[trainable_at_start:]}")
                variables = _ops.get_collection(_ops.GraphKeys.GLOBAL_VARIABLES)
                if len(variables) != vars_at_start:
                    _log_info("New variables created when calling a template after the first time, perhaps you "
                              "used tf.Variable when you meant tf.get_variable: %s", variables[vars_at_start:])
            else:
                self._variables_created = True
            return result
        except Exception as exc:
            # Say where the template was made: the error usually comes from how its function was written.
            trace = "".join(_skip_common_stack_elements(self._stacktrace, traceback.format_stack()))
            first = exc.args[0] if exc.args else ""
            exc.args = (f"{first}\n\noriginally defined at:\n{trace}", *exc.args[1:])
            raise

    def __call__(self, *args, **kwargs):
        if self._variable_scope is not None:
            # The scope exists (made at construction, or on the first call): reuse once variables exist.
            with _vs.variable_scope(self._variable_scope, reuse=not self._first_call):
                try:
                    return self._call_func(args, kwargs)
                finally:
                    self._first_call = False
        with _vs.variable_scope(self._unique_name, self._name, custom_getter=self._custom_getter) as vs:
            self._variable_scope = vs
            try:
                return self._call_func(args, kwargs)
            finally:
                self._first_call = False

    @property
    def name(self) -> str:
        return self._name

    @property
    def func(self) -> Callable:
        return self._func

    @property
    def variable_scope(self):
        """The template's VariableScope (None until the first call unless it was created at construction)."""
        return self._variable_scope

    @property
    def variable_scope_name(self) -> str | None:
        if self._variable_scope is None:
            return None
        name = self._variable_scope.name
        return name if not name or name.endswith("/") else name + "/"

    @property
    def variables(self) -> list:
        """The global variables created under the template's scope."""
        return self.global_variables

    @property
    def trainable_variables(self) -> list:
        if not self._variables_created:
            return []
        return _ops.get_collection(_ops.GraphKeys.TRAINABLE_VARIABLES, self.variable_scope_name)

    @property
    def non_trainable_variables(self) -> list:
        trainable = {id(v) for v in self.trainable_variables}
        return [v for v in self.global_variables if id(v) not in trainable]

    @property
    def global_variables(self) -> list:
        if not self._variables_created:
            return []
        return _ops.get_collection(_ops.GraphKeys.GLOBAL_VARIABLES, self.variable_scope_name)

    @property
    def local_variables(self) -> list:
        if not self._variables_created:
            return []
        return _ops.get_collection(_ops.GraphKeys.LOCAL_VARIABLES, self.variable_scope_name)

    @property
    def weights(self) -> list:
        return self.trainable_variables + self.non_trainable_variables

    @property
    def trainable_weights(self) -> list:
        return self.trainable_variables

    @property
    def non_trainable_weights(self) -> list:
        return self.non_trainable_variables

    @property
    def var_scope(self):
        """The deprecated name of `variable_scope`."""
        return self._variable_scope


@tf_export("make_template")
def make_template(name_, func_, create_scope_now_=False, unique_name_=None, custom_getter_=None, **kwargs):
    """`tf.make_template`: `func_` (with `kwargs` bound) as a Template, which creates its variables on the
    first call, in a variable scope made unique from `name_` (or exactly `unique_name_`), and reuses them on
    every later call. Creating a trainable variable after the first call is a ValueError."""
    if kwargs:
        func_ = functools.partial(func_, **kwargs)
    return Template(name_, func_, create_scope_now=create_scope_now_, unique_name=unique_name_,
                    custom_getter=custom_getter_)
