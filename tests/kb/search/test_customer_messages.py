"""Cleaning a customer's email down to the problem it describes."""

from __future__ import annotations

from kb.search.customer_messages import clean_message


def test_quoted_history_signature_and_sign_off_are_cut() -> None:
    message = """Hi team,

Since I changed phones the 2FA codes are rejected. Order #4417.

Thanks,
Maria
--
Maria Lopez | Lopez Design
Sent from my iPhone

On Mon, 3 Nov 2026 at 10:00, Ledgerly Support <support@ledgerly.com> wrote:
> Hello Maria, how can we help?
"""
    assert clean_message(message) == "Since I changed phones the 2FA codes are rejected. Order #4417."


def test_greetings_go_but_the_first_sentence_stays() -> None:
    assert clean_message("Hello, my invoice PDF is blank.") == "my invoice PDF is blank."
    assert clean_message("Dear Ledgerly support: refund please") == "refund please"
    assert clean_message("Hi I cannot log in") == "Hi I cannot log in"


def test_interleaved_quotes_are_dropped_and_nothing_left_keeps_the_original() -> None:
    assert clean_message("> old text\nThe export button is greyed out\n> more old text") == (
        "The export button is greyed out"
    )
    assert clean_message("Thanks!") == "Thanks!"
