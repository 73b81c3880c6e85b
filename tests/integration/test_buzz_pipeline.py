"""buzz on real Spark: trending counts from the stream equal the batch and an independent
plain-Python count; the model scores the same cluster per post in stream and batch; a model
trained while the stream runs is picked up at a micro-batch boundary, nothing lost or scored twice."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from riverbed.apps.buzz import model
from riverbed.apps.buzz.pipeline import build
from riverbed.cli import main
from riverbed.log import Record, TopicConfig, open_log
from riverbed.pipeline.runner import Runner
from riverbed.testing import read_topic

DATA = Path(__file__).parent.parent / "data"
W = 60_000
COUNTS = ["buzz_terms", "buzz_hashtags", "buzz_repos", "buzz_event_types"]
BAD_POSTS = [b"{not json", b'{"id": "1", "note": "no text, no time"}', b"[1, 2]"]


def lines(rel: str, n: int | None = None) -> list[bytes]:
    return (DATA / rel).read_bytes().splitlines()[:n]


def tweets_oldest_first() -> list[bytes]:
    return sorted(lines("social/twitter_v2_flat_100tweets.jsonl"),
                  key=lambda b: (json.loads(b)["created_at"], json.loads(b)["id"]))


# -- an independent plain-Python count of what the outputs must hold ------------------------------
STOP = set(model.STOP_WORDS)


def words(text: str) -> list[str]:
    text = re.sub(r"@[\w.]+", " ", re.sub(r"https?://\S+|www\.\S+", " ", text.lower()))
    out = []
    for w in re.findall(r"\w+", text):
        w = w.lstrip("_")
        if len(w) >= 3 and not w.isdigit() and w not in STOP and not re.fullmatch(r"[0-9a-f]{7,}", w):
            out.append(w)
    return out


def github_text(e: dict) -> str:
    p = e["payload"]
    parts = [c["message"] for c in p.get("commits", [])]
    parts += [p[k]["title"] for k in ("pull_request", "issue") if k in p]
    parts += [p["comment"]["body"]] if "comment" in p else []
    parts += [p["release"]["name"] or ""] if "release" in p else []
    parts += [p.get("description") or ""] if e["type"] == "CreateEvent" else []
    parts += [pg["title"] for pg in p.get("pages", [])]
    return "\n".join(x for x in parts if x)


def expected_counts(gh: list[bytes], posts: list[bytes], rsvps: list[bytes]) -> dict[str, Counter]:
    c: dict[str, Counter] = {n: Counter() for n in COUNTS}
    items = []  # (time ms, text, hashtags)
    for raw in gh:
        e = json.loads(raw)
        t = _iso_ms(e["created_at"])
        c["buzz_repos"][(t - t % W, e["repo"]["name"])] += 1
        c["buzz_event_types"][(t - t % W, e["type"])] += 1
        text = github_text(e)
        tags = [m.lower() for m in re.findall(r"(?:^|\s)#([^\W\d_]\w*)", text)]
        items.append((t, text, tags))
    for raw in posts:
        p = json.loads(raw)
        t = _iso_ms(p["created_at"])
        items.append((t, p["text"], [h["tag"].lower() for h in p.get("entities", {}).get("hashtags", [])]))
    for raw in rsvps:
        r = json.loads(raw)
        text = f"{r['event']['event_name']} {r['group']['group_name']}"
        items.append((r["mtime"], text, [g["urlkey"] for g in r["group"]["group_topics"]]))
    for t, text, tags in items:
        for w in words(text):
            c["buzz_terms"][(t - t % W, w)] += 1
        for h in tags:
            c["buzz_hashtags"][(t - t % W, h)] += 1
    return c


def _iso_ms(s: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000)


def as_counter(rows: list[dict], key: str) -> Counter:
    for r in rows:
        assert r["window_end"] - r["window_start"] == W
    return Counter({(r["window_start"], r[key]): r["count"] for r in rows})


# -- fixtures -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mixed(spark, tmp_path_factory):
    """All three topics (real GitHub events, tweets, RSVPs + bad records), v1 trained on the
    tweets, streamed in micro-batches of at most 250 records."""
    home = tmp_path_factory.mktemp("buzz")
    url = f"embedded://{home}/log"
    gh = lines("github/gharchive_2016-07-07_2000events_slim.jsonl", 300)
    posts = tweets_oldest_first()
    rsvps = lines("meetup/meetup_rsvp_stream_sample_2020-10.jsonl")
    with open_log(url) as lg:
        for t in ("github", "posts", "meetup"):
            lg.create_topic(t, TopicConfig(partitions=2))
        lg.append("github", [Record(x) for x in gh])
        lg.append("posts", [Record(x) for x in posts + BAD_POSTS])
        lg.append("meetup", [Record(x) for x in rsvps])
    texts = spark.createDataFrame([(json.loads(p)["text"],) for p in posts], "text string")
    info = model.train(spark, home, texts, k=3, seed=7, max_iter=5)
    # the samples are from 2016, 2020 and 2021: allow that much lateness so none is dead-lettered
    runner = Runner(build(model_home=home, lateness_ms=10**13), log=url, home=home, spark=spark)
    handle = runner.start_stream(available_now=True, max_records_per_trigger=250)
    handle.wait(240)
    stream = {n: runner.store.rows(n) for n in [*COUNTS, "buzz_clusters", "buzz_scored"]}
    return {"home": home, "url": url, "runner": runner, "handle": handle, "info": info, "stream": stream,
            "expected": expected_counts(gh, posts, rsvps), "posts": posts, "gh": gh}


def test_trending_counts_equal_plain_python_and_batch(mixed) -> None:
    stream, expected = mixed["stream"], mixed["expected"]
    assert len(mixed["handle"].history) >= 2, "the stream should have taken several micro-batches"
    for name, key in zip(COUNTS, ["term", "hashtag", "repo", "type"], strict=True):
        assert as_counter(stream[name], key) == expected[name], name
    assert expected["buzz_hashtags"] and expected["buzz_repos"]
    res = mixed["runner"].batch()
    assert res.bad == len(BAD_POSTS)
    for name in [*COUNTS, "buzz_clusters"]:
        assert mixed["runner"].store.rows(name) == stream[name], name


def test_stream_and_batch_assign_the_same_cluster_per_post(mixed) -> None:
    info, stream = mixed["info"], mixed["stream"]
    assert info["version"] == "v1" and info["documents"] == 100 and info["k"] == 3
    assert info["vocabulary_size"] > 100 and "silhouette" in info and info["cost"] >= 0
    assert json.loads((mixed["home"] / "models/buzz/v1/metrics.json").read_text())["k"] == 3
    scored = {(r["source"], r["id"]): r for r in stream["buzz_scored"]}
    post_ids = {("twitter", json.loads(p)["id"]) for p in mixed["posts"] if words(json.loads(p)["text"])}
    assert len(post_ids) >= 95 and post_ids <= set(scored)  # items without a word are not scored
    assert {r["model_version"] for r in scored.values()} == {"v1"}
    assert all(r["scored"] == 1 for r in scored.values())
    assert len({scored[i]["cluster"] for i in post_ids}) > 1
    # cluster sizes per window add up to the items scored
    assert sum(r["count"] for r in stream["buzz_clusters"]) == len(scored)
    # batch mode, same model, same posts: the same cluster for every item
    mixed["runner"].batch()
    batch = {(r["source"], r["id"]): r["cluster"] for r in mixed["runner"].store.rows("buzz_scored")}
    assert batch == {k: r["cluster"] for k, r in scored.items()}


def test_bad_records_are_dead_lettered_with_reason(mixed) -> None:
    with open_log(mixed["url"]) as lg:
        dead = read_topic(lg, "posts.dlq")
    assert sorted(d.value for d in dead) == sorted(BAD_POSTS)
    reasons = {d.value: dict(d.headers)["riverbed.reason"].decode() for d in dead}
    assert reasons[b"{not json"].startswith("invalid JSON")
    assert "not a GitHub event, tweet" in reasons[b'{"id": "1", "note": "no text, no time"}']
    assert reasons[b"[1, 2]"] == "expected a JSON object, got list"


def test_hot_swap_at_a_batch_boundary(spark, tmp_path: Path) -> None:
    """v1 scores the first posts; v2 is trained while the stream runs; the rest get v2, each post
    scored exactly once, and every micro-batch used one version."""
    url = f"embedded://{tmp_path}/log"
    posts = tweets_oldest_first()
    first, second = posts[:50], posts[50:]
    with open_log(url) as lg:
        lg.create_topic("posts", TopicConfig(partitions=1))
        lg.append("posts", [Record(x) for x in first])
    texts = spark.createDataFrame([(json.loads(p)["text"],) for p in posts], "text string")
    assert model.train(spark, tmp_path, texts, k=3, seed=1, max_iter=5)["version"] == "v1"
    runner = Runner(build(topics="posts", model_home=tmp_path), log=url, home=tmp_path, spark=spark)
    handle = runner.start_stream(trigger_ms=100, max_records_per_trigger=25)
    try:
        _until(lambda: sum(s.records for s in handle.history) >= 25, handle)
        # the stream keeps going while v2 is trained
        assert model.train(spark, tmp_path, texts, k=4, seed=2, max_iter=5)["version"] == "v2"
        assert model.current_version(tmp_path) == "v2"
        with open_log(url) as lg:
            lg.append("posts", [Record(x) for x in second])
        _until(lambda: sum(s.records for s in handle.history) >= len(posts), handle)
    finally:
        handle.stop()
    rows = runner.store.rows("buzz_scored")
    with_words = [p for p in posts if words(json.loads(p)["text"])]  # items without a word: not scored
    assert len(rows) == len(with_words) and all(r["scored"] == 1 for r in rows)
    per_batch: dict[int, set] = {}
    for r in rows:
        per_batch.setdefault(r["batch_id"], set()).add(r["model_version"])
    assert all(len(v) == 1 for v in per_batch.values()), per_batch
    v1 = [b for b, v in per_batch.items() if v == {"v1"}]
    v2 = [b for b, v in per_batch.items() if v == {"v2"}]
    assert v1 and v2 and max(v1) < min(v2), per_batch
    second_ids = {json.loads(p)["id"] for p in second}
    assert {r["model_version"] for r in rows if r["id"] in second_ids} == {"v2"}
    clusters = Counter()
    for r in runner.store.rows("buzz_clusters"):
        clusters[r["model_version"]] += r["count"]
    assert clusters == Counter(r["model_version"] for r in rows)


def _until(cond, handle, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert handle.query.isActive, handle.query.exception()
        assert time.monotonic() < deadline, "timed out waiting for the stream"
        time.sleep(0.2)


def test_cli_train_and_sql_over_the_lake_and_store(mixed, capsys) -> None:
    """`riverbed train buzz` in-process (the session is shared), `riverbed sql` as a real process."""
    home = mixed["home"]
    before = model.current_version(home)
    assert main(["--home", str(home), "train", "buzz", "--clusters", "3", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    new = model.current_version(home)
    assert new != before and new in {f"v{n}" for n in model.versions(home)} and "top terms" in out
    m = model.metrics(home)
    assert m["k"] == 3 and m["documents"] > 200 and m["version"] == new

    query = ("SELECT type AS k, sum(count) AS n FROM buzz_event_types GROUP BY type "
             "UNION ALL SELECT source, count(*) FROM buzz GROUP BY source ORDER BY k")
    env = {**os.environ, "RIVERBED_HOME": str(home)}
    env.pop("RIVERBED_STORE", None)
    r = subprocess.run([sys.executable, "-m", "riverbed", "sql", query, "--json"], capture_output=True,
                       text=True, env=env, timeout=180)
    assert r.returncode == 0, r.stderr
    got = {row["k"]: row["n"] for row in map(json.loads, r.stdout.splitlines())}
    gh = [json.loads(x) for x in (DATA / "github/gharchive_2016-07-07_2000events_slim.jsonl")
          .read_bytes().splitlines()[:300]]
    expected = dict(Counter(e["type"] for e in gh))
    expected.update({"github": 300, "twitter": 100, "meetup": 5})
    assert got == expected

    # a wrong query: one line naming the problem and the views there are (in-process: no new JVM)
    assert main(["--home", str(home), "sql", "SELECT nope FROM buzz_terms"]) == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("riverbed: error: SQL error") and "buzz_terms" in last
