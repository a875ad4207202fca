"""core/inbox.py: one MO inbox per provider (speedmarket, 001; the mensagem provider, 003: HTTP, wbsapi,
SMPP), and type filters that cannot hide a reply to no message (issue 13)."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from smsconform.emulator.core import Core
from smsconform.emulator.core.inbox import Inbox
from smsconform.emulator.core.messages import Submission

VALID = ["11991110001", "21991110002"]


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    core = Core(tmp_path / "inbox.sqlite3", frozen=True)
    yield core
    core.store.close()


def _sent(core: Core, dialect: str, type: int = 0) -> str:
    [accepted] = core.submit(core.fixture_principal(), dialect, [Submission(VALID[0], "pergunta", type=type)])
    return accepted.hash  # type: ignore[union-attr]


def test_a_read_mark_is_the_providers_own(core: Core) -> None:
    client = core.fixture_principal().client_id
    core.inject_mo(client, VALID[1], "sem pergunta")
    speedmarket, mensagem = Inbox(core, "speedmarket"), Inbox(core, "mensagem")
    assert [m.text for m in speedmarket.unread(client, since=0)] == ["sem pergunta"]
    assert speedmarket.unread(client, since=0) == []
    assert [m.fetched for m in mensagem.between(client, 0, core.now() + 1)] == [False]
    assert [m.text for m in mensagem.unread(client, since=0)] == ["sem pergunta"]


def test_a_reply_belongs_to_the_provider_of_the_message_it_answers(core: Core) -> None:
    client = core.fixture_principal().client_id
    core.inject_mo(client, VALID[0], "resposta speedmarket", reply_to=_sent(core, "speedmarket"))
    core.inject_mo(client, VALID[0], "resposta wbsapi", reply_to=_sent(core, "wbsapi"))
    core.inject_mo(client, VALID[0], "resposta smpp", reply_to=_sent(core, "smpp"))
    window = (0.0, core.now() + 1)
    assert [m.text for m in Inbox(core, "speedmarket").between(client, *window)] == ["resposta speedmarket"]
    assert [m.text for m in Inbox(core, "mensagem").between(client, *window)] == ["resposta wbsapi", "resposta smpp"]


def test_type_filters_the_message_replied_to_and_passes_replies_to_none(core: Core) -> None:
    client = core.fixture_principal().client_id
    core.inject_mo(client, VALID[0], "responde tipo 2", reply_to=_sent(core, "speedmarket", type=2))
    core.inject_mo(client, VALID[1], "espontanea")
    inbox = Inbox(core, "speedmarket")
    assert [m.text for m in inbox.between(client, 0, core.now() + 1, type=0)] == ["espontanea"]
    assert [m.text for m in inbox.between(client, 0, core.now() + 1, type=2)] == ["responde tipo 2", "espontanea"]
    assert [m.text for m in inbox.unread(client, since=0, type=0)] == ["espontanea"]
    assert [m.text for m in inbox.unread(client, since=0)] == ["responde tipo 2"]


def test_an_unknown_provider_is_refused(core: Core) -> None:
    with pytest.raises(ValueError):
        Inbox(core, "painel")
