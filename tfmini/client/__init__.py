"""Session, InteractiveSession, fetch/feed mapping, the engines behind them (`engine` is the seam,
`local_engine` the in-process one, registered here for target ''), tracing and the timeline."""

from tfmini.client import local_engine  # noqa: F401 - registers the in-process engine for target ''
