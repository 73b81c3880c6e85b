"""logwatch on a real Spark standalone cluster (`--master spark://...`), stream and batch: the outputs
equal the local-mode ones, and the log's partitions are read in tasks on the executors of both workers
(Spark's event log says where every task ran), not on the driver. The Kafka backend's cluster run is
in test_cluster_faults.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from riverbed.log import TopicConfig, open_log
from riverbed.pipeline.runner import Runner
from riverbed.testing.spark_cluster import SparkCluster

DATA = Path(__file__).parent.parent / "data" / "logs" / "loghub"
OUTPUTS = ["level_counts", "component_counts", "top_errors", "component_errors"]


def sample_lines(per_file: int = 600) -> list[bytes]:
    """Real lines of three formats (Hadoop, HDFS, OpenSSH)."""
    lines: list[bytes] = []
    for name in ("Hadoop_2k.log", "HDFS_2k.log", "OpenSSH_2k.log"):
        lines += [ln.encode() for ln in (DATA / name).read_text(encoding="utf-8").splitlines()[:per_file]]
    return lines


def fill(url: str, topic: str, lines: list[bytes], partitions: int) -> None:
    with open_log(url) as log:
        log.create_topic(topic, TopicConfig(partitions=partitions))
        for i in range(0, len(lines), 300):  # several appends: records spread over the partitions
            log.append_values(topic, lines[i : i + 300])


def outputs(home: Path) -> dict[str, list[dict]]:
    from riverbed.store import open_store

    store = open_store(home=home)
    return {n: store.rows(n) for n in OUTPUTS}


BOTH_MODES = """
import sys
from riverbed.pipeline.runner import Runner
master, home, url, topic, batch_home = sys.argv[1:6]
per_trigger = int(sys.argv[6]) if len(sys.argv) > 6 else None
stream = Runner("logwatch", log=url, home=home, master=master, topic=topic)
stream.start_stream(trigger_ms=0, available_now=True, max_records_per_trigger=per_trigger).wait()
Runner("logwatch", log=url, home=batch_home, spark=stream.spark, topic=topic).batch(source="log")
"""


def run_cli(master: str, home: Path, url: str, topic: str, *args: str, event_dir: Path | None = None,
            timeout: float = 240, wait: bool = True, script: str | None = None,
            script_args: list[str] | None = None) -> subprocess.Popen[str]:
    """`riverbed run logwatch` in a subprocess (one SparkContext per JVM), with a spark-defaults.conf
    sized for two 1-core workers (4 shuffle partitions, not 200) and optionally Spark's event log."""
    conf = home.parent / f"conf-{home.name}"
    conf.mkdir(parents=True, exist_ok=True)
    defaults = "spark.sql.shuffle.partitions 4\nspark.default.parallelism 4\n"
    if event_dir is not None:
        defaults += (f"spark.eventLog.enabled true\nspark.eventLog.dir file://{event_dir}\n"
                     "spark.eventLog.compress false\nspark.eventLog.rolling.enabled false\n")
    (conf / "spark-defaults.conf").write_text(defaults)
    env = dict(os.environ, SPARK_CONF_DIR=str(conf))
    if script is not None:  # a Python driver script: argv = master, home, log, topic, *script_args
        cmd = [sys.executable, "-c", script, master, str(home), url, topic, *(script_args or [])]
    else:
        cmd = [sys.executable, "-m", "riverbed", "run", "logwatch", "--topic", topic, "--master", master,
               "--home", str(home), "--log", url, *args]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    if wait:
        try:
            _, err = proc.communicate(timeout=timeout)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, 9)
        assert proc.returncode == 0, err[-4000:]
    return proc


def tasks_by_worker(event_dir: Path, cluster: SparkCluster) -> dict[int, int]:
    """Tasks that ran on each worker (by index) per the Spark event log; -1 counts driver-side tasks."""
    (log,) = list(event_dir.iterdir())
    events = [json.loads(line) for line in log.read_text().splitlines()]
    worker_of: dict[str, int] = {}
    for e in events:
        if e["Event"] == "SparkListenerExecutorAdded":
            urls = json.dumps(e["Executor Info"].get("Log Urls", {}))
            for i, port in enumerate(cluster.worker_webui_ports):
                if f":{port}/" in urls:
                    worker_of[e["Executor ID"]] = i
    counts: dict[int, int] = {}
    for e in events:
        if e["Event"] == "SparkListenerTaskEnd" and e["Task End Reason"]["Reason"] == "Success":
            w = worker_of.get(e["Task Info"]["Executor ID"], -1)
            counts[w] = counts.get(w, 0) + 1
    return counts


def test_stream_and_batch_on_the_cluster_equal_local_mode(spark, spark_cluster, tmp_path: Path) -> None:
    """Over the embedded log (a local dir the same-machine workers share); the Kafka backend runs on the
    cluster in test_cluster_faults.py (stream with a worker killed, then batch)."""
    log_url = f"embedded://{tmp_path / 'log'}"
    topic = f"logs-{uuid.uuid4().hex[:8]}"
    lines = sample_lines()
    fill(log_url, topic, lines, partitions=4)
    local = Runner("logwatch", log=log_url, home=tmp_path / "local", spark=spark, topic=topic)
    local.batch(source="log")
    expected = outputs(tmp_path / "local")
    assert sum(r["count"] for r in expected["level_counts"]) > 1000

    stream_home, batch_home = tmp_path / "cluster-stream", tmp_path / "cluster-batch"
    events = tmp_path / "events"
    events.mkdir()
    # stream then batch in ONE driver process (one JVM start, the slow part here), as a user's script would
    run_cli(spark_cluster.master_url, stream_home, log_url, topic, event_dir=events,
            script=BOTH_MODES, script_args=[str(batch_home)])
    assert outputs(stream_home) == expected
    assert outputs(batch_home) == expected
    counts = tasks_by_worker(events, spark_cluster)
    assert -1 not in counts, f"every task runs on an executor of a worker, none on the driver: {counts}"
    assert counts.get(0, 0) > 0 and counts.get(1, 0) > 0, f"both workers ran tasks: {counts}"
