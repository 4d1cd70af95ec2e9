"""A message with several problems: sentences, which of them state a problem, grouping and the merge."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from kb.config import Settings
from kb.index.format import load_published_index
from kb.search.problems import Problem, group_problems, merge, problem_sentences, sentences_of
from kb.search.service import SearchService
from tests.conftest import FakeEmbedder


@dataclasses.dataclass(frozen=True)
class Found:
    slug: str
    score: float


def test_sentences_split_on_punctuation_paragraphs_and_list_items_but_not_abbreviations() -> None:
    message = (
        "I paid 1,250.00 EUR, e.g. by card.\nIt was wrapped\nacross lines! Is that ok?\n\nNew paragraph without stop\n"
        "- a list item\n- R. Okonkwo said hi."
    )
    assert sentences_of(message) == [
        "I paid 1,250.00 EUR, e.g. by card.",
        "It was wrapped across lines!",
        "Is that ok?",
        "New paragraph without stop",
        "- a list item",
        "- R. Okonkwo said hi.",
    ]


def test_only_sentences_that_state_a_problem_or_ask_are_kept() -> None:
    message = (
        "Thanks so much for your help. Order ref 88123. Account email is sam@example.com. "
        "I still have my password. My invoice emails never arrive. How do I resend it as a PDF? "
        "My invoice emails never arrive. I can’t sign in today. Yours sincerely, need help."
    )
    assert problem_sentences(message) == [
        "My invoice emails never arrive.",
        "How do I resend it as a PDF?",
        "I can’t sign in today.",
    ]


def test_sentences_that_land_on_one_article_or_mean_the_same_are_one_problem() -> None:
    sentences = ["emails never arrive", "is your email broken", "where is my api key", "how long do I wait"]
    vectors = np.eye(4, dtype=np.float32)
    rankings = [
        [Found("emails", 4.0), Found("pdf", 2.0)],
        [Found("emails", 4.5), Found("reset", 3.0)],
        [Found("keys", 3.0), Found("webhooks", 2.2)],
        [Found("refunds", 2.6), Found("locked", 2.5)],  # nothing stands out: no problem
    ]
    problems = group_problems(sentences, vectors, rankings, whole=[Found("emails", 3.0)])
    assert problems == [
        Problem(("emails never arrive", "is your email broken"), "is your email broken", Found("emails", 4.5)),
        Problem(("where is my api key",), "where is my api key", Found("keys", 3.0)),
    ]
    similar = vectors.copy()
    similar[2] = similar[0]  # means the same as the first sentence
    assert [problem.sentences for problem in group_problems(sentences, similar, rankings, [])] == [
        ("emails never arrive", "is your email broken", "where is my api key")
    ]


def test_a_nearly_tied_sentence_counts_when_the_whole_message_ranks_its_article_near_the_top() -> None:
    rankings = [[Found("emails", 4.0), Found("reset", 2.0)], [Found("create", 3.6), Found("pdf", 3.5)]]
    vectors = np.eye(2, dtype=np.float32)
    whole = [Found("pdf", 2.7), Found("create", 2.6), Found("emails", 2.5)]
    assert [problem.answer.slug for problem in group_problems(["a", "b"], vectors, rankings, whole)] == [
        "emails",
        "create",
    ]
    assert [problem.answer.slug for problem in group_problems(["a", "b"], vectors, rankings, whole[:1])] == ["emails"]


def test_merge_keeps_the_whole_best_first_then_each_problem_without_duplicates() -> None:
    whole = [Found("pdf", 2.7), Found("emails", 2.5), Found("templates", 2.0), Found("create", 1.0)]
    problems = [Problem(("b",), "b", Found("create", 3.6)), Problem(("a",), "a", Found("emails", 3.4))]
    assert merge(whole, problems, 4) == [
        (Found("pdf", 2.7), None),
        (Found("create", 3.6), "b"),
        (Found("emails", 3.4), "a"),  # the section that answers its sentence, not the whole message's
        (Found("templates", 2.0), None),
    ]
    assert merge(whole, problems, 2) == [(Found("pdf", 2.7), None), (Found("create", 3.6), "b")]
    assert [(item.slug, sentence) for item, sentence in merge(whole, problems[:1], 2)] == [
        ("pdf", None),
        ("emails", None),
    ]


@pytest.fixture
def service(built_settings: Settings, fake_embedder: FakeEmbedder) -> SearchService:
    settings = dataclasses.replace(built_settings, max_results=20)
    return SearchService(load_published_index(built_settings.index), fake_embedder, settings)


def test_a_message_and_its_sentences_are_embedded_in_one_model_call(
    service: SearchService, fake_embedder: FakeEmbedder
) -> None:
    message = "Hi,\n\nThe password reset email never arrives. How do I send an invoice?\n\nThanks,\nSam"
    before, texts = fake_embedder.calls, len(fake_embedder.texts)
    response = service.suggest(message, 3)
    assert fake_embedder.calls == before + 1
    assert fake_embedder.texts[texts:] == [
        "The password reset email never arrives. How do I send an invoice?",
        "The password reset email never arrives.",
        "How do I send an invoice?",
    ]
    assert [result.slug for result in response.results][0] == "reset-password"
    assert service.suggest(message, 3) == response
    assert fake_embedder.calls == before + 1  # all of it cached
