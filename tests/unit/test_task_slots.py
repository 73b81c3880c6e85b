"""`task_slots`: how many tasks a session runs at once, read from the master for local sessions
(their default parallelism is set to 4 whatever the cores) and from Spark otherwise."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from riverbed.spark.session import task_slots


def session(master: str, parallelism: int = 4) -> SimpleNamespace:
    return SimpleNamespace(sparkContext=SimpleNamespace(master=master, defaultParallelism=parallelism))


@pytest.mark.parametrize(("master", "slots"), [
    ("local", 1), ("local[1]", 1), ("local[2]", 2), ("local[16]", 16), ("local[3,2]", 3), ("local[3, 2]", 3),
])
def test_local_masters_count_their_threads(master: str, slots: int) -> None:
    assert task_slots(session(master)) == slots


def test_local_star_is_the_cores_this_process_may_use() -> None:
    assert task_slots(session("local[*]")) == len(os.sched_getaffinity(0))
    assert task_slots(session("local[*,4]")) == len(os.sched_getaffinity(0))


@pytest.mark.parametrize("master", ["spark://10.0.0.5:7077", "yarn", "k8s://https://kube:6443",
                                    "local-cluster[2,1,1024]"])
def test_cluster_masters_use_the_default_parallelism(master: str) -> None:
    assert task_slots(session(master, 12)) == 12
    assert task_slots(session(master, 0)) == 1
