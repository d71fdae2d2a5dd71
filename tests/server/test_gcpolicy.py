"""Garbage collection in server processes: survivors are frozen, young garbage is not, frozen garbage is reclaimed."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from server import gcpolicy


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cycle collector frees it


@pytest.fixture(autouse=True)
def _thawed() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_it_freezes_what_survives_so_full_collections_skip_it() -> None:
    survivor = Node()
    gcpolicy.freeze()
    assert gc.get_freeze_count() > 0
    assert not any(o is survivor for o in gc.get_objects())  # no collection walks it any more
    del survivor


def test_it_does_not_freeze_young_garbage() -> None:
    garbage = Node()
    gone = weakref.ref(garbage)
    del garbage
    gcpolicy.freeze()
    assert gone() is None


def test_the_reclaim_frees_what_became_garbage_after_it_was_frozen() -> None:
    node = Node()
    gone = weakref.ref(node)
    gcpolicy.freeze()
    del node
    gc.collect()
    assert gone() is not None  # frozen: ordinary collections leave it alone
    gcpolicy.reclaim()
    assert gone() is None
    assert gc.get_freeze_count() > 0  # and the survivors are frozen again


async def test_a_server_process_freezes_once_a_second_and_reclaims_on_schedule(settings) -> None:
    settings.GC_FREEZE_SECONDS = 0.05
    settings.GC_RECLAIM_SECONDS = 0.2
    node = Node()
    gone = weakref.ref(node)
    gcpolicy.start()
    gcpolicy.start()  # once per process: a second call adds no second task
    assert sum(1 for t in asyncio.all_tasks() if "_maintain" in repr(t)) == 1
    await asyncio.sleep(0.12)
    assert gc.get_freeze_count() > 0
    del node
    for _ in range(40):
        await asyncio.sleep(0.05)
        if gone() is None:
            break
    assert gone() is None
    for task in [t for t in asyncio.all_tasks() if "_maintain" in repr(t)]:
        task.cancel()


async def test_it_is_off_when_the_interval_is_zero(settings) -> None:
    settings.GC_FREEZE_SECONDS = 0
    gcpolicy.start()
    assert not any("_maintain" in repr(t) for t in asyncio.all_tasks())


async def test_it_reclaims_early_when_memory_grew_by_a_quarter() -> None:
    memory = [1000]
    task = asyncio.get_running_loop().create_task(gcpolicy._maintain(0.05, 3600, lambda: memory[0]))
    await asyncio.sleep(0.12)
    node = Node()
    gone = weakref.ref(node)
    await asyncio.sleep(0.12)  # frozen
    del node
    memory[0] = 1200  # grew, but by less than a quarter
    await asyncio.sleep(0.2)
    assert gone() is not None
    memory[0] = 1300  # e.g. a wave of new connections
    for _ in range(40):
        await asyncio.sleep(0.05)
        if gone() is None:
            break
    assert gone() is None
    task.cancel()
