"""User-supplied text made safe to print: control characters and terminal escapes shown as escapes.

Arguments, field names, file names and record contents reach messages and terminals. Printed as
they are, a vertical tab or a newline splits one message into several lines, and an ESC sequence
(`\\x1b[2J`, a title change, a hyperlink) acts on the user's terminal. `printable` shows each such
character as a Python-style escape (`\\x0b`, `\\x1b`, `\\u202e`), so the message stays one line and
the terminal only ever receives text.
"""

from __future__ import annotations

import re
import sys
from typing import Any, TextIO

#: C0 controls, DEL, C1 controls, line/paragraph separators, bidi overrides and isolates, the BOM,
#: and lone surrogates (undecodable argv bytes under surrogateescape)
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                     "\ufeff\ud800-\udfff]")


def _escape(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def printable(text: str, keep: str = "") -> str:
    """`text` with every control character, terminal escape and bidi override shown as an escape;
    the characters in `keep` (e.g. "\\n" for a message of several lines riverbed wrote) stay."""
    if not keep:
        return _UNSAFE.sub(_escape, text)
    return _UNSAFE.sub(lambda m: m.group() if m.group() in keep else _escape(m), text)


def printable_bytes(data: bytes, keep: str = "\t") -> str:
    """Bytes (a record's value) as printable text: UTF-8 where it decodes, `\\xNN` where it does not."""
    return printable(data.decode("utf-8", "backslashreplace"), keep)


def is_printable(text: str, keep: str = "") -> bool:
    """True when `printable(text, keep)` would change nothing."""
    return all(c in keep for c in _UNSAFE.findall(text))


class SafeStream:
    """A text stream that escapes what `printable` escapes (keeping newlines and tabs) before
    writing to the stream it wraps; everything else (buffer, fileno, isatty) passes through.

    The CLI wraps stdout and stderr with it for the length of a command, so no message, table or
    note can carry a control character to the terminal, whichever code path printed it."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(printable(text, "\n\t"))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def guard_std_streams() -> Any:
    """Wrap sys.stdout and sys.stderr in `SafeStream`; returns a function restoring them."""
    out, err = sys.stdout, sys.stderr
    sys.stdout = SafeStream(out)  # type: ignore[assignment]
    sys.stderr = SafeStream(err)  # type: ignore[assignment]

    def restore() -> None:
        if isinstance(sys.stdout, SafeStream):
            sys.stdout = out
        if isinstance(sys.stderr, SafeStream):
            sys.stderr = err

    return restore
