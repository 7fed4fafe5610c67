"""The stores of the partitions this process owns: opened and restored on assignment."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from bus.config import StateBackend
from bus.query import StateSnapshot, StateUnavailableError
from bus.service import Service
from bus.state.backends import open_backend
from bus.state.restore import RestoreTarget, restore
from bus.state.store import StorePartition

__all__ = ["StateManager"]


class StateManager:
    """Store partitions keyed by (store, partition); the partition is the input partition.

    The processing loop changes what is on disk (restore, checkpoint step 5, revoke) under
    :attr:`lock`; interactive queries read a :meth:`snapshot` under the same lock, so they see
    committed data only, every partition at the same checkpoint.
    """

    def __init__(
        self,
        service: Service,
        state_dir: Path,
        backend: StateBackend,
        client_config: Mapping[str, str],
        restore_timeout_s: float,
    ) -> None:
        self._service = service
        self._root = state_dir / service.name
        self._backend = backend
        self._client_config = client_config
        self._restore_timeout_s = restore_timeout_s
        self._open: dict[tuple[str, int], StorePartition] = {}
        self.lock = threading.RLock()
        self._restoring = False

    @property
    def stateful(self) -> bool:
        return bool(self._service.stores)

    def get(self, store: str, partition: int) -> StorePartition:
        try:
            return self._open[(store, partition)]
        except KeyError:
            raise KeyError(f"store {store!r} partition {partition} is not assigned here") from None

    @property
    def opened(self) -> Mapping[tuple[str, int], StorePartition]:
        """The open store partitions by (store, partition), live: the processing loop's lookup
        per state change, one dict read instead of a call of :meth:`get`."""
        return self._open

    def partitions(self) -> Iterator[StorePartition]:
        return iter(list(self._open.values()))

    def assign(self, partitions: Iterable[int]) -> int:
        """Open (if needed) and restore the stores of ``partitions``; returns records restored."""
        with self.lock:
            self._restoring = True
            try:
                return self._assign(partitions)
            finally:
                self._restoring = False

    def _assign(self, partitions: Iterable[int]) -> int:
        targets: list[RestoreTarget] = []
        for partition in sorted(set(partitions)):
            for spec in self._service.stores:
                store = self._open.get((spec.name, partition))
                if store is None:
                    path = self._root / spec.name / str(partition)
                    store = StorePartition(spec.name, partition, open_backend(self._backend, path), spec.ttl)
                    self._open[(spec.name, partition)] = store
                targets.append(RestoreTarget(store, self._service.changelog_topic(spec.name)))
        return restore(self._client_config, f"{self._service.name}.restore", targets, self._restore_timeout_s)

    def resync(self) -> int:
        """After an abort or an unknown transaction outcome: drop overlays, catch up from changelogs."""
        for store in self._open.values():
            store.discard()
        return self.assign({partition for _, partition in self._open})

    def revoke(self, partitions: Iterable[int]) -> None:
        with self.lock:
            self._revoke(partitions)

    def _revoke(self, partitions: Iterable[int]) -> None:
        for partition in set(partitions):
            for spec in self._service.stores:
                store = self._open.pop((spec.name, partition), None)
                if store is not None:
                    store.discard()
                    store.close()

    def close(self) -> None:
        self.revoke({partition for _, partition in self._open})

    @contextmanager
    def snapshot(self, timeout_s: float) -> Iterator[StateSnapshot]:
        """The committed state of the owned partitions, held still while the block runs."""
        if self._restoring:
            raise StateUnavailableError("restoring")
        if not self.lock.acquire(timeout=timeout_s):
            raise StateUnavailableError("restoring" if self._restoring else "busy")
        try:
            if self._service.stores and not self._open:
                raise StateUnavailableError("no partitions assigned")
            stores: dict[str, list[StorePartition]] = {spec.name: [] for spec in self._service.stores}
            for (name, _), part in self._open.items():
                stores[name].append(part)
            yield StateSnapshot(stores)
        finally:
            self.lock.release()
