"""Writing a micro-batch to the lake: Parquet under <root>/date=YYYY-MM-DD/batch_id=N.

A replayed micro-batch must replace its own files, never add a second copy. Spark's dynamic
partition overwrite does that but costs a sort and a staged commit per write (2-3x a plain write
here). Nearly every micro-batch falls on one date, so the rows are written once, unsorted, to a
staging directory and renamed into place; only a batch spanning midnight is rewritten by date.
File operations go through Hadoop's FileSystem, so the root may be any URI Spark can write.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

STAGING = "_staging"  # Spark's partition discovery skips names starting with "_"


def _date(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")


class _Fs:
    """The few Hadoop FileSystem calls the lake needs, for the file system of `root`."""

    def __init__(self, spark: Any, root: str) -> None:
        jvm = spark._jvm
        self._path = jvm.org.apache.hadoop.fs.Path
        self.fs = self._path(root).getFileSystem(spark._jsc.hadoopConfiguration())

    def replace(self, src: str, dst: str) -> None:
        """Move directory `src` to `dst`, removing what `dst` held (a replayed batch's old files)."""
        d = self._path(dst)
        self.fs.delete(d, True)
        self.fs.mkdirs(d.getParent())
        if not self.fs.rename(self._path(src), d):
            raise OSError(f"could not move {src} to {dst}")

    def children(self, path: str) -> list[str]:
        return [str(s.getPath().getName()) for s in self.fs.listStatus(self._path(path))]

    def delete(self, path: str) -> None:
        self.fs.delete(self._path(path), True)


def write_batch(
    df: DataFrame, root: str, event_time: str, batch_id: int | str,
    span: Callable[[], tuple[int | None, int | None]],
) -> None:
    """Write `df` (one micro-batch's parsed rows) under `root`, replacing an earlier write of `batch_id`.

    `span()` is called after the first write and returns the min and max event time (epoch ms) of
    the rows written, e.g. from an Observation attached to `df`; (None, None) when there were none.
    """
    from pyspark.sql import functions as F

    root = root.rstrip("/")
    staging = f"{root}/{STAGING}/batch_id={batch_id}"
    fs = _Fs(df.sparkSession, root)
    fs.delete(staging)  # what a crashed earlier attempt left
    df.write.mode("overwrite").parquet(staging)
    lo, hi = span()
    if lo is None or hi is None:
        fs.delete(staging)
        return
    if _date(lo) == _date(hi):
        fs.replace(staging, f"{root}/date={_date(lo)}/batch_id={batch_id}")
        return
    fs.delete(staging)  # rows of several dates: write them again, one directory per date
    (df.withColumn("date", F.date_format(F.col(event_time), "yyyy-MM-dd"))
       .write.mode("overwrite").partitionBy("date").parquet(staging))
    for name in fs.children(staging):
        if name.startswith("date="):
            fs.replace(f"{staging}/{name}", f"{root}/{name}/batch_id={batch_id}")
    fs.delete(staging)
