"""npm `soap` (node-soap 1.13), unchanged, on painel's ServiceSms.asmx: it builds its client from the WSDL the
emulator serves (/painel/ServiceSms.asmx?WSDL) and runs all six operations, over SOAP 1.1 (port
ServiceSmsSoap) and SOAP 1.2 (port ServiceSmsSoap12). Expected answers are the catalog's (codes.yaml
servicesms.*) and the contract's DataSet table (servicesms.xsd tns:StatusRow); GetStatusByRef reads a
campaign sent through api.ashx with an interno_key, so the test also sees the two doors share campaigns."""
from __future__ import annotations

from typing import Any, Callable

import httpx
import pytest
from lxml import etree

from emulator_process import EmulatorProcess
from interop_clients import NODE_DIR, drive, require_node_package
from interop_expected import CONTRACTS, PROFILE, VALID

TIMEOUT = 30.0
ENVELOPES = {"1.1": "http://schemas.xmlsoap.org/soap/envelope/ text/xml",
             "1.2": "http://www.w3.org/2003/05/soap-envelope application/soap+xml"}
CATALOG = CONTRACTS.catalog
LOGIN = PROFILE["accounts"]["main"]
TEXT = "Olá, interop: ação"
REFERENCE = "pedido-interop-1"
XS = "http://www.w3.org/2001/XMLSchema"
PROV = "https://smsconform.invalid/provenance"


def status_columns() -> list[str]:
    """The columns servicesms.xsd declares for the DataSet's table Table (tns:StatusRow)."""
    root = etree.parse(str(CONTRACTS.service_wsdl_path("servicesms").with_suffix(".xsd"))).getroot()
    ctype = root.find(f"{{{XS}}}complexType[@name='StatusRow']")
    return [e.get("name") for e in ctype.find(f"{{{XS}}}sequence")]


def answer(operation: str, code: str, value: Any = None) -> str:
    entry = CATALOG.code("servicesms", operation, code)
    return f"{entry.wire if value is None else value}:{entry.text}"


def rows(dataset: Any) -> tuple[str, list[str], list[dict[str, Any]]]:
    """node-soap's reading of a DataSet: the table its inline schema declares, its columns, its rows."""
    table = dataset["schema"]["element"]["complexType"]["choice"]["element"]
    columns = [c["attributes"]["name"] for c in table["complexType"]["sequence"]["element"]]
    found = dataset["diffgram"]["NewDataSet"][table["attributes"]["name"]]
    return table["attributes"]["name"], columns, found if isinstance(found, list) else [found]


@pytest.fixture(scope="session")
def runs(emulators: Callable[[str], EmulatorProcess]) -> dict[str, dict[str, Any]]:
    emulator = emulators(__name__)
    node = require_node_package("soap")
    out = {}
    for version in ENVELOPES:
        sent = httpx.get(f"{emulator.base_url}/painel/api.ashx", params={
            "action": "sendsms", "lgn": LOGIN["login"], "pwd": LOGIN["password"], "msg": TEXT,
            "numbers": VALID[2], "interno_key": REFERENCE}, timeout=10, trust_env=False).json()
        assert sent["status"] == 1, sent
        scenario = {"subject": "interop", "text": TEXT, "numbers": VALID[:2],
                    "reference": {"id": sent["data"], "ref": REFERENCE}}
        result = drive([node, str(NODE_DIR / "servicesms_soap.js"), emulator.base_url, LOGIN["login"],
                        LOGIN["password"], version], scenario, TIMEOUT)
        out[version] = {**result, "reference": sent["data"]}
    return out


@pytest.mark.parametrize("version", ENVELOPES)
def test_the_client_speaks_the_version_asked_for(version: str, runs: dict[str, dict[str, Any]]) -> None:
    assert runs[version]["envelopes"] == [ENVELOPES[version]]


@pytest.mark.parametrize("version", ENVELOPES)
def test_send_hold_and_release_answer_their_catalog_strings(version: str, runs: dict[str, dict[str, Any]]) -> None:
    got = runs[version]
    grammar = CONTRACTS.grammar("painel")
    for key in ("SendSMS", "SetHoldSMS", "SetReleaseSMS"):
        grammar.parse(got[key], start="soap_answer")
    campaign = got["SendSMS"].split(":")[0]
    assert campaign.isdigit() and got["SendSMS"] == answer("SendSMS", "<campaign>", campaign)
    assert got["SetHoldSMS"] == answer("SetHoldSMS", "1") and got["SetReleaseSMS"] == answer("SetReleaseSMS", "1")


@pytest.mark.parametrize("version", ENVELOPES)
def test_the_balance_drops_by_the_two_messages(version: str, runs: dict[str, dict[str, Any]]) -> None:
    got = runs[version]
    assert got["GetBalance"].isdigit() and got["GetBalanceAfter"].isdigit(), got
    assert int(got["GetBalance"]) - int(got["GetBalanceAfter"]) == 2   # two one-part SMS


@pytest.mark.parametrize("version", ENVELOPES)
def test_getstatus_is_a_dataset_of_the_contract_columns(version: str, runs: dict[str, dict[str, Any]]) -> None:
    table, columns, found = rows(runs[version]["GetStatus"])
    assert (table, columns) == ("Table", status_columns())
    assert [r["mobile_number"] for r in found] == VALID[:2]
    assert all(r["message"] == TEXT for r in found)


@pytest.mark.parametrize("version", ENVELOPES)
def test_getstatusbyref_finds_the_api_ashx_campaign(version: str, runs: dict[str, dict[str, Any]]) -> None:
    table, _, found = rows(runs[version]["GetStatusByRef"])
    assert table == "Table" and [r["mobile_number"] for r in found] == [VALID[2]]


def test_soap_1_1_and_1_2_read_the_same(runs: dict[str, dict[str, Any]]) -> None:
    def shape(run: dict[str, Any]) -> list[Any]:
        return [[(r["mobile_number"], r["status"]) for r in rows(run[key])[2]] for key in ("GetStatus", "GetStatusByRef")]

    assert shape(runs["1.1"]) == shape(runs["1.2"])
