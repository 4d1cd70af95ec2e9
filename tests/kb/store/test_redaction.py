"""Personal data does not survive redaction, kind by kind, with real-looking examples; ordinary queries do."""

from __future__ import annotations

import pytest

from kb.store.redaction import normalize, redact

PERSONAL_DATA = {
    "email": [
        "jane.doe@example.com",
        "JOHN+billing@mail.example.co.uk",
        "ops_team-2@sub.example.org",
    ],
    "phone": [
        "+1 (415) 555-0132",
        "415-555-0132",
        "(415) 555 0132",
        "415.555.0132",
        "+44 20 7946 0958",
        "0044 20 7946 0958",
        "+49 30 901820",
        "+33 1 42 68 53 00",
        "06 12 34 56 78",
        "+81 3-1234-5678",
    ],
    "card": [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "5500005555555559",
        "3714 496353 98431",
    ],
    "number": [
        "12345678",  # an order or account number
        "00012345678901",
        "INV-20240117",
        "1234567",
    ],
    "postcode": [
        "90210",
        "90210-1234",
        "SW1A 1AA",
        "EC1A1BB",
        "M1 1AE",
        "K1A 0B1",
        "H3Z2Y7",
        "1012 AB",
        "01310-100",  # Brazil
        "100-0001",  # Japan
        "75008",  # Paris
        "10115",  # Berlin
    ],
    "url": [
        "https://app.example.com/reset?token=9f8e7d6c5b4a",
        "http://example.com/invoices/8f14e45fceea167a5a36dedd4bea2543",
        "https://user:secret@example.com/",
        "www.example.com/share#access_token=abc",
        "https://example.com/orders/123456789",
    ],
    "iban": [
        "DE89 3704 0044 0532 0130 00",
        "GB82WEST12345698765432",
        "FR14 2004 1010 0505 0001 3M02 606",
        "NL91ABNA0417164300",
    ],
}
ORDINARY_QUERIES = [
    "error 404",
    "iPhone 15",
    "order status",
    "Windows 11 install fails",
    "refund after 30 days",
    "upgrade to version 2.14.3",
    "invoice from 2024-01-15",
    "1080p video export",
    "how do I reset my password?",
    "export to CSV in 2024",
    "what is VAT",
    "see https://help.example.com/articles/billing",
]


@pytest.mark.parametrize(
    ("kind", "example"), [(kind, example) for kind, examples in PERSONAL_DATA.items() for example in examples]
)
def test_personal_data_does_not_survive(kind: str, example: str) -> None:
    query = f"help with {example} please"
    redacted = redact(query)
    assert example not in redacted
    assert redacted.startswith("help with ") and redacted.endswith("] please") and "[" in redacted, redacted
    digits = "".join(character for character in example if character.isdigit())
    if len(digits) >= 4:
        assert digits not in "".join(character for character in redacted if character.isdigit())


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("my email is jane.doe@example.com", "my email is [email]"),
        ("call +1 (415) 555-0132 today", "call [phone] today"),
        ("card 4111 1111 1111 1111 declined", "card [card] declined"),
        ("order 12345678 missing", "order [number] missing"),
        ("ship to SW1A 1AA", "ship to [postcode]"),
        ("ship to K1A 0B1", "ship to [postcode]"),
        ("ship to 90210", "ship to [postcode]"),
        ("link https://app.example.com/reset?token=abc.", "link [url]."),
        ("iban DE89 3704 0044 0532 0130 00 help", "iban [iban] help"),
    ],
)
def test_each_kind_becomes_its_placeholder(query: str, expected: str) -> None:
    assert redact(query) == expected


@pytest.mark.parametrize("query", ORDINARY_QUERIES)
def test_ordinary_queries_survive_intact(query: str) -> None:
    assert redact(query) == query


def test_normalized_queries_group_repeats() -> None:
    assert normalize(redact("Reset  my PASSWORD?")) == "reset my password"
    assert normalize(redact("Email jane@example.com, please!")) == normalize(redact("email bob@example.org please"))
    assert normalize("[email] bounced") == "[email] bounced"
