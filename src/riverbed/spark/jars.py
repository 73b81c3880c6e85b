"""The JVM jars riverbed adds to PySpark's own: Spark's Kafka connector and Delta Lake.

They are declared once, with pinned versions, in the project's `jvm/pom.xml`; `make jars` (a
prerequisite of `make test` and `make demo`) has Maven copy them and what they need into
`.cache/jars/`. Every session the factory starts gets that folder's jars in `spark.jars`, and, when
Delta is among them, Delta's session extension and catalog (Delta refuses to write without both).

Where the jars are: $RIVERBED_JARS (a folder; "none" turns them off) > the project's `.cache/jars/`
(found from this file, for a source checkout). A missing folder costs nothing but the formats it
holds (`kafka`, `delta`): it is reported once per process, and sessions start as before.
A cluster can get the same jars from spark.jars.packages instead (docs/deploy.md).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

_log = logging.getLogger(__name__)

ENV_JARS = "RIVERBED_JARS"
#: The Maven coordinates jvm/pom.xml declares, for spark.jars.packages on a cluster (docs/deploy.md).
PACKAGES = (
    "org.apache.spark:spark-sql-kafka-0-10_2.13:4.2.0",
    "io.delta:delta-spark_4.2_2.13:4.4.0",
)
DELTA_CONF: dict[str, str] = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
}
_HINT = "run `make jars` in the riverbed checkout, or set $RIVERBED_JARS to a folder holding them"
_warned = False


def project_jars_dir() -> Path | None:
    """`.cache/jars/` of the source checkout this package runs from (None for an installed wheel)."""
    root = Path(__file__).resolve().parents[3]  # src/riverbed/spark/jars.py -> the checkout
    return root / ".cache" / "jars" if (root / "jvm" / "pom.xml").is_file() else None


def jars_dir() -> Path | None:
    """The folder whose jars sessions get: $RIVERBED_JARS ("none": no folder) > the project's cache."""
    given = os.environ.get(ENV_JARS)
    if given is not None:
        return None if given.strip().lower() in ("", "none") else Path(given).expanduser()
    return project_jars_dir()


def find_jars() -> list[Path]:
    """The jars to put on spark.jars, sorted; [] (reported once per process) when there are none."""
    global _warned
    folder = jars_dir()
    jars = sorted(folder.glob("*.jar")) if folder is not None and folder.is_dir() else []
    turned_off = folder is None and ENV_JARS in os.environ
    if not jars and not turned_off and not _warned:
        _warned = True
        where = folder if folder is not None else f"${ENV_JARS}"
        _log.warning("riverbed: no JVM jars in %s: the kafka and delta formats are unavailable; %s",
                     where, _HINT)
    return jars


def spark_conf(existing: dict[str, str]) -> dict[str, str]:
    """Settings that add the cached jars (and Delta's extension and catalog when Delta is among
    them) to a new session's `existing` settings; jars and extensions already there are kept."""
    jars = find_jars()
    if not jars:
        return {}
    given = [j for j in existing.get("spark.jars", "").split(",") if j.strip()]
    extra = {"spark.jars": ",".join([*map(str, jars), *given])}
    if any(j.name.startswith("delta-spark_") for j in jars):
        extensions = [e for e in existing.get("spark.sql.extensions", "").split(",") if e.strip()]
        if DELTA_CONF["spark.sql.extensions"] not in extensions:
            extra["spark.sql.extensions"] = ",".join([DELTA_CONF["spark.sql.extensions"], *extensions])
        if "spark.sql.catalog.spark_catalog" not in existing:
            extra["spark.sql.catalog.spark_catalog"] = DELTA_CONF["spark.sql.catalog.spark_catalog"]
    return extra
