"""The emulator core's pure rules: segment counting, Brazilian numbering, the virtual clock."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from smsconform.contracts import load_contracts
from smsconform.contracts.yamlfile import load_yaml
from smsconform.emulator.core import Refused
from smsconform.emulator.core.clock import VirtualClock
from smsconform.emulator.core.numbers import Numbering
from smsconform.emulator.core.segments import GSM_BASIC, count


@pytest.fixture(scope="module")
def numbering() -> Numbering:
    root = load_contracts().root
    return Numbering.from_contract(load_yaml(root / "emulator" / "numbering.yaml")[0])


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("a" * 307, 3),          # GSM 03.38: 160, then 153
        ("ç" * 70, 1), ("ç" * 71, 2), ("ç" * 134, 2), ("ç" * 135, 3),             # UCS-2: 70, then 67
        ("é" * 160, 1),                                                          # é is in the GSM alphabet
        ("{" * 80, 1), ("{" * 81, 2),                                            # extension table: 2 septets
        ("", 1),
    ],
)
def test_parts_as_carriers_count_them(text: str, parts: int) -> None:
    assert count(text) == parts


@given(st.text(alphabet=GSM_BASIC.replace("\x1b", ""), min_size=1, max_size=600))
@settings(max_examples=60, deadline=None)
def test_gsm_text_never_counts_as_ucs2(text: str) -> None:
    n = len(text)
    assert count(text) == (1 if n <= 160 else -(-n // 153))


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("1198765432a", "alpha_in_number"),
        ("1198765432²", "alpha_in_number"),         # str.isdigit() says yes; int() and carriers say no
        ("١١٩٨٧٦٥٤٣٢١", "alpha_in_number"),
        ("119876543", "invalid_record"),
        ("119876543210", "invalid_record"),
        ("20987654321", "bad_ddd"),
        ("11887654321", "prefix_ddd_mismatch"),
        ("1112345678", "bad_operator_prefix"),
        ("1132345678", "landline"),
    ],
)
def test_numbering_refusals(numbering: Numbering, number: str, reason: str) -> None:
    with pytest.raises(Refused) as caught:
        numbering.validate(number)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("(11) 98765-4321", "11987654321"), ("+55 11 98765-4321", "11987654321"),
     ("0 21 11 98765-4321", "11987654321"), ("1187654321", "11987654321")],
)
def test_anatel_cleanup(numbering: Numbering, raw: str, clean: str) -> None:
    assert numbering.validate(raw, cleanup=True) == clean


def test_valid_mobile_passes(numbering: Numbering) -> None:
    assert numbering.validate("11987654321") == "11987654321"
    assert numbering.validate("1132345678", allow_landline=True) == "1132345678"


def test_clock_moves_only_forward() -> None:
    clock = VirtualClock(frozen_at=1000.0)
    assert clock.now() == 1000.0
    assert clock.advance(60) == 1060.0
    with pytest.raises(ValueError):
        clock.set(10.0)
    restored = VirtualClock.from_state(clock.state())
    assert restored.now() == 1060.0 and restored.frozen


@pytest.mark.parametrize("advances", [(1, 2, 5, 600, 90_000, 200_000), (300_000,), (1.5, 7, 300_000)],
                         ids=["step by step", "every step at once", "uneven"])
def test_bulk_and_per_message_lifecycle_agree(advances: tuple[float, ...]) -> None:
    """The bulk SQL settle and the per-message step are two encodings of one machine: same histories."""
    from smsconform.emulator.core import Core
    from smsconform.emulator.core.messages import Submission

    outcomes = ["delivered", "undelivered", "no_dlr", "delayed", "expired", "error", "invalid", "rejected",
                "operator_rejected", "network_error"]
    from smsconform.emulator.core.service import OUTCOMES
    assert sorted(outcomes) == sorted(OUTCOMES), "every outcome the control API takes is compared"
    histories = []
    for bulk in (True, False):
        core = Core(":memory:", frozen=True)
        core.clock = VirtualClock(frozen_at=1_800_000_000.0)
        numbers = [f"1199111{i:04d}" for i in range(len(outcomes))]
        for number, outcome in zip(numbers, outcomes):
            core.set_outcome(number, outcome)
        who = core.fixture_principal("main")
        core.submit(who, "mensagem", [Submission(n, "x") for n in numbers]
                    + [Submission(numbers[0], "later", schedule_at=1_800_000_600.0)])
        for step in advances:
            core.clock.advance(step)
            core.tick(bulk=bulk)
        histories.append([[(s, round(t, 3)) for s, t in m.states()] for m in core.messages()])
    assert histories[0] == histories[1]
    finals = [h[-1][0] for h in histories[0]]
    assert finals == ["delivered", "undelivered", "sent", "delivered", "expired", "error", "invalid", "rejected",
                      "rejected", "error", "delivered"]
    # the two late failures pass through sent first; a platform rejection never leaves the queue
    sent_first = [any(s == "sent" for s, _ in h) for h in histories[0]]
    assert sent_first[7:10] == [False, True, True]


@given(st.integers(min_value=1, max_value=2**63 - 1))
@settings(max_examples=200, deadline=None)
def test_protocols_name_their_message(message_id: int) -> None:
    from smsconform.emulator.core.messages import Protocols

    protocols = Protocols("secret")
    digest = protocols.encode(message_id)
    assert len(digest) == 32 and digest == digest.lower() and int(digest, 16) >= 0
    assert protocols.decode(digest) == message_id
    assert Protocols("another").decode(digest) != message_id
    assert protocols.decode(digest[:-1] + ("0" if digest[-1] != "0" else "1")) != message_id
