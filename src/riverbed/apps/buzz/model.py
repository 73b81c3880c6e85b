"""buzz's MLlib model: text features + KMeans clusters, trained in batch, versioned, hot-swapped.

    >>> info = train(spark, home)            # <home>/models/buzz/v<N>/ + metrics.json; `current` -> vN
    >>> version, model = current_model(home) # what the stream uses for its next micro-batch

The pyspark.ml Pipeline: SQLTransformer (clean: lower-case, drop URLs and @mentions) ->
RegexTokenizer (Unicode words of 3+ characters) -> StopWordsRemover (buzz's stop words) ->
CountVectorizer (vocabulary) -> IDF -> Normalizer (unit length, so Euclidean KMeans ranks like
cosine) -> KMeans(k). A new version is saved to a temporary directory and renamed to `v<N>`;
only then is the `current` pointer file rewritten (write a temp file, then rename: atomic), so a
reader never sees a half-written model. `current_model` re-reads the pointer (one small file) each
time and loads a model only when the version changed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riverbed.apps.buzz.normalise import STOP_WORDS
from riverbed.errors import InvalidArgument

if TYPE_CHECKING:
    from pyspark.ml import PipelineModel
    from pyspark.sql import DataFrame, SparkSession

POINTER = "current"
_VERSION = re.compile(r"^v(\d+)$")
CLEAN_SQL = (
    "SELECT *, regexp_replace(regexp_replace(lower(text), 'https?://\\\\S+|www\\\\.\\\\S+', ' '), "
    "'@[\\\\w.]+', ' ') AS clean_text FROM __THIS__"
)
_cache: dict[str, tuple[str, Any]] = {}
_lock = threading.Lock()


def models_dir(home: Path) -> Path:
    return Path(home) / "models" / "buzz"


def versions(home: Path) -> list[int]:
    """Version numbers saved under the models directory, ascending."""
    d = models_dir(home)
    if not d.exists():
        return []
    return sorted(int(m.group(1)) for p in d.iterdir() if (m := _VERSION.match(p.name)) and p.is_dir())


def current_version(home: Path) -> str | None:
    """The version the `current` pointer names ("v3"), or None before the first training."""
    try:
        v = (models_dir(home) / POINTER).read_text().strip()
    except FileNotFoundError:
        return None
    return v or None


def set_current(home: Path, version: str) -> None:
    """Point `current` at `version` atomically (write a temp file, then rename over the pointer)."""
    d = models_dir(home)
    if not (d / version).is_dir():
        raise InvalidArgument(f"no buzz model {version} under {d}", hint=f"versions: {versions(home)}")
    tmp = d / f".{POINTER}.{os.getpid()}.{threading.get_ident()}"
    tmp.write_text(version + "\n")
    os.replace(tmp, d / POINTER)


def metrics(home: Path, version: str | None = None) -> dict[str, Any]:
    """The training metrics saved with a version (default: the current one)."""
    v = version or current_version(home)
    if v is None:
        raise InvalidArgument("no buzz model trained yet", hint="run `riverbed train buzz`")
    return json.loads((models_dir(home) / v / "metrics.json").read_text())


def build_estimator(k: int, seed: int, vocab_size: int, min_df: float, max_iter: int) -> Any:
    """The untrained pyspark.ml Pipeline (see the module docstring)."""
    from pyspark.ml import Pipeline
    from pyspark.ml.clustering import KMeans
    from pyspark.ml.feature import (
        IDF,
        CountVectorizer,
        Normalizer,
        RegexTokenizer,
        SQLTransformer,
        StopWordsRemover,
    )

    return Pipeline(stages=[
        SQLTransformer(statement=CLEAN_SQL),
        RegexTokenizer(inputCol="clean_text", outputCol="tokens", pattern="(?U)[^\\w]+|_", minTokenLength=3),
        StopWordsRemover(inputCol="tokens", outputCol="words", stopWords=sorted(STOP_WORDS)),
        CountVectorizer(inputCol="words", outputCol="tf", vocabSize=vocab_size, minDF=min_df),
        IDF(inputCol="tf", outputCol="tfidf"),
        Normalizer(inputCol="tfidf", outputCol="features", p=2.0),
        KMeans(k=k, seed=seed, maxIter=max_iter, featuresCol="features", predictionCol="cluster"),
    ])


def training_data(spark: SparkSession, home: Path) -> DataFrame:
    """The lake's buzz rows that have words to learn from: posts, event texts, meetup events."""
    from pyspark.sql import functions as F

    from riverbed.pipeline import locations
    from riverbed.pipeline.sinks import lake_path, read_lake

    if not locations.exists(lake := lake_path(home, "buzz"), spark):
        raise InvalidArgument(
            f"the lake has no buzz data in {lake}",
            hint="ingest (riverbed ingest github|social|meetup) and run the stream (riverbed run buzz) first",
        )
    return read_lake(spark, home, "buzz").where(F.size("terms") > 0)


