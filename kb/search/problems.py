"""Messages with several problems: split them into sentences, group those about one thing, answer each.

message -> sentences -> those that carry a problem -> one search per sentence (vectors in one batch)
        -> sentences grouped by meaning or by the article they land on -> the best article per group,
        merged after the whole message's best article, each marked with the sentence it answers
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import numpy as np

from kb.index.lexical import content_words

# A full stop after these is no sentence end ("e.g. the PDF", "Mr. Smith", "invoice no. 12").
ABBREVIATIONS = frozenset(
    "e.g eg i.e ie etc mr mrs ms dr st no nr vs approx inc ltd co corp dept fig jan feb mar apr jun jul aug "
    "sep sept oct nov dec mon tue wed thu fri sat sun".split()
)
SENTENCE_END = re.compile(r"(?<=[.!?…])[\"')\]]*\s+")
PARAGRAPH_BREAK = re.compile(r"\n\s*\n|\n(?=\s*(?:[-*•]|\d+[.)])\s)")
# Sentences that are only courtesy: they carry no problem even when they hold a content word.
COURTESY = re.compile(
    r"^\s*(thanks?|thank you|many thanks|thx|ty|cheers|regards|best|kind regards|hope (you|this|all)|"
    r"i hope|looking forward|have a (nice|great|good|lovely)|(any|your) help|appreciate|sorry (to|for)|"
    r"please (advise|help|let me know)|let me know|ps|p\.s|yours (sincerely|faithfully|truly))\b",
    re.IGNORECASE,
)
# What a sentence that states a problem or asks for something says; context ("I still have my
# password", "We fixed our server") says none of it and would otherwise find an article of its own.
PROBLEM_CUE = re.compile(
    r"\?|^\s*(how|what|why|when|where|which|who|can|could|is|are|do|does|did|will|would|should|may|any way)\b|"
    r"\b(not|never|no longer|nothing|cannot|(can|won|doesn|don|didn|isn|aren|wasn|haven|hasn)['’]?t|unable|"
    r"error|errors|fail\w*|problem|issue|wrong|missing|lost|locked|stuck|broken|keeps|"
    r"disabled|declined|mistake|tired of|every time|whenever|stopped|refund\w*|cancel\w*|"
    r"need|needs|want|wants|would like|['’]d like|trying|tried|help)\b",
    re.IGNORECASE,
)
IDENTIFIER = re.compile(r"\d|@|^[a-z]{1,2}$")
MIN_PROBLEM_WORDS = 2  # content words, identifiers aside, that a sentence needs to describe a problem
# A sentence describes a problem when its best article stands this far above the crowd (fused z-score).
MIN_PROBLEM_SCORE = 2.0
# ... and by this much above its runner-up: context sentences match several articles about equally.
MIN_PROBLEM_MARGIN = 0.6
# A sentence whose best article is nearly tied still counts when it matches this well and the whole
# message ranks that article near the top ("can I resend it as a PDF?": two PDF articles, both apt).
TIED_PROBLEM_SCORE = 3.0
WHOLE_MESSAGE_TOP = 3
SAME_PROBLEM_SIMILARITY = 0.6  # cosine of two sentence vectors that ask about one thing
MAX_SENTENCES = 12  # searched one by one; a longer message keeps its first (the problem comes first)


class Ranked(Protocol):
    """What one search returns per article: its slug and its score."""

    @property
    def slug(self) -> str: ...

    @property
    def score(self) -> float: ...


Item = TypeVar("Item", bound=Ranked)


@dataclass(frozen=True)
class Problem(Generic[Item]):
    """One thing the customer asks about: its sentences, the one best answered, and that answer."""

    sentences: tuple[str, ...]
    sentence: str
    answer: Item


def sentences_of(message: str) -> list[str]:
    """The sentences of a message: paragraphs and list items first, then sentence punctuation.

    A full stop after an abbreviation, an initial or inside a number ("1,250.00") ends no sentence.
    """
    found: list[str] = []
    for paragraph in PARAGRAPH_BREAK.split(message):
        text = re.sub(r"\s+", " ", paragraph).strip()
        start = 0
        for boundary in SENTENCE_END.finditer(text):
            before = text[start : boundary.start()].rsplit(" ", 1)[-1].rstrip(".").lower()
            if text[boundary.start() - 1] == "." and (before in ABBREVIATIONS or re.fullmatch(r"[a-z]", before)):
                continue
            found.append(text[start : boundary.start()].strip())
            start = boundary.end()
        found.append(text[start:].strip())
    return [sentence for sentence in found if sentence]


def may_carry_problem(sentence: str) -> bool:
    """False for greetings, thanks, lone order numbers and context that states no problem."""
    if COURTESY.match(sentence) or not PROBLEM_CUE.search(sentence):
        return False
    words = [word for word in content_words(sentence) if not IDENTIFIER.search(word)]
    return len(words) >= MIN_PROBLEM_WORDS


def problem_sentences(message: str) -> list[str]:
    """The sentences of `message` that may describe a problem, in order, without repeats."""
    kept: list[str] = []
    for sentence in sentences_of(message):
        if may_carry_problem(sentence) and sentence not in kept:
            kept.append(sentence)
    return kept[:MAX_SENTENCES]


def stands_out(ranking: Sequence[Item], near_top: set[str]) -> bool:
    """Whether a sentence's best article answers it clearly enough for the sentence to be a problem."""
    if not ranking or ranking[0].score < MIN_PROBLEM_SCORE:
        return False
    margin = ranking[0].score - ranking[1].score if len(ranking) > 1 else ranking[0].score
    return margin >= MIN_PROBLEM_MARGIN or (ranking[0].score >= TIED_PROBLEM_SCORE and ranking[0].slug in near_top)


