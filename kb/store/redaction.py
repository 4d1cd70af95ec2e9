"""Personal data out of search queries before they are stored: each kind becomes a placeholder such as [email].

Careful regular expressions rather than a library: scrubadub, the usual choice, pulls in scikit-learn
and textblob for name detection this does not need, and phonenumbers only recognises numbers of the
regions it is told about, where a search box gets numbers from anywhere. Over-redacting a query costs
a little analytics; under-redacting stores someone's phone number, so the rules lean towards the
former. What survives: ordinary words and short numbers ("error 404", "iPhone 15", "Windows 11"),
versions ("2.14.3") and ISO dates.
"""

from __future__ import annotations

import re

EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
URL = re.compile(r"\b(?:[a-z][a-z0-9+.-]*://|www\.)[^\s<>\"']+", re.IGNORECASE)
# Two letters, two check digits, then up to 30 letters or digits, often in groups of four.
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b", re.IGNORECASE)
CARD = re.compile(r"(?<![\w])\d(?:[ -]?\d){12,18}(?![\w])")
# Digits in groups separated by spaces, dots, dashes, slashes or parentheses, with an optional + or 00.
PHONE = re.compile(r"(?<![\w+])(?:\+|\b00)?\(?\d{1,5}\)?(?:[ .\-/]{0,2}\(?\d{1,5}\)?){1,7}(?![\w])")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
LONG_DIGITS = re.compile(r"\d{6,}")
POSTAL_CODES = [
    re.compile(r"\b(?:GIR ?0AA|[A-Z]{1,2}\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})\b", re.IGNORECASE),  # United Kingdom
    re.compile(r"\b[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d\b", re.IGNORECASE),  # Canada
    re.compile(r"\b\d{5}-\d{3,4}\b"),  # US ZIP+4, Brazilian CEP
    re.compile(r"\b\d{4} ?[A-Z]{2}\b"),  # the Netherlands (capitals only: "1080 hd" is a screen)
    re.compile(r"\b\d{3}-\d{4}\b"),  # Japan
    re.compile(r"\b\d{5}\b"),  # US ZIP; Germany, France, Italy, Spain and many more
]
TOKEN_SEGMENT = re.compile(r"[A-Za-z0-9_\-]{16,}")
MIN_PHONE_DIGITS = 7


def redact(text: str) -> str:
    """`text` with email addresses, URLs with tokens or queries, IBANs, card numbers, phone numbers,
    long digit runs and postal codes replaced by [email], [url], [iban], [card], [phone], [number]
    and [postcode]."""
    text = URL.sub(redact_url, text)
    text = EMAIL.sub("[email]", text)
    text = IBAN.sub(redact_iban, text)
    text = CARD.sub(lambda match: "[card]" if luhn_valid(digits_of(match.group())) else match.group(), text)
    text = PHONE.sub(redact_phone, text)
    text = LONG_DIGITS.sub("[number]", text)
    for pattern in POSTAL_CODES:
        text = pattern.sub("[postcode]", text)
    return text


def normalize(redacted: str) -> str:
    """What groups repeats of a query: case folded, punctuation gone (placeholders kept), spaces collapsed."""
    words = re.findall(r"\[[a-z]+\]|\w+", redacted.casefold())
    return " ".join(words)


def redact_url(match: re.Match[str]) -> str:
    """A URL keeps its host and plain path; one with a query, a fragment, a login or a token-like segment goes."""
    url = match.group()
    trailing = ""
    while url and url[-1] in ".,;:!?)]}":  # sentence punctuation after a link is not part of it
        trailing = url[-1] + trailing
        url = url[:-1]
    after_scheme = url.split("://", 1)[-1]
    host, _, path = after_scheme.partition("/")
    secret = (
        any(mark in url for mark in "?#=&") or "@" in host or TOKEN_SEGMENT.search(path) or re.search(r"\d{6,}", path)
    )
    return ("[url]" if secret else url) + trailing


def redact_iban(match: re.Match[str]) -> str:
    """The longest run of the match's groups that passes the IBAN checksum, redacted; text after it is kept."""
    candidate = match.group()
    while len(candidate.replace(" ", "")) >= 15:
        if iban_valid(candidate):
            return "[iban]" + match.group()[len(candidate) :]
        candidate = candidate[:-1].rstrip()
    return match.group()


def iban_valid(text: str) -> bool:
    compact = text.replace(" ", "").upper()
    rearranged = compact[4:] + compact[:4]
    digits = "".join(str(int(character, 36)) for character in rearranged)
    return int(digits) % 97 == 1


def redact_phone(match: re.Match[str]) -> str:
    number = match.group()
    if len(digits_of(number)) < MIN_PHONE_DIGITS or ISO_DATE.fullmatch(number.strip()):
        return number
    return "[number]" if number.isdigit() else "[phone]"


def digits_of(text: str) -> str:
    return "".join(character for character in text if character.isdigit())


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, character in enumerate(reversed(digits)):
        value = int(character)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0
