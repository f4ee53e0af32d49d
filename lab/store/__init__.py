"""State stores. SQLite by default; see base.Store for the contract."""

from .base import Store
from .sqlite import SQLiteStore

__all__ = ["SQLiteStore", "Store"]
