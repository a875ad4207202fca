"""Defects of the SMPP 3.4 access (seed 003 § SMPP; contracts/smpp/profile.yaml)."""
from __future__ import annotations

import dataclasses
from typing import Any

from smsconform.emulator.smpp import pdu as p_codec
from smsconform.emulator.smpp.pdu import CommandId, Pdu, Status, Tag
from smsconform.emulator.smpp.server import Dlr, Profile, Session, SmppServer, Whole

from .registry import Patches, defect


@defect("smpp.wrong-dlr-stat", "smpp",
        ["code:smpp.dlr.2"],
        "the receipt of a delivered message says stat:DELIVERED instead of stat:DELIVRD",
        "003 § Descritivo dos códigos de DLR: '2 A MENSAGEM FOI ENTREGUE COM SUCESSO'; profile.yaml maps DLR 2 "
        "to the SMPP 3.4 receipt stat DELIVRD")
def wrong_dlr_stat(p: Patches) -> None:
    def factory(dlr: Any) -> Any:
        def patched(self: Profile, state: str) -> Dlr | None:
            row = dlr(self, state)
            if row is not None and row.code == 2:
                return dataclasses.replace(row, stat="DELIVERED")
            return row

        return patched

    p.wrap(Profile, "dlr", factory)


@defect("smpp.no-generic-nack", "smpp",
        ["code:smpp.generic_nack.0x00000002", "code:smpp.generic_nack.0x00000003"],
        "a malformed or unknown PDU is dropped silently: no generic_nack is sent",
        "SMPP 3.4 § 4.3 generic_nack (profile.yaml, codes.yaml smpp.generic_nack: ESME_RINVCMDLEN, ESME_RINVCMDID)")
def no_generic_nack(p: Patches) -> None:
    def factory(send: Any) -> Any:
        def patched(self: Session, pdu: Pdu) -> None:
            if pdu.command_id == CommandId.GENERIC_NACK:
                return
            send(self, pdu)

        return patched

    p.wrap(Session, "send", factory)


@defect("smpp.bind-any-password", "smpp",
        ["code:smpp.bind.0x0000000E"],
        "a bind with the right system_id and a wrong password is accepted",
        "003 § SMPP: 'Password: Mesmo password da conta do Usuário de integração do Sistema'")
def bind_any_password(p: Patches) -> None:
    def factory(check: Any) -> Any:
        def patched(self: SmppServer, session: Session, pdu: Pdu) -> int | None:
            status = check(self, session, pdu)
            if status != Status.ESME_RINVPASWD:
                return status
            row = self.core.store.db.execute("SELECT login, password FROM users WHERE integration_user = ?",
                                             (str(pdu["system_id"]).strip().lower(),)).fetchone()
            session.who = self.core.accounts.by_login(row[0], row[1])
            return None

        return patched

    p.wrap(SmppServer, "_check_bind", factory)


@defect("smpp.accepts-601-chars", "smpp",
        ["limit:smpp.submit_sm.message", "code:smpp.submit_sm.0x00000001"],
        "submit_sm takes a 601-character message",
        "003 § Envio de SMS Simples: 'Mensagem com até 600 caracteres' (the platform's limit; limits.yaml "
        "smpp.submit_sm.message)")
def accepts_601_chars(p: Patches) -> None:
    def adjust(self: Profile) -> None:
        self.max_chars += 1

    p.after_init(Profile, adjust)


@defect("smpp.receipt-for-the-last-part-only", "smpp",
        ["profile:smpp.part_receipts"],
        "a long message gets receipts only for the part that completed it: Kannel, which asks on part 1 and "
        "keeps part 1's id, never gets a report",
        "SMPP 3.4 § 5.2.17: registered_delivery belongs to each submit_sm (003 § SMPP 'Versão: 3.4'; "
        "profile.yaml part_receipts)")
def receipt_for_the_last_part_only(p: Patches) -> None:
    def factory(accept: Any) -> Any:
        def patched(self: SmppServer, session: Session, pdu: Pdu) -> Any:
            item = accept(self, session, pdu)
            return dataclasses.replace(item, parts=[]) if isinstance(item, Whole) else item

        return patched

    p.wrap(SmppServer, "_accept", factory)


@defect("smpp.ia5-read-as-gsm", "smpp",
        ["profile:smpp.data_coding"],
        "data_coding 1 (IA5) is accepted but read with the GSM 03.38 table: '@' becomes '¡', '_' '§', '{' 'ä'",
        "SMPP 3.4 § 5.2.19: data_coding 1 is IA5 (CCITT T.50)/ASCII (profile.yaml data_coding.offered)")
def ia5_read_as_gsm(p: Patches) -> None:
    def factory(decode: Any) -> Any:
        def patched(data: bytes, data_coding: int) -> str:
            return decode(data, p_codec.DATA_CODING_GSM if data_coding == p_codec.DATA_CODING_IA5 else data_coding)

        return patched

    p.wrap(p_codec, "decode_text", factory)


@defect("smpp.sc-interface-version-echoed", "smpp",
        ["profile:smpp.version"],
        "a bind announcing interface_version 0x50 is answered with sc_interface_version 0x50, as if the SMSC "
        "spoke SMPP 5.0",
        "003 § SMPP 'Versão: 3.4'; SMPP 3.4 § 5.3.2.25: sc_interface_version is the version the SMSC supports")
def sc_interface_version_echoed(p: Patches) -> None:
    def factory(bind: Any) -> Any:
        def patched(self: SmppServer, session: Session, pdu: Pdu) -> None:
            version = int(pdu["interface_version"])
            send = session.send

            def echo(answer: Pdu) -> None:
                if Tag.SC_INTERFACE_VERSION in answer.tlvs:
                    answer.tlvs[Tag.SC_INTERFACE_VERSION] = bytes((version,))
                send(answer)

            session.send = echo  # type: ignore[method-assign]
            try:
                bind(self, session, pdu)
            finally:
                del session.send

        return patched

    p.wrap(SmppServer, "_bind", factory)
