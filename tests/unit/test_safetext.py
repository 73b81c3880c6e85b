"""User text is printed as text: control characters, terminal escapes and bidi overrides escaped."""

from __future__ import annotations

import io

from riverbed.cli.consume import _terminal_line
from riverbed.log import LogRecord
from riverbed.safetext import SafeStream, is_printable, printable, printable_bytes


def test_printable_escapes_controls_and_terminal_sequences() -> None:
    assert printable("a\x0bb") == "a\\x0bb"
    assert printable("\x1b[2Jred") == "\\x1b[2Jred"
    assert printable("x\u202ey\u2028z") == "x\\u202ey\\u2028z"
    assert printable("c1\x9b31m del\x7f") == "c1\\x9b31m del\\x7f"
    assert printable("bad\udcffbyte") == "bad\\udcffbyte"
    assert printable("plain ünïcode 日本 tab\tend") == "plain ünïcode 日本 tab\\x09end"
    assert printable("two\nlines\x1b", keep="\n") == "two\nlines\\x1b"
    assert is_printable("fine ü") and not is_printable("a\nb") and is_printable("a\nb", "\n")


def test_printable_bytes_shows_undecodable_bytes() -> None:
    assert printable_bytes(b"ok \xff\x1b[0m") == "ok \\xff\\x1b[0m"


def test_safe_stream_keeps_newlines_and_escapes_the_rest() -> None:
    buf = io.StringIO()
    SafeStream(buf).write("line\x1b]0;pwned\x07\nnext\tcol\n")
    assert buf.getvalue() == "line\\x1b]0;pwned\\x07\nnext\tcol\n"


def test_consume_on_a_terminal_prints_one_escaped_line_per_record() -> None:
    r = LogRecord(topic="t", partition=0, offset=0, key=None, value=b"a\nb\x1b[31m\xff", timestamp=0,
                  headers=())
    assert _terminal_line(r) == b"a\\x0ab\\x1b[31m\\xff\n"
