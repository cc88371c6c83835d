"""The storage port (``port.Store``) and its adapters. Only this package imports sqlite3 or pymongo."""
