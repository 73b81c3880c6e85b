"""A worker SIGKILLed mid-stream: Spark re-runs its tasks on the other worker and the stream ends
with outputs exactly equal to the expected ones (no record lost, none counted twice)."""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

from test_cluster_logwatch import BOTH_MODES, OUTPUTS, fill, outputs, run_cli

from riverbed.apps.logwatch.parse import current_year, parse_line
from riverbed.pipeline.runner import Runner
from riverbed.store import open_store

DATA = Path(__file__).parent.parent / "data" / "logs" / "loghub"


def ordered_lines() -> list[bytes]:
    """~1,500 real lines in event-time order, so several micro-batches never make one late."""
    lines: list[str] = []
    for name in ("Hadoop_2k.log", "HDFS_2k.log", "OpenSSH_2k.log"):
        lines += (DATA / name).read_text(encoding="utf-8").splitlines()[:500]
    year = current_year()
    return [ln.encode() for ln in sorted(lines, key=lambda ln: parse_line(ln, default_year=year).time)]


def test_worker_killed_mid_stream_over_kafka(spark, spark_cluster, kafka_broker: str, tmp_path: Path) -> None:
    """Stream then batch on the cluster over the Kafka backend; a worker (and its executor) killed -9
    after the first micro-batches. Spark re-runs the lost tasks; the outputs are exactly the expected."""
    url, lines, topic = f"kafka://{kafka_broker}", ordered_lines(), f"logs-{uuid.uuid4().hex[:8]}"
    fill(url, topic, lines, partitions=1)
    local = Runner("logwatch", log=url, home=tmp_path / "local", spark=spark, topic=topic)
    local.batch(source="log")
    expected = outputs(tmp_path / "local")

    home, batch_home = tmp_path / "cluster", tmp_path / "cluster-batch"
    proc = run_cli(spark_cluster.master_url, home, url, topic, script=BOTH_MODES,
                   script_args=[str(batch_home), "150"], wait=False)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            if (home / "serving.db").exists():
                last = open_store(home=home).last_batch("logwatch")
                if last is not None and last >= 1:
                    break
            time.sleep(0.2)
        assert proc.poll() is None, proc.stderr.read()[-3000:]
        spark_cluster.kill_worker(0)  # the worker JVM and its executor, -9
        applied = open_store(home=home).state("logwatch")["records"]
        assert 0 < applied < len(lines), "the kill should come mid-stream"
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err[-4000:]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        spark_cluster.restart_worker(0)
    for got in (outputs(home), outputs(batch_home)):
        for name in OUTPUTS:
            assert got[name] == expected[name], name
    assert open_store(home=home).state("logwatch")["records"] == len(lines)
