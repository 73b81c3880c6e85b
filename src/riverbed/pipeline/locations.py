"""Where a pipeline's lake and checkpoints live: under the home by default, or any Hadoop URI.

    RIVERBED_LAKE          root of the lake, e.g. s3a://bucket/riverbed/lake   (default <home>/lake)
    RIVERBED_CHECKPOINTS   root of the stream checkpoints, e.g. hdfs://nn/rb/cp (default <home>/checkpoints)

Order: `configure(home, lake=..., checkpoints=...)` (the CLI's --lake/--checkpoints, `Runner(lake=)`)
> environment > default. A pipeline's lake is `<lake root>/<pipeline>`, its checkpoint
`<checkpoints root>/<pipeline>/stream`; a Kappa version's under `<root>/versions/<version>/`, except in
the default layout, which stays `<home>/versions/<version>/{lake,checkpoints}/` as before.
URIs with a scheme never pass through pathlib (it would collapse `s3a://`): Spark reads and writes
them itself, and existence checks, listings, reads and deletes go through Hadoop's FileSystem in the
Spark JVM. Plain local paths (and file: URIs without a session) use Python's own file functions.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from riverbed.errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

ENV_LAKE = "RIVERBED_LAKE"
ENV_CHECKPOINTS = "RIVERBED_CHECKPOINTS"
_ENV = {"lake": ENV_LAKE, "checkpoints": ENV_CHECKPOINTS}
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+):")  # two letters at least: not a drive letter
_CONFIGURED: dict[Path, dict[str, str]] = {}
_JARS_HINT = (
    "PySpark bundles only Hadoop's local and HDFS file systems: add the scheme's jars with "
    "spark.jars.packages in spark-defaults.conf, e.g. org.apache.hadoop:hadoop-aws:{v} for s3a://, "
    "org.apache.hadoop:hadoop-azure:{v} for abfs://, the GCS connector for gs:// (Hadoop {v}), "
    "or use a local path / file:// URI"
)


class StorageError(ConfigError):
    """A lake or checkpoint location that cannot be used (unknown scheme, unreachable, needs Spark)."""


def scheme(uri: str | os.PathLike[str]) -> str:
    """The URI's scheme, lower case ("" for a plain local path or a Path)."""
    m = _SCHEME.match(os.fspath(uri))
    return m.group(1).lower() if m else ""


def is_local(uri: str | os.PathLike[str]) -> bool:
    """True for a plain path or a file: URI (reachable with Python's own file functions)."""
    return scheme(uri) in ("", "file")


def local_path(uri: str | os.PathLike[str]) -> Path:
    """The local Path of a plain path or file: URI; StorageError for any other scheme."""
    uri = os.fspath(uri)
    s = scheme(uri)
    if s == "":
        return Path(uri)
    if s == "file":
        return Path(urlparse(uri).path or "/")
    raise StorageError(f"{uri} is on a {s}:// file system, not a local path",
                       hint="this needs a Spark session to reach it through Hadoop's file systems")


def join(base: str, *parts: str) -> str:
    """`base`/part/... for a local path or a URI (no pathlib on URIs: it collapses '//')."""
    if scheme(base) == "":
        return str(Path(base).joinpath(*parts))
    return "/".join([base.rstrip("/"), *parts])


def _normal(base: str) -> str:
    base = base.strip()
    if scheme(base):
        if not re.match(r"[A-Za-z][A-Za-z0-9+.-]+:/", base):
            raise StorageError(f"{base!r} is not a URI (expected SCHEME://HOST/PATH or SCHEME:///PATH)")
        return base if base.endswith(":///") else base.rstrip("/")
    return str(Path(base).expanduser().resolve())


def _key(home: str | os.PathLike[str]) -> Path:
    return Path(home).expanduser().resolve()


def configure(
    home: str | os.PathLike[str], *, lake: str | None = None, checkpoints: str | None = None
) -> None:
    """Set, for this process, where the home's lake and checkpoints live (None keeps the current one)."""
    chosen = _CONFIGURED.setdefault(_key(home), {})
    for kind, value in (("lake", lake), ("checkpoints", checkpoints)):
        if value:
            chosen[kind] = _normal(value)


def _root(home: str | os.PathLike[str], kind: str) -> str:
    """The lake or checkpoints root for a home or a version home (<root>/versions/<v>)."""
    home = _key(home)
    if kind in _CONFIGURED.get(home, {}):
        return _CONFIGURED[home][kind]
    root, version = (home.parent.parent, home.name) if home.parent.name == "versions" else (home, None)
    base = _CONFIGURED.get(root, {}).get(kind) or os.environ.get(_ENV[kind], "").strip()
    if not base:
        return str(home / kind)  # the default layout, version homes included
    base = _normal(base)
    return join(base, "versions", version) if version else base


def lake_root(home: str | os.PathLike[str]) -> str:
    """Where the home's (or version home's) lake datasets live, one per pipeline."""
    return _root(home, "lake")


def checkpoints_root(home: str | os.PathLike[str]) -> str:
    """Where the home's (or version home's) stream checkpoints live, one per pipeline."""
    return _root(home, "checkpoints")


def lake_uri(home: str | os.PathLike[str], pipeline: str) -> str:
    """The pipeline's lake (Parquet by date/batch): a local path or a Hadoop URI."""
    return join(lake_root(home), pipeline)


def checkpoint_uri(home: str | os.PathLike[str], pipeline: str) -> str:
    """The pipeline's checkpoint directory (Spark's stream checkpoint is its `stream/`)."""
    return join(checkpoints_root(home), pipeline)


def stream_checkpoint(home: str | os.PathLike[str], pipeline: str) -> str:
    """The streaming query's checkpointLocation."""
    return join(checkpoint_uri(home, pipeline), "stream")


