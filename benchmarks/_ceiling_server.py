"""The ceilings an HTTP send is measured against: uvicorn (httptools, uvloop, the emulator's settings) with
an ASGI endpoint that answers at once (`bare`), or that first inserts one row into SQLite and commits
(`insert`: WAL, synchronous=OFF, as the emulator's store). No parsing, no accounts, no state machine:
what an HTTP send cannot beat on this machine with this stack.

    python benchmarks/_ceiling_server.py --kind insert --port 8000 --db /tmp/ceiling.sqlite3
"""
from __future__ import annotations

import argparse
import sqlite3
import time
from typing import Any

import uvicorn

ANSWER = b"1;ceiling"
HEADERS = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(ANSWER)).encode())]


def bare() -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        await send({"type": "http.response.body", "body": ANSWER})

    return app


def insert(db_path: str) -> Any:
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("CREATE TABLE IF NOT EXISTS sends (id INTEGER PRIMARY KEY, number TEXT NOT NULL, "
               "query TEXT NOT NULL, at REAL NOT NULL)")

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await receive()
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO sends (number, query, at) VALUES (?, ?, ?)",
                   ("11991110001", scope["query_string"].decode("latin-1"), time.time()))
        db.execute("COMMIT")
        await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        await send({"type": "http.response.body", "body": ANSWER})

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", choices=("bare", "insert"), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", default=":memory:")
    args = parser.parse_args()
    app = bare() if args.kind == "bare" else insert(args.db)
    uvicorn.run(app, host="127.0.0.1", port=args.port, http="httptools", loop="uvloop", lifespan="off",
                access_log=False, log_level="warning", server_header=False, date_header=True)


if __name__ == "__main__":
    main()