def train(
    spark: SparkSession,
    home: Path,
    data: DataFrame | None = None,
    *,
    k: int = 4,
    seed: int = 1,
    vocab_size: int = 2000,
    min_df: float = 1.0,
    max_iter: int = 15,
    activate: bool = True,
) -> dict[str, Any]:
    """Fit the pipeline on `data` (default: the lake), save it as the next version, make it current.

    Returns the metrics also saved as `metrics.json`: version, documents, k, cost, silhouette,
    vocabulary size, the top terms of each cluster, when and how long.
    """
    from pyspark.ml.evaluation import ClusteringEvaluator
    from pyspark.sql import functions as F

    if k < 2:
        raise InvalidArgument(f"k must be >= 2 clusters, got {k}")
    started = time.monotonic()
    df = (data if data is not None else training_data(spark, home)).where(F.length("text") > 0)
    df = df.select("text").persist()
    try:
        n = df.count()
        if n < k:
            raise InvalidArgument(f"{n} documents are too few for {k} clusters",
                                  hint="ingest more, or lower k")
        model = build_estimator(k, seed, vocab_size, min_df, max_iter).fit(df)
        scored = model.transform(df)
        silhouette = ClusteringEvaluator(featuresCol="features", predictionCol="cluster").evaluate(scored)
        sizes = {int(r["cluster"]): r["count"] for r in scored.groupBy("cluster").count().collect()}
    finally:
        df.unpersist()
    vocab = model.stages[3].vocabulary
    km = model.stages[-1]
    top = {
        str(i): [vocab[j] for j in sorted(range(len(c)), key=lambda j, c=c: -c[j])[:5] if c[j] > 0]
        for i, c in enumerate(km.clusterCenters())
    }
    info: dict[str, Any] = {
        "documents": n, "k": k, "seed": seed, "cost": float(km.summary.trainingCost),
        "silhouette": float(silhouette), "vocabulary_size": len(vocab), "cluster_sizes": sizes,
        "top_terms": top, "trained_at_ms": time.time_ns() // 1_000_000,
    }
    info["version"] = _save(home, model, info, started)
    if activate:
        set_current(home, info["version"])
    return info


def _save(home: Path, model: PipelineModel, info: dict[str, Any], started: float) -> str:
    """Save into a temp directory, then rename it to the next free v<N> (retrying if taken)."""
    d = models_dir(home)
    d.mkdir(parents=True, exist_ok=True)
    tmp = d / f".tmp-{os.getpid()}-{threading.get_ident()}-{time.time_ns()}"
    model.save(str(tmp))
    for _ in range(100):
        version = f"v{max(versions(home), default=0) + 1}"
        info["seconds"] = round(time.monotonic() - started, 3)
        (tmp / "metrics.json").write_text(json.dumps({**info, "version": version}, indent=2))
        try:
            os.rename(tmp, d / version)  # fails if another trainer took this number first
            return version
        except OSError:
            continue
    shutil.rmtree(tmp, ignore_errors=True)
    raise InvalidArgument(f"could not claim a new version number under {d}")


def current_model(home: Path) -> tuple[str, PipelineModel] | None:
    """(version, model) the `current` pointer names, loaded once per version; None if untrained."""
    from pyspark.ml import PipelineModel

    version = current_version(home)
    if version is None:
        return None
    key = str(models_dir(home).resolve())
    with _lock:
        hit = _cache.get(key)
        if hit is None or hit[0] != version:
            hit = _cache[key] = (version, PipelineModel.load(str(models_dir(home) / version)))
        return hit
