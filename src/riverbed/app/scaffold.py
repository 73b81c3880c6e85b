"""`riverbed new NAME`: a small app project that runs and passes its own test out of the box.

    NAME/app.py            the pipeline: "user,amount" lines -> total and count per user per minute
    NAME/tests/test_app.py its test, with riverbed.testing (stream and batch agree)
    NAME/data/payments.csv sample input
    NAME/pyproject.toml    [tool.riverbed.apps] NAME = "app.py", so `riverbed run NAME` works there
    NAME/README.md         the commands, from producing the sample to the dashboard
"""

from __future__ import annotations

import re
from pathlib import Path

from riverbed.errors import InvalidArgument

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")

APP = '''\
"""{name}: total amount and number of payments per user per 1-minute window, from "user,amount" lines.

Run it:  riverbed run app.py            (a stream over topic 'payments'; Ctrl-C stops)
         riverbed run app.py --mode batch
Test it: python -m pytest tests
"""

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from riverbed import Output, Pipeline, parse


def transform(df: DataFrame) -> dict[str, DataFrame]:
    """Per user and minute: the total amount and the number of payments (partials riverbed merges)."""
    per_minute = df.groupBy(F.window("time", "1 minute").start.alias("window_start"), "user")
    return {{"totals": per_minute.agg(F.sum("amount").alias("total"), F.count("*").alias("payments"))}}


pipeline = Pipeline(
    name="{name}",
    topics=["payments"],
    # each record is a line "user,amount"; its time is the log's (event_time="log", the column `time`);
    # a line that does not fit goes to the dead-letter topic payments.dlq with the reason
    parse=parse.csv("user string, amount double"),
    transform=transform,
    outputs=[Output("totals", keys=["window_start", "user"], measures={{"total": "sum", "payments": "sum"}})],
    description="total amount and payments per user per minute",
)
'''

TEST = '''\
"""The pipeline over the sample data: as a stream (micro-batches of 2 records) and as a batch over
the same log, with the same rows both ways. `riverbed_spark` is riverbed's pytest fixture: one
SparkSession for the whole test run."""

from pathlib import Path

from riverbed.testing import assert_stream_equals_batch

APP = Path(__file__).parents[1] / "app.py"
LINES = (Path(__file__).parents[1] / "data" / "payments.csv").read_text().splitlines()


def per_user(rows):
    """Totals per user over every window (the sample's lines may straddle a minute)."""
    out = {{}}
    for r in rows:
        total, n = out.get(r["user"], (0.0, 0))
        out[r["user"]] = (round(total + r["total"], 2), n + r["payments"])
    return out


def test_totals_per_user_stream_and_batch(riverbed_spark):
    result = assert_stream_equals_batch(APP, LINES, batch_size=2, spark=riverbed_spark)
    assert per_user(result.rows("totals")) == {{"alice": (12.5, 2), "bob": (7.25, 2), "carol": (1.0, 1)}}
    assert sorted(d["value"] for d in result.dead_letters) == ["bob,not-a-number", "just one field"]
'''

DATA = "alice,10.5\nbob,3\nalice,2\njust one field\nbob,4.25\nbob,not-a-number\ncarol,1\n"

PYPROJECT = '''\
[project]
name = "{name}"
version = "0.1.0"
description = "A riverbed app: total amount per user per minute"
requires-python = ">=3.11"

# `riverbed run {name}` (and every other command) finds the app by name in this folder
[tool.riverbed.apps]
{name} = "app.py"
'''

README = '''\
# {name}

A [riverbed](https://pypi.org/project/riverbed/) app: the total amount and number of payments per
user per 1-minute window, from `user,amount` lines, the same code as a stream and as a batch.

```sh
riverbed topics create payments --partitions 2
riverbed produce payments --file data/payments.csv      # 2 bad lines go to payments.dlq
riverbed run app.py --available-now                     # the stream, until it has read everything
riverbed query totals                                   # the serving store's rows
riverbed run app.py --mode batch                        # the same outputs, recomputed at rest
riverbed consume payments.dlq --headers --json          # the bad lines and why
riverbed serve                                          # the dashboard, with this app's panels
python -m pytest tests                                  # its test: stream and batch agree
```

Change the code and reprocess the retained log into a new version, then switch to it:

```sh
riverbed reprocess {name} --version v2 --available-now
riverbed versions {name}
riverbed switch {name} v2
```
'''


def scaffold(name: str, where: Path) -> Path:
    """Write the app project `name` under `where`; refuses to overwrite anything."""
    if not _NAME.fullmatch(name):
        raise InvalidArgument(f"{name[:80]!r} is not an app name",
                              hint="start with a letter; then letters, digits, '_' or '-' (at most 64)")
    root = where / name
    if root.exists() and any(root.iterdir()):
        raise InvalidArgument(f"{root} exists and is not empty", hint="choose another name or --dir")
    files = {
        "app.py": APP.format(name=name),
        "tests/test_app.py": TEST.format(),
        "data/payments.csv": DATA,
        "pyproject.toml": PYPROJECT.format(name=name),
        "README.md": README.format(name=name),
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root
