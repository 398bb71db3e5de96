"""The garbage collector's settings during batch commands: changed inside, restored after, still collecting."""

import gc
import weakref

import pytest

from app.collector import BATCH_THRESHOLDS, batch_job


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def _cycle() -> weakref.ref[Node]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_inside_the_objects_alive_are_frozen_and_collections_are_rarer() -> None:
    before = gc.get_threshold()
    with batch_job():
        assert gc.get_threshold() == BATCH_THRESHOLDS
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_restored_when_the_job_fails() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), batch_job():
        raise RuntimeError("the batch broke")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_cycles_made_inside_are_still_collected_without_asking() -> None:
    with batch_job():
        collected = _cycle()
        # More allocations than a young collection waits for: the collector runs by itself.
        keep = [[] for _ in range(3 * BATCH_THRESHOLDS[0])]
        assert collected() is None
        del keep