def group_problems(
    sentences: Sequence[str], vectors: np.ndarray, rankings: Sequence[Sequence[Item]], whole: Sequence[Item]
) -> list[Problem[Item]]:
    """The distinct problems among `sentences`, strongest first.

    A sentence whose best article does not stand out, by score and by margin over the next,
    describes no problem (context such as "how long do I have to wait"). Two sentences are one
    problem when they mean nearly the same or land on the same article; a problem's answer is the
    best article of its strongest sentence.

    Args:
        sentences: the candidate sentences.
        vectors: their normalised embeddings, one row each.
        rankings: each sentence's articles, best first (two at least, for the margin).
        whole: the whole message's articles, best first.
    """
    near_top = {item.slug for item in whole[:WHOLE_MESSAGE_TOP]}
    strong = [number for number, ranking in enumerate(rankings) if stands_out(ranking, near_top)]
    parent = {number: number for number in strong}

    def root(number: int) -> int:
        while parent[number] != number:
            parent[number] = parent[parent[number]]
            number = parent[number]
        return number

    for position, first in enumerate(strong):
        for second in strong[position + 1 :]:
            similar = float(vectors[first] @ vectors[second]) >= SAME_PROBLEM_SIMILARITY
            if similar or rankings[first][0].slug == rankings[second][0].slug:
                parent[root(second)] = root(first)
    groups: dict[int, list[int]] = {}
    for number in strong:
        groups.setdefault(root(number), []).append(number)
    problems = []
    for members in groups.values():
        best = max(members, key=lambda number: rankings[number][0].score)
        problems.append(Problem(tuple(sentences[number] for number in members), sentences[best], rankings[best][0]))
    problems.sort(key=lambda problem: -problem.answer.score)
    return problems


def merge(whole: Sequence[Item], problems: Sequence[Problem[Item]], k: int) -> list[tuple[Item, str | None]]:
    """The whole message's best article, then each distinct problem's, then the rest of the whole ranking.

    No article appears twice. With two problems or more, an article that answers one is marked with
    that problem's sentence and lands on the section that answers it; with fewer, every result
    answers the whole message (None).
    """
    answers = {problem.answer.slug: problem for problem in problems} if len(problems) >= 2 else {}
    ordered = [*whole[:1], *(problem.answer for problem in problems), *whole[1:]] if answers else list(whole)
    merged: list[tuple[Item, str | None]] = []
    seen: set[str] = set()
    for item in ordered:
        if item.slug not in seen:
            seen.add(item.slug)
            problem = answers.get(item.slug)
            merged.append((problem.answer, problem.sentence) if problem else (item, None))
    return merged[:k]
