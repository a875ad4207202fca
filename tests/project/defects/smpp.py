"""Defects of the SMPP 3.4 access (seed 003 § SMPP; contracts/smpp/profile.yaml)."""
from __future__ import annotations

import dataclasses
from typing import Any

from smsconform.emulator.smpp import pdu as p_codec
from smsconform.emulator.smpp.pdu import CommandId, Pdu, Status, Tag
from smsconform.emulator.smpp.server import Dlr, Profile, Session, SmppServer, Whole

from .registry import DefectError, Patches, defect


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


# -- issue 13: what real ESMEs met ----------------------------------------------------------------------
@defect("smpp.later-interface-version-refused", "smpp",
        ["profile:smpp.interface_version"],
        "a bind announcing interface_version 0x50 (node `smpp`'s default) is refused with ESME_RBINDFAIL: the "
        "SMSC takes 0x34 and nothing else, instead of binding it and answering sc_interface_version 0x34",
        "SMPP 3.4 § 5.2.4 (0x50 is reserved, not invalid), § 3.3 (a reserved value is ignored, not refused), "
        "§ 5.3.2.25 (the SMSC answers its own version); 003 § SMPP 'Versão: 3.4' (profile.yaml interface_version)")
def later_interface_version_refused(p: Patches) -> None:
    def factory(check: Any) -> Any:
        def patched(self: SmppServer, session: Session, pdu: Pdu) -> int | None:
            if session.bound is None and int(pdu["interface_version"]) > self.profile.interface_version:
                return self.profile.version_refusal
            return check(self, session, pdu)

        return patched

    p.wrap(SmppServer, "_check_bind", factory)


@defect("smpp.latin1-refused", "smpp",
        ["accept:smpp.submit_sm.data_coding.3", "profile:smpp.data_coding"],
        "data_coding 3 (Latin 1) is refused with ESME_RSUBMITFAIL: only GSM 03.38, IA5 and UCS-2 are decoded, so "
        "aiosmpplib's `latin_1` and Portuguese text sent in Latin 1 never go out",
        "SMPP 3.4 § 5.2.19: data_coding 3 is Latin 1 (ISO-8859-1); profile.yaml data_coding.offered and "
        "acceptance.yaml smpp.submit_sm data_coding 3")
def latin1_refused(p: Patches) -> None:
    def adjust(self: Profile) -> None:
        self.codings = self.codings - {p_codec.DATA_CODING_LATIN1}

    p.after_init(Profile, adjust)


@defect("smpp.national-ton-refused", "smpp",
        ["accept:smpp.submit_sm.dest_addr_ton.2", "profile:smpp.destination_address"],
        "dest_addr_ton 2 (national) is read like TON 1, with the country code first: Kannel's default TON 2 NPI 1 "
        "11991110001 is refused with ESME_RINVDSTADR",
        "SMPP 3.4 § 5.2.5: TON 2 is a national number, DDD and number without 55 (profile.yaml "
        "destination_address; acceptance.yaml smpp.submit_sm dest_addr_ton 2)")
def national_ton_refused(p: Patches) -> None:
    def adjust(self: Profile) -> None:
        national = self.formats_by_ton.get(2, ())
        international = self.formats_by_ton.get(1, ())
        if not national or not international:
            raise DefectError("profile.yaml destination_address has no TON 1 or no TON 2 format")
        npis = frozenset().union(*(f.npis for f in national))
        self.formats_by_ton[2] = tuple(dataclasses.replace(f, ton=2, npis=npis) for f in international)

    p.after_init(Profile, adjust)


@defect("smpp.unoffered-pdu-unanswered", "smpp",
        ["profile:smpp.pdus"],
        "query_sm, cancel_sm, replace_sm, submit_multi and data_sm are dropped without an answer: the SMSC "
        "answers only what it implements (an unknown command_id still gets generic_nack), so the ESME waits "
        "for a response that never comes",
        "SMPP 3.4 § 3.2.1.4 and § 4.3: every request is answered, by its own _resp or a generic_nack, with its "
        "sequence_number (profile.yaml pdus.answered, documented; pdus.not_offered)")
def unoffered_pdu_unanswered(p: Patches) -> None:
    def factory(refuse: Any) -> Any:
        def patched(self: SmppServer, session: Session, err: p_codec.PduError) -> None:
            offered = self.profile.not_offered.get(err.command_id) if err.command_id is not None else None
            if offered is not None and offered[0] != CommandId.GENERIC_NACK:
                return  # a known 3.4 request with a _resp of its own, not implemented here: dropped
            refuse(self, session, err)

        return patched

    p.wrap(SmppServer, "_refuse_undecoded", factory)
