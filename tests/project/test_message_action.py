"""POST /_emulator/message/action: what the platform's operators do to one message (pause, resume,
cancel), the speedmarket edges no client method reaches. A refused action changes nothing."""
from __future__ import annotations

import httpx

from smsconform.emulator import mock

BASE = "http://127.0.0.1:2738"
DEMO = ("demo", "demo123")


def _action(body: dict) -> httpx.Response:
    return httpx.post(f"{BASE}/_emulator/message/action", json=body)


def _status(ident: str) -> str:
    answer = httpx.get(f"{BASE}/webservice-rest/mt_id", params={"id": ident}, auth=DEMO).json()
    return answer["messages"][0]["status"]


def test_pause_resume_and_cancel_follow_the_machine() -> None:
    with mock():
        sent = httpx.post(f"{BASE}/webservice-rest/send-single", auth=DEMO,
                          json={"type": 0, "number": "11991110001", "content": "oi",
                                "schedule": "2099-01-01 10:00:00"}).json()
        ident = int(sent["id"])
        seen = [_status(sent["id"])]
        for action in ("pause", "resume", "pause", "cancel"):
            answer = _action({"id": ident, "action": action})
            assert answer.status_code == 200, answer.text
            seen.append(_status(sent["id"]))
        assert seen == ["-1", "6", "-1", "6", "-6"]


def test_refused_actions_say_why_and_change_nothing() -> None:
    with mock():
        sent = httpx.post(f"{BASE}/webservice-rest/send-single", auth=DEMO,
                          json={"type": 0, "number": "11991110001", "content": "oi"}).json()
        ident = int(sent["id"])
        assert _action({"id": ident, "action": "resume"}).status_code == 409       # not paused
        httpx.post(f"{BASE}/_emulator/clock", json={"advance": 60})
        delivered = _status(sent["id"])
        for action in ("pause", "cancel"):                                       # already delivered
            answer = _action({"id": ident, "action": action})
            assert answer.status_code == 409 and "delivered" in answer.json()["error"], answer.text
        assert _status(sent["id"]) == delivered == "1"
        assert _action({"id": 999999, "action": "cancel"}).status_code == 409   # no such message
        assert _action({"id": ident, "hash": "0" * 32, "action": "cancel"}).status_code == 400
        assert _action({"action": "cancel"}).status_code == 400
        assert _action({"id": ident, "action": "explode"}).status_code == 400
