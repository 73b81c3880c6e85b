"""The SparkSession factory: `local[*]` by default, any cluster master by configuration.

    >>> from riverbed.spark import get_spark
    >>> spark = get_spark()                                   # doctest: +SKIP
    >>> spark.readStream.format("riverbed").option("topic", "logs").load()   # doctest: +SKIP

Master: argument > $RIVERBED_SPARK_MASTER > "local[*]". The session is quiet (WARN and up, no
progress bars), runs in UTC with Arrow on, and has the "riverbed" data source registered.
The JVM jars of `make jars` (Spark's Kafka connector, Delta Lake) go on spark.jars (`jars.py`).
With a cluster master, riverbed itself is shipped to the executors (a zip in spark.submit.pyFiles);
its dependencies (pyarrow, confluent-kafka, ...) must be installed on the workers (docs/deploy.md).
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from riverbed.errors import ConfigError
from riverbed.spark import jars

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

ENV_SPARK_MASTER = "RIVERBED_SPARK_MASTER"
DEFAULT_MASTER = "local[*]"
_MASTER_PREFIXES = ("local", "spark://", "k8s://", "yarn", "mesos://")

#: Settings for every session; `conf` passed to `get_spark` wins over these.
BASE_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.execution.arrow.pyspark.fallback.enabled": "true",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.streaming.forceDeleteTempCheckpointLocation": "true",
    # a micro-batch is cached for the few jobs that read it, then dropped: building the cache
    # uncompressed is ~10% faster per micro-batch (YSB, 100k events) for short-lived memory (a
    # batch job's cache of a whole dataset takes more memory too, and spills to disk sooner)
    "spark.sql.inMemoryColumnarStorage.compressed": "false",
    # Parquet's own timestamp type (INT64 microseconds: what pyarrow, DuckDB and Polars read as
    # such), not Spark's legacy INT96; lakes holding both read as one. Also cheaper to write: a
    # 100,000-event YSB micro-batch's Parquet write 114 -> 102 ms (warm, from the cache)
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
}

#: Extra settings for `local[...]` masters: one machine, few cores.
LOCAL_CONF: dict[str, str] = {
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.driver.memory": "2g",
    "spark.sql.adaptive.coalescePartitions.enabled": "true",
    # Python workers (the log source's reads, Python UDFs) talk to the JVM over Unix domain sockets,
    # not TCP: over TCP each task's worker waited ~40 ms for the JVM's first bytes (small writes
    # held back for an acknowledgement); a 5,000-event YSB micro-batch 130 -> 96 ms of jobs
    "spark.python.unix.domain.socket.enabled": "true",
    # pyspark's daemon, but quiet when the JVM hangs up on a worker of an abandoned task
    # (riverbed.spark.daemon); local only, where workers import this riverbed
    "spark.python.daemon.module": "riverbed.spark.daemon",
}

# Log4j 2 settings that keep the console to warnings and errors from the very first line.
_LOG4J2 = """\
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n%ex
logger.jetty.name = org.sparkproject.jetty
logger.jetty.level = error
logger.nativeloader.name = org.apache.hadoop.util.NativeCodeLoader
logger.nativeloader.level = error
logger.sparkenv.name = org.apache.spark.SparkEnv
logger.sparkenv.level = error
logger.utils.name = org.apache.spark.util.Utils
logger.utils.level = error
logger.aqe.name = org.apache.spark.sql.execution.streaming.runtime.ResolveWriteToStream
logger.aqe.level = error
logger.microbatch.name = org.apache.spark.sql.execution.streaming.runtime.MicroBatchExecution
logger.microbatch.level = error
logger.dag.name = org.apache.spark.scheduler.DAGScheduler
logger.dag.level = error
"""


def resolve_master(master: str | None = None) -> str:
    """The Spark master: `master` > $RIVERBED_SPARK_MASTER > "local[*]"; checked for a known scheme."""
    value = (master or os.environ.get(ENV_SPARK_MASTER) or DEFAULT_MASTER).strip()
    if not value.startswith(_MASTER_PREFIXES):
        raise ConfigError(
            f"unknown Spark master {value!r}",
            hint=f"use local[*], spark://HOST:PORT, k8s://https://HOST:PORT or yarn (${ENV_SPARK_MASTER})",
        )
    return value


def _log4j_file() -> Path:
    """Write (once) the quiet log4j2 config to a temp file the driver JVM reads at start-up."""
    path = Path(tempfile.gettempdir()) / f"riverbed-log4j2-{os.getuid()}.properties"
    if not path.exists() or path.read_text() != _LOG4J2:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(_LOG4J2)
        tmp.replace(path)
    return path


def session_conf(master: str, conf: dict[str, str] | None = None) -> dict[str, str]:
    """All settings a new session gets for `master`, `conf` overriding the defaults."""
    merged = dict(BASE_CONF)
    if master.startswith("local"):
        merged.update(LOCAL_CONF)
    log4j = f"-Dlog4j.configurationFile=file:{_log4j_file()}"
    merged["spark.driver.extraJavaOptions"] = log4j
    for key, value in (conf or {}).items():
        if key == "spark.driver.extraJavaOptions":
            value = f"{log4j} {value}"
        merged[key] = str(value)
    merged.update(jars.spark_conf(merged))
    if master.startswith("local"):  # one JVM: the driver's class path reaches the tasks
        from riverbed.spark.localfs import spark_conf

        merged.update(spark_conf(merged))
    return merged


#: Set to "true" to keep adaptive query execution in streaming micro-batches (see `tune_microbatch`).
MICROBATCH_ADAPTIVE = "spark.riverbed.microbatch.adaptive"


_LOCAL_MASTER = re.compile(r"local(?:\[(\d+|\*)(?:,\s*\d+)?\])?$")


def task_slots(spark: SparkSession) -> int:
    """How many tasks run at once: N for `local[N]` (the cores this process may use for
    `local[*]`, 1 for `local`), else Spark's default parallelism (the executors' cores in all,
    unless spark.default.parallelism says otherwise). Local sessions set a default parallelism of
    4 whatever the cores, so it is no measure of them there."""
    m = _LOCAL_MASTER.match(spark.sparkContext.master)
    if m is None:
        return max(spark.sparkContext.defaultParallelism, 1)
    if m.group(1) is None:
        return 1
    if m.group(1) == "*":
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(int(m.group(1)), 1)


def tune_microbatch(session: SparkSession) -> None:
    """Settings for the session a streaming query's micro-batches run in (Spark clones one per query).

    Adaptive execution goes off: it plans and runs every shuffle stage as a job of its own, a fixed
    ~0.1 s per micro-batch that small batches never win back (YSB: 65,600 -> 71,900 events/s).
    Shuffle partitions are capped at the task slots (`task_slots`), as AQE's coalescing would have done.
    `spark.riverbed.microbatch.adaptive=true` keeps the session's own settings.
    """
    conf = session.conf
    if (conf.get(MICROBATCH_ADAPTIVE, "false") or "").lower() == "true":
        return
    conf.set("spark.sql.adaptive.enabled", "false")
    cores = task_slots(session)
    if int(conf.get("spark.sql.shuffle.partitions") or cores) > cores:
        conf.set("spark.sql.shuffle.partitions", str(cores))


def package_zip() -> Path:
    """A zip of the installed `riverbed` package for executors, built once per content hash."""
    import riverbed

    root = Path(riverbed.__file__).parent
    files = sorted(f for f in root.rglob("*") if f.is_file() and "__pycache__" not in f.parts)
    digest = hashlib.sha256()
    for f in files:
        digest.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes())
    path = Path(tempfile.gettempdir()) / f"riverbed-{os.getuid()}-{digest.hexdigest()[:16]}.zip"
    if not path.exists():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in files:
                zf.write(f, Path("riverbed") / f.relative_to(root))
        tmp.replace(path)
    return path


def _same_machine(master: str) -> bool:
    """Whether a spark:// master runs on this machine (its executors can run this interpreter)."""
    if not master.startswith("spark://"):
        return False
    hosts = [h.rsplit(":", 1)[0] for h in master[len("spark://"):].split(",")]
    here = {"127.0.0.1", "localhost", "::1", socket.gethostname(), socket.getfqdn()}
    return all(h in here for h in hosts)


