"""State stores: key-value per partition, changelogged in the transaction, restored on assignment."""

from bus.state.manager import StateManager
from bus.state.store import StorePartition

__all__ = ["StateManager", "StorePartition"]
