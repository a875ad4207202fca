"""Clients, their users (integration users among them), levels, cost centres and credit pools."""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, Iterable

from .refusal import Refused
from .store import Store

KINDS = ("long", "flash", "short", "voice", "whatsapp")
DEFAULT_LEVELS = ((0, "USUARIO", 1, 0), (1, "ADMINISTRADOR", 1, 1))


def integration_user_for(login: str) -> str:
    """The integration user the provider derives from a login: its CRC32 as 8 lowercase hex digits."""
    return f"{zlib.crc32(login.encode('utf-8')):08x}"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user of a client, with what the rules need to know about both."""

    user_id: int
    client_id: int
    login: str
    level: int
    can_send: bool
    can_admin: bool
    mode: str
    distribution: int
    requires_cost_centre: bool
    blocked: bool
    allowed_kinds: frozenset[str]
    duplicate_protection: bool
    international: bool
    fixture: str | None

    @property
    def prepaid(self) -> bool:
        return self.mode == "prepaid"


_PRINCIPAL_SQL = """
SELECT u.id AS user_id, u.client_id, u.login, u.level, u.active AS user_active, u.fixture, u.password,
       c.active AS client_active, c.mode, c.distribution, c.requires_cost_centre, c.blocked,
       c.allowed_kinds, c.duplicate_protection, c.international,
       COALESCE(l.can_send, 1) AS can_send, COALESCE(l.can_admin, 0) AS can_admin
