"""Hadoop's local file system without a process per file: `riverbed.hadoop.NioLocalFileSystem`.

Without Hadoop's native library (pyspark ships none), Hadoop forks `chmod` for every file and
directory it creates and `readlink` for every rename: about 30 processes per micro-batch of a
pipeline (lake files, offset and commit logs), 80 ms of the offset/commit log writes alone on a
2-core machine. The Java classes beside this module do the same with java.nio in-process. They are
compiled once per content hash with the JDK's `javac` into a jar in the temp directory; with no
`javac` (a JRE only) Spark keeps Hadoop's stock classes and works as before, only slower.
Used for `local[...]` masters, where the driver JVM is the executor.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

_log = logging.getLogger(__name__)

SOURCES = Path(__file__).parent / "java"
FS_CLASS = "riverbed.hadoop.NioLocalFileSystem"
FS_CONTEXT_CLASS = "riverbed.hadoop.NioLocalFs"
ENV_DISABLE = "RIVERBED_NIO_LOCALFS"  # "0": keep Hadoop's stock local file system


def javac() -> str | None:
    """The JDK compiler: $JAVA_HOME/bin/javac, else `javac` on the PATH; None with a JRE only."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "javac").is_file():
        return str(Path(home) / "bin" / "javac")
    return shutil.which("javac")


def _hadoop_jar() -> Path | None:
    import pyspark

    jars = sorted((Path(pyspark.__file__).parent / "jars").glob("hadoop-client-api-*.jar"))
    return jars[-1] if jars else None


def build_jar(compiler: str | None = None) -> Path | None:
    """The compiled jar (built on first use, then reused), or None when it cannot be built."""
    compiler = compiler or javac()
    api = _hadoop_jar()
    if compiler is None or api is None:
        return None
    sources = sorted(SOURCES.rglob("*.java"))
    digest = hashlib.sha256(api.name.encode())
    for f in sources:
        digest.update(f.name.encode() + b"\0" + f.read_bytes())
    jar = Path(tempfile.gettempdir()) / f"riverbed-localfs-{os.getuid()}-{digest.hexdigest()[:16]}.jar"
    if jar.exists():
        return jar
    with tempfile.TemporaryDirectory(prefix="riverbed-javac-") as work:
        classes = Path(work) / "classes"
        try:
            subprocess.run([compiler, "--release", "17", "-nowarn", "-d", str(classes), "-cp", str(api),
                            *map(str, sources)], check=True, capture_output=True, timeout=120)
            tmp = Path(work) / "out.jar"
            shutil.make_archive(str(tmp.with_suffix("")), "zip", classes)
            shutil.move(tmp.with_suffix(".zip"), f"{jar}.{os.getpid()}.tmp")
            os.replace(f"{jar}.{os.getpid()}.tmp", jar)  # atomic: a concurrent build wins or loses whole
        except (OSError, subprocess.SubprocessError) as e:
            detail = getattr(e, "stderr", b"") or b""
            _log.warning("could not compile riverbed's local file system (%s %s); using Hadoop's",
                         e, detail.decode(errors="replace")[:500])
            return None
    return jar


def spark_conf(existing: dict[str, str]) -> dict[str, str]:
    """Settings that make a local session use the NIO local file system ({} when unavailable,
    disabled by RIVERBED_NIO_LOCALFS=0, or when `existing` already chooses a `file:` class)."""
    if os.environ.get(ENV_DISABLE, "1") == "0" or "spark.hadoop.fs.file.impl" in existing:
        return {}
    try:
        jar = build_jar()
    except OSError as e:  # e.g. no writable temp directory: Spark still starts, with Hadoop's classes
        _log.warning("could not build riverbed's local file system jar (%s); using Hadoop's", e)
        jar = None
    if jar is None:  # no javac or no Hadoop jar (compile errors were logged by build_jar)
        _log.info("Hadoop's stock local file system (a process per chmod) is used")
        return {}
    cp = existing.get("spark.driver.extraClassPath")
    return {
        "spark.driver.extraClassPath": f"{cp}{os.pathsep}{jar}" if cp else str(jar),
        "spark.hadoop.fs.file.impl": FS_CLASS,
        "spark.hadoop.fs.AbstractFileSystem.file.impl": FS_CONTEXT_CLASS,
    }
