"""State stores. SQLite by default; see base.Store for the contract."""

from .base import Once, Store, once_key
from .sqlite import SQLiteStore

__all__ = ["Once", "SQLiteStore", "Store", "once_key"]
