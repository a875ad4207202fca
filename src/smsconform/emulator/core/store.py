"""The SQLite file that holds every account, message and callback, so a restart loses nothing.

WAL with synchronous=NORMAL: a commit survives the process being killed (the test kills it with -9);
only a power cut could lose the last commits, which is the price of thousands of sends per second.
"""
from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS clients (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1,
    mode TEXT NOT NULL DEFAULT 'prepaid', distribution INTEGER NOT NULL DEFAULT 0,
    requires_cost_centre INTEGER NOT NULL DEFAULT 0, blocked INTEGER NOT NULL DEFAULT 0,
    allowed_kinds TEXT NOT NULL DEFAULT 'long,flash,short,voice,whatsapp',
    duplicate_protection INTEGER NOT NULL DEFAULT 0, international INTEGER NOT NULL DEFAULT 0,
    activation REAL, expiration REAL);
CREATE TABLE IF NOT EXISTS levels (
    id INTEGER NOT NULL, client_id INTEGER NOT NULL, name TEXT NOT NULL, can_send INTEGER NOT NULL DEFAULT 1,
    can_admin INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (client_id, id));
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY, client_id INTEGER NOT NULL, login TEXT NOT NULL UNIQUE, password TEXT NOT NULL,
    name TEXT NOT NULL, level INTEGER NOT NULL DEFAULT 1, active INTEGER NOT NULL DEFAULT 1,
    integration_user TEXT UNIQUE, token TEXT UNIQUE, cost_centres TEXT NOT NULL DEFAULT '',
    fixture TEXT);
CREATE TABLE IF NOT EXISTS cost_centres (
    id INTEGER PRIMARY KEY, client_id INTEGER NOT NULL, name TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1,
    emails TEXT NOT NULL DEFAULT '', UNIQUE (client_id, name));
CREATE TABLE IF NOT EXISTS credits (
    client_id INTEGER NOT NULL, scope TEXT NOT NULL, kind TEXT NOT NULL, amount INTEGER NOT NULL,
    PRIMARY KEY (client_id, scope, kind));
CREATE TABLE IF NOT EXISTS callback_urls (
    client_id INTEGER NOT NULL, dialect TEXT NOT NULL, kind TEXT NOT NULL, url TEXT NOT NULL,
    PRIMARY KEY (client_id, dialect, kind));
CREATE TABLE IF NOT EXISTS campaigns (
    id INTEGER PRIMARY KEY, client_id INTEGER NOT NULL, dialect TEXT NOT NULL, state TEXT NOT NULL,
    created_at REAL NOT NULL, callback_url TEXT, reference TEXT);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY, client_id INTEGER NOT NULL, user_id INTEGER NOT NULL, dialect TEXT NOT NULL,
    hash TEXT NOT NULL, number TEXT NOT NULL, text TEXT NOT NULL, kind TEXT NOT NULL,
    type INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL, schedule_at REAL, state TEXT NOT NULL,
    next_at REAL, outcome TEXT NOT NULL DEFAULT 'delivered', operator TEXT, external_id TEXT,
    cost_centre INTEGER, campaign_id TEXT, campaign INTEGER, parts INTEGER NOT NULL, cost INTEGER NOT NULL,
    scope TEXT NOT NULL DEFAULT 'client', file TEXT, priority INTEGER NOT NULL DEFAULT 0,
    history TEXT NOT NULL, lazy INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS messages_client_created ON messages (client_id, created_at);
CREATE INDEX IF NOT EXISTS messages_campaign_id ON messages (client_id, campaign_id) WHERE campaign_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_campaign ON messages (campaign) WHERE campaign IS NOT NULL;
CREATE TABLE IF NOT EXISTS mo (
    id INTEGER PRIMARY KEY, client_id INTEGER NOT NULL, number TEXT NOT NULL, text TEXT NOT NULL,
    received_at REAL NOT NULL, message_id INTEGER, fetched INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS mo_client ON mo (client_id, received_at);
CREATE TABLE IF NOT EXISTS outcomes (number TEXT PRIMARY KEY, outcome TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY, client_id INTEGER NOT NULL, dialect TEXT NOT NULL, kind TEXT NOT NULL,
    url TEXT NOT NULL, method TEXT NOT NULL DEFAULT 'GET', body TEXT, message_id INTEGER,
    created_at REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at REAL, retry_at REAL,
    delivered_at REAL, last_error TEXT);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_at) WHERE next_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS outbox_message ON outbox (message_id) WHERE next_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS rate_marks (client_id INTEGER NOT NULL, action TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (client_id, action));
"""

# Indexes on columns a later version added: created after MIGRATIONS has brought an older file up to date.
INDEXES = """
DROP INDEX IF EXISTS messages_due;
CREATE INDEX IF NOT EXISTS messages_due_observed ON messages (next_at) WHERE next_at IS NOT NULL AND lazy = 0;
CREATE INDEX IF NOT EXISTS messages_due_lazy ON messages (next_at) WHERE next_at IS NOT NULL AND lazy = 1;
"""

# (table, column, definition): columns added since the first release, so an older SQLite file still opens.
MIGRATIONS = [("messages", "lazy", "INTEGER NOT NULL DEFAULT 0")]


class Store:
    """One SQLite connection, shared by the server's event loop and the mocks behind a lock."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.lock = threading.RLock()
        self._depth = 0
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=OFF")
        self.db.execute("PRAGMA cache_size=-65536")
        self.db.executescript(SCHEMA)
        for table, column, definition in MIGRATIONS:
            if column not in {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}:
                self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
        self.db.executescript(INDEXES)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit; a transaction opened inside another joins it (the outer one commits)."""
        with self.lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.db
                finally:
                    self._depth -= 1
                return
            self.db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            else:
                self.db.execute("COMMIT")
            finally:
                self._depth = 0

    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def wipe(self) -> None:
        with self.lock:
            tables = [r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            self.db.execute("BEGIN IMMEDIATE")
            for table in tables:
                self.db.execute(f"DELETE FROM {table}")
            self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()