FROM users u JOIN clients c ON c.id = u.client_id
LEFT JOIN levels l ON l.client_id = u.client_id AND l.id = u.level
WHERE {where}
"""


class Accounts:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._cache: dict[tuple[str, str], Principal] = {}
        self.refuse_next: str | None = None  # set by a `refuse` fault: the next log-in raises it (app.py)

    def invalidate(self) -> None:
        self._cache.clear()

    # -- authentication -----------------------------------------------------------------------------
    def _forced(self) -> None:
        """A refusal the control API asked for (a `refuse` fault): raised by the request's log-in, the first
        thing every operation does, so the operation answers it as its own code for that reason."""
        reason, self.refuse_next = self.refuse_next, None
        if reason:
            raise Refused(reason)

    def _principal(self, where: str, value: str, password: str | None = None) -> Principal:
        row = self.store.db.execute(_PRINCIPAL_SQL.format(where=where), (value,)).fetchone()
        if row is None or (password is not None and row["password"] != password):
            raise Refused("bad_credentials")
        user_ok, client_ok = bool(row["user_active"]), bool(row["client_active"])
        if not user_ok and not client_ok:
            raise Refused("user_or_client_disabled")
        if not client_ok:
            raise Refused("client_disabled")
        if not user_ok:
            raise Refused("user_disabled")
        return Principal(
            user_id=row["user_id"], client_id=row["client_id"], login=row["login"], level=row["level"],
            can_send=bool(row["can_send"]), can_admin=bool(row["can_admin"]), mode=row["mode"],
            distribution=row["distribution"], requires_cost_centre=bool(row["requires_cost_centre"]),
            blocked=bool(row["blocked"]), allowed_kinds=frozenset(row["allowed_kinds"].split(",")),
            duplicate_protection=bool(row["duplicate_protection"]), international=bool(row["international"]),
            fixture=row["fixture"],
        )

    def by_integration_user(self, u: str) -> Principal:
        self._forced()
        key = ("u", u)
        if key not in self._cache:
            self._cache[key] = self._principal("u.integration_user = ?", (u or "").strip().lower())
        return self._cache[key]

    def by_login(self, login: str, password: str) -> Principal:
        self._forced()
        key = ("l", f"{login}\x00{password}")
        if key not in self._cache:
            self._cache[key] = self._principal("u.login = ?", login or "", password or "")
        return self._cache[key]

    def by_token(self, token: str) -> Principal:
        self._forced()
        key = ("t", token)
        if key not in self._cache:
            self._cache[key] = self._principal("u.token = ?", token or "")
        return self._cache[key]

    # -- seeding ------------------------------------------------------------------------------------
    def create(self, spec: dict[str, Any], fixture: str | None = None) -> int:
        """Create a client with its main user from a profile entry; returns the user id."""
        db = self.store.db
        login = spec["login"]
        with self.store.transaction():
            cur = db.execute(
                "INSERT INTO clients (name, active, mode, distribution, requires_cost_centre, blocked,"
                " allowed_kinds, duplicate_protection, international, activation, expiration)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    spec.get("name", login.upper()), int(spec.get("client_active", True)),
                    spec.get("mode", "prepaid"), int(spec.get("distribution", 0)),
                    int(spec.get("requires_cost_centre", False)), int(spec.get("blocked", False)),
                    ",".join(spec.get("allowed_kinds", KINDS)), int(spec.get("duplicate_protection", False)),
                    int(spec.get("international", False)), spec.get("activation"), spec.get("expiration"),
                ),
            )
            client_id = cur.lastrowid
            for level_id, name, can_send, can_admin in DEFAULT_LEVELS:
                db.execute("INSERT INTO levels VALUES (?, ?, ?, ?, ?)", (level_id, client_id, name, can_send, can_admin))
            db.execute("INSERT INTO levels VALUES (?, ?, ?, ?, ?)", (6, client_id, "NIVEL 1", 0, 0))
            level = int(spec.get("level", 1 if spec.get("can_send", True) else 6))
            cur = db.execute(
                "INSERT INTO users (client_id, login, password, name, level, active, integration_user, token, fixture)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    client_id, login, spec["password"], spec.get("name", login.upper()), level,
                    int(spec.get("user_active", True)),
                    spec.get("integration_user") or integration_user_for(login), spec.get("token"), fixture,
                ),
            )
            user_id = cur.lastrowid
            for centre in spec.get("cost_centres", ()):
                db.execute("INSERT INTO cost_centres (client_id, name) VALUES (?, ?)", (client_id, centre))
            for kind, amount in (spec.get("credits") or {}).items():
                db.execute("INSERT INTO credits VALUES (?, 'client', ?, ?)", (client_id, kind, int(amount)))
        self.invalidate()
        return int(user_id)

    # -- credits ------------------------------------------------------------------------------------
    def balance(self, client_id: int, scope: str = "client") -> dict[str, int]:
        rows = self.store.db.execute(
            "SELECT kind, amount FROM credits WHERE client_id = ? AND scope = ?", (client_id, scope)
        ).fetchall()
        found = {r["kind"]: r["amount"] for r in rows}
        return {kind: int(found.get(kind, 0)) for kind in KINDS}

    def credit_rows(self, client_id: int) -> list[tuple[str, str, int]]:
        return [
            (r["scope"], r["kind"], r["amount"])
            for r in self.store.db.execute(
                "SELECT scope, kind, amount FROM credits WHERE client_id = ? ORDER BY scope, kind", (client_id,)
            )
        ]

    def add_credits(self, client_id: int, kind: str, amount: int, scope: str = "client") -> int:
        if kind not in KINDS:
            raise ValueError(f"unknown credit kind {kind!r}; one of {', '.join(KINDS)}")
        db = self.store.db
        db.execute(
            "INSERT INTO credits VALUES (?, ?, ?, MAX(0, ?)) ON CONFLICT (client_id, scope, kind)"
            " DO UPDATE SET amount = MAX(0, amount + excluded.amount)",
            (client_id, scope, kind, amount),
        )
        return self.balance(client_id, scope)[kind]

    def debit(self, principal: Principal, scope: str, needs: dict[str, int]) -> None:
        """Take the credits a batch costs, all or nothing (the caller's transaction rolls back a refusal);
        postpaid clients are never refused."""
        if not principal.prepaid:
            return
        db = self.store.db
        for kind, amount in needs.items():
            if not amount:
                continue
            cursor = db.execute(
                "UPDATE credits SET amount = amount - ? WHERE client_id = ? AND scope = ? AND kind = ? AND amount >= ?",
                (amount, principal.client_id, scope, kind, amount),
            )
            if cursor.rowcount != 1:
                have = self.balance(principal.client_id, scope).get(kind, 0)
                raise Refused("insufficient_credits", f"{kind}: need {amount}, have {have}")

    def refund(self, client_id: int, scope: str, kind: str, amount: int) -> None:
        self.store.db.execute(
            "UPDATE credits SET amount = amount + ? WHERE client_id = ? AND scope = ? AND kind = ?",
            (amount, client_id, scope, kind),
        )

    # -- administration (mensagem's user and cost-centre functions) ----------------------------------
    def levels(self, client_id: int) -> list[tuple[int, str]]:
        return [(r[0], r[1]) for r in self.store.db.execute(
            "SELECT id, name FROM levels WHERE client_id = ? ORDER BY id", (client_id,))]

    def users(self, client_id: int) -> list[dict[str, Any]]:
        return [dict(r) for r in self.store.db.execute(
            "SELECT id, active, login, name, level FROM users WHERE client_id = ? ORDER BY id", (client_id,))]

    def add_user(self, client_id: int, name: str, login: str, password: str, level: int,
                 cost_centres: Iterable[int]) -> int:
        db = self.store.db
        if db.execute("SELECT 1 FROM users WHERE login = ?", (login,)).fetchone():
            raise Refused("duplicate", login)
        if not db.execute("SELECT 1 FROM levels WHERE client_id = ? AND id = ?", (client_id, level)).fetchone():
            raise Refused("bad_level", str(level))
        cur = db.execute(
            "INSERT INTO users (client_id, login, password, name, level, cost_centres) VALUES (?, ?, ?, ?, ?, ?)",
            (client_id, login, password, name, level, "|".join(str(c) for c in cost_centres)),
        )
        self.invalidate()
        return int(cur.lastrowid)

    def update_user(self, client_id: int, user_id: int, changes: dict[str, Any]) -> None:
        db = self.store.db
        if not db.execute("SELECT 1 FROM users WHERE id = ? AND client_id = ?", (user_id, client_id)).fetchone():
            raise Refused("user_not_found", str(user_id))
        if "level" in changes and not db.execute(
            "SELECT 1 FROM levels WHERE client_id = ? AND id = ?", (client_id, changes["level"])
        ).fetchone():
            raise Refused("bad_level", str(changes["level"]))
        if "cost_centres" in changes:
            changes["cost_centres"] = "|".join(str(c) for c in changes["cost_centres"])
        for column, value in changes.items():
            db.execute(f"UPDATE users SET {column} = ? WHERE id = ?", (value, user_id))
        self.invalidate()

    def cost_centres(self, client_id: int) -> list[dict[str, Any]]:
        return [dict(r) for r in self.store.db.execute(
            "SELECT id, name, active, emails FROM cost_centres WHERE client_id = ? ORDER BY id", (client_id,))]

    def cost_centre_active(self, client_id: int, centre_id: int) -> bool:
        row = self.store.db.execute(
            "SELECT active FROM cost_centres WHERE client_id = ? AND id = ?", (client_id, centre_id)).fetchone()
        return bool(row and row[0])

    def add_cost_centre(self, client_id: int, name: str, emails: str) -> int:
        db = self.store.db
        if db.execute("SELECT 1 FROM cost_centres WHERE client_id = ? AND name = ?", (client_id, name)).fetchone():
            raise Refused("duplicate", name)
        return int(db.execute(
            "INSERT INTO cost_centres (client_id, name, emails) VALUES (?, ?, ?)", (client_id, name, emails)
        ).lastrowid)

    def update_cost_centre(self, client_id: int, centre_id: int, changes: dict[str, Any]) -> None:
        db = self.store.db
        if not db.execute("SELECT 1 FROM cost_centres WHERE id = ? AND client_id = ?", (centre_id, client_id)).fetchone():
            raise Refused("not_found", str(centre_id))
        for column, value in changes.items():
            db.execute(f"UPDATE cost_centres SET {column} = ? WHERE id = ?", (value, centre_id))

    def callback_url(self, client_id: int, dialect: str, kind: str) -> str | None:
        row = self.store.db.execute(
            "SELECT url FROM callback_urls WHERE client_id = ? AND dialect = ? AND kind = ?",
            (client_id, dialect, kind)).fetchone()
        return row[0] if row else None

    def set_callback_url(self, client_id: int, dialect: str, kind: str, url: str | None) -> None:
        if url:
            self.store.db.execute("INSERT OR REPLACE INTO callback_urls VALUES (?, ?, ?, ?)",
                                  (client_id, dialect, kind, url))
        else:
            self.store.db.execute("DELETE FROM callback_urls WHERE client_id = ? AND dialect = ? AND kind = ?",
                                  (client_id, dialect, kind))
