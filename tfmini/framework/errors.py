"""TensorFlow's error classes (`tf.errors`): `OpError` and one subclass per canonical error code."""

from __future__ import annotations

from tfmini.framework.api_export import tf_export

OK = 0
CANCELLED = 1
UNKNOWN = 2
INVALID_ARGUMENT = 3
DEADLINE_EXCEEDED = 4
NOT_FOUND = 5
ALREADY_EXISTS = 6
PERMISSION_DENIED = 7
RESOURCE_EXHAUSTED = 8
FAILED_PRECONDITION = 9
ABORTED = 10
OUT_OF_RANGE = 11
UNIMPLEMENTED = 12
INTERNAL = 13
UNAVAILABLE = 14
DATA_LOSS = 15
UNAUTHENTICATED = 16

# tf.errors.OK, tf.errors.CANCELLED, ...
for _name in (
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
    "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
    "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"
):
    tf_export(f"errors.{_name}").export_constant(__name__, _name)
del _name


@tf_export("OpError", "errors.OpError")
class OpError(Exception):
    """A failure while running a graph: carries the failing op, its NodeDef and a canonical error code."""

    def __init__(self, node_def, op, message: str, error_code: int = UNKNOWN, *args) -> None:
        super().__init__(message, *args)
        self._node_def = node_def
        self._op = op
        self._message = message
        self._error_code = error_code

    def __reduce__(self):
        return type(self), (self._node_def, self._op, self._message, self._error_code)

    @property
    def message(self) -> str:
        return self._message

    @property
    def op(self):
        return self._op

    @property
    def node_def(self):
        if self._node_def is None and self._op is not None:
            return self._op.node_def
        return self._node_def

    @property
    def error_code(self) -> int:
        return self._error_code

    @property
    def experimental_payloads(self) -> dict:
        return {}

    def __str__(self) -> str:
        return self._message


def _subclass(name: str, code: int, doc: str) -> type:
    def __init__(self, node_def, op, message, *args):
        OpError.__init__(self, node_def, op, message, code, *args)

    def __reduce__(self):
        return type(self), (self._node_def, self._op, self._message)

    return type(name, (OpError,), {"__init__": __init__, "__reduce__": __reduce__, "__doc__": doc})


CancelledError = _subclass("CancelledError", CANCELLED, "An operation or step was cancelled.")
tf_export("errors.CancelledError")(CancelledError)
UnknownError = _subclass("UnknownError", UNKNOWN, "An error of unknown kind, e.g. an unexpected exception in a kernel.")
tf_export("errors.UnknownError")(UnknownError)
InvalidArgumentError = _subclass("InvalidArgumentError", INVALID_ARGUMENT, "An op received an invalid argument.")
tf_export("errors.InvalidArgumentError")(InvalidArgumentError)
DeadlineExceededError = _subclass(
    "DeadlineExceededError", DEADLINE_EXCEEDED, "A deadline expired before the step ended."
)
tf_export("errors.DeadlineExceededError")(DeadlineExceededError)
NotFoundError = _subclass("NotFoundError", NOT_FOUND, "A requested entity (file, handle, ...) was not found.")
tf_export("errors.NotFoundError")(NotFoundError)
AlreadyExistsError = _subclass("AlreadyExistsError", ALREADY_EXISTS, "An entity we tried to create already exists.")
tf_export("errors.AlreadyExistsError")(AlreadyExistsError)
PermissionDeniedError = _subclass("PermissionDeniedError", PERMISSION_DENIED, "The caller may not run the operation.")
tf_export("errors.PermissionDeniedError")(PermissionDeniedError)
UnauthenticatedError = _subclass("UnauthenticatedError", UNAUTHENTICATED, "The request lacks valid credentials.")
tf_export("errors.UnauthenticatedError")(UnauthenticatedError)
ResourceExhaustedError = _subclass("ResourceExhaustedError", RESOURCE_EXHAUSTED, "Some resource (memory, ...) ran out.")
tf_export("errors.ResourceExhaustedError")(ResourceExhaustedError)
FailedPreconditionError = _subclass(
    "FailedPreconditionError", FAILED_PRECONDITION, "The system is not in a state to run the op (e.g. uninitialized)."
)
tf_export("errors.FailedPreconditionError")(FailedPreconditionError)
AbortedError = _subclass("AbortedError", ABORTED, "The operation was aborted, typically by a concurrent action.")
tf_export("errors.AbortedError")(AbortedError)
OutOfRangeError = _subclass("OutOfRangeError", OUT_OF_RANGE, "The operation iterated past the valid input range.")
tf_export("errors.OutOfRangeError")(OutOfRangeError)
UnimplementedError = _subclass("UnimplementedError", UNIMPLEMENTED, "The operation is not implemented or supported.")
tf_export("errors.UnimplementedError")(UnimplementedError)
InternalError = _subclass("InternalError", INTERNAL, "An invariant of the system broke.")
tf_export("errors.InternalError")(InternalError)
UnavailableError = _subclass("UnavailableError", UNAVAILABLE, "The runtime is currently unavailable.")
tf_export("errors.UnavailableError")(UnavailableError)
DataLossError = _subclass("DataLossError", DATA_LOSS, "Unrecoverable data loss or corruption.")
tf_export("errors.DataLossError")(DataLossError)

_CODE_TO_CLASS = {
    CANCELLED: CancelledError,
    UNKNOWN: UnknownError,
    INVALID_ARGUMENT: InvalidArgumentError,
    DEADLINE_EXCEEDED: DeadlineExceededError,
    NOT_FOUND: NotFoundError,
    ALREADY_EXISTS: AlreadyExistsError,
    PERMISSION_DENIED: PermissionDeniedError,
    UNAUTHENTICATED: UnauthenticatedError,
    RESOURCE_EXHAUSTED: ResourceExhaustedError,
    FAILED_PRECONDITION: FailedPreconditionError,
    ABORTED: AbortedError,
    OUT_OF_RANGE: OutOfRangeError,
    UNIMPLEMENTED: UnimplementedError,
    INTERNAL: InternalError,
    UNAVAILABLE: UnavailableError,
    DATA_LOSS: DataLossError,
}


@tf_export("errors.exception_type_from_error_code")
def exception_type_from_error_code(error_code: int) -> type:
    return _CODE_TO_CLASS[error_code]


@tf_export("errors.error_code_from_exception_type")
def error_code_from_exception_type(cls: type) -> int:
    for code, klass in _CODE_TO_CLASS.items():
        if klass is cls:
            return code
    raise KeyError(cls)


__all__ = [name for name in dir() if name.isupper() or name.endswith("Error")] + [
    "exception_type_from_error_code",
    "error_code_from_exception_type",
]
