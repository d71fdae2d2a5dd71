"""Garbage collection in server processes: survivors are frozen, young garbage is not, frozen garbage is reclaimed."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from server import gcpolicy
from tests.waiting import until


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cycle collector frees it


class Memory:
    """The process's peak memory, as the test sets it; counts how often the policy looked at it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.reads = 0

    def __call__(self) -> int:
        self.reads += 1
        return self.size


def is_frozen(ref: weakref.ref[Node]) -> bool:
    """Frozen objects are in the permanent generation, which no collection (and no gc.get_objects) walks."""
    obj = ref()
    return obj is not None and not any(o is obj for o in gc.get_objects())


@pytest.fixture(autouse=True)
def _thawed() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_it_freezes_what_survives_so_full_collections_skip_it() -> None:
    survivor = Node()
    gcpolicy.freeze()
    assert gc.get_freeze_count() > 0
    assert is_frozen(weakref.ref(survivor))  # no collection walks it any more
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
    tasks = [t for t in asyncio.all_tasks() if "_maintain" in repr(t)]
    try:
        assert len(tasks) == 1
        await until(lambda: is_frozen(gone), "the process to freeze what survived")
        del node
        await until(lambda: gone() is None, "the scheduled reclaim to free what became garbage after the freeze")
    finally:
        for task in tasks:
            task.cancel()


async def test_it_is_off_when_the_interval_is_zero(settings) -> None:
    settings.GC_FREEZE_SECONDS = 0
    gcpolicy.start()
    assert not any("_maintain" in repr(t) for t in asyncio.all_tasks())


@contextlib.asynccontextmanager
async def frozen_garbage(memory: Memory, growth_gap: float,
                         closed: Callable[[], int] = lambda: 0) -> AsyncIterator[weakref.ref[Node]]:
    """The policy running on ``memory``, and a weak reference to a node it froze and that is now garbage."""
    task = asyncio.get_running_loop().create_task(
        gcpolicy._maintain(0.05, 3600, memory, growth_gap=growth_gap, closed=closed))
    try:
        node = Node()
        gone = weakref.ref(node)
        await until(lambda: is_frozen(gone), "the process to freeze the node")
        del node
        yield gone
    finally:
        task.cancel()


async def test_it_reclaims_early_when_memory_grew_by_a_quarter() -> None:
    memory = Memory(1000)
    async with frozen_garbage(memory, growth_gap=0) as gone:
        memory.size = 1200  # grew, but by less than a quarter
        looked = memory.reads
        # Not a pause that hopes the loop ran: two of its turns saw 1200 and left the garbage alone.
        await until(lambda: memory.reads >= looked + 2, "the policy to look at the grown memory")
        assert gone() is not None
        memory.size = 1300  # e.g. a wave of new connections
        await until(lambda: gone() is None, "the early reclaim after a quarter's growth")


async def test_memory_growing_with_a_wave_of_joins_is_not_collected_again_and_again() -> None:
    memory = Memory(1000)
    async with frozen_garbage(memory, growth_gap=3600) as gone:
        memory.size = 2000  # doubled, within the gap after the last full collection
        looked = memory.reads
        await until(lambda: memory.reads >= looked + 2 or gone() is None, "the policy to look at the grown memory")
        assert gone() is not None  # left for the next reclaim: no full collection within the gap


async def test_it_reclaims_early_when_many_connections_closed() -> None:
    """A reception closing (or a talk ending) leaves every connection's frozen cycles behind at once."""
    memory = Memory(1000)  # peak memory does not move: the new connections would take fresh memory instead
    closes = [0]
    async with frozen_garbage(memory, growth_gap=0, closed=lambda: closes[0]) as gone:
        closes[0] = gcpolicy.CLOSED - 1
        looked = memory.reads
        await until(lambda: memory.reads >= looked + 2, "the policy to look after the closes")
        assert gone() is not None  # one short of the threshold: left for the schedule
        closes[0] += 1
        await until(lambda: gone() is None, "the early reclaim after CLOSED connections closed")


def test_closed_connections_are_counted() -> None:
    before = gcpolicy.closed_connections()
    gcpolicy.connection_closed()
    assert gcpolicy.closed_connections() == before + 1


def resident_mib() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmRSS:"))


def test_a_reclaim_hands_the_memory_freed_on_a_worker_thread_back_to_the_system() -> None:
    # Admissions run on the thread pool: what a mass close frees there stayed mapped in that thread's
    # malloc arena, scattered between the survivors, and the process kept it as its high-water mark.
    kept: list[bytes] = []

    def admissions() -> None:
        blobs = [bytes(2000) + bytes([n % 256]) for n in range(100_000)]  # ~200 MiB, past pymalloc's sizes
        kept.extend(blobs[::50])  # one in fifty survives: no page is wholly free

    worker = threading.Thread(target=admissions)
    worker.start()
    worker.join()
    before = resident_mib()
    gcpolicy.reclaim()
    assert before - resident_mib() > 100, (before, resident_mib())
    assert len(kept) == 2000