# -- file system operations -------------------------------------------------------------------
def session(spark: SparkSession | None = None) -> SparkSession | None:
    """`spark`, or the session already running in this process, or None (never starts one)."""
    if spark is not None:
        return spark
    try:
        from pyspark.sql import SparkSession
    except ImportError:  # pragma: no cover - pyspark is a dependency
        return None
    return SparkSession.getActiveSession() or getattr(SparkSession, "_instantiatedSession", None)


def spark_for(*uris: str, spark: SparkSession | None = None) -> SparkSession | None:
    """A session to reach `uris` with: the running one, or a new one only if one is remote."""
    found = session(spark)
    if found is None and not all(is_local(u) for u in uris):
        from riverbed.spark import get_spark

        found = get_spark()
    return found


def _hadoop(spark: SparkSession, uri: str) -> tuple[Any, Any]:
    """(Hadoop FileSystem, Hadoop Path) for `uri`, with Hadoop's errors as StorageError."""
    jvm = spark._jvm  # type: ignore[attr-defined]
    path = jvm.org.apache.hadoop.fs.Path(uri)
    try:
        return path.getFileSystem(spark._jsc.hadoopConfiguration()), path  # type: ignore[attr-defined]
    except Exception as e:
        raise _translate(spark, uri, e) from e


def _translate(spark: SparkSession, uri: str, e: Exception) -> StorageError:
    text = str(e)
    if "No FileSystem for scheme" in text or re.search(r"ClassNotFoundException: Class \S+FileSystem", text):
        try:
            version = spark._jvm.org.apache.hadoop.util.VersionInfo.getVersion()  # type: ignore[attr-defined]
        except Exception:
            version = "<version of pyspark/jars/hadoop-client-api-*.jar>"
        return StorageError(f"no file system for scheme {scheme(uri)!r} (in {uri})",
                            hint=_JARS_HINT.format(v=version))
    first = next((ln.strip(": \t") for ln in text.splitlines() if "Exception" in ln and ":" in ln), text)
    return StorageError(f"cannot reach {uri}: {first[:300]}")


def _remote(uri: str, spark: SparkSession | None) -> SparkSession | None:
    """The session to use for `uri`, None for Python's own file functions; errs if none can reach it."""
    if scheme(uri) == "":
        return None
    found = session(spark)
    if found is None and scheme(uri) != "file":
        raise StorageError(f"{uri} can only be reached through Spark's Hadoop file systems",
                           hint="no Spark session is running in this process")
    return found


def check(spark: SparkSession, *uris: str) -> None:
    """Fail early, naming the scheme, when Spark has no file system for one of `uris`."""
    for uri in uris:
        if scheme(uri):
            _hadoop(spark, uri)


def exists(uri: str, spark: SparkSession | None = None) -> bool:
    """Whether the file or directory exists."""
    s = _remote(uri, spark)
    if s is None:
        return local_path(uri).exists()
    fs, path = _hadoop(s, uri)
    try:
        return bool(fs.exists(path))
    except Exception as e:
        raise _translate(s, uri, e) from e


def children(uri: str, spark: SparkSession | None = None) -> dict[str, bool]:
    """The directory's entries: name -> is a directory ({} when it does not exist)."""
    s = _remote(uri, spark)
    if s is None:
        p = local_path(uri)
        return {c.name: c.is_dir() for c in p.iterdir()} if p.is_dir() else {}
    fs, path = _hadoop(s, uri)
    try:
        if not fs.exists(path):
            return {}
        return {st.getPath().getName(): bool(st.isDirectory()) for st in fs.listStatus(path)}
    except Exception as e:
        raise _translate(s, uri, e) from e


def read_text(uri: str, spark: SparkSession | None = None) -> str:
    """A small file's text (e.g. one of Spark's checkpoint offsets files); OSError if missing."""
    s = _remote(uri, spark)
    if s is None:
        return local_path(uri).read_text()
    fs, path = _hadoop(s, uri)
    try:
        if not fs.exists(path):
            raise FileNotFoundError(uri)
        stream = fs.open(path)
        try:
            return str(s._jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8"))  # type: ignore[attr-defined]
        finally:
            stream.close()
    except OSError:
        raise
    except Exception as e:
        raise _translate(s, uri, e) from e


def delete(uri: str, spark: SparkSession | None = None) -> None:
    """Remove the directory (or file) and everything under it; nothing if it does not exist."""
    s = _remote(uri, spark)
    if s is None:
        p = local_path(uri)
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        elif p.exists():
            p.unlink()
        return
    fs, path = _hadoop(s, uri)
    try:
        fs.delete(path, True)
    except Exception as e:
        raise _translate(s, uri, e) from e


# -- CLI ----------------------------------------------------------------------------------------
def add_options(p: argparse.ArgumentParser) -> None:
    """`--lake` and `--checkpoints`, for the commands that run pipelines or read their data."""
    p.add_argument("--lake", metavar="URI", help=f"root of the lake: a path or a Hadoop URI such as "
                   f"s3a://bucket/riverbed/lake [env: {ENV_LAKE}] (default: <home>/lake)")
    p.add_argument("--checkpoints", metavar="URI", help="root of the stream checkpoints, e.g. "
                   f"hdfs://nn/riverbed/checkpoints [env: {ENV_CHECKPOINTS}] (default: <home>/checkpoints)")


def apply_options(args: argparse.Namespace) -> None:
    """Configure the home named by --home/$RIVERBED_HOME with the command's --lake/--checkpoints."""
    from riverbed.config import resolve_home

    configure(resolve_home(args.home), lake=getattr(args, "lake", None),
              checkpoints=getattr(args, "checkpoints", None))
