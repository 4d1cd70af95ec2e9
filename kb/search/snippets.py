"""Snippets: the passage of a chunk that best matches the query, with the query's words highlighted."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from kb.index.lexical import STOPWORDS, TOKEN_PATTERN, stem_all, words

SNIPPET_CHARACTERS = 240
SHOWN_QUERY_CHARACTERS = 60  # a query quoted in a page title or heading; whole emails can be pasted in
SENTENCE_END = re.compile(r"(?<=[.!?:])\s+|\n+")


def sentences(text: str) -> list[str]:
    return [part.strip() for part in SENTENCE_END.split(text) if part.strip()]


# Tuples of strings only: a server caches tens of thousands of these, and the garbage collector stops
# walking a tuple once it has seen that it holds only strings (it walks every set and list each time).
Sentences = tuple[tuple[str, tuple[str, ...]], ...]


def split_sentences(text: str) -> Sentences:
    """Each sentence of a passage with the stems of its words (each once), as search stems a query's words.

    The words of all the sentences are stemmed in one call: a search cuts a snippet from each of its
    results, and most of their passages are new to it.
    """
    parts = sentences(text)
    tokens = [words(part) for part in parts]
    stems = stem_all([token for sentence in tokens for token in sentence])
    split, start = [], 0
    for part, sentence in zip(parts, tokens, strict=True):
        split.append((part, tuple(dict.fromkeys(stems[start : start + len(sentence)]))))
        start += len(sentence)
    return tuple(split)


def best_passage(parts: Sentences, query_stems: set[str], limit: int = SNIPPET_CHARACTERS) -> str:
    """The run of whole sentences, at most `limit` characters, that holds the most query words."""
    if not parts:
        return ""
    matched = [query_stems.intersection(stems) for _, stems in parts]
    best_start, best_score = 0, -1
    for start in range(len(parts)):
        length, end, found = len(parts[start][0]), start + 1, set(matched[start])
        while end < len(parts) and length + 1 + len(parts[end][0]) <= limit:
            length += 1 + len(parts[end][0])
            found |= matched[end]
            end += 1
        if len(found) > best_score:
            best_start, best_score = start, len(found)
    passage = parts[best_start][0]
    for part, _ in parts[best_start + 1 :]:
        if len(passage) + 1 + len(part) > limit:
            break
        passage = f"{passage} {part}"
    return shorten(passage, limit)


def shorten(text: str, limit: int) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",.;:") + " …"


def shown_query(query: str, limit: int = SHOWN_QUERY_CHARACTERS) -> str:
    """A query as a title or heading quotes it: cut at a word, with "…", when longer than `limit`."""
    return shorten(query, limit)


def highlight(text: str, query_stems: set[str]) -> Markup:
    """HTML-escaped `text` with each word whose stem the query shares wrapped in <mark>."""
    matches = list(TOKEN_PATTERN.finditer(text))
    lowered = [match.group(0).lower().replace("'", "").replace("’", "") for match in matches]
    stems = stem_all(lowered)
    pieces: list[str] = []
    position = 0
    for match, word, stem in zip(matches, lowered, stems, strict=True):
        if stem in query_stems and word not in STOPWORDS:
            pieces.append(str(escape(text[position : match.start()])))
            pieces.append(f"<mark>{escape(match.group(0))}</mark>")
            position = match.end()
    pieces.append(str(escape(text[position:])))
    return Markup("".join(pieces))
