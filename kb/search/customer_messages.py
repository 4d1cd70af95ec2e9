"""Customer messages as queries: drop what is not the problem (quoted history, signatures, greetings)."""

from __future__ import annotations

import re

REPLY_HEADER = re.compile(r"^\s*(on .{3,200}wrote:|-{2,}\s*original message\s*-{2,}|from:\s.+@.+)\s*$", re.IGNORECASE)
SIGNATURE_START = re.compile(r"^\s*(--\s*|sent from my \w+.*|get outlook for \w+.*)$", re.IGNORECASE)
SIGN_OFF = re.compile(
    r"^\s*(thanks|thank you|many thanks|thanks in advance|cheers|best|best regards|kind regards|"
    r"regards|warm regards|sincerely|all the best)\b[\s,.!]*$",
    re.IGNORECASE,
)
GREETING = re.compile(
    r"^\s*(hi|hello|hey|dear|good (morning|afternoon|evening)|greetings)\b([ \t]+[\w'-]+){0,3}"
    r"[ \t]*[,!:.]\s*",
    re.IGNORECASE,
)


def clean_message(text: str) -> str:
    """The part of an email that describes the problem.

    Quoted replies (`>` lines, "On … wrote:" and everything after), signatures ("--", "Sent from
    my iPhone") and a closing "Thanks, Maria" are cut; a leading "Hi team," is dropped. When
    cleaning would leave nothing, the original text is kept.
    """
    kept: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if REPLY_HEADER.match(line) or SIGNATURE_START.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        if SIGN_OFF.match(line):
            break
        kept.append(line)
    cleaned = "\n".join(kept).strip()
    cleaned = GREETING.sub("", cleaned, count=1).strip()
    return cleaned or text.strip()
