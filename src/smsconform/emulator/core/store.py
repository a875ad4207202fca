"""The SQLite file that holds every account, message and callback, so a restart loses nothing.

WAL with synchronous=OFF: a commit is in the operating system's hands when it returns, so it survives
the process being killed (the restart test kills it with -9); only an OS crash or a power cut could lose
the last commits or damage the file. That is the price of ten thousand sends a second, and a fair one
for an emulator: no real money or message depends on its file.

A message is one row of `recipients` (what differs between the numbers of a request: number, state,
outcome, history) under one row of `submissions` (what the request gave them all: text, kind, schedule,
cost centre); the `messages` view joins them back. A mult of 1000 numbers writes one wide row and 1000
narrow ones, which is most of what makes 100,000 messages a second possible. A submission owns the
consecutive ids `id..last_id`, so the view joins either way without an index on `recipients.submission`.
The view's `hash` comes from the SQL function `protocol`, which the core registers (Protocols.encode).
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
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY, last_id INTEGER NOT NULL, client_id INTEGER NOT NULL, user_id INTEGER NOT NULL,
    dialect TEXT NOT NULL, text TEXT NOT NULL, kind TEXT NOT NULL, type INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL, schedule_at REAL, cost_centre INTEGER, campaign INTEGER, parts INTEGER NOT NULL,
    scope TEXT NOT NULL DEFAULT 'client', file TEXT, priority INTEGER NOT NULL DEFAULT 0,
    due_at REAL);  -- when its first unobserved (lazy) message not yet settled is due: see Core.settle
CREATE INDEX IF NOT EXISTS submissions_client_created ON submissions (client_id, created_at);
CREATE INDEX IF NOT EXISTS submissions_due ON submissions (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS submissions_campaign ON submissions (campaign) WHERE campaign IS NOT NULL;
CREATE TABLE IF NOT EXISTS recipients (
    id INTEGER PRIMARY KEY, submission INTEGER NOT NULL, number TEXT NOT NULL, state TEXT NOT NULL,
    next_at REAL, outcome TEXT NOT NULL DEFAULT 'delivered', operator TEXT, external_id TEXT, campaign_id TEXT,
    cost INTEGER NOT NULL, history TEXT NOT NULL, lazy INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS recipients_campaign_id ON recipients (campaign_id) WHERE campaign_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS recipients_due_observed ON recipients (next_at) WHERE next_at IS NOT NULL AND lazy = 0;
CREATE VIEW IF NOT EXISTS messages AS
SELECT r.id, s.client_id, s.user_id, s.dialect, protocol(r.id) AS hash, r.number, s.text, s.kind, s.type,
       s.created_at, s.schedule_at, r.state, r.next_at, r.outcome, r.operator, r.external_id, s.cost_centre,
       r.campaign_id, s.campaign, s.parts, r.cost, s.scope, s.file, s.priority, r.history, r.lazy
FROM recipients r JOIN submissions s ON s.id = r.submission AND r.id BETWEEN s.id AND s.last_id;
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
CREATE TABLE IF NOT EXISTS callback_attempts (  -- one row per delivery attempt of an outbox callback
    callback_id INTEGER NOT NULL, at REAL NOT NULL, wall REAL NOT NULL, answer TEXT, error TEXT);
CREATE INDEX IF NOT EXISTS callback_attempts_callback ON callback_attempts (callback_id);
CREATE TABLE IF NOT EXISTS rate_marks (client_id INTEGER NOT NULL, action TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (client_id, action));
"""

# The first release kept one wide `messages` table; an emulator file it wrote is converted on opening.
LEGACY_MESSAGES = """
DROP INDEX IF EXISTS messages_due; DROP INDEX IF EXISTS messages_client_created;
DROP INDEX IF EXISTS messages_campaign_id; DROP INDEX IF EXISTS messages_campaign;
ALTER TABLE messages RENAME TO legacy_messages;
"""
LEGACY_COPY = """
INSERT INTO submissions SELECT id, id, client_id, user_id, dialect, text, kind, type, created_at, schedule_at,
    cost_centre, campaign, parts, scope, file, priority, NULL FROM legacy_messages;
INSERT INTO recipients SELECT id, id, number, state, next_at, outcome, operator, external_id, campaign_id, cost,
    history, 0 FROM legacy_messages;
DROP TABLE legacy_messages;
"""


WAL_LIMIT_BYTES = 64 * 1024 * 1024


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
        self._grouped = False   # inside group(): a transaction is a savepoint of the group's one commit
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=OFF")
        # A checkpoint truncates the write-ahead log to this size: after a burst of millions it shrinks back
        # instead of staying as large as the burst made it.
        self.db.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
        self.db.execute("PRAGMA foreign_keys=OFF")
        self.db.execute("PRAGMA cache_size=-65536")
        legacy = self.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'messages'").fetchone()
        if legacy:
            self.db.executescript(f"BEGIN IMMEDIATE; {LEGACY_MESSAGES} {SCHEMA} {LEGACY_COPY} COMMIT;")
        else:
            self.db.executescript(SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit; a transaction opened inside another joins it (the outer one commits). Inside
        group() it is a savepoint: undone alone if it fails, made durable by the group's commit."""
        with self.lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.db
                finally:
                    self._depth -= 1
                return
            begin, undo, done = (("SAVEPOINT unit", "ROLLBACK TO unit; RELEASE unit", "RELEASE unit")
                                 if self._grouped else ("BEGIN IMMEDIATE", "ROLLBACK", "COMMIT"))
            self.db.execute(begin)
            self._depth = 1
            try:
                yield self.db
            except BaseException:
                for statement in undo.split("; "):
                    self.db.execute(statement)
                raise
            else:
                self.db.execute(done)
            finally:
                self._depth = 0

    @contextmanager
    def group(self) -> Iterator[None]:
        """Many transactions, one commit (group commit): BEGIN IMMEDIATE and COMMIT cost a sending request
        more than its own inserts do, so the server runs the requests that arrived together inside one
        group and answers them only once it has committed: an answered send is as durable as before.
        Each transaction inside stays atomic on its own (a savepoint). If the commit fails, everything
        inside is rolled back and the exception raised: the caller answers none of it as a success."""
        with self.lock:
            if self._grouped or self._depth:
                raise RuntimeError("a group cannot open inside a transaction or another group")
            self.db.execute("BEGIN IMMEDIATE")
            self._grouped = True
            try:
                yield
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            else:
                try:
                    self.db.execute("COMMIT")
                except BaseException:
                    if self.db.in_transaction:
                        self.db.execute("ROLLBACK")
                    raise
            finally:
                self._grouped = False

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