def ship_conf(master: str, conf: dict[str, str]) -> dict[str, str]:
    """Cluster settings that ship riverbed to executors; the caller's `conf` wins where it says more."""
    if master.startswith("local"):
        return {}
    extra: dict[str, str] = {}
    zipped = str(package_zip())
    given = conf.get("spark.submit.pyFiles", "")
    extra["spark.submit.pyFiles"] = f"{zipped},{given}" if given else zipped
    return extra


def get_spark(
    master: str | None = None,
    app_name: str = "riverbed",
    conf: dict[str, str] | None = None,
) -> SparkSession:
    """The active SparkSession, or a new one for `master`; the riverbed data source is registered.

    An already running session is returned as it is (Spark allows one per process): `master`
    and `conf` only apply to a new one.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as e:  # pragma: no cover - pyspark is a hard dependency
        raise ConfigError("pyspark is not installed", hint="pip install 'pyspark==4.2.0'") from e

    spark = SparkSession.getActiveSession()
    if spark is None:
        resolved = resolve_master(master)
        if resolved.startswith("local") or _same_machine(resolved):
            # Python workers must run this interpreter (with riverbed installed), not "python3";
            # PySpark reads $PYSPARK_PYTHON for every Python worker, driver-side planning included.
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        builder = SparkSession.builder.master(resolved).appName(app_name)
        settings = session_conf(resolved, conf)
        settings.update(ship_conf(resolved, settings))
        for key, value in settings.items():
            builder = builder.config(key, value)
        try:
            _launch_jvm(resolved, app_name, settings)
            spark = builder.getOrCreate()
        except Exception as e:
            raise ConfigError(
                f"could not start Spark with master {resolved!r}: {e}",
                hint="check that Java 17 is installed and the master is reachable",
            ) from e
        spark.sparkContext.setLogLevel("WARN")
    register_source(spark)
    return spark


def _launch_jvm(master: str, app_name: str, settings: dict[str, str]) -> None:
    """Start the driver JVM (if none runs) with the session's settings, its stderr filtered of
    pyspark's worker BrokenPipe noise (riverbed.spark.console)."""
    from pyspark import SparkConf

    from riverbed.spark.console import launch_gateway

    conf = SparkConf().setMaster(master).setAppName(app_name)
    for key, value in settings.items():
        conf.set(key, value)
    launch_gateway(conf)


def register_source(spark: SparkSession) -> None:
    """Register the "riverbed" data source, with the default log resolved here on the driver."""
    from riverbed.spark.datasource import source_class

    spark.dataSource.register(source_class())
