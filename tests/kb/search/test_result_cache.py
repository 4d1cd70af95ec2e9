"""A build's HelpCenter answers a repeated search from its result cache, keyed by all that changes the answer."""

from __future__ import annotations

import dataclasses
import json

import pytest

from kb.config import Settings
from kb.errors import QueryError
from kb.help_center import HelpCenter
from kb.index.format import load_published_index
from kb.search.service import Audience, SearchService
from tests.conftest import FakeEmbedder


def center_for(settings: Settings, embedder: FakeEmbedder, size: int = 100) -> HelpCenter:
    index = load_published_index(settings.index)
    return HelpCenter(index, SearchService(index, embedder, settings), size)


def test_a_repeated_search_is_answered_from_the_cache_without_the_model(
    built_settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    center = center_for(built_settings, fake_embedder)
    first = center.search("reset my password", 5)
    calls = fake_embedder.calls
    again = center.search("  reset   my\tpassword ", 5)  # the same query once search collapses its whitespace
    assert again is first
    assert fake_embedder.calls == calls
    assert isinstance(first.results, tuple)  # shared between threads: no reader can change it
    assert dataclasses.is_dataclass(first) and first.results[0].slug == "reset-password"


def test_whatever_changes_the_answer_is_a_different_entry(
    built_settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    center = center_for(built_settings, fake_embedder)
    public = center.search("refund escalation", 5)
    assert center.search("refund escalation", 2) is not public
    assert center.search("Refund escalation", 5).query == "Refund escalation"  # the response repeats the query as typed
    agent = center.search("refund escalation", 5, Audience.AGENT)
    assert "refund-escalation-playbook" in [result.slug for result in agent.results]
    assert "refund-escalation-playbook" not in [result.slug for result in public.results]
    assert center.search_answer("refund escalation", 5, mode="lexical").response is not public
    suggested = center.suggest("refund escalation", 5)
    assert suggested is not agent and center.suggest("refund escalation", 5) is suggested
    assert len(center.result_cache) == 6


def test_the_cache_holds_at_most_its_size_and_zero_turns_it_off(
    built_settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    center = center_for(built_settings, fake_embedder, size=2)
    for query in ("invoice", "password", "welcome", "team"):
        center.search(query, 3)
    assert len(center.result_cache) == 2
    assert center.search("team", 3) is center.search("team", 3)
    off = center_for(built_settings, fake_embedder, size=0)
    assert off.search("team", 3) is not off.search("team", 3)
    assert len(off.result_cache) == 0


def test_a_refused_query_is_raised_every_time_and_never_cached(
    built_settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    center = center_for(built_settings, fake_embedder)
    for _ in range(2):
        with pytest.raises(QueryError, match="the search query is empty"):
            center.search("   ", 5)
    assert len(center.result_cache) == 0


def test_the_api_json_is_the_responses_with_the_request_field_last(
    built_settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    answer = center_for(built_settings, fake_embedder).search_answer("invoice", 3)
    body = json.loads(answer.json_with("search_token", "abcdefghijklmnop"))
    assert body == {**answer.response.to_json(), "search_token": "abcdefghijklmnop"}
    assert list(body)[-1] == "search_token"
    assert json.loads(answer.json_with("search_token", None))["search_token"] is None
