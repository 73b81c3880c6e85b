"""`riverbed ingest replay FILE TOPIC --log-times`: each line's record gets the time written in the
line, read by the reader an installed app adds (riverbed.line_times 'log': logwatch's)."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from pathlib import Path

from riverbed.cli import main
from riverbed.log import open_log
from riverbed.testing import read_topic

SPARK_LOG = Path(__file__).parents[1] / "data" / "logs" / "loghub" / "Spark_2k.log"


def test_replayed_lines_carry_their_own_times(tmp_path: Path) -> None:
    lines = SPARK_LOG.read_text().splitlines()[:20]
    (tmp_path / "spark.log").write_text("\n".join(lines) + "\n")
    with contextlib.redirect_stderr(io.StringIO()):
        code = main(["--home", str(tmp_path / "h"), "ingest", "replay", str(tmp_path / "spark.log"), "logs",
                     "--log-times"])
    assert code == 0
    with open_log(home=tmp_path / "h") as log:
        records = read_topic(log, "logs")
    assert [r.value.decode() for r in records] == lines
    # "17/06/09 20:10:40 INFO ...": yy/MM/dd HH:mm:ss, UTC
    def ms(line: str) -> int:
        t = dt.datetime.strptime(line[:17], "%y/%m/%d %H:%M:%S").replace(tzinfo=dt.UTC)
        return int(t.timestamp() * 1000)

    expected = [ms(ln) for ln in lines]
    assert [r.timestamp for r in records] == expected
