"""murmur2 must equal Kafka's, so a key lands where the Java client would put it."""

from __future__ import annotations

import pytest

from riverbed.log.partitioner import murmur2, partition_for, to_positive

# org.apache.kafka.common.utils.UtilsTest#testMurmur2
KAFKA_VECTORS = {
    b"21": -973932308,
    b"foobar": -790332482,
    b"a-little-bit-long-string": -985981536,
    b"a-little-bit-longer-string": -1486304829,
    b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    b"abc": 479470107,
}


@pytest.mark.parametrize(("key", "expected"), KAFKA_VECTORS.items())
def test_murmur2_matches_kafka(key: bytes, expected: int) -> None:
    assert murmur2(key) == expected


def test_to_positive_clears_sign_bit_like_kafka() -> None:
    assert to_positive(-1) == 0x7FFFFFFF
    assert to_positive(-(2**31)) == 0
    assert to_positive(5) == 5


def test_partition_is_in_range_and_stable() -> None:
    parts = [partition_for(f"k{i}".encode(), 7) for i in range(1000)]
    assert set(parts) == set(range(7))
    assert parts == [partition_for(f"k{i}".encode(), 7) for i in range(1000)]
    assert partition_for(b"", 3) == to_positive(murmur2(b"")) % 3
