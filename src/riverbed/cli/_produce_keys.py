"""How `riverbed produce` finds each line's key: a JSON field, a CSV column, a regex group, or one key.

    --key-field user                  each line is a JSON object; its "user" value
    --key-field 2                     each line is CSV; its 2nd column (1-based)
    --key-field user --csv-header     each line is CSV; the column the first line (not produced) names
    --key-regex 'user=(\\w+)'          the regex's first group (or whole match); no match: no key
    --key web-1                       the same key for every line
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable

KeyOf = Callable[[bytes], bytes | None]


class BadLine(ValueError):
    """A line that cannot become a record; the message is the reason."""


def csv_column(key_field: str) -> int | None:
    """The 0-based column a `--key-field` of digits names (1-based there); None for a field name."""
    return int(key_field) - 1 if key_field.isdigit() and int(key_field) >= 1 else None


def key_function(key_field: str | None, key: str | None, key_regex: str | None,
                 header: list[str] | None) -> KeyOf | None:
    """The function giving a line's key (None: the lines have no keys). `header`: the CSV header's
    columns when --csv-header is given (the key field is then looked up there)."""
    from riverbed.errors import InvalidArgument

    if key is not None:
        fixed = key.encode()
        return lambda _line: fixed
    if key_regex is not None:
        try:
            rx = re.compile(key_regex.encode())
        except re.error as e:
            raise InvalidArgument(f"--key-regex {key_regex!r}: {e}",
                                  hint="e.g. --key-regex 'user=(\\w+)'") from None
        return lambda line: (m.group(1) if rx.groups else m.group(0)) if (m := rx.search(line)) else None
    if key_field is None:
        return None
    if header is not None:
        column = csv_column(key_field)
        if column is None:
            if key_field not in header:
                raise InvalidArgument(f"--key-field {key_field!r}: the CSV header has no such column",
                                      hint="its columns: " + ", ".join(header))
            column = header.index(key_field)
        return lambda line: csv_key(line, column)
    column = csv_column(key_field)
    if column is not None:
        return lambda line: csv_key(line, column)
    return lambda line: json_key(line, key_field)


def csv_row(line: bytes) -> list[str]:
    """The fields of one CSV line (quotes as the csv module reads them)."""
    try:
        text = line.decode()
    except UnicodeDecodeError:
        raise BadLine("not valid UTF-8") from None
    return next(csv.reader([text]), [])


def csv_key(line: bytes, column: int) -> bytes:
    """The key of a CSV line: its `column` (0-based) as it is written."""
    row = csv_row(line)
    if column >= len(row):
        raise BadLine(f"no column {column + 1} (the line has {len(row)})")
    return row[column].encode()


def json_key(line: bytes, key_field: str) -> bytes:
    """The key of a JSON line: its `key_field` value (strings as-is, other values as compact JSON)."""
    try:
        obj = json.loads(line)
    except UnicodeDecodeError:
        raise BadLine("not valid UTF-8") from None
    except json.JSONDecodeError as e:
        raise BadLine(f"invalid JSON: {e.msg} at column {e.colno}") from None
    except RecursionError:
        raise BadLine("invalid JSON: nested too deeply") from None
    if not isinstance(obj, dict):
        raise BadLine(f"not a JSON object, so no field '{key_field}'")
    if key_field not in obj:
        raise BadLine(f"no field '{key_field}'")
    value = obj[key_field]
    if value is None:
        raise BadLine(f"field '{key_field}' is null")
    return (value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))).encode()
