"""riverbed's exceptions: one tree, each error says what was wrong and what to do.

    RiverbedError
    ├── ConfigError             a setting is missing or malformed
    ├── InvalidArgument         a caller passed a bad value (bad partition count, bad offset spec, ...)
    ├── LogError
    │   ├── TopicNotFound
    │   ├── TopicExists
    │   ├── OffsetOutOfRange    asked for an offset before the start (retention) or past the end
    │   ├── CorruptLogError     a stored file failed its checks; names the file (terminal)
    │   ├── LogFullError        the disk is full; nothing written was damaged (transient)
    │   ├── LogUnavailable      the broker/storage cannot be reached (transient)
    │   ├── LogWaitExpired      it stayed unreachable past the wait deadline (terminal)
    │   └── DataLoss            records a query needed were removed by retention first
    ├── CodeError               a pipeline's code fails on every record (a bug, not bad data)
    └── ...                     later layers add theirs here

`transient` tells callers whether a retry can help. Other libraries' exceptions are wrapped,
never leaked, so callers only ever catch riverbed's.
"""

from __future__ import annotations


class RiverbedError(Exception):
    """Base of every riverbed error. `hint` says what the user can do about it."""

    transient: bool = False

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(RiverbedError):
    """A setting is missing or malformed."""


class InvalidArgument(RiverbedError, ValueError):
    """A caller passed a value riverbed cannot use."""


class LogError(RiverbedError):
    """Something went wrong in the unified log."""


class TopicNotFound(LogError):
    def __init__(self, topic: str) -> None:
        super().__init__(
            f"topic '{topic}' does not exist",
            hint=f"create it with `riverbed topics create {topic} --partitions N`",
        )
        self.topic = topic


class TopicExists(LogError):
    def __init__(self, topic: str) -> None:
        super().__init__(f"topic '{topic}' already exists", hint="choose another name or delete it first")
        self.topic = topic


class OffsetOutOfRange(LogError):
    def __init__(self, topic: str, partition: int, offset: int, start: int, end: int) -> None:
        super().__init__(
            f"offset {offset} is out of range for {topic}[{partition}] (retained offsets {start}..{end})",
            hint="seek to the beginning or the end; records before the start were removed by retention",
        )
        self.topic, self.partition, self.offset, self.start, self.end = topic, partition, offset, start, end


class CorruptLogError(LogError):
    """A stored file failed its integrity checks. Never retried: the data is not read back wrong."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(
            f"corrupt log file {path}: {detail}",
            hint="restore the file from a replica or backup, or delete the topic; riverbed will not read it",
        )
        self.path = path


class LogFullError(LogError):
    transient = True

    def __init__(self, path: str, detail: str = "no space left on device") -> None:
        super().__init__(
            f"cannot append to {path}: {detail}",
            hint="free disk space or lower retention; records already written are intact",
        )
        self.path = path


class LogUnavailable(LogError):
    transient = True


class LogWaitExpired(LogError):
    """The log stayed unavailable past the deadline a stream waits for it (terminal: it was waited for)."""

    def __init__(self, where: str, what: str, waited_s: float, limit_s: float, last: BaseException) -> None:
        detail = getattr(last, "message", None) or str(last)  # its hint is the one below, reworded
        super().__init__(
            f"gave up after {waited_s:.0f} s (deadline {limit_s:g} s) waiting for the log at {where} "
            f"while {what}: {detail}",
            hint=f"is the broker at {where} running and reachable? a stream waits for it up to option "
            "brokerWaitMs (or RIVERBED_BROKER_WAIT seconds, default 300): raise it for longer outages",
        )
        self.where, self.what, self.waited_s = where, what, waited_s


class LogParseError(RiverbedError, ValueError):
    """A log line could not be parsed. The message is the short `reason`, used as the dead-letter reason."""

    def __init__(self, reason: str, line: str = "") -> None:
        super().__init__(reason, hint="route the line to the dead-letter topic; see riverbed.apps.logwatch")
        self.reason = reason
        self.line = line


class CodeError(RiverbedError):
    """A pipeline's own code fails on (nearly) every record, so not because of bad data: the run
    stops, naming the first failing record (riverbed.pipeline.quarantine)."""


class DataLoss(LogError):
    """Records a query needed were removed by retention before it read them."""

    def __init__(self, topic: str, partition: int, wanted: int, start: int) -> None:
        super().__init__(
            f"records {wanted}..{start - 1} of {topic}[{partition}] were removed (retention) before "
            f"they were read: the first retained offset is {start}",
            hint="set option failOnDataLoss=false to skip what was removed, or keep records longer",
        )
        self.topic, self.partition, self.wanted, self.start = topic, partition, wanted, start
