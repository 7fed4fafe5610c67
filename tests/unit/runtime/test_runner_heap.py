"""The loop freezes the startup heap and makes young collections rarer (CPU per record)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bus import runner

pytestmark = pytest.mark.unit


@pytest.fixture
def gc_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    threshold = gc.get_threshold()
    monkeypatch.setattr(runner, "_settled", False)  # as in a fresh process
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


@pytest.mark.usefixtures("gc_state")
def test_startup_objects_are_frozen_and_young_collections_rarer() -> None:
    gc.set_threshold(700, 10, 10)  # CPython's defaults
    built_at_startup = {"schema": []}
    assert any(tracked is built_at_startup for tracked in gc.get_objects())
    runner.settle_heap()
    assert gc.is_tracked(built_at_startup)
    assert not any(tracked is built_at_startup for tracked in gc.get_objects())  # frozen: not scanned
    assert gc.get_threshold() == (runner._GC_YOUNG_THRESHOLD, 10, 10)


@pytest.mark.usefixtures("gc_state")
@pytest.mark.parametrize("young", [0, 50_000])
def test_a_threshold_set_by_the_process_is_kept(young: int) -> None:
    gc.set_threshold(young, 10, 10)  # 0: collection off
    runner.settle_heap()
    assert gc.get_threshold() == (young, 10, 10)


@pytest.mark.usefixtures("gc_state")
def test_only_the_first_loop_of_a_process_freezes() -> None:
    runner.settle_heap()
    frozen = gc.get_freeze_count()
    live_of_the_first_loop = {"in-flight": []}
    runner.settle_heap()  # a second loop (the merger's other role, an in-thread test runtime)
    assert gc.get_freeze_count() == frozen
    assert any(tracked is live_of_the_first_loop for tracked in gc.get_objects())  # still collectable
