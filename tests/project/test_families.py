"""The behaviour families of the catalog (credits, acceptance, selectors, rates): their provenance is real,
their cases agree with how carriers count, and a malformed entry is refused with its file and line."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from smsconform.contracts import ContractError, load_contracts
from smsconform.contracts.catalog import load_catalog
from smsconform.contracts.paths import contracts_dir
from smsconform.conformance.sends import text_of
from smsconform.emulator.core.segments import count

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("SMSCONFORM_SEEDS", REPO.parent / "shared" / "seeds")).parent
SEEDS, FIELD_NOTES = SHARED / "seeds", SHARED / "field-notes.md"
FAMILIES = load_contracts().catalog.families


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.mark.skipif(not SEEDS.is_dir() or not FIELD_NOTES.is_file(), reason="the source documents are not here")
def test_every_family_rule_cites_a_section_and_quote_of_its_document() -> None:
    texts = {p.name: p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")}
    notes = FIELD_NOTES.read_text(encoding="utf-8")
    headings = {line[3:].strip() for line in notes.splitlines() if line.startswith("## ")}
    problems = []
    for rule in FAMILIES:
        source = rule.source
        if source.doc == "field-notes.md":
            text = notes
            if source.section not in headings:
                problems.append(f"{rule.id}: no heading '## {source.section}' in field-notes.md")
        else:
            text = texts[source.doc]
            if source.section not in text:
                problems.append(f"{rule.id}: section {source.section!r} not in {source.doc}")
        if source.quote and _flat(source.quote) not in _flat(text):
            problems.append(f"{rule.id}: quote {source.quote!r} not in {source.doc}")
    assert problems == []


def test_every_family_rule_is_unique_and_inferred_ones_say_why() -> None:
    ids = [r.id for r in FAMILIES]
    assert len(ids) == len(set(ids))
    assert {r.kind for r in FAMILIES} == {"credit", "accept", "select", "rate"}
    assert all(r.reason for r in FAMILIES if r.basis == "inferred"), [r.id for r in FAMILIES if not r.reason]


@pytest.mark.parametrize("rule", [r for r in FAMILIES if r.kind == "credit" and r.cases], ids=lambda r: r.id)
def test_parts_cases_count_as_a_carrier_counts(rule) -> None:
    """The cases' part counts are GSM 03.38 160/153 and UCS-2 70/67, for the texts the suite sends."""
    for case in rule.cases:
        text = text_of(case.alphabet, case.chars)
        assert len(text) == case.chars and count(text) == case.parts, (rule.id, case)


def test_a_family_entry_without_its_source_is_refused_with_file_and_line(tmp_path: Path) -> None:
    directory = tmp_path / "catalog"
    shutil.copytree(contracts_dir() / "catalog", directory)
    path = directory / "selectors.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("  basis: documented\n", "", 1), encoding="utf-8")
    with pytest.raises(ContractError) as raised:
        load_catalog(directory)
    assert "selectors.yaml" in str(raised.value)
