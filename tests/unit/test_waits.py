"""riverbed.spark.waits: transient log errors are waited out with backoff, up to a deadline."""

from __future__ import annotations

import logging

import pytest

from riverbed.config import resolve_broker_wait
from riverbed.errors import ConfigError, LogFullError, LogUnavailable, LogWaitExpired, TopicNotFound
from riverbed.spark import waits


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The sleeps the helper asks for, none taken; the clock advances by each."""
    now = [1000.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    monkeypatch.setattr(waits.time, "sleep", sleep)
    monkeypatch.setattr(waits.time, "monotonic", lambda: now[0])
    return slept


def flaky(errors: list[Exception], result: str = "ok"):
    """A call raising `errors` in turn, then returning `result`; counts its calls."""
    calls = []

    def fn() -> str:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return result

    fn.calls = calls  # type: ignore[attr-defined]
    return fn


def test_transient_errors_are_waited_out_with_capped_jittered_backoff(sleeps, caplog) -> None:
    fn = flaky([LogUnavailable("down")] * 8 + [LogFullError("/x")])
    with caplog.at_level(logging.WARNING, "riverbed.spark.waits"):
        assert waits.call(fn, "kafka://k1:9092?sasl.password=s3cret", "latestOffset", 300) == "ok"
    assert len(fn.calls) == 10 and len(sleeps) == 9
    for n, s in enumerate(sleeps):  # 0.5 s doubling up to 5 s, each cut by jitter to 50-100 %
        full = min(5.0, 0.5 * 2**n)
        assert full / 2 <= s <= full
    text = [r.getMessage() for r in caplog.records]
    assert len(text) == 2, text  # the outage starting and ending: not a line per attempt
    assert "kafka://k1:9092 is unavailable while latestOffset" in text[0] and "300 s" in text[0]
    assert "answered again" in text[1] and "9 retries" in text[1]
    assert "s3cret" not in " ".join(text)


def test_past_the_deadline_one_clear_error_names_the_log_and_the_call(sleeps) -> None:
    fn = flaky([LogUnavailable("cannot reach the Kafka broker at k1:9092")] * 1000)
    with pytest.raises(LogWaitExpired) as e:
        waits.call(fn, "kafka://k1:9092", "finding the latest offsets (latestOffset)", 20)
    assert not e.value.transient
    assert "gave up after 20 s (deadline 20 s) waiting for the log at kafka://k1:9092 while finding " \
           "the latest offsets (latestOffset): cannot reach" in str(e.value)
    assert "brokerWaitMs" in str(e.value)
    assert sum(sleeps) == pytest.approx(20)  # the last sleep is cut to the deadline


def test_other_errors_go_up_at_once(sleeps) -> None:
    with pytest.raises(TopicNotFound):
        waits.call(flaky([TopicNotFound("t")]), "kafka://k1:9092", "x", 300)
    assert sleeps == []


def test_each_outage_gets_its_own_deadline(sleeps) -> None:
    wait = waits.BrokerWait("kafka://k1:9092", "reading", 10)
    for _ in range(3):  # three outages of 3.75-7.5 s, each shorter than the deadline, > 10 s in all
        for _ in range(4):
            wait.failed(LogUnavailable("down"))
        wait.recovered()
    assert wait.since is None and sum(sleeps) > 10


def test_on_wait_sees_every_wait(sleeps) -> None:
    seen = []
    waits.call(flaky([LogUnavailable("a"), LogUnavailable("b")]), "kafka://k:1", "commit", 60,
               lambda what, err, delay: seen.append((what, str(err), delay)))
    assert [(w, e) for w, e, _ in seen] == [("commit", "a"), ("commit", "b")]
    assert [d for *_, d in seen] == sleeps


def test_the_deadline_comes_from_the_option_then_the_environment(monkeypatch) -> None:
    monkeypatch.delenv("RIVERBED_BROKER_WAIT", raising=False)
    assert resolve_broker_wait() == 300
    monkeypatch.setenv("RIVERBED_BROKER_WAIT", "45")
    assert resolve_broker_wait() == 45
    assert resolve_broker_wait("2500") == 2.5
    with pytest.raises(ConfigError, match="brokerWaitMs"):
        resolve_broker_wait("soon")
    monkeypatch.setenv("RIVERBED_BROKER_WAIT", "-1")
    with pytest.raises(ConfigError, match="RIVERBED_BROKER_WAIT"):
        resolve_broker_wait()


def test_sink_appends_resend_only_the_chunk_that_failed(sleeps, monkeypatch) -> None:
    import riverbed.log

    appended: list[tuple[str, list[int]]] = []
    failures = [LogUnavailable("timed out")]

    class FakeLog:
        def append(self, topic: str, records: list[int]) -> None:
            if len(appended) == 1 and failures:
                raise failures.pop()
            appended.append((topic, list(records)))

        def close(self) -> None:
            appended.append(("closed", []))

    monkeypatch.setattr(riverbed.log, "open_log", lambda url: FakeLog())
    waits.append_all("kafka://k:1", {"a.dlq": list(range(5)), "b": [9]}, 60, chunk=2)
    assert appended == [("a.dlq", [0, 1]), ("a.dlq", [2, 3]), ("a.dlq", [4]), ("b", [9]), ("closed", [])]
    assert len(sleeps) == 1
