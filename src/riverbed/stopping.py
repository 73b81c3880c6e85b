"""How a long-running command stops: SIGINT and SIGTERM end it cleanly, and the exit status says which.

A command that can finish cleanly (stop a streaming query between micro-batches, flush an ingest
batch, close a server) wraps its loop in `on_signals(stop)`: the signal only records itself and
calls `stop()`, so it never lands as an exception in the middle of a py4j call or a log write.
Anywhere else, `raise_on_signals()` (installed by the CLI's `main`) turns either signal into
`Interrupted`, a KeyboardInterrupt that knows its signal. Either way `received()` tells the CLI
which signal stopped the command, and `exit_status()` gives 128 + its number (130 SIGINT, 143
SIGTERM), as a shell reports a process killed by it.

    >>> with on_signals(stop_event.set):                                    # doctest: +SKIP
    ...     while not stop_event.is_set(): work()
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator

SIGNALS = (signal.SIGINT, signal.SIGTERM)

_received: list[int] = []  # the first stop signal of this process, if any


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived where no clean stop was set up; carries the signal's number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def received() -> int | None:
    """The signal that asked this process to stop (the first one), or None."""
    return _received[0] if _received else None


def reset() -> None:
    """Forget a received signal (a new command in the same process, as in the tests)."""
    _received.clear()


def note(signum: int) -> None:
    """Record that `signum` asked this process to stop."""
    if not _received:
        _received.append(signum)


def exit_status(signum: int | None = None) -> int:
    """128 + the stop signal's number (130 for SIGINT, 143 for SIGTERM); 0 when none arrived."""
    signum = signum if signum is not None else received()
    return 0 if signum is None else 128 + int(signum)


def describe(signum: int) -> str:
    """The signal's name, e.g. 'SIGINT'."""
    return signal.Signals(signum).name


@contextlib.contextmanager
def on_signals(stop: Callable[[], None]) -> Iterator[None]:
    """While inside, SIGINT and SIGTERM record themselves and call `stop()` instead of raising
    (outside the main thread, where signals cannot be handled, nothing changes).

    `stop()` runs in a thread of its own: the handler interrupts the main thread anywhere, maybe
    holding the very lock `stop()` takes (a threading.Event's, say), and calling it there would
    deadlock."""

    def handler(signum: int, _frame: object) -> None:
        note(signum)
        threading.Thread(target=stop, name="riverbed-stop", daemon=True).start()

    with _handlers(handler):
        yield


def raise_on_signals() -> Callable[[], None]:
    """SIGINT and SIGTERM raise `Interrupted` from now on; returns a function restoring the handlers."""

    def handler(signum: int, _frame: object) -> None:
        note(signum)
        raise Interrupted(signum)

    stack = contextlib.ExitStack()
    stack.enter_context(_handlers(handler))
    return stack.close


@contextlib.contextmanager
def _handlers(handler: Callable[[int, object], None]) -> Iterator[None]:
    """`handler` for SIGINT and SIGTERM while inside (main thread only); the previous ones after."""
    previous: dict[int, object] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in SIGNALS:
            previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)  # type: ignore[arg-type]
